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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Final, Literal

from perfscore import i18n
from perfscore._numbers import to_str

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
Severity = Literal["error", "warning"]

#: The version of the shape :meth:`Issue.to_dict` and :meth:`PerfscoreError.to_dict` write
#: (``perfscore schema error`` prints its JSON Schema). It changes only when a key is
#: removed or changes meaning; new keys may appear within a version.
ERROR_FORMAT_VERSION: Final = 1


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

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data: ``file``, ``line``, ``column`` (``None`` when unknown) and
        ``path``, the place inside the document as a list of keys and indexes."""
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": list(self.path),
        }


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem: a stable ``code``, a message, where it is, and how to fix it.

    ``params`` holds the values the message is made of, as JSON-ready data (text, numbers
    written as text, lists), so that a caller can write its own text. An issue made with
    :meth:`of` takes its message and hint from the catalogue (:mod:`perfscore.i18n`), and
    :meth:`message_in` / :meth:`hint_in` write them again in any language.
    """

    code: str
    message: str
    location: Location = field(default_factory=Location)
    hint: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)
    severity: Severity = "error"

    @classmethod
    def of(
        cls,
        code: str,
        location: Location | None = None,
        /,
        *,
        message: Mapping[str, Any] | str | None = None,
        hint: Mapping[str, Any] | str | None = None,
        lang: str | None = None,
        **params: Any,
    ) -> Issue:
        """An issue whose message and hint come from the catalogue, in ``lang`` (default:
        the language in force).

        The message is the text for ``code``, or ``message`` (a text made by
        :func:`perfscore.i18n.msg`) where one code has several wordings; the hint is
        ``hint`` if given, else the text for ``code + ".hint"`` when the catalogue has one.
        Both are kept in ``params`` (under ``message`` and ``hint``), so that the issue
        can be written again in any language. A ``message`` given as plain text is a
        parameter of the code's own text."""
        if isinstance(message, str):  # a parameter of the code's own text, named message
            params["message"] = message
        elif message is not None:
            params["message"] = dict(message)
        if isinstance(hint, str):
            params["hint"] = i18n.msg("text", text=hint)
        elif hint is not None:
            params["hint"] = dict(hint)
        location = location or Location()
        issue = cls(code, "", location, None, params)
        return cls(code, issue.message_in(lang), location, issue.hint_in(lang), params)

    def as_msg(self) -> dict[str, Any]:
        """The message as a text made by :func:`perfscore.i18n.msg`: to put the issue's
        message inside another text (``第2行：…``) and keep it writable in any language."""
        if i18n.is_msg(self.params.get("message")):
            return dict(self.params["message"])
        if i18n.has(self.code) and (self.params or not i18n.placeholders(i18n.tr(self.code))):
            return i18n.msg(self.code, **self.params)
        return i18n.msg("text", text=self.message)

    def hint_msg(self) -> dict[str, Any] | None:
        """The hint as a text (see :meth:`as_msg`), or None without a hint."""
        given = self.params.get("hint")
        if i18n.is_msg(given):
            return dict(given)
        key = f"{self.code}.hint"
        if i18n.has(key) and i18n.has(self.code) and "message" not in self.params:
            return i18n.msg(key, **self.params)
        return None if self.hint is None else i18n.msg("text", text=self.hint)

    def message_in(self, lang: str | None) -> str:
        """The message in ``lang``: from the catalogue when the issue was made from it,
        else the message as it was written."""
        given = self.params.get("message")
        if i18n.is_msg(given):
            return i18n.render(given, lang)
        if i18n.has(self.code) and (self.params or not i18n.placeholders(i18n.tr(self.code))):
            return i18n.tr(self.code, lang, **self.params)
        return self.message

    def hint_in(self, lang: str | None) -> str | None:
        """The hint in ``lang``, as :meth:`message_in` writes the message."""
        given = self.params.get("hint")
        if i18n.is_msg(given):
            return i18n.render(given, lang)
        key = f"{self.code}.hint"
        if i18n.has(key) and i18n.has(self.code) and "message" not in self.params:
            return i18n.tr(key, lang, **self.params)
        return self.hint

    def to_dict(self, *, severity: Severity | None = None) -> dict[str, Any]:
        """JSON-ready data, the same shape for errors and for warnings in results:
        ``code``, ``severity`` (``error`` or ``warning``; ``severity`` overrides the issue's
        own), ``message``, ``hint`` (or ``None``), ``params`` (the values the message is
        made of) and ``location`` (see :meth:`Location.to_dict`)."""
        return {
            "code": self.code,
            "severity": severity or self.severity,
            "message": self.message,
            "hint": self.hint,
            "params": {key: _jsonable(value) for key, value in self.params.items()},
            "location": self.location.to_dict(),
        }

    def in_lang(self, lang: str | None) -> Issue:
        """The same issue with its message and hint written in ``lang``."""
        return replace(self, message=self.message_in(lang), hint=self.hint_in(lang))

    def __str__(self) -> str:
        text = f"{self.location}: {self.message} [{self.code}]"
        loc = self.location
        if loc.source_line is not None and loc.span is not None:
            start, end = loc.span
            text += f"\n    {loc.source_line}\n    {' ' * start}{'^' * max(1, end - start)}"
        if self.hint:
            text += f"\n    {i18n.tr('issue.hint')}{self.hint}"
        return text


class Problem(ValueError):
    """A value refused where only a :class:`ValueError` can be raised (a model validator,
    a parser): its text is kept as data (:func:`perfscore.i18n.msg`) so that the issue made
    from it can be written in any language."""

    def __init__(self, key: str, /, **params: Any) -> None:
        self.text = i18n.msg(key, **params)
        super().__init__(i18n.render(self.text))


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
        lines = [i18n.tr("issue.problems", count=len(self.issues))]
        lines.extend(str(issue) for issue in self.issues)
        return "\n".join(lines)

    def __reduce__(self) -> tuple[Any, tuple[tuple[Issue, ...]]]:
        """Pickled with its issues (an error raised in a worker process arrives whole)."""
        return type(self), (self.issues,)

    @property
    def codes(self) -> tuple[str, ...]:
        """The issue codes, in order: handy in tests and in callers' dispatch."""
        return tuple(issue.code for issue in self.issues)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data: ``format`` (:data:`ERROR_FORMAT_VERSION`), ``type`` (the class
        name, e.g. ``RubricValidationError``), ``code`` (the class's general code, e.g.
        ``invalid``), ``message`` (every issue as text) and ``issues``, each as
        :meth:`Issue.to_dict` writes it. ``perfscore schema error`` prints its JSON Schema."""
        return {
            "format": ERROR_FORMAT_VERSION,
            "type": type(self).__name__,
            "code": self.default_code,
            "message": str(self),
            "issues": [issue.to_dict() for issue in self.issues],
        }


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


def _jsonable(value: Any) -> Any:
    """A parameter as JSON: text, whole numbers, booleans and ``None`` as they are, other
    numbers (decimals) as text, lists and mappings element by element."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, Decimal) and value.is_finite():
        return to_str(value)
    return str(value)
