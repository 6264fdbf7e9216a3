"""Data sharing with other departments (信用信息共享, issue 4 item 7): keys, the shared credit file,
the rate limit, the change feed as partners see it, and the daily bulk export.

Every rule lives here; the API (``api_sharing``), the key pages (``views_sharing``) and the export
command call these functions. Partners receive public data only: published records
(``CreditRecord.publicly_visible``), the public lists, repair decisions, the entity's visible
statements, the public grade. The internal risk class is never shared.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import secrets
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qualitygov.core import audit
from qualitygov.core.api_keys import secret_digest
from qualitygov.core.roles import ADD, CHANGE, actions_for
from qualitygov.credit import feed
from qualitygov.credit.models import (
    ChangeEvent,
    CreditRecord,
    EntityStatement,
    ListEntry,
    RepairApplication,
    SharingKey,
)

__all__ = ["EXPORT_FIELDS", "FEED_FIELD", "SHARING_FIELDS", "SharingRefused", "authenticate_secret", "check_fields",
           "check_rate", "entity_file", "export_dir", "export_files", "export_path", "feed_page", "hash_secret",
           "issue_key", "revoke_key", "write_daily_export"]

# The catalogue of the shared credit file: field → label. A key names the fields its department may read.
SHARING_FIELDS: dict[str, str] = {
    "name": gettext_lazy("主体名称"),
    "uscc": gettext_lazy("统一社会信用代码"),
    "region": gettext_lazy("所在区划"),
    "grade": gettext_lazy("信用等级"),
    "grade_date": gettext_lazy("信用等级评定日期"),
    "records": gettext_lazy("公示的信用记录"),
    "lists": gettext_lazy("名单状态"),
    "repairs": gettext_lazy("信用修复决定"),
    "statements": gettext_lazy("主体情况说明"),
}

# Which field of the catalogue each kind of feed event belongs to; a key without it does not see the event.
FEED_FIELD = {
    ChangeEvent.Kind.RECORD_PUBLISHED: "records", ChangeEvent.Kind.RECORD_CHANGED: "records",
    ChangeEvent.Kind.RECORD_WITHDRAWN: "records", ChangeEvent.Kind.LISTED: "lists",
    ChangeEvent.Kind.REMOVED: "lists", ChangeEvent.Kind.REPAIR_DECIDED: "repairs",
    ChangeEvent.Kind.GRADE_CHANGED: "grade",
}

# What the daily bulk file holds; a key must cover all of it to download the file.
EXPORT_FIELDS = ("uscc", "name", "region", "grade", "records", "lists")

PREFIX_BYTES = 6
SECRET_BYTES = 32
FEED_DEFAULT_LIMIT = 100
FEED_MAX_LIMIT = 1000


class SharingRefused(ValidationError):
    """A refusal of a sharing rule, with a stable ``code`` (``field_not_in_scope``, ``bad_since`` …)."""


# --- keys ------------------------------------------------------------------------------------------

def hash_secret(secret: str) -> str:
    """The SHA-256 hex digest of a full secret (the only form the secret is stored in)."""
    return secret_digest(secret)


def _clean_fields(fields) -> list[str]:
    fields = [str(f).strip() for f in (fields or []) if str(f).strip()]
    unknown = sorted(set(fields) - set(SHARING_FIELDS))
    if unknown:
        raise SharingRefused({"fields": _("未知的共享字段：%(fields)s。") % {"fields": "、".join(unknown)}},
                             code="unknown_field")
    if not fields:
        raise SharingRefused({"fields": _("请至少选择一个可读字段。")}, code="no_fields")
    return [f for f in SHARING_FIELDS if f in set(fields)]  # catalogue order, no duplicates


def _require(user, action: str) -> None:
    if user is None or not (user.is_superuser or action in actions_for(getattr(user, "role", None), SharingKey)):
        raise SharingRefused(_("只有省级管理员可以签发或停用共享接口密钥。"), code="not_allowed")


def issue_key(name: str, department: str, department_name: str, fields, rate_limit_per_minute: int = 60,
              expires_on: dt.date | None = None, user=None) -> tuple[SharingKey, str]:
    """Issue a key to a partner department; returns (key, secret). The secret (``prefix.random``) is
    returned once and only its SHA-256 digest is stored. Only the province administrator may issue.
    Refuses unknown fields, an unknown department, a missing name, a rate limit below 1 and a past
    expiry date, changing nothing."""
    _require(user, ADD)
    errors = {}
    if not (name or "").strip():
        errors["name"] = _("请填写密钥名称。")
    if department not in SharingKey.Department.values:
        errors["department"] = _("未知的部门类别：%(value)s。") % {"value": department}
    if not (department_name or "").strip():
        errors["department_name"] = _("请填写部门全称。")
    try:
        rate = int(rate_limit_per_minute)
    except (TypeError, ValueError):
        rate = 0
    if rate < 1:
        errors["rate_limit_per_minute"] = _("每分钟请求上限至少为 1。")
    if expires_on is not None and expires_on < timezone.localdate():
        errors["expires_on"] = _("有效期不能早于今天。")
    try:
        fields = _clean_fields(fields)
    except SharingRefused as exc:
        errors |= exc.message_dict
    if errors:
        raise SharingRefused(errors, code="invalid_key")
    with audit.attributed_to(user), transaction.atomic():
        for _attempt in range(5):
            prefix = secrets.token_hex(PREFIX_BYTES)
            if not SharingKey.objects.filter(prefix=prefix).exists():
                break
        secret = f"{prefix}.{secrets.token_urlsafe(SECRET_BYTES)}"
        key = SharingKey.objects.create(name=name.strip(), department=department,
                                        department_name=department_name.strip(), prefix=prefix,
                                        secret_hash=hash_secret(secret), fields=fields, rate_limit_per_minute=rate,
                                        expires_on=expires_on, issued_by=user)
    return key, secret


def revoke_key(key: SharingKey, user=None) -> SharingKey:
    """Stop a key at once (it is kept, with its access log). Only the province administrator may.
    Revoking twice changes nothing."""
    _require(user, CHANGE)
    with audit.attributed_to(user), transaction.atomic():
        key = SharingKey.objects.select_for_update().get(pk=key.pk)
        if key.active:
            key.active = False
            key.save(update_fields=["active", "updated"])
    return key


def authenticate_secret(secret: str) -> SharingKey | None:
    """The usable key whose secret this is, or None (unknown, wrong secret, stopped or expired).
    Looked up by prefix, then the digests compared in constant time."""
    prefix, dot, _rest = (secret or "").partition(".")
    if not dot or not prefix:
        return None
    key = SharingKey.objects.filter(prefix=prefix).first()
    if key is None or not secrets.compare_digest(key.secret_hash, hash_secret(secret)):
        return None
    if not key.active or (key.expires_on is not None and key.expires_on < timezone.localdate()):
        return None
    return key


def _clock() -> dt.datetime:
    """The time the rate window is read from (a seam for tests that must not straddle a minute)."""
    return timezone.now()


def check_rate(key: SharingKey, now: dt.datetime | None = None) -> int | None:
    """Count one request of ``key`` in the current minute (a fixed window in Django's cache); returns
    None when allowed, else the seconds until the window ends (the request must be refused)."""
    now = now or _clock()
    window = int(now.timestamp()) // 60
    cache_key = f"credit-sharing-rate:{key.pk}:{window}"
    cache.add(cache_key, 0, timeout=120)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=120)
        count = 1
    if count > key.rate_limit_per_minute:
        return 60 - int(now.timestamp()) % 60 or 60
    return None


def check_fields(key: SharingKey, requested: str | None) -> list[str]:
    """The fields to return: those asked for in ``requested`` (comma-separated) or, when nothing is
    asked, all the key's fields. Refuses unknown fields and fields outside the key's scope."""
    allowed = list(key.fields or [])
    if requested is None or not requested.strip():
        return [f for f in SHARING_FIELDS if f in allowed]
    asked = [f.strip() for f in requested.split(",") if f.strip()]
    unknown = sorted(set(asked) - set(SHARING_FIELDS))
    if unknown:
        raise SharingRefused(_("未知的共享字段：%(fields)s。") % {"fields": "、".join(unknown)}, code="unknown_field")
    outside = [f for f in SHARING_FIELDS if f in set(asked) - set(allowed)]
    if outside:
        raise SharingRefused(_("以下字段不在该密钥的授权范围内：%(fields)s。") % {"fields": "、".join(outside)},
                             code="field_not_in_scope", params={"fields": outside})
    return [f for f in SHARING_FIELDS if f in set(asked)]


# --- the shared credit file ------------------------------------------------------------------------

def entity_file(entity, fields: list[str], *, on: dt.date | None = None) -> dict:
    """The public credit file of ``entity`` restricted to ``fields`` (public data only; no risk class)."""
    on = on or timezone.localdate()
    out: dict = {}
    if "uscc" in fields:
        out["uscc"] = entity.uscc
    if "name" in fields:
        out["name"] = entity.name
    if "region" in fields:
        out["region"] = {"code": entity.region_id, "name": entity.region.name if entity.region_id else None}
    if "grade" in fields or "grade_date" in fields:
        score = (type(entity).objects.filter(pk=entity.pk)
                 .values("credit_score__grade", "credit_score__as_of").first() or {})
        if "grade" in fields:
            out["grade"] = score.get("credit_score__grade")
        if "grade_date" in fields:
            as_of = score.get("credit_score__as_of")
            out["grade_date"] = as_of.isoformat() if as_of else None
    if "records" in fields:
        records = CreditRecord.objects.filter(entity=entity).publicly_visible(on).order_by("-occurred_on", "-id")
        out["records"] = [feed.record_payload(r) for r in records]
    if "lists" in fields:
        out["lists"] = [
            {"list": e["kind"], "list_label": str(ListEntry.Kind(e["kind"]).label), "grounds": e["grounds"],
             "legal_basis": e["legal_basis"], "decision_number": e["decision_number"],
             "department": e["department"], "listed_on": e["listed_on"].isoformat()}
            for e in ListEntry.objects.filter(entity=entity, status=ListEntry.Status.LISTED)
            .order_by("-listed_on", "-id").values("kind", "grounds", "legal_basis", "decision_number", "department",
                                                  "listed_on")]
    if "repairs" in fields:
        decided = (RepairApplication.Status.APPROVED, RepairApplication.Status.DENIED)
        out["repairs"] = [
            {"application": r["pk"], "target": r["target"],
             "target_label": str(RepairApplication.Target(r["target"]).label), "status": r["status"],
             "status_label": str(RepairApplication.Status(r["status"]).label),
             "decided_on": r["decided_on"].isoformat() if r["decided_on"] else None,
             "record": r["record_id"]}
            for r in RepairApplication.objects.filter(entity=entity, status__in=decided)
            .order_by("-decided_on", "-id").values("pk", "target", "status", "decided_on", "record_id")]
    if "statements" in fields:
        # Only statements beside a record the public sees, and not withdrawn by an officer.
        public_ids = CreditRecord.objects.filter(entity=entity).publicly_visible(on).values("pk")
        out["statements"] = [
            {"record": s["record_id"], "text": s["text"], "updated": s["updated"].isoformat()}
            for s in EntityStatement.objects.filter(entity=entity, visible=True, record_id__in=public_ids)
            .order_by("record_id").values("record_id", "text", "updated")]
    return out


# --- the change feed as a partner sees it ------------------------------------------------------------

def parse_limit(raw: str | None) -> int:
    """``limit=`` of the change feed: 1 … FEED_MAX_LIMIT, default FEED_DEFAULT_LIMIT."""
    if raw is None or raw == "":
        return FEED_DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= FEED_MAX_LIMIT:
        raise SharingRefused(_("limit 必须是 1 至 %(max)d 之间的整数。") % {"max": FEED_MAX_LIMIT}, code="bad_limit")
    return int(raw)


def feed_page(since_raw: str | None, limit: int, fields: list[str]) -> tuple[dict, list[int]]:
    """One page of the change feed for a key reading ``fields``: events of the kinds those fields
    cover, oldest first, each payload reduced to them (the entity's USCC always names the subject),
    and the cursor to ask from next (the last id returned, or the one given when nothing is new).
    Returns the page and the ids of the entities it names (for the access log)."""
    try:
        since = feed.parse_since(since_raw)
    except ValueError:
        raise SharingRefused(_("since 参数无效：应为变动编号（整数）或 ISO 8601 时间，如 2026-01-31T08:00:00+08:00。"),
                             code="bad_since") from None
    kinds = [kind for kind, field in FEED_FIELD.items() if field in fields]
    # Filtering by kind in the query keeps the paging exact: ids only grow, so the cursor never skips.
    events = list(feed.changes_since(since, limit=None).filter(kind__in=kinds)[:limit + 1]
                  .values("id", "occurred_at", "kind", "object_type", "object_id", "payload", "entity_id")) if kinds else []
    has_more = len(events) > limit
    events = events[:limit]
    if events:
        next_cursor = events[-1]["id"]
    elif since is not None and since[0] == "cursor":
        next_cursor = since[1]
    else:
        next_cursor = None
    keep = {"name"} & set(fields)
    results = []
    for event in events:
        payload = dict(event["payload"] or {})
        shared = {k: v for k, v in payload.items() if k not in ("uscc", "name")}
        shared = {"uscc": payload.get("uscc"), **{k: payload[k] for k in keep if k in payload}, **shared}
        results.append({"id": event["id"], "occurred_at": event["occurred_at"].isoformat(), "kind": event["kind"],
                        "kind_label": str(ChangeEvent.Kind(event["kind"]).label), "object_type": event["object_type"],
                        "object_id": event["object_id"], "payload": shared})
    page = {"results": results, "next_cursor": next_cursor, "has_more": has_more}
    return page, [event["entity_id"] for event in events]



# --- the daily bulk export -----------------------------------------------------------------------------

EXPORT_COLUMNS = ("item_type", "item_id", "uscc", "name", "region_code", "region_name", "grade", "kind",
                  "kind_label", "date", "summary", "department", "publish_from", "publish_until", "decision_number")
EXPORT_FORMATS = ("csv", "json")


def export_dir() -> Path:
    """Where the daily files are kept: ``CREDIT_EXPORT_DIR`` if set, else ``VAR_DIR/exports/credit``."""
    configured = getattr(settings, "CREDIT_EXPORT_DIR", None)
    if configured:
        return Path(configured)
    return Path(getattr(settings, "VAR_DIR", Path(settings.BASE_DIR) / "var")) / "exports" / "credit"


def export_path(day: dt.date, fmt: str, directory: Path | None = None) -> Path:
    """The file of ``day`` in format ``fmt`` (``credit-YYYY-MM-DD.csv`` / ``.json``)."""
    return Path(directory or export_dir()) / f"credit-{day.isoformat()}.{fmt}"


def export_files(directory: Path | None = None) -> list[dict]:
    """The daily files present, newest first: date, format, size in bytes."""
    directory = Path(directory or export_dir())
    if not directory.is_dir():
        return []
    out = []
    for path in directory.glob("credit-*.*"):
        stem, _dot, fmt = path.name.removeprefix("credit-").partition(".")
        try:
            day = dt.date.fromisoformat(stem)
        except ValueError:
            continue
        if fmt in EXPORT_FORMATS:
            out.append({"date": day, "format": fmt, "size": path.stat().st_size, "path": path})
    return sorted(out, key=lambda f: (f["date"], f["format"]), reverse=True)


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _export_rows(day: dt.date):
    """Rows of the export (dicts keyed by ``EXPORT_COLUMNS``), read in chunks with ``values()``: the
    records published on ``day``, then the entries on the public lists that day."""
    records = (CreditRecord.objects.publicly_visible(day).order_by("entity__uscc", "id")
               .values("id", "entity__uscc", "entity__name", "entity__region_id", "entity__region__name",
                       "entity__credit_score__grade", "kind", "occurred_on", "summary", "department",
                       "publish_from", "publish_until"))
    kind_labels = {value: str(label) for value, label in CreditRecord._meta.get_field("kind").choices}
    for r in records.iterator(chunk_size=2000):
        yield {"item_type": "record", "item_id": r["id"], "uscc": r["entity__uscc"], "name": r["entity__name"],
               "region_code": r["entity__region_id"], "region_name": r["entity__region__name"],
               "grade": r["entity__credit_score__grade"], "kind": r["kind"], "kind_label": kind_labels.get(r["kind"]),
               "date": _iso(r["occurred_on"]), "summary": r["summary"], "department": r["department"],
               "publish_from": _iso(r["publish_from"]), "publish_until": _iso(r["publish_until"]),
               "decision_number": None}
    # On the list that day: listed on or before it, and not removed by then.
    entries = (ListEntry.objects.filter(listed_on__lte=day)
               .exclude(status=ListEntry.Status.REMOVED, removed_on__lte=day)
               .order_by("entity__uscc", "id")
               .values("id", "entity__uscc", "entity__name", "entity__region_id", "entity__region__name",
                       "entity__credit_score__grade", "kind", "listed_on", "grounds", "department",
                       "decision_number", "removal_due_on"))
    list_labels = {value: str(label) for value, label in ListEntry.Kind.choices}
    for e in entries.iterator(chunk_size=2000):
        yield {"item_type": "list_entry", "item_id": e["id"], "uscc": e["entity__uscc"], "name": e["entity__name"],
               "region_code": e["entity__region_id"], "region_name": e["entity__region__name"],
               "grade": e["entity__credit_score__grade"], "kind": e["kind"], "kind_label": list_labels.get(e["kind"]),
               "date": _iso(e["listed_on"]), "summary": e["grounds"], "department": e["department"],
               "publish_from": _iso(e["listed_on"]), "publish_until": _iso(e["removal_due_on"]),
               "decision_number": e["decision_number"]}


def _atomic_write(path: Path, write) -> None:
    """Write through a temporary file in the same directory and rename it into place, so a reader
    never sees a half-written file."""
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            write(out)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_daily_export(day: dt.date | None = None, directory: Path | None = None, *, overwrite: bool = False) -> dict:
    """Write the public credit data of ``day`` (default today) as ``credit-<day>.csv`` (UTF-8 with BOM,
    for Excel) and ``credit-<day>.json`` into ``directory`` (default ``export_dir()``). Idempotent per
    day: files already there are kept unless ``overwrite``. Returns {format: (path, rows or None)}."""
    day = day or timezone.localdate()
    directory = Path(directory or export_dir())
    directory.mkdir(parents=True, exist_ok=True)
    written: dict = {}
    csv_path, json_path = export_path(day, "csv", directory), export_path(day, "json", directory)

    if overwrite or not csv_path.exists():
        count = 0

        def write_csv(out):
            nonlocal count
            out.write("\ufeff")
            writer = csv.writer(out)
            writer.writerow(EXPORT_COLUMNS)
            for row in _export_rows(day):
                writer.writerow(["" if row[c] is None else row[c] for c in EXPORT_COLUMNS])
                count += 1

        _atomic_write(csv_path, write_csv)
        written["csv"] = (csv_path, count)
    else:
        written["csv"] = (csv_path, None)

    if overwrite or not json_path.exists():
        count = 0

        def write_json(out):
            nonlocal count
            out.write('{"date": ' + json.dumps(day.isoformat()) + ', "columns": ' + json.dumps(list(EXPORT_COLUMNS))
                      + ', "rows": [')
            for row in _export_rows(day):
                out.write(("," if count else "") + "\n" + json.dumps(row, ensure_ascii=False))
                count += 1
            out.write("\n]}\n")

        _atomic_write(json_path, write_json)
        written["json"] = (json_path, count)
    else:
        written["json"] = (json_path, None)
    return written
