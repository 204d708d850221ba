"""``perfscore report``: the filled-in 评分表 of one department, or of every department of a
population (one file each).

::

    perfscore report RUBRIC INPUTS [--format xlsx|html|markdown] [--out FILE] [--department NAME]
    perfscore report RUBRIC FILLED_FORM.xlsx [--format F] [--out FILE]
    perfscore report RUBRIC POPULATION --out-dir DIR [--format F]

The format defaults to the one ``--out`` names by its suffix, else markdown. Without
``--out`` text goes to stdout; XLSX needs ``--out`` unless stdout is a file or a pipe.
INPUTS may be a form made by ``perfscore template --format xlsx`` and filled in: it is one
department, its name and year those of the form's 被评价单位 and 年度.

With ``--out-dir``, POPULATION is a folder of input files, a CSV or XLSX sheet or a JSONL
file (see :mod:`perfscore.population`); each department's report is written as
``DIR/<id>.<suffix>`` (the id made safe as a file name). Departments that cannot be read
or scored are listed with their reasons at the end, on stderr; exit 1 if there was any.
A rubric or inputs that cannot be used exit 3 (see :class:`~perfscore.cli.common.ExitCode`).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import cast

import click

from perfscore._escape import visible
from perfscore.engine import CompiledRubric
from perfscore.errors import Issue, PerfscoreError, format_path
from perfscore.i18n import tr
from perfscore.model import Rubric
from perfscore.population.readers import Department
from perfscore.render import scoresheet as report

from .common import (
    SHEET_OPTION,
    ChoiceType,
    Command,
    ExitCode,
    Option,
    PathType,
    ending_cleanly,
    fail,
    load_and_score,
    reading_population,
    warn_hidden_sheets,
    warn_issue,
)

__all__ = ["report_command"]


def _format(format_: str | None, out: Path | None) -> report.ReportFormat:
    if format_ is not None:
        return cast(report.ReportFormat, format_)
    return (report.format_for_path(out) if out is not None else None) or "markdown"


@click.command("report", cls=Command, found="cli.exit.found.report", help_key="cli.help.report")
@click.argument("rubric", type=PathType(exists=True, dir_okay=False, path_type=Path))
@click.argument("inputs", type=PathType(exists=True, path_type=Path))
@click.option(
    "--format",
    "-f",
    "format_",
    cls=Option,
    type=ChoiceType(report.REPORT_FORMATS),
    help_key="cli.opt.report.format",
)
@click.option(
    "--out",
    "-o",
    metavar="FILE",
    cls=Option,
    type=PathType(dir_okay=False, writable=True, path_type=Path),
    help_key="cli.opt.report.out",
)
@click.option(
    "--out-dir",
    metavar="DIR",
    cls=Option,
    type=PathType(file_okay=False, path_type=Path),
    help_key="cli.opt.report.out_dir",
)
@click.option(
    "--department",
    "-d",
    metavar="NAME",
    cls=Option,
    help_key="cli.opt.report.department",
)
@SHEET_OPTION
def report_command(
    rubric: Path,
    inputs: Path,
    format_: str | None,
    out: Path | None,
    out_dir: Path | None,
    department: str | None,
    sheet: str | None,
) -> None:
    """Write the filled-in 评分表 (scoring table) of INPUTS scored against RUBRIC.

    Columns 一级/二级/三级指标, 分值, 评分标准, 得分 and 扣分说明, with merged cells,
    subtotals (小计), the total (合计) and the grade (评价等次).
    """
    if out_dir is not None:
        if out is not None:
            raise click.UsageError(tr("cli.report.out_and_out_dir"))
        if department is not None:
            raise click.UsageError(tr("cli.report.department_with_out_dir"))
        _population(rubric, inputs, _format(format_, None), out_dir, sheet)
        return
    if _is_population(inputs):
        raise click.UsageError(tr("cli.report.is_population", inputs=str(inputs)))

    chosen = _format(format_, out)
    loaded, result = load_and_score(rubric, inputs)
    unit_name = (result.unit or {}).get("name")
    name = department if department is not None else unit_name
    if out is not None:
        with ending_cleanly():
            report.write_report(result, loaded, out, chosen, department=name)
        return
    content = report.render_report(result, loaded, chosen, department=name)
    if isinstance(content, bytes):
        stream = sys.stdout.buffer
        if stream.isatty():
            raise click.UsageError(tr("cli.report.binary"))
        stream.write(content)
        stream.flush()
    else:
        click.echo(content, nl=False)


def _is_population(inputs: Path) -> bool:
    """Whether INPUTS holds many departments: a folder, a table, or a workbook that is not
    a form made by ``perfscore template`` (a filled-in form is one department)."""
    suffix = inputs.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        from perfscore.authoring.template import is_form

        return not is_form(inputs)
    return inputs.is_dir() or suffix in (".csv", ".tsv", ".jsonl", ".parquet", ".pq")


def _population(
    rubric_path: Path,
    population: Path,
    format_: report.ReportFormat,
    out_dir: Path,
    sheet: str | None = None,
) -> None:
    from perfscore.engine import compile_rubric
    from perfscore.loading import load_rubric
    from perfscore.population.readers import population_format, read_population

    try:
        population_format(population)
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    try:
        rubric = load_rubric(rubric_path)
        compiled = compile_rubric(rubric)
    except PerfscoreError as e:
        fail(e)
    out_dir.mkdir(parents=True, exist_ok=True)
    labels = {spec.label: name for name, spec in rubric.inputs.items()}
    failed: list[tuple[str, str, list[str]]] = []
    departments = read_population(
        population, labels=labels, known=rubric.inputs.keys(), sheet=sheet, warn=warn_issue
    )
    warn_hidden_sheets(population, sheet)
    with ending_cleanly(), reading_population(population):
        written = _write_reports(compiled, rubric, departments, format_, out_dir, failed)
    _report_summary(out_dir, written, failed)


def _write_reports(
    compiled: CompiledRubric,
    rubric: Rubric,
    departments: Iterable[Department],
    format_: report.ReportFormat,
    out_dir: Path,
    failed: list[tuple[str, str, list[str]]],
) -> int:
    """One report per department that scores; the others added to ``failed``."""
    suffix = report.SUFFIXES[format_]
    written = 0
    taken: set[str] = set()
    for dept in departments:
        if dept.inputs is None:
            failed.append((dept.id, dept.source, [_reason(i) for i in dept.issues]))
            continue
        try:
            result = compiled.score(dept.inputs, source=dept.source)
        except PerfscoreError as e:
            failed.append((dept.id, dept.source, [_reason(i) for i in e.issues]))
            continue
        stem = report.safe_filename(dept.id, fallback=f"row{dept.row}")
        if stem.casefold() in taken:  # two ids that read the same as file names
            stem = f"{stem}-row{dept.row}"
        taken.add(stem.casefold())
        name = (result.unit or {}).get("name")  # a blank to fill in, never a file name
        report.write_report(result, rubric, out_dir / f"{stem}{suffix}", format_, department=name)
        written += 1
    return written


def _report_summary(out_dir: Path, written: int, failed: list[tuple[str, str, list[str]]]) -> None:
    if failed:
        click.echo(tr("cli.report.failed"), err=True)
        for dept_id, source, reasons in failed:
            click.echo(visible(f"  {dept_id} ({source}):"), err=True)
            for reason in reasons:
                click.echo(visible(f"    {reason}"), err=True)
    key = "cli.report.written.one" if written == 1 else "cli.report.written"
    summary = tr(key, count=written, out_dir=str(out_dir))
    if failed:
        key = "cli.report.failed_count.one" if len(failed) == 1 else "cli.report.failed_count"
        summary += tr(key, count=len(failed))
    click.echo(summary, err=True)
    if failed:
        sys.exit(int(ExitCode.FOUND))


def _reason(issue: Issue) -> str:
    """One line: ``path: message [code]`` (the file is already named on the line above)."""
    where = issue.location
    head = ""
    if where.line is not None:
        head = (
            tr("cli.report.at_line_column", line=where.line, column=where.column)
            if where.column
            else tr("cli.report.at_line", line=where.line)
        )
    if where.path:
        head += f"{format_path(where.path)}: "
    return f"{head}{issue.message} [{issue.code}]"
