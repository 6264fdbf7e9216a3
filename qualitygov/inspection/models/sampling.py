"""Sampling records (抽样单), the custody of their samples, attachments, and the labs' test reports.

A sample is taken for one task. It copies the dimensions the statistics group by (plan, category,
region, industry, entity size, stage, quarter) at the moment of sampling, so that pass rates over a
million results are one GROUP BY on one table and do not move when an entity later changes its
size or address. Its final verdict is written by the results and follow-up services only — from
the rule's judgement, never typed.

Lab staff see the samples sent to their lab (for testing, or the spare for a re-inspection);
enterprise users see their own entity's samples; officers and inspectors see their region's.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qualitygov.core.models import BaseModel, Industry, ProductCategory, Region, RestrictedQuerySet
from qualitygov.core.roles import ADD, CHANGE, EXPORT, VIEW, Role
from qualitygov.inspection.models.catalogue import Verdict
from qualitygov.inspection.models.plans import Stage

__all__ = ["Sample", "CustodyEvent", "SampleAttachment", "TestReport", "ItemResult", "SAMPLE_ROLE_ACTIONS"]

SAMPLE_ROLE_ACTIONS: dict[str, set[str]] = {
    Role.PROVINCE_ADMIN: {VIEW, ADD, CHANGE, EXPORT},
    Role.PROVINCE_OFFICER: {VIEW, ADD, CHANGE, EXPORT},
    Role.CITY_OFFICER: {VIEW, ADD, CHANGE, EXPORT},
    Role.COUNTY_OFFICER: {VIEW, ADD, CHANGE, EXPORT},
    Role.INSPECTOR: {VIEW, ADD, CHANGE, EXPORT},
    Role.LAB_STAFF: {VIEW, ADD, CHANGE},
    Role.ENTERPRISE: {VIEW},
    # Other departments read published results through the public API (a role missing from a
    # table would fall back to the default, so "none" is written out).
    Role.DATA_CONSUMER: set(),
}


class LabScopedModel(BaseModel):
    """Records that lab staff see through the lab a sample was sent to."""

    # Path from this model to the sample (empty for Sample itself).
    sample_path: str = ""

    class Meta:
        abstract = True

    @classmethod
    def apply_scope(cls, queryset, user):
        if user.role == Role.LAB_STAFF:
            prefix = f"{cls.sample_path}__" if cls.sample_path else ""
            labs = list(user.testing_labs.values_list("pk", flat=True))
            return queryset.filter(models.Q(**{f"{prefix}task__quota__lab__in": labs})
                                   | models.Q(**{f"{prefix}reports__lab__in": labs})
                                   | models.Q(**{f"{prefix}objection__reinspection_lab__in": labs})).distinct()
        return super().apply_scope(queryset, user)


class Sample(LabScopedModel):
    """One sampling record: what was taken from whom, or the refusal to let it be taken."""

    class Outcome(models.TextChoices):
        SAMPLED = "sampled", _("已抽样")
        REFUSED = "refused", _("拒检")

    class Status(models.TextChoices):
        SAMPLED = "sampled", _("已抽样")
        TESTING = "testing", _("检验中")
        REPORTED = "reported", _("已出报告")
        NOTIFIED = "notified", _("已告知")
        OBJECTED = "objected", _("复检中")
        FINAL = "final", _("结果确定")
        PUBLISHED = "published", _("已公布")

    number = models.CharField(_("抽样单编号"), max_length=32, unique=True)
    task = models.OneToOneField("inspection.InspectionTask", verbose_name=_("抽样任务"), on_delete=models.PROTECT,
                                related_name="sample")
    outcome = models.CharField(_("抽样结果"), max_length=16, choices=Outcome.choices, default=Outcome.SAMPLED)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.SAMPLED, db_index=True)
    sampled_on = models.DateField(_("抽样日期"))
    inspectors = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("抽样人员"),
                                        related_name="samples_taken")
    place = models.CharField(_("抽样地点"), max_length=200, blank=True)
    # What was sampled (blank when refused).
    product = models.ForeignKey("registry.Product", verbose_name=_("登记产品"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="samples")
    product_name = models.CharField(_("样品名称"), max_length=200, blank=True)
    brand = models.CharField(_("商标"), max_length=100, blank=True)
    specification = models.CharField(_("规格型号"), max_length=100, blank=True)
    batch_number = models.CharField(_("生产批号"), max_length=64, blank=True)
    production_date = models.DateField(_("生产日期"), null=True, blank=True)
    lot_size = models.PositiveIntegerField(_("批量"), null=True, blank=True)
    test_quantity = models.PositiveIntegerField(_("检验样品数量"), default=0)
    spare_quantity = models.PositiveIntegerField(_("备用样品数量"), default=0)
    sample_unit = models.CharField(_("计量单位"), max_length=16, blank=True)
    sample_cost_cny = models.DecimalField(_("样品费用（元）"), max_digits=12, decimal_places=2, default=0)
    cost_paid_on = models.DateField(_("样品费支付日期"), null=True, blank=True)
    refusal_reason = models.TextField(_("拒检情况"), blank=True)
    # Dimensions copied at sampling time (see the module docstring).
    plan = models.ForeignKey("inspection.InspectionPlan", verbose_name=_("抽查计划"), on_delete=models.PROTECT,
                             related_name="samples")
    entity = models.ForeignKey("registry.MarketEntity", verbose_name=pgettext_lazy("field", "市场主体"),
                               on_delete=models.PROTECT, related_name="samples")
    category = models.ForeignKey(ProductCategory, verbose_name=_("产品类别"), on_delete=models.PROTECT,
                                 related_name="samples")
    region = models.ForeignKey(Region, verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="samples")
    industry = models.ForeignKey(Industry, verbose_name=_("所属行业"), on_delete=models.PROTECT, related_name="samples")
    size_class = models.CharField(_("企业规模"), max_length=16)
    stage = models.CharField(_("抽样环节"), max_length=16, choices=Stage.choices)
    rule_version = models.ForeignKey("inspection.RuleVersion", verbose_name=_("细则版本"), on_delete=models.PROTECT,
                                     related_name="samples")
    # Result as it stands (initial report, then the re-inspection if one was made) and when it is final.
    verdict = models.CharField(_("检验结论"), max_length=24, choices=Verdict.choices, blank=True, db_index=True)
    failing_items = models.JSONField(_("不合格项目"), default=list, blank=True)
    notified_on = models.DateField(_("结果告知日期"), null=True, blank=True)
    received_on = models.DateField(_("企业收到结果日期"), null=True, blank=True)
    final_on = models.DateField(_("结果确定日期"), null=True, blank=True)
    published_on = models.DateField(_("公布日期"), null=True, blank=True, db_index=True)

    objects = RestrictedQuerySet.as_manager()
    scope_region_field = "region__code"
    scope_entity_field = "entity_id"
    role_actions = SAMPLE_ROLE_ACTIONS
    sample_path = ""

    class Meta:
        ordering = ["-sampled_on", "-id"]
        verbose_name = pgettext_lazy("model name", "抽样单")
        verbose_name_plural = _("抽样单")
        indexes = [
            models.Index(fields=["entity", "category", "sampled_on"], name="sample_entity_category_date"),
            models.Index(fields=["region", "category", "sampled_on"], name="sample_region_category_date"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.product_name or self.get_outcome_display()}"

    def get_absolute_url(self) -> str:
        return reverse("inspection:sample_detail", args=[self.pk])

    @property
    def is_refusal(self) -> bool:
        return self.outcome == self.Outcome.REFUSED

class SamplePartModel(LabScopedModel):
    """A record that belongs to one sample (custody, attachment, report): the sample's scope and page."""

    objects = RestrictedQuerySet.as_manager()
    scope_region_field = "sample__region__code"
    scope_entity_field = "sample__entity_id"
    role_actions = SAMPLE_ROLE_ACTIONS
    sample_path = "sample"

    class Meta:
        abstract = True

    def get_absolute_url(self) -> str:
        return reverse("inspection:sample_detail", args=[self.sample_id])


class CustodyEvent(SamplePartModel):
    """One step in the custody of a sample's test or spare portion (封样、寄送、接收、保存、退还)."""

    class Portion(models.TextChoices):
        TEST = "test", _("检验样品")
        SPARE = "spare", _("备用样品")

    class Event(models.TextChoices):
        SEALED = "sealed", _("封样")
        SENT = "sent", _("寄送")
        RECEIVED = "received", pgettext_lazy("custody step", "接收")
        STORED = "stored", pgettext_lazy("custody step", "保存")
        RETURNED = "returned", _("退还")

    sample = models.ForeignKey(Sample, verbose_name=_("抽样单"), on_delete=models.CASCADE, related_name="custody")
    portion = models.CharField(_("样品部分"), max_length=8, choices=Portion.choices)
    event = models.CharField(_("环节"), max_length=16, choices=Event.choices)
    happened_at = models.DateTimeField(_("时间"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("经办人"), null=True, blank=True,
                           on_delete=models.PROTECT, related_name="custody_events")
    location = models.CharField(_("地点"), max_length=200, blank=True)
    seal_number = models.CharField(_("封条编号"), max_length=64, blank=True)
    note = models.CharField(_("备注"), max_length=255, blank=True)


    class Meta:
        ordering = ["sample", "happened_at", "id"]
        verbose_name = pgettext_lazy("model name", "样品流转记录")
        verbose_name_plural = _("样品流转记录")

    def __str__(self) -> str:
        return f"{self.sample.number} {self.get_portion_display()} {self.get_event_display()}"


class SampleAttachment(SamplePartModel):
    """A photo, the signed sampling slip or another file kept with a sample."""

    class Kind(models.TextChoices):
        PHOTO = "photo", _("现场照片")
        SIGNED_SLIP = "signed_slip", _("签字抽样单")
        REFUSAL_RECORD = "refusal_record", _("拒检笔录")
        OTHER = "other", _("其他")

    sample = models.ForeignKey(Sample, verbose_name=_("抽样单"), on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(_("附件类型"), max_length=16, choices=Kind.choices)
    file = models.FileField(_("文件"), upload_to="samples/%Y/%m/")
    original_name = models.CharField(_("原文件名"), max_length=200)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("大小（字节）"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("上传人"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="sample_attachments")


    class Meta:
        ordering = ["sample", "id"]
        verbose_name = pgettext_lazy("model name", "抽样附件")
        verbose_name_plural = _("抽样附件")

    def __str__(self) -> str:
        return f"{self.sample.number} {self.get_kind_display()} {self.original_name}"


class TestReport(SamplePartModel):
    """A lab's test report on a sample: the initial test or the re-inspection on the spare."""

    __test__ = False  # a model, not a pytest test class

    class Kind(models.TextChoices):
        INITIAL = "initial", _("初检")
        REINSPECTION = "reinspection", _("复检")

    sample = models.ForeignKey(Sample, verbose_name=_("抽样单"), on_delete=models.PROTECT, related_name="reports")
    kind = models.CharField(_("检验类型"), max_length=16, choices=Kind.choices, default=Kind.INITIAL)
    lab = models.ForeignKey("inspection.TestingLab", verbose_name=_("检验机构"), on_delete=models.PROTECT,
                            related_name="reports")
    report_number = models.CharField(_("检验报告编号"), max_length=64, unique=True)
    rule_version = models.ForeignKey("inspection.RuleVersion", verbose_name=_("细则版本"), on_delete=models.PROTECT,
                                     related_name="reports")
    tested_on = models.DateField(_("检验完成日期"))
    verdict = models.CharField(_("检验结论"), max_length=24, choices=Verdict.choices)
    failing_items = models.JSONField(_("不合格项目"), default=list, blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("录入人"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="test_reports")


    class Meta:
        ordering = ["sample", "kind"]
        verbose_name = pgettext_lazy("model name", "检验报告")
        verbose_name_plural = _("检验报告")
        constraints = [
            models.UniqueConstraint(fields=["sample", "kind"], name="test_report_once_per_kind",
                                    violation_error_message=_("该抽样单已有此类检验报告，不能重复录入。")),
        ]

    def __str__(self) -> str:
        return f"{self.report_number}（{self.get_kind_display()}：{self.get_verdict_display()}）"


class ItemResult(models.Model):
    """The lab's value and the computed verdict for one test item of a report."""

    report = models.ForeignKey(TestReport, verbose_name=_("检验报告"), on_delete=models.CASCADE, related_name="items")
    item = models.ForeignKey("inspection.TestItem", verbose_name=_("检验项目"), on_delete=models.PROTECT,
                             related_name="results")
    value = models.CharField(_("实测值"), max_length=100, blank=True)
    unit = models.CharField(_("单位"), max_length=16, blank=True)
    lab_verdict = models.CharField(_("单项判定（检验机构）"), max_length=16, blank=True)
    verdict = models.CharField(_("单项结论"), max_length=16)
    note = models.CharField(_("备注"), max_length=255, blank=True)

    class Meta:
        ordering = ["report", "item__sequence"]
        verbose_name = pgettext_lazy("model name", "单项检验结果")
        verbose_name_plural = _("单项检验结果")
        constraints = [
            models.UniqueConstraint(fields=["report", "item"], name="item_result_once",
                                    violation_error_message=_("同一检验项目在一份报告中只能有一个结果。")),
        ]

    def __str__(self) -> str:
        return f"{self.item.code} {self.value}{self.unit}"
