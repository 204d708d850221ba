"""``perfscore draft TABLE.xlsx|TABLE.docx [--sheet NAME] [--out rubric.yaml]``.

Writes the drafted rubric and, beside it, its golden-case skeleton (``rubric.cases.yaml``);
prints every warning (rows read as judged, sums that disagree) on stderr. Exit 0 when the
draft validates; 3 when the table cannot be read (nothing is written) or the draft, written,
does not validate; 2 when a file cannot be written.
"""

from __future__ import annotations

import os
import secrets
import sys
import textwrap
from pathlib import Path

import click

from perfscore.draft import TableError, draft_table, to_yaml
from perfscore.i18n import tr
from perfscore.methods import method_kinds
from perfscore.render import text as reporting

from .common import FILE, Command, ExitCode, Option, PathType, fail

__all__ = ["cases_path", "draft_command"]


def _write(path: Path, text: str) -> None:
    """Write ``path`` whole or not at all: a temporary file beside it, then a rename."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def cases_path(rubric: Path) -> Path:
    """``rubric.yaml`` → ``rubric.cases.yaml``."""
    return rubric.with_name(f"{rubric.stem}.cases.yaml")


@click.command("draft", cls=Command, found=None, help_key="draft.cli.help")
@click.argument("table", type=FILE)
@click.option("--sheet", cls=Option, default=None, metavar="NAME", help_key="draft.cli.sheet")
@click.option(
    "--out",
    "-o",
    cls=Option,
    type=PathType(dir_okay=False, path_type=Path),
    default=None,
    help_key="draft.cli.out",
)
def draft_command(table: Path, sheet: str | None, out: Path | None) -> None:
    target = out if out is not None else table.with_suffix(".yaml")
    try:
        draft, cases = draft_table(table, sheet=sheet, out=target)
    except TableError as e:
        fail(e, code=ExitCode.INVALID)
    header = "\n".join(f"# {line}" for line in textwrap.wrap(tr("draft.cases.header"), 88))
    cases_file = cases_path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    _write(target, to_yaml(draft.data))
    _write(cases_file, f"{header}\n{to_yaml(cases)}")
    if draft.warnings:
        click.echo(reporting.render_issues(draft.warnings), err=True)
    typed, _ = draft.typed_share
    click.echo(
        tr(
            "draft.cli.wrote",
            rubric=str(target),
            cases=str(cases_file),
            leaves=len(draft.leaves),
            typed=typed,
            unread=len(draft.unread),
        )
    )
    if draft.problems:
        click.echo(tr("draft.cli.invalid"), err=True)
        click.echo(reporting.render_issues(draft.problems), err=True)
        if draft.unread and "judged" not in method_kinds():
            click.echo(tr("draft.cli.judged_missing"), err=True)
        sys.exit(int(ExitCode.INVALID))
