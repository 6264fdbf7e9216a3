"""Capture keys (追溯数据上报密钥): an enterprise issues keys for its own systems to call the EPCIS
capture interface; events captured with a key are attributed to the key's entity.

The secret (``prefix.random``) is returned once at issue; only its SHA-256 digest is stored. A request
presents the secret; the key is found by its prefix and the digests compared in constant time.
"""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from qualitygov.core import audit
from qualitygov.core.api_keys import secret_digest
from qualitygov.core.roles import ADD, CHANGE, Role, actions_for
from qualitygov.trace.models import CaptureKey

__all__ = ["KeyRefused", "authenticate", "digest", "issue", "keys_visible_to", "revoke"]

PREFIX_BYTES = 6
SECRET_BYTES = 32


class KeyRefused(ValidationError):
    """A refused key operation, with a stable ``code`` (``not_allowed``, ``invalid_key``)."""


def digest(secret: str) -> str:
    """The SHA-256 hex digest of a full secret (the only form in which it is stored)."""
    return secret_digest(secret)


def _may(user, action: str, entity_id: int | None) -> bool:
    """The province administrator (change) or an enterprise user for its own entity."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    if action not in actions_for(user.role, CaptureKey):
        return False
    if user.role == Role.ENTERPRISE:
        return user.entity_id is not None and user.entity_id == entity_id
    return user.role == Role.PROVINCE_ADMIN and action == CHANGE


def issue(entity, name: str, *, user) -> tuple[CaptureKey, str]:
    """Issue a capture key for ``entity``; returns (key, secret). Only an enterprise user of that entity
    (or a superuser) may; the secret is shown once. Refuses a missing name, changing nothing."""
    if not _may(user, ADD, getattr(entity, "pk", None)):
        raise KeyRefused(_("只有本企业的企业用户可以为本企业签发上报密钥。"), code="not_allowed")
    name = (name or "").strip()
    if not name:
        raise KeyRefused({"name": _("请填写密钥名称（如使用该密钥的系统名称）。")}, code="invalid_key")
    if len(name) > CaptureKey._meta.get_field("name").max_length:
        raise KeyRefused({"name": _("密钥名称不能超过 128 个字符。")}, code="invalid_key")
    with audit.attributed_to(user), transaction.atomic():
        for _attempt in range(5):
            prefix = secrets.token_hex(PREFIX_BYTES)
            if not CaptureKey.objects.filter(prefix=prefix).exists():
                break
        secret = f"{prefix}.{secrets.token_urlsafe(SECRET_BYTES)}"
        key = CaptureKey.objects.create(entity=entity, name=name, prefix=prefix, secret_hash=digest(secret),
                                        issued_by=user)
    return key, secret


def revoke(key: CaptureKey, *, user) -> CaptureKey:
    """Stop a key at once (it is kept, with its jobs). The entity's enterprise users and the province
    administrator may; revoking twice changes nothing."""
    if not _may(user, CHANGE, key.entity_id):
        raise KeyRefused(_("您无权停用该上报密钥。"), code="not_allowed")
    with audit.attributed_to(user), transaction.atomic():
        key = CaptureKey.objects.select_for_update().get(pk=key.pk)
        if key.active:
            key.active = False
            key.save(update_fields=["active", "updated"])
    return key


def authenticate(secret: str) -> CaptureKey | None:
    """The active key whose secret this is, or None (unknown, wrong or stopped). Looked up by prefix,
    then the digests compared in constant time."""
    prefix, dot, _rest = (secret or "").partition(".")
    if not dot or not prefix:
        return None
    key = CaptureKey.objects.select_related("entity").filter(prefix=prefix).first()
    if key is None or not secrets.compare_digest(key.secret_hash, digest(secret)):
        return None
    return key if key.active else None


def keys_visible_to(user):
    """Capture keys ``user`` may see (the model's role and scope rules)."""
    return CaptureKey.objects.select_related("entity", "issued_by").restrict(user)
