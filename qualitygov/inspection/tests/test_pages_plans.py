"""Planning pages (issue 3, items 1–3): a plan made, budgeted, refused and issued through the pages, its
quotas drawn into tasks, the draw re-run and published, samplers drawn, and the scope every role sees."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json

import pytest
from django.urls import reverse

from qualitygov.core.audit import acting_as
from qualitygov.core.models import AuditLog, ProductCategory, Region
from qualitygov.inspection import draw, planning
from qualitygov.inspection.catalogue import rule_in_force
from qualitygov.inspection.models import (
    ImplementationRule,
    InspectionPlan,
    InspectionTask,
    PlanQuota,
    RandomDraw,
    TestItem,
)
from qualitygov.inspection.tests.fixtures import CEMENT, TODAY, YEAR, approved_plan
from qualitygov.registry.models import MarketEntity

pytestmark = pytest.mark.django_db

YEAR = YEAR


def plan_post(**overrides) -> dict:
    data = {"title": f"{YEAR}年长春市水泥产品质量监督抽查", "period": "year", "year": YEAR, "quarter": "",
            "starts_on": f"{YEAR}-01-01", "ends_on": f"{YEAR}-12-31", "budget_cny": "10000", "notes": ""}
    data.update(overrides)
    return data


def quota_post(lab, **overrides) -> dict:
    data = {"category": CEMENT, "region": "220104", "stage": "production", "batches": 2, "unit_cost_cny": "1500",
            "lab": lab.pk}
    data.update(overrides)
    return {f"quota-{key}": value for key, value in data.items()}


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def assert_sees_nothing(response) -> None:
    """Refused outright, or a list with no rows. (Plans, tasks and draws fall back to the default role
    table for enterprise users, which grants "view" with an empty scope; see the report to the lead.)"""
    assert response.status_code in (200, 403)
    if response.status_code == 200:
        assert response.context["total"] == 0 and len(response.context["table"].rows) == 0


def make_plan(user, region: str, title: str = "测试计划", budget: str = "50000") -> InspectionPlan:
    with acting_as(user):
        return planning.create_plan(user=user, title=title, period="year", year=YEAR, starts_on=dt.date(YEAR, 1, 1),
                                    ends_on=dt.date(YEAR, 12, 31), budget_cny=decimal.Decimal(budget),
                                    region=Region.objects.get(pk=region))


def test_plan_from_creation_to_drawn_tasks_through_the_pages(workflow, login):
    client = login("changchun")
    users = workflow.users

    # A city officer plans for the city: the form has no region to choose.
    page = client.get(reverse("inspection:inspectionplan_add"))
    assert page.status_code == 200 and "region" not in page.context["form"].fields
    response = client.post(reverse("inspection:inspectionplan_add"), plan_post(labs=[workflow.lab1.pk]))
    plan = InspectionPlan.objects.get(title=f"{YEAR}年长春市水泥产品质量监督抽查")
    assert response.status_code == 302 and response["Location"] == reverse("inspection:inspectionplan_detail",
                                                                            args=[plan.pk])
    assert (plan.region_id, plan.status, plan.created_by) == ("220100", "draft", users["changchun"])
    assert list(plan.labs.all()) == [workflow.lab1]

    # Over budget: refused with the service's Chinese message beside the form, nothing written.
    add_quota = reverse("inspection:planquota_add", args=[plan.pk])
    refused = client.post(add_quota, quota_post(workflow.lab1, batches=10))
    assert refused.status_code == 400
    text = refused.content.decode()
    assert "计划费用 15,000.00 元超出预算 10,000.00 元（超出 5,000.00 元）" in text
    assert 'id="qg-quota-errors"' in text
    assert not PlanQuota.objects.filter(plan=plan).exists()

    response = client.post(add_quota, quota_post(workflow.lab1, batches=2))
    assert response.status_code == 302
    quota = PlanQuota.objects.get(plan=plan)
    assert (quota.batches, quota.region_id, quota.rule_version) == (2, "220104", rule_in_force(CEMENT, TODAY))
    detail = client.get(reverse("inspection:inspectionplan_detail", args=[plan.pk]))
    assert detail.context["planned_cost"] == decimal.Decimal("3000.00")
    assert str(quota.rule_version) in detail.content.decode()

    # Issue the plan; quotas can no longer be added, the draw button appears.
    response = client.post(reverse("inspection:inspectionplan_approve", args=[plan.pk]), follow=True)
    plan.refresh_from_db()
    assert plan.status == InspectionPlan.Status.APPROVED
    assert response.context["quota_form"] is None
    assert reverse("inspection:planquota_draw", args=[quota.pk]) in response.content.decode()
    late = client.post(add_quota, quota_post(workflow.lab1, stage="circulation"))
    assert late.status_code == 400 and f"计划 {plan.code} 已下达，不能再修改任务分配。" in late.content.decode()
    assert PlanQuota.objects.filter(plan=plan).count() == 1

    # Draw with a fresh seed: one task per batch, all cement makers of 朝阳区.
    response = client.post(reverse("inspection:planquota_draw", args=[quota.pk]), {"seed": ""}, follow=True)
    tasks = list(InspectionTask.objects.filter(quota=quota).order_by("draw_rank").select_related("entity"))
    assert len(tasks) == 2
    chaoyang = {entity.pk for entity in workflow.chaoyang}
    assert {task.entity_id for task in tasks} <= chaoyang
    record = tasks[0].entity_draw
    assert any(f"随机种子 {record.seed}" in message for message in messages_of(response))
    page = response.content.decode()
    assert all(task.entity.uscc in page for task in tasks)

    # A second draw of the same quota is refused.
    again = client.post(reverse("inspection:planquota_draw", args=[quota.pk]), {"seed": "1"}, follow=True)
    assert any("该任务分配已完成抽取" in message for message in messages_of(again))
    assert RandomDraw.objects.filter(kind="entities", title__startswith=plan.code).count() == 1

    # The draw record lists the drawn entities in rank order with every input.
    detail = client.get(reverse("inspection:randomdraw_detail", args=[record.pk]))
    text = detail.content.decode()
    positions = [text.index(task.entity.uscc) for task in tasks]
    assert positions == sorted(positions)
    labels = dict((label, value) for label, value, _code in detail.context["input_rows"])
    assert labels["随机种子"] == str(record.seed)
    assert labels["产品类别"] == "0601 水泥"
    assert "朝阳区" in labels["区域"]
    assert labels["候选数量"] == "3"
    assert labels["六个月内已抽查排除期起始日"] == (TODAY - planning.SIX_MONTHS).isoformat()

    # Re-run: identical, and the record is not modified.
    before = RandomDraw.objects.filter(pk=record.pk).values("outputs_digest", "updated", "published").get()
    rerun = client.post(reverse("inspection:randomdraw_rerun", args=[record.pk]))
    assert rerun.status_code == 200 and rerun.context["rerun"]["identical"] is True
    assert 'data-identical="1"' in rerun.content.decode()
    partial = client.post(reverse("inspection:randomdraw_rerun", args=[record.pk]), HTTP_HX_REQUEST="true")
    assert 'data-identical="1"' in partial.content.decode() and "<html" not in partial.content.decode()
    assert RandomDraw.objects.filter(pk=record.pk).values("outputs_digest", "updated", "published").get() == before

    # Samplers: the city's two inspectors (neither from 朝阳区, neither a tester) for each task.
    response = client.post(reverse("inspection:planquota_draw_inspectors", args=[quota.pk]), {"seed": "99"},
                           follow=True)
    assert any("已为 2 项任务抽取抽样人员（随机种子 99）" in message for message in messages_of(response))
    expected = {users["inspector"].pk, workflow.inspectors[1].pk}
    for task in tasks:
        task.refresh_from_db()
        assert set(task.inspectors.values_list("pk", flat=True)) == expected
        assert task.inspector_draw.seed == 99 and task.inspector_draw.kind == "inspectors"
    assert workflow.inspectors[1].display_name in response.content.decode()


def test_a_stored_seed_recreates_the_draw_and_a_bad_seed_is_refused(workflow, login):
    client = login("province")
    quota = workflow.quota  # the province's issued quota: 3 batches in 南关区
    bad = client.post(reverse("inspection:planquota_draw", args=[quota.pk]), {"seed": "-5"}, follow=True)
    assert bad.status_code == 200 and not quota.tasks.exists() and not RandomDraw.objects.exists()
    assert any(message.startswith("随机种子：") for message in messages_of(bad))

    client.post(reverse("inspection:planquota_draw", args=[quota.pk]), {"seed": "424242"})
    record = RandomDraw.objects.get(kind="entities")
    assert record.seed == 424242
    inputs = record.inputs
    direct = draw.draw_entities(seed=424242, count=3, categories=[CEMENT], region_prefix="220102",
                                exclude_entity_ids=inputs["exclude_entity_ids"],
                                exclude_sampled_since=dt.date.fromisoformat(inputs["exclude_sampled_since"]))
    drawn = list(quota.tasks.order_by("draw_rank").values_list("entity__uscc", flat=True))
    assert drawn == direct.usccs

    # The JSON download holds everything needed to run it again offline.
    response = client.get(reverse("inspection:randomdraw_json", args=[record.pk]))
    assert response["Content-Disposition"].startswith("attachment")
    body = json.loads(response.content)
    assert body["seed"] == 424242 and body["algorithm"] == draw.ALGORITHM_VERSION
    assert [item["uscc"] for item in body["outputs"]["items"]] == drawn
    assert body["inputs"]["candidate_digest"] == record.candidate_digest


def test_rerun_lists_the_differences_when_the_registry_changed(workflow, login):
    province = workflow.users["province"]
    with acting_as(province):
        record, tasks = planning.draw_quota(workflow.quota, user=province, seed=5)
    # One drawn entity closes down: it is no longer a candidate.
    MarketEntity.objects.filter(pk=tasks[0].entity_id).update(status=MarketEntity.Status.CANCELLED)
    response = login("province").post(reverse("inspection:randomdraw_rerun", args=[record.pk]))
    rerun = response.context["rerun"]
    assert rerun["identical"] is False
    assert any("候选数量由" in difference for difference in rerun["differences"])
    assert 'data-identical="0"' in response.content.decode()
    assert "候选集合已变化" in response.content.decode()


def test_art15_conflict_and_missing_rule_are_refused_beside_the_form(workflow, login):
    client = login("nanguan")
    client.post(reverse("inspection:inspectionplan_add"), plan_post(title="南关区水泥抽查", budget_cny="50000"))
    plan = InspectionPlan.objects.get(title="南关区水泥抽查")
    assert plan.region_id == "220102"
    add_quota = reverse("inspection:planquota_add", args=[plan.pk])

    # The province checks cement in 南关区 this year (workflow.plan): the county may not check it again.
    refused = client.post(add_quota, quota_post(workflow.lab1, region="220102"))
    assert refused.status_code == 400
    text = refused.content.decode()
    assert "上级监督抽查的产品，下级不得另行重复抽查（《产品质量法》第十五条）" in text
    assert workflow.plan.code in text

    # A category without an implementation rule in force.
    ruled = ImplementationRule.objects.values_list("category_id", flat=True)
    bare = ProductCategory.objects.filter(parent__isnull=False).exclude(code__in=ruled).order_by("code").first()
    refused = client.post(add_quota, quota_post(workflow.lab1, region="220102", category=bare.code))
    assert refused.status_code == 400
    assert "没有有效的实施细则版本" in refused.content.decode()

    # A region outside the county is not even offered.
    refused = client.post(add_quota, quota_post(workflow.lab1, region="220104"))
    assert refused.status_code == 400 and "region" in refused.context["quota_form"].errors
    assert not PlanQuota.objects.filter(plan=plan).exists()


def test_county_officer_sees_only_county_plans_and_county_tasks(workflow, login):
    users = workflow.users
    own = make_plan(users["nanguan"], "220102", title="南关区计划")
    city = make_plan(users["changchun"], "220100", title="长春市计划")
    with acting_as(users["province"]):
        planning.draw_quota(workflow.quota, user=users["province"], seed=11)

    client = login("nanguan")
    listing = client.get(reverse("inspection:inspectionplan_list"))
    codes = {row.record.code for row in listing.context["table"].rows}
    assert codes == {own.code}
    assert client.get(reverse("inspection:inspectionplan_detail", args=[city.pk])).status_code == 404
    assert client.get(reverse("inspection:inspectionplan_detail", args=[workflow.plan.pk])).status_code == 404

    # Tasks are scoped by the sampled entity: the province's tasks in 南关区 are the county's to see.
    tasks = client.get(reverse("inspection:inspectiontask_list"))
    seen = {row.record.pk for row in tasks.context["table"].rows}
    assert seen == set(workflow.quota.tasks.values_list("pk", flat=True)) and len(seen) == 3
    # ...but not the province plan page, so the task page does not link to it.
    task = workflow.quota.tasks.first()
    detail = client.get(reverse("inspection:inspectiontask_detail", args=[task.pk]))
    assert detail.status_code == 200 and detail.context["plan_visible"] is False

    # The city officer sees the city's and the county's plans, not the province's.
    listing = login("changchun").get(reverse("inspection:inspectionplan_list"))
    assert {row.record.code for row in listing.context["table"].rows} == {own.code, city.code}


def test_enterprise_sees_none_of_the_planning_pages_but_the_catalogue(workflow, login):
    with acting_as(workflow.users["province"]):
        record, tasks = planning.draw_quota(workflow.quota, user=workflow.users["province"], seed=3)
    client = login("enterprise")
    plan = workflow.plan
    assert_sees_nothing(client.get(reverse("inspection:inspectionplan_list")))
    assert client.get(reverse("inspection:inspectionplan_add")).status_code == 403
    assert client.get(reverse("inspection:inspectionplan_detail", args=[plan.pk])).status_code == 404
    assert client.get(reverse("inspection:inspectionplan_history", args=[plan.pk])).status_code == 404
    assert client.post(reverse("inspection:inspectionplan_approve", args=[plan.pk])).status_code == 404
    assert_sees_nothing(client.get(reverse("inspection:inspectiontask_list")))
    assert_sees_nothing(client.get(reverse("inspection:randomdraw_list")))
    assert client.get(reverse("inspection:inspectiontask_detail", args=[tasks[0].pk])).status_code == 404
    assert client.get(reverse("inspection:randomdraw_detail", args=[record.pk])).status_code == 404
    assert client.get(reverse("inspection:randomdraw_json", args=[record.pk])).status_code == 404
    assert client.post(reverse("inspection:randomdraw_rerun", args=[record.pk])).status_code == 404
    assert client.get(reverse("inspection:testinglab_list")).status_code == 403
    assert client.get(reverse("inspection:implementationrule_list")).status_code == 200


def test_inspector_reads_plans_but_cannot_act_and_sees_own_tasks_first(workflow, login):
    users = workflow.users
    plan, quota = _city_plan_with_drawn_tasks(workflow)
    inspector = login("inspector")

    # Read-only: no add button, add page refused, no draw or approve buttons on the plan.
    listing = inspector.get(reverse("inspection:inspectionplan_list"))
    assert listing.status_code == 200 and listing.context["can_add"] is False
    assert inspector.get(reverse("inspection:inspectionplan_add")).status_code == 403
    detail = inspector.get(reverse("inspection:inspectionplan_detail", args=[plan.pk]))
    assert detail.context["can_approve"] is False and not any(q.can_draw_inspectors for q in detail.context["quotas"])
    assert inspector.post(reverse("inspection:planquota_draw_inspectors", args=[quota.pk])).status_code == 404

    # The inspector is one of the two drawn for each task of the city quota.
    mine = set(InspectionTask.objects.filter(inspectors=users["inspector"]).values_list("pk", flat=True))
    assert mine == set(quota.tasks.values_list("pk", flat=True))
    # Tasks of another plan in the inspector's city, without samplers yet.
    other = _drawn_province_quota(workflow, "220104", stage="circulation")
    rows = [row.record.pk for row in inspector.get(reverse("inspection:inspectiontask_list")).context["table"].rows]
    assert set(rows) == mine | set(other.tasks.values_list("pk", flat=True))
    assert set(rows[:len(mine)]) == mine  # own tasks first
    only = inspector.get(reverse("inspection:inspectiontask_list"), {"mine": "1"})
    assert {row.record.pk for row in only.context["table"].rows} == mine

    # The task page leads on to the sampling record and the refusal record.
    task = quota.tasks.order_by("draw_rank").first()
    page = inspector.get(reverse("inspection:inspectiontask_detail", args=[task.pk])).content.decode()
    assert f'{reverse("inspection:sample_add")}?task={task.pk}' in page
    assert f'{reverse("inspection:sample_refusal_add")}?task={task.pk}' in page
    assert users["inspector"].display_name in page


def test_publishing_a_draw_is_for_officers_and_audited(workflow, login):
    province = workflow.users["province"]
    with acting_as(province):
        record, _tasks = planning.draw_quota(workflow.quota, user=province, seed=8)
    publish = reverse("inspection:randomdraw_publish", args=[record.pk])
    assert login("inspector").post(publish, {"published": "1"}).status_code == 404
    record.refresh_from_db()
    assert record.published is False

    client = login("province")
    detail = client.get(reverse("inspection:randomdraw_detail", args=[record.pk]))
    assert detail.context["can_publish"] is True
    client.post(publish, {"published": "1"})
    record.refresh_from_db()
    assert record.published is True
    entry = AuditLog.objects.filter(object_id=str(record.pk), content_type__model="randomdraw",
                                    action=AuditLog.Action.UPDATE).latest("id")
    assert entry.after == {"published": True} and entry.username == "province"
    history = client.get(reverse("inspection:randomdraw_history", args=[record.pk]))
    assert history.status_code == 200 and entry in history.context["entries"]
    client.post(publish, {"published": "0"})
    record.refresh_from_db()
    assert record.published is False


def test_plan_edit_only_for_drafts_and_budget_not_below_planned_cost(workflow, login):
    users = workflow.users
    client = login("changchun")
    client.post(reverse("inspection:inspectionplan_add"), plan_post(title="待编辑计划", labs=[workflow.lab1.pk]))
    plan = InspectionPlan.objects.get(title="待编辑计划")
    client.post(reverse("inspection:planquota_add", args=[plan.pk]), quota_post(workflow.lab1, batches=4))
    edit = reverse("inspection:inspectionplan_edit", args=[plan.pk])
    data = {"title": "已编辑计划", "starts_on": f"{YEAR}-03-01", "ends_on": f"{YEAR}-11-30", "budget_cny": "5000",
            "labs": [workflow.lab1.pk], "notes": ""}
    refused = client.post(edit, data)
    assert refused.status_code == 400 and "budget_cny" in refused.context["form"].errors
    assert "6,000.00" in refused.content.decode()
    refused = client.post(edit, {**data, "budget_cny": "8000", "ends_on": f"{YEAR + 1}-01-31"})
    assert refused.status_code == 400 and "starts_on" in refused.context["form"].errors
    assert client.post(edit, {**data, "budget_cny": "8000"}).status_code == 302
    plan.refresh_from_db()
    assert (plan.title, plan.budget_cny, plan.starts_on) == ("已编辑计划", decimal.Decimal("8000"), dt.date(YEAR, 3, 1))
    history = client.get(reverse("inspection:inspectionplan_history", args=[plan.pk]))
    assert "已编辑计划" in history.content.decode()

    with acting_as(users["changchun"]):
        planning.approve_plan(plan, user=users["changchun"])
    assert client.get(edit).status_code == 403
    page = client.get(reverse("inspection:inspectionplan_detail", args=[plan.pk]))
    assert page.context["can_change_object"] is False


def test_province_admin_may_plan_for_another_region(workflow, login):
    client = login("admin")
    form = client.get(reverse("inspection:inspectionplan_add")).context["form"]
    assert "region" in form.fields
    client.post(reverse("inspection:inspectionplan_add"), plan_post(title="延吉市计划", region="222401"))
    assert InspectionPlan.objects.get(title="延吉市计划").region_id == "222401"
    # Nobody else may: a quarter outside the year window is refused by the service, beside its field.
    refused = client.post(reverse("inspection:inspectionplan_add"),
                          plan_post(title="季度计划", period="quarter", quarter="2", starts_on=f"{YEAR}-01-01",
                                    ends_on=f"{YEAR}-06-30"))
    assert refused.status_code == 400 and "starts_on" in refused.context["form"].errors
    assert "抽查时间须在计划周期" in refused.content.decode()


def test_plan_list_filters_and_exports(workflow, login):
    users = workflow.users
    make_plan(users["changchun"], "220100", title="长春市计划")
    client = login("province")
    listing = client.get(reverse("inspection:inspectionplan_list"), {"status": "approved"})
    assert {row.record.pk for row in listing.context["table"].rows} == {workflow.plan.pk}
    listing = client.get(reverse("inspection:inspectionplan_list"), {"region": "220100"})
    assert {row.record.title for row in listing.context["table"].rows} == {"长春市计划"}
    response = client.get(reverse("inspection:inspectionplan_list"), {"status": "approved", "export": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:2] == ["计划编号", "计划名称"]
    assert len(rows) == 2 and rows[1][0] == workflow.plan.code
    header = rows[0]
    assert decimal.Decimal(rows[1][header.index("计划费用（元）")]) == 4500 and rows[1][header.index("状态")] == "已下达"
    xlsx = client.get(reverse("inspection:inspectionplan_list"), {"export": "xlsx"})
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxmlformats")


def test_catalogue_pages_show_versions_and_items(workflow, login):
    client = login("enterprise")  # the rules are public reference: enterprises read them too
    rule = ImplementationRule.objects.get(category_id=CEMENT)
    version = rule_in_force(CEMENT, TODAY)
    listing = client.get(reverse("inspection:implementationrule_list"), {"category": CEMENT})
    rows = list(listing.context["table"].rows)
    assert [row.record.pk for row in rows] == [rule.pk]
    assert rows[0].record.version_in_force == version.label

    page = client.get(reverse("inspection:implementationrule_detail", args=[rule.pk]))
    text = page.content.decode()
    assert page.context["in_force"] == version
    items = list(TestItem.objects.filter(version=version))
    assert items and all(item.name in text and item.standard in text for item in items)
    numeric = next(item for item in items if item.is_numeric)
    assert numeric.limit_text() in text
    classes = {item.item_class for item in items}
    assert all(f"qg-class-{cls}" in text for cls in classes)
    assert f"检验样品 {version.test_sample_count} {version.sample_unit}" in text


def test_lab_pages_show_scope_and_staff(workflow, login):
    lab = workflow.lab1
    lab.categories.add(ProductCategory.objects.get(pk=CEMENT))
    lab.staff.add(workflow.lab2_user)
    steel = ProductCategory.objects.get(pk="0602")
    workflow.lab2.categories.add(steel)
    client = login("province")
    # lab1 declares cement; lab2 only steel bars: filtering by cement leaves lab1.
    listing = client.get(reverse("inspection:testinglab_list"), {"category": CEMENT})
    rows = list(listing.context["table"].rows)
    assert [row.record.pk for row in rows] == [lab.pk]
    assert rows[0].record.staff_count == 2
    page = client.get(reverse("inspection:testinglab_detail", args=[lab.pk]))
    text = page.content.decode()
    assert lab.accreditation_no in text and "水泥" in text
    assert workflow.plan.code in text  # the plan it tests for
    # A lab without a declared scope may be given any category (as ``planning.add_quota`` allows).
    workflow.lab2.categories.clear()
    listing = client.get(reverse("inspection:testinglab_list"), {"category": CEMENT})
    assert {row.record.pk for row in listing.context["table"].rows} == {lab.pk, workflow.lab2.pk}
    assert login("enterprise").get(reverse("inspection:testinglab_detail", args=[lab.pk])).status_code == 404


def _city_plan_with_drawn_tasks(workflow):
    """长春市's issued plan with a quota of two batches in 朝阳区, drawn, with samplers drawn."""
    officer = workflow.users["changchun"]
    plan, quota = approved_plan(officer, region="220100", quota_region="220104", batches=2, lab=workflow.lab1)
    with acting_as(officer):
        planning.draw_quota(quota, user=officer, seed=21)
        planning.draw_quota_inspectors(quota, user=officer, seed=22)
    return plan, quota


def _drawn_province_quota(workflow, region: str, stage: str):
    """A province quota of one batch in ``region``, drawn, without samplers."""
    officer = workflow.users["province"]
    _plan, quota = approved_plan(officer, region="220000", quota_region=region, batches=1, lab=workflow.lab1,
                                 stage=stage)
    with acting_as(officer):
        planning.draw_quota(quota, user=officer, seed=31)
    return quota

