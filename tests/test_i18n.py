"""The message catalogue: every key in every language, with the same parameters."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfscore import i18n
from perfscore.errors import Issue, Location


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
