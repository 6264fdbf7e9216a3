import json

from django.core.management.base import BaseCommand

from qualitygov.inspection.catalogue import load_demo_rules


class Command(BaseCommand):
    help = "载入抽查实施细则示例数据（inspection/data/rules/*.json，幂等；已被计划使用的版本不会被改动）。"

    def handle(self, *args, **options):
        summary = load_demo_rules()
        self.stdout.write(json.dumps(summary, ensure_ascii=False, default=str))
