"""Signed-in API of the credit query area, mounted at /api/v1/credit/ (namespace "credit-api"):

- ``credit-objections``: objections in the officer's region (name and contact are officers' only:
  no other role reaches this endpoint) and ``POST …/<id>/answer/`` (``query.answer_objection``).
- ``credit-statements``: the entities' statements in scope; an enterprise user ``POST``s one for a
  published record of its entity (``query.submit_statement``), an officer hides one with
  ``POST …/<id>/hide/`` (``query.hide_statement``).

Refusals answer 400 with the service's ``code``.
"""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from qualitygov.core.api import RestrictedReadOnlyViewSet
from qualitygov.core.api_permissions import RolePermission
from qualitygov.core.roles import CHANGE, VIEW, actions_for
from qualitygov.credit import query
from qualitygov.credit.models import CreditObjection, CreditRecord, EntityStatement


class ActionRolePermission(RolePermission):
    """``RolePermission`` where an extra step names the action it needs (``view.step_actions``), so a
    POST that changes a record is checked as CHANGE, not as ADD."""

    def has_permission(self, request, view):
        needed = getattr(view, "step_actions", {}).get(getattr(view, "action", None))
        if needed is None:
            return super().has_permission(request, view)
        user = request.user
        if not user or not user.is_authenticated or not user.is_active:
            return False
        return user.is_superuser or needed in actions_for(user.role, view.queryset.model)


class _StepViewSet(RestrictedReadOnlyViewSet):
    permission_classes = [ActionRolePermission]
    step_actions: dict = {}
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        needed = self.step_actions.get(self.action)
        if needed is not None:
            return self.queryset.all().restrict(self.request.user, needed)
        return super().get_queryset()

    def _input(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class CreditObjectionSerializer(serializers.ModelSerializer):
    entity = serializers.SlugRelatedField(slug_field="uscc", read_only=True, label=_("统一社会信用代码"))
    entity_name = serializers.CharField(source="entity.name", read_only=True, label=_("市场主体名称"))
    status_display = serializers.CharField(source="get_status_display", read_only=True, label=_("状态名称"))

    class Meta:
        model = CreditObjection
        fields = ["id", "tracking_number", "record", "entity", "entity_name", "name", "contact", "grounds", "status",
                  "status_display", "received_on", "answer_due_on", "answered_on", "answer", "created", "updated"]
        read_only_fields = fields


class CreditObjectionFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=CreditObjection.Status.choices, label=_("状态"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("已超答复期限未答复"))

    class Meta:
        model = CreditObjection
        fields = ["status", "overdue"]

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        late = {"status__in": CreditObjection.OPEN_STATUSES, "answer_due_on__lt": query._today()}
        return queryset.filter(**late) if value else queryset.exclude(**late)


class CreditObjectionAnswerInputSerializer(serializers.Serializer):
    upheld = serializers.BooleanField(label=_("异议成立"))
    answer = serializers.CharField(allow_blank=True, label=_("答复"))


@extend_schema_view(list=extend_schema(summary=_("信用信息异议列表")), retrieve=extend_schema(summary=_("信用信息异议详情")))
class CreditObjectionViewSet(_StepViewSet):
    """Objections to published records in the officer's region, and the answer step."""

    queryset = CreditObjection.objects.select_related("entity")
    serializer_class = CreditObjectionSerializer
    filterset_class = CreditObjectionFilterSet
    ordering_fields = ["received_on", "answer_due_on", "status"]
    step_actions = {"answer": CHANGE}

    @extend_schema(summary=_("答复异议"), request=CreditObjectionAnswerInputSerializer, responses={200: CreditObjectionSerializer})
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        objection = self.get_object()
        data = self._input(CreditObjectionAnswerInputSerializer)
        objection = query.answer_objection(objection, request.user, data["upheld"], data["answer"])
        return Response(CreditObjectionSerializer(self.queryset.get(pk=objection.pk)).data)


class EntityStatementSerializer(serializers.ModelSerializer):
    entity = serializers.SlugRelatedField(slug_field="uscc", read_only=True, label=_("统一社会信用代码"))
    entity_name = serializers.CharField(source="entity.name", read_only=True, label=_("市场主体名称"))

    class Meta:
        model = EntityStatement
        fields = ["id", "record", "entity", "entity_name", "text", "visible", "hidden_reason", "created", "updated"]
        read_only_fields = fields


class StatementInputSerializer(serializers.Serializer):
    record = serializers.IntegerField(label=_("信用记录编号"))
    text = serializers.CharField(allow_blank=True, label=_("情况说明"))


class StatementHideInputSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, label=_("不予显示的理由"))


@extend_schema_view(list=extend_schema(summary=_("主体情况说明列表")), retrieve=extend_schema(summary=_("主体情况说明详情")))
class EntityStatementViewSet(_StepViewSet):
    """Statements in scope; the enterprise's statement (create) and the officer's hide step."""

    queryset = EntityStatement.objects.select_related("entity")
    serializer_class = EntityStatementSerializer
    ordering_fields = ["updated"]
    step_actions = {"hide": CHANGE}

    @extend_schema(summary=_("对公示信息作出情况说明（企业）"), request=StatementInputSerializer,
                   responses={201: EntityStatementSerializer})
    def create(self, request):
        data = self._input(StatementInputSerializer)
        # Only the user's own records: another entity's record is "not found".
        record = CreditRecord.objects.restrict(request.user, VIEW).filter(pk=data["record"]).first()
        if record is None:
            raise query.QueryRefused({"record": _("未找到该信用记录，或不属于本企业。")}, code="unknown_record")
        statement = query.submit_statement(record, request.user, data["text"])
        return Response(EntityStatementSerializer(statement).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary=_("情况说明不予公开显示"), request=StatementHideInputSerializer, responses={200: EntityStatementSerializer})
    @action(detail=True, methods=["post"])
    def hide(self, request, pk=None):
        statement = self.get_object()
        data = self._input(StatementHideInputSerializer)
        return Response(EntityStatementSerializer(query.hide_statement(statement, request.user, data["reason"])).data)


ROUTES = [
    ("objections", CreditObjectionViewSet, "credit-objection"),
    ("statements", EntityStatementViewSet, "credit-statement"),
]
urlpatterns = []
