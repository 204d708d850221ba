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

Cells are read by :func:`perfscore.score_frame`'s rules (one missing-value rule; binary
floats as their shortest repr, ``0.1`` is 0.1) and the result is its frame: ``id``,
``status``, ``total``, ``grade``, every indicator's score (exact decimals, Arrow
``decimal128``), ``issue_code``, ``issue_hint`` and ``errors``. Needs pandas and pyarrow
(``perfscore[distributed]``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import pandas

    from perfscore.engine import CompiledRubric

__all__ = ["result_columns", "score_partition"]

#: How many compiled rubrics a worker keeps, by the text they came from (kept as the key);
#: the least recently used is dropped beyond it. A compiled rubric costs about 1.4 MiB (the
#: Shaoyang rubric, whose text is 29 kB), so a worker holds at most about 22 MiB of them,
#: however many texts it sees.
CACHE_SIZE: Final = 16
_COMPILED: OrderedDict[str, CompiledRubric] = OrderedDict()
_LOCK = threading.Lock()


def _compiled(rubric_text: str) -> CompiledRubric:
    # Keyed by the text itself: a str keeps its hash once computed, so a lookup costs one
    # hash of a text new to the process (Dask hands each task its own copy) and one
    # comparison, far less than a digest of it on every call.
    with _LOCK:
        compiled = _COMPILED.get(rubric_text)
        if compiled is not None:
            _COMPILED.move_to_end(rubric_text)
            return compiled
    from perfscore.engine import compile_rubric
    from perfscore.loading import loads_rubric

    compiled = compile_rubric(loads_rubric(rubric_text, name="<rubric>"))
    with _LOCK:
        _COMPILED[rubric_text] = compiled
        _COMPILED.move_to_end(rubric_text)
        while len(_COMPILED) > CACHE_SIZE:
            _COMPILED.popitem(last=False)
    return compiled


def result_columns(rubric_text: str) -> pandas.DataFrame:
    """An empty frame with the columns and types :func:`score_partition` returns (Dask's
    ``meta``)."""
    import pandas

    from .frames import score_frame

    return score_frame(
        _compiled(rubric_text), pandas.DataFrame({"id": pandas.Series([], dtype=object)})
    )


def score_partition(frame: pandas.DataFrame, rubric_text: str) -> pandas.DataFrame:
    """Score one partition of departments (rows) with the vectorised path: the frame of
    :func:`perfscore.score_frame`, indexed by the partition's own index."""
    from .frames import score_frame

    return score_frame(_compiled(rubric_text), frame)
