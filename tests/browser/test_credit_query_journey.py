"""The public credit query in a real browser (issue 4 item 6): a citizen searches an entity, reads its
credit file with the entity's statement beside a record, objects to the record and gets a tracking
number and an answer deadline; the county officer upholds the objection and the record leaves the
public page."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from qualitygov.credit import query
from qualitygov.credit.models import CreditObjection
from qualitygov.credit.tests import test_query as _base

# The shared fixtures of the query tests (defined in test_query.py).
credit = _base.credit
fixed_today = _base.fixed_today

pytestmark = pytest.mark.browser


def test_citizen_objects_and_officer_upholds(page, signed_in, live_server, credit, users):
    cache.clear()  # objection posts are limited per address in the process-wide cache
    query.submit_statement(credit["fine"], users["enterprise"], "我司已于四月完成整改。")
    page.goto(live_server.url + reverse("public-credit:search"))
    page.fill("#id_q", "测")
    page.click("#qg-credit-search button[type=submit]")
    page.wait_for_selector("#qg-search-error")
    assert "至少输入 2 个字" in page.inner_text("#qg-search-error")
    page.fill("#id_q", "nanguan汽车")
    page.click("#qg-credit-search button[type=submit]")
    page.click(f"text={credit['nanguan'].name}")
    page.wait_for_selector("#qg-entity-name")
    assert "AA" in page.inner_text("#qg-grade")
    card = f"#record-{credit['fine'].pk}"
    assert "我司已于四月完成整改。" in page.inner_text(f"{card} .qg-statement")
    assert credit["warning"].summary not in page.content()
    assert page.locator("#qg-pending").count() == 0

    page.click(f"{card} a:has-text('提出异议')")
    page.wait_for_selector("#qg-objection-form")
    page.click("#qg-objection-form button[type=submit]")
    page.wait_for_selector("text=请填写异议人姓名或名称。")
    page.fill("#id_name", "李四")
    page.fill("#id_contact", "13900000000")
    page.fill("#id_grounds", "处罚决定书载明的主体并非该企业。")
    page.click("#qg-objection-form button[type=submit]")
    page.wait_for_selector("#qg-tracking-number")
    objection = CreditObjection.objects.get()
    assert page.inner_text("#qg-tracking-number") == objection.tracking_number
    assert page.inner_text("#qg-answer-due") == "2026-07-14"
    page.goto(live_server.url + reverse("public-credit:entity", args=[credit["nanguan"].uscc]))
    assert page.inner_text("#qg-pending") == "重新评价中"

    officer = signed_in(users["nanguan"])
    officer.goto(live_server.url + reverse("credit:creditobjection_list"))
    officer.click(f"text={objection.tracking_number}")
    officer.wait_for_selector("#qg-answer")
    assert "13900000000" in officer.content()
    officer.check("#qg-answer input[value=upheld]")
    officer.fill("#id_answer", "经核查，处罚对象登记错误，撤下该条公示信息。")
    officer.click("#qg-answer button[type=submit]")
    officer.wait_for_url(re.compile(r"/credit/objections/\d+/$"))
    officer.wait_for_selector("text=异议成立，已更正")

    page.reload()
    assert page.locator(f"#record-{credit['fine'].pk}").count() == 0
    assert page.locator("#qg-pending").count() == 0
    assert "李四" not in page.content()
