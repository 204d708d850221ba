"""Helpers every command shares: load and score with located input issues, fail with the
issues printed, show a rich renderable. Commands import these; nothing here imports a
command, so a walk from one command to a helper only goes down."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

import click
from rich.console import Console, RenderableType

from perfscore.engine import compile_rubric
from perfscore.errors import Issue, PerfscoreError
from perfscore.loading import SourceMap, load_document, load_rubric
from perfscore.model import Rubric
from perfscore.render import text as reporting
from perfscore.results import ScoreResult

__all__ = ["FILE", "fail", "load_and_score", "locate_inputs", "show"]

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def fail(issues: Sequence[Issue], *, err: bool) -> NoReturn:
    click.echo(reporting.render_issues(issues), err=err)
    sys.exit(1)


def show(renderable: RenderableType) -> None:
    """Print a rich renderable: styled on a terminal, plain fixed-width text otherwise."""
    if sys.stdout.isatty():
        Console(highlight=False).print(renderable)
    else:
        click.echo(reporting.render_plain(renderable))


def _span(source: SourceMap, path: tuple[str | int, ...], *, key: bool) -> tuple[int, int, int]:
    """(line, start, end), 0-based, of a key or of a one-line value in the inputs file."""
    if key or path not in source.values:
        line, start = source.keys[path]
        return line, start, start + len(str(path[-1]))
    line, start, style = source.values[path]
    text = source.lines[line] if line < len(source.lines) else ""
    if style in ("'", '"'):
        close = text.find(style, start + 1)
        end = len(text) if close < 0 else close + 1
    else:  # a plain scalar ends at a comment, or at the end of a JSON / flow entry
        stops = [i for i in (text.find(c, start) for c in (" #", ",", "}", "]")) if i >= 0]
        end = len(text[: min(stops, default=len(text))].rstrip())
    return line, start, max(end, start + 1)


def locate_inputs(issues: Sequence[Issue], file: str, source: SourceMap) -> list[Issue]:
    """Give input issues about one key the line, column and a caret under it (an unknown
    key) or under its value (a value of the wrong kind, out of bounds)."""
    located = []
    for issue in issues:
        loc = issue.location
        if loc.file == file and loc.line is None and loc.path in source.keys:
            line, start, end = _span(source, loc.path, key=issue.code == "input.unknown")
            text = source.lines[line] if line < len(source.lines) else None
            loc = replace(
                loc,
                line=line + 1,
                column=start + 1,
                source_line=text,
                span=(start, end) if text is not None else None,
            )
            issue = replace(issue, location=loc)
        located.append(issue)
    return located


def load_and_score(rubric_path: Path, inputs_path: Path) -> tuple[Rubric, ScoreResult]:
    """Load both files and score; print every issue to stderr and exit 1 on a problem."""
    try:
        rubric = load_rubric(rubric_path)
        if inputs_path.suffix.lower() == ".xlsx":  # a form made by `perfscore template`
            from perfscore.authoring.template import read_template_xlsx

            data, source = read_template_xlsx(inputs_path), SourceMap(str(inputs_path), [])
        else:
            data, source = load_document(inputs_path)
    except PerfscoreError as e:
        fail(e.issues, err=True)
    file = str(inputs_path)
    try:
        result = compile_rubric(rubric).score(data, source=file)
    except PerfscoreError as e:
        fail(locate_inputs(e.issues, file, source), err=True)
    return rubric, result
