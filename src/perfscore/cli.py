"""The ``perfscore`` command: the only place that prints or exits.

Commands::

    perfscore validate RUBRIC                      check a rubric, list every problem
    perfscore score RUBRIC INPUTS [--format F]     score one department (table, json, markdown)
    perfscore score RUBRIC PATH --out FILE         score a population into CSV, XLSX, JSONL, Parquet
    perfscore explain RUBRIC INPUTS [--indicator ID]  why each leaf scored what it did

Exit codes: 0 success; 1 the rubric or the inputs have problems (each is printed as
``file:line:col: path: message [code]``, never as a traceback); 2 usage errors (click's).

``validate`` writes its issues to stdout (they are its output); ``score`` and ``explain``
write issues to stderr so that stdout only ever holds the result.
"""

from __future__ import annotations

import sys
import textwrap
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

import click
from click.core import ParameterSource
from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from . import __version__, batch, reporting
from ._suggest import did_you_mean
from .engine import compile_rubric
from .errors import Issue, Location, PerfscoreError
from .loading import SourceMap, load_document, load_rubric
from .model import Rubric
from .population import FILE_SUFFIXES, UnsafeWorkbook
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
        if inputs_path.suffix.lower() == ".xlsx":  # a form made by `perfscore template`
            from .template import read_template_xlsx

            data, source = read_template_xlsx(inputs_path), SourceMap(str(inputs_path), [])
        else:
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


#: Suffixes of files that always hold a population; an XLSX holds one when --out is given
#: (without it, an XLSX is one department's inputs).
_POPULATION_SUFFIXES = (".csv", ".tsv", ".jsonl", ".ndjson")
_SHEET_SUFFIXES = (".xlsx", ".xlsm")
#: Failed departments listed on stderr after a batch; the rest are counted.
_LISTED_FAILURES = 20


def _is_population(inputs: Path, out: Path | None) -> bool:
    if inputs.is_dir():
        return True
    suffix = inputs.suffix.lower()
    return suffix in _POPULATION_SUFFIXES or (out is not None and suffix in _SHEET_SUFFIXES)


def _count_hint(inputs: Path) -> int | None:
    """About how many departments ``inputs`` holds (for the progress bar), or None.

    Only a regular file is read ahead: a named pipe can be read once, and counting its
    lines would leave nothing to score (opening it again waits for another writer)."""
    if inputs.is_dir():
        return sum(1 for f in inputs.iterdir() if f.is_file() and f.suffix.lower() in FILE_SUFFIXES)
    if inputs.suffix.lower() not in _POPULATION_SUFFIXES or not inputs.is_file():
        return None
    lines, last = 0, b"\n"
    with inputs.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    lines += last != b"\n"
    return max(lines - (inputs.suffix.lower() in (".csv", ".tsv")), 0)


def _with_progress(
    records: Iterable[batch.BatchRecord],
    total: int | None,
    run: Callable[[Iterable[batch.BatchRecord]], batch.BatchSummary],
) -> batch.BatchSummary:
    """Run ``run(records)`` with a progress bar on stderr that follows the records."""
    progress = Progress(
        TextColumn("scoring"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    with progress:
        task = progress.add_task("scoring", total=total)

        def counted() -> Iterator[batch.BatchRecord]:
            done = 0
            for record in records:
                yield record
                done += 1
                if done % 256 == 0:
                    progress.update(task, completed=done)
            progress.update(task, completed=done, total=done)

        return run(counted())


def _summary_text(summary: batch.BatchSummary) -> str:
    """Each listed failure with its row and reasons, then the counts."""
    lines = []
    for failure in summary.failures:
        head = f"row {failure.row}" + ("" if failure.id == str(failure.row) else f" ({failure.id})")
        lines.append(f"{head}:")
        lines.extend(textwrap.indent(str(issue), "  ") for issue in failure.issues)
    if summary.unlisted:
        lines.append(
            f"{summary.unlisted} more failed row{'' if summary.unlisted == 1 else 's'} "
            f"not listed: the errors column of {summary.path} gives every failed row's reasons"
        )
    lines.append(f"{summary.path}: {summary.scored} scored, {summary.failed} failed")
    return "\n".join(lines)


def _score_population(rubric_path: Path, inputs: Path, out: Path) -> None:
    """Score every department of ``inputs`` into ``out``; summary on stderr; exit 1 if
    any department failed."""
    try:
        batch.check_output(out)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="'--out'") from None
    except ImportError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(1)
    if out.resolve() == inputs.resolve():
        raise click.UsageError("--out FILE would overwrite INPUTS; write somewhere else")
    try:
        compiled = compile_rubric(load_rubric(rubric_path))
    except PerfscoreError as e:
        _fail(e.issues, err=True)
    records = batch.score_many(compiled, inputs)

    def write(records: Iterable[batch.BatchRecord]) -> batch.BatchSummary:
        return batch.write_batch(compiled, records, out, max_failures=_LISTED_FAILURES)

    try:
        if sys.stderr.isatty():
            summary = _with_progress(records, _count_hint(inputs), write)
        else:
            summary = write(records)
    except OSError as e:
        name = Path(e.filename).name if isinstance(e.filename, str) else ""
        if name.startswith(f".{out.name}."):  # the temporary file beside FILE
            click.echo(f"error: cannot write {out}: {e.strerror or e}", err=True)
        else:
            click.echo(f"error: {e}; {out} was not written", err=True)
        sys.exit(1)
    except (UnicodeDecodeError, zipfile.BadZipFile, UnsafeWorkbook) as e:
        hint = " (save it as UTF-8)" if isinstance(e, UnicodeDecodeError) else ""
        click.echo(f"error: cannot read {inputs}: {e}{hint}; {out} was not written", err=True)
        sys.exit(1)
    except ValueError as e:  # a limit of the output format, e.g. the rows of an XLSX sheet
        click.echo(f"error: {e}; {out} was not written", err=True)
        sys.exit(1)
    click.echo(_summary_text(summary), err=True)
    if not summary.ok:
        sys.exit(1)


@main.command()
@click.argument("rubric", type=_FILE)
@click.argument("inputs", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format",
    "-f",
    "format_",
    type=click.Choice(reporting.FORMATS),
    default="table",
    show_default=True,
    help="How to show the result (one department).",
)
@click.option(
    "--out",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Score a population: write one row per department to FILE "
    "(.csv, .tsv, .xlsx, .jsonl or .parquet).",
)
@click.pass_context
def score(ctx: click.Context, rubric: Path, inputs: Path, format_: str, out: Path | None) -> None:
    """Score one department, or a population into FILE with --out.

    INPUTS is one department (a YAML or JSON mapping of input id to value) or a
    population: a folder of such files, a CSV or TSV with one department per row, JSONL
    with one per line, or (with --out) an XLSX sheet with one per row. A population
    needs --out; the summary goes to stderr, and the exit code is 1 if any department
    could not be scored.
    """
    if _is_population(inputs, out):
        if out is None:
            raise click.UsageError(
                f"{inputs} holds a population: give --out FILE "
                "(.csv, .tsv, .xlsx, .jsonl or .parquet) to write its scores"
            )
        if ctx.get_parameter_source("format_") is not ParameterSource.DEFAULT:
            raise click.UsageError(
                "--format shows one department; with --out FILE, the suffix of FILE "
                "decides the format"
            )
        _score_population(rubric, inputs, out)
        return
    if out is not None:
        raise click.UsageError(
            "--out writes the scores of a population: INPUTS must be a folder, "
            "or a .csv, .tsv, .xlsx or .jsonl file"
        )
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


from ._cli_report import report_command  # noqa: E402  (imports helpers defined above)

main.add_command(report_command)

from ._cli_authoring import check_command, schema_command, template_command  # noqa: E402

main.add_command(check_command)
main.add_command(schema_command)
main.add_command(template_command)

from ._cli_diff import diff_command  # noqa: E402

main.add_command(diff_command)
