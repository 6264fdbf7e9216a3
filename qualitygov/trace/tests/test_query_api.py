"""The EPCIS 2.0 query API (REST bindings) at /api/v1/epcis/: the EPCISQueryDocument and its headers,
paging through the Link header, the resource paths equal to their /events equivalents, and refusals as
RFC 7807 problems with the bindings' exception types."""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import quote, urlsplit

import pytest
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from qualitygov.trace import identifiers
from qualitygov.trace.tests.fixtures_store import capture_examples, current_rows

EVENTS = "/api/v1/epcis/events"


@pytest.fixture
def store(registry):
    capture_examples(registry)
    return current_rows()


@pytest.fixture
def api(users):
    client = APIClient()
    client.force_authenticate(users["admin"])
    return client


def event_list(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]


def all_pages(client, url: str) -> list[dict]:
    events = []
    while url:
        response = client.get(url)
        events += event_list(response)
        link = response.headers.get("Link", "")
        match = re.match(r'^<([^>]+)>; rel="next"$', link)
        url = match.group(1) if match else ""
    return events


def test_url_names():
    assert reverse("api:epcis:events") == EVENTS
    assert reverse("api:epcis:event-types") == "/api/v1/epcis/eventTypes"
    assert reverse("api:epcis:epc-events", args=["urn:epc:id:sgtin:0614141.107346.2017"]) == (
        "/api/v1/epcis/epcs/urn:epc:id:sgtin:0614141.107346.2017/events")


def test_query_document_and_headers(store, api):
    response = api.get(EVENTS, {"perPage": 1000})
    assert response.status_code == 200
    document = response.json()
    assert document["type"] == "EPCISQueryDocument" and document["schemaVersion"] == "2.0"
    assert document["@context"] and parse_datetime(document["creationDate"].replace("Z", "+00:00"))
    results = document["epcisBody"]["queryResults"]
    assert results["queryName"] == "SimpleEventQuery"
    assert results["resultsBody"]["eventList"] == [row.document for row in store]
    assert response.headers["GS1-EPCIS-Version"] == "2.0.0" and response.headers["GS1-CBV-Version"] == "2.0.0"
    assert "Link" not in response.headers  # one page holds everything


def test_default_page_size_and_link_paging(store, api):
    first = api.get(EVENTS, {"perPage": 5, "EQ_bizStep": "receiving|shipping"})
    assert len(event_list(first)) == 5
    link = re.match(r'^<([^>]+)>; rel="next"$', first.headers["Link"]).group(1)
    query = urlsplit(link).query
    assert set(dict(part.split("=", 1) for part in query.split("&"))) == {"perPage", "nextPageToken"}
    assert encoded(first.headers["GS1-Next-Page-Token"]) in link and first.headers["GS1-Next-Page-Token-Expires"]
    wanted = [row.document["eventID"] for row in store if row.biz_step in ("receiving", "shipping")]
    assert [e["eventID"] for e in all_pages(api, f"{EVENTS}?perPage=5&EQ_bizStep=receiving%7Cshipping")] == wanted
    # Without perPage the bindings' default of 30 applies.
    assert len(event_list(api.get(EVENTS))) == min(30, len(store))


def encoded(value: str) -> str:
    return quote(value, safe="")


@pytest.mark.parametrize(("name", "parameter", "value"), [
    ("event-type-events", "eventType", "ObjectEvent"),
    ("event-type-events", "eventType", "AggregationEvent"),
    ("epc-events", "MATCH_anyEPC", "urn:epc:id:sgtin:0614141.107346.2018"),
    ("epc-events", "MATCH_anyEPC", "https://id.gs1.org/01/10614141073464/21/2018"),
    ("epc-events", "MATCH_anyEPC", "urn:epc:id:sscc:0614141.1234567890"),
    ("biz-step-events", "EQ_bizStep", "receiving"),
    ("biz-step-events", "EQ_bizStep", "https://ref.gs1.org/cbv/BizStep-shipping"),
    ("biz-location-events", "EQ_bizLocation", "urn:epc:id:sgln:0012345.11111.0"),
    ("read-point-events", "EQ_readPoint", "urn:epc:id:sgln:0614141.07346.1234"),
    ("read-point-events", "EQ_readPoint", "https://id.gs1.org/414/0614141073467/254/1234"),
    ("disposition-events", "EQ_disposition", "in_transit"),
])
def test_resource_paths_equal_their_events_query(store, api, name, parameter, value):
    path = reverse(f"api:epcis:{name}", args=["VALUE"]).replace("VALUE", encoded(value))
    via_path = all_pages(api, f"{path}?perPage=3")
    via_events = all_pages(api, f"{EVENTS}?perPage=3&{parameter}={encoded(value)}")
    assert via_path and via_path == via_events
    assert len(via_path) < len(store)
    # Further parameters combine with the one the path implies.
    narrowed = all_pages(api, f"{path}?EQ_action=OBSERVE")
    assert narrowed == [e for e in via_events if e.get("action") == "OBSERVE"]


def test_digital_link_path_with_merged_slashes(store, api):
    """A proxy that merges "//" must not break a Digital Link in the path."""
    link = identifiers.normalise("urn:epc:id:sgtin:0614141.107346.2018")
    merged = link.replace("https://", "https:/")
    assert event_list(api.get(f"/api/v1/epcis/epcs/{merged}/events")) == event_list(
        api.get(EVENTS, {"MATCH_anyEPC": link}))


def test_path_parameter_cannot_be_repeated_in_the_query(store, api):
    response = api.get("/api/v1/epcis/eventTypes/ObjectEvent/events", {"eventType": "AggregationEvent"})
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"parameter": ["eventType"]}


def test_event_types(db, api):
    body = api.get(reverse("api:epcis:event-types")).json()
    assert body["type"] == "Collection"
    assert set(body["member"]) == {"ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent",
                                   "AssociationEvent"}


@pytest.mark.parametrize(("query", "parameter"), [
    ({"GE_eventTime": "2025-13-01T00:00:00Z"}, "GE_eventTime"),
    ({"EQ_action": "ADD|REMOVE"}, "EQ_action"),
    ({"MATCH_epc": "urn:epc:id:sgtin:123"}, "MATCH_epc"),
    ({"nextPageToken": "abc"}, "nextPageToken"),
    ({"WD_readPoint": "urn:epc:id:sgln:0012345.11111.0"}, "WD_readPoint"),
])
def test_bad_parameters_are_rfc7807_problems(store, api, query, parameter):
    response = api.get(EVENTS, query)
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == "epcisException:QueryParameterException" and body["status"] == 400
    assert body["error"]["code"] == "QueryParameterException"
    assert body["error"]["details"] == {"parameter": [parameter]}
    assert body["title"] == body["error"]["message"] and re.search(r"[\u4e00-\u9fff]", body["title"])


def test_tampered_token_is_400(store, api):
    token = api.get(EVENTS, {"perPage": 2}).headers["GS1-Next-Page-Token"]
    response = api.get(EVENTS, {"perPage": 2, "nextPageToken": token[:-1] + ("x" if token[-1] != "x" else "y")})
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"parameter": ["nextPageToken"]}


def test_too_many_events_is_413(store, api):
    response = api.get(EVENTS, {"maxEventCount": 1})
    assert response.status_code == 413
    assert response.json()["type"] == "epcisException:QueryTooLargeException"



def test_a_page_costs_a_fixed_number_of_queries(store, users, django_assert_max_num_queries):
    client = APIClient()
    client.force_authenticate(users["nanguan"])
    with django_assert_max_num_queries(3):  # forced authentication: no login queries, the page is one query
        small = client.get(EVENTS, {"perPage": 2, "MATCH_anyEPC": "urn:epc:idpat:sgtin:0614141.107346.*"})
    with django_assert_max_num_queries(3):
        large = client.get(EVENTS, {"perPage": 1000, "EQ_bizStep": "receiving|shipping|commissioning"})
    assert small.status_code == large.status_code == 200 and len(event_list(large)) > 2


# --- one event by its ID (GET /events/{eventID}) ------------------------------------------------------


def event_url(event_id: str) -> str:
    return reverse("api:epcis:event-detail", args=["VALUE"]).replace("VALUE", encoded(event_id))


def test_each_event_by_its_id_equals_the_eq_event_id_query(store, api):
    """Hash IDs (ni:///sha-256;…?ver=CBV2.0) and urn:uuid IDs alike, URL-encoded, answer the one event
    in the state GET /events?EQ_eventID= gives (an error declaration included)."""
    kinds = Counter(row.event_id.split(":", 1)[0] for row in store)
    assert kinds["ni"] and kinds["urn"], kinds
    for row in store:
        response = api.get(event_url(row.event_id))
        assert response.status_code == 200, (row.event_id, response.content)
        document = response.json()
        assert document["type"] == "EPCISQueryDocument"
        assert event_list(response) == event_list(api.get(EVENTS, {"EQ_eventID": row.event_id})) == [row.document]
        assert response.headers["GS1-EPCIS-Version"] == "2.0.0"
    assert any("errorDeclaration" in row.document for row in store)


def test_hash_id_with_an_unencoded_question_mark_or_merged_slashes(store, api):
    row = next(row for row in store if row.event_id.startswith("ni:///") and "?" in row.event_id)
    before, _sep, after = row.event_id.partition("?")
    # The client encoded the ID but left its "?" as is: the rest arrives as the query string.
    response = api.get(event_url(before) + "?" + after)
    assert event_list(response) == [row.document]
    # A proxy that merges "//" turns ni:/// into ni:/.
    merged = "/api/v1/epcis/events/" + row.event_id.replace("ni:///", "ni:/").replace("?", "%3F")
    assert event_list(api.get(merged)) == [row.document]


@pytest.mark.parametrize("event_id", ["ni:///sha-256;0000000000000000000000000000000000000000000000000000000000000000"
                                      "?ver=CBV2.0", "urn:uuid:00000000-0000-4000-8000-000000000000", "nothing"])
def test_unknown_event_is_a_404_problem(store, api, event_id):
    response = api.get(event_url(event_id))
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert (body["type"], body["status"]) == ("epcisException:NoSuchNameException", 404)
    assert body["error"]["code"] == "NoSuchNameException" and re.search(r"[\u4e00-\u9fff]", body["title"])
