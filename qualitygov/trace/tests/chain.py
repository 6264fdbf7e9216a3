"""A small ginseng supply chain in the event store, for the trace tests.

A producer in 延吉市 (the ``registry`` fixture's "yanji" entity, 222401) commissions 500 kg of raw
ginseng (batch RS2509), packs it into one case (SSCC) and ships it to a processor in 南关区 ("nanguan",
220102), which unpacks it and turns it into 1000 boxes of sliced ginseng (batch PS2510), shipped to a
distributor in 朝阳区 ("chaoyang", 220104), which ships 600 boxes to a shop in 宽城区 (220103) and 400
to a shop in 延吉市 (222401); the first shop sells one serialised box.

The events are written as one EPCIS 2.0 document and stored through ``trace.capture.capture_document``
(validation, canonical identifiers, class keys, owner entity and region from the bizLocation GLN), so
the tests read the store as real captures leave it.
"""

from __future__ import annotations

import datetime as dt

from biip.checksums import gs1_standard_check_digit

from qualitygov.conftest import make_uscc
from qualitygov.registry.models import MarketEntity
from qualitygov.trace import capture
from qualitygov.trace.models import Location

COMPANY = "6901234"


def _check(digits: str) -> str:
    return digits + str(gs1_standard_check_digit(digits))


RAW_GTIN = _check("0" + COMPANY + "00001")  # 人参鲜参
PRODUCT_GTIN = _check("0" + COMPANY + "00002")  # 人参切片
RAW_BATCH, PRODUCT_BATCH = "RS2509", "PS2510"
CASE_SSCC = _check("0" + COMPANY + "000000001")
RAW_CLASS = f"https://id.gs1.org/01/{RAW_GTIN}/10/{RAW_BATCH}"
PRODUCT_CLASS = f"https://id.gs1.org/01/{PRODUCT_GTIN}/10/{PRODUCT_BATCH}"
CASE = f"https://id.gs1.org/00/{CASE_SSCC}"
SOLD_ITEM = f"https://id.gs1.org/01/{PRODUCT_GTIN}/10/{PRODUCT_BATCH}/21/0001"

RAW_KG = 500
PRODUCED_BOXES = 1000
# Boxes shipped by the distributor to each shop (and received there).
RETAIL_BOXES = {"shop_kuancheng": 600, "shop_yanji": 400}

# place key → (location reference, region, entity key or None for a shop made here, kind, name)
PLACES = {
    "producer": ("00001", "222401", "yanji", Location.Kind.PRODUCTION, "延吉人参种植基地"),
    "processor": ("00002", "220102", "nanguan", Location.Kind.PROCESSING, "南关人参加工厂"),
    "distributor": ("00003", "220104", "chaoyang", Location.Kind.DISTRIBUTION, "朝阳配送中心"),
    "shop_kuancheng": ("00004", "220103", None, Location.Kind.RETAIL, "宽城参茸店"),
    "shop_yanji": ("00005", "222401", None, Location.Kind.RETAIL, "延吉参茸店"),
}


def gln(place: str) -> str:
    """The 13-digit GLN of a place of the chain."""
    return _check(COMPANY + PLACES[place][0])


def place_id(place: str) -> str:
    """The canonical identifier (Digital Link) of a place's location GLN."""
    return f"https://id.gs1.org/414/{gln(place)}"


def _sgln(place: str) -> str:
    return f"urn:epc:id:sgln:{COMPANY}.{PLACES[place][0]}.0"


def _pgln(place: str) -> str:
    return f"urn:epc:id:pgln:{COMPANY}.{PLACES[place][0]}"


def _when(day: str, hour: int = 9) -> str:
    return f"{day}T{hour:02d}:00:00.000+08:00"


def _quantity(epc_class: str, quantity, uom: str) -> dict:
    return {"epcClass": epc_class, "quantity": quantity, "uom": uom}


def _transfer(source: str, destination: str) -> dict:
    return {
        "sourceList": [{"type": "owning_party", "source": _pgln(source)},
                       {"type": "location", "source": _sgln(source)}],
        "destinationList": [{"type": "owning_party", "destination": _pgln(destination)},
                            {"type": "location", "destination": _sgln(destination)}],
    }


def _object(day: str, place: str, step: str, *, action: str = "OBSERVE", epcs=None, quantities=None,
            transfer: tuple[str, str] | None = None, hour: int = 9) -> dict:
    event = {"type": "ObjectEvent", "eventTime": _when(day, hour), "eventTimeZoneOffset": "+08:00", "action": action,
             "bizStep": step, "readPoint": {"id": _sgln(place)}, "bizLocation": {"id": _sgln(place)}}
    event["epcList"] = list(epcs or [])
    if quantities:
        event["quantityList"] = quantities
    if transfer:
        event.update(_transfer(*transfer))
    return event


def document() -> dict:
    """The chain as an EPCIS 2.0 document (JSON-LD)."""
    raw = [_quantity(RAW_CLASS, RAW_KG, "KGM")]
    boxes = PRODUCED_BOXES
    events = [
        _object("2025-09-10", "producer", "commissioning", action="ADD", quantities=raw),
        {"type": "AggregationEvent", "eventTime": _when("2025-09-12"), "eventTimeZoneOffset": "+08:00",
         "action": "ADD", "bizStep": "packing", "parentID": CASE, "childEPCs": [], "childQuantityList": raw,
         "bizLocation": {"id": _sgln("producer")}},
        _object("2025-09-13", "producer", "shipping", epcs=[CASE], transfer=("producer", "processor")),
        _object("2025-09-15", "processor", "receiving", epcs=[CASE], transfer=("producer", "processor")),
        {"type": "AggregationEvent", "eventTime": _when("2025-09-15", 14), "eventTimeZoneOffset": "+08:00",
         "action": "DELETE", "bizStep": "unpacking", "parentID": CASE, "childEPCs": [], "childQuantityList": raw,
         "bizLocation": {"id": _sgln("processor")}},
        {"type": "TransformationEvent", "eventTime": _when("2025-10-08"), "eventTimeZoneOffset": "+08:00",
         "bizStep": "commissioning", "inputQuantityList": raw,
         "outputQuantityList": [_quantity(PRODUCT_CLASS, boxes, "H87")],
         "readPoint": {"id": _sgln("processor")}, "bizLocation": {"id": _sgln("processor")}},
        _object("2025-10-10", "processor", "shipping", quantities=[_quantity(PRODUCT_CLASS, boxes, "H87")],
                transfer=("processor", "distributor")),
        _object("2025-10-11", "distributor", "receiving", quantities=[_quantity(PRODUCT_CLASS, boxes, "H87")],
                transfer=("processor", "distributor")),
    ]
    for shop, count in RETAIL_BOXES.items():
        events.append(_object("2025-10-15", "distributor", "shipping", quantities=[_quantity(PRODUCT_CLASS, count, "H87")],
                              transfer=("distributor", shop)))
        events.append(_object("2025-10-17", shop, "receiving", quantities=[_quantity(PRODUCT_CLASS, count, "H87")],
                              transfer=("distributor", shop)))
    events.append(_object("2025-11-01", "shop_kuancheng", "retail_selling", epcs=[SOLD_ITEM]))
    return {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2025-11-02T10:00:00.000+08:00",
        "epcisBody": {"eventList": events},
    }


def build_chain(registry: dict, now: dt.datetime | None = None) -> dict:
    """Create the chain's places (two shops as new entities) and capture its events; returns the
    entities by place key. Raises AssertionError when the capture does not store every event."""
    entities = {}
    for place, (ref, region, key, kind, name) in PLACES.items():
        if key is not None:
            entity = registry[key]["entity"]
        else:
            serial = 700 + int(ref)
            entity = MarketEntity.objects.create(
                uscc=make_uscc(region, serial), name=f"测试{name}有限公司", legal_representative="王五",
                region_id=region, industry_id="52", address=f"吉林省测试地址{serial}号",
                registration_date=dt.date(2018, 5, 1), status=MarketEntity.Status.OPERATING)
        entities[place] = entity
        Location.objects.create(gln=gln(place), entity=entity, name=name, kind=kind, region_id=region)
    doc = document()
    job = capture.capture_document(doc, now=now or dt.datetime(2025, 12, 1, tzinfo=dt.UTC))
    stored = len(doc["epcisBody"]["eventList"])
    assert job.captured_count == stored, (job.status, job.errors)
    return entities
