"""Where the references of a rubric (``extends``, ``uses``) are looked up: resolvers.

A reference is a name written in a rubric: ``perfscore:mof/dept-overall-menu-2013`` (a
rubric shipped with perfscore) or a path-like name such as ``base`` or
``shared/menu.yaml``. A *resolver* maps a name of the second kind to a
:class:`Document` (its text and a name for messages); shipped names are answered by
perfscore itself, unless the loader is told to refuse them (``shipped=False``, e.g. for
a tenant of a platform that may only build on its own store).

Built-in resolvers:

- :class:`FolderResolver`: files under one folder, never above it (a path relative to the
  referring file, then each declared search folder);
- :class:`MappingResolver`: documents held in memory, by name (a platform's store);
- :class:`ShippedResolver`: the rubrics shipped with perfscore.

A resolver of your own is any object with a ``resolve(reference, referrer)`` method (the
:class:`Resolver` protocol) that returns a :class:`Document` or raises
:class:`LookupError` with a sentence saying why the name is not there; perfscore puts
that sentence in a ``compose.reference`` issue, located at the reference.

A project of rubrics may declare folders to search in a ``perfscore.toml`` at its root::

    [references]
    search = ["shared", "national"]

:meth:`FolderResolver.for_file` finds that file above a rubric (the nearest one) and
searches the folders it names, each inside the project root, after the referring file's
own folder.
"""

from __future__ import annotations

import posixpath
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Final, Protocol, runtime_checkable

from .errors import Issue, Location, RubricSyntaxError

__all__ = [
    "CONFIG_FILE",
    "SHIPPED_PREFIX",
    "SUFFIXES",
    "Document",
    "FolderResolver",
    "MappingResolver",
    "Resolver",
    "ShippedResolver",
]

#: The rubric project's configuration file, looked for above a rubric file.
CONFIG_FILE: Final = "perfscore.toml"
#: How a reference names a rubric shipped with perfscore.
SHIPPED_PREFIX: Final = "perfscore:"
#: The suffixes of rubric documents, tried in this order for a name without one.
SUFFIXES: Final = (".yaml", ".yml", ".json", ".toml")
#: How far above a rubric file its project's configuration is looked for.
MAX_CONFIG_DEPTH: Final = 32
#: How many documents :meth:`FolderResolver.references` lists at most.
MAX_LISTED: Final = 10_000
_FORMATS: Final = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".toml": "toml"}


@dataclass(frozen=True)
class Document:
    """A rubric or library document that a resolver found.

    ``text`` is the document (bytes are read as UTF-8); ``name`` is how messages name it
    (a file path, ``store:tenant-7/base``); ``format`` is ``yaml``, ``json`` or ``toml``
    (``yml`` is read as ``yaml``). ``key`` is the name that the resolver knows the
    document by, from which names written in it are resolved (a relative name is
    relative to the folder of ``key``); it defaults to ``name``.
    """

    text: str | bytes = field(repr=False)
    name: str
    format: str = "yaml"
    key: str | None = None

    @property
    def identity(self) -> str:
        """What tells two documents apart (for cycles): ``key``, else ``name``."""
        return self.key if self.key is not None else self.name


@runtime_checkable
class Resolver(Protocol):
    """Maps a reference, as written in ``extends`` / ``uses``, to a :class:`Document`.

    ``referrer`` is the document the reference is written in (None for the document
    being loaded, when it came from text). Raise :class:`LookupError` with a sentence
    when the reference names nothing this resolver holds or may give.
    """

    def resolve(self, reference: str, referrer: Document | None) -> Document:
        """The document ``reference`` names."""
        ...


def check_name(reference: str) -> PurePosixPath:
    """A reference as a relative path; LookupError when it could name a file elsewhere."""
    pure = PurePosixPath(reference)
    if (
        not reference
        or pure.is_absolute()
        or ".." in pure.parts
        or "\\" in reference
        or ":" in reference
    ):
        raise LookupError(
            f"{reference!r} is not allowed: name a file beside this one (no '..', no absolute "
            "path) or a shipped rubric as 'perfscore:NAME'"
        )
    return pure


def candidates(reference: str, referrer_key: str | None, search: Iterable[str]) -> Iterator[str]:
    """The keys a relative ``reference`` may name, in the order they are tried: beside the
    referring document, then in each search folder; each with its suffix or every suffix."""
    pure = check_name(reference)
    folders = [posixpath.dirname(referrer_key) if referrer_key else ""]
    folders += [s for s in search if s not in folders]
    names = [str(pure)] if pure.suffix in SUFFIXES else [str(pure) + s for s in SUFFIXES]
    for folder in folders:
        for name in names:
            yield posixpath.normpath(posixpath.join(folder, name)) if folder else name


def format_of(name: str) -> str:
    """The format a document's name says (its suffix), YAML when it says none."""
    return _FORMATS.get(PurePosixPath(name).suffix.lower(), "yaml")


class FolderResolver:
    """Rubric files under ``root``, never above it.

    A reference is a path relative to the referring file's folder (a file loaded from
    text refers from ``root``), then to each folder of ``search`` (relative to
    ``root``); without a suffix, ``.yaml``, ``.yml``, ``.json`` and ``.toml`` are tried.
    ``..``, absolute paths, ``\\`` and ``:`` are refused, and so is a file whose real
    path (symbolic links followed) is outside ``root``.
    """

    def __init__(self, root: str | Path, *, search: Iterable[str] = ()) -> None:
        self.root = Path(root)
        self.search: tuple[str, ...] = tuple(str(check_name(s)) for s in search)

    def __repr__(self) -> str:
        return f"FolderResolver({str(self.root)!r}, search={list(self.search)!r})"

    @classmethod
    def for_file(cls, path: str | Path) -> FolderResolver:
        """The resolver for a rubric file: its project's (the nearest ``perfscore.toml``
        above it: that folder and the search folders it declares), else its own folder.

        Raises :class:`~perfscore.errors.RubricSyntaxError` when the configuration file
        cannot be read or says something it may not."""
        folder = Path(path).absolute().parent
        for here in [folder, *folder.parents][:MAX_CONFIG_DEPTH]:
            config = here / CONFIG_FILE
            if config.is_file():
                return cls(here, search=read_search(config))
        return cls(folder)

    def key_of(self, path: str | Path) -> str | None:
        """The key of a file under ``root`` (its relative path), None for one elsewhere."""
        try:
            relative = Path(path).absolute().relative_to(self.root.absolute())
        except ValueError:
            return None
        return relative.as_posix()

    def resolve(self, reference: str, referrer: Document | None) -> Document:
        from .loading import read_bounded

        root = self.root.resolve()
        key = referrer.key if referrer is not None else None
        for candidate in candidates(reference, key, self.search):
            path = self.root / candidate
            try:
                if not path.is_file():
                    continue
                if not path.resolve().is_relative_to(root):
                    raise LookupError(
                        f"{reference!r} is not allowed: {candidate} leads outside "
                        f"{self.root} (a symbolic link)"
                    )
            except OSError:  # a name too long, a folder that may not be read
                continue
            return Document(read_bounded(path), str(path), format_of(candidate), candidate)
        raise LookupError(f"no rubric file found for {reference!r}")

    def references(self) -> list[str]:
        """Every rubric document under ``root`` (its key), sorted: golden-case files
        (``*.cases.*``) and files whose real path is outside ``root`` left out; at most
        :data:`MAX_LISTED`."""
        root = self.root.resolve()
        found: list[str] = []
        for path in self.root.rglob("*"):
            if path.suffix not in SUFFIXES or ".cases." in path.name:
                continue
            try:
                if not (path.is_file() and path.resolve().is_relative_to(root)):
                    continue
            except OSError:
                continue
            found.append(path.relative_to(self.root).as_posix())
            if len(found) >= MAX_LISTED:
                break
        return sorted(found)


class MappingResolver:
    """Documents held in memory: name -> text (``str`` or UTF-8 ``bytes``).

    A name is looked up as :class:`FolderResolver` looks up a path: beside the referring
    document (names with ``/`` make folders), then in each of ``search``, with its suffix
    or each rubric suffix (a name without a suffix is also tried as it is, as YAML).
    """

    def __init__(self, documents: Mapping[str, str | bytes], *, search: Iterable[str] = ()) -> None:
        self.documents = dict(documents)
        self.search: tuple[str, ...] = tuple(str(check_name(s)) for s in search)

    def __repr__(self) -> str:
        return f"MappingResolver({sorted(self.documents)!r})"

    def resolve(self, reference: str, referrer: Document | None) -> Document:
        key = referrer.key if referrer is not None else None
        check_name(reference)
        folders = [posixpath.dirname(key) if key else "", *self.search]
        for folder in folders:
            exact = posixpath.join(folder, reference) if folder else reference
            if exact in self.documents:
                return Document(self.documents[exact], exact, format_of(exact), exact)
        for candidate in candidates(reference, key, self.search):
            if candidate in self.documents:
                return Document(
                    self.documents[candidate], candidate, format_of(candidate), candidate
                )
        raise LookupError(f"no document named {reference!r}")

    def references(self) -> list[str]:
        """Every name held, sorted."""
        return sorted(self.documents)


class ShippedResolver:
    """The rubrics shipped with perfscore: ``perfscore:NAME`` (the ``perfscore:`` may be
    left out), e.g. ``perfscore:mof/dept-overall-menu-2013``."""

    def __init__(self) -> None:
        root = bundled_root()
        self._folder = FolderResolver(root) if root is not None else None

    def __repr__(self) -> str:
        return "ShippedResolver()"

    def resolve(self, reference: str, referrer: Document | None) -> Document:
        if self._folder is None:
            raise LookupError("the rubrics shipped with perfscore are not installed")
        name = reference.removeprefix(SHIPPED_PREFIX)
        inner = None
        if (
            referrer is not None
            and referrer.key is not None
            and not reference.startswith(SHIPPED_PREFIX)
        ):
            inner = Document("", referrer.name, key=referrer.key.removeprefix(SHIPPED_PREFIX))
        found = self._folder.resolve(name, inner)
        stem = found.identity
        for suffix in SUFFIXES:
            stem = stem.removesuffix(suffix)
        return Document(found.text, found.name, found.format, SHIPPED_PREFIX + stem)

    def references(self) -> list[str]:
        """Every shipped rubric and library, as ``perfscore:NAME``."""
        if self._folder is None:
            return []
        out = []
        for key in self._folder.references():
            stem = key
            for suffix in SUFFIXES:
                stem = stem.removesuffix(suffix)
            out.append(SHIPPED_PREFIX + stem)
        return out


def bundled_root() -> Path | None:
    """Where the rubrics shipped with perfscore are (in the wheel, or the source tree)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "rubrics", here.parent.parent / "rubrics"):
        if candidate.is_dir():
            return candidate
    return None


def read_search(config: Path) -> tuple[str, ...]:
    """The search folders a ``perfscore.toml`` declares (``[references] search``)."""
    from .loading import read_bounded

    name = str(config)

    def refuse(key: str, **params: str) -> RubricSyntaxError:
        return RubricSyntaxError([Issue.of(key, Location(file=name), **params)])

    raw = read_bounded(config)
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as e:
        raise refuse("config.syntax", problem=str(e)) from None
    references = data.get("references", {})
    search = references.get("search", []) if isinstance(references, dict) else None
    if not isinstance(search, list) or not all(isinstance(s, str) for s in search):
        raise refuse("config.search")
    out = []
    for entry in search:
        try:
            folder = check_name(entry.strip().rstrip("/"))
        except LookupError:
            raise refuse("config.search_escape", folder=entry) from None
        if not (config.parent / folder).is_dir():
            raise refuse("config.search_missing", folder=entry)
        out.append(str(folder))
    return tuple(out)
