"""The audit log: who changed what, when, from where, with before and after values.

Entries are append-only and hash-chained: each entry's hash covers its content and the previous
entry's hash, so editing or deleting a row in the database breaks ``verify_chain``.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import decimal
import hashlib
import json
import uuid
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.utils import timezone


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user (or None for the system), their address, and the request."""

    user: object | None = None
    ip_address: str | None = None
    request_id: str = ""
    # For web requests the user is read from the request when a change is recorded, because
    # API token authentication only replaces ``request.user`` inside the view.
    request: object | None = None

    def resolve_user(self):
        user = getattr(self.request, "user", None) if self.request is not None else self.user
        return user if getattr(user, "is_authenticated", False) else None


_actor: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("qualitygov_actor", default=None)
_enabled: contextvars.ContextVar[bool] = contextvars.ContextVar("qualitygov_audit_enabled", default=True)


def current_actor() -> Actor:
    """Who is acting now; outside any request or ``acting_as`` block, the system."""
    return _actor.get() or Actor()


@contextlib.contextmanager
def acting_as(user=None, ip_address: str | None = None, request_id: str | None = None, request=None):
    """Attribute every change made inside the block to ``user`` (used by requests, CLI and jobs)."""
    token = _actor.set(Actor(user, ip_address, request_id or str(uuid.uuid4()), request))
    try:
        yield
    finally:
        _actor.reset(token)


@contextlib.contextmanager
def attributed_to(user):
    """Attribute changes to ``user`` unless a request or ``acting_as`` block already names someone.

    Service functions that take the acting user wrap their writes in this, so a step made from a
    test, a job or the shell is attributed as surely as one made from a page.
    """
    if current_actor().resolve_user() is not None or user is None:
        yield
        return
    with acting_as(user):
        yield


@contextlib.contextmanager
def per_object_audit_disabled():
    """Suspend per-object entries inside the block; the caller records one summary entry instead.

    Bulk imports and the demo generator use this: a million per-row entries would say less than
    one entry naming the file, its digest and the counts.
    """
    token = _enabled.set(False)
    try:
        yield
    finally:
        _enabled.reset(token)


def per_object_audit_enabled() -> bool:
    return _enabled.get()


def _jsonable(value):
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def snapshot(instance: models.Model) -> dict:
    """Field values of ``instance`` as JSON-ready data (foreign keys by their stored key)."""
    exclude = set(getattr(instance, "audit_exclude", ()))
    data = {}
    for field in instance._meta.concrete_fields:
        if field.name in exclude:
            continue
        data[field.name] = _jsonable(getattr(instance, field.attname))
    return data


def diff(before: dict | None, after: dict | None) -> tuple[dict | None, dict | None]:
    """Only the fields that changed, on both sides."""
    if before is None or after is None:
        return before, after
    changed = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in changed}, {k: after[k] for k in changed}


def _entry_digest(prev_hash: str, fields: dict) -> str:
    payload = json.dumps({"prev": prev_hash, **fields}, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _hashed_fields(entry) -> dict:
    return {
        "time": entry.time.isoformat(),
        "username": entry.username,
        "action": entry.action,
        "content_type": entry.content_type_id,
        "object_id": entry.object_id,
        "region": entry.region,
        "before": entry.before,
        "after": entry.after,
        "message": entry.message,
    }


def record(action: str, instance: models.Model | None = None, *, before=None, after=None, message: str = "",
           model: type[models.Model] | None = None, region: str = "", object_id: str = "",
           object_repr: str = ""):
    """Append one audit entry and return it. Runs inside the caller's transaction."""
    from qualitygov.core.models import AuditLog

    actor = current_actor()
    user = actor.resolve_user()
    target_model = type(instance) if instance is not None else model
    content_type = ContentType.objects.get_for_model(target_model) if target_model is not None else None
    if instance is not None:
        object_id = object_id or str(instance.pk)
        if not object_repr:
            # The log is read by everyone: name the object in the platform's language, not the editor's.
            from django.conf import settings
            from django.utils import translation

            with translation.override(settings.LANGUAGE_CODE):
                object_repr = str(instance)[:255]
        if not region and hasattr(instance, "region_code_for_audit"):
            region = instance.region_code_for_audit()
    entry = AuditLog(
        time=timezone.now(),
        user=user,
        username=getattr(user, "username", "") or "system",
        ip_address=actor.ip_address,
        request_id=actor.request_id,
        action=action,
        content_type=content_type,
        object_id=object_id,
        object_repr=object_repr[:255],
        region=region or "",
        before=before,
        after=after,
        message=message,
    )
    with transaction.atomic():
        _lock_chain()
        last = AuditLog.objects.order_by("-id").values_list("hash", flat=True).first()
        entry.prev_hash = last or ""
        # JSON round-trip so the digest covers exactly what the database will give back.
        entry.before = json.loads(json.dumps(entry.before, default=str)) if entry.before is not None else None
        entry.after = json.loads(json.dumps(entry.after, default=str)) if entry.after is not None else None
        entry.hash = _entry_digest(entry.prev_hash, _hashed_fields(entry))
        entry.save()
    return entry


def _lock_chain():
    """Serialise appends so two writers never chain onto the same previous entry."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [7_305_001])
    # SQLite serialises writers itself.


def verify_chain() -> list[int]:
    """Ids of entries whose hash or link does not match; an empty list means the log is intact."""
    from qualitygov.core.models import AuditLog

    broken, prev = [], ""
    for entry in AuditLog.objects.order_by("id").iterator(chunk_size=2000):
        expected = _entry_digest(prev, _hashed_fields(entry))
        if entry.prev_hash != prev or entry.hash != expected:
            broken.append(entry.pk)
        prev = entry.hash
    return broken


def history_for(instance: models.Model):
    """The audit entries of one object, newest first."""
    from qualitygov.core.models import AuditLog

    content_type = ContentType.objects.get_for_model(type(instance))
    return AuditLog.objects.filter(content_type=content_type, object_id=str(instance.pk))
