"""Bulk import of entities, products and licences: the report, all-or-nothing, idempotence,
encodings, XLSX, region scope, and the page, API and command-line entry points."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from qualitygov.conftest import PASSWORD, make_uscc
from qualitygov.core.models import AuditLog
from qualitygov.registry import importing
from qualitygov.registry.importing import import_file, template_bytes
from qualitygov.registry.models import Licence, MarketEntity, Product

pytestmark = pytest.mark.django_db

ENTITY_HEADER = ["统一社会信用代码", "名称", "法定代表人", "区划代码", "行业代码", "住所", "企业规模", "成立日期",
                 "登记状态", "联系电话"]


def entity_row(serial: int, region: str = "220102", **changes) -> list[str]:
    row = {"uscc": make_uscc(region, serial), "name": f"吉林测试{serial}号汽车零部件有限公司", "legal": "王伟",
           "region": region, "industry": "36", "address": f"吉林省长春市南关区人民大街{serial}号", "size": "小型",
           "date": "2016-04-01", "status": "存续（在营）", "phone": "0431-88880000"}
    row.update(changes)
    return list(row.values())


def csv_bytes(rows, header=ENTITY_HEADER, encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def run(data: bytes, kind: str = "entities", user=None, name: str = "导入.csv", **options):
    return import_file(kind, io.BytesIO(data), name, user=user, **options)


def where(report) -> list[tuple]:
    return [(e["row"], e["column"]) for e in report.errors]


def import_entries():
    return AuditLog.objects.filter(action=AuditLog.Action.IMPORT)


# --- the report and all-or-nothing -------------------------------------------------------------

def test_three_bad_rows_are_all_reported_and_nothing_is_written_until_fixed(users):
    good = [entity_row(n) for n in range(1, 6)]
    bad = [list(r) for r in good]
    right_check = good[1][0][-1]
    wrong_check = "0" if right_check != "0" else "1"
    bad[1][0] = good[1][0][:-1] + wrong_check       # row 3: check character
    bad[2][3] = "229999"                             # row 4: no such region
    bad[4][7] = "2021-02-30"                         # row 6: no such date

    report = run(csv_bytes(bad), user=users["nanguan"])

    assert not report.ok
    assert where(report) == [(3, "统一社会信用代码"), (4, "区划代码"), (6, "成立日期")]
    assert f"应为“{right_check}”，实际为“{wrong_check}”" in report.errors[0]["message"]
    assert "229999" in report.errors[1]["message"]
    assert "2021-02-30" in report.errors[2]["message"]
    assert MarketEntity.objects.count() == 0
    assert report.created == report.updated == report.unchanged == 0
    assert not import_entries().exists()

    fixed = csv_bytes(good)
    report = run(fixed, user=users["nanguan"])

    assert report.ok, report.errors
    assert (report.rows, report.created, report.updated, report.unchanged) == (5, 5, 0, 0)
    assert set(MarketEntity.objects.values_list("uscc", flat=True)) == {r[0] for r in good}
    entity = MarketEntity.objects.get(uscc=good[0][0])
    assert (entity.region_id, entity.industry_id, entity.size_class, entity.status) == (
        "220102", "36", "small", "operating")
    assert entity.registration_date == dt.date(2016, 4, 1)
    entry = import_entries().get()
    assert entry.after["sha256"] == hashlib.sha256(fixed).hexdigest()
    assert (entry.after["created"], entry.username, entry.region) == (5, "nanguan", "220102")
    # Bulk writes leave one summary entry, not one per row.
    assert not AuditLog.objects.filter(action=AuditLog.Action.CREATE).exists()


def test_row_numbers_match_the_spreadsheet_when_rows_are_blank(users):
    rows = [entity_row(1), ["", "", ""], entity_row(2, date="2016.13.01")]
    report = run(csv_bytes(rows))
    assert where(report) == [(4, "成立日期")]
    assert report.rows == 2


def test_every_kind_of_cell_problem_has_a_reason(users):
    rows = [entity_row(1, legal="", size="巨型", status="倒闭", industry="99"),
            entity_row(2, region="220100", date=(dt.date.today() + dt.timedelta(days=3)).isoformat()),
            entity_row(3, uscc="91220102MA17XY8K2", name="名" * 201)]
    report = run(csv_bytes(rows))
    messages = {(e["row"], e["column"]): e["message"] for e in report.errors}
    assert "不能为空" in messages[(2, "法定代表人")]
    assert "大型、中型、小型、微型" in messages[(2, "企业规模")]
    assert "倒闭" in messages[(2, "登记状态")]
    assert "99" in messages[(2, "行业代码")]
    assert "不是县级区划" in messages[(3, "区划代码")]
    assert "晚于今天" in messages[(3, "成立日期")]
    assert "长度应为 18 位，实际为 17 位" in messages[(4, "统一社会信用代码")]
    assert "200" in messages[(4, "名称")]
    assert MarketEntity.objects.count() == 0


def test_spreadsheet_spellings_are_accepted(users):
    # Excel writes 2016/4/1, drops leading zeros of codes typed as numbers, and users pick labels.
    rows = [entity_row(1, date="2016/4/1", size="micro", status="在营"),
            entity_row(2, uscc=" " + make_uscc("220102", 2).lower() + " ", date="2016-04-01", status="注销")]
    report = run(csv_bytes(rows))
    assert report.ok, report.errors
    first = MarketEntity.objects.get(uscc=make_uscc("220102", 1))
    assert (first.registration_date, first.size_class, first.status) == (dt.date(2016, 4, 1), "micro", "operating")
    assert MarketEntity.objects.get(uscc=make_uscc("220102", 2)).status == "cancelled"


def test_text_with_tabs_backslashes_quotes_and_newlines_is_stored_exactly(users):
    address = '吉林省长春市\\南关区\t"人民大街"\n1 号，二楼'
    report = run(csv_bytes([entity_row(1, address=address, phone="")]))
    assert report.ok, report.errors
    entity = MarketEntity.objects.get()
    assert (entity.address, entity.phone) == (address, "")


def test_missing_columns_are_all_listed_in_one_file_error(users):
    header = [h for h in ENTITY_HEADER if h not in ("区划代码", "成立日期")]
    report = run(csv_bytes([["x"] * len(header)], header=header))
    assert len(report.errors) == 1
    error = report.errors[0]
    assert error["row"] == 1 and error["column"] is None
    assert "区划代码" in error["message"] and "成立日期" in error["message"]


def test_english_field_names_work_as_headers(users):
    header = ["uscc", "name", "legal_representative", "region", "industry", "address", "size_class",
              "registration_date", "status"]
    report = run(csv_bytes([entity_row(1)[:9]], header=header))
    assert report.ok, report.errors
    assert report.created == 1


def test_duplicate_keys_within_the_file_name_both_rows(users):
    rows = [entity_row(1), entity_row(2), entity_row(1, name="另一家")]
    report = run(csv_bytes(rows))
    assert where(report) == [(2, "统一社会信用代码"), (4, "统一社会信用代码")]
    assert all("第 2、4 行" in e["message"] for e in report.errors)
    assert MarketEntity.objects.count() == 0


def test_duplicates_in_different_batches_undo_the_batches_already_written(users, monkeypatch):
    monkeypatch.setattr(importing, "BATCH_SIZE", 2)
    rows = [entity_row(n) for n in range(1, 6)] + [entity_row(1)]
    report = run(csv_bytes(rows))
    assert where(report) == [(2, "统一社会信用代码"), (7, "统一社会信用代码")]
    assert MarketEntity.objects.count() == 0


def test_errors_in_a_late_batch_roll_back_the_early_ones(users, monkeypatch):
    # The last row is refused by a database check, made after the earlier batches were merged.
    assert run(csv_bytes([entity_row(9, "222401")])).ok
    monkeypatch.setattr(importing, "BATCH_SIZE", 2)
    rows = [entity_row(n) for n in range(1, 6)] + [entity_row(9, uscc=make_uscc("222401", 9))]
    report = run(csv_bytes(rows), user=users["nanguan"])
    assert where(report) == [(7, "统一社会信用代码")]
    assert list(MarketEntity.objects.values_list("region_id", flat=True)) == ["222401"]


def test_a_dry_run_counts_but_writes_nothing(users):
    data = csv_bytes([entity_row(1), entity_row(2)])
    report = run(data, dry_run=True)
    assert report.ok and report.dry_run
    assert (report.created, report.updated, report.unchanged) == (2, 0, 0)
    assert MarketEntity.objects.count() == 0
    assert not import_entries().exists()


# --- idempotence -------------------------------------------------------------------------------

def test_reimport_updates_in_place_and_counts_changes(users):
    rows = [entity_row(n) for n in range(1, 4)]
    assert run(csv_bytes(rows)).created == 3
    before = dict(MarketEntity.objects.values_list("uscc", "updated"))

    again = run(csv_bytes(rows))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)

    rows[1][1] = "吉林测试更名有限公司"
    rows[2][6] = "中型"
    changed = run(csv_bytes(rows))
    assert (changed.created, changed.updated, changed.unchanged) == (0, 2, 1)
    assert MarketEntity.objects.count() == 3
    after = dict(MarketEntity.objects.values_list("uscc", "updated"))
    assert after[rows[0][0]] == before[rows[0][0]]  # an unchanged row is not touched
    assert after[rows[1][0]] > before[rows[1][0]]
    assert MarketEntity.objects.get(uscc=rows[1][0]).name == "吉林测试更名有限公司"
    assert MarketEntity.objects.get(uscc=rows[2][0]).size_class == "medium"
    assert import_entries().count() == 3


def test_an_optional_column_left_out_keeps_existing_values(users):
    assert run(csv_bytes([entity_row(1, phone="0431-12345678")])).ok
    without_phone = csv_bytes([entity_row(1, name="新名称")[:9]], header=ENTITY_HEADER[:9])
    report = run(without_phone)
    assert report.ok and report.updated == 1
    entity = MarketEntity.objects.get()
    assert (entity.name, entity.phone) == ("新名称", "0431-12345678")


# --- encodings and formats ---------------------------------------------------------------------

@pytest.mark.parametrize("encoding", [None, "gb18030", "gbk"])
def test_gb18030_files_from_chinese_excel_are_read(users, encoding):
    data = csv_bytes([entity_row(1, name="吉林省镕鑫汽车零部件有限公司")], encoding="gb18030")
    report = run(data, encoding=encoding)
    assert report.ok, report.errors
    assert report.encoding in ("GB18030", "GBK")
    assert MarketEntity.objects.get().name == "吉林省镕鑫汽车零部件有限公司"


def test_utf8_without_bom_is_read(users):
    report = run(csv_bytes([entity_row(1)], encoding="utf-8"))
    assert report.ok and report.encoding == "UTF-8"


def test_a_wrong_explicit_encoding_is_a_clear_file_error(users):
    report = run(csv_bytes([entity_row(1)], encoding="gb18030"), encoding="utf-8")
    assert len(report.errors) == 1
    message = report.errors[0]["message"]
    assert message.startswith("文件编码不是 UTF-8：第 1 行无法解码")
    assert report.errors[0]["row"] == 1
    assert MarketEntity.objects.count() == 0

    report = run(csv_bytes([entity_row(1)], encoding="utf-8-sig"), encoding="gb18030")
    assert report.errors[0]["message"].startswith("文件编码不是 GB18030")


def test_mixed_encodings_are_refused(users):
    data = csv_bytes([entity_row(1)], encoding="utf-8") + csv_bytes([entity_row(2)], encoding="gb18030").split(
        b"\r\n", 1)[1]
    report = run(data)
    assert not report.ok
    assert "第 3 行" in report.errors[0]["message"]
    assert MarketEntity.objects.count() == 0


def test_xlsx_import_reads_typed_cells(users):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(ENTITY_HEADER)
    row = entity_row(1)
    row[3], row[4], row[7] = 220102, 36, dt.datetime(2016, 4, 1)
    sheet.append(row)
    sheet.append(entity_row(2))
    buffer = io.BytesIO()
    workbook.save(buffer)

    report = run(buffer.getvalue(), name="entities.xlsx")
    assert report.ok, report.errors
    assert (report.format, report.created) == ("xlsx", 2)
    assert MarketEntity.objects.get(uscc=make_uscc("220102", 1)).registration_date == dt.date(2016, 4, 1)


def test_legacy_xls_and_broken_xlsx_are_refused(users):
    assert "xls" in run(b"\xd0\xcf\x11\xe0" + b"\0" * 100, name="a.xls").errors[0]["message"]
    assert "XLSX" in run(b"PK\x03\x04broken", name="a.xlsx").errors[0]["message"]


# --- scope -------------------------------------------------------------------------------------

def test_a_county_officer_imports_only_in_the_county(users):
    rows = [entity_row(1, "220102"), entity_row(2, "222401")]
    report = run(csv_bytes(rows), user=users["nanguan"])
    assert where(report) == [(3, "区划代码")]
    assert "不在您的辖区内" in report.errors[0]["message"]
    assert MarketEntity.objects.count() == 0

    # A city officer covers the city's counties, not another city's.
    report = run(csv_bytes([entity_row(3, "220104"), entity_row(4, "222401")]), user=users["changchun"])
    assert where(report) == [(3, "区划代码")]


def test_an_entity_registered_elsewhere_cannot_be_moved_in_by_import(users):
    assert run(csv_bytes([entity_row(1, "222401")]), user=users["yanji"]).ok
    moved = entity_row(1, "220102", uscc=make_uscc("222401", 1))
    report = run(csv_bytes([moved]), user=users["nanguan"])
    assert where(report) == [(2, "统一社会信用代码")]
    assert MarketEntity.objects.get().region_id == "222401"


@pytest.mark.parametrize("username", ["inspector", "lab", "enterprise", "consumer"])
def test_roles_without_import_are_refused(users, username):
    with pytest.raises(PermissionDenied):
        run(csv_bytes([entity_row(1)]), user=users[username])


# --- products and licences ---------------------------------------------------------------------

PRODUCT_HEADER = ["生产者统一社会信用代码", "产品名称", "商标品牌", "规格型号", "产品类别代码", "商品条码（GTIN）",
                  "重点监管产品"]
LICENCE_HEADER = ["统一社会信用代码", "证书类型", "证书编号", "发证机关", "许可/认证范围", "发证日期", "有效期至",
                  "证书状态"]


def test_products_are_keyed_on_gtin_or_producer_name_and_model(users):
    assert run(csv_bytes([entity_row(1)])).ok
    producer = make_uscc("220102", 1)
    rows = [[producer, "制动软管", "长白", "ZD-1", "0101", "6901234567892", "是"],
            [producer, "制动软管", "长白", "ZD-2", "0101", "", "否"]]
    report = run(csv_bytes(rows, PRODUCT_HEADER), kind="products", user=users["nanguan"])
    assert report.ok, report.errors
    assert report.created == 2
    assert Product.objects.get(model="ZD-1").gtin == "06901234567892"  # stored as GTIN-14
    assert Product.objects.get(model="ZD-2").gtin is None

    rows[0][1], rows[1][2] = "汽车制动软管", "松花"
    again = run(csv_bytes(rows, PRODUCT_HEADER), kind="products")
    assert (again.created, again.updated, again.unchanged) == (0, 2, 0)
    assert Product.objects.count() == 2
    assert Product.objects.get(gtin="06901234567892").name == "汽车制动软管"


def test_product_problems_are_reported(users):
    assert run(csv_bytes([entity_row(1, "222401")])).ok
    rows = [[make_uscc("220102", 9), "甲", "", "", "0101", "6901234567893", "是"],
            [make_uscc("222401", 1), "乙", "", "", "01", "", "也许"],
            [make_uscc("222401", 1), "丙", "", "", "0101", "", ""]]
    report = run(csv_bytes(rows, PRODUCT_HEADER), kind="products", user=users["nanguan"])
    messages = {(e["row"], e["column"]): e["message"] for e in report.errors}
    assert "未找到统一社会信用代码" in messages[(2, "生产者统一社会信用代码")]
    assert "应为“2”，实际为“3”" in messages[(2, "商品条码（GTIN）")]
    assert "大类" in messages[(3, "产品类别代码")]
    assert "是" in messages[(3, "重点监管产品")]
    assert "不在您的辖区内" in messages[(4, "生产者统一社会信用代码")]
    assert Product.objects.count() == 0


def test_licences_are_keyed_on_kind_and_number(users):
    assert run(csv_bytes([entity_row(1)])).ok
    holder = make_uscc("220102", 1)
    rows = [[holder, "强制性产品认证（CCC）", "2021011101000001", "中国质量认证中心", "制动软管", "2021-01-01",
             "2026-01-01", "有效"],
            [holder, "ISO 9001", "ISO-1", "中国质量认证中心", "", "2022/3/1", "2025/2/28", "有效"]]
    report = run(csv_bytes(rows, LICENCE_HEADER), kind="licences", user=users["nanguan"])
    assert report.ok, report.errors
    assert set(Licence.objects.values_list("kind", flat=True)) == {"ccc", "iso9001"}

    rows[0][7] = "暂停"
    again = run(csv_bytes(rows, LICENCE_HEADER), kind="licences")
    assert (again.created, again.updated, again.unchanged) == (0, 1, 1)
    assert Licence.objects.get(kind="ccc").status == "suspended"

    rows[1][6] = "2021-01-01"
    report = run(csv_bytes(rows, LICENCE_HEADER), kind="licences")
    assert where(report) == [(3, "有效期至")]


def test_templates_carry_valid_example_rows(users):
    for kind, fmt in (("entities", "csv"), ("products", "xlsx"), ("licences", "csv")):
        data = template_bytes(kind, fmt)
        report = run(data, kind=kind, name=f"template.{fmt}", user=users["nanguan"])
        assert report.ok, (kind, report.errors)
        assert report.created == 1
    csv_template = template_bytes("entities", "csv")
    assert csv_template.startswith("\ufeff统一社会信用代码,名称".encode())


# --- pages, API and command line ---------------------------------------------------------------

def test_import_page_upload_flow(client, users):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.login(username="nanguan", password=PASSWORD)
    url = reverse("registry:marketentity_import")
    page = client.get(url)
    assert page.status_code == 200
    assert "统一社会信用代码" in page.content.decode()
    assert url in client.get(reverse("registry:marketentity_list")).content.decode()

    bad = csv_bytes([entity_row(1), entity_row(2, region="229999")])
    response = client.post(url, {"file": SimpleUploadedFile("bad.csv", bad)})
    assert response.status_code == 400
    html = response.content.decode()
    assert "229999" in html and "<td class=\"text-nowrap\">3</td>" in html
    assert MarketEntity.objects.count() == 0

    good = csv_bytes([entity_row(1), entity_row(2)])
    response = client.post(url, {"file": SimpleUploadedFile("good.csv", good), "dry_run": "on"})
    assert response.status_code == 200 and MarketEntity.objects.count() == 0
    response = client.post(url, {"file": SimpleUploadedFile("good.csv", good)})
    assert response.status_code == 200
    assert 'data-count="created">2<' in response.content.decode()
    assert MarketEntity.objects.count() == 2

    for fmt, content_type in (("csv", "text/csv"), ("xlsx", "application/vnd.openxmlformats")):
        download = client.get(reverse("registry:import_template", kwargs={"kind": "products", "fmt": fmt}))
        assert download.status_code == 200 and download["Content-Type"].startswith(content_type)
        assert "attachment" in download["Content-Disposition"]
    assert client.get("/registry/import/template/users.csv").status_code == 404

    client.login(username="enterprise", password=PASSWORD)
    assert client.get(url).status_code == 403


def test_api_import_answers_with_the_report_or_the_error_shape(users):
    api = APIClient()
    api.force_authenticate(users["nanguan"])
    url = "/api/v1/entities/import/"

    bad = csv_bytes([entity_row(1, industry="99"), entity_row(2)])
    response = api.post(url, {"file": _named(bad)}, format="multipart")
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["status"], error["code"]) == (400, "import_invalid")
    assert error["details"]["rows"] == [{"row": 2, "column": "行业代码", "message": report_message(bad)}]
    assert MarketEntity.objects.count() == 0

    good = csv_bytes([entity_row(1), entity_row(2)])
    response = api.post(url, {"file": _named(good), "dry_run": "true"}, format="multipart")
    assert response.status_code == 200
    assert response.json()["created"] == 2 and response.json()["dry_run"] is True
    assert MarketEntity.objects.count() == 0

    response = api.post(url, {"file": _named(good)}, format="multipart")
    assert response.status_code == 200 and response.json()["created"] == 2
    assert MarketEntity.objects.count() == 2

    missing = api.post(url, {}, format="multipart")
    assert missing.status_code == 400 and "file" in missing.json()["error"]["details"]

    api.force_authenticate(users["enterprise"])
    refused = api.post("/api/v1/products/import/", {"file": _named(good)}, format="multipart")
    assert refused.status_code == 403 and refused.json()["error"]["status"] == 403


def report_message(data: bytes) -> str:
    """The reason ``import_file`` gives for the single bad cell in ``data`` (rolled back)."""
    return run(data, dry_run=True).errors[0]["message"]


def _named(data: bytes, name: str = "entities.csv"):
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def test_cli_prints_the_report_as_json_and_fails_on_errors(users, tmp_path):
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes([entity_row(1, "222401"), entity_row(2, "220102")], encoding="gb18030"))
    out = io.StringIO()
    call_command("import_data", "entities", str(good), "--dry-run", stdout=out)
    assert json.loads(out.getvalue())["created"] == 2
    assert MarketEntity.objects.count() == 0

    out = io.StringIO()
    call_command("import_data", "entities", str(good), "--encoding", "gb18030", stdout=out)
    report = json.loads(out.getvalue())
    assert (report["ok"], report["created"], report["encoding"]) == (True, 2, "GB18030")

    out = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_data", "entities", str(good), "--user", "nanguan", stdout=out)
    assert raised.value.returncode == 1
    report = json.loads(out.getvalue())
    assert (2, "区划代码") in [(e["row"], e["column"]) for e in report["errors"]]

    with pytest.raises(CommandError):
        call_command("import_data", "entities", str(good), "--user", "nobody", stdout=io.StringIO())
