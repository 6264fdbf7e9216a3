"""``qualitygov credit-monthly [--as-of DATE] [--force]``: the monthly full credit scoring.

SAMR classifies enterprises into credit-risk classes monthly (../shared/policy/RULES.md): this
command runs ``scoring.full_rescore`` — every score, grade and risk class — once per month. It is
idempotent: when a succeeded full run with ``as_of`` in the same month exists it says so and does
nothing, unless ``--force``. Prints the run as JSON with ``"ran": true|false``; exit status 1 when
the scoring is refused or fails (the previous scores stay in place).
"""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand

from qualitygov.core.api import error_body
from qualitygov.core.management.arguments import iso_date
from qualitygov.credit import scoring


class Command(BaseCommand):
    help = "每月全量信用评分（含风险分类）；本月已成功评分时不重复执行，除非指定 --force。"

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=iso_date, default=None, help="评分基准日（默认今天）")
        parser.add_argument("--force", action="store_true", help="本月已评分也重新评分")

    def handle(self, *args, as_of, force, **options):
        try:
            run, ran = scoring.monthly_rescore(as_of=as_of, force=force)
        except ValidationError as exc:
            self.stderr.write(json.dumps(error_body(400, "refused", " ".join(exc.messages)), ensure_ascii=False))
            raise SystemExit(1) from None
        if not ran:
            self.stderr.write(f"{run.as_of:%Y-%m} 已于 {run.as_of.isoformat()} 完成月度全量评分（批次 {run.pk}），"
                              "未重复执行；如需重新评分请加 --force。")
        out = {"ran": ran, "run": run.pk, "kind": run.kind, "status": run.status, "model_version": run.model.version,
               "as_of": run.as_of.isoformat(), "entity_count": run.entity_count,
               "grade_distribution": run.grade_distribution, "risk_distribution": run.risk_distribution,
               "duration_ms": run.duration_ms}
        self.stdout.write(json.dumps(out, ensure_ascii=False))
