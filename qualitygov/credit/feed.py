"""The change feed (信用变动订阅) that sharing partners read with ``since=`` (issue 4, items 5 and 7).

Every public change of an entity's credit standing is appended here by the function that makes it:
a published record added or changed (``services.record_fact``), withdrawn from publication
(``revoke_fact``, ``end_fact``, ``lists.remove_expired``), a listing or removal (``credit.lists``), a
repair decision (``credit.repair``) and a grade change (``credit.scoring``). Payloads hold public
fields only: a record that was never published (a warning-only penalty, an internal finding) leaves
no trace here, and the internal risk class never appears.

Events are written in the same transaction as the change, so a rolled-back change leaves no event.
The id is the cursor: ``changes_since`` returns events with a larger id, in order.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.utils import timezone

from qualitygov.credit.models import ChangeEvent, CreditRecord, ListEntry

__all__ = ["changes_since", "entries_removed", "entry_changed", "is_public", "parse_since", "record_changed", "record_payload",
           "records_withdrawn", "repair_decided"]


def record_payload(record: CreditRecord) -> dict:
    """The public fields of a credit record (what the portal shows and partners receive)."""
    return {"record": record.pk, "kind": record.kind, "kind_label": str(record.get_kind_display()),
            "polarity": record.polarity, "occurred_on": record.occurred_on.isoformat(), "summary": record.summary,
            "department": record.department, "state": record.state,
            "publish_from": record.publish_from.isoformat() if record.publish_from else None,
            "publish_until": record.publish_until.isoformat() if record.publish_until else None}


def _entity_fields(entity_id: int) -> dict:
    from qualitygov.registry.models import MarketEntity

    uscc, name = MarketEntity.objects.filter(pk=entity_id).values_list("uscc", "name").get()
    return {"uscc": uscc, "name": name}


def _emit(entity_id: int, kind: str, object_type: str, object_id, payload: dict) -> ChangeEvent:
    return ChangeEvent.objects.create(entity_id=entity_id, kind=kind, object_type=object_type,
                                      object_id=str(object_id), payload=_entity_fields(entity_id) | payload)


def record_changed(record: CreditRecord, *, created: bool, was_public: bool) -> ChangeEvent | None:
    """Append the event for a record just written: published (new and public), changed (public before
    and after) or withdrawn (public before, not after). Nothing for a record the public never saw."""
    now_public = CreditRecord.objects.filter(pk=record.pk).publicly_visible().exists()
    if now_public and (created or not was_public):
        kind = ChangeEvent.Kind.RECORD_PUBLISHED
    elif now_public:
        kind = ChangeEvent.Kind.RECORD_CHANGED
    elif was_public:
        kind = ChangeEvent.Kind.RECORD_WITHDRAWN
    else:
        return None
    return _emit(record.entity_id, kind, "creditrecord", record.pk, record_payload(record))


def is_public(record: CreditRecord) -> bool:
    """Whether the record is published today (read before a change, to tell what the change did)."""
    return record.pk is not None and CreditRecord.objects.filter(pk=record.pk).publicly_visible().exists()


def records_withdrawn(record_ids: list[int], *, reason: str) -> int:
    """Append one *withdrawn* event per record in ``record_ids`` in one INSERT … SELECT (for the
    set-based removal job). Callers pass records that were public before the change."""
    if not record_ids:
        return 0
    from qualitygov.registry.models import MarketEntity

    events, records, entities = (ChangeEvent._meta.db_table, CreditRecord._meta.db_table,
                                 MarketEntity._meta.db_table)
    marks = ", ".join(["%s"] * len(record_ids))
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    # The payload is built by the database itself (json_build_object / json_object), so the job stays
    # one statement however many records it withdraws.
    if connection.vendor == "postgresql":
        payload = ("json_build_object('uscc', e.uscc, 'name', e.name, 'record', r.id, 'kind', r.kind, "
                   "'state', r.state, 'reason', CAST(%s AS text))::jsonb")
    else:
        payload = ("json_object('uscc', e.uscc, 'name', e.name, 'record', r.id, 'kind', r.kind, "
                   "'state', r.state, 'reason', %s)")
    sql = (f"INSERT INTO {events} (occurred_at, entity_id, kind, object_type, object_id, payload) "
           f"SELECT %s, r.entity_id, %s, 'creditrecord', CAST(r.id AS varchar(64)), {payload} "
           f"FROM {records} r JOIN {entities} e ON e.id = r.entity_id WHERE r.id IN ({marks}) ORDER BY r.id")
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, ChangeEvent.Kind.RECORD_WITHDRAWN.value, reason, *record_ids])
        return cursor.rowcount


def entry_changed(entry: ListEntry) -> ChangeEvent:
    """Append the event for a listing (status listed) or a removal (status removed). Both lists are
    public, so every listing and removal is shared."""
    if entry.status == ListEntry.Status.LISTED:
        kind = ChangeEvent.Kind.LISTED
        payload = {"list": entry.kind, "list_label": str(entry.get_kind_display()), "grounds": entry.grounds,
                   "legal_basis": entry.legal_basis, "decision_number": entry.decision_number,
                   "department": entry.department, "listed_on": entry.listed_on.isoformat()}
    else:
        kind = ChangeEvent.Kind.REMOVED
        payload = {"list": entry.kind, "list_label": str(entry.get_kind_display()),
                   "removed_on": entry.removed_on.isoformat(), "removal_reason": entry.removal_reason,
                   "removal_reason_label": str(entry.get_removal_reason_display())}
    return _emit(entry.entity_id, kind, "listentry", entry.pk, payload)


def repair_decided(application) -> ChangeEvent:
    """Append the event for a credit-repair decision (approved or denied); partners learn that the
    repaired information is no longer to be used (信用修复信息共享)."""
    payload = {"application": application.pk, "target": application.target,
               "target_label": str(application.get_target_display()), "status": application.status,
               "decided_on": application.decided_on.isoformat() if application.decided_on else None,
               "record": application.record_id, "list_entry": application.list_entry_id}
    return _emit(application.entity_id, ChangeEvent.Kind.REPAIR_DECIDED, "repairapplication", application.pk, payload)


def parse_since(value: str | None) -> tuple[str, int | dt.datetime] | None:
    """``since=`` as ("cursor", id) for digits or ("time", aware datetime) for an ISO 8601 timestamp;
    None when absent. Raises ValueError for anything else (the API turns it into a 400)."""
    if value is None or value == "":
        return None
    if value.isdigit():
        return "cursor", int(value)
    moment = dt.datetime.fromisoformat(value)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return "time", moment


def changes_since(since: tuple[str, int | dt.datetime] | None, *, limit: int = 1000):
    """Events after the cursor (id) or at/after the timestamp, oldest first, at most ``limit``."""
    events = ChangeEvent.objects.select_related(None).order_by("id")
    if since is not None:
        how, value = since
        events = events.filter(id__gt=value) if how == "cursor" else events.filter(occurred_at__gte=value)
    return events[:limit]


def entries_removed(entry_ids) -> int:
    """Append one *removed* event per entry in ``entry_ids`` (already removed) with one read and one
    bulk insert, for the set-based removal job."""
    rows = (ListEntry.objects.filter(pk__in=list(entry_ids), status=ListEntry.Status.REMOVED)
            .values("pk", "entity_id", "kind", "removed_on", "removal_reason", "entity__uscc", "entity__name"))
    now = timezone.now()
    events = [ChangeEvent(
        occurred_at=now, entity_id=row["entity_id"], kind=ChangeEvent.Kind.REMOVED, object_type="listentry",
        object_id=str(row["pk"]),
        payload={"uscc": row["entity__uscc"], "name": row["entity__name"], "list": row["kind"],
                 "list_label": str(ListEntry.Kind(row["kind"]).label), "removed_on": row["removed_on"].isoformat(),
                 "removal_reason": row["removal_reason"],
                 "removal_reason_label": str(ListEntry.RemovalReason(row["removal_reason"]).label)})
        for row in rows.order_by("pk")]
    ChangeEvent.objects.bulk_create(events, batch_size=500)
    return len(events)
