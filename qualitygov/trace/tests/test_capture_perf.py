"""The fast capture path (issue 5, item 9) refuses and accepts exactly what the slow one did.

* The schema compiled by fastjsonschema (``validation.compile_fast``) must agree with jsonschema on
  every official example, every invalid example and thousands of events mutated from them: the
  fast path decides which events are accepted, so any disagreement would accept an invalid event.
* Validating the envelope and then event by event gives the same problems as the one pass over the
  whole document it replaced.
* Writing with COPY on PostgreSQL (bulk INSERT elsewhere) keeps the concurrent-capture guard.

Sources: the official EPCIS 2.0 JSON schema and examples (../shared/reference/epcis, GitHub
gs1/EPCIS @ 2b888bef).
"""

import copy
import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest

from qualitygov.trace import capture, validation
from qualitygov.trace.models import CaptureJob, EpcisEvent, EventIdentifier, EventIdentity

REFERENCE = Path(__file__).resolve().parents[4] / "shared" / "reference" / "epcis"
EXAMPLES = REFERENCE / "examples"
INVALID = REFERENCE / "examples_invalid"
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
ALL_FILES = sorted([*EXAMPLES.iterdir(), *INVALID.iterdir()])

# Replacement values that exercise every kind of schema keyword: types, enums, formats, patterns,
# minItems, required, propertyNames.
ODD_VALUES = [None, True, 0, 1.5, -3, "", "x", "not a uri", "urn:epcglobal:cbv:bizstep:shipping", "ADD",
              "2025-13-01T00:00:00Z", "+25:00", [], ["x"], [1], {}, {"id": "not a uri"}, {"type": "x"}]


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def parts():
    return validation._schema_parts()


def jsonschema_accepts(instance, pointer: str = "#") -> bool:
    validator = parts().validator
    if pointer != "#":
        validator = validator.evolve(schema={"$ref": validator.schema["$id"] + pointer})
    return next(iter(validator.iter_errors(instance)), None) is None


def events_of(doc) -> list:
    body = doc.get("epcisBody") if isinstance(doc, dict) else None
    events = body.get("eventList") if isinstance(body, dict) else None
    return events if isinstance(events, list) else []


def mutants(event: dict):
    """The event with each top-level field removed, and each field (and each field of nested
    objects and list items, one level down) replaced by each odd value."""
    for key in list(event):
        smaller = dict(event)
        del smaller[key]
        yield smaller
        for odd in ODD_VALUES:
            yield {**event, key: odd}
        value = event[key]
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            for inner in list(item):
                for odd in ODD_VALUES[:12]:
                    changed = copy.deepcopy(value)
                    target = changed[index] if isinstance(changed, list) else changed
                    target[inner] = odd
                    yield {**event, key: changed}
    yield {**event, "unprefixed": 1}
    yield {**event, "example:field": {"inner": 1}}


def test_the_schema_separates_the_envelope_from_the_events():
    assert parts().events_separable


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_fast_schema_agrees_with_jsonschema_on_every_example(path):
    doc = load(path)
    fast = parts().fast
    assert fast["#"](doc) == jsonschema_accepts(doc)
    for event in events_of(doc):
        assert fast[validation.EVENT_SCHEMA](event) == jsonschema_accepts(event, validation.EVENT_SCHEMA)


def test_fast_schema_agrees_with_jsonschema_on_mutated_events():
    predicate = parts().fast[validation.EVENT_SCHEMA]
    root = parts().fast["#"]
    outcomes = {True: 0, False: 0}
    seen = set()
    for path in sorted(EXAMPLES.iterdir()):
        for event in events_of(load(path)):
            for mutant in mutants(event):
                key = json.dumps(mutant, sort_keys=True)
                if key in seen:
                    continue
                seen.add(key)
                expected = jsonschema_accepts(mutant, validation.EVENT_SCHEMA)
                assert predicate(mutant) == expected, mutant
                alone = {**mutant, "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]}
                assert root(alone) == jsonschema_accepts(alone), alone  # POST /events: the whole schema
                outcomes[expected] += 1
    # Both sides of the decision were exercised many times.
    assert outcomes[True] > 500 and outcomes[False] > 2000, outcomes


def test_fast_schema_agrees_on_mutated_envelopes():
    doc = load(EXAMPLES / "Example_9.6.1-ObjectEvent.jsonld")
    envelope = {**doc, "epcisBody": {"eventList": []}}
    root = parts().fast["#"]
    for mutant in mutants(envelope):
        assert root(mutant) == jsonschema_accepts(mutant), mutant


@pytest.mark.parametrize("path", sorted(INVALID.iterdir()), ids=lambda p: p.name)
def test_event_by_event_problems_equal_the_whole_document_pass(path, monkeypatch):
    doc = load(path)
    fast = validation.validate_document(doc, now=NOW)
    whole = dataclasses.replace(parts(), events_separable=False)
    monkeypatch.setattr(validation, "_schema_parts", lambda: whole)
    slow = validation.validate_document(doc, now=NOW)
    assert fast and fast == slow


def test_a_refusal_by_the_fast_path_alone_still_refuses(monkeypatch):
    """Should fastjsonschema ever refuse what jsonschema accepts, the event is refused anyway
    (never accepted on the word of one of them), with a Chinese message."""
    doc = load(EXAMPLES / "Example_9.6.1-ObjectEvent.jsonld")
    assert validation.validate_document(doc, now=NOW) == []
    strict = dataclasses.replace(parts(), fast={pointer: lambda instance: False for pointer in parts().fast})
    monkeypatch.setattr(validation, "_schema_parts", lambda: strict)
    problems = validation.validate_document(doc, now=NOW)
    codes = {(p.code, p.event_index) for p in problems}
    assert ("schema_violation", 0) in codes and ("schema_violation", 1) in codes
    assert all("EPCIS 2.0 JSON 模式" in p.message for p in problems)


def test_a_trailing_newline_is_refused_where_the_two_read_dollar_differently():
    """fastjsonschema reads a pattern's ``$`` as the end of the text, jsonschema (Python re) also
    before a final newline: the event is refused, and the offset rule says why."""
    event = copy.deepcopy(events_of(load(EXAMPLES / "Example_9.6.1-ObjectEvent.jsonld"))[0])
    changed = {**event, "eventTimeZoneOffset": "+08:00\n"}
    assert jsonschema_accepts(changed, validation.EVENT_SCHEMA)
    assert not parts().fast[validation.EVENT_SCHEMA](changed)
    alone = {**changed, "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]}
    codes = {p.code for p in validation.validate_event(alone, now=NOW)}
    assert "invalid_timezone_offset" in codes
    assert validation.validate_event({**alone, "eventTime": "2025-06-01T08:30:00Z\n"}, now=NOW)


def test_format_checks_stay_enforced_in_the_fast_schema():
    event = copy.deepcopy(events_of(load(EXAMPLES / "Example_9.6.1-ObjectEvent.jsonld"))[0])
    predicate = parts().fast[validation.EVENT_SCHEMA]
    assert predicate(event)
    assert not predicate({**event, "epcList": ["not a uri"]})
    assert not predicate({**event, "eventTime": "2025-02-30T08:30:00Z"})
    assert not predicate({**event, "readPoint": {"id": "relative/path"}})


def test_a_format_without_a_fast_check_is_refused_not_ignored():
    """fastjsonschema skips formats it does not know; compile_fast refuses to build instead."""
    with pytest.raises(ValueError, match="email"):
        validation.compile_fast({"definitions": {"x": {"type": "string", "format": "email"}}}, "#/definitions/x")


@pytest.mark.parametrize("uri", ["https://example.com/other-schema.json", "ftp://example.com/s.json",
                                 "file:///etc/passwd"])
def test_remote_references_are_never_fetched(uri):
    with pytest.raises(Exception, match="remote"):
        validation.compile_fast({"$ref": uri})


def test_the_fast_path_does_not_change_the_event():
    """fastjsonschema could write schema defaults into the instance; it must not (use_default=False)."""
    schema = {"type": "object", "properties": {"a": {"type": "integer", "default": 1}}}
    instance: dict = {}
    assert validation.compile_fast(schema)(instance) and instance == {}


@pytest.mark.django_db(transaction=True)
def test_a_concurrent_capture_of_the_same_event_stores_nothing(monkeypatch):
    """The event ID is stored by someone else between the repeat lookup and the write: the unique
    index refuses the write (also through COPY on PostgreSQL) and the job fails with nothing kept."""
    doc = load(EXAMPLES / "Example_9.6.1-ObjectEvent.jsonld")
    for n, event in enumerate(events_of(doc)):
        event["eventID"] = f"urn:uuid:00000000-0000-4000-8000-00000000000{n}"
    resolve = capture._resolve_locations

    def racing(events):
        EventIdentity.objects.create(event_id=events[1]["eventID"], stored_event_id=999_999,
                                     event_time=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
        return resolve(events)

    monkeypatch.setattr(capture, "_resolve_locations", racing)
    job = capture.capture_document(doc, now=NOW)
    assert job.status == CaptureJob.Status.FAILED
    assert [e["code"] for e in job.errors] == ["concurrent_capture"]
    assert not EpcisEvent.objects.exists() and not EventIdentifier.objects.exists()
    assert list(EventIdentity.objects.values_list("stored_event_id", flat=True)) == [999_999]


@pytest.mark.django_db
def test_stored_rows_refer_to_their_events():
    """Ids reserved before the write (COPY on PostgreSQL) or returned by it (elsewhere) tie each
    identity and identifier row to its own event."""
    doc = load(EXAMPLES / "Example_9.6.1-ObjectEvent.jsonld")
    job = capture.capture_document(doc, now=NOW)
    assert job.status == CaptureJob.Status.SUCCEEDED and job.captured_count == 2
    for event in EpcisEvent.objects.all():
        identity = EventIdentity.objects.get(event_id=event.event_id)
        assert identity.stored_event_id == event.pk and identity.event_time == event.event_time
        epcs = set(EventIdentifier.objects.filter(event_id=event.pk, role="epc").values_list("identifier",
                                                                                               flat=True))
        assert epcs == {capture._canonical(epc) for epc in event.document["epcList"]}
        assert event.document["eventID"] == event.event_id and event.job_id == job.pk


def test_fast_path_tells_equal_values_of_other_types_apart():
    """``1 == 1.0 == True`` in Python, but the schema tells integers, numbers and booleans apart: the fast
    path must answer as jsonschema does for each, asked once or again."""
    predicate = parts().fast[validation.EVENT_SCHEMA]
    event = events_of(load(EXAMPLES / "Example_9.6.1-ObjectEvent.jsonld"))[0]
    element = {"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "uom": "KGM"}
    for quantity in (1, True, 1.0, "1", 1, True, None, 2, False):
        mutant = {**event, "quantityList": [{**element, "quantity": quantity}]}
        for _ in range(2):
            assert predicate(mutant) == jsonschema_accepts(mutant, validation.EVENT_SCHEMA), quantity
    # A string refused in one field and accepted in another: each subschema remembers its own outcome.
    for field, value in (("bizStep", "not a uri"), ("eventID", "not a uri"), ("bizStep", "shipping"),
                         ("disposition", "shipping"), ("action", "shipping"), ("action", "ADD")):
        mutant = {**event, field: value}
        for _ in range(2):
            assert predicate(mutant) == jsonschema_accepts(mutant, validation.EVENT_SCHEMA), (field, value)
