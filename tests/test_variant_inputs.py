"""A variant removes an inherited input or makes it optional (``remove_input``,
``set_input``); an input that nothing reads is a warning of ``perfscore validate``."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import perfscore
from perfscore import i18n
from perfscore.authoring.lint import lint_rubric, unused_inputs
from perfscore.authoring.template import yaml_template
from perfscore.cli import main

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "demo"


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with i18n.use_lang("en"):
        yield


def _variant(tmp_path: Path, changes: str, extra: str = "") -> Path:
    shutil.copy(DEMO / "rubric.yaml", tmp_path / "base.yaml")
    path = tmp_path / "variant.yaml"
    path.write_text(
        f"extends: base.yaml\nid: variant\ntitle: 变体\n{extra}changes:\n{changes}",
        encoding="utf-8",
    )
    return path


def _inputs() -> dict[str, object]:
    import yaml

    data: dict[str, object] = yaml.safe_load((DEMO / "inputs.yaml").read_text(encoding="utf-8"))
    return data


def test_remove_input_with_the_indicator_that_read_it(tmp_path: Path) -> None:
    path = _variant(
        tmp_path,
        "  - remove: disclosure\n  - remove_input: disclosure\n"
        "  - set: funds_compliance\n    weight: 21\n",
    )
    rubric = perfscore.load_rubric(path)
    assert "disclosure" not in rubric.inputs
    assert "\ndisclosure:" not in yaml_template(rubric)
    inputs = {k: v for k, v in _inputs().items() if k != "disclosure"}
    result = perfscore.compile_rubric(rubric).score(inputs)
    assert result["funds_compliance"].effective_weight == 21
    with pytest.raises(perfscore.InputError) as caught:
        perfscore.compile_rubric(rubric).score(_inputs())
    assert caught.value.codes == ("input.unknown",)


def test_removing_an_input_something_reads_is_located(tmp_path: Path) -> None:
    path = _variant(tmp_path, "  - remove_input: staff_actual\n")
    with pytest.raises(perfscore.FormulaError) as caught:
        perfscore.load_rubric(path)
    (issue,) = caught.value.issues
    assert issue.code == "formula.unknown_name"
    assert issue.message == "unknown name 'staff_actual'"
    assert str(issue.location.file).endswith("base.yaml")


def test_set_input_makes_an_inherited_input_optional(tmp_path: Path) -> None:
    path = _variant(tmp_path, "  - set_input: satisfaction\n    required: false\n")
    rubric = perfscore.load_rubric(path)
    assert rubric.inputs["satisfaction"].required is False
    assert rubric.inputs["satisfaction"].label == "社会公众满意度"  # the rest is kept
    inputs = {k: v for k, v in _inputs().items() if k != "satisfaction"}
    result = perfscore.compile_rubric(rubric).score(inputs)
    assert result["public_satisfaction"].status is perfscore.Status.NOT_APPLICABLE


@pytest.mark.parametrize(
    ("changes", "code", "message", "hint"),
    [
        (
            "  - remove_input: staf_actual\n",
            "compose.unknown_input",
            "no input 'staf_actual' in the base rubric",
            "did you mean 'staff_actual'?",
        ),
        (
            "  - set_input: satisfacton\n    required: false\n",
            "compose.unknown_input",
            "no input 'satisfacton' in the base rubric",
            "did you mean 'satisfaction'?",
        ),
        (
            "  - remove_input: satisfaction\n    required: false\n",
            "compose.remove_input_alone",
            "'remove_input' takes no other keys",
            "to change keys of an input, use 'set_input'",
        ),
        (
            "  - remove_input: satisfaction\n    set: staff_control\n",
            "compose.change",
            "a change has exactly one of 'set', 'remove', 'add', 'set_input', 'remove_input'",
            None,
        ),
    ],
)
def test_input_changes_refused(
    tmp_path: Path, changes: str, code: str, message: str, hint: str | None
) -> None:
    with pytest.raises(perfscore.RubricValidationError) as caught:
        perfscore.load_rubric(_variant(tmp_path, changes))
    (issue,) = caught.value.issues
    assert (issue.code, issue.message, issue.hint) == (code, message, hint)
    assert issue.location.line == 5


def test_set_input_keys_are_checked_like_any_input(tmp_path: Path) -> None:
    with pytest.raises(perfscore.RubricValidationError) as caught:
        perfscore.load_rubric(_variant(tmp_path, "  - set_input: satisfaction\n    requird: 1\n"))
    assert "schema.unknown_key" in caught.value.codes


# --------------------------------------------------------------------------- unused inputs


def test_an_unused_input_is_a_warning_of_validate(tmp_path: Path) -> None:
    path = _variant(
        tmp_path,
        "  - set: staff_control\n    weight: 5\n",
        "inputs:\n  nobody: {label: 无人读取, kind: count}\n",
    )
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0
    assert result.output.splitlines()[-2:] == [
        f"warning: {path}:5:3: inputs.nobody: input 'nobody' is declared, but nothing reads it "
        "[rubric.unused_input]",
        "    hint: every department must still fill it in: remove it (in a variant, with "
        "'remove_input'), make it optional ('required: false'), or use it",
    ]


def test_validate_json_lists_the_warnings(tmp_path: Path) -> None:
    path = _variant(
        tmp_path,
        "  - set: staff_control\n    weight: 5\n",
        "inputs:\n  nobody: {label: 无人读取, kind: count}\n",
    )
    result = CliRunner().invoke(main, ["validate", str(path), "-f", "json"])
    assert result.exit_code == 0
    printed = json.loads(result.stdout)
    assert printed["issues"] == []
    (warning,) = printed["warnings"]
    assert warning["code"] == "rubric.unused_input"
    assert warning["severity"] == "warning"
    assert warning["params"] == {"input": "nobody"}
    assert (warning["location"]["line"], warning["location"]["path"]) == (5, ["inputs", "nobody"])


def test_optional_and_checked_inputs_are_not_unused(tmp_path: Path) -> None:
    extra = (
        "inputs:\n"
        "  maybe: {label: 选填, kind: count, required: false}\n"
        "  checked: {label: 核对用, kind: count}\n"
        "checks:\n"
        "  - {id: over, when: checked > 1000, message: 过大}\n"
    )
    path = _variant(tmp_path, "  - set: staff_control\n    weight: 5\n", extra)
    assert lint_rubric(perfscore.load_rubric(path)) == []


def test_no_shipped_rubric_requires_an_input_it_does_not_read() -> None:
    """Hunan variant D's 基础数据表 declares figures its visible rows do not use: they are
    optional there, so they ask nothing of a department."""
    paths = [
        *(ROOT / "rubrics").rglob("*.yaml"),
        *(ROOT / "examples").rglob("rubric.yaml"),
    ]
    for path in sorted(paths):
        if ".cases." in path.name or "menu" in path.name:  # case files and their inputs
            continue
        assert unused_inputs(perfscore.load_rubric(path)) == [], path


_ID = st.from_regex(r"\Azz_[a-z]{1,8}\Z")


@given(st.lists(_ID, unique=True, max_size=4), st.data())
def test_unused_inputs_are_exactly_the_ones_nothing_reads(
    tmp_path_factory: pytest.TempPathFactory, extra: list[str], data: st.DataObject
) -> None:
    """Extra inputs, some read by a check: exactly the unread required ones are reported,
    and removing them (remove_input) leaves no warning."""
    read = data.draw(st.lists(st.sampled_from(extra), unique=True) if extra else st.just([]))
    tmp_path = tmp_path_factory.mktemp("unused")
    declared = "".join(f"  {name}: {{label: {name}, kind: count}}\n" for name in extra)
    checks = "".join(f"  - {{id: c_{name}, when: {name} > 1, message: 过大}}\n" for name in read)
    text = "inputs:\n" + declared if extra else ""
    text += "checks:\n" + checks if read else ""
    path = _variant(tmp_path, "  - set: staff_control\n    weight: 5\n", text)
    unread = [n for n in extra if n not in read]
    assert unused_inputs(perfscore.load_rubric(path)) == unread
    removals = "".join(f"  - remove_input: {name}\n" for name in unread)
    path = _variant(tmp_path, "  - set: staff_control\n    weight: 5\n" + removals, text)
    assert unused_inputs(perfscore.load_rubric(path)) == []


def test_the_format_reference_documents_every_change() -> None:
    from perfscore._compose import _OPS_SHOWN

    text = (ROOT / "docs" / "rubric-format.md").read_text(encoding="utf-8")
    assert [op for op in _OPS_SHOWN if f"`{op}: <" not in text] == []


def test_a_shipped_hunan_variant_is_a_base(tmp_path: Path) -> None:
    path = tmp_path / "county.yaml"
    path.write_text(
        "extends: perfscore:hunan/variant-b\n"
        "id: county\n"
        "title: 县级变体\n"
        "changes:\n"
        "  - set: staff_control\n"
        "    scoring: {method: deduction, value: staff_control_rate, threshold: 100,\n"
        "              direction: over, deduct: {points: 1, per: 1, steps: whole}}\n",
        encoding="utf-8",
    )
    rubric = perfscore.load_rubric(path)
    origins = rubric.indicator_origins
    assert origins["staff_control"] == str(path)
    assert origins["sangong_change"].endswith("rubrics/hunan/variant-b.yaml")
    import yaml

    example = ROOT / "examples" / "hunan-variants" / "variant-b.yaml"
    inputs = yaml.safe_load(example.read_text(encoding="utf-8"))
    over = {**inputs, "staff_actual": 21, "staff_authorized": 20}  # 105 %: 5 points over
    compiled = perfscore.compile_rubric(rubric)
    assert compiled.score(over)["staff_control"].score == 0  # −1 a point here, −0.5 in B
    assert compiled.score(inputs)["staff_control"].score == 5
