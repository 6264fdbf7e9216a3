"""Filter sets shared by pages and API: one FilterSet drives both the page filters and the API
query parameters."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from qualitygov.core.models import AuditLog, Region, region_prefix


class BaseFilterSet(django_filters.FilterSet):
    """Adds ``q``, a free-text search over ``search_fields``."""

    search_fields: tuple[str, ...] = ()

    q = django_filters.CharFilter(method="search", label=_("搜索"))

    def search(self, queryset, name, value):
        value = value.strip()
        if not value or not self.search_fields:
            return queryset
        condition = Q()
        for field in self.search_fields:
            condition |= Q(**{field: value})
        return queryset.filter(condition)


@extend_schema_field(OpenApiTypes.STR)
class RegionPrefixFilter(django_filters.ModelChoiceFilter):
    """Filter by a region and everything inside it (a city includes its counties)."""

    def __init__(self, *args, region_field: str = "region__code", **kwargs):
        self.region_field = region_field
        kwargs.setdefault("queryset", Region.objects.all())
        kwargs.setdefault("label", _("区划"))
        kwargs.setdefault("method", self._filter)
        super().__init__(*args, **kwargs)

    def _filter(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(**{f"{self.region_field}__startswith": region_prefix(value.code)})


class AuditLogFilterSet(BaseFilterSet):
    search_fields = ("object_repr__icontains", "username__icontains", "object_id")
    action = django_filters.ChoiceFilter(choices=AuditLog.Action.choices, label=_("操作"))
    time_after = django_filters.DateFilter(field_name="time", lookup_expr="date__gte", label=_("起始日期"))
    time_before = django_filters.DateFilter(field_name="time", lookup_expr="date__lte", label=_("截止日期"))

    class Meta:
        model = AuditLog
        fields = ["action", "username"]
