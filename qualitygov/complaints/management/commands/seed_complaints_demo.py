"""``qualitygov seed-complaints-demo``: the demo complaints and tip-offs (see ``complaints.demo``), once."""

import json

from django.core.management.base import BaseCommand, CommandError

from qualitygov.complaints.demo import seed_complaints_demo
from qualitygov.core.management.arguments import iso_date


class Command(BaseCommand):
    help = ("为演示登记库中的市场主体生成投诉举报演示案件（经登记和办理服务函数，含受理、调解、办结、满意度评价、"
            "举报立案和行政处罚），发布已结束月份的月度统计，并建立可查看投诉举报人信息的演示账号。已有案件时只更新该账号。")

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=20121, help="随机种子（默认 20121）")
        parser.add_argument("--today", type=iso_date, default=None, help="演示数据的参考日期 YYYY-MM-DD（默认今天，不能晚于今天）")

    def handle(self, *args, seed, today, **options):
        try:
            summary = seed_complaints_demo(seed=seed, today=today)
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2))
