"""Encryption at rest for complainants' and reporters' identities (SAMR Order 20, Art. 33).

Values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) under the keys in
``settings.COMPLAINTS_ENCRYPTION_KEYS`` (newest first; older keys still decrypt, so keys can be
rotated). Development and tests, which have no such setting, derive a key from ``SECRET_KEY``;
production refuses to start without one (settings). A keyed digest (HMAC-SHA256) of a normalised
value lets the platform find the same phone number again — for the first-reporter rule and for
similar cases — without decrypting anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

__all__ = ["EncryptedTextField", "decrypt", "digest", "encrypt"]


def _derived_key() -> bytes:
    material = hashlib.sha256(b"qualitygov.complaints.identity:" + settings.SECRET_KEY.encode()).digest()
    return base64.urlsafe_b64encode(material)


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])


def _keys() -> tuple[str, ...]:
    configured = tuple(getattr(settings, "COMPLAINTS_ENCRYPTION_KEYS", ()) or ())
    return configured or (_derived_key().decode(),)


def encrypt(value: str) -> str:
    """Ciphertext (URL-safe text) of ``value`` under the newest key; the empty string stays empty."""
    if not value:
        return ""
    return _fernet(_keys()).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    """Plain text of a ciphertext made by ``encrypt`` under any configured key."""
    if not token:
        return ""
    try:
        return _fernet(_keys()).decrypt(token.encode()).decode()
    except InvalidToken as exc:  # a wrong or rotated-away key: say so rather than show garbage
        raise ValueError("投诉举报人信息无法解密：加密密钥不匹配。") from exc


def digest(value: str) -> str:
    """Keyed digest of a normalised value (spaces and hyphens removed, lower case), for matching."""
    normalised = "".join(ch for ch in (value or "") if ch not in " -\t").lower()
    if not normalised:
        return ""
    key = hashlib.sha256(b"qualitygov.complaints.digest:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):
    """A text field stored encrypted; Python code reads and writes plain text.

    Lookups other than ``isnull`` and exact-empty make no sense on ciphertext; match with ``digest``.
    """

    description = "Text encrypted at rest (Fernet)"

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt(value) if value else (value if value is None else "")

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)
