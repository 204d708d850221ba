"""``perfscore diff``: structural changes between rubric versions, and their impact.

The pair ``tests/data/diff/old.yaml`` / ``new.yaml`` changes a small rubric in most ways a
diff reports; ``population.csv`` / ``population.jsonl`` hold the same seven departments
(the JSONL adds a broken eighth line). Every number below was worked out by hand from the
two rubrics; the working is in the comments of :data:`EXPECTED`.

Long CLI outputs are frozen in ``tests/data/diff/expected/``; after a deliberate change,
regenerate them with ``PERFSCORE_UPDATE_EXPECTED=1 pytest tests/test_diff.py`` and read
the diff.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner, Result

import perfscore
from perfscore.authoring.diff import (
    CHANGE_KINDS,
    DepartmentFailure,
    DepartmentImpact,
    ImpactAnalysis,
    diff_rubrics,
    format_key,
    population_labels,
)
from perfscore.cli.diff import diff_command
from perfscore.population import Department, read_population
from perfscore.render.diff_page import histogram_bins, render_html

#: The messages these tests assert are the English ones.
pytestmark = pytest.mark.lang("en")

ROOT = Path(__file__).resolve().parent.parent
DATA = "tests/data/diff"
OLD = f"{DATA}/old.yaml"
NEW = f"{DATA}/new.yaml"
CSV = f"{DATA}/population.csv"
JSONL = f"{DATA}/population.jsonl"
EXPECTED_DIR = ROOT / DATA / "expected"
UPDATE = bool(os.environ.get("PERFSCORE_UPDATE_EXPECTED"))


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("COLUMNS", raising=False)  # the frozen outputs are 120 columns wide


def run(*args: str) -> Result:
    return CliRunner().invoke(diff_command, list(args), prog_name="perfscore diff")


def expected(name: str, actual: str) -> str:
    path = EXPECTED_DIR / name
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    return path.read_text(encoding="utf-8")


def load(path: str) -> perfscore.Rubric:
    return perfscore.load_rubric(path)


def at(text: str, needle: str, name: str, offset: int = 0) -> str:
    """``name:line:col`` of the first ``needle`` in ``text``, ``offset`` characters in."""
    start = text.index(needle) + offset
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    return f"{name}:{line}:{column}"


# --------------------------------------------------------------------------- structure

BASE = """\
id: t
title: T
total: 10
inputs:
  x: {label: X, kind: number}
  y: {label: Y, kind: number}
derived:
  r: {label: R, formula: x / 2}
indicators:
  - id: top
    name: 顶
    weight: 10
    children:
      - id: a
        name: 甲
        weight: 6
        standard: 甲标准
        scoring: {method: proportional, value: x, full_at: 100}
      - id: b
        name: 乙
        weight: 4
        scoring:
          method: bands
          value: y
          bands:
            - {range: "[50, +∞)", points: 4}
            - {range: "(-∞, 50)", points: 0}
grades:
  - {name: 好, range: "[6, 10]"}
  - {name: 差, range: "[0, 6)"}
"""


def changed(*edits: tuple[str, str]) -> str:
    text = BASE
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    return text


def rows(old_text: str, new_text: str) -> list[tuple[Any, ...]]:
    old = perfscore.loads_rubric(old_text, name="old.yaml")
    new = perfscore.loads_rubric(new_text, name="new.yaml")
    return [
        (
            d["kind"],
            d["indicator"],
            d["path"],
            d["old"],
            d["new"],
            d["old_location"],
            d["new_location"],
        )
        for d in (c.to_dict() for c in diff_rubrics(old, new).changes)
    ]


def test_identical_rubrics_have_no_changes() -> None:
    diff = diff_rubrics(load(OLD), load(OLD))
    assert diff.identical
    assert diff.changes == ()


def test_a_change_without_a_new_version_is_warned() -> None:
    old = perfscore.loads_rubric(BASE, name="old.yaml")
    same_version = perfscore.loads_rubric(changed(("total: 10\n", "total: 10\nnotes: 新\n")))
    diff = diff_rubrics(old, same_version)
    assert [w.code for w in diff.warnings] == ["diff.version_unchanged"]
    assert diff.warnings[0].params["version"] == "1"
    assert diff.to_dict()["warnings"][0]["code"] == "diff.version_unchanged"
    # a new version, or only a new status (publishing a draft): nothing to warn about
    bumped = perfscore.loads_rubric(changed(("title: T", "title: T\nversion: '2'\nnotes: 新")))
    assert diff_rubrics(old, bumped).warnings == ()
    published = perfscore.loads_rubric(changed(("title: T", "title: T\nstatus: draft")))
    assert diff_rubrics(old, published).warnings == ()
    assert diff_rubrics(old, old).warnings == ()


def test_cli_warns_on_stderr_when_the_version_did_not_change(tmp_path: Path) -> None:
    old_file = tmp_path / "old.yaml"
    new_file = tmp_path / "new.yaml"
    old_file.write_text(BASE, encoding="utf-8")
    new_file.write_text(changed(("total: 10\n", "total: 10\nnotes: 新\n")), encoding="utf-8")
    with perfscore.i18n.use_lang("en"):
        result = run(str(old_file), str(new_file), "-f", "json")
    assert result.exit_code == 0
    assert "diff.version_unchanged" in result.stderr
    assert f"{new_file}:" in result.stderr
    assert json.loads(result.stdout)["warnings"][0]["params"]["id"] == "t"


def test_layout_and_defaults_written_out_are_not_changes() -> None:
    new = changed(
        (
            "  x: {label: X, kind: number}",
            "  x:\n    label: X\n    kind: number\n    required: true",
        ),
        ("points: 4}", "points: 4.00}"),
        ("title: T", "title: 另一个标题\nversion: '2'"),
    )
    assert rows(BASE, new) == []


def test_setting_changed() -> None:
    new = changed(("total: 10\n", "total: 10\nrounding: {total: {places: 1}}\n"))
    assert rows(BASE, new) == [
        (
            "setting_changed",
            None,
            "rounding.total.places",
            2,
            1,
            "old.yaml:1:1",  # not in the old file: where the document starts
            at(new, "1}", "new.yaml"),
        )
    ]


def test_input_added_removed_changed() -> None:
    new = changed(
        ("  x: {label: X, kind: number}", "  x: {label: X, kind: number, max: 200}"),
        (
            "  y: {label: Y, kind: number}\n",
            "  y: {label: Y, kind: number}\n  z: {label: Z, kind: boolean}\n",
        ),
    )
    assert rows(BASE, new) == [
        (
            "input_changed",
            None,
            "inputs.x.max",
            None,
            "200",
            at(BASE, "{label: X", "old.yaml"),
            at(new, "200", "new.yaml"),
        ),
        (
            "input_added",
            None,
            "inputs.z",
            None,
            {"label": "Z", "kind": "boolean"},
            at(BASE, "x:", "old.yaml"),
            at(new, "{label: Z", "new.yaml"),
        ),
    ]
    assert rows(new, BASE)[1] == (
        "input_removed",
        None,
        "inputs.z",
        {"label": "Z", "kind": "boolean"},
        None,
        at(new, "{label: Z", "old.yaml"),
        at(BASE, "x:", "new.yaml"),
    )


def test_derived_changed_added_removed() -> None:
    new = changed(("formula: x / 2}", "formula: x / 4}\n  s: {label: S, formula: y + 1}"))
    assert rows(BASE, new) == [
        (
            "derived_changed",
            None,
            "derived.r.formula",
            "x / 2",
            "x / 4",
            at(BASE, "x / 2", "old.yaml"),
            at(new, "x / 4", "new.yaml"),
        ),
        (
            "derived_added",
            None,
            "derived.s",
            None,
            {"label": "S", "formula": "y + 1"},
            at(BASE, "  r: {", "old.yaml", 2),
            at(new, "{label: S", "new.yaml"),
        ),
    ]
    assert [r[0] for r in rows(new, BASE)] == ["derived_changed", "derived_removed"]


def test_indicator_renamed_reweighted_and_text_changed() -> None:
    new = changed(
        (
            "name: 甲\n        weight: 6\n        standard: 甲标准",
            "name: 甲一\n        weight: 5\n        standard: 新标准",
        ),
        ("name: 乙\n        weight: 4", "name: 乙\n        weight: 5"),
    )
    assert rows(BASE, new) == [
        (
            "indicator_renamed",
            "a",
            "indicators.a.name",
            "甲",
            "甲一",
            at(BASE, "甲\n", "old.yaml"),
            at(new, "甲一", "new.yaml"),
        ),
        (
            "indicator_reweighted",
            "a",
            "indicators.a.weight",
            "6",
            "5",
            at(BASE, "6\n", "old.yaml"),
            at(new, "5\n", "new.yaml"),
        ),
        (
            "indicator_changed",
            "a",
            "indicators.a.standard",
            "甲标准",
            "新标准",
            at(BASE, "甲标准", "old.yaml"),
            at(new, "新标准", "new.yaml"),
        ),
        (
            "indicator_reweighted",
            "b",
            "indicators.b.weight",
            "4",
            "5",
            at(BASE, "4\n        scoring", "old.yaml"),
            at(new, "5\n        scoring", "new.yaml"),
        ),
    ]


def test_indicator_id_renamed_is_matched_by_name() -> None:
    new = changed(("- id: a\n", "- id: a_new\n"))
    assert rows(BASE, new) == [
        (
            "indicator_renamed",
            "a_new",
            "indicators.a_new.id",
            "a",
            "a_new",
            at(BASE, "a\n", "old.yaml"),
            at(new, "a_new", "new.yaml"),
        ),
    ]
    diff = diff_rubrics(perfscore.loads_rubric(BASE), perfscore.loads_rubric(new))
    assert diff.indicator_ids["a"] == "a_new"


def test_scoring_parameter_and_method_changed() -> None:
    param = changed(("full_at: 100}", "full_at: 90}"))
    assert rows(BASE, param) == [
        (
            "scoring_changed",
            "a",
            "indicators.a.scoring.full_at",
            "100",
            "90",
            at(BASE, "100}", "old.yaml"),
            at(param, "90}", "new.yaml"),
        ),
    ]
    method = changed(
        ("{method: proportional, value: x, full_at: 100}", "{method: formula, expression: x / 10}")
    )
    assert rows(BASE, method) == [
        (
            "scoring_changed",
            "a",
            "indicators.a.scoring",
            {"method": "proportional", "value": "x", "full_at": "100"},
            {"method": "formula", "expression": "x / 10"},
            at(BASE, "{method: proportional", "old.yaml"),
            at(method, "{method: formula", "new.yaml"),
        )
    ]


def test_bands_are_compared_by_range() -> None:
    new = changed(
        (
            '- {range: "[50, +∞)", points: 4}\n            - {range: "(-∞, 50)", points: 0}',
            '- {range: "(-∞, 50)", points: 1}\n            - {range: "[50, 80)", points: 3}\n'
            '            - {range: "[80, +∞)", points: 4}',
        ),
    )
    assert rows(BASE, new) == [
        (
            "scoring_changed",
            "b",
            'indicators.b.scoring.bands["[50, +∞)"]',
            {"range": "[50, +∞)", "points": "4"},
            None,
            at(BASE, '{range: "[50', "old.yaml"),
            at(new, '- {range: "(-∞', "new.yaml"),
        ),
        (
            "scoring_changed",
            "b",
            'indicators.b.scoring.bands["(-∞, 50)"].points',
            "0",
            "1",
            at(BASE, "points: 0}", "old.yaml", 8),
            at(new, "points: 1}", "new.yaml", 8),
        ),
        (
            "scoring_changed",
            "b",
            'indicators.b.scoring.bands["[50, 80)"]',
            None,
            {"range": "[50, 80)", "points": "3"},
            at(BASE, '- {range: "[50', "old.yaml"),
            at(new, '{range: "[50', "new.yaml"),
        ),
        (
            "scoring_changed",
            "b",
            'indicators.b.scoring.bands["[80, +∞)"]',
            None,
            {"range": "[80, +∞)", "points": "4"},
            at(BASE, '- {range: "[50', "old.yaml"),
            at(new, '{range: "[80', "new.yaml"),
        ),
    ]


def test_grade_changed_added_removed_renamed() -> None:
    ranges = changed(
        ('{name: 好, range: "[6, 10]"}', '{name: 好, range: "(6, 10]"}'),
        ('{name: 差, range: "[0, 6)"}', '{name: 差, range: "[0, 6]"}'),
    )
    assert [r[:5] for r in rows(BASE, ranges)] == [
        ("grade_changed", None, "grades.好.range", "[6, 10]", "(6, 10]"),
        ("grade_changed", None, "grades.差.range", "[0, 6)", "[0, 6]"),
    ]
    three = changed(
        (
            '{name: 好, range: "[6, 10]"}',
            '{name: 好, range: "[8, 10]"}\n  - {name: 中, range: "[6, 8)"}',
        )
    )
    assert rows(BASE, three) == [
        (
            "grade_changed",
            None,
            "grades.好.range",
            "[6, 10]",
            "[8, 10]",
            at(BASE, '"[6, 10]"', "old.yaml"),
            at(three, '"[8, 10]"', "new.yaml"),
        ),
        (
            "grade_added",
            None,
            "grades.中",
            None,
            "[6, 8)",
            at(BASE, "- {name: 好", "old.yaml"),
            at(three, "{name: 中", "new.yaml"),
        ),
    ]
    assert [r[0] for r in rows(three, BASE)] == ["grade_changed", "grade_removed"]
    renamed = changed(("{name: 好,", "{name: 优,"))
    assert [r[:5] for r in rows(BASE, renamed)] == [
        ("grade_renamed", None, "grades.优.name", "好", "优")
    ]


def test_grade_cap_added_changed_removed() -> None:
    one = BASE + 'grade_caps:\n  - {id: c, when: "x > 500", max_grade: 差}\n'
    other = BASE + 'grade_caps:\n  - {id: c, when: "x > 400", max_grade: 差}\n'
    assert [r[:5] for r in rows(BASE, one)] == [
        (
            "grade_cap_added",
            None,
            "grade_caps.c",
            None,
            {"id": "c", "when": "x > 500", "max_grade": "差"},
        )
    ]
    assert [r[:5] for r in rows(one, other)] == [
        ("grade_cap_changed", None, "grade_caps.c.when", "x > 500", "x > 400")
    ]
    assert [r[0] for r in rows(one, BASE)] == ["grade_cap_removed"]


def test_indicator_moved_added_removed_from_files() -> None:
    diff = diff_rubrics(load(OLD), load(NEW))
    old_text = (ROOT / OLD).read_text(encoding="utf-8")
    new_text = (ROOT / NEW).read_text(encoding="utf-8")
    by_path = {c.path: c.to_dict() for c in diff.changes}
    assert by_path["indicators.disclosure.parent"] == {
        "kind": "indicator_moved",
        "indicator": "disclosure",
        "path": "indicators.disclosure.parent",
        "old": "process",
        "new": "outcome",
        "old_location": at(old_text, "id: disclosure", OLD),
        "new_location": at(new_text, "id: disclosure", NEW),
    }
    assert by_path["indicators.budget_adjust"] == {
        "kind": "indicator_added",
        "indicator": "budget_adjust",
        "path": "indicators.budget_adjust",
        "old": None,
        "new": {"name": "预算调整率", "weight": "5", "parent": "input", "method": "bands"},
        "old_location": at(old_text, "- id: staff_control", OLD),  # the parent's children
        "new_location": at(new_text, "id: budget_adjust", NEW),
    }
    assert by_path["indicators.rules"] == {
        "kind": "indicator_removed",
        "indicator": "rules",
        "path": "indicators.rules",
        "old": {"name": "管理制度健全性", "weight": "10", "parent": "input", "method": "checklist"},
        "new": None,
        "old_location": at(old_text, "id: rules", OLD),
        "new_location": at(new_text, "- id: staff_control", NEW),
    }
    assert [c.kind for c in diff.changes] == [
        "input_changed",
        "input_added",
        "input_added",
        "input_removed",
        "derived_added",
        "scoring_changed",
        "indicator_reweighted",
        "scoring_changed",
        "scoring_changed",
        "scoring_changed",
        "scoring_changed",
        "scoring_changed",
        "indicator_added",
        "indicator_reweighted",
        "indicator_reweighted",
        "indicator_moved",
        "indicator_renamed",
        "indicator_removed",
        "grade_changed",
        "grade_changed",
    ]
    assert {c.kind for c in diff.changes} <= set(CHANGE_KINDS)


def test_format_key_quotes_what_is_not_a_name() -> None:
    assert format_key(("indicators", "a", "scoring", "bands", "[80, 90)", "points")) == (
        'indicators.a.scoring.bands["[80, 90)"].points'
    )
    assert format_key(("grades", "优秀", "range")) == "grades.优秀.range"
    assert format_key(("scoring", "items", 0, "points")) == "scoring.items[0].points"


# --------------------------------------------------------------------------- impact

#: Worked by hand. Old: staff_control 10 (−0.5 per whole point over 100%), key_spend 10
#: (≥90 → 10, [80,90) → 8, [70,80) → 6), rules 10, funds 20 (−2 per case), disclosure 20
#: (1 / 0.6 / 0), satisfaction 30 (≥90 → 30, [80,90) → 24). New: staff_control −1 per
#: point, key_spend 15 (≥90 → 15, [85,90) → 12, [70,85) → 9), budget_adjust 5 (=0 → 5,
#: (0,10] → 3, >10 → 0), rules gone; 优秀 (90, 100], 良好 [80, 90].
#:   d1 100% 95% rules 0 cases 及时 95 adj 0:  10+10+10+20+20+30 = 100 → 10+15+5+20+20+30 = 100
#:   d2 20/18 = 111.11% (11 whole steps) 85% no-rules 1 case 基本 88 adj 5%:
#:      4.5+8+0+18+12+24 = 66.5 → 0+12+3+18+12+24 = 69
#:   d3 100% 82% rules 0 及时 92 adj 15%:   10+8+10+20+20+30 = 98 → 10+9+0+20+20+30 = 89
#:   d4 100% 90% no-rules 0 基本 85 adj 0:  10+10+0+20+12+24 = 76 → 10+15+5+20+12+24 = 86
#:   d5 100% 95% rules 1 基本 95 adj 0:     10+10+10+18+12+30 = 90 → 10+15+5+18+12+30 = 90
#:      (优秀 under the old bands, 良好 under the new: the same 90)
#:   d6 satisfaction 'abc': fails under both; d7 no budget_initial: fails under new only.
EXPECTED = [
    ("d1", "100.00", "100.00", "优秀", "优秀", "same", ["key_spend", "budget_adjust", "rules"]),
    (
        "d2",
        "66.50",
        "69.00",
        "合格",
        "合格",
        "same",
        ["staff_control", "key_spend", "budget_adjust", "rules"],
    ),
    ("d3", "98.00", "89.00", "优秀", "良好", "down", ["key_spend", "budget_adjust", "rules"]),
    ("d4", "76.00", "86.00", "合格", "良好", "up", ["key_spend", "budget_adjust", "rules"]),
    ("d5", "90.00", "90.00", "优秀", "良好", "down", ["key_spend", "budget_adjust", "rules"]),
]
MIGRATION = {
    "优秀": {"优秀": 1, "良好": 2, "合格": 0, "不合格": 0},
    "良好": {"优秀": 0, "良好": 0, "合格": 0, "不合格": 0},
    "合格": {"优秀": 0, "良好": 1, "合格": 1, "不合格": 0},
    "不合格": {"优秀": 0, "良好": 0, "合格": 0, "不合格": 0},
}


def analyse(population: str, top: int = 10) -> tuple[list[Any], ImpactAnalysis]:
    old, new = load(OLD), load(NEW)
    analysis = ImpactAnalysis(old, new, top=top)
    departments = read_population(ROOT / population, labels=population_labels(old, new))
    return list(analysis.run(departments)), analysis


@pytest.mark.parametrize("population", [CSV, JSONL])
def test_impact_per_department(population: str) -> None:
    outcomes, _ = analyse(population)
    scored = [o for o in outcomes if isinstance(o, DepartmentImpact)]
    assert [
        (
            d.id,
            str(d.old_total),
            str(d.new_total),
            d.old_grade,
            d.new_grade,
            d.movement,
            [c.id for c in d.changed_indicators],
        )
        for d in scored
    ] == EXPECTED
    d2 = scored[1]
    assert [(c.id, c.old_score, c.new_score) for c in d2.changed_indicators] == [
        ("staff_control", Decimal("4.50"), Decimal("0.00")),
        ("key_spend", Decimal("8.00"), Decimal("12.00")),
        ("budget_adjust", None, Decimal("3.00")),
        ("rules", Decimal("0.00"), None),
    ]


@pytest.mark.lang("zh")
@pytest.mark.parametrize("population", [CSV, JSONL])
def test_impact_summary(population: str) -> None:
    _, analysis = analyse(population, top=3)
    summary = analysis.summary()
    assert summary.scored == 5
    assert summary.failed == (2 if population == CSV else 3)
    assert summary.migration == MIGRATION
    assert list(summary.migration) == ["优秀", "良好", "合格", "不合格"]
    assert (summary.up, summary.down, summary.same, summary.grade_changed) == (1, 2, 2, 3)
    assert (summary.increased, summary.decreased, summary.unchanged) == (2, 1, 2)
    assert summary.mean_change == Decimal("0.7000")  # (0 + 2.5 - 9 + 10 + 0) / 5
    assert summary.max_change == Decimal("10.00")
    assert summary.distribution == (
        (Decimal("-9.00"), 1),
        (Decimal("0.00"), 2),
        (Decimal("2.50"), 1),
        (Decimal("10.00"), 1),
    )
    movers = summary.top_movers
    assert [(m.id, str(m.change)) for m in movers] == [
        ("d4", "10.00"),
        ("d3", "-9.00"),
        ("d2", "2.50"),
    ]
    key_spend = movers[0].changed_indicators[0]
    assert key_spend.id == "key_spend"
    assert key_spend.old_explanation is not None
    assert key_spend.new_explanation is not None
    assert [s.text for s in key_spend.old_explanation.steps] == [
        "重点支出安排率90.00%，在90%（含）以上，得10分"
    ]
    assert [s.text for s in key_spend.new_explanation.steps] == [
        "重点支出安排率90.00%，在90%（含）以上，得15分"
    ]


def test_top_movers_ties_put_grade_changes_first_then_file_order() -> None:
    _, analysis = analyse(CSV, top=5)
    assert [m.id for m in analysis.summary().top_movers] == ["d4", "d3", "d2", "d5", "d1"]
    _, analysis = analyse(CSV, top=0)
    assert analysis.summary().top_movers == ()


def test_bad_rows_are_reported_not_dropped() -> None:
    outcomes, _ = analyse(JSONL)
    failures = [o for o in outcomes if isinstance(o, DepartmentFailure)]
    assert [(f.id, f.row, f.failed_under) for f in failures] == [
        ("d6", 6, ("old", "new")),
        ("d7", 7, ("new",)),
        ("8", 8, ("read",)),
    ]
    d6, d7, broken = failures
    assert [(side, i.code) for side, i in d6.issues] == [
        ("old", "input.type"),
        ("new", "input.type"),
    ]
    assert [(side, i.code) for side, i in d7.issues] == [("new", "input.missing")]
    assert (d7.old_total, d7.old_grade, d7.new_total) == (Decimal("100.00"), "优秀", None)
    assert broken.issues[0][1].code == "input.syntax"
    assert [o.id for o in outcomes] == ["d1", "d2", "d3", "d4", "d5", "d6", "d7", "8"]


def test_same_impact_from_every_population_format(tmp_path: Path) -> None:
    with (ROOT / CSV).open(encoding="utf-8") as f:
        table = list(csv.reader(f))
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for line in table:
        sheet.append(line)
    book.save(tmp_path / "population.xlsx")
    folder = tmp_path / "folder"
    folder.mkdir()
    old, new = load(OLD), load(NEW)
    labels = population_labels(old, new)
    for line in table[1:]:
        record = {labels.get(k, k): v for k, v in zip(table[0], line, strict=True) if v}
        (folder / f"{record['id']}.json").write_text(
            json.dumps(record, ensure_ascii=False), encoding="utf-8"
        )
    results = {}
    for name, path in (
        ("csv", ROOT / CSV),
        ("xlsx", tmp_path / "population.xlsx"),
        ("folder", folder),
    ):
        analysis = ImpactAnalysis(old, new)
        outcomes = list(analysis.run(read_population(path, labels=labels)))
        results[name] = (
            [(o.id, type(o).__name__) for o in outcomes],
            analysis.summary().to_dict(),
        )
    assert results["xlsx"][0] == results["csv"][0]
    assert results["folder"][0] == results["csv"][0]
    strip = {"top_movers"}  # sources (file:row) differ between formats
    for name in ("xlsx", "folder"):
        assert {k: v for k, v in results[name][1].items() if k not in strip} == {
            k: v for k, v in results["csv"][1].items() if k not in strip
        }


def test_analysis_streams_and_keeps_a_bounded_heap() -> None:
    old, new = load(OLD), load(NEW)
    analysis = ImpactAnalysis(old, new, top=2)
    seen: list[str] = []

    def departments() -> Iterator[Department]:
        base = {
            "staff_authorized": 10,
            "staff_actual": 10,
            "key_project_spend": 95,
            "project_spend_total": 100,
            "rules_exist": True,
            "noncompliant_cases": 0,
            "disclosure": "及时完整",
            "satisfaction": 95,
            "budget_initial": 100,
            "budget_adjustment": 0,
        }
        for i in range(500):
            seen.append(f"x{i}")
            yield Department(f"x{i}", i + 1, "gen", {**base, "noncompliant_cases": i % 11})

    outcomes = analysis.run(departments())
    first = next(outcomes)
    assert seen == ["x0"]  # one department read, one compared
    assert isinstance(first, DepartmentImpact)
    for _ in outcomes:
        assert len(analysis._heap) <= 2
    summary = analysis.summary()
    assert summary.scored == 500
    assert len(summary.top_movers) == 2


def test_grades_of_different_names_move_by_where_their_bands_start() -> None:
    old = perfscore.loads_rubric(BASE)
    new = perfscore.loads_rubric(
        changed(
            (
                '{name: 好, range: "[6, 10]"}',
                '{name: 优, range: "[9, 10]"}\n  - {name: 良, range: "[6, 9)"}',
            )
        )
    )
    analysis = ImpactAnalysis(old, new)
    inputs = {"x": 100, "y": 60}  # 6 + 4 = 10: 好 -> 优
    outcome = analysis.compare(Department("a", 1, "-", inputs))
    assert isinstance(outcome, DepartmentImpact)
    assert (outcome.old_grade, outcome.new_grade, outcome.movement) == ("好", "优", "up")
    outcome = analysis.compare(Department("b", 2, "-", {"x": 80, "y": 60}))  # 4.8 + 4
    assert isinstance(outcome, DepartmentImpact)
    assert (outcome.old_grade, outcome.new_grade, outcome.movement) == ("好", "良", "same")
    summary = analysis.summary()
    assert summary.migration == {
        "好": {"优": 1, "良": 1, "差": 0},
        "差": {"优": 0, "良": 0, "差": 0},
    }
    assert summary.grade_changed == 2


def test_histogram_bins_are_centred_on_round_widths() -> None:
    distribution = [
        (Decimal("-9.00"), 1),
        (Decimal("0.00"), 2),
        (Decimal("2.50"), 1),
        (Decimal("10.00"), 1),
    ]
    bins = histogram_bins(distribution)
    assert len(bins) == 20  # width 1 (19 / 20 rounded up to 1): -9 ... +10
    assert bins[0] == (Decimal(-9), Decimal("-9.5"), Decimal("-8.5"), 1)
    assert bins[9][0] == 0
    assert bins[9][3] == 2
    assert bins[12] == (Decimal(3), Decimal("2.5"), Decimal("3.5"), 1)  # 2.5 is in [2.5, 3.5)
    assert sum(b[3] for b in bins) == 5
    assert histogram_bins([(Decimal(1), 4)]) == [(Decimal(1), Decimal(1), Decimal(1), 4)]
    assert histogram_bins([]) == []


# --------------------------------------------------------------------------- command


@pytest.mark.lang("zh")
def test_cli_table_whole_output() -> None:
    result = run(OLD, NEW, "--population", CSV, "--top", "2")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout == expected("table.txt", result.stdout)


@pytest.mark.lang("zh")
def test_cli_markdown_whole_output() -> None:
    result = run(OLD, NEW, "-p", JSONL, "--top", "2", "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert result.stdout == expected("markdown.md", result.stdout)


@pytest.mark.lang("zh")
def test_cli_json_whole_output_and_keys() -> None:
    result = run(OLD, NEW, "-p", CSV, "--top", "1", "--format", "json")
    assert result.exit_code == 0, result.output
    assert result.stdout == expected("diff.json", result.stdout)
    data = json.loads(result.stdout)
    # streamed, yet exactly what json.dumps of the whole object prints
    assert result.stdout == json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    assert list(data) == ["old", "new", "changes", "warnings", "departments", "summary"]
    for change in data["changes"]:
        assert {"kind", "indicator", "path", "old", "new", "old_location", "new_location"} <= set(
            change
        )
    assert data["changes"][5] == {
        "kind": "scoring_changed",
        "indicator": "staff_control",
        "path": "indicators.staff_control.scoring.deduct.points",
        "old": "0.5",
        "new": "1",
        "old_location": f"{OLD}:42:28",
        "new_location": f"{NEW}:53:28",
    }
    for department in data["departments"]:
        assert {
            "id",
            "old_total",
            "new_total",
            "old_grade",
            "new_grade",
            "changed_indicators",
        } <= set(department)
    assert data["departments"][2] == {
        "id": "d3",
        "row": 4,
        "source": f"{CSV}:4",
        "status": "scored",
        "old_total": "98.00",
        "new_total": "89.00",
        "change": "-9.00",
        "old_grade": "优秀",
        "new_grade": "良好",
        "movement": "down",
        "changed_indicators": [
            {"id": "key_spend", "name": "重点支出安排率", "old_score": "8.00", "new_score": "9.00"},
            {"id": "budget_adjust", "name": "预算调整率", "old_score": None, "new_score": "0.00"},
            {"id": "rules", "name": "管理制度健全性", "old_score": "10.00", "new_score": None},
        ],
    }
    assert [d["status"] for d in data["departments"]] == ["scored"] * 5 + ["failed"] * 2
    summary = data["summary"]
    assert summary["migration"] == MIGRATION
    assert (summary["up"], summary["down"], summary["same"]) == (1, 2, 2)
    assert (summary["mean_change"], summary["max_change"], summary["failed"]) == (
        "0.7000",
        "10.00",
        2,
    )


def test_cli_json_without_population_has_changes_only() -> None:
    result = run(OLD, NEW, "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert list(data) == ["old", "new", "changes", "warnings"]
    assert data["old"]["version"] == "2023"
    assert len(data["changes"]) == 20


def test_cli_no_changes() -> None:
    result = run(OLD, OLD)
    assert result.exit_code == 0
    assert result.stdout == (
        f"old: {OLD}  diff-demo version 2023  部门整体支出绩效评价指标评分表（diff 测试，旧版）\n"
        f"new: {OLD}  diff-demo version 2023  部门整体支出绩效评价指标评分表（diff 测试，旧版）\n"
        "\n"
        "changes: none\n"
    )


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        ((NEW, "--fail-on", "grade-change"), 1, "3 department(s) changed grade"),
        ((NEW, "--fail-on", "any-change"), 1, "3 department(s) changed total, 3 changed grade"),
        ((NEW, "--fail-on", "structure"), 1, "the structure differs (20 changes)"),
        ((NEW, "--fail-on", "failed"), 1, "2 department(s) could not be read or scored"),
        ((NEW,), 0, ""),
        (
            (OLD, "--fail-on", "grade-change", "--fail-on", "any-change", "--fail-on", "structure"),
            0,
            "",
        ),
    ],
)
def test_cli_fail_on_exit_codes(args: tuple[str, ...], code: int, message: str) -> None:
    new, *options = args
    result = run(OLD, new, "-p", CSV, "--format", "json", *options)
    assert result.exit_code == code
    json.loads(result.stdout)  # the report is printed either way
    if message:
        assert result.stderr == f"perfscore diff: {message} (--fail-on)\n"
    else:  # at most the warning that the population has columns neither rubric declares
        assert "(--fail-on)" not in result.stderr
        assert all(
            "[population.undeclared_columns]" in line or line.startswith("    hint:")
            for line in result.stderr.splitlines()
        )


def test_cli_fail_on_structure_without_population() -> None:
    assert run(OLD, NEW, "--fail-on", "structure").exit_code == 1
    assert run(OLD, OLD, "--fail-on", "structure").exit_code == 0
    assert run(OLD, NEW, "--fail-on", "grade-change").exit_code == 0  # nothing was scored


def test_cli_html_is_self_contained(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = run(OLD, NEW, "-p", CSV, "--format", "html", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert html.endswith("</html>\n")
    assert html.count("<svg") == 2  # the migration matrix and the histogram
    assert "http://" not in html
    assert "https://" not in html
    assert "<script" not in html
    assert "<link" not in html
    assert "@media print" in html
    for text in ("Grade migration", "Structural changes", "Top movers", "d6", "input.missing"):
        assert text in html
    assert "<html lang='en'>" in html
    assert "优秀 → 良好: 2" in html  # the matrix cell's tooltip


def test_html_without_population_has_no_charts() -> None:
    diff = diff_rubrics(load(OLD), load(NEW))
    html = "".join(render_html(diff))
    assert "<svg" not in html
    assert "indicators.<wbr>staff_control.<wbr>scoring.<wbr>deduct.<wbr>points" in html


def test_cli_invalid_rubrics_list_every_issue(tmp_path: Path) -> None:
    broken_old = tmp_path / "old.yaml"
    broken_old.write_text(BASE.replace("weight: 6", "weight: 7"), encoding="utf-8")
    broken_new = tmp_path / "new.yaml"
    broken_new.write_text(BASE.replace("value: y", "value: yy"), encoding="utf-8")
    result = run(str(broken_old), str(broken_new))
    assert result.exit_code == 3
    assert result.stdout == ""
    assert "rubric.weight_sum" in result.stderr
    assert "unknown name 'yy'" in result.stderr
    assert str(broken_old) in result.stderr
    assert str(broken_new) in result.stderr
    assert result.stderr.rstrip().endswith("problems found")


def test_cli_usage_errors() -> None:
    result = run(OLD, NEW, "-p", "tests/data/diff/old.yaml")
    assert result.exit_code == 2
    assert "a population is a folder, .csv, .xlsx, .jsonl or .parquet file" in result.stderr
    result = run(OLD, NEW, "--format", "xlsx")
    assert result.exit_code == 2
    result = run(OLD, "nowhere.yaml")
    assert result.exit_code == 2


def test_registered_in_the_main_command_when_cli_adds_it() -> None:
    from perfscore.cli import main

    if "diff" not in main.commands:
        pytest.skip("cli.py does not register diff yet")
    result = CliRunner().invoke(main, ["diff", OLD, NEW, "--format", "json"])
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)["changes"]) == 20


@pytest.mark.lang("zh")
def test_docs_example_is_current() -> None:
    """docs/diff.md shows the table output of the data pair: keep it true."""
    docs = (ROOT / "docs" / "diff.md").read_text(encoding="utf-8")
    output = run(OLD, NEW, "--population", CSV, "--top", "2").stdout
    assert output in docs
