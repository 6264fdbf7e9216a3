"""EPCIS 2.0 capture (issue 5): validate a capture payload, recognise repeats, store events and their
identifier index set-based in one transaction, and record the capture job.

Entry points: :func:`capture_document` (``POST /capture``, an EPCISDocument) and :func:`capture_event`
(``POST /events``, one event). Both return the finished :class:`CaptureJob`; they never raise for
invalid events (the job carries the problems), only :class:`CaptureTooLarge` for a payload beyond the
capture limits (the API answers 413).

Storage decisions (read by the query and trace areas):

* **Event ID.** ``EpcisEvent.event_id`` is the event's ``eventID`` when given, else its CBV 2.0 event
  hash ID (``eventhash.event_hash``), which is also written into the stored ``document`` as ``eventID``
  (EPCIS 2.0 REST bindings: "the server should populate the event ID"). ``event_hash`` is always the
  hash. ``EventIdentity`` keeps one row per event ID across the store.
* **Repeats.** An event whose ID is already in ``EventIdentity``, or that occurs earlier in the same
  payload, is counted in ``CaptureJob.duplicate_count`` and not stored again.
* **Error declarations** (EPCIS 2.0 §7.4.1.3, §8.2.2). An event carrying ``errorDeclaration`` whose
  ID names an already stored event (or one earlier in the same payload) is the declaration of that
  event: it is stored as a *declaration row* — a new ``EpcisEvent`` with the same ``event_id``,
  ``event_time`` and content, ``has_error_declaration=True`` and ``error_declaration`` set — with no
  ``EventIdentity`` (that stays unique and keeps pointing to the original row) and no
  ``EventIdentifier`` rows (the original row's index serves MATCH_ queries). The original row is never
  changed (the store is append-only). So: a row is a declaration row exactly when it has
  ``has_error_declaration`` and ``EventIdentity.stored_event_id`` is another row; :func:`declarations`
  returns the latest declaration of given event IDs. An event that carries ``errorDeclaration`` but
  whose ID is new is stored as an ordinary event with ``has_error_declaration=True``. A declaration
  equal to one already stored for that event is a repeat. Corrective events are ordinary events; the
  declaration refers to them by ``correctiveEventIDs`` only.
* **Identifiers.** Every identifier an event names gets an ``EventIdentifier`` row per role (epcList,
  parentID, childEPCs, inputEPCList, outputEPCList; quantityList, childQuantityList,
  inputQuantityList, outputQuantityList with quantity and uom; sourceList and destinationList with
  their CBV type as ``kind``), in canonical form (``identifiers.normalise``: GS1 Digital Link on
  id.gs1.org); an identifier that is not a GS1 key (e.g. a private URI) is kept as written. The
  original strings stay in ``document``.
* **class_key** (GTIN + lot, canonical LGTIN Digital Link): for class-level identifiers their own class
  (a GTIN without lot gives the GTIN); for instance identifiers the lot carried with the serial
  (Digital Link ``/10/…/21/…``) or, failing that, the event's own ``ilmd`` ``cbvmda:lotNumber`` (for the
  event's epcList / outputEPCList items with the same GTIN). Lots are not carried over from other
  events: a batch trace joins the item's commissioning row, which holds it.
* **bizStep / disposition** are stored as the bare CBV word when they are CBV words (``commissioning``,
  also when written ``https://ref.gs1.org/cbv/BizStep-commissioning``), otherwise as written;
  readPoint / bizLocation as canonical identifiers when they are GS1 keys, otherwise as written.
* **Entity and region**: from the GLN of bizLocation, else readPoint, through ``Location``; else the
  capturing key's (or user's) entity and its region.
* **Writing.** On PostgreSQL the new events' ids are reserved from their sequence in one statement and
  the events, identities and identifier rows are written with ``COPY … FROM STDIN`` (no ORM object per
  event); elsewhere with bulk INSERTs. Identifier strings are parsed once each (``_parsed``, a bounded
  cache), as a payload names the same locations, parties and classes in many events.
* ``record_time`` is the capture time (``now``). The document's ``@context`` is copied into each stored
  event's ``document`` when the event has none, so the event can be served on its own.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from qualitygov.core.models import region_q
from qualitygov.core.roles import Role
from qualitygov.trace import eventhash, identifiers, validation
from qualitygov.trace.models import CaptureJob, EpcisEvent, EventIdentifier, EventIdentity, Location

__all__ = ["CAPTURE_ROLES", "CaptureTooLarge", "capture_document", "capture_event", "capture_file_size_limit",
           "capture_limit", "check_file_size", "declarations", "identifier_rows", "job_document", "jobs_visible_to",
           "may_capture"]

DEFAULT_CAPTURE_LIMIT = 10_000
DEFAULT_FILE_SIZE_LIMIT = 20 * 1024 * 1024
LOOKUP_CHUNK = 900  # below SQLite's historical 999 bound variables
PARSE_CACHE_SIZE = 50_000  # distinct identifier strings kept parsed (a few MB)

# Who may capture besides a capture key: enterprise users (for their entity) and the province administrator.
CAPTURE_ROLES = frozenset({Role.ENTERPRISE, Role.PROVINCE_ADMIN})

CBV_PREFIXES = {
    "bizStep": ("https://ref.gs1.org/cbv/BizStep-", "http://ref.gs1.org/cbv/BizStep-", "cbv:BizStep-"),
    "disposition": ("https://ref.gs1.org/cbv/Disp-", "http://ref.gs1.org/cbv/Disp-", "cbv:Disp-"),
}
SDT_PREFIXES = ("https://ref.gs1.org/cbv/SDT-", "http://ref.gs1.org/cbv/SDT-", "cbv:SDT-")
LOT_KEYS = ("cbvmda:lotNumber", "urn:epcglobal:cbv:mda#lotNumber", "lotNumber")

# (event field, role, item field or None for a plain list of strings, quantity list?)
ID_LISTS = (
    ("epcList", EventIdentifier.Role.EPC),
    ("childEPCs", EventIdentifier.Role.CHILD),
    ("inputEPCList", EventIdentifier.Role.INPUT),
    ("outputEPCList", EventIdentifier.Role.OUTPUT),
)
QUANTITY_LISTS = (
    ("quantityList", EventIdentifier.Role.QUANTITY),
    ("childQuantityList", EventIdentifier.Role.CHILD_QUANTITY),
    ("inputQuantityList", EventIdentifier.Role.INPUT_QUANTITY),
    ("outputQuantityList", EventIdentifier.Role.OUTPUT_QUANTITY),
)
PARTY_LISTS = (
    ("sourceList", "source", EventIdentifier.Role.SOURCE),
    ("destinationList", "destination", EventIdentifier.Role.DESTINATION),
)


class CaptureTooLarge(Exception):
    """A payload beyond the capture limits (413): ``code`` is ``capture_limit_exceeded`` (events) or
    ``file_size_limit_exceeded`` (bytes); ``message`` is Chinese."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def capture_limit() -> int:
    """Most events one capture request may hold (``GS1-EPCIS-Capture-Limit``)."""
    return int(getattr(settings, "EPCIS_CAPTURE_LIMIT", DEFAULT_CAPTURE_LIMIT))


def capture_file_size_limit() -> int:
    """Largest capture payload in bytes (``GS1-EPCIS-Capture-File-Size-Limit``)."""
    return int(getattr(settings, "EPCIS_CAPTURE_FILE_SIZE_LIMIT", DEFAULT_FILE_SIZE_LIMIT))


def check_file_size(size: int) -> None:
    """Refuse a payload of ``size`` bytes beyond the file size limit (:class:`CaptureTooLarge`)."""
    limit = capture_file_size_limit()
    if size > limit:
        raise CaptureTooLarge("file_size_limit_exceeded",
                              _("上报内容为 %(size)s 字节，超过单次上报上限 %(limit)s 字节；请分批上报。")
                              % {"size": size, "limit": limit})


def _check_event_count(count: int) -> None:
    limit = capture_limit()
    if count > limit:
        raise CaptureTooLarge("capture_limit_exceeded",
                              _("本次上报包含 %(count)s 条事件，超过单次上报上限 %(limit)s 条；请分批上报。")
                              % {"count": count, "limit": limit})


# --- who may capture and see jobs ----------------------------------------------------------------------

def may_capture(user) -> bool:
    """Signed-in users who may capture: the province administrator, and enterprise users acting for an
    entity (superusers too). Capture keys are checked by ``trace.keys``."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return user.role in CAPTURE_ROLES and (user.role != Role.ENTERPRISE or user.entity_id is not None)


JOB_VIEW_ROLES = frozenset({Role.PROVINCE_ADMIN, Role.PROVINCE_OFFICER, Role.CITY_OFFICER, Role.COUNTY_OFFICER,
                            Role.ENTERPRISE})


def jobs_visible_to(user, queryset=None):
    """Capture jobs ``user`` may see: an enterprise user those of its entity, an officer those of
    entities in the region (and its own), the province roles all; others none."""
    queryset = CaptureJob.objects.select_related("entity", "key", "user") if queryset is None else queryset
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return queryset.none()
    if user.is_superuser:
        return queryset
    if user.role not in JOB_VIEW_ROLES:
        return queryset.none()
    if user.role == Role.ENTERPRISE:
        return queryset.filter(entity_id=user.entity_id) if user.entity_id else queryset.none()
    prefix = user.region_prefix
    if prefix is None:
        return queryset
    return queryset.filter(region_q("entity__region__code", prefix) | Q(user=user))


# --- helpers ---------------------------------------------------------------------------------------------

def _now(now: dt.datetime | None) -> dt.datetime:
    now = now or timezone.now()
    if timezone.is_naive(now):
        raise ValueError("now must be an aware datetime")
    return now


@lru_cache(maxsize=PARSE_CACHE_SIZE)
def _parsed(value: str) -> tuple[identifiers.GS1Key | None, str, str]:
    """(key, canonical form, canonical class key) of an identifier string — the key None, the string as
    written and no class when it is not a GS1 key. Read once per string, as a payload names the same
    locations, parties, classes and containers in many events (keys are frozen values, safe to share)."""
    try:
        key = identifiers.parse_identifier(value)
    except identifiers.IdentifierError:
        return None, value.strip()[:255], ""
    klass = key.class_key()
    canonical = key.canonical
    if klass is None:
        return key, canonical, ""
    return key, canonical, canonical if klass is key else klass.canonical  # a class is its own class key


def _canonical(value) -> str | None:
    """Canonical form of an identifier (GS1 Digital Link), the value itself when it is not a GS1 key."""
    if not isinstance(value, str) or not value.strip():
        return None
    return _parsed(value)[1]


def _key(value):
    return _parsed(value)[0] if isinstance(value, str) and value.strip() else None


def _word(value, prefixes: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        return ""
    for prefix in prefixes:
        if value.startswith(prefix):
            return value[len(prefix):]
    if value.startswith("urn:epcglobal:cbv:"):
        return value.rsplit(":", 1)[-1]
    return value


def _location_id(event: dict, field: str) -> str:
    value = event.get(field)
    return value.get("id") if isinstance(value, dict) and isinstance(value.get("id"), str) else ""


def _parse_time(value) -> dt.datetime | None:
    return validation._parse_time(value)  # the validator's RFC 3339 reader (events are validated first)


def _chunks(values: list, size: int = LOOKUP_CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _ilmd_lot(event: dict) -> str:
    ilmd = event.get("ilmd")
    if isinstance(ilmd, dict):
        for name in LOT_KEYS:
            if isinstance(ilmd.get(name), str | int) and str(ilmd[name]).strip():
                return str(ilmd[name]).strip()
    return ""


@lru_cache(maxsize=PARSE_CACHE_SIZE)
def _lot_class(gtin: str, lot: str) -> str:
    """The canonical class key (LGTIN) of a GTIN with a lot."""
    return identifiers.GS1Key(identifiers.Kind.LGTIN, gtin=gtin, batch=lot).canonical


def _quantity(value) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        return None


def identifier_rows(event: dict) -> list[dict]:
    """The ``EventIdentifier`` fields (role, identifier, class_key, quantity, uom, kind) for every
    identifier ``event`` names (see the module docstring)."""
    rows = []
    lot = _ilmd_lot(event)

    def add(role, value, *, quantity=None, uom="", kind="", lot_applies=False):
        if not isinstance(value, str) or not value.strip():
            return
        key, identifier, class_key = _parsed(value)
        if not class_key and lot_applies and lot and key is not None and key.kind == identifiers.Kind.SGTIN:
            class_key = _lot_class(key.gtin, lot)  # a serial without lot: the event's own ilmd lot
        rows.append({"role": role, "identifier": identifier, "class_key": class_key,
                     "quantity": quantity, "uom": (uom or "")[:8] if isinstance(uom, str) else "", "kind": kind})

    for field, role in ID_LISTS:
        values = event.get(field)
        if isinstance(values, list):
            for value in values:
                add(role, value, lot_applies=field in ("epcList", "outputEPCList"))
    if isinstance(event.get("parentID"), str):
        add(EventIdentifier.Role.PARENT, event["parentID"])
    for field, role in QUANTITY_LISTS:
        values = event.get(field)
        if isinstance(values, list):
            for item in values:
                if isinstance(item, dict):
                    add(role, item.get("epcClass"), quantity=_quantity(item.get("quantity")), uom=item.get("uom"))
    for field, name, role in PARTY_LISTS:
        values = event.get(field)
        if isinstance(values, list):
            for item in values:
                if isinstance(item, dict):
                    add(role, item.get(name), kind=_word(item.get("type"), SDT_PREFIXES)[:32])
    return rows


def _commissioned_lookup(events: list) -> Callable[[str], bool]:
    """``known_commissioned`` for the validator, backed by the store: one query (in chunks) for all
    children of all AggregationEvent ADDs of the payload."""
    children = {child for event in events if isinstance(event, dict) and event.get("type") == "AggregationEvent"
                and event.get("action") == "ADD" and isinstance(event.get("childEPCs"), list)
                for child in event["childEPCs"] if isinstance(child, str)}
    canonical = {child: _canonical(child) for child in children}
    wanted = sorted({c for c in canonical.values() if c})
    known: set[str] = set()
    steps = [*validation.COMMISSIONING_STEPS]
    for chunk in _chunks(wanted):
        known.update(EventIdentifier.objects.filter(
            role=EventIdentifier.Role.EPC, identifier__in=chunk, event__event_type="ObjectEvent",
            event__action="ADD", event__biz_step__in=steps,
        ).values_list("identifier", flat=True))
    return lambda epc: canonical.get(epc, _canonical(epc)) in known


def declarations(event_ids: Iterable[str]) -> dict[str, EpcisEvent]:
    """The latest error declaration row stored for each of ``event_ids`` (event ID → row)."""
    found: dict[str, EpcisEvent] = {}
    ids = sorted(set(event_ids))
    for chunk in _chunks(ids):
        for row in EpcisEvent.objects.filter(event_id__in=chunk, has_error_declaration=True).order_by("record_time",
                                                                                                       "id"):
            found[row.event_id] = row
    return found


# --- capture ---------------------------------------------------------------------------------------------

def capture_document(payload: dict, *, error_behaviour: str = CaptureJob.ErrorBehaviour.ROLLBACK, key=None,
                     user=None, now: dt.datetime | None = None) -> CaptureJob:
    """Capture an EPCISDocument: validate it (official schema and business rules, children of
    aggregations checked against the store), then store its new events with their identifier index in
    one transaction. ``error_behaviour`` ``rollback`` (default) stores nothing when any event is invalid
    (job ``failed``, every problem in ``job.errors``); ``proceed`` stores the valid events and reports
    the invalid ones (job ``partial``). Document-level problems fail the whole job either way. Repeats
    are counted as duplicates. Raises :class:`CaptureTooLarge` beyond the event limit."""
    body = payload.get("epcisBody") if isinstance(payload, dict) else None
    events = body.get("eventList") if isinstance(body, dict) else None
    events = events if isinstance(events, list) else []
    _check_event_count(len(events))
    context = payload.get("@context") if isinstance(payload, dict) else None
    return _capture(payload, events, context, validation.validate_document, error_behaviour=error_behaviour, key=key,
                    user=user, now=now)


def capture_event(event: dict, *, key=None, user=None, now: dt.datetime | None = None) -> CaptureJob:
    """Capture one event (``POST /events``; it carries its own ``@context``). Invalid → job ``failed``
    with the problems, nothing stored."""
    context = event.get("@context") if isinstance(event, dict) else None
    return _capture(event, [event] if isinstance(event, dict) else [], context, validation.validate_event,
                    error_behaviour=CaptureJob.ErrorBehaviour.ROLLBACK, key=key, user=user, now=now)


def _mismatched_declarations(events: list, context, *, single: bool) -> list[validation.Problem]:
    """Problems for error declarations that name a stored event ID but declare a different event: an
    event ID names one event (EPCIS 2.0 §7.4.1.3), so a declaration must repeat that event — same CBV
    2.0 hash, which leaves out eventID and errorDeclaration — or it would replace another event in
    every query. One read of the stored hashes for the whole payload."""
    declared = [(index, event) for index, event in enumerate(events)
                if isinstance(event, dict) and isinstance(event.get("errorDeclaration"), dict)
                and isinstance(event.get("eventID"), str)]
    if not declared:
        return []
    stored = {}
    for chunk in _chunks(sorted({event["eventID"] for _index, event in declared})):
        pairs = dict(EventIdentity.objects.filter(event_id__in=chunk).values_list("event_id", "stored_event_id"))
        hashes = dict(EpcisEvent.objects.filter(pk__in=list(pairs.values())).values_list("pk", "event_hash"))
        stored.update({event_id: hashes.get(pk) for event_id, pk in pairs.items()})
    problems = []
    for index, event in declared:
        expected = stored.get(event["eventID"])
        if expected is None:
            continue
        try:
            actual = eventhash.event_hash(event, event.get("@context") or context)
        except ValueError:
            continue  # the validator reports what is wrong with the event itself
        if actual != expected:
            pointer = "/eventID" if single else f"/epcisBody/eventList/{index}/eventID"
            problems.append(validation.Problem(
                code="declaration_mismatch", field="/eventID", pointer=pointer, event_index=index,
                event_id=event["eventID"],
                message=_("错误声明所指的事件 %(id)s 已存储，但声明中的事件内容与之不同：错误声明必须重复被声明事件的全部内容。")
                % {"id": event["eventID"]}))
    return problems


def _capture(payload, events: list, context, validate, *, error_behaviour, key, user, now) -> CaptureJob:
    now = _now(now)
    if error_behaviour not in CaptureJob.ErrorBehaviour.values:
        raise ValueError(f"unknown error behaviour {error_behaviour!r}")
    entity = key.entity if key is not None else None
    if entity is None and user is not None and getattr(user, "is_authenticated", False) and user.entity_id:
        from qualitygov.registry.models import MarketEntity

        entity = MarketEntity.objects.filter(pk=user.entity_id).first()
    job_user = user if user is not None and getattr(user, "is_authenticated", False) else None
    job = CaptureJob.objects.create(error_behaviour=error_behaviour, key=key, user=job_user, entity=entity,
                                    event_count=len(events))
    problems = validate(payload, now=now, known_commissioned=_commissioned_lookup(events))
    problems += _mismatched_declarations(events, context, single=validate is validation.validate_event)
    document_problems = [p for p in problems if p.event_index is None]
    invalid = {p.event_index for p in problems if p.event_index is not None}
    job.errors = [p.as_dict() for p in problems]
    if document_problems or (invalid and error_behaviour == CaptureJob.ErrorBehaviour.ROLLBACK) \
            or len(invalid) == len(events) and events:
        job.status = CaptureJob.Status.FAILED
    else:
        valid = [(index, event) for index, event in enumerate(events) if index not in invalid]
        try:
            captured, duplicates = _store(valid, context, job=job, entity=entity, now=now)
        except IntegrityError:
            # Another capture stored one of these event IDs in the meantime: nothing of this one is kept.
            job.status = CaptureJob.Status.FAILED
            job.errors = [*job.errors, {"code": "concurrent_capture", "message": _(
                "其他上报任务同时写入了相同的事件，本次上报未保存任何事件，请重新提交。"), "field": "", "pointer": "",
                "event_index": None, "event_id": None}]
        else:
            job.captured_count, job.duplicate_count = captured, duplicates
            job.status = CaptureJob.Status.PARTIAL if invalid else CaptureJob.Status.SUCCEEDED
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "errors", "captured_count", "duplicate_count", "finished_at"])
    if key is not None:
        type(key).objects.filter(pk=key.pk).update(last_used_at=now)
    return job


def _resolve_locations(events: list[dict]) -> dict[str, Location]:
    glns = set()
    for event in events:
        for field in ("bizLocation", "readPoint"):
            parsed = _key(_location_id(event, field))
            if parsed is not None and parsed.gln:
                glns.add(parsed.gln)
    found = {}
    for chunk in _chunks(sorted(glns)):
        found.update({loc.gln: loc for loc in Location.objects.filter(gln__in=chunk).select_related("entity")})
    return found


def _owner(event: dict, locations: dict[str, Location], entity) -> tuple[int | None, str]:
    for field in ("bizLocation", "readPoint"):
        parsed = _key(_location_id(event, field))
        location = locations.get(parsed.gln) if parsed is not None and parsed.gln else None
        if location is not None:
            return location.entity_id, location.region_id
    if entity is not None:
        return entity.pk, entity.region_id or ""
    return None, ""


def _stored_identities(ids: list[str]) -> dict[str, tuple[int, dt.datetime]]:
    """``EventIdentity`` of the given event IDs: event ID → (stored row id, event time). On PostgreSQL
    one statement with the IDs as one array parameter (a 10,000-event payload would otherwise be a
    dozen queries of 900 placeholders each, whose SQL the driver splits and sends); elsewhere in
    chunks below SQLite's bound-variable limit."""
    if not ids:
        return {}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT event_id, stored_event_id, event_time FROM {EventIdentity._meta.db_table} "
                           f"WHERE event_id = ANY(%s)", [ids])
            return {row[0]: (row[1], row[2]) for row in cursor.fetchall()}
    stored = {}
    for chunk in _chunks(ids):
        stored.update({row[0]: (row[1], row[2]) for row in
                       EventIdentity.objects.filter(event_id__in=chunk).values_list("event_id", "stored_event_id",
                                                                                      "event_time")})
    return stored


def _store(valid: list[tuple[int, dict]], context, *, job, entity, now) -> tuple[int, int]:
    """Store the valid events of one payload; returns (stored, duplicates)."""
    prepared = []
    for _index, event in valid:
        event_hash = eventhash.event_hash(event, event.get("@context") or context)
        event_id = event.get("eventID") if isinstance(event.get("eventID"), str) else event_hash
        prepared.append((event, event_id, event_hash))
    stored = _stored_identities(sorted({event_id for _event, event_id, _hash in prepared}))
    previous = declarations(i for (e, i, _h) in prepared if isinstance(e.get("errorDeclaration"), dict)
                            and i in stored)
    known_declarations = {(i, json.dumps(row.error_declaration, sort_keys=True)) for i, row in previous.items()}
    locations = _resolve_locations([event for event, _i, _h in prepared])

    new_events: list[dict] = []  # EpcisEvent column values
    index_rows: list[list[dict]] = []  # identifier rows, parallel to new_events (empty for declaration rows)
    identities: list[int] = []  # positions in new_events that get an EventIdentity
    in_payload: dict[str, dt.datetime] = {}
    duplicates = 0
    for event, event_id, event_hash in prepared:
        declaration = event.get("errorDeclaration") if isinstance(event.get("errorDeclaration"), dict) else None
        known_time = stored[event_id][1] if event_id in stored else in_payload.get(event_id)
        if known_time is not None:
            signature = (event_id, json.dumps(declaration, sort_keys=True))
            if declaration is None or signature in known_declarations:
                duplicates += 1
                continue
            known_declarations.add(signature)
            new_events.append(_event_row(event, event_id, event_hash, context, job, locations, entity, now,
                                         event_time=known_time))
            index_rows.append([])
            continue
        row = _event_row(event, event_id, event_hash, context, job, locations, entity, now)
        in_payload[event_id] = row["event_time"]
        if declaration is not None:
            known_declarations.add((event_id, json.dumps(declaration, sort_keys=True)))
        identities.append(len(new_events))
        new_events.append(row)
        index_rows.append(identifier_rows(event))

    with transaction.atomic():
        if connection.vendor == "postgresql":
            _copy_rows(new_events, identities, index_rows)
        else:
            _insert_rows(new_events, identities, index_rows)
    return len(new_events), duplicates


EVENT_COLUMNS = ("id", "event_id", "event_hash", "event_type", "action", "event_time", "event_time_zone_offset",
                 "record_time", "biz_step", "disposition", "read_point", "biz_location", "entity_id", "region_code",
                 "has_error_declaration", "error_declaration", "document", "job_id")
JSON_POSITIONS = (EVENT_COLUMNS.index("error_declaration"), EVENT_COLUMNS.index("document"))
IDENTIFIER_COLUMNS = ("event_id", "event_time", "role", "identifier", "class_key", "quantity", "uom", "kind")


def _copy_rows(events: list[dict], identities: list[int], index_rows: list[list[dict]]) -> None:
    """PostgreSQL: reserve the events' ids from their sequence in one statement, then ``COPY … FROM
    STDIN`` the events, identities and identifier rows (inside the caller's transaction). A unique
    violation (a concurrent capture of the same event ID) surfaces as Django's IntegrityError."""
    if not events:
        return
    event_table = EpcisEvent._meta.db_table
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                       [event_table, len(events)])
        pks = [row[0] for row in cursor.fetchall()]
        raw = cursor.cursor
        with raw.copy(f"COPY {event_table} ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
            for pk, row in zip(pks, events, strict=True):
                row["id"] = pk
                values = [row[name] for name in EVENT_COLUMNS]
                for position in JSON_POSITIONS:  # COPY's text form of jsonb is the JSON text
                    values[position] = json.dumps(values[position]) if values[position] is not None else None
                copy.write_row(values)
        with raw.copy(f"COPY {EventIdentity._meta.db_table} (event_id, stored_event_id, event_time) "
                      f"FROM STDIN") as copy:
            for pos in identities:
                row = events[pos]
                copy.write_row((row["event_id"], row["id"], row["event_time"]))
        with raw.copy(f"COPY {EventIdentifier._meta.db_table} ({', '.join(IDENTIFIER_COLUMNS)}) FROM STDIN") as copy:
            for row, rows in zip(events, index_rows, strict=True):
                for fields in rows:
                    copy.write_row((row["id"], row["event_time"], fields["role"], fields["identifier"],
                                    fields["class_key"], fields["quantity"], fields["uom"], fields["kind"]))


def _insert_rows(events: list[dict], identities: list[int], index_rows: list[list[dict]]) -> None:
    """Other databases (SQLite in development): plain ``INSERT``s run with ``executemany`` in the caller's
    transaction, the values adapted as the ORM would store them (no model instance per row). SQLite hands
    out the event ids: the first insert gives its id, and while this transaction holds SQLite's write
    lock nothing else can insert, so the others follow it one by one — checked, not assumed."""
    if not events:
        return
    ops = connection.ops
    names = EVENT_COLUMNS[1:]  # the id comes from the table
    adapters = _column_adapters(EpcisEvent, names)
    event_rows = [[value if adapt is None or value is None else adapt(value)
                   for adapt, value in zip(adapters, [row[name] for name in names], strict=True)] for row in events]
    event_table = EpcisEvent._meta.db_table
    insert = f"INSERT INTO {event_table} ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))})"
    with connection.cursor() as cursor:
        cursor.execute(insert, event_rows[0])
        first = cursor.lastrowid
        cursor.executemany(insert, event_rows[1:])
        cursor.execute(f"SELECT max(id) FROM {event_table}")
        if cursor.fetchone()[0] != first + len(events) - 1:
            raise RuntimeError("the event ids were not handed out one after another")
        for offset, row in enumerate(events):
            row["id"] = first + offset
        cursor.executemany(
            f"INSERT INTO {EventIdentity._meta.db_table} (event_id, stored_event_id, event_time) VALUES (%s, %s, %s)",
            [(events[pos]["event_id"], events[pos]["id"], ops.adapt_datetimefield_value(events[pos]["event_time"]))
             for pos in identities])
        cursor.executemany(
            f"INSERT INTO {EventIdentifier._meta.db_table} ({', '.join(IDENTIFIER_COLUMNS)}) "
            f"VALUES ({', '.join(['%s'] * len(IDENTIFIER_COLUMNS))})",
            [(row["id"], ops.adapt_datetimefield_value(row["event_time"]), fields["role"], fields["identifier"],
              fields["class_key"], fields["quantity"], fields["uom"], fields["kind"])
             for row, rows in zip(events, index_rows, strict=True) for fields in rows])


def _column_adapters(model, columns: tuple[str, ...]) -> list[Callable | None]:
    """Per column of ``model``: None when the driver takes the Python value as it is (text, integers,
    booleans), else the field's own ``get_db_prep_save`` — what the ORM would store (datetimes, JSON,
    UUIDs as SQLite keeps them)."""
    plain = {"CharField", "TextField", "BooleanField", "IntegerField", "BigIntegerField", "PositiveIntegerField",
             "SmallIntegerField", "AutoField", "BigAutoField"}
    by_column = {field.column: field for field in model._meta.concrete_fields}
    adapters = []
    for column in columns:
        field = by_column[column]
        kind = (field.target_field if field.is_relation else field).get_internal_type()
        adapters.append(None if kind in plain else functools.partial(field.get_db_prep_save, connection=connection))
    return adapters


def _event_row(event, event_id, event_hash, context, job, locations, entity, now, *, event_time=None) -> dict:
    """The ``EpcisEvent`` column values of one event (``id`` is given when it is written)."""
    document = dict(event)
    document.setdefault("eventID", event_id)
    if "@context" not in document and context is not None:
        document["@context"] = context
    declaration = event.get("errorDeclaration") if isinstance(event.get("errorDeclaration"), dict) else None
    entity_id, region_code = _owner(event, locations, entity)
    return {
        "id": None, "event_id": event_id[:255], "event_hash": event_hash, "event_type": event.get("type"),
        "action": event.get("action") or "", "event_time": event_time or _parse_time(event.get("eventTime")),
        "event_time_zone_offset": event.get("eventTimeZoneOffset") or "", "record_time": now,
        "biz_step": _word(event.get("bizStep"), CBV_PREFIXES["bizStep"])[:255],
        "disposition": _word(event.get("disposition"), CBV_PREFIXES["disposition"])[:255],
        "read_point": (_canonical(_location_id(event, "readPoint")) or "")[:255],
        "biz_location": (_canonical(_location_id(event, "bizLocation")) or "")[:255],
        "entity_id": entity_id, "region_code": region_code or "", "has_error_declaration": declaration is not None,
        "error_declaration": declaration, "document": document, "job_id": job.pk if job is not None else None,
    }


# --- the job as the REST bindings describe it -----------------------------------------------------------

def job_document(job: CaptureJob) -> dict:
    """The capture job document of the EPCIS 2.0 REST bindings (``running``, ``success``,
    ``captureErrorBehaviour``, ``errors``) with this platform's counts."""
    return {
        "captureID": str(job.id),
        "createdAt": job.received_at.isoformat().replace("+00:00", "Z") if job.received_at else None,
        "finishedAt": job.finished_at.isoformat().replace("+00:00", "Z") if job.finished_at else None,
        "running": job.status == CaptureJob.Status.RUNNING,
        "success": job.status == CaptureJob.Status.SUCCEEDED,
        "captureErrorBehaviour": job.error_behaviour,
        "status": job.status,
        "eventCount": job.event_count,
        "capturedCount": job.captured_count,
        "duplicateCount": job.duplicate_count,
        "errors": job.errors or [],
    }
