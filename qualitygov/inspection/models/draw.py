"""Random-draw records (双随机) and the register of inspectors' declared relations with entities.

A draw record keeps everything needed to re-run the draw and prove the result: the seed, every
parameter, the number of candidates and a digest of the candidate set, the ordered drawn list, and
the algorithm version (``qualitygov.inspection.draw``). The drawing unit's region scopes it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qualitygov.core.models import BaseModel, Region, RestrictedQuerySet
from qualitygov.core.roles import DEFAULT_ROLE_ACTIONS, Role

__all__ = ["RandomDraw", "InspectorConflict"]


class RandomDraw(BaseModel):
    """One random draw of entities or of inspectors, as drawn, stored so anyone can re-run it."""

    class Kind(models.TextChoices):
        ENTITIES = "entities", _("抽取检查对象")
        INSPECTORS = "inspectors", _("抽取检查人员")

    kind = models.CharField(_("抽取类型"), max_length=16, choices=Kind.choices)
    title = models.CharField(_("名称"), max_length=200, blank=True)
    region = models.ForeignKey(Region, verbose_name=_("抽取单位所在区划"), on_delete=models.PROTECT,
                               related_name="random_draws")
    seed = models.BigIntegerField(_("随机种子"))
    algorithm = models.CharField(_("算法版本"), max_length=64)
    inputs = models.JSONField(_("抽取条件"), help_text=_("全部参数、候选数量与候选集合摘要。"))
    outputs = models.JSONField(_("抽取结果"), help_text=_("按抽取顺序排列的名单。"))
    candidate_count = models.PositiveIntegerField(_("候选数量"))
    candidate_digest = models.CharField(_("候选集合摘要（SHA-256）"), max_length=64)
    outputs_digest = models.CharField(_("结果摘要（SHA-256）"), max_length=64)
    drawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("抽取人"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="random_draws")
    drawn_at = models.DateTimeField(_("抽取时间"), default=timezone.now, db_index=True)
    published = models.BooleanField(_("已公开"), default=False)

    objects = RestrictedQuerySet.as_manager()
    scope_region_field = "region__code"
    scope_entity_field = None
    # Published draws reach the public through the portal; in the back office they are the
    # regulator's records, as plans are.
    # (A role missing from a role table falls back to the default, so "none" is written out.)
    role_actions = {**DEFAULT_ROLE_ACTIONS, Role.ENTERPRISE: set(), Role.DATA_CONSUMER: set()}
    # The full inputs and outputs can hold ten thousand rows; the audit entry carries their
    # digests (and the seed), which is enough to show that a stored record was altered.
    audit_exclude = ("created", "updated", "inputs", "outputs")

    class Meta:
        ordering = ["-drawn_at", "-id"]
        verbose_name = pgettext_lazy("model name", "随机抽取记录")
        verbose_name_plural = _("随机抽取记录")
        constraints = [
            models.CheckConstraint(condition=models.Q(seed__gte=0), name="random_draw_seed_non_negative",
                                   violation_error_message=_("随机种子不能为负数。")),
        ]

    def __str__(self) -> str:
        label = self.title or self.get_kind_display()
        return f"{label}（{timezone.localtime(self.drawn_at):%Y-%m-%d}，种子 {self.seed}）"

    def get_absolute_url(self) -> str:
        return reverse("inspection:randomdraw_detail", args=[self.pk])

    @property
    def drawn_count(self) -> int:
        return len((self.outputs or {}).get("items", []))


class InspectorConflict(BaseModel):
    """A relation an inspector has declared with an entity (kin, former employer…): the inspector is
    never drawn for a task on that entity."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("检查人员"), on_delete=models.CASCADE,
                             related_name="declared_conflicts")
    entity = models.ForeignKey("registry.MarketEntity", verbose_name=pgettext_lazy("field", "市场主体"),
                               on_delete=models.CASCADE, related_name="declared_conflicts")
    relation = models.CharField(_("利害关系"), max_length=200)
    declared_on = models.DateField(_("申报日期"), default=timezone.localdate)

    objects = RestrictedQuerySet.as_manager()
    scope_region_field = "entity__region__code"
    scope_entity_field = None
    role_actions = {**DEFAULT_ROLE_ACTIONS, Role.ENTERPRISE: set(), Role.DATA_CONSUMER: set()}

    class Meta:
        ordering = ["user", "entity"]
        verbose_name = pgettext_lazy("model name", "利益冲突申报")
        verbose_name_plural = _("利益冲突申报")
        constraints = [
            models.UniqueConstraint(fields=["user", "entity"], name="inspector_conflict_unique",
                                    violation_error_message=_("该检查人员已申报与该市场主体的利害关系。")),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.entity}：{self.relation}"
