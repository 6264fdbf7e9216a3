"""The credit ledger (issue 4 item 1; issue 3 item 7): the one recording function, its publication
rules, revocation, and who sees which records on the pages and the API."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from qualitygov.core.models import AuditLog
from qualitygov.credit import publication
from qualitygov.credit.models import CreditRecord, CreditRecordQuerySet, Kind
from qualitygov.credit.services import SourceRef, publication_window, record_fact, revoke_fact
from qualitygov.registry.models import MarketEntity

pytestmark = [pytest.mark.django_db]

DAY = dt.date(2024, 1, 31)  # the end of a long month, so that adding months must clamp the day
PLUS_3M, PLUS_1Y, PLUS_3Y = dt.date(2024, 4, 30), dt.date(2025, 1, 31), dt.date(2027, 1, 31)


def fact(entity, kind=Kind.SPOT_CHECK_UNQUALIFIED, source=None, **kwargs):
    kwargs.setdefault("occurred_on", DAY)
    kwargs.setdefault("summary", "制动软管抽查不合格：爆破压力不达标")
    return record_fact(entity=entity, kind=kind, source=source or SourceRef("inspection", "sample", "1"), **kwargs)


def history(record, action):
    ct = ContentType.objects.get_for_model(CreditRecord)
    return AuditLog.objects.filter(content_type=ct, object_id=str(record.pk), action=action)


# --------------------------------------------------------------------------------------------------
# Recording


def test_record_creates_with_polarity_window_and_audit(registry, users):
    entity = registry["nanguan"]["entity"]
    result = fact(entity, details={"failing_items": ["爆破压力"]}, department="南关区市场监督管理局",
                  user=users["nanguan"])
    record = result.record
    assert result.created
    assert (record.entity, record.kind, record.polarity) == (entity, Kind.SPOT_CHECK_UNQUALIFIED, "negative")
    assert (record.source_module, record.source_type, record.source_id) == ("inspection", "sample", "1")
    assert (record.publishable, record.publish_from, record.publish_min_until, record.publish_until) == (
        True, DAY, PLUS_3M, PLUS_3Y)
    assert record.state == CreditRecord.State.ACTIVE and record.recorded_by == users["nanguan"]
    entry = history(record, "create").get()
    assert entry.username == "nanguan" and entry.region == "220102"  # filed under the entity's county

    award = fact(entity, Kind.AWARD, SourceRef("nqi", "award", "9"), summary="吉林省质量奖").record
    assert award.polarity == "positive" and (award.publish_min_until, award.publish_until) == (DAY, PLUS_3Y)


def test_source_taken_from_a_model_instance(registry):
    licence = registry["yanji"]["licence"]
    record = fact(licence.entity, Kind.LICENCE_REVOCATION, source=licence, summary="吊销生产许可证",
                  details={"penalty_types": ["licence_revocation"], "decision_number": "吉市监罚〔2024〕3号"}).record
    assert (record.source_module, record.source_type, record.source_id) == ("registry", "licence", str(licence.pk))
    # A revoked licence is published its full three years, never ended early (Order 45 Art. 14).
    assert (record.publish_min_until, record.publish_until) == (PLUS_3Y, PLUS_3Y)


def test_idempotent_on_the_source(registry, users):
    entity = registry["nanguan"]["entity"]
    first = fact(entity, details={"failing_items": ["爆破压力"]})
    again = fact(entity, details={"failing_items": ["爆破压力"]})
    assert not again.created and again.record.pk == first.record.pk
    assert CreditRecord.objects.count() == 1
    assert not history(first.record, "update").exists()  # nothing changed, nothing to tell

    changed = fact(entity, summary="制动软管抽查不合格（复检维持）", details={"failing_items": ["爆破压力", "标志"]},
                   user=users["province"])
    assert not changed.created and CreditRecord.objects.count() == 1
    changed.record.refresh_from_db()
    assert changed.record.summary == "制动软管抽查不合格（复检维持）"
    assert changed.record.details == {"failing_items": ["爆破压力", "标志"]}
    entry = history(first.record, "update").get()
    assert entry.username == "province"
    assert entry.before["summary"] == "制动软管抽查不合格：爆破压力不达标"
    assert entry.after["summary"] == "制动软管抽查不合格（复检维持）"


def test_two_kinds_for_one_source_are_two_records(registry):
    entity = registry["nanguan"]["entity"]
    source = SourceRef("inspection", "sample", "77")
    serious = fact(entity, Kind.SPOT_CHECK_SERIOUS, source)
    penalty = fact(entity, Kind.ADMINISTRATIVE_PENALTY, source, summary="罚款 5 万元",
                   details={"penalty_types": ["fine"], "amount": 50000})
    assert serious.created and penalty.created and serious.record.pk != penalty.record.pk
    assert CreditRecord.objects.filter(source_id="77").count() == 2


def test_a_lost_race_returns_the_winners_record(registry, monkeypatch):
    """Two callers that both find no record: the second insert meets the unique constraint inside a
    savepoint and reads the first caller's row instead of failing or duplicating."""
    entity = registry["nanguan"]["entity"]
    winner = fact(entity).record
    real_first = CreditRecordQuerySet.first
    calls = []

    def first_misses_once(self):
        calls.append(1)
        return None if len(calls) == 1 else real_first(self)

    monkeypatch.setattr(CreditRecordQuerySet, "first", first_misses_once)
    result = fact(entity)
    assert not result.created and result.record.pk == winner.pk and len(calls) == 2
    assert CreditRecord.objects.count() == 1


# --------------------------------------------------------------------------------------------------
# Publication rules


def test_warning_only_penalty_is_never_published(registry):
    entity = registry["nanguan"]["entity"]
    warning = fact(entity, Kind.ADMINISTRATIVE_PENALTY, summary="警告", details={"penalty_types": ["warning"]}).record
    assert not warning.publishable and warning.publish_from is None and warning.publish_until is None
    assert not CreditRecord.objects.publicly_visible(DAY).filter(pk=warning.pk).exists()
    with pytest.raises(ValidationError) as error:
        fact(entity, Kind.ADMINISTRATIVE_PENALTY, SourceRef("enforcement", "case", "2"), summary="警告",
             details={"penalty_types": ["warning"]}, publishable=True)
    assert "仅受到警告" in str(error.value)
    assert CreditRecord.objects.count() == 1
    # A warning together with a fine is published (the general rule).
    both = fact(entity, Kind.ADMINISTRATIVE_PENALTY, SourceRef("enforcement", "case", "3"), summary="警告并罚款",
                details={"penalty_types": ["warning", "fine"], "amount": "20000"}).record
    assert (both.publishable, both.publish_min_until, both.publish_until) == (True, PLUS_3M, PLUS_3Y)


@pytest.mark.parametrize("kind,details,window", [
    (Kind.ADMINISTRATIVE_PENALTY, {"penalty_types": ["fine"], "amount": 80000}, (PLUS_3M, PLUS_3Y)),
    # Special equipment, work safety and fire: at least a year.
    (Kind.ADMINISTRATIVE_PENALTY, {"penalty_types": ["fine"], "field": "special_equipment"}, (PLUS_1Y, PLUS_3Y)),
    (Kind.ADMINISTRATIVE_PENALTY, {"penalty_types": ["fine"], "field": "fire"}, (PLUS_1Y, PLUS_3Y)),
    # Order 45 Art. 13: a circulated criticism alone stops after three months.
    (Kind.ADMINISTRATIVE_PENALTY, {"penalty_types": ["circulated_criticism"]}, (PLUS_3M, PLUS_3M)),
    # Art. 14 para. 3: a suspension of production cannot end early.
    (Kind.ADMINISTRATIVE_PENALTY, {"penalty_types": ["fine", "production_suspension"]}, (PLUS_3Y, PLUS_3Y)),
    # Art. 13 para. 3: a restriction beyond three years is published for its own term.
    (Kind.ADMINISTRATIVE_PENALTY, {"penalty_types": ["business_restriction"], "restriction_until": "2029-06-30"},
     (dt.date(2029, 6, 30), dt.date(2029, 6, 30))),
    (Kind.LICENCE_SUSPENSION, {}, (PLUS_3M, PLUS_3Y)),
    (Kind.SPOT_CHECK_UNQUALIFIED, {}, (PLUS_3M, PLUS_3Y)),
    (Kind.SPOT_CHECK_SERIOUS, {}, (PLUS_1Y, PLUS_3Y)),
    (Kind.REFUSED_SAMPLING, {}, (PLUS_1Y, PLUS_3Y)),
    (Kind.SERIOUS_VIOLATION_LISTING, {}, (PLUS_1Y, PLUS_3Y)),  # Order 44: removal after 1 year at the earliest
    (Kind.ABNORMAL_OPERATION_LISTING, {}, (DAY, PLUS_3Y)),  # removed on correction, at any time
    (Kind.VERIFIED_COMPLAINT, {}, None),
    (Kind.VERIFIED_TIP_OFF, {}, None),
])
def test_window_minimum_and_maximum_per_kind(kind, details, window):
    got = publication_window(kind, DAY, details)
    if window is None:
        assert got == (False, None, None, None)
    else:
        assert (got.publishable, got.start, got.minimum_end, got.end) == (True, DAY, *window)


def test_lower_fine_follows_the_configured_threshold(monkeypatch):
    details = {"penalty_types": ["fine"], "amount": 3000}
    assert publication_window(Kind.ADMINISTRATIVE_PENALTY, DAY, details).end == PLUS_3Y  # no threshold set
    monkeypatch.setattr(publication, "LOW_FINE_THRESHOLD_CNY", publication.Decimal("10000"))
    assert publication_window(Kind.ADMINISTRATIVE_PENALTY, DAY, details)[2:] == (PLUS_3M, PLUS_3M)
    assert publication_window(Kind.ADMINISTRATIVE_PENALTY, DAY, {**details, "amount": 10001}).end == PLUS_3Y


def test_department_may_withhold_or_publish_an_internal_kind(registry):
    entity = registry["nanguan"]["entity"]
    withheld = fact(entity, publishable=False).record
    assert not withheld.publishable and withheld.publish_until is None
    complaint = fact(entity, Kind.VERIFIED_COMPLAINT, SourceRef("complaints", "complaint", "5"),
                     summary="投诉属实", publishable=True).record
    assert complaint.publishable and complaint.publish_until == PLUS_3Y


@pytest.mark.parametrize("change,message", [
    ({"entity": 999_999_999}, "市场主体不存在"),
    ({"kind": "bankruptcy"}, "未知的信用事项"),
    ({"summary": "  "}, "摘要"),
    ({"kind": Kind.ADMINISTRATIVE_PENALTY, "details": {}}, "处罚种类"),
    ({"kind": Kind.ADMINISTRATIVE_PENALTY, "details": {"penalty_types": ["caning"]}}, "未知的处罚种类"),
    ({"kind": Kind.ADMINISTRATIVE_PENALTY, "details": {"penalty_types": ["fine"], "amount": "很多"}}, "罚没金额"),
    ({"occurred_on": "2024-01-31"}, "发生日期"),
])
def test_bad_input_is_refused_and_changes_nothing(registry, change, message):
    kwargs = {"entity": registry["nanguan"]["entity"], **change}
    with pytest.raises(ValidationError) as error:
        fact(**kwargs)
    assert message in str(error.value)
    assert CreditRecord.objects.count() == 0 and not history_exists()


def history_exists() -> bool:
    return AuditLog.objects.filter(content_type=ContentType.objects.get_for_model(CreditRecord)).exists()


def test_unsaved_source_and_source_moved_to_another_entity_are_refused(registry):
    from qualitygov.registry.models import Product

    with pytest.raises(ValidationError, match="尚未保存"):
        fact(registry["nanguan"]["entity"], source=Product(name="未保存"))
    fact(registry["nanguan"]["entity"])
    with pytest.raises(ValidationError, match="另一市场主体"):
        fact(registry["yanji"]["entity"])
    assert list(CreditRecord.objects.values_list("entity", flat=True)) == [registry["nanguan"]["entity"].pk]


def test_database_refuses_a_window_whose_minimum_exceeds_its_maximum(registry):
    record = fact(registry["nanguan"]["entity"]).record
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditRecord.objects.filter(pk=record.pk).update(publish_min_until=dt.date(2030, 1, 1))


def test_add_months_clamps_to_the_month_end():
    assert publication.add_months(dt.date(2023, 11, 30), 3) == dt.date(2024, 2, 29)
    assert publication.add_months(dt.date(2024, 2, 29), 12) == dt.date(2025, 2, 28)
    assert publication.add_months(dt.date(2024, 5, 15), 0) == dt.date(2024, 5, 15)


# --------------------------------------------------------------------------------------------------
# Revocation


def test_revoke_keeps_the_record_with_state_revoked(registry, users):
    entity = registry["nanguan"]["entity"]
    source = SourceRef("inspection", "sample", "1")
    record = fact(entity, source=source).record
    revoked = revoke_fact(source, Kind.SPOT_CHECK_UNQUALIFIED, "复检结论为合格，原检验结论撤销", user=users["province"])
    assert revoked.pk == record.pk
    record.refresh_from_db()
    assert record.state == CreditRecord.State.REVOKED and "复检" in record.state_reason
    assert record.state_changed_at is not None
    assert CreditRecord.objects.filter(pk=record.pk).exists()
    assert not CreditRecord.objects.publicly_visible(DAY).exists()
    entry = history(record, "update").get()
    assert entry.username == "province" and entry.after["state"] == "revoked"
    # Twice is once; a later re-report of the same source does not bring it back.
    revoke_fact(source, Kind.SPOT_CHECK_UNQUALIFIED, "再次撤销")
    again = fact(entity, source=source)
    assert not again.created and again.record.state == CreditRecord.State.REVOKED
    assert history(record, "update").count() == 1
    assert revoke_fact(SourceRef("inspection", "sample", "404"), Kind.SPOT_CHECK_UNQUALIFIED, "无") is None
    with pytest.raises(ValidationError):
        revoke_fact(source, Kind.SPOT_CHECK_UNQUALIFIED, " ")


# --------------------------------------------------------------------------------------------------
# Who sees what: pages and API


@pytest.fixture
def ledger(registry):
    """One unqualified result per fixture entity, plus a warning-only penalty in 南关区."""
    records = {key: fact(registry[key]["entity"], source=SourceRef("inspection", "sample", key),
                         occurred_on=dt.date.today(), summary=f"{key}抽查不合格").record
               for key in ("nanguan", "chaoyang", "yanji")}
    records["warning"] = fact(registry["nanguan"]["entity"], Kind.ADMINISTRATIVE_PENALTY,
                              SourceRef("enforcement", "case", "w1"), occurred_on=dt.date.today(),
                              summary="仅警告", details={"penalty_types": ["warning"]}).record
    return records


def listed(response) -> set[int]:
    return {row.record.pk for row in response.context["table"].page.object_list}


@pytest.mark.parametrize("username,keys", [
    ("nanguan", {"nanguan", "warning"}),
    ("yanji", {"yanji"}),
    ("changchun", {"nanguan", "chaoyang", "warning"}),
    ("inspector", {"nanguan", "chaoyang", "warning"}),
    ("province", {"nanguan", "chaoyang", "yanji", "warning"}),
    ("enterprise", {"nanguan", "warning"}),  # its own credit file, warning included
])
def test_list_and_detail_pages_are_scoped(ledger, login, username, keys):
    client = login(username)
    response = client.get("/credit/records/")
    assert response.status_code == 200
    assert listed(response) == {ledger[k].pk for k in keys}
    for key, record in ledger.items():
        for page in ("", "history/"):
            status = client.get(f"/credit/records/{record.pk}/{page}").status_code
            assert status == (200 if key in keys else 404), (key, page)


def test_lab_staff_and_data_consumers_get_no_pages(ledger, login):
    assert login("lab").get("/credit/records/").status_code == 403
    assert login("consumer").get("/credit/records/").status_code == 403


def test_no_write_pages(ledger, login):
    client = login("admin")
    assert client.get("/credit/records/add/").status_code == 404
    assert client.get(f"/credit/records/{ledger['nanguan'].pk}/edit/").status_code == 404
    assert client.get(f"/credit/records/{ledger['nanguan'].pk}/delete/").status_code == 404


def test_filters(ledger, registry, login):
    client = login("province")
    assert listed(client.get("/credit/records/", {"kind": Kind.ADMINISTRATIVE_PENALTY})) == {ledger["warning"].pk}
    assert listed(client.get("/credit/records/", {"uscc": registry["yanji"]["entity"].uscc.lower()})) == {
        ledger["yanji"].pk}
    assert listed(client.get("/credit/records/", {"region": "220104"})) == {ledger["chaoyang"].pk}
    revoke_fact(SourceRef("inspection", "sample", "chaoyang"), Kind.SPOT_CHECK_UNQUALIFIED, "复检推翻")
    assert listed(client.get("/credit/records/", {"state": "revoked"})) == {ledger["chaoyang"].pk}
    today = dt.date.today()
    assert len(listed(client.get("/credit/records/", {"occurred_after": today.isoformat(),
                                                      "occurred_before": today.isoformat()}))) == 4
    assert listed(client.get("/credit/records/", {"occurred_before": (today - dt.timedelta(days=1)).isoformat()})) \
        == set()


def test_pages_render_in_chinese(ledger, registry, login):
    client = login("nanguan")
    page = client.get("/credit/records/").content.decode()
    assert "信用档案" in page and "监督抽查不合格" in page and "行政处罚" in page
    penalty = fact(registry["nanguan"]["entity"], Kind.ADMINISTRATIVE_PENALTY, SourceRef("enforcement", "case", "p"),
                   summary="罚款", details={"penalty_types": ["fine", "confiscation_of_income"], "amount": 50000,
                                            "decision_number": "长南市监罚〔2024〕12号", "field": "special_equipment"},
                   department="南关区市场监督管理局").record
    detail = client.get(f"/credit/records/{penalty.pk}/").content.decode()
    for text in ("最短公示期满日", "决定书文号", "长南市监罚〔2024〕12号", "罚款、没收违法所得", "特种设备",
                 "南关区市场监督管理局", "失信", "enforcement.case#p"):
        assert text in detail, text
    assert "该记录不予公示" in client.get(f"/credit/records/{ledger['warning'].pk}/").content.decode()
    assert "变更历史" in client.get(f"/credit/records/{penalty.pk}/history/").content.decode()


def test_menu_entry(ledger, login):
    page = login("nanguan").get("/credit/records/").content.decode()
    assert "质量信用" in page and 'href="/credit/records/"' in page


def test_export_is_scoped(ledger, registry, login):
    response = login("changchun").get("/credit/records/", {"export": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][0] == "统一社会信用代码"
    assert sorted(r[0] for r in rows[1:]) == sorted([registry["nanguan"]["entity"].uscc] * 2
                                                    + [registry["chaoyang"]["entity"].uscc])


def api_ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["results"]}


def test_api_is_scoped_and_read_only(ledger, registry, client, users):
    url = "/api/v1/credit-records/"
    client.force_login(users["nanguan"])
    assert api_ids(client.get(url)) == {ledger["nanguan"].pk, ledger["warning"].pk}
    assert client.get(f"{url}{ledger['yanji'].pk}/").status_code == 404
    client.force_login(users["enterprise"])
    assert api_ids(client.get(url)) == {ledger["nanguan"].pk, ledger["warning"].pk}
    client.force_login(users["consumer"])
    # A department's data user reads what is published, never the warning-only penalty.
    assert api_ids(client.get(url)) == {ledger[k].pk for k in ("nanguan", "chaoyang", "yanji")}
    assert client.get(f"{url}{ledger['warning'].pk}/").status_code == 404
    assert api_ids(client.get(url, {"uscc": registry["yanji"]["entity"].uscc})) == {ledger["yanji"].pk}
    item = client.get(f"{url}{ledger['yanji'].pk}/").json()
    assert item["entity"] == registry["yanji"]["entity"].uscc and item["kind_display"] == "监督抽查不合格"
    for username in ("consumer", "admin"):
        client.force_login(users[username])
        response = client.post(url, {"entity": registry["nanguan"]["entity"].uscc, "kind": "award"},
                               content_type="application/json")
        assert response.status_code == 403 and response.json()["error"]["status"] == 403
        response = client.patch(f"{url}{ledger['nanguan'].pk}/", {"summary": "改写"}, content_type="application/json")
        assert response.status_code == 403
        assert client.delete(f"{url}{ledger['nanguan'].pk}/").status_code == 403
    assert CreditRecord.objects.count() == 4
    assert CreditRecord.objects.get(pk=ledger["nanguan"].pk).summary == "nanguan抽查不合格"
    client.force_login(users["lab"])
    assert client.get(url).status_code == 403


def test_an_entity_with_credit_records_cannot_be_deleted(registry, client, users):
    """The ledger protects its entities: deleting one is refused with 409 in the API's error shape."""
    from rest_framework.authtoken.models import Token

    entity = registry["yanji"]["entity"]
    record_fact(entity=entity, kind=Kind.SPOT_CHECK_UNQUALIFIED, occurred_on=dt.date(2026, 3, 1),
                source=SourceRef("inspection", "sample", "77"), summary="抽查不合格")
    token = Token.objects.create(user=users["admin"])
    response = client.delete(f"/api/v1/entities/{entity.pk}/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "protected"
    assert MarketEntity.objects.filter(pk=entity.pk).exists()
