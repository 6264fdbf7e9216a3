"""The credit dashboard's figures as JSON (issue 4, item 8), at /api/v1/credit/dashboard/
(URL name ``api:credit-api:dashboard``): the same ``credit.dashboard.figures`` as the page, for
officers only; scoped to the user's region, with an optional drill-down region inside it."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from qualitygov.core.filtered_figures import FiguresAPIView, FiguresPermission
from qualitygov.credit import dashboard


class DashboardPermission(FiguresPermission):
    """Signed-in officers and the province administrator (``dashboard.DASHBOARD_ROLES``)."""

    service = dashboard
    message = gettext_lazy("信用监管看板仅供监管人员查看。")


class DashboardQuerySerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=[key for key, _label in dashboard.PERIOD_CHOICES], required=False,
                                     label=gettext_lazy("统计期间"),
                                     help_text=gettext_lazy("run（最近一次全量评分以来，默认）、d30、d90、d365 或 custom。"))
    start = serializers.DateField(required=False, label=gettext_lazy("起始日期"))
    end = serializers.DateField(required=False, label=gettext_lazy("截止日期"))
    region = serializers.RegexField(r"^\d{6}$", required=False, label=gettext_lazy("区划代码"),
                                    help_text=gettext_lazy("辖区内的市（州）或县（市、区），用于下钻。"))


class DashboardView(FiguresAPIView):
    """Grade distribution (overall, by region, by industry section), grade movements, list counts,
    repairs, the map by prefecture and the internal risk-class distribution."""

    permission_classes = [DashboardPermission]
    service = dashboard
    refused = dashboard.DashboardRefused
    query_serializer = DashboardQuerySerializer

    @extend_schema(summary=gettext_lazy("信用监管看板数据"), parameters=[DashboardQuerySerializer],
                   responses={200: OpenApiTypes.OBJECT}, tags=["credit"])
    def get(self, request):
        return super().get(request)


ROUTES = []
urlpatterns = [path("dashboard/", DashboardView.as_view(), name="dashboard")]
