"""A small factory of complaint and tip-off cases for tests, without going through intake.

``make_case(kind=..., unit=..., respondent=..., received_on=..., reporter={...})`` writes a Submission
(with its encrypted ReporterIdentity unless anonymous) and one Case, with the deadlines computed by
``handling.recompute_deadlines`` exactly as the workflow computes them. Other areas' tests may import it:
keep the signature stable.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.utils import timezone

from qualitygov.complaints import crypto
from qualitygov.complaints.models import Case, CaseEvent, Category, ReporterIdentity, Submission
from qualitygov.core.models import Region

DEFAULT_REPORTER = {"name": "王小明", "phone": "13800001234", "address": "吉林省长春市南关区测试街1号"}


def _unit(unit, respondent) -> Region:
    if isinstance(unit, Region):
        return unit
    if unit:
        return Region.objects.get(pk=str(unit))
    if respondent is not None:
        return respondent.region
    return Region.objects.get(pk="220102")


def make_case(*, kind: str = Case.Kind.COMPLAINT, unit=None, respondent=None, received_on: dt.date | None = None,
              reporter: dict | None = None, anonymous: bool = False, description: str = "买到的制动软管有裂纹，要求退货。",
              request: str = "退货退款", **fields) -> Case:
    """One case (and its submission) handled by ``unit`` (a Region or a code; default the respondent's
    region, else 南关区 220102) against ``respondent`` (a MarketEntity or None), received on
    ``received_on`` (default today). ``reporter`` is the identity (keys of ReporterIdentity: name,
    phone, address, id_number, email, …); ``anonymous`` leaves it out. Extra ``fields`` go to the Case."""
    received_on = received_on or timezone.localdate()
    unit = _unit(unit, respondent)
    at = timezone.make_aware(dt.datetime.combine(received_on, dt.time(9, 30)))
    token = uuid.uuid4().hex[:10].upper()
    submission = Submission.objects.create(tracking_number=f"TS{token}", received_at=at, anonymous=anonymous,
                                           description=description, request=request,
                                           query_code=f"Q{token}" if anonymous else None)
    if not anonymous:
        values = {**DEFAULT_REPORTER, **(reporter or {})}
        ReporterIdentity.objects.create(submission=submission, **values,
                                        phone_digest=crypto.digest(values.get("phone", "")),
                                        id_digest=crypto.digest(values.get("id_number", "")))
    defaults = {
        "number": f"{'TS' if kind == Case.Kind.COMPLAINT else 'JB'}{token}",
        "respondent_name": respondent.name if respondent is not None else "某商店",
        "respondent_address": getattr(respondent, "address", "") or "",
        "respondent_region": respondent.region if respondent is not None else None,
        "facts": description, "request": request if kind == Case.Kind.COMPLAINT else "",
        "category": Category.PRODUCT_QUALITY,
    }
    case = Case(submission=submission, kind=kind, received_on=received_on, handling_unit=unit,
                respondent_entity=respondent, **{**defaults, **fields})
    from qualitygov.complaints.handling import recompute_deadlines

    recompute_deadlines(case, save=False)
    case.save()
    CaseEvent.objects.create(case=case, at=at, kind=CaseEvent.Kind.RECEIVED, data={"on": received_on.isoformat()})
    return case
