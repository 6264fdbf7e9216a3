"""The EPCIS 2.0 query interface over the event store (REST bindings: ``GET /events`` and the resource
paths ``/eventTypes/{eventType}/events``, ``/epcs/{epc}/events`` …, each being ``/events`` with one
parameter implied by the path).

``parse_query(params, implied=...)`` turns the URL query parameters into an ``EventQuery`` (or raises
``QueryError`` with the exception type the bindings name and a Chinese message); ``run_query(query,
user)`` answers one page of events the user's role, region and entity allow
(``EpcisEvent.objects.restrict(user)``), with the opaque token of the next page; ``query_document``
wraps a page in an ``EPCISQueryDocument``.

Parameters (values separated by ``|`` where the bindings say ``pipeDelimited``):

* ``eventType``; ``GE_``/``LT_eventTime``, ``GE_``/``LT_recordTime`` (RFC 3339 with an offset; a ``+``
  left unencoded in the URL arrives as a space and is read back as ``+``);
* ``EQ_action`` (ADD, OBSERVE, DELETE); ``EQ_bizStep``, ``EQ_disposition``, ``EQ_errorReason``: CBV words
  bare (``shipping``), as GS1 web URIs (``https://ref.gs1.org/cbv/BizStep-shipping``) or as the XML
  binding's URNs (``urn:epcglobal:cbv:bizstep:shipping``) — all mean the bare word, which is what the
  store holds for a CBV word; any other URI is a custom value matched as written. A bare word that is
  not a CBV word is refused (the standard wants custom values as URIs);
* ``EQ_readPoint``, ``EQ_bizLocation``: location identifiers in any form ``trace.identifiers`` reads; an
  event matches when its stored value is the canonical form, the value as written or its EPC URN;
* ``MATCH_epc`` (epcList, childEPCs), ``MATCH_parentID``, ``MATCH_inputEPC``, ``MATCH_outputEPC``,
  ``MATCH_anyEPC`` (all of these), ``MATCH_epcClass`` (quantityList, childQuantityList),
  ``MATCH_inputEPCClass``, ``MATCH_outputEPCClass``, ``MATCH_anyEPCClass``: identifiers as EPC URNs, Digital
  Link URIs or element strings, normalised with ``identifiers.normalise`` and matched against
  ``EventIdentifier.identifier`` of the roles named. A pattern ``urn:epc:idpat:sgtin:CP.IR.*`` (or a bare
  GTIN, or a Digital Link ``/01/{gtin}`` without serial or batch) matches every identifier of that GTIN:
  the GTIN itself, its batches and its serialised items. A URI that is not a GS1 key (e.g. a private
  ``urn:``) is matched exactly as written;
* ``EQ_eventID``; ``EQ_transformationID`` (TransformationEvents); ``EXISTS_errorDeclaration`` (present,
  empty or ``true`` filters; ``false`` does not);
* ``orderBy`` (``eventTime`` or ``recordTime``) and ``orderDirection`` (``ASC``/``DESC``, default ``DESC``
  as the standard says); without ``orderBy`` events come by event time, oldest first;
* ``perPage`` (default 30; more than ``settings.MAX_PAGE_SIZE`` gets that many), ``nextPageToken``, ``eventCountLimit``
  (stop after that many events in all), ``maxEventCount`` (refuse with QueryTooLargeException, 413, when
  more events match).

Storage conventions relied on (``trace.capture``): bizStep, disposition and the error reason hold the
bare CBV word for CBV words; readPoint, bizLocation and ``EventIdentifier.identifier`` hold the canonical
identifier (GS1 Digital Link on id.gs1.org) for GS1 keys, other values as written. An error declaration
is a later row with the same ``event_id`` and ``has_error_declaration`` and no index rows: queries answer
each event ID in its latest state (the declaration row replaces the original) and MATCH_ parameters match
by event ID through the original row's index.

The next-page token is a signed keyset cursor (``django.core.signing``): the query's filter parameters,
the sort key and id of the last event sent and the number of events sent so far. It is opaque and
self-contained (the bindings' ``Link`` header carries only ``perPage`` and ``nextPageToken``); a tampered
or expired token is a QueryParameterException, and so are filter parameters sent with a token that
differ from the ones it was issued for.

Not supported (QueryParameterException naming the parameter): the quantity, sensor, ILMD, extension
field and ``WD_`` (hierarchy) parameters, ``EQ_persistentDisposition_*``, ``EQ_correctiveEventID`` and
the error declaration times.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from qualitygov.core.roles import VIEW, Role, actions_for
from qualitygov.trace import identifiers
from qualitygov.trace.models import CaptureKey, EpcisEvent, EventIdentifier, EventType, NamedQuery

QUERY_NAME = "SimpleEventQuery"
EPCIS_VERSION = "2.0.0"
CBV_VERSION = "2.0.0"
CONTEXT_URL = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
DEFAULT_PER_PAGE = 30  # the bindings' default for perPage
TOKEN_SALT = "qualitygov.trace.queries.next-page"
TOKEN_MAX_AGE = dt.timedelta(hours=24)

# CBV 2.0 standard vocabularies (the REST bindings' enums), by their web URI prefix and XML URN prefix.
BIZ_STEPS = frozenset({
    "accepting", "arriving", "assembling", "collecting", "commissioning", "consigning", "creating_class_instance",
    "cycle_counting", "decommissioning", "departing", "destroying", "disassembling", "dispensing", "encoding",
    "entering_exiting", "holding", "inspecting", "installing", "killing", "loading", "other", "packing", "picking",
    "receiving", "removing", "repackaging", "repairing", "replacing", "reserving", "retail_selling", "shipping",
    "staging_outbound", "stock_taking", "stocking", "storing", "transporting", "unloading", "unpacking",
    "void_shipping", "sensor_reporting", "sampling",
})
DISPOSITIONS = frozenset({
    "active", "container_closed", "damaged", "destroyed", "dispensed", "disposed", "encoded", "expired",
    "in_progress", "in_transit", "inactive", "no_pedigree_match", "non_sellable_other", "partially_dispensed",
    "recalled", "reserved", "retail_sold", "returned", "sellable_accessible", "sellable_not_accessible", "stolen",
    "unknown", "available", "completeness_verified", "completeness_inferred", "conformant", "container_open",
    "mismatch_instance", "mismatch_class", "mismatch_quantity", "needs_replacement", "non_conformant",
    "unavailable",
})
ERROR_REASONS = frozenset({"did_not_occur", "incorrect_data"})
# parameter → (vocabulary words, web URI type name, XML URN type name)
CBV_VOCABULARIES = {
    "EQ_bizStep": (BIZ_STEPS, "BizStep", "bizstep"),
    "EQ_disposition": (DISPOSITIONS, "Disp", "disp"),
    "EQ_errorReason": (ERROR_REASONS, "ER", "er"),
}
ACTIONS = ("ADD", "OBSERVE", "DELETE")

R = EventIdentifier.Role
# MATCH_ parameter → the EventIdentifier roles it looks at (EPCIS 2.0 §8.2.7.1).
MATCH_ROLES = {
    "MATCH_epc": (R.EPC, R.CHILD),
    "MATCH_parentID": (R.PARENT,),
    "MATCH_inputEPC": (R.INPUT,),
    "MATCH_outputEPC": (R.OUTPUT,),
    "MATCH_anyEPC": (R.EPC, R.CHILD, R.PARENT, R.INPUT, R.OUTPUT),
    "MATCH_epcClass": (R.QUANTITY, R.CHILD_QUANTITY),
    "MATCH_inputEPCClass": (R.INPUT_QUANTITY,),
    "MATCH_outputEPCClass": (R.OUTPUT_QUANTITY,),
    "MATCH_anyEPCClass": (R.QUANTITY, R.CHILD_QUANTITY, R.INPUT_QUANTITY, R.OUTPUT_QUANTITY),
}
TIME_PARAMETERS = {"GE_eventTime": ("event_time", "gte"), "LT_eventTime": ("event_time", "lt"),
                   "GE_recordTime": ("record_time", "gte"), "LT_recordTime": ("record_time", "lt")}
ORDER_FIELDS = {"eventTime": "event_time", "recordTime": "record_time"}
# Parameters that shape paging rather than which events match (not carried by the token).
PAGING_PARAMETERS = frozenset({"perPage", "nextPageToken"})
FILTER_PARAMETERS = frozenset({
    "eventType", *TIME_PARAMETERS, "EQ_action", *CBV_VOCABULARIES, "EQ_readPoint", "EQ_bizLocation", *MATCH_ROLES,
    "EQ_eventID", "EQ_transformationID", "EXISTS_errorDeclaration", "orderBy", "orderDirection", "eventCountLimit",
    "maxEventCount",
})
# Standard parameters this repository does not evaluate (named in the error so a client knows why).
UNSUPPORTED_PATTERN = re.compile(
    r"^(EQ_persistentDisposition_(set|unset)|WD_readPoint|WD_bizLocation|EQ_correctiveEventID|"
    r"(EQ|GT|GE|LT|LE)_quantity|(GE|LT)_errorDeclarationTime|(GE|LT)_(startTime|endTime)|EQ_type|EQ_deviceID|"
    r"EQ_dataProcessingMethod|EQ_microorganism|EQ_chemicalSubstance|EQ_bizRules|EQ_(string|hexBinary|uri|boolean)"
    r"Value|(EQ|GT|GE|LT|LE)_(INNER_)?(ILMD_|ERROR_DECLARATION_|SENSORELEMENT_|SENSORMETADATA_|SENSORREPORT_)?.+|"
    r"EXISTS_.+|HASATTR_.+|EQATTR_.+|EQ_(source|destination)_.+|(GE|LT)_(value|minValue|maxValue|meanValue|"
    r"sDev|percRank|percValue)(_.+)?)$"
)
_SPACE_OFFSET = re.compile(r" (\d{2}:\d{2})$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
_DIGITAL_LINK_PATH = re.compile(r"^https?://[^/]+(/[^?#]*)?/(01|00|414|417|8003|8004|8018)/")


class QueryError(Exception):
    """A query the repository refuses: ``exception`` is the EPCIS exception type the bindings name
    (``QueryParameterException``, ``QueryTooLargeException``), ``status`` the HTTP status."""

    def __init__(self, message: str, *, parameter: str = "", exception: str = "QueryParameterException",
                 status: int = 400):
        super().__init__(message)
        self.message = message
        self.parameter = parameter
        self.exception = exception
        self.status = status


@dataclass
class EventQuery:
    """A parsed, validated query: the filter, the order, the page and where the page starts."""

    condition: Q
    params: dict[str, str]  # the filter parameters (carried by the next-page token)
    order_field: str = "event_time"
    descending: bool = False
    per_page: int = DEFAULT_PER_PAGE
    after: tuple[dt.datetime, int] | None = None
    sent: int = 0  # events sent on earlier pages (for eventCountLimit)
    count_limit: int | None = None
    max_count: int | None = None
    ordering: tuple[str, str] = field(init=False)

    def __post_init__(self):
        sign = "-" if self.descending else ""
        self.ordering = (f"{sign}{self.order_field}", f"{sign}id")


@dataclass
class QueryPage:
    """One page of answers: the stored events and the token of the next page ('' on the last)."""

    events: list[EpcisEvent]
    next_token: str
    token_expires: dt.datetime | None


# --- parsing -------------------------------------------------------------------------------------


def _values(name: str, raw: str) -> list[str]:
    values = [value.strip() for value in raw.split("|")]
    if not raw.strip() or any(not value for value in values):
        raise QueryError(_("查询参数 %(name)s 的值不能为空（多个值用“|”分隔）。") % {"name": name}, parameter=name)
    return values


def _time(name: str, raw: str) -> dt.datetime:
    text = _SPACE_OFFSET.sub(r"+\1", raw.strip())  # an unencoded "+" in a URL arrives as a space
    try:
        value = parse_datetime(text)
    except ValueError:
        value = None
    if value is None or timezone.is_naive(value):
        raise QueryError(
            _("查询参数 %(name)s 的时间“%(value)s”格式不正确：应为带时区的 RFC 3339 时间，"
              "如 2025-06-01T08:00:00+08:00。") % {"name": name, "value": raw}, parameter=name)
    return value


def _count(name: str, raw: str, *, minimum: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise QueryError(_("查询参数 %(name)s 应为不小于 %(min)d 的整数，收到“%(value)s”。")
                         % {"name": name, "min": minimum, "value": raw}, parameter=name)
    return value


def cbv_word(name: str, value: str) -> str:
    """The stored form of a CBV value: the bare word for a standard word in any of its spellings,
    a custom URI unchanged. Raises ``QueryError`` for a bare word outside the vocabulary."""
    words, web_type, urn_type = CBV_VOCABULARIES[name]
    word = None
    for prefix in (f"https://ref.gs1.org/cbv/{web_type}-", f"http://ref.gs1.org/cbv/{web_type}-",
                   f"urn:epcglobal:cbv:{urn_type}:"):
        if value.startswith(prefix):
            word = value[len(prefix):]
            break
    else:
        if ":" in value:
            return value  # a custom vocabulary URI
        word = value
    if word not in words:
        raise QueryError(
            _("查询参数 %(name)s 的值“%(value)s”不是 CBV 标准词汇；自定义词汇应写成完整的 URI。")
            % {"name": name, "value": value}, parameter=name)
    return word


def location_forms(value: str) -> set[str]:
    """The spellings of a location under which an event may hold it: as written, canonical, EPC URN."""
    forms = {value}
    try:
        key = identifiers.parse_identifier(value)
    except identifiers.IdentifierError:
        return forms
    forms.add(key.canonical)
    if key.epc_urn:
        forms.add(key.epc_urn)
    return forms


def identifier_condition(name: str, value: str) -> Q:
    """The condition on ``EventIdentifier.identifier`` for one MATCH_ value (see the module docstring)."""
    try:
        key = identifiers.parse_identifier(value)
    except identifiers.IdentifierError as error:
        # A URI outside GS1's keys (a private URN or web URI) is stored and matched as written; an EPC URN
        # or a Digital Link that does not parse is the caller's mistake.
        attempted_gs1 = value.lower().startswith("urn:epc:") or _DIGITAL_LINK_PATH.search(value)
        if _URI.match(value) and not attempted_gs1:
            return Q(identifier=value)
        raise QueryError(
            _("查询参数 %(name)s 的值“%(value)s”无法识别：%(reason)s") % {"name": name, "value": value,
                                                                      "reason": error.message},
            parameter=name) from None
    canonical = key.canonical
    if key.kind == identifiers.Kind.GTIN:
        # A GTIN pattern: the GTIN itself, its batches and its serialised items.
        return Q(identifier=canonical) | Q(identifier__startswith=canonical + "/")
    return Q(identifier=canonical)


def _match_condition(name: str, values: list[str]) -> Q:
    condition = Q()
    for value in values:
        condition |= identifier_condition(name, value)
    # By event ID, not row: an error declaration row has no index rows of its own (trace.capture).
    matching = EventIdentifier.objects.filter(condition, role__in=MATCH_ROLES[name]).values("event__event_id")
    return Q(event_id__in=matching)


def _single(params: Mapping, name: str) -> str:
    getlist = getattr(params, "getlist", None)
    values = getlist(name) if getlist else [params[name]]
    if len(values) != 1:
        raise QueryError(_("查询参数 %(name)s 只能出现一次（多个值用“|”分隔）。") % {"name": name}, parameter=name)
    value = values[0]
    if isinstance(value, list | tuple):  # a plain mapping may give several values as a list
        value = "|".join(value)
    return str(value)


def parse_query(params: Mapping, implied: Mapping[str, str] | None = None) -> EventQuery:
    """Validate the URL query parameters (plus those a resource path implies) into an ``EventQuery``.

    Raises ``QueryError`` naming the first parameter that is wrong.
    """
    implied = dict(implied or {})
    given = {name: _single(params, name) for name in params.keys()}
    for name in implied:
        if name in given:
            raise QueryError(_("查询参数 %(name)s 已由访问路径指定，不能在查询串中再次给出。") % {"name": name},
                             parameter=name)
    given |= implied
    unknown = sorted(name for name in given if name not in FILTER_PARAMETERS | PAGING_PARAMETERS)
    for name in unknown:
        if UNSUPPORTED_PATTERN.match(name):
            raise QueryError(_("本系统暂不支持查询参数 %(name)s。") % {"name": name}, parameter=name)
        raise QueryError(_("未知的查询参数 %(name)s。") % {"name": name}, parameter=name)

    filters = {name: value for name, value in given.items() if name in FILTER_PARAMETERS}
    token = given.get("nextPageToken")
    cursor = None
    if token is not None:
        # The token carries the query it continues; conditions sent with it must not contradict it.
        cursor = _read_token(token)
        if any(cursor["p"].get(name) != value for name, value in filters.items()):
            raise QueryError(_("翻页令牌与本次查询的条件不一致：翻页时请只传 perPage 与 nextPageToken，"
                               "或原样保留首次查询的条件。"), parameter="nextPageToken")
        filters = dict(cursor["p"])

    condition = Q()
    for name, raw in filters.items():
        condition &= _filter(name, raw)

    order_field, descending = "event_time", False
    if "orderBy" in filters:
        if filters["orderBy"] not in ORDER_FIELDS:
            raise QueryError(_("查询参数 orderBy 只支持 eventTime 或 recordTime，收到“%(value)s”。")
                             % {"value": filters["orderBy"]}, parameter="orderBy")
        order_field, descending = ORDER_FIELDS[filters["orderBy"]], True  # the standard's default: DESC
    if "orderDirection" in filters:
        direction = filters["orderDirection"]
        if direction not in ("ASC", "DESC"):
            raise QueryError(_("查询参数 orderDirection 只能是 ASC 或 DESC，收到“%(value)s”。") % {"value": direction},
                             parameter="orderDirection")
        if "orderBy" in filters:
            descending = direction == "DESC"

    per_page = DEFAULT_PER_PAGE
    if "perPage" in given:
        # The bindings let a server send fewer than asked: beyond the platform's page limit, the limit.
        per_page = min(_count("perPage", given["perPage"], minimum=1), settings.MAX_PAGE_SIZE)
    query = EventQuery(condition=condition, params=filters, order_field=order_field, descending=descending,
                       per_page=per_page)
    if "eventCountLimit" in filters:
        query.count_limit = _count("eventCountLimit", filters["eventCountLimit"], minimum=1)
    if "maxEventCount" in filters:
        query.max_count = _count("maxEventCount", filters["maxEventCount"], minimum=0)
    if cursor is not None:
        query.after = (dt.datetime.fromisoformat(cursor["k"][0]), int(cursor["k"][1]))
        query.sent = int(cursor["n"])
    return query


def _filter(name: str, raw: str) -> Q:
    if name in TIME_PARAMETERS:
        column, lookup = TIME_PARAMETERS[name]
        return Q(**{f"{column}__{lookup}": _time(name, raw)})
    if name in MATCH_ROLES:
        return _match_condition(name, _values(name, raw))
    if name == "eventType":
        values = _values(name, raw)
        for value in values:
            if value not in EventType.values and ":" not in value:
                raise QueryError(_("查询参数 eventType 的值“%(value)s”不是 EPCIS 事件类型（ObjectEvent、"
                                   "AggregationEvent、TransactionEvent、TransformationEvent、AssociationEvent）。")
                                 % {"value": value}, parameter=name)
        return Q(event_type__in=values)
    if name == "EQ_action":
        values = _values(name, raw)
        for value in values:
            if value not in ACTIONS:
                raise QueryError(_("查询参数 EQ_action 的值“%(value)s”无效：只能是 ADD、OBSERVE 或 DELETE。")
                                 % {"value": value}, parameter=name)
        return Q(action__in=values)
    if name in CBV_VOCABULARIES:
        words = {cbv_word(name, value) for value in _values(name, raw)}
        if name == "EQ_errorReason":
            return Q(has_error_declaration=True, error_declaration__reason__in=sorted(words))
        return Q(**{"biz_step__in" if name == "EQ_bizStep" else "disposition__in": sorted(words)})
    if name in ("EQ_readPoint", "EQ_bizLocation"):
        forms = set().union(*(location_forms(value) for value in _values(name, raw)))
        return Q(**{"read_point__in" if name == "EQ_readPoint" else "biz_location__in": sorted(forms)})
    if name == "EQ_eventID":
        return Q(event_id__in=_values(name, raw))
    if name == "EQ_transformationID":
        return Q(event_type=EventType.TRANSFORMATION, document__transformationID__in=_values(name, raw))
    if name == "EXISTS_errorDeclaration":
        value = raw.strip().lower()
        if value not in ("", "true", "false"):
            raise QueryError(_("查询参数 EXISTS_errorDeclaration 只能为 true 或 false，收到“%(value)s”。")
                             % {"value": raw}, parameter=name)
        return Q(has_error_declaration=True) if value != "false" else Q()
    return Q()  # orderBy, orderDirection, eventCountLimit, maxEventCount shape the answer, not the filter


# --- paging --------------------------------------------------------------------------------------


def _read_token(token: str) -> dict:
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
        dt.datetime.fromisoformat(data["k"][0])
        int(data["k"][1]), int(data["n"])
        if not isinstance(data["p"], dict) or not set(data["p"]) <= FILTER_PARAMETERS:
            raise ValueError
    except signing.SignatureExpired:
        raise QueryError(_("翻页令牌已过期，请重新查询。"), parameter="nextPageToken") from None
    except (signing.BadSignature, KeyError, IndexError, TypeError, ValueError):
        raise QueryError(_("翻页令牌无效（可能被修改或不完整），请重新查询。"), parameter="nextPageToken") from None
    return data


def _make_token(query: EventQuery, last: EpcisEvent, sent: int) -> str:
    key = getattr(last, query.order_field)
    return signing.dumps({"p": query.params, "k": [key.isoformat(), last.id], "n": sent},
                         salt=TOKEN_SALT, compress=True)


def may_query(reader) -> bool:
    """Whether ``reader`` may use the query interface at all: an active capture key, or an active
    signed-in user whose role may view trace events (``EpcisEvent.role_actions``)."""
    if isinstance(reader, CaptureKey):
        return reader.active
    if reader is None or not getattr(reader, "is_authenticated", False) or not reader.is_active:
        return False
    return reader.is_superuser or VIEW in actions_for(reader.role, EpcisEvent)


def readable_events(reader):
    """The stored rows ``reader`` may read: a user by role, region and entity (``restrict``); a capture
    key those of its entity, as the entity's enterprise users (the key stands for the entity)."""
    if isinstance(reader, CaptureKey):
        return EpcisEvent.objects.filter(entity_id=reader.entity_id) if reader.active else EpcisEvent.objects.none()
    return EpcisEvent.objects.restrict(reader)


def scoped_events(user):
    """The events ``user`` (a user or a capture key) may read, each in its current state: a row
    superseded by a later error declaration row of the same event ID is left out (trace.capture)."""
    superseded = EpcisEvent.objects.filter(event_id=OuterRef("event_id"), has_error_declaration=True,
                                           id__gt=OuterRef("id"))
    return readable_events(user).filter(~Exists(superseded))


def run_query(query: EventQuery, user) -> QueryPage:
    """One page of the events matching ``query`` that ``user`` may see, in the query's order.

    Raises ``QueryError`` (QueryTooLargeException, 413) when ``maxEventCount`` is exceeded.
    """
    events = scoped_events(user).filter(query.condition)
    if query.max_count is not None and events.count() > query.max_count:
        raise QueryError(_("符合条件的事件超过 maxEventCount 规定的 %(max)d 个，请缩小查询范围。")
                         % {"max": query.max_count}, parameter="maxEventCount",
                         exception="QueryTooLargeException", status=413)
    page_size = query.per_page
    if query.count_limit is not None:
        page_size = min(page_size, query.count_limit - query.sent)
    if query.after is not None:
        key, last_id = query.after
        field_name = query.order_field
        beyond = "lt" if query.descending else "gt"
        events = events.filter(Q(**{f"{field_name}__{beyond}": key})
                               | Q(**{field_name: key, f"id__{beyond}": last_id}))
    rows = list(events.order_by(*query.ordering)[:page_size + 1]) if page_size > 0 else []
    more = len(rows) > page_size
    rows = rows[:page_size]
    sent = query.sent + len(rows)
    if more and (query.count_limit is None or sent < query.count_limit):
        return QueryPage(rows, _make_token(query, rows[-1], sent), timezone.now() + TOKEN_MAX_AGE)
    return QueryPage(rows, "", None)


# --- answers -------------------------------------------------------------------------------------


def query_document(page: QueryPage, *, now: dt.datetime | None = None, query_name: str = QUERY_NAME) -> dict:
    """The ``EPCISQueryDocument`` of one page: the events as they were captured (``queryName`` is the
    named query's name when one was run)."""
    now = now or timezone.now()
    return {
        "@context": [CONTEXT_URL],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": now.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "epcisBody": {"queryResults": {"queryName": query_name,
                                       "resultsBody": {"eventList": [event.document for event in page.events]}}},
    }


def event_types_collection() -> dict:
    """The bindings' ``EventTypeCollection``: the five standard event types (no custom types here)."""
    return {"@context": CONTEXT_URL, "type": "Collection", "member": sorted(EventType.values)}


# --- one event by its ID (REST bindings: GET /events/{eventID}) ------------------------------------


def event_by_id(event_id: str, reader) -> EpcisEvent:
    """The event with this ID in its current state (with its error declaration, if one was captured),
    if ``reader`` may read it. Raises ``QueryError`` (NoSuchNameException, 404) when no such event is
    stored or it lies outside the reader's scope: the answer does not tell the two apart."""
    event = scoped_events(reader).filter(event_id=event_id).order_by("-id").first()
    if event is None:
        raise QueryError(_("未找到事件 %(id)s，或该事件不在您的访问范围内。") % {"id": event_id},
                         exception="NoSuchNameException", status=404)
    return event


# --- named queries (REST bindings: /queries, /queries/{queryName}, /queries/{queryName}/events) -----
#
# A named query keeps a JSON query (the bindings' query-schema.json: lists for the pipe-delimited
# parameters, strings for times, integers for the counts, null for EXISTS_) under a name unique in the
# repository. It is validated by ``parse_query`` exactly as GET /events would read it, and runs again,
# within its reader's scope, whenever its events are read. Who sees a definition: an enterprise (its
# users and capture keys) the queries made for its entity; the regulator's roles every query (a
# definition holds no event data; its answers are always scoped). Who deletes it: its creator (the user
# or the capture key) or the province administrator.

NAME_PATTERN = re.compile(r"[\w.~:-]{1,128}")  # \w includes CJK; no "/", "?", "%" or spaces (a path segment)
BODY_FIELDS = ("name", "query")
# The bindings' subscription parameters of GET /queries/{queryName}/events (WebSocket subscriptions).
SUBSCRIPTION_PARAMETERS = frozenset({"stream", "second", "minute", "hour", "dayOfMonth", "month", "dayOfWeek",
                                     "reportIfEmpty", "initialRecordTime"})
LIST_TOKEN_SALT = "qualitygov.trace.queries.named-list"


def unsupported_subscriptions() -> QueryError:
    """The answer to a subscription request (WebSocket or webhook): this repository has none (501,
    the bindings' ImplementationException for functionality the server does not support)."""
    return QueryError(_("本系统暂不支持 EPCIS 查询订阅（WebSocket 与 Webhook），请按需调用命名查询的事件接口获取结果。"),
                      exception="ImplementationException", status=501)


def query_parameters(definition) -> dict[str, str]:
    """The URL-parameter form GET /events reads of a JSON query (query-schema.json): a list becomes its
    values joined by ``|``, an integer its digits, ``null`` (or an integer) under an ``EXISTS_`` parameter
    the empty value that means "present"; ``@context`` is left out (it only declares extension
    namespaces). Raises ``QueryError`` naming the parameter for a value of the wrong JSON type and for
    ``perPage`` / ``nextPageToken``, which belong to the request that reads the query, not to it."""
    if not isinstance(definition, dict):
        raise QueryError(_("query 应为 JSON 对象，键为 EPCIS 查询参数。"), parameter="query",
                         exception="ValidationException")
    params = {}
    for name, value in definition.items():
        if name == "@context":
            continue
        if name in PAGING_PARAMETERS:
            raise QueryError(_("查询定义中不能包含 %(name)s：分页参数在读取查询结果时给出。") % {"name": name},
                             parameter=name)
        if name.startswith("EXISTS_") and (value is None or (isinstance(value, int) and not isinstance(value, bool))):
            params[name] = ""
        elif isinstance(value, list) and value and all(isinstance(item, str) for item in value):
            params[name] = "|".join(value)
        elif isinstance(value, str):
            params[name] = value
        elif isinstance(value, bool):
            params[name] = "true" if value else "false"
        elif isinstance(value, int):
            params[name] = str(value)
        else:
            raise QueryError(_("查询参数 %(name)s 的值类型不正确：应为字符串列表、字符串或整数。") % {"name": name},
                             parameter=name)
    return params


def _owner_fields(reader) -> dict:
    if isinstance(reader, CaptureKey):
        return {"created_by_key": reader, "entity_id": reader.entity_id}
    entity_id = reader.entity_id if reader.role == Role.ENTERPRISE else None
    return {"created_by": reader, "entity_id": entity_id}


def named_queries_visible_to(reader):
    """The named queries whose definitions ``reader`` may see (see the section comment above)."""
    if not may_query(reader):
        return NamedQuery.objects.none()
    if isinstance(reader, CaptureKey):
        return NamedQuery.objects.filter(entity_id=reader.entity_id)
    if not reader.is_superuser and reader.role == Role.ENTERPRISE:
        entity_id = reader.entity_id
        return NamedQuery.objects.filter(entity_id=entity_id) if entity_id else NamedQuery.objects.none()
    return NamedQuery.objects.all()


def define_query(body, reader) -> NamedQuery:
    """Keep a named query from the bindings' ``POST /queries`` body ``{"name": …, "query": {…}}``
    (``queryName`` is read as ``name``). Validates the query with ``parse_query`` (QueryParameterException
    naming the parameter, 400), the body's shape (ValidationException, 400) and the name's uniqueness
    (ResourceAlreadyExistsException, 409); stores nothing when it refuses."""
    if not isinstance(body, dict):
        raise QueryError(_("请求内容应为 JSON 对象：{\"name\": 查询名称, \"query\": {查询参数}}。"),
                         exception="ValidationException")
    body = dict(body)
    if "queryName" in body:
        alias = body.pop("queryName")
        if "name" in body and body["name"] != alias:
            raise QueryError(_("name 与 queryName 不一致，请只给出其中一个。"), parameter="name",
                             exception="ValidationException")
        body["name"] = alias
    for field_name in sorted(set(body) - set(BODY_FIELDS)):
        raise QueryError(_("请求内容中有未知的字段 %(name)s。") % {"name": field_name}, parameter=field_name,
                         exception="ValidationException")
    name = body.get("name")
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise QueryError(_("查询名称须为 1 至 128 个字符，只能包含字母、数字、汉字及“_ . ~ : -”。"), parameter="name",
                         exception="ValidationException")
    if "query" not in body:
        raise QueryError(_("请求内容缺少 query（查询参数）。"), parameter="query", exception="ValidationException")
    parse_query(query_parameters(body["query"]))  # refuses what GET /events would refuse
    if NamedQuery.objects.filter(name=name).exists():
        raise _name_taken(name)
    try:
        with transaction.atomic():
            return NamedQuery.objects.create(name=name, parameters=body["query"], **_owner_fields(reader))
    except IntegrityError:  # the same name created at the same moment by another request
        raise _name_taken(name) from None


def _name_taken(name: str) -> QueryError:
    return QueryError(_("查询名称“%(name)s”已被使用，请换一个名称。") % {"name": name}, parameter="name",
                      exception="ResourceAlreadyExistsException", status=409)


def named_query(name: str, reader) -> NamedQuery:
    """The named query ``name`` if ``reader`` may see it; otherwise ``QueryError`` NoSuchNameException
    (404), whether it does not exist or belongs to another enterprise."""
    found = named_queries_visible_to(reader).filter(name=name).first()
    if found is None:
        raise QueryError(_("未找到名为“%(name)s”的查询，或该查询不在您的访问范围内。") % {"name": name},
                         exception="NoSuchNameException", status=404)
    return found


def delete_query(name: str, reader) -> None:
    """Remove a named query: its creator (user or capture key) or the province administrator may
    (SecurityException, 403, for others who see it; 404 for those who do not)."""
    found = named_query(name, reader)
    if isinstance(reader, CaptureKey):
        allowed = found.created_by_key_id == reader.pk
    else:
        allowed = (reader.is_superuser or reader.role == Role.PROVINCE_ADMIN
                   or (found.created_by_id is not None and found.created_by_id == reader.pk))
    if not allowed:
        raise QueryError(_("只有查询的创建者或省级管理员可以删除该查询。"), exception="SecurityException", status=403)
    found.delete()


def definition_document(named: NamedQuery) -> dict:
    """The bindings' query definition: ``{"name": …, "query": {…}}`` as it was created."""
    return {"name": named.name, "query": named.parameters}


def run_named_query(named: NamedQuery, params: Mapping, reader) -> tuple[EventQuery, QueryPage]:
    """One page of a named query's events for ``reader`` (GET /queries/{queryName}/events). ``params``
    are the request's: only ``perPage`` and ``nextPageToken`` (a token of this query's own pages);
    subscription parameters answer ImplementationException (501), others QueryParameterException."""
    given = {name: _single(params, name) for name in params.keys()}
    for name in sorted(given):
        if name in SUBSCRIPTION_PARAMETERS:
            raise unsupported_subscriptions()
        if name not in PAGING_PARAMETERS:
            raise QueryError(_("命名查询的条件已在定义中给出，读取结果时只能传 perPage 与 nextPageToken，"
                               "收到 %(name)s。") % {"name": name}, parameter=name)
    filters = query_parameters(named.parameters)
    query = parse_query({**filters, **given})
    if query.params != {name: value for name, value in filters.items() if name in FILTER_PARAMETERS}:
        raise QueryError(_("翻页令牌不属于该命名查询，请重新查询。"), parameter="nextPageToken")
    return query, run_query(query, reader)


def list_named_queries(params: Mapping, reader) -> tuple[list[NamedQuery], str, dt.datetime | None]:
    """One page of the named queries ``reader`` may see, by name (GET /queries): the queries, the
    opaque token of the next page ('' on the last) and when it expires."""
    given = {name: _single(params, name) for name in params.keys()}
    for name in sorted(set(given) - PAGING_PARAMETERS):
        raise QueryError(_("未知的查询参数 %(name)s。") % {"name": name}, parameter=name)
    per_page = DEFAULT_PER_PAGE
    if "perPage" in given:
        per_page = min(_count("perPage", given["perPage"], minimum=1), settings.MAX_PAGE_SIZE)
    visible = named_queries_visible_to(reader).order_by("name")
    if "nextPageToken" in given:
        try:
            after = signing.loads(given["nextPageToken"], salt=LIST_TOKEN_SALT, max_age=TOKEN_MAX_AGE)["a"]
            if not isinstance(after, str):
                raise ValueError
        except signing.SignatureExpired:
            raise QueryError(_("翻页令牌已过期，请重新查询。"), parameter="nextPageToken") from None
        except (signing.BadSignature, KeyError, TypeError, ValueError):
            raise QueryError(_("翻页令牌无效（可能被修改或不完整），请重新查询。"), parameter="nextPageToken") from None
        visible = visible.filter(name__gt=after)
    rows = list(visible[:per_page + 1])
    if len(rows) > per_page:
        token = signing.dumps({"a": rows[per_page - 1].name}, salt=LIST_TOKEN_SALT)
        return rows[:per_page], token, timezone.now() + TOKEN_MAX_AGE
    return rows, "", None
