"""Input templates for a rubric: a YAML file to fill in, or an XLSX data-collection form.

:func:`yaml_template` lists every declared input in declaration order with its value left
empty, each under a comment that gives its Chinese label, kind, unit and bounds (and the
options of a choice). :func:`xlsx_template` writes the same as a 基础数据表: one row per
input with columns 输入项 (id), 名称 (label), 单位 (unit), 值 (value) and 说明, with data
validation on the value cells (lists for choices and 是/否, decimal or whole-number
ranges for figures). A table input gets a sheet of its own, one row per table row. A
自评表 sheet holds the unit's fields (被评价单位, 单位代码, ...) and a 自评得分 cell for every
indicator, the total and the grade, for ``perfscore review``.

:func:`read_template_xlsx` reads a filled-in form back into an inputs mapping, so that
``perfscore score RUBRIC filled.xlsx`` scores it directly.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from perfscore._escape import defuse_workbook, xml_text
from perfscore._files import FileRefused, read_bounded
from perfscore._numbers import to_str
from perfscore.errors import InputError, Issue, Location
from perfscore.i18n import msg, tr
from perfscore.methods import Judged
from perfscore.model import NUMERIC_KINDS, InputSpec, Rubric
from perfscore.population.readers import (
    WorkbookProblem,
    check_workbook,
    choose_sheet,
    load_workbook,
)

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

__all__ = [
    "CLAIMS_SHEET",
    "DATA_SHEET",
    "HEADERS",
    "is_form",
    "read_template_xlsx",
    "xlsx_template",
    "yaml_template",
]

#: The name of the form's main sheet, and its column headings.
DATA_SHEET: Final = "基础数据表"
HEADERS: Final = ("输入项", "名称", "单位", "值", "说明")
_ID_COLUMN, _VALUE_COLUMN = 1, 4
#: A filled-in form is read whole, so it is bounded: the file, each part unpacked, and
#: each sheet's rows and columns (a rubric has at most 10 000 values in all).
MAX_FORM_BYTES: Final = 16 * 1024 * 1024
MAX_FORM_PART: Final = 16 * 1024 * 1024
MAX_FORM_ROWS: Final = 20_000
MAX_FORM_COLUMNS: Final = 200
_OPTIONS_SHEET: Final = "选项"
_ABOUT_SHEET: Final = "填表说明"
_YES, _NO = "是", "否"
_KIND_WORDS: Final = {
    "number": "数值",
    "integer": "整数",
    "money": "金额",
    "percent": "百分比",
    "count": "人数/个数",
    "boolean": "是/否",
    "choice": "选项",
    "text": "文本",
    "table": "表格",
}


def _bounds_text(spec: InputSpec) -> str | None:
    low, high = spec.lower_bound, spec.max
    if low is not None and high is not None:
        return f"{to_str(low)} to {to_str(high)}"
    if low is not None:
        return f"≥ {to_str(low)}"
    if high is not None:
        return f"≤ {to_str(high)}"
    return None


def describe_input(spec: InputSpec) -> str:
    """One line about an input: kind, unit, bounds, options, whether it may be left out."""
    parts: list[str] = [spec.kind]
    unit = spec.display_unit
    if unit:
        parts.append(unit)
    bounds = _bounds_text(spec)
    if bounds:
        parts.append(bounds)
    if spec.kind == "choice":
        parts.append("one of: " + " | ".join(spec.options or ()))
    elif spec.kind == "boolean":
        parts.append("true / false")
    if spec.kind == "percent":
        parts.append("in points: 95.1 means 95.1%")
    if not spec.required:
        parts.append("optional (may be left empty)")
    if spec.default is not None:
        default = spec.default
        shown = (
            ("true" if default else "false")
            if isinstance(default, bool)
            else to_str(default)
            if isinstance(default, Decimal)
            else str(default)
        )
        parts.append(f"default {shown}")
    return ", ".join(parts)


def _flat(text: str) -> str:
    return xml_text(" ".join(text.split()))


# --------------------------------------------------------------------------- YAML


def yaml_template(rubric: Rubric, *, rubric_path: str | None = None) -> str:
    """A YAML inputs file for ``rubric`` with every value left empty, each input under a
    comment giving its label, kind, unit and bounds."""
    target = rubric_path or "RUBRIC"
    lines = [
        f"# Inputs for {rubric.title} ({rubric.id}, version {rubric.version}).",
        "# Fill in each value after the colon; an empty value is missing.",
        f"# Score with: perfscore score {target} THIS_FILE",
    ]
    for name, spec in rubric.inputs.items():
        lines.append("")
        lines.append(f"# {_flat(spec.label)} — {describe_input(spec)}")
        if spec.description:
            lines.append(f"#   {_flat(spec.description)}")
        if spec.source:
            lines.append(f"#   来源: {_flat(spec.source)}")
        if spec.kind == "table":
            columns = spec.columns or {}
            lines.append("#   one row per line, e.g.:")
            example = ", ".join(f"{k}: …" for k in columns)
            lines.append(f"#   - {{{example}}}")
            for key, column in columns.items():
                lines.append(f"#     {key}: {_flat(column.label)} — {describe_input(column)}")
        lines.append(f"{name}:")
    judged = [n for n in rubric.leaves if isinstance(n.scoring, Judged)]
    if judged:  # rows scored by people: their scores are entered, not computed
        lines += ["", f"# {tr('template.judged_section')}", "judged:"]
        for node in judged:
            method = node.scoring
            assert isinstance(method, Judged)
            note = tr(
                "template.judged_row" if method.aggregate is None else "template.judged_panel",
                name=_flat(node.name),
                weight=to_str(node.weight),
                min=method.min_judges,
            )
            if node.todo:
                note += f"；todo: {_flat(node.todo)}"
            lines += [f"  # {note}", f"  {node.id}:"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- XLSX


def _validation(spec: InputSpec, options_ref: str | None) -> Any:
    from openpyxl.worksheet.datavalidation import DataValidation

    label = _flat(spec.label)[:32]
    if spec.kind == "boolean":
        dv = DataValidation(type="list", formula1=f'"{_YES},{_NO}"', allow_blank=True)
        dv.error = f"{label}: 请选择 {_YES} 或 {_NO}"
    elif spec.kind == "choice" and options_ref is not None:
        dv = DataValidation(type="list", formula1=options_ref, allow_blank=True)
        dv.error = f"{label}: 请从下拉列表中选择"
    elif spec.kind in NUMERIC_KINDS:
        whole = spec.kind in ("integer", "count")
        low, high = spec.lower_bound, spec.max
        kind: Literal["whole", "decimal"] = "whole" if whole else "decimal"
        if low is not None and high is not None:
            dv = DataValidation(
                type=kind, operator="between", formula1=to_str(low), formula2=to_str(high)
            )
        elif low is not None:
            dv = DataValidation(type=kind, operator="greaterThanOrEqual", formula1=to_str(low))
        elif high is not None:
            dv = DataValidation(type=kind, operator="lessThanOrEqual", formula1=to_str(high))
        else:
            dv = DataValidation(
                type=kind, operator="between", formula1="-999999999999", formula2="999999999999"
            )
        dv.allow_blank = True
        bounds = _bounds_text(spec)
        dv.error = f"{label}: 请填写{'整数' if whole else '数字'}" + (
            f" ({bounds})" if bounds else ""
        )
    else:
        return None
    dv.errorTitle = "输入有误"
    dv.showErrorMessage = True
    dv.prompt = describe_input(spec)[:255]
    dv.promptTitle = label
    dv.showInputMessage = True
    return dv


def _style_header(sheet: Worksheet, count: int) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    fill = PatternFill("solid", fgColor="DDEBF7")
    for column in range(1, count + 1):
        cell = sheet.cell(row=1, column=column)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center", vertical="center")


def xlsx_template(rubric: Rubric, path: str | Path, *, rubric_path: str | None = None) -> None:
    """Write an XLSX data-collection form (基础数据表) for ``rubric`` to ``path``."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter, quote_sheetname

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = DATA_SHEET
    sheet.append(list(HEADERS))
    _style_header(sheet, len(HEADERS))
    options_sheet = None
    wrap = Alignment(wrap_text=True, vertical="top")
    value_fill = PatternFill("solid", fgColor="FFF2CC")
    tables: list[tuple[str, InputSpec]] = []
    for row, (name, spec) in enumerate(rubric.inputs.items(), start=2):
        note = describe_input(spec)
        if spec.description:
            note += "。" + _flat(spec.description)
        if spec.kind == "table":
            note = f"见工作表 {_table_sheet_name(name)}（每行一条）。" + note
            tables.append((name, spec))
        sheet.append([name, _flat(spec.label), _flat(spec.display_unit or ""), None, _flat(note)])
        for column in (2, 5):
            sheet.cell(row=row, column=column).alignment = wrap
        value = sheet.cell(row=row, column=_VALUE_COLUMN)
        if spec.kind == "table":
            continue
        value.fill = value_fill
        if spec.kind in ("choice", "text"):
            value.number_format = "@"
        elif spec.kind in ("integer", "count"):
            value.number_format = "0"
        elif spec.kind in ("money", "percent"):
            value.number_format = "0.00"
        options_ref = None
        if spec.kind == "choice":
            if options_sheet is None:
                options_sheet = book.create_sheet(_OPTIONS_SHEET)
                options_sheet.sheet_state = "hidden"
            column = options_sheet.max_column + (1 if options_sheet["A1"].value else 0)
            letter = get_column_letter(column)
            for i, option in enumerate(spec.options or (), start=1):
                options_sheet.cell(row=i, column=column, value=_flat(option))
            count = len(spec.options or ())
            options_ref = f"{quote_sheetname(_OPTIONS_SHEET)}!${letter}$1:${letter}${count}"
        dv = _validation(spec, options_ref)
        if dv is not None:
            sheet.add_data_validation(dv)
            dv.add(value.coordinate)
    for letter, width in zip("ABCDE", (26, 40, 8, 16, 60), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    for name, spec in tables:
        _table_sheet(book, name, spec)
    _claims_sheet(book, rubric)
    about = book.create_sheet(_ABOUT_SHEET)
    about.column_dimensions["A"].width = 100
    target = rubric_path or "RUBRIC"
    for line in (
        f"{rubric.title}",
        f"评分表 id: {rubric.id}    版本: {rubric.version}",
        f"在“{DATA_SHEET}”的“值”列填写各项数据；可不填的项留空。",
        "是/否 项从下拉列表选择；百分比按百分点填写（95.1 表示 95.1%）；金额单位见“单位”列。",
        "请勿修改“输入项”列，它与评分表中的输入项一一对应。",
        f"评分: perfscore score {target} 本文件.xlsx",
        tr("template.claims_about", sheet=CLAIMS_SHEET, rubric=target),
    ):
        about.append([_flat(line)])
    about["A1"].font = Font(bold=True)
    book.active = 0
    defuse_workbook(book)
    book.save(path)


#: The form's sheet of the unit's fields and the department's own scores (自评表).
CLAIMS_SHEET: Final = "自评表"
CLAIMS_HEADERS: Final = ("项目", "名称", "分值", "自评得分", "说明")
_UNIT_ROWS: Final = (
    ("unit.name", "review.unit"),
    ("unit.code", "review.unit.code"),
    ("unit.year", "review.unit.year"),
    ("unit.filled_by", "review.unit.filled_by"),
    ("unit.filled_on", "review.unit.filled_on"),
)


def _claims_sheet(book: Any, rubric: Rubric) -> None:
    """The 自评表: the unit's fields, then a 自评得分 cell for every indicator (indented by
    level), the total and the grade; a judged leaf gets a row for its entered score too.
    Each row's id is the dotted key it fills (``unit.name``, ``claimed.staff_control``)."""
    from openpyxl.styles import Alignment
    from openpyxl.worksheet.datavalidation import DataValidation

    from perfscore.methods import Judged

    sheet = book.create_sheet(CLAIMS_SHEET)
    sheet.append(list(CLAIMS_HEADERS))
    _style_header(sheet, len(CLAIMS_HEADERS))
    for key, label in _UNIT_ROWS:
        sheet.append([key, tr(label), None, None, None])
        sheet.cell(row=sheet.max_row, column=_VALUE_COLUMN).number_format = "@"

    def walk(nodes: Any, depth: int) -> None:
        for node in nodes:
            sheet.append(
                [f"claimed.{node.id}", "　" * depth + _flat(node.name), node.weight, None, None]
            )
            cell = sheet.cell(row=sheet.max_row, column=_VALUE_COLUMN)
            cell.number_format = "0.00"
            dv = DataValidation(
                type="decimal", operator="between", formula1="0", formula2=to_str(node.weight)
            )
            sheet.add_data_validation(dv)
            dv.add(cell.coordinate)
            if isinstance(node.scoring, Judged):
                sheet.append(
                    [
                        f"judged.{node.id}",
                        "　" * depth + _flat(node.name),
                        node.weight,
                        None,
                        tr("template.judged_note"),
                    ]
                )
            walk(node.children or (), depth + 1)

    walk(rubric.indicators, 0)
    sheet.append(["claimed.total", tr("template.total"), rubric.total, None, None])
    sheet.append(["claimed.grade", tr("template.grade"), None, None, None])
    grades = DataValidation(
        type="list", formula1='"' + ",".join(g.name for g in rubric.grades) + '"'
    )
    sheet.add_data_validation(grades)
    grades.add(sheet.cell(row=sheet.max_row, column=_VALUE_COLUMN).coordinate)
    for letter, width in zip("ABCDE", (30, 40, 8, 12, 40), strict=True):
        sheet.column_dimensions[letter].width = width
    for row in sheet.iter_rows(min_row=2):
        row[1].alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"


def _table_sheet_name(name: str) -> str:
    return name[:31]


def _table_sheet(book: Any, name: str, spec: InputSpec) -> None:
    from openpyxl.styles import Alignment

    sheet = book.create_sheet(_table_sheet_name(name))
    columns = spec.columns or {}
    sheet.append(list(columns))
    sheet.append([_flat(f"{c.label}（{describe_input(c)}）") for c in columns.values()])
    _style_header(sheet, len(columns))
    for i, column in enumerate(columns.values(), start=1):
        cell = sheet.cell(row=2, column=i)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        letter = cell.column_letter
        sheet.column_dimensions[letter].width = 24
        dv = _validation(column, None)
        if dv is not None:
            sheet.add_data_validation(dv)
            dv.add(f"{letter}3:{letter}1000")
    sheet.freeze_panes = "A3"


# --------------------------------------------------------------------------- reading


def _cell_value(value: Any, number_format: str | None) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        number = Decimal(repr(value))
        if number_format and number_format.endswith("%"):
            number *= 100  # typed as "95.1%": the value is the fraction 0.951
        return number
    if isinstance(value, int):
        if number_format and number_format.endswith("%"):
            return value * 100
        return value
    if isinstance(value, str):
        text = value.strip()
        return text or None
    return value


def is_form(path: str | Path) -> bool:
    """Whether the workbook at ``path`` is a form made by :func:`xlsx_template` (one
    department), rather than a table of departments. False for a file that is no workbook."""
    import openpyxl

    try:
        check_workbook(path)
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of error for a bad file
        return False
    try:
        if DATA_SHEET in book.sheetnames:
            return True
        sheet = book.worksheets[0]
        header = next(sheet.iter_rows(max_row=1, values_only=True), ())
        cells = [str(h).strip() if h is not None else "" for h in header[:4]]
        return cells == list(HEADERS[:4])
    finally:
        book.close()


def read_template_xlsx(path: str | Path) -> dict[str, Any]:
    """Read a filled-in form made by :func:`xlsx_template` back into an inputs mapping.

    Empty values are left out (missing); numbers come back as exact decimals of what the
    cell shows (a cell formatted as a percentage gives points: 95.1% -> 95.1); 是/否
    stay text, which the rubric's boolean inputs accept. Raises :class:`InputError` when
    the file is not such a form.
    """
    file = str(path)
    try:
        raw = read_bounded(path, MAX_FORM_BYTES)
    except FileRefused as refused:
        raise InputError([refused.issue]) from None
    try:
        check_workbook(path, streamed=False, handle=io.BytesIO(raw), part_limit=MAX_FORM_PART)
        book = load_workbook(path, io.BytesIO(raw))
    except Exception as error:  # openpyxl raises many kinds of error for a bad file
        raise InputError(
            [
                Issue.of(
                    "input.xlsx",
                    Location(file=file),
                    message=msg("input.xlsx_unreadable", detail=str(error)),
                )
            ]
        ) from None
    try:
        data_sheet = book[DATA_SHEET] if DATA_SHEET in book.sheetnames else None
        if data_sheet is not None and data_sheet.sheet_state == "visible":
            sheet = data_sheet
        else:  # never a hidden sheet unasked
            try:
                sheet = choose_sheet(book, None, path)
            except WorkbookProblem as error:
                issue = Issue.of(
                    "input.xlsx",
                    Location(file=file),
                    message=msg("input.xlsx_unreadable", detail=str(error)),
                )
                raise InputError([issue]) from None
        _check_size(sheet, file)
        header = [c.value for c in next(sheet.iter_rows(max_row=1, max_col=len(HEADERS)), ())]
        if [str(h).strip() if h is not None else "" for h in header[:4]] != list(HEADERS[:4]):
            raise InputError(
                [
                    Issue.of(
                        "input.xlsx",
                        Location(file=file),
                        message=msg(
                            "input.not_form", sheet=repr(sheet.title), headers=", ".join(HEADERS)
                        ),
                        hint=msg("input.not_form.hint"),
                    )
                ]
            )
        out: dict[str, Any] = {}
        for row in sheet.iter_rows(min_row=2, max_col=len(HEADERS)):
            key = row[_ID_COLUMN - 1].value
            if key is None or not str(key).strip():
                continue
            name = str(key).strip()
            if len(row) >= _VALUE_COLUMN:
                cell = row[_VALUE_COLUMN - 1]
                value = _cell_value(cell.value, cell.number_format)
            else:  # pragma: no cover - openpyxl pads rows to the sheet's width
                value = None
            if name in book.sheetnames and name != sheet.title and value is None:
                rows = _read_table(book[name], file)
                if rows:
                    out[name] = rows
                continue
            if value is not None:
                out[name] = value
        if CLAIMS_SHEET in book.sheetnames:  # unit fields and claims, by dotted key
            for row in book[CLAIMS_SHEET].iter_rows(min_row=2):
                key = row[_ID_COLUMN - 1].value
                if key is None or len(row) < _VALUE_COLUMN:
                    continue
                cell = row[_VALUE_COLUMN - 1]
                value = _cell_value(cell.value, cell.number_format)
                if value is not None and str(key).strip():
                    out[str(key).strip()] = value
        return out
    finally:
        book.close()


def _check_size(sheet: Any, file: str) -> None:
    """Refuse a form sheet larger than a form may be (``input.form_too_large``)."""
    if sheet.max_row > MAX_FORM_ROWS or sheet.max_column > MAX_FORM_COLUMNS:
        raise InputError(
            [
                Issue.of(
                    "input.form_too_large",
                    Location(file=file),
                    sheet=sheet.title,
                    rows=str(sheet.max_row),
                    columns=str(sheet.max_column),
                    max_rows=str(MAX_FORM_ROWS),
                    max_columns=str(MAX_FORM_COLUMNS),
                )
            ]
        )


def _read_table(sheet: Any, file: str) -> list[dict[str, Any]]:
    _check_size(sheet, file)
    rows = list(sheet.iter_rows())
    if not rows:
        return []
    columns = [str(c.value).strip() if c.value is not None else "" for c in rows[0]]
    out: list[dict[str, Any]] = []
    for row in rows[2:]:
        record: Mapping[str, Any] = {
            column: _cell_value(cell.value, cell.number_format)
            for column, cell in zip(columns, row, strict=False)
            if column
        }
        if any(v is not None for v in record.values()):
            out.append({k: v for k, v in record.items() if v is not None})
    return out
