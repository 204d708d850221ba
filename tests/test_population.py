"""Populations stream department by department; a bad row never costs the good ones."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from perfscore.population import population_format, read_population


def test_csv_rows_with_id_column_and_label_headings(tmp_path: Path) -> None:
    path = tmp_path / "pop.csv"
    path.write_text("id,编制数,staff_actual\nd1,18,17\n\nd2,20,\nbad,1,2,3\n", encoding="utf-8")
    rows = list(read_population(path, labels={"编制数": "staff_authorized"}))
    assert [(d.id, d.row, d.ok) for d in rows] == [
        ("d1", 2, True),
        ("d2", 4, True),
        ("5", 5, False),
    ]
    assert rows[0].inputs == {"staff_authorized": "18", "staff_actual": "17"}
    assert rows[1].inputs == {"staff_authorized": "20", "staff_actual": None}
    assert rows[2].issues[0].code == "input.row"


def test_jsonl_reads_exact_decimals_and_reports_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "pop.jsonl"
    path.write_text(
        '{"id": "a", "x": 0.1}\nnot json\n{"x": NaN}\n[1]\n{"x": 2}\n', encoding="utf-8"
    )
    rows = list(read_population(path))
    assert [(d.id, d.ok) for d in rows] == [
        ("a", True),
        ("2", False),
        ("3", False),
        ("4", False),
        ("5", True),
    ]
    assert rows[0].inputs == {"x": Decimal("0.1")}
    assert [d.issues[0].code for d in rows if not d.ok] == [
        "input.syntax",
        "input.syntax",
        "input.not_mapping",
    ]


def test_xlsx_first_sheet(tmp_path: Path) -> None:
    path = tmp_path / "pop.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["部门", "x", "flag"])
    sheet.append(["应急管理局", 0.1, True])
    sheet.append([None, None, None])
    sheet.append(["财政局", 3, False])
    book.save(path)
    rows = list(read_population(path))
    assert [(d.id, d.row) for d in rows] == [("应急管理局", 2), ("财政局", 4)]
    # the 部门 column is the id, and the unit's name
    assert rows[0].inputs == {"x": Decimal("0.1"), "flag": True, "unit.name": "应急管理局"}


def test_folder_of_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("x: 1\n", encoding="utf-8")
    (tmp_path / "b.json").write_text('{"id": "bee", "x": 2}', encoding="utf-8")
    (tmp_path / "c.yaml").write_text("x: [unclosed\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("ignored", encoding="utf-8")
    rows = list(read_population(tmp_path))
    assert [(d.id, d.ok) for d in rows] == [("a", True), ("bee", True), ("c", False)]
    assert rows[2].issues[0].code == "yaml.syntax"


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="一批部门须为文件夹"):
        population_format(tmp_path / "pop.txt")
