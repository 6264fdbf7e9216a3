"""Identifier checks against the published test vectors in shared/reference/gs1 and GB 32100 rules."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from qualitygov.core.identifiers import (
    IdentifierError,
    check_identifier,
    org_code_check_char,
    validate_gtin,
    validate_org_code,
    validate_uscc,
)

REFERENCE = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "gs1" / "gs1_test_vectors.json"


@pytest.fixture(scope="module")
def vectors():
    with open(REFERENCE, encoding="utf-8") as handle:
        return json.load(handle)


def test_gtin_check_digits_match_reference(vectors):
    for case in vectors["gtin_check_digit"]:
        assert validate_gtin(case["gtin"]) == case["gtin14"]
        result = check_identifier(case["gtin"])
        assert result.valid and result.kind == "gtin"
        assert result.details["gs1_prefix"] == case["gs1_prefix"]
        assert result.details["prefix_usage"] == case["prefix_usage"]


def test_gtin_wrong_check_digit_names_expected_digit(vectors):
    for case in vectors["gtin_invalid"]:
        with pytest.raises(IdentifierError) as err:
            validate_gtin(case["value"])
        expected = case["error"].split("Expected ")[1].split(",")[0]
        assert f"应为“{expected}”" in err.value.reason
        assert err.value.code == "checksum"


@pytest.mark.parametrize("value,fragment", [
    ("69012345678", "长度应为 8、12、13 或 14 位，实际为 11 位"),
    ("69012345678A2", "不允许的字符“A”"),
    ("", "不能为空"),
])
def test_gtin_length_and_characters(value, fragment):
    with pytest.raises(IdentifierError) as err:
        validate_gtin(value)
    assert fragment in err.value.reason


def test_digital_links_match_reference(vectors):
    for case in vectors["digital_link"]:
        result = check_identifier(case["uri"])
        assert result.kind == "gs1_digital_link"
        assert result.valid is case["ok"]
        assert result.normalized == case["canonical"]
        got = [(e["ai"], e["value"], e["date"]) for e in result.details["elements"]]
        assert got == [(e["ai"], e["value"], e["date"]) for e in case["elements"]]


def test_element_strings_match_reference(vectors):
    for case in vectors["element_strings_hri"]:
        for form in (case["hri"], case["raw_with_GS"].replace("<GS>", "\x1d")):
            result = check_identifier(form)
            assert result.kind == "gs1_element_string" and result.valid, form
            got = [(e["ai"], e["value"], e["date"]) for e in result.details["elements"]]
            assert got == [(e["ai"], e["value"], e["date"]) for e in case["elements"]]


def test_uscc_valid_library_example():
    # The example USCC in python-stdnum's documentation.
    assert validate_uscc("91110000600037341L") == "91110000600037341L"
    assert validate_uscc(" 9111 0000 6000 3734 1l ") == "91110000600037341L"


def test_uscc_embedded_organisation_code_is_valid():
    """Positions 9–17 of a USCC are the GB 11714 organisation code, whose check character is independent."""
    uscc = "91110000600037341L"
    assert org_code_check_char(uscc[8:16]) == uscc[16]
    assert validate_org_code(uscc[8:17]) == "60003734-1"


@pytest.mark.parametrize("value,code,fragment", [
    ("9111000060003734", "length", "长度应为 18 位，实际为 16 位"),
    ("91110000600037341I", "character", "第 18 位字符“I”不允许"),
    ("91110000600037341M", "checksum", "校验码不符：应为“L”，实际为“M”"),
    ("B1110000600037341L", "authority", "第 1 位“B”不是有效的登记管理部门代码"),
    ("94110000600037341L", "category", "第 2 位“4”不是登记管理部门“工商（市场监管）”下有效的机构类别代码"),
    ("91AB0000600037341L", "region", "第 3–8 位"),
])
def test_uscc_reasons_name_the_problem(value, code, fragment):
    with pytest.raises(IdentifierError) as err:
        validate_uscc(value)
    assert err.value.code == code
    assert fragment in err.value.reason


@pytest.mark.parametrize("prefix", ["N2", "Y1", "A1", "N3"])
def test_uscc_accepts_authorities_python_stdnum_rejects(prefix):
    """GB 32100 authorities A, N and Y are legitimate although python-stdnum only allows digits there."""
    from stdnum.cn import uscc as stdnum_uscc

    first17 = prefix + "220102" + "MA0000001"
    code = first17 + stdnum_uscc.calc_check_digit(first17)
    assert not stdnum_uscc.is_valid(code)  # the library's limitation this module works around
    assert validate_uscc(code) == code
    assert check_identifier(code).valid


def test_org_code_wrong_check_char():
    with pytest.raises(IdentifierError) as err:
        validate_org_code("60003734-2")
    assert "应为“1”，实际为“2”" in err.value.reason


def test_sscc_and_unknown():
    assert check_identifier("106141411234567897").kind == "sscc"
    unknown = check_identifier("12345")
    assert not unknown.valid and "无法识别" in unknown.reason


def test_cli_check_id_prints_json():
    """`qualitygov check-id` prints the documented JSON and exits 1 for an invalid code."""
    ok = subprocess.run([sys.executable, "-m", "qualitygov.cli", "check-id", "6901234567892"],
                        capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    data = json.loads(ok.stdout)
    assert data == {"kind": "gtin", "valid": True, "normalized": "06901234567892", "reason": None,
                    "details": {"gs1_prefix": "690", "prefix_usage": "GS1 China"}}
    bad = subprocess.run([sys.executable, "-m", "qualitygov.cli", "check-id", "91110000600037341M"],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 1
    data = json.loads(bad.stdout)
    assert data["kind"] == "uscc" and data["valid"] is False and "应为“L”" in data["reason"]
