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
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from ._interval import Interval
from ._numbers import ENGINE_CONTEXT, to_str
from ._suggest import closest, did_you_mean
from .errors import InputError, Issue, Location
from .i18n import msg
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
    magnitude, or more than 30 decimal places, as the catalogue key of the text that says
    so (its parameters: ``value``, ``places``; see :func:`number_text`). Rubric numbers are
    held to the same bounds."""
    if not value.is_finite():
        return "value.not_finite"
    if value.copy_abs() >= MAX_MAGNITUDE:
        return "value.too_large"
    if value.adjusted() < -MAX_PLACES:  # its first digit lies further right than that
        return "value.too_many_places"
    return None


def number_text(problem: str, value: str) -> dict[str, Any]:
    """The text of a :func:`number_problem` about ``value`` (as a message shows it)."""
    return msg(problem, value=value, places=MAX_PLACES)


class _Refused(ValueError):
    """A value an input cannot take: a stable code, what is wrong, and how to fix it, the
    texts kept as data (:func:`perfscore.i18n.msg`)."""

    def __init__(
        self, code: str, message: dict[str, Any], hint: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message["key"])
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
    #: The bounds a number is checked against (``spec.lower_bound``, ``spec.max``).
    low: Decimal | None = None
    high: Decimal | None = None
    #: What the rubric's generated input check (``perfscore._fastpath.input_check``)
    #: takes as it is without calling ``coerce``, as ``coerce`` would: a bool
    #: (``_BOOLEAN``), or a Decimal of the number coercer's common case (``_DECIMAL``;
    #: ``_WHOLE`` for whole-number kinds); None: always ``coerce``.
    quick: str | None = None


_BOOLEAN: Final = "boolean"
_DECIMAL: Final = "decimal"
_WHOLE: Final = "whole"


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


def _accept_hint(input_id: str, spelling: str, plain: str) -> dict[str, Any]:
    return msg("hint.accept", plain=plain, spelling=repr(spelling), input=repr(input_id))


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
                msg("value.long_text", length=len(text)),
                msg("hint.figure_alone"),
            )
        if "full_width" in accept:
            text = text.translate(_FULL_WIDTH).strip()
        elif text != text.translate(_FULL_WIDTH):
            raise _Refused(
                "input.full_width",
                msg("value.full_width", value=shown(raw)),
                _accept_hint(input_id, "full_width", _plain_of(text)),
            )
        had_percent = text.endswith("%")
        if had_percent:
            if not (percent and "percent_sign" in accept):
                plain = text[:-1].strip()
                raise _Refused(
                    "input.percent_sign",
                    msg("value.percent_sign", value=shown(raw)),
                    _accept_hint(input_id, "percent_sign", plain)
                    if percent
                    else msg("hint.not_percent", unit=_in(unit)),
                )
            text = text[:-1].rstrip()
        if "," in text and "thousands_separator" in accept and _GROUPED_NUMBER.fullmatch(text):
            text = text.replace(",", "")
        if _PLAIN_NUMBER.fullmatch(text):
            try:
                return Decimal(text), had_percent
            except InvalidOperation:  # an exponent beyond what a decimal holds
                raise _Refused("input.type", msg("value.out_of_range", value=shown(raw))) from None
        raise _not_a_number(raw, text)

    def _not_a_number(raw: str, text: str) -> _Refused:
        lowered = text.lower()
        if lowered in _NOT_FINITE_WORDS:
            return _not_finite(raw)
        if _GROUPED_NUMBER.fullmatch(text):
            return _Refused(
                "input.separator",
                msg("value.thousands", value=shown(raw)),
                _accept_hint(input_id, "thousands_separator", text.replace(",", "")),
            )
        if _SEPARATED.fullmatch(text):
            return _Refused(
                "input.separator",
                msg("value.separated", value=shown(raw)),
                msg("hint.no_separators", unit=_in(unit)),
            )
        if lowered.startswith("#"):
            return _Refused(
                "input.type",
                msg("value.sheet_error", value=shown(raw)),
                msg("hint.fix_formula"),
            )
        if lowered in _PLACEHOLDERS:
            return _Refused(
                "input.type",
                msg("value.not_number", value=shown(raw)),
                msg("hint.placeholder"),
            )
        match = _UNIT_AFTER.fullmatch(text)
        if match and not any(ch.isdigit() for ch in match.group(2)):
            return _Refused(
                "input.unit",
                msg("value.unit_after", value=shown(raw)),
                msg("hint.number_alone", unit=_in(unit), number=match.group(1)),
            )
        return _Refused("input.type", msg("value.not_number", value=shown(raw)), None)

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
            raise _Refused("input.type", msg("value.bool_not_number"), None)
        if isinstance(raw, Decimal):
            value = raw
        elif isinstance(raw, int):
            if abs(raw) >= 10**15:
                raise _Refused("input.type", number_text("value.too_large", shown(raw)))
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
            raise _Refused("input.type", msg("value.needs_number", kind=type(raw).__name__), None)
        problem = number_problem(value)
        if problem is not None:
            hint = msg("hint.round") if problem == "value.too_many_places" else None
            raise _Refused("input.type", number_text(problem, shown(value)), hint)
        if fraction and not had_percent:
            value = value.scaleb(2, ENGINE_CONTEXT)
        if integral and value != value.to_integral_value():
            raise _Refused("input.type", msg("value.not_whole", value=shown(value)), None)
        return value

    return coerce


def _in(unit: str | None) -> dict[str, Any]:
    return msg("unit.in", unit=unit) if unit else msg("text", text="")


def _not_finite(raw: Any) -> _Refused:
    return _Refused("input.type", number_text("value.not_finite", shown(raw)))


def _coerce_boolean(raw: Any) -> Value:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in _TRUE_WORDS:
        return _TRUE_WORDS[raw.strip().lower()]
    raise _Refused("input.type", msg("value.not_boolean", value=shown(raw)))


def _coerce_choice(options: tuple[str, ...]) -> Callable[[Any], Value]:
    def coerce(raw: Any) -> Value:
        if isinstance(raw, str) and raw.strip() in options:
            return raw.strip()
        suggestion = did_you_mean(raw[:100], options) if isinstance(raw, str) else None
        listed = ", ".join(map(repr, options))
        if suggestion is None:
            raise _Refused("input.type", msg("value.not_option", value=shown(raw), options=listed))
        raise _Refused(
            "input.type",
            msg(
                "value.not_option_suggest", value=shown(raw), options=listed, suggestion=suggestion
            ),
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
        raise _Refused("input.type", msg("value.needs_text", kind=type(raw).__name__))
    if isinstance(raw, int) and abs(raw) >= 10**40:
        raise _Refused("input.type", msg("value.needs_text_long"))
    return str(raw)


def _coerce_table(input_id: str, columns: Mapping[str, InputSpec]) -> Callable[[Any], Any]:
    rules = [input_rule(name, spec) for name, spec in columns.items()]

    def coerce(raw: Any) -> Any:
        if not isinstance(raw, list | tuple):
            raise _Refused("input.type", msg("value.needs_rows"))
        rows: list[dict[str, Any]] = []
        issues: list[Issue] = []
        for i, row in enumerate(raw):
            if not isinstance(row, Mapping):
                issues.append(
                    Issue.of(
                        "input.type",
                        Location(path=(input_id, i)),
                        message=msg("input.row_not_mapping", row=i + 1, input=repr(input_id)),
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
                        Issue.of(
                            issue.code,
                            where,
                            message=msg("input.in_row", row=i + 1, message=issue.as_msg()),
                            hint=issue.hint_msg(),
                        )
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
    quick: str | None = None
    if spec.kind == "boolean":
        quick = _BOOLEAN
    elif spec.kind in ("number", "percent", "money", "integer", "count") and (
        "fraction" not in spec.accept
    ):
        quick = _WHOLE if spec.kind in ("integer", "count") else _DECIMAL
    return InputRule(input_id, spec, coerce, spec.lower_bound, spec.max, quick)


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


def _unknown_hint(key: str, specs: Mapping[str, InputSpec]) -> dict[str, Any]:
    text = key.strip()[:100]
    by_label = {spec.label.strip(): input_id for input_id, spec in specs.items()}
    if text in by_label:
        return msg("hint.label_not_id", label=repr(text), input=repr(by_label[text]))
    hint = did_you_mean(text, specs)
    if hint is not None:
        return hint
    label = closest(text, by_label)
    if label is not None:
        return msg("hint.did_you_mean_labelled", name=repr(by_label[label]), label=label)
    return msg("hint.declared_inputs", names=", ".join(specs))


def validate_inputs(
    rules: Sequence[InputRule],
    inputs: Mapping[str, Any],
    *,
    source: str | None = None,
    missing: object = None,
    declared: Mapping[str, InputSpec] | None = None,
    issues: list[Issue] | None = None,
    check: Callable[..., None] | None = None,
) -> dict[str, Any]:
    """Check and convert raw inputs; raise :class:`InputError` listing every problem.

    ``source`` names where the inputs came from (a file, or ``file:row`` for a row of a
    population); every issue is located there, at the input's id. Missing optional inputs
    without a default are marked ``missing`` (not applicable): every value and leaf that
    reads them becomes not applicable.

    ``declared`` is ``{rule.id: rule.spec}`` of ``rules``, when the caller keeps it. Given
    ``issues``, the problems found are appended to it instead of raised (the values of
    the inputs without one are returned). ``check`` is the rules' generated check
    (``perfscore._fastpath.input_check``), which does what :func:`check_input` does for
    each rule in turn.
    """
    values: dict[str, Any] = {}
    raise_issues = issues is None
    if issues is None:
        issues = []
    if not isinstance(inputs, Mapping):
        raise InputError(
            [
                Issue.of(
                    "input.not_mapping",
                    Location(file=source),
                    kind=type(inputs).__name__,
                )
            ]
        )
    if declared is None:
        declared = {rule.id: rule.spec for rule in rules}
    for key in inputs:
        if key not in declared:
            name = key if isinstance(key, str) else shown(key)
            issues.append(
                Issue.of(
                    "input.unknown",
                    Location(file=source, path=(name,)),
                    hint=_unknown_hint(name, declared),
                    name=shown(name),
                )
            )
    if check is not None:
        check(inputs, values, issues, source, missing)
    else:
        get = inputs.get
        for rule in rules:
            check_input(rule, get(rule.id), inputs, source, missing, values, issues)
    if issues and raise_issues:
        raise InputError(issues)
    return values


def check_input(
    rule: InputRule,
    raw: Any,
    inputs: Mapping[str, Any],
    source: str | None,
    missing: object,
    values: dict[str, Any],
    issues: list[Issue],
) -> None:
    """Check and convert ``raw``, the value given for ``rule``'s input in ``inputs``: its
    value is put in ``values``, or its problems appended to ``issues`` (see
    :func:`validate_inputs`)."""
    spec = rule.spec
    if is_missing(raw):
        if spec.default is not None:
            values[rule.id] = spec.default
        elif spec.required:
            present = rule.id in inputs
            issues.append(
                Issue.of(
                    "input.missing",
                    Location(file=source, path=(rule.id,)),
                    message=msg(
                        "input.empty" if present else "input.missing",
                        input=repr(rule.id),
                        label=spec.label,
                    ),
                    hint=msg("input.missing.hint"),
                )
            )
        else:
            values[rule.id] = missing
        return
    value: Value
    try:
        value = rule.coerce(raw)
    except RowProblems as e:
        issues.extend(
            replace(p, location=Location(file=source, path=p.location.path)) for p in e.issues
        )
        return
    except _Refused as e:
        issues.append(
            Issue.of(
                e.code,
                Location(file=source, path=(rule.id,)),
                message=msg(
                    "input.value", input=repr(rule.id), label=spec.label, problem=e.message
                ),
                hint=e.hint or _kind_hint(spec),
            )
        )
        return
    if isinstance(value, Decimal):
        low, high = rule.low, rule.high
        if (low is not None and value < low) or (high is not None and value > high):
            issues.append(
                Issue.of(
                    "input.bounds",
                    Location(file=source, path=(rule.id,)),
                    hint=_bounds_hint(spec),
                    input=repr(rule.id),
                    label=spec.label,
                    value=to_str(value),
                    interval=str(Interval(low, high, low is not None, high is not None)),
                )
            )
            return
    values[rule.id] = value


def _bounds_hint(spec: InputSpec) -> dict[str, Any]:
    if "fraction" in spec.accept:
        return msg("hint.fraction_input")
    return msg("hint.check_unit")


def _kind_hint(spec: InputSpec) -> dict[str, Any]:
    if spec.kind == "boolean":
        return msg("hint.write_boolean")
    if spec.kind == "choice":
        return msg("hint.one_of", options=", ".join(spec.options or ()))
    if spec.kind in ("integer", "count"):
        return msg("hint.write_whole")
    if spec.kind == "text":
        return msg("hint.write_text")
    return msg("hint.write_number", unit=_in(spec.display_unit))
