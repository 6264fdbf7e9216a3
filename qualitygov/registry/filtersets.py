"""Filter sets for the registry, shared by the list pages and the API."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from qualitygov.core.filtersets import BaseFilterSet, RegionPrefixFilter
from qualitygov.core.models import Industry, ProductCategory
from qualitygov.registry.models import Licence, MarketEntity, Product, QualityPerson


class MarketEntityFilterSet(BaseFilterSet):
    search_fields = ("name__icontains", "uscc__istartswith", "legal_representative__icontains",
                     "address__icontains")
    region = RegionPrefixFilter(region_field="region__code")
    industry = django_filters.ModelChoiceFilter(queryset=Industry.objects.filter(level="division"),
                                                label=_("所属行业"))
    status = django_filters.MultipleChoiceFilter(choices=MarketEntity.Status.choices, label=_("登记状态"))
    size_class = django_filters.MultipleChoiceFilter(choices=MarketEntity.SizeClass.choices, label=_("企业规模"))
    registered_after = django_filters.DateFilter(field_name="registration_date", lookup_expr="gte",
                                                 label=_("成立日期起"))
    registered_before = django_filters.DateFilter(field_name="registration_date", lookup_expr="lte",
                                                  label=_("成立日期止"))
    uscc = django_filters.CharFilter(lookup_expr="iexact", label=_("统一社会信用代码"))

    class Meta:
        model = MarketEntity
        fields = ["q", "uscc", "region", "industry", "status", "size_class"]


class QualityPersonFilterSet(BaseFilterSet):
    search_fields = ("name__icontains", "entity__name__icontains", "entity__uscc__istartswith")
    region = RegionPrefixFilter(region_field="entity__region__code")
    position = django_filters.ChoiceFilter(choices=QualityPerson.Position.choices, label=_("职务"))
    entity = django_filters.NumberFilter(field_name="entity_id", label=_("市场主体编号"))

    class Meta:
        model = QualityPerson
        fields = ["q", "position", "region", "entity"]


class ProductFilterSet(BaseFilterSet):
    search_fields = ("name__icontains", "brand__icontains", "model__icontains", "gtin__istartswith",
                     "producer__name__icontains")
    region = RegionPrefixFilter(region_field="producer__region__code")
    category = django_filters.ModelChoiceFilter(queryset=ProductCategory.objects.all(), method="filter_category",
                                                label=_("产品类别"))
    is_key = django_filters.BooleanFilter(label=_("重点监管产品"))
    producer = django_filters.NumberFilter(field_name="producer_id", label=_("生产者编号"))
    gtin = django_filters.CharFilter(lookup_expr="exact", label=_("GTIN"))

    class Meta:
        model = Product
        fields = ["q", "category", "is_key", "region", "producer", "gtin"]

    def filter_category(self, queryset, name, value):
        # A group selects all its categories.
        return queryset.filter(category__code__startswith=value.code) if value else queryset


class LicenceFilterSet(BaseFilterSet):
    search_fields = ("number__icontains", "entity__name__icontains", "entity__uscc__istartswith", "issuer__icontains")
    region = RegionPrefixFilter(region_field="entity__region__code")
    kind = django_filters.MultipleChoiceFilter(choices=Licence.Kind.choices, label=_("证书类型"))
    status = django_filters.MultipleChoiceFilter(choices=Licence.Status.choices, label=_("证书状态"))
    expiring_within = django_filters.NumberFilter(method="filter_expiring", label=_("多少天内到期"),
                                                  min_value=0, max_value=3650)
    valid_until_before = django_filters.DateFilter(field_name="valid_until", lookup_expr="lte", label=_("有效期至（止）"))
    entity = django_filters.NumberFilter(field_name="entity_id", label=_("持证主体编号"))

    class Meta:
        model = Licence
        fields = ["q", "kind", "status", "region", "expiring_within", "entity"]

    def filter_expiring(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.expiring_within(int(value))
