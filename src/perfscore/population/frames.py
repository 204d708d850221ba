"""A population in a data frame scored into a data frame of typed columns.

:func:`score_frame` hands a pandas DataFrame's (or a pyarrow Table's, or those of any
frame with the Arrow PyCapsule interface: polars, DuckDB ...) columns to the
vectorised path (:func:`perfscore.vectorised.columns_from_arrays`) and returns one row per
department, in the frame's order:

==================  ===========================================================
column              type
==================  ===========================================================
``id``              text: the ``id`` column (or ``department``, ``department_id``),
                    else the frame's index
``status``          category ``ok`` / ``failed``
``total``           exact decimal: Arrow ``decimal128(38, p)`` with ``p`` the rubric's
                    ``rounding.total.places``; null when failed
``grade``           category of the rubric's grade names; null when failed
one per indicator   exact decimal, ``decimal128(38, p)`` with ``p`` the rubric's
                    ``rounding.score.places``: leaves and branch subtotals, in the
                    rubric's tree order, named by id (``_score`` appended to an id
                    that is a fixed column's name); null when failed
``issue_code``      text: the codes of a failed department's issues, ``; `` between
                    them; null when scored
``issue_hint``      text: their hints, ``; `` between them; null when scored or
                    when no issue has a hint
``errors``          text: the issues' messages, ``; `` between them; null when scored
==================  ===========================================================

The decimal columns are pandas ``ArrowDtype`` columns built from the vectorised path's
fixed-point integers with numpy: no per-row Python for the departments the vectorised
path scores; only the rows it sends to the row engine are filled in one by one.
Needs numpy, pandas and pyarrow.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from perfscore.errors import PerfscoreError

from . import vectorised

if TYPE_CHECKING:
    import pandas

    from perfscore.engine import CompiledRubric

__all__ = ["frame_columns", "score_frame"]

#: Columns that may hold a department's id, in order of preference.
ID_COLUMNS = ("id", "department", "department_id")
_FIXED = ("id", "status", "total", "grade", "issue_code", "issue_hint", "errors")


def frame_columns(compiled: CompiledRubric) -> tuple[str, ...]:
    """The columns of :func:`score_frame`'s result, in order."""
    nodes = [_name(node.node.id) for node in compiled._nodes]
    return ("id", "status", "total", "grade", *nodes, "issue_code", "issue_hint", "errors")


def _name(node_id: str) -> str:
    return f"{node_id}_score" if node_id in _FIXED else node_id


def _source_columns(frame: Any) -> tuple[dict[str, Any], Any, int]:
    """The input columns of a pandas DataFrame or a pyarrow Table, the ids (as text, a
    pandas array) and the rows."""
    import pandas
    import pyarrow as pa

    source: Any
    if not isinstance(frame, pandas.DataFrame | pa.Table) and hasattr(frame, "__arrow_c_stream__"):
        # any frame that speaks the Arrow PyCapsule interface (polars, DuckDB, a
        # RecordBatchReader ...) is read as the Arrow table it hands over
        frame = pa.table(frame)
    if type(frame).__module__.startswith("pyarrow"):
        names = list(frame.column_names)
        id_column = next((c for c in ID_COLUMNS if c in names), None)
        arrays = {name: frame.column(name) for name in names if name != id_column}
        n = frame.num_rows
        source = frame.column(id_column).to_pandas() if id_column else pandas.RangeIndex(n)
    else:
        id_column = next((c for c in ID_COLUMNS if c in frame.columns), None)
        arrays = {
            str(name): values
            for name, values in zip(frame.columns, _column_arrays(frame), strict=True)
            if name != id_column
        }
        n = len(frame)
        source = frame[id_column] if id_column is not None else frame.index
    return arrays, pandas.Series(source, copy=False).astype(str).array, n


def _column_arrays(frame: Any) -> Any:
    """A pandas DataFrame's columns as arrays (numpy or pandas' own), in order: through
    pandas' own iterator where it has one (a tenth of the cost of a Series a column),
    else as Series."""
    arrays = getattr(frame, "_iter_column_arrays", None)
    if arrays is not None:
        return arrays()
    return (values for _, values in frame.items())


def _decimal_words(count: int, n: int) -> tuple[Any, Any]:
    """Room for ``count`` columns of ``n`` Arrow ``decimal128`` values: a ``(count, n,
    2)`` array of int64 words (low, high) and the buffer that holds it. The buffer comes
    from pyarrow's memory pool, which keeps freed pages for the next call: numpy's own
    large arrays are fresh pages on each call where malloc's thresholds are fixed (as in
    Dask's worker processes)."""
    import pyarrow as pa

    buffer = pa.allocate_buffer(max(count * n * 16, 16))
    words = np.frombuffer(buffer, dtype=np.int64, count=count * n * 2).reshape(count, n, 2)
    return words, buffer


def _decimal_arrays(words: Any, buffer: Any, kinds: Sequence[Any], valid: Any) -> list[Any]:
    """Arrow ``decimal128`` arrays, one of each type of ``kinds``, from the rows of
    :func:`_decimal_words`' ``words`` whose low words hold int64 units: each value is 16
    bytes, little-endian two's complement, the high word the sign of the low. The arrays
    share the buffer of words and one validity bitmap, both handed to Arrow without a
    copy."""
    import pyarrow as pa

    n = words.shape[1]
    low = words[:, :, 0]
    if low.size and low.min() < 0:
        words[:, :, 1] = low >> 63
    else:  # no negative score: every high word is 0
        words[:, :, 1] = 0
    validity = None
    if not valid.all():
        validity = pa.py_buffer(np.packbits(valid, bitorder="little"))
    size = n * 16
    return [
        pa.Array.from_buffers(kind, n, [validity, buffer.slice(k * size, size)])
        for k, kind in enumerate(kinds)
    ]


def score_frame(compiled: CompiledRubric, frame: Any) -> pandas.DataFrame:
    """Score every department (row) of ``frame`` (a pandas DataFrame, a pyarrow Table,
    or any frame with the Arrow PyCapsule interface ``__arrow_c_stream__``: polars,
    DuckDB ...) whose columns are named by input id, with the vectorised path; see the module
    docstring for the columns. Values are read by the one missing-value rule (an empty
    cell, NaN, ``pd.NA``, an Arrow null or a missing column is missing) and float64 money
    by the float rule of :func:`perfscore.vectorised.columns_from_arrays`."""
    import pandas
    import pyarrow as pa
    from pandas.arrays import ArrowExtensionArray

    arrays, ids, n = _source_columns(frame)
    columns = vectorised.columns_from_arrays(arrays, compiled)
    result = vectorised.compile_vectorised(compiled).score(columns)
    nodes = compiled._nodes
    rounding = compiled.rubric.rounding
    places, total_places = rounding.score.places, rounding.total.places
    # The total's units, then every node's, written straight into the decimal words.
    words, buffer = _decimal_words(len(nodes) + 1, n)
    total_units = words[0, :, 0]
    total_units[:] = result.total_units
    node_units = words[1:, :, 0]
    for leaf in compiled._leaves:
        node_units[leaf.index] = result.leaf_units[leaf.node.id]
    for i in range(len(nodes) - 1, -1, -1):  # a node's children come after it
        node = nodes[i]
        if node.leaf is None:
            children = node.children
            if not children:
                node_units[i] = 0
                continue
            node_units[i] = node_units[children[0]]
            for child in children[1:]:
                node_units[i] += node_units[child]
    grade_index = np.array(result.grade_index, dtype=np.int64, copy=True)
    valid = np.ones(n, dtype=bool)
    # The texts of failed rows; every other row's None (an object array starts so).
    codes, hints, errors = (np.empty(n, dtype=object) for _ in range(3))
    names = list(result.grade_names)
    ids_of = [node.node.id for node in nodes]
    # The rows the row engine scored: filled in one by one from its results.
    # An error object serves every row that has it (the vectorised path reports rows
    # refused for the same values with one): its texts are written once.
    texts: dict[int, tuple[str, str | None, str]] = {}
    for i, exact in result.exact_rows.items():
        if isinstance(exact, PerfscoreError):
            valid[i] = False
            grade_index[i] = -1
            written = texts.get(id(exact))
            if written is None:
                found = [issue.hint for issue in exact.issues if issue.hint]
                written = texts[id(exact)] = (
                    "; ".join(issue.code for issue in exact.issues),
                    "; ".join(found) if found else None,
                    "; ".join(issue.message for issue in exact.issues),
                )
            codes[i], hints[i], errors[i] = written
            continue
        total_units[i] = int(exact.total.scaleb(total_places))
        grade_index[i] = names.index(exact.grade)
        for k, node_id in enumerate(ids_of):
            node_units[k][i] = int(exact[node_id].score.scaleb(places))
    # Arrays only (no Series, whose indexes the frame would align), taken without a copy.
    out: dict[str, Any] = {
        "id": ids,
        "status": pandas.Categorical.from_codes(
            (~valid).view(np.int8), dtype=pandas.CategoricalDtype(["ok", "failed"])
        ),
    }
    score_type = pa.decimal128(38, places)
    total, *scores = _decimal_arrays(
        words, buffer, [pa.decimal128(38, total_places), *[score_type] * len(nodes)], valid
    )
    out["total"] = ArrowExtensionArray(total)
    out["grade"] = pandas.Categorical.from_codes(grade_index, categories=names)
    for node_id, scored in zip(ids_of, scores, strict=True):
        out[_name(node_id)] = ArrowExtensionArray(scored)
    index = frame.index if hasattr(frame, "index") and not hasattr(frame, "num_rows") else None
    if index is None:
        index = pandas.RangeIndex(n)
    # Text as objects (None where there is none), as Series on the frame's own index: an
    # array would be inferred to be of pandas' string type.
    for name, texts_of in (("issue_code", codes), ("issue_hint", hints), ("errors", errors)):
        out[name] = pandas.Series(texts_of, index=index, dtype=object, copy=False)
    return pandas.DataFrame(out, index=index, copy=False)
