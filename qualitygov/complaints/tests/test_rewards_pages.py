"""Reward pages: the list, the cases awaiting a reward, the computation previewed line by line and
proposed, the steps on the detail page with their Chinese refusals, and no reporter data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from qualitygov.complaints import rewards
from qualitygov.complaints.models import Reward
from qualitygov.complaints.tests.test_rewards import filed_tip_off

pytestmark = pytest.mark.django_db


def test_eligible_list_and_propose_with_preview(registry, users, client):
    case = filed_tip_off(registry, fine="30000000.00")
    client.force_login(users["nanguan"])
    html = client.get(reverse("complaints:reward_eligible")).content.decode()
    assert case.number in html and reverse("complaints:reward_propose", args=[case.pk]) in html
    url = reverse("complaints:reward_propose", args=[case.pk])
    response = client.post(url, {"level": "1", "preview": "1"})
    html = response.content.decode()
    assert response.status_code == 200 and not Reward.objects.exists()  # a preview stores nothing
    assert "30,000,000.00 元 × 5% = 1,500,000.00 元" in html
    assert 'id="qg-reward-capped"' in html and 'id="qg-reward-joint"' in html and 'id="qg-reward-floor"' not in html
    response = client.post(url, {"level": "1", "propose": "1"})
    reward = Reward.objects.get(case=case)
    assert response.status_code == 302 and response["Location"] == reverse("complaints:reward_detail", args=[reward.pk])
    assert (reward.amount, reward.capped, reward.joint_approval_required) == (Decimal("1000000.00"), True, True)
    html = client.get(reverse("complaints:reward_eligible")).content.decode()
    assert case.number not in html


def test_floor_shown_for_a_small_fine(registry, users, client):
    case = filed_tip_off(registry, fine="20000.00")
    client.force_login(users["nanguan"])
    html = client.post(reverse("complaints:reward_propose", args=[case.pk]), {"level": "2", "preview": "1"}).content.decode()
    assert "20,000.00 元 × 3% = 600.00 元" in html and 'id="qg-reward-floor"' in html and "3,000.00 元" in html
    assert 'id="qg-reward-joint"' not in html


def test_propose_refusal_shown_and_nothing_stored(registry, users, client):
    case = filed_tip_off(registry, fine=None, confiscation=None, penalty_decision_number="")
    client.force_login(users["nanguan"])
    response = client.post(reverse("complaints:reward_propose", args=[case.pk]), {"level": "1", "propose": "1"})
    assert response.status_code == 400 and "尚未关联行政处罚" in response.content.decode()
    response = client.post(reverse("complaints:reward_propose", args=[case.pk]), {"level": "9", "propose": "1"})
    assert response.status_code == 400
    assert not Reward.objects.exists()


def test_detail_steps(registry, users, client):
    case = filed_tip_off(registry, fine="10000000.00")
    reward = rewards.propose(case, 1, users["nanguan"])
    client.force_login(users["nanguan"])
    url = reverse("complaints:reward_detail", args=[reward.pk])
    html = client.get(url).content.decode()
    assert "奖励金额" in html and "500,000.00 元" in html and 'id="qg-reward-joint"' in html
    assert 'id="step-approve"' in html and 'id="step-pay"' not in html
    # Joint approval without the finance department's date: refused in Chinese, nothing changes.
    response = client.post(url, {"step": "approve", "approve-on": "2026-06-10"})
    assert response.status_code == 400 and "财政部门" in response.content.decode()
    reward.refresh_from_db()
    assert reward.status == Reward.Status.PROPOSED
    response = client.post(url, {"step": "approve", "approve-on": "2026-06-10",
                                 "approve-finance_approved_on": "2026-06-08"})
    assert response.status_code == 302
    client.post(url, {"step": "notify", "notify-on": "2026-06-12"})
    reward.refresh_from_db()
    assert reward.status == Reward.Status.NOTIFIED and reward.claim_due_on is not None
    assert reward.claim_due_on.strftime("%Y-%m-%d") in client.get(url).content.decode()
    client.post(url, {"step": "claim", "claim-on": "2026-06-20"})
    response = client.post(url, {"step": "pay", "pay-on": "2026-06-25", "pay-reference": ""})
    assert response.status_code == 400
    client.post(url, {"step": "pay", "pay-on": "2026-06-25", "pay-reference": "GK-88"})
    reward.refresh_from_db()
    assert (reward.status, reward.payment_reference, reward.paid_on) == (Reward.Status.PAID, "GK-88", dt.date(2026, 6, 25))
    # A step not offered in this status is refused.
    assert client.post(url, {"step": "approve"}).status_code == 403


def test_list_filters(registry, users, client):
    joint = rewards.propose(filed_tip_off(registry, fine="10000000.00"), 1, users["nanguan"])
    small = rewards.propose(filed_tip_off(registry, fine="1000.00"), 3, users["nanguan"])
    client.force_login(users["nanguan"])
    html = client.get(reverse("complaints:reward_list"), {"joint_approval_required": "true"}).content.decode()
    assert joint.case.number in html and small.case.number not in html


def test_no_reporter_data_on_reward_pages(registry, users, client):
    from qualitygov.complaints.models import ReporterIdentity

    case = filed_tip_off(registry)
    ReporterIdentity.objects.create(submission=case.submission, name="王小明", phone="13812345678",
                                    id_number="220102199001011234", address="吉林省长春市南关区幸福街8号")
    reward = rewards.propose(case, 1, users["nanguan"])
    for role in ("nanguan", "admin"):
        client.force_login(users[role])
        for url in (reverse("complaints:reward_detail", args=[reward.pk]), reverse("complaints:reward_list"),
                    reverse("complaints:reward_propose", args=[case.pk])):
            html = client.get(url).content.decode()
            for secret in ("王小明", "13812345678", "220102199001011234", "幸福街8号"):
                assert secret not in html, (role, url, secret)
