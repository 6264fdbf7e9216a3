"""The credit dashboard's figures as JSON (issue 4, item 8), at /api/v1/credit/dashboard/
(URL name ``api:credit-api:dashboard``): the same ``credit.dashboard.figures`` as the page, for
officers only; scoped to the user's region, with an optional drill-down region inside it."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from qualitygov.core.api import error_body
from qualitygov.core.models import Region
from qualitygov.credit import dashboard


class DashboardPermission(permissions.BasePermission):
    """Signed-in officers and the province administrator (``dashboard.DASHBOARD_ROLES``)."""

    message = gettext_lazy("信用监管看板仅供监管人员查看。")

    def has_permission(self, request, view):
        return dashboard.can_view(request.user)


class DashboardQuerySerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=[key for key, _label in dashboard.PERIOD_CHOICES], required=False,
                                     label=gettext_lazy("统计期间"),
                                     help_text=gettext_lazy("run（最近一次全量评分以来，默认）、d30、d90、d365 或 custom。"))
    start = serializers.DateField(required=False, label=gettext_lazy("起始日期"))
    end = serializers.DateField(required=False, label=gettext_lazy("截止日期"))
    region = serializers.RegexField(r"^\d{6}$", required=False, label=gettext_lazy("区划代码"),
                                    help_text=gettext_lazy("辖区内的市（州）或县（市、区），用于下钻。"))


class DashboardView(APIView):
    """Grade distribution (overall, by region, by industry section), grade movements, list counts,
    repairs, the map by prefecture and the internal risk-class distribution."""

    permission_classes = [DashboardPermission]

    @extend_schema(summary=gettext_lazy("信用监管看板数据"), parameters=[DashboardQuerySerializer],
                   responses={200: OpenApiTypes.OBJECT}, tags=["credit"])
    def get(self, request):
        query = DashboardQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        region = None
        if params.get("region"):
            region = (dashboard.scope_regions(request.user).exclude(level=Region.Level.PROVINCE)
                      .filter(code=params["region"]).first())
            if region is None:
                message = _("区划 %(code)s 不存在或不在您的辖区内。") % {"code": params["region"]}
                return Response(error_body(400, "region_out_of_scope", message, {"region": [message]}), status=400)
        try:
            period = dashboard.resolve_period(params.get("period"), params.get("start"), params.get("end"))
        except dashboard.DashboardRefused as error:
            return Response(error_body(400, error.code, error.messages[0], {"period": error.messages}), status=400)
        return Response(dashboard.figures(request.user, period=period, region=region))


ROUTES = []
urlpatterns = [path("dashboard/", DashboardView.as_view(), name="dashboard")]
