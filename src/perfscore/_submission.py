"""What a department's inputs carry besides its figures: who it is, what it claims, what a
reviewer decided, what people judged.

An inputs file is a mapping of input id to value, and four reserved sections beside them::

    unit:       {name: 邵阳市大祥区应急管理局, code: "431202", year: 2023,
                 filled_by: 张三, filled_on: 2024-03-10}
    claimed:    {staff_control: 3, sangong_change: 3, total: 90, grade: 良好}
    overrides:  {budget_done: {score: 6, reason: 追加预算系上级交办, by: 李四, date: 2024-04-02}}
    judged:     {goal_reasonable: 1.5, satisfaction: {专家1: 8, 专家2: 9, 专家3: 7.5}}

A table of departments (CSV, XLSX, JSONL) writes the same with dotted column names:
``unit.name``, ``claimed.staff_control``, ``claimed.total``, ``overrides.budget_done.score``,
``overrides.budget_done.reason``, ``judged.goal_reasonable``, ``judged.satisfaction.专家1``.

:func:`split_submission` separates the sections from the figures; :func:`parse_unit` and
:func:`parse_claims` check the two sections that need no rubric. Overrides and judged
scores are checked by the engine, which knows each indicator's weight.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any, Final, NamedTuple

from ._numbers import to_str
from .errors import Issue, Location

__all__ = [
    "SECTIONS",
    "UNIT_FIELDS",
    "Claims",
    "Submission",
    "parse_claims",
    "parse_number",
    "parse_unit",
    "plain_sections",
    "split_submission",
]

#: The reserved sections of an inputs file, in the order they are documented.
SECTIONS: Final = ("unit", "claimed", "overrides", "judged")
#: The fields of ``unit:``: the unit's name, its code, the year evaluated, who filled the
#: form and when.
UNIT_FIELDS: Final = ("name", "code", "year", "filled_by", "filled_on")
#: Keys of ``claimed:`` that are not indicator ids.
CLAIM_TOTAL: Final = "total"
CLAIM_GRADE: Final = "grade"
_SECTION_SET: Final = frozenset(SECTIONS)


@dataclass(frozen=True)
class Submission:
    """The reserved sections of one department's inputs, as written (checked later)."""

    unit: Any = None
    claimed: Any = None
    overrides: Any = None
    judged: Any = None

    @property
    def empty(self) -> bool:
        return all(getattr(self, s) is None for s in SECTIONS)


class Claims(NamedTuple):
    """A department's own scores: per indicator (leaf or branch), its total and grade.
    Immutable (a named tuple: one is made per department reviewed)."""

    scores: Mapping[str, Decimal] = MappingProxyType({})
    total: Decimal | None = None
    grade: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: to_str(v) for k, v in self.scores.items()}
        if self.total is not None:
            out[CLAIM_TOTAL] = to_str(self.total)
        if self.grade is not None:
            out[CLAIM_GRADE] = self.grade
        return out


def _set_dotted(target: dict[str, Any], parts: list[str], value: Any) -> None:
    node = target
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def split_submission(inputs: Mapping[str, Any]) -> tuple[dict[str, Any], Submission]:
    """The figures of ``inputs`` and its reserved sections, each section either written
    whole (``claimed: {...}``) or as dotted keys (``claimed.total``); an empty dotted cell
    of a table says nothing."""
    marked = [k for k in _SECTION_SET if k in inputs]
    try:  # one scan in C for a dot in any key; the keys are looked at one by one only then
        dotted = "." in "\n".join(inputs)
    except TypeError:  # a key that is not text
        dotted = True
    if dotted:
        marked += [
            k
            for k in inputs
            if k.__class__ is str and "." in k and k.partition(".")[0] in _SECTION_SET
        ]
    if not marked:
        return dict(inputs), Submission()
    figures = dict(inputs)
    for k in marked:
        del figures[k]
    marked.sort(key=lambda k: (k.partition(".")[0], "." in k))  # whole sections first
    sections: dict[str, Any] = {}
    for key in marked:
        value = inputs[key]
        head, _, rest = key.partition(".")
        if not rest:
            if isinstance(value, Mapping) and isinstance(sections.get(head), dict):
                sections[head].update(value)
            else:
                sections[head] = dict(value) if isinstance(value, Mapping) else value
        elif value is not None and not (isinstance(value, str) and not value.strip()):
            section = sections.setdefault(head, {})
            if isinstance(section, dict):
                # a judged panel's judge names may hold dots: only the id is split off
                parts = rest.split(".", 1) if head == "judged" else rest.split(".")
                _set_dotted(section, parts, value)
    return figures, Submission(**sections)


def plain_sections(inputs: Mapping[str, Any]) -> bool:
    """Whether ``inputs`` holds no dotted section keys and neither ``overrides`` nor
    ``judged``: its figures can be scored as they stand, beside ``unit`` and ``claimed``."""
    if "overrides" in inputs or "judged" in inputs:
        return False
    try:  # one scan in C for a dot in any key
        return "." not in "\n".join(inputs)
    except TypeError:  # a key that is not text
        return False


def parse_number(raw: Any) -> Decimal | None:
    """A finite number from an int, Decimal, finite float or plain numeric text, or None."""
    if raw.__class__ is Decimal:
        return raw if raw.is_finite() else None
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, Decimal):
        return raw if raw.is_finite() else None
    if isinstance(raw, float):
        return Decimal(repr(raw)) if math.isfinite(raw) else None
    if isinstance(raw, str) and 0 < len(raw.strip()) <= 40:
        try:
            value = Decimal(raw.strip())
        except InvalidOperation:
            return None
        return value if value.is_finite() else None
    return None


def _text(raw: Any) -> str | None:
    if raw.__class__ is str:
        return raw.strip() or None
    if raw is None:
        return None
    if isinstance(raw, datetime.date):
        return raw.isoformat()
    if isinstance(raw, Decimal):
        return to_str(raw)
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        return None
    text = str(raw).strip()
    return text or None


def parse_unit(raw: Any, source: str | None = None) -> tuple[dict[str, str], list[Issue]]:
    """The ``unit:`` section as text fields, and its problems."""
    if raw is None:
        return {}, []
    if not isinstance(raw, Mapping):
        return {}, [Issue.of("unit.not_mapping", Location(file=source, path=("unit",)))]
    out: dict[str, str] = {}
    issues: list[Issue] = []
    for key, value in raw.items():
        if key not in UNIT_FIELDS:
            issues.append(
                Issue.of(
                    "unit.unknown",
                    Location(file=source, path=("unit", str(key))),
                    key=str(key),
                    fields=", ".join(UNIT_FIELDS),
                )
            )
            continue
        text = _text(value)
        if text is None and value is not None:
            issues.append(Issue.of("unit.type", Location(file=source, path=("unit", key)), key=key))
        elif text is not None:
            out[key] = text[:500]
    return out, issues


_DECIMAL_ONLY: Final = frozenset({Decimal})
_TEXT_ONLY: Final = frozenset({str})


def _finite_sum(values: Any) -> bool:
    """Whether every one of some Decimals is finite (their sum is; a NaN raises)."""
    try:
        return bool(sum(values, Decimal(0)).is_finite())
    except ArithmeticError:
        return False


def parse_claims(raw: Any, source: str | None = None) -> tuple[Claims | None, list[Issue]]:
    """The ``claimed:`` section: scores by indicator id, ``total`` and ``grade``. A score
    that is not a number is an issue; a negative one, or one of an unknown indicator, is
    kept: finding those is what a review is for."""
    if raw is None:
        return None, []
    if not isinstance(raw, Mapping):
        return None, [Issue.of("claimed.not_mapping", Location(file=source, path=("claimed",)))]
    scores: dict[str, Decimal] = {}
    total: Decimal | None = None
    grade: str | None = None
    issues: list[Issue] = []
    plain = dict(raw)
    text_grade = plain.pop(CLAIM_GRADE, None)
    # The common case, text keys and finite Decimals as read from YAML or JSON, is
    # checked in C (types by set, finiteness by the sum) and taken as it stands.
    if (
        (text_grade is None or text_grade.__class__ is str)
        and set(map(type, plain.values())) <= _DECIMAL_ONLY
        and set(map(type, plain)) <= _TEXT_ONLY
        and _finite_sum(plain.values())
    ):
        total = plain.pop(CLAIM_TOTAL, None)
        grade = _text(text_grade) if text_grade is not None else None
        return Claims(MappingProxyType(plain), total, grade), []
    for key, value in raw.items():
        if value.__class__ is Decimal and key.__class__ is str and value.is_finite():
            if key == CLAIM_TOTAL:  # the common case first: a number, as read from YAML
                total = value
                continue
            if key != CLAIM_GRADE:
                scores[key] = value
                continue
        name = str(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if name == CLAIM_GRADE:
            grade = _text(value)
            continue
        number = parse_number(value)
        if number is None:
            where = Location(file=source, path=("claimed", name))
            shown = value if isinstance(value, str) else type(value).__name__
            issues.append(Issue.of("claimed.type", where, key=name, value=str(shown)[:40]))
        elif name == CLAIM_TOTAL:
            total = number
        else:
            scores[name] = number
    return Claims(MappingProxyType(scores), total, grade), issues
