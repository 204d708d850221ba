"""The engine: compile a rubric once, then score departments exactly and deterministically."""

from __future__ import annotations

import dataclasses
import gc
import json
import threading
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest

import perfscore
from perfscore import (
    CompiledRubric,
    EvaluationError,
    FormulaError,
    InputError,
    RubricValidationError,
    ScoreResult,
    Status,
    Step,
    compile_rubric,
    content_hash,
)

from .conftest import one_leaf_rubric, rubric_from_yaml

#: The messages these tests assert are the English ones.
pytestmark = pytest.mark.lang("en")

D = Decimal


def compiled(text: str) -> CompiledRubric:
    return compile_rubric(rubric_from_yaml(text))


def refused(text: str) -> RubricValidationError:
    with pytest.raises(RubricValidationError) as info:
        rubric_from_yaml(text)
    return info.value


# --------------------------------------------------------------------------- the demo


def test_demo_scores_89_92_good(
    demo_compiled: CompiledRubric, demo_inputs: Mapping[str, Any]
) -> None:
    result = demo_compiled.score(demo_inputs)
    assert result.total == D("89.92")
    assert result.grade == "良好"
    assert result.subtotals == {
        "input": D(14),
        "budget_allocation": D(14),
        "process": D(33),
        "budget_execution": D(8),
        "budget_management": D(25),
        "output": D("22.92"),
        "duty_performance": D("22.92"),
        "outcome": D(20),
        "duty_benefit": D(20),
    }
    assert result.values["staff_control_rate"] == D("94.44")  # 17 / 18 as a rounded percent
    assert result.max_total == D(100)
    assert result.rubric_id == "demo-dept-overall"
    assert result.rubric_version == "1.0"


def test_result_is_tied_to_the_rubric_content(
    demo_rubric: perfscore.Rubric,
    demo_compiled: CompiledRubric,
    demo_inputs: Mapping[str, Any],
) -> None:
    assert demo_compiled.hash == content_hash(demo_rubric)
    assert demo_compiled.score(demo_inputs).rubric_hash == demo_compiled.hash
    assert demo_compiled.hash.startswith("sha256:")


def test_compiling_twice_costs_nothing(demo_rubric: perfscore.Rubric) -> None:
    assert compile_rubric(demo_rubric) is compile_rubric(demo_rubric)


def test_leaf_and_branch_results(
    demo_compiled: CompiledRubric, demo_inputs: Mapping[str, Any]
) -> None:
    result = demo_compiled.score(demo_inputs)
    leaf = result["staff_control"]
    assert leaf.is_leaf
    assert leaf.parent == "budget_allocation"
    assert leaf.depth == 2
    assert leaf.lost == 0
    assert leaf.status is Status.SCORED
    branch = result["input"]
    assert branch.children == ("budget_allocation",)
    assert branch.lost == 1
    assert [n.id for n in result.leaves][:3] == ["staff_control", "sangong_change", "key_spend"]
    with pytest.raises(KeyError):
        result["nope"]


@pytest.mark.lang("zh")
def test_explanation_off(demo_compiled: CompiledRubric, demo_inputs: Mapping[str, Any]) -> None:
    plain = demo_compiled.score(demo_inputs, explain=False)
    full = demo_compiled.score(demo_inputs)
    assert plain.scores == full.scores
    assert plain.total == full.total
    assert all(node.explanation is None for node in plain)
    explanation = full["key_spend"].explanation
    assert explanation is not None
    assert dict(explanation.values) == {
        "key_project_spend": D("353.82"),
        "project_spend_total": D("413.31"),
        "key_spend_rate": D("85.61"),
    }
    assert [s.text for s in explanation.steps] == [
        "重点支出安排率85.61%，在80%（含）至90%之间，得4分"
    ]


def test_to_dict_is_json_ready(
    demo_compiled: CompiledRubric, demo_inputs: Mapping[str, Any]
) -> None:
    data = demo_compiled.score(demo_inputs).to_dict()
    text = json.dumps(data, ensure_ascii=False)
    assert json.loads(text)["total"] == "89.92"
    assert data["grade"] == "良好"
    assert data["indicators"][0]["id"] == "input"


# --------------------------------------------------------------------------- inputs

INPUTS = """
id: t
title: T
inputs:
  x: {label: 数值, kind: percent, min: 0, max: 100}
  n: {label: 次数, kind: count}
  i: {label: 整数, kind: integer, default: 3}
  b: {label: 是否, kind: boolean}
  c: {label: 等级, kind: choice, options: [好, 一般, 差]}
  o: {label: 可选, kind: money, required: false}
indicators:
  - {id: a, name: A, weight: 100, scoring: {method: formula, expression: x}}
grades:
  - {name: ok, range: "[0, 100]"}
"""


def test_inputs_coerced() -> None:
    result = compiled(INPUTS).score({"x": "50.5", "n": 2, "b": "是", "c": " 好 "})
    assert result.values == {
        "x": D("50.5"),
        "n": D(2),
        "i": D(3),  # the declared default
        "b": True,
        "c": "好",
        "o": None,  # optional and missing: not applicable
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(0.1, D("0.1")), (12.4, D("12.4")), (7, D(7)), (D("1.10"), D("1.10")), (" 3 ", D(3))],
)
def test_numbers_never_pass_through_binary_floats(raw: object, expected: Decimal) -> None:
    result = compiled(INPUTS).score({"x": raw, "n": 0, "b": True, "c": "差"})
    assert result.values["x"] == expected
    assert str(result.values["x"]) == str(expected)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(True, True), (False, False), ("true", True), ("否", False), ("YES", True), ("no", False)],
)
def test_boolean_words(raw: object, expected: bool) -> None:
    result = compiled(INPUTS).score({"x": 1, "n": 0, "b": raw, "c": "差"})
    assert result.values["b"] is expected


def test_every_input_problem_reported_at_once() -> None:
    inputs = {
        "x": 101,  # out of bounds
        "n": -1,  # a count cannot be negative
        "i": 2.5,  # not a whole number
        "b": "maybe",  # wrong type
        "c": "很好",  # not an option
        "q": 1,  # unknown
        "nn": 3,  # unknown, close to a declared name
    }
    with pytest.raises(InputError) as info:
        compiled(INPUTS).score(inputs, source="dept.yaml")
    error = info.value
    assert error.codes == (
        "input.unknown",
        "input.unknown",
        "input.bounds",
        "input.bounds",
        "input.type",
        "input.type",
        "input.type",
    )
    assert str(error) == (
        "7 problems:\n"
        "dept.yaml: q: unknown input 'q' [input.unknown]\n"
        "    hint: the rubric declares: x, n, i, b, c, o\n"
        "dept.yaml: nn: unknown input 'nn' [input.unknown]\n"
        "    hint: did you mean 'n'?\n"
        "dept.yaml: x: input 'x' (数值) is 101, outside [0, 100] [input.bounds]\n"
        "    hint: check the figure and its unit\n"
        "dept.yaml: n: input 'n' (次数) is -1, outside [0, +∞) [input.bounds]\n"
        "    hint: check the figure and its unit\n"
        "dept.yaml: i: input 'i' (整数): 2.5 is not a whole number [input.type]\n"
        "    hint: write a whole number\n"
        "dept.yaml: b: input 'b' (是否): true or false is needed, not 'maybe' [input.type]\n"
        "    hint: write true or false\n"
        "dept.yaml: c: input 'c' (等级): '很好' is not one of '好', '一般', '差'; "
        "did you mean '好'? [input.type]\n"
        "    hint: one of: 好, 一般, 差"
    )


def test_a_float_nan_is_a_missing_value() -> None:
    """NaN is how pandas and numpy write a gap: missing, not a wrong number."""
    with pytest.raises(InputError) as info:
        compiled(INPUTS).score({"x": float("nan"), "n": 0, "b": True, "c": "差"})
    assert info.value.codes == ("input.missing",)
    assert info.value.issues[0].location.path == ("x",)


def test_missing_inputs() -> None:
    with pytest.raises(InputError) as info:
        compiled(INPUTS).score({"x": 1, "c": "好", "b": "  "})
    assert info.value.codes == ("input.missing", "input.missing")
    assert info.value.issues[0].message == "missing required input 'n' (次数)"
    assert info.value.issues[0].hint == (
        "give a value, or declare a default or 'required: false' in the rubric"
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (float("inf"), "input 'x' (数值): inf is not a finite number"),
        ("abc", "input 'x' (数值): 'abc' is not a number"),
        (True, "input 'x' (数值): a number is needed, not true/false"),
        ([1], "input 'x' (数值): a number is needed, not list"),
        ("1e20", "input 'x' (数值): 100000000000000000000 is implausibly large"),
    ],
)
def test_wrong_number_types(raw: object, message: str) -> None:
    with pytest.raises(InputError) as info:
        compiled(INPUTS).score({"x": raw, "n": 0, "b": True, "c": "差"})
    assert info.value.codes == ("input.type",)
    assert info.value.issues[0].message == message
    assert info.value.issues[0].hint == "write a number in %"


def test_inputs_must_be_a_mapping() -> None:
    with pytest.raises(InputError) as info:
        compiled(INPUTS).score([("x", 1)])  # type: ignore[arg-type]
    assert info.value.codes == ("input.not_mapping",)


# --------------------------------------------------------------------------- load errors


def test_weight_sum_names_the_node_and_both_numbers() -> None:
    error = refused(
        """
        id: t
        title: T
        inputs:
          x: {label: X, kind: number}
        indicators:
          - id: input
            name: 投入
            weight: 100
            children:
              - {id: a, name: A, weight: 30, scoring: {method: formula, expression: x}}
              - {id: b, name: B, weight: 60.5, scoring: {method: formula, expression: x}}
        grades:
          - {name: ok, range: "[0, 100]"}
        """
    )
    assert error.codes == ("rubric.weight_sum",)
    assert str(error) == (
        "<test>:8:13: indicators[0].weight: indicator 'input' (投入) has weight 100, "
        "but its children add up to 90.5 [rubric.weight_sum]\n"
        "    hint: make the parent's weight the sum of its children's"
    )


def test_top_level_weights_must_add_up_to_the_total() -> None:
    error = refused(
        """
        id: t
        title: T
        total: 100
        inputs:
          x: {label: X, kind: number}
        indicators:
          - {id: a, name: A, weight: 30, scoring: {method: formula, expression: x}}
        grades:
          - {name: ok, range: "[0, 100]"}
        """
    )
    assert error.codes == ("rubric.total_mismatch",)
    assert error.issues[0].message == (
        "the top-level indicators add up to 30, but the rubric total is 100"
    )


def test_duplicate_ids_and_zero_weight_leaves() -> None:
    error = refused(
        """
        id: t
        title: T
        total: 30
        inputs:
          x: {label: X, kind: number}
        indicators:
          - {id: a, name: A, weight: 30, scoring: {method: formula, expression: x}}
          - {id: a, name: B, weight: 0, scoring: {method: formula, expression: x}}
        grades:
          - {name: ok, range: "[0, 30]"}
        """
    )
    assert error.codes == ("rubric.duplicate_id", "rubric.leaf_weight")
    assert error.issues[0].hint == "first used at <test>:7:5: indicators[0]"


CYCLE = """
id: t
title: T
inputs:
  x: {label: X, kind: number}
derived:
  a: {label: A, formula: b + 1}
  b: {label: B, formula: a * 2}
indicators:
  - {id: k, name: K, weight: 100, scoring: {method: formula, expression: x}}
grades:
  - {name: ok, range: "[0, 100]"}
"""


def test_derived_cycle_is_a_load_error() -> None:
    error = refused(CYCLE)
    assert "rubric.cycle" in error.codes
    cycle = next(i for i in error.issues if i.code == "rubric.cycle")
    assert cycle.message == "derived values depend on each other in a cycle: a -> b -> a"
    assert cycle.location.path == ("derived", "a", "formula")


def test_derived_cycle_reported_without_follow_on_issues() -> None:
    assert refused(CYCLE).codes == ("rubric.cycle",)


def test_unknown_names_are_load_errors() -> None:
    with pytest.raises(FormulaError) as info:
        rubric_from_yaml(
            """
            id: t
            title: T
            inputs:
              speed: {label: X, kind: number}
            derived:
              d: {label: D, formula: sped * 2}
            indicators:
              - {id: k, name: K, weight: 100, scoring: {method: formula, expression: speeed}}
            grades:
              - {name: ok, range: "[0, 100]"}
            """
        )
    assert info.value.codes == ("formula.unknown_name", "formula.unknown_name")
    assert [i.hint for i in info.value.issues] == ["did you mean 'speed'?"] * 2


def test_name_both_input_and_derived() -> None:
    error = refused(
        """
        id: t
        title: T
        inputs:
          x: {label: X, kind: number}
        derived:
          x: {label: Y, formula: "1"}
        indicators:
          - {id: k, name: K, weight: 100, scoring: {method: formula, expression: x}}
        grades:
          - {name: ok, range: "[0, 100]"}
        """
    )
    assert error.codes == ("rubric.duplicate_name",)


# --------------------------------------------------------------------------- grades

SEED_GRADES = """
  - {name: 优秀, range: "(90, 100]"}
  - {name: 良好, range: "[80, 90]"}
  - {name: 合格, range: "[60, 80)"}
  - {name: 不合格, range: "[0, 60)"}
"""
NATIONAL_GRADES = """
  - {name: 优, range: "[90, 100]"}
  - {name: 良, range: "[80, 90)"}
  - {name: 中, range: "[60, 80)"}
  - {name: 差, range: "[0, 60)"}
"""


def graded(grades: str, *, extra: str = "", score_places: int = 2) -> CompiledRubric:
    return compiled(
        f"""
id: t
title: T
rounding:
  score: {{places: {score_places}}}
{extra}
inputs:
  x: {{label: X, kind: number}}
indicators:
  - {{id: a, name: A, weight: 100, scoring: {{method: formula, expression: x}}}}
grades:
{grades}
"""
    )


@pytest.mark.parametrize(
    ("total", "seed", "national"),
    [
        ("100", "优秀", "优"),
        ("90.01", "优秀", "优"),
        ("90", "良好", "优"),  # the seed department's 90: 良好 in its table, 优 nationally
        ("89.99", "良好", "良"),
        ("80", "良好", "良"),
        ("79.99", "合格", "中"),
        ("60", "合格", "中"),
        ("59.99", "不合格", "差"),
        ("0", "不合格", "差"),
    ],
)
def test_seed_and_national_grade_bands(total: str, seed: str, national: str) -> None:
    assert graded(SEED_GRADES).score({"x": total}).grade == seed
    assert graded(NATIONAL_GRADES).score({"x": total}).grade == national


def test_grade_decided_on_the_unrounded_total() -> None:
    # Leaf scores keep 3 places, the total shows 2: 89.996 displays as 90.00.
    unrounded = graded(NATIONAL_GRADES, score_places=3)
    result = unrounded.score({"x": "89.996"})
    assert result.total == D("90.00")
    assert result.unrounded_total == D("89.996")
    assert result.grade == "良"
    rounded = graded(NATIONAL_GRADES, score_places=3, extra="  grade_on: rounded")
    assert rounded.score({"x": "89.996"}).grade == "优"


@pytest.mark.parametrize(
    ("grades", "code", "message"),
    [
        (
            NATIONAL_GRADES.replace("[80, 90)", "[80, 90]"),
            "rubric.grades_overlap",
            "grades '良' [80, 90] and '优' [90, 100] overlap",
        ),
        (
            NATIONAL_GRADES.replace("[90, 100]", "(90, 100]"),
            "rubric.grades_gap",
            "grades '良' [80, 90) and '优' (90, 100] leave a gap",
        ),
        (
            NATIONAL_GRADES.replace("[80, 90)", "[80, 85)"),
            "rubric.grades_gap",
            "grades '良' [80, 85) and '优' [90, 100] leave a gap",
        ),
        (
            NATIONAL_GRADES.replace("[90, 100]", "[90, 100)"),
            "rubric.grades_gap",
            "no grade covers a total of 100: the highest grade is [90, 100)",
        ),
        (
            NATIONAL_GRADES.replace("[0, 60)", "(0, 60)"),
            "rubric.grades_gap",
            "no grade covers totals from 0 up to (0, 60)",
        ),
        (
            NATIONAL_GRADES.replace("[90, 100]", "[90, 110]"),
            "rubric.grades_range",
            "grade '优' [90, 110] reaches outside [0, 100]",
        ),
        (
            NATIONAL_GRADES.replace("[90, 100]", "[90, +∞)"),
            "rubric.grades_unbounded",
            "grade '优' [90, +∞) must have both ends within [0, 100]",
        ),
        (
            NATIONAL_GRADES.replace("name: 良", "name: 优"),
            "rubric.duplicate_grade",
            "grade '优' is named twice",
        ),
    ],
)
def test_grade_layout_errors(grades: str, code: str, message: str) -> None:
    with pytest.raises(RubricValidationError) as info:
        graded(grades)
    assert info.value.codes == (code,)
    assert info.value.issues[0].message == message


# --------------------------------------------------------------------------- not applicable

NA = """
id: t
title: T
not_applicable: {policy}
inputs:
  x: {{label: X, kind: number}}
  y: {{label: Y, kind: number, required: false}}
indicators:
  - id: g1
    name: G1
    weight: 60
    children:
      - {{id: a, name: A, weight: 20, scoring: {{method: formula, expression: x}}}}
      - {{id: b, name: B, weight: 40, scoring: {{method: formula, expression: y}}}}
  - id: g2
    name: G2
    weight: 40
    children:
      - {{id: c, name: C, weight: 40, scoring: {{method: formula, expression: x}}}}
grades:
  - {{name: ok, range: "[0, 100]"}}
"""


def na_result(policy: str) -> ScoreResult:
    return compiled(NA.format(policy=policy)).score({"x": 10})


def row(result: ScoreResult, node: str) -> tuple[Decimal, Decimal, Status]:
    r = result[node]
    return r.effective_weight, r.score, r.status


@pytest.mark.lang("zh")
def test_not_applicable_full_marks() -> None:
    # b (40 points) cannot be scored: it gets its full 40; a and c score 10 each.
    result = na_result("full_marks")
    assert row(result, "b") == (D(40), D(40), Status.NOT_APPLICABLE)
    assert row(result, "a") == (D(20), D(10), Status.SCORED)
    assert result.total == D(60)
    assert result["b"].explanation is not None
    assert [s.text for s in result["b"].explanation.steps] == ["不适用（Y无值）：得满分"]


def test_not_applicable_to_siblings() -> None:
    # b's 40 moves to its only sibling a: a now counts for 60, and 10/20 becomes 30/60.
    result = na_result("to_siblings")
    assert row(result, "b") == (D(0), D(0), Status.NOT_APPLICABLE)
    assert row(result, "a") == (D(60), D(30), Status.SCORED)
    assert row(result, "g1") == (D(60), D(30), Status.SCORED)
    assert row(result, "c") == (D(40), D(10), Status.SCORED)
    assert result.total == D(40)


@pytest.mark.lang("zh")
def test_not_applicable_rescale() -> None:
    # b's 40 leaves the total: the 60 applicable points are stretched to 100 (× 5/3).
    # a: 10/20 of 33.33 = 16.67; c: 10/40 of 66.67 = 16.67; each leaf rounded, then summed.
    result = na_result("rescale")
    assert row(result, "b") == (D(0), D(0), Status.NOT_APPLICABLE)
    assert row(result, "a") == (D("33.33"), D("16.67"), Status.SCORED)
    assert row(result, "c") == (D("66.67"), D("16.67"), Status.SCORED)
    assert result.total == D("33.34")
    assert result["a"].explanation is not None
    assert result["a"].explanation.steps[-1].text == (
        "分值20→33.33（承接不适用指标的分值）：10.00×33.33÷20=16.67"
    )
    assert result["b"].explanation is not None
    assert [s.text for s in result["b"].explanation.steps] == [
        "不适用（Y无值）：不计分，总分按比例折算"
    ]


@pytest.mark.lang("zh")
def test_not_applicable_when_condition_and_leaf_policy() -> None:
    result = compiled(
        """
        id: t
        title: T
        not_applicable: full_marks
        inputs:
          x: {label: X, kind: number}
          has_cars: {label: 有公务用车, kind: boolean}
        indicators:
          - {id: a, name: A, weight: 50, scoring: {method: formula, expression: x}}
          - id: cars
            name: 公务用车
            weight: 50
            not_applicable_when: not has_cars
            not_applicable: to_siblings
            scoring: {method: formula, expression: x}
        grades:
          - {name: ok, range: "[0, 100]"}
        """
    ).score({"x": 25, "has_cars": False})
    assert result["cars"].status is Status.NOT_APPLICABLE
    assert result["cars"].explanation is not None
    assert [s.text for s in result["cars"].explanation.steps] == [
        "不适用（not has_cars）：权重分配给同级指标"
    ]
    assert row(result, "a") == (D(100), D(50), Status.SCORED)
    assert result.total == D(50)


def test_everything_not_applicable_rescaled_to_zero() -> None:
    result = compiled(
        """
        id: t
        title: T
        not_applicable: rescale
        inputs:
          y: {label: Y, kind: number, required: false}
        indicators:
          - {id: b, name: B, weight: 100, scoring: {method: formula, expression: y}}
        grades:
          - {name: ok, range: "[0, 100]"}
        """
    ).score({})
    assert result.total == 0
    assert result["b"].status is Status.NOT_APPLICABLE


# --------------------------------------------------------------------------- zero division

ZERO_DIVISION = """
id: t
title: T
inputs:
  last: {{label: 上年, kind: money}}
  this: {{label: 本年, kind: money}}
derived:
  change:
    label: 变动率
    formula: (this - last) / last
    as_percent: true
    {fallback}
indicators:
  - id: k
    name: K
    weight: 100
    scoring:
      method: deduction
      value: change
      threshold: 0
      direction: over
      deduct: {{points: 10, steps: whole}}
grades:
  - {{name: ok, range: "[0, 100]"}}
"""


def test_zero_division_without_fallback_is_located() -> None:
    with pytest.raises(EvaluationError) as info:
        compiled(ZERO_DIVISION.format(fallback="")).score({"last": 0, "this": 5})
    assert str(info.value) == (
        "<test>:9:30: derived.change.formula: division by zero [evaluation.division_by_zero]\n"
        "    (this - last) / last\n"
        "                    ^^^^\n"
        "    hint: declare 'on_zero_division' for this value, or guard it with 'if'"
    )


def test_zero_division_fallback_not_applicable() -> None:
    rubric = compiled(ZERO_DIVISION.format(fallback="on_zero_division: not_applicable"))
    result = rubric.score({"last": 0, "this": 5})
    assert result.values["change"] is None
    assert result["k"].status is Status.NOT_APPLICABLE
    assert result.total == 100  # the rubric's default policy: full marks


def test_zero_division_fallback_value() -> None:
    # The fallback is the value as it is shown, in its own unit: with as_percent, 5 is
    # 5 (%), five whole points over 0: 100 - 5 × 10.
    rubric = compiled(ZERO_DIVISION.format(fallback="on_zero_division: 5"))
    result = rubric.score({"last": 0, "this": 5})
    assert result.values["change"] == D("5.00")
    assert result.total == 50
    assert rubric.score({"last": 10, "this": 9}).total == 100


def test_zero_division_in_a_leaf_formula_is_located() -> None:
    rubric = compiled(one_leaf_rubric("{method: formula, expression: 10 / x}"))
    with pytest.raises(EvaluationError) as info:
        rubric.score({"x": 0})
    issue = info.value.issues[0]
    assert issue.code == "evaluation.division_by_zero"
    assert issue.location.path == ("indicators", 0, "scoring", "expression")
    assert (issue.location.line, issue.location.column) == (11, 42)


def test_zero_to_the_power_zero_in_a_leaf_is_an_evaluation_error() -> None:
    rubric = compiled(one_leaf_rubric("{method: formula, expression: x ** 0}"))
    with pytest.raises(EvaluationError) as info:
        rubric.score({"x": 0})
    assert info.value.codes == ("evaluation.arithmetic",)
    assert info.value.issues[0].location.path == ("indicators", 0, "scoring", "expression")


def test_min_of_one_argument_in_a_leaf_is_a_load_error() -> None:
    with pytest.raises(FormulaError) as info:
        compiled(one_leaf_rubric("{method: formula, expression: min(x)}"))
    assert info.value.codes == ("formula.arity",)


def test_zero_to_a_negative_power_in_a_derived_value() -> None:
    rubric = compiled(
        """
        id: t
        title: T
        inputs:
          x: {label: X, kind: number}
        derived:
          d: {label: D, formula: x ** -1, rounding: none}
        indicators:
          - {id: a, name: A, weight: 100, scoring: {method: formula, expression: d * 0}}
        grades:
          - {name: ok, range: "[0, 100]"}
        """
    )
    with pytest.raises(EvaluationError) as info:
        rubric.score({"x": 0})
    assert info.value.codes == ("evaluation.division_by_zero",)


@pytest.mark.lang("zh")
@pytest.mark.parametrize(
    ("rule", "x", "expected"),
    [
        ("{places: 2}", "3.456", "3.456按四舍五入保留2位小数为3.46"),
        ("{places: 2, mode: half_even}", "3.455", "3.455按四舍六入五成双保留2位小数为3.46"),
        ("{places: 1, mode: half_down}", "3.45", "3.45按五舍六入保留1位小数为3.4"),
        ("{places: 2, mode: up}", "3.451", "3.451按远离零进位保留2位小数为3.46"),
        ("{places: 2, mode: down}", "3.459", "3.459按向零截断保留2位小数为3.45"),
        ("{places: 2, mode: ceiling}", "3.451", "3.451按向上取整保留2位小数为3.46"),
        ("{places: 2, mode: floor}", "3.459", "3.459按向下取整保留2位小数为3.45"),
        ("{places: 0}", "3.5", "3.5按四舍五入保留整数为4"),
    ],
)
def test_rounding_step_names_the_rule(rule: str, x: str, expected: str) -> None:
    rubric = compiled(
        f"""
        id: t
        title: T
        rounding: {{score: {rule}}}
        inputs:
          x: {{label: X, kind: number}}
        indicators:
          - {{id: a, name: A, weight: 100, scoring: {{method: formula, expression: x}}}}
        grades:
          - {{name: ok, range: "[0, 100]"}}
        """
    )
    fast = rubric.score({"x": x})
    full = rubric._score(rubric.validate_inputs({"x": x}), True)
    for result in (fast, full):
        explanation = result["a"].explanation
        assert explanation is not None
        assert explanation.steps[-1] == Step("rounding", expected)


def test_leaf_weight_finer_than_score_rounding() -> None:
    text = """
        id: t
        title: T
        total: 1
        rounding: {score: {places: 0}}
        inputs:
          x: {label: X, kind: number}
        indicators:
          - {id: a, name: A, weight: 0.5, scoring: {method: formula, expression: x}}
          - {id: b, name: B, weight: 0.5, scoring: {method: formula, expression: x}}
        grades:
          - {name: ok, range: "[0, 1]"}
        """
    # Rounding would lift a score of 0.5 to 1, above its weight: refused at load.
    error = refused(text)
    assert error.codes == ("rubric.weight_precision", "rubric.weight_precision")
    assert error.issues[0].message == (
        "leaf 'a' has weight 0.5, finer than the 0 decimal place(s) scores are rounded to"
    )


def test_total_finer_than_total_rounding() -> None:
    text = """
        id: t
        title: T
        total: 0.5
        rounding: {total: {places: 0}, grade_on: rounded}
        inputs:
          x: {label: X, kind: number}
        indicators:
          - {id: a, name: A, weight: 0.5, scoring: {method: formula, expression: x}}
        grades:
          - {name: ok, range: "[0, 0.5]"}
        """
    try:
        rubric = compiled(text)
    except RubricValidationError:
        return
    assert rubric.score({"x": 1}).grade == "ok"


def test_constants_equal_in_value_keep_their_exponent() -> None:
    # Points of 0.10 and a total rounded to 1 place (a quantum of 0.1) are equal numbers
    # with different exponents: the total must still be rounded to 1 place.
    rubric = compiled(
        """
        id: t
        title: T
        total: 2
        rounding: {total: {places: 1}}
        inputs:
          x: {label: X, kind: number}
        indicators:
          - id: a
            name: A
            weight: 1
            scoring: {method: bands, value: x, bands: [{range: "(-∞, +∞)", points: 0.01}]}
          - id: b
            name: B
            weight: 1
            scoring: {method: bands, value: x, bands: [{range: "(-∞, +∞)", points: 0.10}]}
        grades:
          - {name: ok, range: "[0, 2]"}
        """
    )
    for explain in (True, False):
        result = rubric.score({"x": 0}, explain=explain)
        assert result.unrounded_total == D("0.11")
        assert str(result.total) == "0.1", explain


# --------------------------------------------------------------------------- grade caps


def test_grade_cap_lowers_the_grade(
    demo_compiled: CompiledRubric, demo_inputs: Mapping[str, Any]
) -> None:
    result = demo_compiled.score({**demo_inputs, "noncompliant_cases": 5})
    assert result.total == D("85.92")
    assert result.grade == "合格"
    assert result.grade_before_caps == "良好"
    assert result.grade_caps == ("serious_violation",)
    assert [w.code for w in result.warnings] == ["grade.capped"]
    assert result.warnings[0].message == (
        "grade capped at 合格 by 'serious_violation': 审计发现严重违规，等次最高为合格"
    )


def test_grade_cap_never_raises_a_grade(
    demo_compiled: CompiledRubric, demo_inputs: Mapping[str, Any]
) -> None:
    low = {**demo_inputs, "noncompliant_cases": 11, "satisfaction": 10, "key_tasks_done": 0}
    result = demo_compiled.score(low)
    assert result.grade == "不合格"
    assert result.grade_caps == ()
    assert result.grade_before_caps is None


def test_grade_cap_not_triggered(
    demo_compiled: CompiledRubric, demo_inputs: Mapping[str, Any]
) -> None:
    result = demo_compiled.score(demo_inputs)
    assert result.grade_caps == ()
    assert result.warnings == ()


def test_grade_cap_names_an_existing_grade() -> None:
    with pytest.raises(RubricValidationError) as info:
        graded(
            SEED_GRADES + "grade_caps:\n  - {id: veto, when: x > 1, max_grade: 合 格}\n",
        )
    assert info.value.codes == ("rubric.unknown_grade",)
    assert info.value.issues[0].message == "no grade is named '合 格'"


# --------------------------------------------------------------------------- determinism


def test_same_inputs_from_eight_threads(
    demo_compiled: CompiledRubric, demo_inputs: Mapping[str, Any]
) -> None:
    variants = [
        {**demo_inputs, "staff_actual": 15 + k % 5, "noncompliant_cases": k % 6} for k in range(8)
    ]
    expected = [demo_compiled.score(v) for v in variants]
    results: dict[int, list[ScoreResult]] = {}
    barrier = threading.Barrier(8)

    def work(k: int) -> None:
        barrier.wait()
        results[k] = [demo_compiled.score(v) for v in variants for _ in range(5)]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(8):
        got = results[k]
        for i, result in enumerate(got):
            assert result == expected[i // 5]


def test_result_is_frozen(demo_compiled: CompiledRubric, demo_inputs: Mapping[str, Any]) -> None:
    result = demo_compiled.score(demo_inputs)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.total = D(100)  # type: ignore[misc]
    with pytest.raises(AttributeError):
        result["staff_control"].score = D(0)  # type: ignore[misc]
    with pytest.raises(TypeError):
        result.values["staff_actual"] = D(0)  # type: ignore[index]
    explanation = result["staff_control"].explanation
    assert explanation is not None
    with pytest.raises(TypeError):
        explanation.values["staff_actual"] = D(0)  # type: ignore[index]
    assert isinstance(result.indicators, tuple)


def test_scoring_does_not_touch_the_callers_inputs(
    demo_compiled: CompiledRubric, demo_inputs: Mapping[str, Any]
) -> None:
    inputs = dict(demo_inputs)
    demo_compiled.score(inputs)
    assert inputs == dict(demo_inputs)


def test_compiled_rubric_is_immutable(demo_compiled: CompiledRubric) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        demo_compiled.hash = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({}, id="fast-path"),
        pytest.param({"satisfaction": Decimal("0.5")}, id="warning"),
        pytest.param(
            {"sangong_last_year": Decimal(0), "project_spend_total": Decimal(0)},
            id="division-by-zero-allowed",
        ),
    ],
)
def test_scoring_leaves_no_reference_cycles(
    demo_compiled: perfscore.CompiledRubric,
    demo_inputs: Mapping[str, Any],
    changes: dict[str, Any],
) -> None:
    # A department's values and results are freed as soon as nothing holds them, not at
    # the next run of the garbage collector: a batch of a million departments keeps its
    # memory flat without waiting for it.
    inputs = {**demo_inputs, **changes}
    for explain in (False, True):
        demo_compiled.score(inputs, explain=explain)  # caches filled once, outside the count
    gc.collect()
    gc.disable()
    try:
        for explain in (False, True, False):
            demo_compiled.score(inputs, explain=explain)
        assert gc.collect() == 0
    finally:
        gc.enable()
