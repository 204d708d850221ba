"""Warnings about a rubric that loads and compiles but says something it likely does not
mean. ``perfscore validate`` prints them after its summary; they never fail a load.

=========================  ==========================================================
code                       what
=========================  ==========================================================
``rubric.unused_input``    a required input that nothing reads (no derived value,
                           indicator, row group, grade cap or check): every department
                           must still supply it, and the input template asks for it
=========================  ==========================================================
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from perfscore.errors import Issue, Location
from perfscore.model import Rubric

__all__ = ["lint_rubric", "unused_inputs"]

_WORD: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _words(data: Any) -> Iterator[str]:
    if isinstance(data, str):
        yield from _WORD.findall(data)
    elif isinstance(data, Mapping):
        for value in data.values():
            yield from _words(value)
    elif isinstance(data, list | tuple):
        for value in data:
            yield from _words(value)


def unused_inputs(rubric: Rubric) -> list[str]:
    """The ids of required inputs (no default) that no part of the rubric reads, in
    declared order. An optional input nobody reads asks nothing of a department."""
    data = rubric.model_dump(mode="json", by_alias=True, exclude={"inputs"})
    read = set(_words({k: data[k] for k in ("derived", "indicators", "grade_caps", "checks")}))
    return [
        name
        for name, spec in rubric.inputs.items()
        if name not in read and spec.required and spec.default is None
    ]


def lint_rubric(rubric: Rubric) -> list[Issue]:
    """Every warning about ``rubric`` (see the module docs), each at its place in the file
    when the rubric was loaded from one."""
    source = rubric._source
    issues = []
    for name in unused_inputs(rubric):
        path = ("inputs", name)
        location = source.locate(path, key=True) if source is not None else Location(path=path)
        issue = Issue.of("rubric.unused_input", location, input=name)
        issues.append(dataclasses.replace(issue, severity="warning"))
    return issues
