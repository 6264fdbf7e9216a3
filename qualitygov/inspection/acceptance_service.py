"""Recording lots under GB/T 2828.1 (= ISO 2859-1): apply the plan and the switching rules, store both."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from qualitygov.inspection import acceptance
from qualitygov.inspection.models.acceptance import LotInspection, SupplierInspectionState


def supplier_state(entity, product, aql, level: str = "II") -> SupplierInspectionState:
    """The switching state of a supplier's series (created on normal inspection the first time, 9.2)."""
    try:
        aql = acceptance.parse_aql(aql)
        level = acceptance.parse_level(level)
    except acceptance.AcceptanceSamplingError as exc:
        raise ValidationError({exc.field: [exc.message]}) from exc
    state, _created = SupplierInspectionState.objects.get_or_create(
        entity=entity, product=product, aql=aql, inspection_level=level)
    return state


@transaction.atomic
def record_lot(state: SupplierInspectionState, *, lot_number: str, lot_size: int, nonconforming: int,
               inspected_on: dt.date | None = None, inspector=None, production_steady: bool = False,
               reduced_approved: bool = False, production_irregular: bool = False,
               normal_warranted: bool = False) -> SupplierInspectionState:
    """Inspect one lot on its original submission and move the supplier along the switching rules.

    Picks the plan for the lot at the supplier's current severity, decides acceptance from ``nonconforming``
    (nonconforming items, or nonconformities for a per-100-units AQL, found in the sample), stores the lot with
    the plan and the severity before and after, and saves the new state — all in one transaction, with the
    state row locked so that two lots recorded at once cannot both start from the same state. The flags are
    the conditions of ISO 2859-1:1999 9.3.3 and 9.3.4 that are not counts (see ``acceptance.next_state``).
    Returns the saved state. Refuses, with a Chinese message, a discontinued supplier, a repeated lot number
    and impossible counts.
    """
    state = SupplierInspectionState.objects.select_for_update().get(pk=state.pk)
    if state.discontinued:
        raise ValidationError({"supplier_state": [
            _("该供方已暂停抽样检验：须待供方采取改进措施并经负责部门同意后，方可恢复（加严检验）。")]})
    try:
        plan = acceptance.sampling_plan(lot_size, state.aql, state.inspection_level, state.severity)
    except acceptance.AcceptanceSamplingError as exc:
        raise ValidationError({exc.field: [exc.message]}) from exc
    if isinstance(nonconforming, bool) or not isinstance(nonconforming, int) or nonconforming < 0:
        raise ValidationError({"nonconforming": [_("不合格品数须为非负整数。")]})
    if LotInspection.objects.filter(supplier_state=state, lot_number=lot_number).exists():
        raise ValidationError({"lot_number": [_("该供方已登记过此批号的初次检验。")]})

    accepted = plan.accepts(nonconforming)
    before = state.switching_state()
    tighter_ok = None
    if before.severity == acceptance.NORMAL and plan.accept >= 2:
        tighter_ok = acceptance.accepted_at_tighter_aql(plan, state.aql, nonconforming)
    after = acceptance.next_state(
        before, accepted, accept_number=plan.accept, accepted_one_step_tighter=tighter_ok,
        production_steady=production_steady, reduced_approved=reduced_approved,
        production_irregular=production_irregular, normal_warranted=normal_warranted)

    LotInspection.objects.create(
        supplier_state=state, lot_number=lot_number, lot_size=acceptance.parse_lot_size(lot_size),
        aql=state.aql, inspection_level=state.inspection_level, code_letter=plan.code_letter,
        sample_size=plan.sample_size, accept_number=plan.accept, reject_number=plan.reject,
        hundred_percent=plan.hundred_percent, nonconforming=nonconforming, accepted=accepted,
        severity_before=before.severity, severity_after=after.severity,
        switching_score_after=after.switching_score, discontinued_after=after.discontinued,
        inspected_on=inspected_on or dt.date.today(), inspector=inspector)
    state.set_switching_state(after)
    state.lots_inspected += 1
    state.save()
    return state


@transaction.atomic
def resume_inspection(state: SupplierInspectionState) -> SupplierInspectionState:
    """Resume a discontinued supplier on tightened inspection, once the authority agrees its action is effective."""
    state = SupplierInspectionState.objects.select_for_update().get(pk=state.pk)
    try:
        state.set_switching_state(acceptance.resume(state.switching_state()))
    except acceptance.AcceptanceSamplingError as exc:
        raise ValidationError({exc.field: [exc.message]}) from exc
    state.save()
    return state
