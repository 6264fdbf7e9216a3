"""Shared objects for the spot-check workflow tests: rules, entities making cement, labs, inspectors,
an approved plan, drawn tasks and samples at each stage. Import the fixture ``workflow`` (and the
helpers) from here; it builds on the ``users`` and ``registry`` fixtures of ``qualitygov/conftest.py``.
"""

from __future__ import annotations

import datetime as dt
import decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from qualitygov.conftest import PASSWORD, make_uscc
from qualitygov.core.audit import acting_as
from qualitygov.core.models import ProductCategory, Region, User
from qualitygov.core.roles import Role
from qualitygov.inspection import planning, results, samples
from qualitygov.inspection.catalogue import load_demo_rules
from qualitygov.inspection.demo import failing_value, passing_value, results_for  # noqa: F401  (re-exported)
from qualitygov.inspection.models import InspectionTask, RuleVersion, Sample, TestingLab, TestItem
from qualitygov.registry.models import MarketEntity, Product

CEMENT = "0601"
TODAY = timezone.localdate()  # the services date things in the site's time zone (Asia/Shanghai)
# The year of the fixtures' plans: far enough back that a sample, its test, notice and a 60-day
# history all fit inside the plan's window and before today, whatever day the tests run.
YEAR = (TODAY - dt.timedelta(days=120)).year


def first_item_of_class(version: RuleVersion, item_class: str) -> str:
    return TestItem.objects.filter(version=version, item_class=item_class).order_by("sequence").values_list(
        "code", flat=True)[0]


def make_cement_makers(region: str, count: int, start: int) -> list[MarketEntity]:
    """``count`` operating cement makers in ``region`` (one cement product each)."""
    entities = []
    for serial in range(start, start + count):
        entity = MarketEntity.objects.create(
            uscc=make_uscc(region, serial), name=f"吉林测试水泥有限公司{serial}", legal_representative="赵六",
            region_id=region, industry_id="30", address=f"测试大街{serial}号", registration_date=dt.date(2012, 5, 1),
            status=MarketEntity.Status.OPERATING, size_class=MarketEntity.SizeClass.MEDIUM)
        Product.objects.create(producer=entity, name="普通硅酸盐水泥 P·O 42.5", brand=f"测试{serial}", model="P·O 42.5",
                               category_id=CEMENT, is_key=True)
        entities.append(entity)
    return entities


def make_user(username: str, role: str, region: str | None) -> User:
    return User.objects.create_user(username=username, password=PASSWORD, role=role, region_id=region,
                                    last_name=username[:1].upper(), first_name=username[1:])


def approved_plan(user: User, *, region: str, quota_region: str, batches: int, lab: TestingLab,
                  budget: str = "100000", unit_cost: str = "1500", category: str = CEMENT, stage: str = "production"):
    """A yearly plan of ``user``'s unit with one quota, issued. Returns ``(plan, quota)``."""
    year = YEAR
    with acting_as(user):
        plan = planning.create_plan(user=user, title=f"{year}年水泥产品质量监督抽查", period="year", year=year,
                                    starts_on=dt.date(year, 1, 1), ends_on=dt.date(year, 12, 31),
                                    budget_cny=decimal.Decimal(budget), region=Region.objects.get(pk=region),
                                    labs=[lab])
        quota = planning.add_quota(plan, user=user, category=ProductCategory.objects.get(pk=category),
                                   region=Region.objects.get(pk=quota_region),
                                   batches=batches, unit_cost_cny=decimal.Decimal(unit_cost), lab=lab, stage=stage)
        planning.approve_plan(plan, user=user)
    return plan, quota


@pytest.fixture
def workflow(db, users, registry):
    """The spot-check world of ``build_workflow``."""
    return build_workflow(users, registry)


def build_workflow(users: dict, registry: dict) -> SimpleNamespace:
    """Rules, 5 cement makers in 南关区 (one of them the enterprise user's entity), 3 in 朝阳区, 2 in
    延吉市; two labs (users ``lab`` and ``lab2``); inspectors in several counties; the province's
    issued plan with a quota of 3 batches in 南关区."""
    load_demo_rules()
    nanguan = make_cement_makers("220102", 4, start=101)
    own = registry["nanguan"]["entity"]  # the enterprise user's entity: make it a cement maker too
    Product.objects.create(producer=own, name="复合硅酸盐水泥 P·C 42.5", brand="自有", model="P·C 42.5",
                           category_id=CEMENT, is_key=True)
    chaoyang = make_cement_makers("220104", 3, start=201)
    yanji = make_cement_makers("222401", 2, start=301)
    lab2_user = make_user("lab2", Role.LAB_STAFF, "222401")
    lab1 = TestingLab.objects.create(name="吉林省产品质量监督检验院（测试）", accreditation_no="CMA-TEST-0001",
                                     region_id="220100")
    lab1.staff.add(users["lab"])
    lab2 = TestingLab.objects.create(name="延边州产品质量检验所（测试）", accreditation_no="CMA-TEST-0002",
                                     region_id="222401")
    lab2.staff.add(lab2_user)
    inspectors = [users["inspector"], make_user("insp_changchun", Role.INSPECTOR, "220105"),
                  make_user("insp_yanji", Role.INSPECTOR, "222401"), make_user("insp_province", Role.INSPECTOR, "220000")]
    plan, quota = approved_plan(users["province"], region="220000", quota_region="220102", batches=3, lab=lab1)
    return SimpleNamespace(users=users, registry=registry, nanguan=nanguan + [own], own=own, chaoyang=chaoyang,
                           yanji=yanji, lab1=lab1, lab2=lab2, lab2_user=lab2_user, inspectors=inspectors, plan=plan,
                           quota=quota, version=quota.rule_version)


def task_for_entity(workflow, entity: MarketEntity, *, user: User | None = None) -> InspectionTask:
    """A drawn task for ``entity``: a province plan whose quota covers every cement maker of the
    entity's county, so the draw must include it."""
    user = user or workflow.users["province"]
    makers = MarketEntity.objects.filter(region_id=entity.region_id, products__category_id=CEMENT).distinct().count()
    plan, quota = approved_plan(user, region="220000", quota_region=entity.region_id, batches=makers,
                                lab=workflow.lab1, stage="circulation")
    with acting_as(user):
        planning.draw_quota(quota, user=user, seed=7)
    return InspectionTask.objects.get(quota=quota, entity=entity)


def take_sample(workflow, task: InspectionTask, *, sampled_on: dt.date | None = None) -> Sample:
    """Record a sample for ``task`` by two inspectors who are not the lab's testers."""
    version = task.quota.rule_version
    plan = task.quota.plan
    sampled_on = sampled_on or min(plan.ends_on, max(plan.starts_on, TODAY - dt.timedelta(days=90)))
    return samples.record_sample(
        task, user=workflow.inspectors[0], sampled_on=sampled_on, inspectors=workflow.inspectors[:2],
        product_name="普通硅酸盐水泥", batch_number="B20240601", production_date=sampled_on - dt.timedelta(days=5),
        lot_size=2000, test_quantity=version.test_sample_count, spare_quantity=version.spare_sample_count,
        sample_cost_cny=decimal.Decimal("120.00"), cost_paid_on=sampled_on, place="成品库")


def report(workflow, sample: Sample, *, failing: tuple[str, ...] = (), number: str | None = None,
           user: User | None = None, kind: str = "initial", tested_on: dt.date | None = None):
    """Enter the lab's report on ``sample`` (the items in ``failing`` fail)."""
    return results.enter_results(sample, user=user or workflow.users["lab"], report_number=number or f"R-{sample.number}",
                                 tested_on=tested_on or sample.sampled_on + dt.timedelta(days=3),
                                 items=results_for(sample.rule_version, failing), kind=kind)
