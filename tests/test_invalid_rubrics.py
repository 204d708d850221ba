"""One invalid rubric per kind of error, each beside the exact message it must produce.

``tests/data/invalid/<code>[-variant].<ext>`` is a small rubric that breaks one rule;
``<code>[-variant].expected.txt`` holds ``str(error)`` exactly: every issue with
file:line:col, path, message, code, caret and hint. Files are loaded by a path relative
to the repository root, so the text does not depend on where the checkout lives.

To add a case: write the rubric, run the test once, read the message it gives and judge
it (is it clear? does it point at the right place?), then save it as the expected file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import perfscore
from perfscore import (
    FormulaError,
    PerfscoreError,
    RubricError,
    RubricSyntaxError,
    RubricValidationError,
)

ROOT = Path(__file__).resolve().parent.parent
INVALID = Path("tests") / "data" / "invalid"
EXPECTED_SUFFIX = ".expected.txt"

#: Fixtures whose expected text is what the message *should* be, not what it is today.
KNOWN_WRONG: dict[str, str] = {}


def _fixtures() -> list[Path]:
    return sorted(
        p
        for p in (ROOT / INVALID).iterdir()
        if p.is_file() and not p.name.endswith(EXPECTED_SUFFIX)
    )


def _stem(path: Path) -> str:
    return path.name.rsplit(".", 1)[0]


def _code(path: Path) -> str:
    return _stem(path).split("-", 1)[0]


def _expected_class(code: str) -> type[PerfscoreError]:
    if code.split(".", 1)[0] in ("yaml", "toml", "file"):
        return RubricSyntaxError
    if code.startswith("formula."):
        return FormulaError
    return RubricValidationError


def _params() -> list[object]:
    params = []
    for path in _fixtures():
        marks = []
        if _stem(path) in KNOWN_WRONG:
            marks.append(pytest.mark.xfail(reason=KNOWN_WRONG[_stem(path)], strict=True))
        params.append(pytest.param(path.name, id=path.name, marks=marks))
    return params


@pytest.mark.parametrize("name", _params())
def test_invalid_rubric_message(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    path = INVALID / name
    expected = (ROOT / INVALID / f"{_stem(path)}{EXPECTED_SUFFIX}").read_text(encoding="utf-8")
    with pytest.raises(RubricError) as info:
        perfscore.load_rubric(path.as_posix())
    error = info.value
    assert str(error) == expected.removesuffix("\n")
    assert type(error) is _expected_class(_code(path))
    assert _code(path) in error.codes


def test_every_fixture_has_its_expected_message() -> None:
    fixtures = {_stem(p) for p in _fixtures()}
    expected = {
        p.name.removesuffix(EXPECTED_SUFFIX)
        for p in (ROOT / INVALID).iterdir()
        if p.name.endswith(EXPECTED_SUFFIX)
    }
    assert fixtures == expected
    assert len(fixtures) == len(_fixtures())  # no two fixtures share a name


def test_fixtures_cover_the_rubric_error_codes() -> None:
    covered = {_code(p) for p in _fixtures()}
    wanted = {
        "yaml.syntax",
        "yaml.duplicate_key",
        "yaml.tag",
        "yaml.too_large",
        "yaml.too_deep",
        "toml.syntax",
        "file.encoding",
        "schema.unknown_key",
        "schema.missing",
        "schema.invalid",
        "schema.value",
        "rubric.weight_sum",
        "rubric.total_mismatch",
        "rubric.cycle",
        "rubric.grades_gap",
        "rubric.grades_overlap",
        "formula.unknown_name",
        "formula.forbidden",
        "formula.syntax",
        "formula.type",
        "method.points_over_weight",
        "method.bands_overlap",
    }
    assert wanted <= covered
