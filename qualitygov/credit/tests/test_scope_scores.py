"""Roles × endpoints of the credit scores API (issue 4, items 2-3)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.urls import reverse

from qualitygov.credit import scoring
from qualitygov.credit.models import CreditAccessLog, EntityScore, ScoreModel, ScoringRun
from qualitygov.credit.services import SourceRef, record_fact

pytestmark = [pytest.mark.django_db]

API_EXPECTATIONS = {
    "api:credit-api:entityscore-list": "scores in scope only (county/city/province/enterprise own entity); "
                                       "risk_class for officers only; grade and region filters",
    "api:credit-api:entityscore-detail": "404 outside scope; no risk_class for enterprise; read logged for officers",
    "api:credit-api:entityscore-explain": "explanation sums to the stored score; no risk class for enterprise",
    "api:credit-api:scoremodel-list": "officers read; enterprise, lab, inspector, data consumer 403",
    "api:credit-api:scoremodel-detail": "PATCH of a used model → 400 model_used; only province admin writes",
    "api:credit-api:scoremodel-activate": "province admin activates a draft; officer 403",
    "api:credit-api:scoringrun-list": "officers read runs; POST full rescoring by province admin only",
    "api:credit-api:scoringrun-detail": "officers read a run with its distributions; enterprise 403",
}

AS_OF = dt.date(2025, 6, 1)


@pytest.fixture
def scored(registry, settings):
    settings.CREDIT_RESCORE_ON_WRITE = False
    model = ScoreModel.objects.create(
        version="s1", base_score=Decimal("100"), points={"spot_check_unqualified": -10}, half_life_days={"*": 365},
        grade_thresholds=[["AAA", 100], ["AA", 95], ["A", 90], ["B", 80], ["C", 60]],
        risk_thresholds=[["A", 100], ["B", 90], ["C", 70]])
    scoring.activate_model(model)
    record_fact(entity=registry["nanguan"]["entity"], kind="spot_check_unqualified", occurred_on=dt.date(2025, 1, 1),
                summary="抽检不合格", source=SourceRef("test", "scope", "1"))
    run = scoring.full_rescore(as_of=AS_OF)
    return {"model": model, "run": run, **{key: EntityScore.objects.get(entity=registry[key]["entity"])
                                           for key in ("nanguan", "chaoyang", "yanji")}}


def api(client, users, username, method, url, data=None):
    client.force_login(users[username])
    if method == "get":
        return client.get(url, data or {})
    return getattr(client, method)(url, json.dumps(data or {}), content_type="application/json")


def ids(response):
    return {row["id"] for row in response.json()["results"]}


@pytest.mark.parametrize(("username", "visible"), [
    ("admin", {"nanguan", "chaoyang", "yanji"}), ("province", {"nanguan", "chaoyang", "yanji"}),
    ("changchun", {"nanguan", "chaoyang"}), ("nanguan", {"nanguan"}), ("yanji", {"yanji"}),
    ("enterprise", {"nanguan"}), ("lab", set()), ("inspector", None), ("consumer", None)])
def test_score_list_is_scoped(client, users, scored, username, visible):
    response = api(client, users, username, "get", reverse("api:credit-api:entityscore-list"))
    assert response.status_code == 200
    got = ids(response)
    if visible is not None:
        assert got == {scored[key].pk for key in visible}
    else:  # regional roles: their own region's entities only
        prefix = users[username].region_prefix
        expected = {s.pk for s in EntityScore.objects.select_related("entity")
                    if prefix is None or s.entity.region_id.startswith(prefix)}
        assert got == expected


def test_risk_class_for_officers_only(client, users, scored):
    url = reverse("api:credit-api:entityscore-detail", args=[scored["nanguan"].pk])
    officer = api(client, users, "nanguan", "get", url).json()
    assert officer["risk_class"] == scored["nanguan"].risk_class and officer["grade"] == "A"
    for username in ("enterprise", "inspector"):
        body = api(client, users, username, "get", url)
        assert body.status_code == 200 and "risk_class" not in body.json()
    explain = reverse("api:credit-api:entityscore-explain", args=[scored["nanguan"].pk])
    body = api(client, users, "enterprise", "get", explain).json()
    assert "risk_class" not in body and "risk_class" not in body["stored"]
    assert body["score"] == body["stored"]["score"] == str(scored["nanguan"].score)
    assert "risk_class" in api(client, users, "province", "get", explain).json()
    # officers' reads are logged; the entity's own are not
    logged = CreditAccessLog.objects.filter(entity=scored["nanguan"].entity)
    assert set(logged.values_list("channel", flat=True)) == {CreditAccessLog.Channel.OFFICER}
    assert not logged.filter(user=users["enterprise"]).exists()


def test_score_detail_outside_scope_is_404(client, users, scored):
    url = reverse("api:credit-api:entityscore-detail", args=[scored["yanji"].pk])
    for username in ("nanguan", "changchun", "enterprise", "lab"):
        assert api(client, users, username, "get", url).status_code == 404
    assert api(client, users, "yanji", "get", url).status_code == 200


def test_score_filters(client, users, scored):
    url = reverse("api:credit-api:entityscore-list")
    assert ids(api(client, users, "admin", "get", url, {"grade": "A"})) == {scored["nanguan"].pk}
    assert ids(api(client, users, "admin", "get", url, {"region": "220100"})) == {scored["nanguan"].pk,
                                                                               scored["chaoyang"].pk}


@pytest.mark.parametrize(("username", "code"), [
    ("admin", 200), ("province", 200), ("changchun", 200), ("nanguan", 200), ("inspector", 403), ("lab", 403),
    ("enterprise", 403), ("consumer", 403)])
def test_models_and_runs_are_for_officers(client, users, scored, username, code):
    for name, pk in (("scoremodel", scored["model"].pk), ("scoringrun", scored["run"].pk)):
        assert api(client, users, username, "get", reverse(f"api:credit-api:{name}-list")).status_code == code
        assert api(client, users, username, "get", reverse(f"api:credit-api:{name}-detail", args=[pk])).status_code \
            == code


def test_model_versions_and_rescoring_by_the_province_admin(client, users, scored):
    model = scored["model"]
    detail = reverse("api:credit-api:scoremodel-detail", args=[model.pk])
    refused = api(client, users, "admin", "patch", detail, {"points": {"spot_check_unqualified": -30}})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "model_used"
    model.refresh_from_db()
    assert model.points == {"spot_check_unqualified": -10}
    create = reverse("api:credit-api:scoremodel-list")
    data = {"from_model": model.pk, "version": "s2", "points": {"spot_check_unqualified": -30}}
    assert api(client, users, "province", "post", create, data).status_code == 403
    bad = api(client, users, "admin", "post", create, {**data, "half_life_days": {"*": 0}})
    assert bad.status_code == 400 and not ScoreModel.objects.filter(version="s2").exists()
    made = api(client, users, "admin", "post", create, data)
    assert made.status_code == 201 and made.json()["status"] == "draft"
    assert made.json()["grade_thresholds"] == model.grade_thresholds
    draft = ScoreModel.objects.get(version="s2")
    activate = reverse("api:credit-api:scoremodel-activate", args=[draft.pk])
    assert api(client, users, "province", "post", activate).status_code == 403
    assert api(client, users, "admin", "post", activate).json()["status"] == "active"
    runs = reverse("api:credit-api:scoringrun-list")
    assert api(client, users, "nanguan", "post", runs, {"as_of": "2025-06-01"}).status_code == 403
    started = api(client, users, "admin", "post", runs, {"as_of": "2025-06-01"})
    assert started.status_code == 201 and started.json()["model_version"] == "s2"
    rescored = EntityScore.objects.get(entity=scored["nanguan"].entity_id)
    # −30 × 0.5^(151/365) instead of −10 × …: three times the deduction of the old version
    assert abs((100 - rescored.score) - 3 * (100 - scored["nanguan"].score)) <= Decimal("0.02")
    assert rescored.model.version == "s2" and Decimal(scoring.explain(rescored.entity_id)["score"]) == rescored.score
    assert ScoringRun.objects.get(pk=scored["run"].pk).model == model  # the old run keeps its model
