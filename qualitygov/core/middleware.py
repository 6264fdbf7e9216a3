"""Request-scoped context: who is acting, from which address, for the audit log."""

from __future__ import annotations

import uuid

from qualitygov.core.audit import acting_as


def client_ip(request) -> str | None:
    """The client's address as the server saw it (proxies are trusted only via REMOTE_ADDR)."""
    return request.META.get("REMOTE_ADDR") or None


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request.headers.get("X-Request-ID") or str(uuid.uuid4())
        # The user object is lazy; by the time a change is saved, authentication has run.
        with acting_as(None, client_ip(request), request_id[:36], request=request):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id[:36]
        return response
