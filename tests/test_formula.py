"""Safe decimal formulas: the language, its checks, and exact evaluation."""

from __future__ import annotations

import decimal
from decimal import Decimal

import pytest

from perfscore import (
    EvaluationError,
    Formula,
    FormulaError,
    Location,
    Symbol,
    ValueType,
    compile_formula,
)
from perfscore.formula import FUNCTIONS, MAX_DEPTH, MAX_LENGTH, MAX_NODES

#: The messages these tests assert are the English ones.
pytestmark = pytest.mark.lang("en")

NUMBER = Symbol(ValueType.NUMBER)
BOOLEAN = Symbol(ValueType.BOOLEAN)
CHOICE = Symbol(ValueType.TEXT, ("好", "较好", "一般", "差"))
SYMBOLS = {"x": NUMBER, "y": NUMBER, "rate": NUMBER, "flag": BOOLEAN, "level": CHOICE}


def evaluate(source: str, **values: object) -> object:
    """Compile ``source`` against SYMBOLS and evaluate it on the three evaluators."""
    formula = compile_formula(source, SYMBOLS)
    converted = {
        k: Decimal(v)
        if isinstance(v, int | str) and not isinstance(v, bool) and k != "level"
        else v
        for k, v in values.items()
    }
    result = formula.evaluate(converted)
    assert formula.interpret(converted) == result
    assert formula.reference_evaluate(converted) == result
    return result


def refused(source: str, symbols: dict[str, Symbol] | None = SYMBOLS, **kw: object) -> FormulaError:
    with pytest.raises(FormulaError) as info:
        compile_formula(source, symbols, **kw)  # type: ignore[arg-type]
    return info.value


# --------------------------------------------------------------------------- exactness


def test_decimal_addition_is_exact() -> None:
    result = evaluate("0.1 + 0.2")
    assert result == Decimal("0.3")
    assert str(result) == "0.3"


def test_literals_are_decimals_from_their_text() -> None:
    assert str(evaluate("12.50")) == "12.50"
    assert evaluate("0.1 * 3 == 0.3") is True
    assert evaluate("1_000") == Decimal(1000)
    assert evaluate("1e3") == Decimal(1000)


def test_ratio_as_percent_rounds_half_up() -> None:
    # 136 / 143 = 0.951048...: an evaluator writes 95.10 %.
    assert evaluate("round(x / y * 100, 2)", x=136, y=143) == Decimal("95.10")
    assert evaluate("round(2.675, 2)") == Decimal("2.68")  # a float would give 2.67


def test_division_keeps_34_significant_digits() -> None:
    assert evaluate("1 / 3") == Decimal("0.3333333333333333333333333333333333")
    assert evaluate("2 / 3 * 3") == Decimal("2.000000000000000000000000000000000")


def test_evaluation_ignores_the_callers_decimal_context() -> None:
    formula = compile_formula("1 / 3")
    with decimal.localcontext() as ctx:
        ctx.prec = 3
        ctx.traps[decimal.Inexact] = True
        assert formula.evaluate({}) == Decimal("0.3333333333333333333333333333333333")


# --------------------------------------------------------------------------- operators


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("7 + 2", Decimal(9)),
        ("7 - 2", Decimal(5)),
        ("7 * 2", Decimal(14)),
        ("7 / 2", Decimal("3.5")),
        ("2 ** 10", Decimal(1024)),
        ("2 ** -1", Decimal("0.5")),
        ("2 ** 3 ** 2", Decimal(512)),  # right-associative
        ("-2 ** 2", Decimal(-4)),  # ** binds tighter than unary minus
        ("-x", Decimal(-3)),
        ("+x", Decimal(3)),
        ("3 - 2 - 1", Decimal(0)),
        ("(3 - 2) * 4", Decimal(4)),
        ("2 ** 100", Decimal(2**100)),
    ],
)
def test_arithmetic(source: str, expected: Decimal) -> None:
    assert evaluate(source, x=3) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("x < 3", False),
        ("x <= 3", True),
        ("x > 2", True),
        ("x >= 4", False),
        ("x == 3.0", True),
        ("x != 3", False),
        ("flag and x > 2", True),
        ("flag or x > 5", True),
        ("not flag", False),
        ("level == '好'", True),
        ("level != '差'", True),
        ("True", True),
        ("False or False", False),
    ],
)
def test_comparisons_and_logic(source: str, expected: bool) -> None:
    assert evaluate(source, x=3, flag=True, level="好") is expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 < 2 < 3", True),
        ("1 < 3 < 2", False),
        ("1 < 2 > 1.5", True),
        ("1 <= 1 != 2", True),
        ("0 <= x <= 100", True),
        ("0 <= x < 3", False),
    ],
)
def test_chained_comparisons(source: str, expected: bool) -> None:
    assert evaluate(source, x=3) is expected


def test_chained_comparison_short_circuits() -> None:
    # 1 > 2 is false, so '1 / y' (a division by zero) is never evaluated.
    assert evaluate("1 > 2 > 1 / y", y=0) is False


def test_boolean_operators_short_circuit() -> None:
    assert evaluate("y != 0 and x / y > 1", x=1, y=0) is False
    assert evaluate("y == 0 or x / y > 1", x=1, y=0) is True


def test_conditional_expression_evaluates_one_branch() -> None:
    assert evaluate("x / y if y != 0 else 0", x=1, y=0) == 0
    assert evaluate("x / y if y != 0 else 0", x=1, y=4) == Decimal("0.25")


# --------------------------------------------------------------------------- functions


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("min(3, 1, 2)", Decimal(1)),
        ("max(3, 1, 2)", Decimal(3)),
        ("min(x, 5)", Decimal("2.5")),
        ("abs(-3)", Decimal(3)),
        ("abs(0 - 0)", Decimal(0)),
        ("round(2.5)", Decimal(3)),  # half up, not banker's rounding
        ("round(-2.5)", Decimal(-3)),  # half away from zero
        ("round(1.25, 1)", Decimal("1.3")),
        ("round(1.249, 2)", Decimal("1.25")),
        ("floor(2.5)", Decimal(2)),
        ("floor(-1.5)", Decimal(-2)),
        ("ceil(2.1)", Decimal(3)),
        ("ceil(-1.5)", Decimal(-1)),
        ("clamp(5, 0, 3)", Decimal(3)),
        ("clamp(-1, 0, 3)", Decimal(0)),
        ("clamp(x, 0, 3)", Decimal("2.5")),
    ],
)
def test_functions(source: str, expected: Decimal) -> None:
    assert evaluate(source, x="2.5") == expected


def test_function_table_is_the_documented_whitelist() -> None:
    assert sorted(FUNCTIONS) == ["abs", "ceil", "clamp", "floor", "max", "min", "round"]


@pytest.mark.parametrize("name", ["min", "max"])
def test_min_max_need_two_values(name: str) -> None:
    error = refused(f"{name}(x)")
    assert error.codes == ("formula.arity",)
    assert error.issues[0].message == f"{name}() takes at least 2 arguments, got 1"


# --------------------------------------------------------------------------- types


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("1 + True", "right side of '+' must be a number, not a boolean"),
        ("flag * 2", "left side of '*' must be a number, not a boolean"),
        ("not x", "'not' operand must be a boolean, not a number"),
        ("flag and x", "'and' / 'or' operand must be a boolean, not a number"),
        ("1 if x else 2", "condition of 'if' must be a boolean, not a number"),
        ("1 if flag else False", "the two branches of 'if' differ: number and boolean"),
        ("x == 'a'", "'==' compares a number with a text"),
        ("level < 'a'", "left side of '<' must be a number, not a text"),
        ("abs(flag)", "argument of abs() must be a number, not a boolean"),
        ("-flag", "sign operand must be a number, not a boolean"),
    ],
)
def test_type_errors(source: str, message: str) -> None:
    error = refused(source)
    assert error.codes[0] == "formula.type"
    assert error.issues[0].message == message


def test_type_error_hints() -> None:
    assert refused("1 + flag").issues[0].hint == (
        "write '1 if flag else 0' to turn a boolean into a number"
    )
    assert refused("not x").issues[0].hint == "compare it, e.g. 'x > 0'"


def test_expected_result_type() -> None:
    error = refused("x > 1", expect=ValueType.NUMBER)
    assert error.codes == ("formula.type",)
    assert error.issues[0].message == "formula gives a boolean, but a number is needed here"
    formula = compile_formula("x > 1", SYMBOLS, expect=(ValueType.NUMBER, ValueType.BOOLEAN))
    assert formula.type is ValueType.BOOLEAN


def test_static_types_and_names() -> None:
    formula = compile_formula("x / y if flag else rate", SYMBOLS)
    assert formula.type is ValueType.NUMBER
    assert formula.names == frozenset({"x", "y", "flag", "rate"})
    assert compile_formula("level == '好'", SYMBOLS).type is ValueType.BOOLEAN


def test_without_symbols_any_name_is_a_number() -> None:
    formula = compile_formula("a + b")
    assert formula.names == frozenset({"a", "b"})
    assert formula.evaluate({"a": Decimal(1), "b": Decimal(2)}) == 3


def test_choice_option_checked() -> None:
    error = refused("level == '很好'")
    assert error.codes == ("formula.unknown_option",)
    assert error.issues[0].message == "'很好' is not an option of 'level'"
    assert error.issues[0].hint == "did you mean '好'?"
    assert refused("level == 'xyz'").issues[0].hint == "options are '好', '较好', '一般', '差'"


# --------------------------------------------------------------------------- names


def test_unknown_name_suggests_the_closest() -> None:
    error = refused("rtae * 100")
    assert error.codes == ("formula.unknown_name",)
    assert error.issues[0].message == "unknown name 'rtae'"
    assert error.issues[0].hint == "did you mean 'rate'?"
    assert str(error) == (
        "<input>: unknown name 'rtae' [formula.unknown_name]\n"
        "    rtae * 100\n"
        "    ^^^^\n"
        "    hint: did you mean 'rate'?"
    )


def test_unknown_name_without_a_close_match() -> None:
    error = refused("zzzzzz + 1")
    assert error.issues[0].hint == "declare it under 'inputs' or 'derived'"


def test_lowercase_true_gets_a_boolean_hint() -> None:
    error = refused("true")
    assert error.codes == ("formula.unknown_name",)
    assert error.issues[0].hint == "write True or False for booleans"


def test_every_unknown_name_is_reported() -> None:
    error = refused("aaa + bbb * ccc")
    assert error.codes == ("formula.unknown_name",) * 3


# --------------------------------------------------------------------------- forbidden


@pytest.mark.parametrize(
    ("source", "code", "message"),
    [
        ("(1).__class__", "formula.forbidden", "attribute access not allowed in formulas"),
        ("x.real", "formula.forbidden", "attribute access not allowed in formulas"),
        (
            "__class__",
            "formula.forbidden",
            "name '__class__' not allowed: names starting with '_' are reserved",
        ),
        (
            "_x + 1",
            "formula.forbidden",
            "name '_x' not allowed: names starting with '_' are reserved",
        ),
        ("lambda: 1", "formula.forbidden", "lambdas not allowed in formulas"),
        ("[x for x in y]", "formula.forbidden", "comprehensions not allowed in formulas"),
        ("sum(i for i in x)", "formula.unknown_function", "function 'sum' not allowed"),
        ("{x for x in y}", "formula.forbidden", "comprehensions not allowed in formulas"),
        ("x[0]", "formula.forbidden", "subscripts not allowed in formulas"),
        ("[1, 2]", "formula.forbidden", "lists not allowed in formulas"),
        ("(1, 2)", "formula.forbidden", "tuples not allowed in formulas"),
        ("{1: 2}", "formula.forbidden", "dicts not allowed in formulas"),
        ("f'{x}'", "formula.forbidden", "f-strings not allowed in formulas"),
        ("(y := 1)", "formula.forbidden", "assignment expressions not allowed in formulas"),
        ('open("x")', "formula.unknown_function", "function 'open' not allowed"),
        ("__import__('os')", "formula.unknown_function", "function '__import__' not allowed"),
        ("eval('1')", "formula.unknown_function", "function 'eval' not allowed"),
        ("x.__class__.__bases__", "formula.forbidden", "attribute access not allowed in formulas"),
        ("min(x=1)", "formula.forbidden", "keyword arguments not allowed"),
        ("min(*x)", "formula.forbidden", "starred arguments not allowed in formulas"),
        ("(lambda: 1)()", "formula.forbidden", "lambdas not allowed in formulas"),
        ("None", "formula.forbidden", "literal None not allowed"),
        ("b'x'", "formula.forbidden", "literal b'x' not allowed"),
        ("1j", "formula.forbidden", "literal 1j not allowed"),
        ("7 // 2", "formula.forbidden", "operator // not allowed"),
        ("7 % 2", "formula.forbidden", "operator % not allowed"),
        ("~1", "formula.forbidden", "bitwise operators not allowed"),
        ("x is 1", "formula.forbidden", "comparison Is not allowed"),
        ("x in y", "formula.forbidden", "comparison In not allowed"),
    ],
)
def test_forbidden_constructs(source: str, code: str, message: str) -> None:
    error = refused(source)
    assert error.codes[0] == code
    assert error.issues[0].message == message


def test_unknown_function_suggests_a_whitelisted_one() -> None:
    error = refused("mn(x, 1)")
    assert error.codes == ("formula.unknown_function",)
    assert error.issues[0].hint == "did you mean 'min'?"
    assert refused("open('x')").issues[0].hint == (
        "allowed functions: abs, ceil, clamp, floor, max, min, round"
    )


def test_forbidden_construct_is_underlined() -> None:
    error = refused("x + (1).__class__")
    assert str(error).splitlines()[1:3] == [
        "    x + (1).__class__",
        "        ^^^^^^^^^^^^^",
    ]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("min()", "min() takes at least 2 arguments, got 0"),
        ("abs(1, 2)", "abs() takes 1 argument, got 2"),
        ("clamp(1, 2)", "clamp() takes 3 arguments, got 2"),
        ("round(1, 2, 3)", "round() takes 1 to 2 arguments, got 3"),
        ("round(x, x)", "round() places must be a whole number literal from 0 to 10"),
        ("round(x, 11)", "round() places must be a whole number literal from 0 to 10"),
        ("round(x, 1.5)", "round() places must be a whole number literal from 0 to 10"),
    ],
)
def test_arity(source: str, message: str) -> None:
    error = refused(source)
    assert error.codes == ("formula.arity",)
    assert error.issues[0].message == message


# --------------------------------------------------------------------------- bounds


def test_huge_power_refused_at_load() -> None:
    error = refused("3999999**3999999")
    assert error.codes == ("formula.exponent_too_large",)
    assert str(error) == (
        "<input>: exponent 3999999 not allowed: it must be a whole number within ±100 "
        "[formula.exponent_too_large]\n"
        "    3999999**3999999\n"
        "             ^^^^^^^"
    )


@pytest.mark.parametrize("source", ["2 ** 101", "2 ** 0.5", "x ** 1000"])
def test_exponent_bounds(source: str) -> None:
    assert refused(source).codes == ("formula.exponent_too_large",)


def test_exponent_computed_at_run_time_is_bounded() -> None:
    formula = compile_formula("2 ** (x * 2)", SYMBOLS)
    assert formula.evaluate({"x": Decimal(50)}) == Decimal(2**100)
    with pytest.raises(EvaluationError) as info:
        formula.evaluate({"x": Decimal(51)})
    assert info.value.codes == ("evaluation.power",)
    assert info.value.issues[0].message == "exponent 102 is not a whole number within ±100"


def test_overflow_is_an_evaluation_error() -> None:
    formula = compile_formula("((10 ** 100) ** 100) ** 100")
    with pytest.raises(EvaluationError) as info:
        formula.evaluate({})
    assert info.value.codes == ("evaluation.overflow",)


@pytest.mark.parametrize(
    "source",
    ["1" * 31, "1" * 20 + "." + "1" * 11, "1e31", "1e99999", "9" * 400],
)
def test_huge_literals_refused(source: str) -> None:
    assert refused(source).codes == ("formula.literal_too_large",)


def test_longest_literal_accepted() -> None:
    assert evaluate("1" * 30) == Decimal("1" * 30)


def test_long_string_literal_refused() -> None:
    error = refused("level == '" + "好" * 201 + "'")
    assert error.codes[0] == "formula.literal_too_large"
    assert error.issues[0].message == "string literal too long"


def test_too_long_refused() -> None:
    source = "+".join(["x"] * (MAX_LENGTH // 2 + 1))
    assert len(source) > MAX_LENGTH
    error = refused(source)
    assert error.codes == ("formula.too_long",)
    assert error.issues[0].message == (
        f"formula is {len(source)} characters long; at most {MAX_LENGTH} allowed"
    )


def test_too_deep_refused() -> None:
    source = "-" * (MAX_DEPTH + 5) + "1"
    assert set(refused(source).codes) == {"formula.too_deep"}


def test_parentheses_alone_do_not_nest() -> None:
    assert evaluate("(" * 60 + "1" + ")" * 60) == 1


def test_nesting_that_breaks_the_parser_is_refused() -> None:
    # Python's own parser gives up on very deep nesting: still a FormulaError.
    error = refused("(" * 300 + "1" + ")" * 300)
    assert error.codes in (("formula.too_deep",), ("formula.syntax",))


def test_too_complex_refused() -> None:
    source = "min(" + ", ".join(["x"] * MAX_NODES) + ")"
    assert len(source) <= MAX_LENGTH
    error = refused(source)
    assert error.codes == ("formula.too_complex",)
    assert error.issues[0].message == f"formula has {MAX_NODES + 1} parts; at most 400 allowed"


def test_too_deep_reported_once() -> None:
    assert refused("+".join(["1"] * 60)).codes == ("formula.too_deep",)


# --------------------------------------------------------------------------- syntax


@pytest.mark.parametrize("source", ["", "   ", "1 +", "x y", "(x", "x = 1", "if x: 1"])
def test_syntax_errors(source: str) -> None:
    assert refused(source).codes == ("formula.syntax",)


def test_empty_formula_message() -> None:
    assert refused("").issues[0].message == "empty formula"


# --------------------------------------------------------------------------- evaluation errors


def test_division_by_zero_is_located() -> None:
    formula = compile_formula("x / (y - y)", SYMBOLS)
    with pytest.raises(EvaluationError) as info:
        formula.evaluate({"x": Decimal(1), "y": Decimal(2)})
    error = info.value
    assert error.codes == ("evaluation.division_by_zero",)
    assert error.issues[0].location.span == (5, 10)
    assert str(error) == (
        "<input>: division by zero [evaluation.division_by_zero]\n"
        "    x / (y - y)\n"
        "         ^^^^^\n"
        "    hint: declare 'on_zero_division' for this value, or guard it with 'if'"
    )


def test_division_by_zero_located_from_origin() -> None:
    origin = Location(file="r.yaml", line=7, column=16, path=("derived", "rate", "formula"))
    formula = compile_formula("x / y", SYMBOLS, origin=origin)
    with pytest.raises(EvaluationError) as info:
        formula.evaluate({"x": Decimal(1), "y": Decimal(0)})
    location = info.value.issues[0].location
    assert (location.file, location.line, location.column) == ("r.yaml", 7, 20)
    assert str(info.value).splitlines()[0] == (
        "r.yaml:7:20: derived.rate.formula: division by zero [evaluation.division_by_zero]"
    )


def test_zero_over_zero_is_a_division_by_zero() -> None:
    formula = compile_formula("x / y", SYMBOLS)
    with pytest.raises(EvaluationError) as info:
        formula.evaluate({"x": Decimal(0), "y": Decimal(0)})
    assert info.value.codes == ("evaluation.division_by_zero",)


def test_missing_value_is_an_evaluation_error() -> None:
    formula = compile_formula("x + 1", SYMBOLS)
    with pytest.raises(EvaluationError) as info:
        formula.evaluate({})
    assert info.value.codes == ("evaluation.missing_value",)


def test_interpret_and_evaluate_agree_on_division_by_zero() -> None:
    formula = compile_formula("1 + x / y", SYMBOLS)
    values = {"x": Decimal(1), "y": Decimal(0)}
    with pytest.raises(EvaluationError) as fast:
        formula.evaluate(values)
    with pytest.raises(EvaluationError) as slow:
        formula.interpret(values)
    assert str(fast.value) == str(slow.value)


@pytest.mark.parametrize(
    ("source", "values"),
    [("x ** 0", {"x": Decimal(0)}), ("round(x, 2)", {"x": Decimal("1e50")})],
)
def test_interpret_never_leaks_decimal_errors(source: str, values: dict[str, Decimal]) -> None:
    formula = compile_formula(source, SYMBOLS)
    with pytest.raises(EvaluationError) as slow:
        formula.interpret(values)
    with pytest.raises(EvaluationError) as fast:
        formula.evaluate(values)
    assert slow.value.codes == fast.value.codes == ("evaluation.arithmetic",)
    assert str(slow.value) == str(fast.value)


def test_zero_to_the_power_zero_is_located() -> None:
    with pytest.raises(EvaluationError) as info:
        compile_formula("x ** 0", SYMBOLS).evaluate({"x": Decimal(0)})
    assert str(info.value) == (
        "<input>: 0 ** 0 is undefined [evaluation.arithmetic]\n    x ** 0\n    ^^^^^^"
    )


def test_interpret_missing_value() -> None:
    with pytest.raises(EvaluationError) as info:
        compile_formula("x + 1", SYMBOLS).interpret({})
    assert info.value.codes == ("evaluation.missing_value",)


def test_zero_to_a_negative_power() -> None:
    formula = compile_formula("x ** -1", SYMBOLS)
    with pytest.raises(EvaluationError) as info:
        formula.evaluate({"x": Decimal(0)})
    assert info.value.codes == ("evaluation.division_by_zero",)


@pytest.mark.parametrize("source", ["0x10", "0o17", "0b101"])
def test_non_decimal_literals_agree_or_are_refused(source: str) -> None:
    try:
        formula = compile_formula(source)
    except FormulaError:
        return
    assert formula.reference_evaluate({}) == formula.evaluate({})


# --------------------------------------------------------------------------- the object


def test_formula_equality_and_hash_follow_the_source() -> None:
    a = compile_formula("x + 1", SYMBOLS)
    b = compile_formula("  x + 1  ", SYMBOLS)
    assert a == b
    assert hash(a) == hash(b)
    assert a != compile_formula("x + 2", SYMBOLS)
    assert isinstance(a, Formula)
    assert a.source == "x + 1"


def test_every_problem_reported_at_once() -> None:
    error = refused("speeed + open(1) + (1).__class__ + 1 // 2")
    assert set(error.codes) == {
        "formula.unknown_name",
        "formula.unknown_function",
        "formula.forbidden",
    }
    assert len(error.issues) == 4
    assert str(error).startswith("4 problems:\n")


def test_generated_code_sees_no_builtins() -> None:
    # The fast path runs generated code with empty builtins: a name that slipped through
    # the checker could not reach them. Without symbols every name is a value to look up.
    formula = compile_formula("open")
    with pytest.raises(EvaluationError) as info:
        formula.evaluate({})
    assert info.value.codes == ("evaluation.missing_value",)
