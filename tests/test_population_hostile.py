"""Each batch row on its own: a row that does not decode, is too long, holds a cell past
the csv module's limit, a number the decimal context cannot hold, a duplicate key or too
many keys fails with its row, and the good rows around it are scored. A heading that
cannot be used (duplicate or too many columns) fails once. Unknown columns are reported
once per file in full. Every command that reads a population handles every such error."""

from __future__ import annotations

import csv
import json
import os
import threading
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

import perfscore
import perfscore.i18n
from perfscore.cli import main
from perfscore.population import batch, readers
from perfscore.population.readers import MAX_COLUMNS, WorkbookProblem, read_population

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "demo" / "rubric.yaml"

GOOD = {
    "staff_authorized": "18",
    "staff_actual": "17",
    "sangong_last_year": "10",
    "sangong_this_year": "9",
    "key_project_spend": "380",
    "project_spend_total": "400",
    "budget_initial": "300",
    "budget_adjustment": "0",
    "rules_exist": "true",
    "rules_lawful": "true",
    "rules_executed": "true",
    "noncompliant_cases": "0",
    "disclosure": "及时完整",
    "key_tasks_planned": "10",
    "key_tasks_done": "10",
    "satisfaction": "90",
}
COLUMNS = ["id", *GOOD]


def compiled() -> perfscore.CompiledRubric:
    return perfscore.compile_rubric(perfscore.load_rubric(DEMO))


def csv_line(dept_id: str, **changes: str) -> bytes:
    values = {**GOOD, **changes}
    return (",".join([dept_id, *(values[c] for c in GOOD)]) + "\n").encode("utf-8")


def heading() -> bytes:
    return (",".join(COLUMNS) + "\n").encode("utf-8")


def outcome(path: Path) -> list[tuple[int, str, tuple[str, ...]]]:
    """(row, id, issue codes) of each record scored from ``path``; () when scored."""
    out = []
    for record in batch.score_many(compiled(), path):
        codes = () if record.ok else tuple(i.code for i in record.issues)  # type: ignore[union-attr]
        out.append((record.row, record.id, codes))
    return out


def test_a_row_not_utf8_fails_alone(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    bad = csv_line("b", disclosure="及时完整").replace(
        "及时完整".encode(), "及时完整".encode("gbk")
    )
    path.write_bytes(b"\xef\xbb\xbf" + heading() + csv_line("a") + bad + csv_line("c"))
    assert outcome(path) == [(2, "a", ()), (3, "3", ("input.encoding",)), (4, "c", ())]
    record = list(read_population(path))[1]
    offset = bad.index("及时完整".encode("gbk")) + 1
    assert record.issues[0].params == {"byte": str(offset)}


def test_a_cell_past_the_csv_field_limit_fails_alone(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    huge = '"' + "x" * (csv.field_size_limit() + 10) + '"'
    path.write_bytes(heading() + csv_line("a") + csv_line("b", disclosure=huge) + csv_line("c"))
    result = outcome(path)
    assert result[0] == (2, "a", ())
    assert result[1][0] == 3
    assert result[1][2] == ("input.field_too_large",)
    assert result[-1] == (4, "c", ())


@pytest.mark.parametrize("quoted", [False, True])
def test_a_row_past_the_row_limit_fails_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quoted: bool
) -> None:
    monkeypatch.setattr(readers, "MAX_ROW_BYTES", 4096)
    path = tmp_path / "p.csv"
    # a long line, or a quoted cell over many short lines
    long = '"' + "x\n" * 3000 + '"' if quoted else "y" * 10_000
    path.write_bytes(heading() + csv_line("a") + csv_line("b", disclosure=long) + csv_line("c"))
    result = outcome(path)
    assert result[0] == (2, "a", ())
    assert result[1][2] == ("input.row_too_large",)
    assert result[-1][1:] == ("c", ())


@pytest.mark.parametrize(
    ("names", "positions"),
    [
        (["id", "staff_actual", "staff_actual"], ["2", "3"]),
        (["id", "staff_actual", "实际在职人数"], ["2", "3"]),
    ],
)
def test_duplicate_columns_fail_the_heading_once(
    tmp_path: Path, names: list[str], positions: list[str]
) -> None:
    path = tmp_path / "p.csv"
    path.write_text(",".join(names) + "\na,1,2\nb,3,4\n", encoding="utf-8")
    records = list(batch.score_many(compiled(), path))
    assert len(records) == 1
    issue = records[0].issues[0]  # type: ignore[union-attr]
    assert issue.code == "input.duplicate_column"
    assert issue.params["positions"] == positions
    assert issue.params["column"] == "staff_actual"
    assert issue.location.line == 1


def test_duplicate_columns_in_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "p.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["id", "编制数", "staff_authorized"])
    sheet.append(["a", 1, 2])
    book.save(path)
    (record,) = list(read_population(path, labels={"编制数": "staff_authorized"}))
    assert [i.code for i in record.issues] == ["input.duplicate_column"]


@pytest.mark.parametrize(
    "names", [["id", "staff_actual", "staff_actual"], ["id", "staff_actual", "实际在职人数"]]
)
def test_duplicate_columns_in_parquet(tmp_path: Path, names: list[str]) -> None:
    """Parquet allows two fields of one name; the second must not overwrite the first."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "p.parquet"
    table = pa.table([["a", "b"], ["1", "3"], ["2", "4"]], names=names)
    pq.write_table(table, path)
    records = list(batch.score_many(compiled(), path))
    assert len(records) == 1
    (issue,) = records[0].issues  # type: ignore[union-attr]
    assert issue.code == "input.duplicate_column"
    assert issue.params["positions"] == ["2", "3"]
    assert issue.location.line == 1


def test_a_heading_too_wide_fails_once(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(
        ",".join(f"c{i}" for i in range(MAX_COLUMNS + 1)) + "\n" + "1\n" * 5, encoding="utf-8"
    )
    records = list(read_population(path))
    assert [(r.row, [i.code for i in r.issues]) for r in records] == [
        (1, ["input.heading_too_wide"])
    ]


def jsonl(path: Path, *lines: str) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def good_json(dept_id: str) -> str:
    return json.dumps({"id": dept_id, **GOOD}, ensure_ascii=False)


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ('{"id": "x", "staff_actual": 1, "staff_actual": 2}', "input.duplicate_key"),
        ('{"t": [{"a": 1, "a": 2}]}', "input.duplicate_key"),
        ("{" + ",".join(f'"k{i}": 1' for i in range(30_000)) + "}", "input.too_many_fields"),
        ('{"staff_actual": 1e999999999999999999999}', "input.syntax"),
        ('{"staff_actual": ' + "9" * 5000 + "}", "input.syntax"),
        ("[" * 100_000 + "]" * 100_000, "input.syntax"),
        ('{"staff_actual": NaN}', "input.syntax"),
    ],
)
def test_jsonl_records_fail_alone(tmp_path: Path, line: str, code: str) -> None:
    path = jsonl(tmp_path / "p.jsonl", good_json("a"), line, good_json("c"))
    result = outcome(path)
    assert result[0] == (1, "a", ())
    assert result[1][0] == 2
    assert result[1][2] == (code,)
    assert result[2] == (3, "c", ())
    assert len(str(list(read_population(path))[1].issues[0])) < 1000  # a bounded message


def test_jsonl_line_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_bytes(
        good_json("a").encode()
        + b"\n"
        + '{"d": "完整"}'.encode("gbk")
        + b"\n"
        + good_json("c").encode()
        + b"\n"
    )
    assert [r[2] for r in outcome(path)] == [(), ("input.encoding",), ()]


def test_undeclared_columns_are_one_warning_per_file(tmp_path: Path) -> None:
    """A heading no input declares is left out of every row and said once, with "did
    you mean"; the rows are read and scored."""
    path = tmp_path / "p.csv"
    names = [*COLUMNS, "备注", "staf_actual"]
    rows = "".join(",".join([f"d{i}", *GOOD.values(), "x", "1"]) + "\n" for i in range(50))
    path.write_text(",".join(names) + "\n" + rows, encoding="utf-8")
    warnings: list[perfscore.Issue] = []
    records = list(batch.score_many(compiled(), path, warn=warnings.append))
    assert len(records) == 50
    assert all(r.ok for r in records)
    (warning,) = warnings
    assert warning.code == "population.undeclared_columns"
    assert warning.params["columns"] == "备注, staf_actual"
    assert warning.hint is not None
    assert "staf_actual → staff_actual" in warning.hint
    assert records[7].id == "d7"
    # without a listener, the first department read carries the warning
    first, *rest = read_population(path, known=compiled().input_specs.keys())
    assert [i.code for i in first.issues] == ["population.undeclared_columns"]
    assert first.inputs is not None
    assert "备注" not in first.inputs
    assert all(d.issues == () for d in rest)


def test_undeclared_columns_are_an_error_with_strict(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    names = [*COLUMNS, "备注", "staf_actual"]
    path.write_text(",".join(names) + "\n" + ",".join(["d1", *GOOD.values(), "x", "1"]) + "\n")
    with pytest.raises(perfscore.PerfscoreError) as caught:
        list(batch.score_many(compiled(), path, strict=True))
    assert [i.code for i in caught.value.issues] == ["input.unknown", "input.unknown"]
    assert caught.value.issues[1].hint is not None
    assert "staff_actual" in caught.value.issues[1].hint


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.one_of(
            st.just(("good", b"")),
            st.just(("gbk", "不完整".encode("gbk"))),
            st.just(("long", b"z" * 3000)),
            st.just(("nul", b"\x00")),
        ),
        max_size=12,
    )
)
def test_good_rows_always_scored(rows: list[tuple[str, bytes]]) -> None:
    """Whatever bad rows surround them, the good rows of a CSV are scored, in order."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.csv"
        body = b""
        for i, (kind, junk) in enumerate(rows):
            line = csv_line(f"d{i}")
            if kind != "good":
                line = line.replace("及时完整".encode(), junk)
            body += line
        path.write_bytes(heading() + body)
        old = readers.MAX_ROW_BYTES
        readers.MAX_ROW_BYTES = 2048  # type: ignore[misc]  # a small bound to reach
        try:
            result = outcome(path)
        finally:
            readers.MAX_ROW_BYTES = old  # type: ignore[misc]
    assert len(result) == len(rows)
    for (row, _, codes), (kind, _) in zip(result, rows, strict=True):
        assert (codes == ()) == (kind == "good"), (row, codes, kind)


def run(*args: str | Path) -> Result:
    with perfscore.i18n.use_lang("en"):
        return CliRunner().invoke(main, [str(a) for a in args], prog_name="perfscore")


def not_a_workbook(path: Path) -> Path:
    path.write_bytes(b"PK\x03\x04 not really a zip")
    return path


def truncated_workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(COLUMNS)
    for i in range(30):
        sheet.append([f"d{i}", *GOOD.values()])
    source = path.with_name("whole.xlsx")
    book.save(source)
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(path, "w") as new:
        for item in old.infolist():
            data = old.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]
            new.writestr(item, data)
    return path


@pytest.mark.parametrize("command", ["score", "report", "diff"])
def test_every_population_command_handles_a_file_that_is_no_workbook(
    tmp_path: Path, command: str
) -> None:
    population = not_a_workbook(tmp_path / "p.xlsx")
    if command == "score":
        result = run("score", DEMO, population, "--out", tmp_path / "o.csv")
    elif command == "report":
        result = run("report", DEMO, population, "--out-dir", tmp_path / "reports")
    else:
        result = run("diff", DEMO, DEMO, "--population", population, "--out", tmp_path / "d.txt")
    assert result.exit_code == 3, result.output  # the population cannot be used
    assert isinstance(result.exception, SystemExit)
    assert result.stderr.startswith(f"error: cannot read {population}: File is not a zip file")
    assert not (tmp_path / "o.csv").exists()
    assert not (tmp_path / "d.txt").exists()


@pytest.mark.parametrize("command", ["score", "report", "diff"])
def test_a_sheet_that_breaks_off_keeps_the_rows_before(tmp_path: Path, command: str) -> None:
    population = truncated_workbook(tmp_path / "p.xlsx")
    good = [d for d in read_population(population) if d.ok]
    assert 0 < len(good) < 30
    if command == "score":
        out = tmp_path / "o.jsonl"
        result = run("score", DEMO, population, "--out", out)
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert [r["status"] for r in rows] == ["ok"] * len(good) + ["failed"]
        assert "[input.workbook]" in rows[-1]["errors"]
    elif command == "report":
        result = run("report", DEMO, population, "--out-dir", tmp_path / "reports")
        assert len(list((tmp_path / "reports").iterdir())) == len(good)
    else:
        result = run("diff", DEMO, DEMO, "--population", population, "--fail-on", "failed")
    assert isinstance(result.exception, SystemExit)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX's")
@pytest.mark.parametrize("command", ["score", "report", "diff"])
def test_a_named_pipe_population_is_refused_at_once(tmp_path: Path, command: str) -> None:
    pipe = tmp_path / "p.csv"
    os.mkfifo(pipe)
    outcome: list[Result] = []
    args: list[str | Path] = {
        "score": ["score", DEMO, pipe, "--out", tmp_path / "o.csv"],
        "report": ["report", DEMO, pipe, "--out-dir", tmp_path / "r"],
        "diff": ["diff", DEMO, DEMO, "--population", pipe],
    }[command]
    thread = threading.Thread(target=lambda: outcome.append(run(*args)), daemon=True)
    thread.start()
    thread.join(10)
    assert outcome, "the command waited on the pipe"
    assert outcome[0].exit_code == 3
    assert "[file.not_regular]" in outcome[0].stderr


def hidden_workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    decoy = book.active
    assert decoy is not None
    decoy.title = "visible"
    decoy.append(COLUMNS)
    decoy.append(["shown", *GOOD.values()])
    for name, state in (("secret", "hidden"), ("deep", "veryHidden")):
        sheet = book.create_sheet(name)
        sheet.append(COLUMNS)
        sheet.append([name, *GOOD.values()])
        sheet.sheet_state = state
    book.active = 1  # the hidden sheet is the active one
    book.save(path)
    return path


def test_hidden_sheets_never_read_silently(tmp_path: Path) -> None:
    path = hidden_workbook(tmp_path / "p.xlsx")
    assert [d.id for d in read_population(path)] == ["shown"]
    assert [d.id for d in read_population(path, sheet="secret")] == ["secret"]
    result = run("score", DEMO, path, "--out", tmp_path / "o.csv")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith(
        f"warning: {path} has hidden sheets that are not read: secret, deep"
    )
    result = run("score", DEMO, path, "--out", tmp_path / "o.csv", "--sheet", "deep")
    assert "deep" not in result.stderr.splitlines()[0]
    with pytest.raises(WorkbookProblem, match="no sheet 'nope'"), perfscore.i18n.use_lang("en"):
        list(read_population(path, sheet="nope"))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX's")
def test_a_named_pipe_in_a_folder_population_fails_its_own_row(tmp_path: Path) -> None:
    folder = tmp_path / "departments"
    folder.mkdir()
    (folder / "a.yaml").write_text(
        "".join(f"{k}: {v}\n" for k, v in GOOD.items()), encoding="utf-8"
    )
    os.mkfifo(folder / "b.yaml")
    (folder / "c.yaml").symlink_to("/dev/zero")
    result = outcome(folder)
    assert result == [
        (1, "a", ()),
        (2, "b", ("file.not_regular",)),
        (3, "c", ("file.not_regular",)),
    ]
