"""Similar cases (issue 6, item 7), the rules a walkthrough found missing: the respondent's and the
platform's names are not evidence of the same facts (no "likely duplicate" for another product of the
same company), and a merge keeps the case that is further along in its workflow."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from qualitygov.complaints import intake, similarity
from qualitygov.complaints.models import Case, CaseEvent
from qualitygov.complaints.tests.test_rewards import make_case
from qualitygov.conftest import make_uscc
from qualitygov.core.models import AuditLog
from qualitygov.registry.models import MarketEntity, Product

SHOP = "长春市南关区福兴电器有限公司"
SHOP_ADDRESS = "长春市南关区人民大街1234号"
# An earlier complaint: the kettle's base leaks current.
KETTLE = f"{SHOP}销售的福兴牌电热水壶，烧水时底座漏电，手被电麻，{SHOP}拒绝退货，要求退一赔三。"
# The same facts told again by another consumer, in other words.
KETTLE_AGAIN = "上周在福兴电器买的电热水壶，底座漏电，烧水时手被电了一下，福兴电器拒绝退货，要求赔偿。"
# Another product of the same company, the company named three times (what the walkthrough entered).
HEATER = (f"我在{SHOP}（{SHOP_ADDRESS}）买的福兴电器电暖器，用了三天就不发热了，"
          f"{SHOP}售后电话无人接听，福兴电器一直推诿，要求更换新品。")
# The same product of the same company, another defect: same respondent and product, different facts.
KETTLE_LABEL = f"{SHOP}销售的电热水壶没有中文标签和产品合格证，说明书与实物不符，请求依法查处。"

MARKET = "长春市朝阳区佳美超市有限公司"
MILK = f"在{MARKET}买的牛奶已经过期变质，孩子喝了以后腹泻，佳美超市拒绝赔偿。"
RICE = f"{MARKET}出售的散装大米发霉结块，有刺鼻异味，佳美超市称无法提供进货票据。"


@pytest.fixture(autouse=True)
def _fresh_index(fresh_similarity_index):
    """Each test starts with a cold index and a snapshot folder of its own (the complaints conftest)."""


@pytest.fixture
def shop(registry):
    """A household-appliance seller in 南关区 with two registered products."""
    category = registry["nanguan"]["product"].category_id
    entity = MarketEntity.objects.create(
        uscc=make_uscc("220102", 9), name=SHOP, legal_representative="王五", region_id="220102", industry_id="36",
        address=SHOP_ADDRESS, registration_date=dt.date(2016, 5, 9), status=MarketEntity.Status.OPERATING)
    kettle = Product.objects.create(producer=entity, name="电热水壶", brand="福兴", model="DK-17", category_id=category)
    heater = Product.objects.create(producer=entity, name="电暖器", brand="福兴", model="NQ-20", category_id=category)
    return {"entity": entity, "kettle": kettle, "heater": heater}


def shop_case(registry, shop, facts: str, product_key: str | None, **fields) -> Case:
    """A complaint against ``shop`` about one of its products (``product_key``), as intake stores it."""
    product = shop[product_key] if product_key else None
    case = make_case(registry, kind=Case.Kind.COMPLAINT, facts=facts, product=False, respondent_entity=shop["entity"],
                     respondent_name=SHOP, respondent_address=SHOP_ADDRESS,
                     product_name=product.name if product else "", **fields)
    if product is not None:
        Case.objects.filter(pk=case.pk).update(product=product)
        case.refresh_from_db()
    return case


def ask(shop, text: str, product_key: str | None, **kwargs):
    """``find_similar`` as intake asks it: the text starts with the respondent's name."""
    product = shop[product_key] if product_key else None
    return similarity.find_similar(text=f"{SHOP} {product.name if product else ''} {text}",
                                   respondent_entity_id=shop["entity"].pk,
                                   product_id=product.pk if product else None, **kwargs)


# --- words that only say who the respondent is ------------------------------------------------------

def test_organisation_forms_are_never_compared():
    words = similarity.segment("吉林省长白山人参股份有限公司和延吉市百货大楼有限责任公司，个体工商户王某的农资经营部")
    assert not {"有限公司", "股份", "有限责任", "公司", "个体", "工商户", "经营部"} & set(words)
    assert {"长白山", "人参", "百货大楼", "农资"} <= set(words)
    # Where the product was bought is part of the facts when the seller is someone else.
    assert "超市" in similarity.segment("在超市买的电动牙刷充电时冒烟")


def test_name_words_include_the_shorter_words_inside_a_name():
    words = similarity.name_words(SHOP, "")
    assert {"长春市", "长春", "南关区", "南关", "福兴", "电器"} <= words
    assert "有限公司" not in words  # an organisational form: dropped from every text anyway
    assert similarity.name_words("", "  ") == frozenset()


def test_comparison_words_drop_the_names_wherever_they_appear():
    words = similarity.comparison_words(HEATER, [SHOP, SHOP_ADDRESS])
    # The name cut out whole, written in part ("福兴电器"), and the address: none of it is left.
    assert not {"长春市", "长春", "南关区", "福兴", "电器", "人民", "大街"} & set(words)
    assert {"电暖器", "发热", "售后", "推诿"} <= set(words)
    # Without the names the same text keeps them (what made unrelated complaints look alike).
    assert {"福兴", "电器", "南关区"} <= set(similarity.segment(HEATER))


@pytest.mark.django_db
def test_stored_terms_leave_out_respondent_platform_and_address(registry, shop):
    case = shop_case(registry, shop, KETTLE, "kettle", platform_name="京东商城", sales_channel="online")
    terms = similarity.terms_for(case).split()
    assert {"电热水壶", "底座", "漏电", "退货"} <= set(terms)
    assert not {"福兴", "电器", "南关区", "长春市", "京东", "商城", "人民", "大街"} & set(terms)
    # Intake stores the same words at submission.
    result = intake.submit(kind="complaint", description=KETTLE_AGAIN, name="李四", phone="13812345678",
                           address="长春市南关区某小区", respondent_entity=shop["entity"], product=shop["kettle"],
                           request="要求赔偿", aware_on=dt.date(2026, 3, 1), for_personal_consumption=True)
    stored = result.cases[0]
    stored.refresh_from_db()
    assert stored.terms == similarity.terms_for(stored)
    assert "电热水壶" in stored.terms.split() and "福兴" not in stored.terms.split()


@pytest.mark.django_db
def test_rebuild_resegments_terms_stored_under_the_old_rules(registry, shop):
    case = shop_case(registry, shop, KETTLE, "kettle")
    old = " ".join(similarity.segment(similarity.case_text(case)))  # names counted, as stored before
    Case.objects.filter(pk=case.pk).update(terms=old)
    index = similarity.build_from_database()
    assert "福兴" in index.vocab  # kept as stored: only empty terms are filled
    index = similarity.build_from_database(resegment=True)
    case.refresh_from_db()
    assert "福兴" not in index.vocab and case.terms == similarity.terms_for(case)
    assert similarity.refresh_terms() == 0  # nothing left to change


# --- realistic pairs ---------------------------------------------------------------------------------

@pytest.mark.django_db
def test_same_company_other_product_is_at_most_similar(registry, shop):
    kettle = shop_case(registry, shop, KETTLE, "kettle")
    make_case(registry, "yanji", facts="网店买的大米发霉结块，有异味，客服不予处理。", product=False)
    [hit] = [r for r in ask(shop, HEATER, "heater") if r.case == kettle]
    assert not hit.likely_duplicate and hit.score < similarity.LIKELY_DUPLICATE
    assert hit.text_score < similarity.DUPLICATE_MIN_TEXT
    assert "同一被投诉人" in hit.reasons and "同一产品" not in hit.reasons
    assert not any("福兴" in reason or "电器" in reason for reason in hit.reasons)
    # With the names counted the two texts would look alike (the walkthrough's false duplicate).
    index = similarity.SimilarityIndex.from_documents(
        [1, 2, 3], [similarity.segment(KETTLE), similarity.segment(RICE), similarity.segment(MILK)], [1, 2, 2],
        [None] * 3)
    counted = index.query(similarity.segment(f"{SHOP} 电暖器 {HEATER}"), respondent=1, limit=1)[0]
    assert counted[0] == 1 and counted[1] >= similarity.LIKELY_DUPLICATE


@pytest.mark.django_db
def test_same_company_same_product_same_facts_reworded_is_a_likely_duplicate(registry, shop):
    kettle = shop_case(registry, shop, KETTLE, "kettle")
    shop_case(registry, shop, HEATER, "heater")
    first = ask(shop, KETTLE_AGAIN, "kettle")[0]
    assert first.case == kettle and first.likely_duplicate
    assert first.text_score >= similarity.DUPLICATE_MIN_TEXT
    assert first.reasons[:2] == ["同一被投诉人", "同一产品"]
    assert {"电热水壶", "漏电", "底座"} <= set(first.reasons[2].removeprefix("共同词语：").split("、"))
    # Told without naming the product in the registry, the text alone still makes it a duplicate.
    plain = ask(shop, KETTLE_AGAIN, None)[0]
    assert plain.case == kettle and plain.likely_duplicate


@pytest.mark.django_db
def test_same_product_but_other_facts_is_not_a_duplicate(registry, shop):
    """The boosts for the same respondent and product rank a candidate but do not make it a duplicate."""
    kettle = shop_case(registry, shop, KETTLE, "kettle")
    [hit] = [r for r in ask(shop, KETTLE_LABEL, "kettle") if r.case == kettle]
    assert hit.reasons[:2] == ["同一被投诉人", "同一产品"]
    assert hit.text_score < similarity.DUPLICATE_MIN_TEXT and not hit.likely_duplicate


@pytest.mark.django_db
def test_supermarket_named_in_both_texts_without_registry_entity(registry):
    """A respondent typed by the complainant (no registry entity): only its name is shared."""
    milk = make_case(registry, kind=Case.Kind.COMPLAINT, facts=MILK, product=False, respondent_entity=None,
                     respondent_name=MARKET)
    assert similarity.find_similar(text=f"{MARKET} {RICE}", respondent_name=MARKET) == []
    again = similarity.find_similar(text=f"{MARKET} 上个月在佳美超市买的牛奶过期变质，孩子喝完腹泻。",
                                    respondent_name=MARKET)
    assert again[0].case == milk and again[0].likely_duplicate and again[0].reasons[0] == "同一被投诉人"
    # Another respondent of the same words elsewhere is no longer "the same respondent".
    other = similarity.find_similar(text="上个月在佳美超市买的牛奶过期变质，孩子喝完腹泻。",
                                    respondent_name="延吉市佳美便利店")
    assert other[0].case == milk and "同一被投诉人" not in other[0].reasons
    assert other[0].score == pytest.approx(other[0].text_score) and other[0].score < again[0].score


@pytest.mark.django_db
def test_platform_name_is_not_evidence(registry):
    coat = "在拼多多商城买的羽绒服掉毛严重，拼多多商城客服不处理。"
    charger = "在拼多多商城买的手机充电器发烫，拼多多商城客服推诿。"
    make_case(registry, "yanji", kind=Case.Kind.COMPLAINT, product=False, platform_name="拼多多商城", facts=coat)
    [hit] = similarity.find_similar(text=charger, platform_name="拼多多商城")
    assert hit.reasons == ["共同词语：客服"] and hit.text_score < 0.2 and not hit.likely_duplicate
    assert {"多多", "商城"} <= set(similarity.segment(coat)) & set(similarity.segment(charger))  # if counted


def test_likely_duplicate_needs_both_score_and_text():
    assert similarity.is_likely_duplicate(0.65, 0.4)
    assert not similarity.is_likely_duplicate(0.65, 0.25)  # boosts carrying a weak text
    assert not similarity.is_likely_duplicate(0.5, 0.5)
    assert similarity.is_likely_duplicate(similarity.LIKELY_DUPLICATE, similarity.DUPLICATE_MIN_TEXT)


# --- merge direction ---------------------------------------------------------------------------------

def test_progress_order():
    def rank(status):
        return similarity.progress(Case(status=status))

    s = Case.Status
    assert rank(s.RECEIVED) < rank(s.ACCEPTED) == rank(s.VERIFYING) < rank(s.MEDIATING) == rank(s.FILED)
    assert rank(s.MEDIATING) < rank(s.MEDIATION_ENDED)


@pytest.fixture
def pair(registry, shop):
    """An earlier complaint still awaiting acceptance and a later one already accepted, its respondent
    notified (what the walkthrough met)."""
    earlier = shop_case(registry, shop, KETTLE, "kettle", received_on=dt.date(2026, 3, 2))
    later = shop_case(registry, shop, KETTLE_AGAIN, "kettle", received_on=dt.date(2026, 3, 4),
                      status=Case.Status.ACCEPTED, accepted_on=dt.date(2026, 3, 5))
    CaseEvent.objects.create(case=later, at=dt.datetime(2026, 3, 5, 10, tzinfo=dt.UTC), kind=CaseEvent.Kind.NOTICE_SENT,
                             text="已告知被投诉人")
    return earlier, later


@pytest.mark.django_db
def test_further_along_case_is_kept(pair, users):
    earlier, later = pair
    assert similarity.merge_order(earlier, later) == (earlier, later)
    assert similarity.merge_order(later, earlier) == (earlier, later)
    similarity.merge(earlier, later, users["nanguan"])
    earlier.refresh_from_db()
    later.refresh_from_db()
    assert (earlier.status, earlier.merged_into) == (Case.Status.MERGED, later)
    assert later.status == Case.Status.ACCEPTED and later.merged_into is None


@pytest.mark.django_db
def test_folding_a_further_along_case_into_a_less_advanced_one_is_refused(pair, users):
    earlier, later = pair
    audit_before = AuditLog.objects.count()
    with pytest.raises(similarity.MergeRefused) as refused:
        similarity.merge(later, earlier, users["nanguan"])
    message = refused.value.messages[0]
    assert refused.value.code == "further_along"
    assert later.number in message and earlier.number in message and "已受理" in message and "待受理" in message
    assert f"应将 {earlier.number} 合并至 {later.number}" in message
    for case in (earlier, later):
        case.refresh_from_db()
        assert case.merged_into is None
    assert (earlier.status, later.status) == (Case.Status.RECEIVED, Case.Status.ACCEPTED)
    assert not CaseEvent.objects.filter(kind=CaseEvent.Kind.MERGED).exists()
    assert AuditLog.objects.count() == audit_before


@pytest.mark.django_db
def test_direction_is_checked_on_the_current_rows(registry, shop, users):
    """A colleague accepted the later case after the page was loaded: the stale request is refused."""
    earlier = shop_case(registry, shop, KETTLE, "kettle", received_on=dt.date(2026, 3, 2))
    later = shop_case(registry, shop, KETTLE_AGAIN, "kettle", received_on=dt.date(2026, 3, 4))
    Case.objects.filter(pk=later.pk).update(status=Case.Status.ACCEPTED)
    with pytest.raises(similarity.MergeRefused) as refused:
        similarity.merge(later, earlier, users["nanguan"])  # ``later`` still says "received" in memory
    assert refused.value.code == "further_along"
    later.refresh_from_db()
    assert later.status == Case.Status.ACCEPTED


@pytest.mark.django_db
@pytest.mark.parametrize("kind,status", [(Case.Kind.COMPLAINT, Case.Status.RECEIVED),
                                         (Case.Kind.COMPLAINT, Case.Status.MEDIATING),
                                         (Case.Kind.TIP_OFF, Case.Status.VERIFYING)])
def test_equal_progress_keeps_the_earlier_received(registry, users, kind, status):
    earlier = make_case(registry, kind=kind, status=status, received_on=dt.date(2026, 3, 2))
    later = make_case(registry, kind=kind, status=status, received_on=dt.date(2026, 3, 4))
    assert similarity.merge_order(earlier, later) == (later, earlier)
    with pytest.raises(similarity.MergeRefused) as refused:
        similarity.merge(earlier, later, users["nanguan"])
    assert refused.value.code == "later_case" and f"请将 {later.number} 合并至 {earlier.number}" in refused.value.messages[0]
    earlier.refresh_from_db()
    assert earlier.status == status
    similarity.merge(later, earlier, users["nanguan"])
    later.refresh_from_db()
    assert (later.status, later.merged_into) == (Case.Status.MERGED, earlier)


@pytest.mark.django_db
def test_tip_off_filed_is_kept_over_one_being_verified(registry, users):
    filed = make_case(registry, status=Case.Status.FILED, received_on=dt.date(2026, 3, 9))
    verifying = make_case(registry, status=Case.Status.VERIFYING, received_on=dt.date(2026, 3, 2))
    assert similarity.merge_order(verifying, filed) == (verifying, filed)
    with pytest.raises(similarity.MergeRefused):
        similarity.merge(filed, verifying, users["nanguan"])


@pytest.mark.django_db
def test_panel_offers_the_direction_that_keeps_the_further_along_case(pair, users, client):
    earlier, later = pair
    client.force_login(users["nanguan"])
    response = client.get(reverse("complaints:case-similar", args=[earlier.pk]))
    html = response.content.decode()
    row = next(r for r in response.context["rows"] if r["result"].case == later)
    assert (row["duplicate"], row["into"], row["why_not"]) == (earlier, later, "")
    assert row["result"].likely_duplicate and "疑似重复" in html
    assert f"将 {earlier.number} 合并至 {later.number}" in html and "保留办理进度较快的案件" in html
    assert f"将 {later.number} 合并至 {earlier.number}" not in html
    # The other direction posted by hand: refused with the reason, nothing changed.
    url = reverse("complaints:case-merge", args=[earlier.pk])
    response = client.post(url, {"duplicate": later.pk, "into": earlier.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "不能合并至办理进度较慢的案件" in response.content.decode()
    later.refresh_from_db()
    assert later.status == Case.Status.ACCEPTED and not CaseEvent.objects.filter(kind=CaseEvent.Kind.MERGED).exists()
    # The offered direction works.
    response = client.post(url, {"duplicate": earlier.pk, "into": later.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    earlier.refresh_from_db()
    assert (earlier.status, earlier.merged_into) == (Case.Status.MERGED, later)


@pytest.mark.django_db
def test_panel_flags_another_product_of_the_same_company_as_similar_only(registry, shop, users, client):
    kettle = shop_case(registry, shop, KETTLE, "kettle")
    heater = shop_case(registry, shop, HEATER, "heater")
    client.force_login(users["nanguan"])
    response = client.get(reverse("complaints:case-similar", args=[heater.pk]))
    row = next(r for r in response.context["rows"] if r["result"].case == kettle)
    assert not row["result"].likely_duplicate
    assert "qg-likely-duplicate" not in response.content.decode()
