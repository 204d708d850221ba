"""Three evaluators of one formula agree exactly: the generated fast path
(``Formula.evaluate``), the IR interpreter (``Formula.interpret``) and simpleeval
(``Formula.reference_evaluate``)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import example, given
from hypothesis import strategies as st

from perfscore import EvaluationError, Formula, compile_formula

from .strategies import FORMULA_SYMBOLS, formula_values, formulas

Values = dict[str, Decimal | bool | str]


def given_values(**values: object) -> Values:
    """A full set of values for FORMULA_SYMBOLS, some given (numbers as text)."""
    full: Values = {"a": Decimal(0), "b": Decimal(0), "c": Decimal(0)}
    full.update({"p": True, "q": False, "s": "好"})
    for name, value in values.items():
        full[name] = Decimal(value) if isinstance(value, str | int) else value  # type: ignore[arg-type]
    return full


def _same(a: object, b: object) -> bool:
    """Equal values of the same type, written the same way (Decimal('1.0') is not '1')."""
    return type(a) is type(b) and a == b and str(a) == str(b)


def _outcome(formula: Formula, how: str, values: Values) -> tuple[str, object]:
    try:
        return "value", getattr(formula, how)(values)
    except Exception as e:  # every failure is an outcome to compare
        return "error", e


@given(formulas, formula_values())
@example("0.1 + 0.2", given_values())
@example("1 < 2 < 3 == 3", given_values())
@example("a / b if b != 0 else 0", given_values(a=1))
@example("a / (b - b)", given_values(a=1, b=5))
@example("2 ** a", given_values(a=1000))
@example("round(a / 3, 2) * 3", given_values(a=10))
@example("(s == '好') and p or not q", given_values())
def test_fast_path_interpreter_and_reference_agree(source: str, values: Values) -> None:
    formula = compile_formula(source, FORMULA_SYMBOLS)
    fast = _outcome(formula, "evaluate", values)
    slow = _outcome(formula, "interpret", values)
    reference = _outcome(formula, "reference_evaluate", values)
    if fast[0] == "value":
        assert slow[0] == "value", slow
        assert reference[0] == "value", reference
        assert _same(fast[1], slow[1]), (fast, slow)
        assert _same(fast[1], reference[1]), (fast, reference)
    else:
        # The fast path's errors are always located EvaluationErrors; the others fail too.
        assert isinstance(fast[1], EvaluationError), fast
        assert slow[0] == "error", slow
        assert reference[0] == "error", reference


@given(formulas, formula_values())
@example("(a ** -1)", given_values())  # Decimal itself would say Infinity
@example("((a ** -2) * 0)", given_values())
def test_results_are_finite(source: str, values: Values) -> None:
    formula = compile_formula(source, FORMULA_SYMBOLS)
    try:
        result = formula.evaluate(values)
    except EvaluationError:
        return
    if isinstance(result, Decimal):
        assert result.is_finite(), result


@given(formulas, formula_values())
@example("(a ** 0)", given_values())
def test_interpreter_locates_every_failure_like_the_fast_path(source: str, values: Values) -> None:
    formula = compile_formula(source, FORMULA_SYMBOLS)
    fast = _outcome(formula, "evaluate", values)
    if fast[0] == "value":
        return
    slow = _outcome(formula, "interpret", values)
    assert slow[0] == "error", "the interpreter succeeded where the fast path failed"
    fast_error, slow_error = fast[1], slow[1]
    assert isinstance(fast_error, EvaluationError)
    assert isinstance(slow_error, EvaluationError), slow_error
    assert slow_error.codes == fast_error.codes
    assert str(slow_error) == str(fast_error)


@given(st.data())
def test_evaluation_is_repeatable(data: st.DataObject) -> None:
    source = data.draw(formulas)
    values = data.draw(formula_values())
    formula = compile_formula(source, FORMULA_SYMBOLS)
    first = _outcome(formula, "evaluate", values)
    second = _outcome(formula, "evaluate", values)
    assert first[0] == second[0]
    if first[0] == "value":
        assert _same(first[1], second[1])
    else:
        assert str(first[1]) == str(second[1])
