"""Who sees and does what in the spot-check module: every role × every inspection page × every API
endpoint (issue 3; the registry's matrix is ``qualitygov/core/tests/test_scope.py``).

The routes are read from the URL resolver: a page in the ``inspection`` or ``public-inspection``
namespace, or an endpoint under ``api:inspection-api:``, that has no entry in ``PAGE_EXPECTATIONS`` /
``API_EXPECTATIONS`` fails ``test_every_inspection_route_has_an_expectation`` (and core's
``test_every_api_endpoint_has_an_expectation``) instead of going untested.

The expectations are written out from the rules, not computed by the code under test:

* The ``world`` fixture: samples in 南关区 (220102: ``N`` at the enterprise user's own entity,
  unqualified, its objection rejected and a rectification ordered; ``R`` a refusal at another
  maker, published), 朝阳区 (220104: ``C``, objection pending) and 延吉市 (222401: ``Y``, objection
  accepted and the spare sent to lab1 for re-inspection; ``Y2`` tested by lab2 only, published, its
  rectification overdue). Plans: two of the province (``prov1`` issued with an undrawn quota,
  ``prov2`` whose draw made the 南关区 tasks), 长春市's (``cc``, 朝阳区 tasks, its entity draw
  published), 延吉市's (``yj``) and 南关区's draft (``ng``). The lab user is on lab1's staff.
* ``*_VISIBLE``: which of those records each role's scope covers. Plans and draws by the issuing
  unit's region; tasks, samples and their follow-up by the sampled entity's region (a county officer
  sees the county's samples whoever planned them); lab staff the samples sent to their lab (task
  lab, report lab or re-inspection lab); the enterprise user its own entity's samples, objections
  and rectifications; the provincial data consumer (API only) sees none of the case files: it
  reads published results through the public API.
* ``PERMISSIONS``: what each role may do with each kind of record, from the role tables' intent;
  ``test_permission_table_matches_roles`` holds the code to it.
* Steps (POST pages and endpoints): per role, whether the step is the role's. A signed-in role that
  may take the step on a record in its scope gets past the scope check (a redirect, the page, or the
  service's 400 when the step is not valid now: that is fine, the scope is what is checked here); a
  record outside the scope is "not found" (404). A role the step is not for gets 403: on any record
  where the role is checked before the lookup (every API step, the sampling and results pages), on
  a record it can see on the sample steps; the plan, quota and draw buttons look the record up
  within what the role may change, so there it is 404 (core's convention: a record outside what the
  user may do is not disclosed). Visitors are sent to sign in (pages) or get 401 (API); the data
  consumer's account is API-only (403 on every page).

The world is built once for the module (``_world``) and every test runs in a savepoint inside it.

Each matrix test walks all roles for one route and reports every mismatch at once.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import override_settings
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, path, reverse
from openpyxl import load_workbook

from qualitygov.core.audit import acting_as
from qualitygov.core.roles import Role, actions_for
from qualitygov.core.tests.test_scope import _content, as_user  # the core matrix's helpers
from qualitygov.inspection import followup, planning, publication, samples
from qualitygov.inspection.models import (
    CustodyEvent,
    Enforcement,
    ImplementationRule,
    InspectionPlan,
    InspectionTask,
    InspectorConflict,
    Objection,
    PlanQuota,
    RandomDraw,
    Rectification,
    Sample,
    SampleAttachment,
    TestingLab,
    TestReport,
)
from qualitygov.inspection.tests.fixtures import (
    TODAY,
    YEAR,
    approved_plan,
    first_item_of_class,
    report,
    take_sample,
    task_for_entity,
)
from qualitygov.inspection.views_statistics import StatisticsView

# Users of the ``users`` fixture; None is the anonymous visitor.
ROLES = (None, "consumer", "enterprise", "lab", "inspector", "yanji", "nanguan", "changchun", "province", "admin")
SIGNED_IN = tuple(role for role in ROLES if role)
PAGE_USERS = tuple(role for role in SIGNED_IN if role != "consumer")
ROLE_OF = {"admin": Role.PROVINCE_ADMIN, "province": Role.PROVINCE_OFFICER, "changchun": Role.CITY_OFFICER,
           "nanguan": Role.COUNTY_OFFICER, "yanji": Role.COUNTY_OFFICER, "inspector": Role.INSPECTOR,
           "lab": Role.LAB_STAFF, "enterprise": Role.ENTERPRISE, "consumer": Role.DATA_CONSUMER}
OFFICERS = frozenset({"yanji", "nanguan", "changchun", "province", "admin"})

# --------------------------------------------------------------------------------------------------
# What each role's scope covers (keys of the world fixture; tasks by the region of their entity)

PLANS = ("prov1", "prov2", "cc", "ng", "yj")
DRAWS = ("prov", "cc", "cci", "yj")  # cci: 长春's inspector draw for one 朝阳区 task
TASK_GROUPS = ("ng", "cy", "yj")  # 南关区 (prov2's draw), 朝阳区 (cc's draw), 延吉市 (yj's draw)
SAMPLES = ("N", "R", "C", "Y", "Y2")
NONE: frozenset[str] = frozenset()

PLAN_VISIBLE = {
    None: NONE, "consumer": NONE, "enterprise": NONE,
    "lab": frozenset({"cc", "ng"}), "inspector": frozenset({"cc", "ng"}),  # both of 长春市 (220100)
    "yanji": frozenset({"yj"}), "nanguan": frozenset({"ng"}), "changchun": frozenset({"cc", "ng"}),
    "province": frozenset(PLANS), "admin": frozenset(PLANS),
}
# Quotas are the plans': prov1, prov2, cc and yj have one each, the draft ng none.
QUOTA_VISIBLE = {role: keys - {"ng"} for role, keys in PLAN_VISIBLE.items()}
DRAW_VISIBLE = {
    None: NONE, "consumer": NONE, "enterprise": NONE,
    "lab": frozenset({"cc", "cci"}), "inspector": frozenset({"cc", "cci"}),
    "yanji": frozenset({"yj"}), "nanguan": NONE, "changchun": frozenset({"cc", "cci"}),
    "province": frozenset(DRAWS), "admin": frozenset(DRAWS),
}
TASK_VISIBLE = {
    None: NONE, "consumer": NONE, "enterprise": NONE,
    "lab": frozenset({"ng", "cy"}), "inspector": frozenset({"ng", "cy"}),
    "yanji": frozenset({"yj"}), "nanguan": frozenset({"ng"}), "changchun": frozenset({"ng", "cy"}),
    "province": frozenset(TASK_GROUPS), "admin": frozenset(TASK_GROUPS),
}
SAMPLE_VISIBLE = {
    None: NONE,
    "consumer": NONE,  # other departments read published results through the public API only
    "enterprise": frozenset({"N"}),  # its own entity only, not R at the maker next door
    "lab": frozenset({"N", "R", "C", "Y"}),  # lab1 tests N, R, C and re-inspects Y; Y2 is lab2's alone
    "inspector": frozenset({"N", "R", "C"}),
    "yanji": frozenset({"Y", "Y2"}), "nanguan": frozenset({"N", "R"}), "changchun": frozenset({"N", "R", "C"}),
    "province": frozenset(SAMPLES), "admin": frozenset(SAMPLES),
}
OBJECTION_VISIBLE = {role: keys & {"N", "C", "Y"} for role, keys in SAMPLE_VISIBLE.items()}
RECTIFICATION_VISIBLE = {
    None: NONE, "consumer": NONE, "enterprise": frozenset({"N"}),
    "lab": NONE,  # rectification is between the regulator and the entity (Rectification.role_actions)
    "inspector": frozenset({"N"}), "yanji": frozenset({"Y2"}), "nanguan": frozenset({"N"}),
    "changchun": frozenset({"N"}), "province": frozenset({"N", "Y2"}), "admin": frozenset({"N", "Y2"}),
}
ATTACHMENT_VISIBLE = {role: keys & {"N", "Y2"} for role, keys in SAMPLE_VISIBLE.items()}
LAB_VISIBLE = {role: frozenset({"lab1", "lab2"}) for role in SIGNED_IN} | {None: NONE, "enterprise": NONE}
RULE_VISIBLE = {role: frozenset({"all"}) for role in SIGNED_IN} | {None: NONE}

VISIBLE = {"plan": PLAN_VISIBLE, "quota": QUOTA_VISIBLE, "draw": DRAW_VISIBLE, "task": TASK_VISIBLE,
           "sample": SAMPLE_VISIBLE, "objection": OBJECTION_VISIBLE, "rectification": RECTIFICATION_VISIBLE,
           "attachment": ATTACHMENT_VISIBLE, "lab": LAB_VISIBLE, "rule": RULE_VISIBLE}

# Letters: V view, A add, C change, D delete, I import, E export (what the role tables mean to allow).
_REGULATOR = {"admin": "VACE", "province": "VACE", "changchun": "VACE", "nanguan": "VACE", "yanji": "VACE"}
_DEFAULT_OFFICER = {"admin": "VACDIE", "province": "VACIE", "changchun": "VACIE", "nanguan": "VACIE",
                    "yanji": "VACIE"}
PERMISSIONS: dict[str, dict[str, str]] = {
    # Plans, quotas and tasks: the officers' work; inspectors and labs read them; enterprises and
    # the data consumer do not (models/plans.py).
    "plan": {**_REGULATOR, "inspector": "V", "lab": "V", "enterprise": "", "consumer": ""},
    # Draw records are the regulator's records, as plans are; the public sees published ones on the
    # portal, not in the back office (models/draw.py: enterprise and data consumer left out).
    "draw": {**_DEFAULT_OFFICER, "inspector": "VE", "lab": "V", "enterprise": "", "consumer": ""},
    "conflict": {**_DEFAULT_OFFICER, "inspector": "VE", "lab": "V", "enterprise": "", "consumer": ""},
    # The data consumer reads published results through the public API, not the case files.
    "sample": {**_REGULATOR, "inspector": "VACE", "lab": "VAC", "enterprise": "V", "consumer": ""},
    "objection": {**_REGULATOR, "inspector": "V", "lab": "V", "enterprise": "VA", "consumer": ""},
    # Lab staff are left out of rectification and Art. 17 measures (models/followup.py).
    "rectification": {**_REGULATOR, "inspector": "V", "lab": "", "enterprise": "VA", "consumer": ""},
    "enforcement": {**_REGULATOR, "inspector": "V", "lab": "", "enterprise": "V", "consumer": ""},
    "lab": {"admin": "VAC", "province": "VAC", "changchun": "V", "nanguan": "V", "yanji": "V", "inspector": "V",
            "lab": "V", "enterprise": "", "consumer": "V"},
    "rule": {"admin": "VAC", "province": "VAC", "changchun": "V", "nanguan": "V", "yanji": "V", "inspector": "V",
             "lab": "V", "enterprise": "V", "consumer": "V"},
}
PERMISSIONS["quota"] = PERMISSIONS["task"] = PERMISSIONS["plan"]
PERMISSIONS["attachment"] = PERMISSIONS["custody"] = PERMISSIONS["report"] = PERMISSIONS["sample"]
MODEL_KIND = {InspectionPlan: "plan", PlanQuota: "quota", InspectionTask: "task", RandomDraw: "draw",
              InspectorConflict: "conflict", Sample: "sample", CustodyEvent: "custody",
              SampleAttachment: "attachment", TestReport: "report", Objection: "objection",
              Rectification: "rectification", Enforcement: "enforcement", TestingLab: "lab",
              ImplementationRule: "rule"}
LETTER = {"view": "V", "add": "A", "change": "C", "delete": "D", "import": "I", "export": "E"}


def allowed(role: str | None, kind: str, letter: str) -> bool:
    return role is not None and letter in PERMISSIONS[kind][role]


# --------------------------------------------------------------------------------------------------
# The world

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _cookie_sessions(settings):
    """Sessions in signed cookies, as in core's matrix: ten sign-ins per test cost more than the
    requests under test with database sessions, and where a session lives does not change scope."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"


@pytest.fixture(scope="module")
def _world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The world, built once for the module inside a transaction that is rolled back at its end.

    Each test runs inside it in its own savepoint (pytest-django's ``db``), so a step one test
    takes is undone before the next. The ``users``, ``registry`` and ``workflow`` fixtures are
    function-scoped: their builders (``make_users``, ``make_registry``, ``build_workflow``) are called
    here, so the records are the same as theirs.
    """
    from qualitygov import conftest
    from qualitygov.inspection.tests import fixtures

    media = str(tmp_path_factory.mktemp("inspection-media"))
    with django_db_blocker.unblock(), transaction.atomic():
        with override_settings(MEDIA_ROOT=media):
            users = conftest.make_users()
            registry = conftest.make_registry(users)
            built = build_world(fixtures.build_workflow(users, registry))
        built.media = media
        yield built
        transaction.set_rollback(True)


@pytest.fixture
def world(_world, db, settings):
    settings.MEDIA_ROOT = _world.media
    return _world


def build_world(workflow):
    """The records described in the module docstring, made through the services."""
    w = workflow
    u = w.users
    # City and county plans first: once a province plan covers a county, Art. 15 refuses lower-level
    # quotas for the same product there.
    cc_plan, cc_quota = approved_plan(u["changchun"], region="220100", quota_region="220104", batches=3, lab=w.lab1)
    yj_plan, yj_quota = approved_plan(u["yanji"], region="222401", quota_region="222401", batches=2, lab=w.lab2)
    with acting_as(u["nanguan"]):
        ng_plan = planning.create_plan(user=u["nanguan"], title="南关区水泥监督抽查（草稿）", period="year", year=YEAR,
                                       starts_on=dt.date(YEAR, 1, 1), ends_on=dt.date(YEAR, 12, 31),
                                       budget_cny=50000, labs=[w.lab1])
    with acting_as(u["changchun"]):
        cc_draw, _ = planning.draw_quota(cc_quota, user=u["changchun"], seed=11)
    with acting_as(u["yanji"]):
        yj_draw, _ = planning.draw_quota(yj_quota, user=u["yanji"], seed=12)
    own_task = task_for_entity(w, w.own)  # a province plan drawing every cement maker of 南关区
    prov2 = own_task.quota.plan
    r_task = InspectionTask.objects.get(quota=own_task.quota, entity=w.nanguan[0])
    c_task = InspectionTask.objects.get(quota=cc_quota, entity=w.chaoyang[0])
    c_open = InspectionTask.objects.get(quota=cc_quota, entity=w.chaoyang[1])
    y_task = InspectionTask.objects.get(quota=yj_quota, entity=w.yanji[0])
    y2_task = InspectionTask.objects.get(quota=yj_quota, entity=w.yanji[1])
    with acting_as(u["changchun"]):
        cc_idraw = planning.draw_task_inspectors(c_open, user=u["changchun"], seed=13)

    fail = (first_item_of_class(w.version, "B"),)
    n = take_sample(w, own_task)
    report(w, n, failing=fail)
    with acting_as(u["inspector"]):
        r = samples.record_refusal(r_task, user=u["inspector"], sampled_on=n.sampled_on, inspectors=w.inspectors[:2],
                                   reason="企业拒绝抽样")
    c = take_sample(w, c_task)
    report(w, c, failing=fail)
    y = take_sample(w, y_task)
    report(w, y, failing=fail, user=w.lab2_user)
    y2 = take_sample(w, y2_task)
    report(w, y2, failing=fail, user=w.lab2_user)

    # Y2: told and received long ago, no objection: final once the window closed, and published
    # with the refusal (the only final results at that moment); then ordered to correct, now overdue.
    with acting_as(u["yanji"]):
        followup.notify_result(y2, user=u["yanji"], on=y2.sampled_on + dt.timedelta(days=5))
        followup.acknowledge_receipt(y2, user=u["yanji"], on=y2.sampled_on + dt.timedelta(days=6))
    publication.publish_due(user=u["province"])
    y2.refresh_from_db()
    with acting_as(u["yanji"]):
        rect_y2 = followup.order_rectification(y2, user=u["yanji"], deadline=TODAY - dt.timedelta(days=5),
                                               on=TODAY - dt.timedelta(days=20))
    # N, C and Y told and received in the last days, and each contested.
    for sample, officer in ((n, u["nanguan"]), (c, u["changchun"]), (y, u["yanji"])):
        with acting_as(officer):
            followup.notify_result(sample, user=officer, on=TODAY - dt.timedelta(days=2))
            followup.acknowledge_receipt(sample, user=officer, on=TODAY - dt.timedelta(days=1))
    objections = {}
    for key, sample, filer in (("N", n, u["enterprise"]), ("C", c, u["changchun"]), ("Y", y, u["yanji"])):
        with acting_as(filer):
            objections[key] = followup.file_objection(sample, user=filer, grounds="对检验结论有异议")
    with acting_as(u["nanguan"]):
        followup.reject_objection(objections["N"], user=u["nanguan"], reason="申请人未说明理由")
        n.refresh_from_db()
        rect_n = followup.order_rectification(n, user=u["nanguan"], deadline=TODAY + dt.timedelta(days=30))
    with acting_as(u["yanji"]):
        followup.accept_objection(objections["Y"], user=u["yanji"], lab=w.lab1)
    attachments = {}
    for key, sample, by in (("N", n, u["inspector"]), ("Y2", y2, u["yanji"])):
        with acting_as(by):
            attachments[key] = samples.attach_file(sample, user=by, kind="photo",
                                                   uploaded=SimpleUploadedFile(f"{sample.number}.png", PNG))
    with acting_as(u["changchun"]):
        planning.set_draw_published(cc_draw, user=u["changchun"], published=True)
    # The service refuses to publish an inspector draw (its inputs hold declared relations); flag
    # one anyway, as a slip in the data would, to check that the portal still never shows it.
    RandomDraw.objects.filter(pk=cc_idraw.pk).update(published=True)
    cc_idraw.refresh_from_db()

    sample_objs = {"N": n, "R": r, "C": c, "Y": y, "Y2": y2}
    for obj in sample_objs.values():
        obj.refresh_from_db()
    plans = {"prov1": w.plan, "prov2": prov2, "cc": cc_plan, "ng": ng_plan, "yj": yj_plan}
    task_group = {"220102": "ng", "220104": "cy", "222401": "yj"}
    tasks = {}
    for task in InspectionTask.objects.select_related("entity").order_by("entity__region_id", "quota", "draw_rank"):
        tasks[f"{task_group[task.entity.region_id]}:{task.entity.uscc}"] = task
    objects = {
        "plan": plans,
        "quota": {key: PlanQuota.objects.get(plan=plans[key]) for key in ("prov1", "prov2", "cc", "yj")},
        "draw": {"prov": own_task.entity_draw, "cc": cc_draw, "cci": cc_idraw, "yj": yj_draw},
        "task": tasks,
        "sample": sample_objs,
        "objection": {key: Objection.objects.get(pk=obj.pk) for key, obj in objections.items()},
        "rectification": {"N": rect_n, "Y2": rect_y2},
        "attachment": attachments,
        "lab": {"lab1": w.lab1, "lab2": w.lab2},
        "rule": {rule.code: rule for rule in ImplementationRule.objects.order_by("code")},
    }
    groups = {kind: {key: key for key in objs} for kind, objs in objects.items()}
    groups["task"] = {key: key.split(":")[0] for key in tasks}
    groups["rule"] = {key: "all" for key in objects["rule"]}
    return SimpleNamespace(w=w, users=u, objects=objects, groups=groups)


@pytest.mark.django_db
def test_world_is_as_described(world):
    """The fixture is what the expectations assume (a change in the shared fixtures shows here first)."""
    sample = world.objects["sample"]
    assert {key: (obj.region_id, obj.status) for key, obj in sample.items()} == {
        "N": ("220102", Sample.Status.FINAL), "R": ("220102", Sample.Status.PUBLISHED),
        "C": ("220104", Sample.Status.OBJECTED), "Y": ("222401", Sample.Status.OBJECTED),
        "Y2": ("222401", Sample.Status.PUBLISHED)}
    assert sample["N"].entity_id == world.users["enterprise"].entity_id
    assert sample["R"].entity_id != sample["N"].entity_id and sample["R"].outcome == Sample.Outcome.REFUSED
    labs = {key: (obj.task.quota.lab_id, getattr(getattr(obj, "objection", None), "reinspection_lab_id", None))
            for key, obj in sample.items()}
    lab1, lab2 = world.objects["lab"]["lab1"].pk, world.objects["lab"]["lab2"].pk
    assert labs == {"N": (lab1, None), "R": (lab1, None), "C": (lab1, None), "Y": (lab2, lab1), "Y2": (lab2, None)}
    assert set(world.objects["lab"]["lab1"].staff.all()) == {world.users["lab"]}
    assert {key: obj.status for key, obj in world.objects["objection"].items()} == {
        "N": Objection.Status.REJECTED, "C": Objection.Status.FILED, "Y": Objection.Status.ACCEPTED}
    overdue = world.objects["rectification"]["Y2"]
    assert overdue.status == Rectification.Status.ORDERED and overdue.deadline < TODAY
    assert {key: plan.region_id for key, plan in world.objects["plan"].items()} == {
        "prov1": "220000", "prov2": "220000", "cc": "220100", "ng": "220102", "yj": "222401"}
    assert world.objects["plan"]["ng"].status == InspectionPlan.Status.DRAFT
    assert {key: (d.region_id, d.kind, d.published) for key, d in world.objects["draw"].items()} == {
        "prov": ("220000", "entities", False), "cc": ("220100", "entities", True),
        "cci": ("220100", "inspectors", True), "yj": ("222401", "entities", False)}
    groups = [world.groups["task"][key] for key in world.objects["task"]]
    assert (groups.count("ng"), groups.count("cy"), groups.count("yj")) == (5, 3, 2)
    assert set(world.objects["sample"]) == set(SAMPLES) and set(world.objects["plan"]) == set(PLANS)


def keys_of(world, kind: str) -> list[str]:
    return list(world.objects[kind])


def visible_keys(world, kind: str, role) -> set[str]:
    return {key for key, group in world.groups[kind].items() if group in VISIBLE[kind][role]}


def markers(world, kind: str, key: str) -> list[str]:
    """Strings that identify one record wherever it is shown."""
    obj = world.objects[kind][key]
    if kind == "plan":
        return [obj.code]
    if kind == "draw":
        return [obj.title]
    if kind == "task":
        return [obj.entity.uscc, obj.entity.name]
    if kind == "sample":
        return [obj.number, obj.entity.uscc]
    if kind in ("objection", "rectification", "attachment"):
        return [obj.sample.number]
    if kind == "lab":
        return [obj.name]
    if kind == "rule":
        return [obj.code]
    raise AssertionError(kind)


def leaked(content: str, world, kind: str, keys) -> list[str]:
    return [m for key in keys for m in markers(world, kind, key) if m in content]


def is_login_redirect(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("login")) \
        and "next=" in response["Location"]


def passed_scope(response) -> bool:
    """The request got past role and scope: the page, a redirect after the step, or the service's
    (or form's) refusal of a step that is not valid now."""
    return response.status_code in (200, 201, 302, 400) and not is_login_redirect(response)


def error_shape(response, status: int) -> bool:
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return False
    return error["status"] == status and isinstance(error["message"], str) and isinstance(error["details"], dict)


OK = "ok"  # passed_scope()


def status_matches(response, want) -> bool:
    if want == OK:
        return passed_scope(response)
    if want == "login":
        return is_login_redirect(response)
    return response.status_code == want


# --------------------------------------------------------------------------------------------------
# Route discovery


def _walk(patterns, namespace: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = pattern.namespace or ""
            yield from _walk(pattern.url_patterns, f"{namespace}{ns}:" if ns else namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}", pattern


NAMESPACES = ("inspection:", "public-inspection:", "api:inspection-api:")


def inspection_routes() -> list[str]:
    return [name for name, _ in _walk(get_resolver().url_patterns) if name.startswith(NAMESPACES)]


# Each page of the module, and how it is checked (see the test functions named).
PAGE_EXPECTATIONS: dict[str, tuple] = {
    # list pages: (check, kind, keys the page's default filter keeps or None)
    "inspection:inspectionplan_list": ("list", "plan", None),
    "inspection:randomdraw_list": ("list", "draw", None),
    "inspection:inspectiontask_list": ("list", "task", None),
    "inspection:implementationrule_list": ("list", "rule", None),
    "inspection:testinglab_list": ("list", "lab", None),
    "inspection:sample_list": ("list", "sample", None),
    "inspection:objection_list": ("list", "objection", None),
    "inspection:objection_pending": ("list", "objection", frozenset({"C"})),  # filed, not yet decided
    "inspection:rectification_list": ("list", "rectification", None),
    "inspection:rectification_overdue": ("list", "rectification", frozenset({"Y2"})),  # past its deadline
    # one record, read
    "inspection:inspectionplan_detail": ("detail", "plan"),
    "inspection:inspectionplan_history": ("detail", "plan"),
    "inspection:randomdraw_detail": ("detail", "draw"),
    "inspection:randomdraw_history": ("detail", "draw"),
    "inspection:randomdraw_json": ("detail", "draw"),
    "inspection:inspectiontask_detail": ("detail", "task"),
    "inspection:inspectiontask_history": ("detail", "task"),
    "inspection:implementationrule_detail": ("detail", "rule"),
    "inspection:implementationrule_history": ("detail", "rule"),
    "inspection:testinglab_detail": ("detail", "lab"),
    "inspection:testinglab_history": ("detail", "lab"),
    "inspection:sample_detail": ("detail", "sample"),
    "inspection:sample_history": ("detail", "sample"),
    "inspection:sample_attachment": ("detail", "attachment"),
    # steps and forms: test_page_step / the dedicated tests
    "inspection:inspectionplan_add": ("step",),
    "inspection:inspectionplan_edit": ("step",),
    "inspection:inspectionplan_approve": ("step",),
    "inspection:inspectionplan_close": ("step",),
    "inspection:planquota_add": ("step",),
    "inspection:planquota_draw": ("step",),
    "inspection:planquota_draw_inspectors": ("step",),
    "inspection:randomdraw_rerun": ("step",),
    "inspection:randomdraw_publish": ("step",),
    "inspection:inspectiontask_draw_inspectors": ("step",),
    "inspection:sample_add": ("step",),
    "inspection:sample_refusal_add": ("step",),
    "inspection:sample_action": ("sample_action",),
    "inspection:result_add": ("step",),
    "inspection:result_upload": ("result_upload",),
    "inspection:result_upload_template": ("result_upload_template",),
    # statistics page (test_statistics_page_scope; mounted by this module while not routed)
    "inspection:statistics": ("statistics",),
    # the public portal
    "public-inspection:result_list": ("public",),
    "public-inspection:result_detail": ("public",),
    "public-inspection:draw_list": ("public",),
    "public-inspection:draw_detail": ("public",),
}
# Names that may be absent from the resolver when this runs (the statistics page is routed by its own module).
OPTIONAL_ROUTES = {"inspection:statistics"}

API_EXPECTATIONS: dict[str, tuple] = {
    **{f"api:inspection-api:{basename}-{suffix}": ("read", kind)
       for basename, kind in (("plan", "plan"), ("quota", "quota"), ("draw", "draw"), ("task", "task"),
                              ("sample", "sample"), ("objection", "objection"), ("rectification", "rectification"),
                              ("lab", "lab"), ("rule", "rule"))
       for suffix in ("list", "detail")},
    "api:inspection-api:plan-quotas": ("step",),
    "api:inspection-api:plan-approve": ("step",),
    "api:inspection-api:plan-close": ("step",),
    "api:inspection-api:quota-draw": ("step",),
    "api:inspection-api:quota-draw-inspectors": ("step",),
    "api:inspection-api:draw-rerun": ("step",),
    "api:inspection-api:draw-publish": ("step",),
    "api:inspection-api:task-sample": ("step",),
    "api:inspection-api:task-refusal": ("step",),
    "api:inspection-api:sample-custody": ("step",),
    "api:inspection-api:sample-attachments": ("step",),
    "api:inspection-api:sample-results": ("step",),
    "api:inspection-api:sample-notify": ("step",),
    "api:inspection-api:sample-receipt": ("step",),
    "api:inspection-api:sample-objection": ("step",),
    "api:inspection-api:sample-rectification": ("step",),
    "api:inspection-api:sample-escalate": ("step",),
    "api:inspection-api:objection-accept": ("step",),
    "api:inspection-api:objection-reject": ("step",),
    "api:inspection-api:rectification-report": ("step",),
    "api:inspection-api:rectification-recheck": ("step",),
    "api:inspection-api:sample-results-by-number": ("results_by_number",),
    "api:inspection-api:sample-results-upload": ("results_upload",),
    "api:inspection-api:statistics": ("statistics",),
    "api:inspection-api:public-result-list": ("public",),
    "api:inspection-api:public-result-detail": ("public",),
    "api:inspection-api:public-draw-list": ("public",),
    "api:inspection-api:public-draw-detail": ("public",),
    # GB/T 2828.1 table lookup, public: inspection/tests/test_acceptance.py (and core's KNOWN_API_VIEWS).
    "api:inspection-api:sampling-plan": ("public_lookup",),
}


def test_every_inspection_route_has_an_expectation():
    names = inspection_routes()
    known = set(PAGE_EXPECTATIONS) | set(API_EXPECTATIONS)
    unknown = sorted(set(names) - known)
    assert not unknown, f"spot-check routes without a scope expectation in test_scope_inspection.py: {unknown}"
    stale = sorted(known - set(names) - OPTIONAL_ROUTES)
    assert not stale, f"expectations for routes that no longer exist: {stale}"
    # The discovery finds the module's routes, so it cannot silently find nothing.
    assert {"inspection:sample_list", "public-inspection:result_list", "api:inspection-api:sample-list"} <= set(names)
    steps = {name for name, spec in PAGE_EXPECTATIONS.items() if spec[0] == "step"}
    assert steps == set(PAGE_STEPS), sorted(steps ^ set(PAGE_STEPS))
    api_steps = {name for name, spec in API_EXPECTATIONS.items() if spec[0] == "step"}
    assert api_steps == {f"api:inspection-api:{name}" for name in API_STEPS}, sorted(api_steps)


def test_permission_table_matches_roles():
    """The intended table above is what the models' role tables give (``roles.actions_for``)."""
    wrong = []
    for model, kind in MODEL_KIND.items():
        for role, letters in PERMISSIONS[kind].items():
            got = "".join(sorted(LETTER[a] for a in actions_for(ROLE_OF[role], model)))
            if got != "".join(sorted(letters)):
                wrong.append(f"{model.__name__}/{role}: code allows {got or '-'}, intended {letters or '-'}")
    assert not wrong, "\n".join(wrong)


# --------------------------------------------------------------------------------------------------
# Pages: lists and exports


def _row_keys(response, world, kind: str) -> tuple[set[str], list]:
    by_pk = {obj.pk: key for key, obj in world.objects[kind].items()}
    keys, strangers = set(), []
    table = response.context["table"]
    for row in table.page.object_list if table.page else []:
        key = by_pk.get(row.record.pk)
        if key is None:
            strangers.append(row.record)
        else:
            keys.add(key)
    return keys, strangers


def _export_keys(response, world, kind: str, fmt: str) -> tuple[set[str], list]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    else:
        sheet = load_workbook(io.BytesIO(body), read_only=True).worksheets[0]
        rows = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    by_marker = {markers(world, kind, key)[0]: key for key in world.objects[kind]}
    keys, strangers = set(), []
    for row in rows[1:]:
        key = next((by_marker[cell] for cell in row if cell in by_marker), None)
        if key is None:
            strangers.append(row[:3])
        else:
            keys.add(key)
    return keys, strangers


LIST_PARAMS = [pytest.param(name, spec[1], spec[2], export, id=f"{name}-{export}" if export else name)
               for name, spec in PAGE_EXPECTATIONS.items() if spec[0] == "list" for export in (None, "csv", "xlsx")]


@pytest.mark.django_db
@pytest.mark.parametrize("name,kind,subset,export", LIST_PARAMS)
def test_list_page_scope(client, world, name, kind, subset, export):
    """Every role on one list page (or its export): status, rows, and no out-of-scope record."""
    problems = []
    url = reverse(name)
    query = {"export": export} if export else {}
    for role in ROLES:
        as_user(client, world.users, role)
        response = client.get(url, query)
        if role is None:
            if not is_login_redirect(response):
                problems.append(f"anonymous GET {url}: {response.status_code}, expected a login redirect")
            continue
        if role == "consumer":
            if response.status_code != 403:
                problems.append(f"consumer GET {url}: {response.status_code}, expected 403 (API only)")
            continue
        letter = "E" if export else "V"
        if not allowed(role, kind, letter):
            if response.status_code != 403:
                problems.append(f"{role} GET {url} {query}: {response.status_code}, expected 403")
            continue
        if response.status_code != 200:
            problems.append(f"{role} GET {url} {query}: {response.status_code}, expected 200")
            continue
        want = visible_keys(world, kind, role)
        if subset is not None:
            want &= subset
        if export:
            keys, strangers = _export_keys(response, world, kind, export)
        else:
            keys, strangers = _row_keys(response, world, kind)
        if keys != want or strangers:
            problems.append(f"{role} GET {url} {query}: rows {sorted(keys)} + {strangers}, expected {sorted(want)}")
        others = leaked(_content(response), world, kind, set(world.objects[kind]) - visible_keys(world, kind, role))
        if others:
            problems.append(f"{role} GET {url} {query}: shows out-of-scope {others}")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------------------------------
# Pages: one record


DETAIL_PARAMS = [pytest.param(name, spec[1], id=name) for name, spec in PAGE_EXPECTATIONS.items()
                 if spec[0] == "detail"]


@pytest.mark.django_db
@pytest.mark.parametrize("name,kind", DETAIL_PARAMS)
def test_detail_page_scope(client, world, name, kind):
    """Every role on every record's page: 200 inside the scope, 404 outside it (or for a role that
    may not read that kind of record: its existence is not disclosed), and no out-of-scope record."""
    problems = []
    keys = keys_of(world, kind)
    if kind == "task":
        keys = [next(k for k in keys if k.startswith(f"{group}:")) for group in TASK_GROUPS]  # one per region
    if kind == "rule":
        keys = keys[:2]
    for role in ROLES:
        as_user(client, world.users, role)
        visible = visible_keys(world, kind, role)
        hidden = set(world.objects[kind]) - visible
        for key in keys if role not in (None, "consumer") else keys[:1]:
            url = reverse(name, args=[world.objects[kind][key].pk])
            response = client.get(url)
            if role is None:
                if not is_login_redirect(response):
                    problems.append(f"anonymous GET {url}: {response.status_code}, expected a login redirect")
                continue
            if role == "consumer":
                want = 403
            else:
                want = 200 if allowed(role, kind, "V") and key in visible else 404
            if response.status_code != want:
                problems.append(f"{role} GET {url} ({key}): {response.status_code}, expected {want}")
            if kind == "attachment":
                continue  # the file itself: its status is the check
            content = _content(response)
            shown = leaked(content, world, kind, [key])
            if want == 200 and not shown:
                problems.append(f"{role} GET {url}: the {key} record is not shown")
            if want != 200 and shown:
                problems.append(f"{role} GET {url}: answer {response.status_code} shows {shown}")
            others = leaked(content, world, kind, hidden - {key})
            if others:
                problems.append(f"{role} GET {url} ({key}): shows out-of-scope {others}")
            if name == "inspection:testinglab_detail" and want == 200:
                # A lab's page lists the plans it works under: only those the user may read.
                plans = leaked(content, world, "plan", set(PLANS) - PLAN_VISIBLE[role])
                if plans:
                    problems.append(f"{role} GET {url}: lists out-of-scope plans {plans}")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------------------------------
# Pages: steps

# Per role: the answer for a record inside the role's scope (OK: past role and scope). A record
# outside the scope is 404 for a role that passes the role check, visitors are sent to sign in, and
# the data consumer gets 403 (API-only account); see the module docstring.
_PLAN_BUTTON = {"enterprise": 404, "lab": 404, "inspector": 404,
                "yanji": OK, "nanguan": OK, "changchun": OK, "province": OK, "admin": OK}
_SAMPLER_FORM = {"enterprise": 403, "lab": 403, "inspector": 200,  # never the lab that tests
                 "yanji": 200, "nanguan": 200, "changchun": 200, "province": 200, "admin": 200}
_SAMPLER_POST = {role: (OK if want == 200 else want) for role, want in _SAMPLER_FORM.items()}
_RESULT_FORM = {"enterprise": 403, "lab": 200, "inspector": 403,  # lab staff (and the administrator) only
                "yanji": 403, "nanguan": 403, "changchun": 403, "province": 403, "admin": 200}
_RESULT_POST = {role: (OK if want == 200 else want) for role, want in _RESULT_FORM.items()}

# name: (kind of record in the URL, method, {role: answer on a record in scope}); a role refused
# on a record in scope is refused on a record outside it too (403) by the pages in
# ROLE_CHECKED_FIRST, which check the role before looking the record up; the others answer 404.
PAGE_STEPS: dict[str, tuple] = {
    "inspection:inspectionplan_approve": ("plan", "post", _PLAN_BUTTON),
    "inspection:inspectionplan_close": ("plan", "post", _PLAN_BUTTON),
    "inspection:planquota_add": ("plan", "post", _PLAN_BUTTON),
    "inspection:planquota_draw": ("quota", "post", _PLAN_BUTTON),
    "inspection:planquota_draw_inspectors": ("quota", "post", _PLAN_BUTTON),
    "inspection:randomdraw_publish": ("draw", "post", _PLAN_BUTTON),
    # Re-running a draw is reading it: whoever may read the record.
    "inspection:randomdraw_rerun": ("draw", "post", {"enterprise": 404, "lab": 200, "inspector": 200, "yanji": 200,
                                                     "nanguan": 200, "changchun": 200, "province": 200,
                                                     "admin": 200}),
    # Drawing a task's samplers is for the unit whose plan made the task: a county officer sees the
    # province's tasks in the county but does not staff them.
    "inspection:inspectiontask_draw_inspectors": ("task", "post", {
        "enterprise": 404, "lab": {"ng": 403, "cy": 403}, "inspector": {"ng": 403, "cy": 403},
        "yanji": {"yj": OK}, "nanguan": {"ng": 403}, "changchun": {"ng": 403, "cy": OK},
        "province": OK, "admin": OK}),
    # Only a draft is edited: an issued plan in the officer's scope is refused (403).
    "inspection:inspectionplan_edit": ("plan", "get", {
        "enterprise": 404, "lab": 404, "inspector": 404, "yanji": {"yj": 403}, "nanguan": {"ng": 200},
        "changchun": {"ng": 200, "cc": 403}, "province": {"ng": 200, "prov1": 403, "prov2": 403, "cc": 403,
                                                          "yj": 403},
        "admin": {"ng": 200, "prov1": 403, "prov2": 403, "cc": 403, "yj": 403}}),
    "inspection:sample_add": ("task", "get", _SAMPLER_FORM),
    "inspection:sample_refusal_add": ("task", "get", _SAMPLER_FORM),
    "inspection:result_add": ("sample", "get", _RESULT_FORM),
    "inspection:inspectionplan_add": (None, "get", {"enterprise": 403, "lab": 403, "inspector": 403, "yanji": 200,
                                                    "nanguan": 200, "changchun": 200, "province": 200,
                                                    "admin": 200}),
}
# The same pages posted to (an empty form: refused by the form, after the scope check).
PAGE_STEP_POSTS = {
    "inspection:inspectionplan_edit": {"enterprise": 404, "lab": 404, "inspector": 404, "yanji": {"yj": 403},
                                       "nanguan": {"ng": OK}, "changchun": {"ng": OK, "cc": 403},
                                       "province": {"ng": OK, "prov1": 403, "prov2": 403, "cc": 403, "yj": 403},
                                       "admin": {"ng": OK, "prov1": 403, "prov2": 403, "cc": 403, "yj": 403}},
    "inspection:sample_add": _SAMPLER_POST,
    "inspection:sample_refusal_add": _SAMPLER_POST,
    "inspection:result_add": _RESULT_POST,
    "inspection:inspectionplan_add": {"enterprise": 403, "lab": 403, "inspector": 403, "yanji": OK, "nanguan": OK,
                                      "changchun": OK, "province": OK, "admin": OK},
}
ROLE_CHECKED_FIRST = {"inspection:sample_add", "inspection:sample_refusal_add", "inspection:result_add",
                      "inspection:inspectionplan_add"}


def _step_url(name: str, kind: str | None, obj) -> str:
    if kind is None:
        return reverse(name)
    if name in ("inspection:sample_add", "inspection:sample_refusal_add"):
        return reverse(name) + f"?task={obj.pk}"
    return reverse(name, args=[obj.pk])


def _want(spec, group: str):
    """The answer for a record of ``group`` inside the scope: one answer, or one per group."""
    if isinstance(spec, dict):
        return spec.get(group, "unlisted")
    return spec


def _probe_keys(world, kind: str, role) -> tuple[list[str], list[str]]:
    """One record of each scope group the role sees, and one it does not see."""
    visible = visible_keys(world, kind, role)
    inside, seen = [], set()
    for key in world.objects[kind]:
        group = world.groups[kind][key]
        if key in visible and group not in seen:
            inside.append(key)
            seen.add(group)
    outside = [key for key in reversed(list(world.objects[kind])) if key not in visible][:1]
    return inside, outside


STEP_PARAMS = [pytest.param(name, method, id=f"{name}-{method}") for name, spec in PAGE_STEPS.items()
               for method in ("get", "post") if method == spec[1] or (method == "post" and name in PAGE_STEP_POSTS)]


@pytest.mark.django_db
@pytest.mark.parametrize("name,method", STEP_PARAMS)
def test_page_step(client, world, name, method):
    """Every role on one step (or form) page, on a record inside and one outside its scope."""
    kind, _, in_scope = PAGE_STEPS[name]
    if method == "post" and name in PAGE_STEP_POSTS:
        in_scope = PAGE_STEP_POSTS[name]
    problems = []
    for role in ROLES:
        as_user(client, world.users, role)
        if kind is None:
            probes = [(None, "", in_scope.get(role))]
        else:
            inside, outside = _probe_keys(world, kind, role)
            probes = [(key, world.groups[kind][key], None) for key in inside + outside]
        for key, group, fixed in probes:
            obj = world.objects[kind][key] if kind else None
            url = _step_url(name, kind, obj)
            response = client.post(url, {}) if method == "post" else client.get(url)
            if role is None:
                want = "login"
            elif role == "consumer":
                want = 403
            elif kind is None:
                want = fixed
            elif key in visible_keys(world, kind, role):
                want = _want(in_scope[role], group)
            else:
                refused_by_role = name in ROLE_CHECKED_FIRST and in_scope[role] == 403
                want = 403 if refused_by_role else 404
            if not status_matches(response, want):
                problems.append(f"{role} {method.upper()} {url} ({key}): {response.status_code}, expected {want}")
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_sampling_task_pick_list_is_scoped(client, world):
    """Without ``?task=``, the sampling pages list the open tasks to choose from: the user's only."""
    problems = []
    for name in ("inspection:sample_add", "inspection:sample_refusal_add"):
        for role in ("inspector", "nanguan", "changchun", "yanji", "province"):
            as_user(client, world.users, role)
            response = client.get(reverse(name))
            content = _content(response)
            hidden = set(world.objects["task"]) - visible_keys(world, "task", role)
            if response.status_code != 200 or leaked(content, world, "task", hidden):
                problems.append(f"{role} {name}: {response.status_code}, shows {leaked(content, world, 'task', hidden)}")
            open_inside = {key for key in visible_keys(world, "task", role)
                           if world.objects["task"][key].status == InspectionTask.Status.ASSIGNED}
            if not all(leaked(content, world, "task", [key]) for key in open_inside):
                problems.append(f"{role} {name}: not every open task of the scope is offered")
    assert not problems, "\n".join(problems)


# Sample steps: who presses each button (views_samples.SampleActionView.ACTIONS).
_ENTERPRISE_STEP = {"enterprise": OK, "lab": 403, "inspector": 403, "yanji": 403, "nanguan": 403,
                    "changchun": 403, "province": 403, "admin": 403}
_CHANGER_STEP = {"enterprise": 403, "lab": OK, "inspector": OK, "yanji": OK, "nanguan": OK, "changchun": OK,
                 "province": OK, "admin": OK}
_OFFICER_STEP = {"enterprise": 403, "lab": 403, "inspector": 403, "yanji": OK, "nanguan": OK, "changchun": OK,
                 "province": OK, "admin": OK}
SAMPLE_ACTIONS = {
    "custody_test": _CHANGER_STEP, "custody_spare": _CHANGER_STEP, "attach": _CHANGER_STEP,
    "notify": _OFFICER_STEP, "receipt": _OFFICER_STEP, "confirm_receipt": _ENTERPRISE_STEP,
    "objection": _ENTERPRISE_STEP, "accept": _OFFICER_STEP, "reject": _OFFICER_STEP, "order": _OFFICER_STEP,
    "report": _ENTERPRISE_STEP, "recheck": _OFFICER_STEP, "escalate_public_notice": _OFFICER_STEP,
    "escalate_suspension": _OFFICER_STEP, "escalate_licence_revocation": _OFFICER_STEP,
}


def test_sample_action_table_covers_the_view():
    from qualitygov.inspection.views_samples import SampleActionView

    assert set(SAMPLE_ACTIONS) == set(SampleActionView.ACTIONS)


@pytest.mark.django_db
@pytest.mark.parametrize("action", sorted(SAMPLE_ACTIONS))
def test_sample_action_scope(client, world, action):
    """Every role on one sample step: on a sample in scope, on one outside it; an unknown step is 404."""
    problems = []
    for role in ROLES:
        as_user(client, world.users, role)
        inside, outside = _probe_keys(world, "sample", role)
        for key in (inside[:1] + outside) if role else ["N"]:
            url = reverse("inspection:sample_action", args=[world.objects["sample"][key].pk, action])
            response = client.post(url, {})
            if role is None:
                want = "login"
            elif role == "consumer":
                want = 403
            elif key in SAMPLE_VISIBLE[role]:
                want = SAMPLE_ACTIONS[action][role]
            else:
                want = 404
            if not status_matches(response, want):
                problems.append(f"{role} POST {url} ({key}): {response.status_code}, expected {want}")
            if response.status_code == 400:
                others = leaked(_content(response), world, "sample", set(SAMPLES) - SAMPLE_VISIBLE[role])
                if others:
                    problems.append(f"{role} POST {url}: the refusal shows out-of-scope {others}")
    as_user(client, world.users, "province")
    bogus = client.post(reverse("inspection:sample_action", args=[world.objects["sample"]["N"].pk, "delete"]), {})
    if bogus.status_code != 404:
        problems.append(f"an unknown step answered {bogus.status_code}, expected 404")
    assert not problems, "\n".join(problems)


def _results_csv(world, keys) -> bytes:
    rows = [["抽样单编号", "报告编号", "检验完成日期", "项目代码", "实测值", "单位", "单项判定"]]
    for key in keys:
        sample = world.objects["sample"][key]
        rows.append([sample.number, f"UP-{key}", TODAY.isoformat(), "X", "1", "", "合格"])
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


@pytest.mark.django_db
def test_result_upload_page_scope(client, world):
    """The upload page is the labs' (and the administrator's); a sample outside the lab's scope is
    reported as not existing, exactly as an unknown number, and nothing is written."""
    problems = []
    url = reverse("inspection:result_upload")
    want_get = {None: "login", "consumer": 403, "enterprise": 403, "lab": 200, "inspector": 403, "yanji": 403,
                "nanguan": 403, "changchun": 403, "province": 403, "admin": 200}
    for role in ROLES:
        as_user(client, world.users, role)
        for method in ("get", "post"):
            response = client.get(url) if method == "get" else client.post(url, {})
            want = want_get[role] if method == "get" or want_get[role] != 200 else 400  # no file: the form refuses
            if not status_matches(response, want):
                problems.append(f"{role} {method.upper()} {url}: {response.status_code}, expected {want}")
    reports = TestReport.objects.count()
    as_user(client, world.users, "lab")
    upload = SimpleUploadedFile("results.csv", _results_csv(world, ["Y2", "C"]), content_type="text/csv")
    response = client.post(url, {"file": upload})
    text = _content(response)
    y2, c = world.objects["sample"]["Y2"].number, world.objects["sample"]["C"].number
    if response.status_code != 400 or f"抽样单 {y2} 不存在" not in text:
        problems.append(f"lab upload naming lab2's sample {y2}: {response.status_code}, not reported as unknown")
    if f"抽样单 {c} 不存在" in text:
        problems.append(f"lab upload: its own sample {c} was reported as unknown")
    if TestReport.objects.count() != reports:
        problems.append("a refused upload wrote reports")
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_result_upload_template_scope(client, world):
    """The template pre-fills item rows only for samples the user may see (and not for refusals)."""
    problems = []
    url = reverse("inspection:result_upload_template")
    numbers = {key: world.objects["sample"][key].number for key in SAMPLES}
    want = {None: "login", "consumer": 403, "enterprise": 403, "lab": 200, "inspector": 403, "yanji": 403,
            "nanguan": 403, "changchun": 403, "province": 403, "admin": 200}
    for role in ROLES:
        as_user(client, world.users, role)
        response = client.get(url, {"sample": list(numbers.values())})
        if not status_matches(response, want[role]):
            problems.append(f"{role} GET {url}: {response.status_code}, expected {want[role]}")
            continue
        if response.status_code != 200:
            continue
        rows = list(csv.reader(io.StringIO(_content(response).lstrip("\ufeff"))))[1:]
        shown = {row[0] for row in rows}
        expected = {numbers[key] for key in SAMPLE_VISIBLE[role] - {"R"}}  # R is a refusal: nothing to test
        if shown != expected:
            problems.append(f"{role} template rows for {sorted(shown)}, expected {sorted(expected)}")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------------------------------
# Statistics page (issue 3, item 8)

# Counted by default: final results (N after its objection was rejected, Y2) and refusals (R);
# officers may add the results not yet final (C and Y, contested).
FINAL_TESTED = frozenset({"N", "Y2"})
PROVISIONAL_TESTED = frozenset({"N", "C", "Y", "Y2"})
REFUSED = frozenset({"R"})
SAMPLE_COUNTY = {"N": "220102", "R": "220102", "C": "220104", "Y": "222401", "Y2": "222401"}
# The page is the regulator's (views_statistics.STATISTICS_ROLES).
STATISTICS_PAGE = {None: "login", "consumer": 403, "enterprise": 403, "lab": 403, "inspector": 403,
                   "yanji": 200, "nanguan": 200, "changchun": 200, "province": 200, "admin": 200}


def _urlpatterns() -> list:
    """The project's URLs, plus the statistics page while the inspection URLs do not route it yet."""
    from qualitygov import urls as root_urls

    patterns = list(root_urls.urlpatterns)
    try:
        reverse("inspection:statistics", urlconf=root_urls)
    except NoReverseMatch:
        patterns.append(path("inspection/statistics/", StatisticsView.as_view(), name="statistics-under-test"))
    return patterns


def __getattr__(name: str):
    # This module is the statistics test's URLconf (pytest.mark.urls below); built on first use.
    if name == "urlpatterns":
        return _urlpatterns()
    if name.startswith("handler"):
        from qualitygov import urls as root_urls

        return getattr(root_urls, name)
    raise AttributeError(name)


def _stats_url() -> str:
    try:
        return reverse("inspection:statistics")
    except NoReverseMatch:
        return reverse("statistics-under-test")


def _hidden_plan_codes(world, role) -> list[str]:
    """Plans a statistics page may not name for ``role``: neither readable nor the plan of a sample in scope."""
    sample_plans = {world.objects["sample"][key].plan_id for key in SAMPLE_VISIBLE[role]}
    return [plan.code for key, plan in world.objects["plan"].items()
            if key not in PLAN_VISIBLE[role] and plan.pk not in sample_plans]


@pytest.mark.django_db
@pytest.mark.urls(__name__)
@pytest.mark.parametrize("export", [None, "csv"])
def test_statistics_page_scope(client, world, export):
    """A county officer's totals are its county's samples; a city's its counties'; nobody's page or
    export counts or names what lies outside the scope."""
    problems = []
    url = _stats_url()
    for role in ROLES:
        as_user(client, world.users, role)
        for provisional in (False, True):
            query = {"by": "county"} | ({"include_provisional": "on"} if provisional else {}) \
                | ({"export": export} if export else {})
            response = client.get(url, query)
            want = STATISTICS_PAGE[role]
            if not status_matches(response, want):
                problems.append(f"{role} GET {url} {query}: {response.status_code}, expected {want}")
                continue
            if want != 200:
                continue
            visible = SAMPLE_VISIBLE[role]
            counted = visible & (PROVISIONAL_TESTED if provisional else FINAL_TESTED)
            want = (len(counted), len(visible & REFUSED))
            counties = {SAMPLE_COUNTY[key] for key in counted | (visible & REFUSED)}
            content = _content(response)
            if export:
                # Columns: county code, county name, tested, qualified, unqualified, serious, refused, rates…
                rows = list(csv.reader(io.StringIO(content.lstrip("\ufeff"))))[1:]
                shown = {row[0] for row in rows[:-1]}
                totals = (int(rows[-1][2]), int(rows[-1][6])) if rows else None
                if shown != counties or totals != want:
                    problems.append(f"{role} statistics export {query}: counties {sorted(shown)}, totals {totals}; "
                                    f"expected {sorted(counties)}, {want}")
                continue
            totals = response.context["totals"]
            if (totals["tested"], totals["refused"]) != want:
                problems.append(f"{role} statistics {query}: tested {totals['tested']}, refused {totals['refused']}; "
                                f"expected {want}")
            shown = {row["county"] for row in response.context["rows"]}
            if shown != counties:
                problems.append(f"{role} statistics {query}: counties {sorted(shown)}, expected {sorted(counties)}")
            named = [code for code in _hidden_plan_codes(world, role) if code in content]
            if named:
                problems.append(f"{role} statistics page names out-of-scope plans {named}")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------------------------------
# Public portal


@pytest.mark.django_db
def test_public_pages_show_only_what_is_published(client, world):
    """Anyone (signed in or not) sees published results and published entity draws; anything else is 404."""
    problems = []
    published = {"R", "Y2"}
    public_draws = {"cc"}  # cci is flagged published but is an inspector draw
    for role in ROLES:
        as_user(client, world.users, role)
        listing = client.get(reverse("public-inspection:result_list"))
        content = _content(listing)
        shown = {key for key in SAMPLES if world.objects["sample"][key].number in content}
        if listing.status_code != 200 or shown != published:
            problems.append(f"{role} public results: {listing.status_code}, shows {sorted(shown)}")
        for key in SAMPLES:
            url = reverse("public-inspection:result_detail", args=[world.objects["sample"][key].number])
            response = client.get(url)
            want = 200 if key in published else 404
            if response.status_code != want:
                problems.append(f"{role} GET {url} ({key}): {response.status_code}, expected {want}")
        draws = client.get(reverse("public-inspection:draw_list"))
        shown = {key for key in DRAWS if world.objects["draw"][key].title in _content(draws)}
        if draws.status_code != 200 or shown != public_draws:
            problems.append(f"{role} public draws: {draws.status_code}, shows {sorted(shown)}")
        for key in DRAWS:
            url = reverse("public-inspection:draw_detail", args=[world.objects["draw"][key].pk])
            want = 200 if key in public_draws else 404
            for query in ({}, {"format": "json"}):
                response = client.get(url, query)
                if response.status_code != want:
                    problems.append(f"{role} GET {url} {query} ({key}): {response.status_code}, expected {want}")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------------------------------
# API: lists and records

API_BASENAME = {"plan": "plan", "quota": "quota", "draw": "draw", "task": "task", "sample": "sample",
                "objection": "objection", "rectification": "rectification", "lab": "lab", "rule": "rule"}


def _api_status(role, kind: str, in_scope: bool) -> int:
    if role is None:
        return 401
    if not allowed(role, kind, "V"):
        return 403
    return 200 if in_scope else 404


API_READ_PARAMS = [pytest.param(kind, id=kind) for kind in API_BASENAME]


@pytest.mark.django_db
@pytest.mark.parametrize("kind", API_READ_PARAMS)
def test_api_read_scope(client, world, kind):
    """Every role on one endpoint's list and records: status, rows, the error shape, no leak; writes
    to a record are not offered (405, or 403 to a role that may not change that kind)."""
    basename = API_BASENAME[kind]
    problems = []
    objects = world.objects[kind]
    by_pk = {obj.pk: key for key, obj in objects.items()}
    for role in ROLES:
        as_user(client, world.users, role)
        visible = visible_keys(world, kind, role)
        url = reverse(f"api:inspection-api:{basename}-list")
        response = client.get(url, {"page_size": 1000})
        want = _api_status(role, kind, True)
        if response.status_code != want:
            problems.append(f"{role} GET {url}: {response.status_code}, expected {want}")
        elif want == 200:
            ids = [item["id"] for item in response.json()["results"]]
            keys = {by_pk.get(pk, f"?{pk}") for pk in ids}
            if keys != visible:
                problems.append(f"{role} GET {url}: rows {sorted(keys)}, expected {sorted(visible)}")
        elif not error_shape(response, want):
            problems.append(f"{role} GET {url}: {want} not in the error shape")
        if kind in ("task", "rule"):  # many records of one scope group: one per group, and one outside
            inside, outside = _probe_keys(world, kind, role)
            keys = inside + outside or list(objects)[:1]
        else:
            keys = list(objects)
        for key in keys:
            url = reverse(f"api:inspection-api:{basename}-detail", args=[objects[key].pk])
            response = client.get(url)
            want = _api_status(role, kind, key in visible)
            if response.status_code != want:
                problems.append(f"{role} GET {url} ({key}): {response.status_code}, expected {want}")
                continue
            if want != 200:
                if not error_shape(response, want):
                    problems.append(f"{role} GET {url}: {want} not in the error shape")
                if kind in ("plan", "draw", "task", "sample") and leaked(_content(response), world, kind, [key]):
                    problems.append(f"{role} GET {url}: the {want} answer discloses the record")
                continue
            if kind == "sample":
                body = response.json()
                if not allowed(role, "rectification", "V") and body["rectifications"]:
                    problems.append(f"{role} GET {url}: embeds rectifications the role may not read")
            if kind in ("plan", "draw", "task", "sample"):
                others = leaked(_content(response), world, kind, set(objects) - visible - {key})
                if others:
                    problems.append(f"{role} GET {url}: shows out-of-scope {others}")
        # The spot-check endpoints are read-only apart from their steps.
        url = reverse(f"api:inspection-api:{basename}-detail", args=[next(iter(objects.values())).pk])
        for method in ("patch", "delete"):
            response = getattr(client, method)(url, {}, content_type="application/json")
            if response.status_code not in ((401,) if role is None else (403, 404, 405)):
                problems.append(f"{role} {method.upper()} {url}: {response.status_code}")
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_api_filters_cannot_widen_scope(client, world):
    """Asking for another region through the filters gives nothing beyond the user's scope."""
    as_user(client, world.users, "nanguan")
    for basename, kind in (("sample", "sample"), ("task", "task"), ("plan", "plan"), ("draw", "draw")):
        for region in ("222401", "220100", "220000"):
            response = client.get(reverse(f"api:inspection-api:{basename}-list"), {"region": region})
            if response.status_code == 400:
                assert list(response.json()["error"]["details"]) == ["region"]
                continue
            assert response.status_code == 200, (basename, region, response.status_code)
            by_pk = {obj.pk: key for key, obj in world.objects[kind].items()}
            keys = {by_pk.get(item["id"]) for item in response.json()["results"]}
            assert keys <= visible_keys(world, kind, "nanguan"), (basename, region, keys)
    page = client.get(reverse("inspection:sample_list"), {"region": "222401"})
    assert page.status_code == 200 and page.context["total"] == 0
    export = client.get(reverse("inspection:sample_list"), {"region": "220100", "export": "csv"})
    keys, strangers = _export_keys(export, world, "sample", "csv")
    assert keys == {"N", "R"} and not strangers


# --------------------------------------------------------------------------------------------------
# API: steps

_API_WRITERS = frozenset({"yanji", "nanguan", "changchun", "province", "admin"})
_API_CHANGERS = _API_WRITERS | {"inspector", "lab"}
# name: (kind of record in the URL, roles whose step it is, body as multipart).
API_STEPS: dict[str, tuple] = {
    "plan-quotas": ("plan", _API_WRITERS, False),
    "plan-approve": ("plan", _API_WRITERS, False),
    "plan-close": ("plan", _API_WRITERS, False),
    "quota-draw": ("quota", _API_WRITERS, False),
    "quota-draw-inspectors": ("quota", _API_WRITERS, False),
    # Re-running a draw only reads it: whoever may read draw records.
    "draw-rerun": ("draw", _API_WRITERS | {"inspector", "lab"}, False),
    "draw-publish": ("draw", _API_WRITERS, False),
    # Samples are recorded by inspectors and the officers who direct them, never by the lab that
    # tests them (views_samples.SAMPLER_ROLES; 《产品质量监督抽查管理暂行办法》: 抽样与检验分离).
    "task-sample": ("task", _API_WRITERS | {"inspector"}, False),
    "task-refusal": ("task", _API_WRITERS | {"inspector"}, False),
    "sample-custody": ("sample", _API_CHANGERS, False),
    "sample-attachments": ("sample", _API_CHANGERS, True),
    # The results service refuses (400) anyone but the sample's lab staff and the administrator.
    "sample-results": ("sample", _API_CHANGERS, False),
    "sample-notify": ("sample", _API_WRITERS, False),
    "sample-receipt": ("sample", _API_WRITERS | {"enterprise"}, False),
    "sample-objection": ("sample", _API_WRITERS | {"enterprise"}, False),
    "sample-rectification": ("sample", _API_WRITERS, False),
    "sample-escalate": ("sample", _API_WRITERS, False),
    "objection-accept": ("objection", _API_WRITERS, False),
    "objection-reject": ("objection", _API_WRITERS, False),
    "rectification-report": ("rectification", _API_WRITERS | {"enterprise"}, False),
    "rectification-recheck": ("rectification", _API_WRITERS, False),
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(API_STEPS))
def test_api_step_scope(client, world, name):
    """Every role on one API step: 401 for visitors, 403 for a role the step is not for (before any
    record is looked up), 404 outside the scope, past the scope check inside it."""
    kind, roles, multipart = API_STEPS[name]
    problems = []
    for role in ROLES:
        as_user(client, world.users, role)
        inside, outside = _probe_keys(world, kind, role)
        probes = inside[:1] + outside if role else list(world.objects[kind])[:1]
        for key in probes:
            url = reverse(f"api:inspection-api:{name}", args=[world.objects[kind][key].pk])
            response = client.post(url, {}) if multipart else client.post(url, {}, content_type="application/json")
            if role is None:
                want = 401
            elif role not in roles:
                want = 403
            elif key in visible_keys(world, kind, role):
                want = OK
            else:
                want = 404
            if not status_matches(response, want):
                problems.append(f"{role} POST {url} ({key}): {response.status_code}, expected {want}: "
                                f"{_content(response)[:200]}")
            elif want != OK and not error_shape(response, want):
                problems.append(f"{role} POST {url}: {want} not in the error shape")
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_api_plan_create_scope(client, world):
    """Plans are made by the officers (for their own unit: the service refuses another region)."""
    problems = []
    url = reverse("api:inspection-api:plan-list")
    for role in ROLES:
        as_user(client, world.users, role)
        response = client.post(url, {}, content_type="application/json")
        want = 401 if role is None else OK if role in _API_WRITERS else 403
        if not status_matches(response, want):
            problems.append(f"{role} POST {url}: {response.status_code}, expected {want}")
    as_user(client, world.users, "nanguan")
    count = InspectionPlan.objects.count()
    response = client.post(url, {"title": "越界计划", "period": "year", "year": YEAR, "starts_on": f"{YEAR}-01-01",
                                 "ends_on": f"{YEAR}-12-31", "budget_cny": "1000", "region": "222401"},
                           content_type="application/json")
    if response.status_code != 400 or InspectionPlan.objects.count() != count:
        problems.append(f"nanguan made a plan for 延吉市: {response.status_code}")
    assert not problems, "\n".join(problems)


def _result_payload(world, key: str | None, number: str | None = None) -> dict:
    from qualitygov.inspection.tests.fixtures import results_for

    sample = world.objects["sample"]["N"]
    items = [{"code": code, "value": item.value, "unit": item.unit, "verdict": item.verdict}
             for code, item in results_for(sample.rule_version).items()]
    return {"sample_number": number or world.objects["sample"][key].number, "report_number": f"BN-{number or key}",
            "tested_on": TODAY.isoformat(), "items": items}


@pytest.mark.django_db
def test_api_results_by_number_scope(client, world):
    """``POST samples/results/`` finds the sample by number within the user's scope: a number outside
    it is answered exactly as an unknown one (400 unknown_sample), and nothing is written."""
    problems = []
    url = reverse("api:inspection-api:sample-results-by-number")
    reports = TestReport.objects.count()
    for role in ROLES:
        as_user(client, world.users, role)
        inside, outside = _probe_keys(world, "sample", role)
        for key in (inside[:1] + outside) if role else ["N"]:
            response = client.post(url, _result_payload(world, key), content_type="application/json")
            if role is None:
                want, code = 401, None
            elif role not in _API_CHANGERS:
                want, code = 403, None
            elif key not in SAMPLE_VISIBLE[role]:
                want, code = 400, "unknown_sample"
            else:
                want, code = 400, None  # in scope: refused by the service (already reported, or not the lab)
            if response.status_code != want or not error_shape(response, want):
                problems.append(f"{role} POST {url} ({key}): {response.status_code}, expected {want}")
                continue
            got = response.json()["error"]["code"]
            if code and got != code:
                problems.append(f"{role} POST {url} ({key}): code {got}, expected {code}")
            if code is None and want == 400 and got == "unknown_sample":
                problems.append(f"{role} POST {url} ({key}): a sample in scope is reported unknown")
    as_user(client, world.users, "lab")
    unknown = client.post(url, _result_payload(world, None, "CY1999000999"), content_type="application/json")
    outside = client.post(url, _result_payload(world, "Y2"), content_type="application/json")
    def anonymised(response) -> tuple[int, str]:
        """The whole answer with the sample number blanked out."""
        text = response.content.decode().replace("CY1999000999", "#")
        return response.status_code, text.replace(world.objects["sample"]["Y2"].number, "#")

    if anonymised(unknown) != anonymised(outside):
        problems.append("an out-of-scope number is answered differently from an unknown one")
    if TestReport.objects.count() != reports:
        problems.append("a refused request wrote reports")
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_api_results_upload_scope(client, world):
    """Uploading results: only the roles that may add reports; samples outside the scope are unknown."""
    problems = []
    url = reverse("api:inspection-api:sample-results-upload")
    for role in ROLES:
        as_user(client, world.users, role)
        response = client.post(url, {})
        want = 401 if role is None else 400 if role in _API_CHANGERS else 403  # 400: no file
        if response.status_code != want or not error_shape(response, want):
            problems.append(f"{role} POST {url}: {response.status_code}, expected {want}")
    reports = TestReport.objects.count()
    as_user(client, world.users, "lab")
    upload = SimpleUploadedFile("results.csv", _results_csv(world, ["Y2"]), content_type="text/csv")
    response = client.post(url, {"file": upload, "dry_run": "true"})
    y2 = world.objects["sample"]["Y2"].number
    reasons = [problem["reason"] for problem in response.json().get("problems", [])] \
        if response.status_code == 200 else []
    if response.status_code != 200 or f"抽样单 {y2} 不存在。" not in reasons:
        problems.append(f"lab dry-run naming lab2's sample: {response.status_code} {response.content[:300]!r}")
    if TestReport.objects.count() != reports:
        problems.append("the upload wrote reports")
    assert not problems, "\n".join(problems)


# API statistics: who may ask, and what each role's totals cover. Results not yet final are the
# regulator's working figures: other roles get the final ones even when they ask for more.
STATISTICS_API = {None: 401, "consumer": 403, "enterprise": 200, "lab": 200, "inspector": 200, "yanji": 200,
                  "nanguan": 200, "changchun": 200, "province": 200, "admin": 200}
PROVISIONAL_ROLES = OFFICERS


@pytest.mark.django_db
def test_api_statistics_scope(client, world):
    problems = []
    url = reverse("api:inspection-api:statistics")
    for role in ROLES:
        as_user(client, world.users, role)
        response = client.get(url, {"by": "county", "include_provisional": "true"})
        want = STATISTICS_API[role]
        if response.status_code != want:
            problems.append(f"{role} GET {url}: {response.status_code}, expected {want}")
            continue
        if want != 200:
            continue
        visible = SAMPLE_VISIBLE[role]
        counted = visible & (PROVISIONAL_TESTED if role in PROVISIONAL_ROLES else FINAL_TESTED)
        want_counts = (len(counted), len(visible & REFUSED))
        body = response.json()
        if (body["totals"]["tested"], body["totals"]["refused"]) != want_counts:
            problems.append(f"{role} statistics: tested {body['totals']['tested']}, refused "
                            f"{body['totals']['refused']}; expected {want_counts}")
        counties = {row["county"] for row in body["rows"]}
        if counties != {SAMPLE_COUNTY[key] for key in counted | (visible & REFUSED)}:
            problems.append(f"{role} statistics: counties {sorted(counties)}")
        # A filter naming a region narrows to it, never beyond the scope (final results only here).
        for region in ("222401", "220102"):
            narrowed = client.get(url, {"by": "county", "region": region})
            inside = {key for key in visible if SAMPLE_COUNTY[key] == region}
            want_counts = (len(inside & FINAL_TESTED), len(inside & REFUSED))
            got = narrowed.json()["totals"] if narrowed.status_code == 200 else {}
            if (got.get("tested"), got.get("refused")) != want_counts:
                problems.append(f"{role} statistics for {region}: {narrowed.status_code} {got}, expected {want_counts}")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------------------------------
# API: public endpoints


@pytest.mark.django_db
def test_api_public_endpoints_show_only_what_is_published(client, world):
    problems = []
    numbers = {key: world.objects["sample"][key].number for key in SAMPLES}
    for role in (None, "consumer", "enterprise", "yanji"):
        as_user(client, world.users, role)
        listing = client.get(reverse("api:inspection-api:public-result-list"))
        shown = {item["number"] for item in listing.json()["results"]} if listing.status_code == 200 else set()
        if listing.status_code != 200 or shown != {numbers["R"], numbers["Y2"]}:
            problems.append(f"{role} public results: {listing.status_code} {sorted(shown)}")
        for key, number in numbers.items():
            response = client.get(reverse("api:inspection-api:public-result-detail", args=[number]))
            want = 200 if key in ("R", "Y2") else 404
            if response.status_code != want:
                problems.append(f"{role} public result {key}: {response.status_code}, expected {want}")
        draws = client.get(reverse("api:inspection-api:public-draw-list"))
        ids = {item["id"] for item in draws.json()["results"]} if draws.status_code == 200 else set()
        if ids != {world.objects["draw"]["cc"].pk}:
            problems.append(f"{role} public draws: {draws.status_code} {sorted(ids)}")
        for key, record in world.objects["draw"].items():
            response = client.get(reverse("api:inspection-api:public-draw-detail", args=[record.pk]))
            want = 200 if key == "cc" else 404
            if response.status_code != want:
                problems.append(f"{role} public draw {key}: {response.status_code}, expected {want}")
    as_user(client, world.users, None)
    lookup = client.get(reverse("api:inspection-api:sampling-plan"))
    if lookup.status_code in (401, 403):
        problems.append(f"the public sampling-plan lookup asks for a sign-in: {lookup.status_code}")
    assert not problems, "\n".join(problems)

