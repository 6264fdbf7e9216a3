"""``qualitygov import KIND FILE``: bulk import from the command line, report printed as JSON."""

from __future__ import annotations

import json

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from qualitygov.registry import importing


class Command(BaseCommand):
    help = ("批量导入市场主体、产品或许可证（CSV 或 XLSX），以 JSON 输出导入报告；有错误时不写入任何数据，退出码为 1。"
            " (Bulk import entities, products or licences; prints the report as JSON; exit code 1 on errors.)")

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=importing.KINDS, help="entities、products 或 licences")
        parser.add_argument("file", help="CSV 或 XLSX 文件路径")
        parser.add_argument("--dry-run", action="store_true", help="只校验并统计，不写入")
        parser.add_argument("--encoding", choices=sorted(importing.ENCODINGS), default=None,
                            help="CSV 文件编码（默认自动识别 UTF-8 或 GB18030）")
        parser.add_argument("--user", default=None,
                            help="以该用户的角色和辖区导入（默认以系统身份，全省范围）")

    def handle(self, *args, **options):
        from qualitygov.core.models import User

        user = None
        if options["user"]:
            user = User.objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"用户“{options['user']}”不存在。")
        try:
            with open(options["file"], "rb") as handle:
                report = importing.import_file(options["kind"], handle, options["file"], user=user,
                                               dry_run=options["dry_run"], encoding=options["encoding"])
        except FileNotFoundError as exc:
            raise CommandError(f"文件不存在：{options['file']}") from exc
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        if not report.ok:
            raise CommandError(f"导入未完成：发现 {report.error_count} 处错误，未写入任何数据。", returncode=1)
