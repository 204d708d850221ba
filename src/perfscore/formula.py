"""Safe formulas: parsed and checked once, then evaluated many times with exact decimals.

The language is a small, allow-listed subset of Python expression syntax:

* numbers (every literal is a :class:`~decimal.Decimal`, so ``0.1 + 0.2 == 0.3``),
  ``True`` / ``False``, and string literals (only to compare with a choice input);
* ``+ - * / **`` and unary ``-``, ``< <= > >= == !=`` (chains allowed),
  ``and or not`` and ``x if cond else y``;
* the functions ``min max abs round floor ceil clamp``;
* names of the rubric's declared inputs and derived values, nothing else.

Anything else (attribute access, subscripts, lambdas, comprehensions, calls off the list,
names starting with ``_``) is refused when the rubric loads, as are huge literals,
exponents and deeply nested or very long expressions.

A checked formula is held in an internal form of its own (:class:`Expr` nodes, not
simpleeval or :mod:`ast` objects). From it perfscore generates a plain Python function
(the fast path), keeps a small interpreter (to locate run-time failures), and can hand the
same expression to simpleeval, the reference evaluator that the tests compare against.
"""

from __future__ import annotations

import ast
import dataclasses
import decimal
import enum
import functools
import io
import operator
import threading
import tokenize
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final, overload

from . import i18n
from ._numbers import ENGINE_CONTEXT, ZERO, round_decimal
from ._suggest import did_you_mean
from .errors import EvaluationError, FormulaError, Issue, Location
from .i18n import msg

__all__ = [
    "FUNCTIONS",
    "Formula",
    "Symbol",
    "ValueType",
    "compile_formula",
]

#: Bounds on what a formula may be; anything past them is refused at load time.
MAX_LENGTH: Final = 2000
MAX_DEPTH: Final = 40
MAX_NODES: Final = 400
MAX_LITERAL_DIGITS: Final = 30
MAX_EXPONENT: Final = 100

Value = Decimal | bool | str


class ValueType(enum.Enum):
    """The static type of a formula or of a name it reads."""

    NUMBER = "number"
    BOOLEAN = "boolean"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class Symbol:
    """What a formula may know about a name: its type, and for a choice its options."""

    type: ValueType
    options: tuple[str, ...] | None = None


# --------------------------------------------------------------------------- IR nodes


@dataclass(frozen=True, slots=True)
class Const:
    value: Value
    span: tuple[int, int]


@dataclass(frozen=True, slots=True)
class Name:
    id: str
    span: tuple[int, int]


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "-", "+", "not"
    operand: Expr
    span: tuple[int, int]


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # "+", "-", "*", "/", "**"
    left: Expr
    right: Expr
    span: tuple[int, int]


@dataclass(frozen=True, slots=True)
class Compare:
    ops: tuple[str, ...]  # "<", "<=", ">", ">=", "==", "!="
    operands: tuple[Expr, ...]
    span: tuple[int, int]


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: str  # "and", "or"
    values: tuple[Expr, ...]
    span: tuple[int, int]


@dataclass(frozen=True, slots=True)
class IfElse:
    test: Expr
    body: Expr
    orelse: Expr
    span: tuple[int, int]


@dataclass(frozen=True, slots=True)
class Call:
    func: str
    args: tuple[Expr, ...]
    span: tuple[int, int]


Expr = Const | Name | Unary | Binary | Compare | BoolOp | IfElse | Call

# --------------------------------------------------------------------------- functions


def _floor(x: Decimal) -> Decimal:
    return x.to_integral_value(rounding=decimal.ROUND_FLOOR, context=ENGINE_CONTEXT)


def _ceil(x: Decimal) -> Decimal:
    return x.to_integral_value(rounding=decimal.ROUND_CEILING, context=ENGINE_CONTEXT)


def _round(x: Decimal, places: Decimal = Decimal(0)) -> Decimal:
    return round_decimal(x, int(places), "half_up")


def _clamp(x: Decimal, lo: Decimal, hi: Decimal) -> Decimal:
    return lo if x < lo else hi if x > hi else x


def _pow(base: Decimal, exponent: Decimal) -> Decimal:
    if exponent != exponent.to_integral_value() or abs(exponent) > MAX_EXPONENT:
        raise _PowerRefused
    if not base and exponent < 0:  # Decimal gives Infinity here, silently
        raise decimal.DivisionByZero
    return base**exponent


class _PowerRefused(ArithmeticError):
    """An exponent that is not a whole number within the bound."""


@dataclass(frozen=True, slots=True)
class _Function:
    impl: Callable[..., Decimal]
    min_args: int
    max_args: int | None
    signature: str


#: The whitelisted functions, their arity and what they do.
FUNCTIONS: Final[Mapping[str, _Function]] = {
    "min": _Function(min, 2, None, "min(x, y, ...): the smallest"),
    "max": _Function(max, 2, None, "max(x, y, ...): the largest"),
    "abs": _Function(abs, 1, 1, "abs(x): the absolute value"),
    "round": _Function(_round, 1, 2, "round(x, places=0): half-up to places decimals"),
    "floor": _Function(_floor, 1, 1, "floor(x): the largest whole number <= x"),
    "ceil": _Function(_ceil, 1, 1, "ceil(x): the smallest whole number >= x"),
    "clamp": _Function(_clamp, 3, 3, "clamp(x, lo, hi): x kept within [lo, hi]"),
}

_BINOPS: Final[dict[type[ast.operator], str]] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Pow: "**",
}
_CMPOPS: Final[dict[type[ast.cmpop], str]] = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
}
#: What a forbidden construct is called: the key of its name in the catalogue.
_FORBIDDEN_WHAT: Final[dict[type[ast.AST], str]] = {
    ast.Attribute: "construct.attribute",
    ast.Subscript: "construct.subscript",
    ast.Lambda: "construct.lambda",
    ast.ListComp: "construct.comprehension",
    ast.SetComp: "construct.comprehension",
    ast.DictComp: "construct.comprehension",
    ast.GeneratorExp: "construct.comprehension",
    ast.NamedExpr: "construct.assignment",
    ast.Starred: "construct.starred",
    ast.List: "construct.list",
    ast.Tuple: "construct.tuple",
    ast.Dict: "construct.dict",
    ast.Set: "construct.set",
    ast.JoinedStr: "construct.fstring",
    ast.Await: "construct.await",
    ast.Yield: "construct.yield",
    ast.YieldFrom: "construct.yield",
    ast.Slice: "construct.slice",
}


def _what(node: type[ast.AST], default: str | None = None) -> dict[str, Any]:
    """The name of a forbidden construct, as a text of the catalogue."""
    key = _FORBIDDEN_WHAT.get(node, default)
    return msg(key) if key is not None else msg("text", text=node.__name__)


# --------------------------------------------------------------------------- checking


@dataclass
class _Checker:
    source: str
    symbols: Mapping[str, Symbol] | None
    origin: Location
    position: Position | None = None
    issues: list[Issue] = field(default_factory=list)
    constants: list[Value] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    nodes: int = 0
    _line_starts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        starts = [0]
        for i, ch in enumerate(self.source):
            if ch == "\n":
                starts.append(i + 1)
        self._line_starts = starts

    # -- locations ------------------------------------------------------------------
    def span_of(self, node: ast.AST) -> tuple[int, int]:
        line = getattr(node, "lineno", 1)
        col = getattr(node, "col_offset", 0)
        end_line = getattr(node, "end_lineno", line) or line
        end_col = getattr(node, "end_col_offset", col) or col
        start = self._offset(line, col)
        end = self._offset(end_line, end_col)
        return (start, max(end, start + 1))

    def _offset(self, line: int, col: int) -> int:
        # ast columns are UTF-8 byte offsets; convert to character offsets.
        base = self._line_starts[min(line, len(self._line_starts)) - 1]
        text = self.source[base:]
        return base + len(text.encode("utf-8")[:col].decode("utf-8", errors="ignore"))

    def issue(
        self,
        code: str,
        message: str | Mapping[str, Any],
        span: tuple[int, int],
        hint: str | Mapping[str, Any] | None,
    ) -> None:
        self.issues.append(
            make_issue(code, message, self.source, span, self.origin, hint, self.position)
        )

    # -- the walk -------------------------------------------------------------------
    def check(self, node: ast.AST, depth: int) -> tuple[Expr | None, ValueType | None]:
        """Convert one node to IR and infer its type; ``None`` marks an error already filed."""
        self.nodes += 1
        span = self.span_of(node)
        if depth > MAX_DEPTH:
            if not any(i.code == "formula.too_deep" for i in self.issues):  # once is enough
                self.issue(
                    "formula.too_deep",
                    msg("formula.nests_deeper", limit=MAX_DEPTH),
                    span,
                    msg("hint.split_formula"),
                )
            return None, None
        if isinstance(node, ast.Constant):
            return self._constant(node, span)
        if isinstance(node, ast.Name):
            return self._name(node, span)
        if isinstance(node, ast.UnaryOp):
            return self._unary(node, span, depth)
        if isinstance(node, ast.BinOp):
            return self._binary(node, span, depth)
        if isinstance(node, ast.Compare):
            return self._compare(node, span, depth)
        if isinstance(node, ast.BoolOp):
            parts = [self.check(v, depth + 1) for v in node.values]
            for (_, t), v in zip(parts, node.values, strict=True):
                self._expect(t, ValueType.BOOLEAN, v, msg("operand.and_or"))
            op = "and" if isinstance(node.op, ast.And) else "or"
            return self._build(parts, lambda xs: BoolOp(op, tuple(xs), span), ValueType.BOOLEAN)
        if isinstance(node, ast.IfExp):
            return self._ifexp(node, span, depth)
        if isinstance(node, ast.Call):
            return self._call(node, span, depth)
        self.issue(
            "formula.forbidden",
            msg("formula.not_allowed", what=_what(type(node))),
            span,
            msg("formula.allowed.hint"),
        )
        return None, None

    def _constant(
        self, node: ast.Constant, span: tuple[int, int]
    ) -> tuple[Expr | None, ValueType | None]:
        value = node.value
        if isinstance(value, bool):
            return Const(value, span), ValueType.BOOLEAN
        if isinstance(value, str):
            if len(value) > 200:
                self.issue("formula.literal_too_large", msg("formula.long_string"), span, None)
                return None, ValueType.TEXT
            return Const(value, span), ValueType.TEXT
        if isinstance(value, int | float):
            text = self.source[span[0] : span[1]]
            digits = sum(ch.isdigit() for ch in text)
            if digits > MAX_LITERAL_DIGITS or (isinstance(value, float) and "e" in text.lower()):
                bad = digits > MAX_LITERAL_DIGITS or abs(value) > 1e30
                if bad:
                    self.issue(
                        "formula.literal_too_large",
                        msg(
                            "formula.long_number",
                            number=text[:20] + ("..." if len(text) > 20 else ""),
                            limit=MAX_LITERAL_DIGITS,
                        ),
                        span,
                        None,
                    )
                    return None, ValueType.NUMBER
            try:
                number = Decimal(text.replace("_", ""))
            except decimal.InvalidOperation:  # 0x10, 0o17, 0b101
                self.issue(
                    "formula.forbidden",
                    msg("formula.not_decimal", number=repr(text)),
                    span,
                    None,
                )
                return None, ValueType.NUMBER
            return Const(number, span), ValueType.NUMBER
        self.issue("formula.forbidden", msg("formula.literal", value=repr(value)), span, None)
        return None, None

    def _name(self, node: ast.Name, span: tuple[int, int]) -> tuple[Expr | None, ValueType | None]:
        name = node.id
        if name.startswith("_"):
            self.issue(
                "formula.forbidden",
                msg("formula.reserved_name", name=repr(name)),
                span,
                None,
            )
            return None, None
        if self.symbols is None:
            self.names.add(name)
            return Name(name, span), ValueType.NUMBER
        symbol = self.symbols.get(name)
        if symbol is None:
            hint = did_you_mean(name, self.symbols)
            if name in ("true", "false", "none", "None", "null"):
                hint = msg("hint.booleans")
            self.issue(
                "formula.unknown_name",
                msg("formula.unknown_name", name=repr(name)),
                span,
                hint or msg("formula.unknown_name.hint"),
            )
            return None, None
        self.names.add(name)
        return Name(name, span), symbol.type

    def _unary(
        self, node: ast.UnaryOp, span: tuple[int, int], depth: int
    ) -> tuple[Expr | None, ValueType | None]:
        operand, t = self.check(node.operand, depth + 1)
        if isinstance(node.op, ast.Not):
            self._expect(t, ValueType.BOOLEAN, node.operand, msg("operand.not"))
            op, result = "not", ValueType.BOOLEAN
        elif isinstance(node.op, ast.USub | ast.UAdd):
            self._expect(t, ValueType.NUMBER, node.operand, msg("operand.sign"))
            op, result = ("-" if isinstance(node.op, ast.USub) else "+"), ValueType.NUMBER
        else:
            self.issue("formula.forbidden", msg("formula.bitwise"), span, None)
            return None, None
        if operand is None:
            return None, result
        return Unary(op, operand, span), result

    def _binary(
        self, node: ast.BinOp, span: tuple[int, int], depth: int
    ) -> tuple[Expr | None, ValueType | None]:
        op = _BINOPS.get(type(node.op))
        if op is None:
            symbol = {ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@"}.get(type(node.op), "")
            self.issue(
                "formula.forbidden",
                msg("formula.operator", operator=symbol or type(node.op).__name__),
                span,
                msg("formula.operator.hint"),
            )
            return None, None
        left = self.check(node.left, depth + 1)
        right = self.check(node.right, depth + 1)
        self._expect(left[1], ValueType.NUMBER, node.left, msg("operand.left", op=op))
        self._expect(right[1], ValueType.NUMBER, node.right, msg("operand.right", op=op))
        if op == "**" and isinstance(right[0], Const) and isinstance(right[0].value, Decimal):
            exp = right[0].value
            if exp != exp.to_integral_value() or abs(exp) > MAX_EXPONENT:
                self.issue(
                    "formula.exponent_too_large",
                    msg("formula.exponent", exponent=str(exp), limit=MAX_EXPONENT),
                    right[0].span,
                    None,
                )
                return None, ValueType.NUMBER
        return self._build(
            [left, right], lambda xs: Binary(op, xs[0], xs[1], span), ValueType.NUMBER
        )

    def _compare(
        self, node: ast.Compare, span: tuple[int, int], depth: int
    ) -> tuple[Expr | None, ValueType | None]:
        ops: list[str] = []
        for cmp in node.ops:
            sym = _CMPOPS.get(type(cmp))
            if sym is None:
                self.issue(
                    "formula.forbidden",
                    msg("formula.comparison", comparison=type(cmp).__name__),
                    span,
                    msg("formula.comparison.hint"),
                )
                return None, None
            ops.append(sym)
        nodes = [node.left, *node.comparators]
        parts = [self.check(n, depth + 1) for n in nodes]
        for i, sym in enumerate(ops):
            (_, lt), (_, rt) = parts[i], parts[i + 1]
            if sym in ("<", "<=", ">", ">="):
                self._expect(lt, ValueType.NUMBER, nodes[i], msg("operand.left", op=sym))
                self._expect(rt, ValueType.NUMBER, nodes[i + 1], msg("operand.right", op=sym))
            elif lt is not None and rt is not None and lt != rt:
                self.issue(
                    "formula.type",
                    msg("formula.compare_types", op=sym, left=_type(lt), right=_type(rt)),
                    self.span_of(node),
                    None,
                )
            else:
                self._check_option(nodes[i], nodes[i + 1])
                self._check_option(nodes[i + 1], nodes[i])
        return self._build(
            parts, lambda xs: Compare(tuple(ops), tuple(xs), span), ValueType.BOOLEAN
        )

    def _check_option(self, name_node: ast.AST, literal: ast.AST) -> None:
        if not (isinstance(name_node, ast.Name) and isinstance(literal, ast.Constant)):
            return
        if self.symbols is None or not isinstance(literal.value, str):
            return
        symbol = self.symbols.get(name_node.id)
        if symbol is None or symbol.options is None or literal.value in symbol.options:
            return
        options = ", ".join(repr(o) for o in symbol.options)
        self.issue(
            "formula.unknown_option",
            msg("formula.unknown_option", value=repr(literal.value), name=repr(name_node.id)),
            self.span_of(literal),
            did_you_mean(literal.value, symbol.options) or msg("hint.options", options=options),
        )

    def _ifexp(
        self, node: ast.IfExp, span: tuple[int, int], depth: int
    ) -> tuple[Expr | None, ValueType | None]:
        test = self.check(node.test, depth + 1)
        body = self.check(node.body, depth + 1)
        orelse = self.check(node.orelse, depth + 1)
        self._expect(test[1], ValueType.BOOLEAN, node.test, msg("operand.condition"))
        if body[1] is not None and orelse[1] is not None and body[1] != orelse[1]:
            self.issue(
                "formula.type",
                msg("formula.branches", body=_type(body[1]), orelse=_type(orelse[1])),
                span,
                None,
            )
        return self._build(
            [test, body, orelse], lambda xs: IfElse(xs[0], xs[1], xs[2], span), body[1]
        )

    def _call(
        self, node: ast.Call, span: tuple[int, int], depth: int
    ) -> tuple[Expr | None, ValueType | None]:
        if not isinstance(node.func, ast.Name):
            what = _what(type(node.func), "construct.call")
            self.issue("formula.forbidden", msg("formula.not_allowed", what=what), span, None)
            return None, None
        name = node.func.id
        spec = FUNCTIONS.get(name)
        if spec is None:
            self.issue(
                "formula.unknown_function",
                msg("formula.function", name=repr(name)),
                self.span_of(node.func),
                did_you_mean(name, FUNCTIONS)
                or msg("formula.function.hint", functions=", ".join(sorted(FUNCTIONS))),
            )
            return None, None
        if node.keywords:
            self.issue("formula.forbidden", msg("formula.keywords"), span, spec.signature)
            return None, None
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                self.issue(
                    "formula.forbidden",
                    msg("formula.not_allowed", what=msg("construct.starred")),
                    span,
                    None,
                )
                return None, None
        n = len(node.args)
        if n < spec.min_args or (spec.max_args is not None and n > spec.max_args):
            self.issue(
                "formula.arity",
                msg("formula.arity", function=name, arity=_arity(spec), count=n),
                span,
                spec.signature,
            )
            return None, ValueType.NUMBER
        if name == "round" and n == 2:
            places = node.args[1]
            if not (
                isinstance(places, ast.Constant)
                and type(places.value) is int
                and 0 <= places.value <= 10
            ):
                self.issue(
                    "formula.arity",
                    msg("formula.round_places"),
                    self.span_of(places),
                    spec.signature,
                )
                return None, ValueType.NUMBER
        parts = [self.check(a, depth + 1) for a in node.args]
        for (_, t), a in zip(parts, node.args, strict=True):
            self._expect(t, ValueType.NUMBER, a, msg("operand.argument", function=name))
        return self._build(parts, lambda xs: Call(name, tuple(xs), span), ValueType.NUMBER)

    # -- helpers --------------------------------------------------------------------
    def _expect(
        self, got: ValueType | None, want: ValueType, node: ast.AST, what: dict[str, Any]
    ) -> None:
        if got is not None and got != want:
            self.issue(
                "formula.type",
                msg("formula.must_be", what=what, want=_type(want), got=_type(got)),
                self.span_of(node),
                _type_hint(got, want),
            )

    @staticmethod
    def _build(
        parts: Sequence[tuple[Expr | None, ValueType | None]],
        make: Callable[[list[Expr]], Expr],
        result: ValueType | None,
    ) -> tuple[Expr | None, ValueType | None]:
        exprs = [p[0] for p in parts]
        if any(e is None for e in exprs):
            return None, result
        return make([e for e in exprs if e is not None]), result


def _arity(spec: _Function) -> dict[str, Any]:
    plural = "" if spec.min_args == 1 else "s"
    if spec.max_args is None:
        return msg(f"arity.at_least{plural}", count=spec.min_args)
    if spec.min_args == spec.max_args:
        return msg(f"arity.exactly{plural}", count=spec.min_args)
    return msg("arity.between", low=spec.min_args, high=spec.max_args)


def _type(value_type: ValueType) -> dict[str, Any]:
    """The name of a value type (number, boolean, text), as a text of the catalogue."""
    return msg(f"type.{value_type.value}")


def _type_hint(got: ValueType, want: ValueType) -> dict[str, Any] | None:
    if got is ValueType.BOOLEAN and want is ValueType.NUMBER:
        return msg("hint.boolean_to_number")
    if got is ValueType.NUMBER and want is ValueType.BOOLEAN:
        return msg("hint.compare_it")
    if got is ValueType.TEXT:
        return msg("hint.compare_choice")
    return None


#: Maps an offset in a formula's text to the (line, column) of that character in its file.
Position = Callable[[int], tuple[int, int] | None]


PARSE_LOCK: Final = threading.Lock()


def parse_expression(text: str) -> ast.Expression:
    """``ast.parse`` in eval mode, one thread at a time: CPython 3.11 and 3.12 can fail
    with "AST constructor recursion depth mismatch" (a SystemError) when threads parse at
    once. Only loading parses; scoring runs generated code and takes no lock."""
    with PARSE_LOCK:
        return ast.parse(text, mode="eval")


def make_issue(
    code: str,
    message: str | Mapping[str, Any],
    source: str,
    span: tuple[int, int],
    origin: Location,
    hint: str | Mapping[str, Any] | None,
    position: Position | None = None,
) -> Issue:
    """An issue pointing at ``span`` inside the formula ``source`` found at ``origin``.

    ``position``, when given, places the span in the file exactly, however the formula was
    written there (over several lines, folded, in a block); otherwise the formula is taken
    to start at ``origin``.
    """
    line_start = source.rfind("\n", 0, span[0]) + 1
    line_end = source.find("\n", span[0])
    line_end = len(source) if line_end == -1 else line_end
    line_no = source.count("\n", 0, span[0])
    line = None if origin.line is None else origin.line + line_no
    column = origin.column
    if column is not None:
        column = (column if line_no == 0 else 1) + span[0] - line_start
    placed = position(span[0]) if position is not None else None
    if placed is not None:
        line, column = placed
    location = Location(
        file=origin.file,
        line=line,
        column=column,
        path=origin.path,
        source_line=source[line_start:line_end],
        span=(span[0] - line_start, min(span[1], line_end) - line_start),
    )
    return Issue.of(code, location, message=_as_text(message), hint=_as_text(hint))


@overload
def _as_text(text: str | Mapping[str, Any]) -> Mapping[str, Any]: ...
@overload
def _as_text(text: None) -> None: ...
def _as_text(text: str | Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """A message or hint as a text of the catalogue: plain text kept as it is written."""
    return msg("text", text=text) if isinstance(text, str) else text


# --------------------------------------------------------------------------- evaluation


class _Failure(Exception):
    """A located run-time failure, raised by the interpreter."""

    def __init__(
        self,
        code: str,
        message: dict[str, Any],
        span: tuple[int, int],
        hint: dict[str, Any] | None,
    ) -> None:
        super().__init__(message["key"])
        self.code, self.message, self.span, self.hint = code, message, span, hint


_ARITH: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "**": _pow,
}
_CMP: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


def _interpret(expr: Expr, values: Mapping[str, Value]) -> Value:
    """Walk the IR. Slow, but every failure it raises is located (a :class:`_Failure`)."""
    if isinstance(expr, Const):
        return expr.value
    if isinstance(expr, Name):
        return values[expr.id]
    if isinstance(expr, Unary):
        x = _interpret(expr.operand, values)
        if expr.op == "not":
            return not x
        assert isinstance(x, Decimal)
        return -x if expr.op == "-" else +x
    if isinstance(expr, Binary):
        left = _interpret(expr.left, values)
        right = _interpret(expr.right, values)
        if expr.op == "/" and right == 0:
            raise _Failure(
                "evaluation.division_by_zero",
                msg("evaluation.division_by_zero"),
                expr.right.span,
                msg("evaluation.division_by_zero.hint"),
            )
        try:
            return _ARITH[expr.op](left, right)  # type: ignore[no-any-return]
        except decimal.DivisionByZero:  # 0 ** -1
            raise _Failure(
                "evaluation.division_by_zero", msg("evaluation.division_by_zero"), expr.span, None
            ) from None
        except decimal.InvalidOperation:  # 0 ** 0, 0 / 0
            raise _Failure(
                "evaluation.arithmetic",
                msg("evaluation.undefined", left=str(left), op=expr.op, right=str(right)),
                expr.span,
                None,
            ) from None
        except _PowerRefused:
            raise _Failure(
                "evaluation.power",
                msg("evaluation.power", exponent=str(right), limit=MAX_EXPONENT),
                expr.right.span,
                None,
            ) from None
        except decimal.Overflow:
            raise _Failure(
                "evaluation.overflow", msg("evaluation.overflow"), expr.span, None
            ) from None
    if isinstance(expr, Compare):
        left = _interpret(expr.operands[0], values)
        for op, operand in zip(expr.ops, expr.operands[1:], strict=True):
            right = _interpret(operand, values)
            if not _CMP[op](left, right):
                return False
            left = right
        return True
    if isinstance(expr, BoolOp):
        if expr.op == "and":
            return all(_interpret(v, values) for v in expr.values)
        return any(_interpret(v, values) for v in expr.values)
    if isinstance(expr, IfElse):
        branch = expr.body if _interpret(expr.test, values) else expr.orelse
        return _interpret(branch, values)
    args = [_interpret(a, values) for a in expr.args]
    try:
        return FUNCTIONS[expr.func].impl(*args)
    except decimal.Overflow:
        raise _Failure("evaluation.overflow", msg("evaluation.overflow"), expr.span, None) from None
    except decimal.InvalidOperation:  # e.g. round() of a number with too many digits
        raise _Failure(
            "evaluation.arithmetic",
            msg("evaluation.function_failed", function=expr.func),
            expr.span,
            None,
        ) from None


def _generate(expr: Expr, consts: list[Value]) -> str:
    """Python source for ``expr``: only constants by index, names by key, our operators."""
    if isinstance(expr, Const):
        consts.append(expr.value)
        return f"K[{len(consts) - 1}]"
    if isinstance(expr, Name):
        return f"v[{expr.id!r}]"
    if isinstance(expr, Unary):
        inner = _generate(expr.operand, consts)
        return f"(not {inner})" if expr.op == "not" else f"({expr.op}{inner})"
    if isinstance(expr, Binary):
        left, right = _generate(expr.left, consts), _generate(expr.right, consts)
        return f"_pow({left}, {right})" if expr.op == "**" else f"({left} {expr.op} {right})"
    if isinstance(expr, Compare):
        parts = [_generate(expr.operands[0], consts)]
        for op, operand in zip(expr.ops, expr.operands[1:], strict=True):
            parts.extend((op, _generate(operand, consts)))
        return "(" + " ".join(parts) + ")"
    if isinstance(expr, BoolOp):
        return "(" + f" {expr.op} ".join(_generate(v, consts) for v in expr.values) + ")"
    if isinstance(expr, IfElse):
        body = _generate(expr.body, consts)
        test = _generate(expr.test, consts)
        orelse = _generate(expr.orelse, consts)
        return f"({body} if {test} else {orelse})"
    args = ", ".join(_generate(a, consts) for a in expr.args)
    return f"_fn_{expr.func}({args})"


def formula_text(expr: Expr) -> str:
    """The formula language text of ``expr``, fully parenthesised (reads back the same)."""
    if isinstance(expr, Const):
        value = expr.value
        return repr(value) if isinstance(value, bool | str) else str(value)
    if isinstance(expr, Name):
        return expr.id
    if isinstance(expr, Unary):
        inner = formula_text(expr.operand)
        return f"(not {inner})" if expr.op == "not" else f"({expr.op}{inner})"
    if isinstance(expr, Binary):
        return f"({formula_text(expr.left)} {expr.op} {formula_text(expr.right)})"
    if isinstance(expr, Compare):
        parts = [formula_text(expr.operands[0])]
        for op, operand in zip(expr.ops, expr.operands[1:], strict=True):
            parts.extend((op, formula_text(operand)))
        return "(" + " ".join(parts) + ")"
    if isinstance(expr, BoolOp):
        return "(" + f" {expr.op} ".join(formula_text(v) for v in expr.values) + ")"
    if isinstance(expr, IfElse):
        body, test = formula_text(expr.body), formula_text(expr.test)
        return f"({body} if {test} else {formula_text(expr.orelse)})"
    return f"{expr.func}({', '.join(formula_text(a) for a in expr.args)})"


def python_source(expr: Expr) -> tuple[str, list[Value]]:
    """The generated Python expression for ``expr`` and its constant table ``K``."""
    consts: list[Value] = []
    return _generate(expr, consts), consts


def _namespace(consts: Sequence[Value]) -> dict[str, Any]:
    ns: dict[str, Any] = {"__builtins__": {}, "K": tuple(consts), "_pow": _pow}
    for fname, spec in FUNCTIONS.items():
        ns[f"_fn_{fname}"] = spec.impl
    return ns


def _compile_function(expr: Expr) -> Callable[[Mapping[str, Value]], Value]:
    code, consts = python_source(expr)
    ns = _namespace(consts)
    with PARSE_LOCK:  # compiling parses too (see parse_expression)
        exec(f"def _formula(v):\n    return {code}\n", ns)  # source generated from checked IR only
    fn: Callable[[Mapping[str, Value]], Value] = ns["_formula"]
    return fn


_DECIMAL_FAILURES: Final = (ArithmeticError, decimal.InvalidOperation)


@dataclass(frozen=True, eq=False)
class Formula:
    """A checked formula, ready to evaluate many times.

    ``names`` are the declared names it reads; ``type`` is its static result type.
    """

    source: str
    expr: Expr
    names: frozenset[str]
    type: ValueType
    origin: Location = field(default_factory=Location)
    _fn: Callable[[Mapping[str, Value]], Value] = field(repr=False, default=lambda v: ZERO)
    _position: Position | None = field(repr=False, default=None)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Formula) and other.source == self.source

    def __hash__(self) -> int:
        return hash(self.source)

    def evaluate(self, values: Mapping[str, Value]) -> Value:
        """Evaluate with exact decimals. Raises :class:`EvaluationError`, located."""
        with decimal.localcontext(ENGINE_CONTEXT):
            try:
                return self._fn(values)
            except _DECIMAL_FAILURES:
                pass
            except KeyError as e:
                raise EvaluationError(
                    [Issue.of("evaluation.missing_value", self.origin, name=repr(e.args[0]))]
                ) from None
            raise self.locate_failure(values)

    def __post_init__(self) -> None:
        # The instance attribute is the generated function itself: calling it costs one
        # call, not two. The method below documents it and serves before __init__ ends.
        object.__setattr__(self, "evaluate_unchecked", self._fn)

    def evaluate_unchecked(self, values: Mapping[str, Value]) -> Value:
        """The fast path: the generated function, in the caller's decimal context."""
        return self._fn(values)

    def locate_failure(self, values: Mapping[str, Value]) -> EvaluationError:
        """Re-run with the interpreter to say where a failed evaluation failed."""
        try:
            self.interpret(values)
        except EvaluationError as error:
            # A report, not a live exception: without its traceback and the arithmetic
            # error it replaced, it holds no frames (the caller's among them, a cycle that
            # would keep a department's values until the garbage collector runs).
            error.__traceback__ = None
            error.__context__ = None
            return error
        except _DECIMAL_FAILURES:
            pass
        return EvaluationError(
            [Issue.of("evaluation.arithmetic", self.origin, message=msg("evaluation.failed"))]
        )

    def interpret(self, values: Mapping[str, Value]) -> Value:
        """Evaluate by walking the internal form (slow; every failure located)."""
        with decimal.localcontext(ENGINE_CONTEXT):
            try:
                return _interpret(self.expr, values)
            except KeyError as e:
                raise EvaluationError(
                    [Issue.of("evaluation.missing_value", self.origin, name=repr(e.args[0]))]
                ) from None
            except _Failure as failure:
                issue = make_issue(
                    failure.code,
                    failure.message,
                    self.source,
                    failure.span,
                    self.origin,
                    failure.hint,
                    self._position,
                )
                raise EvaluationError([issue]) from None

    def reference_evaluate(self, values: Mapping[str, Value]) -> Value:
        """Evaluate with simpleeval, the reference evaluator (for cross-checking)."""
        from ._reference import reference_evaluate

        result: Value = reference_evaluate(self.source, values)
        return result


def _confusable_names(text: str, origin: Location, position: Position | None) -> list[Issue]:
    """Names whose text differs from its NFKC form (``ｓｔａｆｆ``, ``𝐱``, ``ｍｉｎ``).

    Python reads such a name as its NFKC form, so a formula would run what a reviewer
    does not read; each is refused, pointing at it, with the plain spelling as the fix."""
    if text.isascii():
        return []
    starts = [0]
    for line in text.split("\n"):
        starts.append(starts[-1] + len(line) + 1)
    issues = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type != tokenize.NAME or token.string.isascii():
                continue
            normal = unicodedata.normalize("NFKC", token.string)
            if normal == token.string:
                continue
            start = starts[token.start[0] - 1] + token.start[1]
            span = (start, start + len(token.string))
            params = {"name": token.string, "normal": normal}
            issue = make_issue(
                "formula.confusable",
                i18n.tr("formula.confusable", **params),
                text,
                span,
                origin,
                i18n.tr("formula.confusable.hint", **params),
                position,
            )
            issues.append(dataclasses.replace(issue, params=params))
    except (tokenize.TokenError, SyntaxError):  # the parser reports it
        pass
    return issues


def compile_formula(
    source: str,
    symbols: Mapping[str, Symbol] | None = None,
    *,
    expect: ValueType | Sequence[ValueType] | None = None,
    origin: Location | None = None,
    position: Position | None = None,
) -> Formula:
    """Parse and check ``source``; raise :class:`FormulaError` listing every problem.

    ``symbols`` are the names the formula may read (``None`` accepts any name as a number).
    ``expect`` is the type (or types) the result must have. ``origin`` and ``position``
    say where the formula is, for the issues (see :func:`make_issue`).
    """
    origin = origin or Location()
    whole = (0, max(1, len(source)))
    if not isinstance(source, str) or not source.strip():
        raise FormulaError(
            [make_issue("formula.syntax", msg("formula.empty"), " ", (0, 1), origin, None)]
        )
    if len(source) > MAX_LENGTH:
        raise FormulaError(
            [
                Issue.of(
                    "formula.too_long",
                    origin,
                    message=msg("formula.too_long", length=len(source), limit=MAX_LENGTH),
                    hint=msg("hint.split_formula"),
                )
            ]
        )
    text = source.strip()
    confusable = _confusable_names(text, origin, position)
    if confusable:
        raise FormulaError(confusable)
    try:
        tree = parse_expression(text)
    except SyntaxError as e:
        offset = max(0, (e.offset or 1) - 1)
        if e.lineno and e.lineno > 1:
            offset += sum(len(line) + 1 for line in text.split("\n")[: e.lineno - 1])
        span = (min(offset, len(text) - 1), min(offset, len(text) - 1) + 1)
        raise FormulaError(
            [
                make_issue(
                    "formula.syntax",
                    msg("formula.syntax", detail=e.msg),
                    text,
                    span,
                    origin,
                    None,
                    position,
                )
            ]
        ) from None
    except (RecursionError, MemoryError, ValueError):
        raise FormulaError(
            [
                make_issue(
                    "formula.too_deep", msg("formula.nested_too_deeply"), text, whole, origin, None
                )
            ]
        ) from None
    checker = _Checker(text, symbols, origin, position)
    try:
        expr, result_type = checker.check(tree.body, 0)
    except RecursionError:
        raise FormulaError(
            [
                make_issue(
                    "formula.too_deep", msg("formula.nested_too_deeply"), text, whole, origin, None
                )
            ]
        ) from None
    if checker.nodes > MAX_NODES and not checker.issues:
        checker.issue(
            "formula.too_complex",
            msg("formula.too_complex", parts=checker.nodes, limit=MAX_NODES),
            (0, len(text)),
            msg("hint.split_formula"),
        )
    wanted = (expect,) if isinstance(expect, ValueType) else tuple(expect or ())
    if not checker.issues and wanted and result_type not in wanted:
        got = _type(result_type) if result_type else msg("type.unknown")
        checker.issue(
            "formula.type",
            msg(
                "formula.gives",
                got=got,
                wanted=functools.reduce(
                    lambda a, b: msg("type.either", a=a, b=b), map(_type, wanted)
                ),
            ),
            (0, len(text)),
            _type_hint(result_type, wanted[0]) if result_type else None,
        )
    if checker.issues or expr is None:
        raise FormulaError(checker.issues)
    assert result_type is not None
    return Formula(
        source=text,
        expr=expr,
        names=frozenset(checker.names),
        type=result_type,
        origin=origin,
        _fn=_compile_function(expr),
        _position=position,
    )
