"""The public credit query API (no sign-in), mounted at /api/v1/public/credit/:

- ``GET entities/<uscc>/`` (``entity-credit``): an entity's public credit file (``query.public_file``);
  400 ``invalid_uscc`` for a malformed code, 404 ``not_found`` for an unknown or unregistered one.
  Built for load: three queries whatever the number of records, JSON renderer only.
- ``GET entities/?q=`` (``entity-search``): search by name or USCC, paged like the rest of the API.
- ``POST objections/`` (``objection-submit``): an objection to a published record; anonymous posts are
  throttled (``ObjectionRateThrottle``, scope ``credit_objection``).
"""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from qualitygov.core.api_permissions import StandardPagination
from qualitygov.credit import query
from qualitygov.credit.models import CreditRecord
from qualitygov.inspection.api_public import PublicRateThrottle

__all__ = ["EntityCreditView", "EntitySearchView", "ObjectionRateThrottle", "ObjectionSubmitView"]


class ObjectionRateThrottle(AnonRateThrottle):
    """Anonymous objections per client address: ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    ["credit_objection"]`` when set, else ``DEFAULT_RATE``."""

    scope = "credit_objection"
    DEFAULT_RATE = "10/hour"
    rate = None

    def get_rate(self):
        return (api_settings.DEFAULT_THROTTLE_RATES or {}).get(self.scope) or self.DEFAULT_RATE


class _PublicView(APIView):
    # No authentication: a stale token must not turn a public answer into a 401.
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [PublicRateThrottle]
    renderer_classes = [JSONRenderer]


class EntityCreditView(_PublicView):
    """An entity's public credit file by its USCC."""

    @extend_schema(summary=gettext_lazy("市场主体公示信用档案（按统一社会信用代码）"), tags=["public"], responses={200: dict},
                   operation_id="public_credit_entity_file")
    def get(self, request, uscc: str):
        file = query.public_file_for_uscc(uscc)
        if file is None:
            raise exceptions.NotFound(_("未找到该统一社会信用代码的市场主体。"))
        return Response(file)


class EntitySearchView(_PublicView):
    """Registered entities by name (at least two characters, contains) or USCC (exact)."""

    @extend_schema(summary=gettext_lazy("查询市场主体（名称或统一社会信用代码）"), tags=["public"], responses={200: dict},
                   operation_id="public_credit_entity_search")
    def get(self, request):
        mode, _text, entities = query.search_queryset(request.query_params.get("q", ""))
        paginator = StandardPagination()
        page = paginator.paginate_queryset(entities, request, view=self)
        rows = [{"name": e.name, "uscc": e.uscc, "region": e.region_id,
                 "region_name": e.region.name if e.region else None, "grade": query.grade_of(e)}
                for e in page]
        response = paginator.get_paginated_response(rows)
        response.data["mode"] = mode
        return response


class CreditObjectionInputSerializer(serializers.Serializer):
    record = serializers.IntegerField(label=gettext_lazy("信用记录编号"))
    name = serializers.CharField(allow_blank=True, max_length=100, label=gettext_lazy("异议人姓名或名称"))
    contact = serializers.CharField(allow_blank=True, max_length=100, label=gettext_lazy("联系方式"))
    grounds = serializers.CharField(allow_blank=True, max_length=5000, label=gettext_lazy("异议理由及证据"))


class ObjectionSubmitView(_PublicView):
    """Receive an objection; answers the tracking number and the answer deadline (never echoes the
    objector's personal data)."""

    throttle_classes = [ObjectionRateThrottle]

    @extend_schema(summary=gettext_lazy("对公示信息提出异议"), tags=["public"], request=CreditObjectionInputSerializer,
                   responses={201: dict})
    def post(self, request):
        serializer = CreditObjectionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        record = CreditRecord.objects.filter(pk=data["record"],
                                             entity__status__in=query.PUBLIC_ENTITY_STATUSES).first()
        if record is None:
            # Same answer as for an unpublished record: the API reveals nothing that is not public.
            raise query.QueryRefused(_("该信用记录未在公示，不能对其提出异议。"), code="not_public")
        objection = query.submit_objection(record, data["name"], data["contact"], data["grounds"])
        return Response({"tracking_number": objection.tracking_number, "status": objection.status,
                         "received_on": objection.received_on.isoformat(),
                         "answer_due_on": objection.answer_due_on.isoformat() if objection.answer_due_on else None}, status=status.HTTP_201_CREATED)


ROUTES = []
urlpatterns = [
    path("entities/", EntitySearchView.as_view(), name="entity-search"),
    path("entities/<str:uscc>/", EntityCreditView.as_view(), name="entity-credit"),
    path("objections/", ObjectionSubmitView.as_view(), name="objection-submit"),
]
