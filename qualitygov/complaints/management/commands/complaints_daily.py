"""``qualitygov complaints-daily [--date DATE]``: the complaints module's daily job, in order —

1. deadlines left empty for want of a holiday arrangement are computed once the calendar covers their
   year (``handling.fill_pending_deadlines``);
2. jurisdiction disputes not settled within 7 working days go to the common superior unit (Art. 30,
   ``handling.escalate_overdue_disputes``);
3. reminders of deadlines due soon or overdue go to the officer in charge, or the unit when nobody is
   assigned (``handling.send_reminders``; once per deadline, due date and overdue state);
4. the keyed client digests of anonymous submissions older than two days are forgotten
   (``handling.forget_anonymous_clients``);
5. reward claim deadlines left pending are computed and rewards not claimed in time expire
   (``rewards.expire_unclaimed``).

Safe to run again the same day. Prints a JSON summary. Schedule it once a day after midnight.
"""

import json

from django.core.management.base import BaseCommand

from qualitygov.complaints import handling
from qualitygov.core.management.arguments import iso_date


class Command(BaseCommand):
    help = "投诉举报每日任务：补算待定期限、上报逾期管辖争议、发送期限提醒、清除匿名来源摘要、处理逾期未申领奖励。"

    def add_arguments(self, parser):
        parser.add_argument("--date", type=iso_date, default=None, help="业务日期（默认今天）")

    def handle(self, *args, date, **options):
        self.stdout.write(json.dumps(handling.daily(date), ensure_ascii=False))
