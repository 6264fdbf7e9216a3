"""Credit repair in a real browser (issue 4, item 5): the enterprise applies for the early end of a
penalty's publication once its minimum period has passed; the county officer accepts and approves;
the record leaves publication and shows 已信用修复."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from qualitygov.credit.models import CreditRecord, Kind, RepairApplication
from qualitygov.credit.services import SourceRef, record_fact
from qualitygov.credit.tests.conftest import REPAIR_TODAY

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _pinned_today(monkeypatch):
    """Repair deadlines need a date in a year the holiday calendar covers (see credit/tests/conftest.py)."""
    from qualitygov.credit import repair

    monkeypatch.setattr(repair, "_today", lambda: REPAIR_TODAY)


def test_enterprise_applies_and_county_officer_approves(signed_in, new_context, live_server, registry, users):
    entity = registry["nanguan"]["entity"]
    record = record_fact(entity=entity, kind=Kind.ADMINISTRATIVE_PENALTY,
                         occurred_on=REPAIR_TODAY - dt.timedelta(days=200),
                         source=SourceRef("enforcement", "penaltydecision", "88"),
                         summary="销售不合格制动软管，罚款五千元", department="长春市南关区市场监督管理局",
                         details={"penalty_types": ["fine"], "decision_number": "南市监罚〔2026〕88号",
                                  "fine_amount": "5000"}).record
    assert CreditRecord.objects.filter(pk=record.pk).publicly_visible().exists()

    # The enterprise picks the eligible penalty and applies.
    page = signed_in(users["enterprise"])
    page.goto(live_server.url + "/credit/repairs/add/")
    page.click(f"#qg-apply-record-{record.pk}")
    page.wait_for_selector("#qg-apply-form")
    page.fill("#id_reason", "罚款已缴清，问题产品已全部召回并整改")
    page.check("#id_commitment")
    for name in ("penalties_fulfilled", "harm_removed", "no_repeat_violation"):
        page.check(f"#id_cond_{name}")
    page.click("#qg-apply-form button[type=submit]")
    page.wait_for_url(re.compile(r"/credit/repairs/\d+/$"))
    assert page.inner_text("#qg-repair-status") == "已提交，待受理"
    application = RepairApplication.objects.get(record=record)

    # The county officer accepts, then approves with the conditions confirmed.
    officer = signed_in(users["nanguan"], new_context())
    officer.goto(live_server.url + f"/credit/repairs/{application.pk}/")
    officer.fill("#id_accept-note", "材料齐全，予以受理")
    officer.click("#qg-step-accept button[type=submit]")
    officer.wait_for_selector("#qg-step-decide")
    assert officer.inner_text("#qg-repair-status") == "已受理，核实中"
    officer.check("#id_decide-decision_0")
    officer.fill("#id_decide-verification", "已核实缴款凭证和召回记录")
    officer.fill("#id_decide-reasons", "符合提前停止公示条件")
    for name in ("penalties_fulfilled", "harm_removed", "no_repeat_violation"):
        officer.check(f"#id_decide-confirm_{name}")
    officer.click("#qg-step-decide button[type=submit]")
    officer.wait_for_selector("#qg-repair-status:has-text('准予修复')")
    assert officer.inner_text("#qg-record-state") == "已信用修复"

    record.refresh_from_db()
    assert record.state == CreditRecord.State.REPAIRED
    assert not CreditRecord.objects.filter(pk=record.pk).publicly_visible().exists()
    # The enterprise's own view of the record says it was repaired.
    page.goto(live_server.url + record.get_absolute_url())
    assert "已信用修复" in page.inner_text("body")
