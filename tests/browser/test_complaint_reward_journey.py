"""Rewards and duplicates in a real browser (issue 6, "Done when": "a reward computes by the rule,
including the floor, the cap and the joint-approval flag; a near-duplicate submission is offered for
merging").

The 南关区 officer finds two filed tip-offs with their penalties among the cases awaiting a reward,
computes the reward of one with a small fine (the level's floor applies) and of one with a
30,000,000 CNY fine (the 1,000,000 cap applies and the amount needs joint approval with the finance
department), proposes it, and is refused approval until the finance department's date is given.
Then an anonymous tip-off about the same facts arrives through intake; on its case page the
similar-cases panel offers the filed tip-off as a likely duplicate, and the officer merges them.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from qualitygov.complaints import intake, similarity
from qualitygov.complaints.models import Case, CaseEvent, Reward
from qualitygov.complaints.tests.test_rewards import filed_tip_off

pytestmark = pytest.mark.browser

FACTS = "南关区某汽车配件店销售的制动软管无生产许可证，软管接头处开裂漏油，涉嫌以次充好，已有车辆刹车失灵。"
AGAIN = "举报南关区汽车配件店卖的制动软管没有生产许可证，接头开裂漏油导致刹车失灵，涉嫌以次充好。"


def test_reward_computed_by_the_rule_and_duplicate_merged(signed_in, live_server, users, registry):
    similarity.reset_index()
    small = filed_tip_off(registry, fine="20000.00", facts="销售过期食品")
    big = filed_tip_off(registry, fine="30000000.00", facts=FACTS, received_on=dt.date(2026, 3, 2))
    officer = signed_in(users["nanguan"])
    errors = []
    officer.on("pageerror", lambda error: errors.append(str(error)))
    officer.on("dialog", lambda dialog: dialog.accept())

    officer.goto(live_server.url + reverse("complaints:reward_list"))
    with officer.expect_navigation():
        officer.click("#qg-reward-eligible-link")
    table = officer.inner_text("#qg-eligible-cases")
    assert small.number in table and big.number in table

    # The floor: level 2 on a 20,000 fine is 600, raised to 3,000.
    officer.goto(live_server.url + reverse("complaints:reward_propose", args=[small.pk]))
    officer.check("input[name='level'][value='2']")
    with officer.expect_navigation():
        officer.click("#qg-reward-preview")
    computation = officer.inner_text("#qg-reward-computation")
    assert "20,000.00 元 × 3% = 600.00 元" in computation and "3,000.00 元" in computation
    assert officer.locator("#qg-reward-floor").is_visible()
    assert officer.locator("#qg-reward-capped").count() == 0 and officer.locator("#qg-reward-joint").count() == 0

    # The cap and the joint-approval flag: level 1 on 30,000,000 is 1,500,000, capped at 1,000,000.
    officer.goto(live_server.url + reverse("complaints:reward_propose", args=[big.pk]))
    officer.check("input[name='level'][value='1']")
    with officer.expect_navigation():
        officer.click("#qg-reward-preview")
    assert "30,000,000.00 元 × 5% = 1,500,000.00 元" in officer.inner_text("#qg-reward-computation")
    assert officer.locator("#qg-reward-capped").is_visible() and officer.locator("#qg-reward-joint").is_visible()
    assert not Reward.objects.exists()  # computing stores nothing
    with officer.expect_navigation():
        officer.click("#qg-reward-submit")
    assert officer.inner_text("#qg-reward-status") == "拟奖励"
    assert "1,000,000.00 元" in officer.inner_text("#qg-reward-computation")
    with officer.expect_navigation():
        officer.click("#step-approve button[type='submit']")
    assert "财政部门" in officer.inner_text("#step-approve")
    officer.fill("#id_approve-finance_approved_on", timezone.localdate().isoformat())
    with officer.expect_navigation():
        officer.click("#step-approve button[type='submit']")
    assert officer.inner_text("#qg-reward-status") == "已批准"

    # A near-duplicate tip-off arrives and is offered for merging on its case page.
    result = intake.submit(kind=Case.Kind.TIP_OFF, description=AGAIN, anonymous=True,
                           respondent_entity=registry["nanguan"]["entity"], product=registry["nanguan"]["product"],
                           received_at=timezone.make_aware(dt.datetime(2026, 3, 9, 10)))
    duplicate = result.cases[0]
    assert duplicate.handling_unit_id == "220102"
    officer.goto(live_server.url + reverse("complaints:case_detail", args=[duplicate.pk]))
    row = officer.locator(f"#qg-similar-panel tr[data-case='{big.number}']")
    row.wait_for()
    assert row.locator(".qg-likely-duplicate").is_visible()
    assert "同一被投诉人" in row.inner_text() and "同一产品" in row.inner_text()
    button = row.locator(".qg-merge-button")
    assert button.inner_text() == f"将 {duplicate.number} 合并至 {big.number}"
    button.click()
    officer.wait_for_selector("#qg-merge-done")
    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.merged_into_id) == (Case.Status.MERGED, big.pk)
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.MERGED, case__in=[duplicate, big]).count() == 2
    assert not errors, errors
