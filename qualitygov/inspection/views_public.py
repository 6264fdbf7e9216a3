"""The public portal of spot checks (no sign-in): published results and published random draws.

Only what the services publish is shown: results from ``publication.public_results()`` (final and
published) and draw records marked ``published``; anything else is a 404, as if it did not exist.
A draw record is shown with everything needed to re-run it (seed, inputs, drawn list, digests) and
can be downloaded as JSON.
"""

from __future__ import annotations

import json

import django_filters
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _
from django.views import View

from qualitygov.core.filtersets import BaseFilterSet
from qualitygov.core.models import ProductCategory, Region, region_prefix, region_q
from qualitygov.inspection import draw, planning, publication
from qualitygov.inspection.models import RandomDraw, Sample, TestItem, Verdict

# The province whose portal this is (GB/T 2260: 22 = 吉林省); its cities are the region filter.
PROVINCE_PREFIX = "22"
PUBLIC_PAGE_SIZE = 25
OUTCOME_REFUSED = "refused"


class PublicResultFilterSet(BaseFilterSet):
    """Filters of the public result list: plan or year, category, city, verdict, entity name or USCC."""

    search_fields = ("entity__name__icontains", "entity__uscc__istartswith", "product_name__icontains")
    year = django_filters.NumberFilter(field_name="plan__year", label=_("年度"))
    plan = django_filters.CharFilter(method="filter_plan", label=_("抽查计划"))
    category = django_filters.ModelChoiceFilter(queryset=ProductCategory.objects.all(), method="filter_category",
                                                label=_("产品类别"))
    city = django_filters.ModelChoiceFilter(queryset=Region.objects.none(), method="filter_city",
                                            label=_("所在地区"))
    verdict = django_filters.ChoiceFilter(choices=[*Verdict.choices, (OUTCOME_REFUSED, _("拒检"))],
                                          method="filter_verdict", label=_("检验结论"))

    class Meta:
        model = Sample
        fields = ["q", "year", "plan", "category", "city", "verdict"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.fields["city"].queryset = Region.objects.filter(region_q("code", PROVINCE_PREFIX),
                                                                  level=Region.Level.CITY)
        self.form.fields["q"].widget.attrs["placeholder"] = _("企业名称、统一社会信用代码或产品名称")

    def filter_plan(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(plan__code__iexact=value) | Q(plan__title__icontains=value)) if value else queryset

    def filter_category(self, queryset, name, value):
        return queryset.filter(category__code__startswith=value.code) if value else queryset

    def filter_city(self, queryset, name, value):
        return queryset.filter(region_q("region__code", region_prefix(value.code))) if value else queryset

    def filter_verdict(self, queryset, name, value):
        if value == OUTCOME_REFUSED:
            return queryset.filter(outcome=Sample.Outcome.REFUSED)
        return queryset.filter(outcome=Sample.Outcome.SAMPLED, verdict=value) if value else queryset


def _page(request, queryset):
    paginator = Paginator(queryset, PUBLIC_PAGE_SIZE)
    return paginator.get_page(request.GET.get("page"))


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


class PublicResultListView(View):
    """Published results, newest first, with filters and paging."""

    template_name = "public/result_list.html"

    def get(self, request):
        filterset = PublicResultFilterSet(request.GET or None, queryset=publication.public_results(),
                                          request=request)
        rows = filterset.qs if not filterset.is_bound or filterset.is_valid() else Sample.objects.none()
        page = _page(request, rows)
        context = {"title": _("监督抽查结果公示"), "filter_form": filterset.form, "filterset": filterset, "page": page,
                   "query": _query_without_page(request)}
        template = "public/result_table.html" if request.htmx else self.template_name
        return render(request, template, context)


class PublicResultDetailView(View):
    """One published result, found by its sampling-record number."""

    template_name = "public/result_detail.html"

    def get(self, request, number: str):
        sample = get_object_or_404(publication.public_results().select_related("rule_version", "rule_version__rule"),
                                   number=number)
        # The requirement of each failing item, from the rule version the sample was judged by.
        codes = [item.get("code") for item in sample.failing_items]
        limits = {item.code: item for item in TestItem.objects.filter(version=sample.rule_version, code__in=codes)}
        failing = [{**item, "limit": limits[item["code"]].limit_text() if item.get("code") in limits else "",
                    "standard": limits[item["code"]].standard if item.get("code") in limits else ""}
                   for item in sample.failing_items]
        return render(request, self.template_name, {"title": str(sample.number), "sample": sample,
                                                    "failing": failing})


def _published_draws():
    return planning.published_draws().select_related("region")


class PublicDrawListView(View):
    """Published random draws (双随机 公示), newest first."""

    template_name = "public/draw_list.html"

    def get(self, request):
        kind = request.GET.get("kind")
        draws = _published_draws()
        if kind in RandomDraw.Kind.values:
            draws = draws.filter(kind=kind)
        return render(request, self.template_name, {"title": _("随机抽取结果公示"), "page": _page(request, draws),
                                                    "kinds": RandomDraw.Kind.choices, "kind": kind,
                                                    "query": _query_without_page(request)})


def draw_record_json(record: RandomDraw) -> dict:
    """Everything a reader needs to re-run a draw and check it, as stored."""
    return {
        "id": record.pk, "kind": record.kind, "title": record.title, "region": record.region_id,
        "drawn_at": record.drawn_at.isoformat(), "seed": record.seed, "algorithm": record.algorithm,
        "inputs": record.inputs, "outputs": record.outputs, "candidate_count": record.candidate_count,
        "candidate_digest": record.candidate_digest, "outputs_digest": record.outputs_digest,
    }


class PublicDrawDetailView(View):
    """A published draw: seed, inputs, drawn list and digests; ``?format=json`` downloads the record."""

    template_name = "public/draw_detail.html"

    def get(self, request, pk: int):
        record = get_object_or_404(_published_draws(), pk=pk)
        if request.GET.get("format") == "json":
            response = JsonResponse(draw_record_json(record), json_dumps_params={"ensure_ascii": False, "indent": 2})
            response["Content-Disposition"] = f'attachment; filename="random-draw-{record.pk}.json"'
            return response
        inputs = record.inputs or {}
        return render(request, self.template_name, {
            "title": record.title or record.get_kind_display(), "record": record,
            "items": (record.outputs or {}).get("items", []),
            "inputs_json": json.dumps(inputs, ensure_ascii=False, indent=2, sort_keys=True),
            "algorithm_is_current": record.algorithm in draw.COMPATIBLE_VERSIONS.get(record.kind,
                                                                                     {draw.ALGORITHM_VERSION}),
        })


__all__ = ["PublicResultListView", "PublicResultDetailView", "PublicDrawListView", "PublicDrawDetailView"]
