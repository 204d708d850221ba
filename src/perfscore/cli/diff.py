"""``perfscore diff OLD NEW [--population PATH]``: what a rubric change does.

Prints the structural changes between two rubric files and, with a population (a folder
of input files, a CSV, XLSX or JSONL file), what they do to every department's total and
grade: the grade-migration matrix, how many moved up or down, the mean and largest total
change, the top movers with the explanation of each changed leaf, the departments that
changed and the departments that could not be read or scored.

Formats: ``table`` (rich; plain fixed-width text when not on a terminal), ``markdown``,
``html`` (one self-contained page with inline SVG charts) and ``json`` (one object:
``old``, ``new``, ``changes`` and, with a population, ``departments`` and ``summary``).
JSON lists every department, streamed as it is scored; the other formats list the
departments that changed (total, grade or any leaf) and the failures, kept in a temporary
spool file rather than in memory.

Exit codes (:class:`~perfscore.cli.common.ExitCode`): 0; 1 when a ``--fail-on``
condition holds (said on stderr); 2 usage errors; 3 when a rubric has problems: every
issue of both files is printed to stderr and, with ``-f json``, written as one JSON error
object (:meth:`~perfscore.PerfscoreError.to_dict`) where the comparison would have gone.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final, Generic, TypeVar

import click
from rich import box
from rich.cells import cell_len
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from perfscore import __version__
from perfscore._escape import visible
from perfscore._numbers import to_str
from perfscore.authoring.diff import (
    DepartmentFailure,
    DepartmentImpact,
    ImpactAnalysis,
    ImpactSummary,
    RubricDiff,
    diff_rubrics,
    population_labels,
)
from perfscore.errors import Issue, PerfscoreError, RubricError
from perfscore.i18n import tr
from perfscore.loading import load_rubric
from perfscore.model import Rubric
from perfscore.population.readers import population_format, read_population
from perfscore.render.diff_page import (
    change_cells,
    explanation_lines,
    failure_head,
    failure_issue,
    grade_text,
    histogram_bins,
    kind_text,
    mover_params,
    render_html,
    score_text,
    sides_text,
    signed,
)
from perfscore.render.text import PLAIN_WIDTH, render_plain, wrap

from .common import (
    SHEET_OPTION,
    STRICT_OPTION,
    ChoiceType,
    Command,
    ExitCode,
    IntRangeType,
    Option,
    PathType,
    ending_cleanly,
    fail,
    reading_population,
    warn_hidden_sheets,
    warn_issue,
)

__all__ = ["FAIL_ON", "FORMATS", "diff_command"]

#: ``--format`` choices.
FORMATS: Final = ("table", "json", "markdown", "html")
#: ``--fail-on`` choices: a grade changed; a total or grade changed; the rubric's
#: structure differs; a department could not be read or scored.
FAIL_ON: Final = ("grade-change", "any-change", "structure", "failed")

_FILE = PathType(exists=True, dir_okay=False, path_type=Path)
_EXACT: Final = 20  # at most this many distinct changes are listed as they are, not binned
_CHUNK: Final = 200  # department rows per rich table when listing changed departments
_NARROWEST: Final = 40  # a COLUMNS below this is not believed
_VALUES_MIN: Final = 24  # the old → new column keeps this much before the path wraps

T = TypeVar("T")


class _Spool(Generic[T]):
    """Objects written to a temporary file (in memory up to 4 MB), read back in order."""

    def __init__(self) -> None:
        self._file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)  # noqa: SIM115 - closed in close()
        self.count = 0

    def add(self, item: T) -> None:
        pickle.dump(item, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self.count += 1

    def __iter__(self) -> Iterator[T]:
        self._file.seek(0)
        for _ in range(self.count):
            yield pickle.load(self._file)  # our own objects, written above
        self._file.seek(0, 2)

    def close(self) -> None:
        self._file.close()


class _Sink:
    """Where output goes: ``--out FILE`` or stdout; rich renderables styled on a terminal,
    plain fixed-width text otherwise."""

    def __init__(self, out: Path | None) -> None:
        self._file = out.open("w", encoding="utf-8", newline="\n") if out is not None else None
        self._console = Console(highlight=False) if out is None and sys.stdout.isatty() else None

    @property
    def width(self) -> int:
        """The terminal's width; written to a file or a pipe, ``COLUMNS`` if set, else
        :data:`~perfscore.render.text.PLAIN_WIDTH`."""
        if self._console is not None:
            return self._console.width
        if self._file is None:
            columns = os.environ.get("COLUMNS", "")
            if columns.isdigit() and int(columns) >= _NARROWEST:
                return int(columns)
        return PLAIN_WIDTH

    def write(self, text: str) -> None:
        if self._file is not None:
            self._file.write(text)
        else:  # a terminal shows rubric text as written, never as control sequences
            click.echo(visible(text), nl=False)

    def lines(self, lines: Iterable[str]) -> None:
        """Plain lines, each wrapped to the width (never inside a number or an id)."""
        width = self.width
        for line in lines:
            for part in wrap(line, width):
                self.write(part + "\n")

    def show(self, renderable: RenderableType) -> None:
        if self._console is not None:
            self._console.print(renderable)
        else:
            self.write(render_plain(renderable, self.width) + "\n")

    def __enter__(self) -> _Sink:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._file is not None:
            self._file.close()


# --------------------------------------------------------------------------- loading


def _load(old: Path, new: Path, *, as_json: bool, out: Path | None) -> tuple[Rubric, Rubric]:
    """Both rubrics, or every issue of both files on stderr (and as JSON on stdout or in
    ``out`` when ``as_json``) and exit 3."""
    rubrics: list[Rubric] = []
    issues: list[Issue] = []
    for path in (old, new):
        try:
            rubrics.append(load_rubric(path))
        except PerfscoreError as error:
            issues.extend(error.issues)
    if issues:
        invalid = RubricError(issues)
        if as_json and out is not None:
            out.write_text(_dump(invalid.to_dict()) + "\n", encoding="utf-8")
            fail(invalid, as_json=False)
        fail(invalid, as_json=as_json)
    return rubrics[0], rubrics[1]


# --------------------------------------------------------------------------- json


def _indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return text.replace("\n", "\n" + pad)


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


def _json(
    diff: RubricDiff,
    analysis: ImpactAnalysis | None,
    departments: Iterable[DepartmentImpact | DepartmentFailure],
) -> Iterator[str]:
    """One JSON object, byte for byte what ``json.dumps(..., indent=2)`` would print,
    with the departments written one at a time."""
    head = diff.to_dict()
    yield "{\n"
    yield ",\n".join(f'  "{key}": {_indent(_dump(value), 2)}' for key, value in head.items())
    if analysis is None:
        yield "\n}\n"
        return
    yield ',\n  "departments": ['
    first = True
    for outcome in departments:
        yield ("\n    " if first else ",\n    ") + _indent(_dump(outcome.to_dict()), 4)
        first = False
    yield "]" if first else "\n  ]"
    yield ',\n  "summary": ' + _indent(_dump(analysis.summary().to_dict()), 2) + "\n}\n"


# --------------------------------------------------------------------------- table


def _info_lines(diff: RubricDiff) -> list[str]:
    return [
        tr(
            "diffpage.info",
            side=tr(f"diffpage.side.{side}"),
            file=info.file or "—",
            id=info.id,
            version=info.version,
            title=info.title,
        )
        for side, info in (("old", diff.old), ("new", diff.new))
    ]


def _changes_table(diff: RubricDiff, width: int) -> RenderableType:
    """kind, path, old → new, and the line:column in each file. The path is whole when
    the width leaves the values room, else it wraps too; no column is dropped."""
    rows = []
    for change in diff.changes:
        kind, path, old, new, old_at, new_at = change_cells(change, diff)
        rows.append((kind_text(kind), path, f"{old} → {new}", f"{old_at} → {new_at}"))
    headers = [tr(k) for k in ("diffpage.col.kind", "diffpage.col.path", "diffpage.col.at")]
    kind_w, path_w, at_w = (
        max(cell_len(h), *(cell_len(row[i]) for row in rows))
        for h, i in zip(headers, (0, 1, 3), strict=True)
    )
    whole_path = kind_w + path_w + at_w + 3 * 3 + _VALUES_MIN <= width
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column(headers[0], no_wrap=True)
    table.add_column(headers[1], no_wrap=whole_path, overflow="fold", min_width=12)
    table.add_column(tr("diffpage.col.old_new"), overflow="fold", min_width=12)
    table.add_column(headers[2], no_wrap=True)
    for row in rows:
        table.add_row(*(Text(visible(t, lines=False)) for t in row))
    return table


def _summary_lines(summary: ImpactSummary) -> list[str]:
    mean = "—" if summary.mean_change is None else signed(summary.mean_change)
    largest = "—" if summary.max_change is None else signed(summary.max_change)
    return [
        tr(
            "diffpage.impact",
            total=summary.scored + summary.failed,
            scored=summary.scored,
            failed=summary.failed,
        ),
        tr("diffpage.grades", up=summary.up, down=summary.down, same=summary.same),
        tr(
            "diffpage.totals",
            increased=summary.increased,
            decreased=summary.decreased,
            unchanged=summary.unchanged,
            mean=mean,
            largest=largest,
        ),
    ]


def _migration_table(summary: ImpactSummary) -> RenderableType:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column(tr("diffpage.col.corner"), no_wrap=True)
    for name in summary.new_grades:
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("Σ", justify="right", no_wrap=True)
    for old in summary.old_grades:
        row = summary.migration[old]
        cells = [Text(str(row[new])) for new in summary.new_grades]
        table.add_row(Text(visible(old, lines=False)), *cells, Text(str(sum(row.values()))))
    return table


def _distribution(summary: ImpactSummary) -> list[tuple[str, int]]:
    """(label, count) rows: each total change as it is when there are at most
    ``_EXACT`` of them, else the histogram's bins."""
    if len(summary.distribution) <= _EXACT:
        return [(signed(change), count) for change, count in summary.distribution]
    return [
        (signed(centre) if low == high else f"[{to_str(low)}, {to_str(high)})", count)
        for centre, low, high, count in histogram_bins(summary.distribution)
    ]


def _distribution_lines(summary: ImpactSummary, width: int = 40) -> list[str]:
    rows = _distribution(summary)
    if not rows:
        return [tr("diffpage.distribution.none")]
    biggest = max(count for _, count in rows) or 1
    pad = max(cell_len(label) for label, _ in rows)
    lines = [tr("diffpage.distribution")]
    for label, count in rows:
        bar = "█" * max(1, round(width * count / biggest)) if count else ""
        lines.append(f"  {label.rjust(pad)} │{bar} {count}")
    return lines


def _mover_lines(summary: ImpactSummary) -> list[str]:
    if not summary.top_movers:
        return [tr("diffpage.movers.none")]
    lines = [tr("diffpage.movers", count=len(summary.top_movers))]
    for m in summary.top_movers:
        lines.append(tr("diffpage.mover", **mover_params(m)))
        for c in m.changed_indicators:
            line = tr(
                "diffpage.score_change",
                id=c.id,
                name=c.name,
                old=score_text(c.old_score),
                new=score_text(c.new_score),
                change=signed(c.change),
            )
            lines.append(f"  {line}")
            for key, explanation in (
                ("diffpage.step.old", c.old_explanation),
                ("diffpage.step.new", c.new_explanation),
            ):
                lines.extend(f"    {tr(key, text=t)}" for t in explanation_lines(explanation))
    return lines


#: The columns of the changed departments: catalogue key, alignment.
_DEPARTMENT_COLUMNS: Final = (
    ("diffpage.col.id", "left"),
    ("diffpage.col.row", "right"),
    ("diffpage.col.old_total", "right"),
    ("diffpage.col.new_total", "right"),
    ("diffpage.col.change", "right"),
    ("diffpage.col.grade", "left"),
    ("diffpage.col.changed_indicators", "left"),
)
#: Narrowest the id and the changed indicators are folded to on a narrow screen.
_ID_MIN: Final = 6
_CHANGED_MIN: Final = 8


def _department_cells(d: DepartmentImpact) -> tuple[str, ...]:
    return (
        d.id,
        str(d.row),
        to_str(d.old_total),
        to_str(d.new_total),
        signed(d.change),
        grade_text(d.old_grade, d.new_grade, d.movement),
        ", ".join(c.id for c in d.changed_indicators) or "—",
    )


def _department_widths(departments: _Spool[DepartmentImpact], width: int) -> list[int]:
    """Column widths that fit ``width``: the numbers and the old → new grade whole; the
    id and the changed indicators folded when the screen is narrow."""
    widths = [cell_len(tr(key)) for key, _ in _DEPARTMENT_COLUMNS]
    for d in departments:
        for i, cell in enumerate(_department_cells(d)):
            widths[i] = max(widths[i], cell_len(cell))
    gaps = 3 * (len(widths) - 1)  # a space and two of padding per gap
    fixed = sum(widths[1:-1]) + gaps
    room = width - fixed
    if widths[0] + _CHANGED_MIN > room:  # narrow: the id folds too
        widths[0] = max(_ID_MIN, min(widths[0], room - _CHANGED_MIN))
    widths[-1] = max(_CHANGED_MIN, min(widths[-1], room - widths[0]))
    return widths


def _department_tables(
    departments: _Spool[DepartmentImpact], width: int
) -> Iterator[RenderableType]:
    """The changed departments as rich tables of a few hundred rows each, all with the
    same column widths (measured in a first pass), so that they read as one table."""
    if not departments.count:
        return
    widths = _department_widths(departments, width)
    folded = {0, len(widths) - 1}  # the id and the changed indicators may wrap

    def table(header: bool) -> Table:
        t = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, show_header=header)
        for i, ((key, justify), w) in enumerate(zip(_DEPARTMENT_COLUMNS, widths, strict=True)):
            t.add_column(
                tr(key),
                justify=justify,  # type: ignore[arg-type]
                width=w,
                no_wrap=i not in folded,
                overflow="fold",
            )
        return t

    current = table(header=True)
    rows = 0
    for d in departments:
        current.add_row(*(Text(visible(cell, lines=False)) for cell in _department_cells(d)))
        rows += 1
        if rows == _CHUNK:
            yield current
            current, rows = table(header=False), 0
    if rows:
        yield current


def _failure_lines(failures: _Spool[DepartmentFailure]) -> Iterator[str]:
    yield tr("diffpage.failed", count=failures.count)
    for f in failures:
        yield failure_head(f)
        for side, issue in f.issues:
            yield "  " + failure_issue(side, issue)


def _table(
    sink: _Sink,
    diff: RubricDiff,
    summary: ImpactSummary | None,
    changed: _Spool[DepartmentImpact] | None,
    failures: _Spool[DepartmentFailure] | None,
) -> None:
    lines = sink.lines
    lines([*_info_lines(diff), ""])
    if diff.changes:
        lines([tr("diffpage.changes", count=len(diff.changes))])
        sink.show(_changes_table(diff, sink.width))
    else:
        lines([tr("diffpage.changes.none")])
    if summary is None or changed is None or failures is None:
        return
    lines(["", *_summary_lines(summary), "", tr("diffpage.migration")])
    sink.show(_migration_table(summary))
    lines(["", *_distribution_lines(summary), "", *_mover_lines(summary), ""])
    lines([tr("diffpage.changed", count=changed.count)])
    for renderable in _department_tables(changed, sink.width):
        sink.show(renderable)
    lines(["", *_failure_lines(failures)])


# --------------------------------------------------------------------------- markdown


def _md(text: str) -> str:
    """Text on one line of a markdown table: HTML and link syntax escaped, a newline a
    space; the bold (``**``) and code spans the diff's cells are written with are kept."""
    flat = visible(" ".join(text.split()), lines=False)
    parts = _CODE_SPAN.split(flat)
    for i, part in enumerate(parts):  # odd parts are code spans: literal but for '|'
        parts[i] = part.replace("|", "\\|") if i % 2 else _MD_SPECIAL.sub(_md_escape, part)
    return "".join(parts)


def _md_escape(match: re.Match[str]) -> str:
    return _MD_ESCAPES[match.group()]


_MD_ESCAPES: Final = {
    "\\": "\\\\",
    "|": "\\|",
    "[": "\\[",
    "]": "\\]",
    "<": "&lt;",
    ">": "&gt;",
    "&": "&amp;",
}
_CODE_SPAN: Final = re.compile(r"(`[^`]*`)")
_MD_SPECIAL: Final = re.compile(r"[\\|\[\]<>&]")


def _md_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(_md(c) for c in cells) + " |\n"


def _md_table(header: Sequence[str], align: Sequence[str]) -> str:
    return _md_row(header) + "| " + " | ".join(align) + " |\n"


def _markdown(
    diff: RubricDiff,
    summary: ImpactSummary | None,
    changed: _Spool[DepartmentImpact] | None,
    failures: _Spool[DepartmentFailure] | None,
) -> Iterator[str]:
    col = _col
    yield f"# {tr('diffpage.title')}\n\n"
    yield _md_table(["", col("id"), col("version"), col("title"), col("file")], [":--"] * 5)
    for side, info in (("old", diff.old), ("new", diff.new)):
        label = tr(f"diffpage.side.{side}")
        yield _md_row([label, f"`{info.id}`", info.version, info.title, info.file or "—"])
    if summary is not None:
        yield f"\n## {tr('diffpage.summary')}\n\n"
        yield "".join(f"- {line}\n" for line in _summary_lines(summary))
        yield f"\n### {tr('diffpage.migration.heading')}\n\n"
        yield _md_table(
            [col("corner"), *summary.new_grades, "Σ"],
            [":--", *(["--:"] * (len(summary.new_grades) + 1))],
        )
        for old in summary.old_grades:
            row = summary.migration[old]
            yield _md_row(
                [f"**{old}**", *(str(row[n]) for n in summary.new_grades), str(sum(row.values()))]
            )
        rows = _distribution(summary)
        if rows:
            yield f"\n### {tr('diffpage.distribution.heading')}\n\n"
            yield _md_table([col("change"), col("departments")], ["--:", "--:"])
            for label, count in rows:
                yield _md_row([label, str(count)])
    yield f"\n## {tr('diffpage.changes.heading', count=len(diff.changes))}\n\n"
    if diff.changes:
        yield _md_table(
            [col("kind"), col("path"), col("old"), col("new"), col("old_at"), col("new_at")],
            [":--"] * 6,
        )
        for change in diff.changes:
            kind, path, old_text, new_text, old_at, new_at = change_cells(change, diff)
            yield _md_row([kind_text(kind), f"`{path}`", old_text, new_text, old_at, new_at])
    else:
        yield tr("diffpage.changes.empty") + "\n"
    if summary is None or changed is None or failures is None:
        return
    yield f"\n## {tr('diffpage.movers.heading', count=len(summary.top_movers))}\n"
    if not summary.top_movers:
        yield f"\n{tr('diffpage.none')}\n"
    for m in summary.top_movers:
        heading = tr(
            "diffpage.mover.heading",
            id=_md(m.id),
            row=m.row,
            old=to_str(m.old_total),
            new=to_str(m.new_total),
            change=signed(m.change),
            grades=_md(grade_text(m.old_grade, m.new_grade, m.movement)),
        )
        yield f"\n### {heading}\n\n"
        yield _md_table(
            [
                col("indicator"),
                col("old"),
                col("new"),
                col("change"),
                col("old_explanation"),
                col("new_explanation"),
            ],
            [":--", "--:", "--:", "--:", ":--", ":--"],
        )
        for c in m.changed_indicators:
            old_steps = "<br>".join(_md(x) for x in explanation_lines(c.old_explanation)) or "—"
            new_steps = "<br>".join(_md(x) for x in explanation_lines(c.new_explanation)) or "—"
            yield (
                f"| `{_md(c.id)}` {_md(c.name)} | {score_text(c.old_score)} | "
                f"{score_text(c.new_score)} | {signed(c.change)} | {old_steps} | {new_steps} |\n"
            )
    yield f"\n## {tr('diffpage.changed.heading', count=changed.count)}\n\n"
    if changed.count:
        yield _md_table(
            [tr(key) for key, _ in _DEPARTMENT_COLUMNS],
            [":--" if justify == "left" else "--:" for _, justify in _DEPARTMENT_COLUMNS],
        )
        for d in changed:
            yield _md_row(_department_cells(d))
    else:
        yield tr("diffpage.none") + "\n"
    yield f"\n## {tr('diffpage.failed.heading', count=failures.count)}\n\n"
    if failures.count:
        yield _md_table(
            [col("id"), col("row"), col("source"), col("failed_under"), col("issues")],
            [":--"] * 5,
        )
        for f in failures:
            issues = "<br>".join(_md(failure_issue(side, issue)) for side, issue in f.issues)
            yield (
                f"| {_md(f.id)} | {f.row} | {_md(f.source)} | {_md(sides_text(f.failed_under))} | "
                f"{issues} |\n"
            )
    else:
        yield tr("diffpage.none") + "\n"


def _col(name: str) -> str:
    return tr(f"diffpage.col.{name}")


# --------------------------------------------------------------------------- command


def _verdict(fail_on: Sequence[str], diff: RubricDiff, summary: ImpactSummary | None) -> list[str]:
    """The ``--fail-on`` conditions that hold, each as a sentence."""
    reasons = []
    if "structure" in fail_on and diff.changes:
        reasons.append(tr("diffpage.verdict.structure", count=len(diff.changes)))
    if summary is not None:
        if "grade-change" in fail_on and summary.grade_changed:
            reasons.append(tr("diffpage.verdict.grade", count=summary.grade_changed))
        if "any-change" in fail_on and (summary.total_changed or summary.grade_changed):
            reasons.append(
                tr(
                    "diffpage.verdict.any",
                    total=summary.total_changed,
                    grade=summary.grade_changed,
                )
            )
        if "failed" in fail_on and summary.failed:
            reasons.append(tr("diffpage.verdict.failed", count=summary.failed))
    return reasons


@click.command("diff", cls=Command, found="cli.exit.found.diff", help_key="cli.help.diff")
@click.argument("old", type=_FILE)
@click.argument("new", type=_FILE)
@click.option(
    "--population",
    "-p",
    cls=Option,
    type=PathType(exists=True, path_type=Path),
    help_key="cli.opt.diff.population",
)
@SHEET_OPTION
@click.option(
    "--format",
    "-f",
    "format_",
    cls=Option,
    type=ChoiceType(FORMATS),
    default="table",
    show_default=True,
    help_key="cli.opt.diff.format",
)
@click.option(
    "--out",
    "-o",
    cls=Option,
    metavar="FILE",
    type=PathType(dir_okay=False, path_type=Path),
    help_key="cli.opt.diff.out",
)
@click.option(
    "--top",
    cls=Option,
    type=IntRangeType(min=0),
    metavar="N",
    default=10,
    show_default=True,
    help_key="cli.opt.diff.top",
)
@click.option(
    "--fail-on",
    cls=Option,
    type=ChoiceType(FAIL_ON),
    multiple=True,
    help_key="cli.opt.diff.fail_on",
)
@STRICT_OPTION
def diff_command(
    old: Path,
    new: Path,
    population: Path | None,
    format_: str,
    out: Path | None,
    top: int,
    fail_on: tuple[str, ...],
    sheet: str | None,
    strict: bool,
) -> None:
    """Compare rubric OLD with NEW: the structural changes, each with its place in both
    files, and with --population what they do to every department's total and grade."""
    if population is not None:
        try:
            population_format(population)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="'--population'") from None
    old_rubric, new_rubric = _load(old, new, as_json=format_ == "json", out=out)
    diff = diff_rubrics(old_rubric, new_rubric)
    for warning in diff.warnings:
        click.echo(f"{tr('cli.warning')}: {warning}", err=True)
    analysis: ImpactAnalysis | None = None
    outcomes: Iterable[DepartmentImpact | DepartmentFailure] = ()
    if population is not None:
        analysis = ImpactAnalysis(old_rubric, new_rubric, top=top)
        labels = population_labels(old_rubric, new_rubric)
        known = {*old_rubric.inputs, *new_rubric.inputs}
        outcomes = analysis.run(
            read_population(
                population, labels=labels, known=known, sheet=sheet, strict=strict, warn=warn_issue
            )
        )
        warn_hidden_sheets(population, sheet)
    with ending_cleanly(), reading_population(population or Path("."), out):
        summary = _write(out, format_, diff, analysis, outcomes)
    reasons = _verdict(fail_on, diff, summary)
    if reasons:
        joined = tr("diffpage.verdict.sep").join(reasons)
        click.echo(tr("diffpage.verdict", reasons=joined), err=True)
        sys.exit(int(ExitCode.FOUND))


def _write(
    out: Path | None,
    format_: str,
    diff: RubricDiff,
    analysis: ImpactAnalysis | None,
    outcomes: Iterable[DepartmentImpact | DepartmentFailure],
) -> ImpactSummary | None:
    """Write the comparison; a partial ``out`` is removed if anything stops it."""
    summary: ImpactSummary | None = None
    try:
        summary = _write_to(out, format_, diff, analysis, outcomes)
    except BaseException:  # a population error, a signal: no partial file is left
        if out is not None:
            out.unlink(missing_ok=True)
        raise
    return summary


def _write_to(
    out: Path | None,
    format_: str,
    diff: RubricDiff,
    analysis: ImpactAnalysis | None,
    outcomes: Iterable[DepartmentImpact | DepartmentFailure],
) -> ImpactSummary | None:
    summary: ImpactSummary | None = None
    with _Sink(out) as sink:
        if format_ == "json":
            for piece in _json(diff, analysis, outcomes):
                sink.write(piece)
            summary = analysis.summary() if analysis is not None else None
        else:
            changed: _Spool[DepartmentImpact] = _Spool()
            failures: _Spool[DepartmentFailure] = _Spool()
            try:
                for outcome in outcomes:
                    if isinstance(outcome, DepartmentFailure):
                        failures.add(outcome)
                    elif outcome.changed:
                        changed.add(outcome)
                summary = analysis.summary() if analysis is not None else None
                listed = (changed, failures) if summary is not None else (None, None)
                if format_ == "table":
                    _table(sink, diff, summary, *listed)
                elif format_ == "markdown":
                    for piece in _markdown(diff, summary, *listed):
                        sink.write(piece)
                else:
                    for piece in render_html(
                        diff,
                        summary,
                        changed,
                        failures,
                        changed_count=changed.count,
                        failed_count=failures.count,
                        generator=f"perfscore {__version__}",
                    ):
                        sink.write(piece)
            finally:
                changed.close()
                failures.close()
    return summary
