"""Roles × endpoints of the credit sharing area (issue 4 item 7).

The sharing API is for partner departments' keys only: no signed-in user of any role (session or
API token) reads it, whatever the role may see on the pages; a key reads what its fields allow.
The key pages belong to the province administrator (the province officer may look); the access
log shows an enterprise its own entity and an officer the region's entities.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from qualitygov.credit import sharing
from qualitygov.credit.access_log import record_access
from qualitygov.credit.models import CreditAccessLog, SharingKey

pytestmark = [pytest.mark.django_db]

API_EXPECTATIONS: dict[str, str] = {
    "api:sharing-api:entity": "keys only: every role signed in (session or token) and anonymous get 401; a key gets "
                              "its fields, 403 field_not_in_scope outside them",
    "api:sharing-api:changes": "keys only: every role and anonymous get 401; a key sees the events of its fields",
    "api:sharing-api:exports": "keys only: every role and anonymous get 401; a key covering the export's fields "
                               "gets the list, a narrower key 403",
    "api:sharing-api:export": "keys only: every role and anonymous get 401; a key covering the export's fields "
                              "downloads, a narrower key 403",
}

ROLES = (None, "consumer", "enterprise", "lab", "inspector", "yanji", "nanguan", "changchun", "province", "admin")


@pytest.fixture(autouse=True)
def _setup(settings, tmp_path):
    settings.CREDIT_EXPORT_DIR = str(tmp_path)
    cache.clear()
    yield
    cache.clear()


def urls(registry) -> dict[str, str]:
    return {"api:sharing-api:entity": reverse("api:sharing-api:entity", args=[registry["nanguan"]["entity"].uscc]),
            "api:sharing-api:changes": reverse("api:sharing-api:changes"),
            "api:sharing-api:exports": reverse("api:sharing-api:exports"),
            "api:sharing-api:export": reverse("api:sharing-api:export", args=["2026-07-01", "csv"])}


def test_the_table_names_every_endpoint(registry):
    assert set(urls(registry)) == set(API_EXPECTATIONS)


def test_no_signed_in_role_reads_the_sharing_api(registry, users):
    sharing.write_daily_export(dt.date(2026, 7, 1))
    wrong = []
    for role in ROLES:
        for name, url in urls(registry).items():
            session = APIClient()
            if role is not None:
                session.force_login(users[role])
            if session.get(url).status_code != 401:
                wrong.append((role, name, "session"))
            if role is not None:
                token = APIClient()
                token.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=users[role])[0].key}")
                if token.get(url).status_code != 401:
                    wrong.append((role, name, "token"))
    assert wrong == []
    assert not CreditAccessLog.objects.exists()


def test_a_key_reads_what_its_fields_allow(registry, users):
    sharing.write_daily_export(dt.date(2026, 7, 1))
    _full, full = sharing.issue_key("全量", "finance", "吉林省地方金融管理局", list(sharing.SHARING_FIELDS), 100, None,
                                    users["admin"])
    _narrow, narrow = sharing.issue_key("窄", "tax", "国家税务总局吉林省税务局", ["uscc", "name"], 100, None,
                                        users["admin"])
    expected = {("full", n): 200 for n in API_EXPECTATIONS}
    expected |= {("narrow", "api:sharing-api:entity"): 200, ("narrow", "api:sharing-api:changes"): 200,
                 ("narrow", "api:sharing-api:exports"): 403, ("narrow", "api:sharing-api:export"): 403}
    got = {}
    for label, secret in (("full", full), ("narrow", narrow)):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
        for name, url in urls(registry).items():
            got[(label, name)] = client.get(url).status_code
    assert got == expected
    # The narrow key's reads of the entity and of the (empty) feed: one log row, its fields.
    assert list(CreditAccessLog.objects.filter(key__name="窄").values_list("fields", flat=True)) == [["name", "uscc"]]


def _page_status(client, users, role, url, method="get"):
    client.logout()
    if role is not None:
        client.force_login(users[role])
    return getattr(client, method)(url).status_code


def test_key_pages_by_role(registry, users, client):
    key, _secret = sharing.issue_key("全量", "finance", "吉林省地方金融管理局", ["uscc"], 10, None, users["admin"])
    pages = {"list": reverse("credit:sharingkey_list"), "add": reverse("credit:sharingkey_add"),
             "detail": reverse("credit:sharingkey_detail", args=[key.pk])}
    # Anonymous → sign-in page; data consumers have no pages at all; only the province admin issues;
    # other roles have no VIEW on keys: the list refuses and the detail finds nothing in their scope.
    expected = {None: {"list": 302, "add": 302, "detail": 302}, "admin": {"list": 200, "add": 200, "detail": 200},
                "province": {"list": 200, "add": 403, "detail": 200},
                "consumer": {"list": 403, "add": 403, "detail": 403}}
    for role in ROLES:
        want = expected.get(role, {"list": 403, "add": 403, "detail": 404})
        got = {page: _page_status(client, users, role, url) for page, url in pages.items()}
        assert got == want, role
    revoke = reverse("credit:sharingkey_revoke", args=[key.pk])
    for role in ROLES[:-1]:
        assert _page_status(client, users, role, revoke, "post") == (302 if role is None else 403), role
        assert SharingKey.objects.get(pk=key.pk).active, role
    assert _page_status(client, users, "admin", revoke, "post") == 302
    assert not SharingKey.objects.get(pk=key.pk).active


def test_access_log_page_by_role(registry, users, client):
    """Each entity gets one entry naming its own marker accessor; a role sees exactly its scope's."""
    for key_name in ("nanguan", "chaoyang", "yanji"):
        record_access([registry[key_name]["entity"].pk], channel=CreditAccessLog.Channel.OFFICER,
                      accessor=f"查询方-{key_name}", fields=["records"])
    scope = {"admin": {"nanguan", "chaoyang", "yanji"}, "province": {"nanguan", "chaoyang", "yanji"},
             "changchun": {"nanguan", "chaoyang"}, "nanguan": {"nanguan"}, "yanji": {"yanji"},
             "enterprise": {"nanguan"}}
    url = reverse("credit:accesslog_list")
    for role in ROLES:
        client.logout()
        if role is not None:
            client.force_login(users[role])
        response = client.get(url)
        if role is None:
            assert response.status_code == 302
            continue
        if role not in scope:
            assert response.status_code == 403, role  # inspector, lab: no VIEW; consumer: no pages
            continue
        assert response.status_code == 200, role
        content = response.content.decode()
        seen = {k for k in ("nanguan", "chaoyang", "yanji") if f"查询方-{k}" in content}
        assert seen == scope[role], role
