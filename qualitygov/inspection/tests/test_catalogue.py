"""The spot-check catalogue (issue 3, item 1, and the validation half of item 5): judging lab results
under an implementation rule version, which version applies on a date, frozen versions, demo rules."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from qualitygov.core.models import AuditLog, ProductCategory
from qualitygov.core.roles import Role, actions_for
from qualitygov.inspection.catalogue import (
    RULES_DIR,
    ItemResult,
    NoRuleInForce,
    ResultsRefused,
    judge,
    load_demo_rules,
    mark_used,
    rule_in_force,
)
from qualitygov.inspection.models import ImplementationRule, RuleVersion, TestItem, Verdict

pytestmark = pytest.mark.django_db

LIMITS = {  # code: (class, kind, min, max, unit)
    "01": ("A", "min", "400", None, "MPa"),
    "02": ("B", "max", None, "0.25", "%"),
    "03": ("B", "range", "-5.0", "5.0", "%"),
    "04": ("A", "text", None, None, ""),
    "05": ("B", "equals", "2", "2", "个"),
}


@pytest.fixture
def version():
    """A small in-force rule for 热轧带肋钢筋 (0602) with one item of each limit kind."""
    rule = ImplementationRule.objects.create(category_id="0602", code="T-0602", title="测试细则")
    version = RuleVersion.objects.create(rule=rule, label="2024版", effective_from=dt.date(2024, 1, 1),
                                         status=RuleVersion.Status.IN_FORCE, test_sample_count=4,
                                         spare_sample_count=4, sample_unit="根")
    for sequence, (code, (cls, kind, low, high, unit)) in enumerate(LIMITS.items(), start=1):
        TestItem.objects.create(version=version, sequence=sequence, code=code, name=f"项目{code}", item_class=cls,
                                standard="GB/T 1499.2-2018", clause="7.4", requirement="…", limit_kind=kind,
                                limit_min=low and Decimal(low), limit_max=high and Decimal(high), unit=unit,
                                alternative_units={"N/mm²": "1", "kPa": "0.001"} if code == "01" else {})
    return version


def passing(**overrides) -> dict[str, ItemResult]:
    results = {
        "01": ItemResult("455", "MPa"),
        "02": ItemResult(Decimal("0.21"), "%"),
        "03": ItemResult("-1.2", "%"),
        "04": ItemResult("无裂纹", None, "pass"),
        "05": ItemResult("2", "个"),
    }
    results.update(overrides)
    return {code: result for code, result in results.items() if result is not None}


def problem_codes(excinfo) -> list[tuple[str, str]]:
    return [(p.item, p.code) for p in excinfo.value.problems]


# --- the judgement rule -----------------------------------------------------------------------------

def test_all_items_pass_is_no_nonconformity(version):
    judgement = judge(version, passing())
    assert judgement.verdict == Verdict.NO_NONCONFORMITY
    assert judgement.verdict_label == "未发现不合格"
    assert judgement.failing_items == []
    assert judgement.item_verdicts == dict.fromkeys(LIMITS, "pass")


def test_a_b_item_failing_is_unqualified(version):
    judgement = judge(version, passing(**{"02": ItemResult("0.26", "%")}))
    assert judgement.verdict == Verdict.UNQUALIFIED
    assert judgement.verdict_label == "不合格"
    assert [(i.code, i.item_class) for i in judgement.failing_items] == [("02", "B")]


def test_an_a_item_failing_is_seriously_unqualified(version):
    judgement = judge(version, passing(**{"01": ItemResult("395", "MPa"), "03": ItemResult("6", "%")}))
    assert judgement.verdict == Verdict.SERIOUSLY_UNQUALIFIED
    assert judgement.verdict_label == "严重不合格"
    assert [(i.code, i.item_class) for i in judgement.failing_items] == [("01", "A"), ("03", "B")]
    assert judgement.item_verdicts["02"] == "pass"


def test_a_qualitative_a_item_failed_by_the_lab_is_seriously_unqualified(version):
    judgement = judge(version, passing(**{"04": ItemResult("弯曲处有裂纹", None, "fail")}))
    assert judgement.verdict == Verdict.SERIOUSLY_UNQUALIFIED
    assert judgement.items["04"].computed is False


@pytest.mark.parametrize(("code", "value", "verdict"), [
    ("01", "400", "pass"), ("01", "399.99", "fail"),       # min: equality passes
    ("02", "0.25", "pass"), ("02", "0.2501", "fail"),      # max
    ("03", "-5.0", "pass"), ("03", "5", "pass"), ("03", "5.01", "fail"), ("03", "-5.1", "fail"),  # range
    ("05", "2.0", "pass"), ("05", "3", "fail"),            # equals
])
def test_machine_checked_limits_are_inclusive(version, code, value, verdict):
    unit = LIMITS[code][4]
    judgement = judge(version, passing(**{code: ItemResult(value, unit)}))
    assert judgement.item_verdicts[code] == verdict
    assert judgement.items[code].computed is True


def test_accepted_alternative_units_are_converted(version):
    judgement = judge(version, passing(**{"01": ItemResult("399000", "kPa"), "02": ItemResult("0.2", "％")}))
    assert judgement.items["01"].value == Decimal("399")  # 399000 kPa = 399 MPa < 400
    assert judgement.items["01"].unit == "MPa"
    assert judgement.item_verdicts == {"01": "fail", "02": "pass", "03": "pass", "04": "pass", "05": "pass"}
    assert judge(version, passing(**{"01": ItemResult("400", "N/mm²")})).item_verdicts["01"] == "pass"


def test_lab_verdict_agreeing_with_the_limit_is_accepted(version):
    judgement = judge(version, passing(**{"01": ItemResult("380", "MPa", "fail"), "02": ItemResult("0.2", "%", "pass")}))
    assert judgement.verdict == Verdict.SERIOUSLY_UNQUALIFIED


# --- refused results ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("results", "expected", "words"), [
    (passing(**{"03": None}), [("03", "missing")], "缺少检验项目“项目03”的结果"),
    ({**passing(), "99": ItemResult("1", "%")}, [("99", "unknown_item")], "不属于实施细则 T-0602 2024版"),
    (passing(**{"01": ItemResult("455", None)}), [("01", "missing_unit")], "缺少单位（应为 MPa）"),
    (passing(**{"01": ItemResult("455", "kN")}), [("01", "unknown_unit")], "单位“kN”不被接受"),
    (passing(**{"01": ItemResult("合格", "MPa")}), [("01", "not_numeric")], "要求数值结果，“合格”不是数值"),
    (passing(**{"01": ItemResult("NaN", "MPa")}), [("01", "not_numeric")], "不是数值"),
    (passing(**{"01": ItemResult("380", "MPa", "pass")}), [("01", "verdict_contradicts_limit")],
     "应判为不合格，与检验机构的判定（合格）矛盾"),
    (passing(**{"02": ItemResult("0.2", "%", "fail")}), [("02", "verdict_contradicts_limit")],
     "应判为合格，与检验机构的判定（不合格）矛盾"),
    (passing(**{"04": ItemResult("无裂纹", None, None)}), [("04", "verdict_required")], "是定性项目，必须给出单项判定"),
    (passing(**{"04": ItemResult("无裂纹", None, "ok")}), [("04", "invalid_verdict")], "只能是合格（pass）或不合格（fail）"),
])
def test_each_kind_of_bad_result_is_refused_with_a_chinese_reason(version, results, expected, words):
    with pytest.raises(ResultsRefused) as excinfo:
        judge(version, results)
    assert problem_codes(excinfo) == expected
    assert words in excinfo.value.problems[0].reason


def test_every_problem_is_reported_together(version):
    results = {
        "01": ItemResult("455", None),          # no unit
        "02": ItemResult("很少", "%"),           # not a number
        "04": ItemResult("无裂纹"),              # qualitative without verdict
        "05": ItemResult("2", "kg"),            # unit not accepted
        "X1": ItemResult("1", "%"),             # another version's item
    }                                           # and 03 missing
    with pytest.raises(ResultsRefused) as excinfo:
        judge(version, results)
    assert sorted(problem_codes(excinfo)) == sorted([
        ("03", "missing"), ("X1", "unknown_item"), ("01", "missing_unit"), ("02", "not_numeric"),
        ("04", "verdict_required"), ("05", "unknown_unit")])
    # The API's error details: item code → Chinese reasons.
    details = excinfo.value.message_dict
    assert set(details) == {"01", "02", "03", "04", "05", "X1"}
    assert all(isinstance(reason, str) and reason for reasons in details.values() for reason in reasons)


def test_results_written_for_another_version_are_refused(version):
    newer = RuleVersion.objects.create(rule=version.rule, label="2025版", effective_from=dt.date(2025, 1, 1),
                                       status=RuleVersion.Status.DRAFT, test_sample_count=4, spare_sample_count=4,
                                       sample_unit="根")
    TestItem.objects.create(version=newer, sequence=1, code="N1", name="新项目", item_class="B",
                            standard="GB/T 1499.2-2018", requirement="≥ 1", limit_kind="min", limit_min=1, unit="%")
    with pytest.raises(ResultsRefused) as excinfo:
        judge(newer, passing())
    assert ("N1", "missing") in problem_codes(excinfo)
    assert {code for code, kind in problem_codes(excinfo) if kind == "unknown_item"} == set(LIMITS)


# --- which version applies ------------------------------------------------------------------------------

def test_rule_in_force_picks_the_version_covering_the_date(version):
    RuleVersion.objects.filter(pk=version.pk).update(effective_to=dt.date(2024, 12, 31),
                                                     status=RuleVersion.Status.SUPERSEDED)
    newer = RuleVersion.objects.create(rule=version.rule, label="2025版", effective_from=dt.date(2025, 1, 1),
                                       status=RuleVersion.Status.IN_FORCE, test_sample_count=5,
                                       spare_sample_count=5, sample_unit="根")
    RuleVersion.objects.create(rule=version.rule, label="2026版草案", effective_from=dt.date(2026, 1, 1),
                               status=RuleVersion.Status.DRAFT, test_sample_count=5, spare_sample_count=5,
                               sample_unit="根")
    assert rule_in_force("0602", dt.date(2024, 12, 31)) == version
    assert rule_in_force(ProductCategory.objects.get(pk="0602"), dt.date(2025, 1, 1)) == newer
    assert rule_in_force("0602", dt.date(2026, 6, 1)) == newer  # a draft never applies
    with pytest.raises(NoRuleInForce, match="热轧带肋钢筋.*2023-12-31 没有有效的实施细则版本"):
        rule_in_force("0602", dt.date(2023, 12, 31))
    with pytest.raises(NoRuleInForce, match="没有有效的实施细则版本"):
        rule_in_force("0601", dt.date(2025, 1, 1))


def test_two_versions_cannot_cover_the_same_date(version):
    overlapping = RuleVersion(rule=version.rule, label="2024修订版", effective_from=dt.date(2024, 6, 1),
                              effective_to=dt.date(2024, 12, 31), status=RuleVersion.Status.IN_FORCE,
                              test_sample_count=4, spare_sample_count=4, sample_unit="根")
    with pytest.raises(ValidationError, match="与版本 2024版 的有效期重叠"):
        overlapping.full_clean()
    # Two open-ended published versions are also refused by the database.
    open_ended = RuleVersion(rule=version.rule, label="2025版", effective_from=dt.date(2025, 1, 1),
                             status=RuleVersion.Status.IN_FORCE, test_sample_count=4, spare_sample_count=4,
                             sample_unit="根")
    with pytest.raises(ValidationError, match="只能有一个持续有效的版本"):
        open_ended.validate_constraints()


def test_item_limit_must_match_its_kind(version):
    item = TestItem(version=version, sequence=9, code="09", name="错误限值", item_class="B", standard="GB 1",
                    requirement="≤", limit_kind="max", limit_min=Decimal(1), unit="%")
    with pytest.raises(ValidationError, match="限值与限值类型不符"):
        item.validate_constraints()
    item = TestItem(version=version, sequence=9, code="09", name="无单位", item_class="B", standard="GB 1",
                    requirement="≤ 1", limit_kind="max", limit_max=Decimal(1), unit="")
    with pytest.raises(ValidationError, match="数值型检验项目必须指定单位"):
        item.validate_constraints()


# --- frozen once used ----------------------------------------------------------------------------------

def test_a_used_version_is_frozen(version):
    assert not version.is_locked
    mark_used(version)
    version.refresh_from_db()
    assert version.is_locked
    assert AuditLog.objects.filter(object_id=str(version.pk), message__contains="内容冻结").exists()

    version.test_sample_count = 6
    with pytest.raises(ValidationError, match="已被抽查计划使用，不能修改"):
        version.save()
    version.refresh_from_db()
    assert version.test_sample_count == 4
    item = version.items.get(code="01")
    item.limit_min = Decimal("300")
    with pytest.raises(ValidationError, match="不能修改检验项目"):
        item.save()
    with pytest.raises(ValidationError, match="不能删除检验项目"):
        item.delete()
    with pytest.raises(ValidationError, match="不能修改检验项目"):
        TestItem.objects.create(version=version, sequence=9, code="09", name="新增", item_class="B",
                                standard="GB 1", requirement="≤ 1", limit_kind="max", limit_max=1, unit="%")
    with pytest.raises(ValidationError, match="不能删除"):
        version.delete()
    assert TestItem.objects.get(pk=item.pk).limit_min == Decimal("400")

    # Closing it when a newer edition takes over is still allowed.
    version.status, version.effective_to = RuleVersion.Status.SUPERSEDED, dt.date(2024, 12, 31)
    version.save()
    assert RuleVersion.objects.get(pk=version.pk).status == RuleVersion.Status.SUPERSEDED


def test_a_draft_cannot_be_used_by_a_plan(version):
    RuleVersion.objects.filter(pk=version.pk).update(status=RuleVersion.Status.DRAFT)
    version.refresh_from_db()
    with pytest.raises(ValidationError, match="仍是草案"):
        mark_used(version)
    assert not RuleVersion.objects.get(pk=version.pk).used


# --- who may read and write ------------------------------------------------------------------------------

def test_catalogue_is_read_by_every_role_and_written_by_the_province(version, users):
    for username, user in users.items():
        assert ImplementationRule.objects.restrict(user).count() == 1, username
        assert TestItem.objects.restrict(user).count() == len(LIMITS), username
        writes = {"add", "change"} & actions_for(user.role, RuleVersion)
        expected = {"add", "change"} if user.role in (Role.PROVINCE_ADMIN, Role.PROVINCE_OFFICER) else set()
        assert writes == expected, username
        assert "delete" not in actions_for(user.role, TestItem), username


# --- demo rules ---------------------------------------------------------------------------------------------

def test_demo_rules_load_realistic_rules_for_at_least_ten_categories():
    counts = load_demo_rules()
    assert counts["rules"] >= 10
    categories = set(ImplementationRule.objects.values_list("category_id", flat=True))
    assert len(categories) >= 10
    assert not ProductCategory.objects.filter(pk__in=categories, parent__isnull=True).exists()
    assert TestItem.objects.count() == counts["items"]
    for version in RuleVersion.objects.prefetch_related("items"):
        items = list(version.items.all())
        assert 4 <= len(items) <= 10, version
        assert version.test_sample_count >= 1 and version.sample_unit, version
        for item in items:
            assert item.standard.startswith("GB"), item
            assert item.item_class in ("A", "B"), item
            if item.is_numeric:
                assert item.unit, item
    # Every category on today's date (or on its first edition's date) has exactly one applicable version.
    for rule in ImplementationRule.objects.all():
        first = rule.versions.order_by("effective_from").first()
        assert rule_in_force(rule.category_id, first.effective_from) == first
    # The cement rule changed with GB 175-2023 on 2024-06-01.
    assert rule_in_force("0601", dt.date(2024, 5, 31)).items.filter(standard="GB 175-2007").exists()
    assert rule_in_force("0601", dt.date(2024, 6, 1)).items.filter(standard="GB 175-2023").exists()
    assert AuditLog.objects.filter(action=AuditLog.Action.IMPORT, message__contains="载入演示实施细则").exists()


def test_every_demo_file_names_its_standards_and_marks_what_was_verified():
    for path in sorted(RULES_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data["standards"] and data["source"], path.name
        for rule in data["rules"]:
            for version in rule["versions"]:
                for item in version["items"]:
                    assert isinstance(item["verified"], bool), (path.name, item["code"])


def test_demo_rules_judge_a_real_sample():
    load_demo_rules()
    version = rule_in_force("0602", dt.date(2025, 3, 1))
    results = {item.code: ItemResult(value="无裂纹", verdict="pass") for item in version.items.filter(limit_kind="text")}
    numeric = {"01": ("420", "MPa"), "02": ("560", "MPa"), "03": ("15.5", "%"), "04": ("9.0", "%"),
               "07": ("-3.1", "%"), "08": ("0.22", "%"), "09": ("0.50", "%")}
    results |= {code: ItemResult(value, unit) for code, (value, unit) in numeric.items()}
    judgement = judge(version, results)
    assert judgement.verdict == Verdict.SERIOUSLY_UNQUALIFIED  # 断后伸长率 15.5 % < 16 %, an A item
    assert [item.name for item in judgement.failing_items] == ["断后伸长率 A"]


def test_reloading_demo_rules_is_idempotent():
    first = load_demo_rules()
    ids = sorted(TestItem.objects.values_list("pk", flat=True))
    versions = RuleVersion.objects.count()
    second = load_demo_rules()
    assert second == first
    assert RuleVersion.objects.count() == versions
    assert sorted(TestItem.objects.values_list("pk", flat=True)) == ids  # updated in place, not recreated


def test_reload_updates_open_versions_and_refuses_to_change_used_ones(tmp_path):
    for path in RULES_DIR.glob("*.json"):
        shutil.copy(path, tmp_path / path.name)
    load_demo_rules(tmp_path)
    hoses = tmp_path / "0101-brake-hoses.json"
    data = json.loads(hoses.read_text(encoding="utf-8"))
    data["rules"][0]["versions"][0]["items"][0]["min"] = "50"
    hoses.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    load_demo_rules(tmp_path)  # not used yet: the file wins
    version = rule_in_force("0101", dt.date(2025, 1, 1))
    assert version.items.get(code="01").limit_min == Decimal("50")

    mark_used(version)
    data["rules"][0]["versions"][0]["items"][0]["min"] = "55"
    hoses.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValidationError, match="已被抽查计划使用，数据文件不能修改其内容"):
        load_demo_rules(tmp_path)
    assert version.items.get(code="01").limit_min == Decimal("50")  # the whole load was rolled back


def test_loading_rules_for_an_unknown_category_changes_nothing(tmp_path):
    shutil.copy(RULES_DIR / "0602-steel-bars.json", tmp_path / "a.json")
    bad = json.loads((RULES_DIR / "0601-cement.json").read_text(encoding="utf-8"))
    bad["rules"][0]["category"] = "06"  # a group, not a product
    (tmp_path / "b.json").write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValidationError, match="不存在或不是二级类别的产品类别：06"):
        load_demo_rules(tmp_path)
    assert not ImplementationRule.objects.exists()
