"""A JSONL population read in blocks by pyarrow and written by Arrow's string kernels
(perfscore.population.columnar): the same file, byte for byte, as scoring department by
department writes, whatever the lines hold; and the pure-Python path without pyarrow."""

from __future__ import annotations

import csv
import io
import json
import sys
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import perfscore
import perfscore.population
from perfscore.population import batch, columnar
from perfscore.population import readers as population
from perfscore.population.batch import score_many, write_batch
from tests.test_batch import DEMO_RUBRIC, department

pytestmark = pytest.mark.lang("en")

TEXT_SUFFIXES = (".csv", ".tsv", ".jsonl")


@pytest.fixture
def compiled(demo_compiled: perfscore.CompiledRubric) -> perfscore.CompiledRubric:
    return demo_compiled


def xlsx_rows(path: Path) -> list[tuple[Any, ...]]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return list(book.worksheets[0].iter_rows(values_only=True))
    finally:
        book.close()


def assert_same_files(
    compiled: perfscore.CompiledRubric, population: Path, tmp: Path, chunk: int, suffixes: Any
) -> list[Any]:
    """Writes ``population`` scored one by one and through score_rows in ``chunk``-line
    blocks into each format; asserts the files are the same; returns score_rows' records."""
    records = list(batch.score_rows(compiled, population, chunk=chunk))
    for suffix in suffixes:
        one, many = tmp / f"one{suffix}", tmp / f"many{suffix}"
        first = write_batch(compiled, score_many(compiled, population), one)
        second = write_batch(compiled, iter(records), many)
        assert (first.scored, first.failed) == (second.scored, second.failed)
        assert [(f.row, f.issues) for f in first.failures] == [
            (f.row, f.issues) for f in second.failures
        ]
        if suffix == ".parquet":
            assert pq.read_table(one).equals(pq.read_table(many))
        elif suffix == ".xlsx":
            assert xlsx_rows(one) == xlsx_rows(many)
        else:
            assert one.read_bytes() == many.read_bytes(), suffix
    return records


# --------------------------------------------------------------------------- lines

#: Ids that CSV must quote, neutralise or escape, and that JSON must escape.
ODD_IDS = (
    "部门-甲",
    'say "hi"',
    "a,b",
    "a\tb",
    "=SUM(A1)",
    "-3",
    "+x",
    "@me",
    " padded ",
    "   ",
    "",
    "line\nbreak",
    "back\\slash",
    "\u3000全角",
    "\x7f",
    "😀",
)

#: Texts an input's value may be written as, in a JSON line or a CSV cell: gaps, plain
#: numbers, numbers Arrow and Python might read apart, and no numbers at all.
ODD_TEXTS = (
    "",
    "  ",
    "12.5",
    " 12.50 ",
    "1e-999",
    "1E+2",
    "１２",
    "lots",
    "1,000",
    "n/a",
)

#: Values an input may hold in a line: as JSON numbers, text, gaps, odd forms.
ODD_VALUES = (
    None,
    *ODD_TEXTS,
    12.345678901234567,
    0.1,
    2.5,
    -0.0,
    7,
    -2,
    10**20,
    True,
)


@st.composite
def lines(draw: st.DrawFn) -> list[str]:
    count = draw(st.integers(min_value=1, max_value=30))
    ascii_only = draw(st.booleans())  # "\u4e0d" escapes, as json.dumps writes by default
    out = []
    for _ in range(count):
        kind = draw(
            st.sampled_from(
                ["good"] * 6 + ["gap", "odd", "id", "broken", "blank", "array", "dup", "unknown"]
            )
        )
        inputs: dict[str, Any] = department(draw(st.integers(0, 500)))
        if kind == "broken":
            out.append("{broken")
            continue
        if kind == "blank":
            out.append(draw(st.sampled_from(["", "  ", "\t", "\u3000"])))
            continue
        if kind == "array":
            out.append("[1, 2]")
            continue
        if kind == "gap":
            inputs.pop(draw(st.sampled_from(sorted(k for k in inputs if k != "id"))))
        if kind == "odd":
            key = draw(st.sampled_from(sorted(k for k in inputs if k != "id")))
            inputs[key] = draw(st.sampled_from(ODD_VALUES))
        if kind == "id":
            inputs["id"] = draw(
                st.sampled_from(ODD_IDS)
                | st.text(st.characters(blacklist_categories=("Cs",)), max_size=6)
                | st.integers(-5, 5)
                | st.none()
            )
        if kind == "unknown":
            inputs["remarks"] = None
        line = json.dumps(inputs, ensure_ascii=ascii_only)
        if kind == "dup":
            line = line[:-1] + ', "satisfaction": 1}'
        out.append(line)
    return out


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(lines(), st.sampled_from([1, 3, 8, 64]), st.booleans(), st.sampled_from(["\n", "\r\n"]))
def test_blocks_write_the_files_scoring_one_by_one_writes(
    compiled: perfscore.CompiledRubric,
    tmp_path_factory: pytest.TempPathFactory,
    text: list[str],
    chunk: int,
    bom: bool,
    end: str,
) -> None:
    """invariant: whatever the lines hold (gaps, odd numbers, odd ids, broken, blank or
    duplicate-key lines, unknown keys, anywhere in a block; a byte-order mark, CRLF line
    ends), score_rows' blocks write
    CSV, TSV and JSONL files byte for byte as scoring department by department does."""
    tmp = tmp_path_factory.mktemp("blocks")
    population = tmp / "pop.jsonl"
    body = (end.join(text) + end).encode()
    population.write_bytes((b"\xef\xbb\xbf" if bom else b"") + body)
    assert_same_files(compiled, population, tmp, chunk, TEXT_SUFFIXES)


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".xlsx", ".parquet"])
def test_every_format_is_written_from_blocks_as_one_by_one(
    compiled: perfscore.CompiledRubric, tmp_path: Path, suffix: str
) -> None:
    lines = [json.dumps(department(i), ensure_ascii=False) for i in range(200)]
    lines[57] = "{broken"
    lines[120] = json.dumps(department(120) | {"satisfaction": 1000.5, "id": 'q"uote,'})
    population = tmp_path / "pop.jsonl"
    population.write_text("\n".join(lines) + "\n", encoding="utf-8")
    records = assert_same_files(compiled, population, tmp_path, 64, [suffix])
    chunks = [r for r in records if isinstance(r, batch.ScoredChunk)]
    assert chunks  # the blocks were read by Arrow
    assert sum(len(c.others) for c in chunks) >= 1  # a row of the engine, in its place


def test_a_line_too_long_fails_alone_in_a_block(
    compiled: perfscore.CompiledRubric, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(population, "MAX_ROW_BYTES", 600)
    lines = [json.dumps(department(i), ensure_ascii=False) for i in range(40)]
    lines[5] = json.dumps(department(5) | {"id": "x" * 2000})
    lines[39] = json.dumps(department(39) | {"id": "y" * 700})
    population_file = tmp_path / "pop.jsonl"
    population_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    records = assert_same_files(compiled, population_file, tmp_path, 16, TEXT_SUFFIXES)
    failed = [r.row for r in records if isinstance(r, batch.FailedDepartment)]
    assert failed == [6, 40]


def test_float_columns_keep_only_what_is_exact(
    compiled: perfscore.CompiledRubric, tmp_path: Path
) -> None:
    """JSON numbers Arrow reads as float64: with at most 15 digits and no exponent they
    are the decimals written; any other block is read by Python, line by line."""
    plain = tmp_path / "plain.jsonl"
    plain.write_text(
        "\n".join(json.dumps(department(i)) for i in range(30)) + "\n", encoding="utf-8"
    )
    records = assert_same_files(compiled, plain, tmp_path, 30, [".csv"])
    assert isinstance(records[0], batch.ScoredChunk)
    for odd in ("0.1000000000000000055511151231257827", "1e-999", "1E2", "NaN"):
        lines = [json.dumps(department(i)) for i in range(30)]
        lines[3] = json.dumps(department(3) | {"satisfaction": "@"}).replace('"@"', odd)
        path = tmp_path / "odd.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        records = assert_same_files(compiled, path, tmp_path, 30, [".csv"])
        assert not any(isinstance(r, batch.ScoredChunk) for r in records), odd


def test_without_pyarrow_the_lines_are_read_by_python(
    compiled: perfscore.CompiledRubric, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [json.dumps(department(i), ensure_ascii=False) for i in range(50)]
    population_file = tmp_path / "pop.jsonl"
    population_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with_arrow = tmp_path / "arrow.csv"
    write_batch(compiled, batch.score_rows(compiled, population_file), with_arrow)
    monkeypatch.setitem(sys.modules, "perfscore.population.columnar", None)
    monkeypatch.delattr(perfscore.population, "columnar", raising=False)
    records = list(batch.score_rows(compiled, population_file))
    assert not any(isinstance(r, batch.ScoredChunk) for r in records)
    assert any(isinstance(r, batch.ScoredRow) for r in records)
    without = tmp_path / "python.csv"
    write_batch(compiled, iter(records), without)
    assert with_arrow.read_bytes() == without.read_bytes()


# --------------------------------------------------------------------------- text


@given(
    st.lists(st.integers(-(10**15), 10**15), min_size=1, max_size=50)
    | st.lists(st.integers(-300, 300), min_size=1, max_size=50),
    st.integers(0, 6),
)
def test_decimal_text_is_format_of_the_decimal(units: list[int], places: int) -> None:
    written = columnar.decimal_text(np.array(units, dtype=np.int64), places).to_pylist()
    assert written == [format(Decimal(u).scaleb(-places), "f") for u in units]


@given(st.text())
def test_csv_cells_are_what_the_csv_module_writes(text: str) -> None:
    import csv
    import io

    from perfscore._escape import spreadsheet_cell

    for delimiter, dialect in ((",", "excel"), ("\t", "excel-tab")):
        buffer = io.StringIO()
        csv.writer(buffer, dialect=dialect).writerow(["a", spreadsheet_cell(text), "b"])
        assert (
            buffer.getvalue() == f"a{delimiter}{columnar.csv_cell(text, delimiter)}{delimiter}b\r\n"
        )


# --------------------------------------------------------------------------- reading ahead


def test_read_ahead_gives_every_item_and_raises_what_was_raised() -> None:
    assert list(columnar.read_ahead(iter(range(100)))) == list(range(100))

    def failing() -> Iterator[int]:
        yield 1
        raise ValueError("broken")

    ahead = columnar.read_ahead(failing())
    assert next(ahead) == 1
    with pytest.raises(ValueError, match="broken"):
        next(ahead)


def test_read_ahead_stops_its_thread_when_left_early() -> None:
    closed = threading.Event()

    def endless() -> Iterator[int]:
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            closed.set()

    ahead = columnar.read_ahead(endless())
    assert next(ahead) == 0
    ahead.close()
    assert closed.wait(5)
    assert not any(t.name == "perfscore-read-ahead" for t in threading.enumerate())


def test_the_command_writes_a_jsonl_population_as_before(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from perfscore.cli import main

    lines = [json.dumps(department(i), ensure_ascii=False) for i in range(300)]
    lines[10] = "{broken"
    population_file = tmp_path / "pop.jsonl"
    population_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "scores.csv"
    result = CliRunner().invoke(
        main, ["score", str(DEMO_RUBRIC), str(population_file), "--out", str(out)]
    )
    assert result.exit_code == 1, result.output
    expected = tmp_path / "expected.csv"
    compiled = perfscore.compile_rubric(perfscore.load_rubric(DEMO_RUBRIC))
    write_batch(compiled, score_many(compiled, population_file), expected)
    assert out.read_bytes() == expected.read_bytes()


def test_an_id_column_named_like_an_input_is_read_as_python_reads_it(tmp_path: Path) -> None:
    """An input whose id is also an id heading (``department``): its value is the
    department's id and name, as Python's reading has it, not the input's value."""
    text = DEMO_RUBRIC.read_text(encoding="utf-8").replace("disclosure:", "department:", 1)
    text = text.replace("value: disclosure", "value: department")
    rubric = tmp_path / "rubric.yaml"
    rubric.write_text(text, encoding="utf-8")
    compiled = perfscore.compile_rubric(perfscore.load_rubric(rubric))
    assert "department" in compiled.input_specs
    lines = []
    for i in range(20):
        inputs = department(i)
        inputs["department"] = inputs.pop("disclosure")
        lines.append(json.dumps(inputs, ensure_ascii=False))
    population = tmp_path / "pop.jsonl"
    population.write_text("\n".join(lines) + "\n", encoding="utf-8")
    records = assert_same_files(compiled, population, tmp_path, 8, TEXT_SUFFIXES)
    assert not any(isinstance(r, batch.ScoredChunk) for r in records)


# --------------------------------------------------------------------------- number texts

#: Number texts at the edges of what a float64 holds: underflow, overflow, zeros.
_ODD_NUMBER_TEXTS = (
    "1e-999",
    "-1E-400",
    "0.5e-330",
    ".1e-999",
    "0e-999",
    "-0.0e-999",
    "00.000",
    "1e-320",
    "4.9e-324",
    "1e999",
    "1e308",
    "1e15",
    "123456789012345",
    "1234567890123456",
    "0.1234567",
    "+.5",
    "5.",
    "1,000",
    "１２",
    "\u30001",
    "NaN",
    "inf",
)


def _number_texts() -> st.SearchStrategy[str | None]:
    digits = st.text("0123456789", max_size=5)
    plain = st.builds(
        lambda sign, whole, point, frac, exp, pad: pad + sign + whole + point + frac + exp + pad,
        st.sampled_from(["", "+", "-"]),
        digits,
        st.sampled_from(["", "."]),
        digits,
        st.sampled_from(["", "e", "E"]).flatmap(
            lambda e: (
                st.just("")
                if not e
                else st.builds(
                    lambda s, n: e + s + str(n),
                    st.sampled_from(["", "+", "-"]),
                    st.integers(0, 1200),
                )
            )
        ),
        st.sampled_from(["", " ", "\t"]),
    )
    return st.none() | st.sampled_from(_ODD_NUMBER_TEXTS) | plain


@given(st.lists(_number_texts(), min_size=1, max_size=30))
def test_arrow_reads_number_texts_as_the_python_reader_does(texts: list[str | None]) -> None:
    """The vectorised path's Arrow text reader and its Python-list reader (and the
    block path's text-to-float column) agree on every text: the same gaps, the same
    rows left to the row engine (a text that underflows to zero among them), the same
    values elsewhere. A text with other than ASCII blanks around it may be left to the
    row engine by Arrow alone."""
    import pyarrow as pa

    from perfscore.population.vectorised import _arrow_text_units, _plain_text_units

    got = _arrow_text_units(pa.array(texts, type=pa.string()))
    want = _plain_text_units(list(texts))
    assert got is not None
    (units, gap, places, unread), (units2, gap2, places2, unread2) = got, want
    other_blanks = np.array(
        [t is not None and t.strip() != t.strip(" \t\n\r\x0b\x0c") for t in texts], dtype=bool
    )
    assert (unread[other_blanks] & ~gap[other_blanks]).all()
    assert gap[~other_blanks].tolist() == gap2[~other_blanks].tolist()
    assert unread[~other_blanks].tolist() == unread2[~other_blanks].tolist()
    read = ~gap & ~unread
    assert not (read & ~(~gap2 & ~unread2)).any()
    assert [Decimal(int(u)).scaleb(-places) for u in units[read]] == [
        Decimal(int(u)).scaleb(-places2) for u in units2[read]
    ]
    for k, text in enumerate(texts):
        if read[k]:
            assert text is not None
            assert Decimal(int(units[k])).scaleb(-places) == Decimal(text.strip())
    # the block path's own reading: a value where the reader reads one, else not finite
    floats = columnar._text_as_floats(pa.array(texts, type=pa.string())).to_pylist()
    for k, value in enumerate(floats):
        if gap[k]:
            assert value is None
        elif unread[k]:
            assert value is None or not np.isfinite(value) or not _on_any_grid(value)
        else:
            assert value == float(texts[k] or "")


def _on_any_grid(value: float) -> bool:
    from perfscore.population.vectorised import _float_units

    return not bool(_float_units(np.array([value]))[3][0])


def test_a_number_text_that_underflows_is_read_by_the_row_engine_in_a_block(
    compiled: perfscore.CompiledRubric, tmp_path: Path
) -> None:
    """``"1e-999"`` as text: the block is still read by Arrow, and that department is
    the row engine's (which reads it as the tiny number it is, not as zero)."""
    texts = [department(i) for i in range(30)]
    for inputs in texts:
        inputs["satisfaction"] = str(inputs["satisfaction"])  # a text column
    texts[3]["satisfaction"] = "1e-999"
    lines = [json.dumps(inputs) for inputs in texts]
    path = tmp_path / "underflow.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    records = assert_same_files(compiled, path, tmp_path, 30, TEXT_SUFFIXES)
    (chunk,) = [r for r in records if isinstance(r, batch.ScoredChunk)]
    assert 3 in chunk.others


# --------------------------------------------------------------------------- CSV and TSV

#: Cells a CSV row may hold in place of an input's value.
ODD_CELLS = (
    *ODD_TEXTS,
    "\u3000",
    "\t",
    "12.345678901234567",
    "-0.0",
    "10000000000000000000000",
    "true",
    "是",
    'say "hi"',
    "line\nbreak",
    "\x1c",
    "\ufeff1",
)


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@st.composite
def csv_files(draw: st.DrawFn, delimiter: str) -> bytes:
    """A CSV (or TSV) population: a heading of ``id`` and inputs (sometimes one left
    out, an undeclared column or another id column added, the columns shuffled), and
    rows good and odd."""
    columns = [k for k in department(0) if k != "id"]
    columns = draw(st.permutations(columns))
    heading = ["id", *columns]
    change = draw(st.sampled_from(["none"] * 4 + ["drop", "extra", "department", "empty"]))
    if change == "drop":
        heading.remove(draw(st.sampled_from(columns)))
    elif change == "extra":
        heading.append("remarks")
    elif change == "department":
        heading[0] = "department"
    elif change == "empty":
        heading.append("")
    count = draw(st.integers(min_value=1, max_value=30))
    rows: list[list[str] | str] = []
    for _ in range(count):
        kind = draw(
            st.sampled_from(
                ["good"] * 8 + ["odd", "id", "blank", "blanks", "short", "long", "raw", "bytes"]
            )
        )
        inputs = {k: _cell(v) for k, v in department(draw(st.integers(0, 500))).items()}
        inputs.setdefault("remarks", "")
        inputs.setdefault("department", inputs["id"])
        inputs.setdefault("", "")
        if kind == "odd":
            inputs[draw(st.sampled_from(columns))] = draw(st.sampled_from(ODD_CELLS))
        if kind == "id":
            inputs[heading[0]] = draw(
                st.sampled_from(ODD_IDS) | st.text(st.characters(blacklist_categories=("Cs",)))
            )
        cells = [inputs[h] for h in heading]
        if kind == "blank":
            rows.append(draw(st.sampled_from(["", "  ", "\u3000"])))
            continue
        if kind == "blanks":
            cells = [draw(st.sampled_from(["", " ", "\u3000"])) for _ in heading]
        if kind == "short":
            cells = cells[: draw(st.integers(1, len(cells) - 1))]
        if kind == "long":
            cells.append("more")
        if kind == "raw":
            rows.append(draw(st.sampled_from(['a"b,"c', '"open', 'x,"y"z', "\r", "a\rb"])))
            continue
        if kind == "bytes":
            rows.append("\udcff")  # a byte that is not UTF-8, written below
            continue
        rows.append(cells)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(heading)
    text = buffer.getvalue()
    for row in rows:
        if isinstance(row, str):
            text += row + "\n"
        else:
            buffer = io.StringIO(newline="")
            csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerow(row)
            text += buffer.getvalue()
    return text.encode("utf-8", "surrogateescape")


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.sampled_from([".csv", ".tsv"]).flatmap(
        lambda suffix: st.tuples(st.just(suffix), csv_files("\t" if suffix == ".tsv" else ","))
    ),
    st.sampled_from([1, 3, 8, 64]),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
def test_csv_blocks_write_the_files_scoring_one_by_one_writes(
    compiled: perfscore.CompiledRubric,
    tmp_path_factory: pytest.TempPathFactory,
    population_text: tuple[str, bytes],
    chunk: int,
    bom: bool,
    crlf: bool,
    no_last_end: bool,
) -> None:
    """invariant: whatever a CSV or TSV population holds (gaps, blank or odd cells, odd
    ids, blank rows, short and long rows, quoted cells with delimiters, quotes or
    newlines, broken quotes, bytes that are not UTF-8; a heading with a column left out,
    undeclared or another id column; a byte-order mark, CRLF line ends, no end to the
    last line), score_rows writes CSV, TSV and JSONL files byte for byte as scoring
    department by department does."""
    suffix, body = population_text
    tmp = tmp_path_factory.mktemp("csvblocks")
    if crlf:
        body = body.replace(b"\n", b"\r\n")
    if no_last_end:
        body = body.rstrip(b"\r\n")
    population_file = tmp / f"pop{suffix}"
    population_file.write_bytes((b"\xef\xbb\xbf" if bom else b"") + body)
    assert_same_files(compiled, population_file, tmp, chunk, TEXT_SUFFIXES)


@pytest.mark.parametrize("suffix", [".csv", ".tsv"])
@pytest.mark.parametrize("out", [".csv", ".tsv", ".jsonl", ".xlsx", ".parquet"])
def test_a_csv_population_is_read_in_blocks_and_written_as_one_by_one(
    compiled: perfscore.CompiledRubric, tmp_path: Path, suffix: str, out: str
) -> None:
    """A plain CSV or TSV population is read by Arrow in blocks; a block holding a quoted
    cell, a blank row or an odd value is read by Python, line by line, or by the row
    engine, row by row; every format is written as department by department."""
    delimiter = "\t" if suffix == ".tsv" else ","
    heading = list(department(0))
    lines = [delimiter.join(heading)]
    for i in range(400):
        lines.append(delimiter.join(_cell(v) for v in department(i).values()))
    lines[50] = lines[50].replace("dept-", '"dept\n-', 1).replace(delimiter, '"' + delimiter, 1)
    lines[130] = ""
    lines[200] = lines[200].replace("dept-000199", 'q"uote')
    lines[300] = delimiter.join(["x", "1e-999", *lines[300].split(delimiter)[2:]])
    population_file = tmp_path / f"pop{suffix}"
    population_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    records = assert_same_files(compiled, population_file, tmp_path, 64, [out])
    chunks = [r for r in records if isinstance(r, batch.ScoredChunk)]
    assert len(chunks) == 4  # of 7 blocks of lines: the 1st, 3rd and 4th are Python's
    assert sum(len(c) for c in chunks) + len(records) - len(chunks) == 399
    assert any(c.others for c in chunks)  # 1e-999: the row engine's, in its block


def test_a_csv_heading_arrow_may_not_read_is_read_by_python(
    compiled: perfscore.CompiledRubric, tmp_path: Path
) -> None:
    """A heading with an undeclared column, another id column, a label, a quote, or
    nothing at all: the whole file is read by Python (which warns of what it must)."""
    rows = [department(i) for i in range(20)]
    for heading in (
        [*rows[0], "remarks"],
        ["department", *list(rows[0])[1:]],
        ['"id"', *list(rows[0])[1:]],
    ):
        lines = [",".join(heading)]
        lines += [",".join([*(_cell(v) for v in r.values()), "x"][: len(heading)]) for r in rows]
        population_file = tmp_path / "pop.csv"
        population_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        records = assert_same_files(compiled, population_file, tmp_path, 8, [".csv"])
        assert not any(isinstance(r, batch.ScoredChunk) for r in records), heading
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert assert_same_files(compiled, empty, tmp_path, 8, [".csv"]) == []
