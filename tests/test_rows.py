"""Row groups: indicator rows that come from a table input, scored by one rule."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

import perfscore

#: The messages these tests assert are the English ones.
pytestmark = pytest.mark.lang("en")

ROOT = Path(__file__).parents[1]
RUBRIC = ROOT / "rubrics" / "mof" / "project-self-eval-2020.yaml"

SMALL = """
id: rows
title: 行
inputs:
  items:
    label: 指标
    kind: table
    columns:
      name: {label: 名称, kind: text}
      share: {label: 得分率, kind: percent, min: 0, max: 100}
      points: {label: 分值, kind: number, min: 0}
indicators:
  - id: group
    name: 组
    weight: 100
    rows: {table: items, name: name, weight: points, fraction: share / 100}
grades:
  - {name: 合格, range: "[60, 100]"}
  - {name: 不合格, range: "[0, 60)"}
"""


def test_each_row_becomes_a_leaf_under_the_group() -> None:
    compiled = perfscore.compile_rubric(perfscore.loads_rubric(SMALL))
    result = compiled.score(
        {
            "items": [
                {"name": "甲", "share": 50, "points": 40},
                {"name": "乙", "share": 100, "points": 60},
            ]
        }
    )
    assert [(n.id, n.name, n.score) for n in result.leaves] == [
        ("group.1", "甲", Decimal("20.00")),
        ("group.2", "乙", Decimal("60.00")),
    ]
    assert result["group"].children == ("group.1", "group.2")
    assert result.total == Decimal("80.00")
    assert result["group.1"].explanation is not None
    assert result["group.1"].explanation.values["share"] == Decimal(50)


def test_row_problems_are_located_by_row_and_column() -> None:
    compiled = perfscore.compile_rubric(perfscore.loads_rubric(SMALL))
    with pytest.raises(perfscore.InputError) as info:
        compiled.score({"items": [{"name": "甲", "share": 150, "points": 40}, {"name": "乙"}]})
    assert [(i.code, i.location.path) for i in info.value.issues] == [
        ("input.bounds", ("items", 0, "share")),
        ("input.missing", ("items", 1, "share")),
        ("input.missing", ("items", 1, "points")),
    ]


def test_rows_must_weigh_the_group_weight() -> None:
    compiled = perfscore.compile_rubric(perfscore.loads_rubric(SMALL))
    with pytest.raises(perfscore.EvaluationError) as info:
        compiled.score({"items": [{"name": "甲", "share": 50, "points": 40}]})
    assert info.value.codes == ("evaluation.rows_weight",)
    assert "weigh 40 in all, but indicator 'group' has weight 100" in str(info.value)


def test_rows_need_a_table_and_its_columns() -> None:
    text = SMALL.replace(
        "table: items, name: name, weight: points", "table: itemz, name: nam, weight: points"
    )
    with pytest.raises(perfscore.RubricValidationError) as info:
        perfscore.loads_rubric(text)
    assert info.value.codes == ("rubric.rows_table",)
    assert info.value.issues[0].hint == "did you mean 'items'?"
    text = SMALL.replace("name: name, weight: points", "name: nam, weight: name")
    with pytest.raises(perfscore.RubricValidationError) as info:
        perfscore.loads_rubric(text)
    assert info.value.codes == ("rubric.rows_column", "rubric.rows_column")


def test_row_formulas_see_columns_and_rubric_names() -> None:
    text = SMALL.replace("fraction: share / 100", "fraction: share / 100 * bonus").replace(
        "inputs:\n", "inputs:\n  bonus: {label: 系数, kind: number}\n"
    )
    compiled = perfscore.compile_rubric(perfscore.loads_rubric(text))
    result = compiled.score(
        {"bonus": "0.5", "items": [{"name": "甲", "share": 100, "points": 100}]}
    )
    assert result.total == Decimal("50.00")


def test_project_rubric_round_trips_through_dump() -> None:
    rubric = perfscore.load_rubric(RUBRIC)
    assert perfscore.loads_rubric(perfscore.dump_rubric(rubric)) == rubric
