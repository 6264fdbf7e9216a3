"""GS1 identifiers for traceability: parse every form EPCIS 2.0 and consumers use, normalise to one.

Accepted input forms (``parse_identifier``):

* EPC pure-identity URNs (GS1 Tag Data Standard 2.0): ``urn:epc:id:sgtin:CP.IR.Serial``,
  ``urn:epc:class:lgtin:CP.IR.Lot``, ``urn:epc:idpat:sgtin:CP.IR.*`` (all instances of one GTIN),
  ``urn:epc:id:sscc:CP.SR``, ``urn:epc:id:sgln:CP.LR.Ext``, ``urn:epc:id:pgln:CP.PR``,
  ``urn:epc:id:grai:CP.AT.Serial``, ``urn:epc:id:giai:CP.IAR``, ``urn:epc:id:gsrn:CP.SR``;
* uncompressed GS1 Digital Link URIs on any host, with or without a path prefix
  (``/01/{gtin}[/10/{batch}][/21/{serial}]``, ``/00/{sscc}``, ``/414/{gln}[/254/{ext}]``, ``/417``,
  ``/8003``, ``/8004``, ``/8018``); data attributes in the query string (``?17=261200``) are kept;
* GS1 element strings, bracketed ``(01)06901234567892(10)A1`` or unbracketed as a scanner returns
  them, with the FNC1 group separator as ASCII 29 or written ``<GS>`` (parsed by biip);
* bare GTIN-8/12/13/14 (and a bare 18-digit SSCC).

Canonical form: the GS1 Digital Link URI on ``https://id.gs1.org`` with the GTIN as GTIN-14 and
only the key and its qualifiers in the path (``GS1Key.canonical``). Why: EPCIS 2.0 JSON/JSON-LD
prefers Digital Link URIs, the URI is self-contained (unlike the EPC URN it needs no GS1 company
prefix length, which is not derivable from the digits alone), it carries the GTIN+batch class of
an item that the EPC SGTIN cannot, and the same string is what a consumer's phone reads from a QR
code. Data attributes (expiry date etc.) are not part of the identity and are left out of
``canonical``; ``to_digital_link(key, with_attributes=True)`` adds them in the query, ordered by AI.

EPC URNs need the GS1 company prefix length. ``to_epc_urn`` uses, in this order: the length given
by the caller; the length the document itself used (kept when the key was parsed from a URN, so a
URN round-trips unchanged); the GS1 company prefix length table bundled with biip (it covers GS1
China 690–699, e.g. 690xxxx has 7 digits and 695xxxxx 8); otherwise it raises ``IdentifierError``
(code ``company_prefix_unknown``) rather than guess, because a wrong length gives a different,
still well-formed URN. Note the demonstration prefix 952 used in GS1 examples has no single length
(examples use 7, 9 and 8 digits), so the document's own length matters there.

An SGTIN (GTIN + serial) has no batch in its EPC form: the class (GTIN + batch) of an instance is
known only when the Digital Link or element string carried AI 10, or from the EPCIS events
(e.g. an ObjectEvent's ``ilmd`` ``lotNumber``); ``GS1Key.class_key()`` returns ``None`` otherwise.
Check digits are computed with biip's GS1 check digit function, never by hand.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from functools import lru_cache
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from biip import ParseError
from biip.checksums import gs1_standard_check_digit
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_element_strings import GS1ElementString
from biip.gs1_messages import GS1Message
from biip.gs1_prefixes import GS1CompanyPrefix, GS1Prefix, GS18Prefix
from biip.gtin import Gtin
from django.utils.translation import gettext as _

__all__ = [
    "DIGITAL_LINK_HOST",
    "GS1Key",
    "IdentifierError",
    "Kind",
    "company_prefix_length",
    "gs1_prefix",
    "normalise",
    "parse_identifier",
    "parse_lookup_code",
    "to_digital_link",
    "to_epc_urn",
]

DIGITAL_LINK_HOST = "id.gs1.org"

# GS1 AI encodable character set 82 (GS1 General Specifications, figure 7.11-1): the characters
# allowed in serials (AI 21), batches (AI 10), GLN extensions (254), GRAI serials and GIAIs.
GS1_CSET82 = frozenset("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")
MAX_SERIAL = 20  # AI 21: X..20
MAX_BATCH = 20  # AI 10: X..20
MAX_GLN_EXTENSION = 20  # AI 254: X..20
MAX_GRAI_SERIAL = 16  # AI 8003: N14 + X..16
MAX_GIAI = 30  # AI 8004: X..30
COMPANY_PREFIX_LENGTHS = range(6, 13)  # TDS 2.0: a GS1 company prefix has 6 to 12 digits

_GS = "\x1d"
# A scanner's FNC1 is ASCII 29; people pasting scanner output often see it written out.
_GS_SPELLINGS = ("<GS>", "{GS}", "[GS]", "\\x1d", "␝")
# Characters an EPC URI must percent-escape in a serial/lot (TDS 2.0 §6.3: " % & / < > ?).
_URN_ESCAPE = str.maketrans({c: f"%{ord(c):02X}" for c in "\"%&/<>?"})


class Kind:
    """The kinds of identifier a ``GS1Key`` can hold."""

    SGTIN = "sgtin"  # GTIN + serial: one item (may also carry its batch)
    LGTIN = "lgtin"  # GTIN + batch/lot: a class of items
    GTIN = "gtin"  # GTIN alone: a class of items (all batches)
    SSCC = "sscc"  # logistic unit
    GLN = "gln"  # physical location without extension (sgln URN with extension 0)
    SGLN = "sgln"  # physical location with a GLN extension (AI 254)
    PGLN = "pgln"  # party GLN (AI 417)
    GRAI = "grai"  # returnable asset
    GIAI = "giai"  # individual asset
    GSRN = "gsrn"  # service relation (recipient)

    CLASS_LEVEL = frozenset({GTIN, LGTIN})


class IdentifierError(ValueError):
    """A GS1 identifier that cannot be accepted; ``message`` is Chinese (translatable), ``code`` stable."""

    def __init__(self, code: str, message: str, **details):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class GS1Key:
    """One parsed, validated GS1 key with its qualifiers.

    Equality and hashing use the identity only (kind, key and qualifiers): the same item written
    as an EPC URN and as a Digital Link gives equal keys. ``gtin`` is always GTIN-14.
    """

    kind: str
    gtin: str = ""
    sscc: str = ""
    gln: str = ""
    grai: str = ""  # the 14-digit part of AI 8003 (asset type); the serial is in ``serial``
    giai: str = ""
    gsrn: str = ""
    serial: str = ""
    batch: str = ""
    extension: str = ""
    # (AI, value) data attributes from a Digital Link query or an element string, e.g. ("17", "261200").
    attributes: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    # The company prefix length the source document used (EPC URNs state it); None if unknown.
    company_prefix_length: int | None = field(default=None, compare=False)
    source_form: str = field(default="", compare=False)  # epc_urn, digital_link, element_string, gtin

    @property
    def lot(self) -> str:
        """Alias of ``batch`` (EPCIS says lot, GS1 AI 10 says batch/lot)."""
        return self.batch

    @property
    def gtin_format(self) -> int | None:
        """8, 12, 13 or 14: the GTIN's significant length (leading zeros stripped, per biip)."""
        return int(Gtin.parse(self.gtin).format) if self.gtin else None

    @property
    def is_class_level(self) -> bool:
        """True for a GTIN alone or GTIN + batch (a class of items), False for instances and others."""
        return self.kind in Kind.CLASS_LEVEL

    @property
    def canonical(self) -> str:
        """The canonical form: Digital Link URI on id.gs1.org, key and qualifiers only."""
        return to_digital_link(self)

    @property
    def epc_urn(self) -> str | None:
        """The EPC URN when the company prefix length is known (see module docstring), else None."""
        try:
            return to_epc_urn(self)
        except IdentifierError:
            return None

    @property
    def element_string(self) -> str:
        """The bracketed GS1 element string (key, qualifiers, then attributes)."""
        return "".join(f"({ai}){value}" for ai, value in (*_key_pairs(self), *self.attributes))

    def class_key(self) -> GS1Key | None:
        """The GTIN + batch class of this key.

        A class-level key is its own class (attributes dropped). An SGTIN gives its LGTIN only when
        the batch was carried alongside the serial (Digital Link ``/10/…/21/…`` or element string
        with AI 10); the EPC SGTIN URN has no batch, so then the class must come from the EPCIS
        events' data (ilmd lotNumber) and this returns None. Non-trade-item keys return None.
        """
        if self.kind in Kind.CLASS_LEVEL:
            return self if not self.attributes else replace(self, attributes=())  # keys are frozen: safe to share
        if self.kind == Kind.SGTIN and self.batch:
            return replace(self, kind=Kind.LGTIN, serial="", attributes=())
        return None

    def attribute_dates(self) -> dict[str, str]:
        """ISO dates of the date attributes (AI 11, 13, 15, 16, 17, …), as biip reads them.

        ``17=261200`` (day 00) means the last day of the month: ``2026-12-31``.
        """
        dates = {}
        for ai, value in self.attributes:
            element = GS1ElementString.parse(f"{ai}{value}")
            if element.date is not None:
                dates[ai] = element.date.isoformat()
        return dates


# --- validation helpers --------------------------------------------------------------------------


def _sep() -> str:
    """Separator between listed items (Chinese enumeration comma; ", " in English)."""
    return _("、")


def _labels() -> dict[str, str]:
    # Translated only when an error is raised: building them for every parsed identifier cost most
    # of the parsing time of a large capture (bench/bench_capture.py).
    return {
        "gtin": _("商品条码（GTIN）"),
        "sscc": _("系列货运包装箱代码（SSCC）"),
        "gln": _("参与方位置代码（GLN）"),
        "grai": _("可回收资产标识（GRAI）"),
        "giai": _("单个资产标识（GIAI）"),
        "gsrn": _("服务关系代码（GSRN）"),
        "serial": _("序列号"),
        "batch": _("批号"),
        "extension": _("位置扩展码"),
    }


def _check_digits(field_name: str, value: str, lengths: tuple[int, ...]) -> str:
    """Validate a numeric key with a GS1 check digit in its last position; return it."""
    if not value.isdecimal() or not value.isascii():
        raise IdentifierError(
            "not_digits", _("%(label)s只能包含数字，收到“%(value)s”。") % {"label": _labels()[field_name], "value": value},
            field=field_name, value=value,
        )
    if len(value) not in lengths:
        expected = _sep().join(str(n) for n in lengths)
        raise IdentifierError(
            "bad_length",
            _("%(label)s应为 %(expected)s 位数字，实际为 %(actual)d 位。")
            % {"label": _labels()[field_name], "expected": expected, "actual": len(value)},
            field=field_name, expected=expected, actual=len(value),
        )
    _verify_check_digit(field_name, value)
    return value


# biip computes the GS1 check digit; a capture checks the same company prefixes and GTINs again and again.
_check_digit = lru_cache(maxsize=65_536)(gs1_standard_check_digit)


def _verify_check_digit(field_name: str, value: str) -> None:
    expected = _check_digit(value[:-1])
    if int(value[-1]) != expected:
        raise IdentifierError(
            "check_digit",
            _("%(label)s“%(value)s”校验位错误：应为 %(expected)d，实际为 %(actual)s。")
            % {"label": _labels()[field_name], "value": value, "expected": expected, "actual": value[-1]},
            field=field_name, value=value, expected=expected, actual=int(value[-1]),
        )


def _check_text(field_name: str, value: str, max_length: int) -> str:
    """Validate an alphanumeric GS1 field (serial, batch, extension, GIAI) against CSet 82 and length."""
    if not value:
        raise IdentifierError("empty_field", _("%(label)s不能为空。") % {"label": _labels()[field_name]}, field=field_name)
    if len(value) > max_length:
        raise IdentifierError(
            f"{field_name}_too_long",
            _("%(label)s超过 %(max)d 个字符（实际 %(actual)d 个）：“%(value)s”。")
            % {"label": _labels()[field_name], "max": max_length, "actual": len(value), "value": value},
            field=field_name, max=max_length, actual=len(value),
        )
    if not GS1_CSET82.issuperset(value):
        bad = sorted({c for c in value if c not in GS1_CSET82})
        shown = _sep().join(f"“{c}”" if not c.isspace() else _("空格") for c in bad)
        raise IdentifierError(
            "bad_characters",
            _("%(label)s“%(value)s”含有 GS1 不允许的字符：%(chars)s。只能使用英文字母、数字和 "
              "!\"%%&'()*+,-./:;<=>?_ 这些符号。")
            % {"label": _labels()[field_name], "value": value, "chars": shown},
            field=field_name, characters=bad,
        )
    return value


def _gtin14(value: str) -> str:
    return _check_digits("gtin", value, (8, 12, 13, 14)).zfill(14)


# --- building keys from (AI, value) pairs --------------------------------------------------------

_DATE_AIS = frozenset({"11", "12", "13", "15", "16", "17"})  # YYMMDD dates (production, best before, expiry…)
_KEY_AIS = ("01", "00", "414", "417", "8003", "8004", "8018")
_QUALIFIERS = {"01": ("10", "21"), "414": ("254",)}
_UNSUPPORTED_QUALIFIERS = {"22", "235", "7040", "8019"}


def _key_from_pairs(pairs: list[tuple[str, str]], source_form: str) -> GS1Key:
    """Build a GS1Key from ordered (AI, value) pairs, validating each key and qualifier."""
    keys = [ai for ai, _value in pairs if ai in _KEY_AIS]
    if not keys:
        ais = _sep().join(f"({ai})" for ai, _value in pairs)
        raise IdentifierError(
            "no_key", _("没有找到 GS1 主标识（GTIN、SSCC、GLN 等），只有 %(ais)s。") % {"ais": ais or "—"},
        )
    if len(keys) > 1:
        raise IdentifierError(
            "several_keys",
            _("一个标识符只能有一个主标识，收到 %(ais)s。") % {"ais": _sep().join(f"({ai})" for ai in keys)},
        )
    primary = keys[0]
    values: dict[str, str] = {}
    attributes = []
    for ai, value in pairs:
        if ai in values:
            raise IdentifierError(
                "repeated_ai", _("应用标识符 (%(ai)s) 出现了不止一次。") % {"ai": ai}, ai=ai,
            )
        values[ai] = value
        if ai in _UNSUPPORTED_QUALIFIERS:
            raise IdentifierError(
                "unsupported_qualifier",
                _("暂不支持应用标识符 (%(ai)s) 作为限定符。") % {"ai": ai}, ai=ai,
            )
        if ai != primary and ai not in _QUALIFIERS.get(primary, ()):
            if ai in ("10", "21", "254"):
                raise IdentifierError(
                    "qualifier_mismatch",
                    _("应用标识符 (%(ai)s) 不能用于主标识 (%(key)s)。") % {"ai": ai, "key": primary},
                    ai=ai, key=primary,
                )
            attributes.append((ai, value))
    common = {"attributes": tuple(attributes), "source_form": source_form}
    value = values[primary]
    if primary == "01":
        # AI (01) in an element string is fixed-length N14; a Digital Link path may drop leading zeros.
        gtin = _check_digits("gtin", value, (14,)) if source_form == "element_string" else _gtin14(value)
        serial = _check_text("serial", values["21"], MAX_SERIAL) if "21" in values else ""
        batch = _check_text("batch", values["10"], MAX_BATCH) if "10" in values else ""
        kind = Kind.SGTIN if serial else Kind.LGTIN if batch else Kind.GTIN
        return GS1Key(kind=kind, gtin=gtin, serial=serial, batch=batch, **common)
    if primary == "00":
        return GS1Key(kind=Kind.SSCC, sscc=_check_digits("sscc", value, (18,)), **common)
    if primary in ("414", "417"):
        gln = _check_digits("gln", value, (13,))
        if primary == "417":
            return GS1Key(kind=Kind.PGLN, gln=gln, **common)
        ext = _check_text("extension", values["254"], MAX_GLN_EXTENSION) if "254" in values else ""
        return GS1Key(kind=Kind.SGLN if ext else Kind.GLN, gln=gln, extension=ext, **common)
    if primary == "8003":
        grai = _check_digits("grai", value[:14], (14,))
        if not grai.startswith("0"):
            raise IdentifierError("bad_grai", _("GRAI 的第一位必须是 0。"), value=value)
        serial = _check_text("serial", value[14:], MAX_GRAI_SERIAL) if len(value) > 14 else ""
        return GS1Key(kind=Kind.GRAI, grai=grai, serial=serial, **common)
    if primary == "8004":
        giai = _check_text("giai", value, MAX_GIAI)
        if not giai[:1].isdecimal():
            raise IdentifierError("bad_giai", _("GIAI 必须以 GS1 厂商识别代码开头。"), value=value)
        return GS1Key(kind=Kind.GIAI, giai=giai, **common)
    return GS1Key(kind=Kind.GSRN, gsrn=_check_digits("gsrn", value, (18,)), **common)


def _key_pairs(key: GS1Key) -> list[tuple[str, str]]:
    """The (AI, value) pairs of a key and its qualifiers, in Digital Link path order."""
    match key.kind:
        case Kind.SGTIN | Kind.LGTIN | Kind.GTIN:
            pairs = [("01", key.gtin)]
            if key.batch:
                pairs.append(("10", key.batch))
            if key.serial:
                pairs.append(("21", key.serial))
            return pairs
        case Kind.SSCC:
            return [("00", key.sscc)]
        case Kind.GLN | Kind.SGLN:
            return [("414", key.gln), *([("254", key.extension)] if key.extension else [])]
        case Kind.PGLN:
            return [("417", key.gln)]
        case Kind.GRAI:
            return [("8003", key.grai + key.serial)]
        case Kind.GIAI:
            return [("8004", key.giai)]
        case Kind.GSRN:
            return [("8018", key.gsrn)]
    raise IdentifierError("unknown_kind", _("未知的标识符类型“%(kind)s”。") % {"kind": key.kind})


# --- parsers for each form -----------------------------------------------------------------------


def _unrecognised(text: str) -> IdentifierError:
    return IdentifierError(
        "unrecognised_format",
        _("无法识别的标识符格式：“%(value)s”。可以使用 GS1 数字链接网址（https://id.gs1.org/01/…）、"
          "EPC URN（urn:epc:id:sgtin:…）、GS1 元素串（如 (01)06901234567892(10)A1）或 8、12、13、14 位"
          "商品条码。") % {"value": text},
        value=text,
    )


def _attribute_errors(pairs: list[tuple[str, str]]) -> None:
    """Explain, in Chinese, which attribute pair biip refused (unknown AI, bad date, bad format)."""
    for ai, value in pairs:
        if ai in _KEY_AIS or ai in _QUALIFIERS["01"] or ai == "254":
            continue
        try:
            GS1ApplicationIdentifier.extract(ai)
        except ParseError:
            raise IdentifierError(
                "unknown_ai", _("未知的 GS1 应用标识符 (%(ai)s)。") % {"ai": ai}, ai=ai,
            ) from None
        try:
            GS1ElementString.parse(f"{ai}{value}")
        except ParseError:
            if ai in _DATE_AIS:
                message = _("应用标识符 (%(ai)s) 的日期“%(value)s”无效：应为 YYMMDD 格式的有效日期"
                            "（日为 00 表示当月最后一天）。")
            else:
                message = _("应用标识符 (%(ai)s) 的值“%(value)s”不符合 GS1 规定的格式。")
            raise IdentifierError("bad_attribute", message % {"ai": ai, "value": value}, ai=ai, value=value) from None


def _split_urn_body(body: str, parts: int, text: str) -> list[str]:
    fields = body.split(".")
    # The company prefix must be present; a reference may be empty (12-digit prefix of a GLN).
    if len(fields) != parts or not fields[0]:
        raise IdentifierError(
            "bad_urn",
            _("EPC URN“%(value)s”应由 %(parts)d 段用“.”分隔的部分组成，实际为 %(actual)d 段。")
            % {"value": text, "parts": parts, "actual": len(fields)},
            value=text,
        )
    return fields


def _urn_digits(text: str, company_prefix: str, *refs: str, total: int) -> str:
    """Join the numeric URN fields after checking digits, company prefix length and total length."""
    joined = company_prefix + "".join(refs)
    if not joined.isdecimal() or not joined.isascii():
        raise IdentifierError(
            "bad_urn", _("EPC URN“%(value)s”中的厂商识别代码和项目代码只能包含数字。") % {"value": text},
            value=text,
        )
    if len(company_prefix) not in COMPANY_PREFIX_LENGTHS:
        raise IdentifierError(
            "bad_company_prefix",
            _("EPC URN“%(value)s”中的厂商识别代码应为 6 至 12 位，实际为 %(actual)d 位。")
            % {"value": text, "actual": len(company_prefix)},
            value=text,
        )
    if len(joined) != total:
        raise IdentifierError(
            "bad_urn",
            _("EPC URN“%(value)s”中厂商识别代码与项目代码合计应为 %(expected)d 位，实际为 %(actual)d 位。")
            % {"value": text, "expected": total, "actual": len(joined)},
            value=text, expected=total, actual=len(joined),
        )
    return joined


def _with_check_digit(digits: str) -> str:
    return digits + str(_check_digit(digits))


def _parse_urn(text: str) -> GS1Key:
    lowered = text.lower()
    common = {"source_form": "epc_urn"}
    for prefix, scheme_name in (
        ("urn:epc:id:", "id"), ("urn:epc:class:", "class"), ("urn:epc:idpat:", "idpat"),
    ):
        if lowered.startswith(prefix):
            scheme, rest = scheme_name, text[len(prefix):]
            break
    else:
        raise IdentifierError(
            "unsupported_urn",
            _("不支持的 EPC URN“%(value)s”：应以 urn:epc:id:、urn:epc:class: 或 urn:epc:idpat: 开头。")
            % {"value": text},
            value=text,
        )
    name, _sep, body = rest.partition(":")
    name = name.lower()
    if (scheme, name) == ("id", "sgtin"):
        cp, ir, serial = _split_urn_body(body, 3, text)
        _urn_digits(text, cp, ir, total=13)
        gtin = _with_check_digit(ir[0] + cp + ir[1:])
        serial = _check_text("serial", unquote(serial), MAX_SERIAL)
        return GS1Key(Kind.SGTIN, gtin=gtin, serial=serial, company_prefix_length=len(cp), **common)
    if (scheme, name) == ("class", "lgtin"):
        cp, ir, lot = _split_urn_body(body, 3, text)
        _urn_digits(text, cp, ir, total=13)
        gtin = _with_check_digit(ir[0] + cp + ir[1:])
        batch = _check_text("batch", unquote(lot), MAX_BATCH)
        return GS1Key(Kind.LGTIN, gtin=gtin, batch=batch, company_prefix_length=len(cp), **common)
    if (scheme, name) == ("idpat", "sgtin"):
        cp, ir, star = _split_urn_body(body, 3, text)
        if star != "*" or "*" in cp + ir:
            raise IdentifierError(
                "unsupported_pattern",
                _("只支持“厂商识别代码.项目代码.*”形式的 EPC 模式（某一商品的全部单品），收到“%(value)s”。")
                % {"value": text},
                value=text,
            )
        _urn_digits(text, cp, ir, total=13)
        gtin = _with_check_digit(ir[0] + cp + ir[1:])
        return GS1Key(Kind.GTIN, gtin=gtin, company_prefix_length=len(cp), **common)
    if (scheme, name) == ("id", "sscc"):
        cp, sr = _split_urn_body(body, 2, text)
        _urn_digits(text, cp, sr, total=17)
        sscc = _with_check_digit(sr[0] + cp + sr[1:])
        return GS1Key(Kind.SSCC, sscc=sscc, company_prefix_length=len(cp), **common)
    if (scheme, name) == ("id", "sgln"):
        cp, lr, ext = _split_urn_body(body, 3, text)
        gln = _with_check_digit(_urn_digits(text, cp, lr, total=12))
        ext = _check_text("extension", unquote(ext), MAX_GLN_EXTENSION)
        # TDS: extension "0" means "no extension", i.e. the GLN itself (Digital Link /414/{gln}).
        ext = "" if ext == "0" else ext
        return GS1Key(
            Kind.SGLN if ext else Kind.GLN, gln=gln, extension=ext, company_prefix_length=len(cp), **common,
        )
    if (scheme, name) == ("id", "pgln"):
        cp, pr = _split_urn_body(body, 2, text)
        gln = _with_check_digit(_urn_digits(text, cp, pr, total=12))
        return GS1Key(Kind.PGLN, gln=gln, company_prefix_length=len(cp), **common)
    if (scheme, name) == ("id", "grai"):
        cp, at, serial = _split_urn_body(body, 3, text)
        grai = _with_check_digit("0" + _urn_digits(text, cp, at, total=12))
        serial = _check_text("serial", unquote(serial), MAX_GRAI_SERIAL)
        return GS1Key(Kind.GRAI, grai=grai, serial=serial, company_prefix_length=len(cp), **common)
    if (scheme, name) == ("id", "giai"):
        cp, iar = _split_urn_body(body, 2, text)
        _urn_digits(text, cp, total=len(cp))
        giai = _check_text("giai", cp + unquote(iar), MAX_GIAI)
        return GS1Key(Kind.GIAI, giai=giai, company_prefix_length=len(cp), **common)
    if (scheme, name) == ("id", "gsrn"):
        cp, sr = _split_urn_body(body, 2, text)
        gsrn = _with_check_digit(_urn_digits(text, cp, sr, total=17))
        return GS1Key(Kind.GSRN, gsrn=gsrn, company_prefix_length=len(cp), **common)
    raise IdentifierError(
        "unsupported_urn",
        _("不支持的 EPC 类型“%(scheme)s”（支持 sgtin、lgtin、sscc、sgln、pgln、grai、giai、gsrn）。")
        % {"scheme": f"{scheme}:{name}"},
        value=text,
    )


def _digital_link_pairs(text: str) -> list[tuple[str, str]]:
    """Split an uncompressed Digital Link URI into (AI, value) pairs: path key, qualifiers, query."""
    parts = urlsplit(text)
    segments = parts.path.split("/")
    # Skip any path prefix before the primary key (GS1 Digital Link allows e.g. /some/prefix/01/...).
    while segments and segments[0] not in _KEY_AIS:
        segments.pop(0)
    if not segments:
        raise IdentifierError(
            "bad_digital_link",
            _("GS1 数字链接“%(value)s”的路径中没有找到主标识（如 /01/商品条码、/00/SSCC、/414/GLN）。")
            % {"value": text},
            value=text,
        )
    if len(segments) % 2:
        raise IdentifierError(
            "bad_digital_link",
            _("GS1 数字链接“%(value)s”的路径应由“应用标识符/值”成对组成，最后一段缺少值。") % {"value": text},
            value=text,
        )
    pairs = [(segments[i], unquote(segments[i + 1])) for i in range(0, len(segments), 2)]
    primary = pairs[0][0]
    allowed = list(_QUALIFIERS.get(primary, ()))
    for ai, _value in pairs[1:]:
        # Qualifiers must appear in the standard order (01: 10 then 21; 414: 254), each at most once.
        if ai not in allowed:
            raise IdentifierError(
                "bad_digital_link",
                _("GS1 数字链接“%(value)s”的路径中 (%(ai)s) 的位置不对：(%(key)s) 之后只能按 %(order)s 的顺序"
                  "各出现一次。")
                % {"value": text, "ai": ai, "key": primary,
                   "order": " / ".join(_QUALIFIERS.get(primary, ())) or "—"},
                value=text, ai=ai,
            )
        allowed = allowed[allowed.index(ai) + 1:]
    # Query parameters that are not numeric AIs (e.g. linkType, utm_*) are not identity data.
    pairs += [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.isdecimal()]
    return pairs


def _parse_digital_link(text: str) -> GS1Key:
    pairs = _digital_link_pairs(text)
    _attribute_errors(pairs)
    # Sort attributes by AI as the canonical Digital Link query does; path pairs keep their order.
    key = _key_from_pairs(pairs, "digital_link")
    if len(key.attributes) < 2:  # already in order: no second key object (most identifiers have none)
        return key
    return replace(key, attributes=tuple(sorted(key.attributes)))


def _element_pairs_hri(text: str) -> list[tuple[str, str]]:
    try:
        message = GS1Message.parse_hri(text)
    except ParseError:
        # Diagnose with a plain split so the error names the field that is wrong.
        pairs = re.findall(r"\((\d{2,4})\)([^(]*)", "".join(text.split()))
        if pairs:
            _key_from_pairs(pairs, "element_string")
            _attribute_errors(pairs)
        raise IdentifierError(
            "bad_element_string",
            _("GS1 元素串“%(value)s”无法解析：请检查括号中的应用标识符和其后的值。") % {"value": text},
            value=text,
        ) from None
    return [(es.ai.ai, es.value) for es in message.element_strings]


def _element_pairs_raw(text: str) -> list[tuple[str, str]]:
    for spelling in _GS_SPELLINGS:
        text = text.replace(spelling, _GS)
    text = text.lstrip(_GS)
    try:
        message = GS1Message.parse(text)
    except ParseError:
        raise IdentifierError(
            "bad_element_string",
            _("GS1 元素串“%(value)s”无法解析：请检查应用标识符、各字段长度和变长字段后的分隔符（FNC1/GS），"
              "或改用带括号的形式，例如 (01)06901234567892(10)A1。") % {"value": text.replace(_GS, "<GS>")},
            value=text,
        ) from None
    return [(es.ai.ai, es.value) for es in message.element_strings]


def parse_identifier(text: str) -> GS1Key:
    """Parse and validate any accepted identifier form (see module docstring) into a ``GS1Key``.

    Raises ``IdentifierError`` with a Chinese message and a ``code`` saying what is wrong.
    """
    if not isinstance(text, str) or not text.strip():
        raise IdentifierError("empty", _("请输入标识符。"))
    text = text.strip()
    lowered = text.lower()
    if lowered.startswith("urn:epc:"):
        return _parse_urn(text)
    if lowered.startswith(("https://", "http://")):
        return _parse_digital_link(text)
    if text.startswith("("):
        return _key_from_pairs(_element_pairs_hri(text), "element_string")
    if text.isdecimal() and text.isascii():
        if len(text) in (8, 12, 13, 14):
            return GS1Key(Kind.GTIN, gtin=_gtin14(text), source_form="gtin")
        if len(text) == 18:
            return GS1Key(Kind.SSCC, sscc=_check_digits("sscc", text, (18,)), source_form="gtin")
    raw_like = text[:1].isdecimal() and text.isascii() and len(text) > 14 and not any(c.isspace() for c in text)
    if raw_like or any(g in text for g in (_GS, *_GS_SPELLINGS)):
        return _key_from_pairs(_element_pairs_raw(text), "element_string")
    if text.isdecimal():
        raise IdentifierError(
            "bad_length",
            _("商品条码应为 8、12、13 或 14 位数字，实际为 %(actual)d 位。") % {"actual": len(text)},
            field="gtin", actual=len(text),
        )
    raise _unrecognised(text)


def normalise(text: str) -> str:
    """The canonical string (Digital Link URI on id.gs1.org) of any accepted identifier form."""
    return parse_identifier(text).canonical


# --- output forms --------------------------------------------------------------------------------


def to_digital_link(key: GS1Key | str, *, host: str = DIGITAL_LINK_HOST, with_attributes: bool = False) -> str:
    """Render a key as an uncompressed GS1 Digital Link URI (GTIN-14, values percent-encoded).

    ``with_attributes`` appends the data attributes as a query string ordered by AI, matching
    biip's canonical URI.
    """
    if isinstance(key, str):
        key = parse_identifier(key)
    path = "".join(f"/{ai}/{quote(value, safe='')}" for ai, value in _key_pairs(key))
    query = f"?{urlencode(sorted(key.attributes))}" if with_attributes and key.attributes else ""
    return f"https://{host}{path}{query}"


def gs1_prefix(key: GS1Key) -> GS1Prefix | GS18Prefix | None:
    """The GS1 prefix (issuing member organisation, e.g. 690–699 GS1 China) of a key, from biip.

    For a GTIN this is biip's reading of the GTIN (a GS1-8 prefix for a GTIN-8).
    """
    if key.gtin:
        return Gtin.parse(key.gtin).prefix
    digits = _company_digits(key)
    return GS1Prefix.extract(digits) if digits else None


def _company_digits(key: GS1Key) -> str:
    """The digits of a key that start with the GS1 company prefix."""
    match key.kind:
        case Kind.SGTIN | Kind.LGTIN | Kind.GTIN:
            return key.gtin[1:13]
        case Kind.SSCC:
            return key.sscc[1:17]
        case Kind.GLN | Kind.SGLN | Kind.PGLN:
            return key.gln[:12]
        case Kind.GRAI:
            return key.grai[1:13]
        case Kind.GSRN:
            return key.gsrn[:17]
        case Kind.GIAI:
            return re.match(r"\d*", key.giai).group()
    return ""


def company_prefix_length(key: GS1Key) -> int | None:
    """The GS1 company prefix length from biip's bundled GS1 table, or None if the table has none."""
    digits = _company_digits(key)
    if not digits:
        return None
    found = GS1CompanyPrefix.extract(digits)
    return len(found.value) if found else None


def to_epc_urn(key: GS1Key | str, company_prefix_length: int | None = None) -> str:
    """Render a key as its EPC pure-identity URN (or LGTIN class / SGTIN pattern for class keys).

    The company prefix length comes from the argument, else the source document, else biip's GS1
    table; if none is known, ``IdentifierError`` (``company_prefix_unknown``). A GTIN alone becomes
    the pattern ``urn:epc:idpat:sgtin:CP.IR.*``; an SGTIN's batch has no place in the URN and is dropped.
    """
    if isinstance(key, str):
        key = parse_identifier(key)
    length = company_prefix_length or key.company_prefix_length or _table_length(key)
    if length is None:
        raise IdentifierError(
            "company_prefix_unknown",
            _("无法确定“%(value)s”的 GS1 厂商识别代码长度，不能生成 EPC URN；请指明厂商识别代码位数（6 至 12 位）。")
            % {"value": key.canonical},
            value=key.canonical,
        )
    if length not in COMPANY_PREFIX_LENGTHS:
        raise IdentifierError(
            "bad_company_prefix",
            _("厂商识别代码长度应为 6 至 12 位，收到 %(actual)d。") % {"actual": length}, actual=length,
        )
    n = length

    def esc(value: str) -> str:
        return value.translate(_URN_ESCAPE)

    match key.kind:
        case Kind.SGTIN | Kind.LGTIN | Kind.GTIN:
            g = key.gtin
            cp, ir = g[1:1 + n], g[0] + g[1 + n:13]
            if key.kind == Kind.SGTIN:
                return f"urn:epc:id:sgtin:{cp}.{ir}.{esc(key.serial)}"
            if key.kind == Kind.LGTIN:
                return f"urn:epc:class:lgtin:{cp}.{ir}.{esc(key.batch)}"
            return f"urn:epc:idpat:sgtin:{cp}.{ir}.*"
        case Kind.SSCC:
            s = key.sscc
            return f"urn:epc:id:sscc:{s[1:1 + n]}.{s[0]}{s[1 + n:17]}"
        case Kind.GLN | Kind.SGLN:
            return f"urn:epc:id:sgln:{key.gln[:n]}.{key.gln[n:12]}.{esc(key.extension) or '0'}"
        case Kind.PGLN:
            return f"urn:epc:id:pgln:{key.gln[:n]}.{key.gln[n:12]}"
        case Kind.GRAI:
            if not key.serial:
                raise IdentifierError(
                    "grai_without_serial", _("没有序列号的 GRAI 不能表示为 EPC URN。"), value=key.canonical,
                )
            return f"urn:epc:id:grai:{key.grai[1:1 + n]}.{key.grai[1 + n:13]}.{esc(key.serial)}"
        case Kind.GIAI:
            if len(key.giai) <= n or not key.giai[:n].isdecimal():
                raise IdentifierError(
                    "bad_company_prefix",
                    _("GIAI“%(value)s”不以 %(length)d 位数字的厂商识别代码开头。") % {"value": key.giai, "length": n},
                    value=key.giai,
                )
            return f"urn:epc:id:giai:{key.giai[:n]}.{esc(key.giai[n:])}"
        case Kind.GSRN:
            return f"urn:epc:id:gsrn:{key.gsrn[:n]}.{key.gsrn[n:17]}"
    raise IdentifierError("unknown_kind", _("未知的标识符类型“%(kind)s”。") % {"kind": key.kind})


def _table_length(key: GS1Key) -> int | None:
    return company_prefix_length(key)


# --- consumer lookup -----------------------------------------------------------------------------


def _plain_messages() -> dict[str, str]:
    """Plain-language explanations for a person who typed or scanned a code."""
    return {
        "empty": _("请输入或扫描商品包装上的条码、二维码内容或追溯码。"),
        "check_digit": _("条码最后一位（校验位）对不上：按前面的数字应为 %(expected)s，您输入的是 %(actual)s。"
                         "请核对是否输错、漏输或多输了数字。"),
        "bad_length": _("条码位数不对：商品条码通常是 13 位（也有 8、12、14 位），您输入了 %(actual)s 位。"),
        "not_digits": _("条码只能由数字组成，请去掉其中的字母或符号后再试。"),
        "batch_too_long": _("批号最长 20 个字符，您输入了 %(actual)s 个。"),
        "serial_too_long": _("序列号最长 20 个字符，您输入了 %(actual)s 个。"),
        "bad_characters": _("批号或序列号中有不能使用的字符（如汉字、空格或全角符号），请只用英文字母、数字和常见符号。"),
        "unrecognised_format": _("无法识别您输入的内容。请输入包装上条码下方的数字（可在后面空一格加批号），"
                                 "或扫描包装上的二维码。"),
    }


def parse_lookup_code(text: str) -> GS1Key:
    """Parse what a consumer typed or scanned: element string, Digital Link, or GTIN [space batch].

    Full-width digits and brackets typed with a Chinese input method are accepted. Errors carry the
    same ``code`` as ``parse_identifier`` with a plain-language Chinese message.
    """
    try:
        if not isinstance(text, str):
            raise IdentifierError("empty", _("请输入标识符。"))
        cleaned = unicodedata.normalize("NFKC", text).strip()
        # Split on spaces only: str.split() would also split on the GS separator (ASCII 29).
        parts = re.split(r"[ \t]+", cleaned) if cleaned else []
        if len(parts) == 2 and parts[0].isdecimal() and len(parts[0]) in (8, 12, 13, 14):
            gtin = _gtin14(parts[0])
            batch = _check_text("batch", parts[1], MAX_BATCH)
            return GS1Key(Kind.LGTIN, gtin=gtin, batch=batch, source_form="gtin")
        if len(parts) > 1 and not cleaned.startswith("("):
            raise _unrecognised(cleaned)
        try:
            return parse_identifier(cleaned)
        except IdentifierError as exc:
            # A long run of digits from a person is a mistyped barcode more often than an element string.
            if exc.code == "bad_element_string" and cleaned.isdecimal():
                raise IdentifierError("bad_length", exc.message, field="gtin", actual=len(cleaned)) from exc
            raise
    except IdentifierError as exc:
        plain = _plain_messages().get(exc.code)
        if plain is None:
            raise
        raise IdentifierError(exc.code, plain % exc.details if "%(" in plain else plain, **exc.details) from exc
