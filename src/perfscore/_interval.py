"""Intervals with explicit ends: ``[80, 90)``, ``(0, 10]``, ``[90, +∞)``, or an exact value.

A rubric writes an interval either as a string in the usual notation (``range: "[80, 90)"``;
``[`` / ``]`` include an end, ``(`` / ``)`` exclude it; ``∞``/``inf`` for no bound) or as
explicit keys (``from``, ``include_from``, ``to``, ``include_to``), or as ``equals: 0``.
Each given end must say whether it is included: nothing is assumed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ._numbers import to_str

_INFINITE = {"", "∞", "+∞", "-∞", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}
_PATTERN = re.compile(r"^\s*([\[(［（])\s*([^,，]*?)\s*[,，]\s*([^,，]*?)\s*([\])］）])\s*$")


@dataclass(frozen=True, slots=True)
class Interval:
    """A set of numbers between two ends; ``None`` for an end means unbounded."""

    lower: Decimal | None
    upper: Decimal | None
    include_lower: bool = True
    include_upper: bool = True

    def __contains__(self, x: object) -> bool:
        if not isinstance(x, Decimal | int):
            return False
        if self.lower is not None and (
            x < self.lower or (x == self.lower and not self.include_lower)
        ):
            return False
        return not (
            self.upper is not None
            and (x > self.upper or (x == self.upper and not self.include_upper))
        )

    @property
    def is_point(self) -> bool:
        return self.lower is not None and self.lower == self.upper

    def is_empty(self) -> bool:
        if self.lower is None or self.upper is None:
            return False
        if self.lower > self.upper:
            return True
        return self.lower == self.upper and not (self.include_lower and self.include_upper)

    def overlaps(self, other: Interval) -> bool:
        """True when some number lies in both intervals."""
        lo, lo_inc = _max_lower(self, other)
        hi, hi_inc = _min_upper(self, other)
        if lo is None or hi is None:
            return True
        return lo < hi or (lo == hi and lo_inc and hi_inc)

    def __str__(self) -> str:
        if self.is_point and self.include_lower and self.include_upper:
            assert self.lower is not None
            return f"={to_str(self.lower)}"
        left = "[" if self.include_lower and self.lower is not None else "("
        right = "]" if self.include_upper and self.upper is not None else ")"
        lo = "-∞" if self.lower is None else to_str(self.lower)
        hi = "+∞" if self.upper is None else to_str(self.upper)
        return f"{left}{lo}, {hi}{right}"

    def notation(self) -> str:
        """The ``range`` string that reads back as this interval."""
        left = "[" if self.include_lower and self.lower is not None else "("
        right = "]" if self.include_upper and self.upper is not None else ")"
        lo = "-∞" if self.lower is None else to_str(self.lower)
        hi = "+∞" if self.upper is None else to_str(self.upper)
        return f"{left}{lo}, {hi}{right}"


def _max_lower(a: Interval, b: Interval) -> tuple[Decimal | None, bool]:
    if a.lower is None:
        return b.lower, b.include_lower
    if b.lower is None or a.lower > b.lower:
        return a.lower, a.include_lower
    if b.lower > a.lower:
        return b.lower, b.include_lower
    return a.lower, a.include_lower and b.include_lower


def _min_upper(a: Interval, b: Interval) -> tuple[Decimal | None, bool]:
    if a.upper is None:
        return b.upper, b.include_upper
    if b.upper is None or a.upper < b.upper:
        return a.upper, a.include_upper
    if b.upper < a.upper:
        return b.upper, b.include_upper
    return a.upper, a.include_upper and b.include_upper


def _number(text: str, which: str) -> Decimal | None:
    t = text.strip().lower().replace("％", "%").rstrip("%").strip()
    if t in _INFINITE:
        positive = not t.startswith("-")
        if t and which == "lower" and positive and t.startswith("+"):
            raise ValueError(f"the lower end cannot be {text.strip()!r}: write '-∞'")
        if which == "upper" and not positive:
            raise ValueError(f"the upper end cannot be {text.strip()!r}: write '+∞'")
        return None
    try:
        value = Decimal(t)
    except InvalidOperation:
        raise ValueError(f"{which} end {text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{which} end {text!r} is not a finite number")
    return value


def parse_interval(text: str) -> Interval:
    """Parse ``"[80, 90)"``; raise ValueError with a sentence saying what is wrong."""
    match = _PATTERN.match(text)
    if not match:
        raise ValueError(
            f"{text!r} is not an interval: write it like '[80, 90)' "
            "('[' or ']' includes an end, '(' or ')' excludes it, '∞' for no bound)"
        )
    left, lo_text, hi_text, right = match.groups()
    lower = _number(lo_text, "lower")
    upper = _number(hi_text, "upper")
    include_lower = left in "[［"
    include_upper = right in "]］"
    if lower is None and include_lower:
        raise ValueError(f"{text!r}: an unbounded lower end cannot be included; write '(-∞, ...'")
    if upper is None and include_upper:
        raise ValueError(f"{text!r}: an unbounded upper end cannot be included; write '..., +∞)'")
    interval = Interval(lower, upper, include_lower, include_upper)
    if interval.is_empty():
        reason = (
            "its lower end is above its upper end"
            if lower is not None and upper is not None and lower > upper
            else "its ends are equal and not both included"
        )
        raise ValueError(f"{text!r} is empty: {reason}")
    return interval


def interval_from_mapping(data: dict[str, Any]) -> Interval:
    """Build an interval from ``range`` / ``equals`` / ``from``+``to`` keys (consumed)."""
    forms = [k for k in ("range", "equals") if k in data]
    explicit = [k for k in ("from", "to", "include_from", "include_to") if k in data]
    if len(forms) + (1 if explicit else 0) > 1:
        raise ValueError("give the interval one way: 'range', 'equals', or 'from'/'to'")
    if "range" in data:
        value = data.pop("range")
        if isinstance(value, Interval):
            return value
        if not isinstance(value, str):
            raise ValueError("'range' must be a string like '[80, 90)'")
        return parse_interval(value)
    if "equals" in data:
        point = _as_decimal(data.pop("equals"), "equals")
        return Interval(point, point, True, True)
    if not explicit:
        raise ValueError(
            "no interval given: add 'range' (e.g. '[80, 90)'), 'equals', or 'from'/'to'"
        )
    lower = _as_decimal(data.pop("from"), "from") if "from" in data else None
    upper = _as_decimal(data.pop("to"), "to") if "to" in data else None
    inc_lower = data.pop("include_from", None)
    inc_upper = data.pop("include_to", None)
    if lower is not None and not isinstance(inc_lower, bool):
        raise ValueError(
            f"say whether {to_str(lower)} is included: add include_from: true or false"
        )
    if upper is not None and not isinstance(inc_upper, bool):
        raise ValueError(f"say whether {to_str(upper)} is included: add include_to: true or false")
    if lower is None and inc_lower is not None:
        raise ValueError("include_from given without from")
    if upper is None and inc_upper is not None:
        raise ValueError("include_to given without to")
    interval = Interval(lower, upper, bool(inc_lower), bool(inc_upper))
    if interval.is_empty():
        raise ValueError(f"interval {interval} is empty")
    return interval


def _as_decimal(value: object, key: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str | float):
        raise ValueError(f"'{key}' must be a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"'{key}' must be a number, not {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"'{key}' must be a finite number")
    return number


def python_test(interval: Interval, x: str, const: Callable[[Decimal], str]) -> str:
    """Python source testing whether the number named ``x`` lies in ``interval``; ``const``
    names a constant in the generated code."""
    parts = []
    if interval.lower is not None:
        parts.append(f"{x} {'>=' if interval.include_lower else '>'} {const(interval.lower)}")
    if interval.upper is not None:
        parts.append(f"{x} {'<=' if interval.include_upper else '<'} {const(interval.upper)}")
    return "(" + (" and ".join(parts) or "True") + ")"
