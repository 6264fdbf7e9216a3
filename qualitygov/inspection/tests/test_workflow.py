"""The spot-check workflow through its services: plan rules (budget, Art. 15), draws into tasks, sampling
rules, lab results judged from the rule, objection window and re-inspection, publication to the credit
ledger, rectification and Art. 17 escalation. Pages and API are thin over these (their own tests)."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest
from django.core.exceptions import ValidationError

from qualitygov.core.audit import acting_as
from qualitygov.core.models import AuditLog, ProductCategory, Region
from qualitygov.credit.models import CreditRecord
from qualitygov.inspection import draw, followup, planning, publication, results, samples
from qualitygov.inspection.catalogue import ItemResult
from qualitygov.inspection.models import (
    CustodyEvent,
    Enforcement,
    InspectionPlan,
    InspectionTask,
    Objection,
    PlanQuota,
    Rectification,
    Sample,
    TestReport,
    Verdict,
)
from qualitygov.inspection.tests.fixtures import (
    CEMENT,
    TODAY,
    YEAR,
    approved_plan,
    first_item_of_class,
    report,
    results_for,
    take_sample,
    task_for_entity,  # noqa: F401  (pytest fixture)
)
from qualitygov.registry.models import MarketEntity

pytestmark = pytest.mark.django_db


def cement():
    return ProductCategory.objects.get(pk=CEMENT)


def region(code):
    return Region.objects.get(pk=code)


# --- plans ----------------------------------------------------------------------------------------

def test_quota_over_budget_is_refused_and_nothing_is_written(workflow):
    user = workflow.users["changchun"]
    plan = planning.create_plan(user=user, title="长春市水泥抽查", period="quarter", year=YEAR, quarter=4,
                                starts_on=dt.date(YEAR, 10, 1), ends_on=dt.date(YEAR, 12, 31),
                                budget_cny=decimal.Decimal("5000"), labs=[workflow.lab1])
    assert plan.code.startswith(f"220100-{YEAR}Q4-")
    with pytest.raises(ValidationError) as refused:
        planning.add_quota(plan, user=user, category=cement(), region=region("220104"), batches=4,
                           unit_cost_cny=decimal.Decimal("1500"), lab=workflow.lab1)
    assert "超出预算" in refused.value.messages[0] and "1,000.00" in refused.value.messages[0]
    assert not PlanQuota.objects.filter(plan=plan).exists()
    planning.add_quota(plan, user=user, category=cement(), region=region("220104"), batches=3,
                       unit_cost_cny=decimal.Decimal("1500"), lab=workflow.lab1)
    assert planning.planned_cost(plan) == decimal.Decimal("4500")


def test_lower_level_cannot_recheck_what_the_province_checks_in_the_period(workflow):
    """The province's issued plan samples cement in 南关区 this year: 长春市 cannot plan cement in 南关区
    (nor in the whole city, which contains it), but may in 朝阳区, and may plan another category."""
    user = workflow.users["changchun"]
    plan = planning.create_plan(user=user, title="长春市水泥抽查", period="year", year=YEAR,
                                starts_on=dt.date(YEAR, 1, 1), ends_on=dt.date(YEAR, 12, 31),
                                budget_cny=decimal.Decimal("90000"))
    for target in ("220102", "220100"):
        with pytest.raises(ValidationError) as refused:
            planning.add_quota(plan, user=user, category=cement(), region=region(target), batches=1,
                               unit_cost_cny=decimal.Decimal("100"), lab=workflow.lab1)
        assert refused.value.code == "higher_level_checked"
        assert "第十五条" in refused.value.messages[0] and workflow.plan.code in refused.value.messages[0]
    planning.add_quota(plan, user=user, category=cement(), region=region("220104"), batches=1,
                       unit_cost_cny=decimal.Decimal("100"), lab=workflow.lab1)
    # Next year the province's plan does not cover: allowed.
    later = planning.create_plan(user=user, title="次年", period="year", year=YEAR + 1,
                                 starts_on=dt.date(YEAR + 1, 1, 1), ends_on=dt.date(YEAR + 1, 12, 31),
                                 budget_cny=decimal.Decimal("90000"))
    planning.add_quota(later, user=user, category=cement(), region=region("220102"), batches=1,
                       unit_cost_cny=decimal.Decimal("100"), lab=workflow.lab1, on_date=dt.date(YEAR + 1, 1, 2))


def test_plan_rules_on_region_window_and_issue(workflow):
    user = workflow.users["nanguan"]
    with pytest.raises(ValidationError):
        planning.create_plan(user=user, title="x", period="quarter", year=YEAR, quarter=1,
                             starts_on=dt.date(YEAR, 3, 1), ends_on=dt.date(YEAR, 4, 30),
                             budget_cny=decimal.Decimal("1"))
    with pytest.raises(ValidationError):
        planning.create_plan(user=user, title="x", period="year", year=YEAR, region=region("220100"),
                             starts_on=dt.date(YEAR, 1, 1), ends_on=dt.date(YEAR, 2, 1),
                             budget_cny=decimal.Decimal("1"))
    plan = planning.create_plan(user=user, title="南关区", period="year", year=YEAR,
                                starts_on=dt.date(YEAR, 1, 1), ends_on=dt.date(YEAR, 12, 31),
                                budget_cny=decimal.Decimal("1000"))
    with pytest.raises(ValidationError) as refused:
        planning.add_quota(plan, user=user, category=cement(), region=region("220104"), batches=1,
                           unit_cost_cny=decimal.Decimal("1"), lab=workflow.lab1)
    assert refused.value.code == "region_outside"
    with pytest.raises(ValidationError) as refused:
        planning.approve_plan(plan, user=user)
    assert refused.value.code == "no_quotas"
    assert InspectionPlan.objects.get(pk=plan.pk).status == InspectionPlan.Status.DRAFT


def test_quota_uses_and_freezes_the_rule_version_in_force(workflow):
    version = workflow.quota.rule_version
    assert version.label == "2024版" and version.status == "in_force"
    version.refresh_from_db()
    assert version.used


# --- draws ----------------------------------------------------------------------------------------

def test_draw_makes_tasks_reproducibly_and_excludes_recently_sampled(workflow):
    user = workflow.users["province"]
    record, tasks = planning.draw_quota(workflow.quota, user=user, seed=42)
    assert len(tasks) == 3
    drawn = [item["uscc"] for item in record.outputs["items"]]
    assert set(drawn) <= {entity.uscc for entity in workflow.nanguan}
    result, identical, differences = draw.rerun_draw(record)
    assert identical, differences
    assert result.usccs == drawn
    with pytest.raises(ValidationError) as refused:
        planning.draw_quota(workflow.quota, user=user)
    assert refused.value.code == "already_drawn"

    # Sample one drawn entity: a later plan's draw (another unit, other stage) must not draw it within six months.
    task = InspectionTask.objects.filter(quota=workflow.quota).order_by("draw_rank").first()
    take_sample(workflow, task)
    plan, quota = approved_plan(user, region="220000", quota_region="220102", batches=5, lab=workflow.lab1,
                                stage="circulation")
    record2, tasks2 = planning.draw_quota(quota, user=user, seed=42)
    assert task.entity_id not in {t.entity_id for t in tasks2}
    assert task.entity_id in record2.inputs["exclude_entity_ids"]
    assert len(tasks2) == 4  # five makers in the county, one excluded


def test_inspector_draw_avoids_testers_same_county_and_declared_relations(workflow):
    user = workflow.users["province"]
    planning.draw_quota(workflow.quota, user=user, seed=3)
    task = InspectionTask.objects.filter(quota=workflow.quota).first()
    workflow.lab1.staff.add(workflow.inspectors[3])  # an inspector who also tests for the lab: never a sampler
    record = planning.draw_task_inspectors(task, user=user, seed=11)
    chosen = set(task.inspectors.values_list("username", flat=True))
    assert len(chosen) == 2
    assert workflow.inspectors[3].username not in chosen
    assert workflow.inspectors[3].pk in record.inputs["testers"]
    again, identical, _ = draw.rerun_draw(record)
    assert identical


# --- sampling ---------------------------------------------------------------------------------------

@pytest.fixture
def drawn_task(workflow):
    planning.draw_quota(workflow.quota, user=workflow.users["province"], seed=5)
    return InspectionTask.objects.filter(quota=workflow.quota).order_by("draw_rank").first()


def test_sampling_rules(workflow, drawn_task):
    version = drawn_task.quota.rule_version
    base = dict(user=workflow.inspectors[0], sampled_on=TODAY - dt.timedelta(days=1), product_name="水泥",
                batch_number="B1", test_quantity=version.test_sample_count, spare_quantity=version.spare_sample_count)
    with pytest.raises(ValidationError) as refused:
        samples.record_sample(drawn_task, inspectors=workflow.inspectors[:1], **base)
    assert refused.value.code == "too_few_samplers"
    workflow.lab1.staff.add(workflow.inspectors[1])
    with pytest.raises(ValidationError) as refused:
        samples.record_sample(drawn_task, inspectors=workflow.inspectors[:2], **base)
    assert refused.value.code == "sampler_tests"
    workflow.lab1.staff.remove(workflow.inspectors[1])
    with pytest.raises(ValidationError) as refused:
        samples.record_sample(drawn_task, inspectors=workflow.inspectors[:2],
                              **{**base, "spare_quantity": version.spare_sample_count - 1})
    assert "spare_quantity" in refused.value.message_dict
    assert not Sample.objects.exists()
    sample = samples.record_sample(drawn_task, inspectors=workflow.inspectors[:2], **base)
    assert sample.number == f"CY{base['sampled_on'].year}000001"
    assert (sample.region_id, sample.category_id, sample.stage) == (drawn_task.entity.region_id, CEMENT, "production")
    assert sample.custody.filter(event="sealed").count() == 2
    with pytest.raises(ValidationError) as refused:
        samples.record_sample(drawn_task, inspectors=workflow.inspectors[:2], **base)
    assert refused.value.code == "duplicate_sample"


def test_custody_moves_forward_only(workflow, drawn_task):
    sample = take_sample(workflow, drawn_task)
    user = workflow.inspectors[0]
    with pytest.raises(ValidationError) as refused:
        samples.add_custody_event(sample, user=user, portion="test", event="received")
    assert "寄送" in str(refused.value)
    samples.add_custody_event(sample, user=user, portion="test", event="sent")
    samples.add_custody_event(sample, user=workflow.users["lab"], portion="test", event="received")
    with pytest.raises(ValidationError):
        samples.add_custody_event(sample, user=user, portion="test", event="sent")
    with pytest.raises(ValidationError) as refused:
        samples.add_custody_event(sample, user=user, portion="test", event="returned")
    assert refused.value.code == "return_before_final"
    assert list(sample.custody.filter(portion="test").values_list("event", flat=True)) == ["sealed", "sent", "received"]


def test_refusal_is_a_final_finding_and_goes_to_credit_when_published(workflow, drawn_task):
    sample = samples.record_refusal(drawn_task, user=workflow.inspectors[0], sampled_on=TODAY,
                                    inspectors=workflow.inspectors[:2], reason="企业负责人拒绝在抽样单上签字并拒绝抽样")
    assert sample.status == Sample.Status.FINAL and sample.outcome == Sample.Outcome.REFUSED
    assert InspectionTask.objects.get(pk=drawn_task.pk).status == InspectionTask.Status.REFUSED
    summary = publication.publish_due(TODAY)
    assert summary["published"] == 1 and summary["credit_records"] == 1
    record = CreditRecord.objects.get(entity=drawn_task.entity)
    assert record.kind == "refused_sampling"
    assert publication.publish_due(TODAY)["published"] == 0
    assert CreditRecord.objects.filter(entity=drawn_task.entity).count() == 1


# --- results ----------------------------------------------------------------------------------------

def test_results_are_judged_from_the_rule_and_bad_results_change_nothing(workflow, drawn_task):
    sample = take_sample(workflow, drawn_task)
    version = sample.rule_version
    lab = workflow.users["lab"]
    good = results_for(version)
    missing = dict(good)
    missing.pop(next(iter(missing)))
    no_unit = {**good, "01": ItemResult(good["01"].value, None)}
    bad_unit = {**good, "01": ItemResult(good["01"].value, "kg")}
    for items, text in ((missing, "缺少检验项目"), (no_unit, "缺少单位"), (bad_unit, "不被接受")):
        with pytest.raises(ValidationError) as refused:
            results.enter_results(sample, user=lab, report_number="R1", tested_on=TODAY, items=items)
        assert text in str(refused.value)
    with pytest.raises(ValidationError) as refused:
        results.enter_results(sample, user=lab, report_number="R1", tested_on=TODAY, items=good, rule_version="2023版")
    assert refused.value.code == "other_rule_version"
    with pytest.raises(ValidationError) as refused:
        results.enter_results(sample, user=workflow.lab2_user, report_number="R1", tested_on=TODAY, items=good)
    assert refused.value.code == "not_lab_staff"
    assert not TestReport.objects.exists()
    sample.refresh_from_db()
    assert sample.status == Sample.Status.SAMPLED and sample.verdict == ""

    a_item = first_item_of_class(version, "A")
    report_ = results.enter_results(sample, user=lab, report_number="R1", tested_on=TODAY,
                                    items=results_for(version, failing=(a_item,)))
    assert report_.verdict == Verdict.SERIOUSLY_UNQUALIFIED
    assert [item["code"] for item in report_.failing_items] == [a_item]
    assert report_.items.count() == len(good)
    sample.refresh_from_db()
    assert (sample.status, sample.verdict) == (Sample.Status.REPORTED, Verdict.SERIOUSLY_UNQUALIFIED)
    with pytest.raises(ValidationError) as refused:
        results.enter_results(sample, user=lab, report_number="R2", tested_on=TODAY, items=good)
    assert refused.value.code == "duplicate_result"


def test_b_item_failure_is_unqualified_and_all_pass_is_no_nonconformity(workflow):
    tasks = [task_for_entity(workflow, entity) for entity in workflow.chaoyang[:2]]
    version = tasks[0].quota.rule_version
    b_item = first_item_of_class(version, "B")
    first = report(workflow, take_sample(workflow, tasks[0]), failing=(b_item,))
    second = report(workflow, take_sample(workflow, tasks[1]))
    assert first.verdict == Verdict.UNQUALIFIED and second.verdict == Verdict.NO_NONCONFORMITY


def test_upload_is_all_or_nothing(workflow):
    tasks = [task_for_entity(workflow, entity) for entity in workflow.chaoyang[:2]]
    made = [take_sample(workflow, task) for task in tasks]
    version = made[0].rule_version
    header = "抽样单编号,报告编号,检验完成日期,项目代码,实测值,单位,单项判定\n"

    def rows(sample, drop=None, unit_override=None):
        lines = []
        for code, item in results_for(version).items():
            if code == drop:
                continue
            unit = unit_override if (unit_override and item.unit) else (item.unit or "")
            lines.append(f"{sample.number},RPT-{sample.number},{TODAY.isoformat()},{code},{item.value},{unit},"
                         f"{'合格' if item.verdict else ''}\n")
        return "".join(lines)

    bad = header + rows(made[0]) + rows(made[1], drop="03") + "CY1999000999,X,2024-01-01,01,1,MPa,\n"
    reports, problems = results.parse_upload(bad.encode("utf-8-sig"), "results.csv")
    outcome = results.import_results(reports, user=workflow.users["lab"], shape_problems=problems)
    reasons = " ".join(problem["reason"] for problem in outcome.problems)
    assert "缺少检验项目" in reasons and "CY1999000999 不存在" in reasons
    assert outcome.reports == [] and not TestReport.objects.exists()

    good = header + rows(made[0]) + rows(made[1])
    reports, problems = results.parse_upload(good.encode("gb18030"), "results.csv")
    outcome = results.import_results(reports, user=workflow.users["lab"], shape_problems=problems)
    assert outcome.ok and sorted(outcome.reports) == sorted(f"RPT-{s.number}" for s in made)
    assert TestReport.objects.count() == 2


# --- follow-up --------------------------------------------------------------------------------------

@pytest.fixture
def unqualified_own(workflow):
    """The enterprise user's own entity, sampled and found unqualified (a B item), result notified."""
    task = task_for_entity(workflow, workflow.own)
    sample = take_sample(workflow, task)
    report(workflow, sample, failing=(first_item_of_class(sample.rule_version, "B"),))
    sample.refresh_from_db()
    followup.notify_result(sample, user=workflow.users["province"], on=sample.sampled_on + dt.timedelta(days=12))
    return sample


def test_objection_window_is_fifteen_days_from_receipt(workflow, unqualified_own):
    sample = unqualified_own
    enterprise = workflow.users["enterprise"]
    with pytest.raises(ValidationError) as refused:
        followup.file_objection(sample, user=enterprise, grounds="检验方法有误")
    assert refused.value.code == "not_received"
    received = dt.date(2025, 3, 3)  # a Monday; +15 days = Tuesday 18 March, a working day
    sample.notified_on = received
    followup.acknowledge_receipt(sample, user=enterprise, on=received)
    assert followup.objection_deadline(sample) == dt.date(2025, 3, 18)
    with pytest.raises(ValidationError) as refused:
        followup.file_objection(sample, user=enterprise, grounds="检验方法有误", filed_on=dt.date(2025, 3, 19))
    assert refused.value.code == "objection_late" and "2025-03-18" in refused.value.messages[0]
    assert not Objection.objects.exists()
    objection = followup.file_objection(sample, user=enterprise, grounds="检验方法有误", filed_on=dt.date(2025, 3, 18))
    assert objection.status == Objection.Status.FILED
    assert Sample.objects.get(pk=sample.pk).status == Sample.Status.OBJECTED


def test_deadline_falling_on_a_holiday_moves_to_the_next_working_day():
    # Received 16 Sep 2024: +15 days = 1 Oct 2024, National Day (holiday to 7 Oct) → 8 Oct.
    sample = Sample(received_on=dt.date(2024, 9, 16))
    assert followup.objection_deadline(sample) == dt.date(2024, 10, 8)
    # Received 2 Feb 2025 (a Sunday): +15 = 17 Feb 2025, a Monday working day.
    assert followup.objection_deadline(Sample(received_on=dt.date(2025, 2, 2))) == dt.date(2025, 2, 17)


@pytest.mark.parametrize("overturn", [True, False])
def test_reinspection_by_another_lab_overturns_or_confirms(workflow, unqualified_own, overturn):
    sample = unqualified_own
    followup.acknowledge_receipt(sample, user=workflow.users["enterprise"], on=sample.notified_on)
    objection = followup.file_objection(sample, user=workflow.users["enterprise"], grounds="样品保存不当",
                                        filed_on=sample.received_on + dt.timedelta(days=3))
    officer = workflow.users["province"]
    with pytest.raises(ValidationError) as refused:
        followup.accept_objection(objection, user=officer, lab=workflow.lab1)
    assert refused.value.code == "same_lab"
    followup.accept_objection(objection, user=officer, lab=workflow.lab2, on=objection.filed_on)
    with pytest.raises(ValidationError) as refused:  # the first lab cannot enter the re-inspection
        report(workflow, sample, kind="reinspection", number="FJ-1")
    assert refused.value.code == "not_lab_staff"
    failing = () if overturn else (first_item_of_class(sample.rule_version, "B"),)
    report(workflow, sample, kind="reinspection", number="FJ-1", user=workflow.lab2_user, failing=failing,
           tested_on=objection.filed_on + dt.timedelta(days=10))
    objection.refresh_from_db()
    sample.refresh_from_db()
    assert objection.decision == ("overturned" if overturn else "confirmed")
    assert sample.status == Sample.Status.FINAL
    assert sample.verdict == (Verdict.NO_NONCONFORMITY if overturn else Verdict.UNQUALIFIED)
    summary = publication.publish_due(TODAY)
    assert summary["published"] >= 1
    kinds = list(CreditRecord.objects.filter(entity=workflow.own).values_list("kind", flat=True))
    assert kinds == ([] if overturn else ["spot_check_unqualified"])
    assert publication.public_results().filter(pk=sample.pk).exists()


def test_results_publish_only_after_the_window(workflow, unqualified_own):
    sample = unqualified_own
    followup.acknowledge_receipt(sample, user=workflow.users["enterprise"], on=sample.notified_on)
    deadline = followup.objection_deadline(sample)
    assert publication.publish_due(deadline)["published"] == 0
    assert not publication.public_results().filter(pk=sample.pk).exists()
    summary = publication.publish_due(deadline + dt.timedelta(days=1))
    assert summary == {"finalized": 1, "published": 1, "credit_records": 1}
    sample.refresh_from_db()
    assert sample.final_on == deadline + dt.timedelta(days=1) and sample.published_on == deadline + dt.timedelta(days=1)
    record = CreditRecord.objects.get(entity=workflow.own)
    assert record.kind == "spot_check_unqualified" and sample.number in record.summary


def test_rectification_and_article_17_escalation_in_order(workflow, unqualified_own):
    sample = unqualified_own
    followup.acknowledge_receipt(sample, user=workflow.users["enterprise"], on=sample.notified_on)
    publication.publish_due(followup.objection_deadline(sample) + dt.timedelta(days=1))
    sample.refresh_from_db()
    county, province = workflow.users["nanguan"], workflow.users["province"]
    with pytest.raises(ValidationError) as refused:
        followup.escalate(sample, user=province, action="public_notice", decision_number="吉市监告〔2025〕1号")
    assert refused.value.code == "no_failed_rectification"
    start = sample.final_on
    rect = followup.order_rectification(sample, user=county, deadline=start + dt.timedelta(days=30), on=start)
    assert followup.mark_overdue(start + dt.timedelta(days=31)) == 1
    with pytest.raises(ValidationError) as refused:
        followup.escalate(sample, user=county, action="public_notice", decision_number="N1")
    assert refused.value.code == "province_only"
    with pytest.raises(ValidationError) as refused:
        followup.escalate(sample, user=province, action="suspension", decision_number="S1",
                          until=start + dt.timedelta(days=90))
    assert refused.value.code == "previous_step_missing"
    followup.escalate(sample, user=province, action="public_notice", decision_number="N1",
                      decided_on=start + dt.timedelta(days=35))
    with pytest.raises(ValidationError) as refused:  # no failed re-check after the notice yet
        followup.escalate(sample, user=province, action="suspension", decision_number="S1",
                          until=start + dt.timedelta(days=90))
    assert refused.value.code == "no_failed_recheck"
    rect2 = followup.order_rectification(sample, user=county, deadline=start + dt.timedelta(days=60),
                                         on=start + dt.timedelta(days=36))
    followup.recheck_rectification(rect2, user=county, passed=False, on=start + dt.timedelta(days=61))
    followup.escalate(sample, user=province, action="suspension", decision_number="S1",
                      decided_on=start + dt.timedelta(days=62), until=start + dt.timedelta(days=92))
    assert MarketEntity.objects.get(pk=workflow.own.pk).status == MarketEntity.Status.SUSPENDED
    rect3 = followup.order_rectification(sample, user=county, deadline=start + dt.timedelta(days=92),
                                         on=start + dt.timedelta(days=62))
    followup.recheck_rectification(rect3, user=county, passed=False, on=start + dt.timedelta(days=93))
    followup.escalate(sample, user=province, action="licence_revocation", decision_number="R1",
                      decided_on=start + dt.timedelta(days=95))
    assert MarketEntity.objects.get(pk=workflow.own.pk).status == MarketEntity.Status.REVOKED
    assert list(Enforcement.objects.filter(sample=sample).values_list("action", flat=True)) == [
        "public_notice", "suspension", "licence_revocation"]
    assert CreditRecord.objects.filter(entity=workflow.own, kind="licence_revocation").exists()
    assert Rectification.objects.get(pk=rect.pk).status == Rectification.Status.OVERDUE
    # Every step is attributed in the audit log.
    logged = AuditLog.objects.filter(object_repr__contains=sample.number)
    assert logged.filter(user=province).exists() and logged.filter(user=county).exists()


# --- scope --------------------------------------------------------------------------------------------

def test_county_officer_sees_only_the_county_plans_and_samples(workflow):
    task_nanguan = task_for_entity(workflow, workflow.nanguan[0])
    task_yanji = task_for_entity(workflow, workflow.yanji[0])
    in_nanguan, in_yanji = take_sample(workflow, task_nanguan), take_sample(workflow, task_yanji)
    county = workflow.users["nanguan"]
    own_plan = planning.create_plan(user=county, title="南关区计划", period="year", year=YEAR,
                                    starts_on=dt.date(YEAR, 1, 1), ends_on=dt.date(YEAR, 12, 31),
                                    budget_cny=decimal.Decimal("1000"))
    assert list(InspectionPlan.objects.restrict(county)) == [own_plan]
    assert set(Sample.objects.restrict(county)) == {in_nanguan}
    assert set(Sample.objects.restrict(workflow.users["yanji"])) == {in_yanji}
    assert set(Sample.objects.restrict(workflow.users["province"])) == {in_nanguan, in_yanji}
    # The enterprise sees only its own entity's samples; the lab only what was sent to it.
    assert not Sample.objects.restrict(workflow.users["enterprise"]).exists()
    assert set(Sample.objects.restrict(workflow.users["lab"])) == {in_nanguan, in_yanji}
    assert not Sample.objects.restrict(workflow.lab2_user).exists()
    assert not CustodyEvent.objects.restrict(workflow.lab2_user).exists()


def test_every_step_is_in_the_audit_log(workflow, unqualified_own):
    """A step taken outside any request is attributed to the user the service was given."""
    with acting_as(None):
        followup.acknowledge_receipt(unqualified_own, user=workflow.users["enterprise"], on=unqualified_own.notified_on)
    entry = AuditLog.objects.filter(object_id=str(unqualified_own.pk), object_repr__contains=unqualified_own.number)\
        .order_by("-id").first()
    assert entry.user == workflow.users["enterprise"]
    assert entry.action == AuditLog.Action.UPDATE


def test_update_plan_keeps_the_plan_rules(workflow):
    user = workflow.users["changchun"]
    plan = planning.create_plan(user=user, title="长春市", period="quarter", year=YEAR, quarter=4,
                                starts_on=dt.date(YEAR, 10, 1), ends_on=dt.date(YEAR, 12, 31),
                                budget_cny=decimal.Decimal("5000"), labs=[workflow.lab1, workflow.lab2])
    planning.add_quota(plan, user=user, category=cement(), region=region("220104"), batches=2,
                       unit_cost_cny=decimal.Decimal("1500"), lab=workflow.lab1)
    base = dict(user=user, title="长春市（修订）", starts_on=dt.date(YEAR, 10, 1), ends_on=dt.date(YEAR, 12, 31))
    refusals = (
        (dict(base, budget_cny=decimal.Decimal("2999.99")), "budget_below_cost"),
        (dict(base, budget_cny=decimal.Decimal("5000"), ends_on=dt.date(YEAR + 1, 1, 5)), "window"),
        (dict(base, budget_cny=decimal.Decimal("5000"), labs=[workflow.lab2]), "lab_in_use"),
    )
    for kwargs, code in refusals:
        with pytest.raises(ValidationError) as refused:
            planning.update_plan(plan, **kwargs)
        assert refused.value.code == code
    assert InspectionPlan.objects.get(pk=plan.pk).title == "长春市"
    planning.update_plan(plan, **dict(base, budget_cny=decimal.Decimal("3000"), labs=[workflow.lab1]))
    plan.refresh_from_db()
    assert (plan.title, plan.budget_cny, list(plan.labs.all())) == ("长春市（修订）", decimal.Decimal("3000"), [workflow.lab1])
    planning.approve_plan(plan, user=user)
    with pytest.raises(ValidationError) as refused:
        planning.update_plan(plan, **dict(base, budget_cny=decimal.Decimal("9000")))
    assert refused.value.code == "not_draft"
