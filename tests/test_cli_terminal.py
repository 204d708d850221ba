"""What the terminal shows: ``explain`` wrapped to the width without splitting a number,
``score`` without a 状态 column when every row is scored, ``validate`` in one line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from perfscore.cli import main
from perfscore.render.text import columns

ROOT = Path(__file__).resolve().parent.parent
RUBRIC = "examples/demo/rubric.yaml"
INPUTS = "examples/demo/inputs.yaml"
NUMBER = re.compile(r"[-+]?[0-9][0-9.,]*%?")


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def run(*args: str, width: int | None = None) -> Result:
    env = {"COLUMNS": str(width)} if width is not None else {"COLUMNS": ""}
    return CliRunner(env=env).invoke(main, list(args), prog_name="perfscore")


@pytest.mark.parametrize("width", [40, 80])
def test_explain_wraps_to_columns_without_splitting_numbers(width: int) -> None:
    whole = run("explain", RUBRIC, INPUTS).stdout
    wrapped = run("explain", RUBRIC, INPUTS, width=width).stdout
    assert wrapped != whole
    for line in wrapped.splitlines():
        assert columns(line) <= width or len(line.split()) == 1, line
    # only breaks were added: the text is the same once lines are joined
    assert "".join(wrapped.split()) == "".join(whole.split())
    wrapped_numbers = NUMBER.findall(wrapped)
    for number in NUMBER.findall(whole):
        assert number in wrapped_numbers, number


def test_explain_without_a_width_keeps_its_lines() -> None:
    assert max(columns(line) for line in run("explain", RUBRIC, INPUTS).stdout.splitlines()) > 80


def test_score_has_no_status_column_when_every_row_is_scored(tmp_path: Path) -> None:
    table = run("score", RUBRIC, INPUTS).stdout
    assert "已评分" not in table
    header = table.splitlines()[0]
    assert "状态" not in header
    inputs = tmp_path / "inputs.yaml"
    text = (ROOT / INPUTS).read_text(encoding="utf-8")
    inputs.write_text(text.replace("sangong_last_year: 12.40", "sangong_last_year: 0"), "utf-8")
    shown = run("score", RUBRIC, str(inputs))
    assert "状态" in shown.stdout.splitlines()[0], shown.output


def test_validate_says_one_line_on_success() -> None:
    result = run("validate", RUBRIC)
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 1
    assert result.stdout.startswith("通过：")
