"""Exact decimal arithmetic: the engine's context, rounding modes and number parsing."""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Final, Literal

RoundingMode = Literal["half_up", "half_even", "half_down", "up", "down", "ceiling", "floor"]

ROUNDING_MODES: Final[dict[str, str]] = {
    "half_up": decimal.ROUND_HALF_UP,
    "half_even": decimal.ROUND_HALF_EVEN,
    "half_down": decimal.ROUND_HALF_DOWN,
    "up": decimal.ROUND_UP,
    "down": decimal.ROUND_DOWN,
    "ceiling": decimal.ROUND_CEILING,
    "floor": decimal.ROUND_FLOOR,
}

#: Every evaluation runs in this context, whatever the caller's thread has set:
#: 34 significant digits, exponents bounded so that huge powers fail fast, and the
#: signals that mean a bug (division by zero, overflow, invalid operation) raised.
ENGINE_CONTEXT: Final = decimal.Context(
    prec=34,
    rounding=decimal.ROUND_HALF_EVEN,
    Emax=99_999,
    Emin=-99_999,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)

ZERO: Final = Decimal(0)
ONE: Final = Decimal(1)
HUNDRED: Final = Decimal(100)

_QUANTS: dict[int, Decimal] = {}


def quantum(places: int) -> Decimal:
    """``Decimal('0.01')`` for 2 places, ``Decimal('1')`` for 0; cached."""
    q = _QUANTS.get(places)
    if q is None:
        q = _QUANTS[places] = Decimal(1).scaleb(-places)
    return q


def round_decimal(value: Decimal, places: int, mode: str = "half_up") -> Decimal:
    """Round ``value`` to ``places`` decimals with the named mode (``half_up`` by default)."""
    return value.quantize(quantum(places), rounding=ROUNDING_MODES[mode], context=ENGINE_CONTEXT)


def normalize(value: Decimal) -> Decimal:
    """Drop trailing zeros without switching to exponent notation (``5.00`` -> ``5``)."""
    if value == value.to_integral_value():
        return value.quantize(ONE, context=ENGINE_CONTEXT)
    return value.normalize(ENGINE_CONTEXT)


def to_str(value: Decimal) -> str:
    """A plain-notation string for a decimal, never ``1E+2``; its places kept (``5.00``)."""
    # str() is several times faster than format(); it writes plain notation except for
    # positive exponents and very small numbers, which have an E.
    text = str(value)
    return format(value, "f") if "E" in text else text


def to_plain(value: object) -> str:
    """A decimal for reading: plain notation without trailing zeros (``5.50`` -> ``5.5``,
    ``5.00`` -> ``5``, ``1E+2`` -> ``100``). Anything else as ``str()`` writes it."""
    if not isinstance(value, Decimal):
        return str(value)
    text = str(value)
    if "E" in text:
        text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
