"""``perfscore verify RESULT.json RUBRIC [INPUTS]``: score again and confirm a stored
result, or say what differs.

RESULT.json is a result as ``perfscore score -f json`` (or ``ScoreResult.to_dict()``)
wrote it. Without INPUTS the inputs the result records are scored again; with INPUTS,
those are, and a result computed from other inputs differs in its inputs hash.
Exit 0 when the result is the same (a different perfscore version alone is noted), 1 when
something differs, 3 for a rubric, inputs or result file that cannot be used.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from perfscore.authoring.verify import Difference, verify_result
from perfscore.engine import compile_rubric
from perfscore.errors import Issue, Location, PerfscoreError
from perfscore.i18n import tr
from perfscore.loading import load_document, load_rubric

from .common import (
    FILE,
    Command,
    ExitCode,
    fail,
    locate_inputs,
    read_inputs,
    text_or_json,
)

__all__ = ["verify_command"]


def _shown(value: object) -> str:
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return "—" if value is None else str(value)


def _line(difference: Difference) -> str:
    return tr(
        "verify.difference",
        kind=difference.kind,
        path=difference.path,
        recorded=_shown(difference.recorded),
        recomputed=_shown(difference.recomputed),
    )


@click.command("verify", cls=Command, found="cli.exit.found.verify", help_key="cli.help.verify")
@click.argument("result", type=FILE)
@click.argument("rubric", type=FILE)
@click.argument("inputs", type=FILE, required=False)
@text_or_json("cli.verify.format.help")
def verify_command(result: Path, rubric: Path, inputs: Path | None, format_: str) -> None:
    """Score again and confirm that RESULT.json is what RUBRIC gives (for INPUTS, or for
    the inputs RESULT.json records), or say what differs: score, grade, explanation
    wording, rubric or perfscore version, inputs. Exit 1 when something differs."""
    try:
        record, _ = load_document(result)
        if not isinstance(record, dict):
            raise PerfscoreError([Issue.of("verify.not_a_result", Location(file=str(result)))])
        compiled = compile_rubric(load_rubric(rubric))
        data = source = None
        if inputs is not None:
            data, source = read_inputs(inputs)
    except PerfscoreError as e:
        fail(e)
    file = str(inputs) if inputs is not None else str(result)
    try:
        outcome = verify_result(record, compiled, data, source=file)
    except PerfscoreError as e:
        issues = locate_inputs(e.issues, file, source) if source is not None else e.issues
        fail(type(e)(issues))
    if format_ == "json":
        click.echo(json.dumps(outcome.to_dict(), ensure_ascii=False, indent=2))
    else:
        recomputed = outcome.recomputed
        if outcome.same:
            click.echo(
                tr(
                    "verify.same",
                    result=str(result),
                    id=recomputed["rubric"]["id"],
                    version=recomputed["rubric"]["version"],
                    total=recomputed["total"],
                    grade=recomputed["grade"],
                )
            )
        else:
            click.echo(tr("verify.differs", result=str(result), rubric=str(rubric)))
        for difference in outcome.differences:
            click.echo("  " + _line(difference))
    if not outcome.same:
        raise SystemExit(int(ExitCode.FOUND))
