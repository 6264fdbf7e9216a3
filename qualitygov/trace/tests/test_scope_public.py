"""Roles × endpoints of the consumer lookup (issue 5, item 7): public, no sign-in, the same answer for
every visitor whatever their role (nothing more for officers: the internal risk class never appears),
structured 400/404 errors."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from qualitygov.credit.models import RiskClass
from qualitygov.trace.tests import chain
from qualitygov.trace.tests import test_lookup as _base

pytestmark = [pytest.mark.django_db]

# The lookup tests' fixtures (test_lookup.py).
world = _base.world
workflow = _base.workflow

API_EXPECTATIONS: dict[str, str] = {
    "api:public-trace-api:lookup": "anonymous and every role (a stale token too) get the same public JSON: product, "
                                   "producer grade without risk class, published spot checks and recalls only, chain "
                                   "counts without shop names; bad code 400 with the identifier's code; unregistered "
                                   "GTIN 404 not_registered (test_lookup_api_is_the_same_for_everyone, "
                                   "test_lookup_api_errors)",
}

ROLES = (None, "consumer", "lab", "enterprise", "inspector", "yanji", "nanguan", "changchun", "province", "admin")


def test_lookup_api_is_the_same_for_everyone(world, users):
    url = reverse("api:public-trace-api:lookup")
    code = {"code": f"{chain.PRODUCT_GTIN} {chain.PRODUCT_BATCH}"}
    answers = {}
    for role in ROLES:
        client = APIClient()
        if role:
            client.force_authenticate(users[role])
        response = client.get(url, code)
        assert response.status_code == 200, role
        answers[role] = response.json()
    first = answers[None]
    assert all(answer == first for answer in answers.values())
    assert first["product"]["name"] == world["product"].name and first["producer"]["grade"] == "B"
    assert [r["number"] for r in first["recalls"]] == [world["recall"].number]
    assert [s["number"] for s in first["spot_checks"]] == [world["sample"].number]
    text = str(first)
    assert "risk" not in text and str(RiskClass.D.label) not in text and "71.5" not in text
    assert world["places"]["shop_yanji"].name not in text and chain.PLACES["shop_yanji"][4] not in text
    stale = APIClient(HTTP_AUTHORIZATION="Token not-a-token").get(url, code)
    assert stale.status_code == 200


@pytest.mark.parametrize(("code", "status", "error"), [
    ("6901234000024", 400, "check_digit"), ("", 400, "empty"), ("6901234000047 A1", 404, "not_registered"),
])
def test_lookup_api_errors(world, code, status, error):
    response = APIClient().get(reverse("api:public-trace-api:lookup"), {"code": code})
    assert response.status_code == status
    body = response.json()["error"]
    assert body["code"] == error and body["status"] == status
    assert any("\u4e00" <= c <= "\u9fff" for c in body["message"])
