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
from .errors import Problem

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
            raise Problem("interval.lower_infinite", end=repr(text.strip()))
        if which == "upper" and not positive:
            raise Problem("interval.upper_infinite", end=repr(text.strip()))
        return None
    try:
        value = Decimal(t)
    except InvalidOperation:
        raise Problem(f"interval.{which}_not_number", end=repr(text)) from None
    if not value.is_finite():
        raise Problem(f"interval.{which}_not_finite", end=repr(text))
    return value


def parse_interval(text: str) -> Interval:
    """Parse ``"[80, 90)"``; raise ValueError with a sentence saying what is wrong."""
    match = _PATTERN.match(text)
    if not match:
        raise Problem("interval.syntax", text=repr(text))
    left, lo_text, hi_text, right = match.groups()
    lower = _number(lo_text, "lower")
    upper = _number(hi_text, "upper")
    include_lower = left in "[［"
    include_upper = right in "]］"
    if lower is None and include_lower:
        raise Problem("interval.lower_unbounded", text=repr(text))
    if upper is None and include_upper:
        raise Problem("interval.upper_unbounded", text=repr(text))
    interval = Interval(lower, upper, include_lower, include_upper)
    if interval.is_empty():
        reason = (
            "interval.reversed"
            if lower is not None and upper is not None and lower > upper
            else "interval.point_excluded"
        )
        raise Problem(reason, text=repr(text))
    return interval


def interval_from_mapping(data: dict[str, Any]) -> Interval:
    """Build an interval from ``range`` / ``equals`` / ``from``+``to`` keys (consumed)."""
    forms = [k for k in ("range", "equals") if k in data]
    explicit = [k for k in ("from", "to", "include_from", "include_to") if k in data]
    if len(forms) + (1 if explicit else 0) > 1:
        raise Problem("interval.one_way")
    if "range" in data:
        value = data.pop("range")
        if isinstance(value, Interval):
            return value
        if not isinstance(value, str):
            raise Problem("interval.range_text")
        return parse_interval(value)
    if "equals" in data:
        point = _as_decimal(data.pop("equals"), "equals")
        return Interval(point, point, True, True)
    if not explicit:
        raise Problem("interval.missing")
    lower = _as_decimal(data.pop("from"), "from") if "from" in data else None
    upper = _as_decimal(data.pop("to"), "to") if "to" in data else None
    inc_lower = data.pop("include_from", None)
    inc_upper = data.pop("include_to", None)
    if lower is not None and not isinstance(inc_lower, bool):
        raise Problem("interval.include_from", end=to_str(lower))
    if upper is not None and not isinstance(inc_upper, bool):
        raise Problem("interval.include_to", end=to_str(upper))
    if lower is None and inc_lower is not None:
        raise Problem("interval.include_from_alone")
    if upper is None and inc_upper is not None:
        raise Problem("interval.include_to_alone")
    interval = Interval(lower, upper, bool(inc_lower), bool(inc_upper))
    if interval.is_empty():
        raise Problem("interval.empty", interval=str(interval))
    return interval


def _as_decimal(value: object, key: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str | float):
        raise Problem("interval.key_number", key=key)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise Problem("interval.key_not_number", key=key, value=repr(value)) from None
    if not number.is_finite():
        raise Problem("interval.key_finite", key=key)
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
