"""The change feed (``credit.feed``, issue 4 items 5 and 7): which changes append an event, what the
payload holds, the set-based withdrawal of the daily removal job, and reading with ``since=``."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.db import transaction
from django.utils import timezone

from qualitygov.credit import feed, lists
from qualitygov.credit.models import ChangeEvent, CreditRecord, Kind, ListEntry
from qualitygov.credit.services import SourceRef, end_fact, record_fact, revoke_fact

pytestmark = [pytest.mark.django_db]

OCCURRED = dt.date(2026, 6, 1)
PUBLIC_FIELDS = {"uscc", "name", "record", "kind", "kind_label", "polarity", "occurred_on", "summary", "department",
                 "state", "publish_from", "publish_until"}


def fact(entity, source_id="1", kind=Kind.SPOT_CHECK_UNQUALIFIED, summary="制动软管抽检不合格", **kwargs):
    return record_fact(entity=entity, kind=kind, occurred_on=kwargs.pop("occurred_on", OCCURRED),
                       source=SourceRef("inspection", "sample", source_id), summary=summary,
                       department="长春市市场监督管理局", **kwargs).record


def events(**filters):
    return list(ChangeEvent.objects.filter(**filters).order_by("id"))


def put_on(entity, user, kind=ListEntry.Kind.SERIOUS_VIOLATION, listed_on=dt.date(2023, 1, 10)):
    return lists.list_entity(entity, kind=kind, grounds="生产销售不符合安全标准的产品", legal_basis="《严重违法失信名单管理办法》第三条",
                             decision_number="吉市监信列〔2023〕1号", department="吉林省市场监督管理局",
                             listed_on=listed_on, user=user)


def test_a_published_record_appends_one_event_with_its_public_fields(registry):
    entity = registry["nanguan"]["entity"]
    record = fact(entity)
    [event] = events()
    assert (event.kind, event.entity_id, event.object_type, event.object_id) == (
        ChangeEvent.Kind.RECORD_PUBLISHED, entity.pk, "creditrecord", str(record.pk))
    assert set(event.payload) == PUBLIC_FIELDS
    assert (event.payload["uscc"], event.payload["name"], event.payload["summary"]) == (
        entity.uscc, entity.name, "制动软管抽检不合格")
    assert event.payload["publish_until"] == record.publish_until.isoformat()
    # Reporting the same finding again unchanged appends nothing.
    fact(entity)
    assert len(events()) == 1


def test_a_changed_then_withdrawn_record(registry):
    entity = registry["nanguan"]["entity"]
    record = fact(entity)
    fact(entity, summary="制动软管抽检不合格（更正批次号）")
    revoke_fact(SourceRef("inspection", "sample", "1"), Kind.SPOT_CHECK_UNQUALIFIED, reason="复检合格，原结论撤销")
    kinds = [e.kind for e in events(object_id=str(record.pk))]
    assert kinds == [ChangeEvent.Kind.RECORD_PUBLISHED, ChangeEvent.Kind.RECORD_CHANGED,
                     ChangeEvent.Kind.RECORD_WITHDRAWN]
    changed, withdrawn = events()[1:]
    assert changed.payload["summary"] == "制动软管抽检不合格（更正批次号）"
    assert withdrawn.payload["state"] == CreditRecord.State.REVOKED
    # Revoking again changes nothing and appends nothing.
    revoke_fact(SourceRef("inspection", "sample", "1"), Kind.SPOT_CHECK_UNQUALIFIED, reason="再次撤销")
    assert len(events()) == 3


def test_a_repaired_record_is_withdrawn(registry):
    entity = registry["nanguan"]["entity"]
    fact(entity)
    end_fact(SourceRef("inspection", "sample", "1"), Kind.SPOT_CHECK_UNQUALIFIED, on=dt.date(2026, 9, 1),
             state=CreditRecord.State.REPAIRED, reason="信用修复")
    assert [e.kind for e in events()] == [ChangeEvent.Kind.RECORD_PUBLISHED, ChangeEvent.Kind.RECORD_WITHDRAWN]
    assert events()[-1].payload["state"] == CreditRecord.State.REPAIRED


def test_nothing_for_a_warning_only_penalty_or_an_internal_finding(registry):
    entity = registry["nanguan"]["entity"]
    warning = fact(entity, "w1", Kind.ADMINISTRATIVE_PENALTY, summary="警告", details={"penalty_types": ["warning"]})
    assert not warning.publishable
    # Changing it, and revoking it, still tell partners nothing: the public never saw it.
    fact(entity, "w1", Kind.ADMINISTRATIVE_PENALTY, summary="警告（更正）", details={"penalty_types": ["warning"]})
    revoke_fact(SourceRef("inspection", "sample", "w1"), Kind.ADMINISTRATIVE_PENALTY, reason="决定撤销")
    fact(entity, "c1", Kind.VERIFIED_COMPLAINT, summary="投诉属实")
    assert events() == []


def test_a_rolled_back_change_leaves_no_event(registry):
    entity = registry["nanguan"]["entity"]
    with pytest.raises(RuntimeError), transaction.atomic():
        fact(entity)
        raise RuntimeError("rollback")
    assert events() == [] and not CreditRecord.objects.exists()


def test_listing_and_removal_on_correction(registry, users):
    entity = registry["chaoyang"]["entity"]
    entry = put_on(entity, users["changchun"], kind=ListEntry.Kind.ABNORMAL_OPERATION, listed_on=dt.date(2026, 3, 2))
    listed = events(kind=ChangeEvent.Kind.LISTED)
    assert len(listed) == 1
    assert listed[0].payload | {} == {
        "uscc": entity.uscc, "name": entity.name, "list": "abnormal_operation", "list_label": "经营异常名录",
        "grounds": entry.grounds, "legal_basis": entry.legal_basis, "decision_number": entry.decision_number,
        "department": entry.department, "listed_on": "2026-03-02"}
    lists.remove_on_correction(entry, user=users["changchun"], on=dt.date(2026, 4, 1), note="已按规定补报年报")
    [removed] = events(kind=ChangeEvent.Kind.REMOVED)
    assert (removed.object_id, removed.payload["removal_reason"], removed.payload["removed_on"]) == (
        str(entry.pk), "corrected", "2026-04-01")
    # The listing's ledger fact left publication as well.
    assert events(kind=ChangeEvent.Kind.RECORD_WITHDRAWN)


def test_remove_expired_appends_withdrawn_and_removed_events_set_based(registry, users):
    """The daily job withdraws every due listing with one INSERT … SELECT and one bulk insert. Run on
    2026-01-10: the first two listings' three years end that day, so their facts are still published
    and are withdrawn; the third's ended the day before together with its publication, so it is
    removed from the list but there is no published fact left to withdraw; the fourth is not due."""
    first = put_on(registry["nanguan"]["entity"], users["admin"], listed_on=dt.date(2023, 1, 10))
    second = put_on(registry["yanji"]["entity"], users["admin"], listed_on=dt.date(2023, 1, 10))
    late = put_on(registry["chaoyang"]["entity"], users["admin"], listed_on=dt.date(2023, 1, 9))
    later = put_on(registry["chaoyang"]["entity"], users["admin"], kind=ListEntry.Kind.ABNORMAL_OPERATION,
                   listed_on=dt.date(2025, 1, 10))
    before = ChangeEvent.objects.order_by("-id").values_list("id", flat=True).first()
    assert lists.remove_expired(today=dt.date(2026, 1, 10)) == 3
    new = list(ChangeEvent.objects.filter(id__gt=before).order_by("id"))
    withdrawn = [e for e in new if e.kind == ChangeEvent.Kind.RECORD_WITHDRAWN]
    removed = [e for e in new if e.kind == ChangeEvent.Kind.REMOVED]
    assert len(new) == len(withdrawn) + len(removed) == 5
    ledger = {r.source_id: r for r in CreditRecord.objects.filter(source_type="listentry")}
    assert sorted(e.object_id for e in withdrawn) == sorted(str(ledger[str(x.pk)].pk) for x in (first, second))
    assert sorted(e.object_id for e in removed) == sorted(str(x.pk) for x in (first, second, late))
    by_entity = {e.entity_id: e.payload for e in withdrawn}
    yanji = registry["yanji"]["entity"]
    assert by_entity[yanji.pk]["uscc"] == yanji.uscc and by_entity[yanji.pk]["name"] == yanji.name
    assert by_entity[yanji.pk]["state"] == CreditRecord.State.EXPIRED
    assert by_entity[yanji.pk]["reason"] == str(ListEntry.RemovalReason.TERM_ENDED.label)
    assert {e.payload["removal_reason"] for e in removed} == {"term_ended"}
    assert {e.payload["removed_on"] for e in removed} == {"2026-01-10", "2026-01-09"}
    assert str(later.pk) not in {e.object_id for e in removed}
    # Running the job again finds nothing and appends nothing.
    assert lists.remove_expired(today=dt.date(2026, 1, 10)) == 0
    assert ChangeEvent.objects.filter(id__gt=before).count() == 5


def test_parse_since():
    assert feed.parse_since(None) is None and feed.parse_since("") is None
    assert feed.parse_since("42") == ("cursor", 42)
    how, moment = feed.parse_since("2026-03-01T08:00:00+08:00")
    assert how == "time" and moment == dt.datetime(2026, 3, 1, 0, 0, tzinfo=dt.UTC)
    how, naive = feed.parse_since("2026-03-01T08:00:00")
    assert how == "time" and timezone.is_aware(naive)
    for bad in ("yesterday", "-1", "2026-13-01"):
        with pytest.raises(ValueError):
            feed.parse_since(bad)


def test_changes_since_by_cursor_and_by_timestamp(registry):
    entity = registry["nanguan"]["entity"]
    for n in range(5):
        fact(entity, source_id=str(n))
    ids = list(ChangeEvent.objects.order_by("id").values_list("id", flat=True))
    assert [e.id for e in feed.changes_since(None)] == ids
    assert [e.id for e in feed.changes_since(("cursor", ids[1]))] == ids[2:]
    assert [e.id for e in feed.changes_since(("cursor", ids[1]), limit=2)] == ids[2:4]
    assert list(feed.changes_since(("cursor", ids[-1]))) == []
    # By time: events at or after the moment, oldest first.
    moment = timezone.now() - dt.timedelta(hours=1)
    ChangeEvent.objects.filter(id__in=ids[:2]).update(occurred_at=moment - dt.timedelta(days=1))
    assert [e.id for e in feed.changes_since(("time", moment))] == ids[2:]
    assert [e.id for e in feed.changes_since(("time", moment - dt.timedelta(days=1)))] == ids


def test_daily_job_ends_publication_when_the_window_closes_and_tells_partners(registry, tmp_path, settings):
    """A published record whose window ended is marked expired by the daily job, leaves the public
    view and appears in the feed as withdrawn; its score weight stays (expired records count)."""
    import json as _json

    from django.core.management import call_command

    from qualitygov.credit import services

    settings.CREDIT_EXPORT_DIR = str(tmp_path)
    entity = registry["nanguan"]["entity"]
    day = dt.date(2026, 3, 2)
    # A lower-amount criticism-only penalty: published three months from its date (Order 45 Art. 13).
    record = services.record_fact(
        entity=entity, kind="administrative_penalty", occurred_on=day, source=services.SourceRef("t", "p", "1"),
        summary="通报批评", details={"penalty_types": ["circulated_criticism"]}).record
    assert record.publish_until < dt.date(2026, 6, 15)
    assert services.expire_publications(record.publish_until) == 0  # the last day is still published
    out = io.StringIO()
    call_command("credit_daily", "--date", "2026-06-15", stdout=out)
    summary = _json.loads(out.getvalue())
    assert summary["records_expired"] == 1 and summary["list_entries_removed"] == 0
    record.refresh_from_db()
    assert record.state == CreditRecord.State.EXPIRED
    event = ChangeEvent.objects.filter(object_type="creditrecord", object_id=str(record.pk)).last()
    assert event.kind == ChangeEvent.Kind.RECORD_WITHDRAWN and event.payload["state"] == "expired"
    assert services.expire_publications(dt.date(2026, 6, 16)) == 0  # safe to run again
