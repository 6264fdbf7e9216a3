"""The spot-check catalogue: implementation rules (实施细则), their versions and their test items.

An implementation rule belongs to one leaf category of the key product catalogue. It is published
in versions; a plan uses the version in force on the day the plan is made and keeps using it, so a
version that any plan has used is frozen (``RuleVersion.is_locked``). The judgement rule itself is
the same for every category (SAMR Order 18 and the implementation rules it governs: all items pass
→ 未发现不合格; any item fails → 不合格; an A-class item fails → 严重不合格) and lives in
``qualitygov.inspection.catalogue.judge``.
"""

from __future__ import annotations

import decimal
import unicodedata

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qualitygov.core.models import BaseModel, ProductCategory, RestrictedQuerySet
from qualitygov.core.roles import ADD, CHANGE, VIEW, Role

__all__ = ["ImplementationRule", "RuleVersion", "TestItem", "Verdict", "normalize_unit", "CATALOGUE_ROLE_ACTIONS"]

# Province-wide reference records: every role reads them (enterprises need them to know what they
# are tested against); only the province writes them. Deleting is not offered to anyone: a rule
# version is withdrawn by superseding it, so that past plans keep their meaning.
CATALOGUE_ROLE_ACTIONS: dict[str, set[str]] = {role: {VIEW} for role in Role.values} | {
    Role.PROVINCE_ADMIN: {VIEW, ADD, CHANGE},
    Role.PROVINCE_OFFICER: {VIEW, ADD, CHANGE},
}


class Verdict(models.TextChoices):
    """Overall verdict of a sample (判定结论), computed by ``inspection.catalogue.judge``, never entered."""

    NO_NONCONFORMITY = "no_nonconformity", _("未发现不合格")
    UNQUALIFIED = "unqualified", _("不合格")
    SERIOUSLY_UNQUALIFIED = "seriously_unqualified", _("严重不合格")


def normalize_unit(unit: str | None) -> str:
    """A unit as compared: NFKC-folded (全角 ％ → %, ℃ → °C, ㎏ → kg) and without surrounding spaces."""
    return unicodedata.normalize("NFKC", unit or "").strip()


class CatalogueModel(BaseModel):
    """Shared scope of the catalogue's records: readable by every signed-in role."""

    scope_region_field = None
    scope_entity_field = None
    role_actions = CATALOGUE_ROLE_ACTIONS

    class Meta:
        abstract = True

    @classmethod
    def apply_scope(cls, queryset, user):
        # Province-wide reference data, as for core's regions and categories: nothing to narrow.
        return queryset


class ImplementationRule(CatalogueModel):
    """An implementation rule (实施细则) for one leaf category of the key product catalogue.

    One rule per category: ``rule_in_force(category, date)`` must have a single answer. Its
    editions are ``RuleVersion`` rows.
    """

    category = models.OneToOneField(ProductCategory, verbose_name=_("产品类别"), on_delete=models.PROTECT,
                                    related_name="implementation_rule",
                                    limit_choices_to={"parent__isnull": False})
    code = models.CharField(_("细则编号"), max_length=32, unique=True)
    title = models.CharField(_("细则名称"), max_length=200)
    issuer = models.CharField(_("发布单位"), max_length=100, blank=True)
    source = models.TextField(_("依据与来源"), blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = pgettext_lazy("model name", "实施细则")
        verbose_name_plural = _("实施细则")
        constraints = [
            models.CheckConstraint(condition=~models.Q(code=""), name="rule_code_not_blank",
                                   violation_error_message=_("细则编号不能为空。")),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("inspection:implementationrule_detail", args=[self.pk])

    def clean(self):
        super().clean()
        # A rule describes products that are actually sampled: leaf categories, not groups.
        if self.category_id and ProductCategory.objects.filter(pk=self.category_id, parent__isnull=True).exists():
            raise ValidationError({"category": _("实施细则只能对应具体产品类别（二级类别），不能对应大类。")})


class RuleVersion(CatalogueModel):
    """One edition of an implementation rule: validity period, sample counts and its test items.

    Once a plan has used a version (``mark_used`` in ``inspection.catalogue``, called by the plan
    module when a plan is created) its content is frozen: the sample counts and test items cannot
    change and it cannot be deleted; it may only be closed (status → superseded, ``effective_to``)
    when a newer edition takes over. At most one non-draft version of a rule covers any date
    (checked in ``clean``; the open-ended case also by a database constraint).
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("草案")
        IN_FORCE = "in_force", _("现行")
        SUPERSEDED = "superseded", _("已废止")

    rule = models.ForeignKey(ImplementationRule, verbose_name=_("实施细则"), on_delete=models.PROTECT,
                             related_name="versions")
    label = models.CharField(_("版本"), max_length=32)
    effective_from = models.DateField(_("实施日期"))
    effective_to = models.DateField(_("废止日期"), null=True, blank=True,
                                    help_text=_("最后一个有效日；为空表示持续有效。"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    test_sample_count = models.PositiveSmallIntegerField(_("检验样品数量"))
    spare_sample_count = models.PositiveSmallIntegerField(_("备用样品数量"))
    sample_unit = models.CharField(_("样品计量单位"), max_length=16, help_text=_("如 件、组、根、kg。"))
    sampling_notes = models.TextField(_("抽样说明"), blank=True)
    used = models.BooleanField(_("已被计划使用"), default=False, editable=False)

    objects = RestrictedQuerySet.as_manager()

    # Fields a locked version may still change: closing it when a newer edition takes over.
    closable_fields = frozenset({"status", "effective_to", "updated"})

    class Meta:
        ordering = ["rule", "-effective_from"]
        verbose_name = pgettext_lazy("model name", "实施细则版本")
        verbose_name_plural = _("实施细则版本")
        constraints = [
            models.UniqueConstraint(fields=["rule", "label"], name="rule_version_label_unique",
                                    violation_error_message=_("同一实施细则的版本号不能重复。")),
            models.UniqueConstraint(fields=["rule"], condition=models.Q(effective_to__isnull=True)
                                    & ~models.Q(status="draft"), name="rule_one_open_version",
                                    violation_error_message=_("同一实施细则只能有一个持续有效的版本。")),
            models.CheckConstraint(condition=models.Q(effective_to__isnull=True)
                                   | models.Q(effective_to__gte=models.F("effective_from")),
                                   name="rule_version_period_order",
                                   violation_error_message=_("废止日期不能早于实施日期。")),
            models.CheckConstraint(condition=models.Q(test_sample_count__gte=1), name="rule_version_test_samples",
                                   violation_error_message=_("检验样品数量至少为 1。")),
            models.CheckConstraint(condition=~models.Q(status="superseded") | models.Q(effective_to__isnull=False),
                                   name="rule_version_superseded_closed",
                                   violation_error_message=_("已废止的版本必须填写废止日期。")),
        ]

    def __str__(self) -> str:
        return f"{self.rule.code} {self.label}"

    @property
    def is_locked(self) -> bool:
        """True once a plan has used this version: its content may no longer change."""
        return self.used

    @property
    def total_sample_count(self) -> int:
        return self.test_sample_count + self.spare_sample_count

    def covers(self, day) -> bool:
        """True if ``day`` lies in this version's validity period."""
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)

    def overlapping_versions(self):
        """Other non-draft versions of the same rule whose period meets this one's."""
        others = RuleVersion.objects.filter(rule_id=self.rule_id).exclude(status=self.Status.DRAFT)
        if self.pk is not None:
            others = others.exclude(pk=self.pk)
        others = others.filter(models.Q(effective_to__isnull=True) | models.Q(effective_to__gte=self.effective_from))
        if self.effective_to is not None:
            others = others.filter(effective_from__lte=self.effective_to)
        return others

    def clean(self):
        super().clean()
        if self.status != self.Status.DRAFT and self.rule_id and self.effective_from:
            clash = self.overlapping_versions().first()
            if clash is not None:
                raise ValidationError(_("与版本 %(label)s 的有效期重叠：同一实施细则在同一日期只能有一个版本有效。")
                                      % {"label": clash.label})

    def save(self, *args, **kwargs):
        if self.pk is not None:
            stored = RuleVersion.objects.filter(pk=self.pk).values().first()
            if stored is not None and stored["used"]:
                changed = {f.attname for f in self._meta.concrete_fields
                           if stored.get(f.attname) != getattr(self, f.attname)} - self.closable_fields
                if changed:
                    raise ValidationError(_("实施细则版本 %(version)s 已被抽查计划使用，不能修改（只能废止）。")
                                          % {"version": self}, code="locked")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if RuleVersion.objects.filter(pk=self.pk, used=True).exists():
            raise ValidationError(_("实施细则版本 %(version)s 已被抽查计划使用，不能删除。") % {"version": self},
                                  code="locked")
        return super().delete(*args, **kwargs)


class TestItem(CatalogueModel):
    """One test item of a rule version: its class, the standard clause it comes from, and its limit.

    Numeric limits are inclusive (``max`` passes at the limit, ``min`` likewise), which is how
    GB standards state them (不大于 / 不小于); the value compared is the one the lab reports
    (全数值比较法, GB/T 8170-2008 4.3.1), converted to the canonical unit. A ``text`` item has a
    qualitative requirement (e.g. 无裂纹) and the lab's verdict decides it.
    """

    class ItemClass(models.TextChoices):
        A = "A", _("A 类（严重）")
        B = "B", _("B 类（一般）")

    class LimitKind(models.TextChoices):
        MAX = "max", _("不大于")
        MIN = "min", _("不小于")
        RANGE = "range", _("范围")
        EQUALS = "equals", _("等于")
        TEXT = "text", _("定性要求")

    __test__ = False  # a model, not a pytest test class

    NUMERIC_KINDS = frozenset({LimitKind.MAX, LimitKind.MIN, LimitKind.RANGE, LimitKind.EQUALS})

    version = models.ForeignKey(RuleVersion, verbose_name=_("细则版本"), on_delete=models.CASCADE,
                                related_name="items")
    sequence = models.PositiveSmallIntegerField(_("序号"))
    code = models.CharField(_("项目代码"), max_length=16)
    name = models.CharField(_("检验项目"), max_length=100)
    item_class = models.CharField(_("项目分类"), max_length=1, choices=ItemClass.choices)
    standard = models.CharField(_("依据标准"), max_length=64)
    clause = models.CharField(_("条款"), max_length=64, blank=True)
    requirement = models.CharField(_("技术要求"), max_length=255)
    limit_kind = models.CharField(_("限值类型"), max_length=8, choices=LimitKind.choices)
    limit_min = models.DecimalField(_("下限"), max_digits=16, decimal_places=6, null=True, blank=True)
    limit_max = models.DecimalField(_("上限"), max_digits=16, decimal_places=6, null=True, blank=True)
    unit = models.CharField(_("单位"), max_length=16, blank=True)
    # {"kN": "1000"}: a value in kN times 1000 is the value in the canonical unit (N).
    alternative_units = models.JSONField(_("可接受的其他单位"), default=dict, blank=True)
    method_standard = models.CharField(_("检验方法"), max_length=128, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["version", "sequence"]
        verbose_name = pgettext_lazy("model name", "检验项目")
        verbose_name_plural = _("检验项目")
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="test_item_code_unique",
                                    violation_error_message=_("同一细则版本中检验项目代码不能重复。")),
            models.UniqueConstraint(fields=["version", "sequence"], name="test_item_sequence_unique",
                                    violation_error_message=_("同一细则版本中检验项目序号不能重复。")),
            models.CheckConstraint(condition=~models.Q(standard=""), name="test_item_standard_required",
                                   violation_error_message=_("检验项目必须注明依据标准。")),
            models.CheckConstraint(
                condition=(models.Q(limit_kind="max", limit_max__isnull=False, limit_min__isnull=True)
                           | models.Q(limit_kind="min", limit_min__isnull=False, limit_max__isnull=True)
                           | models.Q(limit_kind="range", limit_min__isnull=False, limit_max__isnull=False,
                                      limit_min__lte=models.F("limit_max"))
                           | models.Q(limit_kind="equals", limit_min__isnull=False,
                                      limit_max=models.F("limit_min"))
                           | models.Q(limit_kind="text", limit_min__isnull=True, limit_max__isnull=True)),
                name="test_item_limit_matches_kind",
                violation_error_message=_("限值与限值类型不符：不大于填上限，不小于填下限，范围填上下限（下限不大于上限），"
                                          "等于填相同的上下限，定性要求不填限值。")),
            models.CheckConstraint(condition=models.Q(limit_kind="text") | ~models.Q(unit=""),
                                   name="test_item_numeric_unit",
                                   violation_error_message=_("数值型检验项目必须指定单位。")),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_numeric(self) -> bool:
        return self.limit_kind in self.NUMERIC_KINDS

    def unit_factors(self) -> dict[str, decimal.Decimal]:
        """Accepted units (normalised) → factor to the canonical unit; the canonical unit has factor 1."""
        factors = {normalize_unit(u): decimal.Decimal(str(f)) for u, f in (self.alternative_units or {}).items()}
        if self.unit:
            factors[normalize_unit(self.unit)] = decimal.Decimal(1)
        return factors

    def limit_text(self) -> str:
        """The limit as printed in a report, e.g. ``≥ 400 MPa``."""
        def fmt(value) -> str:
            return format(value.normalize(), "f") if value is not None else ""
        unit = f" {self.unit}" if self.unit else ""
        match self.limit_kind:
            case self.LimitKind.MAX:
                return f"≤ {fmt(self.limit_max)}{unit}"
            case self.LimitKind.MIN:
                return f"≥ {fmt(self.limit_min)}{unit}"
            case self.LimitKind.RANGE:
                return f"{fmt(self.limit_min)} ~ {fmt(self.limit_max)}{unit}"
            case self.LimitKind.EQUALS:
                return f"= {fmt(self.limit_min)}{unit}"
        return self.requirement

    def clean(self):
        super().clean()
        errors = {}
        for unit, factor in (self.alternative_units or {}).items():
            try:
                ok = decimal.Decimal(str(factor)) > 0
            except (decimal.InvalidOperation, ValueError):
                ok = False
            if not ok or not normalize_unit(unit):
                errors["alternative_units"] = _("其他单位必须写成“单位: 换算系数（正数）”。")
        if self.version_id and RuleVersion.objects.filter(pk=self.version_id, used=True).exists():
            errors["version"] = _("该细则版本已被抽查计划使用，不能修改检验项目。")
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        # Items are the content of a version; a used version's content is frozen.
        if RuleVersion.objects.filter(pk=self.version_id, used=True).exists():
            raise ValidationError(_("该细则版本已被抽查计划使用，不能修改检验项目。"), code="locked")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if RuleVersion.objects.filter(pk=self.version_id, used=True).exists():
            raise ValidationError(_("该细则版本已被抽查计划使用，不能删除检验项目。"), code="locked")
        return super().delete(*args, **kwargs)
