"""'Did you mean' suggestions for misspelt names, keys and options."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from .i18n import msg


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``word``, if any is close enough to be a likely typo."""
    pool = sorted(set(candidates))
    matches = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    if matches:
        return matches[0]
    lowered = {c.lower(): c for c in pool}
    return lowered.get(word.lower())


def did_you_mean(word: str, candidates: Iterable[str]) -> dict[str, Any] | None:
    """The hint ``did you mean 'x'?`` as a text (:func:`perfscore.i18n.msg`), or None
    when nothing is close."""
    match = closest(word, candidates)
    return msg("hint.did_you_mean", name=repr(match)) if match is not None else None
