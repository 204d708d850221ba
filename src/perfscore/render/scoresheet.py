"""The filled-in 评分表 of one department, as XLSX, HTML or markdown. Computes nothing new.

A scoring table as finance bureaus print it has one column per level of the indicator
tree (一级指标, 二级指标, 三级指标, a fourth when the rubric has one), then 分值, 评分标准,
得分 and 扣分说明, one row per leaf; the upper levels are merged cells spanning their
leaves, each 一级指标 ends with a 小计 row, and the table ends with the total (合计) and
the grade (评价等次).

:func:`build_sheet` lays that table out once from a :class:`~perfscore.results.ScoreResult`
and the :class:`~perfscore.model.Rubric` that produced it, as a :class:`ScoreSheet`: a grid
of :class:`Cell` objects with their row and column spans. The renderers only draw it:

- :func:`to_xlsx`: a workbook (bytes) with merged ranges, borders, wrapped text, a frozen
  header and print setup (A4 landscape, fit to width, header row repeated on every page);
- :func:`to_html`: one self-contained page (inline CSS, nothing fetched) with ``rowspan``
  and ``colspan``, laid out for printing on A4 landscape;
- :func:`to_markdown`: a GitHub table, where merged cells are written once and left blank
  in the rows they span.

:func:`render_report` does both steps for a format named in :data:`REPORT_FORMATS`;
:func:`write_report` writes the result to a file, whole or not at all.

The 扣分说明 of a leaf is taken from its explanation: the steps that took points away,
or, when none did (a band, a level, a proportional score), the checklist items that earned
nothing, or else every step. A leaf with full marks reads "—"; a not-applicable leaf says
why; a leaf whose weight was moved (not-applicable weight given to its siblings) says
``分值 15 → 16.67`` first.
"""

from __future__ import annotations

import html
import io
import math
import os
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

from perfscore._escape import defuse_workbook, markdown_text, xml_text
from perfscore._files import temporary_beside
from perfscore._numbers import normalize, round_decimal, to_str
from perfscore.i18n import tr
from perfscore.model import Rubric
from perfscore.results import IndicatorResult, ScoreResult, Status, Step

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

__all__ = [
    "NO_DEDUCTION",
    "REPORT_FORMATS",
    "Cell",
    "ReportFormat",
    "ScoreSheet",
    "SheetRow",
    "build_sheet",
    "deduction_text",
    "format_for_path",
    "render_report",
    "safe_filename",
    "to_html",
    "to_markdown",
    "to_xlsx",
    "write_report",
]

ReportFormat = Literal["xlsx", "html", "markdown"]

#: The names ``perfscore report --format`` accepts, in the order the help lists them.
REPORT_FORMATS: Final[tuple[ReportFormat, ...]] = ("xlsx", "html", "markdown")

#: The file suffix each format is written with.
SUFFIXES: Final[dict[ReportFormat, str]] = {"xlsx": ".xlsx", "html": ".html", "markdown": ".md"}

#: What the 扣分说明 of a leaf with full marks reads.
NO_DEDUCTION: Final = "—"

_LEVELS: Final = "一二三四五六七八九十"
_TAIL_COLUMNS: Final = ("分值", "评分标准", "得分", "扣分说明")
_ADJUSTMENTS: Final = frozenset({"floor", "clamp", "redistribution", "rescale"})

Role = Literal["leaf", "subtotal", "total", "grade"]
CellKind = Literal["level", "label", "number", "text"]


# --------------------------------------------------------------------------- the sheet


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell of the table. ``number`` is set for 分值 and 得分 cells (``text`` is then
    how it reads); ``rowspan`` / ``colspan`` > 1 for a merged cell, whose covered
    positions are ``None`` in :attr:`SheetRow.cells`."""

    text: str
    kind: CellKind = "text"
    number: Decimal | None = None
    rowspan: int = 1
    colspan: int = 1


@dataclass(frozen=True, slots=True)
class SheetRow:
    """A row of the table body: a leaf, a 小计, the 合计 or the 评价等次.

    ``cells`` has one entry per column: a :class:`Cell` where one starts, ``None`` where
    a merged cell from above or from the left covers the position.
    """

    role: Role
    cells: tuple[Cell | None, ...]
    indicator: str | None = None


@dataclass(frozen=True, slots=True)
class ScoreSheet:
    """The filled-in 评分表, laid out and ready to draw.

    ``meta`` holds (label, value) pairs shown under the title (被评价单位, 评分表);
    ``notes`` the lines shown under the table (the grade bands, warnings).
    """

    title: str
    meta: tuple[tuple[str, str], ...]
    columns: tuple[str, ...]
    levels: int
    rows: tuple[SheetRow, ...]
    notes: tuple[str, ...]
    department: str | None = None

    @property
    def width(self) -> int:
        return len(self.columns)


def _level_name(depth: int) -> str:
    return f"{_LEVELS[depth]}级指标" if depth < len(_LEVELS) else f"{depth + 1}级指标"


def _title(rubric: Rubric) -> str:
    if rubric.year is None or str(rubric.year) in rubric.title:
        return rubric.title
    return f"{rubric.year}年度{rubric.title}"


def _amount(value: Decimal) -> str:
    """A weight or a number of points as people write it: ``5``, ``2.5``, ``1.67``."""
    return to_str(normalize(value))


def _weight(node: IndicatorResult) -> Decimal:
    """The weight the node counts for; the declared one when nothing moved (the engine may
    hand back an equal value with many more zeros)."""
    return node.weight if node.effective_weight == node.weight else node.effective_weight


def _step_text(step: Step, *, signed: bool) -> str:
    text = " ".join(step.text.split())
    if signed and step.points is not None and step.points < 0 and step.kind != "deduction":
        text += f"（{_amount(step.points)}）"  # a deduction's text says what it took (扣1分)
    return text


def deduction_text(node: IndicatorResult, places: int = 2) -> str:
    """The 扣分说明 of a leaf, from its explanation (see the module docstring).

    ``places`` is how many decimals the points lost are rounded to for display.
    """
    steps = node.explanation.steps if node.explanation is not None else ()
    if node.override is not None:  # a reviewer's score: say so, and what was computed
        decided = [_step_text(s, signed=False) for s in steps if s.kind == "override"]
        computed = node.override.computed
        head = [] if computed is None else [tr("override.computed", computed=_amount(computed))]
        return "；".join(head + decided) or tr("override.computed", computed="—")
    moved = node.effective_weight != node.weight
    weight_note = f"分值 {_amount(node.weight)} → {_amount(node.effective_weight)}"
    if node.status is Status.NOT_APPLICABLE:
        why = "；".join(_step_text(s, signed=False) for s in steps)
        # The engine's step already reads "不适用（reason）：policy"; say 不适用 only once.
        text = why if why.startswith("不适用") else f"不适用：{why}" if why else "不适用"
        return f"{weight_note}；{text}" if moved else text
    lost = round_decimal(node.lost, places)
    if lost <= 0:
        return weight_note if moved else NO_DEDUCTION
    chosen = [s for s in steps if s.points is not None and s.points < 0]
    if not chosen:
        chosen = [s for s in steps if s.kind == "item" and s.points == 0]
    if chosen:
        chosen += [s for s in steps if s.kind in _ADJUSTMENTS and s not in chosen]
    else:
        chosen = list(steps)
    text = f"扣{_amount(lost)}分"
    if chosen:
        text += "：" + "；".join(_step_text(s, signed=True) for s in chosen)
    if moved and not any(s.kind == "redistribution" for s in chosen):
        text = f"{weight_note}；{text}"
    return text


def _number(value: Decimal, text: str | None = None) -> Cell:
    return Cell(text if text is not None else to_str(value), "number", value)


class _Builder:
    """Places cells with their spans on a grid of ``width`` columns."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.grid: list[list[Cell | None]] = []
        self.roles: list[tuple[Role, str | None]] = []

    def add_row(self, role: Role, indicator: str | None = None) -> int:
        self.grid.append([Cell("")] * self.width)
        self.roles.append((role, indicator))
        return len(self.grid) - 1

    def place(self, row: int, col: int, cell: Cell) -> None:
        """Put ``cell`` at (row, col); the rows it spans must exist already."""
        for r in range(row, row + cell.rowspan):
            for c in range(col, col + cell.colspan):
                self.grid[r][c] = None
        self.grid[row][col] = cell

    def rows(self) -> tuple[SheetRow, ...]:
        return tuple(
            SheetRow(role, tuple(cells), indicator)
            for cells, (role, indicator) in zip(self.grid, self.roles, strict=True)
        )


def build_sheet(
    result: ScoreResult, rubric: Rubric, *, department: str | None = None
) -> ScoreSheet:
    """Lay out the 评分表 of ``result``, which ``rubric`` produced.

    ``department`` is shown under the title when given, else the ``unit.name`` of the
    department's inputs, when they have one. Raises :class:`ValueError` when
    ``result`` comes from another rubric.
    """
    if result.rubric_id != rubric.id:
        raise ValueError(
            f"the result was scored with rubric {result.rubric_id!r}, not {rubric.id!r}"
        )
    places = rubric.rounding.score.places
    nodes = {n.id: n for n in result.indicators}
    levels = max((n.depth for n in result.indicators), default=0) + 1
    columns = (*(_level_name(d) for d in range(levels)), *_TAIL_COLUMNS)
    weight_col, standard_col, score_col, note_col = range(levels, levels + 4)
    builder = _Builder(len(columns))

    below: dict[str, list[IndicatorResult]] = {}

    def leaves(node: IndicatorResult) -> list[IndicatorResult]:
        found = below.get(node.id)
        if found is None:
            if node.is_leaf:
                found = [node]
            else:
                found = [leaf for child in node.children for leaf in leaves(nodes[child])]
            below[node.id] = found
        return found

    def path(node: IndicatorResult) -> list[IndicatorResult]:
        chain = [node]
        while chain[-1].parent is not None:
            chain.append(nodes[chain[-1].parent])
        return chain[::-1]

    def standard_source(chain: list[IndicatorResult]) -> IndicatorResult | None:
        return next((n for n in reversed(chain) if n.standard), None)

    for top in (n for n in result.indicators if n.parent is None):
        group = leaves(top)
        first = len(builder.grid)
        for leaf in group:
            builder.add_row("leaf", leaf.id)
        subtotal = not top.is_leaf
        if subtotal:
            builder.add_row("subtotal", top.id)
        # Level cells: each branch spans its leaves (a 一级指标 its 小计 row as well); a
        # leaf above the deepest level spans the level columns to its right.
        for offset, leaf in enumerate(group):
            row = first + offset
            chain = path(leaf)
            for depth, node in enumerate(chain):
                if node is leaf:
                    builder.place(row, depth, Cell(node.name, "level", colspan=levels - depth))
                elif leaves(node)[0] is leaf:
                    span = len(leaves(node)) + (1 if depth == 0 and subtotal else 0)
                    builder.place(row, depth, Cell(node.name, "level", rowspan=span))
            builder.place(row, weight_col, _number(_weight(leaf), _amount(_weight(leaf))))
            builder.place(row, score_col, _number(leaf.score))
            builder.place(row, note_col, Cell(deduction_text(leaf, places)))
        # 评分标准: a leaf's own, or its nearest ancestor's, merged over the run of leaves
        # that share it (the rows of a row group share their group's standard).
        offset = 0
        while offset < len(group):
            source = standard_source(path(group[offset]))
            run = 1
            if source is not None and source is not group[offset]:
                while (
                    offset + run < len(group)
                    and standard_source(path(group[offset + run])) is source
                ):
                    run += 1
            text = (source.standard or "") if source is not None else ""
            builder.place(first + offset, standard_col, Cell(text, rowspan=run))
            offset += run
        if subtotal:
            row = len(builder.grid) - 1
            label_col = 1 if levels > 1 else 0
            builder.place(row, label_col, Cell("小计", "label", colspan=levels - label_col))
            builder.place(row, weight_col, _number(_weight(top), _amount(_weight(top))))
            builder.place(row, score_col, _number(top.score))

    row = builder.add_row("total")
    builder.place(row, 0, Cell("合计", "label", colspan=levels))
    builder.place(row, weight_col, _number(result.max_total, _amount(result.max_total)))
    builder.place(row, score_col, _number(result.total))

    row = builder.add_row("grade")
    builder.place(row, 0, Cell("评价等次", "label", colspan=levels))
    builder.place(row, weight_col, Cell(_grade_text(result, rubric), "label", colspan=4))

    meta: list[tuple[str, str]] = []
    if not department and result.unit:
        department = result.unit.get("name")
    if department:
        meta.append(("被评价单位", department))
    rubric_text = f"{rubric.id}（版本 {rubric.version}）"
    if rubric.issuer:
        rubric_text = f"{rubric.issuer} {rubric_text}"
    meta.append(("评分表", rubric_text))

    bands = "；".join(f"{band.name} {band.range}" for band in rubric.grades)
    notes = [f"评价等次标准：{bands}"]
    notes.extend(f"提示：{w.message}" for w in result.warnings if w.code != "grade.capped")
    return ScoreSheet(
        title=_title(rubric),
        meta=tuple(meta),
        columns=columns,
        levels=levels,
        rows=builder.rows(),
        notes=tuple(notes),
        department=department,
    )


def _grade_text(result: ScoreResult, rubric: Rubric) -> str:
    if result.grade_before_caps is None:
        return result.grade
    reasons = {cap.id: cap.reason or cap.id for cap in rubric.grade_caps}
    why = "；".join(reasons.get(cap, cap) for cap in result.grade_caps)
    return f"{result.grade}（由{result.grade_before_caps}调整：{why}）"


# --------------------------------------------------------------------------- column widths

_TAIL_WIDTHS: Final = (8.0, 44.0, 9.0, 40.0)  # 分值, 评分标准, 得分, 扣分说明


def _display_width(text: str) -> int:
    """Columns ``text`` takes in a spreadsheet: two for a Chinese character, one otherwise."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _lines(text: str, width: float) -> int:
    """Lines ``text`` wraps to in a column ``width`` wide; a little pessimistic, since
    Chinese line breaking keeps punctuation off the start of a line."""
    usable = max(width - 0.8, 1.0)
    return sum(max(1, math.ceil(_display_width(part) * 1.06 / usable)) for part in text.split("\n"))


def _column_widths(sheet: ScoreSheet) -> list[float]:
    widths = []
    for col in range(sheet.levels):
        names = [
            _display_width(cell.text)
            for row in sheet.rows
            if row.role == "leaf" and (cell := row.cells[col]) is not None and cell.colspan == 1
        ]
        widths.append(float(min(max([10, *names]) + 2, 30)))
    return widths + list(_TAIL_WIDTHS)


# --------------------------------------------------------------------------- markdown


def _md(text: str) -> str:
    return markdown_text(text)


def to_markdown(sheet: ScoreSheet) -> str:
    """A GitHub table: a merged cell is written in its first row and column, and the
    positions it covers are left blank. Title, 被评价单位 and notes around it."""
    lines = [f"# {_md(sheet.title)}", ""]
    lines.extend(f"- {label}：{_md(value)}" for label, value in sheet.meta)
    lines.append("")
    align = [":--"] * sheet.levels + ["--:", ":--", "--:", ":--"]
    lines.append("| " + " | ".join(sheet.columns) + " |")
    lines.append("| " + " | ".join(align) + " |")
    for row in sheet.rows:
        texts = []
        for cell in row.cells:
            text = "" if cell is None else _md(cell.text)
            if text and cell is not None and row.role != "leaf" and cell.kind != "level":
                text = f"**{text}**"
            texts.append(text)
        lines.append("| " + " | ".join(texts) + " |")
    lines.append("")
    lines.extend(f"- {_md(note)}" for note in sheet.notes)
    return "\n".join(lines)


# --------------------------------------------------------------------------- html

_CSS: Final = """\
@page { size: A4 landscape; margin: 12mm 10mm; }
* { box-sizing: border-box; }
body {
  margin: 16px;
  color: #000;
  font: 10.5pt/1.45 "SimSun", "宋体", "Songti SC", "Noto Serif CJK SC", "Source Han Serif SC",
    "WenQuanYi Zen Hei", serif;
}
h1 { font-size: 16pt; text-align: center; margin: 0 0 6px; font-weight: bold; }
.meta { display: flex; flex-wrap: wrap; justify-content: space-between; margin: 0 0 6px; }
.meta span { margin-right: 2em; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; }
th, td {
  border: 1px solid #000;
  padding: 3px 5px;
  vertical-align: middle;
  overflow-wrap: anywhere;
}
th { background: #d9d9d9; font-weight: bold; text-align: center; }
td.level, td.label, td.none { text-align: center; }
td.number { text-align: center; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.subtotal td, tr.total td, tr.grade td { font-weight: bold; background: #f2f2f2; }
tr.total td, tr.grade td { background: #e7e6e6; }
.notes { margin: 6px 0 0; padding: 0; list-style: none; font-size: 9.5pt; }
@media print {
  body { margin: 0; font-size: 9.5pt; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  thead { display: table-header-group; }
  tr, td, th { page-break-inside: avoid; break-inside: avoid; }
  h1, .meta { page-break-after: avoid; break-after: avoid; }
  .notes { page-break-inside: avoid; break-inside: avoid; }
}
"""


def _column_shares(sheet: ScoreSheet) -> list[float]:
    """Percent of the page width per column, in proportion to the XLSX column widths."""
    widths = _column_widths(sheet)
    total = sum(widths)
    return [round(100 * w / total, 1) for w in widths]


def to_html(sheet: ScoreSheet) -> str:
    """One self-contained HTML page: inline CSS, no scripts, nothing fetched."""
    esc = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(sheet.title)}</title>",
        f"<style>\n{_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{esc(sheet.title)}</h1>",
        '<p class="meta">'
        + "".join(f"<span>{esc(label)}：{esc(value)}</span>" for label, value in sheet.meta)
        + "</p>",
        '<table class="score-sheet">',
        "<colgroup>"
        + "".join(f'<col style="width:{share}%">' for share in _column_shares(sheet))
        + "</colgroup>",
        "<thead>",
        "<tr>" + "".join(f'<th scope="col">{esc(c)}</th>' for c in sheet.columns) + "</tr>",
        "</thead>",
        "<tbody>",
    ]
    for row in sheet.rows:
        attrs = f' data-indicator="{esc(row.indicator)}"' if row.indicator else ""
        cells = []
        for cell in row.cells:
            if cell is None:
                continue
            span = ""
            if cell.rowspan > 1:
                span += f' rowspan="{cell.rowspan}"'
            if cell.colspan > 1:
                span += f' colspan="{cell.colspan}"'
            text = esc(cell.text).replace("\n", "<br>")
            kind = "none" if cell.text == NO_DEDUCTION else cell.kind
            cells.append(f'<td class="{kind}"{span}>{text}</td>')
        out.append(f'<tr class="{row.role}"{attrs}>' + "".join(cells) + "</tr>")
    out += ["</tbody>", "</table>"]
    if sheet.notes:
        out.append('<ul class="notes">')
        out.extend(f"<li>{esc(note)}</li>" for note in sheet.notes)
        out.append("</ul>")
    out += ["</body>", "</html>", ""]
    return "\n".join(out)


# --------------------------------------------------------------------------- xlsx

_FONT: Final = "宋体"
_LINE_HEIGHT: Final = 14.0  # points per line of 10-point text
_TITLE_ROW: Final = 1
_META_ROW: Final = 2
_HEADER_ROW: Final = 3


def to_xlsx(sheet: ScoreSheet) -> bytes:
    """The sheet as an XLSX workbook: merged ranges, borders, wrapped text, numbers as
    numbers (``0.00``), a frozen header, and print setup (A4 landscape, fit to width,
    the header row repeated on every page)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties

    book = Workbook()
    ws: Worksheet = book.active  # type: ignore[assignment]  # a new workbook has one sheet
    ws.title = "评分表"
    book.properties.title = sheet.title
    book.properties.creator = "perfscore"

    width = sheet.width
    last = get_column_letter(width)
    widths = _column_widths(sheet)
    for col, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = w

    thin = Side(style="thin", color="000000")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    body_font = Font(name=_FONT, size=10)
    bold = Font(name=_FONT, size=10, bold=True)
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    left = Alignment(horizontal="left", vertical="center", wrap_text=True)
    fills = {
        "header": PatternFill("solid", fgColor="D9D9D9"),
        "subtotal": PatternFill("solid", fgColor="F2F2F2"),
        "total": PatternFill("solid", fgColor="E7E6E6"),
        "grade": PatternFill("solid", fgColor="E7E6E6"),
    }

    ws.merge_cells(start_row=_TITLE_ROW, start_column=1, end_row=_TITLE_ROW, end_column=width)
    title = ws.cell(_TITLE_ROW, 1, xml_text(sheet.title))
    title.font = Font(name=_FONT, size=16, bold=True)
    title.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.row_dimensions[_TITLE_ROW].height = 32

    ws.merge_cells(start_row=_META_ROW, start_column=1, end_row=_META_ROW, end_column=width)
    meta = ws.cell(
        _META_ROW, 1, xml_text("　　".join(f"{label}：{value}" for label, value in sheet.meta))
    )
    meta.font = body_font
    meta.alignment = Alignment(horizontal="left", vertical="center", wrap_text=True)
    ws.row_dimensions[_META_ROW].height = 20

    for col, name in enumerate(sheet.columns, start=1):
        cell = ws.cell(_HEADER_ROW, col, xml_text(name))
        cell.font, cell.alignment, cell.border = bold, center, border
        cell.fill = fills["header"]
    ws.row_dimensions[_HEADER_ROW].height = 22

    first = _HEADER_ROW + 1
    heights = [_LINE_HEIGHT + 4] * len(sheet.rows)
    tall: list[tuple[int, int, float]] = []  # merged cells over several rows: (row, span, need)
    for r, row in enumerate(sheet.rows):
        excel_row = first + r
        strong = row.role != "leaf"
        for c in range(width):
            target = ws.cell(excel_row, c + 1)
            target.border = border
            target.font = bold if strong else body_font
            if row.role in fills:
                target.fill = fills[row.role]
        for c, spec in enumerate(row.cells):
            if spec is None:
                continue
            xl = ws.cell(excel_row, c + 1)
            if spec.number is not None:
                xl.value = spec.number
                xl.number_format = "0.00"
            else:
                xl.value = xml_text(spec.text)
            xl.alignment = left if spec.kind == "text" and spec.text != NO_DEDUCTION else center
            if spec.rowspan > 1 or spec.colspan > 1:
                ws.merge_cells(
                    start_row=excel_row,
                    start_column=c + 1,
                    end_row=excel_row + spec.rowspan - 1,
                    end_column=c + spec.colspan,
                )
            span_width = sum(widths[c : c + spec.colspan])
            need = _lines(spec.text, span_width) * _LINE_HEIGHT + 4
            if spec.rowspan == 1:
                heights[r] = max(heights[r], need)
            else:
                tall.append((r, spec.rowspan, need))
    for r, span, need in tall:
        have = sum(heights[r : r + span])
        if have < need:
            extra = (need - have) / span
            for i in range(r, r + span):
                heights[i] += extra
    for r, height in enumerate(heights):
        ws.row_dimensions[first + r].height = round(height, 1)

    end = first + len(sheet.rows) - 1
    for i, note in enumerate(sheet.notes, start=end + 2):
        ws.merge_cells(start_row=i, start_column=1, end_row=i, end_column=width)
        note_cell = ws.cell(i, 1, xml_text(note))
        note_cell.font = body_font
        note_cell.alignment = Alignment(horizontal="left", vertical="top", wrap_text=True)
        ws.row_dimensions[i].height = _lines(note, sum(widths)) * _LINE_HEIGHT + 4
    last_row = end + 1 + len(sheet.notes)

    ws.freeze_panes = f"A{first}"
    ws.print_title_rows = f"{_HEADER_ROW}:{_HEADER_ROW}"
    ws.print_area = f"A1:{last}{last_row}"
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    footer = ws.oddFooter
    if footer is not None:  # always there on a new sheet; the stubs allow None
        footer.center.text = "第 &P 页，共 &N 页"
        footer.center.size = 9

    defuse_workbook(book)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------- entry points


def render_report(
    result: ScoreResult,
    rubric: Rubric,
    format: ReportFormat,
    *,
    department: str | None = None,
) -> str | bytes:
    """The 评分表 of ``result`` in ``format``: bytes for ``xlsx``, text otherwise."""
    sheet = build_sheet(result, rubric, department=department)
    if format == "xlsx":
        return to_xlsx(sheet)
    if format == "html":
        return to_html(sheet)
    if format == "markdown":
        return to_markdown(sheet) + "\n"
    raise ValueError(f"unknown report format {format!r}: use one of {', '.join(REPORT_FORMATS)}")


def write_report(
    result: ScoreResult,
    rubric: Rubric,
    path: str | Path,
    format: ReportFormat,
    *,
    department: str | None = None,
) -> None:
    """Write the 评分表 to ``path``, whole or not at all (a temporary file, then a rename)."""
    content = render_report(result, rubric, format, department=department)
    write_bytes(path, content.encode("utf-8") if isinstance(content, str) else content)


def write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path``, whole or not at all (a temporary file, then a rename)."""
    target = Path(path)
    # Opened like any new file (so the umask decides its mode), under a name no one else
    # uses, then renamed over the target: readers see the old file or the new one.
    # A killed run's temporary file beside the target is removed first.
    handle, temporary = temporary_beside(target, 0o666)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def format_for_path(path: str | Path) -> ReportFormat | None:
    """The format a file name asks for by its suffix (``.xlsx``, ``.html``/``.htm``,
    ``.md``/``.markdown``), or None."""
    suffix = Path(path).suffix.lower()
    if suffix == ".xlsx":
        return "xlsx"
    if suffix in (".html", ".htm"):
        return "html"
    if suffix in (".md", ".markdown"):
        return "markdown"
    return None


_UNSAFE: Final = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*\s]+')
_RESERVED: Final = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)


def safe_filename(text: str, *, fallback: str = "report", limit: int = 100) -> str:
    """``text`` made safe as a file name on Windows, macOS and Linux: separators, control
    characters, whitespace and ``<>:"|?*`` become ``_``; Chinese is kept; names Windows
    reserves (``CON``, ``NUL``, ...) get a leading ``_``; at most ``limit`` characters."""
    name = _UNSAFE.sub("_", unicodedata.normalize("NFC", text)).strip(" ._")
    name = name[:limit].rstrip(" .")
    if not name:
        return fallback
    if _RESERVED.match(name):
        name = "_" + name
    return name
