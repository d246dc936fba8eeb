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
class RequirementSet:
    """Requirements with their markers already evaluated for the target (markers removed)."""

    source: str
    requirements: tuple[Requirement, ...]
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()

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
class LockedSet:
    source: str
    pins: tuple[Pin, ...]
    index_url: str | None = None
    """The index the lock names as its primary source, if any; ``index-url`` overrides it."""
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()


Requirements = Union[RequirementSet, LockedSet]

from ._load import LOCKFILES, load_requirements  # noqa: E402
from ._project import from_project_wheel  # noqa: E402

__all__ = [
    "LOCKFILES",
    "LockedFile",
    "LockedSet",
    "Pin",
    "RequirementSet",
    "Requirements",
    "from_project_wheel",
    "load_requirements",
]
