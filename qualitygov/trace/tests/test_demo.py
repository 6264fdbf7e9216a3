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


def test_helmet_chain_reaches_four_retailers_through_two_distributors(demo):
    helmet = demo["chains"]["helmet"]
    assert helmet["inspection_sample"] is None  # no spot-check demo here: a made-up batch of a new product
    result = tracing.trace(helmet["batch"], "forward")
    received = {h["gln"]: h["received"] for h in result["holders"] if h["gln"] in helmet["retailers"]}
    assert received == helmet["received"] and len(received) == 4
    kinds = dict(Location.objects.filter(gln__in=helmet["retailers"] + helmet["distributors"])
                 .values_list("gln", "kind"))
    assert {kinds[g] for g in helmet["retailers"]} == {Location.Kind.RETAIL}
    assert {kinds[g] for g in helmet["distributors"]} == {Location.Kind.DISTRIBUTION}


# Enough demo entities for the spot-check demo (seed 20121) to fail an e-bike helmet batch.
WALK_ENTITIES = 800


def seed_the_whole_demo(today=None) -> dict:
    """The demo as ``make run`` seeds it (registry, accounts, spot-check rules and results, trace)."""
    from qualitygov.inspection.catalogue import load_demo_rules
    from qualitygov.inspection.demo import seed_inspection_demo

    seed_demo(WALK_ENTITIES, 20121)
    ensure_demo_users()
    load_demo_rules()
    seed_inspection_demo(20121, today=today)
    return seed_trace_demo(20121, today=today)


def test_done_when_walk_on_the_demo_data(monkeypatch):
    """Issue 5's "Done when" on the demo: the batch that failed a spot check is traced forward to the
    retailers holding it; a recall started from it computes that scope, notices go to them, it is
    published, and the consumer who opens the batch's Digital Link sees it."""
    from qualitygov.core.models import User
    from qualitygov.inspection.models import Sample
    from qualitygov.trace import lookup, recalls
    from qualitygov.trace.models import Recall, RecallNotice

    today = dt.date(2026, 11, 30)
    monkeypatch.setattr(recalls, "_today", lambda: today)
    helmet = seed_the_whole_demo(today)["chains"]["helmet"]
    sample = Sample.objects.get(number=helmet["inspection_sample"])
    assert sample.verdict in ("unqualified", "seriously_unqualified") and sample.published_on is not None
    assert sample.product.gtin == helmet["gtin"] and sample.batch_number == helmet["lot"]

    result = tracing.trace(f"{helmet['gtin']} {helmet['lot']}", "forward")
    holders = {h["gln"]: h for h in result["holders"]}
    assert {g: holders[g]["received"] for g in helmet["retailers"]} == helmet["received"]

    officer = User.objects.get(username="province")
    start = recalls.batch_defaults(helmet["batch"], officer)
    assert start["sample"] == sample and sample.number in start["hazard"]
    recall = recalls.report(start["producer"], start["product"], start["hazard"], today, today, start["batches"],
                            officer)
    recalls.investigate(recall, officer, "抽检不合格项目经复核确认", True)
    recall = recalls.file_plan(
        Recall.objects.get(pk=recall.pk), officer, quantity_made=sample.lot_size, quantity_sold=sample.lot_size,
        channels="长春、吉林市电动车配件批发和零售", defect_cause=start["hazard"], remedy="免费更换合格头盔",
        notification="电话和书面通知经销商，门店张贴召回公告",
        consumer_advice="立即停止佩戴，凭购买凭证到原购买门店免费更换合格头盔", timetable="30 日内完成")
    shops = {h["gln"]: h["entity_id"] for h in result["holders"] if h["gln"] in helmet["retailers"]}
    by_entity = {row["entity_id"]: row for row in recall.scope}
    for gln, entity_id in shops.items():
        assert by_entity[entity_id]["quantity"] == helmet["received"][gln]
    notices = dict(RecallNotice.objects.filter(recall=recall).values_list("entity_id", "quantity"))
    assert {shops[g]: helmet["received"][g] for g in shops} == {e: int(notices[e]) for e in shops.values()}
    assert recalls.quantity_in_scope(recall) == sum(helmet["received"].values())
    recalls.publish(recall, officer)

    seen = lookup.lookup(f"https://id.gs1.org/01/{helmet['gtin']}/10/{helmet['lot']}")
    assert [r["number"] for r in seen["recalls"]] == [recall.number]
    assert seen["recalls"][0]["coverage"] == "covered"
    assert seen["recalls"][0]["consumer_advice"] == "立即停止佩戴，凭购买凭证到原购买门店免费更换合格头盔"
    assert any(check["same_batch"] and check["number"] == sample.number for check in seen["spot_checks"])
