"""Roles × endpoints of the credit dashboard (issue 4, item 8): the page, its exports and the JSON API.

The dashboard shows internal risk classes, so it is for the regulator's officers only: the province
administrator and the province, city and county officers (``dashboard.DASHBOARD_ROLES``, like the
spot-check statistics). Inspectors, lab staff, enterprise users and data consumers are refused (403);
anonymous visitors are sent to sign in (page) or refused (API). Each officer's figures cover the
entities of its region only — written out below from the ``registry`` fixture, not computed by the
code under test.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from qualitygov.credit.models import EntityScore, ScoreModel

pytestmark = [pytest.mark.django_db]

API_EXPECTATIONS: dict[str, str] = {
    "api:credit-api:dashboard": "officers (admin, province, city, county) get their region's figures only "
                                "(county: its county's entity; city: its counties'; province: all); inspector, lab, "
                                "enterprise, data consumer 403; anonymous refused; a drill region outside the scope "
                                "or a bad period 400 with a code (test_api_roles_and_scope, test_api_bad_parameters)",
}

ROLES = (None, "consumer", "enterprise", "lab", "inspector", "yanji", "nanguan", "changchun", "province", "admin")
# Which of the registry's entities (南关区 220102, 朝阳区 220104, 延吉市 222401) each officer's figures count.
COUNTED = {"admin": {"nanguan", "chaoyang", "yanji"}, "province": {"nanguan", "chaoyang", "yanji"},
           "changchun": {"nanguan", "chaoyang"}, "nanguan": {"nanguan"}, "yanji": {"yanji"}}
# Grades given to the registry's entities, distinct so that the counts say which entities were counted.
GRADE = {"nanguan": "AAA", "chaoyang": "C", "yanji": "D"}


@pytest.fixture
def graded(registry):
    model = ScoreModel.objects.create(version="scope-dash", points={}, half_life_days={"*": 365},
                                      grade_thresholds=[["AAA", 100]], risk_thresholds=[["A", 100]])
    EntityScore.objects.bulk_create([
        EntityScore(entity=registry[key]["entity"], model=model, as_of=dt.date(2026, 6, 1), score=80, grade=grade,
                    risk_class="B") for key, grade in GRADE.items()])
    return registry


def counted_keys(grades: dict[str, int]) -> set[str]:
    return {key for key, grade in GRADE.items() if grades.get(grade)}


def test_page_and_exports_by_role(graded, users, client):
    problems = []
    page = reverse("credit:dashboard")
    export = reverse("credit:dashboard_export", args=["grades-region", "csv"])
    for role in ROLES:
        client.logout()
        if role is not None:
            client.force_login(users[role])
        response = client.get(page)
        download = client.get(export)
        if role is None:
            if response.status_code != 302 or download.status_code != 302:
                problems.append(f"anonymous: {response.status_code}/{download.status_code}, expected a redirect")
            continue
        if role not in COUNTED:
            if response.status_code != 403 or download.status_code != 403:
                problems.append(f"{role}: {response.status_code}/{download.status_code}, expected 403")
            continue
        if response.status_code != 200:
            problems.append(f"{role}: page {response.status_code}")
            continue
        shown = counted_keys(response.context["data"]["grades"]["counts"])
        if shown != COUNTED[role]:
            problems.append(f"{role}: page counts {sorted(shown)}, expected {sorted(COUNTED[role])}")
        rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))
        total = int(rows[-1][1])
        if rows[-1][0] != "合计" or total != len(COUNTED[role]):
            problems.append(f"{role}: export total {rows[-1]}, expected {len(COUNTED[role])}")
    assert not problems, "\n".join(problems)


def test_api_roles_and_scope(graded, users):
    url = reverse("api:credit-api:dashboard")
    problems = []
    for role in ROLES:
        api = APIClient()
        if role is not None:
            api.force_authenticate(users[role])
        response = api.get(url)
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
        shown = counted_keys(body["grades"]["counts"])
        if shown != COUNTED[role] or body["grades"]["total"] != len(COUNTED[role]):
            problems.append(f"{role}: counts {sorted(shown)}, expected {sorted(COUNTED[role])}")
        if body["risk"]["total"] != len(COUNTED[role]):
            problems.append(f"{role}: risk total {body['risk']['total']}")
        mapped = {item["code"] for item in body["map"] if "value" in item}
        expected_cities = {{"nanguan": "220100", "chaoyang": "220100", "yanji": "222400"}[k] for k in COUNTED[role]}
        if mapped != expected_cities:
            problems.append(f"{role}: map {sorted(mapped)}, expected {sorted(expected_cities)}")
    assert not problems, "\n".join(problems)


def test_api_bad_parameters(graded, users):
    url = reverse("api:credit-api:dashboard")
    api = APIClient()
    api.force_authenticate(users["nanguan"])
    outside = api.get(url, {"region": "220104"})  # another county of the same city
    assert outside.status_code == 400 and outside.json()["error"]["code"] == "region_out_of_scope"
    reversed_period = api.get(url, {"period": "custom", "start": "2026-05-01", "end": "2026-04-01"})
    assert reversed_period.status_code == 400 and reversed_period.json()["error"]["code"] == "period_reversed"
    assert "起始日期不能晚于截止日期" in reversed_period.json()["error"]["message"]
    assert api.get(url, {"period": "weekly"}).status_code == 400
    # The province drills into 长春 and gets its two counties' entities only.
    api.force_authenticate(users["province"])
    drilled = api.get(url, {"region": "220100"}).json()
    assert counted_keys(drilled["grades"]["counts"]) == {"nanguan", "chaoyang"}
    assert {row["code"] for row in drilled["grades"]["by_region"]} == {"220102", "220104"}


def test_other_counties_entities_never_appear_on_a_county_officers_page(graded, users, client):
    client.force_login(users["nanguan"])
    content = client.get(reverse("credit:dashboard")).content.decode()
    for key in ("chaoyang", "yanji"):
        assert graded[key]["entity"].name not in content
    assert "朝阳区" not in content.split('id="qg-cd-filter"')[1].split("</form>")[1]
