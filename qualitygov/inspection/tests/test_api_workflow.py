"""The spot-check workflow through the open API (issue 3, items 2–8) and its two commands.

What machine clients rely on: each step answers 201/200 with the record as the services made it; a
refused step answers 400 in the one error shape with the service's code and Chinese reason and
writes nothing; scope is the user's region or entity; the public endpoints need no sign-in and show
only what is published; ``publish-spot-check-results`` publishes and feeds the credit ledger;
``rerun-draw`` reproduces a draw.
"""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from qualitygov.core.audit import acting_as
from qualitygov.core.tests.test_api_errors import error_of
from qualitygov.credit.models import CreditRecord
from qualitygov.inspection import followup, planning
from qualitygov.inspection.models import (
    CustodyEvent,
    InspectionPlan,
    InspectionTask,
    Objection,
    PlanQuota,
    RandomDraw,
    Sample,
    SampleAttachment,
    TestItem,
    TestReport,
)
from qualitygov.inspection.tests.fixtures import (
    TODAY,
    YEAR,
    first_item_of_class,
    report,
    results_for,
    take_sample,
    task_for_entity,
)

pytestmark = pytest.mark.django_db

BASE = "/api/v1/inspection"


def api(user) -> APIClient:
    """A client authenticated with ``user``'s API token, as machine clients are."""
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def items_payload(version, failing: tuple[str, ...] = ()) -> list[dict]:
    return [{"code": code, "value": result.value, "unit": result.unit, "verdict": result.verdict}
            for code, result in results_for(version, failing).items()]


def numeric_item(version) -> TestItem:
    return TestItem.objects.filter(version=version).exclude(limit_kind="text").order_by("sequence").first()


@pytest.fixture
def sampled(workflow):
    """A sample taken at a 朝阳区 cement maker, awaiting the first lab's results."""
    return take_sample(workflow, task_for_entity(workflow, workflow.chaoyang[0]))


@pytest.fixture
def unqualified_own(workflow):
    """The enterprise user's own entity sampled, found unqualified (a B item), and notified."""
    sample = take_sample(workflow, task_for_entity(workflow, workflow.own))
    report(workflow, sample, failing=(first_item_of_class(sample.rule_version, "B"),))
    response = api(workflow.users["province"]).post(f"{BASE}/samples/{sample.pk}/notify/", {"on": TODAY.isoformat()},
                                                     format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "notified"
    sample.refresh_from_db()
    return sample


# --- results ---------------------------------------------------------------------------------------

def test_a_lab_enters_results_through_the_api(workflow, sampled):
    lab = api(workflow.users["lab"])
    url = f"{BASE}/samples/{sampled.pk}/results/"
    version = sampled.rule_version
    good = items_payload(version)
    numeric = numeric_item(version)
    body = {"report_number": "JC-2026-0001", "tested_on": TODAY.isoformat()}

    def refused(payload, code, text, detail_key):
        error = error_of(lab.post(url, payload, format="json"), 400)
        assert error["code"] == code, error
        assert text in error["message"], error
        assert detail_key in error["details"], error
        return error

    missing = [item for item in good if item["code"] != good[0]["code"]]
    refused({**body, "items": missing}, "missing", "缺少检验项目", good[0]["code"])
    no_unit = [{**item, "unit": None} if item["code"] == numeric.code else item for item in good]
    refused({**body, "items": no_unit}, "missing_unit", "缺少单位", numeric.code)
    bad_unit = [{**item, "unit": "furlong"} if item["code"] == numeric.code else item for item in good]
    error = refused({**body, "items": bad_unit}, "unknown_unit", "不被接受", numeric.code)
    assert numeric.unit in error["details"][numeric.code][0]  # it says which units are accepted
    refused({**body, "rule_version": "1999版", "items": good}, "other_rule_version", "1999版", "rule_version")
    doubled = [*good, good[0]]
    refused({**body, "items": doubled}, "duplicate_item", "出现了两次", "items")
    unknown = lab.post(f"{BASE}/samples/results/", {**body, "sample_number": "CY1999000999", "items": good},
                       format="json")
    assert "CY1999000999 不存在" in error_of(unknown, 400)["message"]
    assert error_of(unknown, 400)["code"] == "unknown_sample"
    # Nothing was written by any refusal.
    assert not TestReport.objects.exists()
    sampled.refresh_from_db()
    assert (sampled.status, sampled.verdict) == (Sample.Status.SAMPLED, "")

    # The verdict is computed from the rule: an A item out of its limit → seriously unqualified.
    a_item = first_item_of_class(version, "A")
    response = lab.post(url, {**body, "items": items_payload(version, failing=(a_item,))}, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["verdict"] == "seriously_unqualified" and created["verdict_display"] == "严重不合格"
    assert [item["code"] for item in created["failing_items"]] == [a_item]
    assert len(created["items"]) == len(good)
    assert {item["code"]: item["verdict"] for item in created["items"]}[a_item] == "fail"
    assert created["lab"] == workflow.lab1.pk and created["entered_by"] == "lab"
    detail = lab.get(f"{BASE}/samples/{sampled.pk}/").json()
    assert detail["status"] == "reported" and detail["verdict"] == "seriously_unqualified"
    assert detail["reports"][0]["report_number"] == "JC-2026-0001"

    again = lab.post(url, {**body, "report_number": "JC-2026-0002", "items": good}, format="json")
    assert error_of(again, 400)["code"] == "duplicate_result"
    assert TestReport.objects.count() == 1
    # Another lab's staff cannot reach the sample at all.
    assert api(workflow.lab2_user).post(url, {**body, "items": good}, format="json").status_code == 404


def test_upload_with_a_bad_row_writes_nothing(workflow):
    made = [take_sample(workflow, task_for_entity(workflow, entity)) for entity in workflow.chaoyang[:2]]
    version = made[0].rule_version
    numeric = numeric_item(version)
    header = "抽样单编号,报告编号,检验完成日期,项目代码,实测值,单位,单项判定\n"

    def rows(sample, bad_unit=False):
        lines = []
        for code, item in results_for(version).items():
            unit = "furlong" if bad_unit and code == numeric.code else (item.unit or "")
            lines.append(f"{sample.number},RPT-{sample.number},{TODAY.isoformat()},{code},{item.value},{unit},"
                         f"{'合格' if item.verdict else ''}\n")
        return "".join(lines)

    lab = api(workflow.users["lab"])
    url = f"{BASE}/samples/results/upload/"

    def upload(text, dry_run=False):
        file = io.BytesIO(text.encode("utf-8-sig"))
        file.name = "results.csv"
        return lab.post(url, {"file": file, "dry_run": dry_run}, format="multipart")

    error = error_of(upload(header + rows(made[0]) + rows(made[1], bad_unit=True)), 400)
    assert error["code"] == "upload_refused" and "未写入" in error["message"]
    assert any(numeric.code in key and "furlong" in " ".join(reasons) for key, reasons in error["details"].items())
    assert not TestReport.objects.exists()

    good = header + rows(made[0]) + rows(made[1])
    checked = upload(good, dry_run=True)
    assert checked.status_code == 200 and checked.json()["ok"] and checked.json()["dry_run"]
    assert not TestReport.objects.exists()  # a dry run writes nothing
    stored = upload(good)
    assert stored.status_code == 200, stored.content
    assert sorted(stored.json()["reports"]) == sorted(f"RPT-{s.number}" for s in made)
    assert TestReport.objects.count() == 2
    assert set(Sample.objects.filter(pk__in=[s.pk for s in made]).values_list("status", flat=True)) == {"reported"}


# --- follow-up -------------------------------------------------------------------------------------

def test_objection_within_the_window_is_accepted_and_a_late_one_refused(workflow, unqualified_own):
    enterprise = api(workflow.users["enterprise"])
    sample = unqualified_own
    # Received long ago (recorded by the officer from the signed receipt): the window has closed.
    officer = api(workflow.users["province"])
    received = TODAY - dt.timedelta(days=40)
    Sample.objects.filter(pk=sample.pk).update(notified_on=received)
    response = officer.post(f"{BASE}/samples/{sample.pk}/receipt/", {"on": received.isoformat()}, format="json")
    assert response.status_code == 200 and response.json()["received_on"] == received.isoformat()
    deadline = followup.objection_deadline(Sample.objects.get(pk=sample.pk))
    assert response.json()["objection_deadline"] == deadline.isoformat()
    late = error_of(enterprise.post(f"{BASE}/samples/{sample.pk}/objection/", {"grounds": "检验方法有误"},
                                    format="json"), 400)
    assert late["code"] == "objection_late" and deadline.isoformat() in late["message"]
    assert "第十五条" in late["message"]
    assert not Objection.objects.exists()

    # Received today, confirmed by the enterprise itself: within the window.
    Sample.objects.filter(pk=sample.pk).update(received_on=None, notified_on=TODAY)
    response = enterprise.post(f"{BASE}/samples/{sample.pk}/receipt/", {"on": "2001-01-01"}, format="json")
    assert response.status_code == 200
    assert response.json()["received_on"] == TODAY.isoformat()  # an enterprise confirms on the day it clicks
    response = enterprise.post(f"{BASE}/samples/{sample.pk}/objection/", {"grounds": "检验方法有误"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "filed" and response.json()["filed_by"] == "enterprise"
    assert Sample.objects.get(pk=sample.pk).status == Sample.Status.OBJECTED
    again = enterprise.post(f"{BASE}/samples/{sample.pk}/objection/", {"grounds": "再次申请"}, format="json")
    assert error_of(again, 400)["code"] == "duplicate_objection"
    # An enterprise cannot decide on its own objection.
    objection = Objection.objects.get(sample=sample)
    assert enterprise.post(f"{BASE}/objections/{objection.pk}/accept/", {"lab": workflow.lab2.pk},
                           format="json").status_code == 403


def test_reinspection_by_another_lab_overturns_the_result(workflow, unqualified_own):
    sample = unqualified_own
    enterprise = api(workflow.users["enterprise"])
    assert enterprise.post(f"{BASE}/samples/{sample.pk}/receipt/", {}, format="json").status_code == 200
    filed = enterprise.post(f"{BASE}/samples/{sample.pk}/objection/", {"grounds": "样品保存不当"}, format="json")
    assert filed.status_code == 201
    objection_url = f"{BASE}/objections/{filed.json()['id']}"
    officer = api(workflow.users["province"])
    same = error_of(officer.post(f"{objection_url}/accept/", {"lab": workflow.lab1.pk}, format="json"), 400)
    assert same["code"] == "same_lab" and "reinspection_lab" in same["details"]
    accepted = officer.post(f"{objection_url}/accept/", {"lab": workflow.lab2.pk}, format="json")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"

    body = {"report_number": "FJ-0001", "tested_on": TODAY.isoformat(), "kind": "reinspection",
            "items": items_payload(sample.rule_version)}
    first_lab = api(workflow.users["lab"]).post(f"{BASE}/samples/{sample.pk}/results/", body, format="json")
    assert error_of(first_lab, 400)["code"] == "not_lab_staff"
    second_lab = api(workflow.lab2_user).post(f"{BASE}/samples/{sample.pk}/results/", body, format="json")
    assert second_lab.status_code == 201, second_lab.content
    assert second_lab.json()["verdict"] == "no_nonconformity" and second_lab.json()["kind"] == "reinspection"
    decided = officer.get(f"{objection_url}/").json()
    assert decided["status"] == "decided" and decided["decision"] == "overturned"
    detail = officer.get(f"{BASE}/samples/{sample.pk}/").json()
    assert detail["status"] == "final" and detail["verdict"] == "no_nonconformity"
    assert [r["kind"] for r in detail["reports"]] == ["initial", "reinspection"]


def test_publish_command_makes_results_public_and_records_credit(workflow, unqualified_own):
    # A refusal recorded through the API by the drawn inspectors.
    refusing_task = task_for_entity(workflow, workflow.chaoyang[1])
    inspector = api(workflow.users["inspector"])
    refusal = inspector.post(f"{BASE}/tasks/{refusing_task.pk}/refusal/",
                             {"sampled_on": TODAY.isoformat(), "reason": "企业负责人拒绝抽样并拒绝签字",
                              "inspectors": [user.pk for user in workflow.inspectors[:2]]}, format="json")
    assert refusal.status_code == 201, refusal.content
    assert refusal.json()["outcome"] == "refused" and refusal.json()["status"] == "final"
    # The unqualified result becomes final the day after its window closes.
    with acting_as(workflow.users["enterprise"]):
        followup.acknowledge_receipt(unqualified_own, user=workflow.users["enterprise"], on=TODAY)
    run_on = followup.objection_deadline(unqualified_own) + dt.timedelta(days=1)
    public = APIClient()
    assert public.get(f"{BASE}/public/results/").json()["count"] == 0

    out = io.StringIO()
    call_command("publish_spot_check_results", date=run_on.isoformat(), stdout=out)
    counts = json.loads(out.getvalue())
    assert counts == {"date": run_on.isoformat(), "overdue_rectifications": 0, "finalized": 1, "published": 2,
                      "credit_records": 2}
    kinds = dict(CreditRecord.objects.values_list("entity__uscc", "kind"))
    assert kinds == {workflow.own.uscc: "spot_check_unqualified", workflow.chaoyang[1].uscc: "refused_sampling"}
    listed = public.get(f"{BASE}/public/results/").json()
    assert listed["count"] == 2
    shown = {row["entity_uscc"]: row for row in listed["results"]}
    own = shown[workflow.own.uscc]
    b_item = TestItem.objects.get(version=unqualified_own.rule_version,
                                  code=first_item_of_class(unqualified_own.rule_version, "B"))
    assert own["verdict"] == "unqualified" and own["failing_items"] == [f"{b_item.name}（B类）"]
    assert own["plan"] == unqualified_own.plan.code and own["batch_number"] == "B20240601"
    assert own["published_on"] == run_on.isoformat() and own["entity_name"] == workflow.own.name
    assert shown[workflow.chaoyang[1].uscc]["outcome"] == "refused"

    # Run again: nothing more to publish, no second credit record.
    out = io.StringIO()
    call_command("publish_spot_check_results", date=run_on.isoformat(), stdout=out)
    assert json.loads(out.getvalue())["published"] == 0
    assert CreditRecord.objects.count() == 2

    # The statistics count the final result (the refusal apart from the pass rate).
    stats = api(workflow.users["province"]).get(f"{BASE}/statistics/", {"by": "county"}).json()
    rows = {row["county"]: row for row in stats["rows"]}
    assert (rows["220102"]["tested"], rows["220102"]["unqualified"]) == (1, 1)
    assert (rows["220104"]["tested"], rows["220104"]["refused"]) == (0, 1)
    bad = error_of(api(workflow.users["province"]).get(f"{BASE}/statistics/", {"by": "colour"}), 400)
    assert bad["code"] == "invalid_dimension"


def test_public_endpoints_need_no_sign_in_and_hide_what_is_unpublished(workflow, sampled, unqualified_own):
    public = APIClient()
    public.credentials(HTTP_AUTHORIZATION="Token 0000000000000000000000000000000000000000")  # a stale token
    assert public.get(f"{BASE}/public/results/").json()["count"] == 0
    assert public.get(f"{BASE}/public/results/{unqualified_own.number}/").status_code == 404
    assert public.get(f"{BASE}/samples/").status_code == 401  # the non-public endpoints do need a sign-in

    record = RandomDraw.objects.filter(kind="entities").order_by("id").first()
    assert public.get(f"{BASE}/public/draws/").json()["count"] == 0
    assert public.get(f"{BASE}/public/draws/{record.pk}/").status_code == 404
    published = api(workflow.users["province"]).post(f"{BASE}/draws/{record.pk}/publish/")
    assert published.status_code == 200 and published.json()["published"] is True
    again = api(workflow.users["province"]).post(f"{BASE}/draws/{record.pk}/publish/")
    assert error_of(again, 400)["code"] == "already_published"
    listed = public.get(f"{BASE}/public/draws/").json()
    assert [(row["id"], row["drawn_count"]) for row in listed["results"]] == [(record.pk, record.drawn_count)]
    assert "outputs" not in listed["results"][0]  # the list stays small; the detail has everything
    detail = public.get(f"{BASE}/public/draws/{record.pk}/").json()
    assert detail["seed"] == record.seed and detail["outputs"] == record.outputs


# --- scope -----------------------------------------------------------------------------------------

def test_county_officer_sees_only_the_county_and_the_enterprise_only_its_own(workflow, unqualified_own):
    in_yanji = take_sample(workflow, task_for_entity(workflow, workflow.yanji[0]))
    in_nanguan = take_sample(workflow, task_for_entity(workflow, workflow.nanguan[0]))
    county = api(workflow.users["nanguan"])
    created = county.post(f"{BASE}/plans/", {
        "title": "南关区水泥抽查", "period": "year", "year": YEAR, "starts_on": f"{YEAR}-01-01",
        "ends_on": f"{YEAR}-12-31", "budget_cny": "1000.00", "labs": [workflow.lab1.pk]}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["region"] == "220102" and created.json()["status"] == "draft"
    plans = county.get(f"{BASE}/plans/").json()
    assert [row["id"] for row in plans["results"]] == [created.json()["id"]]
    assert county.get(f"{BASE}/plans/{workflow.plan.pk}/").status_code == 404
    numbers = {row["number"] for row in county.get(f"{BASE}/samples/").json()["results"]}
    assert numbers == {unqualified_own.number, in_nanguan.number}
    assert county.get(f"{BASE}/samples/{in_yanji.pk}/").status_code == 404
    assert county.post(f"{BASE}/samples/{in_yanji.pk}/notify/", {}, format="json").status_code == 404

    enterprise = api(workflow.users["enterprise"])
    numbers = {row["number"] for row in enterprise.get(f"{BASE}/samples/").json()["results"]}
    assert numbers == {unqualified_own.number}
    assert enterprise.post(f"{BASE}/samples/{in_nanguan.pk}/objection/", {"grounds": "x"},
                           format="json").status_code == 404
    assert enterprise.get(f"{BASE}/plans/").status_code == 403  # plans are the regulators' own (PLAN_ROLE_ACTIONS)
    # An enterprise cannot enter results, nor notify itself.
    assert enterprise.post(f"{BASE}/samples/{unqualified_own.pk}/notify/", {}, format="json").status_code == 403


def test_plan_quota_approve_draw_and_sample_through_the_api(workflow, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    officer = api(workflow.users["changchun"])
    plan = officer.post(f"{BASE}/plans/", {
        "title": "长春市水泥抽查", "period": "year", "year": YEAR, "starts_on": f"{YEAR}-01-01",
        "ends_on": f"{YEAR}-12-31", "budget_cny": "5000", "labs": [workflow.lab1.pk]}, format="json").json()
    quota_body = {"category": "0601", "region": "220104", "batches": 4, "unit_cost_cny": "1500", "lab": workflow.lab1.pk}
    over = error_of(officer.post(f"{BASE}/plans/{plan['id']}/quotas/", quota_body, format="json"), 400)
    assert over["code"] == "over_budget" and "超出预算" in over["message"] and "1,000.00" in over["message"]
    assert not PlanQuota.objects.filter(plan_id=plan["id"]).exists()
    higher = error_of(officer.post(f"{BASE}/plans/{plan['id']}/quotas/", {**quota_body, "region": "220102",
                                                                          "batches": 1}, format="json"), 400)
    assert higher["code"] == "higher_level_checked" and "第十五条" in higher["message"]
    no_quotas = error_of(officer.post(f"{BASE}/plans/{plan['id']}/approve/"), 400)
    assert no_quotas["code"] == "no_quotas"
    quota = officer.post(f"{BASE}/plans/{plan['id']}/quotas/", {**quota_body, "batches": 3}, format="json")
    assert quota.status_code == 201 and quota.json()["planned_cost"] == "4500.00"
    approved = officer.post(f"{BASE}/plans/{plan['id']}/approve/")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert [q["id"] for q in approved.json()["quotas"]] == [quota.json()["id"]]
    assert InspectionPlan.objects.get(pk=plan["id"]).status == "approved"

    drawn = officer.post(f"{BASE}/quotas/{quota.json()['id']}/draw/", {"seed": 2026}, format="json")
    assert drawn.status_code == 201, drawn.content
    usccs = [item["uscc"] for item in drawn.json()["draw"]["outputs"]["items"]]
    assert [task["entity"] for task in drawn.json()["tasks"]] == usccs and len(usccs) == 3
    assert set(usccs) == {entity.uscc for entity in workflow.chaoyang}
    rerun = officer.post(f"{BASE}/draws/{drawn.json()['draw']['id']}/rerun/").json()
    assert rerun["identical"] and [item["uscc"] for item in rerun["items"]] == usccs
    inspectors = officer.post(f"{BASE}/quotas/{quota.json()['id']}/draw-inspectors/", {"seed": 1}, format="json")
    assert inspectors.status_code == 200 and inspectors.json()["drawn"] == 3
    assert all(len(task["inspectors"]) == 2 for task in inspectors.json()["tasks"])

    # An inspector records the sample; the task's drawn samplers are its samplers.
    task = InspectionTask.objects.filter(quota_id=quota.json()["id"]).order_by("draw_rank").first()
    version = task.quota.rule_version
    inspector = api(workflow.users["inspector"])
    sampled_on = max(dt.date(YEAR, 1, 1), TODAY - dt.timedelta(days=1))
    body = {"sampled_on": sampled_on.isoformat(), "product_name": "普通硅酸盐水泥", "batch_number": "B1",
            "test_quantity": version.test_sample_count, "spare_quantity": version.spare_sample_count - 1}
    short = error_of(inspector.post(f"{BASE}/tasks/{task.pk}/sample/", body, format="json"), 400)
    assert "spare_quantity" in short["details"] and not Sample.objects.exists()
    made = inspector.post(f"{BASE}/tasks/{task.pk}/sample/", {**body, "spare_quantity": version.spare_sample_count},
                          format="json")
    assert made.status_code == 201, made.content
    sample = made.json()
    assert {u["id"] for u in sample["inspectors"]} == set(task.inspectors.values_list("pk", flat=True))
    assert [(c["portion"], c["event"]) for c in sample["custody"]] == [("test", "sealed"), ("spare", "sealed")]
    assert error_of(inspector.post(f"{BASE}/tasks/{task.pk}/sample/", body, format="json"), 400)["code"] in {
        "duplicate_sample", "task_not_open"}

    # Sealed on site at noon of the sampling day (samples.record_sample); sent in the afternoon.
    sent_at = timezone.make_aware(dt.datetime.combine(sampled_on, dt.time(15)))
    sent = inspector.post(f"{BASE}/samples/{sample['id']}/custody/",
                          {"portion": "test", "event": "sent", "happened_at": sent_at.isoformat()}, format="json")
    assert sent.status_code == 201, sent.content
    assert sent.json()["by"] == "inspector"
    early = error_of(inspector.post(f"{BASE}/samples/{sample['id']}/custody/", {"portion": "spare",
                                                                                "event": "received"},
                                    format="json"), 400)
    assert early["code"] == "custody_order" and "寄送" in early["message"]
    assert CustodyEvent.objects.filter(sample_id=sample["id"]).count() == 3
    png = io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    png.name = "site.png"
    attached = inspector.post(f"{BASE}/samples/{sample['id']}/attachments/", {"kind": "photo", "file": png},
                              format="multipart")
    assert attached.status_code == 201, attached.content
    assert attached.json()["original_name"] == "site.png" and attached.json()["size"] == 72
    fake = io.BytesIO(b"not a pdf at all")
    fake.name = "slip.pdf"
    wrong = error_of(inspector.post(f"{BASE}/samples/{sample['id']}/attachments/",
                                    {"kind": "signed_slip", "file": fake}, format="multipart"), 400)
    assert wrong["code"] == "file_content" and "file" in wrong["details"]
    assert SampleAttachment.objects.filter(sample_id=sample["id"]).count() == 1
    detail = inspector.get(f"{BASE}/samples/{sample['id']}/").json()
    assert [a["kind"] for a in detail["attachments"]] == ["photo"] and "file" not in detail["attachments"][0]


def test_rerun_draw_command_reproduces_the_draw(workflow):
    record, _ = planning.draw_quota(workflow.quota, user=workflow.users["province"], seed=99)
    out = io.StringIO()
    call_command("rerun_draw", str(record.pk), stdout=out)
    answer = json.loads(out.getvalue())
    assert answer["identical"] is True and answer["differences"] == []
    assert answer["drawn"] == [item["uscc"] for item in record.outputs["items"]]

    # A record whose stored list was altered no longer re-runs to itself: exit status 1, and why.
    items = record.outputs["items"]
    RandomDraw.objects.filter(pk=record.pk).update(outputs={**record.outputs, "items": items[::-1]})
    out = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("rerun_draw", str(record.pk), stdout=out)
    assert exited.value.code == 1
    answer = json.loads(out.getvalue())
    assert answer["identical"] is False and any("顺序" in d or "摘要" in d for d in answer["differences"])


def test_rectification_report_and_recheck_through_the_api(workflow, unqualified_own):
    sample = unqualified_own
    followup.acknowledge_receipt(sample, user=workflow.users["enterprise"], on=TODAY)
    run_on = followup.objection_deadline(sample) + dt.timedelta(days=1)
    call_command("publish_spot_check_results", date=run_on.isoformat(), stdout=io.StringIO())
    county, enterprise = api(workflow.users["nanguan"]), api(workflow.users["enterprise"])
    notice = error_of(api(workflow.users["province"]).post(
        f"{BASE}/samples/{sample.pk}/escalate/", {"action": "public_notice", "decision_number": "吉市监告〔2026〕1号"},
        format="json"), 400)
    assert notice["code"] == "no_failed_rectification"
    assert enterprise.post(f"{BASE}/samples/{sample.pk}/rectification/", {"deadline": "2099-01-01"},
                           format="json").status_code == 403
    ordered = county.post(f"{BASE}/samples/{sample.pk}/rectification/",
                          {"deadline": (TODAY + dt.timedelta(days=30)).isoformat()}, format="json")
    assert ordered.status_code == 201, ordered.content
    url = f"{BASE}/rectifications/{ordered.json()['id']}"
    empty = error_of(enterprise.post(f"{url}/report/", {"report": "  "}, format="json"), 400)
    assert empty["code"] == "report" and "entity_report" in empty["details"]
    reported = enterprise.post(f"{url}/report/", {"report": "更换原料供应商并加严出厂检验"}, format="json")
    assert reported.status_code == 200 and reported.json()["status"] == "reported"
    assert enterprise.post(f"{url}/recheck/", {"passed": True}, format="json").status_code == 403
    rechecked = county.post(f"{url}/recheck/", {"passed": True, "note": "复查合格"}, format="json")
    assert rechecked.status_code == 200 and rechecked.json()["status"] == "passed"
    assert rechecked.json()["rechecked_by"] == "nanguan"
    detail = enterprise.get(f"{BASE}/samples/{sample.pk}/").json()
    assert [r["status"] for r in detail["rectifications"]] == ["passed"]


def test_labs_and_rules_are_read_only_reference(workflow):
    officer = api(workflow.users["nanguan"])
    labs = officer.get(f"{BASE}/labs/").json()
    assert {row["name"] for row in labs["results"]} == {workflow.lab1.name, workflow.lab2.name}
    assert officer.post(f"{BASE}/labs/", {"name": "x"}, format="json").status_code == 403
    assert api(workflow.users["province"]).post(f"{BASE}/labs/", {"name": "x"}, format="json").status_code == 405
    version = workflow.version
    rules = officer.get(f"{BASE}/rules/", {"category": "0601"}).json()
    assert [row["id"] for row in rules["results"]] == [version.rule_id]
    detail = officer.get(f"{BASE}/rules/{version.rule_id}/").json()
    shown = {v["label"]: v for v in detail["versions"]}[version.label]
    assert [item["code"] for item in shown["items"]] == list(
        TestItem.objects.filter(version=version).order_by("sequence").values_list("code", flat=True))
    assert shown["used"] is True


def test_refusals_keep_the_code_of_per_field_errors(workflow):
    """A service refusal given per field (``PlanRefused({"quarter": …}, code="quarter")``) keeps its code."""
    county = api(workflow.users["nanguan"])
    error = error_of(county.post(f"{BASE}/plans/", {
        "title": "x", "period": "quarter", "year": YEAR, "starts_on": f"{YEAR}-01-01",
        "ends_on": f"{YEAR}-03-31", "budget_cny": "1"}, format="json"), 400)
    assert error["code"] == "quarter" and "quarter" in error["details"] and "季度" in error["message"]
    assert not InspectionPlan.objects.filter(title="x").exists()
    shape = error_of(county.post(f"{BASE}/plans/", {"title": "x"}, format="json"), 400)
    assert shape["code"] == "invalid" and "period" in shape["details"]


def test_public_results_are_throttled_only_when_a_rate_is_configured(db, settings):
    from django.core.cache import cache

    client = APIClient()
    cache.clear()
    assert {client.get(f"{BASE}/public/results/").status_code for _ in range(5)} == {200}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"public": "2/min"}}
    try:
        codes = [client.get(f"{BASE}/public/results/").status_code for _ in range(2)]
        assert codes == [200, 200]
        assert error_of(client.get(f"{BASE}/public/draws/"), 429)["code"] == "throttled"
    finally:
        cache.clear()
