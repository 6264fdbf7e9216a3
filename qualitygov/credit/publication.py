"""When a credit record may be published, and for how long: pure functions and one table.

Sources (see ../shared/policy/RULES.md, "Penalty publicity and credit repair", and
../shared/policy/laws/samr-penalty-info-disclosure.md, SAMR Order 45):

- Order 45 Art. 2: a penalty that is only a warning (警告) is not published [checked].
- Order 45 Art. 13: a penalty that is only a circulated criticism (通报批评) or a lower fine stops
  being published three months after publication; other penalties after three years; a restriction
  of business or practice longer than three years is published for the restriction's term [checked].
- Order 45 Art. 14 para. 3: suspension of production or business, restriction of business or
  practice, lowered qualification, revoked licence or business licence cannot end early [checked].
- RULES.md [reported], and the credit-repair guidance that applies it (e.g. the Shenzhen housing
  bureau's 信用修复 page, http://www.senqisrq.com/xxgk/ztzl/sgs/index.html, under NDRC Order 58):
  publication lasts at least 3 months and at most 3 years; at least 1 year for special equipment,
  work safety and fire; where one decision carries several kinds of penalty the longest period
  applies; the period starts on the date of the decision.

Where the law gives a range or says nothing (spot-check results, accidents, awards, ...), the
periods in ``PUBLICATION_RULES`` are **our configuration**, marked as such below.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from qualitygov.core.text import join_list
from qualitygov.credit.models import Kind


class PenaltyType(models.TextChoices):
    """Kinds of administrative penalty (Administrative Penalty Law Art. 9), given in
    ``details["penalty_types"]`` of a penalty record."""

    WARNING = "warning", _("警告")
    CIRCULATED_CRITICISM = "circulated_criticism", _("通报批评")
    FINE = "fine", _("罚款")
    CONFISCATION_OF_INCOME = "confiscation_of_income", _("没收违法所得")
    CONFISCATION_OF_PROPERTY = "confiscation_of_property", _("没收非法财物")
    LICENCE_SUSPENSION = "licence_suspension", _("暂扣许可证件")
    QUALIFICATION_DOWNGRADE = "qualification_downgrade", _("降低资质等级")
    LICENCE_REVOCATION = "licence_revocation", _("吊销许可证件")
    BUSINESS_LICENCE_REVOCATION = "business_licence_revocation", _("吊销营业执照")
    BUSINESS_RESTRICTION = "business_restriction", _("限制开展生产经营活动")
    PRODUCTION_SUSPENSION = "production_suspension", _("责令停产停业")
    CLOSURE = "closure", _("责令关闭")
    PRACTICE_RESTRICTION = "practice_restriction", _("限制从业")


# Order 45 Art. 14 para. 3: these penalties are published for their whole term, never ended early.
# 责令关闭 is not named there; we count it with them, as it is heavier than a suspension.
NO_EARLY_END = frozenset({PenaltyType.PRODUCTION_SUSPENSION, PenaltyType.BUSINESS_RESTRICTION,
                          PenaltyType.PRACTICE_RESTRICTION, PenaltyType.QUALIFICATION_DOWNGRADE,
                          PenaltyType.LICENCE_REVOCATION, PenaltyType.BUSINESS_LICENCE_REVOCATION,
                          PenaltyType.CLOSURE})
# Order 45 Art. 13 para. 1: only these (a fine only when it is a lower fine) → three months.
SHORT_PUBLICATION = frozenset({PenaltyType.WARNING, PenaltyType.CIRCULATED_CRITICISM, PenaltyType.FINE})

# Order 45 Art. 13 para. 2 leaves "a lower fine" (较低数额罚款) to the provincial bureau. We have not
# found Jilin's figure [verify]; until it is set here, no fine counts as lower and a fined entity is
# published under the general three-year rule.
LOW_FINE_THRESHOLD_CNY: Decimal | None = None

# Fields with the one-year minimum (RULES.md [reported]), given in ``details["field"]``.
class SensitiveField(models.TextChoices):
    SPECIAL_EQUIPMENT = "special_equipment", _("特种设备")
    WORK_SAFETY = "work_safety", _("安全生产")
    FIRE = "fire", _("消防")


SENSITIVE_FIELD_MIN_MONTHS = 12


@dataclass(frozen=True)
class PublicationRule:
    """Default publication of one kind of record: whether, and the minimum and maximum in months."""

    publishable: bool
    min_months: int
    max_months: int
    penalty: bool = False  # decided by the penalty rules of Order 45 (penalty types, fields, terms)
    basis: str = ""


# One table for every kind. "ours" marks our configuration where the law gives a range or nothing.
PUBLICATION_RULES: dict[str, PublicationRule] = {
    Kind.SPOT_CHECK_UNQUALIFIED: PublicationRule(True, 3, 36, basis="ours: results are public (Order 18); "
                                                 "period as for a penalty"),
    Kind.SPOT_CHECK_SERIOUS: PublicationRule(True, 12, 36, basis="ours: an A-class item failed, as serious "
                                             "as the one-year safety fields"),
    Kind.REFUSED_SAMPLING: PublicationRule(True, 12, 36, basis="ours: a refusal is judged like a serious "
                                           "nonconformity, so it cannot hide a worse product"),
    Kind.ADMINISTRATIVE_PENALTY: PublicationRule(True, 3, 36, penalty=True, basis="Order 45 Art. 2, 13, 14"),
    Kind.LICENCE_SUSPENSION: PublicationRule(True, 3, 36, penalty=True, basis="Order 45 Art. 13"),
    Kind.LICENCE_REVOCATION: PublicationRule(True, 36, 36, penalty=True, basis="Order 45 Art. 13, 14 para. 3"),
    Kind.QUALITY_ACCIDENT: PublicationRule(True, 12, 36, basis="ours: a safety matter, like the one-year fields"),
    Kind.VERIFIED_COMPLAINT: PublicationRule(False, 3, 36, basis="ours: internal, feeds the score only"),
    Kind.VERIFIED_TIP_OFF: PublicationRule(False, 3, 36, basis="ours: internal; the penalty it leads to is "
                                           "published as its own record"),
    Kind.RECALL: PublicationRule(True, 3, 36, basis="ours: recalls are announced (Order 19)"),
    Kind.CERTIFICATION_OBTAINED: PublicationRule(True, 0, 36, basis="ours: positive, may be withdrawn any time"),
    Kind.CERTIFICATION_WITHDRAWN: PublicationRule(True, 3, 36, basis="ours: as a penalty"),
    Kind.AWARD: PublicationRule(True, 0, 36, basis="ours: positive"),
    Kind.ABNORMAL_OPERATION_LISTING: PublicationRule(True, 0, 36, basis="removed on correction at any time; "
                                                     "three years lead to the serious-violation list (RULES.md)"),
    Kind.SERIOUS_VIOLATION_LISTING: PublicationRule(True, 12, 36, basis="Order 44 (RULES.md [reported]): early "
                                                    "removal after 1 year, automatic after 3"),
}


class PublicationWindow(NamedTuple):
    """Whether a record is published and, if so, from when, the earliest end (by repair) and the latest."""

    publishable: bool
    start: dt.date | None
    minimum_end: dt.date | None
    end: dt.date | None


NOT_PUBLISHED = PublicationWindow(False, None, None, None)


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus whole calendar months, on the last day of a shorter month (31 Jan + 1 → 28/29 Feb)."""
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def penalty_types(details: dict) -> set[str]:
    """The penalty types a penalty record names, checked against ``PenaltyType``."""
    raw = details.get("penalty_types")
    if not raw or not isinstance(raw, list | tuple):
        raise ValidationError({"details": _("行政处罚必须在 penalty_types 中注明处罚种类（如 warning、fine）。")})
    unknown = sorted(str(t) for t in raw if t not in PenaltyType.values)
    if unknown:
        raise ValidationError({"details": _("未知的处罚种类：%(types)s。") % {"types": join_list(unknown)}})
    return set(raw)


def _amount(details: dict) -> Decimal | None:
    raw = details.get("amount")
    if raw in (None, ""):
        return None
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value < 0:
        raise ValidationError({"details": _("罚没金额必须是不小于零的数字（元）。")})
    return value


def _date(details: dict, key: str) -> dt.date | None:
    raw = details.get(key)
    if raw in (None, ""):
        return None
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        raise ValidationError({"details": _("%(key)s 必须是 YYYY-MM-DD 格式的日期。") % {"key": key}}) from None


def is_warning_only(kind: str, details: dict | None) -> bool:
    """A penalty whose only penalty is a warning: never published (Order 45 Art. 2)."""
    return kind == Kind.ADMINISTRATIVE_PENALTY and set((details or {}).get("penalty_types") or []) == {
        PenaltyType.WARNING}


def publication_window(kind: str, occurred_on: dt.date, details: dict | None = None, *,
                       publishable: bool | None = None) -> PublicationWindow:
    """Whether a record of ``kind`` is published and its window, from the rules above.

    ``publishable`` overrides the kind's default (a department may withhold a record, or publish an
    internal kind); it cannot publish what the law forbids. Raises ``ValidationError`` with a Chinese
    message for details the rules cannot read.
    """
    if kind not in PUBLICATION_RULES:
        raise ValidationError({"kind": _("未知的信用事项类型：%(kind)s。") % {"kind": kind}})
    rule = PUBLICATION_RULES[kind]
    details = details or {}
    start = occurred_on
    min_end, max_end = add_months(start, rule.min_months), add_months(start, rule.max_months)
    if rule.penalty:
        types = penalty_types(details) if kind == Kind.ADMINISTRATIVE_PENALTY else set(details.get(
            "penalty_types") or [])
        if kind == Kind.ADMINISTRATIVE_PENALTY and types == {PenaltyType.WARNING}:
            if publishable:
                raise ValidationError({"publishable": _("仅受到警告的行政处罚不予公示（《市场监督管理行政处罚信息"
                                                        "公示规定》第二条）。")})
            return NOT_PUBLISHED
        amount = _amount(details)
        low_fine = (PenaltyType.FINE not in types or (
            LOW_FINE_THRESHOLD_CNY is not None and amount is not None and amount <= LOW_FINE_THRESHOLD_CNY))
        if kind == Kind.ADMINISTRATIVE_PENALTY and types <= SHORT_PUBLICATION and low_fine:
            # Art. 13 para. 1: criticism or a lower fine only — published three months, then stopped.
            min_end = max_end = add_months(start, 3)
        else:
            if details.get("field") in SensitiveField.values:
                min_end = max(min_end, add_months(start, SENSITIVE_FIELD_MIN_MONTHS))
            restriction_until = _date(details, "restriction_until")
            if restriction_until is not None and restriction_until > max_end:
                max_end = restriction_until  # Art. 13 para. 3: the restriction's own term
            if types & NO_EARLY_END or kind == Kind.LICENCE_REVOCATION:
                min_end = max_end  # Art. 14 para. 3: no early end
    if min_end > max_end:
        raise ValidationError({"details": _("公示期设置有误：最短公示期超过最长公示期。")})
    if publishable is None:
        publishable = rule.publishable
    if not publishable:
        return NOT_PUBLISHED
    return PublicationWindow(True, start, min_end, max_end)
