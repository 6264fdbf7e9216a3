"""China working days (``core.workdays``) against the State Council's published arrangements.

Expected dates are counted by hand from the notices (国务院办公厅关于2025年/2026年部分节假日安排的通知):

- 2025: Spring Festival 28 Jan – 4 Feb, make-up working days Sun 26 Jan and Sat 8 Feb; Labour Day
  1–5 May, make-up Sun 27 Apr; National Day and Mid-Autumn 1–8 Oct, make-up Sun 28 Sep and Sat 11 Oct.
- 2026: New Year 1–3 Jan, make-up Sun 4 Jan; Spring Festival 15–23 Feb, make-up Sat 14 Feb and Sat
  28 Feb; Labour Day 1–5 May, make-up Sat 9 May; National Day 1–7 Oct, make-up Sun 20 Sep and Sat 10 Oct.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from qualitygov.core.workdays import (
    CalendarNotCovered,
    add_working_days,
    is_working_day,
    last_covered_year,
    next_working_day,
    working_days_between,
)

D = dt.date


@pytest.mark.parametrize("day", [D(2025, 1, 28), D(2025, 1, 31), D(2025, 2, 4), D(2025, 5, 5), D(2025, 10, 8),
                                 D(2026, 1, 2), D(2026, 2, 16), D(2026, 2, 23), D(2026, 10, 1), D(2026, 10, 7)])
def test_holidays_on_weekdays_are_rest_days(day):
    assert day.weekday() < 5
    assert not is_working_day(day)


@pytest.mark.parametrize("day", [D(2025, 1, 26), D(2025, 2, 8), D(2025, 4, 27), D(2025, 9, 28), D(2025, 10, 11),
                                 D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9), D(2026, 9, 20),
                                 D(2026, 10, 10)])
def test_make_up_weekend_days_are_working_days(day):
    assert day.weekday() >= 5
    assert is_working_day(day)


def test_ordinary_weekdays_and_weekends():
    assert is_working_day(D(2026, 3, 4))  # a Wednesday
    assert not is_working_day(D(2026, 3, 7))  # a Saturday, not a make-up day
    assert not is_working_day(D(2025, 10, 4))  # Saturday inside the National Day week


@pytest.mark.parametrize(("start", "count", "expected"), [
    # 2025 Spring Festival: Fri 24 Jan → Sun 26 Jan (make-up) → Mon 27 Jan; then over the holiday to 5–6 Feb.
    (D(2025, 1, 24), 1, D(2025, 1, 26)),
    (D(2025, 1, 24), 2, D(2025, 1, 27)),
    (D(2025, 1, 27), 2, D(2025, 2, 6)),
    # 2025 National Day: the make-up Sunday 28 Sep, then 9 Oct, then the make-up Saturday 11 Oct.
    (D(2025, 9, 26), 1, D(2025, 9, 28)),
    (D(2025, 9, 30), 1, D(2025, 10, 9)),
    (D(2025, 10, 9), 2, D(2025, 10, 11)),
    # 2026 Spring Festival: Fri 13 Feb → Sat 14 Feb (make-up); the next is Tue 24 Feb.
    (D(2026, 2, 13), 1, D(2026, 2, 14)),
    (D(2026, 2, 14), 1, D(2026, 2, 24)),
    # 2026 National Day: received Wed 30 Sep → 8 and 9 Oct; 15 working days from 9 Oct, counting the
    # make-up Saturday 10 Oct: 10, 12–16, 19–23, 26–29 Oct → Thu 29 Oct.
    (D(2026, 9, 30), 2, D(2026, 10, 9)),
    (D(2026, 10, 9), 15, D(2026, 10, 29)),
    # An ordinary stretch: Mon 2 Mar 2026 + 5 → Mon 9 Mar (the day itself not counted).
    (D(2026, 3, 2), 5, D(2026, 3, 9)),
])
def test_add_working_days_over_the_published_arrangements(start, count, expected):
    assert add_working_days(start, count) == expected


def test_next_working_day_and_counting_between():
    assert next_working_day(D(2026, 10, 1)) == D(2026, 10, 8)
    assert next_working_day(D(2026, 10, 8)) == D(2026, 10, 8)
    # 30 Sep 2026 exclusive to 10 Oct inclusive: 8, 9 and the make-up 10 Oct.
    assert working_days_between(D(2026, 9, 30), D(2026, 10, 10)) == 3
    assert working_days_between(D(2026, 10, 10), D(2026, 9, 30)) == 0


def test_2027_is_refused_with_an_explicit_error():
    assert last_covered_year() == 2026
    with pytest.raises(CalendarNotCovered) as excinfo:
        is_working_day(D(2027, 1, 4))
    assert excinfo.value.code == "calendar_not_covered"
    assert "2027-01-04" in excinfo.value.messages[0] and "2026" in excinfo.value.messages[0]
    # A deadline that would run into 2027 is refused too, not guessed from weekends.
    with pytest.raises(CalendarNotCovered):
        add_working_days(D(2026, 12, 30), 2)
    assert add_working_days(D(2026, 12, 30), 1) == D(2026, 12, 31)


def test_bad_arguments():
    with pytest.raises(ValidationError):
        is_working_day(dt.datetime(2026, 3, 4, 9, 0))
    with pytest.raises(ValueError):
        add_working_days(D(2026, 3, 4), 0)
