"""Services of the spot-check catalogue: which rule version applies, judging lab results against it,
marking a version used, and loading the demo implementation rules.

The judgement (产品质量监督抽查 判定原则, as the SAMR implementation rules state it under SAMR
Order 18): every item passes → 未发现不合格; any item fails → 不合格; any A-class item fails →
严重不合格. The overall verdict is always computed here, never entered.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from qualitygov.core import audit
from qualitygov.core.models import AuditLog, ProductCategory
from qualitygov.core.text import join_list
from qualitygov.inspection.models.catalogue import (
    ImplementationRule,
    RuleVersion,
    TestItem,
    Verdict,
    normalize_unit,
)

RULES_DIR = Path(__file__).resolve().parent / "data" / "rules"

PASS, FAIL = "pass", "fail"
ITEM_VERDICTS = (PASS, FAIL)


class NoRuleInForce(ValidationError):
    """No implementation rule version applies to a category on a date."""


@dataclass(frozen=True)
class ItemResult:
    """What the lab reports for one test item: the value, its unit, and the lab's verdict if given."""

    value: str | decimal.Decimal | int | None
    unit: str | None = None
    verdict: str | None = None


@dataclass(frozen=True)
class ResultProblem:
    """One reason a set of results is refused: the item code, a machine code and a Chinese reason."""

    item: str
    code: str
    reason: str


class ResultsRefused(ValidationError):
    """Results that cannot be judged; ``problems`` lists every reason at once.

    As a ``ValidationError`` its ``message_dict`` is ``{item_code: [reasons]}``, the ``details``
    of the API's error shape.
    """

    def __init__(self, problems: list[ResultProblem]):
        self.problems = problems
        by_item: dict[str, list[ValidationError]] = {}
        for problem in problems:
            by_item.setdefault(problem.item, []).append(ValidationError(problem.reason, code=problem.code))
        super().__init__(by_item)


@dataclass(frozen=True)
class ItemJudgement:
    """The judged result of one item, its value converted to the item's canonical unit."""

    code: str
    name: str
    item_class: str
    value: decimal.Decimal | str
    unit: str
    verdict: str
    computed: bool  # True when the verdict was computed from the limit, False when the lab's


@dataclass(frozen=True)
class Judgement:
    """Overall verdict of one sample under one rule version, with every item's verdict."""

    version_id: int
    verdict: str
    items: dict[str, ItemJudgement] = field(default_factory=dict)

    @property
    def item_verdicts(self) -> dict[str, str]:
        return {code: item.verdict for code, item in self.items.items()}

    @property
    def failing_items(self) -> list[ItemJudgement]:
        """Failing items, A-class first, then in the rule's order."""
        failing = [item for item in self.items.values() if item.verdict == FAIL]
        return sorted(failing, key=lambda item: item.item_class)  # stable: keeps rule order within a class

    @property
    def verdict_label(self) -> str:
        return str(Verdict(self.verdict).label)


def rule_in_force(category: ProductCategory | str, on_date: dt.date) -> RuleVersion:
    """The published version of ``category``'s implementation rule that covers ``on_date``.

    Drafts never apply; a superseded version still applies to dates inside its period (a plan
    dated then used it). Raises ``NoRuleInForce`` with a Chinese message when none applies.
    """
    code = getattr(category, "pk", category)
    version = (RuleVersion.objects.select_related("rule", "rule__category")
               .filter(rule__category_id=code, effective_from__lte=on_date)
               .exclude(status=RuleVersion.Status.DRAFT)
               .filter(models.Q(effective_to__isnull=True) | models.Q(effective_to__gte=on_date))
               .order_by("-effective_from").first())
    if version is None:
        name = ProductCategory.objects.filter(pk=code).values_list("name", flat=True).first() or code
        raise NoRuleInForce(_("产品类别“%(category)s”在 %(date)s 没有有效的实施细则版本。")
                            % {"category": name, "date": on_date.isoformat()}, code="no_rule_in_force")
    return version


def mark_used(version: RuleVersion) -> None:
    """Record that a plan uses ``version``; from then on its content is frozen.

    The plan module calls this inside the transaction that creates the plan. A draft cannot be
    used: only a published edition may govern a spot check.
    """
    if version.status == RuleVersion.Status.DRAFT:
        raise ValidationError(_("实施细则版本 %(version)s 仍是草案，不能用于抽查计划。") % {"version": version},
                              code="draft")
    if not version.used:
        # A queryset update: save() would refuse nothing here, but this also works on a stale object.
        RuleVersion.objects.filter(pk=version.pk).update(used=True)
        version.used = True
        audit.record(AuditLog.Action.UPDATE, version, before={"used": False}, after={"used": True},
                     message=_("实施细则版本被抽查计划使用，内容冻结。"))


def _parse_number(value) -> decimal.Decimal | None:
    """The value as a finite Decimal, or None when it is not a number ("合格", "", "12,5"…)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, decimal.Decimal | int):
        number = decimal.Decimal(value)
    elif isinstance(value, float):
        number = decimal.Decimal(str(value))  # the printed value, not the binary fraction
    else:
        try:
            number = decimal.Decimal(str(value).strip())
        except decimal.InvalidOperation:
            return None
    return number if number.is_finite() else None


def _limit_verdict(item: TestItem, number: decimal.Decimal) -> str:
    """Pass or fail of a canonical-unit value against a numeric limit (limits are inclusive)."""
    kind = item.limit_kind
    if kind == TestItem.LimitKind.MAX:
        ok = number <= item.limit_max
    elif kind == TestItem.LimitKind.MIN:
        ok = number >= item.limit_min
    elif kind == TestItem.LimitKind.RANGE:
        ok = item.limit_min <= number <= item.limit_max
    else:  # equals
        ok = number == item.limit_min
    return PASS if ok else FAIL


def judge(version: RuleVersion, results: Mapping[str, ItemResult]) -> Judgement:
    """Judge one sample's results under ``version``; refuse them with every problem listed at once.

    ``results`` maps item code → ``ItemResult``. Problems: an item of the version without a
    result; a result for an item the version does not have (for example results written for
    another version); a numeric result without a unit, with a unit the item does not accept, or
    that is not a number; a lab verdict that is not pass/fail, or that contradicts the limit; a
    qualitative item without the lab's verdict. Machine-checkable items are judged here from the
    value and limit; qualitative items take the lab's verdict.
    """
    items = list(TestItem.objects.filter(version=version).order_by("sequence"))
    problems: list[ResultProblem] = []
    judged: dict[str, ItemJudgement] = {}
    by_code = {item.code: item for item in items}

    for item in items:
        if item.code not in results:
            problems.append(ResultProblem(item.code, "missing", _("缺少检验项目“%(name)s”的结果。")
                                          % {"name": item.name}))
    for code in results:
        if code not in by_code:
            problems.append(ResultProblem(str(code), "unknown_item",
                                          _("检验项目“%(code)s”不属于实施细则 %(version)s，可能是其他版本的结果。")
                                          % {"code": code, "version": version}))

    for item in items:
        result = results.get(item.code)
        if result is None:
            continue
        before = len(problems)
        lab_verdict = result.verdict
        if lab_verdict is not None and lab_verdict not in ITEM_VERDICTS:
            problems.append(ResultProblem(item.code, "invalid_verdict",
                                          _("“%(name)s”的单项判定只能是合格（pass）或不合格（fail）。")
                                          % {"name": item.name}))
            lab_verdict = None
        unit = normalize_unit(result.unit)
        factors = item.unit_factors()
        if unit and unit not in factors:
            accepted = join_list(factors) or _("无（定性项目不填单位）")
            problems.append(ResultProblem(item.code, "unknown_unit",
                                          _("“%(name)s”的单位“%(unit)s”不被接受，可用单位：%(accepted)s。")
                                          % {"name": item.name, "unit": result.unit, "accepted": accepted}))
        if item.is_numeric:
            number = _parse_number(result.value)
            if number is None:
                problems.append(ResultProblem(item.code, "not_numeric",
                                              _("“%(name)s”要求数值结果，“%(value)s”不是数值。")
                                              % {"name": item.name, "value": result.value}))
            elif not unit:
                problems.append(ResultProblem(item.code, "missing_unit",
                                              _("“%(name)s”的数值结果缺少单位（应为 %(unit)s）。")
                                              % {"name": item.name, "unit": item.unit}))
            if len(problems) > before:
                continue
            canonical = number * factors[unit]
            verdict = _limit_verdict(item, canonical)
            if lab_verdict is not None and lab_verdict != verdict:
                problems.append(ResultProblem(
                    item.code, "verdict_contradicts_limit",
                    _("“%(name)s”的实测值 %(value)s %(unit)s 按限值（%(limit)s）应判为%(computed)s，与检验机构的判定"
                      "（%(given)s）矛盾。") % {"name": item.name, "value": result.value, "unit": result.unit,
                                               "limit": item.limit_text(), "computed": _verdict_word(verdict),
                                               "given": _verdict_word(lab_verdict)}))
                continue
            judged[item.code] = ItemJudgement(item.code, item.name, item.item_class, canonical, item.unit,
                                              verdict, computed=True)
        else:
            if lab_verdict is None and len(problems) == before:
                problems.append(ResultProblem(item.code, "verdict_required",
                                              _("“%(name)s”是定性项目，必须给出单项判定（合格或不合格）。")
                                              % {"name": item.name}))
            if len(problems) > before:
                continue
            judged[item.code] = ItemJudgement(item.code, item.name, item.item_class,
                                              str(result.value if result.value is not None else ""), "",
                                              lab_verdict, computed=False)

    if problems:
        raise ResultsRefused(problems)
    return Judgement(version_id=version.pk, verdict=overall_verdict(judged.values()), items=judged)


def _verdict_word(verdict: str) -> str:
    return _("合格") if verdict == PASS else _("不合格")


def overall_verdict(items) -> str:
    """The rule's judgement over item verdicts: A fail → 严重不合格, any fail → 不合格, else 未发现不合格."""
    failing_classes = {item.item_class for item in items if item.verdict == FAIL}
    if TestItem.ItemClass.A in failing_classes:
        return Verdict.SERIOUSLY_UNQUALIFIED
    if failing_classes:
        return Verdict.UNQUALIFIED
    return Verdict.NO_NONCONFORMITY


# --- demo rules -------------------------------------------------------------------------------------

VERSION_FIELDS = ("effective_from", "effective_to", "status", "test_sample_count", "spare_sample_count",
                  "sample_unit", "sampling_notes")
ITEM_FIELDS = ("sequence", "name", "item_class", "standard", "clause", "requirement", "limit_kind", "limit_min",
               "limit_max", "unit", "alternative_units", "method_standard")


def _decimal_or_none(value) -> decimal.Decimal | None:
    return None if value is None else decimal.Decimal(str(value))


def _read_rule_files(directory: Path) -> list[dict]:
    rules = []
    for path in sorted(directory.glob("*.json")):
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        for rule in data["rules"]:
            rule["_file"] = path.name
            rules.append(rule)
    return rules


def _item_rows(rule: dict, version: dict) -> list[dict]:
    rows = []
    for sequence, item in enumerate(version["items"], start=1):
        kind = item["limit_kind"]
        limit_min, limit_max = _decimal_or_none(item.get("min")), _decimal_or_none(item.get("max"))
        if kind == "equals":
            limit_max = limit_min
        rows.append({
            "code": item["code"], "sequence": sequence, "name": item["name"], "item_class": item["class"],
            "standard": item["standard"], "clause": item.get("clause", ""), "requirement": item["requirement"],
            "limit_kind": kind, "limit_min": limit_min, "limit_max": limit_max, "unit": item.get("unit", ""),
            "alternative_units": item.get("alternative_units", {}), "method_standard": item.get("method", ""),
        })
    return rows


@transaction.atomic
def load_demo_rules(directory: Path | None = None) -> dict[str, int]:
    """Load the implementation rules in ``data/rules/*.json``; idempotent, all or nothing.

    Rules are matched by code and versions by (rule code, label): existing rows are updated,
    new ones created, and a version's items are replaced by the file's. A version a plan has
    used is left alone when the file agrees with it and refused when the file would change it.
    Per-object audit is replaced by one summary entry. Returns counts of rules, versions, items.
    """
    rules = _read_rule_files(directory or RULES_DIR)
    codes = [rule["category"] for rule in rules]
    leaves = set(ProductCategory.objects.filter(code__in=codes, parent__isnull=False).values_list("code", flat=True))
    missing = sorted(set(codes) - leaves)
    if missing:
        raise ValidationError(_("实施细则数据引用了不存在或不是二级类别的产品类别：%(codes)s。")
                              % {"codes": join_list(missing)})

    with audit.per_object_audit_disabled():
        existing_rules = {r.code: r for r in ImplementationRule.objects.filter(code__in=[r["code"] for r in rules])}
        new_rules, old_rules = [], []
        for rule in rules:
            values = {"category_id": rule["category"], "title": rule["title"], "issuer": rule.get("issuer", ""),
                      "source": rule.get("source", "")}
            if rule["code"] in existing_rules:
                obj = existing_rules[rule["code"]]
                for name, value in values.items():
                    setattr(obj, name, value)
                old_rules.append(obj)
            else:
                new_rules.append(ImplementationRule(code=rule["code"], **values))
        ImplementationRule.objects.bulk_create(new_rules)
        ImplementationRule.objects.bulk_update(old_rules, ["category_id", "title", "issuer", "source"])
        rule_ids = dict(ImplementationRule.objects.filter(code__in=[r["code"] for r in rules])
                        .values_list("code", "pk"))

        stored = {(v.rule_id, v.label): v for v in RuleVersion.objects.filter(rule_id__in=rule_ids.values())}
        wanted: list[tuple[RuleVersion, list[dict]]] = []
        for rule in rules:
            for version in rule["versions"]:
                values = {"effective_from": dt.date.fromisoformat(version["effective_from"]),
                          "effective_to": (dt.date.fromisoformat(version["effective_to"])
                                           if version.get("effective_to") else None),
                          "status": version["status"], "test_sample_count": version["test_samples"],
                          "spare_sample_count": version["spare_samples"], "sample_unit": version["sample_unit"],
                          "sampling_notes": version.get("sampling_notes", "")}
                key = (rule_ids[rule["code"]], version["label"])
                obj = stored.get(key) or RuleVersion(rule_id=key[0], label=key[1])
                for name, value in values.items():
                    setattr(obj, name, value)
                wanted.append((obj, _item_rows(rule, version)))

        locked = [obj for obj, _rows in wanted if obj.pk is not None and obj.used]
        _check_locked_unchanged(locked, {obj.pk: rows for obj, rows in wanted if obj in locked})
        # A used version may still be closed by the file (a newer edition took over).
        RuleVersion.objects.bulk_update(locked, ["status", "effective_to"])
        open_versions = [obj for obj, _rows in wanted if not (obj.pk is not None and obj.used)]
        for obj in open_versions:
            obj.clean_fields(exclude=["rule"])
        # Updates before inserts: a file that closes the open version and adds its successor must
        # not meet the one-open-version constraint half way.
        RuleVersion.objects.bulk_update([obj for obj in open_versions if obj.pk is not None], list(VERSION_FIELDS))
        RuleVersion.objects.bulk_create([obj for obj in open_versions if obj.pk is None])
        # Periods are checked once every version is written, against the final state.
        for obj in open_versions:
            obj.clean()
        _upsert_items([(obj, rows) for obj, rows in wanted if obj in open_versions])

    counts = {"rules": len(rules), "versions": len(wanted), "items": sum(len(rows) for _obj, rows in wanted)}
    audit.record(AuditLog.Action.IMPORT, model=RuleVersion,
                 message=_("载入演示实施细则：%(rules)d 项细则、%(versions)d 个版本、%(items)d 个检验项目。") % counts)
    return counts


def _upsert_items(versions: list[tuple[RuleVersion, list[dict]]]) -> None:
    """Make each version's items exactly the file's, keeping the ids of items whose code is unchanged."""
    version_ids = [obj.pk for obj, _rows in versions]
    stored = {(version_id, code): pk for pk, version_id, code
              in TestItem.objects.filter(version_id__in=version_ids).values_list("pk", "version_id", "code")}
    keep = {(obj.pk, row["code"]) for obj, rows in versions for row in rows}
    gone = [pk for key, pk in stored.items() if key not in keep]
    TestItem.objects.filter(pk__in=gone).delete()
    # Sequences may move between codes: park the kept rows out of the way of the unique constraint.
    TestItem.objects.filter(version_id__in=version_ids).update(sequence=models.F("sequence") + 10000)
    items = [TestItem(pk=stored.get((obj.pk, row["code"])), version_id=obj.pk, **row)
             for obj, rows in versions for row in rows]
    for item in items:
        item.clean_fields(exclude=["version"])
    TestItem.objects.bulk_update([item for item in items if item.pk is not None], list(ITEM_FIELDS))
    TestItem.objects.bulk_create([item for item in items if item.pk is None])


def _check_locked_unchanged(locked: list[RuleVersion], rows_by_pk: dict[int, list[dict]]) -> None:
    """Refuse a reload that would change a version a plan has used."""
    if not locked:
        return
    changed = []
    stored_versions = {v["pk"]: v for v in RuleVersion.objects.filter(pk__in=rows_by_pk).values("pk", *VERSION_FIELDS)}
    stored_items: dict[int, list[dict]] = {}
    for row in TestItem.objects.filter(version_id__in=rows_by_pk).order_by("sequence").values("version_id", "code",
                                                                                             *ITEM_FIELDS):
        stored_items.setdefault(row.pop("version_id"), []).append(row)
    for obj in locked:
        content_fields = set(VERSION_FIELDS) - RuleVersion.closable_fields
        version_changed = any(stored_versions[obj.pk][f] != getattr(obj, f) for f in content_fields)
        if version_changed or stored_items.get(obj.pk, []) != rows_by_pk[obj.pk]:
            changed.append(str(obj))
    if changed:
        raise ValidationError(_("以下实施细则版本已被抽查计划使用，数据文件不能修改其内容：%(versions)s。")
                              % {"versions": join_list(changed)}, code="locked")
