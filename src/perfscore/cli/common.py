"""Helpers every command shares: the exit-code scheme, failing with the issues as text or
JSON, loading and scoring with located input issues, showing a rich renderable. Commands
import these; nothing here imports a command, so a walk from one command to a helper only
goes down.

One exit-code scheme holds for every command (:class:`ExitCode`)::

    0  success
    1  the check asked for found something (failed cases, a --fail-on condition, rows
       of a population that failed, errors found by check)
    2  usage: a wrong option or argument, an output that cannot be written, a missing
       optional dependency
    3  a rubric or an input that is invalid or cannot be read

Commands are :class:`Command` objects (a :class:`Group` makes its commands so): their
``--help`` ends with this table, saying what 1 means for the command (``found=``, a
catalogue key), and with ``-f json`` a failure is written as JSON on stdout too
(:meth:`perfscore.PerfscoreError.to_dict`), the text on stderr.
"""

from __future__ import annotations

import datetime
import difflib
import enum
import json
import os
import re
import signal
import sys
import threading
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Final, NoReturn, TypeVar

import click
from rich.console import Console, RenderableType

from perfscore import i18n
from perfscore._escape import visible
from perfscore.engine import compile_rubric
from perfscore.errors import Issue, Location, PerfscoreError
from perfscore.i18n import tr
from perfscore.loading import SourceMap, load_document, load_rubric
from perfscore.model import Rubric
from perfscore.population.readers import UnsafeWorkbook, WorkbookProblem, hidden_sheets
from perfscore.registry import RubricRegistry
from perfscore.render import text as reporting
from perfscore.results import ScoreResult

__all__ = [
    "FILE",
    "LANG_OPTION",
    "ON_DATE",
    "ON_OPTION",
    "RUBRIC_ID_OPTION",
    "SHEET_OPTION",
    "STRICT_OPTION",
    "ChoiceType",
    "Command",
    "Context",
    "ExitCode",
    "Group",
    "HelpFormatter",
    "IntRangeType",
    "Option",
    "PathType",
    "UsageFailure",
    "ending_cleanly",
    "exit_code_rows",
    "fail",
    "give_lang_option",
    "load_and_score",
    "locate_inputs",
    "read_inputs",
    "reading_population",
    "rubric_in_force",
    "show",
    "text_or_json",
    "wants_json",
    "warn_hidden_sheets",
    "warn_issue",
]


class PathType(click.Path):
    """:class:`click.Path` saying in Chinese what is wrong with a path: it does not
    exist, it is a folder where a file is wanted (or the other way round), it cannot be
    read or written (in English, as click says it)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if i18n.current_lang() == "en" or not isinstance(value, str | Path):
            return super().convert(value, param, ctx)
        path = Path(value)
        if self.exists and not path.exists():
            self.fail(tr("cli.help.no_such_path", path=str(value)), param, ctx)
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            if path.is_dir() and not self.dir_okay:
                key = "cli.help.path_is_folder"
            elif path.exists() and not path.is_dir() and not self.file_okay:
                key = "cli.help.path_is_file"
            elif self.readable and not os.access(path, os.R_OK):
                key = "cli.help.path_unreadable"
            elif self.writable and not os.access(path, os.W_OK):
                key = "cli.help.path_unwritable"
            else:  # pragma: no cover - click's other refusals (executable) are not asked for
                raise
            self.fail(tr(key, path=str(value)), param, ctx)


class IntRangeType(click.IntRange):
    """:class:`click.IntRange` (a whole number, within bounds when given) saying in
    Chinese what is wrong with a value (in English, as click says it)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if i18n.current_lang() == "en":
            return super().convert(value, param, ctx)
        try:
            number = int(value)
        except (TypeError, ValueError):
            self.fail(tr("cli.help.not_an_integer", value=str(value)), param, ctx)
        try:
            return super().convert(number, param, ctx)
        except click.BadParameter:
            self.fail(
                tr("cli.help.out_of_range", value=number, range=self._describe_range()),
                param,
                ctx,
            )


class ChoiceType(click.Choice[str]):
    """:class:`click.Choice` saying in Chinese which values it takes (in English, as click
    says it)."""

    def get_invalid_choice_message(self, value: Any, ctx: click.Context | None) -> str:
        if i18n.current_lang() == "en":  # click's own words
            return super().get_invalid_choice_message(value, ctx)
        return tr("cli.help.not_a_choice", value=str(value), choices=", ".join(self.choices))


FILE = PathType(exists=True, dir_okay=False, path_type=Path)


def _use_lang(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:  # for this command and everything it calls
        ctx.with_resource(i18n.use_lang(value))


def lang_option() -> click.Option:
    """``--lang zh|en``: the language of every text the command writes. Without it, the
    language is ``PERFSCORE_LANG``'s, else the locale's (``zh_*``, ``en_*``), else Chinese."""
    return Option(
        ["--lang"],
        type=ChoiceType(i18n.LANGS),
        default=None,
        expose_value=False,
        is_eager=True,
        callback=_use_lang,
        help_key="cli.opt.lang",
    )


#: The shared option, as :func:`give_lang_option` adds it to every command.
LANG_OPTION: Final = "--lang"


def give_lang_option(command: click.Command) -> None:
    """Give ``command`` and every command under it the ``--lang`` option."""
    if not any(LANG_OPTION in getattr(p, "opts", ()) for p in command.params):
        command.params.insert(0, lang_option())
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            give_lang_option(sub)


class ExitCode(enum.IntEnum):
    """The exit code of every ``perfscore`` command."""

    OK = 0
    #: The check asked for found something: failed cases, a ``--fail-on`` condition,
    #: rows of a population that failed, errors found by ``check``.
    FOUND = 1
    #: Usage: a wrong option or argument, an output that cannot be written, a missing
    #: optional dependency.
    USAGE = 2
    #: A rubric or an input that is invalid or cannot be read.
    INVALID = 3


class UsageFailure(PerfscoreError):
    """A usage error, as data: what ``-f json`` writes when a command is used wrongly."""

    default_code = "usage"


def exit_code_rows(found: str | None) -> list[tuple[str, str]]:
    """The exit-code table as (code, meaning) rows, in the language in force; ``found`` is
    the catalogue key of what 1 means for a command (``None``: it does not use 1)."""
    what = tr("cli.exit.found", what=tr(found)) if found else tr("cli.exit.found.none")
    return [
        (str(int(ExitCode.OK)), tr("cli.exit.ok")),
        (str(int(ExitCode.FOUND)), what),
        (str(int(ExitCode.USAGE)), tr("cli.exit.usage")),
        (str(int(ExitCode.INVALID)), tr("cli.exit.invalid")),
    ]


def wants_json(ctx: click.Context | None = None) -> bool:
    """Whether the command was asked for JSON (``-f json``)."""
    ctx = ctx or click.get_current_context(silent=True)
    return ctx is not None and ctx.params.get("format_") == "json"


#: Headings click writes, as catalogue keys.
_HEADINGS: Final = {
    "Options": "cli.help.options",
    "Commands": "cli.help.commands",
    "Positional arguments": "cli.help.arguments",
}


class HelpFormatter(click.HelpFormatter):
    """Click's help formatter in the language in force, wrapping by terminal columns (a
    Chinese character takes two) and breaking between Chinese characters, never inside a
    number, an id, a flag or a file name."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, tr("cli.help.usage") + " " if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        key = _HEADINGS.get(heading)
        super().write_heading(tr(key) if key is not None else heading)

    def _lines(self, text: str, width: int) -> list[str]:
        lines: list[str] = []
        for paragraph in text.split("\n\n"):
            if lines:
                lines.append("")
            if paragraph.startswith("\b\n"):  # kept as written, line by line
                lines.extend(paragraph[2:].splitlines())
                continue
            joined = " ".join(paragraph.split())
            lines.extend(reporting.wrap(joined, width, hanging=0))
        return lines

    def write_text(self, text: str) -> None:
        indent = " " * self.current_indent
        width = max(self.width - self.current_indent, 20)
        for line in self._lines(text, width):
            self.write(f"{indent}{line}\n" if line else "\n")

    def write_dl(
        self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2
    ) -> None:
        rows = list(rows)
        first = min(max((reporting.columns(term) for term, _ in rows), default=0), col_max)
        first += col_spacing
        indent = " " * self.current_indent
        width = max(self.width - self.current_indent - first, 20)
        for term, text in rows:
            self.write(f"{indent}{term}")
            if not text:
                self.write("\n")
                continue
            used = reporting.columns(term)
            if used <= first - col_spacing:
                self.write(" " * (first - used))
            else:
                self.write("\n" + indent + " " * first)
            lines = self._lines(text, width) or [""]
            self.write(lines[0] + "\n")
            for line in lines[1:]:
                self.write(f"{indent}{' ' * first}{line}\n" if line else "\n")

    def write_example(self, text: str) -> None:
        """Lines kept as written (commands and their comments), indented."""
        indent = " " * self.current_indent
        for line in text.splitlines():
            self.write(f"{indent}{line}\n" if line else "\n")


class Context(click.Context):
    """A context whose help is written by :class:`HelpFormatter`."""

    formatter_class = HelpFormatter


#: click's parser's own words (click.parser), recognised to be said in Chinese
_NEEDS_VALUE: Final = re.compile(r"Option '.+' requires (an argument|\d+ arguments)\.")
_TAKES_NO_VALUE: Final = re.compile(r"Option '.+' does not take a value\.")


def _error_message(error: click.ClickException) -> str:
    """Click's message for ``error``, its usual kinds (a missing argument, an unknown
    option, a value refused) written from the catalogue."""
    if i18n.current_lang() == "en":
        return error.format_message()
    ctx = getattr(error, "ctx", None)
    if isinstance(error, click.MissingParameter) and error.param is not None and ctx is not None:
        hint = error.param.get_error_hint(ctx)
        return tr("cli.help.missing", name=hint)
    if isinstance(error, click.BadOptionUsage) and not isinstance(error, click.NoSuchOption):
        # click's parser: an option given without its value, or a flag given one
        needs = _NEEDS_VALUE.fullmatch(error.message)
        if needs is not None:
            return tr("cli.help.needs_value", name=error.option_name)
        if _TAKES_NO_VALUE.fullmatch(error.message) is not None:
            return tr("cli.help.takes_no_value", name=error.option_name)
    if isinstance(error, click.NoSuchOption):
        text = tr("cli.help.no_such_option", name=error.option_name)
        if error.possibilities:
            text += tr("cli.help.did_you_mean", names=", ".join(error.possibilities))
        return text
    if type(error) is click.BadParameter:
        if error.param_hint is not None:
            hint = error.param_hint if isinstance(error.param_hint, str) else error.param_hint[0]
        elif error.param is not None and ctx is not None:
            hint = error.param.get_error_hint(ctx)
        else:
            return tr("cli.help.error_message", message=error.message)
        return tr("cli.help.bad_value", name=hint, message=error.message)
    return error.format_message()


def _error_text(error: click.ClickException) -> str:
    """What a usage error writes, as click writes it, in the language in force: usage
    line, where to find help, the error."""
    ctx = getattr(error, "ctx", None)
    head = ""
    if ctx is not None:
        hint = ""
        if ctx.command.get_help_option(ctx) is not None:
            names = ctx.command.get_help_option_names(ctx)
            hint = tr("cli.help.try", command=ctx.command_path, option=max(names, key=len)) + "\n"
        head = f"{ctx.get_usage()}\n{hint}\n"
    return head + tr("cli.help.error", message=_error_message(error))


def _written_now(error: click.ClickException) -> None:
    """Make ``error`` show the text it has now, while the command's language is in force
    (click shows an error once the command's context is closed)."""
    if getattr(error, "_perfscore_text", None) is not None:
        return
    text = _error_text(error)
    error._perfscore_text = text  # type: ignore[attr-defined]
    error.show = lambda file=None: click.echo(text, err=True)  # type: ignore[method-assign]


class _Translated(click.Command):
    """What every command and group shares: the help, short help and example from the
    catalogue, in the language in force when they are shown, then the exit codes.

    ``help_key`` is the catalogue key of the help; ``help_key + ".short"`` the one-line
    summary ``perfscore --help`` lists; ``help_key + ".example"`` the example section.
    ``found`` is the key saying what exit code 1 means for the command."""

    context_class = Context
    found: str | None
    help_key: str | None

    def _translate(self) -> None:
        if self.help_key is not None:  # the help text from the catalogue, in the language now
            self.help = tr(self.help_key)
            self.short_help = tr(f"{self.help_key}.short")

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._translate()
        super().format_help_text(ctx, formatter)

    def get_short_help_str(self, limit: int = 45) -> str:
        self._translate()
        return super().get_short_help_str(limit)

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = tr("cli.opt.help")
        return option

    def example(self) -> str | None:
        """The example section, in the language in force (``None``: the command has none)."""
        return tr(f"{self.help_key}.example") if self.help_key is not None else None

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        example = self.example()
        if example is not None:
            with formatter.section(tr("cli.help.examples")):
                if isinstance(formatter, HelpFormatter):
                    formatter.write_example(example)
                else:  # pragma: no cover - every context here makes a HelpFormatter
                    formatter.write_text(example)
        with formatter.section(tr("cli.exit.title")):
            formatter.write_dl(exit_code_rows(self.found))

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.ClickException as error:  # the top command's own options, e.g. --bogus
            _written_now(error)
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException as error:
            _written_now(error)
            raise


class Command(_Translated):
    """A command whose ``--help`` ends with an example and the exit codes, and whose usage
    errors are written as JSON too when it was asked for JSON."""

    def __init__(
        self, *args: Any, found: str | None = None, help_key: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.found = found
        self.help_key = help_key

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as error:
            if not wants_json(ctx):
                raise
            failure = UsageFailure([Issue.of("cli.usage", message=error.format_message())])
            click.echo(json.dumps(failure.to_dict(), ensure_ascii=False, indent=2))
            error.show()  # on stderr, as click writes it
            sys.exit(int(ExitCode.USAGE))
        except OSError as error:
            # Rubrics and inputs that cannot be read are issues (file.unreadable, exit 3)
            # before this; what is left is a file the command was asked to write.
            name = error.filename if isinstance(error.filename, str) else ""
            issue = Issue.of(
                "cli.cannot_write",
                Location(file=name or None),
                file=name or "?",
                reason=error.strerror or str(error),
            )
            fail(UsageFailure([issue]), code=ExitCode.USAGE)


class Option(click.Option):
    """An option whose help text comes from the catalogue (``help_key``) when shown, its
    default and range written in the language in force."""

    def __init__(self, *args: Any, help_key: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help_key = help_key

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        if self.hidden:
            return None
        if self.help_key is not None:
            self.help = tr(self.help_key)
        text = self.help or ""
        extra = self.get_help_extra(ctx)
        items = []
        if "default" in extra:
            items.append(tr("cli.help.default", default=extra["default"]))
        if "range" in extra:
            items.append(extra["range"])
        if "required" in extra:
            items.append(tr("cli.help.required"))
        if items:
            joined = "; ".join(items)
            text = f"{text}  [{joined}]" if text else f"[{joined}]"
        return self.get_help_spec(ctx), text


class Group(_Translated, click.Group):
    """A group whose commands (and sub-groups) are :class:`Command` s; its ``--help`` ends
    with an example and the exit codes too, ``found`` saying what 1 means for its
    commands."""

    command_class = Command

    def __init__(
        self,
        *args: Any,
        found: str | None = "cli.exit.found.any",
        help_key: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.found = found
        self.help_key = help_key

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if args and self.get_command(ctx, name) is None and not name.startswith("-"):
            if ctx.resilient_parsing:
                return None, None, []
            names = difflib.get_close_matches(name, self.list_commands(ctx), n=3)
            text = tr("cli.help.no_such_command", name=name)
            if names:
                text += tr("cli.help.did_you_mean", names=", ".join(names))
            raise click.UsageError(text, ctx)
        return super().resolve_command(ctx, args)


Group.group_class = Group


def fail(
    error: PerfscoreError | Sequence[Issue],
    *,
    code: ExitCode = ExitCode.INVALID,
    as_json: bool | None = None,
    err: bool = True,
) -> NoReturn:
    """Print every issue and exit with ``code`` (default: 3, invalid).

    With ``as_json`` (default: the command was given ``-f json``) the error goes to stdout
    as one JSON object (:meth:`PerfscoreError.to_dict`), the text to stderr; otherwise the
    text goes to stderr, or to stdout when ``err`` is false (``validate``, whose output
    the issues are)."""
    if not isinstance(error, PerfscoreError):
        error = PerfscoreError(error)
    if as_json is None:
        as_json = wants_json()
    if as_json:
        click.echo(json.dumps(error.to_dict(), ensure_ascii=False, indent=2))
        err = True
    click.echo(reporting.render_issues(error.issues), err=err)
    sys.exit(int(code))


def show(renderable: RenderableType) -> None:
    """Print a rich renderable: styled on a terminal, plain fixed-width text otherwise."""
    if sys.stdout.isatty():
        Console(highlight=False).print(renderable)
    else:
        click.echo(reporting.render_plain(renderable))


def _span(source: SourceMap, path: tuple[str | int, ...], *, key: bool) -> tuple[int, int, int]:
    """(line, start, end), 0-based, of a key or of a one-line value in the inputs file."""
    if key or path not in source.values:
        line, start = source.keys[path]
        return line, start, start + len(str(path[-1]))
    line, start, style = source.values[path]
    text = source.lines[line] if line < len(source.lines) else ""
    if style in ("'", '"'):
        close = text.find(style, start + 1)
        end = len(text) if close < 0 else close + 1
    else:  # a plain scalar ends at a comment, or at the end of a JSON / flow entry
        stops = [i for i in (text.find(c, start) for c in (" #", ",", "}", "]")) if i >= 0]
        end = len(text[: min(stops, default=len(text))].rstrip())
    return line, start, max(end, start + 1)


def locate_inputs(issues: Sequence[Issue], file: str, source: SourceMap) -> list[Issue]:
    """Give input issues about one key the line, column and a caret under it (an unknown
    key) or under its value (a value of the wrong kind, out of bounds)."""
    located = []
    for issue in issues:
        loc = issue.location
        if loc.file == file and loc.line is None and loc.path in source.keys:
            line, start, end = _span(source, loc.path, key=issue.code == "input.unknown")
            text = source.lines[line] if line < len(source.lines) else None
            loc = replace(
                loc,
                line=line + 1,
                column=start + 1,
                source_line=text,
                span=(start, end) if text is not None else None,
            )
            issue = replace(issue, location=loc)
        located.append(issue)
    return located


#: ``--on DATE``: the day whose rubric in force scores, with a folder of rubrics.
ON_DATE = click.DateTime(formats=["%Y-%m-%d"])


def rubric_in_force(
    path: Path, on: datetime.date | None = None, rubric_id: str | None = None
) -> Rubric:
    """The rubric a command uses: the file ``path``; or, when ``path`` is a folder of
    rubrics, the one with ``rubric_id`` (needed when the folder holds several ids) in force
    on ``on`` (needed). With a file and ``on``, the file's rubric must be in force that day.

    Usage mistakes raise :class:`click.UsageError`; rubric problems raise
    :class:`~perfscore.errors.PerfscoreError` listing every issue."""
    if not path.is_dir():
        rubric = load_rubric(path)
        if rubric_id is not None and rubric.id != rubric_id:
            raise click.UsageError(
                tr("cli.rubric_id_mismatch", file=str(path), id=rubric.id, wanted=rubric_id)
            )
        if on is not None and not rubric.in_force(on):
            RubricRegistry([rubric], check=()).in_force(rubric.id, on)  # raises, saying why
        return rubric
    if on is None:
        raise click.UsageError(tr("cli.on_needed", folder=str(path)))
    registry = RubricRegistry.from_folder(path)
    ids = registry.ids()
    if rubric_id is None:
        if len(ids) != 1:
            raise click.UsageError(
                tr("cli.rubric_id_needed", folder=str(path), ids=", ".join(ids) or "—")
            )
        rubric_id = ids[0]
    return registry.in_force(rubric_id, on)


def read_inputs(path: Path) -> tuple[Any, SourceMap]:
    """One department's inputs: a YAML or JSON file, or a form made by ``perfscore
    template`` (XLSX). Raises :class:`~perfscore.errors.PerfscoreError`."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from perfscore.authoring.template import read_template_xlsx

        return read_template_xlsx(path), SourceMap(str(path), [])
    return load_document(path)


def load_and_score(
    rubric_path: Path,
    inputs_path: Path,
    *,
    on: datetime.date | None = None,
    rubric_id: str | None = None,
) -> tuple[Rubric, ScoreResult]:
    """Load both files and score; on a problem, print every issue (as JSON too with
    ``-f json``) and exit 3.

    ``rubric_path`` may be a folder of rubrics with ``on`` (see :func:`rubric_in_force`)."""
    try:
        rubric = rubric_in_force(rubric_path, on, rubric_id)
        data, source = read_inputs(inputs_path)
    except PerfscoreError as e:
        fail(e)
    file = str(inputs_path)
    try:
        result = compile_rubric(rubric).score(data, source=file)
    except PerfscoreError as e:
        fail(type(e)(locate_inputs(e.issues, file, source)))
    return rubric, result


#: What reading a population can raise for the file as a whole (each row's own problems
#: come out as failed rows): a file that is not a regular file, a workbook that is unsafe,
#: malformed or is no workbook at all.
POPULATION_ERRORS: tuple[type[Exception], ...] = (
    PerfscoreError,
    UnsafeWorkbook,
    WorkbookProblem,
    zipfile.BadZipFile,
    UnicodeDecodeError,
)


@contextmanager
def reading_population(path: Path, unwritten: Path | None = None) -> Iterator[None]:
    """Turn an error about the population file as a whole into a located message on
    stderr and exit 3, invalid (``unwritten`` named as not written)."""
    try:
        yield
    except POPULATION_ERRORS as error:
        tail = tr("cli.error.unwritten", file=str(unwritten)) if unwritten is not None else ""
        if isinstance(error, PerfscoreError):
            if unwritten is not None:
                click.echo(tr("security.not_written", file=str(unwritten)), err=True)
            fail(error)
        hint = tr("cli.error.utf8") if isinstance(error, UnicodeDecodeError) else ""
        text = tr("cli.error.cannot_read", file=str(path), reason=str(error), more=hint + tail)
        click.echo(text, err=True)
        sys.exit(int(ExitCode.INVALID))


def warn_hidden_sheets(path: Path, sheet: str | None) -> None:
    """On stderr, the hidden sheets of an XLSX population that are not read."""
    if path.suffix.lower() not in (".xlsx", ".xlsm") or not path.is_file():
        return
    hidden = [name for name in hidden_sheets(path) if name != sheet]
    if hidden:
        click.echo(tr("security.xlsx_hidden", file=str(path), sheets=", ".join(hidden)), err=True)


def warn_issue(issue: Issue) -> None:
    """A warning on stderr: ``警告: file:line: message [code]`` and its hint."""
    click.echo(visible(f"{tr('cli.warning')}: {issue}"), err=True)


#: ``--strict``: a population's undeclared column is an error (exit 3), not a warning.
STRICT_OPTION = click.option("--strict", cls=Option, is_flag=True, help_key="cli.opt.strict")

#: ``--on DATE`` and ``--rubric-id ID``: score with the version in force on a day, from a
#: folder of rubric versions (see :func:`rubric_in_force`).
ON_OPTION = click.option(
    "--on", "on", cls=Option, type=ON_DATE, metavar="DATE", help_key="cli.score.on.help"
)
RUBRIC_ID_OPTION = click.option(
    "--rubric-id", cls=Option, metavar="ID", help_key="cli.score.rubric_id.help"
)

_F = TypeVar("_F", bound=Callable[..., Any])


def text_or_json(help_key: str) -> Callable[[_F], _F]:
    """``--format/-f text|json`` (default text), its help from ``help_key``: a command
    that can print what it found as one JSON object for other programs."""
    return click.option(
        "--format",
        "-f",
        "format_",
        cls=Option,
        type=ChoiceType(["text", "json"]),
        default="text",
        show_default=True,
        help_key=help_key,
    )


#: ``--sheet NAME``: the sheet of an XLSX population to read.
SHEET_OPTION = click.option(
    "--sheet", cls=Option, help_key="cli.sheet.help", metavar="NAME", default=None
)


@contextmanager
def ending_cleanly() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP end the command as Ctrl-C (SIGINT) does: by an
    exception, so that a file being written is removed, not left half-written, and the
    exit status is 128 plus the signal's number. Only the main thread can set handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def end(number: int, frame: object) -> None:
        raise SystemExit(128 + number)

    previous = {}
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None:
            previous[number] = signal.signal(number, end)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
