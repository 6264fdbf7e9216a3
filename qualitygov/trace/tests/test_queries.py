"""The EPCIS 2.0 query service (trace.queries) on the official example documents, captured through
trace.capture: every parameter returns exactly the events the standard says it should, computed here
from the stored events' documents by a small reference reading of the standard, not from ids; paging
visits every event once in order; wrong parameters and tokens are refused naming the parameter."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from unittest import mock

import pytest
from django.core import signing
from django.http import QueryDict

from qualitygov.trace import identifiers, queries
from qualitygov.trace.models import EpcisEvent
from qualitygov.trace.tests.fixtures_store import CAPTURED_AT, capture_examples, current_rows

CBV_WEB = {"bizStep": "https://ref.gs1.org/cbv/BizStep-", "disposition": "https://ref.gs1.org/cbv/Disp-"}


@pytest.fixture
def store(registry):
    capture_examples(registry)
    rows = current_rows()
    assert len(rows) >= 20 and all(row.region_code for row in rows)
    return rows


def ask(user, params: dict | str, implied=None) -> list[dict]:
    """All events a query answers (every page followed), as documents."""
    text = params if isinstance(params, str) else "&".join(f"{k}={v}" for k, v in params.items())
    query = queries.parse_query(QueryDict(text, mutable=True), implied=implied)
    page = queries.run_query(query, user)
    documents = [event.document for event in page.events]
    while page.next_token:
        page = queries.run_query(queries.parse_query(QueryDict(f"nextPageToken={page.next_token}"), implied), user)
        documents += [event.document for event in page.events]
    return documents


def ids(documents) -> list[str]:
    return [document["eventID"] for document in documents]


def expect(rows, predicate) -> set[str]:
    found = {row.document["eventID"] for row in rows if predicate(row.document, row)}
    assert found and len(found) < len(rows), "the expectation must select some events but not all"
    return found


# --- a reference reading of the standard over one event document ---------------------------------


def canonical(value: str) -> str:
    try:
        return identifiers.normalise(value)
    except identifiers.IdentifierError:
        return value


def word(document: dict, field: str) -> str:
    value = document.get(field) or ""
    return value.removeprefix(CBV_WEB.get(field, "\0"))


def location(document: dict, field: str) -> str:
    return canonical((document.get(field) or {}).get("id", "")) if document.get(field) else ""


def epcs(document: dict, *fields: str) -> set[str]:
    found = set()
    for field in fields:
        value = document.get(field)
        if isinstance(value, str):
            found.add(canonical(value))
        elif isinstance(value, list):
            found |= {canonical(item["epcClass"] if isinstance(item, dict) else item) for item in value}
    return found


def event_time(document: dict) -> dt.datetime:
    return dt.datetime.fromisoformat(document["eventTime"])


EPC_FIELDS = {
    "MATCH_epc": ("epcList", "childEPCs"), "MATCH_parentID": ("parentID",), "MATCH_inputEPC": ("inputEPCList",),
    "MATCH_outputEPC": ("outputEPCList",),
    "MATCH_anyEPC": ("epcList", "childEPCs", "parentID", "inputEPCList", "outputEPCList"),
    "MATCH_epcClass": ("quantityList", "childQuantityList"),
    "MATCH_anyEPCClass": ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"),
}


def most_common(values) -> str:
    return Counter(v for v in values if v).most_common(1)[0][0]


# --- each parameter --------------------------------------------------------------------------------


def test_every_event_is_answered_by_event_time(store, users):
    assert ids(ask(users["admin"], {})) == [row.document["eventID"] for row in store]


@pytest.mark.parametrize("field", ["type", "action", "bizStep", "disposition"])
def test_equality_parameters(store, users, field):
    parameter = {"type": "eventType", "action": "EQ_action", "bizStep": "EQ_bizStep",
                 "disposition": "EQ_disposition"}[field]
    values = Counter(word(row.document, field) for row in store if word(row.document, field))
    first, second = [value for value, _count in values.most_common(2)]
    wanted = expect(store, lambda d, r: word(d, field) == first)
    assert set(ids(ask(users["admin"], {parameter: first}))) == wanted
    both = expect(store, lambda d, r: word(d, field) in (first, second))
    assert set(ids(ask(users["admin"], {parameter: f"{first}|{second}"}))) == both


@pytest.mark.parametrize(("parameter", "prefix", "urn"), [
    ("EQ_bizStep", "https://ref.gs1.org/cbv/BizStep-", "urn:epcglobal:cbv:bizstep:"),
    ("EQ_disposition", "https://ref.gs1.org/cbv/Disp-", "urn:epcglobal:cbv:disp:"),
])
def test_cbv_words_in_every_spelling(store, users, parameter, prefix, urn):
    field = "bizStep" if parameter == "EQ_bizStep" else "disposition"
    value = most_common(word(row.document, field) for row in store)
    bare = ids(ask(users["admin"], {parameter: value}))
    assert bare and ids(ask(users["admin"], {parameter: prefix + value})) == bare
    assert ids(ask(users["admin"], {parameter: urn + value})) == bare


def test_custom_biz_step_uri_matches_as_written(store, users):
    custom = next(row.document["bizStep"] for row in store if ":" in (row.document.get("bizStep") or "")
                  and not row.document["bizStep"].startswith("https://ref.gs1.org/"))
    assert ids(ask(users["admin"], {"EQ_bizStep": custom})) == [
        row.document["eventID"] for row in store if row.document.get("bizStep") == custom]


@pytest.mark.parametrize("field", ["readPoint", "bizLocation"])
def test_locations_in_urn_and_digital_link_form(store, users, field):
    parameter = f"EQ_{field}"
    written = most_common((row.document.get(field) or {}).get("id") for row in store)
    wanted = expect(store, lambda d, r: location(d, field) == canonical(written))
    assert set(ids(ask(users["admin"], {parameter: written}))) == wanted
    link = identifiers.normalise(written)
    assert set(ids(ask(users["admin"], {parameter: link}))) == wanted


@pytest.mark.parametrize("parameter", sorted(EPC_FIELDS))
def test_match_parameters(store, users, parameter):
    fields = EPC_FIELDS[parameter]
    written = most_common(value for row in store for field in fields
                          for value in _raw(row.document.get(field)))
    wanted = expect(store, lambda d, r: canonical(written) in epcs(d, *fields))
    assert set(ids(ask(users["admin"], {parameter: written}))) == wanted
    # The same identifier as a GS1 Digital Link (EPC URN and Digital Link are one key).
    assert set(ids(ask(users["admin"], {parameter: identifiers.normalise(written)}))) == wanted


def _raw(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item["epcClass"] if isinstance(item, dict) else item for item in value]
    return []


def test_match_gtin_pattern_finds_every_item_of_the_gtin(store, users):
    item = "urn:epc:id:sgtin:0614141.107346.2017"
    gtin = identifiers.parse_identifier(item).gtin
    pattern = "urn:epc:idpat:sgtin:0614141.107346.*"

    def has_gtin(document, _row):
        return any(identifiers.parse_identifier(v).gtin == gtin for f in EPC_FIELDS["MATCH_anyEPC"]
                   for v in _raw(document.get(f)) if v.startswith(("urn:epc:id:sgtin", "https://")))

    wanted = expect(store, has_gtin)
    found = set(ids(ask(users["admin"], {"MATCH_anyEPC": pattern})))
    assert found == wanted
    assert found > set(ids(ask(users["admin"], {"MATCH_anyEPC": item})))  # more than the one serial


def test_transformation_id(store, users):
    value = next(r.document["transformationID"] for r in store if r.document.get("transformationID"))
    wanted = expect(store, lambda d, r: d.get("transformationID") == value)
    other = "urn:epc:id:gdti:0614141.12345.999"
    assert set(ids(ask(users["admin"], {"EQ_transformationID": f"{value}|{other}"}))) == wanted


def test_event_id_and_error_declarations(store, users):
    two = [store[0].document["eventID"], store[-1].document["eventID"]]
    assert ids(ask(users["admin"], {"EQ_eventID": "|".join(two)})) == two
    declared = expect(store, lambda d, r: "errorDeclaration" in d)
    for value in ("", "true"):
        assert set(ids(ask(users["admin"], f"EXISTS_errorDeclaration={value}"))) == declared
    assert len(ask(users["admin"], {"EXISTS_errorDeclaration": "false"})) == len(store)
    reason = most_common(d.document["errorDeclaration"].get("reason") for d in store
                         if "errorDeclaration" in d.document)
    assert set(ids(ask(users["admin"], {"EQ_errorReason": reason}))) == {
        r.document["eventID"] for r in store if r.document.get("errorDeclaration", {}).get("reason") == reason}


def test_a_declaration_replaces_the_event_it_declares(registry, users):
    """The 9.6.1 example captured, then its error declaration (same eventID): the query answers the
    event once, with its errorDeclaration, and MATCH_epc still finds it."""
    import json

    from qualitygov.trace import capture
    from qualitygov.trace.tests.fixtures_store import EXAMPLES, make_locations

    make_locations(registry)
    document = json.loads((EXAMPLES / "Example_9.6.1-ObjectEvent.jsonld").read_text())
    capture.capture_document(document, now=CAPTURED_AT)
    declared = json.loads(json.dumps(document))
    declared["epcisBody"]["eventList"] = [declared["epcisBody"]["eventList"][0]]
    declared["epcisBody"]["eventList"][0]["errorDeclaration"] = {"declarationTime": "2025-01-01T00:00:00Z",
                                                                "reason": "incorrect_data"}
    capture.capture_document(declared, now=CAPTURED_AT + dt.timedelta(hours=1))
    assert EpcisEvent.objects.count() == 3
    answered = ask(users["admin"], {"MATCH_epc": "urn:epc:id:sgtin:0614141.107346.2017"})
    assert [d.get("errorDeclaration", {}).get("reason") for d in answered] == ["incorrect_data"]
    assert len(ask(users["admin"], {})) == 2


def test_time_windows(store, users):
    times = sorted({event_time(row.document) for row in store})
    middle = times[len(times) // 2]
    text = middle.isoformat()
    wanted = expect(store, lambda d, r: event_time(d) >= middle)
    assert set(ids(ask(users["admin"], {"GE_eventTime": text.replace("+", "%2B")}))) == wanted
    # A "+" left unencoded in a URL arrives as a space and still means the offset.
    shifted = middle.astimezone(dt.timezone(dt.timedelta(hours=8))).isoformat()
    assert set(ids(ask(users["admin"], f"GE_eventTime={shifted}"))) == wanted
    assert set(ids(ask(users["admin"], {"LT_eventTime": text.replace("+", "%2B")}))) == {
        r.document["eventID"] for r in store} - wanted
    record_cut = CAPTURED_AT + dt.timedelta(minutes=10)
    after = expect(store, lambda d, r: r.record_time >= record_cut)
    cut = record_cut.isoformat().replace("+", "%2B")
    assert set(ids(ask(users["admin"], f"GE_recordTime={cut}"))) == after
    assert set(ids(ask(users["admin"], f"LT_recordTime={cut}"))) == {r.document["eventID"] for r in store} - after


def test_parameters_combine_with_and(store, users):
    step = most_common(word(row.document, "bizStep") for row in store)
    action = most_common(row.document.get("action") for row in store if word(row.document, "bizStep") == step)
    wanted = expect(store, lambda d, r: word(d, "bizStep") == step and d.get("action") == action)
    assert set(ids(ask(users["admin"], {"EQ_bizStep": step, "EQ_action": action}))) == wanted


# --- order and paging --------------------------------------------------------------------------------


@pytest.mark.parametrize("per_page", [1, 4, 7])
def test_paging_visits_every_event_once_in_order(store, users, per_page):
    query = queries.parse_query(QueryDict(f"perPage={per_page}"))
    seen, pages = [], 0
    page = queries.run_query(query, users["admin"])
    while True:
        pages += 1
        assert len(page.events) <= per_page
        seen += [event.document["eventID"] for event in page.events]
        if not page.next_token:
            break
        page = queries.run_query(queries.parse_query(QueryDict(f"perPage={per_page}&nextPageToken="
                                                               f"{page.next_token}")), users["admin"])
    assert seen == [row.document["eventID"] for row in store]
    assert pages == -(-len(store) // per_page)


def test_order_by_descending_and_record_time(store, users):
    newest_first = ask(users["admin"], "orderBy=eventTime&perPage=3")
    assert [event_time(d) for d in newest_first] == sorted((event_time(r.document) for r in store), reverse=True)
    by_record = ask(users["admin"], "orderBy=recordTime&orderDirection=ASC&perPage=5")
    record_of = {r.document["eventID"]: r.record_time for r in store}
    assert [record_of[i] for i in ids(by_record)] == sorted(record_of.values())
    assert len(by_record) == len(store)


def test_paging_keeps_the_filter(store, users):
    step = most_common(word(row.document, "bizStep") for row in store)
    wanted = [row.document["eventID"] for row in store if word(row.document, "bizStep") == step]
    assert ids(ask(users["admin"], {"EQ_bizStep": step, "perPage": 2})) == wanted


def test_event_count_limit_and_max_event_count(store, users):
    limited = ask(users["admin"], "perPage=2&eventCountLimit=5")
    assert ids(limited) == [row.document["eventID"] for row in store][:5]
    with pytest.raises(queries.QueryError) as raised:
        queries.run_query(queries.parse_query(QueryDict(f"maxEventCount={len(store) - 1}")), users["admin"])
    assert (raised.value.exception, raised.value.status) == ("QueryTooLargeException", 413)
    assert len(ask(users["admin"], f"maxEventCount={len(store)}")) == len(store)


# --- refusals ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "parameter"), [
    ("GE_eventTime=yesterday", "GE_eventTime"),
    ("LT_recordTime=2025-01-01T00:00:00", "LT_recordTime"),  # no offset
    ("EQ_action=ADDED", "EQ_action"),
    ("eventType=ThingEvent", "eventType"),
    ("EQ_bizStep=shipped", "EQ_bizStep"),
    ("EQ_disposition=https://ref.gs1.org/cbv/Disp-lost", "EQ_disposition"),
    ("MATCH_epc=urn:epc:id:sgtin:0614141.107346", "MATCH_epc"),
    ("MATCH_anyEPC=not-an-epc", "MATCH_anyEPC"),
    ("MATCH_anyEPC=https://example.com/01/12345678901234/21/1", "MATCH_anyEPC"),  # bad GTIN check digit
    ("MATCH_epc=a||b", "MATCH_epc"),
    ("perPage=0", "perPage"),
    ("perPage=many", "perPage"),
    ("orderBy=bizStep", "orderBy"),
    ("orderBy=eventTime&orderDirection=UP", "orderDirection"),
    ("EXISTS_errorDeclaration=maybe", "EXISTS_errorDeclaration"),
    ("EQ_quantity=5", "EQ_quantity"),
    ("colour=red", "colour"),
    ("EQ_action=ADD&EQ_action=DELETE", "EQ_action"),
])
def test_bad_parameters_are_refused_naming_the_parameter(db, users, text, parameter):
    with pytest.raises(queries.QueryError) as raised:
        queries.run_query(queries.parse_query(QueryDict(text)), users["admin"])
    error = raised.value
    assert (error.parameter, error.exception, error.status) == (parameter, "QueryParameterException", 400)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error.message)


def test_tampered_foreign_and_expired_tokens_are_refused(store, users):
    page = queries.run_query(queries.parse_query(QueryDict("perPage=2&EQ_action=OBSERVE")), users["admin"])
    token = page.next_token
    assert token
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    forged = signing.dumps({"p": {}, "k": ["2000-01-01T00:00:00+00:00", 1], "n": 0}, salt="another-salt")
    for bad in (tampered, "garbage", forged):
        with pytest.raises(queries.QueryError) as raised:
            queries.parse_query(QueryDict(f"nextPageToken={bad}"))
        assert raised.value.parameter == "nextPageToken"
    # The token carries its query; a different condition alongside it is refused.
    with pytest.raises(queries.QueryError):
        queries.parse_query(QueryDict(f"nextPageToken={token}&EQ_action=ADD"))
    assert queries.parse_query(QueryDict(f"nextPageToken={token}&EQ_action=OBSERVE")).params == {"EQ_action": "OBSERVE"}
    with pytest.raises(queries.QueryError) as raised:
        queries.parse_query(QueryDict(f"nextPageToken={token}"), implied={"eventType": "ObjectEvent"})
    # A day later the token has expired (the signature's timestamp is checked against the clock).
    later = time.time() + queries.TOKEN_MAX_AGE.total_seconds() + 60
    with mock.patch("django.core.signing.time.time", return_value=later), \
            pytest.raises(queries.QueryError) as raised:
        queries.parse_query(QueryDict(f"nextPageToken={token}"))
    assert raised.value.parameter == "nextPageToken" and "过期" in raised.value.message


def test_private_identifiers_match_as_written_and_large_pages_are_capped(registry, users, settings):
    """An identifier that is not a GS1 key (a private URN or web URI) is kept and matched as written."""
    from qualitygov.trace import capture
    from qualitygov.trace.tests.fixtures_store import make_locations

    make_locations(registry)
    events = [{"type": "ObjectEvent", "action": "OBSERVE", "eventTime": f"2025-06-0{n}T08:00:00+08:00",
               "eventTimeZoneOffset": "+08:00", "epcList": [epc], "bizStep": "shipping",
               "readPoint": {"id": "urn:epc:id:sgln:0614141.07346.0"}}
              for n, epc in ((1, "urn:example:item:42"), (2, "https://items.example.com/box/7"),
                             (3, "urn:example:item:43"))]
    document = {"@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"], "type": "EPCISDocument",
                "schemaVersion": "2.0", "creationDate": "2025-06-04T00:00:00Z", "epcisBody": {"eventList": events}}
    job = capture.capture_document(document, now=CAPTURED_AT)
    assert job.captured_count == 3, job.errors
    for epc in ("urn:example:item:42", "https://items.example.com/box/7"):
        assert [d["epcList"] for d in ask(users["admin"], {"MATCH_epc": epc})] == [[epc]]
    settings.MAX_PAGE_SIZE = 2
    page = queries.run_query(queries.parse_query(QueryDict("perPage=500")), users["admin"])
    assert len(page.events) == 2 and page.next_token
