"""Roles × endpoints of the credit query area: the public credit API (no sign-in) and the officers'
objection and statement API."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

from qualitygov.conftest import make_uscc
from qualitygov.credit import query
from qualitygov.credit.api_public_query import ObjectionRateThrottle
from qualitygov.credit.models import CreditObjection, CreditRecord, EntityStatement, RiskClass
from qualitygov.credit.tests import test_query as _base
from qualitygov.credit.tests.test_query import TODAY, _fact

# The shared fixtures of the query tests (defined in test_query.py).
credit = _base.credit
fixed_today = _base.fixed_today

API_EXPECTATIONS: dict[str, str] = {
    "api:public-credit-api:entity-credit": "anonymous: public file JSON without risk class or score; invalid USCC 400 "
                                           "invalid_uscc; unknown 404; fixed query count",
    "api:public-credit-api:entity-search": "anonymous: registered entities by name/USCC, paged; short query 400",
    "api:public-credit-api:objection-submit": "anonymous: 201 with tracking number only; late 400 objection_late; "
                                              "unpublished 400 not_public; throttled 429",
    "api:credit-api:credit-objection-list": "officers see their region's objections (name, contact); other county "
                                            "none; inspector, lab, enterprise, consumer 403",
    "api:credit-api:credit-objection-detail": "officer in scope 200; other county 404; enterprise 403",
    "api:credit-api:credit-objection-answer": "officer in scope answers (upheld withdraws the record); other county "
                                              "404; enterprise/inspector 403",
    "api:credit-api:credit-statement-list": "officers in scope and the entity's enterprise user see statements; "
                                            "other county none; lab/consumer 403; POST: enterprise 201 for its own "
                                            "record, 400 for another entity's, officers 403",
    "api:credit-api:credit-statement-detail": "enterprise own 200; other county 404",
    "api:credit-api:credit-statement-hide": "officer in scope 200; other county 404; enterprise 403",
}

ROLES = ("admin", "province", "changchun", "nanguan", "yanji", "inspector", "lab", "enterprise", "consumer")


def _client(users, username=None) -> APIClient:
    client = APIClient()
    if username:
        client.force_authenticate(users[username])
    return client


# --- public ------------------------------------------------------------------------------------------

def test_public_entity_credit_json(credit, users):
    url = reverse("api:public-credit-api:entity-credit", args=[credit["nanguan"].uscc])
    response = APIClient().get(url)
    assert response.status_code == 200
    body = response.content.decode()
    data = response.json()
    assert data["grade"] == {"grade": "AA", "as_of": "2026-06-01", "label": "AA"}
    assert credit["fine"].pk in {row["record"] for row in data["records"]}
    assert "risk" not in body and str(RiskClass.C.label) not in body and "88.5" not in body
    assert credit["warning"].summary not in body and credit["internal"].summary not in body
    # A stale or wrong token does not turn the public answer into a 401.
    stale = APIClient(HTTP_AUTHORIZATION="Token not-a-token").get(url)
    assert stale.status_code == 200


def test_public_entity_credit_errors(credit):
    invalid = APIClient().get(reverse("api:public-credit-api:entity-credit", args=["9122010200000000X1"]))
    assert invalid.status_code == 400
    assert invalid.json()["error"]["code"] == "invalid_uscc" and "统一社会信用代码" in invalid.json()["error"]["message"]
    unknown = APIClient().get(reverse("api:public-credit-api:entity-credit", args=[make_uscc("220102", 4242)]))
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"


def test_public_entity_credit_query_count_does_not_grow(credit, django_assert_max_num_queries):
    url = reverse("api:public-credit-api:entity-credit", args=[credit["nanguan"].uscc])
    client = APIClient()
    with django_assert_max_num_queries(3):
        assert client.get(url).status_code == 200
    for number in range(100, 130):
        record = _fact(credit["nanguan"], number)
        EntityStatement.objects.create(record=record, entity=credit["nanguan"], text=f"说明 {number}")
    query.submit_objection(credit["fine"], "李四", "139", "理由")
    with django_assert_max_num_queries(3):
        response = client.get(url)
    assert len(response.json()["records"]) == 32  # the fine, the listing and the 30 new ones
    assert response.json()["re_evaluation_pending"] is True


def test_public_search_api(credit):
    response = APIClient().get(reverse("api:public-credit-api:entity-search"), {"q": "汽车零部件", "page_size": 2})
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 3 and len(data["results"]) == 2 and data["mode"] == "name"
    assert all("risk" not in str(row) for row in data["results"])
    short = APIClient().get(reverse("api:public-credit-api:entity-search"), {"q": "测"})
    assert short.status_code == 400 and short.json()["error"]["code"] == "query_too_short"


@pytest.fixture
def no_throttle_history():
    cache.clear()
    yield
    cache.clear()


def test_public_objection_post(credit, no_throttle_history):
    url = reverse("api:public-credit-api:objection-submit")
    client = APIClient()
    response = client.post(url, {"record": credit["fine"].pk, "name": "李四", "contact": "13900000000",
                                 "grounds": "金额有误"}, format="json")
    assert response.status_code == 201
    data = response.json()
    objection = CreditObjection.objects.get(tracking_number=data["tracking_number"])
    assert data["answer_due_on"] == objection.answer_due_on.isoformat() == "2026-07-14"
    assert "李四" not in response.content.decode() and "13900000000" not in response.content.decode()
    late = client.post(url, {"record": credit["ended"].pk, "name": "李四", "contact": "139", "grounds": "理由"},
                       format="json")
    assert late.status_code == 400 and late.json()["error"]["code"] == "objection_late"
    assert credit["ended"].publish_until.isoformat() in late.json()["error"]["message"]
    for record in (credit["warning"].pk, 987654):
        hidden = client.post(url, {"record": record, "name": "李四", "contact": "139", "grounds": "理由"},
                             format="json")
        assert hidden.status_code == 400 and hidden.json()["error"]["code"] == "not_public"
    missing = client.post(url, {"record": credit["fine"].pk, "name": "", "contact": "", "grounds": ""},
                          format="json")
    assert missing.status_code == 400 and set(missing.json()["error"]["details"]) == {"name", "contact", "grounds"}
    assert CreditObjection.objects.count() == 1


def test_public_objection_post_is_throttled(credit, monkeypatch, no_throttle_history):
    monkeypatch.setattr(ObjectionRateThrottle, "DEFAULT_RATE", "2/min")
    url = reverse("api:public-credit-api:objection-submit")
    payload = {"record": credit["fine"].pk, "name": "李四", "contact": "139", "grounds": "理由"}
    codes = [APIClient().post(url, payload, format="json").status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    assert CreditObjection.objects.count() == 2


# --- officers: objections ----------------------------------------------------------------------------

@pytest.fixture
def objection(credit):
    return query.submit_objection(credit["fine"], "李四", "13900000000", "处罚对象错误")


def test_objection_list_by_role(users, objection):
    url = reverse("api:credit-api:credit-objection-list")
    for role in ROLES:
        response = _client(users, role).get(url)
        if role in ("admin", "province", "changchun", "nanguan"):
            assert response.status_code == 200, role
            rows = response.json()["results"]
            assert [row["tracking_number"] for row in rows] == [objection.tracking_number], role
            assert rows[0]["name"] == "李四" and rows[0]["contact"] == "13900000000"
        elif role == "yanji":
            assert response.status_code == 200 and response.json()["results"] == []
        else:
            assert response.status_code == 403, role
    assert _client(users).get(url).status_code == 401


def test_objection_detail_and_filters(users, objection):
    url = reverse("api:credit-api:credit-objection-detail", args=[objection.pk])
    assert _client(users, "nanguan").get(url).status_code == 200
    assert _client(users, "yanji").get(url).status_code == 404
    assert _client(users, "enterprise").get(url).status_code == 403
    listing = reverse("api:credit-api:credit-objection-list")
    assert _client(users, "nanguan").get(listing, {"overdue": "true"}).json()["results"] == []
    CreditObjection.objects.filter(pk=objection.pk).update(answer_due_on=TODAY.replace(day=1))
    assert len(_client(users, "nanguan").get(listing, {"overdue": "true"}).json()["results"]) == 1
    assert _client(users, "nanguan").get(listing, {"status": "upheld"}).json()["results"] == []


def test_objection_answer_by_role(users, objection, credit):
    url = reverse("api:credit-api:credit-objection-answer", args=[objection.pk])
    payload = {"upheld": True, "answer": "处罚对象错误，撤下公示。"}
    assert _client(users, "yanji").post(url, payload, format="json").status_code == 404
    for role in ("enterprise", "inspector", "lab", "consumer"):
        assert _client(users, role).post(url, payload, format="json").status_code == 403, role
    blank = _client(users, "nanguan").post(url, {"upheld": True, "answer": ""}, format="json")
    assert blank.status_code == 400 and blank.json()["error"]["code"] == "answer_required"
    response = _client(users, "nanguan").post(url, payload, format="json")
    assert response.status_code == 200 and response.json()["status"] == "upheld"
    assert CreditRecord.objects.get(pk=credit["fine"].pk).state == CreditRecord.State.REVOKED
    again = _client(users, "nanguan").post(url, payload, format="json")
    assert again.status_code == 400 and again.json()["error"]["code"] == "objection_closed"


# --- statements --------------------------------------------------------------------------------------

def test_statement_create_by_role(users, credit):
    url = reverse("api:credit-api:credit-statement-list")
    payload = {"record": credit["fine"].pk, "text": "已整改。"}
    for role in ("admin", "nanguan", "inspector", "lab", "consumer"):
        assert _client(users, role).post(url, payload, format="json").status_code == 403, role
    other = _client(users, "enterprise").post(url, {"record": credit["other"].pk, "text": "说明"}, format="json")
    assert other.status_code == 400 and other.json()["error"]["code"] == "unknown_record"
    too_long = _client(users, "enterprise").post(url, {"record": credit["fine"].pk, "text": "说" * 2001},
                                                 format="json")
    assert too_long.status_code == 400 and too_long.json()["error"]["code"] == "statement_too_long"
    created = _client(users, "enterprise").post(url, payload, format="json")
    assert created.status_code == 201 and created.json()["text"] == "已整改。"
    assert EntityStatement.objects.filter(record=credit["fine"]).count() == 1


def test_statement_list_detail_and_hide_by_role(users, credit):
    statement = query.submit_statement(credit["fine"], users["enterprise"], "已整改。")
    url = reverse("api:credit-api:credit-statement-list")
    for role in ROLES:
        response = _client(users, role).get(url)
        if role in ("admin", "province", "changchun", "nanguan", "inspector", "enterprise"):
            assert [row["id"] for row in response.json()["results"]] == [statement.pk], role
        elif role == "yanji":
            assert response.json()["results"] == []
        else:
            assert response.status_code == 403, role
    detail = reverse("api:credit-api:credit-statement-detail", args=[statement.pk])
    assert _client(users, "enterprise").get(detail).status_code == 200
    assert _client(users, "yanji").get(detail).status_code == 404
    hide = reverse("api:credit-api:credit-statement-hide", args=[statement.pk])
    assert _client(users, "yanji").post(hide, {"reason": "不当"}, format="json").status_code == 404
    assert _client(users, "enterprise").post(hide, {"reason": "不当"}, format="json").status_code == 403
    assert _client(users, "inspector").post(hide, {"reason": "不当"}, format="json").status_code == 403
    response = _client(users, "nanguan").post(hide, {"reason": "含侮辱性内容"}, format="json")
    assert response.status_code == 200 and response.json()["visible"] is False
