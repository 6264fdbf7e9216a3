"""The credit dashboard in a real browser (issue 4 item 8): a province officer opens it, sees the grade
distribution chart and the Jilin map drawn from the platform's own ECharts and GeoJSON, clicks 长春 on
the map to drill into its counties, and downloads a table; a county officer sees only its county, and an
enterprise user is refused."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from qualitygov.credit.models import EntityScore, ScoreModel

pytestmark = pytest.mark.browser


@pytest.fixture
def graded(registry):
    model = ScoreModel.objects.create(version="browser-dash", points={}, half_life_days={"*": 365},
                                      grade_thresholds=[["AAA", 100]], risk_thresholds=[["A", 100]])
    grades = {"nanguan": "A", "chaoyang": "C", "yanji": "D"}
    EntityScore.objects.bulk_create([
        EntityScore(entity=registry[key]["entity"], model=model, as_of=dt.date(2026, 6, 1), score=75, grade=grade,
                    risk_class="C") for key, grade in grades.items()])
    return grades


def test_dashboard_map_drill_and_export(signed_in, new_context, live_server, users, graded):
    officer = signed_in(users["province"])
    errors = []
    officer.on("pageerror", lambda error: errors.append(str(error)))
    officer.goto(live_server.url + reverse("credit:dashboard"))
    assert officer.inner_text("#qg-cd-total") == "3"
    officer.wait_for_selector("#qg-cd-chart[data-ready='1']")
    officer.wait_for_selector("#qg-cd-map[data-ready='1']")
    region_rows = officer.locator("#qg-cd-region-table tbody tr")
    assert sorted(region_rows.all_inner_texts()) and region_rows.count() == 2  # 长春市 and 延边州
    assert "风险分类分布" in officer.inner_text("#qg-cd-risk")

    # Click 长春 on the map: the page again, drilled into 长春's counties.
    box = officer.locator("#qg-cd-map canvas").first.bounding_box()
    assert box is not None
    point = officer.evaluate("""() => {
        const chart = echarts.getInstanceByDom(document.getElementById('qg-cd-map'));
        return chart.convertToPixel({seriesIndex: 0}, [125.32, 43.82]);
    }""")  # 长春's urban area (longitude, latitude)
    with officer.expect_navigation():
        officer.mouse.click(box["x"] + point[0], box["y"] + point[1])
    assert "region=220100" in officer.url
    assert officer.inner_text("#qg-cd-total") == "2"
    texts = officer.locator("#qg-cd-region-table tbody tr th").all_inner_texts()
    assert sorted(texts) == ["南关区", "朝阳区"]

    # Download the drilled region table as CSV.
    with officer.expect_download() as info:
        officer.click("[data-export='grades-region-csv']")
    rows = list(csv.reader(io.StringIO(open(info.value.path(), encoding="utf-8-sig").read())))
    assert rows[0][0] == "区划" and rows[-1][0] == "合计" and rows[-1][1] == "2"
    assert not errors, errors

    # A county officer: its county only; an enterprise user: refused.
    county = signed_in(users["nanguan"], new_context())
    county.goto(live_server.url + reverse("credit:dashboard"))
    assert county.inner_text("#qg-cd-total") == "1"
    assert county.locator("#qg-cd-region-table tbody tr th").all_inner_texts() == ["南关区"]
    company = signed_in(users["enterprise"], new_context())
    response = company.goto(live_server.url + reverse("credit:dashboard"))
    assert response.status == 403
