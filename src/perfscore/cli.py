"""The ``perfscore`` command: the only place that prints or exits.

Commands::

    perfscore validate RUBRIC                      check a rubric, list every problem
    perfscore score RUBRIC INPUTS [--format F]     score one department (table, json, markdown)
    perfscore explain RUBRIC INPUTS [--indicator ID]  why each leaf scored what it did

Exit codes: 0 success; 1 the rubric or the inputs have problems (each is printed as
``file:line:col: path: message [code]``, never as a traceback); 2 usage errors (click's).

``validate`` writes its issues to stdout (they are its output); ``score`` and ``explain``
write issues to stderr so that stdout only ever holds the result.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

import click
from rich.console import Console, RenderableType

from . import __version__, reporting
from ._suggest import did_you_mean
from .engine import compile_rubric
from .errors import Issue, Location, PerfscoreError
from .loading import SourceMap, load_document, load_rubric
from .model import Rubric
from .results import ScoreResult

__all__ = ["main"]

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _fail(issues: Sequence[Issue], *, err: bool) -> NoReturn:
    click.echo(reporting.render_issues(issues), err=err)
    sys.exit(1)


def _show(renderable: RenderableType) -> None:
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


def _locate_inputs(issues: Sequence[Issue], file: str, source: SourceMap) -> list[Issue]:
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


def _load_and_score(rubric_path: Path, inputs_path: Path) -> tuple[Rubric, ScoreResult]:
    """Load both files and score; print every issue to stderr and exit 1 on a problem."""
    try:
        rubric = load_rubric(rubric_path)
        data, source = load_document(inputs_path)
    except PerfscoreError as e:
        _fail(e.issues, err=True)
    file = str(inputs_path)
    try:
        result = compile_rubric(rubric).score(data, source=file)
    except PerfscoreError as e:
        _fail(_locate_inputs(e.issues, file, source), err=True)
    return rubric, result


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="perfscore")
def main() -> None:
    """Score Chinese public-finance performance evaluations (部门整体支出绩效评价)
    against declarative rubrics."""


@main.command()
@click.argument("rubric", type=_FILE)
def validate(rubric: Path) -> None:
    """Check RUBRIC and list every problem in it (exit 1 if there is any)."""
    try:
        loaded = load_rubric(rubric)
    except PerfscoreError as e:
        _fail(e.issues, err=False)
    click.echo(reporting.render_rubric_summary(loaded))
    origins = loaded.indicator_origins
    if origins:
        click.echo("indicators come from:")
        for node in loaded.walk():
            click.echo(f"  {node.id}: {origins.get(node.id, '?')}")


@main.command()
@click.argument("rubric", type=_FILE)
@click.argument("inputs", type=_FILE)
@click.option(
    "--format",
    "-f",
    "format_",
    type=click.Choice(reporting.FORMATS),
    default="table",
    show_default=True,
    help="How to show the result.",
)
def score(rubric: Path, inputs: Path, format_: str) -> None:
    """Score one department: INPUTS is a YAML or JSON mapping of input id to value."""
    _, result = _load_and_score(rubric, inputs)
    if format_ == "json":
        click.echo(reporting.render_json(result))
    elif format_ == "markdown":
        click.echo(reporting.render_markdown(result))
    else:
        _show(reporting.score_table(result))


@main.command()
@click.argument("rubric", type=_FILE)
@click.argument("inputs", type=_FILE)
@click.option(
    "--indicator",
    "-i",
    metavar="ID",
    help="Explain only this indicator (a branch lists its children's scores).",
)
def explain(rubric: Path, inputs: Path, indicator: str | None) -> None:
    """Explain the score of every leaf: the standard, the values read and each step."""
    loaded, result = _load_and_score(rubric, inputs)
    if indicator is not None:
        ids = [node.id for node in result.indicators]
        if indicator not in ids:
            hint = did_you_mean(indicator, ids) or "indicators are: " + ", ".join(ids)
            _fail(
                [
                    Issue(
                        "cli.unknown_indicator",
                        f"no indicator has id {indicator!r}",
                        Location(file=str(rubric)),
                        hint,
                    )
                ],
                err=True,
            )
    click.echo(reporting.render_explanation(result, indicator, rubric=loaded))


@main.command("test")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--junit-xml",
    "junit",
    type=click.Path(path_type=Path),
    help="Also write a JUnit XML report here.",
)
def test_command(paths: tuple[Path, ...], junit: Path | None) -> None:
    """Run the golden cases (*.cases.yaml) in PATHS (default: the current folder)."""
    from . import testing

    outcomes = testing.run_paths(paths or (Path("."),))
    if not outcomes:
        click.echo("no golden-case files (*.cases.yaml) found", err=True)
        sys.exit(1)
    passed = failed = 0
    for path, outcome in outcomes.items():
        if isinstance(outcome, PerfscoreError):
            failed += 1
            click.echo(f"{path}: cannot be used:")
            for issue in outcome.issues:
                click.echo(f"  {issue}")
            continue
        for result in outcome:
            if result.passed:
                passed += 1
            else:
                failed += 1
                click.echo(result.report())
                click.echo()
    if junit is not None:
        junit.write_text(testing.junit_xml(outcomes), encoding="utf-8")
    click.echo(f"{passed} passed, {failed} failed")
    if failed:
        sys.exit(1)
