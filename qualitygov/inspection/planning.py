"""Spot-check plans: making a plan, its quotas and budget, the Art. 15 rule, and the draws that make tasks.

Rules enforced here (pages, API, CLI and jobs all call these functions):

- A plan is issued by one unit for its own region; its quotas sample inside that region.
- The planned cost (batches × cost per batch, summed over quotas) never exceeds the budget.
- Product Quality Law Art. 15 (2nd para.): "上级监督抽查的产品，下级不得另行重复抽查". A lower-level
  quota is refused when an approved plan of a higher level has a quota for the same category (or a
  category containing it, or contained in it), in an overlapping region, in an overlapping period.
  The same rule is applied to entities when drawing (an entity in a higher-level task for the
  category in the period is not drawn again), and the six-month rule of SAMR Order 18 (the same
  product of the same producer is not sampled again within six months) excludes entities sampled
  for the category in the six months before the draw, whoever sampled them.
- A quota uses the implementation-rule version in force on the day it is planned; the version is
  frozen from then on (``catalogue.mark_used``).
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from qualitygov.core import audit
from qualitygov.core.models import AuditLog, ProductCategory, Region, User, region_prefix
from qualitygov.core.roles import Role
from qualitygov.inspection import catalogue, draw
from qualitygov.inspection.errors import Refused
from qualitygov.inspection.models import (
    InspectionPlan,
    InspectionTask,
    PlanQuota,
    RandomDraw,
    Sample,
    TestingLab,
)

__all__ = [
    "PlanRefused", "create_plan", "update_plan", "period_bounds", "add_quota", "approve_plan", "close_plan", "planned_cost",
    "higher_level_conflicts", "draw_quota", "draw_task_inspectors", "draw_quota_inspectors", "six_month_exclusions",
    "SIX_MONTHS", "set_draw_published", "published_draws",
]

# SAMR Order 18: the same product of the same producer is not sampled again within six months.
SIX_MONTHS = relativedelta(months=6)
LEVEL_RANK = {Region.Level.PROVINCE: 0, Region.Level.CITY: 1, Region.Level.COUNTY: 2}


class PlanRefused(Refused):
    """A plan, quota or draw that the rules do not allow; the message says which rule, in Chinese."""


def _inside(code: str, container: str) -> bool:
    """Whether region ``code`` lies inside region ``container`` (GB/T 2260 prefixes)."""
    return code.startswith(region_prefix(container))


def _overlap_regions(a: str, b: str) -> bool:
    return _inside(a, b) or _inside(b, a)


def _next_code(region: Region, year: int, quarter: int | None) -> str:
    stem = f"{region.code}-{year}{f'Q{quarter}' if quarter else 'Y'}-"
    taken = InspectionPlan.objects.filter(code__startswith=stem).count()
    return f"{stem}{taken + 1:03d}"


def create_plan(*, user: User, title: str, period: str, year: int, quarter: int | None = None,
                starts_on: dt.date, ends_on: dt.date, budget_cny: decimal.Decimal, region: Region | None = None,
                labs: Iterable[TestingLab] = (), notes: str = "") -> InspectionPlan:
    """Create a draft plan of the user's own unit (the province administrator may name any region).

    The window must lie inside the year (or the quarter) the plan is for.
    """
    region = region or user.region
    if region is None:
        raise PlanRefused(_("您的账号未设置所属区划，不能制定抽查计划。"), code="no_region")
    if user.role != Role.PROVINCE_ADMIN and not user.is_superuser and region.pk != user.region_id:
        raise PlanRefused(_("只能以本单位（%(region)s）的名义制定抽查计划。") % {"region": user.region},
                          code="not_own_region")
    if period == InspectionPlan.Period.QUARTER:
        if quarter not in (1, 2, 3, 4):
            raise PlanRefused({"quarter": _("季度计划须填写 1–4 季度。")}, code="quarter")
    else:
        quarter = None
    _check_window(period, year, quarter, starts_on, ends_on)
    if budget_cny is None or decimal.Decimal(budget_cny) < 0:
        raise PlanRefused({"budget_cny": _("预算不能为负数。")}, code="budget")
    with transaction.atomic():
        plan = InspectionPlan.objects.create(
            code=_next_code(region, year, quarter), title=title, region=region, period=period, year=year,
            quarter=quarter, starts_on=starts_on, ends_on=ends_on, budget_cny=budget_cny, notes=notes,
            created_by=user)
        if labs:
            plan.labs.set(labs)
    return plan


def period_bounds(period: str, year: int, quarter: int | None) -> tuple[dt.date, dt.date]:
    """First and last day of a plan's year or quarter."""
    if period == InspectionPlan.Period.QUARTER and quarter:
        first = dt.date(year, 3 * quarter - 2, 1)
        return first, first + relativedelta(months=3, days=-1)
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def _check_window(period: str, year: int, quarter: int | None, starts_on: dt.date, ends_on: dt.date) -> None:
    """The sampling window is ordered and lies inside the plan's year or quarter."""
    first, last = period_bounds(period, year, quarter)
    if starts_on > ends_on:
        raise PlanRefused({"ends_on": _("结束日期不能早于开始日期。")}, code="window")
    if starts_on < first or ends_on > last:
        raise PlanRefused({"starts_on": _("抽查时间须在计划周期（%(first)s 至 %(last)s）之内。")
                           % {"first": first.isoformat(), "last": last.isoformat()}}, code="window")


def update_plan(plan: InspectionPlan, *, user: User, title: str, starts_on: dt.date, ends_on: dt.date,
                budget_cny: decimal.Decimal, labs: Iterable[TestingLab] | None = None,
                notes: str = "") -> InspectionPlan:
    """Change a draft plan: title, window, budget, labs, notes. Period, year and issuing region made
    its code and stay. The window stays inside the period; the budget covers the quotas already
    planned; a lab that has quotas stays on the plan."""
    with transaction.atomic():
        plan = InspectionPlan.objects.select_for_update(of=("self",)).select_related("region").get(pk=plan.pk)
        _require_draft(plan)
        _check_window(plan.period, plan.year, plan.quarter, starts_on, ends_on)
        cost = planned_cost(plan)
        if budget_cny is None or decimal.Decimal(budget_cny) < cost:
            raise PlanRefused({"budget_cny": _("预算不能少于已分配任务的计划费用 %(cost)s 元。") % {"cost": f"{cost:,.2f}"}},
                              code="budget_below_cost")
        if labs is not None:
            labs = list(labs)
            needed = TestingLab.objects.filter(plan_quotas__plan=plan).exclude(pk__in=[lab.pk for lab in labs])
            if needed.exists():
                raise PlanRefused({"labs": _("检验机构“%(lab)s”已承担本计划的任务分配，不能移出。")
                                   % {"lab": needed.first().name}}, code="lab_in_use")
        with audit.attributed_to(user):
            plan.title, plan.starts_on, plan.ends_on = title, starts_on, ends_on
            plan.budget_cny, plan.notes = budget_cny, notes
            plan.save()
            if labs is not None:
                plan.labs.set(labs)
    return plan


def planned_cost(plan: InspectionPlan) -> decimal.Decimal:
    """Batches × cost per batch over the plan's quotas, computed in the database."""
    total = plan.quotas.aggregate(total=Sum(F("batches") * F("unit_cost_cny"),
                                            output_field=models.DecimalField(max_digits=18, decimal_places=2)))
    return decimal.Decimal(total["total"] or 0)


def _category_overlap_q(category_code: str, field: str = "category") -> models.Q:
    """Rows whose category (at ``field``; empty for categories themselves) contains ``category_code``
    or lies inside it (category codes are hierarchical)."""
    prefix = f"{field}__" if field else ""
    ancestors = [category_code[:length] for length in range(1, len(category_code) + 1)]
    return models.Q(**{f"{prefix}code__in": ancestors}) | models.Q(**{f"{prefix}code__startswith": category_code})


def higher_level_conflicts(plan: InspectionPlan, category: ProductCategory, region: Region):
    """Approved quotas of higher-level plans that already check ``category`` in ``region`` in the
    plan's period (Art. 15: a lower level does not re-check what a higher level checked)."""
    rank = LEVEL_RANK[plan.region.level]
    higher_regions = [code for code, level in Region.objects.filter(
        code__in=[plan.region.code[:2] + "0000", plan.region.code[:4] + "00"]).values_list("code", "level")
        if LEVEL_RANK[level] < rank]
    if not higher_regions:
        return PlanQuota.objects.none()
    candidates = (PlanQuota.objects.select_related("plan", "plan__region", "category", "region")
                  .filter(_category_overlap_q(category.code), plan__region_id__in=higher_regions,
                          plan__status__in=[InspectionPlan.Status.APPROVED, InspectionPlan.Status.CLOSED],
                          plan__starts_on__lte=plan.ends_on, plan__ends_on__gte=plan.starts_on)
                  .exclude(plan=plan))
    return [quota for quota in candidates if _overlap_regions(quota.region_id, region.code)]


def _refuse_conflicts(plan: InspectionPlan, category: ProductCategory, region: Region) -> None:
    conflicts = higher_level_conflicts(plan, category, region)
    if conflicts:
        first = conflicts[0]
        raise PlanRefused(
            _("上级监督抽查的产品，下级不得另行重复抽查（《产品质量法》第十五条）：%(plan)s 已在 %(start)s 至 %(end)s "
              "抽查 %(region)s 的“%(category)s”。")
            % {"plan": f"{first.plan.code} {first.plan.title}", "start": first.plan.starts_on.isoformat(),
               "end": first.plan.ends_on.isoformat(), "region": first.region.name, "category": first.category.name},
            code="higher_level_checked")


def _refuse_over_budget(plan: InspectionPlan, extra: decimal.Decimal = decimal.Decimal(0)) -> None:
    total = planned_cost(plan) + extra
    if total > plan.budget_cny:
        raise PlanRefused(_("计划费用 %(total)s 元超出预算 %(budget)s 元（超出 %(over)s 元）。")
                          % {"total": f"{total:,.2f}", "budget": f"{plan.budget_cny:,.2f}",
                             "over": f"{total - plan.budget_cny:,.2f}"}, code="over_budget")


def _require_draft(plan: InspectionPlan) -> None:
    if plan.status != InspectionPlan.Status.DRAFT:
        raise PlanRefused(_("计划 %(code)s 已下达，不能再修改任务分配。") % {"code": plan.code}, code="not_draft")


def add_quota(plan: InspectionPlan, *, user: User, category: ProductCategory, region: Region, batches: int,
              unit_cost_cny: decimal.Decimal, lab: TestingLab, stage: str = "production",
              on_date: dt.date | None = None) -> PlanQuota:
    """Add ``batches`` of ``category`` in ``region`` to a draft plan, tested by ``lab``.

    Refused (nothing written): a plan already issued; a region outside the plan's; a lab not
    assigned to the plan or not able to test the category; no rule version in force; over budget;
    a category a higher level checks there in the period (Art. 15).
    """
    with transaction.atomic():
        # Lock the plan: two quotas added at once must not together exceed the budget.
        plan = InspectionPlan.objects.select_for_update(of=("self",)).select_related("region").get(pk=plan.pk)
        return _add_quota_locked(plan, category=category, region=region, batches=batches,
                                 unit_cost_cny=unit_cost_cny, lab=lab, stage=stage, on_date=on_date)


def _add_quota_locked(plan, *, category, region, batches, unit_cost_cny, lab, stage, on_date) -> PlanQuota:
    _require_draft(plan)
    on_date = on_date or timezone.localdate()
    if not _inside(region.code, plan.region.code):
        raise PlanRefused({"region": _("抽样区域“%(region)s”不在计划组织单位的辖区（%(own)s）内。")
                           % {"region": region.name, "own": plan.region.name}}, code="region_outside")
    if batches is None or int(batches) < 1:
        raise PlanRefused({"batches": _("批次数至少为 1。")}, code="batches")
    if decimal.Decimal(unit_cost_cny) < 0:
        raise PlanRefused({"unit_cost_cny": _("费用不能为负数。")}, code="cost")
    if not lab.active:
        raise PlanRefused({"lab": _("检验机构“%(lab)s”已停用。") % {"lab": lab.name}}, code="lab_inactive")
    if plan.labs.exists() and not plan.labs.filter(pk=lab.pk).exists():
        raise PlanRefused({"lab": _("检验机构“%(lab)s”不是本计划的承检机构。") % {"lab": lab.name}}, code="lab_not_assigned")
    if lab.categories.exists() and not lab.categories.filter(_category_overlap_q(category.code, field="")).exists():
        raise PlanRefused({"lab": _("检验机构“%(lab)s”的检验能力范围不含“%(category)s”。")
                           % {"lab": lab.name, "category": category.name}}, code="lab_scope")
    if PlanQuota.objects.filter(plan=plan, category=category, region=region, stage=stage).exists():
        raise PlanRefused(_("该计划已为此类别、区域和环节分配了批次。"), code="duplicate_quota")
    try:
        version = catalogue.rule_in_force(category, on_date)
    except catalogue.NoRuleInForce as exc:
        raise PlanRefused({"category": exc.messages[0]}, code="no_rule_in_force") from None
    _refuse_over_budget(plan, decimal.Decimal(unit_cost_cny) * int(batches))
    _refuse_conflicts(plan, category, region)
    try:
        catalogue.mark_used(version)
    except ValidationError as exc:
        raise PlanRefused({"category": exc.messages[0]}, code="draft_rule") from None
    return PlanQuota.objects.create(plan=plan, category=category, region=region, stage=stage, batches=batches,
                                    unit_cost_cny=unit_cost_cny, lab=lab, rule_version=version)


def approve_plan(plan: InspectionPlan, *, user: User, on_date: dt.date | None = None) -> InspectionPlan:
    """Issue a draft plan (下达): it needs quotas, stays within budget, and re-checks Art. 15 now."""
    _require_draft(plan)
    quotas = list(plan.quotas.select_related("category", "region"))
    if not quotas:
        raise PlanRefused(_("计划还没有任务分配，不能下达。"), code="no_quotas")
    _refuse_over_budget(plan)
    for quota in quotas:
        _refuse_conflicts(plan, quota.category, quota.region)
    before = {"status": plan.status}
    plan.status = InspectionPlan.Status.APPROVED
    plan.approved_on = on_date or timezone.localdate()
    with audit.per_object_audit_disabled():
        plan.save(update_fields=["status", "approved_on", "updated"])
    audit.record(AuditLog.Action.UPDATE, plan, before=before,
                 after={"status": plan.status, "approved_on": plan.approved_on.isoformat()},
                 message=_("下达抽查计划。"))
    return plan


def close_plan(plan: InspectionPlan, *, user: User) -> InspectionPlan:
    """Mark an issued plan done."""
    if plan.status != InspectionPlan.Status.APPROVED:
        raise PlanRefused(_("只有已下达的计划才能办结。"), code="not_approved")
    plan.status = InspectionPlan.Status.CLOSED
    plan.save(update_fields=["status", "updated"])
    return plan


# --- draws -----------------------------------------------------------------------------------------

def six_month_exclusions(category_code: str, on_date: dt.date) -> tuple[list[int], dt.date]:
    """Entities sampled for ``category_code`` (or a category inside or containing it) in the six
    months before ``on_date``, by any unit: they are not drawn again (SAMR Order 18)."""
    since = on_date - SIX_MONTHS
    ids = (Sample.objects.filter(_category_overlap_q(category_code), sampled_on__gt=since)
           .values_list("entity_id", flat=True).distinct())
    return sorted(ids), since


def _higher_level_tasked(quota: PlanQuota) -> list[int]:
    """Entities a higher-level plan has a live task for, for this category, in an overlapping period."""
    plan = quota.plan
    rank = LEVEL_RANK[plan.region.level]
    higher = [code for code, level in Region.objects.filter(
        code__in=[plan.region.code[:2] + "0000", plan.region.code[:4] + "00"]).values_list("code", "level")
        if LEVEL_RANK[level] < rank]
    if not higher:
        return []
    return sorted(InspectionTask.objects.filter(
        _category_overlap_q(quota.category_id, field="quota__category"), quota__plan__region_id__in=higher, quota__plan__starts_on__lte=plan.ends_on,
        quota__plan__ends_on__gte=plan.starts_on).exclude(status=InspectionTask.Status.CANCELLED)
        .values_list("entity_id", flat=True).distinct())


def draw_quota(quota: PlanQuota, *, user: User, seed: int | None = None,
               on_date: dt.date | None = None, class_ratios: dict[str, float] | None = None):
    """Draw the quota's entities at random (双随机) and create one task per drawn entity.

    Candidates: operating entities in the quota's region that make a product of its category,
    minus the six-month exclusions and entities a higher level is checking. The draw record
    stores every input, so ``draw.rerun_draw`` reproduces the list. Returns ``(record, tasks)``.
    """
    with transaction.atomic():
        # Lock the quota: two officers pressing "draw" at once must not both draw.
        quota = PlanQuota.objects.select_for_update(of=("self",)).select_related("plan", "plan__region", "category",
                                                                      "region").get(pk=quota.pk)
        return _draw_quota_locked(quota, user=user, seed=seed, on_date=on_date, class_ratios=class_ratios)


def _draw_quota_locked(quota, *, user, seed, on_date, class_ratios):
    plan = quota.plan
    if plan.status != InspectionPlan.Status.APPROVED:
        raise PlanRefused(_("计划 %(code)s 尚未下达，不能抽取检查对象。") % {"code": plan.code}, code="not_approved")
    if quota.tasks.exists():
        raise PlanRefused(_("该任务分配已完成抽取（%(n)d 户）；如需核验，请在抽取记录中重新运行。")
                          % {"n": quota.tasks.count()}, code="already_drawn")
    on_date = on_date or timezone.localdate()
    excluded, since = six_month_exclusions(quota.category_id, on_date)
    excluded = sorted(set(excluded) | set(_higher_level_tasked(quota)))
    title = _("%(plan)s：%(category)s · %(region)s · %(stage)s") % {
        "plan": plan.code, "category": quota.category.name, "region": quota.region.name,
        "stage": quota.get_stage_display()}
    # Credit-risk classes (issue 4) weight the draw once the credit module has scored anyone; imported
    # here so that inspection's module graph does not depend on credit's.
    from qualitygov.credit.models import EntityScore
    from qualitygov.credit.scoring import current_risk_classes

    risk_classes = current_risk_classes if EntityScore.objects.exists() else None
    with transaction.atomic():
        try:
            record, result = draw.run_entity_draw(
                region=plan.region, drawn_by=user, seed=seed, title=title, count=quota.batches,
                categories=[quota.category_id], region_prefix=region_prefix(quota.region_id),
                class_ratios=class_ratios, exclude_entity_ids=excluded, exclude_sampled_since=since,
                risk_classes=risk_classes)
        except draw.DrawError as exc:
            raise PlanRefused(str(exc), code="draw") from exc
        # The draw record (audited on creation) lists every task's entity and rank.
        tasks = InspectionTask.objects.bulk_create([
            InspectionTask(quota=quota, entity_id=item.entity_id, entity_draw=record, draw_rank=item.rank)
            for item in result.items])
    return record, tasks


def _conflict_level() -> str | None:
    return getattr(settings, "INSPECTION_CONFLICT_REGION_LEVEL", "county") or None


def draw_task_inspectors(task: InspectionTask, *, user: User, seed: int | None = None, count: int = 2):
    """Draw ``count`` (≥ 2) samplers for a task from the plan unit's inspectors, avoiding conflicts:
    the lab's testers (samplers never test), inspectors of the entity's own region at the
    configured level (``INSPECTION_CONFLICT_REGION_LEVEL``, default county; empty to switch off),
    and declared relations. Returns the draw record."""
    if task.status != InspectionTask.Status.ASSIGNED:
        raise PlanRefused(_("该任务已不是待抽样状态，不能再抽取抽样人员。"), code="task_not_open")
    if task.inspectors.exists():
        raise PlanRefused(_("该任务已抽取抽样人员。"), code="already_drawn")
    plan = task.quota.plan
    level = _conflict_level()
    testers = list(task.quota.lab.staff.values_list("pk", flat=True))
    try:
        with transaction.atomic():
            record, result = draw.run_inspector_draw(
                region=plan.region, drawn_by=user, seed=seed, title=_("%(plan)s #%(rank)d 抽样人员") % {
                    "plan": plan.code, "rank": task.draw_rank},
                task_key=f"task:{task.pk}", pool_region=plan.region_id, count=count,
                exclude_same_region_as=task.entity.region_id if level else None, region_level=level or "county",
                entity_ids=[task.entity_id], testers=testers)
            task.inspectors.set([item.user_id for item in result.items])
            task.inspector_draw = record
            task.save(update_fields=["inspector_draw", "updated"])
    except draw.DrawError as exc:
        raise PlanRefused(str(exc), code="draw") from exc
    return record


def draw_quota_inspectors(quota: PlanQuota, *, user: User, seed: int | None = None) -> int:
    """Draw samplers for every open task of a quota that has none yet; returns how many were drawn.

    Each task gets its own record (its own task key), all from the one seed.
    """
    seed = draw.new_seed() if seed is None else seed
    drawn = 0
    with transaction.atomic():  # all the quota's tasks or none
        drawn = _draw_tasks(quota, user, seed)
    return drawn


def _draw_tasks(quota: PlanQuota, user: User, seed: int) -> int:
    drawn = 0
    for task in quota.tasks.filter(status=InspectionTask.Status.ASSIGNED, inspector_draw__isnull=True) \
            .select_related("entity", "quota__plan", "quota__lab"):
        draw_task_inspectors(task, user=user, seed=seed)
        drawn += 1
    return drawn


def set_draw_published(record: RandomDraw, *, user: User, published: bool = True) -> RandomDraw:
    """Publish (or withdraw) a draw record on the portal. Only entity draws are published: an
    inspector draw's inputs hold declared personal relations and the labs' staff lists."""
    if published and record.kind != RandomDraw.Kind.ENTITIES:
        raise PlanRefused(_("抽取检查人员的记录含利益关系申报等个人信息，不对外公开。"), code="inspector_draw_private")
    if record.published == published:
        raise PlanRefused(_("该抽取记录已公开。") if published else _("该抽取记录尚未公开。"),
                          code="already_published" if published else "not_published")
    with audit.attributed_to(user):
        record.published = published
        record.save(update_fields=["published", "updated"])
    return record


def published_draws():
    """Draw records the planning units chose to publish (for the public portal)."""
    return RandomDraw.objects.filter(published=True, kind=RandomDraw.Kind.ENTITIES)
