"""API of complaint statistics (issue 6 item 8).

- ``GET /api/v1/complaints/statistics/`` (``stats-figures``): the same ``statistics.figures`` as the
  back-office page, for those who may view cases, scoped to their region.
- ``POST /api/v1/complaints/statistics/summaries/`` (``stats-publish``): publish a month's summary
  (province-level officers); refusals carry a code (``month_not_ended``, ``already_published``,
  ``invalid_month``).
- ``GET /api/v1/public/complaints/statistics/summaries/`` and ``…/summaries/<YYYY-MM>/``
  (``stats-summary-list``, ``stats-summary-detail``): the published summaries, no sign-in.
"""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from qualitygov.complaints import statistics
from qualitygov.complaints.models import Case, Category, MonthlySummary
from qualitygov.core.api import error_body
from qualitygov.core.filtered_figures import FiguresAPIView, FiguresPermission
from qualitygov.inspection.api_public import PublicRateThrottle


class StatisticsPermission(FiguresPermission):
    """Signed-in users who may view complaint cases (officers and the province administrator)."""

    service = statistics
    message = gettext_lazy("投诉举报统计仅供市场监管部门工作人员查看。")


class FiguresQuerySerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=[key for key, _label in statistics.PERIOD_CHOICES], required=False,
                                     label=gettext_lazy("统计期间"),
                                     help_text=gettext_lazy("last_12（默认）、this_month、last_month、this_year 或 custom。"))
    start = serializers.DateField(required=False, label=gettext_lazy("起始日期"))
    end = serializers.DateField(required=False, label=gettext_lazy("截止日期"))
    kind = serializers.ChoiceField(choices=Case.Kind.choices, required=False, label=gettext_lazy("类型"))
    category = serializers.ChoiceField(choices=Category.choices, required=False, label=gettext_lazy("问题类别"))
    region = serializers.RegexField(r"^\d{6}$", required=False, label=gettext_lazy("区划代码"),
                                    help_text=gettext_lazy("辖区内的市（州）或县（市、区）。"))


class FiguresView(FiguresAPIView):
    """Counts by category, product category, unit, city, channel, kind and status; outcomes; timeliness
    per legal limit; satisfaction; monthly trend; the map by prefecture."""

    permission_classes = [StatisticsPermission]
    service = statistics
    refused = statistics.StatisticsRefused
    query_serializer = FiguresQuerySerializer

    def figure_filters(self, params: dict) -> dict:
        return {"kind": params.get("kind"), "category": params.get("category")}

    @extend_schema(summary=gettext_lazy("投诉举报统计数据"), parameters=[FiguresQuerySerializer],
                   responses={200: OpenApiTypes.OBJECT}, tags=["complaints"], operation_id="complaints_statistics")
    def get(self, request):
        return super().get(request)


class PublishSerializer(serializers.Serializer):
    month = serializers.CharField(max_length=7, label=gettext_lazy("月份"), help_text=gettext_lazy("YYYY-MM"))


def _summary_body(summary: MonthlySummary, *, full: bool) -> dict:
    body = {"month": f"{summary.month:%Y-%m}", "published_at": summary.published_at.isoformat(),
            "totals": summary.data.get("totals", {})}
    if full:
        body["data"] = summary.data
    return body


class PublishView(APIView):
    """Publish the summary of an ended month, once (province-level officers)."""

    permission_classes = [StatisticsPermission]

    @extend_schema(summary=gettext_lazy("发布投诉举报月度统计"), request=PublishSerializer,
                   responses={201: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT},
                   tags=["complaints"], operation_id="complaints_statistics_publish")
    def post(self, request):
        body = PublishSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        month = statistics.parse_month(body.validated_data["month"])  # StatisticsRefused → 400 with its code
        summary = statistics.publish_month(request.user, month)
        return Response(_summary_body(summary, full=True), status=201)


class PublicSummaryListView(APIView):
    """Published monthly summaries (month, publication time, totals), newest first."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [PublicRateThrottle]
    renderer_classes = [JSONRenderer]

    @extend_schema(summary=gettext_lazy("投诉举报月度统计列表"), responses={200: OpenApiTypes.OBJECT}, tags=["public"],
                   operation_id="public_complaints_summaries")
    def get(self, request):
        return Response({"results": [_summary_body(s, full=False) for s in statistics.published_summaries()]})


class PublicSummaryDetailView(APIView):
    """One published month's frozen figures."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [PublicRateThrottle]
    renderer_classes = [JSONRenderer]

    @extend_schema(summary=gettext_lazy("投诉举报月度统计"), responses={200: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT},
                   tags=["public"], operation_id="public_complaints_summary")
    def get(self, request, month: str):
        first = statistics.parse_month(month)
        summary = MonthlySummary.objects.filter(month=first).first()
        if summary is None:
            message = _("%(month)s 的投诉举报统计尚未发布。") % {"month": month}
            return Response(error_body(404, "not_published", message), status=404)
        return Response(_summary_body(summary, full=True))


urlpatterns = [
    path("statistics/", FiguresView.as_view(), name="stats-figures"),
    path("statistics/summaries/", PublishView.as_view(), name="stats-publish"),
]
public_urlpatterns = [
    path("statistics/summaries/", PublicSummaryListView.as_view(), name="stats-summary-list"),
    path("statistics/summaries/<str:month>/", PublicSummaryDetailView.as_view(), name="stats-summary-detail"),
]
