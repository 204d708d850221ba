"""A population's columns from the command line: declared metadata (id, 部门名称, year,
unit.*) is read, an undeclared column is one warning per file, and ``--strict`` makes it
an error (exit 3) for ``score --out``, ``diff --population`` and ``review``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from perfscore.cli import main

ROOT = Path(__file__).resolve().parent.parent
RUBRIC = ROOT / "examples" / "demo" / "rubric.yaml"
DEMO = ROOT / "examples" / "demo" / "departments.csv"
#: The demo population: four departments, one of them (档案馆) with an impossible figure.
SCORED, FAILED = 3, 1


def run(*args: object) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], prog_name="perfscore")


def population(tmp_path: Path, extra: dict[str, list[str]]) -> Path:
    """The demo population with ``extra`` columns (heading: one value per row)."""
    with DEMO.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    for name, values in extra.items():
        header.append(name)
        for row, value in zip(body, values, strict=False):
            row.append(value)
    path = tmp_path / "departments.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *body])
    return path


def _rows() -> int:
    with DEMO.open(encoding="utf-8") as f:
        return sum(1 for _ in f) - 1


def test_declared_metadata_columns_are_read(tmp_path: Path) -> None:
    n = _rows()
    path = population(
        tmp_path,
        {
            "部门名称": [f"单位{i}" for i in range(n)],
            "year": ["2023"] * n,
            "unit.code": ["4312"] * n,
        },
    )
    out = tmp_path / "scores.jsonl"
    result = run("score", RUBRIC, path, "--out", out)
    assert result.exit_code == 1, result.output  # 档案馆's own figure, as without them
    assert "警告" not in result.stderr
    assert "[input.unknown" not in result.stderr
    assert f"已评分{SCORED}个，失败{FAILED}个" in result.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == n


def test_an_undeclared_column_is_one_warning_not_an_error_per_row(tmp_path: Path) -> None:
    n = _rows()
    path = population(tmp_path, {"备注": ["x"] * n, "staf_actual": ["1"] * n})
    out = tmp_path / "scores.csv"
    result = run("score", RUBRIC, path, "--out", out)
    assert result.exit_code == 1, result.output  # 档案馆's own figure
    warnings = [line for line in result.stderr.splitlines() if line.startswith("警告")]
    assert len(warnings) == 1, result.stderr
    assert "备注, staf_actual" in warnings[0]
    assert "[population.undeclared_columns]" in warnings[0]
    assert "staf_actual → staff_actual" in result.stderr
    assert f"已评分{SCORED}个，失败{FAILED}个" in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ("score", RUBRIC, "{pop}", "--out", "{out}"),
        ("diff", RUBRIC, RUBRIC, "--population", "{pop}"),
        ("review", RUBRIC, "{pop}"),
    ],
    ids=["score", "diff", "review"],
)
def test_strict_makes_an_undeclared_column_an_error(tmp_path: Path, command: tuple) -> None:
    n = _rows()
    path = population(tmp_path, {"staf_actual": ["1"] * n})
    out = tmp_path / "scores.csv"
    args = [str(a).format(pop=path, out=out) for a in command]
    assert run(*args).exit_code in (0, 1)  # a warning; 1 for 档案馆's own figure
    out.unlink(missing_ok=True)
    result = run(*args, "--strict")
    assert result.exit_code == 3, result.output
    assert "[input.unknown]" in result.stderr
    assert "staff_actual" in result.stderr  # did you mean
    assert not out.exists()
