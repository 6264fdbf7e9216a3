"""Roles × pages and endpoints of rewards and similar cases: officers of the case's handling unit and
above see and act; other units and roles see nothing.

The reward's case is handled by 南关区 (220102): the province roles, the 长春 city officer (220100) and
the 南关区 officer see it; the 延吉 officer (222401) gets 404; inspector, lab staff, data consumers and
enterprise users have no reward permissions at all (403 on the API, 403/404 on pages).
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from qualitygov.complaints import rewards
from qualitygov.complaints.models import Reward
from qualitygov.complaints.tests.test_rewards import filed_tip_off

pytestmark = pytest.mark.django_db

API_EXPECTATIONS: dict[str, str] = {
    "api:complaints-api:reward-list": "GET: province, 长春, 南关区 see the reward, 延吉 an empty list, inspector/lab/"
                                      "consumer/enterprise 403, anonymous 401; POST proposes for the unit's case "
                                      "(201), 延吉 404, a complaint 400 not_tip_off (test_api_list_by_role, "
                                      "test_api_propose_and_steps)",
    "api:complaints-api:reward-detail": "200 in scope with the lines, 404 for 延吉, no reporter data "
                                        "(test_api_detail_by_role)",
    "api:complaints-api:reward-compute": "officers 200 with the rule's amounts, flags and lines; bad level 400; "
                                         "enterprise 403 (test_api_compute)",
    "api:complaints-api:reward-approve": "joint approval without finance date 400 finance_approval_required; with "
                                         "it 200; 延吉 404 (test_api_propose_and_steps)",
    "api:complaints-api:reward-notify": "200 with claim_due_on 30 working days on (test_api_propose_and_steps)",
    "api:complaints-api:reward-claim": "200 (test_api_propose_and_steps)",
    "api:complaints-api:reward-pay": "empty reference 400 reference_required; 200 (test_api_propose_and_steps)",
    "api:complaints-api:reward-refuse": "empty reason 400 reason_required; 200 (test_api_refuse)",
}

ROLES = ("consumer", "lab", "enterprise", "inspector", "yanji", "nanguan", "changchun", "province", "admin")
SEES = {"nanguan", "changchun", "province", "admin"}
NO_PERMISSION = {"consumer", "lab", "enterprise", "inspector"}


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def reward(registry, users):
    return rewards.propose(filed_tip_off(registry, fine="10000000.00"), 1, users["nanguan"])


def test_pages_by_role(users, reward, client):
    pages = [reverse("complaints:reward_list"), reverse("complaints:reward_detail", args=[reward.pk]),
             reverse("complaints:reward_history", args=[reward.pk]), reverse("complaints:reward_eligible"),
             reverse("complaints:reward_propose", args=[reward.case.pk])]
    for role in ROLES:
        client.force_login(users[role])
        list_response = client.get(pages[0])
        if role in NO_PERMISSION:
            assert list_response.status_code == 403, role
        else:
            assert list_response.status_code == 200, role
            assert (reward.case.number in list_response.content.decode()) == (role in SEES), role
        # The data consumer's account is for the API only (403 on every page); others outside see 404.
        outside = 403 if role == "consumer" else 404
        for url in (pages[1], pages[2], pages[4]):
            assert client.get(url).status_code == (200 if role in SEES else outside), (role, url)
        assert client.get(pages[3]).status_code == (403 if role in NO_PERMISSION else 200), role
    client.logout()
    for url in pages:
        assert client.get(url).status_code == 302


def test_steps_refused_outside_scope(users, reward, client):
    client.force_login(users["yanji"])
    response = client.post(reverse("complaints:reward_detail", args=[reward.pk]),
                           {"step": "refuse", "refuse-reason": "x"})
    assert response.status_code == 404
    client.force_login(users["inspector"])
    assert client.post(reverse("complaints:reward_propose", args=[reward.case.pk]),
                       {"level": "1", "propose": "1"}).status_code == 404
    reward.refresh_from_db()
    assert reward.status == Reward.Status.PROPOSED


def test_api_list_by_role(users, reward):
    url = reverse("api:complaints-api:reward-list")
    assert client_for(None).get(url).status_code == 401
    for role in ROLES:
        response = client_for(users[role]).get(url)
        if role in NO_PERMISSION:
            assert response.status_code == 403, role
            continue
        assert response.status_code == 200, role
        assert [r["case_number"] for r in response.json()["results"]] == ([reward.case.number] if role in SEES else [])


def test_api_detail_by_role(users, reward):
    from qualitygov.complaints.models import ReporterIdentity

    ReporterIdentity.objects.create(submission=reward.case.submission, name="王小明", phone="13812345678")
    url = reverse("api:complaints-api:reward-detail", args=[reward.pk])
    for role in ROLES:
        response = client_for(users[role]).get(url)
        expected = 200 if role in SEES else (403 if role in NO_PERMISSION else 404)
        assert response.status_code == expected, role
        if expected == 200:
            body = response.content.decode()
            assert response.json()["amount"] == "500000.00" and "王小明" not in body and "13812345678" not in body


def test_api_compute(users):
    url = reverse("api:complaints-api:reward-compute")
    response = client_for(users["nanguan"]).post(url, {"level": 1, "fines": "30000000", "confiscations": "0"},
                                                 format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["amount"], body["capped"], body["joint_approval_required"], body["floor_applied"]) == \
        ("1000000.00", True, True, False)
    body = client_for(users["yanji"]).post(url, {"level": 3}, format="json").json()
    assert (body["amount"], body["floor_applied"]) == ("1000.00", True)  # the floor with no fine
    bad = client_for(users["nanguan"]).post(url, {"level": 4, "fines": "-1"}, format="json")
    assert bad.status_code == 400 and set(bad.json()["error"]["details"]) >= {"level", "fines"}
    assert client_for(users["enterprise"]).post(url, {"level": 1}, format="json").status_code == 403


def test_api_propose_and_steps(registry, users):
    from qualitygov.complaints.models import Case
    from qualitygov.complaints.tests.test_rewards import make_case

    case = filed_tip_off(registry, fine="10000000.00")
    api = client_for(users["nanguan"])
    assert client_for(users["yanji"]).post(reverse("api:complaints-api:reward-list"), {"case": case.pk, "level": 1},
                                           format="json").status_code == 404
    complaint = make_case(registry, kind=Case.Kind.COMPLAINT)
    refused = api.post(reverse("api:complaints-api:reward-list"), {"case": complaint.pk, "level": 1}, format="json")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "not_tip_off"
    created = api.post(reverse("api:complaints-api:reward-list"), {"case": case.pk, "level": 1}, format="json")
    assert created.status_code == 201 and created.json()["joint_approval_required"] is True
    pk = created.json()["id"]

    def step(name, data, user=users["nanguan"]):
        return client_for(user).post(reverse(f"api:complaints-api:reward-{name}", args=[pk]), data, format="json")

    assert step("approve", {"on": "2026-06-10"}, users["yanji"]).status_code == 404
    response = step("approve", {"on": "2026-06-10"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "finance_approval_required"
    assert step("approve", {"on": "2026-06-10", "finance_approved_on": "2026-06-09"}).json()["status"] == "approved"
    notified = step("notify", {"on": "2026-09-18"}).json()
    assert (notified["status"], notified["claim_due_on"]) == ("notified", "2026-11-05")
    assert step("claim", {"on": "2026-10-09"}).json()["status"] == "claimed"
    response = step("pay", {"reference": ""})
    assert response.status_code == 400 and response.json()["error"]["code"] == "reference_required"
    paid = step("pay", {"reference": "GK-1", "on": "2026-10-12"}).json()
    assert (paid["status"], paid["payment_reference"]) == ("paid", "GK-1")


def test_api_refuse(users, reward):
    url = reverse("api:complaints-api:reward-refuse", args=[reward.pk])
    response = client_for(users["nanguan"]).post(url, {"reason": ""}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "reason_required"
    assert client_for(users["changchun"]).post(url, {"reason": "举报人为内部知情人以外的违法行为人"},
                                               format="json").json()["status"] == "refused"
