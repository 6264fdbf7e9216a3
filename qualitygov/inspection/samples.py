"""Sampling records (抽样单): taking the sample, a refusal (拒检), custody of samples, attachments.

Rules (SAMR Order 18 and Product Quality Law Art. 15): at least two samplers; samplers never test
(no sampler may be on the staff of the lab that tests the task); samples are taken from products
awaiting sale within the plan's window; at least the rule version's test and spare quantities are
taken; samples are paid for (the cost and payment date are recorded). A refusal is itself a finding:
it is final at once and handed to the credit ledger when results are published.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
from collections.abc import Iterable
from pathlib import PurePath

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qualitygov.core import audit
from qualitygov.core.models import User
from qualitygov.core.roles import Role
from qualitygov.core.text import join_list
from qualitygov.inspection.errors import Refused
from qualitygov.inspection.models import CustodyEvent, InspectionTask, Sample, SampleAttachment
from qualitygov.registry.models import Product

__all__ = [
    "SampleRefused", "record_sample", "record_refusal", "add_custody_event", "attach_file", "next_sample_number",
    "CUSTODY_ORDER", "ATTACHMENT_TYPES", "MAX_ATTACHMENT_BYTES",
]

# Custody of each portion moves forward only: sealed on site, sent to the lab, received, stored,
# returned to the entity once the result is final.
CUSTODY_ORDER = [CustodyEvent.Event.SEALED, CustodyEvent.Event.SENT, CustodyEvent.Event.RECEIVED,
                 CustodyEvent.Event.STORED, CustodyEvent.Event.RETURNED]
ATTACHMENT_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".pdf": "application/pdf"}
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


class SampleRefused(Refused):
    """A sampling record or custody step the rules do not allow; the message says why, in Chinese."""


def next_sample_number(on_date: dt.date) -> str:
    """Next sampling-record number of the year: ``CY2026000123``."""
    stem = f"CY{on_date.year}"
    last = (Sample.objects.filter(number__startswith=stem).order_by("-number")
            .values_list("number", flat=True).first())
    sequence = int(last[len(stem):]) + 1 if last else 1
    return f"{stem}{sequence:06d}"


# Who records what happened on site: the samplers themselves, or an officer of the unit.
RECORDER_ROLES = {Role.INSPECTOR, Role.PROVINCE_ADMIN, Role.PROVINCE_OFFICER, Role.CITY_OFFICER, Role.COUNTY_OFFICER}


def _check_recorder(user: User) -> None:
    if not user.is_superuser and user.role not in RECORDER_ROLES:
        raise SampleRefused(_("抽样单由抽样人员或监管人员录入；检验机构和企业不能录入抽样单。"), code="not_recorder")


def _check_task_open(task: InspectionTask) -> None:
    existing = Sample.objects.filter(task=task).values_list("number", flat=True).first()
    if existing:
        raise SampleRefused(_("该任务已有抽样单 %(number)s，不能重复录入。") % {"number": existing},
                            code="duplicate_sample")
    if task.status != InspectionTask.Status.ASSIGNED:
        raise SampleRefused(_("该任务的状态为“%(status)s”，不能录入抽样单。") % {"status": task.get_status_display()},
                            code="task_not_open")


def _check_samplers(task: InspectionTask, inspectors: list[User], sampled_on: dt.date) -> None:
    plan = task.quota.plan
    if not plan.starts_on <= sampled_on <= plan.ends_on:
        raise SampleRefused({"sampled_on": _("抽样日期 %(date)s 不在计划的抽查时间（%(start)s 至 %(end)s）内。")
                             % {"date": sampled_on.isoformat(), "start": plan.starts_on.isoformat(),
                                "end": plan.ends_on.isoformat()}}, code="outside_window")
    if sampled_on > timezone.localdate():
        raise SampleRefused({"sampled_on": _("抽样日期不能晚于今天。")}, code="future_date")
    if len({user.pk for user in inspectors}) < 2:
        raise SampleRefused({"inspectors": _("抽样人员不得少于两名。")}, code="too_few_samplers")
    not_inspectors = [str(user) for user in inspectors if user.role != Role.INSPECTOR]
    if not_inspectors:
        raise SampleRefused({"inspectors": _("%(names)s 不是执法检查人员，不能担任抽样人员。")
                             % {"names": join_list(not_inspectors)}}, code="not_inspector")
    testers = set(task.quota.lab.staff.values_list("pk", flat=True))
    both = [str(user) for user in inspectors if user.pk in testers]
    if both:
        raise SampleRefused({"inspectors": _("%(names)s 是承检机构的检验人员：抽样与检验不得由同一人员承担。")
                             % {"names": join_list(both)}}, code="sampler_tests")


def _dimensions(task: InspectionTask) -> dict:
    entity = task.entity
    quota = task.quota
    return {"task": task, "plan": quota.plan, "entity": entity, "category": quota.category,
            "region_id": entity.region_id, "industry_id": entity.industry_id, "size_class": entity.size_class,
            "stage": quota.stage, "rule_version": quota.rule_version}


def record_sample(task: InspectionTask, *, user: User, sampled_on: dt.date, inspectors: Iterable[User],
                  product_name: str, batch_number: str, test_quantity: int, spare_quantity: int,
                  product: Product | None = None, brand: str = "", specification: str = "",
                  production_date: dt.date | None = None, lot_size: int | None = None, sample_unit: str = "",
                  sample_cost_cny: decimal.Decimal = decimal.Decimal(0), cost_paid_on: dt.date | None = None,
                  place: str = "", seal_number: str = "") -> Sample:
    """Record the sample taken for ``task``; seals both portions (custody starts at the site)."""
    inspectors = list(inspectors)
    _check_recorder(user)
    _check_task_open(task)
    _check_samplers(task, inspectors, sampled_on)
    version = task.quota.rule_version
    errors: dict[str, str] = {}
    if not (product_name or "").strip():
        errors["product_name"] = _("请填写样品名称。")
    if not (batch_number or "").strip():
        errors["batch_number"] = _("请填写生产批号（无批号时填写生产日期或“无”）。")
    if test_quantity < version.test_sample_count:
        errors["test_quantity"] = _("检验样品数量 %(n)d 少于实施细则要求的 %(need)d %(unit)s。") % {
            "n": test_quantity, "need": version.test_sample_count, "unit": version.sample_unit}
    if spare_quantity < version.spare_sample_count:
        errors["spare_quantity"] = _("备用样品数量 %(n)d 少于实施细则要求的 %(need)d %(unit)s。") % {
            "n": spare_quantity, "need": version.spare_sample_count, "unit": version.sample_unit}
    if production_date and production_date > sampled_on:
        errors["production_date"] = _("生产日期不能晚于抽样日期。")
    if lot_size is not None and lot_size < test_quantity + spare_quantity:
        errors["lot_size"] = _("批量 %(lot)d 小于抽取的样品总数 %(n)d。") % {"lot": lot_size,
                                                                       "n": test_quantity + spare_quantity}
    if decimal.Decimal(sample_cost_cny or 0) < 0:
        errors["sample_cost_cny"] = _("样品费用不能为负数。")
    if cost_paid_on and cost_paid_on < sampled_on:
        errors["cost_paid_on"] = _("样品费支付日期不能早于抽样日期。")
    if product is not None:
        if product.producer_id != task.entity_id and task.quota.stage == "production":
            errors["product"] = _("所选产品不是被抽样企业生产的产品。")
        elif not product.category_id.startswith(task.quota.category_id):
            errors["product"] = _("所选产品的类别与任务的产品类别“%(category)s”不符。") % {
                "category": task.quota.category.name}
    if errors:
        raise SampleRefused(errors, code="invalid_sample")
    with transaction.atomic(), audit.attributed_to(user):
        sample = Sample.objects.create(
            number=next_sample_number(sampled_on), outcome=Sample.Outcome.SAMPLED, status=Sample.Status.SAMPLED,
            sampled_on=sampled_on, place=place, product=product, product_name=product_name.strip(), brand=brand,
            specification=specification, batch_number=batch_number.strip(), production_date=production_date,
            lot_size=lot_size, test_quantity=test_quantity, spare_quantity=spare_quantity,
            sample_unit=sample_unit or version.sample_unit, sample_cost_cny=sample_cost_cny or 0,
            cost_paid_on=cost_paid_on, **_dimensions(task))
        sample.inspectors.set(inspectors)
        # Sealed on site on the sampling day: now when recorded the same day, else midday of that day.
        sealed_at = min(timezone.now(), timezone.make_aware(dt.datetime.combine(sampled_on, dt.time(12))))
        for portion in (CustodyEvent.Portion.TEST, CustodyEvent.Portion.SPARE):
            CustodyEvent.objects.create(sample=sample, portion=portion, event=CustodyEvent.Event.SEALED,
                                        happened_at=sealed_at, by=user, location=place, seal_number=seal_number)
        InspectionTask.objects.filter(pk=task.pk).update(status=InspectionTask.Status.SAMPLED)
        task.status = InspectionTask.Status.SAMPLED
    return sample


def record_refusal(task: InspectionTask, *, user: User, sampled_on: dt.date, inspectors: Iterable[User],
                   reason: str, place: str = "") -> Sample:
    """Record that the entity refused sampling (拒检): a finding in itself, final at once."""
    inspectors = list(inspectors)
    _check_recorder(user)
    _check_task_open(task)
    _check_samplers(task, inspectors, sampled_on)
    if not (reason or "").strip():
        raise SampleRefused({"refusal_reason": _("请写明拒检情况（时间、人员、理由、告知的法律后果）。")},
                            code="refusal_reason")
    with transaction.atomic(), audit.attributed_to(user):
        sample = Sample.objects.create(
            number=next_sample_number(sampled_on), outcome=Sample.Outcome.REFUSED, status=Sample.Status.FINAL,
            sampled_on=sampled_on, final_on=sampled_on, place=place, refusal_reason=reason.strip(),
            **_dimensions(task))
        sample.inspectors.set(inspectors)
        InspectionTask.objects.filter(pk=task.pk).update(status=InspectionTask.Status.REFUSED)
        task.status = InspectionTask.Status.REFUSED
    return sample


def add_custody_event(sample: Sample, *, user: User, portion: str, event: str, happened_at: dt.datetime | None = None,
                      location: str = "", seal_number: str = "", note: str = "") -> CustodyEvent:
    """Record the next custody step of a portion; steps move forward only, one at a time except that
    storing may follow receipt directly and a returned sample needs a final result."""
    if sample.outcome != Sample.Outcome.SAMPLED:
        raise SampleRefused(_("拒检记录没有样品，不能登记样品流转。"), code="refused_no_sample")
    if portion not in CustodyEvent.Portion.values:
        raise SampleRefused({"portion": _("样品部分只能是检验样品或备用样品。")}, code="portion")
    if event not in CustodyEvent.Event.values:
        raise SampleRefused({"event": _("未知的流转环节：%(event)s。") % {"event": event}}, code="event")
    happened_at = happened_at or timezone.now()
    last = (CustodyEvent.objects.filter(sample=sample, portion=portion).order_by("-happened_at", "-id").first())
    position = CUSTODY_ORDER.index(event)
    last_position = CUSTODY_ORDER.index(last.event) if last else -1
    if position <= last_position:
        raise SampleRefused({"event": _("%(portion)s已处于“%(last)s”环节，不能再登记“%(event)s”。") % {
            "portion": CustodyEvent.Portion(portion).label, "last": last.get_event_display(),
            "event": CustodyEvent.Event(event).label}}, code="custody_order")
    if position != last_position + 1 and not (event == CustodyEvent.Event.RETURNED
                                               and last_position >= CUSTODY_ORDER.index(CustodyEvent.Event.RECEIVED)):
        expected = CUSTODY_ORDER[last_position + 1]
        raise SampleRefused({"event": _("流转环节须依次登记：下一环节应为“%(expected)s”。")
                             % {"expected": CustodyEvent.Event(expected).label}}, code="custody_order")
    if last and happened_at < last.happened_at:
        raise SampleRefused({"happened_at": _("流转时间不能早于上一环节（%(time)s）。")
                             % {"time": timezone.localtime(last.happened_at).strftime("%Y-%m-%d %H:%M")}},
                            code="custody_time")
    if event == CustodyEvent.Event.RETURNED and sample.status not in (Sample.Status.FINAL, Sample.Status.PUBLISHED):
        raise SampleRefused({"event": _("检验结果确定前不能退还样品。")}, code="return_before_final")
    with audit.attributed_to(user):
        return CustodyEvent.objects.create(sample=sample, portion=portion, event=event, happened_at=happened_at,
                                           by=user, location=location, seal_number=seal_number, note=note)


def attach_file(sample: Sample, *, user: User, kind: str, uploaded) -> SampleAttachment:
    """Keep a photo, the signed slip or a refusal record with the sample (JPEG, PNG or PDF, ≤ 10 MB)."""
    name = PurePath(getattr(uploaded, "name", "") or "file").name
    suffix = PurePath(name).suffix.lower()
    if kind not in SampleAttachment.Kind.values:
        raise SampleRefused({"kind": _("未知的附件类型。")}, code="kind")
    if suffix not in ATTACHMENT_TYPES:
        raise SampleRefused({"file": _("只接受 JPG、PNG 或 PDF 文件，“%(name)s”不是。") % {"name": name}}, code="file_type")
    size = uploaded.size
    limit = getattr(settings, "SAMPLE_ATTACHMENT_MAX_BYTES", MAX_ATTACHMENT_BYTES)
    if size > limit:
        raise SampleRefused({"file": _("文件 %(size).1f MB，超过 %(limit).0f MB 的上限。")
                             % {"size": size / 1048576, "limit": limit / 1048576}}, code="file_size")
    if size == 0:
        raise SampleRefused({"file": _("文件是空的。")}, code="file_empty")
    digest = hashlib.sha256()
    for chunk in uploaded.chunks():
        digest.update(chunk)
    uploaded.seek(0)
    magic = uploaded.read(8)
    uploaded.seek(0)
    expected = {"image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",), "application/pdf": (b"%PDF",)}
    if not any(magic.startswith(prefix) for prefix in expected[ATTACHMENT_TYPES[suffix]]):
        raise SampleRefused({"file": _("“%(name)s”的内容与扩展名不符。") % {"name": name}}, code="file_content")
    with audit.attributed_to(user):
        return SampleAttachment.objects.create(sample=sample, kind=kind, file=uploaded, original_name=name[:200],
                                               sha256=digest.hexdigest(), size=size, uploaded_by=user)
