"""Shared fixtures: the demo rubric, and a helper that builds a rubric from YAML text.

Hypothesis profiles: ``default`` keeps the property tests quick (the whole suite runs in
seconds); ``thorough`` (``HYPOTHESIS_PROFILE=thorough``) hunts longer, for a nightly run.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, settings

import perfscore

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = REPO_ROOT / "examples" / "demo"

settings.register_profile(
    "default",
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

RubricFactory = Callable[..., perfscore.Rubric]


@pytest.fixture(autouse=True)
def _language(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Texts are Chinese in every test, whatever the machine's locale, unless the test
    (or its module) is marked ``@pytest.mark.lang("en")``."""
    marker = request.node.get_closest_marker("lang")
    monkeypatch.setenv("PERFSCORE_LANG", marker.args[0] if marker else "zh")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def demo_rubric_path() -> Path:
    return DEMO_DIR / "rubric.yaml"


@pytest.fixture(scope="session")
def demo_inputs() -> Mapping[str, Any]:
    """The demo department (scores 89.92, 良好), as plain data read from inputs.yaml."""
    with (DEMO_DIR / "inputs.yaml").open(encoding="utf-8") as f:
        data: dict[str, Any] = yaml.safe_load(f)
    return data


@pytest.fixture(scope="session")
def demo_rubric(demo_rubric_path: Path) -> perfscore.Rubric:
    return perfscore.load_rubric(demo_rubric_path)


@pytest.fixture(scope="session")
def demo_compiled(demo_rubric: perfscore.Rubric) -> perfscore.CompiledRubric:
    return perfscore.compile_rubric(demo_rubric)


def rubric_from_yaml(text: str, *, name: str = "<test>") -> perfscore.Rubric:
    """Load a rubric from (dedented) YAML text, as ``perfscore.loads_rubric`` does."""
    return perfscore.loads_rubric(textwrap.dedent(text).strip() + "\n", name=name)


@pytest.fixture
def make_rubric() -> RubricFactory:
    """``make_rubric(yaml_text)``: a rubric from YAML text (dedented first)."""
    return rubric_from_yaml


def one_leaf_rubric(
    scoring: str,
    *,
    weight: str = "10",
    inputs: str = "x: {label: X, kind: number}",
    extra: str = "",
) -> str:
    """YAML text of a rubric with one leaf ``a`` of ``weight`` scored by ``scoring``.

    ``scoring`` is a YAML flow mapping or block (indented to sit under ``scoring:``);
    ``inputs`` is the body of the ``inputs`` mapping.
    """
    scoring_block = textwrap.indent(textwrap.dedent(scoring).strip(), " " * 6)
    inputs_block = textwrap.indent(textwrap.dedent(inputs).strip(), "  ")
    return (
        f"id: t\ntitle: T\ntotal: {weight}\n"
        f"inputs:\n{inputs_block}\n"
        f"indicators:\n  - id: a\n    name: A\n    weight: {weight}\n    scoring:\n"
        f"{scoring_block}\n"
        f'grades:\n  - {{name: ok, range: "[0, {weight}]"}}\n'
        f"{textwrap.dedent(extra)}"
    )


@pytest.fixture
def leaf() -> Callable[..., perfscore.CompiledRubric]:
    """``leaf(scoring_yaml, weight=..., inputs=...)``: a compiled one-leaf rubric."""

    def build(scoring: str, **kwargs: str) -> perfscore.CompiledRubric:
        return perfscore.compile_rubric(perfscore.loads_rubric(one_leaf_rubric(scoring, **kwargs)))

    return build
