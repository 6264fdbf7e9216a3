import json

from django.core.management.base import BaseCommand, CommandError

from qualitygov.core.management.arguments import iso_date
from qualitygov.trace.demo import seed_trace_demo


class Command(BaseCommand):
    help = ("为演示登记库中的市场主体生成五条吉林产品供应链（人参、大米、牛肉、汽车制动软管、电动自行车头盔）的 EPCIS 2.0 追溯事件，"
            "经上报接口入库。事件库已有事件时跳过。")

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=20121, help="随机种子（默认 20121）")
        parser.add_argument("--today", type=iso_date, default=None, help="演示数据的参考日期 YYYY-MM-DD（默认今天）")

    def handle(self, *args, seed, today, **options):
        try:
            summary = seed_trace_demo(seed=seed, today=today)
        except RuntimeError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2))
