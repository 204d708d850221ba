"""perfscore: score Chinese public-finance performance evaluations against declarative rubrics.

Load a rubric, compile it once, score many departments::

    import perfscore

    rubric = perfscore.load_rubric("rubrics/shaoyang/dept-overall-2023.yaml")
    compiled = perfscore.compile_rubric(rubric)
    result = compiled.score({"staff_authorized": 18, "staff_actual": 17, ...})
    print(result.total, result.grade)

Everything public is importable from the package root; submodules starting with ``_``
are private.
"""

from __future__ import annotations

from .dumping import content_hash, dump_rubric
from .engine import CompiledRubric, compile_rubric
from .errors import (
    EvaluationError,
    FormulaError,
    InputError,
    Issue,
    Location,
    PerfscoreError,
    RubricError,
    RubricSyntaxError,
    RubricValidationError,
)
from .formula import Formula, Symbol, ValueType, compile_formula
from .loading import load_rubric, loads_rubric
from .methods import MethodContext, Scorer, ScoringMethod, method_kinds, register_method
from .model import Indicator, Rubric
from .results import Explanation, IndicatorResult, ScoreResult, Status, Step

__version__ = "0.1.0"

__all__ = [
    "CompiledRubric",
    "EvaluationError",
    "Explanation",
    "Formula",
    "FormulaError",
    "Indicator",
    "IndicatorResult",
    "InputError",
    "Issue",
    "Location",
    "MethodContext",
    "PerfscoreError",
    "Rubric",
    "RubricError",
    "RubricSyntaxError",
    "RubricValidationError",
    "ScoreResult",
    "Scorer",
    "ScoringMethod",
    "Status",
    "Step",
    "Symbol",
    "ValueType",
    "__version__",
    "compile_formula",
    "compile_rubric",
    "content_hash",
    "dump_rubric",
    "load_rubric",
    "loads_rubric",
    "method_kinds",
    "register_method",
]
