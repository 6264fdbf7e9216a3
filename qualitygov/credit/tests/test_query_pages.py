"""The credit query pages: public search, the public credit file, the objection form and its
confirmation; the officers' objection and statement pages and the enterprise's statement form."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from qualitygov.conftest import PASSWORD
from qualitygov.credit import query
from qualitygov.credit.models import CreditObjection, CreditRecord, EntityStatement, RiskClass
from qualitygov.credit.tests import test_query as _base
from qualitygov.credit.tests.test_query import TODAY

# The shared fixtures of the query tests (defined in test_query.py).
credit = _base.credit
fixed_today = _base.fixed_today


@pytest.fixture(autouse=True)
def _no_throttle_history():
    """Objection posts are limited per address in the (process-wide) cache: start each test afresh."""
    cache.clear()
    yield
    cache.clear()


def _text(response) -> str:
    return response.content.decode()


# --- public ------------------------------------------------------------------------------------------

def test_search_page(client, credit):
    page = client.get(reverse("public-credit:search"), {"q": "汽车零部件"})
    assert page.status_code == 200
    body = _text(page)
    assert credit["nanguan"].name in body and credit["chaoyang"].name in body
    assert reverse("public-credit:entity", args=[credit["nanguan"].uscc]) in body
    assert "尚未评级" in body  # chaoyang has no grade
    bad = client.get(reverse("public-credit:search"), {"q": credit["nanguan"].uscc[:17] + "?"})
    assert bad.status_code == 400 and "统一社会信用代码第 18 位" in _text(bad)
    assert client.get(reverse("public-credit:search")).status_code == 200


def test_entity_page_content_and_exclusions(client, credit):
    statement = query.submit_statement(credit["fine"], _user("enterprise"), "已于四月整改完毕。")
    body = _text(client.get(reverse("public-credit:entity", args=[credit["nanguan"].uscc])))
    assert credit["nanguan"].name in body and "AA" in body and "2026-06-01" in body
    assert credit["fine"].summary in body and "长南市监异字〔2026〕7号" in body
    for hidden in ("warning", "internal", "ended"):
        assert credit[hidden].summary not in body
    assert str(RiskClass.C.label) not in body and "风险" not in body and "88.5" not in body
    # The statement sits inside the card of its record.
    card = re.search(rf'id="record-{credit["fine"].pk}".*?</div></div>', body, re.S).group(0)
    assert statement.text in card
    assert reverse("public-credit:objection", args=[credit["fine"].pk]) in card
    assert credit["fine"].publish_until.isoformat() in card
    assert "重新评价中" not in body


def _user(username):
    from qualitygov.core.models import User

    return User.objects.get(username=username)


def test_entity_page_pending_flag_and_404(client, credit, users):
    objection = query.submit_objection(credit["fine"], "李四", "13900000000", "理由")
    url = reverse("public-credit:entity", args=[credit["nanguan"].uscc])
    body = _text(client.get(url))
    assert "重新评价中" in body
    assert "李四" not in body and "13900000000" not in body
    query.answer_objection(objection, users["nanguan"], upheld=False, answer="核查属实，维持。")
    assert "重新评价中" not in _text(client.get(url))
    assert client.get(reverse("public-credit:entity", args=["91220102ABCDEFGHIJ"])).status_code == 404


def test_objection_form_and_confirmation(client, credit):
    url = reverse("public-credit:objection", args=[credit["fine"].pk])
    assert client.get(url).status_code == 200
    missing = client.post(url, {"name": "", "contact": "", "grounds": ""})
    assert missing.status_code == 400 and "请填写异议人姓名或名称。" in _text(missing)
    response = client.post(url, {"name": "李四", "contact": "13900000000", "grounds": "金额有误"})
    objection = CreditObjection.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("public-credit:objection_done", args=[objection.tracking_number])
    done = _text(client.get(response["Location"]))
    assert objection.tracking_number in done and "2026-07-14" in done and "李四" not in done
    # Another browser cannot read the confirmation of this number.
    assert Client().get(response["Location"]).status_code == 404


def test_objection_after_the_deadline_and_unpublished(client, credit):
    late = client.get(reverse("public-credit:objection", args=[credit["ended"].pk]))
    assert late.status_code == 200 and "已超过异议期限" in _text(late) and 'id="qg-objection-form"' not in _text(late)
    assert credit["ended"].summary not in _text(late)
    posted = client.post(reverse("public-credit:objection", args=[credit["ended"].pk]),
                         {"name": "李四", "contact": "139", "grounds": "理由"})
    assert posted.status_code == 400 and credit["ended"].publish_until.isoformat() in _text(posted)
    assert client.get(reverse("public-credit:objection", args=[credit["warning"].pk])).status_code == 404
    assert not CreditObjection.objects.exists()


def test_objection_form_is_rate_limited(client, credit, monkeypatch):
    from qualitygov.credit.api_public_query import ObjectionRateThrottle

    monkeypatch.setattr(ObjectionRateThrottle, "DEFAULT_RATE", "1/min")
    url = reverse("public-credit:objection", args=[credit["fine"].pk])
    data = {"name": "李四", "contact": "139", "grounds": "理由"}
    assert client.post(url, data).status_code == 302
    limited = client.post(url, data)
    assert limited.status_code == 429 and "提交过于频繁" in _text(limited)
    assert CreditObjection.objects.count() == 1


def test_objection_form_needs_csrf(credit):
    client = Client(enforce_csrf_checks=True)
    url = reverse("public-credit:objection", args=[credit["fine"].pk])
    assert client.post(url, {"name": "李四", "contact": "139", "grounds": "理由"}).status_code == 403
    page = client.get(url)
    token = page.cookies["csrftoken"].value
    ok = client.post(url, {"name": "李四", "contact": "139", "grounds": "理由", "csrfmiddlewaretoken": token})
    assert ok.status_code == 302


# --- officers and enterprise -------------------------------------------------------------------------

@pytest.fixture
def objection(credit):
    return query.submit_objection(credit["fine"], "李四", "13900000000", "处罚对象错误")


def test_objection_pages_by_role(login, objection):
    list_url = reverse("credit:creditobjection_list")
    detail_url = reverse("credit:creditobjection_detail", args=[objection.pk])
    for role in ("admin", "province", "changchun", "nanguan"):
        client = login(role)
        assert objection.tracking_number in _text(client.get(list_url)), role
        assert "13900000000" in _text(client.get(detail_url)), role
        client.logout()
    client = login("yanji")
    assert objection.tracking_number not in _text(client.get(list_url))
    assert client.get(detail_url).status_code == 404
    client.logout()
    for role in ("enterprise", "inspector", "lab"):
        client = login(role)
        assert client.get(list_url).status_code == 403, role
        assert client.get(detail_url).status_code in (403, 404), role
        client.logout()


def test_objection_overdue_filter(login, objection):
    client = login("nanguan")
    url = reverse("credit:creditobjection_list")
    assert objection.tracking_number not in _text(client.get(url, {"overdue": "true"}))
    CreditObjection.objects.filter(pk=objection.pk).update(answer_due_on=TODAY.replace(day=1))
    assert objection.tracking_number in _text(client.get(url, {"overdue": "true"}))
    assert objection.tracking_number not in _text(client.get(url, {"status": "rejected"}))


def test_officer_answers_on_the_detail_page(login, objection, credit):
    client = login("nanguan")
    url = reverse("credit:creditobjection_detail", args=[objection.pk])
    blank = client.post(url, {"result": "upheld", "answer": ""})
    assert blank.status_code == 400 and "请填写答复内容" in _text(blank)
    assert client.post(url, {"result": "upheld", "answer": "处罚对象错误，撤下公示。"}).status_code == 302
    objection.refresh_from_db()
    assert objection.status == CreditObjection.Status.UPHELD
    assert CreditRecord.objects.get(pk=credit["fine"].pk).state == CreditRecord.State.REVOKED
    assert 'id="qg-answer"' not in _text(client.get(url))


def test_enterprise_writes_a_statement(login, credit):
    client = login("enterprise")
    records = _text(client.get(reverse("credit:statement_records")))
    assert reverse("credit:statement_add", args=[credit["fine"].pk]) in records
    assert credit["warning"].summary not in records
    url = reverse("credit:statement_add", args=[credit["fine"].pk])
    too_long = client.post(url, {"text": "说" * 2001})
    assert too_long.status_code == 400 and "不能超过 2000 个字" in _text(too_long)
    assert client.post(url, {"text": "已整改完毕。"}).status_code == 302
    assert EntityStatement.objects.get(record=credit["fine"]).text == "已整改完毕。"
    assert client.get(reverse("credit:statement_add", args=[credit["other"].pk])).status_code == 404
    # The enterprise never reaches objections (the objector's personal data).
    assert client.get(reverse("credit:creditobjection_list")).status_code == 403


def test_officer_cannot_write_and_hides_a_statement(login, credit, users):
    statement = query.submit_statement(credit["fine"], users["enterprise"], "不当言论")
    client = login("nanguan")
    assert client.get(reverse("credit:statement_add", args=[credit["fine"].pk])).status_code == 403
    assert "不当言论" in _text(client.get(reverse("credit:entitystatement_list")))
    url = reverse("credit:entitystatement_detail", args=[statement.pk])
    assert client.post(url, {"reason": ""}).status_code == 400
    assert client.post(url, {"reason": "含侮辱性内容"}).status_code == 302
    statement.refresh_from_db()
    assert statement.visible is False
    client.logout()
    other = login("yanji")
    assert other.get(url).status_code == 404
    assert "不当言论" not in _text(other.get(reverse("credit:entitystatement_list")))
    other.logout()
    assert "不当言论" not in _text(Client().get(reverse("public-credit:entity", args=[credit["nanguan"].uscc])))


def test_enterprise_cannot_hide(client, credit, users):
    statement = query.submit_statement(credit["fine"], users["enterprise"], "说明")
    assert client.login(username="enterprise", password=PASSWORD)
    url = reverse("credit:entitystatement_detail", args=[statement.pk])
    assert 'id="qg-hide"' not in _text(client.get(url))
    assert client.post(url, {"reason": "x"}).status_code == 403
