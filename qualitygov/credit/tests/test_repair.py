"""Credit repair services (``credit.repair``): every rule of submission and handling, the working-day
deadlines across the 2026 National Day holiday, and the effect of an approval (record repaired and
withdrawn from publication, list entries removed, change-feed events, the entity rescored)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType

from qualitygov.core.models import AuditLog, User
from qualitygov.credit import lists, repair, scoring
from qualitygov.credit.models import (
    ChangeEvent,
    CreditRecord,
    EntityScore,
    Kind,
    ListEntry,
    RepairApplication,
)
from qualitygov.credit.services import SourceRef, record_fact
from qualitygov.registry.models import EntityMembership

pytestmark = pytest.mark.django_db

D = dt.date
PENALTY_OK = {"penalties_fulfilled": True, "harm_removed": True, "no_repeat_violation": True}
SERIOUS_OK = {"corrected": True, "penalties_fulfilled": True, "no_new_violations": True}
T = RepairApplication.Target
DECIDED_ON, RECEIVED_ON = D(2026, 1, 15), D(2026, 9, 30)


def penalty(entity, *, occurred_on=DECIDED_ON, types=("fine",), number="吉市监罚〔2026〕1号", n=1, user=None,
            kind=Kind.ADMINISTRATIVE_PENALTY):
    details = {"penalty_types": list(types), "decision_number": number, "fine_amount": "20000"}
    return record_fact(entity=entity, kind=kind, occurred_on=occurred_on,
                       source=SourceRef("enforcement", "penaltydecision", str(n)),
                       summary="生产销售不合格制动软管，罚款二万元", details=details,
                       department="长春市南关区市场监督管理局", user=user).record


def apply_for(record, user, on=RECEIVED_ON, **kwargs):
    values = {"reason": "已缴清罚款并完成整改", "commitment": True, "conditions": PENALTY_OK} | kwargs
    return repair.submit(user=user, target=T.PENALTY_PUBLICATION, record=record, on=on, **values)


def refused(excinfo) -> tuple[str, str]:
    return excinfo.value.code, " ".join(excinfo.value.messages)


@pytest.fixture
def nanguan(registry):
    return registry["nanguan"]["entity"]


# --------------------------------------------------------------------------------------------------
# Submission


def test_submission_stores_the_intake_deadline_across_the_national_day_holiday(nanguan, users):
    record = penalty(nanguan)
    assert record.publish_min_until == D(2026, 4, 15)
    app = apply_for(record, users["enterprise"])
    # Received Wed 30 Sep 2026; 1–7 Oct are holidays → the 2nd working day after is Fri 9 Oct.
    assert (app.status, app.received_on, app.accept_due_on) == ("submitted", D(2026, 9, 30), D(2026, 10, 9))
    assert app.entity == nanguan and app.applicant == users["enterprise"] and app.decide_due_on is None
    assert app.conditions == PENALTY_OK and app.commitment
    created = AuditLog.objects.get(content_type=ContentType.objects.get_for_model(RepairApplication),
                                   object_id=str(app.pk), action="create")
    assert created.user == users["enterprise"]


def test_before_the_minimum_period_is_refused_naming_the_date(nanguan, users):
    record = penalty(nanguan, occurred_on=D(2026, 7, 1))
    with pytest.raises(repair.RepairRefused) as excinfo:
        apply_for(record, users["enterprise"], on=D(2026, 9, 30))
    code, message = refused(excinfo)
    assert code == "before_minimum_period" and "2026-10-01" in message
    assert not RepairApplication.objects.exists()
    # From the day the minimum period ends, the application is received.
    assert apply_for(record, users["enterprise"], on=D(2026, 10, 1)).status == "submitted"


@pytest.mark.parametrize(("types", "kind", "code"), [
    (("warning",), Kind.ADMINISTRATIVE_PENALTY, "not_published"),
    (("fine", "licence_revocation"), Kind.ADMINISTRATIVE_PENALTY, "never_ends_early"),
    (("production_suspension",), Kind.ADMINISTRATIVE_PENALTY, "never_ends_early"),
    (("fine",), Kind.SPOT_CHECK_UNQUALIFIED, "not_a_penalty"),
])
def test_records_that_cannot_end_early_are_refused(nanguan, users, types, kind, code):
    record = penalty(nanguan, types=types, kind=kind, occurred_on=D(2025, 3, 1))
    with pytest.raises(repair.RepairRefused) as excinfo:
        apply_for(record, users["enterprise"])
    assert refused(excinfo)[0] == code
    assert not RepairApplication.objects.exists()
    assert all(c.record != record for c in repair.candidates(nanguan.pk))


def test_a_repaired_or_revoked_record_cannot_be_applied_for(nanguan, users):
    record = penalty(nanguan)
    CreditRecord.objects.filter(pk=record.pk).update(state=CreditRecord.State.REVOKED)
    record.refresh_from_db()
    with pytest.raises(repair.RepairRefused) as excinfo:
        apply_for(record, users["enterprise"])
    assert refused(excinfo)[0] == "not_active"


def test_only_an_enterprise_user_of_the_entity_applies(registry, users):
    other = penalty(registry["chaoyang"]["entity"])
    with pytest.raises(repair.RepairRefused) as excinfo:
        apply_for(other, users["enterprise"])
    assert refused(excinfo)[0] == "wrong_entity"
    own = penalty(registry["nanguan"]["entity"], n=2)
    for officer in ("nanguan", "admin", "consumer"):
        with pytest.raises(repair.RepairRefused) as excinfo:
            apply_for(own, users[officer])
        assert refused(excinfo)[0] == "wrong_entity"
    assert not RepairApplication.objects.exists()


@pytest.mark.parametrize(("change", "code"), [
    ({"reason": "  "}, "missing_reasons"),
    ({"commitment": False}, "commitment_missing"),
    ({"conditions": PENALTY_OK | {"harm_removed": False}}, "conditions_unmet"),
    ({"on": D(2030, 1, 1)}, "future_date"),
])
def test_incomplete_applications_are_refused(nanguan, users, change, code):
    record = penalty(nanguan)
    with pytest.raises(repair.RepairRefused) as excinfo:
        apply_for(record, users["enterprise"], **change)
    assert refused(excinfo)[0] == code
    assert not RepairApplication.objects.exists()


def test_one_open_application_per_record_and_again_after_withdrawal(nanguan, users):
    record = penalty(nanguan)
    first = apply_for(record, users["enterprise"])
    with pytest.raises(repair.RepairRefused) as excinfo:
        apply_for(record, users["enterprise"], on=D(2026, 10, 8))
    code, message = refused(excinfo)
    assert code == "already_open" and "2026-09-30" in message
    # Officers may not withdraw for the entity.
    with pytest.raises(repair.RepairRefused) as excinfo:
        repair.withdraw(first, user=users["nanguan"])
    assert refused(excinfo)[0] == "wrong_entity"
    assert repair.withdraw(first, user=users["enterprise"]).status == "withdrawn"
    with pytest.raises(repair.RepairRefused) as excinfo:
        repair.withdraw(first, user=users["enterprise"])
    assert refused(excinfo)[0] == "wrong_state"
    assert apply_for(record, users["enterprise"], on=D(2026, 10, 8)).status == "submitted"


def test_candidates_show_when_each_becomes_eligible(nanguan, users):
    early = penalty(nanguan, occurred_on=D(2026, 1, 15), n=1)
    late = penalty(nanguan, occurred_on=D(2026, 11, 20), n=2)
    penalty(nanguan, types=("warning",), n=3)
    found = {c.record.pk: c for c in repair.candidates(nanguan.pk) if c.record}
    assert set(found) == {early.pk, late.pk}
    assert found[early.pk].eligible_from == D(2026, 4, 15) and found[early.pk].eligible(D(2026, 9, 30))
    assert found[late.pk].eligible_from == D(2027, 2, 20) and not found[late.pk].eligible(D(2026, 12, 1))
    apply_for(early, users["enterprise"])
    again = {c.record.pk: c for c in repair.candidates(nanguan.pk) if c.record}
    assert again[early.pk].open_application and not again[early.pk].eligible(D(2026, 9, 30))


def test_a_deadline_beyond_the_published_calendar_is_left_pending_not_guessed(nanguan, users, monkeypatch):
    """The 2027 holiday arrangement is not published (core.workdays): a deadline running into 2027 is
    neither guessed nor allowed to block the application — it stays pending until the daily job can
    compute it from a calendar that covers the year."""
    monkeypatch.setattr(repair, "_today", lambda: D(2026, 12, 31))
    record = penalty(nanguan)
    # 2 working days after 30 Dec 2026 fall in 2027, whose arrangement is not published: the
    # application is taken, its deadline pending — neither refused nor guessed.
    app = apply_for(record, users["enterprise"], on=D(2026, 12, 30))
    assert app.status == "submitted" and app.accept_due_on is None
    assert not repair.is_overdue(app, on=D(2027, 3, 1))
    app.delete()
    app = apply_for(record, users["enterprise"], on=D(2026, 12, 14))
    assert app.accept_due_on == D(2026, 12, 16)
    # 15 working days after 15 Dec 2026 would end in January 2027.
    app = repair.accept(app, user=users["nanguan"], on=D(2026, 12, 15))
    assert app.status == "accepted" and app.decide_due_on is None
    assert repair.fill_pending_deadlines() == 0  # still not covered
    # Once the calendar covers 2027 (here: pretend it does), the daily job fills the deadline in.
    from qualitygov.core import workdays

    monkeypatch.setattr(workdays, "last_covered_year", lambda: 2027)
    assert repair.fill_pending_deadlines() == 1
    app.refresh_from_db()
    assert app.decide_due_on == workdays.add_working_days(D(2026, 12, 15), repair.DECIDE_WORKING_DAYS)


# --------------------------------------------------------------------------------------------------
# Handling


def test_acceptance_sets_the_decision_deadline_and_the_handler(nanguan, users):
    app = apply_for(penalty(nanguan), users["enterprise"])
    app = repair.accept(app, user=users["nanguan"], on=D(2026, 10, 9), note="材料齐全")
    # 15 working days after Fri 9 Oct 2026, counting the make-up Saturday 10 Oct → Thu 29 Oct.
    assert (app.status, app.accepted_on, app.decide_due_on) == ("accepted", D(2026, 10, 9), D(2026, 10, 29))
    assert app.handled_by == users["nanguan"] and app.verification_note == "材料齐全"
    assert not repair.is_overdue(app, D(2026, 10, 29)) and repair.is_overdue(app, D(2026, 10, 30))
    entry = AuditLog.objects.filter(content_type=ContentType.objects.get_for_model(RepairApplication),
                                    object_id=str(app.pk), action="update").latest("time")
    assert entry.user == users["nanguan"]


def test_a_late_step_is_allowed_and_shown_overdue(nanguan, users):
    app = apply_for(penalty(nanguan), users["enterprise"])
    overdue = RepairApplication.objects.filter(repair.overdue_q(D(2026, 10, 12)))
    assert list(overdue) == [app]
    assert not RepairApplication.objects.filter(repair.overdue_q(D(2026, 10, 9))).exists()
    app = repair.accept(app, user=users["nanguan"], on=D(2026, 10, 12))
    assert app.status == "accepted" and repair.is_overdue(app, D(2026, 10, 12)) is False
    app = repair.decide(app, user=users["nanguan"], approve=False, reasons="罚款尚未缴清", on=D(2026, 10, 13))
    # Closed, but accepted after the intake deadline: still shown as late.
    assert repair.is_overdue(app, D(2026, 10, 13))


def test_steps_need_an_officer_in_scope_and_the_right_state(nanguan, users):
    app = apply_for(penalty(nanguan), users["enterprise"])
    for who in ("yanji", "enterprise", "inspector", "lab", "consumer"):
        with pytest.raises(repair.RepairRefused) as excinfo:
            repair.accept(app, user=users[who], on=D(2026, 10, 8))
        assert refused(excinfo)[0] == "not_handler", who
    with pytest.raises(repair.RepairRefused) as excinfo:
        repair.decide(app, user=users["nanguan"], approve=True, reasons="符合条件", confirmed=PENALTY_OK,
                      on=D(2026, 10, 8))
    assert refused(excinfo)[0] == "wrong_state"
    with pytest.raises(repair.RepairRefused) as excinfo:
        repair.accept(app, user=users["changchun"], on=D(2026, 9, 29))
    assert refused(excinfo)[0] == "before_previous_step"
    app.refresh_from_db()
    assert app.status == "submitted" and app.handled_by is None
    repair.accept(app, user=users["changchun"], on=D(2026, 10, 8))
    with pytest.raises(repair.RepairRefused) as excinfo:
        repair.accept(app, user=users["changchun"], on=D(2026, 10, 8))
    assert refused(excinfo)[0] == "wrong_state"


def test_refusal_at_intake_needs_reasons_and_is_shared(nanguan, users):
    app = apply_for(penalty(nanguan), users["enterprise"])
    with pytest.raises(repair.RepairRefused) as excinfo:
        repair.refuse(app, user=users["nanguan"], reasons=" ", on=D(2026, 10, 8))
    assert refused(excinfo)[0] == "missing_reasons"
    app = repair.refuse(app, user=users["nanguan"], reasons="申请材料不全", on=D(2026, 10, 8))
    assert (app.status, app.decision_note, app.decided_on) == ("not_accepted", "申请材料不全", D(2026, 10, 8))
    event = ChangeEvent.objects.get(kind=ChangeEvent.Kind.REPAIR_DECIDED)
    assert event.payload["status"] == "not_accepted" and event.payload["record"] == app.record_id


def test_denial_leaves_the_record_published(nanguan, users):
    record = penalty(nanguan)
    app = repair.accept(apply_for(record, users["enterprise"]), user=users["nanguan"], on=D(2026, 10, 8))
    with pytest.raises(repair.RepairRefused) as excinfo:
        repair.decide(app, user=users["nanguan"], approve=False, reasons="", on=D(2026, 10, 9))
    assert refused(excinfo)[0] == "missing_reasons"
    app = repair.decide(app, user=users["nanguan"], approve=False, reasons="同类违法行为再次受到处罚", on=D(2026, 10, 9))
    assert app.status == "denied" and app.decision_note == "同类违法行为再次受到处罚"
    record.refresh_from_db()
    assert record.state == CreditRecord.State.ACTIVE
    assert CreditRecord.objects.filter(pk=record.pk).publicly_visible().exists()
    assert ChangeEvent.objects.filter(kind=ChangeEvent.Kind.REPAIR_DECIDED, object_id=str(app.pk)).count() == 1


# --------------------------------------------------------------------------------------------------
# Effect of an approval


def test_approval_repairs_the_record_withdraws_it_and_rescores(nanguan, users):
    scoring.load_default_model()
    record = penalty(nanguan)
    scoring.rescore_entities([nanguan.pk])
    before = EntityScore.objects.get(entity=nanguan).score
    model = scoring.active_model()
    assert before < model.base_score
    app = repair.accept(apply_for(record, users["enterprise"]), user=users["nanguan"], on=D(2026, 10, 9))
    last_event = ChangeEvent.objects.order_by("-id").values_list("id", flat=True).first()

    with pytest.raises(repair.RepairRefused) as excinfo:
        repair.decide(app, user=users["nanguan"], approve=True, reasons="符合条件",
                      confirmed=PENALTY_OK | {"harm_removed": False}, on=D(2026, 10, 12))
    assert refused(excinfo)[0] == "conditions_unmet"

    app = repair.decide(app, user=users["nanguan"], approve=True, reasons="经核实已履行处罚、消除影响",
                        confirmed=PENALTY_OK, on=D(2026, 10, 12))
    assert (app.status, app.decided_on, app.handled_by) == ("approved", D(2026, 10, 12), users["nanguan"])
    record.refresh_from_db()
    assert record.state == CreditRecord.State.REPAIRED and record.get_state_display() == "已信用修复"
    assert record.state_reason.startswith("2026-10-12")
    assert not CreditRecord.objects.filter(pk=record.pk).publicly_visible().exists()
    events = list(ChangeEvent.objects.filter(id__gt=last_event).values_list("kind", "object_type", "object_id"))
    # Withdrawn from publication, the decision, and (the model grading a fined entity lower) the grade change.
    assert events[:2] == [(ChangeEvent.Kind.RECORD_WITHDRAWN, "creditrecord", str(record.pk)),
                          (ChangeEvent.Kind.REPAIR_DECIDED, "repairapplication", str(app.pk))]
    assert [kind for kind, *_ in events[2:]] == [ChangeEvent.Kind.GRADE_CHANGED] * (len(events) - 2)
    # The repaired record no longer counts: the entity is back to the base score.
    after = EntityScore.objects.get(entity=nanguan).score
    assert after == model.base_score and after > before
    record_audit = AuditLog.objects.filter(content_type=ContentType.objects.get_for_model(CreditRecord),
                                           object_id=str(record.pk), action="update").latest("time")
    assert record_audit.user == users["nanguan"]


def test_approval_without_a_scoring_model_still_applies(nanguan, users):
    record = penalty(nanguan)
    app = repair.accept(apply_for(record, users["enterprise"]), user=users["nanguan"], on=D(2026, 10, 9))
    repair.decide(app, user=users["nanguan"], approve=True, reasons="符合条件", confirmed=PENALTY_OK,
                  on=D(2026, 10, 12))
    record.refresh_from_db()
    assert record.state == CreditRecord.State.REPAIRED and not EntityScore.objects.exists()


def test_approval_is_refused_while_the_entity_is_listed_and_nothing_changes(nanguan, users):
    record = penalty(nanguan)
    app = repair.accept(apply_for(record, users["enterprise"]), user=users["nanguan"], on=D(2026, 10, 9))
    lists.list_entity(nanguan, kind=ListEntry.Kind.ABNORMAL_OPERATION, grounds="未按期报送年度报告", legal_basis="条例",
                      decision_number="南市监异〔2026〕3号", department="南关区市场监督管理局", listed_on=D(2026, 10, 10),
                      user=users["nanguan"])
    events = ChangeEvent.objects.count()
    with pytest.raises(repair.RepairRefused) as excinfo:
        repair.decide(app, user=users["nanguan"], approve=True, reasons="符合条件", confirmed=PENALTY_OK,
                      on=D(2026, 10, 12))
    code, message = refused(excinfo)
    assert code == "entity_listed" and "经营异常名录" in message
    app.refresh_from_db()
    record.refresh_from_db()
    assert app.status == "accepted" and record.state == CreditRecord.State.ACTIVE
    assert ChangeEvent.objects.count() == events


def _list(entity, user, kind, listed_on):
    return lists.list_entity(entity, kind=kind, grounds="生产销售不合格产品，情节严重", legal_basis="第三条",
                             decision_number="吉市监信列〔2025〕9号", department="长春市市场监督管理局",
                             listed_on=listed_on, user=user)


def test_early_removal_from_the_serious_list(nanguan, users):
    entry = _list(nanguan, users["changchun"], ListEntry.Kind.SERIOUS_VIOLATION, D(2025, 6, 1))
    values = {"target": T.SERIOUS_LIST, "list_entry": entry, "reason": "已整改", "commitment": True,
              "conditions": SERIOUS_OK}
    with pytest.raises(repair.RepairRefused) as excinfo:
        repair.submit(user=users["enterprise"], on=D(2026, 5, 29), **values)
    code, message = refused(excinfo)
    assert code == "before_minimum_period" and "2026-06-01" in message
    with pytest.raises(repair.RepairRefused) as excinfo:
        repair.submit(user=users["enterprise"], on=D(2026, 6, 1), **values | {"target": T.ABNORMAL_LIST})
    assert refused(excinfo)[0] in ("wrong_list", "conditions_unmet")
    app = repair.submit(user=users["enterprise"], on=D(2026, 6, 1), **values)
    app = repair.accept(app, user=users["changchun"], on=D(2026, 6, 2))
    last_event = ChangeEvent.objects.order_by("-id").values_list("id", flat=True).first()
    app = repair.decide(app, user=users["changchun"], approve=True, reasons="符合提前移出条件", confirmed=SERIOUS_OK,
                        on=D(2026, 6, 10))
    entry.refresh_from_db()
    assert (entry.status, entry.removal_reason, entry.removed_on) == ("removed", "early", D(2026, 6, 10))
    ledger = CreditRecord.objects.get(source_type="listentry", source_id=str(entry.pk))
    assert ledger.state == CreditRecord.State.REPAIRED
    kinds = list(ChangeEvent.objects.filter(id__gt=last_event).order_by("id").values_list("kind", flat=True))
    assert kinds == [ChangeEvent.Kind.REMOVED, ChangeEvent.Kind.RECORD_WITHDRAWN, ChangeEvent.Kind.REPAIR_DECIDED]


def test_a_list_refusal_comes_back_with_its_code(nanguan, users):
    entry = _list(nanguan, users["changchun"], ListEntry.Kind.SERIOUS_VIOLATION, D(2025, 6, 1))
    app = repair.submit(user=users["enterprise"], target=T.SERIOUS_LIST, list_entry=entry, reason="已整改",
                        commitment=True, conditions=SERIOUS_OK, on=D(2026, 6, 1))
    app = repair.accept(app, user=users["changchun"], on=D(2026, 6, 2))
    penalty(nanguan, occurred_on=D(2026, 1, 10))  # a new negative record since the listing
    with pytest.raises(repair.RepairRefused) as excinfo:
        repair.decide(app, user=users["changchun"], approve=True, reasons="符合", confirmed=SERIOUS_OK,
                      on=D(2026, 6, 10))
    assert refused(excinfo)[0] == "new_violation"
    entry.refresh_from_db()
    app.refresh_from_db()
    assert entry.status == "listed" and app.status == "accepted"


def test_removal_from_the_abnormal_list_on_correction(nanguan, users):
    entry = _list(nanguan, users["nanguan"], ListEntry.Kind.ABNORMAL_OPERATION, D(2026, 7, 1))
    app = repair.submit(user=users["enterprise"], target=T.ABNORMAL_LIST, list_entry=entry, reason="已补报年度报告",
                        commitment=True, conditions={"corrected": True}, on=D(2026, 8, 3))
    assert app.accept_due_on == D(2026, 8, 5)
    app = repair.accept(app, user=users["nanguan"], on=D(2026, 8, 4))
    repair.decide(app, user=users["nanguan"], approve=True, reasons="已补报2025年度报告并公示",
                  confirmed={"corrected": True}, on=D(2026, 8, 5))
    entry.refresh_from_db()
    assert (entry.status, entry.removal_reason, entry.removal_note) == ("removed", "corrected", "已补报2025年度报告并公示")
    assert CreditRecord.objects.get(source_type="listentry", source_id=str(entry.pk)).state == "repaired"


def test_deadline_summary_per_unit(registry, users):
    nanguan, chaoyang = registry["nanguan"]["entity"], registry["chaoyang"]["entity"]
    late = apply_for(penalty(nanguan, n=1), users["enterprise"], on=D(2026, 9, 30))  # accept due 9 Oct
    repair.accept(apply_for(penalty(nanguan, n=2), users["enterprise"], on=D(2026, 9, 30)), user=users["nanguan"],
                  on=D(2026, 10, 9))  # decision due 29 Oct
    other = User.objects.create_user(username="ent_chaoyang", password="x-pass-123", role="enterprise")
    EntityMembership.objects.create(user=other, entity=chaoyang)
    apply_for(penalty(chaoyang, n=3), other, on=D(2026, 10, 28))  # accept due 30 Oct
    mine = RepairApplication.objects.restrict(users["changchun"])
    assert repair.deadline_summary(mine, on=D(2026, 10, 29)) == [
        {"region": "220102", "region_name": nanguan.region.name, "open": 2, "due_today": 1, "overdue": 1},
        {"region": "220104", "region_name": chaoyang.region.name, "open": 1, "due_today": 0, "overdue": 0}]
    county = RepairApplication.objects.restrict(users["nanguan"])
    assert [row["region"] for row in repair.deadline_summary(county, on=D(2026, 10, 29))] == ["220102"]
    repair.withdraw(late, user=users["enterprise"])
    assert repair.deadline_summary(county, on=D(2026, 10, 29))[0]["open"] == 1
