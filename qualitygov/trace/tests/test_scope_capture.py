"""Roles × endpoints of the trace capture area (issue 5).

Capturing (``POST capture``, ``POST events``): capture keys, enterprise users of an entity and the
province administrator; every other role 403, anonymous 401. Reading jobs (``GET capture``,
``GET capture/{id}`` and the job pages): an enterprise its own entity's jobs, officers those of their
region's entities, the province roles all; inspectors, lab staff and data consumers none. Keys: the
enterprise issues and revokes its own; officers see their region's keys.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from qualitygov.conftest import PASSWORD
from qualitygov.core.models import User
from qualitygov.core.roles import Role
from qualitygov.registry.models import EntityMembership
from qualitygov.trace import capture, keys
from qualitygov.trace.models import CaptureJob, CaptureKey, EpcisEvent

pytestmark = [pytest.mark.django_db]

API_EXPECTATIONS: dict[str, str] = {
    "api:epcis:capture": "POST: a key, the entity's enterprise user and the province admin 202; other roles 403, "
                         "anonymous 401. GET: enterprise its entity's jobs only, county officer its county's, "
                         "province all; inspector, lab, consumer 403",
    "api:epcis:capture-detail": "enterprise of another entity 404; county officer of another county 404, of the "
                                "job's county 200; a key only its entity's jobs",
    "api:epcis:events-capture": "POST one event: a key, enterprise user, province admin 201; other roles 403, "
                                "anonymous 401",
}

REFERENCE = Path(__file__).resolve().parents[4] / "shared" / "reference" / "epcis"
ROLES = ("consumer", "enterprise", "lab", "inspector", "yanji", "nanguan", "changchun", "province", "admin")
CAPTURERS = {"enterprise", "admin"}
JOB_READERS = {"enterprise", "yanji", "nanguan", "changchun", "province", "admin"}


def document() -> dict:
    return json.loads((REFERENCE / "examples" / "Example_9.6.1-ObjectEvent.jsonld").read_text(encoding="utf-8"))


def single_event(serial: int) -> dict:
    return {"@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"], "type": "ObjectEvent",
            "eventTime": "2025-03-02T10:00:00+08:00", "eventTimeZoneOffset": "+08:00",
            "epcList": [f"urn:epc:id:sgtin:0614141.107346.{serial}"], "action": "OBSERVE", "bizStep": "shipping"}


def client_for(users, name: str | None) -> APIClient:
    client = APIClient()
    if name is not None:
        token, _created = Token.objects.get_or_create(user=users[name])
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def post(client, url, payload):
    return client.generic("POST", url, json.dumps(payload).encode(), content_type="application/ld+json")


@pytest.fixture
def chaoyang_user(registry):
    user = User.objects.create_user(username="chaoyang-ent", password=PASSWORD, role=Role.ENTERPRISE)
    EntityMembership.objects.create(user=user, entity=registry["chaoyang"]["entity"])
    return user


@pytest.fixture
def jobs(registry, users, chaoyang_user):
    """One job of the nanguan entity (county 220102), one of chaoyang (220104), one of yanji (222401)."""
    made = {"nanguan": capture.capture_document(document(), user=users["enterprise"]),
            "chaoyang": capture.capture_document(document(), user=chaoyang_user)}
    yanji_key, _secret = keys.issue(registry["yanji"]["entity"], "ERP", user=_yanji_user(registry))
    made["yanji"] = capture.capture_document(document(), key=yanji_key)
    return made


def _yanji_user(registry):
    user = User.objects.create_user(username="yanji-ent", password=PASSWORD, role=Role.ENTERPRISE)
    EntityMembership.objects.create(user=user, entity=registry["yanji"]["entity"])
    return user


def test_the_table_names_every_endpoint():
    names = {"api:epcis:capture", "api:epcis:capture-detail", "api:epcis:events-capture"}
    assert set(API_EXPECTATIONS) == names
    for name in names:
        reverse(name, kwargs={"capture_id": "x"} if name.endswith("detail") else None)


def test_who_may_capture_a_document(users, registry):
    url = reverse("api:epcis:capture")
    assert post(client_for(users, None), url, document()).status_code == 401
    got = {name: post(client_for(users, name), url, document()).status_code for name in ROLES}
    assert got == {name: 202 if name in CAPTURERS else 403 for name in ROLES}
    # Only the two allowed captures created jobs (the second a duplicate of the first).
    assert CaptureJob.objects.count() == 2 and EpcisEvent.objects.count() == 2


def test_who_may_capture_one_event(users, registry):
    url = reverse("api:epcis:events-capture")
    assert post(client_for(users, None), url, single_event(1)).status_code == 401
    got = {name: post(client_for(users, name), url, single_event(index)).status_code
           for index, name in enumerate(ROLES, start=10)}
    assert got == {name: 201 if name in CAPTURERS else 403 for name in ROLES}


def test_enterprise_capture_is_attributed_to_its_entity(users, registry):
    post(client_for(users, "enterprise"), reverse("api:epcis:capture"), document())
    job = CaptureJob.objects.get()
    assert job.entity == registry["nanguan"]["entity"] and job.user == users["enterprise"]
    assert set(EpcisEvent.objects.values_list("region_code", flat=True)) == {"220102"}


def test_job_list_by_role(users, jobs):
    url = reverse("api:epcis:capture")
    expected = {"enterprise": {"nanguan"}, "nanguan": {"nanguan"}, "yanji": {"yanji"},
                "changchun": {"nanguan", "chaoyang"}, "province": {"nanguan", "chaoyang", "yanji"},
                "admin": {"nanguan", "chaoyang", "yanji"}}
    ids = {str(job.id): name for name, job in jobs.items()}
    for name in ROLES:
        response = client_for(users, name).get(url)
        if name not in JOB_READERS:
            assert response.status_code == 403, name
            continue
        assert {ids[j["captureID"]] for j in response.json()} == expected[name], name


def test_job_detail_by_role(users, jobs):
    for name in ROLES:
        for owner, job in jobs.items():
            response = client_for(users, name).get(reverse("api:epcis:capture-detail", args=[job.id]))
            if name not in JOB_READERS:
                assert response.status_code == 403, (name, owner)
                continue
            visible = {"enterprise": {"nanguan"}, "nanguan": {"nanguan"}, "yanji": {"yanji"},
                       "changchun": {"nanguan", "chaoyang"}}.get(name, set(jobs))
            assert response.status_code == (200 if owner in visible else 404), (name, owner)


def test_a_key_sees_only_its_entitys_jobs(registry, users, jobs):
    key, secret = keys.issue(registry["nanguan"]["entity"], "WMS", user=users["enterprise"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    assert {j["captureID"] for j in client.get(reverse("api:epcis:capture")).json()} == {str(jobs["nanguan"].id)}
    assert client.get(reverse("api:epcis:capture-detail", args=[jobs["chaoyang"].id])).status_code == 404


# --- pages -------------------------------------------------------------------------------------------------

def test_key_pages_by_role(client, users, registry, chaoyang_user):
    own, _secret = keys.issue(registry["nanguan"]["entity"], "WMS", user=users["enterprise"])
    other, _secret = keys.issue(registry["chaoyang"]["entity"], "ERP", user=chaoyang_user)
    expected = {"enterprise": {own.prefix}, "nanguan": {own.prefix}, "yanji": set(),
                "changchun": {own.prefix, other.prefix}, "province": {own.prefix, other.prefix},
                "admin": {own.prefix, other.prefix}}
    for name in ROLES:
        client.logout()
        client.login(username=name, password=PASSWORD)
        response = client.get(reverse("trace:capturekey_list"))
        if name not in expected:
            assert response.status_code == 403, name
            continue
        page = response.content.decode()
        assert {p for p in (own.prefix, other.prefix) if p in page} == expected[name], name
        add = client.get(reverse("trace:capturekey_add"))
        assert add.status_code == (200 if name == "enterprise" else 403), name


def test_enterprise_issues_a_key_and_sees_the_secret_once(client, users, registry):
    client.login(username="enterprise", password=PASSWORD)
    response = client.post(reverse("trace:capturekey_add"), {"name": "仓储系统"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    key = CaptureKey.objects.get()
    secret = response.context["secret"]
    assert keys.authenticate(secret) == key and key.entity == registry["nanguan"]["entity"]
    listing = client.get(reverse("trace:capturekey_list")).content.decode()
    assert key.prefix in listing and secret not in listing
    refused = client.post(reverse("trace:capturekey_add"), {"name": ""})
    assert refused.status_code == 400 and CaptureKey.objects.count() == 1


def test_revoke_page_only_for_own_entity(client, users, registry, chaoyang_user):
    other, _secret = keys.issue(registry["chaoyang"]["entity"], "ERP", user=chaoyang_user)
    client.login(username="enterprise", password=PASSWORD)
    assert client.post(reverse("trace:capturekey_revoke", args=[other.pk])).status_code == 404
    own, _secret = keys.issue(registry["nanguan"]["entity"], "WMS", user=users["enterprise"])
    assert client.post(reverse("trace:capturekey_revoke", args=[own.pk])).status_code == 302
    assert CaptureKey.objects.get(pk=own.pk).active is False and CaptureKey.objects.get(pk=other.pk).active
    client.logout()
    client.login(username="nanguan", password=PASSWORD)
    assert client.post(reverse("trace:capturekey_revoke", args=[own.pk])).status_code == 403


def test_job_pages_by_role(client, users, jobs):
    visible = {"enterprise": {"nanguan"}, "nanguan": {"nanguan"}, "yanji": {"yanji"},
               "changchun": {"nanguan", "chaoyang"}, "province": set(jobs), "admin": set(jobs)}
    for name in ROLES:
        client.logout()
        client.login(username=name, password=PASSWORD)
        listing = client.get(reverse("trace:capturejob_list"))
        if name not in visible:
            assert listing.status_code == 403, name
            continue
        shown = {owner for owner, job in jobs.items() if str(job.id) in listing.content.decode()}
        assert shown == visible[name], name
        for owner, job in jobs.items():
            detail = client.get(reverse("trace:capturejob_detail", args=[job.id]))
            assert detail.status_code == (200 if owner in visible[name] else 404), (name, owner)


def test_job_page_shows_the_errors(client, users, registry):
    doc = document()
    doc["epcisBody"]["eventList"][1]["action"] = "WRONG"
    job = capture.capture_document(doc, user=users["enterprise"])
    client.login(username="nanguan", password=PASSWORD)
    page = client.get(reverse("trace:capturejob_detail", args=[job.id])).content.decode()
    assert job.errors[0]["message"] in page and "/action" in page
