"""Roles × endpoints of complaint statistics (issue 6 item 8): the back-office page and exports, the JSON
API, publication, and the public summaries.

Statistics are read by those who may view cases (``CASE_ROLE_ACTIONS``): the province administrator and
the province, city and county officers, each for the cases of its region. Inspectors, lab staff,
enterprise users and data consumers are refused (403); anonymous visitors are sent to sign in (page) or
refused (API). Only province-level staff publish a month. The published summaries are public.
Which cases each officer counts is written out below from the fixture set, not computed by the code
under test.
"""

from __future__ import annotations

import csv
import io
from unittest import mock

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from qualitygov.complaints.models import MonthlySummary
from qualitygov.complaints.tests.test_statistics import TODAY, build_cases

pytestmark = [pytest.mark.django_db]

API_EXPECTATIONS: dict[str, str] = {
    "api:complaints-api:stats-figures": "officers (admin, province, city, county) get their region's figures only; "
                                        "inspector, lab, enterprise, data consumer 403; anonymous refused; a region "
                                        "outside the scope or a bad period 400 with a code "
                                        "(test_api_figures_by_role, test_api_bad_parameters)",
    "api:complaints-api:stats-publish": "province officer and admin publish an ended month once (201); city and "
                                        "county officers and other roles 403, anonymous refused; a month not ended, "
                                        "already published or malformed 400 with a code (test_api_publish_by_role)",
    "api:public-complaints-api:stats-summary-list": "anyone, no sign-in: published months with totals "
                                                    "(test_public_api)",
    "api:public-complaints-api:stats-summary-detail": "anyone, no sign-in: one published month's figures, 404 "
                                                      "not_published, 400 invalid_month (test_public_api)",
}

ROLES = (None, "consumer", "enterprise", "lab", "inspector", "yanji", "nanguan", "changchun", "province", "admin")
# Cases received in May 2026 that each officer's figures count (see ``build_cases``).
COUNTED = {"admin": {"C1", "C2", "C3", "C4", "C5", "C6", "C9"}, "province": {"C1", "C2", "C3", "C4", "C5", "C6", "C9"},
           "changchun": {"C1", "C2", "C3", "C6", "C9"}, "nanguan": {"C1", "C2", "C6"}, "yanji": {"C4", "C5"}}
MAY = {"period": "custom", "start": "2026-05-01", "end": "2026-05-31"}


@pytest.fixture
def cases(users):
    return build_cases()


@pytest.fixture
def today():
    with mock.patch("django.utils.timezone.localdate", return_value=TODAY):
        yield TODAY


def units_of(cases, keys) -> dict[str, int]:
    out: dict[str, int] = {}
    for key in keys:
        code = cases[key].handling_unit_id
        out[code] = out.get(code, 0) + 1
    return out


def test_page_and_exports_by_role(cases, users, client, today):
    problems = []
    page = reverse("complaints:stats-dashboard")
    export = reverse("complaints:stats-export", args=["unit", "csv"])
    for role in ROLES:
        client.logout()
        if role is not None:
            client.force_login(users[role])
        response = client.get(page, MAY)
        download = client.get(export, MAY)
        if role is None:
            if response.status_code != 302 or download.status_code != 302:
                problems.append(f"anonymous: {response.status_code}/{download.status_code}, expected a redirect")
            continue
        if role not in COUNTED:
            if response.status_code != 403 or download.status_code != 403:
                problems.append(f"{role}: {response.status_code}/{download.status_code}, expected 403")
            continue
        data = response.context["data"]
        expected = units_of(cases, COUNTED[role])
        shown = {row["code"]: row["count"] for row in data["by_unit"]}
        if shown != expected or data["totals"]["count"] != len(COUNTED[role]):
            problems.append(f"{role}: page units {shown}, expected {expected}")
        rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))
        if rows[-1][0] != "合计" or int(rows[-1][1]) != len(COUNTED[role]):
            problems.append(f"{role}: export total {rows[-1]}, expected {len(COUNTED[role])}")
    assert not problems, "\n".join(problems)


def test_other_units_never_appear_on_a_county_officers_page(cases, users, client, today):
    client.force_login(users["nanguan"])
    html = client.get(reverse("complaints:stats-dashboard"), MAY).content.decode()
    tables = html.split('id="qg-cs-filter"')[1].split("</form>")[1]
    assert "朝阳区" not in tables and "延吉市" not in tables


def test_api_figures_by_role(cases, users, today):
    url = reverse("api:complaints-api:stats-figures")
    problems = []
    for role in ROLES:
        api = APIClient()
        if role is not None:
            api.force_authenticate(users[role])
        response = api.get(url, MAY)
        if role not in COUNTED:
            if response.status_code not in ((401, 403) if role is None else (403,)):
                problems.append(f"{role}: {response.status_code}, expected refusal")
            elif "error" not in response.json():
                problems.append(f"{role}: refusal without the error shape")
            continue
        if response.status_code != 200:
            problems.append(f"{role}: {response.status_code}")
            continue
        body = response.json()
        shown = {row["code"]: row["count"] for row in body["by_unit"]}
        if shown != units_of(cases, COUNTED[role]):
            problems.append(f"{role}: units {shown}")
        if "identity" in response.content.decode() or "王举报人" in response.content.decode():
            problems.append(f"{role}: reporter data in the statistics")
    assert not problems, "\n".join(problems)


def test_api_bad_parameters(cases, users, today):
    url = reverse("api:complaints-api:stats-figures")
    api = APIClient()
    api.force_authenticate(users["nanguan"])
    outside = api.get(url, {"region": "220104"})
    assert outside.status_code == 400 and outside.json()["error"]["code"] == "region_out_of_scope"
    reversed_period = api.get(url, {"period": "custom", "start": "2026-05-31", "end": "2026-05-01"})
    assert reversed_period.status_code == 400 and reversed_period.json()["error"]["code"] == "period_reversed"
    assert "起始日期不能晚于截止日期" in reversed_period.json()["error"]["message"]
    assert api.get(url, {"kind": "rumour"}).status_code == 400
    api.force_authenticate(users["province"])
    drilled = api.get(url, {**MAY, "region": "220100", "kind": "complaint"}).json()
    assert drilled["totals"]["count"] == 4  # C1, C2, C3, C9


def test_api_publish_by_role(cases, users, today):
    url = reverse("api:complaints-api:stats-publish")
    for role in (None, "consumer", "enterprise", "lab", "inspector", "yanji", "nanguan", "changchun"):
        api = APIClient()
        if role is not None:
            api.force_authenticate(users[role])
        response = api.post(url, {"month": "2026-05"}, format="json")
        assert response.status_code in ((401, 403) if role is None else (403,)), role
    assert not MonthlySummary.objects.exists()
    api = APIClient()
    api.force_authenticate(users["province"])
    published = api.post(url, {"month": "2026-05"}, format="json")
    assert published.status_code == 201 and published.json()["data"]["totals"]["count"] == 7
    for month, code in (("2026-05", "already_published"), ("2026-06", "month_not_ended"), ("05/2026", "invalid_month")):
        refused = api.post(url, {"month": month}, format="json")
        assert refused.status_code == 400 and refused.json()["error"]["code"] == code, month
    api.force_authenticate(users["admin"])
    assert api.post(url, {"month": "2026-04"}, format="json").status_code == 201
    assert MonthlySummary.objects.count() == 2


def test_public_api(cases, users, today):
    from qualitygov.complaints import statistics

    statistics.publish_month(users["province"], TODAY.replace(month=5, day=1), today=TODAY)
    api = APIClient()
    listing = api.get(reverse("api:public-complaints-api:stats-summary-list"))
    assert listing.status_code == 200
    assert [(r["month"], r["totals"]["count"]) for r in listing.json()["results"]] == [("2026-05", 7)]
    detail = api.get(reverse("api:public-complaints-api:stats-summary-detail", args=["2026-05"]))
    assert detail.status_code == 200 and detail.json()["data"]["totals"]["tip_offs"] == 2
    assert "王举报人" not in detail.content.decode()
    missing = api.get(reverse("api:public-complaints-api:stats-summary-detail", args=["2026-04"]))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_published"
    bad = api.get(reverse("api:public-complaints-api:stats-summary-detail", args=["April"]))
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_month"
    # A stale token does not turn the public answer into a 401.
    api.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert api.get(reverse("api:public-complaints-api:stats-summary-list")).status_code == 200
