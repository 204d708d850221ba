"""JSON text of answers and records: orjson when it is installed (the ``serve`` extra
brings it), else the standard library; either way compact, non-ASCII text kept as it is,
decimals and dates written as their text."""

from __future__ import annotations

import json
from typing import Any

from .store import json_default

__all__ = ["dumps"]

try:
    import orjson
except ImportError:  # pragma: no cover - the serve extra installs it
    orjson = None  # type: ignore[assignment]


def _std(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=json_default).encode(
        "utf-8"
    )


def dumps(data: Any) -> bytes:
    """``data`` as compact JSON, UTF-8. What orjson does not write (an integer past 64
    bits, a key that is not text) is written by the standard library instead."""
    if orjson is None:  # pragma: no cover
        return _std(data)
    try:
        return orjson.dumps(data, default=json_default)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return _std(data)
