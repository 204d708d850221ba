"""`perfscore validate` reports reference, structure, formula, weight and band problems of a
file in one pass: a fixture with one of each, and a property over every subset of them."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import perfscore
from perfscore.cli import main
from perfscore.errors import FormulaError, RubricValidationError

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path("tests") / "data" / "every_problem" / "rubric.yaml"

#: Each problem of the fixture: its kind, the text that makes it, the text that mends it,
#: and the codes it is reported with.
PROBLEMS: dict[str, tuple[str, str, frozenset[str]]] = {
    "reference": (
        "ref: staff_controll",
        "ref: staff_control",
        frozenset({"compose.unknown_definition"}),
    ),
    "structure": ("wieght: 25", "weight: 25", frozenset({"schema.unknown_key", "schema.missing"})),
    "formula": (
        "formula: staff_actul /",
        "formula: staff_actual /",
        frozenset({"formula.unknown_name"}),
    ),
    "weight": ("weight: 30\n", "weight: 35\n", frozenset({"rubric.weight_sum"})),
    "band": ('range: "[70, 90)"', 'range: "[60, 90)"', frozenset({"rubric.grades_gap"})),
}


@pytest.mark.lang("en")  # expected.txt is the English output
def test_validate_lists_one_problem_of_each_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["validate", FIXTURE.as_posix()])
    assert result.exit_code == 3  # a rubric that is invalid
    expected = (FIXTURE.parent / "expected.txt").read_text(encoding="utf-8")
    assert result.output == expected
    codes = {
        line.rsplit("[", 1)[1].rstrip("]")
        for line in result.output.splitlines()
        if "[" in line and line.endswith("]")
    }
    assert codes == set().union(*(c for _, _, c in PROBLEMS.values()))


def _rubric(kinds: frozenset[str]) -> str:
    """The fixture with only the problems of ``kinds`` left in it."""
    text = (ROOT / FIXTURE).read_text(encoding="utf-8")
    for kind, (broken, mended, _) in PROBLEMS.items():
        assert text.count(broken) == 1, kind
        if kind not in kinds:
            text = text.replace(broken, mended)
    return text


def test_the_fixture_mended_is_valid() -> None:
    rubric = perfscore.loads_rubric(_rubric(frozenset()))
    assert rubric.id == "every-problem"


@given(st.sets(st.sampled_from(sorted(PROBLEMS)), min_size=1))
def test_every_subset_of_problems_is_reported_whole(kinds: set[str]) -> None:
    """Whichever problems a file has, one load reports exactly their codes."""
    with pytest.raises(RubricValidationError) as caught:
        perfscore.loads_rubric(_rubric(frozenset(kinds)))
    wanted = set().union(*(PROBLEMS[k][2] for k in kinds))
    assert set(caught.value.codes) == wanted
    assert (type(caught.value) is FormulaError) == (kinds == {"formula"})


#: Other structure problems, each mended or left out so that the rest is still checked.
OTHER_STRUCTURE = {
    "a grade band's misspelt key": ('range: "[90, 100]"', 'rnage: "[90, 100]"'),
    "a title that is not text": ("title: 部门整体支出绩效评价（每类错误各一处）", "title: [1]"),
    "an indicator name that is not text": (
        "        name: 管理制度健全性",
        "        name: [管理制度健全性]",
    ),
    "an id that is not an id": ("id: every-problem", "id: Every Problem"),
    "a leaf's scoring without its method": (
        "scoring: {method: proportional, value: key_spend_rate}",
        "scoring: {value: key_spend_rate}",
    ),
}


@pytest.mark.parametrize("problem", sorted(OTHER_STRUCTURE))
def test_other_structure_problems_hide_nothing(problem: str) -> None:
    """With a structure problem of another kind beside them, the formula and weight
    problems (and the band problem, unless the bands are what is broken) still show."""
    good, bad = OTHER_STRUCTURE[problem]
    text = (ROOT / FIXTURE).read_text(encoding="utf-8")
    assert text.count(good) == 1
    with pytest.raises(RubricValidationError) as caught:
        perfscore.loads_rubric(text.replace(good, bad))
    codes = set(caught.value.codes)
    assert {"formula.unknown_name", "rubric.weight_sum", "compose.unknown_definition"} <= codes
    assert ("rubric.grades_gap" in codes) == ("grade" not in problem)
