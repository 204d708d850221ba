"""Numbers as written, names as read, and every output escaped for where it lands: text
from a rubric or a department is never a formula in a spreadsheet, never a control
sequence on a terminal, never HTML or a link in markdown, and never breaks JUnit XML."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st

import perfscore
import perfscore.i18n
from perfscore._escape import FORMULA_STARTS, markdown_text, spreadsheet_cell, visible, xml_text
from perfscore._files import remove_stale_temporaries
from perfscore.authoring import template
from perfscore.cli import main
from perfscore.errors import PerfscoreError
from perfscore.formula import compile_formula
from perfscore.loading import MAX_TEXT, loads_rubric, parse_document
from perfscore.population import batch
from perfscore.render import scoresheet
from perfscore.render import text as reporting

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "demo" / "rubric.yaml"
DEMO_INPUTS = ROOT / "examples" / "demo" / "inputs.yaml"

HOSTILE_TEXTS = [
    '=HYPERLINK("http://x","y")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "\x1b]0;pwned\x07\x1b[2J红色",
    "a\x00b\x9bc\u202eevil",
    "<script>alert(1)</script>",
    "[click](javascript:alert(1)) ![x](http://t/x.png)",
    "line1\nline2 | cell",
]


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("010", "yaml.number_form"),
        ("017", "yaml.number_form"),
        ("0x11", "yaml.number_form"),
        ("0b10001", "yaml.number_form"),
        ("1:30", "yaml.number_form"),
        ("-1:30.5", "yaml.number_form"),
        ("-010", "yaml.number_form"),
    ],
)
def test_yaml_11_number_forms_refused(text: str, code: str) -> None:
    with pytest.raises(PerfscoreError) as info:
        parse_document(f"inputs:\n  a: {text}\n", "x.yaml")
    assert info.value.codes == (code,)
    issue = info.value.issues[0]
    assert (issue.location.line, issue.location.column) == (2, 6)


@pytest.mark.parametrize(
    ("text", "value"),
    [("10", 10), ("0", 0), ("-7", -7), ("+12", 12), ("1_000", 1000), ("'010'", "010")],
)
def test_decimal_forms_read_as_written(text: str, value: object) -> None:
    assert parse_document(f"a: {text}\n", "x")[0] == {"a": value}


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_every_decimal_integer_reads_as_itself(n: int) -> None:
    assert parse_document(f"a: {n}\n", "x")[0] == {"a": n}


@given(st.integers(min_value=1, max_value=10**6), st.integers(min_value=1, max_value=4))
def test_a_leading_zero_is_never_read_as_another_number(n: int, zeros: int) -> None:
    """Refused, or (``0508``, no YAML number at all) kept as the text written."""
    written = f"{'0' * zeros}{n}"
    if set(written) <= set("01234567"):  # YAML 1.1 would read it as octal
        with pytest.raises(PerfscoreError) as info:
            parse_document(f"a: {written}\n", "x")
        assert info.value.codes == ("yaml.number_form",)
    else:
        assert parse_document(f"a: {written}\n", "x")[0] == {"a": written}


def test_a_leading_zero_count_no_longer_triggers_a_grade_cap(tmp_path: Path) -> None:
    """An inputs file with ``noncompliant_cases: 010`` is refused, not read as 8."""
    inputs = tmp_path / "inputs.yaml"
    text = DEMO_INPUTS.read_text(encoding="utf-8")
    assert "noncompliant_cases: 1\n" in text
    inputs.write_text(text.replace("noncompliant_cases: 1\n", "noncompliant_cases: 010\n"))
    result = CliRunner().invoke(main, ["score", str(DEMO), str(inputs)])
    assert result.exit_code == 3  # the inputs cannot be used
    assert "[yaml.number_form]" in result.stderr
    assert f"{inputs}:" in result.stderr


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("formula", "name", "normal"),
    [
        ("ｓｔａｆｆ_actual + 1", "ｓｔａｆｆ_actual", "staff_actual"),
        ("𝐱 * 2", "𝐱", "x"),
        ("ｍｉｎ(x, 1)", "ｍｉｎ", "min"),
    ],
)
def test_names_that_differ_from_their_nfkc_form_refused(
    formula: str, name: str, normal: str
) -> None:
    with pytest.raises(PerfscoreError) as info:
        compile_formula(formula)
    assert info.value.codes == ("formula.confusable",)
    issue = info.value.issues[0]
    assert issue.params == {"name": name, "normal": normal}
    assert issue.location.span == (0, len(name))
    with perfscore.i18n.use_lang("en"):
        assert issue.hint_in("en") == (
            f"write '{normal}' in plain characters, so that what a reviewer reads is what runs"
        )


def test_plain_and_chinese_names_and_full_width_text_are_kept() -> None:
    compile_formula("x + y_2")
    compile_formula("部门 + 1")
    compile_formula("'１２' == '１２'")


# --------------------------------------------------------------------------- escaping rules


@given(st.text())
def test_spreadsheet_cell_never_starts_a_formula(text: str) -> None:
    cell = spreadsheet_cell(text)
    assert not cell.startswith(FORMULA_STARTS)
    assert cell in (text, "'" + text)


@given(st.text())
def test_visible_text_holds_no_control_character(text: str) -> None:
    shown = visible(text, lines=False)
    assert not any(
        ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or 0x202A <= ord(c) <= 0x202E for c in shown
    )
    assert all(c in shown or c.isprintable() is False for c in text if c.isprintable())


@given(st.text())
def test_xml_text_is_valid_xml(text: str) -> None:
    element = ET.Element("x", name=xml_text(text))
    element.text = xml_text(text)
    ET.fromstring(ET.tostring(element, encoding="unicode"))


@given(st.text())
def test_markdown_text_is_one_literal_line(text: str) -> None:
    md = markdown_text(text)
    assert "\n" not in md
    assert "<" not in md
    assert ">" not in md
    for special in "|[]`":
        assert md.count(special) == md.count("\\" + special)


# --------------------------------------------------------------------------- outputs


def hostile_rubric() -> perfscore.Rubric:
    text = DEMO.read_text(encoding="utf-8")
    names = iter(HOSTILE_TEXTS * 3)
    lines = []
    for line in text.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("name: ") and not stripped.startswith("name: {"):
            indent = line[: len(line) - len(stripped)]
            line = f"{indent}name: {json.dumps(next(names))}"
        lines.append(line)
    return loads_rubric("\n".join(lines) + "\n", name="hostile.yaml")


def test_hostile_names_in_the_rubric_reach_the_outputs() -> None:
    rubric = hostile_rubric()
    names = {node.name for node in rubric.walk()}
    assert "<script>alert(1)</script>" in names


@pytest.mark.parametrize("suffix", [".csv", ".tsv"])
def test_csv_and_tsv_cells_are_neutralised(tmp_path: Path, suffix: str) -> None:
    compiled = perfscore.compile_rubric(perfscore.load_rubric(DEMO))
    population = tmp_path / "p.jsonl"
    inputs = perfscore.loading.load_document(DEMO_INPUTS)[0]
    population.write_text(
        "".join(
            json.dumps({**inputs, "id": text}, ensure_ascii=False, default=str) + "\n"
            for text in HOSTILE_TEXTS
        )
        + json.dumps({"id": "=bad", "staff_actual": "=1+1"})
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / f"o{suffix}"
    batch.write_batch(compiled, batch.score_many(compiled, population), out)
    dialect = "excel-tab" if suffix == ".tsv" else "excel"
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig")), dialect=dialect))
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), row
    assert rows[1][0] == "'" + HOSTILE_TEXTS[0]
    assert rows[-1][0] == "'=bad"
    assert rows[-1][-1].startswith("'") or not rows[-1][-1].startswith(FORMULA_STARTS)


#: The only formulas a report holds: 小计 and 合计 as sums of cells of the sheet.
OWN_SUM = r"=SUM\([A-Z]+[0-9]+(?:[:,][A-Z]+[0-9]+)*\)"


def test_xlsx_report_and_template_never_hold_a_formula_from_text(tmp_path: Path) -> None:
    rubric = hostile_rubric()
    result = perfscore.compile_rubric(rubric).score(perfscore.loading.load_document(DEMO_INPUTS)[0])
    report = tmp_path / "r.xlsx"
    scoresheet.write_report(result, rubric, report, "xlsx", department="=cmd|'/C calc'!A0\x1b")
    form = tmp_path / "f.xlsx"
    template.xlsx_template(rubric, form)
    for path in (report, form):
        book = openpyxl.load_workbook(path)
        texts = []
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if cell.data_type == "f":  # only the 评分表's own sums of its cells
                        assert path == report, (path, cell.coordinate, cell.value)
                        assert re.fullmatch(OWN_SUM, str(cell.value)), (cell.coordinate, cell.value)
                    if isinstance(cell.value, str):
                        texts.append(cell.value)
        joined = "\n".join(texts)
        assert "\x1b" not in joined
        if path == report:
            assert "\\x1b" in joined


def test_terminal_outputs_show_control_characters(tmp_path: Path) -> None:
    rubric = hostile_rubric()
    result = perfscore.compile_rubric(rubric).score(perfscore.loading.load_document(DEMO_INPUTS)[0])
    for text in (
        reporting.render_table(result),
        reporting.render_explanation(result, rubric=rubric),
        reporting.render_issues(
            [perfscore.Issue("x", "unknown input '\x1b[31mred'", perfscore.Location(file="f"))]
        ),
    ):
        assert "\x1b" not in text
        assert "\x9b" not in text
        assert "\u202e" not in text
    assert "\\x1b" in reporting.render_table(result)


def test_markdown_outputs_escape_html_links_and_newlines() -> None:
    rubric = hostile_rubric()
    result = perfscore.compile_rubric(rubric).score(perfscore.loading.load_document(DEMO_INPUTS)[0])
    for text in (
        reporting.render_markdown(result),
        scoresheet.render_report(result, rubric, "markdown", department="<b>x</b>\n| y"),
    ):
        assert isinstance(text, str)
        assert "<script>" not in text
        assert "<b>" not in text
        assert re.search(r"(?<!\\)\]\(", text) is None  # no link: every ']' escaped
        assert "&lt;script&gt;" in text
        rows = [line for line in text.splitlines() if line.startswith("|")]
        widths = {line.replace("\\|", "").count("|") for line in rows}
        assert len(widths) == 1, widths  # every row has as many cells as the header


def test_junit_xml_is_valid_whatever_a_case_name_holds(tmp_path: Path) -> None:
    (tmp_path / "rubric.yaml").write_bytes(DEMO.read_bytes())
    (tmp_path / "inputs.yaml").write_bytes(DEMO_INPUTS.read_bytes())
    cases = "".join(
        f"  - name: {json.dumps(text + str(i))}\n    expect: {{total: 1}}\n"
        for i, text in enumerate(HOSTILE_TEXTS)
    )
    case_file = tmp_path / "r.cases.yaml"
    case_file.write_text(
        "rubric: rubric.yaml\nbase_inputs_file: inputs.yaml\ncases:\n" + cases, encoding="utf-8"
    )
    junit = tmp_path / "junit.xml"
    result = run("test", case_file, "--junit-xml", junit)
    assert result.exit_code == 1
    assert "\x1b" not in result.stdout
    root = ET.fromstring(junit.read_text(encoding="utf-8").split("\n", 1)[1])
    assert len(root.findall(".//testcase")) == len(HOSTILE_TEXTS)
    assert len(root.findall(".//failure")) == len(HOSTILE_TEXTS)


# --------------------------------------------------------------------------- temporaries


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.skipif(os.name != "posix", reason="process ids looked up the POSIX way")
def test_a_killed_runs_temporary_file_is_removed_by_the_next_run(tmp_path: Path) -> None:
    out = tmp_path / "scores.csv"
    stale = tmp_path / f".scores.csv.{dead_pid()}-abcdef012345.tmp"
    alive = tmp_path / f".scores.csv.{os.getppid()}-abcdef012345.tmp"
    other = tmp_path / ".other.csv.1-ab.tmp"
    for path in (stale, alive, other):
        path.write_text("half", encoding="utf-8")
    compiled = perfscore.compile_rubric(perfscore.load_rubric(DEMO))
    batch.write_batch(compiled, [], out)
    assert not stale.exists()
    assert alive.exists()  # a run still going
    assert other.exists()  # another output's
    assert remove_stale_temporaries(out) == []


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")
@pytest.mark.parametrize("number", [signal.SIGTERM, getattr(signal, "SIGHUP", signal.SIGTERM)])
def test_sigterm_and_sighup_remove_the_temporary_output(tmp_path: Path, number: int) -> None:
    inputs = perfscore.loading.load_document(DEMO_INPUTS)[0]
    line = json.dumps(inputs, ensure_ascii=False, default=str) + "\n"
    population = tmp_path / "p.jsonl"
    population.write_text(line * 400_000, encoding="utf-8")
    out = tmp_path / "o.csv"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    child = subprocess.Popen(
        [sys.executable, "-m", "perfscore", "score", str(DEMO), str(population), "--out", str(out)],
        env=env,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(".o.csv.*.tmp")):
            assert child.poll() is None, "the run ended before it was signalled"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        child.send_signal(number)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 128 + number
    assert list(tmp_path.glob(".o.csv.*")) == []
    assert not out.exists()


def run(*args: str | Path) -> Result:
    with perfscore.i18n.use_lang("en"):
        return CliRunner().invoke(main, [str(a) for a in args])


def test_alias_expansion_is_bounded_in_total_text() -> None:
    long = "x" * 19_000
    text = f"a: &a {long}\nb: [" + ",".join(["*a"] * 200) + "]\n"
    assert len(text) < 25_000
    with pytest.raises(PerfscoreError) as info:
        parse_document(text, "x")
    assert info.value.codes == ("yaml.text_too_large",)
    assert str(MAX_TEXT) in info.value.issues[0].message_in("en")
