"""The XLSX input form a department fills in: sections from the rubric's input groups, the
unit's fields, 必填/选填, page setup, protection, the rubric's checks as validations, and
a filled-in form read back as one department by ``score`` and ``report``."""

from __future__ import annotations

import datetime
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import MergedCell

import perfscore
from perfscore import RubricValidationError
from perfscore.authoring.template import (
    CLAIMS_SHEET,
    DATA_SHEET,
    FORM_MARKER,
    excel_formula,
    input_sections,
    is_form,
    read_template_xlsx,
    xlsx_template,
)
from perfscore.cli import main
from perfscore.formula import Symbol, ValueType, compile_formula

from ._office import SOFFICE, soffice

ROOT = Path(__file__).resolve().parent.parent
SHAOYANG = ROOT / "rubrics" / "shaoyang" / "dept-overall-2023.yaml"
SEED = ROOT / "examples" / "daxiang-emergency-2023" / "inputs.yaml"

RUBRIC = """\
id: form-test
title: 填报表测试
inputs:
  staff_authorized: {label: 编制数, kind: count, unit: 人, min: 1, group: 人员}
  staff_actual: {label: 实际在职人数, kind: count, unit: 人, group: 人员}
  budget: {label: 调整后预算数, kind: money, min: 0.01, group: 预算}
  spend: {label: 支出数, kind: money, min: 0, group: 预算}
  published: {label: 已公开, kind: boolean}
  note: {label: 备注, kind: text, required: false}
derived:
  rate: {label: 执行率, formula: spend / budget, as_percent: true}
  staff_rate: {label: 在职人员控制率, formula: staff_actual / staff_authorized, as_percent: true}
indicators:
  - id: staff_control
    name: 在职人员控制率
    weight: 6
    scoring:
      method: deduction
      value: staff_rate
      threshold: 100
      direction: over
      deduct: {points: 1, per: 1, steps: whole}
  - id: disclosure
    name: 公开
    weight: 4
    scoring:
      method: checklist
      items: [{text: 已公开, met: published, points: 4}]
total: 10
grades:
  - {name: 合格, range: "[6, 10]"}
  - {name: 不合格, range: "[0, 6)"}
checks:
  - id: staff_over_posts
    when: staff_actual > staff_authorized
    message: 实有人数超过编制数
  - id: overspent
    when: rate > 100
    message: 支出超过预算
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), prog_name="perfscore")


@pytest.fixture
def rubric_path(tmp_path: Path) -> Path:
    path = tmp_path / "rubric.yaml"
    path.write_text(RUBRIC, encoding="utf-8")
    return path


def rows_by_id(sheet: Any) -> dict[str, int]:
    return {str(r[0].value): r[0].row for r in sheet.iter_rows() if r[0].value}


def fill(path: Path, values: dict[str, Any], claims: dict[str, Any] | None = None) -> None:
    """Type values into the form's 填报值 cells, as a person would in Excel."""
    book = openpyxl.load_workbook(path)
    claims_sheet = book[CLAIMS_SHEET if CLAIMS_SHEET in book.sheetnames else "Self-evaluation"]
    for sheet, wanted in ((book.worksheets[0], values), (claims_sheet, claims or {})):
        for key, row in rows_by_id(sheet).items():
            if key in wanted:
                sheet.cell(row=row, column=4, value=wanted[key])
    book.save(path)


# --------------------------------------------------------------------------- layout


def test_the_form_has_sections_from_the_rubrics_groups(rubric_path: Path, tmp_path: Path) -> None:
    rubric = perfscore.load_rubric(rubric_path)
    assert input_sections(rubric) == [
        ("人员", ["staff_authorized", "staff_actual"]),
        ("预算", ["budget", "spend"]),
        ("其他", ["published", "note"]),
    ]
    form = tmp_path / "form.xlsx"
    xlsx_template(rubric, form)
    sheet = openpyxl.load_workbook(form)[DATA_SHEET]
    shown = [
        (r[0].value, r[1].value, r[4].value)
        for r in sheet.iter_rows(min_row=3)
        if r[0].value or r[1].value
    ]
    assert shown == [
        (None, "填报单位", None),
        ("unit.name", "被评价单位", None),
        ("unit.code", "单位代码", None),
        ("unit.year", "年度", None),
        ("unit.filled_by", "填报人", None),
        ("unit.filled_on", "填报日期", None),
        ("输入项", "名称", "必填"),
        (None, "人员", None),
        ("staff_authorized", "编制数", "必填"),
        ("staff_actual", "实际在职人数", "必填"),
        (None, "预算", None),
        ("budget", "调整后预算数", "必填"),
        ("spend", "支出数", "必填"),
        (None, "其他", None),
        ("published", "已公开", "必填"),
        ("note", "备注", "选填"),
    ]
    assert sheet["B1"].value == "填报表测试　基础数据表".replace("　", " ")


def test_without_groups_the_inputs_stand_under_no_heading() -> None:
    rubric = perfscore.load_rubric(ROOT / "tests" / "data" / "check" / "clean.yaml")
    assert input_sections(rubric) == [(None, list(rubric.inputs))]


def test_the_seed_rubric_declares_a_group_for_every_input() -> None:
    rubric = perfscore.load_rubric(SHAOYANG)
    headings = [h for h, _ in input_sections(rubric)]
    assert headings[:4] == ["人员", "财政拨款支出", "预算", "“三公”经费"]
    assert "其他" not in headings
    assert all(spec.group for spec in rubric.inputs.values())


def test_the_chinese_form_says_nothing_in_english(rubric_path: Path, tmp_path: Path) -> None:
    form = tmp_path / "form.xlsx"
    xlsx_template(perfscore.load_rubric(rubric_path), form)
    book = openpyxl.load_workbook(form)
    latin = re.compile(r"[A-Za-z]{2,}")
    for sheet in book.worksheets:
        if sheet.sheet_state != "visible":
            continue
        hidden = {letter for letter, dim in sheet.column_dimensions.items() if dim.hidden}
        for row in sheet.iter_rows():
            if sheet.row_dimensions[row[0].row].hidden:
                continue
            for cell in row:
                text = cell.value
                if not isinstance(text, str) or cell.column_letter in hidden:
                    continue
                text = re.sub(r"perfscore \w+|form-test|RUBRIC|\.xlsx", "", text)
                assert not latin.search(text), (sheet.title, cell.coordinate, cell.value)
    notes = {r[0].value: r[5].value for r in book[DATA_SHEET].iter_rows() if r[0].value}
    assert notes["staff_authorized"] == "人数或个数；不小于1"
    assert notes["budget"] == "金额；不小于0.01"
    assert notes["published"] == "判断项；选“是”或“否”"


def test_page_setup_and_protection(rubric_path: Path, tmp_path: Path) -> None:
    form = tmp_path / "form.xlsx"
    xlsx_template(perfscore.load_rubric(rubric_path), form)
    book = openpyxl.load_workbook(form)
    assert FORM_MARKER in book.defined_names
    sheet = book[DATA_SHEET]
    setup = sheet.page_setup
    assert (setup.paperSize, setup.fitToWidth, setup.fitToHeight) == (9, 1, 0)  # 9: A4
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    rows = rows_by_id(sheet)
    assert sheet.print_title_rows == f"${rows['输入项']}:${rows['输入项']}"
    assert sheet.page_margins.bottom > sheet.page_margins.footer
    assert "&P" in sheet.oddFooter.center.text
    for book_sheet in book.worksheets:
        if book_sheet.sheet_state == "visible":
            assert book_sheet.protection.sheet, book_sheet.title
            assert not book_sheet.protection.password
    open_cells = {
        c.coordinate
        for row in sheet.iter_rows()
        for c in row
        if not c.protection.locked and not isinstance(c, MergedCell)
    }
    assert open_cells == {f"D{rows[k]}" for k in rows if k != "输入项"}
    claims = book[CLAIMS_SHEET]
    assert claims.protection.sheet
    assert not claims[f"D{rows_by_id(claims)['claimed.total']}"].protection.locked
    assert claims[f"C{rows_by_id(claims)['claimed.total']}"].protection.locked


# --------------------------------------------------------------------------- checks


def _validations(sheet: Any) -> dict[str, Any]:
    return {
        str(rng.coord): dv
        for dv in sheet.data_validations.dataValidation
        for rng in dv.sqref.ranges
    }


def test_a_check_becomes_a_formula_validation_on_the_cells_it_reads(
    rubric_path: Path, tmp_path: Path
) -> None:
    form = tmp_path / "form.xlsx"
    xlsx_template(perfscore.load_rubric(rubric_path), form)
    sheet = openpyxl.load_workbook(form)[DATA_SHEET]
    rows = rows_by_id(sheet)
    posts, staff = f"$D${rows['staff_authorized']}", f"$D${rows['staff_actual']}"
    dvs = _validations(sheet)
    on_staff = dvs[f"D{rows['staff_actual']}"]
    assert on_staff.type == "custom"
    assert on_staff.formula1 == (
        f"AND(AND(ISNUMBER({staff}),{staff}>=0,{staff}={'INT'}({staff})),"
        f"IFERROR(OR(COUNTA({staff},{posts})<2,NOT({staff}>{posts})),TRUE))"
    )
    assert "实有人数超过编制数" in on_staff.error
    assert dvs[f"D{rows['staff_authorized']}"].type == "custom"
    # a check that reads a derived value is left to perfscore: the cells keep their bounds
    assert (dvs[f"D{rows['budget']}"].type, dvs[f"D{rows['budget']}"].formula1) == (
        "decimal",
        "0.01",
    )


SYMBOLS = {
    "a": Symbol(ValueType.NUMBER),
    "b": Symbol(ValueType.NUMBER),
    "ok": Symbol(ValueType.BOOLEAN),
    "level": Symbol(ValueType.TEXT, ("好", "差")),
    "d": Symbol(ValueType.NUMBER),
}


@pytest.mark.parametrize(
    ("formula", "excel"),
    [
        ("a > b", "$D$1>$D$2"),
        ("a != b and not ok", 'AND($D$1<>$D$2,NOT(($D$3="是")))'),
        ("0 <= a < b", "AND(0<=$D$1,$D$1<$D$2)"),
        ("abs(a - b) > 0.5 or level == '差'", 'OR(ABS(($D$1-$D$2))>0.5,$D$4="差")'),
        ("round(a / b, 2) ** 2 >= 1", "(ROUND(($D$1/$D$2),2)^2)>=1"),
        ("(a if ok else b) > clamp(floor(a), 0, ceil(b))", None),
        ("d > 1", None),
    ],
)
def test_formulas_in_excels_words(formula: str, excel: str | None) -> None:
    from perfscore.model import InputSpec

    specs = {
        "a": InputSpec(label="甲", kind="number"),
        "b": InputSpec(label="乙", kind="number"),
        "ok": InputSpec(label="是否", kind="boolean"),
        "level": InputSpec(label="档次", kind="choice", options=("好", "差")),
    }
    cells = {name: (f"$D${i}", spec) for i, (name, spec) in enumerate(specs.items(), start=1)}
    expr = compile_formula(formula, SYMBOLS).expr
    got = excel_formula(expr, cells)
    if formula.startswith("(a if"):
        assert got == 'IF(($D$3="是"),$D$1,$D$2)>MIN(MAX(INT($D$1),0),(-INT(-$D$2)))'
    else:
        assert got == excel  # d is no cell of the form (a derived value): None


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice is not installed")
def test_a_spreadsheet_program_evaluates_the_check_formulas(
    rubric_path: Path, tmp_path: Path
) -> None:
    """Each custom validation, put into a cell as a formula, is evaluated by LibreOffice:
    true for figures that agree or are not all filled in, false for figures that disagree
    or break a bound."""
    form = tmp_path / "form.xlsx"
    xlsx_template(perfscore.load_rubric(rubric_path), form)
    cases = [  # (编制数, 实际在职人数, formula on 实际在职人数 holds)
        (18, 17, True),
        (18, 18, True),
        (18, 19, False),
        (None, 30, True),
        (18, -1, False),
        (18, 2.5, False),
    ]
    book = openpyxl.load_workbook(form)
    sheet = book[DATA_SHEET]
    rows = rows_by_id(sheet)
    formula = _validations(sheet)[f"D{rows['staff_actual']}"].formula1
    probe = book.create_sheet("probe")
    for i, (posts, staff, _) in enumerate(cases, start=1):
        probe.cell(row=i, column=4, value=posts)
        probe.cell(row=i, column=5, value=staff)
        moved = formula.replace(f"$D${rows['staff_authorized']}", f"$D${i}").replace(
            f"$D${rows['staff_actual']}", f"$E${i}"
        )
        probe.cell(row=i, column=1, value=f"={moved}")
    probe_path = tmp_path / "probe.xlsx"
    book.save(probe_path)
    converted = soffice(tmp_path, probe_path, "xlsx")
    computed = openpyxl.load_workbook(converted, data_only=True)["probe"]
    got = [computed.cell(row=i, column=1).value for i in range(1, len(cases) + 1)]
    assert got == [holds for _, _, holds in cases]


# --------------------------------------------------------------------------- rubric key


def test_a_group_on_a_table_column_is_refused(tmp_path: Path) -> None:
    text = RUBRIC.replace(
        "  note: {label: 备注, kind: text, required: false}\n",
        "  rows:\n    label: 明细\n    kind: table\n    required: false\n    columns:\n"
        "      name: {label: 名称, kind: text, group: 人员}\n",
    )
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RubricValidationError) as caught:
        perfscore.load_rubric(path)
    issue = caught.value.issues[0]
    assert "group" in issue.message
    assert issue.location.line is not None


def test_an_extending_rubric_keeps_and_sets_groups(rubric_path: Path, tmp_path: Path) -> None:
    child = tmp_path / "child.yaml"
    child.write_text(
        "extends: rubric.yaml\nid: form-child\n"
        "inputs:\n  vehicles: {label: 公务用车数, kind: count, group: 资产}\n"
        "changes:\n  - set_input: published\n    group: 公开\n",
        encoding="utf-8",
    )
    rubric = perfscore.load_rubric(child)
    assert [h for h, _ in input_sections(rubric)] == ["人员", "预算", "公开", "资产", "其他"]


# --------------------------------------------------------------------------- read back


def test_a_filled_form_is_one_department_for_score_and_report(
    rubric_path: Path, tmp_path: Path
) -> None:
    form = tmp_path / "form.xlsx"
    assert run("template", str(rubric_path), "-f", "xlsx", "-o", str(form)).exit_code == 0
    assert is_form(form)
    fill(
        form,
        {
            "unit.name": "某某局",
            "unit.code": "431202",
            "unit.year": 2024,
            "unit.filled_by": "张三",
            "unit.filled_on": datetime.date(2024, 3, 10),  # typed as a date
            "staff_authorized": 18,
            "staff_actual": 20,
            "budget": 100,
            "spend": 90.5,
            "published": "是",
        },
        {"claimed.total": 4, "claimed.grade": "不合格"},
    )
    scored = run("score", str(rubric_path), str(form), "-f", "json")
    assert scored.exit_code == 0, scored.output
    data = json.loads(scored.stdout)
    assert (data["total"], data["grade"]) == ("4.00", "不合格")
    assert data["unit"] == {
        "name": "某某局",
        "code": "431202",
        "year": "2024",
        "filled_by": "张三",
        "filled_on": "2024-03-10",
    }
    report = run("report", str(rubric_path), str(form))
    assert report.exit_code == 0, report.output
    assert "某某局" in report.stdout
    assert "4.00" in report.stdout
    inputs = read_template_xlsx(form)
    assert inputs["claimed.total"] == 4
    assert inputs["spend"] == Decimal("90.5")


def test_report_still_takes_a_workbook_of_departments_for_a_population(
    rubric_path: Path, tmp_path: Path
) -> None:
    table = tmp_path / "departments.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["id", "staff_authorized", "staff_actual", "budget", "spend", "published"])
    sheet.append(["a", 18, 17, 100, 90, "是"])
    book.save(table)
    assert not is_form(table)
    result = run("report", str(rubric_path), str(table))
    assert result.exit_code == 2
    assert "--out-dir" in result.output


@pytest.mark.lang("en")
def test_the_english_form(rubric_path: Path, tmp_path: Path) -> None:
    form = tmp_path / "form.xlsx"
    assert (
        run("--lang", "en", "template", str(rubric_path), "-f", "xlsx", "-o", str(form)).exit_code
        == 0
    )
    book = openpyxl.load_workbook(form)
    assert book.sheetnames[0] == "Inputs"
    sheet = book.worksheets[0]
    notes = {r[0].value: (r[4].value, r[5].value) for r in sheet.iter_rows() if r[0].value}
    assert notes["staff_authorized"] == ("required", "count, ≥ 1")
    assert notes["note"] == ("optional", "text")
    fill(
        form,
        {"staff_authorized": 18, "staff_actual": 17, "budget": 1, "spend": 1, "published": "yes"},
    )
    scored = run("score", str(rubric_path), str(form), "-f", "json")
    assert scored.exit_code == 0, scored.output
    assert json.loads(scored.stdout)["total"] == "10.00"


_FIGURE = st.decimals(min_value=0, max_value=99999, places=2, allow_nan=False)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    posts=st.integers(1, 500),
    staff=st.integers(0, 600),
    budget=_FIGURE.filter(lambda d: d >= Decimal("0.01")),
    spend=_FIGURE,
    published=st.booleans(),
    note=st.one_of(st.none(), st.text(st.characters(categories=["Lo", "Nd"]), min_size=1)),
)
def test_any_values_typed_into_the_form_score_as_the_same_values_given_directly(
    tmp_path_factory: pytest.TempPathFactory,
    posts: int,
    staff: int,
    budget: Decimal,
    spend: Decimal,
    published: bool,
    note: str | None,
) -> None:
    folder = tmp_path_factory.mktemp("roundtrip")
    rubric = perfscore.compile_rubric(perfscore.loads_rubric(RUBRIC))
    form = folder / "form.xlsx"
    xlsx_template(rubric.rubric, form)
    values: dict[str, Any] = {
        "staff_authorized": posts,
        "staff_actual": staff,
        "budget": budget,
        "spend": spend,
        "published": published,
    }
    if note is not None:
        values["note"] = note
    typed = {k: "是" if v is True else "否" if v is False else v for k, v in values.items()}
    typed = {k: float(v) if isinstance(v, Decimal) else v for k, v in typed.items()}
    fill(form, typed)
    from_form = rubric.score(read_template_xlsx(form))
    direct = rubric.score(values)
    assert (from_form.total, from_form.grade) == (direct.total, direct.grade)
    assert from_form.scores == direct.scores


def test_the_seed_departments_form_scores_as_its_yaml(tmp_path: Path) -> None:
    import yaml

    seed = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    form = tmp_path / "seed.xlsx"
    assert run("template", str(SHAOYANG), "-f", "xlsx", "-o", str(form)).exit_code == 0
    figures = {k: v for k, v in seed.items() if not isinstance(v, dict)}
    typed = {k: "是" if v is True else "否" if v is False else v for k, v in figures.items()}
    fill(form, {**typed, "unit.name": "邵阳市大祥区应急管理局"})
    from_form = json.loads(run("score", str(SHAOYANG), str(form), "-f", "json").stdout)
    from_yaml = json.loads(run("score", str(SHAOYANG), str(SEED), "-f", "json").stdout)
    assert (from_form["total"], from_form["grade"]) == (from_yaml["total"], from_yaml["grade"])
    assert from_form["unit"]["name"] == "邵阳市大祥区应急管理局"


def test_score_with_out_does_not_take_a_form_for_a_table_of_departments(
    rubric_path: Path, tmp_path: Path
) -> None:
    form = tmp_path / "form.xlsx"
    xlsx_template(perfscore.load_rubric(rubric_path), form)
    result = run("score", str(rubric_path), str(form), "--out", str(tmp_path / "scores.csv"))
    assert result.exit_code == 2
    assert "--out" in result.output
    assert not (tmp_path / "scores.csv").exists()


def test_table_sheets_are_named_by_their_labels_and_read_back(tmp_path: Path) -> None:
    columns = "columns: {name: {label: 名称, kind: text}, amount: {label: 金额, kind: money}}"
    text = RUBRIC.replace(
        "  note: {label: 备注, kind: text, required: false}\n",
        f"  rows_a: {{label: '明细[1]: 项目/资金', kind: table, required: false, {columns}}}\n"
        f"  rows_b: {{label: '明细1 项目资金', kind: table, required: false, {columns}}}\n"
        f"  rows_c: {{label: '明细1 项目资金', kind: table, required: false, {columns}}}\n",
    )
    rubric = perfscore.loads_rubric(text)
    form = tmp_path / "form.xlsx"
    xlsx_template(rubric, form)
    book = openpyxl.load_workbook(form)
    assert book.sheetnames[1:4] == ["明细1 项目资金", "明细1 项目资金（2）", "明细1 项目资金（3）"]
    table = book["明细1 项目资金（2）"]
    assert table.row_dimensions[1].hidden  # the column ids, read back
    assert str(table["A2"].value).startswith("名称")
    table["A3"], table["B3"] = "培训", 12.5
    book.save(form)
    assert read_template_xlsx(form)["rows_b"] == [{"name": "培训", "amount": Decimal("12.5")}]
