"""What an officer does in a real browser (issue 2, "Done when"): sign in on the Chinese login page,
see the dashboard map and only their county's entities, search, open an entity, correct its phone
number and find the change in its history; switch to English; read the API docs with no network
beyond the server; and be told, in Chinese, which check character a mistyped USCC should have.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlparse

import pytest
from django.urls import reverse
from stdnum.cn import uscc as stdnum_uscc

from qualitygov.conftest import PASSWORD, make_uscc

pytestmark = pytest.mark.browser


def _second_nanguan_entity(users):
    """A second entity in 南关区, so that the county's list has something for search to narrow."""
    from qualitygov.core.audit import acting_as
    from qualitygov.registry.models import MarketEntity

    with acting_as(users["admin"]):
        return MarketEntity.objects.create(
            uscc=make_uscc("220102", 77), name="长春南关第二食品有限公司", legal_representative="刘八",
            region_id="220102", industry_id="14", address="吉林省长春市南关区人民大街 77 号",
            registration_date=dt.date(2012, 6, 1))


def _table_names(page) -> list[str]:
    return page.locator("#qg-table tbody tr td:first-child").all_inner_texts()


def test_county_officer_journey(page, live_server, users, registry):
    """(a) Login → dashboard map → own county's entities only → search → detail → edit phone → history."""
    other = _second_nanguan_entity(users)
    own = registry["nanguan"]["entity"]

    page.goto(live_server.url + "/")
    assert urlparse(page.url).path == reverse("login"), "anonymous visitors are sent to the login page"
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("h1").inner_text() == "登录"
    assert "用户名" in page.locator("label[for=id_username]").inner_text()
    page.fill("#id_username", "nanguan")
    page.fill("#id_password", PASSWORD)
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.wait_for_url(live_server.url + "/")

    # The dashboard: the Jilin map is drawn (ECharts renders into a canvas) and counts the county only.
    page.wait_for_selector('#qg-map[data-ready="1"] canvas')
    assert page.locator("#qg-stat-entities").inner_text() == "2"
    assert "南关区" in page.locator("h1").inner_text()

    # The entity list: both 南关区 entities, nothing from 朝阳区 or 延吉市.
    page.goto(live_server.url + reverse("registry:marketentity_list"))
    assert sorted(_table_names(page)) == sorted([own.name, other.name])
    body = page.content()
    for key in ("chaoyang", "yanji"):
        assert registry[key]["entity"].name not in body and registry[key]["entity"].uscc not in body

    # Search through the filter form (htmx swaps the table in place).
    page.fill("#id_q", "第二食品")
    page.click("#qg-filter-form button[type=submit]")
    page.wait_for_function("document.querySelector('#qg-total').innerText.includes('共 1 条')")
    assert _table_names(page) == [other.name]
    page.fill("#id_q", "chaoyang")  # another county's entity stays invisible to search too
    page.click("#qg-filter-form button[type=submit]")
    page.wait_for_function("document.querySelector('#qg-total').innerText.includes('共 0 条')")
    page.fill("#id_q", "nanguan")
    page.click("#qg-filter-form button[type=submit]")
    page.wait_for_function("document.querySelector('#qg-total').innerText.includes('共 1 条')")

    # Open the entity, correct its phone number.
    page.click(f"#qg-table a:has-text('{own.name}')")
    page.wait_for_url(re.compile(rf".*/registry/entities/{own.pk}/$"))
    assert page.locator("#qg-uscc").inner_text() == own.uscc
    page.click("a:has-text('编辑')")
    page.wait_for_url(re.compile(rf".*/registry/entities/{own.pk}/edit/$"))
    page.fill("#id_phone", "0431-88776655")
    page.click("form.qg-form button[type=submit]")
    page.wait_for_url(re.compile(rf".*/registry/entities/{own.pk}/$"))
    assert "0431-88776655" in page.locator("table.qg-attrs").inner_text()
    own.refresh_from_db()
    assert own.phone == "0431-88776655"

    # The history page shows who changed what, in Chinese field names.
    page.click("a:has-text('变更历史')")
    page.wait_for_url(re.compile(rf".*/registry/entities/{own.pk}/history/$"))
    history = page.locator("#qg-history")
    first = history.locator("tbody tr").first
    assert "nanguan" in first.inner_text() and "修改" in first.inner_text()
    change = first.locator("table.qg-diff tbody tr")
    assert change.count() == 1
    field, before, after = change.locator("td").all_inner_texts()
    assert (field, after) == ("联系电话", "0431-88776655") and before in ("", "—")


def test_language_switch_to_english(signed_in, new_context, live_server, users, registry):
    """(b) Chinese by default, even in a browser set to English; the language menu switches the whole
    shell to English and back."""
    page = signed_in(users["nanguan"], new_context(locale="en-US"))
    page.goto(live_server.url + "/")
    nav = page.locator("#qg-nav")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "首页" in nav.inner_text()
    with page.expect_navigation():
        page.select_option("#qg-language-form select", "en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert urlparse(page.url).path == "/", "the switch returns to the page it was made on"
    english = nav.inner_text()
    assert "Home" in english and "首页" not in english, english
    # The choice sticks across pages, and switches back.
    page.goto(live_server.url + reverse("registry:marketentity_list"))
    assert page.locator("html").get_attribute("lang") == "en"
    with page.expect_navigation():
        page.select_option("#qg-language-form select", "zh-hans")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "首页" in page.locator("#qg-nav").inner_text()


def test_api_docs_render_offline(context, live_server):
    """(c) Swagger UI renders every operation with all requests outside the server blocked."""
    blocked: list[str] = []
    origin = live_server.url

    def only_local(route):
        url = route.request.url
        if url.startswith(origin + "/") or url.startswith("data:") or url.startswith("blob:"):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    page.goto(origin + "/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
    # Swagger UI renders only the operations near the viewport (a virtualised list): scroll through
    # the page as a reader would, collecting the operations as they appear.
    expected = {"/api/v1/entities/", "/api/v1/entities/{id}/", "/api/v1/products/", "/api/v1/licences/",
                "/api/v1/auth/token/"}
    paths: set[str] = set()
    for _step in range(400):
        paths |= {p.replace("\u200b", "").strip() for p in page.locator(".opblock-summary-path").all_inner_texts()}
        if expected <= paths:
            break
        page.mouse.wheel(0, 1200)
        page.wait_for_timeout(50)
    assert expected <= paths, paths
    assert page.locator(".swagger-ui .info .title").inner_text().startswith("QualityGov API")
    assert not blocked, f"/api/docs/ tried to load from outside the server: {blocked}"


def test_invalid_uscc_on_the_new_entity_form(signed_in, live_server, users, registry):
    """(d) A mistyped USCC is refused with a Chinese reason naming the expected check character."""
    from qualitygov.registry.models import MarketEntity

    good = make_uscc("220102", 4321)
    bad = good[:-1] + ("1" if good[-1] != "1" else "2")
    expected = stdnum_uscc.calc_check_digit(bad[:17])
    count = MarketEntity.objects.count()

    page = signed_in(users["nanguan"])
    page.goto(live_server.url + reverse("registry:marketentity_add"))
    assert page.locator("h1").inner_text().startswith("新建")
    page.fill("#id_uscc", bad)
    page.fill("#id_name", "长春南关新建测试有限公司")
    page.fill("#id_legal_representative", "陈九")
    page.select_option("#id_region", "220102")
    page.select_option("#id_industry", "36")
    page.fill("#id_address", "吉林省长春市南关区某路 9 号")
    page.fill("#id_registration_date", "2021-09-09")
    page.click("form.qg-form button[type=submit]")
    error = page.locator('.invalid-feedback[data-field="uscc"]')
    error.wait_for()
    text = error.inner_text()
    assert "统一社会信用代码校验码不符" in text and f"应为“{expected}”" in text and f"实际为“{bad[-1]}”" in text
    # The form keeps what was typed, and nothing was saved.
    assert page.locator("#id_name").input_value() == "长春南关新建测试有限公司"
    assert page.locator("#id_uscc").input_value() == bad
    assert MarketEntity.objects.count() == count
    assert not MarketEntity.objects.filter(name="长春南关新建测试有限公司").exists()
