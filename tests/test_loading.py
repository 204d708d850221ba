"""Loading rubric files: three formats, hostile documents refused, every issue located."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import perfscore
from perfscore import (
    PerfscoreError,
    RubricSyntaxError,
    RubricValidationError,
    load_rubric,
    loads_rubric,
)
from perfscore.loading import MAX_DEPTH, MAX_FILE_BYTES, MAX_STRING

from .conftest import one_leaf_rubric

#: The messages these tests assert are the English ones.
pytestmark = pytest.mark.lang("en")

FORMATS = Path(__file__).parent / "data" / "formats"


def syntax_error(text: str, fmt: str = "yaml") -> RubricSyntaxError:
    with pytest.raises(RubricSyntaxError) as info:
        loads_rubric(text, format=fmt, name=f"r.{fmt}")  # type: ignore[arg-type]
    return info.value


def invalid(text: str) -> RubricValidationError:
    with pytest.raises(RubricValidationError) as info:
        loads_rubric(textwrap.dedent(text).lstrip(), name="r.yaml")
    return info.value


# --------------------------------------------------------------------------- formats


def test_yaml_json_and_toml_load_equal() -> None:
    yaml_rubric = load_rubric(FORMATS / "small.yaml")
    json_rubric = load_rubric(FORMATS / "small.json")
    toml_rubric = load_rubric(FORMATS / "small.toml")
    assert yaml_rubric == json_rubric == toml_rubric
    assert perfscore.content_hash(yaml_rubric) == perfscore.content_hash(toml_rubric)
    inputs = {"staff_authorized": 18, "staff_actual": 17, "rules_exist": True}
    results = [
        perfscore.compile_rubric(r).score(inputs) for r in (yaml_rubric, json_rubric, toml_rubric)
    ]
    assert results[0] == results[1] == results[2]
    assert results[0].total == 20


def test_loads_rubric_takes_each_format() -> None:
    for suffix in ("yaml", "json", "toml"):
        text = (FORMATS / f"small.{suffix}").read_text(encoding="utf-8")
        rubric = loads_rubric(text, format=suffix)  # type: ignore[arg-type]
        assert rubric.id == "small"


def test_numbers_read_exactly_from_their_text() -> None:
    rubric = load_rubric(FORMATS / "small.yaml")
    weights = [str(node.weight) for node in rubric.walk()]
    assert weights == ["20", "10.5", "9.5"]


def test_utf8_bom_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + (FORMATS / "small.yaml").read_bytes())
    assert load_rubric(path) == load_rubric(FORMATS / "small.yaml")


def test_merge_keys_allowed() -> None:
    rubric = loads_rubric(
        one_leaf_rubric(
            "{method: formula, expression: x}",
            inputs="base: &base {label: 基数, kind: number}\nx: {<<: *base, label: X}",
        )
    )
    assert rubric.inputs["x"].label == "X"
    assert rubric.inputs["x"].kind == "number"


# --------------------------------------------------------------------------- hostile files


def test_duplicate_key_refused() -> None:
    error = syntax_error("id: a\ntitle: T\nid: b\n")
    assert error.codes == ("yaml.duplicate_key",)
    assert str(error) == (
        "r.yaml:3:1: key 'id' appears twice in the same mapping [yaml.duplicate_key]\n"
        "    hint: remove or rename one of them"
    )


def test_duplicate_key_refused_in_json() -> None:
    error = syntax_error('{"id": "a",\n "id": "b"}', "json")
    assert error.codes == ("yaml.duplicate_key",)
    assert (error.issues[0].location.line, error.issues[0].location.column) == (2, 2)


@pytest.mark.parametrize(
    "text",
    [
        "a: !!python/object:os.system {}\n",
        "a: !!python/object/apply:os.system ['echo hacked']\n",
        "a: !!python/name:os.system\n",
        "a: !custom 1\n",
        "a: !!binary aGVsbG8=\n",
        "a: !!set {x}\n",
    ],
)
def test_tags_refused(text: str) -> None:
    error = syntax_error(text)
    assert error.codes == ("yaml.tag",)
    assert error.issues[0].hint == "rubric files use plain YAML: remove the '!' tag"
    assert (error.issues[0].location.line, error.issues[0].location.column) == (1, 4)


def test_alias_bomb_refused() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev, name = chr(96 + i), chr(97 + i)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    text = "\n".join(lines) + "\n"
    assert len(text) < 1000  # a kilobyte that would expand to a billion values
    error = syntax_error(text)
    assert error.codes == ("yaml.too_large",)
    assert "alias bomb" in error.issues[0].message


def test_deep_nesting_refused() -> None:
    depth = MAX_DEPTH + 5
    error = syntax_error("a: " + "[" * depth + "]" * depth + "\n")
    assert error.codes == ("yaml.too_deep",)
    assert error.issues[0].message == f"document nests deeper than {MAX_DEPTH} levels"


def test_nesting_deep_enough_to_break_the_parser_refused() -> None:
    error = syntax_error("a: " + "[" * 3000 + "]" * 3000 + "\n")
    assert error.codes == ("yaml.too_deep",)


def test_deep_json_refused() -> None:
    depth = MAX_DEPTH + 5
    assert syntax_error('{"a": ' + "[" * depth + "]" * depth + "}", "json").codes == (
        "yaml.too_deep",
    )


def test_deep_toml_refused_by_the_parser() -> None:
    error = syntax_error("a = " + "[" * 5000 + "]" * 5000 + "\n", "toml")
    assert error.codes == ("toml.too_deep",)


def test_toml_nesting_bounded_like_yaml() -> None:
    depth = MAX_DEPTH + 36
    error = syntax_error("a = " + "[" * depth + "]" * depth + "\n", "toml")
    assert error.codes == ("toml.too_deep",)


def test_long_string_refused() -> None:
    error = syntax_error("a: " + "x" * (MAX_STRING + 1) + "\n")
    assert error.codes == ("yaml.string_too_long",)


@pytest.mark.parametrize("text", ["a: .nan\n", "a: .inf\n", "a: -.inf\n"])
def test_non_finite_numbers_refused(text: str) -> None:
    assert syntax_error(text).codes == ("yaml.number",)


def test_huge_integer_refused() -> None:
    assert syntax_error("a: " + "9" * 41 + "\n").codes == ("yaml.number",)


@pytest.mark.parametrize("text", ["? [a, b]\n: 1\n", "true: 1\n", "~: 1\n"])
def test_keys_must_be_text(text: str) -> None:
    assert syntax_error(text).codes == ("yaml.key",)


def test_yaml_syntax_error_located() -> None:
    error = syntax_error("id: t\ntitle: [a, b\n")
    assert error.codes == ("yaml.syntax",)
    assert error.issues[0].location.file == "r.yaml"
    assert error.issues[0].location.line == 3


def test_toml_syntax_error() -> None:
    error = syntax_error("id = \n", "toml")
    assert error.codes == ("toml.syntax",)
    location = error.issues[0].location
    assert (location.line, location.column, location.source_line) == (1, 6, "id = ")
    assert "(at line" not in error.issues[0].message


def test_toml_syntax_error_at_the_end_is_located_on_the_last_line() -> None:
    error = syntax_error('id = "t"\ntitle = "never closed', "toml")
    location = error.issues[0].location
    assert (location.line, location.column) == (2, 22)
    assert error.issues[0].message == "Unterminated string"


def test_file_too_large(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    with pytest.raises(RubricSyntaxError) as info:
        load_rubric(path)
    assert info.value.codes == ("file.too_large",)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RubricSyntaxError) as info:
        load_rubric(tmp_path / "nope.yaml")
    assert info.value.codes == ("file.unreadable",)
    assert str(info.value) == (
        f"{tmp_path / 'nope.yaml'}: cannot read file: No such file or directory [file.unreadable]"
    )


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "gbk.yaml"
    path.write_bytes("id: t\ntitle: 部门整体支出绩效评价\n".encode("gbk"))
    with pytest.raises(RubricSyntaxError) as info:
        load_rubric(path)
    assert info.value.codes == ("file.encoding",)
    assert info.value.issues[0].hint == "save the file as UTF-8"


@pytest.mark.parametrize("text", ["", "# nothing\n", "[1, 2]\n", "just text\n"])
def test_document_must_be_a_mapping(text: str) -> None:
    with pytest.raises(RubricValidationError) as info:
        loads_rubric(text)
    assert info.value.codes == ("schema.invalid",)
    assert info.value.issues[0].message == "a rubric must be a mapping of keys to values"


def test_errors_never_leak_foreign_exceptions() -> None:
    for text in ["a: [", "a: {", "\t- x", "- - - -", "a: *nope", "%YAML 9.9\n---\na: 1"]:
        with pytest.raises(PerfscoreError):
            loads_rubric(text)


# --------------------------------------------------------------------------- locations

LEAF = """\
id: t
title: T
inputs:
  speed: {label: 速度, kind: number}
indicators:
  - id: a
    name: A
    weigth: 100
    scoring:
      method: formula
      expression: %s
grades:
  - {name: ok, range: "[0, 100]"}
"""


def test_unknown_key_located_at_the_key() -> None:
    error = invalid(LEAF % "speed")
    unknown = next(i for i in error.issues if i.code == "schema.unknown_key")
    assert str(unknown) == (
        "r.yaml:8:5: indicators[0].weigth: unknown key 'weigth' [schema.unknown_key]\n"
        "    hint: did you mean 'weight'?"
    )
    missing = next(i for i in error.issues if i.code == "schema.missing")
    assert str(missing) == (
        "r.yaml:6:5: indicators[0].weight: missing required key 'weight' [schema.missing]"
    )


def _unknown_key_hint(text: str) -> str | None:
    error = invalid(text)
    return next(i for i in error.issues if i.code == "schema.unknown_key").hint


def test_unknown_key_suggestions_come_from_the_keys_valid_there() -> None:
    # 'weight' is a key of the format, but not of a scoring method: not suggested there.
    hint = _unknown_key_hint(
        one_leaf_rubric(
            "{method: deduction, value: x, direction: over, weigth: 1, "
            "deduct: {points: 1, steps: whole}}"
        )
    )
    assert hint is not None
    assert "'weight'" not in hint
    assert hint.startswith("the keys here are ")
    assert "threshold" in hint
    assert "direction" in hint
    assert "bands" not in hint
    # The method's own keys are found by its 'method'.
    assert (
        _unknown_key_hint(
            one_leaf_rubric(
                "{method: deduction, value: x, direction: over, treshold: 1, "
                "deduct: {points: 1, steps: whole}}"
            )
        )
        == "did you mean 'threshold'?"
    )
    # A band takes the interval keys as well as its fields.
    hint = _unknown_key_hint(
        one_leaf_rubric('{method: bands, value: x, bands: [{range: "[0, 10]", points: 1, zz: 1}]}')
    )
    assert hint is not None
    assert "include_from" in hint
    assert "points" in hint


def test_wrong_value_located_at_the_value() -> None:
    text = (LEAF % "speed").replace("weigth: 100", "weight: lots")
    error = invalid(text)
    assert error.issues[0].code == "schema.invalid"
    location = error.issues[0].location
    assert (location.line, location.column) == (8, 13)
    assert location.path == ("indicators", 0, "weight")


@pytest.mark.parametrize(
    ("written", "column"),
    [
        ("speed + speeed", 27),  # plain scalar: the expression starts at column 19
        ("'speed + speeed'", 28),  # quoted: one further, past the quote
        ('"speed + speeed"', 28),
    ],
)
def test_formula_issue_located_inside_the_string(written: str, column: int) -> None:
    text = (LEAF % written).replace("weigth", "weight")
    with pytest.raises(perfscore.FormulaError) as info:
        loads_rubric(text, name="r.yaml")
    issue = info.value.issues[0]
    assert (issue.location.line, issue.location.column) == (11, column)
    line = text.splitlines()[10]
    assert line[column - 1 :].startswith("speeed")
    assert str(info.value) == (
        f"r.yaml:11:{column}: indicators[0].scoring.expression: unknown name 'speeed' "
        "[formula.unknown_name]\n"
        "    speed + speeed\n"
        "            ^^^^^^\n"
        "    hint: did you mean 'speed'?"
    )


def test_formula_issue_located_inside_a_block_scalar() -> None:
    block = "|\n        (speed +\n         speeed)"
    text = (LEAF % block).replace("weigth", "weight")
    with pytest.raises(perfscore.FormulaError) as info:
        loads_rubric(text, name="r.yaml")
    issue = info.value.issues[0]
    assert (issue.location.line, issue.location.column) == (13, 10)


def test_formula_issue_located_inside_a_folded_scalar() -> None:
    block = ">-\n        speed +\n        speeed"
    text = (LEAF % block).replace("weigth", "weight")
    with pytest.raises(perfscore.FormulaError) as info:
        loads_rubric(text, name="r.yaml")
    issue = info.value.issues[0]
    assert (issue.location.line, issue.location.column) == (13, 9)


def test_every_problem_of_a_file_in_one_pass() -> None:
    error = invalid(
        """
        id: T!
        title: T
        total: 100
        inputs:
          x: {label: X, kind: number}
          y: {label: Y, kind: numeric}
        indicators:
          - {id: a, name: A, weight: 50, scoring: {method: formula, expression: x}}
          - {id: b, name: B, weight: -1, scoring: {method: formula, expression: x}}
          - {id: c, name: C, weight: 50, scoring: {method: formula, expression: x}, color: red}
        grades:
          - {name: ok, range: "[0, 100]"}
        """
    )
    assert sorted(error.codes) == [
        "schema.invalid",
        "schema.invalid",
        "schema.invalid",
        "schema.unknown_key",
    ]
    paths = {i.location.path for i in error.issues}
    assert paths == {
        ("id",),
        ("inputs", "y", "kind"),
        ("indicators", 1, "weight"),
        ("indicators", 2, "color"),
    }


def test_no_follow_on_issue_when_the_only_indicator_is_invalid() -> None:
    error = invalid(one_leaf_rubric("{method: bandz, value: x}"))
    assert error.codes == ("schema.value",)


def test_bad_input_id_located_at_the_key() -> None:
    error = invalid(
        """
        id: t
        title: T
        inputs:
          Bad: {label: B, kind: number}
        indicators:
          - {id: a, name: A, weight: 100, scoring: {method: formula, expression: "1"}}
        grades:
          - {name: ok, range: "[0, 100]"}
        """
    )
    issue = error.issues[0]
    assert issue.location.path == ("inputs", "Bad")
    assert (issue.location.line, issue.location.column) == (4, 3)
    assert issue.hint is not None
    assert "snake_case" in issue.hint
