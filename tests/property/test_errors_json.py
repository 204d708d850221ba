"""Errors as data: ``Issue.to_dict`` and ``PerfscoreError.to_dict`` are JSON for any issue,
say the same as the objects, and fit the error schema (``perfscore schema error``)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import jsonschema
from hypothesis import given
from hypothesis import strategies as st

from perfscore import (
    EvaluationError,
    FormulaError,
    InputError,
    Issue,
    PerfscoreError,
    RubricSyntaxError,
    RubricValidationError,
)
from perfscore._numbers import to_str
from perfscore.authoring.schema import error_schema

from .strategies import issues

SCHEMA = jsonschema.Draft202012Validator(error_schema())
CLASSES = [
    PerfscoreError,
    RubricSyntaxError,
    RubricValidationError,
    FormulaError,
    InputError,
    EvaluationError,
]


def _expected(value: Any) -> Any:
    """A parameter as JSON, written independently of the code under test."""
    if isinstance(value, Decimal):
        return to_str(value)
    if isinstance(value, dict):
        return {k: _expected(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_expected(v) for v in value]
    return value


@given(issues())
def test_an_issue_as_data_says_what_the_issue_says(issue: Issue) -> None:
    data = issue.to_dict()
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert (data["code"], data["severity"], data["message"], data["hint"]) == (
        issue.code,
        issue.severity,
        issue.message,
        issue.hint,
    )
    loc = issue.location
    assert data["location"] == {
        "file": loc.file,
        "line": loc.line,
        "column": loc.column,
        "path": list(loc.path),
    }
    assert data["params"] == _expected(dict(issue.params))
    assert issue.to_dict(severity="warning")["severity"] == "warning"


@given(st.lists(issues(), min_size=1, max_size=4), st.sampled_from(CLASSES))
def test_an_error_as_data_lists_every_issue_in_order(
    found: list[Issue], cls: type[PerfscoreError]
) -> None:
    error = cls(found)
    data = error.to_dict()
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    SCHEMA.validate(data)
    assert data["type"] == cls.__name__
    assert data["code"] == cls.default_code
    assert data["message"] == str(error)
    assert data["issues"] == [issue.to_dict() for issue in found]
