"""The spot-check statistics page (issue 3, items 8 and 10): filters, a breakdown table with Wilson
intervals and a totals row, the output-weighted manufacturing pass rate, a bar chart with interval
bars, the Jilin map by prefecture, and CSV/XLSX export of the breakdown.

Thin: the figures come from ``inspection.statistics``; scope from ``Sample.objects.restrict``.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import View

from qualitygov.core.exports import ComputedRows, export_response
from qualitygov.core.models import ProductCategory, Region, region_prefix, region_q
from qualitygov.core.roles import EXPORT, VIEW, Role
from qualitygov.core.views import ScopedViewMixin
from qualitygov.inspection import statistics
from qualitygov.inspection.models import InspectionPlan, Sample, Stage

# Officers read the statistics of their region; inspectors, labs and enterprises do not.
STATISTICS_ROLES = frozenset({Role.PROVINCE_ADMIN, Role.PROVINCE_OFFICER, Role.CITY_OFFICER, Role.COUNTY_OFFICER})

BY_CHOICES = [
    ("city", gettext_lazy("按市（州）")),
    ("county", gettext_lazy("按县（市、区）")),
    ("category", gettext_lazy("按产品类别")),
    ("industry", gettext_lazy("按行业")),
    ("plan", gettext_lazy("按抽查计划")),
    ("size", gettext_lazy("按企业规模")),
    ("stage", gettext_lazy("按抽样环节")),
    ("quarter", gettext_lazy("按季度")),
]
QUARTER_CHOICES = [("", gettext_lazy("全部季度")), ("1", gettext_lazy("第一季度")), ("2", gettext_lazy("第二季度")),
                   ("3", gettext_lazy("第三季度")), ("4", gettext_lazy("第四季度"))]


class StatisticsFilterForm(forms.Form):
    """The page's filters; choices are limited to what the user's scope holds."""

    by = forms.ChoiceField(label=gettext_lazy("统计维度"), choices=BY_CHOICES, required=False)
    year = forms.IntegerField(label=gettext_lazy("年度"), required=False, min_value=2000, max_value=2100)
    quarter = forms.TypedChoiceField(label=gettext_lazy("季度"), choices=QUARTER_CHOICES, coerce=int,
                                     required=False, empty_value=None)
    plan = forms.ModelChoiceField(label=gettext_lazy("抽查计划"), queryset=InspectionPlan.objects.none(),
                                  required=False, empty_label=gettext_lazy("全部计划"))
    category = forms.ModelChoiceField(label=gettext_lazy("产品类别"), queryset=ProductCategory.objects.all(),
                                      required=False, empty_label=gettext_lazy("全部类别"))
    stage = forms.ChoiceField(label=gettext_lazy("抽样环节"), required=False,
                              choices=[("", gettext_lazy("全部环节")), *Stage.choices])
    region = forms.ModelChoiceField(label=gettext_lazy("区划"), queryset=Region.objects.none(), required=False,
                                    empty_label=gettext_lazy("辖区全部"))
    include_provisional = forms.BooleanField(label=gettext_lazy("含未确定结果"), required=False,
                                             help_text=gettext_lazy("默认只统计结果已确定（异议、复检期结束）的批次。"))

    def __init__(self, *args, user, samples, **kwargs):
        super().__init__(*args, **kwargs)
        prefix = user.region_prefix
        plans = InspectionPlan.objects.order_by("-year", "code")
        if prefix is not None and len(prefix) > 2:
            # Plans with samples in a city's or county's scope (a county takes part in the province's
            # plans); the whole province sees every plan without scanning the samples.
            plans = plans.filter(pk__in=samples.order_by().values("plan_id"))
        self.fields["plan"].queryset = plans
        regions = Region.objects.exclude(level=Region.Level.PROVINCE).select_related("parent").order_by("code")
        if prefix is not None:
            regions = regions.filter(region_q("code", prefix))
        self.fields["region"].queryset = regions
        self.fields["region"].label_from_instance = lambda r: r.full_name
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs["class"] = "form-check-input"
            elif isinstance(widget, forms.Select):
                widget.attrs["class"] = "form-select form-select-sm"
            else:
                widget.attrs["class"] = "form-control form-control-sm"



def _pct(value):
    return None if value is None else 100 * value


class StatisticsView(ScopedViewMixin, View):
    """GET the page; ``?export=csv|xlsx`` downloads the breakdown; htmx requests get the results only."""

    queryset = Sample.objects.all()
    template_name = "inspection/statistics.html"
    partial_template_name = "inspection/includes/stats_results.html"

    def get(self, request, *args, **kwargs):
        user = request.user
        if not (user.is_superuser or user.role in STATISTICS_ROLES) or not self.allowed(VIEW):
            raise PermissionDenied(_("抽检统计仅供监管人员查看。"))
        samples = self.restricted(VIEW)
        form = StatisticsFilterForm(request.GET or None, user=user, samples=samples)
        by, filters, provisional = "city", {}, False
        valid = not form.is_bound or form.is_valid()
        if form.is_bound and valid:
            data = form.cleaned_data
            by = data["by"] or "city"
            provisional = data["include_provisional"]
            filters = {"year": data["year"], "quarter": data["quarter"], "plan": data["plan"],
                       "category": data["category"], "stage": data["stage"] or None, "region": data["region"]}
            filters = {key: value for key, value in filters.items() if value not in (None, "")}
        title = _("抽检统计")
        export = request.GET.get("export")
        if export:
            if not self.allowed(EXPORT):
                raise PermissionDenied(_("您没有导出权限。"))
            if not valid:
                return HttpResponseBadRequest(_("筛选条件有误，未导出。"))
            result = statistics.breakdown(self.restricted(EXPORT), by, include_provisional=provisional, **filters)
            label = dict(BY_CHOICES)[by]
            return export_response(ComputedRows(statistics.export_table(result)), statistics.export_columns([by]), export,
                                   f"{title}-{label}")
        context = {"title": title, "form": form, "by": by, "valid": valid,
                   "by_label": statistics.DIMENSIONS[by].label, "can_export": self.allowed(EXPORT),
                   "chart_i18n": {"rate": _("合格率"), "interval": _("95% 置信区间"), "tested": _("检验批次"),
                                  "none": _("无检验结果")}}
        if valid:
            context.update(self._figures(samples, by, filters, provisional))
        query = request.GET.copy()
        query.pop("export", None)
        context["query_string"] = query.urlencode()
        template = self.partial_template_name if getattr(request, "htmx", False) else self.template_name
        return render(request, template, context)

    def _figures(self, samples, by, filters, provisional) -> dict:
        result = statistics.breakdown(samples, by, include_provisional=provisional, **filters)
        user = self.request.user
        weights_region = filters.get("region") or (user.region if user.region_prefix else None)
        weighted = statistics.manufacturing_pass_rate(
            samples, include_provisional=provisional, weights_region=getattr(weights_region, "pk", None), **filters)
        by_city = result if by == "city" else statistics.breakdown(samples, "city", include_provisional=provisional,
                                                                   **filters)
        city_rows = {row["city"]: row for row in by_city["rows"]}
        map_data = []
        for city in Region.objects.filter(level=Region.Level.CITY).order_by("code"):
            row = city_rows.get(region_prefix(city.code))
            item = {"name": city.name, "code": city.code, "label": str(city)}
            if row and row["tested"]:
                item.update(value=round(100 * row["pass_rate"], 2), low=round(100 * row["pass_rate_low"], 2),
                            high=round(100 * row["pass_rate_high"], 2), tested=row["tested"])
            map_data.append(item)
        chart_data = [{"label": row[f"{by}_label"], "rate": round(100 * row["pass_rate"], 2),
                       "low": round(100 * row["pass_rate_low"], 2), "high": round(100 * row["pass_rate_high"], 2),
                       "tested": row["tested"]} for row in result["rows"] if row["tested"]]
        for row in [*result["rows"], result["totals"]]:
            row["pct"] = {key: _pct(row[key]) for key in ("pass_rate", "nonconformity_rate", "pass_rate_low",
                                                          "pass_rate_high")}
        for row in weighted["industries"]:
            row["pass_pct"] = _pct(row["pass_rate"])
            row["weight_pct"] = _pct(row.get("weight"))
        return {
            "result": result,
            "rows": [{**row, "label": row[f"{by}_label"]} for row in result["rows"]],
            "totals": result["totals"],
            "weighted": weighted,
            "weighted_pct": _pct(weighted["rate"]),
            "weighted_unweighted_pct": _pct(weighted["unweighted_rate"]),
            "weighted_coverage_pct": _pct(weighted["coverage"]),
            "map_data": map_data,
            "chart_data": chart_data,
        }
