"""The trace page in a real browser (issue 5 item 5): a province officer types a batch as GTIN space
batch, traces it forward, sees the graph drawn by the platform's own ECharts and the two shops with
their quantities and downloads the holders table; then traces a sold item backward to the
producer. A county officer of 南关区 tracing the same batch is told the chain leaves its scope."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from qualitygov.trace.tests import chain

pytestmark = pytest.mark.browser


def test_trace_forward_backward_and_scope(signed_in, new_context, live_server, users, registry):
    entities = chain.build_chain(registry)
    officer = signed_in(users["province"])
    errors = []
    officer.on("pageerror", lambda error: errors.append(str(error)))
    officer.goto(live_server.url + reverse("trace:trace"))
    officer.fill("#id_id", f"{chain.RAW_GTIN[1:]} {chain.RAW_BATCH}")
    officer.select_option("#id_direction", "forward")
    with officer.expect_navigation():
        officer.click("#qg-trace-submit")
    officer.wait_for_selector("#qg-trace-graph[data-ready='1']")
    assert officer.locator("#qg-trace-graph canvas").count() >= 1
    for shop, boxes in chain.RETAIL_BOXES.items():
        row = officer.locator(f"#qg-trace-holders tr[data-gln='{chain.gln(shop)}']")
        assert entities[shop].name in row.inner_text()
        assert row.locator(".qg-qty").inner_text() == str(boxes)

    with officer.expect_download() as info:
        officer.click("#qg-trace-export-holders")
    rows = list(csv.reader(io.StringIO(open(info.value.path(), encoding="utf-8-sig").read())))
    shops = {row[0]: int(row[8]) for row in rows[1:] if row[0] in {chain.gln(s) for s in chain.RETAIL_BOXES}}
    assert shops == {chain.gln(s): n for s, n in chain.RETAIL_BOXES.items()}

    officer.fill("#id_id", chain.SOLD_ITEM)
    officer.select_option("#id_direction", "backward")
    with officer.expect_navigation():
        officer.click("#qg-trace-submit")
    officer.wait_for_selector("#qg-trace-graph[data-ready='1']")
    producer = officer.locator(f"#qg-trace-holders tr[data-gln='{chain.gln('producer')}']")
    # The producer made the raw batch and shipped the case it was packed in: two rows.
    assert producer.count() == 2 and entities["producer"].name in producer.first.inner_text()
    assert "来源汇总" in officer.inner_text("body")
    assert not errors, errors

    county = signed_in(users["nanguan"], new_context())
    county.goto(live_server.url + reverse("trace:trace") + f"?id={chain.RAW_GTIN}%20{chain.RAW_BATCH}&direction=forward")
    assert county.locator("#qg-trace-scope").is_visible()
    assert county.locator(f"#qg-trace-holders tr[data-gln='{chain.gln('shop_yanji')}']").count() == 0
    distributor = county.locator(f"#qg-trace-holders tr[data-gln='{chain.gln('distributor')}']")
    assert "辖区外位置" in distributor.inner_text()
