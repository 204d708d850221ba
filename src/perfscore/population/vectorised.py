"""The vectorised path: a whole population scored at once with numpy, exactly.

:func:`compile_vectorised` turns a compiled rubric (its own internal form: formula IR,
scoring methods, rounding, grade bands) into a scorer of columns. A number travels in
the first of these forms that holds it:

* **fixed point**: int64 units of ``10**-places`` (``95.10`` is ``9510`` at 2 places),
  exact, for a decimal on a known grid (inputs, rounded values, constants, sums,
  differences and products of those). Each carries static bounds (Python ints) derived
  from the inputs' extremes and the constants, and every int64 operation is checked
  against them before it runs: nothing wraps around, and no per-operation reduction
  over the data is needed;
* **exact quotient** ``num / den`` of fixed-point values, the row engine's one decimal
  division: rounding it, or comparing it, is exact integer arithmetic;
* **float64**, for what leaves both (a product of a quotient, a power), with a bound on
  its distance from the exact value carried along, row by row.

A float is computed only when something needs it. Every decision taken from a float (a
rounding, a comparison, a floor) is checked against its edge: where the value may lie on
either side (its error bound plus a small margin), the row is marked *uncertain*.
Uncertain rows, and rows the fast form does not cover (a missing, invalid or implausible
input, a division by zero without a fallback, a power the engine refuses), are scored
again by the exact row engine and its result replaces theirs. A row refused only for
the values of some inputs is not: those inputs alone go through the row engine's own
input check, once for each distinct set of values, and its error is the row's. So the vectorised
path agrees exactly with the row engine, decimal rounding and band ends included, and the
tests check it on golden cases, random rubrics and formulas, and values at the bounds.

numpy is an optional dependency (``pip install perfscore[vector]``).
"""

from __future__ import annotations

import functools
import math
import operator
import re
import sys
import threading
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from perfscore._inputs import _PLAIN_NUMBER, is_missing, number_problem, validate_inputs
from perfscore._numbers import ENGINE_CONTEXT
from perfscore.errors import PerfscoreError
from perfscore.formula import (
    MAX_EXPONENT,
    Binary,
    BoolOp,
    Call,
    Compare,
    Const,
    IfElse,
    Name,
    Unary,
)
from perfscore.methods import (
    Bands,
    Cases,
    Checklist,
    Deduction,
    FormulaMethod,
    Levels,
    Proportional,
)

if TYPE_CHECKING:
    from perfscore._inputs import InputRule
    from perfscore.engine import CompiledRubric
    from perfscore.model import InputSpec
    from perfscore.results import ScoreResult

__all__ = [
    "ArrayRecords",
    "Columns",
    "VectorResult",
    "VectorisedScorer",
    "columns_from_arrays",
    "columns_from_records",
    "compile_vectorised",
]

#: Relative margin around an edge inside which a float decision is not trusted.
TOLERANCE = 1e-9
MAX_PLACES = 6
#: Fixed-point values (and quotients' numerators and denominators) stay below this:
#: they convert to float64 exactly, and a quotient's rounding agrees with the engine's.
SAFE_UNITS = 2**53

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
    ``invalid`` marks rows with an unusable value (or a missing required one): the row
    engine scores those. ``missing`` marks, per optional input, the rows where it is
    missing: values and leaves reading it are not applicable there.
    ``records`` keeps the original rows, for the row engine (from
    :func:`columns_from_arrays`, an :class:`ArrayRecords` building each on demand).
    """

    rows: int
    floats: dict[str, Array] = field(default_factory=dict)
    units: dict[str, tuple[Array, int]] = field(default_factory=dict)
    bools: dict[str, Array] = field(default_factory=dict)
    codes: dict[str, Array] = field(default_factory=dict)
    invalid: Array = None
    records: Sequence[Mapping[str, Any]] = ()
    #: rows where an optional input without a default is missing (not applicable): the
    #: value there is a placeholder, never read
    missing: dict[str, Array] = field(default_factory=dict)
    #: per input, the rows its value marked ``invalid`` (a value refused, or left to the
    #: row engine to read)
    flagged: dict[str, Array] = field(default_factory=dict)
    #: rows marked ``invalid`` for a reason no single input's value gives (an unknown
    #: column, an input the vectorised path does not read): the row engine scores them
    unchecked: Array = None


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def columns_from_records(records: Sequence[Mapping[str, Any]], compiled: CompiledRubric) -> Columns:
    """Turn department dicts (as given to ``score``) into :class:`Columns`."""
    n = len(records)
    cols = Columns(rows=n, invalid=np.zeros(n, dtype=bool), records=records)
    declared = set(compiled.rubric.inputs)
    unknown = np.zeros(n, dtype=bool)
    for i, record in enumerate(records):
        if not declared.issuperset(record):
            unknown[i] = True
    flagged = _Flags(cols, unknown)
    for rule in compiled._inputs:
        flagged.start()
        _column_from_values(cols, rule, [r.get(rule.id) for r in records])
        flagged.stop(rule.id, rule.spec)
    return cols


class _Flags:
    """Keeps, input by input, the rows each input's value marks ``invalid``: ``start``
    gives the columns a fresh ``invalid`` to mark, ``stop`` files it under the input and
    merges it into the rows marked so far."""

    def __init__(self, cols: Columns, unchecked: Array) -> None:
        self.cols, self.merged = cols, cols.invalid | unchecked
        cols.unchecked = unchecked

    def start(self) -> None:
        self.cols.invalid = np.zeros(self.cols.rows, dtype=bool)

    def stop(self, name: str, spec: InputSpec) -> None:
        cols = self.cols
        marked = cols.invalid
        if marked.any():
            if spec.kind in ("text", "table"):
                cols.unchecked = cols.unchecked | marked
            cols.flagged[name] = marked
            self.merged |= marked
        cols.invalid = self.merged


def _can_miss(spec: InputSpec) -> bool:
    """Whether a missing value of this input is not applicable (optional, no default)
    rather than the row engine's to fill in or refuse."""
    return spec.default is None and not spec.required


def _column_from_values(cols: Columns, rule: InputRule, raw: Sequence[Any]) -> None:
    """One input's column from its raw values, one Python value a row, as the row engine
    would read them (its missing-value rule, its coercer for anything but a Decimal, an
    int or a bool): fills ``cols`` and marks the rows it cannot take."""
    n = cols.rows
    name, spec, coerce = rule.id, rule.spec, rule.coerce
    can_miss = _can_miss(spec)
    gaps = np.zeros(n, dtype=bool)

    def read(i: int, x: Any) -> Any:
        """``x`` as the row engine reads it, or None (a gap, or a value it refuses)."""
        if is_missing(x):
            if can_miss:
                gaps[i] = True
            else:
                cols.invalid[i] = True
            return None
        try:
            return coerce(x)
        except Exception:  # the row engine reads it again and reports it
            cols.invalid[i] = True
            return None

    if spec.kind == "boolean":
        arr = np.zeros(n, dtype=bool)
        for i, x in enumerate(raw):
            if x is True or x is False:
                arr[i] = x
            else:
                arr[i] = read(i, x) is True
        cols.bools[name] = arr
    elif spec.kind == "choice":
        index = {o: k for k, o in enumerate(spec.options or ())}
        codes = np.zeros(n, dtype=np.int64)
        for i, x in enumerate(raw):
            code = index.get(x, -1) if isinstance(x, str) else -1
            if code < 0:
                option = read(i, x)
                code = index.get(option, 0) if isinstance(option, str) else 0
            codes[i] = code
        cols.codes[name] = codes
    elif spec.kind in ("text", "table"):
        cols.invalid[:] = True  # not vectorised: the row engine scores every row
    else:
        floats = np.empty(n, dtype=np.float64)
        decimals: list[Decimal | None] = []
        fraction = "fraction" in spec.accept
        integral = spec.kind in ("integer", "count")
        for i, x in enumerate(raw):
            value: Decimal | None
            scaled = False
            if x.__class__ is Decimal:
                value = x
            elif isinstance(x, int) and not isinstance(x, bool):
                value = Decimal(x)
            else:
                value = read(i, x)  # the coercer scales a fraction of one itself
                scaled = True
            # The row engine's own rules: a figure it refuses (not finite, 10**15 or
            # more, too many places) is its to report; a percent read as a fraction
            # of one is scaled as it scales it.
            if value is None:
                pass
            elif number_problem(value) is not None:
                cols.invalid[i] = True
                value = None
            elif fraction and not scaled:
                value = value.scaleb(2, ENGINE_CONTEXT)
            elif integral and value != value.to_integral_value():
                cols.invalid[i] = True  # 3.0000000000000001 is 3.0 as a float
            decimals.append(value)
            floats[i] = float(value) if value is not None else 0.0
        low, high = spec.lower_bound, spec.max
        outside = np.zeros(n, dtype=bool)
        if low is not None:
            outside |= floats < float(low) - 1e-9 * max(1.0, abs(float(low)))
        if high is not None:
            outside |= floats > float(high) + 1e-9 * max(1.0, abs(float(high)))
        # Exact bound checks near the edges are left to the row engine: mark those rows.
        for bound, is_low in ((low, True), (high, False)):
            if bound is not None:
                near = np.abs(floats - float(bound)) <= 1e-9 * max(1.0, abs(float(bound)))
                outside |= near & np.array(
                    [d is None or (d < bound if is_low else d > bound) for d in decimals],
                    dtype=bool,
                )
        cols.invalid |= outside & ~gaps  # a gap's placeholder is never read
        cols.floats[name] = floats
        places = max((_places(d) for d in decimals if d is not None), default=0)
        if places <= MAX_PLACES:
            scale = Decimal(10) ** places
            units = [int(d * scale) if d is not None else 0 for d in decimals]
            if all(abs(u) < SAFE_UNITS for u in units):
                cols.units[name] = (np.array(units, dtype=np.int64), places)
    if gaps.any():
        cols.missing[name] = gaps


# --------------------------------------------------------------------------- arrays

#: Figures of this magnitude or more are the row engine's to refuse (``number_problem``).
_MAGNITUDE = 10**15
_INT64_MAX = 2**63 - 1


def _is_arrow(values: Any) -> bool:
    return type(values).__module__.startswith("pyarrow")


def _as_column(values: Any) -> Any:
    """A column as a 1-d numpy array or a pyarrow Array (chunks combined)."""
    if _is_arrow(values):
        if hasattr(values, "combine_chunks"):  # a ChunkedArray
            values = values.combine_chunks()
        return values
    if isinstance(values, np.ndarray):
        if values.ndim != 1:
            raise ValueError("a column must be one-dimensional")
        return values
    dtype = getattr(values, "dtype", None)
    if dtype is not None and hasattr(values, "to_numpy"):  # a pandas Series, Index or array
        if isinstance(dtype, np.dtype):
            return values.to_numpy()
        if getattr(dtype, "storage", None) == "pyarrow":  # Arrow-backed: its Arrow array
            import pyarrow as pa

            return _as_column(pa.array(getattr(values, "array", values)))
        # extension dtypes (nullable integers, strings, categories): their values as
        # objects, missing ones None
        return values.to_numpy(dtype=object, na_value=None)
    items = list(values)
    return np.fromiter(items, dtype=object, count=len(items))


def _py(value: Any) -> Any:
    """A numpy scalar as the Python value a record would hold."""
    return value.item() if isinstance(value, np.generic) else value


def _py_values(column: Any) -> list[Any]:
    """Every value of a column as a record would hold it (None: absent)."""
    if _is_arrow(column):
        return list(column.to_pylist())
    if column.dtype == object:
        return [_py(x) for x in column]
    return list(column.tolist())


def _py_value(column: Any, i: int) -> Any:
    if _is_arrow(column):
        return column[i].as_py()
    return _py(column[i])


class ArrayRecords(Sequence[Mapping[str, Any]]):
    """The rows of columns as records, built only for the rows asked for: row ``i`` is a
    dict of every column's value in that row as a Python value (int, Decimal, bool, str,
    float). A null (None, an Arrow null) in a ``declared`` input's column is the key
    with None, as a record holding an empty value (the row engine says the input is
    empty, as for NaN or an empty text); elsewhere it leaves its key out (a column that
    names no input is reported only where it holds a value). A missing column is a key
    missing from every record."""

    def __init__(
        self, columns: Mapping[str, Any], rows: int, declared: Collection[str] = ()
    ) -> None:
        self.columns, self.rows = columns, rows
        self.declared = frozenset(declared)

    def __len__(self) -> int:
        return self.rows

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self.rows))]
        if i < 0:
            i += self.rows
        if not 0 <= i < self.rows:
            raise IndexError(i)
        record = {}
        declared = self.declared
        for name, column in self.columns.items():
            value = _py_value(column, i)
            if value is not None or name in declared:
                record[name] = value
        return record

    def values(self, name: str, rows: Array) -> list[Any]:
        """Column ``name``'s values in ``rows`` as records hold them (None: absent)."""
        column = self.columns.get(name)
        if column is None:
            return [None] * len(rows)
        if _is_arrow(column):
            import pyarrow as pa

            return list(column.take(pa.array(rows)).to_pylist())
        if column.dtype == object:
            return [_py(x) for x in column[rows]]
        return list(column[rows].tolist())

    def many(self, rows: Sequence[int]) -> list[dict[str, Any]]:
        """The records of ``rows``, as ``self[i]`` builds them, with one take per column."""
        if not rows:
            return []
        index = np.asarray(rows, dtype=np.int64)
        records: list[dict[str, Any]] = [{} for _ in rows]
        for name, column in self.columns.items():
            if _is_arrow(column):
                import pyarrow as pa

                values = column.take(pa.array(index)).to_pylist()
            else:
                values = [_py(x) for x in column[index]]
            if name in self.declared:
                for record, value in zip(records, values, strict=True):
                    record[name] = value
                continue
            for record, value in zip(records, values, strict=True):
                if value is not None:
                    record[name] = value
        return records


def _null_mask(column: Any) -> Array:
    if _is_arrow(column):
        return np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    if column.dtype == object:
        return np.fromiter((x is None for x in column), dtype=bool, count=len(column))
    return np.zeros(len(column), dtype=bool)


def _exact_ints(column: Any) -> tuple[Array, Array, int, Array | None] | None:
    """An integer, decimal or float column as exact int64 units: ``(units, null, places,
    unread)``, ``unread`` marking the rows left to the row engine (or None), or None when
    its type does not allow it (the values then go one by one)."""
    if _is_arrow(column):
        import pyarrow as pa

        kind = column.type
        null = _null_mask(column)
        if pa.types.is_integer(kind):
            if pa.types.is_uint64(kind):
                return None
            filled = column.fill_null(0) if column.null_count else column
            values = np.asarray(filled.to_numpy(zero_copy_only=False), dtype=np.int64)
            return values, null, 0, None
        if pa.types.is_floating(kind):  # a null is a gap, as NaN is
            filled = column.fill_null(float("nan")) if column.null_count else column
            return _float_units(np.asarray(filled.to_numpy(zero_copy_only=False)))
        if pa.types.is_decimal128(kind) and 0 <= kind.scale <= MAX_PLACES:
            # 16-byte little-endian two's complement: the unscaled integer fits int64
            # exactly when the high word is the sign extension of the low word.
            buffer = column.buffers()[1]
            words = np.frombuffer(buffer, dtype=np.int64)
            words = words[2 * column.offset : 2 * (column.offset + len(column))].reshape(-1, 2)
            low, high = words[:, 0], words[:, 1]
            fits = (high == (low >> 63)) | null
            if not fits.all():
                return None
            return np.where(null, 0, low), null, kind.scale, None
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            return _arrow_text_units(column)
        return None
    if column.dtype.kind == "i" or (column.dtype.kind == "u" and column.dtype.itemsize < 8):
        return column.astype(np.int64), np.zeros(len(column), dtype=bool), 0, None
    if column.dtype.kind == "f":
        return _float_units(column)
    if column.dtype.kind in "OU" or str(column.dtype) == "str":
        return _text_units(column)
    return None


#: Text of at most this many characters holds at most 15 significant digits, which a
#: float64 keeps: its shortest repr is the text's value.
_SHORT_TEXT = 15


def _text_units(column: Any) -> tuple[Array, Array, int, Array] | None:
    """A column of numbers written as text (a CSV read without types), with pandas'
    string operations: a plain number of at most 15 characters (the row engine's plain
    form, ``-12.5``, ``1.5E+3``) is read through float64 by the float rule, exactly, as
    15 significant digits survive it; a gap by the missing-value rule is null; anything
    else (separators, units, long figures) is the row engine's to read. None without
    pandas, or when the column holds anything but text and gaps. A column of text and
    None only (the records of a file) is read with Python's own ``float``, without pandas."""
    items = _text_items(column, numbers=True)
    if items is not None:
        return _plain_text_units(items)
    try:
        import pandas
    except ImportError:
        return None
    if pandas.api.types.infer_dtype(column, skipna=True) not in ("string", "empty"):
        return None
    series = pandas.Series(column, copy=False)
    text = series.str.strip()
    gap = (series.isna() | (text == "")).to_numpy(dtype=bool, na_value=True)
    plain = (text.str.fullmatch(_PLAIN_NUMBER.pattern) & (text.str.len() <= _SHORT_TEXT)).to_numpy(
        dtype=bool, na_value=False
    )
    floats = pandas.to_numeric(text.where(plain), errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    units, null, places, unread = _float_units(floats)
    zero = plain & (floats == 0.0)
    if zero.any():
        mantissa = text.str.match(NONZERO_MANTISSA).to_numpy(dtype=bool, na_value=False)
        unread |= zero & mantissa  # e.g. 1e-999: not zero, though its float is
    return units, gap, places, unread | (~plain & ~gap) | (null & ~gap)


def _text_items(column: Any, *, numbers: bool = False) -> list[Any] | None:
    """The values of a column of text and None only, else None. With ``numbers``, ints
    and Decimals too (JSON numbers), as the text that writes each one exactly."""
    if _is_arrow(column) or getattr(getattr(column, "dtype", None), "kind", None) != "O":
        return None
    items: list[Any] = column.tolist()
    kinds = set(map(type, items))
    if kinds <= _TEXT_TYPES:
        return items
    if numbers and kinds <= _NUMBER_TYPES:
        return [v if v is None or v.__class__ is str else str(v) for v in items]
    return None


_TEXT_TYPES: frozenset[type] = frozenset((str, type(None)))
_NUMBER_TYPES: frozenset[type] = frozenset((str, type(None), int, Decimal))
_NONZERO_DIGIT = re.compile("[1-9]")
#: A plain number whose digits before any exponent are not all zero (an RE2 pattern, for
#: Arrow and pandas): where its float is zero, the text underflowed (``1e-999``), and the
#: row engine reads it.
NONZERO_MANTISSA: Final = r"^[+-]?[0-9.]*[1-9]"


def _plain_text_units(items: list[Any]) -> tuple[Array, Array, int, Array]:
    """:func:`_text_units` of text and None, one value at a time in C where it can be:
    a plain number read by ``float`` (correctly rounded, as pandas' reading is meant to
    be), a text that underflows to zero marked for the row engine."""
    n = len(items)
    text = ["" if v is None else v.strip() for v in items]
    gap = np.fromiter(map(operator.not_, text), dtype=bool, count=n)
    match = _PLAIN_NUMBER.fullmatch
    nan = math.nan
    floats = np.fromiter(
        (float(t) if len(t) <= _SHORT_TEXT and match(t) else nan for t in text),
        dtype=np.float64,
        count=n,
    )
    plain = ~np.isnan(floats)
    units, null, places, unread = _float_units(floats)
    for k in np.flatnonzero(plain & (floats == 0.0)).tolist():
        if _NONZERO_DIGIT.search(text[k].partition("e")[0].partition("E")[0]):
            unread[k] = True  # e.g. 1e-999: not zero, though its float is
    return units, gap, places, unread | (~plain & ~gap) | (null & ~gap)


def _arrow_text_units(column: Any) -> tuple[Array, Array, int, Array] | None:
    """:func:`_text_units` of an Arrow string column, with Arrow's compute functions:
    text blank once ASCII whitespace is trimmed is a gap (other blanks, such as an
    ideographic space, are the row engine's to read); None where Arrow cannot convert."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.ascii_trim_whitespace(column)
    gap = np.asarray(pc.equal(text, "").fill_null(True).to_numpy(zero_copy_only=False), dtype=bool)
    plain_arrow = pc.and_(
        pc.match_substring_regex(text, f"^(?:{_PLAIN_NUMBER.pattern})$"),
        # in bytes: a plain number is ASCII, one byte a character
        pc.less_equal(pc.binary_length(text), _SHORT_TEXT),
    ).fill_null(False)
    plain = np.asarray(plain_arrow.to_numpy(zero_copy_only=False), dtype=bool)
    try:
        floats = pc.cast(pc.if_else(plain_arrow, text, pa.scalar(None, text.type)), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    values = np.asarray(floats.fill_null(float("nan")).to_numpy(zero_copy_only=False))
    units, null, places, unread = _float_units(values)
    zero = plain & (values == 0.0)
    if zero.any():
        mantissa = pc.match_substring_regex(text, NONZERO_MANTISSA).fill_null(False)
        # e.g. 1e-999: not zero, though its float is
        unread |= zero & np.asarray(mantissa.to_numpy(zero_copy_only=False), dtype=bool)
    return units, gap, places, unread | (~plain & ~gap) | (null & ~gap)


#: A float whose shortest decimal has more places is read by the row engine.
_FLOAT_PLACES = 6
#: Below this many units, one decimal of a given number of places rounds to a float64:
#: floats there are closer together than a unit.
_FLOAT_UNIQUE = 2**52


def _float_units(column: Any) -> tuple[Array, Array, int, Array]:
    """A float64 column as exact units, by the float rule: a binary float is the decimal
    its shortest repr writes (``0.1`` is 0.1, ``2.675`` is 2.675), as the row engine reads
    it (``Decimal(repr(x))``); NaN is missing.

    With numpy only: the column's places ``p`` (up to 6) are the fewest for which every
    row's ``u = rint(x * 10**p)``, divided by ``10**p`` (one correct rounding), gives
    ``x`` back, with ``|u| < 2**52``. Then ``u * 10**-p`` is the only decimal of ``p``
    places that rounds to ``x`` (floats are closer than ``10**-p`` apart there), so it is
    the shortest repr's value. A row exact on a grid is exact on every finer one (while
    its units stay below ``2**52``), so the grids are tried from two places down while
    every row holds, and up, on the rows that do not hold yet, otherwise. NaN is null
    (missing); rows exact on no grid (infinities among them) are marked ``unread``: the
    row engine reads them."""
    values = np.asarray(column, dtype=np.float64)
    n = len(values)
    finite = np.isfinite(values)
    all_finite = bool(finite.all())
    if all_finite:
        safe = values
    else:
        safe = values.copy()
        np.copyto(safe, 0.0, where=~finite)

    with np.errstate(over="ignore", invalid="ignore"):
        places = 2
        units, ok = _on_grid(safe, places)
        if ok.all():
            while places > 0:
                # A row off the coarser grid among the first ones settles it cheaply.
                if not _on_grid(safe[:_PROBE], places - 1)[1].all():
                    break
                coarser, fits = _on_grid(safe, places - 1)
                if not fits.all():
                    break
                places, units, ok = places - 1, coarser, fits
        else:
            rest = safe[~ok]
            for p in range(places + 1, _FLOAT_PLACES + 1):
                _, fits = _on_grid(rest, p)
                if fits.any():
                    places, rest = p, rest[~fits]
                if not len(rest):
                    break
            if places > 2:
                units, ok = _on_grid(safe, places)
    if not all_finite:
        ok &= finite
    off = ~ok
    # ``units`` is this function's own array: the rows off every grid are zeroed in place
    if ok.all():
        null = np.zeros(n, dtype=bool) if all_finite else np.isnan(values)
        return units.astype(np.int64), null, places, off
    np.copyto(units, 0.0, where=off)
    if all_finite:
        return units.astype(np.int64), np.zeros(n, dtype=bool), places, off
    null = np.isnan(values)
    return units.astype(np.int64), null, places, off & ~null


#: Rows :func:`_float_units` tries a coarser grid on before it tries the whole column.
_PROBE = 64


def _on_grid(x: Array, p: int) -> tuple[Array, Array]:
    """``x`` (finite) in units of ``10**-p`` rounded to whole ones (floats), and the rows
    those units give back exactly, below :data:`_FLOAT_UNIQUE`."""
    scale = float(10**p)
    units = x * scale
    np.rint(units, out=units)
    ok = units / scale == x
    if len(units) and not -_FLOAT_UNIQUE < units.min() <= units.max() < _FLOAT_UNIQUE:
        ok &= np.abs(units) < _FLOAT_UNIQUE
    return units, ok


@functools.lru_cache(maxsize=1024)
def _unit_limits(low: Decimal | None, high: Decimal | None, places: int) -> tuple[int, int]:
    """The least and greatest units at ``places`` a number input admits: every limit is
    clamped into int64 (no int64 value lies beyond it anyway), so that each comparison is
    one of two int64 numbers. A value is in bounds when ``lowest <= units <= highest``:
    below 10**15 in magnitude, and inside the declared bounds, exactly (units < low *
    scale is units < ceil(low * scale)). Kept by bounds and places: a frame's columns
    share a few."""
    scale = 10**places
    limit = min(_MAGNITUDE * scale, _INT64_MAX)
    lowest, highest = -limit + 1, limit - 1
    if low is not None:
        lowest = max(lowest, min(max(math.ceil(low * scale), -limit), limit))
    if high is not None:
        highest = min(highest, max(min(math.floor(high * scale), limit), -limit))
    return lowest, highest


def _number_column(cols: Columns, name: str, spec: InputSpec, column: Any) -> bool:
    """A number input from exact integers or decimals with numpy only; False when the
    column's type does not allow it."""
    if "fraction" in spec.accept:
        return False
    exact = _exact_ints(column)
    if exact is None:
        return False
    units, null, places, unread = exact
    scale = 10**places
    lowest, highest = _unit_limits(spec.lower_bound, spec.max, places)
    least, most = (int(units.min()), int(units.max())) if len(units) else (0, 0)
    # The rows marked are built only from what is there: a clean column costs no pass.
    marks: list[Array] = []
    if least < lowest or most > highest:
        marks.append((units < lowest) | (units > highest))
    if spec.kind in ("integer", "count") and places:
        marks.append(units % scale != 0)
    # A gap: not applicable for an optional input without a default, else the row
    # engine's (a default, or input.missing). Its placeholder 0 is never read.
    can_miss = _can_miss(spec)
    gaps = bool(null.any())
    if gaps and marks:
        marks = [np.logical_or.reduce(marks) & ~null]
    if gaps and not can_miss:
        marks.append(null)
    if unread is not None and unread.any():
        marks.append(unread)
    bad = np.logical_or.reduce(marks) if marks else None
    cleared = bad if not gaps else null if bad is None else bad | null
    if cleared is not None and cleared.any():
        if units.flags.owndata and units.flags.writeable:  # made here: zeroed in place
            np.copyto(units, 0, where=cleared)
        else:
            units = np.where(cleared, 0, units)
        if max(-least, most) >= SAFE_UNITS:  # zeros in place of the rows cleared may help
            least, most = (int(units.min()), int(units.max())) if len(units) else (0, 0)
    if max(-least, most) >= SAFE_UNITS:
        return False  # a float from them would be rounded twice: the values go one by one
    if bad is not None:
        cols.invalid |= bad
    if can_miss and gaps:
        cols.missing[name] = null
    cols.units[name] = (units, places)
    cols.floats[name] = units / float(scale)  # both exact: one correct rounding
    return True


def _choice_codes(column: Any, options: Sequence[str]) -> Array | None:
    """Option codes of a column of strings (-1: unknown or not a string, -2: a gap by the
    missing-value rule), looked up once per distinct value; None when the column's type
    does not allow it."""
    if _is_arrow(column):
        import pyarrow as pa
        import pyarrow.compute as pc

        if pa.types.is_dictionary(column.type):
            column = column.dictionary_decode()
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            return None
        # A null in the set of values finds the nulls (one past the options): gaps.
        found = pc.index_in(
            column, value_set=pa.array([*options, None], type=column.type), skip_nulls=False
        )
        codes = np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
        if column.null_count:
            codes[codes == len(options)] = -2
        return codes
    index = {o: k for k, o in enumerate(options)}
    if column.dtype.kind == "U":
        uniques, inverse = np.unique(column, return_inverse=True)
    elif column.dtype == object:
        items = _text_items(column)
        if items is not None:  # text and None: a dict lookup per value, in C
            code = {u: -2 if is_missing(u) else index.get(u, -1) for u in set(items)}
            return np.fromiter(map(code.__getitem__, items), dtype=np.int64, count=len(items))
        try:
            import pandas

            inverse, uniques = pandas.factorize(column)
        except (ImportError, TypeError):  # no pandas, or values it cannot hash
            return None
    else:
        return None
    table = np.array(
        [-2 if is_missing(u) else index.get(u, -1) if isinstance(u, str) else -1 for u in uniques]
        + [-2],
        dtype=np.int64,
    )
    # pandas marks nulls -1: the table's last entry, a gap
    return table[np.asarray(inverse, dtype=np.int64).reshape(-1)]


def _read_column(cols: Columns, rule: InputRule, column: Any) -> None:
    """One input's column into ``cols``, with numpy where its type allows."""
    name, spec, n = rule.id, rule.spec, cols.rows
    if column is None:
        _column_from_values(cols, rule, [None] * n)
        return
    if spec.kind == "boolean":
        if not _is_arrow(column) and column.dtype == np.bool_:
            cols.bools[name] = column
            return
        if _is_arrow(column) and str(column.type) == "bool" and not column.null_count:
            cols.bools[name] = np.asarray(column.to_numpy(zero_copy_only=False), dtype=bool)
            return
    elif spec.kind == "choice":
        codes = _choice_codes(column, spec.options or ())
        if codes is not None:
            gaps = codes == -2
            if _can_miss(spec) and gaps.any():
                cols.missing[name] = gaps
                cols.invalid |= codes == -1
            else:
                cols.invalid |= codes < 0
            cols.codes[name] = np.maximum(codes, 0)
            return
    elif spec.kind not in ("text", "table") and _number_column(cols, name, spec, column):
        return
    _column_from_values(cols, rule, _py_values(column))


def columns_from_arrays(arrays: Mapping[str, Any], compiled: CompiledRubric) -> Columns:
    """Turn a population given as columns into :class:`Columns`, with numpy operations.

    ``arrays`` maps input ids to columns of equal length: numpy arrays, pandas Series
    (Arrow-backed ones as their Arrow arrays), pyarrow Arrays or ChunkedArrays, or plain
    sequences. These go without Python work per row: numpy bool arrays for booleans;
    numpy or Arrow integers, Arrow decimal128 (scale at most :data:`MAX_PLACES`), float64
    (by the float rule: a float is the decimal its shortest repr writes) and numbers
    written as text for numbers, their declared bounds checked exactly; numpy or Arrow
    strings, and object arrays (with pandas), for choices. Any other column is read
    value by value exactly as :func:`columns_from_records` reads it.

    A gap by the one missing-value rule (None, blank text, NaN, ``pd.NA``, an Arrow null)
    is an absent value, and a missing column is absent in every row: not applicable for
    an optional input without a default, else the row engine's to fill in or report.
    ``records`` builds a row's record only when the row engine needs it
    (:class:`ArrayRecords`); a row refused for its values is reported without it (see
    :meth:`VectorisedScorer.score`).
    """
    columns = {name: _as_column(values) for name, values in arrays.items()}
    lengths = {len(c) for c in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"columns of different lengths: {sorted(lengths)}")
    n = lengths.pop() if lengths else 0
    inputs = compiled.rubric.inputs
    records = ArrayRecords(columns, n, inputs.keys())
    cols = Columns(rows=n, invalid=np.zeros(n, dtype=bool), records=records)
    unknown = np.zeros(n, dtype=bool)
    for name, column in columns.items():
        if name not in inputs:  # an unknown input, where given: the row engine reports it
            unknown |= ~_null_mask(column)
    flagged = _Flags(cols, unknown)
    rules = {rule.id: rule for rule in compiled._inputs}
    for name, spec in inputs.items():
        flagged.start()
        _read_column(cols, rules[name], columns.get(name))
        flagged.stop(name, spec)
    return cols


# --------------------------------------------------------------------------- values

#: A bound on the relative error of one float64 rounding (twice the unit roundoff: the
#: row engine's 34-digit roundings, far smaller, fit in the slack).
ROUNDING = 2.0**-52

#: Bound under which an int64 intermediate (a product compared, a doubled remainder)
#: cannot overflow: every int64 operation is checked against its static bound first.
INT64_ROOM = 2**62


def _fits(lo: int, hi: int, limit: int = SAFE_UNITS) -> bool:
    return -limit < lo and hi < limit


def _int_bounds(values: Array | int) -> tuple[int, int]:
    """The actual smallest and largest value (one reduction each, on arrays)."""
    if isinstance(values, np.ndarray):
        if values.size == 0:
            return 0, 0
        return int(values.min()), int(values.max())
    return int(values), int(values)


class _Ratio:
    """An exact quotient ``num / den`` with ``den >= 1``; ``lo <= num <= hi`` and
    ``den <= dhi``, all bounds (Python ints) below :data:`SAFE_UNITS`. ``num`` and ``den``
    are int64 arrays or Python ints (a Python int broadcasts like a column)."""

    __slots__ = ("den", "dhi", "hi", "lo", "num")

    def __init__(self, num: Array | int, den: Array | int, lo: int, hi: int, dhi: int) -> None:
        self.num, self.den, self.lo, self.hi, self.dhi = num, den, lo, hi, dhi


class _Num:
    """A numeric vector, in the first of these forms that applies:

    * ``units``: exact fixed point, units of ``10**-places``, an int64 array or a Python
      int (a constant), with static bounds ``lo <= units <= hi`` below
      :data:`SAFE_UNITS` (so every int64 operation is checked for overflow before it
      runs, without looking at the data);
    * ``ratio``: an exact quotient (:class:`_Ratio`) the row engine computes with one
      decimal division, correctly rounded to 34 digits (possibly scaled by a power of
      ten or negated, which keeps it so). Rounding it or comparing it is exact integer
      arithmetic, and agrees with the engine: two different quotients of numbers below
      2**53 differ by far more than a 34-digit rounding, and an exact quotient on a
      decimal edge is short enough for the engine to hold exactly;
    * float64 only.

    ``f``, the float64 form, is computed on first use only: exact values rarely need it.
    ``err`` bounds, per row, how far ``f`` may be from the exact value (the row engine's);
    a float decision is trusted only where the value is further than that from its edge.
    ``err`` None means ``f`` is the exact value correctly rounded (one rounding).
    """

    __slots__ = ("_err", "_f", "hi", "lo", "places", "ratio", "tight", "units")

    def __init__(
        self,
        f: Array | float | None = None,
        units: Array | int | None = None,
        places: int = 0,
        lo: int = 0,
        hi: int = 0,
        ratio: _Ratio | None = None,
        tight: bool = False,
        err: Array | float | None = None,
    ) -> None:
        self._f = f
        self._err = err
        self.units = units
        self.places = places
        self.lo, self.hi = lo, hi
        self.ratio = ratio
        #: ``lo``/``hi`` are the actual extremes (not only bounds) of ``units``
        self.tight = tight

    @property
    def f(self) -> Array | float:
        f = self._f
        if f is None:
            # Exact integers below 2**53 convert to float64 exactly: one rounding in all.
            if self.units is not None:
                f = self.units / float(10**self.places)
            else:
                assert self.ratio is not None
                f = self.ratio.num / self.ratio.den
            self._f = f
        return f

    @property
    def err(self) -> Array | float:
        err = self._err
        if err is None:
            err = self._err = np.abs(self.f) * ROUNDING
        return err

    @staticmethod
    def exact(units: Array | int, places: int, lo: int, hi: int) -> _Num:
        if isinstance(units, int | np.integer):  # a constant: its bounds are itself
            units = int(units)
            return _Num(None, units, places, units, units, tight=True)
        return _Num(None, units, places, lo, hi)


def _const(value: Decimal) -> _Num:
    """A constant: a Python int of units where it fits, which numpy broadcasts."""
    places = _places(value)
    if places <= MAX_PLACES:
        u = int(value.scaleb(places))
        if abs(u) < SAFE_UNITS:
            return _Num(float(value), u, places, u, u, tight=True)
    return _Num(float(value))


_ZERO = _const(Decimal(0))


def _tighten(v: _Num) -> _Num:
    """Replace ``v``'s static bounds by the actual extremes of its units (in place: the
    extremes are bounds too, only tighter)."""
    if v.units is not None and not v.tight:
        v.lo, v.hi = _int_bounds(v.units)
        v.tight = True
    return v


def _aligned(v: _Num, places: int) -> tuple[Array | int, int, int] | None:
    """``v``'s units at ``places`` (>= v.places) with their bounds, if they fit."""
    assert v.units is not None
    k = 10 ** (places - v.places)
    if k == 1:
        return v.units, v.lo, v.hi
    if not _fits(v.lo * k, v.hi * k):
        _tighten(v)
        if not _fits(v.lo * k, v.hi * k):
            return None
    return v.units * k, v.lo * k, v.hi * k


_Pair = tuple[Array | int, Array | int, int, int, int, int, int]


def _exact_pair(a: _Num, b: _Num) -> _Pair | None:
    """Both values as units at the same places, with bounds: ``(ua, ub, places, alo, ahi,
    blo, bhi)``, or None when either is not exact or would not fit."""
    if a.units is None or b.units is None:
        return None
    places = max(a.places, b.places)
    if places > MAX_PLACES:
        return None
    left = _aligned(a, places)
    right = _aligned(b, places) if left is not None else None
    if left is None or right is None:
        return None
    return left[0], right[0], places, left[1], left[2], right[1], right[2]


def _as_ratio(v: _Num) -> _Ratio | None:
    if v.ratio is not None:
        return v.ratio
    if v.units is not None:
        scale = 10**v.places
        return _Ratio(v.units, scale, v.lo, v.hi, scale)
    return None


@dataclass
class _State:
    n: int
    uncertain: Array
    fail: Array
    #: where divisions by zero are marked instead of ``fail`` (a value with an
    #: ``on_zero_division`` fallback being computed), else None
    zero: Array | None = None

    def snapshot(self) -> tuple[Array, Array]:
        return self.fail.copy(), self.uncertain.copy()

    def restore(self, saved: tuple[Array, Array], rows: Array) -> None:
        """Forget what was marked on ``rows`` since ``saved``: their value is not
        applicable there, never read."""
        np.copyto(self.fail, saved[0], where=rows)
        np.copyto(self.uncertain, saved[1], where=rows)


def _mark(target: Array, active: Array | None, cond: Any) -> None:
    """``target |= cond`` on the active rows (``active`` None: every row)."""
    if isinstance(cond, np.bool_ | bool):
        if not cond:
            return
        cond = np.True_
    target |= cond if active is None else (active & cond)


def _unsure(a: _Num, b: _Num) -> Any:
    """Rows where floats cannot tell ``a`` from ``b``: closer than their error bounds plus
    a margin (NaN anywhere counts as unsure)."""
    fa, fb = a.f, b.f
    margin = a.err + b.err + TOLERANCE * np.maximum(1.0, np.maximum(np.abs(fa), np.abs(fb)))
    return ~(np.abs(fa - fb) > margin)


def _float(f: Any, err: Any) -> _Num:
    """A float-only value; ``err`` bounds its distance from the exact value."""
    return _Num(f, err=err)


def _f_add(a: _Num, b: _Num, *, subtract: bool) -> _Num:
    f = a.f - b.f if subtract else a.f + b.f
    return _float(f, a.err + b.err + np.abs(f) * ROUNDING)


def _f_mul(a: _Num, b: _Num) -> _Num:
    fa, fb, ea, eb = a.f, b.f, a.err, b.err
    with np.errstate(over="ignore", invalid="ignore"):
        f = fa * fb
        err = np.abs(fa) * eb + np.abs(fb) * ea + ea * eb + np.abs(f) * ROUNDING
    return _float(f, err)


def _f_div(a: _Num, b: _Num, zero: Any) -> _Num:
    """``a / b`` in floats (0 where ``zero``): ``|a/b - fa/fb| <= (ea + |fa/fb| eb) /
    (|fb| - eb)``, unbounded where ``eb >= |fb|``."""
    fb, eb = b.f, b.err
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        safe = np.where(zero, 1.0, fb)
        f = np.where(zero, 0.0, a.f / safe)
        room = np.abs(safe) - eb
        err = (
            np.where(room > 0, (a.err + np.abs(f) * eb) / np.where(room > 0, room, 1.0), np.inf)
            + np.abs(f) * ROUNDING
        )
    return _float(f, err)


_COMPARE = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
    "!=": np.not_equal,
}


def _compare(op: str, a: _Num, b: _Num, state: _State, active: Array | None) -> Any:
    """``a op b`` per row: exact on fixed point and on quotients (cross-multiplied);
    from floats otherwise, the rows within the margin of equality marked uncertain."""
    ufunc = _COMPARE[op]
    exact = _exact_pair(a, b)
    if exact is not None:
        return ufunc(exact[0], exact[1])
    cross = _cross(a, b)
    if cross is not None:
        return ufunc(cross[0], cross[1])
    _mark(state.uncertain, active, _unsure(a, b))
    return ufunc(a.f, b.f)


def _cross(a: _Num, b: _Num) -> tuple[Any, Any] | None:
    """``(na * db, nb * da)``: the exact comparison of two quotients (dens positive), when
    the products stay inside int64. The row engine's one rounded division cannot cross
    the other value: two different quotients of numbers below 2**53 differ by far more
    than a 34-digit rounding."""
    if a.ratio is None and b.ratio is None:
        return None
    ra, rb = _as_ratio(a), _as_ratio(b)
    if ra is None or rb is None:
        return None
    if not (max(-ra.lo, ra.hi) * rb.dhi < INT64_ROOM and max(-rb.lo, rb.hi) * ra.dhi < INT64_ROOM):
        return None
    return ra.num * rb.den, rb.num * ra.den


def _where(test: Any, a: Any, b: Any) -> Any:
    """``a`` where ``test`` holds, else ``b``, keeping the exact form both share."""
    if isinstance(test, np.bool_ | bool):
        return a if test else b
    if isinstance(a, tuple) or isinstance(b, tuple):
        raise Unsupported("a choice picked by a condition")
    if not isinstance(a, _Num):
        return np.where(test, a, b)
    exact = _exact_pair(a, b)
    if exact is not None:
        ua, ub, places, alo, ahi, blo, bhi = exact
        return _Num.exact(np.where(test, ua, ub), places, min(alo, blo), max(ahi, bhi))
    if a.ratio is not None or b.ratio is not None:
        ra, rb = _as_ratio(a), _as_ratio(b)
        if ra is not None and rb is not None:
            return _Num(ratio=_where_ratio(test, ra, rb))
    return _float(np.where(test, a.f, b.f), np.where(test, a.err, b.err))


def _where_ratio(test: Array, ra: _Ratio, rb: _Ratio) -> _Ratio:
    lo, hi = min(ra.lo, rb.lo), max(ra.hi, rb.hi)
    if isinstance(ra.den, int) and isinstance(rb.den, int):
        # Constant denominators: bring both to their lcm and keep a constant one, which
        # divides fast when the ratio is rounded.
        den = math.lcm(ra.den, rb.den)
        ka, kb = den // ra.den, den // rb.den
        k = max(ka, kb)
        if den < SAFE_UNITS and _fits(lo * k, hi * k):
            na = ra.num if ka == 1 else ra.num * ka
            nb = rb.num if kb == 1 else rb.num * kb
            return _Ratio(
                np.where(test, na, nb),
                den,
                min(ra.lo * ka, rb.lo * kb),
                max(ra.hi * ka, rb.hi * kb),
                den,
            )
    return _Ratio(
        np.where(test, ra.num, rb.num), np.where(test, ra.den, rb.den), lo, hi, max(ra.dhi, rb.dhi)
    )


def _add(a: _Num, b: _Num) -> _Num:
    return _add_sub(a, b, subtract=False)


def _sub(a: _Num, b: _Num) -> _Num:
    return _add_sub(a, b, subtract=True)


def _add_sub(a: _Num, b: _Num, *, subtract: bool) -> _Num:
    exact = _exact_pair(a, b)
    if exact is not None:
        ua, ub, places, alo, ahi, blo, bhi = exact
        # Operands below 2**53: the result is below 2**54, no int64 overflow.
        if subtract:
            units, lo, hi = ua - ub, alo - bhi, ahi - blo
        else:
            units, lo, hi = ua + ub, alo + blo, ahi + bhi
        out = _Num.exact(units, places, lo, hi)
        if _fits(lo, hi) or _fits(*_int_bounds(_tighten(out).units)):
            return out
    return _f_add(a, b, subtract=subtract)


def _product_bounds(alo: int, ahi: int, blo: int, bhi: int) -> tuple[int, int]:
    products = (alo * blo, alo * bhi, ahi * blo, ahi * bhi)
    return min(products), max(products)


def _shift_factor(v: _Num) -> bool:
    """A constant ``±10**k`` or 0. The row engine's quotient times it is still the
    correctly rounded quotient (of the scaled numerator): a ratio stays one. Any other
    factor breaks that (``1 / 3 * 3`` is 0.999... in the engine, ``1 / 3 * 2`` is not
    the engine's ``2 / 3``), so such products are left to floats."""
    u = v.units
    if v.ratio is not None or not isinstance(u, int):
        return False
    u = abs(u)
    while u >= 10 and u % 10 == 0:
        u //= 10
    return u in (0, 1)


def _mul(a: _Num, b: _Num) -> _Num:
    if a.units is not None and b.units is not None and a.places + b.places <= MAX_PLACES:
        lo, hi = _product_bounds(a.lo, a.hi, b.lo, b.hi)
        if not _fits(lo, hi):
            _tighten(a), _tighten(b)
            lo, hi = _product_bounds(a.lo, a.hi, b.lo, b.hi)
        if _fits(lo, hi, INT64_ROOM):
            out = _Num.exact(a.units * b.units, a.places + b.places, lo, hi)
            if _fits(lo, hi) or _fits(*_int_bounds(_tighten(out).units)):
                return out
    for x, y in ((a, b), (b, a)):
        r = x.ratio
        if r is not None and y.units is not None and _shift_factor(y):
            assert isinstance(y.units, int)
            scale = 10**y.places
            lo, hi = _product_bounds(r.lo, r.hi, y.units, y.units)
            if _fits(lo, hi) and r.dhi * scale < SAFE_UNITS:
                den = r.den * scale if scale != 1 else r.den
                return _Num(ratio=_Ratio(r.num * y.units, den, lo, hi, r.dhi * scale))
    return _f_mul(a, b)


def _div(a: _Num, b: _Num, fail: Array | None, active: Array | None) -> _Num:
    """``a / b``; rows dividing by zero are marked in ``fail`` (when given)."""
    if a.units is not None and b.units is not None:
        ka, kb = 10**a.places, 10**b.places
        nlo, nhi = a.lo * kb, a.hi * kb
        dmag = max(-b.lo, b.hi) * ka
        if not (_fits(nlo, nhi) and dmag < SAFE_UNITS):
            _tighten(a), _tighten(b)
            nlo, nhi = a.lo * kb, a.hi * kb
            dmag = max(-b.lo, b.hi) * ka
        if _fits(nlo, nhi) and dmag < SAFE_UNITS:
            num = a.units * kb if kb != 1 else a.units
            den = b.units * ka if ka != 1 else b.units
            if isinstance(den, int) and den == 0:  # a constant zero
                if fail is not None:
                    _mark(fail, active, np.True_)
                return _Num.exact(0, 0, 0, 0)
            if b.lo > 0:  # positive: nothing to fix
                return _Num(ratio=_Ratio(num, den, nlo, nhi, dmag))
            if b.hi < 0:
                return _Num(ratio=_Ratio(-num, -den, -nhi, -nlo, dmag))
            is_zero = den == 0
            if fail is not None:
                _mark(fail, active, is_zero)
            negative = den < 0
            den = np.where(is_zero, 1, np.abs(den))
            num = np.where(negative, -num, num)
            mag = max(-nlo, nhi)
            return _Num(ratio=_Ratio(num, den, -mag, mag, max(dmag, 1)))
    # b is 0 exactly where its float is (a correctly rounded ratio is 0 only when exactly
    # 0); a float-only b near 0 is left to the row engine.
    zero: Any = b.f == 0
    if fail is not None:
        unsure = zero if b.units is not None or b.ratio is not None else _unsure(b, _ZERO)
        _mark(fail, active, unsure)
    return _f_div(a, b, zero)


def _quantize(v: _Num, places: int, mode: str, state: _State, active: Array | None) -> _Num:
    """Round to ``places`` decimals like ``Decimal.quantize`` with ``mode``."""
    if v.units is not None:
        if v.places <= places:
            aligned = _aligned(v, places)
            if aligned is not None:
                return _Num.exact(aligned[0], places, aligned[1], aligned[2])
        else:
            step = 10 ** (v.places - places)
            units = _round_div(v.units, step, mode, nonneg=v.lo >= 0)
            return _Num.exact(units, places, v.lo // step, -(-v.hi // step))
    r = _as_ratio(v)
    if r is not None:
        k = 10**places
        if not _fits(r.lo * k, r.hi * k) and isinstance(r.num, np.ndarray):
            r = _Ratio(r.num, r.den, *_int_bounds(r.num), r.dhi)
        if _fits(r.lo * k, r.hi * k):
            # |num / den| <= |num| (den >= 1); the scaled numerator below 2**53 also keeps
            # the engine's 34-digit quotient on the same side of every rounding edge.
            units = _round_div(r.num * k if k != 1 else r.num, r.den, mode, nonneg=r.lo >= 0)
            return _Num.exact(units, places, min(r.lo * k, 0), max(r.hi * k, 0))
    return _quantize_float(v, places, mode, state, active)


def _quantize_float(v: _Num, places: int, mode: str, state: _State, active: Array | None) -> _Num:
    """Round from the float: rows whose value may lie on the other side of a rounding edge
    (within its error bound and a margin) are marked uncertain."""
    scale = float(10**places)
    with np.errstate(over="ignore", invalid="ignore"):
        y = v.f * scale
        ay = np.abs(y)
        margin = v.err * scale + ay * ROUNDING + TOLERANCE * np.maximum(1.0, ay)
    base = np.floor(ay)
    frac = ay - base
    if mode in ("half_up", "half_even", "half_down"):
        edge = ~(np.abs(frac - 0.5) > margin)
        if mode == "half_up":
            rounded = np.floor(ay + 0.5)
        elif mode == "half_down":
            rounded = np.ceil(ay - 0.5)
        else:
            rounded = np.round(ay)
    else:
        edge = ~((frac > margin) & (1 - frac > margin))
        away = {"up": True, "down": False}.get(mode)
        if away is None:  # ceiling / floor depend on the sign
            rounded = np.where((y >= 0) == (mode == "ceiling"), np.ceil(ay), base)
        else:
            rounded = np.ceil(ay) if away else base
    _mark(state.uncertain, active, edge)
    big = ~(rounded < SAFE_UNITS)  # NaN too
    _mark(state.fail, active, big)
    units = np.where(big, 0.0, np.sign(y) * rounded).astype(np.int64)
    lo, hi = _int_bounds(units)
    return _Num(None, units, places, lo, hi, tight=True)


def _round_div(num: Array | int, den: Array | int, mode: str, *, nonneg: bool) -> Any:
    """Exact rounding of ``num / den`` (den >= 1, |num| and den below 2**53) to a whole
    number, like ``Decimal.quantize`` with ``mode``."""
    if isinstance(den, int) and den == 1:
        return num
    if nonneg:
        if mode == "half_up":  # floor(x + 1/2), the new array reused in place
            twice = num * 2
            twice += den
            twice //= den * 2
            return twice
        if mode in ("floor", "down"):
            return num // den
        if mode in ("ceiling", "up"):
            return -(-num // den)
    q = num // den  # floor, for either sign
    r = num - q * den  # 0 <= r < den
    if mode == "floor":
        return q
    if mode in ("half_up", "half_down", "half_even"):
        twice = 2 * r
        # a tie goes to the even neighbour, away from zero (half_up) or towards it
        tie_up = q % 2 == 1 if mode == "half_even" else num > 0 if mode == "half_up" else num < 0
        up = (twice > den) | ((twice == den) & tie_up)
    elif mode == "ceiling":
        up = r > 0
    elif mode == "up":
        up = (r > 0) & (num > 0)
    else:  # down
        up = (r > 0) & (num < 0)
    return q + up


# --------------------------------------------------------------------------- formulas


class _Evaluator:
    def __init__(self, cols: Columns, state: _State, scorer: VectorisedScorer) -> None:
        self.cols = cols
        self.values: dict[str, Any] = {}
        self.state = state
        self.n = cols.rows
        self.options = scorer.options
        self.symbols = scorer.compiled._symbols
        self.formula_cache = scorer.formula_cache
        self.consts = scorer.consts
        self.tables = scorer.tables

    def const(self, value: Decimal) -> _Num:
        # Equal values share an entry whatever their places (1.0 and 1): either is exact.
        num = self.consts.get(value)
        if num is None:
            num = self.consts[value] = _const(value)
        return num

    def formula(self, source: str, active: Array | None) -> Any:
        expr = self.formula_cache.get(source)
        if expr is None:
            from perfscore.formula import compile_formula

            expr = self.formula_cache[source] = compile_formula(source, self.symbols).expr
        return self.eval(expr, active)

    def name(self, ident: str) -> Any:
        values = self.values
        if ident in values:
            return values[ident]
        cols = self.cols
        value: Any
        if ident in cols.bools:
            value = cols.bools[ident]
        elif ident in cols.codes:
            value = ("code", ident, cols.codes[ident])
        elif ident in cols.units:
            units, places = cols.units[ident]
            units = np.asarray(units, dtype=np.int64)
            lo, hi = _int_bounds(units)
            if _fits(lo, hi) and places <= MAX_PLACES:
                value = _Num(cols.floats[ident], units, places, lo, hi, tight=True)
            else:
                value = _Num(cols.floats[ident])
        elif ident in cols.floats:
            value = _Num(cols.floats[ident])
        else:
            raise Unsupported(f"name {ident!r}")
        values[ident] = value
        return value

    def eval(self, expr: Any, active: Array | None) -> Any:
        state = self.state
        if isinstance(expr, Const):
            value = expr.value
            if isinstance(value, bool):
                return np.bool_(value)
            if isinstance(value, str):
                return ("text", value)
            return self.const(value)
        if isinstance(expr, Name):
            return self.name(expr.id)
        if isinstance(expr, Unary):
            x = self.eval(expr.operand, active)
            if expr.op == "not":
                return ~x
            if expr.op == "-":
                if x.units is not None:
                    return _Num.exact(-x.units, x.places, -x.hi, -x.lo)
                if x.ratio is not None:
                    r = x.ratio
                    return _Num(ratio=_Ratio(-r.num, r.den, -r.hi, -r.lo, r.dhi))
                return _float(-x.f, x.err)
            return x
        if isinstance(expr, Binary):
            a, b = self.eval(expr.left, active), self.eval(expr.right, active)
            op = expr.op
            if op == "+":
                return _add(a, b)
            if op == "-":
                return _sub(a, b)
            if op == "*":
                return _mul(a, b)
            if op == "/":
                return _div(a, b, state.fail if state.zero is None else state.zero, active)
            return _power(a, b, state, active)
        if isinstance(expr, Compare):
            left = self.eval(expr.operands[0], active)
            result = None
            for op, operand in zip(expr.ops, expr.operands[1:], strict=True):
                right = self.eval(operand, active)
                test = self._compare(op, left, right, active)
                result = test if result is None else result & test
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
            if isinstance(test, np.bool_ | bool):
                return self.eval(expr.body if test else expr.orelse, active)
            body = self.eval(expr.body, test if active is None else active & test)
            orelse = self.eval(expr.orelse, ~test if active is None else active & ~test)
            return _where(test, body, orelse)
        if isinstance(expr, Call):
            return self.call(expr, active)
        raise Unsupported(type(expr).__name__)

    def _compare(self, op: str, a: Any, b: Any, active: Array | None) -> Any:
        if isinstance(a, tuple) or isinstance(b, tuple):
            code = a if isinstance(a, tuple) and a[0] == "code" else b
            text = b if code is a else a
            options = self.options[code[1]]
            k = options.index(text[1]) if text[1] in options else -2
            eq = code[2] == k
            return eq if op == "==" else ~eq
        if isinstance(a, _Num):
            return _compare(op, a, b, self.state, active)
        return (a == b) if op == "==" else (a != b)

    def call(self, expr: Call, active: Array | None) -> _Num:
        args = [self.eval(a, active) for a in expr.args]
        name = expr.func
        state = self.state
        if name in ("min", "max"):
            out = args[0]
            for other in args[1:]:
                out = _pick(name, out, other, state, active)
            return out  # type: ignore[no-any-return]
        if name == "abs":
            x = args[0]
            if x.units is not None:
                return _Num.exact(np.abs(x.units), x.places, *_abs_bounds(x.lo, x.hi))
            if x.ratio is not None:
                r = x.ratio
                return _Num(ratio=_Ratio(np.abs(r.num), r.den, *_abs_bounds(r.lo, r.hi), r.dhi))
            return _float(np.abs(x.f), x.err)
        if name == "clamp":
            # lo if x < lo else hi if x > hi else x: lo wins when lo > hi, as in the engine
            x, lo, hi = args
            low = _compare("<", x, lo, state, active)
            return _where(low, lo, _pick("min", x, hi, state, active))  # type: ignore[no-any-return]
        if name == "round":
            second = expr.args[1] if len(expr.args) > 1 else None
            places = int(second.value) if isinstance(second, Const) else 0
            return _quantize(args[0], places, "half_up", state, active)
        return _quantize(args[0], 0, "floor" if name == "floor" else "ceiling", state, active)


def _power(a: _Num, b: _Num, state: _State, active: Array | None) -> _Num:
    """``a ** b`` in floats, never exact. The row engine refuses an exponent that is not
    a whole number within ±MAX_EXPONENT, and ``0 ** b`` for ``b <= 0``: those rows
    (and any exponent not known exactly) are left to it."""
    if b.units is None:  # an exponent not known exactly: every row to the engine
        _mark(state.fail, active, np.True_)
        return _Num.exact(0, 0, 0, 0)
    scale = 10**b.places
    limit = MAX_EXPONENT * scale
    fa, ea = a.f, a.err
    k = np.abs(b.f)  # a whole number where the row is not refused
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        f = np.power(fa, b.f)
        # |a**k - fa**k| <= |fa**k| ((1 - r)**-|k| - 1), r = ea / |fa|, for either sign of
        # k; and np.power's own error of a few units in the last place.
        r = ea / np.abs(fa)
        grow = np.expm1(-k * np.log1p(-np.minimum(r, 1.0)))
        err = np.abs(f) * (grow + 4 * ROUNDING)
    bad: Any = ~np.isfinite(f) | ~np.isfinite(err)
    bad = bad | (b.units % scale != 0) | (b.units > limit) | (b.units < -limit)
    zero_base = a.units == 0 if a.units is not None else _unsure(a, _ZERO)
    _mark(state.fail, active, bad | (zero_base & (b.units <= 0)))
    return _float(np.where(bad, 0.0, f), np.where(bad, 0.0, err))


def _abs_bounds(lo: int, hi: int) -> tuple[int, int]:
    if lo >= 0:
        return lo, hi
    if hi <= 0:
        return -hi, -lo
    return 0, max(-lo, hi)


def _pick(which: str, a: _Num, b: _Num, state: _State, active: Array | None) -> _Num:
    """``min(a, b)`` or ``max(a, b)``: on ties the two are equal, so which one is kept
    does not matter."""
    exact = _exact_pair(a, b)
    if exact is not None:
        ua, ub, places, alo, ahi, blo, bhi = exact
        if which == "min":
            if ahi <= blo:
                return a if a.places == places else _Num.exact(ua, places, alo, ahi)
            if bhi <= alo:
                return b if b.places == places else _Num.exact(ub, places, blo, bhi)
            return _Num.exact(np.minimum(ua, ub), places, min(alo, blo), min(ahi, bhi))
        if alo >= bhi:
            return a if a.places == places else _Num.exact(ua, places, alo, ahi)
        if blo >= ahi:
            return b if b.places == places else _Num.exact(ub, places, blo, bhi)
        return _Num.exact(np.maximum(ua, ub), places, max(alo, blo), max(ahi, bhi))
    keep_a = _compare("<=" if which == "min" else ">=", a, b, state, active)
    return _where(keep_a, a, b)  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- methods


def _select(pieces: list[tuple[Any, _Num]], default: _Num, n: int) -> _Num:
    """The value of the first piece whose mask holds, else ``default``. The masks are
    disjoint (each piece excludes the ones before it)."""
    consts = [default, *(v for _, v in pieces)]
    ints = [_int_units(v) for v in consts]
    if (
        0 < len(pieces) < 255
        and not any(isinstance(m, np.bool_ | bool) for m, _ in pieces)
        and (places := max(v.places for v in consts)) <= MAX_PLACES
    ):
        table: list[int] = [
            u * 10 ** (places - v.places)
            for u, v in zip(ints, consts, strict=True)
            if u is not None
        ]
        if len(table) == len(consts) and all(abs(t) < SAFE_UNITS for t in table):
            # The index of the piece that holds (0: none), then one lookup.
            code = np.zeros(n, dtype=np.uint8)
            for k, (mask, _) in enumerate(pieces, start=1):
                code += mask.view(np.uint8) * np.uint8(k)
            units = np.take(np.array(table, dtype=np.int64), code)
            return _Num.exact(units, places, min(table), max(table))
    out = default
    for mask, value in reversed(pieces):
        out = _where(mask, value, out)
    return out


def _int_units(v: _Num) -> int | None:
    """The units of a constant, or None."""
    return v.units if isinstance(v.units, int) else None


def _bool_code(masks: Sequence[Any], n: int) -> Array:
    """Per row, the number whose bit ``k`` says whether ``masks[k]`` holds (at most 16)."""
    offset = 0
    code = np.zeros(n, dtype=np.uint16)
    for k, mask in enumerate(masks):
        if isinstance(mask, np.bool_ | bool):
            offset |= int(bool(mask)) << k
        else:
            code += mask.view(np.uint8) * np.uint16(1 << k)
    if offset:
        code += np.uint16(offset)
    return code


def _method(method: Any, weight: Decimal, ev: _Evaluator, state: _State) -> _Num:
    n = ev.n
    w = ev.const(weight)
    zero = ev.const(Decimal(0))
    formula = ev.formula
    if isinstance(method, Deduction):
        return _deduction(method, w, ev, state)
    if isinstance(method, Bands):
        x = formula(method.value, None)
        matched: Any = None
        pieces = []
        for band in method.bands:
            inside: Any = np.True_
            iv = band.range
            if iv.lower is not None:
                inside = inside & _compare(
                    ">=" if iv.include_lower else ">", x, ev.const(iv.lower), state, None
                )
            if iv.upper is not None:
                inside = inside & _compare(
                    "<=" if iv.include_upper else "<", x, ev.const(iv.upper), state, None
                )
            pieces.append((inside if matched is None else inside & ~matched, ev.const(band.points)))
            matched = inside if matched is None else matched | inside
        if method.otherwise is None:
            _mark(state.fail, None, ~matched)
            default = zero
        else:
            default = ev.const(method.otherwise)
        return _select(_broadcast_masks(pieces, n), default, n)
    if isinstance(method, Proportional):
        x = formula(method.value, None)
        full_at = formula(method.full_at, None)
        top = _compare(">=", x, full_at, state, None)
        bottom = _compare("<=", x, zero, state, None)
        zero_full = _compare("==", full_at, zero, state, None)
        _mark(state.fail, None, ~top & ~bottom & zero_full)
        share = _div(_mul(w, x), full_at, None, None)
        return _where(top, w, _where(bottom, zero, share))  # type: ignore[no-any-return]
    if isinstance(method, Checklist):
        return _checklist(method, weight, w, ev, state)
    if isinstance(method, Levels):
        code = formula(method.value, None)
        if not (isinstance(code, tuple) and code[0] == "code"):
            raise Unsupported("levels over a computed value")
        options = ev.options[code[1]]
        if any(o not in method.levels for o in options):
            raise Unsupported("levels with options left out")
        table = [method.levels[o] for o in options]
        level_points = [weight * t if method.scale == "fraction" else t for t in table]
        places = max(_places(p) for p in level_points)
        ints = [int(p.scaleb(places)) for p in level_points]
        if places > MAX_PLACES or any(abs(u) >= SAFE_UNITS for u in ints):
            raise Unsupported("levels with points of too many digits")
        # Unknown codes (-1) are rows the row engine scores; "clip" keeps them in range.
        units = np.take(np.array(ints, dtype=np.int64), code[2], mode="clip")
        return _Num.exact(units, places, min(ints), max(ints))
    if isinstance(method, Cases):
        default = zero if method.otherwise is None else ev.const(method.otherwise)
        matched = None
        pieces = []
        for case in method.cases:
            when = formula(case.when, None)
            pieces.append((when if matched is None else when & ~matched, ev.const(case.points)))
            matched = when if matched is None else matched | when
        if method.otherwise is None:
            _mark(state.fail, None, ~matched)
        return _select(_broadcast_masks(pieces, n), default, n)
    if isinstance(method, FormulaMethod):
        x = formula(method.expression, None)
        return _pick("min", _pick("max", x, zero, state, None), w, state, None)
    raise Unsupported(f"method {getattr(method, 'method', '?')}")


def _broadcast_masks(pieces: list[tuple[Any, _Num]], n: int) -> list[tuple[Any, _Num]]:
    """Pieces whose mask is a constant become full masks (a constant is rare here)."""
    return [(np.full(n, bool(m)) if isinstance(m, np.bool_ | bool) else m, v) for m, v in pieces]


def _deduction(method: Deduction, w: _Num, ev: _Evaluator, state: _State) -> _Num:
    x = ev.formula(method.value, None)
    t = ev.const(method.threshold)
    gap = _sub(x, t) if method.direction == "over" else _sub(t, x)
    per = ev.const(method.deduct.per)
    points = ev.const(method.deduct.points)
    floor = ev.const(method.floor)
    cap = None if method.max_deduction is None else ev.const(method.max_deduction)
    steps = method.deduct.steps
    exact = _exact_pair(gap, per) if steps != "pro_rata" else None
    if exact is not None and exact[5] > 0:
        # Whole steps on fixed point: where the value is within the threshold the count
        # is 0, nothing is lost and the score is the weight (the floor is at most the
        # weight), exactly the row engine's "full marks" branch.
        g, p, _, glo, ghi, _, _ = exact
        g, glo, ghi = np.maximum(g, 0) if glo < 0 else g, max(glo, 0), max(ghi, 0)
        if steps == "whole":
            count = g // p if p != 1 else g
            count_hi = ghi // p
        else:
            count = -(-g // p) if p != 1 else g
            count_hi = -(-ghi // p)
        lost = _mul(_Num.exact(count, 0, glo // p, count_hi), points)
        if cap is not None:
            lost = _pick("min", lost, cap, state, None)
        return _pick("max", _sub(w, lost), floor, state, None)
    zero = ev.const(Decimal(0))
    full = _compare("<=", gap, zero, state, None)
    live = ~full
    # per > 0 (checked at load)
    count = _f_div(gap, per, np.False_)
    if steps != "pro_rata":
        mode = "floor" if steps == "whole" else "ceiling"
        count = _quantize_float(count, 0, mode, state, live)
    lost = _mul(count, points)
    if cap is not None:
        lost = _where(_compare(">", lost, cap, state, live), cap, lost)
    result = _sub(w, lost)
    result = _where(_compare("<", result, floor, state, live), floor, result)
    return _where(full, w, result)  # type: ignore[no-any-return]


def _checklist_table(
    method: Checklist, w: _Num, floor: _Num, ev: _Evaluator
) -> tuple[Array, int, int, int] | None:
    """For a checklist of conditions only: its score for each combination of items met
    (bit k: item k), computed once as the row engine computes it, in Python ints."""
    if any(item.count is not None for item in method.items) or len(method.items) > 12:
        return None
    consts = [w, floor, *(ev.const(item.points) for item in method.items)]
    places = max(c.places for c in consts)
    scaled = [_int_units(c) for c in consts]
    if places > MAX_PLACES or any(u is None for u in scaled):
        return None
    ints: list[int] = [
        u * 10 ** (places - c.places) for u, c in zip(scaled, consts, strict=True) if u is not None
    ]
    wu, fu, pu = ints[0], ints[1], ints[2:]
    earn = method.mode == "earn"
    table = []
    for code in range(1 << len(pu)):
        met = [code >> k & 1 == 1 for k in range(len(pu))]
        if earn:
            got = sum(p for p, m in zip(pu, met, strict=True) if m)
        else:
            got = wu - sum(p for p, m in zip(pu, met, strict=True) if not m)
        table.append(max(min(got, wu), fu))  # capped at the weight, then floored
    if any(abs(t) >= SAFE_UNITS for t in table):
        return None
    return np.array(table, dtype=np.int64), places, min(table), max(table)


def _checklist(method: Checklist, weight: Decimal, w: _Num, ev: _Evaluator, state: _State) -> _Num:
    n = ev.n
    earn = method.mode == "earn"
    zero = ev.const(Decimal(0))
    floor = ev.const(method.floor)
    key = ("checklist", id(method), weight)  # a method object may serve leaves of two weights
    if key not in ev.tables:
        ev.tables[key] = _checklist_table(method, w, floor, ev)
    table = ev.tables[key]
    if table is not None:
        # Only conditions: the score of each combination of items met, looked up.
        units, places, lo, hi = table
        masks = [ev.formula(item.met, None) for item in method.items]  # type: ignore[arg-type]
        return _Num.exact(np.take(units, _bool_code(masks, n)), places, lo, hi)
    total = zero
    for item in method.items:
        p = ev.const(item.points)
        if item.count is not None:
            count = ev.formula(item.count, None)
            lost = _mul(p, count)
            lost = _where(_compare(">", lost, zero, state, None), lost, zero)
            total = _add(total, lost)
        else:
            met = ev.formula(item.met, None)  # type: ignore[arg-type]
            total = _add(total, _where(met if earn else ~met, p, zero))
    result = total if earn else _sub(w, total)
    return _pick("max", _pick("min", result, w, state, None), floor, state, None)


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
        if any(node.node.alternatives for node in compiled._nodes):
            raise Unsupported("alternatives (二者择其一)")
        self.options = {
            k: list(v.options or ()) for k, v in rubric.inputs.items() if v.kind == "choice"
        }
        self.rounding = rubric.rounding
        self.formula_cache: dict[str, Any] = {}
        self.consts: dict[Decimal, _Num] = {}
        #: lookup tables of leaves, computed on first use (constants of the rubric only)
        self.tables: dict[tuple[str, int, Decimal], Any] = {}
        #: :meth:`_plan_table` by pattern of not-applicable leaves, computed on first use
        self.plans: dict[tuple[bool, ...], tuple[Array, Array, Array]] = {}

    def _move_weights(self, block: Array, leaf_na: Sequence[Array | None], state: _State) -> None:
        """Not-applicable leaves and their weights, as arrays: the rows of each pattern of
        not-applicable leaves (a population has few) take the row engine's own plan for
        it (:meth:`CompiledRubric._na_plan`): a leaf not applicable scores its full marks
        or 0, and each leaf whose weight changed scales its score, rounded exactly with
        integers."""
        compiled = self.compiled
        columns = [k for k, na in enumerate(leaf_na) if na is not None]
        masks: list[Array] = [leaf_na[k] for k in columns]
        if not columns:
            return
        rule = self.rounding.score
        scale = 10**rule.places
        position = {leaf.index: k for k, leaf in enumerate(compiled._leaves)}
        if (compiled.rubric.total * scale) ** 2 >= SAFE_UNITS:
            # products of scores and weights could exceed what is exact: the engine's
            _mark(state.fail, None, np.logical_or.reduce(masks))
            return
        if len(columns) <= 16:  # each row's pattern as the bits of a small integer
            code = np.zeros(len(masks[0]), dtype=np.int64)
            for bit, mask in enumerate(masks):
                code |= mask.astype(np.int64) << bit
            seen = np.zeros(1 << len(columns), dtype=bool)
            seen[code] = True
            codes = np.flatnonzero(seen)
            lookup = np.zeros(1 << len(columns), dtype=np.int64)
            lookup[codes] = np.arange(len(codes))
            inverse = lookup[code]
            patterns = (codes[:, None] >> np.arange(len(columns))) & 1 != 0
        else:
            patterns, inverse = np.unique(np.stack(masks, axis=1), axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        count = len(compiled._leaves)
        # Each leaf's change under each pattern, as tables indexed by pattern: a fixed
        # score (full marks or 0), or its weight scaled from ``den`` to ``num`` units.
        fixed = np.full((count, len(patterns)), -1, dtype=np.int64)
        num = np.ones((count, len(patterns)), dtype=np.int64)
        den = np.ones((count, len(patterns)), dtype=np.int64)
        for p, pattern in enumerate(patterns.tolist()):
            full = [False] * count
            for k, off in zip(columns, pattern, strict=True):
                full[k] = off
            key = tuple(full)
            table = self.plans.get(key)
            if table is None:
                table = self.plans[key] = self._plan_table(key, position)
            fixed[:, p], num[:, p], den[:, p] = table
        touched = (fixed >= 0) | (den != num)
        # Every (leaf, row) that its row's pattern changes, in one go: the leaves each
        # pattern changes, listed pattern by pattern, repeated for each row of it.
        changed = touched.sum(axis=0)
        rows = np.flatnonzero(changed[inverse])
        which = inverse[rows]
        per_row = changed[which]
        cells_count = int(per_row.sum())
        if not cells_count:
            return
        listed = np.nonzero(touched.T)[1]  # by pattern, then by leaf
        first = np.cumsum(changed) - changed  # where each pattern's leaves start
        row_first = np.cumsum(per_row) - per_row
        leaves = listed[
            np.repeat(first[which] - row_first, per_row) + np.arange(cells_count, dtype=np.int64)
        ]
        which = np.repeat(which, per_row)
        # flat positions in the block (C order, a view) and in the tables
        cells = leaves * block.shape[1] + np.repeat(rows, per_row)
        entries = leaves * len(patterns) + which
        flat = block.reshape(-1)
        points = flat[cells]
        fix = fixed.reshape(-1)[entries]
        points = np.where(fix >= 0, fix, points)
        # an unchanged weight is num == den == 1: the rounding gives the points back
        flat[cells] = _round_div(
            points * num.reshape(-1)[entries],
            den.reshape(-1)[entries],
            rule.mode,
            nonneg=True,
        )

    def _plan_table(
        self, pattern: tuple[bool, ...], position: Mapping[int, int]
    ) -> tuple[Array, Array, Array]:
        """The row engine's plan for a pattern of not-applicable leaves, as three
        columns of units by leaf: the fixed score (-1: none), and the factor
        ``num / den`` its weight is scaled by."""
        count = len(pattern)
        fixed = np.full(count, -1, dtype=np.int64)
        num = np.ones(count, dtype=np.int64)
        den = np.ones(count, dtype=np.int64)
        if any(pattern):
            places = self.rounding.score.places
            plan = self.compiled._na_plan(pattern)
            for index, value in plan.fixed.items():
                fixed[position[index]] = int(value.scaleb(places))
            for k, _, eff, weight in plan.scaled:
                num[k] = int(eff.scaleb(places))
                den[k] = int(weight.scaleb(places))
        return fixed, num, den

    def _refuse(
        self, cols: Columns, redo: Array, exact: dict[int, ScoreResult | PerfscoreError]
    ) -> None:
        """The rows whose inputs the row engine refuses, found and reported in bulk: a row
        marked ``invalid`` only by its inputs' values is checked on those inputs alone,
        with the engine's own :func:`~perfscore._inputs.validate_inputs` (once for each
        distinct set of values); where that raises, the engine raises the same error
        for the whole row (every other input of the row was read and found valid), and
        the row is taken off ``redo``. One error object serves every row that has it."""
        rows = redo & cols.invalid
        if cols.unchecked is not None:
            rows &= ~cols.unchecked
        index = np.flatnonzero(rows)
        if not len(index):
            return
        records = cols.records
        array_records = isinstance(records, ArrayRecords)
        picked = [] if array_records else [records[i] for i in index.tolist()]
        # Each row's flagged inputs, in the rubric's order: (id, present, raw value), and
        # the key of each (its raw value by _value_key).
        flagged: list[list[tuple[str, bool, Any]]] = [[] for _ in range(len(index))]
        keys: list[list[tuple[str, bool, tuple[str, str]]]] = [[] for _ in range(len(index))]
        for name, marks in cols.flagged.items():
            at = np.flatnonzero(marks[index])
            if not len(at):
                continue
            if isinstance(records, ArrayRecords):
                values = records.values(name, index[at])
                # a null in a column given is an empty value, as in a record
                present = [name in records.columns] * len(values)
            else:
                values = [picked[j].get(name) for j in at.tolist()]
                present = [name in picked[j] for j in at.tolist()]
            for j, value, given in zip(at.tolist(), values, present, strict=True):
                flagged[j].append((name, given, value))
                keys[j].append((name, given, _value_key(value)))
        declared = self.compiled.input_specs.keys()
        rules = {rule.id: rule for rule in self.compiled._inputs}
        found: dict[tuple[Any, ...], PerfscoreError | None] = {}
        refused: list[int] = []
        for k, i in enumerate(index.tolist()):
            if not array_records and not declared >= picked[k].keys():
                continue  # an unknown key: the row engine reports it
            key = tuple(keys[k])
            error = found.get(key, _UNSEEN)
            if error is _UNSEEN:
                which = flagged[k]
                error = found[key] = _validate(
                    [rules[name] for name, _, _ in which],
                    {name: value for name, given, value in which if given},
                )
            if error is not None:
                exact[i] = error
                refused.append(i)
        redo[refused] = False

    def score(self, cols: Columns) -> VectorResult:
        """Score every row of ``cols``: exactly as the row engine, rows it must score
        (uncertain or uncovered) scored by it, rows refused for their inputs' values
        reported with its error (:meth:`_refuse`)."""
        compiled, n = self.compiled, cols.rows
        state = _State(n, np.zeros(n, dtype=bool), np.array(cols.invalid, dtype=bool))
        ev = _Evaluator(cols, state, self)
        derived = ev.values
        # Rows where each value is not applicable: a missing optional input, a value
        # reading one, a not-applicable fallback. Whatever is marked on those rows while
        # such a value is computed is forgotten: it is never read there.
        na_of: dict[str, Array] = {k: v for k, v in cols.missing.items() if v.any()}
        for d in compiled._derived:
            na = _any_of(na_of, d.formula.names)
            fallback = d.on_zero_division
            saved = state.snapshot() if na is not None or fallback is not None else None
            if fallback is not None:
                state.zero = np.zeros(n, dtype=bool)
            try:
                value = ev.eval(d.formula.expr, None)
            finally:
                zero, state.zero = state.zero, None
            if isinstance(value, _Num):
                if d.as_percent:
                    value = _mul(value, ev.const(Decimal(100)))
                if d.rounding is not None:
                    value = _quantize(value, d.rounding.places, d.rounding.mode, state, None)
            if zero is not None and saved is not None:
                # A division by zero where nothing else failed: the fallback, as the engine
                # gives it (a row where something else failed too is the engine's).
                zero &= ~(state.fail & ~saved[0])
                if zero.any():
                    state.restore(saved, zero)
                    if fallback == "not_applicable":
                        na = zero if na is None else na | zero
                    else:
                        assert isinstance(fallback, Decimal)
                        value = _where(zero, ev.const(fallback), value)
            if na is not None and saved is not None:
                state.restore(saved, na)
                na_of[d.id] = na
            derived[d.id] = value
        rule = self.rounding.score
        places = rule.places
        leaf_units: dict[str, Array] = {}
        # One block for every leaf's scores (a row each): one allocation, not one per leaf.
        block = _scratch(len(compiled._leaves), n)
        leaf_na: list[Array | None] = []
        for k, leaf in enumerate(compiled._leaves):
            na = _any_of(na_of, leaf.reads)
            saved = state.snapshot() if na is not None or leaf.na_when is not None else None
            if leaf.na_when is not None:
                when = ev.eval(leaf.na_when.expr, None)
                when = np.zeros(n, dtype=bool) | when
                if na is not None:
                    when &= ~na  # the engine does not evaluate it there
                na = when if na is None else na | when
            raw = _method(leaf.node.scoring, leaf.node.weight, ev, state)
            score = _quantize(raw, places, rule.mode, state, None)
            aligned = _aligned(score, places) if score.units is not None else None
            if aligned is None:  # too large to be a score: the row engine says why
                _mark(state.fail, None, np.True_ if na is None else ~na)
                block[k] = 0
            else:
                block[k] = aligned[0]
            if na is not None and saved is not None:
                state.restore(saved, na)
            leaf_na.append(na if na is not None and na.any() else None)
            leaf_units[leaf.node.id] = block[k]
        self._move_weights(block, leaf_na, state)
        # Leaf scores of rows scored here lie within [0, weight]; a row with a value outside
        # (whose sum could wrap around) is a row the engine scores anyway.
        unrounded = block.sum(axis=0) if len(block) else np.zeros(n, dtype=np.int64)
        total_rule = self.rounding.total
        if total_rule.places >= places:
            total_units = unrounded * 10 ** (total_rule.places - places)
        else:
            total_units = _round_div(
                unrounded, 10 ** (places - total_rule.places), total_rule.mode, nonneg=False
            )
        total_places = total_rule.places
        basis, basis_places = (
            (total_units, total_places)
            if self.rounding.grade_on == "rounded"
            else (unrounded, places)
        )
        grade_index = np.full(n, -1, dtype=np.int64)
        names = tuple(g.name for g in compiled._grades)
        scale = 10**basis_places
        for k, grade in enumerate(compiled._grades):
            inside: Any = np.True_
            iv = grade.range
            if iv.lower is not None:
                lo = _grid_bound(iv.lower * scale, include=iv.include_lower, lower=True)
                inside = inside & (basis >= lo)
            if iv.upper is not None:
                hi = _grid_bound(iv.upper * scale, include=iv.include_upper, lower=False)
                inside = inside & (basis <= hi)
            grade_index = np.where((grade_index < 0) & inside, k, grade_index)
        state.fail |= grade_index < 0
        # Grade caps lower the grade where their condition holds; the grades are ordered
        # best first, so "at most" is "an index no smaller than".
        for cap in compiled._caps:
            limit = names.index(cap.max_grade)
            na = _any_of(na_of, cap.when.names)
            saved = state.snapshot() if na is not None else None
            hit = ev.eval(cap.when.expr, None) & (grade_index >= 0) & (grade_index < limit)
            if na is not None and saved is not None:
                state.restore(saved, na)
                hit = hit & ~na  # a cap reading a value not applicable does not apply
            grade_index = np.where(hit, limit, grade_index)
        exact: dict[int, ScoreResult | PerfscoreError] = {}
        redo_mask = state.fail | state.uncertain
        if cols.flagged:
            self._refuse(cols, redo_mask, exact)
        redo = np.flatnonzero(redo_mask).tolist()
        records = cols.records
        many = records.many(redo) if isinstance(records, ArrayRecords) else None
        for k, i in enumerate(redo):
            try:
                record = records[i] if many is None else many[k]
                exact[i] = compiled.score(record, explain=False)
            except PerfscoreError as error:
                exact[i] = error
        return VectorResult(
            total_units, total_places, np.maximum(grade_index, 0), names, leaf_units, exact, places
        )


def _scratch(count: int, n: int) -> Array:
    """An int64 array of ``count`` rows of ``n``, uninitialised. Where pyarrow is loaded
    already, its buffer comes from pyarrow's memory pool, which keeps freed pages for the
    next call; numpy's own large arrays are fresh pages on each call where malloc's
    thresholds are fixed (as in Dask's worker processes)."""
    pa = sys.modules.get("pyarrow")
    if pa is None or count * n * 8 < _SCRATCH_POOLED:
        return np.empty((count, n), dtype=np.int64)
    buffer = pa.allocate_buffer(count * n * 8)
    return np.frombuffer(buffer, dtype=np.int64).reshape(count, n)


#: Arrays of at least this many bytes are taken from pyarrow's pool (by :func:`_scratch`):
#: malloc's least threshold for memory of its own mapping.
_SCRATCH_POOLED = 128 * 1024


#: A key :meth:`VectorisedScorer._refuse` has not validated yet.
_UNSEEN: Any = object()


def _value_key(value: Any) -> tuple[str, str]:
    """A raw value as a key: its type and its repr (``0.1`` the float and ``0.1`` the
    text, or a Decimal's spelling, are told apart; every NaN is one key)."""
    return (value.__class__.__name__, repr(value))


def _validate(rules: Sequence[InputRule], inputs: Mapping[str, Any]) -> PerfscoreError | None:
    """The error of the row engine's input check of ``inputs`` on ``rules``, or None."""
    try:
        validate_inputs(rules, inputs)
    except PerfscoreError as error:
        # Kept without its traceback: its frames would hold the caller's (the chunk's
        # columns among them) in a reference cycle, left for the garbage collector.
        return error.with_traceback(None)
    return None


def _any_of(na_of: Mapping[str, Array], names: Any) -> Array | None:
    """Rows where any of ``names`` is not applicable, or None when none ever is."""
    found = [na_of[name] for name in names if name in na_of]
    if not found:
        return None
    out = found[0].copy()
    for more in found[1:]:
        out |= more
    return out


def _grid_bound(edge: Decimal, *, include: bool, lower: bool) -> int:
    """The whole number of units a bound admits: ``x > 89.5`` on whole units is
    ``x >= 90``, ``x < 90`` is ``x <= 89``."""
    if edge == edge.to_integral_value():
        whole = int(edge)
        if include:
            return whole
        return whole + 1 if lower else whole - 1
    return math.ceil(edge) if lower else math.floor(edge)


#: How many vectorised scorers :func:`compile_vectorised` keeps, by compiled rubric.
SCORERS = 16
_SCORERS: dict[int, tuple[CompiledRubric, VectorisedScorer]] = {}
_SCORERS_LOCK = threading.Lock()


def compile_vectorised(compiled: CompiledRubric) -> VectorisedScorer:
    """The vectorised scorer of a compiled rubric. Raises :class:`Unsupported` for rubrics
    it does not cover (row groups, scoring methods of your own). The scorers of the last
    :data:`SCORERS` rubrics are kept, with the formulas and tables they built."""
    kept = _SCORERS.get(id(compiled))
    if kept is not None and kept[0] is compiled:
        return kept[1]
    scorer = VectorisedScorer(compiled)
    with _SCORERS_LOCK:
        while len(_SCORERS) >= SCORERS:
            del _SCORERS[next(iter(_SCORERS))]
        _SCORERS[id(compiled)] = (compiled, scorer)
    return scorer
