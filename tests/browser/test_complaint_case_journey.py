"""A complaint handled in a real browser (issue 6, "Done when"): the 南关区 officer opens the queue and
sees the complaint with its 7-working-day acceptance deadline computed across the National Day holiday,
accepts it, starts mediation, sends the respondent the mediation notice (which carries no reporter
data) and ends mediation with an agreement. The 延吉 officer cannot open the case."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from qualitygov.complaints.tests.factories import make_case

pytestmark = pytest.mark.browser

REPORTER = {"name": "慕容雪梅", "phone": "13611112222", "address": "吉林省长春市南关区幸福路99号"}


def submit_step(page, slug: str, values: dict[str, str], selects: dict[str, str] | None = None):
    page.click(f"#step-{slug} summary")
    for name, value in values.items():
        page.fill(f"#id_{slug}-{name}", value)
    for name, value in (selects or {}).items():
        page.select_option(f"#id_{slug}-{name}", value)
    with page.expect_navigation():
        page.click(f"#qg-submit-{slug}")


def test_officer_handles_a_complaint_and_another_county_cannot_see_it(signed_in, new_context, live_server, users,
                                                                      registry):
    case = make_case(respondent=registry["nanguan"]["entity"], received_on=dt.date(2026, 9, 29), reporter=REPORTER,
                     product_name="制动软管")
    officer = signed_in(users["nanguan"])
    errors = []
    officer.on("pageerror", lambda error: errors.append(str(error)))
    officer.goto(live_server.url + reverse("complaints:case_list"))
    row = officer.locator(f"#qg-case-table tr[data-case='{case.number}']")
    assert "2026-10-14" in row.inner_text()          # received Tue 29 Sep; 1–7 Oct are holidays
    with officer.expect_navigation():
        row.locator("a").first.click()
    assert officer.inner_text("#qg-accept-due").startswith("2026-10-14")
    # The page says how the date was counted: National Day skipped, the make-up Saturday counted.
    assert officer.inner_text("#qg-accept-due-note") == "收到后第 7 个工作日；节假日 10-01 至 10-07 不计；调休上班日 10-10 计入"
    assert REPORTER["name"] not in officer.content() and REPORTER["phone"] not in officer.content()

    submit_step(officer, "accept", {"on": "2026-10-09"})
    assert officer.inner_text("#qg-case-status") == "已受理"
    submit_step(officer, "start_mediation", {"on": "2026-10-12", "record": "双方同意调解"})
    assert officer.inner_text("#qg-case-status") == "调解中"
    submit_step(officer, "notice", {"on": "2026-10-12", "message": f"投诉人{REPORTER['name']}的电话{REPORTER['phone']}"})
    notice = officer.inner_text("#qg-case-notices")
    assert case.number in notice and "调解通知" in notice
    assert REPORTER["name"] not in notice and REPORTER["phone"] not in notice
    submit_step(officer, "end_mediation", {"on": "2026-10-20", "record": "退货退款 380 元"},
                selects={"outcome": "agreement"})
    assert officer.inner_text("#qg-case-status") == "调解终结"
    assert "达成调解协议" in officer.inner_text("#qg-mediation-outcome")
    kinds = officer.locator("#qg-timeline li").evaluate_all("items => items.map(i => i.dataset.kind)")
    assert kinds == ["received", "accepted", "mediation_started", "notice_sent", "mediation_ended"]
    assert not errors, errors

    other = signed_in(users["yanji"], new_context())
    response = other.goto(live_server.url + reverse("complaints:case_detail", args=[case.pk]))
    assert response.status == 404
    assert case.number not in other.content()
    other.goto(live_server.url + reverse("complaints:case_list"))
    assert other.locator(f"#qg-case-table tr[data-case='{case.number}']").count() == 0
