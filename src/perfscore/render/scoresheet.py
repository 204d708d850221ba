"""The filled-in 评分表 of one department, as XLSX, HTML or markdown. Computes nothing new.

A scoring table as finance bureaus print it has one column per level of the indicator
tree (一级指标, 二级指标, 三级指标, a fourth when the rubric has one), then 分值, 评分标准,
得分 and 扣分说明, one row per leaf; the upper levels are merged cells spanning their
leaves, each 一级指标 ends with a 小计 row, and the table ends with the total (合计) and
the grade (评价等次), then the notes and the sign-off lines (评价人、复核人、日期). Every
label comes from the catalogue (``render_print.po``), in the language of the run.

:func:`build_sheet` lays that table out once from a :class:`~perfscore.results.ScoreResult`
and the :class:`~perfscore.model.Rubric` that produced it, as a :class:`ScoreSheet`: a grid
of :class:`Cell` objects with their row and column spans. The renderers only draw it:

- :func:`to_xlsx`: a workbook (bytes) with merged ranges, borders, wrapped text, a frozen
  header, 小计 and 合计 as ``SUM`` formulas that keep their values, and print setup (A4
  landscape, fit to width, header row repeated on every page, page breaks planned so that
  group labels are written again after a break and the last page holds more than 合计);
- :func:`to_html`: one self-contained page (inline CSS, nothing fetched) with ``rowspan``
  and ``colspan``, laid out for printing on A4 landscape and for reading on a phone;
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
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal
from xml.sax.saxutils import escape as xml_escape

from perfscore._escape import defuse_workbook, markdown_text, xml_text
from perfscore._files import write_whole
from perfscore._numbers import normalize, round_decimal, to_str
from perfscore.i18n import resolve_lang, tr
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
_TAIL_KEYS: Final = ("print.weight", "print.standard", "print.score", "print.note")
#: The sign-off lines under the table, in order: 评价人, 复核人, 日期.
_SIGNATURE_KEYS: Final = ("print.evaluator", "print.reviewer", "print.date")
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

    ``meta`` holds (label, value) pairs shown under the title (被评价单位, 评价年度, 评分表);
    ``notes`` the lines shown under the table (the grade bands, warnings);
    ``signatures`` the sign-off lines at the end, (label, blank) pairs (评价人, 复核人, 日期);
    ``places`` the decimals 分值 and 得分 are shown with (the rubric's score places).
    """

    title: str
    meta: tuple[tuple[str, str], ...]
    columns: tuple[str, ...]
    levels: int
    rows: tuple[SheetRow, ...]
    notes: tuple[str, ...]
    department: str | None = None
    signatures: tuple[tuple[str, str], ...] = ()
    places: int = 2
    year: str | None = None

    @property
    def width(self) -> int:
        return len(self.columns)


def _level_name(depth: int) -> str:
    chinese = resolve_lang() == "zh" and depth < len(_LEVELS)
    return tr("print.level", n=_LEVELS[depth] if chinese else str(depth + 1))


def _title(rubric: Rubric, year: str | None) -> str:
    """The rubric's title, with the year of the evaluation in front when the title does
    not already name it: the inputs' ``unit.year``, else the rubric's ``year``."""
    if year is None and rubric.year is not None:
        year = str(rubric.year)
    if year is None or year in rubric.title:
        return rubric.title
    return tr("print.title_year", year=year, title=rubric.title)


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
        # a deduction's text says what it took (扣1分); other steps carry their points
        text += tr("print.points", points=_amount(step.points))
    return text


def deduction_text(node: IndicatorResult, places: int = 2) -> str:
    """The 扣分说明 of a leaf, from its explanation (see the module docstring).

    ``places`` is how many decimals the points lost are rounded to for display.
    """
    steps = node.explanation.steps if node.explanation is not None else ()
    join = tr("print.join")
    if node.override is not None:  # a reviewer's score: say so, and what was computed
        decided = [_step_text(s, signed=False) for s in steps if s.kind == "override"]
        computed = node.override.computed
        head = [] if computed is None else [tr("override.computed", computed=_amount(computed))]
        return join.join(head + decided) or tr("override.computed", computed=NO_DEDUCTION)
    moved = node.effective_weight != node.weight
    weight_note = tr(
        "print.weight_moved", old=_amount(node.weight), new=_amount(node.effective_weight)
    )
    if node.status is Status.NOT_APPLICABLE:
        why = join.join(_step_text(s, signed=False) for s in steps)
        # The engine's step already reads "不适用（reason）：policy"; say 不适用 only once.
        not_applicable = tr("print.not_applicable")
        if why.casefold().startswith(not_applicable.casefold()):
            text = why
        else:
            text = tr("print.not_applicable_because", why=why) if why else not_applicable
        return f"{weight_note}{join}{text}" if moved else text
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
    text = tr("print.lost", points=_amount(lost))
    if chosen:
        text += tr("print.because") + join.join(_step_text(s, signed=True) for s in chosen)
    if moved and not any(s.kind == "redistribution" for s in chosen):
        text = f"{weight_note}{join}{text}"
    return text


def _fixed(value: Decimal, places: int) -> str:
    """``value`` with exactly ``places`` decimals (``5`` → ``5.00``)."""
    return to_str(round_decimal(value, places))


def _number(value: Decimal, places: int) -> Cell:
    """A 分值 or 得分 cell: the exact value, shown with the rubric's score places."""
    return Cell(_fixed(value, places), "number", value)


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

    ``department`` is shown as 被评价单位 under the title when given, else the
    ``unit.name`` of the department's inputs, when they have one; the inputs'
    ``unit.year`` is shown as 评价年度 and put in front of the title (else the rubric's
    ``year``). 分值 and 得分 are shown with the rubric's score places. Raises
    :class:`ValueError` when ``result`` comes from another rubric.
    """
    if result.rubric_id != rubric.id:
        raise ValueError(
            f"the result was scored with rubric {result.rubric_id!r}, not {rubric.id!r}"
        )
    places = rubric.rounding.score.places
    nodes = {n.id: n for n in result.indicators}
    levels = max((n.depth for n in result.indicators), default=0) + 1
    columns = (*(_level_name(d) for d in range(levels)), *(tr(key) for key in _TAIL_KEYS))
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
            builder.place(row, weight_col, _number(_weight(leaf), places))
            builder.place(row, score_col, _number(leaf.score, places))
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
            subtotal_label = Cell(tr("print.subtotal"), "label", colspan=levels - label_col)
            builder.place(row, label_col, subtotal_label)
            builder.place(row, weight_col, _number(_weight(top), places))
            builder.place(row, score_col, _number(top.score, places))

    row = builder.add_row("total")
    builder.place(row, 0, Cell(tr("print.total"), "label", colspan=levels))
    builder.place(row, weight_col, _number(result.max_total, places))
    builder.place(row, score_col, _number(result.total, places))

    row = builder.add_row("grade")
    builder.place(row, 0, Cell(tr("print.grade"), "label", colspan=levels))
    builder.place(row, weight_col, Cell(_grade_text(result, rubric), "label", colspan=4))

    unit = result.unit or {}
    if not department:
        department = unit.get("name") or None
    year = unit.get("year") or None
    blank = "_" * 12
    # 被评价单位 is always there: a unit the inputs do not name is a blank to write on
    meta: list[tuple[str, str]] = [(tr("print.unit"), department or blank)]
    if year:
        meta.append((tr("print.year"), year))
    rubric_text = tr("print.rubric_text", id=rubric.id, version=rubric.version)
    if rubric.issuer:
        rubric_text = f"{rubric.issuer} {rubric_text}"
    meta.append((tr("print.rubric"), rubric_text))

    join = tr("print.join")
    bands = join.join(f"{band.name} {band.range}" for band in rubric.grades)
    notes = [tr("print.bands", bands=bands)]
    notes.extend(
        tr("print.hint", message=w.message) for w in result.warnings if w.code != "grade.capped"
    )
    signatures = tuple(
        (tr(key), tr("print.date_blank") if key == "print.date" else blank)
        for key in _SIGNATURE_KEYS
    )
    return ScoreSheet(
        title=_title(rubric, year),
        meta=tuple(meta),
        columns=columns,
        levels=levels,
        rows=builder.rows(),
        notes=tuple(notes),
        department=department,
        signatures=signatures,
        places=places,
        year=year,
    )


def _grade_text(result: ScoreResult, rubric: Rubric) -> str:
    if result.grade_before_caps is None:
        return result.grade
    reasons = {cap.id: cap.reason or cap.id for cap in rubric.grade_caps}
    why = tr("print.join").join(reasons.get(cap, cap) for cap in result.grade_caps)
    return tr("print.grade_capped", grade=result.grade, before=result.grade_before_caps, why=why)


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
    if sheet.signatures:
        lines.append("")
        signatures = (_signature(label, blank) for label, blank in sheet.signatures)
        # the labels come from the catalogue; only the blanks need escaping
        lines.append("\u3000\u3000".join(signatures).replace("_", "\\_"))
    return "\n".join(lines)


def _signature(label: str, blank: str) -> str:
    return tr("print.field", label=label, value=blank)


# --------------------------------------------------------------------------- html

_CSS: Final = """\
@page { size: A4 landscape; margin: 12mm 10mm; }
* { box-sizing: border-box; }
body {
  margin: 16px;
  color: #000;
  font: 10.5pt/1.45 "SimSun", "宋体", "Songti SC", "Noto Serif CJK SC", "Source Han Serif SC",
    "Noto Sans CJK SC", "WenQuanYi Zen Hei", serif;
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
tr.end td { border: none; background: none; font-weight: normal; padding: 4px 0 0; }
.notes { margin: 0; padding: 0; list-style: none; font-size: 9.5pt; }
.sign { display: flex; flex-wrap: wrap; justify-content: space-between; margin: 18px 0 0; }
.sign span { margin-right: 2em; white-space: nowrap; }
@media print {
  body { margin: 0; font-size: 9.5pt; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  thead { display: table-header-group; }
  tr, td, th { page-break-inside: avoid; break-inside: avoid; }
  h1, .meta { page-break-after: avoid; break-after: avoid; }
  /* a 一级指标 stays on one page; the last one stays with 合计, 评价等次 and the
     sign-off lines, so the last page never holds the total alone */
  tbody.group, tbody.tail { page-break-inside: avoid; break-inside: avoid; }
}
@media (max-width: 480px) {
  body { margin: 6px; font-size: 9pt; line-height: 1.35; }
  h1 { font-size: 13pt; }
  .meta { display: block; }
  .meta span { display: block; margin: 0; }
  table { table-layout: auto; }
  col { width: auto !important; }
  th, td { padding: 2px 3px; }
  th { overflow-wrap: normal; word-break: normal; }
  td.number, th.number { white-space: nowrap; overflow-wrap: normal; padding: 2px 2px; }
  .sign { display: block; }
  .sign span { display: block; margin: 6px 0 0; }
}
"""


def _column_shares(sheet: ScoreSheet) -> list[float]:
    """Percent of the page width per column, in proportion to the XLSX column widths."""
    widths = _column_widths(sheet)
    total = sum(widths)
    return [round(100 * w / total, 1) for w in widths]


def to_html(sheet: ScoreSheet) -> str:
    """One self-contained HTML page: inline CSS, no scripts, nothing fetched.

    Each 一级指标 is a ``<tbody class="group">``, the last one a ``<tbody class="tail">``
    that also holds 合计, 评价等次, the notes and the sign-off lines: printed, a group
    is not split over two pages and the last page never holds the total alone. Below
    480px wide (a phone) the columns size to their content, numbers never wrap and text
    wraps anywhere, so the table fits the screen.
    """
    esc = html.escape
    numbers = {sheet.levels, sheet.levels + 2}  # 分值, 得分
    number_head = ' class="number"'
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if resolve_lang() == "zh" else "en"}">',
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
        "<tr>"
        + "".join(
            f'<th scope="col"{number_head if i in numbers else ""}>{esc(c)}</th>'
            for i, c in enumerate(sheet.columns)
        )
        + "</tr>",
        "</thead>",
    ]
    groups = _groups(sheet)
    for g, (start, stop) in enumerate(groups):
        last = g == len(groups) - 1
        out.append('<tbody class="tail">' if last else '<tbody class="group">')
        out.extend(_html_row(row) for row in sheet.rows[start:stop])
        if last:
            # notes and sign-off lines as the table's last rows, so that they are kept
            # on one page with the last 一级指标, 合计 and 评价等次
            out.append(f'<tr class="end"><td colspan="{sheet.width}">')
            if sheet.notes:
                out.append('<ul class="notes">')
                out.extend(f"<li>{esc(note)}</li>" for note in sheet.notes)
                out.append("</ul>")
            if sheet.signatures:
                out.append(
                    '<p class="sign">'
                    + "".join(
                        f"<span>{esc(_signature(label, blank))}</span>"
                        for label, blank in sheet.signatures
                    )
                    + "</p>"
                )
            out.append("</td></tr>")
        out.append("</tbody>")
    out += ["</table>", "</body>", "</html>", ""]
    return "\n".join(out)


def _groups(sheet: ScoreSheet) -> list[tuple[int, int]]:
    """The rows of each 一级指标 as ``(start, stop)``: from a row whose first column
    starts a cell to the next such row; 合计 and 评价等次 join the last group."""
    starts = [
        i
        for i, row in enumerate(sheet.rows)
        if row.role == "leaf" and row.cells and row.cells[0] is not None
    ]
    if not starts:
        return [(0, len(sheet.rows))]
    bounds = [*starts[1:], len(sheet.rows)]
    groups = list(zip(starts, bounds, strict=True))
    return [(0, groups[0][1]), *groups[1:]] if starts[0] else groups


def _html_row(row: SheetRow) -> str:
    esc = html.escape
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
    return f'<tr class="{row.role}"{attrs}>' + "".join(cells) + "</tr>"


# --------------------------------------------------------------------------- xlsx

_FONT: Final = "宋体"
_LINE_HEIGHT: Final = 14.0  # points per line of 10-point text
_TITLE_ROW: Final = 1
_META_ROW: Final = 2
_HEADER_ROW: Final = 3
_TITLE_HEIGHT: Final = 28.0
_HEADER_HEIGHT: Final = 20.0
_SIGN_HEIGHT: Final = 28.0  # the sign-off line, written at the foot of its row

#: Page margins in inches; the footer (page numbers) sits between ``footer`` and
#: ``bottom``, so it is never cut.
_MARGINS: Final = {
    "left": 0.4,
    "right": 0.4,
    "top": 0.5,
    "bottom": 0.75,
    "header": 0.3,
    "footer": 0.3,
}
#: A4 landscape in points.
_PAGE: Final = (842.0, 595.0)
#: The share of a page's height the page plan fills. The row heights are set, so the
#: height a page takes is known once the print scale is; the rest is room for an
#: application whose scale comes out a little larger than Excel's.
_PAGE_FILL: Final = 0.97


def _column_points(width: float) -> float:
    """Points a column ``width`` characters wide takes as Excel draws it: ``width × 7``
    pixels (the digit of the default font, Calibri 11, is 7 pixels wide; the width
    stored already counts the cell's padding), at 0.75 points a pixel. LibreOffice with
    Carlito draws the columns a little wider, hence at a smaller scale: its pages have
    room to spare."""
    return round(width * 7) * 0.75


def _page_plan(
    sheet: ScoreSheet,
    heights: list[float],
    tail: float,
    first_page: float,
    header: float,
    page: float,
) -> list[int]:
    """The body rows a new page starts at, so that a reviewer's print is whole.

    ``heights`` are the body rows' heights, ``tail`` the height of what follows the table
    (notes, sign-off lines), ``first_page`` the title rows and the header, ``header`` the
    header repeated on every page, ``page`` the height a page holds (all in points, before
    the print scaling). A page breaks only before a leaf that no 评分标准 spans into from
    above; a 一级指标 that does not fit on what is left of a page starts the next one;
    the last leaf, its 小计, 合计, 评价等次, the notes and the sign-off lines stay together.
    """
    count = len(sheet.rows)
    inside = [False] * count  # rows a merged 评分标准 (or a merged label) covers from above
    for r, row in enumerate(sheet.rows):
        for cell in row.cells:
            if cell is not None and cell.kind != "level" and cell.rowspan > 1:
                for covered in range(r + 1, r + cell.rowspan):
                    inside[covered] = True
    leaves = [r for r, row in enumerate(sheet.rows) if row.role == "leaf"]
    last_leaf = leaves[-1] if leaves else 0
    allowed = [r for r in leaves if not inside[r] and r <= last_leaf and r > 0]
    starts = [0, *allowed]
    bounds = [*allowed, count]
    units = [(a, b, sum(heights[a:b])) for a, b in zip(starts, bounds, strict=True)]
    units[-1] = (units[-1][0], units[-1][1], units[-1][2] + tail)
    group_starts = {
        r for r, row in enumerate(sheet.rows) if row.role == "leaf" and row.cells[0] is not None
    }

    def group_height(index: int) -> float:
        total = units[index][2]
        for a, _, h in units[index + 1 :]:
            if a in group_starts:
                break
            total += h
        return total

    breaks: list[int] = []
    used = first_page
    fresh = True  # nothing of the body on this page yet
    for i, (start, _, height) in enumerate(units):
        move = False
        if not fresh:
            if used + height > page:
                move = True
            elif start in group_starts:
                whole = group_height(i)
                move = used + whole > page
        if move:
            breaks.append(start)
            used = header
        used += height
        fresh = False
    return breaks


def _with_formulas(data: bytes, formulas: dict[str, str]) -> bytes:
    """The workbook ``data`` with ``formulas`` (cell reference → formula without ``=``) put
    into cells that already hold their values: each cell then keeps its value as the
    formula's cached result, for readers that do not calculate, and Excel or LibreOffice
    recompute it when a reviewer changes a score."""
    if not formulas:
        return data
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = content.decode("utf-8")
                for ref, formula in formulas.items():
                    pattern = re.compile(f'(<c r="{ref}"[^>]*>)(?=<v>)')
                    put = f"<f>{xml_escape(formula)}</f>"
                    text, found = pattern.subn(lambda m: m.group(1) + put, text, 1)  # noqa: B023 - used at once
                    if not found:  # pragma: no cover - every formula cell holds a number
                        raise AssertionError(f"no value in {ref} to put a formula on")
                content = text.encode("utf-8")
            target.writestr(info, content)
    return out.getvalue()


def _adds_up(parts: list[Decimal | None], wanted: Decimal | None) -> bool:
    """Whether the numbers ``parts`` add up to ``wanted`` exactly."""
    if not parts or wanted is None:
        return False
    numbers = [n for n in parts if n is not None]
    return len(numbers) == len(parts) and sum(numbers) == wanted


def _sum_formulas(sheet: ScoreSheet, first: int, column: int) -> dict[str, str]:
    """``SUM(...)`` for the 小计 and 合计 of ``column`` (分值 or 得分), each only where the
    shown values add up to the value exactly (a rubric may round or cap a branch)."""
    from openpyxl.utils import get_column_letter

    letter = get_column_letter(column + 1)
    formulas: dict[str, str] = {}

    def value(r: int) -> Decimal | None:
        cell = sheet.rows[r].cells[column]
        return cell.number if cell is not None else None

    parts: list[int] = []  # rows the total adds up: each group's 小计, or its leaf
    for start, stop in _groups(sheet):
        rows = [r for r in range(start, stop) if sheet.rows[r].role in ("leaf", "subtotal")]
        subtotals = [r for r in rows if sheet.rows[r].role == "subtotal"]
        if not subtotals:
            parts.extend(rows)
            continue
        subtotal = subtotals[0]
        leaves = [r for r in rows if sheet.rows[r].role == "leaf"]
        if _adds_up([value(r) for r in leaves], value(subtotal)):
            span = f"{letter}{first + leaves[0]}:{letter}{first + leaves[-1]}"
            formulas[f"{letter}{first + subtotal}"] = f"SUM({span})"
        parts.append(subtotal)
    total = next((r for r, row in enumerate(sheet.rows) if row.role == "total"), None)
    if total is not None and _adds_up([value(r) for r in parts], value(total)):
        refs = ",".join(f"{letter}{first + r}" for r in parts)
        formulas[f"{letter}{first + total}"] = f"SUM({refs})"
    return formulas


def to_xlsx(sheet: ScoreSheet) -> bytes:
    """The sheet as an XLSX workbook, ready to print.

    Merged ranges, borders, wrapped text; 分值 and 得分 as numbers shown with the
    rubric's places; each 小计 and the 合计 a ``=SUM(...)`` formula that keeps its value
    (so a reviewer's edit of a 得分 updates them, and a reader that does not calculate
    still sees them); a frozen header. Print setup: A4 landscape, fit to the page's
    width, the header row repeated on every page, page numbers in a footer the margins
    leave room for, page breaks placed so that a 一级指标 is not split when it fits on a
    page and its labels are written again on the page after a break, and the last rows
    (合计, 评价等次, the notes and the 评价人、复核人、日期 lines) kept with the rows above them.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.pagebreak import Break
    from openpyxl.worksheet.properties import PageSetupProperties

    book = Workbook()
    ws: Worksheet = book.active  # type: ignore[assignment]  # a new workbook has one sheet
    ws.title = tr("print.sheet")
    book.properties.title = sheet.title
    book.properties.creator = "perfscore"

    width = sheet.width
    last = get_column_letter(width)
    widths = _column_widths(sheet)
    for col, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = w
    number_format = "0." + "0" * sheet.places if sheet.places > 0 else "0"

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
    ws.row_dimensions[_TITLE_ROW].height = _TITLE_HEIGHT

    ws.merge_cells(start_row=_META_ROW, start_column=1, end_row=_META_ROW, end_column=width)
    meta_text = "\u3000\u3000".join(_signature(label, value) for label, value in sheet.meta)
    meta = ws.cell(_META_ROW, 1, xml_text(meta_text))
    meta.font = body_font
    meta.alignment = Alignment(horizontal="left", vertical="center", wrap_text=True)
    meta_height = max(18.0, _lines(meta_text, sum(widths)) * _LINE_HEIGHT + 4)
    ws.row_dimensions[_META_ROW].height = meta_height

    for col, name in enumerate(sheet.columns, start=1):
        cell = ws.cell(_HEADER_ROW, col, xml_text(name))
        cell.font, cell.alignment, cell.border = bold, center, border
        cell.fill = fills["header"]
    header_height = _HEADER_HEIGHT
    ws.row_dimensions[_HEADER_ROW].height = header_height

    # Row heights, from the text of the cells (merged cells over several rows share out
    # the room they need).
    heights = [_LINE_HEIGHT + 4] * len(sheet.rows)
    tall: list[tuple[int, int, float]] = []  # merged cells over several rows: (row, span, need)
    for r, row in enumerate(sheet.rows):
        for c, spec in enumerate(row.cells):
            if spec is None:
                continue
            need = _lines(spec.text, sum(widths[c : c + spec.colspan])) * _LINE_HEIGHT + 4
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
    heights = [round(h, 1) for h in heights]
    note_heights = [_lines(note, sum(widths)) * _LINE_HEIGHT + 4 for note in sheet.notes]
    tail = sum(note_heights)  # the notes, right under the table
    if sheet.signatures:
        tail += _SIGN_HEIGHT

    printable_width = _PAGE[0] - (_MARGINS["left"] + _MARGINS["right"]) * 72
    printable_height = _PAGE[1] - (_MARGINS["top"] + _MARGINS["bottom"]) * 72
    scale = min(1.0, math.floor(100 * printable_width / sum(map(_column_points, widths))) / 100)
    breaks = _page_plan(
        sheet,
        heights,
        tail,
        first_page=_TITLE_HEIGHT + meta_height + header_height,
        header=header_height,
        page=printable_height / scale * _PAGE_FILL,
    )

    first = _HEADER_ROW + 1
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
            # a merged cell is cut at each page break inside it, its text written again
            # at the top of the next page
            cuts = [b for b in breaks if r < b < r + spec.rowspan]
            pieces = list(zip([r, *cuts], [*cuts, r + spec.rowspan], strict=True))
            for top, bottom in pieces:
                xl = ws.cell(first + top, c + 1)
                if spec.number is not None:
                    xl.value = spec.number
                    xl.number_format = number_format
                else:
                    xl.value = xml_text(spec.text)
                plain = spec.kind == "text" and spec.text != NO_DEDUCTION
                xl.alignment = left if plain else center
                if bottom - top > 1 or spec.colspan > 1:
                    ws.merge_cells(
                        start_row=first + top,
                        start_column=c + 1,
                        end_row=first + bottom - 1,
                        end_column=c + spec.colspan,
                    )
    for r, height in enumerate(heights):
        ws.row_dimensions[first + r].height = height
    for b in breaks:
        ws.row_breaks.append(Break(id=first + b - 1))

    end = first + len(sheet.rows) - 1
    for i, (note, height) in enumerate(zip(sheet.notes, note_heights, strict=True), start=end + 1):
        ws.merge_cells(start_row=i, start_column=1, end_row=i, end_column=width)
        note_cell = ws.cell(i, 1, xml_text(note))
        note_cell.font = body_font
        note_cell.alignment = Alignment(horizontal="left", vertical="top", wrap_text=True)
        ws.row_dimensions[i].height = height
    last_row = end + len(sheet.notes)
    if sheet.signatures:
        last_row += 1
        ws.merge_cells(start_row=last_row, start_column=1, end_row=last_row, end_column=width)
        sign = "\u3000" * 6
        sign_text = sign.join(_signature(label, blank) for label, blank in sheet.signatures)
        sign_cell = ws.cell(last_row, 1, xml_text(sign_text))
        sign_cell.font = body_font
        sign_cell.alignment = Alignment(horizontal="left", vertical="bottom")
        ws.row_dimensions[last_row].height = _SIGN_HEIGHT

    ws.freeze_panes = f"A{first}"
    ws.print_title_rows = f"{_HEADER_ROW}:{_HEADER_ROW}"
    ws.print_area = f"A1:{last}{last_row}"
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_options.horizontalCentered = True
    for side, inches in _MARGINS.items():
        setattr(ws.page_margins, side, inches)
    footer = ws.oddFooter
    if footer is not None:  # always there on a new sheet; the stubs allow None
        footer.center.text = tr("print.footer")
        footer.center.size = 9
    book.calculation.fullCalcOnLoad = True  # Excel recomputes the sums when it opens the file

    defuse_workbook(book)
    buffer = io.BytesIO()
    book.save(buffer)
    formulas = {}
    for column in (sheet.levels, sheet.levels + 2):  # 分值, 得分
        formulas.update(_sum_formulas(sheet, first, column))
    return _with_formulas(buffer.getvalue(), formulas)


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
    write_whole(path, content.encode("utf-8") if isinstance(content, str) else content)


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
