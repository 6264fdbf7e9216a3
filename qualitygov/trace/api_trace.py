"""The trace API (issue 5, item 5) at /api/v1/trace/ (URL namespace ``api:trace-api``):

* ``GET /api/v1/trace/?id=…&direction=forward|backward[&max_depth=N&max_nodes=N]`` (``trace``): the
  trace as JSON (``tracing.trace``: nodes, edges, holders, summary);
* ``GET /api/v1/trace/export/{holders|edges}/?id=…`` (``trace-export``): one of its tables as CSV.

Officers, inspectors and enterprise users (``tracing.can_trace``); only the events the user may see are
followed (``EpcisEvent.objects.restrict``). Errors are the platform's structured 400s.
"""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from qualitygov.core.api import error_body
from qualitygov.trace import tracing
from qualitygov.trace.views_trace import csv_download


class TracePermission(permissions.BasePermission):
    """Signed-in officers, inspectors and enterprise users."""

    message = gettext_lazy("追溯查询仅供监管人员和企业用户使用。")

    def has_permission(self, request, view):
        return tracing.can_trace(request.user)


class TraceQuerySerializer(serializers.Serializer):
    id = serializers.CharField(label=gettext_lazy("追溯标识"), help_text=gettext_lazy(
        "批次（商品条码 空格 批号，或 GS1 数字链接 /01/…/10/…）、单品序列号或物流单元（SSCC）的标识。"))
    direction = serializers.ChoiceField(choices=tracing.DIRECTIONS, default=tracing.FORWARD,
                                        label=gettext_lazy("追溯方向"))
    max_depth = serializers.IntegerField(required=False, min_value=1, max_value=tracing.LIMIT_MAX_DEPTH,
                                         label=gettext_lazy("最大层数"))
    max_nodes = serializers.IntegerField(required=False, min_value=1, max_value=tracing.LIMIT_MAX_NODES,
                                         label=gettext_lazy("节点上限"))


def _run(request):
    """(result, None) or (None, error response)."""
    query = TraceQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    params = query.validated_data
    try:
        return tracing.trace(params["id"], params["direction"], user=request.user, max_depth=params.get("max_depth"),
                             max_nodes=params.get("max_nodes")), None
    except tracing.TraceError as error:
        status = 404 if error.code == "not_found" else 400
        return None, Response(error_body(status, error.code, error.message, {"id": [error.message]}), status=status)


class TraceView(APIView):
    """Forward (where it went) or backward (where it came from) trace of a batch, item or logistic unit."""

    permission_classes = [TracePermission]

    @extend_schema(summary=gettext_lazy("正向/反向追溯"), parameters=[TraceQuerySerializer],
                   responses={200: OpenApiTypes.OBJECT}, tags=["trace"])
    def get(self, request):
        result, error = _run(request)
        return error or Response(result)


class TraceExportView(APIView):
    """The holders or edges table of a trace as CSV."""

    permission_classes = [TracePermission]

    @extend_schema(summary=gettext_lazy("导出追溯表格（CSV）"), parameters=[TraceQuerySerializer],
                   responses={(200, "text/csv"): OpenApiTypes.STR}, tags=["trace"])
    def get(self, request, table: str):
        if table not in tracing.EXPORT_TABLES:
            message = str(gettext_lazy("没有这张表：%(table)s（可选 holders 或 edges）。")) % {"table": table}
            return Response(error_body(404, "bad_table", message), status=404)
        result, error = _run(request)
        if error:
            return error
        return csv_download(result, table)


urlpatterns = [
    path("", TraceView.as_view(), name="trace"),
    path("export/<slug:table>/", TraceExportView.as_view(), name="trace-export"),
]
