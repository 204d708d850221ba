"""Every command's ``--help``, walked over the click tree, in each language: help, a
one-line summary, option help, an example and the exit codes, all from the catalogue, and
no English sentence in the Chinese help."""

from __future__ import annotations

import re
from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from perfscore import i18n
from perfscore.cli import main
from perfscore.cli.common import Command, Group
from perfscore.render.text import columns


def _walk(
    command: click.Command, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from _walk(sub, (*path, name))


COMMANDS = list(_walk(main))
PATHS = [" ".join(path) or "perfscore" for path, _ in COMMANDS]


def _help(path: tuple[str, ...], lang: str) -> str:
    result = CliRunner().invoke(main, ["--lang", lang, *path, "--help"], prog_name="perfscore")
    assert result.exit_code == 0, result.output
    return result.output


def test_the_tree_holds_every_command() -> None:
    names = set(PATHS)
    for wanted in (
        "validate",
        "score",
        "explain",
        "report",
        "test",
        "check",
        "diff",
        "schema",
        "schema inputs",
        "template",
        "verify",
        "review",
        "draft",
        "serve",
        "keys",
        "keys create",
        "keys revoke",
    ):
        assert wanted in names, wanted


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=PATHS)
@pytest.mark.parametrize("lang", i18n.LANGS)
def test_every_command_and_option_has_its_help_from_the_catalogue(
    path: tuple[str, ...], command: click.Command, lang: str
) -> None:
    assert isinstance(command, Command | Group), path
    assert command.help_key is not None, path
    for suffix in ("", ".short", ".example"):
        assert i18n.has(command.help_key + suffix), command.help_key + suffix
    assert any("--lang" in getattr(p, "opts", ()) for p in command.params), path
    with i18n.use_lang(lang):
        ctx = command.make_context("perfscore", ["--help"], resilient_parsing=True)
        for param in command.get_params(ctx):
            if isinstance(param, click.Option):
                record = param.get_help_record(ctx)
                assert record is not None, (path, param.opts)
                assert record[1].strip(), (path, param.opts)
        short = command.get_short_help_str()
    assert short, path
    assert not short.endswith(("...", "…")), (path, short)
    assert short == i18n.tr(command.help_key + ".short", lang)


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=PATHS)
@pytest.mark.parametrize("lang", i18n.LANGS)
def test_every_help_shows_an_example_and_the_exit_codes(
    path: tuple[str, ...], command: click.Command, lang: str
) -> None:
    text = _help(path, lang)
    examples = {"zh": "示例:", "en": "Examples:"}[lang]
    assert f"\n{examples}\n" in text
    example = text.split(f"\n{examples}\n", 1)[1]
    assert "  perfscore " in example.split("\n\n")[0], path
    title = i18n.tr("cli.exit.title", lang)
    codes = text.split(f"\n{title}:\n", 1)[1]
    assert [line.split()[0] for line in codes.splitlines() if line[:3].strip()] == list("0123")
    usage = {"zh": "用法: ", "en": "Usage: "}[lang]
    assert text.startswith(usage + "perfscore"), text[:40]


#: Three words of English in a row (lower case: an upper-case metavar such as RUBRIC, a
#: command line ``perfscore ...``, a flag, an id or a file name is not a sentence).
_ENGLISH = re.compile(r"\b[a-z][a-z']+(?: [a-z][a-z']+){2,}\b")
_COMMAND_LINE = re.compile(r"perfscore(?: [a-z][a-z-]*)*")


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=PATHS)
def test_the_chinese_help_has_no_english_sentence(
    path: tuple[str, ...], command: click.Command
) -> None:
    text = _help(path, "zh")
    for line in text.splitlines():
        if line.lstrip().startswith(("perfscore ", "用法: ")):
            continue  # a command line of an example, the usage line
        plain = _COMMAND_LINE.sub("", line)
        assert not _ENGLISH.search(plain), (path, line)
    for english in ("Usage:", "Options:", "Commands:", "Show this message", "default:"):
        assert english not in text, (path, english)


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_the_command_list_shows_whole_summaries(lang: str) -> None:
    text = _help((), lang)
    heading = {"zh": "命令:", "en": "Commands:"}[lang]
    listed = text.split(f"\n{heading}\n", 1)[1].split("\n\n", 1)[0].splitlines()
    names = [line.split()[0] for line in listed if line.startswith("  ") and line[2] != " "]
    assert names == sorted(main.commands), names
    for line in listed:
        assert not line.rstrip().endswith(("...", "…")), line


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=PATHS)
@pytest.mark.parametrize("lang", i18n.LANGS)
def test_help_lines_fit_80_columns(
    path: tuple[str, ...], command: click.Command, lang: str
) -> None:
    """Wrapped by terminal columns (a Chinese character takes two); only a line that is
    one unbreakable token (an option's flags and choices) may be wider."""
    for line in _help(path, lang).splitlines():
        if columns(line) > 80:
            assert len(line.split()) <= 2, (path, line)


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_a_usage_error_is_written_in_the_language_in_force(lang: str) -> None:
    result = CliRunner().invoke(main, ["--lang", lang, "score"], prog_name="perfscore")
    assert result.exit_code == 2
    usage = {"zh": "用法: ", "en": "Usage: "}[lang]
    error = {"zh": "错误：", "en": "Error: "}[lang]
    assert result.stderr.startswith(usage + "perfscore score [OPTIONS] RUBRIC INPUTS\n")
    assert error in result.stderr


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_the_version_is_written_in_the_language_in_force(lang: str) -> None:
    from perfscore import __version__

    result = CliRunner().invoke(main, ["--lang", lang, "--version"], prog_name="perfscore")
    assert result.output == i18n.tr("cli.version", lang, version=__version__) + "\n"


@pytest.mark.parametrize(
    ("args", "zh", "en"),
    [
        (["--bogus"], "错误：没有选项 --bogus。", "Error: No such option '--bogus'"),
        (["scor"], "错误：没有命令 'scor'。你是否想用：score", "Error: No such command 'scor'."),
        (["score", "--bogus"], "错误：没有选项 --bogus。", "Error: No such option '--bogus'"),
    ],
)
@pytest.mark.parametrize("lang", i18n.LANGS)
def test_errors_of_the_top_command_are_written_in_the_language_in_force(
    args: list[str], zh: str, en: str, lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before any command runs (an unknown option or command of ``perfscore`` itself) the
    language comes from PERFSCORE_LANG, as ``--lang`` is not read yet."""
    monkeypatch.setenv("PERFSCORE_LANG", lang)
    result = CliRunner().invoke(main, args, prog_name="perfscore")
    assert result.exit_code == 2
    assert {"zh": zh, "en": en}[lang] in result.stderr
    assert {"zh": "用法: ", "en": "Usage: "}[lang] in result.stderr


CLEAN = "tests/data/check/clean.yaml"


@pytest.mark.parametrize(
    ("args", "zh", "en"),
    [
        (
            ["check", CLEAN, "--max-examples", "abc"],
            "错误：'--max-examples' 的值无效：abc 不是整数。",
            "Error: Invalid value for '--max-examples': 'abc' is not a valid integer range.",
        ),
        (
            ["check", CLEAN, "--max-examples", "0"],
            "错误：'--max-examples' 的值无效：0 不在范围 x>=1 内。",
            "Error: Invalid value for '--max-examples': 0 is not in the range x>=1.",
        ),
        (
            ["check", CLEAN, "--seed", "x"],
            "错误：'--seed' 的值无效：x 不是整数。",
            "Error: Invalid value for '--seed': 'x' is not a valid integer range.",
        ),
        (
            ["check", CLEAN, "--seed"],
            "错误：选项 --seed 后面要跟一个值。",
            "Error: Option '--seed' requires an argument.",
        ),
        (
            ["validate", "--verbose=1", CLEAN],
            "错误：选项 --verbose 不带值。",
            "Error: Option '--verbose' does not take a value.",
        ),
        (
            ["check", "tests"],
            "错误：'RUBRIC' 的值无效：tests 是文件夹，这里要的是文件。",
            "Error: Invalid value for 'RUBRIC': File 'tests' is a directory.",
        ),
        (
            ["serve", "--port", "70000"],
            "错误：'--port' 的值无效：70000 不在范围 0<=x<=65535 内。",
            "Error: Invalid value for '--port': 70000 is not in the range 0<=x<=65535.",
        ),
    ],
)
@pytest.mark.parametrize("lang", i18n.LANGS)
def test_values_refused_are_written_in_the_language_in_force(
    args: list[str], zh: str, en: str, lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Click's own refusals (a number that is not one or out of range, an option without
    its value, a folder for a file) say what is wrong in Chinese too; in English they are
    click's words."""
    monkeypatch.setenv("PERFSCORE_LANG", lang)
    result = CliRunner().invoke(main, args, prog_name="perfscore")
    assert result.exit_code == 2
    assert result.stderr.rstrip("\n").endswith({"zh": zh, "en": en}[lang])
