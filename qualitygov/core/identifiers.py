"""Identifier checks: USCC, organisation code, GTIN, SSCC, GS1 element strings and Digital Link URIs.

Check digits come from the libraries (python-stdnum for the USCC, biip for GS1 keys). The one
exception is the GB 11714 organisation code, which no maintained library covers; its check
character is computed from the weights the standard publishes (see ``org_code_check_char``).
Every failure carries a Chinese reason that names what is wrong (length, character, check
character with the expected one).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import biip
from biip.gtin import Gtin
from biip.sscc import Sscc
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength

USCC_ALPHABET = stdnum_uscc._alphabet  # GB 32100-2015 character set (no I, O, Z, S, V)

# GB 32100-2015 Table 1: registration management department code (position 1) and the
# organisation category codes (position 2) each department may use. python-stdnum accepts only
# digits in the first eight positions, so codes of departments A (Central Military Commission
# establishment office), N (agriculture) and Y (others) are rejected there although they are
# legitimate; we accept them here and still take the check character from the library.
# Department names are lazy so that a reason reads in the reader's language.
REGISTRATION_AUTHORITIES: dict[str, tuple[str, str]] = {
    "1": (gettext_lazy("机构编制"), "1239"),
    "2": (gettext_lazy("外交"), "19"),
    "3": (gettext_lazy("司法行政"), "123459"),
    "4": (gettext_lazy("文化"), "19"),
    "5": (gettext_lazy("民政"), "1239"),
    "6": (gettext_lazy("旅游"), "19"),
    "7": (gettext_lazy("宗教"), "1239"),
    "8": (gettext_lazy("工会"), "19"),
    "9": (gettext_lazy("工商（市场监管）"), "123"),
    "A": (gettext_lazy("中央军委改革和编制办公室"), "19"),
    "N": (gettext_lazy("农业"), "1239"),
    "Y": (gettext_lazy("其他"), "1"),
}

# GB 11714-1997 organisation code: weights of positions 1–8 for the check character.
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
ORG_CODE_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass
class IdentifierCheck:
    """The answer of ``check_identifier``; ``asdict`` gives the CLI's JSON."""

    kind: str
    valid: bool
    normalized: str | None
    reason: str | None = None
    details: dict | None = None

    def as_dict(self) -> dict:
        data = asdict(self)
        if data["details"] is None:
            data.pop("details")
        return data


class IdentifierError(ValueError):
    """An identifier is invalid; ``reason`` is the Chinese explanation shown to users."""

    def __init__(self, reason: str, code: str = "invalid"):
        super().__init__(reason)
        self.reason = reason
        self.code = code


def _compact(value: str) -> str:
    return re.sub(r"[\s\-]", "", value or "").upper()


def validate_uscc(value: str) -> str:
    """Return the normalised USCC or raise ``IdentifierError`` with the reason in Chinese."""
    number = _compact(value)
    if not number:
        raise IdentifierError(_("统一社会信用代码不能为空。"), "required")
    if len(number) != 18:
        raise IdentifierError(_("统一社会信用代码长度应为 18 位，实际为 %(length)s 位。") % {"length": len(number)},
                              "length")
    for position, char in enumerate(number, start=1):
        if char not in USCC_ALPHABET:
            raise IdentifierError(
                _("统一社会信用代码第 %(position)s 位字符“%(char)s”不允许（不使用 I、O、Z、S、V 及其他符号）。")
                % {"position": position, "char": char}, "character")
    authority = REGISTRATION_AUTHORITIES.get(number[0])
    if authority is None:
        raise IdentifierError(_("统一社会信用代码第 1 位“%(char)s”不是有效的登记管理部门代码。") % {"char": number[0]},
                              "authority")
    if number[1] not in authority[1]:
        raise IdentifierError(
            _("统一社会信用代码第 2 位“%(char)s”不是登记管理部门“%(authority)s”下有效的机构类别代码"
              "（应为 %(allowed)s 之一）。")
            % {"char": number[1], "authority": authority[0],
               "allowed": pgettext("list separator", "、").join(authority[1])}, "category")
    if not number[2:8].isdigit():
        raise IdentifierError(_("统一社会信用代码第 3–8 位应为 6 位数字的登记管理机关行政区划码。"), "region")
    expected = stdnum_uscc.calc_check_digit(number[:17])
    if number[17] != expected:
        raise IdentifierError(_("统一社会信用代码校验码不符：应为“%(expected)s”，实际为“%(actual)s”。")
                              % {"expected": expected, "actual": number[17]}, "checksum")
    if number[0].isdigit() and number[1].isdigit():
        # Cross-check with the library for the codes it covers; it must agree with us.
        try:
            stdnum_uscc.validate(number)
        except (InvalidFormat, InvalidLength, InvalidChecksum) as exc:  # pragma: no cover - agreement guard
            raise IdentifierError(_("统一社会信用代码无效：%(error)s") % {"error": exc}, "invalid") from exc
    return number


def org_code_check_char(body: str) -> str:
    """GB 11714-1997 check character for the eight-character body of an organisation code."""
    total = sum(ORG_CODE_CHARS.index(c) * w for c, w in zip(body, ORG_CODE_WEIGHTS, strict=True))
    remainder = 11 - total % 11
    return {10: "X", 11: "0"}.get(remainder, str(remainder))


def validate_org_code(value: str) -> str:
    """Return the organisation code as ``XXXXXXXX-C`` or raise ``IdentifierError``."""
    number = _compact(value)
    if len(number) != 9:
        raise IdentifierError(_("组织机构代码长度应为 9 位（8 位本体代码加 1 位校验码），实际为 %(length)s 位。")
                              % {"length": len(number)}, "length")
    for position, char in enumerate(number[:8], start=1):
        if char not in ORG_CODE_CHARS:
            raise IdentifierError(_("组织机构代码第 %(position)s 位字符“%(char)s”不允许（只能是数字或大写字母）。")
                                  % {"position": position, "char": char}, "character")
    expected = org_code_check_char(number[:8])
    if number[8] != expected:
        raise IdentifierError(_("组织机构代码校验码不符：应为“%(expected)s”，实际为“%(actual)s”。")
                              % {"expected": expected, "actual": number[8]}, "checksum")
    return f"{number[:8]}-{number[8]}"


def validate_gtin(value: str) -> str:
    """Return the GTIN as 14 digits (GS1 storage form) or raise ``IdentifierError``."""
    number = re.sub(r"\s", "", value or "")
    if not number:
        raise IdentifierError(_("GTIN 不能为空。"), "required")
    if not number.isdigit():
        bad = next(c for c in number if not c.isdigit())
        raise IdentifierError(_("GTIN 只能由数字组成，含有不允许的字符“%(char)s”。") % {"char": bad}, "character")
    if len(number) not in (8, 12, 13, 14):
        raise IdentifierError(_("GTIN 长度应为 8、12、13 或 14 位，实际为 %(length)s 位。") % {"length": len(number)},
                              "length")
    try:
        gtin = Gtin.parse(number)
    except biip.ParseError as exc:
        match = re.search(r"Expected (\d), got (\d)", str(exc))
        if match:
            raise IdentifierError(_("GTIN 校验位不符：应为“%(expected)s”，实际为“%(actual)s”。")
                                  % {"expected": match.group(1), "actual": match.group(2)}, "checksum") from exc
        raise IdentifierError(_("GTIN 无效：%(error)s") % {"error": exc}, "invalid") from exc
    return gtin.as_gtin_14()


def gtin_prefix_usage(gtin14: str) -> tuple[str, str]:
    """GS1 prefix of a GTIN and what it is used for (690–699 are GS1 China)."""
    gtin = Gtin.parse(gtin14)
    return (gtin.prefix.value, gtin.prefix.usage) if gtin.prefix else ("", "")


def _looks_like_uscc(number: str) -> bool:
    return len(number) == 18 and number[0] in REGISTRATION_AUTHORITIES


def _gs1_details(result) -> dict:
    message = result.gs1_digital_link_uri
    elements = []
    for es in getattr(message, "element_strings", []) or []:
        elements.append({
            "ai": es.ai.ai,
            "title": es.ai.data_title,
            "value": es.value,
            "date": es.date.isoformat() if es.date else None,
        })
    return {"elements": elements}


def check_identifier(value: str) -> IdentifierCheck:
    """Recognise and check one identifier; what ``qualitygov check-id`` prints."""
    raw = (value or "").strip()
    if not raw:
        return IdentifierCheck("unknown", False, None, _("输入为空。"))
    if re.match(r"^https?://", raw, re.IGNORECASE):
        result = biip.parse(raw)
        link = result.gs1_digital_link_uri
        if link is None:
            return IdentifierCheck("gs1_digital_link", False, None,
                                   _("不是有效的 GS1 数字链接 URI：%(error)s")
                                   % {"error": result.gs1_digital_link_uri_error})
        errors = [es.gtin_error or es.sscc_error or es.gln_error for es in link.element_strings]
        errors = [e for e in errors if e]
        if errors:
            return IdentifierCheck("gs1_digital_link", False, None,
                                   _("GS1 数字链接中的标识无效：%(error)s") % {"error": errors[0]})
        return IdentifierCheck("gs1_digital_link", True, link.as_canonical_uri(), None, _gs1_details(result))
    compact = _compact(raw)
    # Scanned element strings start with an AI such as 00, 01 or 02 and run past 18 characters.
    if raw.startswith("(") or "\x1d" in raw or (len(compact) > 18 and compact[:2] in ("00", "01", "02")):
        return _check_element_string(raw)
    if _looks_like_uscc(compact) and not compact.isdigit():
        return _check(lambda: validate_uscc(compact), "uscc")
    if len(compact) == 18 and compact.isdigit():
        # Eighteen digits are either a USCC with a numeric check character or an SSCC.
        uscc = _check(lambda: validate_uscc(compact), "uscc")
        if uscc.valid:
            return uscc
        try:
            sscc = Sscc.parse(compact)
            return IdentifierCheck("sscc", True, sscc.value)
        except biip.ParseError:
            return uscc
    if len(compact) == 18:
        return _check(lambda: validate_uscc(compact), "uscc")
    if len(compact) == 9 and not compact.isdigit() or len(compact) == 9 and "-" in raw:
        return _check(lambda: validate_org_code(compact), "org_code")
    if compact.isdigit() and len(compact) in (8, 12, 13, 14):
        check = _check(lambda: validate_gtin(compact), "gtin")
        if check.valid:
            prefix, usage = gtin_prefix_usage(check.normalized)
            check.details = {"gs1_prefix": prefix, "prefix_usage": usage}
        return check
    if len(compact) == 9:
        return _check(lambda: validate_org_code(compact), "org_code")
    return IdentifierCheck("unknown", False, None,
                           _("无法识别的标识（长度 %(length)s）：应为统一社会信用代码（18 位）、组织机构代码（9 位）、"
                             "GTIN（8/12/13/14 位）、GS1 元素串或 GS1 数字链接 URI。") % {"length": len(compact)})


def _check(func, kind: str) -> IdentifierCheck:
    try:
        return IdentifierCheck(kind, True, func())
    except IdentifierError as exc:
        return IdentifierCheck(kind, False, None, exc.reason)


def _check_element_string(raw: str) -> IdentifierCheck:
    """A GS1 element string, in human-readable form ``(01)…(10)…`` or as scanned data."""
    from biip.gs1_messages import GS1Message

    try:
        message = GS1Message.parse_hri(raw) if raw.startswith("(") else GS1Message.parse(raw)
    except biip.ParseError as exc:
        return IdentifierCheck("gs1_element_string", False, None, _("不是有效的 GS1 元素串：%(error)s") % {"error": exc})
    errors = [es.gtin_error or es.sscc_error or es.gln_error for es in message.element_strings]
    errors = [e for e in errors if e]
    if errors:
        return IdentifierCheck("gs1_element_string", False, None,
                                _("GS1 元素串中的标识无效：%(error)s") % {"error": errors[0]})
    details = {"elements": [
        {"ai": es.ai.ai, "title": es.ai.data_title, "value": es.value,
         "date": es.date.isoformat() if es.date else None}
        for es in message.element_strings
    ], "digital_link": message.as_digital_link_uri() if hasattr(message, "as_digital_link_uri") else None}
    return IdentifierCheck("gs1_element_string", True, message.as_hri(), None, details)
