"""The compiled fast path: the same results as the full engine, made without its bookkeeping."""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal
from pathlib import Path

import perfscore
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
