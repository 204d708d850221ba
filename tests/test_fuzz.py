"""Fuzzing: untrusted text and data never make perfscore raise anything but its own errors.

The invariant for every entry point an outsider can feed (the rubric loader, the formula
compiler, the input validator and the scorer behind it): it returns, or it raises a
:class:`perfscore.PerfscoreError`; never a ``KeyError``, ``RecursionError``,
``decimal.Overflow``, ``MemoryError`` ... and never hangs (each example has a deadline).

Example counts are modest so that the file runs in seconds; set ``PERFSCORE_FUZZ_EXAMPLES``
(e.g. ``PERFSCORE_FUZZ_EXAMPLES=20000``) for a long hunt.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from datetime import timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import perfscore
from perfscore import PerfscoreError, Symbol, ValueType

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo"
EXAMPLES = int(os.environ.get("PERFSCORE_FUZZ_EXAMPLES", "60"))

fuzz = settings(
    max_examples=EXAMPLES,
    deadline=timedelta(seconds=2),  # generous for a loaded CI machine; a hang still fails
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
    derandomize=EXAMPLES <= 100,  # the quick run is the same every time
)


def survives(call: Callable[[], object]) -> object:
    """Run ``call``; a :class:`PerfscoreError` is a fine answer, anything else escapes."""
    try:
        return call()
    except PerfscoreError:
        return None


# --------------------------------------------------------------------------- strategies

#: Characters that mean something to YAML, JSON, TOML or a formula, plus digits and CJK.
SYNTAX = "{}[],:-?&*!|>'\"%@`#\n\t =.+/\\()<_~01239eEabcxyzidtlwghnsu编制数实有０１２３．，％　"
#: Short pieces of rubric and formula text worth gluing together.
TOKENS = [
    *("id", "title", "inputs", "derived", "indicators", "grades", "grade_caps", "checks"),
    *("extends", "uses", "changes", "weight", "scoring", "method", "children", "formula"),
    *("label", "kind", "number", "percent", "count", "choice", "options", "accept", "when"),
    *(": ", "\n", "\n  ", "\n    ", "- ", "[", "]", "{", "}", ", ", "&a ", "*a", "<<: ", "!!"),
    *("!!python/object:os.system", "!!binary", "? ", "|", ">-", "'", '"', "#", "---", "..."),
    *("1", "0", "-1", "1e999999999", "1.0e+999999999", "1.0e-999999999", ".nan", ".inf"),
    *("9" * 45, "0x1F", "1_000", "null", "~", "true", "是", "2023-01-01", "∞", "[0, 100]"),
    *("(90, 100]", "x", "y", "+", "-", "*", "/", "**", "(", ")", " if ", " else ", " and "),
    *(" not ", "<", "<=", "==", "min(", "max(", "round(", "clamp(", "__class__", ".", "lambda"),
]
FORMULA_TOKENS = [
    *("x", "y", "flag", "grade", "_x", "__import__", "os", "open", "eval", "print"),
    *("0", "1", "2.5", "100", "3999999", "1e30", "1e31", "9" * 31, "0x10", "0b1", "1j", "'好'"),
    *("'差'", "'x' * 9", "True", "False", "None", "...", "+", "-", "*", "/", "//", "%", "**"),
    *("@", "<<", "&", "|", "^", "~", "<", "<=", ">", ">=", "==", "!=", " is ", " in ", " and "),
    *(" or ", " not ", " if ", " else ", "(", ")", "[", "]", "{", "}", ",", ":", ".", ";"),
    *("lambda ", " for ", "=", ":=", "min", "max", "abs", "round", "floor", "ceil", "clamp"),
    *("__class__", "__subclasses__", "f'", "\\", "\n", " ", "#", "await ", "yield "),
]
SYMBOLS: dict[str, Symbol] = {
    "x": Symbol(ValueType.NUMBER),
    "y": Symbol(ValueType.NUMBER),
    "flag": Symbol(ValueType.BOOLEAN),
    "grade": Symbol(ValueType.TEXT, ("好", "差")),
}

#: Values a hand-filled sheet, a JSON file or a careless caller may put in a cell.
CELL_TEXT = st.text(
    alphabet="0123456789.,-+eE%％１２３４５６７８９０．，　 万元人#/NaInfaIs", max_size=14
)
CELL_VALUES: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**60), max_value=10**60),
    st.floats(),
    st.decimals(),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
    CELL_TEXT,
    st.sampled_from(["是", "否", "true", "及时完整", "基本及时完整", " 92.5 ", "1,234.5", "95%"]),
    st.sampled_from(["１２３", "NaN", "-inf", "1e308", "#DIV/0!", "-", "无", "12.5万元", ""]),
    st.sampled_from(["1e-999999999", "0E-999999999", "1e999999999999999999999", "9" * 400]),
    st.text(max_size=30),
    st.binary(max_size=5),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@cache
def demo_text() -> str:
    return (DEMO / "rubric.yaml").read_text(encoding="utf-8")


@cache
def demo_data() -> Any:
    return yaml.safe_load(demo_text())


@cache
def demo_inputs() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DEMO / "inputs.yaml").read_text(encoding="utf-8"))
    return data


@cache
def demo_compiled() -> perfscore.CompiledRubric:
    return perfscore.compile_rubric(perfscore.loads_rubric(demo_text()))


@st.composite
def text_mutations(draw: st.DrawFn) -> str:
    """The demo rubric's text with a few random cuts, insertions and swaps."""
    text = demo_text()
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "token", "repeat", "swap"]))
        if action == "insert":
            text = text[:at] + draw(st.text(alphabet=SYNTAX, max_size=8)) + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)) :]
        elif action == "token":
            text = text[:at] + draw(st.sampled_from(TOKENS)) + text[at:]
        elif action == "repeat":
            end = min(len(text), at + draw(st.integers(1, 60)))
            text = text[:at] + text[at:end] * draw(st.integers(2, 30)) + text[end:]
        else:
            lines = text.split("\n")
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
    return text


ODD_VALUES: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False),
    st.sampled_from(["1e999999999", "-1e-999999999", "0", "-1", "[0, 1e400]", "(-∞, +∞)"]),
    st.sampled_from(["x / 0", "x ** 100 ** 100", "(1).__class__", "not_a_method", "rescale"]),
    st.sampled_from(["staff_actual", "staff_control_rate", "sangong_change_rate > 0", "优秀"]),
    st.sampled_from(["staff_actual / (staff_actual - staff_actual) > 1", "staff_actual ** 100"]),
    st.sampled_from(["(staff_actual ** 100) ** 100 > 1", "1 / 0", "0 ** -1"]),
    st.text(max_size=12),
    st.lists(st.integers(0, 3), max_size=3),
    st.dictionaries(st.sampled_from(["method", "range", "points", "id", "when"]), st.integers()),
)


def _paths(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(data, dict):
        for k, v in data.items():
            out.extend(_paths(v, (*path, k)))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out.extend(_paths(v, (*path, i)))
    return out


@st.composite
def structure_mutations(draw: st.DrawFn) -> str:
    """The demo rubric as data with a few values replaced, removed or duplicated."""
    data = json.loads(json.dumps(demo_data(), default=str))  # a deep copy
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(data)[1:]))
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        key = path[-1]
        action = draw(st.sampled_from(["replace", "remove", "duplicate"]))
        if action == "replace":
            parent[key] = draw(ODD_VALUES)
        elif action == "remove":
            del parent[key]
        elif isinstance(parent, list):
            parent.append(json.loads(json.dumps(parent[key], default=str)))
        else:
            parent[f"{key}_copy"] = parent[key]
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


# --------------------------------------------------------------------------- the loader


@fuzz
@given(
    st.text(alphabet=SYNTAX, max_size=300) | st.text(max_size=200),
    st.sampled_from(["yaml", "json", "toml"]),
)
def test_loader_survives_random_text(text: str, format: str) -> None:
    survives(lambda: perfscore.loads_rubric(text, format=format))  # type: ignore[arg-type]


@fuzz
@given(st.lists(st.sampled_from(TOKENS), max_size=40).map("".join))
def test_loader_survives_token_soup(text: str) -> None:
    survives(lambda: perfscore.loads_rubric(text))


def _load_and_score(text: str) -> object:
    rubric = perfscore.loads_rubric(text)
    compiled = perfscore.compile_rubric(rubric)
    survives(lambda: compiled.score(demo_inputs()))
    return survives(lambda: compiled.score(demo_inputs(), explain=False))


@fuzz
@given(text_mutations())
def test_loader_survives_mutated_rubric_text(text: str) -> None:
    survives(lambda: _load_and_score(text))


@fuzz
@given(structure_mutations())
def test_loader_survives_mutated_rubric_structure(text: str) -> None:
    survives(lambda: _load_and_score(text))


# --------------------------------------------------------------------------- formulas


@fuzz
@given(
    st.text(max_size=120) | st.text(alphabet=SYNTAX, max_size=120),
    st.sampled_from([None, SYMBOLS]),
)
def test_formula_compiler_survives_random_text(
    source: str, symbols: Mapping[str, Symbol] | None
) -> None:
    survives(lambda: perfscore.compile_formula(source, symbols))


@fuzz
@given(
    st.lists(st.sampled_from(FORMULA_TOKENS), min_size=1, max_size=30).map("".join),
    st.sampled_from([None, SYMBOLS]),
    st.sampled_from([None, ValueType.NUMBER, ValueType.BOOLEAN, (ValueType.TEXT,)]),
)
def test_formula_compiler_survives_token_soup(
    source: str, symbols: Mapping[str, Symbol] | None, expect: Any
) -> None:
    survives(lambda: perfscore.compile_formula(source, symbols, expect=expect))


# --------------------------------------------------------------------------- inputs

BROKEN_DATA_RUBRIC = """
id: broken-data
title: 各种输入
inputs:
  staff: {label: 编制数, kind: count, unit: 人}
  actual: {label: 实有人数, kind: count, unit: 人, required: false}
  spend: {label: 支出, kind: money, min: 0}
  loose: {label: 宽松, kind: money, accept: [full_width, thousands_separator], required: false}
  rate: {label: 满意度, kind: percent, min: 0, max: 100}
  signed: {label: 满意度2, kind: percent, accept: [percent_sign], required: false}
  shares: {label: 满意度3, kind: percent, accept: [fraction, percent_sign], required: false}
  whole: {label: 整数, kind: integer, default: 3}
  ok: {label: 是否, kind: boolean, required: false}
  level: {label: 等级, kind: choice, options: [好, 中, 差], required: false}
  note: {label: 说明, kind: text, required: false}
derived:
  per_head:
    label: 人均
    formula: spend / staff
    on_zero_division: not_applicable
indicators:
  - id: a
    name: 满意度
    weight: 60
    scoring: {method: proportional, value: rate, full_at: 100}
  - id: b
    name: 人均支出
    weight: 40
    scoring: {method: proportional, value: per_head, full_at: 10}
grades:
  - {name: 好, range: "[60, 100]"}
  - {name: 差, range: "[0, 60)"}
checks:
  - id: over_establishment
    when: actual > staff
    message: 实有人数超过编制数
"""
INPUT_IDS = ["staff", "actual", "spend", "loose", "rate", "signed", "shares", "whole", "ok"]
INPUT_IDS += ["level", "note"]


@cache
def broken_data_compiled() -> perfscore.CompiledRubric:
    return perfscore.compile_rubric(perfscore.loads_rubric(BROKEN_DATA_RUBRIC))


@fuzz
@given(
    st.dictionaries(
        st.sampled_from(INPUT_IDS) | st.text(max_size=6) | st.integers(),
        CELL_VALUES,
        max_size=12,
    )
)
def test_input_validator_survives_any_cell(inputs: dict[Any, Any]) -> None:
    compiled = broken_data_compiled()
    full = survives(lambda: compiled.score(inputs))
    fast = survives(lambda: compiled.score(inputs, explain=False))
    # the fast path takes exactly what the full engine takes, and scores it the same
    assert (full is None) == (fast is None)
    if isinstance(full, perfscore.ScoreResult) and isinstance(fast, perfscore.ScoreResult):
        assert (fast.total, fast.grade, fast.warnings) == (full.total, full.grade, full.warnings)
        assert dict(fast.values) == dict(full.values)


@fuzz
@given(
    st.fixed_dictionaries({}, optional=dict.fromkeys(demo_inputs(), CELL_VALUES)).map(
        lambda changes: {**demo_inputs(), **changes}
    )
)
def test_demo_rubric_survives_broken_department_data(inputs: dict[str, Any]) -> None:
    survives(lambda: demo_compiled().score(inputs))


@fuzz
@given(CELL_VALUES | st.dictionaries(st.text(max_size=3), CELL_VALUES, max_size=3))
def test_input_validator_survives_anything_as_inputs(inputs: Any) -> None:
    survives(lambda: broken_data_compiled().validate_inputs(inputs))


@pytest.mark.parametrize(
    "inputs",
    [
        {"staff": 10**5000},  # a number whose decimal text Python refuses to write
        {"spend": Decimal("1E-999999999")},  # a gigabyte in plain notation
        {"spend": Decimal("sNaN")},  # a signalling NaN: comparing it raises
        {"rate": "9" * 100_000},
        {"level": "好" * 100_000},
    ],
)
def test_known_hard_cells(inputs: dict[str, Any]) -> None:
    base = {"staff": 10, "spend": 5, "rate": 90}
    with pytest.raises(perfscore.InputError):
        broken_data_compiled().score({**base, **inputs})
