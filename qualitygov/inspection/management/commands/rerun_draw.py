"""``qualitygov rerun-draw <id>``: re-run a stored random draw from its seed and inputs, and compare.

Prints ``{"id", "kind", "seed", "identical", "differences", "drawn"}`` as JSON — ``drawn`` is the
list drawn now (USCCs for an entity draw, usernames for an inspector draw). Exit status 0 when the
re-run gives the stored list, 1 when it does not (the differences say why), 2 for an unknown id.
"""

import json

from django.core.management.base import BaseCommand

from qualitygov.core.api import error_body
from qualitygov.inspection.draw import rerun_draw
from qualitygov.inspection.models import RandomDraw


class Command(BaseCommand):
    help = "按抽取记录中的随机种子和条件重新运行抽取并与记录比对，输出 JSON；结果不一致时退出码为 1。"

    def add_arguments(self, parser):
        parser.add_argument("id", type=int, help="抽取记录编号")

    def handle(self, *args, id, **options):
        record = RandomDraw.objects.filter(pk=id).first()
        if record is None:
            message = f"抽取记录 {id} 不存在。"
            self.stderr.write(json.dumps(error_body(404, "not_found", message), ensure_ascii=False))
            raise SystemExit(2)
        result, identical, differences = rerun_draw(record)
        if result is None:
            drawn = []
        elif record.kind == RandomDraw.Kind.ENTITIES:
            drawn = result.usccs
        else:
            drawn = result.usernames
        out = {"id": record.pk, "kind": record.kind, "seed": record.seed, "identical": identical,
               "differences": differences, "drawn": drawn}
        self.stdout.write(json.dumps(out, ensure_ascii=False))
        if not identical:
            raise SystemExit(1)
