import json

from django.core.management.base import BaseCommand

from qualitygov.core.identifiers import check_identifier


class Command(BaseCommand):
    help = ("校验标识并输出 JSON：统一社会信用代码、组织机构代码、GTIN、SSCC、GS1 元素串或 GS1 数字链接 URI。"
            "退出码：0 有效，1 无效。")

    def add_arguments(self, parser):
        parser.add_argument("code", help="待校验的标识")

    def handle(self, *args, code, **options):
        result = check_identifier(code)
        self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
        if not result.valid:
            raise SystemExit(1)
