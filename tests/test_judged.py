"""Judged rows (专家评分), todo notes, reviewer overrides and alternatives (二者择其一)."""

from __future__ import annotations

import statistics
from decimal import Decimal
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

import perfscore
from perfscore.i18n import use_lang
from perfscore.methods import aggregate_scores

from .conftest import rubric_from_yaml

#: The form a drafted rubric writes for a row it cannot read: todo and a bare judged method.
DRAFTED = """
id: drafted
title: 草稿
inputs:
  rate: {label: 执行率, kind: percent}
indicators:
  - id: a
    name: 一
    weight: 100
    children:
      - id: exec
        name: 执行率
        weight: 60
        scoring: {method: proportional, value: rate}
      - id: unread
        name: 看不清的行
        weight: 40
        todo: 原表此行评分标准无法识别
        scoring: {method: judged}
grades:
  - {name: 好, range: "[60, 100]"}
  - {name: 差, range: "[0, 60)"}
"""


def panel(rule: str, extra: str = "") -> perfscore.CompiledRubric:
    return perfscore.compile_rubric(
        rubric_from_yaml(
            f"""
            id: panel
            title: 专家评分
            total: 10
            indicators:
              - id: goal
                name: 目标合理性
                weight: 10
                scoring: {{method: judged, aggregate: {rule}, min_judges: 3{extra}}}
            grades:
              - {{name: 合格, range: "[6, 10]"}}
              - {{name: 不合格, range: "[0, 6)"}}
            """
        )
    )


def test_the_drafted_minimal_form_loads_validates_and_scores_a_single_score() -> None:
    compiled = perfscore.compile_rubric(rubric_from_yaml(DRAFTED))
    result = compiled.score({"rate": 90, "judged": {"unread": 30}})
    assert result["unread"].score == Decimal("30.00")
    assert result.total == Decimal("84.00")
    with use_lang("en"):
        (todo,) = compiled.todos
    assert todo.code == "rubric.todo"
    assert todo.params["indicator"] == "unread"
    assert "原表此行评分标准无法识别" in todo.message
    assert todo.location.path == ("indicators", 0, "children", 1, "todo")


def test_a_judged_score_missing_above_the_weight_or_below_zero_is_an_input_error() -> None:
    compiled = perfscore.compile_rubric(rubric_from_yaml(DRAFTED))
    with pytest.raises(perfscore.InputError) as missing:
        compiled.score({"rate": 90})
    assert missing.value.codes == ("judged.missing",)
    for bad in (41, -1):
        with pytest.raises(perfscore.InputError) as error:
            compiled.score({"rate": 90, "judged": {"unread": bad}})
        assert error.value.codes == ("judged.out_of_range",)
        assert error.value.issues[0].params["weight"] == "40"
    with pytest.raises(perfscore.InputError) as several:
        compiled.score({"rate": 90, "judged": {"unread": [30, 31]}})
    assert several.value.codes == ("judged.single",)
    with pytest.raises(perfscore.InputError) as unknown:
        compiled.score({"rate": 90, "judged": {"unread": 3, "exec": 4, "nope": 1}})
    assert unknown.value.codes == ("judged.not_judged", "judged.unknown")


@pytest.mark.parametrize(
    ("rule", "scores", "expected"),
    [
        ("mean", [8, 9, 7], "8.00"),
        ("median", [8, 9, 5, 6], "7.00"),
        ("trimmed_mean", [10, 2, 7, 8], "7.50"),
    ],
)
def test_panels_aggregate_by_their_declared_rule(
    rule: str, scores: list[int], expected: str
) -> None:
    result = panel(rule).score({"judged": {"goal": scores}})
    assert result["goal"].score == Decimal(expected)
    (step,) = result["goal"].explanation.steps  # type: ignore[union-attr]
    assert step.kind == "judged"
    assert all(str(s) in step.text for s in scores)


def test_judges_by_name_and_the_minimum_number_of_judges() -> None:
    compiled = panel("mean")
    result = compiled.score({"judged": {"goal": {"张三": 8, "李四": 9, "王五": 7}}})
    assert "张三 8" in result["goal"].explanation.steps[0].text  # type: ignore[union-attr]
    with pytest.raises(perfscore.InputError) as error:
        compiled.score({"judged": {"goal": [8, 9]}})
    assert error.value.codes == ("judged.too_few",)
    assert error.value.issues[0].params == {"indicator": "goal", "count": 2, "min": 3}


def test_a_panel_wider_than_max_spread_warns_naming_the_scores() -> None:
    compiled = panel("mean", ", max_spread: 2")
    calm = compiled.score({"judged": {"goal": [8, 9, 7]}})
    assert calm.warnings == ()
    torn = compiled.score({"judged": {"goal": [3, 9, 7]}})
    (warning,) = torn.warnings
    assert warning.code == "judged.disagreement"
    assert warning.params["scores"] == "3、9、7"
    assert warning.params["spread"] == "6"


def test_panel_settings_without_an_aggregate_are_refused() -> None:
    with pytest.raises(perfscore.RubricValidationError, match="aggregate"):
        rubric_from_yaml(DRAFTED.replace("{method: judged}", "{method: judged, max_spread: 2}"))
    with pytest.raises(perfscore.RubricValidationError, match="min_judges"):
        rubric_from_yaml(
            DRAFTED.replace("{method: judged}", "{method: judged, aggregate: trimmed_mean}")
        )


scores_strategy = st.lists(
    st.decimals(min_value=0, max_value=10, places=2, allow_nan=False), min_size=3, max_size=9
)


@given(scores_strategy, st.sampled_from(["mean", "median", "trimmed_mean"]))
def test_an_aggregate_lies_between_the_lowest_and_the_highest_and_ignores_order(
    scores: list[Decimal], rule: Any
) -> None:
    value = aggregate_scores(rule, scores)
    assert min(scores) <= value <= max(scores)
    assert aggregate_scores(rule, list(reversed(scores))) == value
    if rule == "median":
        assert value == statistics.median(scores)
    if rule == "trimmed_mean":
        middle = sorted(scores)[1:-1]
        assert value == sum(middle, Decimal(0)) / len(middle)


# --------------------------------------------------------------------------- overrides


def test_an_override_counts_in_the_total_and_keeps_the_computed_score(
    demo_compiled: perfscore.CompiledRubric, demo_inputs: dict[str, Any]
) -> None:
    plain = demo_compiled.score(demo_inputs)
    leaf = next(n for n in plain.leaves if n.score < n.weight)
    decided = {leaf.id: {"score": str(leaf.weight), "reason": "复核认定", "by": "李四"}}
    for result in (
        demo_compiled.score({**demo_inputs, "overrides": decided}),
        demo_compiled.score(demo_inputs, overrides=decided),
    ):
        node = result[leaf.id]
        assert node.score == leaf.weight
        assert node.override is not None
        assert node.override.computed == leaf.score
        assert node.override.reason == "复核认定"
        assert result.total == plain.total + (leaf.weight - leaf.score)
        assert node.explanation is not None
        assert node.explanation.steps[-1].kind == "override"
        assert node.to_dict()["override"]["by"] == "李四"


def test_an_override_without_a_reason_or_out_of_range_is_an_input_error(
    demo_compiled: perfscore.CompiledRubric, demo_inputs: dict[str, Any]
) -> None:
    leaf = next(n for n in demo_compiled.rubric.leaves)
    branch = demo_compiled.rubric.indicators[0]
    with pytest.raises(perfscore.InputError) as error:
        demo_compiled.score(
            {
                **demo_inputs,
                "overrides": {
                    leaf.id: {"score": 0},
                    branch.id: {"score": 1, "reason": "x"},
                    "nowhere": {"score": 1, "reason": "x"},
                },
            }
        )
    assert set(error.value.codes) == {"override.no_reason", "override.not_leaf", "override.unknown"}
    with pytest.raises(perfscore.InputError) as high:
        demo_compiled.score(
            demo_inputs, overrides={leaf.id: {"score": str(leaf.weight + 1), "reason": "x"}}
        )
    assert high.value.codes == ("override.out_of_range",)


# --------------------------------------------------------------------------- alternatives

ALTERNATIVES = """
id: either
title: 二者择其一
inputs:
  has_projects: {label: 有无项目支出, kind: boolean}
  project_rate: {label: 项目执行率, kind: percent}
  basic_rate: {label: 基本支出执行率, kind: percent}
indicators:
  - id: other
    name: 其他
    weight: 80
    scoring: {method: proportional, value: basic_rate}
  - id: execution
    name: 执行率（二者择其一）
    weight: 20
    alternatives: true
    children:
      - id: with_projects
        name: 项目支出执行率
        weight: 20
        not_applicable_when: not has_projects
        scoring: {method: proportional, value: project_rate}
      - id: without_projects
        name: 基本支出执行率
        weight: 20
        not_applicable_when: has_projects
        scoring: {method: proportional, value: basic_rate}
grades:
  - {name: 好, range: "[60, 100]"}
  - {name: 差, range: "[0, 60)"}
"""


def test_exactly_one_alternative_counts() -> None:
    compiled = perfscore.compile_rubric(rubric_from_yaml(ALTERNATIVES))
    projects = compiled.score({"has_projects": True, "project_rate": 50, "basic_rate": 100})
    assert projects["execution"].score == Decimal("10.00")
    assert projects["without_projects"].status is perfscore.Status.NOT_APPLICABLE
    assert projects["without_projects"].effective_weight == 0
    assert projects["execution"].effective_weight == 20
    assert projects.total == Decimal("90.00")
    basic = compiled.score({"has_projects": False, "project_rate": 50, "basic_rate": 100})
    assert basic["execution"].score == Decimal("20.00")
    assert basic.total == Decimal("100.00")


def test_none_or_several_alternatives_applying_is_an_error() -> None:
    text = ALTERNATIVES.replace("not_applicable_when: has_projects", 'not_applicable_when: "False"')
    compiled = perfscore.compile_rubric(rubric_from_yaml(text))
    with pytest.raises(perfscore.EvaluationError) as several:
        compiled.score({"has_projects": True, "project_rate": 50, "basic_rate": 100})
    assert several.value.codes == ("evaluation.alternatives_several",)
    text = ALTERNATIVES.replace("not_applicable_when: has_projects", 'not_applicable_when: "True"')
    compiled = perfscore.compile_rubric(rubric_from_yaml(text))
    with pytest.raises(perfscore.EvaluationError) as none:
        compiled.score({"has_projects": False, "project_rate": 50, "basic_rate": 100})
    assert none.value.codes == ("evaluation.alternatives_none",)
    assert none.value.issues[0].params["children"] == "with_projects, without_projects"


def test_an_alternative_must_weigh_what_its_branch_does() -> None:
    text = ALTERNATIVES.replace(
        "        weight: 20\n        not_applicable_when: has",
        "        weight: 10\n        not_applicable_when: has",
    )
    with pytest.raises(perfscore.RubricValidationError) as error:
        perfscore.compile_rubric(rubric_from_yaml(text))
    assert "rubric.alternative_weight" in error.value.codes


@given(st.booleans(), st.integers(0, 100), st.integers(0, 100))
def test_alternatives_total_is_the_other_rows_plus_the_one_that_applies(
    has: bool, project: int, basic: int
) -> None:
    compiled = perfscore.compile_rubric(rubric_from_yaml(ALTERNATIVES))
    result = compiled.score({"has_projects": has, "project_rate": project, "basic_rate": basic})
    chosen = result["with_projects" if has else "without_projects"]
    assert result["execution"].score == chosen.score
    assert result.total == result["other"].score + chosen.score


def test_check_generates_judged_scores_for_a_drafted_rubric() -> None:
    from perfscore.authoring.check import check_rubric

    report = check_rubric(rubric_from_yaml(DRAFTED), max_examples=20)
    assert report.rejected == 0
    assert report.scored >= 20
    assert report.errors == ()


def test_the_yaml_template_has_a_judged_section_that_scores_once_filled() -> None:
    from perfscore.authoring.template import yaml_template

    rubric = rubric_from_yaml(DRAFTED)
    text = yaml_template(rubric)
    assert "judged:\n" in text
    assert "原表此行评分标准无法识别" in text
    filled = text.replace("rate:", "rate: 90").replace("  unread:", "  unread: 20")
    result = perfscore.compile_rubric(rubric).score(yaml.safe_load(filled))
    assert result["unread"].score == Decimal("20.00")
