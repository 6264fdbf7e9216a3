"""EPCIS 2.0 capture into the store (``trace.capture``), checked with GS1's official examples
(../shared/reference/epcis, GitHub gs1/EPCIS @ 2b888bef) and small documents built from them."""

import copy
import datetime as dt
import json
from pathlib import Path

import pytest

from qualitygov.trace import capture, eventhash, identifiers
from qualitygov.trace.models import CaptureJob, EpcisEvent, EventIdentifier, EventIdentity, Location

REFERENCE = Path(__file__).resolve().parents[4] / "shared" / "reference" / "epcis"
EXAMPLES = REFERENCE / "examples"
INVALID = REFERENCE / "examples_invalid"
NOT_CAPTURABLE = {"EPCISQueryDocument.jsonld", "XML__WithEventHashID__event_with_identical_hash_id_7.json"}
CAPTURABLE = sorted(p.name for p in EXAMPLES.iterdir() if p.name not in NOT_CAPTURABLE)
REFUSED = [*sorted(p.name for p in INVALID.iterdir()), "XML__WithEventHashID__event_with_identical_hash_id_7.json"]
# After every example's event time, so the future-time rule does not depend on the clock.
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
EPC_URN = "urn:epc:id:sgtin:0614141.107346.2018"
EPC_LINK = "https://dl.example.cn/01/10614141073464/21/2018"  # the same item, another host
CANONICAL = "https://id.gs1.org/01/10614141073464/21/2018"


def load(name: str) -> dict:
    folder = INVALID if (INVALID / name).exists() else EXAMPLES
    return json.loads((folder / name).read_text(encoding="utf-8"))


def events_of(doc: dict) -> list[dict]:
    return doc["epcisBody"]["eventList"]


def document_with(*events: dict) -> dict:
    doc = load("Example_9.6.1-ObjectEvent.jsonld")
    doc["epcisBody"]["eventList"] = [copy.deepcopy(e) for e in events]
    return doc


def object_event(epc: str = EPC_URN, **fields) -> dict:
    event = {"type": "ObjectEvent", "eventTime": "2025-03-02T10:00:00+08:00", "eventTimeZoneOffset": "+08:00",
             "epcList": [epc], "action": "OBSERVE", "bizStep": "shipping", "disposition": "in_transit"}
    event.update(fields)
    return event


def commissioning(epc: str, when: str = "2025-03-01T10:00:00+08:00", **fields) -> dict:
    return object_event(epc, eventTime=when, action="ADD", bizStep="commissioning", disposition="active", **fields)


def aggregation(children: list[str]) -> dict:
    return {"type": "AggregationEvent", "eventTime": "2025-03-02T12:00:00+08:00", "eventTimeZoneOffset": "+08:00",
            "parentID": "urn:epc:id:sscc:0614141.1234567890", "childEPCs": children, "action": "ADD",
            "bizStep": "packing"}


def stored_count() -> int:
    return EpcisEvent.objects.count()


def test_example_lists_are_what_this_test_expects():
    assert len(CAPTURABLE) == 22 and len(REFUSED) == 9


@pytest.mark.django_db
@pytest.mark.parametrize("name", CAPTURABLE)
def test_official_example_is_captured_with_its_hashes(name):
    doc = load(name)
    job = capture.capture_document(doc, now=NOW)
    assert job.status == CaptureJob.Status.SUCCEEDED, job.errors
    events = events_of(doc)
    assert job.event_count == job.captured_count == stored_count() == EventIdentity.objects.count() == len(events)
    hashes = eventhash.hash_document(doc)
    rows = {row.event_hash: row for row in EpcisEvent.objects.all()}
    assert set(rows) == set(hashes)
    for event, event_hash in zip(events, hashes, strict=True):
        row = rows[event_hash]
        # Without an eventID the hash ID is the event's ID (and written into the stored event).
        assert row.event_id == event.get("eventID", event_hash) == row.document["eventID"]
        assert row.record_time == NOW
        assert row.job_id == job.id
        assert row.has_error_declaration == ("errorDeclaration" in event)


@pytest.mark.django_db
@pytest.mark.parametrize("name", REFUSED)
def test_invalid_document_is_refused_naming_event_and_field_and_nothing_is_stored(name):
    job = capture.capture_document(load(name), now=NOW)
    assert job.status == CaptureJob.Status.FAILED
    assert job.errors and all(e["message"] and "pointer" in e for e in job.errors)
    per_event = [e for e in job.errors if e["event_index"] is not None]
    if name not in ("document_missing_context.jsonld", "document_missing_schemaVersion.jsonld"):
        assert per_event and all(e["field"] and e["pointer"].startswith("/epcisBody/eventList/") for e in per_event)
    assert stored_count() == EventIdentity.objects.count() == EventIdentifier.objects.count() == 0
    assert job.captured_count == 0


@pytest.mark.django_db
def test_capturing_twice_counts_duplicates_and_stores_nothing_twice():
    doc = load("Example-TransactionEvents-2020_07_03y.jsonld")  # events without eventID: hash IDs
    first = capture.capture_document(doc, now=NOW)
    identifiers_after_first = EventIdentifier.objects.count()
    second = capture.capture_document(doc, now=NOW)
    assert (first.captured_count, first.duplicate_count) == (2, 0)
    assert (second.status, second.captured_count, second.duplicate_count) == (CaptureJob.Status.SUCCEEDED, 0, 2)
    assert stored_count() == 2 and EventIdentifier.objects.count() == identifiers_after_first


@pytest.mark.django_db
def test_repeat_inside_one_document_is_a_duplicate():
    event = object_event()
    job = capture.capture_document(document_with(event, event), now=NOW)
    assert (job.captured_count, job.duplicate_count, stored_count()) == (1, 1, 1)


@pytest.mark.django_db
def test_rollback_stores_nothing_of_a_mixed_document():
    bad = object_event("urn:epc:id:sgtin:0614141.107346.2019", action="WRONG")
    job = capture.capture_document(document_with(object_event(), bad), now=NOW)
    assert job.status == CaptureJob.Status.FAILED and stored_count() == 0
    assert {(e["event_index"], e["field"]) for e in job.errors} == {(1, "/action")}


@pytest.mark.django_db
def test_proceed_stores_the_valid_events_and_reports_the_invalid_ones():
    bad = object_event("urn:epc:id:sgtin:0614141.107346.2019", action="WRONG")
    job = capture.capture_document(document_with(object_event(), bad), error_behaviour="proceed", now=NOW)
    assert job.status == CaptureJob.Status.PARTIAL
    assert (job.event_count, job.captured_count) == (2, 1)
    assert [e["event_index"] for e in job.errors] == [1]
    assert list(EpcisEvent.objects.values_list("document__epcList", flat=True)) == [[EPC_URN]]


@pytest.mark.django_db
def test_aggregation_of_an_uncommissioned_child_is_refused():
    job = capture.capture_document(document_with(aggregation([EPC_URN])), now=NOW)
    assert job.status == CaptureJob.Status.FAILED and stored_count() == 0
    assert [(e["code"], e["field"]) for e in job.errors] == [("uncommissioned_child", "/childEPCs/0")]


@pytest.mark.django_db
def test_aggregation_of_a_child_commissioned_in_the_store_is_accepted_in_either_spelling():
    assert capture.capture_document(document_with(commissioning(EPC_URN)), now=NOW).status == "succeeded"
    # The child is named as a Digital Link now: the store's canonical index recognises it.
    job = capture.capture_document(document_with(aggregation([EPC_LINK])), now=NOW)
    assert job.status == CaptureJob.Status.SUCCEEDED, job.errors
    child = EventIdentifier.objects.get(role=EventIdentifier.Role.CHILD)
    assert child.identifier == CANONICAL


@pytest.mark.django_db
def test_urn_and_digital_link_of_one_item_give_one_identifier():
    capture.capture_document(document_with(object_event(EPC_URN), object_event(EPC_LINK, bizStep="receiving")),
                             now=NOW)
    values = list(EventIdentifier.objects.filter(role="epc").values_list("identifier", flat=True))
    assert values == [identifiers.normalise(EPC_URN)] * 2 == [CANONICAL] * 2
    # The documents keep what was written.
    assert sorted(e.document["epcList"][0] for e in EpcisEvent.objects.all()) == sorted([EPC_URN, EPC_LINK])


@pytest.mark.django_db
def test_identifier_roles_quantities_and_sources_are_indexed():
    doc = load("WithFullCombinationOfFields__object_event_all_possible_fields.jsonld")
    capture.capture_document(doc, now=NOW)
    event = events_of(doc)[0]
    rows = list(EventIdentifier.objects.all())
    by_role = {}
    for row in rows:
        by_role.setdefault(row.role, []).append(row)
    assert len(by_role["epc"]) == len(event["epcList"])
    assert len(by_role["quantity"]) == len(event["quantityList"])
    first_quantity = event["quantityList"][0]
    q = next(r for r in by_role["quantity"] if r.identifier == identifiers.normalise(first_quantity["epcClass"]))
    assert float(q.quantity) == float(first_quantity["quantity"]) and q.uom == first_quantity.get("uom", "")
    # A class-level identifier is its own class.
    assert q.class_key == q.identifier
    kinds = {(r.kind, r.identifier) for r in by_role["source"]}
    assert {(s["type"], identifiers.normalise(s["source"])) for s in event["sourceList"]} == kinds
    assert len(by_role["destination"]) == len(event["destinationList"])
    assert all(r.event_time == EpcisEvent.objects.get().event_time for r in rows)


@pytest.mark.django_db
def test_ilmd_lot_number_gives_instance_epcs_their_class():
    event = commissioning(EPC_URN, ilmd={"cbvmda:lotNumber": "LOT7"})
    capture.capture_document(document_with(event), now=NOW)
    row = EventIdentifier.objects.get(role="epc")
    assert row.class_key == "https://id.gs1.org/01/10614141073464/10/LOT7"
    # Without ilmd an SGTIN URN has no lot: no class.
    capture.capture_document(document_with(object_event("urn:epc:id:sgtin:0614141.107346.3000")), now=NOW)
    assert EventIdentifier.objects.get(identifier__endswith="/21/3000").class_key == ""


@pytest.mark.django_db
def test_error_declaration_of_a_stored_event_is_a_separate_row():
    original = object_event(eventID="urn:uuid:5a1c8a3b-07d2-4c69-9d58-3d4d3f7d9a11")
    capture.capture_document(document_with(original), now=NOW)
    declared = dict(original, errorDeclaration={"declarationTime": "2025-04-01T10:00:00+08:00",
                                                "reason": "incorrect_data",
                                                "correctiveEventIDs": ["urn:uuid:5a1c8a3b-07d2-4c69-9d58-3d4d3f7d9a12"]})
    job = capture.capture_document(document_with(declared), now=NOW)
    assert (job.status, job.captured_count, job.duplicate_count) == ("succeeded", 1, 0)
    rows = list(EpcisEvent.objects.order_by("id"))
    assert [r.has_error_declaration for r in rows] == [False, True]
    assert rows[0].event_id == rows[1].event_id and rows[1].event_time == rows[0].event_time
    assert rows[1].error_declaration["reason"] == "incorrect_data"
    identity = EventIdentity.objects.get()
    assert identity.stored_event_id == rows[0].pk  # still unique, still the original
    assert EventIdentifier.objects.filter(event_id=rows[1].pk).count() == 0
    assert capture.declarations([original["eventID"]])[original["eventID"]].pk == rows[1].pk
    # Declaring the same again is a repeat.
    again = capture.capture_document(document_with(declared), now=NOW)
    assert (again.captured_count, again.duplicate_count, stored_count()) == (0, 1, 2)


@pytest.mark.django_db
def test_a_declaration_of_a_different_event_under_a_stored_id_is_refused():
    """The official examples reuse one eventID for a TransformationEvent (error-declaration example)
    and an ObjectEvent with a declaration (all-fields example): the second names a stored event but
    is not it, so it is refused instead of replacing that event in queries."""
    first = capture.capture_document(load("WithErrorDeclaration__ErrorDeclarationAndCorrectiveEvent.jsonld"), now=NOW)
    assert first.status == "succeeded"
    before = stored_count()
    job = capture.capture_document(load("WithFullCombinationOfFields__object_event_all_possible_fields.jsonld"),
                                   now=NOW)
    problem = next(p for p in job.errors if p["code"] == "declaration_mismatch")
    assert job.status == "failed" and problem["field"] == "/eventID" and "已存储" in problem["message"]
    assert stored_count() == before
    # Alone, in an empty store, the same document is captured.
    EventIdentifier.objects.all().delete()
    EventIdentity.objects.all().delete()
    EpcisEvent.objects.all().delete()
    again = capture.capture_document(load("WithFullCombinationOfFields__object_event_all_possible_fields.jsonld"),
                                     now=NOW)
    assert again.status == "succeeded"


@pytest.fixture
def located(registry):
    nanguan = registry["nanguan"]["entity"]
    return Location.objects.create(gln="0614141000005", entity=nanguan, name="长春仓", region_id="220102")


@pytest.mark.django_db
def test_region_comes_from_the_biz_location_gln(located, registry):
    from qualitygov.core.models import User
    from qualitygov.trace.keys import issue

    enterprise = User.objects.get(username="enterprise")
    key, _secret = issue(registry["yanji"]["entity"], "ERP", user=_member_of(enterprise, registry, "yanji"))
    here = object_event(bizLocation={"id": "urn:epc:id:sgln:0614141.00000.0"})
    elsewhere = object_event("urn:epc:id:sgtin:0614141.107346.4000", bizLocation={"id": "urn:epc:id:sgln:0614141.99999.0"})
    capture.capture_document(document_with(here, elsewhere), key=key, now=NOW)
    by_epc = {e.document["epcList"][0]: e for e in EpcisEvent.objects.all()}
    assert (by_epc[EPC_URN].entity_id, by_epc[EPC_URN].region_code) == (located.entity_id, "220102")
    # No known location: the capturing key's entity and its region.
    other = by_epc["urn:epc:id:sgtin:0614141.107346.4000"]
    assert (other.entity_id, other.region_code) == (registry["yanji"]["entity"].pk, "222401")
    assert by_epc[EPC_URN].biz_location == "https://id.gs1.org/414/0614141000005"


def _member_of(user, registry, name):
    from qualitygov.registry.models import EntityMembership

    EntityMembership.objects.filter(user=user).update(entity=registry[name]["entity"])
    user.refresh_from_db()
    return user


@pytest.mark.django_db
def test_capture_limit_is_enforced(settings):
    settings.EPCIS_CAPTURE_LIMIT = 1
    with pytest.raises(capture.CaptureTooLarge) as caught:
        capture.capture_document(document_with(object_event(), object_event(EPC_LINK)), now=NOW)
    assert caught.value.code == "capture_limit_exceeded" and stored_count() == 0


@pytest.mark.django_db
def test_future_event_time_follows_now():
    event = object_event(eventTime="2026-06-01T12:30:00Z", eventTimeZoneOffset="+00:00")
    assert capture.capture_document(document_with(event), now=NOW).status == "failed"
    later = NOW + dt.timedelta(hours=1)
    assert capture.capture_document(document_with(event), now=later).status == "succeeded"


@pytest.mark.django_db
def test_bizstep_is_stored_as_the_cbv_word():
    event = object_event(bizStep="https://ref.gs1.org/cbv/BizStep-receiving")
    capture.capture_document(document_with(event), now=NOW)
    assert EpcisEvent.objects.get().biz_step == "receiving"


@pytest.mark.django_db
def test_single_event_capture():
    event = dict(object_event(), **{"@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"]})
    job = capture.capture_event(event, now=NOW)
    assert (job.status, job.captured_count) == ("succeeded", 1)
    assert capture.capture_event(event, now=NOW).duplicate_count == 1
    assert capture.capture_event(dict(event, action="X"), now=NOW).status == "failed"
    assert stored_count() == 1


@pytest.mark.django_db
def test_index_rows_refer_to_their_stored_events():
    doc = load("WithFullCombinationOfFields__transformation_event_all_possible_fields.jsonld")
    capture.capture_document(doc, now=NOW)
    event = EpcisEvent.objects.get()
    # bulk_create returned the ids (also on PostgreSQL's partitioned table) and the index uses them.
    assert EventIdentity.objects.get().stored_event_id == event.pk
    assert set(EventIdentifier.objects.values_list("event_id", flat=True)) == {event.pk}
    roles = set(EventIdentifier.objects.values_list("role", flat=True))
    assert {"input", "output", "input_quantity", "output_quantity"} <= roles


def many(count: int, start: int) -> dict:
    return document_with(*[object_event(f"urn:epc:id:sgtin:0614141.107346.{start + n}") for n in range(count)])


@pytest.mark.django_db
def test_storage_is_set_based_queries_do_not_grow_with_events():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        capture.capture_document(many(3, 10_000), now=NOW)
    with CaptureQueriesContext(connection) as large:
        capture.capture_document(many(300, 20_000), now=NOW)
    assert stored_count() == 303 and EventIdentifier.objects.count() == 303
    assert len(large.captured_queries) == len(small.captured_queries)


@pytest.mark.django_db
def test_a_document_is_not_an_event_and_an_event_not_a_document():
    doc = document_with(object_event())
    as_event = capture.capture_event(doc, now=NOW)
    assert as_event.status == "failed" and [e["code"] for e in as_event.errors] == ["not_an_event"]
    event = dict(object_event(), **{"@context": doc["@context"]})
    for behaviour in ("rollback", "proceed"):
        as_document = capture.capture_document(event, error_behaviour=behaviour, now=NOW)
        assert as_document.status == "failed" and as_document.errors[0]["code"] == "not_epcis_document"
    assert stored_count() == 0
