"""The open API's contract with machine clients (issue 2, item 9 and "Bad input"): one error shape
for every 4xx answer, token authentication, pagination, the filters the pages use, and an OpenAPI
document whose browsers (Swagger UI, Redoc) load nothing from outside the server.

Error shape (core/api.py)::

    {"error": {"status": 400, "code": "invalid", "message": "…", "details": {"field": ["…"]}}}
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client
from django.urls import reverse
from stdnum import ean
from stdnum.cn import uscc as stdnum_uscc

from qualitygov.conftest import PASSWORD, make_uscc
from qualitygov.registry.models import MarketEntity, Product

ENTITIES = "/api/v1/entities/"


def error_of(response, status: int) -> dict:
    """The error body of ``response``, after checking it has the one shape and the right status."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"status", "code", "message", "details"}, error
    assert error["status"] == status
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    for field, messages in error["details"].items():
        assert isinstance(messages, list) and all(isinstance(m, str) for m in messages), (field, messages)
    return error


def _entity_payload(**changes) -> dict:
    data = {"uscc": make_uscc("220102", 4242), "name": "长春某某汽车零部件有限公司", "legal_representative": "王五",
            "region": "220102", "industry": "36", "address": "吉林省长春市南关区某路 1 号",
            "registration_date": "2019-05-06", "status": "operating"}
    data.update(changes)
    return data


def _wrong_last_char(code: str, alphabet: str) -> str:
    return code[:-1] + next(c for c in alphabet if c != code[-1])


# --------------------------------------------------------------------------------------------------
# 400


@pytest.mark.django_db
def test_invalid_uscc_is_a_field_error_naming_the_expected_check_character(client, users, registry):
    good = make_uscc("220102", 4242)
    bad = _wrong_last_char(good, "0123456789ABCDEFGHJKLMNPQRTUWXY")
    expected = stdnum_uscc.calc_check_digit(bad[:17])  # the library's answer, not ours
    client.force_login(users["nanguan"])
    error = error_of(client.post(ENTITIES, _entity_payload(uscc=bad), content_type="application/json"), 400)
    assert error["code"] == "invalid"
    assert list(error["details"]) == ["uscc"]
    (reason,) = error["details"]["uscc"]
    assert "校验码" in reason and f"应为“{expected}”" in reason and f"实际为“{bad[-1]}”" in reason
    assert not MarketEntity.objects.filter(uscc=bad).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("value,fragment", [
    ("91220102MA0000000", "长度应为 18 位，实际为 17 位"),
    ("91220102MA00000I0X", "第 16 位字符“I”不允许"),
])
def test_uscc_length_and_character_reasons(client, users, value, fragment):
    client.force_login(users["nanguan"])
    error = error_of(client.post(ENTITIES, _entity_payload(uscc=value), content_type="application/json"), 400)
    assert any(fragment in m for m in error["details"]["uscc"]), error


@pytest.mark.django_db
def test_invalid_gtin_is_a_field_error_naming_the_expected_check_digit(client, users, registry):
    body = "690123456789"
    correct = ean.calc_check_digit(body)
    wrong = str((int(correct) + 3) % 10)
    client.force_login(users["nanguan"])
    payload = {"producer": registry["nanguan"]["entity"].uscc, "name": "制动软管", "gtin": body + wrong,
               "category": registry["nanguan"]["product"].category_id}
    count = Product.objects.count()
    error = error_of(client.post("/api/v1/products/", payload, content_type="application/json"), 400)
    assert list(error["details"]) == ["gtin"]
    assert f"应为“{correct}”" in error["details"]["gtin"][0]
    assert Product.objects.count() == count
    # The same GTIN with its right check digit is stored as 14 digits.
    payload["gtin"] = body + correct
    created = client.post("/api/v1/products/", payload, content_type="application/json")
    assert created.status_code == 201 and created.json()["gtin"] == "0" + body + correct


@pytest.mark.django_db
def test_every_missing_field_is_reported(client, users):
    client.force_login(users["nanguan"])
    error = error_of(client.post(ENTITIES, {}, content_type="application/json"), 400)
    assert {"uscc", "name", "legal_representative", "region", "industry", "address",
            "registration_date"} <= set(error["details"])
    assert all(re.search(r"[\u4e00-\u9fff]", m) for msgs in error["details"].values() for m in msgs), \
        "field messages are in Chinese"


@pytest.mark.django_db
def test_bad_filter_value_is_a_field_error(client, users, registry):
    client.force_login(users["admin"])
    error = error_of(client.get(ENTITIES, {"region": "999999"}), 400)
    assert list(error["details"]) == ["region"]


# --------------------------------------------------------------------------------------------------
# 401, 403, 404, 405


@pytest.mark.django_db
def test_401_without_credentials_and_with_a_bad_token(client, users):
    response = client.get(ENTITIES)
    assert error_of(response, 401)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Token"
    response = client.get(ENTITIES, headers={"Authorization": "Token 0000000000000000000000000000000000000000"})
    assert error_of(response, 401)["code"] == "authentication_failed"


@pytest.mark.django_db
def test_403_for_a_role_that_may_not_write(client, users, registry):
    client.force_login(users["inspector"])
    error = error_of(client.post(ENTITIES, _entity_payload(), content_type="application/json"), 403)
    assert error["code"] == "permission_denied" and "权限" in error["message"]
    client.force_login(users["consumer"])
    error_of(client.patch(f"{ENTITIES}{registry['nanguan']['entity'].pk}/", {"phone": "1"},
                          content_type="application/json"), 403)


@pytest.mark.django_db
def test_404_for_out_of_scope_and_missing_records(client, users, registry):
    client.force_login(users["nanguan"])
    hidden = registry["yanji"]["entity"]
    out_of_scope = client.get(f"{ENTITIES}{hidden.pk}/")
    missing = client.get(f"{ENTITIES}99999999/")
    assert error_of(out_of_scope, 404) == error_of(missing, 404), "out of scope looks exactly like missing"
    assert hidden.name not in out_of_scope.content.decode()


@pytest.mark.django_db
def test_404_for_an_unknown_api_path_is_in_the_error_shape(client, users):
    """A client that mistypes an endpoint gets JSON it can parse, not the back office's HTML page."""
    client.force_login(users["admin"])
    error = error_of(client.get("/api/v1/no-such-endpoint/"), 404)
    assert error["code"] == "not_found"


@pytest.mark.django_db
def test_405_in_the_error_shape(client, users):
    client.force_login(users["admin"])
    error = error_of(client.post("/api/v1/regions/", {}, content_type="application/json"), 405)
    assert error["code"] == "method_not_allowed" and "POST" in error["message"]
    assert error_of(client.delete(ENTITIES), 405)["code"] == "method_not_allowed"


# --------------------------------------------------------------------------------------------------
# Token authentication


@pytest.mark.django_db
def test_token_auth_round_trip(users, registry):
    """A machine client gets a token and uses it; it is scoped like its user and needs no CSRF token."""
    client = Client(enforce_csrf_checks=True)
    response = client.post("/api/v1/auth/token/", {"username": "nanguan", "password": PASSWORD})
    assert response.status_code == 200
    token = response.json()["token"]
    assert re.fullmatch(r"[0-9a-f]{40}", token)
    auth = {"Authorization": f"Token {token}"}
    listed = client.get(ENTITIES, headers=auth)
    assert listed.status_code == 200
    assert [e["uscc"] for e in listed.json()["results"]] == [registry["nanguan"]["entity"].uscc]
    entity = registry["nanguan"]["entity"]
    changed = client.patch(f"{ENTITIES}{entity.pk}/", {"phone": "0431-85550000"}, content_type="application/json",
                           headers=auth)
    assert changed.status_code == 200
    entity.refresh_from_db()
    assert entity.phone == "0431-85550000"
    # The change is attributed to the token's user in the audit log.
    history = client.get("/api/v1/audit-log/", {"q": entity.name}, headers=auth).json()["results"]
    assert any(e["action"] == "update" and e["username"] == "nanguan" for e in history)
    # The same token cannot reach another county's records.
    error_of(client.get(f"{ENTITIES}{registry['yanji']['entity'].pk}/", headers=auth), 404)


@pytest.mark.django_db
def test_token_request_with_a_wrong_password_is_a_400(client, users):
    error = error_of(client.post("/api/v1/auth/token/", {"username": "nanguan", "password": "wrong"}), 400)
    assert "non_field_errors" in error["details"]


@pytest.mark.django_db
def test_session_write_without_csrf_is_refused(users, registry):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["nanguan"])
    entity = registry["nanguan"]["entity"]
    error_of(client.patch(f"{ENTITIES}{entity.pk}/", {"phone": "1"}, content_type="application/json"), 403)
    entity.refresh_from_db()
    assert entity.phone == ""


# --------------------------------------------------------------------------------------------------
# Pagination and filters shared with the pages


@pytest.mark.django_db
def test_pagination(client, users, registry):
    client.force_login(users["admin"])
    first = client.get(ENTITIES, {"page_size": 2}).json()
    assert first["count"] == 3 and len(first["results"]) == 2 and first["previous"] is None
    assert parse_qs(urlparse(first["next"]).query) == {"page": ["2"], "page_size": ["2"]}
    second = client.get(ENTITIES, {"page_size": 2, "page": 2}).json()
    assert len(second["results"]) == 1 and second["next"] is None and second["previous"]
    seen = {e["id"] for e in first["results"]} | {e["id"] for e in second["results"]}
    assert seen == {registry[k]["entity"].pk for k in ("nanguan", "chaoyang", "yanji")}
    error_of(client.get(ENTITIES, {"page": 99}), 404)


@pytest.mark.django_db
def test_page_size_is_capped(client, monkeypatch, settings):
    """A client may ask for bigger pages, up to the configured cap and no further."""
    from qualitygov.core.api_permissions import StandardPagination

    assert StandardPagination.max_page_size == settings.MAX_PAGE_SIZE
    monkeypatch.setattr(StandardPagination, "max_page_size", 5)
    body = client.get("/api/v1/regions/", {"page_size": 50}).json()
    assert body["count"] > 5 and len(body["results"]) == 5
    body = client.get("/api/v1/regions/", {"page_size": 3}).json()
    assert len(body["results"]) == 3


@pytest.mark.django_db
@pytest.mark.parametrize("region,keys", [("220100", {"nanguan", "chaoyang"}), ("220102", {"nanguan"}),
                                         ("222400", {"yanji"}), ("220000", {"nanguan", "chaoyang", "yanji"})])
def test_region_filter_is_shared_by_api_and_pages(client, users, registry, region, keys):
    """``?region=`` selects a division and everything inside it, with the same FilterSet on both sides."""
    client.force_login(users["admin"])
    want = {registry[k]["entity"].uscc for k in keys}
    api = client.get(ENTITIES, {"region": region}).json()
    assert {e["uscc"] for e in api["results"]} == want
    page = client.get(reverse("registry:marketentity_list"), {"region": region})
    assert {row.record.uscc for row in page.context["table"].page.object_list} == want
    products = client.get("/api/v1/products/", {"region": region}).json()
    assert {p["producer"] for p in products["results"]} == want


@pytest.mark.django_db
def test_search_and_ordering(client, users, registry):
    client.force_login(users["admin"])
    found = client.get(ENTITIES, {"q": "chaoyang"}).json()["results"]
    assert [e["uscc"] for e in found] == [registry["chaoyang"]["entity"].uscc]
    ordered = client.get(ENTITIES, {"ordering": "-registration_date"}).json()["results"]
    dates = [e["registration_date"] for e in ordered]
    assert dates == sorted(dates, reverse=True) and len(dates) == 3


# --------------------------------------------------------------------------------------------------
# The OpenAPI document and its browsers, offline


@pytest.mark.django_db
def test_schema_is_an_openapi_document(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path in ("/api/v1/entities/", "/api/v1/entities/{id}/", "/api/v1/products/", "/api/v1/licences/",
                 "/api/v1/quality-persons/", "/api/v1/audit-log/", "/api/v1/auth/token/"):
        assert path in schema["paths"], path
    assert "tokenAuth" in schema["components"]["securitySchemes"]
    params = {p["name"] for p in schema["paths"]["/api/v1/entities/"]["get"]["parameters"]}
    assert {"region", "q", "page", "page_size"} <= params


class _AssetParser(HTMLParser):
    """Every URL a page would load: script/img/iframe src, link href (stylesheets, icons, preconnects)."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "img", "iframe", "source") and attrs.get("src"):
            self.urls.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])
        self._in_script = tag == "script" and not attrs.get("src")

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.inline_scripts.append(data)


@pytest.mark.django_db
@pytest.mark.parametrize("path,bundle", [("/api/docs/", "swagger-ui-bundle.js"), ("/api/redoc/", "redoc.standalone.js")])
def test_api_browsers_load_only_local_assets(client, path, bundle):
    response = client.get(path)
    assert response.status_code == 200
    parser = _AssetParser()
    parser.feed(response.content.decode())
    assert any(url.endswith(bundle) for url in parser.urls), parser.urls
    foreign = [u for u in parser.urls if re.match(r"^(https?:)?//", u) and urlparse(u).hostname != "testserver"]
    assert not foreign, f"{path} loads assets from outside the server: {foreign}"
    in_scripts = [u for s in parser.inline_scripts for u in re.findall(r"https?://[^\s\"'`)]+", s)]
    assert not [u for u in in_scripts if urlparse(u).hostname != "testserver"], in_scripts
    for url in parser.urls:
        asset = client.get(url)
        assert asset.status_code == 200, url
