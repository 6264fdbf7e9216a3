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
    # Lab staff and data consumers report nothing; an officer's report needs a batch to find the producer.
    assert login("lab").get(url).status_code == 403 and login("consumer").get(url).status_code == 403
    officer = login("nanguan").post(url, {"hazard": "割伤", "aware_on": "2026-06-08", "reported_on": "2026-06-09"})
    assert officer.status_code == 400 and "据此确定生产者和产品" in officer.content.decode()
    assert Recall.objects.count() == 1


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
    no_advice = client.post(url, {**data, "plan-consumer_advice": ""})
    assert no_advice.status_code == 400 and "消费者应采取的措施" in no_advice.content.decode()
    assert "请填写消费者应采取的措施" in str(no_advice.context["steps"]["plan"][1].errors["consumer_advice"])
    assert Recall.objects.get(pk=recall.pk).status == Recall.Status.REPORTED
    assert client.post(url, data).status_code == 302
    page = client.get(url).content.decode()
    assert PLAN["consumer_advice"] in page and 'id="qg-recall-consumer-advice"' in page
    assert 'id="qg-recall-scope"' in page and registry["chaoyang"]["entity"].name in page
    assert RecallNotice.objects.filter(recall=recall, entity=registry["chaoyang"]["entity"]).exists()


def test_holder_confirms_its_notice_on_the_notices_page(login, registry, users, recall):
    """A holder's enterprise user sees its notice (not the recall's scope) and confirms it with the
    quantity returned; another entity's user cannot; lab staff see no notices."""
    from qualitygov.conftest import PASSWORD
    from qualitygov.core.models import User
    from qualitygov.core.roles import Role
    from qualitygov.registry.models import EntityMembership

    chain.build_chain(registry)
    recalls.file_plan(Recall.objects.get(pk=recall.pk), users["enterprise"], filed_on=dt.date(2026, 6, 20), **PLAN)
    holder = registry["chaoyang"]["entity"]
    notice = RecallNotice.objects.get(recall=recall, entity=holder)
    shop = User.objects.create_user(username="shop", password=PASSWORD, role=Role.ENTERPRISE)
    EntityMembership.objects.create(user=shop, entity=holder)
    url = reverse("trace:recallnotice_list")

    client = login("shop")
    page = client.get(url).content.decode()
    assert f'id="qg-notice-{notice.pk}"' in page and recall.number in page
    assert 'id="qg-recall-scope"' not in page  # the other holders' quantities stay with the officers
    too_much = {"acknowledge-notice": notice.pk, "acknowledge-quantity_returned": str(notice.quantity + 1)}
    refused = client.post(url, too_much)
    assert refused.status_code == 400 and "不能大于涉及数量" in refused.content.decode()
    assert RecallNotice.objects.get(pk=notice.pk).acknowledged_on is None
    response = client.post(url, {"acknowledge-notice": notice.pk, "acknowledge-quantity_returned": "5"})
    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.acknowledged_on == TODAY and notice.quantity_returned == 5

    # The producer's user is not the holder: the notice is not among its own, and it cannot confirm it.
    producer = login("enterprise")
    assert f'id="qg-notice-{notice.pk}"' not in producer.get(url).content.decode()
    assert producer.post(url, {"acknowledge-notice": notice.pk, "acknowledge-quantity_returned": "1"}).status_code == 403
    assert f'id="qg-notice-{notice.pk}"' not in login("lab").get(url).content.decode()


def test_officer_starts_a_recall_from_a_traced_batch(login, registry, users):
    """From the trace of a batch an officer opens the report form: producer, product and the batch's
    holders are shown, and the report is recorded for that producer; an officer outside the producer's
    region is told in Chinese and nothing is written."""
    entities = chain.build_chain(registry)
    product = registry["nanguan"]["product"]
    product.gtin = chain.PRODUCT_GTIN
    product.save()
    url = reverse("trace:recall_add")
    page = login("nanguan").get(url, {"batch": chain.PRODUCT_CLASS})
    content = page.content.decode()
    assert page.status_code == 200 and product.name in content and registry["nanguan"]["entity"].name in content
    for shop in chain.RETAIL_BOXES:
        assert f'data-gln="{chain.gln(shop)}"' in content and entities[shop].name in content
    response = login("nanguan").post(url, {"hazard": "二氧化硫残留超标", "aware_on": "2026-06-08",
                                           "reported_on": "2026-06-09", "batches": chain.PRODUCT_CLASS})
    assert response.status_code == 302
    recall = Recall.objects.get()
    assert recall.producer == registry["nanguan"]["entity"] and recall.product == product
    assert recall.handled_by == users["nanguan"] and recall.batches == [chain.PRODUCT_CLASS]
    outside = login("yanji").post(url, {"hazard": "x", "aware_on": "2026-06-08", "reported_on": "2026-06-09",
                                        "batches": chain.PRODUCT_CLASS})
    assert outside.status_code == 400 and "不在您的辖区内" in outside.content.decode()
    assert Recall.objects.count() == 1


def _running(registry, users, recall, started_on=dt.date(2026, 6, 25)):
    chain.build_chain(registry)
    recalls.investigate(recall, users["nanguan"], "确认", True)
    recalls.file_plan(Recall.objects.get(pk=recall.pk), users["enterprise"], filed_on=dt.date(2026, 6, 20), **PLAN)
    return recalls.start(Recall.objects.get(pk=recall.pk), users["enterprise"], started_on)


def test_list_badges_status_late_report_and_overdue_progress(login, registry, users):
    late = recalls.report(registry["nanguan"]["entity"], None, "割伤", dt.date(2026, 6, 1), dt.date(2026, 6, 12),
                          [chain.PRODUCT_CLASS], users["enterprise"])
    running = recalls.report(registry["nanguan"]["entity"], None, "二氧化硫超标", dt.date(2026, 6, 8),
                             dt.date(2026, 6, 9), [chain.PRODUCT_CLASS], users["enterprise"])
    running = _running(registry, users, running, started_on=dt.date(2026, 6, 25))  # due 2026-09-25, passed
    page = login("nanguan").get(reverse("trace:recall_list")).content.decode()
    row_late = page.split(f'data-number="{late.number}"')[1].split("</tr>")[0]
    row_running = page.split(f'data-number="{running.number}"')[1].split("</tr>")[0]
    assert 'data-badge="report-late"' in row_late and 'data-badge="overdue"' not in row_late
    assert 'data-badge="overdue"' in row_running and "2026-09-25" in row_running
    assert 'data-badge="report-late"' not in row_running and str(Recall.Status.IN_PROGRESS.label) in row_running
    overdue_only = login("nanguan").get(reverse("trace:recall_list"), {"overdue": "yes"}).content.decode()
    assert running.number in overdue_only and late.number not in overdue_only


def test_report_page_by_role(login, registry, users, recall):
    running = _running(registry, users, recall)
    url = reverse("trace:recall_report")
    page = login("nanguan").get(url).content.decode()
    progress = page.split('id="qg-report-progress"')[1].split("</table>")[0]
    assert running.number in progress and 'data-badge="overdue"' in progress and "2026-09-25" in progress
    assert running.number not in login("yanji").get(url).content.decode()
    assert running.number in login("enterprise").get(url).content.decode()  # the producer's own recall
    assert login("lab").get(url).status_code == 403 and login("consumer").get(url).status_code == 403


def test_detail_shows_quantity_in_scope_and_effectiveness(login, registry, users, recall):
    running = _running(registry, users, recall)
    recalls.report_progress(running, users["enterprise"], dt.date(2026, 9, 20), 250, "已回收 250 盒")
    page = login("nanguan").get(reverse("trace:recall_detail", args=[recall.pk])).content.decode()
    in_scope = sum(chain.RETAIL_BOXES.values())
    assert f'id="qg-quantity-in-scope">{in_scope}<' in page
    assert f'id="qg-effectiveness">{round(250 * 100 / in_scope)}%<' in page
