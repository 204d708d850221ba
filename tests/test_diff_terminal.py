"""``perfscore diff`` as a person reads it: at 80 and at 200 columns every column stays
(old → new wraps, it is never dropped), a grade that falls or rises is marked, and every
label of the table, the markdown and the HTML page is in the language asked for."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from perfscore import i18n
from perfscore.cli import main
from perfscore.render.text import columns

ROOT = Path(__file__).resolve().parent.parent
DATA = "tests/data/diff"
OLD, NEW, CSV = f"{DATA}/old.yaml", f"{DATA}/new.yaml", f"{DATA}/population.csv"
CHANGES = 20


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def run(*args: str, width: int | None = None, lang: str = "zh") -> Result:
    env = {"COLUMNS": str(width)} if width is not None else {}
    return CliRunner(env=env).invoke(main, ["diff", "--lang", lang, *args], prog_name="perfscore")


def _section(text: str, start: str, end: str) -> str:
    return text.split(start, 1)[1].split(end, 1)[0]


@pytest.mark.parametrize("width", [80, 200])
def test_the_changes_table_keeps_every_column_at_any_width(width: int) -> None:
    result = run(OLD, NEW, "-p", CSV, width=width)
    assert result.exit_code == 0, result.output
    table = _section(result.stdout, "结构变化：20处\n", "\n\n")
    header = table.splitlines()[0]
    for name in ("变化", "路径", "旧 → 新", "位置 旧 → 新"):
        assert name in header
    body = "\n".join(table.splitlines()[2:])
    # each row has its old → new and its place old → new: nothing cut, nothing dropped
    assert body.count("→") == 2 * CHANGES
    assert len(re.findall(r"\d+:\d+ → \d+:\d+", body)) == CHANGES
    for line in result.stdout.splitlines():
        assert columns(line) <= width, line
    for value in ("已制定管理制度,", "社会公众满意度", "(90, 100]", "abs(budget_adjustment)"):
        assert value in body, value


def test_wide_the_paths_are_whole_and_narrow_they_wrap() -> None:
    path = 'indicators.key_spend.scoring.bands["[90, +∞)"].points'
    assert path in run(OLD, NEW, width=200).stdout
    narrow = run(OLD, NEW, width=80).stdout
    assert path not in narrow
    assert "indicators.key_spend.s" in narrow  # folded inside its column


@pytest.mark.parametrize("width", [80, 200])
def test_a_grade_drop_is_marked_and_the_grades_stay_whole(width: int) -> None:
    result = run(OLD, NEW, "-p", CSV, width=width)
    departments = _section(result.stdout, "变化的部门：5个\n", "\n\n")
    rows = {line.split()[0]: line for line in departments.splitlines()[2:] if line[:1] != " "}
    assert "优秀 → 良好 ▼降等" in rows["d3"]
    assert "优秀 → 良好 ▼降等" in rows["d5"]
    assert "合格 → 良好 ▲升等" in rows["d4"]
    assert "合格 → 合格" in rows["d2"]
    assert "降等" not in rows["d2"]
    assert "升等" not in rows["d2"]
    assert "d3（第4行）：98.00 → 89.00（-9.00）；优秀 → 良好 ▼降等" in result.stdout


def test_in_english_the_marks_and_labels_are_english() -> None:
    result = run(OLD, NEW, "-p", CSV, width=80, lang="en")
    assert result.exit_code == 0
    assert "优秀 → 良好 ▼ down" in result.stdout
    for label in ("changes: 20", "old → new", "changed departments: 5", "failed departments"):
        assert label in result.stdout
    assert not re.search(r"结构变化|变化的部门|未能评分|旧版：|新版：|第\d+行", result.stdout)


def _english_labels() -> set[str]:
    """The English labels of the diff page that differ from the Chinese ones and are
    words (not ids, marks or numbers)."""
    labels = set()
    for key in sorted(i18n.keys()):
        if key.startswith(("diffpage.col.", "diffpage.card.", "diffpage.kind.")):
            en, zh = i18n.tr(key, "en"), i18n.tr(key, "zh")
            if en != zh and re.search(r"[a-z]{3}", en):
                labels.add(en)
    return labels


@pytest.mark.parametrize("format_", ["markdown", "html"])
def test_the_diff_page_has_no_english_label_in_chinese(format_: str, tmp_path: Path) -> None:
    out = tmp_path / f"diff.{format_}"
    assert run(OLD, NEW, "-p", CSV, "-f", format_, "-o", str(out)).exit_code == 0
    page = out.read_text(encoding="utf-8")
    wrap = ("<th>{}</th>", "<span>{}</span>", "<td>{}</td>") if format_ == "html" else ("| {} |",)
    labels = _english_labels()
    assert len(labels) > 30
    for label in labels:
        for form in wrap:
            assert form.format(label) not in page, label
    for english in ("Top movers", "Structural changes", "Changed departments", "Summary"):
        assert english not in page
    for chinese in ("评分表变更影响", "结构变化（20）", "变化最大的部门（", "优秀 → 良好 ▼降等"):
        assert chinese in page
    if format_ == "html":
        assert "<html lang='zh-CN'>" in page


@pytest.mark.parametrize("format_", ["markdown", "html"])
def test_the_diff_page_in_english(format_: str, tmp_path: Path) -> None:
    out = tmp_path / f"diff.{format_}"
    assert run(OLD, NEW, "-p", CSV, "-f", format_, "-o", str(out), lang="en").exit_code == 0
    page = out.read_text(encoding="utf-8")
    for english in ("Rubric change impact", "Structural changes (20)", "Top movers", "▼ down"):
        assert english in page
    for chinese in ("评分表变更影响", "结构变化", "变化的部门", "未能评分", "降等", "旧版位置"):
        assert chinese not in page


def test_fail_on_says_why_in_the_language_in_force() -> None:
    zh = run(OLD, NEW, "-p", CSV, "-f", "json", "--fail-on", "grade-change")
    assert zh.exit_code == 1
    assert zh.stderr == "perfscore diff：3个部门等次变化（--fail-on）\n"
    en = run(OLD, NEW, "-p", CSV, "-f", "json", "--fail-on", "grade-change", lang="en")
    assert en.stderr == "perfscore diff: 3 department(s) changed grade (--fail-on)\n"
