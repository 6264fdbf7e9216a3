"""Lot acceptance sampling by attributes per GB/T 2828.1-2012 (= ISO 2859-1:1999): plans and switching rules.

Pure functions, no database: ``sampling_plan`` picks the single sampling plan for a lot, ``next_state``
applies the switching rules to one lot's result.

Tables
------
``data/iso2859_1_single_sampling_plans.json`` holds Table 1 (code letters) and the normal, tightened and
reduced single sampling plans with the arrows already resolved (see ``data/README.md``). They come from
MIL-STD-105E / ANSI-ASQ Z1.4, whose code letters and normal (2-A) and tightened (2-B) tables equal ISO
2859-1:1999 and therefore GB/T 2828.1-2012, an identical adoption of it.

Reduced inspection (Table 2-C) — what we found
-----------------------------------------------
MIL-STD-105E's reduced table leaves a gap between Ac and Re (``0/2``, ``1/3``, ``2/5`` …); a lot whose count
falls in the gap was accepted but sent the supplier back to normal inspection. Two independent copies of the
ISO 2859-1:1999 foreword list, among the "significant changes in this edition":

* "reduced plans have been changed to eliminate the gap between the acceptance and rejection numbers";
* "a new procedure for switching from normal to reduced inspection" (the switching score, below).

Sources: the BS 6001-1:1999 (= ISO 2859-1:1999) foreword quoted at https://www.pinzhi.org/thread-103021-1-1.html,
and the Bureau of Indian Standards' IS 2500 (Part 1):2000, "identical with ISO 2859-1:1999", national foreword,
https://archive.org/download/gov.in.is.2500.1.2000/is.2500.1.2000.txt. GB/T 2828.1-2012 adopts ISO 2859-1:1999
identically, so it has the same Table 2-C (its Table 4).

What we implement: each reduced plan keeps the reduced table's sample size ``n`` and acceptance number ``Ac``
and rejects at ``Re = Ac + 1``. Confidence: **high** that the 1999/2012 reduced plans have Re = Ac + 1 (stated
in the standard's own foreword, two copies); **high** for the reduced sample sizes and the Ac = 0 / Re = 1 cells
(unchanged between editions); **moderate** that every other Ac equals MIL-STD-105E's — we could not read Table
2-C's cells themselves from a public source in the time available. Keeping MIL-STD's Ac and closing the gap on
the Re side errs towards the consumer: a count that used to fall in the gap is now not accepted (and, as
before, sends the supplier back to normal inspection). Check against a copy of GB/T 2828.1-2012 Table 4.

Switching rules (ISO 2859-1:1999 clause 9.3, GB/T 2828.1-2012 clause 9.3)
-------------------------------------------------------------------------
Inspection starts on normal unless the responsible authority says otherwise (9.2). The rules count *original*
inspections only: a resubmitted lot is not a new result.

* Normal → tightened (9.3.1): 2 lots out of 5 or fewer consecutive lots are not accepted.
* Tightened → normal (9.3.2): 5 consecutive lots are accepted.
* Normal → reduced (9.3.3): the switching score is at least 30, production is at a steady rate, and the
  responsible authority considers reduced inspection desirable (all three).
* Switching score (9.3.3.2, single sampling): set to 0 at the start of normal inspection and updated after
  each lot on original normal inspection — when the plan's Ac is 2 or more, add 3 if the lot would have been
  accepted had the AQL been one step tighter, otherwise reset to 0; when Ac is 0 or 1, add 2 if the lot is
  accepted, otherwise reset to 0. The score's start at 0, its update after each normal lot and the threshold of
  30 are confirmed by public summaries of the ISO text (https://aqlrule.com/manual/switch.html, ISO version;
  https://www.sqconline.com/switching-rules-iso-2859-1); the +3 / +2 increments are as we know the clause
  and could not be re-read from a public copy in the time available (confidence: good, not verified verbatim).
  "One step tighter" is read on the row of the sample actually taken: the next smaller AQL in the preferred
  series for the code letter whose sample size was used (after an arrow, the letter the arrow led to), so the
  tighter plan uses the same sample. For Ac ≥ 2 it always does (checked over the whole table by the tests).
* Reduced → normal (9.3.4): a lot is not accepted, or production becomes irregular or delayed, or other
  conditions warrant normal inspection.
* Discontinuation (9.4): when the cumulative number of lots not accepted in a sequence of consecutive lots on
  original tightened inspection reaches 5, acceptance procedures stop until the supplier has acted to improve
  quality and the responsible authority agrees; they resume on tightened inspection as if 9.3.1 had applied
  (``resume``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

from django.utils.translation import gettext as _

from qualitygov.core.text import join_list

DATA_FILE = Path(__file__).resolve().parent / "data" / "iso2859_1_single_sampling_plans.json"

NORMAL, TIGHTENED, REDUCED = "normal", "tightened", "reduced"
SEVERITIES = (NORMAL, TIGHTENED, REDUCED)
LEVELS = ("S-1", "S-2", "S-3", "S-4", "I", "II", "III")

# ISO 2859-1:1999 9.3.1, 9.3.2, 9.3.3, 9.4.
TIGHTENED_WINDOW = 5
TIGHTENED_AFTER_NOT_ACCEPTED = 2
NORMAL_AFTER_ACCEPTED = 5
REDUCED_SCORE = 30
DISCONTINUE_AFTER_NOT_ACCEPTED = 5
SCORE_STEP_AC_2_OR_MORE = 3
SCORE_STEP_AC_0_OR_1 = 2

_SEVERITY_ALIASES = {"正常": NORMAL, "加严": TIGHTENED, "放宽": REDUCED}


class AcceptanceSamplingError(ValueError):
    """Bad input to a sampling function; ``field`` names the input, ``message`` says what is wrong (Chinese)."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class SamplingPlan:
    """A single sampling plan for one lot: inspect ``sample_size`` units, accept with ≤ ``accept`` nonconforming."""

    code_letter: str
    sample_size: int
    accept: int
    reject: int
    hundred_percent: bool

    def as_dict(self) -> dict:
        return asdict(self)

    def accepts(self, nonconforming: int) -> bool:
        """Whether a sample with ``nonconforming`` nonconforming units (or nonconformities) is accepted."""
        return nonconforming <= self.accept


@cache
def tables() -> dict:
    """The committed tables (read once)."""
    with DATA_FILE.open(encoding="utf-8") as handle:
        return json.load(handle)


@cache
def aql_series() -> tuple[str, ...]:
    """The preferred AQL values as printed, tightest first."""
    return tuple(sorted(tables()["plans"][NORMAL]["A"], key=Decimal))


@cache
def _normal_letter_by_sample_size() -> dict[int, str]:
    """Code letter of each normal-inspection sample size (A = 2 … R = 2000); used to find the row of a sample."""
    out = {}
    for letter, row in tables()["plans"][NORMAL].items():
        sizes = [cell[0] for cell in row.values()]
        # A row's own sample size is the one most of its cells carry (the rest are arrows to other rows).
        out[max(set(sizes), key=sizes.count)] = letter
    return out


def parse_lot_size(value) -> int:
    """The lot size as an int ≥ 2, or ``AcceptanceSamplingError``."""
    message = _("批量须为不小于 2 的整数。")
    if isinstance(value, bool):
        raise AcceptanceSamplingError("lot_size", message)
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        if not text.isdigit():
            raise AcceptanceSamplingError("lot_size", message)
        number = int(text)
    if number < 2:
        raise AcceptanceSamplingError("lot_size", message)
    return number


def parse_aql(value) -> str:
    """The AQL as printed in the standard (``"1.0"`` for 1, 1.0 or "1"), or ``AcceptanceSamplingError``."""
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        number = None
    if number is not None and number.is_finite():
        for printed in aql_series():
            if Decimal(printed) == number:
                return printed
    raise AcceptanceSamplingError(
        "aql", _("接收质量限 AQL“%(value)s”不在标准的优选值系列中（可选：%(series)s）。")
        % {"value": value, "series": join_list(aql_series())})


def parse_level(value) -> str:
    """The inspection level (S-1…S-4, I, II, III; ``s1`` and ``ii`` are accepted), or ``AcceptanceSamplingError``."""
    text = str(value).strip().upper().replace("Ⅰ", "I").replace("Ⅱ", "II").replace("Ⅲ", "III")
    if len(text) == 2 and text.startswith("S") and text[1].isdigit():
        text = f"S-{text[1]}"
    if text not in LEVELS:
        raise AcceptanceSamplingError(
            "level", _("检验水平“%(value)s”无效，可选：%(levels)s。") % {"value": value, "levels": join_list(LEVELS)})
    return text


def parse_severity(value) -> str:
    """normal / tightened / reduced (or 正常 / 加严 / 放宽), or ``AcceptanceSamplingError``."""
    text = str(value).strip()
    text = _SEVERITY_ALIASES.get(text, text.lower())
    if text not in SEVERITIES:
        raise AcceptanceSamplingError(
            "severity", _("检验严格度“%(value)s”无效，可选：normal（正常）、tightened（加严）、reduced（放宽）。")
            % {"value": value})
    return text


def code_letter(lot_size, level="II") -> str:
    """Sample size code letter of Table 1 for a lot size and inspection level."""
    size = parse_lot_size(lot_size)
    level = parse_level(level)
    for row in tables()["table1_code_letters"]:
        if size >= row["lot_min"] and (row["lot_max"] is None or size <= row["lot_max"]):
            return row[level]
    raise AssertionError("Table 1 covers every lot size from 2 up")  # pragma: no cover


def plan_for_code_letter(letter: str, aql, severity=NORMAL) -> tuple[int, int, int]:
    """``(n, Ac, Re)`` of the table for a code letter and AQL, arrows resolved; reduced plans get Re = Ac + 1."""
    aql = parse_aql(aql)
    severity = parse_severity(severity)
    try:
        n, accept, reject = tables()["plans"][severity][letter][aql]
    except KeyError as exc:
        raise AcceptanceSamplingError("code_letter", _("样本量字码“%(value)s”无效。") % {"value": letter}) from exc
    if severity == REDUCED:
        # ISO 2859-1:1999 removed the Ac/Re gap of the reduced plans (see the module docstring).
        reject = accept + 1
    return n, accept, reject


def sampling_plan(lot_size, aql, level="II", severity=NORMAL) -> SamplingPlan:
    """The single sampling plan for a lot: code letter by lot size and level, then the table's plan.

    After an arrow the sample size of the plan the arrow leads to applies (the table already holds it). If that
    sample size reaches the lot size, the whole lot is inspected with the same Ac/Re (``hundred_percent``).
    """
    size = parse_lot_size(lot_size)
    aql = parse_aql(aql)
    level = parse_level(level)
    severity = parse_severity(severity)
    letter = code_letter(size, level)
    n, accept, reject = plan_for_code_letter(letter, aql, severity)
    if n >= size:
        return SamplingPlan(letter, size, accept, reject, True)
    return SamplingPlan(letter, n, accept, reject, False)


def tighter_aql(aql) -> str | None:
    """The next tighter (smaller) preferred AQL, or None for the tightest."""
    series = aql_series()
    index = series.index(parse_aql(aql))
    return series[index - 1] if index else None


def accepted_at_tighter_aql(plan: SamplingPlan, aql, nonconforming: int) -> bool:
    """Whether a normal-inspection lot would have been accepted had the AQL been one step tighter (9.3.3.2).

    Read on the row of the sample actually taken (see the module docstring); with 100 % inspection the row is
    that of the table's sample size for the plan's code letter.
    """
    tighter = tighter_aql(aql)
    if tighter is None:
        return nonconforming <= plan.accept
    table_n = plan_for_code_letter(plan.code_letter, aql, NORMAL)[0]
    row = _normal_letter_by_sample_size()[table_n]
    tighter_n, tighter_accept, _reject = plan_for_code_letter(row, tighter, NORMAL)
    if tighter_n != table_n:
        # Only Ac 0/1 plans move rows one step tighter; they do not use this rule.
        return False
    return nonconforming <= tighter_accept


@dataclass
class SwitchingState:
    """Where a supplier stands in the switching scheme; serialisable with ``as_dict`` / ``from_dict``."""

    severity: str = NORMAL
    switching_score: int = 0
    # Results (True = accepted) of the last lots on normal inspection since it started, newest last, at most 5.
    normal_window: list[bool] = field(default_factory=list)
    consecutive_accepted: int = 0  # on tightened inspection
    not_accepted_on_tightened: int = 0  # cumulative, since tightened inspection started
    discontinued: bool = False

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> SwitchingState:
        return cls(**{**data, "normal_window": list(data.get("normal_window", []))})


def _start(severity: str) -> SwitchingState:
    """A fresh state at the start of ``severity`` (the score starts at 0 with normal inspection, 9.3.3.2)."""
    return SwitchingState(severity=severity)


def updated_switching_score(score: int, accept_number: int, lot_accepted: bool,
                            accepted_one_step_tighter: bool | None) -> int:
    """The switching score after one lot on original normal inspection, single sampling (9.3.3.2)."""
    if accept_number >= 2:
        if accepted_one_step_tighter is None:
            raise ValueError("accepted_one_step_tighter is required when Ac >= 2")
        return score + SCORE_STEP_AC_2_OR_MORE if (lot_accepted and accepted_one_step_tighter) else 0
    return score + SCORE_STEP_AC_0_OR_1 if lot_accepted else 0


def next_state(state: SwitchingState, lot_accepted: bool, *, accept_number: int | None = None,
               accepted_one_step_tighter: bool | None = None, production_steady: bool = False,
               reduced_approved: bool = False, production_irregular: bool = False,
               normal_warranted: bool = False) -> SwitchingState:
    """The switching state after one lot on original inspection (ISO 2859-1:1999 9.3, 9.4).

    ``accept_number`` (the plan's Ac) is needed on normal inspection for the switching score, and
    ``accepted_one_step_tighter`` too when Ac ≥ 2. ``production_steady`` and ``reduced_approved`` (the
    responsible authority considers reduced inspection desirable) are the other two conditions of 9.3.3;
    ``production_irregular`` and ``normal_warranted`` are those of 9.3.4 b) and c). Returns a new state.
    """
    if state.discontinued:
        raise AcceptanceSamplingError("state", _("抽样检验已暂停：须待供方采取改进措施并经负责部门同意后，方可恢复（加严检验）。"))
    if state.severity == NORMAL:
        if accept_number is None:
            raise ValueError("accept_number is required on normal inspection")
        window = [*state.normal_window, lot_accepted][-TIGHTENED_WINDOW:]
        if window.count(False) >= TIGHTENED_AFTER_NOT_ACCEPTED:
            return _start(TIGHTENED)
        score = updated_switching_score(state.switching_score, accept_number, lot_accepted,
                                        accepted_one_step_tighter)
        if score >= REDUCED_SCORE and production_steady and reduced_approved:
            return _start(REDUCED)
        return replace(state, switching_score=score, normal_window=window)
    if state.severity == TIGHTENED:
        if lot_accepted:
            accepted = state.consecutive_accepted + 1
            if accepted >= NORMAL_AFTER_ACCEPTED:
                return _start(NORMAL)
            return replace(state, consecutive_accepted=accepted)
        not_accepted = state.not_accepted_on_tightened + 1
        return replace(state, consecutive_accepted=0, not_accepted_on_tightened=not_accepted,
                       discontinued=not_accepted >= DISCONTINUE_AFTER_NOT_ACCEPTED)
    # Reduced.
    if not lot_accepted or production_irregular or normal_warranted:
        return _start(NORMAL)
    return replace(state)


def resume(state: SwitchingState) -> SwitchingState:
    """Resume after discontinuation, once the supplier has acted and the authority agrees: tightened (9.4)."""
    if not state.discontinued:
        raise AcceptanceSamplingError("state", _("抽样检验未暂停，无需恢复。"))
    return _start(TIGHTENED)
