"""Render results and issues as text, JSON and markdown. Computes nothing, prints nothing.

Every function here takes data the library already produced (a :class:`ScoreResult`, a
:class:`Rubric`, a sequence of :class:`Issue`) and returns a string or a rich renderable;
deciding what to score and where to write it is the caller's job (see :mod:`perfscore.cli`).

The score formats are registered by name in :data:`FORMATS`: ``table`` (a rich renderable,
shown by :func:`score_table`), ``json`` (:func:`render_json`) and ``markdown``
(:func:`render_markdown`).
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Final

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from perfscore._escape import markdown_text, visible
from perfscore._numbers import to_str
from perfscore.errors import Issue
from perfscore.i18n import tr
from perfscore.model import Indicator, Rubric
from perfscore.results import IndicatorResult, ScoreResult, Status

__all__ = [
    "FORMATS",
    "STATUS_TEXT",
    "columns",
    "problem_count",
    "render_explanation",
    "render_issues",
    "render_json",
    "render_markdown",
    "render_plain",
    "render_rubric_summary",
    "render_table",
    "score_table",
    "wrap",
]

#: The names ``perfscore score --format`` accepts, in the order the help lists them.
FORMATS: Final = ("table", "json", "markdown")


class _StatusText(Mapping[Status, str]):
    """How a status reads in tables and explanations, in the language in force (the JSON
    keeps ``Status.value``)."""

    def __getitem__(self, status: Status) -> str:
        return tr(f"status.{status.value}")

    def __iter__(self) -> Iterator[Status]:
        return iter(Status)

    def __len__(self) -> int:
        return len(Status)


#: How a status reads in tables and explanations (the JSON keeps ``Status.value``).
STATUS_TEXT: Final[Mapping[Status, str]] = _StatusText()


def status_text(node: IndicatorResult) -> str:
    """How a node's status reads: 已评分, 不适用, or a reviewer's override with the score
    that was computed."""
    override = node.override
    if override is None:
        return STATUS_TEXT[node.status]
    computed = "—" if override.computed is None else to_str(override.computed)
    return tr("override.status", computed=computed)


#: Width of plain-text output (files, pipes, tests), so that it is the same everywhere.
PLAIN_WIDTH: Final = 120

_LEVELS: Final = "一二三四五六七八九十"
#: Steps whose points are not already said by their text (a checklist item's, a floor's).
_SIGNED_STEPS: Final = frozenset({"item", "floor", "clamp"})
_INDENT: Final = "  "


# --------------------------------------------------------------------------- issues


def problem_count(count: int) -> str:
    """``发现1个问题`` / ``1 problem found`` / ``3 problems found``."""
    return tr("render.problem_found" if count == 1 else "render.problems_found", count=count)


def render_issues(issues: Sequence[Issue]) -> str:
    """Every issue as ``file:line:col: path: message [code]`` (caret and hint below it),
    then a count line."""
    return visible("\n".join([*(str(issue) for issue in issues), problem_count(len(issues))]))


# --------------------------------------------------------------------------- rubric


def _walk(indicators: Sequence[Indicator]) -> Iterator[Indicator]:
    for node in indicators:
        yield node
        yield from _walk(node.children or ())


def render_rubric_summary(rubric: Rubric) -> str:
    """One line: ``ok: <id> (version <v>): <n> indicators, <m> leaves, total <t>``."""
    nodes = list(_walk(rubric.indicators))
    leaves = sum(1 for n in nodes if not n.children)
    return visible(
        tr(
            "render.rubric_ok",
            id=rubric.id,
            version=rubric.version,
            indicators=len(nodes),
            leaves=leaves,
            total=to_str(rubric.total),
        )
    )


# --------------------------------------------------------------------------- score result


def _effective(node: IndicatorResult) -> Decimal:
    """The effective weight, written as the declared one when they are equal (the engine
    may hand back an equal value with 30 more zeros)."""
    return node.weight if node.effective_weight == node.weight else node.effective_weight


def _weight_text(node: IndicatorResult) -> str:
    if node.effective_weight == node.weight:
        return to_str(node.weight)
    return f"{to_str(node.weight)} → {to_str(node.effective_weight)}"


def _footer(result: ScoreResult) -> list[str]:
    grade = result.grade
    if result.grade_before_caps is not None:
        grade += tr("render.capped_from", grade=result.grade_before_caps)
    lines = [
        tr("render.total", total=to_str(result.total), max=to_str(result.max_total)),
        tr("render.grade", grade=grade),
    ]
    lines.extend(
        tr("render.warning", message=w.message_in(None), code=w.code) for w in result.warnings
    )
    return lines


def score_table(result: ScoreResult) -> RenderableType:
    """The indicator tree as a rich table (names indented by depth), then total and grade.
    The status column is left out when every indicator is scored (已评分).

    Every cell is a :class:`~rich.text.Text`, so brackets in names are never read as markup.
    """
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column(tr("render.indicator"), no_wrap=True)
    table.add_column("id", no_wrap=True)
    table.add_column(tr("render.weight"), justify="right", no_wrap=True)
    table.add_column(tr("render.score"), justify="right", no_wrap=True)
    statuses = _show_status(result)
    if statuses:
        table.add_column(tr("render.status"), no_wrap=True)
    for node in result.indicators:
        style = "" if node.is_leaf else "bold"
        cells = [
            Text(_INDENT * node.depth + visible(node.name, lines=False), style=style),
            Text(node.id),
            Text(_weight_text(node)),
            Text(to_str(node.score), style=style),
        ]
        if statuses:
            cells.append(Text(status_text(node)))
        table.add_row(*cells)
    return Group(table, Text(""), *(Text(visible(line)) for line in _footer(result)))


def _show_status(result: ScoreResult) -> bool:
    """Whether a table needs its status column: some indicator is not scored."""
    return any(
        node.status is not Status.SCORED or node.override is not None for node in result.indicators
    )


def render_plain(renderable: RenderableType, width: int = PLAIN_WIDTH) -> str:
    """A rich renderable as plain text: fixed width, no colour, no trailing spaces."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        color_system=None,
        force_terminal=False,
        force_jupyter=False,
        force_interactive=False,
        highlight=False,
        emoji=False,
        markup=False,
        legacy_windows=False,
    )
    console.print(renderable)
    return "\n".join(line.rstrip() for line in buffer.getvalue().rstrip("\n").split("\n"))


def render_table(result: ScoreResult, width: int = PLAIN_WIDTH) -> str:
    """:func:`score_table` as plain text."""
    return render_plain(score_table(result), width)


def render_json(result: ScoreResult) -> str:
    """One JSON object (:meth:`ScoreResult.to_dict`): decimals as strings, Chinese kept."""
    return json.dumps(result.to_dict(), ensure_ascii=False, indent=2)


def _md_cell(text: str) -> str:
    return markdown_text(text)


def _level_name(depth: int) -> str:
    """``一级指标``, ``二级指标``… (``level 1``… in English)."""
    number = _LEVELS[depth] if depth < len(_LEVELS) and tr("lang.name") == "中文" else depth + 1
    return tr("render.level", n=number)


def render_markdown(result: ScoreResult) -> str:
    """A GitHub table with one column per level (一级指标, 二级指标, ...), then total and grade."""
    levels = max((n.depth for n in result.indicators), default=0) + 1
    header = [_level_name(d) for d in range(levels)]
    statuses = _show_status(result)
    header += ["id", tr("render.weight"), tr("render.score")]
    header += [tr("render.status")] if statuses else []
    align = [":--"] * levels + [":--", "--:", "--:"] + ([":--"] if statuses else [])
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    for node in result.indicators:
        name = _md_cell(node.name)
        cells = ["" for _ in range(levels)]
        cells[node.depth] = name if node.is_leaf else f"**{name}**"
        cells += [f"`{node.id}`", _md_cell(_weight_text(node)), to_str(node.score)]
        cells += [_md_cell(status_text(node))] if statuses else []
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.extend(f"- {markdown_text(line)}" for line in _footer(result))
    return "\n".join(lines)


# --------------------------------------------------------------------------- explanations

#: What is never split across lines: a quoted name, a run of ASCII without spaces (a
#: number with its sign, decimals and percent, an id, a flag, a file name), else one
#: character (a Chinese character, a full-width mark).
_UNBREAKABLE: Final = re.compile(r"'[^']*'|[!-~]+|\S")


def columns(text: str) -> int:
    """How many terminal columns ``text`` takes: two for a wide (Chinese) character."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


_columns = columns


#: Marks that never begin a line (they stay with the character before them) and marks that
#: never end one (they go down with the character after them).
_NO_START: Final = frozenset("，。、；：！？）》」』】〕”’%,.;:!?)]}")
_NO_END: Final = frozenset("（《「『【〔“‘([{")


def wrap(line: str, width: int, *, hanging: int = 2) -> list[str]:
    """``line`` cut into lines of at most ``width`` columns, each continuation indented
    like the line plus ``hanging`` spaces; a number (``95.10%``), an id, a flag, a file
    name or a quoted name is never split (a token wider than the width has a line of its
    own), a closing mark (``，``, ``）``) never begins a line and an opening one (``（``)
    never ends one."""
    if width <= 0 or _columns(line) <= width:
        return [line]
    body = line.lstrip(" ")
    lead = " " * (len(line) - len(body))
    indent = " " * (len(lead) + hanging)
    lines: list[str] = []
    parts: list[str] = []  # the tokens of the line being filled, after its indent
    start = lead
    used = _columns(start)
    for match in re.finditer(r"\s+|" + _UNBREAKABLE.pattern, body):
        token = match.group()
        size = _columns(token)
        content = [t for t in parts if not t.isspace()]
        if used + size > width and content:
            carried: list[str] = []
            if token in _NO_START and len(content) > 1 and not parts[-1].isspace():
                carried.append(parts.pop())
            while len(parts) > 1 and parts[-1] in _NO_END:
                carried.insert(0, parts.pop())
            lines.append((start + "".join(parts)).rstrip())
            start, parts = indent, carried
            used = _columns(indent) + sum(_columns(t) for t in carried)
            if token.isspace():
                continue
        parts.append(token)
        used += size
    if any(not t.isspace() for t in parts):
        lines.append((start + "".join(parts)).rstrip())
    return lines


def _value_text(value: Decimal | bool | str | None) -> str:
    if value is None:
        return tr("render.no_value")
    if isinstance(value, bool):
        return tr("render.true") if value else tr("render.false")
    if isinstance(value, Decimal):
        return to_str(value)
    return value


def _describe(name: str, rubric: Rubric | None) -> tuple[str, str]:
    """(unit, label) of an input or derived value, from the rubric when there is one."""
    if rubric is None:
        return "", ""
    spec = rubric.inputs.get(name)
    if spec is not None:
        return spec.display_unit or "", spec.label
    derived = rubric.derived.get(name)
    if derived is not None:
        return ("%" if derived.as_percent else ""), derived.label
    return "", ""


def _points_text(points: Decimal) -> str:
    return to_str(points) if points < 0 else f"+{to_str(points)}"


def _explain_node(node: IndicatorResult, result: ScoreResult, rubric: Rubric | None) -> list[str]:
    lines = [
        f"{node.name} ({node.id})",
        _INDENT
        + tr("render.score_line", score=to_str(node.score), weight=to_str(_effective(node))),
        f"{_INDENT}{tr('render.status_line', status=status_text(node))}",
    ]
    if node.effective_weight != node.weight:
        lines.append(f"{_INDENT}{tr('render.weight_line', weight=_weight_text(node))}")
    if node.standard:
        lines.append(f"{_INDENT}{tr('render.standard_line', standard=node.standard)}")
    if node.children:
        lines.append(f"{_INDENT}{tr('render.children')}")
        for child_id in node.children:
            child = result[child_id]
            lines.append(
                f"{_INDENT * 2}{child.name} ({child.id}): {to_str(child.score)} / "
                f"{to_str(_effective(child))}  {STATUS_TEXT[child.status]}"
            )
    explanation = node.explanation
    if explanation is None:
        return lines
    if explanation.values:
        lines.append(f"{_INDENT}{tr('render.values')}")
        for name, value in explanation.values.items():
            unit, label = _describe(name, rubric)
            text = _value_text(value)
            if unit and value is not None:
                text += unit
            if label:
                text += tr("render.label", label=label)
            lines.append(f"{_INDENT * 2}{name} = {text}")
    if explanation.steps:
        lines.append(f"{_INDENT}{tr('render.steps')}")
        for step in explanation.steps:
            text = f"{_INDENT * 2}{step.text}"
            if step.points is not None and step.kind in _SIGNED_STEPS:
                text += tr("render.points", points=_points_text(step.points))
            lines.append(text)
    return lines


def render_explanation(
    result: ScoreResult,
    indicator: str | None = None,
    *,
    rubric: Rubric | None = None,
    width: int | None = None,
) -> str:
    """Why each leaf scored what it did (or only ``indicator``, leaf or branch).

    With the ``rubric`` that produced ``result``, values are shown with their unit and label.
    With ``width``, lines are wrapped to that many columns (see :func:`wrap`).
    Without ``indicator`` the total and grade follow the leaves. Raises :class:`KeyError`
    for an id that is not in ``result``.
    """
    if indicator is not None:
        return visible(_wrapped(_explain_node(result[indicator], result, rubric), width))
    blocks = [_wrapped(_explain_node(leaf, result, rubric), width) for leaf in result.leaves]
    blocks.append("\n".join(_footer(result)))
    return visible("\n\n".join(blocks))


def _wrapped(lines: list[str], width: int | None) -> str:
    if width is None:
        return "\n".join(lines)
    return "\n".join(part for line in lines for part in wrap(line, width))
