"""Credit repair (信用修复, issue 4 item 5): the enterprise applies, the competent unit accepts (受理) or
refuses at intake (不予受理), verifies and decides (准予 / 不予修复); an approval takes effect at once.

Rules (marks as in ../shared/policy/RULES.md: [checked] read in a primary source, [reported] agreed by
secondary sources, [verify] to be confirmed in an official text):

- What can be repaired (市场监督管理信用修复管理办法, RULES.md "Penalty publicity and credit repair"
  [checked]): (a) early end of a penalty's publication, (b) early removal from the serious-violation
  list, (c) removal from the abnormal-operation list on correction.
- (a) Order 45 (../shared/policy/laws/samr-penalty-info-disclosure.md) [checked]: a warning-only
  penalty is never published (Art. 2), so there is nothing to end; publication may end early only
  once the minimum period has run (Art. 14 para. 1; the minimum is ``publish_min_until``, from
  ``credit.publication``: 3 months, 1 year for special equipment, work safety and fire — [reported])
  and only on the four conditions of Art. 14 para. 1 — penalty performed, harm and bad influence
  removed, no new penalty for the same kind of violation (declared by the applicant, confirmed by
  the officer) and not on the abnormal-operation or serious-violation list (checked here against the
  lists); suspension, restriction, downgrade and revocation penalties never end early (Art. 14
  para. 3; ``publication.NO_EARLY_END``). We let the entity apply from the day ``publish_min_until``
  itself, as ``credit.lists`` does with ``early_removal_from``.
- (b) SAMR Order 44 (RULES.md [reported]): on application after at least one year on the list, when
  the penalty is performed, the harm removed and no new heavier penalty imposed. The decision's
  effect is ``lists.remove_early``, which enforces the year and the conditions; an application before
  ``early_removal_from`` is already refused here, at submission.
- (c) Removal on correction (RULES.md [reported]); effect ``lists.remove_on_correction``.
- Deadlines, in working days of the China calendar (``core.workdays``; the day of receipt or of
  acceptance is not counted): accept or refuse at intake within ``ACCEPT_WORKING_DAYS`` (2) working
  days of receipt — our configuration from reported practice [verify]; decide within
  ``DECIDE_WORKING_DAYS`` (15) working days of acceptance — [verify], the figure RULES.md reports for
  Order 44 decisions. A deadline that would fall in a year whose holiday arrangement is not yet
  published is left pending (never guessed, and the application is not held up) until the daily job
  can compute it (``fill_pending_deadlines``). A step taken after its deadline is still allowed (the entity must not lose its
  repair because the office was late), but the application shows as overdue (``overdue_q``).
- A credit commitment (信用承诺) is asked of the applicant, as the repair guidance does [reported].
- Who: only an enterprise user of the entity applies or withdraws. The unit competent to decide is
  the one that decided the penalty or listing; the platform does not record that unit as an
  account, so any officer whose region scope covers the entity (``restrict(user, CHANGE)``) handles
  the application. Each step records the officer in ``handled_by`` and is audited (the audit signal
  of ``BaseModel`` plus ``audit.attributed_to``).
- An approval ends the record as *repaired* (``services.end_fact``) or removes the list entry (whose
  functions end its ledger fact as repaired), appends a ``repair_decided`` event to the change feed
  (so sharing partners learn the repaired information is no longer to be used, RULES.md [checked])
  and rescores the entity when a scoring model is active — all in one transaction.

Refusals are ``RepairRefused`` with a stable ``code`` and a Chinese message; nothing is changed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from qualitygov.core import audit
from qualitygov.core.roles import ADD, CHANGE, Role, actions_for
from qualitygov.core.workdays import CalendarNotCovered, add_working_days
from qualitygov.credit import feed, lists, scoring, services
from qualitygov.credit.models import CreditRecord, Kind, ListEntry, RepairApplication
from qualitygov.credit.publication import NO_EARLY_END, PenaltyType

__all__ = ["ACCEPT_WORKING_DAYS", "DECIDE_WORKING_DAYS", "PENALTY_CONDITIONS", "Candidate", "RepairRefused",
           "accept", "candidates", "conditions_for", "deadline_summary", "decide", "due_on", "fill_pending_deadlines", "is_overdue", "overdue_q",
           "record_refusal", "refuse", "submit", "withdraw"]

ACCEPT_WORKING_DAYS = 2  # our configuration from reported practice [verify]
DECIDE_WORKING_DAYS = 15  # [verify]; RULES.md's Order 44 figure

Target = RepairApplication.Target
Status = RepairApplication.Status
OPEN = RepairApplication.OPEN_STATUSES

# Order 45 Art. 14 para. 1 (1)–(3) [checked]; condition (4) (not on either list) is checked by the code.
PENALTY_CONDITIONS: dict[str, str] = {
    "penalties_fulfilled": gettext_noop("已经自觉履行行政处罚决定中规定的义务"),
    "harm_removed": gettext_noop("已经主动消除危害后果和不良影响"),
    "no_repeat_violation": gettext_noop("未因同一类违法行为再次受到市场监督管理部门行政处罚"),
}
ABNORMAL_CONDITIONS: dict[str, str] = {
    "corrected": gettext_noop("已改正列入经营异常名录的情形（补报年报、公示信息或可通过登记住所联系等）"),
}


def conditions_for(target: str) -> dict[str, str]:
    """The conditions the applicant declares (and the officer confirms) for ``target``: key → label."""
    return {Target.PENALTY_PUBLICATION: PENALTY_CONDITIONS, Target.SERIOUS_LIST: lists.EARLY_REMOVAL_CONDITIONS,
            Target.ABNORMAL_LIST: ABNORMAL_CONDITIONS}[target]


class RepairRefused(ValidationError):
    """A repair step the rules do not allow; ``code`` names the rule, the messages say it in Chinese.

    Django drops ``code`` when the message is a dict of field errors; pages and the API want both,
    so it is kept on the instance (as ``lists.ListRefused`` does)."""

    def __init__(self, message, code=None, params=None):
        super().__init__(message, code=code, params=params)
        self.code = code


def _today() -> dt.date:
    return timezone.localdate()


def today() -> dt.date:
    """The date the repair rules take as today (one place, so tests can pin it inside a year the
    working-day calendar covers)."""
    return _today()


def _check_day(on, *, not_before: dt.date | None = None, too_early: str = "") -> dt.date:
    if on is None:
        return _today()
    if not isinstance(on, dt.date) or isinstance(on, dt.datetime):
        raise RepairRefused({"on": _("请填写日期。")}, code="bad_date")
    if on > _today():
        raise RepairRefused({"on": _("日期 %(date)s 晚于今天，不能预先办理。") % {"date": on.isoformat()}},
                            code="future_date")
    if not_before is not None and on < not_before:
        raise RepairRefused({"on": too_early % {"date": on.isoformat(), "before": not_before.isoformat()}},
                            code="before_previous_step")
    return on


def _due(day: dt.date, working_days: int) -> dt.date | None:
    """The deadline ``working_days`` after ``day``, or None while it falls in a year whose holiday
    arrangement is not yet published: the deadline is never guessed, and the application is not held
    up either — the step is taken, its deadline shows as pending, and ``fill_pending_deadlines`` (the
    daily job) computes it once the calendar covers it."""
    try:
        return add_working_days(day, working_days)
    except CalendarNotCovered:
        return None


def fill_pending_deadlines() -> int:
    """Compute the deadlines left pending for want of a holiday arrangement, where the calendar now
    covers them; returns how many were filled. Few rows (open applications at a year's end), so one
    small read and a save per row."""
    filled = 0
    pending = RepairApplication.objects.filter(
        Q(status=Status.SUBMITTED, accept_due_on__isnull=True)
        | Q(status=Status.ACCEPTED, decide_due_on__isnull=True))
    for application in pending:
        if application.status == Status.SUBMITTED:
            field, value = "accept_due_on", _due(application.received_on, ACCEPT_WORKING_DAYS)
        else:
            field, value = "decide_due_on", _due(application.accepted_on, DECIDE_WORKING_DAYS)
        if value is not None:
            setattr(application, field, value)
            application.save(update_fields=[field, "updated"])
            filled += 1
    return filled


# --- what may be repaired ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    """Something of an entity that credit repair can reach, and from when."""

    target: str
    record: CreditRecord | None
    list_entry: ListEntry | None
    eligible_from: dt.date | None  # None: from the start (the abnormal-operation list)
    open_application: bool

    def eligible(self, on: dt.date) -> bool:
        return not self.open_application and (self.eligible_from is None or self.eligible_from <= on)

    @property
    def subject(self):
        return self.record or self.list_entry

    @property
    def value(self) -> str:
        """The form value naming it: ``record-<id>`` or ``entry-<id>``."""
        return f"record-{self.record.pk}" if self.record else f"entry-{self.list_entry.pk}"


def record_refusal(record: CreditRecord, on: dt.date) -> RepairRefused | None:
    """Why the publication of ``record`` cannot end early on ``on`` (None when it can)."""
    if record.kind != Kind.ADMINISTRATIVE_PENALTY:
        return RepairRefused({"record": _("只有行政处罚信息可以申请提前停止公示，该记录是“%(kind)s”。") % {
            "kind": record.get_kind_display()}}, code="not_a_penalty")
    if record.state != CreditRecord.State.ACTIVE:
        return RepairRefused({"record": _("该行政处罚信息的状态为“%(state)s”，已不在公示中。") % {
            "state": record.get_state_display()}}, code="not_active")
    if not record.publishable:
        return RepairRefused({"record": _("该行政处罚信息不予公示（如仅受到警告的处罚），无需申请提前停止公示。")},
                             code="not_published")
    if not CreditRecord.objects.filter(pk=record.pk).publicly_visible(on).exists():
        return RepairRefused({"record": _("该行政处罚信息当前不在公示期内，无需申请提前停止公示。")},
                             code="not_published")
    heavy = sorted(set((record.details or {}).get("penalty_types") or []) & NO_EARLY_END)
    if heavy:
        names = "、".join(str(PenaltyType(t).label) for t in heavy)
        return RepairRefused({"record": _("受到%(types)s处罚的，不得提前停止公示（《市场监督管理行政处罚信息公示规定》"
                                          "第十四条第三款）。") % {"types": names}}, code="never_ends_early")
    if record.publish_min_until is not None and on < record.publish_min_until:
        return RepairRefused({"record": _("该行政处罚信息的最短公示期至 %(date)s 届满，届满后（%(date)s 起）方可申请"
                                          "提前停止公示。") % {"date": record.publish_min_until.isoformat()}},
                             code="before_minimum_period")
    return None


def _entry_refusal(entry: ListEntry, target: str, on: dt.date) -> RepairRefused | None:
    wanted = ListEntry.Kind.SERIOUS_VIOLATION if target == Target.SERIOUS_LIST else ListEntry.Kind.ABNORMAL_OPERATION
    if entry.kind != wanted:
        return RepairRefused({"list_entry": _("该名单记录属于%(list)s，与申请的修复事项不符。") % {
            "list": entry.get_kind_display()}}, code="wrong_list")
    if entry.status != ListEntry.Status.LISTED:
        return RepairRefused({"list_entry": _("该名单记录已移出，无需申请。")}, code="not_listed")
    if target == Target.SERIOUS_LIST and entry.early_removal_from and on < entry.early_removal_from:
        return RepairRefused({"list_entry": _("列入严重违法失信名单满一年后方可申请提前移出，最早可于 %(date)s 申请。") % {
            "date": entry.early_removal_from.isoformat()}}, code="before_minimum_period")
    return None


def candidates(entity_id: int) -> list[Candidate]:
    """Everything of the entity that repair can reach now or later: its published, active penalties
    that may end early (``eligible_from`` = end of the minimum period) and its open list entries
    (serious-violation: ``early_removal_from``). Three queries, whatever the number of records."""
    today = _today()
    open_records = set(RepairApplication.objects.filter(entity_id=entity_id, status__in=OPEN,
                                                        record__isnull=False).values_list("record_id", flat=True))
    open_entries = set(RepairApplication.objects.filter(entity_id=entity_id, status__in=OPEN,
                                                        list_entry__isnull=False).values_list("list_entry_id", flat=True))
    out = []
    records = (CreditRecord.objects.filter(entity_id=entity_id, kind=Kind.ADMINISTRATIVE_PENALTY)
               .publicly_visible(today).order_by("publish_min_until", "pk"))
    for record in records:
        if set((record.details or {}).get("penalty_types") or []) & NO_EARLY_END:
            continue
        out.append(Candidate(Target.PENALTY_PUBLICATION, record, None, record.publish_min_until,
                             record.pk in open_records))
    for entry in ListEntry.objects.filter(entity_id=entity_id, status=ListEntry.Status.LISTED).order_by("listed_on"):
        target = Target.SERIOUS_LIST if entry.kind == ListEntry.Kind.SERIOUS_VIOLATION else Target.ABNORMAL_LIST
        out.append(Candidate(target, None, entry, entry.early_removal_from if target == Target.SERIOUS_LIST else None,
                             entry.pk in open_entries))
    return out


# --- deadlines --------------------------------------------------------------------------------------

def due_on(application: RepairApplication) -> dt.date | None:
    """The deadline of the application's current step (None once it is closed)."""
    if application.status == Status.SUBMITTED:
        return application.accept_due_on
    if application.status == Status.ACCEPTED:
        return application.decide_due_on
    return None


def overdue_q(on: dt.date | None = None) -> Q:
    """Open applications whose current step is past its deadline on ``on`` (default today)."""
    on = on or _today()
    return Q(status=Status.SUBMITTED, accept_due_on__lt=on) | Q(status=Status.ACCEPTED, decide_due_on__lt=on)


def deadline_summary(queryset: QuerySet, on: dt.date | None = None) -> list[dict]:
    """Per region (the unit that handles the entity): open applications, those due on ``on`` (default
    today) and those overdue — one GROUP BY over ``queryset`` (pass it already ``restrict``-ed)."""
    on = on or _today()
    due_today = Q(status=Status.SUBMITTED, accept_due_on=on) | Q(status=Status.ACCEPTED, decide_due_on=on)
    rows = (queryset.filter(status__in=OPEN).order_by().values("entity__region__code", "entity__region__name")
            .annotate(open=Count("id"), due_today=Count("id", filter=due_today), overdue=Count("id", filter=overdue_q(on)))
            .order_by("entity__region__code"))
    return [{"region": row["entity__region__code"], "region_name": row["entity__region__name"], "open": row["open"],
             "due_today": row["due_today"], "overdue": row["overdue"]} for row in rows]


def is_overdue(application: RepairApplication, on: dt.date | None = None) -> bool:
    """Whether the open application is past its current deadline, or a closed one took a step late."""
    on = on or _today()
    due = due_on(application)
    if due is not None:
        return on > due
    late_accept = (application.accepted_on and application.accept_due_on
                   and application.accepted_on > application.accept_due_on)
    late_decision = (application.decided_on and application.decide_due_on
                     and application.decided_on > application.decide_due_on)
    late_intake = (application.status == Status.NOT_ACCEPTED and application.decided_on
                   and application.accept_due_on and application.decided_on > application.accept_due_on)
    return bool(late_accept or late_decision or late_intake)


# --- who --------------------------------------------------------------------------------------------

def _check_applicant(user, entity_id: int) -> None:
    if (getattr(user, "role", None) != Role.ENTERPRISE or ADD not in actions_for(user.role, RepairApplication)
            or user.entity_id is None or user.entity_id != entity_id):
        raise RepairRefused(_("只有该市场主体的企业用户可以申请信用修复。"), code="wrong_entity")


def _check_owner(user, application: RepairApplication) -> None:
    if getattr(user, "role", None) != Role.ENTERPRISE or user.entity_id != application.entity_id:
        raise RepairRefused(_("只有申请主体的企业用户可以撤回信用修复申请。"), code="wrong_entity")


def _check_handler(user, application: RepairApplication) -> None:
    is_officer = user is not None and (user.is_superuser or (
        user.role != Role.ENTERPRISE and CHANGE in actions_for(user.role, RepairApplication)))
    if not is_officer or not RepairApplication.objects.restrict(user, CHANGE).filter(pk=application.pk).exists():
        raise RepairRefused(_("您不是该信用修复申请的办理人员（须为辖区覆盖该市场主体的监管人员）。"), code="not_handler")


def _locked(application: RepairApplication, *statuses: str) -> RepairApplication:
    application = RepairApplication.objects.select_for_update().get(pk=application.pk)
    if application.status not in statuses:
        raise RepairRefused(_("该申请当前状态为“%(status)s”，不能办理此步骤。") % {
            "status": application.get_status_display()}, code="wrong_state")
    return application


def _text(value, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise RepairRefused({field: message}, code="missing_reasons")
    return value


# --- the steps --------------------------------------------------------------------------------------

def submit(*, user, target: str, record: CreditRecord | None = None, list_entry: ListEntry | None = None,
           reason: str, commitment: bool, conditions: dict | None = None,
           on: dt.date | None = None) -> RepairApplication:
    """The enterprise applies for credit repair of ``record`` (target ``penalty_publication``) or
    ``list_entry`` (``serious_list`` / ``abnormal_list``), received on ``on`` (default today).

    Refused: another entity's record, a record that cannot end early (not a penalty, not published —
    e.g. warning-only —, ended, or a never-ends-early penalty), before the minimum period or the
    one-year mark, an entry already removed, an application already open for the same subject, no
    reason, no credit commitment, an undeclared condition. The intake deadline is stored."""
    if target not in Target.values:
        raise RepairRefused({"target": _("未知的修复事项：%(target)s。") % {"target": target}}, code="unknown_target")
    on = _check_day(on)
    if target == Target.PENALTY_PUBLICATION:
        if record is None or list_entry is not None:
            raise RepairRefused({"record": _("请选择要提前停止公示的行政处罚信息。")}, code="missing_subject")
        entity_id = record.entity_id
    else:
        if list_entry is None or record is not None:
            raise RepairRefused({"list_entry": _("请选择名单记录。")}, code="missing_subject")
        entity_id = list_entry.entity_id
    _check_applicant(user, entity_id)
    reason = _text(reason, "reason", _("请填写申请理由。"))
    if commitment is not True:
        raise RepairRefused({"commitment": _("申请信用修复须作出信用承诺。")}, code="commitment_missing")
    conditions = conditions or {}
    unmet = [_(label) for name, label in conditions_for(target).items() if conditions.get(name) is not True]
    if unmet:
        raise RepairRefused({"conditions": [_("未声明满足：%(condition)s。") % {"condition": c} for c in unmet]},
                            code="conditions_unmet")
    accept_due = _due(on, ACCEPT_WORKING_DAYS)
    with audit.attributed_to(user), transaction.atomic():
        if record is not None:
            record = CreditRecord.objects.select_for_update().get(pk=record.pk)
            refusal = record_refusal(record, on)
            open_q = Q(record=record)
        else:
            list_entry = ListEntry.objects.select_for_update().get(pk=list_entry.pk)
            refusal = _entry_refusal(list_entry, target, on)
            open_q = Q(list_entry=list_entry)
        if refusal is not None:
            raise refusal
        already = RepairApplication.objects.filter(open_q, status__in=OPEN).first()
        message = _("已有一份正在办理的信用修复申请（%(date)s 提交），请勿重复申请。")
        if already is not None:
            raise RepairRefused(message % {"date": already.received_on.isoformat()}, code="already_open")
        try:
            with transaction.atomic():  # a savepoint: a concurrent application meets the partial unique constraint
                application = RepairApplication.objects.create(
                    entity_id=entity_id, target=target, record=record, list_entry=list_entry, reason=reason,
                    commitment=True, conditions={name: True for name in conditions_for(target)},
                    received_on=on, accept_due_on=accept_due, applicant=user)
        except IntegrityError:
            raise RepairRefused(_("已有一份正在办理的信用修复申请，请勿重复申请。"), code="already_open") from None
    return application


def accept(application: RepairApplication, *, user, note: str = "", on: dt.date | None = None) -> RepairApplication:
    """受理: the officer accepts a submitted application on ``on`` (default today); the decision is due
    ``DECIDE_WORKING_DAYS`` working days later. Accepting after the intake deadline is allowed (the
    application stays marked as late)."""
    with audit.attributed_to(user), transaction.atomic():
        _check_handler(user, application)
        application = _locked(application, Status.SUBMITTED)
        on = _check_day(on, not_before=application.received_on, too_early=_("日期 %(date)s 早于收到申请日期 %(before)s。"))
        application.status = Status.ACCEPTED
        application.accepted_on = on
        application.decide_due_on = _due(on, DECIDE_WORKING_DAYS)
        application.verification_note = (note or "").strip()
        application.handled_by = user
        application.save(update_fields=["status", "accepted_on", "decide_due_on", "verification_note", "handled_by",
                                        "updated"])
    return application


def refuse(application: RepairApplication, *, user, reasons: str, on: dt.date | None = None) -> RepairApplication:
    """不予受理: the officer refuses a submitted application at intake, with reasons."""
    reasons = _text(reasons, "reasons", _("不予受理须说明理由。"))
    with audit.attributed_to(user), transaction.atomic():
        _check_handler(user, application)
        application = _locked(application, Status.SUBMITTED)
        on = _check_day(on, not_before=application.received_on, too_early=_("日期 %(date)s 早于收到申请日期 %(before)s。"))
        application.status = Status.NOT_ACCEPTED
        application.decided_on = on
        application.decision_note = reasons
        application.handled_by = user
        application.save(update_fields=["status", "decided_on", "decision_note", "handled_by", "updated"])
        feed.repair_decided(application)
    return application


def decide(application: RepairApplication, *, user, approve: bool, reasons: str, verification: str = "",
           confirmed: dict | None = None, on: dt.date | None = None) -> RepairApplication:
    """准予 or 不予修复: the officer decides an accepted application on ``on`` (default today), with reasons.

    An approval requires the officer to confirm every condition of the target (``confirmed``) and
    takes effect in the same transaction: the penalty record ends as *repaired* (Order 45 Art. 14
    also requires that the entity is on neither list), or the entry leaves its list through
    ``credit.lists`` (whose own refusals come back as ``RepairRefused`` with their code). Both
    outcomes go to the change feed; the entity is rescored when a scoring model is active."""
    reasons = _text(reasons, "reasons", _("作出准予或不予修复的决定须说明理由。"))
    with audit.attributed_to(user), transaction.atomic():
        _check_handler(user, application)
        application = _locked(application, Status.ACCEPTED)
        on = _check_day(on, not_before=application.accepted_on, too_early=_("日期 %(date)s 早于受理日期 %(before)s。"))
        if approve:
            confirmed = confirmed or {}
            unmet = [_(label) for name, label in conditions_for(application.target).items()
                     if confirmed.get(name) is not True]
            if unmet:
                raise RepairRefused({"conditions": [_("未核实确认：%(condition)s。") % {"condition": c}
                                                    for c in unmet]}, code="conditions_unmet")
            _apply(application, user=user, on=on, reasons=reasons, confirmed=confirmed)
        application.status = Status.APPROVED if approve else Status.DENIED
        application.decided_on = on
        application.decision_note = reasons
        if verification.strip():
            application.verification_note = verification.strip()
        application.handled_by = user
        application.save(update_fields=["status", "decided_on", "decision_note", "verification_note", "handled_by",
                                        "updated"])
        feed.repair_decided(application)
        if approve:
            _rescore(application.entity_id, user)
    return application


def _apply(application: RepairApplication, *, user, on: dt.date, reasons: str, confirmed: dict) -> None:
    if application.target == Target.PENALTY_PUBLICATION:
        record = CreditRecord.objects.select_for_update().get(pk=application.record_id)
        refusal = record_refusal(record, on)
        if refusal is not None:
            raise refusal
        listed = (ListEntry.objects.filter(entity_id=application.entity_id, status=ListEntry.Status.LISTED)
                  .order_by("listed_on").first())
        if listed is not None:
            raise RepairRefused(_("该市场主体仍在%(list)s中，不得提前停止公示行政处罚信息（《市场监督管理行政处罚信息公示"
                                  "规定》第十四条第一款第四项）。") % {"list": listed.get_kind_display()},
                                code="entity_listed")
        services.end_fact(services.SourceRef(record.source_module, record.source_type, record.source_id), record.kind,
                          on=on, state=CreditRecord.State.REPAIRED, user=user,
                          reason=_("信用修复，提前停止公示（申请 %(id)s）：%(reasons)s") % {
                              "id": application.pk, "reasons": reasons})
        return
    entry = ListEntry.objects.get(pk=application.list_entry_id)
    try:
        if application.target == Target.SERIOUS_LIST:
            lists.remove_early(entry, user=user, on=on, conditions=confirmed)
        else:
            lists.remove_on_correction(entry, user=user, on=on, note=reasons)
    except lists.ListRefused as exc:
        raise RepairRefused(exc.message_dict if hasattr(exc, "error_dict") else exc.messages, code=exc.code) from None


def _rescore(entity_id: int, user) -> None:
    try:
        scoring.rescore_entities([entity_id], user=user)
    except scoring.ScoringRefused as exc:
        if getattr(exc, "code", None) != "no_active_model":
            raise


def withdraw(application: RepairApplication, *, user) -> RepairApplication:
    """The enterprise withdraws its application while it is open (submitted or accepted)."""
    with audit.attributed_to(user), transaction.atomic():
        _check_owner(user, application)
        application = _locked(application, *OPEN)
        application.status = Status.WITHDRAWN
        application.save(update_fields=["status", "updated"])
    return application


def open_applications(queryset: QuerySet | None = None) -> QuerySet:
    """Open applications (submitted or accepted) of ``queryset`` (default all)."""
    queryset = RepairApplication.objects.all() if queryset is None else queryset
    return queryset.filter(status__in=OPEN)
