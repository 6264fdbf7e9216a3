"""Who sees what: every role × every back-office page × every API endpoint (issue 2, item 6 and
"Done when": a county officer sees only that county's entities on pages, exports and the API).

The routes under test are read from the URL resolver and the API router, so a page or endpoint
added later fails ``test_every_page_route_has_an_expectation`` / ``test_every_api_endpoint_has_an_
expectation`` until it is given one here, instead of going untested.

The expectations are written out from the rules, not computed by the code under test:

* ``VISIBLE``: which of the ``registry`` fixture's three entities (南关区 220102 and 朝阳区 220104 in
  长春市, 延吉市 222401 in 延边州) a role's scope covers, with their products, licences, quality
  persons and audit entries. County officers see their county, city officers and the inspector and
  lab staff of 长春 the whole city, province roles everything, the enterprise user its own entity.
* ``PERMISSIONS``: what each role may do with each kind of record, read from roles.py
  (DEFAULT_ROLE_ACTIONS) and the models' ``role_actions``; ``test_permission_table_matches_roles``
  holds the code to it.

Each matrix test walks all roles for one route and reports every mismatch at once.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from openpyxl import load_workbook

from qualitygov.conftest import make_uscc
from qualitygov.core.models import AuditLog, Industry, Region, User
from qualitygov.core.roles import Role, actions_for
from qualitygov.registry.models import Licence, MarketEntity, Product, QualityPerson

KEYS = ("nanguan", "chaoyang", "yanji")
REGION_KEY = {"220102": "nanguan", "220104": "chaoyang", "222401": "yanji"}
ALL = frozenset(KEYS)
CHANGCHUN = frozenset({"nanguan", "chaoyang"})

# Users of the ``users`` fixture; None is the anonymous visitor. The province administrator comes
# last so that a deletion it is allowed to make cannot change what an earlier role is checked on.
ROLES = (None, "consumer", "enterprise", "lab", "inspector", "yanji", "nanguan", "changchun", "province", "admin")
ROLE_OF = {"admin": Role.PROVINCE_ADMIN, "province": Role.PROVINCE_OFFICER, "changchun": Role.CITY_OFFICER,
           "nanguan": Role.COUNTY_OFFICER, "yanji": Role.COUNTY_OFFICER, "inspector": Role.INSPECTOR,
           "lab": Role.LAB_STAFF, "enterprise": Role.ENTERPRISE, "consumer": Role.DATA_CONSUMER}

VISIBLE: dict[str | None, frozenset[str]] = {
    None: frozenset(),
    "admin": ALL,
    "province": ALL,
    "consumer": ALL,  # a provincial department's data consumer, region 220000
    "changchun": CHANGCHUN,
    "inspector": CHANGCHUN,  # inspector and lab staff of 长春市 (220100)
    "lab": CHANGCHUN,
    "nanguan": frozenset({"nanguan"}),
    "yanji": frozenset({"yanji"}),
    "enterprise": frozenset({"nanguan"}),  # linked to the 南关区 entity
}

# Letters: V view, A add, C change, D delete, I import, E export.
OFFICER = "VACIE"
_REGISTRY_DEFAULT = {"admin": "VACDIE", "province": OFFICER, "changchun": OFFICER, "nanguan": OFFICER,
                     "yanji": OFFICER, "inspector": "VE", "lab": "V", "consumer": "V"}
PERMISSIONS: dict[str, dict[str, str]] = {
    # An enterprise reads its own file and keeps its contact details current (registry/models.py).
    "entity": {**_REGISTRY_DEFAULT, "enterprise": "VCE"},
    "product": {**_REGISTRY_DEFAULT, "enterprise": "VACE"},
    "person": {**_REGISTRY_DEFAULT, "enterprise": "VACE"},
    "licence": {**_REGISTRY_DEFAULT, "enterprise": "VE"},
    # "Officers read the history of their region; nobody edits it" — the enterprise user is left out
    # of AuditLog.role_actions on purpose (core/models.py).
    "audit": {role: "V" for role in ROLE_OF} | {"enterprise": ""},
}
MODEL_KIND = {MarketEntity: "entity", Product: "product", QualityPerson: "person", Licence: "licence",
              AuditLog: "audit"}
FIXTURE_FIELD = {"entity": "entity", "product": "product", "person": "person", "licence": "licence"}
LETTER = {"view": "V", "add": "A", "change": "C", "delete": "D", "import": "I", "export": "E"}


@pytest.fixture(autouse=True)
def _cookie_sessions(settings):
    """Sessions in signed cookies: each matrix test signs ten users in and out, and with database
    sessions that bookkeeping cost more than the requests under test. Where a session is kept has
    no bearing on what a user may see."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"


def allowed(role: str | None, kind: str, letter: str) -> bool:
    return role is not None and letter in PERMISSIONS[kind][role]


def markers(registry, key: str) -> list[str]:
    """Strings that identify the fixture records of ``key`` wherever they are shown."""
    row = registry[key]
    return [row["entity"].uscc, row["entity"].name, row["product"].name, row["licence"].number, row["person"].name]


def leaked(content: str, registry, keys) -> list[str]:
    return [m for key in keys for m in markers(registry, key) if m in content]


def audit_entries(registry) -> dict[str, AuditLog]:
    """The audit entry recording the creation of each fixture entity, by key."""
    ct = ContentType.objects.get_for_model(MarketEntity)
    return {key: AuditLog.objects.get(content_type=ct, object_id=str(registry[key]["entity"].pk), action="create")
            for key in KEYS}


def as_user(client, users, role: str | None):
    client.logout()
    if role is not None:
        client.force_login(users[role])
    return client


def _content(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def is_login_redirect(response, url: str) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("login")) \
        and "next=" in response["Location"]


# --------------------------------------------------------------------------------------------------
# Route discovery


def _walk(patterns, namespace: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = pattern.namespace or ""
            yield from _walk(pattern.url_patterns, f"{namespace}{ns}:" if ns else namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}", pattern


# Namespaces of back-office pages, and top-level names that are pages too.
PAGE_NAMESPACES = ("registry", "core")
PAGE_TOP_LEVEL = ("home",)
# Everything else the resolver knows is the API (below and test_api_errors.py), Django's own
# authentication, language and admin views.
PAGE_KINDS = ("list", "add", "detail", "edit", "delete", "history", "import")


def page_routes() -> list[tuple[str, str, str]]:
    """(url name, kind of record, kind of page) for every back-office page the resolver knows."""
    out = []
    for name, _pattern in _walk(get_resolver().url_patterns):
        if name in PAGE_TOP_LEVEL:
            out.append((name, "", "dashboard"))
            continue
        if name == "registry:import_template":
            out.append((name, "", "import_template"))
            continue
        namespace, _, local = name.partition(":")
        if namespace not in PAGE_NAMESPACES:
            continue
        model_name, _, page = local.rpartition("_")
        model = _model(namespace, model_name)
        if model is None or model not in MODEL_KIND:
            out.append((name, "?", page))
            continue
        kind = MODEL_KIND[model]
        if page == "expiring" and model is Licence:
            out.append((name, kind, "expiring"))
        else:
            out.append((name, kind, page if page in PAGE_KINDS else "?" + page))
    return out


def _model(app_label: str, model_name: str):
    try:
        return apps.get_model(app_label, model_name)
    except LookupError:
        return None


PAGE_ROUTES = page_routes()
LIST_PAGES = [r for r in PAGE_ROUTES if r[2] in ("list", "expiring")]


def test_every_page_route_has_an_expectation():
    unknown = [name for name, kind, page in PAGE_ROUTES if kind == "?" or page.startswith("?")]
    assert not unknown, f"pages without a scope expectation in test_scope.py: {unknown}"
    # And the discovery found what the issue lists, so it cannot silently find nothing.
    pages = {(kind, page) for _, kind, page in PAGE_ROUTES}
    for kind in ("entity", "product", "person", "licence"):
        for page in ("list", "add", "detail", "edit", "delete", "history"):
            assert (kind, page) in pages, (kind, page)
    assert {("licence", "expiring"), ("audit", "list"), ("audit", "detail"), ("", "dashboard")} <= pages
    assert {("entity", "import"), ("product", "import"), ("licence", "import"), ("", "import_template")} <= pages


def test_permission_table_matches_roles():
    """The intended table above is what roles.py and the models' role_actions say."""
    wrong = []
    for model, kind in MODEL_KIND.items():
        for role, letters in PERMISSIONS[kind].items():
            got = "".join(sorted(LETTER[a] for a in actions_for(ROLE_OF[role], model)))
            if got != "".join(sorted(letters)):
                wrong.append(f"{kind}/{role}: code allows {got or '-'}, intended {letters or '-'}")
    assert not wrong, "\n".join(wrong)


# --------------------------------------------------------------------------------------------------
# Pages


def _objects(registry, kind: str) -> dict[str, object]:
    if kind == "audit":
        return audit_entries(registry)
    return {key: registry[key][FIXTURE_FIELD[kind]] for key in KEYS}


def _row_keys(response, registry, kind: str) -> tuple[set[str], list]:
    """Keys of the fixture records on a list page, and any rows that are not fixture records."""
    objects = {obj.pk: key for key, obj in _objects(registry, kind).items()}
    table = response.context["table"]
    keys, strangers = set(), []
    for row in table.page.object_list if table.page else []:
        pk = row.record.pk
        if kind == "audit":
            key = REGION_KEY.get(row.record.region)
        else:
            key = objects.get(pk)
        if key is None:
            strangers.append(row.record)
        else:
            keys.add(key)
    return keys, strangers


def _export_keys(response, registry, fmt: str) -> tuple[list[str], list[list[str]]]:
    """Rows of a CSV or XLSX export, each mapped to the fixture key whose USCC it carries."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    else:
        sheet = load_workbook(io.BytesIO(body), read_only=True).worksheets[0]
        rows = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    header, data = rows[0], rows[1:]
    assert "统一社会信用代码" in "".join(header), header  # every registry export names the entity by USCC
    usccs = {registry[key]["entity"].uscc: key for key in KEYS}
    found = [next((usccs[c] for c in row if c in usccs), "?") for row in data]
    return found, data


PAGE_PARAMS = [pytest.param(name, kind, page, None, id=name) for name, kind, page in PAGE_ROUTES] + [
    pytest.param(name, kind, page, fmt, id=f"{name}-{fmt}") for name, kind, page in LIST_PAGES for fmt in ("csv", "xlsx")
]


@pytest.mark.django_db
@pytest.mark.parametrize("name,kind,page,export", PAGE_PARAMS)
def test_page_scope(client, users, registry, name, kind, page, export):
    """Every role on one page: status, rows shown, rows exported, never an out-of-scope record."""
    if kind == "?" or page.startswith("?"):
        pytest.fail(f"{name} has no expectation yet: add it to test_scope.py")
    problems: list[str] = []
    objects = _objects(registry, kind) if kind else {}
    for role in ROLES:
        as_user(client, users, role)
        visible = VISIBLE[role]
        hidden = ALL - visible
        if page in ("detail", "edit", "delete", "history"):
            letter = {"detail": "V", "history": "V", "edit": "C", "delete": "D"}[page]
            # Visitors and API-only users are turned away before any record is looked up: one will do.
            for key in KEYS if role not in (None, "consumer") else KEYS[:1]:
                url = reverse(name, args=[objects[key].pk])
                response = client.get(url)
                want = _page_status(role, kind, letter, key in visible)
                if want == "login":
                    if not is_login_redirect(response, url):
                        problems.append(f"{role} GET {url}: {response.status_code}, expected a login redirect")
                    continue
                if response.status_code != want:
                    problems.append(f"{role} GET {url} ({key}): {response.status_code}, expected {want}")
                content = _content(response)
                shown = leaked(content, registry, [key])
                if want == 200 and not shown:
                    problems.append(f"{role} GET {url}: the {key} record is not shown")
                if want != 200 and shown:
                    problems.append(f"{role} GET {url}: answer {response.status_code} shows {shown}")
                others = leaked(content, registry, hidden)
                if others:
                    problems.append(f"{role} GET {url}: shows out-of-scope {others}")
            continue
        if page == "import_template":
            problems += _check_import_templates(client, name, role)
            continue
        url = reverse(name)
        query = {"export": export} if export else {}
        response = client.get(url, query)
        if role is None:
            if not is_login_redirect(response, url):
                problems.append(f"anonymous GET {url}: {response.status_code}, expected a login redirect")
            continue
        if role == "consumer":
            if response.status_code != 403:
                problems.append(f"consumer GET {url} {query}: {response.status_code}, expected 403 (API only)")
            continue
        if page == "dashboard":
            problems += _check_dashboard(response, role, registry)
            continue
        if page in ("add", "import"):
            want = 200 if allowed(role, kind, "A" if page == "add" else "I") else 403
            if response.status_code != want:
                problems.append(f"{role} GET {url}: {response.status_code}, expected {want}")
            continue
        # list and expiring pages, and their exports
        letter = "E" if export else "V"
        if not allowed(role, kind, letter):
            if response.status_code != 403:
                problems.append(f"{role} GET {url} {query}: {response.status_code}, expected 403")
            continue
        if response.status_code != 200:
            problems.append(f"{role} GET {url} {query}: {response.status_code}, expected 200")
            continue
        if export:
            found, rows = _export_keys(response, registry, export)
            if sorted(found) != sorted(visible):
                problems.append(f"{role} {export} export of {url}: rows {sorted(found)}, expected {sorted(visible)}")
        else:
            keys, strangers = _row_keys(response, registry, kind)
            if keys != visible or strangers:
                problems.append(f"{role} GET {url}: rows {sorted(keys)} + {strangers}, expected {sorted(visible)}")
            others = leaked(_content(response), registry, hidden)
            if others:
                problems.append(f"{role} GET {url}: page shows out-of-scope {others}")
    assert not problems, "\n".join(problems)


def _page_status(role, kind: str, letter: str, in_scope: bool):
    if role is None:
        return "login"
    if role == "consumer":
        return 403
    # A record outside what the user may do is "not found": its existence is not disclosed.
    return 200 if allowed(role, kind, letter) and in_scope else 404


IMPORT_KINDS = {"entities": "entity", "products": "product", "licences": "licence"}


def _check_import_templates(client, name: str, role) -> list[str]:
    """Import templates are for those who may import that kind of record."""
    problems = []
    for import_kind, kind in IMPORT_KINDS.items():
        for fmt in ("csv", "xlsx"):
            url = reverse(name, kwargs={"kind": import_kind, "fmt": fmt})
            response = client.get(url)
            if role is None:
                if not is_login_redirect(response, url):
                    problems.append(f"anonymous GET {url}: {response.status_code}, expected a login redirect")
                continue
            want = 200 if role != "consumer" and allowed(role, kind, "I") else 403
            if response.status_code != want:
                problems.append(f"{role} GET {url}: {response.status_code}, expected {want}")
    return problems


def _check_dashboard(response, role: str, registry) -> list[str]:
    """The dashboard's counts and map cover only the user's scope."""
    problems = []
    if response.status_code != 200:
        return [f"{role} dashboard: {response.status_code}, expected 200"]
    visible = VISIBLE[role]
    ctx = response.context
    if ctx["entity_total"] != len(visible):
        problems.append(f"{role} dashboard: entity_total {ctx['entity_total']}, expected {len(visible)}")
    by_city = {row["code"]: row["value"] for row in ctx["map_data"]}
    want_cc = len(visible & CHANGCHUN)
    want_yb = int("yanji" in visible)
    if by_city.get("220100") != want_cc or by_city.get("222400") != want_yb:
        problems.append(f"{role} dashboard map: 长春 {by_city.get('220100')}, 延边 {by_city.get('222400')}; "
                        f"expected {want_cc}, {want_yb}")
    numbers = {registry[k]["licence"].number: k for k in KEYS}
    expiring = {numbers.get(lic.number, "?") for lic in ctx["expiring_soon"]}
    if expiring != visible:  # the fixture's licences all expire within 90 days
        problems.append(f"{role} dashboard expiring: {sorted(expiring)}, expected {sorted(visible)}")
    others = leaked(_content(response), registry, ALL - visible)
    if others:
        problems.append(f"{role} dashboard shows out-of-scope {others}")
    return problems


# --------------------------------------------------------------------------------------------------
# API


def _router():
    from qualitygov.api.urls import router

    return router


PUBLIC_MODELS = (Region, Industry, apps.get_model("core", "ProductCategory"))
API_ENDPOINTS = [(prefix, viewset, basename) for prefix, viewset, basename in _router().registry]
# Scoped records whose roles × endpoints matrix lives beside their module (each file named here
# enumerates the roles for that model's pages and API).
SCOPE_TESTED_ELSEWHERE = {apps.get_model("credit", "CreditRecord"): "qualitygov/credit/tests/test_ledger.py",
                          apps.get_model("credit", "ListEntry"): "qualitygov/credit/tests/test_list_pages.py"}
API_ACTIONS = ("list", "retrieve", "create", "update", "delete")
# The credit module's areas keep their roles × endpoints tables (``API_EXPECTATIONS``: URL name →
# what is checked) beside their tests.
CREDIT_API_NAMESPACES = ("credit-api", "sharing-api", "public-credit-api", "epcis", "trace-api", "recall-api",
                         "public-trace-api", "complaints-api", "public-complaints-api")
CREDIT_SCOPE_MODULES = ("qualitygov.credit.tests.test_scope_repair", "qualitygov.credit.tests.test_scope_scores",
                        "qualitygov.credit.tests.test_scope_query", "qualitygov.credit.tests.test_scope_dashboard",
                        "qualitygov.credit.tests.test_scope_sharing", "qualitygov.trace.tests.test_scope_capture",
                        "qualitygov.trace.tests.test_scope_query", "qualitygov.trace.tests.test_scope_trace",
                        "qualitygov.trace.tests.test_scope_recall", "qualitygov.trace.tests.test_scope_public",
                        "qualitygov.complaints.tests.test_scope_intake", "qualitygov.complaints.tests.test_scope_cases",
                        "qualitygov.complaints.tests.test_scope_rewards",
                        "qualitygov.complaints.tests.test_scope_statistics")


def credit_api_expectations() -> dict:
    import importlib

    table = {}
    for name in CREDIT_SCOPE_MODULES:
        table |= importlib.import_module(name).API_EXPECTATIONS
    return table


# Extra viewset actions (``@action``) and how they are checked below.
KNOWN_EXTRA_ACTIONS = {"bulk_import"}
# Non-router API URLs and where they are tested.
KNOWN_API_VIEWS = {"api:me": "test_api_me_needs_a_user", "api:check-id": "public identifier check",
                   "api:auth-token": "test_api_errors.py", "api:api-root": "DRF's browsable root",
                   "api:inspection-api:sampling-plan": "public GB/T 2828.1 table lookup, inspection/tests/test_acceptance.py"}


def test_every_api_endpoint_has_an_expectation():
    models = {viewset.queryset.model for _, viewset, _ in API_ENDPOINTS}
    unknown = [m.__name__ for m in models
               if m not in MODEL_KIND and m not in PUBLIC_MODELS and m not in SCOPE_TESTED_ELSEWHERE]
    assert not unknown, f"API endpoints without a scope expectation in test_scope.py: {unknown}"
    assert {m for m in MODEL_KIND} <= models, "every scoped kind of record has an API endpoint"
    # Extra actions of models whose matrix lives beside their module are enumerated there.
    extra = {f"{prefix}.{a.__name__}" for prefix, viewset, _ in API_ENDPOINTS for a in viewset.get_extra_actions()
             if a.__name__ not in KNOWN_EXTRA_ACTIONS and viewset.queryset.model not in SCOPE_TESTED_ELSEWHERE}
    assert not extra, f"API actions without a scope expectation in test_scope.py: {sorted(extra)}"
    router_names = {f"api:{basename}-{suffix}" for _, _, basename in API_ENDPOINTS for suffix in ("list", "detail")}
    router_names |= {f"api:{basename}-{a.url_name}" for _, viewset, basename in API_ENDPOINTS
                     for a in viewset.get_extra_actions()}
    others = {name for name, _ in _walk(get_resolver().url_patterns) if name.startswith("api:")} - router_names
    # The spot-check API has its roles × endpoints matrix beside its module: every endpoint it mounts
    # must have an entry in that file's table.
    from qualitygov.inspection.tests.test_scope_inspection import API_EXPECTATIONS as INSPECTION_API

    inspection = {name for name in others if name.startswith("api:inspection-api:")}
    untested = inspection - set(INSPECTION_API) - set(KNOWN_API_VIEWS)
    assert not untested, f"spot-check API views without an expectation in test_scope_inspection.py: {sorted(untested)}"
    others -= inspection
    # The credit module's further API (repair, scores, objections, dashboards, sharing, public query)
    # likewise: every view it mounts has an entry in one of its areas' scope tables.
    credit = {name for name in others if name.split(":")[1] in CREDIT_API_NAMESPACES}
    untested = credit - set(credit_api_expectations())
    assert not untested, f"credit API views without an expectation in {CREDIT_SCOPE_MODULES}: {sorted(untested)}"
    others -= credit
    assert not others - set(KNOWN_API_VIEWS), f"API views without an expectation: {sorted(others - set(KNOWN_API_VIEWS))}"


def _public_lookup(model) -> str:
    return {Region: "220102", Industry: "36"}.get(model) or model.objects.order_by("code").values_list(
        "code", flat=True)[0]


_NEW_SERIAL = iter(range(500, 10_000))


def _create_payload(kind: str, role: str, registry) -> tuple[dict, str]:
    """A valid new record inside ``role``'s scope, and the key of the entity it belongs to."""
    key = sorted(VISIBLE[role])[0]
    entity = registry[key]["entity"]
    serial = next(_NEW_SERIAL)
    if kind == "entity":
        region = {"changchun": "220104", "yanji": "222401"}.get(role, "220102")
        return {"uscc": make_uscc(region, serial), "name": f"新建{serial}有限公司", "legal_representative": "王五",
                "region": region, "industry": "36", "address": "吉林省某地", "registration_date": "2020-01-02",
                "status": "operating"}, REGION_KEY[region]
    if kind == "product":
        return {"producer": entity.uscc, "name": f"新产品{serial}", "category": registry[key]["product"].category_id,
                "is_key": False}, key
    if kind == "person":
        return {"entity": entity.uscc, "name": f"赵{serial}", "position": "quality_manager"}, key
    if kind == "licence":
        return {"entity": entity.uscc, "kind": "ccc", "number": f"CCC-{serial}", "issuer": "中国质量认证中心",
                "issued_on": "2024-01-01", "valid_until": "2027-01-01"}, key
    raise AssertionError(kind)


UPDATE_PAYLOAD = {"entity": {"phone": "0431-88886666"}, "product": {"brand": "改名"}, "person": {"phone": "13900000000"},
                  "licence": {"scope": "新的认证范围"}, "audit": {"message": "改写"}}


def _api_rows(response, registry, kind: str) -> tuple[set[str], list]:
    objects = {obj.pk: key for key, obj in _objects(registry, kind).items()}
    keys, strangers = set(), []
    for item in response.json()["results"]:
        key = REGION_KEY.get(item["region"]) if kind == "audit" else objects.get(item["id"])
        if key is None:
            strangers.append(item.get("id"))
        else:
            keys.add(key)
    return keys, strangers


def _is_error_shape(response, status: int) -> bool:
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return False
    return error["status"] == status and isinstance(error["message"], str) and isinstance(error["details"], dict)


API_PARAMS = [pytest.param(prefix, basename, action, id=f"{prefix}-{action}")
              for prefix, viewset, basename in API_ENDPOINTS for action in API_ACTIONS
              if viewset.queryset.model not in SCOPE_TESTED_ELSEWHERE]


@pytest.mark.django_db
@pytest.mark.parametrize("prefix,basename,action", API_PARAMS)
def test_api_scope(client, users, registry, prefix, basename, action):
    """Every role on one API endpoint and action: status, rows, and the one error shape."""
    viewset = next(v for p, v, _ in API_ENDPOINTS if p == prefix)
    model = viewset.queryset.model
    problems: list[str] = []
    if model in PUBLIC_MODELS:
        # Reference data is public and read-only.
        lookup = _public_lookup(model)
        for role in ROLES:
            as_user(client, users, role)
            response = _api_call(client, basename, action, lookup, {})
            want = 200 if action in ("list", "retrieve") else 405
            if response.status_code != want:
                problems.append(f"{role} {action} {prefix}: {response.status_code}, expected {want}")
        assert not problems, "\n".join(problems)
        return
    kind = MODEL_KIND[model]
    objects = _objects(registry, kind)
    read_only = not hasattr(viewset, "create")
    for role in ROLES:
        as_user(client, users, role)
        visible = VISIBLE[role]
        if action == "list":
            response = _api_call(client, basename, action, None, {})
            want = _api_status(role, kind, "V", True, read_only=False)
            if response.status_code != want:
                problems.append(f"{role} list {prefix}: {response.status_code}, expected {want}")
            elif want == 200:
                keys, strangers = _api_rows(response, registry, kind)
                if keys != visible or strangers:
                    problems.append(f"{role} list {prefix}: rows {sorted(keys)} + {strangers}, "
                                    f"expected {sorted(visible)}")
            elif not _is_error_shape(response, want):
                problems.append(f"{role} list {prefix}: {want} answer not in the error shape: {response.content[:200]}")
            continue
        if action == "create":
            payload, key = _create_payload(kind, role, registry) if allowed(role, kind, "A") else ({"x": 1}, None)
            before = model.objects.count()
            response = _api_call(client, basename, action, None, payload)
            want = _api_status(role, kind, "A", True, read_only)
            if response.status_code != want:
                problems.append(f"{role} create {prefix}: {response.status_code}, expected {want}: "
                                f"{response.content[:300]!r}")
            elif want != 201 and not _is_error_shape(response, want):
                problems.append(f"{role} create {prefix}: {want} answer not in the error shape")
            if model.objects.count() != before + (1 if want == 201 else 0):
                problems.append(f"{role} create {prefix}: row count {before} -> {model.objects.count()}")
            continue
        letter = {"retrieve": "V", "update": "C", "delete": "D"}[action]
        for key in KEYS:
            obj = objects[key]
            response = _api_call(client, basename, action, obj.pk, UPDATE_PAYLOAD[kind])
            want = _api_status(role, kind, letter, key in visible, read_only)
            if action == "delete" and want == 204 and kind == "entity":
                want = 409  # the entity still has products and licences (PROTECT): a conflict, nothing lost
            if response.status_code != want:
                problems.append(f"{role} {action} {prefix} {key}: {response.status_code}, expected {want}")
            elif want >= 400 and not _is_error_shape(response, want):
                problems.append(f"{role} {action} {prefix} {key}: {want} answer not in the error shape")
            body = response.content.decode()
            if want >= 400 and leaked(body, registry, [key]):
                problems.append(f"{role} {action} {prefix} {key}: the {want} answer discloses the record")
            exists = model.objects.filter(pk=obj.pk).exists()
            if exists != (want != 204):
                problems.append(f"{role} {action} {prefix} {key}: record exists={exists} after {want}")
    assert not problems, "\n".join(problems)


IMPORT_ACTIONS = [pytest.param(prefix, basename, id=f"{prefix}-import") for prefix, viewset, basename in API_ENDPOINTS
                  if "bulk_import" in {a.__name__ for a in viewset.get_extra_actions()}]


@pytest.mark.django_db
@pytest.mark.parametrize("prefix,basename", IMPORT_ACTIONS)
def test_api_import_scope(client, users, registry, prefix, basename):
    """``POST /api/v1/<kind>/import/`` is for roles that may import that kind: the others are refused
    before the upload is looked at; an allowed role sending no file gets the field error."""
    model = next(v for p, v, _ in API_ENDPOINTS if p == prefix).queryset.model
    kind = MODEL_KIND[model]
    url = reverse(f"api:{basename}-import")
    problems = []
    for role in ROLES:
        as_user(client, users, role)
        response = client.post(url, {})
        want = 401 if role is None else 400 if allowed(role, kind, "I") else 403
        if response.status_code != want or not _is_error_shape(response, want):
            problems.append(f"{role} POST {url}: {response.status_code}, expected {want} in the error shape")
        elif want == 400 and "file" not in response.json()["error"]["details"]:
            problems.append(f"{role} POST {url}: 400 without a 'file' field error")
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_api_me_needs_a_user(client, users):
    assert client.get(reverse("api:me")).status_code == 401
    for role in ("nanguan", "enterprise", "consumer"):
        as_user(client, users, role)
        body = client.get(reverse("api:me")).json()
        assert (body["username"], body["role"]) == (role, ROLE_OF[role])


def _api_status(role, kind: str, letter: str, in_scope: bool, read_only: bool) -> int:
    if role is None:
        return 401
    if not allowed(role, kind, letter):
        return 403
    if read_only and letter in "ACD":
        return 405
    if not in_scope:
        return 404
    return {"V": 200, "A": 201, "C": 200, "D": 204}[letter]


def _api_call(client, basename: str, action: str, pk, payload: dict):
    if action == "list":
        return client.get(reverse(f"api:{basename}-list"))
    if action == "create":
        return client.post(reverse(f"api:{basename}-list"), payload, content_type="application/json")
    url = reverse(f"api:{basename}-detail", args=[pk])
    if action == "retrieve":
        return client.get(url)
    if action == "update":
        return client.patch(url, payload, content_type="application/json")
    return client.delete(url)


# --------------------------------------------------------------------------------------------------
# Writes that would leave the user's scope


def _entity_form(entity: MarketEntity, **changes) -> dict:
    data = {"uscc": entity.uscc, "name": entity.name, "legal_representative": entity.legal_representative,
            "region": entity.region_id, "industry": entity.industry_id, "address": entity.address,
            "size_class": entity.size_class, "registration_date": entity.registration_date.isoformat(),
            "status": entity.status, "phone": entity.phone}
    data.update(changes)
    return data


@pytest.mark.django_db
@pytest.mark.parametrize("officer,region", [("nanguan", "222401"), ("nanguan", "220104"), ("changchun", "222401")])
def test_officer_cannot_create_entity_in_another_region(client, users, registry, officer, region):
    uscc = make_uscc(region, 7001)
    count = MarketEntity.objects.count()
    as_user(client, users, officer)
    form = _entity_form(registry["nanguan"]["entity"], uscc=uscc, name="越界新建有限公司", region=region)
    page = client.post(reverse("registry:marketentity_add"), form)
    assert page.status_code in (400, 403)
    assert "region" in page.context["form"].errors or page.context["form"].non_field_errors()
    api = client.post(reverse("api:marketentity-list"), {**form, "registration_date": "2015-03-01"},
                      content_type="application/json")
    assert api.status_code in (400, 403), api.content
    assert _is_error_shape(api, api.status_code)
    assert MarketEntity.objects.count() == count
    assert not MarketEntity.objects.filter(uscc=uscc).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("officer,key,region", [("nanguan", "nanguan", "222401"), ("nanguan", "nanguan", "220104"),
                                                ("changchun", "chaoyang", "222401")])
def test_officer_cannot_move_entity_into_another_region(client, users, registry, officer, key, region):
    entity = registry[key]["entity"]
    as_user(client, users, officer)
    page = client.post(reverse("registry:marketentity_edit", args=[entity.pk]), _entity_form(entity, region=region))
    assert page.status_code in (400, 403)
    api = client.patch(reverse("api:marketentity-detail", args=[entity.pk]), {"region": region},
                       content_type="application/json")
    assert api.status_code in (400, 403), api.content
    assert _is_error_shape(api, api.status_code)
    entity.refresh_from_db()
    assert entity.region_id == registry[key]["entity"].region.code == {v: k for k, v in REGION_KEY.items()}[key]
    # Nothing about the refused move reached the audit log either.
    ct = ContentType.objects.get_for_model(MarketEntity)
    assert not AuditLog.objects.filter(content_type=ct, object_id=str(entity.pk), action="update").exists()


@pytest.mark.django_db
def test_enterprise_cannot_touch_another_entitys_product(client, users, registry):
    as_user(client, users, "enterprise")
    other = registry["chaoyang"]["product"]
    own = registry["nanguan"]["product"]
    edit = reverse("registry:product_edit", args=[other.pk])
    assert client.get(edit).status_code == 404
    response = client.post(edit, {"producer": registry["nanguan"]["entity"].uscc, "name": "改掉", "brand": "x",
                                  "model": "y", "category": other.category_id})
    assert response.status_code == 404
    assert "chaoyang" not in response.content.decode() and other.name not in response.content.decode()
    api = client.patch(reverse("api:product-detail", args=[other.pk]), {"name": "改掉"}, content_type="application/json")
    assert api.status_code == 404 and _is_error_shape(api, 404)
    other.refresh_from_db()
    assert other.name == "chaoyang制动软管"
    # Nor hand its own product to another producer, nor make one for another entity.
    chaoyang_uscc = registry["chaoyang"]["entity"].uscc
    page = client.post(reverse("registry:product_edit", args=[own.pk]),
                       {"producer": chaoyang_uscc, "name": own.name, "brand": own.brand, "model": own.model,
                        "category": own.category_id})
    assert page.status_code == 400 and "producer" in page.context["form"].errors
    api = client.patch(reverse("api:product-detail", args=[own.pk]), {"producer": chaoyang_uscc},
                       content_type="application/json")
    assert api.status_code == 400 and "producer" in api.json()["error"]["details"]
    count = Product.objects.count()
    api = client.post(reverse("api:product-list"), {"producer": chaoyang_uscc, "name": "冒名产品",
                                                    "category": own.category_id}, content_type="application/json")
    assert api.status_code == 400 and "producer" in api.json()["error"]["details"]
    page = client.post(reverse("registry:product_add"), {"producer": chaoyang_uscc, "name": "冒名产品",
                                                         "category": own.category_id})
    assert page.status_code == 400
    own.refresh_from_db()
    assert own.producer_id == registry["nanguan"]["entity"].pk
    assert Product.objects.count() == count


REGISTERED = ("测试nanguan汽车零部件有限公司", "220102", "operating")


@pytest.mark.django_db
def test_enterprise_keeps_its_contact_details_current_on_the_page(client, users, registry):
    """An enterprise corrects its phone and address on its entity page; the registered facts (name,
    USCC, region, status) are shown but not editable there (registry/forms.py disables them)."""
    entity = registry["nanguan"]["entity"]
    as_user(client, users, "enterprise")
    page = client.post(reverse("registry:marketentity_edit", args=[entity.pk]),
                       _entity_form(entity, name="自封名称有限公司", region="222401", status="cancelled",
                                    phone="0431-12345678", address="吉林省长春市南关区新址 8 号"))
    errors = page.context["form"].errors if page.status_code != 302 else {}
    assert page.status_code == 302, f"the enterprise user could not save its contact details: {errors}"
    entity.refresh_from_db()
    assert (entity.name, entity.region_id, entity.status) == REGISTERED
    assert (entity.phone, entity.address) == ("0431-12345678", "吉林省长春市南关区新址 8 号")


@pytest.mark.django_db
def test_enterprise_cannot_rewrite_its_registered_facts_through_the_api(client, users, registry):
    """The API must hold the same line as the page: an enterprise's name, region and status come
    from registration, not from the enterprise."""
    entity = registry["nanguan"]["entity"]
    as_user(client, users, "enterprise")
    api = client.patch(reverse("api:marketentity-detail", args=[entity.pk]),
                       {"name": "自封名称有限公司", "region": "222401", "status": "cancelled"},
                       content_type="application/json")
    assert api.status_code in (200, 400, 403)
    entity.refresh_from_db()
    assert (entity.name, entity.region_id, entity.status) == REGISTERED, \
        f"the enterprise user rewrote its registered facts through the API (answer {api.status_code})"
    # Its contact details it may change.
    api = client.patch(reverse("api:marketentity-detail", args=[entity.pk]), {"phone": "0431-7654321"},
                       content_type="application/json")
    assert api.status_code == 200
    entity.refresh_from_db()
    assert entity.phone == "0431-7654321"


@pytest.mark.django_db
def test_enterprise_user_with_a_region_still_sees_no_audit_log(client, users, registry):
    """The audit log holds other companies' before/after values; an enterprise account never reads it,
    even when an administrator has given the account a region (User.clean allows that)."""
    from qualitygov.core.audit import acting_as

    with acting_as(users["admin"]):
        neighbour = MarketEntity.objects.create(
            uscc=make_uscc("220102", 9001), name="隔壁南关另一家有限公司", legal_representative="钱六",
            region_id="220102", industry_id="36", address="南关区另一地址", registration_date=dt.date(2016, 1, 1))
    user = users["enterprise"]
    user.region_id = "220102"
    user.save()
    as_user(client, users, "enterprise")
    page = client.get(reverse("core:auditlog_list"))
    api = client.get(reverse("api:auditlog-list"))
    shown = page.content.decode() + api.content.decode()
    assert neighbour.name not in shown and neighbour.uscc not in shown
    assert page.status_code == 403 and api.status_code == 403


@pytest.mark.django_db
def test_filters_cannot_widen_scope(client, users, registry):
    """Asking for another region through the shared filters gives nothing, on pages, exports and API."""
    as_user(client, users, "nanguan")
    url = reverse("registry:marketentity_list")
    page = client.get(url, {"region": "222401"})
    assert page.status_code == 200 and page.context["total"] == 0
    assert not leaked(page.content.decode(), registry, ["yanji", "chaoyang"])
    export = client.get(url, {"region": "220100", "export": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == [registry["nanguan"]["entity"].uscc]
    for region in ("220100", "222401", "220000"):
        api = client.get(reverse("api:marketentity-list"), {"region": region})
        # A region beyond the officer's county is either refused as a filter value (400 on the
        # region field) or narrowed to what the officer may see anyway: never widened.
        if api.status_code == 400:
            assert list(api.json()["error"]["details"]) == ["region"]
        else:
            assert [item["uscc"] for item in api.json()["results"]] == \
                ([registry["nanguan"]["entity"].uscc] if region != "222401" else [])
    api = client.get(reverse("api:marketentity-list"), {"uscc": registry["yanji"]["entity"].uscc})
    assert api.json()["count"] == 0
    # The partial an htmx filter request gets is scoped the same way.
    partial = client.get(url, {"q": "测试"}, headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "<html" not in partial.content.decode()
    assert not leaked(partial.content.decode(), registry, ["yanji", "chaoyang"])
    assert registry["nanguan"]["entity"].name in partial.content.decode()


@pytest.mark.django_db
def test_enterprise_sees_its_own_file(client, users, registry):
    """The enterprise user's page of its own entity carries its products, licences and quality persons,
    and nothing of the entities next door."""
    as_user(client, users, "enterprise")
    response = client.get(reverse("registry:marketentity_detail", args=[registry["nanguan"]["entity"].pk]))
    text = response.content.decode()
    row = registry["nanguan"]
    for marker in (row["product"].name, row["licence"].number, row["person"].name):
        assert marker in text
    assert not leaked(text, registry, ["chaoyang", "yanji"])
    assert response.context["product_count"] == 1


# --------------------------------------------------------------------------------------------------
# Query budget: a list page costs the same number of queries whatever its length


# Measured at 5–7 queries (session, user, count, rows, …) when this test was written; the budget
# leaves room for a little more, and the second check catches any per-row query however small.
LIST_QUERY_BUDGET = 10


@pytest.mark.django_db
@pytest.mark.parametrize("name,kind,page", [pytest.param(*r, id=r[0]) for r in LIST_PAGES])
def test_list_page_query_budget(client, users, registry, django_assert_max_num_queries, name, kind, page):
    url = reverse(name)
    as_user(client, users, "changchun")
    client.get(url)  # warm the session and content-type caches
    with django_assert_max_num_queries(LIST_QUERY_BUDGET) as few:
        assert client.get(url).status_code == 200
    _add_rows(registry, 20)
    with django_assert_max_num_queries(LIST_QUERY_BUDGET) as many:
        response = client.get(url)
    assert response.status_code == 200 and len(response.context["table"].page.object_list) >= 20
    assert len(many.captured_queries) == len(few.captured_queries), "queries grow with the rows shown (N+1)"


def _add_rows(registry, n: int) -> None:
    """``n`` more entities in 朝阳区 with a product, licence and person each (through the ORM so the
    audit log grows too)."""
    from qualitygov.core.audit import acting_as

    today = dt.date.today()
    admin = User.objects.get(username="admin")
    category = registry["chaoyang"]["product"].category_id
    with acting_as(admin):
        for i in range(n):
            entity = MarketEntity.objects.create(
                uscc=make_uscc("220104", 8000 + i), name=f"朝阳加测{i:02d}有限公司", legal_representative="孙七",
                region_id="220104", industry_id="36", address="朝阳区", registration_date=dt.date(2018, 1, 1))
            Product.objects.create(producer=entity, name=f"加测产品{i}", category_id=category)
            Licence.objects.create(entity=entity, kind="iso14001", number=f"ADD-{i}", issuer="认证中心",
                                   issued_on=today - dt.timedelta(days=10), valid_until=today + dt.timedelta(days=20))
            QualityPerson.objects.create(entity=entity, name=f"周{i}", position="cqo")
