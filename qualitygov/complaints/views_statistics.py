"""Back-office statistics of complaints and tip-offs (issue 6 item 8): filters, tables, charts, the Jilin
map, CSV/XLSX export of each table, and the publication of a month's public summary.

Thin: the figures come from ``complaints.statistics.figures`` (scoped to the user's region by
``Case.objects.restrict``); publication goes through ``statistics.publish_month``.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import View

from qualitygov.complaints import statistics
from qualitygov.complaints.models import Case, Category
from qualitygov.core.exports import ComputedRows, export_response
from qualitygov.core.models import Region
from qualitygov.core.views import ScopedViewMixin


class StatisticsFilterForm(forms.Form):
    """Period, kind, category and a drill-down region inside the user's scope."""

    period = forms.ChoiceField(label=gettext_lazy("统计期间"), required=False, choices=statistics.PERIOD_CHOICES)
    start = forms.DateField(label=gettext_lazy("起始日期"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=gettext_lazy("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(label=gettext_lazy("类型"), required=False,
                             choices=[("", gettext_lazy("投诉和举报")), *Case.Kind.choices])
    category = forms.ChoiceField(label=gettext_lazy("问题类别"), required=False,
                                 choices=[("", gettext_lazy("全部类别")), *Category.choices])
    region = forms.ModelChoiceField(label=gettext_lazy("区划"), queryset=Region.objects.none(), required=False,
                                    empty_label=gettext_lazy("辖区全部"), to_field_name="code",
                                    error_messages={"invalid_choice": gettext_lazy("该区划不在您的辖区内。")})

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = statistics.scope_regions(user)
        self.fields["region"].label_from_instance = lambda r: r.full_name
        for field in self.fields.values():
            css = "form-select form-select-sm" if isinstance(field.widget, forms.Select) else "form-control form-control-sm"
            field.widget.attrs["class"] = css

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                data["resolved_period"] = statistics.resolve_period(data.get("period"), data.get("start"),
                                                                    data.get("end"))
            except statistics.StatisticsRefused as error:
                self.add_error("period" if error.code == "invalid_period" else "start", error)
        return data


def _figures(request):
    """The form and, when valid, the figures for the request's user (``None`` otherwise)."""
    statistics.check_access(request.user)
    form = StatisticsFilterForm(request.GET or None, user=request.user)
    if form.is_bound and not form.is_valid():
        return form, None
    if form.is_bound:
        data = form.cleaned_data
        return form, statistics.figures(request.user, period=data["resolved_period"], kind=data["kind"] or None,
                                        category=data["category"] or None, region=data["region"])
    return form, statistics.figures(request.user, period=statistics.resolve_period())


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



class StatisticsView(ScopedViewMixin, View):
    """GET the statistics page of the user's region."""

    queryset = Case.objects.all()
    template_name = "complaints/statistics/dashboard.html"

    def get(self, request, *args, **kwargs):
        form, data = _figures(request)
        publish = statistics.can_publish(request.user)
        context = {
            "title": _("投诉举报统计分析"),
            "form": form,
            "data": data,
            "export_tables": statistics.EXPORT_TABLES,
            "query_string": request.GET.urlencode(),
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
        return render(request, self.template_name, context, status=200 if data is not None else 400)


class StatisticsExportView(ScopedViewMixin, View):
    """One statistics table as CSV or XLSX (Chinese headers), with the page's filters."""

    queryset = Case.objects.all()

    def get(self, request, table: str, fmt: str, *args, **kwargs):
        if table not in statistics.EXPORT_TABLES:
            raise Http404(_("没有这张统计表。"))
        if fmt not in ("csv", "xlsx"):
            return HttpResponseBadRequest(_("不支持的导出格式：%(fmt)s（可选 csv 或 xlsx）。") % {"fmt": fmt})
        form, data = _figures(request)
        if data is None:
            return HttpResponseBadRequest(_("筛选条件有误，未导出：%(errors)s") % {
                "errors": "；".join(str(e) for errors in form.errors.values() for e in errors)})
        headers, rows = statistics.export_table(data, table)
        columns = [(str(index), header) for index, header in enumerate(headers)]
        return export_response(ComputedRows(rows), columns, fmt, str(statistics.EXPORT_TABLES[table]))


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
