"""Quality-credit scoring (issue 4, items 2 and 3): an explainable score, public grade and internal
risk class per market entity, computed from the credit ledger with a versioned model.

The score of an entity on a date ``as_of`` under a ``ScoreModel``::

    score = base_score + Σ points[kind] × 0.5 ** (age_days / half_life[kind])

over its records in state *active* or *expired* that occurred on or before ``as_of``
(``age_days = as_of − occurred_on``), rounded half away from zero to the cent. The public grade is
the first of ``grade_thresholds`` whose minimum the rounded score reaches, else D; the internal risk
class likewise from ``risk_thresholds`` — recomputed for every entity by the full (monthly) scoring
only; an incremental rescoring keeps an entity's class unless it is newly listed. An entity with an *active* serious-violation listing
(严重违法失信名单) is graded D and risk class D whatever its score.

Full rescoring is one ``INSERT … SELECT`` per database (the aggregate over the ledger joined to
every entity), after a ``DELETE`` of the previous scores that moves them into ``ScoreHistory``
(so every replaced score keeps its model version), inside one transaction: a failure rolls all
back and leaves the previous scores in place. Every run is logged as a ``ScoringRun``.
``explain`` recomputes the same number in Python from the same parameters, record by record.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from itertools import batched
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from qualitygov.credit.models import (
    ChangeEvent,
    CreditRecord,
    EntityScore,
    Grade,
    GradeChange,
    Kind,
    RiskClass,
    ScoreHistory,
    ScoreModel,
    ScoringRun,
)
from qualitygov.inspection.draw import risk_class_table
from qualitygov.registry.models import MarketEntity

__all__ = ["COUNTED_STATES", "DEFAULT_MODEL_PATH", "ModelRefused", "ScoringRefused", "activate_model",
           "active_model", "current_risk_classes", "explain", "full_rescore", "load_default_model", "monthly_rescore", "monthly_run",
           "rescore_entities", "update_model", "validate_parameters"]

DEFAULT_MODEL_PATH = Path(__file__).parent / "data" / "score_model_v1.json"
# Revoked records were overturned at their source (a re-inspection, an annulled penalty: SAMR Order 45
# Art. 11), so the fact they stated is no longer established and must not weigh on the entity.
# Repaired records went through credit repair (信用修复, Order 45 Art. 13-14), whose legal effect is
# that the entity is no longer treated as dishonest for that fact. Expired records only left the
# publication window: the fact still stands and still counts, fading with its half-life.
COUNTED_STATES = (CreditRecord.State.ACTIVE.value, CreditRecord.State.EXPIRED.value)
OVERRIDE_KIND = Kind.SERIOUS_VIOLATION_LISTING.value
PARAMETER_FIELDS = ("version", "base_score", "points", "half_life_days", "grade_thresholds", "risk_thresholds")
CENT = Decimal("0.01")
# Entity ids per statement of an incremental rescoring (well under SQLite's bound-parameter limit).
ID_BATCH = 500


class ModelRefused(ValidationError):
    """A change to a scoring model that the rules refuse (a used model's parameters, bad parameters)."""


class ScoringRefused(ValidationError):
    """A rescoring that cannot be run as asked (no active model, unknown entity)."""


# --- models ---------------------------------------------------------------------------------------

def _number(value, message: str) -> Decimal:
    if isinstance(value, bool):
        raise ModelRefused(message)
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise ModelRefused(message) from None
    if not number.is_finite():
        raise ModelRefused(message)
    return number


def _thresholds(value, names: list[str], field: str) -> list[tuple[str, Decimal]]:
    label = {"grade_thresholds": _("公示等级分数线"), "risk_thresholds": _("风险分类分数线")}[field]
    if not isinstance(value, list):
        raise ModelRefused({field: _("%(label)s必须是 [等级, 最低分] 的列表。") % {"label": label}})
    result = []
    for item in value:
        if not (isinstance(item, list | tuple) and len(item) == 2 and item[0] in names):
            raise ModelRefused({field: _("%(label)s中的 %(item)s 无效：等级必须是 %(names)s 之一。")
                                % {"label": label, "item": json.dumps(item, ensure_ascii=False),
                                   "names": "、".join(names)}})
        result.append((item[0], _number(item[1], _("%(label)s必须是数字。") % {"label": label})))
    if len({name for name, _minimum in result}) != len(result):
        raise ModelRefused({field: _("%(label)s中同一等级出现多次。") % {"label": label}})
    minimums = [minimum for _name, minimum in result]
    if minimums != sorted(minimums, reverse=True):
        raise ModelRefused({field: _("%(label)s必须从高到低排列。") % {"label": label}})
    return result


def validate_parameters(*, base_score, points, half_life_days, grade_thresholds, risk_thresholds, **_other) -> None:
    """Refuse parameters the scoring cannot use, with a Chinese message per field: points per known
    kind, a positive half-life for every kind that has points (its own or ``"*"``), thresholds
    as ``[name, minimum]`` from high to low."""
    _number(base_score, _("基础分必须是数字。"))
    if not isinstance(points, dict) or not points:
        raise ModelRefused({"points": _("各类记录分值必须是“信用事项 → 分值”的对象。")})
    for kind, value in points.items():
        if kind not in Kind.values:
            raise ModelRefused({"points": _("未知的信用事项类型：%(kind)s。") % {"kind": kind}})
        _number(value, _("信用事项 %(kind)s 的分值必须是数字。") % {"kind": kind})
    if not isinstance(half_life_days, dict):
        raise ModelRefused({"half_life_days": _("分值半衰期必须是“信用事项或 * → 天数”的对象。")})
    for kind, value in half_life_days.items():
        if kind != "*" and kind not in Kind.values:
            raise ModelRefused({"half_life_days": _("未知的信用事项类型：%(kind)s。") % {"kind": kind}})
        if _number(value, _("半衰期必须是数字。")) <= 0:
            raise ModelRefused({"half_life_days": _("信用事项 %(kind)s 的半衰期必须大于 0 天。") % {"kind": kind}})
    missing = sorted(kind for kind in points if kind not in half_life_days and "*" not in half_life_days)
    if missing:
        raise ModelRefused({"half_life_days": _("以下信用事项没有半衰期（也没有 * 默认值）：%(kinds)s。")
                            % {"kinds": "、".join(missing)}})
    _thresholds(grade_thresholds, Grade.values[:-1], "grade_thresholds")
    _thresholds(risk_thresholds, RiskClass.values[:-1], "risk_thresholds")


def load_default_model() -> ScoreModel | None:
    """Create the documented default model (``data/score_model_v1.json``) as the active model if no
    scoring model exists yet; returns it, or None when models already exist (idempotent)."""
    with transaction.atomic():
        if ScoreModel.objects.exists():
            return None
        data = json.loads(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))
        validate_parameters(**data)
        description = f"{data['description']}\n{_('来源')}：{data['source']}"
        return ScoreModel.objects.create(
            version=data["version"], description=description, base_score=Decimal(str(data["base_score"])),
            points=data["points"], half_life_days=data["half_life_days"],
            grade_thresholds=data["grade_thresholds"], risk_thresholds=data["risk_thresholds"],
            status=ScoreModel.Status.ACTIVE)


def active_model() -> ScoreModel:
    """The active scoring model; ``ScoringRefused`` when there is none."""
    model = ScoreModel.objects.filter(status=ScoreModel.Status.ACTIVE).first()
    if model is None:
        raise ScoringRefused(_("没有现行的信用评分模型，请先启用一个评分模型。"), code="no_active_model")
    return model


def update_model(model: ScoreModel, **changes) -> ScoreModel:
    """Change a scoring model's fields. A model that has produced scores (``used``) keeps its version
    and parameters for ever, so every stored score can be explained from them: changing them is
    refused — create a new version instead. The description may always change."""
    allowed = {*PARAMETER_FIELDS, "description"}
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ModelRefused(_("不能通过此操作修改评分模型的字段：%(fields)s。") % {"fields": "、".join(unknown)})
    with transaction.atomic():
        model = ScoreModel.objects.select_for_update().get(pk=model.pk)
        changed = [name for name, value in changes.items() if getattr(model, name) != value]
        parameters = [name for name in changed if name in PARAMETER_FIELDS]
        if model.used and parameters:
            raise ModelRefused(_("评分模型 %(version)s 已用于评分，其版本号和参数不能再修改；请新建一个模型版本。")
                               % {"version": model.version}, code="model_used")
        for name in changed:
            setattr(model, name, changes[name])
        validate_parameters(**{name: getattr(model, name) for name in PARAMETER_FIELDS})
        if changed:
            model.save(update_fields=[*changed, "updated"])
    return model


def activate_model(model: ScoreModel) -> ScoreModel:
    """Make ``model`` the active model, retiring the one active before (one active at a time)."""
    with transaction.atomic():
        model = ScoreModel.objects.select_for_update().get(pk=model.pk)
        validate_parameters(**{name: getattr(model, name) for name in PARAMETER_FIELDS})
        if model.status == ScoreModel.Status.ACTIVE:
            return model
        for previous in ScoreModel.objects.select_for_update().filter(status=ScoreModel.Status.ACTIVE):
            previous.status = ScoreModel.Status.RETIRED
            previous.save(update_fields=["status", "updated"])
        model.status = ScoreModel.Status.ACTIVE
        model.save(update_fields=["status", "updated"])
    return model


# --- the statement --------------------------------------------------------------------------------

def _half_life(model: ScoreModel, kind: str) -> float:
    table = model.half_life_days
    return float(table[kind] if kind in table else table["*"])


def _score_sql(model: ScoreModel, *, as_of, run_id: int, computed_at, ids: list[int] | None,
               vendor: str) -> tuple[str, list]:
    """The ``INSERT … SELECT`` that scores every entity (or those in ``ids``); ``as_of`` and
    ``computed_at`` come already adapted for the database. Every value from the model is a bound
    parameter; only table and column names and the constant grade D are part of the text.

    PostgreSQL rounds the double-precision total through ``numeric`` (15 significant digits) and
    SQLite rounds the double itself; both round half away from zero, as ``explain`` does, so the
    cents agree unless a total lies within about 1e-13 of a half cent."""
    kinds = sorted(model.points)
    params: list = []
    points_case = "CASE r.kind " + " ".join("WHEN %s THEN CAST(%s AS double precision)" for _k in kinds) + " END"
    points_params = [value for kind in kinds for value in (kind, float(model.points[kind]))]
    life_case = "CASE r.kind " + " ".join("WHEN %s THEN CAST(%s AS double precision)" for _k in kinds) + " END"
    life_params = [value for kind in kinds for value in (kind, _half_life(model, kind))]
    if vendor == "postgresql":
        age = "CAST(CAST(%s AS date) - r.occurred_on AS double precision)"
    else:
        age = "(julianday(%s) - julianday(r.occurred_on))"
    contribution = f"{points_case} * POWER(CAST(0.5 AS double precision), {age} / {life_case})"
    total = f"CAST(%s AS double precision) + COALESCE(SUM({contribution}), 0)"
    rounded = f"ROUND(CAST({total} AS numeric), 2)" if vendor == "postgresql" else f"ROUND({total}, 2)"
    params += [float(model.base_score), *points_params, as_of, *life_params]
    kind_marks = ", ".join(["%s"] * len(kinds))
    inner = (
        f"SELECT e.id AS entity_id, {rounded} AS score, COUNT(r.id) AS n, "
        "MAX(CASE WHEN r.kind = %s AND r.state = %s THEN 1 ELSE 0 END) AS listed "
        f"FROM {MarketEntity._meta.db_table} e LEFT JOIN {CreditRecord._meta.db_table} r "
        f"ON r.entity_id = e.id AND r.state IN (%s, %s) AND r.occurred_on <= %s AND r.kind IN ({kind_marks})")
    params += [OVERRIDE_KIND, CreditRecord.State.ACTIVE.value, *COUNTED_STATES, as_of, *kinds]
    if ids is not None:
        inner += f" WHERE e.id IN ({', '.join(['%s'] * len(ids))})"
        params += list(ids)
    inner += " GROUP BY e.id"

    def classify(thresholds: list) -> tuple[str, list]:
        whens = " ".join("WHEN s.score >= CAST(%s AS numeric) THEN %s" for _t in thresholds)
        values = [value for name, minimum in thresholds for value in (str(Decimal(str(minimum))), name)]
        return f"CASE WHEN s.listed = 1 THEN 'D' {whens} ELSE 'D' END", values

    def typed(sql_type: str) -> str:
        # Named and typed, so the select can also fill a table of its own (CREATE TABLE … AS) on
        # PostgreSQL; SQLite's CAST to a date would turn it into a number, so it gets the bare value.
        return f"CAST(%s AS {sql_type})" if vendor == "postgresql" else "%s"

    grade_case, grade_params = classify(model.grade_thresholds)
    risk_case, risk_params = classify(model.risk_thresholds)
    if ids is not None:
        # Risk classes are recomputed by the monthly full scoring (SAMR classifies monthly, RULES.md);
        # between two, an entity rescored because of a new record keeps its class, except that a
        # serious-violation listing makes it D at once. An entity never classified gets its class now.
        risk_case = (f"COALESCE((SELECT h.risk_class FROM {ScoreHistory._meta.db_table} h "
                     f"WHERE h.superseded_by_id = %s AND h.entity_id = s.entity_id AND s.listed = 0), {risk_case})")
        risk_params = [run_id, *risk_params]
    sql = (f"INSERT INTO {EntityScore._meta.db_table} "
           "(entity_id, model_id, run_id, as_of, score, grade, risk_class, record_count, computed_at) "
           f"SELECT s.entity_id AS entity_id, {typed('bigint')} AS model_id, {typed('bigint')} AS run_id, "
           f"{typed('date')} AS as_of, s.score AS score, {grade_case} AS grade, {risk_case} AS risk_class, "
           f"s.n AS record_count, {typed('timestamp with time zone')} AS computed_at FROM ({inner}) s")
    outer = [model.pk, run_id, as_of, *grade_params, *risk_params, computed_at]
    return sql, outer + params


NEW_SCORES = "credit_new_scores"


_SCORE_COLUMNS = "entity_id, model_id, run_id, as_of, score, grade, risk_class, record_count, computed_at"


def _keep_previous(cursor, vendor: str, ids: list[int] | None, run_id: int) -> None:
    """Delete the scores about to be replaced, moving them whole into ``ScoreHistory`` (superseded by
    ``run_id``), where the grade movements and the kept risk classes are read from. On PostgreSQL one
    statement does both (the DELETE's rows feed the insert); SQLite copies, then deletes."""
    scores, history = EntityScore._meta.db_table, ScoreHistory._meta.db_table
    where, params = "", []
    if ids is not None:
        where = f" WHERE entity_id IN ({', '.join(['%s'] * len(ids))})"
        params = list(ids)
    keep_history = (f"INSERT INTO {history} ({_SCORE_COLUMNS}, superseded_by_id) "
                    f"SELECT {_SCORE_COLUMNS}, %s FROM ")
    if vendor == "postgresql":
        cursor.execute(f"WITH gone AS (DELETE FROM {scores}{where} RETURNING {_SCORE_COLUMNS}) "
                       f"{keep_history}gone", [*params, run_id])
    else:
        cursor.execute(f"{keep_history}{scores}{where}", [run_id, *params])
        cursor.execute(f"DELETE FROM {scores}{where}", params)


def _grade_movements(cursor, vendor: str, *, run_id: int, as_of: dt.date, changed_at) -> None:
    """One ``GradeChange`` per entity whose new grade differs from the one it had (its score superseded
    by this run in ``ScoreHistory``), and
    one public ``grade_changed`` event each (uscc, name, from, to, as_of — never the risk class):
    two INSERT … SELECT statements, whatever the number of entities. An entity scored for the first
    time has no previous grade and so no movement."""
    changes, scores, events, entities = (GradeChange._meta.db_table, EntityScore._meta.db_table,
                                         ChangeEvent._meta.db_table, MarketEntity._meta.db_table)
    cursor.execute(
        f"INSERT INTO {changes} (entity_id, run_id, from_grade, to_grade, changed_at) "
        f"SELECT p.entity_id, %s, p.grade, s.grade, %s FROM {ScoreHistory._meta.db_table} p "
        f"JOIN {scores} s ON s.entity_id = p.entity_id WHERE p.superseded_by_id = %s AND s.grade <> p.grade "
        "ORDER BY p.entity_id", [run_id, changed_at, run_id])
    if cursor.rowcount != 0:
        if vendor == "postgresql":
            payload = ("json_build_object('uscc', e.uscc, 'name', e.name, 'from_grade', g.from_grade, "
                       "'to_grade', g.to_grade, 'as_of', CAST(%s AS text))::jsonb")
        else:
            payload = ("json_object('uscc', e.uscc, 'name', e.name, 'from_grade', g.from_grade, "
                       "'to_grade', g.to_grade, 'as_of', %s)")
        cursor.execute(
            f"INSERT INTO {events} (occurred_at, entity_id, kind, object_type, object_id, payload) "
            f"SELECT %s, g.entity_id, %s, 'gradechange', CAST(g.id AS varchar(64)), {payload} "
            f"FROM {changes} g JOIN {entities} e ON e.id = g.entity_id WHERE g.run_id = %s ORDER BY g.id",
            [changed_at, ChangeEvent.Kind.GRADE_CHANGED.value, as_of.isoformat(), run_id])


def _rescore(kind: str, *, ids: list[int] | None, as_of: dt.date | None, user) -> ScoringRun:
    as_of = as_of or timezone.localdate()
    model = active_model()
    # The run row is written first, outside the scoring transaction, so that it survives a failure
    # (when the caller holds no transaction of its own) and records what went wrong.
    run = ScoringRun.objects.create(model=model, kind=kind, as_of=as_of, triggered_by=user)
    started = time.perf_counter()
    try:
        with transaction.atomic():
            # Lock the model: nobody changes its parameters (update_model) while it scores.
            model = ScoreModel.objects.select_for_update().get(pk=model.pk)
            if model.status != ScoreModel.Status.ACTIVE:
                raise ScoringRefused(_("评分模型 %(version)s 已不是现行模型。") % {"version": model.version})
            computed_at = connection.ops.adapt_datetimefield_value(timezone.now())
            vendor = connection.vendor
            day = connection.ops.adapt_datefield_value(as_of)
            with connection.cursor() as cursor:
                if vendor == "postgresql" and ids is None:
                    # The aggregate over the whole ledger hashes every entity: with the default 4 MB it
                    # spills to disk (bench/bench_rescore.py). For this transaction only.
                    cursor.execute("SET LOCAL work_mem = '128MB'")
                if ids is None and vendor == "postgresql":
                    # PostgreSQL plans no parallel workers for INSERT … SELECT but does for CREATE TABLE
                    # … AS: the scores are computed in parallel into a temporary table, then moved.
                    sql, params = _score_sql(model, as_of=day, run_id=run.pk, computed_at=computed_at, ids=None,
                                             vendor=vendor)
                    insert, select = sql.split(" SELECT ", 1)
                    cursor.execute(f"DROP TABLE IF EXISTS {NEW_SCORES}")
                    cursor.execute(f"CREATE TEMPORARY TABLE {NEW_SCORES} AS SELECT {select}", params)
                    _keep_previous(cursor, vendor, None, run.pk)
                    cursor.execute(f"{insert} SELECT {_SCORE_COLUMNS} FROM {NEW_SCORES}")
                    cursor.execute(f"DROP TABLE {NEW_SCORES}")
                elif ids is None:
                    _keep_previous(cursor, vendor, None, run.pk)
                    sql, params = _score_sql(model, as_of=day, run_id=run.pk, computed_at=computed_at, ids=None,
                                             vendor=vendor)
                    cursor.execute(sql, params)
                else:
                    for batch in batched(ids, ID_BATCH):
                        _keep_previous(cursor, vendor, list(batch), run.pk)
                        sql, params = _score_sql(model, as_of=day, run_id=run.pk, computed_at=computed_at,
                                                 ids=list(batch), vendor=vendor)
                        cursor.execute(sql, params)
                _grade_movements(cursor, vendor, run_id=run.pk, as_of=as_of, changed_at=computed_at)
            ScoreModel.objects.filter(pk=model.pk, used=False).update(used=True)
            summary = _summary(run)
    except Exception as exc:
        ScoringRun.objects.filter(pk=run.pk).update(
            status=ScoringRun.Status.FAILED, error=f"{type(exc).__name__}: {exc}", finished_at=timezone.now(),
            duration_ms=round((time.perf_counter() - started) * 1000))
        raise
    ScoringRun.objects.filter(pk=run.pk).update(
        status=ScoringRun.Status.SUCCEEDED, finished_at=timezone.now(),
        duration_ms=round((time.perf_counter() - started) * 1000), **summary)
    run.refresh_from_db()
    return run


def _summary(run: ScoringRun) -> dict:
    """Counts and distributions of the run's scores, from GROUP BY in the database."""
    scores = EntityScore.objects.filter(run=run).order_by()
    grades = dict(scores.values_list("grade").annotate(n=Count("id")).values_list("grade", "n"))
    risks = dict(scores.values_list("risk_class").annotate(n=Count("id")).values_list("risk_class", "n"))
    records = scores.aggregate(n=Sum("record_count"))["n"] or 0
    return {"entity_count": sum(grades.values()), "record_count": records,
            "grade_distribution": {grade: grades.get(grade, 0) for grade in Grade.values},
            "risk_distribution": {risk: risks.get(risk, 0) for risk in RiskClass.values}}


def full_rescore(*, as_of: dt.date | None = None, user=None) -> ScoringRun:
    """Score every market entity with the active model as of ``as_of`` (default today).

    Set-based and atomic: one ``DELETE`` and one ``INSERT … SELECT`` in one transaction — a failure
    leaves the previous scores untouched and marks the run failed with its error (written outside
    the scoring transaction). Entities without counted records get the base score. Counts, grade and
    risk distributions (GROUP BY over the new rows) and the duration are stored in the returned run.
    Only records in state active or expired count (``COUNTED_STATES`` says why), and none that
    occurred after ``as_of``. Marks the model used, which freezes its parameters.
    """
    return _rescore(ScoringRun.Kind.FULL, ids=None, as_of=as_of, user=user)


def rescore_entities(entity_ids, *, as_of: dt.date | None = None, user=None) -> ScoringRun:
    """Rescore only the given entities (ids or ``MarketEntity`` objects), for example when records
    arrive; the same statement as ``full_rescore`` restricted to them, in one transaction."""
    ids = sorted({getattr(entity, "pk", entity) for entity in entity_ids})
    if not ids:
        raise ScoringRefused(_("没有指定需要评分的市场主体。"), code="no_entities")
    known = set()
    for batch in batched(ids, ID_BATCH):
        known.update(MarketEntity.objects.filter(pk__in=batch).values_list("pk", flat=True))
    unknown = [pk for pk in ids if pk not in known]
    if unknown:
        raise ScoringRefused(_("市场主体不存在：%(ids)s。") % {"ids": "、".join(map(str, unknown[:20]))},
                             code="unknown_entity")
    return _rescore(ScoringRun.Kind.INCREMENTAL, ids=ids, as_of=as_of, user=user)


# --- explanation ----------------------------------------------------------------------------------

def _classify(score: Decimal, thresholds: list, listed: bool) -> str:
    if listed:
        return "D"
    for name, minimum in thresholds:
        if score >= Decimal(str(minimum)):
            return name
    return "D"


def explain(entity, *, as_of: dt.date | None = None, model: ScoreModel | None = None) -> dict:
    """Why an entity has its score: the model version, ``as_of``, base score, every counted record
    with its points, half-life, age and contribution, the total, grade and risk class.

    Computed in Python from the same parameters as the database statement. By default it explains
    the stored score (its model and ``as_of``); without a stored score, the active model as of
    today. ``stored`` gives the stored score and ``matches_stored`` whether the recomputation agrees
    (it differs only when records changed since the last rescoring). ``risk_class`` is the class the
    score would give today; the stored class is the one of the last monthly run (``stored``).
    """
    entity_id = getattr(entity, "pk", entity)
    stored = EntityScore.objects.filter(entity_id=entity_id).select_related("model", "run").first()
    if model is None:
        model = stored.model if stored is not None else active_model()
    if as_of is None:
        as_of = stored.as_of if stored is not None else timezone.localdate()
    records = CreditRecord.objects.filter(entity_id=entity_id, state__in=COUNTED_STATES, occurred_on__lte=as_of,
                                          kind__in=list(model.points)).order_by("occurred_on", "id")
    lines = []
    total = 0.0
    listed = False
    for record in records.values("id", "kind", "occurred_on", "state"):
        points = float(model.points[record["kind"]])
        half_life = _half_life(model, record["kind"])
        age = (as_of - record["occurred_on"]).days
        contribution = points * math.pow(0.5, age / half_life)
        total += contribution
        listed = listed or (record["kind"] == OVERRIDE_KIND and record["state"] == CreditRecord.State.ACTIVE)
        lines.append({"record": record["id"], "kind": record["kind"], "kind_label": str(Kind(record["kind"]).label),
                      "state": record["state"], "occurred_on": record["occurred_on"].isoformat(),
                      "points": points, "half_life_days": half_life, "age_days": age,
                      "contribution": round(contribution, 4)})
    score = Decimal(repr(float(model.base_score) + total)).quantize(CENT, rounding=ROUND_HALF_UP)
    grade = _classify(score, model.grade_thresholds, listed)
    risk = _classify(score, model.risk_thresholds, listed)
    result = {"entity": entity_id, "model_version": model.version, "as_of": as_of.isoformat(),
              "base_score": str(model.base_score), "records": lines, "score": str(score), "grade": grade,
              "risk_class": risk, "serious_violation_override": listed, "stored": None, "matches_stored": None}
    if stored is not None:
        result["stored"] = {"score": str(stored.score), "grade": stored.grade, "risk_class": stored.risk_class,
                            "model_version": stored.model.version, "as_of": stored.as_of.isoformat(),
                            "run": stored.run_id, "computed_at": stored.computed_at.isoformat()}
        # The risk class is left out: between two monthly runs an incremental rescoring keeps the
        # entity's class (see ``_score_sql``), so it may differ from today's figure by design.
        result["matches_stored"] = (stored.model_id == model.pk and stored.as_of == as_of and stored.score == score
                                    and stored.grade == grade)
    return result


# --- the draw -------------------------------------------------------------------------------------

@risk_class_table(entity_field="entity", class_field="risk_class")
def current_risk_classes():
    """Every entity's current internal risk class, for the spot-check draw (``inspection.draw``
    joins it in SQL); entities without a score are class B there. Never shown to the public or the
    entity."""
    return EntityScore.objects.all()



# --- the monthly classification -------------------------------------------------------------------

def monthly_run(as_of: dt.date) -> ScoringRun | None:
    """The succeeded full run whose ``as_of`` lies in the month of ``as_of``, if any (latest first)."""
    return (ScoringRun.objects.filter(kind=ScoringRun.Kind.FULL, status=ScoringRun.Status.SUCCEEDED,
                                      as_of__year=as_of.year, as_of__month=as_of.month)
            .select_related("model").order_by("-as_of", "-id").first())


def monthly_rescore(*, as_of: dt.date | None = None, force: bool = False, user=None) -> tuple[ScoringRun, bool]:
    """The monthly full scoring, which also recomputes every entity's risk class (SAMR classifies
    monthly; ../shared/policy/RULES.md). Idempotent per month: when a succeeded full run with
    ``as_of`` in the same month exists it is returned unchanged with ``False``, unless ``force``.
    Returns ``(run, ran)``."""
    as_of = as_of or timezone.localdate()
    if not force:
        existing = monthly_run(as_of)
        if existing is not None:
            return existing, False
    return full_rescore(as_of=as_of, user=user), True


# --- versions, readers ----------------------------------------------------------------------------

def new_version(source: ScoreModel | None, *, version: str, description: str = "", **parameters) -> ScoreModel:
    """A new draft model: ``source``'s parameters (when given) with ``parameters`` applied over them,
    validated. The version must be new; the draft scores nothing until ``activate_model``."""
    version = (version or "").strip()
    if not version:
        raise ModelRefused({"version": _("请填写模型版本号。")}, code="invalid")
    unknown = sorted(set(parameters) - set(PARAMETER_FIELDS))
    if unknown:
        raise ModelRefused(_("不能通过此操作设置评分模型的字段：%(fields)s。") % {"fields": "、".join(unknown)})
    values = {name: getattr(source, name) for name in PARAMETER_FIELDS if name != "version"} if source else {}
    values |= {name: value for name, value in parameters.items() if value is not None}
    missing = [name for name in PARAMETER_FIELDS if name != "version" and name not in values]
    if missing:
        raise ModelRefused(_("缺少评分模型参数：%(fields)s。") % {"fields": "、".join(missing)}, code="invalid")
    validate_parameters(**values)
    with transaction.atomic():
        if ScoreModel.objects.filter(version=version).exists():
            raise ModelRefused({"version": _("模型版本 %(version)s 已存在，请换一个版本号。") % {"version": version}},
                               code="duplicate_version")
        values["base_score"] = Decimal(str(values["base_score"]))
        return ScoreModel.objects.create(version=version, description=description or "",
                                         status=ScoreModel.Status.DRAFT, **values)


# Roles that may see the internal risk class (and the models and runs): the regulators' officers.
# Inspectors, laboratories, enterprises, data consumers and the public never see it.
RISK_ROLES = frozenset({"province_admin", "province_officer", "city_officer", "county_officer"})


def sees_risk_class(user) -> bool:
    """Whether ``user`` may see internal risk classes (officer roles only)."""
    return bool(user and user.is_authenticated and (user.is_superuser or user.role in RISK_ROLES))


def may_manage_models(user) -> bool:
    """Whether ``user`` may create model versions, activate them and start a full rescoring."""
    return bool(user and user.is_authenticated and (user.is_superuser or user.role == "province_admin"))


def scores_for(user, queryset=None):
    """The stored scores ``user`` may read: scoped like the credit file (``CreditRecord``'s role
    table and its entity-region scope; an enterprise user its own entity only)."""
    from qualitygov.core.models import region_q
    from qualitygov.core.roles import VIEW, Role, actions_for

    queryset = EntityScore.objects.all() if queryset is None else queryset
    if user is None or not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.is_superuser:
        return queryset
    if VIEW not in actions_for(user.role, CreditRecord):
        return queryset.none()
    if user.role == Role.ENTERPRISE:
        return queryset.filter(entity_id=user.entity_id) if user.entity_id else queryset.none()
    prefix = user.region_prefix
    return queryset if prefix is None else queryset.filter(region_q("entity__region__code", prefix))


def entities_for(user):
    """The market entities whose credit file ``user`` may open (same scope as ``scores_for``)."""
    from qualitygov.core.models import region_q
    from qualitygov.core.roles import VIEW, Role, actions_for

    entities = MarketEntity.objects.all()
    if user is None or not user.is_authenticated or not user.is_active:
        return entities.none()
    if user.is_superuser:
        return entities
    if VIEW not in actions_for(user.role, CreditRecord):
        return entities.none()
    if user.role == Role.ENTERPRISE:
        return entities.filter(pk=user.entity_id) if user.entity_id else entities.none()
    prefix = user.region_prefix
    return entities if prefix is None else entities.filter(region_q("region__code", prefix))


def public_explanation(explanation: dict) -> dict:
    """An explanation without the internal risk class (for enterprises and data consumers)."""
    result = {key: value for key, value in explanation.items() if key != "risk_class"}
    if result.get("stored"):
        result["stored"] = {key: value for key, value in result["stored"].items() if key != "risk_class"}
    return result
