"""Commands for rubric authors: ``check``, ``schema`` and ``template``.

::

    perfscore check RUBRIC [--seed N] [--max-examples N]     hunt for defects (exit 1 on errors)
    perfscore schema rubric                                 JSON Schema of rubric files
    perfscore schema cases                                  JSON Schema of golden-case files
    perfscore schema inputs RUBRIC                          JSON Schema of RUBRIC's input files
    perfscore schema result                                 JSON Schema of a result (-f json)
    perfscore schema error                                  JSON Schema of an error (-f json)
    perfscore template RUBRIC [--format yaml|xlsx] [--out FILE]   an input template to fill in

``check`` exits 1 when it finds an error (an evaluation error, a score out of range, a
leaf that is not monotone as declared) and 0 when it finds only warnings or nothing; every
command exits 3 when RUBRIC is invalid (see :class:`~perfscore.cli.common.ExitCode`).
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import click

from perfscore._escape import visible
from perfscore._files import write_whole
from perfscore.errors import PerfscoreError
from perfscore.i18n import tr
from perfscore.loading import load_rubric
from perfscore.model import Rubric

from .common import (
    ChoiceType,
    Command,
    ExitCode,
    Group,
    IntRangeType,
    Option,
    PathType,
    fail,
    text_or_json,
)

if TYPE_CHECKING:
    from perfscore.authoring.check import CheckReport

__all__ = ["check_command", "render_check", "schema_command", "template_command"]

_FILE = PathType(exists=True, dir_okay=False, path_type=Path)


def _load(path: Path) -> Rubric:
    try:
        return load_rubric(path)
    except PerfscoreError as e:
        fail(e)


# --------------------------------------------------------------------------- check


def render_check(report: CheckReport, rubric: str) -> str:
    """The findings of a hunt as text: each error with its smallest inputs as a golden
    case, then each warning, then a count."""
    lines = [
        tr(
            "cli.check.head",
            rubric=rubric,
            examples=report.examples,
            seed=report.seed,
            scored=report.scored,
        )
    ]
    if report.rejected:
        lines.append("  " + tr("cli.check.rejected", count=report.rejected))
    for finding in report.findings:
        lines.append("")
        where = f"{finding.indicator}: " if finding.indicator else ""
        level = tr(f"cli.check.level.{finding.level}")
        if finding.issue is not None:
            lines.append(f"{level} [{finding.kind}] {where}{finding.issue.message}")
            lines.append(textwrap.indent(str(finding.issue), "    "))
        else:
            lines.append(f"{level} [{finding.kind}] {where}{finding.message}")
        if finding.case is not None:
            if finding.level == "error":
                lines.append("  " + tr("cli.check.smallest"))
            elif finding.kind == "hidden_change":
                lines.append("  " + tr("check.inputs_that_show_it"))
            else:
                lines.append("  " + tr("cli.check.best"))
            lines.append(textwrap.indent(finding.case, "    "))
    errors, warnings = len(report.errors), len(report.warnings)
    lines.append("")
    error_key = "cli.check.errors_one" if errors == 1 else "cli.check.errors_many"
    warning_key = "cli.check.warnings_one" if warnings == 1 else "cli.check.warnings_many"
    lines.append(
        tr(
            "cli.check.count",
            errors=tr(error_key, count=errors),
            warnings=tr(warning_key, count=warnings),
        )
    )
    return "\n".join(lines)


@click.command("check", cls=Command, found="cli.exit.found.check", help_key="cli.help.check")
@click.argument("rubric", type=_FILE)
@click.option(
    "--seed",
    cls=Option,
    type=IntRangeType(),
    metavar="N",
    default=0,
    show_default=True,
    help_key="cli.opt.check.seed",
)
@click.option(
    "--max-examples",
    cls=Option,
    type=IntRangeType(min=1),
    metavar="N",
    default=500,
    show_default=True,
    help_key="cli.opt.check.max_examples",
)
@text_or_json("cli.opt.check.format")
def check_command(rubric: Path, seed: int, max_examples: int, format_: str) -> None:
    """Hunt for defects in RUBRIC with generated departments.

    Generates department inputs that fit RUBRIC's declared inputs (with Hypothesis), and
    solves each denominator that is a sum or difference of inputs for zero, and looks for
    evaluation errors (e.g. division by zero), scores out of range, indicators declared
    monotone that are not, branches no input reaches, leaves that never reach full marks
    and not-applicable rates that hide a change a rule deducts for. Each error comes with
    the smallest inputs that show it, as a golden case.
    Exit 1 when there is an error; warnings alone exit 0.
    """
    loaded = _load(rubric)
    try:
        from perfscore.authoring.check import check_rubric
    except ImportError as e:  # pragma: no cover - hypothesis is installed with perfscore[test]
        click.echo(tr("cli.check.needs_hypothesis", error=str(e)), err=True)
        sys.exit(int(ExitCode.USAGE))
    try:
        report = check_rubric(loaded, seed=seed, max_examples=max_examples)
    except PerfscoreError as e:
        fail(e)
    if format_ == "json":
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(visible(render_check(report, str(rubric))))
    sys.exit(report.exit_code)


# --------------------------------------------------------------------------- schema


@click.group("schema", cls=Group, found=None, help_key="cli.help.schema")
def schema_command() -> None:
    """Print a JSON Schema (draft 2020-12), e.g. for editor completion."""


@schema_command.command("rubric", help_key="cli.help.schema.rubric")
def _schema_rubric() -> None:
    """The JSON Schema of rubric files."""
    from perfscore.authoring.schema import rubric_schema

    click.echo(json.dumps(rubric_schema(), ensure_ascii=False, indent=2))


@schema_command.command("result", help_key="cli.help.schema.result")
def _schema_result() -> None:
    from perfscore.authoring.schema import result_schema

    click.echo(json.dumps(result_schema(), ensure_ascii=False, indent=2))


@schema_command.command("error", help_key="cli.help.schema.error")
def _schema_error() -> None:
    from perfscore.authoring.schema import error_schema

    click.echo(json.dumps(error_schema(), ensure_ascii=False, indent=2))


@schema_command.command("cases", help_key="cli.help.schema.cases")
def _schema_cases() -> None:
    from perfscore.authoring.schema import cases_schema

    click.echo(json.dumps(cases_schema(), ensure_ascii=False, indent=2))


@schema_command.command("inputs", help_key="cli.help.schema.inputs")
@click.argument("rubric", type=_FILE)
def _schema_inputs(rubric: Path) -> None:
    """The JSON Schema of RUBRIC's input files (one department's inputs)."""
    from perfscore.authoring.schema import inputs_schema

    loaded = _load(rubric)
    schema = inputs_schema(loaded, rubric_path=str(rubric))
    click.echo(json.dumps(schema, ensure_ascii=False, indent=2))


# --------------------------------------------------------------------------- template


@click.command("template", cls=Command, help_key="cli.help.template")
@click.argument("rubric", type=_FILE)
@click.option(
    "--format",
    "-f",
    "format_",
    cls=Option,
    type=ChoiceType(["yaml", "xlsx"]),
    default="yaml",
    show_default=True,
    help_key="cli.opt.template.format",
)
@click.option(
    "--out",
    "-o",
    cls=Option,
    metavar="FILE",
    type=PathType(dir_okay=False, path_type=Path),
    help_key="cli.opt.template.out",
)
def template_command(rubric: Path, format_: str, out: Path | None) -> None:
    """Write an input template for RUBRIC: every input with its label, unit and bounds.

    The XLSX form, once filled in, scores directly: perfscore score RUBRIC FORM.xlsx
    """
    from perfscore.authoring.template import xlsx_template, yaml_template

    loaded = _load(rubric)
    if format_ == "yaml":
        text = yaml_template(loaded, rubric_path=str(rubric))
        if out is None:
            click.echo(text, nl=False)
            return
        write_whole(out, text.encode("utf-8"))  # whole or not at all
        click.echo(tr("cli.template.wrote", file=str(out)), err=True)
        return
    target = out if out is not None else Path(f"{loaded.id}.inputs.xlsx")
    try:
        xlsx_template(loaded, target, rubric_path=str(rubric))  # whole or not at all
    except OSError as error:
        error.filename = error.filename or str(target)
        raise
    click.echo(tr("cli.template.wrote", file=str(target)), err=True)
