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
    "api:public-trace-api:recall-list": "anonymous and every role (a stale token too) get the same published notices, "
                                        "newest first, never an unpublished one; public fields only (no scope, holders, "
                                        "their quantities, channels or investigation); q searches product, producer, "
                                        "batch and code (test_public_recall_api_is_the_same_for_everyone, "
                                        "test_public_recall_search_and_pages)",
    "api:public-trace-api:recall-detail": "published notice 200 for everyone, the same JSON; unpublished or unknown "
                                          "number 404 (test_public_recall_api_is_the_same_for_everyone)",
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


@pytest.fixture
def published(registry, users, monkeypatch):
    """A recall filed through the services on the chain (scope: the distributor and two shops, notices
    sent) and published, plus a filed recall that is not published."""
    import datetime as dt

    from qualitygov.trace import recalls
    from qualitygov.trace.models import Recall
    from qualitygov.trace.tests.test_recalls import PLAN, TODAY

    monkeypatch.setattr(recalls, "_today", lambda: TODAY)
    places = chain.build_chain(registry)
    product = _base.make_product(registry)

    def filed():
        recall = recalls.report(registry["nanguan"]["entity"], product, "二氧化硫残留超标", dt.date(2026, 6, 8),
                                dt.date(2026, 6, 9), [chain.PRODUCT_CLASS], users["nanguan"])
        recalls.investigate(recall, users["nanguan"], "内部调查记录：抽检确认", True)
        return recalls.file_plan(Recall.objects.get(pk=recall.pk), users["nanguan"], filed_on=dt.date(2026, 6, 20),
                                 **PLAN)

    recall = recalls.publish(filed(), users["nanguan"], on=dt.date(2026, 6, 21))
    return {"recall": recall, "hidden": filed(), "places": places, "product": product, "plan": PLAN}


def test_public_recall_api_is_the_same_for_everyone(published, users):
    recall, hidden = published["recall"], published["hidden"]
    lists, details = {}, {}
    for role in ROLES:
        client = APIClient()
        if role:
            client.force_authenticate(users[role])
        response = client.get(reverse("api:public-trace-api:recall-list"))
        assert response.status_code == 200, role
        lists[role] = response.json()
        detail = client.get(reverse("api:public-trace-api:recall-detail", args=[recall.number]))
        assert detail.status_code == 200, role
        details[role] = detail.json()
        assert client.get(reverse("api:public-trace-api:recall-detail", args=[hidden.number])).status_code == 404
    assert all(answer == lists[None] for answer in lists.values())
    assert all(answer == details[None] for answer in details.values())
    assert [row["number"] for row in lists[None]["results"]] == [recall.number]
    body = details[None]
    assert body["product"] == published["product"].name and body["batches"] == [chain.PRODUCT_CLASS]
    assert body["remedy"] == published["plan"]["remedy"]
    assert body["consumer_advice"] == published["plan"]["consumer_advice"]
    assert body["published_on"] == "2026-06-21" and body["status"] == "planned"
    text = str(lists[None]) + str(body)
    for secret in ("scope", "notices", "investigation", "内部调查记录", published["plan"]["channels"],
                   *(entity.name for key, entity in published["places"].items() if key != "processor")):
        assert secret not in text, secret
    missing = APIClient().get(reverse("api:public-trace-api:recall-detail", args=["RC2099999"]))
    assert missing.status_code == 404 and missing.json()["error"]["status"] == 404
    stale = APIClient(HTTP_AUTHORIZATION="Token not-a-token").get(reverse("api:public-trace-api:recall-list"))
    assert stale.status_code == 200


def test_public_recall_search_and_pages(published, client):
    recall = published["recall"]
    api = reverse("api:public-trace-api:recall-list")
    for term, found in ((chain.PRODUCT_BATCH, [recall.number]), (published["product"].name, [recall.number]),
                        (f"{chain.PRODUCT_GTIN[1:]} {chain.PRODUCT_BATCH}", [recall.number]), ("OTHER9", [])):
        assert [r["number"] for r in APIClient().get(api, {"q": term}).json()["results"]] == found, term
    # The portal pages: the list (with the search box) and the notice; nobody signs in.
    page = client.get(reverse("public-trace:recall_list"), {"q": chain.PRODUCT_BATCH}).content.decode()
    assert f'data-number="{recall.number}"' in page and published["plan"]["remedy"] in page
    assert published["plan"]["consumer_advice"] in page
    assert published["hidden"].number not in client.get(reverse("public-trace:recall_list")).content.decode()
    empty = client.get(reverse("public-trace:recall_list"), {"q": "OTHER9"}).content.decode()
    assert 'id="qg-recall-empty"' in empty
    notice = client.get(reverse("public-trace:recall_detail", args=[recall.number]))
    content = notice.content.decode()
    assert notice.status_code == 200 and 'id="qg-consumer-advice"' in content
    assert f'href="/01/{chain.PRODUCT_GTIN}/10/{chain.PRODUCT_BATCH}"' in content
    for key, entity in published["places"].items():
        if key != "processor":
            assert entity.name not in content, key
    assert client.get(reverse("public-trace:recall_detail", args=[published["hidden"].number])).status_code == 404
    # The lookup page links the notice and the list.
    lookup_page = client.get(reverse("public-trace:lookup"), {"code": chain.PRODUCT_CLASS}).content.decode()
    assert reverse("public-trace:recall_detail", args=[recall.number]) in lookup_page
    assert 'id="qg-nav-recalls"' in lookup_page
