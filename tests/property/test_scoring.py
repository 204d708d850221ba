"""Invariants of every score of every valid rubric: bounds, sums, rounding, grade."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import example, given

import perfscore
from perfscore import CompiledRubric, Rubric, ScoreResult, Status
from perfscore._numbers import round_decimal

from .strategies import INPUTS, build_rubric, department_inputs, rubrics


def _flat(points: list[str], rounding: dict[str, Any]) -> Rubric:
    """A rubric of one constant band per leaf: each leaf scores its points."""
    leaves = [
        {
            "id": f"i{i}",
            "name": f"指标{i}",
            "weight": Decimal(1),
            "scoring": {
                "method": "bands",
                "value": "x",
                "bands": [{"range": "(-∞, +∞)", "points": Decimal(p)}],
            },
        }
        for i, p in enumerate(points)
    ]
    total = Decimal(len(points))
    return build_rubric(
        {
            "id": "flat",
            "title": "T",
            "total": total,
            "inputs": INPUTS,
            "indicators": leaves,
            "grades": [{"name": "ok", "range": f"[0, {total}]"}],
            "rounding": rounding,
        }
    )


_DEPARTMENT = {"x": 0, "y": 0, "n": 1, "f": True, "c": "好", "o": 0}


def _score(rubric: Rubric, inputs: dict[str, Any]) -> tuple[CompiledRubric, ScoreResult]:
    compiled = perfscore.compile_rubric(rubric)
    return compiled, compiled.score(inputs)


@given(rubrics, department_inputs())
def test_every_leaf_score_lies_within_its_effective_weight(
    rubric: Rubric, inputs: dict[str, Any]
) -> None:
    _, result = _score(rubric, inputs)
    for node in result.leaves:
        assert 0 <= node.score <= node.effective_weight, node


@given(rubrics, department_inputs())
@example(_flat(["0.01", "0.10"], {"total": {"places": 1}}), _DEPARTMENT)
def test_total_is_the_rounded_sum_of_the_leaf_scores(
    rubric: Rubric, inputs: dict[str, Any]
) -> None:
    compiled, result = _score(rubric, inputs)
    leaf_sum = sum((node.score for node in result.leaves), Decimal(0))
    assert result.unrounded_total == leaf_sum
    rule = compiled.rubric.rounding.total
    assert result.total == round_decimal(leaf_sum, rule.places, rule.mode)
    assert result.unrounded_total >= 0
    for node in result.indicators:
        if node.children:
            assert node.score == sum((result[c].score for c in node.children), Decimal(0))


@given(rubrics, department_inputs())
def test_total_stays_within_the_rubric_total(rubric: Rubric, inputs: dict[str, Any]) -> None:
    compiled, result = _score(rubric, inputs)
    places = compiled.rubric.rounding.score.places
    # Each leaf is rounded on its own, so after weight moved between leaves the sum may
    # exceed the total by half a unit of the last place per leaf, no more.
    slack = Decimal(len(result.leaves)) * Decimal(1).scaleb(-places)
    assert result.unrounded_total <= result.max_total + slack


@given(rubrics, department_inputs())
def test_grade_is_the_band_holding_the_total(rubric: Rubric, inputs: dict[str, Any]) -> None:
    compiled, result = _score(rubric, inputs)
    rubric = compiled.rubric
    basis = result.total if rubric.rounding.grade_on == "rounded" else result.unrounded_total
    holding = [band.name for band in rubric.grades if basis in band.range]
    assert holding == [result.grade_before_caps or result.grade]


@given(rubrics, department_inputs())
def test_not_applicable_leaves_follow_their_policy(rubric: Rubric, inputs: dict[str, Any]) -> None:
    compiled, result = _score(rubric, inputs)
    for node in result.leaves:
        if node.status is not Status.NOT_APPLICABLE:
            continue
        indicator = compiled.rubric.indicator(node.id)
        policy = indicator.not_applicable or compiled.rubric.not_applicable
        if policy == "full_marks":
            assert node.score == node.effective_weight
        else:
            assert node.score == 0
            assert node.effective_weight == 0


@given(rubrics, department_inputs())
def test_scores_without_explanations_are_the_same(rubric: Rubric, inputs: dict[str, Any]) -> None:
    compiled, explained = _score(rubric, inputs)
    plain = compiled.score(inputs, explain=False)
    assert plain.scores == explained.scores
    assert plain.total == explained.total
    assert plain.unrounded_total == explained.unrounded_total
    assert plain.grade == explained.grade
    assert [n.status for n in plain.indicators] == [n.status for n in explained.indicators]


@given(rubrics, department_inputs())
def test_scoring_is_deterministic(rubric: Rubric, inputs: dict[str, Any]) -> None:
    compiled, first = _score(rubric, inputs)
    again = perfscore.compile_rubric(rubric.model_copy()).score(dict(inputs))
    assert again == first
    assert compiled.score(inputs) == first
