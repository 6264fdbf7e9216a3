"""Filter sets shared by pages and API: one FilterSet drives both the page filters and the API
query parameters."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_filters.widgets import BooleanWidget
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from qualitygov.core.models import AuditLog, Region, region_prefix, region_q


class BaseFilterSet(django_filters.FilterSet):
    """Adds ``q``, a free-text search over ``search_fields``."""

    search_fields: tuple[str, ...] = ()

    q = django_filters.CharFilter(method="search", label=_("搜索"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = getattr(self.request, "user", None)
        prefix = getattr(user, "region_prefix", None) if getattr(user, "is_authenticated", False) else None
        for name, filter_ in self.filters.items():
            if isinstance(filter_, RegionPrefixFilter) and prefix:
                # Offer only the regions inside the user's own jurisdiction.
                self.form.fields[name].queryset = Region.objects.filter(region_q("code", prefix))
        _style_filter_form(self.form)

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
        return queryset.filter(region_q(self.region_field, region_prefix(value.code)))


class AuditLogFilterSet(BaseFilterSet):
    search_fields = ("object_repr__icontains", "username__icontains", "object_id")
    action = django_filters.ChoiceFilter(choices=AuditLog.Action.choices, label=_("操作"))
    time_after = django_filters.DateFilter(field_name="time", lookup_expr="date__gte", label=_("起始日期"))
    time_before = django_filters.DateFilter(field_name="time", lookup_expr="date__lte", label=_("截止日期"))

    class Meta:
        model = AuditLog
        fields = ["action", "username"]


def _style_filter_form(form) -> None:
    """Bootstrap classes for the page filters; several-choice filters become check boxes."""
    from django import forms

    for name, field in form.fields.items():
        widget = field.widget
        if isinstance(widget, forms.SelectMultiple):
            field.widget = forms.CheckboxSelectMultiple(choices=widget.choices)
            field.widget.attrs["class"] = "qg-checks"
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select form-select-sm")
            if isinstance(widget, forms.NullBooleanSelect | BooleanWidget):
                # A yes/no filter left empty filters nothing: its empty choice reads "全部", not the
                # widgets' "未知" (unknown), which reads as a value of its own.
                widget.choices = [(value, _("全部") if value in ("", "unknown") else label)
                                  for value, label in widget.choices]
        elif isinstance(widget, forms.DateInput):
            field.widget = forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"},
                                           format="%Y-%m-%d")
        else:
            widget.attrs.setdefault("class", "form-control form-control-sm")
        if name == "q":
            widget.attrs.setdefault("placeholder", _("名称、代码等关键词"))
