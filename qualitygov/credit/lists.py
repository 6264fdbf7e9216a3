"""The credit lists (issue 4, item 4): the serious-violation list (严重违法失信名单) and the
abnormal-operation list (经营异常名录), from listing to removal.

Rules (../shared/policy/RULES.md, sections "Serious-violation list — SAMR Order 44" and "Penalty
publicity and credit repair"; the full text of Order 44 is not in ``laws/``):

- Serious-violation list (Order 44, in force 2021-09-01): the listing decision names its grounds,
  legal basis and decision number and is published [reported]. The entity is removed
  automatically after 3 years, and on application after at least 1 year when the penalty was
  performed, the harm removed and no new heavier penalty imposed [reported] — see
  ``EARLY_REMOVAL_CONDITIONS`` and ``TERM_YEARS`` / ``EARLY_REMOVAL_AFTER_YEARS``. The 15-working-day
  deadline for deciding an application is [verify] and not enforced here.
- Abnormal-operation list: annual report not filed, information not published when ordered, false
  information, unreachable at the registered address; removed on correction [reported]. Removal
  on correction is credit repair (市场监督管理信用修复管理办法, RULES.md [checked]), so the ledger
  fact ends as *repaired*. "Three years on the list leads to the serious-violation list" [reported]
  is not automated: ``abnormal_due_for_serious_list`` lists the candidates for an officer's decision.

Every listing is also a fact in the entity's credit file (``credit.services.record_fact`` with the
entry as its source); while that fact is active the scoring grades the entity D
(``credit.scoring``). Refusals are ``ListRefused`` with a stable ``code`` and a Chinese message.
"""

from __future__ import annotations

import datetime as dt
from itertools import batched

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from qualitygov.core import audit
from qualitygov.core.models import AuditLog
from qualitygov.credit import feed
from qualitygov.credit.models import CreditRecord, Kind, ListEntry, Polarity
from qualitygov.credit.services import end_fact, record_fact, revoke_fact, source_ref

__all__ = ["EARLY_REMOVAL_AFTER_YEARS", "EARLY_REMOVAL_CONDITIONS", "LEDGER_KIND", "ListRefused", "TERM_YEARS",
           "abnormal_due_for_serious_list", "list_entity", "public_entries", "remove_early", "remove_expired",
           "remove_on_correction", "revoke_listing"]

# Order 44 (RULES.md [reported]): automatic removal after three years, early removal on application
# after one. Kept as settings of this module so a confirmed official text can correct them in one place.
TERM_YEARS = 3
EARLY_REMOVAL_AFTER_YEARS = 1
# Abnormal-operation list → serious-violation list after three years on it (RULES.md [reported]).
ABNORMAL_TO_SERIOUS_YEARS = 3

# The conditions an early removal must confirm (Order 44 via RULES.md [reported]: penalty performed,
# harm removed / violation corrected, no new heavier penalty). ``no_new_violations`` is also checked
# against the ledger, stricter than "heavier penalty": any new active negative record blocks it.
EARLY_REMOVAL_CONDITIONS: dict[str, str] = {
    "corrected": gettext_noop("已改正违法行为、消除不良影响"),
    "penalties_fulfilled": gettext_noop("已履行行政处罚决定"),
    "no_new_violations": gettext_noop("列入后未受到新的较重行政处罚、无新的失信记录"),
}

# The credit-ledger kind of each list.
LEDGER_KIND = {
    ListEntry.Kind.SERIOUS_VIOLATION: Kind.SERIOUS_VIOLATION_LISTING,
    ListEntry.Kind.ABNORMAL_OPERATION: Kind.ABNORMAL_OPERATION_LISTING,
}

# Ledger states in which a record still speaks against the entity (revoked and repaired ones do not:
# see ``credit.scoring.COUNTED_STATES``).
_STANDING_STATES = (CreditRecord.State.ACTIVE, CreditRecord.State.EXPIRED)
# Ids per statement in the removal job (well under SQLite's bound-parameter limit).
_BATCH = 500


class ListRefused(ValidationError):
    """A list step the rules do not allow; ``code`` names the rule, the messages say it in Chinese.

    Django drops ``code`` when the message is a dict of field errors; pages and the API want both,
    so it is kept on the instance (as ``inspection.errors.Refused`` does)."""

    def __init__(self, message, code=None, params=None):
        super().__init__(message, code=code, params=params)
        self.code = code


def _today() -> dt.date:
    return timezone.localdate()


def _check_date(value, field: str, *, not_before: dt.date | None = None) -> dt.date:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise ListRefused({field: _("请填写日期。")}, code="bad_date")
    if value > _today():
        raise ListRefused({field: _("日期 %(date)s 晚于今天，不能预先登记。") % {"date": value.isoformat()}},
                          code="future_date")
    if not_before is not None and value < not_before:
        raise ListRefused({field: _("日期 %(date)s 早于列入日期 %(listed)s。") % {
            "date": value.isoformat(), "listed": not_before.isoformat()}}, code="before_listing")
    return value


def _summary(entry: ListEntry) -> str:
    return _("%(list)s（决定书 %(number)s，%(department)s）：%(grounds)s") % {
        "list": entry.get_kind_display(), "number": entry.decision_number, "department": entry.department,
        "grounds": entry.grounds}


def list_entity(entity, *, kind: str, grounds: str, legal_basis: str, decision_number: str, department: str,
                listed_on: dt.date, user) -> ListEntry:
    """Put ``entity`` on the list ``kind`` (``ListEntry.Kind``) by a listing decision, and record the
    listing in its credit file (published under ``credit.publication``).

    Serious-violation entries get their removal date (``listed_on`` + 3 years) and the first day an
    early removal may be applied for (+ 1 year; Order 44, RULES.md [reported]). Refuses an unknown
    list, an entity already on that list, missing grounds, basis, decision number or department, and
    a date in the future.
    """
    if kind not in ListEntry.Kind.values:
        raise ListRefused({"kind": _("未知的名单类型：%(kind)s。") % {"kind": kind}}, code="unknown_list")
    values = {"grounds": (grounds or "").strip(), "legal_basis": (legal_basis or "").strip(),
              "decision_number": (decision_number or "").strip(), "department": (department or "").strip()}
    missing = {name: _("请填写%(field)s。") % {"field": ListEntry._meta.get_field(name).verbose_name}
               for name, value in values.items() if not value}
    if missing:
        raise ListRefused(missing, code="missing_fields")
    _check_date(listed_on, "listed_on")
    if kind == ListEntry.Kind.SERIOUS_VIOLATION:
        values["removal_due_on"] = listed_on + relativedelta(years=TERM_YEARS)
        values["early_removal_from"] = listed_on + relativedelta(years=EARLY_REMOVAL_AFTER_YEARS)
    already = _("该市场主体已在%(list)s中，不能重复列入。") % {"list": ListEntry.Kind(kind).label}
    with audit.attributed_to(user), transaction.atomic():
        if ListEntry.objects.filter(entity=entity, kind=kind, status=ListEntry.Status.LISTED).exists():
            raise ListRefused({"entity": already}, code="already_listed")
        try:
            with transaction.atomic():  # a savepoint: a concurrent listing meets the partial unique constraint
                entry = ListEntry.objects.create(entity=entity, kind=kind, listed_on=listed_on, listed_by=user,
                                                 **values)
        except IntegrityError:
            raise ListRefused({"entity": already}, code="already_listed") from None
        record_fact(entity=entity, kind=LEDGER_KIND[kind], occurred_on=listed_on, source=entry,
                    summary=_summary(entry), department=entry.department, user=user,
                    details={"decision_number": entry.decision_number, "legal_basis": entry.legal_basis,
                             "list": kind, "removal_due_on": entry.removal_due_on})
        feed.entry_changed(entry)
    return entry


def _locked_open(entry: ListEntry) -> ListEntry:
    """The entry re-read under a row lock; refuses one already removed."""
    entry = ListEntry.objects.select_for_update().select_related("entity").get(pk=entry.pk)
    if entry.status != ListEntry.Status.LISTED:
        raise ListRefused(_("该名单记录已于 %(date)s 移出。") % {"date": entry.removed_on.isoformat()},
                          code="already_removed")
    return entry


def _remove(entry: ListEntry, *, reason: str, on: dt.date, note: str, user) -> ListEntry:
    entry.status = ListEntry.Status.REMOVED
    entry.removal_reason = reason
    entry.removed_on = on
    entry.removal_note = note
    entry.removed_by = user
    entry.save(update_fields=["status", "removal_reason", "removed_on", "removal_note", "removed_by", "updated"])
    feed.entry_changed(entry)
    return entry


def remove_expired(today: dt.date | None = None, user=None) -> int:
    """Remove every serious-violation entry whose three years ended on or before ``today`` (default
    today) and end its ledger fact as *expired*; returns how many were removed. The daily job.

    Set-based: one UPDATE of the entries and one of their ledger records per batch, and one summary
    audit entry. ``removed_on`` is the day the term ended, even when the job runs late. Safe to run
    again (removed entries and ended facts are left alone).
    """
    today = today or _today()
    reason = ListEntry.RemovalReason.TERM_ENDED
    with audit.attributed_to(user), transaction.atomic():
        due = ListEntry.objects.select_for_update().filter(
            kind=ListEntry.Kind.SERIOUS_VIOLATION, status=ListEntry.Status.LISTED, removal_due_on__lte=today)
        ids = list(due.values_list("pk", flat=True))
        if not ids:
            return 0
        module, source_type = ListEntry._meta.app_label, ListEntry._meta.model_name  # as source_ref names them
        now = timezone.now()
        note = reason.label
        for batch in batched(ids, _BATCH):
            entries = ListEntry.objects.filter(pk__in=batch, status=ListEntry.Status.LISTED)
            entries.update(status=ListEntry.Status.REMOVED, removal_reason=reason, removed_on=F("removal_due_on"),
                           removal_note=note, removed_by=user, updated=now)
            records = CreditRecord.objects.filter(
                source_module=module, source_type=source_type, source_id__in=[str(pk) for pk in batch],
                kind=Kind.SERIOUS_VIOLATION_LISTING, state=CreditRecord.State.ACTIVE)
            published = list(records.publicly_visible(today).values_list("pk", flat=True))
            records.update(state=CreditRecord.State.EXPIRED, state_changed_at=now, updated=now,
                           state_reason=_("%(date)s：%(reason)s") % {"date": today.isoformat(), "reason": note})
            feed.records_withdrawn(published, reason=str(note))
            feed.entries_removed(batch)
        audit.record(AuditLog.Action.UPDATE, model=ListEntry,
                     message=_("严重违法失信名单期满移出 %(n)d 条（截至 %(date)s），相应信用记录标记为公示期满。") % {
                         "n": len(ids), "date": today.isoformat()},
                     after={"removed": ids})
    return len(ids)


def _new_negative_records(entry: ListEntry) -> QuerySet:
    """Negative records of the entry's entity that occurred after its listing and still stand
    (revoked or repaired ones do not count), other than the listing itself."""
    ref = source_ref(entry)
    return (CreditRecord.objects.filter(entity_id=entry.entity_id, polarity=Polarity.NEGATIVE,
                                        occurred_on__gt=entry.listed_on, state__in=_STANDING_STATES)
            .exclude(source_module=ref.module, source_type=ref.type, source_id=ref.id))


def remove_early(entry: ListEntry, *, user, on: dt.date, conditions: dict) -> ListEntry:
    """Remove a serious-violation entry early on the entity's application (credit repair), decided on
    ``on``, and end its ledger fact as *repaired*.

    Refuses before ``early_removal_from`` (one year after listing, Order 44 via RULES.md [reported]),
    unless every condition in ``EARLY_REMOVAL_CONDITIONS`` is confirmed True in ``conditions``, and
    when the ledger holds a new negative record for the entity since the listing.
    """
    with audit.attributed_to(user), transaction.atomic():
        entry = _locked_open(entry)
        if entry.kind != ListEntry.Kind.SERIOUS_VIOLATION:
            raise ListRefused(_("经营异常名录在改正后移出，不适用提前移出申请。"), code="wrong_list")
        _check_date(on, "on", not_before=entry.listed_on)
        if on < entry.early_removal_from:
            raise ListRefused({"on": _("列入严重违法失信名单满一年后方可申请提前移出，最早可于 %(date)s 移出。") % {
                "date": entry.early_removal_from.isoformat()}}, code="too_early")
        conditions = conditions or {}
        unmet = [label for name, label in EARLY_REMOVAL_CONDITIONS.items() if conditions.get(name) is not True]
        if unmet:
            raise ListRefused({"conditions": [_("未确认：%(condition)s。") % {"condition": _(label)}
                                              for label in unmet]}, code="conditions_unmet")
        new = _new_negative_records(entry).order_by("occurred_on").first()
        if new is not None:
            raise ListRefused({"conditions": _("列入后仍有新的失信记录（%(kind)s，%(date)s），不能提前移出。") % {
                "kind": new.get_kind_display(), "date": new.occurred_on.isoformat()}}, code="new_violation")
        confirmed = "、".join(_(label) for label in EARLY_REMOVAL_CONDITIONS.values())
        entry = _remove(entry, reason=ListEntry.RemovalReason.EARLY, on=on,
                        note=_("申请提前移出，经审核确认：%(conditions)s。") % {"conditions": confirmed}, user=user)
        end_fact(entry, LEDGER_KIND[entry.kind], on=on, state=CreditRecord.State.REPAIRED,
                 reason=ListEntry.RemovalReason.EARLY.label, user=user)
    return entry


def remove_on_correction(entry: ListEntry, *, user, on: dt.date, note: str) -> ListEntry:
    """Remove an abnormal-operation entry because the entity corrected the ground of listing (filed the
    report, published the information, can be reached…; RULES.md [reported]) and end its ledger fact
    as *repaired* (removal from the abnormal-operation list is credit repair, RULES.md [checked]).
    ``note`` says what was corrected. Refused for the serious-violation list."""
    if not (note or "").strip():
        raise ListRefused({"note": _("请说明改正情况。")}, code="missing_fields")
    with audit.attributed_to(user), transaction.atomic():
        entry = _locked_open(entry)
        if entry.kind != ListEntry.Kind.ABNORMAL_OPERATION:
            raise ListRefused(_("严重违法失信名单不因改正而移出：期满移出或满一年后申请提前移出。"), code="wrong_list")
        _check_date(on, "on", not_before=entry.listed_on)
        entry = _remove(entry, reason=ListEntry.RemovalReason.CORRECTED, on=on, note=note.strip(), user=user)
        end_fact(entry, LEDGER_KIND[entry.kind], on=on, state=CreditRecord.State.REPAIRED,
                 reason=ListEntry.RemovalReason.CORRECTED.label, user=user)
    return entry


def revoke_listing(entry: ListEntry, *, user, on: dt.date, reason: str) -> ListEntry:
    """Remove an entry whose listing decision was revoked (on review, in court, or by the deciding
    department itself) and revoke its ledger fact: it no longer counts, is no longer published and no
    longer forces grade D."""
    if not (reason or "").strip():
        raise ListRefused({"reason": _("请说明撤销列入决定的原因。")}, code="missing_fields")
    with audit.attributed_to(user), transaction.atomic():
        entry = _locked_open(entry)
        _check_date(on, "on", not_before=entry.listed_on)
        entry = _remove(entry, reason=ListEntry.RemovalReason.DECISION_REVOKED, on=on, note=reason.strip(), user=user)
        revoke_fact(entry, LEDGER_KIND[entry.kind], reason=reason.strip(), user=user)
    return entry


def public_entries(kind: str | None = None) -> QuerySet:
    """Entries on the public lists: every entry still listed, of ``kind`` if given. Both lists are
    public (Order 44 publishes the serious-violation list; the abnormal-operation list is published
    under the Enterprise Information Disclosure Regulation)."""
    entries = ListEntry.objects.filter(status=ListEntry.Status.LISTED).select_related("entity", "entity__region")
    if kind is not None:
        if kind not in ListEntry.Kind.values:
            raise ListRefused({"kind": _("未知的名单类型：%(kind)s。") % {"kind": kind}}, code="unknown_list")
        entries = entries.filter(kind=kind)
    return entries.order_by("-listed_on", "-id")


def abnormal_due_for_serious_list(today: dt.date | None = None) -> QuerySet:
    """Abnormal-operation entries listed three years or more before ``today`` whose entity is not yet
    on the serious-violation list: candidates for a serious-violation listing decision (RULES.md
    [reported]). Listing them stays a decision with its own grounds and number (``list_entity``)."""
    today = today or _today()
    on_serious = ListEntry.objects.filter(kind=ListEntry.Kind.SERIOUS_VIOLATION, status=ListEntry.Status.LISTED)
    return (ListEntry.objects.filter(kind=ListEntry.Kind.ABNORMAL_OPERATION, status=ListEntry.Status.LISTED,
                                     listed_on__lte=today - relativedelta(years=ABNORMAL_TO_SERIOUS_YEARS))
            .exclude(entity_id__in=on_serious.values("entity_id")).select_related("entity"))
