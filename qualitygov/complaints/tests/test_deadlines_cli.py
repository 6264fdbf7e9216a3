"""``qualitygov complaint-deadlines``: the Order 20 deadlines as JSON, with an explicit calendar error."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command


def run(capsys, *args) -> tuple[int, dict]:
    try:
        call_command("complaint_deadlines", *args)
        code = 0
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, json.loads(captured.out or captured.err)


def test_acceptance_deadline_across_national_day(capsys):
    # 2026: 1–7 October off (Oct 4 is a Sunday), Sept 20 and Oct 10 worked (State Council notice for 2026).
    code, out = run(capsys, "--received", "2026-09-29")
    assert code == 0
    assert out["accept"]["due_on"] == "2026-10-14"
    assert out["accept"]["holidays_skipped"] == [["2026-10-01", "2026-10-07"]]
    assert out["accept"]["make_up_days_counted"] == ["2026-10-10"]


def test_each_step_counts_its_own_working_days(capsys):
    code, out = run(capsys, "--received", "2026-11-02", "--mediation-ended", "2026-11-02",
                    "--filing-decided", "2026-11-02", "--clue-found", "2026-11-02", "--extended")
    assert code == 0
    # No holiday in November 2026: plain weekdays.
    assert out["accept"]["due_on"] == "2026-11-11"          # 7 working days
    assert out["end_notice"]["due_on"] == "2026-11-11"      # 7
    assert out["reporter_notice"]["due_on"] == "2026-11-09"  # 5
    assert out["verification"] == {"from": "2026-11-02", "working_days": 30, "due_on": "2026-12-14",
                                   "holidays_skipped": [], "make_up_days_counted": []}


@pytest.mark.parametrize("args", [["--accepted", "2026-12-01"], ["--received", "2027-01-04"]])
def test_beyond_the_calendar_is_an_explicit_error(capsys, args):
    code, out = run(capsys, *args)
    assert code == 1
    assert out["error"]["code"] == "calendar_not_covered"
    assert "超出节假日日历的覆盖范围" in out["error"]["message"]


def test_no_date_is_refused(capsys):
    code, out = run(capsys)
    assert code == 2 and out["error"]["code"] == "no_date"
