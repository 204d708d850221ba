"""The vectorised path agrees exactly with the row engine: totals, grades, every leaf."""

from __future__ import annotations

import random
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("numpy")

import perfscore
from perfscore import vectorised
from perfscore.model import InputSpec
from perfscore.testing import load_case_file

ROOT = Path(__file__).parents[1]
RUBRICS = {
    "shaoyang": ROOT / "rubrics" / "shaoyang" / "dept-overall-2023.yaml",
    "demo": ROOT / "examples" / "demo" / "rubric.yaml",
}
CASE_FILES = [
    ROOT / "rubrics" / "shaoyang" / "dept-overall-2023.cases.yaml",
    ROOT / "examples" / "demo" / "rubric.cases.yaml",
    *sorted((ROOT / "tests" / "rubrics").glob("*.cases.yaml")),
]


@pytest.fixture(scope="module", params=sorted(RUBRICS))
def compiled(request: pytest.FixtureRequest) -> perfscore.CompiledRubric:
    return perfscore.compile_rubric(perfscore.load_rubric(RUBRICS[request.param]))


def assert_agrees(compiled: perfscore.CompiledRubric, population: list[Mapping[str, Any]]) -> None:
    columns = vectorised.columns_from_records(population, compiled)
    result = vectorised.compile_vectorised(compiled).score(columns)
    totals, grades = result.total, result.grade
    for i, department in enumerate(population):
        try:
            row = compiled.score(department, explain=False)
        except perfscore.PerfscoreError:
            assert totals[i] is None, (i, department)
            continue
        assert (totals[i], grades[i]) == (row.total, row.grade), (i, department)
        for leaf in row.leaves:
            assert result.leaf_score(leaf.id, i) == leaf.score, (i, leaf.id)


def _edge_values(spec: InputSpec) -> list[Decimal]:
    """Values at and around the numbers a rubric is likely to compare with."""
    points = [0, 1, 2, 3, 5, 10, 18, 20, 30, 60, 70, 80, 85, 90, 95, 99, 100, 101, 120]
    out = []
    for p in points:
        for delta in ("0", "0.01", "-0.01", "0.005", "0.5", "-0.5"):
            value = Decimal(p) + Decimal(delta)
            if spec.kind in ("count", "integer") and value != value.to_integral_value():
                continue
            low, high = spec.lower_bound, spec.max
            if (low is None or value >= low) and (high is None or value <= high):
                out.append(value)
    return out or [Decimal(1)]


@st.composite
def departments(draw: st.DrawFn, rubric: perfscore.Rubric) -> dict[str, Any]:
    dept: dict[str, Any] = {}
    for name, spec in rubric.inputs.items():
        if spec.kind == "boolean":
            dept[name] = draw(st.booleans())
        elif spec.kind == "choice":
            dept[name] = draw(st.sampled_from(spec.options or ("",)))
        else:
            dept[name] = draw(st.sampled_from(_edge_values(spec)))
        if not spec.required and draw(st.integers(0, 9)) == 0:
            del dept[name]
    return dept


@pytest.mark.parametrize("name", sorted(RUBRICS))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_populations_at_the_edges(name: str, data: st.DataObject) -> None:
    compiled = perfscore.compile_rubric(perfscore.load_rubric(RUBRICS[name]))
    population = data.draw(st.lists(departments(compiled.rubric), min_size=1, max_size=40))
    assert_agrees(compiled, population)


def test_large_random_population(compiled: perfscore.CompiledRubric) -> None:
    rng = random.Random(11)
    population = []
    for _ in range(3000):
        dept: dict[str, Any] = {}
        for name, spec in compiled.rubric.inputs.items():
            if spec.kind == "boolean":
                dept[name] = rng.random() < 0.8
            elif spec.kind == "choice":
                dept[name] = rng.choice(spec.options or ("",))
            elif spec.kind in ("count", "integer"):
                dept[name] = Decimal(rng.randint(int(spec.lower_bound or 0), 40))
            else:
                low = float(spec.lower_bound if spec.lower_bound is not None else 0)
                high = float(spec.max if spec.max is not None else 500)
                dept[name] = Decimal(f"{rng.uniform(low, high):.2f}")
        population.append(dept)
    assert_agrees(compiled, population)


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.stem)
def test_golden_case_inputs(path: Path) -> None:
    case_file = load_case_file(path)
    population = [dict(case.inputs) for case in case_file.cases]
    try:
        vectorised.compile_vectorised(case_file.rubric)
    except vectorised.Unsupported:
        pytest.skip("rubric outside the vectorised path")
    assert_agrees(case_file.rubric, population)


def test_rounding_edges_go_to_the_exact_engine() -> None:
    rubric = perfscore.loads_rubric(
        """
        id: edges
        title: 边界
        inputs:
          a: {label: A, kind: number}
          b: {label: B, kind: number}
        derived:
          r: {label: R, formula: a * b / 3, rounding: none}
        indicators:
          - {id: x, name: X, weight: 100, scoring: {method: formula, expression: r}}
        grades:
          - {name: ok, range: "[0, 100]"}
        """
    )
    compiled = perfscore.compile_rubric(rubric)
    population = [{"a": Decimal("0.1"), "b": Decimal(i)} for i in range(1, 200)]
    assert_agrees(compiled, population)


def test_row_groups_are_refused() -> None:
    compiled = perfscore.compile_rubric(
        perfscore.load_rubric(ROOT / "rubrics" / "mof" / "project-self-eval-2020.yaml")
    )
    with pytest.raises(vectorised.Unsupported):
        vectorised.compile_vectorised(compiled)
