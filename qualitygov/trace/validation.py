"""Validation of EPCIS 2.0 capture payloads (an EPCISDocument, or a single event for ``POST /events``).

Two layers, both pure (no database):

1. the official EPCIS 2.0 JSON schema (GS1, ``EPCIS-JSON-Schema.json``), with ``format`` enforced for
   ``uri`` (rfc3986-validator) and ``date-time`` (RFC 3339, checked here because jsonschema only checks
   it when the optional rfc3339-validator is installed). A document is checked as its envelope and then
   event by event against the schema's event definition; each is first tested by the schema compiled
   to Python code by fastjsonschema (:func:`compile_fast`, fast) and only what it refuses goes through
   jsonschema, whose errors become the problems;
2. business rules of EPCIS 2.0 / CBV 2.0 that the schema cannot express: event time not in the future
   beyond :data:`FUTURE_TOLERANCE`, ``eventTimeZoneOffset`` well formed, CBV words not written as
   ``urn:epcglobal:cbv:`` URNs in JSON, AggregationEvent parent/children, children commissioned before
   they are aggregated, error declarations, and extension fields namespaced with a prefix the
   ``@context`` defines.

Every problem says which event (index in ``eventList`` and its ``eventID``), which field (a JSON
pointer into the payload and one relative to the event) and why (a stable ``code`` and a Chinese
message), so the capture API can answer 400 with the list as is::

    problems = validate_capture(payload, known_commissioned=repository_knows_epc)
    raise_if_invalid(problems)   # EpcisValidationError (a Django ValidationError, code "epcis_invalid")
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Mapping
from functools import cache, lru_cache
from pathlib import Path

import fastjsonschema
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import ValidationError as SchemaError
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from rfc3986_validator import validate_rfc3986

# An event may be stamped by a device whose clock runs slightly ahead of ours; beyond this it is refused.
FUTURE_TOLERANCE = dt.timedelta(minutes=5)

# The official EPCIS 2.0 JSON schema (GitHub gs1/EPCIS @ 2b888bef, Apache-2.0) is not copied into this
# repository (the project ships only its own code): it is read from ``EPCIS_SCHEMA_PATH`` when that
# setting names it, else from the reference folder beside the checkout (../shared/reference).
def _schema_candidates() -> tuple[Path, ...]:
    from django.conf import settings

    configured = getattr(settings, "EPCIS_SCHEMA_PATH", None)
    beside = Path(__file__).resolve().parents[3] / "shared" / "reference" / "epcis" / "schema" / "EPCIS-JSON-Schema.json"
    return (Path(configured),) if configured else (beside,)


# Prefixes defined by the standard EPCIS 2.0 JSON-LD context (epcis-context.jsonld), usable without
# being declared again in the document's own @context.
STANDARD_CONTEXT_PREFIXES = frozenset({"epcis", "cbv", "cbvmda", "gs1", "rdfs", "owl", "xsd", "dcterms"})

EVENT_TYPES = ("ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent")

# The same negative pattern as the schema's vocab-other-uri: CBV words in the URN (XML) form.
CBV_URN_RE = re.compile(r"^(urn:epcglobal:cbv:|https?://ns\.gs1\.org/cbv/)")
# \Z, not $: "$" would also match before a final newline ("+08:00\n" is not an offset).
TIMEZONE_OFFSET_RE = re.compile(r"^[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00)\Z")
RFC3339_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\Z"
)
EVENT_HASH_ID_RE = re.compile(r"^ni:///sha-256;[0-9a-f]{64}\?ver=CBV2\.0$")
UUID_URN_RE = re.compile(r"^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
ABSOLUTE_IRI_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://|urn:)")
COMMISSIONING_STEPS = frozenset({
    "commissioning",
    "https://ref.gs1.org/cbv/BizStep-commissioning",
    "http://ref.gs1.org/cbv/BizStep-commissioning",
})
# Fields whose value is a CBV vocabulary word (not an identifier): (path pattern, "*" = every list item).
VOCABULARY_FIELDS = (
    ("bizStep",),
    ("disposition",),
    ("persistentDisposition", "set", "*"),
    ("persistentDisposition", "unset", "*"),
    ("bizTransactionList", "*", "type"),
    ("sourceList", "*", "type"),
    ("destinationList", "*", "type"),
    ("errorDeclaration", "reason"),
)


@dataclasses.dataclass(frozen=True)
class Problem:
    """One reason a capture payload is refused.

    ``pointer`` is a JSON pointer into the submitted payload; ``field`` is the pointer relative to the
    event (equal to ``pointer`` for document-level problems and for a single posted event);
    ``event_index`` is the position in ``epcisBody.eventList`` (0 for a single event, None for the
    document itself).
    """

    code: str
    message: str
    field: str
    pointer: str
    event_index: int | None = None
    event_id: str | None = None

    def as_dict(self) -> dict:
        """The problem as JSON-ready data (for the API's 400 body)."""
        return dataclasses.asdict(self)


class EpcisValidationError(ValidationError):
    """Raised by :func:`raise_if_invalid`: a Django ValidationError keyed by JSON pointer, carrying the
    structured problems in ``.problems`` and the stable code ``epcis_invalid``."""

    def __init__(self, problems: list[Problem]):
        by_pointer: dict[str, list[str]] = {}
        for problem in problems:
            by_pointer.setdefault(problem.pointer or "non_field_errors", []).append(problem.message)
        super().__init__(by_pointer)
        self.code = "epcis_invalid"
        self.problems = list(problems)


def raise_if_invalid(problems: list[Problem]) -> None:
    """Raise :class:`EpcisValidationError` when there is any problem; do nothing otherwise."""
    if problems:
        raise EpcisValidationError(problems)


# --------------------------------------------------------------------------------------------------
# Schema


def _load_schema() -> dict:
    candidates = _schema_candidates()
    for path in candidates:
        if path.exists():
            return json.loads(path.read_text(encoding="utf-8"))
    raise FileNotFoundError(f"EPCIS 2.0 JSON schema not found in {[str(p) for p in candidates]}; "
                            "set EPCIS_SCHEMA_PATH")


def _refuse_retrieval(uri: str):
    # The schema is self-contained; any other $ref would mean a network fetch, which we never do.
    raise NoSuchResource(ref=uri)


def _is_rfc3339(value) -> bool:
    if not isinstance(value, str):
        return True
    match = RFC3339_RE.match(value)
    if not match:
        return False
    return _parse_time(value) is not None


def _is_uri(value) -> bool:
    return not isinstance(value, str) or _is_uri_text(value)


def format_checker() -> FormatChecker:
    """The format checker used for the schema: jsonschema's available checkers, plus explicit
    ``uri`` (RFC 3986, absolute URI) and ``date-time`` (RFC 3339) checks that never silently vanish."""
    checker = FormatChecker(formats=())
    checker.checkers = dict(Draft7Validator.FORMAT_CHECKER.checkers)
    checker.checks("uri")(_is_uri)  # the same checks as the fast path's FAST_FORMATS
    checker.checks("date-time")(_is_rfc3339)
    return checker


@cache
def schema_validator() -> Draft7Validator:
    """The EPCIS 2.0 schema validator, built once (module-level cache), resolving $refs offline."""
    schema = _load_schema()
    registry = Registry(retrieve=_refuse_retrieval).with_resource(
        schema.get("$id", "urn:epcis-json-schema"), Resource.from_contents(schema)
    )
    return Draft7Validator(schema, registry=registry, format_checker=format_checker())


# --------------------------------------------------------------------------------------------------
# The schema compiled by fastjsonschema (the fast acceptance test)
#
# jsonschema interprets the schema anew for every instance (a validator object per keyword and
# subschema, a registry lookup per $ref): about 2 ms for one event of the official schema. Capture
# only needs to know quickly that an event is valid; the detailed errors matter only for the few that
# are not. So fastjsonschema compiles the schema once into Python code, with the same format checks as
# jsonschema here (:data:`FAST_FORMATS`); an instance it accepts is valid, and an instance it refuses is
# handed to jsonschema, whose errors become the problems. Tests compare both on the official examples
# and on thousands of mutated events.
#
# One known difference, on the safe side: fastjsonschema reads ``$`` in a ``pattern`` as the very end
# of the text (as ECMA-262 does), Python's ``re.search`` in jsonschema also before a final newline. So a
# value such as "+08:00\n" is refused by the fast path and accepted by jsonschema; such a disagreement
# refuses the event (see :func:`_schema_problems`).


@lru_cache(maxsize=65_536)  # the same URIs (bizStep, readPoint, locations…) recur in every event
def _is_uri_text(value: str) -> bool:
    return validate_rfc3986(value, rule="URI") is not None


# Format name → the check used by both jsonschema (format_checker) and fastjsonschema (formats=).
FAST_FORMATS: dict[str, Callable[[str], bool]] = {"uri": _is_uri_text, "date-time": _is_rfc3339}


def _formats_used(schema) -> set[str]:
    found: set[str] = set()
    if isinstance(schema, dict):
        if isinstance(schema.get("format"), str):
            found.add(schema["format"])
        for value in schema.values():
            found |= _formats_used(value)
    elif isinstance(schema, list):
        for value in schema:
            found |= _formats_used(value)
    return found


def _refuse_remote(uri: str):
    raise fastjsonschema.JsonSchemaDefinitionException(f"remote $ref not allowed (offline): {uri}")


class _NoRemote(dict):
    """fastjsonschema's handlers by URI scheme: every scheme refuses (an unlisted one would be fetched
    with urllib)."""

    def __contains__(self, scheme) -> bool:
        return True

    def __missing__(self, scheme):
        return _refuse_remote


def compile_fast(schema: dict, pointer: str = "#") -> Callable[[object], bool]:
    """A predicate compiled by fastjsonschema: True exactly when an instance is valid against the
    subschema of ``schema`` at the local JSON pointer ``pointer`` (``"#"``: the whole schema).

    The subschema is compiled as the same document entered through ``{"$ref": pointer}`` (draft-07
    ignores keywords beside ``$ref``), so its ``$ref``s into the document's definitions resolve as in
    jsonschema. Formats are checked by :data:`FAST_FORMATS`; a format the schema uses that is not
    there raises ValueError (fastjsonschema would silently skip it). ``$ref``s outside the document
    are refused, never fetched. Defaults are not written into the instance (``use_default=False``).
    """
    unknown = _formats_used(schema) - set(FAST_FORMATS)
    if unknown:
        raise ValueError(f"schema formats without a fast check: {sorted(unknown)}")
    definition = schema if pointer == "#" else {**schema, "$ref": pointer}
    validate = fastjsonschema.compile(
        definition, handlers=_NoRemote(), formats=FAST_FORMATS, use_default=False, detailed_exceptions=False,
    )

    def accepts(instance) -> bool:
        try:
            validate(instance)
        except Exception:  # noqa: BLE001 — any failure of the fast path just hands the instance to jsonschema
            return False
        return True
    return accepts


# --------------------------------------------------------------------------------------------------
# Helpers


def _pointer(parts: Iterable) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _parse_time(value) -> dt.datetime | None:
    """An RFC 3339 timestamp as an aware datetime, or None when it is not one."""
    if not isinstance(value, str):
        return None
    return _parse_time_text(value)


@lru_cache(maxsize=65_536)  # each event's times are read by several rules and by capture (datetimes are immutable)
def _parse_time_text(value: str) -> dt.datetime | None:
    match = RFC3339_RE.match(value)
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        # A leap second (:60) is valid RFC 3339; datetime cannot hold it, so it counts as :59.
        moment = dt.datetime(int(year), int(month), int(day), int(hour), int(minute), min(int(second), 59),
                             int((fraction or ".0")[1:7].ljust(6, "0")))
        if offset in ("Z", "z"):
            tz = dt.UTC
        else:
            hours, minutes = int(offset[1:3]), int(offset[4:6])
            if hours > 23 or minutes > 59:
                return None
            delta = dt.timedelta(hours=hours, minutes=minutes)
            tz = dt.timezone(delta if offset[0] == "+" else -delta)
    except ValueError:
        return None
    return moment.replace(tzinfo=tz)


def _field_name(parts: list) -> str:
    """A field path readable in a message: ``bizTransactionList[0].type`` (relative to the event: the
    event's position is reported beside the message)."""
    if parts[:2] == ["epcisBody", "eventList"] and len(parts) > 3 and isinstance(parts[2], int):
        parts = parts[3:]
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or _("（整个文档）")


def _short(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def _local(code: str, message: str, parts: list) -> Problem:
    """A problem located relative to an event (re-based by the document validator)."""
    pointer = _pointer(parts)
    return Problem(code=code, message=message, field=pointer, pointer=pointer)


def context_terms(*contexts) -> set[str]:
    """Terms and prefixes defined by JSON-LD ``@context`` values (strings are remote contexts: the
    standard EPCIS one contributes :data:`STANDARD_CONTEXT_PREFIXES`)."""
    terms = set(STANDARD_CONTEXT_PREFIXES)
    for context in contexts:
        for item in context if isinstance(context, list) else [context]:
            if isinstance(item, dict):
                terms.update(key for key in item if isinstance(key, str) and not key.startswith("@"))
    return terms


# --------------------------------------------------------------------------------------------------
# Business rules (each takes one event and returns problems located relative to that event)


def check_event_time(event: dict, *, now: dt.datetime, tolerance: dt.timedelta = FUTURE_TOLERANCE) -> list[Problem]:
    """eventTime (and an error declaration's declarationTime) may not lie in the future by more than
    ``tolerance`` relative to ``now`` (an aware datetime)."""
    limit = now + tolerance
    problems = []
    value = event.get("eventTime")
    moment = _parse_time(value)
    if moment is not None and moment > limit:
        problems.append(_future_problem(["eventTime"], value, tolerance))
    declaration = event.get("errorDeclaration")
    if isinstance(declaration, dict):
        value = declaration.get("declarationTime")
        moment = _parse_time(value)
        if moment is not None and moment > limit:
            problems.append(_future_problem(["errorDeclaration", "declarationTime"], value, tolerance))
    return problems


def _future_problem(parts: list, value, tolerance: dt.timedelta) -> Problem:
    return _local(
        "event_time_in_future",
        _("字段 %(field)s 的时间 %(value)s 晚于当前时间超过 %(minutes)s 分钟，不能登记未来发生的事件。")
        % {"field": _field_name(parts), "value": value, "minutes": int(tolerance.total_seconds() // 60)},
        parts,
    )


def check_timezone_offset(event: dict) -> list[Problem]:
    """eventTimeZoneOffset is required and must look like ``+08:00`` (−14:00 … +14:00)."""
    value = event.get("eventTimeZoneOffset")
    if value is None:
        return [_local("timezone_offset_missing",
                       _("缺少字段 eventTimeZoneOffset（事件发生地的时区偏移，如 +08:00）。"),
                       ["eventTimeZoneOffset"])]
    if not isinstance(value, str) or not TIMEZONE_OFFSET_RE.match(value):
        return [_local("invalid_timezone_offset",
                       _("字段 eventTimeZoneOffset 的值“%(value)s”格式不正确，应为 ±hh:mm（如 +08:00），"
                         "范围 -14:00 至 +14:00。") % {"value": _short(value)},
                       ["eventTimeZoneOffset"])]
    return []


def check_cbv_urns(event: dict) -> list[Problem]:
    """CBV words (bizStep, disposition, business transaction / source / destination types, error
    reasons) must be bare words (``shipping``) or GS1 web vocabulary URIs in JSON, never the XML
    binding's ``urn:epcglobal:cbv:...`` URNs."""
    problems = []
    for path in VOCABULARY_FIELDS:
        if path[0] not in event:  # most events name few of these fields: skip the walk
            continue
        found: list[tuple[list, object]] = []
        _collect(event, path, [], found)
        for parts, value in found:
            if isinstance(value, str) and CBV_URN_RE.match(value):
                problems.append(_cbv_problem(value, parts))
    return problems


def _collect(value, path: tuple, parts: list, found: list) -> None:
    """Append (parts, value) for every position of ``path`` ("*" = each list item) present in value."""
    if not path:
        found.append((parts, value))
        return
    head, rest = path[0], path[1:]
    if head == "*":
        if isinstance(value, list):
            for index, item in enumerate(value):
                _collect(item, rest, [*parts, index], found)
    elif isinstance(value, dict) and head in value:
        _collect(value[head], rest, [*parts, head], found)


def _cbv_problem(value: str, parts: list) -> Problem:
    word = re.split(r"[:/]", value.rstrip("/"))[-1]
    return _local(
        "cbv_urn_in_json",
        _("字段 %(field)s 使用了 CBV 的 URN 写法“%(value)s”；EPCIS 2.0 JSON 中应写词汇本身"
          "（如“%(word)s”）或 GS1 Web 词汇的完整 URI。")
        % {"field": _field_name(parts), "value": value, "word": word},
        parts,
    )


def check_aggregation(event: dict) -> list[Problem]:
    """AggregationEvent: ADD and DELETE name the parent (parentID); OBSERVE and ADD list children
    (childEPCs or childQuantityList, at least one)."""
    if event.get("type") != "AggregationEvent":
        return []
    action = event.get("action")
    problems = []
    if action in ("ADD", "DELETE") and not event.get("parentID"):
        problems.append(_local(
            "aggregation_parent_missing",
            _("汇总事件（AggregationEvent）的 action 为 %(action)s 时必须填写 parentID（上级容器标识）。")
            % {"action": action},
            ["parentID"],
        ))
    if action in ("ADD", "OBSERVE") and not event.get("childEPCs") and not event.get("childQuantityList"):
        problems.append(_children_missing(action, ["childEPCs"]))
    return problems


def _children_missing(action, parts: list) -> Problem:
    return _local(
        "aggregation_children_missing",
        _("汇总事件（AggregationEvent）的 action 为 %(action)s 时必须列出被汇总的物品"
          "（childEPCs 或 childQuantityList，至少一项）。") % {"action": action},
        parts,
    )


def commissioned_epcs(events: Iterable) -> dict[str, dt.datetime | None]:
    """EPCs commissioned by the given events (ObjectEvent, action ADD, bizStep commissioning), each with
    its earliest commissioning time (None when the time cannot be read)."""
    found: dict[str, dt.datetime | None] = {}
    for event in events:
        if not (isinstance(event, dict) and event.get("type") == "ObjectEvent" and event.get("action") == "ADD"
                and event.get("bizStep") in COMMISSIONING_STEPS and isinstance(event.get("epcList"), list)):
            continue
        moment = _parse_time(event.get("eventTime"))
        for epc in event["epcList"]:
            if isinstance(epc, str):
                earlier = found.get(epc)
                found[epc] = moment if epc not in found else (
                    min(earlier, moment) if earlier is not None and moment is not None else earlier or moment)
    return found


def check_commissioned(
    event: dict,
    known_commissioned: Callable[[str], bool] | None,
    *,
    commissioned_in_document: Mapping[str, dt.datetime | None] | None = None,
) -> list[Problem]:
    """An AggregationEvent ADD may only aggregate commissioned items.

    A child EPC passes when it was commissioned in the same document no later than this event
    (``commissioned_in_document``, see :func:`commissioned_epcs`), or when ``known_commissioned(epc)``
    says the repository holds its commissioning. Without a repository callable, a child the document
    does not mention cannot be judged and passes; a child the document commissions only after the
    aggregation is refused either way unless the repository knows it.
    """
    if event.get("type") != "AggregationEvent" or event.get("action") != "ADD":
        return []
    children = event.get("childEPCs")
    if not isinstance(children, list):
        return []
    in_document = commissioned_in_document or {}
    aggregated_at = _parse_time(event.get("eventTime"))
    problems = []
    for index, epc in enumerate(children):
        if not isinstance(epc, str):
            continue
        if epc in in_document:
            commissioned_at = in_document[epc]
            if commissioned_at is None or aggregated_at is None or commissioned_at <= aggregated_at:
                continue
        if known_commissioned is not None and known_commissioned(epc):
            continue
        if epc in in_document:
            message = _("被汇总的物品 %(epc)s 在本文档中的赋码（commissioning）时间晚于本次汇总，"
                        "不能汇总尚未赋码的物品。") % {"epc": epc}
        elif known_commissioned is None:
            continue
        else:
            message = _("被汇总的物品 %(epc)s 没有赋码（commissioning）记录，不能汇总尚未赋码的物品；"
                        "请先上报其赋码事件（ObjectEvent，action=ADD，bizStep=commissioning）。") % {"epc": epc}
        problems.append(_local("uncommissioned_child", message, ["childEPCs", index]))
    return problems


def _event_id_problem(value, parts: list, code: str) -> Problem | None:
    if not isinstance(value, str):
        return None
    malformed_hash = value.startswith("ni:") and not EVENT_HASH_ID_RE.match(value)
    malformed_uuid = value.lower().startswith("urn:uuid:") and not UUID_URN_RE.match(value)
    if malformed_hash or malformed_uuid or not _is_uri(value):
        return _local(
            code,
            _("字段 %(field)s 的事件标识“%(value)s”格式不正确：应为事件哈希 ni:///sha-256;<64位十六进制>?ver=CBV2.0、"
              "urn:uuid:<UUID> 或其他绝对 URI。") % {"field": _field_name(parts), "value": _short(value)},
            parts,
        )
    return None


def check_error_declaration(event: dict) -> list[Problem]:
    """eventID and correctiveEventIDs are well-formed event identifiers; an errorDeclaration has a
    declarationTime, not earlier than the event it declares erroneous, and does not name the event
    itself as its correction."""
    problems = []
    own = _event_id_problem(event.get("eventID"), ["eventID"], "invalid_event_id")
    if own:
        problems.append(own)
    declaration = event.get("errorDeclaration")
    if not isinstance(declaration, dict):
        return problems
    declared = declaration.get("declarationTime")
    if declared is None:
        problems.append(_local(
            "declaration_time_missing",
            _("错误声明（errorDeclaration）缺少 declarationTime（声明时间）。"),
            ["errorDeclaration", "declarationTime"],
        ))
    else:
        declared_at, happened_at = _parse_time(declared), _parse_time(event.get("eventTime"))
        if declared_at and happened_at and declared_at < happened_at:
            problems.append(_local(
                "declaration_before_event",
                _("错误声明的 declarationTime（%(declared)s）早于事件发生时间 eventTime（%(event)s）。")
                % {"declared": declared, "event": event.get("eventTime")},
                ["errorDeclaration", "declarationTime"],
            ))
    corrective = declaration.get("correctiveEventIDs")
    if isinstance(corrective, list):
        for index, value in enumerate(corrective):
            parts = ["errorDeclaration", "correctiveEventIDs", index]
            problem = _event_id_problem(value, parts, "invalid_corrective_event_id")
            if problem:
                problems.append(problem)
            elif value is not None and value == event.get("eventID"):
                problems.append(_local(
                    "corrective_event_is_self",
                    _("更正事件标识 %(value)s 就是本事件自身；更正事件应是另一条事件。") % {"value": value},
                    parts,
                ))
    return problems


def check_extension_fields(event: dict, terms: set[str] | frozenset[str] = STANDARD_CONTEXT_PREFIXES) -> list[Problem]:
    """User extension fields are namespaced: ``prefix:name`` with the prefix defined in ``@context``
    (``terms``, see :func:`context_terms`) or an absolute IRI; keys inside extension values and inside
    ilmd are namespaced too. (Unprefixed top-level keys are refused by the schema.)"""
    problems: list[Problem] = []
    # "@context" (like every "@" key) is skipped by the walk itself.
    _visit_extensions(event, [], False, terms, problems)
    return problems


def _visit_extensions(value, parts: list, inside_extension: bool, terms, problems: list[Problem]) -> None:
    # Only containers are visited (scalars name no fields); paths are built only where needed. Called
    # for every event of a capture, so it is a plain recursive function (no closure per event).
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict | list):
                _visit_extensions(item, [*parts, index], inside_extension, terms, problems)
        return
    if not isinstance(value, dict):
        return
    # Inside an extension or directly inside ilmd every key belongs to the user and must be namespaced.
    user_keys = inside_extension or parts == ["ilmd"]
    for key, item in value.items():
        if not isinstance(key, str) or key.startswith("@"):
            continue
        if ":" not in key:
            if user_keys:
                here = [*parts, key]
                problems.append(_local(
                    "extension_field_not_namespaced",
                    _("字段 %(field)s 不是 EPCIS 标准字段，用户扩展字段必须带命名空间前缀（如 example:%(name)s），"
                      "且前缀须在 @context 中定义。") % {"field": _field_name(here), "name": key},
                    here,
                ))
            elif isinstance(item, dict | list):
                _visit_extensions(item, [*parts, key], key == "ilmd", terms, problems)
            continue
        here = [*parts, key]
        prefix = key.split(":", 1)[0]
        if key not in terms and prefix not in terms and not ABSOLUTE_IRI_RE.match(key):
            problems.append(_local(
                "extension_prefix_undefined",
                _("扩展字段 %(field)s 的前缀“%(prefix)s”没有在 @context 中定义；"
                  "请在 @context 中声明该前缀对应的命名空间 URI。")
                % {"field": _field_name(here), "prefix": prefix},
                here,
            ))
        _visit_extensions(item, here, True, terms, problems)


def check_event(
    event: dict,
    *,
    now: dt.datetime,
    terms: set[str] | frozenset[str] = STANDARD_CONTEXT_PREFIXES,
    known_commissioned: Callable[[str], bool] | None = None,
    commissioned_in_document: Mapping[str, dt.datetime | None] | None = None,
) -> list[Problem]:
    """All business rules for one event, problems located relative to the event."""
    if not isinstance(event, dict):
        return []
    return [
        *check_timezone_offset(event),
        *check_event_time(event, now=now),
        *check_cbv_urns(event),
        *check_aggregation(event),
        *check_commissioned(event, known_commissioned, commissioned_in_document=commissioned_in_document),
        *check_error_declaration(event),
        *check_extension_fields(event, context_terms(event.get("@context")) | terms),
    ]


# --------------------------------------------------------------------------------------------------
# Schema errors → problems

TYPE_NAMES = {
    "string": gettext_lazy("字符串"), "array": gettext_lazy("数组"), "object": gettext_lazy("对象"),
    "number": gettext_lazy("数字"), "integer": gettext_lazy("整数"), "boolean": gettext_lazy("布尔值"),
}


def _leaves(error: SchemaError):
    if not error.context:
        yield error
        return
    for sub in error.context:
        yield from _leaves(sub)


def _allowed(values) -> str:
    values = [str(v) for v in values]
    return _("、").join(values[:12]) + (_(" 等 %(count)s 个") % {"count": len(values)} if len(values) > 12 else "")


def _schema_problem(error: SchemaError) -> Problem | None:
    """Translate one jsonschema error into a problem (path relative to the validated instance), or None
    when another error already says the same thing."""
    parts = list(error.absolute_path)
    name = _field_name(parts)
    kind = error.validator
    if "propertyNames" in error.absolute_schema_path and isinstance(error.instance, str):
        key = error.instance
        here = [*parts, key]
        if ":" not in key:
            return _local("extension_field_not_namespaced",
                          _("字段 %(field)s 不是 EPCIS 标准字段，用户扩展字段必须带命名空间前缀（如 example:%(name)s），"
                            "且前缀须在 @context 中定义。") % {"field": _field_name(here), "name": key}, here)
        return _local("invalid_field_name", _("字段名 %(field)s 既不是 EPCIS 标准字段，也不是合法的命名空间扩展字段。")
                      % {"field": _field_name(here)}, here)
    if kind == "required":
        missing = re.match(r"^'(.+)' is a required property$", error.message)
        field = missing.group(1) if missing else str(error.validator_value)
        return _local("missing_field", _("缺少必填字段 %(field)s。") % {"field": _field_name([*parts, field])},
                      [*parts, field])
    if kind in ("enum", "const"):
        allowed = error.validator_value if kind == "enum" else [error.validator_value]
        return _local("value_not_allowed", _("字段 %(field)s 的值“%(value)s”不在允许范围内，可用值：%(allowed)s。")
                      % {"field": name, "value": _short(error.instance), "allowed": _allowed(allowed)}, parts)
    if kind == "format":
        if error.validator_value == "uri":
            return _local("invalid_uri", _("字段 %(field)s 的值“%(value)s”不是合法的绝对 URI（RFC 3986）。")
                          % {"field": name, "value": _short(error.instance)}, parts)
        if error.validator_value == "date-time":
            return _local("invalid_datetime",
                          _("字段 %(field)s 的值“%(value)s”不是合法的时间，应为 RFC 3339 格式，"
                            "如 2025-06-01T08:30:00.000+08:00。") % {"field": name, "value": _short(error.instance)},
                          parts)
        return _local("invalid_format", _("字段 %(field)s 的值“%(value)s”格式不正确（应为 %(format)s）。")
                      % {"field": name, "value": _short(error.instance), "format": error.validator_value}, parts)
    if kind == "type":
        expected = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        return _local("wrong_type", _("字段 %(field)s 的类型不正确，应为%(type)s。")
                      % {"field": name, "type": _("或").join(str(TYPE_NAMES.get(t, t)) for t in expected)}, parts)
    if kind == "pattern":
        if parts and parts[-1] == "eventTimeZoneOffset":
            return _local("invalid_timezone_offset",
                          _("字段 eventTimeZoneOffset 的值“%(value)s”格式不正确，应为 ±hh:mm（如 +08:00），"
                            "范围 -14:00 至 +14:00。") % {"value": _short(error.instance)}, parts)
        return _local("invalid_format", _("字段 %(field)s 的值“%(value)s”格式不正确。")
                      % {"field": name, "value": _short(error.instance)}, parts)
    if kind in ("minItems", "uniqueItems"):
        code = "too_few_items" if kind == "minItems" else "duplicate_items"
        message = (_("字段 %(field)s 至少需要 %(count)s 项。") % {"field": name, "count": error.validator_value}
                   if kind == "minItems" else _("字段 %(field)s 中有重复的项。") % {"field": name})
        return _local(code, message, parts)
    if kind == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        field = extra[0] if extra else ""
        return _local("unknown_field", _("字段 %(field)s 不是此处允许的字段。")
                      % {"field": _field_name([*parts, field])}, [*parts, field])
    if kind in ("anyOf", "oneOf"):
        return _alternatives_problem(error, parts)
    return _local("schema_violation", _("字段 %(field)s 不符合 EPCIS 2.0 JSON 模式：%(detail)s")
                  % {"field": name, "detail": error.message[:200]}, parts)


def _alternatives_problem(error: SchemaError, parts: list) -> Problem | None:
    leaves = list(_leaves(error))
    if isinstance(error.instance, str) and CBV_URN_RE.match(error.instance):
        return _cbv_problem(error.instance, parts)
    required = [leaf for leaf in leaves if leaf.validator == "required"]
    if required:
        names = [re.sub(r"^'(.+)' is a required property$", r"\1", leaf.message) for leaf in required]
        if "childEPCs" in names:
            action = error.instance.get("action") if isinstance(error.instance, dict) else None
            return _children_missing(action, [*parts, "childEPCs"])
        event_root = not parts or (parts[:2] == ["epcisBody", "eventList"] and len(parts) == 3)
        where = _("该事件") if event_root else _field_name(parts)
        return _local("one_of_fields_missing", _("%(where)s 须至少提供以下字段之一：%(fields)s。")
                      % {"where": where, "fields": _("、").join(dict.fromkeys(names))}, [*parts, names[0]])
    if all(leaf.validator in ("pattern", "not") for leaf in leaves) and isinstance(error.instance, dict) \
            and any(list(leaf.absolute_path)[-1:] == ["action"] for leaf in leaves):
        # ObjectEvent: ilmd only with action ADD; an action outside the enum is already reported.
        if error.instance.get("action") not in ("OBSERVE", "ADD", "DELETE"):
            return None
        here = [*parts, "ilmd"]
        return _local("ilmd_requires_add", _("只有 action 为 ADD 的事件才能携带 ilmd（实例/批次主数据），当前为 %(action)s。")
                      % {"action": error.instance.get("action")}, here)
    best = best_match(error.context) if error.context else None
    if best is not None and best is not error:
        return _schema_problem(best)
    return _local("invalid_value", _("字段 %(field)s 的值不符合 EPCIS 2.0 允许的任何形式。")
                  % {"field": _field_name(parts)}, parts)


# Where the official schema describes one event of a document's eventList.
EVENT_SCHEMA = "#/definitions/EPCIS-Document-Event"


@dataclasses.dataclass(frozen=True)
class _SchemaParts:
    validator: Draft7Validator
    # fastjsonschema predicates by local pointer: "#" (the whole schema) and EVENT_SCHEMA.
    fast: dict[str, Callable[[object], bool]]
    # True when the schema checks eventList only item by item (``items``: one event subschema, nothing
    # else on the array), so a document is valid exactly when its envelope (with the list emptied) and
    # each event against EVENT_SCHEMA are.
    events_separable: bool
    by_pointer: dict


_PARTS: list[_SchemaParts] = []


def _resolve(schema: dict, pointer: str):
    node = schema
    for part in pointer[1:].split("/")[1:]:
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _schema_parts() -> _SchemaParts:
    """The schema validator with its fastjsonschema predicates, compiled once per schema (again only
    when :func:`schema_validator` is rebuilt, e.g. for another EPCIS_SCHEMA_PATH)."""
    validator = schema_validator()
    if not _PARTS or _PARTS[0].validator is not validator:
        schema = validator.schema
        try:
            body = _resolve(schema, "#/definitions/epcisDocument/properties/epcisBody/properties/eventList")
            separable = body == {"$ref": "#/definitions/eventList"} and _resolve(
                schema, "#/definitions/eventList") == {"type": "array", "items": {"$ref": EVENT_SCHEMA}}
        except (KeyError, TypeError):
            separable = False
        fast = {"#": compile_fast(schema)}
        if separable:
            fast[EVENT_SCHEMA] = compile_fast(schema, EVENT_SCHEMA)
        _PARTS[:] = [_SchemaParts(validator, fast, separable, {"#": validator})]
    return _PARTS[0]


def _schema_problems(instance, pointer: str = "#") -> list[Problem]:
    """Problems of ``instance`` against the subschema at ``pointer`` (default: the whole schema), with
    paths relative to the instance. The fastjsonschema predicate accepts valid instances quickly;
    jsonschema explains the others."""
    parts = _schema_parts()
    if parts.fast[pointer](instance):
        return []
    validator = parts.by_pointer.get(pointer)
    if validator is None:
        base = parts.validator.schema.get("$id", "")
        validator = parts.by_pointer[pointer] = parts.validator.evolve(schema={"$ref": base + pointer})
    problems, errors = [], 0
    for error in validator.iter_errors(instance):
        errors += 1
        problem = _schema_problem(error)
        if problem is not None:
            problems.append(problem)
    if not errors:
        # The two readings of the schema disagree: refuse (never accept what one of them refuses).
        problems.append(_local("schema_violation", _("内容不符合 EPCIS 2.0 JSON 模式。"), []))
    return problems


# --------------------------------------------------------------------------------------------------
# Entry points


def _now(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        return timezone.now()
    if timezone.is_naive(now):
        raise ValueError("now must be an aware datetime")
    return now


def _merge(rule_problems: list[Problem], schema_problems: list[Problem]) -> list[Problem]:
    """Rule problems first; a schema problem at a pointer a rule already explains is dropped."""
    seen = {p.pointer for p in rule_problems}
    merged = list(rule_problems)
    for problem in schema_problems:
        if problem.pointer not in seen:
            seen.add(problem.pointer)
            merged.append(problem)
    return merged


def validate_document(
    doc,
    *,
    now: dt.datetime | None = None,
    known_commissioned: Callable[[str], bool] | None = None,
) -> list[Problem]:
    """Problems with an EPCISDocument capture payload (empty list = acceptable).

    ``now`` (aware; default: current time) anchors the future-time rule; ``known_commissioned(epc)``
    tells whether the repository already holds an EPC's commissioning (None: repository not consulted).
    """
    now = _now(now)
    if not isinstance(doc, dict):
        return [_local("invalid_payload", _("提交的内容必须是一个 JSON 对象（EPCISDocument）。"), [])]
    if doc.get("type") != "EPCISDocument":
        return [_local("not_epcis_document",
                       _("文档类型 type 应为 EPCISDocument，当前为“%(value)s”；查询结果文档（EPCISQueryDocument）"
                         "不能作为采集内容提交。") % {"value": _short(doc.get("type"))}, ["type"])]
    body = doc.get("epcisBody")
    events = body.get("eventList") if isinstance(body, dict) else None
    events = events if isinstance(events, list) else []
    base = ["epcisBody", "eventList"]
    terms = context_terms(doc.get("@context"))
    in_document = commissioned_epcs(events)

    # Document-level problems: the schema's errors outside eventList, plus namespaced header fields.
    # The schema is checked for the envelope (eventList emptied) and then event by event, when it allows
    # (see _SchemaParts.events_separable); otherwise in one pass over the whole document.
    doc_rules = check_extension_fields({k: v for k, v in doc.items() if k not in ("epcisBody", "@context")}, terms)
    separate = _schema_parts().events_separable and isinstance(body, dict) and isinstance(body.get("eventList"), list)
    schema = _schema_problems({**doc, "epcisBody": {**body, "eventList": []}} if separate else doc)
    inside = "/" + "/".join(base) + "/"
    problems = _merge(doc_rules, [p for p in schema if not p.pointer.startswith(inside)])

    for index, event in enumerate(events):
        rules = check_event(event, now=now, terms=terms, known_commissioned=known_commissioned,
                            commissioned_in_document=in_document)
        own = _schema_problems(event, EVENT_SCHEMA) if separate else None
        if not rules and not own and (separate or not schema):
            continue  # a valid event (nearly all of them): nothing to locate
        prefix = _pointer([*base, index])
        if separate:
            own_schema = [dataclasses.replace(p, pointer=prefix + p.pointer) for p in own]
        else:
            own_schema = [p for p in schema if p.pointer == prefix or p.pointer.startswith(prefix + "/")]
        event_id = event.get("eventID") if isinstance(event, dict) and isinstance(event.get("eventID"), str) else None
        located = [dataclasses.replace(p, pointer=prefix + p.pointer) for p in rules]
        for problem in _merge(located, own_schema):
            problems.append(dataclasses.replace(problem, field=problem.pointer[len(prefix):],
                                                event_index=index, event_id=event_id))
    return problems


def validate_event(
    event,
    *,
    now: dt.datetime | None = None,
    known_commissioned: Callable[[str], bool] | None = None,
) -> list[Problem]:
    """Problems with a single event posted on its own (``POST /events``); it carries its own
    ``@context``. Problems have ``event_index`` 0."""
    now = _now(now)
    if not isinstance(event, dict):
        return [_local("invalid_payload", _("提交的内容必须是一个 JSON 对象（EPCIS 事件）。"), [])]
    if event.get("type") in ("EPCISDocument", "EPCISQueryDocument"):
        return [_local("not_an_event", _("此处只接受单个事件；整份文档请提交到文档采集接口。"), ["type"])]
    terms = context_terms(event.get("@context"))
    rules = check_event(event, now=now, terms=terms, known_commissioned=known_commissioned)
    event_id = event.get("eventID") if isinstance(event.get("eventID"), str) else None
    return [dataclasses.replace(p, event_index=0, event_id=event_id)
            for p in _merge(rules, _schema_problems(event))]


def validate_capture(
    payload,
    *,
    now: dt.datetime | None = None,
    known_commissioned: Callable[[str], bool] | None = None,
) -> list[Problem]:
    """Problems with a capture payload: an EPCISDocument, or else a single event."""
    if isinstance(payload, dict) and payload.get("type") in ("EPCISDocument", "EPCISQueryDocument"):
        return validate_document(payload, now=now, known_commissioned=known_commissioned)
    return validate_event(payload, now=now, known_commissioned=known_commissioned)
