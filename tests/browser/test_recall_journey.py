"""Issue 5's "Done when" walk in a real browser, on the demo data as ``make run`` seeds it (registry,
spot checks, trace chains): a province officer traces the e-bike helmet batch that failed a spot check
forward and sees the four retailers holding it; starts a recall from that batch (producer, product and
the failed check's findings filled in), confirms the defect, files the plan — the scope lists those
retailers with their quantities and notices go to them — and publishes it. Then a shopper on a phone
opens the batch's Digital Link, types the code into the lookup form, and sees the recall notice."""

from __future__ import annotations

import pytest
from django.urls import reverse

from qualitygov.trace.tests.test_demo import seed_the_whole_demo

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser, live_server):
    ctx = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport=PHONE, is_mobile=True,
                              has_touch=True, device_scale_factor=3)
    ctx.set_default_timeout(10_000)
    ctx.route("**/favicon.ico", lambda route: route.fulfill(status=204, body=""))
    yield ctx.new_page()
    ctx.close()


def _submit(page, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def test_failed_batch_to_published_recall_seen_by_a_shopper(signed_in, phone, live_server):
    from qualitygov.core.models import User
    from qualitygov.trace.models import Location, Recall

    helmet = seed_the_whole_demo()["chains"]["helmet"]
    assert helmet["inspection_sample"], "the spot-check demo failed no helmet batch"
    gtin, lot = helmet["gtin"], helmet["lot"]
    shops = {loc.gln: loc.entity.name for loc in Location.objects.filter(gln__in=helmet["retailers"])
             .select_related("entity")}
    officer = signed_in(User.objects.get(username="province"))
    errors = []
    officer.on("pageerror", lambda error: errors.append(str(error)))

    # 1. The failed batch's forward trace lists the retailers holding it.
    officer.goto(live_server.url + reverse("trace:trace"))
    officer.fill("#id_id", f"{gtin[1:]} {lot}")
    officer.select_option("#id_direction", "forward")
    _submit(officer, "#qg-trace-submit")
    for gln, count in helmet["received"].items():
        row = officer.locator(f"#qg-trace-holders tr[data-gln='{gln}']")
        assert row.locator(".qg-qty").inner_text().replace(",", "") == str(count)

    # 2. A recall started from that batch: the producer, product and the failed check are filled in.
    officer.click("#qg-trace-start-recall")
    officer.wait_for_selector("#qg-recall-sample")
    assert helmet["inspection_sample"] in officer.inner_text("#qg-recall-sample")
    assert helmet["inspection_sample"] in officer.input_value("#id_hazard")
    for gln in helmet["retailers"]:
        assert officer.locator(f"#qg-recall-preview tr[data-gln='{gln}']").count() == 1
    _submit(officer, "#qg-recall-report-submit")
    recall = Recall.objects.get()
    assert officer.url.endswith(reverse("trace:recall_detail", args=[recall.pk]))

    # 3. The defect is confirmed and the plan filed: the scope and the notices list the retailers.
    officer.fill("#id_investigate-findings", "复检确认佩戴装置强度不合格")
    officer.select_option("#id_investigate-defect_confirmed", "yes")
    _submit(officer, "#step-investigate button[type=submit]")
    plan = {"quantity_made": "2000", "quantity_sold": "2000", "channels": "长春市、吉林市电动车配件批发和零售",
            "defect_cause": "佩戴装置强度不符合 GB 811 要求", "remedy": "免费更换合格头盔",
            "notification": "书面通知经销商，门店张贴召回公告",
            "consumer_advice": "立即停止佩戴，凭购买凭证到原购买门店免费更换合格头盔", "timetable": "30 日内完成"}
    for name, value in plan.items():
        officer.fill(f"#id_plan-{name}", value)
    _submit(officer, "#step-plan button[type=submit]")
    for gln, count in helmet["received"].items():
        row = officer.locator(f"#qg-recall-scope tr[data-gln='{gln}']")
        assert shops[gln] in row.inner_text() and row.locator(".qg-qty").inner_text().split()[0] == str(count)
        assert shops[gln] in officer.locator(f"#qg-recall-notices tr[data-gln='{gln}']").inner_text()

    # 4. Published on the portal.
    _submit(officer, "#step-publish button[type=submit]")
    assert "查看公告" in officer.inner_text("#qg-recall-published")
    assert not errors, errors

    # 5. The shopper's phone: the QR code's Digital Link, then the code typed into the lookup form.
    page = phone
    response = page.goto(f"{live_server.url}/01/{gtin}/10/{lot}")
    assert response.status == 200
    notice = page.inner_text("#recalls")
    assert recall.number in notice and "在召回范围内" in notice and plan["remedy"] in notice
    assert plan["consumer_advice"] in notice
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.goto(live_server.url + reverse("public-trace:lookup"))
    page.fill("#id_code", f"{gtin[1:]} {lot}")
    _submit(page, "#qg-lookup-form button[type=submit]")
    assert recall.number in page.inner_text("#recalls")
    _submit(page, f"#recalls a[href='{reverse('public-trace:recall_detail', args=[recall.number])}']")
    assert plan["consumer_advice"] in page.inner_text("#qg-consumer-advice")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.goto(live_server.url + reverse("public-trace:recall_list"))
    assert page.locator(f"article[data-number='{recall.number}']").count() == 1
