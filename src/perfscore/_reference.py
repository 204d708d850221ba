"""simpleeval as the reference evaluator of checked formulas.

The engine never runs formulas through simpleeval: it runs the function generated from
perfscore's own internal form. This module evaluates the same source the slow, obvious
way (decimal literals, the same operators and functions) so that tests can prove the two
agree on random formulas and inputs.
"""

from __future__ import annotations

import ast
import decimal
import operator
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import simpleeval

from ._numbers import ENGINE_CONTEXT
from .formula import FUNCTIONS, _pow, parse_expression

_OPERATORS: dict[type[ast.AST], Any] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: _pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Not: operator.not_,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}


class _DecimalLiterals(ast.NodeTransformer):
    def __init__(self, source: str) -> None:
        self.source = source

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, int | float) and not isinstance(node.value, bool):
            text = ast.get_source_segment(self.source, node) or repr(node.value)
            return ast.copy_location(ast.Constant(value=Decimal(text.replace("_", ""))), node)  # type: ignore[arg-type]
        return node


def reference_evaluate(source: str, values: Mapping[str, Any]) -> Any:
    """Evaluate ``source`` with simpleeval, every numeric literal a Decimal."""
    text = source.strip()
    tree = parse_expression(text)
    tree = _DecimalLiterals(text).visit(tree)
    evaluator = simpleeval.SimpleEval(
        operators=_OPERATORS,
        functions={name: spec.impl for name, spec in FUNCTIONS.items()},
        names=dict(values),
    )
    with decimal.localcontext(ENGINE_CONTEXT):
        return evaluator.eval(text, previously_parsed=tree.body)
