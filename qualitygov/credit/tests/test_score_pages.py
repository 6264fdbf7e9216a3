"""Credit score pages: models, runs and the entity credit file (issue 4, items 2-3)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from qualitygov.credit import scoring
from qualitygov.credit.models import CreditAccessLog, EntityScore, GradeChange, ScoreModel, ScoringRun
from qualitygov.credit.services import SourceRef, record_fact

pytestmark = [pytest.mark.django_db]

AS_OF = dt.date(2025, 6, 1)


@pytest.fixture
def scored(registry, settings):
    settings.CREDIT_RESCORE_ON_WRITE = False
    model = scoring.activate_model(ScoreModel.objects.create(
        version="p1", base_score=Decimal("100"), points={"spot_check_unqualified": -10, "award": 5},
        half_life_days={"*": 365}, grade_thresholds=[["AAA", 100], ["AA", 95], ["A", 90], ["B", 80], ["C", 60]],
        risk_thresholds=[["A", 100], ["B", 90], ["C", 70]]))
    entity = registry["nanguan"]["entity"]
    scoring.full_rescore(as_of=AS_OF)
    record_fact(entity=entity, kind="spot_check_unqualified", occurred_on=dt.date(2025, 1, 10), summary="抽检不合格",
                source=SourceRef("test", "pages", "1"))
    record_fact(entity=entity, kind="award", occurred_on=dt.date(2024, 5, 1), summary="质量奖",
                source=SourceRef("test", "pages", "2"))
    run = scoring.full_rescore(as_of=AS_OF)
    return {"model": model, "run": run, "entity": entity, "score": EntityScore.objects.get(entity=entity)}


def test_entity_credit_page_for_an_officer(client, users, scored):
    client.force_login(users["nanguan"])
    page = client.get(reverse("credit:entity_credit", args=[scored["entity"].pk]))
    assert page.status_code == 200
    html = page.content.decode()
    explanation = scoring.explain(scored["entity"])
    total = float(explanation["base_score"]) + sum(line["contribution"] for line in explanation["records"])
    assert abs(Decimal(str(total)) - scored["score"].score) < Decimal("0.01")  # the table adds up
    assert f'id="explained-score">{scored["score"].score}<' in html
    assert scored["score"].grade in html and "p1" in html and "2025-06-01" in html
    assert str(scored["score"].get_risk_class_display()) in html and "风险分类" in html
    move = GradeChange.objects.get(entity=scored["entity"])
    assert f"{move.from_grade} → {move.to_grade}" in html
    assert CreditAccessLog.objects.filter(entity=scored["entity"], user=users["nanguan"],
                                          channel=CreditAccessLog.Channel.OFFICER).count() == 1


def test_entity_credit_page_for_the_enterprise_hides_the_risk_class(client, users, scored, registry):
    client.force_login(users["enterprise"])
    page = client.get(reverse("credit:entity_credit", args=[scored["entity"].pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "风险分类" not in html and str(scored["score"].get_risk_class_display()) not in html
    assert not re.search(r"risk", html)
    assert not CreditAccessLog.objects.exists()  # the entity's own reads are not logged
    other = registry["chaoyang"]["entity"]
    assert client.get(reverse("credit:entity_credit", args=[other.pk])).status_code == 404


def test_entity_credit_page_scope(client, users, scored, registry):
    yanji = registry["yanji"]["entity"]
    for username, code in (("nanguan", 404), ("changchun", 404), ("yanji", 200), ("province", 200), ("lab", 404)):
        client.force_login(users[username])
        assert client.get(reverse("credit:entity_credit", args=[yanji.pk])).status_code == code, username
    client.force_login(users["inspector"])
    html = client.get(reverse("credit:entity_credit", args=[scored["entity"].pk])).content.decode()
    assert "风险分类" not in html


def test_model_and_run_pages_for_officers_only(client, users, scored):
    urls = [reverse("credit:scoremodel_list"), reverse("credit:scoremodel_detail", args=[scored["model"].pk]),
            reverse("credit:scoringrun_list"), reverse("credit:scoringrun_detail", args=[scored["run"].pk])]
    client.force_login(users["changchun"])
    for url in urls:
        assert client.get(url).status_code == 200
    run_page = client.get(urls[3]).content.decode()
    assert f"<th>A</th><td>{scored['run'].grade_distribution['A']}</td>" in run_page
    for username in ("enterprise", "lab", "inspector"):
        client.force_login(users[username])
        for url in urls:
            assert client.get(url).status_code == 403, (username, url)
    client.force_login(users["changchun"])
    assert client.get(reverse("credit:scoremodel_new_version", args=[scored["model"].pk])).status_code == 403
    assert client.post(urls[1], {"step": "rescore"}).status_code == 403


def test_new_version_activate_and_rescore(client, users, scored):
    client.force_login(users["admin"])
    source = scored["model"]
    url = reverse("credit:scoremodel_new_version", args=[source.pk])
    form = client.get(url)
    assert form.status_code == 200 and "spot_check_unqualified" in form.content.decode()
    data = {"version": "p2", "description": "加重抽检不合格", "base_score": "100",
            "points": '{"spot_check_unqualified": -20, "award": 5}', "half_life_days": '{"*": 0}',
            "grade_thresholds": '[["AAA", 100], ["AA", 95], ["A", 90], ["B", 80], ["C", 60]]',
            "risk_thresholds": '[["A", 100], ["B", 90], ["C", 70]]'}
    refused = client.post(url, data)
    assert refused.status_code == 400 and "半衰期必须大于 0 天" in refused.content.decode()
    assert not ScoreModel.objects.filter(version="p2").exists()
    data["half_life_days"] = '{"*": 365}'
    response = client.post(url, data)
    draft = ScoreModel.objects.get(version="p2")
    assert response.status_code == 302 and draft.status == ScoreModel.Status.DRAFT
    assert draft.points == {"spot_check_unqualified": -20, "award": 5} and draft.grade_thresholds == source.grade_thresholds
    detail = reverse("credit:scoremodel_detail", args=[draft.pk])
    assert client.post(detail, {"step": "activate"}).status_code == 302
    draft.refresh_from_db()
    source.refresh_from_db()
    assert (draft.status, source.status) == (ScoreModel.Status.ACTIVE, ScoreModel.Status.RETIRED)
    response = client.post(detail, {"step": "rescore"})
    run = ScoringRun.objects.latest("id")
    assert response.status_code == 302 and response["Location"] == reverse("credit:scoringrun_detail", args=[run.pk])
    assert (run.model, run.kind, run.status) == (draft, ScoringRun.Kind.FULL, ScoringRun.Status.SUCCEEDED)
    assert EntityScore.objects.get(entity=scored["entity"]).model == draft
