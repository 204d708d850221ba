"""Department inputs checked against a rubric's declared inputs, every problem at once.

Each declared input gets a coercer for its kind (number, integer, money, percent, count,
boolean, choice, text, table); :func:`validate_inputs` runs them all and reports missing,
unknown (with "did you mean"), wrongly typed and out-of-bounds values in one
:class:`InputError`, each issue naming the input, its label and the fix.

Spreadsheets filled by hand hold figures in many spellings. A number input reads a number
(an int, a :class:`~decimal.Decimal`, a finite float) or text of a plain number in ASCII
digits (``1234.5``, ``-3``, ``1.5E+3``), and nothing else unless the input's ``accept``
list says how (without it, the code each is refused with):

* ``full_width``: ``１２３．５`` as 123.5 (``input.full_width``);
* ``thousands_separator``: ``1,234.5`` as 1234.5, groups of three (``input.separator``);
* ``percent_sign``: ``95%`` as 95, for percent inputs (``input.percent_sign``);
* ``fraction``: ``0.95`` as 95, for percent inputs whose figures are fractions of one
  (without it 0.95 is read as 0.95 %, with a warning).

A missing value (:func:`is_missing`: None, an empty cell, a float NaN, pandas' ``NA``, an
Arrow null, an absent key) is missing: the default, not applicable for an optional input,
``input.missing`` for a required one. Whatever ``accept`` says, these are refused: the text
``NaN``, a ``Decimal`` NaN and infinities, magnitudes of 10^15 or
more such as ``1e308``, spreadsheet error values and placeholders (``#DIV/0!``, ``-``,
``无``), any other text, fractions for whole-number kinds (all ``input.type``); a unit
written after the number (``12.5万元``, ``input.unit``); values outside the declared
``min`` / ``max`` and negative counts (``input.bounds``); blank cells of required inputs
(``input.missing``). Nothing is guessed: a value is read as written, by a rule the rubric
declared, or refused with the fix.

A percent input (in percent points) given a figure strictly between -1 and 1 is read as
written, but the score carries an ``input.percent_fraction`` warning: 0.95 may be 95 %
from a spreadsheet cell formatted as a percentage.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from ._interval import Interval
from ._numbers import ENGINE_CONTEXT, to_str
from ._suggest import closest, did_you_mean
from .errors import InputError, Issue, Location
from .model import InputSpec

Value = Decimal | bool | str
#: Marks a value that is not applicable (a missing optional input, a not-applicable
#: fallback, a value that reads one) in the values the engine scores from.
NA: Final = object()
_TRUE_WORDS: Final = {
    "true": True,
    "false": False,
    "是": True,
    "否": False,
    "yes": True,
    "no": False,
}

#: Figures of this magnitude or more are refused as implausible (a typo, a unit slip,
#: 1e308 from a broken export); every real budget figure in 万元 or 元 is far below it.
MAX_MAGNITUDE: Final = Decimal("1e15")
#: Figures with more decimal places are refused: nobody measures that finely, and a
#: number such as 1E-999999999 would take a gigabyte to write out in plain notation.
MAX_PLACES: Final = 30
#: Text longer than this is not read as a number at all.
MAX_NUMBER_TEXT: Final = 100

_PLAIN_NUMBER: Final = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_GROUPED_NUMBER: Final = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?")
_SEPARATED: Final = re.compile(r"[+-]?[0-9]+(?:[,_' ][0-9]+)+(?:\.[0-9]*)?")
_UNIT_AFTER: Final = re.compile(r"([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))\s*([^\s0-9.,+-].*)")
_NOT_FINITE_WORDS: Final = frozenset(
    {"nan", "+nan", "-nan", "snan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}
)
_PLACEHOLDERS: Final = frozenset(
    {"-", "--", "—", "——", "－", "/", "／", "无", "空", "n/a", "na", "none", "null", "暂无"}
)
#: Full-width forms (U+FF01..U+FF5E) and the ideographic space, mapped to ASCII.
_FULL_WIDTH: Final = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def number_problem(value: Decimal) -> str | None:
    """What makes ``value`` unfit to compute with, or None: not finite, 10^15 or more in
    magnitude, or more than 30 decimal places. Rubric numbers are held to the same bounds."""
    if not value.is_finite():
        return "is not a finite number"
    if value.copy_abs() >= MAX_MAGNITUDE:
        return "is implausibly large"
    if value.adjusted() < -MAX_PLACES:  # its first digit lies further right than that
        return f"has more than {MAX_PLACES} decimal places"
    return None


class _Refused(ValueError):
    """A value an input cannot take: a stable code, what is wrong, and how to fix it."""

    def __init__(self, code: str, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.hint = code, message, hint


@dataclass(frozen=True, slots=True)
class InputRule:
    """One declared input and the function that converts a raw value for it.

    ``coerce`` raises :class:`ValueError` (with a message, and for the common mistakes a
    code and a hint) for a value the input cannot take.
    """

    id: str
    spec: InputSpec
    coerce: Callable[[Any], Value]


def shown(raw: Any) -> str:
    """A value as a message shows it: quoted text, cut short when long."""
    if isinstance(raw, str):
        return repr(raw) if len(raw) <= 40 else repr(raw[:37]) + "..."
    if isinstance(raw, Decimal):
        text = to_str(raw) if raw.is_finite() and abs(raw.adjusted()) < 40 else str(raw)
        return text if len(text) <= 40 else text[:37] + "..."
    if isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) >= 10**40:
        return "a number of more than 40 digits"
    if raw is None or isinstance(raw, bool | int | float):
        return repr(raw)
    return f"a {type(raw).__name__}"  # never the repr of a list or object: it may be huge


def _accept_hint(input_id: str, spelling: str, plain: str) -> str:
    return f"write {plain}, or add {spelling!r} to 'accept' of input {input_id!r} in the rubric"


def _plain_of(text: str) -> str:
    """``text`` with its full-width forms as ASCII, separators and '%' dropped: for hints."""
    return text.translate(_FULL_WIDTH).replace(",", "").replace("%", "").strip()


def _coerce_number(input_id: str, spec: InputSpec) -> Callable[[Any], Value]:
    integral = spec.kind in ("integer", "count")
    accept = frozenset(spec.accept)
    percent = spec.kind == "percent"
    fraction = "fraction" in accept
    unit = spec.display_unit

    def parse_text(raw: str) -> tuple[Decimal, bool]:
        """The number ``raw`` spells, and whether it carried a percent sign."""
        text = raw.strip()
        if len(text) > MAX_NUMBER_TEXT:
            raise _Refused(
                "input.type",
                f"text of {len(text)} characters is not a number",
                "write the figure alone",
            )
        if "full_width" in accept:
            text = text.translate(_FULL_WIDTH).strip()
        elif text != text.translate(_FULL_WIDTH):
            raise _Refused(
                "input.full_width",
                f"{shown(raw)} is written with full-width characters",
                _accept_hint(input_id, "full_width", _plain_of(text)),
            )
        had_percent = text.endswith("%")
        if had_percent:
            if not (percent and "percent_sign" in accept):
                plain = text[:-1].strip()
                raise _Refused(
                    "input.percent_sign",
                    f"{shown(raw)} has a percent sign",
                    _accept_hint(input_id, "percent_sign", plain)
                    if percent
                    else f"this input is not a percent: write the figure{_in(unit)}",
                )
            text = text[:-1].rstrip()
        if "," in text and "thousands_separator" in accept and _GROUPED_NUMBER.fullmatch(text):
            text = text.replace(",", "")
        if _PLAIN_NUMBER.fullmatch(text):
            try:
                return Decimal(text), had_percent
            except InvalidOperation:  # an exponent beyond what a decimal holds
                raise _Refused("input.type", f"{shown(raw)} is out of range") from None
        raise _not_a_number(raw, text)

    def _not_a_number(raw: str, text: str) -> _Refused:
        lowered = text.lower()
        if lowered in _NOT_FINITE_WORDS:
            return _not_finite(raw)
        if _GROUPED_NUMBER.fullmatch(text):
            return _Refused(
                "input.separator",
                f"{shown(raw)} has thousands separators",
                _accept_hint(input_id, "thousands_separator", text.replace(",", "")),
            )
        if _SEPARATED.fullmatch(text):
            return _Refused(
                "input.separator",
                f"{shown(raw)} has separators between its digits",
                f"write the digits without separators{_in(unit)}",
            )
        if lowered.startswith("#"):
            return _Refused(
                "input.type",
                f"{shown(raw)} is a spreadsheet error, not a number",
                "fix the formula in the sheet, or write the figure",
            )
        if lowered in _PLACEHOLDERS:
            return _Refused(
                "input.type",
                f"{shown(raw)} is not a number",
                "write 0 if the figure is zero; leave the cell empty if there is none",
            )
        match = _UNIT_AFTER.fullmatch(text)
        if match and not any(ch.isdigit() for ch in match.group(2)):
            return _Refused(
                "input.unit",
                f"{shown(raw)} has a unit after the number",
                f"write the number alone{_in(unit)}: {match.group(1)}",
            )
        return _Refused("input.type", f"{shown(raw)} is not a number", None)

    def coerce(raw: Any) -> Value:
        if (  # the common case first: a decimal read from a file, taken as it is
            raw.__class__ is Decimal
            and not fraction
            and raw.is_finite()
            and raw.copy_abs() < MAX_MAGNITUDE
            and raw.adjusted() >= -MAX_PLACES
            and (not integral or raw == raw.to_integral_value())
        ):
            return raw
        had_percent = False
        if isinstance(raw, bool):
            raise _Refused("input.type", "a number is needed, not true/false", None)
        if isinstance(raw, Decimal):
            value = raw
        elif isinstance(raw, int):
            if abs(raw) >= 10**15:
                raise _Refused("input.type", f"{shown(raw)} is implausibly large")
            value = Decimal(raw)
        elif isinstance(raw, float):
            if not math.isfinite(raw):
                raise _not_finite(raw)
            value = Decimal(repr(raw))
        elif isinstance(raw, str):
            value, had_percent = parse_text(raw)
        elif isinstance(raw, numbers.Integral):  # e.g. numpy integers
            return coerce(int(raw))
        elif isinstance(raw, numbers.Real):  # e.g. numpy floats
            return coerce(float(raw))
        else:
            raise _Refused("input.type", f"a number is needed, not {type(raw).__name__}", None)
        problem = number_problem(value)
        if problem is not None:
            hint = "round the figure" if problem.startswith("has more") else None
            raise _Refused("input.type", f"{shown(value)} {problem}", hint)
        if fraction and not had_percent:
            value = value.scaleb(2, ENGINE_CONTEXT)
        if integral and value != value.to_integral_value():
            raise _Refused("input.type", f"{shown(value)} is not a whole number", None)
        return value

    return coerce


def _in(unit: str | None) -> str:
    return f" in {unit}" if unit else ""


def _not_finite(raw: Any) -> _Refused:
    return _Refused("input.type", f"{shown(raw)} is not a finite number")


def _coerce_boolean(raw: Any) -> Value:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in _TRUE_WORDS:
        return _TRUE_WORDS[raw.strip().lower()]
    raise ValueError(f"true or false is needed, not {shown(raw)}")


def _coerce_choice(options: tuple[str, ...]) -> Callable[[Any], Value]:
    def coerce(raw: Any) -> Value:
        if isinstance(raw, str) and raw.strip() in options:
            return raw.strip()
        hint = did_you_mean(raw[:100], options) if isinstance(raw, str) else None
        raise ValueError(
            f"{shown(raw)} is not one of {', '.join(map(repr, options))}"
            + (f"; {hint}" if hint else "")
        )

    return coerce


class RowProblems(ValueError):
    """The rows of a table input have problems, each located in its row."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        super().__init__(f"{len(issues)} problem(s) in rows")
        self.issues = tuple(issues)


def _coerce_text(raw: Any) -> Value:
    if isinstance(raw, str):
        return raw.strip()
    if isinstance(raw, bool) or not isinstance(raw, int | Decimal):
        raise ValueError(f"text is needed, not {type(raw).__name__}")
    if isinstance(raw, int) and abs(raw) >= 10**40:
        raise ValueError("text is needed, not a number of more than 40 digits")
    return str(raw)


def _coerce_table(input_id: str, columns: Mapping[str, InputSpec]) -> Callable[[Any], Any]:
    rules = [input_rule(name, spec) for name, spec in columns.items()]

    def coerce(raw: Any) -> Any:
        if not isinstance(raw, list | tuple):
            raise ValueError("a list of rows is needed, each a mapping of column to value")
        rows: list[dict[str, Any]] = []
        issues: list[Issue] = []
        for i, row in enumerate(raw):
            if not isinstance(row, Mapping):
                issues.append(
                    Issue(
                        "input.type",
                        f"row {i + 1} of {input_id!r} is not a mapping of column to value",
                        Location(path=(input_id, i)),
                    )
                )
                continue
            try:
                rows.append(validate_inputs(rules, row))
            except InputError as error:
                for issue in error.issues:
                    loc = issue.location
                    where = Location(path=(input_id, i, *loc.path))
                    issues.append(
                        Issue(issue.code, f"row {i + 1}: {issue.message}", where, issue.hint)
                    )
        if issues:
            raise RowProblems(issues)
        return tuple(rows)

    return coerce


def input_rule(input_id: str, spec: InputSpec) -> InputRule:
    """The rule that checks and converts raw values for the input ``input_id``."""
    coerce: Callable[[Any], Value]
    if spec.kind == "table":
        assert spec.columns is not None
        coerce = _coerce_table(input_id, spec.columns)
    elif spec.kind == "text":
        coerce = _coerce_text
    elif spec.kind == "boolean":
        coerce = _coerce_boolean
    elif spec.kind == "choice":
        assert spec.options is not None
        coerce = _coerce_choice(spec.options)
    else:
        coerce = _coerce_number(input_id, spec)
    return InputRule(input_id, spec, coerce)


def is_missing(raw: Any) -> bool:
    """The one missing-value rule of every entry point: None, text of spaces only (an
    empty cell), a binary-float NaN (pandas' and numpy's gap, any float type), pandas'
    ``NA`` and ``NaT``, and a null Arrow scalar. A missing key or column is missing too
    (``inputs.get`` gives None). A ``Decimal`` NaN is a value, and refused as one."""
    if raw is None:
        return True
    cls = raw.__class__
    if cls is str:
        return not raw.strip()
    if cls is float:
        return bool(raw != raw)
    if cls is Decimal or cls is bool or cls is int:
        return False
    if isinstance(raw, str):
        return not raw.strip()
    if isinstance(raw, numbers.Real) and not isinstance(raw, numbers.Rational | Decimal):
        try:
            return bool(raw != raw)
        except (TypeError, ValueError):
            return False
    name = cls.__name__
    if name in ("NAType", "NaTType"):  # pandas.NA, pandas.NaT
        return True
    return getattr(raw, "is_valid", True) is False  # a null pyarrow scalar


def _blank(raw: Any) -> bool:
    return is_missing(raw)


def _unknown_hint(key: str, specs: Mapping[str, InputSpec]) -> str:
    text = key.strip()[:100]
    by_label = {spec.label.strip(): input_id for input_id, spec in specs.items()}
    if text in by_label:
        return f"{text!r} is the label of input {by_label[text]!r}: use the id"
    hint = did_you_mean(text, specs)
    if hint is not None:
        return hint
    label = closest(text, by_label)
    if label is not None:
        return f"did you mean {by_label[label]!r} ({label})?"
    return "the rubric declares: " + ", ".join(specs)


def validate_inputs(
    rules: Sequence[InputRule],
    inputs: Mapping[str, Any],
    *,
    source: str | None = None,
    missing: object = None,
) -> dict[str, Any]:
    """Check and convert raw inputs; raise :class:`InputError` listing every problem.

    ``source`` names where the inputs came from (a file, or ``file:row`` for a row of a
    population); every issue is located there, at the input's id. Missing optional inputs
    without a default are marked ``missing`` (not applicable): every value and leaf that
    reads them becomes not applicable.
    """
    values: dict[str, Any] = {}
    issues: list[Issue] = []
    if not isinstance(inputs, Mapping):
        raise InputError(
            [
                Issue(
                    "input.not_mapping",
                    f"inputs must be a mapping of input id to value, not {type(inputs).__name__}",
                    Location(file=source),
                )
            ]
        )
    declared = {rule.id: rule.spec for rule in rules}
    for key in inputs:
        if key not in declared:
            name = key if isinstance(key, str) else shown(key)
            issues.append(
                Issue(
                    "input.unknown",
                    f"unknown input {shown(name)}",
                    Location(file=source, path=(name,)),
                    _unknown_hint(name, declared),
                )
            )
    for rule in rules:
        spec = rule.spec
        raw = inputs.get(rule.id)
        if _blank(raw):
            if spec.default is not None:
                values[rule.id] = spec.default
            elif spec.required:
                present = rule.id in inputs
                issues.append(
                    Issue(
                        "input.missing",
                        f"input {rule.id!r} ({spec.label}) is empty"
                        if present
                        else f"missing required input {rule.id!r} ({spec.label})",
                        Location(file=source, path=(rule.id,)),
                        "give a value, or declare a default or 'required: false' in the rubric",
                    )
                )
            else:
                values[rule.id] = missing
            continue
        try:
            value = rule.coerce(raw)
        except RowProblems as e:
            issues.extend(
                Issue(p.code, p.message, Location(file=source, path=p.location.path), p.hint)
                for p in e.issues
            )
            continue
        except _Refused as e:
            issues.append(
                Issue(
                    e.code,
                    f"input {rule.id!r} ({spec.label}): {e.message}",
                    Location(file=source, path=(rule.id,)),
                    e.hint or _kind_hint(spec),
                )
            )
            continue
        except ValueError as e:
            issues.append(
                Issue(
                    "input.type",
                    f"input {rule.id!r} ({spec.label}): {e}",
                    Location(file=source, path=(rule.id,)),
                    _kind_hint(spec),
                )
            )
            continue
        if isinstance(value, Decimal):
            low, high = spec.lower_bound, spec.max
            if (low is not None and value < low) or (high is not None and value > high):
                issues.append(
                    Issue(
                        "input.bounds",
                        f"input {rule.id!r} ({spec.label}) is {to_str(value)}, outside "
                        f"{Interval(low, high, low is not None, high is not None)}",
                        Location(file=source, path=(rule.id,)),
                        _bounds_hint(spec),
                    )
                )
                continue
        values[rule.id] = value
    if issues:
        raise InputError(issues)
    return values


def _bounds_hint(spec: InputSpec) -> str:
    if "fraction" in spec.accept:
        return "this input reads fractions of one: write 0.95 for 95 %"
    return "check the figure and its unit"


def _kind_hint(spec: InputSpec) -> str:
    unit = spec.display_unit
    if spec.kind == "boolean":
        return "write true or false"
    if spec.kind == "choice":
        return "one of: " + ", ".join(spec.options or ())
    if spec.kind in ("integer", "count"):
        return "write a whole number"
    if spec.kind == "text":
        return "write text"
    return "write a number" + _in(unit)
