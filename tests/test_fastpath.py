"""The compiled fast path: the same results as the full engine, made without its bookkeeping."""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal, localcontext
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

import perfscore
from perfscore._numbers import ENGINE_CONTEXT
from perfscore.loading import load_document
from perfscore.results import ScoreResult

ROOT = Path(__file__).parents[1]
RUBRIC = ROOT / "rubrics" / "shaoyang" / "dept-overall-2023.yaml"
SEED = ROOT / "examples" / "daxiang-emergency-2023" / "inputs.yaml"


def _full_engine(
    compiled: perfscore.CompiledRubric, inputs: dict[str, object], explain: bool
) -> ScoreResult:
    return compiled._score(compiled.validate_inputs(inputs), explain)


def test_fast_result_has_every_field_and_equals_the_full_engine() -> None:
    compiled = perfscore.compile_rubric(perfscore.load_rubric(RUBRIC))
    inputs, _ = load_document(SEED)
    assert compiled._fast is not None
    for explain in (False, True):
        fast = compiled.score(inputs, explain=explain)
        assert set(vars(fast)) >= {f.name for f in dataclasses.fields(ScoreResult)}
        assert fast == _full_engine(compiled, inputs, explain)
        assert fast.total == Decimal("90.00")


def test_generated_source_reads_only_its_own_names() -> None:
    compiled = perfscore.compile_rubric(perfscore.load_rubric(RUBRIC))
    assert compiled._fast is not None
    source: str = compiled._fast.source  # type: ignore[attr-defined]
    assert "import" not in source
    assert set(re.findall(r"__\w+__", source)) <= {"__class__"}
    assert "eval(" not in source
    assert "exec(" not in source


def test_unusual_departments_go_to_the_full_engine() -> None:
    compiled = perfscore.compile_rubric(perfscore.load_rubric(RUBRIC))
    inputs, _ = load_document(SEED)
    inputs = {**inputs, "satisfaction": None}  # not applicable: the full engine moves weight
    result = compiled.score(inputs, explain=False)
    assert result.total == _full_engine(compiled, inputs, False).total == Decimal("90.64")


def _engine_or_error(compiled: perfscore.CompiledRubric, inputs: dict[str, object]) -> object:
    """What the full engine makes of ``inputs``: its result with warnings, or its error."""
    try:
        values = compiled.validate_inputs(inputs)
        with localcontext(ENGINE_CONTEXT):
            result = compiled._score(dict(values), False)
        return compiled._warn(result, values, None)
    except perfscore.PerfscoreError as error:
        return type(error), str(error)


def _fast_or_error(compiled: perfscore.CompiledRubric, inputs: dict[str, object]) -> object:
    try:
        return compiled.score(inputs, explain=False)
    except perfscore.PerfscoreError as error:
        return type(error), str(error)


_EDGES = st.sampled_from(
    [
        Decimal(0),
        Decimal("0E-40"),
        Decimal("1E-31"),
        Decimal("1E-30"),
        Decimal("-0.5"),
        Decimal("0.5"),
        Decimal("0.99"),
        Decimal(1),
        Decimal("1.5"),
        Decimal(100),
        Decimal("100.01"),
        Decimal(-1),
        Decimal("999999999999999"),
        Decimal("1E15"),
        Decimal("NaN"),
        Decimal("Infinity"),
        0,
        1,
        0.5,
        "0.5",
        "95",
        None,
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_fast_path_agrees_with_the_engine_at_every_input_edge(data: st.DataObject) -> None:
    """Inputs at the edges of what the fast test takes as it is (bounds, magnitude, places,
    fractions of one for percents, other types): the same result, warnings included, or the
    same error as the full engine."""
    compiled = _shaoyang()
    inputs, _ = load_document(SEED)
    names = sorted(compiled.input_specs)
    for name in data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=3)):
        inputs = {**inputs, name: data.draw(_EDGES)}
    assert _fast_or_error(compiled, inputs) == _engine_or_error(compiled, inputs)


_COMPILED: list[perfscore.CompiledRubric] = []


def _shaoyang() -> perfscore.CompiledRubric:
    if not _COMPILED:
        _COMPILED.append(perfscore.compile_rubric(perfscore.load_rubric(RUBRIC)))
    return _COMPILED[0]
