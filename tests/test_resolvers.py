"""Resolvers: what ``extends`` / ``uses`` may reference from a file, from text, from a
platform's own store, with or without the shipped rubrics; project search folders."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import perfscore
from perfscore.errors import RubricSyntaxError, RubricValidationError
from perfscore.resolvers import (
    Document,
    FolderResolver,
    MappingResolver,
    Resolver,
    ShippedResolver,
    candidates,
)

LIBRARY = """\
library: shared
inputs:
  a: {label: A, kind: number, min: 0, max: 100}
definitions:
  a_score: {name: 甲, scoring: {method: formula, expression: "a"}}
"""

BASE = """\
id: base
title: 基础
inputs:
  a: {label: A, kind: number, min: 0, max: 100}
indicators:
  - {id: top, name: 顶, weight: 100, scoring: {method: formula, expression: "a"}}
grades:
  - {name: 合格, range: "[60, 100]"}
  - {name: 不合格, range: "[0, 60)"}
"""


def rubric_using(reference: str) -> str:
    return (
        f"id: tenant\ntitle: 租户\nuses: {reference}\n"
        "indicators:\n  - {ref: a_score, id: top, weight: 100}\n"
        'grades:\n  - {name: 合格, range: "[60, 100]"}\n  - {name: 不合格, range: "[0, 60)"}\n'
    )


def test_text_without_resolver_references_shipped_rubrics() -> None:
    text = (
        "id: local\ntitle: 本地\nuses: perfscore:mof/dept-overall-menu-2013\n"
        "indicators:\n  - {ref: public_satisfaction, weight: 100,"
        " scoring: {method: proportional, value: satisfaction}}\n"
        'grades:\n  - {name: 合格, range: "[60, 100]"}\n  - {name: 不合格, range: "[0, 60)"}\n'
    )
    rubric = perfscore.loads_rubric(text)
    assert rubric.indicator("public_satisfaction").name
    assert perfscore.compile_rubric(rubric).score({"satisfaction": 95}).total == Decimal("95.00")


def test_text_without_resolver_refuses_other_references() -> None:
    with pytest.raises(RubricValidationError) as info:
        perfscore.loads_rubric(rubric_using("shared"))
    # the reference is refused; the definition it would have given is then unknown
    assert info.value.codes == ("compose.no_resolver", "compose.unknown_definition")
    issue = info.value.issues[0]
    assert issue.params == {"reference": "shared"}
    assert issue.location.path == ("uses",)
    assert issue.location.line == 3


def test_mapping_resolver_serves_a_platform_store() -> None:
    store = MappingResolver({"libs/shared.yaml": LIBRARY, "base": BASE})
    rubric = perfscore.loads_rubric(rubric_using("libs/shared"), resolver=store)
    assert rubric.indicator("top").name == "甲"
    child = perfscore.loads_rubric(
        "extends: base\nid: child\ntitle: 子\n", resolver=store, name="store:child"
    )
    assert child.id == "child"
    assert perfscore.compile_rubric(child).score({"a": 70}).grade == "合格"


def test_mapping_resolver_resolves_relative_to_the_referring_document() -> None:
    store = MappingResolver(
        {
            "city/base.yaml": BASE.replace("uses", "x"),
            "city/variant.yaml": "extends: base\nid: variant\ntitle: 变体\n",
        }
    )
    rubric = perfscore.loads_rubric("extends: city/variant\nid: last\ntitle: 末\n", resolver=store)
    assert rubric.id == "last"
    assert rubric.indicator_origins["top"] == "city/base.yaml"


def test_mapping_resolver_accepts_bytes_and_formats_by_suffix() -> None:
    store = MappingResolver({"lib.json": b'{"library": "j", "inputs": {}, "definitions": {}}'})
    with pytest.raises(RubricValidationError) as info:  # found and read; no definition
        perfscore.loads_rubric(rubric_using("lib"), resolver=store)
    assert info.value.codes == ("compose.unknown_definition",)


def test_a_switch_refuses_the_shipped_rubrics_for_a_tenant() -> None:
    store = MappingResolver({"shared": LIBRARY})
    with pytest.raises(RubricValidationError) as info:
        perfscore.loads_rubric(
            rubric_using("perfscore:mof/dept-overall-menu-2013"), resolver=store, shipped=False
        )
    assert info.value.codes[0] == "compose.shipped_refused"
    # a store's document cannot reach the shipped rubrics either
    store = MappingResolver({"shared": "extends: perfscore:shaoyang/dept-overall-2023\n"})
    with pytest.raises(RubricValidationError) as info:
        perfscore.loads_rubric("extends: shared\nid: t\ntitle: t\n", resolver=store, shipped=False)
    assert info.value.codes == ("compose.shipped_refused",)


def test_a_resolver_of_ones_own_with_its_own_sentence() -> None:
    class Store:
        def __init__(self) -> None:
            self.asked: list[tuple[str, str | None]] = []

        def resolve(self, reference: str, referrer: Document | None) -> Document:
            self.asked.append((reference, None if referrer is None else referrer.key))
            if reference == "shared":
                return Document(LIBRARY, "db:tenant-7/shared", key="tenant-7/shared")
            raise LookupError(f"tenant 7 has no rubric {reference!r}")

    store = Store()
    assert isinstance(store, Resolver)
    rubric = perfscore.loads_rubric(rubric_using("shared"), resolver=store, key="tenant-7/x")
    assert rubric.indicator_origins["top"].endswith("from db:tenant-7/shared")
    assert store.asked == [("shared", "tenant-7/x")]
    with pytest.raises(RubricValidationError) as info:
        perfscore.loads_rubric(rubric_using("other"), resolver=store)
    assert info.value.codes[0] == "compose.reference"
    assert info.value.issues[0].message == "tenant 7 has no rubric 'other'"


def test_folder_resolver_never_leaves_its_root(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    (tmp_path / "outside.yaml").write_text(LIBRARY, encoding="utf-8")
    resolver = FolderResolver(tmp_path / "root")
    for reference in ("../outside", "/etc/passwd", "a\\b", "c:/x"):
        with pytest.raises(RubricValidationError) as info:
            perfscore.loads_rubric(rubric_using(reference), resolver=resolver)
        assert info.value.codes[0] == "compose.reference", reference
    if hasattr(os, "symlink"):
        (tmp_path / "root" / "link.yaml").symlink_to(tmp_path / "outside.yaml")
        with pytest.raises(RubricValidationError) as info:
            perfscore.loads_rubric(rubric_using("link"), resolver=resolver)
        assert "outside" in info.value.issues[0].message


def test_project_search_folders_reach_a_sibling_folder(tmp_path: Path) -> None:
    (tmp_path / "perfscore.toml").write_text('[references]\nsearch = ["shared"]\n')
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "menu.yaml").write_text(LIBRARY, encoding="utf-8")
    (tmp_path / "city").mkdir()
    rubric_file = tmp_path / "city" / "r.yaml"
    rubric_file.write_text(rubric_using("menu"), encoding="utf-8")
    rubric = perfscore.load_rubric(rubric_file)
    assert rubric.indicator_origins["top"].endswith(str(Path("shared") / "menu.yaml"))
    # without the configuration, the sibling folder is out of reach
    (tmp_path / "perfscore.toml").unlink()
    with pytest.raises(RubricValidationError) as info:
        perfscore.load_rubric(rubric_file)
    assert info.value.codes[0] == "compose.reference"


@pytest.mark.parametrize(
    ("config", "code"),
    [
        ('[references]\nsearch = ["../elsewhere"]\n', "config.search_escape"),
        ('[references]\nsearch = ["/etc"]\n', "config.search_escape"),
        ('[references]\nsearch = "shared"\n', "config.search"),
        ('[references]\nsearch = ["missing"]\n', "config.search_missing"),
        ("[references\n", "config.syntax"),
    ],
)
def test_project_configuration_is_checked(tmp_path: Path, config: str, code: str) -> None:
    (tmp_path / "perfscore.toml").write_text(config)
    rubric_file = tmp_path / "r.yaml"
    rubric_file.write_text(rubric_using("shared"), encoding="utf-8")
    with pytest.raises(RubricSyntaxError) as info:
        perfscore.load_rubric(rubric_file)
    assert info.value.codes == (code,)
    assert info.value.issues[0].location.file == str(tmp_path / "perfscore.toml")


def test_shipped_resolver_lists_and_reads_the_shipped_rubrics() -> None:
    shipped = ShippedResolver()
    names = shipped.references()
    assert "perfscore:shaoyang/dept-overall-2023" in names
    assert "perfscore:mof/dept-overall-menu-2013" in names
    assert not any(".cases" in n for n in names)
    document = shipped.resolve("perfscore:mof/project-self-eval-2020", None)
    assert document.key == "perfscore:mof/project-self-eval-2020"
    with pytest.raises(LookupError):
        shipped.resolve("perfscore:no/such", None)


def test_loads_rubric_takes_bytes_and_yml() -> None:
    text = BASE.encode("utf-8")
    assert perfscore.loads_rubric(text, format="yml") == perfscore.loads_rubric(BASE)
    assert perfscore.loads_rubric(text, format="YAML").id == "base"


@pytest.mark.parametrize("fmt", ["xml", "", "ini"])
def test_an_unknown_format_is_a_perfscore_error(fmt: str) -> None:
    with pytest.raises(RubricSyntaxError) as info:
        perfscore.loads_rubric(BASE, format=fmt, name="in-memory")
    assert info.value.codes == ("file.format",)
    assert info.value.issues[0].params["format"] == fmt
    assert info.value.issues[0].location.file == "in-memory"


_SEGMENT = st.text(alphabet="abc._/\\:", min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(reference=_SEGMENT, referrer=st.none() | st.sampled_from(["x.yaml", "a/b/x.yaml"]))
def test_no_candidate_ever_climbs_above_the_root(reference: str, referrer: str | None) -> None:
    """Whatever the reference, every key tried stays under the root (or it is refused)."""
    try:
        keys = list(candidates(reference, referrer, ("shared",)))
    except LookupError:
        return
    for key in keys:
        parts = Path(key).parts
        assert ".." not in parts, key
        assert not Path(key).is_absolute(), key
        assert "\\" not in key, key
        assert ":" not in key, key


@settings(max_examples=100, deadline=None)
@given(reference=_SEGMENT)
def test_mapping_resolver_finds_only_what_it_holds(reference: str) -> None:
    store = MappingResolver({"shared.yaml": LIBRARY})
    try:
        document = store.resolve(reference, None)
    except LookupError:
        return
    assert document.key == "shared.yaml"


def test_one_rubric_file_named_by_reference(tmp_path: Path) -> None:
    """``resolve_reference`` names one file (a golden-case file's rubric): a shipped one,
    or one beside the referring file, never elsewhere."""
    from perfscore._compose import resolve_reference

    shipped = resolve_reference("perfscore:mof/project-self-eval-2020", None)
    assert shipped.name == "project-self-eval-2020.yaml"
    (tmp_path / "r.yaml").write_text(BASE, encoding="utf-8")
    assert resolve_reference("r", tmp_path / "cases.yaml") == tmp_path / "r.yaml"
    for bad, referrer in (("../r", tmp_path / "x.yaml"), ("r", None), ("nothing", tmp_path)):
        with pytest.raises(ValueError, match=r"."):
            resolve_reference(bad, referrer)


def test_a_rubric_without_references_reads_no_configuration(tmp_path: Path) -> None:
    (tmp_path / "perfscore.toml").write_text("not toml [", encoding="utf-8")
    rubric_file = tmp_path / "r.yaml"
    rubric_file.write_text(BASE, encoding="utf-8")
    assert perfscore.load_rubric(rubric_file).id == "base"  # the configuration is not read
    rubric_file.write_text(rubric_using("shared"), encoding="utf-8")
    with pytest.raises(RubricSyntaxError) as info:
        perfscore.load_rubric(rubric_file)
    assert info.value.codes == ("config.syntax",)


@pytest.mark.parametrize("reference", ["../x", "/etc/passwd", "a\\b", "c:/x", "x/../../y"])
def test_a_name_that_could_reach_another_file_is_refused_as_such(reference: str) -> None:
    """Resolver or not, a name outside the rules is ``compose.reference``, not merely
    'no resolver'; a custom resolver never sees it."""
    asked: list[str] = []

    class Store:
        def resolve(self, ref: str, referrer: Document | None) -> Document:
            asked.append(ref)
            raise LookupError("never")

    for resolver in (None, Store()):
        with pytest.raises(RubricValidationError) as info:
            perfscore.loads_rubric(rubric_using(f"'{reference}'"), resolver=resolver)
        assert info.value.codes[0] == "compose.reference", reference
    assert asked == []
