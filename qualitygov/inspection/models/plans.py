"""Testing labs, spot-check plans (抽查计划), their quotas and the tasks a draw assigns.

A plan is issued by a regulator at province, city or county level for a year or a quarter. Its
quotas say how many batches of which category are sampled in which region at which stage, at what
cost per batch, tested by which lab under which implementation-rule version (the version in force
on the day the plan was made, frozen from then on). A task is one batch to sample at one drawn
entity, with the inspectors drawn for it. Plans are scoped by the issuing unit's region; tasks by
the sampled entity's region (a county officer sees the tasks in the county, whoever planned them).
"""

from __future__ import annotations

import decimal

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qualitygov.core.models import BaseModel, ProductCategory, Region, RestrictedQuerySet
from qualitygov.core.roles import ADD, CHANGE, EXPORT, VIEW, Role

__all__ = ["TestingLab", "InspectionPlan", "PlanQuota", "InspectionTask", "Stage", "PLAN_ROLE_ACTIONS"]

# Plans are the officers' work; inspectors and labs read the plans they work under.
PLAN_ROLE_ACTIONS: dict[str, set[str]] = {
    Role.PROVINCE_ADMIN: {VIEW, ADD, CHANGE, EXPORT},
    Role.PROVINCE_OFFICER: {VIEW, ADD, CHANGE, EXPORT},
    Role.CITY_OFFICER: {VIEW, ADD, CHANGE, EXPORT},
    Role.COUNTY_OFFICER: {VIEW, ADD, CHANGE, EXPORT},
    Role.INSPECTOR: {VIEW},
    Role.LAB_STAFF: {VIEW},
    # Enterprises see their own samples and results, not the regulator's plans and draws.
    Role.ENTERPRISE: set(),
    Role.DATA_CONSUMER: set(),
}


class Stage(models.TextChoices):
    """Where the batch is sampled (抽样环节)."""

    PRODUCTION = "production", _("生产环节")
    CIRCULATION = "circulation", _("流通环节")
    ONLINE = "online", _("电子商务")


class TestingLab(BaseModel):
    """A testing body (检验机构) accredited to test for spot checks; its staff enter results."""

    __test__ = False  # a model, not a pytest test class

    name = models.CharField(_("机构名称"), max_length=200, unique=True)
    accreditation_no = models.CharField(_("资质认定证书编号（CMA）"), max_length=32, unique=True)
    region = models.ForeignKey(Region, verbose_name=_("所在区划"), on_delete=models.PROTECT,
                               related_name="testing_labs")
    categories = models.ManyToManyField(ProductCategory, verbose_name=_("检验能力范围"), blank=True,
                                        related_name="testing_labs")
    staff = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("检验人员"), blank=True,
                                   related_name="testing_labs")
    active = models.BooleanField(_("有效"), default=True)

    objects = RestrictedQuerySet.as_manager()
    # Labs are province-wide reference records: every back-office role may read the list.
    scope_region_field = None
    scope_entity_field = None
    role_actions = {role: {VIEW} for role in Role.values} | {
        Role.PROVINCE_ADMIN: {VIEW, ADD, CHANGE}, Role.PROVINCE_OFFICER: {VIEW, ADD, CHANGE},
        Role.ENTERPRISE: set(),
    }

    class Meta:
        ordering = ["name"]
        verbose_name = pgettext_lazy("model name", "检验机构")
        verbose_name_plural = _("检验机构")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("inspection:testinglab_detail", args=[self.pk])


class InspectionPlan(BaseModel):
    """A yearly or quarterly spot-check plan of one regulator (province, city or county)."""

    class Period(models.TextChoices):
        YEAR = "year", _("年度")
        QUARTER = "quarter", _("季度")

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        APPROVED = "approved", _("已下达")
        CLOSED = "closed", _("已完成")

    code = models.CharField(_("计划编号"), max_length=32, unique=True)
    title = models.CharField(_("计划名称"), max_length=200)
    region = models.ForeignKey(Region, verbose_name=_("组织单位所在区划"), on_delete=models.PROTECT,
                               related_name="inspection_plans")
    period = models.CharField(_("计划周期"), max_length=8, choices=Period.choices)
    year = models.PositiveSmallIntegerField(_("年度"))
    quarter = models.PositiveSmallIntegerField(_("季度"), null=True, blank=True)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    budget_cny = models.DecimalField(_("预算（元）"), max_digits=14, decimal_places=2)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True)
    labs = models.ManyToManyField(TestingLab, verbose_name=_("承检机构"), blank=True, related_name="plans")
    notes = models.TextField(_("说明"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("制定人"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="inspection_plans")
    approved_on = models.DateField(_("下达日期"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_region_field = "region__code"
    scope_entity_field = None
    role_actions = PLAN_ROLE_ACTIONS

    class Meta:
        ordering = ["-year", "-quarter", "code"]
        verbose_name = pgettext_lazy("model name", "抽查计划")
        verbose_name_plural = _("抽查计划")
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_on__gte=models.F("starts_on")),
                                   name="plan_window_ordered",
                                   violation_error_message=_("结束日期不能早于开始日期。")),
            models.CheckConstraint(condition=models.Q(budget_cny__gte=0), name="plan_budget_non_negative",
                                   violation_error_message=_("预算不能为负数。")),
            models.CheckConstraint(
                condition=(models.Q(period="year", quarter__isnull=True)
                           | models.Q(period="quarter", quarter__gte=1, quarter__lte=4)),
                name="plan_quarter_matches_period",
                violation_error_message=_("季度计划须填写 1–4 季度，年度计划不填季度。")),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("inspection:inspectionplan_detail", args=[self.pk])

    @property
    def level(self) -> str:
        """Administrative level of the issuing unit: ``province``, ``city`` or ``county``."""
        return self.region.level

    @property
    def planned_cost(self) -> decimal.Decimal:
        return sum((q.planned_cost for q in self.quotas.all()), decimal.Decimal("0"))


class PlanQuota(BaseModel):
    """Batches of one category to sample in one region at one stage, under one plan."""

    plan = models.ForeignKey(InspectionPlan, verbose_name=_("抽查计划"), on_delete=models.CASCADE,
                             related_name="quotas")
    category = models.ForeignKey(ProductCategory, verbose_name=_("产品类别"), on_delete=models.PROTECT,
                                 related_name="plan_quotas")
    region = models.ForeignKey(Region, verbose_name=_("抽样区域"), on_delete=models.PROTECT,
                               related_name="plan_quotas")
    stage = models.CharField(_("抽样环节"), max_length=16, choices=Stage.choices, default=Stage.PRODUCTION)
    batches = models.PositiveIntegerField(_("批次数"))
    unit_cost_cny = models.DecimalField(_("每批次费用（元）"), max_digits=12, decimal_places=2,
                                        help_text=_("检验费与样品费之和的预算单价。"))
    lab = models.ForeignKey(TestingLab, verbose_name=_("承检机构"), on_delete=models.PROTECT,
                            related_name="plan_quotas")
    rule_version = models.ForeignKey("inspection.RuleVersion", verbose_name=_("细则版本"), on_delete=models.PROTECT,
                                     related_name="plan_quotas")

    objects = RestrictedQuerySet.as_manager()
    scope_region_field = "plan__region__code"
    scope_entity_field = None
    role_actions = PLAN_ROLE_ACTIONS

    class Meta:
        ordering = ["plan", "category", "region"]
        verbose_name = pgettext_lazy("model name", "抽查任务分配")
        verbose_name_plural = _("抽查任务分配")
        constraints = [
            models.UniqueConstraint(fields=["plan", "category", "region", "stage"], name="plan_quota_unique",
                                    violation_error_message=_("该计划已为此类别、区域和环节分配了批次。")),
            models.CheckConstraint(condition=models.Q(batches__gte=1), name="plan_quota_batches_positive",
                                   violation_error_message=_("批次数至少为 1。")),
            models.CheckConstraint(condition=models.Q(unit_cost_cny__gte=0), name="plan_quota_cost_non_negative",
                                   violation_error_message=_("费用不能为负数。")),
        ]

    def __str__(self) -> str:
        return f"{self.plan.code}：{self.category} · {self.region} · {self.batches}"

    def get_absolute_url(self) -> str:
        return reverse("inspection:inspectionplan_detail", args=[self.plan_id])

    @property
    def planned_cost(self) -> decimal.Decimal:
        return self.unit_cost_cny * self.batches


class InspectionTask(BaseModel):
    """One batch to sample at one drawn entity (抽样任务), with its drawn samplers."""

    class Status(models.TextChoices):
        ASSIGNED = "assigned", _("待抽样")
        SAMPLED = "sampled", _("已抽样")
        REFUSED = "refused", _("拒检")
        CANCELLED = "cancelled", _("已取消")

    quota = models.ForeignKey(PlanQuota, verbose_name=_("任务分配"), on_delete=models.PROTECT, related_name="tasks")
    entity = models.ForeignKey("registry.MarketEntity", verbose_name=pgettext_lazy("field", "市场主体"),
                               on_delete=models.PROTECT, related_name="inspection_tasks")
    entity_draw = models.ForeignKey("inspection.RandomDraw", verbose_name=_("抽取检查对象记录"), on_delete=models.PROTECT,
                                    related_name="entity_tasks")
    draw_rank = models.PositiveIntegerField(_("抽取序号"))
    inspectors = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("抽样人员"), blank=True,
                                        related_name="inspection_tasks")
    inspector_draw = models.ForeignKey("inspection.RandomDraw", verbose_name=_("抽取检查人员记录"), null=True,
                                       blank=True, on_delete=models.PROTECT, related_name="inspector_tasks")
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.ASSIGNED, db_index=True)
    cancel_reason = models.CharField(_("取消原因"), max_length=200, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_region_field = "entity__region__code"
    scope_entity_field = None
    role_actions = PLAN_ROLE_ACTIONS

    class Meta:
        ordering = ["quota", "draw_rank"]
        verbose_name = pgettext_lazy("model name", "抽样任务")
        verbose_name_plural = _("抽样任务")
        constraints = [
            models.UniqueConstraint(fields=["quota", "entity"], name="inspection_task_entity_once",
                                    violation_error_message=_("同一任务分配中同一市场主体只能抽取一次。")),
        ]

    def __str__(self) -> str:
        return f"{self.quota.plan.code} #{self.draw_rank} {self.entity}"

    def get_absolute_url(self) -> str:
        return reverse("inspection:inspectiontask_detail", args=[self.pk])
