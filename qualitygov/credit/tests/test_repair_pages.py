"""Credit-repair pages: the enterprise applies through the page (only eligible records are offered,
the others show when they become eligible), officers accept and decide on the detail page, refusals
are shown in Chinese with nothing written, and the list filters by status, target and overdue."""

from __future__ import annotations

import datetime as dt

import pytest

from qualitygov.credit import repair
from qualitygov.credit.models import CreditRecord, Kind, RepairApplication
from qualitygov.credit.services import SourceRef, record_fact
from qualitygov.credit.tests.conftest import REPAIR_TODAY

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("repair_today")]

PENALTY_OK = {"penalties_fulfilled": True, "harm_removed": True, "no_repeat_violation": True}


def today() -> dt.date:
    return REPAIR_TODAY


def penalty(entity, *, days_ago=200, types=("fine",), n=1):
    return record_fact(entity=entity, kind=Kind.ADMINISTRATIVE_PENALTY, occurred_on=today() - dt.timedelta(days=days_ago),
                       source=SourceRef("enforcement", "penaltydecision", str(n)),
                       summary=f"销售不合格制动软管案{n}", department="长春市南关区市场监督管理局",
                       details={"penalty_types": list(types), "decision_number": f"南市监罚〔2026〕{n}号",
                                "fine_amount": "5000"}).record


def apply_form(record, **change) -> dict:
    data = {"subject": f"record-{record.pk}", "reason": "罚款已缴清，已召回问题产品", "commitment": "on"}
    data |= {f"cond_{name}": "on" for name in PENALTY_OK}
    return {k: v for k, v in (data | change).items() if v is not None}


def test_enterprise_sees_eligible_records_and_applies(registry, users, login):
    entity = registry["nanguan"]["entity"]
    ready, later = penalty(entity, n=1), penalty(entity, days_ago=10, n=2)
    warning = penalty(entity, types=("warning",), n=3)
    client = login("enterprise")
    assert 'href="/credit/repairs/add/"' in client.get("/credit/repairs/").content.decode()
    page = client.get("/credit/repairs/add/").content.decode()
    assert f'href="?subject=record-{ready.pk}"' in page
    assert f"record-{later.pk}" not in page
    assert f"{later.publish_min_until.isoformat()} 起可申请" in page
    assert warning.summary not in page
    assert client.get(f"/credit/repairs/add/?subject=record-{later.pk}").status_code == 404
    form = client.get(f"/credit/repairs/add/?subject=record-{ready.pk}").content.decode()
    assert "已经主动消除危害后果和不良影响" in form

    missing = client.post("/credit/repairs/add/", apply_form(ready, commitment=None))
    assert missing.status_code == 400 and "申请信用修复须作出信用承诺。" in missing.content.decode()
    assert not RepairApplication.objects.exists()

    done = client.post("/credit/repairs/add/", apply_form(ready))
    app = RepairApplication.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/credit/repairs/{app.pk}/"
    assert (app.record, app.applicant, app.status) == (ready, users["enterprise"], "submitted")
    detail = client.get(done["Location"]).content.decode()
    assert 'id="step-withdraw"' in detail and 'id="step-accept"' not in detail

    again = client.post("/credit/repairs/add/", apply_form(ready))
    assert again.status_code == 400 and "已有一份正在办理的信用修复申请" in again.content.decode()
    # The enterprise may not take an officer's step, even by posting it.
    assert client.post(f"/credit/repairs/{app.pk}/", {"step": "accept", "accept-on": today().isoformat()}).status_code == 403


def test_enterprise_cannot_apply_for_another_entitys_record(registry, users, login):
    other = penalty(registry["chaoyang"]["entity"])
    client = login("enterprise")
    assert client.post("/credit/repairs/add/", apply_form(other)).status_code == 404
    assert not RepairApplication.objects.exists()


def test_officer_accepts_and_approves_on_the_detail_page(registry, users, login):
    entity = registry["nanguan"]["entity"]
    record = penalty(entity)
    app = repair.submit(user=users["enterprise"], target="penalty_publication", record=record, reason="已整改",
                        commitment=True, conditions=PENALTY_OK)
    client = login("nanguan")
    page = client.get(f"/credit/repairs/{app.pk}/").content.decode()
    assert 'id="step-accept"' in page and 'id="step-refuse"' in page and 'id="step-decide"' not in page
    day = today().isoformat()
    assert client.post(f"/credit/repairs/{app.pk}/", {"step": "accept", "accept-on": day}).status_code == 302
    app.refresh_from_db()
    assert app.status == "accepted" and app.handled_by == users["nanguan"]

    unconfirmed = client.post(f"/credit/repairs/{app.pk}/", {"step": "decide", "decide-decision": "approve",
                                                              "decide-on": day, "decide-reasons": "符合条件"})
    assert unconfirmed.status_code == 400
    assert "未核实确认：已经自觉履行行政处罚决定中规定的义务。" in unconfirmed.content.decode()
    record.refresh_from_db()
    assert record.state == CreditRecord.State.ACTIVE

    data = {"step": "decide", "decide-decision": "approve", "decide-on": day, "decide-reasons": "经核实符合条件"}
    data |= {f"decide-confirm_{name}": "on" for name in PENALTY_OK}
    assert client.post(f"/credit/repairs/{app.pk}/", data).status_code == 302
    app.refresh_from_db()
    record.refresh_from_db()
    assert app.status == "approved" and record.state == CreditRecord.State.REPAIRED
    detail = client.get(f"/credit/repairs/{app.pk}/").content.decode()
    assert "准予修复" in detail and "已信用修复" in detail and 'id="step-' not in detail
    history = client.get(f"/credit/repairs/{app.pk}/history/")
    assert history.status_code == 200


def test_refusal_at_intake_without_reasons_is_shown(registry, users, login):
    record = penalty(registry["nanguan"]["entity"])
    app = repair.submit(user=users["enterprise"], target="penalty_publication", record=record, reason="已整改",
                        commitment=True, conditions=PENALTY_OK)
    client = login("changchun")
    response = client.post(f"/credit/repairs/{app.pk}/", {"step": "refuse", "refuse-on": today().isoformat(),
                                                          "refuse-reasons": ""})
    assert response.status_code == 400 and "不予受理须说明理由。" in response.content.decode()
    app.refresh_from_db()
    assert app.status == "submitted"


def test_officer_of_another_county_gets_404(registry, users, login):
    record = penalty(registry["nanguan"]["entity"])
    app = repair.submit(user=users["enterprise"], target="penalty_publication", record=record, reason="已整改",
                        commitment=True, conditions=PENALTY_OK)
    client = login("yanji")
    assert client.get(f"/credit/repairs/{app.pk}/").status_code == 404
    assert client.post(f"/credit/repairs/{app.pk}/", {"step": "accept"}).status_code == 404
    assert registry["nanguan"]["entity"].name not in client.get("/credit/repairs/").content.decode()
    # Officers do not apply.
    assert client.get("/credit/repairs/add/").status_code == 403


def test_list_filters_by_status_target_and_overdue(registry, users, login):
    entity = registry["nanguan"]["entity"]
    late = repair.submit(user=users["enterprise"], target="penalty_publication", record=penalty(entity, n=1),
                         reason="已整改", commitment=True, conditions=PENALTY_OK, on=today() - dt.timedelta(days=20))
    fresh = repair.submit(user=users["enterprise"], target="penalty_publication", record=penalty(entity, n=2),
                          reason="已整改", commitment=True, conditions=PENALTY_OK)
    client = login("nanguan")

    def rows(query: str) -> set[int]:
        response = client.get("/credit/repairs/" + query)
        assert response.status_code == 200
        return {row.record.pk for row in response.context["table"].page.object_list}

    assert rows("") == {late.pk, fresh.pk}
    assert rows("?overdue=yes") == {late.pk}
    assert rows("?overdue=no") == {fresh.pk}
    assert rows("?target=serious_list") == set()
    repair.accept(fresh, user=users["nanguan"])
    assert rows("?status=accepted") == {fresh.pk}
    assert "已超期" in client.get("/credit/repairs/?overdue=yes").content.decode()
    export = client.get("/credit/repairs/?overdue=yes&export=csv")
    assert export.status_code == 200
