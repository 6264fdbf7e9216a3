"""Credit dashboards for officers (issue 4, item 8): grade distribution by region and by industry,
grade movements, list counts, credit repairs, the Jilin map, and the internal risk-class panel.

Every figure is a GROUP BY in the database (conditional counts, one query per table), scoped to the
user's region exactly as ``RestrictedQuerySet.restrict`` scopes it: ``EntityScore`` and
``GradeChange`` have no region of their own, so they are filtered by their entity's region code
prefix (``region_q``); ``ListEntry`` and ``RepairApplication`` go through ``.restrict(user)``.
The page, the exports and the API all read ``figures()``.

Risk classes are internal (never shown to the public or the entity): the dashboard is for officers
only (``DASHBOARD_ROLES``), and the risk figures are a separate part of the result.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Avg, Case, Count, F, Q, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qualitygov.core.models import Industry, Region, region_prefix, region_q
from qualitygov.core.roles import VIEW, Role
from qualitygov.credit.models import (
    EntityScore,
    Grade,
    GradeChange,
    ListEntry,
    RepairApplication,
    RiskClass,
    ScoringRun,
)

# Officers read the credit dashboards of their region, like the spot-check statistics; inspectors work
# in the field from their task lists, and enterprises, labs and data consumers never see risk classes.
DASHBOARD_ROLES = frozenset({Role.PROVINCE_ADMIN, Role.PROVINCE_OFFICER, Role.CITY_OFFICER, Role.COUNTY_OFFICER})

GRADES = list(Grade.values)  # best first
RISKS = list(RiskClass.values)
GRADE_RANK = {grade: index for index, grade in enumerate(GRADES)}
LOW_GRADES = ("C", "D")  # the map colours the share of these

PERIOD_DAYS = {"d30": 30, "d90": 90, "d365": 365}
PERIOD_CHOICES = [
    ("run", gettext_lazy("自最近一次全量评分以来")),
    ("d30", gettext_lazy("最近 30 天")),
    ("d90", gettext_lazy("最近 90 天")),
    ("d365", gettext_lazy("最近一年")),
    ("custom", gettext_lazy("自定义期间")),
]
MAX_PERIOD_DAYS = 3660


class DashboardRefused(ValidationError):
    """Bad dashboard parameters; ``code`` names the reason for API clients."""


def can_view(user) -> bool:
    """Whether ``user`` may read the credit dashboards (officers and the province administrator)."""
    return bool(user and user.is_authenticated and user.is_active
                and (user.is_superuser or user.role in DASHBOARD_ROLES))


def check_access(user) -> None:
    """Raise ``PermissionDenied`` (Chinese message) unless ``user`` may read the dashboards."""
    if not can_view(user):
        raise PermissionDenied(_("信用监管看板仅供监管人员查看。"))


# --- scope and period ------------------------------------------------------------------------------

def scope_regions(user):
    """Regions the user may drill into: the divisions inside the user's region (all for the province)."""
    regions = Region.objects.select_related("parent").order_by("code")
    prefix = user.region_prefix
    return regions.filter(region_q("code", prefix)) if prefix is not None else regions


def _prefixes(user, region: Region | None) -> list[str]:
    """Region-code prefixes a figure must lie within: the user's scope and, when drilling, the region."""
    out = []
    if user.region_prefix is not None:
        out.append(user.region_prefix)
    if region is not None:
        out.append(region_prefix(region.code))
    return out


def _in_scope(queryset, field: str, prefixes: list[str]):
    for prefix in prefixes:
        queryset = queryset.filter(region_q(field, prefix))
    return queryset


@dataclass(frozen=True)
class Period:
    """The window of the period figures (dates inclusive) and, for ``run``, the full run it starts at."""

    key: str
    start: dt.date
    end: dt.date
    run: ScoringRun | None = None

    @property
    def since(self) -> dt.datetime:
        """Start of the movement window: the run's start, else the local midnight of ``start``."""
        if self.run is not None:
            return self.run.started_at
        return timezone.make_aware(dt.datetime.combine(self.start, dt.time.min))

    @property
    def until(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min))

    def as_dict(self) -> dict:
        return {"key": self.key, "start": self.start.isoformat(), "end": self.end.isoformat(),
                "run": self.run.pk if self.run is not None else None,
                "run_as_of": self.run.as_of.isoformat() if self.run is not None else None,
                "label": str(dict(PERIOD_CHOICES)[self.key])}


def last_full_run() -> ScoringRun | None:
    """The latest succeeded full scoring run, if any."""
    return (ScoringRun.objects.filter(kind=ScoringRun.Kind.FULL, status=ScoringRun.Status.SUCCEEDED)
            .order_by("-started_at", "-id").first())


def resolve_period(key: str | None = None, start: dt.date | None = None, end: dt.date | None = None,
                   today: dt.date | None = None) -> Period:
    """The period of the movement, list and repair figures.

    Default: since the latest succeeded full scoring run (its movements and everything after), or the
    last 90 days when nothing has been scored yet. ``d30``/``d90``/``d365``: that many days up to today;
    ``custom``: ``start`` to ``end`` inclusive. Raises ``DashboardRefused`` for a bad period.
    """
    today = today or timezone.localdate()
    key = key or ""
    if key not in ("", "custom", "run", *PERIOD_DAYS):
        raise DashboardRefused(_("未知的统计期间：%(key)s。") % {"key": key}, code="invalid_period")
    if key in ("", "run"):
        run = last_full_run()
        if run is not None:
            return Period("run", min(timezone.localdate(run.started_at), today), today, run)
        if key == "run":
            raise DashboardRefused(_("尚未进行过全量信用评分，请选择其他统计期间。"), code="no_scoring_run")
        key = "d90"
    if key in PERIOD_DAYS:
        return Period(key, today - dt.timedelta(days=PERIOD_DAYS[key] - 1), today)
    if start is None or end is None:
        raise DashboardRefused(_("自定义期间须填写起始日期和截止日期。"), code="period_incomplete")
    if start > end:
        raise DashboardRefused(_("起始日期不能晚于截止日期。"), code="period_reversed")
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise DashboardRefused(_("统计期间不能超过 10 年。"), code="period_too_long")
    return Period("custom", start, end)


# --- figures ---------------------------------------------------------------------------------------

def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def _grade_counts() -> dict:
    return {f"n_{grade}": Count("pk", filter=Q(grade=grade)) for grade in GRADES}


def _risk_counts() -> dict:
    return {f"n_{risk}": Count("pk", filter=Q(risk_class=risk)) for risk in RISKS}


def _grade_row(row: dict, classes: list[str]) -> dict:
    """Counts and shares of one table row; grade rows also get the C+D share and the average score."""
    total = row["total"]
    cells = [{"key": c, "count": row[f"n_{c}"], "share": _share(row[f"n_{c}"], total),
              "percent": _percent(row[f"n_{c}"], total)} for c in classes]
    out = {"total": total, "cells": cells, "counts": {c: row[f"n_{c}"] for c in classes}}
    if classes == GRADES:
        low = sum(row[f"n_{g}"] for g in LOW_GRADES)
        avg = row.get("avg")
        out.update(low=low, low_share=_share(low, total), low_percent=_percent(low, total),
                   average_score=round(float(avg), 2) if avg is not None else None)
    return out


def _city_expression():
    """The entity's prefecture: a county's parent, a city itself (the province stays the province)."""
    return Case(When(entity__region__level=Region.Level.COUNTY, then=F("entity__region__parent_id")),
                default=F("entity__region_id"))


def _section_expression():
    """The entity's GB/T 4754 section: a division's parent, a section itself."""
    return Case(When(entity__industry__level=Industry.Level.SECTION, then=F("entity__industry_id")),
                default=F("entity__industry__parent_id"))


def breakdown_level(user, region: Region | None) -> str:
    """How the region table groups: by ``city`` for the province, ``county`` inside a city, and the
    county itself (``county``, one row) inside a county."""
    area = region or (user.region if user.region_prefix is not None else None)
    if area is None or area.level == Region.Level.PROVINCE:
        return "city"
    return "county"


def _by_area(scores, level: str, aggregates: dict) -> list[dict]:
    area = _city_expression() if level == "city" else F("entity__region_id")
    return list(scores.annotate(area=area).values("area").annotate(total=Count("pk"), **aggregates)
                .order_by("area"))


def _label_regions(rows: list[dict], city_level: bool) -> None:
    names = {r.code: r for r in Region.objects.filter(code__in=[row["area"] for row in rows if row["area"]])}
    for row in rows:
        region = names.get(row["area"])
        name = str(region) if region else _("未知区划")
        if region is not None and city_level is False and region.level == Region.Level.CITY:
            name = _("%(name)s（市本级）") % {"name": name}
        row["code"], row["name"] = row.pop("area"), name


def figures(user, *, period: Period, region: Region | None = None, today: dt.date | None = None) -> dict:
    """All dashboard figures for ``user`` (scope) and an optional ``region`` inside it (drill-down)."""
    check_access(user)
    today = today or timezone.localdate()
    prefixes = _prefixes(user, region)
    level = breakdown_level(user, region)
    scores = _in_scope(EntityScore.objects.order_by(), "entity__region_id", prefixes)
    grade_aggs = {**_grade_counts(), "avg": Avg("score")}

    overall = scores.aggregate(total=Count("pk"), **grade_aggs)
    by_region = _by_area(scores, level, grade_aggs)
    _label_regions(by_region, level == "city")
    by_industry = list(scores.annotate(section=_section_expression()).values("section")
                       .annotate(total=Count("pk"), **grade_aggs).order_by("section"))
    sections = {i.code: i for i in Industry.objects.filter(code__in=[r["section"] for r in by_industry if r["section"]])}
    for row in by_industry:
        section = sections.get(row["section"])
        row["code"] = row.pop("section")
        row["name"] = str(section) if section else _("未分类行业")

    grades = {
        "total": overall["total"],
        **_grade_row(overall, GRADES),
        "by_region": [{"code": r["code"], "name": r["name"], **_grade_row(r, GRADES)} for r in by_region],
        "by_industry": [{"code": r["code"], "name": r["name"], **_grade_row(r, GRADES)} for r in by_industry],
    }
    risk_overall = scores.aggregate(total=Count("pk"), **_risk_counts())
    risk_by_region = _by_area(scores, level, _risk_counts())
    _label_regions(risk_by_region, level == "city")
    risk = {**_grade_row(risk_overall, RISKS),
            "labels": {r: str(RiskClass(r).label) for r in RISKS},
            "by_region": [{"code": r["code"], "name": r["name"], **_grade_row(r, RISKS)} for r in risk_by_region]}
    return {
        "scope": {"region": region.code if region else (user.region_id if user.region_prefix is not None else None),
                  "region_name": (region.full_name if region else
                                  (user.region.full_name if user.region_prefix is not None and user.region
                                   else _("吉林省"))),
                  "level": level},
        "period": period.as_dict(),
        "as_of": today.isoformat(),
        "grades": grades,
        "movements": movements(user, period, region),
        "lists": list_counts(user, period, region),
        "repairs": repair_counts(user, period, region, today=today),
        "map": map_data(user),
        "risk": risk,
    }


def movements(user, period: Period, region: Region | None = None) -> dict:
    """From × to matrix of grade changes in the period, with upgrades and downgrades."""
    check_access(user)
    changes = _in_scope(GradeChange.objects.order_by(), "entity__region_id", _prefixes(user, region))
    changes = changes.filter(changed_at__gte=period.since, changed_at__lt=period.until)
    counts = {(row["from_grade"], row["to_grade"]): row["n"]
              for row in changes.values("from_grade", "to_grade").annotate(n=Count("pk"))}
    matrix = []
    for origin in GRADES:
        cells = [{"key": target, "count": counts.get((origin, target), 0)} for target in GRADES]
        matrix.append({"from": origin, "cells": cells, "total": sum(c["count"] for c in cells)})
    up = sum(n for (a, b), n in counts.items() if GRADE_RANK.get(b, 0) < GRADE_RANK.get(a, 0))
    down = sum(n for (a, b), n in counts.items() if GRADE_RANK.get(b, 0) > GRADE_RANK.get(a, 0))
    return {"matrix": matrix, "upgrades": up, "downgrades": down, "total": sum(counts.values()),
            "to_totals": [sum(counts.get((a, b), 0) for a in GRADES) for b in GRADES]}


def _dates(field: str, period: Period) -> Q:
    return Q(**{f"{field}__gte": period.start, f"{field}__lte": period.end})


def _restricted(model, user, region: Region | None):
    """``model``'s rows the user may view (``restrict``), inside the drilled ``region`` if any."""
    check_access(user)
    queryset = model.objects.restrict(user, VIEW).order_by()
    return _in_scope(queryset, "entity__region_id", [region_prefix(region.code)] if region is not None else [])


def list_counts(user, period: Period, region: Region | None = None) -> dict:
    """Per list: entries listed now, listed and removed in the period, and removals by reason."""
    entries = _restricted(ListEntry, user, region)
    rows = {row["kind"]: row for row in entries.values("kind").annotate(
        listed_now=Count("pk", filter=Q(status=ListEntry.Status.LISTED)),
        listed=Count("pk", filter=_dates("listed_on", period)),
        removed=Count("pk", filter=Q(status=ListEntry.Status.REMOVED) & _dates("removed_on", period)))}
    reasons = {}
    for row in (entries.filter(Q(status=ListEntry.Status.REMOVED) & _dates("removed_on", period))
                .values("kind", "removal_reason").annotate(n=Count("pk"))):
        reasons[(row["kind"], row["removal_reason"])] = row["n"]
    out = []
    for kind, label in ListEntry.Kind.choices:
        row = rows.get(kind, {})
        out.append({"kind": kind, "label": str(label), "listed_now": row.get("listed_now", 0),
                    "listed": row.get("listed", 0), "removed": row.get("removed", 0),
                    "reasons": [{"key": reason, "label": str(reason_label), "count": reasons.get((kind, reason), 0)}
                                for reason, reason_label in ListEntry.RemovalReason.choices]})
    totals = {key: sum(r[key] for r in out) for key in ("listed_now", "listed", "removed")}
    totals["reasons"] = [{"key": reason, "label": str(label), "count": sum(
        n for (_kind, r), n in reasons.items() if r == reason)} for reason, label in ListEntry.RemovalReason.choices]
    return {"rows": out, "totals": totals}


def repair_counts(user, period: Period, region: Region | None = None, *, today: dt.date | None = None) -> dict:
    """Per repair target: applications by status, open, overdue today, and received and decided in the period.
    Overdue: submitted and not accepted by ``accept_due_on``, or accepted and not decided by ``decide_due_on``."""
    today = today or timezone.localdate()
    apps = _restricted(RepairApplication, user, region)
    S = RepairApplication.Status
    overdue = (Q(status=S.SUBMITTED, accept_due_on__lt=today)
               | Q(status=S.ACCEPTED, decide_due_on__isnull=False, decide_due_on__lt=today))
    aggregates = {f"n_{status}": Count("pk", filter=Q(status=status)) for status in S.values}
    rows = {row["target"]: row for row in apps.values("target").annotate(
        total=Count("pk"), overdue=Count("pk", filter=overdue), received=Count("pk", filter=_dates("received_on", period)),
        decided=Count("pk", filter=_dates("decided_on", period)), **aggregates)}
    out = []
    for target, label in RepairApplication.Target.choices:
        row = rows.get(target, {})
        cells = [{"key": status, "count": row.get(f"n_{status}", 0)} for status in S.values]
        out.append({"target": target, "label": str(label), "cells": cells, "total": row.get("total", 0),
                    "open": sum(c["count"] for c in cells if c["key"] in RepairApplication.OPEN_STATUSES),
                    "overdue": row.get("overdue", 0), "received": row.get("received", 0),
                    "decided": row.get("decided", 0)})
    totals = {key: sum(r[key] for r in out) for key in ("total", "open", "overdue", "received", "decided")}
    totals["cells"] = [{"key": status, "count": sum(r["cells"][i]["count"] for r in out)}
                       for i, status in enumerate(S.values)]
    return {"rows": out, "totals": totals, "statuses": [{"key": k, "label": str(v)} for k, v in S.choices]}


def map_data(user) -> list[dict]:
    """Per prefecture in the user's scope: scored entities, C+D count and share (in %), average score.
    Prefectures outside the scope or without scores carry no ``value`` (drawn grey)."""
    check_access(user)
    scores = _in_scope(EntityScore.objects.order_by(), "entity__region_id", _prefixes(user, None))
    rows = {row["area"]: row for row in _by_area(scores, "city", {**_grade_counts(), "avg": Avg("score")})}
    out = []
    for city in Region.objects.filter(level=Region.Level.CITY).order_by("code"):
        # A prefecture the user may drill into: inside the user's region (the whole province for province roles).
        item = {"name": city.name, "code": city.code, "label": str(city),
                "drill": user.region_prefix is None or city.code.startswith(user.region_prefix)}
        row = rows.get(city.code)
        if row and row["total"]:
            low = sum(row[f"n_{g}"] for g in LOW_GRADES)
            item.update(value=round(100 * low / row["total"], 2), total=row["total"], low=low,
                        average_score=round(float(row["avg"]), 2))
        out.append(item)
    return out


# --- exports ---------------------------------------------------------------------------------------

def _pct(value) -> str:
    return "" if value is None else f"{100 * value:.2f}%"


def _grade_table(rows: list[dict], first: str, classes: list[str], totals: dict) -> tuple[list, list]:
    headers = [first, _("评分主体数")]
    for c in classes:
        headers += [_("%(grade)s 级数量") % {"grade": c}, _("%(grade)s 级占比") % {"grade": c}]
    if classes == GRADES:
        headers += [_("C、D 级占比"), _("平均信用分")]
    body = []
    for row in [*rows, {"name": _("合计"), **totals}]:
        line = [row["name"], row["total"]]
        for cell in row["cells"]:
            line += [cell["count"], _pct(cell["share"])]
        if classes == GRADES:
            line += [_pct(row["low_share"]), "" if row["average_score"] is None else row["average_score"]]
        body.append(line)
    return headers, body


EXPORT_TABLES = {
    "grades-region": gettext_lazy("信用等级分布（按区划）"),
    "grades-industry": gettext_lazy("信用等级分布（按行业门类）"),
    "movements": gettext_lazy("信用等级变动矩阵"),
    "lists": gettext_lazy("名单统计"),
    "repairs": gettext_lazy("信用修复统计"),
    "risk": gettext_lazy("风险分类分布（内部）"),
}


def export_table(data: dict, table: str) -> tuple[list[str], list[list]]:
    """Header (Chinese) and rows of one dashboard table, from ``figures()``; ``KeyError`` if unknown."""
    if table not in EXPORT_TABLES:
        raise KeyError(table)
    grades = data["grades"]
    if table == "grades-region":
        return _grade_table(grades["by_region"], _("区划"), GRADES, grades)
    if table == "grades-industry":
        return _grade_table(grades["by_industry"], _("行业门类"), GRADES, grades)
    if table == "risk":
        risk = data["risk"]
        return _grade_table(risk["by_region"], _("区划"), RISKS, risk)
    if table == "movements":
        moves = data["movements"]
        headers = [_("原等级＼新等级"), *GRADES, _("合计")]
        body = [[row["from"], *[c["count"] for c in row["cells"]], row["total"]] for row in moves["matrix"]]
        body.append([_("合计"), *moves["to_totals"], moves["total"]])
        body.append([_("升级"), moves["upgrades"]])
        body.append([_("降级"), moves["downgrades"]])
        return headers, body
    if table == "lists":
        lists = data["lists"]
        headers = [_("名单"), _("当前在列"), _("期间内列入"), _("期间内移出"),
                   *[_("移出原因：%(reason)s") % {"reason": r["label"]} for r in lists["totals"]["reasons"]]]
        body = [[row["label"], row["listed_now"], row["listed"], row["removed"], *[r["count"] for r in row["reasons"]]]
                for row in lists["rows"]]
        t = lists["totals"]
        body.append([_("合计"), t["listed_now"], t["listed"], t["removed"], *[r["count"] for r in t["reasons"]]])
        return headers, body
    repairs = data["repairs"]
    headers = [_("修复事项"), *[s["label"] for s in repairs["statuses"]], _("合计"), _("办理中"), _("已超期"),
               _("期间内收到"), _("期间内作出决定")]
    body = [[row["label"], *[c["count"] for c in row["cells"]], row["total"], row["open"], row["overdue"],
             row["received"], row["decided"]] for row in repairs["rows"]]
    t = repairs["totals"]
    body.append([_("合计"), *[c["count"] for c in t["cells"]], t["total"], t["open"], t["overdue"], t["received"],
                 t["decided"]])
    return headers, body
