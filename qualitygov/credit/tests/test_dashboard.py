"""Credit dashboards (issue 4, item 8): each figure against counts computed here, independently, from
the rows the test creates; scope by the user's region; periods; the page, its empty states and exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from qualitygov.conftest import make_uscc
from qualitygov.core.models import Industry, Region
from qualitygov.credit import dashboard, scoring
from qualitygov.credit.models import (
    EntityScore,
    GradeChange,
    Kind,
    ListEntry,
    RepairApplication,
    ScoreModel,
    ScoringRun,
)
from qualitygov.credit.services import SourceRef, record_fact
from qualitygov.registry.models import MarketEntity

pytestmark = [pytest.mark.django_db]

TODAY = dt.date(2026, 6, 15)
GRADES = ["AAA", "AA", "A", "B", "C", "D"]
RISKS = ["A", "B", "C", "D"]
_serial = itertools.count(100)

# Regions the test spreads entities over: counties of 长春 (and the city itself, and a development
# zone), a county of 吉林市 and 延吉 in 延边州.
REGIONS = ["220102", "220104", "220100", "220171", "220202", "222401"]


def _aware(day: dt.date, hour: int = 12) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def make_entity(region: str, industry: str) -> MarketEntity:
    serial = next(_serial)
    return MarketEntity.objects.create(
        uscc=make_uscc(region, serial), name=f"看板测试企业{serial}", legal_representative="王五", region_id=region,
        industry_id=industry, address="吉林省测试地址", registration_date=dt.date(2016, 1, 1))


def two_sections() -> tuple[str, str, str]:
    """Two divisions of one section and one of another section (codes from the reference data)."""
    by_section = defaultdict(list)
    for code, parent in Industry.objects.filter(level=Industry.Level.DIVISION).values_list("code", "parent_id"):
        by_section[parent].append(code)
    sections = sorted(s for s, codes in by_section.items() if len(codes) >= 2)
    first, second = sections[0], sections[1]
    return by_section[first][0], by_section[first][1], by_section[second][0]


@pytest.fixture
def model(db):
    return ScoreModel.objects.create(version="dash-test", points={}, half_life_days={"*": 365},
                                     grade_thresholds=[["AAA", 100]], risk_thresholds=[["A", 100]])


@pytest.fixture
def scored(registry, model):
    """Entities with scores inserted directly (precise distribution), plus the registry's three.

    Returns the list of (entity, grade, risk, score) the expectations are computed from."""
    div_a, div_b, div_c = two_sections()
    industries = [div_a, div_b, div_c, "36"]
    rows = []
    entities = [registry[k]["entity"] for k in ("nanguan", "chaoyang", "yanji")]
    for index, region in enumerate(REGIONS * 4):
        entities.append(make_entity(region, industries[index % len(industries)]))
    for index, entity in enumerate(entities):
        grade = GRADES[(index * 5) % 6]
        risk = RISKS[(index * 3) % 4]
        score = Decimal("60.00") + index * Decimal("1.25")
        rows.append((entity, grade, risk, score))
    EntityScore.objects.bulk_create([
        EntityScore(entity=e, model=model, as_of=TODAY, score=s, grade=g, risk_class=r) for e, g, r, s in rows])
    return rows


def city_of(region_code: str) -> str:
    region = Region.objects.get(code=region_code)
    return region.parent_id if region.level == Region.Level.COUNTY else region.code


def section_of(industry_code: str) -> str:
    industry = Industry.objects.get(code=industry_code)
    return industry.code if industry.level == Industry.Level.SECTION else industry.parent_id


def expected_rows(rows, key) -> dict[str, Counter]:
    out = defaultdict(Counter)
    for entity, grade, _risk, _score in rows:
        out[key(entity)][grade] += 1
    return out


def table(rows_out: list[dict]) -> dict[str, dict[str, int]]:
    return {row["code"]: row["counts"] for row in rows_out}


def period(key="d90", **kw):
    return dashboard.resolve_period(key, today=TODAY, **kw)


# --------------------------------------------------------------------------------------------------
# Grade distribution


def test_grade_distribution_for_the_province_by_city_and_industry(scored, users):
    data = dashboard.figures(users["province"], period=period(), today=TODAY)
    grades = data["grades"]
    expected = Counter(g for _e, g, _r, _s in scored)
    assert grades["total"] == len(scored)
    assert grades["counts"] == {g: expected[g] for g in GRADES}
    assert sum(c["count"] for c in grades["cells"]) == grades["total"]
    assert grades["cells"][0]["share"] == round(expected["AAA"] / len(scored), 4)
    low = expected["C"] + expected["D"]
    assert grades["low"] == low and grades["low_percent"] == round(100 * low / len(scored), 2)
    average = sum(s for _e, _g, _r, s in scored) / len(scored)
    assert grades["average_score"] == round(float(average), 2)

    by_city = expected_rows(scored, lambda e: city_of(e.region_id))
    assert data["scope"]["level"] == "city"
    assert set(table(grades["by_region"])) == set(by_city) == {"220100", "220200", "222400"}
    for code, counts in table(grades["by_region"]).items():
        assert counts == {g: by_city[code][g] for g in GRADES}, code
    names = {row["code"]: row["name"] for row in grades["by_region"]}
    assert names["222400"] == "延边朝鲜族自治州"

    by_section = expected_rows(scored, lambda e: section_of(e.industry_id))
    assert len(by_section) >= 2
    assert {code: counts for code, counts in table(grades["by_industry"]).items()} == {
        code: {g: c[g] for g in GRADES} for code, c in by_section.items()}


def test_a_city_officer_sees_its_counties_and_the_city_itself(scored, users):
    data = dashboard.figures(users["changchun"], period=period(), today=TODAY)
    mine = [row for row in scored if row[0].region_id.startswith("2201")]
    by_county = expected_rows(mine, lambda e: e.region_id)
    assert data["grades"]["total"] == len(mine)
    assert data["scope"]["level"] == "county"
    assert table(data["grades"]["by_region"]) == {code: {g: c[g] for g in GRADES} for code, c in by_county.items()}
    names = {row["code"]: row["name"] for row in data["grades"]["by_region"]}
    assert names["220100"] == "长春市（市本级）" and names["220102"] == "南关区"
    # The map: only 长春 has a value; the other prefectures are outside this officer's scope.
    valued = {item["code"]: item for item in data["map"] if "value" in item}
    assert set(valued) == {"220100"}
    low = sum(1 for _e, g, _r, _s in mine if g in ("C", "D"))
    assert valued["220100"]["low"] == low and valued["220100"]["total"] == len(mine)
    assert valued["220100"]["value"] == round(100 * low / len(mine), 2)


def test_a_county_officer_counts_only_its_county(scored, users):
    data = dashboard.figures(users["nanguan"], period=period(), today=TODAY)
    mine = [row for row in scored if row[0].region_id == "220102"]
    assert data["grades"]["total"] == len(mine) > 1
    assert table(data["grades"]["by_region"]) == {"220102": {g: Counter(r[1] for r in mine)[g] for g in GRADES}}
    assert data["risk"]["counts"] == {r: Counter(row[2] for row in mine)[r] for r in RISKS}
    assert not [item for item in data["map"] if item["drill"]]  # a county officer cannot drill into a city


def test_province_drill_into_a_city_equals_the_city_officers_view(scored, users):
    changchun = Region.objects.get(code="220100")
    drilled = dashboard.figures(users["province"], period=period(), region=changchun, today=TODAY)
    own = dashboard.figures(users["changchun"], period=period(), today=TODAY)
    assert drilled["grades"] == own["grades"] and drilled["risk"] == own["risk"]
    county = dashboard.figures(users["changchun"], period=period(), region=Region.objects.get(code="220171"),
                               today=TODAY)
    assert county["grades"]["total"] == sum(1 for row in scored if row[0].region_id == "220171")


def test_risk_panel_by_region(scored, users):
    data = dashboard.figures(users["admin"], period=period(), today=TODAY)
    expected = defaultdict(Counter)
    for entity, _g, risk, _s in scored:
        expected[city_of(entity.region_id)][risk] += 1
    assert table(data["risk"]["by_region"]) == {code: {r: c[r] for r in RISKS} for code, c in expected.items()}
    assert data["risk"]["total"] == len(scored)


def test_scores_from_a_full_rescore_after_recorded_facts(registry, users):
    """The path the platform takes: facts recorded, then a full rescore; the dashboard's distribution
    is the stored scores' (grouped here in Python)."""
    scoring.load_default_model()
    source = itertools.count(1)
    for key, kinds in (("nanguan", [Kind.SPOT_CHECK_SERIOUS, Kind.QUALITY_ACCIDENT, Kind.REFUSED_SAMPLING]),
                       ("chaoyang", [Kind.SPOT_CHECK_UNQUALIFIED]), ("yanji", [])):
        for kind in kinds:
            record_fact(entity=registry[key]["entity"], kind=kind, occurred_on=dt.date(2026, 3, 1), summary="测试",
                        source=SourceRef("test", "dash", str(next(source))))
    run = scoring.full_rescore(as_of=dt.date(2026, 6, 1))
    stored = Counter(EntityScore.objects.values_list("grade", flat=True))
    data = dashboard.figures(users["province"], period=dashboard.resolve_period(today=TODAY), today=TODAY)
    assert data["grades"]["counts"] == {g: stored[g] for g in GRADES}
    assert data["grades"]["total"] == MarketEntity.objects.count()
    assert data["period"]["key"] == "run" and data["period"]["run"] == run.pk
    nanguan = dashboard.figures(users["nanguan"], period=dashboard.resolve_period(today=TODAY), today=TODAY)
    assert nanguan["grades"]["counts"][EntityScore.objects.get(entity=registry["nanguan"]["entity"]).grade] == 1
    assert nanguan["grades"]["total"] == 1


# --------------------------------------------------------------------------------------------------
# Movements and periods


def make_run(model, started: dt.datetime, kind=ScoringRun.Kind.FULL, status=ScoringRun.Status.SUCCEEDED):
    return ScoringRun.objects.create(model=model, kind=kind, as_of=started.date(), status=status, started_at=started)


def test_movement_matrix_upgrades_and_downgrades(scored, model, users):
    old = make_run(model, _aware(dt.date(2026, 1, 10)))
    last = make_run(model, _aware(dt.date(2026, 6, 1)))
    make_run(model, _aware(dt.date(2026, 6, 10)), status=ScoringRun.Status.FAILED)  # not a period start
    entities = [row[0] for row in scored]
    moves = [("AAA", "AA", old), ("B", "C", old),  # before the last run
             ("AA", "AAA", last), ("A", "B", last), ("A", "B", last), ("D", "C", last), ("C", "D", last)]
    GradeChange.objects.bulk_create([
        GradeChange(entity=entities[i], run=run, from_grade=a, to_grade=b, changed_at=run.started_at)
        for i, (a, b, run) in enumerate(moves)])
    # An incremental run after the last full run counts in the default period too.
    inc = make_run(model, _aware(dt.date(2026, 6, 12)), kind=ScoringRun.Kind.INCREMENTAL)
    GradeChange.objects.create(entity=entities[10], run=inc, from_grade="B", to_grade="A", changed_at=inc.started_at)

    default = dashboard.resolve_period(today=TODAY)
    assert default.key == "run" and default.run == last and default.start == dt.date(2026, 6, 1)
    data = dashboard.figures(users["province"], period=default, today=TODAY)["movements"]
    in_period = [(a, b) for a, b, run in moves if run == last] + [("B", "A")]
    counts = Counter(in_period)
    assert {(row["from"], c["key"]): c["count"] for row in data["matrix"] for c in row["cells"] if c["count"]} == counts
    rank = {g: i for i, g in enumerate(GRADES)}
    assert data["upgrades"] == sum(1 for a, b in in_period if rank[b] < rank[a]) == 3
    assert data["downgrades"] == sum(1 for a, b in in_period if rank[b] > rank[a]) == 3
    assert data["total"] == len(in_period)
    assert data["to_totals"] == [sum(n for (a, b), n in counts.items() if b == g) for g in GRADES]

    # A custom period over January sees only the old run's moves; a county officer only its county's.
    january = dashboard.resolve_period("custom", dt.date(2026, 1, 1), dt.date(2026, 1, 31), today=TODAY)
    assert dashboard.figures(users["province"], period=january, today=TODAY)["movements"]["total"] == 2
    mine = [i for i, e in enumerate(entities[:len(moves)]) if e.region_id == "220102" and moves[i][2] == last]
    assert dashboard.figures(users["nanguan"], period=default, today=TODAY)["movements"]["total"] == len(mine)


def test_default_period_without_a_run_is_ninety_days_and_bad_periods_are_refused(db):
    p = dashboard.resolve_period(today=TODAY)
    assert (p.key, p.start, p.end, p.run) == ("d90", TODAY - dt.timedelta(days=89), TODAY, None)
    for args, code in ((("run",), "no_scoring_run"), (("custom", dt.date(2026, 2, 1), None), "period_incomplete"),
                       (("custom", dt.date(2026, 2, 1), dt.date(2026, 1, 1)), "period_reversed"),
                       (("custom", dt.date(2010, 1, 1), dt.date(2026, 1, 1)), "period_too_long"),
                       (("d7",), "invalid_period")):
        with pytest.raises(dashboard.DashboardRefused) as caught:
            dashboard.resolve_period(*args, today=TODAY)
        assert caught.value.code == code
        assert any("\u4e00" <= ch <= "\u9fff" for ch in caught.value.messages[0])  # a Chinese message


# --------------------------------------------------------------------------------------------------
# Lists and repairs


def entry(entity, kind, listed_on, *, removed_on=None, reason=""):
    status = ListEntry.Status.REMOVED if removed_on else ListEntry.Status.LISTED
    return ListEntry.objects.create(entity=entity, kind=kind, grounds="测试", legal_basis="测试依据",
                                    decision_number=f"吉市监{next(_serial)}号", department="测试局",
                                    listed_on=listed_on, status=status, removed_on=removed_on, removal_reason=reason)


@pytest.fixture
def listed(scored):
    """List entries over the registry and test entities; returns them for the expectations."""
    entities = [row[0] for row in scored]
    SV, AB = ListEntry.Kind.SERIOUS_VIOLATION, ListEntry.Kind.ABNORMAL_OPERATION
    R = ListEntry.RemovalReason
    spec = [
        (0, SV, dt.date(2026, 5, 1), None, ""),                     # listed in period, still listed
        (1, SV, dt.date(2025, 1, 1), None, ""),                     # listed before, still listed
        (2, AB, dt.date(2026, 4, 1), dt.date(2026, 6, 1), R.CORRECTED),
        (3, AB, dt.date(2025, 4, 1), dt.date(2026, 5, 20), R.CORRECTED),
        (4, AB, dt.date(2025, 4, 1), dt.date(2026, 5, 21), R.TERM_ENDED),
        (5, SV, dt.date(2023, 4, 1), dt.date(2026, 4, 1), R.EARLY),
        (6, SV, dt.date(2023, 4, 1), dt.date(2025, 4, 1), R.TERM_ENDED),  # removed before the period
        (7, AB, dt.date(2026, 6, 2), None, ""),
        (8, AB, dt.date(2026, 6, 3), None, ""),
    ]
    made = [entry(entities[i], kind, on, removed_on=off, reason=reason) for i, kind, on, off, reason in spec]
    return made


def expected_lists(entries, start, end, region_prefix=""):
    entries = [e for e in entries if e.entity.region_id.startswith(region_prefix)]
    out = {}
    for kind in ListEntry.Kind.values:
        mine = [e for e in entries if e.kind == kind]
        removed = [e for e in mine if e.removed_on and start <= e.removed_on <= end]
        out[kind] = {"listed_now": sum(1 for e in mine if e.status == ListEntry.Status.LISTED),
                     "listed": sum(1 for e in mine if start <= e.listed_on <= end),
                     "removed": len(removed),
                     "reasons": {r: sum(1 for e in removed if e.removal_reason == r)
                                 for r in ListEntry.RemovalReason.values}}
    return out


def got_lists(data):
    return {row["kind"]: {"listed_now": row["listed_now"], "listed": row["listed"], "removed": row["removed"],
                          "reasons": {r["key"]: r["count"] for r in row["reasons"]}} for row in data["lists"]["rows"]}


def test_list_counts_in_the_period_and_by_removal_reason(listed, users):
    p = period("d90")
    data = dashboard.figures(users["province"], period=p, today=TODAY)
    assert got_lists(data) == expected_lists(listed, p.start, p.end)
    assert data["lists"]["totals"]["listed_now"] == sum(1 for e in listed if e.status == ListEntry.Status.LISTED) == 4
    county = dashboard.figures(users["nanguan"], period=p, today=TODAY)
    assert got_lists(county) == expected_lists(listed, p.start, p.end, "220102")
    city = dashboard.figures(users["changchun"], period=p, today=TODAY)
    assert got_lists(city) == expected_lists(listed, p.start, p.end, "2201")


@pytest.fixture
def repairs(listed, scored, users):
    """Repair applications of every target in several states; two are overdue on ``TODAY``."""
    S, T = RepairApplication.Status, RepairApplication.Target
    entities = [row[0] for row in scored]
    penalty = record_fact(entity=entities[9], kind=Kind.ADMINISTRATIVE_PENALTY, occurred_on=dt.date(2026, 1, 5),
                          summary="罚款", details={"penalty_types": ["fine"]}, source=SourceRef("test", "pen", "1")).record
    spec = [
        # (target, subject, status, received, accept_due, accepted, decide_due, decided)
        (T.SERIOUS_LIST, listed[0], S.SUBMITTED, dt.date(2026, 6, 1), dt.date(2026, 6, 5), None, None, None),  # overdue
        (T.SERIOUS_LIST, listed[1], S.ACCEPTED, dt.date(2026, 5, 1), dt.date(2026, 5, 8), dt.date(2026, 5, 6),
         dt.date(2026, 6, 30), None),
        (T.SERIOUS_LIST, listed[5], S.APPROVED, dt.date(2026, 3, 1), dt.date(2026, 3, 6), dt.date(2026, 3, 3),
         dt.date(2026, 3, 20), dt.date(2026, 3, 18)),
        (T.ABNORMAL_LIST, listed[7], S.ACCEPTED, dt.date(2026, 6, 2), dt.date(2026, 6, 5), dt.date(2026, 6, 3),
         dt.date(2026, 6, 10), None),  # overdue
        (T.ABNORMAL_LIST, listed[8], S.DENIED, dt.date(2025, 12, 1), dt.date(2025, 12, 5), dt.date(2025, 12, 2),
         dt.date(2025, 12, 20), dt.date(2026, 4, 10)),
        (T.PENALTY_PUBLICATION, penalty, S.WITHDRAWN, dt.date(2026, 6, 10), dt.date(2026, 6, 15), None, None, None),
    ]
    made = []
    for target, subject, status, received, accept_due, accepted, decide_due, decided in spec:
        is_record = target == T.PENALTY_PUBLICATION
        made.append(RepairApplication.objects.create(
            entity=subject.entity, target=target, record=subject if is_record else None,
            list_entry=None if is_record else subject, reason="已整改", status=status, received_on=received,
            accept_due_on=accept_due, accepted_on=accepted, decide_due_on=decide_due, decided_on=decided))
    return made


def test_repairs_by_status_and_target_with_overdue(repairs, users):
    p = period("d90")
    data = dashboard.figures(users["province"], period=p, today=TODAY)["repairs"]
    for row in data["rows"]:
        mine = [a for a in repairs if a.target == row["target"]]
        assert {c["key"]: c["count"] for c in row["cells"]} == {
            s: sum(1 for a in mine if a.status == s) for s in RepairApplication.Status.values}, row["target"]
        assert row["total"] == len(mine)
        assert row["received"] == sum(1 for a in mine if p.start <= a.received_on <= p.end)
        assert row["decided"] == sum(1 for a in mine if a.decided_on and p.start <= a.decided_on <= p.end)
    overdue = [a for a in repairs if (a.status == "submitted" and a.accept_due_on < TODAY)
               or (a.status == "accepted" and a.decide_due_on < TODAY)]
    assert data["totals"]["overdue"] == len(overdue) == 2
    assert data["totals"]["open"] == sum(1 for a in repairs if a.status in RepairApplication.OPEN_STATUSES) == 3
    # Scope: a county officer counts its county's applications only.
    county = dashboard.figures(users["nanguan"], period=p, today=TODAY)["repairs"]
    assert county["totals"]["total"] == sum(1 for a in repairs if a.entity.region_id == "220102")


# --------------------------------------------------------------------------------------------------
# The page and its exports


def test_empty_dashboard_page_says_so_in_chinese(client, users):
    client.force_login(users["province"])
    response = client.get(reverse("credit:dashboard"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "信用监管看板" in content and "暂无信用评分数据" in content
    assert "统计期间内没有信用等级变动" in content and "辖区内暂无信用修复申请" in content
    assert "vendor/echarts/echarts.min.js" in content and "qualitygov/geo/jilin.json" in content
    for table in dashboard.EXPORT_TABLES:
        export = client.get(reverse("credit:dashboard_export", args=[table, "csv"]))
        assert export.status_code == 200, table
        rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
        assert any("\u4e00" <= ch <= "\u9fff" for ch in "".join(rows[0])), rows[0]  # Chinese headers
        assert "合计" in [row[0] for row in rows], table


def test_page_shows_the_figures_and_exports_match(repairs, users, client):
    client.force_login(users["changchun"])
    response = client.get(reverse("credit:dashboard"), {"period": "custom", "start": "2026-03-17",
                                                        "end": "2026-06-15"})
    assert response.status_code == 200
    data = response.context["data"]
    mine = EntityScore.objects.filter(entity__region__code__startswith="2201")
    assert data["grades"]["total"] == mine.count()
    content = response.content.decode()
    assert f'id="qg-cd-total">{mine.count()}<' in content
    assert "风险分类分布（内部" in content
    # CSV of the region table: one row per county of the scope, then the total.
    export = client.get(reverse("credit:dashboard_export", args=["grades-region", "csv"]),
                        {"period": "custom", "start": "2026-03-17", "end": "2026-06-15"})
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:3] == ["区划", "评分主体数", "AAA 级数量"]
    assert rows[-1][0] == "合计" and int(rows[-1][1]) == mine.count()
    by_county = Counter(mine.values_list("entity__region_id", flat=True))
    names = dict(Region.objects.filter(code__in=by_county).values_list("name", "code"))
    assert {names[r[0].replace("（市本级）", "")]: int(r[1]) for r in rows[1:-1]} == dict(by_county)
    # XLSX of the repairs table: Chinese headers, totals as numbers.
    export = client.get(reverse("credit:dashboard_export", args=["repairs", "xlsx"]))
    sheet = load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    values = list(sheet.values)
    assert values[0][0] == "修复事项" and "已超期" in values[0]
    total_col = values[0].index("合计")
    assert values[-1][0] == "合计"
    assert values[-1][total_col] == sum(1 for a in repairs if a.entity.region_id.startswith("2201"))


def test_english_page_names_regions_in_english(scored, users, client):
    client.force_login(users["province"])
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})  # the switcher's choice
    response = client.get(reverse("credit:dashboard"))
    assert response.status_code == 200
    names = {row["code"]: row["name"] for row in response.context["data"]["grades"]["by_region"]}
    assert names["220100"] == "Changchun" and names["222400"] == "Yanbian Korean Autonomous Prefecture"
    # The map keeps the GeoJSON's Chinese feature names as keys and labels them in English.
    item = next(i for i in response.context["data"]["map"] if i["code"] == "220100")
    assert (item["name"], item["label"]) == ("长春市", "Changchun")


def test_bad_filters_answer_400_with_a_chinese_message(users, client):
    client.force_login(users["nanguan"])
    response = client.get(reverse("credit:dashboard"), {"period": "custom", "start": "2026-05-01"})
    assert response.status_code == 400 and "自定义期间须填写起始日期和截止日期" in response.content.decode()
    response = client.get(reverse("credit:dashboard"), {"region": "220104"})  # another county
    assert response.status_code == 400 and "该区划不在您的辖区内" in response.content.decode()
    export = client.get(reverse("credit:dashboard_export", args=["lists", "csv"]), {"region": "220104"})
    assert export.status_code == 400
    assert client.get(reverse("credit:dashboard_export", args=["lists", "pdf"])).status_code == 400
    assert client.get(reverse("credit:dashboard_export", args=["nothing", "csv"])).status_code == 404


def test_figures_take_a_fixed_number_of_queries_whatever_the_data(repairs, users, django_assert_max_num_queries):
    """Grouped counts in the database: the number of queries does not grow with entities or rows."""
    p = period("d90")
    with django_assert_max_num_queries(16) as small:
        dashboard.figures(users["province"], period=p, today=TODAY)
    model = ScoreModel.objects.get()
    more = [make_entity(region, "36") for region in REGIONS * 5]
    EntityScore.objects.bulk_create([EntityScore(entity=e, model=model, as_of=TODAY, score=70, grade="B",
                                                 risk_class="C") for e in more])
    with django_assert_max_num_queries(len(small.captured_queries)):
        data = dashboard.figures(users["province"], period=p, today=TODAY)
    assert data["grades"]["counts"]["B"] == EntityScore.objects.filter(grade="B").count()
