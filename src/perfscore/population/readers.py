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

import contextlib
import csv
import json
import re
import zipfile
from collections.abc import Callable, Collection, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, Final

from perfscore._files import FileRefused, open_regular
from perfscore._submission import SECTIONS, UNIT_FIELDS
from perfscore.errors import InputError, Issue, Location, PerfscoreError
from perfscore.i18n import msg, tr

__all__ = [
    "MAX_COLUMNS",
    "MAX_ROW_BYTES",
    "Department",
    "UnsafeWorkbook",
    "WorkbookProblem",
    "check_workbook",
    "choose_sheet",
    "hidden_sheets",
    "load_workbook",
    "open_population",
    "population_format",
    "read_population",
]

ID_COLUMNS: Final = ("id", "department", "department_id", "部门", "部门名称", "单位", "单位名称")
#: Id columns that name the department: their value is its ``unit.name`` too.
NAME_COLUMNS: Final = ("部门名称", "单位名称", "部门", "单位", "department")
#: Headings of the year evaluated, read as ``unit.year``.
YEAR_COLUMNS: Final = ("year", "年度", "年份")
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

#: One row of a CSV / TSV population, or one line of JSONL, may be at most this long
#: (bytes); a longer one is refused on its own. Memory per row is a small multiple of it.
MAX_ROW_BYTES: Final = 1024 * 1024
#: A table's heading, or one JSONL record, may have at most this many columns or keys (a
#: rubric has far fewer inputs: its whole document holds at most 10 000 values).
MAX_COLUMNS: Final = 10_000


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
    raise ValueError(tr("population.not_a_population", path=str(p)))


def read_population(
    path: str | Path,
    *,
    labels: Mapping[str, str] | None = None,
    known: Collection[str] | None = None,
    sheet: str | None = None,
    strict: bool = False,
    warn: Callable[[Issue], None] | None = None,
) -> Iterator[Department]:
    """Stream the departments of ``path``.

    ``labels`` maps column headings that are not input ids (e.g. Chinese labels) to ids.
    Beside the inputs a table may hold the department's metadata: an id column (``id``,
    ``部门名称``…; a name column gives ``unit.name`` too), ``year`` (``年度``, read as
    ``unit.year``) and the sections of a submission as dotted headings (``unit.name``,
    ``unit.code``, ``claimed.total``…).

    ``known``, when given, holds the input ids: a table's headings that name none of them
    nor metadata are undeclared. They are left out of every row, and said once per file:
    one warning (``population.undeclared_columns``, with "did you mean") passed to
    ``warn``, or, without ``warn``, carried by the first department read (whose inputs
    are whole). With ``strict``, they are an error: :class:`~perfscore.errors.InputError`
    listing each (``input.unknown``, with "did you mean") is raised before any row.
    ``sheet`` names the sheet of an XLSX population (by default the workbook's active
    sheet, if it is visible, else its first visible one).

    Each row stands on its own: a row that does not decode as UTF-8, is longer than
    :data:`MAX_ROW_BYTES`, holds a cell past the csv module's field limit, a number the
    decimal context cannot hold, a duplicate key or more than :data:`MAX_COLUMNS` fields
    comes out failed with its row; the rows after it are read. A heading that cannot be
    used (duplicate or too many columns, too long, not UTF-8) comes out once, as a failed
    row 1, and ends the file.
    """
    kind = population_format(path)
    p = Path(path)
    if kind == "folder":
        yield from _folder(p)
    elif kind == "csv":
        yield from _csv(p, labels or {}, _Undeclared(p, known, strict, warn))
    elif kind == "xlsx":
        yield from _xlsx(p, labels or {}, _Undeclared(p, known, strict, warn), sheet)
    elif kind == "parquet":
        yield from _parquet(p, labels or {})
    else:
        yield from _jsonl(p)


def _failed(path: Path, row: int, *issues: Issue, dept_id: str | None = None) -> Department:
    return Department(dept_id or str(row), row, f"{path}:{row}", None, issues)


def _folder(path: Path) -> Iterator[Department]:
    from perfscore.loading import load_document

    # A named pipe or a device among the files fails on its own row (file.not_regular).
    files = sorted(
        f for f in path.iterdir() if f.suffix.lower() in FILE_SUFFIXES and not f.is_dir()
    )
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
    """The department's id (the first id column that has one, else the row number) and
    its record without the id columns; a name column's value is its ``unit.name`` too."""
    found = None
    for column in ID_COLUMNS:
        if column in record:
            value = record.pop(column)
            if value in (None, ""):
                continue
            text = str(value).strip()
            if found is None:
                found = text
            if column in NAME_COLUMNS and record.get("unit.name") in (None, ""):
                record["unit.name"] = text
    return (found if found is not None else str(row)), record


def _heading(name: Any, labels: Mapping[str, str]) -> str:
    text = "" if name is None else str(name).strip()
    return labels.get(text, text)


class _RowTooLarge(Exception):
    """Raised by :class:`_Lines` when the record being read passes :data:`MAX_ROW_BYTES`."""


class _Lines:
    """The lines of a binary file as text, one record's worth bounded.

    Each line is read to at most :data:`MAX_ROW_BYTES` plus one byte; :meth:`start`
    begins a record, and a record whose lines pass the bound raises :class:`_RowTooLarge`
    after the rest of the record is skipped, unread into memory (for CSV, ``quoted``, the
    record ends at the first line end outside quotes). A line that is not UTF-8 is
    decoded with its bad bytes kept apart (``surrogateescape``), and the record notes the
    first one, so that the record fails on its own."""

    def __init__(self, handle: BinaryIO, *, quoted: bool = False) -> None:
        self._handle = handle
        self._first = True
        self._quoted = quoted
        self._quotes = 0
        self.held = 0
        self.bad_byte: int | None = None

    def start(self) -> None:
        self.held = 0
        self._quotes = 0
        self.bad_byte = None

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        raw = self._handle.readline(MAX_ROW_BYTES + 1)
        if not raw:
            raise StopIteration
        if self._first:
            self._first = False
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        before = self.held
        self.held += len(raw)
        if self._quoted:
            self._quotes += raw.count(b'"')
        if self.held > MAX_ROW_BYTES:
            self._skip(raw)
            raise _RowTooLarge
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as error:
            if self.bad_byte is None:
                self.bad_byte = before + error.start + 1
            return raw.decode("utf-8", "surrogateescape")

    def _skip(self, raw: bytes) -> None:
        """Read past the rest of the record that ``raw`` is part of, in small pieces."""
        while raw:
            if raw.endswith(b"\n") and self._quotes % 2 == 0:
                return
            raw = self._handle.readline(1 << 16)
            if self._quoted:
                self._quotes += raw.count(b'"')


def _row_too_large(path: Path, row: int) -> Issue:
    return Issue.of(
        "input.row_too_large", Location(file=str(path), line=row), limit=str(MAX_ROW_BYTES)
    )


def _not_utf8(path: Path, row: int, byte: int) -> Issue:
    return Issue.of("input.encoding", Location(file=str(path), line=row), byte=str(byte))


def _heading_problems(
    path: Path, header: Sequence[Any], columns: Sequence[str], labels: Mapping[str, str]
) -> list[Issue]:
    """Duplicate columns (by id or by a label that maps to the same id), with the
    positions of each; a heading wider than :data:`MAX_COLUMNS`."""
    where = Location(file=str(path), line=1)
    if len(columns) > MAX_COLUMNS:
        return [
            Issue.of(
                "input.heading_too_wide", where, count=str(len(columns)), limit=str(MAX_COLUMNS)
            )
        ]
    seen: dict[str, list[int]] = {}
    for position, column in enumerate(columns, start=1):
        if column:
            seen.setdefault(column, []).append(position)
    issues = []
    for column, positions in seen.items():
        if len(positions) > 1:
            written = [shown_text(header[p - 1]) for p in positions]
            issues.append(
                Issue.of(
                    "input.duplicate_column",
                    where,
                    column=shown_text(column),
                    positions=[str(p) for p in positions],
                    headings=written,
                )
            )
    return issues


def shown_text(value: Any, limit: int = 80) -> str:
    """``value`` as text for a message: at most ``limit`` characters."""
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Undeclared:
    """The headings of a table that name no input and no metadata: found once, on the
    heading, then left out of each row; said once per file (a warning), or refused
    before any row with ``strict``."""

    def __init__(
        self,
        path: Path,
        known: Collection[str] | None,
        strict: bool,
        warn: Callable[[Issue], None] | None,
    ) -> None:
        self.path, self.known, self.strict, self.warn = path, known, strict, warn
        self.columns: set[str] = set()
        self.pending: tuple[Issue, ...] = ()

    def _metadata(self, column: str) -> bool:
        section, dot, key = column.partition(".")
        if section == "unit":
            return key in UNIT_FIELDS
        return column in ID_COLUMNS or (bool(dot) and section in SECTIONS)

    def heading(self, columns: list[str]) -> list[str]:
        """The columns, a year heading read as ``unit.year``; finds the undeclared ones
        (raising with ``strict``)."""
        known = set(self.known or ())
        columns = ["unit.year" if c in YEAR_COLUMNS and c not in known else c for c in columns]
        if self.known is None:
            return columns
        unknown = [
            c for c in dict.fromkeys(columns) if c and c not in known and not self._metadata(c)
        ]
        if not unknown:
            return columns
        from perfscore._suggest import closest, did_you_mean

        self.columns = set(unknown)
        if self.strict:
            raise InputError(
                [
                    Issue.of(
                        "input.unknown",
                        Location(file=str(self.path), line=1, path=(c,)),
                        hint=did_you_mean(c, sorted(known)),
                        name=shown_text(c),
                    )
                    for c in unknown
                ]
            )
        names = [shown_text(c) for c in unknown[:10]]
        guesses = [(c, closest(c, known)) for c in unknown[:10]]
        pairs = [f"{shown_text(c)} → {g}" for c, g in guesses if g is not None]
        hint = msg("population.undeclared_columns.guess", pairs=", ".join(pairs)) if pairs else None
        warning = Issue.of(
            "population.undeclared_columns",
            Location(file=str(self.path), line=1),
            hint=hint,
            file=str(self.path),
            columns=", ".join(names) + (" …" if len(unknown) > len(names) else ""),
            count=len(unknown),
        )
        if self.warn is not None:
            self.warn(warning)
        else:
            self.pending = (warning,)
        return columns

    def keep(self, record: dict[str, Any]) -> dict[str, Any]:
        """``record`` without the undeclared columns."""
        for column in self.columns:
            record.pop(column, None)
        return record

    def department(self, dept_id: str, row: int, record: dict[str, Any]) -> Department:
        """A department read whole; the first carries the warning when no one was told."""
        issues, self.pending = self.pending, ()
        return Department(dept_id, row, f"{self.path}:{row}", self.keep(record), issues)


def _csv(path: Path, labels: Mapping[str, str], undeclared: _Undeclared) -> Iterator[Department]:
    dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
    with open_population(path) as handle:
        lines = _Lines(handle, quoted=True)
        reader = csv.reader(lines, dialect=dialect)
        try:
            header = next(reader, None)
        except _RowTooLarge:
            yield _failed(path, 1, _row_too_large(path, 1))
            return
        except csv.Error as error:
            yield _failed(path, 1, _csv_problem(path, 1, error))
            return
        if header is None:
            return
        if lines.bad_byte is not None:
            yield _failed(path, 1, _not_utf8(path, 1, lines.bad_byte))
            return
        columns = [_heading(h, labels) for h in header]
        problems = _heading_problems(path, header, columns, labels)
        if problems:
            yield _failed(path, 1, *problems)
            return
        columns = undeclared.heading(columns)
        yield from csv_rows(path, lines, reader, columns, undeclared, 1)


def csv_heading(
    path: Path, handle: BinaryIO, labels: Mapping[str, str]
) -> tuple[list[str], int] | None:
    """The columns of the CSV or TSV population ``path`` (open at its start as
    ``handle``), read as :func:`read_population` reads them, and the heading's end in
    the file, when the heading is one plain line (UTF-8, no quote, no byte-order mark
    but at the start) whose columns are all named, each once; else None."""
    raw = handle.readline(MAX_ROW_BYTES + 1)
    if len(raw) > MAX_ROW_BYTES or not raw.endswith(b"\n") or b'"' in raw or b"\r" in raw[:-2]:
        return None
    try:
        text = raw.removeprefix(_BOM).decode("utf-8")
    except UnicodeDecodeError:
        return None
    dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
    header = next(csv.reader([text], dialect=dialect), None)
    if not header:
        return None
    columns = [_heading(h, labels) for h in header]
    if not all(columns) or _heading_problems(path, header, columns, labels):
        return None
    return columns, handle.tell()


def csv_rows(
    path: Path,
    lines: Any,
    reader: Any,
    columns: list[str],
    undeclared: _Undeclared,
    row: int,
    stop: int | None = None,
) -> Generator[Department, None, int]:
    """The departments of the CSV records that ``reader`` reads from ``lines`` (a
    :class:`_Lines`), the first being row ``row + 1``, until the file ends or, with
    ``stop``, a record ends at or past the byte ``stop``; returns the last row read."""
    handle = lines._handle
    while stop is None or handle.tell() < stop:
        row += 1
        lines.start()
        try:
            cells = next(reader)
        except StopIteration:
            return row - 1
        except _RowTooLarge:
            yield _failed(path, row, _row_too_large(path, row))
            continue
        except csv.Error as error:
            yield _failed(path, row, _csv_problem(path, row, error))
            continue
        if lines.bad_byte is not None:
            if any(c.strip() for c in cells):
                yield _failed(path, row, _not_utf8(path, row, lines.bad_byte))
            continue
        department = csv_department(path, row, cells, columns, undeclared)
        if department is not None:
            yield department
    return row


def csv_department(
    path: Path, row: int, cells: list[str], columns: Sequence[str], undeclared: _Undeclared
) -> Department | None:
    """The department of row ``row``'s cells under ``columns``; None for a blank row."""
    if not any(c.strip() for c in cells):
        return None
    if len(cells) > len(columns):
        where = Location(file=str(path), line=row)
        issue = Issue.of("input.row", where, row=row, cells=len(cells), columns=len(columns))
        return _failed(path, row, issue)
    record = {c: (v if v.strip() else None) for c, v in zip(columns, cells, strict=False) if c}
    dept_id, record = _split_id(record, row)
    return undeclared.department(dept_id, row, record)


def _csv_problem(path: Path, row: int, error: csv.Error) -> Issue:
    text = str(error)
    where = Location(file=str(path), line=row)
    if "field limit" in text:
        return Issue.of("input.field_too_large", where, limit=str(csv.field_size_limit()))
    return Issue.of("input.csv", where, problem=shown_text(text))


def open_population(path: Path) -> BinaryIO:
    """``path`` opened to be streamed: a regular file only (a named pipe, a device or a
    folder is refused as a :class:`~perfscore.errors.InputError`)."""
    try:
        return open_regular(path)
    except FileRefused as refused:
        raise InputError([refused.issue]) from None


class UnsafeWorkbook(ValueError):
    """An XLSX file that would unpack to far more than it holds: refused unread.
    ``path`` is the file; the message says which part and the fix."""

    def __init__(self, path: str | Path, message: str) -> None:
        super().__init__(message)
        self.path = Path(path)


def check_workbook(
    path: str | Path,
    *,
    streamed: bool = True,
    handle: BinaryIO | None = None,
    part_limit: int | None = None,
) -> None:
    """Refuse an XLSX file that unpacks to more than it could reasonably hold, or whose
    XML declares a document type, before openpyxl reads it: a part read whole above
    ``part_limit`` (:data:`MAX_XLSX_PART`), any part packed more than
    :data:`MAX_XLSX_RATIO` to 1, and any XML part with a ``<!DOCTYPE`` (entities) or a
    prolog longer than :data:`_PROLOG_BYTES`. With ``streamed`` (a population, read row
    by row) sheets have no size bound; without it every part has. ``handle``, when
    given, is the file already opened. Raises :class:`UnsafeWorkbook`, or
    :class:`zipfile.BadZipFile` for a file that is no XLSX.
    """
    if part_limit is None:
        part_limit = MAX_XLSX_PART
    with zipfile.ZipFile(handle if handle is not None else path) as archive:
        for part in archive.infolist():
            size, packed = part.file_size, max(part.compress_size, 1)
            whole = not (streamed and part.filename.startswith("xl/worksheets/"))
            if whole and size > part_limit:
                raise UnsafeWorkbook(
                    path,
                    f"its part {part.filename} unpacks to {size:,} bytes, more than "
                    f"the {part_limit:,} perfscore reads whole; split the workbook, "
                    "or save it as CSV",
                )
            if size > _RATIO_FROM and size > MAX_XLSX_RATIO * packed:
                raise UnsafeWorkbook(
                    path,
                    f"its part {part.filename} unpacks to {size // packed:,} times "
                    f"its packed size (at most {MAX_XLSX_RATIO} is read), as a zip bomb "
                    "does; save the workbook again from a spreadsheet program, or as CSV",
                )
            if part.filename.endswith((".xml", ".rels")):
                _check_prolog(archive, part, path)


#: The XML declaration and comments before a part's first element: at most this long.
_PROLOG_BYTES: Final = 64 * 1024
_ROOT: Final = re.compile(rb"<[A-Za-z_]")


def _check_prolog(archive: zipfile.ZipFile, part: zipfile.ZipInfo, path: str | Path) -> None:
    """Refuse a part that declares a document type (where entities are defined)."""
    try:
        with archive.open(part) as stream:
            head = stream.read(_PROLOG_BYTES)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError) as error:
        message = tr("security.xlsx_part", part=part.filename, problem=_problem_text(error))
        raise UnsafeWorkbook(path, message) from None
    root = _ROOT.search(head)
    prolog = head if root is None else head[: root.start()]
    if b"<!DOCTYPE" in prolog.upper() or b"<!ENTITY" in prolog.upper():
        raise UnsafeWorkbook(path, tr("security.xlsx_doctype", part=part.filename))
    if root is None and len(head) >= _PROLOG_BYTES:
        raise UnsafeWorkbook(path, tr("security.xlsx_prolog", part=part.filename))


class WorkbookProblem(ValueError):
    """A workbook openpyxl cannot read (a part missing, truncated or malformed XML):
    ``path`` is the file, the message names the part or the problem."""

    def __init__(self, path: str | Path, message: str) -> None:
        super().__init__(message)
        self.path = Path(path)


_XML_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    KeyError,
    ValueError,
    TypeError,
    AttributeError,
    IndexError,
    EOFError,
    OSError,
    SyntaxError,  # xml.etree.ElementTree.ParseError
)


_UNREADABLE: tuple[type[BaseException], ...] = (PerfscoreError, *_XML_ERRORS)


def load_workbook(path: str | Path, handle: BinaryIO | None = None, **options: Any) -> Any:
    """openpyxl's workbook of ``path`` (read from ``handle`` when given), values only;
    :class:`WorkbookProblem` naming the problem when a part is missing or malformed."""
    import openpyxl

    try:
        return openpyxl.load_workbook(
            handle if handle is not None else path, data_only=True, **options
        )
    except _XML_ERRORS as error:
        message = tr("security.xlsx_malformed", problem=_problem_text(error))
        raise WorkbookProblem(path, message) from None


def _problem_text(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return shown_text(text, 200)


def choose_sheet(book: Any, name: str | None, path: str | Path) -> Any:
    """The sheet to read: ``name`` if given (hidden or not), else the active sheet if it
    is visible, else the first visible one. :class:`WorkbookProblem` when there is none.
    Hidden sheets passed over are named by :func:`hidden_sheets`."""
    if name is not None:
        if name not in book.sheetnames:
            raise WorkbookProblem(
                path,
                tr("security.xlsx_no_sheet", sheet=name, sheets=", ".join(book.sheetnames)),
            )
        return book[name]
    sheets = list(book.worksheets)
    visible = [s for s in sheets if getattr(s, "sheet_state", "visible") == "visible"]
    if not visible:
        raise WorkbookProblem(path, tr("security.xlsx_no_visible_sheet"))
    active = None
    with contextlib.suppress(Exception):
        active = book.active
    return active if active in visible else visible[0]


def hidden_sheets(path: str | Path) -> list[str]:
    """The names of the hidden and very hidden sheets of the workbook ``path`` (read from
    its ``xl/workbook.xml``, bounded); [] when it cannot be read."""
    import xml.etree.ElementTree as ET

    try:
        with open_population(Path(path)) as handle, zipfile.ZipFile(handle) as archive:
            info = archive.getinfo("xl/workbook.xml")
            if info.file_size > MAX_XLSX_PART:
                return []
            _check_prolog(archive, info, path)
            root = ET.fromstring(archive.read(info))
    except _UNREADABLE:  # UnsafeWorkbook is a ValueError
        return []
    return [
        str(sheet.get("name"))
        for sheet in root.iter()
        if sheet.tag.endswith("}sheet") and sheet.get("state") in ("hidden", "veryHidden")
    ]


def _xlsx(
    path: Path, labels: Mapping[str, str], undeclared: _Undeclared, sheet: str | None
) -> Iterator[Department]:
    with open_population(path) as handle:
        check_workbook(path, handle=handle)
        book = load_workbook(path, handle, read_only=True)
        try:
            chosen = choose_sheet(book, sheet, path)
            # The sheet's declared dimension (<dimension ref="A1:XFD1048576"/>) is not
            # trusted: openpyxl would pad every row to it.
            chosen.reset_dimensions()
            try:
                header = next(chosen.iter_rows(min_row=1, max_row=1, values_only=True), None)
            except _XML_ERRORS as error:
                yield _failed(path, 1, _malformed(path, 1, error))
                return
            if header is None:
                return
            header = _trimmed(header)
            if len(header) > MAX_COLUMNS:
                yield _failed(path, 1, *_heading_problems(path, header, [""] * len(header), {}))
                return
            columns = [_heading(h, labels) for h in header]
            problems = _heading_problems(path, header, columns, labels)
            if problems:
                yield _failed(path, 1, *problems)
                return
            columns = undeclared.heading(columns)
            width = max(len(columns), 1)
            rows = iter(chosen.iter_rows(min_row=2, max_col=width, values_only=True))
            row = 1
            while True:
                row += 1
                try:
                    cells = next(rows)
                except StopIteration:
                    return
                except _XML_ERRORS as error:  # the sheet's XML breaks off: the rows so far stand
                    yield _failed(path, row, _malformed(path, row, error))
                    return
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
                yield undeclared.department(dept_id, row, record)
        finally:
            book.close()


def _malformed(path: Path, row: int, error: BaseException) -> Issue:
    return Issue.of(
        "input.workbook", Location(file=str(path), line=row), problem=_problem_text(error)
    )


def _trimmed(cells: Sequence[Any]) -> tuple[Any, ...]:
    """A heading without its empty cells at the end."""
    end = len(cells)
    while end and (cells[end - 1] is None or str(cells[end - 1]).strip() == ""):
        end -= 1
    return tuple(cells[:end])


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


class _DuplicateKey(ValueError):
    pass


class _TooManyFields(ValueError):
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):  # a key twice: find which, for the message
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    if len(out) > MAX_COLUMNS:
        raise _TooManyFields(str(len(out)))
    return out


#: One decoder for every line (``json.loads`` with options builds one per call).
_DECODER: Final = json.JSONDecoder(
    parse_float=Decimal, parse_constant=_reject_constant, object_pairs_hook=_pairs
)


def _jsonl(path: Path) -> Iterator[Department]:
    with open_population(path) as handle:
        yield from _jsonl_rows(path, handle, 0)


_BOM: Final = b"\xef\xbb\xbf"


def _jsonl_rows(
    path: Path, handle: BinaryIO, row: int, stop: int | None = None
) -> Generator[Department, None, int]:
    """The departments of the lines of ``handle`` from where it stands (the file's start
    when ``row`` is 0: a byte-order mark is dropped there), numbered after ``row``, up to
    the first line that starts at or after the byte ``stop`` (or to the end); returns the
    last row read. A line longer than :data:`MAX_ROW_BYTES` fails alone, skipped unread."""
    first = row == 0
    while stop is None or handle.tell() < stop:
        raw = handle.readline(MAX_ROW_BYTES + 1)
        if not raw:
            break
        if first:
            first = False
            raw = raw.removeprefix(_BOM)
        row += 1
        if len(raw) > MAX_ROW_BYTES:
            while raw and not raw.endswith(b"\n"):  # the rest of the line, in small pieces
                raw = handle.readline(1 << 16)
            yield _failed(path, row, _row_too_large(path, row))
            continue
        department = jsonl_department(path, row, raw)
        if department is not None:
            yield department
    return row


def jsonl_department(path: Path, row: int, raw: bytes) -> Department | None:
    """The department of one line of a JSONL population (``raw``, its bytes), as
    :func:`read_population` reads it; None for a blank line."""
    bad_byte = None
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        bad_byte = error.start + 1
        line = raw.decode("utf-8", "surrogateescape")
    if not line.strip():
        return None
    where = Location(file=str(path), line=row)
    if bad_byte is not None:
        return _failed(path, row, _not_utf8(path, row, bad_byte))
    try:
        data = _DECODER.decode(line)
    except _DuplicateKey as error:
        issue = Issue.of("input.duplicate_key", where, key=shown_text(str(error)))
        return _failed(path, row, issue)
    except _TooManyFields as error:
        issue = Issue.of("input.too_many_fields", where, count=str(error), limit=str(MAX_COLUMNS))
        return _failed(path, row, issue)
    except (ValueError, RecursionError, ArithmeticError) as error:
        detail = shown_text(str(error), 200)
        issue = Issue.of("input.syntax", where, line=row, detail=detail)
        return _failed(path, row, issue)
    if not isinstance(data, dict):
        issue = Issue.of("input.not_mapping", where, message=msg("input.line_not_object", line=row))
        return _failed(path, row, issue)
    dept_id, record = _split_id(data, row)
    return Department(dept_id, row, f"{path}:{row}", record)


def _parquet(path: Path, labels: Mapping[str, str]) -> Iterator[Department]:
    """A Parquet file, one department per row, read a row group at a time (pyarrow)."""
    try:
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - pyarrow is an optional dependency
        raise ValueError(
            f"{path}: reading Parquet needs pyarrow: pip install 'perfscore[parquet]'"
        ) from None
    handle = open_population(path)  # a regular file only, as every population
    try:
        table = pq.ParquetFile(handle)
        header = table.schema_arrow.names
        columns = [_heading(name, labels) for name in header]
        problems = _heading_problems(path, header, columns, labels)
        if problems:
            yield _failed(path, 1, *problems)
            return
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
    finally:
        handle.close()
