"""The renderers: exact text for a small four-level rubric with a not-applicable leaf."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import perfscore
from perfscore.errors import Issue, Location
from perfscore.render import text as reporting
from perfscore.results import ScoreResult

#: Results are written in Chinese; the tests of issue texts pin English.
pytestmark = pytest.mark.lang("zh")

# Four levels deep; a leaf whose weight moves to its siblings when it has no value; names
# with rich markup and a markdown pipe in them, which must come out literally.
TINY = """\
id: tiny
title: 测试表
version: "2"
total: 10
inputs:
  cars: {label: 公务用车数, kind: count, required: false}
  rate: {label: 完成率, kind: percent}
  ok: {label: 制度健全, kind: boolean}
derived:
  car_rate: {label: 车辆使用率, formula: cars / 2, as_percent: true}
indicators:
  - id: top
    name: "投入 | 管理"
    weight: 10
    children:
      - id: mid
        name: 预算
        weight: 10
        children:
          - id: low
            name: "[red]执行[/red]"
            weight: 10
            children:
              - id: cars_used
                name: 车辆
                weight: 4
                not_applicable: to_siblings
                scoring: {method: proportional, value: car_rate}
              - id: done
                name: 完成率
                weight: 4
                standard: 按比例计分
                scoring: {method: proportional, value: rate}
              - id: rules
                name: 制度
                weight: 2
                scoring:
                  method: checklist
                  items:
                    - {text: 制度健全, met: ok, points: 2}
grades:
  - {name: 好, range: "[6, 10]"}
  - {name: 差, range: "[0, 6)"}
"""


@pytest.fixture(scope="module")
def rubric() -> perfscore.Rubric:
    return perfscore.loads_rubric(TINY, name="tiny.yaml")


@pytest.fixture(scope="module")
def result(rubric: perfscore.Rubric) -> ScoreResult:
    return perfscore.compile_rubric(rubric).score({"rate": 50, "ok": False})


@pytest.mark.lang("en")
def test_problem_count() -> None:
    assert reporting.problem_count(0) == "0 problems found"
    assert reporting.problem_count(1) == "1 problem found"
    assert reporting.problem_count(2) == "2 problems found"


@pytest.mark.lang("en")
def test_render_issues() -> None:
    issues = [
        Issue("a.b", "first", Location("f.yaml", 3, 5, ("x", 0)), "try this"),
        Issue("c", "second"),
    ]
    assert reporting.render_issues(issues) == (
        "f.yaml:3:5: x[0]: first [a.b]\n    hint: try this\n<input>: second [c]\n2 problems found"
    )


@pytest.mark.lang("en")
def test_rubric_summary(rubric: perfscore.Rubric) -> None:
    assert reporting.render_rubric_summary(rubric) == (
        "ok: tiny (version 2): 6 indicators, 3 leaves, total 10"
    )


def test_table(result: ScoreResult) -> None:
    assert reporting.render_table(result) == (
        "指标                  id              分值   得分   状态\n"
        "──────────────────────────────────────────────────────────\n"
        "投入 | 管理           top               10   3.34   已评分\n"
        "  预算                mid               10   3.34   已评分\n"
        "    [red]执行[/red]   low               10   3.34   已评分\n"
        "      车辆            cars_used   4 → 0.00   0.00   不适用\n"
        "      完成率          done        4 → 6.67   3.34   已评分\n"
        "      制度            rules       2 → 3.33   0.00   已评分\n"
        "\n"
        "总分：3.34 / 10\n"
        "等次：差"
    )


def test_table_has_no_trailing_spaces_at_any_width(result: ScoreResult) -> None:
    for width in (40, 80, 200):
        text = reporting.render_table(result, width=width)
        assert all(line == line.rstrip() for line in text.splitlines())
        assert "总分：3.34 / 10" in text


def test_markdown(result: ScoreResult) -> None:
    assert reporting.render_markdown(result) == (
        "| 一级指标 | 二级指标 | 三级指标 | 四级指标 | id | 分值 | 得分 | 状态 |\n"
        "| :-- | :-- | :-- | :-- | :-- | --: | --: | :-- |\n"
        "| **投入 \\| 管理** |  |  |  | `top` | 10 | 3.34 | 已评分 |\n"
        "|  | **预算** |  |  | `mid` | 10 | 3.34 | 已评分 |\n"
        "|  |  | **\\[red\\]执行\\[/red\\]** |  | `low` | 10 | 3.34 | 已评分 |\n"
        "|  |  |  | 车辆 | `cars_used` | 4 → 0.00 | 0.00 | 不适用 |\n"
        "|  |  |  | 完成率 | `done` | 4 → 6.67 | 3.34 | 已评分 |\n"
        "|  |  |  | 制度 | `rules` | 2 → 3.33 | 0.00 | 已评分 |\n"
        "\n"
        "- 总分：3.34 / 10\n"
        "- 等次：差"
    )


def test_json_is_to_dict(result: ScoreResult) -> None:
    text = reporting.render_json(result)
    assert json.loads(text) == result.to_dict()
    assert "投入" in text  # not \\u escaped
    assert text.startswith('{\n  "format": 1,\n  "rubric": {')


def test_explain_one_leaf_with_labels(result: ScoreResult, rubric: perfscore.Rubric) -> None:
    assert reporting.render_explanation(result, "cars_used", rubric=rubric) == (
        "车辆 (cars_used)\n"
        "  得分：0.00 / 0.00\n"
        "  状态：不适用\n"
        "  分值：4 → 0.00\n"
        "  取值：\n"
        "    cars = —（无值：不适用）（公务用车数）\n"
        "    car_rate = —（无值：不适用）（车辆使用率）\n"
        "  评分过程：\n"
        "    不适用（公务用车数、车辆使用率无值）：权重分配给同级指标"
    )


def test_explain_without_rubric_has_no_labels(result: ScoreResult) -> None:
    assert reporting.render_explanation(result, "done") == (
        "完成率 (done)\n"
        "  得分：3.34 / 6.67\n"
        "  状态：已评分\n"
        "  分值：4 → 6.67\n"
        "  评分标准：按比例计分\n"
        "  取值：\n"
        "    rate = 50\n"
        "  评分过程：\n"
        "    完成率50%，未达到100%，按比例计分：50%÷100%×4分\n"
        "    分值4→6.67（承接不适用指标的分值）：2.00×6.67÷4=3.34"
    )


def test_explain_branch_lists_children(result: ScoreResult) -> None:
    assert reporting.render_explanation(result, "low") == (
        "[red]执行[/red] (low)\n"
        "  得分：3.34 / 10\n"
        "  状态：已评分\n"
        "  下级指标：\n"
        "    车辆 (cars_used): 0.00 / 0.00  不适用\n"
        "    完成率 (done): 3.34 / 6.67  已评分\n"
        "    制度 (rules): 0.00 / 3.33  已评分"
    )


def test_explain_all_leaves_ends_with_total(result: ScoreResult) -> None:
    text = reporting.render_explanation(result)
    blocks = text.split("\n\n")
    assert [b.splitlines()[0] for b in blocks[:-1]] == [
        "车辆 (cars_used)",
        "完成率 (done)",
        "制度 (rules)",
    ]
    assert "    ✗ 制度健全（+0）" in blocks[2]
    assert blocks[-1] == "总分：3.34 / 10\n等次：差"


def test_explain_unknown_id_is_key_error(result: ScoreResult) -> None:
    with pytest.raises(KeyError):
        reporting.render_explanation(result, "nope")


def test_reporting_neither_prints_nor_exits() -> None:
    """Layering: rendering returns strings; only the CLI prints or exits."""
    source = Path(reporting.__file__).read_text(encoding="utf-8")
    tree = ast.parse(source)
    calls = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert not calls & {"print", "exit", "quit"}
    imported = {
        node.module or ""
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level == 1
    }
    assert "cli" not in imported
    assert "click" not in source


_PIECES = st.sampled_from(
    [
        "在职人员控制率",
        "95.10%",
        "，",
        "超过",
        "100%",
        " ",
        "5.56",
        "个百分点",
        "扣0.5分",
        "id_x",
        "甲",
    ]
)


@given(st.lists(_PIECES, min_size=1, max_size=30), st.integers(min_value=8, max_value=80))
def test_explain_wraps_to_the_width_without_splitting_numbers(
    pieces: list[str], width: int
) -> None:
    """Wrapped, a line keeps its text (only breaks are added), every number stays whole
    on one line, and no line is wider than asked unless one number alone is."""
    line = "    " + "".join(pieces)
    lines = reporting.wrap(line, width)
    assert "".join("".join(part.split()) for part in lines) == "".join(line.split())
    numbers = re.findall(r"[-+]?[0-9][0-9.,]*%?", line)
    for number in numbers:
        assert any(number in part for part in lines), number
    for part in lines:
        wide = reporting._columns(part) > width
        assert not wide or len(part.split()) == 1, part


def test_explain_with_a_width_wraps_long_steps(result: ScoreResult) -> None:
    text = reporting.render_explanation(result, "done", width=30)
    assert all(reporting._columns(line) <= 30 for line in text.splitlines())
    assert text.replace("\n", "").replace(" ", "") == reporting.render_explanation(
        result, "done"
    ).replace("\n", "").replace(" ", "")
