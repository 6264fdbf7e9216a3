"""Lot acceptance sampling records (GB/T 2828.1 = ISO 2859-1): each supplier's switching state and lot history.

The "supplier" of the standard is whoever submits a continuing series of lots of one product. Its state is kept
per market entity (the submitter, which may be a distributor rather than the producer) × registry product ×
AQL × inspection level: the switching rules judge one process's series of lots, and two products of the same
category come from different processes, so a product category would mix series; the AQL and level are fixed
for a series (the level stays unchanged when switching, ISO 2859-1:1999 9.1), and a supplier inspected against
two AQLs (e.g. two classes of nonconformity) has a series, and a state, for each.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qualitygov.core.models import BaseModel, RestrictedQuerySet
from qualitygov.inspection import acceptance

__all__ = ["LotInspection", "SupplierInspectionState", "Severity", "InspectionLevel"]


class Severity(models.TextChoices):
    NORMAL = acceptance.NORMAL, _("正常检验")
    TIGHTENED = acceptance.TIGHTENED, _("加严检验")
    REDUCED = acceptance.REDUCED, _("放宽检验")


class InspectionLevel(models.TextChoices):
    S1 = "S-1", _("特殊检验水平 S-1")
    S2 = "S-2", _("特殊检验水平 S-2")
    S3 = "S-3", _("特殊检验水平 S-3")
    S4 = "S-4", _("特殊检验水平 S-4")
    I = "I", _("一般检验水平 I")  # noqa: E741 — the standard's name for the level
    II = "II", _("一般检验水平 II")
    III = "III", _("一般检验水平 III")


def _aql_choices() -> list[tuple[str, str]]:
    return [(value, value) for value in acceptance.aql_series()]


class SupplierInspectionState(BaseModel):
    """Where one supplier's series of lots stands in the switching scheme (see the module docstring)."""

    entity = models.ForeignKey("registry.MarketEntity", verbose_name=_("供方（市场主体）"), on_delete=models.PROTECT,
                               related_name="acceptance_states")
    product = models.ForeignKey("registry.Product", verbose_name=_("产品"), on_delete=models.PROTECT,
                                related_name="acceptance_states")
    aql = models.CharField(_("接收质量限（AQL）"), max_length=8, choices=_aql_choices())
    inspection_level = models.CharField(_("检验水平"), max_length=4, choices=InspectionLevel.choices,
                                        default=InspectionLevel.II)
    severity = models.CharField(_("检验严格度"), max_length=16, choices=Severity.choices, default=Severity.NORMAL)
    switching_score = models.PositiveIntegerField(_("转移得分"), default=0)
    normal_window = models.JSONField(_("正常检验最近批次结果"), default=list, blank=True,
                                     help_text=_("正常检验开始以来最近至多 5 批的初次检验结果（true 为接收）。"))
    consecutive_accepted = models.PositiveSmallIntegerField(_("加严检验连续接收批数"), default=0)
    not_accepted_on_tightened = models.PositiveSmallIntegerField(_("加严检验累计不接收批数"), default=0)
    discontinued = models.BooleanField(_("暂停检验"), default=False)
    lots_inspected = models.PositiveIntegerField(_("已检批数"), default=0)

    objects = RestrictedQuerySet.as_manager()
    scope_region_field = "entity__region__code"
    scope_entity_field = "entity"

    class Meta:
        ordering = ["entity__name", "product__name", "aql", "id"]
        verbose_name = pgettext_lazy("model name", "供方转移状态")
        verbose_name_plural = _("供方转移状态")
        constraints = [
            models.UniqueConstraint(fields=["entity", "product", "aql", "inspection_level"],
                                    name="acceptance_state_unique_series",
                                    violation_error_message=_("该供方、产品、AQL 与检验水平的转移状态已存在。")),
        ]

    def __str__(self) -> str:
        return f"{self.entity} · {self.product} · AQL {self.aql} · {self.get_severity_display()}"

    def switching_state(self) -> acceptance.SwitchingState:
        """The pure state the switching rules work on."""
        return acceptance.SwitchingState(
            severity=self.severity, switching_score=self.switching_score, normal_window=list(self.normal_window),
            consecutive_accepted=self.consecutive_accepted, not_accepted_on_tightened=self.not_accepted_on_tightened,
            discontinued=self.discontinued)

    def set_switching_state(self, state: acceptance.SwitchingState) -> None:
        """Copy a pure state onto this record (the caller saves)."""
        for name, value in state.as_dict().items():
            setattr(self, name, value)


class LotInspection(BaseModel):
    """One lot's original inspection: the plan used, what was found, the decision and the switch it caused."""

    supplier_state = models.ForeignKey(SupplierInspectionState, verbose_name=_("供方转移状态"),
                                       on_delete=models.PROTECT, related_name="lots")
    lot_number = models.CharField(_("批号"), max_length=64)
    lot_size = models.PositiveIntegerField(_("批量"))
    aql = models.CharField(_("接收质量限（AQL）"), max_length=8, choices=_aql_choices())
    inspection_level = models.CharField(_("检验水平"), max_length=4, choices=InspectionLevel.choices)
    code_letter = models.CharField(_("样本量字码"), max_length=1)
    sample_size = models.PositiveIntegerField(_("样本量"))
    accept_number = models.PositiveIntegerField(_("接收数 Ac"))
    reject_number = models.PositiveIntegerField(_("拒收数 Re"))
    hundred_percent = models.BooleanField(_("全数检验"), default=False)
    nonconforming = models.PositiveIntegerField(_("不合格品数"))
    accepted = models.BooleanField(_("接收"))
    severity_before = models.CharField(_("检验严格度（本批）"), max_length=16, choices=Severity.choices)
    severity_after = models.CharField(_("检验严格度（下批）"), max_length=16, choices=Severity.choices)
    switching_score_after = models.PositiveIntegerField(_("转移得分（本批后）"), default=0)
    discontinued_after = models.BooleanField(_("本批后暂停检验"), default=False)
    inspected_on = models.DateField(_("检验日期"))
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("检验员"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="lot_inspections")

    objects = RestrictedQuerySet.as_manager()
    scope_region_field = "supplier_state__entity__region__code"
    scope_entity_field = "supplier_state__entity"

    class Meta:
        ordering = ["-inspected_on", "-id"]
        verbose_name = pgettext_lazy("model name", "批检验记录")
        verbose_name_plural = _("批检验记录")
        constraints = [
            models.UniqueConstraint(fields=["supplier_state", "lot_number"], name="lot_inspection_unique_lot",
                                    violation_error_message=_("该供方已登记过此批号的初次检验。")),
            models.CheckConstraint(condition=models.Q(reject_number__gt=models.F("accept_number")),
                                   name="lot_inspection_re_above_ac"),
        ]

    def __str__(self) -> str:
        verdict = _("接收") if self.accepted else _("不接收")
        return f"{self.lot_number} · n={self.sample_size} Ac={self.accept_number} · {verdict}"
