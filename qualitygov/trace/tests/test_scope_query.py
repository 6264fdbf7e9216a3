"""Roles × endpoints of the trace query area (EPCIS 2.0 query interface at /api/v1/epcis/).

The official examples are captured with their locations tied to the ``registry`` fixture's entities
(南关区 220102, 朝阳区 220104, 延吉市 222401); what each role may see is written out from the rules:
province roles and the provincial data consumer everything, the 长春 city officer and inspector the
city (2201xx), a county officer its county, the enterprise user its own entity's events; lab staff have
no access to trace events (403) and anonymous callers are refused (401).
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from qualitygov.trace.tests.fixtures_store import capture_examples, current_rows

API_EXPECTATIONS: dict[str, str] = {
    "api:epcis:events": "GET: each role sees exactly the events of its region / entity (county officer its county, "
                        "city officer the city, enterprise its entity, province all); lab 403; anonymous 401",
    "api:epcis:event-types": "GET: signed-in roles allowed to view events 200; lab 403; anonymous 401",
    "api:epcis:event-type-events": "same scope as events, with eventType from the path; anonymous 401",
    "api:epcis:epc-events": "an EPC of another region answers an empty list to a county officer; anonymous 401",
    "api:epcis:biz-step-events": "same scope as events with EQ_bizStep; anonymous 401",
    "api:epcis:biz-location-events": "a location of another county: empty list for the county officer; anonymous 401",
    "api:epcis:read-point-events": "same scope as events with EQ_readPoint; anonymous 401",
    "api:epcis:disposition-events": "same scope as events with EQ_disposition; anonymous 401",
}

ROLES = ("admin", "province", "changchun", "nanguan", "yanji", "inspector", "lab", "enterprise", "consumer")
# Region code prefix each officer's scope covers (GB/T 2260 is hierarchical).
REGION_OF = {"admin": "22", "province": "22", "consumer": "22", "changchun": "2201", "inspector": "2201",
             "nanguan": "220102", "yanji": "222401"}


@pytest.fixture
def store(registry):
    capture_examples(registry)
    rows = current_rows()
    assert {row.region_code for row in rows} == {"220102", "220104", "222401"}
    return rows


def client_for(users, username=None) -> APIClient:
    client = APIClient()
    if username:
        client.force_authenticate(users[username])
    return client


def visible(rows, registry, username) -> list[str]:
    if username == "enterprise":
        entity = registry["nanguan"]["entity"].pk
        return [row.document["eventID"] for row in rows if row.entity_id == entity]
    return [row.document["eventID"] for row in rows if row.region_code.startswith(REGION_OF[username])]


def answered(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [e["eventID"] for e in response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]


def test_each_role_sees_its_own_events(store, users, registry):
    problems = []
    for username in ROLES:
        response = client_for(users, username).get(reverse("api:epcis:events"), {"perPage": 1000})
        if username == "lab":
            if response.status_code != 403:
                problems.append((username, response.status_code))
            continue
        expected = visible(store, registry, username)
        assert expected, username
        if answered(response) != expected:
            problems.append((username, len(answered(response)), len(expected)))
    assert not problems
    # The scopes really differ: a county sees less than its city, the city less than the province.
    assert len(visible(store, registry, "nanguan")) < len(visible(store, registry, "changchun")) < len(store)


def _path(name: str, value: str) -> str:
    return reverse(f"api:epcis:{name}", args=["VALUE"]).replace("VALUE", quote(value, safe=""))


def test_resource_paths_keep_the_scope(store, users, registry):
    for name, value, column in (("event-type-events", "ObjectEvent", "event_type"),
                                ("biz-step-events", "receiving", "biz_step"),
                                ("disposition-events", "in_progress", "disposition"),
                                ("read-point-events", "urn:epc:id:sgln:0614141.07346.1234", "read_point")):
        for username in ("nanguan", "yanji", "enterprise", "changchun"):
            allowed = set(visible(store, registry, username))
            wanted = [row.document["eventID"] for row in store if row.document["eventID"] in allowed
                      and getattr(row, column) == _stored(column, value)]
            assert answered(client_for(users, username).get(_path(name, value), {"perPage": 1000})) == wanted


def _stored(column: str, value: str) -> str:
    from qualitygov.trace import identifiers

    return identifiers.normalise(value) if column == "read_point" else value


def test_other_county_gets_an_empty_answer_for_an_epc_and_location(store, users):
    region_of = {row.document["eventID"]: row.region_code for row in store}
    for name, value in (("epc-events", "urn:epc:id:sgtin:9520001.012346.10000001001"),
                        ("biz-location-events", "urn:epc:id:sgln:0012345.11111.0")):
        everything = answered(client_for(users, "province").get(_path(name, value)))
        assert everything, name
        empty_for = []
        for county in ("nanguan", "yanji"):
            mine = answered(client_for(users, county).get(_path(name, value)))
            assert mine == [i for i in everything if region_of[i] == REGION_OF[county]]
            empty_for += [county] if not mine else []
        assert empty_for, f"{name}: the data must hold an identifier another county does not see"


def test_event_types_roles(db, users):
    for username in ROLES:
        response = client_for(users, username).get(reverse("api:epcis:event-types"))
        assert response.status_code == (403 if username == "lab" else 200), username


@pytest.mark.parametrize("name", sorted(API_EXPECTATIONS))
def test_anonymous_is_401(db, name):
    url = reverse(name) if name in ("api:epcis:events", "api:epcis:event-types") else _path(name.split(":")[-1],
                                                                                            "ObjectEvent")
    response = APIClient().get(url)
    assert response.status_code == 401
