"""The values the bundle is made of: entries, where each entry's bytes come from, and the bundle."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

# Inside a layer's `python/`, the per-runtime folders that are sites of their own.
LAYER_SITE = re.compile(r"python/lib/python3\.\d+/site-packages/")


@dataclass(frozen=True)
class ZipMember:
    """Bytes stored in a zip (a wheel, or an artifact being checked), copied compressed as they are."""

    archive: Path
    name: str
    compress_type: int
    crc: int
    compress_size: int
    file_size: int
    header_offset: int

    def info(self) -> zipfile.ZipInfo:
        """The directory record the member was found by, as far as reading it needs."""
        info = zipfile.ZipInfo(self.name)
        info.compress_type, info.CRC = self.compress_type, self.crc
        info.compress_size, info.file_size = self.compress_size, self.file_size
        info.header_offset = self.header_offset
        return info

    @classmethod
    def from_info(cls, archive: Path, info: zipfile.ZipInfo) -> ZipMember:
        return cls(
            archive, info.filename, info.compress_type, info.CRC, info.compress_size,
            info.file_size, info.header_offset,
        )  # fmt: skip


@dataclass(frozen=True)
class Generated:
    """Bytes hatch-lambda makes: RECORD, INSTALLER."""

    data: bytes


@dataclass(frozen=True)
class OnDisk:
    """A file that exists only on disk: compiled bytecode, what a command hook wrote."""

    path: Path
    size: int


Source = Union[ZipMember, Generated, OnDisk]


@dataclass(frozen=True)
class Entry:
    """One file of the bundle. In a ``Distribution`` its path is relative to the folder Python
    imports from; in a ``Bundle``, to the archive's root."""

    path: str
    source: Source
    executable: bool = False
    hash: str = ""
    """As RECORD writes it (``sha256=...``); empty where nobody computed it yet."""
    owner: str | None = None
    """``name version`` of the distribution it belongs to."""
    record: str | None = None
    """The path of the RECORD that lists it (relative like ``path``)."""

    @property
    def size(self) -> int:
        source = self.source
        if isinstance(source, ZipMember):
            return source.file_size
        if isinstance(source, Generated):
            return len(source.data)
        return source.size


@dataclass(frozen=True)
class Distribution:
    """What one wheel puts into the folder Python imports from, by path relative to that folder."""

    name: str
    version: str
    wheel: Path
    sha256: str | None
    dist_info: str
    entries: Mapping[str, Entry]

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"


@dataclass(frozen=True)
class Bundle:
    """Every file of an artifact by its archive path, and for each runtime the folders (archive
    path prefixes, ``""`` for the root) that runtime imports from, in import order."""

    entries: Mapping[str, Entry]
    sites: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def site_entries(self, prefix: str) -> dict[str, Entry]:
        """The entries under *prefix* by path relative to it. A layer's ``python/`` leaves out
        the per-runtime folders inside it, which are sites of their own."""
        nested = LAYER_SITE if prefix == "python/" else None
        return {
            path[len(prefix) :]: entry
            for path, entry in self.entries.items()
            if path.startswith(prefix) and not (nested and nested.match(path))
        }

    @property
    def size(self) -> int:
        return sum(e.size for e in self.entries.values())
