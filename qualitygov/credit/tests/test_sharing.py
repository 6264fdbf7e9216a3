"""Data sharing with other departments (issue 4 item 7): keys (issued by the province administrator,
stored as a digest), key authentication, the field scope, the per-key rate limit, the entity's
shared credit file and its access log, the change feed as a partner reads it, and the daily export."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from qualitygov.credit import lists, scoring, sharing
from qualitygov.credit.models import ChangeEvent, CreditAccessLog, CreditRecord, EntityScore, Kind, SharingKey
from qualitygov.credit.services import SourceRef, record_fact

pytestmark = [pytest.mark.django_db]

OCCURRED = dt.date(2026, 6, 1)
ALL_FIELDS = list(sharing.SHARING_FIELDS)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate counters live in the cache, keyed by key id; ids may be reused between tests."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _export_dir(settings, tmp_path):
    settings.CREDIT_EXPORT_DIR = str(tmp_path / "exports")
    return tmp_path / "exports"


def issue(users, fields=ALL_FIELDS, rate=60, expires_on=None, name="金融监管局信贷查询"):
    return sharing.issue_key(name, SharingKey.Department.FINANCE, "吉林省地方金融管理局", fields, rate, expires_on,
                             users["admin"])


def api(secret: str | None = None, header: str = "authorization") -> APIClient:
    client = APIClient()
    if secret and header == "authorization":
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    elif secret:
        client.credentials(HTTP_X_API_KEY=secret)
    return client


def entity_url(entity) -> str:
    return reverse("api:sharing-api:entity", args=[entity.uscc])


def credit_file(registry):
    """nanguan: one published spot-check record, one warning-only penalty, one internal complaint, a
    listing on the abnormal-operation list, and a grade from the default model."""
    entity = registry["nanguan"]["entity"]
    published = record_fact(entity=entity, kind=Kind.SPOT_CHECK_UNQUALIFIED, occurred_on=OCCURRED,
                            source=SourceRef("inspection", "sample", "1"), summary="制动软管抽检不合格",
                            department="长春市市场监督管理局").record
    warning = record_fact(entity=entity, kind=Kind.ADMINISTRATIVE_PENALTY, occurred_on=OCCURRED,
                          source=SourceRef("enforcement", "case", "9"), summary="仅警告的处罚：标签不规范",
                          details={"penalty_types": ["warning"]}).record
    internal = record_fact(entity=entity, kind=Kind.VERIFIED_COMPLAINT, occurred_on=OCCURRED,
                           source=SourceRef("complaints", "case", "3"), summary="内部：投诉属实").record
    entry = lists.list_entity(entity, kind="abnormal_operation", grounds="未按期公示年度报告",
                              legal_basis="《企业信息公示暂行条例》第十七条", decision_number="吉长南市监异〔2026〕5号",
                              department="长春市南关区市场监督管理局", listed_on=dt.date(2026, 5, 20), user=None)
    scoring.load_default_model()
    scoring.full_rescore(as_of=dt.date(2026, 6, 30))
    return {"entity": entity, "published": published, "warning": warning, "internal": internal, "entry": entry,
            "score": EntityScore.objects.get(entity=entity)}


def has_key(data, name: str) -> bool:
    """Whether ``name`` is a key anywhere in a JSON-like structure."""
    if isinstance(data, dict):
        return name in data or any(has_key(v, name) for v in data.values())
    if isinstance(data, list):
        return any(has_key(v, name) for v in data)
    return False


# --------------------------------------------------------------------------------------------------
# Keys


def test_issue_stores_only_the_digest_and_returns_the_secret_once(users):
    key, secret = issue(users, fields=["uscc", "records", "name", "records"])
    prefix, dot, rest = secret.partition(".")
    assert dot and prefix == key.prefix and len(rest) >= 40
    stored = SharingKey.objects.get(pk=key.pk)
    assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in json.dumps(list(SharingKey.objects.filter(pk=key.pk).values())[0], default=str)
    assert stored.fields == ["name", "uscc", "records"]  # catalogue order, no duplicate
    assert (stored.issued_by, stored.active, stored.rate_limit_per_minute) == (users["admin"], True, 60)
    other_key, other = issue(users)
    assert other != secret and other_key.prefix != key.prefix


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"fields": ["uscc", "risk_class"]}, "fields"),
    ({"fields": []}, "fields"),
    ({"rate": 0}, "rate_limit_per_minute"),
    ({"expires_on": dt.date(2020, 1, 1)}, "expires_on"),
    ({"name": " "}, "name"),
])
def test_a_bad_key_is_refused_and_nothing_is_written(users, kwargs, field):
    with pytest.raises(sharing.SharingRefused) as refused:
        issue(users, **kwargs)
    assert field in refused.value.message_dict
    assert not SharingKey.objects.exists()


@pytest.mark.parametrize("role", ["province", "changchun", "enterprise", "consumer"])
def test_only_the_province_admin_issues_and_revokes(users, role):
    with pytest.raises(sharing.SharingRefused) as refused:
        sharing.issue_key("x", "finance", "某部门", ["uscc"], 10, None, users[role])
    assert refused.value.code == "not_allowed" and not SharingKey.objects.exists()
    key, _secret = issue(users)
    with pytest.raises(sharing.SharingRefused):
        sharing.revoke_key(key, users[role])
    assert SharingKey.objects.get(pk=key.pk).active


# --------------------------------------------------------------------------------------------------
# Authentication


def test_authentication_failures_are_401_in_the_error_shape(registry, users):
    entity = registry["nanguan"]["entity"]
    key, secret = issue(users)
    wrong = f"{key.prefix}.{'x' * 43}"
    cases = {"no key": api(), "wrong secret": api(wrong), "unknown prefix": api("deadbeef0000.abc"),
             "no dot": api("justgarbage"), "wrong scheme": APIClient()}
    cases["wrong scheme"].credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    for label, client in cases.items():
        response = client.get(entity_url(entity))
        assert response.status_code == 401, label
        body = response.json()["error"]
        assert body["status"] == 401 and body["code"] in ("not_authenticated", "invalid_key"), label
        assert body["message"], label
    assert api(wrong).get(entity_url(entity)).json()["error"]["code"] == "invalid_key"
    assert not CreditAccessLog.objects.exists()
    # The same secret is accepted in either header.
    assert api(secret).get(entity_url(entity)).status_code == 200
    assert api(secret, header="x-api-key").get(entity_url(entity)).status_code == 200


def test_a_signed_in_user_without_a_key_is_refused(registry, users, client):
    client.force_login(users["admin"])
    response = client.get(entity_url(registry["nanguan"]["entity"]))
    assert response.status_code == 401


def test_a_revoked_or_expired_key_stops_working(registry, users):
    entity = registry["nanguan"]["entity"]
    key, secret = issue(users)
    assert api(secret).get(entity_url(entity)).status_code == 200
    sharing.revoke_key(key, users["admin"])
    assert api(secret).get(entity_url(entity)).status_code == 401
    expiring, other = issue(users, expires_on=timezone.localdate())
    assert api(other).get(entity_url(entity)).status_code == 200  # valid through its last day
    SharingKey.objects.filter(pk=expiring.pk).update(expires_on=timezone.localdate() - dt.timedelta(days=1))
    response = api(other).get(entity_url(entity))
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_key"


# --------------------------------------------------------------------------------------------------
# The shared credit file, its scope and its access log


def test_the_credit_file_holds_public_data_only(registry, users):
    data = credit_file(registry)
    entity = data["entity"]
    _key, secret = issue(users)
    response = api(secret).get(entity_url(entity))
    assert response.status_code == 200
    body = response.json()
    assert body["fields"] == ALL_FIELDS
    shared = body["entity"]
    assert (shared["uscc"], shared["name"], shared["region"]) == (
        entity.uscc, entity.name, {"code": "220102", "name": entity.region.name})
    assert (shared["grade"], shared["grade_date"]) == (data["score"].grade, "2026-06-30")
    record_ids = {r["record"] for r in shared["records"]}
    visible = set(CreditRecord.objects.filter(entity=entity).publicly_visible().values_list("pk", flat=True))
    assert record_ids == visible
    assert data["published"].pk in record_ids
    assert data["warning"].pk not in record_ids and data["internal"].pk not in record_ids
    assert "仅警告" not in response.content.decode() and "内部" not in response.content.decode()
    assert [e["decision_number"] for e in shared["lists"]] == ["吉长南市监异〔2026〕5号"]
    assert shared["repairs"] == [] and shared["statements"] == []
    assert not has_key(body, "risk_class") and not has_key(body, "score")


def test_a_read_is_logged_with_the_key_department_and_fields(registry, users):
    entity = registry["nanguan"]["entity"]
    key, secret = issue(users, fields=["uscc", "name", "grade", "records"])
    response = api(secret).get(entity_url(entity), {"fields": "name,grade"})
    assert response.status_code == 200
    assert set(response.json()["entity"]) == {"name", "grade"}
    [entry] = CreditAccessLog.objects.all()
    assert (entry.entity, entry.key, entry.accessor, entry.channel, entry.fields) == (
        entity, key, "吉林省地方金融管理局", CreditAccessLog.Channel.SHARING_API, ["grade", "name"])
    assert SharingKey.objects.get(pk=key.pk).last_used_at is not None
    # Without fields=, all of the key's fields.
    assert set(api(secret).get(entity_url(entity)).json()["entity"]) == {"uscc", "name", "grade", "records"}
    assert CreditAccessLog.objects.count() == 2


def test_a_field_outside_the_scope_is_403_and_changes_nothing(registry, users):
    entity = registry["nanguan"]["entity"]
    key, secret = issue(users, fields=["uscc", "name"])
    response = api(secret).get(entity_url(entity), {"fields": "name,records,lists"})
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "field_not_in_scope" and error["details"] == {"fields": ["records", "lists"]}
    assert "records" in error["message"] and "lists" in error["message"]
    assert not CreditAccessLog.objects.exists()
    assert SharingKey.objects.get(pk=key.pk).last_used_at is None
    unknown = api(secret).get(entity_url(entity), {"fields": "risk_class"})
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "unknown_field"
    assert not CreditAccessLog.objects.exists()


def test_an_unknown_entity_is_404_and_not_logged(registry, users):
    _key, secret = issue(users)
    response = api(secret).get(reverse("api:sharing-api:entity", args=["91220102MA00000000"]))
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert not CreditAccessLog.objects.exists()


def test_the_rate_limit_refuses_with_429_and_logs_nothing(registry, users, monkeypatch):
    # One fixed moment, so the requests cannot straddle two windows.
    moment = dt.datetime(2026, 6, 1, 8, 0, 20, tzinfo=dt.UTC)
    monkeypatch.setattr(sharing, "_clock", lambda: moment)
    entity = registry["nanguan"]["entity"]
    key, secret = issue(users, rate=2)
    client = api(secret)
    assert [client.get(entity_url(entity)).status_code for _ in range(2)] == [200, 200]
    used = SharingKey.objects.get(pk=key.pk).last_used_at
    refused = client.get(entity_url(entity))
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "rate_limited" and "请求过于频繁" in error["message"]
    assert refused["Retry-After"] == "40"
    assert CreditAccessLog.objects.count() == 2
    assert SharingKey.objects.get(pk=key.pk).last_used_at == used
    # Another key has its own allowance; the next minute this key has a fresh one.
    _other, other_secret = issue(users, rate=2)
    assert api(other_secret).get(entity_url(entity)).status_code == 200
    monkeypatch.setattr(sharing, "_clock", lambda: moment + dt.timedelta(seconds=60))
    assert client.get(entity_url(entity)).status_code == 200


# --------------------------------------------------------------------------------------------------
# The change feed


def test_the_change_feed_pages_by_cursor(registry, users):
    entity = registry["nanguan"]["entity"]
    for n in range(5):
        record_fact(entity=entity, kind=Kind.SPOT_CHECK_UNQUALIFIED, occurred_on=OCCURRED,
                    source=SourceRef("inspection", "sample", str(n)), summary=f"第{n}批抽检不合格")
    ids = list(ChangeEvent.objects.order_by("id").values_list("id", flat=True))
    _key, secret = issue(users, fields=["uscc", "records"])
    client, url, seen, since = api(secret), reverse("api:sharing-api:changes"), [], None
    pages = 0
    while True:
        params = {"limit": 2} | ({"since": since} if since is not None else {})
        body = client.get(url, params).json()
        seen += [event["id"] for event in body["results"]]
        since, pages = body["next_cursor"], pages + 1
        if not body["has_more"]:
            break
    assert seen == ids and pages == 3 and since == ids[-1]
    # Nothing new: the same cursor comes back.
    empty = client.get(url, {"since": ids[-1]}).json()
    assert empty == {"results": [], "next_cursor": ids[-1], "has_more": False}
    # The payload names the entity by USCC; its name is not in this key's fields.
    first = client.get(url, {"limit": 1}).json()["results"][0]
    assert first["payload"]["uscc"] == entity.uscc and "name" not in first["payload"]
    assert first["payload"]["summary"] == "第0批抽检不合格" and first["kind"] == "record_published"


def test_the_change_feed_by_timestamp_and_scope(registry, users):
    data = credit_file(registry)
    _narrow, narrow = issue(users, fields=["uscc", "name", "lists"])
    _wide, wide = issue(users)
    url = reverse("api:sharing-api:changes")
    listed = api(narrow).get(url).json()["results"]
    assert [e["kind"] for e in listed] == ["listed"]  # no record events: "records" is not in its fields
    assert listed[0]["payload"]["name"] == data["entity"].name
    everything = api(wide).get(url).json()["results"]
    kinds = [e["kind"] for e in everything]
    assert "record_published" in kinds and "listed" in kinds
    assert all(str(e["payload"].get("record")) != str(data["warning"].pk) for e in everything)
    # By time: events at or after the moment.
    ChangeEvent.objects.update(occurred_at=timezone.now() - dt.timedelta(days=2))
    latest = ChangeEvent.objects.order_by("-id").first()
    ChangeEvent.objects.filter(pk=latest.pk).update(occurred_at=timezone.now())
    since = (timezone.now() - dt.timedelta(days=1)).isoformat()
    assert [e["id"] for e in api(wide).get(url, {"since": since}).json()["results"]] == [latest.pk]
    # Feed reads are logged for the entities they name.
    assert CreditAccessLog.objects.filter(entity=data["entity"], purpose="信用变动订阅").exists()


@pytest.mark.parametrize(("params", "code"), [({"since": "yesterday"}, "bad_since"), ({"since": "2026-02-30"}, "bad_since"),
                                              ({"limit": "0"}, "bad_limit"), ({"limit": "5000"}, "bad_limit"),
                                              ({"fields": "records"}, "field_not_in_scope")])
def test_bad_feed_requests(registry, users, params, code):
    _key, secret = issue(users, fields=["uscc", "lists"])
    response = api(secret).get(reverse("api:sharing-api:changes"), params)
    assert response.status_code == (403 if code == "field_not_in_scope" else 400)
    assert response.json()["error"]["code"] == code
    assert not CreditAccessLog.objects.exists()


# --------------------------------------------------------------------------------------------------
# The daily export


def test_the_daily_export_content(registry, users, _export_dir):
    data = credit_file(registry)
    day = dt.date(2026, 7, 1)
    written = sharing.write_daily_export(day)
    csv_path, csv_rows = written["csv"]
    json_path, json_rows = written["json"]
    assert csv_path == _export_dir / "credit-2026-07-01.csv" and json_path.name == "credit-2026-07-01.json"
    raw = csv_path.read_bytes()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert list(rows[0]) == list(sharing.EXPORT_COLUMNS)
    expected = set(CreditRecord.objects.publicly_visible(day).values_list("pk", flat=True))
    records = {int(r["item_id"]): r for r in rows if r["item_type"] == "record"}
    assert set(records) == expected and data["published"].pk in records
    assert data["warning"].pk not in records and data["internal"].pk not in records
    assert "仅警告" not in raw.decode("utf-8-sig") and "内部：投诉属实" not in raw.decode("utf-8-sig")
    row = records[data["published"].pk]
    assert (row["uscc"], row["name"], row["region_code"], row["grade"]) == (
        data["entity"].uscc, data["entity"].name, "220102", data["score"].grade)
    entries = [r for r in rows if r["item_type"] == "list_entry"]
    assert [(r["item_id"], r["decision_number"]) for r in entries] == [(str(data["entry"].pk), "吉长南市监异〔2026〕5号")]
    assert not any("risk" in column for column in rows[0])
    assert csv_rows == len(rows) == len(expected) + 1
    document = json.loads(json_path.read_text(encoding="utf-8"))
    assert document["date"] == "2026-07-01" and json_rows == len(document["rows"]) == csv_rows
    assert not has_key(document, "risk_class")
    assert {r["item_id"] for r in document["rows"] if r["item_type"] == "record"} == expected


def test_the_daily_export_is_idempotent_and_atomic(registry, users, _export_dir):
    credit_file(registry)
    day = dt.date(2026, 7, 1)
    first = sharing.write_daily_export(day)
    before = first["csv"][0].read_bytes()
    again = sharing.write_daily_export(day)
    assert again["csv"] == (first["csv"][0], None) and again["json"][1] is None
    assert first["csv"][0].read_bytes() == before
    rewritten = sharing.write_daily_export(day, overwrite=True)
    assert rewritten["csv"][1] == first["csv"][1] and first["csv"][0].read_bytes() == before
    assert sorted(p.name for p in _export_dir.iterdir()) == ["credit-2026-07-01.csv", "credit-2026-07-01.json"]


def test_the_export_command(registry, users, tmp_path):
    credit_file(registry)
    out = io.StringIO()
    call_command("export_credit_daily", "--date", "2026-07-01", "--dir", str(tmp_path / "cmd"), stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["date"] == "2026-07-01"
    assert summary["files"]["csv"]["rows"] == len(CreditRecord.objects.publicly_visible(dt.date(2026, 7, 1))) + 1
    assert (tmp_path / "cmd" / "credit-2026-07-01.json").is_file()


def test_exports_through_the_api(registry, users, _export_dir):
    credit_file(registry)
    sharing.write_daily_export(dt.date(2026, 7, 1))
    _key, secret = issue(users)
    client = api(secret)
    listing = client.get(reverse("api:sharing-api:exports"))
    assert listing.status_code == 200
    files = listing.json()["results"]
    assert [(f["date"], f["format"]) for f in files] == [("2026-07-01", "json"), ("2026-07-01", "csv")]
    download = client.get(reverse("api:sharing-api:export", args=["2026-07-01", "csv"]))
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert b"".join(download.streaming_content) == (_export_dir / "credit-2026-07-01.csv").read_bytes()
    missing = client.get(reverse("api:sharing-api:export", args=["2026-07-02", "json"]))
    assert missing.status_code == 404
    # A key that may not read records or lists may not download the file that holds them.
    _narrow, narrow = issue(users, fields=["uscc", "name"])
    refused = api(narrow).get(reverse("api:sharing-api:export", args=["2026-07-01", "csv"]))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "field_not_in_scope"
    assert set(refused.json()["error"]["details"]["fields"]) == {"region", "grade", "records", "lists"}
