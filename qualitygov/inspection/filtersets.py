"""Filter sets of the spot-check module, shared by the back-office list pages and the API.

One FilterSet drives both the page filters (its form) and the API's query parameters. Scope is never
applied here: the views and viewsets hand in a queryset already narrowed by ``restrict``.
"""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from qualitygov.core.filtersets import BaseFilterSet, RegionPrefixFilter
from qualitygov.core.models import ProductCategory, User, region_q
from qualitygov.core.roles import Role
from qualitygov.inspection.models import (
    ImplementationRule,
    InspectionPlan,
    InspectionTask,
    Objection,
    RandomDraw,
    Rectification,
    Sample,
    Stage,
    TestingLab,
    Verdict,
)

__all__ = [
    "InspectionPlanFilterSet", "InspectionTaskFilterSet", "RandomDrawFilterSet", "ImplementationRuleFilterSet",
    "TestingLabFilterSet", "SampleFilterSet", "ObjectionFilterSet", "RectificationFilterSet",
    "CategoryPrefixFilter",
]


@extend_schema_field(OpenApiTypes.STR)
class CategoryPrefixFilter(django_filters.ModelChoiceFilter):
    """A product category and every category under it (codes are hierarchical: ``06`` holds ``0601``)."""

    def __init__(self, *args, category_field: str = "category__code", **kwargs):
        self.category_field = category_field
        kwargs.setdefault("queryset", ProductCategory.objects.all())
        kwargs.setdefault("label", _("产品类别"))
        kwargs.setdefault("method", self._filter)
        super().__init__(*args, **kwargs)

    def _filter(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(**{f"{self.category_field}__startswith": value.code})


class InspectionPlanFilterSet(BaseFilterSet):
    search_fields = ("code__icontains", "title__icontains")
    year = django_filters.NumberFilter(label=_("年度"), min_value=2000, max_value=2100)
    quarter = django_filters.ChoiceFilter(choices=[(n, str(n)) for n in range(1, 5)], label=_("季度"))
    period = django_filters.ChoiceFilter(choices=InspectionPlan.Period.choices, label=_("计划周期"))
    status = django_filters.MultipleChoiceFilter(choices=InspectionPlan.Status.choices, label=_("状态"))
    region = RegionPrefixFilter(region_field="region__code", label=_("组织单位所在区划"))

    class Meta:
        model = InspectionPlan
        fields = ["q", "year", "quarter", "period", "status", "region"]


class InspectionTaskFilterSet(BaseFilterSet):
    search_fields = ("entity__name__icontains", "entity__uscc__istartswith", "quota__plan__code__icontains")
    plan = django_filters.NumberFilter(field_name="quota__plan_id", label=_("计划编号（ID）"))
    quota = django_filters.NumberFilter(field_name="quota_id", label=_("任务分配编号（ID）"))
    status = django_filters.MultipleChoiceFilter(choices=InspectionTask.Status.choices, label=_("状态"))
    region = RegionPrefixFilter(region_field="entity__region__code", label=_("被抽查主体所在区划"))
    category = CategoryPrefixFilter(category_field="quota__category__code")
    stage = django_filters.ChoiceFilter(field_name="quota__stage", choices=Stage.choices, label=_("抽样环节"))
    inspector = django_filters.ModelChoiceFilter(
        queryset=User.objects.filter(role=Role.INSPECTOR, is_active=True), method="filter_inspector",
        label=_("抽样人员"))
    mine = django_filters.BooleanFilter(method="filter_mine", label=_("只看我的任务"),
                                        widget=django_filters.widgets.BooleanWidget())

    class Meta:
        model = InspectionTask
        fields = ["q", "mine", "plan", "quota", "status", "region", "category", "stage", "inspector"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = getattr(self.request, "user", None)
        prefix = getattr(user, "region_prefix", None) if getattr(user, "is_authenticated", False) else None
        if prefix:
            # Offer the inspectors of the user's own jurisdiction, as the region filter does.
            self.form.fields["inspector"].queryset = User.objects.filter(
                region_q("region_id", prefix), role=Role.INSPECTOR, is_active=True)

    @extend_schema_field(OpenApiTypes.INT)
    def filter_inspector(self, queryset, name, value):
        if not value:
            return queryset
        # EXISTS rather than a join: a task has several inspectors and must appear once.
        through = InspectionTask.inspectors.through
        return queryset.filter(Exists(through.objects.filter(inspectiontask_id=OuterRef("pk"), user_id=value.pk)))

    def filter_mine(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        if not value or user is None or not user.is_authenticated:
            return queryset
        through = InspectionTask.inspectors.through
        return queryset.filter(Exists(through.objects.filter(inspectiontask_id=OuterRef("pk"), user_id=user.pk)))


class RandomDrawFilterSet(BaseFilterSet):
    search_fields = ("title__icontains",)
    kind = django_filters.ChoiceFilter(choices=RandomDraw.Kind.choices, label=_("抽取类型"))
    drawn_after = django_filters.DateFilter(field_name="drawn_at", lookup_expr="date__gte", label=_("抽取日期起"))
    drawn_before = django_filters.DateFilter(field_name="drawn_at", lookup_expr="date__lte", label=_("抽取日期止"))
    published = django_filters.BooleanFilter(label=_("已公开"), widget=django_filters.widgets.BooleanWidget())
    region = RegionPrefixFilter(region_field="region__code", label=_("抽取单位所在区划"))
    seed = django_filters.NumberFilter(label=_("随机种子"))

    class Meta:
        model = RandomDraw
        fields = ["q", "kind", "drawn_after", "drawn_before", "published", "region", "seed"]


class ImplementationRuleFilterSet(BaseFilterSet):
    search_fields = ("code__icontains", "title__icontains", "category__name__icontains", "category__code__startswith")
    category = CategoryPrefixFilter(category_field="category__code")

    class Meta:
        model = ImplementationRule
        fields = ["q", "category"]


class TestingLabFilterSet(BaseFilterSet):
    __test__ = False  # a filter set, not a pytest test class

    search_fields = ("name__icontains", "accreditation_no__icontains")
    region = RegionPrefixFilter(region_field="region__code", label=_("所在区划"))
    category = django_filters.ModelChoiceFilter(queryset=ProductCategory.objects.all(), method="filter_category",
                                                label=_("检验能力范围"))
    active = django_filters.BooleanFilter(label=_("有效"), widget=django_filters.widgets.BooleanWidget())

    class Meta:
        model = TestingLab
        fields = ["q", "region", "category", "active"]

    @extend_schema_field(OpenApiTypes.STR)
    def filter_category(self, queryset, name, value):
        if not value:
            return queryset
        # A lab able to test a group tests its categories, and one able to test a category covers that
        # part of its group: the same overlap ``planning.add_quota`` checks.
        code = value.code
        ancestors = [code[:n] for n in range(1, len(code) + 1)]
        through = TestingLab.categories.through
        covers = Exists(through.objects.filter(Q(productcategory_id__in=ancestors) | Q(productcategory__code__startswith=code),
                                               testinglab_id=OuterRef("pk")))
        # A lab that declares no scope may be given any category (``add_quota`` checks only a declared scope).
        unrestricted = ~Exists(through.objects.filter(testinglab_id=OuterRef("pk")))
        return queryset.filter(covers | unrestricted)


class SampleFilterSet(BaseFilterSet):
    search_fields = ("number__icontains", "product_name__icontains", "entity__name__icontains")
    number = django_filters.CharFilter(field_name="number", lookup_expr="iexact", label=_("抽样单编号"))
    plan = django_filters.NumberFilter(field_name="plan_id", label=_("计划编号（ID）"))
    task = django_filters.NumberFilter(field_name="task_id", label=_("抽样任务编号（ID）"))
    entity = django_filters.NumberFilter(field_name="entity_id", label=pgettext_lazy("field", "市场主体编号"))
    category = CategoryPrefixFilter(category_field="category__code")
    region = RegionPrefixFilter(region_field="region__code", label=_("所在区划"))
    status = django_filters.MultipleChoiceFilter(choices=Sample.Status.choices, label=_("状态"))
    outcome = django_filters.ChoiceFilter(choices=Sample.Outcome.choices, label=_("抽样结果"))
    verdict = django_filters.MultipleChoiceFilter(choices=Verdict.choices, label=_("检验结论"))
    stage = django_filters.ChoiceFilter(choices=Stage.choices, label=_("抽样环节"))
    sampled_on_after = django_filters.DateFilter(field_name="sampled_on", lookup_expr="gte", label=_("抽样日期起"))
    sampled_on_before = django_filters.DateFilter(field_name="sampled_on", lookup_expr="lte", label=_("抽样日期止"))

    class Meta:
        model = Sample
        fields = ["q", "number", "plan", "task", "entity", "category", "region", "status", "outcome", "verdict",
                  "stage", "sampled_on_after", "sampled_on_before"]


class ObjectionFilterSet(BaseFilterSet):
    search_fields = ("sample__number__icontains", "sample__entity__name__icontains",
                     "sample__product_name__icontains")
    status = django_filters.MultipleChoiceFilter(choices=Objection.Status.choices, label=_("状态"))
    decision = django_filters.ChoiceFilter(choices=Objection.Decision.choices, label=_("复检结论"))
    plan = django_filters.NumberFilter(field_name="sample__plan_id", label=_("计划编号（ID）"))
    sample = django_filters.NumberFilter(field_name="sample_id", label=_("抽样单编号（ID）"))
    region = RegionPrefixFilter(region_field="sample__region__code", label=_("所在区划"))
    category = CategoryPrefixFilter(category_field="sample__category__code")
    filed_on_after = django_filters.DateFilter(field_name="filed_on", lookup_expr="gte", label=_("申请日期起"))
    filed_on_before = django_filters.DateFilter(field_name="filed_on", lookup_expr="lte", label=_("申请日期止"))

    class Meta:
        model = Objection
        fields = ["q", "status", "decision", "plan", "sample", "region", "category", "filed_on_after",
                  "filed_on_before"]


class RectificationFilterSet(BaseFilterSet):
    search_fields = ("sample__number__icontains", "sample__entity__name__icontains",
                     "sample__product_name__icontains")
    status = django_filters.MultipleChoiceFilter(choices=Rectification.Status.choices, label=_("状态"))
    plan = django_filters.NumberFilter(field_name="sample__plan_id", label=_("计划编号（ID）"))
    sample = django_filters.NumberFilter(field_name="sample_id", label=_("抽样单编号（ID）"))
    region = RegionPrefixFilter(region_field="sample__region__code", label=_("所在区划"))
    category = CategoryPrefixFilter(category_field="sample__category__code")
    deadline_after = django_filters.DateFilter(field_name="deadline", lookup_expr="gte", label=_("整改期限起"))
    deadline_before = django_filters.DateFilter(field_name="deadline", lookup_expr="lte", label=_("整改期限止"))

    class Meta:
        model = Rectification
        fields = ["q", "status", "plan", "sample", "region", "category", "deadline_after", "deadline_before"]

