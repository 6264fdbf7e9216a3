"""Back-office statistics of complaints and tip-offs (issue 6 item 8): filters, tables, charts, the Jilin
map, CSV/XLSX export of each table, and the publication of a month's public summary.

Thin: the figures come from ``complaints.statistics.figures`` (scoped to the user's region by
``Case.objects.restrict``); publication goes through ``statistics.publish_month``.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import View

from qualitygov.complaints import statistics
from qualitygov.complaints.models import Case, Category
from qualitygov.core.filtered_figures import FigureFilterForm, FiguresExportView, FiguresPageView
from qualitygov.core.models import Region
from qualitygov.core.views import ScopedViewMixin


class StatisticsFilterForm(FigureFilterForm):
    """Period, kind, category and a drill-down region inside the user's scope."""

    service = statistics
    refused = statistics.StatisticsRefused
    period_choices = statistics.PERIOD_CHOICES
    period_error_codes = ("invalid_period",)
    field_order = ["period", "start", "end", "kind", "category", "region"]

    kind = forms.ChoiceField(label=gettext_lazy("类型"), required=False,
                             choices=[("", gettext_lazy("投诉和举报")), *Case.Kind.choices])
    category = forms.ChoiceField(label=gettext_lazy("问题类别"), required=False,
                                 choices=[("", gettext_lazy("全部类别")), *Category.choices])

    def figure_filters(self) -> dict:
        return {"kind": self.cleaned_data["kind"] or None, "category": self.cleaned_data["category"] or None}


def _drill_codes(user, data) -> set[str]:
    """Prefectures the city table may link to: those inside the user's scope, other than the one shown."""
    if data is None:
        return set()
    codes = set(statistics.scope_regions(user).filter(level=Region.Level.CITY).values_list("code", flat=True))
    return codes - {data["scope"]["region"]}


def _without(query, key: str) -> str:
    query = query.copy()
    query.pop(key, None)
    return query.urlencode()


class StatisticsView(FiguresPageView):
    """GET the statistics page of the user's region."""

    queryset = Case.objects.all()
    service = statistics
    form_class = StatisticsFilterForm
    template_name = "complaints/statistics/dashboard.html"
    export_url_name = "complaints:stats-export"
    title = gettext_lazy("投诉举报统计分析")

    def page_context(self, request, form, data) -> dict:
        publish = statistics.can_publish(request.user)
        return {
            # The filters without the region, for the drill-down links of the city table.
            "drill_query": _without(request.GET, "region"),
            "drill_codes": _drill_codes(request.user, data),
            "can_publish": publish,
            "unpublished_months": statistics.unpublished_months() if publish else [],
            "published": statistics.published_summaries()[:12],
            "chart_i18n": {"received": _("收到"), "complaints": _("投诉"), "tip_offs": _("举报"), "closed": _("办结"),
                           "cases": _("件数"), "share": _("按时率"), "none": _("不在辖区内"),
                           "score": _("满意度评分")},
        }


class StatisticsExportView(FiguresExportView):
    """One statistics table as CSV or XLSX (Chinese headers), with the page's filters."""

    queryset = Case.objects.all()
    service = statistics
    form_class = StatisticsFilterForm


class PublishForm(forms.Form):
    month = forms.CharField(label=gettext_lazy("月份"), max_length=7,
                            widget=forms.TextInput(attrs={"type": "month", "class": "form-control form-control-sm"}))


class PublishView(ScopedViewMixin, View):
    """POST a month (YYYY-MM) to publish its summary; province-level officers only. A refusal (month
    not ended, already published, bad month) is shown as a Chinese message and publishes nothing."""

    queryset = Case.objects.all()

    def post(self, request, *args, **kwargs):
        if not statistics.can_publish(request.user):
            raise PermissionDenied(_("月度统计由省级市场监管部门发布。"))
        form = PublishForm(request.POST)
        back = reverse("complaints:stats-dashboard")
        if not form.is_valid():
            messages.error(request, _("请选择要发布的月份。"))
            return HttpResponseRedirect(back)
        try:
            month = statistics.parse_month(form.cleaned_data["month"])
            summary = statistics.publish_month(request.user, month)
        except statistics.StatisticsRefused as error:
            messages.error(request, error.messages[0])
            return HttpResponseRedirect(back)
        messages.success(request, _("已发布 %(month)s 投诉举报月度统计。") % {"month": f"{summary.month:%Y-%m}"})
        return HttpResponseRedirect(back)
