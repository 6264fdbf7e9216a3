"""The public credit query (信用信息查询, issue 4 item 6): search, the public credit file, the
entity's right-to-reply statement (情况说明) and the objection channel (异议).

What the public sees of an entity is decided here, once, for the portal page and the public API:
name, USCC, region, the public grade with its date, the publicly visible records
(``CreditRecord.objects.publicly_visible``: never a warning-only penalty, an internal finding or a
withdrawn record), the entity's visible statement beside each record, its open list entries and a
"re-evaluation pending" flag. Never the internal risk class, never the numeric score.

Objections: anyone may object to a published record while it is published (Enterprise Information
Disclosure Regulation Art. 12; SAMR Order 45 Art. 12); the last day is the record's
``publish_until``. The answer is due 20 working days after receipt (by analogy with the Regulation
Art. 13 para. 2). For this version an upheld objection withdraws the record from publication
(``services.revoke_fact``); correcting the source record itself stays with its module.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from qualitygov.core import audit, workdays
from qualitygov.core.identifiers import IdentifierError, validate_uscc
from qualitygov.core.roles import CHANGE, VIEW, Role
from qualitygov.credit.models import (
    CreditObjection,
    CreditRecord,
    EntityScore,
    EntityStatement,
    Kind,
    ListEntry,
    RepairApplication,
)
from qualitygov.credit.services import SourceRef, revoke_fact

__all__ = ["ANSWER_WORKING_DAYS", "QueryRefused", "SearchResult", "STATEMENT_MAX_LENGTH", "answer_objection",
           "check_objection_open", "entity_for_uscc", "hide_statement", "objection_deadline", "fill_pending_deadlines", "public_file", "public_file_for_uscc", "search", "submit_objection",
           "submit_statement"]

# Enterprise Information Disclosure Regulation Art. 13 para. 2 (by analogy): answer in 20 working days.
ANSWER_WORKING_DAYS = 20
STATEMENT_MAX_LENGTH = 2000
NAME_MIN_LENGTH = 2
SEARCH_PAGE_SIZE = 20
# The objector's personal data: shown to officers only, never logged where other roles read.
OBJECTOR_FIELDS = ("name", "contact", "grounds")
# Registered entities only: an operating or suspended entity still exists in the registry; revoked and
# cancelled ones are no longer "operating/registered" (issue 4 item 6).
PUBLIC_ENTITY_STATUSES = ("operating", "suspended")
OFFICER_ROLES = frozenset({Role.PROVINCE_ADMIN, Role.PROVINCE_OFFICER, Role.CITY_OFFICER, Role.COUNTY_OFFICER})
# Text with no Chinese character and at least six digits is read as a USCC (names are Chinese).
_CHINESE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


class QueryRefused(ValidationError):
    """A refusal of the query service: a Chinese message and a stable ``code`` (the API's error code)."""

    def __init__(self, message, code=None, params=None):
        super().__init__(message, code=code, params=params)
        self.code = code


def _today() -> dt.date:
    """Today's date (one place, so tests can fix it)."""
    return timezone.localdate()


def _registered_entities():
    from qualitygov.registry.models import MarketEntity

    return MarketEntity.objects.filter(status__in=PUBLIC_ENTITY_STATUSES)


def _looks_like_uscc(text: str) -> bool:
    return not _CHINESE.search(text) and sum(c.isdigit() for c in text) >= 6


# --- search ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SearchResult:
    """A page of entities found, and how the text was read (``uscc`` or ``name``)."""

    mode: str
    text: str
    page: Page


def search_queryset(text: str) -> tuple[str, str, object]:
    """(mode, normalised text, queryset) for ``text``: an exact USCC (validated) or a name fragment of at
    least two characters; registered entities only, by name. ``QueryRefused`` for bad input."""
    text = (text or "").strip()
    if not text:
        raise QueryRefused({"q": _("请输入企业名称或统一社会信用代码。")}, code="query_required")
    entities = _registered_entities().select_related("region", "credit_score").order_by("name", "id")
    if _looks_like_uscc(text):
        try:
            uscc = validate_uscc(text)
        except IdentifierError as exc:
            raise QueryRefused({"q": exc.reason}, code="invalid_uscc") from exc
        return "uscc", uscc, entities.filter(uscc=uscc)
    if len(text) < NAME_MIN_LENGTH:
        raise QueryRefused({"q": _("按名称查询至少输入 %(count)s 个字。") % {"count": NAME_MIN_LENGTH}},
                           code="query_too_short")
    return "name", text, entities.filter(name__icontains=text)


def search(text: str, page: int | str | None = 1, per_page: int = SEARCH_PAGE_SIZE) -> SearchResult:
    """Find registered entities by USCC (exact) or name (contains); one page of ``per_page``."""
    mode, text, entities = search_queryset(text)
    return SearchResult(mode, text, Paginator(entities, per_page).get_page(page))


def grade_of(entity) -> dict:
    """The public grade of an entity with its date, or "not yet graded" (never the score or risk class)."""
    try:
        score = entity.credit_score
    except EntityScore.DoesNotExist:
        score = None
    if score is None:
        return {"grade": None, "as_of": None, "label": _("尚未评级")}
    return {"grade": score.grade, "as_of": score.as_of.isoformat(), "label": score.grade}


# --- the public credit file ------------------------------------------------------------------------

def _pending_annotations(entity_field: str, record_field: str | None = None) -> dict:
    objections = CreditObjection.objects.filter(status__in=CreditObjection.OPEN_STATUSES)
    repairs = RepairApplication.objects.filter(status__in=RepairApplication.OPEN_STATUSES)
    field = record_field or entity_field
    return {"open_objection": Exists(objections.filter(**{field: OuterRef("pk")})),
            "open_repair": Exists(repairs.filter(**{field: OuterRef("pk")}))}


def entity_for_uscc(uscc: str):
    """The registered entity with this USCC, with what its public file needs in the same query
    (region, score, open objection and repair flags). ``QueryRefused`` (code ``invalid_uscc``) for a
    malformed code; None when no registered entity has it."""
    try:
        uscc = validate_uscc(uscc)
    except IdentifierError as exc:
        raise QueryRefused({"uscc": exc.reason}, code="invalid_uscc") from exc
    return (_registered_entities().select_related("region", "credit_score")
            .annotate(**_pending_annotations("entity_id")).filter(uscc=uscc).first())


def objection_deadline(record: CreditRecord) -> dt.date | None:
    """The last day an objection to ``record`` may be made: the last day of its publication."""
    return record.publish_until


def public_file(entity, on: dt.date | None = None) -> dict:
    """The public credit file of ``entity`` on ``on`` (default today), used by the page and the API.

    Fields: entity (name, USCC, region), grade (grade and date, or "not yet graded"), records (public
    fields of each publicly visible record, the entity's visible statement beside it, the objection
    deadline and a per-record pending flag), lists (open entries of both lists) and
    ``re_evaluation_pending`` (an open objection or repair application of the entity). Never the score
    or the risk class. Built by ``public_file_for_uscc`` (three SQL statements).
    """
    file = public_file_for_uscc(entity.uscc, on)
    if file is None:
        raise QueryRefused({"uscc": _("该市场主体不在公示范围内。")}, code="not_public")
    return file


# --- the public lookup by USCC: the hot path ------------------------------------------------------
# The public lookup is the most requested page of the portal and is served under load; building
# ORM querysets and model objects cost about ten times the database's own time, so this path runs
# three fixed SQL statements (parameters bound) and builds the same dictionary as ``public_file``.

def _lookup_sql() -> tuple[str, str, str]:
    from qualitygov.core.models import Region
    from qualitygov.registry.models import MarketEntity

    entities, regions, scores = (MarketEntity._meta.db_table, Region._meta.db_table, EntityScore._meta.db_table)
    records, statements = CreditRecord._meta.db_table, EntityStatement._meta.db_table
    objections, repairs = CreditObjection._meta.db_table, RepairApplication._meta.db_table
    entries = ListEntry._meta.db_table
    open_objection = ", ".join(f"'{status}'" for status in CreditObjection.OPEN_STATUSES)
    open_repair = ", ".join(f"'{status}'" for status in RepairApplication.OPEN_STATUSES)
    entity = (
        f"SELECT e.id, e.name, e.uscc, e.region_id, g.name, s.grade, CAST(s.as_of AS text), "
        f"EXISTS (SELECT 1 FROM {objections} o WHERE o.entity_id = e.id AND o.status IN ({open_objection})), "
        f"EXISTS (SELECT 1 FROM {repairs} a WHERE a.entity_id = e.id AND a.status IN ({open_repair})) "
        f"FROM {entities} e LEFT JOIN {regions} g ON g.code = e.region_id "
        f"LEFT JOIN {scores} s ON s.entity_id = e.id WHERE e.uscc = %s AND e.status IN (%s, %s)")
    record = (
        f"SELECT r.id, r.kind, r.polarity, CAST(r.occurred_on AS text), r.summary, r.department, r.state, "
        f"CAST(r.publish_from AS text), CAST(r.publish_until AS text), t.text, t.visible, t.updated, "
        f"EXISTS (SELECT 1 FROM {objections} o WHERE o.record_id = r.id AND o.status IN ({open_objection})), "
        f"EXISTS (SELECT 1 FROM {repairs} a WHERE a.record_id = r.id AND a.status IN ({open_repair})) "
        f"FROM {records} r LEFT JOIN {statements} t ON t.record_id = r.id "
        f"WHERE r.entity_id = %s AND r.publishable = %s AND r.state = %s AND r.publish_from <= %s "
        f"AND r.publish_until >= %s ORDER BY r.occurred_on DESC, r.id DESC")
    entry = (
        f"SELECT kind, grounds, legal_basis, decision_number, department, CAST(listed_on AS text), "
        f"CAST(removal_due_on AS text) FROM {entries} WHERE entity_id = %s AND status = %s "
        f"ORDER BY listed_on DESC, id DESC")
    return entity, record, entry


_LOOKUP_SQL: tuple[str, str, str] | None = None


def _local_date(value) -> str:
    """A stored timestamp (aware, or naive UTC text on SQLite) as the local date in ISO form."""
    if isinstance(value, str):
        from django.utils.dateparse import parse_datetime

        value = parse_datetime(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return timezone.localtime(value).date().isoformat()


def public_file_for_uscc(uscc: str, on: dt.date | None = None) -> dict | None:
    """The public credit file (as ``public_file``) of the registered entity with this USCC, or None;
    ``QueryRefused`` (code ``invalid_uscc``) for a malformed code. Three SQL statements."""
    global _LOOKUP_SQL
    try:
        uscc = validate_uscc(uscc)
    except IdentifierError as exc:
        raise QueryRefused({"uscc": exc.reason}, code="invalid_uscc") from exc
    if _LOOKUP_SQL is None:
        _LOOKUP_SQL = _lookup_sql()
    entity_sql, record_sql, entry_sql = _LOOKUP_SQL
    on = on or _today()
    day = connection.ops.adapt_datefield_value(on)
    with connection.cursor() as cursor:
        cursor.execute(entity_sql, [uscc, *PUBLIC_ENTITY_STATUSES])
        row = cursor.fetchone()
        if row is None:
            return None
        entity_id, name, uscc, region, region_name, grade, as_of, objection, repair = row
        cursor.execute(record_sql, [entity_id, True, CreditRecord.State.ACTIVE.value, day, day])
        records = []
        for (pk, kind, polarity, occurred_on, summary, department, state, publish_from, publish_until,
             text, visible, updated, record_objection, record_repair) in cursor.fetchall():
            records.append({
                "record": pk, "kind": kind, "kind_label": str(Kind(kind).label), "polarity": polarity,
                "occurred_on": occurred_on, "summary": summary, "department": department, "state": state,
                "publish_from": publish_from, "publish_until": publish_until,
                "statement": {"text": text, "updated": _local_date(updated)} if text is not None and visible else None,
                "objection_deadline": publish_until,
                "re_evaluation_pending": bool(record_objection or record_repair),
            })
        cursor.execute(entry_sql, [entity_id, ListEntry.Status.LISTED.value])
        entries = [{"kind": kind, "kind_label": str(ListEntry.Kind(kind).label), "grounds": grounds,
                    "legal_basis": basis, "decision_number": number, "department": department,
                    "listed_on": listed_on, "removal_due_on": removal_due_on}
                   for kind, grounds, basis, number, department, listed_on, removal_due_on in cursor.fetchall()]
    graded = {"grade": grade, "as_of": as_of, "label": grade} if grade else {
        "grade": None, "as_of": None, "label": _("尚未评级")}
    return {"entity": {"name": name, "uscc": uscc, "region": region, "region_name": region_name},
            "grade": graded, "re_evaluation_pending": bool(objection or repair), "records": records,
            "lists": entries, "as_of": on.isoformat()}


# --- objections --------------------------------------------------------------------------------------

def _answer_due(received: dt.date) -> dt.date | None:
    """The answer deadline, or None while it falls in a year whose holiday arrangement is not yet
    published (never guessed; ``fill_pending_deadlines`` computes it later)."""
    try:
        return workdays.add_working_days(received, ANSWER_WORKING_DAYS)
    except workdays.CalendarNotCovered:
        return None


def fill_pending_deadlines() -> int:
    """Compute the answer deadlines of open objections left pending for want of a holiday arrangement,
    where the calendar now covers them (the daily job); returns how many were filled."""
    filled = 0
    for objection in CreditObjection.objects.filter(status__in=CreditObjection.OPEN_STATUSES,
                                                    answer_due_on__isnull=True):
        due = _answer_due(objection.received_on)
        if due is not None:
            objection.answer_due_on = due
            objection.save(update_fields=["answer_due_on", "updated"])
            filled += 1
    return filled


def _tracking_number(day: dt.date) -> str:
    return f"YY{day:%Y%m%d}{secrets.randbelow(10 ** 6):06d}"


def check_objection_open(record: CreditRecord, today: dt.date | None = None) -> None:
    """Raise ``QueryRefused`` unless ``record`` may receive an objection on ``today``: it must be
    published, and the objection comes no later than the last day of publication (``objection_late``,
    naming that day); a record never published or withdrawn gives ``not_public``."""
    today = today or _today()
    if CreditRecord.objects.filter(pk=record.pk).publicly_visible(today).exists():
        return
    record.refresh_from_db()
    ended = record.publish_until
    if record.publishable and record.state == CreditRecord.State.ACTIVE and ended is not None and ended < today:
        raise QueryRefused(_("该信用记录的公示期已于 %(date)s 届满，异议须在公示期内提出，已超过异议期限。")
                           % {"date": ended.isoformat()}, code="objection_late")
    raise QueryRefused(_("该信用记录未在公示，不能对其提出异议。"), code="not_public")


def submit_objection(record: CreditRecord, name: str, contact: str, grounds: str, today: dt.date | None = None,
                     user=None) -> CreditObjection:
    """Receive an objection to a published record. Refused (``QueryRefused``, nothing written) when the
    record is not published (``not_public``), when its publication ended (``objection_late``, with the
    date) or when name, contact or grounds are missing (``invalid``). Returns the objection with its
    tracking number and answer deadline (20 working days after receipt)."""
    today = today or _today()
    check_objection_open(record, today)
    values = {"name": (name or "").strip(), "contact": (contact or "").strip(), "grounds": (grounds or "").strip()}
    errors = {}
    for field, message in (("name", _("请填写异议人姓名或名称。")), ("contact", _("请填写联系方式。")),
                           ("grounds", _("请填写异议理由及证据。"))):
        if not values[field]:
            errors[field] = message
    for field, limit in (("name", 100), ("contact", 100), ("grounds", 5000)):
        if len(values[field]) > limit:
            errors[field] = _("不能超过 %(limit)s 个字。") % {"limit": limit}
    if errors:
        raise QueryRefused(errors, code="invalid")
    due = _answer_due(today)
    submitter = user if getattr(user, "is_authenticated", False) else None
    for _attempt in range(5):
        try:
            with transaction.atomic():  # a savepoint: a clashing tracking number is retried with another
                objection = CreditObjection(record=record, entity_id=record.entity_id,
                                            tracking_number=_tracking_number(today), received_on=today,
                                            answer_due_on=due, submitted_by=submitter, **values)
                # The audit log is read by every regional role (inspectors, lab staff too): keep the
                # objector's personal data out of it; the objection itself is for officers only.
                objection.audit_exclude = (*CreditObjection.audit_exclude, *OBJECTOR_FIELDS)
                objection.save()
                return objection
        except IntegrityError:
            continue
    raise QueryRefused(_("暂时无法生成受理编号，请稍后重试。"), code="tracking_number")


def _require_officer(user, queryset, message: str) -> None:
    if user is None or not (user.is_superuser or user.role in OFFICER_ROLES) or not queryset.restrict(
            user, CHANGE).exists():
        raise PermissionDenied(message)


def answer_objection(objection: CreditObjection, user, upheld: bool, answer: str,
                     today: dt.date | None = None) -> CreditObjection:
    """Answer an open objection (officer of the entity's region). Upheld: the record is withdrawn from
    publication (``services.revoke_fact`` with the tracking number as reason) and the pending flag
    clears; rejected: the record stays. ``QueryRefused`` when already answered (``objection_closed``)
    or without an answer (``answer_required``)."""
    _require_officer(user, CreditObjection.objects.filter(pk=objection.pk), _("您无权答复该异议。"))
    answer = (answer or "").strip()
    if not answer:
        raise QueryRefused({"answer": _("请填写答复内容（核查情况及处理结果）。")}, code="answer_required")
    today = today or _today()
    with audit.attributed_to(user), transaction.atomic():
        objection = CreditObjection.objects.select_for_update().select_related("record").get(pk=objection.pk)
        if objection.status not in CreditObjection.OPEN_STATUSES:
            raise QueryRefused(_("该异议已于 %(date)s 答复，不能重复答复。")
                               % {"date": objection.answered_on.isoformat() if objection.answered_on else "—"},
                               code="objection_closed")
        if upheld:
            record = objection.record
            revoke_fact(SourceRef(record.source_module, record.source_type, record.source_id), record.kind,
                        reason=_("异议成立（受理编号 %(number)s）：%(answer)s")
                        % {"number": objection.tracking_number, "answer": answer}, user=user)
        objection.status = CreditObjection.Status.UPHELD if upheld else CreditObjection.Status.REJECTED
        objection.answer = answer
        objection.answered_on = today
        objection.handled_by = user
        objection.save(update_fields=["status", "answer", "answered_on", "handled_by", "updated"])
    return objection


# --- statements --------------------------------------------------------------------------------------

def submit_statement(record: CreditRecord, user, text: str) -> EntityStatement:
    """The entity's statement on one of its published records (one per record; a new text replaces the
    old one and shows again, the audit log keeps the old). Only an enterprise user of the record's
    entity; at most 2000 characters."""
    if user is None or user.role != Role.ENTERPRISE or user.entity_id is None or user.entity_id != record.entity_id:
        raise PermissionDenied(_("只有该市场主体的企业账号可以对其信用记录作出情况说明。"))
    text = (text or "").strip()
    if not text:
        raise QueryRefused({"text": _("请填写情况说明。")}, code="statement_required")
    if len(text) > STATEMENT_MAX_LENGTH:
        raise QueryRefused({"text": _("情况说明不能超过 %(limit)s 个字，现为 %(length)s 个字。")
                            % {"limit": STATEMENT_MAX_LENGTH, "length": len(text)}}, code="statement_too_long")
    if not CreditRecord.objects.filter(pk=record.pk).publicly_visible(_today()).exists():
        raise QueryRefused(_("情况说明只能针对正在公示的信用记录。"), code="not_public")
    with audit.attributed_to(user), transaction.atomic():
        statement = EntityStatement.objects.select_for_update().filter(record=record).first()
        if statement is None:
            return EntityStatement.objects.create(record=record, entity_id=record.entity_id, text=text,
                                                  submitted_by=user)
        statement.text, statement.visible, statement.hidden_reason = text, True, ""
        statement.submitted_by = user
        statement.save(update_fields=["text", "visible", "hidden_reason", "submitted_by", "updated"])
        return statement


def hide_statement(statement: EntityStatement, user, reason: str) -> EntityStatement:
    """Withdraw a statement from the public page (unlawful or abusive content), with a reason; an
    officer of the entity's region only."""
    _require_officer(user, EntityStatement.objects.filter(pk=statement.pk), _("您无权处理该情况说明。"))
    reason = (reason or "").strip()
    if not reason:
        raise QueryRefused({"reason": _("请说明不予显示的理由。")}, code="reason_required")
    with audit.attributed_to(user), transaction.atomic():
        statement = EntityStatement.objects.select_for_update().get(pk=statement.pk)
        statement.visible, statement.hidden_reason = False, reason
        statement.save(update_fields=["visible", "hidden_reason", "updated"])
    return statement


def statement_records(user):
    """Published records of the enterprise user's entity, for the statement form's entry list."""
    if user.role != Role.ENTERPRISE or user.entity_id is None:
        return CreditRecord.objects.none()
    return (CreditRecord.objects.restrict(user, VIEW).publicly_visible(_today()).select_related("statement")
            .order_by("-occurred_on", "-id"))
