"""API permission and pagination classes, kept apart from ``core.api`` because DRF's settings
import them while its own views module is loading."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import pagination, permissions

from qualitygov.core.roles import ADD, CHANGE, DELETE, VIEW, actions_for

METHOD_ACTIONS = {"GET": VIEW, "HEAD": VIEW, "OPTIONS": VIEW, "POST": ADD, "PUT": CHANGE, "PATCH": CHANGE,
                  "DELETE": DELETE}


def action_for_request(request) -> str:
    return METHOD_ACTIONS.get(request.method, VIEW)


class RolePermission(permissions.BasePermission):
    """Signed-in, active users whose role allows the request's action on the view's model."""

    message = _("您没有执行此操作的权限。")

    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated or not user.is_active:
            return False
        model = getattr(getattr(view, "queryset", None), "model", None)
        if model is None:
            return True
        if user.is_superuser:
            return True
        return action_for_request(request) in actions_for(user.role, model)


class StandardPagination(pagination.PageNumberPagination):
    """Page-number paging; clients choose ``page_size`` up to ``MAX_PAGE_SIZE``."""

    page_size_query_param = "page_size"
    max_page_size = settings.MAX_PAGE_SIZE


