"""Writing to the credit ledger: the one function every module calls, and the revocation of a fact.

``record_fact`` is idempotent on its source: (module, type, id of the source record, kind) names a
record once, enforced by a unique constraint, so a module may report a finding again (a retried
job, a re-published result) without creating a duplicate. Concurrent callers on PostgreSQL meet at
the constraint: the loser's insert fails inside a savepoint and it reads the winner's row.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qualitygov.core import audit
from qualitygov.credit import feed
from qualitygov.credit.models import CreditRecord, Kind
from qualitygov.credit.publication import PublicationWindow, publication_window

__all__ = ["RecordResult", "SourceRef", "end_fact", "expire_publications", "publication_window", "PublicationWindow", "record_fact",
           "rescore_after_commit", "revoke_fact", "source_ref"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceRef:
    """The record a fact comes from, named explicitly (for sources that are not model instances)."""

    module: str
    type: str
    id: str

    def __post_init__(self):
        object.__setattr__(self, "id", str(self.id))
        if not self.module or not self.type or not self.id:
            raise ValidationError({"source": _("来源记录必须注明模块、类型和编号。")})


@dataclass(frozen=True)
class RecordResult:
    record: CreditRecord
    created: bool


def source_ref(source: models.Model | SourceRef) -> SourceRef:
    """A model instance as its source reference: app label, model name, primary key."""
    if isinstance(source, SourceRef):
        return source
    if isinstance(source, models.Model):
        if source.pk is None:
            raise ValidationError({"source": _("来源记录尚未保存，不能作为信用记录的来源。")})
        meta = source._meta
        return SourceRef(meta.app_label, meta.model_name, str(source.pk))
    raise ValidationError({"source": _("来源必须是一条已保存的记录或 SourceRef。")})


def _entity_id(entity) -> int:
    from qualitygov.registry.models import MarketEntity

    entity_id = entity.pk if isinstance(entity, MarketEntity) else entity
    if entity_id is None or not MarketEntity.objects.filter(pk=entity_id).exists():
        raise ValidationError({"entity": _("市场主体不存在，不能记录信用信息。")})
    return entity_id


@contextlib.contextmanager
def _attributed_to(user):
    """Audit entries name ``user`` unless a request or job already says who is acting."""
    if user is not None and audit.current_actor().resolve_user() is None:
        with audit.acting_as(user):
            yield
    else:
        yield


def record_fact(*, entity, kind: str, occurred_on: dt.date, source: models.Model | SourceRef, summary: str,
                details: dict | None = None, department: str = "", publishable: bool | None = None,
                user=None) -> RecordResult:
    """Record one fact about ``entity`` in its credit file — the one way any module writes to the ledger.

    ``source`` is the record the fact comes from (a model instance or a ``SourceRef``). Calling again
    for the same source and kind returns the existing record (``created`` False), bringing its
    summary, details, department, date and publication up to date if they changed (audited); a
    revoked, repaired or expired record keeps its state. ``publishable`` None takes the kind's rule
    (``credit.publication``). Bad input raises ``ValidationError`` with a Chinese message and changes
    nothing.
    """
    if kind not in Kind.values:
        raise ValidationError({"kind": _("未知的信用事项类型：%(kind)s。") % {"kind": kind}})
    if not isinstance(occurred_on, dt.date) or isinstance(occurred_on, dt.datetime):
        raise ValidationError({"occurred_on": _("发生日期必须是日期。")})
    if not (summary or "").strip():
        raise ValidationError({"summary": _("请填写信用记录摘要。")})
    if details is not None and not isinstance(details, dict):
        raise ValidationError({"details": _("详细信息必须是键值对象。")})
    ref = source_ref(source)
    entity_id = _entity_id(entity)
    # JSON-ready now (dates and amounts as strings), so a re-report compares equal to what is stored.
    details = json.loads(json.dumps(details or {}, cls=DjangoJSONEncoder))
    window = publication_window(kind, occurred_on, details, publishable=publishable)
    values = {
        "entity_id": entity_id,
        "occurred_on": occurred_on,
        "summary": summary.strip(),
        "details": details,
        "department": department,
        "publishable": window.publishable,
        "publish_from": window.start,
        "publish_min_until": window.minimum_end,
        "publish_until": window.end,
    }
    key = {"source_module": ref.module, "source_type": ref.type, "source_id": ref.id, "kind": kind}
    with _attributed_to(user), transaction.atomic():
        existing = CreditRecord.objects.select_for_update().filter(**key).first()
        if existing is None:
            try:
                with transaction.atomic():  # a savepoint: a lost race leaves the outer transaction usable
                    record = CreditRecord.objects.create(**key, **values, recorded_by=user)
                feed.record_changed(record, created=True, was_public=False)
                rescore_after_commit(entity_id)
                return RecordResult(record, True)
            except IntegrityError:
                existing = CreditRecord.objects.select_for_update().filter(**key).first()
                if existing is None:
                    raise  # not the uniqueness race: a real integrity error
        was_public = feed.is_public(existing)
        record, changed = _bring_up_to_date(existing, values)
        if changed:
            feed.record_changed(record, created=False, was_public=was_public)
            rescore_after_commit(record.entity_id)
        return RecordResult(record, False)


def _bring_up_to_date(record: CreditRecord, values: dict) -> tuple[CreditRecord, bool]:
    if record.entity_id != values["entity_id"]:
        raise ValidationError({"entity": _("该来源记录已记入另一市场主体的信用档案，不能改记到其他主体。")})
    changed = [name for name, value in values.items() if getattr(record, name) != value]
    if record.state != CreditRecord.State.ACTIVE:
        # Publication of a revoked, repaired or expired record was decided; a re-report does not reopen it.
        changed = [name for name in changed if not name.startswith("publish")]
    if changed:
        for name in changed:
            setattr(record, name, values[name])
        record.save(update_fields=[*changed, "updated"])  # the audit signal records before and after
    return record, bool(changed)


def revoke_fact(source: models.Model | SourceRef, kind: str, reason: str, user=None) -> CreditRecord | None:
    """Mark the record of ``source`` and ``kind`` revoked because its source was overturned (for
    example a re-inspection that overturned an unqualified result; SAMR Order 45 Art. 11 withdraws
    the publication of a penalty that was changed or annulled).

    The record stays in the ledger with its history and is no longer published or scored. Returns it,
    or None when nothing was ever recorded for that source and kind. Revoking twice changes nothing.
    """
    if not (reason or "").strip():
        raise ValidationError({"reason": _("撤销信用记录必须说明原因。")})
    ref = source_ref(source)
    key = {"source_module": ref.module, "source_type": ref.type, "source_id": ref.id, "kind": kind}
    with _attributed_to(user), transaction.atomic():
        record = CreditRecord.objects.select_for_update().filter(**key).first()
        if record is None or record.state == CreditRecord.State.REVOKED:
            return record
        was_public = feed.is_public(record)
        record.state = CreditRecord.State.REVOKED
        record.state_reason = reason.strip()
        record.state_changed_at = timezone.now()
        record.save(update_fields=["state", "state_reason", "state_changed_at", "updated"])
        feed.record_changed(record, created=False, was_public=was_public)
        rescore_after_commit(record.entity_id)
        return record


# The states ``end_fact`` may move a record to: its term ended (or it was removed) and it was repaired.
ENDING_STATES = (CreditRecord.State.EXPIRED, CreditRecord.State.REPAIRED)


def end_fact(source: models.Model | SourceRef, kind: str, *, on: dt.date, state: str, reason: str,
             user=None) -> CreditRecord | None:
    """End the active record of ``source`` and ``kind`` on ``on``: *expired* when its term ended (for
    example three years on the serious-violation list, SAMR Order 44) or *repaired* when it ended
    early through credit repair (信用修复: early removal from a list, removal from the
    abnormal-operation list on correction; see ../shared/policy/RULES.md).

    Either way the record leaves publication (``publicly_visible`` shows active records only) and
    stays in the ledger with its history; the audit signal records the change. The date is kept in
    ``state_reason``. Returns the record, or None when nothing was recorded for that source and kind.
    Ending a record that is no longer active changes nothing (idempotent; a revoked record stays
    revoked).
    """
    if state not in ENDING_STATES:
        raise ValidationError({"state": _("信用记录只能结束为“公示期满”或“已信用修复”。")})
    if not isinstance(on, dt.date) or isinstance(on, dt.datetime):
        raise ValidationError({"on": _("结束日期必须是日期。")})
    if not (reason or "").strip():
        raise ValidationError({"reason": _("结束信用记录必须说明原因。")})
    ref = source_ref(source)
    key = {"source_module": ref.module, "source_type": ref.type, "source_id": ref.id, "kind": kind}
    with _attributed_to(user), transaction.atomic():
        record = CreditRecord.objects.select_for_update().filter(**key).first()
        if record is None or record.state != CreditRecord.State.ACTIVE:
            return record
        was_public = feed.is_public(record)
        record.state = state
        record.state_reason = _("%(date)s：%(reason)s") % {"date": on.isoformat(), "reason": reason.strip()}
        record.state_changed_at = timezone.now()
        record.save(update_fields=["state", "state_reason", "state_changed_at", "updated"])
        feed.record_changed(record, created=False, was_public=was_public)
        rescore_after_commit(record.entity_id)
        return record


# --- incremental rescoring (issue 4, item 2) ---------------------------------------------------------

class _PendingRescore:
    """The entities written in one transaction, rescored once after it commits."""

    def __init__(self):
        self.ids: set[int] = set()
        self.done = False

    def __call__(self):
        from qualitygov.credit import scoring
        from qualitygov.credit.models import ScoreModel

        ids, self.done = sorted(self.ids), True
        if not ids or not ScoreModel.objects.filter(status=ScoreModel.Status.ACTIVE).exists():
            return  # nothing to score with yet: the first full rescoring will score them
        try:
            scoring.rescore_entities(ids)
        except Exception:
            # The ledger write has committed; a scoring failure must not undo or break it. The run
            # row says failed, and the next rescoring (at the latest the monthly one) catches up.
            logger.exception("Incremental credit rescoring failed for entities %s", ids)


def rescore_after_commit(entity_id: int) -> None:
    """Rescore ``entity_id`` with the active model once the current transaction commits (at once
    outside a transaction). Several writes in one transaction give one rescoring of all their
    entities; a rolled-back write gives none. Off when ``settings.CREDIT_RESCORE_ON_WRITE`` is False."""
    if not getattr(settings, "CREDIT_RESCORE_ON_WRITE", True):
        return
    # Join the rescoring already queued in this transaction, if any (a callback queued in a savepoint
    # that rolled back is gone from the list, and a new one is queued).
    for _sids, func, _robust in connection.run_on_commit:
        if isinstance(func, _PendingRescore) and not func.done:
            func.ids.add(entity_id)
            return
    pending = _PendingRescore()
    pending.ids.add(entity_id)
    transaction.on_commit(pending)


def expire_publications(today: dt.date | None = None, user=None) -> int:
    """Mark *expired* every active published record whose publication window ended before ``today``
    (default today), and tell sharing partners through the change feed; returns how many. The daily
    job (``credit_daily``).

    Set-based: one UPDATE and one INSERT … SELECT of feed events per batch, one summary audit entry.
    The record keeps counting in the score (``scoring.COUNTED_STATES``): only its publication ended.
    """
    from itertools import batched

    from qualitygov.core.models import AuditLog

    today = today or timezone.localdate()
    reason = _("公示期满，停止公示")
    with _attributed_to(user), transaction.atomic():
        due = CreditRecord.objects.select_for_update().filter(
            state=CreditRecord.State.ACTIVE, publishable=True, publish_until__lt=today)
        ids = list(due.values_list("pk", flat=True))
        if not ids:
            return 0
        now = timezone.now()
        for batch in batched(ids, 500):
            CreditRecord.objects.filter(pk__in=batch).update(
                state=CreditRecord.State.EXPIRED, state_changed_at=now, updated=now,
                state_reason=_("%(date)s：%(reason)s") % {"date": today.isoformat(), "reason": reason})
            feed.records_withdrawn(list(batch), reason=reason)
        audit.record(AuditLog.Action.UPDATE, model=CreditRecord,
                     message=_("公示期满的信用记录 %(n)d 条停止公示（截至 %(date)s）。") % {
                         "n": len(ids), "date": today.isoformat()},
                     after={"expired": ids})
    return len(ids)
