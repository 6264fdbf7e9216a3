"""The public consumer lookup API (no sign-in), mounted at /api/v1/public/trace/ ("api:public-trace-api"):

- ``GET lookup/?code=...`` (``lookup``): what ``trace.lookup.lookup`` finds for a GTIN, GTIN + batch,
  element string or GS1 Digital Link — the product, its producer's public credit grade, published
  spot-check results, recalls and a public summary of the batch's chain. A code that cannot be read is a
  400 with the identifier's ``code`` (e.g. ``check_digit``) and a plain Chinese message; a GTIN not
  registered here is a 404 ``not_registered``.
"""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from qualitygov.core.api import error_body
from qualitygov.inspection.api_public import PublicRateThrottle
from qualitygov.trace import lookup

__all__ = ["ConsumerLookupView"]


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


urlpatterns = [
    path("lookup/", ConsumerLookupView.as_view(), name="lookup"),
]
