"""Publication of final spot-check results, and their hand-over to the credit ledger.

A result is published once it is final: the objection window closed without an objection, the
objection was rejected, or the re-inspection decided it (``followup``). A refusal is final when
recorded. Published results appear on the public portal and in the public API with the plan,
product, entity, batch, verdict and failing items. Each published unqualified result, serious
nonconformity and refusal is recorded in the entity's credit file through
``credit.services.record_fact`` (idempotent on the sample, so a re-run never doubles a record).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from qualitygov.core import audit
from qualitygov.core.models import AuditLog, User
from qualitygov.core.text import join_list
from qualitygov.credit.models import Kind
from qualitygov.credit.services import record_fact
from qualitygov.inspection.followup import finalize_due
from qualitygov.inspection.models import Sample, Verdict

__all__ = ["publish_due", "public_results", "credit_kind", "PublicationSummary"]


def credit_kind(sample: Sample) -> str | None:
    """The credit-ledger kind a published result records, or None for a result without a finding."""
    if sample.outcome == Sample.Outcome.REFUSED:
        return Kind.REFUSED_SAMPLING
    return {Verdict.UNQUALIFIED: Kind.SPOT_CHECK_UNQUALIFIED,
            Verdict.SERIOUSLY_UNQUALIFIED: Kind.SPOT_CHECK_SERIOUS}.get(sample.verdict)


def _summary(sample: Sample) -> str:
    if sample.outcome == Sample.Outcome.REFUSED:
        return _("在%(plan)s中拒绝监督抽查（抽样单 %(number)s，%(date)s）。") % {
            "plan": sample.plan.title, "number": sample.number, "date": sample.sampled_on.isoformat()}
    items = join_list(item["name"] for item in sample.failing_items)
    return _("%(plan)s：%(product)s（批号 %(batch)s，抽样单 %(number)s）经检验%(verdict)s，不合格项目：%(items)s。") % {
        "plan": sample.plan.title, "product": sample.product_name, "batch": sample.batch_number, "number": sample.number,
        "verdict": sample.get_verdict_display(), "items": items}


class PublicationSummary(dict):
    """Counts of one publication run: finalized, published, credit_records."""


def publish_due(today: dt.date | None = None, *, user: User | None = None) -> PublicationSummary:
    """Finalize results whose window has closed, publish every final unpublished result, and hand
    findings to the credit ledger. Safe to run again (the job runs it daily)."""
    today = today or timezone.localdate()
    finalized = finalize_due(today)
    due = list(Sample.objects.filter(status=Sample.Status.FINAL, published_on__isnull=True, final_on__lte=today)
               .select_related("plan", "plan__region", "entity"))
    credit_records = 0
    with transaction.atomic(), audit.attributed_to(user):
        Sample.objects.filter(pk__in=[sample.pk for sample in due]).update(
            status=Sample.Status.PUBLISHED, published_on=today, updated=timezone.now())
        for sample in due:
            kind = credit_kind(sample)
            if kind is None:
                continue
            record_fact(entity=sample.entity, kind=kind, occurred_on=sample.final_on, source=sample,
                        summary=_summary(sample), department=_("%(region)s市场监督管理局") % {"region": sample.plan.region.name},
                        details={"plan": sample.plan.code, "sample": sample.number, "verdict": sample.verdict or "refused",
                                 "failing_items": [item["code"] for item in sample.failing_items]}, user=user)
            credit_records += 1
    if due:
        audit.record(AuditLog.Action.UPDATE, model=Sample,
                     message=_("公布监督抽查结果 %(n)d 份，其中移交信用记录 %(c)d 条。") % {"n": len(due), "c": credit_records})
    return PublicationSummary(finalized=finalized, published=len(due), credit_records=credit_records)


def public_results() -> QuerySet:
    """Published results, as the public portal and the public API show them (no login needed)."""
    return (Sample.objects.filter(published_on__isnull=False)
            .select_related("plan", "entity", "category", "region")
            .order_by("-published_on", "number"))
