"""A wheel in the wheelhouse: one distribution's file, with what is known of where it came from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from packaging.tags import Tag
from packaging.utils import parse_wheel_filename

from ..cache import sha256_file


@dataclass(frozen=True)
class Wheel:
    name: str
    version: str
    path: Path
    built_from_sdist: bool = False
    known_sha256: str | None = None
    kept: bool = False
    """Taken from the cache by a reused wheelhouse, and not yet checked against *known_sha256*:
    ``verify_kept`` does that, only when its bytes are needed (a rebuild where nothing changed
    reuses its artifact without reading any wheel)."""
    local: bool = False
    """Built here from a local source (a workspace member, a path or VCS dependency)."""

    @property
    def tags(self) -> frozenset[Tag]:
        return parse_wheel_filename(self.path.name)[3]

    @property
    def sha256(self) -> str:
        return self.known_sha256 or sha256_file(self.path)
