"""The consumer lookup (issue 5, item 7): what a shopper sees after typing or scanning a product's code.

``lookup(text)`` reads the code with ``identifiers.parse_lookup_code`` (GTIN, GTIN + batch, element
string or GS1 Digital Link) and answers, as one JSON-ready dict used by the public page, the GS1 Digital
Link resolver and the public API:

* ``product``: the registered product with this GTIN (name, brand, model, category);
* ``producer``: its producer's name and region, its public credit grade and date and whether it is on a
  public list (``credit.query.public_file_for_uscc``: only its ``grade`` and ``lists`` are read — never
  the internal risk class, score or records);
* ``spot_checks``: the product's published spot-check results (``inspection.publication.public_results``,
  the same rule as the spot-check portal): date, verdict, failing item names, whether the sampled batch is
  the one looked up;
* ``recalls``: published recalls covering this GTIN + batch, from ``trace.recalls.recall_status_for`` (the
  one rule: the plan names this GTIN + batch, or the GTIN alone for every batch), ``coverage`` "covered".
  A GTIN looked up without its batch also lists published recalls of some of its batches
  (``recalls.public_recalls``), ``coverage`` "some_batches" with those batches, so the shopper can check
  the batch number on the package. ``consumer_advice`` is what the plan says consumers should do
  (``recalls.consumer_advice``: for a recall filed before the plan had it, advice from the remedy);
* ``chain``: a summary of the batch's supply chain from the backward and forward traces.

What a consumer sees of the chain (a decision, documented here): the places where the goods were made
and processed (production and processing locations) with the entity's name, the region and the first
date — these are the producer's own facts a label also states; of the places downstream (warehouses,
distributors, shops) only how many there are of each kind and the regions they are in. No quantities
and no shop names: a distribution network and stock levels are the businesses' commercial information,
and a shopper verifying a product needs the origin, not the competitors' outlets.

Queries are bounded: one for the product, three for the credit file, one for spot checks, one or two for
recalls, one for the places' kinds and the two traces (four per step, at most ``CHAIN_MAX_DEPTH`` steps
each, whatever the number of shops).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from qualitygov.credit import query as credit_query
from qualitygov.inspection import publication
from qualitygov.inspection.models import Sample
from qualitygov.registry.models import Product
from qualitygov.trace import identifiers, recalls, tracing
from qualitygov.trace.models import Location

__all__ = ["CHAIN_MAX_DEPTH", "CHAIN_MAX_NODES", "LookupFailed", "lookup"]

# A consumer page must stay fast: a real chain is a handful of steps deep.
CHAIN_MAX_DEPTH = 12
CHAIN_MAX_NODES = 2000
SPOT_CHECK_LIMIT = 10
UPSTREAM_KINDS = (Location.Kind.PRODUCTION, Location.Kind.PROCESSING)
# Downstream kinds counted (warehouses count with the distributors: both pass goods on).
COUNTED = {"distributors": (Location.Kind.DISTRIBUTION, Location.Kind.WAREHOUSE),
           "retailers": (Location.Kind.RETAIL,), "others": (Location.Kind.OTHER,)}
PREFIX = f"https://{identifiers.DIGITAL_LINK_HOST}/01/"


class LookupFailed(Exception):
    """A lookup without a result: ``status`` 400 (the code cannot be read, or is not a product's) or
    404 (no registered product has this GTIN); ``code`` stable, ``message`` plain Chinese."""

    def __init__(self, status: int, code: str, message: str, **details):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def parse(text: str) -> identifiers.GS1Key:
    """The trade item key of what the consumer typed or scanned; ``LookupFailed`` (400) otherwise."""
    try:
        key = identifiers.parse_lookup_code(text)
    except identifiers.IdentifierError as error:
        raise LookupFailed(400, error.code, error.message, **error.details) from error
    if not key.gtin:
        raise LookupFailed(400, "not_a_product", _(
            "这不是商品的条码：请输入商品包装上条码下方的数字（可在后面空一格加批号），或扫描包装上的二维码。"))
    return key


def lookup(text: str) -> dict:
    """Everything public about the product ``text`` identifies (see the module docstring)."""
    key = parse(text)
    product = (Product.objects.select_related("producer__region", "category")
               .filter(gtin=key.gtin).first())
    if product is None:
        raise LookupFailed(404, "not_registered", _(
            "商品条码 %(gtin)s 的产品未在本平台登记，无法提供该产品的质量信息。") % {"gtin": key.gtin}, gtin=key.gtin)
    producer = product.producer
    return {
        "code": {"input": text, "identifier": key.canonical, "gtin": key.gtin, "batch": key.batch,
                 "serial": key.serial, "dates": key.attribute_dates()},
        "product": {"name": product.name, "brand": product.brand, "model": product.model,
                    "category": product.category.name, "category_code": product.category_id,
                    "gtin": product.gtin, "gtin_display": product.gtin_display},
        "producer": _producer(producer),
        "spot_checks": _spot_checks(product, key.batch),
        "recalls": _recalls(key),
        "chain": _chain(key),
    }


def _producer(producer) -> dict:
    out = {"name": producer.name, "uscc": producer.uscc,
           "region": producer.region.name if producer.region_id else "",
           "grade": None, "grade_as_of": None, "grade_label": _("尚未评级"), "lists": []}
    try:
        file = credit_query.public_file_for_uscc(producer.uscc)
    except credit_query.QueryRefused:
        file = None  # a legacy registry row with a malformed USCC: shown ungraded rather than failing the page
    if file is not None:
        # Only the grade and the public lists: the file's other parts are for the credit portal.
        out.update(grade=file["grade"]["grade"], grade_as_of=file["grade"]["as_of"],
                   grade_label=file["grade"]["label"],
                   lists=[{"kind": e["kind"], "kind_label": e["kind_label"], "listed_on": e["listed_on"]}
                          for e in file["lists"]])
    return out


def _failing_names(sample: Sample) -> list[str]:
    return [item.get("name") or item.get("code", "") for item in sample.failing_items or []]


def _spot_checks(product: Product, batch: str) -> list[dict]:
    samples = publication.public_results().filter(product=product).order_by("-sampled_on", "number")
    return [{"number": s.number, "sampled_on": s.sampled_on.isoformat(),
             "published_on": s.published_on.isoformat() if s.published_on else None,
             "outcome": s.outcome, "refused": s.outcome == Sample.Outcome.REFUSED,
             "verdict": s.verdict, "verdict_label": s.get_verdict_display() if s.verdict else "",
             "batch_number": s.batch_number, "same_batch": bool(batch) and s.batch_number == batch,
             "failing_items": _failing_names(s)}
            for s in samples[:SPOT_CHECK_LIMIT]]


def _recalls(key: identifiers.GS1Key) -> list[dict]:
    """Published recalls covering this GTIN + batch (``recalls.recall_status_for``, the one rule), and for a
    GTIN looked up without its batch also the recalls of some of its batches, so the shopper checks the
    batch number on the package."""
    gtin_link = PREFIX + key.gtin
    covered = recalls.recall_status_for(key.gtin, key.batch or None)
    found = [(recall, "covered") for recall in covered]
    if not key.batch:
        seen = {recall.pk for recall in covered}
        found += [(recall, "some_batches") for recall in recalls.public_recalls().filter(batches__icontains=key.gtin)
                  if recall.pk not in seen and any(b.startswith(gtin_link + "/10/") for b in recall.batches or [])]
    return [{"number": recall.number, "kind": recall.kind, "kind_label": str(recall.get_kind_display()),
             "status": recall.status, "status_label": str(recall.get_status_display()),
             "hazard": recall.hazard, "remedy": recall.remedy, "consumer_advice": recalls.consumer_advice(recall),
             "coverage": coverage,
             "batches": [b.removeprefix(gtin_link + "/10/") for b in recall.batches or []
                         if b.startswith(gtin_link + "/10/")],
             "published_on": recall.published_on.isoformat() if recall.published_on else None}
            for recall, coverage in found]


def _chain(key: identifiers.GS1Key) -> dict:
    """The public summary of the batch's chain, or why there is none."""
    if not key.batch and not key.serial:
        return {"available": False, "reason": "batch_required",
                "message": _("输入批号（条码后空一格加批号）或扫描包装上的二维码，可查看该批次的来源和流向。")}
    start = key.class_key().canonical if key.batch else key.canonical
    results = []
    for text, direction in ((key.canonical, tracing.BACKWARD), (start, tracing.FORWARD)):
        try:
            results.append(tracing.trace(text, direction, user=None, max_depth=CHAIN_MAX_DEPTH,
                                         max_nodes=CHAIN_MAX_NODES))
        except tracing.TraceError as error:
            if error.code != "not_found":
                return {"available": False, "reason": error.code, "message": error.message}
    if not results:
        return {"available": False, "reason": "not_found", "message": _("该批次暂无追溯记录。")}
    places: dict[str, dict] = {}
    for result in results:
        first = {}
        for edge in result["edges"]:
            for end in (edge["from"], edge["to"]):
                first[end] = min(first.get(end, edge["time"]), edge["time"])
        for node in result["nodes"]:
            if node["kind"] != "location" or not node["gln"]:
                continue
            place = places.setdefault(node["gln"], {"gln": node["gln"], "name": node["location"],
                                                    "entity": node["entity"], "region": node["region"],
                                                    "since": None})
            when = first.get(node["id"])
            if when and (place["since"] is None or when < place["since"]):
                place["since"] = when
    kinds = dict(Location.objects.filter(gln__in=list(places)).values_list("gln", "kind"))
    labels = dict(Location.Kind.choices)
    upstream = []
    counts = {"producers": 0, "processors": 0, **{name: 0 for name in COUNTED}}
    regions: set[str] = set()
    for gln, place in places.items():
        kind = kinds.get(gln, Location.Kind.OTHER)
        if kind in UPSTREAM_KINDS:
            counts["producers" if kind == Location.Kind.PRODUCTION else "processors"] += 1
            upstream.append({"kind": kind, "kind_label": str(labels[kind]), "name": place["name"],
                             "entity": place["entity"], "region": place["region"],
                             "date": place["since"][:10] if place["since"] else None})
            continue
        for name, members in COUNTED.items():
            if kind in members:
                counts[name] += 1
        if place["region"]:
            regions.add(place["region"])
    upstream.sort(key=lambda p: (p["date"] or "9999", p["kind"] != Location.Kind.PRODUCTION, p["name"]))
    truncated = any(r["summary"]["truncated"] for r in results)
    return {"available": True, "upstream": upstream, "counts": counts, "regions": sorted(regions),
            "truncated": truncated}
