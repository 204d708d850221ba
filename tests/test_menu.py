"""The national menu reviewed: zero denominators and not-applicable choices as the domain
notes and the Hunan tables have them; ``check`` finds denominators' zeros by solving
for them and reports a not-applicable that hides a change a rule deducts for."""

from __future__ import annotations

import ast
import re
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

import perfscore
from perfscore.authoring._zeros import divisions, linear, zeros
from perfscore.authoring.check import check_rubric
from perfscore.model import InputSpec
from perfscore.results import Status

ROOT = Path(__file__).resolve().parent.parent
MENU = ROOT / "rubrics" / "mof" / "dept-overall-menu-2013.yaml"

#: A rubric on the menu with the rules of Hunan variant A for the rates whose zero base
#: matters (三公 change and control, 公用经费, 结转结余 change) and others beside them.
ON_THE_MENU = """\
id: on-the-menu
title: 以共性指标框架为基础的评分表
uses: perfscore:mof/dept-overall-menu-2013
derived: {}
indicators:
  - id: staff_control
    ref: staff_control
    weight: 10
    scoring: {method: deduction, value: staff_control_rate, threshold: 100, direction: over,
              deduct: {points: 0.5, per: 1, steps: whole}}
  - id: sangong_change
    ref: sangong_change
    weight: 10
    scoring: {method: deduction, value: sangong_change_rate, threshold: 0, direction: over,
              deduct: {points: 0.5, per: 1, steps: whole}}
  - id: sangong_control
    ref: sangong_control
    weight: 20
    scoring: {method: deduction, value: sangong_control_rate, threshold: 100, direction: over,
              deduct: {points: 1, per: 1, steps: whole}}
  - id: public_funds_control
    ref: public_funds_control
    weight: 20
    scoring: {method: deduction, value: public_funds_control_rate, threshold: 100,
              direction: over, deduct: {points: 1, per: 1, steps: whole}}
  - id: carryover_change
    ref: carryover_change
    weight: 10
    scoring: {method: deduction, value: carryover_change_rate, threshold: 0, direction: over,
              deduct: {points: 0.5, per: 1, steps: whole}}
  - id: procurement
    ref: procurement
    weight: 10
    scoring: {method: deduction, value: procurement_rate, threshold: 100, direction: under,
              deduct: {points: 0.5, per: 1, steps: whole}}
  - id: key_tasks
    ref: key_tasks
    weight: 20
    scoring: {method: proportional, value: key_task_rate, full_at: 100}
grades:
  - {name: 优, range: "[90, 100]"}
  - {name: 良, range: "[80, 90)"}
  - {name: 中, range: "[60, 80)"}
  - {name: 差, range: "[0, 60)"}
"""

#: The same with the 三公 change rate as the menu had it: not applicable over a zero base.
OLD_SANGONG = ON_THE_MENU.replace(
    "derived: {}",
    """derived:
  sangong_change_rate:
    label: '"三公经费"变动率'
    formula: (sangong_this_year - sangong_last_year) / sangong_last_year
    as_percent: true
    on_zero_division: not_applicable""",
)

BASE = {
    "staff_authorized": 18,
    "staff_actual": 17,
    "sangong_last_year": 10,
    "sangong_this_year": 9,
    "sangong_budget": 10,
    "sangong_actual": 9,
    "public_funds_budget": 40,
    "public_funds_actual": 38,
    "carryover_last_year": 5,
    "carryover_this_year": 4,
    "procurement_budget": 30,
    "procurement_actual": 30,
    "key_tasks_planned": 12,
    "key_tasks_done": 12,
}


@pytest.fixture(scope="module")
def menu_rubric() -> perfscore.CompiledRubric:
    return perfscore.compile_rubric(perfscore.loads_rubric(ON_THE_MENU))


def _leaf(
    rubric: perfscore.CompiledRubric, leaf: str, **inputs: int
) -> tuple[Decimal, Status, perfscore.ScoreResult]:
    result = rubric.score({**BASE, **inputs})
    return result[leaf].score, result[leaf].status, result


def test_sangong_rising_from_zero_is_deducted_as_the_tables_deduct(
    menu_rubric: perfscore.CompiledRubric,
) -> None:
    score, status, result = _leaf(
        menu_rubric, "sangong_change", sangong_last_year=0, sangong_this_year=50
    )
    assert (score, status) == (Decimal(0), Status.SCORED)
    assert result.values["sangong_change_rate"] == Decimal("100.00")
    assert result.total == Decimal(90)


def test_sangong_nothing_in_either_year_is_not_applicable(
    menu_rubric: perfscore.CompiledRubric,
) -> None:
    score, status, _ = _leaf(
        menu_rubric, "sangong_change", sangong_last_year=0, sangong_this_year=0
    )
    assert (score, status) == (Decimal(10), Status.NOT_APPLICABLE)


@pytest.mark.parametrize(
    ("leaf", "budget", "actual"),
    [
        ("sangong_control", "sangong_budget", "sangong_actual"),
        ("public_funds_control", "public_funds_budget", "public_funds_actual"),
    ],
)
def test_spending_with_no_budget_is_over_budget(
    menu_rubric: perfscore.CompiledRubric, leaf: str, budget: str, actual: str
) -> None:
    assert _leaf(menu_rubric, leaf, **{budget: 0, actual: 3})[:2] == (Decimal(0), Status.SCORED)
    assert _leaf(menu_rubric, leaf, **{budget: 0, actual: 0})[:2] == (
        Decimal(20),
        Status.NOT_APPLICABLE,
    )


def test_carryover_appearing_is_deducted_none_is_full_marks(
    menu_rubric: perfscore.CompiledRubric,
) -> None:
    rising = _leaf(menu_rubric, "carryover_change", carryover_last_year=0, carryover_this_year=2)
    assert rising[:2] == (Decimal(0), Status.SCORED)
    none = _leaf(menu_rubric, "carryover_change", carryover_last_year=0, carryover_this_year=0)
    assert none[:2] == (Decimal(10), Status.SCORED)


def test_a_department_without_posts_is_refused_not_scored(
    menu_rubric: perfscore.CompiledRubric,
) -> None:
    with pytest.raises(perfscore.InputError) as caught:
        menu_rubric.score({**BASE, "staff_authorized": 0})
    assert caught.value.codes == ("input.bounds",)


def test_every_rate_of_the_menu_says_what_a_zero_denominator_means() -> None:
    """Each derived value of the menu either cannot divide by zero (its denominator's
    input has a minimum above 0, or the formula guards it), or declares what it gives,
    and a comment beside it says why."""
    data = yaml.safe_load(MENU.read_text(encoding="utf-8"))
    text = MENU.read_text(encoding="utf-8")
    blocks = re.split(
        r"\n  (?=[a-z_]+:)", text[text.index("\nderived:\n") : text.index("\ndefinitions:\n")]
    )
    commented = {b.split(":", 1)[0] for b in blocks if "#" in b}
    for name, derived in data["derived"].items():
        assert name in commented, f"{name}: no comment on its zero-division choice"
        tree = ast.parse(derived["formula"], mode="eval").body
        if isinstance(tree, ast.IfExp) or "on_zero_division" in derived:
            continue
        assert isinstance(tree, ast.BinOp), name
        assert isinstance(tree.right, ast.Name), name
        spec = data["inputs"][tree.right.id]
        assert Decimal(str(spec["min"])) > 0, f"{name}: {tree.right.id} may be 0"


def test_check_finds_no_division_by_zero_and_no_hidden_change_on_the_menu(
    menu_rubric: perfscore.CompiledRubric,
) -> None:
    report = check_rubric(menu_rubric, seed=1, max_examples=60)
    kinds = {f.kind for f in report.findings}
    assert "evaluation_error" not in kinds
    assert "hidden_change" not in kinds


def test_check_reports_the_zero_base_the_old_menu_hid() -> None:
    report = check_rubric(perfscore.loads_rubric(OLD_SANGONG), seed=1, max_examples=60)
    (hidden,) = [f for f in report.findings if f.kind == "hidden_change"]
    assert (hidden.indicator, hidden.level) == ("sangong_change", "warning")
    assert hidden.inputs is not None
    assert hidden.inputs["sangong_last_year"] == 0
    assert hidden.inputs["sangong_this_year"] != 0
    assert hidden.case is not None
    assert 'expect: {status: {sangong_change: "not_applicable"}}' in hidden.case


SHIPPED = sorted(
    p
    for p in (ROOT / "rubrics").rglob("*.yaml")
    if ".cases." not in p.name and "menu" not in p.name  # case files and their inputs
)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_no_shipped_rubric_hides_a_change_or_divides_by_zero(path: Path) -> None:
    report = check_rubric(perfscore.load_rubric(path), seed=0, max_examples=20)
    assert [
        f.kind for f in report.findings if f.kind in ("hidden_change", "evaluation_error")
    ] == []


# --------------------------------------------------------------------------- denominators

NEGATIVE = """\
id: negative
title: 分母可为零
inputs:
  a: {label: a, kind: money, min: 1}
  b: {label: b, kind: money}
  c: {label: c, kind: money, min: 0}
derived:
  r: {label: r, formula: c / (a + b), as_percent: true}
indicators:
  - id: x
    name: x
    weight: 100
    scoring: {method: proportional, value: r, full_at: 100}
grades:
  - {name: 优, range: "[0, 100]"}
"""


def test_check_solves_a_sum_for_zero() -> None:
    """a ≥ 1 and b free: a random search all but never draws b = −a exactly."""
    report = check_rubric(perfscore.loads_rubric(NEGATIVE), seed=0, max_examples=10)
    (error,) = report.errors
    assert error.issue is not None
    assert error.issue.code == "evaluation.division_by_zero"
    assert error.inputs is not None
    assert Decimal(error.inputs["a"]) + Decimal(error.inputs["b"]) == 0


def test_divisions_and_their_linear_denominators() -> None:
    rubric = perfscore.loads_rubric(NEGATIVE)
    (division,) = divisions(rubric)
    assert (division.where, division.text, division.whole_derived) == ("derived r", "a + b", "r")
    assert linear(division.denominator, frozenset(rubric.inputs)) == {
        "a": Decimal(1),
        "b": Decimal(1),
    }


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("2 * a - b / 4 + 3", {"a": Decimal(2), "b": Decimal("-0.25"), "": Decimal(3)}),
        ("-(a - b)", {"a": Decimal(-1), "b": Decimal(1)}),
        ("a * b", None),
        ("abs(a)", None),
        ("a / b", None),
        ("unknown + 1", None),
    ],
)
def test_linear_forms(source: str, expected: dict[str, Decimal] | None) -> None:
    node = ast.parse(source, mode="eval").body
    found = linear(node, frozenset({"a", "b"}))
    if found is not None:
        found = {k: v for k, v in found.items() if v}
    assert found == expected


_SPEC = st.builds(
    lambda kind, low, span: InputSpec(
        label="x",
        kind=kind,
        min=None if low is None else Decimal(low),
        max=None if low is None or span is None else Decimal(low + span),
    ),
    st.sampled_from(["money", "count", "integer", "number"]),
    st.one_of(st.none(), st.integers(-100, 100)),
    st.one_of(st.none(), st.integers(0, 1000)),
).filter(lambda s: s.kind != "count" or s.min is None or s.min >= 0)


@given(
    coefficients=st.lists(st.integers(-5, 5).filter(bool), min_size=1, max_size=3),
    constant=st.integers(-100, 100),
    specs=st.lists(_SPEC, min_size=3, max_size=3),
)
def test_every_solution_is_a_zero_within_the_bounds(
    coefficients: list[int], constant: int, specs: list[InputSpec]
) -> None:
    names = ["x", "y", "z"][: len(coefficients)]
    combination = {n: Decimal(c) for n, c in zip(names, coefficients, strict=False)}
    combination[""] = Decimal(constant)
    by_name = dict(zip(names, specs, strict=False))
    for assignment in zeros(combination, by_name, {}):
        assert sum(combination[n] * assignment[n] for n in names) + constant == 0
        for name, value in assignment.items():
            spec = by_name[name]
            assert spec.lower_bound is None or value >= spec.lower_bound
            assert spec.max is None or value <= spec.max
            if spec.kind in ("count", "integer"):
                assert value == value.to_integral_value()


@given(a=st.integers(1, 10_000), b=st.integers(-10_000, 10_000))
def test_a_sum_that_can_be_zero_is_solved(a: int, b: int) -> None:
    """For a + b with a ≥ 1 and b free, a solution is always found (b = −a)."""
    specs = {
        "a": InputSpec(label="a", kind="money", min=Decimal(1)),
        "b": InputSpec(label="b", kind="money"),
    }
    found = zeros({"a": Decimal(1), "b": Decimal(1)}, specs, {"a": a, "b": b})
    assert found
    assert all(x["a"] + x["b"] == 0 for x in found)


def _change_rubric(direction: str, threshold: int) -> str:
    return f"""\
id: change
title: 变动率
inputs:
  last: {{label: 上年, kind: money, min: 0}}
  this: {{label: 本年, kind: money, min: 0}}
derived:
  change: {{label: 变动率, formula: (this - last) / last, as_percent: true,
            on_zero_division: not_applicable}}
indicators:
  - id: change_leaf
    name: 变动率
    weight: 100
    scoring: {{method: deduction, value: change, threshold: {threshold},
              direction: {direction}, deduct: {{points: 1, per: 1, steps: whole}}}}
grades:
  - {{name: 优, range: "[0, 100]"}}
"""


@pytest.mark.parametrize("direction", ["over", "under"])
@pytest.mark.parametrize("threshold", [-50, -1, 0, 1, 50])
def test_a_hidden_change_is_reported_exactly_when_the_rule_deducts_for_it(
    direction: str, threshold: int
) -> None:
    """Over a zero base the change (this − last) is a rise (this ≥ 0): a rule deducting for
    a rise over any threshold would deduct; one deducting for a fall would not. (The hunt
    runs Hypothesis itself, so the thresholds are a grid, not drawn.)"""
    rubric = perfscore.loads_rubric(_change_rubric(direction, threshold))
    report = check_rubric(rubric, seed=0, max_examples=10)
    hidden = [f for f in report.findings if f.kind == "hidden_change"]
    assert bool(hidden) == (direction == "over")
    for finding in hidden:
        assert finding.inputs is not None
        assert Decimal(finding.inputs["last"]) == 0
        assert Decimal(finding.inputs["this"]) > 0


def _guarded_rubric(direction: str, on_zero: str) -> str:
    """The change rate guarded by the leaf itself (``not_applicable_when: last == 0``)
    instead of by ``on_zero_division: not_applicable``."""
    return f"""\
id: guarded
title: 变动率
inputs:
  last: {{label: 上年, kind: money, min: 0}}
  this: {{label: 本年, kind: money, min: 0}}
derived:
  change: {{label: 变动率, formula: (this - last) / last, as_percent: true{on_zero}}}
indicators:
  - id: change_leaf
    name: 变动率
    weight: 100
    not_applicable_when: last == 0
    scoring: {{method: deduction, value: change, threshold: 0,
              direction: {direction}, deduct: {{points: 1, per: 1, steps: whole}}}}
grades:
  - {{name: 优, range: "[0, 100]"}}
"""


@pytest.mark.parametrize("on_zero", [", on_zero_division: 0", ", on_zero_division: 100"])
@pytest.mark.parametrize("direction", ["over", "under"])
def test_a_change_hidden_by_a_leaf_guard_is_reported_like_one_hidden_by_the_rate(
    direction: str, on_zero: str
) -> None:
    """A leaf not applicable when its rate's denominator is 0 hides the same change as a
    rate declared ``on_zero_division: not_applicable``: reported exactly when the rule
    would deduct for it (a rise over a zero base), whatever stand-in the rate declares
    for the zero it never reaches."""
    rubric = perfscore.loads_rubric(_guarded_rubric(direction, on_zero))
    report = check_rubric(rubric, seed=0, max_examples=10)
    hidden = [f for f in report.findings if f.kind == "hidden_change"]
    assert bool(hidden) == (direction == "over")
    for finding in hidden:
        assert finding.indicator == "change_leaf"
        assert finding.inputs is not None
        assert Decimal(finding.inputs["last"]) == 0
        assert Decimal(finding.inputs["this"]) > 0
    assert "evaluation_error" not in {f.kind for f in report.findings}


def test_a_guard_on_another_input_hides_no_change() -> None:
    """A guard that reads no input of the denominator is not taken for a zero guard: here
    the leaf never applies (``this >= 0`` always holds), over a zero base or not, so no
    change is hidden by the zero (taking the guard for one would report it)."""
    text = _guarded_rubric("over", ", on_zero_division: 0").replace(
        "not_applicable_when: last == 0", "not_applicable_when: this >= 0"
    )
    report = check_rubric(perfscore.loads_rubric(text), seed=0, max_examples=10)
    assert "hidden_change" not in {f.kind for f in report.findings}


@pytest.mark.lang("en")
def test_a_guarded_hidden_change_names_the_leaf_and_its_guard() -> None:
    rubric = perfscore.loads_rubric(_guarded_rubric("over", ", on_zero_division: 0"))
    (hidden,) = [
        f
        for f in check_rubric(rubric, seed=0, max_examples=10).findings
        if f.kind == "hidden_change"
    ]
    assert "change_leaf is not applicable (not_applicable_when: last == 0)" in hidden.message
