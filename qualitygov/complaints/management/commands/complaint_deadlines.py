"""``qualitygov complaint-deadlines --received DATE [--accepted D] [--mediation-ended D] [--clue-found D
[--extended]] [--filing-decided D] [--reward-notified D]``: the legal deadlines of SAMR Order 20 (and the
reward claim) from the given dates, in working days of the Chinese calendar, as JSON — each with the
public holidays it skipped and the make-up working days it counted.

A date whose deadline falls in a year the holiday calendar does not cover is an explicit error (JSON
``{"error": {"code": "calendar_not_covered", "message": …}}``, exit 1), never a guess.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from qualitygov.complaints import clocks
from qualitygov.core.management.arguments import iso_date
from qualitygov.core.workdays import CalendarNotCovered

# (option, output key, function, working days)
DEADLINES = (
    ("received", "accept", clocks.accept_due_on, clocks.ACCEPT_DAYS),
    ("accepted", "mediation", clocks.mediation_due_on, clocks.MEDIATION_DAYS),
    ("mediation_ended", "end_notice", clocks.end_notice_due_on, clocks.END_NOTICE_DAYS),
    ("clue_found", "verification", clocks.verification_due_on, clocks.VERIFICATION_DAYS),
    ("filing_decided", "reporter_notice", clocks.reporter_notice_due_on, clocks.REPORTER_NOTICE_DAYS),
    ("reward_notified", "reward_claim", clocks.reward_claim_due_on, clocks.REWARD_CLAIM_DAYS),
)


def deadlines(dates: dict, *, extended: bool = False) -> dict:
    """The deadline of every step whose start date is in ``dates`` (option name → date)."""
    out = {}
    for option, key, compute, days in DEADLINES:
        start = dates.get(option)
        if start is None:
            continue
        if key == "verification":
            due, days = compute(start, extended), days * (2 if extended else 1)
        else:
            due = compute(start)
        skipped, added = clocks.skipped_and_added(start, due)
        out[key] = {"from": start.isoformat(), "working_days": days, "due_on": due.isoformat(),
                    "holidays_skipped": [[a.isoformat(), b.isoformat()] for a, b in skipped],
                    "make_up_days_counted": [d.isoformat() for d in added]}
    return out


class Command(BaseCommand):
    help = "按《市场监督管理投诉举报处理暂行办法》以工作日计算各项法定期限，输出 JSON；超出节假日日历覆盖范围时报错。"

    def add_arguments(self, parser):
        parser.add_argument("--received", type=iso_date, help="收到投诉举报日期（受理期限 7 个工作日）")
        parser.add_argument("--accepted", type=iso_date, help="受理日期（调解期限 45 个工作日）")
        parser.add_argument("--mediation-ended", type=iso_date, help="终止调解日期（告知期限 7 个工作日）")
        parser.add_argument("--clue-found", type=iso_date, help="发现违法线索日期（核查期限 15 个工作日）")
        parser.add_argument("--extended", action="store_true", help="核查期限延长 15 个工作日")
        parser.add_argument("--filing-decided", type=iso_date, help="作出是否立案决定日期（告知实名举报人 5 个工作日）")
        parser.add_argument("--reward-notified", type=iso_date, help="告知奖励日期（申领期限 30 个工作日）")

    def handle(self, *args, extended=False, **options):
        dates = {option: options.get(option) for option, *_rest in DEADLINES}
        if not any(dates.values()):
            self.stderr.write(json.dumps({"error": {"code": "no_date", "message": "请至少给出一个日期，例如 --received 2026-09-29。"}},
                                         ensure_ascii=False))
            raise SystemExit(2)
        try:
            result = deadlines(dates, extended=extended)
        except CalendarNotCovered as exc:
            self.stdout.write(json.dumps({"error": {"code": exc.code, "message": exc.messages[0]}},
                                         ensure_ascii=False))
            raise SystemExit(1) from None
        self.stdout.write(json.dumps(result, ensure_ascii=False))
