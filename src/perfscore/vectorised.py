"""The vectorised path: a whole population scored at once with numpy, exactly.

:func:`compile_vectorised` turns a compiled rubric (its own internal form: formula IR,
scoring methods, rounding, grade bands) into a scorer of columns. Numbers travel in two
forms at once:

* **fixed point**: int64 units of ``10**-places`` (``95.10`` is ``9510`` at 2 places),
  exact, used whenever a value is a decimal on a known grid (inputs, rounded values,
  constants, sums and differences of those);
* **float64**, for what cannot stay on a grid (quotients, products of fractions).

Every decision taken from a float (a rounding, a comparison, a floor) is checked against
its nearest edge: where the float is within a small margin of the edge the row is marked
*uncertain*. Uncertain rows, and rows the fast form does not cover (a missing or invalid
input, a value not applicable, a division by zero, a grade cap that applies), are scored
again by the exact row engine and its result replaces theirs. So the vectorised path
agrees exactly with the row engine, decimal rounding and band ends included, and the
tests check it on golden cases and large random populations.

numpy is an optional dependency (``pip install perfscore[vector]``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import PerfscoreError
from .formula import Binary, BoolOp, Call, Compare, Const, IfElse, Name, Unary
from .methods import Bands, Cases, Checklist, Deduction, FormulaMethod, Levels, Proportional

if TYPE_CHECKING:
    from .engine import CompiledRubric
    from .results import ScoreResult

__all__ = [
    "Columns",
    "VectorResult",
    "VectorisedScorer",
    "columns_from_records",
    "compile_vectorised",
]

#: Relative margin around an edge inside which a float decision is not trusted.
TOLERANCE = 1e-9
MAX_PLACES = 6
SAFE_UNITS = 2**53  # fixed-point values stay below this, so products and floats stay exact

Array = Any  # numpy arrays; numpy's own typing is too loose to help here


class Unsupported(Exception):
    """The rubric uses something the vectorised path does not compile."""


# --------------------------------------------------------------------------- columns


@dataclass
class Columns:
    """A population as columns: ``rows`` departments, one array per input.

    Numbers are float64 arrays with, where every value is a decimal with at most
    :data:`MAX_PLACES` places, exact int64 ``units`` at ``places``; booleans are bool
    arrays; choices are int codes (index into the input's options, -1 when unknown).
    ``invalid`` marks rows with a missing or unusable value: the row engine scores those.
    ``records`` keeps the original rows, for the row engine.
    """

    rows: int
    floats: dict[str, Array] = field(default_factory=dict)
    units: dict[str, tuple[Array, int]] = field(default_factory=dict)
    bools: dict[str, Array] = field(default_factory=dict)
    codes: dict[str, Array] = field(default_factory=dict)
    invalid: Array = None
    records: Sequence[Mapping[str, Any]] = ()


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def columns_from_records(records: Sequence[Mapping[str, Any]], compiled: CompiledRubric) -> Columns:
    """Turn department dicts (as given to ``score``) into :class:`Columns`."""
    n = len(records)
    cols = Columns(rows=n, invalid=np.zeros(n, dtype=bool), records=records)
    declared = set(compiled.rubric.inputs)
    for i, record in enumerate(records):
        if not declared.issuperset(record):
            cols.invalid[i] = True
    for name, spec in compiled.rubric.inputs.items():
        raw = [r.get(name) for r in records]
        if spec.kind == "boolean":
            arr = np.zeros(n, dtype=bool)
            for i, x in enumerate(raw):
                if x is True or x is False:
                    arr[i] = x
                else:
                    cols.invalid[i] = True
            cols.bools[name] = arr
        elif spec.kind == "choice":
            index = {o: k for k, o in enumerate(spec.options or ())}
            arr = np.array(
                [index.get(x, -1) if isinstance(x, str) else -1 for x in raw], dtype=np.int64
            )
            cols.invalid |= arr < 0
            cols.codes[name] = arr
        elif spec.kind in ("text", "table"):
            cols.invalid[:] = True  # not vectorised: the row engine scores every row
        else:
            floats = np.empty(n, dtype=np.float64)
            decimals: list[Decimal | None] = []
            for i, x in enumerate(raw):
                value: Decimal | None
                if isinstance(x, Decimal):
                    value = x
                elif isinstance(x, int) and not isinstance(x, bool):
                    value = Decimal(x)
                else:
                    value = None
                if value is None or not value.is_finite():
                    cols.invalid[i] = True
                    value = None
                decimals.append(value)
                floats[i] = float(value) if value is not None else 0.0
            low, high = spec.lower_bound, spec.max
            if low is not None:
                cols.invalid |= floats < float(low) - 1e-9 * max(1.0, abs(float(low)))
            if high is not None:
                cols.invalid |= floats > float(high) + 1e-9 * max(1.0, abs(float(high)))
            # Exact bound checks near the edges are left to the row engine: mark those rows.
            for bound in (low, high):
                if bound is not None:
                    near = np.abs(floats - float(bound)) <= 1e-9 * max(1.0, abs(float(bound)))
                    cols.invalid |= near & np.array(
                        [d is None or (d < bound if bound is low else d > bound) for d in decimals]
                    )
            cols.floats[name] = floats
            places = max((_places(d) for d in decimals if d is not None), default=0)
            if places <= MAX_PLACES:
                scale = Decimal(10) ** places
                units = [int(d * scale) if d is not None else 0 for d in decimals]
                if all(abs(u) < SAFE_UNITS for u in units):
                    cols.units[name] = (np.array(units, dtype=np.int64), places)
            if spec.kind in ("integer", "count"):
                cols.invalid |= floats != np.floor(floats)
    return cols


# --------------------------------------------------------------------------- values


@dataclass
class _Num:
    """A numeric vector: float64 always, exact fixed point when ``units`` is set."""

    f: Array
    units: Array | None = None
    places: int = 0
    #: An exact quotient ``num / den`` (den > 0), when the value came from dividing
    #: fixed-point values; rounding it is then exact integer arithmetic.
    ratio: tuple[Array, Array] | None = None

    @staticmethod
    def const(value: Decimal, n: int) -> _Num:
        """A constant: 0-d arrays, which numpy broadcasts against the columns."""
        places = _places(value)
        f = np.array(float(value))
        if places <= MAX_PLACES:
            u = int(value.scaleb(places))
            if abs(u) < SAFE_UNITS:
                return _Num(f, np.array(u, dtype=np.int64), places)
        return _Num(f)

    def at(self, places: int) -> Array:
        """Units at ``places`` (which must be >= self.places)."""
        assert self.units is not None
        return self.units * (10 ** (places - self.places)) if places > self.places else self.units


@dataclass
class _State:
    n: int
    uncertain: Array
    fail: Array


def _exact_pair(a: _Num, b: _Num) -> tuple[Array, Array, int] | None:
    if a.units is None or b.units is None:
        return None
    places = max(a.places, b.places)
    ua, ub = a.at(places), b.at(places)
    if (
        places > MAX_PLACES
        or np.abs(ua).max(initial=0) >= SAFE_UNITS
        or np.abs(ub).max(initial=0) >= SAFE_UNITS
    ):
        return None
    return ua, ub, places


def _near(a: Array, b: Array) -> Array:
    return np.abs(a - b) <= TOLERANCE * np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))


def _compare(op: str, a: _Num, b: _Num, state: _State, active: Array) -> Array:
    exact = _exact_pair(a, b)
    left, right = (exact[0], exact[1]) if exact else (a.f, b.f)
    result = {
        "<": np.less,
        "<=": np.less_equal,
        ">": np.greater,
        ">=": np.greater_equal,
        "==": np.equal,
        "!=": np.not_equal,
    }[op](left, right)
    if exact is None:
        state.uncertain |= active & _near(a.f, b.f)
    return result


def _quantize(v: _Num, places: int, mode: str, state: _State, active: Array) -> _Num:
    """Round to ``places`` decimals like ``Decimal.quantize`` with ``mode``."""
    if v.units is not None and v.places <= places:
        units = v.at(places)
        return _Num(units / float(10**places), units, places)
    if v.units is not None:
        units = _round_units(v.units, 10 ** (v.places - places), mode)
        return _Num(units / float(10**places), units, places)
    if v.ratio is not None:
        num, den = v.ratio
        scaled = num * 10**places
        if _small(scaled):
            units = _round_ratio(scaled, den, mode)
            return _Num(units / float(10**places), units, places)
    y = v.f * float(10**places)
    ay = np.abs(y)
    base = np.floor(ay)
    frac = ay - base
    if mode in ("half_up", "half_even", "half_down"):
        edge = np.abs(frac - 0.5) <= TOLERANCE * np.maximum(1.0, ay)
        if mode == "half_up":
            rounded = np.floor(ay + 0.5)
        elif mode == "half_down":
            rounded = np.ceil(ay - 0.5)
        else:
            rounded = np.round(ay)
    else:
        edge = (frac <= TOLERANCE * np.maximum(1.0, ay)) | (
            1 - frac <= TOLERANCE * np.maximum(1.0, ay)
        )
        away = {"up": True, "down": False}.get(mode)
        if away is None:  # ceiling / floor depend on the sign
            rounded = np.where((y >= 0) == (mode == "ceiling"), np.ceil(ay), base)
        else:
            rounded = np.ceil(ay) if away else base
    state.uncertain |= active & edge
    units = (np.sign(y) * rounded).astype(np.int64)
    state.fail |= active & (ay >= SAFE_UNITS)
    return _Num(units / float(10**places), units, places)


def _round_ratio(num: Array, den: Array, mode: str) -> Array:
    """Exact rounding of ``num / den`` (den > 0) to a whole number of units."""
    sign = np.sign(num)
    q, r = np.divmod(np.abs(num), den)
    twice = 2 * r
    if mode == "half_up":
        up = twice >= den
    elif mode == "half_down":
        up = twice > den
    elif mode == "half_even":
        up = (twice > den) | ((twice == den) & (q % 2 == 1))
    elif mode == "up":
        up = r > 0
    elif mode == "down":
        up = np.zeros_like(r, dtype=bool)
    elif mode == "ceiling":
        up = (r > 0) & (sign > 0)
    else:
        up = (r > 0) & (sign < 0)
    return sign * (q + up.astype(np.int64))


def _round_units(units: Array, step: int, mode: str) -> Array:
    """Exact integer rounding of ``units`` to a multiple of ``step`` (returned divided)."""
    return _round_ratio(units, np.int64(step), mode)


# --------------------------------------------------------------------------- formulas


class _Evaluator:
    def __init__(
        self,
        cols: Columns,
        derived: Mapping[str, Any],
        state: _State,
        scorer: VectorisedScorer,
    ) -> None:
        self.cols = cols
        self.values = derived
        self.state = state
        self.n = cols.rows
        self.options = scorer.options
        self.symbols = scorer.compiled._symbols
        self.formula_cache = scorer.formula_cache

    def name(self, ident: str) -> Any:
        if ident in self.values:
            return self.values[ident]
        cols = self.cols
        if ident in cols.bools:
            return cols.bools[ident]
        if ident in cols.codes:
            return ("code", ident, cols.codes[ident])
        if ident in cols.units:
            units, places = cols.units[ident]
            return _Num(cols.floats[ident], units, places)
        if ident in cols.floats:
            return _Num(cols.floats[ident])
        raise Unsupported(f"name {ident!r}")

    def eval(self, expr: Any, active: Array) -> Any:
        n, state = self.n, self.state
        if isinstance(expr, Const):
            value = expr.value
            if isinstance(value, bool):
                return np.full(n, value)
            if isinstance(value, str):
                return ("text", value)
            return _Num.const(value, n)
        if isinstance(expr, Name):
            return self.name(expr.id)
        if isinstance(expr, Unary):
            x = self.eval(expr.operand, active)
            if expr.op == "not":
                return ~x
            if expr.op == "-":
                return _Num(-x.f, None if x.units is None else -x.units, x.places)
            return x
        if isinstance(expr, Binary):
            a, b = self.eval(expr.left, active), self.eval(expr.right, active)
            op = expr.op
            if op in ("+", "-"):
                exact = _exact_pair(a, b)
                f = a.f + b.f if op == "+" else a.f - b.f
                if exact:
                    u = exact[0] + exact[1] if op == "+" else exact[0] - exact[1]
                    return _Num(f, u, exact[2])
                return _Num(f)
            if op == "*":
                return _mul(a, b)
            if op == "/":
                return _div(a, b, state, active)
            # power: whole exponents only (checked at load); floats, never exact
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                f = np.power(a.f, b.f)
            state.fail |= active & ~np.isfinite(f)
            return _Num(np.where(np.isfinite(f), f, 0.0))
        if isinstance(expr, Compare):
            result = np.ones(n, dtype=bool)
            left = self.eval(expr.operands[0], active)
            for op, operand in zip(expr.ops, expr.operands[1:], strict=True):
                right = self.eval(operand, active)
                result &= self._compare(op, left, right, active)
                left = right
            return result
        if isinstance(expr, BoolOp):
            parts = [self.eval(v, active) for v in expr.values]
            out = parts[0]
            for p in parts[1:]:
                out = (out & p) if expr.op == "and" else (out | p)
            return out
        if isinstance(expr, IfElse):
            test = self.eval(expr.test, active)
            body = self.eval(expr.body, active & test)
            orelse = self.eval(expr.orelse, active & ~test)
            return _where(test, body, orelse)
        if isinstance(expr, Call):
            return self.call(expr, active)
        raise Unsupported(type(expr).__name__)

    def _compare(self, op: str, a: Any, b: Any, active: Array) -> Array:
        if isinstance(a, tuple) or isinstance(b, tuple):
            code = a if isinstance(a, tuple) and a[0] == "code" else b
            text = b if code is a else a
            options = self.cols_options(code[1])
            k = options.index(text[1]) if text[1] in options else -2
            eq = code[2] == k
            return eq if op == "==" else ~eq
        if isinstance(a, _Num):
            return _compare(op, a, b, self.state, active)
        return (a == b) if op == "==" else (a != b)

    def cols_options(self, name: str) -> list[str]:
        return self.options[name]

    def call(self, expr: Call, active: Array) -> _Num:
        args = [self.eval(a, active) for a in expr.args]
        name = expr.func
        if name in ("min", "max"):
            out = args[0]
            for other in args[1:]:
                pick = _compare("<=" if name == "min" else ">=", out, other, self.state, active)
                out = _where(pick, out, other)
            return out  # type: ignore[no-any-return]
        if name == "abs":
            x = args[0]
            return _Num(np.abs(x.f), None if x.units is None else np.abs(x.units), x.places)
        if name == "clamp":
            x, lo, hi = args
            low = _compare("<", x, lo, self.state, active)
            high = _compare(">", x, hi, self.state, active)
            return _where(low, lo, _where(high, hi, x))  # type: ignore[no-any-return]
        if name == "round":
            second = expr.args[1] if len(expr.args) > 1 else None
            places = int(second.value) if isinstance(second, Const) else 0
            return _quantize(args[0], places, "half_up", self.state, active)
        return _quantize(args[0], 0, "floor" if name == "floor" else "ceiling", self.state, active)


def _as_ratio(v: _Num) -> tuple[Array, Array] | None:
    if v.ratio is not None:
        return v.ratio
    if v.units is not None:
        return v.units, np.full(v.units.shape, 10**v.places, dtype=np.int64)
    return None


def _where(test: Array, a: Any, b: Any) -> Any:
    if isinstance(a, _Num):
        exact = _exact_pair(a, b)
        f = np.where(test, a.f, b.f)
        if exact:
            return _Num(f, np.where(test, exact[0], exact[1]), exact[2])
        ra, rb = _as_ratio(a), _as_ratio(b)
        if ra is not None and rb is not None:
            num = np.where(test, ra[0], rb[0])
            den = np.where(test, ra[1], rb[1])
            return _Num(f, ratio=(num, den))
        return _Num(f)
    return np.where(test, a, b)


# --------------------------------------------------------------------------- methods


def _method(method: Any, weight: Decimal, ev: _Evaluator, state: _State, active: Array) -> _Num:
    n = ev.n
    w = _Num.const(weight, n)
    zero = _Num.const(Decimal(0), n)
    formula = _formula_of(ev)
    if isinstance(method, Deduction):
        x = formula(method.value, active)
        t = _Num.const(method.threshold, n)
        gap = _sub(x, t) if method.direction == "over" else _sub(t, x)
        full = _compare("<=", gap, zero, state, active)
        per = _Num.const(method.deduct.per, n)
        steps = method.deduct.steps
        live = active & ~full
        if steps == "pro_rata":
            with np.errstate(divide="ignore", invalid="ignore"):
                count = _Num(gap.f / per.f)
        else:
            exact = _exact_pair(gap, per)
            if exact:
                num, den, _ = exact
                q, r = np.divmod(np.maximum(num, 0), den)
                count_u = q + ((r > 0) & (steps == "partial_up")).astype(np.int64)
                count = _Num(count_u.astype(np.float64), count_u, 0)
            else:
                q = gap.f / per.f
                rounded = np.floor(q) if steps == "whole" else np.ceil(q)
                state.uncertain |= live & (
                    np.abs(q - np.round(q)) <= TOLERANCE * np.maximum(1.0, np.abs(q))
                )
                count = _Num(rounded, rounded.astype(np.int64), 0)
        lost = _mul(count, _Num.const(method.deduct.points, n))
        if method.max_deduction is not None:
            cap = _Num.const(method.max_deduction, n)
            lost = _where(_compare(">", lost, cap, state, live), cap, lost)
        result = _sub(w, lost)
        floor = _Num.const(method.floor, n)
        result = _where(_compare("<", result, floor, state, live), floor, result)
        return _where(full, w, result)  # type: ignore[no-any-return]
    if isinstance(method, Bands):
        x = formula(method.value, active)
        out = None
        matched = np.zeros(n, dtype=bool)
        pieces = []
        for band in method.bands:
            inside = np.ones(n, dtype=bool)
            iv = band.range
            if iv.lower is not None:
                inside &= _compare(
                    ">=" if iv.include_lower else ">", x, _Num.const(iv.lower, n), state, active
                )
            if iv.upper is not None:
                inside &= _compare(
                    "<=" if iv.include_upper else "<", x, _Num.const(iv.upper, n), state, active
                )
            pieces.append((inside & ~matched, _Num.const(band.points, n)))
            matched |= inside
        if method.otherwise is None:
            state.fail |= active & ~matched
            out = zero
        else:
            out = _Num.const(method.otherwise, n)
        for mask, points in reversed(pieces):
            out = _where(mask, points, out)
        return out
    if isinstance(method, Proportional):
        x = formula(method.value, active)
        full_at = formula(method.full_at, active)
        top = _compare(">=", x, full_at, state, active)
        bottom = _compare("<=", x, zero, state, active)
        zero_full = full_at.f == 0
        state.fail |= active & ~top & ~bottom & zero_full
        share = _div(
            _mul(w, x), full_at, _State(n, state.uncertain, np.zeros(n, dtype=bool)), active
        )
        return _where(top, w, _where(bottom, zero, share))  # type: ignore[no-any-return]
    if isinstance(method, Checklist):
        earn = method.mode == "earn"
        total = zero
        for item in method.items:
            points = _Num.const(item.points, n)
            if item.count is not None:
                count = formula(item.count, active)
                lost = _mul(points, count)
                lost = _where(_compare(">", lost, zero, state, active), lost, zero)
                total = _add(total, lost)
            else:
                met = formula(item.met, active)
                total = _add(total, _where(met if earn else ~met, points, zero))
        result = total if earn else _sub(w, total)
        result = _where(_compare(">", result, w, state, active), w, result)
        floor = _Num.const(method.floor, n)
        return _where(_compare("<", result, floor, state, active), floor, result)  # type: ignore[no-any-return]
    if isinstance(method, Levels):
        code = formula(method.value, active)
        if not (isinstance(code, tuple) and code[0] == "code"):
            raise Unsupported("levels over a computed value")
        options = ev.options[code[1]]
        if any(o not in method.levels for o in options):
            raise Unsupported("levels with options left out")
        table = [method.levels[o] for o in options]
        level_points = [weight * t if method.scale == "fraction" else t for t in table]
        places = max(_places(p) for p in level_points)
        units = np.array([int(p.scaleb(places)) for p in level_points], dtype=np.int64)
        u = units[np.clip(code[2], 0, len(units) - 1)]
        return _Num(u / float(10**places), u, places)
    if isinstance(method, Cases):
        out = zero if method.otherwise is None else _Num.const(method.otherwise, n)
        matched = np.zeros(n, dtype=bool)
        pieces = []
        for case in method.cases:
            when = formula(case.when, active)
            pieces.append((when & ~matched, _Num.const(case.points, n)))
            matched |= when
        if method.otherwise is None:
            state.fail |= active & ~matched
        for mask, points in reversed(pieces):
            out = _where(mask, points, out)
        return out
    if isinstance(method, FormulaMethod):
        x = formula(method.expression, active)
        x = _where(_compare("<", x, zero, state, active), zero, x)
        return _where(_compare(">", x, w, state, active), w, x)  # type: ignore[no-any-return]
    raise Unsupported(f"method {getattr(method, 'method', '?')}")


def _formula_of(ev: _Evaluator) -> Any:
    from .formula import compile_formula

    cache = ev.formula_cache

    def evaluate(source: str, active: Array) -> Any:
        expr = cache.get(source)
        if expr is None:
            expr = cache[source] = compile_formula(source, ev.symbols).expr
        return ev.eval(expr, active)

    return evaluate


def _add(a: _Num, b: _Num) -> _Num:
    exact = _exact_pair(a, b)
    return _Num(a.f + b.f, exact[0] + exact[1], exact[2]) if exact else _Num(a.f + b.f)


def _sub(a: _Num, b: _Num) -> _Num:
    exact = _exact_pair(a, b)
    return _Num(a.f - b.f, exact[0] - exact[1], exact[2]) if exact else _Num(a.f - b.f)


def _small(*arrays: Array) -> bool:
    return all(np.abs(a).max(initial=0) < SAFE_UNITS for a in arrays)


def _mul(a: _Num, b: _Num) -> _Num:
    f = a.f * b.f
    if a.units is not None and b.units is not None and a.places + b.places <= MAX_PLACES:
        u = a.units * b.units
        if np.abs(f).max(initial=0) * 10 ** (a.places + b.places) < SAFE_UNITS:
            return _Num(f, u, a.places + b.places)
    for x, y in ((a, b), (b, a)):
        if x.ratio is not None and y.units is not None:
            num, den = x.ratio
            num, den = num * y.units, den * 10**y.places
            if _small(num, den):
                return _Num(f, ratio=(num, den))
    return _Num(f)


def _div(a: _Num, b: _Num, state: _State, active: Array) -> _Num:
    zero = b.f == 0 if b.units is None else b.units == 0
    state.fail |= active & zero
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(zero, 0.0, a.f / np.where(zero, 1.0, b.f))
    if a.units is not None and b.units is not None:
        num = a.units * 10**b.places
        den = np.where(zero, 1, b.units) * 10**a.places
        sign = np.where(den < 0, -1, 1)
        num, den = num * sign, den * sign
        if _small(num, den):
            return _Num(f, ratio=(num, den))
    return _Num(f)


# --------------------------------------------------------------------------- scorer


@dataclass
class VectorResult:
    """Totals, grades and leaf scores of a population, exact.

    ``total_units`` / ``places`` hold the totals as fixed point; ``grade_index`` indexes
    ``grade_names``; ``exact_rows`` holds the row engine's results for the rows it scored.
    """

    total_units: Array
    places: int
    grade_index: Array
    grade_names: tuple[str, ...]
    leaf_units: dict[str, Array]
    exact_rows: dict[int, ScoreResult | PerfscoreError]
    leaf_places: int = 2

    def leaf_score(self, leaf: str, row: int) -> Decimal | None:
        """One leaf's score for one department, as a Decimal."""
        exact = self.exact_rows.get(row)
        if exact is not None:
            return None if isinstance(exact, PerfscoreError) else exact[leaf].score
        return Decimal(int(self.leaf_units[leaf][row])).scaleb(-self.leaf_places)

    @property
    def rows_from_engine(self) -> int:
        return len(self.exact_rows)

    @property
    def total(self) -> list[Decimal | None]:
        """Every total as a Decimal (None for a row the engine refused)."""
        out: list[Decimal | None] = [Decimal(int(u)).scaleb(-self.places) for u in self.total_units]
        for i, r in self.exact_rows.items():
            out[i] = None if isinstance(r, PerfscoreError) else r.total
        return out

    @property
    def grade(self) -> list[str | None]:
        out: list[str | None] = [self.grade_names[int(g)] for g in self.grade_index]
        for i, r in self.exact_rows.items():
            out[i] = None if isinstance(r, PerfscoreError) else r.grade
        return out


class VectorisedScorer:
    """Scores :class:`Columns` with numpy; see the module docstring."""

    def __init__(self, compiled: CompiledRubric) -> None:
        self.compiled = compiled
        rubric = compiled.rubric
        if any(leaf.node.rows is not None for leaf in compiled._leaves):
            raise Unsupported("row groups")
        self.options = {
            k: list(v.options or ()) for k, v in rubric.inputs.items() if v.kind == "choice"
        }
        self.rounding = rubric.rounding
        self.formula_cache: dict[str, Any] = {}

    def score(self, cols: Columns) -> VectorResult:
        compiled, n = self.compiled, cols.rows
        state = _State(n, np.zeros(n, dtype=bool), cols.invalid.copy())
        everyone = np.ones(n, dtype=bool)
        derived: dict[str, Any] = {}
        ev = _Evaluator(cols, derived, state, self)
        for d in compiled._derived:
            value = ev.eval(d.formula.expr, everyone)
            if isinstance(value, _Num):
                if d.as_percent:
                    value = _mul(value, _Num.const(Decimal(100), n))
                if d.rounding is not None:
                    value = _quantize(value, d.rounding.places, d.rounding.mode, state, everyone)
            derived[d.id] = value
        rule = self.rounding.score
        places = rule.places
        leaf_units: dict[str, Array] = {}
        node_units: dict[int, Array] = {}
        for leaf in compiled._leaves:
            if leaf.na_when is not None:
                state.fail |= ev.eval(leaf.na_when.expr, everyone)
            raw = _method(leaf.node.scoring, leaf.node.weight, ev, state, everyone)
            score = _quantize(raw, places, rule.mode, state, everyone)
            leaf_units[leaf.node.id] = np.broadcast_to(score.at(places), (n,))
            node_units[leaf.index] = leaf_units[leaf.node.id]
        nodes = compiled._nodes
        for i in range(len(nodes) - 1, -1, -1):
            if nodes[i].leaf is None:
                node_units[i] = sum(
                    (node_units[c] for c in nodes[i].children), np.zeros(n, dtype=np.int64)
                )
        unrounded = sum(
            (node_units[i] for i in range(len(nodes)) if nodes[i].parent is None),
            np.zeros(n, dtype=np.int64),
        )
        total_rule = self.rounding.total
        if total_rule.places >= places:
            total_units, total_places = (
                unrounded * 10 ** (total_rule.places - places),
                total_rule.places,
            )
        else:
            total_units = _round_units(
                unrounded, 10 ** (places - total_rule.places), total_rule.mode
            )
            total_places = total_rule.places
        basis, basis_places = (
            (total_units, total_places)
            if self.rounding.grade_on == "rounded"
            else (unrounded, places)
        )
        grade_index = np.full(n, -1, dtype=np.int64)
        capped = np.zeros(n, dtype=bool)
        names = tuple(g.name for g in compiled._grades)
        for k, grade in enumerate(compiled._grades):
            inside = np.ones(n, dtype=bool)
            iv = grade.range
            scale = 10**basis_places
            if iv.lower is not None:
                lo = _grid_bound(iv.lower * scale, include=iv.include_lower, lower=True)
                inside &= basis >= lo
            if iv.upper is not None:
                hi = _grid_bound(iv.upper * scale, include=iv.include_upper, lower=False)
                inside &= basis <= hi
            grade_index = np.where((grade_index < 0) & inside, k, grade_index)
        state.fail |= grade_index < 0
        # Grade caps lower the grade where their condition holds; the grades are ordered
        # best first, so "at most" is "an index no smaller than".
        for cap in compiled._caps:
            limit = names.index(cap.max_grade)
            hit = ev.eval(cap.when.expr, everyone) & (grade_index >= 0) & (grade_index < limit)
            capped |= hit
            grade_index = np.where(hit, limit, grade_index)
        redo = np.flatnonzero(state.fail | state.uncertain)
        exact: dict[int, ScoreResult | PerfscoreError] = {}
        for i in redo.tolist():
            try:
                exact[i] = compiled.score(cols.records[i], explain=False)
            except PerfscoreError as error:
                exact[i] = error
        return VectorResult(
            total_units, total_places, np.maximum(grade_index, 0), names, leaf_units, exact, places
        )


def _grid_bound(edge: Decimal, *, include: bool, lower: bool) -> int:
    """The whole number of units a bound admits: ``x > 89.5`` on whole units is
    ``x >= 90``, ``x < 90`` is ``x <= 89``."""
    if edge == edge.to_integral_value():
        whole = int(edge)
        if include:
            return whole
        return whole + 1 if lower else whole - 1
    return math.ceil(edge) if lower else math.floor(edge)


def compile_vectorised(compiled: CompiledRubric) -> VectorisedScorer:
    """The vectorised scorer of a compiled rubric. Raises :class:`Unsupported` for rubrics
    it does not cover (row groups, scoring methods of your own)."""
    return VectorisedScorer(compiled)
