"""Quality-credit scoring (issue 4, items 2-3): the score with its decay, grades and risk classes,
full and incremental rescoring, atomicity, explanations, model immutability and the draw wiring."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import DatabaseError

from qualitygov.conftest import make_uscc
from qualitygov.credit import scoring
from qualitygov.credit.models import CreditRecord, EntityScore, Kind, ScoreModel, ScoringRun, polarity_of
from qualitygov.credit.services import SourceRef, record_fact
from qualitygov.inspection import draw, planning
from qualitygov.inspection.tests import fixtures
from qualitygov.registry.models import MarketEntity

pytestmark = [pytest.mark.django_db]

AS_OF = dt.date(2025, 1, 1)
_sources = itertools.count(1)


def fact(entity, kind, occurred_on, state=CreditRecord.State.ACTIVE):
    details = {"penalty_types": ["fine"]} if kind == Kind.ADMINISTRATIVE_PENALTY else None
    record = record_fact(entity=entity, kind=kind, occurred_on=occurred_on, summary="测试记录", details=details,
                         source=SourceRef("test", "fact", str(next(_sources)))).record
    if state != CreditRecord.State.ACTIVE:
        CreditRecord.objects.filter(pk=record.pk).update(state=state)
    return record


def make_model(version="t1", *, points, half_life=None, grades=None, risks=None, base="100", active=True):
    model = ScoreModel.objects.create(
        version=version, base_score=Decimal(base), points=points, half_life_days=half_life or {"*": 365},
        grade_thresholds=grades or [["AAA", 100], ["AA", 95], ["A", 90], ["B", 80], ["C", 60]],
        risk_thresholds=risks or [["A", 100], ["B", 90], ["C", 70]])
    return scoring.activate_model(model) if active else model


def stored(entity):
    return EntityScore.objects.get(entity=entity)


# --------------------------------------------------------------------------------------------------
# The score


def test_hand_computed_example_with_the_default_model(registry):
    """v1: base 100; spot_check_unqualified −10 with a half-life of 365 days, award +10 with 1095.

    A failed spot check 365 days old counts −10 × 0.5^(365/365) = −5; an award 730 days old counts
    +10 × 0.5^(730/1095) = +10 × 0.5^(2/3) = +6.2996…; score 100 − 5 + 6.2996 = 101.2996 → 101.30:
    AA (100 ≤ 101.30 < 110) and risk class B (90 ≤ 101.30 < 105)."""
    model = scoring.load_default_model()
    assert model.version == "v1" and model.status == ScoreModel.Status.ACTIVE
    assert scoring.load_default_model() is None and ScoreModel.objects.count() == 1  # idempotent
    entity = registry["nanguan"]["entity"]
    fact(entity, Kind.SPOT_CHECK_UNQUALIFIED, dt.date(2024, 1, 2))  # 365 days before AS_OF (2024 is a leap year)
    fact(entity, Kind.AWARD, dt.date(2023, 1, 2))  # 730 days before
    run = scoring.full_rescore(as_of=AS_OF)
    score = stored(entity)
    assert (score.score, score.grade, score.risk_class, score.record_count) == (Decimal("101.30"), "AA", "B", 2)
    assert (score.model, score.run, score.as_of) == (model, run, AS_OF)
    clean = stored(registry["chaoyang"]["entity"])  # no records: the base score
    assert (clean.score, clean.grade, clean.risk_class, clean.record_count) == (Decimal("100.00"), "AA", "B", 0)

    explanation = scoring.explain(entity)
    assert explanation["model_version"] == "v1" and explanation["as_of"] == "2025-01-01"
    assert [(line["kind"], line["age_days"], line["half_life_days"], line["points"], line["contribution"])
            for line in explanation["records"]] == [("award", 730, 1095.0, 10.0, 6.2996),
                                                    ("spot_check_unqualified", 365, 365.0, -10.0, -5.0)]
    assert (explanation["score"], explanation["grade"], explanation["risk_class"]) == ("101.30", "AA", "B")
    assert explanation["matches_stored"] is True


def test_grades_and_risk_classes_at_their_thresholds(registry):
    """The first threshold reached gives the grade: exactly 95.00 is AA, 94.99 is A."""
    make_model(points={"spot_check_unqualified": -10, "verified_complaint": -0.01})
    nanguan, chaoyang, yanji = (registry[key]["entity"] for key in ("nanguan", "chaoyang", "yanji"))
    fact(nanguan, Kind.SPOT_CHECK_UNQUALIFIED, AS_OF - dt.timedelta(days=365))  # −10 halved: 95.00
    fact(chaoyang, Kind.SPOT_CHECK_UNQUALIFIED, AS_OF - dt.timedelta(days=365))
    fact(chaoyang, Kind.VERIFIED_COMPLAINT, AS_OF)  # −0.01, no time to decay: 94.99
    scoring.full_rescore(as_of=AS_OF)
    assert (stored(nanguan).score, stored(nanguan).grade, stored(nanguan).risk_class) == (Decimal("95.00"), "AA", "B")
    assert (stored(chaoyang).score, stored(chaoyang).grade, stored(chaoyang).risk_class) == (
        Decimal("94.99"), "A", "B")
    assert (stored(yanji).score, stored(yanji).grade, stored(yanji).risk_class) == (Decimal("100.00"), "AAA", "A")
    # Deeper: five fresh failures take 50 points: 50.00 is below every threshold → D / D.
    for _n in range(5):
        fact(yanji, Kind.SPOT_CHECK_UNQUALIFIED, AS_OF)
    scoring.rescore_entities([yanji], as_of=AS_OF)
    # The grade follows at once; the internal risk class waits for the monthly full scoring.
    assert (stored(yanji).score, stored(yanji).grade, stored(yanji).risk_class) == (Decimal("50.00"), "D", "A")
    scoring.full_rescore(as_of=AS_OF)
    assert (stored(yanji).score, stored(yanji).grade, stored(yanji).risk_class) == (Decimal("50.00"), "D", "D")


def test_revoked_repaired_and_later_records_do_not_count(registry):
    make_model(points={"spot_check_unqualified": -10, "recall": -4})
    entity = registry["nanguan"]["entity"]
    fact(entity, Kind.SPOT_CHECK_UNQUALIFIED, AS_OF, state=CreditRecord.State.REVOKED)
    fact(entity, Kind.SPOT_CHECK_UNQUALIFIED, AS_OF, state=CreditRecord.State.REPAIRED)
    fact(entity, Kind.SPOT_CHECK_UNQUALIFIED, AS_OF + dt.timedelta(days=1))  # after as_of
    fact(entity, Kind.RECALL, AS_OF, state=CreditRecord.State.EXPIRED)  # out of publication, still a fact
    scoring.full_rescore(as_of=AS_OF)
    assert (stored(entity).score, stored(entity).record_count) == (Decimal("96.00"), 1)
    assert [line["kind"] for line in scoring.explain(entity)["records"]] == ["recall"]
    scoring.full_rescore(as_of=AS_OF + dt.timedelta(days=1))  # the next day the later record counts too
    assert stored(entity).record_count == 2


def test_serious_violation_listing_overrides_the_grade(registry):
    """An active listing means D / D whatever the score; a repaired one does not count at all, and an
    expired one counts its points but no longer overrides."""
    make_model(points={"serious_violation_listing": -1})
    nanguan, chaoyang, yanji = (registry[key]["entity"] for key in ("nanguan", "chaoyang", "yanji"))
    fact(nanguan, Kind.SERIOUS_VIOLATION_LISTING, AS_OF)
    fact(chaoyang, Kind.SERIOUS_VIOLATION_LISTING, AS_OF, state=CreditRecord.State.REPAIRED)
    fact(yanji, Kind.SERIOUS_VIOLATION_LISTING, AS_OF, state=CreditRecord.State.EXPIRED)
    run = scoring.full_rescore(as_of=AS_OF)
    assert (stored(nanguan).score, stored(nanguan).grade, stored(nanguan).risk_class) == (Decimal("99.00"), "D", "D")
    assert (stored(chaoyang).score, stored(chaoyang).grade, stored(chaoyang).risk_class) == (
        Decimal("100.00"), "AAA", "A")
    assert (stored(yanji).score, stored(yanji).grade, stored(yanji).risk_class) == (Decimal("99.00"), "AA", "B")
    assert scoring.explain(nanguan)["serious_violation_override"] is True
    assert scoring.explain(nanguan)["matches_stored"] is True
    assert run.grade_distribution == {"AAA": 1, "AA": 1, "A": 0, "B": 0, "C": 0, "D": 1}


# --------------------------------------------------------------------------------------------------
# Rescoring runs


def test_full_rescore_logs_counts_distributions_and_freezes_the_model(registry, users):
    model = make_model(points={"spot_check_unqualified": -10, "award": 10})
    nanguan, chaoyang = registry["nanguan"]["entity"], registry["chaoyang"]["entity"]
    fact(nanguan, Kind.SPOT_CHECK_UNQUALIFIED, AS_OF)
    fact(nanguan, Kind.SPOT_CHECK_UNQUALIFIED, AS_OF)  # 80: B / C
    fact(chaoyang, Kind.AWARD, AS_OF)  # 110: AAA / A
    run = scoring.full_rescore(as_of=AS_OF, user=users["province"])
    assert (run.status, run.kind, run.model, run.as_of, run.triggered_by) == (
        ScoringRun.Status.SUCCEEDED, ScoringRun.Kind.FULL, model, AS_OF, users["province"])
    assert (run.entity_count, run.record_count) == (MarketEntity.objects.count(), 3) == (3, 3)
    assert run.grade_distribution == {"AAA": 2, "AA": 0, "A": 0, "B": 1, "C": 0, "D": 0}
    assert run.risk_distribution == {"A": 2, "B": 0, "C": 1, "D": 0}
    assert run.duration_ms is not None and run.finished_at is not None and run.error == ""
    assert EntityScore.objects.filter(run=run).count() == 3
    model.refresh_from_db()
    assert model.used

    again = scoring.full_rescore(as_of=AS_OF)  # replaces, never duplicates
    assert EntityScore.objects.count() == 3 and set(EntityScore.objects.values_list("run", flat=True)) == {again.pk}


def test_a_failed_rescore_leaves_the_previous_scores(registry, monkeypatch):
    make_model(points={"spot_check_unqualified": -10})
    entity = registry["nanguan"]["entity"]
    first = scoring.full_rescore(as_of=AS_OF)
    before = list(EntityScore.objects.order_by("entity").values_list("entity", "score", "grade", "run"))
    fact(entity, Kind.SPOT_CHECK_UNQUALIFIED, AS_OF)  # would change the nanguan score

    def broken(run):  # runs inside the transaction, after the DELETE and INSERT
        assert EntityScore.objects.filter(run=run).count() == 3
        raise DatabaseError("disk full")

    monkeypatch.setattr(scoring, "_summary", broken)
    with pytest.raises(DatabaseError):
        scoring.full_rescore(as_of=AS_OF)
    assert list(EntityScore.objects.order_by("entity").values_list("entity", "score", "grade", "run")) == before
    failed = ScoringRun.objects.exclude(pk=first.pk).get()
    assert failed.status == ScoringRun.Status.FAILED and "disk full" in failed.error
    assert failed.finished_at is not None and failed.duration_ms is not None


def test_incremental_rescore_touches_only_the_given_entities(registry):
    make_model(points={"spot_check_unqualified": -10})
    nanguan, chaoyang = registry["nanguan"]["entity"], registry["chaoyang"]["entity"]
    first = scoring.full_rescore(as_of=AS_OF)
    fact(nanguan, Kind.SPOT_CHECK_UNQUALIFIED, AS_OF)
    fact(chaoyang, Kind.SPOT_CHECK_UNQUALIFIED, AS_OF)
    run = scoring.rescore_entities([nanguan.pk], as_of=AS_OF)
    assert (run.kind, run.entity_count, run.record_count) == (ScoringRun.Kind.INCREMENTAL, 1, 1)
    assert run.grade_distribution["A"] == 1
    assert (stored(nanguan).score, stored(nanguan).run) == (Decimal("90.00"), run)
    assert (stored(chaoyang).score, stored(chaoyang).run) == (Decimal("100.00"), first)  # untouched
    assert EntityScore.objects.count() == 3
    explanation = scoring.explain(chaoyang)  # the stored score no longer matches the ledger: said so
    assert explanation["matches_stored"] is False and explanation["score"] == "90.00"
    with pytest.raises(scoring.ScoringRefused):
        scoring.rescore_entities([999_999], as_of=AS_OF)
    with pytest.raises(scoring.ScoringRefused):
        scoring.rescore_entities([], as_of=AS_OF)


def test_explain_equals_the_stored_score_for_many_entities(registry):
    """Every kind of the default model, at ages that do not divide the half-lives: the Python
    explanation and the SQL score agree to the cent, grade and class included."""
    scoring.load_default_model()
    entities = [MarketEntity.objects.create(
        uscc=make_uscc("220102", 500 + n), name=f"解释测试{n}", legal_representative="王五", region_id="220102",
        industry_id="36", address="测试路", registration_date=dt.date(2015, 1, 1),
        status=MarketEntity.Status.OPERATING) for n in range(6)]
    kinds = list(Kind.values)
    for n, entity in enumerate(entities):
        for k in range(n + 2):
            fact(entity, kinds[(n * 3 + k) % len(kinds)], AS_OF - dt.timedelta(days=37 * k + 11 * n + 1))
    scoring.full_rescore(as_of=AS_OF)
    for entity in entities:
        explanation = scoring.explain(entity)
        score = stored(entity)
        assert Decimal(explanation["score"]) == score.score
        assert (explanation["grade"], explanation["risk_class"]) == (score.grade, score.risk_class)
        assert len(explanation["records"]) == score.record_count
        total = float(explanation["base_score"]) + sum(line["contribution"] for line in explanation["records"])
        assert abs(total - float(score.score)) < 0.01
    assert len({stored(entity).score for entity in entities}) > 3  # the example really varies


def test_rescore_needs_an_active_model(registry):
    with pytest.raises(scoring.ScoringRefused, match="没有现行的信用评分模型"):
        scoring.full_rescore(as_of=AS_OF)


# --------------------------------------------------------------------------------------------------
# Models


def test_a_used_model_is_immutable_and_activation_retires_the_previous(registry):
    first = make_model("t1", points={"recall": -5})
    scoring.update_model(first, points={"recall": -6})  # not used yet: allowed
    first.refresh_from_db()
    assert first.points == {"recall": -6}
    scoring.full_rescore(as_of=AS_OF)
    first.refresh_from_db()
    with pytest.raises(scoring.ModelRefused, match="已用于评分"):
        scoring.update_model(first, points={"recall": -7})
    with pytest.raises(scoring.ModelRefused):
        scoring.update_model(first, grade_thresholds=[["AAA", 1]])
    first.refresh_from_db()
    assert first.points == {"recall": -6}
    scoring.update_model(first, description="说明可以补充")  # not a parameter

    second = make_model("t2", points={"recall": -8}, active=False)
    assert scoring.activate_model(second).status == ScoreModel.Status.ACTIVE
    first.refresh_from_db()
    assert first.status == ScoreModel.Status.RETIRED and scoring.active_model() == second


def test_bad_parameters_are_refused(registry):
    model = make_model(points={"recall": -5}, active=False)
    for changes, message in (({"points": {"nonsense": -1}}, "未知的信用事项类型"),
                             ({"half_life_days": {"recall": 0}}, "必须大于 0"),
                             ({"half_life_days": {"award": 100}}, "没有半衰期"),
                             ({"grade_thresholds": [["AA", 90], ["AAA", 95]]}, "从高到低"),
                             ({"risk_thresholds": [["E", 90]]}, "无效")):
        with pytest.raises(scoring.ModelRefused, match=message):
            scoring.update_model(model, **changes)


# --------------------------------------------------------------------------------------------------
# The draw


def test_risk_classes_weight_the_draw(registry):
    """300 scored entities, half class A (an award) and half class D (a listing): the draw through
    ``current_risk_classes`` (weights A 0.5, D 4) equals the published key formula computed
    independently per entity, and draws far more D than A."""
    make_model(points={"award": 10, "serious_violation_listing": -50}, risks=[["A", 105], ["B", 90], ["C", 70]])
    entities = MarketEntity.objects.bulk_create([MarketEntity(
        uscc=make_uscc("220104", 1000 + n), name=f"抽取测试{n}", legal_representative="王五", region_id="220104",
        industry_id="36", address="测试路", registration_date=dt.date(2015, 1, 1),
        status=MarketEntity.Status.OPERATING) for n in range(300)])
    kinds = [Kind.AWARD if n % 2 else Kind.SERIOUS_VIOLATION_LISTING for n in range(300)]
    CreditRecord.objects.bulk_create([CreditRecord(
        entity=entity, kind=kind, polarity=polarity_of(kind), occurred_on=AS_OF, summary="测试",
        source_module="test", source_type="bulk", source_id=str(n)) for n, (entity, kind) in
        enumerate(zip(entities, kinds, strict=True))])
    scoring.full_rescore(as_of=AS_OF)
    classes = dict(EntityScore.objects.filter(entity__region_id="220104", entity__uscc__in=[
        e.uscc for e in entities]).values_list("entity__uscc", "risk_class"))
    assert sorted(set(classes.values())) == ["A", "D"]

    result = draw.draw_entities(seed=20250101, count=40, region_prefix="220104",
                                risk_classes=scoring.current_risk_classes)
    ratios = draw.DEFAULT_CLASS_RATIOS
    everyone = dict(EntityScore.objects.filter(entity__region_id="220104").values_list("entity__uscc", "risk_class"))
    expected = sorted(everyone, key=lambda uscc: (draw.entity_key(20250101, uscc, ratios[everyone[uscc]]), uscc),
                      reverse=True)[:40]
    assert result.usccs == expected
    drawn = result.drawn_classes
    assert drawn.get("D", 0) > 3 * drawn.get("A", 0)
    assert result.parameters["risk_classes"] == "qualitygov.credit.scoring.current_risk_classes"


@pytest.fixture
def workflow(db, users, registry):
    """The spot-check workflow of ``inspection.tests.fixtures`` (an issued plan, cement makers)."""
    return fixtures.build_workflow(users, registry)


def test_draw_quota_uses_the_credit_risk_classes(workflow):
    scoring.load_default_model()
    listed = workflow.nanguan[0]
    fact(listed, Kind.SERIOUS_VIOLATION_LISTING, dt.date.today())
    scoring.full_rescore()
    assert stored(listed).risk_class == "D"
    record, tasks = planning.draw_quota(workflow.quota, user=workflow.users["province"], seed=5)
    assert record.inputs["risk_classes"] == "qualitygov.credit.scoring.current_risk_classes"
    assert record.inputs["candidate_classes"] == {"B": 4, "D": 1}
    classes = dict(EntityScore.objects.values_list("entity_id", "risk_class"))
    assert all(item["risk_class"] == classes[item["entity_id"]] for item in record.outputs["items"])
    result, identical, differences = draw.rerun_draw(record)
    assert identical, differences


# --------------------------------------------------------------------------------------------------
# The command


def test_rescore_command_prints_the_run(registry):
    out = io.StringIO()
    call_command("rescore", "--as-of", "2025-01-01", stdout=out)
    summary = json.loads(out.getvalue())
    assert (summary["kind"], summary["status"], summary["model_version"], summary["entity_count"]) == (
        "full", "succeeded", "v1", 3)
    assert summary["grade_distribution"]["AA"] == 3
    out = io.StringIO()
    call_command("rescore", "--entity", registry["yanji"]["entity"].uscc, stdout=out)
    summary = json.loads(out.getvalue())
    assert (summary["kind"], summary["entity_count"]) == ("incremental", 1)
