"""Case handling (issue 6 items 2–4): every step validates the state, writes a timeline entry and
recomputes its deadlines; a wrong step is refused in Chinese and changes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from qualitygov.complaints import handling
from qualitygov.complaints.handling import CaseRefused
from qualitygov.complaints.models import (
    Case,
    CaseEvent,
    Category,
    JurisdictionDispute,
    Reminder,
    RespondentNotice,
)
from qualitygov.complaints.tests.factories import make_case
from qualitygov.core.models import Region
from qualitygov.credit.models import CreditRecord

pytestmark = pytest.mark.django_db
D = dt.date
S = Case.Status


@pytest.fixture
def complaint(registry):
    return make_case(respondent=registry["nanguan"]["entity"], received_on=D(2026, 9, 29))


def snapshot(case):
    case.refresh_from_db()
    return ({f.attname: getattr(case, f.attname) for f in Case._meta.concrete_fields if f.attname != "updated"},
            case.events.count(), case.respondent_notices.count(), case.disputes.count())


def refused(code, fn, case, *args, **kwargs):
    before = snapshot(case)
    with pytest.raises(CaseRefused) as error:
        fn(case, *args, **kwargs)
    assert error.value.code == code, error.value.messages
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error.value.messages[0]), "the refusal is said in Chinese"
    assert snapshot(case) == before, "a refused step changed the case"
    return error.value


def test_complaint_deadline_across_national_day_and_full_mediation(complaint, users):
    officer = users["nanguan"]
    assert complaint.accept_due_on == D(2026, 10, 14) and not complaint.calendar_pending
    handling.assign(complaint, officer, officer=officer, on=D(2026, 9, 30))
    handling.accept(complaint, officer, on=D(2026, 10, 9))
    assert complaint.status == S.ACCEPTED and complaint.accepted_on == D(2026, 10, 9)
    plain_due = complaint.mediation_due_on
    assert plain_due == handling.clocks.mediation_due_on(D(2026, 10, 9))
    handling.start_mediation(complaint, officer, on=D(2026, 10, 12), record="双方同意调解")
    handling.pause_mediation(complaint, officer, reason="委托检测软管爆破压力", on=D(2026, 10, 19))
    handling.resume_mediation(complaint, officer, on=D(2026, 10, 23))
    # Mon 19 – Fri 23 October: five working days of testing, not counted (Art. 20).
    assert complaint.mediation_due_on == handling.add_working_days(plain_due, 5)
    notice = handling.send_respondent_notice(complaint, officer, kind=RespondentNotice.Kind.MEDIATION,
                                             on=D(2026, 10, 13))
    assert notice.entity == complaint.respondent_entity and complaint.number in notice.text
    handling.end_mediation(complaint, officer, outcome=Case.MediationOutcome.NO_AGREEMENT, record="双方分歧较大",
                           on=D(2026, 10, 26))
    assert complaint.status == S.MEDIATION_ENDED
    assert complaint.end_notice_due_on == D(2026, 11, 4)  # 7 working days after Mon 26 Oct
    refused("wrong_state", handling.close, complaint, officer, outcome="x", on=D(2026, 10, 27))
    handling.notify_end(complaint, officer, on=D(2026, 10, 28))
    assert complaint.respondent_notices.filter(kind=RespondentNotice.Kind.MEDIATION_ENDED).count() == 1
    handling.close(complaint, officer, outcome="调解终止，已告知双方。", on=D(2026, 10, 29))
    assert complaint.status == S.CLOSED and complaint.closed_on == D(2026, 10, 29)
    kinds = list(complaint.events.values_list("kind", flat=True))
    assert kinds == ["received", "assigned", "accepted", "mediation_started", "pause_started", "pause_ended",
                     "notice_sent", "mediation_ended", "notice_sent", "closed"]
    assert complaint.events.filter(kind="accepted").get().by == officer


def test_wrong_step_is_refused_in_chinese_and_changes_nothing(complaint, users):
    officer = users["nanguan"]
    error = refused("wrong_state", handling.start_mediation, complaint, officer, on=D(2026, 10, 9))
    assert "待受理" in error.messages[0]
    handling.accept(complaint, officer, on=D(2026, 10, 9))
    refused("wrong_state", handling.accept, complaint, officer, on=D(2026, 10, 9))
    refused("wrong_state", handling.decide_filing, complaint, officer, decision="filed", on=D(2026, 10, 9))
    refused("future_date", handling.start_mediation, complaint, officer, on=dt.date.today() + dt.timedelta(days=1))
    refused("date_too_early", handling.start_mediation, complaint, officer, on=D(2026, 10, 8))
    refused("bad_outcome", handling.end_mediation, complaint, officer, outcome="nonsense", on=D(2026, 10, 12))
    # The 45-working-day ground only once the period has run out.
    refused("time_limit_not_reached", handling.end_mediation, complaint, officer,
            outcome=Case.MediationOutcome.TIME_LIMIT, on=D(2026, 10, 12))


def test_time_limit_outcome_after_45_working_days(registry, users):
    officer = users["nanguan"]
    complaint = make_case(respondent=registry["nanguan"]["entity"], received_on=D(2026, 7, 1))
    handling.accept(complaint, officer, on=D(2026, 7, 2))
    handling.start_mediation(complaint, officer, on=D(2026, 7, 2))
    due = complaint.mediation_due_on
    handling.end_mediation(complaint, officer, outcome=Case.MediationOutcome.TIME_LIMIT, on=due + dt.timedelta(days=1))
    assert complaint.mediation_outcome == "time_limit"


def test_agreement_needs_no_end_notice(complaint, users):
    officer = users["nanguan"]
    handling.accept(complaint, officer, on=D(2026, 10, 9))
    handling.start_mediation(complaint, officer, on=D(2026, 10, 9))
    refused("record_required", handling.end_mediation, complaint, officer,
            outcome=Case.MediationOutcome.AGREEMENT, on=D(2026, 10, 12))
    handling.end_mediation(complaint, officer, outcome=Case.MediationOutcome.AGREEMENT, record="退货退款 380 元",
                           on=D(2026, 10, 12))
    assert complaint.end_notice_due_on is None and "notify_end" not in handling.available_steps(complaint, officer)
    handling.close(complaint, officer, outcome="达成调解协议并履行", on=D(2026, 10, 13))


def test_art15_three_year_limit_and_non_consumer(registry, users):
    officer = users["nanguan"]
    barred = make_case(respondent=registry["nanguan"]["entity"], received_on=D(2026, 9, 29), aware_on=D(2023, 9, 28))
    error = refused("time_barred", handling.accept, barred, officer, on=D(2026, 9, 30))
    assert "三年" in error.messages[0]
    handling.reject(barred, officer, ground=Case.RejectionGround.TIME_BARRED, on=D(2026, 9, 30))
    assert barred.status == S.REJECTED and barred.closed_on == D(2026, 9, 30)

    in_time = make_case(respondent=registry["nanguan"]["entity"], received_on=D(2026, 9, 29), aware_on=D(2023, 9, 29))
    refused("not_time_barred", handling.reject, in_time, officer, ground=Case.RejectionGround.TIME_BARRED,
            on=D(2026, 9, 30))
    refused("note_required", handling.reject, in_time, officer, ground=Case.RejectionGround.ALREADY_HANDLED,
            on=D(2026, 9, 30))
    handling.accept(in_time, officer, on=D(2026, 9, 30))

    business = make_case(respondent=registry["nanguan"]["entity"], received_on=D(2026, 9, 29),
                         for_personal_consumption=False)
    refused("not_consumer", handling.accept, business, officer, on=D(2026, 9, 30))
    handling.reject(business, officer, ground=Case.RejectionGround.NOT_CONSUMER, on=D(2026, 9, 30))
    assert business.rejection_ground == "not_consumer"


def test_only_officers_of_the_unit_may_handle(complaint, users):
    for name in ("yanji", "inspector", "lab", "enterprise", "consumer"):
        refused("not_permitted", handling.accept, complaint, users[name], on=D(2026, 10, 9))
    # The city officer of 长春 covers 南关区.
    handling.accept(complaint, users["changchun"], on=D(2026, 10, 9))
    refused("bad_officer", handling.assign, complaint, users["changchun"], officer=users["yanji"], on=D(2026, 10, 9))
    assert complaint.assigned_to is None
    assert handling.available_steps(complaint, users["yanji"]) == []


def test_transfer_restarts_the_acceptance_clock_for_the_new_unit(complaint, users):
    chaoyang = Region.objects.get(pk="220104")
    refused("reason_required", handling.transfer, complaint, users["nanguan"], to_unit=chaoyang, reason=" ",
            on=D(2026, 11, 2))
    handling.assign(complaint, users["nanguan"], officer=users["nanguan"], on=D(2026, 10, 9))
    handling.transfer(complaint, users["nanguan"], to_unit=chaoyang, reason="被投诉人实际经营地在朝阳区（第十二条）",
                      on=D(2026, 11, 2))
    assert complaint.handling_unit_id == "220104" and complaint.assigned_to is None
    assert complaint.accept_due_on == D(2026, 11, 11)
    assert not handling.can_handle(users["nanguan"], complaint) and handling.can_handle(users["changchun"], complaint)
    event = complaint.events.get(kind=CaseEvent.Kind.TRANSFERRED)
    assert event.data["from_unit"] == "220102" and "朝阳区" in event.text


def test_dispute_escalates_to_the_common_superior_after_seven_working_days(complaint, users):
    chaoyang, changchun = Region.objects.get(pk="220104"), Region.objects.get(pk="220100")
    dispute = handling.raise_dispute(complaint, users["nanguan"], other_unit=chaoyang, reason="经营地与住所地不一致",
                                     on=D(2026, 11, 2))
    assert dispute.escalate_due_on == D(2026, 11, 11)
    refused("wrong_state", handling.accept, complaint, users["nanguan"], on=D(2026, 11, 3))
    assert handling.escalate_overdue_disputes(D(2026, 11, 11)) == 0   # the last day to agree
    assert handling.escalate_overdue_disputes(D(2026, 11, 12)) == 1
    dispute.refresh_from_db()
    assert dispute.escalated_to == changchun and dispute.escalated_on == D(2026, 11, 12)
    assert handling.escalate_overdue_disputes(D(2026, 11, 13)) == 0   # once
    # Now only 长春市 (or above) designates the unit.
    refused("not_permitted", handling.resolve_dispute, complaint, users["nanguan"], decided_unit=chaoyang,
            on=D(2026, 11, 13))
    handling.resolve_dispute(complaint, users["changchun"], decided_unit=chaoyang, on=D(2026, 11, 13))
    assert complaint.handling_unit == chaoyang and complaint.accept_due_on == D(2026, 11, 24)
    assert JurisdictionDispute.objects.get(pk=dispute.pk).decided_unit == chaoyang


def test_common_superior_of_units_in_two_cities_is_the_province():
    nanguan, yanji = Region.objects.get(pk="220102"), Region.objects.get(pk="222401")
    assert handling.common_superior(nanguan, yanji).pk == "220000"
    assert handling.common_superior(nanguan, Region.objects.get(pk="220104")).pk == "220100"


def test_tip_off_filing_reporter_notice_penalty_and_credit(registry, users):
    officer, entity = users["nanguan"], registry["nanguan"]["entity"]
    tip = make_case(kind=Case.Kind.TIP_OFF, respondent=entity, received_on=D(2026, 11, 2))
    assert tip.verification_due_on == D(2026, 11, 23) and tip.accept_due_on is None
    handling.start_verification(tip, officer, on=D(2026, 11, 3))
    refused("number_required", handling.decide_filing, tip, officer, decision="filed", on=D(2026, 11, 10))
    handling.decide_filing(tip, officer, decision="filed", enforcement_case_number="南市监立〔2026〕88号",
                           on=D(2026, 11, 10))
    assert tip.status == S.FILED and tip.reporter_notice_due_on == D(2026, 11, 17)
    refused("wrong_state", handling.close, tip, officer, outcome="x", on=D(2026, 11, 11))
    handling.notify_reporter(tip, officer, on=D(2026, 11, 12))
    handling.link_penalty(tip, officer, penalty_decision_number="南市监罚〔2026〕12号", decided_on=D(2026, 11, 20),
                          fine_amount=Decimal("50000"), confiscation_amount=Decimal("1200"), on=D(2026, 11, 20))
    records = CreditRecord.objects.filter(entity=entity, source_module="complaints", source_id=str(tip.pk))
    assert set(records.values_list("kind", flat=True)) == {"administrative_penalty", "verified_tip_off"}
    penalty = records.get(kind="administrative_penalty")
    assert penalty.details["penalty_types"] == ["fine", "confiscation_of_income"]
    assert "王小明" not in penalty.summary and tip.credit_record.kind == "verified_tip_off"
    refused("wrong_state", handling.link_penalty, tip, officer, penalty_decision_number="x",
            decided_on=D(2026, 11, 20), fine_amount=Decimal(1), on=D(2026, 11, 20))
    handling.close(tip, officer, outcome="罚款五万元，没收违法所得", on=D(2026, 11, 23))
    assert tip.status == S.CLOSED


def test_anonymous_tip_off_has_no_reporter_notice(registry, users):
    officer = users["nanguan"]
    tip = make_case(kind=Case.Kind.TIP_OFF, respondent=registry["nanguan"]["entity"], received_on=D(2026, 11, 2),
                    anonymous=True)
    handling.decide_filing(tip, officer, decision="not_filed", note="经核查未发现违法行为", on=D(2026, 11, 10))
    assert tip.reporter_notice_due_on is None
    error = refused("wrong_state", handling.notify_reporter, tip, officer, on=D(2026, 11, 11))
    assert "匿名" in error.messages[0]
    handling.close(tip, officer, outcome="不予立案", on=D(2026, 11, 11))


def test_clue_found_in_mediation_is_verified_within_15_plus_15_days(complaint, users):
    officer = users["nanguan"]
    handling.accept(complaint, officer, on=D(2026, 10, 9))
    handling.start_mediation(complaint, officer, on=D(2026, 10, 9))
    handling.record_clue(complaint, officer, text="疑似销售不合格产品", on=D(2026, 11, 2))
    assert complaint.verification_due_on == D(2026, 11, 23)
    handling.extend_verification(complaint, officer, reason="需调取进货记录", on=D(2026, 11, 20))
    assert complaint.verification_due_on == D(2026, 12, 14)
    refused("wrong_state", handling.extend_verification, complaint, officer, reason="再延", on=D(2026, 11, 21))
    handling.verify(complaint, officer, violation_found=True, findings="确认销售不合格制动软管", on=D(2026, 11, 25))
    assert complaint.credit_record.kind == "verified_complaint"
    assert complaint.credit_record.entity == complaint.respondent_entity


def test_coding_is_editable_and_refuses_no_change(complaint, users, registry):
    officer = users["nanguan"]
    product = registry["nanguan"]["product"]
    handling.code_case(complaint, officer, category=Category.COUNTERFEIT, product=product, on=D(2026, 10, 9))
    assert complaint.category == "counterfeit" and complaint.product == product
    assert complaint.product_category_id == product.category_id and complaint.product_name == product.name
    refused("unchanged", handling.code_case, complaint, officer, category=Category.COUNTERFEIT, on=D(2026, 10, 9))
    refused("bad_category", handling.code_case, complaint, officer, category="nope", on=D(2026, 10, 9))


def test_pending_deadline_when_calendar_does_not_cover_and_daily_fill(registry, users):
    late = make_case(respondent=registry["nanguan"]["entity"], received_on=D(2026, 12, 28)) \
        if dt.date.today() >= D(2026, 12, 28) else None
    # Build the same state directly when today is before 28 December: the factory computes from facts.
    case = make_case(respondent=registry["nanguan"]["entity"], received_on=D(2026, 9, 29))
    values = handling.compute_deadlines(Case(kind="complaint", received_on=D(2026, 12, 28),
                                             submission=case.submission, handling_unit=case.handling_unit))
    assert values["accept_due_on"] is None and values["calendar_pending"] is True
    if late is not None:
        assert late.calendar_pending and late.accept_due_on is None
    # A case left pending whose year the calendar now covers is filled by the daily job.
    Case.objects.filter(pk=case.pk).update(accept_due_on=None, calendar_pending=True)
    assert handling.fill_pending_deadlines(D(2026, 10, 1)) == 1
    case.refresh_from_db()
    assert case.accept_due_on == D(2026, 10, 14) and not case.calendar_pending


def test_due_lists_per_unit_and_officer_and_reminders_once(registry, users):
    officer = users["nanguan"]
    mine = make_case(respondent=registry["nanguan"]["entity"], received_on=D(2026, 9, 29), assigned_to=officer)
    unassigned = make_case(respondent=registry["nanguan"]["entity"], received_on=D(2026, 10, 9))
    other = make_case(respondent=registry["yanji"]["entity"], received_on=D(2026, 9, 29))
    today = D(2026, 10, 16)   # mine overdue since 14 Oct; unassigned due 20 Oct (within 3 working days)
    lists = handling.due_lists(officer, today=today)
    assert [(i.case, i.deadline) for i in lists["overdue"]] == [(mine, "accept")]
    assert [(i.case, i.deadline) for i in lists["due"]] == [(unassigned, "accept")]
    assert handling.due_lists(officer, today=today, officer=officer)["due"] == []
    city = handling.due_lists(users["changchun"], today=today)
    assert other not in {i.case for i in city["overdue"] + city["due"]}
    province = handling.due_lists(users["province"], today=today, unit=Region.objects.get(pk="222401"))
    assert [i.case for i in province["overdue"]] == [other]
    assert handling.send_reminders(today) == 3
    assert handling.send_reminders(today) == 0
    reminder = Reminder.objects.get(case=mine)
    assert reminder.recipient == officer and reminder.overdue and reminder.deadline == "accept"
    assert Reminder.objects.get(case=unassigned).recipient is None
    assert mine.events.filter(kind=CaseEvent.Kind.REMINDER).count() == 1


def test_daily_job_command(registry, users, capsys):
    import json

    from django.core.management import call_command

    case = make_case(respondent=registry["nanguan"]["entity"], received_on=D(2026, 11, 2))
    handling.raise_dispute(case, users["nanguan"], other_unit=Region.objects.get(pk="220104"), reason="住所地争议",
                           on=D(2026, 11, 2))
    pending = make_case(respondent=registry["nanguan"]["entity"], received_on=D(2026, 9, 29))
    Case.objects.filter(pk=pending.pk).update(accept_due_on=None, calendar_pending=True)
    call_command("complaints_daily", "--date", "2026-11-12")
    summary = json.loads(capsys.readouterr().out)
    # Escalation runs before the reminders, so the escalated dispute is no longer a deadline to remind of;
    # both complaints are past their acceptance deadlines (11 Nov and, once filled, 14 Oct).
    assert summary == {"date": "2026-11-12", "deadlines_filled": 1, "disputes_escalated": 1, "reminders": 2,
                       "client_digests_cleared": 0, "rewards": {"expired": 0, "claim_due_filled": 0}}
    assert set(Reminder.objects.values_list("case_id", "deadline", "overdue")) == {
        (case.pk, "accept", True), (pending.pk, "accept", True)}
    call_command("complaints_daily", "--date", "2026-11-12")
    again = json.loads(capsys.readouterr().out)
    assert again["deadlines_filled"] == 0 and again["disputes_escalated"] == 0 and again["reminders"] == 0
