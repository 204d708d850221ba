"""The 评分表 as a person sees it: the HTML drawn by headless Chromium, the XLSX by
LibreOffice, and what they drew read back.

- printed to PDF (A4), the last page holds more than 合计: the last leaf, 合计, 评价等次
  and the 评价人 line are on it (``pdftotext`` page by page);
- the XLSX prints with its page plan: as many pages as the planned breaks make, each page
  after a break starting with the group labels of its first row, the page footer on
  every page;
- at phone width (390 px) each number stays on one line inside its cell and the table
  fits the screen (measured in the page by a script added to a copy of the report);
- LibreOffice recomputes 小计 and 合计 after a 得分 is changed with openpyxl.

Skipped, with the reason, where Chromium, LibreOffice or poppler's ``pdftotext`` is not
installed; ``.ci/run`` installs them.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

import perfscore
from perfscore.loading import load_document
from perfscore.render import scoresheet
from perfscore.results import ScoreResult

from ._office import CHROMIUM, SOFFICE, chromium, soffice

pytestmark = pytest.mark.lang("zh")

ROOT = Path(__file__).resolve().parent.parent
CASES = {
    "demo": ("examples/demo/rubric.yaml", "examples/demo/inputs.yaml"),
    "project": (
        "rubrics/mof/project-self-eval-2020.yaml",
        "examples/project-self-eval-2020/inputs.yaml",
    ),
    "shaoyang": (
        "rubrics/shaoyang/dept-overall-2023.yaml",
        "examples/daxiang-emergency-2023/self-evaluation.yaml",
    ),
}

#: The tables that fit on one A4 page, printed from the HTML or the XLSX.
ONE_PAGE = {"demo", "project"}

PDFTOTEXT = shutil.which("pdftotext")
PDFINFO = shutil.which("pdfinfo")

#: ``.ci/run`` sets ``PERFSCORE_TEST_VISUAL=required``: there a missing tool fails the run.
REQUIRED = os.environ.get("PERFSCORE_TEST_VISUAL") == "required"

needs_chromium = pytest.mark.skipif(
    not REQUIRED and (CHROMIUM is None or PDFTOTEXT is None or PDFINFO is None),
    reason="needs chromium and poppler-utils (pdftotext, pdfinfo); .ci/run installs them",
)
needs_soffice = pytest.mark.skipif(
    not REQUIRED and (SOFFICE is None or PDFTOTEXT is None or PDFINFO is None),
    reason="needs LibreOffice (soffice) and poppler-utils; .ci/run installs them",
)


@pytest.mark.skipif(not REQUIRED, reason="PERFSCORE_TEST_VISUAL is not 'required'")
def test_the_tools_are_installed_where_they_are_required() -> None:
    tools = {"chromium": CHROMIUM, "soffice": SOFFICE, "pdftotext": PDFTOTEXT, "pdfinfo": PDFINFO}
    assert [name for name, path in tools.items() if path is None] == []


def scored(case: str) -> tuple[perfscore.Rubric, ScoreResult]:
    rubric_path, inputs_path = CASES[case]
    rubric = perfscore.load_rubric(ROOT / rubric_path)
    data, _ = load_document(ROOT / inputs_path)
    return rubric, perfscore.compile_rubric(rubric).score(data)


def pages(pdf: Path) -> list[str]:
    """The text of each page of ``pdf``."""
    assert PDFINFO is not None
    assert PDFTOTEXT is not None
    info = subprocess.run([PDFINFO, str(pdf)], capture_output=True, text=True, check=True)
    count = int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.MULTILINE).group(1))  # type: ignore[union-attr]
    return [
        subprocess.run(
            [PDFTOTEXT, "-layout", "-f", str(n), "-l", str(n), str(pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for n in range(1, count + 1)
    ]


def squeezed(text: str) -> str:
    """Text without white space: a cell's words may be laid out over several lines."""
    return re.sub(r"\s+", "", text)


def last_leaf_name(sheet: scoresheet.ScoreSheet) -> str:
    leaf = [row for row in sheet.rows if row.role == "leaf"][-1]
    return next(c.text for c in reversed(leaf.cells[: sheet.levels]) if c is not None)


# --------------------------------------------------------------------------- html, printed


@needs_chromium
@pytest.mark.parametrize("case", sorted(CASES))
def test_printed_html_has_no_lonely_last_page(case: str, tmp_path: Path) -> None:
    rubric, result = scored(case)
    sheet = scoresheet.build_sheet(result, rubric)
    page = tmp_path / "report.html"
    page.write_text(scoresheet.to_html(sheet), encoding="utf-8")
    pdf = tmp_path / "report.pdf"
    chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())
    texts = [squeezed(text) for text in pages(pdf)]
    assert (len(texts) == 1) == (case in ONE_PAGE), len(texts)
    last = texts[-1]
    for needed in (last_leaf_name(sheet), "合计", "评价等次", "评价人：", "复核人：", "日期："):
        assert squeezed(needed) in last, (needed, len(texts))
    assert "合计" not in "".join(texts[:-1])
    # the header row is printed again at the top of every page
    assert all("一级指标" in text for text in texts)
    if result.unit:
        assert squeezed(f"被评价单位：{result.unit['name']}") in texts[0]
        assert squeezed(f"评价年度：{result.unit['year']}") in texts[0]


# --------------------------------------------------------------------------- html, on a phone

#: A page that shows the report in a frame 390 pixels wide (a phone's), then measures, in
#: the frame, each number against its cell, and writes what it found into the page.
MEASURE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"></head>
<body style="margin:0">
<iframe id="phone" style="border:0" width="390" height="844" srcdoc="REPORT"></iframe>
<script>
const frame = document.getElementById("phone");
frame.addEventListener("load", () => {
  const doc = frame.contentDocument;
  const win = frame.contentWindow;
  const table = doc.querySelector("table.score-sheet");
  const out = {
    width: win.innerWidth,
    layout: win.getComputedStyle(table).tableLayout,
    tableRight: table.getBoundingClientRect().right,
    pageWidth: doc.documentElement.scrollWidth,
    numbers: 0,
    bad: [],
  };
  for (const cell of doc.querySelectorAll("td.number")) {
    out.numbers += 1;
    const box = cell.getBoundingClientRect();
    const range = doc.createRange();
    range.selectNodeContents(cell);
    const text = range.getBoundingClientRect();
    const lines = new Set(Array.from(range.getClientRects(), (r) => Math.round(r.top))).size;
    const inside = text.left >= box.left - 0.5 && text.right <= box.right + 0.5;
    if (!inside || lines > 1 || box.right > win.innerWidth + 0.5) {
      out.bad.push({text: cell.textContent, cell: [box.left, box.right],
                    glyphs: [text.left, text.right], lines});
    }
  }
  const pre = document.createElement("pre");
  pre.id = "measured";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
</body></html>
"""


@needs_chromium
@pytest.mark.parametrize("case", sorted(CASES))
def test_at_phone_width_numbers_stay_inside_their_cells(case: str, tmp_path: Path) -> None:
    rubric, result = scored(case)
    report = scoresheet.to_html(scoresheet.build_sheet(result, rubric))
    page = tmp_path / "phone.html"
    page.write_text(MEASURE.replace("REPORT", html.escape(report, quote=True)), encoding="utf-8")
    done = chromium(
        tmp_path, "--window-size=800,900", "--virtual-time-budget=5000", "--dump-dom", page.as_uri()
    )
    found = re.search(r'<pre id="measured">(.*?)</pre>', done.stdout, re.DOTALL)
    assert found is not None, done.stdout[-2000:]
    measured = json.loads(html.unescape(found.group(1)))
    assert measured["width"] == 390  # laid out at phone width
    assert measured["layout"] == "auto"  # the phone layout is the one in force
    assert measured["numbers"] > 0
    assert measured["bad"] == []
    assert measured["tableRight"] <= 390
    assert measured["pageWidth"] <= 390  # nothing wider than the screen: no sideways scrolling


@needs_chromium
def test_a_phone_screenshot_is_taken_at_phone_width(tmp_path: Path) -> None:
    rubric, result = scored("demo")
    page = tmp_path / "phone.html"
    page.write_text(scoresheet.render_report(result, rubric, "html"), encoding="utf-8")  # type: ignore[arg-type]
    shot = tmp_path / "phone.png"
    chromium(
        tmp_path,
        "--window-size=390,844",
        "--hide-scrollbars",
        f"--screenshot={shot}",
        page.as_uri(),
    )
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(data[16:20], "big")
    assert width == 390


# --------------------------------------------------------------------------- xlsx, printed


def workbook(content: bytes, *, data_only: bool = False) -> Worksheet:
    sheet = openpyxl.load_workbook(io.BytesIO(content), data_only=data_only).active
    assert isinstance(sheet, Worksheet)
    return sheet


@needs_soffice
@pytest.mark.parametrize("case", sorted(CASES))
def test_xlsx_prints_as_planned_in_libreoffice(case: str, tmp_path: Path) -> None:
    rubric, result = scored(case)
    sheet = scoresheet.build_sheet(result, rubric)
    content = scoresheet.to_xlsx(sheet)
    source = tmp_path / "report.xlsx"
    source.write_bytes(content)
    texts = pages(soffice(tmp_path, source, "pdf"))
    ws = workbook(content)
    starts = [brk.id + 1 for brk in ws.row_breaks.brk]
    # LibreOffice breaks pages where the plan says and nowhere else
    assert len(texts) == len(starts) + 1
    assert (len(texts) == 1) == (case in ONE_PAGE), len(texts)
    flat = [squeezed(text) for text in texts]
    for number, text in enumerate(flat, start=1):
        assert f"第{number}页，共{len(texts)}页" in text  # the footer is printed whole
        assert "一级指标" in text  # the header row is repeated
    # after a break the first row's group labels are there again
    for text, start in zip(flat[1:], starts, strict=True):
        labels = [ws.cell(start, col).value for col in range(1, sheet.levels + 1)]
        assert labels[0], (start, labels)
        for label in labels:
            if label:
                assert squeezed(str(label)) in text, (start, label)
    last = flat[-1]
    for needed in (last_leaf_name(sheet), "合计", "评价等次", "评价人：", "复核人：", "日期："):
        assert squeezed(needed) in last, needed
    if result.unit:
        assert squeezed(f"被评价单位：{result.unit['name']}") in flat[0]


def csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.reader(stream))


@needs_soffice
def test_libreoffice_recomputes_subtotal_and_total_after_an_edit(tmp_path: Path) -> None:
    rubric, result = scored("shaoyang")
    sheet = scoresheet.build_sheet(result, rubric)
    content = scoresheet.to_xlsx(sheet)
    score_col = sheet.levels + 3  # 1-based column of 得分
    first = 4  # the first body row
    total_row = first + next(r for r, row in enumerate(sheet.rows) if row.role == "total")
    subtotal_row = first + next(r for r, row in enumerate(sheet.rows) if row.role == "subtotal")

    # the values a reader that does not calculate sees are the engine's
    cached = workbook(content, data_only=True)
    assert Decimal(str(cached.cell(total_row, score_col).value)) == result.total

    ws = workbook(content)
    assert str(ws.cell(total_row, score_col).value).startswith("=SUM(")
    assert str(ws.cell(subtotal_row, score_col).value).startswith("=SUM(")
    edited_leaf = ws.cell(first, score_col)
    old = Decimal(str(edited_leaf.value))
    assert old > 0
    edited_leaf.value = 0  # a reviewer takes all the points of the first leaf away
    edited = tmp_path / "edited.xlsx"
    ws.parent.save(edited)

    # UTF-8, comma separated, numbers as shown
    rows = csv_rows(soffice(tmp_path, edited, "csv:Text - txt - csv (StarCalc):44,34,76"))
    subtotal = Decimal(rows[subtotal_row - 1][score_col - 1])
    total = Decimal(rows[total_row - 1][score_col - 1])
    first_subtotal = next(row for row in sheet.rows if row.role == "subtotal")
    assert first_subtotal.cells[score_col - 1] is not None
    assert subtotal == first_subtotal.cells[score_col - 1].number - old  # type: ignore[union-attr,operator]
    assert total == result.total - old
