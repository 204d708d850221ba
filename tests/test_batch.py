"""Batch scoring: every department scored or reported, outputs exact and written atomically.

The population is the demo rubric's, generated: varied figures that reach the grade cap,
not-applicable values and every grade band, with a few broken departments among them.
"""

from __future__ import annotations

import csv
import functools
import gc
import itertools
import json
import os
import random
import shutil
import stat
import sys
import threading
import tracemalloc
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st
from openpyxl.worksheet import _writer as openpyxl_writer

import perfscore
from perfscore._numbers import to_str
from perfscore.cli import main
from perfscore.loading import load_document
from perfscore.population import Department, UnsafeWorkbook, batch, check_workbook, read_population
from perfscore.population import readers as population
from perfscore.population.batch import (
    BatchRecord,
    FailedDepartment,
    ScoredDepartment,
    columns,
    score_many,
    write_batch,
)

#: The messages these tests assert are the English ones.
pytestmark = pytest.mark.lang("en")

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_RUBRIC = REPO_ROOT / "examples" / "demo" / "rubric.yaml"
FORMATS = ("csv", "tsv", "xlsx", "jsonl", "parquet")
DEMO_COLUMNS = (
    "id",
    "row",
    "status",
    "total",
    "grade",
    "input",
    "budget_allocation",
    "staff_control",
    "sangong_change",
    "key_spend",
    "process",
    "budget_execution",
    "budget_adjust",
    "budget_management",
    "rules_sound",
    "funds_compliance",
    "disclosure",
    "output",
    "duty_performance",
    "key_task_completion",
    "outcome",
    "duty_benefit",
    "public_satisfaction",
    "errors",
)
UNKNOWN_INPUT_ERRORS = (
    "staf_actual: unknown input 'staf_actual' [input.unknown] "
    "(hint: did you mean 'staff_actual'?); "
    "staff_actual: missing required input 'staff_actual' (实际在职人数) [input.missing] "
    "(hint: give a value, or declare a default or 'required: false' in the rubric)"
)
BAD_NUMBER_ERRORS = (
    "satisfaction: input 'satisfaction' (社会公众满意度): 'lots' is not a number "
    "[input.type] (hint: write a number in %)"
)
BROKEN_LINE_ERRORS = (
    "line 5 is not a JSON object: Expecting property name enclosed in double quotes: "
    "line 1 column 2 (char 1) [input.syntax]"
)


@pytest.fixture
def compiled(demo_compiled: perfscore.CompiledRubric) -> perfscore.CompiledRubric:
    return demo_compiled


def department(i: int) -> dict[str, Any]:
    """Department ``i`` of the generated population: figures as JSON would carry them.

    About a third are run well (most of them 优秀); the rest are anything."""
    r = random.Random(i)
    good = r.random() < 0.35
    planned = r.randint(1, 20)
    authorized = r.randint(10, 30)
    last_year = r.choice([0, round(r.uniform(1, 20), 2)])
    return {
        "id": f"dept-{i:06d}",
        "staff_authorized": authorized,
        "staff_actual": r.randint(8, authorized) if good else r.randint(8, 34),
        "sangong_last_year": last_year,
        "sangong_this_year": round(r.uniform(0, last_year if good else 22), 2),
        "key_project_spend": round(r.uniform(360 if good else 0, 400), 2),
        "project_spend_total": round(r.uniform(400, 500), 2),
        "budget_initial": round(r.uniform(100, 500), 2),
        "budget_adjustment": 0 if good else r.choice([0, round(r.uniform(-150, 150), 2)]),
        "rules_exist": good or r.random() < 0.9,
        "rules_lawful": good or r.random() < 0.9,
        "rules_executed": good or r.random() < 0.8,
        "noncompliant_cases": r.choice([0, 0, 1] if good else [0, 1, 2, 5, 7]),
        "disclosure": "及时完整"
        if good
        else r.choice(["及时完整", "基本及时完整", "不及时或不完整"]),
        "key_tasks_planned": planned,
        "key_tasks_done": planned if good else r.randint(0, planned),
        "satisfaction": round(r.uniform(85 if good else 50, 100), 1),
    }


@functools.cache
def demo() -> perfscore.CompiledRubric:
    return perfscore.compile_rubric(perfscore.load_rubric(DEMO_RUBRIC))


def write_jsonl(path: Path, lines: Iterable[str]) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for line in lines:
            handle.write(line + "\n")
    return path


def jsonl_population(path: Path, count: int) -> Path:
    return write_jsonl(path, (json.dumps(department(i), ensure_ascii=False) for i in range(count)))


def mixed_population(path: Path) -> Path:
    """Six lines: good, good, an unknown input, a bad number, a broken line, good."""
    unknown = department(2)
    unknown["staf_actual"] = unknown.pop("staff_actual")
    bad_number = department(3) | {"satisfaction": "lots"}
    return write_jsonl(
        path,
        [
            json.dumps(department(0), ensure_ascii=False),
            json.dumps(department(1), ensure_ascii=False),
            json.dumps(unknown, ensure_ascii=False),
            json.dumps(bad_number, ensure_ascii=False),
            "{broken",
            json.dumps(department(5), ensure_ascii=False),
        ],
    )


# --------------------------------------------------------------------------- reading back


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value))


def read_back(path: Path, kind: str) -> list[dict[str, Any]]:
    """The rows of an output file as dicts of the written values, in file order."""
    if kind in ("csv", "tsv"):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, dialect="excel-tab" if kind == "tsv" else "excel")
            header = next(reader)
            return [dict(zip(header, cells, strict=True)) for cells in reader]
    if kind == "jsonl":
        with path.open(encoding="utf-8") as handle:
            return [json.loads(line) for line in handle]
    if kind == "xlsx":
        book = openpyxl.load_workbook(path, read_only=True)
        try:
            rows = list(book.worksheets[0].iter_rows(values_only=True))
        finally:
            book.close()
        header = [str(h) for h in rows[0]]
        return [
            dict(itertools.zip_longest(header, cells)) for cells in rows[1:]
        ]  # read-only mode trims trailing empty cells
    assert kind == "parquet"
    return pq.read_table(path).to_pylist()  # type: ignore[no-any-return]


def expected_row(compiled: perfscore.CompiledRubric, row: int, inputs: dict[str, Any]) -> dict:
    """What one department's row must hold: scored on its own, with ``CompiledRubric.score``."""
    data = dict(inputs)
    dept_id = data.pop("id")
    result = compiled.score(data)
    scores = {node.id: node.score for node in result.indicators}
    return {
        "id": dept_id,
        "row": row,
        "status": "ok",
        "total": result.total,
        "grade": result.grade,
        **{c: scores[c] for c in DEMO_COLUMNS[5:-1]},
        "errors": None,
    }


def normalised(row: Mapping[str, Any]) -> dict[str, Any]:
    """A read-back row with decimals as Decimal and empty cells as None."""
    out: dict[str, Any] = {}
    for column in DEMO_COLUMNS:
        value = row[column]
        if column == "row":
            out[column] = int(value)
        elif column in ("id", "status", "grade", "errors"):
            out[column] = value if value not in ("", None) else None
        else:
            out[column] = _decimal(value)
    return out


# --------------------------------------------------------------------------- score_many


def test_records_come_in_input_order_and_bad_rows_cost_nothing(
    compiled: perfscore.CompiledRubric, tmp_path: Path
) -> None:
    path = mixed_population(tmp_path / "pop.jsonl")
    records = list(score_many(compiled, path))
    assert [(r.row, r.ok, type(r).__name__) for r in records] == [
        (1, True, "ScoredDepartment"),
        (2, True, "ScoredDepartment"),
        (3, False, "FailedDepartment"),
        (4, False, "FailedDepartment"),
        (5, False, "FailedDepartment"),
        (6, True, "ScoredDepartment"),
    ]
    failed = [r for r in records if isinstance(r, FailedDepartment)]
    assert [[i.code for i in r.issues] for r in failed] == [
        ["input.unknown", "input.missing"],
        ["input.type"],
        ["input.syntax"],
    ]
    assert [(r.id, r.source) for r in failed] == [
        ("dept-000002", f"{path}:3"),
        ("dept-000003", f"{path}:4"),
        ("5", f"{path}:5"),
    ]
    for record in records:
        if isinstance(record, ScoredDepartment):
            inputs = department(record.row - 1)
            assert record.id == inputs.pop("id")
            alone = compiled.score(inputs)
            assert record.result.scores == alone.scores
            assert (record.result.total, record.result.grade) == (alone.total, alone.grade)
            assert record.result.indicators[0].explanation is None  # explain=False


def test_departments_may_be_any_iterable_and_explanations_are_on_request(
    compiled: perfscore.CompiledRubric,
) -> None:
    inputs = department(7)
    inputs.pop("id")
    departments = [
        Department("a", 1, "<memory>", inputs),
        Department("b", 2, "<memory>", None),
        Department("c", 3, "<memory>", {"staff_actual": "many"}),
    ]
    records = list(score_many(compiled, departments, explain=True))
    assert [r.ok for r in records] == [True, False, False]
    first = records[0]
    assert isinstance(first, ScoredDepartment)
    assert first.result["staff_control"].explanation is not None
    unreadable = records[1]
    assert isinstance(unreadable, FailedDepartment)
    assert [i.code for i in unreadable.issues] == ["input.unreadable"]


def test_table_headings_may_be_input_labels(
    compiled: perfscore.CompiledRubric, tmp_path: Path
) -> None:
    inputs = department(11)
    labels = {name: spec.label for name, spec in compiled.input_specs.items()}
    path = tmp_path / "pop.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["部门", *(labels[k] for k in inputs if k != "id")])
        writer.writerow(["应急管理局", *(str(v).lower() for k, v in inputs.items() if k != "id")])
    (record,) = score_many(compiled, path)
    assert isinstance(record, ScoredDepartment), record
    assert record.id == "应急管理局"
    inputs.pop("id")
    assert record.result.total == compiled.score(inputs).total


def test_an_input_id_wins_over_a_label_that_reads_the_same(
    make_rubric: Callable[..., perfscore.Rubric], tmp_path: Path
) -> None:
    rubric = make_rubric(
        """
        id: t
        title: T
        total: 10
        inputs:
          x: {label: y, kind: number}
          y: {label: 乙, kind: number}
        indicators:
          - id: a
            name: A
            weight: 10
            scoring: {method: formula, expression: "min(x, 10)"}
        grades:
          - {name: ok, range: "[0, 10]"}
        """
    )
    compiled = perfscore.compile_rubric(rubric)
    path = tmp_path / "pop.csv"
    path.write_text("x,y\n3,7\n", encoding="utf-8")  # y is the id y, not x's label
    (record,) = score_many(compiled, path)
    assert isinstance(record, ScoredDepartment), record
    assert record.result.values == {"x": Decimal(3), "y": Decimal(7)}


def test_a_path_that_is_no_population_is_refused(
    compiled: perfscore.CompiledRubric, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="a population is a folder"):
        next(score_many(compiled, tmp_path / "inputs.txt"))


def test_row_groups_are_scored_and_their_rows_get_no_columns(tmp_path: Path) -> None:
    rubric = perfscore.load_rubric(REPO_ROOT / "rubrics" / "mof" / "project-self-eval-2020.yaml")
    compiled = perfscore.compile_rubric(rubric)
    folder = tmp_path / "projects"
    folder.mkdir()
    shutil.copy(REPO_ROOT / "examples" / "project-self-eval-2020" / "inputs.yaml", folder)
    summary = write_batch(compiled, score_many(compiled, folder), tmp_path / "out.jsonl")
    assert (summary.scored, summary.failed) == (1, 0)
    (row,) = read_back(tmp_path / "out.jsonl", "jsonl")
    ids = [node.id for node in rubric.walk()]
    assert list(row) == ["id", "row", "status", "total", "grade", *ids, "errors"]
    alone = compiled.score(load_document(folder / "inputs.yaml")[0])
    assert row["total"] == to_str(alone.total)
    assert {i: row[i] for i in ids} == {i: to_str(alone[i].score) for i in ids}


_VALUES = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
_VALUES = _VALUES | st.decimals(allow_nan=True) | st.lists(_VALUES, max_size=2)
_VALUES = _VALUES | st.dictionaries(st.text(max_size=3), _VALUES, max_size=2)


@given(
    changes=st.dictionaries(
        st.sampled_from(sorted(department(0))) | st.text(max_size=6), _VALUES, max_size=4
    ),
    dept_id=st.text(max_size=6),
)
def test_no_department_can_stop_a_batch(changes: dict[str, Any], dept_id: str) -> None:
    # invariant: whatever a department holds, it comes out as exactly one record
    compiled = demo()
    inputs = department(0) | changes
    inputs.pop("id", None)
    good = department(1)
    good.pop("id")
    departments = [Department(dept_id, 1, "<memory>", inputs), Department("g", 2, "<m>", good)]
    records = list(score_many(compiled, departments))
    assert [r.row for r in records] == [1, 2]
    assert records[1].ok


# --------------------------------------------------------------------------- outputs


def test_columns_follow_the_indicator_tree(compiled: perfscore.CompiledRubric) -> None:
    assert columns(compiled) == DEMO_COLUMNS


def test_an_indicator_named_like_a_fixed_column_gets_a_suffix(
    make_rubric: Callable[..., perfscore.Rubric],
) -> None:
    rubric = make_rubric(
        """
        id: t
        title: T
        total: 10
        inputs:
          x: {label: X, kind: number}
        indicators:
          - id: total
            name: 合计
            weight: 10
            scoring: {method: formula, expression: x}
        grades:
          - {name: ok, range: "[0, 10]"}
        """
    )
    assert columns(perfscore.compile_rubric(rubric))[5:] == ("total_score", "errors")


@pytest.mark.parametrize("kind", FORMATS)
def test_each_format_round_trips(
    compiled: perfscore.CompiledRubric, tmp_path: Path, kind: str
) -> None:
    population = jsonl_population(tmp_path / "pop.jsonl", 60)
    out = tmp_path / f"scores.{kind}"
    summary = write_batch(compiled, score_many(compiled, population), out)
    assert (summary.format, summary.scored, summary.failed, summary.ok) == (kind, 60, 0, True)
    rows = read_back(out, kind)
    assert [list(row)[: len(DEMO_COLUMNS)] for row in rows[:1]] == [list(DEMO_COLUMNS)]
    expected = [expected_row(compiled, i + 1, department(i)) for i in range(60)]
    assert [normalised(row) for row in rows] == expected
    grades = {row["grade"] for row in expected}
    assert grades == {"优秀", "良好", "合格", "不合格"}  # the population reaches every band


@pytest.mark.parametrize("kind", FORMATS)
def test_failed_rows_are_written_with_their_reasons(
    compiled: perfscore.CompiledRubric, tmp_path: Path, kind: str
) -> None:
    population = mixed_population(tmp_path / "pop.jsonl")
    out = tmp_path / f"scores.{kind}"
    summary = write_batch(compiled, score_many(compiled, population), out)
    assert (summary.scored, summary.failed, summary.ok) == (3, 3, False)
    assert [(f.row, f.id) for f in summary.failures] == [
        (3, "dept-000002"),
        (4, "dept-000003"),
        (5, "5"),
    ]
    rows = [normalised(row) for row in read_back(out, kind)]
    assert [(r["row"], r["status"], r["errors"]) for r in rows] == [
        (1, "ok", None),
        (2, "ok", None),
        (3, "failed", UNKNOWN_INPUT_ERRORS),
        (4, "failed", BAD_NUMBER_ERRORS),
        (5, "failed", BROKEN_LINE_ERRORS),
        (6, "ok", None),
    ]
    for row in rows:
        if row["status"] == "failed":
            assert {row[c] for c in DEMO_COLUMNS[3:-1]} == {None}
        else:
            assert row == expected_row(compiled, row["row"], department(row["row"] - 1))


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_text_formats_keep_each_decimal_as_written(
    compiled: perfscore.CompiledRubric, tmp_path: Path, kind: str
) -> None:
    population = jsonl_population(tmp_path / "pop.jsonl", 5)
    out = tmp_path / f"scores.{kind}"
    write_batch(compiled, score_many(compiled, population), out)
    for i, row in enumerate(read_back(out, kind)):
        inputs = department(i)
        inputs.pop("id")
        result = compiled.score(inputs)
        assert row["total"] == to_str(result.total)  # "89.90", scale kept
        assert row["staff_control"] == to_str(result["staff_control"].score)


def test_csv_starts_with_a_byte_order_mark_for_excel(
    compiled: perfscore.CompiledRubric, tmp_path: Path
) -> None:
    out = tmp_path / "scores.csv"
    write_batch(compiled, [], out)
    assert out.read_bytes() == ("\ufeff" + ",".join(DEMO_COLUMNS) + "\r\n").encode("utf-8")


def test_parquet_holds_decimals_with_the_rubric_scale_and_its_identity(
    compiled: perfscore.CompiledRubric, tmp_path: Path
) -> None:
    out = tmp_path / "scores.parquet"
    write_batch(compiled, score_many(compiled, jsonl_population(tmp_path / "p.jsonl", 3)), out)
    schema = pq.read_schema(out)
    assert schema.field("total").type == pa.decimal128(38, 2)
    assert schema.field("staff_control").type == pa.decimal128(38, 2)
    assert schema.field("row").type == pa.int64()
    assert schema.metadata[b"perfscore.rubric.id"] == b"demo-dept-overall"
    assert schema.metadata[b"perfscore.rubric.hash"] == compiled.hash.encode()


def test_parquet_writes_in_batches(
    compiled: perfscore.CompiledRubric, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch, "PARQUET_BATCH_ROWS", 4)
    out = tmp_path / "scores.parquet"
    write_batch(compiled, score_many(compiled, jsonl_population(tmp_path / "p.jsonl", 10)), out)
    meta = pq.ParquetFile(out).metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [4, 4, 2]


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (Decimal("89.92"), 89.92),
        (Decimal("14.00"), 14.0),
        (Decimal("0.1"), 0.1),
        (Decimal("123456789012.345"), 123456789012.345),
        (Decimal("1234567890123.456"), "1234567890123.456"),  # 16 digits: Excel keeps 15
        (Decimal("0.12345678901234567"), "0.12345678901234567"),
        # 15 digits, but the float's 16-digit text (what openpyxl writes) is 9.999999999999989
        (Decimal("9.99999999999999"), "9.99999999999999"),
    ],
)
def test_xlsx_cells_are_numbers_only_when_exact(value: Decimal, written: float | str) -> None:
    assert batch._xlsx_number(value) == written
    if isinstance(written, float):
        assert Decimal(f"{written:.16g}") == value


def test_xlsx_text_is_never_a_formula_nor_refused(
    compiled: perfscore.CompiledRubric, tmp_path: Path
) -> None:
    inputs = department(0)
    inputs.pop("id")
    departments = [
        Department("=HYPERLINK(1)", 1, "<m>", inputs),
        Department("bell\x07\ud800", 2, "<m>", inputs),
    ]
    out = tmp_path / "scores.xlsx"
    write_batch(compiled, score_many(compiled, departments), out)
    assert [row["id"] for row in read_back(out, "xlsx")] == ["=HYPERLINK(1)", "bell\\x07\\ud800"]


@pytest.mark.parametrize("kind", ["csv", "jsonl", "parquet"])
def test_lone_surrogates_in_ids_are_written_escaped(
    compiled: perfscore.CompiledRubric, tmp_path: Path, kind: str
) -> None:
    inputs = department(0)
    inputs.pop("id")
    out = tmp_path / f"scores.{kind}"
    write_batch(compiled, score_many(compiled, [Department("a\ud800", 1, "<m>", inputs)]), out)
    (row,) = read_back(out, kind)
    assert row["id"] == ("a\ud800" if kind == "jsonl" else "a\\ud800")


def test_xlsx_refuses_more_rows_than_a_sheet_holds(
    compiled: perfscore.CompiledRubric, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch, "XLSX_MAX_ROWS", 3)
    out = tmp_path / "scores.xlsx"
    with pytest.raises(ValueError, match="an XLSX sheet holds at most 2 departments"):
        write_batch(compiled, score_many(compiled, jsonl_population(tmp_path / "p.jsonl", 3)), out)
    assert not out.exists()


def test_unknown_output_suffix(compiled: perfscore.CompiledRubric, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"scores\.txt: the output file must end in one of"):
        write_batch(compiled, [], tmp_path / "scores.txt")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- atomic writes


def _failing(monkeypatch: pytest.MonkeyPatch, kind: str, method: str, after: int = 0) -> None:
    """Make the ``kind`` writer's ``method`` raise on its call number ``after``."""
    real = batch._WRITERS[kind]

    def factory(path: Path, layout: Any) -> Any:
        writer = real(path, layout)
        original = getattr(writer, method)
        calls = itertools.count()

        def broken(*args: Any) -> Any:
            if next(calls) == after:
                raise RuntimeError("disk on fire")
            return original(*args)

        setattr(writer, method, broken)
        return writer

    monkeypatch.setitem(batch._WRITERS, kind, factory)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", FORMATS)
@pytest.mark.parametrize(("method", "after"), [("write", 3), ("close", 0)])
def test_a_failure_midway_leaves_the_file_untouched(
    compiled: perfscore.CompiledRubric,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    method: str,
    after: int,
) -> None:
    population = jsonl_population(tmp_path / "pop.jsonl", 8)
    out = tmp_path / f"scores.{kind}"
    out.write_bytes(b"the previous run")
    openpyxl_temps = set(openpyxl_writer.ALL_TEMP_FILES)
    _failing(monkeypatch, kind, method, after)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_batch(compiled, score_many(compiled, population), out)
    assert out.read_bytes() == b"the previous run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pop.jsonl", f"scores.{kind}"]
    assert set(openpyxl_writer.ALL_TEMP_FILES) == openpyxl_temps


@pytest.mark.parametrize("kind", FORMATS)
def test_an_interrupted_population_leaves_no_file(
    compiled: perfscore.CompiledRubric, tmp_path: Path, kind: str
) -> None:
    def interrupted() -> Iterator[BatchRecord]:
        records = score_many(compiled, jsonl_population(tmp_path / "pop.jsonl", 8))
        yield from itertools.islice(records, 5)
        raise KeyboardInterrupt

    out = tmp_path / f"scores.{kind}"
    with pytest.raises(KeyboardInterrupt):
        write_batch(compiled, interrupted(), out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pop.jsonl"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_a_replaced_file_keeps_its_permissions_and_a_new_one_gets_the_umask(
    compiled: perfscore.CompiledRubric, tmp_path: Path
) -> None:
    old = tmp_path / "old.csv"
    old.write_text("x", encoding="utf-8")
    old.chmod(0o640)
    write_batch(compiled, [], old)
    assert stat.S_IMODE(old.stat().st_mode) == 0o640
    umask = os.umask(0o022)
    try:
        new = tmp_path / "new.csv"
        write_batch(compiled, [], new)
    finally:
        os.umask(umask)
    assert stat.S_IMODE(new.stat().st_mode) == 0o644


# --------------------------------------------------------------------------- memory


@pytest.mark.parametrize("kind", ["jsonl", "csv", "xlsx", "parquet"])
def test_memory_stays_flat_however_many_departments(
    compiled: perfscore.CompiledRubric,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    # invariant: what is alive after 2000 departments is what was alive after 400. Keeping
    # each result alive would cost about 70 blocks a department: 110 000 more blocks here.
    # The garbage collector runs before each count, so that results waiting in reference
    # cycles (freed at the next collection) are not mistaken for results kept.
    monkeypatch.setattr(batch, "PARQUET_BATCH_ROWS", 200)
    population = jsonl_population(tmp_path / "pop.jsonl", 2000)
    blocks: list[int] = []

    def watched() -> Iterator[BatchRecord]:
        for i, record in enumerate(score_many(compiled, population), start=1):
            yield record
            if i % 400 == 0:
                gc.collect()
                blocks.append(sys.getallocatedblocks())

    write_batch(compiled, watched(), tmp_path / f"scores.{kind}")
    growth = [b - blocks[0] for b in blocks]
    assert len(growth) == 5
    assert max(growth) < 5_000, growth


def varied_population(path: Path, count: int) -> Path:
    """``count`` generated departments, every tenth line broken and every tenth with a bad
    number: more failures than a summary keeps, from 200 departments on."""
    lines = []
    for i in range(count):
        inputs = department(i)
        if i % 10 == 3:
            inputs["satisfaction"] = "lots"
        lines.append("{broken" if i % 10 == 7 else json.dumps(inputs, ensure_ascii=False))
    return write_jsonl(path, lines)


def traced(work: Callable[[], object]) -> tuple[int, int]:
    """Bytes that ``work()`` leaves allocated (what it returns included) and the most it
    had allocated at once, both above what was allocated before, as tracemalloc counts."""
    gc.collect()
    gc.freeze()  # what was alive before is left out of collections: each one is cheap
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = work()
        gc.collect()
        retained, peak = tracemalloc.get_traced_memory()
        del kept
    finally:
        tracemalloc.stop()
        gc.unfreeze()
    return retained - before, peak - before


#: What scoring 750 more departments may add to what is retained, or to the peak. The
#: noise (free lists and the like) stayed within 7 kB in 40 runs, alone and in the whole
#: suite; keeping one int per department adds about 30 kB, its id about 50 kB.
GROWTH_BOUND = 16 * 1024


@pytest.mark.parametrize("way", ["write_batch", "progress", "command"])
def test_retained_and_peak_memory_do_not_grow_with_the_population(
    compiled: perfscore.CompiledRubric,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    way: str,
) -> None:
    # invariant: scoring 4N departments retains, and needs at its peak, no more memory
    # than scoring N does, on each way a population reaches a file: score_many into
    # write_batch; the same behind the command's progress bar; the command itself.
    # The garbage collector runs after each record: results caught in reference cycles
    # (the engine makes some, e.g. when a rubric allows a division by zero) would else
    # wait for a full collection, which CPython schedules by the size of the whole heap,
    # and the peak would measure that schedule rather than what perfscore keeps. The
    # peak is counted from the first record on: the command's peak would else be the
    # loading of the rubric. The progress bar is drawn on updates only: drawn ten times a
    # second, it would fill rich's caches the more the longer a run takes.
    from rich.progress import Progress

    from perfscore.cli import app as cli

    # The command scores chunks through the vectorised path (score_rows), which holds one
    # chunk: chunks of 50 here, so that both populations span many. Its first chunks fill
    # bounded caches below perfscore (pandas' and numpy's, and the free lists): measured
    # with 50-department chunks, what is retained rises by about 15 kB from 250 to 4,000
    # departments and by under 1 kB from 16,000 to 32,000. The warm-up therefore scores
    # as many departments as the large run.
    monkeypatch.setattr(batch, "CHUNK", 50)
    monkeypatch.setattr(batch, "BLOCK", 50)  # a JSONL population's blocks, read by Arrow
    monkeypatch.setattr(cli, "Progress", functools.partial(Progress, auto_refresh=False))
    real_score_many, real_score_rows = batch.score_many, batch.score_rows

    def collecting(*args: Any, **kwargs: Any) -> Iterator[BatchRecord]:
        tracemalloc.reset_peak()
        for record in real_score_many(*args, **kwargs):
            yield record
            gc.collect()

    def collecting_rows(*args: Any, **kwargs: Any) -> Iterator[BatchRecord | batch.ScoredRow]:
        tracemalloc.reset_peak()
        monkeypatch.setattr(batch, "score_many", real_score_many)  # its fallbacks, as they are
        try:
            for record in real_score_rows(*args, **kwargs):
                yield record
                gc.collect()
        finally:
            monkeypatch.setattr(batch, "score_many", collecting)

    monkeypatch.setattr(batch, "score_many", collecting)
    monkeypatch.setattr(batch, "score_rows", collecting_rows)
    out = tmp_path / "scores.csv"

    def work(population: Path, count: int) -> Callable[[], object]:
        if way == "write_batch":
            return lambda: write_batch(compiled, batch.score_many(compiled, population), out)
        if way == "progress":
            return lambda: cli._with_progress(
                batch.score_many(compiled, population),
                count,
                lambda records: write_batch(compiled, records, out),
            )
        return lambda: run("score", DEMO_RUBRIC, population, "--out", out)

    n = 250
    warm = 4 * n if way == "command" else 50
    traced(work(varied_population(tmp_path / "warm.jsonl", warm), warm))  # imports, caches
    small = traced(work(varied_population(tmp_path / "small.jsonl", n), n))
    large = traced(work(varied_population(tmp_path / "large.jsonl", 4 * n), 4 * n))
    assert len(read_back(out, "csv")) == 4 * n
    assert large[0] - small[0] < GROWTH_BOUND, f"retained: {small[0]} -> {large[0]} bytes"
    assert large[1] - small[1] < GROWTH_BOUND, f"peak: {small[1]} -> {large[1]} bytes"


def csv_copy(source: Path, path: Path, *, unknown: bool = False) -> Path:
    """The JSONL population ``source`` as a CSV table (its broken lines left out), with a
    column that names no input when ``unknown`` (left out of every row, with one warning
    for the file)."""
    rows = []
    for line in source.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    names = sorted({k for row in rows for k in row})
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*names, *(["remarks"] if unknown else [])])
        for row in rows:
            cells = ["" if row.get(k) is None else row[k] for k in names]
            writer.writerow([*cells, *(["x"] if unknown else [])])
    return path


@pytest.mark.parametrize("source", ["jsonl", "csv", "csv, a column that names no input"])
@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".xlsx", ".parquet"])
def test_a_population_file_scored_in_chunks_is_written_as_one_by_one(
    compiled: perfscore.CompiledRubric,
    tmp_path: Path,
    source: str,
    suffix: str,
) -> None:
    """A population file scored in chunks through the vectorised path (score_rows, read
    as score_many reads it) and written: the file scoring department by department
    writes, in every output format, for a population with broken lines, bad numbers,
    gaps, not-applicable values and (a CSV table) a column that names no input."""
    population = varied_population(tmp_path / "pop.jsonl", 120)
    if source != "jsonl":
        population = csv_copy(population, tmp_path / "pop.csv", unknown="names" in source)
    one, chunked = tmp_path / f"one{suffix}", tmp_path / f"chunks{suffix}"
    expected = write_batch(compiled, batch.score_many(compiled, population), one)
    records = list(batch.score_rows(compiled, population, chunk=16))
    # A column that names no input is left out (and said once): the rows still score
    # (in blocks read by Arrow where pyarrow is installed and the heading allows it).
    assert any(isinstance(r, batch.ScoredRow | batch.ScoredChunk) for r in records)
    written = write_batch(compiled, records, chunked)
    assert (written.scored, written.failed) == (expected.scored, expected.failed)
    if suffix == ".parquet":
        assert pq.read_table(one).equals(pq.read_table(chunked))
    elif suffix == ".xlsx":
        assert read_back(one, "xlsx") == read_back(chunked, "xlsx")
    else:
        assert one.read_bytes() == chunked.read_bytes()


def repacked_workbook(source: Path, path: Path, part: str, text: str) -> Path:
    """``source`` with its part ``part`` replaced by ``text``, packed as XLSX packs."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            new.writestr(info.filename, text if info.filename == part else old.read(info))
    return path


def sheet_bomb(tmp_path: Path) -> Path:
    """A well-formed population workbook whose sheet, 24 MB of XML, packs to about 25 kB."""
    source = tmp_path / "source.xlsx"
    write_batch(perfscore.compile_rubric(perfscore.load_rubric(DEMO_RUBRIC)), [], source)
    cell = '<c r="A1" t="inlineStr"><is><t>' + "a" * 24_000_000 + "</t></is></c>"
    sheet = (
        '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        f'spreadsheetml/2006/main"><sheetData><row r="1">{cell}</row></sheetData></worksheet>'
    )
    return repacked_workbook(source, tmp_path / "bomb.xlsx", "xl/worksheets/sheet1.xml", sheet)


def test_a_workbook_that_unpacks_like_a_zip_bomb_is_refused_unread(tmp_path: Path) -> None:
    bomb = sheet_bomb(tmp_path)
    assert bomb.stat().st_size < 100_000
    with pytest.raises(UnsafeWorkbook, match=r"sheet1\.xml unpacks to [0-9,]+ times") as info:
        next(read_population(bomb))
    assert info.value.path == bomb
    out = tmp_path / "scores.csv"
    result = run("score", DEMO_RUBRIC, bomb, "--out", out)
    assert result.exit_code == 3
    assert result.stderr.startswith(f"error: cannot read {bomb}: its part xl/worksheets/")
    assert "as a zip bomb does" in result.stderr
    assert not out.exists()


def test_a_part_read_whole_is_bounded_and_a_streamed_sheet_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "pop.xlsx"
    compiled = perfscore.compile_rubric(perfscore.load_rubric(DEMO_RUBRIC))
    write_batch(
        compiled, batch.score_many(compiled, jsonl_population(tmp_path / "p.jsonl", 50)), path
    )
    sizes = {i.filename: i.file_size for i in zipfile.ZipFile(path).infolist()}
    bound = max(v for k, v in sizes.items() if not k.startswith("xl/worksheets/")) + 1
    assert sizes["xl/worksheets/sheet1.xml"] > bound
    monkeypatch.setattr(population, "MAX_XLSX_PART", bound)  # the sheet is larger, no other
    check_workbook(path)  # the sheet is streamed: no bound on its size
    assert len(list(read_population(path))) == 50
    with pytest.raises(UnsafeWorkbook, match=r"xl/worksheets/sheet1.xml unpacks to [0-9,]+ bytes"):
        check_workbook(path, streamed=False)


# --------------------------------------------------------------------------- command line


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], prog_name="perfscore")


def test_cli_scores_a_population_and_exits_0(tmp_path: Path) -> None:
    population = jsonl_population(tmp_path / "pop.jsonl", 4)
    out = tmp_path / "scores.csv"
    result = run("score", DEMO_RUBRIC, population, "--out", out)
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == f"{out}: 4 scored, 0 failed\n"
    assert len(read_back(out, "csv")) == 4


def test_cli_reports_each_failed_row_and_exits_1(tmp_path: Path) -> None:
    population = mixed_population(tmp_path / "pop.jsonl")
    out = tmp_path / "scores.parquet"
    result = run("score", DEMO_RUBRIC, population, "-o", out)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "row 3 (dept-000002):\n"
        f"  {population}:3: staf_actual: unknown input 'staf_actual' [input.unknown]\n"
        "      hint: did you mean 'staff_actual'?\n"
        f"  {population}:3: staff_actual: missing required input 'staff_actual' (实际在职人数) "
        "[input.missing]\n"
        "      hint: give a value, or declare a default or 'required: false' in the rubric\n"
        "row 4 (dept-000003):\n"
        f"  {population}:4: satisfaction: input 'satisfaction' (社会公众满意度): "
        "'lots' is not a number [input.type]\n"
        "      hint: write a number in %\n"
        "row 5:\n"
        f"  {population}:5: line 5 is not a JSON object: Expecting property name enclosed "
        "in double quotes: line 1 column 2 (char 1) [input.syntax]\n"
        f"{out}: 3 scored, 3 failed\n"
    )
    assert [row["status"] for row in read_back(out, "parquet")] == ["ok"] * 2 + ["failed"] * 3 + [
        "ok"
    ]


def test_cli_lists_20_failures_and_counts_the_rest(tmp_path: Path) -> None:
    population = write_jsonl(tmp_path / "pop.jsonl", ["[]"] * 23 + ['{"id": "x"}'])
    out = tmp_path / "scores.jsonl"
    result = run("score", DEMO_RUBRIC, population, "--out", out)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[:2] == [
        "row 1:",
        f"  {population}:1: line 1 is not a JSON object [input.not_mapping]",
    ]
    assert lines[38:40] == [
        "row 20:",
        f"  {population}:20: line 20 is not a JSON object [input.not_mapping]",
    ]
    assert lines[40:] == [
        f"4 more failed rows not listed: the errors column of {out} gives every failed "
        "row's reasons",
        f"{out}: 0 scored, 24 failed",
    ]
    assert len(read_back(out, "jsonl")) == 24


def test_cli_scores_a_folder_and_an_xlsx_sheet(
    compiled: perfscore.CompiledRubric, tmp_path: Path
) -> None:
    folder = tmp_path / "departments"
    folder.mkdir()
    sheet = openpyxl.Workbook()
    ws = sheet.active
    assert ws is not None
    for i in range(3):
        inputs = department(i)
        dept_id = inputs.pop("id")
        (folder / f"{dept_id}.json").write_text(json.dumps(inputs), encoding="utf-8")
        if i == 0:
            ws.append(["id", *inputs])
        ws.append([dept_id, *inputs.values()])
    sheet.save(tmp_path / "departments.xlsx")
    for source in (folder, tmp_path / "departments.xlsx"):
        out = tmp_path / f"{source.stem}.scores.jsonl"
        result = run("score", DEMO_RUBRIC, source, "--out", out)
        assert (result.exit_code, result.stderr) == (0, f"{out}: 3 scored, 0 failed\n")
        rows = [normalised(r) for r in read_back(out, "jsonl")]
        first = 2 if source.suffix == ".xlsx" else 1  # a sheet's first row is its heading
        assert rows == [expected_row(compiled, first + i, department(i)) for i in range(3)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["pop.jsonl"],
            "Error: pop.jsonl holds a population: give --out FILE (.csv, .tsv, .xlsx, .jsonl "
            "or .parquet) to write its scores\n",
        ),
        (
            ["pop.jsonl", "--out", "s.csv", "--format", "json"],
            "Error: --format shows one department; with --out FILE, the suffix of FILE "
            "decides the format\n",
        ),
        (
            ["one.yaml", "--out", "s.csv"],
            "Error: --out writes the scores of a population: INPUTS must be a folder, "
            "or a .csv, .tsv, .xlsx or .jsonl file\n",
        ),
        (
            ["pop.jsonl", "--out", "s.txt"],
            "Error: Invalid value for '--out': s.txt: the output file must end in one of "
            ".csv, .tsv, .xlsx, .jsonl, .ndjson, .parquet, .pq\n",
        ),
        (
            ["pop.jsonl", "--out", "pop.jsonl"],
            "Error: --out FILE would overwrite INPUTS; write somewhere else\n",
        ),
    ],
)
def test_cli_usage_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    jsonl_population(tmp_path / "pop.jsonl", 1)
    (tmp_path / "one.yaml").write_text("staff_actual: 1\n", encoding="utf-8")
    result = run("score", DEMO_RUBRIC, *args)
    assert result.exit_code == 2
    assert result.stderr.endswith("\n\n" + message)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.yaml", "pop.jsonl"]


def test_cli_broken_rubric_exits_3(tmp_path: Path) -> None:
    rubric = tmp_path / "rubric.yaml"
    rubric.write_text("id: [\n", encoding="utf-8")
    population = jsonl_population(tmp_path / "pop.jsonl", 1)
    result = run("score", rubric, population, "--out", tmp_path / "s.csv")
    assert result.exit_code == 3
    assert result.stderr.endswith("1 problem found\n")
    assert not (tmp_path / "s.csv").exists()


def test_cli_cannot_write(tmp_path: Path) -> None:
    population = jsonl_population(tmp_path / "pop.jsonl", 1)
    out = tmp_path / "missing" / "s.csv"
    result = run("score", DEMO_RUBRIC, population, "--out", out)
    assert result.exit_code == 2
    assert result.stderr == f"error: cannot write {out}: No such file or directory\n"


def test_cli_population_not_utf8(tmp_path: Path) -> None:
    """A heading that is not UTF-8 fails once, as row 1, with the fix."""
    population = tmp_path / "pop.csv"
    population.write_bytes("部门,staff_actual\n应急管理局,17\n".encode("gbk"))
    out = tmp_path / "s.csv"
    with perfscore.i18n.use_lang("en"):
        result = run("score", DEMO_RUBRIC, population, "--out", out)
    assert result.exit_code == 1
    assert result.stderr == (
        "row 1:\n"
        f"  {population}:1: the row is not UTF-8 text (its byte 1) [input.encoding]\n"
        "      hint: save the file as UTF-8 (in Excel: Save As, CSV UTF-8)\n"
        f"{out}: 0 scored, 1 failed\n"
    )


def test_cli_output_format_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch, "XLSX_MAX_ROWS", 2)
    population = jsonl_population(tmp_path / "pop.jsonl", 2)
    out = tmp_path / "s.xlsx"
    result = run("score", DEMO_RUBRIC, population, "--out", out)
    assert result.exit_code == 2
    assert result.stderr == (
        "error: an XLSX sheet holds at most 1 departments; write CSV, JSONL or Parquet "
        f"instead; {out} was not written\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pop.jsonl"]


def test_cli_parquet_without_pyarrow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    population = jsonl_population(tmp_path / "pop.jsonl", 1)
    result = run("score", DEMO_RUBRIC, population, "--out", tmp_path / "s.parquet")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: Parquet output needs pyarrow: pip install 'perfscore[parquet]'\n"
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_the_progress_bar_does_not_read_a_pipe_ahead(tmp_path: Path) -> None:
    # A population streamed through a named pipe can be read once: counting its lines
    # for the progress bar drained it, and the command then waited for another writer.
    from perfscore.cli.app import _count_hint

    fifo = tmp_path / "pop.jsonl"
    os.mkfifo(fifo)

    def feed() -> None:
        with fifo.open("w", encoding="utf-8") as handle:
            handle.write('{"id": "a"}\n')

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        assert _count_hint(fifo) is None
    finally:
        reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # lets a waiting writer finish
        writer.join(timeout=10)
        os.close(reader)
    assert _count_hint(jsonl_population(tmp_path / "pop.ndjson", 3)) == 3


def test_progress_passes_every_record_through(compiled: perfscore.CompiledRubric) -> None:
    from perfscore.cli.app import _with_progress

    inputs = department(0)
    inputs.pop("id")
    departments = [Department(str(i), i, "<m>", inputs) for i in range(1, 600)]
    seen: list[int] = []

    def run_(records: Iterable[BatchRecord]) -> batch.BatchSummary:
        seen.extend(r.row for r in records)
        return batch.BatchSummary(Path("x"), "csv", len(seen), 0, ())

    summary = _with_progress(score_many(compiled, departments), 1000, run_)
    assert seen == list(range(1, 600))
    assert summary.count == 599


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
@pytest.mark.parametrize("chunk", [1, 7, 4096])
def test_scoring_in_chunks_writes_the_same_bytes(
    compiled: perfscore.CompiledRubric, tmp_path: Path, suffix: str, chunk: int
) -> None:
    """The command scores chunks through the vectorised path: the file it writes is the
    one scoring department by department writes, byte for byte, for a population with
    broken lines, bad numbers, gaps and not-applicable values."""
    population = varied_population(tmp_path / "pop.jsonl", 120)
    one, many = tmp_path / f"one{suffix}", tmp_path / f"many{suffix}"
    first = write_batch(compiled, batch.score_many(compiled, population), one)
    second = write_batch(compiled, batch.score_rows(compiled, population, chunk=chunk), many)
    assert (first.scored, first.failed) == (second.scored, second.failed)
    assert [f.row for f in first.failures] == [f.row for f in second.failures]
    if suffix == ".parquet":
        pq = pytest.importorskip("pyarrow.parquet")
        assert pq.read_table(one).equals(pq.read_table(many))
    else:
        assert one.read_bytes() == many.read_bytes()
    rows = list(batch.score_rows(compiled, population, chunk=chunk))
    vectorised = (batch.ScoredRow, batch.ScoredChunk)
    assert any(isinstance(r, vectorised) for r in rows)  # the vectorised path ran


#: Numbers as a population file may write them: plain, padded, signed, exponents, an
#: underflow to zero, more digits than a float keeps, separators, full-width digits,
#: words and gaps.
ODD_NUMBERS = (
    "12.5", " 12.50 ", "+3", "-0", "1.", ".5", "1.5E+2", "1e-999", "0e5", "1_000",
    "1,000", "１２", "12.345678901234567", "99999999999999999999", "NaN", "inf", "", "  ",
    "lots", 7, 0, -2, 10**20, None,
)  # fmt: skip


@pytest.mark.parametrize("as_text", [False, True], ids=["JSON numbers", "numbers as text"])
def test_odd_numbers_are_read_in_chunks_as_one_by_one(
    compiled: perfscore.CompiledRubric, tmp_path: Path, as_text: bool
) -> None:
    """Every number written in an odd way, as JSON numbers (exact decimals) or as text,
    in the number inputs of a chunk: the file the chunks write is the one scoring
    department by department writes (the row engine reads, or refuses, what the
    vectorised path cannot)."""
    lines = []
    for i in range(3 * len(ODD_NUMBERS)):
        inputs = department(i)
        odd = ODD_NUMBERS[i % len(ODD_NUMBERS)]
        key = ("budget_initial", "sangong_this_year", "noncompliant_cases")[i % 3]
        inputs[key] = odd
        if as_text:
            inputs = {
                k: str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v
                for k, v in inputs.items()
            }
        lines.append(json.dumps(inputs, ensure_ascii=False))
    population = write_jsonl(tmp_path / "pop.jsonl", lines)
    one, many = tmp_path / "one.csv", tmp_path / "many.csv"
    first = write_batch(compiled, batch.score_many(compiled, population), one)
    second = write_batch(compiled, batch.score_rows(compiled, population, chunk=16), many)
    assert (first.scored, first.failed) == (second.scored, second.failed)
    assert first.failed > 0  # the words and separators are refused, by the row engine
    assert one.read_bytes() == many.read_bytes()
