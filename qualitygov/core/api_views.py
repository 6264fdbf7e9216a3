"""API endpoints of the spine: reference data, the current user, identifier checks, audit log."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from qualitygov.core.api import RestrictedReadOnlyViewSet
from qualitygov.core.filtersets import AuditLogFilterSet
from qualitygov.core.identifiers import check_identifier
from qualitygov.core.models import AuditLog, Industry, ProductCategory, Region
from qualitygov.core.serializers import (
    AuditLogSerializer,
    IdentifierCheckSerializer,
    IndustrySerializer,
    MeSerializer,
    ProductCategorySerializer,
    RegionSerializer,
)


class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    """Administrative divisions (public reference data)."""

    queryset = Region.objects.all()
    serializer_class = RegionSerializer
    permission_classes = [AllowAny]
    filterset_fields = ["level", "parent", "is_development_zone"]
    lookup_field = "code"


class IndustryViewSet(viewsets.ReadOnlyModelViewSet):
    """GB/T 4754-2017 industries (public reference data)."""

    queryset = Industry.objects.all()
    serializer_class = IndustrySerializer
    permission_classes = [AllowAny]
    filterset_fields = ["level", "parent"]
    lookup_field = "code"


class ProductCategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """Key supervised product catalogue categories (public reference data)."""

    queryset = ProductCategory.objects.all()
    serializer_class = ProductCategorySerializer
    permission_classes = [AllowAny]
    filterset_fields = ["parent", "industry", "is_key"]
    lookup_field = "code"


class AuditLogViewSet(RestrictedReadOnlyViewSet):
    """The audit log within the user's region (read-only)."""

    queryset = AuditLog.objects.select_related("content_type")
    serializer_class = AuditLogSerializer
    filterset_class = AuditLogFilterSet


@extend_schema(responses=MeSerializer, summary=gettext_lazy("当前用户"))
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def me(request):
    return Response(MeSerializer(request.user).data)


@extend_schema(parameters=[OpenApiParameter("code", str, required=True, description=gettext_lazy("待校验的标识"))],
               responses=IdentifierCheckSerializer,
               summary=gettext_lazy("校验标识（统一社会信用代码、GTIN、GS1 元素串或数字链接）"))
@api_view(["GET"])
@permission_classes([AllowAny])
def check_id(request):
    code = request.query_params.get("code")
    if code is None:
        from qualitygov.core.api import error_body

        return Response(error_body(400, "required", _("缺少参数 code。"), {"code": [_("该参数为必填项。")]}), status=400)
    return Response(check_identifier(code).as_dict())
