"""The sharing API for partner departments (/api/v1/sharing/, issue 4 item 7), authenticated by
API key only (``Authorization: Api-Key <secret>`` or ``X-Api-Key: <secret>``).

* ``entities/<uscc>/?fields=a,b`` — the entity's public credit file restricted to the key's fields;
* ``changes/?since=<cursor|ISO time>&limit=`` — the change feed, with ``next_cursor``;
* ``exports/`` and ``exports/<date>.<csv|json>`` — the daily bulk files.

Rules live in ``credit.sharing``; this module parses requests and shapes answers. Each key has a
per-minute limit (429 ``rate_limited`` with ``Retry-After``); a refused request changes nothing and
is not logged. Every successful read of an entity is written to its access log.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.http import FileResponse
from django.urls import path, re_path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from qualitygov.core.api import error_body
from qualitygov.core.api_keys import ApiKeyAuthentication
from qualitygov.credit import sharing
from qualitygov.credit.access_log import record_access
from qualitygov.credit.models import CreditAccessLog, SharingKey
from qualitygov.registry.models import MarketEntity

__all__ = ["HasSharingKey", "RateLimited", "SharingKeyAuthentication", "SharingKeyRateThrottle"]

class SharingKeyAuthentication(ApiKeyAuthentication):
    """A partner department's key: ``Authorization: Api-Key <secret>`` or ``X-Api-Key: <secret>``.
    No key → not authenticated (401); a key that is unknown, wrong, stopped or expired → 401."""

    refused_message = gettext_lazy("接口密钥无效、已停用或已过期。")

    def lookup(self, secret: str):
        return sharing.authenticate_secret(secret)


class SharingKeyScheme(OpenApiAuthenticationExtension):
    target_class = "qualitygov.credit.api_sharing.SharingKeyAuthentication"
    name = "sharingApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": str(gettext_lazy("共享接口密钥：Authorization: Api-Key <密钥>"))}


class HasSharingKey(BasePermission):
    """Requests authenticated by a sharing key (signed-in users have no business here)."""

    message = gettext_lazy("请提供有效的共享接口密钥。")

    def has_permission(self, request, view):
        return isinstance(request.auth, SharingKey)


class RateLimited(exceptions.APIException):
    """429 with ``Retry-After`` (the API's exception handler sets the header from ``wait``)."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "rate_limited"

    def __init__(self, wait: int):
        self.wait = wait
        super().__init__(_("请求过于频繁，已超过该密钥每分钟的请求上限，请在 %(wait)d 秒后重试。") % {"wait": wait},
                         code="rate_limited")


class SharingKeyRateThrottle(BaseThrottle):
    """The key's per-minute limit (fixed window, ``sharing.check_rate``)."""

    def allow_request(self, request, view):
        if not isinstance(request.auth, SharingKey):
            return True
        wait = sharing.check_rate(request.auth)
        if wait is not None:
            raise RateLimited(wait=wait)
        return True


def _refusal(exc: sharing.SharingRefused) -> Response:
    """A sharing refusal as the API's error body: fields outside the scope are 403, the rest 400."""
    code = exc.code or "invalid"
    forbidden = code == "field_not_in_scope"
    status_code = status.HTTP_403_FORBIDDEN if forbidden else status.HTTP_400_BAD_REQUEST
    details = {"fields": list(exc.params["fields"])} if forbidden and exc.params else {}
    return Response(error_body(status_code, code, exc.messages[0], details), status=status_code)


class SharingView(APIView):
    authentication_classes = [SharingKeyAuthentication]
    permission_classes = [HasSharingKey]
    throttle_classes = [SharingKeyRateThrottle]

    @property
    def key(self) -> SharingKey:
        return self.request.auth

    def used(self) -> None:
        # A queryset update: last use is bookkeeping, not a change to audit on every call.
        SharingKey.objects.filter(pk=self.key.pk).update(last_used_at=timezone.now())


FIELDS_PARAM = OpenApiParameter("fields", OpenApiTypes.STR, description=gettext_lazy("逗号分隔的字段名；缺省为密钥的全部字段"))


class EntityFileView(SharingView):
    """The shared credit file of one entity, by USCC."""

    @extend_schema(parameters=[FIELDS_PARAM], responses=OpenApiTypes.OBJECT, summary=gettext_lazy("主体信用档案"))
    def get(self, request, uscc: str):
        try:
            fields = sharing.check_fields(self.key, request.query_params.get("fields"))
        except sharing.SharingRefused as exc:
            return _refusal(exc)
        entity = MarketEntity.objects.select_related("region").filter(uscc=uscc.strip().upper()).first()
        if entity is None:
            raise exceptions.NotFound(_("未找到统一社会信用代码为 %(uscc)s 的市场主体。") % {"uscc": uscc})
        data = sharing.entity_file(entity, fields)
        with transaction.atomic():
            record_access([entity.pk], channel=CreditAccessLog.Channel.SHARING_API, key=self.key,
                          accessor=self.key.department_name, fields=fields)
            self.used()
        return Response({"fields": fields, "entity": data})


class ChangesView(SharingView):
    """The change feed after a cursor or a time, limited to the kinds the key's fields cover."""

    @extend_schema(parameters=[
        OpenApiParameter("since", OpenApiTypes.STR, description=gettext_lazy("变动编号（游标）或 ISO 8601 时间")),
        OpenApiParameter("limit", OpenApiTypes.INT), FIELDS_PARAM],
        responses=OpenApiTypes.OBJECT, summary=gettext_lazy("信用变动订阅"))
    def get(self, request):
        try:
            fields = sharing.check_fields(self.key, request.query_params.get("fields"))
            limit = sharing.parse_limit(request.query_params.get("limit"))
            page, entity_ids = sharing.feed_page(request.query_params.get("since"), limit, fields)
        except sharing.SharingRefused as exc:
            return _refusal(exc)
        with transaction.atomic():
            record_access(entity_ids, channel=CreditAccessLog.Channel.SHARING_API, key=self.key,
                          accessor=self.key.department_name, fields=fields, purpose=_("信用变动订阅"))
            self.used()
        return Response(page)


def _export_scope(key: SharingKey) -> Response | None:
    missing = [f for f in sharing.EXPORT_FIELDS if f not in (key.fields or [])]
    if not missing:
        return None
    exc = sharing.SharingRefused(_("以下字段不在该密钥的授权范围内：%(fields)s。") % {"fields": "、".join(missing)},
                                 code="field_not_in_scope", params={"fields": missing})
    return _refusal(exc)


class ExportListView(SharingView):
    """The daily bulk files, newest first (the key must cover every field they hold)."""

    @extend_schema(responses=OpenApiTypes.OBJECT, summary=gettext_lazy("每日批量导出文件"))
    def get(self, request):
        refused = _export_scope(self.key)
        if refused:
            return refused
        files = [{"date": f["date"].isoformat(), "format": f["format"], "size": f["size"],
                  "url": request.build_absolute_uri(reverse("api:sharing-api:export",
                                                            args=[f["date"].isoformat(), f["format"]]))}
                 for f in sharing.export_files()]
        self.used()
        return Response({"results": files})


class ExportDownloadView(SharingView):
    """One daily file (CSV with BOM, or JSON)."""

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.BINARY, (200, "application/json"): OpenApiTypes.OBJECT},
                   summary=gettext_lazy("下载每日批量导出文件"))
    def get(self, request, day: str, fmt: str):
        refused = _export_scope(self.key)
        if refused:
            return refused
        try:
            date = dt.date.fromisoformat(day)
        except ValueError:
            raise exceptions.NotFound(_("没有 %(day)s 的导出文件。") % {"day": day}) from None
        file_path = sharing.export_path(date, fmt)
        if not file_path.is_file():
            raise exceptions.NotFound(_("没有 %(day)s 的导出文件。") % {"day": day})
        self.used()
        content_type = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
        return FileResponse(file_path.open("rb"), as_attachment=True, filename=file_path.name,
                            content_type=content_type)


ROUTES = []
urlpatterns = [
    path("entities/<str:uscc>/", EntityFileView.as_view(), name="entity"),
    path("changes/", ChangesView.as_view(), name="changes"),
    path("exports/", ExportListView.as_view(), name="exports"),
    re_path(r"^exports/(?P<day>\d{4}-\d{2}-\d{2})\.(?P<fmt>csv|json)$", ExportDownloadView.as_view(), name="export"),
]
