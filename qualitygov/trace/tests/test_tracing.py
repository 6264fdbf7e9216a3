"""Forward and backward traces over the event store (issue 5, item 5), on the ginseng chain of
``chain.py`` captured through ``trace.capture``: the service, its limits and errors, and the CLI."""

from __future__ import annotations

import datetime as dt
import gc
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from qualitygov.trace import tracing
from qualitygov.trace.tests import chain

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def ginseng(registry):
    return chain.build_chain(registry)


def holders_by_place(result: dict, item: str | None = None) -> dict[str, dict]:
    return {h["place"]: h for h in result["holders"] if item is None or h["item"] == item}


def test_forward_from_the_batch_lists_the_shops_with_their_quantities(ginseng):
    result = tracing.trace(f"{chain.RAW_GTIN[1:]} {chain.RAW_BATCH}")  # GTIN-13 space batch, as people type it
    assert result["query"]["identifier"] == chain.RAW_CLASS
    product = holders_by_place(result, chain.PRODUCT_CLASS)
    for shop, boxes in chain.RETAIL_BOXES.items():
        row = product[chain.place_id(shop)]
        assert (row["shipped"], row["received"], row["quantity"], row["uom"]) == (boxes, boxes, boxes, "H87")
        assert row["entity_id"] == ginseng[shop].pk and row["entity"] == ginseng[shop].name
        assert row["region_code"] == chain.PLACES[shop][1]
    assert product[chain.place_id("distributor")]["quantity"] == chain.PRODUCED_BOXES
    # The shops together hold what the distributor received.
    assert sum(product[chain.place_id(s)]["quantity"] for s in chain.RETAIL_BOXES) == chain.PRODUCED_BOXES
    # The raw batch reached the processor in its case; nothing of it went back to the producer.
    assert holders_by_place(result, chain.CASE)[chain.place_id("processor")]["received"] == 1
    assert chain.place_id("producer") not in {h["place"] for h in result["holders"]}
    relations = {(e["from"], e["relation"], e["to"]) for e in result["edges"]}
    assert (chain.RAW_CLASS, "packed", chain.CASE) in relations
    assert (chain.CASE, "unpacked", chain.RAW_CLASS) in relations
    assert (chain.RAW_CLASS, "transformed", chain.PRODUCT_CLASS) in relations
    assert (chain.PRODUCT_CLASS, "batch", chain.SOLD_ITEM) in relations
    transformed = next(e for e in result["edges"] if e["relation"] == "transformed")
    assert (transformed["quantity"], transformed["uom"], transformed["event_type"]) == (1000, "H87",
                                                                                        "TransformationEvent")
    assert result["summary"]["truncated"] is None and not result["summary"]["scope_limited"]


def test_backward_from_a_sold_item_reaches_the_producer(ginseng):
    result = tracing.trace(chain.SOLD_ITEM, "backward")
    nodes = {n["id"]: n for n in result["nodes"]}
    producer = nodes[chain.place_id("producer")]
    assert producer["entity_id"] == ginseng["producer"].pk and producer["region_code"] == "222401"
    relations = {(e["from"], e["relation"], e["to"]) for e in result["edges"]}
    assert (chain.place_id("producer"), "produced_at", chain.RAW_CLASS) in relations
    assert (chain.PRODUCT_CLASS, "batch", chain.SOLD_ITEM) in relations
    assert (chain.RAW_CLASS, "transformed", chain.PRODUCT_CLASS) in relations
    assert (chain.place_id("producer"), "shipped_from", chain.CASE) in relations
    places = holders_by_place(result, chain.RAW_CLASS)
    assert places[chain.place_id("producer")]["produced"] == chain.RAW_KG
    # Backward goes upstream only: neither shop is a source of the item.
    assert not {chain.place_id(s) for s in chain.RETAIL_BOXES} & set(nodes)


def test_an_event_declared_erroneous_is_not_followed(ginseng):
    from qualitygov.trace import capture
    from qualitygov.trace.models import EpcisEvent

    shipment = EpcisEvent.objects.get(biz_step="shipping", biz_location=f"https://id.gs1.org/414/{chain.gln('distributor')}",
                                      identifiers__role="destination",
                                      identifiers__identifier=chain.place_id("shop_yanji"))
    declaration = {**shipment.document, "errorDeclaration": {"declarationTime": "2025-10-20T09:00:00.000+08:00",
                                                             "reason": "incorrect_data"}}
    job = capture.capture_event(declaration, now=dt.datetime(2025, 12, 1, tzinfo=dt.UTC))
    assert job.captured_count == 1, job.errors
    shipped = {h["place"]: h["shipped"] for h in tracing.trace(chain.RAW_CLASS)["holders"]
               if h["item"] == chain.PRODUCT_CLASS}
    # The shop's own receipt still says it holds the boxes; the declared shipment no longer counts.
    assert shipped[chain.place_id("shop_yanji")] == 0
    assert shipped[chain.place_id("shop_kuancheng")] == chain.RETAIL_BOXES["shop_kuancheng"]


def test_forward_from_a_serial_follows_that_item_only(ginseng):
    result = tracing.trace(chain.SOLD_ITEM, "forward")
    assert {n["id"] for n in result["nodes"]} == {chain.SOLD_ITEM}
    assert result["edges"] == [] and result["holders"] == []


def test_depth_and_node_caps_stop_with_a_message(ginseng):
    shallow = tracing.trace(chain.RAW_CLASS, max_depth=1)
    assert shallow["summary"]["truncated"]["reason"] == "max_depth"
    assert "1 层" in shallow["summary"]["truncated"]["message"]
    assert chain.place_id("shop_yanji") not in {n["id"] for n in shallow["nodes"]}
    full = tracing.trace(chain.RAW_CLASS)
    small = tracing.trace(chain.RAW_CLASS, max_nodes=3)
    assert small["summary"]["truncated"]["reason"] == "max_nodes"
    assert "3 个" in small["summary"]["truncated"]["message"]
    assert len(small["nodes"]) == 3 < len(full["nodes"])
    kept = {n["id"] for n in small["nodes"]}
    assert chain.RAW_CLASS in kept and all(e["from"] in kept and e["to"] in kept for e in small["edges"])
    with pytest.raises(tracing.TraceError) as error:
        tracing.trace(chain.RAW_CLASS, max_depth=0)
    assert error.value.code == "bad_max_depth"


@pytest.mark.parametrize(("text", "code"), [
    ("", "empty"),
    ("06901234000019 X1", "check_digit"),  # wrong check digit
    ("hello", "unrecognised_format"),
    ("06901234000016", "batch_required"),  # a GTIN alone is every batch
    ("https://id.gs1.org/414/6901234000016", "location_not_traceable"),
])
def test_malformed_identifiers_are_refused_in_chinese(ginseng, text, code):
    with pytest.raises(tracing.TraceError) as error:
        tracing.trace(text)
    assert error.value.code == code
    assert any("\u4e00" <= c <= "\u9fff" for c in error.value.message)


def test_an_unknown_batch_is_not_found(ginseng):
    with pytest.raises(tracing.TraceError) as error:
        tracing.trace(f"{chain.RAW_GTIN} NOPE1")
    assert error.value.code == "not_found" and "未找到" in error.value.message


def test_bad_direction_is_refused(ginseng):
    with pytest.raises(tracing.TraceError) as error:
        tracing.trace(chain.RAW_CLASS, "sideways")
    assert error.value.code == "bad_direction"


def test_the_garbage_collector_runs_again_after_a_trace(ginseng):
    """The trace pauses Python's cyclic collector while it builds its result (a speed measure): it must
    run again afterwards, after a refused trace too, and stay paused when the caller had paused it."""
    assert gc.isenabled()
    assert tracing.trace(chain.RAW_CLASS)["nodes"]
    assert gc.isenabled()
    with pytest.raises(tracing.TraceError):
        tracing.trace(f"{chain.RAW_GTIN} NOPE1")
    assert gc.isenabled()
    gc.disable()
    try:
        tracing.trace(chain.RAW_CLASS)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_command_prints_the_trace_as_json(ginseng):
    out = StringIO()
    call_command("trace", chain.RAW_CLASS, "--direction", "forward", stdout=out)
    printed = json.loads(out.getvalue())
    assert printed == json.loads(json.dumps(tracing.trace(chain.RAW_CLASS), ensure_ascii=False))
    shops = {h["place"]: h["quantity"] for h in printed["holders"] if h["item"] == chain.PRODUCT_CLASS}
    assert shops[chain.place_id("shop_kuancheng")] == chain.RETAIL_BOXES["shop_kuancheng"]
    out = StringIO()
    call_command("trace", chain.SOLD_ITEM, "--direction", "backward", "--max-depth", "1", stdout=out)
    assert json.loads(out.getvalue())["summary"]["truncated"]["reason"] == "max_depth"
    with pytest.raises(CommandError, match="not_found"):
        call_command("trace", f"{chain.RAW_GTIN} NOPE1", stdout=StringIO())


def test_the_walk_is_set_based_not_per_node(django_assert_max_num_queries):
    """300 serialised items of a batch, each shipped to its own shop: the number of queries does not
    grow with the number of nodes (three per step, one for the places)."""
    import datetime as dt

    from qualitygov.trace.models import EpcisEvent, EventIdentifier

    count = 300
    base = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    klass = f"https://id.gs1.org/01/{chain.RAW_GTIN}/10/BULK1"
    items = [f"{klass}/21/{n:05d}" for n in range(count)]
    shops = [f"https://id.gs1.org/414/{chain._check(f'6901235{n:05d}')}" for n in range(count)]

    def event(n: int, when: dt.datetime, **fields) -> EpcisEvent:
        return EpcisEvent(event_id=f"urn:uuid:00000000-0000-4000-8000-{n:012d}", event_hash=f"ni:///sha-256;{n}",
                          event_time=when, event_time_zone_offset="+00:00", record_time=when, document={},
                          **fields)

    commissioning = EpcisEvent.objects.bulk_create([event(0, base, event_type="ObjectEvent", action="ADD",
                                                          biz_step="commissioning")])[0]
    shipments = EpcisEvent.objects.bulk_create([
        event(n + 1, base + dt.timedelta(days=1), event_type="ObjectEvent", action="OBSERVE", biz_step="shipping")
        for n in range(count)])
    rows = [EventIdentifier(event_id=commissioning.pk, event_time=base, role="epc", identifier=item, class_key=klass)
            for item in items]
    for shipment, item, shop in zip(shipments, items, shops, strict=True):
        rows.append(EventIdentifier(event_id=shipment.pk, event_time=shipment.event_time, role="epc", identifier=item))
        rows.append(EventIdentifier(event_id=shipment.pk, event_time=shipment.event_time, role="destination",
                                    identifier=shop, kind="location"))
    EventIdentifier.objects.bulk_create(rows)
    with django_assert_max_num_queries(7):
        result = tracing.trace(klass)
    assert result["summary"]["nodes"] == 1 + 2 * count
    assert {h["place"] for h in result["holders"]} == set(shops)
    assert all(h["shipped"] == 1 for h in result["holders"])
