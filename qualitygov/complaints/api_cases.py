"""The case-handling API at /api/v1/complaints/ (URL namespace ``api:complaints-api``).

* ``GET cases/`` (``case-list``) and ``cases/{id}/`` (``case-detail``): the cases in the user's scope
  (officers: their region; every other role: 403), filtered by the queue's own ``CaseFilterSet``
  (``kind``, ``status``, ``category``, ``officer``, ``due=overdue|soon``, ``received_after``,
  ``received_before``, ``unit``, ``q``). The detail adds the timeline and the steps open now. No field
  of the reporter's identity is ever in an answer (Art. 33).
* ``POST cases/{id}/steps/{step}/`` (``case-step``): one handling step (``handling.STEPS``: accept,
  reject, start_mediation, notice, end_mediation, …) with the fields of its form (``forms_cases``) and
  ``on`` (the date of the step). A refusal is a 400 with the rule's ``code``; a user who may not
  handle the case gets 404 (not in scope) or 403.
* ``GET cases/due/`` (``case-due``): due and overdue deadlines, ``unit`` and ``officer`` (an id or ``me``).
* ``GET case-notices/`` and ``case-notices/{id}/`` (``case-notice-list``, ``case-notice-detail``): notices
  to respondents; an enterprise user reads those addressed to its own entity only.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from qualitygov.complaints import handling
from qualitygov.complaints.filtersets import CaseFilterSet, officers_for
from qualitygov.complaints.forms_cases import STEP_FORMS
from qualitygov.complaints.models import Case, CaseEvent, RespondentNotice
from qualitygov.core.api import RestrictedReadOnlyViewSet
from qualitygov.core.models import Region
from qualitygov.core.roles import CHANGE


class CaseSerializer(serializers.ModelSerializer):
    tracking_number = serializers.CharField(source="submission.tracking_number", read_only=True, label=_("登记编号"))
    anonymous = serializers.BooleanField(source="submission.anonymous", read_only=True, label=_("匿名"))
    status_display = serializers.CharField(source="get_status_display", read_only=True, label=_("状态名称"))
    assigned_to = serializers.CharField(source="assigned_to.username", read_only=True, default=None,
                                        label=_("承办人"))

    class Meta:
        model = Case
        fields = ["id", "number", "tracking_number", "kind", "status", "status_display", "linked_case", "received_on",
                  "handling_unit", "assigned_to", "respondent_entity", "respondent_name", "respondent_address",
                  "respondent_region", "sales_channel", "platform_name", "category", "product_category", "product",
                  "product_name", "amount", "facts", "request", "anonymous", "aware_on", "accept_due_on", "accepted_on",
                  "rejected_on", "rejection_ground", "mediation_due_on", "mediation_outcome", "mediation_ended_on",
                  "end_notice_due_on", "end_notified_on", "clue_found_on", "verification_due_on",
                  "verification_extended", "verified_on", "filing_decision", "filing_decided_on",
                  "reporter_notice_due_on", "reporter_notified_on", "enforcement_case_number",
                  "penalty_decision_number", "penalty_decided_on", "fine_amount", "confiscation_amount",
                  "calendar_pending", "closed_on", "outcome"]
        read_only_fields = fields


class EventSerializer(serializers.ModelSerializer):
    by = serializers.CharField(source="by.username", read_only=True, default=None)

    class Meta:
        model = CaseEvent
        fields = ["at", "kind", "by", "text", "data"]


class CaseDetailSerializer(CaseSerializer):
    events = EventSerializer(many=True, read_only=True)
    steps = serializers.SerializerMethodField(label=_("当前可办理步骤"))

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "events", "steps"]
        read_only_fields = fields

    def get_steps(self, obj) -> list[str]:
        return handling.available_steps(obj, self.context["request"].user)


class NoticeSerializer(serializers.ModelSerializer):
    case_number = serializers.CharField(source="case.number", read_only=True, label=_("案件编号"))

    class Meta:
        model = RespondentNotice
        fields = ["id", "case_number", "entity", "kind", "text", "sent_on"]
        read_only_fields = fields


class DueItemSerializer(serializers.Serializer):
    case = serializers.IntegerField(source="case.pk")
    number = serializers.CharField(source="case.number")
    unit = serializers.CharField(source="case.handling_unit_id")
    officer = serializers.CharField(source="case.assigned_to.username", default=None)
    deadline = serializers.CharField()
    label = serializers.CharField()
    due_on = serializers.DateField()
    overdue = serializers.BooleanField()


@extend_schema(tags=["complaints"])  # one group in the API docs with the statistics endpoints
@extend_schema_view(list=extend_schema(summary=_("投诉举报案件列表")), retrieve=extend_schema(summary=_("投诉举报案件详情")))
class CaseViewSet(RestrictedReadOnlyViewSet):
    """Cases in the user's scope, their timeline and their steps."""

    queryset = Case.objects.select_related("submission", "assigned_to", "handling_unit")
    serializer_class = CaseSerializer
    filterset_class = CaseFilterSet
    ordering_fields = ["received_on", "accept_due_on", "status"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if self.action == "step":
            return self.queryset.restrict(self.request.user, CHANGE)
        queryset = super().get_queryset()
        return queryset.prefetch_related("events__by") if self.action == "retrieve" else queryset

    def get_serializer_class(self):
        return CaseDetailSerializer if self.action == "retrieve" else CaseSerializer

    @extend_schema(summary=_("办理一个步骤"), request=OpenApiTypes.OBJECT, responses={200: CaseDetailSerializer},
                   parameters=[OpenApiParameter("step", str, OpenApiParameter.PATH,
                                                enum=list(handling.STEPS), description=_("办理步骤"))])
    @action(detail=True, methods=["post"], url_path=r"steps/(?P<step>[a-z_]+)", url_name="step")
    def step(self, request, pk=None, step=None):
        case = self.get_object()
        if step not in handling.STEPS:
            raise exceptions.NotFound(_("未知的办理步骤。"))
        form = STEP_FORMS[step](data=request.data, case=case, user=request.user)
        if not form.is_valid():
            raise DjangoValidationError({k: list(v) for k, v in form.errors.items()})
        try:
            handling.perform(step, case, request.user, **form.step_kwargs())
        except handling.CaseRefused as refused:
            if refused.code == "not_permitted":
                raise exceptions.PermissionDenied(refused.messages[0]) from refused
            raise
        case = self.queryset.prefetch_related("events__by").get(pk=case.pk)
        return Response(CaseDetailSerializer(case, context={"request": request}).data)

    @extend_schema(summary=_("即将到期与已逾期的期限"), responses={200: DueItemSerializer(many=True)},
                   parameters=[OpenApiParameter("unit", str, description=_("承办单位区划代码")),
                               OpenApiParameter("officer", str, description=_("承办人编号，或 me"))])
    @action(detail=False, methods=["get"], url_path="due", url_name="due", filterset_class=None)
    def due(self, request):
        user = request.user
        unit = None
        if request.query_params.get("unit"):
            unit = Region.objects.filter(pk=request.query_params["unit"]).first()
            prefix = user.region_prefix
            if unit is None or (prefix is not None and not unit.code.startswith(prefix)):
                raise DjangoValidationError({"unit": [_("区划代码不存在或不在您的辖区内。")]}, code="bad_unit")
        raw = request.query_params.get("officer") or ""
        officer = None
        if raw:
            officer = user if raw == "me" else officers_for(user).filter(pk=raw).first() if raw.isdigit() else None
            if officer is None:
                raise DjangoValidationError({"officer": [_("承办人不存在或不在您的辖区内。")]}, code="bad_officer")
        lists = handling.due_lists(user, unit=unit, officer=officer)
        return Response({"until": lists["until"],
                         "overdue": DueItemSerializer(lists["overdue"], many=True).data,
                         "due": DueItemSerializer(lists["due"], many=True).data})


@extend_schema(tags=["complaints"])  # one group in the API docs with the statistics endpoints
@extend_schema_view(list=extend_schema(summary=_("被投诉举报人通知列表")),
                    retrieve=extend_schema(summary=_("被投诉举报人通知详情")))
class RespondentNoticeViewSet(RestrictedReadOnlyViewSet):
    """Notices to respondents: officers their region's, an enterprise user its own entity's."""

    queryset = RespondentNotice.objects.select_related("case")
    serializer_class = NoticeSerializer
    filterset_fields = ["kind"]
    lookup_value_regex = r"\d+"


def _urls():
    router = SimpleRouter()
    router.register("cases", CaseViewSet, basename="case")
    router.register("case-notices", RespondentNoticeViewSet, basename="case-notice")
    return router.urls


urlpatterns = _urls()
public_urlpatterns: list = []
