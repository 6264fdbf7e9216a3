"""Grade movements, incremental rescoring on ledger writes, model versions over time and the monthly
scoring command (issue 4, items 2-3)."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import DatabaseError, transaction

from qualitygov.credit import scoring
from qualitygov.credit.models import (
    ChangeEvent,
    CreditRecord,
    EntityScore,
    GradeChange,
    Kind,
    ScoreHistory,
    ScoreModel,
    ScoringRun,
)
from qualitygov.credit.services import SourceRef, end_fact, record_fact, revoke_fact

pytestmark = [pytest.mark.django_db]

AS_OF = dt.date(2025, 6, 1)
_sources = itertools.count(1)
GRADES = [["AAA", 100], ["AA", 95], ["A", 90], ["B", 80], ["C", 60]]


def make_model(version="m1", *, points=None, base="100", active=True):
    model = ScoreModel.objects.create(
        version=version, base_score=Decimal(base), points=points or {"spot_check_unqualified": -10},
        half_life_days={"*": 365}, grade_thresholds=GRADES, risk_thresholds=[["A", 100], ["B", 90], ["C", 70]])
    return scoring.activate_model(model) if active else model


def fact(entity, occurred_on=AS_OF, kind=Kind.SPOT_CHECK_UNQUALIFIED, source=None):
    return record_fact(entity=entity, kind=kind, occurred_on=occurred_on, summary="测试记录",
                       source=source or SourceRef("test", "more", str(next(_sources)))).record


def explained_sum(explanation) -> Decimal:
    total = float(explanation["base_score"]) + sum(
        line["points"] * 0.5 ** (line["age_days"] / line["half_life_days"]) for line in explanation["records"])
    return Decimal(repr(total)).quantize(Decimal("0.01"))


# --------------------------------------------------------------------------------------------------
# Grade movements


def test_grade_movements_are_written_with_their_public_events(registry, settings):
    settings.CREDIT_RESCORE_ON_WRITE = False
    make_model()
    nanguan, chaoyang, yanji = (registry[key]["entity"] for key in ("nanguan", "chaoyang", "yanji"))
    first = scoring.full_rescore(as_of=AS_OF)
    assert not GradeChange.objects.exists()  # first scoring: nothing to move from
    assert not ChangeEvent.objects.filter(kind=ChangeEvent.Kind.GRADE_CHANGED).exists()
    fact(nanguan)  # 100 → 90: AAA → A
    fact(chaoyang, AS_OF - dt.timedelta(days=365))  # −10 × 0.5 = −5 → 95: AAA → AA
    second = scoring.full_rescore(as_of=AS_OF)
    moves = {(g.entity_id, g.from_grade, g.to_grade, g.run_id) for g in GradeChange.objects.all()}
    assert moves == {(nanguan.pk, "AAA", "A", second.pk), (chaoyang.pk, "AAA", "AA", second.pk)}
    assert all(g.changed_at == EntityScore.objects.get(entity=g.entity).computed_at for g in GradeChange.objects.all())
    events = ChangeEvent.objects.filter(kind=ChangeEvent.Kind.GRADE_CHANGED).order_by("id")
    assert {(e.entity_id, e.payload["from_grade"], e.payload["to_grade"]) for e in events} == {
        (nanguan.pk, "AAA", "A"), (chaoyang.pk, "AAA", "AA")}
    event = events.get(entity=nanguan)
    assert event.payload == {"uscc": nanguan.uscc, "name": nanguan.name, "from_grade": "AAA", "to_grade": "A",
                             "as_of": "2025-06-01"}
    assert event.object_type == "gradechange"
    assert event.object_id == str(GradeChange.objects.get(entity=nanguan).pk)
    assert "risk_class" not in json.dumps([e.payload for e in events])
    # an unchanged grade (yanji) and a rescoring that changes nothing write no movement
    assert not GradeChange.objects.filter(entity=yanji).exists()
    scoring.full_rescore(as_of=AS_OF)
    assert GradeChange.objects.count() == 2 and first.grade_changes.count() == 0


def test_incremental_rescoring_records_the_movement_of_its_entities_only(registry, settings):
    settings.CREDIT_RESCORE_ON_WRITE = False
    make_model()
    nanguan, chaoyang = registry["nanguan"]["entity"], registry["chaoyang"]["entity"]
    scoring.full_rescore(as_of=AS_OF)
    fact(nanguan)
    fact(chaoyang)
    run = scoring.rescore_entities([nanguan.pk], as_of=AS_OF)
    assert list(GradeChange.objects.values_list("entity", "from_grade", "to_grade", "run")) == [
        (nanguan.pk, "AAA", "A", run.pk)]
    assert ChangeEvent.objects.filter(kind=ChangeEvent.Kind.GRADE_CHANGED).count() == 1


def test_a_failed_rescoring_leaves_scores_and_movements_untouched(registry, settings, monkeypatch):
    settings.CREDIT_RESCORE_ON_WRITE = False
    make_model()
    nanguan = registry["nanguan"]["entity"]
    scoring.full_rescore(as_of=AS_OF)
    fact(nanguan)
    scoring.full_rescore(as_of=AS_OF)
    fact(nanguan, AS_OF - dt.timedelta(days=1), kind=Kind.SPOT_CHECK_UNQUALIFIED)  # would move A → B
    before = (list(EntityScore.objects.order_by("entity").values_list("entity", "score", "grade", "run")),
              list(GradeChange.objects.values_list("id", "from_grade", "to_grade")),
              ChangeEvent.objects.count())

    def broken(run):  # inside the transaction, after the scores and movements were written
        assert GradeChange.objects.filter(run=run).exists()
        raise DatabaseError("disk full")

    monkeypatch.setattr(scoring, "_summary", broken)
    with pytest.raises(DatabaseError):
        scoring.full_rescore(as_of=AS_OF)
    after = (list(EntityScore.objects.order_by("entity").values_list("entity", "score", "grade", "run")),
             list(GradeChange.objects.values_list("id", "from_grade", "to_grade")),
             ChangeEvent.objects.count())
    assert after == before
    monkeypatch.undo()
    run = scoring.full_rescore(as_of=AS_OF)  # the temporary table went with the failed transaction
    assert list(run.grade_changes.values_list("from_grade", "to_grade")) == [("A", "B")]


# --------------------------------------------------------------------------------------------------
# Incremental rescoring on ledger writes


def test_a_record_write_rescores_its_entity_after_commit(registry, django_capture_on_commit_callbacks):
    make_model()
    nanguan, chaoyang = registry["nanguan"]["entity"], registry["chaoyang"]["entity"]
    scoring.full_rescore(as_of=AS_OF)
    source = SourceRef("test", "more", "write-1")
    with django_capture_on_commit_callbacks(execute=True):
        record = fact(nanguan, dt.date(2025, 3, 1), source=source)
    score = EntityScore.objects.get(entity=nanguan)
    assert score.run.kind == ScoringRun.Kind.INCREMENTAL and score.record_count == 1
    explanation = scoring.explain(nanguan)
    assert explanation["matches_stored"] is True
    assert Decimal(explanation["score"]) == score.score == explained_sum(explanation)
    assert score.score < Decimal("100")
    assert EntityScore.objects.get(entity=chaoyang).run.kind == ScoringRun.Kind.FULL  # untouched

    # revoking the record rescored it back to the base score
    with django_capture_on_commit_callbacks(execute=True):
        revoke_fact(source, Kind.SPOT_CHECK_UNQUALIFIED, "复检合格")
    assert EntityScore.objects.get(entity=nanguan).score == Decimal("100.00")
    assert scoring.explain(nanguan)["records"] == []
    # a re-report that changes nothing triggers nothing
    runs = ScoringRun.objects.count()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        record_fact(entity=nanguan, kind=record.kind, occurred_on=record.occurred_on, summary="测试记录",
                    source=source)
    assert callbacks == [] and ScoringRun.objects.count() == runs


def test_end_fact_rescores_and_several_writes_give_one_run(registry, django_capture_on_commit_callbacks):
    make_model()
    nanguan, yanji = registry["nanguan"]["entity"], registry["yanji"]["entity"]
    sources = [SourceRef("test", "more", f"batch-{n}") for n in range(3)]
    runs = ScoringRun.objects.count()
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        fact(nanguan, dt.date(2025, 1, 1), source=sources[0])
        fact(nanguan, dt.date(2025, 2, 1), source=sources[1])
        fact(yanji, dt.date(2025, 2, 1), source=sources[2])
    assert len(callbacks) == 1 and ScoringRun.objects.count() == runs + 1
    run = ScoringRun.objects.latest("id")
    assert (run.kind, run.entity_count, run.record_count) == (ScoringRun.Kind.INCREMENTAL, 2, 3)
    for entity in (nanguan, yanji):
        explanation = scoring.explain(entity)
        assert explanation["matches_stored"] is True
        assert Decimal(explanation["stored"]["score"]) == explained_sum(explanation)
    with django_capture_on_commit_callbacks(execute=True):
        end_fact(sources[2], Kind.SPOT_CHECK_UNQUALIFIED, on=dt.date(2025, 3, 1),
                 state=CreditRecord.State.REPAIRED, reason="信用修复")
    assert EntityScore.objects.get(entity=yanji).score == Decimal("100.00")


def test_a_rolled_back_write_rescores_nothing(registry, django_capture_on_commit_callbacks):
    make_model()
    nanguan = registry["nanguan"]["entity"]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            fact(nanguan)
            raise RuntimeError("abandon")
    assert callbacks == [] and not EntityScore.objects.exists()


def test_no_active_model_setting_off_and_failures_never_break_the_writer(registry, settings, monkeypatch,
                                                                         django_capture_on_commit_callbacks,
                                                                         caplog):
    nanguan = registry["nanguan"]["entity"]
    with django_capture_on_commit_callbacks(execute=True):
        fact(nanguan)  # no model at all: skipped silently
    assert not ScoringRun.objects.exists() and CreditRecord.objects.count() == 1
    make_model()
    settings.CREDIT_RESCORE_ON_WRITE = False
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        fact(nanguan)
    assert callbacks == [] and not ScoringRun.objects.exists()
    settings.CREDIT_RESCORE_ON_WRITE = True

    def broken(run):
        raise DatabaseError("disk full")

    monkeypatch.setattr(scoring, "_summary", broken)
    with django_capture_on_commit_callbacks(execute=True):
        record = fact(nanguan)
    assert CreditRecord.objects.filter(pk=record.pk).exists()  # the write stands
    assert ScoringRun.objects.get().status == ScoringRun.Status.FAILED
    assert "disk full" in caplog.text


# --------------------------------------------------------------------------------------------------
# Model versions


def test_a_new_model_version_scores_while_old_runs_keep_theirs(registry, settings):
    settings.CREDIT_RESCORE_ON_WRITE = False
    v1 = make_model("v1")
    nanguan = registry["nanguan"]["entity"]
    fact(nanguan)
    scoring.full_rescore(as_of=AS_OF - dt.timedelta(days=1))  # before the record: AAA
    old = scoring.full_rescore(as_of=AS_OF)  # 90: A
    v2 = make_model("v2", points={"spot_check_unqualified": -30})  # 70: C
    with pytest.raises(scoring.ModelRefused) as refused:
        scoring.update_model(v1, points={"spot_check_unqualified": -30})
    assert refused.value.code == "model_used"
    new = scoring.full_rescore(as_of=AS_OF)
    score = EntityScore.objects.get(entity=nanguan)
    assert (score.model, score.run, score.score, score.grade) == (v2, new, Decimal("70.00"), "C")
    v1.refresh_from_db()
    assert v1.status == ScoreModel.Status.RETIRED and v1.points == {"spot_check_unqualified": -10}
    old.refresh_from_db()
    assert (old.model, old.grade_distribution["A"]) == (v1, 1)
    assert list(GradeChange.objects.order_by("id").values_list("run", "from_grade", "to_grade")) == [
        (old.pk, "AAA", "A"), (new.pk, "A", "C")]
    explanation = scoring.explain(nanguan, model=v1, as_of=AS_OF)  # the old version stays explainable
    assert explanation["score"] == "90.00" and explanation["model_version"] == "v1"
    # The replaced scores are kept as they were, each with its own model version and run.
    history = list(ScoreHistory.objects.filter(entity=nanguan).order_by("id").values_list(
        "model__version", "run", "superseded_by", "score", "grade"))
    first = ScoringRun.objects.filter(kind=ScoringRun.Kind.FULL).order_by("id").first()
    assert history == [("v1", first.pk, old.pk, Decimal("100.00"), "AAA"), ("v1", old.pk, new.pk, Decimal("90.00"), "A")]
    assert ScoreHistory.objects.filter(superseded_by=new).count() == EntityScore.objects.count()


# --------------------------------------------------------------------------------------------------
# The monthly command


def test_monthly_command_runs_once_a_month(registry):
    make_model()
    out = io.StringIO()
    call_command("credit_monthly", "--as-of", "2025-06-03", stdout=out, stderr=io.StringIO())
    first = json.loads(out.getvalue())
    assert (first["ran"], first["kind"], first["status"], first["entity_count"]) == (True, "full", "succeeded", 3)
    out, err = io.StringIO(), io.StringIO()
    call_command("credit_monthly", "--as-of", "2025-06-28", stdout=out, stderr=err)
    again = json.loads(out.getvalue())
    assert (again["ran"], again["run"]) == (False, first["run"]) and "--force" in err.getvalue()
    assert ScoringRun.objects.count() == 1
    out = io.StringIO()
    call_command("credit_monthly", "--as-of", "2025-06-28", "--force", stdout=out)
    assert json.loads(out.getvalue())["ran"] is True and ScoringRun.objects.count() == 2
    out = io.StringIO()
    call_command("credit_monthly", "--as-of", "2025-07-01", stdout=out)  # a new month
    assert json.loads(out.getvalue())["as_of"] == "2025-07-01" and ScoringRun.objects.count() == 3
    # an incremental run or a failed full run does not count as the month's scoring
    ScoringRun.objects.filter(as_of__month=7).update(status=ScoringRun.Status.FAILED)
    run, ran = scoring.monthly_rescore(as_of=dt.date(2025, 7, 15))
    assert ran and run.as_of == dt.date(2025, 7, 15)


def test_monthly_command_without_a_model_fails_cleanly(registry):
    err = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("credit_monthly", "--as-of", "2025-06-03", stdout=io.StringIO(), stderr=err)
    assert "no_active_model" not in err.getvalue() and "评分模型" in err.getvalue()
    assert not ScoringRun.objects.exists()
