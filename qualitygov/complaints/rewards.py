"""Rewards for tip-offs on major violations (市场监管领域重大违法行为举报奖励暂行办法, 国市监稽规〔2021〕4号,
in force 2021-12-01; summarised in ``shared/policy/RULES.md`` "Tip-off rewards").

The amount (``compute``):

* level 1: 5 % of the fines and confiscations, at least 5,000 CNY;
  level 2: 3 %, at least 3,000 CNY; level 3: 1 %, at least 1,000 CNY;
* the minimum also applies when there is no fine or confiscation;
* at most 1,000,000 CNY per case;
* 500,000 CNY or more is decided jointly with the finance department.

Arithmetic is in ``Decimal``; the share is rounded to the fen (0.01 CNY) half up (``ROUND_HALF_UP``,
四舍五入 — the measures do not state a rounding rule; this is our choice, stated and tested) *before*
the floor and the cap are applied, so the amount shown is the amount compared with 500,000.

The workflow (one transaction per step; a refused step raises ``RewardRefused`` with a stable
``code`` and a Chinese message and changes nothing):

``propose`` (a filed tip-off with its penalty linked, first reporter only) → ``approve`` (with the
finance department's joint approval date when required) → ``notify`` (the claim deadline: 30
working days, ``clocks.reward_claim_due_on``) → ``claim`` → ``pay`` (payment reference);
``expire_unclaimed`` (daily) marks rewards not claimed by their deadline; ``refuse`` ends a reward
that is not paid with a reason. Each step is written to the case's history.

Nothing here reads or returns reporter data: paying the reporter goes through the designated role
and ``complaints.protection``.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from qualitygov.complaints import clocks
from qualitygov.complaints.models import Case, CaseEvent, Reward
from qualitygov.core import audit
from qualitygov.core.roles import CHANGE

__all__ = ["CAP", "FEN", "JOINT_APPROVAL_FROM", "LEVELS", "Computation", "RewardRefused", "approve", "breakdown",
           "can_change", "claim", "compute", "eligible_cases", "expire_unclaimed", "notify", "pay", "propose",
           "refuse"]

FEN = Decimal("0.01")
# Level → (share of fines and confiscations, minimum amount in CNY). 国市监稽规〔2021〕4号 [reported].
LEVELS: dict[int, tuple[Decimal, Decimal]] = {
    1: (Decimal("0.05"), Decimal("5000.00")),
    2: (Decimal("0.03"), Decimal("3000.00")),
    3: (Decimal("0.01"), Decimal("1000.00")),
}
CAP = Decimal("1000000.00")                  # at most 1,000,000 CNY per case
JOINT_APPROVAL_FROM = Decimal("500000.00")  # 500,000 CNY or more: joint decision with the finance department


class RewardRefused(ValidationError):
    """A reward step the rules do not allow; ``code`` names the rule, the message says why in Chinese."""

    def __init__(self, message, code: str):
        super().__init__(message, code=code)
        self.code = code


class Computation(NamedTuple):
    """What ``compute`` returns; unpacks as (amount, floor_applied, capped, joint_approval_required)."""

    amount: Decimal
    floor_applied: bool
    capped: bool
    joint_approval_required: bool


def _money(value, label: str) -> Decimal:
    if value is None or value == "":
        return Decimal("0.00")
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise RewardRefused(_("%(label)s不是有效的金额。") % {"label": label}, code="bad_amount") from None
    if not amount.is_finite() or amount < 0:
        raise RewardRefused(_("%(label)s不能为负数。") % {"label": label}, code="bad_amount")
    return amount


def _level(level) -> int:
    try:
        level = int(level)
    except (TypeError, ValueError):
        level = 0
    if level not in LEVELS:
        raise RewardRefused(_("奖励等级应为一级、二级或三级。"), code="bad_level")
    return level


def compute(level, fines, confiscations) -> Computation:
    """The reward for a tip-off of ``level`` (1–3) whose case ended in ``fines`` and ``confiscations`` (CNY).

    amount = share × (fines + confiscations), rounded to the fen half up; raised to the level's
    minimum when lower (also when there is no fine), lowered to 1,000,000 when higher; joint approval
    with the finance department is required from 500,000 (国市监稽规〔2021〕4号, see module docstring).
    """
    level = _level(level)
    base = _money(fines, _("罚款金额")) + _money(confiscations, _("没收金额"))
    rate, floor = LEVELS[level]
    amount = (base * rate).quantize(FEN, rounding=ROUND_HALF_UP)
    floor_applied = amount < floor
    if floor_applied:
        amount = floor
    capped = amount > CAP
    if capped:
        amount = CAP
    return Computation(amount, floor_applied, capped, amount >= JOINT_APPROVAL_FROM)


def breakdown(level, fines, confiscations) -> list[tuple[str, str]]:
    """The computation line by line, as (label, value) pairs for the pages and the API."""
    level = _level(level)
    fines_d, confiscations_d = _money(fines, _("罚款金额")), _money(confiscations, _("没收金额"))
    rate, floor = LEVELS[level]
    base = fines_d + confiscations_d
    share = (base * rate).quantize(FEN, rounding=ROUND_HALF_UP)
    result = compute(level, fines_d, confiscations_d)
    percent = f"{(rate * 100).normalize()}%"
    lines = [
        (_("罚款金额"), _yuan(fines_d)),
        (_("没收金额"), _yuan(confiscations_d)),
        (_("罚没款合计"), _yuan(base)),
        (_("奖励比例"), _("%(level)s级：%(percent)s") % {"level": _chinese_level(level), "percent": percent}),
        (_("按比例计算（四舍五入到分）"), f"{_yuan(base)} × {percent} = {_yuan(share)}"),
        (_("最低奖励"), _yuan(floor) + ("，" + _("已适用") if result.floor_applied else "，" + _("未适用"))),
        (_("最高限额"), _yuan(CAP) + ("，" + _("已适用") if result.capped else "，" + _("未适用"))),
        (_("奖励金额"), _yuan(result.amount)),
        (_("需会同财政部门决定（50万元以上）"), _("是") if result.joint_approval_required else _("否")),
    ]
    return lines


def _chinese_level(level: int) -> str:
    return {1: _("一"), 2: _("二"), 3: _("三")}[level]


def _yuan(amount: Decimal) -> str:
    return _("%(amount)s 元") % {"amount": f"{amount:,.2f}"}


# --------------------------------------------------------------------------------------------------
# Workflow


def can_change(user, case: Case) -> bool:
    """Whether ``user`` may take reward steps on ``case``: officers of the case's handling unit (or above)."""
    return Case.objects.restrict(user, CHANGE).filter(pk=case.pk).exists()


def _today() -> dt.date:
    return timezone.localdate()


def _event(case: Case, user, text: str, data: dict) -> None:
    # The case history has no reward kind of its own yet (requested); a note carrying the step.
    CaseEvent.objects.create(case=case, at=timezone.now(), kind=CaseEvent.Kind.REWARD, by=user, text=text,
                             data={"reward": data})


def _check_user(user, case: Case) -> None:
    if not can_change(user, case):
        raise RewardRefused(_("您不是该案件承办单位的执法人员，不能办理其奖励。"), code="not_permitted")


def _penalty_linked(case: Case) -> bool:
    return bool(case.penalty_decision_number) or case.fine_amount is not None or case.confiscation_amount is not None


def eligible_cases(user):
    """Filed tip-offs with a penalty linked and no reward yet, among the cases ``user`` may change."""
    return (Case.objects.restrict(user, CHANGE)
            .filter(kind=Case.Kind.TIP_OFF, filing_decision=Case.FilingDecision.FILED, merged_into__isnull=True,
                    reward__isnull=True)
            .exclude(status=Case.Status.MERGED)
            .filter(~Q(penalty_decision_number="") | Q(fine_amount__isnull=False)
                    | Q(confiscation_amount__isnull=False))
            .select_related("handling_unit"))


def _first_reporter_check(case: Case) -> None:
    """Only the first reporter is rewarded (国市监稽规〔2021〕4号 [verify]). A tip-off merged into another
    case is a later report of the same facts; an earlier tip-off merged into this one means its reporter,
    not this one, came first."""
    if case.merged_into_id is not None or case.status == Case.Status.MERGED:
        raise RewardRefused(
            _("该举报已合并至案件 %(number)s：同一违法行为只奖励最先举报人，应在合并后的案件上办理奖励。")
            % {"number": case.merged_into.number if case.merged_into_id else "—"}, code="not_first_reporter")
    earlier = (Case.objects.filter(merged_into=case, kind=Case.Kind.TIP_OFF)
               .filter(Q(submission__received_at__lt=case.submission.received_at)
                       | Q(received_on__lt=case.received_on))
               .order_by("received_on", "submission__received_at").first())
    if earlier is not None:
        raise RewardRefused(
            _("较早收到的举报 %(number)s（%(day)s）已合并至本案：同一违法行为只奖励最先举报人，"
              "本案举报人不是最先举报人。") % {"number": earlier.number, "day": f"{earlier.received_on:%Y-%m-%d}"},
            code="not_first_reporter")


def propose(case: Case, level, user, *, note: str = "") -> Reward:
    """Propose a reward for a filed tip-off with its penalty linked, from the case's fines and confiscations."""
    level = _level(level)
    with transaction.atomic(), audit.attributed_to(user):
        case = Case.objects.select_for_update().select_related("submission").get(pk=case.pk)
        _check_user(user, case)
        if case.kind != Case.Kind.TIP_OFF:
            raise RewardRefused(_("只有举报案件可以给予举报奖励。"), code="not_tip_off")
        if case.filing_decision != Case.FilingDecision.FILED:
            raise RewardRefused(_("该举报尚未立案，不能拟定奖励。"), code="not_filed")
        if not _penalty_linked(case):
            raise RewardRefused(_("该举报尚未关联行政处罚（罚款、没收金额），不能拟定奖励。"), code="no_penalty")
        if Reward.objects.filter(case=case).exists():
            raise RewardRefused(_("该举报已有奖励记录。"), code="exists")
        _first_reporter_check(case)
        fines, confiscations = case.fine_amount or Decimal("0"), case.confiscation_amount or Decimal("0")
        result = compute(level, fines, confiscations)
        reward = Reward.objects.create(
            case=case, level=level, fines=fines, confiscations=confiscations, amount=result.amount,
            floor_applied=result.floor_applied, capped=result.capped,
            joint_approval_required=result.joint_approval_required, first_reporter_confirmed=True, note=note)
        _event(case, user, _("拟给予%(level)s举报奖励 %(amount)s 元") % {"level": reward.get_level_display(),
                                                                   "amount": f"{reward.amount:,.2f}"},
               {"step": "propose", "level": level, "amount": str(reward.amount)})
    return reward


def _locked(reward: Reward, user, allowed: tuple[str, ...], what: str) -> Reward:
    reward = Reward.objects.select_for_update().select_related("case").get(pk=reward.pk)
    _check_user(user, reward.case)
    if reward.status not in allowed:
        raise RewardRefused(_("奖励状态为“%(status)s”，不能%(what)s。") % {"status": reward.get_status_display(),
                                                                  "what": what}, code="wrong_status")
    return reward


def approve(reward: Reward, user, *, on: dt.date | None = None, finance_approved_on: dt.date | None = None) -> Reward:
    """Approve a proposed reward; 500,000 CNY or more needs the finance department's joint approval first."""
    on = on or _today()
    with transaction.atomic(), audit.attributed_to(user):
        reward = _locked(reward, user, (Reward.Status.PROPOSED,), _("批准"))
        finance_on = finance_approved_on or reward.finance_approved_on
        if reward.joint_approval_required and finance_on is None:
            raise RewardRefused(_("奖励金额在50万元以上，应会同财政部门决定：请先填写财政部门会签日期。"),
                                code="finance_approval_required")
        if finance_on is not None and finance_on > on:
            raise RewardRefused(_("财政部门会签日期不能晚于批准日期。"), code="bad_date")
        reward.status, reward.approved_on, reward.approved_by = Reward.Status.APPROVED, on, user
        reward.finance_approved_on = finance_on
        reward.save()
        _event(reward.case, user, _("批准举报奖励"), {"step": "approve", "on": on.isoformat()})
    return reward


def notify(reward: Reward, user, *, on: dt.date | None = None) -> Reward:
    """Tell the reporter of an approved reward; the claim deadline is 30 working days later. When the
    holiday calendar does not cover that date yet it is left empty (never guessed) and computed by
    ``expire_unclaimed`` once the calendar is updated."""
    on = on or _today()
    with transaction.atomic(), audit.attributed_to(user):
        reward = _locked(reward, user, (Reward.Status.APPROVED,), _("告知"))
        if reward.approved_on and on < reward.approved_on:
            raise RewardRefused(_("告知日期不能早于批准日期。"), code="bad_date")
        reward.status, reward.notified_on = Reward.Status.NOTIFIED, on
        reward.claim_due_on = clocks.pending(clocks.reward_claim_due_on, on)
        reward.save()
        _event(reward.case, user, _("告知举报人领取奖励"), {"step": "notify", "on": on.isoformat(),
                                                   "claim_due_on": reward.claim_due_on and
                                                   reward.claim_due_on.isoformat()})
    return reward


def claim(reward: Reward, user, *, on: dt.date | None = None) -> Reward:
    """Record the reporter's claim, within the claim deadline."""
    on = on or _today()
    with transaction.atomic(), audit.attributed_to(user):
        reward = _locked(reward, user, (Reward.Status.NOTIFIED,), _("登记申领"))
        if on < reward.notified_on:
            raise RewardRefused(_("申领日期不能早于告知日期。"), code="bad_date")
        if reward.claim_due_on is not None and on > reward.claim_due_on:
            raise RewardRefused(_("已超过申领期限（%(day)s），不能申领。") % {"day": f"{reward.claim_due_on:%Y-%m-%d}"},
                                code="claim_late")
        reward.status, reward.claimed_on = Reward.Status.CLAIMED, on
        reward.save()
        _event(reward.case, user, _("举报人申领奖励"), {"step": "claim", "on": on.isoformat()})
    return reward


def pay(reward: Reward, user, *, reference: str, on: dt.date | None = None) -> Reward:
    """Record the payment of a claimed reward with its payment reference."""
    on = on or _today()
    reference = (reference or "").strip()
    with transaction.atomic(), audit.attributed_to(user):
        reward = _locked(reward, user, (Reward.Status.CLAIMED,), _("登记发放"))
        if not reference:
            raise RewardRefused(_("请填写发放凭证号。"), code="reference_required")
        if on < reward.claimed_on:
            raise RewardRefused(_("发放日期不能早于申领日期。"), code="bad_date")
        reward.status, reward.paid_on, reward.payment_reference = Reward.Status.PAID, on, reference
        reward.save()
        _event(reward.case, user, _("发放举报奖励"), {"step": "pay", "on": on.isoformat()})
    return reward


def refuse(reward: Reward, user, *, reason: str) -> Reward:
    """End a reward that is not yet claimed or paid, with the reason."""
    reason = (reason or "").strip()
    with transaction.atomic(), audit.attributed_to(user):
        reward = _locked(reward, user, (Reward.Status.PROPOSED, Reward.Status.APPROVED, Reward.Status.NOTIFIED),
                         _("不予奖励"))
        if not reason:
            raise RewardRefused(_("请说明不予奖励的理由。"), code="reason_required")
        reward.status = Reward.Status.REFUSED
        reward.note = (reward.note + "\n" if reward.note else "") + _("不予奖励：%(reason)s") % {"reason": reason}
        reward.save()
        _event(reward.case, user, _("不予奖励：%(reason)s") % {"reason": reason}, {"step": "refuse"})
    return reward


def expire_unclaimed(today: dt.date | None = None) -> dict:
    """Daily: compute claim deadlines left pending for the calendar, then mark rewards not claimed by
    their deadline as expired (set-based; one audit entry for the run). Returns the counts."""
    today = today or _today()
    filled = 0
    pending = Reward.objects.filter(status=Reward.Status.NOTIFIED, claim_due_on__isnull=True)
    for reward_id, notified_on in pending.values_list("pk", "notified_on"):  # few rows: only calendar gaps
        due = clocks.pending(clocks.reward_claim_due_on, notified_on)
        if due is not None:
            filled += Reward.objects.filter(pk=reward_id, claim_due_on__isnull=True).update(claim_due_on=due)
    with transaction.atomic():
        late = Reward.objects.filter(status=Reward.Status.NOTIFIED, claim_due_on__lt=today)
        ids = list(late.values_list("pk", flat=True))
        expired = Reward.objects.filter(pk__in=ids).update(status=Reward.Status.EXPIRED, updated=timezone.now())
        if expired:
            case_ids = Reward.objects.filter(pk__in=ids).values_list("case_id", flat=True)
            now = timezone.now()
            CaseEvent.objects.bulk_create([
                CaseEvent(case_id=case_id, at=now, kind=CaseEvent.Kind.REWARD, text=_("逾期未申领举报奖励"),
                          data={"reward": {"step": "expire", "on": today.isoformat()}}) for case_id in case_ids])
            audit.record("update", None, model=Reward, message=_("举报奖励逾期未申领：%(count)d 条") % {"count": expired},
                         after={"expired_reward_ids": ids, "on": today.isoformat()})
    return {"expired": expired, "claim_due_filled": filled}
