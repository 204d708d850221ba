"""``perfscore review``: a department's self-evaluation (复核), or a population's.

::

    perfscore review RUBRIC INPUTS|POPULATION [-f table|json|markdown|html|xlsx]
                     [--out FILE] [--tolerance T] [--fail-on any|total|grade]
                     [--on DATE [--rubric-id ID]]

RUBRIC is a rubric file, or with ``--on DATE`` a folder of rubric versions: the one in
force on DATE reviews (``--rubric-id ID`` when the folder holds several rubrics), as for
``perfscore score``.

INPUTS is one department's inputs file (YAML, JSON, TOML, or a filled-in XLSX form) with
its ``claimed:`` scores; POPULATION a folder, CSV, XLSX table, JSONL or Parquet file of departments
with ``claimed.<id>`` columns. The format defaults to the suffix of ``--out``, else
``table``. Exit 0 when the review ran (findings or not); 1 when ``--fail-on`` finds its
kind, or a department of a population could not be reviewed; 2 on a usage error; 3 when
the rubric or the inputs are invalid.
"""

from __future__ import annotations

import datetime
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import cast

import click

from perfscore.engine import compile_rubric
from perfscore.errors import PerfscoreError
from perfscore.i18n import tr
from perfscore.loading import SourceMap, load_document
from perfscore.population import batch
from perfscore.render import review as render
from perfscore.review import GRADE, TOTAL, ReviewResult

from .common import (
    ON_OPTION,
    RUBRIC_ID_OPTION,
    STRICT_OPTION,
    ChoiceType,
    Command,
    ExitCode,
    Option,
    PathType,
    fail,
    locate_inputs,
    reading_population,
    rubric_in_force,
    warn_issue,
)

__all__ = ["review_command"]

_POPULATION_SUFFIXES = (".csv", ".tsv", ".jsonl", ".ndjson", ".parquet", ".pq")
_SUFFIX_FORMATS: dict[str, render.ReviewFormat] = {
    ".json": "json",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".xlsx": "xlsx",
    ".txt": "table",
}


def _is_population(inputs: Path) -> bool:
    if inputs.is_dir():
        return True
    suffix = inputs.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        from perfscore.authoring.template import is_form

        return not is_form(inputs)
    return suffix in _POPULATION_SUFFIXES


def _tolerance(value: str) -> Decimal:
    try:
        number = Decimal(value)
    except InvalidOperation:
        text = tr("cli.review.not_a_number", value=repr(value))
        raise click.BadParameter(text, param_hint="--tolerance") from None
    if not number.is_finite() or number < 0:
        text = tr("cli.review.not_points", value=repr(value))
        raise click.BadParameter(text, param_hint="--tolerance")
    return number


def failing(review: ReviewResult, fail_on: str | None) -> bool:
    """Whether ``review`` has a finding of the sort ``--fail-on`` names."""
    if fail_on is None:
        return False
    if fail_on == "any":
        return bool(review.findings)
    if fail_on == "total":
        return any(f.indicator == TOTAL for f in review.findings)
    return review.claimed_grade is not None and (
        review.claimed_grade != review.computed_grade
        or any(f.indicator == GRADE for f in review.findings)
    )


def _emit(content: str | bytes, out: Path | None) -> None:
    if out is not None:
        data = content.encode("utf-8") if isinstance(content, str) else content
        from perfscore._files import write_whole

        write_whole(out, data)
        return
    if isinstance(content, bytes):
        stream = sys.stdout.buffer
        if stream.isatty():
            raise click.UsageError(tr("review.cli.binary"))
        stream.write(content)
        stream.flush()
    else:
        click.echo(content, nl=False)


@click.command("review", cls=Command, found="review.cli.found", help_key="review.cli.help")
@click.argument("rubric", type=PathType(exists=True, path_type=Path))
@click.argument("inputs", type=PathType(exists=True, path_type=Path))
@ON_OPTION
@RUBRIC_ID_OPTION
@click.option(
    "--format",
    "-f",
    "format_",
    cls=Option,
    type=ChoiceType(render.REVIEW_FORMATS),
    help_key="review.cli.format",
)
@click.option(
    "--out",
    "-o",
    metavar="FILE",
    cls=Option,
    type=PathType(dir_okay=False, writable=True, path_type=Path),
    help_key="review.cli.out",
)
@click.option("--tolerance", metavar="T", default="0", cls=Option, help_key="review.cli.tolerance")
@click.option(
    "--fail-on",
    cls=Option,
    type=ChoiceType(("any", "total", "grade")),
    help_key="review.cli.fail_on",
)
@STRICT_OPTION
def review_command(
    rubric: Path,
    inputs: Path,
    on: datetime.datetime | None,
    rubric_id: str | None,
    format_: str | None,
    out: Path | None,
    tolerance: str,
    fail_on: str | None,
    strict: bool,
) -> None:
    points = _tolerance(tolerance)
    chosen = cast(
        render.ReviewFormat,
        format_ or (_SUFFIX_FORMATS.get(out.suffix.lower()) if out else None) or "table",
    )
    try:  # a rubric file, or with --on DATE the version in force in a folder of rubrics
        loaded = rubric_in_force(rubric, on.date() if on is not None else None, rubric_id)
        compiled = compile_rubric(loaded)
    except PerfscoreError as e:
        fail(e)
    if _is_population(inputs):
        from perfscore.population.readers import population_format

        try:
            population_format(inputs)
        except ValueError as e:
            raise click.UsageError(str(e)) from None
        reviewed = batch.review_many(
            compiled, inputs, tolerance=points, strict=strict, warn=warn_issue
        )
        with reading_population(inputs):
            population = batch.review_population(reviewed)
        _emit(render.render_population_review(population, chosen), out)
        counts = render.counts_text(population.counts) or "-"
        click.echo(
            tr(
                "review.cli.reviewed",
                count=len(population.reviewed),
                failed=len(population.failed),
                counts=counts,
            ),
            err=True,
        )
        if population.failed or any(failing(r.review, fail_on) for r in population.reviewed):
            sys.exit(int(ExitCode.FOUND))
        return
    try:
        if inputs.suffix.lower() in (".xlsx", ".xlsm"):
            from perfscore.authoring.template import read_template_xlsx

            data, source = read_template_xlsx(inputs), SourceMap(str(inputs), [])
        else:
            data, source = load_document(inputs)
    except PerfscoreError as e:
        fail(e)
    file = str(inputs)
    try:
        review = compiled.review(data, tolerance=points, source=file)
    except PerfscoreError as e:
        fail(type(e)(locate_inputs(e.issues, file, source)))
    _emit(render.render_review(review, chosen, department=inputs.stem), out)
    if failing(review, fail_on):
        sys.exit(int(ExitCode.FOUND))
