"""Follow-up of results: notice, receipt, objection and re-inspection, finality, rectification, Art. 17.

Deadlines:

- Objection (复检申请): within 15 days of the day the entity received the result (Product Quality
  Law Art. 15, 4th para.: "自收到检验结果之日起十五日内"). Counted in calendar days as the law
  writes days (日), the day of receipt not counted (Civil Code Art. 201: a period in days starts the
  next day); when the last day is a public holiday or rest day the period ends on the next working
  day (Civil Code Art. 203) — the holiday calendar is the ``holidays`` package's China calendar
  (official 调休 adjustments included where it knows them).
- The result becomes final the day after the window closes with no objection, or on the day the
  re-inspection report is made (the re-inspection's conclusion is final).
- Rectification: the deadline is set in the order; a report of correction is re-checked.
- Art. 17 escalation, each step only after the one before: rectification overdue or re-check
  failed → public notice by a province-level regulator → re-check after the notice still fails →
  suspension for rectification → re-check after the suspension still fails → business licence
  revoked.

Every step is attributed to its user and lands in the audit log (per-object history).
"""

from __future__ import annotations

import datetime as dt

import holidays
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qualitygov.core import audit
from qualitygov.core.models import Region, User
from qualitygov.core.roles import Role
from qualitygov.inspection.errors import Refused
from qualitygov.inspection.models import (
    Enforcement,
    Objection,
    Rectification,
    Sample,
    TestingLab,
    TestReport,
    Verdict,
)

__all__ = [
    "FollowUpRefused", "OBJECTION_DAYS", "notify_result", "acknowledge_receipt", "objection_deadline",
    "file_objection", "accept_objection", "reject_objection", "decide_objection", "finalize_due",
    "order_rectification", "report_rectification", "recheck_rectification", "mark_overdue", "escalate",
    "next_working_day",
]

OBJECTION_DAYS = 15
UNQUALIFIED = (Verdict.UNQUALIFIED, Verdict.SERIOUSLY_UNQUALIFIED)


class FollowUpRefused(Refused):
    """A follow-up step the rules do not allow now; the message says why, in Chinese."""


def _china_holidays(years):
    return holidays.country_holidays("CN", years=years)


def next_working_day(day: dt.date) -> dt.date:
    """``day`` itself when it is a working day in China, else the next working day.

    Weekends count as rest days except the adjusted working days (调休) the calendar lists.
    """
    calendar = _china_holidays(range(day.year, day.year + 2))
    workdays = getattr(calendar, "weekend_workdays", set())
    while day in calendar or (day.weekday() >= 5 and day not in workdays):
        day += dt.timedelta(days=1)
    return day


def objection_deadline(sample: Sample) -> dt.date | None:
    """Last day an objection is accepted: receipt + 15 days, moved past rest days (see module doc)."""
    if sample.received_on is None:
        return None
    return next_working_day(sample.received_on + dt.timedelta(days=OBJECTION_DAYS))


def _save(instance, fields: list[str]) -> None:
    instance.save(update_fields=[*fields, "updated"])


def notify_result(sample: Sample, *, user: User, on: dt.date | None = None) -> Sample:
    """Send the result to the entity (检验结果告知); the objection window starts on receipt."""
    if sample.status != Sample.Status.REPORTED:
        raise FollowUpRefused(_("抽样单 %(number)s 尚无检验报告或已告知。") % {"number": sample.number},
                              code="not_reported")
    on = on or timezone.localdate()
    tested_on = TestReport.objects.filter(sample=sample, kind=TestReport.Kind.INITIAL).values_list(
        "tested_on", flat=True).first()
    if tested_on and on < tested_on:
        raise FollowUpRefused({"notified_on": _("告知日期不能早于检验完成日期 %(date)s。") % {"date": tested_on}},
                              code="notified_before_tested")
    with audit.attributed_to(user):
        sample.status = Sample.Status.NOTIFIED
        sample.notified_on = on
        _save(sample, ["status", "notified_on"])
    return sample


def acknowledge_receipt(sample: Sample, *, user: User, on: dt.date | None = None) -> Sample:
    """Record the day the entity received the result (signed receipt or the entity's own click)."""
    on = on or timezone.localdate()
    if sample.notified_on is None:
        raise FollowUpRefused(_("检验结果尚未告知企业。"), code="not_notified")
    if sample.received_on is not None:
        raise FollowUpRefused(_("已登记收到日期 %(date)s。") % {"date": sample.received_on}, code="already_received")
    if on < sample.notified_on:
        raise FollowUpRefused({"received_on": _("收到日期不能早于告知日期 %(date)s。") % {"date": sample.notified_on}},
                              code="received_before_notified")
    with audit.attributed_to(user):
        sample.received_on = on
        _save(sample, ["received_on"])
    return sample


def file_objection(sample: Sample, *, user: User, grounds: str, filed_on: dt.date | None = None) -> Objection:
    """The entity applies for re-inspection; refused after the deadline or without a result to contest."""
    filed_on = filed_on or timezone.localdate()
    if user.role == Role.ENTERPRISE and user.entity_id != sample.entity_id:
        raise FollowUpRefused(_("只能对本企业的抽查结果提出异议。"), code="not_own_entity")
    if sample.outcome != Sample.Outcome.SAMPLED or sample.verdict not in UNQUALIFIED:
        raise FollowUpRefused(_("只有不合格的检验结果可以申请复检。"), code="nothing_to_contest")
    if Objection.objects.filter(sample=sample).exists():
        raise FollowUpRefused(_("抽样单 %(number)s 已提出过复检申请，不能重复申请。") % {"number": sample.number},
                              code="duplicate_objection")
    deadline = objection_deadline(sample)
    if deadline is None:
        raise FollowUpRefused(_("尚未登记企业收到检验结果的日期，复检期限未开始计算。"), code="not_received")
    if filed_on > deadline:
        raise FollowUpRefused(
            _("复检申请已超过期限：检验结果于 %(received)s 收到，应在 %(deadline)s 前（含当日）提出（《产品质量法》"
              "第十五条，收到检验结果之日起十五日内）。") % {"received": sample.received_on, "deadline": deadline},
            code="objection_late")
    if filed_on < sample.received_on:
        raise FollowUpRefused(_("申请日期不能早于收到检验结果的日期。"), code="objection_early")
    if not (grounds or "").strip():
        raise FollowUpRefused({"grounds": _("请写明异议理由。")}, code="grounds")
    with transaction.atomic(), audit.attributed_to(user):
        objection = Objection.objects.create(sample=sample, filed_on=filed_on, filed_by=user, grounds=grounds.strip())
        sample.status = Sample.Status.OBJECTED
        _save(sample, ["status"])
    return objection


def accept_objection(objection: Objection, *, user: User, lab: TestingLab, on: dt.date | None = None) -> Objection:
    """Accept the application and send the spare sample to ``lab``, which must not be the first lab."""
    if objection.status != Objection.Status.FILED:
        raise FollowUpRefused(_("该复检申请已处理。"), code="already_handled")
    sample = objection.sample
    first_lab_id = TestReport.objects.filter(sample=sample, kind=TestReport.Kind.INITIAL).values_list(
        "lab_id", flat=True).first()
    if lab.pk == first_lab_id:
        raise FollowUpRefused({"reinspection_lab": _("复检须由原检验机构以外的检验机构承担。")}, code="same_lab")
    if not lab.active:
        raise FollowUpRefused({"reinspection_lab": _("检验机构“%(lab)s”已停用。") % {"lab": lab.name}}, code="lab_inactive")
    if sample.spare_quantity < 1:
        raise FollowUpRefused(_("该抽样单没有备用样品，无法复检。"), code="no_spare")
    with audit.attributed_to(user):
        objection.status = Objection.Status.ACCEPTED
        objection.reinspection_lab = lab
        objection.accepted_on = on or timezone.localdate()
        objection.handled_by = user
        _save(objection, ["status", "reinspection_lab", "accepted_on", "handled_by"])
    return objection


def reject_objection(objection: Objection, *, user: User, reason: str, on: dt.date | None = None) -> Objection:
    """Refuse the application (e.g. not a party, no spare); the original result stands and is final."""
    if objection.status != Objection.Status.FILED:
        raise FollowUpRefused(_("该复检申请已处理。"), code="already_handled")
    if not (reason or "").strip():
        raise FollowUpRefused({"rejection_reason": _("请写明不予受理的理由。")}, code="reason")
    on = on or timezone.localdate()
    with transaction.atomic(), audit.attributed_to(user):
        objection.status = Objection.Status.REJECTED
        objection.rejection_reason = reason.strip()
        objection.handled_by = user
        objection.decided_on = on
        _save(objection, ["status", "rejection_reason", "handled_by", "decided_on"])
        sample = objection.sample
        sample.status = Sample.Status.FINAL
        sample.final_on = on
        _save(sample, ["status", "final_on"])
    return objection


def decide_objection(sample: Sample, report: TestReport, *, user: User) -> Objection:
    """Apply a re-inspection report: its verdict is the final one; the objection is decided
    (confirmed when the verdict is unchanged, overturned otherwise). Called by ``results.enter_results``."""
    objection = sample.objection
    decision = (Objection.Decision.CONFIRMED if report.verdict == sample.verdict else Objection.Decision.OVERTURNED)
    with audit.attributed_to(user):
        objection.status = Objection.Status.DECIDED
        objection.decision = decision
        objection.decided_on = report.tested_on
        _save(objection, ["status", "decision", "decided_on"])
        sample.verdict = report.verdict
        sample.failing_items = report.failing_items
        sample.status = Sample.Status.FINAL
        sample.final_on = report.tested_on
        _save(sample, ["verdict", "failing_items", "status", "final_on"])
    return objection


def finalize_due(today: dt.date | None = None) -> int:
    """Make final every notified result whose objection window has closed without an objection.

    Set-based per receipt day (one UPDATE per distinct day, a few hundred at most), since the
    deadline depends on the holiday calendar."""
    today = today or timezone.localdate()
    pending = (Sample.objects.filter(status=Sample.Status.NOTIFIED, received_on__isnull=False)
               .values_list("received_on", flat=True).distinct())
    done = 0
    for received in pending:
        deadline = next_working_day(received + dt.timedelta(days=OBJECTION_DAYS))
        if deadline < today:
            with audit.per_object_audit_disabled():
                done += Sample.objects.filter(status=Sample.Status.NOTIFIED, received_on=received).update(
                    status=Sample.Status.FINAL, final_on=deadline + dt.timedelta(days=1), updated=timezone.now())
    if done:
        audit.record(audit_action_update(), model=Sample, message=_("复检期限届满，%(n)d 份检验结果确定。") % {"n": done})
    return done


def audit_action_update():
    from qualitygov.core.models import AuditLog

    return AuditLog.Action.UPDATE


# --- rectification and Art. 17 ---------------------------------------------------------------------

def _require_final_unqualified(sample: Sample) -> None:
    if sample.status not in (Sample.Status.FINAL, Sample.Status.PUBLISHED) or sample.verdict not in UNQUALIFIED:
        raise FollowUpRefused(_("只有结果已确定的不合格抽样单才能责令整改或采取后处理措施。"), code="not_final_unqualified")


def order_rectification(sample: Sample, *, user: User, deadline: dt.date, on: dt.date | None = None) -> Rectification:
    """Order the entity to correct within ``deadline`` (Art. 17: 责令限期改正)."""
    _require_final_unqualified(sample)
    on = on or timezone.localdate()
    if deadline < on:
        raise FollowUpRefused({"deadline": _("整改期限不能早于责令日期。")}, code="deadline")
    if sample.rectifications.filter(status__in=[Rectification.Status.ORDERED, Rectification.Status.REPORTED]).exists():
        raise FollowUpRefused(_("该抽样单已有进行中的整改。"), code="rectification_open")
    with audit.attributed_to(user):
        return Rectification.objects.create(sample=sample, ordered_on=on, deadline=deadline, ordered_by=user)


def report_rectification(rectification: Rectification, *, user: User, report: str,
                         on: dt.date | None = None) -> Rectification:
    """The entity reports what it corrected."""
    if rectification.status != Rectification.Status.ORDERED:
        raise FollowUpRefused(_("该整改不在整改中状态。"), code="not_ordered")
    if user.role == Role.ENTERPRISE and user.entity_id != rectification.sample.entity_id:
        raise FollowUpRefused(_("只能报告本企业的整改情况。"), code="not_own_entity")
    if not (report or "").strip():
        raise FollowUpRefused({"entity_report": _("请填写整改报告。")}, code="report")
    with audit.attributed_to(user):
        rectification.status = Rectification.Status.REPORTED
        rectification.entity_report = report.strip()
        rectification.reported_on = on or timezone.localdate()
        _save(rectification, ["status", "entity_report", "reported_on"])
    return rectification


def recheck_rectification(rectification: Rectification, *, user: User, passed: bool, note: str = "",
                          on: dt.date | None = None) -> Rectification:
    """Record the re-check (复查) of a rectification: passed or still unqualified."""
    if rectification.status not in (Rectification.Status.ORDERED, Rectification.Status.REPORTED,
                                    Rectification.Status.OVERDUE):
        raise FollowUpRefused(_("该整改已复查。"), code="already_rechecked")
    on = on or timezone.localdate()
    if on < rectification.ordered_on:
        raise FollowUpRefused({"rechecked_on": _("复查日期不能早于责令日期。")}, code="recheck_date")
    with audit.attributed_to(user):
        rectification.status = Rectification.Status.PASSED if passed else Rectification.Status.FAILED
        rectification.rechecked_on = on
        rectification.rechecked_by = user
        rectification.recheck_note = note
        _save(rectification, ["status", "rechecked_on", "rechecked_by", "recheck_note"])
    return rectification


def mark_overdue(today: dt.date | None = None) -> int:
    """Rectifications past their deadline without a report become overdue (逾期未改正)."""
    today = today or timezone.localdate()
    return Rectification.objects.filter(status=Rectification.Status.ORDERED, deadline__lt=today).update(
        status=Rectification.Status.OVERDUE, updated=timezone.now())


ESCALATION = [Enforcement.Action.PUBLIC_NOTICE, Enforcement.Action.SUSPENSION, Enforcement.Action.LICENCE_REVOCATION]


def escalate(sample: Sample, *, user: User, action: str, decision_number: str, decided_on: dt.date | None = None,
             until: dt.date | None = None, note: str = "") -> Enforcement:
    """Take the next Art. 17 step against the entity, when the step before it has failed."""
    _require_final_unqualified(sample)
    if action not in ESCALATION:
        raise FollowUpRefused({"action": _("未知的措施。")}, code="action")
    decided_on = decided_on or timezone.localdate()
    if not (decision_number or "").strip():
        raise FollowUpRefused({"decision_number": _("请填写决定书文号。")}, code="decision_number")
    taken = {e.action: e for e in sample.enforcements.all()}
    if action in taken:
        raise FollowUpRefused(_("该抽样单已采取过“%(action)s”。") % {"action": Enforcement.Action(action).label},
                              code="duplicate_action")
    step = ESCALATION.index(action)
    if step == 0:
        failed = sample.rectifications.filter(status__in=[Rectification.Status.OVERDUE, Rectification.Status.FAILED])
        if not failed.exists():
            raise FollowUpRefused(_("予以公告须以逾期未改正为前提（《产品质量法》第十七条）：请先责令整改，并在逾期或复查不合格后再公告。"),
                                  code="no_failed_rectification")
        if user.role not in (Role.PROVINCE_OFFICER, Role.PROVINCE_ADMIN) and not user.is_superuser:
            raise FollowUpRefused(_("公告由省级以上市场监督管理部门作出（《产品质量法》第十七条）。"), code="province_only")
    else:
        previous = taken.get(ESCALATION[step - 1])
        if previous is None:
            raise FollowUpRefused(_("须先采取“%(previous)s”（《产品质量法》第十七条）。")
                                  % {"previous": ESCALATION[step - 1].label}, code="previous_step_missing")
        since = previous.until or previous.decided_on
        if not sample.rectifications.filter(status=Rectification.Status.FAILED, rechecked_on__gte=since).exists():
            raise FollowUpRefused(_("须在“%(previous)s”之后经复查仍不合格，才能%(action)s（《产品质量法》第十七条）。")
                                  % {"previous": previous.get_action_display(),
                                     "action": Enforcement.Action(action).label}, code="no_failed_recheck")
    if action == Enforcement.Action.SUSPENSION and until is None:
        raise FollowUpRefused({"until": _("责令停业整顿须写明整顿期限。")}, code="until")
    with transaction.atomic(), audit.attributed_to(user):
        enforcement = Enforcement.objects.create(sample=sample, action=action, decided_on=decided_on,
                                                 decision_number=decision_number.strip(), decided_by=user,
                                                 until=until, note=note)
        entity = sample.entity
        status = {Enforcement.Action.SUSPENSION: entity.Status.SUSPENDED,
                  Enforcement.Action.LICENCE_REVOCATION: entity.Status.REVOKED}.get(action)
        if status:
            entity.status = status
            entity.save(update_fields=["status", "updated"])
        if action == Enforcement.Action.LICENCE_REVOCATION:
            from qualitygov.credit.models import Kind
            from qualitygov.credit.services import record_fact

            record_fact(entity=entity, kind=Kind.LICENCE_REVOCATION, occurred_on=decided_on, source=enforcement,
                        summary=_("监督抽查不合格经整顿后复查仍不合格，吊销营业执照（%(number)s）。")
                        % {"number": enforcement.decision_number}, user=user)
    return enforcement


def province_region() -> Region | None:
    return Region.objects.filter(level=Region.Level.PROVINCE).first()
