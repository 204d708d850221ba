"""A bureau's 评分表 (XLSX or DOCX) read into rows: level names, weight, 指标解释, 评分标准.

Reading never runs anything from the file and is bounded: the file's size
(:data:`MAX_FILE_BYTES`), each part unpacked (the XLSX check of
:func:`perfscore.population.readers.check_workbook`, the same bounds for DOCX), and the
cells looked at (:data:`MAX_ROWS` × :data:`MAX_COLUMNS`).

The header row is found by its names (一级指标/二级指标/三级指标, 分值/权重/标准分,
指标解释/指标说明, 评分标准/评分细则/评分要点, 得分), in one row or two stacked rows. Merged
cells give their text to every position they cover; a blank level cell takes the text
above it (a continuation cell); 小计 and 合计 rows are kept apart as subtotal and total rows;
a level name written with its weight ("投入（15分）") gives that weight to the branch.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final, Literal

from perfscore.errors import Issue, Location, PerfscoreError
from perfscore.population.readers import (
    MAX_XLSX_PART,
    MAX_XLSX_RATIO,
    UnsafeWorkbook,
    check_workbook,
)

__all__ = [
    "MAX_COLUMNS",
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "Grid",
    "Row",
    "Table",
    "TableError",
    "find_table",
    "read_grid",
    "read_table",
]

MAX_FILE_BYTES: Final = 20 * 1024 * 1024
MAX_ROWS: Final = 2000
MAX_COLUMNS: Final = 60

Kind = Literal["leaf", "subtotal", "total"]


class TableError(PerfscoreError):
    """The table cannot be read: no such file, not XLSX/DOCX, unsafe, or no header."""


@dataclass(frozen=True, slots=True)
class GridCell:
    text: str
    origin: tuple[int, int]  # the top-left position of the merged range it belongs to


@dataclass(frozen=True, slots=True)
class Grid:
    """One sheet or DOCX table as text cells, merged ranges spread over what they cover."""

    name: str  # the sheet's name, or "表1" for the first DOCX table
    cells: tuple[tuple[GridCell, ...], ...]
    docx: bool = False

    def place(self, row: int, col: int) -> str:
        """``评分表!C5`` for a sheet, ``表1 第5行第3列`` for a DOCX table (1-based)."""
        if self.docx:
            return f"{self.name} 第{row + 1}行第{col + 1}列"
        return f"{self.name}!{_column_letter(col)}{row + 1}"


@dataclass(frozen=True, slots=True)
class Row:
    """A row of the table body: a leaf (with its chain of level names), a 小计 or the 合计."""

    kind: Kind
    names: tuple[str, ...]
    weight: Decimal | None
    standard: str
    description: str
    place: str
    weight_place: str
    #: weights written into level names ("投入（15分）"), by depth
    level_weights: tuple[Decimal | None, ...] = ()
    #: where the 评分标准 cell starts: rows sharing one merged cell share its origin
    standard_origin: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class Table:
    """The rows of the scoring table, and where it came from."""

    source: str
    grid: str
    title: str | None
    levels: int
    rows: tuple[Row, ...]
    notes: tuple[Issue, ...] = field(default=())


def _column_letter(col: int) -> str:
    out = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value).strip()


def _fail(code: str, path: Path, **params: Any) -> TableError:
    return TableError([Issue.of(code, Location(file=str(path)), **params)])


# --------------------------------------------------------------------------- reading files


def _check_archive(path: Path) -> None:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise _fail("draft.too_large", path, size=path.stat().st_size, limit=MAX_FILE_BYTES)
    try:
        if path.suffix.lower() == ".xlsx":
            check_workbook(path, streamed=False)
            return
        with zipfile.ZipFile(path) as archive:
            for part in archive.infolist():
                size, packed = part.file_size, max(part.compress_size, 1)
                if size > MAX_XLSX_PART or (size > 1024 * 1024 and size > MAX_XLSX_RATIO * packed):
                    raise _fail("draft.unsafe", path, part=part.filename, size=size)
    except UnsafeWorkbook as e:
        raise _fail("draft.unsafe", path, part=str(e), size=0) from e
    except zipfile.BadZipFile as e:
        raise _fail("draft.not_table", path, suffix=path.suffix) from e


def _xlsx_grids(path: Path, sheet: str | None) -> list[Grid]:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=False, data_only=True)
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise _fail("draft.no_sheet", path, sheet=sheet, sheets="、".join(book.sheetnames))
        sheets = [book[sheet]] if sheet is not None else list(book.worksheets)
        grids = []
        for ws in sheets:
            rows = min(ws.max_row, MAX_ROWS)
            cols = min(ws.max_column, MAX_COLUMNS)
            values = [
                [_text(c) for c in r]
                for r in ws.iter_rows(min_row=1, max_row=rows, max_col=cols, values_only=True)
            ]
            origin = [[(r, c) for c in range(cols)] for r in range(rows)]
            for merged in ws.merged_cells.ranges:
                r0, c0 = merged.min_row - 1, merged.min_col - 1
                if r0 >= rows or c0 >= cols:
                    continue
                for r in range(r0, min(merged.max_row, rows)):
                    for c in range(c0, min(merged.max_col, cols)):
                        values[r][c] = values[r0][c0]
                        origin[r][c] = (r0, c0)
            cells = tuple(
                tuple(GridCell(values[r][c], origin[r][c]) for c in range(cols))
                for r in range(rows)
            )
            grids.append(Grid(ws.title, cells))
        return grids
    finally:
        book.close()


def _docx_grids(path: Path) -> tuple[list[Grid], str | None]:
    import docx  # python-docx

    document = docx.Document(str(path))
    title = next((p.text.strip() for p in document.paragraphs if p.text.strip()), None)
    grids = []
    for number, table in enumerate(document.tables, start=1):
        rows: list[tuple[GridCell, ...]] = []
        seen: dict[Any, tuple[int, int]] = {}
        for r, row in enumerate(table.rows):
            if r >= MAX_ROWS:
                break
            line = []
            for c, cell in enumerate(row.cells[:MAX_COLUMNS]):
                # a merged cell is the same element at every position; the dict holds the
                # element itself, so that lxml keeps one proxy for it (an id() could be reused)
                origin = seen.setdefault(cell._tc, (r, c))
                line.append(GridCell(cell.text.strip(), origin))
            rows.append(tuple(line))
        width = max((len(r) for r in rows), default=0)
        rows = [
            r + tuple(GridCell("", (i, len(r) + j)) for j in range(width - len(r)))
            for i, r in enumerate(rows)
        ]
        grids.append(Grid(f"表{number}", tuple(rows), docx=True))
    return grids, title


def read_grid(path: str | Path, sheet: str | None = None) -> tuple[list[Grid], str | None]:
    """Every sheet (or the one named) of an XLSX file, or every table of a DOCX file, and
    a title when the file has one (a DOCX file's first paragraph)."""
    path = Path(path)
    if not path.is_file():
        raise _fail("draft.no_file", path)
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".docx"):
        raise _fail("draft.not_table", path, suffix=suffix)
    _check_archive(path)
    try:
        if suffix == ".xlsx":
            return _xlsx_grids(path, sheet), None
        if sheet is not None:
            raise _fail("draft.sheet_docx", path, sheet=sheet)
        return _docx_grids(path)
    except TableError:
        raise
    except Exception as e:  # openpyxl and python-docx raise many kinds on a malformed file
        raise _fail("draft.not_table", path, suffix=suffix) from e


# --------------------------------------------------------------------------- the header

_LEVEL_NAMES: Final = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4}
_WEIGHT: Final = ("分值", "权重", "标准分", "分数", "满分", "指标分值", "权重分", "标准分值")
_DESCRIPTION: Final = (
    "指标解释",
    "指标说明",
    "指标内涵",
    "指标定义",
    "指标释义",
    "考核内容",
    "评价内容",
)
_STANDARD: Final = (
    "评分标准",
    "评分细则",
    "评分要点",
    "评分办法",
    "评价标准",
    "计分方法",
    "评分方法",
    "考核标准",
    "评分依据",
    "评价要点",
    "扣分标准",
)
_SCORE: Final = ("得分", "自评得分", "评价得分", "实际得分", "评分", "考核得分")


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"\s+", "", text)
    return re.sub(r"\(.*?\)", "", text)


@dataclass(frozen=True, slots=True)
class _Header:
    row: int  # the last header row
    levels: tuple[int, ...]
    weight: int | None
    description: int | None
    standard: int
    score: int | None


def _header(cells: list[str], row: int) -> _Header | None:
    levels: dict[int, int] = {}
    weight = description = standard = score = None
    for col, raw in enumerate(cells):
        text = _clean(raw)
        if m := re.fullmatch(r"([一二三四五])级(?:指标)?(?:名称)?", text):
            levels.setdefault(_LEVEL_NAMES[m.group(1)], col)
        elif text in _WEIGHT and weight is None:
            weight = col
        elif text in _DESCRIPTION and description is None:
            description = col
        elif text in _STANDARD and standard is None:
            standard = col
        elif text in _SCORE and score is None:
            score = col
    if not levels or standard is None or sorted(levels) != list(range(len(levels))):
        return None
    return _Header(
        row, tuple(levels[d] for d in sorted(levels)), weight, description, standard, score
    )


def find_table(grids: list[Grid]) -> tuple[Grid, _Header] | None:
    """The first grid with a header row among its first 30 rows (two stacked header rows
    are read as one: 指标 over 一级/二级/三级)."""
    for grid in grids:
        for r in range(min(len(grid.cells), 30)):
            texts = [c.text for c in grid.cells[r]]
            found = _header(texts, r)
            if found is None and r + 1 < len(grid.cells):
                below = [c.text for c in grid.cells[r + 1]]
                merged = [b if _clean(b) else a for a, b in zip(texts, below, strict=True)]
                found = _header(merged, r + 1)
            if found is not None:
                return grid, found
    return None


# --------------------------------------------------------------------------- the body

_WEIGHT_IN_NAME: Final = re.compile(r"^(?P<name>.*?)[(（]\s*(?P<w>\d+(?:\.\d+)?)\s*分?\s*[)）]$")
_SUBTOTAL: Final = re.compile(r"^(?:小计|合计[:：]?.*小计)$")
_END: Final = re.compile(
    r"^(?:评价等次|等次|评价等级|绩效等级|绩效评价等级|评价结论|等级|备注|说明|填表说明)[:：]?$"
)
_TOTAL: Final = re.compile(r"^(?:合计|总计|总分|得分合计|总得分|合计得分)$")


def _name(text: str) -> tuple[str, Decimal | None]:
    """A level name without the spaces of a printed table ("投 入") and without a weight
    written into it ("投入（15分）" → 投入, 15)."""
    text = re.sub(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])", "", text.strip())
    text = re.sub(r"\n+", "", text)
    m = _WEIGHT_IN_NAME.match(unicodedata.normalize("NFKC", text))
    if m is not None and m.group("name").strip():
        return m.group("name").strip(), Decimal(m.group("w"))
    return text, None


def _weight(text: str) -> Decimal | None:
    text = unicodedata.normalize("NFKC", text).strip().removesuffix("分").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def read_table(path: str | Path, sheet: str | None = None) -> Table:
    """The scoring table of ``path`` as rows. Raises :class:`TableError` with the file and
    the fix when it cannot be read or has no header row."""
    path = Path(path)
    grids, title = read_grid(path, sheet)
    found = find_table(grids)
    if found is None:
        raise _fail("draft.no_header", path)
    grid, head = found
    notes: list[Issue] = []
    weight_col = head.weight
    if weight_col is None and head.score is not None:
        weight_col = head.score
        notes.append(
            Issue.of(
                "draft.weight_from_score",
                Location(str(path), path=(grid.place(head.row, weight_col),)),
            )
        )
    if title is None:
        for r in range(head.row):
            texts = {c.text for c in grid.cells[r] if c.text}
            if len(texts) == 1:
                title = texts.pop()
                break
    rows: list[Row] = []
    above: list[str] = [""] * len(head.levels)
    level_cols = head.levels
    for r in range(head.row + 1, len(grid.cells)):
        line = grid.cells[r]
        raw = [line[c].text for c in level_cols]
        standard = line[head.standard].text
        description = line[head.description].text if head.description is not None else ""
        weight_text = line[weight_col].text if weight_col is not None else ""
        weight_place = (
            grid.place(r, weight_col) if weight_col is not None else grid.place(r, head.standard)
        )
        if not any(raw) and not standard and not weight_text and not description:
            continue
        labels = {_clean(t) for t in raw if t}
        if any(_END.match(t) for t in labels) or (
            len({c.origin for c in line}) == 1 and len(line) > 1
        ):
            break  # the grade row, or a note spanning the whole width: the table has ended
        if any(_TOTAL.match(t) for t in labels):
            rows.append(
                Row(
                    "total",
                    (),
                    _weight(weight_text),
                    "",
                    "",
                    grid.place(r, level_cols[0]),
                    weight_place,
                )
            )
            continue
        if any(_SUBTOTAL.match(t) for t in labels):
            names = tuple(_name(t)[0] for t in raw if t and not _SUBTOTAL.match(_clean(t)))
            rows.append(
                Row(
                    "subtotal",
                    names,
                    _weight(weight_text),
                    "",
                    "",
                    grid.place(r, level_cols[0]),
                    weight_place,
                )
            )
            continue
        # the level names and the weight this row writes itself (not merged from above)
        own = [line[c].text if line[c].origin[0] == r else "" for c in level_cols]
        own_weight = weight_col is not None and line[weight_col].origin[0] == r and weight_text
        if not any(own) and not own_weight and rows and rows[-1].kind == "leaf":
            # a continuation row: more of the previous leaf's standard
            last = rows[-1]
            if standard and line[head.standard].origin[0] == r and standard != last.standard:
                rows[-1] = Row(
                    "leaf",
                    last.names,
                    last.weight,
                    f"{last.standard}\n{standard}",
                    last.description,
                    last.place,
                    last.weight_place,
                    last.level_weights,
                    last.standard_origin,
                )
            continue
        # the deepest level this row names; blank cells above it continue the row above
        deepest = max((d for d, t in enumerate(own) if t), default=-1)
        chain: list[str] = []
        weights: list[Decimal | None] = []
        previous_origin: tuple[int, int] | None = None
        for depth in range(deepest + 1):
            cell = line[level_cols[depth]]
            text = cell.text or above[depth]
            if cell.text and previous_origin is not None and cell.origin == previous_origin:
                continue  # a leaf spanning the level columns to its right
            previous_origin = cell.origin if cell.text else None
            name, in_name = _name(text)
            chain.append(name)
            weights.append(in_name)
            above[depth] = text
        for depth in range(deepest + 1, len(above)):
            above[depth] = ""
        if not chain or not chain[-1]:
            continue
        rows.append(
            Row(
                "leaf",
                tuple(chain),
                _weight(weight_text),
                standard,
                description,
                grid.place(r, level_cols[min(deepest, len(level_cols) - 1)]),
                weight_place,
                tuple(weights),
                line[head.standard].origin,
            )
        )
    return Table(str(path), grid.name, title, len(level_cols), tuple(rows), tuple(notes))
