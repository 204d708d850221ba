"""Department inputs checked against a rubric's declared inputs, every problem at once.

Each declared input gets a coercer for its kind (number, integer, money, percent, count,
boolean, choice); :func:`validate_inputs` runs them all and reports missing, unknown
(with "did you mean"), wrongly typed and out-of-bounds values in one :class:`InputError`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from ._interval import Interval
from ._numbers import to_str
from ._suggest import did_you_mean
from .errors import InputError, Issue, Location
from .model import InputSpec

Value = Decimal | bool | str
_TRUE_WORDS: Final = {
    "true": True,
    "false": False,
    "是": True,
    "否": False,
    "yes": True,
    "no": False,
}


@dataclass(frozen=True, slots=True)
class InputRule:
    """One declared input and the function that converts a raw value for it."""

    id: str
    spec: InputSpec
    coerce: Callable[[Any], Value]


def _coerce_number(integral: bool) -> Callable[[Any], Value]:
    def coerce(raw: Any) -> Value:
        if isinstance(raw, bool):
            raise ValueError("a number is needed, not true/false")
        if isinstance(raw, Decimal):
            value = raw
        elif isinstance(raw, int):
            value = Decimal(raw)
        elif isinstance(raw, float):
            if not math.isfinite(raw):
                raise ValueError(f"{raw} is not a finite number")
            value = Decimal(repr(raw))
        elif isinstance(raw, str):
            text = raw.strip()
            try:
                value = Decimal(text)
            except InvalidOperation:
                raise ValueError(f"{raw!r} is not a number") from None
        else:
            raise ValueError(f"a number is needed, not {type(raw).__name__}")
        if not value.is_finite():
            raise ValueError(f"{raw} is not a finite number")
        if abs(value) >= Decimal("1e15"):
            raise ValueError(f"{to_str(value)} is implausibly large")
        if integral and value != value.to_integral_value():
            raise ValueError(f"{to_str(value)} is not a whole number")
        return value

    return coerce


def _coerce_boolean(raw: Any) -> Value:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in _TRUE_WORDS:
        return _TRUE_WORDS[raw.strip().lower()]
    raise ValueError(f"true or false is needed, not {raw!r}")


def _coerce_choice(options: tuple[str, ...]) -> Callable[[Any], Value]:
    def coerce(raw: Any) -> Value:
        if isinstance(raw, str) and raw.strip() in options:
            return raw.strip()
        hint = did_you_mean(str(raw), options) if isinstance(raw, str) else None
        raise ValueError(
            f"{raw!r} is not one of {', '.join(map(repr, options))}" + (f"; {hint}" if hint else "")
        )

    return coerce


class RowProblems(ValueError):
    """The rows of a table input have problems, each located in its row."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        super().__init__(f"{len(issues)} problem(s) in rows")
        self.issues = tuple(issues)


def _coerce_text(raw: Any) -> Value:
    if isinstance(raw, str):
        return raw.strip()
    if isinstance(raw, bool) or not isinstance(raw, int | Decimal):
        raise ValueError(f"text is needed, not {type(raw).__name__}")
    return str(raw)


def _coerce_table(input_id: str, columns: Mapping[str, InputSpec]) -> Callable[[Any], Any]:
    rules = [input_rule(name, spec) for name, spec in columns.items()]

    def coerce(raw: Any) -> Any:
        if not isinstance(raw, list | tuple):
            raise ValueError("a list of rows is needed, each a mapping of column to value")
        rows: list[dict[str, Any]] = []
        issues: list[Issue] = []
        for i, row in enumerate(raw):
            if not isinstance(row, Mapping):
                issues.append(
                    Issue(
                        "input.type",
                        f"row {i + 1} of {input_id!r} is not a mapping of column to value",
                        Location(path=(input_id, i)),
                    )
                )
                continue
            try:
                rows.append(validate_inputs(rules, row))
            except InputError as error:
                for issue in error.issues:
                    loc = issue.location
                    where = Location(path=(input_id, i, *loc.path))
                    issues.append(
                        Issue(issue.code, f"row {i + 1}: {issue.message}", where, issue.hint)
                    )
        if issues:
            raise RowProblems(issues)
        return tuple(rows)

    return coerce


def input_rule(input_id: str, spec: InputSpec) -> InputRule:
    coerce: Callable[[Any], Value]
    if spec.kind == "table":
        assert spec.columns is not None
        coerce = _coerce_table(input_id, spec.columns)
    elif spec.kind == "text":
        coerce = _coerce_text
    elif spec.kind == "boolean":
        coerce = _coerce_boolean
    elif spec.kind == "choice":
        assert spec.options is not None
        coerce = _coerce_choice(spec.options)
    else:
        coerce = _coerce_number(spec.kind in ("integer", "count"))
    return InputRule(input_id, spec, coerce)


def validate_inputs(
    rules: Sequence[InputRule],
    inputs: Mapping[str, Any],
    *,
    source: str | None = None,
    missing: object = None,
) -> dict[str, Any]:
    """Check and convert raw inputs; raise :class:`InputError` listing every problem.

    Missing optional inputs without a default are marked not applicable: every value
    and leaf that reads them becomes not applicable.
    """
    values: dict[str, Any] = {}
    issues: list[Issue] = []
    if not isinstance(inputs, Mapping):
        raise InputError(
            [
                Issue(
                    "input.not_mapping",
                    f"inputs must be a mapping of input id to value, not {type(inputs).__name__}",
                    Location(file=source),
                )
            ]
        )
    declared = {rule.id: rule.spec for rule in rules}
    for key in inputs:
        if key not in declared:
            issues.append(
                Issue(
                    "input.unknown",
                    f"unknown input {key!r}",
                    Location(file=source, path=(str(key),)),
                    did_you_mean(str(key), declared)
                    or "the rubric declares: " + ", ".join(declared),
                )
            )
    for rule in rules:
        spec = rule.spec
        raw = inputs.get(rule.id)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if spec.default is not None:
                values[rule.id] = spec.default
            elif spec.required:
                issues.append(
                    Issue(
                        "input.missing",
                        f"missing required input {rule.id!r} ({spec.label})",
                        Location(file=source, path=(rule.id,)),
                        "give a value, or declare a default or 'required: false' in the rubric",
                    )
                )
            else:
                values[rule.id] = missing
            continue
        try:
            value = rule.coerce(raw)
        except RowProblems as e:
            issues.extend(
                Issue(p.code, p.message, Location(file=source, path=p.location.path), p.hint)
                for p in e.issues
            )
            continue
        except ValueError as e:
            issues.append(
                Issue(
                    "input.type",
                    f"input {rule.id!r} ({spec.label}): {e}",
                    Location(file=source, path=(rule.id,)),
                    _kind_hint(spec),
                )
            )
            continue
        if isinstance(value, Decimal):
            low, high = spec.lower_bound, spec.max
            if (low is not None and value < low) or (high is not None and value > high):
                issues.append(
                    Issue(
                        "input.bounds",
                        f"input {rule.id!r} ({spec.label}) is {to_str(value)}, outside "
                        f"{Interval(low, high, low is not None, high is not None)}",
                        Location(file=source, path=(rule.id,)),
                        "check the figure and its unit",
                    )
                )
                continue
        values[rule.id] = value
    if issues:
        raise InputError(issues)
    return values


def _kind_hint(spec: InputSpec) -> str:
    unit = spec.display_unit
    if spec.kind == "boolean":
        return "write true or false"
    if spec.kind == "choice":
        return "one of: " + ", ".join(spec.options or ())
    if spec.kind in ("integer", "count"):
        return "write a whole number"
    return "write a number" + (f" in {unit}" if unit else "")
