"""Working days in mainland China: public holidays and the make-up working days (调休) that the State
Council announces each year, from the maintained ``holidays`` package (MIT).

Legal deadlines counted in working days (工作日) use ``add_working_days``. The rest days of a year
are only known once the State Council's notice for that year is out; the package records the
make-up days of each announced year (``ChinaStaticHolidays.special_public_holidays``). A date in a
year after the last announced one is refused with ``CalendarNotCovered`` rather than guessed: a
deadline computed from weekends alone could be wrong by a week around the Spring Festival.

Counting rule: the day of the event itself is not counted (Civil Code Art. 201: a period in days
starts on the next day); the deadline is the n-th working day after it.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import holidays
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

__all__ = ["CalendarNotCovered", "add_working_days", "is_working_day", "last_covered_year", "next_working_day",
           "working_days_between"]


class CalendarNotCovered(ValidationError):
    """The date lies in a year whose holiday arrangement the calendar does not know yet."""

    def __init__(self, day: dt.date):
        super().__init__(
            _("日期 %(date)s 超出节假日日历的覆盖范围（已公布安排至 %(year)d 年），不能计算工作日期限；"
              "请更新节假日数据后再试。") % {"date": day.isoformat(), "year": last_covered_year()},
            code="calendar_not_covered")
        self.code = "calendar_not_covered"


@cache
def last_covered_year() -> int:
    """The last year whose holiday arrangement (with its make-up working days) the package knows."""
    from holidays.countries.china import ChinaStaticHolidays

    return max(ChinaStaticHolidays.special_public_holidays)


@cache
def _calendar(year: int):
    return holidays.country_holidays("CN", years=year)


def _check(day: dt.date) -> None:
    if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
        raise ValidationError(_("工作日计算需要一个日期。"), code="bad_date")
    if day.year > last_covered_year():
        raise CalendarNotCovered(day)


def is_working_day(day: dt.date) -> bool:
    """Whether ``day`` is a working day: not a public holiday, and not a weekend unless it is a make-up
    working day. ``CalendarNotCovered`` beyond the known years."""
    _check(day)
    calendar = _calendar(day.year)
    if day in calendar:
        return False
    if day.weekday() >= 5:
        return day in getattr(calendar, "weekend_workdays", set())
    return True


def next_working_day(day: dt.date) -> dt.date:
    """``day`` itself when it is a working day, else the next one."""
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def add_working_days(day: dt.date, count: int) -> dt.date:
    """The ``count``-th working day after ``day`` (``day`` itself not counted); ``count`` ≥ 1."""
    if count < 1:
        raise ValueError("count must be at least 1")
    _check(day)
    found = 0
    while found < count:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            found += 1
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end`` ≤ ``start``)."""
    _check(start)
    _check(end)
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        count += is_working_day(day)
    return count
