"""Test helper for the query tests: fill the event store with the official EPCIS 2.0 example documents
through the real capture service (``trace.capture.capture_document``), with every location of the
examples tied to one of the ``registry`` fixture's entities so that region and entity scope apply.

``current_documents()`` reads back what the store holds per event ID in its latest state (the form
queries answer), so the tests compute their expectations from the stored events rather than from ids.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from qualitygov.trace import capture, identifiers
from qualitygov.trace.models import CaptureJob, EpcisEvent, Location

EXAMPLES = Path(__file__).resolve().parents[4] / "shared" / "reference" / "epcis" / "examples"
CAPTURED_AT = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)

# The EPCISDocument examples captured. Left out: the query document (not a capture payload), the XML
# conversion example (CBV URNs, refused in JSON) and object_event_all_possible_fields, whose eventID
# (urn:uuid:374d95fc-…) is also the eventID of a TransformationEvent in ErrorDeclarationAndCorrectiveEvent:
# in one store the capture refuses it (``declaration_mismatch``, see test_capture.py).
SKIPPED = {"EPCISQueryDocument.jsonld", "XML__WithEventHashID__event_with_identical_hash_id_7.json",
           "WithFullCombinationOfFields__object_event_all_possible_fields.jsonld"}

# Location of the examples' GLNs (readPoint / bizLocation) → key of the ``registry`` fixture's entity.
LOCATION_OWNERS = {
    "urn:epc:id:sgln:0614141.07346.0": "nanguan",
    "urn:epc:id:sgln:0012345.11111.0": "chaoyang",
    "urn:epc:id:sgln:0614141.00888.0": "nanguan",
    "urn:epc:id:sgln:0614141.00777.0": "chaoyang",
    "urn:epc:id:sgln:0037000.00729.0": "yanji",
    "urn:epc:id:sgln:4012345.00001.0": "yanji",
    "urn:epc:id:sgln:4012345.00002.0": "nanguan",
    "urn:epc:id:sgln:4012345.00005.0": "chaoyang",
    "urn:epc:id:sgln:952005385.011.0": "yanji",
    "urn:epc:id:sgln:9524567.98765.0": "nanguan",
    "urn:epc:id:sgln:9529999.99999.0": "chaoyang",
}


def example_files() -> list[Path]:
    """The official example documents captured by ``capture_examples``."""
    return [path for path in sorted(EXAMPLES.glob("*.json*")) if path.name not in SKIPPED]


def make_locations(registry: dict) -> dict[str, Location]:
    """A ``Location`` per GLN of the examples, owned by the entity ``LOCATION_OWNERS`` names."""
    made = {}
    for urn, key in LOCATION_OWNERS.items():
        entity = registry[key]["entity"]
        gln = identifiers.parse_identifier(urn).gln
        made[gln] = Location.objects.create(gln=gln, entity=entity, name=f"{key}-{gln}", region_id=entity.region_id)
    return made


def capture_examples(registry: dict, *, now: dt.datetime = CAPTURED_AT) -> list[CaptureJob]:
    """Capture every example of ``example_files`` (all must succeed), the n-th one minute after the
    one before (so record times differ); returns the jobs."""
    make_locations(registry)
    jobs = []
    for index, path in enumerate(example_files()):
        job = capture.capture_document(json.loads(path.read_text(encoding="utf-8")),
                                       now=now + dt.timedelta(minutes=index))
        assert job.status == CaptureJob.Status.SUCCEEDED, (path.name, job.errors)
        jobs.append(job)
    return jobs


def current_rows(queryset=None) -> list[EpcisEvent]:
    """The stored rows in their latest state per event ID (an error declaration row replaces the row
    it declares), ordered by event time and id."""
    queryset = EpcisEvent.objects.all() if queryset is None else queryset
    latest: dict[str, EpcisEvent] = {}
    for row in EpcisEvent.objects.order_by("id"):
        latest[row.event_id] = row
    allowed = set(queryset.values_list("id", flat=True))
    return sorted((row for row in latest.values() if row.id in allowed), key=lambda row: (row.event_time, row.id))
