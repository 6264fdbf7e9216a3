"""Roles × endpoints of the complaints API (intake), and who may use the intake pages and see what they
made: the officers' entry page, the receipt of an entered submission, the cases a submission made."""

from __future__ import annotations

import pytest
from django.urls import reverse

from qualitygov.complaints import intake
from qualitygov.complaints.models import Case
from qualitygov.complaints.tests.test_intake_support import complaint_kwargs, tip_off_kwargs
from qualitygov.core.roles import VIEW

API_EXPECTATIONS: dict[str, str] = {
    "api:public-complaints-api:intake-submit": "anonymous and any role alike (no authentication): 201 with tracking "
                                               "number and routed cases, code + password only for anonymous tip-offs; "
                                               "400 missing_materials / file_disguised; 429 rate_limited + Retry-After "
                                               "(test_intake_pages.test_api_*)",
    "api:public-complaints-api:intake-follow-up": "only the holder of tracking number + phone (X-Phone) or code + "
                                                  "password (X-Query-Password): public status without identity or "
                                                  "notes; any mismatch 404; no pair 400 (test_intake_pages.test_api_*)",
}

pytestmark = pytest.mark.django_db

ROLES = (None, "consumer", "enterprise", "lab", "inspector", "yanji", "nanguan", "changchun", "province", "admin")
# Officers may enter submissions (CASE_ROLE_ACTIONS gives them ADD on cases); the others may not.
ENTRY_STATUS = {None: 302, "consumer": 403, "enterprise": 403, "lab": 403, "inspector": 403,
                "yanji": 200, "nanguan": 200, "changchun": 200, "province": 200, "admin": 200}


@pytest.mark.parametrize("role", ROLES)
def test_entry_page_by_role(client, users, role):
    if role:
        client.force_login(users[role])
    assert client.get(reverse("complaints:intake-entry")).status_code == ENTRY_STATUS[role]


def test_entry_post_by_a_non_officer_changes_nothing(client, users):
    from qualitygov.complaints.models import Submission

    client.force_login(users["enterprise"])
    response = client.post(reverse("complaints:intake-entry"), {"channel": "phone", "kind": "complaint"})
    assert response.status_code == 403 and Submission.objects.count() == 0


# Which of the two cases (南关区 complaint, 延吉市 tip-off) each role finds in its scope.
SEES = {None: set(), "consumer": set(), "enterprise": set(), "lab": set(), "inspector": set(),
        "yanji": {"tip_off"}, "nanguan": {"complaint"}, "changchun": {"complaint"},
        "province": {"complaint", "tip_off"}, "admin": {"complaint", "tip_off"}}


@pytest.mark.parametrize("role", ROLES)
def test_submitted_cases_are_seen_by_their_units_only(users, registry, role):
    intake.submit(**complaint_kwargs(registry["nanguan"]["entity"]))
    intake.submit(**tip_off_kwargs(registry["yanji"]["entity"]))
    user = users[role] if role else None
    kinds = set(Case.objects.restrict(user, VIEW).values_list("kind", flat=True))
    assert kinds == SEES[role]


@pytest.mark.parametrize("role,status", [("nanguan", 200), ("changchun", 200), ("admin", 200), ("yanji", 404),
                                         ("enterprise", 404), ("inspector", 404)])
def test_receipt_of_an_entered_submission(client, users, registry, role, status):
    submission = intake.submit(**complaint_kwargs(registry["nanguan"]["entity"]), channel="counter",
                               entered_by=users["province"]).submission
    client.force_login(users[role])
    response = client.get(reverse("complaints:intake-entered", args=[submission.pk]))
    assert response.status_code == status
    if status == 200:
        assert submission.tracking_number in response.content.decode()


def test_the_entering_officer_sees_the_receipt_of_a_case_sent_elsewhere(client, users, registry):
    submission = intake.submit(**complaint_kwargs(registry["yanji"]["entity"]), channel="counter",
                               entered_by=users["nanguan"]).submission
    client.force_login(users["nanguan"])
    page = client.get(reverse("complaints:intake-entered", args=[submission.pk])).content.decode()
    assert submission.tracking_number in page and "延吉市" in page
    # but gets no way into the case itself
    assert not Case.objects.restrict(users["nanguan"], VIEW).filter(submission=submission).exists()


@pytest.mark.parametrize("role,status", [("nanguan", 200), ("yanji", 404), ("enterprise", 404), (None, 302)])
def test_identity_panel_scope(client, users, registry, role, status):
    case = intake.submit(**complaint_kwargs(registry["nanguan"]["entity"])).cases[0]
    if role:
        client.force_login(users[role])
    assert client.get(reverse("complaints:intake-identity", args=[case.pk])).status_code == status


def test_receipt_offers_duplicates_only_from_the_officers_scope(client, users, registry):
    """A near-duplicate is offered for merging on the receipt — the one in the officer's county, not the
    same story filed in another county."""
    text = "购买的制动软管使用一周即开裂漏油，商家拒绝退货，要求退款。"
    mine = intake.submit(**complaint_kwargs(registry["nanguan"]["entity"], description=text)).cases[0]
    other = intake.submit(**complaint_kwargs(registry["yanji"]["entity"], description=text)).cases[0]
    client.force_login(users["nanguan"])
    response = client.post(reverse("complaints:intake-entry"), {
        "channel": "counter", "received_on": intake.timezone.localdate().isoformat(), "kind": "complaint",
        "name": "李四", "phone": "13900001111", "address": "长春市南关区", "respondent_uscc": registry["nanguan"]["entity"].uscc,
        "sales_channel": "offline", "category": "product_quality", "product_name": "制动软管", "request": "退款",
        "description": text})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert mine.number in page and other.number not in page
