"""The legal clocks of SAMR Order 20 in working days, with the Chinese holiday calendar (start day not
counted, Civil Code Art. 201), and the three-year limit of Art. 15 (4)."""

from __future__ import annotations

import datetime as dt

import pytest

from qualitygov.complaints import clocks
from qualitygov.core.workdays import CalendarNotCovered

D = dt.date


def test_accept_deadline_crosses_national_day():
    # Received Tuesday 29 Sep 2026: 30 Sep is the 1st working day, 1–7 Oct are the National Day holiday,
    # 8 Oct (Thu) … 14 Oct (Wed) the 2nd … 6th; 10 Oct (Sat) is a make-up working day → the 7th is 14 Oct.
    assert clocks.accept_due_on(D(2026, 9, 29)) == D(2026, 10, 14)
    # Without a holiday: received Monday 2 Nov 2026 → Wednesday 11 Nov (7 working days, the Monday not counted).
    assert clocks.accept_due_on(D(2026, 11, 2)) == D(2026, 11, 11)


def test_received_on_a_weekend_counts_from_the_next_working_day():
    # Saturday 7 Nov 2026: Mon 9 … Tue 17 Nov are working days 1 … 7.
    assert clocks.accept_due_on(D(2026, 11, 7)) == D(2026, 11, 17)


def test_mediation_period_moves_by_the_working_days_of_testing():
    accepted = D(2026, 3, 2)
    plain = clocks.mediation_due_on(accepted)
    # A pause from Mon 9 to Fri 13 March 2026 is five working days; an open pause counts up to today.
    paused = clocks.paused_working_days([(D(2026, 3, 9), D(2026, 3, 13))], today=D(2026, 4, 1))
    assert paused == 5
    assert clocks.mediation_due_on(accepted, paused) == clocks.add_working_days(plain, 5)
    assert clocks.paused_working_days([(D(2026, 3, 9), None)], today=D(2026, 3, 10)) == 2
    # A weekend-only pause costs nothing.
    assert clocks.paused_working_days([(D(2026, 3, 7), D(2026, 3, 8))], today=D(2026, 4, 1)) == 0


def test_verification_and_notice_periods():
    assert clocks.verification_due_on(D(2026, 11, 2)) == D(2026, 11, 23)          # 15 working days
    assert clocks.verification_due_on(D(2026, 11, 2), extended=True) == D(2026, 12, 14)  # 30
    assert clocks.reporter_notice_due_on(D(2026, 11, 2)) == D(2026, 11, 9)        # 5
    assert clocks.end_notice_due_on(D(2026, 9, 30)) == D(2026, 10, 15)           # 7, across National Day
    assert clocks.dispute_escalate_due_on(D(2026, 11, 2)) == D(2026, 11, 11)      # 7


def test_three_year_limit():
    assert clocks.limitation_ends_on(D(2023, 9, 28)) == D(2026, 9, 28)
    assert clocks.time_barred(D(2023, 9, 28), D(2026, 9, 29))
    assert not clocks.time_barred(D(2023, 9, 29), D(2026, 9, 29))
    assert not clocks.time_barred(None, D(2026, 9, 29))
    # 29 February three years on has no corresponding day: the period ends on 28 February.
    assert clocks.limitation_ends_on(D(2024, 2, 29)) == D(2027, 2, 28)


def test_deadline_beyond_the_calendar_is_an_explicit_error_or_pending():
    # Received 28 Dec 2026: the 7th working day lies in 2027, whose holidays are not known yet.
    with pytest.raises(CalendarNotCovered) as error:
        clocks.accept_due_on(D(2026, 12, 28))
    assert "节假日" in str(error.value.messages[0])
    assert clocks.pending(clocks.accept_due_on, D(2026, 12, 28)) is None
    assert clocks.pending(clocks.accept_due_on, D(2026, 9, 29)) == D(2026, 10, 14)
