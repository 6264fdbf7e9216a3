"""Who may see a complainant's or reporter's identity, and the one way to read it (Art. 33).

SAMR Order 20 Art. 33: the regulator keeps the reporter's information confidential and must not
disclose the reporter's personal information to the respondent or to anyone not handling the case.

- ``can_view_identity``: only users holding the ``complaints.view_reporter_identity`` permission (the
  designated role, granted by the administrator) and only for cases in their own scope.
- ``reveal``: the plain values, for those users only; every call writes an ``AuditLog`` entry of kind
  ``ACCESS`` naming who read which case's identity, which fields and why — never the values.
- ``masked``: what everybody else sees ("张*", "138****5678"), computed from the decrypted values but
  never carrying them.

The identity is stored encrypted (``complaints.crypto``) in ``ReporterIdentity``, which is not an
audited model, so its values never reach the audit log through the per-object entries either.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from qualitygov.core import audit
from qualitygov.core.models import AuditLog
from qualitygov.core.roles import VIEW

__all__ = ["IDENTITY_FIELDS", "PERMISSION", "can_view_identity", "mask_email", "mask_name", "mask_phone",
           "mask_text", "masked", "reveal"]

PERMISSION = "complaints.view_reporter_identity"
IDENTITY_FIELDS = ("name", "phone", "address", "id_number", "email", "agent_name", "agent_id_number")


def _identity(case):
    from qualitygov.complaints.models import ReporterIdentity

    try:
        return case.submission.identity
    except ReporterIdentity.DoesNotExist:
        return None


def can_view_identity(user, case) -> bool:
    """True when ``user`` holds the identity permission and ``case`` is in the user's scope."""
    from qualitygov.complaints.models import Case

    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if not user.has_perm(PERMISSION):
        return False
    return Case.objects.restrict(user, VIEW).filter(pk=case.pk).exists()


def reveal(user, case, *, purpose: str = "") -> dict:
    """The identity behind ``case`` in plain text, audit-logged (``PermissionDenied`` for anyone else).

    The entry names the user, the case, the fields that hold a value and the purpose given; the values
    themselves are never written to the log.
    """
    if not can_view_identity(user, case):
        raise PermissionDenied(_("您无权查看投诉举报人信息。"))
    identity = _identity(case)
    values = {field: (getattr(identity, field) if identity is not None else "") for field in IDENTITY_FIELDS}
    anonymous = case.submission.anonymous
    with audit.attributed_to(user):
        audit.record(AuditLog.Action.ACCESS, case, region=case.handling_unit_id,
                     after={"fields": [field for field in IDENTITY_FIELDS if values[field]],
                            "submission": case.submission.tracking_number},
                     message=_("查看投诉举报人信息（案件 %(number)s）；用途：%(purpose)s") % {
                         "number": case.number, "purpose": (purpose or "").strip()[:200] or _("未说明")})
    return {**values, "anonymous": anonymous}


def mask_name(value: str) -> str:
    """First character and one star per remaining character ("张三丰" → "张**")."""
    value = (value or "").strip()
    if not value:
        return ""
    return value[0] + "*" * max(1, len(value) - 1)


def mask_phone(value: str) -> str:
    """The first three and last four digits of a phone number ("13812345678" → "138****5678")."""
    digits = "".join(ch for ch in (value or "") if ch.isdigit())
    if not digits:
        return ""
    if len(digits) <= 7:
        return "*" * (len(digits) - 2) + digits[-2:]
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_text(value: str, keep: int = 1) -> str:
    """The first ``keep`` characters and stars (addresses, ID numbers)."""
    value = (value or "").strip()
    if not value:
        return ""
    return value[:keep] + "*" * min(8, max(1, len(value) - keep))


def mask_email(value: str) -> str:
    value = (value or "").strip()
    if "@" not in value:
        return mask_text(value)
    local, domain = value.split("@", 1)
    return (local[:1] + "***@" + domain) if local else "***@" + domain


def masked(case) -> dict:
    """The identity behind ``case`` masked for users who may not see it (no audit entry: nothing is
    disclosed). An anonymous submission says so."""
    identity = _identity(case)
    anonymous = case.submission.anonymous
    if identity is None or anonymous:
        return {**{field: "" for field in IDENTITY_FIELDS}, "anonymous": anonymous}
    return {
        "name": mask_name(identity.name),
        "phone": mask_phone(identity.phone),
        "address": mask_text(identity.address, keep=3),
        "id_number": mask_text(identity.id_number, keep=1),
        "email": mask_email(identity.email),
        "agent_name": mask_name(identity.agent_name),
        "agent_id_number": mask_text(identity.agent_id_number, keep=1),
        "anonymous": False,
    }
