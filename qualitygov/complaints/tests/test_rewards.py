"""Tip-off rewards (issue 6, item 6): the computation from the rule's own numbers (国市监稽规〔2021〕4号 as
summarised in shared/policy/RULES.md) and the workflow propose → approve → notify → claim → pay,
with expiry, refusal and the first-reporter rule.

``make_case`` builds cases directly (the intake and handling services are other areas); the other
test modules of this area import it.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.utils import timezone

from qualitygov.complaints import rewards
from qualitygov.complaints.models import Case, CaseEvent, Reward, Submission
from qualitygov.core.models import AuditLog

D = Decimal
_serial = itertools.count(1)


def make_case(registry, key: str = "nanguan", *, kind: str = Case.Kind.TIP_OFF, facts: str = "", product=True,
              received_on: dt.date = dt.date(2026, 3, 2), unit: str | None = None, **fields) -> Case:
    """A case against the ``registry`` fixture's entity ``key``, handled by its county."""
    n = next(_serial)
    entity = registry[key]["entity"]
    submission = Submission.objects.create(
        tracking_number=f"T{n:010d}", received_at=timezone.make_aware(dt.datetime.combine(received_on, dt.time(9))),
        description=facts or "举报内容")
    values = {"number": f"C{n:010d}", "submission": submission, "kind": kind, "received_on": received_on,
              "respondent_entity": entity, "respondent_name": entity.name, "handling_unit_id": unit or entity.region_id,
              "product": registry[key]["product"] if product else None,
              "product_name": registry[key]["product"].name if product else "", "facts": facts or "生产销售不合格制动软管"}
    values.update(fields)
    return Case.objects.create(**values)


def filed_tip_off(registry, key: str = "nanguan", *, fine="100000.00", confiscation="0.00", **fields) -> Case:
    """A filed tip-off with its penalty linked (what the handling area's link_penalty leaves behind)."""
    values = {"status": Case.Status.FILED, "filing_decision": Case.FilingDecision.FILED,
              "filing_decided_on": dt.date(2026, 3, 10), "penalty_decision_number": "吉南市监罚〔2026〕12号",
              "penalty_decided_on": dt.date(2026, 5, 6), "fine_amount": None if fine is None else D(fine),
              "confiscation_amount": None if confiscation is None else D(confiscation)}
    return make_case(registry, key, **{**values, **fields})


# --- the computation ------------------------------------------------------------------------------

@pytest.mark.parametrize("level,fines,confiscations,amount,floor,capped,joint", [
    # level 1: 5 % of fines and confiscations
    (1, "200000", "100000", "15000.00", False, False, False),
    # each level's floor, with and without a fine (the floor applies when there is no fine)
    (1, "50000", "0", "5000.00", True, False, False),       # 2,500 → 5,000
    (1, "0", "0", "5000.00", True, False, False),
    (2, "80000", "0", "3000.00", True, False, False),       # 2,400 → 3,000
    (2, "0", "0", "3000.00", True, False, False),
    (3, "90000", "0", "1000.00", True, False, False),       # 900 → 1,000
    (3, "0", "0", "1000.00", True, False, False),
    # exactly at the floor: not "applied"
    (1, "100000", "0", "5000.00", False, False, False),
    # the cap: level 1 on 30,000,000 would be 1,500,000
    (1, "30000000", "0", "1000000.00", False, True, True),
    (2, "20000000", "20000000", "1000000.00", False, True, True),  # 1,200,000 → 1,000,000
    (1, "20000000", "0", "1000000.00", False, False, True),        # exactly the cap: not "capped"
    # joint approval with the finance department from 500,000 exactly
    (1, "10000000", "0", "500000.00", False, False, True),
    (1, "9999999.80", "0", "499999.99", False, False, False),
    (2, "16666666.67", "0", "500000.00", False, False, True),      # 499,999.9999 rounds up to the fen
    # rounding to the fen, half up: 1 % of 123,456.50 = 1,234.565 → 1,234.57 (half-even would give .56)
    (3, "123456.50", "0", "1234.57", False, False, False),
    (2, "100000.50", "50000.00", "4500.02", False, False, False),   # 150,000.50 × 3 % = 4,500.015 → 4,500.02
])
def test_compute_by_the_rule(level, fines, confiscations, amount, floor, capped, joint):
    result = rewards.compute(level, D(fines), D(confiscations))
    assert result == (D(amount), floor, capped, joint)
    assert isinstance(result.amount, Decimal) and result.amount.as_tuple().exponent == -2


def test_compute_unpacks_as_the_interface_says():
    amount, floor_applied, capped, joint = rewards.compute(3, "250000", None)
    assert (amount, floor_applied, capped, joint) == (D("2500.00"), False, False, False)


@pytest.mark.parametrize("level,fines,code", [(0, "1", "bad_level"), (4, "1", "bad_level"), ("一", "1", "bad_level"),
                                              (1, "-5", "bad_amount"), (1, "abc", "bad_amount"),
                                              (1, "NaN", "bad_amount")])
def test_compute_refuses_bad_input(level, fines, code):
    with pytest.raises(rewards.RewardRefused) as refused:
        rewards.compute(level, fines, 0)
    assert refused.value.code == code
    assert refused.value.messages[0]  # a Chinese sentence
    assert any("\u4e00" <= ch <= "\u9fff" for ch in refused.value.messages[0])


def test_breakdown_shows_each_line():
    lines = dict(rewards.breakdown(1, D("30000000"), D("0")))
    assert lines["罚没款合计"] == "30,000,000.00 元"
    assert lines["按比例计算（四舍五入到分）"] == "30,000,000.00 元 × 5% = 1,500,000.00 元"
    assert lines["最高限额"].endswith("已适用")
    assert lines["最低奖励"].endswith("未适用")
    assert lines["奖励金额"] == "1,000,000.00 元"
    assert lines["需会同财政部门决定（50万元以上）"] == "是"


# --- the workflow ---------------------------------------------------------------------------------

@pytest.mark.django_db
def test_full_workflow(registry, users):
    case = filed_tip_off(registry, fine="300000.00", confiscation="20000.00")
    officer = users["nanguan"]
    reward = rewards.propose(case, 1, officer)
    assert (reward.status, reward.amount, reward.floor_applied, reward.first_reporter_confirmed) == \
        (Reward.Status.PROPOSED, D("16000.00"), False, True)
    rewards.approve(reward, officer, on=dt.date(2026, 6, 1))
    # Notified on Friday 2026-09-18: 30 working days cross Mid-Autumn (09-25) and National Day
    # (10-01..10-07), with the make-up working days Sunday 09-20 and Saturday 10-10 counted, and start
    # the day after notice → Thursday 2026-11-05 (by hand: 4 days to 09-24, 3 to 09-30, then from 10-08).
    reward = rewards.notify(reward, officer, on=dt.date(2026, 9, 18))
    assert reward.claim_due_on == dt.date(2026, 11, 5)
    reward = rewards.claim(reward, officer, on=dt.date(2026, 11, 5))
    reward = rewards.pay(reward, officer, reference="GK-2026-0001", on=dt.date(2026, 11, 10))
    reward.refresh_from_db()
    assert (reward.status, reward.payment_reference, reward.paid_on) == \
        (Reward.Status.PAID, "GK-2026-0001", dt.date(2026, 11, 10))
    steps = [e.data["reward"]["step"] for e in CaseEvent.objects.filter(case=case).order_by("id")]
    assert steps == ["propose", "approve", "notify", "claim", "pay"]
    assert AuditLog.objects.filter(object_id=str(reward.pk), user=officer).exists()


@pytest.mark.django_db
def test_claim_deadline_crosses_national_day(registry, users):
    """The 30 working days come from clocks.reward_claim_due_on and skip the holidays."""
    from qualitygov.core.workdays import working_days_between

    case = filed_tip_off(registry)
    reward = rewards.propose(case, 2, users["nanguan"])
    rewards.approve(reward, users["nanguan"], on=dt.date(2026, 9, 1))
    reward = rewards.notify(reward, users["nanguan"], on=dt.date(2026, 9, 18))
    assert working_days_between(dt.date(2026, 9, 18), reward.claim_due_on) == 30
    assert (reward.claim_due_on - dt.date(2026, 9, 18)).days > 42  # more than 6 calendar weeks


@pytest.mark.django_db
@pytest.mark.parametrize("fields,code", [
    ({"kind": Case.Kind.COMPLAINT}, "not_tip_off"),
    ({"filing_decision": "", "status": Case.Status.VERIFYING}, "not_filed"),
    ({"filing_decision": Case.FilingDecision.NOT_FILED, "status": Case.Status.NOT_FILED}, "not_filed"),
])
def test_propose_refused_unless_filed_tip_off(registry, users, fields, code):
    case = filed_tip_off(registry)
    Case.objects.filter(pk=case.pk).update(**fields)
    with pytest.raises(rewards.RewardRefused) as refused:
        rewards.propose(Case.objects.get(pk=case.pk), 1, users["nanguan"])
    assert refused.value.code == code
    assert not Reward.objects.exists()


@pytest.mark.django_db
def test_propose_needs_a_penalty(registry, users):
    case = filed_tip_off(registry, fine=None, confiscation=None, penalty_decision_number="")
    with pytest.raises(rewards.RewardRefused) as refused:
        rewards.propose(case, 1, users["nanguan"])
    assert refused.value.code == "no_penalty" and "行政处罚" in refused.value.messages[0]
    # A penalty without a fine (decision number only) gets the floor.
    Case.objects.filter(pk=case.pk).update(penalty_decision_number="吉南市监罚〔2026〕13号")
    reward = rewards.propose(Case.objects.get(pk=case.pk), 3, users["nanguan"])
    assert (reward.amount, reward.floor_applied) == (D("1000.00"), True)


@pytest.mark.django_db
def test_only_once_per_case(registry, users):
    case = filed_tip_off(registry)
    rewards.propose(case, 1, users["nanguan"])
    with pytest.raises(rewards.RewardRefused) as refused:
        rewards.propose(case, 2, users["nanguan"])
    assert refused.value.code == "exists"
    assert Reward.objects.count() == 1


@pytest.mark.django_db
def test_first_reporter_only(registry, users):
    """An earlier tip-off on the same respondent merged into this case: this reporter was not first.
    A tip-off merged into another: the reward belongs to the case it was merged into."""
    later = filed_tip_off(registry, received_on=dt.date(2026, 3, 5))
    earlier = make_case(registry, received_on=dt.date(2026, 3, 2), status=Case.Status.MERGED, merged_into=later)
    with pytest.raises(rewards.RewardRefused) as refused:
        rewards.propose(later, 1, users["nanguan"])
    assert refused.value.code == "not_first_reporter"
    assert earlier.number in refused.value.messages[0] and "最先举报人" in refused.value.messages[0]

    first = filed_tip_off(registry, received_on=dt.date(2026, 3, 1))
    merged = filed_tip_off(registry, received_on=dt.date(2026, 3, 3))
    Case.objects.filter(pk=merged.pk).update(status=Case.Status.MERGED, merged_into=first)
    with pytest.raises(rewards.RewardRefused) as refused:
        rewards.propose(Case.objects.get(pk=merged.pk), 1, users["nanguan"])
    assert refused.value.code == "not_first_reporter" and first.number in refused.value.messages[0]
    # A later duplicate merged into the first case does not stop the first case's reward.
    assert rewards.propose(first, 1, users["nanguan"]).first_reporter_confirmed
    assert Reward.objects.count() == 1


@pytest.mark.django_db
def test_joint_approval_needs_finance_date(registry, users):
    case = filed_tip_off(registry, fine="10000000.00")
    officer = users["nanguan"]
    reward = rewards.propose(case, 1, officer)
    assert (reward.amount, reward.joint_approval_required) == (D("500000.00"), True)
    with pytest.raises(rewards.RewardRefused) as refused:
        rewards.approve(reward, officer, on=dt.date(2026, 6, 10))
    assert refused.value.code == "finance_approval_required" and "财政部门" in refused.value.messages[0]
    reward.refresh_from_db()
    assert reward.status == Reward.Status.PROPOSED and reward.approved_on is None
    with pytest.raises(rewards.RewardRefused):
        rewards.approve(reward, officer, on=dt.date(2026, 6, 10), finance_approved_on=dt.date(2026, 6, 11))
    reward = rewards.approve(reward, officer, on=dt.date(2026, 6, 10), finance_approved_on=dt.date(2026, 6, 9))
    assert (reward.status, reward.finance_approved_on) == (Reward.Status.APPROVED, dt.date(2026, 6, 9))


@pytest.mark.django_db
def test_just_below_joint_threshold_approves_alone(registry, users):
    case = filed_tip_off(registry, fine="9999999.80")
    reward = rewards.propose(case, 1, users["nanguan"])
    assert (reward.amount, reward.joint_approval_required) == (D("499999.99"), False)
    assert rewards.approve(reward, users["nanguan"], on=dt.date(2026, 6, 10)).status == Reward.Status.APPROVED


@pytest.mark.django_db
def test_steps_in_order_only(registry, users):
    officer = users["nanguan"]
    reward = rewards.propose(filed_tip_off(registry), 1, officer)
    for step, kwargs in ((rewards.notify, {}), (rewards.claim, {}), (rewards.pay, {"reference": "X"})):
        with pytest.raises(rewards.RewardRefused) as refused:
            step(reward, officer, **kwargs)
        assert refused.value.code == "wrong_status" and "拟奖励" in refused.value.messages[0]
    reward.refresh_from_db()
    assert reward.status == Reward.Status.PROPOSED


@pytest.mark.django_db
def test_late_claim_and_missing_reference_refused(registry, users):
    officer = users["nanguan"]
    reward = rewards.propose(filed_tip_off(registry), 1, officer)
    rewards.approve(reward, officer, on=dt.date(2026, 6, 1))
    reward = rewards.notify(reward, officer, on=dt.date(2026, 6, 1))
    with pytest.raises(rewards.RewardRefused) as refused:
        rewards.claim(reward, officer, on=reward.claim_due_on + dt.timedelta(days=1))
    assert refused.value.code == "claim_late"
    reward = rewards.claim(reward, officer, on=reward.claim_due_on)
    with pytest.raises(rewards.RewardRefused) as refused:
        rewards.pay(reward, officer, reference="  ")
    assert refused.value.code == "reference_required"
    reward.refresh_from_db()
    assert reward.status == Reward.Status.CLAIMED and reward.payment_reference == ""


@pytest.mark.django_db
def test_expire_unclaimed(registry, users):
    officer = users["nanguan"]
    late = rewards.propose(filed_tip_off(registry), 1, officer)
    on_time = rewards.propose(filed_tip_off(registry), 1, officer)
    for reward in (late, on_time):
        rewards.approve(reward, officer, on=dt.date(2026, 5, 1))
    late = rewards.notify(late, officer, on=dt.date(2026, 5, 6))
    on_time = rewards.notify(on_time, officer, on=dt.date(2026, 6, 20))
    result = rewards.expire_unclaimed(late.claim_due_on + dt.timedelta(days=1))
    assert result["expired"] == 1
    late.refresh_from_db()
    on_time.refresh_from_db()
    assert (late.status, on_time.status) == (Reward.Status.EXPIRED, Reward.Status.NOTIFIED)
    assert rewards.expire_unclaimed(late.claim_due_on + dt.timedelta(days=1))["expired"] == 0  # idempotent
    with pytest.raises(rewards.RewardRefused):
        rewards.claim(late, officer, on=late.claim_due_on)


@pytest.mark.django_db
def test_notice_beyond_the_calendar_leaves_the_deadline_pending(registry, users):
    """Notified in December 2026: the 30th working day falls in 2027, which the holiday data does not
    cover yet — the date is left empty (never guessed) and the reward does not expire meanwhile."""
    officer = users["nanguan"]
    reward = rewards.propose(filed_tip_off(registry), 1, officer)
    rewards.approve(reward, officer, on=dt.date(2026, 12, 1))
    reward = rewards.notify(reward, officer, on=dt.date(2026, 12, 15))
    assert reward.claim_due_on is None
    assert rewards.expire_unclaimed(dt.date(2027, 6, 1)) == {"expired": 0, "claim_due_filled": 0}
    reward.refresh_from_db()
    assert reward.status == Reward.Status.NOTIFIED


@pytest.mark.django_db
def test_pending_deadline_filled_once_the_calendar_covers_it(registry, users, monkeypatch):
    """When the next year's holidays are published the daily run computes the deadline, then expires."""
    from qualitygov.complaints import clocks

    officer = users["nanguan"]
    reward = rewards.propose(filed_tip_off(registry), 1, officer)
    rewards.approve(reward, officer, on=dt.date(2026, 12, 1))
    rewards.notify(reward, officer, on=dt.date(2026, 12, 15))
    calls = []

    def covered(notified_on):  # as if the 2027 calendar had been added
        calls.append(notified_on)
        return dt.date(2027, 1, 29)

    monkeypatch.setattr(clocks, "reward_claim_due_on", covered)
    assert rewards.expire_unclaimed(dt.date(2027, 1, 29)) == {"expired": 0, "claim_due_filled": 1}
    assert calls == [dt.date(2026, 12, 15)]
    assert rewards.expire_unclaimed(dt.date(2027, 1, 30)) == {"expired": 1, "claim_due_filled": 0}
    reward.refresh_from_db()
    assert (reward.claim_due_on, reward.status) == (dt.date(2027, 1, 29), Reward.Status.EXPIRED)


@pytest.mark.django_db
def test_refuse_needs_a_reason(registry, users):
    officer = users["nanguan"]
    reward = rewards.propose(filed_tip_off(registry), 2, officer)
    with pytest.raises(rewards.RewardRefused) as refused:
        rewards.refuse(reward, officer, reason="")
    assert refused.value.code == "reason_required"
    reward = rewards.refuse(reward, officer, reason="举报人系负有法定职责的工作人员")
    assert reward.status == Reward.Status.REFUSED and "负有法定职责" in reward.note


@pytest.mark.django_db
def test_other_unit_may_not_propose(registry, users):
    case = filed_tip_off(registry)
    with pytest.raises(rewards.RewardRefused) as refused:
        rewards.propose(case, 1, users["yanji"])
    assert refused.value.code == "not_permitted"
    with pytest.raises(rewards.RewardRefused):
        rewards.propose(case, 1, users["inspector"])
    assert not Reward.objects.exists()
    assert rewards.propose(case, 1, users["changchun"]).amount == D("5000.00")
