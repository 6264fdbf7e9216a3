"""The recall API (issue 5, item 6) at /api/v1/recalls/ (URL namespace ``api:recall-api``).

* ``GET /api/v1/recalls/`` (``recall-list``) and ``/{id}/`` (``recall-detail``): recalls in the user's
  scope (officers their region, the producer's enterprise users their own recalls); filter ``status``.
* ``POST /api/v1/recalls/`` (``recall-list``): report (``recalls.report``).
* ``POST /api/v1/recalls/{id}/{investigate|plan|order|start|progress|complete|publish}/``
  (``recall-investigate`` …): the steps, one call to ``trace.recalls`` each.
* ``POST /api/v1/recalls/notices/{id}/acknowledge/`` (``recall-notice-acknowledge``): the holder confirms.

Refusals are structured 400s with the service's ``code`` (a step the user may not take: 403).
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from qualitygov.core.api import RestrictedReadOnlyViewSet
from qualitygov.core.api_permissions import RolePermission
from qualitygov.core.roles import CHANGE, VIEW, actions_for
from qualitygov.registry.models import MarketEntity, Product
from qualitygov.trace import recalls
from qualitygov.trace.models import Recall, RecallNotice


class RecallSerializer(serializers.ModelSerializer):
    producer_name = serializers.CharField(source="producer.name", read_only=True, label=_("生产者名称"))
    status_display = serializers.CharField(source="get_status_display", read_only=True, label=_("状态名称"))
    report_late = serializers.SerializerMethodField(label=_("是否逾期报告"))
    progress_due_on = serializers.SerializerMethodField(label=_("下次进展报告期限"))
    quantity_in_scope = serializers.SerializerMethodField(label=_("召回范围内数量"))
    effectiveness = serializers.SerializerMethodField(label=_("召回效果（已召回数量/召回范围内数量）"))

    class Meta:
        model = Recall
        fields = ["id", "number", "producer", "producer_name", "product", "kind", "status", "status_display", "hazard",
                  "aware_on", "reported_on", "report_due_on", "report_late", "investigation", "defect_confirmed",
                  "batches", "quantity_made", "quantity_sold", "channels", "defect_cause", "remedy", "notification",
                  "consumer_advice", "timetable", "plan_filed_on", "started_on", "scope", "scope_computed_at", "quantity_recovered",
                  "quantity_in_scope", "progress_due_on", "effectiveness", "completed_on", "summary", "published", "published_on"]
        read_only_fields = fields

    def get_report_late(self, obj) -> bool | None:
        return recalls.is_report_late(obj)

    def get_progress_due_on(self, obj) -> str | None:
        due = recalls.progress_due_on(obj)
        return due.isoformat() if due else None

    def get_quantity_in_scope(self, obj) -> float | None:
        total = recalls.quantity_in_scope(obj)
        return float(total) if total is not None else None

    def get_effectiveness(self, obj) -> float | None:
        share = recalls.effectiveness(obj)
        return float(share) if share is not None else None


class ReportInput(serializers.Serializer):
    producer = serializers.IntegerField(required=False, label=_("生产者编号（企业用户可省略）"))
    product = serializers.IntegerField(required=False, allow_null=True, label=_("产品编号"))
    hazard = serializers.CharField(allow_blank=True, label=_("缺陷或伤害情况"))
    aware_on = serializers.DateField(label=_("获知日期"))
    reported_on = serializers.DateField(label=_("报告日期"))
    batches = serializers.ListField(child=serializers.CharField(), required=False, default=list, label=_("涉及批次"))


class InvestigateInput(serializers.Serializer):
    findings = serializers.CharField(allow_blank=True, label=_("缺陷调查情况"))
    defect_confirmed = serializers.BooleanField(allow_null=True, label=_("确认存在缺陷"))


class PlanInput(serializers.Serializer):
    batches = serializers.ListField(child=serializers.CharField(), required=False, allow_null=True,
                                    default=None, label=_("涉及批次"))
    quantity_made = serializers.DecimalField(max_digits=18, decimal_places=3, required=False, allow_null=True,
                                             label=_("生产数量"))
    quantity_sold = serializers.DecimalField(max_digits=18, decimal_places=3, required=False, allow_null=True,
                                             label=_("销售数量"))
    channels = serializers.CharField(required=False, allow_blank=True, default="", label=_("销售渠道与地区"))
    defect_cause = serializers.CharField(required=False, allow_blank=True, default="", label=_("缺陷及原因"))
    remedy = serializers.CharField(required=False, allow_blank=True, default="", label=_("补救措施"))
    notification = serializers.CharField(required=False, allow_blank=True, default="", label=_("通知方式"))
    consumer_advice = serializers.CharField(required=False, allow_blank=True, default="",
                                            label=_("消费者应采取的措施"))
    timetable = serializers.CharField(required=False, allow_blank=True, default="", label=_("进度安排"))
    filed_on = serializers.DateField(required=False, label=_("计划备案日期"))


class RecallDateInput(serializers.Serializer):
    on = serializers.DateField(required=False, label=_("日期"))


class ProgressInput(serializers.Serializer):
    period_end = serializers.DateField(label=_("报告期截止日"))
    quantity_recovered = serializers.DecimalField(max_digits=18, decimal_places=3, label=_("累计召回数量"))
    text = serializers.CharField(allow_blank=True, label=_("进展情况"))


class CompleteInput(serializers.Serializer):
    summary = serializers.CharField(allow_blank=True, label=_("总结报告"))
    completed_on = serializers.DateField(label=_("完成日期"))
    quantity_recovered = serializers.DecimalField(max_digits=18, decimal_places=3, required=False, allow_null=True,
                                                  label=_("累计召回数量"))


class AcknowledgeInput(serializers.Serializer):
    quantity_returned = serializers.DecimalField(max_digits=18, decimal_places=3, label=_("已退回数量"))


class RecallPermission(RolePermission):
    """As ``RolePermission``; the POST steps on an existing recall need CHANGE."""

    def has_permission(self, request, view):
        if getattr(view, "action", None) in RecallViewSet.step_actions:
            user = request.user
            if not user or not user.is_authenticated or not user.is_active:
                return False
            return user.is_superuser or CHANGE in actions_for(user.role, Recall)
        return super().has_permission(request, view)


def _call(function, *args, **kwargs):
    """Run a service step; a step this user may not take answers 403, other refusals 400."""
    try:
        return function(*args, **kwargs)
    except recalls.RecallRefused as refused:
        if refused.code == "not_permitted":
            raise exceptions.PermissionDenied(refused.messages[0]) from refused
        raise


class RecallViewSet(RestrictedReadOnlyViewSet):
    """Recalls in the user's scope and their steps."""

    queryset = Recall.objects.select_related("producer", "product")
    serializer_class = RecallSerializer
    permission_classes = [RecallPermission]
    filterset_fields = ["status", "kind", "published"]
    ordering_fields = ["reported_on", "status"]
    lookup_value_regex = r"\d+"
    step_actions = frozenset({"investigate", "plan", "order", "start", "progress", "complete", "publish"})

    def get_queryset(self):
        if self.action in self.step_actions:
            return Recall.objects.select_related("producer", "product").restrict(self.request.user, CHANGE)
        return super().get_queryset()

    def _input(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _answer(self, recall, code=status.HTTP_200_OK) -> Response:
        return Response(RecallSerializer(self.queryset.get(pk=recall.pk)).data, status=code)

    @extend_schema(summary=_("报告缺陷或伤害（召回报告）"), request=ReportInput, responses={201: RecallSerializer})
    def create(self, request):
        data = self._input(ReportInput)
        user = request.user
        producer_id = data.get("producer") or user.entity_id
        producer = MarketEntity.objects.restrict(user, VIEW).filter(pk=producer_id).first() if producer_id else None
        if producer is None:
            raise recalls.RecallRefused({"producer": _("未找到该生产者，或不在您的范围内。")}, code="unknown_producer")
        product = None
        if data.get("product") is not None:
            product = Product.objects.filter(pk=data["product"], producer=producer).first()
            if product is None:
                raise recalls.RecallRefused({"product": _("该产品不属于此生产者。")}, code="unknown_product")
        recall = _call(recalls.report, producer, product, data["hazard"], data["aware_on"], data["reported_on"],
                       data["batches"], user)
        return self._answer(recall, status.HTTP_201_CREATED)

    @extend_schema(summary=_("缺陷调查"), request=InvestigateInput, responses={200: RecallSerializer})
    @action(detail=True, methods=["post"])
    def investigate(self, request, pk=None):
        data = self._input(InvestigateInput)
        return self._answer(_call(recalls.investigate, self.get_object(), request.user, data["findings"],
                                  data["defect_confirmed"]))

    @extend_schema(summary=_("备案召回计划"), request=PlanInput, responses={200: RecallSerializer})
    @action(detail=True, methods=["post"])
    def plan(self, request, pk=None):
        data = self._input(PlanInput)
        return self._answer(_call(recalls.file_plan, self.get_object(), request.user, **data))

    @extend_schema(summary=_("责令召回"), request=RecallDateInput, responses={200: RecallSerializer})
    @action(detail=True, methods=["post"])
    def order(self, request, pk=None):
        data = self._input(RecallDateInput)
        return self._answer(_call(recalls.order_recall, self.get_object(), request.user, on=data.get("on")))

    @extend_schema(summary=_("开始实施召回"), request=RecallDateInput, responses={200: RecallSerializer})
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        data = self._input(RecallDateInput)
        return self._answer(_call(recalls.start, self.get_object(), request.user, data.get("on")))

    @extend_schema(summary=_("报告召回进展"), request=ProgressInput, responses={200: RecallSerializer})
    @action(detail=True, methods=["post"])
    def progress(self, request, pk=None):
        data = self._input(ProgressInput)
        recall = self.get_object()
        _call(recalls.report_progress, recall, request.user, data["period_end"], data["quantity_recovered"],
              data["text"])
        return self._answer(recall)

    @extend_schema(summary=_("完成召回（总结报告）"), request=CompleteInput, responses={200: RecallSerializer})
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        data = self._input(CompleteInput)
        return self._answer(_call(recalls.complete, self.get_object(), request.user, data["summary"],
                                  data["completed_on"], data.get("quantity_recovered")))

    @extend_schema(summary=_("公告召回"), request=RecallDateInput, responses={200: RecallSerializer})
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        data = self._input(RecallDateInput)
        return self._answer(_call(recalls.publish, self.get_object(), request.user, data.get("on")))


class NoticeAcknowledgeView(APIView):
    """The holder's enterprise user confirms a recall notice and reports the quantity returned."""

    @extend_schema(summary=_("确认召回通知"), request=AcknowledgeInput, responses={200: None})
    def post(self, request, pk):
        if not request.user.is_authenticated:
            raise exceptions.NotAuthenticated()
        notice = get_object_or_404(RecallNotice.objects.restrict(request.user, VIEW), pk=pk)
        serializer = AcknowledgeInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        notice = _call(recalls.acknowledge_notice, notice, request.user, serializer.validated_data["quantity_returned"])
        return Response({"id": notice.pk, "recall": notice.recall.number, "acknowledged_on": notice.acknowledged_on,
                         "quantity_returned": notice.quantity_returned})


def _urls():
    from django.urls import path
    from rest_framework.routers import SimpleRouter

    router = SimpleRouter()
    router.register("", RecallViewSet, basename="recall")
    return [path("notices/<int:pk>/acknowledge/", NoticeAcknowledgeView.as_view(), name="recall-notice-acknowledge"),
            *router.urls]


urlpatterns = _urls()
