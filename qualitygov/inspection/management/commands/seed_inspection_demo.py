import json

from django.core.management.base import BaseCommand

from qualitygov.inspection.demo import seed_inspection_demo


class Command(BaseCommand):
    help = "生成监督抽查演示数据（检验机构、抽样人员、上年度已公布的省级计划、本季度进行中的计划、市级草案计划）；已有计划时跳过。"

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=20121, help="随机种子（默认 20121）")

    def handle(self, *args, seed, **options):
        self.stdout.write(json.dumps(seed_inspection_demo(seed), ensure_ascii=False))
