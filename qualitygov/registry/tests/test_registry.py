"""Registry pages and rules: expiry lists, Chinese validation messages, filters, exports."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from qualitygov.conftest import make_uscc
from qualitygov.registry.models import Licence, MarketEntity, Product


@pytest.mark.django_db
def test_expiring_within_counts_days_inclusively(registry):
    today = timezone.localdate()
    entity = registry["nanguan"]["entity"]
    Licence.objects.all().delete()
    for number, days, status in [("A", 0, "valid"), ("B", 90, "valid"), ("C", 91, "valid"), ("D", -1, "valid"),
                                 ("E", 10, "suspended")]:
        Licence.objects.create(entity=entity, kind="ccc", number=number, issuer="认证机构",
                               issued_on=today - dt.timedelta(days=400), valid_until=today + dt.timedelta(days=days),
                               status=status)
    numbers = sorted(Licence.objects.expiring_within(90).values_list("number", flat=True))
    assert numbers == ["A", "B"]


@pytest.mark.django_db
def test_expiring_page_defaults_to_configured_days(registry, login, settings):
    settings.LICENCE_EXPIRY_WARNING_DAYS = 45
    page = login("province").get("/registry/licences/expiring/").content.decode()
    # Fixture licences expire in 30, 60 and 90 days: only the first is within 45.
    assert "ISO-00001" in page and "ISO-00002" not in page and "ISO-00003" not in page
    page = login("province").get("/registry/licences/expiring/?expiring_within=100").content.decode()
    assert all(f"ISO-0000{i}" in page for i in (1, 2, 3))


def _entity_form(**overrides):
    data = {"uscc": make_uscc("220102", 77), "name": "长春新测试机械有限公司", "legal_representative": "赵六",
            "region": "220102", "industry": "34", "address": "吉林省长春市南关区测试路1号", "size_class": "small",
            "registration_date": "2020-05-01", "status": "operating", "phone": ""}
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_new_entity_with_bad_uscc_shows_reason_in_chinese_and_saves_nothing(registry, login):
    client = login("nanguan")
    good = make_uscc("220102", 77)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    response = client.post("/registry/entities/add/", _entity_form(uscc=bad))
    assert response.status_code == 400
    body = response.content.decode()
    assert f"校验码不符：应为“{good[-1]}”" in body
    assert not MarketEntity.objects.filter(name="长春新测试机械有限公司").exists()
    response = client.post("/registry/entities/add/", _entity_form())
    assert response.status_code == 302
    assert MarketEntity.objects.get(uscc=good).region_id == "220102"


@pytest.mark.django_db
def test_required_fields_are_named_in_chinese(registry, login):
    response = login("nanguan").post("/registry/entities/add/", _entity_form(name="", registration_date="2020-13-01"))
    body = response.content.decode()
    assert response.status_code == 400
    assert "该字段是必填项。" in body and "输入一个有效的日期。" in body


@pytest.mark.django_db
def test_product_gtin_is_checked_and_stored_as_14_digits(registry, login):
    client = login("nanguan")
    data = {"producer": registry["nanguan"]["entity"].uscc, "name": "轮毂", "brand": "测", "model": "L1",
            "category": registry["nanguan"]["product"].category_id, "gtin": "6901234567891", "is_key": "on"}
    response = client.post("/registry/products/add/", data)
    assert response.status_code == 400 and "GTIN 校验位不符：应为“2”，实际为“1”" in response.content.decode()
    data["gtin"] = "6901234567892"
    assert client.post("/registry/products/add/", data).status_code == 302
    assert Product.objects.get(name="轮毂").gtin == "06901234567892"


@pytest.mark.django_db
def test_region_filter_includes_counties_of_a_city_and_search(registry, login):
    client = login("province")
    page = client.get("/registry/entities/?region=220100").content.decode()
    assert "测试nanguan" in page and "测试chaoyang" in page and "测试yanji" not in page
    page = client.get("/registry/entities/?q=chaoyang").content.decode()
    assert "测试chaoyang" in page and "测试nanguan" not in page
    page = client.get("/registry/entities/?q=" + registry["yanji"]["entity"].uscc[:10]).content.decode()
    assert "测试yanji" in page and "测试chaoyang" not in page


@pytest.mark.django_db
def test_sorting_and_paging(registry, login):
    client = login("province")
    page = client.get("/registry/entities/?sort=-registration_date&per_page=1").content.decode()
    # Registration dates are 2015-03-01/02/03: newest first is 延吉 (serial 3); one row per page.
    assert "测试yanji" in page and "测试chaoyang" not in page and "测试nanguan" not in page
    page = client.get("/registry/entities/?sort=-registration_date&per_page=1&page=3").content.decode()
    assert "测试nanguan" in page


@pytest.mark.django_db
def test_csv_export_opens_in_chinese_spreadsheets(registry, login):
    response = login("changchun").get("/registry/entities/?export=csv")
    raw = b"".join(response.streaming_content)
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["统一社会信用代码", "名称", "法定代表人"]
    assert sorted(r[1] for r in rows[1:]) == ["测试chaoyang汽车零部件有限公司", "测试nanguan汽车零部件有限公司"]
    assert {r[10] for r in rows[1:]} == {"存续（在营）"}


@pytest.mark.django_db
def test_xlsx_export_follows_filters(registry, login):
    response = login("province").get("/registry/products/?region=222401&export=xlsx")
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0][1] == "产品名称"
    assert [r[1] for r in rows[1:]] == ["yanji制动软管"]
    assert rows[1][-1] == "是"


@pytest.mark.django_db
def test_unknown_export_format_is_refused(registry, login):
    response = login("province").get("/registry/entities/?export=pdf")
    assert response.status_code == 400 and "不支持的导出格式" in response.content.decode()


@pytest.mark.django_db
def test_licence_dates_must_be_in_order(registry, login):
    data = {"entity": registry["nanguan"]["entity"].uscc, "kind": "ccc", "number": "2026010101000001",
            "issuer": "中国质量认证中心", "scope": "", "issued_on": "2026-01-10", "valid_until": "2025-01-10",
            "status": "valid"}
    response = login("nanguan").post("/registry/licences/add/", data)
    assert response.status_code == 400 and "有效期截止日不能早于发证日期" in response.content.decode()
    assert not Licence.objects.filter(number="2026010101000001").exists()


@pytest.mark.django_db
def test_api_rejects_bad_uscc_with_field_details(registry, client, users):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=users["nanguan"])
    payload = {**_entity_form(uscc="91220102000000019X"), "region": "220102", "industry": "34"}
    response = client.post("/api/v1/entities/", payload, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and error["status"] == 400
    assert "校验码不符" in error["details"]["uscc"][0]


@pytest.mark.django_db
def test_gtin_is_shown_as_printed_under_the_barcode(registry, login):
    product = registry["nanguan"]["product"]
    product.gtin = "06901234567892"
    product.save()
    client = login("nanguan")
    assert "<code>6901234567892</code>" in client.get(f"/registry/products/{product.pk}/").content.decode()
    assert "6901234567892" in client.get("/registry/products/").content.decode()
