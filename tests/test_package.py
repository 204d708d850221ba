"""The package's shape: a complete, sorted public API and layers that import downwards."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import perfscore

SRC = Path(perfscore.__file__).parent

#: Each module may import only from its own layer or the layers above it in this list.
LAYERS: list[set[str]] = [
    {"errors", "_numbers", "_suggest", "_interval"},
    {"results", "formula", "_reference"},
    {"methods"},
    {"model", "dumping", "_inputs"},
    {"engine", "_fastpath"},
    {"_compose", "loading", "population"},
    {"testing", "pytest_plugin", "diff", "check", "schema", "template", "batch", "vectorised"},
    {"distributed"},
    {"reporting", "report", "_report_html"},
    {"cli", "__init__", "__main__", "_cli_diff", "_cli_authoring", "_cli_report"},
]


def _layer(module: str) -> int:
    for i, layer in enumerate(LAYERS):
        if module in layer:
            return i
    raise AssertionError(f"module {module!r} is in no layer: add it to LAYERS")


def _internal_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("perfscore."):
            found.add((node.module or "").split(".")[1])
    return found


MODULES = sorted(p for p in SRC.glob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[p.stem for p in MODULES])
def test_modules_import_only_from_lower_layers(path: Path) -> None:
    own = _layer(path.stem)
    for imported in _internal_imports(path):
        if imported == "__init__" or imported == "__version__":
            continue
        assert _layer(imported) <= own, f"{path.stem} (layer {own}) imports {imported}"


def test_all_is_sorted_and_complete() -> None:
    names = perfscore.__all__
    assert names == sorted(names)
    assert set(names) == set(perfscore._EXPORTS) | {"__version__"}
    for name in names:
        assert getattr(perfscore, name) is not None, name


def test_import_is_lazy() -> None:
    code = "import sys, perfscore; print('pydantic' in sys.modules, 'yaml' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_py_typed_is_shipped() -> None:
    assert (SRC / "py.typed").is_file()
