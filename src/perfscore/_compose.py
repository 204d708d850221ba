"""Rubrics built from other files: ``extends`` a base rubric, ``uses`` shared definitions.

``extends: perfscore:shaoyang/dept-overall-2023`` starts from a base rubric; the extending
file's top-level keys replace the base's, ``inputs`` and ``derived`` merge by id, and
``changes`` edits the indicator tree by id (``set`` keys on a node, ``remove`` a node,
``add`` a node ``under`` a parent) and the inherited inputs (``remove_input`` an input,
``set_input`` keys of one, e.g. ``required: false``).

``uses: [perfscore:mof/dept-overall-menu-2013]`` makes a library's inputs, derived values
and indicator definitions available: an indicator with ``ref: <definition>`` takes the
definition's name, description, standard and scoring unless it sets them itself, and only
the library inputs and derived values that something reads are kept.

References are names, not arbitrary paths: ``perfscore:NAME`` is a rubric shipped with
perfscore; anything else is looked up by a resolver (:mod:`perfscore.resolvers`), by
default among the files under the referring file's folder or project, without ``..``.
So a rubric from elsewhere cannot make perfscore read other files.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, Final

from . import i18n
from .errors import Issue, Location, PathPart, Problem, RubricValidationError
from .i18n import msg
from .resolvers import SHIPPED_PREFIX, bundled_root, candidates

MAX_CHAIN: Final = 8
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: The keys that build a document from others; a document without them reads no other.
COMPOSE_KEYS: Final = frozenset({"extends", "uses", "changes"})
_DEFINITION_KEYS: Final = (
    "name",
    "description",
    "standard",
    "source",
    "scoring",
    "not_applicable_when",
)

#: ``load(reference, here)``: the document a reference names, read from where ``here`` (the
#: referring document's place, opaque to the composer) says -> ``(data, source map, its
#: own place, its identity, its name)``; ValueError with a sentence (or an issue) when it
#: may not be read.
Loader = Callable[[Any, Any], tuple[Any, Any, Any, str, str]]
#: The edits a change may make: of the indicator tree, and of the inherited inputs.
_TREE_OPS: Final = ("set", "remove", "add")
_INPUT_OPS: Final = ("set_input", "remove_input")
_OPS_SHOWN: Final = (*_TREE_OPS, *_INPUT_OPS)


class Refused(ValueError):
    """A reference that may not be followed, with the issue that says why."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.message)
        self.issue = issue


def resolve_reference(ref: Any, referrer: Path | None) -> Path:
    """The file a reference names, ``perfscore:NAME`` (shipped) or a path relative to
    ``referrer``'s folder; ValueError (a sentence) when it is not allowed or not found.

    For a caller that names one rubric file (a golden-case file's ``rubric``); documents
    referenced from rubrics are found by a resolver (:mod:`perfscore.resolvers`)."""
    if not isinstance(ref, str) or not ref.strip():
        raise Problem("compose.ref_text")
    text = ref.strip()
    if text.startswith(SHIPPED_PREFIX):
        root = bundled_root()
        if root is None:
            raise Problem("compose.not_installed")
        base, name = root, text[len(SHIPPED_PREFIX) :]
    elif referrer is None:
        raise Problem("compose.relative", ref=repr(ref))
    else:
        base, name = referrer.parent, text
    try:
        keys = list(candidates(name, None, ()))
    except LookupError as e:
        raise ValueError(str(e)) from None
    for key in keys:
        candidate = base / key
        try:
            if candidate.is_file():
                return candidate
        except OSError:  # a name too long, a folder that may not be read
            continue
    raise Problem("compose.not_found", ref=repr(ref))


class Composer:
    """Applies ``extends`` / ``uses`` / ``changes`` to a document, keeping every part's origin."""

    def __init__(self, load: Loader, composite: Any) -> None:
        self.load = load
        self.composite = composite  # the SourceMap of the composed document
        self.issues: list[Issue] = []
        self.origins: dict[int, tuple[Any, tuple[PathPart, ...]]] = {}
        self.key_origins: dict[tuple[int, Any], tuple[Any, tuple[PathPart, ...]]] = {}
        self.indicator_files: dict[str, str] = {}

    # -- bookkeeping ----------------------------------------------------------------
    def remember(self, data: Any, source: Any, path: tuple[PathPart, ...] = ()) -> None:
        """Record where every mapping and list of ``data`` came from."""
        if isinstance(data, dict):
            self.origins[id(data)] = (source, path)
            for k, v in data.items():
                self.remember(v, source, (*path, k))
        elif isinstance(data, list):
            self.origins[id(data)] = (source, path)
            for i, v in enumerate(data):
                self.remember(v, source, (*path, i))

    def mount(self, data: Any, path: tuple[PathPart, ...] = ()) -> None:
        """Fill the composite source map's mounts by walking the composed document."""
        if isinstance(data, dict | list):
            origin = self.origins.get(id(data))
            if origin is not None:
                self.composite.mounts[path] = origin
            items = data.items() if isinstance(data, dict) else enumerate(data)
            for k, v in items:
                key_origin = self.key_origins.get((id(data), k)) if isinstance(data, dict) else None
                if key_origin is not None:
                    self.composite.mounts[(*path, k)] = key_origin
                self.mount(v, (*path, k))

    def error(
        self,
        source: Any,
        path: tuple[PathPart, ...],
        code: str,
        message: dict[str, Any] | str,
        hint: dict[str, Any] | None = None,
    ) -> None:
        if isinstance(message, str):  # a text the catalogue does not hold (a resolver's own)
            message = msg("text", text=message)
        location = source.locate(path) if source is not None else Location(path=path)
        self.issues.append(Issue.of(code, location, message=message, hint=hint))

    # -- the work -------------------------------------------------------------------
    def compose(
        self, data: dict[str, Any], source: Any, file: Any, chain: tuple[str, ...]
    ) -> dict[str, Any]:
        self.remember(data, source)
        for node in _indicators(data.get("indicators")):
            if isinstance(node.get("id"), str):
                self.indicator_files.setdefault(node["id"], str(source.file))
        if "extends" in data:
            data = self._extend(data, source, file, chain)
        if "uses" in data:
            data = self._use(data, source, file, chain)
        if "changes" in data:
            self.error(
                source,
                ("changes",),
                "compose.changes_without_extends",
                msg("compose.changes_without_extends"),
            )
            data.pop("changes")
        return data

    def _load(
        self,
        ref: Any,
        source: Any,
        key: tuple[PathPart, ...],
        file: Any,
        chain: tuple[str, ...],
    ) -> tuple[dict[str, Any], Any, str] | None:
        if not isinstance(ref, str) or not ref.strip():
            self.error(
                source,
                key,
                "compose.reference",
                msg("compose.ref_text"),
            )
            return None
        try:
            data, sub_source, target, resolved, name = self.load(ref.strip(), file)
        except Refused as e:
            location = source.locate(key) if source is not None else Location(path=key)
            self.issues.append(replace(e.issue, location=location))
            return None
        except ValueError as e:
            text = e.text if isinstance(e, Problem) else msg("text", text=str(e))
            self.error(source, key, "compose.reference", text)
            return None
        if resolved in chain:
            self.error(
                source,
                key,
                "compose.cycle",
                msg("compose.cycle", cycle=" -> ".join(_short(p) for p in (*chain, resolved))),
            )
            return None
        if len(chain) >= MAX_CHAIN:
            self.error(
                source,
                key,
                "compose.too_deep",
                msg("compose.too_deep", limit=MAX_CHAIN),
            )
            return None
        if not isinstance(data, dict):
            self.error(
                source,
                key,
                "compose.reference",
                msg("compose.not_rubric", ref=repr(ref)),
            )
            return None
        nested = Composer(self.load, sub_source.__class__(name, []))
        nested.composite.mounts[()] = (sub_source, ())
        composed = nested.compose(data, sub_source, target, (*chain, resolved))
        nested.mount(composed)
        self.issues.extend(nested.issues)
        for ind, f in nested.indicator_files.items():
            self.indicator_files.setdefault(ind, f)
        self.remember(composed, nested.composite)
        return composed, nested.composite, _short(name)

    def _extend(
        self, data: dict[str, Any], source: Any, file: Any, chain: tuple[str, ...]
    ) -> dict[str, Any]:
        loaded = self._load(data["extends"], source, ("extends",), file, chain)
        if loaded is None:
            data.pop("extends")
            data.pop("changes", None)
            return data
        base, _, target = loaded
        if "library" in base:
            self.error(
                source,
                ("extends",),
                "compose.reference",
                msg("compose.library_extended", name=str(target)),
            )
            return data
        own_ids = {n.get("id") for n in _indicators(data.get("indicators")) if isinstance(n, dict)}
        for ind, f in list(self.indicator_files.items()):
            if ind not in own_ids:
                self.indicator_files[ind] = f
        merged = base
        for key, value in data.items():
            if key in ("extends", "changes"):
                continue
            if (
                key in ("inputs", "derived")
                and isinstance(value, dict)
                and isinstance(merged.get(key), dict)
            ):
                for item_id, spec in value.items():
                    merged[key][item_id] = spec
                    self.key_origins[(id(merged[key]), item_id)] = (source, (key, item_id))
                continue
            merged[key] = value
            self.key_origins[(id(merged), key)] = (source, (key,))
        for i, change in enumerate(data.get("changes") or []):
            self._change(merged, change, source, ("changes", i))
        return merged

    def _change(
        self, doc: dict[str, Any], change: Any, source: Any, where: tuple[PathPart, ...]
    ) -> None:
        if not isinstance(change, dict):
            self.error(
                source,
                where,
                "compose.change",
                msg("compose.change_mapping"),
            )
            return
        ops = [k for k in (*_TREE_OPS, *_INPUT_OPS) if k in change]
        if len(ops) != 1:
            self.error(
                source,
                where,
                "compose.change",
                msg("compose.change_one", ops=", ".join(repr(k) for k in _OPS_SHOWN)),
            )
            return
        op = ops[0]
        if op in _INPUT_OPS:
            self._change_input(doc, change, op, source, where)
            return
        tops = doc.get("indicators")
        if not isinstance(tops, list):
            self.error(source, where, "compose.change", msg("compose.no_indicators"))
            return
        if op == "add":
            node = change["add"]
            parent_id = change.get("under")
            if parent_id is None:
                siblings = tops
            else:
                found = _find(tops, parent_id)
                if found is None or not isinstance(found[0].get("children"), list):
                    self.error(
                        source,
                        (*where, "under"),
                        "compose.unknown_indicator",
                        msg("compose.no_branch", id=repr(parent_id)),
                        self._suggest(tops, parent_id),
                    )
                    return
                siblings = found[0]["children"]
            siblings.append(node)
            self.origins[id(node)] = (source, (*where, "add"))
            if isinstance(node, dict) and isinstance(node.get("id"), str):
                self.indicator_files[node["id"]] = str(source.file)
            return
        target_id = change[op]
        found = _find(tops, target_id)
        if found is None:
            self.error(
                source,
                (*where, op),
                "compose.unknown_indicator",
                msg("compose.no_indicator", id=repr(target_id)),
                self._suggest(tops, target_id),
            )
            return
        node, siblings = found
        if op == "remove":
            siblings.remove(node)
            return
        for key, value in change.items():
            if key == "set":
                continue
            node[key] = value
            self.key_origins[(id(node), key)] = (source, (*where, key))
        self.indicator_files[str(target_id)] = str(source.file)

    def _change_input(
        self,
        doc: dict[str, Any],
        change: dict[str, Any],
        op: str,
        source: Any,
        where: tuple[PathPart, ...],
    ) -> None:
        """``remove_input: ID`` drops an inherited input; ``set_input: ID`` replaces keys
        of its spec (``required: false`` makes it optional)."""
        from ._suggest import closest

        inputs = doc.get("inputs")
        target = change[op]
        if not isinstance(inputs, dict) or not isinstance(target, str) or target not in inputs:
            issue = Issue.of(
                "compose.unknown_input", source.locate((*where, op)), input=str(target)
            )
            match = closest(str(target), inputs or {})
            hint = i18n.tr("suggest.did_you_mean", suggestion=match) if match else None
            self.issues.append(replace(issue, hint=hint))
            return
        if op == "remove_input":
            if len(change) > 1:
                self.issues.append(Issue.of("compose.remove_input_alone", source.locate(where)))
                return
            del inputs[target]
            return
        spec = inputs[target]
        if not isinstance(spec, dict):
            return  # reported where the input is declared
        edited = dict(spec)
        for key, value in change.items():
            if key != op:
                edited[key] = value
                self.key_origins[(id(edited), key)] = (source, (*where, key))
        origin = self.origins.get(id(spec))
        if origin is not None:
            self.origins[id(edited)] = origin
        inputs[target] = edited

    def _suggest(self, tops: list[Any], wrong: Any) -> dict[str, Any] | None:
        from ._suggest import did_you_mean

        ids = [n["id"] for n in _indicators(tops) if isinstance(n.get("id"), str)]
        return did_you_mean(str(wrong), ids)

    def _use(
        self, data: dict[str, Any], source: Any, file: Any, chain: tuple[str, ...]
    ) -> dict[str, Any]:
        refs = data.pop("uses")
        ref_list = refs if isinstance(refs, list) else [refs]
        definitions: dict[str, tuple[dict[str, Any], Any, tuple[PathPart, ...]]] = {}
        provided: dict[str, set[str]] = {"inputs": set(), "derived": set()}
        for i, ref in enumerate(ref_list):
            ref_key: tuple[PathPart, ...] = ("uses", i) if isinstance(refs, list) else ("uses",)
            loaded = self._load(ref, source, ref_key, file, chain)
            if loaded is None:
                continue
            library, lib_source, target = loaded
            if "library" not in library:
                self.error(
                    source,
                    ref_key,
                    "compose.reference",
                    msg("compose.not_library", name=str(target)),
                )
                continue
            for section in ("inputs", "derived"):
                own = data.setdefault(section, {})
                if not isinstance(own, dict):
                    continue
                for item_id, spec in (library.get(section) or {}).items():
                    if item_id not in own:
                        own[item_id] = spec
                        provided[section].add(item_id)
                        self.key_origins[(id(own), item_id)] = (lib_source, (section, item_id))
            for def_id, definition in (library.get("definitions") or {}).items():
                if isinstance(definition, dict):
                    definitions.setdefault(
                        def_id, (definition, lib_source, ("definitions", def_id))
                    )
        for node, path in _indicators_with_paths(data.get("indicators"), ("indicators",)):
            ref = node.pop("ref", None)
            if ref is None:
                continue
            entry = definitions.get(ref) if isinstance(ref, str) else None
            if entry is None:
                from ._suggest import did_you_mean

                self.error(
                    source,
                    (*path, "ref"),
                    "compose.unknown_definition",
                    msg("compose.unknown_definition", ref=repr(ref)),
                    did_you_mean(str(ref), definitions),
                )
                continue
            definition, lib_source, def_path = entry
            node.setdefault("id", ref)
            self.indicator_files[str(node["id"])] = (
                f"{source.file}, definition {ref!r} from {lib_source.file}"
            )
            for key in _DEFINITION_KEYS:
                if key in definition and key not in node:
                    if key == "scoring" and "children" in node:
                        continue
                    node[key] = copy.deepcopy(definition[key])
                    self.key_origins[(id(node), key)] = (lib_source, (*def_path, key))
        self._prune(data, provided)
        return data

    def _prune(self, data: dict[str, Any], provided: dict[str, set[str]]) -> None:
        """Drop library inputs and derived values that nothing reads."""
        derived = data.get("derived") or {}
        words: set[str] = set()
        for key in ("indicators", "grade_caps"):
            words |= _words(data.get(key))
        for name, spec in derived.items():
            if name not in provided["derived"]:
                words |= _words(spec)
        pending = [w for w in words if w in derived]
        while pending:
            name = pending.pop()
            for w in _words(derived[name]) - words:
                words.add(w)
                if w in derived:
                    pending.append(w)
        for section in ("inputs", "derived"):
            table = data.get(section) or {}
            for item_id in provided[section]:
                if item_id not in words:
                    table.pop(item_id, None)


def _words(data: Any) -> set[str]:
    out: set[str] = set()
    if isinstance(data, str):
        out.update(_WORD.findall(data))
    elif isinstance(data, dict):
        for v in data.values():
            out |= _words(v)
    elif isinstance(data, list):
        for v in data:
            out |= _words(v)
    return out


def _indicators(nodes: Any) -> Iterator[dict[str, Any]]:
    for node, _ in _indicators_with_paths(nodes, ()):
        yield node


def _indicators_with_paths(
    nodes: Any, path: tuple[PathPart, ...]
) -> Iterator[tuple[dict[str, Any], tuple[PathPart, ...]]]:
    if not isinstance(nodes, list):
        return
    for i, node in enumerate(nodes):
        if isinstance(node, dict):
            yield node, (*path, i)
            yield from _indicators_with_paths(node.get("children"), (*path, i, "children"))


def _find(nodes: list[Any], target: Any) -> tuple[dict[str, Any], list[Any]] | None:
    for node in nodes:
        if not isinstance(node, dict):
            continue
        if node.get("id") == target:
            return node, nodes
        children = node.get("children")
        if isinstance(children, list):
            found = _find(children, target)
            if found is not None:
                return found
    return None


def _short(name: str) -> str:
    """A document's name without its folders: ``rubrics/x/base.yaml`` -> ``base.yaml``."""
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def compose_document(
    data: dict[str, Any],
    source: Any,
    here: Any,
    identity: str | None,
    composite: Any,
    load: Loader,
    *,
    problems: list[Issue] | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Resolve ``extends`` / ``uses`` / ``changes``; return the document and which file each
    indicator came from. Raises :class:`RubricValidationError` listing every problem, or,
    given a ``problems`` list, adds them to it and returns what could be composed (a
    reference that fails is left out), so that the rest of the document is checked too."""
    if not (COMPOSE_KEYS & data.keys()):
        return data, {}
    composer = Composer(load, composite)
    composite.mounts[()] = (source, ())
    chain = (identity,) if identity is not None else ()
    composed = composer.compose(data, source, here, chain)
    composer.mount(composed)
    if composer.issues:
        if problems is None:
            raise RubricValidationError(composer.issues)
        problems.extend(composer.issues)
    return composed, composer.indicator_files
