"""``qualitygov complaints-index``: rebuild the similar-case index from the open cases and write its
snapshot (``COMPLAINTS_SIMILARITY_INDEX_DIR``), which every process loads when it first needs the
index (``complaints.similarity``); prints the counts as JSON. Run it after a bulk load and nightly
(the delta of new cases kept by each process is folded in at the rebuild). ``--resegment`` stores
every case's words anew, once after a release that changes what counts as shared words."""

from __future__ import annotations

import json
import time

from django.core.management.base import BaseCommand

from qualitygov.complaints import similarity


class Command(BaseCommand):
    help = "Rebuild the similar-case index of open complaint and tip-off cases and write its snapshot; JSON."

    def add_arguments(self, parser):
        parser.add_argument("--resegment", action="store_true",
                            help="segment every case's text again (after the comparison rules changed)")

    def handle(self, *args, resegment=False, **options):
        started = time.perf_counter()
        index = similarity.build_from_database(resegment=resegment)
        directory = similarity.index_dir()
        index.save(directory)
        similarity.reset_index()  # this process reloads the new snapshot on its next lookup
        self.stdout.write(json.dumps({"cases": len(index.case_ids), "words": len(index.vocab),
                                      "nonzeros": int(len(index.data)), "max_case_id": index.max_case_id,
                                      "snapshot": str(directory),
                                      "seconds": round(time.perf_counter() - started, 2)}, ensure_ascii=False))
