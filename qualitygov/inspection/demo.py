"""Demo spot-check data: labs, inspectors, last year's province plan carried through to publication,
this quarter's plan in progress (tasks drawn, samples taken, results awaiting notice, an objection
pending) and a city's draft plan — every record made through the services, so the demo obeys the
same rules as real work. Deterministic for a given seed and registry.
"""

from __future__ import annotations

import datetime as dt
import decimal
import random

from dateutil.relativedelta import relativedelta
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from qualitygov.core.audit import acting_as, per_object_audit_disabled
from qualitygov.core.audit import record as audit_record
from qualitygov.core.models import AuditLog, ProductCategory, Region, User
from qualitygov.core.roles import Role
from qualitygov.inspection import catalogue, draw, followup, planning, publication, results, samples
from qualitygov.inspection.catalogue import ItemResult
from qualitygov.inspection.models import (
    ImplementationRule,
    InspectionPlan,
    InspectionTask,
    Sample,
    TestingLab,
    TestItem,
    TestReport,
)
from qualitygov.registry.demo import DEMO_PASSWORD
from qualitygov.registry.models import MarketEntity, Product

__all__ = ["seed_inspection_demo", "passing_value", "failing_value", "results_for", "DEMO_LABS", "DEMO_INSPECTORS"]

# (name, CMA number, region, staff username, staff name); the first is the demo user ``lab``'s.
DEMO_LABS = (
    ("长春市产品质量检验检测中心", "220100110001", "220100", "lab", ("赵", "雪梅")),
    ("吉林省产品质量监督检验院", "220000110002", "220100", "lab_province", ("周", "晓峰")),
    ("延边朝鲜族自治州产品质量检验所", "222400110003", "222400", "lab_yanbian", ("朴", "正勋")),
)
# Inspectors besides the demo user ``inspector`` (长春市): one per large city and the province.
DEMO_INSPECTORS = (
    ("inspector_province", "220000", ("陈", "国栋")),
    ("inspector_jilin", "220200", ("吴", "海燕")),
    ("inspector_siping", "220300", ("郑", "宏伟")),
    ("inspector_yanbian", "222400", ("崔", "永哲")),
)
CITIES = ("220100", "220200", "220300", "220400", "220500", "220600", "220700", "220800", "222400")


def _number(value) -> str:
    """A decimal as a lab writes it: no trailing zeros (``47`` rather than ``47.000000``)."""
    return format(value.normalize(), "f")


def passing_value(item: TestItem) -> ItemResult:
    """A result that meets the item's requirement."""
    match item.limit_kind:
        case TestItem.LimitKind.MIN:
            return ItemResult(_number(item.limit_min + 1), item.unit)
        case TestItem.LimitKind.MAX:
            return ItemResult(_number(item.limit_max / 2), item.unit)
        case TestItem.LimitKind.RANGE:
            return ItemResult(_number((item.limit_min + item.limit_max) / 2), item.unit)
        case TestItem.LimitKind.EQUALS:
            return ItemResult(_number(item.limit_min), item.unit)
    return ItemResult("符合要求", None, "pass")


def failing_value(item: TestItem) -> ItemResult:
    """A result that breaks the item's requirement."""
    match item.limit_kind:
        case TestItem.LimitKind.MIN | TestItem.LimitKind.RANGE if item.limit_min is not None:
            return ItemResult(_number(item.limit_min - 1), item.unit)
        case TestItem.LimitKind.MAX:
            return ItemResult(_number(item.limit_max + 1), item.unit)
    return ItemResult("不符合要求", None, "fail")


def results_for(version, failing: tuple[str, ...] = ()) -> dict[str, ItemResult]:
    """Item code → result for every item of ``version``; the codes in ``failing`` fail."""
    return {item.code: (failing_value(item) if item.code in failing else passing_value(item))
            for item in TestItem.objects.filter(version=version).order_by("sequence")}


def _ensure_users() -> tuple[list[TestingLab], list[User]]:
    hashed = make_password(DEMO_PASSWORD)
    labs = []
    for name, number, region, username, (last, first) in DEMO_LABS:
        lab, _ = TestingLab.objects.get_or_create(accreditation_no=number, defaults={"name": name, "region_id": region})
        staff, _ = User.objects.get_or_create(username=username, defaults={
            "role": Role.LAB_STAFF, "region_id": region, "last_name": last, "first_name": first, "organisation": name,
            "password": hashed})
        lab.staff.add(staff)
        labs.append(lab)
    inspectors = list(User.objects.filter(username="inspector"))
    for username, region, (last, first) in DEMO_INSPECTORS:
        user, _ = User.objects.get_or_create(username=username, defaults={
            "role": Role.INSPECTOR, "region_id": region, "last_name": last, "first_name": first,
            "organisation": f"{Region.objects.get(pk=region).name}市场监督管理综合行政执法队伍", "password": hashed})
        inspectors.append(user)
    return labs, inspectors


def _categories() -> list[ProductCategory]:
    codes = ImplementationRule.objects.values_list("category_id", flat=True)
    return list(ProductCategory.objects.filter(code__in=codes).order_by("code"))


def _ensure_products(rng: random.Random, categories: list[ProductCategory], per_category: int = 40) -> int:
    """Give the key categories enough makers to sample: operating manufacturers of the category's
    industry (any manufacturer when the industry has too few) get a product of the category."""
    made = []
    manufacturing = MarketEntity.objects.filter(status=MarketEntity.Status.OPERATING, industry_id__gte="13",
                                                industry_id__lte="43")
    for category in categories:
        have = set(Product.objects.filter(category=category).values_list("producer_id", flat=True))
        pool = list(manufacturing.filter(industry_id=category.industry_id).values_list("pk", flat=True)) \
            if category.industry_id else []
        if len(pool) < per_category and category.industry_id:
            # Too few makers in the industry itself: take manufacturers of neighbouring divisions
            # (same first digit of the GB/T 4754 code, e.g. 3x machinery and metal products).
            pool += list(manufacturing.filter(industry__code__startswith=category.industry_id[0])
                         .values_list("pk", flat=True).order_by("pk"))
        pool = sorted(set(pool) - have)
        rng.shuffle(pool)
        for entity_id in pool[: max(0, per_category - len(have))]:
            made.append(Product(producer_id=entity_id, name=category.name, brand=rng.choice(["长白", "松花", "北国", "吉宏"]),
                                model=f"JL-{rng.randint(100, 999)}", category=category, is_key=True))
    Product.objects.bulk_create(made)
    return len(made)


def _date_between(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, max(0, (end - start).days)))


def _quotas(plan, user, rng, labs, categories, on_date, max_batches, cities) -> None:
    for category in categories:
        try:
            catalogue.rule_in_force(category, on_date)
        except catalogue.NoRuleInForce:
            continue  # e.g. a rule first published after the plan was made
        for city in cities:
            candidates = draw.entity_candidates(categories=[category.code], region_prefix=city[:4]).count()
            batches = min(candidates, max_batches)
            if batches == 0:
                continue
            planning.add_quota(plan, user=user, category=category, region=Region.objects.get(pk=city),
                               batches=batches, unit_cost_cny=decimal.Decimal(rng.choice(["1200", "1500", "1800"])),
                               lab=labs[rng.randrange(2)], on_date=on_date,
                               stage=rng.choice(["production", "production", "circulation"]))


def _take(task, rng, on: dt.date) -> Sample:
    version = task.quota.rule_version
    inspectors = list(task.inspectors.all())
    user = inspectors[0]
    if rng.random() < 0.03:
        return samples.record_refusal(task, user=user, sampled_on=on, inspectors=inspectors,
                                      reason="企业负责人以生产任务紧为由拒绝抽样，经告知拒检的法律后果后仍拒绝，执法记录仪全程记录。")
    product = task.entity.products.filter(category_id=task.quota.category_id).first()
    return samples.record_sample(
        task, user=user, sampled_on=on, inspectors=inspectors, product=product,
        product_name=product.name if product else task.quota.category.name, brand=product.brand if product else "",
        specification=product.model if product else "", batch_number=f"{on:%Y%m%d}{rng.randint(1, 99):02d}",
        production_date=on - dt.timedelta(days=rng.randint(3, 60)), lot_size=rng.choice([500, 1000, 2000, 5000]),
        test_quantity=version.test_sample_count, spare_quantity=version.spare_sample_count,
        sample_cost_cny=decimal.Decimal(rng.choice(["60.00", "120.00", "380.00"])), cost_paid_on=on,
        place=rng.choice(["成品仓库", "生产车间待销区", "经销门店"]))


def _report(sample: Sample, rng, on: dt.date) -> TestReport:
    version = sample.rule_version
    roll = rng.random()
    failing: tuple[str, ...] = ()
    if roll < 0.04:
        failing = tuple(TestItem.objects.filter(version=version, item_class="A").values_list("code", flat=True)[:1])
    elif roll < 0.13:
        failing = tuple(TestItem.objects.filter(version=version, item_class="B").order_by("sequence")
                        .values_list("code", flat=True)[rng.randrange(2):][:1])
    lab = sample.task.quota.lab
    return results.enter_results(sample, user=lab.staff.first(), report_number=f"JL{sample.number[2:]}",
                                 tested_on=on, items=results_for(version, failing))


def _plan(user, *, title, period, year, quarter, starts, ends, budget, labs) -> InspectionPlan:
    return planning.create_plan(user=user, title=title, period=period, year=year, quarter=quarter, starts_on=starts,
                                ends_on=ends, budget_cny=decimal.Decimal(budget), labs=labs)


@transaction.atomic
def seed_inspection_demo(seed: int = 20121, today: dt.date | None = None) -> dict:
    """Make the demo spot-check data once (skipped when any plan exists); returns counts."""
    if InspectionPlan.objects.exists():
        return {"skipped": "plans exist"}
    today = today or timezone.localdate()
    rng = random.Random(seed)
    labs, inspectors = _ensure_users()
    province = User.objects.filter(username="province").first()
    changchun = User.objects.filter(username="changchun").first()
    if province is None:
        return {"skipped": "no demo users"}
    categories = _categories()
    counts = {"products_added": _ensure_products(rng, categories), "plans": 0, "samples": 0, "reports": 0,
              "objections": 0}
    # As for the registry's demo: one summary audit entry instead of thousands of per-object ones.
    with acting_as(province), per_object_audit_disabled():
        # Last year's province plan, carried through to publication.
        last = today.year - 1
        plan = _plan(province, title=f"{last}年吉林省产品质量省级监督抽查", period="year", year=last, quarter=None,
                     starts=dt.date(last, 3, 1), ends=dt.date(last, 11, 30), budget="3000000", labs=labs)
        _quotas(plan, province, rng, labs, categories, dt.date(last, 2, 15), 3, CITIES)
        planning.approve_plan(plan, user=province, on_date=dt.date(last, 2, 20))
        for quota in plan.quotas.select_related("category", "region", "lab"):
            planning.draw_quota(quota, user=province, seed=rng.getrandbits(62), on_date=dt.date(last, 2, 25))
            planning.draw_quota_inspectors(quota, user=province, seed=rng.getrandbits(62))
        objections = 0
        for task in InspectionTask.objects.filter(quota__plan=plan).select_related(
                "quota__rule_version", "quota__category", "quota__lab", "quota__plan", "entity").order_by("pk"):
            sampled = _date_between(rng, dt.date(last, 3, 1), dt.date(last, 10, 31))
            sample = _take(task, rng, sampled)
            counts["samples"] += 1
            if sample.outcome == Sample.Outcome.REFUSED:
                continue
            tested = sampled + dt.timedelta(days=rng.randint(10, 20))
            _report(sample, rng, tested)
            counts["reports"] += 1
            sample.refresh_from_db()
            followup.notify_result(sample, user=province, on=tested + dt.timedelta(days=2))
            followup.acknowledge_receipt(sample, user=province, on=tested + dt.timedelta(days=4))
            if sample.verdict != "no_nonconformity" and objections < 2:
                objections += 1
                objection = followup.file_objection(sample, user=province, grounds="企业认为样品运输中受潮，申请复检。",
                                                    filed_on=sample.received_on + dt.timedelta(days=5))
                followup.accept_objection(objection, user=province, lab=labs[2], on=objection.filed_on)
                overturn = objections == 1
                results.enter_results(sample, user=labs[2].staff.first(), report_number=f"FJ{sample.number[2:]}",
                                      tested_on=objection.filed_on + dt.timedelta(days=12), kind="reinspection",
                                      items=results_for(sample.rule_version, () if overturn else tuple(
                                          item["code"] for item in sample.failing_items)))
                counts["objections"] += 1
        # The monthly publication runs of last year (and up to today), so publication dates spread
        # over the year as they would.
        counts["published"] = 0
        run_on = dt.date(last, 4, 1)
        while run_on <= today:
            counts["published"] += publication.publish_due(run_on, user=province)["published"]
            run_on += relativedelta(months=1)
        planning.close_plan(plan, user=province)
        counts["plans"] += 1

        # This quarter's province plan, in progress.
        quarter = (today.month - 1) // 3 + 1
        q_start = dt.date(today.year, 3 * quarter - 2, 1)
        q_end = q_start + relativedelta(months=3, days=-1)
        current = _plan(province, title=f"{today.year}年第{quarter}季度吉林省产品质量省级监督抽查", period="quarter",
                        year=today.year, quarter=quarter, starts=q_start, ends=q_end, budget="800000", labs=labs)
        _quotas(current, province, rng, labs, categories[:6], q_start, 2, CITIES[:5])
        planning.approve_plan(current, user=province, on_date=q_start)
        for quota in current.quotas.all():
            planning.draw_quota(quota, user=province, seed=rng.getrandbits(62), on_date=q_start)
            planning.draw_quota_inspectors(quota, user=province, seed=rng.getrandbits(62))
        tasks = list(InspectionTask.objects.filter(quota__plan=current).select_related(
            "quota__rule_version", "quota__category", "quota__lab", "quota__plan", "entity").order_by("pk"))
        for index, task in enumerate(tasks[: len(tasks) * 2 // 3]):
            sample = _take(task, rng, _date_between(rng, q_start, today))
            counts["samples"] += 1
            if sample.outcome == Sample.Outcome.SAMPLED and index % 2 == 0:
                _report(sample, rng, min(today, sample.sampled_on + dt.timedelta(days=10)))
                counts["reports"] += 1
        counts["plans"] += 1

        # A city's draft plan, for a city officer to complete.
        if changchun is not None:
            with acting_as(changchun):
                draft = _plan(changchun, title=f"{today.year}年长春市产品质量市级监督抽查", period="year",
                              year=today.year, quarter=None, starts=dt.date(today.year, 1, 1),
                              ends=dt.date(today.year, 12, 31), budget="200000", labs=labs[:2])
            counts["plans"] += 1
            counts["draft_plan"] = draft.code
    with acting_as(None):
        audit_record(AuditLog.Action.IMPORT, model=InspectionPlan,
                     message="生成监督抽查演示数据：" + ", ".join(f"{key} {value}" for key, value in counts.items()))
    return counts
