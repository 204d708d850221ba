"""The ``perfscore`` command: the only place that prints or exits.

Commands::

    perfscore validate RUBRIC                      check a rubric, list every problem
    perfscore score RUBRIC INPUTS [--format F]     score one department (table, json, markdown)
    perfscore score RUBRIC PATH --out FILE         score a population into CSV, XLSX, JSONL, Parquet
    perfscore explain RUBRIC INPUTS [--indicator ID]  why each leaf scored what it did

Exit codes, the same for every command (:class:`~perfscore.cli.common.ExitCode`): 0
success; 1 the check asked for found something (failed cases, rows that failed, a
``--fail-on`` condition); 2 usage; 3 a rubric or an input that is invalid (each issue is
printed as ``file:line:col: path: message [code]``, never as a traceback; with ``-f json``
as JSON on stdout too).

``validate`` writes its issues to stdout (they are its output); ``score`` and ``explain``
write issues to stderr so that stdout only ever holds the result.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import sys
import textwrap
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import click
from click.core import ParameterSource
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from perfscore import __version__
from perfscore._escape import visible
from perfscore._files import write_whole
from perfscore._suggest import did_you_mean
from perfscore.authoring.lint import lint_rubric
from perfscore.engine import compile_rubric
from perfscore.errors import Issue, Location, PerfscoreError
from perfscore.i18n import msg, tr
from perfscore.loading import load_rubric
from perfscore.model import Rubric
from perfscore.population import batch
from perfscore.population.readers import FILE_SUFFIXES
from perfscore.render import text as reporting

from .common import (
    FILE,
    ON_OPTION,
    RUBRIC_ID_OPTION,
    SHEET_OPTION,
    STRICT_OPTION,
    ChoiceType,
    ExitCode,
    Group,
    Option,
    PathType,
    UsageFailure,
    ending_cleanly,
    fail,
    give_lang_option,
    load_and_score,
    reading_population,
    rubric_in_force,
    show,
    text_or_json,
    warn_hidden_sheets,
    warn_issue,
)

__all__ = ["main"]


def _show_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(tr("cli.version", version=__version__))
        ctx.exit()


@click.group(
    cls=Group,
    help_key="cli.help.main",
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--version",
    "-V",
    cls=Option,
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_show_version,
    help_key="cli.opt.version",
)
def main() -> None:
    """Score Chinese public-finance performance evaluations (部门整体支出绩效评价)
    against declarative rubrics."""


@main.command(help_key="cli.help.validate")
@click.argument("rubric", type=FILE)
@text_or_json("cli.help.validate.format")
@click.option("--verbose", "-v", cls=Option, is_flag=True, help_key="cli.validate.verbose.help")
def validate(rubric: Path, format_: str, verbose: bool) -> None:
    """Check RUBRIC and list every problem in it (exit 3 if there is any); on success one
    line, and with --verbose the file each indicator comes from."""
    try:
        loaded = load_rubric(rubric)
    except PerfscoreError as e:
        fail(e, err=False)
    if format_ == "json":
        from perfscore.dumping import content_hash

        about = {"id": loaded.id, "version": loaded.version, "hash": content_hash(loaded)}
        warnings = [t.to_dict(severity="warning") for t in compile_rubric(loaded).todos]
        warnings += [issue.to_dict() for issue in lint_rubric(loaded)]
        out = {"rubric": about, "issues": [], **({"warnings": warnings} if warnings else {})}
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    click.echo(reporting.render_rubric_summary(loaded))
    todos = compile_rubric(loaded).todos
    if todos:  # warnings: the rubric is valid, with rows an author still has to finish
        click.echo("\n".join(str(issue) for issue in todos))
        click.echo(tr("rubric.todo_count", count=len(todos)))
    origins = loaded.indicator_origins
    if verbose:
        click.echo(tr("cli.validate.sources"))
        for node in loaded.walk():
            click.echo(visible(f"  {node.id}: {origins.get(node.id, str(rubric))}"))
    for issue in lint_rubric(loaded):
        click.echo(visible(f"{tr('lint.warning')}: {issue}"))


#: Suffixes of files that always hold a population; an XLSX holds one when --out is given
#: (without it, an XLSX is one department's inputs).
_POPULATION_SUFFIXES = (".csv", ".tsv", ".jsonl", ".ndjson")
_SHEET_SUFFIXES = (".xlsx", ".xlsm")
#: Parquet populations: read by row group, never counted ahead (they are not lines).
_PARQUET_SUFFIXES = (".parquet", ".pq")
#: Failed departments listed on stderr after a batch; the rest are counted.
_LISTED_FAILURES = 20


def _is_population(inputs: Path, out: Path | None) -> bool:
    if inputs.is_dir():
        return True
    suffix = inputs.suffix.lower()
    return (
        suffix in _POPULATION_SUFFIXES
        or suffix in _PARQUET_SUFFIXES
        or (out is not None and suffix in _SHEET_SUFFIXES and not _is_form(inputs))
    )


def _is_form(inputs: Path) -> bool:
    """Whether ``inputs`` is a filled-in form made by ``perfscore template`` (one department)."""
    from perfscore.authoring.template import is_form

    return is_form(inputs)


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
    records: Iterable[batch.BatchRecord | batch.ScoredRow | batch.ScoredChunk],
    total: int | None,
    run: Callable[
        [Iterable[batch.BatchRecord | batch.ScoredRow | batch.ScoredChunk]], batch.BatchSummary
    ],
) -> batch.BatchSummary:
    """Run ``run(records)`` with a progress bar on stderr that follows the records."""
    progress = Progress(
        TextColumn(tr("cli.progress.scoring")),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(tr("cli.progress.elapsed")),
        TimeElapsedColumn(),
        TextColumn(tr("cli.progress.remaining")),
        TimeRemainingColumn(),
        TextColumn(tr("cli.progress.rate", rate="{task.fields[rate]}")),
        TextColumn(tr("cli.progress.failed", failed="{task.fields[failed]}")),
        console=Console(stderr=True),
        transient=True,
    )
    with progress:
        task = progress.add_task("scoring", total=total, rate="—", failed=0)
        started = time.monotonic()

        def counted() -> Iterator[batch.BatchRecord | batch.ScoredRow | batch.ScoredChunk]:
            done = failed = 0
            for record in records:
                yield record
                before = done
                if isinstance(record, batch.ScoredChunk):  # many departments at once
                    done += len(record)
                    failed += len(record.failures)
                else:
                    done += 1
                    failed += isinstance(record, batch.FailedDepartment)
                if done // 256 != before // 256:
                    seconds = time.monotonic() - started
                    rate = f"{done / seconds:,.0f}" if seconds > 0 else "—"
                    progress.update(task, completed=done, rate=rate, failed=failed)
            progress.update(task, completed=done, total=done, failed=failed)

        return run(counted())


def _summary_text(summary: batch.BatchSummary) -> str:
    """Each listed failure with its row and reasons, then the counts."""
    lines = []
    for failure in summary.failures:
        if failure.id == str(failure.row):
            head = tr("cli.batch.row", row=failure.row)
        else:
            head = tr("cli.batch.row_id", row=failure.row, id=failure.id)
        lines.append(head)
        lines.extend(textwrap.indent(str(issue), "  ") for issue in failure.issues)
    if summary.unlisted:
        key = "cli.batch.unlisted_one" if summary.unlisted == 1 else "cli.batch.unlisted_many"
        lines.append(tr(key, count=summary.unlisted, path=str(summary.path)))
    lines.append(
        tr(
            "cli.batch.summary",
            path=str(summary.path),
            scored=summary.scored,
            failed=summary.failed,
        )
    )
    return visible("\n".join(lines))


def _score_population(
    rubric: Rubric, inputs: Path, out: Path, sheet: str | None, strict: bool = False
) -> None:
    """Score every department of ``inputs`` into ``out``; summary on stderr; exit 1 if
    any department failed, 3 if the rubric or the whole of ``inputs`` cannot be used."""
    try:
        batch.check_output(out)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="'--out'") from None
    except ImportError as e:
        click.echo(tr("cli.error", message=str(e)), err=True)
        sys.exit(int(ExitCode.USAGE))
    if out.resolve() == inputs.resolve():
        raise click.UsageError(tr("cli.score.overwrite"))
    try:
        compiled = compile_rubric(rubric)
    except PerfscoreError as e:
        fail(e)
    # Chunks through the vectorised path when numpy is installed: the same file, faster.
    records = batch.score_rows(compiled, inputs, sheet=sheet, strict=strict, warn=warn_issue)
    warn_hidden_sheets(inputs, sheet)

    def write(
        records: Iterable[batch.BatchRecord | batch.ScoredRow | batch.ScoredChunk],
    ) -> batch.BatchSummary:
        return batch.write_batch(compiled, records, out, max_failures=_LISTED_FAILURES)

    try:
        with ending_cleanly(), reading_population(inputs, out):
            if sys.stderr.isatty():
                summary = _with_progress(records, _count_hint(inputs), write)
            else:
                summary = write(records)
    except OSError as e:
        name = Path(e.filename).name if isinstance(e.filename, str) else ""
        if name.startswith(f".{out.name}."):  # the temporary file beside FILE
            reason = str(e.strerror or e)
            click.echo(tr("cli.error.cannot_write", file=str(out), reason=reason), err=True)
            sys.exit(int(ExitCode.USAGE))
        click.echo(tr("cli.error.not_written", message=str(e), file=str(out)), err=True)
        sys.exit(int(ExitCode.INVALID))
    except ValueError as e:  # a limit of the output format, e.g. the rows of an XLSX sheet
        click.echo(tr("cli.error.not_written", message=str(e), file=str(out)), err=True)
        sys.exit(int(ExitCode.USAGE))
    click.echo(_summary_text(summary), err=True)
    if not summary.ok:
        sys.exit(int(ExitCode.FOUND))


@main.command(found="cli.exit.found.score", help_key="cli.help.score")
@click.argument("rubric", type=PathType(exists=True, path_type=Path))
@click.argument("inputs", type=PathType(exists=True, path_type=Path))
@ON_OPTION
@RUBRIC_ID_OPTION
@click.option(
    "--format",
    "-f",
    "format_",
    cls=Option,
    type=ChoiceType(reporting.FORMATS),
    default="table",
    show_default=True,
    help_key="cli.opt.score.format",
)
@click.option(
    "--out",
    "-o",
    cls=Option,
    type=PathType(dir_okay=False, path_type=Path),
    metavar="FILE",
    help_key="cli.opt.score.out",
)
@SHEET_OPTION
@STRICT_OPTION
@click.pass_context
def score(
    ctx: click.Context,
    rubric: Path,
    inputs: Path,
    on: datetime.datetime | None,
    rubric_id: str | None,
    format_: str,
    out: Path | None,
    sheet: str | None,
    strict: bool,
) -> None:
    """Score one department, or a population into FILE with --out.

    RUBRIC is a rubric file, or with --on DATE a folder of rubric versions: the one in
    force on DATE scores (--rubric-id ID when the folder holds several rubrics).

    INPUTS is one department (a YAML or JSON mapping of input id to value) or a
    population: a folder of such files, a CSV or TSV with one department per row, JSONL
    with one per line, or (with --out) an XLSX sheet with one per row. A population
    needs --out; the summary goes to stderr, and the exit code is 1 if any department
    could not be scored. With -f json a rubric or inputs that cannot be used are written
    as JSON on stdout (exit 3).
    """
    day = on.date() if on is not None else None
    if _is_population(inputs, out):
        if out is None:
            raise click.UsageError(tr("cli.score.population_needs_out", inputs=str(inputs)))
        if ctx.get_parameter_source("format_") is not ParameterSource.DEFAULT:
            raise click.UsageError(tr("cli.score.format_with_out"))
        try:
            loaded = rubric_in_force(rubric, day, rubric_id)
        except PerfscoreError as e:
            fail(e)
        _score_population(loaded, inputs, out, sheet, strict)
        return
    if out is not None:
        raise click.UsageError(tr("cli.score.out_needs_population"))
    _, result = load_and_score(rubric, inputs, on=day, rubric_id=rubric_id)
    if format_ == "json":
        click.echo(reporting.render_json(result))
    elif format_ == "markdown":
        click.echo(reporting.render_markdown(result))
    else:
        show(reporting.score_table(result))


@main.command(help_key="cli.help.explain")
@click.argument("rubric", type=FILE)
@click.argument("inputs", type=FILE)
@click.option("--indicator", "-i", cls=Option, metavar="ID", help_key="cli.opt.explain.indicator")
def explain(rubric: Path, inputs: Path, indicator: str | None) -> None:
    """Explain the score of every leaf: the standard, the values read and each step."""
    loaded, result = load_and_score(rubric, inputs)
    if indicator is not None:
        ids = [node.id for node in result.indicators]
        if indicator not in ids:
            hint = did_you_mean(indicator, ids) or msg("hint.indicators", ids=", ".join(ids))
            issue = Issue.of(
                "cli.unknown_indicator", Location(file=str(rubric)), hint=hint, indicator=indicator
            )
            fail(UsageFailure([issue]), code=ExitCode.USAGE)
    click.echo(reporting.render_explanation(result, indicator, rubric=loaded, width=_width()))


def _width() -> int | None:
    """The columns to wrap to: the terminal's; written to a file or a pipe, ``COLUMNS``
    when it is set; else none (lines as they are)."""
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) >= _NARROWEST else None


#: A COLUMNS below this is not believed.
_NARROWEST = 20


@main.command("test", found="cli.exit.found.test", help_key="cli.help.test")
@click.argument("paths", nargs=-1, type=PathType(exists=True, path_type=Path))
@click.option(
    "--junit-xml",
    "junit",
    cls=Option,
    metavar="FILE",
    type=PathType(path_type=Path),
    help_key="cli.opt.test.junit_xml",
)
@text_or_json("cli.opt.test.format")
def test_command(paths: tuple[Path, ...], junit: Path | None, format_: str) -> None:
    """Run the golden cases (*.cases.yaml) in PATHS (default: the current folder)."""
    from perfscore.authoring import cases as testing

    searched = paths or (Path("."),)
    outcomes = testing.run_paths(searched)
    if not outcomes:
        names = ", ".join(str(p) for p in searched)
        fail(UsageFailure([Issue.of("cli.no_cases", paths=names)]), code=ExitCode.USAGE)
    if junit is not None:
        write_whole(junit, testing.junit_xml(outcomes).encode("utf-8"))
    if format_ == "json":
        run = testing.run_json(outcomes)
        click.echo(json.dumps(run, ensure_ascii=False, indent=2))
        if run["unusable"]:
            sys.exit(int(ExitCode.INVALID))
        if run["failed"]:
            sys.exit(int(ExitCode.FOUND))
        return
    passed = failed = unusable = 0
    for path, outcome in outcomes.items():
        if isinstance(outcome, PerfscoreError):
            unusable += 1
            click.echo(tr("cli.test.cannot_use", path=str(path)))
            for issue in outcome.issues:
                click.echo(visible(f"  {issue}"))
            continue
        for result in outcome:
            if result.passed:
                passed += 1
            else:
                failed += 1
                click.echo(visible(result.report()))
                click.echo()
    summary = tr("cli.test.summary", passed=passed, failed=failed)
    if unusable:
        summary += tr("cli.test.unusable", count=unusable)
    click.echo(summary)
    if unusable:
        sys.exit(int(ExitCode.INVALID))
    if failed:
        sys.exit(int(ExitCode.FOUND))


from .report import report_command  # noqa: E402  (imports helpers defined above)

main.add_command(report_command)

from .authoring import check_command, schema_command, template_command  # noqa: E402

main.add_command(check_command)
main.add_command(schema_command)
main.add_command(template_command)

from .diff import diff_command  # noqa: E402

main.add_command(diff_command)

from .serve import keys_command, serve_command  # noqa: E402

main.add_command(serve_command)
main.add_command(keys_command)

from .verify import verify_command  # noqa: E402

main.add_command(verify_command)

from .review import review_command  # noqa: E402

main.add_command(review_command)
from .draft import draft_command  # noqa: E402

main.add_command(draft_command)
give_lang_option(main)
