import json

from django.core.management.base import BaseCommand

from qualitygov.inspection.catalogue import load_demo_rules
from qualitygov.inspection.statistics import load_industry_output


class Command(BaseCommand):
    help = ("载入抽查实施细则示例数据（inspection/data/rules/*.json，幂等；已被计划使用的版本不会被改动）"
            "和计算制造业产品质量合格率所用的行业产值权重（inspection/data/industry_output.json）。")

    def handle(self, *args, **options):
        summary = {"rules": load_demo_rules(), "industry_output": load_industry_output()}
        self.stdout.write(json.dumps(summary, ensure_ascii=False, default=str))
