"""What the source asks of the catalogue, read from its syntax tree: the issue codes it
raises and the keys of the texts it writes.

An issue code is the first argument of ``Issue.of`` and of the helpers that make issues
(``error``, ``issue``, ``make_issue``, ``_Refused``, ``_Failure``, ``_too_deep``); a text key
is the first argument of ``msg``, ``tr`` and ``Problem``, and a code made into an issue
without its own ``message=`` is a key too."""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).parents[1] / "src" / "perfscore"
_CODE = re.compile(r"[a-z_]+(?:\.[a-z_]+)+")
_ISSUE_MAKERS = frozenset({"error", "issue", "make_issue", "_Refused", "_Failure", "_too_deep"})
_TEXT_MAKERS = frozenset({"msg", "tr", "Problem"})


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        if func.attr == "of" and isinstance(func.value, ast.Name) and func.value.id == "Issue":
            return "Issue.of"
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _strings(node: ast.expr) -> list[str]:
    """The strings an argument can be: a literal, or either branch of ``a if c else b``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    return []


def _literals(node: ast.Call) -> list[str]:
    """The first positional argument that reads like a code or key (every value it can
    take), skipping the path or field before it."""
    for arg in node.args:
        found = [s for s in _strings(arg) if _CODE.fullmatch(s)]
        if found:
            return found
    return []


def _calls(top_level: bool = False) -> list[tuple[Path, ast.Call]]:
    found = []
    for path in sorted(SRC.glob("*.py") if top_level else SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                found.append((path, node))
    return found


def issue_codes(*, top_level: bool = False) -> set[str]:
    """Every issue code the package raises (in its top-level modules only, with
    ``top_level``)."""
    codes = set()
    for _, call in _calls(top_level):
        name = _name(call.func)
        if name == "Issue.of" or name in _ISSUE_MAKERS:
            codes.update(_literals(call))
    return codes


def text_keys() -> set[str]:
    """Every catalogue key the package names literally."""
    keys = set()
    for _, call in _calls():
        name = _name(call.func)
        found = _literals(call)
        if name in _TEXT_MAKERS or (
            name == "Issue.of" and not any(k.arg == "message" for k in call.keywords)
        ):
            keys.update(found)
    return keys


def written_by_hand() -> list[str]:
    """Places that make an issue from text written in the code (a string or an f-string
    where the message should be a text of the catalogue), as ``file:line``."""
    found = []
    for path, call in _calls():
        name = _name(call.func)
        if name not in _ISSUE_MAKERS and name not in ("Issue", "Issue.of"):
            continue
        args = list(call.args)
        codes = [i for i, arg in enumerate(args) if any(_CODE.fullmatch(s) for s in _strings(arg))]
        if not codes:
            continue
        after = args[codes[0] + 1 : codes[0] + 2]
        after += [k.value for k in call.keywords if k.arg in ("message", "hint")]
        if name == "Issue.of":
            after = [k.value for k in call.keywords if k.arg in ("message", "hint")]
        for arg in after:
            if isinstance(arg, ast.JoinedStr) or (
                isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            ):
                found.append(f"{path.relative_to(SRC)}:{call.lineno}")
    return found
