"""``qualitygov publish-spot-check-results``: the daily job of the spot-check follow-up, as JSON.

Marks rectifications past their deadline overdue (``followup.mark_overdue``), then finalizes the
results whose objection window has closed, publishes every final result and hands findings to the
credit ledger (``publication.publish_due``). Safe to run more than once a day: a second run finds
nothing left to do. Prints ``{"date", "overdue_rectifications", "finalized", "published",
"credit_records"}``.
"""

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from qualitygov.core.audit import acting_as
from qualitygov.inspection import followup, publication


class Command(BaseCommand):
    help = ("每日任务：整改逾期标记、复检期限届满的结果确定、公布已确定的抽查结果并移交信用记录；输出 JSON 计数。"
            "可重复运行，不会重复公布或重复记录。")

    def add_arguments(self, parser):
        parser.add_argument("--date", help="按该日期运行（YYYY-MM-DD，默认今天），用于补跑。")

    def handle(self, *args, date=None, **options):
        try:
            today = dt.date.fromisoformat(date) if date else timezone.localdate()
        except ValueError as exc:
            raise CommandError(f"日期“{date}”无效，应为 YYYY-MM-DD。") from exc
        # No user: the audit entries name the system as the actor.
        with acting_as(None):
            overdue = followup.mark_overdue(today)
            summary = publication.publish_due(today)
        out = {"date": today.isoformat(), "overdue_rectifications": overdue, **summary}
        self.stdout.write(json.dumps(out, ensure_ascii=False))
