"""Chinese is the language of every page unless the user chooses English with the switcher."""

from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_english_browser_still_gets_chinese(client):
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert page["Content-Language"] == "zh-hans"
    assert '<html lang="zh-CN">' in page.content.decode()


@pytest.mark.django_db
def test_switcher_choice_is_remembered(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302
    page = client.get("/accounts/login/")
    assert page["Content-Language"] == "en"
    assert '<html lang="en">' in page.content.decode()


@pytest.mark.django_db
def test_unknown_language_cookie_falls_back_to_chinese(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "xx"
    assert client.get("/accounts/login/")["Content-Language"] == "zh-hans"


@pytest.mark.django_db
def test_english_pages_use_english_reference_names(registry, login):
    client = login("province")
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get(f"/registry/entities/{registry['nanguan']['entity'].pk}/").content.decode()
    assert "Nanguan District" in page
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    page = client.get(f"/registry/entities/{registry['nanguan']['entity'].pk}/").content.decode()
    assert "南关区" in page and "Nanguan District" not in page


@pytest.mark.django_db
def test_audit_names_objects_in_chinese_whatever_the_editor_reads(registry, login):
    from qualitygov.core.audit import history_for

    client = login("nanguan")
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    licence = registry["nanguan"]["licence"]
    data = {"entity": licence.entity.uscc, "kind": licence.kind, "number": licence.number, "issuer": "新机构",
            "scope": "", "issued_on": licence.issued_on.isoformat(), "valid_until": licence.valid_until.isoformat(),
            "status": licence.status}
    assert client.post(f"/registry/licences/{licence.pk}/edit/", data).status_code == 302
    assert history_for(licence).first().object_repr.startswith("质量管理体系认证")
