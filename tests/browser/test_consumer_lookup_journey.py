"""The consumer lookup on a phone (issue 5, item 7): a shopper types the code from the package into the
lookup page, and a phone's camera opens the Digital Link of the QR code on the resolver; both show the
product, its producer's grade, the failing spot check and the recall, on a phone-sized screen without
sideways scrolling. Nobody signs in."""

from __future__ import annotations

import pytest

from qualitygov.trace.tests import chain
from qualitygov.trace.tests import test_lookup as lookup_tests

pytestmark = pytest.mark.browser

world = lookup_tests.world
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser, live_server):
    ctx = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport=PHONE, is_mobile=True,
                              has_touch=True, device_scale_factor=3)
    ctx.set_default_timeout(10_000)
    ctx.route("**/favicon.ico", lambda route: route.fulfill(status=204, body=""))
    yield ctx.new_page()
    ctx.close()


def _fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_shopper_types_the_code_then_scans_the_qr_code(phone, live_server, world):
    page = phone
    page.goto(live_server.url + "/public/trace/")
    page.fill("#id_code", f"{chain.PRODUCT_GTIN[1:]} {chain.PRODUCT_BATCH}")
    page.click("#qg-lookup-form button[type=submit]")
    page.wait_for_load_state()
    assert page.inner_text("#qg-product h1") == world["product"].name
    assert page.inner_text("#qg-grade") == "B"
    recalls = page.inner_text("#recalls")
    assert world["recall"].number in recalls and "在召回范围内" in recalls
    assert world["sample"].failing_items[0]["name"] in page.inner_text("#spot-checks")
    assert chain.PLACES["processor"][4] in page.inner_text("#qg-chain")
    assert _fits_the_screen(page)

    # A mistyped code is explained on the page.
    page.fill("#id_code", "6901234000024")
    page.click("#qg-lookup-form button[type=submit]")
    page.wait_for_load_state()
    assert "校验位" in page.inner_text("#qg-lookup-error")

    # The camera opens the QR code's Digital Link on this host.
    response = page.goto(f"{live_server.url}/01/{chain.PRODUCT_GTIN}/10/{chain.PRODUCT_BATCH}?17=261231")
    assert response.status == 200
    assert page.inner_text("#qg-product h1") == world["product"].name
    assert "2026-12-31" in page.inner_text("#qg-product")
    assert _fits_the_screen(page)

    # A product that is not registered here says so.
    response = page.goto(f"{live_server.url}/01/06901234000047")
    assert response.status == 404
    assert "未在本平台登记" in page.inner_text("#qg-lookup-error")
