"""``perfscore report``: the filled-in 评分表 as XLSX, HTML and markdown, one department or
a whole population.

The XLSX is read back with openpyxl (merged ranges, values, number formats, print setup);
the HTML is parsed and its grid rebuilt from rowspan / colspan, so that a wrong span
shows as a row of the wrong width; the markdown is compared whole.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import os
import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import openpyxl
import openpyxl.utils
import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.worksheet.worksheet import Worksheet

import perfscore
from perfscore.cli import main
from perfscore.loading import load_document
from perfscore.render import scoresheet as report
from perfscore.results import Explanation, IndicatorResult, ScoreResult, Status, Step

#: Reports are written in Chinese; tests of English issue texts pin English.
pytestmark = pytest.mark.lang("zh")

ROOT = Path(__file__).resolve().parent.parent
DEMO_RUBRIC = "examples/demo/rubric.yaml"
DEMO_INPUTS = "examples/demo/inputs.yaml"
PROJECT_RUBRIC = "rubrics/mof/project-self-eval-2020.yaml"
PROJECT_INPUTS = "examples/project-self-eval-2020/inputs.yaml"
TAIL = ["分值", "评分标准", "得分", "扣分说明"]
DEMO_BANDS = "评价等次标准：优秀 (90, 100]；良好 [80, 90]；合格 [60, 80)；不合格 [0, 60)"


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), prog_name="perfscore")


def scored(rubric_path: str, inputs_path: str) -> tuple[perfscore.Rubric, ScoreResult]:
    rubric = perfscore.load_rubric(ROOT / rubric_path)
    data, _ = load_document(ROOT / inputs_path)
    return rubric, perfscore.compile_rubric(rubric).score(data)


def sheet_of(content: bytes, *, data_only: bool = True) -> Worksheet:
    """The report's sheet; with ``data_only`` formulas read as their cached values."""
    book = openpyxl.load_workbook(io.BytesIO(content), data_only=data_only)
    sheet = book.active
    assert isinstance(sheet, Worksheet)
    return sheet


def merged(ws: Worksheet) -> set[str]:
    return {str(r) for r in ws.merged_cells.ranges}


def column(ws: Worksheet, letter: str, first: int, last: int) -> list[Any]:
    return [ws[f"{letter}{row}"].value for row in range(first, last + 1)]


# --------------------------------------------------------------------------- xlsx


@pytest.mark.lang("zh")
def test_demo_xlsx_merged_ranges_and_values() -> None:
    rubric, result = scored(DEMO_RUBRIC, DEMO_INPUTS)
    content = report.render_report(result, rubric, "xlsx", department="大祥区应急管理局")
    assert isinstance(content, bytes)
    ws = sheet_of(content)
    assert ws.title == "评分表"
    assert merged(ws) == {
        "A1:G1",  # title
        "A2:G2",  # 被评价单位
        "A4:A7",  # 投入: its three leaves and its 小计
        "B4:B6",  # 预算配置
        "B7:C7",  # 小计
        "A8:A12",  # 过程
        "B9:B11",  # 预算管理 (预算执行 has one leaf: no merge)
        "B12:C12",
        "A13:A14",  # 产出
        "B14:C14",
        "A15:A16",  # 效果
        "B16:C16",
        "A17:C17",  # 合计
        "A18:C18",  # 评价等次
        "D18:G18",  # the grade
        "A19:G19",  # the note on grade bands, right under the table
        "A20:G20",  # 评价人、复核人、日期
    }
    assert ws["A1"].value == "2023年度部门整体支出绩效评价指标评分表（演示）"
    assert ws["A2"].value == (
        "被评价单位：大祥区应急管理局\u3000\u3000评分表：演示用 demo-dept-overall（版本 1.0）"
    )
    assert [c.value for c in ws[3]] == ["一级指标", "二级指标", "三级指标", *TAIL]
    assert column(ws, "A", 4, 18) == [
        "投入", None, None, None,
        "过程", None, None, None, None,
        "产出", None,
        "效果", None,
        "合计",
        "评价等次",
    ]  # fmt: skip
    assert column(ws, "B", 4, 16) == [
        "预算配置", None, None, "小计",
        "预算执行", "预算管理", None, None, "小计",
        "职责履行", "小计",
        "履职效益", "小计",
    ]  # fmt: skip
    assert column(ws, "C", 4, 6) == ["财政供养人员控制率", '"三公经费"变动率', "重点支出安排率"]
    # subtotals, total and grade
    assert [ws[f"D{r}"].value for r in (7, 12, 14, 16, 17)] == [15, 40, 25, 20, 100]
    assert [ws[f"F{r}"].value for r in (7, 12, 14, 16)] == [14, 33, 22.92, 20]
    assert ws["F17"].value == pytest.approx(89.92)
    assert ws["D18"].value == "良好"
    # deductions explained, full marks as a dash
    assert ws["G4"].value == "—"
    assert ws["G6"].value == "扣1分：重点支出安排率85.61%，在80%（含）至90%之间，得4分"
    assert ws["G10"].value == "扣1分：资金使用不合规事项数1，比0多1，每多1扣1分，扣1分，得10分"
    assert ws["A19"].value == DEMO_BANDS


def test_xlsx_numbers_borders_and_print_setup() -> None:
    rubric, result = scored(DEMO_RUBRIC, DEMO_INPUTS)
    ws = sheet_of(report.to_xlsx(report.build_sheet(result, rubric)))
    for ref in ("D4", "F4", "F13", "D17", "F17"):
        assert isinstance(ws[ref].value, int | float), ref
        assert ws[ref].number_format == "0.00", ref
    assert ws["E4"].alignment.wrap_text
    # merged ranges have borders all round: on the cells along each edge
    assert [ws[ref].border.left.style for ref in ("A4", "A5", "A7", "D18")] == ["thin"] * 4
    assert [ws[ref].border.right.style for ref in ("C17", "C18", "G18")] == ["thin"] * 3
    assert [ws[ref].border.bottom.style for ref in ("A7", "B18", "F18")] == ["thin"] * 3
    assert ws.freeze_panes == "A4"
    assert ws.print_title_rows == "$3:$3"
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.paperSize == 9  # A4
    assert ws.page_setup.fitToWidth == 1
    assert ws.page_setup.fitToHeight == 0
    assert ws.sheet_properties.pageSetUpPr is not None
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.column_dimensions["E"].width > ws.column_dimensions["D"].width
    assert all(ws.row_dimensions[r].height for r in range(4, 19))


@pytest.mark.lang("zh")
def test_project_xlsx_row_groups_share_their_standard() -> None:
    rubric, result = scored(PROJECT_RUBRIC, PROJECT_INPUTS)
    content = report.render_report(result, rubric, "xlsx", department="应急物资储备项目")
    assert isinstance(content, bytes)
    ws = sheet_of(content)
    assert merged(ws) == {
        "A1:F1",
        "A2:F2",
        "A4:B4",  # 预算执行率: a leaf at the first level spans both level columns
        "A5:A10",  # 产出指标: five rows and its 小计
        "D5:D9",  # the rows of a row group share their group's 评分标准
        "A11:A13",
        "D11:D12",
        "A14:A15",  # 满意度指标: one row (its standard needs no merge) and its 小计
        "A16:B16",
        "A17:B17",
        "C17:F17",
        "A18:F18",
        "A19:F19",  # 评价人、复核人、日期
    }
    assert ws["A1"].value == "2020年度项目支出绩效自评表"
    assert [c.value for c in ws[3]] == ["一级指标", "二级指标", *TAIL]
    assert column(ws, "B", 5, 10) == [
        "储备帐篷数量（顶）",
        "储备折叠床数量（张）",
        "物资验收合格率（%）",
        "采购完成时间（月）",
        "单位储备成本（元/件）",
        "小计",
    ]
    assert ws["D5"].value.startswith("定量指标达到年度指标值计满分")
    assert [ws[f"E{r}"].value for r in (4, 10, 13, 15)] == [9.3, 48, 27.75, 10]
    assert ws["C16"].value == 100
    assert ws["E16"].value == pytest.approx(95.05)
    assert ws["C17"].value == "优"
    assert ws["F6"].value == "扣1.5分：得分比例=0.9；15×0.9=13.50"


# --------------------------------------------------------------------------- html


class _Grid(HTMLParser):
    """Rebuilds the table grid from rowspan / colspan; records every URL-like attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.spans: list[tuple[int, int, int, int]] = []  # row, col, rowspan, colspan
        self.covered: set[tuple[int, int]] = set()
        self.links: list[str] = []
        self._col = 0
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.links.extend(v or "" for k, v in attrs if k in ("href", "src"))
        if tag == "tr":
            self.rows.append([])
            self._col = 0
        elif tag in ("td", "th"):
            r = len(self.rows) - 1
            while (r, self._col) in self.covered:
                self.rows[r].append("")
                self._col += 1
            rowspan = int(values.get("rowspan") or 1)
            colspan = int(values.get("colspan") or 1)
            for dr in range(rowspan):
                for dc in range(colspan):
                    if dr or dc:
                        self.covered.add((r + dr, self._col + dc))
            if rowspan > 1 or colspan > 1:
                self.spans.append((r, self._col, rowspan, colspan))
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            r = len(self.rows) - 1
            self.rows[r].append("".join(self._cell))
            self._col += 1
            self._cell = None
            cells = self.rows[r]
            while (r, self._col) in self.covered:
                cells.append("")
                self._col += 1

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def parse(text: str) -> _Grid:
    grid = _Grid()
    grid.feed(text)
    grid.close()
    return grid


def test_demo_html_is_self_contained_with_rowspans_and_totals() -> None:
    rubric, result = scored(DEMO_RUBRIC, DEMO_INPUTS)
    text = report.render_report(result, rubric, "html", department="大祥区应急管理局")
    assert isinstance(text, str)
    assert re.search(r"https?:", text, re.IGNORECASE) is None
    assert "<script" not in text
    assert "@import" not in text
    assert "@media print" in text
    assert "size: A4 landscape" in text
    assert "thead { display: table-header-group; }" in text
    grid = parse(text)
    assert grid.links == []
    widths = {len(row) for row in grid.rows}
    assert widths == {7}, "every row of the table is 7 columns wide once spans are counted"
    assert grid.rows[0] == ["一级指标", "二级指标", "三级指标", *TAIL]
    assert (1, 0, 4, 1) in grid.spans  # 投入 over its three leaves and its 小计
    assert (1, 1, 3, 1) in grid.spans  # 预算配置
    assert grid.rows[4][1:4] == ["小计", "", "15.00"]  # 分值 with the places of 得分
    assert grid.rows[4][5] == "14.00"
    assert grid.rows[-3][0] == "合计"
    assert grid.rows[-3][3:6] == ["100.00", "", "89.92"]
    assert grid.rows[-2][0] == "评价等次"
    assert grid.rows[-2][3] == "良好"
    # the last row holds the notes and the sign-off lines, inside the last group's tbody
    assert grid.rows[-1][0].strip().startswith("评价等次标准：")
    assert "评价人：" in grid.rows[-1][0]
    assert "复核人：" in grid.rows[-1][0]
    assert text.count('<tbody class="group">') == 3
    assert text.count('<tbody class="tail">') == 1
    assert 'rowspan="4"' in text
    assert "被评价单位：大祥区应急管理局" in text


def test_project_html_spans_levels_and_standards() -> None:
    rubric, result = scored(PROJECT_RUBRIC, PROJECT_INPUTS)
    text = report.render_report(result, rubric, "html")
    assert isinstance(text, str)
    assert re.search(r"https?:", text, re.IGNORECASE) is None
    grid = parse(text)
    assert {len(row) for row in grid.rows} == {6}
    assert (1, 0, 1, 2) in grid.spans  # 预算执行率 spans both level columns
    assert (2, 0, 6, 1) in grid.spans  # 产出指标
    assert (2, 3, 5, 1) in grid.spans  # their shared 评分标准
    assert grid.rows[-3][2:5] == ["100.00", "", "95.05"]
    assert grid.rows[-2][2] == "优"


def test_html_escapes_names() -> None:
    rubric = perfscore.loads_rubric(
        """\
id: esc
title: <b>表</b>
total: 10
inputs:
  x: {label: X, kind: percent}
indicators:
  - id: a
    name: "<script>alert(1)</script> & co"
    weight: 10
    scoring: {method: proportional, value: x}
grades:
  - {name: 好, range: "[0, 10]"}
""",
        name="esc.yaml",
    )
    result = perfscore.compile_rubric(rubric).score({"x": 100})
    text = report.to_html(report.build_sheet(result, rubric))
    assert "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in text
    assert "<title>&lt;b&gt;表&lt;/b&gt;</title>" in text


# --------------------------------------------------------------------------- markdown

DEMO_MARKDOWN = """\
# 2023年度部门整体支出绩效评价指标评分表（演示）

- 被评价单位：\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_
- 评分表：演示用 demo-dept-overall（版本 1.0）

| 一级指标 | 二级指标 | 三级指标 | 分值 | 评分标准 | 得分 | 扣分说明 |
| :-- | :-- | :-- | --: | :-- | --: | :-- |
| 投入 | 预算配置 | 财政供养人员控制率 | 5.00 | 以100%为标准，控制率≤100%计满分；每超过一个百分点扣0.5分，扣完为止。 | 5.00 | — |
|  |  | "三公经费"变动率 | 5.00 | 变动率≤0计满分；每超过一个百分点扣0.5分，扣完为止。 | 5.00 | — |
|  |  | 重点支出安排率 | 5.00 | ≥90%计5分；80%(含)-90%计4分；70%(含)-80%计3分；60%(含)-70%计2分；&lt;60%计0分。 | 4.00 | 扣1分：重点支出安排率85.61%，在80%（含）至90%之间，得4分 |
|  | **小计** |  | **15.00** |  | **14.00** |  |
| 过程 | 预算执行 | 预算调整率 | 10.00 | 预算调整率=0计满分；0-10%(含)计8分；10-20%(含)计5分；20-30%(含)计2分；&gt;30%计0分。 | 8.00 | 扣2分：预算调整率3.54%，在0至10%（含）之间，得8分 |
|  | 预算管理 | 管理制度健全性 | 9.00 |  | 9.00 | — |
|  |  | 资金使用合规性 | 11.00 | 每发现一例不合规扣1分，扣完为止。 | 10.00 | 扣1分：资金使用不合规事项数1，比0多1，每多1扣1分，扣1分，得10分 |
|  |  | 预决算信息公开性 | 10.00 |  | 6.00 | 扣4分：等级“基本及时完整”，得6分 |
|  | **小计** |  | **40.00** |  | **33.00** |  |
| 产出 | 职责履行 | 重点工作办结率 | 25.00 |  | 22.92 | 扣2.08分：重点工作办结率91.67%，未达到100%，按比例计分：91.67%÷100%×25分；22.9175按四舍五入保留2位小数为22.92 |
|  | **小计** |  | **25.00** |  | **22.92** |  |
| 效果 | 履职效益 | 社会公众或服务对象满意度 | 20.00 | 满意度≥90%计满分；80%(含)-90%计16分；70%(含)-80%计12分；&lt;70%计0分。 | 20.00 | — |
|  | **小计** |  | **20.00** |  | **20.00** |  |
| **合计** |  |  | **100.00** |  | **89.92** |  |
| **评价等次** |  |  | **良好** |  |  |  |

- 评价等次标准：优秀 (90, 100\\]；良好 \\[80, 90\\]；合格 \\[60, 80)；不合格 \\[0, 60)

评价人：\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_　　复核人：\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_　　日期：　　　　年　　月　　日
"""  # noqa: E501  (a table row is one line)

PROJECT_MARKDOWN = """\
# 2020年度项目支出绩效自评表

- 被评价单位：应急物资储备项目
- 评分表：财政部 mof-project-self-eval-2020（版本 2020.1）

| 一级指标 | 二级指标 | 分值 | 评分标准 | 得分 | 扣分说明 |
| :-- | :-- | --: | :-- | --: | :-- |
| 预算执行率 |  | 10.00 | 预算执行率 = 全年执行数 / 全年预算数；得分 = 执行率 × 10，最高 10 分。 | 9.30 | 扣0.7分：预算执行率93.00%，未达到100%，按比例计分：93.00%÷100%×10分 |
| 产出指标 | 储备帐篷数量（顶） | 15.00 | 定量指标达到年度指标值计满分，未达到按实际完成值与指标值之比计分；定性指标按三档计分。 | 15.00 | — |
|  | 储备折叠床数量（张） | 15.00 |  | 13.50 | 扣1.5分：得分比例=0.9；15×0.9=13.50 |
|  | 物资验收合格率（%） | 10.00 |  | 10.00 | — |
|  | 采购完成时间（月） | 5.00 |  | 4.50 | 扣0.5分：得分比例=0.9；5×0.9=4.50 |
|  | 单位储备成本（元/件） | 5.00 |  | 5.00 | — |
|  | **小计** | **50.00** |  | **48.00** |  |
| 效益指标 | 受灾群众转移安置保障能力 | 15.00 | 同产出指标。 | 12.75 | 扣2.25分：得分比例=0.85；15×0.85=12.75 |
|  | 应急物资调拨响应时间（小时） | 15.00 |  | 15.00 | — |
|  | **小计** | **30.00** |  | **27.75** |  |
| 满意度指标 | 受助群众满意度（%） | 10.00 | 同产出指标；未设满意度指标的，其分值按比例转入其他一级指标。 | 10.00 | — |
|  | **小计** | **10.00** |  | **10.00** |  |
| **合计** |  | **100.00** |  | **95.05** |  |
| **评价等次** |  | **优** |  |  |  |

- 评价等次标准：优 \\[90, 100\\]；良 \\[80, 90)；中 \\[60, 80)；差 \\[0, 60)

评价人：\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_　　复核人：\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_　　日期：　　　　年　　月　　日
"""  # noqa: E501


def test_demo_markdown_whole_text() -> None:
    result = run("report", DEMO_RUBRIC, DEMO_INPUTS, "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert result.stdout == DEMO_MARKDOWN


def test_project_markdown_whole_text() -> None:
    result = run(
        "report", PROJECT_RUBRIC, PROJECT_INPUTS, "-f", "markdown", "-d", "应急物资储备项目"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == PROJECT_MARKDOWN


def test_markdown_is_the_default_format() -> None:
    assert run("report", DEMO_RUBRIC, DEMO_INPUTS).stdout == DEMO_MARKDOWN


# --------------------------------------------------------------------------- the sheet


TINY = """\
id: tiny
title: 测试表
version: "2"
total: 10
inputs:
  cars: {label: 公务用车数, kind: count, required: false}
  rate: {label: 完成率, kind: percent}
  ok: {label: 制度健全, kind: boolean}
derived:
  car_rate: {label: 车辆使用率, formula: cars / 2, as_percent: true}
indicators:
  - id: top
    name: "投入 | 管理"
    weight: 10
    children:
      - id: mid
        name: 预算
        weight: 10
        children:
          - id: low
            name: 执行
            weight: 10
            children:
              - id: cars_used
                name: 车辆
                weight: 4
                not_applicable: to_siblings
                scoring: {method: proportional, value: car_rate}
              - id: done
                name: 完成率
                weight: 4
                standard: 按比例计分
                scoring: {method: proportional, value: rate}
              - id: rules
                name: 制度
                weight: 2
                scoring:
                  method: checklist
                  items:
                    - {text: 制度健全, met: ok, points: 2}
grades:
  - {name: 好, range: "[6, 10]"}
  - {name: 差, range: "[0, 6)"}
"""


@pytest.mark.lang("zh")
def test_a_fourth_level_gets_its_own_column() -> None:
    rubric = perfscore.loads_rubric(TINY, name="tiny.yaml")
    result = perfscore.compile_rubric(rubric).score({"rate": 50, "ok": False})
    sheet = report.build_sheet(result, rubric, department="测试")
    assert sheet.columns[:4] == ("一级指标", "二级指标", "三级指标", "四级指标")
    assert sheet.levels == 4
    leaves = [row for row in sheet.rows if row.role == "leaf"]
    assert [row.indicator for row in leaves] == ["cars_used", "done", "rules"]
    first = leaves[0].cells
    assert first[0] == report.Cell("投入 | 管理", "level", rowspan=4)
    assert first[1] == report.Cell("预算", "level", rowspan=3)
    assert first[2] == report.Cell("执行", "level", rowspan=3)
    assert first[3] == report.Cell("车辆", "level")
    assert leaves[1].cells[:3] == (None, None, None)
    subtotal = sheet.rows[3]
    assert subtotal.role == "subtotal"
    assert subtotal.cells[:4] == (None, report.Cell("小计", "label", colspan=3), None, None)
    # the not-applicable leaf says why, and that its weight went elsewhere
    assert first[7] is not None
    assert first[7].text.startswith("分值 4 → 0；不适用（")
    text = report.to_markdown(sheet)
    assert "| 投入 \\| 管理 | 预算 | 执行 | 车辆 | 0.00 |" in text
    ws = sheet_of(report.to_xlsx(sheet))
    assert {"A4:A7", "B4:B6", "C4:C6", "B7:D7", "A8:D8", "A9:D9", "E9:H9"} <= merged(ws)


def test_a_capped_grade_says_why() -> None:
    rubric, result = scored(DEMO_RUBRIC, DEMO_INPUTS)
    data, _ = load_document(ROOT / DEMO_INPUTS)
    capped = perfscore.compile_rubric(rubric).score({**data, "noncompliant_cases": 6})
    assert capped.grade == "合格"
    sheet = report.build_sheet(capped, rubric)
    grade = sheet.rows[-1].cells[3]
    assert grade is not None
    assert grade.text == "合格（由良好调整：审计发现严重违规，等次最高为合格）"
    assert result.grade == "良好"


def test_build_sheet_refuses_a_result_of_another_rubric() -> None:
    rubric, _ = scored(DEMO_RUBRIC, DEMO_INPUTS)
    _, other = scored(PROJECT_RUBRIC, PROJECT_INPUTS)
    with pytest.raises(ValueError, match="scored with rubric 'mof-project-self-eval-2020'"):
        report.build_sheet(other, rubric)


def test_render_report_refuses_an_unknown_format() -> None:
    rubric, result = scored(DEMO_RUBRIC, DEMO_INPUTS)
    with pytest.raises(ValueError, match="unknown report format 'pdf'"):
        report.render_report(result, rubric, "pdf")  # type: ignore[arg-type]


def leaf(
    steps: tuple[Step, ...],
    score: str,
    *,
    weight: str = "10",
    effective: str | None = None,
    status: Status = Status.SCORED,
    explained: bool = True,
) -> IndicatorResult:
    return IndicatorResult(
        id="x",
        name="X",
        weight=Decimal(weight),
        effective_weight=Decimal(effective or weight),
        score=Decimal(score),
        status=status,
        depth=0,
        parent=None,
        children=(),
        explanation=Explanation(steps=steps) if explained else None,
    )


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        pytest.param(
            leaf((Step("band", "95 在 [90, +∞) 内，得 10 分", Decimal(10)),), "10.00"),
            "—",
            id="full",
        ),
        pytest.param(
            leaf(
                (
                    Step("deduction", "3 超过 0 达 3，每 1 扣 1 分，计 3 档", Decimal(-3)),
                    Step("floor", "扣完为止，最低 0 分", Decimal(1)),
                ),
                "0.00",
                weight="2",
            ),
            "扣2分：3 超过 0 达 3，每 1 扣 1 分，计 3 档；扣完为止，最低 0 分",
            id="deduction-floored",
        ),
        pytest.param(
            leaf(
                (
                    Step("item", "✓ 已制定", Decimal(3)),
                    Step("item", "✗ 得到执行", Decimal(0)),
                    Step("item", "✗ 合法合规", Decimal(0)),
                ),
                "3.00",
                weight="9",
            ),
            "扣6分：✗ 得到执行；✗ 合法合规",
            id="checklist-missed-items",
        ),
        pytest.param(
            leaf((Step("level", "等级“一般”，得 6 分", Decimal(6)),), "6.00"),
            "扣4分：等级“一般”，得 6 分",
            id="no-negative-steps",
        ),
        pytest.param(leaf((), "7.50"), "扣2.5分", id="no-explanation-steps"),
        pytest.param(
            leaf(
                (Step("band", "1 在 [0, 1] 内，得 5 分", Decimal(5)),),
                "7.50",
                weight="5",
                effective="7.5",
            ),
            "分值 5 → 7.5",
            id="weight-moved-full-marks",
        ),
        pytest.param(
            leaf(
                (Step("not_applicable", "不适用（公务用车数无值）：得满分"),),
                "4.00",
                weight="4",
                status=Status.NOT_APPLICABLE,
            ),
            "不适用（公务用车数无值）：得满分",
            id="not-applicable",
        ),
        pytest.param(
            leaf((), "4.00", weight="4", status=Status.NOT_APPLICABLE),
            "不适用",
            id="not-applicable-no-steps",
        ),
        pytest.param(
            leaf(
                (Step("not_applicable", "无相关业务"),),
                "4.00",
                weight="4",
                status=Status.NOT_APPLICABLE,
            ),
            "不适用：无相关业务",
            id="not-applicable-other-reason",
        ),
    ],
)
def test_deduction_text(node: IndicatorResult, expected: str) -> None:
    assert report.deduction_text(node) == expected


def test_deduction_text_without_explanation() -> None:
    node = leaf((), "8.00", explained=False)
    assert report.deduction_text(node) == "扣2分"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("大祥区应急管理局", "大祥区应急管理局"),
        ("A/01: 局 (二)", "A_01_局_(二)"),
        ('a\\b*c?"d<e>|f', "a_b_c_d_e_f"),
        ("..", "report"),
        ("", "report"),
        ("CON", "_CON"),
        ("nul.txt", "_nul.txt"),
        ("x" * 300, "x" * 100),
    ],
)
def test_safe_filename(name: str, expected: str) -> None:
    assert report.safe_filename(name) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [("a.xlsx", "xlsx"), ("a.HTM", "html"), ("a.html", "html"), ("a.md", "markdown"), ("a", None)],
)
def test_format_for_path(path: str, expected: str | None) -> None:
    assert report.format_for_path(path) == expected


# --------------------------------------------------------------------------- the command


def test_out_writes_the_file_and_infers_the_format(tmp_path: Path) -> None:
    out = tmp_path / "demo.xlsx"
    result = run("report", DEMO_RUBRIC, DEMO_INPUTS, "--out", str(out), "-d", "大祥区应急管理局")
    assert result.exit_code == 0, result.output
    assert result.output == ""
    assert os.listdir(tmp_path) == ["demo.xlsx"]  # no temporary file left behind
    ws = sheet_of(out.read_bytes())
    assert ws["A2"].value.startswith("被评价单位：大祥区应急管理局")
    assert ws["F17"].value == pytest.approx(89.92)


def test_html_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    assert run("report", DEMO_RUBRIC, DEMO_INPUTS, "-o", str(out)).exit_code == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_xlsx_to_stdout_when_it_is_not_a_terminal() -> None:
    result = run("report", DEMO_RUBRIC, DEMO_INPUTS, "--format", "xlsx")
    assert result.exit_code == 0, result.output
    assert sheet_of(result.stdout_bytes)["D18"].value == "良好"


def test_bad_inputs_exit_3_with_located_issues(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("staff_authorized: 18\n", encoding="utf-8")
    result = run("report", DEMO_RUBRIC, str(bad), "-o", str(tmp_path / "x.md"))
    assert result.exit_code == 3
    assert "缺少必填输入项 'staff_actual'" in result.stderr
    assert not (tmp_path / "x.md").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "a.md", "--out-dir", "d"], "--out 写一个单位的报告，--out-dir 写多个单位的报告"),
        (["--out-dir", "d", "-d", "x"], "--department 只指定一个单位的名称"),
    ],
)
def test_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    args = [a if a not in ("a.md", "d") else str(tmp_path / a) for a in args]
    result = run("report", DEMO_RUBRIC, "examples/demo", *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_a_population_needs_out_dir(tmp_path: Path) -> None:
    csv = tmp_path / "pop.csv"
    csv.write_text("id\n1\n", encoding="utf-8")
    result = run("report", DEMO_RUBRIC, str(csv))
    assert result.exit_code == 2
    assert "含多个单位：加 --out-dir DIR" in result.stderr


def test_out_dir_needs_a_population(tmp_path: Path) -> None:
    result = run("report", DEMO_RUBRIC, DEMO_INPUTS, "--out-dir", str(tmp_path))
    assert result.exit_code == 2
    assert "一批部门须为文件夹，或 .csv、.xlsx、.jsonl、.parquet 文件" in result.stderr


def population_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "population"
    folder.mkdir()
    demo = (ROOT / DEMO_INPUTS).read_text(encoding="utf-8")
    (folder / "a.yaml").write_text(
        "id: 大祥区/应急局\nunit: {name: 大祥区应急管理局}\n" + demo, encoding="utf-8"
    )
    (folder / "b.yaml").write_text(demo.replace("staff_actual: 17", "staff_actual: 19"), "utf-8")
    (folder / "c.yaml").write_text("staff_authorized: 18\nstaff_actual: lots\n", "utf-8")
    (folder / "d.yaml").write_text("x: [1,\n", encoding="utf-8")
    return folder


def test_population_writes_one_report_per_good_department(tmp_path: Path) -> None:
    out_dir = tmp_path / "reports"
    result = run(
        "report", DEMO_RUBRIC, str(population_folder(tmp_path)), "-f", "xlsx", "--out-dir",
        str(out_dir),
    )  # fmt: skip
    assert result.exit_code == 1
    assert sorted(os.listdir(out_dir)) == ["b.xlsx", "大祥区_应急局.xlsx"]
    ws = sheet_of((out_dir / "大祥区_应急局.xlsx").read_bytes())
    assert ws["A2"].value.startswith("被评价单位：大祥区应急管理局")
    assert ws["F17"].value == pytest.approx(89.92)
    b = sheet_of((out_dir / "b.xlsx").read_bytes())
    assert b["A2"].value.startswith("被评价单位：____")  # no unit.name: a blank, not "b"
    assert b["F4"].value == 2.5  # 19 staff on 18 posts: 5.56 points over, 5 steps of 0.5
    lines = result.stderr.splitlines()
    assert lines[0] == "未能评分："
    assert lines[1] == f"  c ({tmp_path / 'population' / 'c.yaml'}):"
    assert "    staff_actual: 输入项 'staff_actual'（实际在职人数）：'lots' 不是数字" in (
        result.stderr
    )
    assert any(line.startswith("  d (") for line in lines)
    assert "[yaml.syntax]" in result.stderr
    assert lines[-1] == f"已写出 2 份报告到 {out_dir}，2 个单位未能评分"
    assert result.stdout == ""


def test_population_from_csv_with_chinese_headings(tmp_path: Path) -> None:
    csv = tmp_path / "pop.csv"
    csv.write_text(
        "部门,编制数,实际在职人数,sangong_last_year,sangong_this_year,key_project_spend,"
        "project_spend_total,budget_initial,budget_adjustment,rules_exist,rules_lawful,"
        "rules_executed,noncompliant_cases,disclosure,key_tasks_planned,key_tasks_done,"
        "satisfaction\n"
        "甲局,18,17,12.4,11.8,353.82,413.31,450,15.92,true,true,true,1,基本及时完整,12,11,92.5\n"
        "乙局,18,17,12.4,11.8,353.82,413.31,450,15.92,true,true,true,1,及时完整,12,12,92.5\n",
        encoding="utf-8",
    )
    out_dir = tmp_path / "out"
    result = run("report", DEMO_RUBRIC, str(csv), "--out-dir", str(out_dir), "-f", "html")
    assert result.exit_code == 0, result.output
    assert sorted(os.listdir(out_dir)) == ["乙局.html", "甲局.html"]
    assert "89.92" in (out_dir / "甲局.html").read_text(encoding="utf-8")
    assert "被评价单位：乙局" in (out_dir / "乙局.html").read_text(encoding="utf-8")
    assert result.stderr == f"已写出 2 份报告到 {out_dir}\n"


def test_population_ids_that_read_the_same_do_not_overwrite(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    demo = (ROOT / DEMO_INPUTS).read_text(encoding="utf-8")
    (folder / "1.yaml").write_text("id: a/b\n" + demo, encoding="utf-8")
    (folder / "2.yaml").write_text("id: a:b\n" + demo, encoding="utf-8")
    out_dir = tmp_path / "out"
    result = run("report", DEMO_RUBRIC, str(folder), "--out-dir", str(out_dir))
    assert result.exit_code == 0, result.output
    assert sorted(os.listdir(out_dir)) == ["a_b-row2.md", "a_b.md"]


# --------------------------------------------------------------------------- unit, places, sign-off

SHAOYANG_RUBRIC = "rubrics/shaoyang/dept-overall-2023.yaml"
SHAOYANG_INPUTS = "examples/daxiang-emergency-2023/self-evaluation.yaml"


def _report_texts(tmp_path: Path, inputs: Path) -> dict[str, str]:
    """The report of ``inputs`` in each format, as the text a reader sees."""
    texts = {}
    for format_ in report.REPORT_FORMATS:
        out = tmp_path / f"out{report.SUFFIXES[format_]}"
        result = run("report", SHAOYANG_RUBRIC, str(inputs), "--out", str(out))
        assert result.exit_code == 0, result.output
        if format_ == "xlsx":
            ws = sheet_of(out.read_bytes())
            texts[format_] = "\n".join(
                str(c.value) for row in ws.iter_rows() for c in row if c.value is not None
            )
        else:
            texts[format_] = out.read_text(encoding="utf-8")
    return texts


def test_unit_and_year_come_from_the_inputs_never_the_file_name(tmp_path: Path) -> None:
    inputs = tmp_path / "某个文件名.yaml"
    inputs.write_text((ROOT / SHAOYANG_INPUTS).read_text(encoding="utf-8"), encoding="utf-8")
    for format_, text in _report_texts(tmp_path, inputs).items():
        assert "被评价单位：邵阳市大祥区应急管理局" in text, format_
        assert "评价年度：2023" in text, format_
        assert "某个文件名" not in text, format_


def test_without_a_unit_the_unit_is_a_blank_to_fill_in(tmp_path: Path) -> None:
    text = (ROOT / SHAOYANG_INPUTS).read_text(encoding="utf-8")
    without = re.sub(r"^unit:\n(?:[ #].*\n)*", "", text, flags=re.MULTILINE)
    assert "\nunit:" not in without
    assert "name: 邵阳市大祥区应急管理局" not in without
    inputs = tmp_path / "某个文件名.yaml"
    inputs.write_text(without, encoding="utf-8")
    for format_, text in _report_texts(tmp_path, inputs).items():
        assert "某个文件名" not in text, format_
        assert "评价年度" not in text, format_
        assert re.search(r"被评价单位：(\\?_){12}", text), format_


def test_the_year_of_the_unit_heads_the_title_when_the_rubric_has_none() -> None:
    rubric, result = scored(PROJECT_RUBRIC, PROJECT_INPUTS)
    plain = rubric.model_copy(update={"year": None})
    assert report.build_sheet(result, plain).title == "项目支出绩效自评表"
    dated = dataclasses.replace(result, unit={"name": "某局", "year": "2024"})
    sheet = report.build_sheet(dated, plain)
    assert sheet.title == "2024年度项目支出绩效自评表"
    assert ("评价年度", "2024") in sheet.meta


def test_weight_and_score_have_the_same_places() -> None:
    rubric, result = scored(SHAOYANG_RUBRIC, SHAOYANG_INPUTS)
    sheet = report.build_sheet(result, rubric)
    places = rubric.rounding.score.places
    numbers = [c for row in sheet.rows for c in row.cells if c is not None and c.kind == "number"]
    assert len(numbers) > 40
    assert {len(c.text.partition(".")[2]) for c in numbers} == {places}
    ws = sheet_of(report.to_xlsx(sheet))
    formats = {
        ws.cell(4 + r, col + 1).number_format
        for r, row in enumerate(sheet.rows)
        for col, c in enumerate(row.cells)
        if c is not None and c.kind == "number"
    }
    assert formats == {"0." + "0" * places}


def test_xlsx_subtotals_and_total_are_sums_with_their_values() -> None:
    rubric, result = scored(SHAOYANG_RUBRIC, SHAOYANG_INPUTS)
    sheet = report.build_sheet(result, rubric)
    content = report.to_xlsx(sheet)
    formulas, values = sheet_of(content, data_only=False), sheet_of(content)
    for r, row in enumerate(sheet.rows):
        if row.role not in ("subtotal", "total"):
            continue
        for col in (sheet.levels, sheet.levels + 2):  # 分值, 得分
            cell = row.cells[col]
            assert cell is not None
            assert cell.number is not None
            ref = f"{openpyxl.utils.get_column_letter(col + 1)}{4 + r}"
            assert str(formulas[ref].value).startswith("=SUM("), ref
            assert Decimal(str(values[ref].value)) == cell.number, ref  # the cached value
    assert formulas.parent.calculation.fullCalcOnLoad


def test_xlsx_page_plan_repeats_group_labels_and_keeps_the_end_together() -> None:
    rubric, result = scored(SHAOYANG_RUBRIC, SHAOYANG_INPUTS)
    sheet = report.build_sheet(result, rubric)
    ws = sheet_of(report.to_xlsx(sheet))
    starts = [brk.id + 1 for brk in ws.row_breaks.brk]
    assert starts, "the Shaoyang table needs more than one A4 page"
    total_row = 4 + next(r for r, row in enumerate(sheet.rows) if row.role == "total")
    for start in starts:
        assert ws.cell(start, 1).value, start  # the 一级指标 written again on the new page
        assert ws.cell(start, 3).value, start  # a leaf starts the page
        # a break never falls inside a merged range
        for merged_range in ws.merged_cells.ranges:
            assert not merged_range.min_row < start <= merged_range.max_row, (start, merged_range)
    assert starts[-1] < total_row - 1  # the last page holds more than 合计 and 评价等次
    last = ws.max_row
    assert str(ws.cell(last, 1).value).startswith("评价人：")
    assert "复核人：" in str(ws.cell(last, 1).value)
    assert "日期：" in str(ws.cell(last, 1).value)
    assert ws.print_title_rows == "$3:$3"
    assert ws.page_margins.bottom - ws.page_margins.footer >= 0.4  # room for the footer
    assert ws.oddFooter.center.text == "第 &P 页，共 &N 页"


@pytest.mark.lang("en")
def test_the_report_in_english() -> None:
    rubric, result = scored(SHAOYANG_RUBRIC, SHAOYANG_INPUTS)
    sheet = report.build_sheet(result, rubric)
    assert sheet.columns == (
        "Level 1", "Level 2", "Level 3", "Weight", "Standard", "Score", "Deductions",
    )  # fmt: skip
    labels = [
        c.text for row in sheet.rows for c in row.cells if c is not None and c.kind == "label"
    ]
    assert {"Subtotal", "Total", "Grade"} <= set(labels)
    assert [label for label, _ in sheet.meta] == ["Unit evaluated", "Year", "Rubric"]
    assert [label for label, _ in sheet.signatures] == ["Evaluator", "Reviewer", "Date"]
    assert sheet.notes[0].startswith("Grades: ")
    assert sheet_of(report.to_xlsx(sheet)).title == "Scoring table"


def test_a_sum_is_written_only_where_the_values_add_up() -> None:
    rubric, result = scored(DEMO_RUBRIC, DEMO_INPUTS)
    sheet = report.build_sheet(result, rubric)
    score_col = sheet.levels + 2
    first_subtotal = next(r for r, row in enumerate(sheet.rows) if row.role == "subtotal")
    row = sheet.rows[first_subtotal]
    cell = row.cells[score_col]
    assert cell is not None
    assert cell.number is not None
    # a branch the rubric rounded or capped: its 得分 is not the sum of its leaves
    odd = dataclasses.replace(cell, number=cell.number - Decimal("0.01"))
    cells = (*row.cells[:score_col], odd, *row.cells[score_col + 1 :])
    rows = list(sheet.rows)
    rows[first_subtotal] = dataclasses.replace(row, cells=cells)
    ws = sheet_of(report.to_xlsx(dataclasses.replace(sheet, rows=tuple(rows))), data_only=False)
    assert ws["F7"].value == pytest.approx(float(odd.number))  # the number, no formula
    assert ws["F12"].value == "=SUM(F8:F11)"  # the other groups keep theirs
    assert ws["F17"].value == pytest.approx(89.92)  # the total no longer adds up: its number
    assert ws["D17"].value == "=SUM(D7,D12,D14,D16)"  # 分值 still does


@settings(max_examples=60, deadline=None)
@given(
    heights=st.lists(st.floats(min_value=14, max_value=200), min_size=40, max_size=40),
    page=st.floats(min_value=150, max_value=900),
    tail=st.floats(min_value=0, max_value=120),
)
def test_the_page_plan_breaks_only_where_a_page_may_start(
    heights: list[float], page: float, tail: float
) -> None:
    rubric, result = scored(SHAOYANG_RUBRIC, SHAOYANG_INPUTS)
    sheet = report.build_sheet(result, rubric)
    rows = len(sheet.rows)
    heights = heights[:rows]
    breaks = report._page_plan(sheet, heights, tail, first_page=60, header=20, page=page)
    assert breaks == sorted(set(breaks))
    covered = {
        below
        for r, row in enumerate(sheet.rows)
        for c in row.cells
        if c is not None and c.kind != "level" and c.rowspan > 1
        for below in range(r + 1, r + c.rowspan)
    }
    last_leaf = max(r for r, row in enumerate(sheet.rows) if row.role == "leaf")
    for b in breaks:
        assert 0 < b <= last_leaf
        assert sheet.rows[b].role == "leaf"  # never before a 小计, 合计 or 评价等次
        assert b not in covered  # never inside a merged 评分标准
    # a page is overfull only when it holds a single unbreakable run of rows
    bounds = [0, *breaks, rows]
    for number, (start, stop) in enumerate(itertools.pairwise(bounds)):
        used = (60 if number == 0 else 20) + sum(heights[start:stop])
        if stop == rows:
            used += tail
        inner = [r for r in range(start + 1, stop) if sheet.rows[r].role == "leaf"]
        breakable = [r for r in inner if r not in covered and r <= last_leaf]
        if used > page + 1e-6:
            assert breakable == [], (number, start, stop, used)


@pytest.mark.lang("en")
def test_population_summary_in_english(tmp_path: Path) -> None:
    out_dir = tmp_path / "reports"
    folder = population_folder(tmp_path)
    (folder / "b.yaml").unlink()
    result = run("report", DEMO_RUBRIC, str(folder), "-f", "markdown", "--out-dir", str(out_dir))
    lines = result.stderr.splitlines()
    assert lines[0] == "failed:"
    assert lines[-1] == f"1 report written to {out_dir}, 2 departments failed"
    assert "\n    line " in result.stderr  # d.yaml's YAML error, at its line
