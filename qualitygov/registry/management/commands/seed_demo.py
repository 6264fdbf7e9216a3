import json
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from qualitygov.core.management.arguments import iso_date
from qualitygov.core.models import Industry, ProductCategory, Region
from qualitygov.core.reference import load_reference_data
from qualitygov.registry.demo import DEMO_PASSWORD, ensure_demo_users, reset_registry, seed_demo


class Command(BaseCommand):
    help = ("生成确定性的吉林省演示数据（市场主体、质量负责人、产品、许可证与认证证书）和演示账号。"
            "同一种子生成完全相同的数据；重复运行会跳过已存在的统一社会信用代码。")

    def add_arguments(self, parser):
        parser.add_argument("--entities", type=int, default=2000, help="市场主体数量（默认 2000）")
        parser.add_argument("--seed", type=int, default=20121, help="随机种子（默认 20121）")
        parser.add_argument("--batch-size", type=int, default=5000, help="每批写入的市场主体数（默认 5000）")
        parser.add_argument("--reference-date", type=iso_date, default=None,
                            help="证照有效期的参考日期 YYYY-MM-DD（默认今天，使“即将到期”列表有数据）")
        parser.add_argument("--reset", action="store_true",
                            help="先删除登记库中全部市场主体及其产品、证照、质量负责人（仅用于演示库和基准库）")
        parser.add_argument("--users-only", action="store_true", help="只创建或更新演示账号")
        parser.add_argument("--no-users", action="store_true", help="不创建演示账号")
        parser.add_argument("--quiet", action="store_true", help="不显示进度")

    def handle(self, *args, entities, seed, batch_size, reference_date, reset, users_only, no_users, quiet,
               **options):
        if entities < 0 or batch_size < 1:
            raise CommandError("--entities 不能为负数，--batch-size 至少为 1。")
        if users_only and no_users:
            raise CommandError("--users-only 与 --no-users 不能同时使用。")
        summary: dict = {}
        if not (Region.objects.exists() and Industry.objects.exists() and ProductCategory.objects.exists()):
            summary["reference_data"] = load_reference_data()
        if reset:
            summary["reset"] = reset_registry()
        if not users_only:
            progress = None if quiet else self._progress
            summary.update(seed_demo(entities, seed, batch_size=batch_size, progress=progress,
                                     reference_date=reference_date or timezone.localdate()))
            if not quiet:
                sys.stderr.write("\n")
        users = [] if no_users else ensure_demo_users()
        self.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2))
        if users:
            self.stdout.write(self._logins_table(users))

    @staticmethod
    def _progress(done: int, total: int) -> None:
        sys.stderr.write(f"\r已生成 {done:,}/{total:,} 个市场主体")
        sys.stderr.flush()

    @staticmethod
    def _logins_table(users: list[dict]) -> str:
        headers = ("用户名", "角色", "姓名", "辖区/企业", "单位")
        rows = [(u["username"], u["role"], u["name"], u["scope"], u["organisation"]) for u in users]

        def width(text: str) -> int:  # CJK characters take two columns in a terminal
            return sum(2 if ord(c) > 0x2E80 else 1 for c in text)

        widths = [max(width(r[i]) for r in (headers, *rows)) for i in range(len(headers))]

        def line(cells) -> str:
            return "  ".join(c + " " * (w - width(c)) for c, w in zip(cells, widths, strict=True)).rstrip()

        out = ["", f"演示账号（密码均为 {DEMO_PASSWORD}）：", line(headers), line("-" * w for w in widths)]
        out += [line(r) for r in rows]
        for user in users:
            if user["token"]:
                out.append(f"\n{user['username']} 的 API 令牌：{user['token']}"
                           f"（请求头 Authorization: Token {user['token']}）")
        return "\n".join(out)
