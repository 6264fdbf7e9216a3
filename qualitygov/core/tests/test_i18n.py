"""Chinese by default, English switchable: the pages, the catalogue and its completeness."""

from __future__ import annotations

import ast
import csv
import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from qualitygov.core.identifiers import IdentifierError, validate_uscc

CATALOGUE = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES" / "django.po"
CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]+")
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc]")
BRACE = re.compile(r"\{(\w*)\}")


def parse_po(path: Path) -> list[dict]:
    """Entries of a .po file: flags, msgctxt, msgid, msgid_plural and msgstr / msgstr[n] (stdlib only)."""
    entries = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8").strip()):
        entry: dict = {"flags": set(), "msgstr": {}, "obsolete": False}
        key = None
        for line in block.splitlines():
            if line.startswith("#~"):
                entry["obsolete"] = True
            elif line.startswith("#,"):
                entry["flags"].update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith("#"):
                continue
            elif match := re.match(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")$", line):
                name, index, text = match.groups()
                key = ("msgstr", int(index or 0)) if name.startswith("msgstr") else name
                value = ast.literal_eval(text)
                if isinstance(key, tuple):
                    entry["msgstr"][key[1]] = value
                else:
                    entry[key] = value
            elif line.startswith('"') and key is not None:
                value = ast.literal_eval(line)
                if isinstance(key, tuple):
                    entry["msgstr"][key[1]] += value
                else:
                    entry[key] += value
        entries.append(entry)
    return entries


@pytest.fixture(autouse=True)
def _restore_default_language():
    """LocaleMiddleware leaves the request's language active in the thread; the test client runs in
    this thread, so put the default back or later tests would see English."""
    yield
    translation.deactivate()


@pytest.fixture(scope="module")
def catalogue() -> list[dict]:
    return parse_po(CATALOGUE)


@pytest.fixture
def english(client):
    """A client whose language was switched to English through the language switcher."""
    compiled = CATALOGUE.with_suffix(".mo")
    assert compiled.exists() and compiled.stat().st_mtime >= CATALOGUE.stat().st_mtime, (
        "The English catalogue is not compiled or older than django.po: run `make translations`.")
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    return client


def test_catalogue_header_is_english_and_not_fuzzy(catalogue):
    header = catalogue[0]
    assert header["msgid"] == "" and "fuzzy" not in header["flags"]
    assert "Language: en\n" in header["msgstr"][0]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header["msgstr"][0]


def test_every_entry_is_translated_with_its_placeholders(catalogue):
    entries = [e for e in catalogue[1:] if not e["obsolete"]]
    assert len(entries) > 300  # the spine alone has more; an emptied catalogue must not pass
    problems = []
    for entry in entries:
        msgid = entry["msgid"]
        forms = [entry["msgstr"].get(0, "")] if "msgid_plural" not in entry else [
            entry["msgstr"].get(0, ""), entry["msgstr"].get(1, "")]
        if "fuzzy" in entry["flags"]:
            problems.append(f"fuzzy: {msgid}")
        if not all(form.strip() for form in forms):
            problems.append(f"untranslated: {msgid}")
            continue
        for form in forms:
            # Chinese left in an English string is a translation that was not done (except the
            # quoted 是/否 an importer must type, which stay Chinese on purpose).
            if CJK.search(form.replace("“是”", "").replace("“否”", "")):
                problems.append(f"Chinese in translation: {msgid} -> {form}")
            if "python-format" in entry["flags"] and (
                    sorted(PLACEHOLDER.findall(form)) != sorted(PLACEHOLDER.findall(msgid))):
                problems.append(f"placeholders differ: {msgid} -> {form}")
            if "python-brace-format" in entry["flags"] and set(BRACE.findall(form)) != set(BRACE.findall(msgid)):
                problems.append(f"placeholders differ: {msgid} -> {form}")
    assert problems == []


@pytest.mark.django_db
def test_pages_are_chinese_by_default(client, users, login):
    page = client.get("/accounts/login/").content.decode()
    assert '<html lang="zh-CN">' in page and "登录" in page
    page = login("province").get("/").content.decode()
    assert '<html lang="zh-CN">' in page
    assert "市场主体" in page and "退出登录" in page and "Market entities" not in page


@pytest.mark.django_db
def test_login_page_switches_to_english_entirely(english):
    page = english.get("/accounts/login/").content.decode()
    assert '<html lang="en">' in page
    assert "Log in" in page and "Username" in page and "Password" in page
    # The only Chinese left is the switcher's own name for Chinese.
    assert set(CJK.findall(page)) == {"简体中文"}


@pytest.mark.django_db
def test_english_navigation_and_model_names(english, users, registry):
    assert english.login(username="province", password="test-pass-123")
    page = english.get("/").content.decode()
    assert '<html lang="en">' in page
    for label in ("Home", "Market entities", "Quality personnel", "Products", "Licences and certificates",
                  "Expiring certificates", "Audit log", "API documentation", "Log out", "Provincial officer"):
        assert label in page, label
    assert "市场主体" not in page and "退出登录" not in page

    page = english.get("/registry/entities/").content.decode()
    assert "<h1" in page and "Market entities</h1>" in page
    assert "New market entity" in page and "Unified social credit code" in page
    assert re.search(r"\b3 records\b", page)

    page = english.get(f"/registry/quality-persons/{registry['nanguan']['person'].pk}/").content.decode()
    assert "Market entity" in page and "Chief quality officer" in page

    page = english.get(f"/registry/licences/{registry['nanguan']['licence'].pk}/").content.decode()
    assert "Quality management system certification (ISO 9001)" in page and "(30 days left)" in page


@pytest.mark.django_db
def test_english_export_headers(english, users, registry):
    assert english.login(username="province", password="test-pass-123")
    response = english.get("/registry/entities/?export=csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:3] == ["Unified social credit code", "Name", "Legal representative"]
    assert "Active (operating)" in rows[1]


def test_identifier_reasons_follow_the_language():
    translation.deactivate()  # no language chosen: the default, Chinese
    with pytest.raises(IdentifierError) as chinese:
        validate_uscc("9111000060003734")
    assert "长度应为 18 位，实际为 16 位" in chinese.value.reason
    with translation.override("en"), pytest.raises(IdentifierError) as english:
        validate_uscc("9111000060003734")
    assert english.value.reason == "The unified social credit code must be 18 characters long; it has 16."
