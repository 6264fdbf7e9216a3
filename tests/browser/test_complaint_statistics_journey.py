"""Complaint statistics in a real browser (issue 6 item 8): a province officer opens the statistics,
filters May 2026, sees the trend, the category chart and the Jilin map drawn by the platform's own
ECharts and GeoJSON, clicks 长春 on the map to see its counties, downloads the unit table and publishes
the month; then a citizen on a phone opens the public monthly summary. A county officer sees only its
county; an enterprise user is refused."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from qualitygov.complaints.models import MonthlySummary
from qualitygov.complaints.tests.test_statistics import PENALISED_RESPONDENT, REPORTER_NAME, build_cases

pytestmark = pytest.mark.browser


def filter_may(page):
    page.select_option("#id_period", "custom")
    page.fill("#id_start", "2026-05-01")
    page.fill("#id_end", "2026-05-31")
    with page.expect_navigation():
        page.click("#qg-cs-filter button[type='submit']")


def test_statistics_filter_map_export_publish_and_public_summary(signed_in, new_context, live_server, users):
    build_cases()
    officer = signed_in(users["province"])
    errors = []
    officer.on("pageerror", lambda error: errors.append(str(error)))
    officer.goto(live_server.url + reverse("complaints:stats-dashboard"))
    filter_may(officer)
    assert officer.inner_text("#qg-cs-total") == "7"
    assert officer.inner_text("#qg-cs-accept-share") == "75.0%"
    officer.wait_for_selector("#qg-cs-trend[data-ready='1']")
    officer.wait_for_selector("#qg-cs-category[data-ready='1']")
    officer.wait_for_selector("#qg-cs-map[data-ready='1']")
    assert officer.locator("#qg-cs-city-table tbody tr").count() == 2  # 长春市 and 延边州

    # Filter tip-offs only, then back to both kinds.
    officer.select_option("#id_kind", "tip_off")
    with officer.expect_navigation():
        officer.click("#qg-cs-filter button[type='submit']")
    assert officer.inner_text("#qg-cs-total") == "2"
    officer.select_option("#id_kind", "")
    with officer.expect_navigation():
        officer.click("#qg-cs-filter button[type='submit']")
    officer.wait_for_selector("#qg-cs-map[data-ready='1']")

    # Click 长春 on the map: the page again, drilled into 长春's counties, May still selected.
    box = officer.locator("#qg-cs-map canvas").first.bounding_box()
    assert box is not None
    point = officer.evaluate("""() => {
        const chart = echarts.getInstanceByDom(document.getElementById('qg-cs-map'));
        return chart.convertToPixel({seriesIndex: 0}, [125.32, 43.82]);
    }""")  # 长春's urban area (longitude, latitude)
    with officer.expect_navigation():
        officer.mouse.click(box["x"] + point[0], box["y"] + point[1])
    assert "region=220100" in officer.url and "start=2026-05-01" in officer.url
    assert officer.inner_text("#qg-cs-total") == "5"
    assert sorted(officer.locator("#qg-cs-unit-table tbody tr th").all_inner_texts()) == ["南关区", "朝阳区"]

    with officer.expect_download() as info:
        officer.click("[data-export='unit-csv']")
    rows = list(csv.reader(io.StringIO(open(info.value.path(), encoding="utf-8-sig").read())))
    assert rows[0][0] == "承办单位" and rows[-1][:2] == ["合计", "5"]
    assert REPORTER_NAME not in officer.content()

    # Publish May 2026.
    officer.fill("#qg-cs-publish-month", "2026-05")
    with officer.expect_navigation():
        officer.click("#qg-cs-publish button[type='submit']")
    assert "已发布 2026-05 投诉举报月度统计" in officer.inner_text("body")
    assert MonthlySummary.objects.get().data["totals"]["count"] == 7
    officer.fill("#qg-cs-publish-month", "2026-05")
    with officer.expect_navigation():
        officer.click("#qg-cs-publish button[type='submit']")
    assert "已经发布，不能重复发布" in officer.inner_text("body")
    assert not errors, errors

    # A citizen on a phone: the list of months, then May with its charts; no reporter anywhere.
    phone = new_context()
    citizen = phone.new_page()
    citizen.set_viewport_size({"width": 390, "height": 844})
    citizen.on("pageerror", lambda error: errors.append(str(error)))
    citizen.goto(live_server.url + reverse("complaints-public:stats-summary-list"))
    with citizen.expect_navigation():
        citizen.click("[data-month='2026-05']")
    assert citizen.inner_text("#qg-cs-total") == "7"
    citizen.wait_for_selector("#qg-cs-map[data-ready='1']")
    citizen.wait_for_selector("#qg-cs-category[data-ready='1']")
    body = citizen.inner_text("body")
    assert PENALISED_RESPONDENT in body and REPORTER_NAME not in body
    assert citizen.evaluate("document.documentElement.scrollWidth") <= 390 + 1  # no sideways scrolling
    assert not errors, errors

    # A county officer: its county only; an enterprise user: refused.
    county = signed_in(users["nanguan"], new_context())
    county.goto(live_server.url + reverse("complaints:stats-dashboard"))
    filter_may(county)
    assert county.inner_text("#qg-cs-total") == "3"
    assert county.locator("#qg-cs-unit-table tbody tr th").all_inner_texts() == ["南关区"]
    assert county.locator("#qg-cs-publish").count() == 0
    company = signed_in(users["enterprise"], new_context())
    response = company.goto(live_server.url + reverse("complaints:stats-dashboard"))
    assert response.status == 403
