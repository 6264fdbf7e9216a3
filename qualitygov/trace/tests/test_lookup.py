"""The consumer lookup (issue 5, item 7): ``trace.lookup.lookup``, the /public/trace/ page and the GS1
Digital Link resolver at the site root, on the ginseng chain of ``chain.py`` (the processor in 南关区 makes
the registered product, batch PS2510, which went to one distributor and two shops), with a published
spot-check result of the product and a published recall of the batch."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.urls import reverse

from qualitygov.credit.models import EntityScore, Grade, RiskClass, ScoreModel
from qualitygov.inspection import followup, publication
from qualitygov.inspection.tests import fixtures as spot
from qualitygov.inspection.tests.fixtures import (
    TODAY,
    first_item_of_class,
    report,
    take_sample,
    task_for_entity,
)
from qualitygov.registry.models import Product
from qualitygov.trace import lookup
from qualitygov.trace.models import Recall
from qualitygov.trace.tests import chain

pytestmark = [pytest.mark.django_db]

# The spot-check world's fixture (inspection/tests/fixtures.py).
workflow = spot.workflow

PAGE = "/public/trace/"
BATCH_LINK = f"/01/{chain.PRODUCT_GTIN}/10/{chain.PRODUCT_BATCH}"
OTHER_BATCH = "PS2511"


def make_product(registry) -> Product:
    """The chain's finished product, registered by the processor (南关区 entity)."""
    return Product.objects.create(producer=registry["nanguan"]["entity"], name="人参切片", brand="长白参",
                                  model="100g/盒", category_id=registry["nanguan"]["product"].category_id,
                                  gtin=chain.PRODUCT_GTIN)


def publish_sample(workflow, product: Product, batch: str, failing: bool):
    """A published spot-check result of ``product``'s batch ``batch`` through the inspection services."""
    province = workflow.users["province"]
    sample = take_sample(workflow, task_for_entity(workflow, product.producer))
    codes = (first_item_of_class(sample.rule_version, "B"),) if failing else ()
    report(workflow, sample, failing=codes)
    sample.refresh_from_db()
    followup.notify_result(sample, user=province, on=TODAY - dt.timedelta(days=40))
    followup.acknowledge_receipt(sample, user=province, on=TODAY - dt.timedelta(days=40))
    # The sampler names the registered product and the batch on the sampling form.
    type(sample).objects.filter(pk=sample.pk).update(product=product, batch_number=batch)
    assert publication.publish_due(TODAY)["published"] >= 1
    sample.refresh_from_db()
    return sample


ADVICE = "立即停止食用，凭包装到原购买门店退货退款"


def make_recall(product: Product, batches: list[str], *, published: bool = True, number: str = "ZH2025001",
                advice: str = ADVICE) -> Recall:
    """A recall in progress; ``advice`` "" is one filed before the plan said what consumers should do."""
    return Recall.objects.create(
        number=number, producer=product.producer, product=product, kind=Recall.Kind.VOLUNTARY,
        status=Recall.Status.IN_PROGRESS, hazard="部分产品霉变", aware_on=dt.date(2025, 11, 3),
        reported_on=dt.date(2025, 11, 4), remedy="退货退款", consumer_advice=advice, batches=batches,
        published=published, published_on=dt.date(2025, 11, 10) if published else None)


@pytest.fixture
def world(workflow, registry):
    """The chain, the registered product, one failing published sample of the looked-up batch, the
    producer's public grade, and a published recall of the batch (plus an unpublished one)."""
    places = chain.build_chain(registry)
    product = make_product(registry)
    sample = publish_sample(workflow, product, chain.PRODUCT_BATCH, failing=True)
    model = ScoreModel.objects.create(version="lookup-t1", points={}, half_life_days={}, grade_thresholds=[],
                                      risk_thresholds=[], status=ScoreModel.Status.ACTIVE)
    EntityScore.objects.update_or_create(entity=product.producer, defaults={
        "model": model, "score": "71.50", "grade": Grade.B, "risk_class": RiskClass.D, "as_of": dt.date(2025, 12, 1)})
    recall = make_recall(product, [chain.PRODUCT_CLASS])
    hidden = make_recall(product, [f"https://id.gs1.org/01/{chain.PRODUCT_GTIN}/10/{OTHER_BATCH}"],
                         published=False, number="ZH2025002")
    return {"places": places, "product": product, "sample": sample, "recall": recall, "hidden": hidden}


def test_lookup_of_a_batch(world):
    result = lookup.lookup(f"{chain.PRODUCT_GTIN[1:]} {chain.PRODUCT_BATCH}")
    product, sample = world["product"], world["sample"]
    assert result["product"]["name"] == product.name and result["product"]["brand"] == product.brand
    assert result["product"]["model"] == product.model and result["product"]["category"] == product.category.name
    producer = result["producer"]
    assert producer["name"] == product.producer.name
    assert (producer["grade"], producer["grade_as_of"]) == ("B", "2025-12-01")
    [check] = result["spot_checks"]
    assert check["number"] == sample.number and check["verdict"] == sample.verdict != "no_nonconformity"
    assert check["same_batch"] is True
    assert check["failing_items"] == [item["name"] for item in sample.failing_items]
    [recall] = result["recalls"]
    assert recall["number"] == world["recall"].number and recall["coverage"] == "covered"
    assert recall["consumer_advice"] == ADVICE and recall["remedy"] == world["recall"].remedy
    summary = result["chain"]
    assert summary["available"] is True
    upstream = [(p["kind"], p["name"]) for p in summary["upstream"]]
    assert upstream == [("production", chain.PLACES["producer"][4]), ("processing", chain.PLACES["processor"][4])]
    assert summary["counts"]["distributors"] == 1
    assert summary["counts"]["retailers"] == len(chain.RETAIL_BOXES)
    assert set(summary["regions"]) == {"朝阳区", "宽城区", "延吉市"}


def test_other_forms_of_the_code_give_the_same_product(world):
    for code in (f"(01){chain.PRODUCT_GTIN}(10){chain.PRODUCT_BATCH}", chain.PRODUCT_CLASS + "?17=261231",
                 chain.SOLD_ITEM):
        result = lookup.lookup(code)
        assert result["product"]["name"] == world["product"].name, code
        assert [r["number"] for r in result["recalls"]] == [world["recall"].number], code
    assert lookup.lookup(chain.PRODUCT_CLASS + "?17=261231")["code"]["dates"] == {"17": "2026-12-31"}


def test_recall_coverage_by_batch(world):
    # Another batch of the product: the published recall is of PS2510 only; the PS2511 one is unpublished.
    other = lookup.lookup(f"{chain.PRODUCT_GTIN} {OTHER_BATCH}")
    assert other["recalls"] == []
    assert other["spot_checks"][0]["same_batch"] is False
    # The GTIN alone: the recall of some batches is shown with its batches.
    [partial] = lookup.lookup(chain.PRODUCT_GTIN)["recalls"]
    assert partial["coverage"] == "some_batches" and partial["batches"] == [chain.PRODUCT_BATCH]
    # A recall of every batch (the GTIN alone in its batches) covers any batch.
    make_recall(world["product"], [f"https://id.gs1.org/01/{chain.PRODUCT_GTIN}"], number="ZH2025003")
    assert {r["number"] for r in lookup.lookup(f"{chain.PRODUCT_GTIN} {OTHER_BATCH}")["recalls"]} == {"ZH2025003"}


def test_recall_advice_on_the_page_and_the_fallback_for_older_recalls(world, client):
    """The lookup shows the plan's advice; a recall filed before the plan had it (empty advice) shows
    advice built from its remedy instead, so the shopper is still told to stop using the product."""
    code = {"code": f"{chain.PRODUCT_GTIN} {chain.PRODUCT_BATCH}"}
    section = re.search(r'<section id="recalls".*?</section>', client.get(PAGE, code).content.decode(), re.S)
    assert section and ADVICE in section.group(0)
    Recall.objects.filter(pk=world["recall"].pk).update(consumer_advice="")
    [older] = lookup.lookup(code["code"])["recalls"]
    assert "停止使用" in older["consumer_advice"] and "退货退款" in older["consumer_advice"]
    assert ADVICE not in older["consumer_advice"]
    section = re.search(r'<section id="recalls".*?</section>', client.get(PAGE, code).content.decode(), re.S)
    assert section and older["consumer_advice"] in section.group(0) and ADVICE not in section.group(0)


def test_a_gtin_without_batch_has_no_chain_and_an_unknown_batch_has_no_records(world):
    chain_part = lookup.lookup(chain.PRODUCT_GTIN)["chain"]
    assert chain_part["available"] is False and chain_part["reason"] == "batch_required" and "批号" in chain_part["message"]
    unknown = lookup.lookup(f"{chain.PRODUCT_GTIN} {OTHER_BATCH}")["chain"]
    assert unknown["available"] is False and unknown["reason"] == "not_found"


@pytest.mark.parametrize(("code", "status", "error"), [
    ("", 400, "empty"),
    ("6901234000024", 400, "check_digit"),
    ("hello world", 400, "unrecognised_format"),
    (chain.CASE, 400, "not_a_product"),
    ("6901234000047", 404, "not_registered"),
])
def test_failures_are_explained(world, code, status, error):
    with pytest.raises(lookup.LookupFailed) as failed:
        lookup.lookup(code)
    assert (failed.value.status, failed.value.code) == (status, error)
    assert any("\u4e00" <= c <= "\u9fff" for c in failed.value.message)


def test_the_page_on_a_phone_shows_the_public_parts_only(world, client):
    response = client.get(PAGE, {"code": f"{chain.PRODUCT_GTIN[1:]} {chain.PRODUCT_BATCH}"})
    assert response.status_code == 200
    body = response.content.decode()
    sample = world["sample"]
    for text in (world["product"].name, world["product"].producer.name, 'id="qg-grade">B<', world["recall"].number, "部分产品霉变",
                 sample.failing_items[0]["name"], chain.PLACES["producer"][4], chain.PLACES["processor"][4],
                 "宽城区", 'name="viewport"'):
        assert text in body, text
    # Not for the public: the internal risk class, the shops' names and the quantities they hold.
    assert str(RiskClass.D.label) not in body and "风险" not in body
    for shop in ("shop_kuancheng", "shop_yanji"):
        assert chain.PLACES[shop][4] not in body and world["places"][shop].name not in body
    for quantity in (*chain.RETAIL_BOXES.values(), chain.PRODUCED_BOXES, chain.RAW_KG):
        assert not re.search(rf"(?<![\d-]){quantity}(?!\d)", body), quantity
    assert world["hidden"].number not in body
    empty = client.get(PAGE)
    assert empty.status_code == 200 and 'name="code"' in empty.content.decode()


def test_page_errors(world, client):
    bad = client.get(PAGE, {"code": "6901234000024"})
    assert bad.status_code == 400 and "校验位" in bad.content.decode()
    unknown = client.get(PAGE, {"code": "6901234000047"})
    assert unknown.status_code == 404 and "未在本平台登记" in unknown.content.decode()


@pytest.mark.parametrize("path", [
    f"/01/{chain.PRODUCT_GTIN}", f"/01/{chain.PRODUCT_GTIN}/", BATCH_LINK, BATCH_LINK + "/",
    f"/01/{chain.PRODUCT_GTIN}/21/0001", f"{BATCH_LINK}/21/0001/", f"/01/{chain.PRODUCT_GTIN[1:]}/10/{chain.PRODUCT_BATCH}",
])
def test_the_digital_link_resolver(world, client, path):
    response = client.get(path, {"17": "261231"})
    assert response.status_code == 200, path
    body = response.content.decode()
    assert world["product"].name in body and world["product"].producer.name in body
    if "/10/" in path:
        assert world["recall"].number in body and "2026-12-31" in body


def test_resolver_names_and_errors(world, client):
    assert reverse("gs1-resolver:batch", kwargs={"gtin": chain.PRODUCT_GTIN, "batch": "X"}) == \
        f"/01/{chain.PRODUCT_GTIN}/10/X"
    unknown = client.get("/01/06901234000047/10/A1")
    assert unknown.status_code == 404
    assert "该产品未在本平台登记" in unknown.content.decode() and "06901234000047" in unknown.content.decode()
    bad = client.get("/01/06901234000024")
    assert bad.status_code == 400 and "校验位" in bad.content.decode()
    bad_date = client.get(BATCH_LINK, {"17": "269931"})
    assert bad_date.status_code == 400


def test_resolver_linkset(world, client):
    response = client.get(BATCH_LINK, {"linkType": "all"})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/linkset+json")
    [links] = json.loads(response.content)["linkset"]
    assert links["anchor"] == chain.PRODUCT_CLASS
    page = links["https://gs1.org/voc/pip"][0]["href"]
    assert page.startswith("http://testserver/public/trace/?code=")
    assert "https://gs1.org/voc/recallStatus" in links and "https://gs1.org/voc/certificationInfo" in links
    assert client.get("/01/06901234000047", {"linkType": "all"}).status_code == 404


def _more_shops(entity, count: int, first: int = 0) -> None:
    """``count`` more shops of ``entity`` in 宽城区 (numbered from ``first``), each sent one box of the
    batch by the distributor."""
    from qualitygov.trace import capture
    from qualitygov.trace.models import Location

    events = []
    for number in range(first, first + count):
        ref = f"{100 + number:05d}"
        Location.objects.create(gln=chain._check(chain.COMPANY + ref), entity=entity, name=f"新增门店{number}",
                                kind=Location.Kind.RETAIL, region_id="220103")
        shop = f"urn:epc:id:sgln:{chain.COMPANY}.{ref}.0"
        events.append({
            "type": "ObjectEvent", "eventTime": "2025-10-16T09:00:00.000+08:00", "eventTimeZoneOffset": "+08:00",
            "action": "OBSERVE", "bizStep": "shipping", "epcList": [],
            "quantityList": [{"epcClass": chain.PRODUCT_CLASS, "quantity": 1, "uom": "H87"}],
            "bizLocation": {"id": chain._sgln("distributor")},
            "sourceList": [{"type": "location", "source": chain._sgln("distributor")}],
            "destinationList": [{"type": "location", "destination": shop}]})
    doc = {**chain.document(), "epcisBody": {"eventList": events}}
    job = capture.capture_document(doc, now=dt.datetime(2025, 12, 1, tzinfo=dt.UTC))
    assert job.captured_count == count, job.errors


def _queries_of(client, code: dict) -> tuple[int, object]:
    """How many queries the lookup page of ``code`` runs, and its response."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(PAGE, code)
    assert response.status_code == 200
    return len(captured.captured_queries), response


def test_the_number_of_queries_does_not_grow_with_the_shops(world, client, django_assert_max_num_queries):
    """What a busy chain relies on: the page's queries are set-based — the same number for the chain's
    shops as for 30 and 60 more (the absolute number depends on the database's per-query setup)."""
    code = {"code": f"{chain.PRODUCT_GTIN} {chain.PRODUCT_BATCH}"}
    client.get(PAGE, code)  # once before measuring: a first request may set the connection up
    shop = world["places"]["shop_kuancheng"]
    counts = []
    for added in (0, 30, 60):
        if added:
            _more_shops(shop, 30, first=added - 30)
        queries, response = _queries_of(client, code)
        assert response.context["result"]["chain"]["counts"]["retailers"] == len(chain.RETAIL_BOXES) + added
        counts.append(queries)
    assert counts[1] <= counts[0] and counts[2] <= counts[0], counts
    # Without a batch there is no trace: product 1, credit file 3, spot checks 1, recalls 2.
    with django_assert_max_num_queries(7):
        assert client.get(PAGE, {"code": chain.PRODUCT_GTIN}).status_code == 200
