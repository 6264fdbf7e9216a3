"""The public pages (form, respondent search, confirmation, follow-up, rating), the public API and the
officers' entry page, as a user would use them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.urls import reverse

from qualitygov.complaints import intake
from qualitygov.complaints.models import Case, Submission
from qualitygov.complaints.tests.test_intake_support import EXE, JPEG, NAME, PHONE, complaint_kwargs, upload

pytestmark = pytest.mark.django_db

FORM = reverse("complaints-public:intake-form")
FOLLOW = reverse("complaints-public:intake-follow-up")
API_SUBMIT = reverse("api:public-complaints-api:intake-submit")
API_FOLLOW = reverse("api:public-complaints-api:intake-follow-up")


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def _form_data(entity=None, **overrides) -> dict:
    data = {"kind": "complaint", "name": NAME, "phone": PHONE, "address": "长春市南关区幸福街8号",
            "respondent_uscc": entity.uscc if entity else "", "respondent_name": "" if entity else "长春某商店",
            "respondent_address": "" if entity else "长春市朝阳区西安大路100号", "sales_channel": "offline",
            "category": "product_quality", "product_name": "制动软管", "request": "退货退款",
            "description": "使用一周即开裂漏油，商家拒绝退货。", "joint_complainants": "1",
            "for_personal_consumption": "on"}
    data.update(overrides)
    return data


def test_form_page_is_public_and_phone_friendly(client):
    page = client.get(FORM)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="viewport"' in html and 'enctype="multipart/form-data"' in html
    assert "投诉举报" in html and "统一社会信用代码" in html


def test_respondent_search_lists_registry_entities(client, registry):
    url = reverse("complaints-public:intake-respondent-search")
    html = client.get(url, {"q": "nanguan"}).content.decode()
    entity = registry["nanguan"]["entity"]
    assert entity.name in html and entity.uscc in html and registry["yanji"]["entity"].name not in html
    assert client.get(url, {"q": entity.uscc}).content.decode().count("data-qg-entity") == 1
    assert "至少输入" in client.get(url, {"q": "测"}).content.decode()


def test_complaint_through_the_form_gets_a_tracking_number_and_lands_in_the_county(client, registry):
    entity = registry["nanguan"]["entity"]
    response = client.post(FORM, _form_data(entity, files=[upload("p.jpg", JPEG)]))
    assert response.status_code == 302
    submission = Submission.objects.get()
    assert response["Location"] == reverse("complaints-public:intake-done", args=[submission.tracking_number])
    done = client.get(response["Location"]).content.decode()
    assert submission.tracking_number in done and "南关区" in done
    case = submission.cases.get()
    assert case.handling_unit_id == "220102" and case.respondent_entity == entity
    assert submission.channel == "web" and submission.attachments.count() == 1
    # Another browser cannot open the confirmation by guessing the number.
    client.logout()
    client.cookies.clear()
    assert client.get(response["Location"]).status_code == 404


def test_missing_materials_are_shown_on_the_form_and_nothing_is_stored(client):
    response = client.post(FORM, _form_data(name="", request=""))
    assert response.status_code == 400
    html = response.content.decode()
    assert "请填写投诉人姓名（第九条第一项）" in html and "请填写具体的投诉请求" in html
    assert Submission.objects.count() == 0


def test_a_disguised_attachment_is_refused_on_the_form(client):
    response = client.post(FORM, _form_data(files=[upload("receipt.jpg", EXE)]))
    assert response.status_code == 400
    assert "内容与其文件类型不符" in response.content.decode()
    assert Submission.objects.count() == 0


def test_the_form_is_rate_limited_per_client(client, settings):
    settings.COMPLAINTS_SUBMISSIONS_PER_HOUR = 2
    for _ in range(2):
        assert client.post(FORM, _form_data()).status_code == 302
    refused = client.post(FORM, _form_data())
    assert refused.status_code == 429 and "提交过于频繁" in refused.content.decode()
    assert Submission.objects.count() == 2


def test_anonymous_tip_off_shows_the_code_and_password_once_then_follows_up(client, registry):
    data = {"kind": "tip_off", "anonymous": "on", "respondent_uscc": registry["yanji"]["entity"].uscc,
            "sales_channel": "offline", "category": "counterfeit",
            "description": "该企业在仓库内给翻新旧软管贴新标签出售，每周二晚上发货。"}
    response = client.post(FORM, data)
    assert response.status_code == 200
    code, password = response.context["query_code"], response.context["query_password"]
    html = response.content.decode()
    assert code in html and password in html and "只显示这一次" in html
    submission = Submission.objects.get()
    assert password not in submission.query_password_hash
    # A fresh browser follows the tip-off with the code and password.
    client.cookies.clear()
    wrong = client.post(FOLLOW, {"query_code": code, "password": "WRONG123"})
    assert wrong.status_code == 404 and "未找到匹配" in wrong.content.decode()
    followed = client.post(FOLLOW, {"query_code": code, "password": password})
    assert followed.status_code == 302
    status = client.get(followed["Location"]).content.decode()
    assert "举报" in status and "延吉市" in status and "待受理" in status


def test_named_follow_up_and_rating_after_closure(client):
    submission = intake.submit(**complaint_kwargs(), received_at=intake.timezone.now()).submission
    response = client.post(FOLLOW, {"tracking_number": submission.tracking_number, "phone": "13800000000"})
    assert response.status_code == 404
    response = client.post(FOLLOW, {"tracking_number": submission.tracking_number, "phone": PHONE})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "请评价" not in page and NAME not in page
    case = submission.cases.get()
    Case.objects.filter(pk=case.pk).update(status=Case.Status.CLOSED, closed_on=dt.date(2026, 10, 20))
    page = client.get(response["Location"]).content.decode()
    assert "请评价本次投诉的处理" in page
    rate_url = reverse("complaints-public:intake-rate", args=[submission.tracking_number, case.number])
    assert client.post(rate_url, {"satisfaction": "9"}).status_code == 400
    assert client.post(rate_url, {"satisfaction": "5", "comment": "满意"}).status_code == 302
    case.refresh_from_db()
    assert case.satisfaction == 5
    assert client.post(rate_url, {"satisfaction": "4"}).status_code == 400  # once only
    # Somebody else's browser cannot rate or see it.
    client.cookies.clear()
    assert client.post(rate_url, {"satisfaction": "1"}).status_code == 404
    assert client.get(response["Location"]).status_code == 404


def test_follow_up_guessing_is_limited(client, monkeypatch):
    from qualitygov.complaints import views_public_intake

    monkeypatch.setattr(views_public_intake, "FOLLOW_UP_FAILURES_PER_HOUR", 3)
    for _ in range(3):
        assert client.post(FOLLOW, {"query_code": "NMAAAAAAAAAA", "password": "X"}).status_code == 404
    assert client.post(FOLLOW, {"query_code": "NMAAAAAAAAAA", "password": "X"}).status_code == 429


def test_follow_up_form_needs_a_pair(client):
    response = client.post(FOLLOW, {"tracking_number": "TJ1"})
    assert response.status_code == 400 and "请同时填写登记编号和提交时填写的电话号码" in response.content.decode()


# --- the public API -----------------------------------------------------------------------------------

def test_api_multipart_submission_and_follow_up(client, registry):
    entity = registry["chaoyang"]["entity"]
    response = client.post(API_SUBMIT, _form_data(entity, files=[upload("p.jpg", JPEG)]))
    assert response.status_code == 201, response.content
    body = response.json()
    [case] = body["cases"]
    assert case["handling_unit"] == "220104" and case["kind"] == "complaint"
    assert "query_code" not in body and NAME not in response.content.decode()
    assert Submission.objects.get().channel == "api"
    status = client.get(API_FOLLOW, {"tracking_number": body["tracking_number"]}, HTTP_X_PHONE=PHONE)
    assert status.status_code == 200 and status.json()["cases"][0]["status"] == "received"
    assert NAME not in status.content.decode() and PHONE not in status.content.decode()
    missing = client.get(API_FOLLOW, {"tracking_number": body["tracking_number"]}, HTTP_X_PHONE="13900000000")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_api_anonymous_tip_off_json(client, registry):
    response = client.post(API_SUBMIT, {"kind": "tip_off", "anonymous": True, "respondent_name": "某作坊",
                                        "respondent_address": "延吉市河南街",
                                        "description": "该作坊用工业原料生产食品，每天凌晨出货给附近超市。"},
                           content_type="application/json")
    assert response.status_code == 201
    body = response.json()
    assert body["cases"][0]["handling_unit"] == "222401"
    followed = client.get(API_FOLLOW, {"query_code": body["query_code"]}, HTTP_X_QUERY_PASSWORD=body["query_password"])
    assert followed.status_code == 200 and followed.json()["anonymous"] is True


def test_api_refusals_are_structured(client, settings):
    missing = client.post(API_SUBMIT, _form_data(phone=""))
    assert missing.status_code == 400
    error = missing.json()["error"]
    assert error["code"] == "missing_materials" and "phone" in error["details"]
    disguised = client.post(API_SUBMIT, _form_data(files=[upload("x.png", EXE)]))
    assert disguised.status_code == 400 and disguised.json()["error"]["code"] == "file_disguised"
    anonymous_complaint = client.post(API_SUBMIT, _form_data(anonymous="on"))
    assert anonymous_complaint.status_code == 400 and "anonymous" in anonymous_complaint.json()["error"]["details"]
    settings.COMPLAINTS_SUBMISSIONS_PER_HOUR = 1
    assert client.post(API_SUBMIT, _form_data()).status_code == 201
    limited = client.post(API_SUBMIT, _form_data())
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
    assert 3500 <= int(limited["Retry-After"]) <= 3600
    assert Submission.objects.count() == 1
    assert client.get(API_FOLLOW).status_code == 400


# --- officer entry ------------------------------------------------------------------------------------

def test_officer_enters_a_phone_complaint(client, users, registry):
    client.force_login(users["nanguan"])
    url = reverse("complaints:intake-entry")
    assert client.get(url).status_code == 200
    response = client.post(url, {**_form_data(registry["yanji"]["entity"]), "channel": "phone",
                                 "received_on": intake.timezone.localdate().isoformat()})
    assert response.status_code == 302
    submission = Submission.objects.get()
    assert submission.channel == "phone" and submission.entered_by == users["nanguan"]
    receipt = client.get(response["Location"]).content.decode()
    # Routed to 延吉市; the entering officer of 南关区 sees the receipt, not a link into the case.
    assert submission.tracking_number in receipt and "延吉市" in receipt
    assert submission.cases.get().handling_unit_id == "222401"


def test_officer_entry_sent_twice_enters_once(client, users, registry):
    """A double click, or a reload of the answer, sends the same form (same one-time token) again: the
    officer lands on the first submission's receipt; changed content with the token is a new one."""
    client.force_login(users["nanguan"])
    url = reverse("complaints:intake-entry")
    token = client.get(url).context["form_token"]
    data = {**_form_data(registry["nanguan"]["entity"]), "channel": "phone", "form_token": token,
            "received_on": intake.timezone.localdate().isoformat()}
    first = client.post(url, data)
    again = client.post(url, data)
    assert first.status_code == again.status_code == 302 and first["Location"] == again["Location"]
    assert Submission.objects.count() == 1
    assert "没有重复登记" in client.get(again["Location"]).content.decode()
    changed = client.post(url, {**data, "description": data["description"] + "（补充：购物小票已拍照）"})
    assert changed.status_code == 302 and Submission.objects.count() == 2


def test_officer_entry_refuses_future_dates_and_missing_materials(client, users):
    client.force_login(users["changchun"])
    url = reverse("complaints:intake-entry")
    future = (intake.timezone.localdate() + dt.timedelta(days=2)).isoformat()
    response = client.post(url, {**_form_data(), "channel": "letter", "received_on": future})
    assert response.status_code == 400 and "收到日期不能晚于今天" in response.content.decode()
    response = client.post(url, {**_form_data(address=""), "channel": "counter",
                                 "received_on": intake.timezone.localdate().isoformat()})
    assert response.status_code == 400 and "通讯地址" in response.content.decode()
    assert Submission.objects.count() == 0


def test_officer_takes_an_anonymous_tip_off_by_phone(client, users):
    client.force_login(users["nanguan"])
    response = client.post(reverse("complaints:intake-entry"), {
        "channel": "phone", "received_on": intake.timezone.localdate().isoformat(), "kind": "tip_off",
        "anonymous": "on", "respondent_name": "某商店", "respondent_address": "长春市南关区东岭街",
        "description": "电话反映该店销售过期奶粉，货架第三排。", "sales_channel": "offline", "category": "food_safety"})
    assert response.status_code == 200
    assert response.context["query_code"] in response.content.decode()
