"""GS1 identifier parsing and normalisation, checked against the shared GS1 and EPCIS references.

Held-out expectations come from ../shared/reference/gs1/gs1_test_vectors.json (computed with biip
and python-stdnum) and the identifiers of the official EPCIS 2.0 examples; check digits are also
cross-checked with python-stdnum, a library independent of biip.
"""

import json
from pathlib import Path

import pytest
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from stdnum import ean

from qualitygov.trace.identifiers import (
    GS1Key,
    IdentifierError,
    Kind,
    company_prefix_length,
    gs1_prefix,
    normalise,
    parse_identifier,
    parse_lookup_code,
    to_digital_link,
    to_epc_urn,
)

REFERENCE = Path(__file__).resolve().parents[4] / "shared" / "reference"
VECTORS = json.loads((REFERENCE / "gs1" / "gs1_test_vectors.json").read_text())
EXAMPLES = sorted((REFERENCE / "epcis" / "examples").glob("*.json*"))

# Identifier-bearing EPCIS fields named in the brief (lists of EPCs, parentID, epcClass, read point
# and business location ids).
_EPC_LIST_FIELDS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")


def _collect(node, found):
    if isinstance(node, dict):
        for name, value in node.items():
            if name in _EPC_LIST_FIELDS:
                found.update((name, v) for v in value)
            elif name in ("parentID", "epcClass"):
                found.add((name, value))
            elif name in ("readPoint", "bizLocation") and isinstance(value, dict):
                found.add((name, value["id"]))
            _collect(value, found)
    elif isinstance(node, list):
        for item in node:
            _collect(item, found)


def _example_identifiers():
    found = set()
    for path in EXAMPLES:
        _collect(json.loads(path.read_text()), found)
    return sorted({value for _name, value in found})


EXAMPLE_IDS = _example_identifiers()
EXAMPLE_URNS = [i for i in EXAMPLE_IDS if i.startswith("urn:")]
EXAMPLE_LINKS = [i for i in EXAMPLE_IDS if i.startswith("https://")]


def test_examples_hold_the_identifier_kinds_this_module_claims():
    """The collection is not empty and covers every URN family found in the examples."""
    families = {":".join(i.split(":")[:4]) for i in EXAMPLE_URNS}
    assert families == {
        "urn:epc:id:sgtin", "urn:epc:class:lgtin", "urn:epc:idpat:sgtin", "urn:epc:id:sscc",
        "urn:epc:id:sgln", "urn:epc:id:giai", "urn:epc:id:grai", "urn:epc:id:gsrn",
    }
    assert len(EXAMPLE_LINKS) >= 6


# --- GTIN check digits and prefixes ----------------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS["gtin_check_digit"], ids=lambda v: v["gtin"])
def test_gtin_vectors(vector):
    key = parse_identifier(vector["gtin"])
    assert key.kind == Kind.GTIN
    assert key.gtin == vector["gtin14"]
    assert key.gtin_format == vector["format"]
    assert key.gtin[-1] == vector["check_digit"]
    assert key.gtin[:-1].endswith(vector["payload"])
    assert ean.calc_check_digit(vector["payload"]) == vector["check_digit"]
    prefix = gs1_prefix(key)
    assert (prefix.value, prefix.usage) == (vector["gs1_prefix"], vector["prefix_usage"])
    # The GTIN-14 form and the 13/12-digit form are the same key.
    assert parse_identifier(vector["gtin14"]) == key
    assert key.canonical == f"https://id.gs1.org/01/{vector['gtin14']}"


@pytest.mark.parametrize("vector", VECTORS["gtin_check_digit"], ids=lambda v: v["gtin"])
def test_every_wrong_check_digit_is_refused_with_the_expected_one(vector):
    good = vector["gtin"]
    for wrong in "0123456789":
        if wrong == vector["check_digit"]:
            continue
        with pytest.raises(IdentifierError) as caught:
            parse_identifier(good[:-1] + wrong)
        assert caught.value.code == "check_digit"
        assert f"应为 {vector['check_digit']}，实际为 {wrong}" in caught.value.message
        assert not ean.is_valid(good[:-1] + wrong)


@pytest.mark.parametrize("vector", VECTORS["gtin_invalid"], ids=lambda v: v["value"])
def test_gtin_invalid_vectors(vector):
    # biip's message "Expected 2, got 1." gives the digits the Chinese message must state.
    expected, actual = vector["error"].rstrip(".").split("Expected ")[1].split(", got ")
    with pytest.raises(IdentifierError) as caught:
        parse_identifier(vector["value"])
    assert caught.value.code == "check_digit"
    assert caught.value.details["expected"] == int(expected)
    assert caught.value.details["actual"] == int(actual)
    assert caught.value.message == (
        f"商品条码（GTIN）“{vector['value']}”校验位错误：应为 {expected}，实际为 {actual}。"
    )
    assert isinstance(caught.value, ValueError)


def test_gs1_china_company_prefix_lengths_come_from_the_gs1_table():
    china = [v for v in VECTORS["gtin_check_digit"] if v["prefix_usage"] == "GS1 China"]
    assert {v["gs1_prefix"] for v in china} == {"690", "695"}
    # GS1 China: 690/691 hand out 7-digit company prefixes, 695 8-digit ones.
    assert company_prefix_length(parse_identifier("6901234567892")) == 7
    assert company_prefix_length(parse_identifier("6950123456786")) == 8
    assert to_epc_urn("(01)06901234567892(21)A1") == "urn:epc:id:sgtin:6901234.056789.A1"
    assert to_epc_urn("(01)06950123456786(10)L1") == "urn:epc:class:lgtin:69501234.05678.L1"


# --- Digital Link -----------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS["digital_link"], ids=lambda v: v["uri"])
def test_digital_link_vectors(vector):
    assert vector["ok"]
    key = parse_identifier(vector["uri"])
    assert key.source_form == "digital_link"
    assert to_digital_link(key, with_attributes=True) == vector["canonical"]
    # The canonical key drops the query (data attributes are not identity).
    assert key.canonical == vector["canonical"].split("?")[0]
    by_ai = {e["ai"]: e for e in vector["elements"]}
    assert key.gtin == by_ai.get("01", {}).get("value", "")
    assert key.batch == by_ai.get("10", {}).get("value", "")
    assert key.serial == by_ai.get("21", {}).get("value", "")
    assert key.sscc == by_ai.get("00", {}).get("value", "")
    assert key.attribute_dates() == {ai: e["date"] for ai, e in by_ai.items() if e["date"]}
    assert dict(key.attributes) == {ai: e["value"] for ai, e in by_ai.items() if ai not in ("01", "10", "21", "00")}
    # Same result as biip's own canonical URI.
    assert to_digital_link(key, with_attributes=True) == GS1DigitalLinkURI.parse(vector["uri"]).as_canonical_uri()


def test_digital_link_kinds_and_class_level():
    assert parse_identifier("https://example.com/01/06901234567892/10/LOT-2024-01").kind == Kind.LGTIN
    sgtin = parse_identifier("https://id.gs1.org/01/09520123456788/10/ABC123/21/12345?17=251231")
    assert (sgtin.kind, sgtin.is_class_level) == (Kind.SGTIN, False)
    assert sgtin.class_key() == parse_identifier("(01)09520123456788(10)ABC123")
    assert sgtin.class_key().is_class_level
    # An SGTIN URN carries no batch: its class cannot be known from the identifier alone.
    assert parse_identifier("urn:epc:id:sgtin:0614141.107346.2017").class_key() is None
    gtin = parse_identifier("https://id.gs1.org/01/06901234567892")
    assert gtin.is_class_level and gtin.class_key() == gtin
    assert parse_identifier("https://id.gs1.org/00/106141411234567897").class_key() is None


def test_digital_link_location_and_other_hosts():
    gln = parse_identifier("https://id.example.cn/some/prefix/414/0614141007776")
    assert (gln.kind, gln.gln, gln.extension) == (Kind.GLN, "0614141007776", "")
    assert gln.canonical == "https://id.gs1.org/414/0614141007776"
    sgln = parse_identifier("http://resolver.example.com/414/0614141073467/254/1234")
    assert (sgln.kind, sgln.extension) == (Kind.SGLN, "1234")
    assert to_epc_urn(sgln) == "urn:epc:id:sgln:0614141.07346.1234"
    assert to_digital_link(sgln, host="trace.example.cn") == "https://trace.example.cn/414/0614141073467/254/1234"
    # GTIN-13 in the path is padded to GTIN-14; extra non-AI query parameters are ignored.
    key = parse_identifier("https://id.gs1.org/01/6901234567892/10/A1?linkType=gs1:pip")
    assert key.canonical == "https://id.gs1.org/01/06901234567892/10/A1"
    assert key.attributes == ()


def test_reserved_characters_are_percent_encoded_both_ways():
    key = parse_identifier("urn:epc:id:sgtin:0614141.107346.20%2F16%25")
    assert key.serial == "20/16%"
    assert key.canonical == "https://id.gs1.org/01/10614141073464/21/20%2F16%25"
    assert parse_identifier(key.canonical) == key
    assert key.epc_urn == "urn:epc:id:sgtin:0614141.107346.20%2F16%25"


# --- element strings -------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS["element_strings_hri"], ids=lambda v: v["hri"])
def test_element_string_vectors(vector):
    bracketed = parse_identifier(vector["hri"])
    raw = parse_identifier(vector["raw_with_GS"])  # "<GS>" written out as in scanner logs
    scanned = parse_identifier(vector["raw_with_GS"].replace("<GS>", "\x1d"))
    assert bracketed == raw == scanned
    assert bracketed.source_form == raw.source_form == "element_string"
    for key in (bracketed, raw, scanned):
        assert to_digital_link(key, with_attributes=True) == vector["digital_link"]
    by_ai = {e["ai"]: e for e in vector["elements"]}
    assert bracketed.gtin == by_ai["01"]["value"]
    assert bracketed.batch == by_ai.get("10", {}).get("value", "")
    assert bracketed.serial == by_ai.get("21", {}).get("value", "")
    assert bracketed.attribute_dates() == {ai: e["date"] for ai, e in by_ai.items() if e["date"]}
    assert parse_identifier(bracketed.element_string) == bracketed


def test_element_string_other_keys():
    assert parse_identifier("(00)106141411234567897").kind == Kind.SSCC
    assert parse_identifier("(414)0614141073467(254)1234") == parse_identifier("urn:epc:id:sgln:0614141.07346.1234")
    assert parse_identifier("0106901234567892").kind == Kind.GTIN  # unbracketed, no separator needed
    with pytest.raises(IdentifierError) as caught:
        parse_identifier("(00)106141411234567897(01)06901234567892")
    assert caught.value.code == "several_keys"
    with pytest.raises(IdentifierError) as caught:
        parse_identifier("(17)251231")
    assert caught.value.code == "no_key"


# --- EPCIS example identifiers: every one parses and round-trips ------------------------------------


@pytest.mark.parametrize("urn", EXAMPLE_URNS)
def test_example_urn_round_trips_through_digital_link(urn):
    key = parse_identifier(urn)
    assert key.source_form == "epc_urn"
    assert key.epc_urn == urn  # the document's own company prefix length is kept
    link = key.canonical
    assert link.startswith("https://id.gs1.org/")
    back = parse_identifier(link)
    assert back == key
    assert to_epc_urn(back, company_prefix_length=key.company_prefix_length) == urn
    assert normalise(urn) == link
    # biip reads the same key from the Digital Link (independent of this module's path builder).
    assert GS1DigitalLinkURI.parse(link).as_canonical_uri() == link


@pytest.mark.parametrize("link", EXAMPLE_LINKS)
def test_example_digital_link_round_trips_through_urn(link):
    key = parse_identifier(link)
    assert key.canonical == link
    urn = to_epc_urn(key)  # company prefix length from the GS1 table (all are GS1 US/Germany prefixes)
    assert parse_identifier(urn) == key
    assert parse_identifier(urn).canonical == link


def test_example_urn_kinds():
    kinds = {parse_identifier(u).kind for u in EXAMPLE_URNS}
    assert kinds == {Kind.SGTIN, Kind.LGTIN, Kind.GTIN, Kind.SSCC, Kind.GLN, Kind.SGLN,
                     Kind.GIAI, Kind.GRAI, Kind.GSRN}
    sscc = parse_identifier("urn:epc:id:sscc:0614141.1234567890")
    assert sscc.sscc == "106141412345678908"
    assert ean.calc_check_digit(sscc.sscc[:-1]) == sscc.sscc[-1]
    assert parse_identifier("urn:epc:idpat:sgtin:4012345.066666.*") == parse_identifier(
        "https://id.gs1.org/01/04012345666663"
    )


def test_demo_prefix_needs_the_documents_own_length():
    """952 is GS1's example prefix: examples use lengths the GS1 table does not give."""
    key = parse_identifier("https://id.gs1.org/414/9529999999993")
    assert company_prefix_length(key) is None
    assert key.epc_urn is None
    with pytest.raises(IdentifierError) as caught:
        to_epc_urn(key)
    assert caught.value.code == "company_prefix_unknown"
    assert "厂商识别代码长度" in caught.value.message
    assert to_epc_urn(key, company_prefix_length=7) == "urn:epc:id:sgln:9529999.99999.0"
    from_urn = parse_identifier("urn:epc:id:sgtin:9520001.012346.10000001001")
    assert company_prefix_length(from_urn) == 6  # the table's length differs from the document's 7
    assert from_urn.epc_urn == "urn:epc:id:sgtin:9520001.012346.10000001001"


def test_batch_of_an_sgtin_is_dropped_in_the_urn():
    key = parse_identifier("https://id.gs1.org/01/09520123456788/10/ABC123/21/12345")
    assert to_epc_urn(key, 7) == "urn:epc:id:sgtin:9520123.045678.12345"
    assert parse_identifier(to_epc_urn(key, 7)).batch == ""


def test_keys_are_frozen_and_hashable():
    key = parse_identifier("6901234567892")
    with pytest.raises(AttributeError):
        key.gtin = "x"
    assert len({key, parse_identifier("06901234567892"), parse_identifier("https://id.gs1.org/01/6901234567892")}) == 1
    assert isinstance(key, GS1Key)


# --- validation and error messages -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        ("", "empty", "请输入标识符。"),
        ("hello", "unrecognised_format", "无法识别的标识符格式：“hello”"),
        ("12345", "bad_length", "商品条码应为 8、12、13 或 14 位数字，实际为 5 位。"),
        ("(01)06901234567892(10)" + "A" * 21, "batch_too_long", "批号超过 20 个字符（实际 21 个）"),
        ("(01)06901234567892(21)" + "1" * 21, "serial_too_long", "序列号超过 20 个字符（实际 21 个）"),
        ("urn:epc:class:lgtin:6901234.056789.A#1", "bad_characters", "批号“A#1”含有 GS1 不允许的字符：“#”"),
        ("urn:epc:id:sgtin:0614141.107346." + "9" * 21, "serial_too_long", "序列号超过 20 个字符"),
        ("urn:epc:id:sgtin:0614141.10734.1", "bad_urn", "合计应为 13 位，实际为 12 位"),
        ("urn:epc:id:sgtin:06141.1073466.1", "bad_company_prefix", "应为 6 至 12 位，实际为 5 位"),
        ("urn:epc:id:sgtin:0614141.107346", "bad_urn", "应由 3 段"),
        ("urn:epc:id:sgtin:06141A1.107346.1", "bad_urn", "只能包含数字"),
        ("urn:epc:id:cpi:0614141.123.1", "unsupported_urn", "不支持的 EPC 类型“id:cpi”"),
        ("urn:epc:idpat:sgtin:0614141.*.*", "unsupported_pattern", "只支持"),
        ("urn:epc:tag:sgtin-96:3.0614141.812345.6789", "unsupported_urn", "应以 urn:epc:id:"),
        ("https://id.gs1.org/01/06901234567891", "check_digit", "应为 2，实际为 1"),
        ("https://id.gs1.org/01/069012345678/21/A", "check_digit", "校验位错误"),
        ("https://id.gs1.org/01/06901234567892/21", "bad_digital_link", "最后一段缺少值"),
        ("https://id.gs1.org/01/06901234567892/21/1/10/2", "bad_digital_link", "(10) 的位置不对"),
        ("https://id.gs1.org/00/106141411234567897/21/1", "bad_digital_link", "(21) 的位置不对"),
        ("https://example.com/products/abc", "bad_digital_link", "没有找到主标识"),
        ("https://id.gs1.org/01/06901234567892?17=251340", "bad_attribute", "(17) 的日期“251340”无效"),
        ("https://id.gs1.org/00/106141411234567898", "check_digit", "系列货运包装箱代码（SSCC）"),
        ("https://id.gs1.org/414/0614141007777", "check_digit", "参与方位置代码（GLN）“0614141007777”校验位错误：应为 6"),
        ("(01)06901234567892(10)A1(01)06901234567892", "several_keys", "只能有一个主标识"),
        ("(01)0690123456789", "bad_length", "商品条码（GTIN）应为 14 位数字，实际为 13 位。"),
        ("(01)06901234567892(10)A1(30)ABC", "bad_attribute", "(30) 的值“ABC”"),
        ("0106901234567892+10A1", "bad_element_string", "无法解析"),
        ("(01)0690123456789X", "not_digits", "只能包含数字"),
        ("(99)ABC", "no_key", "没有找到 GS1 主标识"),
        ("010690123456789210A1\x1d21X\x1d21Y", "repeated_ai", "(21) 出现了不止一次"),
    ],
)
def test_errors_say_what_is_wrong(text, code, message):
    with pytest.raises(IdentifierError) as caught:
        parse_identifier(text)
    assert caught.value.code == code
    assert message in caught.value.message
    assert str(caught.value) == caught.value.message


# --- consumer lookup -------------------------------------------------------------------------------


def test_lookup_accepts_what_people_type_or_scan():
    lgtin = parse_identifier("(01)06901234567892(10)A1")
    assert parse_lookup_code("6901234567892 A1") == lgtin
    assert parse_lookup_code("  06901234567892\u3000A1 ") == lgtin  # ideographic space
    assert parse_lookup_code("（01）06901234567892（10）A1") == lgtin  # full-width brackets
    assert parse_lookup_code("６９０１２３４５６７８９２").gtin == "06901234567892"  # full-width digits
    assert parse_lookup_code("https://id.gs1.org/01/06901234567892/10/A1?17=261200") == lgtin
    assert parse_lookup_code("0106901234567892\x1d10A1") == lgtin
    assert parse_lookup_code("6901234567892").kind == Kind.GTIN


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        ("6901234567891", "check_digit", "条码最后一位（校验位）对不上：按前面的数字应为 2，您输入的是 1。"),
        ("690123456789212", "bad_length", "您输入了 15 位"),
        ("69012345", "check_digit", f"应为 {ean.calc_check_digit('6901234')}，您输入的是 5"),
        ("6901234567892 " + "B" * 21, "batch_too_long", "批号最长 20 个字符，您输入了 21 个。"),
        ("6901234567892 批号1", "bad_characters", "不能使用的字符"),
        ("今天买的牛奶", "unrecognised_format", "无法识别您输入的内容"),
        ("6901234567892 A1 B2", "unrecognised_format", "无法识别您输入的内容"),
        ("   ", "empty", "请输入或扫描"),
    ],
)
def test_lookup_errors_are_plain_language(text, code, message):
    with pytest.raises(IdentifierError) as caught:
        parse_lookup_code(text)
    assert caught.value.code == code
    assert message in caught.value.message


def test_party_gln_grai_and_gtin8():
    party = parse_identifier("urn:epc:id:pgln:0614141.00777")
    assert (party.kind, party.gln) == (Kind.PGLN, "0614141007776")
    assert party.canonical == "https://id.gs1.org/417/0614141007776"
    assert parse_identifier(party.canonical).epc_urn == "urn:epc:id:pgln:0614141.00777"
    # A location and a party with the same GLN are different keys.
    assert party != parse_identifier("urn:epc:id:sgln:0614141.00777.0")
    asset_type = parse_identifier("https://id.gs1.org/8003/04012345555554")
    assert (asset_type.kind, asset_type.serial) == (Kind.GRAI, "")
    with pytest.raises(IdentifierError) as caught:
        to_epc_urn(asset_type, 7)
    assert caught.value.code == "grai_without_serial"
    with pytest.raises(IdentifierError) as caught:
        parse_identifier("https://id.gs1.org/8003/04012345555555987")
    assert (caught.value.code, caught.value.details["expected"]) == ("check_digit", 4)
    gtin8 = parse_identifier("96385074")
    assert (gtin8.gtin, gtin8.gtin_format) == ("00000096385074", 8)
    assert ean.is_valid("96385074")
    assert parse_identifier("https://id.gs1.org/01/96385074") == gtin8

