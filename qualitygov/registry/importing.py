"""Bulk import of market entities, products and licences from CSV and XLSX files.

The one import service behind the import pages, the API and the ``qualitygov import`` command:

* **Streaming.** The file is read row by row (CSV line by line, XLSX through openpyxl's read-only
  reader); validated rows go to the database in batches, so memory stays flat however long the
  file is. Nothing keeps every row or every key in Python: duplicate keys are found by the database
  in a temporary table of (key, row) pairs.
* **Row-by-row report.** Every problem is collected with the row number the user sees in the
  spreadsheet (the header is row 1), the column header and a reason in Chinese; identifier reasons
  come from ``core.identifiers`` (length, character, expected check character).
* **All-or-nothing.** Everything happens in one transaction; any error (or a dry run) rolls it back.
* **Idempotent.** Rows are matched on their natural keys (USCC; GTIN, or producer + name + model
  without one; licence kind + number): a re-import updates in place and reports
  created / updated / unchanged counts.
* **Set-based writes.** Each batch is loaded into a temporary staging table (``COPY`` on
  PostgreSQL, ``executemany`` on SQLite) and merged with one ``UPDATE … FROM`` for rows whose
  key exists and differs and one ``INSERT … SELECT … WHERE NOT EXISTS`` for new keys. Per-object
  audit signals do not fire on such writes; one audit entry per import names the file, its SHA-256
  digest and the counts, in the same transaction.
* **Scope.** Only roles whose action table has ``import`` for the model may import, and a regional
  officer may only create or change records inside their region (``user.region_prefix``).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import queue
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from stdnum.cn import uscc as stdnum_uscc
from stdnum.ean import calc_check_digit as ean_check_digit

from qualitygov.core import audit
from qualitygov.core.identifiers import (
    REGISTRATION_AUTHORITIES,
    IdentifierError,
    org_code_check_char,
    validate_gtin,
    validate_uscc,
)
from qualitygov.core.models import Industry, ProductCategory, Region
from qualitygov.core.roles import IMPORT, actions_for
from qualitygov.core.text import join_list
from qualitygov.registry.models import Licence, MarketEntity, Product

KINDS = ("entities", "products", "licences")
FORMATS = ("csv", "xlsx")
# Rows per staging batch: large enough that per-statement costs vanish, small enough that a batch
# (a few megabytes of tuples) never matters for memory.
BATCH_SIZE = 10_000
# A report lists at most this many problems (the count of all of them is always given): a file
# whose every one of a million rows is wrong needs fixing at the source, not a million-line list.
MAX_REPORTED_ERRORS = 10_000
# Encodings a user may name; GBK and GB2312 files are read as GB18030, which contains both.
ENCODINGS = {"utf-8": "UTF-8", "utf8": "UTF-8", "utf-8-sig": "UTF-8", "gb18030": "GB18030",
             "gbk": "GBK", "gb2312": "GB2312", "cp936": "GBK"}
_CODECS = {"UTF-8": "utf-8", "GB18030": "gb18030", "GBK": "gb18030", "GB2312": "gb18030"}

_STAGE = "qg_import_stage"
_KEYS = "qg_import_keys"


class CellError(ValueError):
    """A cell's value is wrong; ``message`` is the Chinese reason shown to the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class FileLevelError(Exception):
    """The file as a whole cannot be read (encoding, format, header); the import stops."""

    def __init__(self, message: str, row: int | None = None):
        super().__init__(message)
        self.message = message
        self.row = row


@dataclass
class ImportReport:
    """What an import did or would do, and every problem found (row, column, reason)."""

    kind: str
    filename: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict] = field(default_factory=list)
    dry_run: bool = False
    error_count: int = 0
    format: str = ""
    encoding: str | None = None
    sha256: str = ""
    ignored_columns: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def errors_truncated(self) -> bool:
        return self.error_count > len(self.errors)

    def add_error(self, row: int | None, column: str | None, message: str) -> None:
        """Record one problem; past ``MAX_REPORTED_ERRORS`` only the count grows."""
        with self._lock:
            self.error_count += 1
            if len(self.errors) < MAX_REPORTED_ERRORS:
                self.errors.append({"row": row, "column": column, "message": message})

    def as_dict(self) -> dict:
        """JSON-ready form used by the API and the command line."""
        return {
            "kind": self.kind, "filename": self.filename, "format": self.format, "encoding": self.encoding,
            "sha256": self.sha256, "dry_run": self.dry_run, "ok": self.ok, "rows": self.rows,
            "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
            "error_count": self.error_count, "errors_truncated": self.errors_truncated,
            "ignored_columns": list(self.ignored_columns), "errors": list(self.errors),
        }


# --- cell parsers ------------------------------------------------------------------------------

# Shape of a USCC in storage form (GB 32100-2015 character set, positions 3–8 digits). Values of
# this shape take the fast path below; anything else goes to ``validate_uscc`` for its reason.
_USCC_SHAPE = re.compile(r"[0-9A-HJ-NP-RTUWXY]{2}[0-9]{6}[0-9A-HJ-NP-RTUWXY]{10}")


def parse_uscc(raw: str) -> str:
    """The USCC in storage form, or ``CellError`` with ``validate_uscc``'s reason.

    A million-row import checks a million codes, and ``validate_uscc`` spends most of its time
    normalising input and cross-checking with python-stdnum twice; for codes already in storage
    form this checks the same rules (authority and category table, digits, python-stdnum's check
    character) once, and hands everything else to ``validate_uscc`` so reasons stay identical.
    """
    if _USCC_SHAPE.fullmatch(raw) is not None:
        authority = REGISTRATION_AUTHORITIES.get(raw[0])
        if authority is not None and raw[1] in authority[1] and stdnum_uscc.calc_check_digit(raw[:17]) == raw[17]:
            return raw
    try:
        return validate_uscc(raw)
    except IdentifierError as exc:
        raise CellError(exc.reason) from exc


def parse_gtin(raw: str) -> str:
    """The GTIN as 14 digits, or ``CellError`` with the reason from ``validate_gtin``."""
    try:
        return validate_gtin(raw)
    except IdentifierError as exc:
        raise CellError(exc.reason) from exc


_DATE_RE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


def parse_date(raw: str) -> dt.date:
    """A date written YYYY-MM-DD; YYYY/MM/DD, YYYY/M/D (Excel's Chinese default), YYYYMMDD and
    YYYY年M月D日 are accepted too."""
    if len(raw) == 10 and raw[4] == "-" and raw[7] == "-":
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            pass
    match = _DATE_RE.fullmatch(raw)
    try:
        if match:
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
        if len(raw) == 8 and raw.isdigit():
            return dt.date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
    except ValueError:
        raise CellError(_("日期“%(value)s”不存在（请检查月份和日期）。") % {"value": raw}) from None
    raise CellError(_("日期格式无效：“%(value)s”，应为 YYYY-MM-DD（例如 2020-05-01），也可写作 YYYY/MM/DD。")
                    % {"value": raw})


def text_parser(max_length: int) -> Callable[[str], str]:
    """A text cell of at most ``max_length`` characters (the model field's limit)."""

    def parse(raw: str) -> str:
        if "\x00" in raw:
            raise CellError(_("含有不允许的控制字符（NUL）。"))
        if len(raw) > max_length:
            raise CellError(_("长度不能超过 %(max)d 个字符（实际为 %(actual)d 个）。")
                            % {"max": max_length, "actual": len(raw)})
        return raw

    return parse


def _choice_aliases(choices) -> dict[str, str]:
    """Every spelling of each choice a user may write: key, label, and the parts of “A（B）” labels."""
    aliases: dict[str, str] = {}
    for key, label in choices:
        label = str(label)
        spellings = {key, label, label.replace("（", "(").replace("）", ")")}
        match = re.fullmatch(r"(.+?)[（(](.+?)[）)]", label)
        if match:
            spellings.update({match[1], match[2]})
        for spelling in spellings:
            aliases.setdefault(spelling.strip().lower(), key)
    return aliases


def choice_parser(choices) -> Callable[[str], str]:
    """A choice written as its Chinese label or its key; the error lists the labels."""
    aliases = _choice_aliases(choices)
    labels = join_list(str(label) for _key, label in choices)

    def parse(raw: str) -> str:
        key = aliases.get(raw.lower())
        if key is None:
            key = aliases.get(raw.replace("（", "(").replace("）", ")").lower())
        if key is None:
            raise CellError(_("“%(value)s”不是有效的选项，应为：%(labels)s。") % {"value": raw, "labels": labels})
        return key

    return parse


_TRUE = {"是", "y", "yes", "true", "1", "√", "重点"}
_FALSE = {"否", "n", "no", "false", "0", "×", "一般"}


def parse_bool(raw: str) -> bool:
    value = raw.lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise CellError(_("“%(value)s”无效，应填“是”或“否”。") % {"value": raw})


def _zero_pad(raw: str, width: int) -> str:
    """Spreadsheets drop leading zeros of codes typed as numbers (01 → 1): put them back."""
    return raw.zfill(width) if raw.isdigit() and len(raw) < width else raw


@dataclass
class ImportContext:
    """What row parsing needs from the database, read once per import (reference data is small)."""

    prefix: str | None
    regions: dict[str, str]
    industries: set[str]
    categories: dict[str, bool]
    today: dt.date

    @classmethod
    def load(cls, prefix: str | None) -> ImportContext:
        return cls(
            prefix=prefix,
            regions=dict(Region.objects.values_list("code", "level")),
            industries=set(Industry.objects.filter(level=Industry.Level.DIVISION).values_list("code", flat=True)),
            categories={code: parent is not None
                        for code, parent in ProductCategory.objects.values_list("code", "parent_id")},
            today=timezone.localdate(),
        )

    def region_parser(self) -> Callable[[str], str]:
        regions, prefix = self.regions, self.prefix

        def parse(raw: str) -> str:
            level = regions.get(raw)
            if level is None:
                raise CellError(_("区划代码“%(code)s”不存在：应为本省县级行政区划的 6 位代码（GB/T 2260）。")
                                % {"code": raw})
            if level != Region.Level.COUNTY:
                raise CellError(_("区划代码“%(code)s”不是县级区划：请填写市场主体所在区县的代码。") % {"code": raw})
            if prefix is not None and not raw.startswith(prefix):
                raise CellError(_("区划代码“%(code)s”不在您的辖区内，您无权导入该区划的市场主体。") % {"code": raw})
            return raw

        return parse

    def industry_parser(self) -> Callable[[str], str]:
        industries = self.industries

        def parse(raw: str) -> str:
            code = raw.upper()
            # "C36" names the section too; accept it when the letter is the division's section.
            if len(code) == 3 and code[0].isalpha():
                code = code[1:]
            code = _zero_pad(code, 2)
            if code not in industries:
                raise CellError(_("行业代码“%(code)s”不存在：应为 GB/T 4754-2017 的两位行业大类代码（例如 36 汽车制造业）。")
                                % {"code": raw})
            return code

        return parse

    def category_parser(self) -> Callable[[str], str]:
        categories = self.categories

        def parse(raw: str) -> str:
            code = raw if len(raw) % 2 == 0 or not raw.isdigit() else "0" + raw
            is_leaf = categories.get(code)
            if is_leaf is None:
                raise CellError(_("产品类别代码“%(code)s”不存在：请使用重点监管产品目录中的类别代码。") % {"code": raw})
            if not is_leaf:
                raise CellError(_("产品类别代码“%(code)s”是大类：请填写其下的具体产品类别代码。") % {"code": raw})
            return code

        return parse


@dataclass(frozen=True)
class Column:
    """One column of an import file.

    ``field`` is the English name (accepted as a header too), ``header`` the Chinese header of the
    templates. A required column must be in the header and have a value in every row; an optional
    column may be left out of the file entirely, and then existing records keep their value.
    """

    field: str
    header: str
    parser: Callable[[ImportContext], Callable[[str], object]]
    required: bool = True
    default: object = None
    aliases: tuple[str, ...] = ()
    example: str = ""
    help: str = ""  # shown on the import page and in the XLSX template's notes (a lazy translation)


def _static(func):
    return lambda _ctx: func


def _text(model, name: str):
    return _static(text_parser(model._meta.get_field(name).max_length))


def _choices(model, name: str):
    # Built when an import starts: the labels are translated strings, not readable at import time.
    return lambda _ctx: choice_parser(model._meta.get_field(name).choices)


def _example_uscc(region: str = "220102", org_body: str = "MA17XY8K") -> str:
    """A valid USCC for the templates: enterprise (9, 1), region code, a GB 11714 organisation code."""
    body = "91" + region + org_body + org_code_check_char(org_body)
    return body + stdnum_uscc.calc_check_digit(body)


def _example_gtin(body: str = "690123456789") -> str:
    return body + ean_check_digit(body)


EXAMPLE_USCC = _example_uscc()
EXAMPLE_GTIN = _example_gtin()


def _normalise_header(value: str) -> str:
    text = (value or "").replace("\ufeff", "").strip().rstrip("*＊").strip()
    return text.replace("（", "(").replace("）", ")").replace(" ", "").replace("\u3000", "").lower()


# --- the three kinds ---------------------------------------------------------------------------

class Importer:
    """What differs between kinds: columns, the staging table, row assembly, checks and merge."""

    kind: str
    model: type
    columns: list[Column]
    # Staging table columns after (row_no, nk), with their SQL types.
    stage_columns: list[tuple[str, str]]
    # Target columns written from the staging table (same names there).
    target_columns: list[str]

    def __init__(self, ctx: ImportContext, present: set[str]):
        self.ctx = ctx
        self.present = present

    # Row assembly: ``values`` holds the parsed cells in column order (None where a cell failed).
    def stage_row(self, row_no: int, values: list, error: Callable[[int, str, str], None]) -> tuple:
        """The staging tuple of one row; cross-column problems go to ``error(row_no, column, message)``."""
        raise NotImplementedError

    def check_batch(self, db: _Database, error: Callable[[int, str, str], None]) -> None:
        """Checks against the database for the batch now in the staging table."""

    def update_columns(self) -> list[str]:
        """Columns a re-import overwrites: optional columns left out of the file keep their value."""
        optional = {c.field: c for c in self.columns if not c.required}
        return [name for name in self.target_columns
                if self._column_field(name) not in optional or self._column_field(name) in self.present]

    def _column_field(self, target: str) -> str:
        return target.removesuffix("_id")

    def match_variants(self) -> list[tuple[str, str | None, str]]:
        """How staging rows find their record: (filter on staging row ``s``, the unique column(s) the
        database can upsert on or None, condition matching target row ``t`` to ``s``)."""
        raise NotImplementedError

    def duplicate_message(self, nk: str, rows: list[int]) -> tuple[str, str]:
        raise NotImplementedError

    @property
    def scope_param(self) -> str:
        """LIKE pattern of the region codes inside the user's scope (codes are digits: nothing to escape)."""
        return f"{self.ctx.prefix}%"


def _rows_text(rows: list[int]) -> str:
    return join_list(str(r) for r in rows)


class EntityImporter(Importer):
    kind = "entities"
    model = MarketEntity

    columns = [
        Column("uscc", "统一社会信用代码", _static(parse_uscc), example=EXAMPLE_USCC,
               help=gettext_lazy("18 位（GB 32100），校验码须正确")),
        Column("name", "名称", _text(MarketEntity, "name"), example="长春示例汽车零部件有限公司"),
        Column("legal_representative", "法定代表人", _text(MarketEntity, "legal_representative"), example="张三"),
        Column("region", "区划代码", lambda ctx: ctx.region_parser(), aliases=("所在区划代码", "行政区划代码"),
               example="220102", help=gettext_lazy("县级行政区划 6 位代码（GB/T 2260），须在您的辖区内")),
        Column("industry", "行业代码", lambda ctx: ctx.industry_parser(), aliases=("所属行业代码",), example="36",
               help=gettext_lazy("GB/T 4754-2017 两位行业大类代码")),
        Column("address", "住所", _text(MarketEntity, "address"), example="吉林省长春市南关区示例路 1 号"),
        Column("size_class", "企业规模", _choices(MarketEntity, "size_class"), example="小型",
               help=gettext_lazy("大型、中型、小型、微型")),
        Column("registration_date", "成立日期", lambda ctx: _not_after(ctx.today), example="2015-06-18",
               help=gettext_lazy("YYYY-MM-DD（也可写作 YYYY/MM/DD）")),
        Column("status", "登记状态", _choices(MarketEntity, "status"), example="存续（在营）",
               help=gettext_lazy("存续（在营）、停业、吊销、注销")),
        Column("phone", "联系电话", _text(MarketEntity, "phone"), required=False, default="",
               example="0431-88888888"),
    ]
    stage_columns = [("uscc", "text"), ("name", "text"), ("legal_representative", "text"), ("region_id", "text"),
                     ("industry_id", "text"), ("address", "text"), ("size_class", "text"),
                     ("registration_date", "date"), ("status", "text"), ("phone", "text")]
    target_columns = ["uscc", "name", "legal_representative", "region_id", "industry_id", "address", "size_class",
                      "registration_date", "status", "phone"]

    def stage_row(self, row_no, values, error):
        uscc, name, legal, region, industry, address, size, date, status, phone = values
        return (row_no, uscc, uscc, name, legal, region, industry, address, size,
                date.isoformat() if date is not None else None, status, phone)

    def check_batch(self, db, error):
        if self.ctx.prefix is None:
            return
        # An entity registered outside the user's region cannot be moved or changed by their import.
        # A scalar subquery is one index lookup per staging row; a join could be planned as a scan of
        # the whole (growing) table for every batch.
        region = f"(SELECT t.region_id FROM {db.table(MarketEntity)} t WHERE t.uscc = s.uscc)"
        sql = f"SELECT s.row_no FROM {_STAGE} s WHERE {region} NOT LIKE %s"
        for (row_no,) in db.fetch(sql, [self.scope_param]):
            error(row_no, "统一社会信用代码", _("该市场主体已在您的辖区以外登记，您无权通过导入修改。"))

    def match_variants(self):
        return [("1 = 1", "uscc", "t.uscc = s.uscc")]

    def duplicate_message(self, nk, rows):
        return "统一社会信用代码", _("统一社会信用代码“%(key)s”在文件中重复出现：第 %(rows)s 行。") % {
            "key": nk, "rows": _rows_text(rows)}


def _not_after(today: dt.date) -> Callable[[str], dt.date]:
    def parse(raw: str) -> dt.date:
        value = parse_date(raw)
        if value > today:
            raise CellError(_("日期“%(value)s”晚于今天。") % {"value": raw})
        return value

    return parse


class _EntityRefMixin:
    """Products and licences name their entity by USCC; it must be registered and in scope."""

    ref_uscc: str  # staging column with the USCC
    ref_id: str    # staging column filled with the entity's id
    ref_header: str

    def resolve_entities(self, db: _Database, error) -> None:
        entity = db.table(MarketEntity)
        db.execute(f"UPDATE {_STAGE} SET {self.ref_id} = "
                   f"(SELECT e.id FROM {entity} e WHERE e.uscc = {_STAGE}.{self.ref_uscc})")
        for row_no, uscc in db.fetch(f"SELECT row_no, {self.ref_uscc} FROM {_STAGE} "
                                     f"WHERE {self.ref_id} IS NULL AND {self.ref_uscc} IS NOT NULL"):
            error(row_no, self.ref_header,
                  _("未找到统一社会信用代码为“%(uscc)s”的市场主体：请先登记或导入该市场主体。") % {"uscc": uscc})
        if self.ctx.prefix is not None:
            region = f"(SELECT e.region_id FROM {entity} e WHERE e.id = s.{self.ref_id})"
            sql = f"SELECT s.row_no FROM {_STAGE} s WHERE {region} NOT LIKE %s"
            for (row_no,) in db.fetch(sql, [self.scope_param]):
                error(row_no, self.ref_header, _("该市场主体不在您的辖区内，您无权为其导入数据。"))


class ProductImporter(_EntityRefMixin, Importer):
    kind = "products"
    model = Product
    ref_uscc, ref_id, ref_header = "producer_uscc", "producer_id", "生产者统一社会信用代码"

    columns = [
        Column("producer", "生产者统一社会信用代码", _static(parse_uscc), aliases=("生产者代码",),
               example=EXAMPLE_USCC, help=gettext_lazy("已登记的市场主体")),
        Column("name", "产品名称", _text(Product, "name"), example="汽车制动软管"),
        Column("brand", "商标品牌", _text(Product, "brand"), required=False, default="", example="示例"),
        Column("model", "规格型号", _text(Product, "model"), required=False, default="", example="ZD-10"),
        Column("category", "产品类别代码", lambda ctx: ctx.category_parser(), aliases=("类别代码",), example="0101",
               help=gettext_lazy("重点监管产品目录的具体类别代码")),
        Column("gtin", "商品条码（GTIN）", _static(parse_gtin), required=False, default=None,
               aliases=("商品条码", "GTIN", "条码"), example=EXAMPLE_GTIN, help=gettext_lazy("8、12、13 或 14 位，可不填")),
        Column("is_key", "重点监管产品", _static(parse_bool), required=False, default=False, example="是",
               help=gettext_lazy("是 / 否")),
    ]
    stage_columns = [("producer_uscc", "text"), ("producer_id", "bigint"), ("name", "text"), ("brand", "text"),
                     ("model", "text"), ("category_id", "text"), ("gtin", "text"), ("is_key", "boolean")]
    target_columns = ["producer_id", "name", "brand", "model", "category_id", "gtin", "is_key"]

    def stage_row(self, row_no, values, error):
        producer, name, brand, model, category, gtin, is_key = values
        if gtin is not None:
            nk = "g" + gtin
        elif producer is not None and name is not None and model is not None:
            nk = "p" + "\x1f".join((producer, name, model))
        else:
            nk = None
        return (row_no, nk, producer, None, name, brand, model, category, gtin, is_key)

    def check_batch(self, db, error):
        self.resolve_entities(db, error)
        if self.ctx.prefix is not None:
            region = (f"(SELECT e.region_id FROM {db.table(Product)} t JOIN {db.table(MarketEntity)} e "
                      f"ON e.id = t.producer_id WHERE t.gtin = s.gtin)")
            sql = f"SELECT s.row_no FROM {_STAGE} s WHERE s.gtin IS NOT NULL AND {region} NOT LIKE %s"
            for (row_no,) in db.fetch(sql, [self.scope_param]):
                error(row_no, "商品条码（GTIN）", _("该商品条码已登记在您辖区以外的生产者名下，您无权通过导入修改。"))

    def match_variants(self):
        # The natural key is the GTIN where there is one, else producer + name + model.
        # No unique constraint covers producer + name + model, so those rows are matched, not upserted.
        return [("s.gtin IS NOT NULL", "gtin", "t.gtin = s.gtin"),
                ("s.gtin IS NULL", None, "t.gtin IS NULL AND t.producer_id = s.producer_id AND t.name = s.name "
                                         "AND t.model = s.model")]

    def duplicate_message(self, nk, rows):
        if nk.startswith("g"):
            return "商品条码（GTIN）", _("商品条码“%(key)s”在文件中重复出现：第 %(rows)s 行。") % {
                "key": nk[1:], "rows": _rows_text(rows)}
        producer, name, model = nk[1:].split("\x1f")
        return "产品名称", _("同一生产者的产品“%(name)s %(model)s”（无商品条码）在文件中重复出现：第 %(rows)s 行。") % {
            "name": name, "model": model, "rows": _rows_text(rows)}


class LicenceImporter(_EntityRefMixin, Importer):
    kind = "licences"
    model = Licence
    ref_uscc, ref_id, ref_header = "entity_uscc", "entity_id", "统一社会信用代码"

    columns = [
        Column("entity", "统一社会信用代码", _static(parse_uscc), aliases=("持证主体统一社会信用代码",),
               example=EXAMPLE_USCC, help=gettext_lazy("已登记的持证市场主体")),
        Column("kind", "证书类型", _choices(Licence, "kind"), example="工业产品生产许可证",
               help=gettext_lazy("工业产品生产许可证、食品生产许可证、强制性产品认证（CCC）、ISO 9001/14001/45001、IATF 16949、特种设备生产许可证、其他")),
        Column("number", "证书编号", _text(Licence, "number"), example="XK06-014-00123"),
        Column("issuer", "发证机关", _text(Licence, "issuer"), example="吉林省市场监督管理局"),
        Column("scope", "许可/认证范围", _static(text_parser(2000)), required=False, default="",
               aliases=("许可范围", "认证范围"), example="汽车制动软管"),
        Column("issued_on", "发证日期", _static(parse_date), example="2023-03-01"),
        Column("valid_until", "有效期至", _static(parse_date), example="2028-02-29"),
        Column("status", "证书状态", _choices(Licence, "status"), example="有效",
               help=gettext_lazy("有效、暂停、撤销、过期、注销")),
    ]
    stage_columns = [("entity_uscc", "text"), ("entity_id", "bigint"), ("kind", "text"), ("number", "text"),
                     ("issuer", "text"), ("scope", "text"), ("issued_on", "date"), ("valid_until", "date"),
                     ("status", "text")]
    target_columns = ["entity_id", "kind", "number", "issuer", "scope", "issued_on", "valid_until", "status"]

    def stage_row(self, row_no, values, error):
        entity, kind, number, issuer, scope, issued, until, status = values
        if issued is not None and until is not None and until < issued:
            error(row_no, "有效期至", _("有效期截止日不能早于发证日期。"))
        nk = f"{kind}\x1f{number}" if kind is not None and number is not None else None
        return (row_no, nk, entity, None, kind, number, issuer, scope,
                issued.isoformat() if issued else None, until.isoformat() if until else None, status)

    def check_batch(self, db, error):
        self.resolve_entities(db, error)
        if self.ctx.prefix is not None:
            region = (f"(SELECT e.region_id FROM {db.table(Licence)} t JOIN {db.table(MarketEntity)} e "
                      f"ON e.id = t.entity_id WHERE t.kind = s.kind AND t.number = s.number)")
            sql = f"SELECT s.row_no FROM {_STAGE} s WHERE {region} NOT LIKE %s"
            for (row_no,) in db.fetch(sql, [self.scope_param]):
                error(row_no, "证书编号", _("该证书已登记在您辖区以外的市场主体名下，您无权通过导入修改。"))

    def match_variants(self):
        return [("1 = 1", "kind, number", "t.kind = s.kind AND t.number = s.number")]

    def duplicate_message(self, nk, rows):
        kind, number = nk.split("\x1f")
        return "证书编号", _("%(kind)s“%(number)s”在文件中重复出现：第 %(rows)s 行。") % {
            "kind": Licence.Kind(kind).label, "number": number, "rows": _rows_text(rows)}


IMPORTERS: dict[str, type[Importer]] = {"entities": EntityImporter, "products": ProductImporter,
                                        "licences": LicenceImporter}
MODELS = {kind: cls.model for kind, cls in IMPORTERS.items()}


def columns_for(kind: str) -> list[Column]:
    """The columns of an import file of ``kind``, in template order."""
    return IMPORTERS[kind].columns


def may_import(user, kind: str) -> bool:
    """Whether ``user`` may import ``kind`` (None is the system, which may)."""
    if user is None:
        return True
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_superuser or IMPORT in actions_for(user.role, MODELS[kind])


# --- the database side -------------------------------------------------------------------------

class _Database:
    """Staging tables and set-based statements, with the few differences of SQLite and PostgreSQL."""

    def __init__(self, importer: type[Importer], cursor):
        self.importer = importer
        self.vendor = connection.vendor
        self.cursor = cursor
        self.stage_names = ["row_no", "nk"] + [name for name, _type in importer.stage_columns]
        # PostgreSQL spells "differs, NULLs included" IS DISTINCT FROM; SQLite spells it IS NOT.
        self.distinct = "IS DISTINCT FROM" if self.vendor == "postgresql" else "IS NOT"

    @staticmethod
    def table(model) -> str:
        return connection.ops.quote_name(model._meta.db_table)

    def execute(self, sql: str, params=None) -> int:
        self.cursor.execute(sql, params)
        return self.cursor.rowcount

    def fetch(self, sql: str, params=None) -> Iterator[tuple]:
        self.cursor.execute(sql, params)
        while True:
            rows = self.cursor.fetchmany(2000)
            if not rows:
                return
            yield from rows

    def create(self) -> None:
        columns = ", ".join(["row_no integer", "nk text"] + [f"{n} {t}" for n, t in self.importer.stage_columns])
        temp = "TEMPORARY TABLE"
        for name, ddl in ((_STAGE, columns), (_KEYS, "nk text, row_no integer")):
            self.execute(f"DROP TABLE IF EXISTS {name}")
            self.execute(f"CREATE {temp} {name} ({ddl})")

    def drop(self) -> None:
        self.execute(f"DROP TABLE IF EXISTS {_STAGE}")
        self.execute(f"DROP TABLE IF EXISTS {_KEYS}")

    def prepare(self, rows: list[tuple]):
        """What ``load`` sends for a batch; runs in the reader thread, touching no connection.

        PostgreSQL gets the batch in ``COPY``'s text format; SQLite gets it as one JSON array that
        a single ``INSERT … SELECT … FROM json_each()`` unpacks. Either way the formatting is done
        beside the database's work, and the thread that talks to the database never holds the
        interpreter row by row (``executemany`` would take and release it for every row and
        wait for the reader thread each time).
        """
        if self.vendor == "postgresql":
            return _copy_text(rows)
        return json.dumps(rows, ensure_ascii=False)

    def load(self, prepared) -> None:
        """Replace the staging table's content with a prepared batch and remember its keys."""
        names = ", ".join(self.stage_names)
        if self.vendor == "postgresql":
            self.execute(f"TRUNCATE {_STAGE}")
            with self.cursor.cursor.copy(f"COPY {_STAGE} ({names}) FROM STDIN") as copy:
                copy.write(prepared)
        else:
            self.execute(f"DELETE FROM {_STAGE}")
            values = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(self.stage_names)))
            # Straight to the driver's cursor: with DEBUG on, Django's cursor would copy and keep every
            # executed statement with its parameters, here megabytes of JSON per batch.
            self.cursor.cursor.execute(f"INSERT INTO {_STAGE} ({names}) SELECT {values} FROM json_each(%s)",
                                       [prepared])
        self.execute(f"INSERT INTO {_KEYS} (nk, row_no) SELECT nk, row_no FROM {_STAGE} WHERE nk IS NOT NULL")

    def has_duplicates_in_stage(self) -> bool:
        self.cursor.execute(f"SELECT 1 FROM {_STAGE} WHERE nk IS NOT NULL GROUP BY nk HAVING COUNT(*) > 1 LIMIT 1")
        return self.cursor.fetchone() is not None

    def duplicates(self) -> Iterator[tuple[str, list[int]]]:
        """Keys that occur more than once in the whole file, with all their row numbers."""
        sql = (f"SELECT nk, row_no FROM {_KEYS} WHERE nk IN "
               f"(SELECT nk FROM {_KEYS} GROUP BY nk HAVING COUNT(*) > 1) ORDER BY nk, row_no")
        current, rows = None, []
        for nk, row_no in self.fetch(sql):
            if nk != current and rows:
                yield current, rows
                rows = []
            current = nk
            rows.append(row_no)
        if rows:
            yield current, rows

    def merge(self, importer: Importer, now) -> tuple[int, int]:
        """Write the staging rows into the model's table; returns (created, updated).

        Where a unique constraint holds the natural key, one ``INSERT … ON CONFLICT DO UPDATE``
        does it all with the index probe the insert makes anyway; the ``WHERE`` leaves rows that
        would not change untouched (their ``updated`` time too). Rows it returns are created when
        their ``created`` time is this import's. Elsewhere an ``UPDATE … FROM`` and an
        ``INSERT … WHERE NOT EXISTS`` do the same in two steps.
        """
        target = self.table(importer.model)
        stamp = connection.ops.adapt_datetimefield_value(now)
        update_cols = importer.update_columns()
        insert_cols = ", ".join(importer.target_columns + ["created", "updated"])
        select_cols = ", ".join([f"s.{c}" for c in importer.target_columns] + ["%s", "%s"])
        created = updated = 0
        for stage_filter, conflict, match in importer.match_variants():
            if conflict is not None:
                sets = ", ".join([f"{c} = excluded.{c}" for c in update_cols] + ["updated = excluded.updated"])
                differs = " OR ".join(f"{target}.{c} {self.distinct} excluded.{c}" for c in update_cols)
                # "WHERE" after the SELECT keeps SQLite from reading ON CONFLICT as a join condition.
                upsert = (f"INSERT INTO {target} ({insert_cols}) SELECT {select_cols} FROM {_STAGE} AS s "
                          f"WHERE {stage_filter} ON CONFLICT ({conflict}) DO UPDATE SET {sets} WHERE {differs}")
                if self.vendor == "postgresql":
                    self.cursor.execute(upsert + " RETURNING created = %s", [stamp, stamp, stamp])
                    for (was_created,) in self.cursor.fetchall():
                        if was_created:
                            created += 1
                        else:
                            updated += 1
                    continue
                # SQLite hands RETURNING rows over one step at a time, each taking the interpreter
                # back from the reader thread; counting beforehand is one statement. The upsert's
                # change count is rows inserted plus rows updated (unchanged rows are not written).
                self.cursor.execute(
                    f"SELECT COUNT(*), COALESCE(SUM(EXISTS (SELECT 1 FROM {target} AS t WHERE {match})), 0) "
                    f"FROM {_STAGE} AS s WHERE {stage_filter}")
                rows, existing = self.cursor.fetchone()
                changed = self.execute(upsert, [stamp, stamp])
                created += rows - existing
                updated += changed - (rows - existing)
                continue
            sets = ", ".join([f"{c} = s.{c}" for c in update_cols] + ["updated = %s"])
            differs = " OR ".join(f"t.{c} {self.distinct} s.{c}" for c in update_cols)
            updated += self.execute(
                f"UPDATE {target} AS t SET {sets} FROM {_STAGE} AS s WHERE {stage_filter} AND {match} "
                f"AND ({differs})", [stamp])
            created += self.execute(
                f"INSERT INTO {target} ({insert_cols}) SELECT {select_cols} FROM {_STAGE} AS s "
                f"WHERE {stage_filter} AND NOT EXISTS (SELECT 1 FROM {target} AS t WHERE {match})",
                [stamp, stamp])
        return created, updated


_COPY_SPECIAL = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_value(value) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value).translate(_COPY_SPECIAL)


def _copy_text(rows: list[tuple]) -> bytes:
    """Rows in PostgreSQL ``COPY`` text format (tab-separated, ``\\N`` for NULL, backslash escapes)."""
    lines = []
    append = lines.append
    for row in rows:
        try:
            # The usual row: its number, then text only (dates are already ISO strings).
            line = str(row[0]) + "\t" + "\t".join(row[1:])
        except TypeError:  # a NULL, a number or a flag: format value by value
            line = "\t".join([_copy_value(v) for v in row])
        else:
            if "\\" in line or "\n" in line or "\r" in line or line.count("\t") != len(row) - 1:
                line = "\t".join([_copy_value(v) for v in row])
        append(line)
    append("")
    return "\n".join(lines).encode("utf-8")


# --- reading files -----------------------------------------------------------------------------

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _decoded_lines(raw, encoding: str | None, report: ImportReport, hasher) -> Iterator[str]:
    """Lines of a CSV file as text, decoded one line at a time so the file is never held whole.

    Without ``encoding``: UTF-8 (with or without BOM) is tried strictly first; a line that is not
    UTF-8 while every line before it was plain ASCII switches the rest of the file to GB18030
    (ASCII reads the same in both, so nothing already read changes meaning). A newline byte never
    occurs inside a UTF-8 or GB18030 multi-byte character, so splitting on it is safe.
    """
    label = ENCODINGS.get(encoding.lower()) if encoding else None
    if encoding and label is None:
        raise FileLevelError(_("不支持的文件编码“%(enc)s”：请选择 UTF-8 或 GB18030（GBK）。") % {"enc": encoding})
    codec = _CODECS[label] if label else "utf-8"
    report.encoding = label or "UTF-8"
    auto = label is None
    non_ascii_seen = False
    readline = raw.readline
    line_no = 0
    while True:
        line = readline()
        if not line:
            return
        line_no += 1
        hasher.update(line)
        if line_no == 1:
            if line.startswith(_UTF16_BOMS):
                raise FileLevelError(_("不支持 UTF-16 编码的文件：请在 Excel 中另存为“CSV UTF-8（逗号分隔）”或 XLSX。"), 1)
            if line.startswith(b"\xef\xbb\xbf"):
                if codec != "utf-8":
                    raise FileLevelError(
                        _("文件编码不是 %(enc)s：文件以 UTF-8 标记（BOM）开头，是 UTF-8 文件。请选择 UTF-8 或“自动识别”。")
                        % {"enc": label}, 1)
                line = line[3:]
        try:
            text = line.decode(codec)
        except UnicodeDecodeError as exc:
            bad = line[exc.start]
            if auto and codec == "utf-8" and not non_ascii_seen:
                codec = "gb18030"
                report.encoding = "GB18030"
                try:
                    text = line.decode(codec)
                except UnicodeDecodeError:
                    raise FileLevelError(
                        _("无法识别文件编码：第 %(line)d 行既不是 UTF-8 也不是 GB18030（GBK）编码（第 %(pos)d 个字节 0x%(byte)02X）。")
                        % {"line": line_no, "pos": exc.start + 1, "byte": bad}, line_no) from None
            elif auto:
                raise FileLevelError(
                    _("文件编码不一致：前面的行是 UTF-8，第 %(line)d 行却无法按 UTF-8 解码（第 %(pos)d 个字节 0x%(byte)02X）。"
                      "请将整个文件另存为同一种编码。") % {"line": line_no, "pos": exc.start + 1, "byte": bad},
                    line_no) from None
            else:
                raise FileLevelError(
                    _("文件编码不是 %(enc)s：第 %(line)d 行无法解码（第 %(pos)d 个字节 0x%(byte)02X）。"
                      "请确认文件的实际编码（中文版 Excel 保存的 CSV 通常是 GB18030/GBK），或选择“自动识别”。")
                    % {"enc": label, "line": line_no, "pos": exc.start + 1, "byte": bad}, line_no) from None
        else:
            if auto and not non_ascii_seen and not line.isascii():
                non_ascii_seen = True
        yield text


def _cell_text(value) -> str:
    """A spreadsheet cell as the text a user would have typed."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _xlsx_rows(raw) -> Iterator[list[str]]:
    """Rows of the first worksheet, streamed by openpyxl's read-only reader."""
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(raw, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise FileLevelError(_("无法读取 XLSX 文件：%(reason)s。请确认文件是用 Excel 或 WPS 保存的 .xlsx 文件。")
                             % {"reason": exc}) from exc
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_cell_text(v) for v in values]
    finally:
        workbook.close()


def _detect_format(raw, filename: str) -> str:
    """``csv`` or ``xlsx``, from the first bytes where the file can be rewound, else the extension."""
    suffix = Path(filename or "").suffix.lower()
    head = b""
    if getattr(raw, "seekable", lambda: False)():
        head = raw.read(8)
        raw.seek(0)
    if head.startswith(b"PK\x03\x04") or (not head and suffix in (".xlsx", ".xlsm")):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0") or suffix == ".xls":
        raise FileLevelError(_("不支持旧版 Excel（.xls）文件：请另存为 .xlsx 或 CSV 后再导入。"))
    return "csv"


def _file_digest(raw) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: raw.read(1 << 20), b""):
        digest.update(chunk)
    raw.seek(0)
    return digest.hexdigest()


# --- the import --------------------------------------------------------------------------------

def _prefetch(iterator: Iterator, depth: int = 2) -> Iterator:
    """Run ``iterator`` in a background thread, ``depth`` items ahead of the consumer.

    Parsing and validation are Python work; the staging writes and merges are database work during
    which the driver releases the GIL. Overlapping the two uses both of a machine's cores. The
    producer touches no database connection (Django's connections are per thread).
    """
    items: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()
    language = translation.get_language()

    def produce():
        try:
            with translation.override(language):
                for item in iterator:
                    while not stop.is_set():
                        try:
                            items.put((True, item), timeout=0.1)
                            break
                        except queue.Full:
                            continue
                    if stop.is_set():
                        return
            items.put((True, done))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            items.put((False, exc))

    worker = threading.Thread(target=produce, name="qualitygov-import-reader", daemon=True)
    worker.start()
    try:
        while True:
            ok, item = items.get()
            if not ok:
                raise item
            if item is done:
                return
            yield item
    finally:
        stop.set()
        # Drain so a producer blocked on a full queue sees the stop flag.
        while worker.is_alive():
            try:
                items.get(timeout=0.1)
            except queue.Empty:
                pass
        worker.join()


class _Run:
    """One import: read, validate, stage, check, merge."""

    def __init__(self, kind: str, report: ImportReport, prefix: str | None):
        self.kind = kind
        self.report = report
        self.ctx = ImportContext.load(prefix)
        self.importer: Importer | None = None

    def header(self, cells: list[str]) -> list[tuple[Column, Callable, int | None]]:
        """Map the header row onto the kind's columns; every missing required column is one error."""
        columns = IMPORTERS[self.kind].columns
        names: dict[str, Column] = {}
        for column in columns:
            for name in (column.header, column.field, *column.aliases):
                names[_normalise_header(name)] = column
        positions: dict[str, int] = {}
        ignored = []
        for index, cell in enumerate(cells):
            if not cell.strip():
                continue
            column = names.get(_normalise_header(cell))
            if column is None:
                ignored.append(cell.strip())
                continue
            if column.field in positions:
                raise FileLevelError(_("表头中“%(name)s”列出现了两次（第 %(a)d 列和第 %(b)d 列）。") % {
                    "name": column.header, "a": positions[column.field] + 1, "b": index + 1}, 1)
            positions[column.field] = index
        self.report.ignored_columns = ignored
        missing = [c.header for c in columns if c.required and c.field not in positions]
        if missing:
            hint = ""
            if not positions:
                hint = _("（未识别出任何列名：请使用导入模板的表头，并确认文件是逗号分隔的 CSV 或 XLSX、编码选择正确。）")
            raise FileLevelError(_("缺少必需的列：%(cols)s。%(hint)s") % {"cols": join_list(missing), "hint": hint}, 1)
        self.importer = IMPORTERS[self.kind](self.ctx, set(positions))
        return [(c, c.parser(self.ctx), positions.get(c.field)) for c in columns]

    def batches(self, rows: Iterator[list[str]]) -> Iterator[list[tuple]]:
        """Validated staging rows in batches; problems go to the report as they are found."""
        report = self.report
        try:
            header = next(rows)
        except StopIteration:
            raise FileLevelError(_("文件为空：没有表头行。"), 1) from None
        plan = self.header(header)
        width = max(max((p for _c, _f, p in plan if p is not None), default=-1) + 1, len(header))
        # The hot loop reads plain tuples; a column left out of the file sits at an index no row reaches.
        absent = 1 << 30
        steps = [(c.header, parse, absent if p is None else p, c.required, c.default) for c, parse, p in plan]
        required_message = _("必填项，不能为空。")
        add_error = report.add_error
        stage_row = self.importer.stage_row
        batch: list[tuple] = []
        row_no = 1
        try:
            for cells in rows:
                row_no += 1
                # Rows with nothing but blanks are skipped (spreadsheets leave them behind) but still counted
                # in the numbering, which must match what the user sees.
                if not cells or not (cells[0].strip() or any(c.strip() for c in cells)):
                    continue
                report.rows += 1
                n = len(cells)
                values = []
                append = values.append
                for header_text, parse, position, required, default in steps:
                    raw = cells[position].strip() if position < n else ""
                    if not raw:
                        if required:
                            add_error(row_no, header_text, required_message)
                            append(None)
                        else:
                            append(default)
                        continue
                    try:
                        append(parse(raw))
                    except CellError as exc:
                        add_error(row_no, header_text, exc.message)
                        append(None)
                if n > width and any(c.strip() for c in cells[width:]):
                    add_error(row_no, None, _("本行比表头多出 %(n)d 个非空单元格：内容中的英文逗号是否未加引号？")
                              % {"n": sum(1 for c in cells[width:] if c.strip())})
                batch.append(stage_row(row_no, values, add_error))
                if len(batch) >= BATCH_SIZE:
                    yield batch
                    batch = []
        except csv.Error as exc:
            raise FileLevelError(_("第 %(row)d 行附近的 CSV 格式有误：%(reason)s") % {"row": row_no, "reason": exc},
                                 row_no) from exc
        if batch:
            yield batch

    def run(self, raw, filename: str, encoding: str | None, dry_run: bool) -> None:
        report = self.report
        report.format = _detect_format(raw, filename)
        if report.format == "xlsx":
            report.sha256 = _file_digest(raw)
            rows = iter(_xlsx_rows(raw))
            hasher = None
        else:
            hasher = hashlib.sha256()
            rows = iter(csv.reader(_decoded_lines(raw, encoding, report, hasher)))
        with transaction.atomic(), connection.cursor() as cursor:
            db = _Database(IMPORTERS[self.kind], cursor)
            db.create()
            now = timezone.now()
            merging = True
            for batch in _prefetch(db.prepare(batch) for batch in self.batches(rows)):
                db.load(batch)
                self.importer_check(db)
                if merging and (report.error_count or db.has_duplicates_in_stage()):
                    merging = False  # nothing will be kept: stop writing, keep checking
                if merging:
                    created, updated = db.merge(self.importer, now)
                    report.created += created
                    report.updated += updated
            if self.importer is not None:
                for nk, row_numbers in db.duplicates():
                    column, message = self.importer.duplicate_message(nk, row_numbers)
                    for row_no in row_numbers:
                        report.add_error(row_no, column, message)
            if hasher is not None:
                # Read what the CSV reader left (nothing, normally) so the digest covers the file.
                for chunk in iter(lambda: raw.read(1 << 20), b""):
                    hasher.update(chunk)
                report.sha256 = hasher.hexdigest()
            if report.rows == 0 and report.ok:
                report.add_error(None, None, _("文件中没有数据行：第 1 行应为表头，数据从第 2 行开始。"))
            report.unchanged = max(report.rows - report.created - report.updated, 0)
            db.drop()
            if not report.ok or dry_run:
                transaction.set_rollback(True)
                if not report.ok:
                    report.created = report.updated = report.unchanged = 0
                return
            model = IMPORTERS[self.kind].model
            audit.record(
                "import", model=model, region=self._audit_region(),
                object_repr=str(model._meta.verbose_name_plural),
                message=_("批量导入%(what)s：共 %(rows)d 行，新增 %(created)d，更新 %(updated)d，未变 %(unchanged)d（文件 %(file)s）。")
                % {"what": model._meta.verbose_name_plural, "rows": report.rows, "created": report.created,
                   "updated": report.updated, "unchanged": report.unchanged, "file": filename},
                after={"file": filename, "sha256": report.sha256, "format": report.format,
                       "encoding": report.encoding, "rows": report.rows, "created": report.created,
                       "updated": report.updated, "unchanged": report.unchanged},
            )

    def importer_check(self, db: _Database) -> None:
        self.importer.check_batch(db, self.report.add_error)

    def _audit_region(self) -> str:
        user = audit.current_actor().resolve_user()
        return getattr(user, "region_id", None) or ""


def import_file(kind: str, fileobj, filename: str, *, user, dry_run: bool = False,
                encoding: str | None = None) -> ImportReport:
    """Import a CSV or XLSX file of ``kind`` (entities, products, licences) as ``user``.

    ``user`` None means the system (province-wide, for the command line without ``--user``).
    ``fileobj`` is a binary file object; it is read as a stream. Returns the report; nothing is
    written when it has errors or when ``dry_run`` is true (the counts then say what would happen).
    Raises ``PermissionDenied`` when the user's role may not import this kind.
    """
    if kind not in IMPORTERS:
        raise ValueError(f"unknown import kind {kind!r}; expected one of {', '.join(KINDS)}")
    if not may_import(user, kind):
        raise PermissionDenied(_("您没有批量导入%(what)s的权限。") % {"what": MODELS[kind]._meta.verbose_name_plural})
    report = ImportReport(kind=kind, filename=filename or "", dry_run=dry_run)
    prefix = None if user is None else user.region_prefix
    actor = audit.current_actor()
    acting = user if user is not None else None
    with audit.acting_as(acting, ip_address=actor.ip_address, request_id=actor.request_id or None), \
            audit.per_object_audit_disabled():
        try:
            _Run(kind, report, prefix).run(fileobj, filename or "", encoding or None, dry_run)
        except FileLevelError as exc:
            report.add_error(exc.row, None, exc.message)
        except DatabaseError as exc:
            # A concurrent writer took a key between our checks and our writes, or the database
            # refused a value: the transaction is already rolled back, so nothing was written.
            report.add_error(None, None, _("写入数据库时出错，未写入任何数据：%(reason)s") % {"reason": exc})
    if not report.ok:
        report.created = report.updated = report.unchanged = 0
    column_order = {c.header: i for i, c in enumerate(IMPORTERS[kind].columns)}
    report.errors.sort(key=lambda e: (e["row"] or 0, column_order.get(e["column"], -1)))
    return report


# --- templates ---------------------------------------------------------------------------------

def template_filename(kind: str, fmt: str) -> str:
    return f"{MODELS[kind]._meta.verbose_name_plural}导入模板.{fmt}"


def template_bytes(kind: str, fmt: str) -> bytes:
    """An import template: the Chinese headers and one example row with valid identifiers.

    CSV is UTF-8 with a BOM (so Excel on Chinese Windows opens it correctly); the XLSX has the
    code columns formatted as text (so Excel keeps leading zeros and long numbers), drop-down
    lists for choice columns, and a second sheet explaining each column.
    """
    if kind not in IMPORTERS or fmt not in FORMATS:
        raise ValueError(f"unknown template {kind}.{fmt}")
    columns = IMPORTERS[kind].columns
    headers = [c.header for c in columns]
    example = [c.example for c in columns]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(headers)
        writer.writerow(example)
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")

    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = str(MODELS[kind]._meta.verbose_name_plural)[:31]
    sheet.append(headers)
    sheet.append(example)
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    model = MODELS[kind]
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index)
        cell.font, cell.fill = bold, fill
        sheet.column_dimensions[letter].width = max(12, len(column.header) * 2 + 4, len(column.example) + 4)
        # Text format keeps codes such as 0101 or a 13-digit GTIN exactly as typed.
        sheet.cell(row=2, column=index).number_format = "@"
        choices = _model_choices(model, column.field)
        if choices:
            validation = DataValidation(type="list", formula1='"' + ",".join(str(label) for _key, label in choices) + '"',
                                        allow_blank=not column.required)
            validation.add(f"{letter}2:{letter}100000")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"
    notes = workbook.create_sheet(_("填写说明"))
    notes.append([_("列名"), _("是否必填"), _("说明"), _("示例")])
    for cell in notes[1]:
        cell.font, cell.fill = bold, fill
    for column in columns:
        notes.append([column.header, _("必填") if column.required else _("选填"), str(column.help), column.example])
    notes.append([])
    notes.append([_("说明"), "", _("第 1 行为表头，数据从第 2 行开始；示例行请删除或替换。导入在一个事务中进行：任何一行有错都不写入任何数据。"
                  "按统一社会信用代码（产品按商品条码，证书按证书类型和编号）识别已有记录，重复导入只更新，不会产生重复记录。"), ""])
    for letter, width in (("A", 24), ("B", 10), ("C", 60), ("D", 30)):
        notes.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _model_choices(model, name: str):
    try:
        return model._meta.get_field(name).choices
    except Exception:
        return None
