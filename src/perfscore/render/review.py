"""Reports of a review (复核): one department's findings, or a population's.

Formats: ``table`` (fixed-width text), ``json``, ``markdown``, ``html`` (one
self-contained page) and ``xlsx``. A population report starts with a summary (findings
counted by kind; departments by the size of their discrepancy; those that could not be
reviewed), then gives each department its own section (HTML, markdown, text) or sheet
(XLSX) with its flagged rows, so that a 绩效科 can send each department its part.

Every label comes from the catalogue (:mod:`perfscore.i18n`); nothing here computes.
"""

from __future__ import annotations

import html
import io
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, Literal

from perfscore._numbers import to_str
from perfscore.i18n import current_lang, tr
from perfscore.population.batch import PopulationReview
from perfscore.review import FINDING_KINDS, GRADE, TOTAL, Finding, ReviewResult

__all__ = ["REVIEW_FORMATS", "ReviewFormat", "render_population_review", "render_review"]

ReviewFormat = Literal["table", "json", "markdown", "html", "xlsx"]
REVIEW_FORMATS: Final[tuple[ReviewFormat, ...]] = ("table", "json", "markdown", "html", "xlsx")
#: Issues of a department that could not be reviewed shown in a summary; the rest counted.
_LISTED_ISSUES: Final = 3
_COLUMNS: Final = ("indicator", "name", "kind", "claimed", "computed", "difference", "explanation")


@dataclass(frozen=True)
class _Section:
    """One department's part of a report, as labels and cells (all text)."""

    title: str
    meta: tuple[tuple[str, str], ...]
    rows: tuple[tuple[str, ...], ...]
    overrides: tuple[tuple[str, ...], ...]
    warnings: tuple[str, ...]


def _num(value: Decimal | str | None) -> str:
    if value is None:
        return ""
    return to_str(value) if isinstance(value, Decimal) else value


def kind_label(kind: str) -> str:
    """The name of a finding kind in the language in force."""
    return tr(f"review.kind.{kind}")


def _indicator_name(finding: Finding) -> str:
    if finding.indicator == TOTAL:
        return tr("review.total")
    if finding.indicator == GRADE:
        return tr("review.grade")
    return finding.name or ""


def _section(review: ReviewResult, department: str | None) -> _Section:
    unit = dict(review.unit or {})
    name = unit.get("name") or department or ""
    meta: list[tuple[str, str]] = [(tr("review.unit"), name)]
    for key in ("code", "year", "filled_by", "filled_on"):
        if key in unit:
            meta.append((tr(f"review.unit.{key}"), unit[key]))
    meta += [
        (tr("review.claimed_total"), _num(review.claimed_total)),
        (tr("review.computed_total"), to_str(review.computed_total)),
        (tr("review.claimed_grade"), review.claimed_grade or ""),
        (tr("review.computed_grade"), review.computed_grade),
        (tr("review.discrepancy"), to_str(review.discrepancy)),
        (tr("review.finding_count"), str(len(review.findings))),
    ]
    rows = tuple(
        (
            f.indicator,
            _indicator_name(f),
            kind_label(f.kind),
            _num(f.claimed),
            _num(f.computed),
            _num(f.difference),
            f.explanation,
        )
        for f in review.findings
    )
    overrides = tuple(
        (
            node.id,
            node.name,
            "" if node.override.computed is None else to_str(node.override.computed),
            to_str(node.override.score),
            node.override.reason,
            "、".join(x for x in (node.override.by, node.override.date) if x),
        )
        for node in review.result.indicators
        if node.override is not None
    )
    return _Section(
        title=name or tr("review.title"),
        meta=tuple(meta),
        rows=rows,
        overrides=overrides,
        warnings=tuple(w.message for w in review.result.warnings),
    )


def _headers() -> tuple[str, ...]:
    return tuple(tr(f"review.col.{c}") for c in _COLUMNS)


def _override_headers() -> tuple[str, ...]:
    return tuple(
        tr(f"review.override.{c}")
        for c in ("indicator", "name", "computed", "score", "reason", "by")
    )


# --------------------------------------------------------------------------- text


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max([_width(h)] + [_width(r[i]) for r in rows]) for i, h in enumerate(headers)]
    line = "  ".join(_pad(h, w) for h, w in zip(headers, widths, strict=True)).rstrip()
    out = [line, "  ".join("-" * w for w in widths)]
    out += [
        "  ".join(_pad(c, w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    return out


def _section_text(section: _Section) -> list[str]:
    out = [section.title, "=" * max(4, _width(section.title))]
    label_width = max(_width(label) for label, _ in section.meta)
    out += [f"{_pad(label, label_width)}  {value}" for label, value in section.meta]
    out.append("")
    if section.rows:
        out += _text_table(_headers(), section.rows)
    else:
        out.append(tr("review.no_findings"))
    if section.overrides:
        out += ["", tr("review.overrides")]
        out += _text_table(_override_headers(), section.overrides)
    for warning in section.warnings:
        out.append(f"{tr('review.warning')}: {warning}")
    return out


def _summary_rows(population: PopulationReview) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for record in population.reviewed:
        review = record.review
        name = (review.unit or {}).get("name") or record.id
        rows.append(
            (
                record.id,
                name,
                _num(review.claimed_total),
                to_str(review.computed_total),
                review.claimed_grade or "",
                review.computed_grade,
                to_str(review.discrepancy),
                str(len(review.findings)),
            )
        )
    return rows


def _summary_headers() -> tuple[str, ...]:
    return tuple(
        tr(f"review.summary.{c}")
        for c in (
            "id",
            "unit",
            "claimed_total",
            "computed_total",
            "claimed_grade",
            "computed_grade",
            "discrepancy",
            "findings",
        )
    )


def _count_rows(population: PopulationReview) -> list[tuple[str, str]]:
    return [(kind_label(k), str(population.counts.get(k, 0))) for k in FINDING_KINDS]


def _failed_rows(population: PopulationReview) -> list[tuple[str, str, str]]:
    rows = []
    for f in population.failed:
        parts = [f"{i.message} [{i.code}]" for i in f.issues[:_LISTED_ISSUES]]
        if len(f.issues) > _LISTED_ISSUES:
            parts.append(tr("review.more_issues", count=len(f.issues) - _LISTED_ISSUES))
        rows.append((f.id, f.source, "；".join(parts)))
    return rows


def _population_text(population: PopulationReview) -> str:
    out = [tr("review.summary"), "=" * 8]
    out += _text_table((tr("review.col.kind"), tr("review.count")), _count_rows(population))
    out.append("")
    out += _text_table(_summary_headers(), _summary_rows(population))
    if population.failed:
        out += ["", tr("review.failed")]
        out += _text_table(
            (tr("review.summary.id"), tr("review.source"), tr("review.reason")),
            _failed_rows(population),
        )
    for record in population.reviewed:
        out += ["", *_section_text(_section(record.review, record.id))]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- markdown


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(_md(h) for h in headers) + " |"]
    out.append("|" + "---|" * len(headers))
    out += ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows]
    return out


def _section_md(section: _Section, level: int) -> list[str]:
    out = [f"{'#' * level} {_md(section.title)}", ""]
    out += [f"- {_md(label)}：{_md(value)}" for label, value in section.meta]
    out.append("")
    if section.rows:
        out += _md_table(_headers(), section.rows)
    else:
        out.append(tr("review.no_findings"))
    if section.overrides:
        out += ["", f"**{tr('review.overrides')}**", ""]
        out += _md_table(_override_headers(), section.overrides)
    if section.warnings:
        out.append("")
        out += [f"> {tr('review.warning')}: {_md(w)}" for w in section.warnings]
    return out


def _population_md(population: PopulationReview) -> str:
    out = [f"# {tr('review.title')}", "", f"## {tr('review.summary')}", ""]
    out += _md_table((tr("review.col.kind"), tr("review.count")), _count_rows(population))
    out.append("")
    out += _md_table(_summary_headers(), _summary_rows(population))
    if population.failed:
        out += ["", f"**{tr('review.failed')}**", ""]
        out += _md_table(
            (tr("review.summary.id"), tr("review.source"), tr("review.reason")),
            _failed_rows(population),
        )
    for record in population.reviewed:
        out += ["", *_section_md(_section(record.review, record.id), 2)]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- html

_STYLE: Final = (
    "body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}"
    "th,td{border:1px solid #999;padding:.3em .6em;vertical-align:top;text-align:left}"
    "th{background:#eef}td.n{text-align:right}section{page-break-before:always}"
    "dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dt{font-weight:bold}"
    ".warn{color:#a60}"
)
_NUMERIC: Final = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


def _h(text: str) -> str:
    return html.escape(text, quote=True)


def _html_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{_h(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{_h(c)}</td>' if _NUMERIC.match(c) else f"<td>{_h(c)}</td>" for c in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _section_html(section: _Section, anchor: str | None = None) -> str:
    ident = f' id="{_h(anchor)}"' if anchor else ""
    parts = [f"<section{ident}><h2>{_h(section.title)}</h2><dl>"]
    parts += [f"<dt>{_h(label)}</dt><dd>{_h(value)}</dd>" for label, value in section.meta]
    parts.append("</dl>")
    if section.rows:
        parts.append(_html_table(_headers(), section.rows))
    else:
        parts.append(f"<p>{_h(tr('review.no_findings'))}</p>")
    if section.overrides:
        parts.append(f"<h3>{_h(tr('review.overrides'))}</h3>")
        parts.append(_html_table(_override_headers(), section.overrides))
    parts += [f'<p class="warn">{_h(tr("review.warning"))}: {_h(w)}</p>' for w in section.warnings]
    parts.append("</section>")
    return "".join(parts)


def _page(title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="{"zh-CN" if current_lang() == "zh" else "en"}">'
        '<head><meta charset="utf-8">'
        f"<title>{_h(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{_h(title)}</h1>{body}</body></html>\n"
    )


def _population_html(population: PopulationReview) -> str:
    parts = [f"<h2>{_h(tr('review.summary'))}</h2>"]
    parts.append(_html_table((tr("review.col.kind"), tr("review.count")), _count_rows(population)))
    parts.append(_html_table(_summary_headers(), _summary_rows(population)))
    if population.failed:
        parts.append(f"<h3>{_h(tr('review.failed'))}</h3>")
        parts.append(
            _html_table(
                (tr("review.summary.id"), tr("review.source"), tr("review.reason")),
                _failed_rows(population),
            )
        )
    for k, record in enumerate(population.reviewed, start=1):
        parts.append(_section_html(_section(record.review, record.id), f"d{k}"))
    return _page(tr("review.title"), "".join(parts))


# --------------------------------------------------------------------------- xlsx

#: Characters a sheet name cannot hold, and its longest length.
_SHEET_BAD: Final = re.compile(r"[\[\]:*?/\\]")
_SHEET_MAX: Final = 31
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _cell(text: str) -> Any:
    if _NUMERIC.match(text):
        return float(text) if "." in text else int(text)
    clean = _CONTROL.sub("", text)
    return "'" + clean if clean[:1] in "=+-@" and clean else clean


def _sheet_name(text: str, taken: set[str]) -> str:
    base = _SHEET_BAD.sub("_", text).strip("'") or "sheet"
    name = base[:_SHEET_MAX]
    n = 2
    while name.casefold() in taken:
        suffix = f"-{n}"
        name = base[: _SHEET_MAX - len(suffix)] + suffix
        n += 1
    taken.add(name.casefold())
    return name


def _write_rows(sheet: Any, rows: Sequence[Sequence[str]], *, bold: int | None = None) -> None:
    from openpyxl.styles import Font

    for row in rows:
        sheet.append([_cell(c) for c in row])
        if bold is not None and sheet.max_row == bold:
            for cell in sheet[sheet.max_row]:
                cell.font = Font(bold=True)


def _section_sheet(sheet: Any, section: _Section) -> None:
    from openpyxl.styles import Alignment, Font

    sheet.append([section.title])
    sheet["A1"].font = Font(bold=True, size=14)
    for label, value in section.meta:
        sheet.append([label, _cell(value)])
    sheet.append([])
    header_row = sheet.max_row + 1
    sheet.append(list(_headers()))
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    if section.rows:
        for row in section.rows:
            sheet.append([_cell(c) for c in row])
    else:
        sheet.append([tr("review.no_findings")])
    if section.overrides:
        sheet.append([])
        sheet.append([tr("review.overrides")])
        sheet.append(list(_override_headers()))
        for row in section.overrides:
            sheet.append([_cell(c) for c in row])
    for warning in section.warnings:
        sheet.append([f"{tr('review.warning')}: {warning}"])
    for column, width in zip("ABCDEFG", (16, 24, 16, 10, 10, 10, 60), strict=True):
        sheet.column_dimensions[column].width = width
    for row in sheet.iter_rows(min_row=header_row + 1):
        if len(row) >= 7:
            row[6].alignment = Alignment(wrap_text=True, vertical="top")


def _xlsx(sections: Sequence[_Section], population: PopulationReview | None) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    taken: set[str] = set()
    first = book.active
    assert first is not None
    if population is not None:
        first.title = _sheet_name(tr("review.summary"), taken)
        _write_rows(first, [(tr("review.title"),)])
        first.append([])
        _write_rows(first, [(tr("review.col.kind"), tr("review.count"))], bold=3)
        _write_rows(first, _count_rows(population))
        first.append([])
        start = first.max_row + 1
        _write_rows(first, [_summary_headers()], bold=start)
        _write_rows(first, _summary_rows(population))
        if population.failed:
            first.append([])
            first.append([tr("review.failed")])
            _write_rows(
                first, [(tr("review.summary.id"), tr("review.source"), tr("review.reason"))]
            )
            _write_rows(first, _failed_rows(population))
        for column, width in zip("ABCDEFGH", (16, 28, 12, 12, 12, 12, 12, 10), strict=True):
            first.column_dimensions[column].width = width
        for section in sections:
            _section_sheet(book.create_sheet(_sheet_name(section.title, taken)), section)
    else:
        first.title = _sheet_name(sections[0].title, taken)
        _section_sheet(first, sections[0])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------- entry points


def render_review(
    review: ReviewResult, format: ReviewFormat, *, department: str | None = None
) -> str | bytes:
    """One department's review in ``format``: bytes for ``xlsx``, text otherwise.
    ``department`` names it when its inputs have no ``unit.name``."""
    if format == "json":
        return json.dumps(review.to_dict(), ensure_ascii=False, indent=2) + "\n"
    section = _section(review, department)
    if format == "table":
        return "\n".join(_section_text(section)) + "\n"
    if format == "markdown":
        return "\n".join([f"# {tr('review.title')}", "", *_section_md(section, 2)]) + "\n"
    if format == "html":
        return _page(tr("review.title"), _section_html(section))
    if format == "xlsx":
        return _xlsx([section], None)
    raise ValueError(f"unknown review format {format!r}: use one of {', '.join(REVIEW_FORMATS)}")


def render_population_review(population: PopulationReview, format: ReviewFormat) -> str | bytes:
    """A population's review in ``format``: a summary, then each department's part."""
    if format == "json":
        return json.dumps(population.to_dict(), ensure_ascii=False, indent=2) + "\n"
    if format == "table":
        return _population_text(population)
    if format == "markdown":
        return _population_md(population)
    if format == "html":
        return _population_html(population)
    if format == "xlsx":
        sections = [_section(r.review, r.id) for r in population.reviewed]
        return _xlsx(sections, population)
    raise ValueError(f"unknown review format {format!r}: use one of {', '.join(REVIEW_FORMATS)}")


def counts_text(counts: Mapping[str, int]) -> str:
    """``over_claimed 3, missing_claim 1``: the kinds found, for a one-line summary."""
    return ", ".join(f"{kind} {n}" for kind, n in counts.items() if n)
