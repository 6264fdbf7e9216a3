"""The credit lists (issue 4, item 4): listing with its ledger fact and grade D, the Order 44 terms
(early removal after one year on conditions, automatic removal after three), the abnormal-operation
list's removal on correction, revocation, the public list and who sees which entries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError

from qualitygov.core.models import AuditLog
from qualitygov.core.roles import VIEW
from qualitygov.credit import lists, scoring
from qualitygov.credit.models import CreditRecord, EntityScore, Kind, ListEntry
from qualitygov.credit.services import SourceRef, end_fact, record_fact, revoke_fact

pytestmark = [pytest.mark.django_db]

SERIOUS, ABNORMAL = ListEntry.Kind.SERIOUS_VIOLATION, ListEntry.Kind.ABNORMAL_OPERATION
# A leap day, so the one- and three-year dates must clamp to 28 February.
LISTED = dt.date(2020, 2, 29)
EARLY_FROM, DUE = dt.date(2021, 2, 28), dt.date(2023, 2, 28)
ALL_MET = {"corrected": True, "penalties_fulfilled": True, "no_new_violations": True}


def put_on(entity, user, kind=SERIOUS, listed_on=LISTED, number="吉市监信列〔2020〕1号"):
    return lists.list_entity(entity, kind=kind, grounds="生产销售不符合保障人身安全标准的制动软管，情节严重",
                             legal_basis="《市场监督管理严重违法失信名单管理办法》第三条", decision_number=number,
                             department="长春市市场监督管理局", listed_on=listed_on, user=user)


def ledger(entry):
    return CreditRecord.objects.get(source_module="credit", source_type="listentry", source_id=str(entry.pk),
                                    kind=lists.LEDGER_KIND[entry.kind])


def refusal(excinfo) -> str:
    return " ".join(excinfo.value.messages)


# --------------------------------------------------------------------------------------------------
# Listing


def test_listing_sets_the_order_44_dates_and_records_the_fact(registry, users):
    entity = registry["nanguan"]["entity"]
    entry = put_on(entity, users["changchun"])
    assert (entry.status, entry.early_removal_from, entry.removal_due_on) == (ListEntry.Status.LISTED, EARLY_FROM, DUE)
    assert entry.listed_by == users["changchun"]
    record = ledger(entry)
    assert (record.entity, record.kind, record.occurred_on, record.state) == (
        entity, Kind.SERIOUS_VIOLATION_LISTING, LISTED, CreditRecord.State.ACTIVE)
    assert record.publishable and record.details["decision_number"] == "吉市监信列〔2020〕1号"
    assert "严重违法失信名单" in record.summary and "制动软管" in record.summary
    created = AuditLog.objects.get(content_type=ContentType.objects.get_for_model(ListEntry), object_id=str(entry.pk),
                                   action="create")
    assert created.user == users["changchun"]


def test_abnormal_listing_has_no_term(registry, users):
    entry = put_on(registry["nanguan"]["entity"], users["nanguan"], kind=ABNORMAL)
    assert entry.removal_due_on is None and entry.early_removal_from is None
    assert ledger(entry).kind == Kind.ABNORMAL_OPERATION_LISTING


def test_listing_grades_the_entity_d_until_the_term_ends(registry, users):
    """Default model v1: serious_violation_listing −50 with a half-life of 1095 days. While listed the
    entity is D whatever its score; once removed at term end (record expired, still counted) it is
    scored normally: on 2023-03-01 the listing is 1096 days old, 100 − 50 × 0.5^(1096/1095) = 75.02 → B."""
    scoring.load_default_model()
    listed, clean = registry["nanguan"]["entity"], registry["chaoyang"]["entity"]
    put_on(listed, users["changchun"])
    scoring.full_rescore(as_of=dt.date(2023, 2, 27))
    assert EntityScore.objects.get(entity=listed).grade == "D"
    assert EntityScore.objects.get(entity=listed).risk_class == "D"
    assert EntityScore.objects.get(entity=clean).grade != "D"

    assert lists.remove_expired(today=dt.date(2023, 3, 1)) == 1
    scoring.full_rescore(as_of=dt.date(2023, 3, 1))
    score = EntityScore.objects.get(entity=listed)
    assert (str(score.score), score.grade) == ("75.02", "B")


def test_an_entity_already_on_the_list_is_refused(registry, users):
    entity = registry["nanguan"]["entity"]
    put_on(entity, users["changchun"])
    with pytest.raises(lists.ListRefused) as excinfo:
        put_on(entity, users["changchun"], number="吉市监信列〔2020〕2号")
    assert excinfo.value.code == "already_listed" and "已在严重违法失信名单中" in refusal(excinfo)
    assert ListEntry.objects.filter(entity=entity).count() == 1
    # The other list is a separate list.
    put_on(entity, users["changchun"], kind=ABNORMAL)


def test_listing_again_after_removal_is_allowed(registry, users):
    entity = registry["nanguan"]["entity"]
    first = put_on(entity, users["changchun"], kind=ABNORMAL)
    lists.remove_on_correction(first, user=users["changchun"], on=dt.date(2020, 6, 1), note="已补报年度报告")
    second = put_on(entity, users["changchun"], kind=ABNORMAL, listed_on=dt.date(2021, 7, 1), number="第2号")
    assert second.pk != first.pk and ledger(second).state == CreditRecord.State.ACTIVE


def test_listing_needs_grounds_basis_number_and_a_past_date(registry, users):
    entity = registry["nanguan"]["entity"]
    with pytest.raises(lists.ListRefused) as excinfo:
        lists.list_entity(entity, kind=SERIOUS, grounds=" ", legal_basis="", decision_number="", department="某局",
                          listed_on=LISTED, user=users["changchun"])
    assert excinfo.value.code == "missing_fields"
    assert set(excinfo.value.message_dict) == {"grounds", "legal_basis", "decision_number"}
    tomorrow = dt.date.today() + dt.timedelta(days=2)
    with pytest.raises(lists.ListRefused) as excinfo:
        put_on(entity, users["changchun"], listed_on=tomorrow)
    assert excinfo.value.code == "future_date" and tomorrow.isoformat() in refusal(excinfo)
    assert not ListEntry.objects.exists() and not CreditRecord.objects.exists()


# --------------------------------------------------------------------------------------------------
# Early removal (Order 44: on application after one year, conditions met)


def test_early_removal_before_one_year_is_refused_with_the_first_date(registry, users):
    entry = put_on(registry["nanguan"]["entity"], users["changchun"])
    with pytest.raises(lists.ListRefused) as excinfo:
        lists.remove_early(entry, user=users["changchun"], on=dt.date(2021, 2, 27), conditions=ALL_MET)
    assert excinfo.value.code == "too_early" and "2021-02-28" in refusal(excinfo)
    entry.refresh_from_db()
    assert entry.status == ListEntry.Status.LISTED


@pytest.mark.parametrize("missing", ["corrected", "penalties_fulfilled", "no_new_violations"])
def test_early_removal_needs_every_condition_confirmed(registry, users, missing):
    entry = put_on(registry["nanguan"]["entity"], users["changchun"])
    conditions = ALL_MET | {missing: False}
    with pytest.raises(lists.ListRefused) as excinfo:
        lists.remove_early(entry, user=users["changchun"], on=EARLY_FROM, conditions=conditions)
    assert excinfo.value.code == "conditions_unmet"
    assert lists.EARLY_REMOVAL_CONDITIONS[missing] in refusal(excinfo)
    assert ledger(entry).state == CreditRecord.State.ACTIVE


def test_a_new_negative_record_since_listing_blocks_early_removal(registry, users):
    entity = registry["nanguan"]["entity"]
    entry = put_on(entity, users["changchun"])
    penalty = SourceRef("enforcement", "penalty", "77")
    record_fact(entity=entity, kind=Kind.ADMINISTRATIVE_PENALTY, occurred_on=dt.date(2020, 9, 1), source=penalty,
                summary="罚款", details={"penalty_types": ["fine"]})
    with pytest.raises(lists.ListRefused) as excinfo:
        lists.remove_early(entry, user=users["changchun"], on=dt.date(2021, 3, 1), conditions=ALL_MET)
    assert excinfo.value.code == "new_violation" and "2020-09-01" in refusal(excinfo)
    # Once that penalty is annulled it no longer stands in the way.
    revoke_fact(penalty, Kind.ADMINISTRATIVE_PENALTY, reason="行政复议撤销")
    lists.remove_early(entry, user=users["changchun"], on=dt.date(2021, 3, 1), conditions=ALL_MET)


def test_records_before_the_listing_do_not_block_early_removal(registry, users):
    entity = registry["nanguan"]["entity"]
    record_fact(entity=entity, kind=Kind.ADMINISTRATIVE_PENALTY, occurred_on=dt.date(2020, 1, 10),
                source=SourceRef("enforcement", "penalty", "1"), summary="罚款", details={"penalty_types": ["fine"]})
    entry = put_on(entity, users["changchun"])
    assert lists.remove_early(entry, user=users["changchun"], on=EARLY_FROM, conditions=ALL_MET).status == "removed"


def test_valid_early_removal_removes_the_entry_and_repairs_the_fact(registry, users):
    entry = put_on(registry["nanguan"]["entity"], users["changchun"])
    assert list(lists.public_entries()) == [entry]
    removed = lists.remove_early(entry, user=users["province"], on=EARLY_FROM, conditions=ALL_MET)
    assert (removed.status, removed.removal_reason, removed.removed_on, removed.removed_by) == (
        ListEntry.Status.REMOVED, ListEntry.RemovalReason.EARLY, EARLY_FROM, users["province"])
    record = ledger(entry)
    assert record.state == CreditRecord.State.REPAIRED and "2021-02-28" in record.state_reason
    assert not CreditRecord.objects.publicly_visible(on=dt.date(2021, 3, 1)).filter(pk=record.pk).exists()
    assert not lists.public_entries().exists()
    with pytest.raises(lists.ListRefused) as excinfo:
        lists.remove_early(entry, user=users["province"], on=EARLY_FROM, conditions=ALL_MET)
    assert excinfo.value.code == "already_removed"


# --------------------------------------------------------------------------------------------------
# Automatic removal after three years


def test_remove_expired_removes_on_the_third_anniversary(registry, users):
    old = put_on(registry["nanguan"]["entity"], users["changchun"])
    younger = put_on(registry["yanji"]["entity"], users["province"], listed_on=dt.date(2022, 6, 1), number="第9号")
    abnormal = put_on(registry["chaoyang"]["entity"], users["changchun"], kind=ABNORMAL, listed_on=dt.date(2019, 1, 2))

    assert lists.remove_expired(today=dt.date(2023, 2, 27)) == 0
    assert lists.remove_expired(today=dt.date(2023, 5, 1), user=users["admin"]) == 1  # the job ran late
    old.refresh_from_db()
    assert (old.status, old.removal_reason, old.removed_on, old.removed_by) == (
        ListEntry.Status.REMOVED, ListEntry.RemovalReason.TERM_ENDED, DUE, users["admin"])
    assert ledger(old).state == CreditRecord.State.EXPIRED
    for entry in (younger, abnormal):
        entry.refresh_from_db()
        assert entry.status == ListEntry.Status.LISTED and ledger(entry).state == CreditRecord.State.ACTIVE
    summary = AuditLog.objects.filter(content_type=ContentType.objects.get_for_model(ListEntry), action="update",
                                      message__contains="期满移出").get()
    assert summary.user == users["admin"] and summary.after == {"removed": [old.pk]}
    # Running again changes nothing.
    assert lists.remove_expired(today=dt.date(2023, 5, 1)) == 0
    assert lists.remove_expired(today=dt.date(2025, 6, 1)) == 1


# --------------------------------------------------------------------------------------------------
# Abnormal-operation list, revocation


def test_abnormal_entry_is_removed_on_correction(registry, users):
    entry = put_on(registry["nanguan"]["entity"], users["nanguan"], kind=ABNORMAL, listed_on=dt.date(2024, 7, 1))
    with pytest.raises(lists.ListRefused) as excinfo:
        lists.remove_on_correction(entry, user=users["nanguan"], on=dt.date(2024, 8, 1), note="  ")
    assert excinfo.value.code == "missing_fields"
    with pytest.raises(lists.ListRefused) as excinfo:
        lists.remove_on_correction(entry, user=users["nanguan"], on=dt.date(2024, 6, 1), note="已补报")
    assert excinfo.value.code == "before_listing"
    # The serious-violation route does not apply to this list.
    with pytest.raises(lists.ListRefused) as excinfo:
        lists.remove_early(entry, user=users["nanguan"], on=dt.date(2025, 8, 1), conditions=ALL_MET)
    assert excinfo.value.code == "wrong_list"

    removed = lists.remove_on_correction(entry, user=users["nanguan"], on=dt.date(2024, 8, 1),
                                         note="已补报2023年度报告并公示")
    assert (removed.status, removed.removal_reason, removed.removal_note) == (
        ListEntry.Status.REMOVED, ListEntry.RemovalReason.CORRECTED, "已补报2023年度报告并公示")
    assert ledger(entry).state == CreditRecord.State.REPAIRED


def test_correction_does_not_remove_a_serious_violation_entry(registry, users):
    entry = put_on(registry["nanguan"]["entity"], users["changchun"])
    with pytest.raises(lists.ListRefused) as excinfo:
        lists.remove_on_correction(entry, user=users["changchun"], on=dt.date(2021, 6, 1), note="已整改")
    assert excinfo.value.code == "wrong_list"
    entry.refresh_from_db()
    assert entry.status == ListEntry.Status.LISTED


def test_revoking_the_listing_decision_removes_and_revokes_the_fact(registry, users):
    scoring.load_default_model()
    entity = registry["nanguan"]["entity"]
    entry = put_on(entity, users["changchun"])
    with pytest.raises(lists.ListRefused):
        lists.revoke_listing(entry, user=users["changchun"], on=dt.date(2020, 5, 1), reason="")
    removed = lists.revoke_listing(entry, user=users["changchun"], on=dt.date(2020, 5, 1), reason="行政复议决定撤销")
    assert (removed.status, removed.removal_reason) == (ListEntry.Status.REMOVED, ListEntry.RemovalReason.DECISION_REVOKED)
    record = ledger(entry)
    assert record.state == CreditRecord.State.REVOKED and record.state_reason == "行政复议决定撤销"
    # A revoked listing neither counts nor forces D.
    scoring.full_rescore(as_of=dt.date(2020, 6, 1))
    assert str(EntityScore.objects.get(entity=entity).score) == "100.00"


def test_end_fact_is_idempotent_and_leaves_a_revoked_record_alone(registry, users):
    entity = registry["nanguan"]["entity"]
    source = SourceRef("test", "fact", "1")
    record_fact(entity=entity, kind=Kind.RECALL, occurred_on=LISTED, source=source, summary="召回")
    first = end_fact(source, Kind.RECALL, on=EARLY_FROM, state=CreditRecord.State.EXPIRED, reason="期满")
    again = end_fact(source, Kind.RECALL, on=DUE, state=CreditRecord.State.REPAIRED, reason="修复")
    assert again.state == CreditRecord.State.EXPIRED and again.state_reason == first.state_reason
    with pytest.raises(ValidationError):
        end_fact(source, Kind.RECALL, on=DUE, state=CreditRecord.State.REVOKED, reason="x")
    assert end_fact(SourceRef("test", "fact", "404"), Kind.RECALL, on=DUE, state="expired", reason="x") is None
    other = SourceRef("test", "fact", "2")
    record_fact(entity=entity, kind=Kind.RECALL, occurred_on=LISTED, source=other, summary="召回")
    revoke_fact(other, Kind.RECALL, reason="撤销")
    assert end_fact(other, Kind.RECALL, on=DUE, state="repaired", reason="修复").state == CreditRecord.State.REVOKED


# --------------------------------------------------------------------------------------------------
# Public list and scope


def test_public_entries_lists_open_entries_of_both_lists(registry, users):
    serious = put_on(registry["nanguan"]["entity"], users["changchun"])
    abnormal = put_on(registry["yanji"]["entity"], users["province"], kind=ABNORMAL, listed_on=dt.date(2024, 1, 5))
    gone = put_on(registry["chaoyang"]["entity"], users["changchun"], kind=ABNORMAL, listed_on=dt.date(2023, 1, 5))
    lists.remove_on_correction(gone, user=users["changchun"], on=dt.date(2023, 3, 1), note="已改正")
    assert list(lists.public_entries()) == [abnormal, serious]
    assert list(lists.public_entries(SERIOUS)) == [serious]
    assert list(lists.public_entries(ABNORMAL)) == [abnormal]


def test_officers_see_their_region_and_the_enterprise_its_own_entries(registry, users):
    nanguan = put_on(registry["nanguan"]["entity"], users["province"])
    chaoyang = put_on(registry["chaoyang"]["entity"], users["province"], kind=ABNORMAL)
    yanji = put_on(registry["yanji"]["entity"], users["province"])

    def seen(username):
        return set(ListEntry.objects.restrict(users[username], VIEW))

    assert seen("province") == {nanguan, chaoyang, yanji}
    assert seen("changchun") == {nanguan, chaoyang}
    assert seen("nanguan") == {nanguan}
    assert seen("yanji") == {yanji}
    assert seen("enterprise") == {nanguan}
    assert seen("lab") == set()
