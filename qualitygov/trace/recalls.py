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
  defect and cause, remedy, notification, timetable — all required [reported], and what consumers
  should do (``consumer_advice``: stop using, return, how to get the remedy), also required. Our
  reading: Order 19 covers consumer products only, so every plan here is a consumer product's, and
  its public notice must tell the consumer what to do — Consumer Rights Law Art. 19 (checked in
  ../shared/policy/laws/consumer-rights-law.md) obliges the business to inform consumers of a defect
  and the measures taken; the vehicle regime (缺陷汽车产品召回管理条例 Art. 18, same folder) names
  the emergency handling that avoids harm as part of the recall information. Order 19's own list of
  plan contents (RULES.md) does not name it separately. Filing computes the
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
  / quantity in scope (``quantity_in_scope``: what reached the end holders of the forward trace —
  shops, users' plants — when the plan was filed; the plan's quantity sold when the trace knows none).
- ``publish``: the public notice on the portal (``public_recalls``, ``public_payload``,
  ``recall_status_for``): product, producer, batches, hazard, remedy, what consumers should do
  (``consumer_advice``: the plan's own words; for recalls filed before the plan had that field, a
  plain advice built from the remedy), dates and status — never the scope, the holders' quantities
  or the officers' investigation.
- ``officer_report``: what officers follow up — reports late against the 2-working-day clock,
  progress reports due and overdue, completions with their summary deadline and effectiveness.
- ``batch_defaults``: a recall started by an officer from a traced batch (e.g. one that failed a
  spot check): the producer and product from the batch's registered GTIN, and the failed spot
  check's findings as the hazard.

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
from django.db.models import Count, F, Max, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from qualitygov.core import audit
from qualitygov.core.roles import CHANGE, Role
from qualitygov.core.workdays import CalendarNotCovered, add_working_days
from qualitygov.trace import identifiers, tracing
from qualitygov.trace.models import EventIdentifier, Location, Recall, RecallNotice, RecallProgress

__all__ = ["PLAN_FIELDS", "PROGRESS_MONTHS", "REPORT_WORKING_DAYS", "SUMMARY_WORKING_DAYS", "RecallRefused",
           "acknowledge_notice", "batch_defaults", "can_act_as_officer", "can_act_as_producer", "complete",
           "compute_scope", "consumer_advice", "effectiveness", "file_plan", "investigate", "is_report_late",
           "officer_report", "order_recall", "overdue_progress", "parse_batches", "progress_due_on",
           "public_payload", "public_recalls", "publish", "quantity_in_scope", "recall_status_for", "report",
           "report_progress", "start", "summary_due_on", "with_progress_base"]

REPORT_WORKING_DAYS = 2  # Order 19 [reported]
PROGRESS_MONTHS = 3  # Order 19 [verify]
SUMMARY_WORKING_DAYS = 15  # Order 19 [verify]

Status = Recall.Status
Kind = Recall.Kind

# The plan's contents (besides the batches) and their Chinese names, for "missing" messages: Order 19's
# list and what consumers should do (see the module docstring).
PLAN_FIELDS = {
    "quantity_made": gettext_noop("生产数量"), "quantity_sold": gettext_noop("销售数量"),
    "channels": gettext_noop("销售渠道与地区"), "defect_cause": gettext_noop("缺陷及原因"),
    "remedy": gettext_noop("补救措施"), "notification": gettext_noop("通知方式"),
    "consumer_advice": gettext_noop("消费者应采取的措施"), "timetable": gettext_noop("进度安排"),
}
PLAN_TEXTS = ("channels", "defect_cause", "remedy", "notification", "consumer_advice", "timetable")
OFFICER_ROLES = frozenset({Role.PROVINCE_ADMIN, Role.PROVINCE_OFFICER, Role.CITY_OFFICER, Role.COUNTY_OFFICER})
GS1 = "https://id.gs1.org/01/"
# Places that pass goods on: what they received is counted again where it went (see ``compute_scope``).
PASS_THROUGH_KINDS = frozenset({Location.Kind.DISTRIBUTION, Location.Kind.WAREHOUSE})


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
    ({uom: quantity}), ``quantity`` (the total when one unit, else None), ``uom``, ``batches`` and
    ``end_quantities`` ({uom: quantity} received at the entity's places that do not pass goods on —
    every kind but distribution and warehouse —, which ``quantity_in_scope`` adds up without counting
    a distributor's goods again at the shops)."""
    table: dict[object, dict] = {}
    results = []
    for batch in batches:
        for start in _classes_of(batch):
            try:
                result = tracing.trace(start, tracing.FORWARD, user=None)
            except tracing.TraceError as error:
                if error.code == "not_found":
                    continue  # not captured: nobody is known to hold it
                raise
            results.append((start, result))
    glns = {h["gln"] for _start, result in results for h in result["holders"] if h["gln"]}
    kinds = dict(Location.objects.filter(gln__in=glns).values_list("gln", "kind"))
    for start, result in results:
        for holder in result["holders"]:
            key = holder["entity_id"] if holder["entity_id"] is not None else f"gln:{holder['gln']}"
            row = table.setdefault(key, {
                "entity_id": holder["entity_id"], "entity": holder["entity"], "region_code": holder["region_code"],
                "region": holder["region"], "locations": [], "quantities": defaultdict(Decimal),
                "end_quantities": defaultdict(Decimal), "batches": []})
            if holder["gln"] and holder["gln"] not in row["locations"]:
                row["locations"].append(holder["gln"])
            amount = Decimal(str(holder["quantity"] or 0))
            row["quantities"][holder["uom"] or ""] += amount
            if kinds.get(holder["gln"]) not in PASS_THROUGH_KINDS:
                row["end_quantities"][holder["uom"] or ""] += amount
            if start not in row["batches"]:
                row["batches"].append(start)
    out = []
    for row in table.values():
        quantities = {uom: _plain(amount) for uom, amount in sorted(row["quantities"].items())}
        single = len(quantities) == 1
        ends = {uom: _plain(amount) for uom, amount in sorted(row["end_quantities"].items()) if amount}
        out.append({**row, "locations": sorted(row["locations"]), "location_gln": min(row["locations"], default=""),
                    "quantities": quantities, "quantity": next(iter(quantities.values())) if single else None,
                    "uom": next(iter(quantities)) if single else "", "batches": sorted(row["batches"]),
                    "end_quantities": ends})
    return sorted(out, key=lambda r: (r["region_code"] or "", r["entity"] or "", r["location_gln"]))


def _plain(amount: Decimal):
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def file_plan(recall: Recall, user, *, batches=None, quantity_made=None, quantity_sold=None, channels: str = "",
              defect_cause: str = "", remedy: str = "", notification: str = "", consumer_advice: str = "",
              timetable: str = "", filed_on: dt.date | None = None) -> Recall:
    """File the recall plan (the producer's user or an officer in scope) with all of Order 19's contents
    and what consumers should do (``consumer_advice``, shown on the public notice and the consumer
    lookup); missing ones are named in one refusal (``plan_incomplete``). Computes the scope
    (``compute_scope``), stores it and sends a notice to every holder entity other than the producer
    (bulk). ``batches`` None keeps the reported ones."""
    filed_on = filed_on or _today()
    parsed = parse_batches(batches) if batches is not None else list(recall.batches or [])
    texts = {"channels": channels, "defect_cause": defect_cause, "remedy": remedy, "notification": notification,
             "consumer_advice": consumer_advice, "timetable": timetable}
    values = {"quantity_made": quantity_made, "quantity_sold": quantity_sold,
              **{name: (texts[name] or "").strip() for name in PLAN_TEXTS}}
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
        for name in PLAN_TEXTS:
            setattr(recall, name, values[name])
        recall.plan_filed_on = filed_on
        if recall.product_id is None:
            # Order 19's plan names the product: the producer's registered product with the batches' GTIN.
            recall.product = _registered_product(parsed, recall.producer_id)
        recall.scope = scope
        recall.scope_computed_at = timezone.now()
        recall.status = Status.PLANNED
        recall.save()
        notices = [RecallNotice(recall=recall, entity_id=row["entity_id"], location_gln=row["location_gln"],
                                quantity=row["quantity"], sent_on=filed_on)
                   for row in scope if row["entity_id"] is not None and row["entity_id"] != recall.producer_id]
        RecallNotice.objects.bulk_create(notices)
    return recall


def _registered_product(batches: list[str], producer_id: int):
    from qualitygov.registry.models import Product

    gtins = sorted({identifiers.parse_identifier(batch).gtin for batch in batches})
    return Product.objects.filter(gtin__in=gtins, producer_id=producer_id).order_by("gtin", "pk").first()


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
    queryset = with_progress_base(Recall.objects.all() if queryset is None else queryset)
    return queryset.filter(status=Status.IN_PROGRESS, progress_base__lt=on - relativedelta(months=PROGRESS_MONTHS))


def with_progress_base(queryset: QuerySet) -> QuerySet:
    """``queryset`` annotated with ``progress_base``: the last progress report's period end, else the
    start (None before the start); the next report is due ``PROGRESS_MONTHS`` after it. Annotated once."""
    if "progress_base" in queryset.query.annotations:
        return queryset
    return queryset.annotate(progress_base=Coalesce(Max("progress__period_end"), "started_on"))


def _due_from(base: dt.date | None) -> dt.date | None:
    return base + relativedelta(months=PROGRESS_MONTHS) if base is not None else None


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


def quantity_in_scope(recall: Recall) -> Decimal | None:
    """The quantity the recall has to bring back: what the forward trace found at the end holders when
    the plan was filed (``compute_scope``'s ``end_quantities`` of every holder but the producer, added
    up when they are in one unit), else the plan's quantity sold (the trace knows none, or mixes
    units); None when neither is known."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in recall.scope or []:
        if row.get("entity_id") is not None and row.get("entity_id") == recall.producer_id:
            continue
        for uom, amount in (row.get("end_quantities") or {}).items():
            totals[uom] += Decimal(str(amount))
    totals = {uom: amount for uom, amount in totals.items() if amount}
    if len(totals) == 1:
        return next(iter(totals.values()))
    return Decimal(recall.quantity_sold) if recall.quantity_sold else None


def effectiveness(recall: Recall) -> Decimal | None:
    """Quantity recovered / quantity in scope (``quantity_in_scope``), a share (0.85 = 85 %) rounded to
    4 places; None when no quantity in scope is known."""
    total = quantity_in_scope(recall)
    if not total:
        return None
    return (Decimal(recall.quantity_recovered) / total).quantize(Decimal("0.0001"))


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


def public_recalls(search: str = "") -> QuerySet:
    """Published recalls for the public portal, newest notice first (no sign-in needed; show only the
    fields of ``public_payload``). ``search``: words of the product or producer name, the producer's
    USCC, the recall number, a batch number or a product code (GTIN, GTIN + batch or Digital Link)."""
    queryset = (Recall.objects.filter(published=True).select_related("producer", "producer__region", "product")
                .order_by("-published_on", "-id"))
    value = (search or "").strip()
    if not value:
        return queryset
    condition = (Q(product__name__icontains=value) | Q(producer__name__icontains=value)
                 | Q(producer__uscc__iexact=value) | Q(number__iexact=value))
    try:
        key = identifiers.parse_lookup_code(value)
    except identifiers.IdentifierError:
        key = None
    if key is not None and key.gtin:
        # A product code: the recalls of this GTIN + batch, or of any batch of the GTIN.
        wanted = key.class_key().canonical if key.batch else GS1 + key.gtin
        condition |= Q(batches__icontains=wanted)
    elif "/" not in value:
        # A batch number alone: the plan's batches end in "/10/<batch>".
        condition |= Q(batches__icontains=f"/10/{value}")
    return queryset.filter(condition)


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


def consumer_advice(recall: Recall) -> str:
    """What a consumer holding the product should do: the plan's ``consumer_advice`` as filed. A recall
    whose plan was filed before the plan had that field (empty advice) gets a plain advice built from
    the plan's remedy instead, so its public notice still tells the consumer what to do."""
    advice = (recall.consumer_advice or "").strip()
    if advice:
        return advice
    remedy = (recall.remedy or "").strip()
    if remedy:
        return _("请核对产品包装上的商品条码和批号。属于召回批次的，请立即停止使用，并联系生产者或销售者按以下补救措施处理："
                 "%(remedy)s") % {"remedy": remedy}
    return _("请核对产品包装上的商品条码和批号。属于召回批次的，请立即停止使用，并联系生产者或销售者。")


def _batch_rows(batches) -> list[dict]:
    rows = []
    for batch in batches or []:
        gtin, _sep, lot = batch.removeprefix(GS1).partition("/10/")
        rows.append({"identifier": batch, "gtin": gtin, "batch": lot, "all_batches": not lot,
                     "path": f"/01/{gtin}" + (f"/10/{lot}" if lot else "")})
    return rows


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def public_payload(recall: Recall) -> dict:
    """The public fields of a published recall: product, producer, batches, hazard, defect, remedy, what
    consumers should do, dates and status. Nothing internal: no investigation, scope, notices, holders
    or their quantities, channels or officers."""
    return {
        "number": recall.number, "producer": recall.producer.name, "producer_uscc": recall.producer.uscc,
        "producer_region": recall.producer.region.name if recall.producer.region_id else "",
        "product": recall.product.name if recall.product_id else "",
        "product_model": recall.product.model if recall.product_id else "",
        "kind": recall.kind, "kind_display": str(recall.get_kind_display()), "status": recall.status,
        "status_display": str(recall.get_status_display()), "hazard": recall.hazard,
        "defect_cause": recall.defect_cause, "remedy": recall.remedy, "consumer_advice": consumer_advice(recall),
        "batches": list(recall.batches or []), "batch_rows": _batch_rows(recall.batches),
        "quantity_made": _plain(recall.quantity_made) if recall.quantity_made is not None else None,
        "reported_on": _iso(recall.reported_on), "plan_filed_on": _iso(recall.plan_filed_on),
        "started_on": _iso(recall.started_on), "completed_on": _iso(recall.completed_on),
        "published_on": _iso(recall.published_on),
    }


# --- officers' follow-up ----------------------------------------------------------------------------


def officer_report(queryset: QuerySet, on: dt.date | None = None, horizon_days: int = 30) -> dict:
    """What officers follow up in ``queryset`` (the recalls in their scope) on ``on`` (today):

    * ``counts``: recalls per status, and how many are ordered or published;
    * ``late_reports``: reports made after the 2-working-day deadline (Order 19 [reported]);
    * ``open_reports``: reported or under investigation, no plan yet, with the days since the report;
    * ``progress``: recalls in progress with their next quarterly report date, ``overdue`` when it has
      passed, ``due_soon`` when it falls within ``horizon_days`` (the overdue first);
    * ``completed``: completed recalls with the summary deadline (15 working days [verify]), quantity
      in scope, quantity recovered and effectiveness.

    Set-based: one query per list (the progress base is a database aggregate)."""
    on = on or _today()
    base = queryset.select_related("producer", "producer__region", "product")
    counts = {row["status"]: row["n"] for row in queryset.order_by().values("status").annotate(n=Count("id"))}
    progress = []
    for recall in with_progress_base(base.filter(status=Status.IN_PROGRESS)).order_by("progress_base", "id"):
        due = _due_from(recall.progress_base)
        progress.append({"recall": recall, "due_on": due, "overdue": due is not None and due < on,
                         "due_soon": due is not None and on <= due <= on + dt.timedelta(days=horizon_days),
                         "days": (due - on).days if due else None,
                         "days_overdue": (on - due).days if due is not None and due < on else 0})
    completed = []
    for recall in base.filter(status=Status.COMPLETED).order_by("-completed_on", "-id"):
        completed.append({"recall": recall, "summary_due_on": summary_due_on(recall),
                          "quantity_in_scope": quantity_in_scope(recall), "effectiveness": effectiveness(recall)})
    return {
        "on": on,
        "counts": {"by_status": [(value, str(label), counts.get(value, 0)) for value, label in Status.choices],
                   "total": sum(counts.values()), "ordered": queryset.filter(kind=Kind.ORDERED).count(),
                   "published": queryset.filter(published=True).count()},
        "late_reports": list(base.filter(report_due_on__isnull=False, reported_on__gt=F("report_due_on"))
                             .order_by("-reported_on", "-id")),
        "open_reports": [{"recall": r, "days": (on - r.reported_on).days}
                         for r in base.filter(status__in=[Status.REPORTED, Status.INVESTIGATING])
                         .order_by("reported_on", "id")],
        "progress": [*(p for p in progress if p["overdue"]), *(p for p in progress if not p["overdue"])],
        "completed": completed,
    }


# --- starting from a traced batch -------------------------------------------------------------------


def batch_defaults(text: str, user) -> dict:
    """What a recall started from one traced batch begins with: ``batches`` (canonical), ``product`` and
    ``producer`` (the registered product with the batch's GTIN, within the user's scope) and, when a
    spot check found that batch unqualified, ``sample`` and a ``hazard`` text naming its findings.
    Raises ``RecallRefused`` (``bad_batch``, ``unknown_product``) with a Chinese message."""
    from qualitygov.registry.models import Product

    try:
        # The trace page's forms too: "GTIN batch", element strings and Digital Links.
        text = identifiers.parse_lookup_code(text).canonical
    except identifiers.IdentifierError:
        pass  # parse_batches names what is wrong with it
    batches = parse_batches([text])
    if not batches:
        raise RecallRefused({"batches": [_("请填写涉及批次。")]}, code="bad_batch")
    key = identifiers.parse_identifier(batches[0])
    product = (Product.objects.restrict(user).select_related("producer").filter(gtin=key.gtin).first()
               if user is not None else None)
    if product is None:
        raise RecallRefused({"batches": [_("商品条码 %(gtin)s 的产品未在本平台登记，或不在您的辖区内。")
                                         % {"gtin": key.gtin}]}, code="unknown_product")
    out = {"batches": batches, "product": product, "producer": product.producer, "sample": None, "hazard": ""}
    if key.batch:
        from qualitygov.inspection.models import Sample

        sample = (Sample.objects.restrict(user).filter(product=product, batch_number=key.batch,
                                                       verdict__in=["unqualified", "seriously_unqualified"])
                  .order_by("-sampled_on", "-pk").first())
        if sample is not None:
            items = "、".join(item.get("name") or item.get("code", "") for item in sample.failing_items or [])
            out["sample"] = sample
            out["hazard"] = _("监督抽查检验不合格（抽样单编号 %(number)s，抽样日期 %(day)s，结论：%(verdict)s），"
                              "不合格项目：%(items)s。") % {"number": sample.number, "day": sample.sampled_on.isoformat(),
                                                      "verdict": sample.get_verdict_display(), "items": items or "—"}
    return out
