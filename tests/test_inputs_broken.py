"""Broken department data: each mistake a hand-filled sheet makes gets a clear error naming
the row, the input and the fix; a plausible spelling is read only when the input's
``accept`` list says how; data that disagree with themselves warn without failing."""

from __future__ import annotations

import decimal
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import perfscore
from perfscore import InputError, RubricValidationError
from perfscore.population import read_population

#: The messages these tests assert are the English ones.
pytestmark = pytest.mark.lang("en")

RUBRIC = """
id: broken-data
title: 各种输入
inputs:
  staff: {label: 编制数, kind: count, unit: 人}
  actual: {label: 实有人数, kind: count, unit: 人, required: false}
  spend: {label: 支出, kind: money, min: 0}
  loose: {label: 宽松支出, kind: money, accept: [full_width, thousands_separator], required: false}
  rate: {label: 满意度, kind: percent, min: 0, max: 100}
  signed: {label: 带百分号, kind: percent, accept: [percent_sign], required: false}
  shares: {label: 小数比例, kind: percent, accept: [fraction, percent_sign], max: 100,
           required: false}
  whole: {label: 整数, kind: integer, default: 3}
  basic: {label: 基本支出, kind: money, required: false}
  project: {label: 项目支出, kind: money, required: false}
  total_spend: {label: 支出合计, kind: money, required: false}
indicators:
  - id: a
    name: 满意度
    weight: 100
    scoring: {method: proportional, value: rate, full_at: 100}
grades:
  - {name: 好, range: "[60, 100]"}
  - {name: 差, range: "[0, 60)"}
checks:
  - id: over_establishment
    when: actual > staff
    message: 实有人数超过编制数（合法，请核实）
  - id: parts_add_up
    when: abs(basic + project - total_spend) > 0.01
    message: 基本支出与项目支出之和不等于支出合计
"""
GOOD: dict[str, Any] = {"staff": 10, "spend": 5, "rate": 90}


@pytest.fixture(scope="module")
def compiled() -> perfscore.CompiledRubric:
    return perfscore.compile_rubric(perfscore.loads_rubric(RUBRIC))


def refused(compiled: perfscore.CompiledRubric, **changes: Any) -> InputError:
    with pytest.raises(InputError) as info:
        compiled.score({**GOOD, **changes}, source="depts.csv:3")
    return info.value


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("changes", "text"),
    [
        (
            {"rate": "NaN"},
            "depts.csv:3: rate: input 'rate' (满意度): 'NaN' is not a finite number "
            "[input.type]\n    hint: write a number in %",
        ),
        (
            {"rate": float("-inf")},
            "depts.csv:3: rate: input 'rate' (满意度): -inf is not a finite number "
            "[input.type]\n    hint: write a number in %",
        ),
        (
            {"spend": 1e308},
            "depts.csv:3: spend: input 'spend' (支出): 1E+308 is implausibly large "
            "[input.type]\n    hint: write a number in 万元",
        ),
        (
            {"spend": "1,234.5"},
            "depts.csv:3: spend: input 'spend' (支出): '1,234.5' has thousands separators "
            "[input.separator]\n    hint: write 1234.5, or add 'thousands_separator' to "
            "'accept' of input 'spend' in the rubric",
        ),
        (
            {"spend": "１２３"},
            "depts.csv:3: spend: input 'spend' (支出): '１２３' is written with full-width "
            "characters [input.full_width]\n    hint: write 123, or add 'full_width' to "
            "'accept' of input 'spend' in the rubric",
        ),
        (
            {"rate": "95%"},
            "depts.csv:3: rate: input 'rate' (满意度): '95%' has a percent sign "
            "[input.percent_sign]\n    hint: write 95, or add 'percent_sign' to 'accept' of "
            "input 'rate' in the rubric",
        ),
        (
            {"spend": "95%"},
            "depts.csv:3: spend: input 'spend' (支出): '95%' has a percent sign "
            "[input.percent_sign]\n    hint: this input is not a percent: write the figure "
            "in 万元",
        ),
        (
            {"spend": ""},
            "depts.csv:3: spend: input 'spend' (支出) is empty [input.missing]\n"
            "    hint: give a value, or declare a default or 'required: false' in the rubric",
        ),
        (
            {"staff": -3},
            "depts.csv:3: staff: input 'staff' (编制数) is -3, outside [0, +∞) "
            "[input.bounds]\n    hint: check the figure and its unit",
        ),
        (
            {"spend": "abc"},
            "depts.csv:3: spend: input 'spend' (支出): 'abc' is not a number [input.type]\n"
            "    hint: write a number in 万元",
        ),
        (
            {"spend": "12.5万元"},
            "depts.csv:3: spend: input 'spend' (支出): '12.5万元' has a unit after the "
            "number [input.unit]\n    hint: write the number alone in 万元: 12.5",
        ),
        (
            {"spend": "#DIV/0!"},
            "depts.csv:3: spend: input 'spend' (支出): '#DIV/0!' is a spreadsheet error, not "
            "a number [input.type]\n    hint: fix the formula in the sheet, or write the figure",
        ),
        (
            {"spend": "—"},
            "depts.csv:3: spend: input 'spend' (支出): '—' is not a number [input.type]\n"
            "    hint: write 0 if the figure is zero; leave the cell empty if there is none",
        ),
        (
            {"whole": "3.5"},
            "depts.csv:3: whole: input 'whole' (整数): 3.5 is not a whole number "
            "[input.type]\n    hint: write a whole number",
        ),
        (
            {"spend": "1e-40"},
            "depts.csv:3: spend: input 'spend' (支出): 1E-40 has more than 30 decimal places "
            "[input.type]\n    hint: round the figure",
        ),
        (
            {"编制数": 3},
            "depts.csv:3: 编制数: unknown input '编制数' [input.unknown]\n"
            "    hint: '编制数' is the label of input 'staff': use the id",
        ),
        (
            {"staf": 3},
            "depts.csv:3: staf: unknown input 'staf' [input.unknown]\n"
            "    hint: did you mean 'staff'?",
        ),
        (
            {"满意": 3},
            "depts.csv:3: 满意: unknown input '满意' [input.unknown]\n"
            "    hint: did you mean 'rate' (满意度)?",
        ),
        (
            {"shares": 95},
            "depts.csv:3: shares: input 'shares' (小数比例) is 9500, outside (-∞, 100] "
            "[input.bounds]\n    hint: this input reads fractions of one: write 0.95 for 95 %",
        ),
    ],
)
def test_broken_cell_refused_with_the_fix(
    compiled: perfscore.CompiledRubric, changes: dict[str, Any], text: str
) -> None:
    assert str(refused(compiled, **changes)) == text


@pytest.mark.parametrize(
    "raw",
    ["1,234", "12,34", "1 234", "1_234", "１,２３４", "95％", "NaN", "inf", "-Infinity", "sNaN"],
)
def test_no_spelling_is_guessed(compiled: perfscore.CompiledRubric, raw: str) -> None:
    """Without an 'accept' entry, none of these reads as a number, not even silently."""
    assert len(refused(compiled, spend=raw).issues) == 1


@pytest.mark.parametrize(
    "raw", [Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("1E+15"), 10**20]
)
def test_non_finite_and_huge_numbers_refused(compiled: perfscore.CompiledRubric, raw: Any) -> None:
    assert refused(compiled, spend=raw).codes == ("input.type",)


def test_every_problem_of_a_row_at_once(compiled: perfscore.CompiledRubric) -> None:
    error = refused(compiled, staff="１０", spend="1,234", rate="95%", whole="x", stafff=1)
    assert error.codes == (
        "input.unknown",
        "input.full_width",
        "input.separator",
        "input.percent_sign",
        "input.type",
    )
    assert [i.location.path for i in error.issues] == [
        ("stafff",),
        ("staff",),
        ("spend",),
        ("rate",),
        ("whole",),
    ]


# --------------------------------------------------------------------------- accepted


@pytest.mark.parametrize(
    ("changes", "read"),
    [
        ({"loose": "1,234.5"}, {"loose": Decimal("1234.5")}),
        ({"loose": "１２３４．５"}, {"loose": Decimal("1234.5")}),
        ({"loose": "１，２３４"}, {"loose": Decimal("1234")}),
        ({"loose": " 12,345,678 "}, {"loose": Decimal("12345678")}),
        ({"signed": "95%"}, {"signed": Decimal("95")}),
        ({"signed": "95.5 %"}, {"signed": Decimal("95.5")}),
        ({"shares": Decimal("0.95")}, {"shares": Decimal("95.00")}),
        ({"shares": "0.955"}, {"shares": Decimal("95.500")}),
        ({"shares": "95%"}, {"shares": Decimal("95")}),
        ({"spend": " 12.50 "}, {"spend": Decimal("12.50")}),
        ({"spend": "1.5E+3"}, {"spend": Decimal("1.5E+3")}),
        ({"spend": 0.1}, {"spend": Decimal("0.1")}),
    ],
)
def test_declared_spellings_are_read(
    compiled: perfscore.CompiledRubric, changes: dict[str, Any], read: dict[str, Decimal]
) -> None:
    for explain in (True, False):
        result = compiled.score({**GOOD, **changes}, explain=explain)
        assert {k: result.values[k] for k in read} == read
        assert result.warnings == ()


@pytest.mark.parametrize(
    ("raw", "code"), [("1,23,456", "input.separator"), ("12,34", "input.separator")]
)
def test_accepted_separators_still_need_groups_of_three(
    compiled: perfscore.CompiledRubric, raw: str, code: str
) -> None:
    assert refused(compiled, loose=raw).codes == (code,)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("{label: L, kind: boolean, accept: [full_width]}", "'accept' only applies to numeric"),
        ("{label: L, kind: money, accept: [percent_sign]}", "only apply to kind percent"),
        ("{label: L, kind: count, accept: [fraction]}", "only apply to kind percent"),
        ("{label: L, kind: money, accept: [guess]}", "must be one of 'full_width'"),
    ],
)
def test_accept_is_checked_when_the_rubric_loads(spec: str, message: str) -> None:
    text = RUBRIC.replace("  whole: {label: 整数, kind: integer, default: 3}", f"  whole: {spec}")
    with pytest.raises(RubricValidationError) as info:
        perfscore.loads_rubric(text)
    assert message in str(info.value)


# --------------------------------------------------------------------------- warnings


@pytest.mark.parametrize("explain", [True, False])
def test_more_staff_than_established_only_warns(
    compiled: perfscore.CompiledRubric, explain: bool
) -> None:
    result = compiled.score({**GOOD, "actual": 12}, explain=explain, source="depts.csv:3")
    assert result.total == Decimal("90.00")
    assert [str(w) for w in result.warnings] == [
        "depts.csv:3: check 'over_establishment': 实有人数超过编制数（合法，请核实） "
        "(actual = 12, staff = 10) [input.inconsistent]"
    ]


@pytest.mark.parametrize("explain", [True, False])
def test_parts_that_do_not_add_up_warn(compiled: perfscore.CompiledRubric, explain: bool) -> None:
    inputs = {**GOOD, "basic": "80.5", "project": 20, "total_spend": 100}
    result = compiled.score(inputs, explain=explain)
    assert [w.code for w in result.warnings] == ["input.inconsistent"]
    assert "(basic = 80.5, project = 20, total_spend = 100)" in result.warnings[0].message
    fine = compiled.score({**inputs, "basic": "80.00"}, explain=explain)
    assert fine.warnings == ()


def test_a_check_reading_a_missing_value_is_skipped(compiled: perfscore.CompiledRubric) -> None:
    assert compiled.score({**GOOD, "basic": 1, "project": 2}).warnings == ()


@pytest.mark.parametrize("explain", [True, False])
def test_a_percent_below_one_warns(compiled: perfscore.CompiledRubric, explain: bool) -> None:
    result = compiled.score({**GOOD, "rate": Decimal("0.95")}, explain=explain, source="d.csv:4")
    assert result.values["rate"] == Decimal("0.95")  # read as written: 0.95 %
    assert [str(w) for w in result.warnings] == [
        "d.csv:4: rate: input 'rate' (满意度) is 0.95 %: a fraction of one? "
        "[input.percent_fraction]\n"
        "    hint: 95 % is written 95; if the figures are fractions of one, add 'fraction' to "
        "'accept' of this input in the rubric"
    ]


def test_checks_are_formulas_checked_when_the_rubric_loads() -> None:
    text = RUBRIC.replace("when: actual > staff", "when: actual > staf")
    with pytest.raises(perfscore.FormulaError) as info:
        perfscore.loads_rubric(text)
    assert info.value.codes == ("formula.unknown_name",)
    assert info.value.issues[0].location.path == ("checks", 0, "when")


def test_a_check_must_be_a_condition() -> None:
    text = RUBRIC.replace("when: actual > staff", "when: actual - staff")
    with pytest.raises(perfscore.FormulaError) as info:
        perfscore.loads_rubric(text)
    assert info.value.codes == ("formula.type",)


# --------------------------------------------------------------------------- populations


def test_population_rows_are_named(compiled: perfscore.CompiledRubric, tmp_path: Path) -> None:
    sheet = tmp_path / "depts.csv"
    sheet.write_text(
        '部门,staff,spend,rate\n甲,10,5,90\n乙,１０,"1,234",95%\n丙,9,,90\n', encoding="utf-8"
    )
    problems: list[str] = []
    totals: list[Decimal] = []
    for dept in read_population(sheet):
        assert dept.inputs is not None
        try:
            totals.append(compiled.score(dept.inputs, source=dept.source).total)
        except InputError as error:
            problems.extend(f"{dept.id}: {issue}" for issue in error.issues)
    assert totals == [Decimal("90.00")]
    assert [p.split("\n")[0] for p in problems] == [
        f"乙: {sheet}:3: staff: input 'staff' (编制数): '１０' is written with full-width "
        "characters [input.full_width]",
        f"乙: {sheet}:3: spend: input 'spend' (支出): '1,234' has thousands separators "
        "[input.separator]",
        f"乙: {sheet}:3: rate: input 'rate' (满意度): '95%' has a percent sign "
        "[input.percent_sign]",
        f"丙: {sheet}:4: spend: input 'spend' (支出) is empty [input.missing]",
    ]


def test_reading_ignores_the_caller_decimal_context(compiled: perfscore.CompiledRubric) -> None:
    with decimal.localcontext(decimal.Context(prec=2, rounding=decimal.ROUND_FLOOR, traps=[])):
        result = compiled.score({**GOOD, "shares": "0.12345", "loose": "1,234.5"})
    assert (result.values["shares"], result.values["loose"]) == (
        Decimal("12.345"),
        Decimal("1234.5"),
    )


FAST = """
id: fast
title: 全部必填
inputs:
  shares: {label: 比例, kind: percent, accept: [fraction], max: 100}
  money: {label: 金额, kind: money}
  heads: {label: 人数, kind: count}
indicators:
  - id: a
    name: A
    weight: 100
    scoring: {method: proportional, value: shares, full_at: 100}
grades:
  - {name: ok, range: "[0, 100]"}
"""


@pytest.mark.parametrize(
    "inputs",
    [
        {"shares": Decimal("0.95"), "money": Decimal(1), "heads": Decimal(3)},
        {"shares": "0.95", "money": 1, "heads": 3},
        {"shares": Decimal("0.5"), "money": Decimal("1E+20"), "heads": 3},
        {"shares": Decimal("0.5"), "money": Decimal("1E-999999999"), "heads": 3},
        {"shares": Decimal("0.5"), "money": Decimal("sNaN"), "heads": 3},
        {"shares": Decimal("0.5"), "money": 1, "heads": Decimal("2.5")},
    ],
)
def test_the_fast_path_reads_like_the_full_engine(inputs: dict[str, Any]) -> None:
    """With every input present the compiled fast path scores; it must read the same."""
    compiled = perfscore.compile_rubric(perfscore.loads_rubric(FAST))
    outcomes: list[Any] = []
    for explain in (False, True):
        try:
            result = compiled.score(inputs, explain=explain)
            outcomes.append((dict(result.values), result.total))
        except InputError as error:
            outcomes.append(error.codes)
    assert outcomes[0] == outcomes[1]
    if isinstance(outcomes[0], tuple) and isinstance(outcomes[0][0], dict):
        assert outcomes[0][0]["shares"] in (Decimal(95), Decimal(50))
