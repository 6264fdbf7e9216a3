"""The spot-check demo that `make run` seeds: made through the services, so it must obey their rules —
every published finding is in the credit ledger, draws re-run to the same list, objections decided."""

from __future__ import annotations

import pytest

from qualitygov.credit.models import CreditRecord
from qualitygov.inspection import draw
from qualitygov.inspection.catalogue import load_demo_rules
from qualitygov.inspection.demo import seed_inspection_demo
from qualitygov.inspection.models import InspectionPlan, Objection, RandomDraw, Sample, Verdict
from qualitygov.registry.demo import ensure_demo_users, seed_demo

pytestmark = pytest.mark.django_db


def test_demo_spot_checks_follow_the_rules():
    seed_demo(300, 20121)
    ensure_demo_users()
    load_demo_rules()
    counts = seed_inspection_demo(20121)
    assert counts["plans"] == 3 and counts["samples"] > 30 and counts["published"] > 0
    statuses = dict(InspectionPlan.objects.values_list("title", "status"))
    assert sorted(statuses.values()) == ["approved", "closed", "draft"]

    published = Sample.objects.filter(published_on__isnull=False)
    findings = published.filter(verdict__in=[Verdict.UNQUALIFIED, Verdict.SERIOUSLY_UNQUALIFIED]) \
        | published.filter(outcome=Sample.Outcome.REFUSED)
    recorded = set(CreditRecord.objects.filter(source_module="inspection", source_type="sample")
                   .values_list("source_id", flat=True))
    assert {str(pk) for pk in findings.values_list("pk", flat=True)} == {str(pk) for pk in recorded}
    assert not Objection.objects.exclude(status=Objection.Status.DECIDED).exists()
    for record in RandomDraw.objects.filter(kind="entities").order_by("pk")[:3]:
        _, identical, differences = draw.rerun_draw(record)
        assert identical, differences
    assert seed_inspection_demo(20121) == {"skipped": "plans exist"}
