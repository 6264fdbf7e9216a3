"""The credit demo that `make run` seeds: made through the services, so the ledger, lists, feed and
scores obey their rules, and the cases a new user tries exist."""

from __future__ import annotations

import datetime as dt

import pytest

from qualitygov.credit.demo import DEMO_SOURCE, seed_credit_demo
from qualitygov.credit.models import (
    ChangeEvent,
    CreditRecord,
    EntityScore,
    GradeChange,
    ListEntry,
    ScoringRun,
)
from qualitygov.registry.demo import ensure_demo_users, seed_demo, showcase_entity

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 6, 15)


def test_demo_credit_data_follows_the_rules():
    seed_demo(120, 20121)
    ensure_demo_users()
    counts = seed_credit_demo(20121, today=TODAY)
    assert counts["listed"] == 2 and counts["scored"] == 120 and counts["penalties"] >= 40

    showcase = showcase_entity()
    penalties = CreditRecord.objects.filter(entity=showcase, source_module=DEMO_SOURCE).order_by("occurred_on")
    fine, warning = penalties
    # The fine's minimum publication period has passed (repair can be applied for); the warning is
    # never published.
    assert fine.publishable and fine.publish_min_until < TODAY <= fine.publish_until
    assert not warning.publishable
    public = CreditRecord.objects.publicly_visible(TODAY)
    assert fine in public and warning not in public

    serious = ListEntry.objects.get(kind=ListEntry.Kind.SERIOUS_VIOLATION)
    assert serious.early_removal_from <= TODAY
    assert EntityScore.objects.get(entity=serious.entity).grade == "D"
    run = ScoringRun.objects.filter(kind=ScoringRun.Kind.FULL).latest("started_at")
    assert run.status == ScoringRun.Status.SUCCEEDED and sum(run.grade_distribution.values()) == 120
    assert run.as_of == TODAY and ScoringRun.objects.filter(kind=ScoringRun.Kind.FULL).count() == 2
    # The demo's facts moved grades between the two scorings (the listed entity at least fell to D).
    assert GradeChange.objects.filter(entity=serious.entity, to_grade="D").exists()
    # Every published demo fact reached the change feed; the warning did not.
    fed = set(ChangeEvent.objects.filter(object_type="creditrecord").values_list("object_id", flat=True))
    assert str(fine.pk) in fed and str(warning.pk) not in fed
    assert seed_credit_demo(20121, today=TODAY) == {"skipped": "credit demo exists"}
