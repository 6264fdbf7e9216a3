"""Roles × endpoints of the recall API (issue 5, item 6).

The recall's producer is the "nanguan" entity (南关区 220102). Who sees it: the province roles, the
长春 city officer (220100 covers 220102), the 南关区 officer, the inspector (长春, read only) and the
producer's enterprise user; the 延吉 officer (222401), lab staff and data consumers see none.
Steps: officers in the producer's region investigate, order and publish; the producer's users (or those
officers) file the plan, progress and the summary; a holder acknowledges its own notice only.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from qualitygov.trace import recalls
from qualitygov.trace.models import Recall, RecallNotice
from qualitygov.trace.tests import chain
from qualitygov.trace.tests.test_recalls import PLAN, TODAY, holder_user

pytestmark = [pytest.mark.django_db]

API_EXPECTATIONS: dict[str, str] = {
    "api:recall-api:recall-list": "GET: province, 长春, 南关区, inspector and the producer see the recall, 延吉 none, "
                                  "lab/consumer 403, anonymous 401; POST reports for the enterprise's own entity "
                                  "(201) and refuses another's (400) (test_list_by_role, test_report_via_api)",
    "api:recall-api:recall-detail": "200 in scope, 404 for 延吉 (test_detail_by_role)",
    "api:recall-api:recall-investigate": "enterprise 403, 延吉 404, 南关区 officer 200 (test_steps_via_api)",
    "api:recall-api:recall-plan": "incomplete plan 400 plan_incomplete naming the missing; complete 200 with the "
                                  "scope (test_steps_via_api)",
    "api:recall-api:recall-order": "enterprise 403, officer 200 kind ordered (test_steps_via_api)",
    "api:recall-api:recall-start": "producer 200 (test_steps_via_api)",
    "api:recall-api:recall-progress": "producer 200; quantity going down 400 bad_number (test_steps_via_api)",
    "api:recall-api:recall-complete": "producer 200 with quantity in scope and effectiveness (test_steps_via_api)",
    "api:recall-api:recall-publish": "enterprise 403; officer 200; again 400 already_published (test_steps_via_api)",
    "api:recall-api:recall-notice-acknowledge": "the holder 200, the producer 404 (not its notice) "
                                               "(test_acknowledge_via_api)",
}

ROLES = ("consumer", "lab", "enterprise", "inspector", "yanji", "nanguan", "changchun", "province", "admin")
SEES = {"enterprise", "inspector", "nanguan", "changchun", "province", "admin"}


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(recalls, "_today", lambda: TODAY)


@pytest.fixture
def recall(registry, users):
    return recalls.report(registry["nanguan"]["entity"], registry["nanguan"]["product"], "二氧化硫超标",
                          dt.date(2026, 6, 8), dt.date(2026, 6, 9), [chain.PRODUCT_CLASS], users["enterprise"])


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_list_by_role(users, recall):
    assert client_for(None).get(reverse("api:recall-api:recall-list")).status_code == 401
    for role in ROLES:
        response = client_for(users[role]).get(reverse("api:recall-api:recall-list"))
        if role in ("consumer", "lab"):
            assert response.status_code == 403, role
            continue
        assert response.status_code == 200, role
        numbers = [row["number"] for row in response.json()["results"]]
        assert numbers == ([recall.number] if role in SEES else []), role


def test_detail_by_role(users, recall):
    url = reverse("api:recall-api:recall-detail", args=[recall.pk])
    for role in ROLES:
        response = client_for(users[role]).get(url)
        expected = 200 if role in SEES else (403 if role in ("consumer", "lab") else 404)
        assert response.status_code == expected, role
    assert client_for(users["nanguan"]).get(url).json()["report_due_on"] == "2026-06-10"


def test_report_via_api(registry, users):
    url = reverse("api:recall-api:recall-list")
    body = {"hazard": "割伤风险", "aware_on": "2026-06-08", "reported_on": "2026-06-12", "batches": [chain.PRODUCT_CLASS]}
    response = client_for(users["enterprise"]).post(url, body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["producer"] == registry["nanguan"]["entity"].pk and response.json()["report_late"] is True
    other = client_for(users["enterprise"]).post(url, {**body, "producer": registry["yanji"]["entity"].pk}, format="json")
    assert other.status_code == 400 and other.json()["error"]["code"] == "unknown_producer"
    bad = client_for(users["enterprise"]).post(url, {**body, "batches": [chain.SOLD_ITEM]}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_batch"
    assert Recall.objects.count() == 1


def test_steps_via_api(registry, users, recall):
    chain.build_chain(registry)

    def post(user, step, body=None):
        return client_for(users[user]).post(reverse(f"api:recall-api:recall-{step}", args=[recall.pk]), body or {},
                                            format="json")

    assert post("enterprise", "investigate", {"findings": "x", "defect_confirmed": True}).status_code == 403
    assert post("yanji", "investigate", {"findings": "x", "defect_confirmed": True}).status_code == 404
    assert post("nanguan", "investigate", {"findings": "抽检确认", "defect_confirmed": True}).status_code == 200
    incomplete = post("enterprise", "plan", {"quantity_made": 1000})
    assert incomplete.status_code == 400
    assert incomplete.json()["error"]["code"] == "plan_incomplete" and "remedy" in incomplete.json()["error"]["details"]
    no_advice = post("enterprise", "plan", {**PLAN, "consumer_advice": "", "filed_on": "2026-06-20"})
    assert no_advice.status_code == 400 and no_advice.json()["error"]["code"] == "plan_incomplete"
    assert "consumer_advice" in no_advice.json()["error"]["details"]
    assert Recall.objects.get(pk=recall.pk).status == Recall.Status.INVESTIGATING
    plan = post("enterprise", "plan", {**PLAN, "filed_on": "2026-06-20"})
    assert plan.status_code == 200 and plan.json()["status"] == "planned"
    assert plan.json()["consumer_advice"] == PLAN["consumer_advice"]
    assert {row["entity_id"] for row in plan.json()["scope"]} >= {registry["chaoyang"]["entity"].pk}
    assert post("enterprise", "order").status_code == 403
    assert post("nanguan", "order", {"on": "2026-06-22"}).json()["kind"] == "ordered"
    assert post("enterprise", "start", {"on": "2026-06-25"}).json()["progress_due_on"] == "2026-09-25"
    progress = post("enterprise", "progress", {"period_end": "2026-09-20", "quantity_recovered": 400, "text": "进展"})
    assert progress.status_code == 200 and progress.json()["progress_due_on"] == "2026-12-20"
    down = post("enterprise", "progress", {"period_end": "2026-10-20", "quantity_recovered": 100, "text": "倒退"})
    assert down.status_code == 400 and down.json()["error"]["code"] == "bad_number"
    done = post("enterprise", "complete", {"summary": "完成", "completed_on": "2026-11-02", "quantity_recovered": 800})
    in_scope = sum(chain.RETAIL_BOXES.values())
    assert done.status_code == 200 and done.json()["quantity_in_scope"] == in_scope
    assert done.json()["effectiveness"] == 800 / in_scope
    assert post("enterprise", "publish").status_code == 403
    assert post("nanguan", "publish").json()["published"] is True
    again = post("nanguan", "publish")
    assert again.status_code == 400 and again.json()["error"]["code"] == "already_published"


def test_acknowledge_via_api(registry, users, recall):
    chain.build_chain(registry)
    recalls.investigate(recall, users["nanguan"], "确认", True)
    recalls.file_plan(Recall.objects.get(pk=recall.pk), users["enterprise"], **PLAN)
    notice = RecallNotice.objects.get(recall=recall, entity=registry["chaoyang"]["entity"])
    url = reverse("api:recall-api:recall-notice-acknowledge", args=[notice.pk])
    assert client_for(users["enterprise"]).post(url, {"quantity_returned": 5}, format="json").status_code == 404
    holder = holder_user(registry["chaoyang"]["entity"])
    response = client_for(holder).post(url, {"quantity_returned": 50}, format="json")
    assert response.status_code == 200 and float(response.json()["quantity_returned"]) == 50


def test_a_holder_sees_its_own_notice_not_the_recalls_scope(registry, users, recall, client):
    """Decision (item 4): a holder of recalled goods sees its own notice — the recall's public facts
    (product, batches, defect, remedy) and its own quantity — but not the recall itself (its scope of
    other holders and their quantities, the investigation), neither on pages nor in the API. The
    producer and the officers of its region see the scope."""
    from qualitygov.registry.models import MarketEntity

    entities = chain.build_chain(registry)
    recalls.investigate(recall, users["nanguan"], "内部调查记录", True)
    recalls.file_plan(Recall.objects.get(pk=recall.pk), users["enterprise"], **PLAN)
    distributor = holder_user(registry["chaoyang"]["entity"], "distributor_user")
    shop_entity = MarketEntity.objects.get(pk=entities["shop_yanji"].pk)
    shop = holder_user(shop_entity, "shop_user")
    own = RecallNotice.objects.get(recall=recall, entity=shop_entity)
    other = RecallNotice.objects.get(recall=recall, entity=registry["chaoyang"]["entity"])

    client.force_login(shop)
    page = client.get(reverse("trace:recallnotice_list")).content.decode()
    assert f'id="qg-notice-{own.pk}"' in page and f'id="qg-notice-{other.pk}"' not in page
    assert PLAN["remedy"] in page and chain.PRODUCT_CLASS in page
    for hidden in (registry["chaoyang"]["entity"].name, entities["shop_kuancheng"].name, 'id="qg-recall-scope"',
                   "内部调查记录"):
        assert hidden not in page, hidden
    assert client.get(reverse("trace:recall_detail", args=[recall.pk])).status_code == 404
    assert recall.number not in client.get(reverse("trace:recall_report")).content.decode()
    api = client_for(shop)
    assert api.get(reverse("api:recall-api:recall-detail", args=[recall.pk])).status_code == 404
    assert api.get(reverse("api:recall-api:recall-list")).json()["results"] == []

    client.force_login(distributor)
    page = client.get(reverse("trace:recallnotice_list")).content.decode()
    assert f'id="qg-notice-{other.pk}"' in page and shop_entity.name not in page

    # The producer and the officer of its region see the whole scope.
    for user in (users["enterprise"], users["nanguan"]):
        client.force_login(user)
        detail = client.get(reverse("trace:recall_detail", args=[recall.pk])).content.decode()
        assert 'id="qg-recall-scope"' in detail and shop_entity.name in detail
