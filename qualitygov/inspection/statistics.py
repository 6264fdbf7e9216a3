"""Spot-check statistics (issue 3, item 8): pass and nonconformity rates by any dimension, each with
a 95 % Wilson interval, and the output-weighted manufacturing pass rate.

What is counted
---------------
* A **tested batch** is a sample with ``outcome = 'sampled'`` and a verdict. By default only *final*
  results count (``final_on`` set: the objection and re-inspection period is over); officers may ask
  for ``include_provisional=True`` to see results that are reported but not yet final.
* **Qualified** (合格) = verdict ``no_nonconformity``; **unqualified** (不合格) = ``unqualified`` +
  ``seriously_unqualified``; ``serious`` (严重不合格) is the second part, reported separately as well.
* **Refusals** (拒检, ``outcome = 'refused'``) are counted in their own column and are **not** in the
  pass-rate denominator: a refusal has no test result. (A refusal is recorded when sampling is
  attempted, so it counts whatever ``final_on`` says.)
* pass rate = qualified / tested; nonconformity rate = unqualified / tested = 1 − pass rate.

How
---
Every breakdown is **one** ``GROUP BY`` on the sample table, which carries copies of the dimensions
taken at sampling time (see ``inspection.models.sampling``): ``values(<keys>).annotate(Count(...,
filter=Q(...)))``. Nothing is read row by row; Python only labels the groups, adds the intervals
(vectorised over the groups) and sums the groups into the totals, so **totals equal the sum of their
breakdown** by construction, and every rate of a roll-up is a ratio of sums, never a mean of ratios.

The caller scopes the rows: functions here take a queryset already restricted with
``Sample.objects.restrict(user, 'view')`` and only narrow it further.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.db import connections, models, transaction
from django.db.models import Count, F, Func, Q
from django.db.models.functions import Substr
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qualitygov.core.models import Industry, ProductCategory, Region, region_q
from qualitygov.inspection.models import IndustryOutput, InspectionPlan, Sample, Stage, Verdict

__all__ = [
    "DIMENSIONS", "COUNT_FIELDS", "breakdown", "counted_samples", "filter_samples", "wilson_interval",
    "manufacturing_pass_rate", "load_industry_output", "MANUFACTURING_DIVISIONS", "export_columns",
]

ALPHA = 0.05  # 95 % intervals
DATA_DIR = Path(__file__).resolve().parent / "data"
INDUSTRY_OUTPUT_FILE = DATA_DIR / "industry_output.json"

# The 29 manufacturing divisions the SAMR's 制造业产品质量合格率 covers: section C of GB/T 4754-2017
# (divisions 13–43) less 42 废弃资源综合利用业 and 43 金属制品、机械和设备修理业. See
# ``manufacturing_pass_rate`` for the source.
MANUFACTURING_DIVISIONS = frozenset(f"{code}" for code in range(13, 42))

COUNT_FIELDS = ("tested", "qualified", "unqualified", "serious", "refused")


# --- time keys ----------------------------------------------------------------------------------
# Django's ExtractYear/ExtractQuarter call a Python function per row on SQLite; these are plain SQL
# on both databases (SQLite stores dates as 'YYYY-MM-DD' text).

class YearOf(Func):
    """Calendar year of a date column, as an integer."""

    output_field = models.IntegerField()
    template = "CAST(EXTRACT(YEAR FROM %(expressions)s) AS integer)"

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="CAST(substr(%(expressions)s, 1, 4) AS integer)", **extra)


class QuarterKey(Func):
    """``year * 10 + quarter`` of a date column (20243 = third quarter of 2024): one integer to group by."""

    output_field = models.IntegerField()
    template = ("(CAST(EXTRACT(YEAR FROM %(expressions)s) AS integer) * 10"
                " + CAST(EXTRACT(QUARTER FROM %(expressions)s) AS integer))")

    def as_sqlite(self, compiler, connection, **extra):
        template = ("(CAST(substr(%(expressions)s, 1, 4) AS integer) * 10"
                    " + (CAST(substr(%(expressions)s, 6, 2) AS integer) + 2) / 3)")
        return self.as_sql(compiler, connection, template=template, **extra)


class QuarterOf(Func):
    """Quarter (1–4) of a date column."""

    output_field = models.IntegerField()
    template = "CAST(EXTRACT(QUARTER FROM %(expressions)s) AS integer)"

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="((CAST(substr(%(expressions)s, 6, 2) AS integer) + 2) / 3)",
                           **extra)


# --- dimensions ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Dimension:
    """One way to group samples: the SQL key and how a key is shown."""

    name: str
    label: str  # lazy translation
    expression: object  # a field name or an expression; evaluated in the GROUP BY

    def key_expression(self):
        return F(self.expression) if isinstance(self.expression, str) else self.expression


DIMENSIONS: dict[str, Dimension] = {d.name: d for d in (
    Dimension("plan", gettext_lazy("抽查计划"), "plan_id"),
    Dimension("category", gettext_lazy("产品类别"), "category_id"),
    Dimension("province", gettext_lazy("省"), Substr("region_id", 1, 2)),
    # Prefecture = first four digits of the GB/T 2260 code. Measured on 1 M samples against a join to
    # Region.parent: the join was ~1.5× slower on SQLite and no faster beyond noise on PostgreSQL.
    Dimension("city", gettext_lazy("市（州）"), Substr("region_id", 1, 4)),
    Dimension("county", gettext_lazy("县（市、区）"), "region_id"),
    Dimension("industry", gettext_lazy("所属行业"), "industry_id"),
    Dimension("size", gettext_lazy("企业规模"), "size_class"),
    Dimension("stage", gettext_lazy("抽样环节"), "stage"),
    Dimension("year", gettext_lazy("年度"), YearOf("sampled_on")),
    Dimension("quarter", gettext_lazy("季度"), QuarterKey("sampled_on")),
)}


def _parse_by(by: str | Sequence[str]) -> list[str]:
    names = [part.strip() for part in by.split(",")] if isinstance(by, str) else list(by)
    if not names:
        raise ValueError("no dimension to group by")
    unknown = [name for name in names if name not in DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown dimension(s) {unknown}; choose from {sorted(DIMENSIONS)}")
    if len(set(names)) != len(names):
        raise ValueError(f"dimension named twice in {names}")
    return names


def _labels(name: str, keys: Iterable) -> dict:
    """Display label of each key of dimension ``name`` (one small query for coded dimensions)."""
    keys = set(keys)
    if name == "plan":
        return {pk: f"{code} {title}" for pk, code, title in
                InspectionPlan.objects.filter(pk__in=keys).values_list("pk", "code", "title")}
    if name == "category":
        return {c.code: str(c) for c in ProductCategory.objects.filter(code__in=keys)}
    if name == "industry":
        return {i.code: str(i) for i in Industry.objects.filter(code__in=keys)}
    if name == "province":
        names = {r.code[:2]: str(r) for r in Region.objects.filter(level=Region.Level.PROVINCE)}
        return {key: names.get(key, key) for key in keys}
    if name == "city":
        names = {r.code[:4]: str(r) for r in Region.objects.filter(level=Region.Level.CITY)}
        return {key: names.get(key, key) for key in keys}
    if name == "county":
        return {r.code: (f"{r.parent} {r}" if r.parent_id and r.parent.level == Region.Level.CITY else str(r))
                for r in Region.objects.filter(code__in=keys).select_related("parent")}
    if name == "size":
        from qualitygov.registry.models import MarketEntity

        choices = dict(MarketEntity.SizeClass.choices)
        return {key: str(choices.get(key, key)) for key in keys}
    if name == "stage":
        choices = dict(Stage.choices)
        return {key: str(choices.get(key, key)) for key in keys}
    if name == "year":
        return {key: _("%(year)s年") % {"year": key} for key in keys}
    if name == "quarter":
        return {key: _("%(year)s年第%(quarter)s季度") % {"year": key // 10, "quarter": key % 10} for key in keys}
    return {key: str(key) for key in keys}


# --- rows ---------------------------------------------------------------------------------------

def filter_samples(queryset, *, year: int | None = None, quarter: int | None = None, plan=None,
                   category: str | None = None, stage: str | None = None, region: str | None = None):
    """Narrow ``queryset`` by the page's filters.

    ``year``/``quarter`` are of the sampling date (a quarter without a year means that quarter of
    every year); ``category`` includes its sub-categories; ``region`` is a GB/T 2260 code and
    includes everything under it.
    """
    if year:
        year = int(year)
        if quarter:
            quarter = int(quarter)
            start = dt.date(year, 3 * quarter - 2, 1)
            end = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)
        else:
            start, end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
        queryset = queryset.filter(sampled_on__gte=start, sampled_on__lt=end)
    elif quarter:
        queryset = queryset.alias(_quarter=QuarterOf("sampled_on")).filter(_quarter=int(quarter))
    if plan:
        queryset = queryset.filter(plan_id=getattr(plan, "pk", plan))
    if category:
        code = getattr(category, "pk", category)
        codes = [code, *ProductCategory.objects.filter(parent_id=code).values_list("code", flat=True)]
        queryset = queryset.filter(category_id__in=codes)
    if stage:
        queryset = queryset.filter(stage=stage)
    if region:
        from qualitygov.core.models import region_prefix

        queryset = queryset.filter(region_q("region_id", region_prefix(getattr(region, "pk", region))))
    return queryset


def counted_samples(queryset, include_provisional: bool = False):
    """The rows the statistics count: tested batches (final ones unless ``include_provisional``) and
    refusals. Refusals are returned too but never enter a pass-rate denominator."""
    if queryset.query.distinct:
        # A scope that joins (lab staff: via reports) returns DISTINCT rows; a GROUP BY over the join
        # would count a sample once per joined row, so count the scoped primary keys instead.
        queryset = Sample.objects.filter(pk__in=queryset.values("pk"))
    tested = Q(outcome=Sample.Outcome.SAMPLED, verdict__in=Verdict.values)
    if not include_provisional:
        tested &= Q(final_on__isnull=False)
    return queryset.filter(tested | Q(outcome=Sample.Outcome.REFUSED)).order_by()


def _count_annotations() -> dict:
    sampled = Sample.Outcome.SAMPLED
    return {
        "qualified": Count("pk", filter=Q(outcome=sampled, verdict=Verdict.NO_NONCONFORMITY)),
        "unqualified_only": Count("pk", filter=Q(outcome=sampled, verdict=Verdict.UNQUALIFIED)),
        "serious": Count("pk", filter=Q(outcome=sampled, verdict=Verdict.SERIOUSLY_UNQUALIFIED)),
        "refused": Count("pk", filter=Q(outcome=Sample.Outcome.REFUSED)),
    }


def wilson_interval(successes, n, alpha: float = ALPHA):
    """Wilson score interval for ``successes`` out of ``n`` (scalars or arrays, vectorised).

    Computed by statsmodels' ``proportion_confint(method='wilson')`` (Wilson E.B., JASA 22 (1927)
    209–212; "method 3" of Newcombe R.G., Statistics in Medicine 17 (1998) 857–872, whose Table I
    examples the tests check). Returns two float arrays; where ``n`` is 0 both bounds are NaN.
    """
    import numpy as np
    from statsmodels.stats.proportion import proportion_confint  # heavy import (scipy): only when used

    successes = np.atleast_1d(np.asarray(successes, dtype=float))
    n = np.atleast_1d(np.asarray(n, dtype=float))
    low = np.full(n.shape, np.nan)
    high = np.full(n.shape, np.nan)
    mask = n > 0
    if mask.any():
        lo, hi = proportion_confint(successes[mask], n[mask], alpha=alpha, method="wilson")
        low[mask] = np.clip(lo, 0.0, 1.0)
        high[mask] = np.clip(hi, 0.0, 1.0)
        # At 0/n and n/n Wilson's bound is exactly 0 or 1 (the square root equals the centre's
        # offset); the floating-point formula leaves ~1e-17 of noise there.
        low[mask & (successes == 0)] = 0.0
        high[mask & (successes == n)] = 1.0
    return low, high


_NO_RATES = dict.fromkeys(("pass_rate", "nonconformity_rate", "pass_rate_low", "pass_rate_high",
                           "nonconformity_low", "nonconformity_high"))


def _add_rates(rows: list[dict]) -> None:
    """Pass and nonconformity rates with their Wilson intervals, in place (plain floats or None)."""
    if not rows:
        return
    low, high = wilson_interval([row["qualified"] for row in rows], [row["tested"] for row in rows])
    for row, lo, hi in zip(rows, low.tolist(), high.tolist(), strict=True):
        n = row["tested"]
        if n:
            # The nonconformity interval is the pass interval mirrored (Wilson is symmetric in p ↔ 1−p).
            row.update(pass_rate=row["qualified"] / n, nonconformity_rate=row["unqualified"] / n,
                       pass_rate_low=lo, pass_rate_high=hi, nonconformity_low=1.0 - hi, nonconformity_high=1.0 - lo)
        else:
            row.update(_NO_RATES)


def _fetch(queryset) -> tuple[dict[str, int], list[tuple]]:
    """Run a values/annotate queryset's SQL and return (column index by alias, rows as tuples).

    The SQL is the ORM's own; reading the tuples straight from the cursor skips building a dict
    and running type converters per group, which is most of the cost once there are thousands of
    groups (there are no converters to miss: the keys are text or integer columns, the counts
    integers).
    """
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        columns = {column[0]: index for index, column in enumerate(cursor.description)}
        return columns, cursor.fetchall()


def breakdown(queryset, by: str | Sequence[str], *, include_provisional: bool = False, **filters) -> dict:
    """Counts and rates of the samples in ``queryset`` grouped by ``by``, plus their totals.

    ``queryset``: samples already restricted to the user (``Sample.objects.restrict(user, 'view')``).
    ``by``: one dimension or several (a sequence or "city,category,quarter") from ``DIMENSIONS``:
    plan, category, province, city (first four digits of the region code), county, industry (the
    entity's, as copied at sampling), size, stage, year, quarter (of the sampling date).
    ``filters``: see ``filter_samples`` (year, quarter, plan, category, stage, region).

    Returns plain JSON-ready data::

        {"by": [...], "include_provisional": False, "filters": {...},
         "rows": [{<dim>: key, "<dim>_label": "…", "tested": n, "qualified": n, "unqualified": n,
                   "serious": n, "refused": n, "pass_rate": 0.95, "pass_rate_low": …, "pass_rate_high": …,
                   "nonconformity_rate": …, "nonconformity_low": …, "nonconformity_high": …}, …],
         "totals": {same counts and rates}}

    Rates are fractions (0–1), None where nothing was tested. Refusals are not in ``tested``. One
    SQL query for the counts, whatever the number of groups, plus one small query per coded
    dimension for the labels. ``totals`` is the sum of ``rows``.
    """
    names = _parse_by(by)
    keys = {f"k_{name}": DIMENSIONS[name].key_expression() for name in names}
    rows_qs = (counted_samples(filter_samples(queryset, **filters), include_provisional)
               .values(**keys).annotate(**_count_annotations()).order_by(*keys))
    columns, raw = _fetch(rows_qs)
    key_index = [(name, columns[f"k_{name}"]) for name in names]
    i_ok, i_unq, i_ser, i_ref = (columns[c] for c in ("qualified", "unqualified_only", "serious", "refused"))
    labels = {name: _labels(name, {row[index] for row in raw}) for name, index in key_index}
    rows = []
    for row in raw:
        out = {}
        for name, index in key_index:
            key = row[index]
            out[name] = key
            out[f"{name}_label"] = labels[name].get(key, key)
        unqualified = row[i_unq] + row[i_ser]
        out.update(tested=row[i_ok] + unqualified, qualified=row[i_ok], unqualified=unqualified, serious=row[i_ser],
                   refused=row[i_ref])
        rows.append(out)
    totals = {field: sum(row[field] for row in rows) for field in COUNT_FIELDS}
    _add_rates(rows)
    _add_rates([totals])
    return {"by": names, "include_provisional": bool(include_provisional),
            "filters": {k: (getattr(v, "pk", v)) for k, v in filters.items() if v not in (None, "")},
            "rows": rows, "totals": totals}


def export_columns(by: Sequence[str]) -> list[tuple[str, str]]:
    """(key, header) pairs of a breakdown's export, for ``core.exports``; rates in per cent."""
    columns = []
    for name in _parse_by(by):
        columns += [(name, _("%(dimension)s代码") % {"dimension": DIMENSIONS[name].label}),
                    (f"{name}_label", str(DIMENSIONS[name].label))]
    columns += [("tested", _("检验批次")), ("qualified", _("合格批次")), ("unqualified", _("不合格批次")),
                ("serious", _("其中严重不合格")), ("refused", _("拒检（不计入合格率）")),
                ("pass_rate_pct", _("合格率（%）")), ("nonconformity_rate_pct", _("不合格率（%）")),
                ("pass_rate_low_pct", _("合格率95%置信下限（%）")), ("pass_rate_high_pct", _("合格率95%置信上限（%）"))]
    return columns


def export_table(result: dict) -> list[dict]:
    """The breakdown's rows and a totals row, with per-cent columns rounded to two decimals."""
    def pct(value):
        return None if value is None else round(100 * value, 2)

    out = []
    for row in [*result["rows"], {**{name: "" for name in result["by"]},
                                  **{f"{name}_label": "" for name in result["by"]}, **result["totals"]}]:
        out.append({**row, "pass_rate_pct": pct(row["pass_rate"]), "nonconformity_rate_pct": pct(row["nonconformity_rate"]),
                    "pass_rate_low_pct": pct(row["pass_rate_low"]), "pass_rate_high_pct": pct(row["pass_rate_high"])})
    out[-1][f"{result['by'][0]}_label"] = _("合计")
    return out


# --- output-weighted manufacturing pass rate ----------------------------------------------------

def _weights(year: int | None, region_code: str | None) -> tuple[int | None, str | None, dict[str, Decimal], str]:
    """(year used, region used or None for the province, {division: output value}, source).

    The year used is ``year`` if it has figures, else the latest year before it, else the earliest
    after it; without ``year``, the latest on file.
    """
    rows = IndustryOutput.objects.filter(industry_id__in=MANUFACTURING_DIVISIONS, output_value__gt=0)
    for candidate in ([region_code] if region_code else []) + [None]:
        scoped = rows.filter(region__isnull=True) if candidate is None else rows.filter(region_id=candidate)
        years = scoped.order_by().values_list("year", flat=True)
        if year is None:
            used = years.order_by("-year").first()
        else:
            used = years.filter(year__lte=year).order_by("-year").first()
            if used is None:
                used = years.filter(year__gt=year).order_by("year").first()
        if used is not None:
            chosen = scoped.filter(year=used)
            values = dict(chosen.values_list("industry_id", "output_value"))
            sources = sorted(set(chosen.values_list("source", flat=True)))
            return used, candidate, values, "；".join(sources)
    return None, None, {}, ""


def manufacturing_pass_rate(queryset, *, include_provisional: bool = False, weights_year: int | None = None,
                            weights_region: str | None = None, **filters) -> dict:
    """Output-weighted manufacturing product-quality pass rate (制造业产品质量合格率).

    **Method** (SAMR's 产品质量合格率 monitoring, run with the National Bureau of Statistics since
    2010, published in the national statistical communiqué since 2017): the rate is "the number of
    samples judged qualified as a percentage of all samples tested", computed in two steps —
    sampling and testing, then *weighting*: "以国家统计局提供的分地区、分行业工业产值数据为权重"; the
    scope is the 29 manufacturing divisions of GB/T 4754-2017 (section C less 42 and 43), and an
    industry with a larger share of the region's output weighs more (SAMR's explanation as
    reprinted in 《产品质量合格率是什么？如何计算？》, Jiangsu Quality Association, jsqa.org
    mag_view.asp?id=8476; the communiqué's definition: NBS, 2017–2020 statistical communiqués)::

        p_i = Q_i / N_i                       (industry i: qualified / tested batches, summed over
                                               its categories — a ratio of sums)
        w_i = V_i / Σ_{j ∈ T} V_j            (V = industrial output value of the division; T = the
                                               divisions with at least one tested batch)
        P   = Σ_{i ∈ T} w_i · p_i

    A batch's industry is its product category's (``ProductCategory.industry``, a GB/T 4754
    division as ``IndustryOutput`` rows are). Divisions with no tested batch drop out and the
    weights of the rest are renormalised to sum to 1 (``coverage`` says what share of total
    output the tested divisions stand for); tested divisions without an output figure, and
    categories outside the 29 divisions, are listed in ``excluded`` and do not count.

    Weights: ``IndustryOutput`` of ``weights_year`` (default: the ``year`` filter, else the latest on
    file); when that year has no figures, the latest earlier year is used — output statistics are
    published a year or more after the fact — else the earliest later one; the year used is returned. ``weights_region``
    uses that region's own figures where they exist (the regional layer of the method), else the
    province's. No interval is given: the weighted rate is not a binomial proportion.
    """
    counts = (counted_samples(filter_samples(queryset, **filters), include_provisional)
              .filter(outcome=Sample.Outcome.SAMPLED)
              .values("category_id").annotate(**_count_annotations()))
    category_industry = dict(ProductCategory.objects.values_list("code", "industry_id"))
    per_industry: dict[str, list[int]] = {}
    excluded: list[dict] = []
    for row in counts:  # one row per category: dozens, not samples
        tested = row["qualified"] + row["unqualified_only"] + row["serious"]
        if not tested:
            continue
        industry = category_industry.get(row["category_id"])
        if industry not in MANUFACTURING_DIVISIONS:
            excluded.append({"category": row["category_id"], "industry": industry, "tested": tested,
                             "reason": _("产品类别不属于制造业29个行业大类")})
            continue
        totals = per_industry.setdefault(industry, [0, 0])
        totals[0] += tested
        totals[1] += row["qualified"]
    year = weights_year or filters.get("year")
    used_year, used_region, values, source = _weights(int(year) if year else None, weights_region)
    names = {i.code: str(i) for i in Industry.objects.filter(code__in=set(per_industry) | set(values))}
    weighted = []
    for code in sorted(per_industry):
        tested, qualified = per_industry[code]
        value = values.get(code)
        if not value:
            excluded.append({"category": None, "industry": code, "tested": tested,
                             "reason": _("该行业无产值数据")})
            continue
        weighted.append({"industry": code, "industry_label": names.get(code, code), "tested": tested,
                         "qualified": qualified, "pass_rate": qualified / tested, "output_value": float(value)})
    covered = sum(Decimal(str(row["output_value"])) for row in weighted)
    total_output = sum(values.values(), Decimal("0"))
    rate = None
    if covered > 0:
        rate = 0.0
        for row in weighted:
            row["weight"] = float(Decimal(str(row["output_value"])) / covered)
            row["contribution"] = row["weight"] * row["pass_rate"]
            rate += row["contribution"]
    tested_all = sum(row["tested"] for row in weighted)
    return {
        "rate": rate,
        "unweighted_rate": (sum(row["qualified"] for row in weighted) / tested_all) if tested_all else None,
        "weights_year": used_year,
        "weights_region": used_region,
        "weights_source": source,
        "coverage": float(covered / total_output) if total_output else None,
        "industries": weighted,
        "excluded": excluded,
    }


@transaction.atomic
def load_industry_output(path: Path | str | None = None) -> int:
    """Load province-wide output values from ``data/industry_output.json`` (idempotent: update or
    create by year and industry). Returns the number of rows in the file."""
    with open(path or INDUSTRY_OUTPUT_FILE, encoding="utf-8") as handle:
        data = json.load(handle)
    year, source = int(data["year"]), data["source"]
    rows = data["rows"]
    known = set(Industry.objects.filter(code__in=[row["industry"] for row in rows]).values_list("code", flat=True))
    missing = sorted({row["industry"] for row in rows} - known)
    if missing:
        raise ValueError(f"industry codes not in the reference data: {missing} (load the reference data first)")
    for row in rows:
        IndustryOutput.objects.update_or_create(
            year=year, industry_id=row["industry"], region=None,
            defaults={"output_value": Decimal(str(row["output_value"])), "source": source[:255]})
    return len(rows)
