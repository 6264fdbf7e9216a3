import json

from django.core.management.base import BaseCommand

from qualitygov.core.models import User
from qualitygov.inspection.demo import DEMO_INSPECTORS, DEMO_LABS, seed_inspection_demo


class Command(BaseCommand):
    help = "生成监督抽查演示数据（检验机构、抽样人员、上年度已公布的省级计划、本季度进行中的计划、市级草案计划）；已有计划时跳过。"

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=20121, help="随机种子（默认 20121）")

    def handle(self, *args, seed, **options):
        self.stdout.write(json.dumps(seed_inspection_demo(seed), ensure_ascii=False))
        names = [lab[3] for lab in DEMO_LABS[1:]] + [inspector[0] for inspector in DEMO_INSPECTORS]
        users = User.objects.filter(username__in=names).select_related("region").order_by("role", "username")
        if users:
            self.stdout.write("监督抽查演示账号（密码同上）：")
            for user in users:
                self.stdout.write(f"  {user.username:<20} {user.get_role_display():<8} {user.display_name}  "
                                  f"{user.organisation}")
