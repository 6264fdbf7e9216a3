"""Statistics of complaints and tip-offs, and the public monthly summary (issue 6 item 8).

SAMR Order 20 Art. 34 asks the regulator to analyse the complaints and tip-offs it handles and to
publish the analysis. This module computes, for an officer's region (``Case.objects.restrict``) and a
period, every figure the statistics page, its exports and the API show:

- counts by problem category, product category, handling unit (county) rolled up to city (the
  province total is the overall total), channel, kind, status and outcome;
- timeliness for each legal limit of the Order: acceptance within 7 working days (Art. 14), the end of
  mediation within 45 working days of acceptance, testing time excluded (Art. 20, 21), notice of the
  end of mediation within 7 working days (Art. 21), verification of a violation clue within 15
  (+15) working days (Art. 23) and notice to a real-name reporter within 5 working days (Art. 31) —
  the share handled within the limit among the cases where the step was taken in the period, and the
  number overdue at the reference day;
- the complainants' satisfaction after closure (mean, distribution, response rate);
- the monthly trend of cases received and closed.

Every figure is one aggregate query (conditional counts, GROUP BY), never a loop over cases. Merged
duplicates (status ``merged``) are not counted again: they are part of the case they were merged into.

``publish_month`` freezes one month's figures for the whole province into a ``MonthlySummary``: counts,
shares and satisfaction only — never a reporter's name or contacts, and of respondents only those
whose violation was verified and penalised (a public administrative penalty), never those of
unverified cases.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, F, Q, When
from django.db.models import Case as CaseWhen
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qualitygov.complaints.models import Case, Category, Channel, MonthlySummary
from qualitygov.core import audit
from qualitygov.core.models import AuditLog, ProductCategory, Region, region_prefix, region_q
from qualitygov.core.roles import VIEW, Role, actions_for

__all__ = [
    "DEADLINES", "EXPORT_TABLES", "PERIOD_CHOICES", "Period", "StatisticsRefused", "can_publish", "can_view",
    "check_access", "export_table", "figures", "localise_summary", "month_figures", "publish_month", "published_summaries",
    "resolve_period", "scope_regions",
]

# Who publishes the monthly summary: the province's own staff (the summary covers the whole province).
PUBLISH_ROLES = frozenset({Role.PROVINCE_ADMIN, Role.PROVINCE_OFFICER})

PERIOD_CHOICES = [
    ("last_12", gettext_lazy("最近 12 个月")),
    ("this_month", gettext_lazy("本月")),
    ("last_month", gettext_lazy("上月")),
    ("this_year", gettext_lazy("本年")),
    ("custom", gettext_lazy("自定义期间")),
]
MAX_PERIOD_DAYS = 3660


class StatisticsRefused(ValidationError):
    """Bad statistics parameters or a refused publication; ``code`` names the reason for API clients."""


# --- access ----------------------------------------------------------------------------------------

def can_view(user) -> bool:
    """Whether ``user`` may read complaint statistics: those who may view cases (officers, the
    province administrator) — the same roles as the case queue, each in its own region."""
    return bool(user and user.is_authenticated and user.is_active
                and (user.is_superuser or VIEW in actions_for(user.role, Case)))


def check_access(user) -> None:
    """Raise ``PermissionDenied`` (Chinese message) unless ``user`` may read the statistics."""
    if not can_view(user):
        raise PermissionDenied(_("投诉举报统计仅供市场监管部门工作人员查看。"))


def can_publish(user) -> bool:
    """Whether ``user`` may publish a monthly summary: province-level officers and the administrator."""
    return bool(can_view(user) and (user.is_superuser or user.role in PUBLISH_ROLES))


def scope_regions(user):
    """Regions the user may drill into (inside the user's region; all of Jilin for the province)."""
    regions = Region.objects.select_related("parent").exclude(level=Region.Level.PROVINCE).order_by("code")
    prefix = user.region_prefix
    return regions.filter(region_q("code", prefix)) if prefix is not None else regions


# --- period ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """Dates of the period, both inclusive."""

    key: str
    start: dt.date
    end: dt.date

    def as_dict(self) -> dict:
        return {"key": self.key, "start": self.start.isoformat(), "end": self.end.isoformat(),
                "label": str(dict(PERIOD_CHOICES).get(self.key, self.key))}


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def resolve_period(key: str | None = None, start: dt.date | None = None, end: dt.date | None = None,
                   today: dt.date | None = None) -> Period:
    """The period of the statistics. Default ``last_12``: the current month and the 11 before it, up to
    today; ``this_month``, ``last_month``, ``this_year``; ``custom``: ``start`` to ``end`` inclusive.
    Raises ``StatisticsRefused`` for an unknown key or a bad custom period."""
    today = today or timezone.localdate()
    key = key or "last_12"
    if key == "last_12":
        return Period(key, _add_months(month_start(today), -11), today)
    if key == "this_month":
        return Period(key, month_start(today), today)
    if key == "last_month":
        first = _add_months(month_start(today), -1)
        return Period(key, first, month_end(first))
    if key == "this_year":
        return Period(key, dt.date(today.year, 1, 1), today)
    if key != "custom":
        raise StatisticsRefused(_("未知的统计期间：%(key)s。") % {"key": key}, code="invalid_period")
    if start is None or end is None:
        raise StatisticsRefused(_("自定义期间须填写起始日期和截止日期。"), code="period_incomplete")
    if start > end:
        raise StatisticsRefused(_("起始日期不能晚于截止日期。"), code="period_reversed")
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise StatisticsRefused(_("统计期间不能超过 10 年。"), code="period_too_long")
    return Period(key, start, end)


# --- figures ---------------------------------------------------------------------------------------

def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def _in(field: str, period: Period) -> Q:
    return Q(**{f"{field}__gte": period.start, f"{field}__lte": period.end})


@dataclass(frozen=True)
class Deadline:
    """One legal limit: the date field holding its deadline, the field of the step that meets it, the
    cases it applies to, and its source."""

    key: str
    label: str
    limit: str
    due_field: str
    done_field: str
    applies: Q
    basis: str


# The deadlines are stored on the case by the handling services (``complaints.clocks``); a deadline left
# empty because the holiday calendar did not cover its year yet (``calendar_pending``) cannot be judged
# and is counted apart, never guessed.
DEADLINES = (
    Deadline("accept", gettext_lazy("受理或不予受理决定"), gettext_lazy("7 个工作日"), "accept_due_on",
             "decided_on", Q(kind=Case.Kind.COMPLAINT), gettext_lazy("《市场监督管理投诉举报处理暂行办法》第十四条")),
    # A mediation that neither reached agreement nor was ended within 45 working days of acceptance
    # (testing and appraisal time excluded) must be ended then; it applies to cases that went to mediation.
    Deadline("mediation", gettext_lazy("调解终结"), gettext_lazy("45 个工作日（检定检测鉴定时间不计入）"),
             "mediation_due_on", "mediation_ended_on",
             Q(mediation_ended_on__isnull=False) | Q(status=Case.Status.MEDIATING),
             gettext_lazy("第二十条、第二十一条")),
    Deadline("end_notice", gettext_lazy("终止调解告知"), gettext_lazy("7 个工作日"), "end_notice_due_on",
             "end_notified_on", Q(mediation_ended_on__isnull=False), gettext_lazy("第二十一条")),
    Deadline("verification", gettext_lazy("违法线索核查"), gettext_lazy("15 个工作日（可延长 15 个工作日）"),
             "verification_due_on", "verified_on", Q(), gettext_lazy("第二十三条")),
    Deadline("reporter_notice", gettext_lazy("告知实名举报人是否立案"), gettext_lazy("5 个工作日"),
             "reporter_notice_due_on", "reporter_notified_on", Q(submission__anonymous=False),
             gettext_lazy("第三十一条")),
)


def _decided_on():
    """Day of the acceptance decision: accepted or rejected, whichever happened."""
    return CaseWhen(When(accepted_on__isnull=False, then=F("accepted_on")), default=F("rejected_on"))


def _with_steps(cases):
    return cases.annotate(decided_on=_decided_on())


def _timeliness(cases, period: Period, as_of: dt.date) -> list[dict]:
    """Per deadline: steps taken in the period with a known deadline, how many on time, the share on
    time, steps whose deadline was not computable (calendar pending), and cases overdue at ``as_of``
    (deadline passed before ``as_of``, step not taken by then). One aggregate query."""
    aggregates = {}
    for d in DEADLINES:
        done_in = _in(d.done_field, period) & d.applies
        due_known = Q(**{f"{d.due_field}__isnull": False})
        aggregates[f"{d.key}_handled"] = Count("pk", filter=done_in & due_known)
        aggregates[f"{d.key}_within"] = Count("pk", filter=done_in & due_known
                                              & Q(**{f"{d.done_field}__lte": F(d.due_field)}))
        aggregates[f"{d.key}_pending"] = Count("pk", filter=done_in & Q(**{f"{d.due_field}__isnull": True}))
        aggregates[f"{d.key}_overdue"] = Count("pk", filter=d.applies & Q(**{f"{d.due_field}__lt": as_of})
                                               & (Q(**{f"{d.done_field}__isnull": True})
                                                  | Q(**{f"{d.done_field}__gt": as_of})))
    row = _with_steps(cases).aggregate(**aggregates)
    out = []
    for d in DEADLINES:
        handled, within = row[f"{d.key}_handled"], row[f"{d.key}_within"]
        share = _share(within, handled)
        out.append({"key": d.key, "label": str(d.label), "limit": str(d.limit), "basis": str(d.basis),
                    "handled": handled, "within": within, "late": handled - within, "share": share,
                    "percent": _percent(within, handled),
                    "calendar_pending": row[f"{d.key}_pending"], "overdue": row[f"{d.key}_overdue"]})
    return out


def _kind_counts() -> dict:
    return {"count": Count("pk"), "complaints": Count("pk", filter=Q(kind=Case.Kind.COMPLAINT)),
            "tip_offs": Count("pk", filter=Q(kind=Case.Kind.TIP_OFF))}


def _rows(queryset, field: str, labels: dict, total: int, *, all_keys: bool = False,
          unknown: str | None = None) -> list[dict]:
    """Counts grouped by ``field``, labelled; with ``all_keys`` every known key appears (zeros too)."""
    found = {row[field]: row for row in queryset.values(field).annotate(**_kind_counts()).order_by(field)}
    keys = list(labels) if all_keys else sorted(found, key=lambda k: (k is None, str(k)))
    if all_keys:
        keys += [k for k in found if k not in labels]
    out = []
    for key in keys:
        row = found.get(key, {"count": 0, "complaints": 0, "tip_offs": 0})
        label = labels.get(key) if key is not None else None
        out.append({"key": key, "label": str(label if label is not None else (unknown or key)),
                    "count": row["count"], "complaints": row["complaints"], "tip_offs": row["tip_offs"],
                    "share": _share(row["count"], total), "percent": _percent(row["count"], total)})
    return out


def _city_expression():
    """The handling unit's prefecture: a county's parent; a city (or the province) itself."""
    return CaseWhen(When(handling_unit__level=Region.Level.COUNTY, then=F("handling_unit__parent_id")),
                    default=F("handling_unit_id"))


def _region_labels(codes) -> dict:
    return {r.code: str(r) for r in Region.objects.filter(code__in=[c for c in codes if c])}


def _by_region(received, total: int) -> tuple[list[dict], list[dict]]:
    units = list(received.values("handling_unit_id").annotate(**_kind_counts()).order_by("handling_unit_id"))
    cities = list(received.annotate(city=_city_expression()).values("city").annotate(**_kind_counts())
                  .order_by("city"))
    names = _region_labels([r["handling_unit_id"] for r in units] + [r["city"] for r in cities])
    parents = dict(Region.objects.filter(code__in=[r["handling_unit_id"] for r in units])
                   .values_list("code", "parent_id"))

    def row(code, counts, **extra):
        return {"key": code, "code": code, "label": names.get(code, _("未知区划")), "count": counts["count"],
                "complaints": counts["complaints"], "tip_offs": counts["tip_offs"],
                "share": _share(counts["count"], total), "percent": _percent(counts["count"], total), **extra}

    by_unit = [row(r["handling_unit_id"], r, city=parents.get(r["handling_unit_id"]) or "") for r in units]
    by_city = [row(r["city"], r) for r in cities]
    return by_unit, by_city


def _satisfaction(cases, period: Period) -> dict:
    """Complaints closed in the period after handling (status ``closed``; a rejected complaint has a
    closing date too but cannot be rated): how many were rated (1–5), the mean and the distribution."""
    closed = cases.filter(_in("closed_on", period), kind=Case.Kind.COMPLAINT, status=Case.Status.CLOSED)
    row = closed.aggregate(closed=Count("pk"), rated=Count("pk", filter=Q(satisfaction__isnull=False)),
                           mean=Avg("satisfaction"),
                           **{f"n_{score}": Count("pk", filter=Q(satisfaction=score)) for score in range(1, 6)})
    rated = row["rated"]
    return {"closed": row["closed"], "rated": rated, "response_rate": _share(rated, row["closed"]),
            "response_percent": _percent(rated, row["closed"]),
            "mean": round(float(row["mean"]), 2) if row["mean"] is not None else None,
            "satisfied": row["n_4"] + row["n_5"], "satisfied_share": _share(row["n_4"] + row["n_5"], rated),
            "distribution": [{"score": score, "count": row[f"n_{score}"], "share": _share(row[f"n_{score}"], rated),
                              "percent": _percent(row[f"n_{score}"], rated)}
                             for score in range(1, 6)]}


def _months(period: Period) -> list[dt.date]:
    months, current = [], month_start(period.start)
    while current <= period.end:
        months.append(current)
        current = _add_months(current, 1)
    return months


def _month_key(value) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    return value.strftime("%Y-%m")


def _trend(received, closed, period: Period) -> list[dict]:
    """Cases received (by kind) and closed, month by month over the period (months without any: zeros)."""
    got = {_month_key(r["month"]): r for r in received.annotate(month=TruncMonth("received_on")).values("month")
           .annotate(**_kind_counts()).order_by("month")}
    done = {_month_key(r["month"]): r["n"] for r in closed.annotate(month=TruncMonth("closed_on")).values("month")
            .annotate(n=Count("pk")).order_by("month")}
    out = []
    for month in _months(period):
        key = month.strftime("%Y-%m")
        row = got.get(key, {})
        out.append({"month": key, "received": row.get("count", 0), "complaints": row.get("complaints", 0),
                    "tip_offs": row.get("tip_offs", 0), "closed": done.get(key, 0)})
    return out


def _outcomes(cases, period: Period) -> dict:
    """How cases ended in the period: rejection grounds, mediation outcomes, filing decisions."""
    def counted(field: str, date_field: str, choices) -> list[dict]:
        found = dict(cases.filter(_in(date_field, period)).exclude(**{field: ""}).values(field)
                     .annotate(n=Count("pk")).values_list(field, "n"))
        return [{"key": key, "label": str(label), "count": found.get(key, 0)} for key, label in choices]

    return {"rejection_grounds": counted("rejection_ground", "rejected_on", Case.RejectionGround.choices),
            "mediation": counted("mediation_outcome", "mediation_ended_on", Case.MediationOutcome.choices),
            "filing": counted("filing_decision", "filing_decided_on", Case.FilingDecision.choices)}


def _map(by_city: list[dict], user=None) -> list[dict]:
    """One item per prefecture of Jilin (the vendored map has prefecture outlines): cases received in
    the period; prefectures outside the user's scope carry no value and are drawn grey."""
    counts = {row["code"]: row for row in by_city}
    prefix = getattr(user, "region_prefix", None) if user is not None else None
    out = []
    for city in Region.objects.filter(level=Region.Level.CITY).order_by("code"):
        in_scope = prefix is None or city.code.startswith(prefix) or prefix.startswith(city.code[:4])
        item = {"name": city.name, "code": city.code, "label": str(city), "drill": in_scope}
        if in_scope:
            row = counts.get(city.code)
            item.update(value=row["count"] if row else 0, complaints=row["complaints"] if row else 0,
                        tip_offs=row["tip_offs"] if row else 0)
        out.append(item)
    return out


def _compute(cases, period: Period, as_of: dt.date) -> dict:
    """All figures over ``cases`` (already scoped and filtered) for ``period``; overdue at ``as_of``."""
    cases = cases.exclude(status=Case.Status.MERGED).order_by()
    received = cases.filter(_in("received_on", period))
    overall = received.aggregate(**_kind_counts())
    total = overall["count"]
    by_unit, by_city = _by_region(received, total)
    product_labels = {c.code: str(c) for c in ProductCategory.objects.filter(
        code__in=received.exclude(product_category__isnull=True).values("product_category_id"))}
    closed = cases.filter(_in("closed_on", period))
    return {
        "period": period.as_dict(),
        "as_of": as_of.isoformat(),
        "totals": {**overall, "closed": closed.count(),
                   "open": cases.exclude(status__in=(Case.Status.CLOSED, Case.Status.REJECTED))
                   .filter(received_on__lte=as_of).count()},
        "by_category": _rows(received, "category", dict(Category.choices), total, all_keys=True),
        "by_product_category": _rows(received, "product_category_id", product_labels, total,
                                     unknown=_("未编码产品类别")),
        "by_kind": _rows(received, "kind", dict(Case.Kind.choices), total, all_keys=True),
        "by_channel": _rows(received, "submission__channel", dict(Channel.choices), total, all_keys=True),
        "by_status": _rows(received, "status", {k: v for k, v in Case.Status.choices if k != Case.Status.MERGED},
                           total, all_keys=True),
        "by_unit": by_unit,
        "by_city": by_city,
        "outcomes": _outcomes(cases, period),
        "timeliness": _timeliness(cases, period, as_of),
        "satisfaction": _satisfaction(cases, period),
        "trend": _trend(received, closed, period),
    }


def figures(user, *, period: Period, kind: str | None = None, category: str | None = None,
            region: Region | None = None, today: dt.date | None = None) -> dict:
    """Every statistic for ``user``'s region (``Case.objects.restrict``), optionally narrowed to a
    ``kind``, a problem ``category`` and a ``region`` inside the scope; overdue counts as of ``today``."""
    check_access(user)
    today = today or timezone.localdate()
    cases = Case.objects.restrict(user, VIEW)
    if kind:
        cases = cases.filter(kind=kind)
    if category:
        cases = cases.filter(category=category)
    if region is not None:
        cases = cases.filter(region_q("handling_unit_id", region_prefix(region.code)))
    data = _compute(cases, period, today)
    scope_region = region or (user.region if user.region_prefix is not None else None)
    data["scope"] = {"region": scope_region.code if scope_region else None,
                     "region_name": scope_region.full_name if scope_region else _("吉林省"),
                     "kind": kind or "", "category": category or ""}
    data["map"] = _map(data["by_city"], user)
    return data


# --- exports ---------------------------------------------------------------------------------------

EXPORT_TABLES = {
    "category": gettext_lazy("按问题类别统计"),
    "product": gettext_lazy("按产品类别统计"),
    "unit": gettext_lazy("按承办单位统计"),
    "city": gettext_lazy("按市（州）统计"),
    "channel": gettext_lazy("按渠道统计"),
    "kind": gettext_lazy("按类型统计"),
    "status": gettext_lazy("按办理状态统计"),
    "timeliness": gettext_lazy("办理时限统计"),
    "satisfaction": gettext_lazy("投诉人满意度统计"),
    "trend": gettext_lazy("月度趋势"),
}
_COUNT_TABLES = {"category": ("by_category", gettext_lazy("问题类别")),
                 "product": ("by_product_category", gettext_lazy("产品类别")),
                 "unit": ("by_unit", gettext_lazy("承办单位")), "city": ("by_city", gettext_lazy("市（州）")),
                 "channel": ("by_channel", gettext_lazy("渠道")), "kind": ("by_kind", gettext_lazy("类型")),
                 "status": ("by_status", gettext_lazy("办理状态"))}


def _pct(share) -> str:
    return "" if share is None else f"{100 * share:.2f}%"


def export_table(data: dict, table: str) -> tuple[list[str], list[list]]:
    """Header (Chinese) and rows of one statistics table, from ``figures()``; ``KeyError`` if unknown."""
    if table not in EXPORT_TABLES:
        raise KeyError(table)
    if table in _COUNT_TABLES:
        key, first = _COUNT_TABLES[table]
        headers = [str(first), _("件数"), _("投诉"), _("举报"), _("占比")]
        body = [[r["label"], r["count"], r["complaints"], r["tip_offs"], _pct(r["share"])] for r in data[key]]
        totals = data["totals"]
        body.append([_("合计"), totals["count"], totals["complaints"], totals["tip_offs"],
                     _pct(1 if totals["count"] else None)])
        return headers, body
    if table == "timeliness":
        headers = [_("办理环节"), _("法定时限"), _("依据"), _("期间内办理"), _("按时办理"), _("超时办理"),
                   _("按时率"), _("期限待计算"), _("当前逾期未办")]
        body = [[r["label"], r["limit"], r["basis"], r["handled"], r["within"], r["late"], _pct(r["share"]),
                 r["calendar_pending"], r["overdue"]] for r in data["timeliness"]]
        return headers, body
    if table == "satisfaction":
        s = data["satisfaction"]
        headers = [_("满意度"), _("件数"), _("占比")]
        body = [[_("%(score)s 分") % {"score": d["score"]}, d["count"], _pct(d["share"])] for d in s["distribution"]]
        body += [[_("已评价"), s["rated"], _pct(s["response_rate"])], [_("期间内办结投诉"), s["closed"], ""],
                 [_("平均满意度"), "" if s["mean"] is None else s["mean"], ""]]
        return headers, body
    headers = [_("月份"), _("收到"), _("投诉"), _("举报"), _("办结")]
    return headers, [[r["month"], r["received"], r["complaints"], r["tip_offs"], r["closed"]] for r in data["trend"]]


# --- the public monthly summary --------------------------------------------------------------------

def _public_rows(rows: list[dict], code_field: str = "key") -> list[dict]:
    return [{"key": r.get(code_field), "label": r["label"], "count": r["count"], "complaints": r["complaints"],
             "tip_offs": r["tip_offs"], "percent": r["percent"]} for r in rows]


def _penalised_respondents(period: Period) -> list[dict]:
    """Respondents whose violation was verified and penalised in the month (a penalty decision is public):
    name and number of such cases. Respondents of unverified cases never appear."""
    rows = (Case.objects.order_by().exclude(status=Case.Status.MERGED)
            .filter(_in("penalty_decided_on", period), filing_decision=Case.FilingDecision.FILED)
            .exclude(penalty_decision_number="")
            .values("respondent_name").annotate(n=Count("pk")).order_by("-n", "respondent_name"))
    return [{"name": r["respondent_name"], "cases": r["n"]} for r in rows]


def month_figures(month: dt.date) -> dict:
    """The public figures of one month for the whole province (what ``publish_month`` freezes)."""
    first = month_start(month)
    period = Period("month", first, month_end(first))
    data = _compute(Case.objects.all(), period, period.end)
    return {
        "month": first.strftime("%Y-%m"),
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
        "totals": {k: data["totals"][k] for k in ("count", "complaints", "tip_offs", "closed")},
        "by_category": _public_rows(data["by_category"]),
        "by_product_category": _public_rows(data["by_product_category"]),
        "by_kind": _public_rows(data["by_kind"]),
        "by_channel": _public_rows(data["by_channel"]),
        "by_city": _public_rows(data["by_city"], "code"),
        "by_unit": _public_rows(data["by_unit"], "code"),
        "timeliness": [{k: r[k] for k in ("key", "label", "limit", "basis", "handled", "within", "share", "percent",
                                           "overdue")}
                       for r in data["timeliness"]],
        "satisfaction": {k: data["satisfaction"][k] for k in ("closed", "rated", "response_rate", "response_percent",
                                                               "mean", "distribution")},
        "outcomes": {"filing": data["outcomes"]["filing"], "mediation": data["outcomes"]["mediation"]},
        "penalised_respondents": _penalised_respondents(period),
        "map": _map(data["by_city"]),
    }


def localise_summary(data: dict) -> dict:
    """A published summary's ``data`` with its labels in the current language.

    ``publish_month`` freezes the figures with the labels of the language it ran in (Chinese); the keys
    (category, channel, kind, deadline, region code) are stored beside them, so the public page names
    them again in the reader's language. A key that is no longer known keeps its stored label; the
    figures themselves are never touched."""
    choices = {"by_category": dict(Category.choices), "by_channel": dict(Channel.choices),
               "by_kind": dict(Case.Kind.choices)}
    out = dict(data)
    for part, labels in choices.items():
        out[part] = [{**row, "label": str(labels.get(row.get("key"), row.get("label", "")))}
                     for row in data.get(part) or []]
    deadlines = {d.key: d for d in DEADLINES}
    out["timeliness"] = [
        {**row, "label": str(deadlines[row["key"]].label), "limit": str(deadlines[row["key"]].limit),
         "basis": str(deadlines[row["key"]].basis)} if row.get("key") in deadlines else row
        for row in data.get("timeliness") or []]
    codes = {row.get("key") for row in data.get("by_city") or []} | {row.get("key") for row in data.get("by_unit") or []}
    codes |= {item.get("code") for item in data.get("map") or []}
    regions = {r.code: str(r) for r in Region.objects.filter(code__in=[c for c in codes if c])}
    for part in ("by_city", "by_unit"):
        out[part] = [{**row, "label": regions.get(row.get("key"), row.get("label", ""))} for row in data.get(part) or []]
    out["map"] = [{**item, "label": regions.get(item.get("code"), item.get("label", ""))} for item in data.get("map") or []]
    return out


def parse_month(text: str) -> dt.date:
    """``YYYY-MM`` → the month's first day; ``StatisticsRefused`` (code ``invalid_month``) otherwise."""
    try:
        return dt.datetime.strptime((text or "").strip(), "%Y-%m").date()
    except ValueError:
        raise StatisticsRefused(_("月份格式应为 YYYY-MM，例如 2026-05。"), code="invalid_month") from None


def publish_month(user, month: dt.date, *, today: dt.date | None = None) -> MonthlySummary:
    """Freeze and publish the summary of ``month`` (any day of it). Province-level officers only
    (``PermissionDenied``); refused (``StatisticsRefused``) for a month not yet ended (code
    ``month_not_ended``) or already published (``already_published``). Written to the audit log."""
    if not can_publish(user):
        raise PermissionDenied(_("月度统计由省级市场监管部门发布。"))
    today = today or timezone.localdate()
    first = month_start(month)
    label = first.strftime("%Y-%m")
    if month_end(first) >= today:
        raise StatisticsRefused(_("%(month)s 尚未结束，不能发布该月统计。") % {"month": label}, code="month_not_ended")
    if MonthlySummary.objects.filter(month=first).exists():
        raise StatisticsRefused(_("%(month)s 的月度统计已经发布，不能重复发布。") % {"month": label},
                                code="already_published")
    data = month_figures(first)
    try:
        with transaction.atomic():
            summary = MonthlySummary.objects.create(month=first, data=data, published_at=timezone.now(),
                                                    published_by=user)
            with audit.acting_as(user):
                audit.record(AuditLog.Action.CREATE, summary, after={"month": label, "total": data["totals"]["count"]},
                             message="monthly complaint summary published")
    except IntegrityError:  # published by someone else in the meantime
        raise StatisticsRefused(_("%(month)s 的月度统计已经发布，不能重复发布。") % {"month": label},
                                code="already_published") from None
    return summary


def published_summaries():
    """Published monthly summaries, newest first (the public list)."""
    return MonthlySummary.objects.order_by("-month")


def unpublished_months(today: dt.date | None = None, count: int = 12) -> list[dt.date]:
    """Ended months of the last ``count`` not yet published, newest first (offered on the publish form)."""
    today = today or timezone.localdate()
    months = [_add_months(month_start(today), -i) for i in range(1, count + 1)]
    done = set(MonthlySummary.objects.filter(month__in=months).values_list("month", flat=True))
    return [m for m in months if m not in done]
