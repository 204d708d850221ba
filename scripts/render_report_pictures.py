"""Draw the pictures of docs/reports.md: the 评分表 of 邵阳市大祥区应急管理局 (the Shaoyang
rubric and the self-evaluation inputs of examples/daxiang-emergency-2023) as a reviewer
sees it.

- ``docs/img/report-a4.png``: the HTML printed by headless Chromium on A4, its last page
  (the last 一级指标, 合计, 评价等次, the notes and the sign-off lines together);
- ``docs/img/report-phone.png``: the HTML on a phone, 390 × 844 pixels;
- ``docs/img/report-xlsx.png``: the XLSX printed by LibreOffice, its second page (the
  header row and the group labels written again after the page break).

Run from the repository root, with Chromium, LibreOffice (``soffice``) and poppler-utils
(``pdftoppm``) installed::

    python scripts/render_report_pictures.py

The pictures are written over the old ones; each is kept under 150 KB by the resolution
it is drawn at.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import perfscore
from perfscore.loading import load_document
from perfscore.render import scoresheet

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the browser and office runners of the visual tests

from tests._office import CHROMIUM, SOFFICE, chromium, soffice  # noqa: E402

RUBRIC = ROOT / "rubrics" / "shaoyang" / "dept-overall-2023.yaml"
INPUTS = ROOT / "examples" / "daxiang-emergency-2023" / "self-evaluation.yaml"
OUT = ROOT / "docs" / "img"
LIMIT = 150_000  # bytes a picture may take


def tool(*names: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    sys.exit(f"render_report_pictures: {' or '.join(names)} is not installed")


def run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=300)


def pdf_page(pdf: Path, page: int, target: Path, resolution: int) -> None:
    """Page ``page`` of ``pdf`` as the PNG ``target``, drawn at ``resolution`` dpi and
    lower until it fits in :data:`LIMIT`."""
    pdftoppm = tool("pdftoppm")
    stem = target.with_suffix("")
    while True:
        run(
            pdftoppm,
            "-png",
            "-singlefile",
            "-r",
            str(resolution),
            "-f",
            str(page),
            "-l",
            str(page),
            str(pdf),
            str(stem),
        )
        if target.stat().st_size <= LIMIT or resolution <= 40:
            return
        resolution -= 10


def main() -> None:
    if CHROMIUM is None or SOFFICE is None:
        sys.exit("render_report_pictures: Chromium and LibreOffice (soffice) are needed")
    rubric = perfscore.load_rubric(RUBRIC)
    data, _ = load_document(INPUTS)
    result = perfscore.compile_rubric(rubric).score(data)
    sheet = scoresheet.build_sheet(result, rubric)
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        page = tmp / "report.html"
        page.write_text(scoresheet.to_html(sheet), encoding="utf-8")
        printed = tmp / "report.pdf"
        chromium(tmp, "--no-pdf-header-footer", f"--print-to-pdf={printed}", page.as_uri())
        last = len(list_pages(printed))
        pdf_page(printed, last, OUT / "report-a4.png", 70)

        phone = OUT / "report-phone.png"
        chromium(
            tmp,
            "--window-size=390,844",
            "--hide-scrollbars",
            f"--screenshot={phone}",
            page.as_uri(),
        )

        workbook = tmp / "report.xlsx"
        workbook.write_bytes(scoresheet.to_xlsx(sheet))
        pdf_page(soffice(tmp, workbook, "pdf"), 2, OUT / "report-xlsx.png", 70)
    for picture in ("report-a4.png", "report-phone.png", "report-xlsx.png"):
        size = (OUT / picture).stat().st_size
        print(f"docs/img/{picture}: {size // 1024} KB")


def list_pages(pdf: Path) -> list[int]:
    info = subprocess.run(
        [tool("pdfinfo"), str(pdf)], check=True, capture_output=True, text=True
    ).stdout
    count = next(int(line.split()[-1]) for line in info.splitlines() if line.startswith("Pages:"))
    return list(range(1, count + 1))


if __name__ == "__main__":
    main()
