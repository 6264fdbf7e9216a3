import json

from django.core.management.base import BaseCommand

from qualitygov.core.reference import load_reference_data


class Command(BaseCommand):
    help = "载入参考数据：行政区划、国民经济行业分类、重点监管产品类别（幂等）。"

    def handle(self, *args, **options):
        counts = load_reference_data()
        self.stdout.write(json.dumps(counts, ensure_ascii=False))
