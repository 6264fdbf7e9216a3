"""``qualitygov credit-daily [--date DATE]``: the credit module's daily job, in order —

1. serious-violation entries whose three years ended leave the list (``lists.remove_expired``);
2. published records whose publication window ended stop being published (``services.expire_publications``);
3. the day's bulk export of public credit data for partner departments (``sharing.write_daily_export``);
4. repair and objection deadlines left pending for want of a holiday arrangement are computed once it is known
   (``repair.fill_pending_deadlines``, ``query.fill_pending_deadlines``).

Each step tells partners through the change feed and is safe to run again. Prints a JSON summary.
Schedule it once a day after midnight (cron or a systemd timer); run ``credit-monthly`` once a month.
"""

import json

from django.core.management.base import BaseCommand

from qualitygov.core.management.arguments import iso_date
from qualitygov.credit import lists, query, repair, services, sharing


class Command(BaseCommand):
    help = "信用模块每日任务：名单期满移出、公示期满停止公示、生成公开信用数据批量导出。"

    def add_arguments(self, parser):
        parser.add_argument("--date", type=iso_date, default=None, help="业务日期（默认今天）")

    def handle(self, *args, date, **options):
        removed = lists.remove_expired(date)
        expired = services.expire_publications(date)
        written = sharing.write_daily_export(date)
        deadlines = repair.fill_pending_deadlines() + query.fill_pending_deadlines()
        self.stdout.write(json.dumps({
            "date": (date.isoformat() if date else None), "list_entries_removed": removed,
            "records_expired": expired, "deadlines_filled": deadlines,
            "export": {fmt: {"path": str(path), "rows": rows} for fmt, (path, rows) in written.items()},
        }, ensure_ascii=False))
