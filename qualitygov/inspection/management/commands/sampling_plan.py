"""``qualitygov sampling-plan``: the GB/T 2828.1 (= ISO 2859-1) single sampling plan for a lot, as JSON."""

import json
import sys

from django.core.management.base import BaseCommand

from qualitygov.core.api import error_body
from qualitygov.inspection.acceptance import AcceptanceSamplingError, sampling_plan


class Command(BaseCommand):
    help = ("按 GB/T 2828.1（ISO 2859-1）给出一次抽样方案，输出 JSON："
            '{"code_letter", "sample_size", "accept", "reject", "hundred_percent"}。输入有误时退出码 2，错误以 JSON 输出到标准错误。')

    def add_arguments(self, parser):
        # Not ``required=True`` nor ``type=int``: a missing or malformed value gets the JSON error, not argparse's text.
        parser.add_argument("--lot-size", dest="lot_size", help="批量 N（不小于 2 的整数）")
        parser.add_argument("--aql", help="接收质量限 AQL，如 0.65、1.0、2.5")
        parser.add_argument("--level", default="II", help="检验水平：S-1…S-4、I、II、III（默认 II）")
        parser.add_argument("--severity", default="normal", help="检验严格度：normal、tightened、reduced（默认 normal）")

    def handle(self, *args, lot_size, aql, level, severity, **options):
        try:
            if lot_size is None:
                raise AcceptanceSamplingError("lot_size", "缺少参数 --lot-size。")
            if aql is None:
                raise AcceptanceSamplingError("aql", "缺少参数 --aql。")
            plan = sampling_plan(lot_size, aql, level, severity)
        except AcceptanceSamplingError as exc:
            body = error_body(400, "invalid", exc.message, {exc.field: [exc.message]})
            sys.stderr.write(json.dumps(body, ensure_ascii=False) + "\n")
            raise SystemExit(2) from exc
        self.stdout.write(json.dumps(plan.as_dict(), ensure_ascii=False))
