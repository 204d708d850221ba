"""Rubric versions in force: which rubric ``id`` applies on a given day.

A finance bureau changes its table most years; each version is a rubric with the same
``id``, its own ``version``, the dates it is in force (``effective: {from, until}``) and a
``status`` (``draft``, ``published``, ``retired``). A :class:`RubricRegistry` holds them and
answers "the rubric ``id`` in force on DATE"::

    registry = RubricRegistry.from_folder("rubrics/")
    rubric = registry.in_force("shaoyang-dept-overall", datetime.date(2024, 3, 1))

A draft is never in force; a retired rubric is still the rubric of its past dates. The
registry refuses, when it is made, two rubrics with the same id and version, and the
overlaps (two rubrics of one id in force on the same day) and gaps (a day between two
rubrics of one id when neither is in force) it is asked to check.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Final, Literal

from ._suggest import did_you_mean
from .errors import Issue, Location, PerfscoreError, RubricError
from .i18n import msg
from .loading import build_rubric, load_document, parse_document
from .model import Rubric
from .resolvers import Document, FolderResolver, Resolver

__all__ = ["Check", "RubricRegistry"]

#: What a registry can be asked to check when it is made.
Check = Literal["overlaps", "gaps"]
CHECKS: Final[tuple[Check, ...]] = ("overlaps", "gaps")
_ONE_DAY: Final = datetime.timedelta(days=1)
_OVERLAPS: Final[tuple[Check, ...]] = ("overlaps",)


def _name(rubric: Rubric) -> str:
    source = rubric._source
    return str(getattr(source, "file", None) or f"{rubric.id} {rubric.version}")


def _period(rubric: Rubric) -> str:
    effective = rubric.effective
    if effective is None:
        return "always"
    until = effective.until.isoformat() if effective.until is not None else "…"
    return f"{effective.from_.isoformat()} – {until}"


def _start(rubric: Rubric) -> datetime.date:
    return rubric.effective.from_ if rubric.effective is not None else datetime.date.min


def _end(rubric: Rubric) -> datetime.date:
    effective = rubric.effective
    if effective is None or effective.until is None:
        return datetime.date.max
    return effective.until


class RubricRegistry:
    """The versions of one or more rubrics, by id, and which is in force on a day.

    ``check`` names what is refused besides duplicates: ``"overlaps"`` (the default: two
    rubrics of one id in force on one day) and ``"gaps"`` (a day between the first and
    the last in force of an id on which none is). Every problem found is raised at once,
    as a :class:`~perfscore.errors.RubricError` (codes ``registry.*``).
    """

    def __init__(self, rubrics: Iterable[Rubric], *, check: Collection[Check] = _OVERLAPS):
        unknown = [c for c in check if c not in CHECKS]
        if unknown:
            raise ValueError(f"unknown check {unknown[0]!r}: use {' or '.join(CHECKS)}")
        self._rubrics: dict[str, list[Rubric]] = {}
        issues: list[Issue] = []
        for rubric in rubrics:
            versions = self._rubrics.setdefault(rubric.id, [])
            twin = next((r for r in versions if r.version == rubric.version), None)
            if twin is not None:
                issues.append(
                    Issue.of(
                        "registry.duplicate",
                        Location(file=_name(rubric)),
                        id=rubric.id,
                        version=rubric.version,
                        other=_name(twin),
                    )
                )
                continue
            versions.append(rubric)
        for versions in self._rubrics.values():
            versions.sort(key=lambda r: (_start(r), r.version))
            issues.extend(self._check(versions, check))
        if issues:
            raise RubricError(issues)

    @staticmethod
    def _check(versions: Sequence[Rubric], check: Collection[Check]) -> Iterator[Issue]:
        """Overlaps and gaps between the versions (sorted by first day) not drafts."""
        live = [r for r in versions if r.status != "draft"]
        if not live:
            return
        holder = live[0]  # the version that reaches furthest so far
        for after in live[1:]:
            if _start(after) <= _end(holder):
                if "overlaps" in check:
                    yield Issue.of(
                        "registry.overlap",
                        Location(file=_name(after)),
                        id=after.id,
                        version=after.version,
                        period=_period(after),
                        other_version=holder.version,
                        other_period=_period(holder),
                        day=_start(after).isoformat() if after.effective else "—",
                    )
            elif "gaps" in check and _start(after) > _end(holder) + _ONE_DAY:
                yield Issue.of(
                    "registry.gap",
                    Location(file=_name(after)),
                    id=after.id,
                    first=(_end(holder) + _ONE_DAY).isoformat(),
                    last=(_start(after) - _ONE_DAY).isoformat(),
                    before=holder.version,
                    after=after.version,
                )
            if _end(after) > _end(holder):
                holder = after

    # -- making one ---------------------------------------------------------------------
    @classmethod
    def from_folder(
        cls,
        folder: str | Path,
        *,
        check: Collection[Check] = _OVERLAPS,
        shipped: bool = True,
    ) -> RubricRegistry:
        """Every rubric file under ``folder`` (``.yaml``, ``.yml``, ``.json``, ``.toml``;
        golden-case files ``*.cases.*`` and libraries left out), each loaded with
        :func:`~perfscore.load_rubric`. Every problem of every file is raised at once."""
        root = Path(folder)
        if not root.is_dir():
            raise RubricError(
                [Issue.of("registry.not_a_folder", Location(file=str(folder)), folder=str(folder))]
            )
        rubrics: list[Rubric] = []
        issues: list[Issue] = []
        for key in FolderResolver(root).references():
            path = root / key
            try:
                data, source = load_document(path)
                if isinstance(data, dict) and "library" in data:
                    continue
                rubrics.append(build_rubric(data, source, path, shipped=shipped))
            except PerfscoreError as e:
                issues.extend(e.issues)
        if issues:
            raise RubricError(issues)
        return cls(rubrics, check=check)

    @classmethod
    def from_resolver(
        cls,
        resolver: Resolver,
        references: Iterable[str] | None = None,
        *,
        check: Collection[Check] = _OVERLAPS,
        shipped: bool = True,
    ) -> RubricRegistry:
        """The rubrics ``resolver`` gives for ``references`` (by default every one its
        ``references()`` method lists, libraries left out), references between them
        resolved by the same resolver."""
        if references is None:
            listing = getattr(resolver, "references", None)
            if listing is None:
                raise TypeError("name the references: this resolver cannot list its documents")
            references = listing()
        rubrics: list[Rubric] = []
        issues: list[Issue] = []
        for reference in references:
            try:
                document = resolver.resolve(reference, None)
            except LookupError as e:
                reason = str(e.args[0] if e.args else reference)
                issues.append(
                    Issue.of(
                        "compose.reference",
                        Location(),
                        message=msg("compose.unresolved", ref=reference, reason=reason),
                    )
                )
                continue
            if not isinstance(document, Document):
                raise TypeError(f"the resolver gave {type(document).__name__}, not a Document")
            try:
                data, source = parse_document(document.text, document.name, document.format)
                if isinstance(data, dict) and "library" in data:
                    continue
                rubrics.append(
                    build_rubric(
                        data,
                        source,
                        resolver=resolver,
                        shipped=shipped,
                        document=Document("", document.name, document.format, document.key),
                    )
                )
            except PerfscoreError as e:
                issues.extend(e.issues)
        if issues:
            raise RubricError(issues)
        return cls(rubrics, check=check)

    # -- asking it ----------------------------------------------------------------------
    def ids(self) -> list[str]:
        """The rubric ids held, sorted."""
        return sorted(self._rubrics)

    def versions(self, rubric_id: str) -> list[Rubric]:
        """Every version of ``rubric_id`` held, in order of the day each comes into force."""
        return list(self._versions(rubric_id))

    def __iter__(self) -> Iterator[Rubric]:
        for rubric_id in self.ids():
            yield from self._rubrics[rubric_id]

    def __len__(self) -> int:
        return sum(len(v) for v in self._rubrics.values())

    def get(self, rubric_id: str, version: str) -> Rubric:
        """The rubric ``rubric_id`` at ``version`` (drafts included)."""
        versions = self._versions(rubric_id)
        for rubric in versions:
            if rubric.version == version:
                return rubric
        raise RubricError(
            [
                Issue.of(
                    "registry.unknown_version",
                    id=rubric_id,
                    version=version,
                    versions=", ".join(r.version for r in versions),
                )
            ]
        )

    def in_force(self, rubric_id: str, on: datetime.date) -> Rubric:
        """The rubric ``rubric_id`` in force on ``on``: not a draft, ``on`` within its
        ``effective`` dates. A :class:`~perfscore.errors.RubricError` when none is
        (``registry.not_in_force``, listing the periods held) or, in a registry made
        without checking overlaps, when more than one is (``registry.overlap``)."""
        if isinstance(on, datetime.datetime):
            on = on.date()
        versions = self._versions(rubric_id)
        found = [r for r in versions if r.in_force(on)]
        if len(found) == 1:
            return found[0]
        if found:
            issues = list(self._check(found, _OVERLAPS))
            raise RubricError(issues[:1])
        periods = "; ".join(f"{r.version} ({r.status}): {_period(r)}" for r in versions)
        raise RubricError(
            [Issue.of("registry.not_in_force", id=rubric_id, day=on.isoformat(), periods=periods)]
        )

    def _versions(self, rubric_id: str) -> list[Rubric]:
        versions = self._rubrics.get(rubric_id)
        if versions is None:
            hint = did_you_mean(rubric_id, self._rubrics) or msg(
                "text", text="ids held: " + ", ".join(self.ids())
            )
            raise RubricError([Issue.of("registry.unknown_id", hint=hint, id=rubric_id)])
        return versions
