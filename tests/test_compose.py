"""Rubrics built from other files: extends, uses (shared definitions), changes."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

import perfscore
from perfscore.errors import RubricValidationError

#: The messages these tests assert are the English ones.
pytestmark = pytest.mark.lang("en")

DATA = Path(__file__).parent / "data" / "compose"


def test_uses_fills_definitions_and_keeps_only_inputs_read() -> None:
    rubric = perfscore.load_rubric(DATA / "base.yaml")
    node = rubric.indicator("ratio_ind")
    assert node.name == "比率"
    assert node.description == "a over b"
    assert set(rubric.inputs) == {"a", "b"}  # 'unused' from the library is dropped
    assert set(rubric.derived) == {"ratio"}


def test_extends_applies_changes_and_merges_inputs() -> None:
    rubric = perfscore.load_rubric(DATA / "child.yaml")
    assert rubric.id == "child"
    assert [c.id for c in rubric.indicators[0].children or ()] == ["ratio_ind", "other", "extra"]
    assert rubric.indicator("ratio_ind").weight == 50
    assert set(rubric.inputs) == {"a", "b", "c"}
    result = perfscore.compile_rubric(rubric).score({"a": 3, "b": 4, "c": 25})
    # ratio 75% of 50 = 37.5; other = a = 3; extra = min(25, 20) = 20
    assert result.total == Decimal("60.5")
    assert result.grade == "好"


def test_origins_name_the_file_each_indicator_came_from() -> None:
    origins = perfscore.load_rubric(DATA / "child.yaml").indicator_origins
    assert origins["extra"].endswith("child.yaml")
    assert origins["other"].endswith("child.yaml")  # changed there
    assert origins["top"].endswith("base.yaml")


def test_problems_point_into_the_file_that_caused_them() -> None:
    with pytest.raises(RubricValidationError) as info:
        perfscore.load_rubric(DATA / "broken_child.yaml")
    codes = info.value.codes
    # the reference that fails, and (in the same pass) the formula of the change beside it
    assert codes == ("compose.unknown_indicator", "formula.unknown_name")
    issue = info.value.issues[0]
    assert str(issue.location.file).endswith("broken_child.yaml")
    assert issue.location.line == 7
    assert issue.hint == "did you mean 'ratio_ind'?"


def test_formula_problem_in_a_change_is_located_in_the_change() -> None:
    text = (DATA / "broken_child.yaml").read_text().replace("  - remove: ratio_indd\n", "")
    tmp = DATA / "broken_formula.tmp.yaml"
    tmp.write_text(text)
    try:
        with pytest.raises(perfscore.FormulaError) as info:
            perfscore.load_rubric(tmp)
    finally:
        tmp.unlink()
    issue = info.value.issues[0]
    assert issue.code == "formula.unknown_name"
    assert str(issue.location.file).endswith("broken_formula.tmp.yaml")
    assert (issue.location.line, issue.location.column) == (6, 49)
    assert issue.location.path == ("changes", 0, "scoring", "expression")


def test_references_cannot_escape_to_other_files() -> None:
    with pytest.raises(RubricValidationError) as info:
        perfscore.load_rubric(DATA / "escape.yaml")
    assert info.value.codes == ("compose.reference",)
    assert "no '..'" in info.value.issues[0].message


def test_cycles_are_refused() -> None:
    with pytest.raises(RubricValidationError) as info:
        perfscore.load_rubric(DATA / "cycle_a.yaml")
    assert "compose.cycle" in info.value.codes


def test_national_menu_is_usable_by_reference(tmp_path: Path) -> None:
    rubric_file = tmp_path / "local.yaml"
    rubric_file.write_text(
        "id: local\ntitle: 本地\nuses: perfscore:mof/dept-overall-menu-2013\n"
        "indicators:\n"
        "  - {ref: staff_control, weight: 60, scoring: {method: deduction,"
        " value: staff_control_rate, threshold: 100, direction: over,"
        " deduct: {points: 0.5, per: 1, steps: whole}}}\n"
        "  - {ref: public_satisfaction, weight: 40,"
        " scoring: {method: proportional, value: satisfaction}}\n"
        "grades:\n  - {name: 合格, range: '[60, 100]'}\n  - {name: 不合格, range: '[0, 60)'}\n",
        encoding="utf-8",
    )
    rubric = perfscore.load_rubric(rubric_file)
    assert rubric.indicator("staff_control").name == "在职人员控制率"
    assert set(rubric.inputs) == {"staff_authorized", "staff_actual", "satisfaction"}
    result = perfscore.compile_rubric(rubric).score(
        {"staff_authorized": 18, "staff_actual": 17, "satisfaction": 95}
    )
    assert result.total == Decimal("98.00")


def test_national_menu_has_all_28_definitions() -> None:
    from perfscore.loading import load_document

    data, _ = load_document(Path(__file__).parents[1] / "rubrics/mof/dept-overall-menu-2013.yaml")
    assert len(data["definitions"]) == 28
