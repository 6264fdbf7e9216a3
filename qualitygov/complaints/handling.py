"""Handling a complaint or tip-off after intake: every step an officer takes, with its legal clock.

Each step is one function ``step(case, user, *, on, ...)``: it locks the case, checks that ``user`` may
handle it (``Case.objects.restrict(user, CHANGE)``) and that the step is allowed in the case's kind and
status (``STEPS``, ``precondition``), writes a ``CaseEvent`` and recomputes the deadlines the step
affects (``recompute_deadlines``). A refused step raises ``CaseRefused`` (a ``ValidationError`` with a
Chinese message and a stable ``code``) and changes nothing.

The workflows (SAMR Order 20, 市场监督管理投诉举报处理暂行办法, ``shared/policy/laws``):

* complaint: received → accepted or rejected within 7 working days (Art. 14, 15) → mediation (Art. 16–20;
  testing and appraisal time excluded) → mediation ended (Art. 21; after 45 working days at the latest)
  → both parties told within 7 working days (Art. 21) → closed. A violation clue found in mediation is
  verified within 15 (+15) working days (Art. 23).
* tip-off: received → verified (15 (+15) working days to decide whether to open an enforcement case,
  市场监督管理行政处罚程序规定 Art. 18) → filed or not filed → the real-name reporter told within 5
  working days (Art. 31) → the enforcement case and its penalty linked → closed.
* transfer between units with reasons (Art. 29, 37); a jurisdiction dispute the two units do not settle
  within 7 working days goes to their common superior unit (Art. 30, ``escalate_overdue_disputes``).

Working days and the counting rule (the start day is not counted) are those of ``clocks``. A deadline
the holiday calendar cannot compute yet is stored empty with ``case.calendar_pending``; the daily job
(``qualitygov complaints-daily``) fills it once the calendar covers its year.

Respondent notices (``send_respondent_notice``) are built from the case without any reporter data
(Art. 33): no name, phone, address, identity number or e-mail, not even inside the officer's message.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qualitygov.complaints import clocks, rewards, routing
from qualitygov.complaints.models import (
    Case,
    CaseEvent,
    Category,
    JurisdictionDispute,
    MediationPause,
    Reminder,
    RespondentNotice,
    Submission,
)
from qualitygov.core import audit
from qualitygov.core.models import Region, region_prefix, region_q
from qualitygov.core.roles import CHANGE, OFFICER_ROLES, Role
from qualitygov.core.workdays import add_working_days

S, K = Case.Status, Case.Kind
TERMINAL = frozenset({S.CLOSED, S.REJECTED, S.MERGED})
OPEN_STATUSES = frozenset(S.values) - TERMINAL
HANDLING_ROLES = OFFICER_ROLES | {Role.PROVINCE_ADMIN}
# How many working days ahead a deadline counts as "due soon" on the lists and in reminders.
DUE_SOON_DAYS = 3


class CaseRefused(ValidationError):
    """A step refused: wrong state, wrong user or bad input. Nothing was changed."""

    def __init__(self, message, code: str = "invalid"):
        super().__init__(message, code=code)
        self.code = code


@dataclass(frozen=True)
class Step:
    label: str
    kinds: frozenset
    statuses: frozenset


def _step(label, kinds, statuses) -> Step:
    return Step(label, frozenset(kinds), frozenset(statuses))


BOTH = (K.COMPLAINT, K.TIP_OFF)
STEPS: dict[str, Step] = {
    "assign": _step(gettext_lazy("分派承办人"), BOTH, OPEN_STATUSES),
    "note": _step(gettext_lazy("添加备注"), BOTH, set(S.values) - {S.MERGED}),
    "code": _step(gettext_lazy("编码（类别、产品、被投诉举报主体）"), BOTH, set(S.values) - {S.MERGED}),
    "transfer": _step(gettext_lazy("移送其他单位"), BOTH, {S.RECEIVED, S.VERIFYING}),
    "dispute": _step(gettext_lazy("提出管辖争议"), BOTH, {S.RECEIVED, S.VERIFYING}),
    "resolve_dispute": _step(gettext_lazy("解决管辖争议"), BOTH, {S.RECEIVED, S.VERIFYING}),
    "accept": _step(gettext_lazy("受理"), {K.COMPLAINT}, {S.RECEIVED}),
    "reject": _step(gettext_lazy("不予受理"), {K.COMPLAINT}, {S.RECEIVED}),
    "start_mediation": _step(gettext_lazy("开始调解"), {K.COMPLAINT}, {S.ACCEPTED}),
    "pause": _step(gettext_lazy("检定检测鉴定开始"), {K.COMPLAINT}, {S.MEDIATING}),
    "resume": _step(gettext_lazy("检定检测鉴定结束"), {K.COMPLAINT}, {S.MEDIATING}),
    "notice": _step(gettext_lazy("发出被投诉举报人通知"), BOTH, {S.ACCEPTED, S.MEDIATING, S.RECEIVED, S.VERIFYING}),
    "end_mediation": _step(gettext_lazy("终结调解"), {K.COMPLAINT}, {S.ACCEPTED, S.MEDIATING}),
    "notify_end": _step(gettext_lazy("告知终止调解"), {K.COMPLAINT}, {S.MEDIATION_ENDED}),
    "clue": _step(gettext_lazy("登记违法线索"), {K.COMPLAINT}, {S.ACCEPTED, S.MEDIATING, S.MEDIATION_ENDED}),
    "start_verification": _step(gettext_lazy("开始核查"), {K.TIP_OFF}, {S.RECEIVED}),
    "extend_verification": _step(gettext_lazy("延长核查期限"), BOTH,
                                 {S.ACCEPTED, S.MEDIATING, S.MEDIATION_ENDED, S.RECEIVED, S.VERIFYING}),
    "verify": _step(gettext_lazy("线索核查完毕"), {K.COMPLAINT}, {S.ACCEPTED, S.MEDIATING, S.MEDIATION_ENDED}),
    "decide_filing": _step(gettext_lazy("作出是否立案决定"), {K.TIP_OFF}, {S.RECEIVED, S.VERIFYING}),
    "notify_reporter": _step(gettext_lazy("告知举报人"), {K.TIP_OFF}, {S.FILED, S.NOT_FILED}),
    "link_penalty": _step(gettext_lazy("关联行政处罚"), {K.TIP_OFF}, {S.FILED}),
    "close": _step(gettext_lazy("办结"), BOTH, {S.MEDIATION_ENDED, S.FILED, S.NOT_FILED}),
}


# --------------------------------------------------------------------------------------------------
# Preconditions: the one table of which step is allowed when (pages and API show only these).


def open_dispute(case: Case) -> JurisdictionDispute | None:
    """The case's unresolved jurisdiction dispute, if any."""
    return case.disputes.filter(resolved_on__isnull=True).order_by("-raised_on", "-id").first()


def _open_pause(case: Case) -> MediationPause | None:
    return case.pauses.filter(ended_on__isnull=True).first()


def end_notice_required(case: Case) -> bool:
    """Art. 21: termination of mediation is told to both parties; an agreement (Art. 22) is not a
    termination and needs no such notice."""
    return bool(case.mediation_ended_on) and case.mediation_outcome != Case.MediationOutcome.AGREEMENT


def is_real_name(case: Case) -> bool:
    return not case.submission.anonymous


def precondition(case: Case, slug: str, facts: dict | None = None) -> str | None:
    """Why ``slug`` cannot be taken on ``case`` now (a Chinese sentence), or None when it can.
    ``facts`` caches the open dispute and pause when many steps are checked at once."""
    facts = facts if facts is not None else {}
    step = STEPS[slug]
    if case.kind not in step.kinds:
        return _("“%(step)s”不适用于%(kind)s案件。") % {"step": step.label, "kind": case.get_kind_display()}
    if case.status not in step.statuses:
        return _("案件当前状态为“%(status)s”，不能%(step)s。") % {"status": case.get_status_display(),
                                                          "step": step.label}
    dispute = None
    if slug in ("transfer", "dispute", "accept", "reject", "resolve_dispute", "decide_filing"):
        if "dispute" not in facts:
            facts["dispute"] = open_dispute(case)
        dispute = facts["dispute"]
    if slug == "resolve_dispute":
        return None if dispute else _("该案件没有未解决的管辖争议。")
    if dispute is not None:
        return _("该案件存在未解决的管辖争议（%(date)s 提出），请先解决争议。") % {"date": dispute.raised_on}
    if slug == "notice" and case.kind == K.COMPLAINT and case.status not in (S.ACCEPTED, S.MEDIATING):
        return _("投诉受理后才能发出调解通知。")
    if slug in ("pause", "resume") and "pause" not in facts:
        facts["pause"] = _open_pause(case)
    if slug == "pause" and facts["pause"]:
        return _("检定、检验、检测、鉴定期间尚未结束。")
    if slug == "resume" and not facts["pause"]:
        return _("没有进行中的检定、检验、检测、鉴定期间。")
    if slug == "notify_end":
        if not end_notice_required(case):
            return _("达成调解协议无需告知终止调解（第二十二条）。")
        if case.end_notified_on:
            return _("已于 %(date)s 告知终止调解。") % {"date": case.end_notified_on}
    if slug == "clue" and case.clue_found_on:
        return _("已于 %(date)s 登记违法线索。") % {"date": case.clue_found_on}
    if slug == "verify" and (not case.clue_found_on or case.verified_on):
        return _("没有待核查的违法线索。")
    if slug == "extend_verification":
        if case.verification_extended:
            return _("核查期限已延长过一次（第二十三条：可延长十五个工作日）。")
        if case.kind == K.COMPLAINT and (not case.clue_found_on or case.verified_on):
            return _("没有待核查的违法线索。")
    if slug == "notify_reporter":
        if not is_real_name(case):
            return _("匿名举报不告知举报人（第三十一条仅适用于实名举报）；举报人可凭查询码查询。")
        if case.reporter_notified_on:
            return _("已于 %(date)s 告知举报人。") % {"date": case.reporter_notified_on}
    if slug == "link_penalty" and case.penalty_decision_number:
        return _("已关联行政处罚决定 %(number)s。") % {"number": case.penalty_decision_number}
    if slug == "close":
        if case.kind == K.COMPLAINT:
            if end_notice_required(case) and not case.end_notified_on:
                return _("请先告知投诉人和被投诉人终止调解（第二十一条），再办结。")
            if case.clue_found_on and not case.verified_on:
                return _("违法线索尚未核查完毕（第二十三条），不能办结。")
        elif is_real_name(case) and not case.reporter_notified_on:
            return _("请先将是否立案告知实名举报人（第三十一条），再办结。")
    return None


def available_steps(case: Case, user) -> list[str]:
    """The steps ``user`` may take on ``case`` now, in workflow order."""
    if not can_handle(user, case):
        return []
    facts: dict = {}
    return [slug for slug in STEPS if precondition(case, slug, facts) is None]


def can_handle(user, case: Case) -> bool:
    """Whether ``user`` is an officer whose scope covers the case for changes."""
    return bool(user and getattr(user, "is_authenticated", False)
                and (user.is_superuser or user.role in HANDLING_ROLES)
                and Case.objects.restrict(user, CHANGE).filter(pk=case.pk).exists())


# --------------------------------------------------------------------------------------------------
# Deadlines


def unit_received_on(case: Case) -> dt.date:
    """The day the present unit received the case: receipt, or the latest transfer or designation
    (the receiving unit's own clock starts then, Art. 14 "自收到投诉之日起")."""
    if case.pk is None:
        return case.received_on
    for data in case.events.filter(kind__in=[CaseEvent.Kind.TRANSFERRED, CaseEvent.Kind.DISPUTE]) \
            .order_by("-at", "-id").values_list("data", flat=True):
        if data and data.get("unit_received_on"):
            return dt.date.fromisoformat(data["unit_received_on"])
    return case.received_on


def _mediation_due(case: Case, today: dt.date) -> dt.date:
    pauses = list(case.pauses.values_list("started_on", "ended_on")) if case.pk else []
    return clocks.mediation_due_on(case.accepted_on, clocks.paused_working_days(pauses, today))


def compute_deadlines(case: Case, today: dt.date | None = None) -> dict:
    """The legal deadlines of ``case`` from its facts (None: not applicable or not computable yet) and
    ``calendar_pending`` (True when an applicable one is not computable yet). Saves nothing."""
    today = today or timezone.localdate()
    values, pending = {}, False

    def put(field, applies, compute, *args):
        nonlocal pending
        value = clocks.pending(compute, *args) if applies else None
        pending = pending or (applies and value is None)
        values[field] = value

    start = unit_received_on(case)
    put("accept_due_on", case.kind == K.COMPLAINT, clocks.accept_due_on, start)
    put("mediation_due_on", bool(case.accepted_on), _mediation_due, case, today)
    put("end_notice_due_on", end_notice_required(case), clocks.end_notice_due_on, case.mediation_ended_on)
    if case.kind == K.TIP_OFF:
        put("verification_due_on", True, clocks.verification_due_on, start, case.verification_extended)
    else:
        put("verification_due_on", bool(case.clue_found_on), clocks.verification_due_on, case.clue_found_on,
            case.verification_extended)
    put("reporter_notice_due_on", case.kind == K.TIP_OFF and bool(case.filing_decided_on) and is_real_name(case),
        clocks.reporter_notice_due_on, case.filing_decided_on)
    values["calendar_pending"] = pending
    return values


DEADLINE_FIELDS = ("accept_due_on", "mediation_due_on", "end_notice_due_on", "verification_due_on",
                   "reporter_notice_due_on", "calendar_pending")


def recompute_deadlines(case: Case, today: dt.date | None = None, *, save: bool = True) -> list[str]:
    """Set the case's deadline fields from ``compute_deadlines``; returns the names that changed."""
    changed = []
    for field, value in compute_deadlines(case, today).items():
        if getattr(case, field) != value:
            setattr(case, field, value)
            changed.append(field)
    if changed and save:
        case.save(update_fields=[*changed, "updated"])
    return changed


# --------------------------------------------------------------------------------------------------
# Common machinery of the steps


def _check_date(on, *, not_before: dt.date | None = None, label: str = "") -> dt.date:
    if not isinstance(on, dt.date) or isinstance(on, dt.datetime):
        raise CaseRefused({"on": _("请填写日期。")}, code="bad_date")
    if on > timezone.localdate():
        raise CaseRefused({"on": _("日期不能晚于今天。")}, code="future_date")
    if not_before and on < not_before:
        raise CaseRefused({"on": _("日期不能早于%(what)s（%(date)s）。") % {
            "what": label or _("收到日期"), "date": not_before.isoformat()}}, code="date_too_early")
    return on


def _required_text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise CaseRefused({field: message}, code=f"{field}_required")
    return value


class _Transaction:
    """Lock the case, check the user and the step; attribute audit entries to the user."""

    def __init__(self, case: Case, user, slug: str | None):
        self.case, self.user, self.slug = case, user, slug

    def __enter__(self) -> Case:
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self._audit = audit.attributed_to(self.user) if self.user is not None else None
        if self._audit:
            self._audit.__enter__()
        try:
            locked = Case.objects.select_for_update().filter(pk=self.case.pk).first()
            if locked is None or (self.user is not None and not can_handle(self.user, locked)):
                raise CaseRefused(_("您无权办理该案件，或案件不在您的辖区内。"), code="not_permitted")
            if self.slug:
                reason = precondition(locked, self.slug)
                if reason:
                    raise CaseRefused(reason, code="wrong_state")
        except BaseException as exc:
            self.__exit__(type(exc), exc, exc.__traceback__)
            raise
        return locked

    def __exit__(self, exc_type, exc, tb):
        if self._audit:
            self._audit.__exit__(exc_type, exc, tb)
        self._atomic.__exit__(exc_type, exc, tb)
        if exc_type is None:
            self.case.refresh_from_db()
        return False


def _event(case: Case, kind: str, user, on: dt.date | None, text: str = "", **data) -> CaseEvent:
    if on is not None:
        data["on"] = on.isoformat()
    return CaseEvent.objects.create(case=case, at=timezone.now(), kind=kind, by=user, text=text, data=data)


def _save(case: Case, fields: list[str], today: dt.date | None = None) -> None:
    fields = list(fields) + recompute_deadlines(case, today, save=False)
    case.save(update_fields=sorted(set(fields) | {"updated"}))


# --------------------------------------------------------------------------------------------------
# Steps on any case


def assign(case: Case, user, *, officer, on: dt.date) -> Case:
    """Give the case to ``officer``, who must be an officer whose scope covers it."""
    with _Transaction(case, user, "assign") as locked:
        _check_date(on, not_before=locked.received_on)
        if officer is None or not can_handle(officer, locked):
            raise CaseRefused({"officer": _("承办人必须是辖区覆盖该案件的监管人员。")}, code="bad_officer")
        locked.assigned_to = officer
        _save(locked, ["assigned_to"])
        _event(locked, CaseEvent.Kind.ASSIGNED, user, on, officer.display_name, officer=officer.pk)
    return case


def add_note(case: Case, user, *, text: str, on: dt.date) -> CaseEvent:
    """A note on the case's timeline."""
    with _Transaction(case, user, "note") as locked:
        _check_date(on, not_before=locked.received_on)
        text = _required_text(text, "text", _("请填写备注内容。"))
        return _event(locked, CaseEvent.Kind.NOTE, user, on, text)


def code_case(case: Case, user, *, on: dt.date, category: str | None = None, product_category=None,
              product=None, product_name: str | None = None, respondent_entity=None,
              clear_respondent_entity: bool = False) -> Case:
    """Code what the case is about (category, product category, product, respondent entity) so that the
    risk module can count cases by subject and respondent. Only the given values change."""
    with _Transaction(case, user, "code") as locked:
        _check_date(on, not_before=locked.received_on)
        changes = {}
        if category is not None:
            if category not in Category.values:
                raise CaseRefused({"category": _("未知的问题类别。")}, code="bad_category")
            changes["category"] = category
        if product_category is not None:
            changes["product_category"] = product_category
        if product is not None:
            changes["product"] = product
            changes["product_category"] = changes.get("product_category") or product.category
            if not (product_name or "").strip():
                changes["product_name"] = product.name
        if product_name is not None and product_name.strip():
            changes["product_name"] = product_name.strip()[:200]
        if respondent_entity is not None:
            changes.update(respondent_entity=respondent_entity, respondent_name=respondent_entity.name,
                           respondent_region=respondent_entity.region)
        elif clear_respondent_entity:
            changes["respondent_entity"] = None
        changed = {k: v for k, v in changes.items() if getattr(locked, k) != v}
        if not changed:
            raise CaseRefused(_("编码没有变化。"), code="unchanged")
        for key, value in changed.items():
            setattr(locked, key, value)
        _save(locked, list(changed))
        _event(locked, CaseEvent.Kind.NOTE, user, on, _("修改编码：%(fields)s") % {
            "fields": "、".join(str(Case._meta.get_field(k).verbose_name) for k in changed)},
            coded={k: (getattr(v, "pk", v) if v is not None else None) for k, v in changed.items()})
    return case


def transfer(case: Case, user, *, to_unit: Region, reason: str, on: dt.date) -> Case:
    """Transfer the case to the competent unit with the reasons (Art. 29, 37). The receiving unit's
    clocks start from ``on`` (its day of receipt)."""
    with _Transaction(case, user, "transfer") as locked:
        _check_date(on, not_before=unit_received_on(locked), label=_("本单位收到日期"))
        reason = _required_text(reason, "reason", _("请填写移送理由。"))
        if not isinstance(to_unit, Region) or to_unit.pk == locked.handling_unit_id:
            raise CaseRefused({"to_unit": _("请选择另一个承办单位。")}, code="bad_unit")
        from_unit = locked.handling_unit
        locked.handling_unit, locked.assigned_to = to_unit, None
        _event(locked, CaseEvent.Kind.TRANSFERRED, user, on, reason, from_unit=from_unit.pk, to_unit=to_unit.pk,
               unit_received_on=on.isoformat())
        _save(locked, ["handling_unit", "assigned_to"])
    return case


def common_superior(a: Region, b: Region) -> Region | None:
    """The nearest region strictly above both ``a`` and ``b`` (Art. 30 "共同的上一级")."""
    def above(region):
        chain, node = [], region.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain

    others = {r.pk for r in above(b)}
    return next((r for r in above(a) if r.pk in others), None)


def raise_dispute(case: Case, user, *, other_unit: Region, reason: str, on: dt.date) -> JurisdictionDispute:
    """Record a jurisdiction dispute between the handling unit and ``other_unit`` (Art. 30): they have 7
    working days to agree, then the common superior unit designates the competent one."""
    with _Transaction(case, user, "dispute") as locked:
        _check_date(on, not_before=locked.received_on)
        reason = _required_text(reason, "reason", _("请填写争议理由。"))
        if not isinstance(other_unit, Region) or other_unit.pk == locked.handling_unit_id:
            raise CaseRefused({"other_unit": _("请选择与本单位发生争议的另一单位。")}, code="bad_unit")
        due = clocks.pending(clocks.dispute_escalate_due_on, on)
        dispute = JurisdictionDispute.objects.create(case=locked, raised_by_unit=locked.handling_unit,
                                                     other_unit=other_unit, reason=reason, raised_on=on,
                                                     escalate_due_on=due)
        _event(locked, CaseEvent.Kind.DISPUTE, user, on, reason, dispute=dispute.pk, other_unit=other_unit.pk,
               escalate_due_on=due.isoformat() if due else None)
        if due is None and not locked.calendar_pending:
            locked.calendar_pending = True
            locked.save(update_fields=["calendar_pending", "updated"])
        return dispute


def resolve_dispute(case: Case, user, *, decided_unit: Region, on: dt.date, note: str = "") -> JurisdictionDispute:
    """Settle the open dispute: by the two units' agreement (recorded by the handling unit) or by the
    designation of the common superior unit (Art. 30) — once escalated, only that unit (or above) may
    decide. A unit other than the present one takes the case over from ``on``."""
    with _Transaction(case, user, "resolve_dispute") as locked:
        dispute = open_dispute(locked)
        _check_date(on, not_before=dispute.raised_on, label=_("发生争议日期"))
        if dispute.escalated_to_id and user is not None:
            prefix = user.region_prefix
            if prefix is not None and not dispute.escalated_to_id.startswith(prefix):
                raise CaseRefused(_("争议已报请%(unit)s指定处理机关，只能由该单位作出决定。") % {
                    "unit": dispute.escalated_to.name}, code="not_permitted")
        if not isinstance(decided_unit, Region) or decided_unit.pk not in (dispute.raised_by_unit_id,
                                                                          dispute.other_unit_id):
            raise CaseRefused({"decided_unit": _("承办单位应为争议双方之一。")}, code="bad_unit")
        dispute.resolved_on, dispute.decided_unit = on, decided_unit
        dispute.save(update_fields=["resolved_on", "decided_unit", "updated"])
        data = {"dispute": dispute.pk, "decided_unit": decided_unit.pk, "resolved": True}
        fields = []
        if decided_unit.pk != locked.handling_unit_id:
            data.update(from_unit=locked.handling_unit_id, unit_received_on=on.isoformat())
            locked.handling_unit, locked.assigned_to = decided_unit, None
            fields = ["handling_unit", "assigned_to"]
        _event(locked, CaseEvent.Kind.DISPUTE, user, on,
               note or _("管辖争议已解决，承办单位：%(unit)s") % {"unit": decided_unit.name}, **data)
        _save(locked, fields)
        return dispute


# --------------------------------------------------------------------------------------------------
# Complaint: acceptance and mediation


def accept(case: Case, user, *, on: dt.date) -> Case:
    """Accept the complaint (Art. 14). Refused when the facts on the case show an Art. 15 ground
    (the three-year limit, a purchase not for personal consumption): reject it instead."""
    with _Transaction(case, user, "accept") as locked:
        _check_date(on, not_before=unit_received_on(locked))
        if clocks.time_barred(locked.aware_on, locked.received_on):
            raise CaseRefused(_("投诉人知道权益受侵害之日（%(date)s）起已超过三年，应不予受理（第十五条第四项）。")
                              % {"date": locked.aware_on}, code="time_barred")
        if locked.for_personal_consumption is False:
            raise CaseRefused(_("所涉消费非为生活消费需要，应不予受理（第十五条第三项）。"), code="not_consumer")
        locked.accepted_on, locked.status = on, S.ACCEPTED
        late = bool(locked.accept_due_on and on > locked.accept_due_on)
        _save(locked, ["accepted_on", "status"], on)
        _event(locked, CaseEvent.Kind.ACCEPTED, user, on, late=late)
    return case


def reject(case: Case, user, *, ground: str, note: str = "", on: dt.date) -> Case:
    """Do not accept the complaint, on an Art. 15 ground. The time-barred ground needs the date the
    complainant knew of the harm, more than three years before receipt; the non-consumer ground, when
    the case does not record that the purchase was not for personal use, needs an explanation; every
    other ground needs one too. The case is finished: ``closed_on`` is the rejection date."""
    with _Transaction(case, user, "reject") as locked:
        _check_date(on, not_before=unit_received_on(locked))
        G = Case.RejectionGround
        if ground not in G.values:
            raise CaseRefused({"ground": _("请选择第十五条规定的不予受理理由。")}, code="bad_ground")
        note = (note or "").strip()
        if ground == G.TIME_BARRED:
            if locked.aware_on is None:
                raise CaseRefused({"ground": _("案件未记录投诉人知道权益受侵害的日期，不能以超过三年为由不予受理。")},
                                  code="aware_on_missing")
            if not clocks.time_barred(locked.aware_on, locked.received_on):
                raise CaseRefused({"ground": _("自知道权益受侵害之日（%(date)s）起至收到投诉未超过三年（截至 %(end)s）。")
                                   % {"date": locked.aware_on, "end": clocks.limitation_ends_on(locked.aware_on)}},
                                  code="not_time_barred")
        elif not (ground == G.NOT_CONSUMER and locked.for_personal_consumption is False) and not note:
            raise CaseRefused({"note": _("请说明不予受理的具体理由。")}, code="note_required")
        locked.status, locked.rejected_on, locked.closed_on = S.REJECTED, on, on
        locked.rejection_ground, locked.rejection_note = ground, note
        _save(locked, ["status", "rejected_on", "closed_on", "rejection_ground", "rejection_note"], on)
        _event(locked, CaseEvent.Kind.REJECTED, user, on, note or str(G(ground).label), ground=ground)
    return case


def start_mediation(case: Case, user, *, on: dt.date, record: str = "") -> Case:
    """Begin mediation with both parties' consent (Art. 16)."""
    with _Transaction(case, user, "start_mediation") as locked:
        _check_date(on, not_before=locked.accepted_on, label=_("受理日期"))
        locked.status = S.MEDIATING
        if record.strip():
            locked.mediation_record = _append(locked.mediation_record, on, record)
        _save(locked, ["status", "mediation_record"], on)
        _event(locked, CaseEvent.Kind.MEDIATION_STARTED, user, on, record.strip())
    return case


def _append(existing: str, on: dt.date, text: str) -> str:
    entry = f"[{on.isoformat()}] {text.strip()}"
    return f"{existing}\n{entry}" if existing else entry


def pause_mediation(case: Case, user, *, reason: str, on: dt.date) -> MediationPause:
    """Metrological verification, testing or appraisal begins; its working days are not counted in the
    mediation period (Art. 20)."""
    with _Transaction(case, user, "pause") as locked:
        _check_date(on, not_before=locked.accepted_on, label=_("受理日期"))
        reason = _required_text(reason, "reason", _("请填写检定、检验、检测或鉴定事项。"))
        pause = MediationPause.objects.create(case=locked, reason=reason[:200], started_on=on)
        _save(locked, [], on)
        _event(locked, CaseEvent.Kind.PAUSE_STARTED, user, on, reason, pause=pause.pk)
        return pause


def resume_mediation(case: Case, user, *, on: dt.date) -> Case:
    """Testing or appraisal ended: the mediation deadline moves by the working days it took (Art. 20)."""
    with _Transaction(case, user, "resume") as locked:
        pause = _open_pause(locked)
        _check_date(on, not_before=pause.started_on, label=_("开始日期"))
        pause.ended_on = on
        pause.save(update_fields=["ended_on"])
        _save(locked, [], on)
        _event(locked, CaseEvent.Kind.PAUSE_ENDED, user, on, pause.reason, pause=pause.pk,
               mediation_due_on=locked.mediation_due_on.isoformat() if locked.mediation_due_on else None)
    return case


def end_mediation(case: Case, user, *, outcome: str, record: str = "", on: dt.date) -> Case:
    """End mediation with an Art. 21 outcome (or an agreement, Art. 22). The time-limit outcome only
    once the 45 working days (testing time excluded) have passed. Opens the 7-working-day notice
    clock of Art. 21 unless an agreement was reached."""
    with _Transaction(case, user, "end_mediation") as locked:
        _check_date(on, not_before=locked.accepted_on, label=_("受理日期"))
        Outcome = Case.MediationOutcome
        if outcome not in Outcome.values:
            raise CaseRefused({"outcome": _("请选择调解结果。")}, code="bad_outcome")
        pause = _open_pause(locked)
        if pause is not None:
            if on < pause.started_on:
                raise CaseRefused({"on": _("日期不能早于检定检测鉴定开始日期。")}, code="date_too_early")
            pause.ended_on = on
            pause.save(update_fields=["ended_on"])
        if outcome == Outcome.TIME_LIMIT:
            due = clocks.pending(_mediation_due, locked, on)
            if due is None or on <= due:
                raise CaseRefused({"outcome": _("调解期限（%(due)s）尚未届满，不能以超过四十五个工作日为由终止调解。")
                                   % {"due": due or _("待计算")}}, code="time_limit_not_reached")
        if outcome == Outcome.AGREEMENT and not (record or "").strip() and not locked.mediation_record:
            raise CaseRefused({"record": _("达成调解协议的，请填写调解记录或调解书内容（第二十二条）。")},
                              code="record_required")
        locked.status, locked.mediation_outcome, locked.mediation_ended_on = S.MEDIATION_ENDED, outcome, on
        if (record or "").strip():
            locked.mediation_record = _append(locked.mediation_record, on, record)
        _save(locked, ["status", "mediation_outcome", "mediation_ended_on", "mediation_record"], on)
        _event(locked, CaseEvent.Kind.MEDIATION_ENDED, user, on, str(Outcome(outcome).label), outcome=outcome)
    return case


def notify_end(case: Case, user, *, on: dt.date) -> Case:
    """Both parties told that mediation was terminated (Art. 21, within 7 working days). The notice to
    the respondent is recorded as a ``RespondentNotice`` (without reporter data)."""
    with _Transaction(case, user, "notify_end") as locked:
        _check_date(on, not_before=locked.mediation_ended_on, label=_("调解终结日期"))
        locked.end_notified_on = on
        _save(locked, ["end_notified_on"], on)
        notice = _create_notice(locked, user, RespondentNotice.Kind.MEDIATION_ENDED, "", on)
        _event(locked, CaseEvent.Kind.NOTICE_SENT, user, on, _("已告知投诉人和被投诉人终止调解。"),
               notice=notice.pk, late=bool(locked.end_notice_due_on and on > locked.end_notice_due_on))
    return case


# --------------------------------------------------------------------------------------------------
# Verification (complaint clues, tip-offs) and the filing decision


def record_clue(case: Case, user, *, text: str, on: dt.date) -> Case:
    """A suspected violation found in mediation: verified within 15 working days (Art. 23)."""
    with _Transaction(case, user, "clue") as locked:
        _check_date(on, not_before=locked.accepted_on, label=_("受理日期"))
        text = _required_text(text, "text", _("请填写违法线索。"))
        locked.clue_found_on = on
        _save(locked, ["clue_found_on"], on)
        _event(locked, CaseEvent.Kind.CLUE_FOUND, user, on, text)
    return case


def start_verification(case: Case, user, *, on: dt.date) -> Case:
    """The unit begins verifying a tip-off (its 15-working-day clock runs from receipt)."""
    with _Transaction(case, user, "start_verification") as locked:
        _check_date(on, not_before=unit_received_on(locked))
        locked.status = S.VERIFYING
        _save(locked, ["status"], on)
        _event(locked, CaseEvent.Kind.NOTE, user, on, _("开始核查"))
    return case


def extend_verification(case: Case, user, *, reason: str, on: dt.date) -> Case:
    """In special cases the verification period is extended once by 15 working days (Art. 23;
    行政处罚程序规定 Art. 18 for tip-offs)."""
    with _Transaction(case, user, "extend_verification") as locked:
        _check_date(on, not_before=locked.received_on)
        reason = _required_text(reason, "reason", _("请填写延长核查期限的理由。"))
        if locked.verification_due_on and on > locked.verification_due_on:
            raise CaseRefused({"on": _("核查期限（%(due)s）已过，不能再延长。") % {"due": locked.verification_due_on}},
                              code="already_overdue")
        locked.verification_extended = True
        _save(locked, ["verification_extended"], on)
        _event(locked, CaseEvent.Kind.VERIFICATION_EXTENDED, user, on, reason,
               verification_due_on=locked.verification_due_on.isoformat() if locked.verification_due_on else None)
    return case


def verify(case: Case, user, *, violation_found: bool, findings: str, on: dt.date) -> Case:
    """The clue of a complaint is verified. A confirmed violation of a registry entity goes to its credit
    file as a verified complaint (``credit.services.record_fact``)."""
    with _Transaction(case, user, "verify") as locked:
        _check_date(on, not_before=locked.clue_found_on, label=_("发现违法线索日期"))
        findings = _required_text(findings, "findings", _("请填写核查结果。"))
        locked.verified_on = on
        fields = ["verified_on"]
        credit = None
        if violation_found and locked.respondent_entity_id:
            credit = _record_credit(locked, user, "verified_complaint", on, findings)
            locked.credit_record = credit
            fields.append("credit_record")
        _save(locked, fields, on)
        _event(locked, CaseEvent.Kind.NOTE, user, on, findings, verified=True, violation_found=bool(violation_found),
               credit_record=credit.pk if credit else None)
    return case


def decide_filing(case: Case, user, *, decision: str, on: dt.date, enforcement_case_number: str = "",
                  note: str = "") -> Case:
    """Decide whether to open an enforcement case on the tip-off. A real-name reporter is told within 5
    working days (Art. 31): the deadline is set here."""
    with _Transaction(case, user, "decide_filing") as locked:
        _check_date(on, not_before=unit_received_on(locked))
        D = Case.FilingDecision
        if decision not in D.values:
            raise CaseRefused({"decision": _("请选择立案或不予立案。")}, code="bad_decision")
        number = (enforcement_case_number or "").strip()
        if decision == D.FILED and not number:
            raise CaseRefused({"enforcement_case_number": _("立案的，请填写立案编号。")}, code="number_required")
        if decision == D.NOT_FILED and not (note or "").strip():
            raise CaseRefused({"note": _("不予立案的，请说明理由。")}, code="note_required")
        locked.filing_decision, locked.filing_decided_on, locked.verified_on = decision, on, on
        locked.enforcement_case_number = number
        locked.status = S.FILED if decision == D.FILED else S.NOT_FILED
        _save(locked, ["filing_decision", "filing_decided_on", "verified_on", "enforcement_case_number",
                       "status"], on)
        _event(locked, CaseEvent.Kind.FILING_DECIDED, user, on, (note or "").strip() or str(D(decision).label),
               decision=decision, enforcement_case_number=number,
               late=bool(locked.verification_due_on and on > locked.verification_due_on))
    return case


def notify_reporter(case: Case, user, *, on: dt.date) -> Case:
    """The real-name reporter is told whether a case was filed (Art. 31)."""
    with _Transaction(case, user, "notify_reporter") as locked:
        _check_date(on, not_before=locked.filing_decided_on, label=_("立案决定日期"))
        locked.reporter_notified_on = on
        _save(locked, ["reporter_notified_on"], on)
        _event(locked, CaseEvent.Kind.NOTICE_SENT, user, on, _("已告知举报人是否立案。"),
               late=bool(locked.reporter_notice_due_on and on > locked.reporter_notice_due_on))
    return case


def link_penalty(case: Case, user, *, penalty_decision_number: str, decided_on: dt.date, on: dt.date,
                 fine_amount: Decimal | None = None, confiscation_amount: Decimal | None = None,
                 penalty_types: list[str] | None = None, enforcement_case_number: str = "") -> Case:
    """Link the enforcement case opened on the tip-off to its penalty decision. The respondent's credit
    file receives the penalty (``administrative_penalty``) and the verified tip-off
    (``verified_tip_off``) through ``credit.services.record_fact``; a respondent not in the registry has
    no credit file (said so on the timeline)."""
    from qualitygov.credit.publication import PenaltyType

    with _Transaction(case, user, "link_penalty") as locked:
        _check_date(on, not_before=locked.filing_decided_on, label=_("立案决定日期"))
        _check_date(decided_on, not_before=locked.filing_decided_on, label=_("立案决定日期"))
        number = _required_text(penalty_decision_number, "penalty_decision_number", _("请填写处罚决定书文号。"))
        amounts = {}
        for field, value in (("fine_amount", fine_amount), ("confiscation_amount", confiscation_amount)):
            if value is not None and (not isinstance(value, Decimal | int) or Decimal(value) < 0):
                raise CaseRefused({field: _("金额必须是不小于零的数字（元）。")}, code="bad_amount")
            amounts[field] = Decimal(value) if value is not None else None
        types = list(penalty_types or [])
        if not types:
            types += ["fine"] if amounts["fine_amount"] else []
            types += ["confiscation_of_income"] if amounts["confiscation_amount"] else []
        unknown = [t for t in types if t not in PenaltyType.values]
        if not types or unknown:
            raise CaseRefused({"penalty_types": _("请注明处罚种类。")}, code="penalty_types")
        locked.penalty_decision_number, locked.penalty_decided_on = number, decided_on
        locked.fine_amount, locked.confiscation_amount = amounts["fine_amount"], amounts["confiscation_amount"]
        if enforcement_case_number.strip():
            locked.enforcement_case_number = enforcement_case_number.strip()
        fields = ["penalty_decision_number", "penalty_decided_on", "fine_amount", "confiscation_amount",
                  "enforcement_case_number"]
        credit = None
        if locked.respondent_entity_id:
            total = (amounts["fine_amount"] or 0) + (amounts["confiscation_amount"] or 0)
            _record_credit(locked, user, "administrative_penalty", decided_on,
                           _("行政处罚决定 %(number)s") % {"number": number},
                           {"penalty_types": types, "amount": str(total), "decision_number": number})
            credit = _record_credit(locked, user, "verified_tip_off", decided_on,
                                    _("举报经查属实，已作出行政处罚（%(number)s）。") % {"number": number})
            locked.credit_record = credit
            fields.append("credit_record")
        _save(locked, fields, on)
        _event(locked, CaseEvent.Kind.PENALTY_LINKED, user, on, number, decided_on=decided_on.isoformat(),
               penalty_types=types, credit_record=credit.pk if credit else None,
               no_credit_file=not locked.respondent_entity_id)
    return case


def _record_credit(case: Case, user, kind: str, on: dt.date, summary: str, details: dict | None = None):
    """One fact in the respondent's credit file; the summary never names the reporter."""
    from qualitygov.credit.services import record_fact

    details = {"case_number": case.number, "category": case.category, **(details or {})}
    text = _("%(kind)s：%(summary)s（投诉举报案件 %(number)s）") % {
        "kind": case.get_kind_display(), "summary": _scrub(summary, case), "number": case.number}
    return record_fact(entity=case.respondent_entity, kind=kind, occurred_on=on, source=case, summary=text[:500],
                       details=details, department=case.handling_unit.full_name, user=user).record


def close(case: Case, user, *, outcome: str, on: dt.date) -> Case:
    """Close the case with its result, once the notices the rules require were given."""
    with _Transaction(case, user, "close") as locked:
        last = max(d for d in (locked.received_on, locked.mediation_ended_on, locked.end_notified_on,
                               locked.filing_decided_on, locked.reporter_notified_on, locked.verified_on) if d)
        _check_date(on, not_before=last, label=_("上一办理步骤日期"))
        outcome = _required_text(outcome, "outcome", _("请填写处理结果。"))
        locked.status, locked.closed_on, locked.outcome = S.CLOSED, on, outcome
        _save(locked, ["status", "closed_on", "outcome"], on)
        _event(locked, CaseEvent.Kind.CLOSED, user, on, outcome)
    return case


# --------------------------------------------------------------------------------------------------
# Respondent notices (Art. 33: nothing about the reporter)

_PATTERNS = (
    re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"),                     # mainland mobile numbers
    re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)"),                    # resident identity numbers
    re.compile(r"(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)"),               # fixed-line numbers with area code
    re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"),                   # e-mail addresses
)


def _scrub(text: str, case: Case) -> str:
    """``text`` with the reporter's identity values and anything shaped like a phone number, identity
    number or e-mail address replaced by ``***``. The identity is read here only to be removed; it
    never leaves this function."""
    from qualitygov.complaints.models import ReporterIdentity

    text = text or ""
    identity = ReporterIdentity.objects.filter(submission_id=case.submission_id).first()
    if identity is not None:
        values = [identity.name, identity.phone, identity.address, identity.id_number, identity.email,
                  identity.agent_name, identity.agent_id_number]
        for value in sorted((v.strip() for v in values if v and len(v.strip()) >= 2), key=len, reverse=True):
            text = text.replace(value, "***")
    for pattern in _PATTERNS:
        text = pattern.sub("***", text)
    return text


def build_notice_text(case: Case, kind: str, message: str = "", on: dt.date | None = None) -> str:
    """The text of a notice to the respondent, in Chinese: the case number, the subject as coded, what
    the unit asks of the respondent, the officer's message (scrubbed) and the unit. It carries no
    reporter data (Art. 33): the complaint's own text is left out, since a reporter may have written
    their name or phone into it."""
    N = RespondentNotice.Kind
    with translation.override("zh-hans"):
        subject = case.get_category_display()
        if case.product_name:
            subject += _("，商品或服务：%(product)s") % {"product": case.product_name}
        params = {"number": case.number, "subject": subject}
        if kind == N.MEDIATION:
            body = _("本机关已受理一件涉及贵单位的消费者投诉（案件编号 %(number)s；事项：%(subject)s），拟依照《市场监督管理"
                     "投诉举报处理暂行办法》第十六条组织调解。请于收到本通知后与承办单位联系，按时参加调解。") % params
        elif kind == N.MEDIATION_ENDED:
            params["outcome"] = case.get_mediation_outcome_display() or "—"
            body = _("案件编号 %(number)s（事项：%(subject)s）的调解已终止（%(outcome)s），依照《市场监督管理投诉举报处理暂行"
                     "办法》第二十一条告知贵单位。") % params
        elif kind == N.INQUIRY:
            body = _("本机关依法对涉及贵单位的有关情况进行核查（编号 %(number)s；事项：%(subject)s），请予配合，如实"
                     "提供有关材料。") % params
        else:
            raise CaseRefused({"kind": _("未知的通知类型。")}, code="bad_kind")
        lines = [_("%(name)s：") % {"name": case.respondent_name}, body]
        message = _scrub((message or "").strip(), case)
        if message:
            lines.append(message)
        lines.append(_("承办单位：%(unit)s") % {"unit": routing.authority_name(case.handling_unit)})
        lines.append((on or timezone.localdate()).isoformat())
        return "\n".join(lines)


def _create_notice(case: Case, user, kind: str, message: str, on: dt.date) -> RespondentNotice:
    return RespondentNotice.objects.create(case=case, entity=case.respondent_entity, kind=kind,
                                           text=build_notice_text(case, kind, message, on), sent_on=on, sent_by=user)


def send_respondent_notice(case: Case, user, *, kind: str, message: str = "", on: dt.date) -> RespondentNotice:
    """Send a notice to the respondent: the mediation notice of a complaint (Art. 16, 18), or the
    inquiry notice of a tip-off (which says nothing of a tip-off or a reporter, Art. 33)."""
    with _Transaction(case, user, "notice") as locked:
        _check_date(on, not_before=locked.received_on)
        N = RespondentNotice.Kind
        allowed = {K.COMPLAINT: {N.MEDIATION}, K.TIP_OFF: {N.INQUIRY}}[locked.kind]
        if kind not in allowed:
            raise CaseRefused({"kind": _("该案件不能发出这种通知。")}, code="bad_kind")
        if kind == N.MEDIATION and locked.status not in (S.ACCEPTED, S.MEDIATING):
            raise CaseRefused(_("投诉受理后才能发出调解通知。"), code="wrong_state")
        notice = _create_notice(locked, user, kind, message, on)
        _event(locked, CaseEvent.Kind.NOTICE_SENT, user, on, str(N(kind).label), notice=notice.pk)
        return notice


# --------------------------------------------------------------------------------------------------
# Due and overdue lists, reminders, the daily job


@dataclass(frozen=True)
class DueItem:
    case: Case
    deadline: str
    label: str
    due_on: dt.date
    overdue: bool


DEADLINES = (
    ("accept", gettext_lazy("受理期限"), "accept_due_on", Q(kind=K.COMPLAINT, status=S.RECEIVED)),
    ("mediation", gettext_lazy("调解期限"), "mediation_due_on", Q(status__in=[S.ACCEPTED, S.MEDIATING])),
    ("end_notice", gettext_lazy("终止调解告知期限"), "end_notice_due_on",
     Q(status=S.MEDIATION_ENDED, end_notified_on__isnull=True)),
    ("verification", gettext_lazy("核查期限"), "verification_due_on",
     Q(verified_on__isnull=True, filing_decided_on__isnull=True) & ~Q(status__in=list(TERMINAL))),
    ("reporter_notice", gettext_lazy("告知举报人期限"), "reporter_notice_due_on",
     Q(reporter_notified_on__isnull=True) & ~Q(status__in=list(TERMINAL))),
)
DEADLINE_LABELS = {slug: label for slug, label, _f, _q in DEADLINES} | {"dispute": gettext_lazy("管辖争议协商期限")}


def due_soon_until(today: dt.date) -> dt.date:
    """Last day of the "due soon" window: ``DUE_SOON_DAYS`` working days ahead. Only a reminder window,
    not a legal deadline: beyond the calendar's years it falls back to a week of calendar days."""
    return clocks.pending(add_working_days, today, DUE_SOON_DAYS) or today + dt.timedelta(days=7)


def due_items(cases, today: dt.date, *, until: dt.date | None = None) -> list[DueItem]:
    """Every open legal deadline of ``cases`` (a queryset) falling on or before ``until`` (default: the
    due-soon window), overdue ones (before ``today``) first; one query per kind of deadline."""
    until = until or due_soon_until(today)
    paused = MediationPause.objects.filter(ended_on__isnull=True).values("case_id")
    items = []
    related = ("handling_unit", "assigned_to", "submission")
    for slug, label, field, condition in DEADLINES:
        rows = cases.filter(condition, **{f"{field}__isnull": False, f"{field}__lte": until})
        if slug == "mediation":
            rows = rows.exclude(pk__in=paused)  # the clock stands still during testing (Art. 20)
        for case in rows.select_related(*related):
            due = getattr(case, field)
            items.append(DueItem(case, slug, str(label), due, due < today))
    disputes = JurisdictionDispute.objects.filter(case__in=cases, resolved_on__isnull=True, escalated_to__isnull=True,
                                                  escalate_due_on__isnull=False, escalate_due_on__lte=until)
    for dispute in disputes.select_related(*(f"case__{r}" for r in related)):
        items.append(DueItem(dispute.case, "dispute", str(DEADLINE_LABELS["dispute"]), dispute.escalate_due_on,
                             dispute.escalate_due_on < today))
    return sorted(items, key=lambda i: (not i.overdue, i.due_on, i.case.number))


def due_lists(user, *, today: dt.date | None = None, unit: Region | None = None, officer=None) -> dict:
    """The due and overdue lists of the cases ``user`` may see, for one unit (a region and what lies
    inside it) and/or one officer: ``{"overdue": [...], "due": [...], "until": date}``."""
    today = today or timezone.localdate()
    cases = Case.objects.restrict(user)
    if unit is not None:
        cases = cases.filter(region_q("handling_unit__code", region_prefix(unit.code)))
    if officer is not None:
        cases = cases.filter(assigned_to=officer)
    until = due_soon_until(today)
    items = due_items(cases, today, until=until)
    return {"overdue": [i for i in items if i.overdue], "due": [i for i in items if not i.overdue], "until": until}


def send_reminders(today: dt.date | None = None) -> int:
    """Remind the officer in charge (or the unit, when nobody is assigned: recipient empty) of every
    deadline due soon or overdue, once per deadline, due date and overdue state. Returns how many
    reminders were created; a timeline entry records each."""
    today = today or timezone.localdate()
    items = due_items(Case.objects.all(), today)
    if not items:
        return 0
    existing = set(Reminder.objects.filter(case_id__in={i.case.pk for i in items})
                   .values_list("case_id", "deadline", "due_on", "overdue"))
    new = [i for i in items if (i.case.pk, i.deadline, i.due_on, i.overdue) not in existing]
    Reminder.objects.bulk_create([Reminder(case=i.case, deadline=i.deadline, due_on=i.due_on, overdue=i.overdue,
                                           recipient=i.case.assigned_to) for i in new], ignore_conflicts=True)
    now = timezone.now()
    CaseEvent.objects.bulk_create([CaseEvent(
        case=i.case, at=now, kind=CaseEvent.Kind.REMINDER,
        text=(_("%(deadline)s已逾期（%(due)s）") if i.overdue else _("%(deadline)s将于 %(due)s 到期")) % {
            "deadline": i.label, "due": i.due_on.isoformat()},
        data={"deadline": i.deadline, "due_on": i.due_on.isoformat(), "overdue": i.overdue}) for i in new])
    return len(new)


def fill_pending_deadlines(today: dt.date | None = None) -> int:
    """Compute the deadlines left empty for want of a holiday arrangement, now that the calendar may
    cover their year; returns how many cases changed."""
    today = today or timezone.localdate()
    changed = []
    fields = set()
    # Few cases are ever pending (those received in the last weeks of a year before the State Council's
    # notice); each needs its own events and pauses, so they are recomputed one by one, saved in bulk.
    for case in Case.objects.filter(calendar_pending=True).select_related("submission").iterator(chunk_size=500):
        names = recompute_deadlines(case, today, save=False)
        if names:
            changed.append(case)
            fields.update(names)
    disputes = []
    for dispute in JurisdictionDispute.objects.filter(resolved_on__isnull=True, escalate_due_on__isnull=True):
        dispute.escalate_due_on = clocks.pending(clocks.dispute_escalate_due_on, dispute.raised_on)
        if dispute.escalate_due_on:
            disputes.append(dispute)
    if changed:
        Case.objects.bulk_update(changed, sorted(fields), batch_size=500)
    if disputes:
        JurisdictionDispute.objects.bulk_update(disputes, ["escalate_due_on"], batch_size=500)
    return len(changed) + len(disputes)


def escalate_overdue_disputes(today: dt.date | None = None) -> int:
    """Disputes not settled within 7 working days go to the common superior unit (Art. 30): set
    ``escalated_to`` and ``escalated_on`` and note it on the case's timeline. Returns the count."""
    today = today or timezone.localdate()
    overdue = list(JurisdictionDispute.objects.filter(resolved_on__isnull=True, escalated_to__isnull=True,
                                                      escalate_due_on__lt=today)
                   .select_related("raised_by_unit__parent__parent", "other_unit__parent__parent"))
    escalated = []
    for dispute in overdue:
        superior = common_superior(dispute.raised_by_unit, dispute.other_unit)
        if superior is not None:
            dispute.escalated_to, dispute.escalated_on = superior, today
            escalated.append(dispute)
    if not escalated:
        return 0
    JurisdictionDispute.objects.bulk_update(escalated, ["escalated_to", "escalated_on"])
    now = timezone.now()
    CaseEvent.objects.bulk_create([CaseEvent(
        case_id=d.case_id, at=now, kind=CaseEvent.Kind.DISPUTE,
        text=_("协商期限已过，报请%(unit)s指定处理机关（第三十条）。") % {"unit": d.escalated_to.name},
        data={"dispute": d.pk, "escalated_to": d.escalated_to_id, "on": today.isoformat()}) for d in escalated])
    return len(escalated)


def daily(today: dt.date | None = None) -> dict:
    """The daily job: fill computable pending deadlines, escalate overdue disputes, send reminders, forget
    the client digests of old anonymous submissions, expire rewards not claimed in time."""
    today = today or timezone.localdate()
    return {"date": today.isoformat(), "deadlines_filled": fill_pending_deadlines(today),
            "disputes_escalated": escalate_overdue_disputes(today), "reminders": send_reminders(today),
            "client_digests_cleared": forget_anonymous_clients(today),
            "rewards": rewards.expire_unclaimed(today)}


# How long the keyed digest of an anonymous submitter's address is kept: the rate limit reads only the
# last hour, and with the key the IPv4 space could be enumerated back to the address.
ANONYMOUS_CLIENT_DIGEST_DAYS = 2


def forget_anonymous_clients(today: dt.date) -> int:
    """Clear the client digest of anonymous submissions older than ``ANONYMOUS_CLIENT_DIGEST_DAYS``."""
    cutoff = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=ANONYMOUS_CLIENT_DIGEST_DAYS),
                                                     dt.time.min))
    return Submission.objects.filter(anonymous=True, received_at__lt=cutoff).exclude(client_digest="") \
        .update(client_digest="")


def deadline_q(today: dt.date, *, overdue: bool, until: dt.date | None = None) -> Q:
    """Cases with an open legal deadline before ``today`` (``overdue``) or from ``today`` up to ``until``
    (default: the due-soon window), as one condition for filters (the same rules as ``due_items``)."""
    until = until or due_soon_until(today)
    paused = MediationPause.objects.filter(ended_on__isnull=True).values("case_id")
    condition = Q(pk__in=[])
    for slug, _label, field, open_q in DEADLINES:
        window = Q(**{f"{field}__lt": today}) if overdue else Q(**{f"{field}__gte": today, f"{field}__lte": until})
        part = open_q & window
        if slug == "mediation":
            part &= ~Q(pk__in=paused)
        condition |= part
    window = {"escalate_due_on__lt": today} if overdue else {"escalate_due_on__gte": today,
                                                              "escalate_due_on__lte": until}
    disputes = JurisdictionDispute.objects.filter(resolved_on__isnull=True, escalated_to__isnull=True, **window)
    return condition | Q(pk__in=disputes.values("case_id"))


def next_deadline(case: Case) -> tuple[str, dt.date] | None:
    """The earliest open legal deadline of ``case`` (label, date) from its own fields, for lists; an
    open dispute's deadline is not included (it is on the case page)."""
    found = []
    for _slug, label, field, _q in DEADLINES:
        due = getattr(case, field)
        if due and _open_for(case, field):
            found.append((str(label), due))
    return min(found, key=lambda pair: pair[1]) if found else None


def _open_for(case: Case, field: str) -> bool:
    """Python twin of the ``DEADLINES`` conditions, for one loaded case."""
    if case.status in TERMINAL:
        return False
    return {
        "accept_due_on": case.kind == K.COMPLAINT and case.status == S.RECEIVED,
        "mediation_due_on": case.status in (S.ACCEPTED, S.MEDIATING),
        "end_notice_due_on": case.status == S.MEDIATION_ENDED and not case.end_notified_on,
        "verification_due_on": not case.verified_on and not case.filing_decided_on,
        "reporter_notice_due_on": not case.reporter_notified_on,
    }[field]


STEP_FUNCTIONS = {
    "assign": assign, "note": add_note, "code": code_case, "transfer": transfer, "dispute": raise_dispute,
    "resolve_dispute": resolve_dispute, "accept": accept, "reject": reject, "start_mediation": start_mediation,
    "pause": pause_mediation, "resume": resume_mediation, "notice": send_respondent_notice,
    "end_mediation": end_mediation, "notify_end": notify_end, "clue": record_clue,
    "start_verification": start_verification, "extend_verification": extend_verification, "verify": verify,
    "decide_filing": decide_filing, "notify_reporter": notify_reporter, "link_penalty": link_penalty, "close": close,
}


def perform(slug: str, case: Case, user, **kwargs):
    """Take step ``slug`` (a key of ``STEPS``) on ``case``: the entry point of pages and API."""
    if slug not in STEP_FUNCTIONS:
        raise CaseRefused(_("未知的办理步骤。"), code="unknown_step")
    return STEP_FUNCTIONS[slug](case, user, **kwargs)
