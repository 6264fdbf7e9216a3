"""Tables of the spot-check list pages (plans, tasks, draws, implementation rules, labs)."""

from __future__ import annotations

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qualitygov.core.tables import BaseTable
from qualitygov.core.text import join_list
from qualitygov.inspection.models import (
    ImplementationRule,
    InspectionPlan,
    InspectionTask,
    RandomDraw,
    TestingLab,
)

__all__ = ["InspectionPlanTable", "InspectionTaskTable", "RandomDrawTable", "ImplementationRuleTable",
           "TestingLabTable", "detail_link"]


def detail_link(url_name: str):
    """``linkify`` for a detail page by primary key (the inspection models have no ``get_absolute_url``)."""
    return (f"inspection:{url_name}", {"pk": tables.A("pk")})


class InspectionPlanTable(BaseTable):
    code = tables.Column(linkify=detail_link("inspectionplan_detail"))
    title = tables.Column(linkify=detail_link("inspectionplan_detail"))
    region = tables.Column(order_by=("region_id",))
    quarter = tables.Column(default="—")
    budget_cny = tables.Column(attrs={"td": {"class": "text-end"}})
    planned = tables.Column(verbose_name=_("计划费用（元）"), attrs={"td": {"class": "text-end"}}, default="0.00")

    class Meta(BaseTable.Meta):
        model = InspectionPlan
        fields = ("code", "title", "region", "period", "year", "quarter", "starts_on", "ends_on", "budget_cny",
                  "planned", "status")

    def render_budget_cny(self, value):
        return f"{value:,.2f}"

    def render_planned(self, value):
        return f"{value:,.2f}"


class InspectionTaskTable(BaseTable):
    plan = tables.Column(verbose_name=_("抽查计划"), accessor="quota__plan__code", order_by=("quota__plan__code",),
                         linkify=("inspection:inspectionplan_detail", {"pk": tables.A("quota__plan_id")}))
    draw_rank = tables.Column(linkify=detail_link("inspectiontask_detail"))
    entity = tables.Column(order_by=("entity__name",), linkify=detail_link("inspectiontask_detail"))
    uscc = tables.Column(verbose_name=_("统一社会信用代码"), accessor="entity__uscc", order_by=("entity__uscc",))
    region = tables.Column(verbose_name=_("所在区划"), accessor="entity__region__name",
                           order_by=("entity__region_id",))
    category = tables.Column(verbose_name=_("产品类别"), accessor="quota__category__name",
                             order_by=("quota__category_id",))
    stage = tables.Column(verbose_name=_("抽样环节"), accessor="quota__stage", order_by=("quota__stage",))
    inspectors = tables.Column(verbose_name=_("抽样人员"), orderable=False, empty_values=())

    class Meta(BaseTable.Meta):
        model = InspectionTask
        fields = ("plan", "draw_rank", "entity", "uscc", "region", "category", "stage", "inspectors", "status")

    def render_stage(self, record):
        return record.quota.get_stage_display()

    def render_inspectors(self, record):
        names = [user.display_name for user in record.inspectors.all()]
        return join_list(names) if names else format_html('<span class="text-muted">{}</span>', _("未抽取"))


class RandomDrawTable(BaseTable):
    drawn_at = tables.DateTimeColumn(format="Y-m-d H:i", linkify=detail_link("randomdraw_detail"))
    title = tables.Column(linkify=detail_link("randomdraw_detail"), default="—")
    region = tables.Column(order_by=("region_id",))
    seed = tables.Column(attrs={"td": {"class": "font-monospace small"}})
    drawn_by = tables.Column(order_by=("drawn_by__username",), default="—")

    class Meta(BaseTable.Meta):
        model = RandomDraw
        fields = ("drawn_at", "title", "kind", "region", "seed", "candidate_count", "drawn_by", "published")

    def render_drawn_by(self, value):
        return value.display_name


class ImplementationRuleTable(BaseTable):
    code = tables.Column(linkify=detail_link("implementationrule_detail"))
    title = tables.Column(linkify=detail_link("implementationrule_detail"))
    category = tables.Column(order_by=("category_id",))
    version_in_force = tables.Column(verbose_name=_("现行版本"), default="—")
    in_force_since = tables.DateColumn(verbose_name=_("实施日期"), format="Y-m-d", default="—")

    class Meta(BaseTable.Meta):
        model = ImplementationRule
        fields = ("code", "title", "category", "issuer", "version_in_force", "in_force_since")


class TestingLabTable(BaseTable):
    __test__ = False  # a table, not a pytest test class

    name = tables.Column(linkify=detail_link("testinglab_detail"))
    region = tables.Column(order_by=("region_id",))
    staff_count = tables.Column(verbose_name=_("检验人员数"), attrs={"td": {"class": "text-end"}})
    category_names = tables.Column(verbose_name=_("检验能力范围"), orderable=False, empty_values=())

    class Meta(BaseTable.Meta):
        model = TestingLab
        fields = ("name", "accreditation_no", "region", "category_names", "staff_count", "active")

    def render_category_names(self, record):
        names = [str(category) for category in record.categories.all()]
        return join_list(names) if names else pgettext_lazy("lab scope", "不限")
