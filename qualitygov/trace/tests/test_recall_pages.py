"""Recall pages (issue 5, item 6): list scope and filters, the report form, the detail page's steps by
role, a refused plan shown in Chinese with nothing written, the holder's acknowledgement."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from qualitygov.trace import recalls
from qualitygov.trace.models import Recall, RecallNotice
from qualitygov.trace.tests import chain
from qualitygov.trace.tests.test_recalls import PLAN, TODAY

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(recalls, "_today", lambda: TODAY)


@pytest.fixture
def recall(registry, users):
    return recalls.report(registry["nanguan"]["entity"], None, "二氧化硫超标", dt.date(2026, 6, 8),
                          dt.date(2026, 6, 9), [chain.PRODUCT_CLASS], users["enterprise"])


def test_list_scope_and_filter(login, users, recall):
    url = reverse("trace:recall_list")
    assert recall.number in login("nanguan").get(url).content.decode()
    assert recall.number not in login("yanji").get(url).content.decode()
    assert recall.number not in login("nanguan").get(url, {"status": "completed"}).content.decode()
    assert recall.number in login("enterprise").get(url, {"status": "reported"}).content.decode()


def test_report_form(login, registry, users):
    client = login("enterprise")
    url = reverse("trace:recall_add")
    bad = client.post(url, {"hazard": "割伤", "aware_on": "2026-06-08", "reported_on": "2026-06-09",
                            "batches": chain.SOLD_ITEM})
    assert bad.status_code == 400 and "第 1 行" in bad.content.decode()
    assert not Recall.objects.exists()
    ok = client.post(url, {"hazard": "割伤", "aware_on": "2026-06-08", "reported_on": "2026-06-09",
                           "batches": chain.PRODUCT_CLASS})
    assert ok.status_code == 302 and Recall.objects.get().batches == [chain.PRODUCT_CLASS]
    assert login("nanguan").get(url).status_code == 403


def test_detail_steps_by_role(login, users, recall):
    url = reverse("trace:recall_detail", args=[recall.pk])
    officer = login("nanguan").get(url).content.decode()
    assert 'id="step-investigate"' in officer and 'id="step-plan"' in officer
    producer = login("enterprise").get(url).content.decode()
    assert 'id="step-investigate"' not in producer and 'id="step-plan"' in producer
    assert login("yanji").get(url).status_code == 404
    refused = login("enterprise").post(url, {"step": "investigate", "investigate-findings": "x"})
    assert refused.status_code == 403


def test_plan_refusal_and_scope_shown(login, registry, users, recall):
    chain.build_chain(registry)
    url = reverse("trace:recall_detail", args=[recall.pk])
    client = login("enterprise")
    response = client.post(url, {"step": "plan", "plan-quantity_made": "1000"})
    assert response.status_code == 400 and "召回计划缺少以下内容" in response.content.decode()
    assert Recall.objects.get(pk=recall.pk).status == Recall.Status.REPORTED
    data = {"step": "plan", **{f"plan-{k}": v for k, v in PLAN.items()}}
    assert client.post(url, data).status_code == 302
    page = client.get(url).content.decode()
    assert 'id="qg-recall-scope"' in page and registry["chaoyang"]["entity"].name in page
    assert RecallNotice.objects.filter(recall=recall, entity=registry["chaoyang"]["entity"]).exists()
