"""The public API as a type checker and a platform see it: real static types for every
name of ``perfscore.__all__``, a lazy import, and errors as data."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

import perfscore
from perfscore.errors import Issue, Location, PerfscoreError, RubricValidationError

ROOT = Path(__file__).parents[1]
SRC = ROOT / "src"


def _mypy(tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("mypy") is None and not _has_module("mypy"):
        pytest.skip("mypy is not installed (pip install -e '.[dev]')")
    snippet = tmp_path / "snippet.py"
    snippet.write_text(code, encoding="utf-8")
    env = {**os.environ, "MYPYPATH": str(SRC)}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--cache-dir",
            os.devnull,
            "--config-file",
            os.devnull,
            str(snippet),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def test_a_misspelt_name_is_a_type_error(tmp_path: Path) -> None:
    run = _mypy(tmp_path, 'import perfscore\n\nperfscore.load_rubrik("rubric.yaml")\n')
    assert run.returncode == 1, run.stdout + run.stderr
    assert 'snippet.py:3: error: Module has no attribute "load_rubrik"' in run.stdout
    assert 'maybe "load_rubric"' in run.stdout


def test_every_public_name_has_its_real_type(tmp_path: Path) -> None:
    names = [name for name in perfscore.__all__ if name != "__version__"]
    code = "import perfscore\n\n" + "".join(f"reveal_type(perfscore.{n})\n" for n in names)
    run = _mypy(tmp_path, code)
    notes = [line for line in run.stdout.splitlines() if "Revealed type is" in line]
    assert len(notes) == len(names), run.stdout + run.stderr
    for name, note in zip(names, notes, strict=True):
        revealed = note.split("Revealed type is ", 1)[1]
        assert revealed != '"Any"', f"perfscore.{name} is Any to mypy"
    revealed = dict(zip(names, notes, strict=True))
    assert "-> perfscore.model.Rubric" in revealed["load_rubric"]
    assert "perfscore.engine.CompiledRubric" in revealed["CompiledRubric"]
    assert "perfscore.authoring.schema.inputs_schema" in revealed["inputs_schema"] or (
        "rubric: perfscore.model.Rubric" in revealed["inputs_schema"]
    )


def test_typed_code_using_the_api_checks_clean(tmp_path: Path) -> None:
    code = (
        "from decimal import Decimal\n"
        "import perfscore\n\n"
        "def total(path: str, inputs: dict[str, object]) -> Decimal:\n"
        "    compiled = perfscore.compile_rubric(perfscore.load_rubric(path))\n"
        "    result = compiled.score(inputs)\n"
        "    leaf: perfscore.IndicatorResult = result.leaves[0]\n"
        "    assert leaf.score <= leaf.effective_weight\n"
        "    return result.total\n\n"
        "def issues(error: perfscore.PerfscoreError) -> list[dict[str, object]]:\n"
        "    return [issue.to_dict() for issue in error.issues]\n"
    )
    run = _mypy(tmp_path, code)
    assert run.returncode == 0, run.stdout + run.stderr


def _pyright(tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("pyright") is None:
        pytest.skip("pyright is not installed (pip install -e '.[dev]')")
    (tmp_path / "snippet.py").write_text(code, encoding="utf-8")
    config = {"extraPaths": [str(SRC)], "pythonVersion": "3.11", "typeCheckingMode": "strict"}
    (tmp_path / "pyrightconfig.json").write_text(json.dumps(config), encoding="utf-8")
    try:
        run = subprocess.run(
            ["pyright", "--pythonpath", sys.executable, "--outputjson", "snippet.py"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=180,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.skip("pyright did not answer in time (it fetches its program on first use)")
    if not run.stdout.lstrip().startswith("{"):
        pytest.skip(f"pyright could not run: {(run.stderr or run.stdout).strip()[:200]}")
    return run


def test_pyright_sees_the_real_types_and_refuses_a_misspelt_name(tmp_path: Path) -> None:
    names = [name for name in perfscore.__all__ if name != "__version__"]
    code = (
        "import perfscore\n\n"
        + "".join(f"reveal_type(perfscore.{n})\n" for n in names)
        + 'perfscore.load_rubrik("rubric.yaml")\n'
    )
    report = json.loads(_pyright(tmp_path, code).stdout)
    diagnostics = report["generalDiagnostics"]
    revealed = [d["message"] for d in diagnostics if d["severity"] == "information"]
    errors = [d for d in diagnostics if d["severity"] == "error"]
    assert len(revealed) == len(names)
    assert not [m for m in revealed if m.endswith('is "Any"')]
    assert (
        'Type of "perfscore.load_rubric" is "(path: str | Path, *, resolver: Resolver | None '
        '= None, shipped: bool = True) -> Rubric"'
    ) in revealed
    assert {e["range"]["start"]["line"] for e in errors} == {len(names) + 2}  # that line only
    (missing,) = [e for e in errors if e["rule"] == "reportAttributeAccessIssue"]
    assert '"load_rubrik" is not a known attribute of module "perfscore"' in missing["message"]


def test_import_stays_lazy() -> None:
    code = (
        "import sys, perfscore\n"
        "heavy = [m for m in ('pydantic', 'perfscore.engine', 'perfscore.authoring.schema')"
        " if m in sys.modules]\n"
        "print(heavy)\n"
        "perfscore.inputs_schema\n"
        "print('perfscore.authoring.schema' in sys.modules)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SRC)},
        timeout=120,
        check=True,
    )
    assert run.stdout.split("\n")[:2] == ["[]", "True"]


def test_every_public_name_resolves_and_misspellings_do_not() -> None:
    for name in perfscore.__all__:
        assert getattr(perfscore, name) is not None
    with pytest.raises(AttributeError, match="load_rubrik"):
        perfscore.load_rubrik  # type: ignore[attr-defined]  # noqa: B018


@pytest.mark.parametrize(
    "attribute",
    [
        perfscore.CompiledRubric.id,
        perfscore.CompiledRubric.version,
        perfscore.CompiledRubric.input_specs,
        perfscore.ScoreResult.leaves,
        perfscore.ScoreResult.__getitem__,
        perfscore.ScoreResult.to_dict,
        perfscore.Issue.to_dict,
        perfscore.PerfscoreError.to_dict,
    ],
)
def test_public_attributes_the_docs_use_have_docstrings(attribute: object) -> None:
    assert (getattr(attribute, "__doc__", None) or "").strip()


def test_compiled_rubric_hash_is_documented() -> None:
    assert "hash" in (perfscore.CompiledRubric.__doc__ or "")


# --------------------------------------------------------------------------- errors as data


def test_issue_to_dict_has_every_key_and_is_json() -> None:
    issue = Issue(
        "input.out_of_bounds",
        "staff_actual is -1, outside [0, +∞)",
        Location("inputs.yaml", 3, 7, ("staff_actual",)),
        "give a number in [0, +∞)",
        {"input": "staff_actual", "value": Decimal("-1"), "bounds": "[0, +∞)"},
    )
    data = issue.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["code"] == "input.out_of_bounds"
    assert data["severity"] == "error"
    assert data["message"] == issue.message
    assert data["hint"] == issue.hint
    assert data["params"] == {"input": "staff_actual", "value": "-1", "bounds": "[0, +∞)"}
    assert data["location"] == {
        "file": "inputs.yaml",
        "line": 3,
        "column": 7,
        "path": ["staff_actual"],
    }
    assert issue.to_dict(severity="warning")["severity"] == "warning"


def test_error_to_dict_lists_every_issue() -> None:
    with pytest.raises(RubricValidationError) as caught:
        perfscore.loads_rubric(
            "id: x\ntitle: t\ntotal: 10\nindicators:\n"
            "  - {id: a, name: A, weight: 5, scoring: {method: formula, formula: speeed}}\n"
            "grades:\n  - {name: ok, range: '[0, 10]'}\n"
        )
    error: PerfscoreError = caught.value
    data = error.to_dict()
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert data["format"] == 1
    assert data["type"] == "FormulaError" or data["type"] == "RubricValidationError"
    assert data["code"] == type(error).default_code
    assert [i["code"] for i in data["issues"]] == list(error.codes)
    assert data["message"] == str(error)
    for issue, item in zip(error.issues, data["issues"], strict=True):
        assert item == issue.to_dict()
        assert item["location"]["path"] == list(issue.location.path)
