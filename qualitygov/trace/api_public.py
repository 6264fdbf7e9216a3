"""The public consumer lookup API (no sign-in), mounted at /api/v1/public/trace/ ("api:public-trace-api"):

- ``GET lookup/?code=...`` (``lookup``): what ``trace.lookup.lookup`` finds for a GTIN, GTIN + batch,
  element string or GS1 Digital Link — the product, its producer's public credit grade, published
  spot-check results, recalls and a public summary of the batch's chain. A code that cannot be read is a
  400 with the identifier's ``code`` (e.g. ``check_digit``) and a plain Chinese message; a GTIN not
  registered here is a 404 ``not_registered``.
- ``GET recalls/?q=...`` (``recall-list``): published recall notices, newest first, paged; ``q`` searches
  the product and producer names, the producer's USCC, the recall number, a batch number or a product
  code. ``GET recalls/{number}/`` (``recall-detail``): one notice; an unpublished recall is a 404.
  Both answer ``recalls.public_payload`` only — never the scope, holders, their quantities or officers'
  notes.
"""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from qualitygov.core.api import error_body
from qualitygov.inspection.api_public import PublicRateThrottle
from qualitygov.trace import lookup, recalls

__all__ = ["ConsumerLookupView", "PublicRecallDetailView", "PublicRecallListView"]


class ConsumerLookupView(APIView):
    """The consumer lookup by code."""

    # No authentication: a stale token must not turn a public answer into a 401.
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [PublicRateThrottle]
    renderer_classes = [JSONRenderer]

    @extend_schema(summary=gettext_lazy("消费者查询商品质量信息（条码、批号或 GS1 数字链接）"), tags=["public"],
                   parameters=[OpenApiParameter("code", str, required=True,
                                                description=gettext_lazy("商品条码（可空格加批号）、GS1 元素串或数字链接"))],
                   responses={200: dict, 400: dict, 404: dict}, operation_id="public_trace_lookup")
    def get(self, request):
        try:
            return Response(lookup.lookup(request.query_params.get("code", "")))
        except lookup.LookupFailed as failed:
            return Response(error_body(failed.status, failed.code, failed.message,
                                       {k: v for k, v in failed.details.items() if isinstance(v, str | int)}),
                            status=failed.status)


class PublicBatchSerializer(serializers.Serializer):
    identifier = serializers.CharField(label=gettext_lazy("批次标识（GS1 数字链接）"))
    gtin = serializers.CharField(label=gettext_lazy("商品条码"))
    batch = serializers.CharField(label=gettext_lazy("批号（空表示全部批次）"))
    all_batches = serializers.BooleanField(label=gettext_lazy("是否全部批次"))
    path = serializers.CharField(label=gettext_lazy("本平台的数字链接路径"))


class PublicRecallSerializer(serializers.Serializer):
    """A published recall notice: ``recalls.public_payload`` (the one rule for what is public)."""

    number = serializers.CharField(label=gettext_lazy("召回编号"))
    producer = serializers.CharField(label=gettext_lazy("生产者"))
    producer_uscc = serializers.CharField(label=gettext_lazy("统一社会信用代码"))
    producer_region = serializers.CharField(label=gettext_lazy("生产者所在区划"))
    product = serializers.CharField(label=gettext_lazy("产品"))
    product_model = serializers.CharField(label=gettext_lazy("规格型号"))
    kind = serializers.CharField(label=gettext_lazy("召回类型"))
    kind_display = serializers.CharField(label=gettext_lazy("召回类型名称"))
    status = serializers.CharField(label=gettext_lazy("状态"))
    status_display = serializers.CharField(label=gettext_lazy("状态名称"))
    hazard = serializers.CharField(label=gettext_lazy("缺陷或伤害情况"))
    defect_cause = serializers.CharField(label=gettext_lazy("缺陷及原因"))
    remedy = serializers.CharField(label=gettext_lazy("补救措施"))
    consumer_advice = serializers.CharField(label=gettext_lazy("消费者应当"))
    batches = serializers.ListField(child=serializers.CharField(), label=gettext_lazy("涉及批次"))
    batch_rows = PublicBatchSerializer(many=True, label=gettext_lazy("涉及批次（分项）"))
    quantity_made = serializers.FloatField(allow_null=True, label=gettext_lazy("涉及数量"))
    reported_on = serializers.DateField(label=gettext_lazy("报告日期"))
    plan_filed_on = serializers.DateField(allow_null=True, label=gettext_lazy("计划备案日期"))
    started_on = serializers.DateField(allow_null=True, label=gettext_lazy("开始实施日期"))
    completed_on = serializers.DateField(allow_null=True, label=gettext_lazy("完成日期"))
    published_on = serializers.DateField(allow_null=True, label=gettext_lazy("公告日期"))

    def to_representation(self, instance):
        return recalls.public_payload(instance)


class _PublicRecallView:
    # As the lookup: no authentication, throttled, JSON only.
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [PublicRateThrottle]
    renderer_classes = [JSONRenderer]
    serializer_class = PublicRecallSerializer
    filter_backends: list = []


class PublicRecallListView(_PublicRecallView, generics.ListAPIView):
    """Published recall notices, newest first."""

    def get_queryset(self):
        return recalls.public_recalls(self.request.query_params.get("q", "")[:200])

    @extend_schema(summary=gettext_lazy("缺陷产品召回公告"), tags=["public"], operation_id="public_trace_recall_list",
                   parameters=[OpenApiParameter("q", str, required=False, description=gettext_lazy(
                       "搜索：产品名称、生产者名称或统一社会信用代码、召回编号、批号或商品条码"))])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class PublicRecallDetailView(_PublicRecallView, generics.RetrieveAPIView):
    """One published recall notice by its number."""

    lookup_field = "number"

    def get_queryset(self):
        return recalls.public_recalls()

    @extend_schema(summary=gettext_lazy("缺陷产品召回公告详情"), tags=["public"],
                   operation_id="public_trace_recall_detail")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


urlpatterns = [
    path("lookup/", ConsumerLookupView.as_view(), name="lookup"),
    path("recalls/", PublicRecallListView.as_view(), name="recall-list"),
    path("recalls/<str:number>/", PublicRecallDetailView.as_view(), name="recall-detail"),
]
