"""The compiled fast path: a whole rubric as one generated Python function.

:func:`build` writes the source of one function that checks a department's inputs,
computes the derived values, scores every leaf, sums, rounds and grades, with every number
a Decimal in the engine's context: the same arithmetic as the full engine, without its
bookkeeping (explanations, not-applicable weight moves, located errors).

The function scores what a real population holds: missing optional inputs, values and
leaves not applicable, ``on_zero_division`` fallbacks, row groups and checks that hold
(it says so, and the engine writes the warning). Whenever anything else is unusual (an
input that is missing and required, of another type or out of bounds; an unknown input;
any other failure of a formula; a value in no band; a grade cap that applies) it raises
:class:`Fallback`, and the full engine scores the department instead, raising its precise
errors. So the fast path never decides anything the engine would decide differently;
tests compare the two on random inputs.

The source is generated from perfscore's own checked internal form only: names are
validated identifiers, every constant is passed in a table, and the only functions
reachable are the formula whitelist and a few helpers.
"""

from __future__ import annotations

import decimal
import re
import weakref
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from ._inputs import (
    _BOOLEAN,
    _DECIMAL,
    _WHOLE,
    MAX_MAGNITUDE,
    MAX_PLACES,
    NA,
    InputRule,
    check_input,
    is_missing,
)
from ._interval import python_test
from ._numbers import ENGINE_CONTEXT, HUNDRED, ONE, ROUNDING_MODES, ZERO, quantum
from .formula import (
    FUNCTIONS,
    PARSE_LOCK,
    Binary,
    BoolOp,
    Call,
    Compare,
    Const,
    Expr,
    IfElse,
    Name,
    Unary,
    _generate,
    _pow,
    compile_formula,
)
from .methods import ScoringMethod

if TYPE_CHECKING:
    from .engine import CompiledRubric

FastResult = (
    tuple[dict[str, Any], tuple[Decimal, ...], Decimal, Decimal, str, bool]
    | tuple[dict[str, Any], tuple[Decimal | None, ...], dict[int, Any], bool]
)
FastFunction = Callable[[Mapping[str, Any]], FastResult]


class Fallback(Exception):
    """The fast path declines this department; the full engine scores it."""


def _fallback() -> Any:
    raise Fallback


class _Gen:
    def __init__(self, compiled: CompiledRubric) -> None:
        self.compiled = compiled
        self.consts: list[Any] = []
        self.index: dict[tuple[type, Any], int] = {}
        self.temps = 0
        self.symbols = compiled._symbols

    def const(self, value: Any) -> str:
        # Equal Decimals of other exponents (0.1, 0.10) are different constants here:
        # a quantum's exponent is its meaning.
        key = (type(value), str(value) if isinstance(value, Decimal) else value)
        if isinstance(value, dict | frozenset):
            key = (type(value), id(value))
        if key not in self.index:
            self.index[key] = len(self.consts)
            self.consts.append(value)
        return f"_k{self.index[key]}"

    def temp(self) -> str:
        self.temps += 1
        return f"_t{self.temps}"

    def fallback(self) -> str:
        return "_fallback()"

    def expr(self, source: str) -> str:
        formula = compile_formula(source, self.symbols)
        return self.formula_code(formula.expr)

    def formula_code(self, expr: Any) -> str:
        consts: list[Any] = []
        code = _generate(expr, consts)
        # Re-home the formula's constants into the shared table.
        for i in range(len(consts) - 1, -1, -1):
            code = code.replace(f"K[{i}]", f"@@{i}@@")
        for i, value in enumerate(consts):
            code = code.replace(f"@@{i}@@", self.const(value))
        return code

    def signature(self) -> str:
        """Constants become default arguments: local names, the fastest to read."""
        return ", ".join(f"_k{i}=K[{i}]" for i in range(len(self.consts)))

    def rounded(self, code: str, places: int, mode: str) -> str:
        return (
            f"({code}).quantize({self.const(quantum(places))}, {self.const(ROUNDING_MODES[mode])})"
        )


def build(
    compiled: CompiledRubric, *, tolerate: frozenset[str] = frozenset()
) -> FastFunction | None:
    """Generate the fast function for ``compiled``, or None when it has no fast form.

    Keys in ``tolerate`` may stand beside the inputs and are not read (a review's
    ``unit`` and ``claimed``); any other key not declared makes the function decline.

    The function returns ``(values, scores, unrounded, total, grade, warn)`` for a department
    with every value present and every leaf applicable, no row group and no grade cap
    applying. When a value is not applicable (a missing optional input, an
    ``on_zero_division: not_applicable`` fallback, a value reading one), a leaf is not
    applicable (``not_applicable_when``) or the rubric has row groups, it returns
    ``(values, leaf_scores, rows, warn)`` instead: every value (None when not applicable),
    each leaf's rounded score (None when not applicable) and each row group's rows; the
    engine's own aggregation then moves the weights, applies the caps and grades, exactly
    as for the full engine. ``warn`` is true when one of the rubric's checks holds: the
    engine then adds its warnings, as for the full engine.

    Without row groups, a department with something not applicable is aggregated by the
    plan of its pattern of not-applicable leaves (``CompiledRubric._fast_plan``, made on
    the pattern's first department and kept; see :func:`aggregate`), and the function
    returns ``(values, scores, unrounded, total, grade, plan, leaf_scores, warn)``: every
    node's score, the engine's ``_NaPlan`` (statuses, effective weights) and the leaves'
    rounded scores before any scaling. A pattern without a plan (every leaf not
    applicable) or a grade cap whose condition holds still takes the shape above.
    """
    # judged leaves read their scores from the inputs' ``judged:`` section, and an
    # alternatives branch counts one child of several: the full engine scores both
    if any(node.node.alternatives for node in compiled._nodes) or any(
        leaf.node.scoring is not None and leaf.node.scoring.method == "judged"
        for leaf in compiled._leaves
    ):
        return None
    gen = _Gen(compiled)
    rubric = compiled.rubric
    lines = ["def _fast(raw, @@SIGNATURE@@):"]
    emit = lines.append
    known = gen.const(frozenset(rubric.inputs) | tolerate)
    emit(f"    if not {known}.issuperset(raw): _fallback()")
    emit("    get = raw.get")
    # Names whose value may be not applicable in some department, and the flag saying
    # that one is (the aggregation then goes through the engine's own).
    maybe_na: set[str] = set()
    has_rows = any(leaf.node.rows is not None for leaf in compiled._leaves)
    emit(f"    na = {has_rows}")
    emit("    m = 0")  # the pattern of not-applicable leaves, a bit per leaf
    emit("    warn = False")
    plain = gen.const(frozenset({Decimal, bool, int}))
    for rule in compiled._inputs:
        spec, name = rule.spec, rule.id
        coerce = gen.const(rule.coerce)
        emit(f"    x = get({name!r})")
        missing = f"x is None or (x.__class__ not in {plain} and _missing(x))"
        read: list[str] = []
        if spec.kind == "boolean":
            read.append(f"if x.__class__ is not {gen.const(bool)}: x = {coerce}(x)")
        elif spec.kind == "choice":
            options = gen.const(frozenset(spec.options or ()))
            read.append(f"if x not in {options}: x = {coerce}(x)")
            if all(is_missing(option) is False for option in spec.options or ()):
                # one of the options is not missing: the missing-value rule is asked
                # about anything else only
                missing = f"x is None or (x not in {options} and _missing(x))"
        elif spec.kind in ("text", "table"):
            read.append(f"x = {coerce}(x)")
        else:
            _emit_number(gen, read.append, spec, coerce)
            read[:] = [line[4:] for line in read]
        if spec.default is not None:
            emit(f"    if {missing}: x = {gen.const(spec.default)}")
            emit("    else:")
        elif not spec.required:
            maybe_na.add(name)
            emit(f"    if {missing}:")
            emit("        x = _NA")
            emit("        na = True")
            emit("    else:")
        for line in read:
            emit(f"    {'    ' if spec.default is not None or not spec.required else ''}{line}")
        emit(f"    {_local(name)} = x")
    for k, d in enumerate(compiled._derived):
        code = gen.formula_code(d.formula.expr)
        finish = "_t"
        if d.as_percent:
            finish = f"({finish}) * {gen.const(HUNDRED)}"
        if d.rounding is not None and d.formula.type.value == "number":
            finish = gen.rounded(finish, d.rounding.places, d.rounding.mode)
        indent = "    "
        guard = sorted(n for n in d.formula.names if n in maybe_na)
        if guard:
            maybe_na.add(d.id)
            emit(f"    if {_is_na(guard)}: {_local(d.id)} = _NA")
            emit("    else:")
            indent = "        "
        if d.on_zero_division is not None:
            if d.on_zero_division == "not_applicable":
                maybe_na.add(d.id)
            reads = "{" + ", ".join(f"{n!r}: {_local(n)}" for n in sorted(d.formula.names)) + "}"
            emit(f"{indent}try: _t = {code}")
            if _divides_only(d.formula.expr):
                # Only a division by zero (0 / 0 an invalid operation) fails so here, and
                # the engine locates it as one: the fallback, without locating it.
                fallback = NA if d.on_zero_division == "not_applicable" else d.on_zero_division
                emit(f"{indent}except (_ZeroDivisionError, _InvalidOperation):")
                emit(f"{indent}    {_local(d.id)} = {gen.const(fallback)}")
                if fallback is NA:
                    emit(f"{indent}    na = True")
            emit(f"{indent}except _ArithmeticError:")
            emit(f"{indent}    {_local(d.id)} = _zero({k}, {reads})")
            emit(f"{indent}    if {_local(d.id)} is _NA: na = True")
            emit(f"{indent}else: {_local(d.id)} = {finish}")
        else:
            emit(f"{indent}_t = {code}")
            emit(f"{indent}{_local(d.id)} = {finish}")
    score_rule = rubric.rounding.score
    names: dict[int, str] = {}
    everything = [*rubric.inputs, *(d.id for d in compiled._derived)]
    # The values' dict is a copy of a template holding every key, filled in name by name:
    # a copy of a dict whose keys are laid out already, and one store per value, costs
    # about half of a dict display that inserts its keys one by one.
    template = gen.const(dict.fromkeys(everything))

    def filled(indent: str, value: Callable[[str], str]) -> None:
        emit(f"{indent}_d = {template}.copy()")
        for n in everything:
            emit(f"{indent}_d[{n!r}] = {value(n)}")

    def public(n: str) -> str:
        return f"(None if {_local(n)} is _NA else {_local(n)})" if n in maybe_na else _local(n)

    if has_rows or any(
        leaf.node.scoring and type(leaf.node.scoring).codegen is ScoringMethod.codegen
        for leaf in compiled._leaves
    ):
        filled("    ", _local)
        emit("    v = _d")
    if has_rows:
        emit("    rows = {}")
    for bit, leaf in enumerate(compiled._leaves):
        tests = []
        guard = [n for n in leaf.reads if n in maybe_na]
        if guard:
            tests.append(_is_na(guard))
        if leaf.na_when is not None:
            tests.append(gen.formula_code(leaf.na_when.expr))
        indent = "    "
        if tests:
            emit(f"    if {' or '.join(tests)}:")
            emit(f"        s{leaf.index} = None")
            emit("        na = True")
            emit(f"        m |= {1 << bit}")
            emit("    else:")
            indent = "        "
        weight = gen.const(leaf.node.weight)
        if leaf.node.rows is not None:
            emit(f"{indent}s, rows[{leaf.index}] = _rows({gen.const(leaf.scorer)}, v)")
            emit(f"{indent}if not ({gen.const(ZERO)} <= s <= {weight}): _fallback()")
            leaf_code = "s"
        else:
            method = leaf.node.scoring
            assert method is not None
            generated = method.codegen(gen, leaf.node.weight)
            if generated is None:
                emit(f"{indent}s = {gen.const(leaf.scorer)}(@@SCORER_VALUES@@, False)[0]")
                emit(f"{indent}if not ({gen.const(ZERO)} <= s <= {weight}): _fallback()")
                generated = "s"
            leaf_code = generated
        names[leaf.index] = f"s{leaf.index}"
        rounded = gen.rounded(leaf_code, score_rule.places, score_rule.mode)
        emit(f"{indent}s{leaf.index} = {rounded}")
    # A check that holds adds a warning, which the engine writes from the values (the flag
    # returned last). A check reading a value not applicable does not apply.
    for check in getattr(compiled, "_checks", ()):
        guard = sorted(n for n in check.when.names if n in maybe_na)
        test = gen.formula_code(check.when.expr)
        if guard:
            test = f"not ({_is_na(guard)}) and {test}"
        emit(f"    if {test}: warn = True")
    leaf_scores = "(" + "".join(f"s{leaf.index}, " for leaf in compiled._leaves) + ")"
    if not has_rows:
        # Something not applicable: the plan of this pattern of not-applicable leaves
        # (made by the engine on its first department, see CompiledRubric._fast_plan)
        # moves the weights, sums, rounds and grades. A rubric without a plan for the
        # pattern (every leaf not applicable), or a grade cap that applies, goes through
        # the engine's own aggregation below.
        emit("    if na:")
        emit("        p = _plans.get(m)")
        emit("        if p is None: p = _plan(m)")
        for cap in compiled._caps:
            guard = sorted(n for n in cap.when.names if n in maybe_na)
            test = gen.formula_code(cap.when.expr)
            if guard:
                test = f"not ({_is_na(guard)}) and {test}"
            emit(f"        if p and {test}: p = None")
        filled("        ", public)
        emit(f"        if p: return _d, *p[0](L := {leaf_scores}), p[1], L, warn")
        emit(f"        return _d, {leaf_scores}, {{}}, warn")
    else:
        emit("    if na:")
        filled("        ", public)
        emit(f"        return _d, {leaf_scores}, rows, warn")
    nodes = compiled._nodes
    for i in range(len(nodes) - 1, -1, -1):
        node = nodes[i]
        if node.leaf is None:
            names[i] = f"s{i}"
            emit(f"    s{i} = " + " + ".join(names[c] for c in node.children))
    tops = [names[i] for i in range(len(nodes)) if nodes[i].parent is None]
    emit("    u = " + " + ".join(tops))
    total_rule = rubric.rounding.total
    emit(f"    t = {gen.rounded('u', total_rule.places, total_rule.mode)}")
    basis = "t" if rubric.rounding.grade_on == "rounded" else "u"
    grade_code = "_fallback()"
    for grade in reversed(compiled._grades):
        test = python_test(grade.range, basis, gen.const)
        grade_code = f"{gen.const(grade.name)} if {test} else {grade_code}"
    emit(f"    g = {grade_code}")
    for cap in compiled._caps:
        emit(f"    if {gen.formula_code(cap.when.expr)}: _fallback()")
    every = ", ".join(names[i] for i in range(len(nodes)))
    filled("    ", _local)
    emit(f"    return _d, ({every},), u, t, g, warn")
    # The whole body runs in the engine's decimal context, whatever the caller's thread has.
    context = gen.const(ENGINE_CONTEXT)
    body = ["    " + line for line in lines[1:]]
    lines = [lines[0], f"    with _localcontext({context}):", *body]
    source = "\n".join(lines).replace("@@SIGNATURE@@", gen.signature()) + "\n"
    # formulas read values as locals, not from a dict: one pass over the source (a
    # replace per name would be quadratic in a rubric of a thousand values)
    declared = frozenset(everything)
    source = _VALUE_READ.sub(lambda m: _local(m[1]) if m[1] in declared else m[0], source)
    source = source.replace("@@SCORER_VALUES@@", "v")
    derived = compiled._derived

    def zero(k: int, reads: dict[str, Any]) -> Any:
        """The fallback of derived value ``k`` after its formula raised: its
        ``on_zero_division`` value (or not applicable) when the failure is a division by
        zero, as the engine locates it; anything else is the full engine's to report."""
        d = derived[k]
        if d.formula.locate_failure(reads).codes != ("evaluation.division_by_zero",):
            raise Fallback
        return NA if d.on_zero_division == "not_applicable" else d.on_zero_division

    namespace: dict[str, Any] = {
        "__builtins__": {"max": max, "min": min},
        "K": tuple(gen.consts),
        "_pow": _pow,
        "_fallback": _fallback,
        "_localcontext": decimal.localcontext,
        "_NA": NA,
        "_missing": is_missing,
        "_zero": zero,
        "_rows": _rows,
        "_ArithmeticError": ArithmeticError,
        "_ZeroDivisionError": ZeroDivisionError,
        "_InvalidOperation": decimal.InvalidOperation,
        "_plans": compiled._fast_plans,
        "_plan": _plan_maker(compiled),
    }
    for fname, function in FUNCTIONS.items():
        namespace[f"_fn_{fname}"] = function.impl
    with PARSE_LOCK:  # compiling parses (see formula.parse_expression)
        exec(compile(source, f"<perfscore fast path: {rubric.id}>", "exec"), namespace)
    fast: FastFunction = namespace["_fast"]
    fast.source = source  # type: ignore[attr-defined]
    return fast


def _plan_maker(compiled: CompiledRubric) -> Callable[[int], Any]:
    """``compiled._fast_plan``, holding the compiled rubric weakly: the fast function is
    the rubric's own, and would otherwise make a reference cycle with it."""
    ref = weakref.ref(compiled)

    def plan(mask: int) -> Any:
        owner = ref()
        if owner is None:  # pragma: no cover - the rubric is gone while scoring with it
            raise Fallback
        return owner._fast_plan(mask)

    return plan


def aggregate(compiled: CompiledRubric, plan: Any) -> Callable[[tuple[Any, ...]], Any]:
    """The aggregation of one pattern of not-applicable leaves, as one generated function.

    ``plan`` is the engine's plan of the pattern (``CompiledRubric._na_plan``): each leaf
    not applicable scores its fixed score, each leaf whose weight moved is scaled to its
    effective weight and rounded, and every branch is the sum of its children, in the
    engine's order (``sum(children, ZERO)``). The function takes the leaves' rounded
    scores (None for a leaf not applicable), runs in the engine's decimal context (it is
    called by the fast function) and returns every node's score, the unrounded total, the
    total and the grade; it declines (:class:`Fallback`) a total in no grade band.
    """
    gen = _Gen(compiled)
    rule = compiled.rubric.rounding.score
    nodes = compiled._nodes
    lines = ["def _agg(L, @@SIGNATURE@@):"]
    emit = lines.append
    emit("    " + "".join(f"s{leaf.index}, " for leaf in compiled._leaves) + "= L")
    scaled = {i: (eff, weight) for _, i, eff, weight in plan.scaled}
    for leaf in compiled._leaves:
        i = leaf.index
        if i in plan.fixed:
            emit(f"    s{i} = {gen.const(plan.fixed[i])}")
        elif i in scaled:
            eff, weight = scaled[i]
            code = f"s{i} * {gen.const(eff)} / {gen.const(weight)}"
            emit(f"    s{i} = {gen.rounded(code, rule.places, rule.mode)}")
    zero = gen.const(ZERO)
    for i in range(len(nodes) - 1, -1, -1):
        if nodes[i].leaf is None:
            emit(f"    s{i} = " + " + ".join([zero, *(f"s{c}" for c in nodes[i].children)]))
    tops = [f"s{i}" for i in range(len(nodes)) if nodes[i].parent is None]
    emit("    u = " + " + ".join([zero, *tops]))
    total_rule = compiled.rubric.rounding.total
    emit(f"    t = {gen.rounded('u', total_rule.places, total_rule.mode)}")
    basis = "t" if compiled.rubric.rounding.grade_on == "rounded" else "u"
    grade_code = "_fallback()"
    for grade in reversed(compiled._grades):
        test = python_test(grade.range, basis, gen.const)
        grade_code = f"{gen.const(grade.name)} if {test} else {grade_code}"
    emit(f"    return ({''.join(f's{i}, ' for i in range(len(nodes)))}), u, t, {grade_code}")
    source = "\n".join(lines).replace("@@SIGNATURE@@", gen.signature()) + "\n"
    namespace: dict[str, Any] = {
        "__builtins__": {},
        "K": tuple(gen.consts),
        "_fallback": _fallback,
    }
    name = f"<perfscore not-applicable plan: {compiled.rubric.id}>"
    with PARSE_LOCK:  # compiling parses (see formula.parse_expression)
        exec(compile(source, name, "exec"), namespace)
    function: Callable[[tuple[Any, ...]], Any] = namespace["_agg"]
    return function


def input_check(rules: Sequence[InputRule]) -> Callable[..., None]:
    """The check of ``rules`` as one generated function, for :func:`validate_inputs`
    (``check``): ``check(inputs, values, issues, source, missing)`` does for each rule
    in turn what :func:`~perfscore._inputs.check_input` does, which it calls for every
    value but the common cases. Those it takes as ``check_input`` does, in one test: a
    bool for a boolean input, and a Decimal that the number coercer takes as it is
    (finite, below 10^15 in magnitude, at most 30 places, whole for whole-number kinds)
    and that lies within the input's bounds."""
    consts: list[Any] = []

    def const(value: Any) -> str:
        consts.append(value)
        return f"_k{len(consts) - 1}"

    lines = ["def _check(inputs, values, issues, source, missing, @@SIGNATURE@@):"]
    emit = lines.append
    emit("    get = inputs.get")
    decimal_class, boolean = const(Decimal), const(bool)
    low, high, places = const(-MAX_MAGNITUDE), const(MAX_MAGNITUDE), const(-MAX_PLACES)
    for rule in rules:
        slow = f"_one({const(rule)}, x, inputs, source, missing, values, issues)"
        emit(f"    x = get({rule.id!r})")
        if rule.quick == _BOOLEAN:
            test = f"x.__class__ is {boolean}"
        elif rule.quick in (_DECIMAL, _WHOLE):
            tests = [
                f"x.__class__ is {decimal_class}",
                "x.is_finite()",
                f"{low} < x < {high}",
                f"x.adjusted() >= {places}",
            ]
            if rule.quick == _WHOLE:
                tests.append("x == x.to_integral_value()")
            if rule.low is not None:
                tests.append(f"x >= {const(rule.low)}")
            if rule.high is not None:
                tests.append(f"x <= {const(rule.high)}")
            test = " and ".join(tests)
        else:
            emit(f"    {slow}")
            continue
        emit(f"    if {test}: values[{rule.id!r}] = x")
        emit(f"    else: {slow}")
    signature = ", ".join(f"_k{i}=K[{i}]" for i in range(len(consts)))
    source = "\n".join(lines).replace("@@SIGNATURE@@", signature) + "\n"
    namespace: dict[str, Any] = {"__builtins__": {}, "K": tuple(consts), "_one": check_input}
    with PARSE_LOCK:  # compiling parses (see formula.parse_expression)
        exec(compile(source, "<perfscore input check>", "exec"), namespace)
    check: Callable[..., None] = namespace["_check"]
    check.source = source  # type: ignore[attr-defined]
    return check


def _divides_only(expr: Expr) -> bool:
    """Whether the only failures of ``expr`` that raise ZeroDivisionError or
    InvalidOperation are divisions by zero (``x / 0``, ``0 / 0``), which the engine's
    interpreter reports as ``evaluation.division_by_zero``: true when it neither calls a
    function nor raises to a power (``0 ** 0`` is invalid, and not a division). Its other
    operations, on the finite numbers inputs and values are, raise neither (an overflow
    raises Overflow, which the engine's fallback handler locates)."""
    if isinstance(expr, Call):
        return False
    if isinstance(expr, Unary):
        return _divides_only(expr.operand)
    if isinstance(expr, Binary):
        if expr.op not in ("+", "-", "*", "/"):
            return False
        return _divides_only(expr.left) and _divides_only(expr.right)
    if isinstance(expr, Compare):
        return all(_divides_only(e) for e in expr.operands)
    if isinstance(expr, BoolOp):
        return all(_divides_only(e) for e in expr.values)
    if isinstance(expr, IfElse):
        return all(_divides_only(e) for e in (expr.test, expr.body, expr.orelse))
    return isinstance(expr, Const | Name)


def _is_na(names: Any) -> str:
    return " or ".join(f"{_local(n)} is _NA" for n in names)


def _rows(scorer: Any, values: Mapping[str, Any]) -> tuple[Decimal, Any]:
    """A row group's score and rows; any failure is the full engine's to report."""
    try:
        points, steps = scorer(values, False)
    except Exception:  # the full engine scores it again and says why
        raise Fallback from None
    return points, steps[0].outcomes


def _emit_number(gen: _Gen, emit: Callable[[str], None], spec: Any, coerce: str) -> None:
    """The lines that read one number input into ``x``.

    The common case costs one test: a Decimal that the coercer would take as it is (finite,
    below 10^15 in magnitude, at most 30 places, whole for whole-number kinds) and that lies
    within the input's bounds. Anything else goes through the coercer and then the bounds,
    which decline the department when they fail. A percent input given a nonzero figure
    between -1 and 1 declines it too: the engine scores it and adds the
    ``input.percent_fraction`` warning. (A NaN traps in the first comparison, which also
    declines.)
    """
    low, high = spec.lower_bound, spec.max
    slow: list[str] = []
    if low is not None and high is not None:
        slow.append(f"if not {gen.const(low)} <= x <= {gen.const(high)}: _fallback()")
    elif low is not None:
        slow.append(f"if x < {gen.const(low)}: _fallback()")
    elif high is not None:
        slow.append(f"if x > {gen.const(high)}: _fallback()")
    fraction = (
        f"if x and {gen.const(-ONE)} < x < {gen.const(ONE)}: _fallback()"
        if spec.kind == "percent" and "fraction" not in spec.accept
        else None
    )
    if "fraction" in spec.accept:  # the input's own rules decide, every time
        emit(f"    x = {coerce}(x)")
        for line in slow:
            emit(f"    {line}")
        return
    # The fast test's range: the declared bounds where they are tighter than the magnitude
    # every number keeps. A percent whose range starts at 0 or above starts it at 1 here,
    # so that fractions of one take the slow branch, which tests for them.
    floor = low if low is not None and low > -MAX_MAGNITUDE else None
    if fraction is not None and floor is not None and floor >= 0:
        floor = max(floor, ONE)
        slow.append(fraction)
        fraction = None  # tested in the slow branch only
    lower = f"{gen.const(-MAX_MAGNITUDE)} <" if floor is None else f"{gen.const(floor)} <="
    upper = (
        f"< {gen.const(MAX_MAGNITUDE)}"
        if high is None or high >= MAX_MAGNITUDE
        else f"<= {gen.const(high)}"
    )
    tests = [f"x.__class__ is {gen.const(Decimal)}", f"{lower} x {upper}"]
    # Past 1E-30 on either side a number has at most 30 places before its first digit.
    if not ((floor is not None and floor >= _TINY) or (high is not None and high <= -_TINY)):
        tests.append(f"x.adjusted() >= {gen.const(-MAX_PLACES)}")
    if spec.kind in ("integer", "count"):
        tests.append("x == x.to_integral_value()")
    emit(f"    if not ({' and '.join(tests)}):")
    emit(f"        x = {coerce}(x)")
    for line in slow:
        emit(f"        {line}")
    if fraction is not None:  # a range reaching below 0: every value is tested
        emit(f"    {fraction}")


_TINY: Final = Decimal(1).scaleb(-MAX_PLACES)


#: ``v['name']``: a formula's read of a value from the values' dict
_VALUE_READ: Final = re.compile(r"v\['([^'\\]+)'\]")


def _local(name: str) -> str:
    return f"_v_{name}"
