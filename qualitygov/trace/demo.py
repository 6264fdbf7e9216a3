"""Demo traceability data: four supply chains of Jilin products captured as EPCIS 2.0 documents.

``seed_trace_demo(seed, today)`` picks market entities of the registry demo (``qualitygov seed-demo``)
by region and industry — it never makes up entities or USCCs — gives each a ``Location`` with a GLN
built on a GS1 China company prefix (690–699; check digits computed, never written by hand), gives
the producers ``Product`` rows with GTINs (reusing a producer's own product of the category when it
has a GTIN), and captures the events through ``trace.capture.capture_document``, so the store holds
what real captures leave:

* 长白山人参: a 抚松 grower commissions fresh ginseng, packs it in cases (SSCC) and ships them to a
  白山 processor, which unpacks and turns it into dried sliced ginseng (TransformationEvent), palletises
  and ships it to a 长春 distributor, which supplies retailers in 长春, 延吉 and 吉林市;
* 梅河口大米: a farmers' cooperative ships paddy to a mill, which mills it into 5 kg bags of rice,
  palletises them for a 通化 distributor supplying supermarkets in 长春, 四平 and 通化;
* 长春 beef: a slaughter and processing plant commissions chilled beef cuts, a cold-chain distributor
  takes them to shops in 长春 and 松原;
* 长春 brake hoses: a maker ships hydraulic brake hose assemblies to a vehicle assembler. When the
  inspection demo has an unqualified brake-hose sample whose product has a GTIN, the chain uses that
  producer, product and batch number, so the failed batch can be traced to where it went;
* e-bike helmets (电动自行车乘员头盔, a consumer product under SAMR Order 19): the maker ships a batch
  to two distributors (长春, 吉林市), which supply four retailers. When the inspection demo has a
  published unqualified helmet sample, the chain uses that producer, product and batch number (the
  product gets a GTIN of its maker's prefix when it has none), so the "Done when" walk of issue 5 runs
  on the demo: the failed batch's forward trace lists the retailers holding it, a recall started
  from it computes that scope, and the consumer who opens the batch's Digital Link sees the recall.

Deterministic for a given seed, registry and ``today``. Idempotent: nothing is done when the event
store already holds events.
"""

from __future__ import annotations

import datetime as dt
import random

from biip.checksums import gs1_standard_check_digit
from django.db import transaction
from django.db.models import Q

from qualitygov.core.identifiers import validate_gtin
from qualitygov.core.models import ProductCategory
from qualitygov.registry.models import MarketEntity, Product
from qualitygov.trace import capture
from qualitygov.trace.models import EpcisEvent, Location

__all__ = ["CHAINS", "seed_trace_demo"]

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
TZ = "+08:00"
LOCATION_REF_BASE = 9000  # demo locations use location references 9001… of the entity's company prefix
ITEM_REF_BASE = 9000      # and item references 9001… for products made here

# Places of each chain: key → (region code prefixes in order of preference, industry divisions,
# location kind, location name suffix).
CHAINS: dict[str, dict] = {
    "ginseng": {
        "name": "长白山人参",
        "places": {
            "grower": (("220621", "2206", "2205"), ("01", "05"), Location.Kind.PRODUCTION, "人参种植基地"),
            "processor": (("2206", "2205", "2224"), ("14", "13", "27"), Location.Kind.PROCESSING, "人参加工厂"),
            "distributor": (("2201",), ("51", "59"), Location.Kind.DISTRIBUTION, "参茸批发配送中心"),
            "shop_changchun": (("2201",), ("52",), Location.Kind.RETAIL, "参茸专卖店"),
            "shop_yanji": (("222401", "2224"), ("52",), Location.Kind.RETAIL, "长白山特产店"),
            "shop_jilin": (("2202",), ("52",), Location.Kind.RETAIL, "土特产商店"),
        },
    },
    "rice": {
        "name": "梅河口大米",
        "places": {
            "cooperative": (("220581", "2205"), ("01", "05"), Location.Kind.PRODUCTION, "水稻种植基地"),
            "mill": (("220581", "2205"), ("13",), Location.Kind.PROCESSING, "大米加工厂"),
            "distributor": (("2205",), ("51", "59"), Location.Kind.DISTRIBUTION, "粮油配送中心"),
            "market_changchun": (("2201",), ("52",), Location.Kind.RETAIL, "超市"),
            "market_siping": (("2203",), ("52",), Location.Kind.RETAIL, "超市"),
            "market_tonghua": (("2205",), ("52",), Location.Kind.RETAIL, "超市"),
        },
    },
    "beef": {
        "name": "长春牛肉",
        "places": {
            "plant": (("2201",), ("13",), Location.Kind.PROCESSING, "肉牛屠宰加工厂"),
            "coldchain": (("2201",), ("59", "51", "54"), Location.Kind.WAREHOUSE, "冷链物流中心"),
            "shop_changchun": (("2201",), ("52",), Location.Kind.RETAIL, "生鲜门店"),
            "shop_songyuan": (("2207",), ("52",), Location.Kind.RETAIL, "生鲜门店"),
        },
    },
    "brake_hose": {
        "name": "长春制动软管",
        "places": {
            "maker": (("2201",), ("36",), Location.Kind.PROCESSING, "制动软管生产车间"),
            "assembler": (("2201", "2202"), ("36",), Location.Kind.PROCESSING, "整车总装厂"),
        },
    },
    "helmet": {
        "name": "电动自行车乘员头盔",
        "places": {
            "maker": (("2201", "2202"), ("29", "41", "24"), Location.Kind.PRODUCTION, "头盔生产车间"),
            "distributor_changchun": (("2201",), ("51", "59"), Location.Kind.DISTRIBUTION, "电动车配件批发中心"),
            "distributor_jilin": (("2202",), ("51", "59"), Location.Kind.DISTRIBUTION, "电动车配件批发部"),
            "shop_changchun": (("220104", "2201"), ("52",), Location.Kind.RETAIL, "电动车专卖店"),
            "shop_dehui": (("220183", "2201"), ("52",), Location.Kind.RETAIL, "电动车商行"),
            "shop_jilin": (("220202", "2202"), ("52",), Location.Kind.RETAIL, "电动车专卖店"),
            "shop_huadian": (("220282", "2202"), ("52",), Location.Kind.RETAIL, "电动车商行"),
        },
    },
}
# The helmet chain: distributor → its retailers, with each retailer's share (per cent) of the batch.
HELMET_ROUTES = {"distributor_changchun": {"shop_changchun": 35, "shop_dehui": 25},
                 "distributor_jilin": {"shop_jilin": 25, "shop_huadian": 15}}
HELMET_CATEGORY = "1202"  # 电动自行车乘员头盔

# Products per chain: key → (producing place, category, name, model).
PRODUCTS = {
    "ginseng_fresh": ("grower", "1101", "鲜人参", "园参 四年生"),
    "ginseng_sliced": ("processor", "1101", "生晒参片", "150g"),
    "paddy": ("cooperative", "0301", "稻谷", "散装"),
    "rice": ("mill", "0301", "长粒香大米", "5kg"),
    "beef": ("plant", "0304", "冷鲜牛肉分割肉", "2kg"),
    "brake_hose": ("maker", "0101", "液压制动软管总成", "ZG-3216"),
    "helmet": ("maker", HELMET_CATEGORY, "电动自行车乘员头盔", "JL-H220"),
}


class _Ids:
    """GS1 keys of one demo run: company prefixes per entity, GLNs, GTINs and SSCCs (check digits
    computed by ``biip``)."""

    def __init__(self):
        self.prefixes: dict[int, str] = {}
        self.serial = 0
        self.used_glns = set(Location.objects.values_list("gln", flat=True))

    def prefix(self, entity: MarketEntity) -> str:
        """The entity's GS1 company prefix (8 digits): that of its registered GTINs when it has one,
        else one in the China range derived from the entity's id."""
        if entity.pk not in self.prefixes:
            gtin = (entity.products.filter(gtin__startswith="069").order_by("gtin")
                    .values_list("gtin", flat=True).first())
            self.prefixes[entity.pk] = gtin[1:9] if gtin else f"69{(entity.pk * 7919) % 10**6:06d}"
        return self.prefixes[entity.pk]

    @staticmethod
    def check(digits: str) -> str:
        return digits + str(gs1_standard_check_digit(digits))

    def gln(self, entity: MarketEntity) -> tuple[str, str]:
        """A new GLN for one of the entity's locations: (gln, location reference)."""
        for ref in range(LOCATION_REF_BASE + 1, LOCATION_REF_BASE + 1000):
            gln = self.check(self.prefix(entity) + str(ref))
            if gln not in self.used_glns:
                self.used_glns.add(gln)
                return gln, str(ref)
        raise RuntimeError(f"no free location reference for entity {entity.pk}")

    def sscc(self, entity: MarketEntity) -> str:
        """A new SSCC (extension digit 0) of the entity's prefix, as a Digital Link."""
        self.serial += 1
        return "https://id.gs1.org/00/" + self.check("0" + self.prefix(entity) + f"{self.serial:08d}")


def _pick(rng: random.Random, used: set[int], regions: tuple[str, ...], industries: tuple[str, ...]) -> MarketEntity:
    """An operating demo entity in the first of ``regions`` that has one of ``industries``; failing
    that one of those industries anywhere in Jilin (the right trade matters more than the right city),
    then any entity in those regions, then any entity."""
    base = MarketEntity.objects.filter(status=MarketEntity.Status.OPERATING).exclude(pk__in=used)
    trade = Q(industry_id__in=industries)
    tries = [trade & Q(region__code__startswith=region) for region in regions] + [trade]
    tries += [Q(region__code__startswith=region) for region in regions] + [Q()]
    for query in tries:
        ids = list(base.filter(query).order_by("pk").values_list("pk", flat=True)[:200])
        if ids:
            return MarketEntity.objects.get(pk=rng.choice(ids))
    raise RuntimeError("the registry has no operating market entities: run `qualitygov seed-demo` first")


def _failed_brake_hose_sample():
    """The inspection demo's unqualified brake-hose sample with a registered GTIN product, if any."""
    try:
        from qualitygov.inspection.models import Sample
    except ImportError:  # the inspection app is not installed
        return None
    return (Sample.objects.filter(category_id="0101", verdict__in=["unqualified", "seriously_unqualified"],
                                  product__gtin__isnull=False).exclude(batch_number="")
            .select_related("product", "entity").order_by("sampled_on", "pk").first())


def _failed_helmet_sample():
    """The inspection demo's first published unqualified e-bike helmet sample with a product and a batch
    number, if any (the failed batch the recall walk starts from)."""
    try:
        from qualitygov.inspection.models import Sample
    except ImportError:  # the inspection app is not installed
        return None
    return (Sample.objects.filter(category_id=HELMET_CATEGORY, verdict__in=["unqualified", "seriously_unqualified"],
                                  published_on__isnull=False, product__isnull=False).exclude(batch_number="")
            .select_related("product", "entity").order_by("sampled_on", "pk").first())


class _Chain:
    """Builds the events of one chain (EPCIS 2.0 JSON-LD) from its places."""

    def __init__(self, places: dict[str, tuple[MarketEntity, Location, str]], ids: _Ids):
        self.places = places
        self.ids = ids
        self.events: list[dict] = []

    def sgln(self, place: str) -> str:
        entity, location, ref = self.places[place]
        return f"urn:epc:id:sgln:{self.ids.prefix(entity)}.{ref}.0"

    def pgln(self, place: str) -> str:
        entity, location, ref = self.places[place]
        return f"urn:epc:id:pgln:{self.ids.prefix(entity)}.{ref}"

    @staticmethod
    def when(day: dt.date, hour: int) -> str:
        return f"{day:%Y-%m-%d}T{hour:02d}:00:00.000{TZ}"

    def _base(self, kind: str, day: dt.date, hour: int, place: str, step: str, **fields) -> dict:
        event = {"type": kind, "eventTime": self.when(day, hour), "eventTimeZoneOffset": TZ, **fields,
                 "bizStep": step, "readPoint": {"id": self.sgln(place)}, "bizLocation": {"id": self.sgln(place)}}
        self.events.append(event)
        return event

    def commission(self, day, place, klass, quantity, uom, lot, hour=8):
        """Production of a batch (ObjectEvent ADD with the lot in ilmd)."""
        self._base("ObjectEvent", day, hour, place, "commissioning", action="ADD", epcList=[],
                   quantityList=[{"epcClass": klass, "quantity": quantity, "uom": uom}],
                   disposition="active", ilmd={"cbvmda:lotNumber": lot})

    def aggregate(self, day, place, parent, klass, quantity, uom, *, delete=False, hour=10):
        """Pack ``quantity`` of a batch into a case/pallet (ADD) or unpack it (DELETE)."""
        self._base("AggregationEvent", day, hour, place, "unpacking" if delete else "packing",
                   action="DELETE" if delete else "ADD", parentID=parent, childEPCs=[],
                   childQuantityList=[{"epcClass": klass, "quantity": quantity, "uom": uom}])

    def move(self, day, source, destination, *, epcs=(), quantities=(), receive=False, hour=9):
        """A shipment from ``source`` (or its receipt at ``destination``) with source and destination."""
        place = destination if receive else source
        transfer = {
            "sourceList": [{"type": "owning_party", "source": self.pgln(source)},
                           {"type": "location", "source": self.sgln(source)}],
            "destinationList": [{"type": "owning_party", "destination": self.pgln(destination)},
                                {"type": "location", "destination": self.sgln(destination)}],
        }
        fields = {"action": "OBSERVE", "epcList": list(epcs),
                  "disposition": "in_progress" if receive else "in_transit"}
        if quantities:
            fields["quantityList"] = [{"epcClass": k, "quantity": q, "uom": u} for k, q, u in quantities]
        event = self._base("ObjectEvent", day, hour, place, "receiving" if receive else "shipping", **fields)
        event.update(transfer)

    def ship_and_receive(self, day, source, destination, *, epcs=(), quantities=(), transit_days=1):
        self.move(day, source, destination, epcs=epcs, quantities=quantities)
        self.move(day + dt.timedelta(days=transit_days), source, destination, epcs=epcs, quantities=quantities,
                  receive=True, hour=14)

    def transform(self, day, place, inputs, outputs, lot):
        """Processing: input batches (class, quantity, uom) into output batches."""
        self._base("TransformationEvent", day, 11, place, "commissioning",
                   inputQuantityList=[{"epcClass": k, "quantity": q, "uom": u} for k, q, u in inputs],
                   outputQuantityList=[{"epcClass": k, "quantity": q, "uom": u} for k, q, u in outputs],
                   ilmd={"cbvmda:lotNumber": lot})

    def sell(self, day, place, klass, quantity, uom):
        self._base("ObjectEvent", day, 19, place, "retail_selling", action="OBSERVE", epcList=[],
                   quantityList=[{"epcClass": klass, "quantity": quantity, "uom": uom}], disposition="retail_sold")

    def document(self, created: dt.date) -> dict:
        return {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
                "creationDate": self.when(created, 20), "epcisBody": {"eventList": self.events}}


def _class(gtin: str, lot: str) -> str:
    return f"https://id.gs1.org/01/{gtin}/10/{lot}"


def _product(key: str, places: dict, ids: _Ids, sample=None) -> Product:
    """The registry product of ``key``: the sample's when given, else the producer's own product of the
    category and name when it has a GTIN, else a new one with a GTIN of the producer's prefix."""
    if sample is not None:
        return sample.product
    place, category, name, model = PRODUCTS[key]
    producer = places[place][0]
    found = producer.products.filter(category_id=category, name=name, gtin__isnull=False).order_by("pk").first()
    if found is not None:
        return found
    category_row = ProductCategory.objects.get(pk=category)
    for ref in range(ITEM_REF_BASE + 1, ITEM_REF_BASE + 1000):
        gtin = validate_gtin(ids.check(ids.prefix(producer) + str(ref)))
        if not Product.objects.filter(gtin=gtin).exists():
            return Product.objects.create(producer=producer, name=name, model=model, category=category_row,
                                          gtin=gtin, is_key=category_row.is_key)
    raise RuntimeError(f"no free item reference for entity {producer.pk}")


def _with_gtin(product: Product, ids: _Ids) -> Product:
    """``product`` itself, given a GTIN of its producer's prefix when it has none (a producer registers
    its barcodes with the traceability platform before it captures events)."""
    if product.gtin:
        return product
    for ref in range(ITEM_REF_BASE + 1, ITEM_REF_BASE + 1000):
        gtin = validate_gtin(ids.check(ids.prefix(product.producer) + str(ref)))
        if not Product.objects.filter(gtin=gtin).exists():
            Product.objects.filter(pk=product.pk).update(gtin=gtin)
            product.gtin = gtin
            return product
    raise RuntimeError(f"no free item reference for entity {product.producer_id}")


def _places(rng: random.Random, used: set[int], ids: _Ids, spec: dict, fixed: dict | None = None) -> dict:
    """Entities and new locations of a chain's places: place key → (entity, location, location reference)."""
    out = {}
    for key, (regions, industries, kind, suffix) in spec["places"].items():
        entity = (fixed or {}).get(key) or _pick(rng, used, regions, industries)
        used.add(entity.pk)
        gln, ref = ids.gln(entity)
        location = Location.objects.create(gln=gln, entity=entity, kind=kind, region_id=entity.region_id,
                                           name=f"{entity.name}{suffix}"[:200], address=entity.address[:255])
        out[key] = (entity, location, ref)
    return out


def _ginseng(rng, used, ids, today) -> tuple[_Chain, dict]:
    places = _places(rng, used, ids, CHAINS["ginseng"])
    fresh, sliced = _product("ginseng_fresh", places, ids), _product("ginseng_sliced", places, ids)
    start = today - dt.timedelta(days=70)
    raw_lot, lot = f"RS{start:%y%m}{rng.randint(10, 99)}", f"SJ{(start + dt.timedelta(days=20)):%y%m%d}"
    raw, product = _class(fresh.gtin, raw_lot), _class(sliced.gtin, lot)
    chain = _Chain(places, ids)
    kg = rng.choice([1200, 1500, 1800])
    chain.commission(start, "grower", raw, kg, "KGM", raw_lot)
    cases = [ids.sscc(places["grower"][0]) for _ in range(3)]
    for case in cases:
        chain.aggregate(start + dt.timedelta(days=1), "grower", case, raw, kg // 3, "KGM")
    chain.ship_and_receive(start + dt.timedelta(days=2), "grower", "processor", epcs=cases)
    for case in cases:
        chain.aggregate(start + dt.timedelta(days=3), "processor", case, raw, kg // 3, "KGM", delete=True, hour=16)
    boxes = kg * 1000 // 4 // 150  # drying keeps about a quarter of the weight; 150 g boxes
    chain.transform(start + dt.timedelta(days=20), "processor", [(raw, kg, "KGM")], [(product, boxes, "H87")], lot)
    pallet = ids.sscc(places["processor"][0])
    chain.aggregate(start + dt.timedelta(days=21), "processor", pallet, product, boxes, "H87")
    chain.ship_and_receive(start + dt.timedelta(days=22), "processor", "distributor", epcs=[pallet])
    chain.aggregate(start + dt.timedelta(days=23), "distributor", pallet, product, boxes, "H87", delete=True, hour=16)
    shops = ["shop_changchun", "shop_yanji", "shop_jilin"]
    shares = [boxes // 2, boxes // 4, boxes - boxes // 2 - boxes // 4]
    for i, (shop, count) in enumerate(zip(shops, shares, strict=True)):
        chain.ship_and_receive(start + dt.timedelta(days=25 + i), "distributor", shop,
                               quantities=[(product, count, "H87")])
        chain.sell(start + dt.timedelta(days=30 + i), shop, product, rng.randint(5, 20), "H87")
    return chain, {"batch": product, "raw_batch": raw, "retailers": [places[s][1].gln for s in shops]}


def _rice(rng, used, ids, today) -> tuple[_Chain, dict]:
    places = _places(rng, used, ids, CHAINS["rice"])
    paddy, rice = _product("paddy", places, ids), _product("rice", places, ids)
    start = today - dt.timedelta(days=50)
    paddy_lot, lot = f"DG{start:%Y}{rng.randint(100, 999)}", f"MH{(start + dt.timedelta(days=5)):%y%m%d}"
    raw, product = _class(paddy.gtin, paddy_lot), _class(rice.gtin, lot)
    chain = _Chain(places, ids)
    kg = rng.choice([40000, 50000, 60000])
    chain.commission(start, "cooperative", raw, kg, "KGM", paddy_lot)
    chain.ship_and_receive(start + dt.timedelta(days=1), "cooperative", "mill", quantities=[(raw, kg, "KGM")])
    bags = kg * 65 // 100 // 5  # milling yield about 65 %, 5 kg bags
    chain.transform(start + dt.timedelta(days=5), "mill", [(raw, kg, "KGM")], [(product, bags, "H87")], lot)
    pallets = [ids.sscc(places["mill"][0]) for _ in range(4)]
    per_pallet = bags // 4
    for pallet in pallets:
        chain.aggregate(start + dt.timedelta(days=6), "mill", pallet, product, per_pallet, "H87")
    chain.ship_and_receive(start + dt.timedelta(days=7), "mill", "distributor", epcs=pallets)
    for pallet in pallets:
        chain.aggregate(start + dt.timedelta(days=8), "distributor", pallet, product, per_pallet, "H87", delete=True)
    markets = ["market_changchun", "market_siping", "market_tonghua"]
    for i, market in enumerate(markets):
        count = per_pallet if i < 2 else per_pallet // 2
        chain.ship_and_receive(start + dt.timedelta(days=10 + i), "distributor", market,
                               quantities=[(product, count, "H87")])
        chain.sell(start + dt.timedelta(days=14 + i), market, product, rng.randint(30, 120), "H87")
    return chain, {"batch": product, "raw_batch": raw, "retailers": [places[m][1].gln for m in markets]}


def _beef(rng, used, ids, today) -> tuple[_Chain, dict]:
    places = _places(rng, used, ids, CHAINS["beef"])
    beef = _product("beef", places, ids)
    start = today - dt.timedelta(days=12)
    lot = f"NR{start:%y%m%d}{rng.randint(1, 9)}"
    product = _class(beef.gtin, lot)
    chain = _Chain(places, ids)
    packs = rng.choice([800, 1000, 1200])
    chain.commission(start, "plant", product, packs, "H87", lot)
    pallets = [ids.sscc(places["plant"][0]) for _ in range(2)]
    for pallet in pallets:
        chain.aggregate(start, "plant", pallet, product, packs // 2, "H87", hour=15)
    chain.ship_and_receive(start + dt.timedelta(days=1), "plant", "coldchain", epcs=pallets, transit_days=0)
    for pallet in pallets:
        chain.aggregate(start + dt.timedelta(days=1), "coldchain", pallet, product, packs // 2, "H87", delete=True,
                        hour=17)
    shops = ["shop_changchun", "shop_songyuan"]
    for i, shop in enumerate(shops):
        chain.ship_and_receive(start + dt.timedelta(days=2 + i), "coldchain", shop,
                               quantities=[(product, packs // 2, "H87")])
        chain.sell(start + dt.timedelta(days=4 + i), shop, product, rng.randint(40, 90), "H87")
    return chain, {"batch": product, "retailers": [places[s][1].gln for s in shops]}


def _brake_hose(rng, used, ids, today) -> tuple[_Chain, dict]:
    sample = _failed_brake_hose_sample()
    fixed = {"maker": sample.entity} if sample is not None else None
    places = _places(rng, used, ids, CHAINS["brake_hose"], fixed)
    hose = _product("brake_hose", places, ids, sample)
    made = sample.production_date if sample is not None and sample.production_date else today - dt.timedelta(days=40)
    made = min(made, today - dt.timedelta(days=10))
    lot = sample.batch_number if sample is not None else f"{made:%Y%m%d}{rng.randint(1, 99):02d}"
    product = _class(hose.gtin, lot)
    chain = _Chain(places, ids)
    pieces = sample.lot_size if sample is not None and sample.lot_size else 2000
    chain.commission(made, "maker", product, pieces, "H87", lot)
    cases = [ids.sscc(places["maker"][0]) for _ in range(4)]
    for case in cases:
        chain.aggregate(made + dt.timedelta(days=1), "maker", case, product, pieces // 4, "H87")
    chain.ship_and_receive(made + dt.timedelta(days=2), "maker", "assembler", epcs=cases)
    for case in cases:
        chain.aggregate(made + dt.timedelta(days=3), "assembler", case, product, pieces // 4, "H87", delete=True)
    return chain, {"batch": product, "retailers": [places["assembler"][1].gln],
                   "inspection_sample": sample.number if sample is not None else None}


def _helmet(rng, used, ids, today) -> tuple[_Chain, dict]:
    sample = _failed_helmet_sample()
    fixed = {"maker": sample.entity} if sample is not None else None
    places = _places(rng, used, ids, CHAINS["helmet"], fixed)
    helmet = _with_gtin(sample.product, ids) if sample is not None else _product("helmet", places, ids)
    made = sample.production_date if sample is not None and sample.production_date else today - dt.timedelta(days=60)
    made = min(made, today - dt.timedelta(days=20))
    lot = sample.batch_number if sample is not None else f"{made:%Y%m%d}{rng.randint(1, 99):02d}"
    product = _class(helmet.gtin, lot)
    chain = _Chain(places, ids)
    pieces = sample.lot_size if sample is not None and sample.lot_size else 2000
    chain.commission(made, "maker", product, pieces, "H87", lot)
    received: dict[str, int] = {}
    for i, (distributor, shops) in enumerate(HELMET_ROUTES.items()):
        shares = {shop: pieces * share // 100 for shop, share in shops.items()}
        chain.ship_and_receive(made + dt.timedelta(days=2 + i), "maker", distributor,
                               quantities=[(product, sum(shares.values()), "H87")])
        for j, (shop, count) in enumerate(shares.items()):
            chain.ship_and_receive(made + dt.timedelta(days=5 + i + j), distributor, shop,
                                   quantities=[(product, count, "H87")])
            chain.sell(made + dt.timedelta(days=9 + i + j), shop, product, rng.randint(3, 12), "H87")
            received[places[shop][1].gln] = count
    shops = [shop for route in HELMET_ROUTES.values() for shop in route]
    return chain, {"batch": product, "gtin": helmet.gtin, "lot": lot, "producer": places["maker"][0].pk,
                   "distributors": [places[d][1].gln for d in HELMET_ROUTES],
                   "retailers": [places[s][1].gln for s in shops], "received": received,
                   "inspection_sample": sample.number if sample is not None else None}


def seed_trace_demo(seed: int = 20121, today: dt.date | None = None) -> dict:
    """Capture the demo chains (see the module docstring); returns a summary with, per chain, the batch
    to trace (Digital Link) and the GLNs of its end points. Skipped (``{"skipped": True}``) when the
    event store already holds events. Raises ``RuntimeError`` when the registry has no entities or a
    capture is refused (nothing of that chain is kept)."""
    if EpcisEvent.objects.exists():
        return {"skipped": True, "events": EpcisEvent.objects.count()}
    from django.utils import timezone

    today = today or timezone.localdate()
    now = dt.datetime.combine(today, dt.time(20, 0), tzinfo=dt.timezone(dt.timedelta(hours=8)))
    rng = random.Random(seed)
    ids = _Ids()
    used: set[int] = set()
    summary: dict = {"skipped": False, "events": 0, "locations": 0, "chains": {}}
    for key, build in (("ginseng", _ginseng), ("rice", _rice), ("beef", _beef), ("brake_hose", _brake_hose),
                       ("helmet", _helmet)):
        with transaction.atomic():
            chain, info = build(rng, used, ids, today)
            job = capture.capture_document(chain.document(today), now=now)
            if job.captured_count != len(chain.events):
                raise RuntimeError(f"demo chain {key} was not captured: {job.status} {job.errors[:3]}")
        summary["events"] += job.captured_count
        summary["locations"] += len(chain.places)
        summary["chains"][key] = {"name": CHAINS[key]["name"], "events": job.captured_count, **info}
    return summary
