"""A result's ``to_dict()`` is JSON for every rubric and every input kind, tables
included, and fits the result schema (``perfscore schema result``)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import jsonschema
from hypothesis import given, settings

from perfscore._numbers import to_str
from perfscore.authoring.schema import result_schema
from perfscore.engine import compile_rubric
from perfscore.errors import PerfscoreError

from .strategies import build_rubric, rubric_with_tables

SCHEMA = jsonschema.Draft202012Validator(result_schema())


def _as_json(value: Any) -> Any:
    """What a value becomes in JSON, written independently of ``to_dict``."""
    if isinstance(value, Decimal):
        return to_str(value)
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_as_json(v) for v in value]
    return value


@settings(max_examples=60, deadline=None)
@given(rubric_with_tables())
def test_to_dict_is_json_for_every_input_kind(case: tuple[dict[str, Any], dict[str, Any]]) -> None:
    data, inputs = case
    compiled = compile_rubric(build_rubric(data))
    try:
        result = compiled.score(inputs)
    except PerfscoreError:  # an evaluation error of a generated formula is not this test's
        return
    for explanations in (True, False):
        out = result.to_dict(explanations=explanations)
        text = json.dumps(out, ensure_ascii=False, allow_nan=False)
        assert json.loads(text) == out
        SCHEMA.validate(out)
    out = result.to_dict()
    assert out["values"]["t"] == _as_json(result.values["t"])
    assert all(isinstance(row, dict) for row in out["values"]["t"])
    assert out["values"]["m"] == to_str(result.values["m"])
    assert out["total"] == to_str(result.total)
    rows = [node for node in out["indicators"] if node["parent"] == "rows"]
    assert [node["name"] for node in rows] == [row["name"].strip() for row in inputs["t"]]
    assert sum(Decimal(node["score"]) for node in out["indicators"] if not node["children"]) == (
        result.unrounded_total
    )
