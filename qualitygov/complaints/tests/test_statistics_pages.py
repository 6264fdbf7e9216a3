"""The statistics page, its exports and the publication form (back office), and the public monthly summary
pages (issue 6 item 8), on the hand-computed fixture set of ``test_statistics``."""

from __future__ import annotations

import csv
import datetime as dt
import io
from unittest import mock

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from qualitygov.complaints.models import MonthlySummary
from qualitygov.complaints.tests.test_statistics import (
    PENALISED_RESPONDENT,
    REPORTER_NAME,
    UNVERIFIED_RESPONDENT,
    build_cases,
)

pytestmark = [pytest.mark.django_db]

MAY = {"period": "custom", "start": "2026-05-01", "end": "2026-05-31"}
TODAY = dt.date(2026, 6, 15)


@pytest.fixture
def cases(users):
    return build_cases()


@pytest.fixture
def today():
    """Pin "today" for the page code (overdue counts, months that may be published)."""
    with mock.patch("django.utils.timezone.localdate", return_value=TODAY):
        yield TODAY


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_page_shows_the_filtered_figures(cases, users, client, today):
    client.force_login(users["province"])
    response = client.get(reverse("complaints:stats-dashboard"), MAY)
    assert response.status_code == 200
    data = response.context["data"]
    assert data["totals"]["count"] == 7
    html = response.content.decode()
    assert 'id="qg-cs-total">7<' in html and 'id="qg-cs-accept-share">75.0%<' in html
    assert 'id="qg-cs-map"' in html and "vendor/echarts/echarts.min.js" in html and "complaints/statistics.js" in html
    assert REPORTER_NAME not in html
    tip_offs = client.get(reverse("complaints:stats-dashboard"), {**MAY, "kind": "tip_off"})
    assert tip_offs.context["data"]["totals"]["count"] == 2
    food = client.get(reverse("complaints:stats-dashboard"), {**MAY, "category": "food_safety"})
    assert food.context["data"]["totals"]["count"] == 1
    # The city table links each prefecture to its drill-down, keeping the filters.
    assert 'href="?period=custom&amp;start=2026-05-01&amp;end=2026-05-31&amp;region=222400"' in html
    drilled = client.get(reverse("complaints:stats-dashboard"), {**MAY, "region": "222400"})
    assert drilled.context["data"]["totals"]["count"] == 2
    # A county officer gets no drill-down links (its city is outside its scope).
    client.force_login(users["nanguan"])
    assert "region=220100" not in client.get(reverse("complaints:stats-dashboard"), MAY).content.decode()


def test_bad_filters_are_refused_in_chinese(cases, users, client, today):
    client.force_login(users["nanguan"])
    url = reverse("complaints:stats-dashboard")
    reversed_period = client.get(url, {"period": "custom", "start": "2026-05-31", "end": "2026-05-01"})
    assert reversed_period.status_code == 400 and "起始日期不能晚于截止日期" in reversed_period.content.decode()
    outside = client.get(url, {"region": "222401"})  # 延吉市 is outside 南关区
    assert outside.status_code == 400 and "该区划不在您的辖区内" in outside.content.decode()
    export = client.get(reverse("complaints:stats-export", args=["category", "csv"]),
                        {"period": "custom", "start": "2026-05-31", "end": "2026-05-01"})
    assert export.status_code == 400 and "筛选条件有误" in export.content.decode()
    assert client.get(reverse("complaints:stats-export", args=["category", "pdf"])).status_code == 400
    assert client.get(reverse("complaints:stats-export", args=["reporters", "csv"])).status_code == 404


def test_exports_csv_and_xlsx(cases, users, client, today):
    client.force_login(users["changchun"])
    response = client.get(reverse("complaints:stats-export", args=["unit", "csv"]), MAY)
    assert response.status_code == 200
    rows = csv_rows(response)
    assert rows[0] == ["承办单位", "件数", "投诉", "举报", "占比"]
    assert {r[0]: r[1] for r in rows[1:-1]} == {"南关区": "3", "朝阳区": "2"}
    assert rows[-1][:2] == ["合计", "5"]
    timeliness = csv_rows(client.get(reverse("complaints:stats-export", args=["timeliness", "csv"]), MAY))
    assert timeliness[1][0] == "受理或不予受理决定" and timeliness[1][3:5] == ["4", "3"]  # C1, C3, C7 on time, C2 late
    xlsx = client.get(reverse("complaints:stats-export", args=["satisfaction", "xlsx"]), MAY)
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    values = {row[0]: row[1] for row in sheet.iter_rows(values_only=True)}
    assert values["5 分"] == 1 and values["4 分"] == 1 and values["平均满意度"] == 4.5


def test_publish_from_the_page(cases, users, client, today):
    client.force_login(users["province"])
    page = client.get(reverse("complaints:stats-dashboard"))
    assert 'id="qg-cs-publish"' in page.content.decode()
    url = reverse("complaints:stats-publish")
    response = client.post(url, {"month": "2026-05"}, follow=True)
    assert "已发布 2026-05 投诉举报月度统计" in response.content.decode()
    assert MonthlySummary.objects.get().data["totals"]["count"] == 7
    again = client.post(url, {"month": "2026-05"}, follow=True)
    assert "已经发布，不能重复发布" in again.content.decode()
    unfinished = client.post(url, {"month": "2026-06"}, follow=True)
    assert "尚未结束" in unfinished.content.decode()
    garbage = client.post(url, {"month": "May"}, follow=True)
    assert "月份格式应为 YYYY-MM" in garbage.content.decode()
    assert MonthlySummary.objects.count() == 1
    # A city officer sees no publish form and may not post one.
    client.force_login(users["changchun"])
    assert 'id="qg-cs-publish"' not in client.get(reverse("complaints:stats-dashboard")).content.decode()
    assert client.post(url, {"month": "2026-04"}).status_code == 403
    assert MonthlySummary.objects.count() == 1


def test_public_list_and_month(cases, users, client, today):
    from qualitygov.complaints import statistics

    statistics.publish_month(users["province"], dt.date(2026, 5, 1), today=TODAY)
    client.logout()
    listing = client.get(reverse("complaints-public:stats-summary-list"))
    assert listing.status_code == 200
    assert 'data-month="2026-05"' in listing.content.decode()
    page = client.get(reverse("complaints-public:stats-summary-detail", args=[2026, 5]))
    html = page.content.decode()
    assert page.status_code == 200 and 'id="qg-cs-total">7<' in html
    assert PENALISED_RESPONDENT in html and UNVERIFIED_RESPONDENT not in html and REPORTER_NAME not in html
    assert 'id="qg-cs-map"' in html and "complaints/statistics.js" in html
    missing = client.get(reverse("complaints-public:stats-summary-detail", args=[2026, 4]))
    assert missing.status_code == 404
    assert client.get("/public/complaints/statistics/2026/13/").status_code == 404


def test_public_list_when_nothing_is_published(client, db):
    response = client.get(reverse("complaints-public:stats-summary-list"))
    assert response.status_code == 200 and "尚未发布月度统计" in response.content.decode()
