"""The trace page (``trace:trace``) and its CSV downloads (``trace:trace_export``), issue 5 item 5."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.urls import reverse

from qualitygov.trace.tests import chain

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def ginseng(registry):
    return chain.build_chain(registry)


def test_the_empty_form_renders(users, client):
    client.force_login(users["province"])
    response = client.get(reverse("trace:trace"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="qg-trace-form"' in html and "追溯方向" in html
    assert 'id="qg-trace-graph"' not in html


def test_a_forward_trace_shows_graph_holders_and_downloads(ginseng, users, client):
    client.force_login(users["province"])
    response = client.get(reverse("trace:trace"), {"id": chain.RAW_CLASS, "direction": "forward"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="qg-trace-graph"' in html and "vendor/echarts/echarts.min.js" in html and "trace/trace.js" in html
    assert "cdn" not in html.lower()
    graph = json.loads(html.split('id="qg-trace-data" type="application/json">')[1].split("</script>")[0])
    assert graph["start"] == chain.RAW_CLASS
    assert {n["id"] for n in graph["nodes"]} == {n["id"] for n in response.context["result"]["nodes"]}
    for shop in chain.RETAIL_BOXES:
        assert f'data-gln="{chain.gln(shop)}"' in html
        assert ginseng[shop].name in html
    # Download links carry the query; the CSV holds the shops with their quantities.
    export = reverse("trace:trace_export", args=["holders"])
    assert f'{export}?id=' in html
    download = client.get(export, {"id": chain.RAW_CLASS, "direction": "forward"})
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    quantities = {row[0]: int(row[8]) for row in rows[1:] if row[4].endswith(chain.PRODUCT_BATCH)}
    assert quantities == {chain.gln("distributor"): chain.PRODUCED_BOXES,
                          **{chain.gln(s): n for s, n in chain.RETAIL_BOXES.items()}}
    edges = client.get(reverse("trace:trace_export", args=["edges"]), {"id": chain.RAW_CLASS})
    assert len(list(csv.reader(io.StringIO(edges.content.decode("utf-8-sig"))))) - 1 == len(
        response.context["result"]["edges"])


def test_errors_are_shown_on_the_form(ginseng, users, client):
    client.force_login(users["enterprise"])
    response = client.get(reverse("trace:trace"), {"id": "06901234000016", "direction": "forward"})
    assert response.status_code == 400
    assert "请同时输入批号" in response.content.decode()
    response = client.get(reverse("trace:trace"), {"id": f"{chain.RAW_GTIN} NOPE1", "direction": "forward"})
    assert response.status_code == 400 and "未找到" in response.content.decode()
    bad = client.get(reverse("trace:trace_export", args=["holders"]), {"id": "hello"})
    assert bad.status_code == 400 and "未导出" in bad.content.decode()
    assert client.get(reverse("trace:trace_export", args=["nodes"]), {"id": chain.RAW_CLASS}).status_code == 404


def test_a_capped_trace_says_so(ginseng, users, client):
    client.force_login(users["admin"])
    response = client.get(reverse("trace:trace"), {"id": chain.RAW_CLASS, "direction": "forward", "max_depth": 1})
    assert response.status_code == 200
    assert 'id="qg-trace-truncated"' in response.content.decode() and "1 层" in response.content.decode()


def test_forward_trace_of_a_batch_offers_officers_to_start_a_recall(ginseng, users, client):
    """An officer looking at where a batch went can start a recall of it (the recall form opens with the
    batch); a backward trace and a user who cannot start recalls get no such button."""
    client.force_login(users["province"])
    page = client.get(reverse("trace:trace"), {"id": chain.RAW_CLASS, "direction": "forward"}).content.decode()
    assert 'id="qg-trace-start-recall"' in page
    assert f'{reverse("trace:recall_add")}?batch=https%3A//id.gs1.org/01/' in page
    backward = client.get(reverse("trace:trace"), {"id": chain.RAW_CLASS, "direction": "backward"})
    assert 'id="qg-trace-start-recall"' not in backward.content.decode()
    client.force_login(users["inspector"])
    response = client.get(reverse("trace:trace"), {"id": chain.RAW_CLASS, "direction": "forward"})
    assert response.status_code == 200 and 'id="qg-trace-holders"' in response.content.decode()
    assert 'id="qg-trace-start-recall"' not in response.content.decode()
