"""Roles × endpoints of the trace query area (EPCIS 2.0 query interface at /api/v1/epcis/).

The official examples are captured with their locations tied to the ``registry`` fixture's entities
(南关区 220102, 朝阳区 220104, 延吉市 222401); what each role may see is written out from the rules:
province roles and the provincial data consumer everything, the 长春 city officer and inspector the
city (2201xx), a county officer its county, the enterprise user its own entity's events; lab staff have
no access to trace events (403) and anonymous callers are refused (401). A capture key reads what its
entity's enterprise users read. Named queries: an enterprise sees its own entity's, the regulator's
roles all of them; a query always runs within its reader's scope; only its creator or the province
administrator deletes it.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from qualitygov.core.models import User
from qualitygov.core.roles import Role
from qualitygov.registry.models import EntityMembership
from qualitygov.trace import keys
from qualitygov.trace.models import CaptureKey, NamedQuery
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
    "api:epcis:event-detail": "GET: each event 200 to the roles and capture keys whose scope holds it, 404 to the "
                              "others (as for an unknown ID); lab 403; anonymous 401",
    "api:epcis:queries": "GET: regulators list every named query, an enterprise (user or key) its own entity's; "
                         "POST: every reader incl. capture keys; lab 403; anonymous 401",
    "api:epcis:query-detail": "GET: as the list (another enterprise's query is 404); DELETE: creator (user or key) or "
                              "province admin 204, other readers who see it 403; anonymous 401",
    "api:epcis:query-events": "GET: the query runs within the reader's scope (county officer its county, key its "
                              "entity); another enterprise's query 404; lab 403; anonymous 401",
    "api:epcis:query-subscriptions": "subscriptions not supported: 501 to readers who see the query, 404 otherwise; "
                                     "anonymous 401",
    "api:epcis:query-subscription-detail": "as query-subscriptions; anonymous 401",
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


ARGS = {"api:epcis:events": [], "api:epcis:event-types": [], "api:epcis:queries": [],
        "api:epcis:event-detail": ["urn:uuid:00000000-0000-4000-8000-000000000000"], "api:epcis:query-detail": ["q"],
        "api:epcis:query-events": ["q"], "api:epcis:query-subscriptions": ["q"],
        "api:epcis:query-subscription-detail": ["q", "s"]}


@pytest.mark.parametrize("name", sorted(API_EXPECTATIONS))
def test_anonymous_is_401(db, name):
    url = reverse(name, args=ARGS[name]) if name in ARGS else _path(name.split(":")[-1], "ObjectEvent")
    response = APIClient().get(url)
    assert response.status_code == 401
    if name == "api:epcis:queries":
        assert APIClient().post(url, {"name": "q", "query": {}}, format="json").status_code == 401
        assert not NamedQuery.objects.exists()


# --- capture keys, single events and named queries ------------------------------------------------------


def key_client(entity) -> tuple[APIClient, CaptureKey]:
    """A client presenting a fresh capture key of ``entity`` (issued by one of its enterprise users)."""
    user = User.objects.create_user(username=f"ent-{entity.pk}-{CaptureKey.objects.count()}", role=Role.ENTERPRISE)
    EntityMembership.objects.get_or_create(user=user, entity=entity)
    key, secret = keys.issue(entity, "ERP", user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return client, key


def entity_events(rows, entity) -> list[str]:
    return [row.document["eventID"] for row in rows if row.entity_id == entity.pk]


def test_a_capture_key_reads_its_entity_events(store, users, registry):
    """A key stands for its entity: GET /events answers what the entity's enterprise user sees."""
    nanguan, _key = key_client(registry["nanguan"]["entity"])
    yanji, _key = key_client(registry["yanji"]["entity"])
    url = reverse("api:epcis:events")
    mine = answered(nanguan.get(url, {"perPage": 1000}))
    assert mine == entity_events(store, registry["nanguan"]["entity"]) == visible(store, registry, "enterprise")
    assert answered(yanji.get(url, {"perPage": 1000})) == entity_events(store, registry["yanji"]["entity"])
    assert mine and set(mine).isdisjoint(entity_events(store, registry["yanji"]["entity"]))
    stopped, key = key_client(registry["nanguan"]["entity"])
    keys.revoke(key, user=users["admin"])
    assert stopped.get(url).status_code == 401


def _event_url(event_id: str) -> str:
    return reverse("api:epcis:event-detail", args=["X"]).replace("X", quote(event_id, safe=""))


def test_each_role_reads_single_events_of_its_scope(store, users, registry):
    key, _key = key_client(registry["nanguan"]["entity"])
    clients = {username: client_for(users, username) for username in ROLES} | {"key": key}
    problems = []
    for row in store:
        for username, client in clients.items():
            response = client.get(_event_url(row.event_id))
            if username == "lab":
                expected = 403
            else:
                scope = visible(store, registry, "enterprise" if username == "key" else username)
                expected = 200 if row.document["eventID"] in scope else 404
            if response.status_code != expected:
                problems.append((username, row.event_id, response.status_code, expected))
            elif expected == 404:
                assert response.json()["type"] == "epcisException:NoSuchNameException"
    assert not problems


def _define(client, name: str, query: dict):
    return client.post(reverse("api:epcis:queries"), {"name": name, "query": query}, format="json")


def test_a_named_query_runs_within_each_readers_scope(store, users, registry):
    """The province's query, run by each regulator role, and the same query defined by the 南关 entity's
    capture key, run by the key and the entity's user: each gets the events of its own scope that the
    query selects (a county officer of another county does not see 长春's events)."""
    query = {"eventType": ["ObjectEvent", "AggregationEvent"]}
    key, _key = key_client(registry["nanguan"]["entity"])
    assert _define(client_for(users, "admin"), "objects", query).status_code == 201
    assert _define(key, "our-objects", query).status_code == 201
    selected = {row.document["eventID"] for row in store if row.event_type in query["eventType"]}
    answers = {}
    for username in (*ROLES, "key"):
        client = key if username == "key" else client_for(users, username)
        name = "our-objects" if username in ("key", "enterprise") else "objects"
        response = client.get(reverse("api:epcis:query-events", args=[name]), {"perPage": 1000})
        if username == "lab":
            assert response.status_code == 403
            continue
        scope = visible(store, registry, "enterprise" if username == "key" else username)
        answers[username] = answered(response)
        assert answers[username] == [i for i in scope if i in selected], username
    assert answers["yanji"] and set(answers["yanji"]).isdisjoint(visible(store, registry, "changchun"))
    assert len(answers["nanguan"]) < len(answers["changchun"]) < len(answers["province"])
    assert answers["key"] and answers["key"] == answers["enterprise"] and len(answers["key"]) < len(answers["province"])


def test_an_enterprise_sees_only_its_own_named_queries(store, users, registry):
    nanguan_key, key = key_client(registry["nanguan"]["entity"])
    chaoyang_key, _other = key_client(registry["chaoyang"]["entity"])
    assert _define(nanguan_key, "nanguan-shipping", {"EQ_bizStep": ["shipping"]}).status_code == 201
    assert _define(client_for(users, "province"), "province-all", {}).status_code == 201
    stored = NamedQuery.objects.get(name="nanguan-shipping")
    assert (stored.created_by_key, stored.entity, stored.created_by) == (key, registry["nanguan"]["entity"], None)
    listing = reverse("api:epcis:queries")
    names = {username: [q["name"] for q in client_for(users, username).get(listing).json()]
             for username in ROLES if username != "lab"}
    assert names["enterprise"] == ["nanguan-shipping"]  # the entity's user sees its key's query
    assert all(found == ["nanguan-shipping", "province-all"] for u, found in names.items() if u != "enterprise")
    assert [q["name"] for q in nanguan_key.get(listing).json()] == ["nanguan-shipping"]
    assert chaoyang_key.get(listing).json() == []
    for path in ("query-detail", "query-events"):
        url = reverse(f"api:epcis:{path}", args=["nanguan-shipping"])
        assert chaoyang_key.get(url).status_code == 404
        assert nanguan_key.get(url).status_code == 200
        assert client_for(users, "enterprise").get(reverse(f"api:epcis:{path}", args=["province-all"])).status_code == 404
    assert client_for(users, "lab").get(listing).status_code == 403


def test_only_the_creator_or_the_province_admin_deletes(store, users, registry):
    nanguan_key, _key = key_client(registry["nanguan"]["entity"])
    other_key, _other = key_client(registry["nanguan"]["entity"])  # same entity, another key
    _define(nanguan_key, "by-key", {"EQ_action": ["ADD"]})
    _define(client_for(users, "nanguan"), "by-officer", {"EQ_action": ["ADD"]})
    _define(client_for(users, "yanji"), "by-yanji", {"EQ_action": ["ADD"]})

    def delete(client, name):
        return client.delete(reverse("api:epcis:query-detail", args=[name]))

    for client, name in ((other_key, "by-key"), (client_for(users, "enterprise"), "by-key"),
                         (client_for(users, "changchun"), "by-officer"), (client_for(users, "province"), "by-yanji")):
        response = delete(client, name)
        assert response.status_code == 403 and response.json()["type"] == "epcisException:SecurityException", name
    assert delete(client_for(users, "enterprise"), "by-officer").status_code == 404  # not visible to it
    assert delete(client_for(users, "lab"), "by-yanji").status_code == 403
    assert NamedQuery.objects.count() == 3
    assert delete(nanguan_key, "by-key").status_code == 204
    assert delete(client_for(users, "nanguan"), "by-officer").status_code == 204
    assert delete(client_for(users, "admin"), "by-yanji").status_code == 204
    assert not NamedQuery.objects.exists()


def test_subscription_resources_keep_the_scope(store, users, registry):
    nanguan_key, _key = key_client(registry["nanguan"]["entity"])
    _define(nanguan_key, "mine", {})
    url = reverse("api:epcis:query-subscriptions", args=["mine"])
    assert nanguan_key.get(url).status_code == 501
    assert client_for(users, "province").get(url).status_code == 501
    other, _other = key_client(registry["yanji"]["entity"])
    assert other.get(url).status_code == 404
    detail = reverse("api:epcis:query-subscription-detail", args=["mine", "s1"])
    assert other.delete(detail).status_code == 404 and client_for(users, "lab").get(detail).status_code == 403
