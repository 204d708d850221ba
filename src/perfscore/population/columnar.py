"""A JSONL, CSV or TSV population read in blocks of lines as Arrow tables, and scores
written as text by Arrow's string kernels: the fast lane of
``perfscore score RUBRIC POP --out FILE``.

:func:`jsonl_blocks` reads a JSONL population as :func:`~perfscore.population.read_population`
does, but hands over a block of lines at a time, parsed by ``pyarrow.json`` into a
:class:`JsonlBlock`, wherever the block's values are certain to be the values Python's own
reading gives (the same text, the same numbers, the same row numbers); any other block
(a broken or blank line, a duplicate key, a value nested or of another kind than Arrow
reads exactly, a column that names no input) comes out department by department, read
line by line exactly as ``read_population`` reads it. Each line of a block is kept, so
that a department the row engine must score is read from its own line, as it would be.
:func:`csv_blocks` does the same for a CSV or TSV population with ``pyarrow.csv``, where
:func:`csv_columns` finds its heading plain; a block is Arrow's only where each line is
one record whose cells Python's csv module splits alike (no quote, no blank line or row,
and the rest: see :func:`_parse_csv`), as :class:`CsvBlock`.
:func:`with_floats` turns the number inputs' text columns into the float64 columns the
vectorised path reads the same numbers from; :func:`read_ahead` runs a stage in a thread
of its own (Arrow works without the GIL, so the stages overlap on several cores).

:func:`decimal_text` writes integer units as the plain-notation decimals
``format(Decimal, "f")`` writes; :func:`csv_lines` and :func:`jsonl_lines` write the
output rows of departments scored by the vectorised path, byte for byte as the
row-by-row writers of :mod:`perfscore.population.batch` write them.

pyarrow and numpy are optional: :mod:`perfscore.population.batch` imports this module
only when they are installed, and reads and writes row by row otherwise.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import functools
import io
import itertools
import json
import math
import re
import threading
from collections.abc import Callable, Collection, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from queue import Full, Queue
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv
import pyarrow.json as pj

from perfscore._escape import spreadsheet_cell
from perfscore._inputs import _PLAIN_NUMBER
from perfscore.model import NUMERIC_KINDS

from . import readers
from .readers import _BOM, ID_COLUMNS, Department, _jsonl_rows, jsonl_department, open_population
from .vectorised import NONZERO_MANTISSA

if TYPE_CHECKING:
    from perfscore.model import InputSpec

__all__ = [
    "ChunkText",
    "CsvBlock",
    "JsonlBlock",
    "csv_blocks",
    "csv_cell",
    "csv_columns",
    "csv_lines",
    "decimal_text",
    "jsonl_blocks",
    "jsonl_lines",
    "line_bytes",
    "read_ahead",
    "with_floats",
]

#: What a float64 may not hold exactly as the decimal written: more than 15 digits, an
#: exponent (after a value's start: not a ``\u4e0d`` escape), a constant Python refuses.
#: Looked for only when Arrow read a float column.
_INEXACT_NUMBER: Final = re.compile(rb"\d[\d.]{15}|[:,\[]\s*-?[\d.]+[eE]|NaN|Infinity")
#: Arrow types whose values are, value for value, the ones Python's json module gives.
_EXACT_TYPES: Final = (pa.string(), pa.bool_(), pa.int64(), pa.null())


@dataclass(frozen=True, slots=True)
class JsonlBlock:
    """Lines of a JSONL population, parsed by Arrow: ``table`` holds one row per line
    (``data``, the lines' bytes, line ``k`` starting at ``starts[k]``; ``starts`` ends
    with the end of the last), the first line being row ``first_row`` of the file."""

    path: Path
    first_row: int
    data: bytes
    starts: list[int]
    table: pa.Table

    def __len__(self) -> int:
        return len(self.starts) - 1

    def department(self, k: int) -> Department:
        """The department of the block's ``k``-th line, read as Python reads it."""
        row = self.first_row + k
        raw = self.data[self.starts[k] : self.starts[k + 1]]
        department = jsonl_department(self.path, row, raw)
        assert department is not None  # a block has no blank line
        return department

    def ids(self) -> pa.StringArray:
        """Each row's department id, as :func:`read_population` gives it: the ``id``
        value with its ends stripped, the row number where there is none."""
        n = len(self)
        rows = pc.cast(pa.array(np.arange(self.first_row, self.first_row + n)), pa.string())
        if "id" not in self.table.column_names:
            return rows
        column = self.table.column("id").combine_chunks()
        if column.type == pa.null():
            return rows
        if column.type == pa.int64():
            return pc.if_else(column.is_null(), rows, pc.cast(column, pa.string()))
        plain = pc.match_substring_regex(column, _PLAIN_TEXT).fill_null(False)
        if plain.false_count == 0:
            return column  # nothing to strip, no gap
        values = column.to_pylist()
        first = self.first_row
        for k in np.flatnonzero(~plain.to_numpy(zero_copy_only=False)).tolist():
            v = values[k]
            values[k] = str(first + k) if v is None or v == "" else str(v).strip()
        return pa.array(values, type=pa.string())


#: Text that is written as it is in every output (an RE2 pattern, for Arrow): letters,
#: digits, CJK and full-width forms and a few marks, beginning and ending with none of
#: the spaces ``str.strip`` removes, with nothing CSV quotes, JSON escapes or a
#: spreadsheet reads as a formula. Any other text is written one value at a time.
_PLAIN_CHARS: Final = r"A-Za-z0-9_.:/#()\x{3001}-\x{9fff}\x{ff01}-\x{ffef}"
_PLAIN_TEXT: Final = rf"^[{_PLAIN_CHARS}](?:[{_PLAIN_CHARS} \-]*[{_PLAIN_CHARS}])?$"


def _cells(values: pa.StringArray, write: Callable[[str], str]) -> pa.StringArray:
    """Each text of ``values`` as ``write`` writes it, where it is not plain text."""
    plain = pc.match_substring_regex(values, _PLAIN_TEXT).fill_null(False)
    if plain.false_count == 0:
        return values
    texts = values.to_pylist()
    for k in np.flatnonzero(~plain.to_numpy(zero_copy_only=False)).tolist():
        texts[k] = write(texts[k])
    return pa.array(texts, type=pa.string())


def _join(*parts: Any) -> pa.StringArray:
    """``pc.binary_join_element_wise`` of ``parts`` (arrays and text), the last the
    separator."""
    return pc.binary_join_element_wise(*parts)


def _double_safe(spec: InputSpec) -> bool:
    """Whether a float64 column is read for this input as the decimals would be: a
    number input, read with numpy (a float read value by value is not a Decimal)."""
    return spec.kind in NUMERIC_KINDS and "fraction" not in spec.accept


def _parse(
    raws: list[bytes], specs: Mapping[str, InputSpec], schema: pa.Schema | None = None
) -> tuple[pa.Table, bytes] | None:
    """The lines ``raws`` as an Arrow table, one row a line, and as one bytes object, when
    every value is the one Python's reading gives; else None (the lines are then read
    one by one). ``schema``, the previous block's, is tried first: Arrow parses faster
    knowing the types, and refuses a value of another type or a key it does not hold
    (the types are then inferred)."""
    # A line that is too long fails alone; Arrow skips a blank line, where Python counts
    # a row (a line of other whitespace Arrow refuses). With neither, a table of one row
    # a line has read each line as one object: more would be Python's "extra data".
    if max(map(len, raws)) > readers.MAX_ROW_BYTES or not min(map(len, map(bytes.strip, raws))):
        return None
    block = b"".join(raws)
    options = pj.ReadOptions(
        use_threads=True, block_size=max(len(block) // 2 + 1, 2 * readers.MAX_ROW_BYTES)
    )
    table = None
    if schema is not None:
        known = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="error")
        with contextlib.suppress(pa.ArrowException, ValueError):
            table = pj.read_json(pa.py_buffer(block), read_options=options, parse_options=known)
    if table is None:
        try:
            table = pj.read_json(pa.py_buffer(block), read_options=options)
        except (pa.ArrowException, ValueError):  # UnicodeDecodeError is a ValueError
            return None
    if table.num_rows != len(raws):
        return None
    floats = False
    for name, kind in zip(table.column_names, table.schema.types, strict=True):
        if name == "id":
            if kind not in (pa.string(), pa.int64(), pa.null()):
                return None
            continue
        spec = None if name in ID_COLUMNS else specs.get(name)
        if spec is None:
            # A column that names no input, or another id column (its value is the
            # department's id, even where an input has its name): Python's to read.
            return None
        if kind == pa.float64() and _double_safe(spec):
            floats = True
        elif kind not in _EXACT_TYPES:
            return None
    if floats and _INEXACT_NUMBER.search(block):
        return None
    return table, block


#: Text of at most this many characters holds at most 15 significant digits, which a
#: float64 keeps (as the vectorised path's reading of text has it).
_SHORT_TEXT: Final = 15
_PLAIN_NUMBER_RE2: Final = f"^(?:{_PLAIN_NUMBER.pattern})$"


def _text_as_floats(column: pa.Array) -> pa.Array:
    """A number input's text column as the float64 column the vectorised path reads the
    same from: a plain number of at most 15 characters (ASCII blanks trimmed) is its
    float, a gap (blank, null) is null, anything else (a text that underflows to zero,
    ``1e-999``, among them) is infinite (no grid holds it: the row engine reads it).
    Made here, in the reading thread, so that the work is done beside the scoring of the
    block before."""
    text = pc.ascii_trim_whitespace(column)
    gap = pc.equal(text, "").fill_null(True)
    plain = pc.and_(
        pc.match_substring_regex(text, _PLAIN_NUMBER_RE2),
        pc.less_equal(pc.utf8_length(text), _SHORT_TEXT),
    ).fill_null(False)
    floats = pc.cast(pc.if_else(plain, text, pa.scalar(None, pa.string())), pa.float64())
    # A text that underflows to zero (1e-999) is no zero: the row engine reads it. Only
    # a zero written with an exponent may be one (15 characters hold no other).
    zero = pc.equal(floats, 0.0).fill_null(False)
    if zero.true_count:
        zero = pc.and_(zero, pc.match_substring(text, "e", ignore_case=True).fill_null(False))
        if zero.true_count:
            underflow = pc.and_(zero, pc.match_substring_regex(text, NONZERO_MANTISSA))
            plain = pc.and_(plain, pc.invert(underflow.fill_null(False)))
    other = pa.scalar(math.inf, pa.float64())
    return pc.if_else(gap, pa.scalar(None, pa.float64()), pc.if_else(plain, floats, other))


def with_floats(
    items: Iterator[Department | JsonlBlock], specs: Mapping[str, InputSpec]
) -> Iterator[Department | JsonlBlock]:
    """The blocks of ``items``, each number input's text column read as
    :func:`_text_as_floats` reads it; the departments as they are."""
    for item in items:
        if isinstance(item, JsonlBlock):
            item = dataclasses.replace(item, table=_floats_table(item.table, specs))
        yield item


def _floats_table(table: pa.Table, specs: Mapping[str, InputSpec]) -> pa.Table:
    for i, (name, kind) in enumerate(zip(table.column_names, table.schema.types, strict=True)):
        spec = specs.get(name)
        if spec is not None and kind == pa.string() and _double_safe(spec):
            column = _text_as_floats(table.column(i).combine_chunks())
            table = table.set_column(i, name, column)
    return table


def jsonl_blocks(
    path: Path, specs: Mapping[str, InputSpec], size: int
) -> Generator[Department | JsonlBlock, None, None]:
    """The lines of the JSONL population ``path``, ``size`` at a time: a
    :class:`JsonlBlock` where Arrow reads them exactly, else their departments one by
    one (see the module's docstring). Memory holds one block."""
    with open_population(path) as handle:
        readline = functools.partial(handle.readline, readers.MAX_ROW_BYTES + 1)
        row = 0
        schema = None
        while True:
            start = handle.tell()
            raws = list(itertools.islice(iter(readline, b""), size))
            if not raws:
                return
            if row == 0:
                raws[0] = raws[0].removeprefix(_BOM)
            parsed = _parse(raws, specs, schema) if raws[0] else None
            if parsed is None:
                stop = handle.tell()
                handle.seek(start)
                row = yield from _jsonl_rows(path, handle, row, stop)
                continue
            starts = [0, *itertools.accumulate(map(len, raws))]
            table, data = parsed
            schema = table.schema
            del raws, parsed
            yield JsonlBlock(path, row + 1, data, starts, table)
            row += len(starts) - 1


# --------------------------------------------------------------------------- CSV


@dataclass(frozen=True, slots=True)
class CsvBlock(JsonlBlock):
    """Lines of a CSV or TSV population, parsed by Arrow (see :class:`JsonlBlock`): one
    record a line, every column text, a cell Python reads as blank null; ``columns``
    are the heading's, ``delimiter`` the file's."""

    columns: tuple[str, ...] = ()
    delimiter: str = ","

    def department(self, k: int) -> Department:
        """The department of the block's ``k``-th line, read as Python reads it."""
        row = self.first_row + k
        text = self.data[self.starts[k] : self.starts[k + 1]].decode("utf-8")
        dialect = "excel-tab" if self.delimiter == "\t" else "excel"
        cells = next(csv.reader([text], dialect=dialect))
        department = readers.csv_department(
            self.path, row, cells, self.columns, readers._Undeclared(self.path, None, False, None)
        )
        assert department is not None  # a block has no blank row
        return department


#: A cell that Python's ``str.strip`` leaves empty (an RE2 pattern of the characters
#: ``str.isspace`` holds): the CSV reader reads it as a gap.
_PY_BLANK: Final = (
    r"^[\t\n\x0b\x0c\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}"
    r"\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]*$"
)


def csv_columns(
    path: Path, specs: Mapping[str, InputSpec], labels: Mapping[str, str]
) -> tuple[list[str], int] | None:
    """The heading of the CSV or TSV population ``path`` and its end, when its blocks
    may be read by Arrow: a plain heading (see :func:`readers.csv_heading`) whose
    columns are ``id`` and inputs only (no other id column, no metadata, nothing
    undeclared: nothing to warn of); else None (the file is read by Python)."""
    with open_population(path) as handle:
        found = readers.csv_heading(path, handle, labels)
    if found is None:
        return None
    columns, _ = found
    for name in columns:
        if name == "id":
            if name in specs:
                return None
        elif name not in specs or name in ID_COLUMNS:
            return None
    return found


def _parse_csv(
    raws: list[bytes], columns: Sequence[str], delimiter: str
) -> tuple[pa.Table, bytes] | None:
    """The lines ``raws`` as an Arrow table of text, one row a line, when every cell is
    the one Python's csv module reads (a blank one null); else None. Only lines without
    a quote, a NUL or a lone carriage return, none blank and none past the csv module's
    field limit are read: each line is then one record, its cells split at the
    delimiter, exactly, by both readers."""
    longest = max(map(len, raws))
    if longest > readers.MAX_ROW_BYTES or longest > csv.field_size_limit():
        return None
    if not min(map(len, map(bytes.strip, raws))):
        return None
    block = b"".join(raws)
    if b'"' in block or b"\x00" in block or block.count(b"\r") != block.count(b"\r\n"):
        return None
    try:
        table = pv.read_csv(
            pa.py_buffer(block),
            read_options=pv.ReadOptions(
                column_names=list(columns),
                use_threads=True,
                block_size=max(len(block) // 2 + 1, 2 * readers.MAX_ROW_BYTES),
            ),
            parse_options=pv.ParseOptions(
                delimiter=delimiter, quote_char=False, ignore_empty_lines=False
            ),
            convert_options=pv.ConvertOptions(
                column_types=dict.fromkeys(columns, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                check_utf8=True,
            ),
        )
    except (pa.ArrowException, ValueError):
        return None
    if table.num_rows != len(raws):
        return None
    blank_row = None
    for i in range(table.num_columns):
        column = table.column(i).combine_chunks()
        blank = pc.match_substring_regex(column, _PY_BLANK)
        blank_row = blank if blank_row is None else pc.and_(blank_row, blank)
        if blank.true_count:
            table = table.set_column(
                i, columns[i], pc.if_else(blank, pa.scalar(None, pa.string()), column)
            )
    if blank_row is not None and blank_row.true_count:
        return None  # a row of blank cells: Python skips it, and counts it
    return table, block


def csv_blocks(
    path: Path, heading: tuple[list[str], int], size: int
) -> Generator[Department | JsonlBlock, None, None]:
    """The records of the CSV or TSV population ``path`` after its ``heading`` (from
    :func:`csv_columns`), ``size`` lines at a time: a :class:`CsvBlock` where Arrow reads
    them exactly, else their departments one by one, read by Python (which reads a
    record with a newline in quotes whole, past the block's end). Memory holds one
    block."""
    columns, start = heading
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    undeclared = readers._Undeclared(path, None, False, None)
    with open_population(path) as handle:
        handle.seek(start)
        lines = readers._Lines(handle, quoted=True)
        lines._first = False  # the heading, with any byte-order mark, is read
        reader = csv.reader(lines, dialect="excel-tab" if delimiter == "\t" else "excel")
        readline = functools.partial(handle.readline, readers.MAX_ROW_BYTES + 1)
        row = 1
        while True:
            start = handle.tell()
            raws = list(itertools.islice(iter(readline, b""), size))
            if not raws:
                return
            parsed = _parse_csv(raws, columns, delimiter)
            if parsed is None:
                stop = handle.tell()
                handle.seek(start)
                row = yield from readers.csv_rows(
                    path, lines, reader, columns, undeclared, row, stop
                )
                continue
            starts = [0, *itertools.accumulate(map(len, raws))]
            table, data = parsed
            del raws, parsed
            yield CsvBlock(path, row + 1, data, starts, table, tuple(columns), delimiter)
            row += len(starts) - 1


_DONE: Final = object()


def read_ahead(items: Iterator[Any], depth: int = 1) -> Iterator[Any]:
    """The items of ``items``, made by a thread of their own up to ``depth`` ahead: Arrow
    parses the next block (without the GIL) while this one is scored and written. An
    exception raised making them is raised here; stopping early stops the thread."""
    queue: Queue[Any] = Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
            except Full:
                continue
            return True
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
        except BaseException as error:  # raised again in the consumer
            put((_DONE, error))
            return
        finally:
            close = getattr(items, "close", None)
            if close is not None and stop.is_set():
                close()
        put((_DONE, None))

    thread = threading.Thread(target=produce, name="perfscore-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, error = queue.get()
            if item is _DONE:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        thread.join()


# --------------------------------------------------------------------------- writing


#: Units spanning at most this many values are written by looking their text up.
_TABLE_SPAN: Final = 1 << 17


@functools.lru_cache(maxsize=8)
def _text_table(low: int, high: int, places: int) -> pa.StringArray:
    """The text of every number of units ``low`` to ``high``, as ``format`` writes it."""
    return pa.array(
        [format(Decimal(u).scaleb(-places), "f") for u in range(low, high + 1)], type=pa.string()
    )


def decimal_text(units: Any, places: int) -> pa.StringArray:
    """Integer units of ``10**-places`` as plain-notation decimals with ``places``
    places: what ``format(Decimal(u).scaleb(-places), "f")`` writes for each."""
    values = np.asarray(units, dtype=np.int64)
    if not len(values):
        return pa.array([], type=pa.string())
    low, high = int(values.min()), int(values.max())
    if high - low < _TABLE_SPAN:
        # Scores lie in a narrow range: a table of their texts (kept for the next chunk,
        # which has about the same range) and one take.
        low, high = low & ~0xFF, high | 0xFF  # rounded out, so that the table is reused
        return _text_table(low, high, places).take(pa.array(values - low))
    negative = values < 0
    text = pc.cast(pa.array(np.abs(values)), pa.string())
    if places:
        text = pc.utf8_lpad(text, places + 1, "0")
        text = _join(
            pc.utf8_slice_codeunits(text, 0, -places), pc.utf8_slice_codeunits(text, -places), "."
        )
    if negative.any():
        text = pc.if_else(pa.array(negative), _join("-", text, ""), text)
    return text


@dataclass(frozen=True, slots=True)
class ChunkText:
    """The columns of scored rows that the text writers need: each row's id and row
    number, total and every node's score as integer units, and its grade's index."""

    ids: pa.StringArray
    rows: Any
    total_units: Any
    total_places: int
    grade_index: Any
    grade_names: Sequence[str]
    units: Sequence[Any]
    places: int

    def scores(self) -> list[pa.StringArray]:
        """Every node's scores as text, one Arrow array each (written in one pass)."""
        n = len(self.ids)
        if not self.units:
            return []
        text = decimal_text(np.concatenate(list(self.units)), self.places)
        return [text.slice(i * n, n) for i in range(len(self.units))]


#: Text written into a CSV cell as it is: no quoting, no formula neutralising.
_PLAIN_CELL: Final = re.compile(r"[^=+\-@\"\x00-\x1f\x7f,;][^\"\x00-\x1f\x7f,;]*")


@functools.lru_cache(maxsize=4)
def _csv_cell_writer(delimiter: str) -> tuple[io.StringIO, Any]:
    buffer = io.StringIO()
    return buffer, csv.writer(buffer, dialect="excel-tab" if delimiter == "\t" else "excel")


def csv_cell(text: str, delimiter: str) -> str:
    """A text cell as the batch CSV writer writes it: neutralised as a spreadsheet cell,
    then quoted by the csv module where it needs to be."""
    if not text or _PLAIN_CELL.fullmatch(text):
        return text  # an empty cell is written as nothing: a row has more than one
    buffer, writer = _csv_cell_writer(delimiter)
    buffer.seek(0)
    buffer.truncate()
    writer.writerow([spreadsheet_cell(text)])
    return buffer.getvalue()[:-2]  # without the "\r\n" both dialects end rows with


def csv_lines(chunk: ChunkText, delimiter: str) -> pa.StringArray:
    """One CSV line (``\\r\\n`` included) per row of ``chunk``, as ``csv.writer`` writes
    the rows of :func:`~perfscore.population.batch.write_batch`: id, row, ``ok``, total,
    grade, every score, and an empty ``errors``."""
    cell = functools.partial(csv_cell, delimiter=delimiter)
    ids = _cells(chunk.ids, cell)
    grades = pa.array([cell(g) for g in chunk.grade_names], type=pa.string())
    return _join(
        ids,
        pc.cast(pa.array(chunk.rows), pa.string()),
        "ok",
        decimal_text(chunk.total_units, chunk.total_places),
        grades.take(pa.array(chunk.grade_index)),
        *chunk.scores(),
        "\r\n",
        delimiter,
    )


def _json_text(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _json_inside(text: str) -> str:
    """``text`` as a JSON string holds it, without its quotes."""
    return _json_text(text)[1:-1]


def jsonl_lines(chunk: ChunkText, columns: Collection[str]) -> pa.StringArray:
    """One JSON line (``\\n`` included) per row of ``chunk``, as ``json.dumps`` writes
    the rows of :func:`~perfscore.population.batch.write_batch`; ``columns`` are the
    output's columns."""
    keys = [json.dumps(c, ensure_ascii=False) for c in columns]
    ids = _cells(chunk.ids, _json_inside)
    grades = pa.array([_json_text(g) for g in chunk.grade_names], type=pa.string())
    parts: list[Any] = [
        "{" + keys[0] + ': "',
        ids,
        '", ' + keys[1] + ": ",
        pc.cast(pa.array(chunk.rows), pa.string()),
        ", " + keys[2] + ': "ok", ' + keys[3] + ': "',
        decimal_text(chunk.total_units, chunk.total_places),
        '", ' + keys[4] + ": ",
        grades.take(pa.array(chunk.grade_index)),
    ]
    for key, text in zip(keys[5:-1], chunk.scores(), strict=True):
        parts += [", " + key + ': "', text, '"']
    parts.append(", " + keys[-1] + ": null}\n")
    return _join(*parts, "")


def line_bytes(lines: pa.StringArray) -> tuple[memoryview, list[int]]:
    """The UTF-8 bytes of every line of ``lines`` one after the other, and each line's
    start in them, then the end of the last."""
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[
        lines.offset : lines.offset + len(lines) + 1
    ]
    data = lines.buffers()[2]
    return memoryview(data if data is not None else b""), offsets.tolist()
