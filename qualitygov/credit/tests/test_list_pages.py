"""The credit-list pages and API (issue 4, item 4): officers list and remove through the pages (a
refusal of ``credit.lists`` is shown in Chinese and nothing is written), the public portal and the
public endpoint show only entries still listed without sign-in, and the scoped API shows each role
its own region or entity."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from qualitygov.credit import lists
from qualitygov.credit.models import CreditRecord, ListEntry

pytestmark = pytest.mark.django_db

SERIOUS, ABNORMAL = ListEntry.Kind.SERIOUS_VIOLATION, ListEntry.Kind.ABNORMAL_OPERATION
ALL_MET = {"corrected": True, "penalties_fulfilled": True, "no_new_violations": True}


def today() -> dt.date:
    return timezone.localdate()


def put_on(entity, user, kind=SERIOUS, days_ago=30, number="吉市监信列〔2026〕1号"):
    return lists.list_entity(entity, kind=kind, grounds="生产销售不符合保障人身安全标准的制动软管，情节严重",
                             legal_basis="《市场监督管理严重违法失信名单管理办法》第三条", decision_number=number,
                             department="长春市市场监督管理局", listed_on=today() - dt.timedelta(days=days_ago),
                             user=user)


def listing_form(entity, kind=SERIOUS) -> dict:
    return {"uscc": entity.uscc, "kind": kind, "grounds": "拒不履行行政处罚决定", "legal_basis": "第三条",
            "decision_number": "南市监信列〔2026〕7号", "department": "长春市南关区市场监督管理局",
            "listed_on": (today() - dt.timedelta(days=3)).isoformat()}


def test_officer_lists_entity_through_the_page_and_a_duplicate_is_refused(registry, users, login):
    entity = registry["nanguan"]["entity"]
    client = login("nanguan")
    assert 'href="/credit/lists/add/"' in client.get("/credit/lists/").content.decode()
    assert client.get("/credit/lists/add/").status_code == 200
    response = client.post("/credit/lists/add/", listing_form(entity))
    entry = ListEntry.objects.get(entity=entity, kind=SERIOUS)
    assert response.status_code == 302 and response["Location"] == f"/credit/lists/{entry.pk}/"
    assert entry.listed_by == users["nanguan"] and entry.decision_number == "南市监信列〔2026〕7号"
    assert entry.removal_due_on == entry.listed_on.replace(year=entry.listed_on.year + 3)
    records = CreditRecord.objects.filter(entity=entity, source_type="listentry").count()
    assert records == 1

    again = client.post("/credit/lists/add/", listing_form(entity))
    assert again.status_code == 400
    assert "该市场主体已在严重违法失信名单中，不能重复列入。" in again.content.decode()
    assert ListEntry.objects.filter(entity=entity).count() == 1
    assert CreditRecord.objects.filter(entity=entity, source_type="listentry").count() == records


def test_officer_cannot_list_an_entity_outside_the_own_county(registry, login):
    response = login("yanji").post("/credit/lists/add/", listing_form(registry["nanguan"]["entity"]))
    assert response.status_code == 400
    assert "未找到该统一社会信用代码的市场主体，或不在您的辖区内。" in response.content.decode()
    assert not ListEntry.objects.exists()


def test_enterprise_and_inspector_may_not_list(registry, login):
    form = listing_form(registry["nanguan"]["entity"])
    assert login("enterprise").post("/credit/lists/add/", form).status_code == 403
    assert login("inspector").post("/credit/lists/add/", form).status_code == 403
    assert not ListEntry.objects.exists()


def test_early_removal_too_early_is_refused_on_the_page(registry, users, login):
    entry = put_on(registry["nanguan"]["entity"], users["changchun"])
    data = {"step": "remove-early", "remove-early-on": today().isoformat(),
            **{f"remove-early-{name}": "on" for name in ALL_MET}}
    response = login("nanguan").post(f"/credit/lists/{entry.pk}/", data)
    assert response.status_code == 400
    assert "列入严重违法失信名单满一年后方可申请提前移出" in response.content.decode()
    entry.refresh_from_db()
    assert entry.status == ListEntry.Status.LISTED and entry.removed_on is None


def test_removal_on_correction_through_the_page(registry, users, login):
    entry = put_on(registry["nanguan"]["entity"], users["changchun"], kind=ABNORMAL)
    client = login("changchun")
    page = client.get(f"/credit/lists/{entry.pk}/").content.decode()
    # The abnormal-operation list is left on correction, never by early removal.
    assert 'value="remove-on-correction"' in page and 'value="remove-early"' not in page
    response = client.post(f"/credit/lists/{entry.pk}/", {"step": "remove-on-correction",
                                                           "remove-on-correction-note": "已补报年度报告",
                                                           "remove-on-correction-on": today().isoformat()})
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.status == ListEntry.Status.REMOVED
    assert entry.removal_reason == ListEntry.RemovalReason.CORRECTED and entry.removal_note == "已补报年度报告"


def test_list_page_filters_scope_and_export(registry, users, login):
    put_on(registry["nanguan"]["entity"], users["admin"])
    put_on(registry["yanji"]["entity"], users["admin"], kind=ABNORMAL, number="延市监异〔2026〕2号")
    client = login("changchun")
    page = client.get("/credit/lists/").content.decode()
    assert registry["nanguan"]["entity"].name in page and registry["yanji"]["entity"].name not in page
    admin = login("admin")
    filtered = admin.get("/credit/lists/", {"kind": ABNORMAL}).content.decode()
    assert registry["yanji"]["entity"].name in filtered and registry["nanguan"]["entity"].name not in filtered
    by_uscc = admin.get("/credit/lists/", {"q": registry["nanguan"]["entity"].uscc}).content.decode()
    assert registry["nanguan"]["entity"].name in by_uscc and registry["yanji"]["entity"].name not in by_uscc
    export = admin.get("/credit/lists/", {"export": "csv", "kind": SERIOUS})
    body = b"".join(export.streaming_content if export.streaming else [export.content]).decode("utf-8-sig")
    assert export.status_code == 200
    assert registry["nanguan"]["entity"].uscc in body and registry["yanji"]["entity"].uscc not in body


def test_public_pages_show_listed_entries_and_not_removed_ones_without_login(registry, users, client):
    listed = put_on(registry["nanguan"]["entity"], users["admin"])
    revoked = put_on(registry["yanji"]["entity"], users["admin"], number="延市监信列〔2026〕9号")
    lists.revoke_listing(revoked, user=users["admin"], on=today(), reason="复议撤销")
    abnormal = put_on(registry["chaoyang"]["entity"], users["admin"], kind=ABNORMAL, number="朝市监异〔2026〕3号")

    serious_page = client.get("/public/credit/")
    text = serious_page.content.decode()
    assert serious_page.status_code == 200
    assert listed.entity.name in text and listed.entity.uscc in text and listed.decision_number in text
    assert listed.removal_due_on.isoformat() in text
    assert revoked.entity.name not in text and abnormal.entity.name not in text

    abnormal_page = client.get("/public/credit/abnormal-operation/").content.decode()
    assert abnormal.entity.name in abnormal_page and listed.entity.name not in abnormal_page

    searched = client.get("/public/credit/", {"q": "不存在的企业"}).content.decode()
    assert listed.entity.name not in searched


def test_public_api_is_open_and_shows_only_listed_entries(registry, users, client):
    listed = put_on(registry["nanguan"]["entity"], users["admin"])
    revoked = put_on(registry["yanji"]["entity"], users["admin"], number="延市监信列〔2026〕9号")
    lists.revoke_listing(revoked, user=users["admin"], on=today(), reason="复议撤销")
    response = client.get("/api/v1/public/credit-lists/")
    assert response.status_code == 200
    usccs = [row["entity_uscc"] for row in response.json()["results"]]
    assert usccs == [listed.entity.uscc]
    assert client.get(f"/api/v1/public/credit-lists/{revoked.pk}/").status_code == 404


def test_scoped_api_shows_each_role_its_own_entries(registry, users, client):
    entries = {key: put_on(registry[key]["entity"], users["admin"], number=f"吉市监信列〔2026〕{n}号")
               for n, key in enumerate(("nanguan", "chaoyang", "yanji"), start=1)}

    def seen(username):
        client.force_login(users[username])
        response = client.get("/api/v1/credit-lists/")
        return response.status_code, sorted(row["id"] for row in response.json().get("results", []))

    assert seen("nanguan") == (200, [entries["nanguan"].pk])
    assert seen("changchun") == (200, sorted([entries["nanguan"].pk, entries["chaoyang"].pk]))
    assert seen("enterprise") == (200, [entries["nanguan"].pk])
    # Lab staff have no view right on list entries (ListEntry.role_actions): the role check answers 403.
    assert seen("lab")[0] == 403
    client.force_login(users["nanguan"])
    assert client.get(f"/api/v1/credit-lists/{entries['yanji'].pk}/").status_code == 404


def test_scoped_api_steps_call_the_services(registry, users, client):
    entity = registry["nanguan"]["entity"]
    client.force_login(users["nanguan"])
    body = {"uscc": entity.uscc, "kind": SERIOUS, "grounds": "拒不履行", "legal_basis": "第三条",
            "decision_number": "南市监信列〔2026〕8号", "department": "南关区市场监督管理局",
            "listed_on": (today() - dt.timedelta(days=5)).isoformat()}
    created = client.post("/api/v1/credit-lists/list/", body, content_type="application/json")
    assert created.status_code == 201 and created.json()["entity"] == entity.uscc
    pk = created.json()["id"]

    duplicate = client.post("/api/v1/credit-lists/list/", body, content_type="application/json")
    assert duplicate.status_code == 400 and duplicate.json()["error"]["code"] == "already_listed"

    early = client.post(f"/api/v1/credit-lists/{pk}/remove-early/", {"on": today().isoformat(),
                                                                      "conditions": ALL_MET},
                        content_type="application/json")
    assert early.status_code == 400 and early.json()["error"]["code"] == "too_early"

    wrong = client.post(f"/api/v1/credit-lists/{pk}/remove-on-correction/",
                        {"on": today().isoformat(), "note": "已改正"}, content_type="application/json")
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "wrong_list"

    revoked = client.post(f"/api/v1/credit-lists/{pk}/revoke/", {"on": today().isoformat(), "reason": "复议撤销"},
                          content_type="application/json")
    assert revoked.status_code == 200 and revoked.json()["removal_reason"] == "decision_revoked"
    assert ListEntry.objects.get(pk=pk).status == ListEntry.Status.REMOVED

    client.force_login(users["enterprise"])
    refused = client.post("/api/v1/credit-lists/list/", body, content_type="application/json")
    assert refused.status_code == 403
