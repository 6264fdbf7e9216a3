"""The legal clocks of complaint and tip-off handling, in working days (SAMR Order 20).

Every deadline counts working days of the Chinese calendar (``core.workdays``: public holidays and
make-up working days). The day the period starts from is not counted (Civil Code Art. 201), so a
complaint received on a Friday has its 7-working-day acceptance deadline on the 7th working day after
that Friday.

Two forms of each function: ``*_due_on`` raises ``CalendarNotCovered`` when the deadline falls in a
year the holiday calendar does not cover (an explicit error for anyone asking directly — the CLI, the
API, a form); ``pending`` wraps a call so that a workflow step can store "not computable yet" (None)
and flag the case instead of failing. The daily job fills such dates once the calendar is updated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from django.utils.translation import gettext as _

from qualitygov.core.workdays import (
    CalendarNotCovered,
    add_working_days,
    is_working_day,
    working_days_between,
)

__all__ = [
    "ACCEPT_DAYS", "DISPUTE_DAYS", "END_NOTICE_DAYS", "MEDIATION_DAYS", "REPORTER_NOTICE_DAYS",
    "REWARD_CLAIM_DAYS", "VERIFICATION_DAYS", "accept_due_on", "deadline_note", "dispute_escalate_due_on", "end_notice_due_on",
    "mediation_due_on", "paused_working_days", "pending", "reporter_notice_due_on", "reward_claim_due_on",
    "verification_due_on", "LIMITATION_YEARS", "limitation_ends_on", "skipped_and_added", "time_barred",
]

ACCEPT_DAYS = 7            # Art. 14: accept or reject within 7 working days of receipt
MEDIATION_DAYS = 45        # Art. 21 (5): mediation ends 45 working days after acceptance without agreement
END_NOTICE_DAYS = 7        # Art. 21: tell both parties within 7 working days of ending mediation
VERIFICATION_DAYS = 15     # Art. 23: verify a violation clue within 15 working days (+15 in special cases)
REPORTER_NOTICE_DAYS = 5   # Art. 31: tell a real-name reporter within 5 working days of the filing decision
DISPUTE_DAYS = 7           # Art. 30: units in dispute agree within 7 working days, else escalate
REWARD_CLAIM_DAYS = 30     # 2021 reward measures: claim within 30 working days of notice
LIMITATION_YEARS = 3       # Art. 15 (4): not accepted more than three years after the complainant knew


def accept_due_on(received_on: dt.date) -> dt.date:
    """Last day to accept or reject a complaint received on ``received_on`` (Art. 14)."""
    return add_working_days(received_on, ACCEPT_DAYS)


def paused_working_days(pauses: Iterable[tuple[dt.date, dt.date | None]], today: dt.date) -> int:
    """Working days spent in testing or appraisal (Art. 20), each pause counted from its first day to its
    last inclusive; a pause still open counts up to ``today``."""
    total = 0
    for started_on, ended_on in pauses:
        end = ended_on or today
        if end >= started_on:
            total += working_days_between(started_on - dt.timedelta(days=1), end)
    return total


def mediation_due_on(accepted_on: dt.date, paused_days: int = 0) -> dt.date:
    """Day mediation ends without agreement: 45 working days after acceptance, moved by the working days
    spent in testing or appraisal (Art. 20, 21 (5))."""
    return add_working_days(accepted_on, MEDIATION_DAYS + max(0, paused_days))


def end_notice_due_on(ended_on: dt.date) -> dt.date:
    """Last day to tell both parties that mediation ended (Art. 21)."""
    return add_working_days(ended_on, END_NOTICE_DAYS)


def verification_due_on(clue_found_on: dt.date, extended: bool = False) -> dt.date:
    """Last day to verify a violation clue found in mediation: 15 working days, 30 when extended (Art. 23)."""
    return add_working_days(clue_found_on, VERIFICATION_DAYS * (2 if extended else 1))


def reporter_notice_due_on(decided_on: dt.date) -> dt.date:
    """Last day to tell a real-name reporter whether a case was filed (Art. 31)."""
    return add_working_days(decided_on, REPORTER_NOTICE_DAYS)


def dispute_escalate_due_on(raised_on: dt.date) -> dt.date:
    """Day a jurisdiction dispute not settled by agreement goes to the common superior unit (Art. 30)."""
    return add_working_days(raised_on, DISPUTE_DAYS)


def reward_claim_due_on(notified_on: dt.date) -> dt.date:
    """Last day for a reporter to claim a reward after being told of it."""
    return add_working_days(notified_on, REWARD_CLAIM_DAYS)


def limitation_ends_on(aware_on: dt.date) -> dt.date:
    """Last day of the three-year period of Art. 15 (4), counted from the day the complainant knew or
    should have known of the harm. A period in years ends on the corresponding day of the last year;
    without such a day (29 February) on the last day of that month (Civil Code Art. 201, 203 rules on
    periods). Calendar years, not working days: the holiday calendar plays no part."""
    year = aware_on.year + LIMITATION_YEARS
    try:
        return aware_on.replace(year=year)
    except ValueError:  # 29 February of a leap year, three years on
        return dt.date(year, 2, 28)


def time_barred(aware_on: dt.date | None, received_on: dt.date) -> bool:
    """Whether a complaint received on ``received_on`` comes after the three-year limit (Art. 15 (4)).
    Unknown ``aware_on``: not barred (the limit cannot be applied without the fact)."""
    return aware_on is not None and received_on > limitation_ends_on(aware_on)


def pending(compute: Callable[..., dt.date], *args, **kwargs) -> dt.date | None:
    """``compute(*args, **kwargs)``, or None when the holiday calendar does not cover the deadline's year
    yet (the caller flags the case ``calendar_pending`` and the daily job computes it later)."""
    try:
        return compute(*args, **kwargs)
    except CalendarNotCovered:
        return None


def skipped_and_added(start: dt.date, due: dt.date) -> tuple[list[tuple[dt.date, dt.date]], list[dt.date]]:
    """What the holiday calendar changed in the period after ``start`` up to ``due``: the runs of rest days
    (first, last) that contain a public holiday on a weekday (plain weekends are left out: everybody
    expects them), and the make-up working days on a weekend that were counted. For telling a reader
    why a deadline falls later, or earlier, than a count of weekdays would give."""
    runs: list[tuple[dt.date, dt.date]] = []
    added: list[dt.date] = []
    run: list[dt.date] = []
    holiday_in_run = False
    day = start
    while day < due:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            if day.weekday() >= 5:
                added.append(day)
            if run and holiday_in_run:
                runs.append((run[0], run[-1]))
            run, holiday_in_run = [], False
        else:
            run.append(day)
            holiday_in_run = holiday_in_run or day.weekday() < 5
    if run and holiday_in_run:
        runs.append((run[0], run[-1]))
    return runs, added


def deadline_note(start: dt.date | None, due: dt.date | None, days: int) -> str:
    """One line saying how ``due`` was counted from ``start``: the ``days``-th working day after it, the
    public holidays not counted and the make-up working days counted (e.g. received 2026-10-05 →
    "收到后第 7 个工作日；节假日 10-06 至 10-07 不计；调休上班日 10-10 计入"). Empty when either date is
    missing or the calendar does not cover them."""
    if not start or not due:
        return ""
    try:
        runs, added = skipped_and_added(start, due)
    except CalendarNotCovered:
        return ""
    parts = [_("收到后第 %(n)d 个工作日") % {"n": days}]
    if runs:
        spans = [f"{a:%m-%d}" if a == b else _("%(first)s 至 %(last)s") % {"first": f"{a:%m-%d}", "last": f"{b:%m-%d}"}
                 for a, b in runs]
        parts.append(_("节假日 %(days)s 不计") % {"days": "、".join(spans)})
    if added:
        parts.append(_("调休上班日 %(days)s 计入") % {"days": "、".join(f"{d:%m-%d}" for d in added)})
    return _("；").join(parts)
