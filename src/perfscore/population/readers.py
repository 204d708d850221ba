"""Populations of departments: a folder of input files, a CSV or XLSX sheet, JSONL or Parquet.

:func:`read_population` streams :class:`Department` records one at a time, so memory
stays flat however many departments there are. A record that cannot be read (a broken
JSON line, a file that does not parse) comes out with its ``issues`` and no ``inputs``:
one bad row never costs the good ones.

Tables (CSV, XLSX) have one department per row and a header row naming the inputs, by id
or by their Chinese label; a column named ``id`` (or ``department``, ``部门``) holds the
department's id, otherwise the row number does.
"""

from __future__ import annotations

import csv
import json
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from perfscore.errors import Issue, Location, PerfscoreError
from perfscore.i18n import msg

__all__ = [
    "Department",
    "UnsafeWorkbook",
    "check_workbook",
    "population_format",
    "read_population",
]

ID_COLUMNS: Final = ("id", "department", "department_id", "部门", "部门名称", "单位", "单位名称")
FILE_SUFFIXES: Final = (".yaml", ".yml", ".json")

#: An XLSX part that is read whole (shared strings, styles, the workbook; every sheet of a
#: form read by the template reader) may unpack to at most this. Population sheets are
#: streamed row by row and have no such bound.
MAX_XLSX_PART: Final = 64 * 1024 * 1024
#: A part that unpacks to more than this many times its packed size is refused: sheets
#: written by spreadsheet programs pack about 5 to 20 to 1, a zip bomb about 1000 to 1.
MAX_XLSX_RATIO: Final = 200
#: Parts smaller than this unpacked are not held to the ratio.
_RATIO_FROM: Final = 16 * 1024 * 1024


@dataclass(frozen=True)
class Department:
    """One department of a population: its id, where it was read, and its inputs (or the
    issues that kept it from being read)."""

    id: str
    row: int
    source: str
    inputs: Mapping[str, Any] | None
    issues: tuple[Issue, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.inputs is not None


def population_format(path: str | Path) -> str:
    """``folder``, ``csv``, ``xlsx`` or ``jsonl``; ValueError for anything else."""
    p = Path(path)
    if p.is_dir():
        return "folder"
    suffix = p.suffix.lower()
    if suffix in (".csv", ".tsv"):
        return "csv"
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise ValueError(f"{p}: a population is a folder, .csv, .xlsx, .jsonl or .parquet file")


def read_population(
    path: str | Path, *, labels: Mapping[str, str] | None = None
) -> Iterator[Department]:
    """Stream the departments of ``path``.

    ``labels`` maps column headings that are not input ids (e.g. Chinese labels) to ids.
    """
    kind = population_format(path)
    p = Path(path)
    if kind == "folder":
        yield from _folder(p)
    elif kind == "csv":
        yield from _csv(p, labels or {})
    elif kind == "xlsx":
        yield from _xlsx(p, labels or {})
    elif kind == "parquet":
        yield from _parquet(p, labels or {})
    else:
        yield from _jsonl(p)


def _folder(path: Path) -> Iterator[Department]:
    from perfscore.loading import load_document

    files = sorted(f for f in path.iterdir() if f.is_file() and f.suffix.lower() in FILE_SUFFIXES)
    for row, file in enumerate(files, start=1):
        try:
            data, _ = load_document(file)
        except PerfscoreError as error:
            yield Department(file.stem, row, str(file), None, error.issues)
            continue
        if not isinstance(data, dict):
            issue = Issue.of(
                "input.not_mapping",
                Location(file=str(file)),
                message=msg("input.file_not_mapping"),
            )
            yield Department(file.stem, row, str(file), None, (issue,))
            continue
        dept_id = str(data.pop("id", file.stem))
        yield Department(dept_id, row, str(file), data)


def _split_id(record: dict[str, Any], row: int) -> tuple[str, dict[str, Any]]:
    for column in ID_COLUMNS:
        if column in record:
            value = record.pop(column)
            if value not in (None, ""):
                return str(value).strip(), record
    return str(row), record


def _heading(name: Any, labels: Mapping[str, str]) -> str:
    text = "" if name is None else str(name).strip()
    return labels.get(text, text)


def _csv(path: Path, labels: Mapping[str, str]) -> Iterator[Department]:
    dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle, dialect=dialect)
        header = next(reader, None)
        if header is None:
            return
        columns = [_heading(h, labels) for h in header]
        for row, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            where = Location(file=str(path), line=row)
            if len(cells) > len(columns):
                issue = Issue.of(
                    "input.row", where, row=row, cells=len(cells), columns=len(columns)
                )
                yield Department(str(row), row, f"{path}:{row}", None, (issue,))
                continue
            record = {
                c: (v if v.strip() else None) for c, v in zip(columns, cells, strict=False) if c
            }
            dept_id, record = _split_id(record, row)
            yield Department(dept_id, row, f"{path}:{row}", record)


class UnsafeWorkbook(ValueError):
    """An XLSX file that would unpack to far more than it holds: refused unread.
    ``path`` is the file; the message says which part and the fix."""

    def __init__(self, path: str | Path, message: str) -> None:
        super().__init__(message)
        self.path = Path(path)


def check_workbook(path: str | Path, *, streamed: bool = True) -> None:
    """Refuse an XLSX file that unpacks to more than it could reasonably hold, before
    openpyxl reads it: a part read whole above :data:`MAX_XLSX_PART`, or any part packed
    more than :data:`MAX_XLSX_RATIO` to 1. With ``streamed`` (a population, read row by
    row) sheets have no size bound; without it every part has. Raises
    :class:`UnsafeWorkbook`, or :class:`zipfile.BadZipFile` for a file that is no XLSX.
    """
    with zipfile.ZipFile(path) as archive:
        for part in archive.infolist():
            size, packed = part.file_size, max(part.compress_size, 1)
            whole = not (streamed and part.filename.startswith("xl/worksheets/"))
            if whole and size > MAX_XLSX_PART:
                raise UnsafeWorkbook(
                    path,
                    f"its part {part.filename} unpacks to {size:,} bytes, more than "
                    f"the {MAX_XLSX_PART:,} perfscore reads whole; split the workbook, "
                    "or save it as CSV",
                )
            if size > _RATIO_FROM and size > MAX_XLSX_RATIO * packed:
                raise UnsafeWorkbook(
                    path,
                    f"its part {part.filename} unpacks to {size // packed:,} times "
                    f"its packed size (at most {MAX_XLSX_RATIO} is read), as a zip bomb "
                    "does; save the workbook again from a spreadsheet program, or as CSV",
                )


def _xlsx(path: Path, labels: Mapping[str, str]) -> Iterator[Department]:
    import openpyxl

    check_workbook(path)
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            return
        columns = [_heading(h, labels) for h in header]
        for row, cells in enumerate(rows, start=2):
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            record: dict[str, Any] = {}
            for column, value in zip(columns, cells, strict=False):
                if not column:
                    continue
                if isinstance(value, float):
                    value = Decimal(repr(value))
                record[column] = value
            dept_id, record = _split_id(record, row)
            yield Department(dept_id, row, f"{path}:{row}", record)
    finally:
        book.close()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _jsonl(path: Path) -> Iterator[Department]:
    with path.open(encoding="utf-8-sig") as handle:
        for row, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = Location(file=str(path), line=row)
            try:
                data = json.loads(line, parse_float=Decimal, parse_constant=_reject_constant)
            except (ValueError, RecursionError) as error:
                issue = Issue.of("input.syntax", where, line=row, detail=str(error))
                yield Department(str(row), row, f"{path}:{row}", None, (issue,))
                continue
            if not isinstance(data, dict):
                issue = Issue.of(
                    "input.not_mapping", where, message=msg("input.line_not_object", line=row)
                )
                yield Department(str(row), row, f"{path}:{row}", None, (issue,))
                continue
            dept_id, record = _split_id(data, row)
            yield Department(dept_id, row, f"{path}:{row}", record)


def _parquet(path: Path, labels: Mapping[str, str]) -> Iterator[Department]:
    """A Parquet file, one department per row, read a row group at a time (pyarrow)."""
    try:
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - pyarrow is an optional dependency
        raise ValueError(
            f"{path}: reading Parquet needs pyarrow: pip install 'perfscore[parquet]'"
        ) from None
    try:
        table = pq.ParquetFile(path)
        columns = [_heading(name, labels) for name in table.schema_arrow.names]
        batches = table.iter_batches(batch_size=1024)
        row = 1
        for batch in batches:
            for values in zip(*(c.to_pylist() for c in batch.columns), strict=True):
                record = {c: v for c, v in zip(columns, values, strict=True) if c and v is not None}
                dept_id, record = _split_id(record, row)
                yield Department(dept_id, row, f"{path}:{row}", record)
                row += 1
    except (OSError, ValueError) as error:  # pyarrow's errors derive from these
        issue = Issue.of("input.parquet", Location(file=str(path)), error=str(error))
        yield Department(path.stem, 0, str(path), None, (issue,))
