"""Complaint statistics and the monthly summary (issue 6 item 8; SAMR Order 20 Art. 34), checked against
numbers worked out by hand from a small set of cases (``build_cases``, described case by case below).

The period is May 2026 and "today" 2026-06-15. Deadlines are pinned on the rows (not computed by the
clocks, which have their own tests), so that each expected share can be read off the table below.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from django.core.exceptions import PermissionDenied

from qualitygov.complaints import statistics
from qualitygov.complaints.models import Case, Category, Channel, MonthlySummary, ReporterIdentity, Submission
from qualitygov.core.models import AuditLog, ProductCategory

pytestmark = [pytest.mark.django_db]

D = dt.date
MAY = statistics.Period("custom", D(2026, 5, 1), D(2026, 5, 31))
TODAY = D(2026, 6, 15)
REPORTER_NAME = "王举报人"
UNVERIFIED_RESPONDENT = "未经核实的某某商行"
PENALISED_RESPONDENT = "延吉某某假冒商品经销部"


def make_row(*, kind=Case.Kind.COMPLAINT, unit="220102", received_on, channel=Channel.WEB, anonymous=False,
             category=Category.PRODUCT_QUALITY, respondent_name="某商店", reporter_name="", **fields) -> Case:
    """One submission and its case, written directly (no workflow), with the given facts and deadlines."""
    token = uuid.uuid4().hex[:10].upper()
    at = dt.datetime.combine(received_on, dt.time(9, 0), tzinfo=dt.UTC)
    submission = Submission.objects.create(tracking_number=f"T{token}", channel=channel, received_at=at,
                                           anonymous=anonymous, description="事实与理由",
                                           query_code=f"Q{token}" if anonymous else None)
    if reporter_name:
        ReporterIdentity.objects.create(submission=submission, name=reporter_name, phone="13912345678")
    return Case.objects.create(number=f"C{token}", submission=submission, kind=kind, received_on=received_on,
                               handling_unit_id=unit, category=category, respondent_name=respondent_name,
                               facts="事实与理由", **fields)


def build_cases() -> dict[str, Case]:
    """The fixture set. Received in May unless said; units 南关区 220102, 朝阳区 220104 (both 长春),
    延吉市 222401 (延边).

    C1 complaint 南关 web, product quality, product category set: accepted 05-12 (due 05-15, on time);
       mediation ended 05-20, parties told 05-27 (due 05-29, on time); closed 05-28, satisfaction 5.
    C2 complaint 南关 phone, food safety: rejected 05-19 (due 05-18, late), time-barred; closed that day
       (as the workflow does), but a rejected complaint is not rated.
    C3 complaint 朝阳 web: accepted 05-20 (due 05-20, on time: the last day counts); mediation ended 05-25,
       not told (due 06-03: overdue on 06-15); clue found 05-25, verification due 06-15 (not yet overdue).
    C4 complaint 延吉 letter, price: not decided (due 05-21: overdue).
    C5 tip-off 延吉 web, counterfeit, real name: verified 05-19 (due 06-03, on time); filed 05-20; reporter
       told 05-29 (due 05-27, late); penalty decided 05-28.
    C6 tip-off 南关 web, counterfeit, anonymous: not filed 05-21 (no reporter notice for the anonymous).
    C7 complaint 南关 received 04-28 (April): accepted 05-08 (due 05-09, on time); closed 05-15, satisfaction 4.
    C8 complaint 南关 merged into C1 (a duplicate): never counted, although its acceptance is "overdue".
    C9 complaint 朝阳: acceptance due not computable (calendar pending), accepted 05-18; closed 05-26, not rated.
    C10 complaint 南关 received 06-02 (June): not decided (due 06-11: overdue on 06-15).
    C11 complaint 朝阳 received 03-02 (March), accepted 03-04, still in mediation after its 45 working days
       (due 05-08): overdue.
    C1 and C3 ended mediation well within their 45 working days (due 07-16 and 07-22).
    """
    pc = ProductCategory.objects.filter(parent__isnull=False).order_by("code").first()
    c = {}
    c["C1"] = make_row(received_on=D(2026, 5, 6), product_category=pc, accept_due_on=D(2026, 5, 15),
                       accepted_on=D(2026, 5, 12), mediation_due_on=D(2026, 7, 16), mediation_ended_on=D(2026, 5, 20),
                       mediation_outcome=Case.MediationOutcome.NO_AGREEMENT, end_notice_due_on=D(2026, 5, 29),
                       end_notified_on=D(2026, 5, 27), closed_on=D(2026, 5, 28), satisfaction=5,
                       status=Case.Status.CLOSED, reporter_name=REPORTER_NAME)
    c["C2"] = make_row(received_on=D(2026, 5, 7), channel=Channel.PHONE, category=Category.FOOD_SAFETY,
                       accept_due_on=D(2026, 5, 18), rejected_on=D(2026, 5, 19), closed_on=D(2026, 5, 19),
                       rejection_ground=Case.RejectionGround.TIME_BARRED, status=Case.Status.REJECTED)
    c["C3"] = make_row(unit="220104", received_on=D(2026, 5, 11), accept_due_on=D(2026, 5, 20),
                       accepted_on=D(2026, 5, 20), mediation_due_on=D(2026, 7, 22), mediation_ended_on=D(2026, 5, 25),
                       mediation_outcome=Case.MediationOutcome.ABSENT_OR_REFUSED, end_notice_due_on=D(2026, 6, 3),
                       clue_found_on=D(2026, 5, 25), verification_due_on=D(2026, 6, 15),
                       status=Case.Status.MEDIATION_ENDED)
    c["C4"] = make_row(unit="222401", received_on=D(2026, 5, 12), channel=Channel.LETTER, category=Category.PRICE,
                       accept_due_on=D(2026, 5, 21))
    c["C5"] = make_row(kind=Case.Kind.TIP_OFF, unit="222401", received_on=D(2026, 5, 13),
                       category=Category.COUNTERFEIT, respondent_name=PENALISED_RESPONDENT,
                       verification_due_on=D(2026, 6, 3), verified_on=D(2026, 5, 19),
                       filing_decision=Case.FilingDecision.FILED, filing_decided_on=D(2026, 5, 20),
                       reporter_notice_due_on=D(2026, 5, 27), reporter_notified_on=D(2026, 5, 29),
                       penalty_decision_number="延市监罚〔2026〕5号", penalty_decided_on=D(2026, 5, 28),
                       status=Case.Status.FILED, reporter_name=REPORTER_NAME)
    c["C6"] = make_row(kind=Case.Kind.TIP_OFF, received_on=D(2026, 5, 14), anonymous=True,
                       category=Category.COUNTERFEIT, respondent_name=UNVERIFIED_RESPONDENT,
                       filing_decision=Case.FilingDecision.NOT_FILED, filing_decided_on=D(2026, 5, 21),
                       status=Case.Status.NOT_FILED)
    c["C7"] = make_row(received_on=D(2026, 4, 28), accept_due_on=D(2026, 5, 9), accepted_on=D(2026, 5, 8),
                       closed_on=D(2026, 5, 15), satisfaction=4, status=Case.Status.CLOSED)
    c["C8"] = make_row(received_on=D(2026, 5, 8), accept_due_on=D(2026, 5, 19), status=Case.Status.MERGED,
                       merged_into=c["C1"])
    c["C9"] = make_row(unit="220104", received_on=D(2026, 5, 15), calendar_pending=True, accepted_on=D(2026, 5, 18),
                       closed_on=D(2026, 5, 26), status=Case.Status.CLOSED)
    c["C10"] = make_row(received_on=D(2026, 6, 2), accept_due_on=D(2026, 6, 11))
    c["C11"] = make_row(unit="220104", received_on=D(2026, 3, 2), accept_due_on=D(2026, 3, 11),
                        accepted_on=D(2026, 3, 4), mediation_due_on=D(2026, 5, 8), status=Case.Status.MEDIATING)
    return c


@pytest.fixture
def cases(users):
    return build_cases()


def by_key(rows, key="key"):
    return {row[key]: row["count"] for row in rows if row["count"]}


def deadlines(data):
    return {row["key"]: row for row in data["timeliness"]}


def test_counts_for_the_province(cases, users):
    data = statistics.figures(users["province"], period=MAY, today=TODAY)
    assert data["totals"]["count"] == 7 and data["totals"]["complaints"] == 5 and data["totals"]["tip_offs"] == 2
    assert data["totals"]["closed"] == 4  # C1, C2 (rejected), C7 (received in April), C9
    assert by_key(data["by_category"]) == {"product_quality": 3, "food_safety": 1, "price": 1, "counterfeit": 2}
    assert by_key(data["by_channel"]) == {"web": 5, "phone": 1, "letter": 1}
    assert by_key(data["by_kind"]) == {"complaint": 5, "tip_off": 2}
    assert by_key(data["by_unit"], "code") == {"220102": 3, "220104": 2, "222401": 2}
    assert by_key(data["by_city"], "code") == {"220100": 5, "222400": 2}
    assert {r["code"]: r["label"] for r in data["by_city"]} == {"220100": "长春市", "222400": "延边朝鲜族自治州"}
    assert by_key(data["by_status"]) == {"closed": 2, "rejected": 1, "mediation_ended": 1, "received": 1,
                                         "filed": 1, "not_filed": 1}
    product = {r["label"]: r["count"] for r in data["by_product_category"]}
    assert product[str(cases["C1"].product_category)] == 1 and product["未编码产品类别"] == 6
    category = {r["key"]: r for r in data["by_category"]}
    assert category["product_quality"]["share"] == round(3 / 7, 4)
    assert {r["key"]: r["count"] for r in data["outcomes"]["filing"]} == {"filed": 1, "not_filed": 1}
    assert {r["key"]: r["count"] for r in data["outcomes"]["rejection_grounds"] if r["count"]} == {"time_barred": 1}
    mediation = {r["key"]: r["count"] for r in data["outcomes"]["mediation"] if r["count"]}
    assert mediation == {"no_agreement": 1, "absent_or_refused": 1}
    assert {m["code"]: m.get("value") for m in data["map"] if m.get("value")} == {"220100": 5, "222400": 2}
    assert len(data["map"]) == 9


def test_timeliness_per_legal_limit(cases, users):
    t = deadlines(statistics.figures(users["province"], period=MAY, today=TODAY))
    # Acceptance: C1, C3 (on the last day), C7 on time; C2 a day late; C9's deadline not computable.
    assert (t["accept"]["handled"], t["accept"]["within"], t["accept"]["late"]) == (4, 3, 1)
    assert t["accept"]["share"] == 0.75 and t["accept"]["percent"] == 75.0
    assert t["accept"]["calendar_pending"] == 1
    assert t["accept"]["overdue"] == 2  # C4 and C10 (June); the merged C8 is not counted
    assert (t["mediation"]["handled"], t["mediation"]["within"], t["mediation"]["overdue"]) == (2, 2, 1)  # C1, C3; C11
    assert (t["end_notice"]["handled"], t["end_notice"]["within"], t["end_notice"]["overdue"]) == (1, 1, 1)
    # C3's clue is due on 06-15 itself: not overdue yet that day.
    assert (t["verification"]["handled"], t["verification"]["within"], t["verification"]["overdue"]) == (1, 1, 0)
    assert (t["reporter_notice"]["handled"], t["reporter_notice"]["within"]) == (1, 0)
    assert t["reporter_notice"]["share"] == 0.0
    # A day later C3's verification is overdue too.
    later = deadlines(statistics.figures(users["province"], period=MAY, today=D(2026, 6, 16)))
    assert later["verification"]["overdue"] == 1


def test_satisfaction_after_closure(cases, users):
    s = statistics.figures(users["province"], period=MAY, today=TODAY)["satisfaction"]
    assert (s["closed"], s["rated"]) == (3, 2)  # C1 (5), C7 (4), C9 not rated; C2 rejected: not ratable
    assert s["mean"] == 4.5 and s["response_rate"] == round(2 / 3, 4)
    assert {d["score"]: d["count"] for d in s["distribution"]} == {1: 0, 2: 0, 3: 0, 4: 1, 5: 1}


def test_monthly_trend(cases, users):
    period = statistics.Period("custom", D(2026, 4, 1), D(2026, 6, 30))
    trend = statistics.figures(users["province"], period=period, today=TODAY)["trend"]
    assert [(r["month"], r["received"], r["complaints"], r["tip_offs"], r["closed"]) for r in trend] == [
        ("2026-04", 1, 1, 0, 0), ("2026-05", 7, 5, 2, 4), ("2026-06", 1, 1, 0, 0)]


def test_scope_county_city_and_filters(cases, users):
    nanguan = statistics.figures(users["nanguan"], period=MAY, today=TODAY)
    assert nanguan["totals"]["count"] == 3  # C1, C2, C6
    assert by_key(nanguan["by_unit"], "code") == {"220102": 3}
    t = deadlines(nanguan)
    assert (t["accept"]["handled"], t["accept"]["within"], t["accept"]["overdue"]) == (3, 2, 1)
    assert nanguan["satisfaction"]["mean"] == 4.5
    assert {m["code"] for m in nanguan["map"] if "value" in m} == {"220100"}
    changchun = statistics.figures(users["changchun"], period=MAY, today=TODAY)
    assert changchun["totals"]["count"] == 5
    yanji = statistics.figures(users["yanji"], period=MAY, today=TODAY)
    assert yanji["totals"]["count"] == 2 and deadlines(yanji)["reporter_notice"]["handled"] == 1
    province = users["province"]
    assert statistics.figures(province, period=MAY, kind="tip_off", today=TODAY)["totals"]["count"] == 2
    assert statistics.figures(province, period=MAY, category="product_quality", today=TODAY)["totals"]["count"] == 3
    drilled = statistics.figures(province, period=MAY, region=cases["C3"].handling_unit, today=TODAY)
    assert drilled["totals"]["count"] == 2 and drilled["scope"]["region"] == "220104"


def test_roles_without_case_access_are_refused(cases, users):
    for role in ("inspector", "lab", "enterprise", "consumer"):
        with pytest.raises(PermissionDenied):
            statistics.figures(users[role], period=MAY)


def test_periods_and_bad_periods():
    assert statistics.resolve_period("last_month", today=D(2026, 3, 10)) == statistics.Period(
        "last_month", D(2026, 2, 1), D(2026, 2, 28))
    assert statistics.resolve_period(None, today=D(2026, 3, 10)).start == D(2025, 4, 1)
    assert statistics.resolve_period("this_year", today=D(2026, 3, 10)).start == D(2026, 1, 1)
    for args, code in ((("weekly",), "invalid_period"), (("custom", D(2026, 5, 2), D(2026, 5, 1)), "period_reversed"),
                       (("custom", None, D(2026, 5, 1)), "period_incomplete"),
                       (("custom", D(2010, 1, 1), D(2026, 5, 1)), "period_too_long")):
        with pytest.raises(statistics.StatisticsRefused) as refused:
            statistics.resolve_period(*args)
        assert refused.value.code == code


def test_export_tables_carry_the_figures(cases, users):
    data = statistics.figures(users["province"], period=MAY, today=TODAY)
    headers, rows = statistics.export_table(data, "category")
    assert headers[:2] == ["问题类别", "件数"] and rows[-1][:2] == ["合计", 7]
    assert dict((r[0], r[1]) for r in rows)["产品质量"] == 3
    headers, rows = statistics.export_table(data, "timeliness")
    accept = rows[0]
    assert accept[0] == "受理或不予受理决定" and accept[3:7] == [4, 3, 1, "75.00%"] and accept[-1] == 2
    with pytest.raises(KeyError):
        statistics.export_table(data, "reporters")


def test_publish_a_month_freezes_public_figures(cases, users):
    summary = statistics.publish_month(users["province"], D(2026, 5, 20), today=TODAY)
    assert summary.month == D(2026, 5, 1) and summary.published_by == users["province"]
    data = summary.data
    assert data["totals"] == {"count": 7, "complaints": 5, "tip_offs": 2, "closed": 4}
    assert {r["key"]: r["count"] for r in data["by_city"] if r["count"]} == {"220100": 5, "222400": 2}
    accept = {r["key"]: r for r in data["timeliness"]}["accept"]
    # Overdue at the month's end (05-31): C4 only (C10 was received in June).
    assert accept["share"] == 0.75 and accept["overdue"] == 1
    assert {r["key"]: r for r in data["timeliness"]}["mediation"]["overdue"] == 1  # C11
    assert data["satisfaction"]["mean"] == 4.5
    assert data["penalised_respondents"] == [{"name": PENALISED_RESPONDENT, "cases": 1}]
    text = json.dumps(data, ensure_ascii=False)
    assert REPORTER_NAME not in text and "13912345678" not in text and UNVERIFIED_RESPONDENT not in text
    for case in cases.values():
        assert case.number not in text and case.submission.tracking_number not in text
    # Frozen: a later change to the cases does not change the published figures.
    Case.objects.filter(pk=cases["C4"].pk).update(category=Category.OTHER)
    summary.refresh_from_db()
    assert {r["key"]: r["count"] for r in summary.data["by_category"]}["price"] == 1
    assert AuditLog.objects.filter(object_id=str(summary.pk), action=AuditLog.Action.CREATE,
                                   username="province").exists()


def test_publish_refusals_change_nothing(cases, users):
    with pytest.raises(statistics.StatisticsRefused) as refused:
        statistics.publish_month(users["province"], D(2026, 6, 1), today=TODAY)
    assert refused.value.code == "month_not_ended" and "尚未结束" in refused.value.messages[0]
    with pytest.raises(statistics.StatisticsRefused):  # the month's last day itself: not ended yet
        statistics.publish_month(users["province"], D(2026, 5, 1), today=D(2026, 5, 31))
    for role in ("changchun", "nanguan", "inspector", "enterprise"):
        with pytest.raises(PermissionDenied):
            statistics.publish_month(users[role], D(2026, 5, 1), today=TODAY)
    assert not MonthlySummary.objects.exists()
    statistics.publish_month(users["admin"], D(2026, 5, 1), today=D(2026, 6, 1))
    with pytest.raises(statistics.StatisticsRefused) as refused:
        statistics.publish_month(users["province"], D(2026, 5, 9), today=TODAY)
    assert refused.value.code == "already_published" and "已经发布" in refused.value.messages[0]
    assert MonthlySummary.objects.count() == 1
    with pytest.raises(statistics.StatisticsRefused) as refused:
        statistics.parse_month("2026-13")
    assert refused.value.code == "invalid_month"
    assert statistics.unpublished_months(today=TODAY, count=3) == [D(2026, 4, 1), D(2026, 3, 1)]


def test_figures_are_set_based(cases, users, django_assert_max_num_queries):
    """The number of queries does not grow with the number of cases."""
    with django_assert_max_num_queries(30) as few:
        statistics.figures(users["province"], period=MAY, today=TODAY)
    for index in range(20):
        make_row(received_on=D(2026, 5, 1 + index), unit=("220102", "222401")[index % 2], satisfaction=3,
                 closed_on=D(2026, 5, 28), status=Case.Status.CLOSED)
    with django_assert_max_num_queries(len(few.captured_queries)):
        data = statistics.figures(users["province"], period=MAY, today=TODAY)
    assert data["totals"]["count"] == 27
