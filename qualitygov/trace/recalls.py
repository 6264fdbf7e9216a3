"""Consumer-product recalls (缺陷消费品召回, issue 5 item 6): the one place their rules live. Pages, the
API (``api:recall-api``), the public portal and the consumer lookup call these functions.

Rules (SAMR Order 19, 消费品召回管理暂行规定, in force 2020-01-01, as summarised in
../shared/policy/RULES.md "Recalls"; marks as there: [checked] read in a primary source, [reported]
agreed by secondary sources, [verify] to be confirmed in an official text):

- Provincial bureaux supervise recalls in their region [checked]. Here any officer whose region scope
  covers the producer (``Recall.objects.restrict(user, CHANGE)``) handles the recall; the producer's
  enterprise users report and file the plan, progress and summary for their own entity only.
- ``report``: the producer reports within 2 working days of learning of the harm [reported]. The
  deadline (``report_due_on``) is the 2nd working day after ``aware_on`` (``core.workdays``; the day of
  learning itself is not counted). When that day lies beyond the years whose holiday arrangement is
  published, ``report_due_on`` stays None (never guessed). A late report is accepted (refusing it
  would hide the hazard) but flagged (``is_report_late``).
- ``investigate``: the regulator's defect investigation; no defect closes the recall
  (``closed_no_defect``).
- ``file_plan``: the plan with Order 19's contents — batches, quantities made and sold, channels,
  defect and cause, remedy, notification, timetable — all required [reported]. Filing computes the
  recall scope from the forward trace of every batch (``tracing.trace(batch, "forward", user=None)``:
  the whole store, whoever files) and sends a notice (``RecallNotice``) to every holder entity other
  than the producer.
- ``order_recall``: the regulator orders the recall (责令召回). An ordered recall is recorded in the
  credit ledger once (``credit.services.record_fact`` is idempotent on its source); a voluntary one is
  not (our reading: the ledger records the regulator's measure, a voluntary recall is the producer's
  own compliance).
- ``report_progress``: every 3 months while the recall runs [verify]; ``progress_due_on`` is the last
  report's period end (or the start) plus 3 calendar months; ``overdue_progress`` lists the late ones.
- ``complete``: the final progress row with the summary; a summary is due within 15 working days of
  completion [verify] (``summary_due_on``, shown, not enforced). Effectiveness = quantity recovered
  / quantity sold.
- ``publish``: the public notice on the portal (``public_recalls``, ``recall_status_for``).

Refusals are ``RecallRefused`` (a ``ValidationError``) with a stable ``code`` and Chinese messages; a
refused step changes nothing (each step is one transaction).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal, InvalidOperation

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from qualitygov.core import audit
from qualitygov.core.roles import CHANGE, Role
from qualitygov.core.workdays import CalendarNotCovered, add_working_days
from qualitygov.trace import identifiers, tracing
from qualitygov.trace.models import EventIdentifier, Recall, RecallNotice, RecallProgress

__all__ = ["PLAN_FIELDS", "PROGRESS_MONTHS", "REPORT_WORKING_DAYS", "SUMMARY_WORKING_DAYS", "RecallRefused",
           "acknowledge_notice", "can_act_as_officer", "can_act_as_producer", "complete", "compute_scope",
           "effectiveness", "file_plan", "investigate", "is_report_late", "order_recall", "overdue_progress",
           "parse_batches", "progress_due_on", "public_payload", "public_recalls", "publish", "recall_status_for",
           "report", "report_progress", "start", "summary_due_on"]

REPORT_WORKING_DAYS = 2  # Order 19 [reported]
PROGRESS_MONTHS = 3  # Order 19 [verify]
SUMMARY_WORKING_DAYS = 15  # Order 19 [verify]

Status = Recall.Status
Kind = Recall.Kind

# Order 19's plan contents (besides the batches) and their Chinese names, for "missing" messages.
PLAN_FIELDS = {
    "quantity_made": gettext_noop("生产数量"), "quantity_sold": gettext_noop("销售数量"),
    "channels": gettext_noop("销售渠道与地区"), "defect_cause": gettext_noop("缺陷及原因"),
    "remedy": gettext_noop("补救措施"), "notification": gettext_noop("通知方式"), "timetable": gettext_noop("进度安排"),
}
OFFICER_ROLES = frozenset({Role.PROVINCE_ADMIN, Role.PROVINCE_OFFICER, Role.CITY_OFFICER, Role.COUNTY_OFFICER})
GS1 = "https://id.gs1.org/01/"


class RecallRefused(ValidationError):
    """A recall step the rules do not allow; ``code`` names the rule, the messages say it in Chinese.
    The code is kept on the instance (Django drops it for a dict of field errors)."""

    def __init__(self, message, code=None, params=None):
        super().__init__(message, code=code, params=params)
        self.code = code


def _today() -> dt.date:
    return timezone.localdate()


# --- who may act ------------------------------------------------------------------------------------


def can_act_as_officer(user, recall: Recall) -> bool:
    """An officer (or admin) whose region scope covers the producer (``restrict(user, CHANGE)``)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if not (user.is_superuser or user.role in OFFICER_ROLES):
        return False
    return Recall.objects.filter(pk=recall.pk).restrict(user, CHANGE).exists()


def can_act_as_producer(user, recall: Recall) -> bool:
    """An enterprise user of the producer itself."""
    return (user is not None and user.is_authenticated and user.is_active and user.role == Role.ENTERPRISE
            and user.entity_id is not None and user.entity_id == recall.producer_id)


def _require_officer(user, recall: Recall) -> None:
    if not can_act_as_officer(user, recall):
        raise RecallRefused(_("只有生产者所在辖区的监管人员可以办理此步骤。"), code="not_permitted")


def _require_producer_or_officer(user, recall: Recall) -> None:
    if not (can_act_as_producer(user, recall) or can_act_as_officer(user, recall)):
        raise RecallRefused(_("只有生产者本企业的用户或其所在辖区的监管人员可以办理此步骤。"), code="not_permitted")


def _require_status(recall: Recall, *statuses: str) -> None:
    if recall.status not in statuses:
        allowed = "、".join(str(Status(s).label) for s in statuses)
        raise RecallRefused(_("召回当前状态为“%(status)s”，此步骤只能在“%(allowed)s”状态下办理。")
                            % {"status": recall.get_status_display(), "allowed": allowed}, code="wrong_status")


def _locked(recall: Recall) -> Recall:
    """The recall re-read under a row lock, so two concurrent steps cannot both pass the status check."""
    return Recall.objects.select_for_update().get(pk=recall.pk)


def _date(value, field: str, label: str) -> dt.date:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise RecallRefused({field: _("请填写%(label)s（日期）。") % {"label": label}}, code="bad_date")
    return value


def _amount(value, field: str, label: str, *, required: bool = True) -> Decimal | None:
    if value is None or value == "":
        if required:
            raise RecallRefused({field: _("请填写%(label)s。") % {"label": label}}, code="missing")
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise RecallRefused({field: _("%(label)s必须是数字。") % {"label": label}}, code="bad_number") from None
    if not amount.is_finite() or amount < 0:
        raise RecallRefused({field: _("%(label)s不能为负数。") % {"label": label}}, code="bad_number")
    return amount


# --- batches ----------------------------------------------------------------------------------------


def parse_batches(values) -> list[str]:
    """Canonical class identifiers (Digital Link GTIN + batch, or GTIN alone for all its batches) of
    ``values`` (a list, or text with one identifier per line). Instances (serials), logistic units,
    locations and malformed codes are refused with a Chinese message naming the line; duplicates are
    dropped, order kept."""
    if isinstance(values, str):
        values = values.splitlines()
    out, errors = [], []
    for number, raw in enumerate(values or [], start=1):
        text = str(raw or "").strip()
        if not text:
            continue
        try:
            key = identifiers.parse_identifier(text)
        except identifiers.IdentifierError as error:
            errors.append(_("第 %(n)d 行“%(text)s”：%(message)s") % {"n": number, "text": text, "message": error.message})
            continue
        if not key.is_class_level:
            errors.append(_("第 %(n)d 行“%(text)s”：召回批次应为商品条码加批号（或仅商品条码表示全部批次），"
                            "不能是单品序列号、物流单元或位置码。") % {"n": number, "text": text})
            continue
        canonical = key.class_key().canonical
        if canonical not in out:
            out.append(canonical)
    if errors:
        raise RecallRefused({"batches": errors}, code="bad_batch")
    return out


# --- report -----------------------------------------------------------------------------------------


def _next_number(year: int) -> str:
    prefix = f"RC{year}"
    last = (Recall.objects.filter(number__startswith=prefix).order_by("-number").values_list("number", flat=True)
            .first())
    sequence = int(last[len(prefix):]) + 1 if last and last[len(prefix):].isdigit() else 1
    return f"{prefix}{sequence:05d}"


def report(producer, product, hazard: str, aware_on: dt.date, reported_on: dt.date, batches, user) -> Recall:
    """Record the producer's report of a defect or harm (by its enterprise user, or by an officer in scope
    who received it). The report deadline is ``REPORT_WORKING_DAYS`` after ``aware_on`` (None when that
    year's calendar is not published); a late report is accepted and flagged. ``batches`` may be empty
    here (the plan must name them)."""
    errors = {}
    if not (hazard or "").strip():
        errors["hazard"] = [_("请填写缺陷或伤害情况。")]
    if not isinstance(aware_on, dt.date) or isinstance(aware_on, dt.datetime):
        errors["aware_on"] = [_("请填写获知日期。")]
    if not isinstance(reported_on, dt.date) or isinstance(reported_on, dt.datetime):
        errors["reported_on"] = [_("请填写报告日期。")]
    if not errors and reported_on < aware_on:
        errors["reported_on"] = [_("报告日期不能早于获知日期。")]
    if not errors and reported_on > _today():
        errors["reported_on"] = [_("报告日期不能晚于今天。")]
    if product is not None and product.producer_id != producer.pk:
        errors["product"] = [_("该产品不属于此生产者。")]
    if errors:
        raise RecallRefused(errors, code="invalid")
    parsed = parse_batches(batches)
    if user is None or not (user.is_superuser or user.role in OFFICER_ROLES
                            or (user.role == Role.ENTERPRISE and user.entity_id == producer.pk)):
        raise RecallRefused(_("只有生产者本企业的用户或其所在辖区的监管人员可以报告召回。"), code="not_permitted")
    try:
        due = add_working_days(aware_on, REPORT_WORKING_DAYS)
    except CalendarNotCovered:
        due = None
    for _attempt in range(5):
        try:
            with audit.attributed_to(user), transaction.atomic():
                recall = Recall.objects.create(
                    number=_next_number(reported_on.year), producer=producer, product=product, hazard=hazard.strip(),
                    aware_on=aware_on, reported_on=reported_on, report_due_on=due, batches=parsed,
                    handled_by=user if user.role != Role.ENTERPRISE else None)
                if not Recall.objects.filter(pk=recall.pk).restrict(user, CHANGE).exists():
                    raise RecallRefused(_("该生产者不在您的辖区内。"), code="not_permitted")
                return recall
        except IntegrityError:
            continue  # another report took the number: take the next one
    raise RecallRefused(_("召回编号分配冲突，请重试。"), code="number_conflict")


def is_report_late(recall: Recall) -> bool | None:
    """Whether the report came after its deadline (None when the deadline is not known)."""
    if recall.report_due_on is None:
        return None
    return recall.reported_on > recall.report_due_on


# --- investigation ----------------------------------------------------------------------------------


def investigate(recall: Recall, user, findings: str, defect_confirmed: bool | None) -> Recall:
    """Record the regulator's investigation (officer in scope). ``defect_confirmed`` True: the defect is
    confirmed (the producer files a plan, or the officer orders the recall); False: closed without
    defect; None: the investigation goes on."""
    if not (findings or "").strip():
        raise RecallRefused({"investigation": _("请填写缺陷调查情况。")}, code="missing")
    with audit.attributed_to(user), transaction.atomic():
        recall = _locked(recall)
        _require_officer(user, recall)
        _require_status(recall, Status.REPORTED, Status.INVESTIGATING)
        recall.investigation = findings.strip()
        recall.defect_confirmed = defect_confirmed
        recall.status = Status.CLOSED_NO_DEFECT if defect_confirmed is False else Status.INVESTIGATING
        recall.handled_by = user
        recall.save()
    return recall


# --- plan and scope ---------------------------------------------------------------------------------


def _classes_of(batch: str) -> list[str]:
    """The batches to trace for one plan entry: itself, or for a GTIN alone every batch of it in the store."""
    if "/10/" in batch:
        return [batch]
    prefix = f"{batch}/10/"
    return sorted(set(EventIdentifier.objects.filter(class_key__startswith=prefix)
                      .values_list("class_key", flat=True).distinct()))


def compute_scope(batches: list[str]) -> list[dict]:
    """The recall scope: the forward trace of every batch over the whole store, its holders aggregated
    per entity. Each entry: ``entity_id`` (None for a place not in the registry), ``entity``,
    ``region_code``, ``region``, ``locations`` (GLNs), ``location_gln`` (the first), ``quantities``
    ({uom: quantity}), ``quantity`` (the total when one unit, else None), ``uom`` and ``batches``."""
    table: dict[object, dict] = {}
    for batch in batches:
        for start in _classes_of(batch):
            try:
                result = tracing.trace(start, tracing.FORWARD, user=None)
            except tracing.TraceError as error:
                if error.code == "not_found":
                    continue  # not captured: nobody is known to hold it
                raise
            for holder in result["holders"]:
                key = holder["entity_id"] if holder["entity_id"] is not None else f"gln:{holder['gln']}"
                row = table.setdefault(key, {
                    "entity_id": holder["entity_id"], "entity": holder["entity"], "region_code": holder["region_code"],
                    "region": holder["region"], "locations": [], "quantities": defaultdict(Decimal), "batches": []})
                if holder["gln"] and holder["gln"] not in row["locations"]:
                    row["locations"].append(holder["gln"])
                row["quantities"][holder["uom"] or ""] += Decimal(str(holder["quantity"] or 0))
                if start not in row["batches"]:
                    row["batches"].append(start)
    out = []
    for row in table.values():
        quantities = {uom: _plain(amount) for uom, amount in sorted(row["quantities"].items())}
        single = len(quantities) == 1
        out.append({**row, "locations": sorted(row["locations"]), "location_gln": min(row["locations"], default=""),
                    "quantities": quantities, "quantity": next(iter(quantities.values())) if single else None,
                    "uom": next(iter(quantities)) if single else "", "batches": sorted(row["batches"])})
    return sorted(out, key=lambda r: (r["region_code"] or "", r["entity"] or "", r["location_gln"]))


def _plain(amount: Decimal):
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def file_plan(recall: Recall, user, *, batches=None, quantity_made=None, quantity_sold=None, channels: str = "",
              defect_cause: str = "", remedy: str = "", notification: str = "", timetable: str = "",
              filed_on: dt.date | None = None) -> Recall:
    """File the recall plan (the producer's user or an officer in scope) with all of Order 19's contents;
    missing ones are named in one refusal. Computes the scope (``compute_scope``), stores it and sends a
    notice to every holder entity other than the producer (bulk). ``batches`` None keeps the reported ones."""
    filed_on = filed_on or _today()
    parsed = parse_batches(batches) if batches is not None else list(recall.batches or [])
    values = {"quantity_made": quantity_made, "quantity_sold": quantity_sold, "channels": (channels or "").strip(),
              "defect_cause": (defect_cause or "").strip(), "remedy": (remedy or "").strip(),
              "notification": (notification or "").strip(), "timetable": (timetable or "").strip()}
    missing = [("batches", gettext_noop("涉及批次"))] if not parsed else []
    missing += [(name, label) for name, label in PLAN_FIELDS.items() if values[name] in (None, "")]
    if missing:
        names = "、".join(_(label) for _name, label in missing)
        raise RecallRefused({name: _("请填写%(label)s。") % {"label": _(label)} for name, label in missing}
                            | {"__all__": [_("召回计划缺少以下内容：%(names)s。") % {"names": names}]}, code="plan_incomplete")
    made = _amount(quantity_made, "quantity_made", _("生产数量"))
    sold = _amount(quantity_sold, "quantity_sold", _("销售数量"))
    if sold > made:
        raise RecallRefused({"quantity_sold": _("销售数量不能大于生产数量。")}, code="bad_number")
    scope = compute_scope(parsed)
    with audit.attributed_to(user), transaction.atomic():
        recall = _locked(recall)
        _require_producer_or_officer(user, recall)
        _require_status(recall, Status.REPORTED, Status.INVESTIGATING)
        if recall.defect_confirmed is False:
            raise RecallRefused(_("调查未发现缺陷，不能备案召回计划。"), code="no_defect")
        recall.batches = parsed
        recall.quantity_made, recall.quantity_sold = made, sold
        for name in ("channels", "defect_cause", "remedy", "notification", "timetable"):
            setattr(recall, name, values[name])
        recall.plan_filed_on = filed_on
        recall.scope = scope
        recall.scope_computed_at = timezone.now()
        recall.status = Status.PLANNED
        recall.save()
        notices = [RecallNotice(recall=recall, entity_id=row["entity_id"], location_gln=row["location_gln"],
                                quantity=row["quantity"], sent_on=filed_on)
                   for row in scope if row["entity_id"] is not None and row["entity_id"] != recall.producer_id]
        RecallNotice.objects.bulk_create(notices)
    return recall


# --- order, start, progress -------------------------------------------------------------------------


def _department(user) -> str:
    region = getattr(user, "region", None)
    if region is None or region.code.endswith("0000"):
        return _("吉林省市场监督管理厅")
    return _("%(region)s市场监督管理局") % {"region": region.name}


def order_recall(recall: Recall, user, on: dt.date | None = None) -> Recall:
    """The regulator orders the recall (officer in scope; the defect must be confirmed). Records the
    order in the producer's credit file (kind ``recall``) — once: ordering again changes nothing."""
    from qualitygov.credit.services import record_fact

    on = on or _today()
    with audit.attributed_to(user), transaction.atomic():
        recall = _locked(recall)
        _require_officer(user, recall)
        _require_status(recall, Status.INVESTIGATING, Status.PLANNED, Status.IN_PROGRESS)
        if recall.defect_confirmed is not True:
            raise RecallRefused(_("缺陷尚未经调查确认，不能责令召回。"), code="defect_not_confirmed")
        if recall.kind == Kind.ORDERED:
            return recall
        recall.kind = Kind.ORDERED
        recall.handled_by = user
        recall.save()
        product = recall.product.name if recall.product_id else _("缺陷产品")
        record_fact(entity=recall.producer, kind="recall", occurred_on=on, source=recall, user=user,
                    summary=_("责令召回%(product)s（召回编号 %(number)s）") % {"product": product, "number": recall.number},
                    details={"number": recall.number, "batches": recall.batches, "hazard": recall.hazard},
                    department=_department(user))
    return recall


def start(recall: Recall, user, started_on: dt.date | None = None) -> Recall:
    """Start carrying out the filed plan (the producer's user or an officer in scope)."""
    started_on = started_on or _today()
    with audit.attributed_to(user), transaction.atomic():
        recall = _locked(recall)
        _require_producer_or_officer(user, recall)
        _require_status(recall, Status.PLANNED)
        if started_on < recall.plan_filed_on:
            raise RecallRefused({"started_on": _("开始实施日期不能早于计划备案日期。")}, code="bad_date")
        recall.started_on = started_on
        recall.status = Status.IN_PROGRESS
        recall.save()
    return recall


def _last_progress(recall: Recall) -> RecallProgress | None:
    return recall.progress.order_by("-period_end", "-id").first()


def progress_due_on(recall: Recall) -> dt.date | None:
    """When the next progress report is due: the last report's period end (or the start) plus
    ``PROGRESS_MONTHS`` calendar months; None unless the recall is in progress."""
    if recall.status != Status.IN_PROGRESS or recall.started_on is None:
        return None
    last = _last_progress(recall)
    base = last.period_end if last is not None else recall.started_on
    return base + relativedelta(months=PROGRESS_MONTHS)


def overdue_progress(on: dt.date | None = None, queryset: QuerySet | None = None) -> QuerySet:
    """Recalls in progress whose progress report is overdue on ``on`` (today), set-based: due = base +
    3 months < on, written as base < on − 3 months (the same except where month ends are clipped, which
    can only move the day by up to three days at the end of a month)."""
    on = on or _today()
    queryset = Recall.objects.all() if queryset is None else queryset
    return (queryset.filter(status=Status.IN_PROGRESS)
            .annotate(progress_base=Coalesce(Max("progress__period_end"), "started_on"))
            .filter(progress_base__lt=on - relativedelta(months=PROGRESS_MONTHS)))


def report_progress(recall: Recall, user, period_end: dt.date, quantity_recovered, text: str) -> RecallProgress:
    """A progress report (the producer's user or an officer in scope) while the recall runs:
    ``quantity_recovered`` is cumulative (never less than the last report's)."""
    period_end = _date(period_end, "period_end", _("报告期截止日"))
    amount = _amount(quantity_recovered, "quantity_recovered", _("累计召回数量"))
    if not (text or "").strip():
        raise RecallRefused({"text": _("请填写进展情况。")}, code="missing")
    with audit.attributed_to(user), transaction.atomic():
        recall = _locked(recall)
        _require_producer_or_officer(user, recall)
        _require_status(recall, Status.IN_PROGRESS)
        _check_progress(recall, period_end, amount)
        row = RecallProgress.objects.create(recall=recall, period_end=period_end, quantity_recovered=amount,
                                            text=text.strip(), submitted_by=user)
        recall.quantity_recovered = amount
        recall.save()
    return row


def _check_progress(recall: Recall, period_end: dt.date, amount: Decimal) -> None:
    if period_end < recall.started_on:
        raise RecallRefused({"period_end": _("报告期截止日不能早于开始实施日期（%(date)s）。")
                             % {"date": recall.started_on.isoformat()}}, code="bad_date")
    if period_end > _today():
        raise RecallRefused({"period_end": _("报告期截止日不能晚于今天。")}, code="bad_date")
    last = _last_progress(recall)
    if last is not None and period_end <= last.period_end:
        raise RecallRefused({"period_end": _("报告期截止日应晚于上次报告的截止日（%(date)s）。")
                             % {"date": last.period_end.isoformat()}}, code="bad_date")
    if amount < recall.quantity_recovered:
        raise RecallRefused({"quantity_recovered": _("累计召回数量不能少于上次报告的数量（%(n)s）。")
                             % {"n": _plain(recall.quantity_recovered)}}, code="bad_number")
    if recall.quantity_made is not None and amount > recall.quantity_made:
        raise RecallRefused({"quantity_recovered": _("累计召回数量不能大于生产数量。")}, code="bad_number")


def acknowledge_notice(notice: RecallNotice, user, quantity_returned, on: dt.date | None = None) -> RecallNotice:
    """The holder confirms the notice (its enterprise user only) and says how much it has returned so far
    (cumulative; it may answer again while the recall runs)."""
    on = on or _today()
    amount = _amount(quantity_returned, "quantity_returned", _("已退回数量"))
    with audit.attributed_to(user), transaction.atomic():
        notice = RecallNotice.objects.select_for_update().select_related("recall").get(pk=notice.pk)
        if not (user is not None and user.is_authenticated and user.role == Role.ENTERPRISE
                and user.entity_id == notice.entity_id):
            raise RecallRefused(_("只有收到通知的企业本身可以确认召回通知。"), code="not_permitted")
        _require_status(notice.recall, Status.PLANNED, Status.IN_PROGRESS)
        if notice.quantity is not None and amount > notice.quantity:
            raise RecallRefused({"quantity_returned": _("已退回数量不能大于涉及数量（%(n)s）。")
                                 % {"n": _plain(notice.quantity)}}, code="bad_number")
        notice.acknowledged_on = notice.acknowledged_on or on
        notice.quantity_returned = amount
        notice.save()
    return notice


# --- completion and publication ---------------------------------------------------------------------


def complete(recall: Recall, user, summary: str, completed_on: dt.date, quantity_recovered=None) -> Recall:
    """Complete the recall with its summary (the producer's user or an officer in scope): a final progress
    row (``quantity_recovered`` None keeps the last reported figure)."""
    completed_on = _date(completed_on, "completed_on", _("完成日期"))
    if not (summary or "").strip():
        raise RecallRefused({"summary": _("请填写总结报告。")}, code="missing")
    with audit.attributed_to(user), transaction.atomic():
        recall = _locked(recall)
        _require_producer_or_officer(user, recall)
        _require_status(recall, Status.IN_PROGRESS)
        amount = (recall.quantity_recovered if quantity_recovered in (None, "")
                  else _amount(quantity_recovered, "quantity_recovered", _("累计召回数量")))
        last = _last_progress(recall)
        if last is not None and completed_on < last.period_end:
            raise RecallRefused({"completed_on": _("完成日期不能早于最后一次进展报告的截止日。")}, code="bad_date")
        if completed_on < recall.started_on or completed_on > _today():
            raise RecallRefused({"completed_on": _("完成日期应在开始实施日期与今天之间。")}, code="bad_date")
        if amount < recall.quantity_recovered or (recall.quantity_made is not None and amount > recall.quantity_made):
            raise RecallRefused({"quantity_recovered": _("累计召回数量不能少于上次报告的数量，也不能大于生产数量。")},
                                code="bad_number")
        RecallProgress.objects.create(recall=recall, period_end=completed_on, quantity_recovered=amount,
                                      text=summary.strip(), final=True, submitted_by=user)
        recall.quantity_recovered = amount
        recall.summary = summary.strip()
        recall.completed_on = completed_on
        recall.status = Status.COMPLETED
        recall.save()
    return recall


def summary_due_on(recall: Recall) -> dt.date | None:
    """When the completion summary is due (15 working days after completion [verify]); None before
    completion or beyond the published calendar."""
    if recall.completed_on is None:
        return None
    try:
        return add_working_days(recall.completed_on, SUMMARY_WORKING_DAYS)
    except CalendarNotCovered:
        return None


def effectiveness(recall: Recall) -> Decimal | None:
    """Quantity recovered / quantity sold, a share (0.85 = 85 %) rounded to 4 places; None when no
    quantity sold is known."""
    if not recall.quantity_sold:
        return None
    return (Decimal(recall.quantity_recovered) / Decimal(recall.quantity_sold)).quantize(Decimal("0.0001"))


def publish(recall: Recall, user, on: dt.date | None = None) -> Recall:
    """Publish the recall notice on the public portal (officer in scope; the plan must be filed)."""
    on = on or _today()
    with audit.attributed_to(user), transaction.atomic():
        recall = _locked(recall)
        _require_officer(user, recall)
        _require_status(recall, Status.PLANNED, Status.IN_PROGRESS, Status.COMPLETED)
        if recall.published:
            raise RecallRefused(_("该召回已公告。"), code="already_published")
        recall.published, recall.published_on = True, on
        recall.save()
    return recall


# --- public -----------------------------------------------------------------------------------------


def public_recalls() -> QuerySet:
    """Published recalls for the public portal, newest notice first (no sign-in needed; show only the
    fields of ``public_payload``)."""
    return (Recall.objects.filter(published=True).select_related("producer", "product")
            .order_by("-published_on", "-id"))


def recall_status_for(gtin: str, batch: str | None = None) -> list[Recall]:
    """The published recalls covering a product, for the consumer lookup.

    ``gtin``: any GTIN form ``identifiers.parse_identifier`` accepts (8–14 digits); ``batch``: the
    batch/lot or None. A recall covers the lookup when its plan names this GTIN + batch, or names the
    GTIN alone (all its batches). With ``batch`` None only recalls of all batches match (a batch recall
    says nothing about another batch). Returns a list of ``Recall`` (newest first; empty when none);
    raises ``identifiers.IdentifierError`` for a malformed GTIN or batch.
    """
    key = identifiers.parse_identifier(gtin)
    if key.kind != identifiers.Kind.GTIN:
        raise identifiers.IdentifierError("not_gtin", _("请输入商品条码（GTIN）。"))
    whole = key.canonical
    wanted = [whole]
    if batch:
        wanted.append(identifiers.parse_identifier(f"{whole}/10/{batch.strip()}").canonical)
    queryset = public_recalls()
    if connection.vendor == "postgresql":
        condition = Q()
        for value in wanted:
            condition |= Q(batches__contains=[value])
        return list(queryset.filter(condition))
    # SQLite has no JSON containment: check in Python (development databases only).
    return [r for r in queryset if set(wanted) & set(r.batches or [])]


def public_payload(recall: Recall) -> dict:
    """The public fields of a published recall (nothing internal: no investigation, scope or notices)."""
    return {
        "number": recall.number, "producer": recall.producer.name, "producer_uscc": recall.producer.uscc,
        "product": recall.product.name if recall.product_id else "", "kind": recall.kind,
        "kind_display": str(recall.get_kind_display()), "status": recall.status,
        "status_display": str(recall.get_status_display()), "hazard": recall.hazard,
        "defect_cause": recall.defect_cause, "remedy": recall.remedy, "batches": list(recall.batches or []),
        "quantity_made": _plain(recall.quantity_made) if recall.quantity_made is not None else None,
        "started_on": recall.started_on.isoformat() if recall.started_on else None,
        "completed_on": recall.completed_on.isoformat() if recall.completed_on else None,
        "published_on": recall.published_on.isoformat() if recall.published_on else None,
    }
