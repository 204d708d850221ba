"""The message catalogue: every key in every language, with the same parameters."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import perfscore
from perfscore import i18n
from perfscore.errors import Issue, Location, PerfscoreError

from ._source_texts import issue_codes, text_keys, written_by_hand


def test_every_key_exists_in_every_language_with_the_same_parameters() -> None:
    reference = i18n.keys(i18n.LANGS[0])
    for lang in i18n.LANGS[1:]:
        assert i18n.keys(lang) == reference, f"keys differ between zh and {lang}"
    for key in sorted(reference):
        wanted = i18n.placeholders(i18n.tr(key, i18n.LANGS[0]))
        for lang in i18n.LANGS[1:]:
            assert i18n.placeholders(i18n.tr(key, lang)) == wanted, (key, lang)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "zh"),
        ({"LANG": "C"}, "zh"),
        ({"LANG": "POSIX"}, "zh"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "zh_CN.UTF-8"}, "zh"),
        ({"LANG": "fr_FR.UTF-8"}, "zh"),
        ({"LC_ALL": "en_GB.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
        ({"LC_ALL": "C", "LANG": "en_US.UTF-8"}, "zh"),
        ({"PERFSCORE_LANG": "en", "LANG": "zh_CN.UTF-8"}, "en"),
        ({"PERFSCORE_LANG": "zh", "LC_ALL": "en_US.UTF-8"}, "zh"),
        ({"PERFSCORE_LANG": "xx", "LANG": "en_US.UTF-8"}, "en"),
    ],
)
def test_the_language_comes_from_the_environment_else_chinese(
    monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], expected: str
) -> None:
    for name in ("PERFSCORE_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert i18n.resolve_lang() == expected


def test_an_explicit_language_wins_and_an_unknown_one_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PERFSCORE_LANG", "zh")
    assert i18n.resolve_lang("en") == "en"
    with i18n.use_lang("en"):
        assert i18n.current_lang() == "en"
        assert i18n.tr("lang.name") == "English"
    assert i18n.current_lang() == "zh"
    with pytest.raises(ValueError, match="unknown language 'klingon'"):
        i18n.resolve_lang("klingon")


def test_each_language_has_the_same_catalogue_files() -> None:
    root = Path(i18n.__file__).parent
    files = {lang: sorted(p.name for p in (root / lang).glob("*.po")) for lang in i18n.LANGS}
    assert all(names == files[i18n.LANGS[0]] for names in files.values()), files


def test_a_missing_key_is_an_error() -> None:
    with pytest.raises(KeyError, match=r"no text 'no\.such\.key'"):
        i18n.tr("no.such.key", "zh")


def test_placeholders_are_read_from_the_template() -> None:
    assert i18n.placeholders("{a} 超过 {b:.2f}，{c[0]}") == {"a", "b", "c"}
    assert i18n.placeholders("无参数") == frozenset()


def test_an_issue_from_the_catalogue_carries_its_parameters_and_renders_in_each_language() -> None:
    issue = Issue.of("lang.name", Location(file="x.yaml"), lang="zh")
    assert issue.message == "中文"
    assert issue.message_in("en") == "English"
    assert issue.params == {}
    plain = Issue("custom.code", "written by hand")
    assert plain.message_in("en") == "written by hand"
    assert plain.hint_in("en") is None


def test_every_key_the_source_names_is_in_the_catalogue() -> None:
    named = text_keys()
    assert len(named) > 200, "few keys found: the reader in _source_texts is stale"
    assert sorted(named - i18n.keys()) == []


def test_every_issue_code_is_written_from_the_catalogue() -> None:
    """Each code the package raises has its text in the catalogue, or every issue with it
    brings its own text of the catalogue (``message=msg(...)``)."""
    codes = issue_codes()
    assert len(codes) > 80
    for code in sorted(codes):
        issue = Issue.of(code, message=i18n.msg("text", text="x")) if not i18n.has(code) else None
        assert issue is None or issue.message == "x", code


_PLACEHOLDER_LEFT = re.compile(r"\{[a-z_]+\}")


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_each_invalid_rubric_writes_its_issues_whole_in_each_language(lang: str) -> None:
    """Every issue of the invalid fixtures carries the parameters its text needs, in each
    language: no ``{name}`` is left unfilled, and the issue written again in the language
    it was made in is the same text."""
    root = Path(__file__).parent / "data" / "invalid"
    seen = set()
    for path in sorted(root.iterdir()):
        if path.name.endswith(".expected.txt"):
            continue
        with pytest.raises(PerfscoreError) as info:
            perfscore.load_rubric(path)
        for issue in info.value.issues:
            seen.add(issue.code)
            assert issue.message_in("zh") == issue.message, path.name
            text = issue.message_in(lang) + (issue.hint_in(lang) or "")
            assert not _PLACEHOLDER_LEFT.search(text), (path.name, text)
            json.dumps(issue.params, ensure_ascii=False)  # the parameters are data
    assert len(seen) > 40


@given(st.sampled_from(sorted(i18n.keys())), st.text(alphabet="甲乙丙xyz", min_size=1, max_size=5))
def test_every_parameter_of_a_text_shows_in_every_language(key: str, value: str) -> None:
    """Whatever is given for a text's parameters appears in the text, in each language:
    nothing a platform passes is dropped by one translation."""
    names = i18n.placeholders(i18n.tr(key, "zh"))
    params = {name: f"<{value}{i}>" for i, name in enumerate(sorted(names))}
    for lang in i18n.LANGS:
        text = i18n.tr(key, lang, **params)
        assert all(v in text for v in params.values()), (key, lang)


@given(st.text(alphabet="甲乙丙xyz{}", max_size=8))
def test_a_nested_text_is_written_in_the_language_of_the_text_around_it(value: str) -> None:
    inner = i18n.msg("lang.name")
    outer = i18n.msg("input.in_row", row=3, message=inner)
    assert i18n.render(outer, "zh") == "第3行：中文"
    assert i18n.render(outer, "en") == "row 3: English"
    plain = i18n.msg("text", text=value)
    assert i18n.render(plain, "en") == i18n.render(plain, "zh") == value


def test_no_issue_is_made_from_text_written_in_the_code() -> None:
    """Every issue's message and hint is a text of the catalogue (or a parameter), never a
    sentence written where the issue is made: so every one exists in each language."""
    assert written_by_hand() == []


_VALUES = st.sampled_from(["", "C", "POSIX", "en", "zh", "xx", "en_US.UTF-8", "zh_CN.UTF-8"])


@given(
    environ=st.fixed_dictionaries(
        {}, optional=dict.fromkeys(("PERFSCORE_LANG", "LC_ALL", "LC_MESSAGES", "LANG"), _VALUES)
    )
)
def test_the_environment_is_read_as_os_environ_says_after_every_change(
    environ: dict[str, str],
) -> None:
    """The language variables are read from os.environ's own dict, cheaply: after any
    change through os.environ the language is what a plain reading of it gives."""

    def by_hand() -> str:
        env = os.environ.get("PERFSCORE_LANG")
        if env and env.split("_")[0] in i18n.LANGS:
            return env.split("_")[0]
        for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
            value = os.environ.get(name)
            if value:
                head = value.split(".")[0].split("_")[0]
                return head if head in i18n.LANGS else "zh"
        return "zh"

    saved = {n: os.environ.get(n) for n in ("PERFSCORE_LANG", "LC_ALL", "LC_MESSAGES", "LANG")}
    try:
        for name in saved:
            os.environ.pop(name, None)
        os.environ.update(environ)
        assert i18n.resolve_lang() == by_hand()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
