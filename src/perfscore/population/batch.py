"""Score a whole population in one streaming pass, and write one row per department.

:func:`score_many` scores the departments of a population (a folder of input files, a
CSV / TSV or XLSX sheet, JSONL, or any iterable of
:class:`~perfscore.population.Department`) one at a time and yields, in input order, a
:class:`ScoredDepartment` or a :class:`FailedDepartment` for each: one bad department
never costs the good ones, and memory stays flat however many there are.

:func:`write_batch` writes those records to a CSV / TSV, XLSX, JSONL or Parquet file, one
row each, with the columns of :func:`columns`. The file is written whole or not at all:
rows go to a temporary file beside it, which replaces it only once every row is written.
Nothing here prints; :mod:`perfscore.cli` shows progress and the summary.

Decimals stay exact in every format: plain-notation strings in CSV and JSONL;
``decimal128(38, places)`` in Parquet (``places`` from the rubric's rounding); numbers in
XLSX when the number Excel stores is exactly the decimal, text otherwise.
"""

from __future__ import annotations

import contextlib
import csv
import itertools
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Final, Protocol, TypeAlias

from perfscore._escape import spreadsheet_cell
from perfscore._files import temporary_beside
from perfscore._numbers import to_str
from perfscore.engine import CompiledRubric
from perfscore.errors import Issue, PerfscoreError, format_path
from perfscore.results import ScoreResult
from perfscore.review import FINDING_KINDS, ReviewResult

from .readers import Department, read_population

__all__ = [
    "FIXED_COLUMNS",
    "OUTPUT_FORMATS",
    "BatchRecord",
    "BatchSummary",
    "FailedDepartment",
    "PopulationReview",
    "ReviewRecord",
    "ReviewedDepartment",
    "ScoredDepartment",
    "check_output",
    "columns",
    "issues_text",
    "output_format",
    "review_many",
    "review_population",
    "score_many",
    "write_batch",
]

#: Output formats by file suffix; :func:`output_format` reads them.
OUTPUT_FORMATS: Final[Mapping[str, str]] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".xlsx": "xlsx",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}

#: The columns every output starts with; the indicator scores follow, then ``errors``.
FIXED_COLUMNS: Final = ("id", "row", "status", "total", "grade")

#: Rows per Parquet row group: the most rows held in memory before they are written.
PARQUET_BATCH_ROWS: Final = 10_000

#: An XLSX sheet holds at most this many rows, the heading row included.
XLSX_MAX_ROWS: Final = 1_048_576

#: Failed departments kept in a :class:`BatchSummary` by default; the rest are counted.
MAX_FAILURES: Final = 20


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class ScoredDepartment:
    """A department of a population, scored: where it was read, and its result."""

    id: str
    row: int
    source: str
    result: ScoreResult

    @property
    def ok(self) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class FailedDepartment:
    """A department of a population that could not be read or scored, and why.

    ``issues`` come from reading it (a broken JSON line, a file that does not parse) or
    from scoring it (:class:`~perfscore.InputError`, :class:`~perfscore.EvaluationError`).
    """

    id: str
    row: int
    source: str
    issues: tuple[Issue, ...]

    @property
    def ok(self) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class ScoredRow:
    """A department the vectorised path scored, as a batch output row needs it: its
    total, grade and every indicator's score in the rubric's tree order (no
    :class:`~perfscore.ScoreResult` is built). Made by :func:`score_rows`."""

    id: str
    row: int
    source: str
    total: Decimal
    grade: str
    scores: tuple[Decimal, ...]

    @property
    def ok(self) -> bool:
        return True


BatchRecord: TypeAlias = ScoredDepartment | FailedDepartment


def _labels(compiled: CompiledRubric) -> dict[str, str]:
    """Input label -> input id, so that table headings may be the Chinese labels. A label
    two inputs share, or that is another input's id, is left out: ids always win."""
    specs = compiled.input_specs
    counts: dict[str, int] = {}
    for spec in specs.values():
        counts[spec.label] = counts.get(spec.label, 0) + 1
    return {
        spec.label: name
        for name, spec in specs.items()
        if counts[spec.label] == 1 and spec.label not in specs
    }


def score_many(
    compiled: CompiledRubric,
    departments: Iterable[Department] | str | os.PathLike[str],
    *,
    explain: bool = False,
    sheet: str | None = None,
    strict: bool = False,
    warn: Callable[[Issue], None] | None = None,
) -> Iterator[BatchRecord]:
    """Score each department of ``departments``, one at a time, in input order.

    ``departments`` is a path (read with :func:`~perfscore.population.read_population`,
    table headings matched to input ids or to the rubric's input labels) or an iterable
    of :class:`~perfscore.population.Department`. Yields a :class:`ScoredDepartment` or a
    :class:`FailedDepartment` for every department; nothing is held after it is yielded.
    A :class:`~perfscore.PerfscoreError` never escapes: it becomes a failed record. A
    path that is not a population raises :class:`ValueError` when iteration starts.
    ``sheet`` names the sheet of an XLSX population. A table's columns that name no input
    are left out and said once, to ``warn``; ``strict`` refuses them (see
    ``read_population``).
    """
    if isinstance(departments, str | os.PathLike):
        departments = read_population(
            Path(departments),
            labels=_labels(compiled),
            known=compiled.input_specs.keys(),
            sheet=sheet,
            strict=strict,
            warn=warn,
        )
    score = compiled.score
    for department in departments:
        inputs = department.inputs
        if inputs is None:
            issues = department.issues or (Issue.of("input.unreadable"),)
            yield FailedDepartment(department.id, department.row, department.source, issues)
            continue
        try:
            result = score(inputs, explain=explain, source=department.source)
        except PerfscoreError as error:
            yield FailedDepartment(department.id, department.row, department.source, error.issues)
        else:
            yield ScoredDepartment(department.id, department.row, department.source, result)


@dataclass(frozen=True, slots=True)
class ReviewedDepartment:
    """A department of a population, reviewed: where it was read, and its review."""

    id: str
    row: int
    source: str
    review: ReviewResult

    @property
    def ok(self) -> bool:
        return True


ReviewRecord: TypeAlias = ReviewedDepartment | FailedDepartment


def review_many(
    compiled: CompiledRubric,
    departments: Iterable[Department] | str | os.PathLike[str],
    *,
    tolerance: Decimal | int | str = 0,
    strict: bool = False,
    warn: Callable[[Issue], None] | None = None,
) -> Iterator[ReviewRecord]:
    """Review each department of ``departments`` (复核): its ``claimed`` scores against
    the rubric, one at a time, in input order, as :func:`score_many` scores them.

    Yields a :class:`ReviewedDepartment` or a :class:`FailedDepartment` for every
    department; one that cannot be read or scored never costs the others.
    """
    if isinstance(departments, str | os.PathLike):
        departments = read_population(
            Path(departments),
            labels=_labels(compiled),
            known=compiled.input_specs.keys(),
            strict=strict,
            warn=warn,
        )
    for department in departments:
        inputs = department.inputs
        if inputs is None:
            issues = department.issues or (Issue.of("input.unreadable"),)
            yield FailedDepartment(department.id, department.row, department.source, issues)
            continue
        try:
            review = compiled.review(inputs, tolerance=tolerance, source=department.source)
        except PerfscoreError as error:
            yield FailedDepartment(department.id, department.row, department.source, error.issues)
        else:
            yield ReviewedDepartment(department.id, department.row, department.source, review)


@dataclass(frozen=True)
class PopulationReview:
    """A population's reviews: departments by the size of their discrepancy (largest
    first, then by id), the departments that failed, and findings counted by kind."""

    reviewed: tuple[ReviewedDepartment, ...]
    failed: tuple[FailedDepartment, ...]
    counts: Mapping[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": dict(self.counts),
            "departments": [
                {"id": r.id, "source": r.source, **r.review.to_dict()} for r in self.reviewed
            ],
            "failed": [
                {
                    "id": f.id,
                    "source": f.source,
                    "issues": [i.to_dict() for i in f.issues],
                }
                for f in self.failed
            ],
        }


def review_population(records: Iterable[ReviewRecord]) -> PopulationReview:
    """Gather the records of :func:`review_many` into a :class:`PopulationReview`."""
    reviewed: list[ReviewedDepartment] = []
    failed: list[FailedDepartment] = []
    counts: dict[str, int] = dict.fromkeys(FINDING_KINDS, 0)
    for record in records:
        if isinstance(record, ReviewedDepartment):
            reviewed.append(record)
            for kind, n in record.review.counts.items():
                counts[kind] += n
        else:
            failed.append(record)
    reviewed.sort(key=lambda r: (-r.review.discrepancy, -len(r.review.findings), r.row))
    return PopulationReview(tuple(reviewed), tuple(failed), counts)


#: Departments scored together by :func:`score_rows`: as fast as 4096 on the Shaoyang
#: rubric, with half the peak memory (about 75 MB against 140 MB).
CHUNK: Final = 1024


def score_rows(
    compiled: CompiledRubric,
    departments: Iterable[Department] | str | os.PathLike[str],
    *,
    chunk: int | None = None,
    sheet: str | None = None,
    strict: bool = False,
    warn: Callable[[Issue], None] | None = None,
) -> Iterator[BatchRecord | ScoredRow | ScoredChunk]:
    """The records of :func:`score_many` for writing with :func:`write_batch`, scored
    ``chunk`` (:data:`CHUNK`) departments at a time by the vectorised path when numpy is
    installed and the rubric allows it: a department it scores is a :class:`ScoredRow`
    (the same row written, byte for byte); one it sends back to the row engine, or that
    fails, is what :func:`score_many` gives. A JSONL, CSV or TSV population, with
    pyarrow, is read ``chunk`` (:data:`BLOCK`) lines at a time by Arrow, and each block
    comes out as a :class:`ScoredChunk` (its rows written as those records would be). A
    path is read
    as :func:`score_many` reads it (``sheet``, ``strict`` and ``warn`` as there).
    Memory holds one chunk (up to four blocks: see :data:`BLOCK`).

    The modules are imported and the scorer compiled when this is called, before the
    first record is asked for (a signal ending the command then finds the file being
    written, not an import); the population is read as the records are."""
    try:
        from . import vectorised
    except ImportError:  # no numpy
        return score_many(compiled, departments, sheet=sheet, strict=strict, warn=warn)
    try:
        scorer = vectorised.compile_vectorised(compiled)
    except vectorised.Unsupported:
        return score_many(compiled, departments, sheet=sheet, strict=strict, warn=warn)
    if isinstance(departments, str | os.PathLike):
        path = Path(departments)
        blocks = _arrow_blocks(compiled, path, chunk or BLOCK)
        if blocks is not None:
            return _score_blocks(compiled, scorer, blocks)
        departments = read_population(
            path,
            labels=_labels(compiled),
            known=compiled.input_specs.keys(),
            sheet=sheet,
            strict=strict,
            warn=warn,
        )
    return _score_departments(compiled, scorer, departments, chunk or CHUNK)


def _score_departments(
    compiled: CompiledRubric, scorer: Any, departments: Iterable[Department], size: int
) -> Iterator[BatchRecord | ScoredRow]:
    """The records of ``departments``, scored ``size`` at a time by ``scorer``."""
    iterator = iter(departments)
    while True:
        batch = list(itertools.islice(iterator, size))
        if not batch:
            return
        yield from _score_chunk(compiled, scorer, batch)


def _node_units(compiled: CompiledRubric, result: Any, rows: int) -> list[Any]:
    """Each node's scores as integer units (tree order), branches summed as arrays."""
    import numpy

    nodes = compiled._nodes
    units: list[Any] = [None] * len(nodes)
    for leaf in compiled._leaves:
        units[leaf.index] = result.leaf_units[leaf.node.id]
    for i in range(len(nodes) - 1, -1, -1):
        node = nodes[i]
        if node.leaf is None:
            units[i] = sum((units[c] for c in node.children), numpy.zeros(rows, int))
    return units


def _score_chunk(
    compiled: CompiledRubric, scorer: Any, batch: list[Department]
) -> Iterator[BatchRecord | ScoredRow]:
    """The records of one chunk of departments, scored together by ``scorer``."""
    from . import vectorised

    names = list(compiled.input_specs)
    rounding = compiled.rubric.rounding
    # Decimals by units: scores repeat, and one object serves every row of a chunk
    # that has it; made anew for each chunk, so that memory holds one chunk's,
    # however many different totals a population has.
    score_of = _Decimals(rounding.score.places)
    total_of = _Decimals(rounding.total.places)
    inputs = [d.inputs for d in batch if d.inputs is not None]
    # One department at a time, then turned into columns: map and zip run in C.
    table = list(zip(*[tuple(map(record.get, names)) for record in inputs], strict=True))
    arrays = {
        name: list(values) if table else []
        for name, values in zip(names, table or [()] * len(names), strict=True)
    }
    columns = vectorised.columns_from_arrays(arrays, compiled)
    declared = set(names)
    for k, record in enumerate(inputs):
        if not declared.issuperset(record):
            columns.invalid[k] = True  # an unknown input: the row engine reports it
    columns.records = inputs
    result = scorer.score(columns)
    # Each node's scores as integer units, then as Decimals row by row (map and zip in
    # C; a Decimal made once per value and chunk).
    units = _node_units(compiled, result, len(inputs))
    scores = [list(map(score_of.__getitem__, u.tolist())) for u in units]
    totals = list(map(total_of.__getitem__, result.total_units.tolist()))
    grades = [result.grade_names[g] for g in result.grade_index.tolist()]
    by_row = list(zip(*scores, strict=True)) if scores else [() for _ in inputs]
    position = 0
    for department in batch:
        if department.inputs is None:
            yield from score_many(compiled, [department])
            continue
        k = position
        position += 1
        if k in result.exact_rows:
            # The row engine's, scored again with the department's source: its issues
            # and warnings are located there.
            yield from score_many(compiled, [department])
            continue
        yield ScoredRow(
            department.id,
            department.row,
            department.source,
            totals[k],
            grades[k],
            by_row[k],
        )


#: Lines of a JSONL population read and scored together when pyarrow is installed: the
#: more, the fewer calls per department. 8,192 ran no faster and held about 50 MB more
#: at the peak (up to four blocks are held: parsed, read, scored and one waiting).
BLOCK: Final = 4096


def _arrow_blocks(compiled: CompiledRubric, path: Path, size: int) -> Iterator[Any] | None:
    """The blocks of a JSONL, CSV or TSV population read with pyarrow (see
    :func:`~perfscore.population.columnar.jsonl_blocks` and
    :func:`~perfscore.population.columnar.csv_blocks`); None for another population, a
    CSV whose heading Arrow may not read (see
    :func:`~perfscore.population.columnar.csv_columns`), or without pyarrow."""
    suffix = path.suffix.lower()
    if path.is_dir() or suffix not in (".jsonl", ".ndjson", ".csv", ".tsv"):
        return None
    try:
        from . import columnar
    except ImportError:  # no pyarrow
        return None
    specs = compiled.input_specs
    if suffix in (".csv", ".tsv"):
        try:
            heading = columnar.csv_columns(path, specs, _labels(compiled))
        except (OSError, PerfscoreError):
            return None  # read_population says why, as the records are read
        if heading is None:
            return None
        lines = columnar.csv_blocks(path, heading, size)
    else:
        lines = columnar.jsonl_blocks(path, specs, size)
    # Three stages, each in a thread of its own, as Arrow works without the GIL: the
    # lines parsed, their numbers written as text read, and (here) scoring and writing.
    blocks = columnar.read_ahead(lines)
    return columnar.read_ahead(columnar.with_floats(blocks, specs))


def _score_blocks(
    compiled: CompiledRubric, scorer: Any, blocks: Iterator[Any]
) -> Iterator[BatchRecord | ScoredRow | ScoredChunk]:
    """The records of a JSONL population read in blocks: a :class:`ScoredChunk` for
    each block Arrow read; the departments read one by one, in chunks as
    :func:`score_rows` scores them."""
    from . import columnar, vectorised

    pending: list[Department] = []
    for item in blocks:
        if isinstance(item, Department):
            pending.append(item)
            if len(pending) >= CHUNK:
                yield from _score_chunk(compiled, scorer, pending)
                pending = []
            continue
        if pending:
            yield from _score_chunk(compiled, scorer, pending)
            pending = []
        block: columnar.JsonlBlock = item
        table = block.table
        arrays = {name: table.column(name) for name in table.column_names if name != "id"}
        columns = vectorised.columns_from_arrays(arrays, compiled)
        columns.records = _BlockRecords(block)
        result = scorer.score(columns)
        n = len(block)
        others: dict[int, BatchRecord] = {}
        for k in sorted(result.exact_rows):
            # The row engine's, read from its own line and scored with its source.
            others[k] = next(iter(score_many(compiled, [block.department(k)])))
        rounding = compiled.rubric.rounding
        text = columnar.ChunkText(
            ids=block.ids(),
            rows=_row_numbers(block.first_row, n),
            total_units=result.total_units,
            total_places=rounding.total.places,
            grade_index=result.grade_index,
            grade_names=result.grade_names,
            units=_node_units(compiled, result, n),
            places=rounding.score.places,
        )
        yield ScoredChunk(str(block.path), text, others)
    if pending:
        yield from _score_chunk(compiled, scorer, pending)


def _row_numbers(start: int, count: int) -> Any:
    """``count`` row numbers from ``start``, as a numpy array."""
    import numpy

    return numpy.arange(start, start + count, dtype=numpy.int64)


class _BlockRecords(Sequence[Mapping[str, Any]]):
    """The records of a block's lines, each read by Python when the row engine needs it."""

    def __init__(self, block: Any) -> None:
        self._block = block

    def __len__(self) -> int:
        return len(self._block)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        inputs = self._block.department(i).inputs
        return {} if inputs is None else inputs


@dataclass(frozen=True, slots=True)
class ScoredChunk:
    """Departments of a population scored together by the vectorised path, kept as
    columns (made by :func:`score_rows` from a JSONL population read with pyarrow):
    ``text`` holds the columns of the rows it scored, ``others`` the record of each row
    it did not (the row engine's, or a failure), by position. :func:`write_batch`
    writes its rows as it writes the records of :meth:`records`, byte for byte."""

    source: str
    text: Any  # columnar.ChunkText
    others: Mapping[int, BatchRecord]

    def __len__(self) -> int:
        return len(self.text.ids)

    @property
    def failures(self) -> list[FailedDepartment]:
        return [r for _, r in sorted(self.others.items()) if isinstance(r, FailedDepartment)]

    def records(self) -> Iterator[BatchRecord | ScoredRow]:
        """The chunk's rows as records, in order."""
        text = self.text
        score_of, total_of = _Decimals(text.places), _Decimals(text.total_places)
        scores = [list(map(score_of.__getitem__, u.tolist())) for u in text.units]
        totals = list(map(total_of.__getitem__, text.total_units.tolist()))
        ids = text.ids.to_pylist()
        by_row = list(zip(*scores, strict=True)) if scores else [() for _ in ids]
        names = text.grade_names
        for k, (ident, row, grade) in enumerate(
            zip(ids, text.rows.tolist(), text.grade_index.tolist(), strict=True)
        ):
            other = self.others.get(k)
            if other is not None:
                yield other
                continue
            yield ScoredRow(ident, row, f"{self.source}:{row}", totals[k], names[grade], by_row[k])


class _Decimals(dict[int, Decimal]):
    """Decimals by their integer units at ``places`` places, each made when first asked."""

    def __init__(self, places: int) -> None:
        super().__init__()
        self.exponent = -places

    def __missing__(self, units: int) -> Decimal:
        value = self[units] = Decimal(units).scaleb(self.exponent)
        return value


def issues_text(issues: Iterable[Issue], source: str | None = None) -> str:
    """The issues of a failed department on one line, as the ``errors`` column holds them:
    ``path: message [code] (hint: ...)`` joined by ``"; "``. The path inside the
    inputs is shown for issues located in ``source``; rubric paths are left out."""
    parts = []
    for issue in issues:
        loc = issue.location
        text = f"{issue.message} [{issue.code}]"
        if loc.path and loc.file is not None and loc.file == source:
            text = f"{format_path(loc.path)}: {text}"
        if issue.hint:
            text += f" (hint: {issue.hint})"
        parts.append(text)
    return "; ".join(parts)


# --------------------------------------------------------------------------- layout


Cell: TypeAlias = str | int | Decimal | None


class _Layout:
    """The columns of a batch output for one rubric, and each record's row of cells."""

    def __init__(self, compiled: CompiledRubric) -> None:
        rubric = compiled.rubric
        self.indicator_ids = tuple(node.id for node in rubric.walk())
        taken = set(FIXED_COLUMNS) | {"errors"} | set(self.indicator_ids)
        names = []
        for ident in self.indicator_ids:
            name = ident
            if ident in FIXED_COLUMNS or ident == "errors":
                while name in taken:
                    name += "_score"
                taken.add(name)
            names.append(name)
        self.score_columns = tuple(names)
        self.columns = (*FIXED_COLUMNS, *names, "errors")
        self.total_places = rubric.rounding.total.places
        self.score_places = rubric.rounding.score.places
        self.metadata = {
            "perfscore.rubric.id": rubric.id,
            "perfscore.rubric.version": rubric.version,
            "perfscore.rubric.hash": compiled.hash,
        }
        self._blank: tuple[None, ...] = (None,) * len(names)
        # Without row groups a result lists exactly the rubric's nodes, in tree order.
        self._nodes_only = all(node.rows is None for node in rubric.walk())

    def row(self, record: BatchRecord | ScoredRow) -> list[Cell]:
        if isinstance(record, ScoredRow):  # never of a rubric with row groups
            return [record.id, record.row, "ok", record.total, record.grade, *record.scores, None]
        if isinstance(record, ScoredDepartment):
            result = record.result
            nodes = result.indicators
            scores: list[Decimal | None]
            ids = self.indicator_ids
            if (
                self._nodes_only
                and len(nodes) == len(ids)
                and nodes[0].id == ids[0]
                and nodes[-1].id == ids[-1]
            ):
                scores = [node.score for node in nodes]
            else:
                by_id = {node.id: node.score for node in nodes}
                scores = [by_id.get(ident) for ident in ids]
            return [record.id, record.row, "ok", result.total, result.grade, *scores, None]
        return [
            record.id,
            record.row,
            "failed",
            None,
            None,
            *self._blank,
            issues_text(record.issues, record.source),
        ]


def columns(compiled: CompiledRubric) -> tuple[str, ...]:
    """The columns of a batch output: ``id``, ``row``, ``status`` (``ok`` or ``failed``),
    ``total``, ``grade``, one score column per indicator (named by its id, in tree order,
    branches included; an id that is also a fixed column's name gets ``_score``
    appended), then ``errors``."""
    return _Layout(compiled).columns


def output_format(path: str | os.PathLike[str]) -> str:
    """``csv``, ``tsv``, ``xlsx``, ``jsonl`` or ``parquet``, by the suffix of ``path``;
    :class:`ValueError` for any other suffix."""
    suffix = Path(path).suffix.lower()
    kind = OUTPUT_FORMATS.get(suffix)
    if kind is None:
        known = ", ".join(OUTPUT_FORMATS)
        raise ValueError(f"{os.fspath(path)}: the output file must end in one of {known}")
    return kind


# --------------------------------------------------------------------------- writers


class _Writer(Protocol):
    def write(self, row: Sequence[Cell]) -> None:
        """Add one row."""

    def close(self) -> None:
        """Finish the file: after this it is complete on disk."""

    def abort(self) -> None:
        """Release whatever is open; the file is about to be removed."""


def _text_handle(path: Path) -> IO[str]:
    # A lone surrogate (from a JSON "\ud800" escape) is written as its escape, not refused.
    return path.open("w", encoding="utf-8", errors="backslashreplace", newline="")


class _CsvWriter:
    def __init__(self, path: Path, layout: _Layout, *, tabs: bool = False) -> None:
        # A byte-order mark, so that Excel reads the Chinese text as UTF-8.
        self._delimiter = "\t" if tabs else ","
        self._handle = _text_handle(path)
        self._handle.write("\ufeff")
        self._csv = csv.writer(self._handle, dialect="excel-tab" if tabs else "excel")
        self._csv.writerow(layout.columns)

    def write(self, row: Sequence[Cell]) -> None:
        # format(v, "f") is to_str, inlined: this runs for every cell; csv writes None as "".
        # Text (ids, grades, errors) is neutralised where a spreadsheet reads a formula.
        self._csv.writerow(
            [
                format(v, "f")
                if isinstance(v, Decimal)
                else spreadsheet_cell(v)
                if isinstance(v, str)
                else v
                for v in row
            ]
        )

    def write_chunk(self, chunk: ScoredChunk, layout: _Layout) -> None:
        """The rows of ``chunk``, the vectorised rows' lines written by Arrow."""
        from .columnar import csv_lines

        _write_lines(self, csv_lines(chunk.text, self._delimiter), chunk, layout)

    def close(self) -> None:
        self._handle.close()

    def abort(self) -> None:
        self._handle.close()


def _write_lines(writer: Any, lines: Any, chunk: ScoredChunk, layout: _Layout) -> None:
    """Each line of ``lines`` (an Arrow string array, a row of ``chunk`` each) as bytes,
    but the rows of ``chunk.others``, written one by one by ``writer``."""
    from .columnar import line_bytes

    handle: IO[str] = writer._handle
    data, offsets = line_bytes(lines)
    at = 0
    for k, record in sorted(chunk.others.items()):
        handle.flush()
        handle.buffer.write(data[offsets[at] : offsets[k]])  # type: ignore[attr-defined]
        writer.write(layout.row(record))
        at = k + 1
    handle.flush()
    handle.buffer.write(data[offsets[at] : offsets[-1]])  # type: ignore[attr-defined]


class _JsonlWriter:
    def __init__(self, path: Path, layout: _Layout) -> None:
        self._handle = _text_handle(path)
        self._columns = layout.columns

    def write(self, row: Sequence[Cell]) -> None:
        data = {
            c: format(v, "f") if isinstance(v, Decimal) else v  # to_str, inlined
            for c, v in zip(self._columns, row, strict=True)
        }
        self._handle.write(json.dumps(data, ensure_ascii=False) + "\n")

    def write_chunk(self, chunk: ScoredChunk, layout: _Layout) -> None:
        """The rows of ``chunk``, the vectorised rows' lines written by Arrow."""
        from .columnar import jsonl_lines

        _write_lines(self, jsonl_lines(chunk.text, self._columns), chunk, layout)

    def close(self) -> None:
        self._handle.close()

    def abort(self) -> None:
        self._handle.close()


# Characters an XLSX cell cannot hold (XML 1.0 forbids them); written as \xNN / \uNNNN.
_XML_ILLEGAL: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def _xlsx_text(text: str) -> str:
    if text.isascii() and text.isprintable():
        return text
    return _XML_ILLEGAL.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _xlsx_number(value: Decimal) -> float | str:
    """A number when the number an XLSX cell stores is exactly ``value`` — at most 15
    significant digits, which Excel keeps, and the text openpyxl writes for the float
    (``%.16g``) reads back as the same decimal — else the decimal's plain-notation text."""
    number = float(value)
    if len(value.as_tuple().digits) <= 15 and Decimal(f"{number:.16g}") == value:
        return number
    return to_str(value)


class _XlsxWriter:
    def __init__(self, path: Path, layout: _Layout) -> None:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell

        self._path = path
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet("scores")
        self._cell = WriteOnlyCell
        self._sheet.append(list(layout.columns))
        self._rows = 1

    def _value(self, value: Cell) -> Any:
        if isinstance(value, Decimal):
            return _xlsx_number(value)
        if isinstance(value, str):
            value = _xlsx_text(value)
            if value.startswith("="):  # text, never a formula
                cell = self._cell(self._sheet, value)
                cell.data_type = "s"
                return cell
        return value

    def write(self, row: Sequence[Cell]) -> None:
        if self._rows >= XLSX_MAX_ROWS:
            raise ValueError(
                f"an XLSX sheet holds at most {XLSX_MAX_ROWS - 1} departments; "
                "write CSV, JSONL or Parquet instead"
            )
        self._sheet.append([self._value(v) for v in row])
        self._rows += 1

    def close(self) -> None:
        self._book.save(self._path)

    def abort(self) -> None:
        # openpyxl streams the sheet to a temporary file of its own: finish the sheet and
        # remove that file now, rather than leave it (and a warning) to interpreter exit.
        # ``_writer`` is private to openpyxl: hence the guard.
        with contextlib.suppress(Exception):
            self._sheet.close()
        with contextlib.suppress(Exception):
            self._sheet._writer.cleanup()


class _ParquetWriter:
    def __init__(self, path: Path, layout: _Layout) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._pa = pa
        total = pa.decimal128(38, layout.total_places)
        score = pa.decimal128(38, layout.score_places)
        fields = [
            pa.field("id", pa.string(), nullable=False),
            pa.field("row", pa.int64(), nullable=False),
            pa.field("status", pa.string(), nullable=False),
            pa.field("total", total),
            pa.field("grade", pa.string()),
            *(pa.field(name, score) for name in layout.score_columns),
            pa.field("errors", pa.string()),
        ]
        self._schema = pa.schema(fields, metadata=layout.metadata)
        self._writer = pq.ParquetWriter(path, self._schema)
        self._buffer: list[list[Cell]] = [[] for _ in fields]
        self._held = 0
        self._text = [f.type == pa.string() for f in fields]

    def write(self, row: Sequence[Cell]) -> None:
        for column, value, text in zip(self._buffer, row, self._text, strict=True):
            if text and isinstance(value, str) and not value.isascii():
                value = value.encode("utf-8", "backslashreplace").decode("utf-8")
            column.append(value)
        self._held += 1
        if self._held >= PARQUET_BATCH_ROWS:
            self._flush()

    def _flush(self) -> None:
        pa = self._pa
        arrays = [
            pa.array(column, type=field.type)
            for column, field in zip(self._buffer, self._schema, strict=True)
        ]
        self._writer.write_batch(pa.record_batch(arrays, schema=self._schema))
        self._buffer = [[] for _ in self._buffer]
        self._held = 0

    def close(self) -> None:
        if self._held:
            self._flush()
        self._writer.close()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._writer.close()


_WRITERS: Final[Mapping[str, Callable[[Path, _Layout], _Writer]]] = {
    "csv": _CsvWriter,
    "tsv": lambda path, layout: _CsvWriter(path, layout, tabs=True),
    "xlsx": _XlsxWriter,
    "jsonl": _JsonlWriter,
    "parquet": _ParquetWriter,
}


def check_output(path: str | os.PathLike[str], format: str | None = None) -> str:
    """The format ``path`` will be written in; :class:`ValueError` for an unknown suffix,
    :class:`ImportError` when the format needs a package that is not installed (Parquet
    needs pyarrow: ``pip install 'perfscore[parquet]'``). Checked before scoring starts."""
    kind = format or output_format(path)
    if kind not in _WRITERS:
        raise ValueError(f"unknown output format {kind!r}; one of {', '.join(_WRITERS)}")
    if kind == "parquet":
        try:
            import pyarrow.parquet  # noqa: F401  (only checks that it is there)
        except ImportError as error:
            raise ImportError(
                "Parquet output needs pyarrow: pip install 'perfscore[parquet]'"
            ) from error
    return kind


# --------------------------------------------------------------------------- writing


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """What :func:`write_batch` wrote: counts, and the first failed departments (up to
    ``max_failures``; :attr:`unlisted` counts the rest). Every failure is in the file."""

    path: Path
    format: str
    scored: int
    failed: int
    failures: tuple[FailedDepartment, ...]

    @property
    def count(self) -> int:
        """Departments written, scored or failed."""
        return self.scored + self.failed

    @property
    def unlisted(self) -> int:
        """Failed departments not kept in :attr:`failures`."""
        return self.failed - len(self.failures)

    @property
    def ok(self) -> bool:
        return self.failed == 0


def _file_mode(path: Path) -> int:
    """The permissions of the file being replaced, else what a new file would get."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _fsync(path: Path, *, directory: bool = False) -> None:
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        if directory:  # some systems cannot open a directory: durability is best effort
            return
        raise
    try:
        os.fsync(fd)
    except OSError:
        if not directory:
            raise
    finally:
        os.close(fd)


@contextlib.contextmanager
def _atomic(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` that replaces it on success, and is removed
    (leaving ``path`` as it was) on any exception, a KeyboardInterrupt included."""
    fd, temp = temporary_beside(path)  # removes what a killed run left there
    os.close(fd)
    try:
        yield temp
        _fsync(temp)
        os.chmod(temp, _file_mode(path))
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    _fsync(path.parent, directory=True)


def write_batch(
    compiled: CompiledRubric,
    records: Iterable[BatchRecord | ScoredRow | ScoredChunk],
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    max_failures: int = MAX_FAILURES,
) -> BatchSummary:
    """Write one row per record to ``path`` and return what was written.

    ``format`` (``csv``, ``tsv``, ``xlsx``, ``jsonl``, ``parquet``) defaults to the one
    the suffix of ``path`` names. Records are consumed one at a time. The file appears
    whole or not at all: if anything raises (``records`` included), the exception
    propagates, ``path`` is left as it was and no temporary file remains.
    """
    out = Path(path)
    kind = check_output(out, format)
    layout = _Layout(compiled)
    scored = failed = 0
    failures: list[FailedDepartment] = []
    with _atomic(out) as temp:
        writer = _WRITERS[kind](temp, layout)
        try:
            for record in records:
                if isinstance(record, ScoredChunk):
                    write_chunk = getattr(writer, "write_chunk", None)
                    if write_chunk is not None:
                        write_chunk(record, layout)
                    else:
                        for row in record.records():
                            writer.write(layout.row(row))
                    chunk_failures = record.failures
                    scored += len(record) - len(chunk_failures)
                    failed += len(chunk_failures)
                    failures.extend(chunk_failures[: max(max_failures - len(failures), 0)])
                    continue
                writer.write(layout.row(record))
                if isinstance(record, ScoredDepartment | ScoredRow):
                    scored += 1
                else:
                    failed += 1
                    if len(failures) < max_failures:
                        failures.append(record)
            writer.close()
        except BaseException:
            writer.abort()
            raise
    return BatchSummary(out, kind, scored, failed, tuple(failures))
