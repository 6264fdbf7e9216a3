"""The credit dashboard page and its CSV/XLSX exports (issue 4, item 8). Thin: the figures come from
``credit.dashboard.figures``, which scopes them to the user's region; officers only."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import View

from qualitygov.core.exports import ComputedRows, export_response
from qualitygov.core.models import Region
from qualitygov.core.views import ScopedViewMixin
from qualitygov.credit import dashboard
from qualitygov.credit.models import EntityScore


class DashboardFilterForm(forms.Form):
    """Period and drill-down region; the regions offered are those inside the user's scope."""

    period = forms.ChoiceField(label=gettext_lazy("统计期间"), required=False,
                               choices=[("", gettext_lazy("默认（最近一次全量评分以来）")),
                                        *dashboard.PERIOD_CHOICES])
    start = forms.DateField(label=gettext_lazy("起始日期"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=gettext_lazy("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    region = forms.ModelChoiceField(label=gettext_lazy("区划"), queryset=Region.objects.none(), required=False,
                                    empty_label=gettext_lazy("辖区全部"), to_field_name="code",
                                    error_messages={"invalid_choice": gettext_lazy("该区划不在您的辖区内。")})

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = dashboard.scope_regions(user).exclude(level=Region.Level.PROVINCE)
        self.fields["region"].label_from_instance = lambda r: r.full_name
        for field in self.fields.values():
            css = "form-select form-select-sm" if isinstance(field.widget, forms.Select) else "form-control form-control-sm"
            field.widget.attrs["class"] = css

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                data["resolved_period"] = dashboard.resolve_period(data.get("period"), data.get("start"), data.get("end"))
            except dashboard.DashboardRefused as error:
                self.add_error("period" if error.code in ("invalid_period", "no_scoring_run") else "start", error)
        return data


def _figures(request):
    """The form and, when it is valid, the figures for the request's user (``None`` otherwise)."""
    dashboard.check_access(request.user)
    form = DashboardFilterForm(request.GET or None, user=request.user)
    if form.is_bound and not form.is_valid():
        return form, None
    if form.is_bound:
        period, region = form.cleaned_data["resolved_period"], form.cleaned_data["region"]
    else:
        period, region = dashboard.resolve_period(), None
    return form, dashboard.figures(request.user, period=period, region=region)



class DashboardView(ScopedViewMixin, View):
    """GET the dashboard: grade distribution, movements, lists, repairs, the map and the risk panel."""

    queryset = EntityScore.objects.all()
    template_name = "credit/dashboard/dashboard.html"

    def get(self, request, *args, **kwargs):
        form, data = _figures(request)
        context = {
            "title": _("信用监管看板"),
            "form": form,
            "data": data,
            "grades": dashboard.GRADES,
            "risks": dashboard.RISKS,
            "export_tables": dashboard.EXPORT_TABLES,
            "query_string": request.GET.urlencode(),
            "map_i18n": {"low_share": _("C、D 级占比"), "total": _("评分主体数"), "low": _("C、D 级主体数"),
                         "average": _("平均信用分"), "none": _("暂无评分数据")},
        }
        return render(request, self.template_name, context, status=200 if data is not None else 400)


class DashboardExportView(ScopedViewMixin, View):
    """One dashboard table as CSV or XLSX (Chinese headers), with the page's filters."""

    queryset = EntityScore.objects.all()

    def get(self, request, table: str, fmt: str, *args, **kwargs):
        if table not in dashboard.EXPORT_TABLES:
            raise Http404(_("没有这张统计表。"))
        if fmt not in ("csv", "xlsx"):
            return HttpResponseBadRequest(_("不支持的导出格式：%(fmt)s（可选 csv 或 xlsx）。") % {"fmt": fmt})
        if not dashboard.can_view(request.user):
            raise PermissionDenied(_("信用监管看板仅供监管人员查看。"))
        form, data = _figures(request)
        if data is None:
            return HttpResponseBadRequest(_("筛选条件有误，未导出：%(errors)s") % {
                "errors": "；".join(str(e) for errors in form.errors.values() for e in errors)})
        headers, rows = dashboard.export_table(data, table)
        columns = [(str(index), header) for index, header in enumerate(headers)]
        return export_response(ComputedRows(rows), columns, fmt, str(dashboard.EXPORT_TABLES[table]))
