"""The exception tree and the issues every error carries.

Every error perfscore raises is a :class:`PerfscoreError`; each one carries a tuple of
:class:`Issue` objects, so that a caller sees every problem of a document at once::

    PerfscoreError
    ├── RubricError               a rubric file cannot be used
    │   ├── RubricSyntaxError     the file is not well-formed YAML / JSON / TOML, or is hostile
    │   └── RubricValidationError the document parses but breaks the rubric format
    │       └── FormulaError      a formula is outside the allowed language or names unknowns
    ├── InputError                department inputs do not fit the rubric's declared inputs
    └── EvaluationError           scoring failed at run time (e.g. a division by zero)

Foreign errors (pydantic, PyYAML, simpleeval, decimal) are translated once, where they
arise, and never leak out of the package.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = [
    "EvaluationError",
    "FormulaError",
    "InputError",
    "Issue",
    "Location",
    "PerfscoreError",
    "RubricError",
    "RubricSyntaxError",
    "RubricValidationError",
]

PathPart = str | int


def format_path(path: Sequence[PathPart]) -> str:
    """Render a path inside a document the way users write it: ``indicators[2].weight``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif out:
            out += f".{part}"
        else:
            out = part
    return out


@dataclass(frozen=True, slots=True)
class Location:
    """Where an issue is: a file, a line and column (1-based), and a path inside the document.

    ``span`` optionally points inside a string value (a formula): ``(start, end)`` column
    offsets into ``source_line``, used to draw a caret under the bad part.
    """

    file: str | None = None
    line: int | None = None
    column: int | None = None
    path: tuple[PathPart, ...] = ()
    source_line: str | None = None
    span: tuple[int, int] | None = None

    def __str__(self) -> str:
        head = self.file or "<input>"
        if self.line is not None:
            head += f":{self.line}"
            if self.column is not None:
                head += f":{self.column}"
        if self.path:
            head += f": {format_path(self.path)}"
        return head


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem: a stable ``code``, a message, where it is, and how to fix it."""

    code: str
    message: str
    location: Location = field(default_factory=Location)
    hint: str | None = None

    def __str__(self) -> str:
        text = f"{self.location}: {self.message} [{self.code}]"
        loc = self.location
        if loc.source_line is not None and loc.span is not None:
            start, end = loc.span
            text += f"\n    {loc.source_line}\n    {' ' * start}{'^' * max(1, end - start)}"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text


class PerfscoreError(Exception):
    """Base of every error perfscore raises. ``issues`` lists every problem found."""

    default_code = "error"

    def __init__(self, issues: Iterable[Issue] | str) -> None:
        if isinstance(issues, str):
            issues = [Issue(self.default_code, issues)]
        self.issues: tuple[Issue, ...] = tuple(issues)
        super().__init__(self._summary())

    def _summary(self) -> str:
        if len(self.issues) == 1:
            return str(self.issues[0])
        lines = [f"{len(self.issues)} problems:"]
        lines.extend(str(issue) for issue in self.issues)
        return "\n".join(lines)

    @property
    def codes(self) -> tuple[str, ...]:
        """The issue codes, in order: handy in tests and in callers' dispatch."""
        return tuple(issue.code for issue in self.issues)


class RubricError(PerfscoreError):
    """A rubric file cannot be used."""

    default_code = "rubric"


class RubricSyntaxError(RubricError):
    """The file is not well-formed (YAML, JSON, TOML), or it is refused as hostile."""

    default_code = "syntax"


class RubricValidationError(RubricError):
    """The document parses, but breaks the rubric format."""

    default_code = "invalid"


class FormulaError(RubricValidationError):
    """A formula is outside the allowed language, or names something not declared."""

    default_code = "formula"


class InputError(PerfscoreError):
    """Department inputs do not fit the rubric's declared inputs."""

    default_code = "input"


class EvaluationError(PerfscoreError):
    """Scoring failed at run time, e.g. a division by zero without a declared fallback."""

    default_code = "evaluation"
