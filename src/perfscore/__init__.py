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

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Type checkers read the real types from here; at run time ``__getattr__`` below
    # imports each name on first use. ``__getattr__`` exists only at run time, so that a
    # misspelt name (``perfscore.load_rubrik``) is an error to mypy and pyright, not Any.
    from .authoring.schema import inputs_schema
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
    from .population.frames import score_frame
    from .registry import RubricRegistry
    from .resolvers import Document, FolderResolver, MappingResolver, Resolver, ShippedResolver
    from .results import Explanation, IndicatorResult, Override, ScoreResult, Status, Step
    from .review import Finding, ReviewResult

# Submodules load on first use, so that ``import perfscore`` stays cheap: the rubric
# models (pydantic) and the engine are built when a name below is first asked for.
_EXPORTS: dict[str, str] = {
    "CompiledRubric": "engine",
    "Document": "resolvers",
    "FolderResolver": "resolvers",
    "MappingResolver": "resolvers",
    "Resolver": "resolvers",
    "RubricRegistry": "registry",
    "ShippedResolver": "resolvers",
    "EvaluationError": "errors",
    "Explanation": "results",
    "Finding": "review",
    "Formula": "formula",
    "FormulaError": "errors",
    "Indicator": "model",
    "IndicatorResult": "results",
    "InputError": "errors",
    "Issue": "errors",
    "Location": "errors",
    "MethodContext": "methods",
    "Override": "results",
    "PerfscoreError": "errors",
    "ReviewResult": "review",
    "Rubric": "model",
    "RubricError": "errors",
    "RubricSyntaxError": "errors",
    "RubricValidationError": "errors",
    "ScoreResult": "results",
    "Scorer": "methods",
    "ScoringMethod": "methods",
    "Status": "results",
    "Step": "results",
    "Symbol": "formula",
    "ValueType": "formula",
    "compile_formula": "formula",
    "compile_rubric": "engine",
    "content_hash": "dumping",
    "dump_rubric": "dumping",
    "inputs_schema": "authoring.schema",
    "load_rubric": "loading",
    "loads_rubric": "loading",
    "method_kinds": "methods",
    "register_method": "methods",
    "score_frame": "population.frames",
}

__version__ = "0.1.0"

__all__ = [
    "CompiledRubric",
    "Document",
    "EvaluationError",
    "Explanation",
    "Finding",
    "FolderResolver",
    "Formula",
    "FormulaError",
    "Indicator",
    "IndicatorResult",
    "InputError",
    "Issue",
    "Location",
    "MappingResolver",
    "MethodContext",
    "Override",
    "PerfscoreError",
    "Resolver",
    "ReviewResult",
    "Rubric",
    "RubricError",
    "RubricRegistry",
    "RubricSyntaxError",
    "RubricValidationError",
    "ScoreResult",
    "Scorer",
    "ScoringMethod",
    "ShippedResolver",
    "Status",
    "Step",
    "Symbol",
    "ValueType",
    "__version__",
    "compile_formula",
    "compile_rubric",
    "content_hash",
    "dump_rubric",
    "inputs_schema",
    "load_rubric",
    "loads_rubric",
    "method_kinds",
    "register_method",
    "score_frame",
]


if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        module = _EXPORTS.get(name)
        if module is None:
            raise AttributeError(f"module 'perfscore' has no attribute {name!r}")
        from importlib import import_module

        value = getattr(import_module(f".{module}", __name__), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(globals()) | set(_EXPORTS))
