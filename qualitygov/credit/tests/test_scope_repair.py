"""Roles × endpoints of the credit-repair API (/api/v1/credit/repairs/).

Expectations are written out from the rules (``RepairApplication.role_actions`` and region scope): the
province sees every application, the 长春 city officer and inspector those of 南关区 and 朝阳区, a
county officer its county, an enterprise user its own entity's; lab staff and data consumers have no
business with repair (403). Only an enterprise user applies (for its own entity) and withdraws;
officers in scope take the steps; an officer of another county gets 404.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from qualitygov.core.models import User
from qualitygov.core.roles import Role
from qualitygov.credit import repair
from qualitygov.credit.models import CreditRecord, Kind, RepairApplication
from qualitygov.credit.services import SourceRef, record_fact
from qualitygov.credit.tests.conftest import REPAIR_TODAY

API_EXPECTATIONS: dict[str, str] = {
    "api:credit-api:repair-list": "each role sees applications of its region or entity; lab and consumer 403; "
                                  "anonymous 401 (test_list_by_role)",
    "api:credit-api:repair-detail": "200 in scope, 404 outside it, 403 for lab and consumer (test_retrieve_by_role)",
    "api:credit-api:repair-accept": "officer in scope 200; other county 404; enterprise, inspector, lab, consumer "
                                    "403 (test_accept_by_role)",
    "api:credit-api:repair-refuse": "officer in scope 200; reasons required → 400 missing_reasons; other county 404 "
                                    "(test_refuse_and_decide)",
    "api:credit-api:repair-decide": "officer in scope approves with confirmed conditions → record repaired; refusals "
                                    "structured with code (test_refuse_and_decide)",
    "api:credit-api:repair-withdraw": "the applicant's enterprise 200; another enterprise 404; officers 403 "
                                      "(test_withdraw_by_role)",
}

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("repair_today")]

PENALTY_OK = {"penalties_fulfilled": True, "harm_removed": True, "no_repeat_violation": True}
KEYS = ("nanguan", "chaoyang", "yanji")
# Which fixture entities' applications each user sees.
VISIBLE = {"admin": set(KEYS), "province": set(KEYS), "changchun": {"nanguan", "chaoyang"},
           "inspector": {"nanguan", "chaoyang"}, "nanguan": {"nanguan"}, "yanji": {"yanji"},
           "enterprise": {"nanguan"}, "ent_chaoyang": {"chaoyang"}, "ent_yanji": {"yanji"}}
FORBIDDEN = ("lab", "consumer")


@pytest.fixture
def world(registry, users):
    """One enterprise user per entity, one penalty per entity past its minimum period, one open
    application per entity."""
    from qualitygov.registry.models import EntityMembership

    people = dict(users)
    for key in ("chaoyang", "yanji"):
        user = User.objects.create_user(username=f"ent_{key}", password="x-pass-123", role=Role.ENTERPRISE)
        EntityMembership.objects.create(user=user, entity=registry[key]["entity"])
        people[f"ent_{key}"] = user
    owner = {"nanguan": "enterprise", "chaoyang": "ent_chaoyang", "yanji": "ent_yanji"}
    records, apps = {}, {}
    for n, key in enumerate(KEYS, start=1):
        records[key] = record_fact(
            entity=registry[key]["entity"], kind=Kind.ADMINISTRATIVE_PENALTY,
            occurred_on=REPAIR_TODAY - dt.timedelta(days=200), source=SourceRef("enforcement", "penalty", n),
            summary=f"{key} 罚款", details={"penalty_types": ["fine"], "decision_number": f"罚〔2026〕{n}号"}).record
        apps[key] = repair.submit(user=people[owner[key]], target="penalty_publication", record=records[key],
                                  reason="已整改", commitment=True, conditions=PENALTY_OK)
    return {"users": people, "records": records, "apps": apps}


def as_user(client, world, name):
    client.logout()
    if name is not None:
        client.force_login(world["users"][name])
    return client


def step_url(app, step):
    return reverse(f"api:credit-api:repair-{step}", args=[app.pk])


def test_list_by_role(client, world):
    wrong = []
    url = reverse("api:credit-api:repair-list")
    by_pk = {app.pk: key for key, app in world["apps"].items()}
    for name in (*VISIBLE, *FORBIDDEN):
        response = as_user(client, world, name).get(url)
        if name in FORBIDDEN:
            if response.status_code != 403:
                wrong.append(f"{name}: {response.status_code}")
            continue
        seen = {by_pk[row["id"]] for row in response.json()["results"]}
        if seen != VISIBLE[name]:
            wrong.append(f"{name}: sees {sorted(seen)}, expected {sorted(VISIBLE[name])}")
    assert as_user(client, world, None).get(url).status_code == 401
    assert not wrong, wrong


def test_retrieve_by_role(client, world):
    wrong = []
    for name in (*VISIBLE, *FORBIDDEN):
        as_user(client, world, name)
        for key, app in world["apps"].items():
            got = client.get(reverse("api:credit-api:repair-detail", args=[app.pk])).status_code
            expected = 403 if name in FORBIDDEN else 200 if key in VISIBLE[name] else 404
            if got != expected:
                wrong.append(f"{name}/{key}: {got} != {expected}")
    assert not wrong, wrong


def test_create_only_by_the_entitys_enterprise_user(client, world):
    url = reverse("api:credit-api:repair-list")
    record = world["records"]["nanguan"]
    RepairApplication.objects.filter(record=record).update(status="withdrawn")
    body = {"target": "penalty_publication", "record": record.pk, "reason": "已整改", "commitment": True,
            "conditions": PENALTY_OK}
    for name in ("admin", "nanguan", "changchun", "inspector", "lab", "consumer"):
        assert as_user(client, world, name).post(url, body, content_type="application/json").status_code == 403, name
    # Another entity's enterprise user cannot even name the record.
    other = as_user(client, world, "ent_chaoyang").post(url, body, content_type="application/json")
    assert other.status_code == 400 and other.json()["error"]["code"] == "unknown_subject"
    no_commitment = as_user(client, world, "enterprise").post(url, body | {"commitment": False},
                                                              content_type="application/json")
    error = no_commitment.json()["error"]
    assert no_commitment.status_code == 400 and error["code"] == "commitment_missing"
    assert error["details"]["commitment"] == ["申请信用修复须作出信用承诺。"]
    created = client.post(url, body, content_type="application/json")
    assert created.status_code == 201 and created.json()["status"] == "submitted"
    assert created.json()["accept_due_on"] is not None
    duplicate = client.post(url, body, content_type="application/json")
    assert duplicate.status_code == 400 and duplicate.json()["error"]["code"] == "already_open"


def test_accept_by_role(client, world):
    app = world["apps"]["nanguan"]
    for name in ("enterprise", "inspector", "lab", "consumer"):
        response = as_user(client, world, name).post(step_url(app, "accept"), {}, content_type="application/json")
        assert response.status_code == 403, name
    assert as_user(client, world, "yanji").post(step_url(app, "accept"), {}, content_type="application/json") \
        .status_code == 404
    app.refresh_from_db()
    assert app.status == "submitted"
    ok = as_user(client, world, "nanguan").post(step_url(app, "accept"), {"note": "材料齐全"},
                                                content_type="application/json")
    assert ok.status_code == 200 and ok.json()["status"] == "accepted" and ok.json()["decide_due_on"]
    again = client.post(step_url(app, "accept"), {}, content_type="application/json")
    assert again.status_code == 400 and again.json()["error"]["code"] == "wrong_state"


def test_refuse_and_decide(client, world):
    chaoyang, nanguan = world["apps"]["chaoyang"], world["apps"]["nanguan"]
    as_user(client, world, "nanguan")
    assert client.post(step_url(chaoyang, "refuse"), {"reasons": "材料不全"}, content_type="application/json") \
        .status_code == 404
    as_user(client, world, "changchun")
    blank = client.post(step_url(chaoyang, "refuse"), {"reasons": " "}, content_type="application/json")
    assert blank.status_code == 400 and blank.json()["error"]["code"] == "missing_reasons"
    refused = client.post(step_url(chaoyang, "refuse"), {"reasons": "材料不全"}, content_type="application/json")
    assert refused.status_code == 200 and refused.json()["status"] == "not_accepted"

    client.post(step_url(nanguan, "accept"), {}, content_type="application/json")
    unconfirmed = client.post(step_url(nanguan, "decide"), {"approve": True, "reasons": "符合"},
                              content_type="application/json")
    assert unconfirmed.status_code == 400 and unconfirmed.json()["error"]["code"] == "conditions_unmet"
    assert as_user(client, world, "enterprise").post(step_url(nanguan, "decide"), {"approve": True, "reasons": "x"},
                                                     content_type="application/json").status_code == 403
    approved = as_user(client, world, "changchun").post(
        step_url(nanguan, "decide"), {"approve": True, "reasons": "经核实符合条件", "confirmed": PENALTY_OK},
        content_type="application/json")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    record = world["records"]["nanguan"]
    record.refresh_from_db()
    assert record.state == CreditRecord.State.REPAIRED


def test_withdraw_by_role(client, world):
    app = world["apps"]["nanguan"]
    for name in ("nanguan", "admin", "lab", "consumer"):
        assert as_user(client, world, name).post(step_url(app, "withdraw")).status_code == 403, name
    assert as_user(client, world, "ent_chaoyang").post(step_url(app, "withdraw")).status_code == 404
    response = as_user(client, world, "enterprise").post(step_url(app, "withdraw"))
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    again = client.post(step_url(app, "withdraw"))
    assert again.status_code == 400 and again.json()["error"]["code"] == "wrong_state"
