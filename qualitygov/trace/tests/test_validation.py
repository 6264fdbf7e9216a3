"""EPCIS 2.0 capture validation, checked against GS1's official examples and schema
(../shared/reference/epcis, GitHub gs1/EPCIS @ 2b888bef) and one rule at a time."""

import copy
import datetime as dt
import json
import socket
from pathlib import Path

import pytest
from referencing.exceptions import Unresolvable

from qualitygov.core.api import exception_handler
from qualitygov.trace import validation as v

REFERENCE = Path(__file__).resolve().parents[4] / "shared" / "reference" / "epcis"
EXAMPLES = REFERENCE / "examples"
INVALID = REFERENCE / "examples_invalid"
NOT_CAPTURABLE = {"EPCISQueryDocument.jsonld", "XML__WithEventHashID__event_with_identical_hash_id_7.json"}
# A fixed "now" after every example's event time, so the future-time rule is deterministic.
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
COMMISSIONED_EPC = "urn:epc:id:sgtin:0614141.107346.1001"
UNKNOWN_EPC = "urn:epc:id:sgtin:0614141.107346.1002"


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def object_doc() -> dict:
    """Official Example 9.6.1 (two ObjectEvents), to be changed one field at a time."""
    return load(EXAMPLES / "Example_9.6.1-ObjectEvent.jsonld")


def document_with(*events: dict) -> dict:
    doc = object_doc()
    doc["epcisBody"]["eventList"] = list(events)
    return doc


def first_event() -> dict:
    return copy.deepcopy(object_doc()["epcisBody"]["eventList"][0])


def aggregation(action: str, **fields) -> dict:
    event = {
        "type": "AggregationEvent",
        "eventTime": "2025-03-02T10:00:00+08:00",
        "eventTimeZoneOffset": "+08:00",
        "parentID": "urn:epc:id:sscc:0614141.1234567890",
        "childEPCs": [COMMISSIONED_EPC, UNKNOWN_EPC],
        "action": action,
        "bizStep": "packing",
    }
    event.update(fields)
    return {k: val for k, val in event.items() if val is not None}


def commissioning(epc: str, when: str) -> dict:
    return {
        "type": "ObjectEvent",
        "eventTime": when,
        "eventTimeZoneOffset": "+08:00",
        "epcList": [epc],
        "action": "ADD",
        "bizStep": "commissioning",
        "disposition": "active",
    }


def codes_at(problems) -> set[tuple]:
    return {(p.code, p.event_index, p.field) for p in problems}


def only(problems, code: str):
    found = [p for p in problems if p.code == code]
    assert len(found) == 1, [p.as_dict() for p in problems]
    return found[0]


# ------------------------------------------------------------------ official examples


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.iterdir() if p.name not in NOT_CAPTURABLE))
def test_official_example_is_accepted(name):
    doc = load(EXAMPLES / name)
    assert v.validate_document(doc, now=NOW) == []
    assert v.validate_capture(doc, now=NOW) == []


def test_examples_folder_holds_the_files_this_test_expects():
    # A new reference file must be classified here, not silently skipped.
    names = {p.name for p in EXAMPLES.iterdir()}
    assert NOT_CAPTURABLE <= names
    assert len(names) == 24


def test_query_document_is_not_a_capture_payload():
    problems = v.validate_capture(load(EXAMPLES / "EPCISQueryDocument.jsonld"), now=NOW)
    problem = only(problems, "not_epcis_document")
    assert (problem.field, problem.event_index) == ("/type", None)
    assert "EPCISQueryDocument" in problem.message


def test_xml_style_urn_vocabulary_example_is_refused_per_field():
    doc = load(EXAMPLES / "XML__WithEventHashID__event_with_identical_hash_id_7.json")
    problems = v.validate_document(doc, now=NOW)
    assert {p.code for p in problems} == {"cbv_urn_in_json"}
    # This event has no eventID: the problems still say which event (index 0).
    assert {(p.event_index, p.event_id) for p in problems} == {(0, None)}
    assert {p.field for p in problems} == {
        "/bizStep", "/disposition", "/persistentDisposition/set/0", "/persistentDisposition/unset/0",
        "/bizTransactionList/0/type", "/sourceList/0/type", "/sourceList/1/type", "/sourceList/2/type",
        "/destinationList/0/type", "/destinationList/1/type", "/destinationList/2/type",
    }
    biz_step = next(p for p in problems if p.field == "/bizStep")
    assert biz_step.pointer == "/epcisBody/eventList/0/bizStep"
    assert "urn:epcglobal:cbv:bizstep:receiving" in biz_step.message and "“receiving”" in biz_step.message


# file → (code, event index, field, words the message must contain)
INVALID_EXPECTATIONS = {
    "aggregation_add_without_children.jsonld": ("aggregation_children_missing", 0, "/childEPCs", ["childEPCs"]),
    "document_missing_context.jsonld": ("missing_field", None, "/@context", ["@context"]),
    "document_missing_schemaVersion.jsonld": ("missing_field", None, "/schemaVersion", ["schemaVersion"]),
    "objectevent_bad_action_enum.jsonld": ("value_not_allowed", 0, "/action", ["action", "UPDATE", "OBSERVE"]),
    "objectevent_bad_eventTime.jsonld": ("invalid_datetime", 0, "/eventTime", ["eventTime", "2005-13-40 25:61"]),
    "objectevent_missing_action.jsonld": ("missing_field", 0, "/action", ["action"]),
    "objectevent_unprefixed_extension_field.jsonld": (
        "extension_field_not_namespaced", 0, "/unknownField", ["unknownField", "@context"]),
    "objectevent_urn_bizstep_in_json.jsonld": (
        "cbv_urn_in_json", 0, "/bizStep", ["bizStep", "urn:epcglobal:cbv:bizstep:shipping", "“shipping”"]),
}


def test_every_invalid_reference_file_has_an_expectation():
    assert {p.name for p in INVALID.iterdir()} == set(INVALID_EXPECTATIONS)


@pytest.mark.parametrize("name", sorted(INVALID_EXPECTATIONS))
def test_invalid_reference_file_is_refused_naming_event_and_field(name):
    doc = load(INVALID / name)
    code, index, field, words = INVALID_EXPECTATIONS[name]
    problems = v.validate_document(doc, now=NOW)
    assert (code, index, field) in codes_at(problems), [p.as_dict() for p in problems]
    problem = next(p for p in problems if (p.code, p.event_index, p.field) == (code, index, field))
    for word in words:
        assert word in problem.message
    if index is None:
        assert problem.pointer == field and problem.event_id is None
    else:
        assert problem.pointer == f"/epcisBody/eventList/{index}{field}"
        assert problem.event_id == doc["epcisBody"]["eventList"][index]["eventID"]
    # Event-level messages name the field relative to the event, not the document path.
    assert "epcisBody.eventList" not in problem.message
    # The other, untouched event of the document is not blamed (except for what the change implies).
    blamed = {p.event_index for p in problems}
    assert blamed <= {index, 1} if name == "document_missing_context.jsonld" else blamed == {index}


def test_missing_context_also_leaves_extension_prefix_undefined():
    problems = v.validate_document(load(INVALID / "document_missing_context.jsonld"), now=NOW)
    problem = only(problems, "extension_prefix_undefined")
    assert (problem.event_index, problem.field) == (1, "/example:myField")


# ------------------------------------------------------------------ schema handling


def test_format_checker_enforces_uri():
    checker = v.format_checker()
    assert not checker.conforms("not a uri", "uri")
    assert not checker.conforms("unknownField", "uri")
    assert checker.conforms("urn:epc:id:sgtin:0614141.107346.2017", "uri")
    assert checker.conforms("https://id.gs1.org/01/70614141123451/21/2017", "uri")


def test_non_uri_identifier_is_refused():
    doc = object_doc()
    doc["epcisBody"]["eventList"][0]["readPoint"]["id"] = "sgln 0614141 07346"
    problems = v.validate_document(doc, now=NOW)
    assert codes_at(problems) == {("invalid_uri", 0, "/readPoint/id")}
    assert "sgln 0614141 07346" in problems[0].message


def test_date_time_format_is_checked_without_optional_dependency():
    checker = v.format_checker()
    assert checker.conforms("2025-06-01T08:30:00.000+08:00", "date-time")
    assert checker.conforms("2013-06-08T14:58:56.591Z", "date-time")
    assert not checker.conforms("2025-02-30T08:30:00Z", "date-time")
    assert not checker.conforms("2025-06-01 08:30:00+08:00", "date-time")
    assert not checker.conforms("2025-06-01T08:30:00", "date-time")


def test_wrong_type_names_field_and_expected_type():
    doc = object_doc()
    doc["epcisBody"]["eventList"][1]["epcList"] = "urn:epc:id:sgtin:0614141.107346.2018"
    problems = v.validate_document(doc, now=NOW)
    problem = next(p for p in problems if p.code == "wrong_type")
    assert (problem.event_index, problem.field) == (1, "/epcList")
    assert "epcList" in problem.message and "数组" in problem.message


def test_schema_is_loaded_once_and_never_fetched(monkeypatch):
    assert v.schema_validator() is v.schema_validator()

    def no_network(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    v.schema_validator.cache_clear()
    try:
        assert v.validate_document(load(EXAMPLES / "Example_9.6.4-TransformationEvent.jsonld"), now=NOW) == []
        remote = v.schema_validator().evolve(schema={"$ref": "https://example.com/other-schema.json"})
        with pytest.raises(Unresolvable):
            remote.validate({})
    finally:
        v.schema_validator.cache_clear()


def test_standard_prefixes_match_the_epcis_context():
    context = load(REFERENCE / "context" / "epcis-context.jsonld")["@context"]
    prefixes = {k for k, val in context.items() if isinstance(val, str) and val.endswith(("/", "#", ":"))}
    assert prefixes == v.STANDARD_CONTEXT_PREFIXES


# ------------------------------------------------------------------ future event time


def test_event_time_within_tolerance_is_accepted_and_beyond_is_refused():
    tolerance_edge = NOW + v.FUTURE_TOLERANCE
    on_edge, beyond = first_event(), first_event()
    on_edge["eventTime"] = tolerance_edge.isoformat()
    # Same instant written in China time: 20:06 +08:00 is 12:06 UTC, one minute past the tolerance.
    beyond["eventTime"] = (tolerance_edge + dt.timedelta(minutes=1)).astimezone(
        dt.timezone(dt.timedelta(hours=8))).isoformat()
    problems = v.validate_document(document_with(on_edge, beyond), now=NOW)
    assert codes_at(problems) == {("event_time_in_future", 1, "/eventTime")}
    assert "5" in problems[0].message


def test_future_time_rule_follows_now_and_tolerance():
    event = first_event()
    event["eventTime"] = "2025-01-01T00:10:00Z"
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    assert [p.code for p in v.check_event_time(event, now=start)] == ["event_time_in_future"]
    assert v.check_event_time(event, now=start, tolerance=dt.timedelta(minutes=15)) == []
    assert v.check_event_time(event, now=start + dt.timedelta(minutes=5)) == []


def test_future_declaration_time_is_refused():
    event = first_event()
    event["errorDeclaration"] = {"declarationTime": (NOW + dt.timedelta(hours=1)).isoformat()}
    problems = v.validate_document(document_with(event), now=NOW)
    assert codes_at(problems) == {("event_time_in_future", 0, "/errorDeclaration/declarationTime")}


def test_now_must_be_aware():
    with pytest.raises(ValueError):
        v.validate_document(object_doc(), now=dt.datetime(2026, 1, 1))


# ------------------------------------------------------------------ eventTimeZoneOffset


def test_missing_timezone_offset_is_one_clear_problem():
    event = first_event()
    del event["eventTimeZoneOffset"]
    problems = v.validate_document(document_with(event), now=NOW)
    assert codes_at(problems) == {("timezone_offset_missing", 0, "/eventTimeZoneOffset")}
    assert "eventTimeZoneOffset" in problems[0].message


@pytest.mark.parametrize("offset", ["+8:00", "08:00", "+14:30", "+15:00", "UTC+8"])
def test_malformed_timezone_offset_is_refused(offset):
    event = first_event()
    event["eventTimeZoneOffset"] = offset
    problems = v.validate_document(document_with(event), now=NOW)
    assert codes_at(problems) == {("invalid_timezone_offset", 0, "/eventTimeZoneOffset")}
    assert offset in problems[0].message


@pytest.mark.parametrize("offset", ["+08:00", "-14:00", "+14:00", "+05:45"])
def test_well_formed_timezone_offset_is_accepted(offset):
    event = first_event()
    event["eventTimeZoneOffset"] = offset
    assert v.check_timezone_offset(event) == []
    assert v.validate_document(document_with(event), now=NOW) == []


# ------------------------------------------------------------------ CBV URNs in JSON


def test_cbv_urn_disposition_and_transaction_type_are_refused():
    event = first_event()
    event["disposition"] = "urn:epcglobal:cbv:disp:in_transit"
    event["bizTransactionList"][0]["type"] = "urn:epcglobal:cbv:btt:po"
    problems = v.check_cbv_urns(event)
    assert {(p.code, p.field) for p in problems} == {
        ("cbv_urn_in_json", "/disposition"), ("cbv_urn_in_json", "/bizTransactionList/0/type")}


def test_bare_words_web_vocabulary_and_cbv_identifiers_are_accepted():
    event = first_event()
    event["bizStep"] = "https://ref.gs1.org/cbv/BizStep-shipping"
    # A business transaction *identifier* in CBV URN form is not a vocabulary word: allowed.
    event["bizTransactionList"][0]["bizTransaction"] = "urn:epcglobal:cbv:bt:0614141073467:1152"
    assert v.check_cbv_urns(event) == []
    assert v.validate_document(document_with(event), now=NOW) == []


def test_cbv_urn_error_reason_is_refused():
    event = first_event()
    event["errorDeclaration"] = {"declarationTime": "2025-01-01T00:00:00Z", "reason": "urn:epcglobal:cbv:er:did_not_occur"}
    problems = v.validate_document(document_with(event), now=NOW)
    assert codes_at(problems) == {("cbv_urn_in_json", 0, "/errorDeclaration/reason")}


# ------------------------------------------------------------------ AggregationEvent


@pytest.mark.parametrize("action", ["ADD", "DELETE"])
def test_aggregation_add_or_delete_needs_parent(action):
    problems = v.validate_document(document_with(aggregation(action, parentID=None)), now=NOW)
    assert codes_at(problems) == {("aggregation_parent_missing", 0, "/parentID")}
    assert action in problems[0].message and "parentID" in problems[0].message


def test_aggregation_observe_without_parent_is_accepted():
    assert v.validate_document(document_with(aggregation("OBSERVE", parentID=None)), now=NOW) == []


def test_aggregation_add_needs_children_but_delete_does_not():
    problems = v.validate_document(document_with(aggregation("ADD", childEPCs=None)), now=NOW)
    assert codes_at(problems) == {("aggregation_children_missing", 0, "/childEPCs")}
    assert v.validate_document(document_with(aggregation("DELETE", childEPCs=None)), now=NOW) == []


def test_aggregation_with_quantities_only_is_accepted():
    event = aggregation("ADD", childEPCs=None, childQuantityList=[
        {"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": 200.5, "uom": "KGM"}])
    assert v.validate_document(document_with(event), now=NOW) == []


# ------------------------------------------------------------------ commissioning before aggregation


def test_uncommissioned_child_is_refused_when_repository_does_not_know_it():
    doc = document_with(commissioning(COMMISSIONED_EPC, "2025-03-01T09:00:00+08:00"), aggregation("ADD"))
    known = {"urn:epc:id:sgtin:0614141.107346.9999"}
    problems = v.validate_document(doc, now=NOW, known_commissioned=known.__contains__)
    assert codes_at(problems) == {("uncommissioned_child", 1, "/childEPCs/1")}
    assert UNKNOWN_EPC in problems[0].message


def test_child_known_to_repository_passes():
    doc = document_with(commissioning(COMMISSIONED_EPC, "2025-03-01T09:00:00+08:00"), aggregation("ADD"))
    asked = []

    def known(epc):
        asked.append(epc)
        return epc == UNKNOWN_EPC

    assert v.validate_document(doc, now=NOW, known_commissioned=known) == []
    # The child commissioned in the document is settled there, without asking the repository.
    assert asked == [UNKNOWN_EPC]


def test_child_commissioned_after_the_aggregation_is_refused_even_without_repository():
    doc = document_with(aggregation("ADD"), commissioning(COMMISSIONED_EPC, "2025-03-03T09:00:00+08:00"))
    problems = v.validate_document(doc, now=NOW)
    assert codes_at(problems) == {("uncommissioned_child", 0, "/childEPCs/0")}


def test_without_repository_unmentioned_children_are_not_judged():
    doc = document_with(aggregation("ADD"))
    assert v.validate_document(doc, now=NOW) == []
    assert v.check_commissioned(aggregation("ADD"), lambda epc: False)[0].field == "/childEPCs/0"


def test_only_aggregation_add_is_subject_to_commissioning():
    for action in ("OBSERVE", "DELETE"):
        assert v.check_commissioned(aggregation(action), lambda epc: False) == []


def test_commissioned_epcs_keeps_earliest_time():
    found = v.commissioned_epcs([
        commissioning(COMMISSIONED_EPC, "2025-03-01T12:00:00+08:00"),
        commissioning(COMMISSIONED_EPC, "2025-03-01T09:00:00+08:00"),
        {**commissioning(UNKNOWN_EPC, "2025-03-01T09:00:00+08:00"), "bizStep": "shipping"},
    ])
    assert found == {COMMISSIONED_EPC: dt.datetime(2025, 3, 1, 1, 0, tzinfo=dt.UTC)}


# ------------------------------------------------------------------ error declarations and event IDs


def test_error_declaration_without_declaration_time_is_one_problem():
    event = first_event()
    event["errorDeclaration"] = {"reason": "incorrect_data"}
    problems = v.validate_document(document_with(event), now=NOW)
    assert codes_at(problems) == {("declaration_time_missing", 0, "/errorDeclaration/declarationTime")}


@pytest.mark.parametrize("bad", [
    "ni:///sha-256;87b5f18a?ver=CBV2.0",
    "urn:uuid:not-a-uuid",
    "corrective event 1",
])
def test_malformed_corrective_event_id_is_refused(bad):
    event = first_event()
    event["errorDeclaration"] = {
        "declarationTime": "2021-02-01T22:46:31Z",
        "correctiveEventIDs": ["urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6", bad],
    }
    problems = v.validate_document(document_with(event), now=NOW)
    assert codes_at(problems) == {("invalid_corrective_event_id", 0, "/errorDeclaration/correctiveEventIDs/1")}
    assert bad in problems[0].message


def test_malformed_event_id_is_refused():
    event = first_event()
    event["eventID"] = "ni:///sha-256;XYZ?ver=CBV2.0"
    problems = v.validate_document(document_with(event), now=NOW)
    assert codes_at(problems) == {("invalid_event_id", 0, "/eventID")}


def test_declaration_before_event_and_self_correction_are_refused():
    event = first_event()
    event["errorDeclaration"] = {"declarationTime": "2005-04-01T00:00:00Z", "correctiveEventIDs": [event["eventID"]]}
    problems = v.check_error_declaration(event)
    assert {(p.code, p.field) for p in problems} == {
        ("declaration_before_event", "/errorDeclaration/declarationTime"),
        ("corrective_event_is_self", "/errorDeclaration/correctiveEventIDs/0"),
    }


# ------------------------------------------------------------------ extension fields


def test_extension_with_undefined_prefix_is_refused():
    event = first_event()
    event["acme:batchNote"] = "x"
    problems = v.validate_document(document_with(event), now=NOW)
    problem = only(problems, "extension_prefix_undefined")
    assert (problem.event_index, problem.field) == (0, "/acme:batchNote")
    assert "acme" in problem.message


def test_extension_prefix_defined_in_event_context_or_absolute_iri_is_accepted():
    event = first_event()
    event["@context"] = [{"acme": "https://acme.example.cn/epcis/"}]
    event["acme:batchNote"] = "x"
    event["https://acme.example.cn/epcis/other"] = "y"
    assert v.validate_document(document_with(event), now=NOW) == []


def test_unprefixed_key_inside_extension_or_ilmd_is_refused():
    event = first_event()
    event["example:myField"] = {"example:inner": {"colour": "red"}}
    problems = v.check_extension_fields(event, v.context_terms(object_doc()["@context"]))
    assert [(p.code, p.field) for p in problems] == [
        ("extension_field_not_namespaced", "/example:myField/example:inner/colour")]
    adding = {**first_event(), "action": "ADD", "ilmd": {"cbvmda:lotNumber": "L1", "lot": "L1"}}
    problems = v.validate_document(document_with(adding), now=NOW)
    assert codes_at(problems) == {("extension_field_not_namespaced", 0, "/ilmd/lot")}


def test_ilmd_only_with_add():
    event = {**first_event(), "ilmd": {"cbvmda:lotNumber": "L1"}}
    problems = v.validate_document(document_with(event), now=NOW)
    assert codes_at(problems) == {("ilmd_requires_add", 0, "/ilmd")}
    assert "OBSERVE" in problems[0].message


# ------------------------------------------------------------------ single events and errors


def single_event() -> dict:
    event = first_event()
    event["@context"] = object_doc()["@context"]
    return event


def test_single_event_is_validated_on_its_own():
    assert v.validate_event(single_event(), now=NOW) == []
    assert v.validate_capture(single_event(), now=NOW) == []


def test_single_event_without_context_is_refused():
    event = single_event()
    del event["@context"]
    problems = v.validate_capture(event, now=NOW)
    assert ("missing_field", 0, "/@context") in codes_at(problems)
    assert {p.event_id for p in problems} == {event["eventID"]}


def test_single_event_problem_fields_are_relative_to_the_event():
    event = single_event()
    event["action"] = "UPDATE"
    problems = v.validate_event(event, now=NOW)
    assert [(p.code, p.field, p.pointer, p.event_index) for p in problems] == [
        ("value_not_allowed", "/action", "/action", 0)]


def test_document_posted_as_event_and_non_object_payloads_are_refused():
    assert [p.code for p in v.validate_event(object_doc(), now=NOW)] == ["not_an_event"]
    assert [p.code for p in v.validate_capture([single_event()], now=NOW)] == ["invalid_payload"]
    assert [p.code for p in v.validate_document("{}", now=NOW)] == ["invalid_payload"]


def test_object_event_without_what_names_the_alternatives():
    event = first_event()
    del event["epcList"]
    problems = v.validate_document(document_with(event), now=NOW)
    assert codes_at(problems) == {("one_of_fields_missing", 0, "/epcList")}
    assert problems[0].message.startswith("该事件") and "quantityList" in problems[0].message


def test_unknown_event_type_must_be_a_uri():
    event = {**first_event(), "type": "ShippingEvent"}
    problems = v.validate_document(document_with(event), now=NOW)
    assert ("invalid_uri", 0, "/type") in codes_at(problems)


def test_raise_if_invalid_gives_a_400_with_code_and_pointers():
    v.raise_if_invalid([])
    problems = v.validate_document(load(INVALID / "objectevent_bad_action_enum.jsonld"), now=NOW)
    with pytest.raises(v.EpcisValidationError) as caught:
        v.raise_if_invalid(problems)
    assert caught.value.code == "epcis_invalid"
    assert caught.value.problems == problems
    response = exception_handler(caught.value, {})
    assert response.status_code == 400
    error = response.data["error"]
    assert error["code"] == "epcis_invalid"
    assert error["details"] == {"/epcisBody/eventList/0/action": [problems[0].message]}
    assert problems[0].as_dict()["event_id"].startswith("ni:///sha-256;df7bb3c3")
