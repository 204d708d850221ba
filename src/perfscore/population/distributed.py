"""Running the vectorised path inside a distributed engine, one partition at a time.

For populations that outgrow one machine, the engine you already run (Dask, Spark) splits
the departments into partitions; perfscore scores each partition with the vectorised
path. The rubric travels as its text, and each worker compiles it once (and keeps the
last :data:`CACHE_SIZE` rubrics it compiled)::

    import dask.dataframe as dd
    from perfscore.distributed import score_partition, result_columns

    rubric_text = open("rubrics/shaoyang/dept-overall-2023.yaml", encoding="utf-8").read()
    frame = dd.read_parquet("departments/")            # one row per department
    scores = frame.map_partitions(score_partition, rubric_text, meta=result_columns(rubric_text))
    scores.to_parquet("scores/")

With Spark, ``df.mapInPandas(lambda frames: (score_partition(f, rubric_text) for f in
frames), schema)`` does the same; ``mapInArrow`` works through ``pyarrow.Table.to_pandas``.

Cells are read exactly: decimals, integers and numeric strings as they are, binary floats
through their shortest repr (``0.1`` is ``Decimal("0.1")``). Every result column is text,
so no total is ever a binary float: ``id``, ``status`` (``ok`` / ``failed``), ``total``,
``grade``, one column per leaf score, and ``errors``. Needs pandas (``perfscore[distributed]``).
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import pandas

    from perfscore.engine import CompiledRubric

__all__ = ["result_columns", "score_partition"]

#: How many compiled rubrics a worker keeps, by the text they came from; the least
#: recently used is dropped beyond it. A compiled rubric costs about 1.4 MiB (the Shaoyang
#: rubric), so a worker holds at most about 22 MiB of them, however many texts it sees.
CACHE_SIZE: Final = 16
_COMPILED: OrderedDict[str, CompiledRubric] = OrderedDict()
_LOCK = threading.Lock()
ID_COLUMNS = ("id", "department", "department_id")


def _compiled(rubric_text: str) -> CompiledRubric:
    key = hashlib.sha256(rubric_text.encode("utf-8")).hexdigest()
    with _LOCK:
        compiled = _COMPILED.get(key)
        if compiled is not None:
            _COMPILED.move_to_end(key)
            return compiled
    from perfscore.engine import compile_rubric
    from perfscore.loading import loads_rubric

    compiled = compile_rubric(loads_rubric(rubric_text, name="<rubric>"))
    with _LOCK:
        _COMPILED[key] = compiled
        _COMPILED.move_to_end(key)
        while len(_COMPILED) > CACHE_SIZE:
            _COMPILED.popitem(last=False)
    return compiled


def _cell(value: Any) -> Any:
    """A cell as perfscore reads it: exact decimals, never binary floats."""
    if value is None:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else Decimal(repr(value))
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        return _cell(value.item())
    if isinstance(value, str):
        text = value.strip()
        try:
            return Decimal(text)
        except InvalidOperation:
            return text
    return value


def result_columns(rubric_text: str) -> pandas.DataFrame:
    """An empty frame with the columns :func:`score_partition` returns (Dask's ``meta``)."""
    import pandas

    compiled = _compiled(rubric_text)
    leaves = [leaf.node.id for leaf in compiled._leaves]
    columns = ["id", "status", "total", "grade", *leaves, "errors"]
    return pandas.DataFrame({c: pandas.Series(dtype="object") for c in columns})


def score_partition(frame: pandas.DataFrame, rubric_text: str) -> pandas.DataFrame:
    """Score one partition of departments (rows) with the vectorised path."""
    import numpy
    import pandas

    from perfscore.errors import PerfscoreError

    from . import vectorised

    compiled = _compiled(rubric_text)
    inputs = set(compiled.rubric.inputs)
    id_column = next((c for c in ID_COLUMNS if c in frame.columns), None)
    if id_column:
        ids = [str(v) for v in frame[id_column].tolist()]
    else:
        ids = [str(v) for v in frame.index]
    out = result_columns(rubric_text)
    if not ids:
        return out
    # Integer and boolean columns go to the vectorised path as they are; any other column
    # is read cell by cell as before (exact decimals, an empty cell absent).
    arrays: dict[str, Any] = {}
    for name in frame.columns:
        if name == id_column or name not in inputs:
            continue
        column = frame[name]
        if isinstance(column.dtype, numpy.dtype) and column.dtype.kind in "iub":
            arrays[name] = column.to_numpy()
        else:
            cells = [_cell(v) for v in column.tolist()]
            arrays[name] = numpy.fromiter(cells, dtype=object, count=len(cells))
    columns = vectorised.columns_from_arrays(arrays, compiled)
    result = vectorised.compile_vectorised(compiled).score(columns)
    totals, grades = result.total, result.grade
    leaves = [leaf.node.id for leaf in compiled._leaves]
    rows = []
    for i, dept_id in enumerate(ids):
        exact = result.exact_rows.get(i)
        if isinstance(exact, PerfscoreError):
            messages = "; ".join(issue.message for issue in exact.issues)
            rows.append([dept_id, "failed", None, None, *([None] * len(leaves)), messages])
            continue
        scores = [str(result.leaf_score(leaf, i)) for leaf in leaves]
        rows.append([dept_id, "ok", str(totals[i]), grades[i], *scores, ""])
    return pandas.DataFrame(rows, columns=out.columns)
