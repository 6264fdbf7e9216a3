"""Credit scores in a real browser (issue 4, "done when"): an unqualified spot-check result lowers the
entity's score and its credit page shows which record cost how many points under which model
version; the province admin makes a new model version, activates it and rescores: the entity's new
score names the new version while the old run keeps the old one; the enterprise never sees the risk
class."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from qualitygov.credit import scoring
from qualitygov.credit.models import EntityScore, Kind, ScoreModel, ScoringRun
from qualitygov.credit.services import SourceRef, record_fact

pytestmark = pytest.mark.browser


def test_unqualified_result_costs_points_and_a_new_model_version_rescores(signed_in, new_context, live_server,
                                                                           users, registry):
    entity = registry["nanguan"]["entity"]
    v1 = scoring.load_default_model()
    first = scoring.full_rescore(user=users["admin"])
    before = EntityScore.objects.get(entity=entity).score

    # A spot-check result arrives in the ledger: the entity is rescored when the write commits.
    record_fact(entity=entity, kind=Kind.SPOT_CHECK_UNQUALIFIED, occurred_on=timezone.localdate(),
                source=SourceRef("inspection", "sample", "4711"), summary="制动软管抽查不合格：爆破压力不达标")
    after = EntityScore.objects.get(entity=entity)
    points = Decimal(str(v1.points[Kind.SPOT_CHECK_UNQUALIFIED]))
    assert after.score == before + points and after.model == v1

    admin = signed_in(users["admin"])
    admin.goto(live_server.url + reverse("credit:entity_credit", args=[entity.pk]))
    row = admin.locator("#explanation tbody tr", has_text="监督抽查不合格")
    assert f"{float(points)}" in row.inner_text()
    assert admin.inner_text("#explained-score") == str(after.score)
    assert v1.version in admin.inner_text("#credit-score")
    assert "风险分类" in admin.inner_text("#credit-score")

    # A new version that weighs an unqualified result twice as heavily.
    admin.goto(live_server.url + reverse("credit:scoremodel_new_version", args=[v1.pk]))
    admin.fill("#id_version", "v2-browser")
    heavier = dict(v1.points) | {Kind.SPOT_CHECK_UNQUALIFIED: float(points) * 2}
    admin.fill("#id_points", json.dumps(heavier))
    admin.click("button:has-text('保存为草案')")
    admin.wait_for_url(re.compile(r"/credit/scores/models/\d+/$"))
    v2 = ScoreModel.objects.get(version="v2-browser")
    assert v2.status == ScoreModel.Status.DRAFT
    admin.click("button:has-text('启用此模型')")
    admin.wait_for_selector("button:has-text('立即全量重新评分')")
    with admin.expect_navigation():
        admin.click("button:has-text('立即全量重新评分')")
    rescored = EntityScore.objects.get(entity=entity)
    assert rescored.model == v2 and rescored.score == before + points * 2
    # The first run keeps the model it was made with, which can no longer change.
    assert ScoringRun.objects.get(pk=first.pk).model == v1 and ScoreModel.objects.get(pk=v1.pk).used

    # The enterprise sees its own page, with the explanation but never the internal risk class.
    company = signed_in(users["enterprise"], new_context())
    company.goto(live_server.url + reverse("credit:entity_credit", args=[entity.pk]))
    assert "v2-browser" in company.inner_text("#credit-score")
    # Its earlier scores are listed under the version that produced them.
    assert v1.version in company.inner_text("#score-history") and str(after.score) in company.inner_text("#score-history")
    body = company.inner_text("body")
    assert "风险分类" not in body and rescored.get_risk_class_display() not in body
