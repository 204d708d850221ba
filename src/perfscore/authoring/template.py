"""Input templates for a rubric: a YAML file to fill in, or an XLSX data-collection form.

:func:`yaml_template` lists every declared input in declaration order with its value left
empty, each under a comment that gives its Chinese label, kind, unit and bounds (and the
options of a choice). :func:`xlsx_template` writes a 基础数据表 in the language in force:
the unit's fields at the top (被评价单位, 单位代码, 年度, 填报人, 填报日期: the inputs'
``unit:`` section), then the inputs in sections by their ``group`` (:func:`input_sections`),
one row each with 名称, 单位, 填报值, 必填/选填 and 说明, the input ids in a hidden first
column. Value cells carry data validation (lists for choices and 是/否, whole-number or
decimal ranges for figures, and the rubric's checks that read only inputs as formulas,
:func:`excel_formula`); every sheet is protected, without a password, but for the cells
to fill in; pages are A4, as wide as the sheet, with the heading row repeated. A table
input gets a sheet of its own; a 自评表 sheet holds a 自评得分 cell for every indicator, the
total and the grade, for ``perfscore review``. The workbook carries the defined name
:data:`FORM_MARKER`.

:func:`read_template_xlsx` reads a filled-in form back into one department's inputs, so
that ``perfscore score RUBRIC filled.xlsx`` and ``perfscore report RUBRIC filled.xlsx``
take it directly; :func:`is_form` tells a form from a table of departments.
"""

from __future__ import annotations

import datetime
import functools
import io
import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Final, Literal

from perfscore._escape import defuse_workbook, xml_text
from perfscore._files import FileRefused, read_bounded, write_whole
from perfscore._numbers import to_str
from perfscore.engine import input_symbol
from perfscore.errors import InputError, Issue, Location, PerfscoreError
from perfscore.formula import (
    Binary,
    BoolOp,
    Compare,
    Const,
    Expr,
    IfElse,
    Name,
    Symbol,
    Unary,
    ValueType,
    compile_formula,
)
from perfscore.i18n import LANGS, msg, tr
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
    "FORM_MARKER",
    "excel_formula",
    "input_sections",
    "is_form",
    "read_template_xlsx",
    "xlsx_template",
    "yaml_template",
]


def _bounds_text(spec: InputSpec) -> str | None:
    low, high = spec.lower_bound, spec.max
    if low is not None and high is not None:
        return tr("form.bounds.between", low=to_str(low), high=to_str(high))
    if low is not None:
        return tr("form.bounds.min", low=to_str(low))
    if high is not None:
        return tr("form.bounds.max", high=to_str(high))
    return None


def describe_input(spec: InputSpec, *, unit: bool = True, optional: bool = True) -> str:
    """One line about an input, in the language in force: kind, unit, bounds, options,
    whether it may be left out, its default. ``unit`` and ``optional`` leave those out
    (the form has columns of its own for them)."""
    parts: list[str] = [tr(f"form.kind.{spec.kind}")]
    shown_unit = spec.display_unit
    if unit and shown_unit:
        parts.append(shown_unit)
    bounds = _bounds_text(spec)
    if bounds:
        parts.append(bounds)
    if spec.kind == "choice":
        parts.append(tr("form.one_of", options=tr("form.options_joiner").join(spec.options or ())))
    elif spec.kind == "boolean":
        parts.append(tr("form.boolean"))
    if spec.kind == "percent":
        parts.append(tr("form.percent"))
    if optional and not spec.required:
        parts.append(tr("form.may_be_empty"))
    if spec.default is not None:
        default = spec.default
        shown = (
            tr("form.true" if default else "form.false")
            if isinstance(default, bool)
            else to_str(default)
            if isinstance(default, Decimal)
            else str(default)
        )
        parts.append(tr("form.default", value=shown))
    return tr("form.parts_joiner").join(parts)


def _flat(text: str) -> str:
    return xml_text(" ".join(text.split()))


# --------------------------------------------------------------------------- YAML


def yaml_template(rubric: Rubric, *, rubric_path: str | None = None) -> str:
    """A YAML inputs file for ``rubric`` with every value left empty, each input under a
    comment giving its label, kind, unit and bounds."""
    target = rubric_path or "RUBRIC"
    lines = [
        "# " + tr("template.yaml.head", title=rubric.title, id=rubric.id, version=rubric.version),
        "# " + tr("template.yaml.fill"),
        "# " + tr("template.yaml.score", rubric=target),
    ]
    for name, spec in rubric.inputs.items():
        lines.append("")
        lines.append(f"# {_flat(spec.label)} — {describe_input(spec)}")
        if spec.description:
            lines.append(f"#   {_flat(spec.description)}")
        if spec.source:
            lines.append("#   " + tr("template.yaml.source", source=_flat(spec.source)))
        if spec.kind == "table":
            columns = spec.columns or {}
            lines.append("#   " + tr("template.yaml.rows"))
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

#: The form's main sheet, by its Chinese name (the name in the language the form was
#: made in is read too), and the workbook-level name that marks a workbook as a form.
DATA_SHEET: Final = "基础数据表"
FORM_MARKER: Final = "perfscore_form"
#: The form's columns: the input id (hidden), its name, unit, the value to fill in,
#: 必填/选填 and notes.
COLUMNS: Final = ("id", "label", "unit", "value", "required", "note")
_ID_COLUMN, _VALUE_COLUMN = 1, 4
#: A hidden column naming the sheet that holds a table input's rows.
_SHEET_COLUMN: Final = 7
_LAST_COLUMN: Final = "F"
_WIDTHS: Final = (24, 38, 8, 16, 7, 44)
#: A filled-in form is read whole, so it is bounded: the file, each part unpacked, and
#: each sheet's rows and columns (a rubric has at most 10 000 values in all).
MAX_FORM_BYTES: Final = 16 * 1024 * 1024
MAX_FORM_PART: Final = 16 * 1024 * 1024
MAX_FORM_ROWS: Final = 20_000
MAX_FORM_COLUMNS: Final = 200
#: Rows of a table input's sheet open for filling in.
TABLE_ROWS: Final = 200
#: Excel's limits on a data validation: the formula, the error text, the prompt, titles.
_MAX_DV_FORMULA, _MAX_DV_ERROR, _MAX_DV_PROMPT, _MAX_DV_TITLE = 255, 225, 255, 32
#: The unit's fields at the top of the form, as the dotted keys they fill.
UNIT_ROWS: Final = (
    ("unit.name", "review.unit"),
    ("unit.code", "review.unit.code"),
    ("unit.year", "form.unit.year"),
    ("unit.filled_by", "review.unit.filled_by"),
    ("unit.filled_on", "review.unit.filled_on"),
)
_HEADING_FILL, _HEADER_FILL, _VALUE_FILL = "D9E1F2", "DDEBF7", "FFF2CC"


def sheet_names(key: str) -> tuple[str, ...]:
    """A sheet's name in each language (``form.sheet.data`` → 基础数据表, Inputs)."""
    return tuple(dict.fromkeys(tr(key, lang) for lang in LANGS))


def input_sections(rubric: Rubric) -> list[tuple[str | None, list[str]]]:
    """The rubric's inputs in the form's sections: each declared ``group`` in the order of
    its first input, its inputs in declaration order; inputs without a group last, under
    no heading of their own (``None``) when no input declares one."""
    sections: dict[str | None, list[str]] = {}
    for name, spec in rubric.inputs.items():
        sections.setdefault(spec.group, []).append(name)
    loose = sections.pop(None, [])
    out: list[tuple[str | None, list[str]]] = list(sections.items())
    if loose:
        out.append((tr("form.group.other") if out else None, loose))
    return out


def _yes_no() -> tuple[str, str]:
    return tr("form.yes"), tr("form.no")


def _typed_validation(spec: InputSpec, options_ref: str | None) -> Any:
    """The validation of a cell by the input's kind: a list for 是/否 and choices, a
    whole-number or decimal range for figures; None for text."""
    from openpyxl.worksheet.datavalidation import DataValidation

    label = _flat(spec.label)[:60]
    if spec.kind == "boolean":
        yes, no = _yes_no()
        dv = DataValidation(type="list", formula1=f'"{yes},{no}"', allow_blank=True)
        dv.error = tr("form.dv.boolean", label=label, yes=yes, no=no)
    elif spec.kind == "choice" and options_ref is not None:
        dv = DataValidation(type="list", formula1=options_ref, allow_blank=True)
        dv.error = tr("form.dv.choice", label=label)
    elif spec.kind in NUMERIC_KINDS:
        low, high = spec.lower_bound, spec.max
        kind: Literal["whole", "decimal"] = "whole" if _whole(spec) else "decimal"
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
        dv.error = _number_error(spec)
    else:
        return None
    return _finish(dv, spec)


def _whole(spec: InputSpec) -> bool:
    return spec.kind in ("integer", "count")


def _number_error(spec: InputSpec) -> str:
    bounds = _bounds_text(spec)
    return tr(
        "form.dv.whole" if _whole(spec) else "form.dv.number",
        label=_flat(spec.label)[:60],
        bounds=tr("form.dv.bounds", bounds=bounds) if bounds else "",
    )


def _finish(dv: Any, spec: InputSpec) -> Any:
    dv.error = (dv.error or "")[:_MAX_DV_ERROR]
    dv.errorTitle = tr("form.dv.title")[:_MAX_DV_TITLE]
    dv.showErrorMessage = True
    dv.prompt = describe_input(spec, optional=False)[:_MAX_DV_PROMPT]
    dv.promptTitle = _flat(spec.label)[:_MAX_DV_TITLE]
    dv.showInputMessage = True
    return dv


# ---- the rubric's checks as formulas Excel evaluates


def _excel_quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def excel_formula(expr: Expr, cells: Mapping[str, tuple[str, InputSpec]]) -> str | None:
    """``expr`` (a formula of the rubric) as an Excel formula over the cells that hold its
    inputs (``cells``: input id → (absolute reference, spec)); None when it reads anything
    else (a derived value, a table) or does what Excel cannot say alike."""
    yes, _ = _yes_no()

    def go(node: Expr) -> str | None:
        if isinstance(node, Const):
            value = node.value
            if isinstance(value, bool):
                return "TRUE" if value else "FALSE"
            if isinstance(value, str):
                return _excel_quote(value)
            return to_str(value)
        if isinstance(node, Name):
            found = cells.get(node.id)
            if found is None:
                return None
            ref, spec = found
            return f"({ref}={_excel_quote(yes)})" if spec.kind == "boolean" else ref
        if isinstance(node, Unary):
            inner = go(node.operand)
            if inner is None:
                return None
            return f"NOT({inner})" if node.op == "not" else f"({node.op}{inner})"
        if isinstance(node, Binary):
            left, right = go(node.left), go(node.right)
            if left is None or right is None:
                return None
            op = "^" if node.op == "**" else node.op
            return f"({left}{op}{right})"
        if isinstance(node, Compare):
            operands = [go(o) for o in node.operands]
            if any(o is None for o in operands):
                return None
            words = {"==": "=", "!=": "<>"}
            parts = [
                f"{operands[i]}{words.get(op, op)}{operands[i + 1]}"
                for i, op in enumerate(node.ops)
            ]
            return parts[0] if len(parts) == 1 else f"AND({','.join(parts)})"
        if isinstance(node, BoolOp):
            values = [go(v) for v in node.values]
            if any(v is None for v in values):
                return None
            return f"{node.op.upper()}({','.join(v for v in values if v is not None)})"
        if isinstance(node, IfElse):
            test, body, orelse = go(node.test), go(node.body), go(node.orelse)
            if test is None or body is None or orelse is None:
                return None
            return f"IF({test},{body},{orelse})"
        args = [go(a) for a in node.args]
        if any(a is None for a in args):
            return None
        a = [x for x in args if x is not None]
        if node.func in ("min", "max", "abs"):
            return f"{node.func.upper()}({','.join(a)})"
        if node.func == "round":  # half away from zero, as perfscore's half-up
            return f"ROUND({a[0]},{a[1] if len(a) > 1 else '0'})"
        if node.func == "floor":
            return f"INT({a[0]})"
        if node.func == "ceil":
            return f"(-INT(-{a[0]}))"
        if node.func == "clamp":
            return f"MIN(MAX({a[0]},{a[1]}),{a[2]})"
        return None

    return go(expr)


def _check_formulas(
    rubric: Rubric, cells: Mapping[str, tuple[str, InputSpec]]
) -> list[tuple[str, frozenset[str], str]]:
    """Each of the rubric's checks that Excel can evaluate, as (a formula true when the
    figures agree or some are still empty, the inputs it reads, its message)."""
    symbols = {name: input_symbol(spec) for name, spec in rubric.inputs.items()}
    symbols.update({name: Symbol(ValueType.NUMBER) for name in rubric.derived})
    out: list[tuple[str, frozenset[str], str]] = []
    for check in rubric.checks:
        try:
            formula = compile_formula(check.when, symbols, expect=ValueType.BOOLEAN)
        except PerfscoreError:  # compile_rubric says what is wrong with it
            continue
        text = excel_formula(formula.expr, cells)
        if text is None or not formula.names:
            continue
        refs = ",".join(cells[n][0] for n in sorted(formula.names))
        agree = f"IFERROR(OR(COUNTA({refs})<{len(formula.names)},NOT({text})),TRUE)"
        out.append((agree, formula.names, _flat(check.message)))
    return out


def _own_formula(ref: str, spec: InputSpec) -> str:
    """What a figure's own validation says, as a formula: a number, whole if it must be,
    within the bounds."""
    parts = [f"ISNUMBER({ref})"]
    if spec.lower_bound is not None:
        parts.append(f"{ref}>={to_str(spec.lower_bound)}")
    if spec.max is not None:
        parts.append(f"{ref}<={to_str(spec.max)}")
    if _whole(spec):
        parts.append(f"{ref}=INT({ref})")
    return f"AND({','.join(parts)})"


def _validation(
    spec: InputSpec,
    ref: str,
    options_ref: str | None,
    checks: list[tuple[str, frozenset[str], str]],
) -> Any:
    """The cell's validation: by its kind, and for a figure that a cross-input check
    reads, a custom formula that also holds the check (a cell has one validation)."""
    from openpyxl.worksheet.datavalidation import DataValidation

    typed = _typed_validation(spec, options_ref)
    if not checks or spec.kind not in (*NUMERIC_KINDS, "text"):
        return typed
    own = [_own_formula(ref, spec)] if spec.kind in NUMERIC_KINDS else []
    kept: list[tuple[str, str]] = []
    for formula, _, message in checks:
        whole = f"AND({','.join([*own, *(f for f, _ in kept), formula])})"
        if len(whole) <= _MAX_DV_FORMULA:
            kept.append((formula, message))
    if not kept:
        return typed
    dv = DataValidation(
        type="custom",
        formula1=f"AND({','.join([*own, *(f for f, _ in kept)])})",
        allow_blank=True,
    )
    errors = [_number_error(spec)] if own else []
    errors += [tr("form.dv.check", message=message) for _, message in kept]
    dv.error = "\n".join(errors)
    return _finish(dv, spec)


# ---- the sheets


def _style_header(sheet: Worksheet, row: int, count: int) -> None:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    fill = PatternFill("solid", fgColor=_HEADER_FILL)
    thin = Side(style="thin", color="808080")
    for column in range(1, count + 1):
        cell = sheet.cell(row=row, column=column)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.border = Border(top=thin, bottom=thin, left=thin, right=thin)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _page_setup(sheet: Worksheet, title_rows: str | None, *, landscape: bool = False) -> None:
    """A4, as wide as the page, margins that keep the footer, the header rows on every page
    and the page number in the footer."""
    from openpyxl.worksheet.page import PageMargins

    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape" if landscape else "portrait"
    from openpyxl.worksheet.properties import PageSetupProperties

    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.page_margins = PageMargins(
        left=0.6, right=0.6, top=0.75, bottom=0.8, header=0.3, footer=0.35
    )
    sheet.print_options.horizontalCentered = True
    if title_rows is not None:
        sheet.print_title_rows = title_rows
    footer = sheet.oddFooter
    if footer is not None:
        footer.center.text = tr("form.footer")
        footer.center.size = 9


def _protect(sheet: Worksheet) -> None:
    """Lock the sheet (no password) but for the cells made to be filled in; a person may
    still resize rows and columns."""
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False
    sheet.protection.formatRows = False


@functools.cache
def _open_style() -> tuple[Any, Any]:
    from openpyxl.styles import PatternFill, Protection

    return Protection(locked=False), PatternFill("solid", fgColor=_VALUE_FILL)


def _unlock(cell: Any) -> None:
    cell.protection, cell.fill = _open_style()


def _text_lines(text: str, width: float) -> int:
    """About how many lines ``text`` takes in a wrapped column ``width`` characters wide (a
    Chinese character is two wide)."""
    units = sum(2 if ord(ch) >= 0x2E80 else 1 for ch in text)
    return max(1, -(-units // max(1, int(width) - 1)))


@functools.cache
def _thin_border() -> Any:
    """One border object for every cell of the table (openpyxl compares each new one with
    every style it holds)."""
    from openpyxl.styles import Border, Side

    thin = Side(style="thin", color="A6A6A6")
    return Border(top=thin, bottom=thin, left=thin, right=thin)


def _fit_row(sheet: Worksheet, row: int) -> None:
    """Borders on the row's visible cells, and a height that shows its wrapped text whole
    (a spreadsheet program does not measure a row it did not lay out itself)."""
    border = _thin_border()
    lines = 1
    for column in range(2, len(COLUMNS) + 1):
        cell = sheet.cell(row=row, column=column)
        cell.border = border
        if isinstance(cell.value, str):
            lines = max(lines, _text_lines(cell.value, _WIDTHS[column - 1]))
    if lines > 1:
        sheet.row_dimensions[row].height = 15 * lines + 2


def _heading(sheet: Worksheet, text: str) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    row = sheet.max_row + 1
    cell = sheet.cell(row=row, column=2, value=_flat(text))
    cell.font = Font(bold=True)
    cell.alignment = Alignment(vertical="center")
    fill = PatternFill("solid", fgColor=_HEADING_FILL)
    for column in range(2, len(COLUMNS) + 1):
        sheet.cell(row=row, column=column).fill = fill
    sheet.merge_cells(f"B{row}:{_LAST_COLUMN}{row}")


def xlsx_template(
    rubric: Rubric, path: str | Path | BinaryIO, *, rubric_path: str | None = None
) -> None:
    """Write an XLSX data-collection form (基础数据表) for ``rubric`` to ``path`` (a file
    name or a binary stream), in the language in force. A file is written whole or not
    at all: a temporary file beside it, then a rename."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.workbook.defined_name import DefinedName

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = tr("form.sheet.data")
    wrap = Alignment(wrap_text=True, vertical="top")
    last = len(COLUMNS)

    sheet.append([None, _flat(tr("form.title", title=rubric.title))])
    sheet["B1"].font = Font(bold=True, size=14)
    sheet["B1"].alignment = Alignment(horizontal="center", vertical="center")
    sheet.merge_cells(f"B1:{_LAST_COLUMN}1")
    sheet.row_dimensions[1].height = 28
    sheet.append([None, tr("form.rubric_line", id=rubric.id, version=rubric.version)])
    sheet["B2"].font = Font(size=9, color="595959")
    sheet["B2"].alignment = Alignment(horizontal="center")
    sheet.merge_cells(f"B2:{_LAST_COLUMN}2")

    _heading(sheet, tr("form.unit_heading"))
    for key, label in UNIT_ROWS:
        sheet.append([key, tr(label)])
        row = sheet.max_row
        value = sheet.cell(row=row, column=_VALUE_COLUMN)
        _unlock(value)
        value.number_format = "0" if key == "unit.year" else "@"
        if key == "unit.filled_on":
            value.number_format = "yyyy-mm-dd"
        sheet.merge_cells(f"D{row}:{_LAST_COLUMN}{row}")
        if key == "unit.year":
            from openpyxl.worksheet.datavalidation import DataValidation

            dv = DataValidation(type="whole", operator="between", formula1="1990", formula2="2100")
            years = tr("form.bounds.between", low="1990", high="2100")
            dv.error = tr(
                "form.dv.whole", label=tr(label), bounds=tr("form.dv.bounds", bounds=years)
            )
            dv.errorTitle = tr("form.dv.title")[:_MAX_DV_TITLE]
            dv.allow_blank = True
            dv.showErrorMessage = True
            sheet.add_data_validation(dv)
            dv.add(value.coordinate)

    header_row = sheet.max_row + 2  # a blank row, then the headings
    for column, key in enumerate(COLUMNS, start=1):
        sheet.cell(row=header_row, column=column, value=tr(f"form.col.{key}"))
    _style_header(sheet, header_row, last)

    sections = input_sections(rubric)
    rows: dict[str, int] = {}
    row = header_row
    for heading, names in sections:  # where each input's row falls, checks need them all
        row += 1 if heading is not None else 0
        for name in names:
            row += 1
            rows[name] = row
    value_letter = get_column_letter(_VALUE_COLUMN)
    cells = {
        name: (f"${value_letter}${rows[name]}", spec)
        for name, spec in rubric.inputs.items()
        if spec.kind != "table"
    }
    checks = _check_formulas(rubric, cells)

    options_sheet = None
    tables: list[tuple[str, InputSpec]] = []
    table_sheets = _table_sheet_names(rubric)
    for heading, names in sections:
        if heading is not None:
            _heading(sheet, heading)
        for name in names:
            spec = rubric.inputs[name]
            note = describe_input(spec, unit=False, optional=False)
            if spec.description:
                note += tr("form.parts_joiner") + _flat(spec.description)
            if spec.kind == "table":
                note = tr("form.table_note", sheet=table_sheets[name]) + note
                tables.append((name, spec))
            sheet.append(
                [
                    name,
                    _flat(spec.label),
                    _flat(spec.display_unit or ""),
                    None,
                    tr("form.required" if spec.required else "form.optional"),
                    _flat(note),
                ]
            )
            row = sheet.max_row
            assert row == rows[name]
            _fit_row(sheet, row)
            for column in (2, 3, 6):
                sheet.cell(row=row, column=column).alignment = wrap
            sheet.cell(row=row, column=5).alignment = Alignment(horizontal="center", vertical="top")
            if spec.required:
                sheet.cell(row=row, column=5).font = Font(bold=True, color="C00000")
            if spec.kind == "table":
                sheet.cell(row=row, column=_SHEET_COLUMN, value=table_sheets[name])
                continue
            value = sheet.cell(row=row, column=_VALUE_COLUMN)
            _unlock(value)
            value.alignment = Alignment(vertical="top")
            if spec.kind in ("choice", "text"):
                value.number_format = "@"
            elif _whole(spec):
                value.number_format = "0"
            elif spec.kind in ("money", "percent"):
                value.number_format = "0.00"
            options_ref = None
            if spec.kind == "choice":
                if options_sheet is None:
                    options_sheet = book.create_sheet(tr("form.sheet.options"))
                    options_sheet.sheet_state = "hidden"
                column = options_sheet.max_column + (1 if options_sheet["A1"].value else 0)
                letter = get_column_letter(column)
                for i, option in enumerate(spec.options or (), start=1):
                    options_sheet.cell(row=i, column=column, value=_flat(option))
                count = len(spec.options or ())
                options_ref = (
                    f"{quote_sheetname(options_sheet.title)}!${letter}$1:${letter}${count}"
                )
            mine = [c for c in checks if name in c[1]]
            dv = _validation(spec, cells[name][0], options_ref, mine)
            if dv is not None:
                sheet.add_data_validation(dv)
                dv.add(value.coordinate)
    for i, width in enumerate(_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.column_dimensions["A"].hidden = True  # the ids: read back, never shown
    sheet.column_dimensions[get_column_letter(_SHEET_COLUMN)].hidden = True
    sheet.freeze_panes = f"A{header_row + 1}"
    _page_setup(sheet, f"{header_row}:{header_row}")
    _protect(sheet)
    for name, spec in tables:
        _table_sheet(book, table_sheets[name], spec)
    _claims_sheet(book, rubric)
    _about_sheet(book, rubric, rubric_path)
    book.defined_names[FORM_MARKER] = DefinedName(
        FORM_MARKER, attr_text=_excel_quote(f"{rubric.id} {rubric.version}"[:200])
    )
    book.active = 0
    defuse_workbook(book)
    if isinstance(path, str | Path):
        buffer = io.BytesIO()
        book.save(buffer)
        write_whole(path, buffer.getvalue())
    else:
        book.save(path)


def _about_sheet(book: Any, rubric: Rubric, rubric_path: str | None) -> None:
    from openpyxl.styles import Alignment, Font

    about = book.create_sheet(tr("form.sheet.about"))
    about.column_dimensions["A"].width = 100
    target = rubric_path or "RUBRIC"
    for line in (
        rubric.title,
        tr("form.rubric_line", id=rubric.id, version=rubric.version),
        tr("form.about.unit"),
        tr(
            "form.about.fill",
            sheet=tr("form.sheet.data"),
            column=tr("form.col.value"),
            optional=tr("form.optional"),
        ),
        tr("form.about.kinds"),
        tr("form.about.protected"),
        tr("form.about.score", rubric=target),
        tr("form.about.claims", sheet=tr("form.sheet.claims"), rubric=target),
    ):
        about.append([_flat(line)])
    for row in about.iter_rows():
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
        lines = _text_lines(str(row[0].value), 100)
        if lines > 1:
            about.row_dimensions[row[0].row].height = 15 * lines + 2
    about["A1"].font = Font(bold=True)
    _page_setup(about, None)
    _protect(about)


#: The form's sheet of the department's own scores (自评表), by its Chinese name.
CLAIMS_SHEET: Final = "自评表"
_CLAIMS_COLUMNS: Final = (
    "form.col.id",
    "form.col.label",
    "form.claims.weight",
    "form.claims.score",
    "form.col.note",
)


def _claims_sheet(book: Any, rubric: Rubric) -> None:
    """The 自评表: a 自评得分 cell for every indicator (indented by level), the total and the
    grade; a judged leaf gets a row for its entered score too. Each row's id is the dotted
    key it fills (``claimed.staff_control``, ``judged.goal_reasonable``)."""
    from openpyxl.styles import Alignment
    from openpyxl.worksheet.datavalidation import DataValidation

    sheet = book.create_sheet(tr("form.sheet.claims"))
    sheet.append([tr(key) for key in _CLAIMS_COLUMNS])
    _style_header(sheet, 1, len(_CLAIMS_COLUMNS))

    def score_cell(weight: Decimal, label: str) -> None:
        cell = sheet.cell(row=sheet.max_row, column=_VALUE_COLUMN)
        _unlock(cell)
        cell.number_format = "0.00"
        dv = DataValidation(
            type="decimal", operator="between", formula1="0", formula2=to_str(weight)
        )
        dv.error = tr("form.dv.claim", label=label[:60], weight=to_str(weight))[:_MAX_DV_ERROR]
        dv.errorTitle = tr("form.dv.title")[:_MAX_DV_TITLE]
        dv.showErrorMessage = True
        dv.allow_blank = True
        sheet.add_data_validation(dv)
        dv.add(cell.coordinate)

    def walk(nodes: Any, depth: int) -> None:
        for node in nodes:
            name = _flat(node.name)
            sheet.append([f"claimed.{node.id}", "　" * depth + name, node.weight, None, None])
            score_cell(node.weight, name)
            if isinstance(node.scoring, Judged):
                sheet.append(
                    [
                        f"judged.{node.id}",
                        "　" * depth + name,
                        node.weight,
                        None,
                        tr("template.judged_note"),
                    ]
                )
                score_cell(node.weight, name)
            walk(node.children or (), depth + 1)

    walk(rubric.indicators, 0)
    sheet.append(["claimed.total", tr("template.total"), rubric.total, None, None])
    score_cell(rubric.total, tr("template.total"))
    sheet.append(["claimed.grade", tr("template.grade"), None, None, None])
    grade = sheet.cell(row=sheet.max_row, column=_VALUE_COLUMN)
    _unlock(grade)
    grades = DataValidation(
        type="list", formula1=_excel_quote(",".join(g.name for g in rubric.grades))
    )
    grades.error = tr("form.dv.grade")
    grades.showErrorMessage = True
    sheet.add_data_validation(grades)
    grades.add(grade.coordinate)
    for letter, width in zip("ABCDE", (30, 44, 8, 12, 40), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.column_dimensions["A"].hidden = True
    for row in sheet.iter_rows(min_row=2):
        row[1].alignment = Alignment(wrap_text=True, vertical="top")
        row[4].alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    _page_setup(sheet, "1:1")
    _protect(sheet)


#: Characters a sheet's name may not hold (and the quote, which may not end one).
_NOT_IN_SHEET_NAMES: Final = re.compile(r"[\[\]:*?/\\']")


def _table_sheet_names(rubric: Rubric) -> dict[str, str]:
    """The sheet of each table input, named by its label (at most 31 characters, unlike
    every other sheet of the form; the id when the label leaves nothing)."""
    taken = {
        tr(key).casefold()
        for key in (
            "form.sheet.data",
            "form.sheet.options",
            "form.sheet.claims",
            "form.sheet.about",
        )
    }
    out: dict[str, str] = {}
    for name, spec in rubric.inputs.items():
        if spec.kind != "table":
            continue
        base = _NOT_IN_SHEET_NAMES.sub("", _flat(spec.label))[:31].strip() or name[:31]
        title, n = base, 1
        while title.casefold() in taken:
            n += 1
            title = f"{base[: 31 - len(str(n)) - 2]}（{n}）"
        taken.add(title.casefold())
        out[name] = title
    return out


def _table_sheet(book: Any, title: str, spec: InputSpec) -> None:
    """A table input's sheet: its column ids in a hidden first row (read back), their
    names and what each takes in the second, then rows to fill in."""
    from openpyxl.styles import Alignment

    sheet = book.create_sheet(title)
    columns = spec.columns or {}
    sheet.append(list(columns))
    sheet.append([_flat(f"{c.label}（{describe_input(c)}）") for c in columns.values()])
    _style_header(sheet, 2, len(columns))
    sheet.row_dimensions[1].hidden = True
    for i, column in enumerate(columns.values(), start=1):
        cell = sheet.cell(row=2, column=i)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        letter = cell.column_letter
        sheet.column_dimensions[letter].width = 24
        dv = _typed_validation(column, None)
        if dv is not None:
            sheet.add_data_validation(dv)
            dv.add(f"{letter}3:{letter}{TABLE_ROWS + 2}")
        for row in range(3, TABLE_ROWS + 3):
            _unlock(sheet.cell(row=row, column=i))
    sheet.freeze_panes = "A3"
    _page_setup(sheet, "2:2", landscape=len(columns) > 4)
    _protect(sheet)


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
    if isinstance(value, datetime.datetime):  # a date typed into 填报日期
        return value.date() if value.time() == datetime.time() else value
    return value


def _id_words() -> frozenset[str]:
    """What the id column's heading says, in any language the form was made in."""
    return frozenset(tr("form.col.id", lang) for lang in LANGS)


def _marked(book: Any) -> bool:
    try:
        return FORM_MARKER in book.defined_names
    except Exception:  # a workbook whose names openpyxl cannot list is no form
        return False


def is_form(path: str | Path) -> bool:
    """Whether the workbook at ``path`` is a form made by :func:`xlsx_template` (one
    department), rather than a table of departments: it carries the form's defined name,
    or its sheet of inputs by name, or (a form of an older release) the form's headings in
    its first row. False for a file that is no workbook."""
    import openpyxl

    try:
        check_workbook(path)
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of error for a bad file
        return False
    try:
        if _marked(book) or set(sheet_names("form.sheet.data")) & set(book.sheetnames):
            return True
        sheet = book.worksheets[0]
        header = next(sheet.iter_rows(max_row=1, values_only=True), ())
        cells = [str(h).strip() if h is not None else "" for h in header[:4]]
        return cells == list(_OLD_HEADERS)
    finally:
        book.close()


#: The headings of the first row of a form made by earlier releases.
_OLD_HEADERS: Final = ("输入项", "名称", "单位", "值")


def _find_sheet(book: Any, key: str) -> Any:
    """The visible sheet named ``key`` in any language, or None."""
    for name in sheet_names(key):
        if name in book.sheetnames and book[name].sheet_state == "visible":
            return book[name]
    return None


def read_template_xlsx(path: str | Path) -> dict[str, Any]:
    """Read a filled-in form made by :func:`xlsx_template` back into an inputs mapping.

    Every row whose (hidden) first cell names an input or a dotted section key
    (``unit.name``, ``claimed.total``) gives that key the value in its 填报值 cell; empty
    values are left out (missing). Numbers come back as exact decimals of what the cell
    shows (a cell formatted as a percentage gives points: 95.1% -> 95.1); 是/否 stay text,
    which the rubric's boolean inputs accept; a table input's rows come from its sheet.
    Raises :class:`InputError` when the file is not such a form.
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
        sheet = _find_sheet(book, "form.sheet.data")
        if sheet is None:  # never a hidden sheet unasked
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
        words = _id_words() | {_OLD_HEADERS[0]}
        first_column = [
            str(row[0].value).strip()
            for row in sheet.iter_rows(max_row=60, max_col=1)
            if row[0].value is not None
        ]
        if not _marked(book) and not words & set(first_column):
            raise InputError(
                [
                    Issue.of(
                        "input.xlsx",
                        Location(file=file),
                        message=msg(
                            "input.not_form",
                            sheet=repr(sheet.title),
                            headers=", ".join(tr(f"form.col.{c}") for c in COLUMNS),
                        ),
                        hint=msg("input.not_form.hint"),
                    )
                ]
            )
        out: dict[str, Any] = {}
        for row in sheet.iter_rows(min_row=1, max_col=_SHEET_COLUMN):
            key = row[_ID_COLUMN - 1].value
            if key is None or not str(key).strip() or str(key).strip() in words:
                continue
            name = str(key).strip()
            if len(row) >= _VALUE_COLUMN:
                cell = row[_VALUE_COLUMN - 1]
                value = _cell_value(cell.value, cell.number_format)
            else:  # pragma: no cover - openpyxl pads rows to the sheet's width
                value = None
            held = row[_SHEET_COLUMN - 1].value if len(row) >= _SHEET_COLUMN else None
            table = str(held) if held is not None else name
            if table in book.sheetnames and table != sheet.title and value is None:
                rows = _read_table(book[table], file)
                if rows:
                    out[name] = rows
                continue
            if value is not None:
                out[name] = value
        claims = _find_sheet(book, "form.sheet.claims")
        if claims is not None:  # claims (and, in older forms, the unit) by dotted key
            _check_size(claims, file)
            for row in claims.iter_rows(min_row=2):
                key = row[_ID_COLUMN - 1].value
                if key is None or len(row) < _VALUE_COLUMN:
                    continue
                cell = row[_VALUE_COLUMN - 1]
                value = _cell_value(cell.value, cell.number_format)
                if value is not None and str(key).strip():
                    out.setdefault(str(key).strip(), value)
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
