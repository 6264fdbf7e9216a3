"""The public portal of spot checks: only published results and published draws, without signing in."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from django.urls import reverse

from qualitygov.core.audit import acting_as
from qualitygov.inspection import draw, followup, planning, publication
from qualitygov.inspection.models import RandomDraw
from qualitygov.inspection.tests.fixtures import (
    TODAY,
    YEAR,
    first_item_of_class,
    report,
    take_sample,
    task_for_entity,
)

pytestmark = pytest.mark.django_db

LIST = "/public/spot-checks/"


def page(response) -> str:
    return response.content.decode()


@pytest.fixture
def published(workflow):
    """Three samples: 南关区 unqualified and 延吉市 without nonconformity (both published), and one in
    朝阳区 reported but not yet notified (not published)."""
    province = workflow.users["province"]
    made = {}
    for key, entity, failing in (("nanguan", workflow.own, "B"), ("yanji", workflow.yanji[0], None),
                                 ("pending", workflow.chaoyang[0], None)):
        sample = take_sample(workflow, task_for_entity(workflow, entity))
        codes = (first_item_of_class(sample.rule_version, failing),) if failing else ()
        report(workflow, sample, failing=codes)
        sample.refresh_from_db()
        if key != "pending":
            followup.notify_result(sample, user=province, on=TODAY - dt.timedelta(days=40))
            followup.acknowledge_receipt(sample, user=province, on=TODAY - dt.timedelta(days=40))
        made[key] = sample
    summary = publication.publish_due(TODAY)
    assert summary["published"] == 2
    for sample in made.values():
        sample.refresh_from_db()
    return made


def test_published_results_are_listed_without_signing_in_and_others_are_not(published, client):
    response = client.get(LIST)
    assert response.status_code == 200
    body = page(response)
    nanguan, yanji, pending = published["nanguan"], published["yanji"], published["pending"]
    assert nanguan.number in body and yanji.number in body and pending.number not in body
    failing_name = nanguan.failing_items[0]["name"]
    assert nanguan.entity.name in body and failing_name in body and nanguan.batch_number in body
    assert TODAY.strftime("%Y-%m-%d") in body
    # No back-office navigation on the public portal.
    assert "审计日志" not in body and "退出登录" not in body

    detail = client.get(reverse("public-inspection:result_detail", args=[nanguan.number]))
    assert detail.status_code == 200
    shown = page(detail)
    assert "不合格" in shown and failing_name in shown
    assert "≤" in shown or "≥" in shown  # the requirement the failing value broke
    assert client.get(reverse("public-inspection:result_detail", args=[pending.number])).status_code == 404
    assert client.get(reverse("public-inspection:result_detail", args=["CY1999000001"])).status_code == 404


def test_public_filters(published, client):
    nanguan, yanji = published["nanguan"], published["yanji"]

    def listed(**query):
        return page(client.get(LIST, query))

    body = listed(verdict="unqualified")
    assert nanguan.number in body and yanji.number not in body
    body = listed(city="222400")  # 延边州
    assert yanji.number in body and nanguan.number not in body
    body = listed(q=nanguan.entity.uscc)
    assert nanguan.number in body and yanji.number not in body
    body = listed(q="吉林测试水泥有限公司301")
    assert yanji.number in body and nanguan.number not in body
    body = listed(year=str(YEAR), category="0601")
    assert nanguan.number in body and yanji.number in body
    assert nanguan.number not in listed(year=str(YEAR - 1))
    assert yanji.number in listed(plan=yanji.plan.code) and nanguan.number not in listed(plan=yanji.plan.code)
    # htmx asks for the table only.
    partial = client.get(LIST, {"verdict": "no_nonconformity"}, headers={"HX-Request": "true"})
    assert yanji.number in page(partial) and "<html" not in page(partial)


def test_public_list_pages(published, client, monkeypatch):
    from qualitygov.inspection import views_public

    monkeypatch.setattr(views_public, "PUBLIC_PAGE_SIZE", 1)
    first, second = page(client.get(LIST)), page(client.get(LIST, {"page": 2}))
    numbers = {published["nanguan"].number, published["yanji"].number}
    assert sum(number in first for number in numbers) == 1 and sum(number in second for number in numbers) == 1
    assert "第 1 / 2 页" in first


def test_published_draws_show_enough_to_rerun_and_unpublished_are_hidden(workflow, client):
    province = workflow.users["province"]
    with acting_as(province):
        record, _tasks = planning.draw_quota(workflow.quota, user=province, seed=20261201)
    RandomDraw.objects.filter(pk=record.pk).update(published=True)

    listing = page(client.get(reverse("public-inspection:draw_list")))
    assert str(record.seed) in listing and reverse("public-inspection:draw_detail", args=[record.pk]) in listing
    detail = page(client.get(reverse("public-inspection:draw_detail", args=[record.pk])))
    assert str(record.seed) in detail and record.candidate_digest in detail and record.outputs_digest in detail
    for item in record.outputs["items"]:
        assert item["uscc"] in detail

    download = client.get(reverse("public-inspection:draw_detail", args=[record.pk]), {"format": "json"})
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    data = json.loads(download.content)
    assert data["seed"] == record.seed and data["algorithm"] == draw.ALGORITHM_VERSION
    # The published outputs match their published digest (canonical JSON, SHA-256) ...
    canonical = json.dumps(data["outputs"], ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert hashlib.sha256(canonical.encode("utf-8")).hexdigest() == data["outputs_digest"]
    # ... and the published inputs re-run to the same list.
    rerun = draw.draw_entities(seed=data["seed"], count=data["inputs"]["count"],
                               categories=data["inputs"]["categories"], region_prefix=data["inputs"]["region_prefix"],
                               statuses=data["inputs"]["statuses"], class_ratios=data["inputs"]["class_ratios"],
                               exclude_entity_ids=data["inputs"]["exclude_entity_ids"],
                               exclude_sampled_since=dt.date.fromisoformat(data["inputs"]["exclude_sampled_since"]))
    assert rerun.usccs == [item["uscc"] for item in data["outputs"]["items"]]
    assert rerun.candidate_digest == data["candidate_digest"]

    RandomDraw.objects.filter(pk=record.pk).update(published=False)
    assert client.get(reverse("public-inspection:draw_detail", args=[record.pk])).status_code == 404
    assert client.get(reverse("public-inspection:draw_detail", args=[record.pk]),
                      {"format": "json"}).status_code == 404
    assert str(record.seed) not in page(client.get(reverse("public-inspection:draw_list")))
