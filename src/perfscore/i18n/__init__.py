"""One catalogue of every text a person reads, in 简体中文 and English.

The texts live in gettext catalogues beside this module, one folder per language
(``zh/*.po``, ``en/*.po``; a file per part of the package, the same files in each
folder), one entry per key. A key is stable and English (an issue code such as
``input.out_of_bounds``, its hint ``input.out_of_bounds.hint``, or a namespaced label such
as ``report.total``); the text is a ``str.format`` template whose ``{names}`` are
filled from parameters::

    >>> from perfscore.i18n import tr
    >>> tr("lang.name", "en")
    'English'
    >>> tr("lang.name", "zh")
    '中文'

A text can be kept as data and written later, in any language: :func:`msg` makes a
JSON-ready ``{"key": ..., "params": {...}}``, and a parameter that is such a text is written
in the same language as the text around it::

    >>> part = msg("lang.name")
    >>> render(part, "en"), render(part, "zh")
    ('English', '中文')

The language is chosen, in order: the ``lang`` argument; the language in force in this
context (:func:`use_lang`); ``PERFSCORE_LANG``; a locale variable that names a language
(``LC_ALL``, ``LC_MESSAGES``, ``LANG``: ``zh_*`` or ``en_*``); else Chinese.

The catalogues are read once, on the first text asked for, with Babel's PO reader.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from string import Formatter
from typing import Any, Final, Literal, TypeGuard, get_args

__all__ = [
    "LANGS",
    "Lang",
    "current_lang",
    "has",
    "is_msg",
    "keys",
    "msg",
    "placeholders",
    "render",
    "resolve_lang",
    "tr",
    "use_lang",
]

Lang = Literal["zh", "en"]
#: The languages every text exists in; the first is the default.
LANGS: Final[tuple[Lang, ...]] = get_args(Lang)

_HERE: Final = Path(__file__).parent
_LOCK: Final = threading.Lock()
_CATALOGUES: dict[str, dict[str, str]] = {}
_FORCED: ContextVar[Lang | None] = ContextVar("perfscore_lang", default=None)


def _is_lang(value: object) -> TypeGuard[Lang]:
    return value in LANGS


def _from_locale(value: str) -> Lang | None:
    """``zh_CN.UTF-8`` → ``zh``; ``C``, ``POSIX`` or an unknown language → None."""
    head = value.split(".")[0].split("@")[0].split("_")[0].split("-")[0].lower()
    return head if _is_lang(head) else None


#: The variables that name the language, in order. They are read for every text that names
#: no language, so from os.environ's own dict (the one it writes to), without the KeyError
#: that a missing variable costs ``os.environ.get``, and each value's language is kept.
_LANG_VARIABLES: Final = ("PERFSCORE_LANG", "LC_ALL", "LC_MESSAGES", "LANG")
_ENV_DATA: Final[dict[Any, Any] | None] = getattr(os.environ, "_data", None)
_ENV_KEYS: Final[tuple[Any, ...]] = (
    tuple(getattr(os.environ, "encodekey", str)(name) for name in _LANG_VARIABLES)
    if _ENV_DATA is not None
    else _LANG_VARIABLES
)
_SEEN: dict[Any, Lang | None] = {}


def _lang_of(raw: Any) -> Lang | None:
    """The language a variable's raw value names (kept: a process sees few values)."""
    try:
        return _SEEN[raw]
    except KeyError:
        decode = getattr(os.environ, "decodevalue", None)
        value = decode(raw) if decode is not None and not isinstance(raw, str) else str(raw)
        lang = _from_locale(value)
        if len(_SEEN) < 64:
            _SEEN[raw] = lang
        return lang


def _environment_lang() -> Lang:
    """``PERFSCORE_LANG`` if it names a language, else the first locale variable set."""
    data: Mapping[Any, Any] = os.environ if _ENV_DATA is None else _ENV_DATA
    keys = _ENV_KEYS
    raw = data.get(keys[0])
    if raw:
        lang = _lang_of(raw)
        if lang is not None:
            return lang
    for key in keys[1:]:
        raw = data.get(key)
        if raw:  # the first variable set decides, as in POSIX; C / POSIX name none
            return _lang_of(raw) or LANGS[0]
    return LANGS[0]


def resolve_lang(explicit: str | None = None) -> Lang:
    """The language to write in: ``explicit`` if given, else the context's, the
    environment's (``PERFSCORE_LANG``, then the locale), else Chinese.

    An ``explicit`` value that names no known language raises :class:`ValueError`."""
    if explicit is not None:
        lang = _from_locale(explicit)
        if lang is None:
            raise ValueError(f"unknown language {explicit!r}: use one of {', '.join(LANGS)}")
        return lang
    forced = _FORCED.get()
    if forced is not None:
        return forced
    return _environment_lang()


def current_lang() -> Lang:
    """The language texts are written in when no language is asked for."""
    return resolve_lang()


@contextmanager
def use_lang(lang: str) -> Iterator[Lang]:
    """Write in ``lang`` within the block (this thread or task only)."""
    token = _FORCED.set(resolve_lang(lang))
    try:
        yield resolve_lang(lang)
    finally:
        _FORCED.reset(token)


def _catalogue(lang: Lang) -> Mapping[str, str]:
    found = _CATALOGUES.get(lang)
    if found is not None:
        return found
    with _LOCK:
        if lang not in _CATALOGUES:
            from babel.messages.pofile import read_po

            entries: dict[str, str] = {}
            for path in sorted((_HERE / lang).glob("*.po")):
                with path.open("rb") as f:
                    catalog = read_po(f, locale=lang, charset="utf-8")
                for message in catalog:
                    key, text = message.id, message.string
                    if not (key and isinstance(key, str) and isinstance(text, str)):
                        continue
                    if key in entries:
                        raise RuntimeError(f"{path}: key {key!r} is in another file too")
                    entries[key] = text
            _CATALOGUES[lang] = entries
        return _CATALOGUES[lang]


def has(key: str) -> bool:
    """Whether the catalogue has ``key`` (in the default language)."""
    return key in _catalogue(LANGS[0])


def keys(lang: Lang = LANGS[0]) -> frozenset[str]:
    """Every key of one language's catalogue."""
    return frozenset(_catalogue(lang))


def placeholders(template: str) -> frozenset[str]:
    """The ``{names}`` a template fills: ``"{a} 超过 {b:.2f}"`` → ``{"a", "b"}``."""
    return frozenset(
        field.split(".")[0].split("[")[0] for _, field, _, _ in Formatter().parse(template) if field
    )


class _Params(dict[str, Any]):
    """Parameters for a template: a name that was not given shows as ``{name}``."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def msg(key: str, /, **params: Any) -> dict[str, Any]:
    """A text kept as data: its key and parameters, written by :func:`render` in any
    language. Parameters may themselves be texts made by :func:`msg`."""
    return {"key": key, "params": params}


def is_msg(value: object) -> TypeGuard[Mapping[str, Any]]:
    """Whether ``value`` is a text made by :func:`msg`."""
    return (
        isinstance(value, Mapping)
        and len(value) == 2
        and isinstance(value.get("key"), str)
        and isinstance(value.get("params"), Mapping)
    )


def render(text: Mapping[str, Any], lang: str | None = None, /) -> str:
    """Write a text made by :func:`msg` in ``lang`` (default: :func:`current_lang`)."""
    return tr(text["key"], lang, **text["params"])


def tr(key: str, lang: str | None = None, /, **params: Any) -> str:
    """The text of ``key`` in ``lang`` (default: :func:`current_lang`), its ``{names}``
    filled from ``params``.

    A key missing from the catalogue raises :class:`KeyError`: every text perfscore
    writes has an entry, and a test holds that each exists in every language.
    """
    language = resolve_lang(lang) if lang is not None else resolve_lang()
    template = _catalogue(language).get(key)
    if template is None:
        raise KeyError(f"no text {key!r} in the {language} catalogue")
    if not params:
        return template
    for name, value in params.items():
        if is_msg(value):
            params[name] = render(value, language)
    return template.format_map(_Params(params))
