"""The credit query services: search, the public credit file and what it leaves out, statements,
objections and their deadlines (issue 4 item 6). Dates are fixed in 2026 (the working-day calendar
is known up to 2026)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import PermissionDenied

from qualitygov.conftest import make_uscc
from qualitygov.core import workdays
from qualitygov.core.models import AuditLog
from qualitygov.credit import lists, query
from qualitygov.credit.models import (
    CreditObjection,
    CreditRecord,
    EntityScore,
    EntityStatement,
    Kind,
    ListEntry,
    RepairApplication,
    RiskClass,
    ScoreModel,
)
from qualitygov.credit.services import SourceRef, record_fact

TODAY = dt.date(2026, 6, 15)


def _fact(entity, number: int, kind=Kind.ADMINISTRATIVE_PENALTY, occurred=dt.date(2026, 3, 2), details=None,
          summary=None):
    return record_fact(entity=entity, kind=kind, occurred_on=occurred, source=SourceRef("enforcement", "case", number),
                       summary=summary or f"处罚决定 {number}：生产不合格制动软管", department="长春市市场监督管理局",
                       details={"penalty_types": ["fine"], "amount": 5000} if details is None else details).record


@pytest.fixture
def fixed_today(monkeypatch):
    monkeypatch.setattr(query, "_today", lambda: TODAY)
    return TODAY


@pytest.fixture
def credit(registry, users, fixed_today):
    """The nanguan entity with a published fine, a warning-only penalty, an internal complaint, a record
    whose publication ended on 2026-01-10, a grade (AA, internal risk class C) and an abnormal-operation
    listing; chaoyang with a published penalty and no grade."""
    nanguan, chaoyang = registry["nanguan"]["entity"], registry["chaoyang"]["entity"]
    fine = _fact(nanguan, 1, summary="罚款五千元：生产销售不合格制动软管")
    warning = _fact(nanguan, 2, details={"penalty_types": ["warning"]}, summary="仅警告：标识不规范")
    internal = _fact(nanguan, 3, kind=Kind.VERIFIED_COMPLAINT, details={}, summary="投诉属实：内部线索")
    ended = _fact(nanguan, 4, occurred=dt.date(2023, 1, 10), summary="旧处罚：已过公示期")
    other = _fact(chaoyang, 5, summary="朝阳区企业罚款")
    model = ScoreModel.objects.create(version="t1", points={}, half_life_days={}, grade_thresholds=[],
                                      risk_thresholds=[], status=ScoreModel.Status.ACTIVE)
    EntityScore.objects.create(entity=nanguan, model=model, as_of=dt.date(2026, 6, 1), score="88.50", grade="AA",
                               risk_class=RiskClass.C)
    entry = lists.list_entity(nanguan, kind=ListEntry.Kind.ABNORMAL_OPERATION, grounds="未按规定报送年度报告",
                              legal_basis="《企业信息公示暂行条例》第十七条", decision_number="长南市监异字〔2026〕7号",
                              department="长春市南关区市场监督管理局", listed_on=dt.date(2026, 5, 6),
                              user=users["nanguan"])
    return {"nanguan": nanguan, "chaoyang": chaoyang, "fine": fine, "warning": warning, "internal": internal,
            "ended": ended, "other": other, "entry": entry}


def _records(file) -> dict[int, dict]:
    return {row["record"]: row for row in file["records"]}


# --- search ------------------------------------------------------------------------------------------

def test_search_by_name_lists_registered_entities_only(registry, users):
    from qualitygov.registry.models import MarketEntity

    closed = MarketEntity.objects.create(uscc=make_uscc("220102", 9), name="测试已注销汽车零部件有限公司",
                                         legal_representative="王五", region_id="220102", industry_id="36",
                                         address="地址", registration_date=dt.date(2010, 1, 1),
                                         status=MarketEntity.Status.CANCELLED)
    result = query.search("汽车零部件")
    names = [e.name for e in result.page.object_list]
    assert result.mode == "name"
    assert len(names) == 3 and closed.name not in names
    assert names == sorted(names)


def test_search_by_uscc_is_exact_and_normalised(registry):
    entity = registry["yanji"]["entity"]
    result = query.search(" " + entity.uscc.lower() + " ")
    assert result.mode == "uscc"
    assert [e.pk for e in result.page.object_list] == [entity.pk]


def test_search_refuses_a_bad_uscc_with_the_reason(registry):
    uscc = registry["nanguan"]["entity"].uscc
    wrong = uscc[:17] + ("0" if uscc[17] != "0" else "1")
    with pytest.raises(query.QueryRefused) as refused:
        query.search(wrong)
    assert refused.value.code == "invalid_uscc"
    assert "校验码不符" in refused.value.messages[0]
    with pytest.raises(query.QueryRefused) as short:
        query.search(uscc[:16])
    assert short.value.code == "invalid_uscc" and "18 位" in short.value.messages[0]


def test_search_needs_two_characters_of_a_name(registry):
    with pytest.raises(query.QueryRefused) as refused:
        query.search("测")
    assert refused.value.code == "query_too_short"
    with pytest.raises(query.QueryRefused) as empty:
        query.search("  ")
    assert empty.value.code == "query_required"


def test_search_pages(registry):
    first = query.search("汽车零部件", page=1, per_page=2)
    second = query.search("汽车零部件", page=2, per_page=2)
    assert first.page.paginator.count == 3
    assert len(first.page.object_list) == 2 and len(second.page.object_list) == 1


# --- the public file ---------------------------------------------------------------------------------

def test_public_file_shows_grade_records_and_lists(credit):
    file = query.public_file(query.entity_for_uscc(credit["nanguan"].uscc))
    assert file["entity"]["uscc"] == credit["nanguan"].uscc and file["entity"]["region"] == "220102"
    assert file["grade"] == {"grade": "AA", "as_of": "2026-06-01", "label": "AA"}
    records = _records(file)
    listing = CreditRecord.objects.get(entity=credit["nanguan"], kind=Kind.ABNORMAL_OPERATION_LISTING)
    assert set(records) == {credit["fine"].pk, listing.pk}  # the listing is itself a published fact
    assert records[credit["fine"].pk]["objection_deadline"] == credit["fine"].publish_until.isoformat()
    assert [entry["decision_number"] for entry in file["lists"]] == ["长南市监异字〔2026〕7号"]
    assert file["re_evaluation_pending"] is False


def test_public_file_leaves_out_warning_only_internal_ended_and_risk(credit):
    file = query.public_file(credit["nanguan"])
    text = repr(file)
    assert credit["warning"].publishable is False  # the ledger itself withholds a warning-only penalty
    for record in ("warning", "internal", "ended"):
        assert credit[record].pk not in _records(file)
        assert credit[record].summary not in text
    # Neither the internal risk class nor the numeric score is part of the public file.
    assert "risk" not in text and str(RiskClass.C.label) not in text and "88.5" not in text
    assert credit["other"].pk not in _records(file)  # another entity's record


def test_public_file_says_not_yet_graded(credit):
    file = query.public_file(credit["chaoyang"])
    assert file["grade"]["grade"] is None and file["grade"]["label"] == "尚未评级"
    assert file["lists"] == []


def test_removed_list_entry_leaves_the_file(credit, users):
    lists.remove_on_correction(credit["entry"], user=users["nanguan"], on=TODAY, note="已补报年度报告")
    assert query.public_file(credit["nanguan"])["lists"] == []


def test_entity_for_uscc_validates_and_finds(credit):
    with pytest.raises(query.QueryRefused) as refused:
        query.entity_for_uscc("91220102ABC")
    assert refused.value.code == "invalid_uscc"
    assert query.entity_for_uscc(make_uscc("220102", 777)) is None
    assert query.entity_for_uscc(credit["nanguan"].uscc.lower()).pk == credit["nanguan"].pk


# --- statements --------------------------------------------------------------------------------------

def test_statement_appears_beside_its_record_and_replaces_text(credit, users):
    enterprise = users["enterprise"]
    statement = query.submit_statement(credit["fine"], enterprise, "已于 2026 年 4 月完成整改。")
    row = _records(query.public_file(credit["nanguan"]))[credit["fine"].pk]
    assert row["statement"]["text"] == "已于 2026 年 4 月完成整改。"
    again = query.submit_statement(credit["fine"], enterprise, "已整改并召回全部批次。")
    assert again.pk == statement.pk and EntityStatement.objects.filter(record=credit["fine"]).count() == 1
    assert _records(query.public_file(credit["nanguan"]))[credit["fine"].pk]["statement"]["text"] == "已整改并召回全部批次。"
    changes = AuditLog.objects.filter(object_id=str(statement.pk), content_type__model="entitystatement")
    assert changes.count() == 2  # created, then changed: the old text stays in the history


def test_statement_rules(credit, users):
    with pytest.raises(query.QueryRefused) as too_long:
        query.submit_statement(credit["fine"], users["enterprise"], "说" * (query.STATEMENT_MAX_LENGTH + 1))
    assert too_long.value.code == "statement_too_long"
    query.submit_statement(credit["fine"], users["enterprise"], "说" * query.STATEMENT_MAX_LENGTH)
    with pytest.raises(query.QueryRefused) as unpublished:
        query.submit_statement(credit["warning"], users["enterprise"], "说明")
    assert unpublished.value.code == "not_public"
    for outsider, record in ((users["enterprise"], credit["other"]), (users["nanguan"], credit["fine"])):
        with pytest.raises(PermissionDenied):
            query.submit_statement(record, outsider, "说明")
    assert not EntityStatement.objects.filter(record__in=[credit["warning"], credit["other"]]).exists()


def test_officer_hides_a_statement_in_scope_only(credit, users):
    statement = query.submit_statement(credit["fine"], users["enterprise"], "不当言论")
    for outsider in ("yanji", "enterprise", "inspector"):
        with pytest.raises(PermissionDenied):
            query.hide_statement(statement, users[outsider], "含侮辱性内容")
    with pytest.raises(query.QueryRefused) as no_reason:
        query.hide_statement(statement, users["nanguan"], " ")
    assert no_reason.value.code == "reason_required"
    query.hide_statement(statement, users["nanguan"], "含侮辱性内容")
    assert _records(query.public_file(credit["nanguan"]))[credit["fine"].pk]["statement"] is None
    statement.refresh_from_db()
    assert statement.visible is False and statement.hidden_reason == "含侮辱性内容"


# --- objections --------------------------------------------------------------------------------------

def test_objection_receives_tracking_number_and_deadline(credit):
    objection = query.submit_objection(credit["fine"], " 李四 ", "13900000000", "处罚金额有误，附决定书。")
    assert re.fullmatch(r"YY20260615\d{6}", objection.tracking_number)
    # 2026-06-15 (Mon) + 20 working days, skipping the Dragon Boat Festival holiday on Fri 19 June.
    assert objection.answer_due_on == dt.date(2026, 7, 14)
    assert objection.answer_due_on == workdays.add_working_days(TODAY, query.ANSWER_WORKING_DAYS)
    assert objection.name == "李四" and objection.entity_id == credit["nanguan"].pk
    assert objection.status == CreditObjection.Status.RECEIVED
    # Inspectors and lab staff read the audit log of their region: no personal data of the objector there.
    entry = AuditLog.objects.get(object_id=str(objection.pk), content_type__model="creditobjection")
    assert entry.after["tracking_number"] == objection.tracking_number
    assert "李四" not in str(entry.after) and "13900000000" not in str(entry.after)


def test_objection_after_the_deadline_is_refused(credit):
    ended = credit["ended"]
    assert ended.state == CreditRecord.State.ACTIVE and ended.publish_until < TODAY
    with pytest.raises(query.QueryRefused) as late:
        query.submit_objection(ended, "李四", "13900000000", "理由")
    assert late.value.code == "objection_late"
    assert ended.publish_until.isoformat() in late.value.messages[0]
    # The last day of publication is still in time.
    on_time = query.submit_objection(credit["fine"], "李四", "139", "理由", today=credit["fine"].publish_until)
    assert on_time.received_on == credit["fine"].publish_until
    assert not CreditObjection.objects.filter(record=ended).exists()


def test_objection_to_an_unpublished_record_or_without_fields_is_refused(credit):
    for record in ("warning", "internal"):
        with pytest.raises(query.QueryRefused) as refused:
            query.submit_objection(credit[record], "李四", "139", "理由")
        assert refused.value.code == "not_public"
    with pytest.raises(query.QueryRefused) as missing:
        query.submit_objection(credit["fine"], "", " ", "")
    assert missing.value.code == "invalid"
    assert set(missing.value.message_dict) == {"name", "contact", "grounds"}
    assert not CreditObjection.objects.exists()


def test_pending_flag_follows_open_objection(credit, users):
    objection = query.submit_objection(credit["fine"], "李四", "139", "理由")
    file = query.public_file(credit["nanguan"])
    assert file["re_evaluation_pending"] is True
    assert _records(file)[credit["fine"].pk]["re_evaluation_pending"] is True
    assert query.public_file(credit["chaoyang"])["re_evaluation_pending"] is False
    query.answer_objection(objection, users["nanguan"], upheld=False, answer="经核查，处罚信息准确。")
    file = query.public_file(credit["nanguan"])
    assert file["re_evaluation_pending"] is False and credit["fine"].pk in _records(file)


def test_pending_flag_follows_open_repair_application(credit):
    app = RepairApplication.objects.create(entity=credit["nanguan"], target=RepairApplication.Target.PENALTY_PUBLICATION,
                                           record=credit["fine"], reason="已整改", received_on=TODAY,
                                           accept_due_on=dt.date(2026, 6, 22))
    assert query.public_file(credit["nanguan"])["re_evaluation_pending"] is True
    app.status = RepairApplication.Status.DENIED
    app.save()
    assert query.public_file(credit["nanguan"])["re_evaluation_pending"] is False


def test_upheld_objection_withdraws_the_record(credit, users):
    objection = query.submit_objection(credit["fine"], "李四", "139", "处罚对象错误")
    for outsider in ("yanji", "enterprise", "inspector"):
        with pytest.raises(PermissionDenied):
            query.answer_objection(objection, users[outsider], upheld=True, answer="成立")
    with pytest.raises(query.QueryRefused) as blank:
        query.answer_objection(objection, users["nanguan"], upheld=True, answer="")
    assert blank.value.code == "answer_required"
    answered = query.answer_objection(objection, users["nanguan"], upheld=True, answer="处罚对象错误，撤下公示。")
    assert answered.status == CreditObjection.Status.UPHELD and answered.answered_on == TODAY
    record = CreditRecord.objects.get(pk=credit["fine"].pk)
    assert record.state == CreditRecord.State.REVOKED and objection.tracking_number in record.state_reason
    file = query.public_file(credit["nanguan"])
    assert credit["fine"].pk not in _records(file) and file["re_evaluation_pending"] is False
    with pytest.raises(query.QueryRefused) as again:
        query.answer_objection(objection, users["nanguan"], upheld=False, answer="再答")
    assert again.value.code == "objection_closed"


def test_answer_deadline_beyond_the_known_calendar_is_pending_not_guessed(monkeypatch):
    assert workdays.last_covered_year() < 2027
    assert query._answer_due(dt.date(2027, 3, 1)) is None
    monkeypatch.setattr(workdays, "last_covered_year", lambda: 2027)
    assert query._answer_due(dt.date(2027, 3, 1)) == workdays.add_working_days(dt.date(2027, 3, 1), 20)
