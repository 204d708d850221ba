"""Input templates: YAML with comments, and the XLSX form (基础数据表) that scores directly."""

from __future__ import annotations

import json
import textwrap
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from click.testing import CliRunner, Result

import perfscore
from perfscore import InputError
from perfscore.authoring import template
from perfscore.authoring.template import (
    read_template_xlsx,
    xlsx_template,
    yaml_template,
)
from perfscore.cli import main

#: The messages these tests assert are the English ones.
pytestmark = pytest.mark.lang("en")

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "demo" / "rubric.yaml"
DEMO_INPUTS = ROOT / "examples" / "demo" / "inputs.yaml"
CLEAN = ROOT / "tests" / "data" / "check" / "clean.yaml"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), prog_name="perfscore")


def demo_inputs() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DEMO_INPUTS.read_text(encoding="utf-8"))
    return data


def fill(path: Path, values: dict[str, Any]) -> None:
    """Fill the 值 column of a form the way a person would in Excel."""
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    for row in sheet.iter_rows(min_row=2):
        name = row[0].value
        if name in values:
            row[3].value = values[name]
    book.save(path)


# --------------------------------------------------------------------------- YAML


def test_yaml_template_text() -> None:
    text = yaml_template(perfscore.load_rubric(CLEAN), rubric_path="clean.yaml")
    assert text == textwrap.dedent(
        """\
        # Inputs for 无问题 (check-clean, version 1).
        # Fill in each value after the colon; an empty value is missing.
        # Score with: perfscore score clean.yaml THIS_FILE

        # 编制数 — count, 人, ≥ 1
        staff_authorized:

        # 实际在职人数 — count, 人, ≥ 0
        staff_actual:

        # 已公开 — boolean, true / false
        published:
        """
    )


def test_yaml_template_lists_every_input_in_order_empty() -> None:
    rubric = perfscore.load_rubric(DEMO)
    text = yaml_template(rubric)
    data = yaml.safe_load(text)
    assert list(data) == list(rubric.inputs)
    assert set(data.values()) == {None}
    assert "# 预决算信息公开情况 — choice, one of: 及时完整 | 基本及时完整 | 不及时或不完整" in text
    assert "# 社会公众满意度 — percent, %, 0 to 100, in points: 95.1 means 95.1%" in text


def test_yaml_template_describes_tables_and_optional_inputs() -> None:
    rubric = perfscore.load_rubric(ROOT / "rubrics" / "mof" / "project-self-eval-2020.yaml")
    text = yaml_template(rubric)
    assert "#   - {name: …, direction: …, target: …, actual: …, weight: …, rating: …}" in text
    assert "# 满意度指标 — table, optional (may be left empty)" in text


def test_filled_yaml_template_scores(tmp_path: Path) -> None:
    rubric = perfscore.load_rubric(DEMO)
    lines = []
    values = demo_inputs()
    for line in yaml_template(rubric).splitlines():
        key = line[:-1]
        lines.append(f"{line} {json.dumps(values[key])}" if line.endswith(":") else line)
    filled = yaml.safe_load("\n".join(lines))
    assert perfscore.compile_rubric(rubric).score(filled).total == Decimal("89.92")


# --------------------------------------------------------------------------- XLSX


def test_xlsx_form_layout(tmp_path: Path) -> None:
    path = tmp_path / "form.xlsx"
    rubric = perfscore.load_rubric(DEMO)
    xlsx_template(rubric, path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[0] == "Inputs"  # the sheets are named in the form's language
    sheet = book.worksheets[0]
    rows = {r[0].value: r[0].row for r in sheet.iter_rows() if r[0].value}
    header = rows["Input"]
    assert tuple(c.value for c in sheet[header]) == (
        "Input", "Name", "Unit", "Value", "Required", "Notes",
    )  # fmt: skip
    assert sheet.freeze_panes == f"A{header + 1}"
    assert [k for k in rows if k != "Input"] == [
        *(f"unit.{f}" for f in ("name", "code", "year", "filled_by", "filled_on")),
        *rubric.inputs,
    ]
    first = tuple(c.value for c in sheet[rows["staff_authorized"]])
    assert first[:5] == ("staff_authorized", "编制数", "人", None, "required")
    assert sheet[f"C{rows['sangong_last_year']}"].value == "万元"
    assert sheet.column_dimensions["A"].hidden  # the ids are read back, never shown
    validations = {
        str(cell): dv
        for dv in sheet.data_validations.dataValidation
        for rng in dv.sqref.ranges
        for cell in [rng.coord]
    }
    count = validations[f"D{rows['staff_authorized']}"]
    assert (count.type, count.operator, count.formula1) == ("whole", "greaterThanOrEqual", "1")
    money = validations[f"D{rows['sangong_last_year']}"]
    assert (money.type, money.formula1) == ("decimal", "0")
    percent = validations[f"D{rows['satisfaction']}"]
    assert (percent.operator, percent.formula1, percent.formula2) == ("between", "0", "100")
    boolean = validations[f"D{rows['rules_exist']}"]
    assert (boolean.type, boolean.formula1) == ("list", '"yes,no"')
    choice = validations[f"D{rows['disclosure']}"]
    assert choice.type == "list"
    options = book["Options"]
    assert options.sheet_state == "hidden"
    assert [c.value for c in options["A"]] == ["及时完整", "基本及时完整", "不及时或不完整"]
    assert choice.formula1 == "'Options'!$A$1:$A$3"


def test_filled_xlsx_scores_like_the_yaml_inputs(tmp_path: Path) -> None:
    path = tmp_path / "filled.xlsx"
    rubric = perfscore.load_rubric(DEMO)
    xlsx_template(rubric, path)
    values = demo_inputs()
    values["rules_exist"] = "是"  # as picked from the drop-down list
    fill(path, values)
    compiled = perfscore.compile_rubric(rubric)
    from_xlsx = compiled.score(read_template_xlsx(path))
    from_yaml = compiled.score(demo_inputs())
    assert (from_xlsx.total, from_xlsx.grade) == (from_yaml.total, from_yaml.grade)
    assert from_xlsx.scores == from_yaml.scores


def test_cli_scores_a_filled_form(tmp_path: Path) -> None:
    path = tmp_path / "filled.xlsx"
    made = run("template", str(DEMO), "--format", "xlsx", "--out", str(path))
    assert made.exit_code == 0
    assert made.stderr == f"wrote {path}\n"
    fill(path, demo_inputs())
    from_xlsx = run("score", str(DEMO), str(path), "--format", "json")
    from_yaml = run("score", str(DEMO), str(DEMO_INPUTS), "--format", "json")
    assert from_xlsx.exit_code == 0, from_xlsx.stderr
    old, new = json.loads(from_yaml.stdout), json.loads(from_xlsx.stdout)
    assert (new["total"], new["grade"]) == (old["total"], old["grade"]) == ("89.92", "良好")
    # Excel keeps 12.40 as the number 12.4, so only the values shown in explanations differ.
    for node in (*old["indicators"], *new["indicators"]):
        node.pop("explanation", None)
    assert new["indicators"] == old["indicators"]


def test_cli_names_missing_values_of_a_form(tmp_path: Path) -> None:
    path = tmp_path / "filled.xlsx"
    xlsx_template(perfscore.load_rubric(DEMO), path)
    values = demo_inputs()
    del values["satisfaction"]
    fill(path, values)
    result = run("score", str(DEMO), str(path))
    assert result.exit_code == 3
    assert result.stderr.startswith(
        f"{path}: satisfaction: missing required input 'satisfaction' (社会公众满意度)"
    )


def test_percent_typed_with_a_percent_sign(tmp_path: Path) -> None:
    path = tmp_path / "filled.xlsx"
    xlsx_template(perfscore.load_rubric(DEMO), path)
    fill(path, {**demo_inputs(), "satisfaction": 0.925})
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    cell = next(r[3] for r in sheet.iter_rows(min_row=2) if r[0].value == "satisfaction")
    cell.number_format = "0.0%"  # Excel's doing when a person types 92.5%
    book.save(path)
    assert read_template_xlsx(path)["satisfaction"] == Decimal("92.5")


def test_table_inputs_get_a_sheet(tmp_path: Path) -> None:
    path = tmp_path / "project.xlsx"
    rubric = perfscore.load_rubric(ROOT / "rubrics" / "mof" / "project-self-eval-2020.yaml")
    xlsx_template(rubric, path)
    book = openpyxl.load_workbook(path)
    sheet = book["产出指标"]  # a table input's sheet is named by its label
    header = [c.value for c in sheet[1]]
    assert header == ["name", "direction", "target", "actual", "weight", "rating"]
    sheet.append(["办结率", "不低于", 100, 100, 50, None])
    book["效益指标"].append(["满意度", "定性", None, None, 30, 90])
    fill_sheet = book.worksheets[0]
    for row in fill_sheet.iter_rows(min_row=2):
        if row[0].value == "budget_total":
            row[3].value = 100
        if row[0].value == "budget_executed":
            row[3].value = 95
    book.save(path)
    inputs = read_template_xlsx(path)
    assert inputs["output_rows"] == [
        {"name": "办结率", "direction": "不低于", "target": 100, "actual": 100, "weight": 50}
    ]
    assert "satisfaction_rows" not in inputs
    result = perfscore.compile_rubric(rubric).score(inputs)
    assert result.total > 0


def test_reading_something_else_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "other.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["部门", "编制数"])
    book.save(path)
    with pytest.raises(InputError) as caught:
        read_template_xlsx(path)
    assert caught.value.codes == ("input.xlsx",)
    assert "is not a perfscore form" in str(caught.value)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a workbook")
    with pytest.raises(InputError, match="cannot read the workbook"):
        read_template_xlsx(broken)


def test_a_form_that_unpacks_beyond_what_is_read_whole_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A form is read whole, sheets included: every part is bounded, not only the shared
    # strings and styles that a population read row by row holds whole.
    form = tmp_path / "form.xlsx"
    xlsx_template(perfscore.load_rubric(DEMO), form)
    sizes = {i.filename: i.file_size for i in zipfile.ZipFile(form).infolist()}
    sheets = [k for k in sizes if k.startswith("xl/worksheets/")]
    bound = max(v for k, v in sizes.items() if k not in sheets) + 1
    assert max(sizes[k] for k in sheets) > bound
    monkeypatch.setattr(template, "MAX_FORM_PART", bound)
    with pytest.raises(InputError, match=r"xl/worksheets/sheet\d\.xml unpacks to") as caught:
        read_template_xlsx(form)
    assert caught.value.codes == ("input.xlsx",)


# --------------------------------------------------------------------------- CLI


def test_cli_yaml_template_to_stdout_and_file(tmp_path: Path) -> None:
    result = run("template", str(CLEAN))
    assert result.exit_code == 0
    assert result.stdout == yaml_template(perfscore.load_rubric(CLEAN), rubric_path=str(CLEAN))
    out = tmp_path / "inputs.yaml"
    written = run("template", str(CLEAN), "--out", str(out))
    assert written.exit_code == 0
    assert out.read_text(encoding="utf-8") == result.stdout


def test_cli_xlsx_default_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("template", str(CLEAN), "-f", "xlsx")
    assert result.exit_code == 0
    assert (tmp_path / "check-clean.inputs.xlsx").is_file()


def test_cli_xlsx_form_failing_midway_leaves_the_last_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A form is written whole or not at all: a save that fails halfway leaves the form
    already there as it was, and no temporary file beside it."""
    from openpyxl.writer.excel import ExcelWriter

    out = tmp_path / "form.xlsx"
    assert run("template", str(CLEAN), "-f", "xlsx", "--out", str(out)).exit_code == 0
    before = out.read_bytes()

    def half(self: ExcelWriter) -> None:
        self.write_data()  # the parts are written to the archive ...
        raise OSError(28, "No space left on device")  # ... and then the disk is full

    monkeypatch.setattr(ExcelWriter, "save", half)
    failed = run("template", str(CLEAN), "-f", "xlsx", "--out", str(out))
    assert failed.exit_code == 2
    assert f"{out}: cannot write" in failed.output
    assert "No space left on device" in failed.output
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["form.xlsx"]


def test_cli_yaml_template_to_a_folder_that_does_not_exist(tmp_path: Path) -> None:
    out = tmp_path / "missing" / "inputs.yaml"
    result = run("template", str(CLEAN), "--out", str(out))
    assert result.exit_code == 2
    assert f"{out}: cannot write this file" in result.output
    assert not out.parent.exists()
