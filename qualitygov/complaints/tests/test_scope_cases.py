"""Roles × endpoints of the case-handling API (and the matching pages): a county officer of another
county gets 404 or nothing, the city officer sees his counties, the province everything; lab,
inspector, enterprise and data consumer see no case (the enterprise user only the notices addressed to
its own entity). Expectations are written out from the rules, not computed by the code under test."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from qualitygov.complaints import handling
from qualitygov.complaints.tests.factories import make_case

pytestmark = pytest.mark.django_db
D = dt.date

API_EXPECTATIONS: dict[str, str] = {
    "api:complaints-api:case-list": "officers list their region's cases only (county: its county; city 长春: 南关 and "
                                    "朝阳; province: all); inspector, lab, enterprise, data consumer 403; anonymous "
                                    "refused; no identity field in any answer (test_api_list_by_role)",
    "api:complaints-api:case-detail": "in-scope officers 200 with timeline and open steps; another county's officer "
                                      "404; other roles 403/404 (test_api_detail_by_role)",
    "api:complaints-api:case-step": "the handling unit's (or city's) officer takes a step; another county's officer "
                                    "404 and nothing changes; wrong state or bad input 400 with a code "
                                    "(test_api_step_scope_and_refusals)",
    "api:complaints-api:case-due": "officers get their region's due/overdue deadlines; other roles 403; a unit outside "
                                   "the scope 400 (test_api_due_by_role)",
    "api:complaints-api:case-notice-list": "enterprise user: only its entity's notices; officers their region's; lab, "
                                           "inspector 403 (test_api_notices_by_role)",
    "api:complaints-api:case-notice-detail": "enterprise user reads its own notice, 404 for another entity's "
                                             "(test_api_notices_by_role)",
}

ROLES = (None, "consumer", "enterprise", "lab", "inspector", "yanji", "nanguan", "changchun", "province", "admin")
# Which of the three cases (南关区, 朝阳区, 延吉市) each role sees.
SEES = {"admin": {"nanguan", "chaoyang", "yanji"}, "province": {"nanguan", "chaoyang", "yanji"},
        "changchun": {"nanguan", "chaoyang"}, "nanguan": {"nanguan"}, "yanji": {"yanji"}}


@pytest.fixture
def cases(registry, users):
    made = {key: make_case(respondent=registry[key]["entity"], received_on=D(2026, 9, 29),
                           reporter={"name": "司马秘密", "phone": "13700009999"}) for key in ("nanguan", "chaoyang", "yanji")}
    for key, officer in (("nanguan", "nanguan"), ("yanji", "yanji")):
        handling.accept(made[key], users[officer], on=D(2026, 10, 9))
        handling.send_respondent_notice(made[key], users[officer], kind="mediation", on=D(2026, 10, 9))
    return made


def api(users, role):
    client = APIClient()
    if role:
        client.force_authenticate(users[role])
    return client


def test_api_list_by_role(cases, users):
    problems = []
    for role in ROLES:
        response = api(users, role).get(reverse("api:complaints-api:case-list"))
        expected = SEES.get(role)
        if expected is None:
            if response.status_code not in (401, 403):
                problems.append((role, response.status_code))
            continue
        numbers = {row["number"] for row in response.json()["results"]}
        if numbers != {cases[k].number for k in expected}:
            problems.append((role, numbers))
        text = response.content.decode()
        if "司马秘密" in text or "13700009999" in text or "phone" in response.json()["results"][0]:
            problems.append((role, "identity leaked"))
    assert not problems


def test_api_detail_by_role(cases, users):
    problems = []
    for role in ROLES:
        for key, case in cases.items():
            response = api(users, role).get(reverse("api:complaints-api:case-detail", args=[case.pk]))
            visible = key in SEES.get(role, set())
            if visible and (response.status_code != 200 or "events" not in response.json()):
                problems.append((role, key, response.status_code))
            if not visible and response.status_code not in (401, 403, 404):
                problems.append((role, key, response.status_code))
    assert not problems


def test_api_step_scope_and_refusals(cases, users):
    chaoyang = cases["chaoyang"]
    url = reverse("api:complaints-api:case-step", args=[chaoyang.pk, "accept"])
    response = api(users, "nanguan").post(url, {"on": "2026-10-09"}, format="json")
    assert response.status_code == 404
    chaoyang.refresh_from_db()
    assert chaoyang.status == "received"
    for role in ("enterprise", "lab", "inspector", "consumer"):
        assert api(users, role).post(url, {"on": "2026-10-09"}, format="json").status_code in (403, 404)
    response = api(users, "changchun").post(url, {"on": "not a date"}, format="json")
    assert response.status_code == 400 and "on" in response.json()["error"]["details"]
    response = api(users, "changchun").post(url, {"on": "2026-10-09"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    assert "start_mediation" in response.json()["steps"]
    response = api(users, "changchun").post(url, {"on": "2026-10-09"}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "wrong_state"
    assert "已受理" in response.json()["error"]["message"]
    response = api(users, "changchun").post(reverse("api:complaints-api:case-step", args=[chaoyang.pk, "fly"]), {})
    assert response.status_code == 404


def test_api_due_by_role(cases, users):
    url = reverse("api:complaints-api:case-due")
    for role in ROLES:
        response = api(users, role).get(url)
        if role not in SEES:
            assert response.status_code in (401, 403), role
            continue
        # Only 朝阳区's complaint is still waiting for acceptance (due 14 Oct 2026): overdue.
        overdue = {row["number"] for row in response.json()["overdue"]}
        assert overdue == ({cases["chaoyang"].number} if "chaoyang" in SEES[role] else set()), role
    assert api(users, "nanguan").get(url + "?unit=222401").status_code == 400
    assert api(users, "changchun").get(url + "?unit=220104").json()["overdue"][0]["unit"] == "220104"


def test_api_notices_by_role(cases, users):
    url = reverse("api:complaints-api:case-notice-list")
    response = api(users, "enterprise").get(url)
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [r["case_number"] for r in rows] == [cases["nanguan"].number]
    assert "司马秘密" not in rows[0]["text"] and "13700009999" not in rows[0]["text"]
    own, foreign = (cases[k].respondent_notices.get() for k in ("nanguan", "yanji"))
    assert api(users, "enterprise").get(reverse("api:complaints-api:case-notice-detail", args=[own.pk])).status_code == 200
    assert api(users, "enterprise").get(
        reverse("api:complaints-api:case-notice-detail", args=[foreign.pk])).status_code == 404
    assert {r["case_number"] for r in api(users, "yanji").get(url).json()["results"]} == {cases["yanji"].number}
    for role in ("lab", "inspector", "consumer"):
        assert api(users, role).get(url).status_code == 403, role
    # And the enterprise user cannot reach the cases themselves.
    assert api(users, "enterprise").get(reverse("api:complaints-api:case-list")).status_code == 403
