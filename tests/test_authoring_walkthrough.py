"""docs/authoring.md, run as written: every file it shows with its path is written, every
``$`` command is run in order in a copy of ``examples/yearly-change/``, and every output
it shows is what the command prints (``...`` stands for lines left out).

The commands are ``perfscore ...`` (run in-process, optionally ``> FILE``),
``mkdir -p DIR`` and ``head -N FILE``. Filling in the XLSX form is a person's step; the
test does it with the figures of ``rubrics/mycity/inputs.yaml`` before the command that
scores the form.
"""

from __future__ import annotations

import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
import yaml
from click.testing import CliRunner

from perfscore.cli import main

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "authoring.md"
EXAMPLE = ROOT / "examples" / "yearly-change"
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.DOTALL | re.MULTILINE)
_PATH = re.compile(r"^# (\S+\.ya?ml)(, continued)?$")


@dataclass
class Step:
    """A file to write (or to add to), or a command with the output the page shows."""

    kind: str  # "write", "append" or "run"
    text: str  # the file's path, or the command
    body: str = ""  # the file's text, or the output shown


def steps() -> list[Step]:
    out: list[Step] = []
    for match in _FENCE.finditer(DOC.read_text(encoding="utf-8")):
        language, body = match.group(1), match.group(2)
        first, _, rest = body.partition("\n")
        path = _PATH.match(first)
        if language == "yaml" and path:
            out.append(Step("append" if path.group(2) else "write", path.group(1), rest))
        elif language == "console":
            for chunk in re.split(r"^\$ ", body, flags=re.MULTILINE)[1:]:
                command, _, shown = chunk.partition("\n")
                out.append(Step("run", command, shown))
    return out


def _matches(shown: str, printed: str) -> bool:
    """``printed`` holds the lines shown, in order; ``...`` stands for any lines."""
    want = shown.rstrip("\n").split("\n") if shown.strip() else []
    got = printed.rstrip("\n").split("\n") if printed.strip() else []
    if not any("..." in w for w in want):
        return [w.rstrip() for w in want] == [g.rstrip() for g in got]
    pattern = "".join(
        "(?:.*\n)*?" if w == "..." else re.escape(w.rstrip()).replace(r"\.\.\.", ".*") + "\n"
        for w in want
    )
    return re.fullmatch(pattern, "".join(g.rstrip() + "\n" for g in got)) is not None


def _fill_form(path: Path, inputs: Path) -> None:
    figures = yaml.safe_load(inputs.read_text(encoding="utf-8"))
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]  # named in the language of the run
    key, value = 1, 4  # the (hidden) input ids, and the values
    for row in range(1, sheet.max_row + 1):
        name = sheet.cell(row, key).value
        if name in figures:
            figure = figures[name]
            sheet.cell(row, value).value = (
                ("是" if figure else "否") if isinstance(figure, bool) else figure
            )
    book.save(path)


def _run(command: str, here: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    words = shlex.split(command)
    if words[:2] == ["mkdir", "-p"]:
        (here / words[2]).mkdir(parents=True, exist_ok=True)
        return ""
    if words[0] == "head":
        lines = (here / words[2]).read_text(encoding="utf-8").splitlines()
        return "\n".join(lines[: int(words[1].lstrip("-"))]) + "\n"
    assert words[0] == "perfscore", command
    target = None
    if ">" in words:
        target = words[words.index(">") + 1]
        words = words[: words.index(">")]
    if words[1] == "score" and words[-1].endswith(".xlsx"):
        _fill_form(here / words[-1], here / "rubrics" / "mycity" / "inputs.yaml")
    monkeypatch.chdir(here)
    result = CliRunner().invoke(main, words[1:], env={"PERFSCORE_LANG": "en"})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    if target is not None:
        (here / target).write_text(result.stdout, encoding="utf-8")
        return result.stderr
    return result.output


def test_the_page_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    here = tmp_path / "yearly-change"
    shutil.copytree(EXAMPLE, here)
    for name in ("dept-overall-2024.yaml", "dept-overall-2024.cases.yaml"):
        (here / "rubrics" / "mycity" / name).unlink()  # the page writes them
    ran = 0
    for step in steps():
        if step.kind == "write":
            (here / step.text).write_text(step.body, encoding="utf-8")
        elif step.kind == "append":
            with (here / step.text).open("a", encoding="utf-8") as f:
                f.write(step.body)
        else:
            printed = _run(step.text, here, monkeypatch)
            assert _matches(step.body, printed), (
                f"$ {step.text}\n--- shown:\n{step.body}\n--- printed:\n{printed}"
            )
            ran += 1
    assert ran >= 12
    # the files the page ends with are the ones shipped in the example
    for name in ("dept-overall-2024.yaml", "dept-overall-2024.cases.yaml"):
        written = (here / "rubrics" / "mycity" / name).read_text(encoding="utf-8")
        assert written == (EXAMPLE / "rubrics" / "mycity" / name).read_text(encoding="utf-8")


def test_the_page_shows_every_tool_of_a_yearly_change() -> None:
    commands = {
        shlex.split(s.text)[1]
        for s in steps()
        if s.kind == "run" and s.text.startswith("perfscore")
    }
    assert {"schema", "validate", "test", "check", "diff", "template", "score"} <= commands


@pytest.mark.parametrize(
    ("shown", "printed", "expected"),
    [
        ("a\nb\n", "a\nb\n", True),
        ("a\nb\n", "a\nc\n", False),
        ("a\n...\nd\n", "a\nb\nc\nd\n", True),
        ("a\n...\nd\n", "a\nb\nc\n", False),
        ("x: ...\n", "x: 12 scored\n", True),
        ("a\n...\n", "a\n", True),
        ("a\n...\nd\n", "a\nd\ne\n", False),
    ],
)
def test_elision(shown: str, printed: str, expected: bool) -> None:
    assert _matches(shown, printed) is expected
