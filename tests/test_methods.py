"""Scoring methods, each at its edges: exactly at a threshold, just over, just under."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import ClassVar, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import perfscore
import perfscore.i18n
from perfscore import (
    CompiledRubric,
    EvaluationError,
    MethodContext,
    RubricValidationError,
    Scorer,
    ScoringMethod,
    method_kinds,
    register_method,
)
from perfscore import methods as methods_module
from perfscore.methods import NUMBER

from .conftest import one_leaf_rubric

#: The messages these tests assert are the English ones.
pytestmark = pytest.mark.lang("en")

Leaf = Callable[..., CompiledRubric]
D = Decimal


def scores(compiled: CompiledRubric, **inputs: object) -> Decimal:
    return compiled.score(inputs)["a"].score


def steps(compiled: CompiledRubric, **inputs: object) -> list[str]:
    explanation = compiled.score(inputs)["a"].explanation
    assert explanation is not None
    return [step.text for step in explanation.steps]


def refused(text: str) -> RubricValidationError:
    with pytest.raises(RubricValidationError) as info:
        perfscore.loads_rubric(text)
    return info.value


def first_code(error: RubricValidationError) -> str:
    """The first issue's code. (A schema error in the only indicator also draws a spurious
    'indicators: Tuple should have at least 1 item' issue: see test_loading.)"""
    return error.codes[0]


def test_builtin_kinds() -> None:
    assert set(method_kinds()) >= {
        "deduction",
        "bands",
        "proportional",
        "checklist",
        "levels",
        "cases",
        "formula",
    }


# --------------------------------------------------------------------------- deduction

OVER_WHOLE = """
method: deduction
value: x
threshold: 100
direction: over
deduct: {points: 0.5, per: 1, steps: whole}
"""


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        ("99.99", "5"),  # under the threshold
        ("100", "5"),  # exactly at it: full marks
        ("100.01", "5"),  # just over, but no whole step yet
        ("100.99", "5"),
        ("101", "4.5"),  # one whole step
        ("101.5", "4.5"),
        ("105.56", "2.5"),  # 在职人员控制率 19/18: five whole points over
        ("110", "0"),  # all gone
        ("200", "0"),  # 扣完为止: floored at 0, never below
    ],
)
def test_deduction_over_whole_steps(leaf: Leaf, x: str, expected: str) -> None:
    assert scores(leaf(OVER_WHOLE, weight="5"), x=x) == D(expected)


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        ("100", "5"),
        ("100.01", "4.5"),  # a started step counts in full
        ("101", "4.5"),
        ("101.01", "4"),
    ],
)
def test_deduction_over_partial_up(leaf: Leaf, x: str, expected: str) -> None:
    scoring = OVER_WHOLE.replace("steps: whole", "steps: partial_up")
    assert scores(leaf(scoring, weight="5"), x=x) == D(expected)


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        ("100", "5"),
        ("100.01", "4.995"),  # rounded to 2 places below
        ("100.5", "4.75"),
        ("101", "4.5"),
    ],
)
def test_deduction_over_pro_rata(leaf: Leaf, x: str, expected: str) -> None:
    scoring = OVER_WHOLE.replace("steps: whole", "steps: pro_rata")
    assert scores(leaf(scoring, weight="5"), x=x) == D(expected).quantize(
        D("0.01"), "ROUND_HALF_UP"
    )


# 预算完成率: 100% full, "每低于5%扣2分" (variant D).
UNDER = """
method: deduction
value: x
threshold: 100
direction: under
deduct: {points: 2, per: 5, steps: %s}
"""


@pytest.mark.parametrize(
    ("mode", "x", "expected"),
    [
        ("whole", "120", "8"),
        ("whole", "100", "8"),
        ("whole", "99.99", "8"),
        ("whole", "95", "6"),
        ("whole", "94.99", "6"),
        ("whole", "90", "4"),
        ("whole", "80", "0"),
        ("whole", "0", "0"),
        ("partial_up", "100", "8"),
        ("partial_up", "99.99", "6"),
        ("partial_up", "95", "6"),
        ("partial_up", "94.99", "4"),
        ("pro_rata", "97.5", "7"),
        ("pro_rata", "95", "6"),
        ("pro_rata", "92.5", "5"),
    ],
)
def test_deduction_under(leaf: Leaf, mode: str, x: str, expected: str) -> None:
    assert scores(leaf(UNDER % mode, weight="8"), x=x) == D(expected)


@pytest.mark.lang("zh")
def test_deduction_floor_and_cap(leaf: Leaf) -> None:
    scoring = (UNDER % "pro_rata") + "floor: 1\nmax_deduction: 3\n"
    compiled = leaf(scoring, weight="8")
    assert scores(compiled, x="97.5") == D(7)
    assert scores(compiled, x="90") == D(5)  # 4 points due, capped at 3
    assert steps(compiled, x="90") == ["X90，比100少10，每少5扣2分，最多扣3分，扣3分，得5分"]
    assert steps(compiled, x="97.5") == ["X97.5，比100少2.5，每少5扣2分，扣1分，得7分"]
    assert scores(compiled, x="0") == D(5)
    floored = leaf((UNDER % "whole") + "floor: 1\n", weight="8")
    assert scores(floored, x="50") == D(1)
    assert steps(floored, x="50") == ["X50，比100少50，每少5扣2分", "扣至1分为止"]


@pytest.mark.lang("zh")
def test_deduction_explanation(leaf: Leaf) -> None:
    compiled = leaf(OVER_WHOLE, weight="5")
    assert steps(compiled, x="100") == ["X100，未超过100，得满分5分"]
    assert steps(compiled, x="101.5") == [
        "X101.5，比100多1.5，每多1扣0.5分（不足一档不扣），扣0.5分，得4.5分"
    ]
    assert steps(compiled, x="300") == ["X300，比100多200，每多1扣0.5分", "扣完为止，得0分"]
    explanation = compiled.score({"x": "101.5"})["a"].explanation
    assert explanation is not None
    assert explanation.steps[0].points == D("-0.5")
    partial = leaf(UNDER % "partial_up", weight="8")
    assert steps(partial, x="97") == ["X97，比100少3，每少5扣2分（不足一档按一档计），扣2分，得6分"]
    assert steps(partial, x="100") == ["X100，不低于100，得满分8分"]


def test_deduction_floor_above_weight_refused() -> None:
    error = refused(one_leaf_rubric(OVER_WHOLE + "floor: 6\n", weight="5"))
    assert error.codes == ("method.points_over_weight",)
    assert error.issues[0].message == "floor 6 exceeds weight 5"


def test_deduction_steps_must_be_named() -> None:
    error = refused(one_leaf_rubric(OVER_WHOLE.replace("steps: whole", "steps: all"), weight="5"))
    assert first_code(error) == "schema.invalid"
    assert error.issues[0].location.path == ("indicators", 0, "scoring", "deduct", "steps")


# --------------------------------------------------------------------------- bands

# 预算调整率 (variant A): =0 → 10; 0–10%(含) → 8; 10–20%(含) → 5; 20–30%(含) → 2; >30% → 0.
ADJUST = """
method: bands
value: x
monotone: decreasing
bands:
  - {equals: 0, points: 10}
  - {range: "(0, 10]", points: 8}
  - {from: 10, include_from: false, to: 20, include_to: true, points: 5}
  - {range: "(20, 30]", points: 2, text: 偏高}
  - {range: "(30, +∞)", points: 0}
"""


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        ("0", "10"),  # the 'equals' band
        ("0.001", "8"),  # just over 0: excluded end
        ("10", "8"),  # included upper end
        ("10.01", "5"),  # just over
        ("9.99", "8"),  # just under
        ("20", "5"),
        ("30", "2"),
        ("30.01", "0"),
        ("1e6", "0"),
    ],
)
def test_bands_with_included_and_excluded_ends(leaf: Leaf, x: str, expected: str) -> None:
    assert scores(leaf(ADJUST), x=x) == D(expected)


# 重点支出安排率 (variant A): ≥90% → 5; 80%(含)–90% → 4; ...; <60% → 0.
KEY_SPEND = """
method: bands
value: x
bands:
  - {range: "[90, +∞)", points: 5}
  - {range: "[80, 90)", points: 4}
  - {range: "[70, 80)", points: 3}
  - {range: "[60, 70)", points: 2}
"""


@pytest.mark.parametrize(
    ("x", "expected"),
    [("90", "5"), ("89.99", "4"), ("80", "4"), ("79.99", "3"), ("60", "2")],
)
def test_bands_lower_end_included(leaf: Leaf, x: str, expected: str) -> None:
    assert scores(leaf(KEY_SPEND + "otherwise: 0\n", weight="5"), x=x) == D(expected)


def test_bands_otherwise(leaf: Leaf) -> None:
    compiled = leaf(KEY_SPEND + "otherwise: 0\n", weight="5")
    assert scores(compiled, x="59.99") == 0
    assert steps(compiled, x="59.99") == ["X 59.99, in no band: 0 points"]


def test_bands_without_otherwise_fail_when_no_band_holds(leaf: Leaf) -> None:
    compiled = leaf(KEY_SPEND, weight="5")
    with pytest.raises(EvaluationError) as info:
        compiled.score({"x": "59.99"})
    assert info.value.codes == ("evaluation.no_match",)
    assert str(info.value) == (
        "<string>:7:5: indicators[0]: indicator 'a': value 59.99 falls in no band "
        "[evaluation.no_match]\n"
        "    hint: add a band or 'otherwise'"
    )


@pytest.mark.lang("zh")
def test_bands_explanation(leaf: Leaf) -> None:
    compiled = leaf(ADJUST)
    assert steps(compiled, x="0") == ["X0，等于0，得10分"]
    assert steps(compiled, x="25") == ["X25，在20至30（含）之间（偏高），得2分"]


def test_bands_overlap_refused() -> None:
    scoring = """
    method: bands
    value: x
    bands:
      - {range: "[80, 90]", points: 4}
      - {range: "[90, 100]", points: 5}
    """
    error = refused(one_leaf_rubric(scoring, weight="5"))
    assert error.codes == ("method.bands_overlap",)
    assert error.issues[0].message == "band [90, 100] overlaps band [80, 90] (bands[0])"


def test_bands_points_over_weight_refused() -> None:
    error = refused(one_leaf_rubric(KEY_SPEND + "otherwise: 6\n", weight="4"))
    assert error.codes == ("method.points_over_weight", "method.points_over_weight")


def test_bands_end_must_say_included() -> None:
    scoring = """
    method: bands
    value: x
    bands:
      - {from: 0, to: 10, include_to: true, points: 4}
      - {range: "(10, +∞)", points: 5}
    """
    error = refused(one_leaf_rubric(scoring, weight="5"))
    assert first_code(error) == "schema.value"
    assert error.issues[0].message == "say whether 0 is included: add include_from: true or false"


def test_bands_monotone_claim_is_checked() -> None:
    scoring = """
    method: bands
    value: x
    monotone: increasing
    bands:
      - {range: "(-∞, 10)", points: 5}
      - {range: "[10, +∞)", points: 2}
    """
    refused(one_leaf_rubric(scoring, weight="5"))


# --------------------------------------------------------------------------- proportional

PROPORTIONAL = """
method: proportional
value: x
full_at: 100
"""


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        ("100", "25"),  # exactly full
        ("120", "25"),  # 满分为止: capped at the weight
        ("99.99", "25.00"),  # 24.9975 rounded half up
        ("91.67", "22.92"),  # 11/12 as a rounded percent
        ("50", "12.5"),
        ("0", "0"),
        ("-5", "0"),  # never below 0
    ],
)
def test_proportional(leaf: Leaf, x: str, expected: str) -> None:
    assert scores(leaf(PROPORTIONAL, weight="25"), x=x) == D(expected)


@pytest.mark.lang("zh")
def test_proportional_explanation(leaf: Leaf) -> None:
    compiled = leaf(PROPORTIONAL, weight="25")
    assert steps(compiled, x="120") == ["X120，达到100，得满分25分（满分为止）"]
    assert steps(compiled, x="-3") == ["X-3，不高于0，得0分"]
    assert steps(compiled, x="80") == ["X80，未达到100，按比例计分：80÷100×25分"]


def test_proportional_full_at_is_a_formula(leaf: Leaf) -> None:
    scoring = """
    method: proportional
    value: done
    full_at: planned
    """
    inputs = """
    done: {label: 完成数, kind: count}
    planned: {label: 计划数, kind: count}
    """
    compiled = leaf(scoring, weight="10", inputs=inputs)
    assert compiled.score({"done": 3, "planned": 4})["a"].score == D("7.5")
    assert compiled.score({"done": 5, "planned": 4})["a"].score == D(10)


# --------------------------------------------------------------------------- checklist

EARN = """
method: checklist
mode: earn
items:
  - {text: 已制定制度, met: p, points: 3}
  - {text: 制度合规, met: q, points: 3}
  - {text: 有效执行, met: x > 0, points: 3}
"""
FLAGS = """
p: {label: P, kind: boolean}
q: {label: Q, kind: boolean}
x: {label: X, kind: number}
"""


@pytest.mark.parametrize(
    ("p", "q", "x", "expected"),
    [
        (True, True, 1, "9"),
        (True, False, 1, "6"),
        (False, False, 1, "3"),
        (False, False, 0, "0"),  # x > 0 is false exactly at 0
    ],
)
def test_checklist_earn(leaf: Leaf, p: bool, q: bool, x: int, expected: str) -> None:
    compiled = leaf(EARN, weight="9", inputs=FLAGS)
    assert compiled.score({"p": p, "q": q, "x": x})["a"].score == D(expected)


def test_checklist_earn_explanation(leaf: Leaf) -> None:
    compiled = leaf(EARN, weight="9", inputs=FLAGS)
    result = compiled.score({"p": True, "q": False, "x": 1})
    explanation = result["a"].explanation
    assert explanation is not None
    assert [(s.text, s.points) for s in explanation.steps] == [
        ("✓ 已制定制度", D(3)),
        ("✗ 制度合规", D(0)),
        ("✓ 有效执行", D(3)),
    ]


def test_checklist_earn_points_over_weight_refused() -> None:
    error = refused(one_leaf_rubric(EARN, weight="8", inputs=FLAGS))
    assert error.codes == ("method.points_over_weight",)
    assert error.issues[0].message == "items earn 9 points in all, more than the weight 8"


DEDUCT = """
method: checklist
mode: deduct
floor: %s
items:
  - {text: 制度缺失, met: p, points: 2}
  - {text: 每例不合规, count: n, points: 1}
"""
COUNTS = """
p: {label: P, kind: boolean}
n: {label: N, kind: count}
"""


@pytest.mark.parametrize(
    ("p", "n", "floor", "expected"),
    [
        (True, 0, "0", "5"),
        (False, 0, "0", "3"),
        (True, 3, "0", "2"),
        (False, 3, "0", "0"),
        (False, 9, "0", "0"),  # 扣完为止
        (False, 9, "1", "1"),  # an explicit floor
        (True, 4, "1", "1"),
    ],
)
def test_checklist_deduct(leaf: Leaf, p: bool, n: int, floor: str, expected: str) -> None:
    compiled = leaf(DEDUCT % floor, weight="5", inputs=COUNTS)
    assert compiled.score({"p": p, "n": n})["a"].score == D(expected)


@pytest.mark.lang("zh")
def test_checklist_deduct_explanation(leaf: Leaf) -> None:
    compiled = leaf(DEDUCT % "0", weight="5", inputs=COUNTS)
    explanation = compiled.score({"p": False, "n": 4})["a"].explanation
    assert explanation is not None
    assert [(s.kind, s.text, s.points) for s in explanation.steps] == [
        ("item", "✗ 制度缺失", D(-2)),
        ("item", "每例不合规：4项×1分", D(-4)),
        ("floor", "扣完为止，得0分", D(1)),
    ]


def test_checklist_count_needs_deduct_mode() -> None:
    scoring = (DEDUCT % "0").replace("mode: deduct", "mode: earn")
    error = refused(one_leaf_rubric(scoring, weight="5", inputs=COUNTS))
    assert error.codes == ("method.count_in_earn",)


def test_checklist_item_needs_met_or_count() -> None:
    scoring = """
    method: checklist
    items:
      - {text: 两者都给, met: p, count: n, points: 1}
    """
    error = refused(one_leaf_rubric(scoring, weight="5", inputs=COUNTS))
    assert first_code(error) == "schema.value"
    assert error.issues[0].message == ("give an item exactly one of 'met' (a condition) or 'count'")


# --------------------------------------------------------------------------- levels

LEVELS_INPUT = (
    "d: {label: 公开情况, kind: choice, options: [及时完整, 基本及时完整, 不及时或不完整]}"
)


@pytest.mark.parametrize(
    ("level", "expected"),
    [("及时完整", "10"), ("基本及时完整", "6"), ("不及时或不完整", "0")],
)
def test_levels_fraction(leaf: Leaf, level: str, expected: str) -> None:
    scoring = """
    method: levels
    value: d
    scale: fraction
    levels: {及时完整: 1, 基本及时完整: 0.6, 不及时或不完整: 0}
    """
    compiled = leaf(scoring, weight="10", inputs=LEVELS_INPUT)
    assert compiled.score({"d": level})["a"].score == D(expected)


@pytest.mark.lang("zh")
@pytest.mark.parametrize(
    ("level", "expected"),
    [("及时完整", "3"), ("基本及时完整", "1.5"), ("不及时或不完整", "0")],
)
def test_levels_points(leaf: Leaf, level: str, expected: str) -> None:
    scoring = """
    method: levels
    value: d
    levels: {及时完整: 3, 基本及时完整: 1.5, 不及时或不完整: 0}
    """
    compiled = leaf(scoring, weight="3", inputs=LEVELS_INPUT)
    assert compiled.score({"d": level})["a"].score == D(expected)
    assert steps(compiled, d=level) == [f"等级“{level}”，得{expected}分"]


def test_levels_must_cover_every_option() -> None:
    scoring = """
    method: levels
    value: d
    levels: {及时完整: 3, 基本及时完整: 1.5, 不及时: 0}
    """
    error = refused(one_leaf_rubric(scoring, weight="3", inputs=LEVELS_INPUT))
    assert error.codes == ("method.levels_incomplete", "method.unknown_level")
    assert error.issues[0].message == "no points for option(s) '不及时或不完整' of 'd'"
    assert error.issues[1].message == "'不及时' is not an option of 'd'"


def test_levels_fraction_over_one_refused() -> None:
    scoring = """
    method: levels
    value: d
    scale: fraction
    levels: {及时完整: 1.2, 基本及时完整: 0.6, 不及时或不完整: 0}
    """
    error = refused(one_leaf_rubric(scoring, weight="10", inputs=LEVELS_INPUT))
    assert error.codes == ("method.points_over_weight",)
    assert error.issues[0].message.endswith("(fractions must be at most 1)")


def test_levels_value_must_be_a_choice() -> None:
    scoring = """
    method: levels
    value: x
    levels: {好: 1}
    """
    error = refused(one_leaf_rubric(scoring, weight="1"))
    assert error.codes == ("formula.type",)


# --------------------------------------------------------------------------- cases

# 资金结余 (variant A): none → 3; surplus ≤ last year's carry-over → 2; more → 0.
CASES = """
method: cases
cases:
  - {when: surplus == 0, points: 3, text: 无结余}
  - {when: surplus <= last_year, points: 2}
  - {when: surplus > last_year * 2, points: 0}
%s
"""
SURPLUS = """
surplus: {label: 本年结余, kind: money, min: 0}
last_year: {label: 上年结转, kind: money, min: 0}
"""


@pytest.mark.parametrize(
    ("surplus", "last_year", "expected"),
    [
        ("0", "0", "3"),  # the first case that holds wins (0 <= 0 holds too)
        ("0", "10", "3"),
        ("10", "10", "2"),
        ("10.01", "10", "1"),  # no case holds: otherwise
        ("20.01", "10", "0"),
    ],
)
def test_cases_first_match_and_otherwise(
    leaf: Leaf, surplus: str, last_year: str, expected: str
) -> None:
    compiled = leaf(CASES % "otherwise: 1", weight="3", inputs=SURPLUS)
    result = compiled.score({"surplus": surplus, "last_year": last_year})
    assert result["a"].score == D(expected)


@pytest.mark.lang("zh")
def test_cases_explanation(leaf: Leaf) -> None:
    compiled = leaf(CASES % "otherwise: 1", weight="3", inputs=SURPLUS)
    assert steps(compiled, surplus="0", last_year="1") == ["无结余：得3分"]
    assert steps(compiled, surplus="1", last_year="1") == ["surplus <= last_year：得2分"]
    assert steps(compiled, surplus="1.5", last_year="1") == ["无一情形成立，得1分"]


def test_cases_without_otherwise(leaf: Leaf) -> None:
    compiled = leaf(CASES % "", weight="3", inputs=SURPLUS)
    with pytest.raises(EvaluationError) as info:
        compiled.score({"surplus": "15", "last_year": "10"})
    assert info.value.codes == ("evaluation.no_match",)
    assert info.value.issues[0].message == "indicator 'a': no case holds"


def test_cases_condition_must_be_boolean() -> None:
    scoring = """
    method: cases
    cases:
      - {when: x, points: 1}
    """
    error = refused(one_leaf_rubric(scoring, weight="1"))
    assert error.codes == ("formula.type",)


# --------------------------------------------------------------------------- formula

FORMULA = """
method: formula
expression: x / 100 * 15
"""


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        ("100", "15"),
        ("50", "7.5"),
        ("0", "0"),
        ("-10", "0"),  # clamped to 0
        ("100.01", "15"),  # clamped to the weight
        ("200", "15"),
    ],
)
def test_formula_is_clamped(leaf: Leaf, x: str, expected: str) -> None:
    assert scores(leaf(FORMULA, weight="15"), x=x) == D(expected)


@pytest.mark.lang("zh")
def test_formula_clamp_is_explained(leaf: Leaf) -> None:
    compiled = leaf(FORMULA, weight="15")
    assert steps(compiled, x="200") == ["x / 100 * 15 = 30", "限定在0至15分之间"]
    assert steps(compiled, x="50") == ["x / 100 * 15 = 7.5"]


def test_formula_must_give_a_number() -> None:
    error = refused(one_leaf_rubric("{method: formula, expression: x > 1}"))
    assert error.codes == ("formula.type",)
    assert error.issues[0].message == "formula gives a boolean, but a number is needed here"


# --------------------------------------------------------------------------- shape


def test_unknown_method_kind() -> None:
    error = refused(one_leaf_rubric("{method: bandz, value: x}"))
    assert first_code(error) == "schema.value"
    assert error.issues[0].message == "unknown scoring method 'bandz'"


def test_method_key_required() -> None:
    error = refused(one_leaf_rubric("{value: x}"))
    assert first_code(error) == "schema.value"
    assert error.issues[0].message.startswith("scoring needs 'method': one of ")


def test_unknown_method_parameter_suggests() -> None:
    error = refused(one_leaf_rubric(OVER_WHOLE + "treshold: 5\n"))
    assert first_code(error) == "schema.unknown_key"
    assert error.issues[0].message == "unknown key 'treshold'"
    assert error.issues[0].hint == "did you mean 'threshold'?"


# --------------------------------------------------------------------------- user methods


@pytest.fixture
def restore_registry() -> Iterator[None]:
    saved = dict(methods_module._REGISTRY)
    yield
    methods_module._REGISTRY.clear()
    methods_module._REGISTRY.update(saved)


class Doubling(ScoringMethod):
    """The score is twice the value, capped at the weight."""

    kind: ClassVar[str] = "doubling"
    method: Literal["doubling"] = "doubling"
    value: str

    def compile(self, ctx: MethodContext) -> Scorer:
        value = ctx.formula("value", self.value, NUMBER)
        weight = ctx.weight
        if weight > 50:
            ctx.error("value", "doubling.weight", "doubling wants a weight of at most 50")

        def score(values, explain):  # type: ignore[no-untyped-def]
            x = value.evaluate_unchecked(values)
            return min(weight, 2 * x), ()

        return score


@pytest.mark.usefixtures("restore_registry")
def test_registered_method_works_in_a_rubric() -> None:
    assert register_method(Doubling) is Doubling
    assert method_kinds()["doubling"] is Doubling
    rubric = perfscore.loads_rubric(
        one_leaf_rubric("{method: doubling, value: x + 1}", weight="10")
    )
    compiled = perfscore.compile_rubric(rubric)
    assert compiled.score({"x": 2})["a"].score == D(6)
    assert compiled.score({"x": 20})["a"].score == D(10)
    # It dumps and loads back like a built-in method.
    again = perfscore.loads_rubric(perfscore.dump_rubric(rubric))
    assert again == rubric


@pytest.mark.usefixtures("restore_registry")
def test_registered_method_reports_through_its_context() -> None:
    register_method(Doubling)
    error = refused(one_leaf_rubric("{method: doubling, value: speed}", weight="60"))
    assert error.codes == ("formula.unknown_name", "doubling.weight")


@pytest.mark.usefixtures("restore_registry")
def test_registered_method_out_of_range_score_is_caught() -> None:
    class Broken(Doubling):
        kind: ClassVar[str] = "broken"
        method: Literal["broken"] = "broken"  # type: ignore[assignment]

        def compile(self, ctx: MethodContext) -> Scorer:
            return lambda values, explain: (ctx.weight + 1, ())

    register_method(Broken)
    compiled = perfscore.compile_rubric(
        perfscore.loads_rubric(one_leaf_rubric("{method: broken, value: x}", weight="10"))
    )
    with pytest.raises(EvaluationError) as info:
        compiled.score({"x": 1})
    assert info.value.codes == ("evaluation.out_of_range",)
    assert info.value.issues[0].message == (
        "indicator 'a': method 'broken' gave 11, outside [0, 10]"
    )


def test_register_method_needs_an_identifier_kind() -> None:
    class Nameless(ScoringMethod):
        method: str = "x"

    with pytest.raises(ValueError, match="kind must be an identifier"):
        register_method(Nameless)


_REPORT_RUBRIC = """
schema_version: 1
id: report-style
title: 扣分说明
total: 6
inputs:
  staff_authorized: {label: 编制数, kind: count}
  staff_actual: {label: 实有人数, kind: count}
  last: {label: 上年“三公”经费, kind: money}
  this: {label: 本年“三公”经费, kind: money}
derived:
  staff_rate: {label: 在职人员控制率, formula: staff_actual / staff_authorized, as_percent: true}
  change: {label: 变动率, formula: (this - last) / last, as_percent: true}
indicators:
  - id: staff
    name: 在职人员控制率
    weight: 3
    scoring:
      method: deduction
      value: staff_rate
      threshold: 100
      direction: over
      deduct: {points: 0.5, per: 1, steps: whole}
  - id: change
    name: “三公”经费变动率
    weight: 3
    scoring:
      method: deduction
      value: change
      threshold: 0
      direction: over
      deduct: {points: 0.5, per: 1, steps: whole}
grades:
  - {name: 合格, range: "[0, 6]"}
"""


@pytest.mark.lang("zh")
def test_explanations_read_as_a_report_writes_them() -> None:
    """Percents with %, at the rubric's places (136/143 is 95.10%, not 95.1), deductions
    as 扣0.5分: the 扣分说明 an evaluator would write."""
    compiled = perfscore.compile_rubric(perfscore.loads_rubric(_REPORT_RUBRIC))
    result = compiled.score(
        {"staff_authorized": 143, "staff_actual": 136, "last": 100, "this": 102}
    )
    texts = {n.id: [s.text for s in n.explanation.steps] for n in result.leaves if n.explanation}
    assert texts == {
        "staff": ["在职人员控制率95.10%，未超过100%，得满分3分"],
        "change": ["变动率2.00%，超过0两个百分点，每个百分点扣0.5分，扣1分，得2分"],
    }


def test_explanations_follow_the_language_asked_for() -> None:
    compiled = perfscore.compile_rubric(perfscore.loads_rubric(_REPORT_RUBRIC))
    inputs = {"staff_authorized": 143, "staff_actual": 136, "last": 100, "this": "102.5"}
    with perfscore.i18n.use_lang("en"):
        english = compiled.score(inputs)["change"].explanation
    with perfscore.i18n.use_lang("zh"):
        chinese = compiled.score(inputs)["change"].explanation
    assert english is not None
    assert chinese is not None
    assert [s.text for s in english.steps] == [
        "变动率 2.50%, 2.5 percentage points above 0; 0.5 points off per percentage point "
        "(whole steps only): 1 off, 2 points"
    ]
    assert [s.text for s in chinese.steps] == [
        "变动率2.50%，超过0 2.5个百分点，每个百分点扣0.5分（不足一档不扣），扣1分，得2分"
    ]


@given(
    st.text(alphabet="甲乙{}'\\\"x 。", max_size=12),
    st.text(alphabet="0123456789.%", max_size=6),
)
def test_a_filler_writes_what_format_writes(literal: str, value: str) -> None:
    """A filled explanation template is exactly ``str.format``'s text, whatever the
    literal parts hold (quotes, backslashes, doubled braces)."""
    template = (
        literal.replace("{", "{{").replace("}", "}}")
        + "{value}"
        + literal[::-1].replace("{", "{{").replace("}", "}}")
    )
    assert methods_module.filler(template, "value")(value=value) == template.format(value=value)
