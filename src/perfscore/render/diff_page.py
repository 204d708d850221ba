"""Render a rubric comparison (:mod:`perfscore.diff`) as one self-contained HTML file, its
labels from the catalogue in the language in force.

The page needs nothing from the network: the style sheet is inline, the two charts (the
grade-migration matrix and the histogram of total change) are inline SVG drawn here, and
there is no script. It prints on A4: table headers repeat, charts and movers do not break
across pages, colours are kept.

Also holds the small text helpers every diff renderer shares (cells of a change, signed
numbers, explanation lines), so that table, markdown and HTML say the same thing.
Computes nothing, prints nothing: :func:`render_html` yields the page in pieces, so a
long list of departments is written as it is read.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from html import escape
from typing import Final

from perfscore._numbers import ZERO, to_str
from perfscore.authoring.diff import (
    Change,
    DepartmentFailure,
    DepartmentImpact,
    ImpactSummary,
    RubricDiff,
    RubricInfo,
    ScoreChange,
    value_text,
)
from perfscore.errors import Issue, Location
from perfscore.i18n import tr
from perfscore.results import Explanation

__all__ = [
    "change_cells",
    "explanation_lines",
    "failure_head",
    "failure_issue",
    "grade_text",
    "histogram_bins",
    "histogram_svg",
    "kind_text",
    "migration_svg",
    "mover_params",
    "render_html",
    "score_text",
    "short_where",
    "sides_text",
    "signed",
]

_COLOURS: Final = {"up": "#2e7d32", "down": "#c62828", "same": "#3f6fb0"}
_NEUTRAL: Final = "#7a7a7a"


# --------------------------------------------------------------------------- shared text


def signed(value: Decimal) -> str:
    """``+2.50``, ``-9.00``, ``0.00``."""
    text = to_str(value)
    return f"+{text}" if value > 0 else text


def score_text(value: Decimal | None) -> str:
    return "—" if value is None else to_str(value)


def short_where(location: Location | None, main_file: str | None) -> str:
    """``42:28`` in the rubric's own file; ``file:42:28`` in another (``extends``)."""
    if location is None or location.file is None:
        return "—"
    if location.line is None:
        return location.file
    place = f"{location.line}:{location.column}" if location.column else str(location.line)
    return place if location.file == main_file else f"{location.file}:{place}"


def kind_text(kind: str) -> str:
    """A change's kind as a reader says it (``scoring_changed`` → 评分标准变更); the JSON
    keeps the id."""
    return tr(f"diffpage.kind.{kind}")


def grade_text(old: str | None, new: str | None, movement: str | None) -> str:
    """``良好 → 合格 ▼降等``: old and new grade, a drop or a rise marked."""
    key = f"diffpage.grade.{movement}" if movement in ("up", "down") else "diffpage.grade.same"
    return tr(key, old=old or "—", new=new or "—")


def mover_params(mover: DepartmentImpact) -> dict[str, object]:
    """The parameters of a top mover's line (``diffpage.mover``) and heading
    (``diffpage.mover.heading``): id, row, old and new total, the change, the grades."""
    return {
        "id": mover.id,
        "row": mover.row,
        "old": to_str(mover.old_total),
        "new": to_str(mover.new_total),
        "change": signed(mover.change),
        "grades": grade_text(mover.old_grade, mover.new_grade, mover.movement),
    }


def sides_text(sides: Iterable[str]) -> str:
    """``旧版和新版``: the rubrics a department failed under."""
    names = [tr(f"diffpage.side.{side}") for side in sides]
    if len(names) == 2:
        return tr("diffpage.sides", first=names[0], second=names[1])
    return "".join(names)


def failure_head(failure: DepartmentFailure) -> str:
    """``d6（第7行，pop.csv:7）：旧版和新版未能评分``."""
    return tr(
        "diffpage.failed.line",
        id=failure.id,
        row=failure.row,
        source=failure.source,
        sides=sides_text(failure.failed_under),
    )


def failure_issue(side: str, issue: Issue) -> str:
    """One issue of a failed department, the rubric it came from first."""
    return tr(
        "diffpage.failed.issue",
        side=tr(f"diffpage.side.{side}"),
        where=str(issue.location),
        message=issue.message,
        code=issue.code,
    )


def change_cells(change: Change, diff: RubricDiff) -> tuple[str, str, str, str, str, str]:
    """kind, path, old, new, old place, new place: one row of a changes table."""
    return (
        change.kind,
        change.path,
        value_text(change.old),
        value_text(change.new),
        short_where(change.old_location, diff.old.file),
        short_where(change.new_location, diff.new.file),
    )


#: Steps whose points their text does not already say (a checklist item's, a floor's).
_SIGNED_STEPS: Final = frozenset({"item", "floor", "clamp"})


def explanation_lines(explanation: Explanation | None) -> list[str]:
    """The steps of an explanation, one line each, points in brackets."""
    if explanation is None:
        return []
    lines = []
    for step in explanation.steps:
        text = step.text
        if step.points is not None and step.kind in _SIGNED_STEPS:
            text += f" ({signed(step.points)})"
        lines.append(text)
    return lines


# --------------------------------------------------------------------------- page


_CSS: Final = """
:root { --ink: #1d1d1f; --muted: #5f6368; --line: #d9dce1; --up: #2e7d32;
  --down: #c62828; --same: #3f6fb0; --paper: #ffffff; --tint: #f4f6f9; }
* { box-sizing: border-box; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0 auto; max-width: 1100px; padding: 24px 28px 48px; color: var(--ink);
  background: var(--paper); line-height: 1.45; font-size: 14px;
  font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC",
    "Microsoft YaHei", "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 10px; padding-bottom: 4px;
  border-bottom: 2px solid var(--ink); break-after: avoid; }
h3 { font-size: 15px; margin: 0 0 6px; }
.sub { color: var(--muted); margin: 0 0 16px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left;
  vertical-align: top; }
th { background: var(--tint); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.loc, td.code { font-family: "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12px;
  white-space: nowrap; }
td.path { font-family: "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12px;
  overflow-wrap: anywhere; min-width: 14em; }
td.grade { white-space: nowrap; }
.up { color: var(--up); } .down { color: var(--down); } .same { color: var(--muted); }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 8px 0 4px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px;
  min-width: 120px; background: var(--tint); }
.card b { display: block; font-size: 20px; font-variant-numeric: tabular-nums; }
.card span { color: var(--muted); font-size: 12px; }
.charts { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
figure { margin: 0; break-inside: avoid; }
figcaption { font-weight: 600; margin-bottom: 6px; }
svg { max-width: 100%; height: auto; font-family: inherit; }
.mover { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px;
  margin: 0 0 12px; break-inside: avoid; }
.steps { margin: 0; padding-left: 1.1em; font-size: 12px; }
.steps li { margin: 0; }
.empty { color: var(--muted); font-style: italic; }
footer { margin-top: 36px; color: var(--muted); font-size: 12px; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  table { font-size: 9pt; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; }
  h2 { margin-top: 18px; }
  .charts { flex-wrap: nowrap; gap: 12px; }
  .charts figure { flex: 1 1 50%; min-width: 0; }
  .card { min-width: 0; padding: 4px 8px; }
  .card b { font-size: 14pt; }
}
"""


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _path(path: str) -> str:
    """A dotted path, escaped, that may break after each dot."""
    return ".<wbr>".join(_e(part) for part in path.split("."))


def _info_rows(label: str, info: RubricInfo) -> str:
    return (
        f"<tr><th>{_e(label)}</th><td>{_e(info.id)}</td><td>{_e(info.version)}</td>"
        f"<td>{_e(info.title)}</td><td class='loc'>{_e(info.file or '—')}</td>"
        f"<td class='loc'>{_e(info.hash[:19])}</td></tr>"
    )


def _col(name: str, css: str = "") -> str:
    """A table heading from the catalogue."""
    cls = f" class='{css}'" if css else ""
    return f"<th{cls}>{_e(tr(f'diffpage.col.{name}'))}</th>"


def _header(diff: RubricDiff, generator: str) -> str:
    title = f"{diff.old.id} {diff.old.version} → {diff.new.id} {diff.new.version}"
    heading = _e(tr("diffpage.title"))
    return (
        f"<!DOCTYPE html>\n<html lang='{_e(tr('diffpage.html_lang'))}'>\n<head>\n"
        "<meta charset='utf-8'>\n"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
        f"<meta name='generator' content='{_e(generator)}'>\n"
        f"<title>{heading} {_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<header>\n<h1>{heading}</h1>\n"
        f"<p class='sub'>{_e(title)}</p>\n"
        f"<table>\n<thead><tr><th></th>{_col('id')}{_col('version')}{_col('title')}"
        f"{_col('file')}{_col('hash')}</tr></thead>\n<tbody>\n"
        f"{_info_rows(tr('diffpage.side.old'), diff.old)}\n"
        f"{_info_rows(tr('diffpage.side.new'), diff.new)}\n"
        "</tbody>\n</table>\n</header>\n"
    )


def _changes(diff: RubricDiff) -> str:
    heading = _e(tr("diffpage.changes.heading", count=len(diff.changes)))
    parts = [f"<section id='changes'>\n<h2>{heading}</h2>\n"]
    if not diff.changes:
        empty = _e(tr("diffpage.changes.empty"))
        parts.append(f"<p class='empty'>{empty}</p>\n</section>\n")
        return "".join(parts)
    parts.append(
        f"<table>\n<thead><tr>{_col('kind')}{_col('path')}{_col('old')}{_col('new')}"
        f"{_col('old_at')}{_col('new_at')}</tr></thead>\n<tbody>\n"
    )
    for change in diff.changes:
        kind, path, old, new, old_at, new_at = change_cells(change, diff)
        parts.append(
            f"<tr><td title='{_e(kind)}'>{_e(kind_text(kind))}</td>"
            f"<td class='path'>{_path(path)}</td>"
            f"<td>{_e(old)}</td><td>{_e(new)}</td>"
            f"<td class='loc'>{_e(old_at)}</td><td class='loc'>{_e(new_at)}</td></tr>\n"
        )
    parts.append("</tbody>\n</table>\n</section>\n")
    return "".join(parts)


def _card(value: str, label: str, css: str = "") -> str:
    cls = f" class='{css}'" if css else ""
    return f"<div class='card'><b{cls}>{_e(value)}</b><span>{_e(label)}</span></div>"


def _movement_class(value: Decimal | None) -> str:
    if value is None or value == 0:
        return "same"
    return "up" if value > 0 else "down"


def _summary(summary: ImpactSummary) -> str:
    mean = summary.mean_change
    largest = summary.max_change
    cards = [
        _card(str(summary.scored), tr("diffpage.card.scored")),
        _card(str(summary.failed), tr("diffpage.card.failed"), "down" if summary.failed else ""),
        _card(str(summary.up), tr("diffpage.card.up"), "up" if summary.up else ""),
        _card(str(summary.down), tr("diffpage.card.down"), "down" if summary.down else ""),
        _card(str(summary.same), tr("diffpage.card.same")),
        _card(str(summary.increased), tr("diffpage.card.increased")),
        _card(str(summary.decreased), tr("diffpage.card.decreased")),
        _card(str(summary.unchanged), tr("diffpage.card.unchanged")),
        _card(
            "—" if mean is None else signed(mean), tr("diffpage.card.mean"), _movement_class(mean)
        ),
        _card(
            "—" if largest is None else signed(largest),
            tr("diffpage.card.largest"),
            _movement_class(largest),
        ),
    ]
    return (
        f"<section id='summary'>\n<h2>{_e(tr('diffpage.summary'))}</h2>\n<div class='cards'>"
        + "".join(cards)
        + "</div>\n<div class='charts'>\n"
        + f"<figure>\n<figcaption>{_e(tr('diffpage.migration.heading'))}</figcaption>\n"
        + migration_svg(summary)
        + f"\n</figure>\n<figure>\n<figcaption>{_e(tr('diffpage.distribution.heading'))}"
        + "</figcaption>\n"
        + histogram_svg(summary.distribution)
        + "\n</figure>\n</div>\n</section>\n"
    )


# --------------------------------------------------------------------------- charts


def _fmt(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def migration_svg(summary: ImpactSummary) -> str:
    """The migration matrix as a grid: one cell per (old grade, new grade), its count
    written in it, shaded by count and coloured by direction (up, down, same)."""
    rows, cols = summary.old_grades, summary.new_grades
    cell_w, cell_h = 76, 40
    left, top = 96, 64
    width = left + cell_w * len(cols) + 70
    height = top + cell_h * len(rows) + 40
    biggest = max((n for row in summary.migration.values() for n in row.values()), default=0)
    out = [
        f"<svg role='img' viewBox='0 0 {width} {height}' width='{width}' height='{height}'>",
        f"<title>{_e(tr('diffpage.svg.migration'))}</title>",
        f"<text x='{left + cell_w * len(cols) / 2:.0f}' y='16' text-anchor='middle' "
        f"font-size='13' font-weight='600'>{_e(tr('diffpage.svg.new_axis'))}</text>",
        f"<text x='{left - 10}' y='{top - 12}' text-anchor='end' "
        f"font-size='13' font-weight='600'>{_e(tr('diffpage.svg.old_axis'))}</text>",
    ]
    for j, name in enumerate(cols):
        x = left + cell_w * j + cell_w / 2
        out.append(
            f"<text x='{_fmt(x)}' y='{top - 12}' text-anchor='middle' "
            f"font-size='13'>{_e(name)}</text>"
        )
    out.append(
        f"<text x='{left + cell_w * len(cols) + 35}' y='{top - 12}' text-anchor='middle' "
        "font-size='12' fill='#5f6368'>Σ</text>"
    )
    col_sums = [0] * len(cols)
    for i, old in enumerate(rows):
        y = top + cell_h * i
        out.append(
            f"<text x='{left - 10}' y='{y + cell_h / 2 + 5:.0f}' text-anchor='end' "
            f"font-size='13'>{_e(old)}</text>"
        )
        row = summary.migration.get(old, {})
        row_sum = 0
        for j, new in enumerate(cols):
            count = row.get(new, 0)
            row_sum += count
            col_sums[j] += count
            x = left + cell_w * j
            movement = summary.movement(old, new)
            colour = _COLOURS[movement]
            opacity = 0.0 if count == 0 or biggest == 0 else 0.15 + 0.75 * count / biggest
            label = f"{old} → {new}: {count}"
            out.append(
                f"<g><title>{_e(label)}</title>"
                f"<rect x='{x + 1}' y='{y + 1}' width='{cell_w - 2}' height='{cell_h - 2}' "
                f"rx='3' fill='{colour}' fill-opacity='{opacity:.2f}' stroke='{colour}' "
                f"stroke-opacity='{0.9 if old == new else 0.25}' "
                f"stroke-width='{2 if old == new else 1}'/>"
                f"<text x='{x + cell_w / 2:.0f}' y='{y + cell_h / 2 + 5:.0f}' "
                f"text-anchor='middle' font-size='14' font-weight='600' "
                f"fill='{'#ffffff' if opacity > 0.55 else '#1d1d1f'}'>{count}</text></g>"
            )
        out.append(
            f"<text x='{left + cell_w * len(cols) + 35}' y='{y + cell_h / 2 + 5:.0f}' "
            f"text-anchor='middle' font-size='12' fill='#5f6368'>{row_sum}</text>"
        )
    y_sum = top + cell_h * len(rows) + 22
    for j, total in enumerate(col_sums):
        x = left + cell_w * j + cell_w / 2
        out.append(
            f"<text x='{_fmt(x)}' y='{y_sum}' text-anchor='middle' font-size='12' "
            f"fill='#5f6368'>{total}</text>"
        )
    out.append(
        f"<text x='{left - 10}' y='{y_sum}' text-anchor='end' font-size='12' "
        "fill='#5f6368'>Σ</text>"
    )
    out.append("</svg>")
    return "\n".join(out)


_NICE: Final = (Decimal(1), Decimal(2), Decimal(5))


def _bin_width(span: Decimal, bins: int = 20) -> Decimal:
    """The smallest of 1, 2, 5 × 10^k (k ≥ -2) at least ``span / bins``."""
    raw = span / bins
    exponent = -2
    while True:
        for nice in _NICE:
            width = nice.scaleb(exponent)
            if width >= raw:
                return width
        exponent += 1


def histogram_bins(
    distribution: Sequence[tuple[Decimal, int]],
) -> list[tuple[Decimal, Decimal, Decimal, int]]:
    """Bins of the distribution of total change: (centre, low, high, count), low end
    included, high end excluded. Bins are centred on multiples of a round width, so that
    a change of 0 sits in the middle of its own bin; empty bins between are kept."""
    if not distribution:
        return []
    lo, hi = distribution[0][0], distribution[-1][0]
    if lo == hi:
        return [(lo, lo, lo, sum(c for _, c in distribution))]
    width = _bin_width(hi - lo)
    half = width / 2

    def index(x: Decimal) -> int:
        return int(((x + half) / width).to_integral_value(rounding=decimal.ROUND_FLOOR))

    first, last = index(lo), index(hi)
    counts = [0] * (last - first + 1)
    for value, count in distribution:
        counts[index(value) - first] += count
    out = []
    for k, count in enumerate(counts, start=first):
        centre = width * k
        out.append((centre.normalize() if centre else ZERO, centre - half, centre + half, count))
    return out


def _nice_ticks(top: int) -> list[int]:
    """0 and round steps (1, 2, 5 × 10^k) up to at least ``top``, at most 6 ticks."""
    if top <= 0:
        return [0, 1]
    step = 1
    while True:
        for m in (1, 2, 5):
            size = m * step
            if top <= 5 * size:
                last = -(-top // size) * size
                return list(range(0, last + 1, size))
        step *= 10


def histogram_svg(distribution: Sequence[tuple[Decimal, int]]) -> str:
    """A histogram of total change: bars below zero red, above green, at zero grey."""
    bins = histogram_bins(distribution)
    width, height = 520, 260
    left, right, top, bottom = 60, 12, 14, 52
    plot_w, plot_h = width - left - right, height - top - bottom
    out = [
        f"<svg role='img' viewBox='0 0 {width} {height}' width='{width}' height='{height}'>",
        f"<title>{_e(tr('diffpage.svg.distribution'))}</title>",
    ]
    if not bins:
        out.append(
            f"<text x='{width / 2:.0f}' y='{height / 2:.0f}' text-anchor='middle' "
            f"font-size='13' fill='#5f6368'>{_e(tr('diffpage.svg.no_departments'))}</text></svg>"
        )
        return "\n".join(out)
    biggest = max(count for *_, count in bins)
    ticks = _nice_ticks(biggest)
    y_max = ticks[-1] or 1
    for t in ticks:
        y = top + plot_h - plot_h * t / y_max
        out.append(
            f"<line x1='{left}' x2='{left + plot_w}' y1='{y:.1f}' y2='{y:.1f}' "
            "stroke='#d9dce1' stroke-width='1'/>"
            f"<text x='{left - 6}' y='{y + 4:.1f}' text-anchor='end' font-size='11' "
            f"fill='#5f6368'>{t}</text>"
        )
    slot = plot_w / len(bins)
    bar = max(slot * 0.82, 1.0)
    label_every = max(1, round(len(bins) / 12 + 0.49))
    for k, (centre, low, high, count) in enumerate(bins):
        x = left + slot * k + (slot - bar) / 2
        h = plot_h * count / y_max
        colour = _NEUTRAL if centre == 0 else _COLOURS["down" if centre < 0 else "up"]
        span = f"= {to_str(centre)}" if low == high else f"[{to_str(low)}, {to_str(high)})"
        tip = tr("diffpage.svg.bin", span=span, count=count)
        out.append(
            f"<g><title>{_e(tip)}</title>"
            f"<rect x='{x:.1f}' y='{top + plot_h - h:.1f}' width='{bar:.1f}' "
            f"height='{h:.1f}' fill='{colour}'/></g>"
        )
        if count:
            out.append(
                f"<text x='{x + bar / 2:.1f}' y='{top + plot_h - h - 3:.1f}' "
                f"text-anchor='middle' font-size='10' fill='#1d1d1f'>{count}</text>"
            )
        if k % label_every == 0 or centre == 0:
            out.append(
                f"<text x='{x + bar / 2:.1f}' y='{top + plot_h + 15}' text-anchor='middle' "
                f"font-size='11' fill='#1d1d1f'>{_e(signed(centre))}</text>"
            )
    out.append(
        f"<line x1='{left}' x2='{left + plot_w}' y1='{top + plot_h}' y2='{top + plot_h}' "
        "stroke='#1d1d1f' stroke-width='1'/>"
        f"<text x='{left + plot_w / 2:.0f}' y='{height - 10}' text-anchor='middle' "
        f"font-size='12' fill='#5f6368'>{_e(tr('diffpage.svg.x_axis'))}</text>"
        f"<text x='12' y='{top + plot_h / 2:.0f}' text-anchor='middle' font-size='12' "
        f"fill='#5f6368' transform='rotate(-90 12 {top + plot_h / 2:.0f})'>"
        f"{_e(tr('diffpage.svg.y_axis'))}</text>"
    )
    out.append("</svg>")
    return "\n".join(out)


# --------------------------------------------------------------------------- departments


def _grade_cell(old: str | None, new: str | None, movement: str | None) -> str:
    css = movement or "same"
    return f"<td class='grade {css}'>{_e(grade_text(old, new, movement))}</td>"


def _steps(explanation: Explanation | None) -> str:
    lines = explanation_lines(explanation)
    if not lines:
        return "<span class='empty'>—</span>"
    return "<ul class='steps'>" + "".join(f"<li>{_e(line)}</li>" for line in lines) + "</ul>"


def _score_row(change: ScoreChange) -> str:
    delta = change.change
    return (
        f"<tr><td><span class='code'>{_e(change.id)}</span> {_e(change.name)}</td>"
        f"<td class='num'>{_e(score_text(change.old_score))}</td>"
        f"<td class='num'>{_e(score_text(change.new_score))}</td>"
        f"<td class='num {_movement_class(delta)}'>{_e(signed(delta))}</td>"
        f"<td>{_steps(change.old_explanation)}</td><td>{_steps(change.new_explanation)}</td></tr>\n"
    )


def _movers(movers: Sequence[DepartmentImpact]) -> str:
    heading = _e(tr("diffpage.movers.heading", count=len(movers)))
    parts = [f"<section id='movers'>\n<h2>{heading}</h2>\n"]
    if not movers:
        parts.append(f"<p class='empty'>{_e(tr('diffpage.no_change'))}</p>\n")
    for m in movers:
        title = tr("diffpage.mover.heading", **mover_params(m))
        parts.append(
            "<div class='mover'>\n"
            f"<h3 class='{m.movement}'>{_e(title)}</h3>\n"
            f"<table>\n<thead><tr>{_col('indicator')}{_col('old', 'num')}{_col('new', 'num')}"
            f"{_col('change', 'num')}{_col('old_explanation')}{_col('new_explanation')}"
            "</tr></thead>\n<tbody>\n"
        )
        parts.extend(_score_row(c) for c in m.changed_indicators)
        parts.append("</tbody>\n</table>\n</div>\n")
    parts.append("</section>\n")
    return "".join(parts)


def _department_row(d: DepartmentImpact) -> str:
    ids = ", ".join(c.id for c in d.changed_indicators) or "—"
    return (
        f"<tr><td>{_e(d.id)}</td><td class='num'>{d.row}</td>"
        f"<td class='num'>{_e(to_str(d.old_total))}</td>"
        f"<td class='num'>{_e(to_str(d.new_total))}</td>"
        f"<td class='num {_movement_class(d.change)}'>{_e(signed(d.change))}</td>"
        f"{_grade_cell(d.old_grade, d.new_grade, d.movement)}"
        f"<td class='path'>{_e(ids)}</td></tr>\n"
    )


def _failure_row(f: DepartmentFailure) -> str:
    issues = "".join(f"<li>{_e(failure_issue(side, issue))}</li>" for side, issue in f.issues)
    return (
        f"<tr><td>{_e(f.id)}</td><td class='num'>{f.row}</td>"
        f"<td class='loc'>{_e(f.source)}</td><td>{_e(sides_text(f.failed_under))}</td>"
        f"<td><ul class='steps'>{issues}</ul></td></tr>\n"
    )


def render_html(
    diff: RubricDiff,
    summary: ImpactSummary | None = None,
    departments: Iterable[DepartmentImpact] = (),
    failures: Iterable[DepartmentFailure] = (),
    *,
    changed_count: int | None = None,
    failed_count: int | None = None,
    generator: str = "perfscore",
) -> Iterator[str]:
    """The page, in pieces: header, (with a population) summary and charts, structural
    changes, (with a population) top movers, the ``departments`` given (those that
    changed) and the ``failures``. The counts, when known, head their sections."""
    yield _header(diff, generator)
    if summary is not None:
        yield _summary(summary)
    yield _changes(diff)
    if summary is not None:
        yield _movers(summary.top_movers)
        heading = (
            tr("diffpage.changed.heading_open")
            if changed_count is None
            else tr("diffpage.changed.heading", count=changed_count)
        )
        yield (
            f"<section id='departments'>\n<h2>{_e(heading)}</h2>\n"
            f"<table>\n<thead><tr>{_col('id')}{_col('row', 'num')}"
            f"{_col('old_total', 'num')}{_col('new_total', 'num')}"
            f"{_col('change', 'num')}{_col('grade')}{_col('changed_indicators')}"
            "</tr></thead>\n<tbody>\n"
        )
        for department in departments:
            yield _department_row(department)
        yield "</tbody>\n</table>\n</section>\n"
        heading = (
            tr("diffpage.failed.heading_open")
            if failed_count is None
            else tr("diffpage.failed.heading", count=failed_count)
        )
        yield (
            f"<section id='failed'>\n<h2>{_e(heading)}</h2>\n"
            f"<table>\n<thead><tr>{_col('id')}{_col('row', 'num')}{_col('source')}"
            f"{_col('failed_under')}{_col('issues')}</tr></thead>\n<tbody>\n"
        )
        for failure in failures:
            yield _failure_row(failure)
        yield "</tbody>\n</table>\n</section>\n"
    yield f"<footer>{_e(generator)}</footer>\n</body>\n</html>\n"
