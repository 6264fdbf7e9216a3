"""Lab results: entering a test report, and uploading many in one CSV or JSON file.

The lab gives a value, unit and (optionally, required for qualitative items) a verdict per test
item; ``catalogue.judge`` checks them against the sample's rule version and computes every item's
verdict and the overall verdict — no one types the overall verdict. A report is refused, with every
reason at once and nothing written, when: the sample does not exist or is a refusal; the sample
already has a report of that kind; the results name another rule version; an item is missing or
unknown; a value has no unit or a unit the item does not accept. An upload is all or nothing.

Upload formats (UTF-8, a BOM allowed; GB18030 also read for CSV):

- CSV, one row per item, headers in Chinese or English:
  ``抽样单编号/sample_number, 报告编号/report_number, 检验完成日期/tested_on, 项目代码/item_code,
  实测值/value, 单位/unit, 单项判定/verdict`` (verdict: 合格/不合格/pass/fail, may be blank for items
  with a numeric limit), optionally ``细则版本/rule_version`` (the version label).
- JSON: one report object or a list of them:
  ``{"sample_number", "report_number", "tested_on", "rule_version"?, "items": [{"code", "value", "unit",
  "verdict"?}]}``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from qualitygov.core import audit
from qualitygov.core.models import User
from qualitygov.core.roles import Role
from qualitygov.inspection import catalogue
from qualitygov.inspection.catalogue import ItemResult as SubmittedItem
from qualitygov.inspection.errors import Refused
from qualitygov.inspection.models import ItemResult, Sample, TestingLab, TestItem, TestReport

__all__ = ["ResultRefused", "ReportInput", "enter_results", "parse_upload", "import_results", "UploadReport",
           "VERDICT_WORDS"]

VERDICT_WORDS = {"合格": "pass", "符合": "pass", "pass": "pass", "p": "pass",
                 "不合格": "fail", "不符合": "fail", "fail": "fail", "f": "fail"}
CSV_HEADERS = {
    "抽样单编号": "sample_number", "sample_number": "sample_number",
    "报告编号": "report_number", "检验报告编号": "report_number", "report_number": "report_number",
    "检验完成日期": "tested_on", "tested_on": "tested_on",
    "细则版本": "rule_version", "rule_version": "rule_version",
    "项目代码": "item_code", "item_code": "item_code", "code": "item_code",
    "实测值": "value", "检验结果": "value", "value": "value",
    "单位": "unit", "unit": "unit",
    "单项判定": "verdict", "verdict": "verdict",
}
REQUIRED_CSV = ("sample_number", "report_number", "tested_on", "item_code", "value")


class ResultRefused(Refused):
    """A report that cannot be accepted; ``message_dict`` says why, per field or item code."""


@dataclass
class ReportInput:
    """One report as submitted (from a page, the API or an upload)."""

    sample_number: str
    report_number: str
    tested_on: dt.date | str
    items: dict[str, SubmittedItem]
    rule_version: str | None = None
    source_rows: list[int] = field(default_factory=list)


def _lab_for(sample: Sample, kind: str) -> TestingLab:
    if kind == TestReport.Kind.REINSPECTION:
        objection = getattr(sample, "objection", None)
        if objection is None or objection.reinspection_lab_id is None or objection.status != "accepted":
            raise ResultRefused(_("抽样单 %(number)s 没有已受理的复检申请，不能录入复检结果。") % {"number": sample.number},
                                code="no_reinspection")
        return objection.reinspection_lab
    return sample.task.quota.lab


def _check_user_may_enter(user: User, lab: TestingLab) -> None:
    if user.is_superuser or user.role == Role.PROVINCE_ADMIN:
        return
    if user.role != Role.LAB_STAFF or not lab.staff.filter(pk=user.pk).exists():
        raise ResultRefused(_("只有承检机构“%(lab)s”的检验人员可以录入此检验结果。") % {"lab": lab.name},
                            code="not_lab_staff")


def _date(value, name: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ResultRefused({name: _("日期“%(value)s”无效，应为 YYYY-MM-DD。") % {"value": value}},
                            code="invalid_date") from None


def enter_results(sample: Sample, *, user: User, report_number: str, tested_on: dt.date | str,
                  items: Mapping[str, SubmittedItem], kind: str = TestReport.Kind.INITIAL,
                  rule_version: str | None = None) -> TestReport:
    """Store a lab's report on ``sample`` with the verdicts ``judge`` computes; update the sample.

    An initial report moves the sample to "reported"; a re-inspection decides the objection: its
    verdict becomes the sample's final verdict (confirmed when it equals the first, overturned
    otherwise).
    """
    if sample.outcome != Sample.Outcome.SAMPLED:
        raise ResultRefused(_("抽样单 %(number)s 是拒检记录，没有样品可检验。") % {"number": sample.number},
                            code="refusal_has_no_results")
    if TestReport.objects.filter(sample=sample, kind=kind).exists():
        raise ResultRefused(_("抽样单 %(number)s 已有%(kind)s报告，不能重复录入。")
                            % {"number": sample.number, "kind": TestReport.Kind(kind).label}, code="duplicate_result")
    lab = _lab_for(sample, kind)
    _check_user_may_enter(user, lab)
    tested_on = _date(tested_on, "tested_on")
    if tested_on < sample.sampled_on:
        raise ResultRefused({"tested_on": _("检验完成日期不能早于抽样日期 %(date)s。") % {"date": sample.sampled_on}},
                            code="tested_before_sampled")
    version = sample.rule_version
    if rule_version not in (None, "") and str(rule_version) not in (version.label, str(version.pk)):
        raise ResultRefused({"rule_version": _("结果按细则版本“%(given)s”填写，但抽样单 %(number)s 适用版本“%(version)s”。")
                             % {"given": rule_version, "number": sample.number, "version": version.label}},
                            code="other_rule_version")
    report_number = (report_number or "").strip()
    if not report_number:
        raise ResultRefused({"report_number": _("请填写检验报告编号。")}, code="report_number")
    if TestReport.objects.filter(report_number=report_number).exists():
        raise ResultRefused({"report_number": _("检验报告编号 %(number)s 已被使用。") % {"number": report_number}},
                            code="duplicate_report_number")
    judgement = catalogue.judge(version, items)  # raises ResultsRefused with every problem listed
    by_code = {item.code: item for item in TestItem.objects.filter(version=version)}
    failing = [{"code": item.code, "name": item.name, "class": item.item_class,
                "value": str(items[item.code].value), "unit": items[item.code].unit or ""}
               for item in judgement.failing_items]
    try:
        with transaction.atomic(), audit.attributed_to(user):
            report = TestReport.objects.create(
                sample=sample, kind=kind, lab=lab, report_number=report_number, rule_version=version,
                tested_on=tested_on, verdict=judgement.verdict, failing_items=failing, entered_by=user)
            ItemResult.objects.bulk_create([
                ItemResult(report=report, item=by_code[code], value=str(items[code].value or ""),
                           unit=items[code].unit or "", lab_verdict=items[code].verdict or "",
                           verdict=judged.verdict)
                for code, judged in judgement.items.items()])
            if kind == TestReport.Kind.INITIAL:
                sample.status = Sample.Status.REPORTED
                sample.verdict = judgement.verdict
                sample.failing_items = failing
                sample.save(update_fields=["status", "verdict", "failing_items", "updated"])
            else:
                from qualitygov.inspection.followup import decide_objection

                decide_objection(sample, report, user=user)
    except IntegrityError:
        raise ResultRefused(_("抽样单 %(number)s 的检验报告已被他人同时录入。") % {"number": sample.number},
                            code="duplicate_result") from None
    return report


# --- uploads -------------------------------------------------------------------------------------

@dataclass
class UploadReport:
    """What an upload did or would do: reports stored and every problem, by sample and row."""

    reports: list[str] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ResultRefused({"file": _("文件编码无法识别，请使用 UTF-8 或 GB18030。")}, code="encoding")


def _item(value, unit, verdict) -> SubmittedItem:
    word = (verdict or "").strip()
    mapped = VERDICT_WORDS.get(word.lower(), word) if word else None
    unit = (unit or "").strip() or None
    return SubmittedItem(value=None if value in (None, "") else str(value).strip(), unit=unit, verdict=mapped)


def _parse_csv(text: str) -> tuple[list[ReportInput], list[dict]]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise ResultRefused({"file": _("文件是空的。")}, code="empty") from None
    columns = [CSV_HEADERS.get(name.strip().lower() if name.isascii() else name.strip()) for name in header]
    missing = [name for name in REQUIRED_CSV if name not in columns]
    if missing:
        raise ResultRefused({"file": _("缺少列：%(columns)s。") % {"columns": ", ".join(missing)}}, code="columns")
    reports: dict[str, ReportInput] = {}
    problems: list[dict] = []
    for row_number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        values = {column: (row[i].strip() if i < len(row) else "") for i, column in enumerate(columns) if column}
        number = values.get("sample_number", "")
        code = values.get("item_code", "")
        if not number or not code:
            problems.append({"row": row_number, "sample": number, "item": code,
                             "reason": _("抽样单编号和项目代码不能为空。")})
            continue
        report = reports.setdefault(number, ReportInput(
            sample_number=number, report_number=values.get("report_number", ""),
            tested_on=values.get("tested_on", ""), items={}, rule_version=values.get("rule_version") or None))
        if values.get("report_number", "") != report.report_number or values.get("tested_on", "") != report.tested_on:
            problems.append({"row": row_number, "sample": number, "item": code,
                             "reason": _("同一抽样单的各行报告编号和检验完成日期必须一致。")})
        if code in report.items:
            problems.append({"row": row_number, "sample": number, "item": code,
                             "reason": _("项目 %(code)s 在该抽样单中出现了两次。") % {"code": code}})
            continue
        report.items[code] = _item(values.get("value"), values.get("unit"), values.get("verdict"))
        report.source_rows.append(row_number)
    return list(reports.values()), problems


def _parse_json(text: str) -> tuple[list[ReportInput], list[dict]]:
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultRefused({"file": _("JSON 格式错误（第 %(line)d 行第 %(col)d 列）：%(msg)s。")
                             % {"line": exc.lineno, "col": exc.colno, "msg": exc.msg}}, code="json") from None
    return parse_json_reports(payload)


def parse_json_reports(payload) -> tuple[list[ReportInput], list[dict]]:
    """Reports from decoded JSON (one object or a list), with the problems of its shape."""
    entries = payload if isinstance(payload, list) else [payload]
    reports: list[ReportInput] = []
    problems: list[dict] = []
    for index, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("items"), list):
            problems.append({"row": index, "sample": "", "item": "",
                             "reason": _("第 %(n)d 份报告须是含 items 列表的对象。") % {"n": index}})
            continue
        number = str(entry.get("sample_number") or entry.get("sample") or "")
        items: dict[str, SubmittedItem] = {}
        for item in entry["items"]:
            code = str(item.get("code") or item.get("item_code") or "") if isinstance(item, dict) else ""
            if not code:
                problems.append({"row": index, "sample": number, "item": "", "reason": _("检验项目缺少 code。")})
                continue
            if code in items:
                problems.append({"row": index, "sample": number, "item": code,
                                 "reason": _("项目 %(code)s 在该抽样单中出现了两次。") % {"code": code}})
                continue
            items[code] = _item(item.get("value"), item.get("unit"), item.get("verdict"))
        reports.append(ReportInput(sample_number=number, report_number=str(entry.get("report_number") or ""),
                                   tested_on=str(entry.get("tested_on") or ""), items=items,
                                   rule_version=entry.get("rule_version"), source_rows=[index]))
    return reports, problems


def parse_upload(data: bytes, filename: str) -> tuple[list[ReportInput], list[dict]]:
    """Parse an uploaded results file (``.csv`` or ``.json``) into reports and shape problems."""
    text = _decode(data)
    if filename.lower().endswith(".json"):
        return _parse_json(text)
    if filename.lower().endswith(".csv"):
        return _parse_csv(text)
    raise ResultRefused({"file": _("只接受 .csv 或 .json 文件。")}, code="file_type")


def _messages(exc: ValidationError) -> list[tuple[str, str]]:
    if hasattr(exc, "error_dict"):
        return [(key, message) for key, messages in exc.message_dict.items() for message in messages]
    return [("", message) for message in exc.messages]


def import_results(reports: list[ReportInput], *, user: User, dry_run: bool = False,
                   shape_problems: list[dict] | None = None) -> UploadReport:
    """Enter every report or none: any problem in any report rolls back all of them.

    Samples are looked up within what ``user`` may see; a sample number the user cannot see is
    reported as not existing.
    """
    outcome = UploadReport(problems=list(shape_problems or []))
    visible = Sample.objects.restrict(user, "view")
    numbers = [report.sample_number for report in reports]
    samples = {sample.number: sample for sample in visible.filter(number__in=numbers)
               .select_related("task__quota__lab", "rule_version")}
    seen: set[str] = set()
    try:
        with transaction.atomic():
            for report in reports:
                where = {"row": report.source_rows[0] if report.source_rows else "", "sample": report.sample_number}
                if report.sample_number in seen:
                    outcome.problems.append({**where, "item": "", "reason": _("抽样单 %(number)s 在文件中出现了两次。")
                                             % {"number": report.sample_number}})
                    continue
                seen.add(report.sample_number)
                sample = samples.get(report.sample_number)
                if sample is None:
                    outcome.problems.append({**where, "item": "", "reason": _("抽样单 %(number)s 不存在。")
                                             % {"number": report.sample_number}})
                    continue
                try:
                    with transaction.atomic():
                        enter_results(sample, user=user, report_number=report.report_number,
                                      tested_on=report.tested_on, items=report.items,
                                      rule_version=report.rule_version)
                    outcome.reports.append(report.report_number)
                except ValidationError as exc:
                    for key, message in _messages(exc):
                        outcome.problems.append({**where, "item": key if key != "__all__" else "", "reason": message})
            if outcome.problems or dry_run:
                raise _Rollback
    except _Rollback:
        if outcome.problems:
            outcome.reports = []
    return outcome


class _Rollback(Exception):
    pass
