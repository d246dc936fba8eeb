"""The requirements stage: what the bundle must contain, evaluated for the target.

Two shapes come out of it: a ``RequirementSet`` (ranges, to be resolved for the target) from the
project's metadata or an unpinned requirements file, and a ``LockedSet`` (exact versions, never
resolved again) from a lockfile.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Union

from packaging.requirements import Requirement
from packaging.utils import NormalizedName


@dataclass(frozen=True)
class LocalSource:
    """A distribution built here from its source, never looked up on an index: a uv workspace
    member, a path dependency, a direct reference to a folder or file, a VCS checkout."""

    location: str
    """An absolute path (a folder, or a wheel or sdist file), or a VCS URL as pip writes it
    (``git+https://host/repo@REV#subdirectory=lib``)."""
    where: str
    """Where it was named, for messages: ``requirements.txt:3``, ``uv.lock packages[2]``."""
    name: NormalizedName | None = None
    """Its distribution name when the source says it; a bare path line says it once built."""
    editable: bool = False
    """Named as editable (``-e``, ``develop = true``); built as a regular install all the same."""
    extras: frozenset[str] = frozenset()
    """The extras asked of it (``lib[aws] @ ../lib``, ``../lib[aws]``): what they require is
    resolved with the rest."""

    @property
    def is_vcs(self) -> bool:
        scheme = self.location.split("://", 1)[0]
        return "://" in self.location and "+" in scheme

    @property
    def label(self) -> str:
        return f"{self.name or self.location} ({self.where})"


@dataclass(frozen=True)
class RequirementSet:
    """Requirements with their markers already evaluated for the target (markers removed)."""

    source: str
    requirements: tuple[Requirement, ...]
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    local: tuple[LocalSource, ...] = ()
    """Built here from source; their names are never resolved on an index."""

    def lines(self) -> list[str]:
        return [str(r) for r in self.requirements]


@dataclass(frozen=True)
class LockedFile:
    filename: str
    url: str | None
    hashes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Pin:
    """One locked distribution the target needs."""

    name: NormalizedName
    version: str
    where: str
    """Where it was locked, for messages: ``poetry.lock packages[3]``."""
    files: tuple[LockedFile, ...] = ()
    """Candidate files; when empty, or when a file has no URL, they are looked up on the index."""
    sha256: frozenset[str] = frozenset()
    """Digests the lock allows; empty when the lock records none."""
    index: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"


@dataclass(frozen=True)
class HandPinned:
    """How to treat a pinned requirements file whose pins may not be closed: nothing records
    whether it was compiled by a resolver or written by hand, so the wheels say."""

    strict: bool
    """Fail naming every missing dependency, instead of resolving them with the pins held."""
    hash_checking: bool
    """Some line has a ``--hash``: pip would refuse any unpinned addition, and so does this."""
    extras: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """The extras each pinned line asks for, by normalized name."""


@dataclass(frozen=True)
class LockedSet:
    source: str
    pins: tuple[Pin, ...]
    index_url: str | None = None
    """The index the lock names as its primary source, if any; ``index-url`` overrides it."""
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    local: tuple[LocalSource, ...] = ()
    """Built here from source; the lock's pins never include them."""
    hand_pinned: HandPinned | None = None
    """Set for a requirements file: a lock only if the pinned wheels need nothing else."""


Requirements = Union[RequirementSet, LockedSet]

from ._load import LOCKFILES, load_requirements  # noqa: E402
from ._project import from_project_wheel  # noqa: E402

__all__ = [
    "LOCKFILES",
    "HandPinned",
    "LocalSource",
    "LockedFile",
    "LockedSet",
    "Pin",
    "RequirementSet",
    "Requirements",
    "from_project_wheel",
    "load_requirements",
]
