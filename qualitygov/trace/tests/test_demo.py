"""The trace demo: realistic chains captured through the capture service on a small demo registry."""

import datetime as dt

import pytest
from stdnum import ean

from qualitygov.registry.demo import ensure_demo_users, seed_demo
from qualitygov.registry.models import Product
from qualitygov.trace import identifiers, tracing
from qualitygov.trace.demo import CHAINS, seed_trace_demo
from qualitygov.trace.models import CaptureJob, EpcisEvent, EventIdentifier, Location

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 1)


@pytest.fixture
def demo():
    seed_demo(300, 20121)
    ensure_demo_users()
    return seed_trace_demo(20121, today=TODAY)


def test_demo_captures_every_chain_without_errors(demo):
    assert demo["skipped"] is False
    assert set(demo["chains"]) == set(CHAINS)
    assert EpcisEvent.objects.count() == demo["events"] > 0
    jobs = CaptureJob.objects.all()
    assert jobs.count() == len(CHAINS)
    assert all(job.status == CaptureJob.Status.SUCCEEDED and not job.errors for job in jobs)
    assert EpcisEvent.objects.filter(event_type="TransformationEvent").count() == 2  # ginseng and rice
    assert EventIdentifier.objects.filter(role=EventIdentifier.Role.PARENT, identifier__contains="/00/").exists()
    # Every event belongs to a registered location, hence to an entity and a region.
    assert not EpcisEvent.objects.filter(entity_id__isnull=True).exists()
    assert not EpcisEvent.objects.filter(region_code="").exists()


def test_demo_keys_are_valid_gs1_keys_of_the_china_range(demo):
    assert Location.objects.count() == demo["locations"]
    for location in Location.objects.select_related("entity"):
        assert location.gln[:3] in {f"69{d}" for d in range(10)}
        assert ean.is_valid(location.gln)
        assert location.region_id == location.entity.region_id
    for identifier in EventIdentifier.objects.values_list("identifier", flat=True).distinct():
        key = identifiers.parse_identifier(identifier)  # raises on a bad check digit
        if key.gtin:
            assert Product.objects.filter(gtin=key.gtin).exists(), key.gtin


def test_forward_trace_from_each_demo_batch_reaches_its_retailers(demo):
    for key, chain in demo["chains"].items():
        result = tracing.trace(chain.get("raw_batch") or chain["batch"], "forward")
        reached = {h["gln"] for h in result["holders"] if h["received"]}
        assert set(chain["retailers"]) <= reached, key
        assert result["summary"]["truncated"] is None


def test_ginseng_retailers_received_what_the_processor_made(demo):
    chain = demo["chains"]["ginseng"]
    result = tracing.trace(chain["batch"], "forward")
    received = sum(h["received"] for h in result["holders"] if h["gln"] in chain["retailers"])
    made = EventIdentifier.objects.get(role=EventIdentifier.Role.OUTPUT_QUANTITY, class_key=chain["batch"]).quantity
    assert received == made


def test_second_run_is_skipped(demo):
    count = EpcisEvent.objects.count()
    again = seed_trace_demo(20121, today=TODAY)
    assert again == {"skipped": True, "events": count}
    assert EpcisEvent.objects.count() == count
    assert CaptureJob.objects.count() == len(CHAINS)


def test_same_seed_gives_the_same_batches():
    seed_demo(300, 20121)
    first = seed_trace_demo(20121, today=TODAY)
    batches = {k: c["batch"] for k, c in first["chains"].items()}
    glns = sorted(Location.objects.values_list("gln", flat=True))
    EventIdentifier.objects.all().delete()
    from qualitygov.trace.models import EventIdentity

    EventIdentity.objects.all().delete()
    EpcisEvent.objects.all().delete()
    Location.objects.all().delete()
    second = seed_trace_demo(20121, today=TODAY)
    assert {k: c["batch"] for k, c in second["chains"].items()} == batches
    assert sorted(Location.objects.values_list("gln", flat=True)) == glns


def test_command_prints_the_summary_and_is_idempotent():
    import io
    import json

    from django.core.management import call_command

    seed_demo(300, 20121)
    out = io.StringIO()
    call_command("seed_trace_demo", "--today", "2026-11-01", stdout=out)
    first = json.loads(out.getvalue())
    assert first["skipped"] is False and first["events"] == EpcisEvent.objects.count()
    out = io.StringIO()
    call_command("seed_trace_demo", stdout=out)
    assert json.loads(out.getvalue()) == {"skipped": True, "events": first["events"]}


def test_command_without_registry_fails_clearly():
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="seed-demo"):
        call_command("seed_trace_demo", "--today", "2026-11-01")
    assert not EpcisEvent.objects.exists() and not Location.objects.exists()
