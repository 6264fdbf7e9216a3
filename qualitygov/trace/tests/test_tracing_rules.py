"""The walk's rules (issue 5, item 5) on small stores written row by row: time order, which places an
event sends goods to, receipts, quantities added up per edge, a batch's serialised items, and a fixed
number of queries for a large step. Run on SQLite and PostgreSQL (their SQL differs; answers may not)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from qualitygov.trace import tracing
from qualitygov.trace.models import EpcisEvent, EventIdentifier
from qualitygov.trace.tests import chain

pytestmark = [pytest.mark.django_db]

BASE = dt.datetime(2025, 6, 1, 8, tzinfo=dt.UTC)
KLASS = f"https://id.gs1.org/01/{chain.RAW_GTIN}/10/RULES1"
OTHER = f"https://id.gs1.org/01/{chain.PRODUCT_GTIN}/10/RULES2"
_numbers = itertools.count(1)


def place(n: int) -> str:
    return f"https://id.gs1.org/414/{chain._check(f'6901236{n:05d}')}"


def party(n: int) -> str:
    return f"https://id.gs1.org/417/{chain._check(f'6901236{n:05d}')}"


def event(hours: int, rows: list[tuple], event_type: str = "ObjectEvent", action: str = "OBSERVE",
          step: str = "shipping", location: str = "") -> EpcisEvent:
    """One stored event at BASE + ``hours`` with identifier rows (role, identifier, class_key, quantity,
    uom, kind)."""
    n = next(_numbers)
    when = BASE + dt.timedelta(hours=hours)
    stored = EpcisEvent.objects.create(
        event_id=f"urn:uuid:00000000-0000-4000-9000-{n:012d}", event_hash=f"ni:///sha-256;{n}",
        event_type=event_type, action=action, biz_step=step, biz_location=location, read_point=location,
        event_time=when, event_time_zone_offset="+00:00", record_time=when, document={})
    EventIdentifier.objects.bulk_create([
        EventIdentifier(event_id=stored.pk, event_time=when, role=role, identifier=identifier, class_key=class_key,
                        quantity=quantity, uom=uom, kind=kind)
        for role, identifier, class_key, quantity, uom, kind in rows])
    return stored


def shipped(item: str, quantity, *places: tuple[str, str]) -> list[tuple]:
    return [("quantity", item, item, quantity, "KGM", ""),
            *[("destination", where, "", None, "", kind) for where, kind in places]]


def edges(result: dict) -> set[tuple]:
    return {(e["from"], e["relation"], e["to"], e["quantity"]) for e in result["edges"]}


def test_goods_are_followed_forward_only_by_events_after_they_were_made():
    event(0, [("input_quantity", KLASS, KLASS, 10, "KGM", ""), ("output_quantity", OTHER, OTHER, 8, "KGM", "")],
          event_type="TransformationEvent", action="")
    event(-5, shipped(OTHER, 3, (place(1), "location")))  # before the product existed: not its shipment
    event(5, shipped(OTHER, 2, (place(2), "location")))
    result = tracing.trace(KLASS)
    assert edges(result) == {(KLASS, "transformed", OTHER, 8), (OTHER, "shipped_to", place(2), 2)}
    # Backward from the product, the early shipment is upstream of nothing either: only the input.
    back = tracing.trace(OTHER, "backward")
    assert (KLASS, "transformed", OTHER, 10) in edges(back) and place(1) not in {n["id"] for n in back["nodes"]}


def test_a_shipment_goes_to_its_locations_else_to_its_parties():
    event(1, shipped(KLASS, 4, (place(3), "location"), (party(4), "owning_party"), (place(5), "location")))
    event(2, shipped(KLASS, 1, (party(6), "possessing_party"), (party(7), "owning_party")))
    result = tracing.trace(KLASS)
    assert edges(result) == {(KLASS, "shipped_to", place(3), 4), (KLASS, "shipped_to", place(5), 4),
                             (KLASS, "shipped_to", party(6), 1), (KLASS, "shipped_to", party(7), 1)}
    # Places are end points: nothing is followed from them.
    assert result["summary"]["depth"] == 1


def test_a_receipt_counts_at_its_business_location_and_backward_names_the_sender():
    event(1, shipped(KLASS, 6, (place(8), "location")))
    event(2, [("quantity", KLASS, KLASS, 6, "KGM", ""), ("source", place(9), "", None, "", "location")],
          step="receiving", location=place(8))
    holders = {h["place"]: h for h in tracing.trace(KLASS)["holders"]}
    assert (holders[place(8)]["shipped"], holders[place(8)]["received"], holders[place(8)]["quantity"]) == (6, 6, 6)
    back = tracing.trace(KLASS, "backward")
    assert edges(back) == {(place(9), "received_from", KLASS, 6)}


def test_rows_of_the_same_goods_in_one_event_add_up():
    event(1, [("quantity", KLASS, KLASS, 2.5, "KGM", ""), ("quantity", KLASS, KLASS, 1.5, "KGM", ""),
              ("destination", place(10), "", None, "", "location")])
    assert edges(tracing.trace(KLASS)) == {(KLASS, "shipped_to", place(10), 4)}


def test_quantities_add_up_exactly_and_whole_ones_stay_whole():
    """Fractions add up as decimals (0.1 + 0.2 is 0.3, not a float's 0.30000000000000004); whole
    quantities stay integers in the answer (a JSON 7, not 7.0), mixed ones become exact fractions."""
    from decimal import Decimal

    def shipment(hours, quantities, where):
        event(hours, [*[("quantity", KLASS, KLASS, q, "KGM", "") for q in quantities],
                      ("destination", where, "", None, "", "location")])

    shipment(1, [Decimal("0.1"), Decimal("0.2")], place(20))
    shipment(2, [2, Decimal("0.5")], place(21))
    shipment(3, [3, 4], place(22))
    result = tracing.trace(KLASS)
    quantities = {e["to"]: e["quantity"] for e in result["edges"]}
    assert quantities == {place(20): 0.3, place(21): 2.5, place(22): 7}
    assert type(quantities[place(22)]) is int
    assert {h["place"]: h["shipped"] for h in result["holders"]} == quantities


def test_serialised_items_of_a_batch_are_followed_one_by_one():
    items = [f"{KLASS}/21/{n}" for n in range(3)]
    event(0, [("epc", item, KLASS, None, "", "") for item in items], action="ADD", step="commissioning",
          location=place(11))
    event(1, [("epc", items[0], "", None, "", ""), ("destination", place(12), "", None, "", "location")])
    event(2, [("epc", items[1], "", None, "", ""), ("epc", items[2], "", None, "", ""),
              ("destination", place(13), "", None, "", "location")])
    result = tracing.trace(KLASS)
    assert edges(result) == {(KLASS, "batch", items[0], None), (KLASS, "batch", items[1], None),
                             (KLASS, "batch", items[2], None), (items[0], "shipped_to", place(12), 1),
                             (items[1], "shipped_to", place(13), 1), (items[2], "shipped_to", place(13), 1)}
    holders = {(h["place"], h["item"]): h["shipped"] for h in result["holders"]}
    assert holders == {(place(12), items[0]): 1, (place(13), items[1]): 1, (place(13), items[2]): 1}
    # Backward from one item: its batch, and the batch's place of production.
    back = tracing.trace(items[0], "backward")
    assert (KLASS, "batch", items[0], None) in edges(back)
    assert (place(11), "produced_at", items[0], 1) in edges(back)


def test_a_large_step_costs_the_same_number_of_queries(django_assert_max_num_queries):
    """500 shipments of one batch to 500 places: one breadth-first step, a fixed number of queries."""
    rows = []
    shipments = EpcisEvent.objects.bulk_create([
        EpcisEvent(event_id=f"urn:uuid:00000000-0000-4000-a000-{n:012d}", event_hash=str(n),
                   event_type="ObjectEvent", action="OBSERVE", biz_step="shipping",
                   event_time=BASE + dt.timedelta(minutes=n), event_time_zone_offset="+00:00",
                   record_time=BASE, document={}) for n in range(500)])
    for n, shipment in enumerate(shipments):
        rows += [EventIdentifier(event_id=shipment.pk, event_time=shipment.event_time, role="quantity",
                                 identifier=KLASS, class_key=KLASS, quantity=1, uom="KGM"),
                 EventIdentifier(event_id=shipment.pk, event_time=shipment.event_time, role="destination",
                                 identifier=place(1000 + n), kind="location")]
    EventIdentifier.objects.bulk_create(rows)
    with django_assert_max_num_queries(4):
        result = tracing.trace(KLASS)
    assert result["summary"]["edges"] == 500 and len(result["holders"]) == 500
    assert [e["time"] for e in result["edges"]] == sorted(e["time"] for e in result["edges"])
