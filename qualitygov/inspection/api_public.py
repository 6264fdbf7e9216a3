"""Public, read-only spot-check endpoints (no sign-in): published results and published draws.

Only what ``publication.public_results()`` and ``planning.published_draws()`` return is shown —
never a result before it is final and published, never an unpublished draw. Requests are throttled
under the ``public`` scope when ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["public"]`` is set
(e.g. ``"120/min"``); without that rate nothing is throttled.
"""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle

from qualitygov.inspection import planning, publication
from qualitygov.inspection.api import draws_for_list
from qualitygov.inspection.models import RandomDraw, Sample, Verdict

__all__ = ["PublicResultViewSet", "PublicDrawViewSet", "PublicRateThrottle"]


class PublicRateThrottle(UserRateThrottle):
    """Per client (user or address) under the ``public`` scope; off unless a rate is configured."""

    scope = "public"

    def get_rate(self):
        # Read at request time (not import time) so that a configured rate is always honoured.
        return (api_settings.DEFAULT_THROTTLE_RATES or {}).get(self.scope)


class PublicResultSerializer(serializers.ModelSerializer):
    plan = serializers.CharField(source="plan.code", read_only=True, label=_("计划编号"))
    plan_title = serializers.CharField(source="plan.title", read_only=True, label=_("抽查计划"))
    category = serializers.CharField(source="category_id", read_only=True, label=_("产品类别代码"))
    category_name = serializers.CharField(source="category.name", read_only=True, label=_("产品类别"))
    product = serializers.CharField(source="product_name", read_only=True, label=_("样品名称"))
    entity_name = serializers.CharField(source="entity.name", read_only=True, label=_("被抽查主体名称"))
    entity_uscc = serializers.CharField(source="entity.uscc", read_only=True, label=_("统一社会信用代码"))
    region_name = serializers.CharField(source="region.name", read_only=True, label=_("所在区划"))
    verdict_display = serializers.CharField(source="get_verdict_display", read_only=True, label=_("检验结论"))
    failing_items = serializers.SerializerMethodField(label=_("不合格项目"))

    class Meta:
        model = Sample
        fields = ["number", "plan", "plan_title", "category", "category_name", "product", "brand", "specification",
                  "entity_name", "entity_uscc", "region", "region_name", "batch_number", "production_date",
                  "sampled_on", "outcome", "verdict", "verdict_display", "failing_items", "published_on"]
        read_only_fields = fields

    def get_failing_items(self, sample) -> list[str]:
        # Names only (with the item class): the published notice lists the failing items, not the lab's values.
        return [f"{item.get('name', item.get('code', ''))}（{item.get('class', '')}类）" if item.get("class")
                else item.get("name", item.get("code", "")) for item in sample.failing_items or []]


class PublicResultFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("搜索（产品、企业名称、信用代码、批号）"))
    plan = django_filters.CharFilter(field_name="plan__code", label=_("计划编号"))
    category = django_filters.CharFilter(field_name="category_id", lookup_expr="startswith", label=_("产品类别代码"))
    uscc = django_filters.CharFilter(field_name="entity__uscc", lookup_expr="iexact", label=_("统一社会信用代码"))
    outcome = django_filters.ChoiceFilter(choices=Sample.Outcome.choices, label=_("抽样结果"))
    verdict = django_filters.ChoiceFilter(choices=Verdict.choices, label=_("检验结论"))
    published_after = django_filters.DateFilter(field_name="published_on", lookup_expr="gte", label=_("公布日期起"))
    published_before = django_filters.DateFilter(field_name="published_on", lookup_expr="lte", label=_("公布日期止"))

    class Meta:
        model = Sample
        fields = ["q", "plan", "category", "uscc", "outcome", "verdict", "published_after", "published_before"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(product_name__icontains=value) | Q(entity__name__icontains=value)
                               | Q(entity__uscc__iexact=value) | Q(batch_number__iexact=value)
                               | Q(brand__icontains=value))


class PublicDrawSerializer(serializers.ModelSerializer):
    region_name = serializers.CharField(source="region.name", read_only=True, label=_("抽取单位所在区划"))
    drawn_count = serializers.SerializerMethodField(label=_("抽中数量"))

    class Meta:
        model = RandomDraw
        fields = ["id", "kind", "title", "region", "region_name", "seed", "algorithm", "candidate_count",
                  "candidate_digest", "outputs_digest", "drawn_count", "drawn_at"]
        read_only_fields = fields

    def get_drawn_count(self, record) -> int:
        total = getattr(record, "drawn_total", None)
        return total if total is not None else record.drawn_count


class PublicDrawDetailSerializer(PublicDrawSerializer):
    class Meta(PublicDrawSerializer.Meta):
        fields = [*PublicDrawSerializer.Meta.fields, "inputs", "outputs"]
        read_only_fields = fields


class PublicViewSet(viewsets.ReadOnlyModelViewSet):
    # No authentication at all: a stale token must not turn a public page into a 401.
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [PublicRateThrottle]


@extend_schema_view(list=extend_schema(summary=_("公布的监督抽查结果"), tags=["public"]),
                    retrieve=extend_schema(summary=_("公布的监督抽查结果详情"), tags=["public"]))
class PublicResultViewSet(PublicViewSet):
    """Published spot-check results: plan, product, brand, specification, entity, batch, verdict and
    failing items. No sign-in needed."""

    queryset = publication.public_results()
    serializer_class = PublicResultSerializer
    filterset_class = PublicResultFilterSet
    ordering_fields = ["published_on", "number", "sampled_on"]
    lookup_field = "number"

    def get_queryset(self):
        # Re-evaluated per request: ``queryset`` is built once at import.
        return publication.public_results()


@extend_schema_view(list=extend_schema(summary=_("公开的随机抽取记录"), tags=["public"]),
                    retrieve=extend_schema(summary=_("公开的随机抽取记录详情（可据此复核）"), tags=["public"]))
class PublicDrawViewSet(PublicViewSet):
    """Random draws the planning units published, with the seed and every input needed to re-run them."""

    queryset = planning.published_draws().select_related("region")
    serializer_class = PublicDrawSerializer
    filterset_fields = ["kind", "region"]
    ordering_fields = ["drawn_at"]

    def get_queryset(self):
        queryset = planning.published_draws().select_related("region")
        return draws_for_list(queryset) if self.action == "list" else queryset

    def get_serializer_class(self):
        return PublicDrawSerializer if self.action == "list" else PublicDrawDetailSerializer
