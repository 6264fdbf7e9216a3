"""``qualitygov export_credit_daily [--date DATE] [--dir DIR] [--overwrite]``: write the day's bulk
export of public credit data for partner departments (``credit-<date>.csv`` and ``.json``).

Idempotent per day: files already written are kept unless ``--overwrite``. Prints a JSON summary
``{"date", "files": {"csv": {"path", "rows"}, "json": {...}}}`` (rows null for a kept file).
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand

from qualitygov.core.management.arguments import iso_date
from qualitygov.credit import sharing


class Command(BaseCommand):
    help = "生成当日公开信用数据批量导出文件（CSV 与 JSON），供共享部门下载。"

    def add_arguments(self, parser):
        parser.add_argument("--date", type=iso_date, default=None, help="导出日期（默认今天）")
        parser.add_argument("--dir", type=Path, default=None, help="导出目录（默认 VAR_DIR/exports/credit）")
        parser.add_argument("--overwrite", action="store_true", help="覆盖当日已生成的文件")

    def handle(self, *args, date, dir, overwrite, **options):
        written = sharing.write_daily_export(date, dir, overwrite=overwrite)
        day = date or next(iter(written.values()))[0].name.removeprefix("credit-").split(".")[0]
        summary = {"date": str(day),
                   "files": {fmt: {"path": str(path), "rows": rows} for fmt, (path, rows) in written.items()}}
        self.stdout.write(json.dumps(summary, ensure_ascii=False))
