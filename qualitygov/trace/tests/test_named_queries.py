"""Named queries of the EPCIS 2.0 REST bindings at /api/v1/epcis/queries: a definition is validated by
the parser GET /events uses, kept under a unique name, listed and read back as created, deleted by its
creator, and its events are exactly what GET /events answers for the same parameters, page by page.
Subscriptions are not supported (501). Role and region scope: test_scope_query.py."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from qualitygov.trace.models import NamedQuery
from qualitygov.trace.tests.fixtures_store import capture_examples, current_rows

EVENTS = "/api/v1/epcis/events"
QUERIES = "/api/v1/epcis/queries"


@pytest.fixture
def store(registry):
    capture_examples(registry)
    return current_rows()


@pytest.fixture
def api(users):
    client = APIClient()
    client.force_authenticate(users["admin"])
    return client


def create(client, body, content_type="application/json"):
    return client.generic("POST", QUERIES, json.dumps(body).encode(), content_type=content_type)


def event_list(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]


def next_link(response) -> str:
    match = re.match(r'^<([^>]+)>; rel="next"$', response.headers.get("Link", ""))
    return match.group(1) if match else ""


def all_pages(client, url: str, params: dict | None = None) -> list[dict]:
    events, response = [], client.get(url, params)
    while True:
        events += event_list(response)
        url = next_link(response)
        if not url:
            return events
        response = client.get(url)


def named_events_url(name: str) -> str:
    return reverse("api:epcis:query-events", args=["NAME"]).replace("NAME", quote(name, safe=""))


def problem(response, status: int, exception: str, parameter: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert (body["type"], body["status"], body["error"]["code"]) == (f"epcisException:{exception}", status, exception)
    assert re.search(r"[\u4e00-\u9fff]", body["title"]), body["title"]  # Chinese by default
    if parameter is not None:
        assert body["error"]["details"] == {"parameter": [parameter]}
    return body


def test_url_names():
    assert reverse("api:epcis:queries") == QUERIES
    assert reverse("api:epcis:query-detail", args=["q1"]) == f"{QUERIES}/q1"
    assert reverse("api:epcis:query-events", args=["q1"]) == f"{QUERIES}/q1/events"


def test_define_read_list_and_delete(store, api, users):
    definition = {"name": "出货与收货", "query": {"EQ_bizStep": ["shipping", "receiving"], "eventType": ["ObjectEvent"]}}
    response = create(api, definition)
    assert response.status_code == 201, response.content
    location = response.headers["Location"]
    assert location.endswith(f"{QUERIES}/{quote('出货与收货', safe='')}")
    assert api.get(location).json() == definition
    assert api.get(QUERIES).json() == [definition]
    stored = NamedQuery.objects.get()
    assert (stored.created_by, stored.created_by_key, stored.entity) == (users["admin"], None, None)
    assert api.delete(location).status_code == 204
    problem(api.get(location), 404, "NoSuchNameException")
    problem(api.get(named_events_url("出货与收货")), 404, "NoSuchNameException")
    assert api.get(QUERIES).json() == [] and not NamedQuery.objects.exists()


def test_query_name_is_read_as_name(store, api):
    response = create(api, {"queryName": "byAction", "query": {"EQ_action": ["ADD"]}})
    assert response.status_code == 201
    assert api.get(f"{QUERIES}/byAction").json() == {"name": "byAction", "query": {"EQ_action": ["ADD"]}}


# Named query (JSON, query-schema.json) → the same query as GET /events parameters.
EQUIVALENT = [
    ({"EQ_bizStep": ["shipping", "receiving"]}, {"EQ_bizStep": "shipping|receiving"}),
    ({"eventType": ["AggregationEvent", "TransformationEvent"], "EQ_action": ["ADD", "OBSERVE"]},
     {"eventType": "AggregationEvent|TransformationEvent", "EQ_action": "ADD|OBSERVE"}),
    ({"MATCH_anyEPC": ["urn:epc:idpat:sgtin:0614141.107346.*"]},
     {"MATCH_anyEPC": "urn:epc:idpat:sgtin:0614141.107346.*"}),
    ({"EQ_readPoint": ["https://id.gs1.org/414/0614141073467/254/1234"]},
     {"EQ_readPoint": "urn:epc:id:sgln:0614141.07346.1234"}),
    ({"GE_eventTime": "2010-01-01T00:00:00+08:00", "orderBy": "eventTime", "orderDirection": "DESC"},
     {"GE_eventTime": "2010-01-01T00:00:00+08:00", "orderBy": "eventTime", "orderDirection": "DESC"}),
    ({"EXISTS_errorDeclaration": None}, {"EXISTS_errorDeclaration": ""}),
    ({"EQ_disposition": ["https://ref.gs1.org/cbv/Disp-in_progress"], "eventCountLimit": 3},
     {"EQ_disposition": "in_progress", "eventCountLimit": "3"}),
]


@pytest.mark.parametrize(("definition", "params"), EQUIVALENT)
def test_named_query_events_equal_the_events_query(store, api, definition, params):
    assert create(api, {"name": "q", "query": definition}).status_code == 201
    via_name = all_pages(api, named_events_url("q"), {"perPage": 2})
    via_events = all_pages(api, EVENTS, {**params, "perPage": 2})
    assert via_name == via_events
    assert 0 < len(via_name) < len(store), "the query must select some events but not all"
    first = api.get(named_events_url("q"))
    assert first.json()["epcisBody"]["queryResults"]["queryName"] == "q"


def test_paging_follows_the_link_and_refuses_a_token_of_another_query(store, api):
    create(api, {"name": "receiving", "query": {"EQ_bizStep": ["receiving"]}})
    create(api, {"name": "everything", "query": {}})
    first = api.get(named_events_url("everything"), {"perPage": 3})
    assert len(event_list(first)) == 3 and first.headers["GS1-Next-Page-Token-Expires"]
    link = next_link(first)
    assert link.split("?")[0].endswith(named_events_url("everything"))
    assert [e["eventID"] for e in all_pages(api, named_events_url("everything"), {"perPage": 3})] == [
        row.document["eventID"] for row in store]
    # A token of GET /events or of another named query does not continue this one.
    for foreign in (api.get(EVENTS, {"perPage": 1, "EQ_bizStep": "shipping"}),
                    api.get(named_events_url("receiving"), {"perPage": 1})):
        token = foreign.headers["GS1-Next-Page-Token"]
        problem(api.get(named_events_url("everything"), {"nextPageToken": token}), 400, "QueryParameterException",
                "nextPageToken")


@pytest.mark.parametrize(("body", "status", "exception", "parameter"), [
    ({"name": "q", "query": {"colour": ["red"]}}, 400, "QueryParameterException", "colour"),
    ({"name": "q", "query": {"EQ_bizStep": ["shipped"]}}, 400, "QueryParameterException", "EQ_bizStep"),
    ({"name": "q", "query": {"GE_eventTime": "yesterday"}}, 400, "QueryParameterException", "GE_eventTime"),
    ({"name": "q", "query": {"MATCH_epc": ["urn:epc:id:sgtin:0614141.107346"]}}, 400, "QueryParameterException",
     "MATCH_epc"),
    ({"name": "q", "query": {"EQ_action": [1]}}, 400, "QueryParameterException", "EQ_action"),
    ({"name": "q", "query": {"EQ_action": []}}, 400, "QueryParameterException", "EQ_action"),
    ({"name": "q", "query": {"WD_readPoint": ["urn:epc:id:sgln:0012345.11111.0"]}}, 400, "QueryParameterException",
     "WD_readPoint"),
    ({"name": "q", "query": {"perPage": 5}}, 400, "QueryParameterException", "perPage"),
    ({"name": "q", "query": {"maxEventCount": -1}}, 400, "QueryParameterException", "maxEventCount"),
    ({"name": "q", "query": ["EQ_action"]}, 400, "ValidationException", "query"),
    ({"name": "q"}, 400, "ValidationException", "query"),
    ({"query": {}}, 400, "ValidationException", "name"),
    ({"name": "a/b", "query": {}}, 400, "ValidationException", "name"),
    ({"name": "x" * 129, "query": {}}, 400, "ValidationException", "name"),
    ({"name": "q\n", "query": {}}, 400, "ValidationException", "name"),
    ({"name": "q", "queryName": "r", "query": {}}, 400, "ValidationException", "name"),
    ({"name": "q", "query": {}, "dest": "https://example.com/hook"}, 400, "ValidationException", "dest"),
    (["q"], 400, "ValidationException", None),
])
def test_bad_definitions_are_refused_and_nothing_is_kept(db, api, body, status, exception, parameter):
    problem(create(api, body), status, exception, parameter)
    assert not NamedQuery.objects.exists()


def test_not_json_is_refused(db, api):
    problem(api.generic("POST", QUERIES, b"name=q", content_type="application/x-www-form-urlencoded"), 415,
            "UnsupportedMediaTypeException")
    problem(api.generic("POST", QUERIES, b"{not json", content_type="application/json"), 400, "ValidationException")
    assert not NamedQuery.objects.exists()


def test_a_taken_name_is_409_and_keeps_the_first_definition(store, api, users):
    assert create(api, {"name": "q", "query": {"EQ_action": ["ADD"]}}).status_code == 201
    other = APIClient()
    other.force_authenticate(users["yanji"])
    problem(create(other, {"name": "q", "query": {"EQ_action": ["DELETE"]}}), 409, "ResourceAlreadyExistsException",
            "name")
    assert NamedQuery.objects.get().parameters == {"EQ_action": ["ADD"]}


def test_list_is_paged_by_name(db, api):
    names = [f"q{n:02d}" for n in range(7)]
    for name in reversed(names):
        assert create(api, {"name": name, "query": {"EQ_action": ["ADD"]}}).status_code == 201
    first = api.get(QUERIES, {"perPage": 3})
    assert [q["name"] for q in first.json()] == names[:3] and first.headers["GS1-Next-Page-Token-Expires"]
    seen, response = [], first
    while True:
        seen += [q["name"] for q in response.json()]
        if not next_link(response):
            break
        response = api.get(next_link(response))
    assert seen == names
    token = first.headers["GS1-Next-Page-Token"]
    problem(api.get(QUERIES, {"nextPageToken": token[:-2] + "xx"}), 400, "QueryParameterException", "nextPageToken")
    problem(api.get(QUERIES, {"perPage": "0"}), 400, "QueryParameterException", "perPage")
    problem(api.get(QUERIES, {"EQ_action": "ADD"}), 400, "QueryParameterException", "EQ_action")


def test_reading_events_takes_only_paging_parameters(store, api):
    create(api, {"name": "q", "query": {"EQ_action": ["ADD"]}})
    problem(api.get(named_events_url("q"), {"EQ_action": "DELETE"}), 400, "QueryParameterException", "EQ_action")
    problem(api.get(named_events_url("q"), {"perPage": "many"}), 400, "QueryParameterException", "perPage")


def test_a_stored_query_too_large_is_413(store, api):
    create(api, {"name": "q", "query": {"maxEventCount": 1}})
    problem(api.get(named_events_url("q")), 413, "QueryTooLargeException", "maxEventCount")


def test_subscriptions_are_not_supported(store, api):
    """WebSocket upgrades, the stream and schedule parameters and the webhook subscription resources
    answer 501 (ImplementationException); an unknown query is still 404."""
    create(api, {"name": "q", "query": {"EQ_action": ["ADD"]}})
    problem(api.get(named_events_url("q"), {"stream": "true"}), 501, "ImplementationException")
    problem(api.get(named_events_url("q"), {"minute": "5", "hour": "1"}), 501, "ImplementationException")
    problem(api.get(named_events_url("q"), HTTP_UPGRADE="websocket", HTTP_CONNECTION="Upgrade"), 501,
            "ImplementationException")
    subscriptions = reverse("api:epcis:query-subscriptions", args=["q"])
    hook = {"dest": "https://client.example.com/hook", "stream": True}
    problem(api.post(subscriptions, hook, format="json"), 501, "ImplementationException")
    problem(api.get(subscriptions), 501, "ImplementationException")
    problem(api.delete(reverse("api:epcis:query-subscription-detail", args=["q", "s1"])), 501, "ImplementationException")
    problem(api.get(reverse("api:epcis:query-subscriptions", args=["nope"])), 404, "NoSuchNameException")
    # Nothing was started: the query still answers plainly.
    assert event_list(api.get(named_events_url("q")))


def test_discovery_answers_the_methods_and_versions(store, api):
    create(api, {"name": "q", "query": {}})
    expected = {QUERIES: {"GET", "POST"}, f"{QUERIES}/q": {"GET", "DELETE"}, named_events_url("q"): {"GET"},
                "/api/v1/epcis/events/urn:uuid:x": {"GET"}}
    for url, methods in expected.items():
        response = api.options(url)
        assert response.status_code == 204, url
        assert set(response["Allow"].split(", ")) == methods | {"OPTIONS", "HEAD"}, url
        assert (response["GS1-EPCIS-Version"], response["GS1-EPCIS-Max"]) == ("2.0.0", "2.0.0")
        assert response["GS1-EPC-Format"] == "Never_Translates"  # events are answered as captured
    problem(api.options(reverse("api:epcis:query-subscriptions", args=["q"])), 501, "ImplementationException")
