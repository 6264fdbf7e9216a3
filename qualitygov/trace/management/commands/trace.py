"""``qualitygov trace ID --direction forward|backward [--max-depth N] [--max-nodes N]``: print a trace
(``trace.tracing.trace``, over every event) as JSON."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from qualitygov.trace import tracing


class Command(BaseCommand):
    help = "Trace a batch, item or logistic unit forward (where it went) or backward (where it came from); JSON."

    def add_arguments(self, parser):
        parser.add_argument("identifier", help="GTIN + batch, Digital Link, EPC URN or GS1 element string")
        parser.add_argument("--direction", choices=tracing.DIRECTIONS, default=tracing.FORWARD)
        parser.add_argument("--max-depth", type=int, default=tracing.DEFAULT_MAX_DEPTH)
        parser.add_argument("--max-nodes", type=int, default=tracing.DEFAULT_MAX_NODES)

    def handle(self, *args, **options):
        try:
            result = tracing.trace(options["identifier"], options["direction"], max_depth=options["max_depth"],
                                   max_nodes=options["max_nodes"])
        except tracing.TraceError as error:
            raise CommandError(f"{error.code}: {error.message}") from error
        self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
