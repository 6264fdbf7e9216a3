"""Filter sets for the credit ledger and the credit lists, shared by the list pages and the API."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from qualitygov.core.filtersets import BaseFilterSet, RegionPrefixFilter
from qualitygov.credit.models import CreditRecord, Kind, ListEntry, Polarity


class CreditRecordFilterSet(BaseFilterSet):
    search_fields = ("entity__name__icontains", "entity__uscc__istartswith", "summary__icontains",
                     "department__icontains")
    kind = django_filters.MultipleChoiceFilter(choices=Kind.choices, label=_("信用事项"))
    polarity = django_filters.ChoiceFilter(choices=Polarity.choices, label=_("性质"))
    state = django_filters.MultipleChoiceFilter(choices=CreditRecord.State.choices, label=_("状态"))
    region = RegionPrefixFilter(region_field="entity__region__code")
    uscc = django_filters.CharFilter(field_name="entity__uscc", lookup_expr="iexact", label=_("统一社会信用代码"))
    occurred_after = django_filters.DateFilter(field_name="occurred_on", lookup_expr="gte", label=_("发生日期起"))
    occurred_before = django_filters.DateFilter(field_name="occurred_on", lookup_expr="lte", label=_("发生日期止"))
    publishable = django_filters.BooleanFilter(label=_("可公示"))
    source_module = django_filters.CharFilter(label=_("来源模块"))
    entity = django_filters.NumberFilter(field_name="entity_id", label=_("市场主体编号"))

    class Meta:
        model = CreditRecord
        fields = ["q", "uscc", "kind", "polarity", "state", "region", "occurred_after", "occurred_before",
                  "publishable", "source_module", "entity"]


class ListEntryFilterSet(BaseFilterSet):
    """Filters of the credit-list page and the scoped API: list, status, region, entity name or USCC."""

    search_fields = ("entity__name__icontains", "entity__uscc__istartswith", "decision_number__icontains")
    kind = django_filters.ChoiceFilter(choices=ListEntry.Kind.choices, label=_("名单类型"))
    status = django_filters.ChoiceFilter(choices=ListEntry.Status.choices, label=_("状态"))
    region = RegionPrefixFilter(region_field="entity__region__code")
    uscc = django_filters.CharFilter(field_name="entity__uscc", lookup_expr="iexact", label=_("统一社会信用代码"))
    listed_after = django_filters.DateFilter(field_name="listed_on", lookup_expr="gte", label=_("列入日期起"))
    listed_before = django_filters.DateFilter(field_name="listed_on", lookup_expr="lte", label=_("列入日期止"))

    class Meta:
        model = ListEntry
        fields = ["q", "kind", "status", "region", "uscc", "listed_after", "listed_before"]
