"""Weights for the output-weighted manufacturing pass rate: industrial output value by industry and year."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qualitygov.core.models import Industry, Region

__all__ = ["IndustryOutput"]


class IndustryOutput(models.Model):
    """Output value of one industry in one year (and optionally one region), from official statistics.

    The manufacturing pass rate weights each industry's spot-check pass rate by this value; the
    ``source`` names the statistical publication the figure was taken from.
    """

    year = models.PositiveSmallIntegerField(_("年度"))
    industry = models.ForeignKey(Industry, verbose_name=_("行业"), on_delete=models.PROTECT,
                                 related_name="output_values")
    region = models.ForeignKey(Region, verbose_name=_("区划"), null=True, blank=True, on_delete=models.PROTECT,
                               related_name="industry_output_values",
                               help_text=_("空表示全省。"))
    output_value = models.DecimalField(_("工业总产值（亿元）"), max_digits=14, decimal_places=2)
    source = models.CharField(_("数据来源"), max_length=255)

    class Meta:
        ordering = ["year", "industry"]
        verbose_name = pgettext_lazy("model name", "行业产值")
        verbose_name_plural = _("行业产值")
        constraints = [
            models.UniqueConstraint(fields=["year", "industry", "region"], name="industry_output_unique",
                                    violation_error_message=_("该年度该行业（区划）的产值已登记。")),
            models.UniqueConstraint(fields=["year", "industry"], condition=models.Q(region__isnull=True),
                                    name="industry_output_province_unique",
                                    violation_error_message=_("该年度该行业的全省产值已登记。")),
            models.CheckConstraint(condition=models.Q(output_value__gte=0), name="industry_output_non_negative",
                                   violation_error_message=_("产值不能为负数。")),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.industry}：{self.output_value} 亿元"
