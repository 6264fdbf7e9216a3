"""Receiving complaints and tip-offs: checks, one transaction, routing, the first clock, following up.

``submit`` is the one way a submission enters the platform — the public form, the API and the
officers' entry of phone, letter, counter and fax submissions all call it. It checks the materials the
rules require (SAMR Order 20):

- Art. 9: a complaint gives the complainant's name, phone number and postal address; the respondent's
  name and address; a specific request and the facts of the consumer dispute. Complaints are
  real-name by nature (Art. 9 (1)): only a tip-off may be anonymous.
- Art. 10: an agent files with the original authorisation and the agent's proof of identity.
- Art. 11: two or more complainants about the same dispute may file jointly (``joint_complainants``).
- Art. 24: a tip-off gives specific clues of the suspected violation.
- Art. 7: a submission holding both a complaint and a tip-off makes two linked cases, each handled in
  its own workflow.

Then, in one database transaction, it writes the ``Submission`` with its tracking number, the
encrypted ``ReporterIdentity``, one routed ``Case`` per kind (``routing.route``), the acceptance
deadline of a complaint (Art. 14, ``clocks.accept_due_on``; left empty with ``calendar_pending`` when
the holiday calendar does not cover it yet), a ``RECEIVED`` event and the attachments. When anything
fails, nothing is kept: the transaction rolls back and the files already written are removed.

Public submissions are limited per client (``COMPLAINTS_SUBMISSIONS_PER_HOUR``), counted from the
submissions stored in the last hour with the same ``client_digest`` (see ``check_rate``).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import secrets
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from stdnum.cn import ric

from qualitygov.complaints import attachments as files
from qualitygov.complaints import handling, routing, similarity
from qualitygov.complaints.crypto import digest
from qualitygov.complaints.models import (
    Attachment,
    Case,
    CaseEvent,
    Category,
    Channel,
    ReporterIdentity,
    SalesChannel,
    Submission,
)
from qualitygov.core import audit

__all__ = ["BOTH", "KINDS", "OFFICER_CHANNELS", "PUBLIC_CHANNELS", "RateLimited", "SubmissionRefused",
           "SubmissionResult", "check_rate", "similar_to", "client_digest", "find_anonymous", "find_named", "public_status",
           "rate", "submit"]

logger = logging.getLogger(__name__)

BOTH = "both"
KINDS = (Case.Kind.COMPLAINT, Case.Kind.TIP_OFF, BOTH)
PUBLIC_CHANNELS = (Channel.WEB, Channel.API)
OFFICER_CHANNELS = (Channel.PHONE, Channel.LETTER, Channel.COUNTER, Channel.FAX)
# A tip-off must carry specific clues (Art. 24): a line saying "they cheat" is not one.
MIN_CLUE_LENGTH = 10
MAX_TEXT = 5000
PHONE_RE = re.compile(r"^\+?[0-9][0-9\- ]{5,22}[0-9]$")
# Letters and digits that cannot be misread for each other when read out on the phone.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
# The statuses after which a complainant may rate how the complaint was handled.
RATABLE_STATUSES = (Case.Status.CLOSED,)
# Steps a reporter may see on the follow-up page: dates and outcomes only, never notes or other texts.
PUBLIC_EVENT_KINDS = (CaseEvent.Kind.RECEIVED, CaseEvent.Kind.TRANSFERRED, CaseEvent.Kind.ACCEPTED,
                      CaseEvent.Kind.REJECTED, CaseEvent.Kind.MEDIATION_STARTED, CaseEvent.Kind.MEDIATION_ENDED,
                      CaseEvent.Kind.FILING_DECIDED, CaseEvent.Kind.CLOSED, CaseEvent.Kind.MERGED,
                      CaseEvent.Kind.SATISFACTION)


class SubmissionRefused(ValidationError):
    """A submission refused: field → Chinese messages, and a stable ``code`` for the API."""

    def __init__(self, errors, code: str = "missing_materials"):
        super().__init__(errors, code=code)
        self.code = code


class RateLimited(Exception):
    """Too many public submissions from one client in the last hour."""

    code = "rate_limited"

    def __init__(self, retry_after: int):
        self.retry_after = max(1, int(retry_after))
        minutes = max(1, math.ceil(self.retry_after / 60))
        self.message = _("提交过于频繁：同一来源每小时最多提交 %(count)s 件，请 %(minutes)s 分钟后再试。") % {
            "count": per_hour(), "minutes": minutes}
        super().__init__(self.message)


@dataclass
class SubmissionResult:
    """What ``submit`` made: the submission, its cases (complaint first), the anonymous reporter's
    query code and password (plain, to be shown once, never stored), and likely duplicates offered for
    merging (``similarity.find_similar``: (case, score, reasons) triples)."""

    submission: Submission
    cases: list[Case]
    query_code: str | None = None
    query_password: str | None = None
    similar: list = field(default_factory=list)
    routings: list = field(default_factory=list)


def per_hour() -> int:
    return int(getattr(settings, "COMPLAINTS_SUBMISSIONS_PER_HOUR", 10))


def client_digest(address: str | None) -> str:
    """Keyed digest of a client address: what rate limits count, never the address itself."""
    return digest(f"client:{address}") if address else ""


def check_rate(digest_value: str, now: dt.datetime | None = None) -> None:
    """Raise ``RateLimited`` when the client behind ``digest_value`` already made the hourly maximum.

    Counted from the stored submissions (``Submission.client_digest`` in the last hour), not from
    Django's cache: the count is the same in every worker process and survives restarts (the cache is
    per process unless a shared one is configured), it needs no other service, the column is indexed,
    and only what was actually stored counts — a refused attempt stores nothing.
    """
    if not digest_value:
        return
    now = now or timezone.now()
    since = now - dt.timedelta(hours=1)
    recent = Submission.objects.filter(client_digest=digest_value, received_at__gt=since)
    limit = per_hour()
    if recent.count() >= limit:
        times = list(recent.order_by("received_at").values_list("received_at", flat=True))
        # The client may submit again once enough of its recent submissions have left the window.
        freed_at = times[len(times) - limit] + dt.timedelta(hours=1)
        raise RateLimited((freed_at - now).total_seconds())


# --- checks -----------------------------------------------------------------------------------------

def _clean(value) -> str:
    return (value or "").strip() if isinstance(value, str) or value is None else str(value).strip()


def _check_phone(phone: str, errors: dict) -> None:
    digits = sum(ch.isdigit() for ch in phone)
    if not PHONE_RE.match(phone) or not 7 <= digits <= 20:
        errors.setdefault("phone", []).append(_("电话号码格式不正确：请填写手机号码或带区号的固定电话。"))


def _check_id(value: str, field_name: str, errors: dict) -> None:
    if value and not ric.is_valid(value):
        errors.setdefault(field_name, []).append(_("身份证件号码不正确（应为 18 位居民身份证号码）。"))


def _validate(data: dict, checked_files: list, errors: dict) -> None:
    kind = data["kind"]
    complaint = kind in (Case.Kind.COMPLAINT, BOTH)
    tip_off = kind in (Case.Kind.TIP_OFF, BOTH)

    def need(name: str, message: str) -> None:
        if not data[name]:
            errors.setdefault(name, []).append(message)

    if data["anonymous"] and kind != Case.Kind.TIP_OFF:
        errors.setdefault("anonymous", []).append(
            _("只有举报可以匿名；投诉须提供投诉人的姓名、电话号码和通讯地址（《市场监督管理投诉举报处理暂行办法》第九条）。"))
    if complaint:
        need("name", _("请填写投诉人姓名（第九条第一项）。"))
        need("phone", _("请填写投诉人电话号码（第九条第一项）。"))
        need("address", _("请填写投诉人通讯地址（第九条第一项）。"))
        need("respondent_name", _("请填写被投诉人的名称（姓名），或从登记主体中选择（第九条第二项）。"))
        need("respondent_address", _("请填写被投诉人的地址（第九条第二项）。"))
        need("request", _("请填写具体的投诉请求（第九条第三项）。"))
        need("description", _("请填写消费者权益争议事实（第九条第三项）。"))
    if tip_off:
        need("respondent_name", _("请填写被举报人的名称（姓名），或从登记主体中选择。"))
        if len(data["description"]) < MIN_CLUE_LENGTH:
            errors.setdefault("description", []).append(
                _("请具体描述涉嫌违法的线索（时间、地点、商品或行为等），至少 %(count)s 个字（第二十四条）。") % {
                    "count": MIN_CLUE_LENGTH})
        if not data["anonymous"] and not complaint:
            need("name", _("实名举报请填写举报人姓名；不愿留名的请选择匿名举报。"))
            need("phone", _("实名举报请填写举报人电话号码，以便告知处理结果（第三十一条）。"))
    if data["phone"]:
        _check_phone(data["phone"], errors)
    _check_id(data["id_number"], "id_number", errors)
    if data["via_agent"]:
        if data["anonymous"]:
            errors.setdefault("via_agent", []).append(_("匿名举报不能委托代理。"))
        need("agent_name", _("委托他人投诉的，请填写受托人姓名（第十条）。"))
        _check_id(data["agent_id_number"], "agent_id_number", errors)
        kinds = {item.kind for item in checked_files}
        if Attachment.Kind.AUTHORISATION not in kinds:
            errors.setdefault("authorisation_file", []).append(
                _("委托他人投诉的，须提供授权委托书（载明委托事项、权限和期限，由委托人签名）（第十条）。"))
        if Attachment.Kind.AGENT_ID not in kinds:
            errors.setdefault("agent_id_file", []).append(_("委托他人投诉的，须提供受托人身份证明（第十条）。"))
    for name in ("description", "request"):
        if len(data[name]) > MAX_TEXT:
            errors.setdefault(name, []).append(_("内容过长：最多 %(count)s 个字。") % {"count": MAX_TEXT})
    if data["joint_complainants"] < 1:
        errors.setdefault("joint_complainants", []).append(_("共同投诉人数至少为 1。"))
    if data["amount"] is not None and data["amount"] < 0:
        errors.setdefault("amount", []).append(_("涉及金额不能为负数。"))
    if data["aware_on"] is not None and data["aware_on"] > data["received_on"]:
        errors.setdefault("aware_on", []).append(_("知道权益受侵害的日期不能晚于提交日期。"))
    if data["sales_channel"] not in SalesChannel.values:
        errors.setdefault("sales_channel", []).append(_("经营方式不正确。"))
    if data["category"] not in Category.values:
        errors.setdefault("category", []).append(_("问题类别不正确。"))


# --- numbers ----------------------------------------------------------------------------------------

def _random_digits(count: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(count))


def _tracking_number(received_on: dt.date) -> str:
    """"TJ" + date + 8 random digits; its cases are "TS…" (complaint) and "JB…" (tip-off) + the same digits."""
    for _attempt in range(20):
        number = f"TJ{received_on:%Y%m%d}{_random_digits(8)}"
        if not Submission.objects.filter(tracking_number=number).exists():
            return number
    raise RuntimeError("no free tracking number")  # 10^8 per day: practically unreachable


def _query_code() -> str:
    for _attempt in range(20):
        code = "NM" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(10))
        if not Submission.objects.filter(query_code=code).exists():
            return code
    raise RuntimeError("no free query code")


def _query_password() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


CASE_PREFIX = {Case.Kind.COMPLAINT: "TS", Case.Kind.TIP_OFF: "JB"}


# --- similar cases (built by the "rewards" area; optional until it exists) -----------------------------

def _terms(case: Case) -> str:
    """The segmented words of a case for the similar-case index, as that index computes them."""
    return similarity.terms_for(case)


def _find_similar(case: Case, exclude: list[int], user=None) -> list:
    # Only cases the reader may see (an officer entering a submission sees duplicates in its own scope).
    # The case's names and address are passed with it, so they never count as shared evidence.
    try:
        return list(similarity.find_similar_to_case(case, user=user, exclude_case_ids=exclude, limit=5))
    except Exception:  # noqa: BLE001 - the submission is stored; an index fault must not lose it
        logger.exception("similar-case lookup failed for case %s", case.pk)
        return []


def similar_to(cases: list[Case], limit: int = 5, user=None) -> list:
    """Likely duplicates of ``cases`` among other cases (for officers to merge), best first; with
    ``user``, only cases that user may see. Empty while the similar-case index is not available."""
    ids = [case.pk for case in cases]
    hits = [hit for case in cases for hit in _find_similar(case, ids, user)]
    seen, out = set(), []
    for hit in sorted(hits, key=lambda h: -float(h[1]) if isinstance(h, tuple | list) and len(h) > 1 else 0):
        key = getattr(hit[0], "pk", id(hit)) if isinstance(hit, tuple | list) else id(hit)
        if key not in seen:
            seen.add(key)
            out.append(hit)
    return out[:limit]


# --- submit -----------------------------------------------------------------------------------------

def submit(*, kind: str, description: str, channel: str = Channel.WEB, anonymous: bool = False,
           name: str = "", phone: str = "", address: str = "", id_number: str = "", email: str = "",
           via_agent: bool = False, agent_name: str = "", agent_id_number: str = "",
           respondent_entity=None, respondent_name: str = "", respondent_address: str = "",
           sales_channel: str = SalesChannel.OFFLINE, platform_entity=None, platform_name: str = "",
           occurred_region=None, category: str = Category.OTHER, product=None, product_name: str = "",
           amount: Decimal | None = None, request: str = "", aware_on: dt.date | None = None,
           for_personal_consumption: bool | None = None, joint_complainants: int = 1,
           attachments=(), client_address: str | None = None, entered_by=None,
           received_at: dt.datetime | None = None) -> SubmissionResult:
    """Check and store one submission (a complaint, a tip-off or ``"both"``) and route its cases.

    ``attachments`` are (uploaded file, ``Attachment.Kind``) pairs. ``client_address`` (public
    channels) is rate-limited and kept only as a digest; ``entered_by`` is the officer who entered a
    phone, letter, counter or fax submission. Raises ``SubmissionRefused`` (field → Chinese messages),
    ``attachments.AttachmentRefused`` or ``RateLimited``; in every case nothing is stored.
    """
    received_at = received_at or timezone.now()
    received_on = timezone.localdate(received_at)
    if respondent_entity is not None:
        respondent_name = _clean(respondent_name) or respondent_entity.name
        respondent_address = _clean(respondent_address) or respondent_entity.address
    if product is not None:
        product_name = _clean(product_name) or product.name
    data = {
        "kind": kind, "anonymous": bool(anonymous), "name": _clean(name), "phone": _clean(phone),
        "address": _clean(address), "id_number": _clean(id_number).upper(), "email": _clean(email),
        "via_agent": bool(via_agent), "agent_name": _clean(agent_name),
        "agent_id_number": _clean(agent_id_number).upper(), "respondent_name": _clean(respondent_name),
        "respondent_address": _clean(respondent_address), "sales_channel": sales_channel or SalesChannel.OFFLINE,
        "description": _clean(description), "request": _clean(request), "aware_on": aware_on,
        "amount": amount, "joint_complainants": int(joint_complainants or 1), "received_on": received_on,
        "category": category or Category.OTHER,
    }
    if kind not in KINDS:
        raise SubmissionRefused({"kind": [_("请选择投诉、举报或投诉并举报。")]}, code="invalid_kind")
    if channel not in Channel.values:
        raise SubmissionRefused({"channel": [_("渠道不正确。")]}, code="invalid_channel")
    if channel in OFFICER_CHANNELS and entered_by is None:
        raise SubmissionRefused({"channel": [_("电话、信函、窗口和传真渠道的投诉举报由工作人员登记。")]},
                                code="invalid_channel")
    if data["anonymous"] and kind == Case.Kind.TIP_OFF:
        # An anonymous reporter leaves nothing that identifies them, even if the form had it filled.
        for key in ("name", "phone", "address", "id_number", "email", "agent_name", "agent_id_number"):
            data[key] = ""
    checked = files.check(attachments)
    errors: dict[str, list[str]] = {}
    _validate(data, checked, errors)
    if errors:
        raise SubmissionRefused(errors)
    digest_value = client_digest(client_address) if channel in PUBLIC_CHANNELS else ""
    check_rate(digest_value, received_at)

    kinds = [Case.Kind.COMPLAINT, Case.Kind.TIP_OFF] if kind == BOTH else [kind]
    written: list = []
    try:
        with transaction.atomic(), audit.attributed_to(entered_by):
            result = _store(data, kinds, checked, written, channel=channel, entered_by=entered_by,
                            received_at=received_at, digest_value=digest_value, respondent_entity=respondent_entity,
                            platform_entity=platform_entity, platform_name=_clean(platform_name),
                            occurred_region=occurred_region, product=product, product_name=_clean(product_name),
                            for_personal_consumption=for_personal_consumption)
    except BaseException:
        files.remove_files(written)
        raise
    result.similar = similar_to(result.cases)
    return result


def _store(data: dict, kinds: list[str], checked: list, written: list, *, channel, entered_by, received_at,
           digest_value, respondent_entity, platform_entity, platform_name, occurred_region, product,
           product_name, for_personal_consumption) -> SubmissionResult:
    received_on = data["received_on"]
    anonymous = data["anonymous"]
    query_code = _query_code() if anonymous else None
    query_password = _query_password() if anonymous else None
    submission = Submission.objects.create(
        tracking_number=_tracking_number(received_on), channel=channel, received_at=received_at,
        anonymous=anonymous, query_code=query_code,
        query_password_hash=make_password(query_password) if query_password else "",
        description=data["description"], request=data["request"], via_agent=data["via_agent"],
        joint_complainants=data["joint_complainants"], client_digest=digest_value, entered_by=entered_by)
    ReporterIdentity.objects.create(
        submission=submission, name=data["name"], phone=data["phone"], address=data["address"],
        id_number=data["id_number"], email=data["email"], agent_name=data["agent_name"],
        agent_id_number=data["agent_id_number"], phone_digest=digest(data["phone"]),
        id_digest=digest(data["id_number"]))
    digits = submission.tracking_number[2:]
    cases, routings = [], []
    for kind in kinds:
        # The reason is stored with the case: in the platform's language, whatever the submitter's.
        with translation.override(settings.LANGUAGE_CODE):
            routed = routing.route(kind=kind, respondent_entity=respondent_entity,
                                   respondent_address=data["respondent_address"],
                                   sales_channel=data["sales_channel"], platform_entity=platform_entity,
                                   occurred_region=occurred_region)
        complaint = kind == Case.Kind.COMPLAINT
        facts = data["description"]
        case = Case(
            number=f"{CASE_PREFIX[kind]}{digits}", submission=submission, kind=kind, received_on=received_on,
            respondent_entity=respondent_entity, respondent_name=data["respondent_name"][:200],
            respondent_address=data["respondent_address"][:255], respondent_region=routed.respondent_region,
            sales_channel=data["sales_channel"], platform_entity=platform_entity,
            platform_name=platform_name[:200] or (platform_entity.name if platform_entity else ""),
            occurred_region=occurred_region if not complaint else None, handling_unit=routed.unit,
            category=data["category"], product=product,
            product_category_id=getattr(product, "category_id", None), product_name=product_name[:200],
            amount=data["amount"], facts=facts, request=data["request"] if complaint else "",
            aware_on=data["aware_on"] if complaint else None,
            for_personal_consumption=for_personal_consumption if complaint else None)
        # The same deadline rules as every later step: a complaint's acceptance (Art. 14), a tip-off's
        # verification (行政处罚程序规定 Art. 18); empty and flagged when the calendar does not cover them.
        handling.recompute_deadlines(case, received_on, save=False)
        case.terms = _terms(case)
        case.save()
        cases.append(case)
        routings.append(routed)
        CaseEvent.objects.create(case=case, at=received_at, kind=CaseEvent.Kind.RECEIVED, by=entered_by,
                                 text=routed.reason,
                                 data={"channel": channel, "unit": routed.unit.code, "reason": routed.reason,
                                       "calendar_pending": case.calendar_pending})
    if len(cases) == 2:
        # Art. 7: handled separately, but each knows the other.
        cases[0].linked_case, cases[1].linked_case = cases[1], cases[0]
        for case in cases:
            case.save(update_fields=["linked_case", "updated"])
    files.store(submission, checked, written)
    return SubmissionResult(submission, cases, query_code, query_password, routings=routings)


# --- following up -----------------------------------------------------------------------------------

def find_named(tracking_number: str, phone: str) -> Submission | None:
    """The named submission with this tracking number whose submitter gave this phone number."""
    tracking_number = _clean(tracking_number).upper()
    phone_digest = digest(_clean(phone))
    if not tracking_number or not phone_digest:
        return None
    return (Submission.objects.filter(tracking_number=tracking_number, anonymous=False,
                                      identity__phone_digest=phone_digest).first())


def find_anonymous(query_code: str, password: str) -> Submission | None:
    """The anonymous submission with this query code, if the password matches its stored hash."""
    query_code = _clean(query_code).upper()
    submission = Submission.objects.filter(query_code=query_code, anonymous=True).first() if query_code else None
    if submission is None:
        make_password(password)  # same work either way: timing does not tell whether a code exists
        return None
    return submission if check_password(_clean(password).upper(), submission.query_password_hash) else None


def _label(choices, value) -> str:
    return str(dict(choices).get(value, "")) if value else ""


def public_status(submission: Submission) -> dict:
    """What the submitter may see: per case its kind, status, unit, dates and the public steps (labels
    and dates only — no officer notes, no texts of events, no other person's data)."""
    cases = list(submission.cases.select_related("handling_unit").order_by("kind", "id"))
    events = {}
    for event in (CaseEvent.objects.filter(case__in=cases, kind__in=PUBLIC_EVENT_KINDS).order_by("at", "id")
                  .values("case_id", "kind", "at")):
        events.setdefault(event["case_id"], []).append(
            {"kind": event["kind"], "label": _label(CaseEvent.Kind.choices, event["kind"]),
             "on": timezone.localdate(event["at"])})
    rows = []
    for case in cases:
        rows.append({
            "number": case.number, "kind": case.kind, "kind_label": case.get_kind_display(),
            "status": case.status, "status_label": case.get_status_display(),
            "unit": routing.authority_name(case.handling_unit) if case.handling_unit_id else "",
            "received_on": case.received_on, "accept_due_on": case.accept_due_on,
            "calendar_pending": case.calendar_pending, "accepted_on": case.accepted_on,
            "rejected_on": case.rejected_on,
            "rejection_ground": _label(Case.RejectionGround.choices, case.rejection_ground),
            "mediation_outcome": _label(Case.MediationOutcome.choices, case.mediation_outcome),
            "mediation_ended_on": case.mediation_ended_on,
            "filing_decision": _label(Case.FilingDecision.choices, case.filing_decision),
            "filing_decided_on": case.filing_decided_on, "closed_on": case.closed_on,
            "satisfaction": case.satisfaction,
            "can_rate": can_rate(case),
            "steps": events.get(case.pk, []),
        })
    return {"tracking_number": submission.tracking_number, "received_on": timezone.localdate(submission.received_at),
            "anonymous": submission.anonymous, "channel_label": submission.get_channel_display(), "cases": rows}


def can_rate(case: Case) -> bool:
    """A closed complaint not yet rated."""
    return case.kind == Case.Kind.COMPLAINT and case.status in RATABLE_STATUSES and case.satisfaction is None


def rate(case: Case, score, comment: str = "") -> Case:
    """Record the complainant's satisfaction (1–5 and a comment) with a closed complaint, once."""
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    errors = {}
    if case.kind != Case.Kind.COMPLAINT:
        errors["satisfaction"] = [_("只有投诉可以评价满意度。")]
    elif case.satisfaction is not None:
        errors["satisfaction"] = [_("该投诉已经评价过了。")]
    elif case.status not in RATABLE_STATUSES:
        errors["satisfaction"] = [_("投诉办结后才能评价满意度。")]
    elif not 1 <= score <= 5:
        errors["satisfaction"] = [_("满意度请选择 1 到 5。")]
    comment = _clean(comment)
    if len(comment) > 1000:
        errors["comment"] = [_("评价内容最多 1000 个字。")]
    if errors:
        raise SubmissionRefused(errors, code="not_ratable")
    with transaction.atomic():
        case.satisfaction, case.satisfaction_comment = score, comment
        case.save(update_fields=["satisfaction", "satisfaction_comment", "updated"])
        CaseEvent.objects.create(case=case, at=timezone.now(), kind=CaseEvent.Kind.SATISFACTION,
                                 data={"score": score})
    return case
