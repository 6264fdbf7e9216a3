"""Credit ledger API: read-only, scoped like the pages. Records are written by ``credit.services``.
The credit lists: a scoped viewset whose POST steps call ``credit.lists`` (a refusal is a 400 with
the service's ``code``) and a public read-only viewset of ``lists.public_entries()``.

Router lines (``qualitygov/api/urls.py``)::

    router.register("credit-records", credit_api.CreditRecordViewSet)
    router.register("credit-lists", credit_api.ListEntryViewSet)
    router.register("public/credit-lists", credit_api.PublicListEntryViewSet, basename="public-credit-list")
"""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from qualitygov.core.api import RestrictedReadOnlyViewSet
from qualitygov.core.roles import CHANGE, VIEW
from qualitygov.credit import lists
from qualitygov.credit.filtersets import CreditRecordFilterSet, ListEntryFilterSet
from qualitygov.credit.models import CreditRecord, ListEntry
from qualitygov.inspection.api_public import PublicViewSet
from qualitygov.registry.models import MarketEntity


class CreditRecordSerializer(serializers.ModelSerializer):
    entity = serializers.SlugRelatedField(slug_field="uscc", read_only=True, label=_("统一社会信用代码"))
    entity_name = serializers.CharField(source="entity.name", read_only=True, label=_("市场主体名称"))
    kind_display = serializers.CharField(source="get_kind_display", read_only=True, label=_("信用事项名称"))

    class Meta:
        model = CreditRecord
        fields = ["id", "entity", "entity_name", "kind", "kind_display", "polarity", "occurred_on", "summary",
                  "details", "department", "source_module", "source_type", "source_id", "publishable",
                  "publish_from", "publish_min_until", "publish_until", "state", "state_reason", "created", "updated"]
        read_only_fields = fields


@extend_schema_view(list=extend_schema(summary=_("信用档案记录列表")), retrieve=extend_schema(summary=_("信用档案记录详情")))
class CreditRecordViewSet(RestrictedReadOnlyViewSet):
    """An entity's credit file, one record per fact; read-only (the modules record through the service)."""

    queryset = CreditRecord.objects.select_related("entity")
    serializer_class = CreditRecordSerializer
    filterset_class = CreditRecordFilterSet
    ordering_fields = ["occurred_on", "kind", "state", "publish_until", "updated"]


# --- The credit lists -------------------------------------------------------------------------------

class ListEntrySerializer(serializers.ModelSerializer):
    entity = serializers.SlugRelatedField(slug_field="uscc", read_only=True, label=_("统一社会信用代码"))
    entity_name = serializers.CharField(source="entity.name", read_only=True, label=_("市场主体名称"))
    region = serializers.CharField(source="entity.region_id", read_only=True, label=_("区划代码"))
    kind_display = serializers.CharField(source="get_kind_display", read_only=True, label=_("名单类型名称"))

    class Meta:
        model = ListEntry
        fields = ["id", "entity", "entity_name", "region", "kind", "kind_display", "status", "grounds", "legal_basis",
                  "decision_number", "department", "listed_on", "early_removal_from", "removal_due_on", "removed_on",
                  "removal_reason", "removal_note", "created", "updated"]
        read_only_fields = fields


class ListingInputSerializer(serializers.Serializer):
    """A listing decision (shape only; the rules are ``lists.list_entity``'s)."""

    uscc = serializers.CharField(max_length=18, label=_("统一社会信用代码"))
    kind = serializers.CharField(max_length=24, label=_("名单类型"))
    grounds = serializers.CharField(allow_blank=True, label=_("列入事由"))
    legal_basis = serializers.CharField(allow_blank=True, label=_("列入依据"))
    decision_number = serializers.CharField(allow_blank=True, label=_("列入决定书文号"))
    department = serializers.CharField(allow_blank=True, label=_("作出决定的部门"))
    listed_on = serializers.DateField(label=_("列入日期"))


class EarlyRemovalInputSerializer(serializers.Serializer):
    on = serializers.DateField(label=_("移出日期"))
    conditions = serializers.DictField(child=serializers.BooleanField(), label=_("已确认的条件"),
                                       help_text=_("键：%(keys)s，值均须为 true。") % {
                                           "keys": "、".join(lists.EARLY_REMOVAL_CONDITIONS)})


class CorrectionInputSerializer(serializers.Serializer):
    on = serializers.DateField(label=_("移出日期"))
    note = serializers.CharField(allow_blank=True, label=_("改正情况"))


class RevokeInputSerializer(serializers.Serializer):
    on = serializers.DateField(label=_("撤销日期"))
    reason = serializers.CharField(allow_blank=True, label=_("撤销原因"))


@extend_schema_view(list=extend_schema(summary=_("名单记录列表（严重违法失信名单、经营异常名录）")),
                    retrieve=extend_schema(summary=_("名单记录详情")))
class ListEntryViewSet(RestrictedReadOnlyViewSet):
    """Entries of the two credit lists in the user's scope (region; an enterprise its own entity), and
    the officers' steps: list an entity, remove early, remove on correction, revoke. Each step is
    one call to ``credit.lists``; a refusal answers 400 with the service's ``code``."""

    queryset = ListEntry.objects.select_related("entity")
    serializer_class = ListEntrySerializer
    filterset_class = ListEntryFilterSet
    ordering_fields = ["listed_on", "removal_due_on", "removed_on", "kind", "status"]
    lookup_value_regex = r"\d+"
    # The removal steps act on an existing entry: scope it for CHANGE, not for POST's default ADD.
    _change_actions = frozenset({"remove_early", "remove_on_correction", "revoke"})

    def get_queryset(self):
        if self.action in self._change_actions:
            return ListEntry.objects.select_related("entity").restrict(self.request.user, CHANGE)
        return super().get_queryset()

    def _input(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _entry(self, entry, code=status.HTTP_200_OK) -> Response:
        return Response(ListEntrySerializer(ListEntry.objects.select_related("entity").get(pk=entry.pk)).data,
                        status=code)

    @extend_schema(summary=_("作出列入决定"), request=ListingInputSerializer, responses={201: ListEntrySerializer})
    @action(detail=False, methods=["post"], url_path="list")
    def list_entity(self, request):
        data = self._input(ListingInputSerializer)
        # The entity must be one the user may see (and so act on): scope through restrict().
        entity = MarketEntity.objects.restrict(request.user, VIEW).filter(uscc=data["uscc"].strip().upper()).first()
        if entity is None:
            raise lists.ListRefused({"uscc": _("未找到该统一社会信用代码的市场主体，或不在您的辖区内。")},
                                    code="unknown_entity")
        entry = lists.list_entity(entity, kind=data["kind"], grounds=data["grounds"], legal_basis=data["legal_basis"],
                                  decision_number=data["decision_number"], department=data["department"],
                                  listed_on=data["listed_on"], user=request.user)
        return self._entry(entry, status.HTTP_201_CREATED)

    @extend_schema(summary=_("申请提前移出严重违法失信名单"), request=EarlyRemovalInputSerializer,
                   responses={200: ListEntrySerializer})
    @action(detail=True, methods=["post"], url_path="remove-early")
    def remove_early(self, request, pk=None):
        entry = self.get_object()
        data = self._input(EarlyRemovalInputSerializer)
        return self._entry(lists.remove_early(entry, user=request.user, on=data["on"], conditions=data["conditions"]))

    @extend_schema(summary=_("改正后移出经营异常名录"), request=CorrectionInputSerializer,
                   responses={200: ListEntrySerializer})
    @action(detail=True, methods=["post"], url_path="remove-on-correction")
    def remove_on_correction(self, request, pk=None):
        entry = self.get_object()
        data = self._input(CorrectionInputSerializer)
        return self._entry(lists.remove_on_correction(entry, user=request.user, on=data["on"], note=data["note"]))

    @extend_schema(summary=_("撤销列入决定"), request=RevokeInputSerializer, responses={200: ListEntrySerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        entry = self.get_object()
        data = self._input(RevokeInputSerializer)
        return self._entry(lists.revoke_listing(entry, user=request.user, on=data["on"], reason=data["reason"]))


class PublicListEntrySerializer(serializers.ModelSerializer):
    entity_name = serializers.CharField(source="entity.name", read_only=True, label=_("市场主体名称"))
    entity_uscc = serializers.CharField(source="entity.uscc", read_only=True, label=_("统一社会信用代码"))
    region = serializers.CharField(source="entity.region_id", read_only=True, label=_("区划代码"))
    region_name = serializers.CharField(source="entity.region.name", read_only=True, label=_("所在区划"))
    kind_display = serializers.CharField(source="get_kind_display", read_only=True, label=_("名单类型名称"))

    class Meta:
        model = ListEntry
        fields = ["id", "kind", "kind_display", "entity_name", "entity_uscc", "region", "region_name", "grounds",
                  "legal_basis", "decision_number", "department", "listed_on", "removal_due_on"]
        read_only_fields = fields


class PublicListEntryFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("搜索（企业名称、统一社会信用代码）"))
    kind = django_filters.ChoiceFilter(choices=ListEntry.Kind.choices, label=_("名单类型"))

    class Meta:
        model = ListEntry
        fields = ["q", "kind"]

    def search(self, queryset, name, value):
        from django.db.models import Q

        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(entity__name__icontains=value) | Q(entity__uscc__istartswith=value))


@extend_schema_view(list=extend_schema(summary=_("公示的名单（在列的严重违法失信名单、经营异常名录）"), tags=["public"]),
                    retrieve=extend_schema(summary=_("公示的名单记录详情"), tags=["public"]))
class PublicListEntryViewSet(PublicViewSet):
    """Entries still on the two public lists; no sign-in. Removed or revoked entries are not shown."""

    queryset = lists.public_entries()
    serializer_class = PublicListEntrySerializer
    filterset_class = PublicListEntryFilterSet
    ordering_fields = ["listed_on", "removal_due_on"]

    def get_queryset(self):
        return lists.public_entries()
