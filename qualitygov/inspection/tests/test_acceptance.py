"""Lot acceptance sampling (GB/T 2828.1 = ISO 2859-1), checked against the published tables.

The expected plans are read here, independently of the code, from the project's shared reference copy of the
tables (MIL-STD-105E / ANSI-ASQ Z1.4 = ISO 2859-1:1999 Tables 1, 2-A, 2-B; reduced plans with ISO 1999's
Re = Ac + 1), plus textbook examples with the numbers as printed in the standard.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from qualitygov.inspection import acceptance
from qualitygov.inspection.acceptance import (
    NORMAL,
    REDUCED,
    TIGHTENED,
    AcceptanceSamplingError,
    SwitchingState,
    next_state,
    sampling_plan,
)

REFERENCE = Path(__file__).resolve().parents[4] / "shared" / "reference" / "iso2859-1" / "single_sampling_plans.json"
LEVELS = ("S-1", "S-2", "S-3", "S-4", "I", "II", "III")
# Sample size of each code letter on normal inspection, as printed in Table 2-A's sample size column.
NORMAL_SAMPLE_SIZE = dict(zip("ABCDEFGHJKLMNPQR", (2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800, 1250,
                                                    2000), strict=True))


@pytest.fixture(scope="module")
def reference() -> dict:
    with REFERENCE.open(encoding="utf-8") as handle:
        return json.load(handle)


def expected_cell(reference: dict, severity: str, letter: str, aql: str) -> tuple[int, int, int]:
    """The published plan; reduced plans per ISO 2859-1:1999 (no gap between Ac and Re)."""
    n, ac, re = reference["plans"][severity][letter][aql]
    return (n, ac, ac + 1) if severity == REDUCED else (n, ac, re)


def lot_sizes(row: dict) -> tuple[int, ...]:
    return (row["lot_min"], row["lot_max"]) if row["lot_max"] is not None else (row["lot_min"], 10 * row["lot_min"])


# --- the tables -------------------------------------------------------------------------------------------------

def test_the_committed_table_is_the_reference_table(reference):
    assert acceptance.tables() == reference


def test_code_letters_follow_table_1_for_every_lot_size_range_and_level(reference):
    rows = reference["table1_code_letters"]
    assert rows[0]["lot_min"] == 2
    for previous, row in zip(rows, rows[1:], strict=False):
        assert row["lot_min"] == previous["lot_max"] + 1  # ranges are contiguous, so the bounds cover every size
    for row in rows:
        for size in lot_sizes(row):
            for level in LEVELS:
                assert acceptance.code_letter(size, level) == row[level], (size, level)


def test_every_code_letter_aql_and_severity_gives_the_published_plan(reference):
    count = 0
    for severity, table in reference["plans"].items():
        for letter, row in table.items():
            for aql in row:
                assert acceptance.plan_for_code_letter(letter, aql, severity) == expected_cell(
                    reference, severity, letter, aql), (severity, letter, aql)
                count += 1
    assert count == 3 * 16 * 26


def test_reduced_plans_keep_the_tables_sample_size_and_ac_and_close_the_gap(reference):
    for letter, row in reference["plans"][REDUCED].items():
        for aql, (n, ac, re) in row.items():
            got_n, got_ac, got_re = acceptance.plan_for_code_letter(letter, aql, REDUCED)
            assert (got_n, got_ac, got_re) == (n, ac, ac + 1)
            assert got_re <= re  # never looser than MIL-STD-105E's reduced plan


def test_sampling_plan_over_the_whole_table_including_the_hundred_percent_cases(reference):
    hundred = 0
    for row in reference["table1_code_letters"]:
        for size in lot_sizes(row):
            for level in LEVELS:
                letter = row[level]
                for severity in (NORMAL, TIGHTENED, REDUCED):
                    for aql in reference["plans"][severity][letter]:
                        n, ac, re = expected_cell(reference, severity, letter, aql)
                        plan = sampling_plan(size, aql, level, severity)
                        whole = n >= size
                        hundred += whole
                        assert plan.as_dict() == {"code_letter": letter, "sample_size": size if whole else n,
                                                  "accept": ac, "reject": re, "hundred_percent": whole}
    assert hundred > 0


# --- textbook examples (numbers as printed in the standard) ------------------------------------------------------

def test_lot_of_1000_at_level_ii_is_code_letter_j_with_80_samples():
    plan = sampling_plan(1000, "1.0")
    assert plan.as_dict() == {"code_letter": "J", "sample_size": 80, "accept": 2, "reject": 3,
                              "hundred_percent": False}
    assert plan.accepts(2) and not plan.accepts(3)
    assert sampling_plan(1000, "1.0", severity="tightened").as_dict() == {
        "code_letter": "J", "sample_size": 80, "accept": 1, "reject": 2, "hundred_percent": False}
    # Reduced J at AQL 1.0: n = 32, Ac 1; ISO 2859-1:1999 rejects at 2 (MIL-STD-105E had 1/3).
    assert sampling_plan(1000, "1.0", severity="reduced").as_dict() == {
        "code_letter": "J", "sample_size": 32, "accept": 1, "reject": 2, "hundred_percent": False}


def test_arrows_move_to_the_plan_and_sample_size_of_another_code_letter():
    # J at AQL 0.40 (normal): arrow down to K — n = 125, Ac 1, Re 2.
    assert sampling_plan(1000, "0.40").as_dict() == {"code_letter": "J", "sample_size": 125, "accept": 1,
                                                     "reject": 2, "hundred_percent": False}
    # J at AQL 25 (normal): arrow up to H — n = 50, Ac 21, Re 22.
    assert sampling_plan(1000, "25").as_dict() == {"code_letter": "J", "sample_size": 50, "accept": 21,
                                                   "reject": 22, "hundred_percent": False}


def test_sample_size_reaching_the_lot_size_means_inspecting_the_whole_lot():
    # Lot of 10 at level II is code letter B; AQL 0.65 sends it down to n = 20 ≥ 10: inspect all 10, Ac 0, Re 1.
    assert sampling_plan(10, "0.65").as_dict() == {"code_letter": "B", "sample_size": 10, "accept": 0, "reject": 1,
                                                   "hundred_percent": True}
    # AQL 1.0 sends code letters B and C down to n = 13: a lot of 13 (B) is inspected whole (n = N counts),
    # a lot of 20 (C) is sampled.
    assert sampling_plan(13, "1.0").as_dict() == {"code_letter": "B", "sample_size": 13, "accept": 0, "reject": 1,
                                                  "hundred_percent": True}
    assert sampling_plan(20, "1.0").as_dict() == {"code_letter": "C", "sample_size": 13, "accept": 0, "reject": 1,
                                                  "hundred_percent": False}


@pytest.mark.parametrize(("value", "printed"), [("1", "1.0"), (1, "1.0"), (0.4, "0.40"), ("0.065", "0.065"),
                                                ("10", "10"), (Decimal("2.5"), "2.5")])
def test_aql_is_read_as_its_printed_preferred_value(value, printed):
    assert acceptance.parse_aql(value) == printed


@pytest.mark.parametrize(("kwargs", "field_name"), [
    ({"lot_size": 1, "aql": "1.0"}, "lot_size"),
    ({"lot_size": 0, "aql": "1.0"}, "lot_size"),
    ({"lot_size": -5, "aql": "1.0"}, "lot_size"),
    ({"lot_size": "12.5", "aql": "1.0"}, "lot_size"),
    ({"lot_size": 12.5, "aql": "1.0"}, "lot_size"),
    ({"lot_size": "abc", "aql": "1.0"}, "lot_size"),
    ({"lot_size": True, "aql": "1.0"}, "lot_size"),
    ({"lot_size": 100, "aql": "0.3"}, "aql"),
    ({"lot_size": 100, "aql": "abc"}, "aql"),
    ({"lot_size": 100, "aql": "nan"}, "aql"),
    ({"lot_size": 100, "aql": "1.0", "level": "IV"}, "level"),
    ({"lot_size": 100, "aql": "1.0", "severity": "strict"}, "severity"),
])
def test_bad_input_is_refused_with_a_chinese_message(kwargs, field_name):
    with pytest.raises(AcceptanceSamplingError) as info:
        sampling_plan(**kwargs)
    assert info.value.field == field_name
    assert any("\u4e00" <= ch <= "\u9fff" for ch in info.value.message)


def test_levels_and_severities_accept_common_spellings():
    assert sampling_plan(1000, "1.0", level="s3").code_letter == sampling_plan(1000, "1.0", level="S-3").code_letter
    assert sampling_plan(1000, "1.0", severity="加严") == sampling_plan(1000, "1.0", severity="tightened")


# --- the switching score's "one step tighter" --------------------------------------------------------------------

def test_one_step_tighter_is_read_on_the_row_of_the_sample_taken(reference):
    """For every normal plan with Ac ≥ 2, the next tighter AQL on the same sample's row uses the same sample, and
    the lot counts as accepted one step tighter exactly up to that plan's Ac."""
    series = sorted(reference["plans"][NORMAL]["A"], key=Decimal)
    row_of = {n: letter for letter, n in NORMAL_SAMPLE_SIZE.items()}
    checked = 0
    for letter, row in reference["plans"][NORMAL].items():
        for aql, (n, ac, _re) in row.items():
            if ac < 2:
                continue
            tighter_n, tighter_ac, _ = reference["plans"][NORMAL][row_of[n]][series[series.index(aql) - 1]]
            assert tighter_n == n and tighter_ac < ac, (letter, aql)
            plan = acceptance.SamplingPlan(letter, n, ac, ac + 1, False)
            assert acceptance.accepted_at_tighter_aql(plan, aql, tighter_ac) is True
            assert acceptance.accepted_at_tighter_aql(plan, aql, tighter_ac + 1) is False
            checked += 1
    assert checked > 100


# --- the switching rules as a state machine ----------------------------------------------------------------------

def run(state: SwitchingState, results: str, **kwargs) -> list[SwitchingState]:
    """Feed a script of lots (A accepted, R not accepted) with Ac 1 plans; the states after each lot."""
    states = []
    for mark in results:
        state = next_state(state, mark == "A", accept_number=1, **kwargs)
        states.append(state)
    return states


def test_two_not_accepted_within_five_consecutive_lots_switch_normal_to_tightened():
    states = run(SwitchingState(), "ARAAR")
    assert [s.severity for s in states] == [NORMAL] * 4 + [TIGHTENED]
    assert run(SwitchingState(), "RR")[-1].severity == TIGHTENED


def test_two_not_accepted_six_lots_apart_do_not_switch():
    states = run(SwitchingState(), "RAAAAR")
    assert all(s.severity == NORMAL for s in states)
    assert states[-1].switching_score == 0  # a lot not accepted resets the score


def test_five_consecutive_accepted_on_tightened_return_to_normal():
    tightened = SwitchingState(severity=TIGHTENED)
    states = run(tightened, "AAAARAAAAA")
    assert [s.severity for s in states] == [TIGHTENED] * 9 + [NORMAL]  # the R restarts the count
    assert states[-1] == SwitchingState()  # normal starts afresh, score 0


def test_five_lots_not_accepted_on_tightened_discontinue_inspection():
    states = run(SwitchingState(severity=TIGHTENED), "RARARARAR")
    assert [s.discontinued for s in states] == [False] * 8 + [True]
    with pytest.raises(AcceptanceSamplingError):
        next_state(states[-1], True, accept_number=1)
    resumed = acceptance.resume(states[-1])
    assert resumed == SwitchingState(severity=TIGHTENED)


def test_switching_score_reaches_30_and_reduced_needs_steady_production_and_approval():
    # Ac 0 or 1: +2 per accepted lot, so the 15th accepted lot reaches 30.
    states = run(SwitchingState(), "A" * 15)
    assert [s.switching_score for s in states][:3] == [2, 4, 6]
    assert states[-1].switching_score == 30 and states[-1].severity == NORMAL  # no approval: stays normal
    assert run(SwitchingState(), "A" * 15, production_steady=True)[-1].severity == NORMAL
    approved = run(SwitchingState(), "A" * 15, production_steady=True, reduced_approved=True)
    assert [s.severity for s in approved] == [NORMAL] * 14 + [REDUCED]


def test_switching_score_with_ac_2_or_more_counts_acceptance_one_step_tighter():
    state = SwitchingState()
    for _lot in range(9):
        state = next_state(state, True, accept_number=2, accepted_one_step_tighter=True, production_steady=True,
                           reduced_approved=True)
    assert state.switching_score == 27 and state.severity == NORMAL
    # Accepted, but not one step tighter: the score goes back to 0.
    reset = next_state(state, True, accept_number=2, accepted_one_step_tighter=False, production_steady=True,
                       reduced_approved=True)
    assert reset.switching_score == 0 and reset.severity == NORMAL
    reduced = next_state(state, True, accept_number=2, accepted_one_step_tighter=True, production_steady=True,
                         reduced_approved=True)
    assert reduced.severity == REDUCED


def test_reduced_returns_to_normal_on_a_lot_not_accepted_or_irregular_production():
    reduced = SwitchingState(severity=REDUCED)
    assert run(reduced, "AAA")[-1].severity == REDUCED
    assert run(reduced, "AAR")[-1] == SwitchingState()
    assert next_state(reduced, True, accept_number=1, production_irregular=True).severity == NORMAL
    assert next_state(reduced, True, accept_number=1, normal_warranted=True).severity == NORMAL


def test_state_is_serialisable():
    state = run(SwitchingState(), "AARA")[-1]
    data = json.loads(json.dumps(state.as_dict()))
    assert SwitchingState.from_dict(data) == state
    assert data["normal_window"] == [True, True, False, True]


# --- stored state and history -------------------------------------------------------------------------------------

@pytest.fixture
def supplier(registry):
    from qualitygov.inspection.acceptance_service import supplier_state

    nanguan = registry["nanguan"]
    return supplier_state(nanguan["entity"], nanguan["product"], "1.0", "II")


def record(state, users, counts, start=0, **flags):
    from qualitygov.core.audit import acting_as
    from qualitygov.inspection.acceptance_service import record_lot

    with acting_as(users["inspector"]):
        for index, count in enumerate(counts, start=start):
            state = record_lot(state, lot_number=f"L{index:03d}", lot_size=1000, nonconforming=count,
                               inspected_on=dt.date(2025, 1, 1) + dt.timedelta(days=index),
                               inspector=users["inspector"], **flags)
    return state


@pytest.mark.django_db
def test_record_lot_applies_the_plan_and_switches_to_tightened_then_back(supplier, users):
    from qualitygov.core.models import AuditLog
    from qualitygov.inspection.models import LotInspection

    # Lot 1000, level II, AQL 1.0 normal: J, n 80, Ac 2 / Re 3. Lots 2 and 3 are not accepted.
    state = record(supplier, users, [0, 3, 5])
    assert state.severity == TIGHTENED and state.lots_inspected == 3
    lots = list(LotInspection.objects.filter(supplier_state=state).order_by("lot_number"))
    assert [(lot.sample_size, lot.accept_number, lot.reject_number) for lot in lots] == [(80, 2, 3)] * 3
    assert [lot.accepted for lot in lots] == [True, False, False]
    assert [(lot.severity_before, lot.severity_after) for lot in lots] == [
        (NORMAL, NORMAL), (NORMAL, NORMAL), (NORMAL, TIGHTENED)]
    assert lots[0].inspector == users["inspector"] and lots[0].code_letter == "J"
    assert AuditLog.objects.filter(object_id=str(lots[0].pk), content_type__model="lotinspection").exists()

    # Tightened J at AQL 1.0: n 80, Ac 1 / Re 2; five accepted lots bring normal back.
    state = record(state, users, [1, 0, 0, 1, 0], start=3)
    tightened_lots = LotInspection.objects.filter(supplier_state=state, severity_before=TIGHTENED)
    assert set(tightened_lots.values_list("sample_size", "accept_number", "reject_number")) == {(80, 1, 2)}
    assert state.severity == NORMAL and state.switching_score == 0


@pytest.mark.django_db
def test_record_lot_reaches_reduced_by_the_switching_score_and_falls_back_on_a_rejection(supplier, users):
    # Normal J, AQL 1.0: Ac 2, so +3 per lot accepted at AQL 0.65 (Ac 1): ten lots with ≤ 1 nonconforming.
    state = record(supplier, users, [1, 0] * 5)
    assert state.switching_score == 30 and state.severity == NORMAL  # no approval yet
    state = record(state, users, [0], start=10, production_steady=True, reduced_approved=True)
    assert state.severity == REDUCED
    # Reduced J, AQL 1.0: n 32, Ac 1, Re 2 — two nonconforming reject the lot and restore normal inspection.
    state = record(state, users, [2], start=11)
    last = state.lots.order_by("-id").first()
    assert (last.sample_size, last.accept_number, last.reject_number, last.accepted) == (32, 1, 2, False)
    assert state.severity == NORMAL and state.switching_score == 0


@pytest.mark.django_db
def test_discontinued_supplier_is_refused_until_resumed(supplier, users):
    from qualitygov.inspection.acceptance_service import record_lot, resume_inspection
    from qualitygov.inspection.models import LotInspection

    state = record(supplier, users, [3, 3])  # → tightened
    state = record(state, users, [2, 2, 2, 2, 2], start=2)  # tightened Ac 1: five not accepted
    assert state.discontinued and state.severity == TIGHTENED
    before = LotInspection.objects.count()
    with pytest.raises(ValidationError) as info:
        record_lot(state, lot_number="X1", lot_size=1000, nonconforming=0)
    assert "暂停" in str(info.value)
    assert LotInspection.objects.count() == before
    state = resume_inspection(state)
    assert not state.discontinued and state.severity == TIGHTENED and state.not_accepted_on_tightened == 0


@pytest.mark.django_db
def test_record_lot_refuses_repeated_lot_numbers_and_bad_counts(supplier, users):
    from qualitygov.inspection.acceptance_service import record_lot

    record(supplier, users, [0])
    with pytest.raises(ValidationError) as info:
        record_lot(supplier, lot_number="L000", lot_size=1000, nonconforming=0)
    assert "lot_number" in info.value.message_dict
    for bad in (-1, 1.5, True):
        with pytest.raises(ValidationError):
            record_lot(supplier, lot_number="L900", lot_size=1000, nonconforming=bad)
    with pytest.raises(ValidationError) as info:
        record_lot(supplier, lot_number="L901", lot_size=1, nonconforming=0)
    assert "lot_size" in info.value.message_dict


@pytest.mark.django_db
def test_supplier_state_and_lots_are_scoped_to_region_and_entity(supplier, users, registry):
    from qualitygov.inspection.models import LotInspection, SupplierInspectionState

    record(supplier, users, [0])
    for model in (SupplierInspectionState, LotInspection):
        assert model.objects.restrict(users["nanguan"]).count() == 1
        assert model.objects.restrict(users["changchun"]).count() == 1
        assert model.objects.restrict(users["yanji"]).count() == 0
        assert model.objects.restrict(users["enterprise"]).count() == 1  # the enterprise is 南关's entity


# --- CLI and API --------------------------------------------------------------------------------------------------

def test_cli_prints_the_plan_as_json(capsys):
    call_command("sampling_plan", "--lot-size", "1000", "--aql", "0.40")
    assert json.loads(capsys.readouterr().out) == {"code_letter": "J", "sample_size": 125, "accept": 1,
                                                   "reject": 2, "hundred_percent": False}


@pytest.mark.parametrize("args", [["--lot-size", "1", "--aql", "1.0"], ["--lot-size", "100", "--aql", "0.3"],
                                  ["--aql", "1.0"], ["--lot-size", "100", "--aql", "1.0", "--severity", "x"]])
def test_cli_bad_input_exits_2_with_a_json_error(capsys, args):
    with pytest.raises(SystemExit) as info:
        call_command("sampling_plan", *args)
    assert info.value.code == 2
    body = json.loads(capsys.readouterr().err)
    assert body["error"]["code"] == "invalid" and body["error"]["details"]


def test_cli_entry_point_end_to_end():
    exe = Path(sys.executable).with_name("qualitygov")
    done = subprocess.run([str(exe), "sampling-plan", "--lot-size", "10", "--aql", "0.65"], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"code_letter": "B", "sample_size": 10, "accept": 0, "reject": 1,
                                       "hundred_percent": True}
    bad = subprocess.run([str(exe), "sampling-plan", "--lot-size", "0", "--aql", "1.0"], capture_output=True,
                         text=True, timeout=60, check=False)
    assert bad.returncode == 2 and "lot_size" in json.loads(bad.stderr)["error"]["details"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/inspection/sampling-plan", "/api/v1/inspection/sampling-plan/"])
def test_api_answers_the_plan_publicly(client, path):
    response = client.get(path, {"lot_size": 1000, "aql": "25", "level": "II", "severity": "normal"})
    assert response.status_code == 200
    assert response.json() == {"code_letter": "J", "sample_size": 50, "accept": 21, "reject": 22,
                               "hundred_percent": False}
    response = client.get(path, {"lot_size": 1000, "aql": "1.0", "severity": "reduced"})
    assert response.json() == sampling_plan(1000, "1.0", severity="reduced").as_dict()


@pytest.mark.django_db
@pytest.mark.parametrize(("params", "status_code", "code", "field_name"), [
    ({"lot_size": 1, "aql": "1.0"}, 400, "invalid", "lot_size"),
    ({"lot_size": 100, "aql": "0.3"}, 400, "invalid", "aql"),
    ({"lot_size": 100, "aql": "1.0", "level": "V"}, 400, "invalid", "level"),
    ({"lot_size": 100, "aql": "1.0", "severity": "loose"}, 400, "invalid", "severity"),
    ({"aql": "1.0"}, 400, "required", "lot_size"),
])
def test_api_errors_use_the_platform_error_shape(client, params, status_code, code, field_name):
    response = client.get("/api/v1/inspection/sampling-plan", params)
    assert response.status_code == status_code
    error = response.json()["error"]
    assert set(error) == {"status", "code", "message", "details"}
    assert error["status"] == status_code and error["code"] == code and field_name in error["details"]


def test_api_is_documented_with_parameters_and_response():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/inspection/sampling-plan/"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"lot_size", "aql", "level", "severity"}
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][ok.rsplit("/", 1)[-1]]
    assert set(component["properties"]) == {"code_letter", "sample_size", "accept", "reject", "hundred_percent"}
