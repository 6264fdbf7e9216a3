"""Spot checks in a real browser (issue 3, "Done when"): a province officer makes a plan, adds a quota,
issues it, draws the entities, re-runs the draw from its record and publishes it; a lab enters results
on the item form; the enterprise objects within the window; published results show on the public
portal without signing in."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from qualitygov.inspection import followup, publication
from qualitygov.inspection.models import InspectionPlan, InspectionTask, RandomDraw, Sample, TestReport
from qualitygov.inspection.tests.fixtures import (
    CEMENT,
    YEAR,
    first_item_of_class,
    results_for,
    take_sample,
    task_for_entity,
)

pytestmark = pytest.mark.browser


def _select_by_value_prefix(page, selector: str, prefix: str) -> None:
    value = page.eval_on_selector(selector, "(el, p) => [...el.options].find(o => o.value.startsWith(p)).value", prefix)
    page.select_option(selector, value)


def test_province_officer_plans_draws_reruns_and_publishes(signed_in, live_server, workflow):
    page = signed_in(workflow.users["province"])
    page.goto(live_server.url + reverse("inspection:inspectionplan_add"))
    page.fill("#id_title", "浏览器测试：水泥专项监督抽查")
    page.select_option("#id_period", "quarter")
    page.fill("#id_year", str(YEAR))
    page.select_option("#id_quarter", "4")
    page.fill("#id_starts_on", f"{YEAR}-10-01")
    page.fill("#id_ends_on", f"{YEAR}-12-31")
    page.fill("#id_budget_cny", "20000")
    page.check(f"#id_labs input[value=\"{workflow.lab1.pk}\"]")
    page.click("#qg-plan-form button[type=submit]")
    page.wait_for_load_state()
    page.wait_for_url(re.compile(r"/inspection/plans/\d+/$"))
    plan = InspectionPlan.objects.get(title="浏览器测试：水泥专项监督抽查")

    # A quota over budget is refused on the page, in Chinese, and nothing is written.
    page.select_option("#id_quota-category", CEMENT)
    page.select_option("#id_quota-region", "220104")
    page.fill("#id_quota-batches", "20")
    page.fill("#id_quota-unit_cost_cny", "1500")
    page.select_option("#id_quota-lab", str(workflow.lab1.pk))
    page.click("#qg-quota-form button[type=submit]")
    page.wait_for_selector("text=超出预算")
    assert not plan.quotas.exists()
    page.fill("#id_quota-batches", "2")
    page.click("#qg-quota-form button[type=submit]")
    page.wait_for_selector("#qg-approve-form")
    assert plan.quotas.get().batches == 2

    page.click("#qg-approve-form button")
    page.wait_for_selector(".qg-draw-form")
    page.click(".qg-draw-form button[type=submit]")
    page.click("main a[href^='/inspection/draws/']:text-is('抽取记录')")
    page.wait_for_url(re.compile(r"/inspection/draws/\d+/$"))
    record = RandomDraw.objects.filter(entity_tasks__quota__plan=plan).distinct().get()
    drawn = list(InspectionTask.objects.filter(quota__plan=plan).order_by("draw_rank")
                 .values_list("entity__uscc", flat=True))
    assert len(drawn) == 2
    body = page.inner_text("main")
    assert str(record.seed) in body and all(uscc in body for uscc in drawn)

    # Re-run from the stored record: the same list, said so on the page, record unchanged.
    page.click("text=重新运行核验")
    page.wait_for_selector("#qg-rerun :text('一致')")
    record.refresh_from_db()
    assert [item["uscc"] for item in record.outputs["items"]] == drawn

    page.click("#qg-publish")
    page.wait_for_selector("#qg-publish:text('取消公开')")
    public = page.context.browser.new_context(locale="zh-CN").new_page()
    public.goto(live_server.url + reverse("public-inspection:draw_detail", args=[record.pk]))
    assert all(uscc in public.inner_text("body") for uscc in drawn)
    public.context.close()


def test_lab_enters_results_enterprise_objects_and_results_publish(signed_in, new_context, live_server, workflow):
    task = task_for_entity(workflow, workflow.own)
    sample = take_sample(workflow, task)
    version = sample.rule_version
    failing = first_item_of_class(version, "B")

    lab = signed_in(workflow.users["lab"])
    lab.goto(live_server.url + reverse("inspection:result_add", args=[sample.pk]))
    lab.fill("input[name=report_number]", "BR-0001")
    lab.fill("input[name=tested_on]", (sample.sampled_on + dt.timedelta(days=3)).isoformat())
    values = results_for(version, failing=(failing,))
    first_code = next(iter(values))
    for code, item in values.items():
        if code == first_code:
            continue  # left empty: the form refuses the whole report
        if item.verdict:
            lab.select_option(f"[name=verdict_{code}]", item.verdict)
        else:
            lab.fill(f"[name=value_{code}]", str(item.value))
            lab.fill(f"[name=unit_{code}]", item.unit or "")
    lab.click("#qg-result-form button[type=submit]")
    lab.wait_for_selector("text=缺少检验项目")
    assert not TestReport.objects.filter(sample=sample).exists()
    item = values[first_code]
    if item.verdict:
        lab.select_option(f"[name=verdict_{first_code}]", item.verdict)
    else:
        lab.fill(f"[name=value_{first_code}]", str(item.value))
        lab.fill(f"[name=unit_{first_code}]", item.unit or "")
    lab.click("#qg-result-form button[type=submit]")
    lab.wait_for_url(re.compile(rf"/inspection/samples/{sample.pk}/$"))
    assert "不合格" in lab.inner_text("main")
    assert TestReport.objects.get(sample=sample).verdict == "unqualified"

    sample.refresh_from_db()
    followup.notify_result(sample, user=workflow.users["province"], on=sample.sampled_on + dt.timedelta(days=4))
    enterprise = signed_in(workflow.users["enterprise"], new_context())
    enterprise.goto(live_server.url + reverse("inspection:sample_detail", args=[sample.pk]))
    enterprise.click("#qg-confirm-receipt")
    enterprise.wait_for_selector("textarea[name$=grounds]")
    enterprise.fill("textarea[name$=grounds]", "样品在运输途中受潮，申请复检。")
    enterprise.locator("form:has(textarea[name$=grounds]) button[type=submit]").click()
    enterprise.wait_for_load_state()
    sample.refresh_from_db()
    assert sample.status == Sample.Status.OBJECTED

    # Rejected objection: the result stands, becomes final and is published after the window.
    followup.reject_objection(sample.objection, user=workflow.users["province"], reason="申请材料不全，逾期未补正")
    summary = publication.publish_due()
    assert summary["published"] == 1
    visitor = new_context().new_page()
    visitor.goto(live_server.url + reverse("public-inspection:result_list"))
    text = visitor.inner_text("body")
    assert sample.number in text or workflow.own.name in text
    visitor.goto(live_server.url + reverse("public-inspection:result_detail", args=[sample.number]))
    assert "不合格" in visitor.inner_text("body")
