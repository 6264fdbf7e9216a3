"""Roles × endpoints of the trace area (issue 5, item 5): the page, its CSV downloads and the API.

Who: the province administrator, province/city/county officers, inspectors and enterprise users
(``tracing.can_trace``); lab staff and data consumers are refused (403), anonymous visitors are sent to
sign in (page) or refused (API).

What each sees, on the ginseng chain of ``chain.py`` (producer 延吉市 222401 → processor 南关区 220102 →
distributor 朝阳区 220104 → shops 宽城区 220103 and 延吉市 222401): only events the user may see are
followed, so the trace stops at the scope's edge. A place named by a visible event but outside the
scope is shown by its GLN only (no entity, no region). Written out below from the chain, not computed
by the code under test.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from qualitygov.trace.tests import chain

pytestmark = [pytest.mark.django_db]

API_EXPECTATIONS: dict[str, str] = {
    "api:trace-api:trace": "officers, inspector and enterprise get a forward trace of the raw batch limited to "
                           "their scope: province roles reach both shops, 长春 officers and the inspector the "
                           "长春 shop with names and the 延吉 shop by GLN only, the 南关区 officer and the processor's "
                           "enterprise user stop at the distributor (GLN only), the 延吉 officer at the processor; "
                           "lab and data consumer 403, anonymous refused; bad identifier 400, unknown 404 "
                           "(test_api_roles_and_scope, test_api_errors)",
    "api:trace-api:trace-export": "the holders CSV carries the same places as the JSON for each role; lab 403; "
                                  "an unknown table 404 (test_api_export_by_role)",
}

ROLES = (None, "consumer", "lab", "enterprise", "inspector", "yanji", "nanguan", "changchun", "province", "admin")
REFUSED = {"consumer", "lab"}
ALL_PLACES = {"processor", "distributor", "shop_kuancheng", "shop_yanji"}
# Places a forward trace of the raw batch reaches, and those of them shown with entity and region.
REACHED = {
    "admin": ALL_PLACES, "province": ALL_PLACES,
    "changchun": {"distributor", "shop_kuancheng", "shop_yanji"},
    "inspector": {"distributor", "shop_kuancheng", "shop_yanji"},
    "nanguan": {"distributor"}, "enterprise": {"distributor"},
    "yanji": {"processor"},
}
NAMED = {
    "admin": ALL_PLACES, "province": ALL_PLACES,
    "changchun": {"distributor", "shop_kuancheng"}, "inspector": {"distributor", "shop_kuancheng"},
    "nanguan": set(), "enterprise": set(), "yanji": set(),
}
LIMITED = {"changchun", "inspector", "nanguan", "enterprise", "yanji"}
PLACE_OF = {chain.place_id(p): p for p in chain.PLACES}


@pytest.fixture
def ginseng(registry):
    return chain.build_chain(registry)


def _client(users, role) -> APIClient:
    client = APIClient()
    if role is not None:
        client.force_authenticate(users[role])
    return client


def test_api_roles_and_scope(ginseng, users):
    url = reverse("api:trace-api:trace")
    problems = []
    for role in ROLES:
        response = _client(users, role).get(url, {"id": chain.RAW_CLASS, "direction": "forward"})
        if role is None:
            if response.status_code not in (401, 403):
                problems.append(f"anonymous: {response.status_code}")
            continue
        if role in REFUSED:
            if response.status_code != 403:
                problems.append(f"{role}: {response.status_code}, expected 403")
            continue
        if response.status_code != 200:
            problems.append(f"{role}: {response.status_code} {response.content[:200]}")
            continue
        data = response.json()
        reached = {PLACE_OF[h["place"]] for h in data["holders"]}
        named = {PLACE_OF[h["place"]] for h in data["holders"] if h["entity"]}
        hidden_details = [h for h in data["holders"] if not h["in_scope"] and (h["entity"] or h["region"])]
        if reached != REACHED[role]:
            problems.append(f"{role}: reached {sorted(reached)}, expected {sorted(REACHED[role])}")
        if named != NAMED[role]:
            problems.append(f"{role}: named {sorted(named)}, expected {sorted(NAMED[role])}")
        if hidden_details:
            problems.append(f"{role}: out-of-scope places with details {hidden_details}")
        if data["summary"]["scope_limited"] != (role in LIMITED):
            problems.append(f"{role}: scope_limited {data['summary']['scope_limited']}")
    assert not problems, "\n".join(problems)


def test_an_item_sold_outside_the_region_is_not_found_there(ginseng, users):
    # The serial was sold in 宽城区 (长春): unknown to the 延吉 and 南关区 officers, known to 长春's.
    url = reverse("api:trace-api:trace")
    for role in ("yanji", "nanguan"):
        response = _client(users, role).get(url, {"id": chain.SOLD_ITEM, "direction": "backward"})
        assert response.status_code == 404, role
        assert response.json()["error"]["code"] == "not_found"
    response = _client(users, "changchun").get(url, {"id": chain.SOLD_ITEM, "direction": "backward"})
    assert response.status_code == 200
    nodes = {n["id"]: n for n in response.json()["nodes"]}
    # Backward within 长春 (the processor is in 南关区): up to the raw batch and its case; the 延吉 producer
    # is named by the processor's receipt, so it appears, by GLN only, and its own events are not read.
    assert {chain.PRODUCT_CLASS, chain.RAW_CLASS, chain.CASE} <= set(nodes)
    producer = nodes[chain.place_id("producer")]
    assert (producer["in_scope"], producer["entity"], producer["region"]) == (False, "", "")
    assert not any(e["relation"] == "produced_at" for e in response.json()["edges"])


def test_api_errors(ginseng, users):
    client = _client(users, "province")
    url = reverse("api:trace-api:trace")
    bad = client.get(url, {"id": "06901234000019 X1"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "check_digit"
    assert "校验位" in bad.json()["error"]["message"]
    assert client.get(url, {"id": chain.RAW_CLASS, "direction": "up"}).status_code == 400
    assert client.get(url).status_code == 400
    unknown = client.get(url, {"id": f"{chain.RAW_GTIN} NOPE1"})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    capped = client.get(url, {"id": chain.RAW_CLASS, "max_depth": 1}).json()
    assert capped["summary"]["truncated"]["reason"] == "max_depth"


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_api_export_by_role(ginseng, users):
    problems = []
    for role in ROLES:
        response = _client(users, role).get(reverse("api:trace-api:trace-export", args=["holders"]),
                                            {"id": chain.RAW_CLASS})
        if role is None or role in REFUSED:
            if response.status_code not in (401, 403):
                problems.append(f"{role}: {response.status_code}")
            continue
        rows = _csv(response)
        glns = {row[0] for row in rows[1:]}
        expected = {chain.gln(p) for p in REACHED[role]}
        if rows[0][0] != "位置码（GLN）" or glns != expected:
            problems.append(f"{role}: {rows[0][:2]} {sorted(glns)}, expected {sorted(expected)}")
    assert not problems, "\n".join(problems)
    province = _client(users, "province")
    edges = _csv(province.get(reverse("api:trace-api:trace-export", args=["edges"]), {"id": chain.RAW_CLASS}))
    assert len(edges) - 1 == len(province.get(reverse("api:trace-api:trace"), {"id": chain.RAW_CLASS}).json()["edges"])
    assert province.get(reverse("api:trace-api:trace-export", args=["nodes"]), {"id": chain.RAW_CLASS}).status_code == 404


def test_page_by_role(ginseng, users, client):
    problems = []
    for role in ROLES:
        client.logout()
        if role is not None:
            client.force_login(users[role])
        response = client.get(reverse("trace:trace"), {"id": chain.RAW_CLASS, "direction": "forward"})
        if role is None:
            if response.status_code != 302:
                problems.append(f"anonymous: {response.status_code}")
            continue
        if role in REFUSED:
            if response.status_code != 403:
                problems.append(f"{role}: {response.status_code}, expected 403")
            continue
        reached = {PLACE_OF[h["place"]] for h in response.context["result"]["holders"]}
        if response.status_code != 200 or reached != REACHED[role]:
            problems.append(f"{role}: {response.status_code} {sorted(reached)}")
    assert not problems, "\n".join(problems)
