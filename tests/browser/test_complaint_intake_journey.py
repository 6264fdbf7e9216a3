"""The complaint and tip-off intake in a real browser on a phone-sized screen (issue 6, "Done when"):
a citizen finds a registry entity by name, files a complaint against it and gets a tracking number; the
complaint lands in that entity's county with its acceptance deadline. An anonymous reporter files a
tip-off, notes the query code and password shown once, and follows the case with them."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from qualitygov.complaints import clocks
from qualitygov.complaints.models import Case, Submission

pytestmark = pytest.mark.browser

PHONE_SCREEN = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser):
    """A phone's browser: small touch screen, Chinese, Beijing time."""
    made = []

    def _new():
        ctx = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport=PHONE_SCREEN,
                                  is_mobile=True, has_touch=True, device_scale_factor=2)
        ctx.set_default_timeout(10_000)
        ctx.route("**/favicon.ico", lambda route: route.fulfill(status=204, body=""))
        made.append(ctx)
        page = ctx.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.qg_errors = errors
        return page

    yield _new
    for ctx in made:
        ctx.close()


def _fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE_SCREEN["width"]


def test_citizen_files_a_complaint_against_a_registry_entity_from_a_phone(phone, live_server, registry):
    entity = registry["nanguan"]["entity"]
    page = phone()
    page.goto(live_server.url + reverse("complaints-public:intake-form"))
    assert _fits_the_screen(page)
    page.fill("#id_name", "王小明")
    page.fill("#id_phone", "13812345678")
    page.fill("#id_address", "吉林省长春市南关区幸福街8号")
    page.fill("#qg-respondent-q", "nanguan")
    option = page.locator(".qg-respondent-option").first
    option.wait_for()
    assert entity.name in option.inner_text()
    option.tap()
    assert page.input_value("#id_respondent_uscc") == entity.uscc
    assert page.input_value("#id_respondent_name") == entity.name
    assert page.locator("#qg-respondent-chosen").is_visible()
    page.select_option("#id_category", "product_quality")
    page.fill("#id_product_name", "制动软管")
    page.fill("#id_request", "退货并退还货款 899 元")
    page.fill("#id_description", "购买的制动软管使用一周即开裂漏油，商家拒绝退货。")
    with page.expect_navigation():
        page.locator("#qg-submit").tap()
    number = page.inner_text("#qg-tracking-number").strip()
    assert number.startswith("TJ") and _fits_the_screen(page)
    assert "南关区" in page.inner_text(".qg-unit")
    case = Case.objects.get(submission__tracking_number=number)
    assert case.respondent_entity == entity and case.handling_unit_id == "220102"
    assert case.accept_due_on == clocks.pending(clocks.accept_due_on, timezone.localdate())
    assert not page.qg_errors, page.qg_errors


def test_anonymous_tip_off_is_followed_with_its_code_and_password(phone, live_server, registry):
    page = phone()
    page.goto(live_server.url + reverse("complaints-public:intake-form"))
    page.locator("label[for='id_kind_1']").tap()
    page.locator("#id_anonymous").check()
    # The identity section is hidden for an anonymous reporter.
    assert not page.locator("#qg-section-identity").is_visible()
    page.fill("#id_respondent_name", "延吉某加工点")
    page.fill("#id_respondent_address", "延吉市河南街")
    page.fill("#id_description", "该加工点用回收旧料翻新制动软管并贴其他厂家商标出售，每周二晚上装车发货。")
    with page.expect_navigation():
        page.locator("#qg-submit").tap()
    code = page.inner_text("#qg-query-code").strip()
    password = page.inner_text("#qg-query-password").strip()
    assert code.startswith("NM") and len(password) == 8
    submission = Submission.objects.get(query_code=code)
    assert submission.anonymous and password not in submission.query_password_hash

    later = phone()  # another day, another browser
    later.goto(live_server.url + reverse("complaints-public:intake-follow-up"))
    later.fill("#id_query_code", code)
    later.fill("#id_password", "WRONG123")
    with later.expect_navigation():
        later.locator("#qg-follow-up-submit").tap()
    assert "未找到匹配" in later.inner_text("#qg-form-errors")
    later.fill("#id_query_code", code)
    later.fill("#id_password", password)
    with later.expect_navigation():
        later.locator("#qg-follow-up-submit").tap()
    card = later.locator(".qg-case[data-kind='tip_off']")
    assert "待受理" in card.inner_text() and "延吉市" in card.inner_text()
    assert _fits_the_screen(later)
    assert not page.qg_errors and not later.qg_errors
