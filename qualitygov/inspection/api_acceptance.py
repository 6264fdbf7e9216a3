"""Public API of lot acceptance sampling: the single sampling plan for a lot (GB/T 2828.1 = ISO 2859-1)."""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from qualitygov.core.api import error_body
from qualitygov.core.text import join_list
from qualitygov.inspection.acceptance import (
    LEVELS,
    SEVERITIES,
    AcceptanceSamplingError,
    aql_series,
    sampling_plan,
)


class SamplingPlanSerializer(serializers.Serializer):
    code_letter = serializers.CharField(label=_("样本量字码"))
    sample_size = serializers.IntegerField(label=_("样本量"), help_text=_("全数检验时等于批量。"))
    accept = serializers.IntegerField(label=_("接收数 Ac"))
    reject = serializers.IntegerField(label=_("拒收数 Re"))
    hundred_percent = serializers.BooleanField(label=_("全数检验"), help_text=_("样本量达到或超过批量时检验整批。"))


class _ErrorDetailSerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class SamplingPlanErrorSerializer(serializers.Serializer):
    error = _ErrorDetailSerializer()


@extend_schema(
    summary=_("一次抽样方案（GB/T 2828.1 / ISO 2859-1）"),
    description=_("按批量和检验水平查样本量字码，再按 AQL 与检验严格度查一次抽样方案（箭头已按标准处理）；"
                  "样本量达到或超过批量时全数检验。放宽检验按 GB/T 2828.1-2012 取 Re = Ac + 1。"),
    parameters=[
        OpenApiParameter("lot_size", int, required=True, description=_("批量 N（不小于 2 的整数）")),
        OpenApiParameter("aql", str, required=True, description=_("接收质量限（优选值）"), enum=list(aql_series())),
        OpenApiParameter("level", str, required=False, default="II", description=_("检验水平"), enum=list(LEVELS)),
        OpenApiParameter("severity", str, required=False, default="normal", description=_("检验严格度"),
                         enum=list(SEVERITIES)),
    ],
    responses={200: SamplingPlanSerializer,
               400: OpenApiResponse(SamplingPlanErrorSerializer, description=_("参数有误"))},
    tags=["inspection"],
)
@api_view(["GET"])
@permission_classes([AllowAny])
def sampling_plan_view(request):
    params = request.query_params
    try:
        missing = [name for name in ("lot_size", "aql") if not params.get(name)]
        if missing:
            message = gettext("缺少参数：%(names)s。") % {"names": join_list(missing)}
            return Response(error_body(400, "required", message, {name: [gettext("该参数为必填项。")] for name in missing}),
                            status=400)
        plan = sampling_plan(params["lot_size"], params["aql"], params.get("level") or "II",
                             params.get("severity") or "normal")
    except AcceptanceSamplingError as exc:
        return Response(error_body(400, "invalid", exc.message, {exc.field: [exc.message]}), status=400)
    return Response(SamplingPlanSerializer(plan.as_dict()).data)
