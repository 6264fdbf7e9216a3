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


class ChineseFirstLocaleMiddleware:
    """Chinese for everyone until they choose otherwise.

    Django's LocaleMiddleware would follow the browser's Accept-Language header, so an officer
    on an English-language browser would get English pages. The platform's language is Chinese;
    English is an explicit choice, remembered in the language cookie set by the switcher.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings
        from django.utils import translation
        from django.utils.cache import patch_vary_headers

        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", language)
        return response
