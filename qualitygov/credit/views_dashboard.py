"""The credit dashboard page and its CSV/XLSX exports (issue 4, item 8). Thin: the figures come from
``credit.dashboard.figures``, which scopes them to the user's region; officers only."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qualitygov.core.filtered_figures import FigureFilterForm, FiguresExportView, FiguresPageView
from qualitygov.credit import dashboard
from qualitygov.credit.models import EntityScore


class DashboardFilterForm(FigureFilterForm):
    """Period and drill-down region; the regions offered are those inside the user's scope."""

    service = dashboard
    refused = dashboard.DashboardRefused
    period_choices = [("", gettext_lazy("默认（最近一次全量评分以来）")), *dashboard.PERIOD_CHOICES]
    period_error_codes = ("invalid_period", "no_scoring_run")


class DashboardView(FiguresPageView):
    """GET the dashboard: grade distribution, movements, lists, repairs, the map and the risk panel."""

    queryset = EntityScore.objects.all()
    service = dashboard
    form_class = DashboardFilterForm
    template_name = "credit/dashboard/dashboard.html"
    export_url_name = "credit:dashboard_export"
    title = gettext_lazy("信用监管看板")

    def page_context(self, request, form, data) -> dict:
        return {
            "grades": dashboard.GRADES,
            "risks": dashboard.RISKS,
            "map_i18n": {"low_share": _("C、D 级占比"), "total": _("评分主体数"), "low": _("C、D 级主体数"),
                         "average": _("平均信用分"), "none": _("暂无评分数据")},
        }


class DashboardExportView(FiguresExportView):
    """One dashboard table as CSV or XLSX (Chinese headers), with the page's filters."""

    queryset = EntityScore.objects.all()
    service = dashboard
    form_class = DashboardFilterForm
