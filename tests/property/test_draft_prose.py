"""Properties of the 评分标准 reader: a rule written as prose reads back as the same rule,
and the golden-case skeleton's expected scores agree with the engine."""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from perfscore import compile_rubric, loads_rubric
from perfscore.draft import draft_rubric, skeleton, to_yaml
from perfscore.draft.prose import (
    Band,
    BandsRule,
    CasesRule,
    ChecklistRule,
    DeductionRule,
    LevelsRule,
    ProportionalRule,
    Rule,
    parse_standard,
    render_rule,
)
from perfscore.draft.table import Row, Table, read_table

from .strategies import decimals

# Texts of checklist items and cases: requirements as tables word them, none of them a
# level word or a number.
ITEMS = [
    "按规定公开部门预算",
    "制度合法合规",
    "资料真实完整",
    "按时报送决算报表",
    "账实相符",
    "审批程序完整",
    "专款专用",
    "支出符合预算批复用途",
    "会计核算制度健全并执行",
]
LEVELS = ["优秀", "良好", "合格", "不合格", "好", "较好", "一般", "差", "完全达到", "基本达到"]

points = decimals("0.1", "20", places=2)


@st.composite
def deductions(draw: st.DrawFn) -> DeductionRule:
    if draw(st.booleans()):
        return DeductionRule(Decimal(0), "over", Decimal(1), draw(points), counted=True)
    return DeductionRule(
        draw(decimals("0", "200", places=2)),
        draw(st.sampled_from(["over", "under"])),
        draw(st.sampled_from([Decimal("0.5"), Decimal(1), Decimal(2), Decimal(5), Decimal(10)])),
        draw(points),
    )


@st.composite
def bands(draw: st.DrawFn) -> BandsRule:
    count = draw(st.integers(2, 5))
    out = []
    for _ in range(count):
        shape = draw(st.sampled_from(["lower", "upper", "both", "point"]))
        a = draw(decimals("0", "150", places=2))
        b = a + draw(decimals("0.01", "50", places=2))
        pts = draw(decimals("0", "20", places=2))
        if shape == "lower":
            out.append(Band(a, None, draw(st.booleans()), False, pts))
        elif shape == "upper":
            out.append(Band(None, b, False, draw(st.booleans()), pts))
        elif shape == "point":
            out.append(Band(a, a, True, True, pts))
        else:
            out.append(Band(a, b, draw(st.booleans()), draw(st.booleans()), pts))
    return BandsRule(tuple(out))


@st.composite
def checklists(draw: st.DrawFn) -> ChecklistRule:
    texts = draw(st.lists(st.sampled_from(ITEMS), min_size=2, max_size=5, unique=True))
    kind = draw(st.sampled_from(["earn", "requirements", "failures"]))
    if kind == "requirements":
        each = draw(points)
        return ChecklistRule("deduct", tuple((t, each) for t in texts))
    items = tuple((t, draw(points)) for t in texts)
    return ChecklistRule("earn", items) if kind == "earn" else ChecklistRule("deduct", items, True)


@st.composite
def levels(draw: st.DrawFn) -> LevelsRule:
    names = draw(st.lists(st.sampled_from(LEVELS), min_size=2, max_size=5, unique=True))
    return LevelsRule(tuple((n, draw(decimals("0", "20", places=2))) for n in names))


@st.composite
def cases(draw: st.DrawFn) -> CasesRule:
    texts = draw(st.lists(st.sampled_from(ITEMS), min_size=2, max_size=4, unique=True))
    pts = [draw(points) for _ in texts[:-1]] + [Decimal(0)]  # the last case earns nothing
    return CasesRule(tuple(zip(texts, pts, strict=True)))


rules = st.one_of(
    deductions(), bands(), checklists(), levels(), cases(), st.just(ProportionalRule())
)


@settings(max_examples=300)
@given(rules)
def test_a_rule_rendered_as_prose_reads_back_the_same(rule: Rule) -> None:
    text = render_rule(rule)
    assert parse_standard(text).rule == rule, text


@given(rules, st.sampled_from(["", "（本指标由评价组核实。）", "评价部门预算管理的规范程度。"]))
def test_a_note_or_a_definition_beside_the_rule_changes_nothing(rule: Rule, note: str) -> None:
    assert parse_standard(note + render_rule(rule)).rule == rule


@given(st.text(max_size=300))
def test_any_text_reads_without_error(text: str) -> None:
    parsed = parse_standard(text, Decimal(5))
    assert parsed.rule is None or isinstance(
        parsed.rule,
        DeductionRule | BandsRule | ChecklistRule | ProportionalRule | LevelsRule | CasesRule,
    )


# ------------------------------------------------------------------ drafted rules score as read


def _one_leaf_table(standard: str, weight: Decimal) -> Table:
    row = Row("leaf", ("投入", "测试指标"), weight, standard, "", "评分表!B3", "评分表!C3")
    return Table("t.xlsx", "评分表", "测试表", 2, (row,))


def _weight_for(rule: Rule) -> Decimal:
    """A weight the rule fits: at least every band's, item's or level's points."""
    if isinstance(rule, BandsRule):
        return max(b.points for b in rule.bands) or Decimal(1)
    if isinstance(rule, ChecklistRule):
        total = sum((p for _, p in rule.items), Decimal(0))
        return total if rule.mode == "earn" else max(total, Decimal(1))
    if isinstance(rule, LevelsRule | CasesRule):
        pairs = rule.levels if isinstance(rule, LevelsRule) else rule.cases
        return max(p for _, p in pairs) or Decimal(1)
    return Decimal(10)


@settings(max_examples=60, deadline=None)
@given(rules)
def test_the_case_skeleton_of_any_rule_agrees_with_the_engine(rule: Rule) -> None:
    weight = _weight_for(rule)
    draft = draft_rubric(_one_leaf_table(render_rule(rule), weight))
    assume(draft.problems == ())
    compiled = compile_rubric(loads_rubric(to_yaml(draft.data)))
    cases = skeleton(draft, "t.yaml")
    assert cases["cases"], draft.data
    for case in cases["cases"]:
        result = compiled.score({**cases["base_inputs"], **case["inputs"]})
        for leaf, expected in case["expect"]["scores"].items():
            assert result[leaf].score == expected, case


# ------------------------------------------------------------------ tables read back as written

NAMES = ["投入", "过程", "产出", "效果", "预算执行", "预算管理", "资产管理", "职责履行", "履职效益"]
LEAVES = [
    "在职人员控制率",
    "预算完成率",
    "资金使用合规性",
    "满意度",
    "重点工作办结率",
    "公用经费控制率",
]


@st.composite
def trees(draw: st.DrawFn) -> list[tuple[str, list[tuple[str, list[tuple[str, Decimal, str]]]]]]:
    """一级 → 二级 → leaves (name, weight, standard); names unique among siblings."""
    tops = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True))
    out = []
    for top in tops:
        seconds = draw(
            st.lists(
                st.sampled_from([n for n in NAMES if n != top]), min_size=1, max_size=2, unique=True
            )
        )
        branch = []
        for second in seconds:
            names = draw(st.lists(st.sampled_from(LEAVES), min_size=1, max_size=3, unique=True))
            leaves = [
                (name, draw(decimals("1", "10", places=1)), render_rule(draw(rules)))
                for name in names
            ]
            branch.append((second, leaves))
        out.append((top, branch))
    return out


def _as_docx(ws: Any, path: Path) -> Path:
    """The sheet as a DOCX table, with the sheet's merged ranges merged the same way."""
    import docx

    document = docx.Document()
    rows = list(ws.iter_rows(values_only=True))
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            if value is not None:
                table.cell(r, c).text = str(value)
    for merged in ws.merged_cells.ranges:
        top = table.cell(merged.min_row - 1, merged.min_col - 1)
        text = top.text
        cell = top.merge(table.cell(merged.max_row - 1, merged.max_col - 1))
        cell.text = text
    document.save(str(path))
    return path


@settings(max_examples=40, deadline=None)
@given(trees(), st.booleans())
def test_a_table_reads_back_the_tree_it_was_written_from(tree: Any, merged: bool) -> None:
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["一级指标", "二级指标", "三级指标", "分值", "评分标准"])
    row = 2
    for top, branch in tree:
        top_start = row
        for second, leaves in branch:
            second_start = row
            for i, (name, weight, standard) in enumerate(leaves):
                first_of_top = row == top_start
                ws.append(
                    [
                        top if first_of_top else None,
                        second if i == 0 else None,
                        name,
                        weight,
                        standard,
                    ]
                )
                ws.cell(row, 5).data_type = "s"  # "=0%得3分" is text, not an Excel formula
                row += 1
            if merged and row - second_start > 1:
                ws.merge_cells(
                    start_row=second_start, start_column=2, end_row=row - 1, end_column=2
                )
        if merged and row - top_start > 1:
            ws.merge_cells(start_row=top_start, start_column=1, end_row=row - 1, end_column=1)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.xlsx"
        book.save(path)
        draft = draft_rubric(read_table(path))
        from_docx = draft_rubric(read_table(_as_docx(ws, Path(folder) / "t.docx")))
    assert from_docx.data["indicators"] == draft.data["indicators"]
    shape = [
        (
            top["name"],
            [
                (
                    second["name"],
                    [
                        (leaf["name"], leaf["weight"], leaf.get("standard"))
                        for leaf in second["children"]
                    ],
                )
                for second in top["children"]
            ],
        )
        for top in draft.data["indicators"]
    ]
    assert shape == [
        (top, [(second, [(n, w, s) for n, w, s in leaves]) for second, leaves in branch])
        for top, branch in tree
    ]
