"""``qualitygov seed-credit-demo``: the demo credit data (see ``credit.demo``), once."""

import json

from django.core.management.base import BaseCommand

from qualitygov.credit.demo import seed_credit_demo


class Command(BaseCommand):
    help = "Seed demo credit data (default score model, penalties, lists, first scoring) once."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=20121)

    def handle(self, *args, seed, **options):
        self.stdout.write(json.dumps(seed_credit_demo(seed=seed), ensure_ascii=False))
