"""The package's shape: a complete, sorted public API and layers that import downwards."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import perfscore

SRC = Path(perfscore.__file__).parent

#: The layers, lowest first. A top-level module is its own entry; a folder (a subpackage)
#: is one entry for all its modules, which may import each other. A module may import
#: only from its own entry's layer or the layers below it.
LAYERS: list[set[str]] = [
    {"i18n"},
    {"errors", "_numbers", "_suggest", "_interval", "_escape"},
    {"results", "formula", "_reference", "_files"},
    {"methods"},
    {"model", "dumping", "_inputs", "_submission"},
    {"engine", "_fastpath", "review"},
    {"_compose", "loading", "resolvers", "registry"},
    {"population"},
    {"authoring", "draft"},
    {"render"},
    # the command line, and the public facades that re-export a module from its folder
    {
        "cli",
        "service",
        "__init__",
        "__main__",
        "testing",
        "vectorised",
        "distributed",
        "pytest_plugin",
    },
]


def _entry(path: Path) -> str:
    """The layer entry of a source file: its folder below the package, or its own stem."""
    parts = path.relative_to(SRC).parts
    return parts[0] if len(parts) > 1 else path.stem


def _layer(entry: str) -> int:
    for i, layer in enumerate(LAYERS):
        if entry in layer:
            return i
    raise AssertionError(f"{entry!r} is in no layer: add it to LAYERS")


def _internal_imports(path: Path) -> set[str]:
    """The entries a file imports: ``perfscore.X...`` and relative imports, resolved."""
    package = path.relative_to(SRC).parts[:-1]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = list(package[: len(package) - (node.level - 1)])
            parts = base + (node.module.split(".") if node.module else [])
        elif (node.module or "").split(".")[0] == "perfscore":
            parts = (node.module or "").split(".")[1:]
        else:
            continue
        if parts:
            found.add(parts[0])
        else:  # ``from perfscore import X`` / ``from . import X`` at the top
            found.update(alias.name for alias in node.names)
    return found


MODULES = sorted(SRC.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(SRC)) for p in MODULES])
def test_modules_import_only_from_lower_layers(path: Path) -> None:
    own = _layer(_entry(path))
    for imported in _internal_imports(path):
        if imported in ("__init__", "__version__"):
            continue
        assert _layer(imported) <= own, f"{path.relative_to(SRC)} (layer {own}) imports {imported}"


def test_every_folder_is_one_layer_entry() -> None:
    folders = {_entry(p) for p in MODULES if p.parent != SRC}
    for folder in folders:
        _layer(folder)


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
