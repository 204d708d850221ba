"""Rubric files to :class:`~perfscore.model.Rubric` objects, every problem with file:line:col.

YAML is read node by node (PyYAML's safe composer) so that every value keeps its place in
the file. The same reader takes JSON; TOML goes through :mod:`tomllib` (paths only, no
columns). Numbers are read as exact decimals from their text, never through binary floats.

Untrusted files are bounded: size, nesting depth, node count (alias bombs), string
length; tags other than YAML's standard ones (``!!python/object`` ...) and duplicate keys
are refused.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Final, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from . import i18n
from ._compose import COMPOSE_KEYS, Refused, compose_document
from ._files import FileRefused
from ._files import read_bounded as _read_file
from ._inputs import number_problem, number_text, shown
from ._suggest import did_you_mean
from .engine import compile_rubric
from .errors import (
    FormulaError,
    Issue,
    Location,
    PathPart,
    Problem,
    RubricError,
    RubricSyntaxError,
    RubricValidationError,
)
from .i18n import msg
from .methods import ScoringMethod, method_class, method_kinds
from .model import Rubric
from .resolvers import (
    SHIPPED_PREFIX,
    Document,
    FolderResolver,
    Resolver,
    ShippedResolver,
    check_name,
)

__all__ = ["load_document", "load_rubric", "loads_rubric", "read_bounded"]

MAX_FILE_BYTES: Final = 256 * 1024  # pure-Python YAML reads ~1 µs a character
MAX_DEPTH: Final = 64
MAX_NODES: Final = 10_000  # composed and expanded; the largest shipped file has 1 257
MAX_STRING: Final = 20_000
#: All the text of a document after its aliases are expanded, in characters: an alias
#: repeats its anchor's text, so a small file could otherwise fill reports with megabytes.
MAX_TEXT: Final = 4 * MAX_FILE_BYTES

Format = Literal["yaml", "yml", "json", "toml"]
_STANDARD_TAGS: Final = {
    "tag:yaml.org,2002:" + t
    for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp", "merge")
}


@dataclass
class SourceMap:
    """Where each value of a document sits in its file."""

    file: str
    lines: list[str]
    values: dict[tuple[PathPart, ...], tuple[int, int, str]] = field(default_factory=dict)
    keys: dict[tuple[PathPart, ...], tuple[int, int]] = field(default_factory=dict)
    #: For a document composed from several files (``extends`` / ``uses``): a path prefix
    #: of the composed document -> the file and path it was taken from.
    mounts: dict[tuple[PathPart, ...], tuple[SourceMap, tuple[PathPart, ...]]] = field(
        default_factory=dict
    )

    def resolve(self, path: tuple[PathPart, ...]) -> tuple[SourceMap, tuple[PathPart, ...]]:
        """The file and the path inside it that ``path`` of this document came from."""
        if self.mounts:
            for i in range(len(path), -1, -1):
                mount = self.mounts.get(path[:i])
                if mount is not None:
                    source, origin = mount
                    if source is self:
                        return self, (*origin, *path[i:])
                    return source.resolve((*origin, *path[i:]))
        return self, path

    def locate(self, path: tuple[PathPart, ...], *, key: bool = False) -> Location:
        """The place of ``path``, or of its nearest ancestor that has one (1-based)."""
        source, local = self.resolve(path)
        if source is not self:
            return source.locate(local, key=key)
        path = local
        probe = path
        while True:
            if key and probe in self.keys:
                line, col = self.keys[probe]
                break
            if probe in self.values:
                line, col, _ = self.values[probe]
                break
            if not probe:
                return Location(file=self.file, path=path)
            probe = probe[:-1]
        return Location(file=self.file, line=line + 1, column=col + 1, path=path)

    def formula_position(
        self, path: tuple[PathPart, ...], text: str
    ) -> Callable[[int], tuple[int, int] | None] | None:
        """Where each character of the formula ``text`` (found at ``path``) is in the file.

        The characters other than whitespace are matched, in order, with those of the
        file from where the value starts: this follows a formula over several lines,
        folded (``>``), in a block (``|``) or plain. Quoted strings with escapes are not
        followed (None is returned for them).
        """
        source, local = self.resolve(path)
        if source is not self:
            return source.formula_position(local, text)
        entry = self.values.get(local)
        if entry is None:
            return None
        line, col, style = entry
        if style == '"' and "\\" in (self.lines[line] if line < len(self.lines) else ""):
            return None
        if style in ("|", ">"):
            line, col = line + 1, 0
        elif style in ("'", '"'):
            col += 1
        lines = self.lines

        def position(offset: int) -> tuple[int, int] | None:
            wanted = sum(1 for ch in text.strip()[:offset] if not ch.isspace())
            row, column = line, col
            while row < len(lines):
                current = lines[row]
                while column < len(current):
                    if not current[column].isspace():
                        if wanted == 0:
                            return row + 1, column + 1
                        wanted -= 1
                    column += 1
                row, column = row + 1, 0
            return None

        return position

    def formula_origin(self, path: tuple[PathPart, ...]) -> Location | None:
        """Where a formula string starts, column adjusted past an opening quote."""
        source, path = self.resolve(path)
        if source is not self:
            return source.formula_origin(path)
        entry = self.values.get(path)
        if entry is None:
            return None
        line, col, style = entry
        if style in ("'", '"'):
            col += 1
        return Location(file=self.file, line=line + 1, column=col + 1, path=path)


#: The one integer form read: decimal digits, no leading zero. YAML 1.1 also reads
#: ``010`` as 8 (octal), ``0x11`` and ``0b10001`` as 17, ``1:30`` as 90 (base 60): those
#: are refused (``yaml.number_form``) rather than read other than as written.
_DECIMAL_FORM: Final = re.compile(r"[-+]?(?:0|[1-9][0-9_]*)")


class _Refused(Exception):
    """A document refused while it is read: the code and the texts (as data) of its issue."""

    def __init__(
        self,
        code: str,
        message: dict[str, Any],
        mark: Any = None,
        hint: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message["key"])
        self.code, self.message, self.mark, self.hint = code, message, mark, hint

    def issue(self, file: str) -> Issue:
        return Issue.of(
            self.code, _mark_location(file, self.mark), message=self.message, hint=self.hint
        )


class _PyParser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
    """PyYAML's pure-Python parser, taking the stream as libyaml's CParser does."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)


_Parser: Any = _PyParser
if getattr(yaml, "__with_libyaml__", False):  # libyaml's parser: events, several times faster
    import yaml.cyaml

    _Parser = yaml.cyaml.CParser  # type: ignore[attr-defined]  # types-PyYAML hides it


class _BoundedLoader(yaml.composer.Composer, _Parser, yaml.resolver.Resolver):  # type: ignore[misc]  # _Parser is chosen at import time
    """YAML events (libyaml's parser when present) composed into nodes by PyYAML's own
    composer, refusing a document too deep or too large while composing it, before it
    costs more time or memory (aliases are counted when expanded, by _Reader)."""

    def __init__(self, stream: str) -> None:
        _Parser.__init__(self, stream)
        yaml.composer.Composer.__init__(self)
        yaml.resolver.Resolver.__init__(self)
        self.depth = 0
        self.composed = 0

    def mark(self) -> Any:
        event: Any = self.peek_event()
        return event.start_mark

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self.composed += 1
        if self.composed > MAX_NODES:
            raise _Refused(
                "yaml.too_large",
                msg("yaml.too_many_values", limit=MAX_NODES),
                self.mark(),
                msg("hint.wrong_file"),
            )
        if self.depth > MAX_DEPTH:
            raise _Refused("yaml.too_deep", msg("document.too_deep", limit=MAX_DEPTH), self.mark())
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class _Reader:
    """Builds plain data from a YAML node graph, recording positions and enforcing bounds."""

    def __init__(self, source: SourceMap) -> None:
        self.source = source
        self.count = 0
        self.text = 0
        self.constructor = yaml.constructor.SafeConstructor()

    def build(self, node: yaml.Node, path: tuple[PathPart, ...], depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _Refused(
                "yaml.too_large",
                msg("yaml.alias_bomb", limit=MAX_NODES),
                node.start_mark,
                msg("hint.aliases"),
            )
        if depth > MAX_DEPTH:
            raise _Refused(
                "yaml.too_deep", msg("document.too_deep", limit=MAX_DEPTH), node.start_mark
            )
        if node.tag not in _STANDARD_TAGS:
            raise _Refused(
                "yaml.tag",
                msg("yaml.tag", tag=repr(node.tag)),
                node.start_mark,
                msg("yaml.tag.hint"),
            )
        mark = node.start_mark
        style = getattr(node, "style", None) or ""
        self.source.values.setdefault(path, (mark.line, mark.column, style))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        return self._scalar(node)

    def _mapping(
        self, node: yaml.MappingNode, path: tuple[PathPart, ...], depth: int
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                sources = (
                    value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                )
                for src in sources:
                    data = self.build(src, path, depth + 1)
                    if not isinstance(data, dict):
                        raise _Refused("yaml.merge", msg("yaml.merge"), key_node.start_mark)
                    for k, v in data.items():
                        merged.setdefault(k, v)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise _Refused("yaml.key", msg("yaml.key_plain"), key_node.start_mark)
            key = self._scalar(key_node)
            if not isinstance(key, str | int) or isinstance(key, bool):
                raise _Refused(
                    "yaml.key",
                    msg("yaml.key_text", key=repr(key)),
                    key_node.start_mark,
                    msg("hint.quote"),
                )
            key = str(key)
            if key in out:
                raise _Refused(
                    "yaml.duplicate_key",
                    msg("yaml.duplicate_key", key=repr(key)),
                    key_node.start_mark,
                    msg("yaml.duplicate_key.hint"),
                )
            self.source.keys[(*path, key)] = (key_node.start_mark.line, key_node.start_mark.column)
            out[key] = self.build(value_node, (*path, key), depth + 1)
        for k, v in merged.items():
            out.setdefault(k, v)
        return out

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        text = node.value
        if len(text) > MAX_STRING:
            raise _Refused(
                "yaml.string_too_long",
                msg("yaml.string_too_long", length=len(text), limit=MAX_STRING),
                node.start_mark,
            )
        self.text += len(text)
        if self.text > MAX_TEXT:
            raise _Refused(
                "yaml.text_too_large",
                msg("yaml.text_too_large", limit=str(MAX_TEXT)),
                node.start_mark,
                msg("yaml.text_too_large.hint"),
            )
        tag = node.tag
        if (
            tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
            and not (_DECIMAL_FORM.fullmatch(text) or tag.endswith("float"))
        ) or (tag.endswith("float") and ":" in text):
            raise _Refused(
                "yaml.number_form",
                msg("yaml.number_form", text=text[:40]),
                node.start_mark,
                msg("yaml.number_form.hint", text=text[:40]),
            )
        if tag == "tag:yaml.org,2002:float":
            try:
                number = Decimal(text.replace("_", ""))
            except InvalidOperation:
                number = None
            if number is None or not number.is_finite():
                raise _Refused(
                    "yaml.number", number_text("value.not_finite", repr(text)), node.start_mark
                )
            if (problem := number_problem(number)) is not None:
                raise _Refused(
                    "yaml.number", number_text(problem, repr(text[:40])), node.start_mark
                )
            return number
        if tag == "tag:yaml.org,2002:int":
            if len(text) > 40:
                raise _Refused(
                    "yaml.number", msg("yaml.long_integer", start=text[:20]), node.start_mark
                )
            return self.constructor.construct_yaml_int(node)
        if tag == "tag:yaml.org,2002:bool":
            return self.constructor.construct_yaml_bool(node)
        if tag == "tag:yaml.org,2002:null":
            return None
        if tag == "tag:yaml.org,2002:timestamp":
            value = self.constructor.construct_yaml_timestamp(node)
            return value.isoformat() if isinstance(value, datetime.date) else text
        if node.style == ">":
            return refold(text, self.source.lines, node.start_mark, node.end_mark)
        return text


#: Characters that Chinese text runs together without spaces: CJK ideographs, CJK and
#: full-width punctuation, and the quotation marks and dashes Chinese text uses.
_CJK: Final = re.compile(
    "[\u2014\u2018\u2019\u201c\u201d\u2026\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff"
    "\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]"
)
_BLOCK_HEADER: Final = re.compile(r">([+-]?)\s*(?:#.*)?$")


def _fold(lines: Sequence[str], chomp: str, *, cjk: bool) -> str:
    """A folded block scalar's value from its content lines (indentation removed, blank
    lines empty), as YAML folds it: a break between two lines of text becomes a space,
    blank lines become breaks, more-indented lines keep theirs. With ``cjk``, a break
    between two Chinese characters (or Chinese punctuation) joins them without a space."""
    chunks: list[str] = []
    i, breaks = 0, []
    while i < len(lines) and not lines[i]:
        breaks.append("\n")
        i += 1
    line_break = ""
    while i < len(lines):
        chunks.extend(breaks)
        line = lines[i]
        text_line = line[0] not in " \t"
        chunks.append(line)
        i += 1
        line_break, breaks = "\n", []
        while i < len(lines) and not lines[i]:
            breaks.append("\n")
            i += 1
        if i < len(lines):
            following = lines[i]
            if text_line and following[0] not in " \t":
                if not breaks:
                    joined = cjk and _CJK.match(line[-1]) and _CJK.match(following[0])
                    chunks.append("" if joined else " ")
            else:
                chunks.append(line_break)
    if chomp != "-":
        chunks.append(line_break)
    if chomp == "+":
        chunks.extend(breaks)
    return "".join(chunks)


def refold(value: str, lines: Sequence[str], start: Any, end: Any) -> str:
    """A folded block scalar (``>``, ``>-``, ``>+``) with the breaks between Chinese
    characters joined without the space YAML puts there (``“三定”方案 确定的职责`` →
    ``“三定”方案确定的职责``).

    The value is folded again from the lines of the file; where that does not give back
    exactly what the YAML parser read (an explicit indentation indicator, tabs, a line
    break other than ``\\n``), the parser's value is kept as it is."""
    if not _CJK.search(value):
        return value
    header = lines[start.line][start.column :] if start.line < len(lines) else ""
    form = _BLOCK_HEADER.match(header)
    last = end.line if end.column == 0 else end.line + 1
    body = list(lines[start.line + 1 : min(last, len(lines))])
    indent = next((len(b) - len(b.lstrip(" ")) for b in body if b.strip()), None)
    if form is None or indent is None or indent == 0:
        return value
    content = ["" if not b.strip() and len(b) <= indent else b[indent:] for b in body]
    if any(b.strip() and not b.startswith(" " * indent) for b in body):
        return value
    chomp = form.group(1)
    if _fold(content, chomp, cjk=False) != value:
        return value
    return _fold(content, chomp, cjk=True)


def _mark_location(file: str, mark: Any, path: tuple[PathPart, ...] = ()) -> Location:
    if mark is None:
        return Location(file=file, path=path)
    return Location(file=file, line=mark.line + 1, column=mark.column + 1, path=path)


def _parse_yaml(text: str, file: str) -> tuple[Any, SourceMap]:
    source = SourceMap(file, text.splitlines())
    try:
        root = yaml.compose(text, Loader=_BoundedLoader)
    except _Refused as e:
        raise RubricSyntaxError([e.issue(file)]) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        detail = " ".join(p for p in (e.context, e.problem) if p)
        if "nesting depth" in detail:  # libyaml's own bound on nesting
            raise RubricSyntaxError(
                [
                    Issue.of(
                        "yaml.too_deep",
                        _mark_location(file, mark),
                        message=msg("document.too_deep", limit=MAX_DEPTH),
                    )
                ]
            ) from None
        raise RubricSyntaxError(
            [Issue.of("yaml.syntax", _mark_location(file, mark), detail=detail or "?")]
        ) from None
    except yaml.YAMLError as e:
        raise RubricSyntaxError(
            [Issue.of("yaml.syntax", Location(file=file), detail=str(e).splitlines()[0])]
        ) from None
    except RecursionError:
        raise RubricSyntaxError([_too_deep("yaml.too_deep", file)]) from None
    if root is None:
        return None, source
    try:
        data = _Reader(source).build(root, (), 0)
    except _Refused as e:
        raise RubricSyntaxError([e.issue(file)]) from None
    except RecursionError:
        raise RubricSyntaxError([_too_deep("yaml.too_deep", file)]) from None
    return data, source


def _too_deep(code: str, file: str | None) -> Issue:
    return Issue.of(code, Location(file=file), message=msg("document.nests_too_deeply"))


def _parse_toml(text: str, file: str) -> tuple[Any, SourceMap]:
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except ValueError as e:  # TOMLDecodeError, or an integer of more than 4300 digits
        raise RubricSyntaxError([_toml_issue(str(e), text, file)]) from None
    except RecursionError:
        raise RubricSyntaxError([_too_deep("toml.too_deep", file)]) from None
    if _depth(data) > MAX_DEPTH:
        raise RubricSyntaxError(
            [
                Issue.of(
                    "toml.too_deep",
                    Location(file=file),
                    message=msg("document.too_deep", limit=MAX_DEPTH),
                )
            ]
        )
    return data, SourceMap(file, text.splitlines())


_TOML_PLACE: Final = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)$")


def _toml_issue(message: str, text: str, file: str) -> Issue:
    """tomllib's message, its place ``(at line 3, column 26)`` moved into the location."""
    place = _TOML_PLACE.search(message)
    if place is None:
        return Issue.of("toml.syntax", Location(file=file), detail=message)
    lines = text.splitlines() or [""]
    if place.group(1) is None:  # at the end of the document
        line, column = len(lines), len(lines[-1]) + 1
    else:
        line, column = int(place.group(1)), int(place.group(2))
    source = lines[line - 1] if 0 < line <= len(lines) else None
    return Issue.of(
        "toml.syntax",
        Location(file=file, line=line, column=column, source_line=source),
        detail=message[: place.start()],
    )


def _depth(data: Any) -> int:
    """How deep ``data`` nests (without recursion, whatever its depth)."""
    deepest, pending = 0, [(data, 0)]
    while pending:
        value, depth = pending.pop()
        deepest = max(deepest, depth)
        if isinstance(value, dict):
            pending.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            pending.extend((v, depth + 1) for v in value)
    return deepest


_PARSERS: Final[dict[str, Callable[[str, str], tuple[Any, SourceMap]]]] = {
    "yaml": _parse_yaml,
    "json": _parse_yaml,  # JSON is read by the YAML composer, which keeps line and column
    "toml": _parse_toml,
}
_SUFFIXES: Final = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".toml": "toml"}
_FORMAT_ALIASES: Final = {"yml": "yaml"}


def _format_of(path: Path) -> str:
    return _SUFFIXES.get(path.suffix.lower(), "yaml")


def read_bounded(path: str | Path) -> bytes:
    """The bytes of a rubric (or inputs) file: a regular file only, read to at most
    :data:`MAX_FILE_BYTES` (``perfscore._files``); :class:`RubricSyntaxError` otherwise
    (``file.unreadable``, ``file.not_regular``, ``file.too_large``)."""
    try:
        return _read_file(path, MAX_FILE_BYTES)
    except FileRefused as refused:
        raise RubricSyntaxError([refused.issue]) from None


def load_document(path: str | Path) -> tuple[Any, SourceMap]:
    """Read a YAML / JSON / TOML file into plain data and its source map."""
    p = Path(path)
    return parse_document(read_bounded(p), str(path), _format_of(p))


def format_name(format: str, name: str) -> str:
    """``format`` as one of ``yaml``, ``json``, ``toml`` (``yml`` is ``yaml``, any case);
    :class:`~perfscore.errors.RubricSyntaxError` (``file.format``) for another."""
    wanted = format.lower() if isinstance(format, str) else format
    wanted = _FORMAT_ALIASES.get(wanted, wanted)
    if wanted not in _PARSERS:
        raise RubricSyntaxError(
            [
                Issue.of(
                    "file.format",
                    Location(file=name),
                    format=str(format),
                    formats=", ".join(sorted(_PARSERS)),
                )
            ]
        )
    return str(wanted)


def parse_document(raw: bytes | str, name: str, format: str = "yaml") -> tuple[Any, SourceMap]:
    """Parse text already in memory (see :func:`load_document`)."""
    parser = _PARSERS[format_name(format, name)]
    if isinstance(raw, bytes):
        if len(raw) > MAX_FILE_BYTES:
            raise RubricSyntaxError(
                [
                    Issue.of(
                        "file.too_large",
                        Location(file=name),
                        message=msg("file.document_too_large", size=len(raw), limit=MAX_FILE_BYTES),
                    )
                ]
            )
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise RubricSyntaxError(
                [Issue.of("file.encoding", Location(file=name), byte=e.start)]
            ) from None
    elif isinstance(raw, str):
        text = raw
    else:
        raise TypeError(f"a rubric document is str or bytes, not {type(raw).__name__}")
    if len(text) > MAX_FILE_BYTES:
        raise RubricSyntaxError(
            [
                Issue.of(
                    "file.too_large",
                    Location(file=name),
                    message=msg("file.document_too_large", size=len(text), limit=MAX_FILE_BYTES),
                )
            ]
        )
    return parser(text, name)


# --------------------------------------------------------------------------- validation


_INTERVAL_KEYS: Final = frozenset({"range", "equals", "from", "to", "include_from", "include_to"})


def _known_keys() -> set[str]:
    """Every key of the format, wherever it belongs."""
    from . import methods, model

    keys: set[str] = set()
    for module in (model, methods):
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, BaseModel):
                for name, info in obj.model_fields.items():
                    keys.add(info.alias or name)
    for cls in method_kinds().values():
        keys.update(cls.model_fields)
    return keys | _INTERVAL_KEYS


def _keys_at(path: tuple[PathPart, ...], data: Any) -> set[str] | None:
    """The keys the mapping at ``path`` of ``data`` may hold, found by following the
    rubric model down the path (a scoring method by its ``method``); None where no model
    is known (an unknown method, a path the data does not have)."""
    annotation: Any = Rubric
    value = data
    for part in path:
        model = _model_for(annotation, value)
        if model is not None:
            fields = {info.alias or name: info for name, info in model.model_fields.items()}
            if not isinstance(part, str) or part not in fields:
                return None
            annotation = fields[part].annotation
        else:
            origin, args = get_origin(annotation), get_args(annotation)
            if origin in (tuple, list, Sequence) and isinstance(part, int) and args:
                annotation = args[0]
            elif origin in (dict, Mapping) and len(args) == 2:
                annotation = args[1]
            else:
                return None
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            value = None
    model = _model_for(annotation, value)
    if model is None:
        return None
    keys = {info.alias or name for name, info in model.model_fields.items()}
    return keys | _INTERVAL_KEYS if "range" in keys else keys


def _model_for(annotation: Any, value: Any) -> type[BaseModel] | None:
    """The model class that validates ``value`` where ``annotation`` is declared."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, UnionType):
        models = [m for m in get_args(annotation) if _model_for(m, value) is not None]
        return _model_for(models[0], value) if len(models) == 1 else None
    if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
        return None
    if annotation is ScoringMethod:  # the registered kind its 'method' names
        kind = value.get("method") if isinstance(value, Mapping) else None
        return method_class(kind) if isinstance(kind, str) else None
    return annotation


def _pydantic_text(err: Any) -> dict[str, Any]:
    """The text of one of pydantic's errors: a :class:`Problem` a validator raised keeps
    its own; pydantic's own kinds have entries in the catalogue (``pydantic.<kind>``);
    any other kind keeps pydantic's English sentence."""
    error = (err.get("ctx") or {}).get("error")
    if isinstance(error, Problem):
        return error.text
    key = f"pydantic.{err['type']}"
    if err["type"] == "literal_error":  # "'a', 'b' or 'c'": a list, in any language
        expected = str((err.get("ctx") or {}).get("expected", ""))
        return msg(key, choices=", ".join(expected.rsplit(" or ", 1)))
    if i18n.has(key):
        return msg(key, **{k: str(v) for k, v in (err.get("ctx") or {}).items()})
    detail = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        detail = detail.removeprefix(prefix)
    return msg("text", text=detail)


def _pydantic_issues(error: ValidationError, source: SourceMap, data: Any) -> list[Issue]:
    issues: list[Issue] = []
    known = _known_keys()
    errors = error.errors(include_url=False)
    locs = [tuple(err["loc"]) for err in errors]
    for err in errors:
        loc = tuple(err["loc"])
        if err["type"] == "too_short" and any(
            other[: len(loc)] == loc and len(other) > len(loc) for other in locs
        ):
            continue  # the list is short only because its items were refused, reported below
        path: tuple[PathPart, ...] = tuple(p for p in err["loc"] if isinstance(p, str | int))
        path = tuple(p for p in path if not (isinstance(p, str) and p.startswith("function-")))
        kind = err["type"]
        if path and path[-1] == "[key]":  # a bad mapping key (an input or derived id)
            path = path[:-1]
            issues.append(
                Issue.of(
                    "schema.invalid",
                    source.locate(path, key=True),
                    message=msg("schema.bad_id", id=repr(str(path[-1]))),
                    hint=msg("hint.id"),
                )
            )
            continue
        if kind == "extra_forbidden":
            key = str(path[-1]) if path else "?"
            here = _keys_at(path[:-1], data)
            hint = did_you_mean(key, here if here is not None else known)
            if hint is None and here is not None:
                hint = msg("hint.keys_here", keys=", ".join(sorted(here)))
            issues.append(
                Issue.of(
                    "schema.unknown_key", source.locate(path, key=True), hint=hint, key=repr(key)
                )
            )
            continue
        if kind == "missing":
            key = str(path[-1]) if path else "?"
            location = source.locate(path[:-1])
            location = Location(location.file, location.line, location.column, path)
            issues.append(Issue.of("schema.missing", location, key=repr(key)))
            continue
        id_pattern = kind == "string_pattern_mismatch" and (
            (path and path[-1] == "id") or (len(path) == 2 and path[0] in ("inputs", "derived"))
        )
        issues.append(
            Issue.of(
                "schema.invalid" if kind != "value_error" else "schema.value",
                source.locate(path),
                message=_pydantic_text(err),
                hint=msg("hint.id") if id_pattern else None,
            )
        )
    # Union members each report; keep one issue per place and message.
    unique: dict[tuple[Any, ...], Issue] = {}
    for issue in issues:
        unique.setdefault((issue.location.path, issue.code, issue.message), issue)
    return list(unique.values())


class _Fetch:
    """Reads the documents references name: shipped ones (unless refused) from perfscore,
    any other through the resolver of the referring document (a shipped document's own
    relative references stay among the shipped rubrics)."""

    def __init__(self, resolver: Resolver | None, shipped: bool) -> None:
        self.resolver = resolver
        self.shipped = shipped
        self._shipped: ShippedResolver | None = None

    def shipped_resolver(self) -> ShippedResolver:
        if self._shipped is None:
            self._shipped = ShippedResolver()
        return self._shipped

    def __call__(
        self, reference: str, here: tuple[Document | None, Resolver | None]
    ) -> tuple[Any, SourceMap, tuple[Document, Resolver], str, str]:
        referrer, resolver = here
        if reference.startswith(SHIPPED_PREFIX):
            if not self.shipped:
                raise Refused(Issue.of("compose.shipped_refused", reference=reference))
            resolver = self.shipped_resolver()
        else:
            try:  # a name that could reach another file is refused as such, resolver or not
                check_name(reference)
            except LookupError as e:
                raise ValueError(str(e)) from None
            if resolver is None:
                raise Refused(Issue.of("compose.no_resolver", reference=reference))
        try:
            document = resolver.resolve(reference, referrer)
        except LookupError as e:
            raise ValueError(str(e.args[0]) if e.args else f"{reference!r} not found") from None
        if not isinstance(document, Document):
            raise ValueError(
                f"the resolver gave {type(document).__name__} for {reference!r}, not a Document"
            )
        data, source = parse_document(document.text, document.name, document.format)
        identity = f"{id(resolver)}:{document.identity}"
        return data, source, (document, resolver), identity, document.name


def build_rubric(
    data: Any,
    source: SourceMap,
    file: Path | None = None,
    *,
    resolver: Resolver | None = None,
    shipped: bool = True,
    document: Document | None = None,
) -> Rubric:
    """Validate plain data as a rubric; check and compile it. Every problem is reported.

    References (``extends`` / ``uses``) are read through ``resolver``: by default, for a
    document read from ``file``, the files of its folder or project
    (:meth:`~perfscore.resolvers.FolderResolver.for_file`); ``shipped=False`` refuses the
    rubrics shipped with perfscore. ``document`` is the document itself as the resolver
    knows it (relative references start from its place).

    The checks run in one pass wherever the document parses: references (``extends``,
    ``uses``, ``ref``), structure (keys and types), then formulas, weights and bands.
    When the structure has problems, a copy of the document with the parts in question
    repaired or left out (:func:`_salvage`) is checked further, and every problem found
    outside those parts is reported with the structure's.
    """
    origins: dict[str, str] = {}
    problems: list[Issue] = []
    if isinstance(data, dict) and COMPOSE_KEYS & data.keys():
        if file is not None and resolver is None:  # the project's configuration, if any
            resolver = FolderResolver.for_file(file)
        if document is None and file is not None:
            key = resolver.key_of(file) if isinstance(resolver, FolderResolver) else None
            document = Document("", source.file, _format_of(file), key)
        identity = None
        if document is not None and document.key is not None and resolver is not None:
            identity = f"{id(resolver)}:{document.identity}"
        composite = SourceMap(source.file, source.lines)
        data, origins = compose_document(
            data,
            source,
            (document, resolver),
            identity,
            composite,
            _Fetch(resolver, shipped),
            problems=problems,
        )
        if composite.mounts:
            source = composite
    if not isinstance(data, Mapping):
        raise RubricValidationError(
            [
                Issue.of(
                    "schema.invalid",
                    Location(file=source.file),
                    message=msg("schema.not_mapping"),
                    hint=msg("schema.not_mapping.hint"),
                )
            ]
        )
    if any(i.code in _UNREAD for i in problems):
        raise RubricValidationError(problems)  # a part of the rubric could not be read
    # an indicator whose `ref` names no definition lacks what the definition would give
    unresolved = [i.location.path[:-1] for i in problems if i.code == "compose.unknown_definition"]
    try:
        rubric = _validate(data, source)
    except RubricValidationError as e:
        problems.extend(
            i
            for i in e.issues
            if not (i.code == "schema.missing" and i.location.path[:-1] in unresolved)
        )
        salvaged = _salvage(data, e, source)
        if salvaged is not None:
            repaired, left_out = salvaged
            left_out.extend(unresolved)
            problems.extend(
                issue
                for issue in _compile_issues(repaired, source)
                if not any(issue.location.path[: len(p)] == p for p in left_out)
            )
        raise _combined(problems) from None
    if problems:  # references failed, the rest is sound: check it whole all the same
        problems.extend(_compile_issues(rubric, source))
        raise _combined(problems)
    rubric._source = source
    rubric._origins = origins
    compile_rubric(rubric)
    return rubric


#: Reference problems after which a part of the rubric is missing (the base, a library):
#: what is left is not checked further, since every name it lacks would be a problem too.
_UNREAD: Final = frozenset(
    {
        "compose.reference",
        "compose.cycle",
        "compose.too_deep",
        "compose.no_resolver",
        "compose.shipped_refused",
    }
)


def _validate(data: Any, source: SourceMap) -> Rubric:
    """The rubric model of ``data``, or RubricValidationError with every shape problem."""
    try:
        rubric = Rubric.model_validate(data)
    except ValidationError as e:
        raise RubricValidationError(_pydantic_issues(e, source, data)) from None
    except RecursionError:
        raise RubricSyntaxError([_too_deep("yaml.too_deep", source.file)]) from None
    numbers = [
        Issue.of("schema.number", source.locate(p), message=number_text(problem, shown(n)))
        for p, n in _decimals(rubric.model_dump(by_alias=True, exclude_defaults=True), ())
        if (problem := number_problem(n)) is not None
    ]
    if numbers:
        raise RubricValidationError(numbers)
    return rubric


def _compile_issues(data: Rubric | Any, source: SourceMap) -> list[Issue]:
    """The problems compiling finds in a rubric (or in data that validates as one)."""
    try:
        rubric = data if isinstance(data, Rubric) else _validate(data, source)
    except RubricError:
        return []
    rubric._source = source
    try:
        compile_rubric(rubric)
    except RubricValidationError as e:
        return list(e.issues)
    return []


def _combined(problems: list[Issue]) -> RubricValidationError:
    if problems and all(i.code.startswith("formula.") for i in problems):
        return FormulaError(problems)
    return RubricValidationError(problems)


#: Stand-ins for a part of a rubric whose shape is wrong, so that the rest can be checked:
#: the part's own problems are already reported, and problems found inside it are dropped.
_STAND_INS: Final[Mapping[str, Callable[[str], dict[str, Any]]]] = {
    "inputs": lambda name: {"label": name, "kind": "number", "required": False},
    "derived": lambda name: {"label": name, "formula": "0", "rounding": "none"},
}
_SCORING_STAND_IN: Final = {"method": "formula", "expression": "0"}


def _salvage(
    data: Any, error: RubricValidationError, source: SourceMap
) -> tuple[Any, list[tuple[PathPart, ...]]] | None:
    """A copy of ``data`` whose shape problems are mended, and the paths mended, or None
    when a problem sits where nothing can stand in for it.

    A misspelt key is renamed to the key it was likely meant to be when that key is
    missing, and dropped otherwise; an input or derived value of the wrong shape is
    replaced by a plain one of the same id; a leaf's scoring of the wrong shape by a
    formula scoring 0; a grade band of the wrong shape is left out (and the bands are not
    checked); metadata and an indicator's name, texts and policy of the wrong shape get a
    stand-in or are left out. Problems found later inside what was mended are dropped."""
    repaired = copy.deepcopy(data)
    left_out: list[tuple[PathPart, ...]] = []
    broken_bands: set[int] = set()
    missing = {i.location.path for i in error.issues if i.code == "schema.missing"}
    for issue in error.issues:
        path = issue.location.path
        if issue.code == "schema.unknown_key" and path:
            parent = _at(repaired, path[:-1])
            if not isinstance(parent, dict) or path[-1] not in parent:
                return None
            value = parent.pop(path[-1])
            likely = _likely_key(str(path[-1]), parent, path[:-1], missing)
            if likely is not None:
                parent[likely] = value
            continue
        if issue.code == "schema.missing" and any(
            i.code == "schema.unknown_key" and i.location.path[:-1] == path[:-1]
            for i in error.issues
        ):
            continue  # mended by renaming the misspelt key beside it
        if issue.code == "schema.missing" and path and path[0] == "indicators":
            node = _at(repaired, path[:-1])
            if isinstance(node, dict) and path[-1] in ("name", "scoring"):
                node[path[-1]] = dict(_SCORING_STAND_IN) if path[-1] == "scoring" else "?"
                left_out.append(path[:-1])
                continue
            return None
        if len(path) >= 2 and path[0] in _STAND_INS:
            section = _at(repaired, path[:1])
            if not isinstance(section, dict):
                return None
            section[path[1]] = _STAND_INS[str(path[0])](str(path[1]))
            left_out.append(path[:2])
            continue
        where = _scoring_path(path)
        if where is not None:
            node = _at(repaired, where[:-1])
            if not isinstance(node, dict):
                return None
            node["scoring"] = dict(_SCORING_STAND_IN)
            left_out.append(where)
            continue
        if len(path) >= 2 and path[0] == "grades" and isinstance(path[1], int):
            broken_bands.add(path[1])  # left out; the bands' checks with it
            continue
        if len(path) == 1 and isinstance(repaired, dict) and path[0] in _META_STAND_INS:
            stand_in = _META_STAND_INS[str(path[0])]
            if stand_in is None:
                repaired.pop(path[0], None)
            else:
                repaired[path[0]] = stand_in
            continue
        if len(path) >= 2 and path[0] == "indicators" and path[-1] in _NODE_STAND_INS:
            node = _at(repaired, path[:-1])
            if not isinstance(node, dict):
                return None
            stand_in = _NODE_STAND_INS[str(path[-1])]
            if stand_in is None:
                node.pop(path[-1], None)
            else:
                node[path[-1]] = stand_in
            left_out.append(path[:-1])
            continue
        return None
    if broken_bands:
        grades = repaired.get("grades") if isinstance(repaired, dict) else None
        if not isinstance(grades, list):
            return None
        repaired["grades"] = [g for i, g in enumerate(grades) if i not in broken_bands]
        left_out.append(("grades",))
    return repaired, left_out


#: Stand-ins for metadata of the wrong shape (None: the key is left out, as optional).
_META_STAND_INS: Final[Mapping[str, str | None]] = {
    "id": "rubric",
    "title": "?",
    "issuer": None,
    "year": None,
    "version": None,
    "notes": None,
    "schema_version": None,
}
#: Stand-ins for an indicator's keys of the wrong shape that no check below depends on.
_NODE_STAND_INS: Final[Mapping[str, str | None]] = {
    "name": "?",
    "description": None,
    "standard": None,
    "source": None,
    "not_applicable": None,
}


def _at(data: Any, path: tuple[PathPart, ...]) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _likely_key(
    key: str,
    parent: Mapping[str, Any],
    where: tuple[PathPart, ...],
    missing: set[tuple[PathPart, ...]],
) -> str | None:
    """The missing key that ``key`` is likely a misspelling of, if any."""
    from ._suggest import closest

    candidates = [str(p[-1]) for p in missing if p[:-1] == where and p[-1] not in parent]
    return closest(key, candidates)


def _scoring_path(path: tuple[PathPart, ...]) -> tuple[PathPart, ...] | None:
    """The path of the ``scoring`` of the indicator that ``path`` is inside, if any."""
    if not path or path[0] != "indicators" or "scoring" not in path:
        return None
    end = len(path) - 1 - path[::-1].index("scoring")
    return path[: end + 1]


def _decimals(data: Any, path: tuple[PathPart, ...]) -> Iterator[tuple[tuple[PathPart, ...], Any]]:
    """Every decimal in ``data`` (plain data, intervals and methods dumped), with its path."""
    if isinstance(data, Decimal):
        yield path, data
    elif isinstance(data, dict):
        for k, v in data.items():
            yield from _decimals(v, (*path, k))
    elif isinstance(data, list | tuple):
        for i, v in enumerate(data):
            yield from _decimals(v, (*path, i))
    elif dataclasses.is_dataclass(data) and not isinstance(data, type):
        for f in dataclasses.fields(data):
            yield from _decimals(getattr(data, f.name), path)


def load_rubric(
    path: str | Path, *, resolver: Resolver | None = None, shipped: bool = True
) -> Rubric:
    """Load, validate and check a rubric file (``.yaml``/``.yml``, ``.json`` or ``.toml``).

    ``extends`` / ``uses`` may name a rubric shipped with perfscore (``perfscore:NAME``,
    unless ``shipped=False``) or another document, which ``resolver`` finds (see
    :mod:`perfscore.resolvers`); by default a file under the rubric's folder, or under its
    project's root and search folders when a ``perfscore.toml`` above it declares them.

    Raises :class:`~perfscore.errors.RubricSyntaxError` when the file cannot be read or
    parsed, :class:`~perfscore.errors.RubricValidationError` (or its subclass
    :class:`~perfscore.errors.FormulaError`) listing every problem otherwise.
    """
    data, source = load_document(path)
    return build_rubric(data, source, Path(path), resolver=resolver, shipped=shipped)


def loads_rubric(
    text: str | bytes,
    *,
    format: Format | str = "yaml",
    name: str = "<string>",
    resolver: Resolver | None = None,
    shipped: bool = True,
    key: str | None = None,
) -> Rubric:
    """Like :func:`load_rubric`, from text (or UTF-8 bytes) in memory.

    ``format`` is ``yaml`` (or ``yml``), ``json`` or ``toml``; another is a
    :class:`~perfscore.errors.RubricSyntaxError` (``file.format``). A reference to a
    shipped rubric (``perfscore:NAME``) is read unless ``shipped=False``; any other is
    looked up by ``resolver`` (without one it is refused, ``compose.no_resolver``), from
    ``key``, the place of this text among the resolver's documents (default: its top).
    """
    data, source = parse_document(text, name, format)
    document = Document("", name, format_name(format, name), key)
    return build_rubric(data, source, resolver=resolver, shipped=shipped, document=document)
