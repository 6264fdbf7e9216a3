"""Spot-check statistics (issue 3, item 8): counts, totals equal to the sum of every breakdown, Wilson
intervals against published figures, the output-weighted manufacturing pass rate worked by hand,
refusals kept out of the denominator, scope, and the page with its CSV/XLSX export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from fractions import Fraction

import pytest
from django.urls import NoReverseMatch, path, reverse

from qualitygov.conftest import make_uscc
from qualitygov.core.models import ProductCategory
from qualitygov.inspection import statistics
from qualitygov.inspection.models import (
    ImplementationRule,
    IndustryOutput,
    InspectionPlan,
    InspectionTask,
    PlanQuota,
    RandomDraw,
    RuleVersion,
    Sample,
    TestingLab,
)
from qualitygov.inspection.views_statistics import StatisticsView
from qualitygov.registry.models import MarketEntity


def _urlpatterns() -> list:
    """The project's URLs, plus the statistics page while qualitygov/inspection/urls.py does not route it yet."""
    from qualitygov import urls as root_urls

    patterns = list(root_urls.urlpatterns)
    try:
        reverse("inspection:statistics", urlconf=root_urls)
    except NoReverseMatch:
        patterns.append(path("inspection/statistics/", StatisticsView.as_view(), name="statistics-under-test"))
    return patterns


def __getattr__(name: str):
    # This module is the tests' URLconf (pytest.mark.urls below); built on first use, not at collection.
    if name == "urlpatterns":
        return _urlpatterns()
    if name.startswith("handler"):
        from qualitygov import urls as root_urls

        return getattr(root_urls, name)
    raise AttributeError(name)


pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

Z = 1.959963984540054  # standard normal 97.5 % quantile
OK, UNQ, SERIOUS = "no_nonconformity", "unqualified", "seriously_unqualified"


def stats_url() -> str:
    try:
        return reverse("inspection:statistics")
    except NoReverseMatch:
        return reverse("statistics-under-test")


# --- fixture ------------------------------------------------------------------------------------
#
# Groups of samples: (county, category, plan key, stage, size, sampled_on, [(outcome, verdict, final), n]).
# Category industries (reference data): 0101 and 0102 → 36 汽车制造业, 0601 → 30 非金属矿物制品业,
# 0301 → 13 农副食品加工业.
GROUPS = [
    ("A", "220102", "0101", "P1", "production", "large", dt.date(2024, 2, 10),
     [("sampled", OK, True, 8), ("sampled", UNQ, True, 1), ("sampled", SERIOUS, True, 1),
      ("sampled", OK, False, 1), ("refused", "", False, 1)]),
    ("B", "220104", "0601", "P1", "circulation", "small", dt.date(2024, 5, 20),
     [("sampled", OK, True, 5), ("sampled", UNQ, True, 2), ("sampled", "", False, 1), ("refused", "", False, 1)]),
    ("C", "222401", "0301", "P2", "production", "medium", dt.date(2024, 8, 3),
     [("sampled", OK, True, 4), ("sampled", SERIOUS, True, 1)]),
    ("D", "222401", "0102", "P2", "online", "micro", dt.date(2025, 1, 15),
     [("sampled", OK, True, 3), ("sampled", UNQ, False, 1)]),
]
# Final results only: tested 10 + 7 + 5 + 3 = 25, qualified 8 + 5 + 4 + 3 = 20, unqualified 2 + 2 + 1 + 0 = 5
# (serious 1 + 1 = 2), refusals 2 (A and B; the untested sample in B and the provisional ones do not count).
FINAL_TOTALS = {"tested": 25, "qualified": 20, "unqualified": 5, "serious": 2, "refused": 2}
# With provisional results: A gains a qualified batch, D an unqualified one.
PROVISIONAL_TOTALS = {"tested": 27, "qualified": 21, "unqualified": 6, "serious": 2, "refused": 2}


def build_samples(groups, base: dict | None = None, serial: int = 1000) -> dict:
    """Minimal plans, quotas, draws, tasks and entities under the samples of ``groups`` (``base``:
    the plans, rule version, lab and draw of an earlier call, to add samples under them)."""
    if base is None:
        rule = ImplementationRule.objects.create(category_id="0101", code="T-STATS", title="统计测试细则")
        version = RuleVersion.objects.create(rule=rule, label="2024版", effective_from=dt.date(2024, 1, 1),
                                             status=RuleVersion.Status.IN_FORCE, test_sample_count=2,
                                             spare_sample_count=2, sample_unit="件")
        base = {
            "version": version,
            "lab": TestingLab.objects.create(name="吉林省产品质量监督检验院（测试）", accreditation_no="CMA-TEST-1",
                                             region_id="220100"),
            "draw": RandomDraw.objects.create(kind=RandomDraw.Kind.ENTITIES, region_id="220000", seed=1,
                                              algorithm="test", inputs={}, outputs={}, candidate_count=0,
                                              candidate_digest="0" * 64, outputs_digest="0" * 64),
            "plans": {
                "P1": InspectionPlan.objects.create(
                    code="2024-JL-01", title="2024年省级监督抽查", region_id="220000", period="year", year=2024,
                    starts_on=dt.date(2024, 1, 1), ends_on=dt.date(2024, 12, 31), budget_cny=100000),
                "P2": InspectionPlan.objects.create(
                    code="2024-YB-01", title="延边州监督抽查", region_id="222400", period="year", year=2024,
                    starts_on=dt.date(2024, 1, 1), ends_on=dt.date(2025, 12, 31), budget_cny=50000),
            },
        }
    plans, version, lab, draw = base["plans"], base["version"], base["lab"], base["draw"]
    samples = []
    for _key, county, category, plan_key, stage, size, sampled_on, spec in groups:
        plan = plans[plan_key]
        quota = PlanQuota.objects.create(plan=plan, category_id=category, region_id=county, stage=stage,
                                         batches=sum(n for *_, n in spec), unit_cost_cny=800, lab=lab,
                                         rule_version=version)
        industry = ProductCategory.objects.get(pk=category).industry_id
        rank = 0
        for outcome, verdict, final, n in spec:
            for _ in range(n):
                serial += 1
                rank += 1
                entity = MarketEntity.objects.create(
                    uscc=make_uscc(county, serial), name=f"统计测试企业{serial}", legal_representative="王五",
                    region_id=county, industry_id=industry, address=f"测试路{serial}号", size_class=size,
                    registration_date=dt.date(2010, 1, 1))
                task = InspectionTask.objects.create(quota=quota, entity=entity, entity_draw=draw, draw_rank=rank,
                                                     status="refused" if outcome == "refused" else "sampled")
                samples.append(Sample(
                    number=f"CY{serial}", task=task, outcome=outcome, sampled_on=sampled_on, plan=plan,
                    entity=entity, category_id=category, region_id=county, industry_id=industry,
                    size_class=size, stage=stage, rule_version=version, verdict=verdict,
                    status="final" if final else "testing",
                    final_on=sampled_on + dt.timedelta(days=40) if final else None))
    Sample.objects.bulk_create(samples)
    return base


@pytest.fixture
def world(users):
    return build_samples(GROUPS)


def counts(row) -> dict:
    return {field: row[field] for field in statistics.COUNT_FIELDS}


# --- counts and totals --------------------------------------------------------------------------

def test_totals_count_final_results_and_keep_refusals_out_of_the_denominator(world):
    result = statistics.breakdown(Sample.objects.all(), "city")
    assert counts(result["totals"]) == FINAL_TOTALS
    assert result["totals"]["pass_rate"] == pytest.approx(20 / 25)  # not 20 / 27 (with the two refusals)
    assert result["totals"]["nonconformity_rate"] == pytest.approx(5 / 25)
    by_city = {row["city"]: counts(row) for row in result["rows"]}
    assert by_city == {
        "2201": {"tested": 17, "qualified": 13, "unqualified": 4, "serious": 1, "refused": 2},
        "2224": {"tested": 8, "qualified": 7, "unqualified": 1, "serious": 1, "refused": 0},
    }
    assert [row["city_label"] for row in result["rows"]] == ["长春市", "延边朝鲜族自治州"]


def test_provisional_results_only_on_request(world):
    result = statistics.breakdown(Sample.objects.all(), "quarter", include_provisional=True)
    assert counts(result["totals"]) == PROVISIONAL_TOTALS
    assert result["include_provisional"] is True
    assert {row["quarter"]: row["tested"] for row in result["rows"]} == {20241: 11, 20242: 7, 20243: 5, 20251: 4}
    assert result["rows"][0]["quarter_label"] == "2024年第1季度"


@pytest.mark.parametrize("by", sorted(statistics.DIMENSIONS))
def test_every_breakdown_sums_to_the_same_totals(world, by):
    for provisional, expected in ((False, FINAL_TOTALS), (True, PROVISIONAL_TOTALS)):
        result = statistics.breakdown(Sample.objects.all(), by, include_provisional=provisional)
        for field in statistics.COUNT_FIELDS:
            assert sum(row[field] for row in result["rows"]) == result["totals"][field] == expected[field], field
        # A roll-up's rate is the ratio of its sums, never a mean of the groups' rates.
        assert result["totals"]["pass_rate"] == pytest.approx(expected["qualified"] / expected["tested"])


def test_two_dimensional_breakdown_and_its_cells(world):
    result = statistics.breakdown(Sample.objects.all(), ["city", "category", "quarter"])
    cells = {(row["city"], row["category"], row["quarter"]): (row["tested"], row["qualified"], row["refused"])
             for row in result["rows"]}
    assert cells == {("2201", "0101", 20241): (10, 8, 1), ("2201", "0601", 20242): (7, 5, 1),
                     ("2224", "0301", 20243): (5, 4, 0), ("2224", "0102", 20251): (3, 3, 0)}
    assert counts(result["totals"]) == FINAL_TOTALS
    with pytest.raises(ValueError):
        statistics.breakdown(Sample.objects.all(), "colour")


def test_each_dimension_groups_by_its_own_key(world):
    def keyed(by):
        return {row[by]: row["tested"] for row in statistics.breakdown(Sample.objects.all(), by)["rows"]}

    plans = world["plans"]
    assert keyed("plan") == {plans["P1"].pk: 17, plans["P2"].pk: 8}
    assert keyed("county") == {"220102": 10, "220104": 7, "222401": 8}
    assert keyed("province") == {"22": 25}
    assert keyed("industry") == {"36": 13, "30": 7, "13": 5}
    assert keyed("size") == {"large": 10, "small": 7, "medium": 5, "micro": 3}
    assert keyed("stage") == {"production": 15, "circulation": 7, "online": 3}
    assert keyed("year") == {2024: 22, 2025: 3}
    labels = {row["county"]: row["county_label"] for row in statistics.breakdown(Sample.objects.all(), "county")["rows"]}
    assert labels["220102"] == "长春市 南关区"


def test_filters(world):
    qs = Sample.objects.all()
    assert statistics.breakdown(qs, "city", year=2024)["totals"]["tested"] == 22
    assert statistics.breakdown(qs, "city", year=2024, quarter=2)["totals"]["tested"] == 7
    assert statistics.breakdown(qs, "city", quarter=1)["totals"]["tested"] == 13  # Q1 of 2024 and of 2025
    assert statistics.breakdown(qs, "city", plan=world["plans"]["P2"])["totals"]["tested"] == 8
    assert statistics.breakdown(qs, "city", category="01")["totals"]["tested"] == 13  # 0101 + 0102
    assert statistics.breakdown(qs, "city", stage="online")["totals"]["tested"] == 3
    assert statistics.breakdown(qs, "county", region="220100")["totals"]["tested"] == 17


def test_group_with_only_refusals_has_no_rate(world):
    only_refusal = Sample.objects.filter(outcome="refused", region_id="220102")
    result = statistics.breakdown(only_refusal, "county")
    assert counts(result["rows"][0]) == {"tested": 0, "qualified": 0, "unqualified": 0, "serious": 0, "refused": 1}
    assert result["rows"][0]["pass_rate"] is None and result["rows"][0]["pass_rate_low"] is None


# --- scope --------------------------------------------------------------------------------------

def test_county_officer_sees_only_the_county(world, users):
    visible = Sample.objects.restrict(users["nanguan"], "view")
    result = statistics.breakdown(visible, "county")
    assert [row["county"] for row in result["rows"]] == ["220102"]
    assert counts(result["totals"]) == {"tested": 10, "qualified": 8, "unqualified": 2, "serious": 1, "refused": 1}
    city = statistics.breakdown(Sample.objects.restrict(users["changchun"], "view"), "county")
    assert [row["county"] for row in city["rows"]] == ["220102", "220104"]


def test_lab_scope_with_distinct_counts_each_sample_once(world, users):
    world["lab"].staff.add(users["lab"])
    visible = Sample.objects.restrict(users["lab"], "view")
    assert visible.query.distinct
    assert counts(statistics.breakdown(visible, "city")["totals"]) == FINAL_TOTALS


# --- Wilson interval ----------------------------------------------------------------------------

# Newcombe R.G., "Two-sided confidence intervals for the single proportion: comparison of seven
# methods", Statistics in Medicine 17 (1998) 857–872, Table I, method 3 (Wilson score interval
# without continuity correction), published to four decimals.
NEWCOMBE_1998_METHOD_3 = [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0000, 0.1611),
    (1, 29, 0.0061, 0.1718),
]


@pytest.mark.parametrize(("successes", "n", "low", "high"), NEWCOMBE_1998_METHOD_3)
def test_wilson_matches_newcombe_1998(successes, n, low, high):
    lo, hi = statistics.wilson_interval(successes, n)
    assert round(float(lo[0]), 4) == low
    assert round(float(hi[0]), 4) == high


def test_wilson_is_vectorised_and_exact_at_the_edges():
    low, high = statistics.wilson_interval([0, 7, 40, 0], [7, 7, 40, 0])
    # 0/n: [0, z²/(n+z²)]; n/n: [n/(n+z²), 1] (Wilson's closed form with p̂ = 0 or 1).
    assert low[0] == 0.0 and high[0] == pytest.approx(Z**2 / (7 + Z**2), abs=1e-12)
    assert high[1] == 1.0 and low[1] == pytest.approx(7 / (7 + Z**2), abs=1e-12)
    assert high[2] == 1.0 and low[2] == pytest.approx(40 / (40 + Z**2), abs=1e-12)
    assert math.isnan(low[3]) and math.isnan(high[3])  # nothing tested: no interval


def test_breakdown_intervals_are_wilson_of_each_row(world):
    for row in statistics.breakdown(Sample.objects.all(), "county")["rows"]:
        low, high = statistics.wilson_interval(row["qualified"], row["tested"])
        assert (row["pass_rate_low"], row["pass_rate_high"]) == (low[0], high[0])
        assert row["pass_rate_low"] <= row["pass_rate"] <= row["pass_rate_high"]
        assert row["nonconformity_low"] == pytest.approx(1 - row["pass_rate_high"])
        assert row["nonconformity_high"] == pytest.approx(1 - row["pass_rate_low"])


# --- output-weighted manufacturing pass rate ----------------------------------------------------

def _weights(year=2024, **values):
    for code, value in values.items():
        IndustryOutput.objects.create(year=year, industry_id=code.removeprefix("c"), output_value=value,
                                      source="测试权重")


def test_weighted_rate_by_hand(world):
    # Output values (亿元): 36 → 600, 30 → 300, 13 → 100, and 14 → 1000, an industry with no batch.
    _weights(c36=600, c30=300, c13=100, c14=1000)
    result = statistics.manufacturing_pass_rate(Sample.objects.all(), year=2024)
    # Only 2024 samples: industry 36 = category 0101 alone (8/10): 0102 was sampled in 2025.
    # Worked by hand: p36 = 8/10, p30 = 5/7, p13 = 4/5; industry 14 drops out, the weights of the
    # tested industries renormalise over 600 + 300 + 100 = 1000 → 0.6, 0.3, 0.1:
    #   P = 0.6 × 8/10 + 0.3 × 5/7 + 0.1 × 4/5 = 0.48 + 0.2142857… + 0.08 = 0.7742857…
    expected = Fraction(6, 10) * Fraction(8, 10) + Fraction(3, 10) * Fraction(5, 7) + Fraction(1, 10) * Fraction(4, 5)
    assert result["rate"] == pytest.approx(float(expected), abs=1e-12)
    assert result["rate"] == pytest.approx(0.7742857142857, abs=1e-12)
    assert result["unweighted_rate"] == pytest.approx(17 / 22)  # the pooled batch rate, for comparison
    assert result["weights_year"] == 2024 and result["weights_source"] == "测试权重"
    assert result["coverage"] == pytest.approx(1000 / 2000)
    rows = {row["industry"]: row for row in result["industries"]}
    assert set(rows) == {"36", "30", "13"}
    assert rows["36"]["weight"] == pytest.approx(0.6) and rows["13"]["weight"] == pytest.approx(0.1)
    assert sum(row["weight"] for row in result["industries"]) == pytest.approx(1.0)


def test_industry_rate_is_a_ratio_of_sums_over_its_categories(world):
    _weights(c36=600, c30=300, c13=100)
    result = statistics.manufacturing_pass_rate(Sample.objects.all())  # all years: 0101 (8/10) and 0102 (3/3)
    rows = {row["industry"]: row for row in result["industries"]}
    assert (rows["36"]["tested"], rows["36"]["qualified"]) == (13, 11)
    assert rows["36"]["pass_rate"] == pytest.approx(11 / 13)  # not the mean of 0.8 and 1.0
    expected = 0.6 * 11 / 13 + 0.3 * 5 / 7 + 0.1 * 4 / 5
    assert result["rate"] == pytest.approx(expected, abs=1e-12)


def test_weights_fall_back_to_the_latest_earlier_year_and_unweighted_industries_are_listed(world):
    _weights(year=2021, c36=500, c13=500)  # no figure for 30
    result = statistics.manufacturing_pass_rate(Sample.objects.all(), year=2024)
    assert result["weights_year"] == 2021
    assert result["rate"] == pytest.approx(0.5 * 8 / 10 + 0.5 * 4 / 5)
    assert [(item["industry"], item["tested"]) for item in result["excluded"]] == [("30", 7)]


def test_non_manufacturing_categories_are_excluded(world):
    # A category of division 44 (电力、热力生产和供应业, section D): tested, counted, but not manufacturing.
    ProductCategory.objects.create(code="9901", name="测试电力产品", parent_id=None, industry_id="44")
    build_samples([("E", "220102", "9901", "P1", "production", "small", dt.date(2024, 3, 1),
                    [("sampled", OK, True, 2)])], base=world, serial=5000)
    _weights(c36=600, c30=300, c13=100)
    result = statistics.manufacturing_pass_rate(Sample.objects.all(), year=2024)
    assert [(item["category"], item["industry"], item["tested"]) for item in result["excluded"]] == [("9901", "44", 2)]
    assert result["rate"] == pytest.approx(0.6 * 8 / 10 + 0.3 * 5 / 7 + 0.1 * 4 / 5)
    # The breakdown still counts the batches: only the weighted rate is about manufacturing.
    assert statistics.breakdown(Sample.objects.all(), "city", year=2024)["totals"]["tested"] == 24


def test_no_weights_no_rate(world):
    result = statistics.manufacturing_pass_rate(Sample.objects.all(), year=2024)
    assert result["rate"] is None and result["weights_year"] is None and result["industries"] == []


def test_load_industry_output_is_idempotent():
    loaded = statistics.load_industry_output()
    assert loaded == 29
    assert statistics.load_industry_output() == 29
    rows = IndustryOutput.objects.filter(region__isnull=True)
    assert rows.count() == 29
    assert set(rows.values_list("industry_id", flat=True)) == statistics.MANUFACTURING_DIVISIONS
    assert all("示例数据" in source for source in rows.values_list("source", flat=True))


# --- page and export ----------------------------------------------------------------------------

def test_page_shows_table_totals_and_weighted_rate(world, login):
    _weights(c36=600, c30=300, c13=100)
    client = login("province")
    response = client.get(stats_url(), {"by": "county", "year": 2024})
    assert response.status_code == 200
    page = response.content.decode()
    assert "长春市 南关区" in page and "延边朝鲜族自治州 延吉市" in page
    assert 'id="qg-stats-totals"' in page
    assert response.context["totals"]["tested"] == 22
    assert response.context["weighted"]["rate"] == pytest.approx(0.6 * 8 / 10 + 0.3 * 5 / 7 + 0.1 * 4 / 5)
    assert "77.43%" in page  # the weighted rate, shown to two decimals
    assert "vendor/echarts/echarts.min.js" in page and "qualitygov/geo/jilin.json" in page
    cities = {item["code"]: item for item in response.context["map_data"]}
    assert len(cities) == 9 and cities["220100"]["tested"] == 17 and "value" not in cities["220200"]


def test_htmx_request_gets_the_results_only(world, login):
    client = login("province")
    response = client.get(stats_url(), {"by": "stage"}, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200 and "<html" not in page and 'id="qg-stats-table"' in page


def test_page_is_for_officers_and_scoped(world, login):
    for username in ("inspector", "lab", "enterprise"):
        response = login(username).get(stats_url())
        assert response.status_code == 403, username
    response = login("nanguan").get(stats_url(), {"by": "county"})
    assert response.status_code == 200
    assert [row["county"] for row in response.context["rows"]] == ["220102"]
    assert "长春市 朝阳区" not in response.content.decode()


def test_invalid_filter_shows_a_warning(world, login):
    response = login("province").get(stats_url(), {"year": "abc"})
    assert response.status_code == 200 and "筛选条件有误" in response.content.decode()


def test_csv_export_parses_and_totals_row_matches(world, login):
    response = login("changchun").get(stats_url(), {"by": "county", "export": "csv"})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    header, body, total = rows[0], rows[1:-1], rows[-1]
    assert header[:2] == ["县（市、区）代码", "县（市、区）"] and "合格率（%）" in header
    assert [row[0] for row in body] == ["220102", "220104"]
    tested = header.index("检验批次")
    assert total[1] == "合计" and int(total[tested]) == 17 == sum(int(row[tested]) for row in body)
    assert float(total[header.index("合格率（%）")]) == round(100 * 13 / 17, 2)


def test_xlsx_export_parses(world, login):
    from openpyxl import load_workbook

    response = login("province").get(stats_url(), {"by": "category", "export": "xlsx"})
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    values = list(workbook.worksheets[0].iter_rows(values_only=True))
    header = values[0]
    tested = header.index("检验批次")
    assert [row[0] for row in values[1:-1]] == ["0101", "0102", "0301", "0601"]
    assert values[-1][1] == "合计" and values[-1][tested] == 25
    assert values[1][header.index("合格率（%）")] == 80.0
