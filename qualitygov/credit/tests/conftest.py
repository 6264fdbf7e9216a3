"""Fixtures shared by the credit tests."""

from __future__ import annotations

import datetime as dt

import pytest

# Credit-repair deadlines are counted in China working days, which are known only for the years the
# State Council has announced (core.workdays refuses later years). Tests that go through repair steps
# on "today" pin it inside a covered year, so they do not start failing when the real date nears the
# end of the last announced year.
REPAIR_TODAY = dt.date(2026, 6, 15)


@pytest.fixture
def repair_today(monkeypatch) -> dt.date:
    """Make ``credit.repair``'s today ``REPAIR_TODAY``; returns it."""
    from qualitygov.credit import repair

    monkeypatch.setattr(repair, "_today", lambda: REPAIR_TODAY)
    return REPAIR_TODAY
