"""``qualitygov rescore [--entity USCC ...] [--as-of DATE]``: rescore quality credit with the active model.

Without ``--entity`` every market entity is rescored (set-based, atomic); with it only the named
entities. Creates the default model first if there is no model at all. Prints the run summary as
JSON: ``{"run", "kind", "status", "model_version", "as_of", "entity_count", "record_count",
"grade_distribution", "risk_distribution", "duration_ms"}``. Exit status 1 when the rescoring is
refused or fails (the message goes to stderr as JSON, the previous scores stay in place).
"""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand

from qualitygov.core.api import error_body
from qualitygov.core.management.arguments import iso_date
from qualitygov.credit import scoring
from qualitygov.registry.models import MarketEntity


class Command(BaseCommand):
    help = "用现行信用评分模型重新评分（全量或指定市场主体），输出 JSON 评分批次摘要。"

    def add_arguments(self, parser):
        parser.add_argument("--entity", action="append", default=[], metavar="USCC",
                            help="只重新评分该统一社会信用代码的主体（可重复）")
        parser.add_argument("--as-of", type=iso_date, default=None, help="评分基准日（默认今天）")

    def handle(self, *args, entity, as_of, **options):
        scoring.load_default_model()
        try:
            if entity:
                found = dict(MarketEntity.objects.filter(uscc__in=entity).values_list("uscc", "pk"))
                missing = [uscc for uscc in entity if uscc not in found]
                if missing:
                    raise scoring.ScoringRefused(f"市场主体不存在：{'、'.join(missing)}。", code="unknown_entity")
                run = scoring.rescore_entities(found.values(), as_of=as_of)
            else:
                run = scoring.full_rescore(as_of=as_of)
        except ValidationError as exc:
            self.stderr.write(json.dumps(error_body(400, "refused", " ".join(exc.messages)), ensure_ascii=False))
            raise SystemExit(1) from None
        out = {"run": run.pk, "kind": run.kind, "status": run.status, "model_version": run.model.version,
               "as_of": run.as_of.isoformat(), "entity_count": run.entity_count, "record_count": run.record_count,
               "grade_distribution": run.grade_distribution, "risk_distribution": run.risk_distribution,
               "duration_ms": run.duration_ms}
        self.stdout.write(json.dumps(out, ensure_ascii=False))
