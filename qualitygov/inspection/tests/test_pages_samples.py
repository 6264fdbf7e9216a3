"""Sampling, results and follow-up pages, used through the test client as each role would use them.

The rules themselves are the services' (test_workflow.py); these tests check that the pages call
them, show their Chinese refusals with nothing written, and only show each role its own rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from qualitygov.core.audit import acting_as
from qualitygov.core.roles import Role
from qualitygov.inspection import followup, planning, publication
from qualitygov.inspection.models import (
    CustodyEvent,
    Enforcement,
    InspectionTask,
    Objection,
    Rectification,
    Sample,
    SampleAttachment,
    TestReport,
    Verdict,
)
from qualitygov.inspection.tests.fixtures import (
    TODAY,
    first_item_of_class,
    make_user,
    report,
    results_for,
    take_sample,
    task_for_entity,
)

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def detail_url(sample) -> str:
    return reverse("inspection:sample_detail", args=[sample.pk])


def action_url(sample, action: str) -> str:
    return reverse("inspection:sample_action", args=[sample.pk, action])


def page(response) -> str:
    return response.content.decode()


def drawn_tasks(workflow, seed=5) -> list[InspectionTask]:
    """The workflow quota (3 batches of cement in 南关区, production stage) drawn into tasks."""
    province = workflow.users["province"]
    with acting_as(province):
        planning.draw_quota(workflow.quota, user=province, seed=seed)
    return list(InspectionTask.objects.filter(quota=workflow.quota).order_by("draw_rank"))


def sample_form(task, inspectors, **overrides) -> dict:
    version = task.quota.rule_version
    data = {"task": task.pk, "sampled_on": TODAY.isoformat(), "inspectors": [user.pk for user in inspectors],
            "product_name": "普通硅酸盐水泥", "brand": "测试", "specification": "P·O 42.5", "batch_number": "B20261101",
            "production_date": (TODAY - dt.timedelta(days=3)).isoformat(), "lot_size": "500",
            "test_quantity": str(version.test_sample_count), "spare_quantity": str(version.spare_sample_count),
            "sample_unit": "kg", "sample_cost_cny": "86.00", "cost_paid_on": TODAY.isoformat(), "place": "成品库",
            "seal_number": "FT-0001"}
    data.update(overrides)
    return data


def result_form(sample, items, *, number="R-1", tested_on=None, rule_version=None) -> dict:
    data = {"report_number": number, "tested_on": (tested_on or TODAY).isoformat(),
            "rule_version": rule_version or sample.rule_version.label}
    for code, item in items.items():
        data[f"value_{code}"] = item.value or ""
        data[f"unit_{code}"] = item.unit or ""
        data[f"verdict_{code}"] = item.verdict or ""
    return data


# --- recording samples ------------------------------------------------------------------------------

def test_inspector_records_a_sample_with_two_samplers_never_a_tester(workflow, login):
    task = drawn_tasks(workflow)[0]
    province = workflow.users["province"]
    with acting_as(province):
        planning.draw_task_inspectors(task, user=province, seed=11)
    drawn = list(task.inspectors.all())
    client = login("inspector")
    url = reverse("inspection:sample_add") + f"?task={task.pk}"

    form = client.get(url)
    assert form.status_code == 200
    body = page(form)
    assert task.entity.name in body
    for user in drawn:  # the drawn samplers are the default choice
        assert f'value="{user.pk}" selected' in body
    assert f'name="test_quantity" value="{task.quota.rule_version.test_sample_count}"' in body

    one = client.post(url, sample_form(task, [workflow.inspectors[0]]))
    assert one.status_code == 400 and "抽样人员不得少于两名。" in page(one)

    tester = make_user("insp_tester", Role.INSPECTOR, "220105")
    workflow.lab1.staff.add(tester)
    both = client.post(url, sample_form(task, [workflow.inspectors[0], tester]))
    assert both.status_code == 400
    assert "是承检机构的检验人员：抽样与检验不得由同一人员承担。" in page(both)
    assert not Sample.objects.exists()

    done = client.post(url, sample_form(task, drawn))
    sample = Sample.objects.get(task=task)
    assert done.status_code == 302 and done["Location"] == detail_url(sample)
    assert set(sample.inspectors.all()) == set(drawn) and sample.product_name == "普通硅酸盐水泥"
    assert list(sample.custody.values_list("portion", "event")) == [("test", "sealed"), ("spare", "sealed")]
    shown = page(client.get(done["Location"]))
    assert sample.number in shown and f"已录入抽样单 {sample.number}" in shown
    again = client.post(url, sample_form(task, drawn))
    assert again.status_code == 400 and f"该任务已有抽样单 {sample.number}，不能重复录入。" in page(again)


def test_refusal_needs_the_circumstances_and_is_final(workflow, login):
    task = drawn_tasks(workflow)[0]
    client = login("inspector")
    url = reverse("inspection:sample_refusal_add") + f"?task={task.pk}"
    base = {"task": task.pk, "sampled_on": TODAY.isoformat(), "inspectors": [u.pk for u in workflow.inspectors[:2]]}
    empty = client.post(url, {**base, "reason": "  "})
    assert empty.status_code == 400 and "请写明拒检情况" in page(empty)
    done = client.post(url, {**base, "reason": "企业负责人拒绝抽样并拒绝签字"})
    assert done.status_code == 302
    sample = Sample.objects.get(task=task)
    assert (sample.outcome, sample.status) == (Sample.Outcome.REFUSED, Sample.Status.FINAL)
    shown = page(client.get(done["Location"]))
    assert "企业负责人拒绝抽样并拒绝签字" in shown and "样品流转" not in shown
    assert 'name="attach-file"' in shown  # the refusal record (拒检笔录) is attached here
    # Labs do not record samples.
    assert login("lab").get(url).status_code == 403


def test_task_picker_lists_open_tasks_only(workflow, login):
    tasks = drawn_tasks(workflow)
    take_sample(workflow, tasks[0])
    body = page(login("inspector").get(reverse("inspection:sample_add")))
    assert f"?task={tasks[1].pk}" in body and f"?task={tasks[0].pk}" not in body


def test_custody_steps_move_forward_one_at_a_time(workflow, login):
    sample = take_sample(workflow, drawn_tasks(workflow)[0])
    client = login("inspector")
    skipped = client.post(action_url(sample, "custody_test"), {"custody_test-portion": "test",
                                                               "custody_test-event": "received"})
    assert skipped.status_code == 400
    assert "流转环节须依次登记：下一环节应为“寄送”。" in page(skipped)
    assert sample.custody.count() == 2
    sent = client.post(action_url(sample, "custody_test"), {"custody_test-portion": "test",
                                                            "custody_test-event": "sent",
                                                            "custody_test-location": "长春"})
    assert sent.status_code == 302
    received = login("lab").post(action_url(sample, "custody_test"), {"custody_test-portion": "test",
                                                                      "custody_test-event": "received"})
    assert received.status_code == 302
    assert list(sample.custody.filter(portion="test").values_list("event", flat=True)) == ["sealed", "sent",
                                                                                          "received"]
    assert list(sample.custody.filter(portion="spare").values_list("event", flat=True)) == ["sealed"]
    early = login("lab").post(action_url(sample, "custody_test"), {"custody_test-portion": "test",
                                                                   "custody_test-event": "returned"})
    assert early.status_code == 400 and "检验结果确定前不能退还样品。" in page(early)
    # The enterprise sees its custody record but cannot add to it.
    assert login("enterprise").post(action_url(sample, "custody_spare"), {"custody_spare-portion": "spare",
                                                                          "custody_spare-event": "sent"}).status_code == 404


def test_attachments_are_served_only_to_those_who_see_the_sample(workflow, login, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    own_task = task_for_entity(workflow, workflow.own)
    sample = take_sample(workflow, own_task)
    client = login("inspector")
    bad = client.post(action_url(sample, "attach"), {"attach-kind": "photo",
                                                     "attach-file": _upload("photo.png", b"GIF89a-not-a-png")})
    assert bad.status_code == 400 and "内容与扩展名不符" in page(bad)
    done = client.post(action_url(sample, "attach"), {"attach-kind": "photo", "attach-file": _upload("现场.png", PNG)})
    assert done.status_code == 302
    attachment = SampleAttachment.objects.get(sample=sample)
    url = reverse("inspection:sample_attachment", args=[attachment.pk])
    assert url in page(client.get(detail_url(sample)))
    served = login("enterprise").get(url)  # the sampled entity's own user
    assert served.status_code == 200 and b"".join(served.streaming_content) == PNG
    assert served["Content-Type"] == "image/png" and served["X-Content-Type-Options"] == "nosniff"
    assert login("yanji").get(url).status_code == 404  # another county
    client.logout()
    assert client.get(url).status_code == 302  # anonymous: to the login page, never the file


def _upload(name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


# --- results ----------------------------------------------------------------------------------------

def test_lab_enters_results_refused_item_by_item_then_judged(workflow, login):
    sample = take_sample(workflow, drawn_tasks(workflow)[0])
    version = sample.rule_version
    good = results_for(version)
    url = reverse("inspection:result_add", args=[sample.pk])
    assert login("inspector").get(url).status_code == 403
    client = login("lab")
    form = client.get(url)
    assert form.status_code == 200
    assert all(f'name="value_{code}"' in page(form) for code in good)

    missing = dict(good)
    missing.pop("10")
    refused = client.post(url, result_form(sample, missing))
    assert refused.status_code == 400 and "缺少检验项目“水溶性铬（Ⅵ）”的结果。" in page(refused)
    no_unit = {**good, "01": good["01"].__class__(good["01"].value, None)}
    refused = client.post(url, result_form(sample, no_unit))
    assert refused.status_code == 400
    assert "“3d 抗压强度（P·O 42.5）”的数值结果缺少单位（应为 MPa）。" in page(refused)
    assert 'data-item="01"' in page(refused)  # shown on the item's own row
    refused = client.post(url, result_form(sample, good, rule_version="2023版"))
    assert refused.status_code == 400
    assert f"结果按细则版本“2023版”填写，但抽样单 {sample.number} 适用版本“2024版”。" in page(refused)
    assert not TestReport.objects.exists()
    sample.refresh_from_db()
    assert sample.verdict == "" and sample.status == Sample.Status.SAMPLED

    b_item = first_item_of_class(version, "B")
    done = client.post(url, result_form(sample, results_for(version, failing=(b_item,))))
    assert done.status_code == 302
    sample.refresh_from_db()
    assert sample.verdict == Verdict.UNQUALIFIED and sample.status == Sample.Status.REPORTED
    shown = page(client.get(detail_url(sample)))
    assert "判定结论：<strong class=\"qg-report-verdict\">不合格</strong>" in shown
    assert shown.count("table-danger") == 1  # the one failing item's row

    duplicate = client.post(url, result_form(sample, good, number="R-2"))
    assert duplicate.status_code == 400 and f"抽样单 {sample.number} 已有初检报告，不能重复录入。" in page(duplicate)
    assert TestReport.objects.count() == 1


def _csv(samples_, version, *, bad_unit_for=None) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["抽样单编号", "报告编号", "检验完成日期", "项目代码", "实测值", "单位", "单项判定"])
    for sample in samples_:
        for code, item in results_for(version).items():
            unit = "kg" if (sample == bad_unit_for and code == "01") else (item.unit or "")
            writer.writerow([sample.number, f"RPT-{sample.number}", TODAY.isoformat(), code, item.value, unit,
                             "合格" if item.verdict else ""])
    return buffer.getvalue().encode("utf-8-sig")


def test_upload_with_one_bad_row_writes_nothing_and_the_fixed_file_writes_all(workflow, login):
    tasks = drawn_tasks(workflow)
    made = [take_sample(workflow, task) for task in tasks[:2]]
    version = made[0].rule_version
    client = login("lab")
    url = reverse("inspection:result_upload")

    template = client.get(reverse("inspection:result_upload_template") + f"?sample={made[0].number}")
    rows = list(csv.reader(io.StringIO(template.content.decode("utf-8-sig"))))
    assert rows[0] == ["抽样单编号", "报告编号", "检验完成日期", "项目代码", "实测值", "单位", "单项判定"]
    assert [row[3] for row in rows[1:]] == list(results_for(version)) and rows[1][5] == "MPa"

    bad = _upload("results.csv", _csv(made, version, bad_unit_for=made[1]))
    refused = client.post(url, {"file": bad})
    assert refused.status_code == 400
    body = page(refused)
    assert "未写入任何报告" in body and "的单位“kg”不被接受" in body and made[1].number in body
    assert not TestReport.objects.exists()

    checked = client.post(url, {"file": _upload("results.csv", _csv(made, version)), "dry_run": "on"})
    assert checked.status_code == 200 and "校验通过：2 份报告可以导入（未写入）。" in page(checked)
    assert not TestReport.objects.exists()

    done = client.post(url, {"file": _upload("results.csv", _csv(made, version))})
    assert done.status_code == 302
    assert set(TestReport.objects.values_list("report_number", flat=True)) == {f"RPT-{s.number}" for s in made}
    assert "已导入 2 份检验报告" in page(client.get(done["Location"]))
    assert login("inspector").get(url).status_code == 403


# --- follow-up ----------------------------------------------------------------------------------------

@pytest.fixture
def reported_own(workflow):
    """The enterprise user's own entity sampled and found unqualified (a B item); not yet notified."""
    sample = take_sample(workflow, task_for_entity(workflow, workflow.own))
    report(workflow, sample, failing=(first_item_of_class(sample.rule_version, "B"),))
    sample.refresh_from_db()
    return sample


def test_notice_receipt_objection_and_reinspection_by_another_lab(workflow, reported_own, login):
    sample = reported_own
    officer = login("nanguan")
    assert officer.post(action_url(sample, "notify"), {"notify-on": TODAY.isoformat()}).status_code == 302
    sample.refresh_from_db()
    assert sample.status == Sample.Status.NOTIFIED and sample.notified_on == TODAY

    enterprise = login("enterprise")
    shown = page(enterprise.get(detail_url(sample)))
    assert "确认收到" in shown and "申请复检" not in shown
    assert enterprise.post(action_url(sample, "confirm_receipt")).status_code == 302
    sample.refresh_from_db()
    assert sample.received_on == TODAY
    deadline = followup.objection_deadline(sample)
    shown = page(enterprise.get(detail_url(sample)))
    assert deadline.strftime("%Y-%m-%d") in shown and "申请复检" in shown
    # The enterprise cannot decide its own objection.
    assert enterprise.post(action_url(sample, "notify")).status_code == 403
    filed = enterprise.post(action_url(sample, "objection"), {"objection-grounds": "样品保存条件不符合要求"})
    assert filed.status_code == 302
    objection = Objection.objects.get(sample=sample)
    assert objection.status == Objection.Status.FILED and objection.filed_by == workflow.users["enterprise"]

    officer = login("nanguan")
    same = officer.post(action_url(sample, "accept"), {"accept-reinspection_lab": workflow.lab1.pk})
    assert same.status_code == 400 and "复检须由原检验机构以外的检验机构承担。" in page(same)
    assert officer.post(action_url(sample, "accept"), {"accept-reinspection_lab": workflow.lab2.pk}).status_code == 302
    objection.refresh_from_db()
    assert objection.status == Objection.Status.ACCEPTED and objection.reinspection_lab == workflow.lab2

    url = reverse("inspection:result_add", args=[sample.pk]) + "?kind=reinspection"
    assert login("lab").post(url, result_form(sample, results_for(sample.rule_version), number="FJ-1")) \
        .status_code == 400  # the first lab may not re-inspect
    assert workflow.lab2_user.username == "lab2"
    lab2 = login("lab2")
    assert lab2.get(url).status_code == 200
    done = lab2.post(url, result_form(sample, results_for(sample.rule_version), number="FJ-1"))
    assert done.status_code == 302
    objection.refresh_from_db()
    sample.refresh_from_db()
    assert objection.decision == Objection.Decision.OVERTURNED
    assert (sample.status, sample.verdict) == (Sample.Status.FINAL, Verdict.NO_NONCONFORMITY)
    shown = page(login("nanguan").get(detail_url(sample)))
    assert '<strong>推翻原检验结论</strong>' in shown and "复检报告" in shown and "初检报告" in shown


def test_objection_after_the_deadline_is_refused_with_the_law_cited(workflow, reported_own, login):
    sample = reported_own
    received = TODAY - dt.timedelta(days=30)
    officer = login("nanguan")
    officer.post(action_url(sample, "notify"), {"notify-on": received.isoformat()})
    assert officer.post(action_url(sample, "receipt"), {"receipt-received_on": received.isoformat()}).status_code == 302
    sample.refresh_from_db()
    deadline = followup.objection_deadline(sample)
    assert deadline < TODAY
    late = login("enterprise").post(action_url(sample, "objection"), {"objection-grounds": "不服"})
    assert late.status_code == 400
    assert (f"复检申请已超过期限：检验结果于 {received.isoformat()} 收到，应在 {deadline.isoformat()} 前（含当日）提出"
            in page(late))
    assert not Objection.objects.exists()


def test_officer_rejects_an_objection_with_a_reason_and_the_result_stands(workflow, reported_own, login):
    sample = reported_own
    followup.notify_result(sample, user=workflow.users["nanguan"], on=TODAY)
    followup.acknowledge_receipt(sample, user=workflow.users["enterprise"], on=TODAY)
    followup.file_objection(sample, user=workflow.users["enterprise"], grounds="不服")
    assert login("enterprise").post(action_url(sample, "reject"), {"reject-rejection_reason": "x"}).status_code == 403
    officer = login("nanguan")
    blank = officer.post(action_url(sample, "reject"), {"reject-rejection_reason": " "})
    assert blank.status_code == 400 and "请写明不予受理的理由。" in page(blank)
    done = officer.post(action_url(sample, "reject"), {"reject-rejection_reason": "申请人未提交备用样品封存证明"})
    assert done.status_code == 302
    sample.refresh_from_db()
    assert Objection.objects.get(sample=sample).status == Objection.Status.REJECTED
    assert (sample.status, sample.verdict, sample.final_on) == (Sample.Status.FINAL, Verdict.UNQUALIFIED, TODAY)


def test_rectification_and_article_17_steps_in_order(workflow, reported_own, login):
    sample = reported_own
    followup.notify_result(sample, user=workflow.users["nanguan"], on=TODAY - dt.timedelta(days=40))
    followup.acknowledge_receipt(sample, user=workflow.users["nanguan"], on=TODAY - dt.timedelta(days=40))
    publication.publish_due(TODAY)
    sample.refresh_from_db()
    assert sample.status == Sample.Status.PUBLISHED
    county = login("nanguan")
    shown = page(county.get(detail_url(sample)))
    # Steps in order: only public notice offers a button; its precondition is stated.
    assert shown.index("予以公告") < shown.index("责令停业，限期整顿") < shown.index("吊销营业执照")
    assert action_url(sample, "escalate_public_notice") in shown
    assert action_url(sample, "escalate_suspension") not in shown
    early = county.post(action_url(sample, "escalate_public_notice"),
                        {"escalate_public_notice-action": "public_notice",
                         "escalate_public_notice-decision_number": "N1"})
    assert early.status_code == 400 and "予以公告须以逾期未改正为前提" in page(early)

    ordered = county.post(action_url(sample, "order"), {"order-deadline": (TODAY + dt.timedelta(days=30)).isoformat()})
    assert ordered.status_code == 302
    rectification = Rectification.objects.get(sample=sample)
    reported = login("enterprise").post(action_url(sample, "report"), {"rectification": rectification.pk,
                                                                       "report-entity_report": "已更换原料供应商"})
    assert reported.status_code == 302
    county = login("nanguan")
    rechecked = county.post(action_url(sample, "recheck"), {"rectification": rectification.pk, "recheck-passed": "0",
                                                            "recheck-note": "仍不合格"})
    assert rechecked.status_code == 302
    assert Rectification.objects.get(pk=rectification.pk).status == Rectification.Status.FAILED
    notice = {"escalate_public_notice-action": "public_notice", "escalate_public_notice-decision_number": "吉市监告1号"}
    by_county = county.post(action_url(sample, "escalate_public_notice"), notice)
    assert by_county.status_code == 400 and "公告由省级以上市场监督管理部门作出" in page(by_county)
    assert login("province").post(action_url(sample, "escalate_public_notice"), notice).status_code == 302
    assert list(Enforcement.objects.filter(sample=sample).values_list("action", flat=True)) == ["public_notice"]
    shown = page(login("province").get(detail_url(sample)))
    assert "吉市监告1号" in shown and action_url(sample, "escalate_suspension") in shown


# --- lists, queues and scope --------------------------------------------------------------------------

def test_each_role_sees_only_its_own_samples(workflow, login):
    own = take_sample(workflow, task_for_entity(workflow, workflow.own))
    other = take_sample(workflow, task_for_entity(workflow, workflow.nanguan[0]))
    yanji = take_sample(workflow, task_for_entity(workflow, workflow.yanji[0]))
    url = reverse("inspection:sample_list")

    listed = page(login("enterprise").get(url))
    assert own.number in listed and other.number not in listed and yanji.number not in listed
    assert login("enterprise").get(detail_url(other)).status_code == 404
    listed = page(login("nanguan").get(url))
    assert own.number in listed and other.number in listed and yanji.number not in listed
    assert login("nanguan").get(detail_url(yanji)).status_code == 404
    assert login("nanguan").post(action_url(yanji, "notify")).status_code == 404
    listed = page(login("province").get(url))
    assert all(s.number in listed for s in (own, other, yanji))
    assert login("lab2").get(url).status_code == 200 and own.number not in page(login("lab2").get(url))


def test_sample_list_filters_and_exports(workflow, login):
    tasks = drawn_tasks(workflow)
    made = [take_sample(workflow, task) for task in tasks[:2]]
    report(workflow, made[0], failing=(first_item_of_class(made[0].rule_version, "A"),))
    client = login("province")
    url = reverse("inspection:sample_list")
    listed = page(client.get(url, {"verdict": "seriously_unqualified"}))
    assert made[0].number in listed and made[1].number not in listed
    exported = client.get(url, {"export": "csv", "region": "220102"})
    rows = list(csv.reader(io.StringIO(b"".join(exported.streaming_content).decode("utf-8-sig"))))
    assert rows[0][0] == "抽样单编号" and sorted(row[0] for row in rows[1:]) == sorted(s.number for s in made)
    assert "严重不合格" in {row[rows[0].index("检验结论")] for row in rows[1:]}
    workbook = load_workbook(io.BytesIO(b"".join(client.get(url, {"export": "xlsx"}).streaming_content)))
    assert workbook.active.max_row == 3
    assert login("enterprise").get(url, {"export": "csv"}).status_code == 403


def test_officer_queues_show_pending_objections_and_overdue_rectifications(workflow, reported_own, login):
    sample = reported_own
    followup.notify_result(sample, user=workflow.users["nanguan"], on=TODAY)
    followup.acknowledge_receipt(sample, user=workflow.users["enterprise"], on=TODAY)
    followup.file_objection(sample, user=workflow.users["enterprise"], grounds="不服")
    client = login("nanguan")
    assert sample.number in page(client.get(reverse("inspection:objection_pending")))
    assert sample.number not in page(client.get(reverse("inspection:objection_list"), {"status": "accepted"}))
    assert sample.number not in page(login("yanji").get(reverse("inspection:objection_list")))

    other = take_sample(workflow, task_for_entity(workflow, workflow.chaoyang[0]))
    report(workflow, other, failing=(first_item_of_class(other.rule_version, "B"),))
    other.refresh_from_db()
    followup.notify_result(other, user=workflow.users["province"], on=TODAY - dt.timedelta(days=60))
    followup.acknowledge_receipt(other, user=workflow.users["province"], on=TODAY - dt.timedelta(days=60))
    publication.publish_due(TODAY - dt.timedelta(days=20))
    other.refresh_from_db()
    followup.order_rectification(other, user=workflow.users["province"], deadline=TODAY - dt.timedelta(days=1),
                                 on=TODAY - dt.timedelta(days=20))
    overdue = page(login("changchun").get(reverse("inspection:rectification_overdue")))
    assert other.number in overdue and "已逾期" in overdue
    assert other.number not in page(login("changchun").get(reverse("inspection:rectification_list"),
                                                            {"overdue": "false"}))
    assert CustodyEvent.objects.filter(sample=other).count() == 2
