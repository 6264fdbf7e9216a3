"""API keys sent as ``Authorization: Api-Key <secret>`` or ``X-Api-Key: <secret>``: the one way the
platform reads them. Each kind of key (a partner department's sharing key, an enterprise's capture
key) subclasses ``ApiKeyAuthentication`` with its own lookup and refusal message."""

from __future__ import annotations

import hashlib

from django.contrib.auth.models import AnonymousUser
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

KEYWORD = "Api-Key"


def secret_digest(secret: str) -> str:
    """The SHA-256 hex digest stored in place of a key's secret."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secret_from(request) -> str | None:
    """The key's secret from the ``Authorization: Api-Key …`` or ``X-Api-Key`` header, or None."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        keyword, _sep, value = header.strip().partition(" ")
        if keyword.lower() == KEYWORD.lower():
            return value.strip()
    return request.META.get("HTTP_X_API_KEY", "").strip() or None


class ApiKeyAuthentication(BaseAuthentication):
    """No key → not authenticated by this class; a key that ``lookup`` refuses → 401 with
    ``refused_message``. The request runs as an anonymous user with the key as ``request.auth``."""

    refused_message = ""

    def lookup(self, secret: str):
        """The active key for ``secret``, or None."""
        raise NotImplementedError

    def authenticate(self, request):
        secret = secret_from(request)
        if secret is None:
            return None
        key = self.lookup(secret)
        if key is None:
            raise exceptions.AuthenticationFailed(str(self.refused_message), code="invalid_key")
        return AnonymousUser(), key

    def authenticate_header(self, request):
        return KEYWORD
