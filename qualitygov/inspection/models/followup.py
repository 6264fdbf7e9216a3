"""Follow-up of a result: objection and re-inspection (复检), rectification (整改), Art. 17 escalation.

Product Quality Law Art. 15: the producer or seller may apply for re-inspection within fifteen days
of receiving the result; Art. 17: an unqualified product is ordered corrected within a deadline; if
not corrected, a province-level regulator gives public notice; still unqualified on re-check after
the notice, the business is suspended for rectification; still unqualified after that, its business
licence is revoked. Every step is dated and attributed here and written to the audit log.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qualitygov.core.models import BaseModel, RestrictedQuerySet
from qualitygov.core.roles import ADD, CHANGE, EXPORT, VIEW, Role
from qualitygov.inspection.models.sampling import LabScopedModel

__all__ = ["Objection", "Rectification", "Enforcement", "FOLLOWUP_ROLE_ACTIONS"]

FOLLOWUP_ROLE_ACTIONS: dict[str, set[str]] = {
    Role.PROVINCE_ADMIN: {VIEW, ADD, CHANGE, EXPORT},
    Role.PROVINCE_OFFICER: {VIEW, ADD, CHANGE, EXPORT},
    Role.CITY_OFFICER: {VIEW, ADD, CHANGE, EXPORT},
    Role.COUNTY_OFFICER: {VIEW, ADD, CHANGE, EXPORT},
    Role.INSPECTOR: {VIEW},
    Role.LAB_STAFF: {VIEW},
    # The entity files its own objection and reports its own rectification.
    Role.ENTERPRISE: {VIEW, ADD},
    # Other departments read published results through the public API and credit data, not the
    # regulator's case files. (A role missing from a table would fall back to the default.)
    Role.DATA_CONSUMER: set(),
}


class Objection(LabScopedModel):
    """An application for re-inspection (复检申请) of a sample's result."""

    class Status(models.TextChoices):
        FILED = "filed", _("已申请")
        ACCEPTED = "accepted", _("已受理，复检中")
        REJECTED = "rejected", _("不予受理")
        DECIDED = "decided", _("已作出复检结论")

    class Decision(models.TextChoices):
        CONFIRMED = "confirmed", _("维持原检验结论")
        OVERTURNED = "overturned", _("推翻原检验结论")

    sample = models.OneToOneField("inspection.Sample", verbose_name=_("抽样单"), on_delete=models.PROTECT,
                                  related_name="objection")
    filed_on = models.DateField(_("申请日期"))
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("申请人"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="objections_filed")
    grounds = models.TextField(_("异议理由"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.FILED, db_index=True)
    reinspection_lab = models.ForeignKey("inspection.TestingLab", verbose_name=_("复检机构"), null=True, blank=True,
                                         on_delete=models.PROTECT, related_name="reinspections")
    accepted_on = models.DateField(_("受理日期"), null=True, blank=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("经办人"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="objections_handled")
    rejection_reason = models.CharField(_("不予受理理由"), max_length=255, blank=True)
    decision = models.CharField(_("复检结论"), max_length=16, choices=Decision.choices, blank=True)
    decided_on = models.DateField(_("复检结论日期"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_region_field = "sample__region__code"
    scope_entity_field = "sample__entity_id"
    role_actions = FOLLOWUP_ROLE_ACTIONS
    sample_path = "sample"

    class Meta:
        ordering = ["-filed_on", "-id"]
        verbose_name = pgettext_lazy("model name", "复检申请")
        verbose_name_plural = _("复检申请")

    def __str__(self) -> str:
        return f"{self.sample.number} {self.get_status_display()}"

    def get_absolute_url(self) -> str:
        return reverse("inspection:sample_detail", args=[self.sample_id])


class Rectification(BaseModel):
    """An order to correct within a deadline (责令限期改正), and its re-check."""

    class Status(models.TextChoices):
        ORDERED = "ordered", _("整改中")
        REPORTED = "reported", _("企业已报告整改")
        PASSED = "passed", _("复查合格")
        FAILED = "failed", _("复查仍不合格")
        OVERDUE = "overdue", _("逾期未改正")

    sample = models.ForeignKey("inspection.Sample", verbose_name=_("抽样单"), on_delete=models.PROTECT,
                               related_name="rectifications")
    ordered_on = models.DateField(_("责令日期"))
    deadline = models.DateField(_("整改期限"))
    ordered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("责令人"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="rectifications_ordered")
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.ORDERED, db_index=True)
    entity_report = models.TextField(_("企业整改报告"), blank=True)
    reported_on = models.DateField(_("报告日期"), null=True, blank=True)
    rechecked_on = models.DateField(_("复查日期"), null=True, blank=True)
    rechecked_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("复查人"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="rectifications_rechecked")
    recheck_note = models.CharField(_("复查情况"), max_length=255, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_region_field = "sample__region__code"
    scope_entity_field = "sample__entity_id"
    role_actions = {**FOLLOWUP_ROLE_ACTIONS, Role.LAB_STAFF: set()}

    class Meta:
        ordering = ["-ordered_on", "-id"]
        verbose_name = pgettext_lazy("model name", "整改")
        verbose_name_plural = _("整改")
        constraints = [
            models.CheckConstraint(condition=models.Q(deadline__gte=models.F("ordered_on")),
                                   name="rectification_deadline_after_order",
                                   violation_error_message=_("整改期限不能早于责令日期。")),
        ]

    def __str__(self) -> str:
        return f"{self.sample.number} 整改至 {self.deadline:%Y-%m-%d}（{self.get_status_display()}）"

    def get_absolute_url(self) -> str:
        return reverse("inspection:sample_detail", args=[self.sample_id])


class Enforcement(BaseModel):
    """A step of Art. 17 escalation against an entity whose product stays unqualified."""

    class Action(models.TextChoices):
        PUBLIC_NOTICE = "public_notice", _("予以公告")
        SUSPENSION = "suspension", _("责令停业，限期整顿")
        LICENCE_REVOCATION = "licence_revocation", _("吊销营业执照")

    sample = models.ForeignKey("inspection.Sample", verbose_name=_("抽样单"), on_delete=models.PROTECT,
                               related_name="enforcements")
    action = models.CharField(_("措施"), max_length=24, choices=Action.choices)
    decided_on = models.DateField(_("决定日期"))
    decision_number = models.CharField(_("决定书文号"), max_length=64)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("决定人"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="enforcements")
    until = models.DateField(_("整顿期限"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=255, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_region_field = "sample__region__code"
    scope_entity_field = "sample__entity_id"
    role_actions = {**FOLLOWUP_ROLE_ACTIONS, Role.LAB_STAFF: set(), Role.ENTERPRISE: {VIEW}}

    class Meta:
        ordering = ["sample", "decided_on", "id"]
        verbose_name = pgettext_lazy("model name", "不合格后处理措施")
        verbose_name_plural = _("不合格后处理措施")
        constraints = [
            models.UniqueConstraint(fields=["sample", "action"], name="enforcement_once_per_action",
                                    violation_error_message=_("该抽样单已采取过此项措施。")),
        ]

    def __str__(self) -> str:
        return f"{self.sample.number} {self.get_action_display()}"

    def get_absolute_url(self) -> str:
        return reverse("inspection:sample_detail", args=[self.sample_id])
