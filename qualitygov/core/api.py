"""The base of every API endpoint: scope, permission, pagination and the one error shape.

Error shape (every 4xx/5xx answer of the API)::

    {"error": {"status": 400, "code": "invalid", "message": "…",
               "details": {"field": ["…", …], …}}}
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status, viewsets
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from qualitygov.core.api_permissions import RolePermission, StandardPagination, action_for_request  # noqa: F401
from qualitygov.core.roles import ADD, CHANGE


class RestrictedViewSetMixin:
    """Scopes every queryset by the requesting user's role, region and entity (the one place it happens)."""

    def get_queryset(self):
        queryset = super().get_queryset()
        return queryset.restrict(self.request.user, action_for_request(self.request))

    def perform_create(self, serializer):
        self._save_within_scope(serializer)

    def perform_update(self, serializer):
        self._save_within_scope(serializer)

    def _save_within_scope(self, serializer):
        from django.db import transaction

        with transaction.atomic():
            instance = serializer.save()
            action = ADD if self.request.method == "POST" else CHANGE
            model = type(instance)
            if not model.objects.filter(pk=instance.pk).restrict(self.request.user, action).exists():
                # The saved object lies outside what this user may touch: undo it all.
                raise exceptions.PermissionDenied(_("该记录不在您的辖区或企业范围内。"))


class RestrictedModelViewSet(RestrictedViewSetMixin, viewsets.ModelViewSet):
    pass


class RestrictedReadOnlyViewSet(RestrictedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


class Conflict(exceptions.APIException):
    """A delete refused because other records still refer to the object (409)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "protected"
    default_detail = _("该记录仍被其他记录引用（如信用档案、产品或证书），不能删除。")


def _flatten_details(detail) -> dict:
    if isinstance(detail, dict):
        out = {}
        for key, value in detail.items():
            if isinstance(value, dict):
                for sub_key, sub_value in _flatten_details(value).items():
                    out[f"{key}.{sub_key}"] = sub_value
            elif isinstance(value, list) and value and isinstance(value[0], dict):
                for index, item in enumerate(value):
                    for sub_key, sub_value in _flatten_details(item).items():
                        out[f"{key}[{index}].{sub_key}"] = sub_value
            else:
                out[key] = [str(v) for v in (value if isinstance(value, list) else [value])]
        return out
    if isinstance(detail, list):
        return {"non_field_errors": [str(v) for v in detail]}
    return {}


def error_body(status_code: int, code: str, message: str, details: dict | None = None) -> dict:
    return {"error": {"status": status_code, "code": code, "message": message, "details": details or {}}}


def exception_handler(exc, context):
    """Turn every exception the API raises into the one error shape."""
    rule_code, rule_message = None, None
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        # Service refusals carry a stable code naming the rule; a single message is the message.
        rule_code = getattr(exc, "code", None) if isinstance(getattr(exc, "code", None), str) else None
        rule_message = exc.messages[0] if len(exc.messages) == 1 else None
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, ProtectedError | RestrictedError):
        exc = Conflict()
    elif isinstance(exc, IntegrityError):
        exc = exceptions.ValidationError({"non_field_errors": [_("数据与已有记录冲突（唯一性或完整性约束）。")]})
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(_("未找到该记录，或不在您的访问范围内。"))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        details = _flatten_details(exc.detail)
        message = rule_message or _("提交的数据有误，请按字段说明修改。")
        code = rule_code or "invalid"
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        details = {}
        message = str(detail) if not isinstance(detail, dict | list) else _("请求有误。")
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        code = codes if isinstance(codes, str) else "error"
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        response.status_code = status.HTTP_401_UNAUTHORIZED
    response.data = error_body(response.status_code, code, message, details)
    return response


def not_found_view(request, exception=None):
    return Response(error_body(404, "not_found", _("未找到。")), status=404)
