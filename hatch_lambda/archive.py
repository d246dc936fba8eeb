"""The archive stage: a deterministic zip of the tree, written atomically."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import shutil
import stat
import tempfile
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hatchling.builders.utils import (
    get_reproducible_timestamp,
    normalize_file_permissions,
    set_zip_info_mode,
)

from .errors import ArchiveError

_COPY_CHUNK = 1 << 20
_REUSABLE = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_ZIP_EPOCH = 315532800  # 1980-01-01, the earliest time a zip entry can hold


@dataclass(frozen=True)
class ArchiveInfo:
    path: Path
    size: int
    sha256: str
    files: int
    unzipped_size: int

    @property
    def code_sha256(self) -> str:
        """What Lambda reports as CodeSha256: the base64 form of the zip's SHA-256."""
        return base64.b64encode(bytes.fromhex(self.sha256)).decode("ascii")


@dataclass(frozen=True)
class WheelEntry:
    """A file that sits in the tree exactly as in its wheel: its compressed bytes are reused."""

    wheel: Path
    info: zipfile.ZipInfo


def _entries(root: Path) -> list[tuple[str, Path]]:
    entries: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        base = Path(dirpath)
        for name in filenames:
            path = base / name
            # `/` separators whatever the host, so Windows builds the same archive.
            entries.append((path.relative_to(root).as_posix(), path))
    return sorted(entries)


def _date_time() -> tuple[int, int, int, int, int, int]:
    stamp = max(get_reproducible_timestamp(), _ZIP_EPOCH)
    return time.gmtime(stamp)[:6]


class _RawCopier:
    """Appends already-compressed entries of other zips to a ZipFile being written.

    zipfile has no public call for this: it would inflate and deflate again, which costs more
    than the install itself for a large bundle. ``ZipInfo.FileHeader()`` and the writer's
    ``filelist``/``NameToInfo``/``start_dir`` are what ``ZipFile.write`` itself uses, unchanged
    since Python 3.6; zipfile still writes the central directory (and ZIP64 records) on close.
    """

    def __init__(self, target: zipfile.ZipFile) -> None:
        self.target = target
        self._sources: dict[Path, Any] = {}

    def copy(self, entry: WheelEntry, info: zipfile.ZipInfo) -> None:
        source = entry.info
        info.compress_type = source.compress_type
        info.CRC = source.CRC
        info.compress_size = source.compress_size
        info.file_size = source.file_size
        fp = self.target.fp
        assert fp is not None
        info.header_offset = fp.tell()
        fp.write(info.FileHeader())
        stream = self._sources.get(entry.wheel)
        if stream is None:
            stream = self._sources[entry.wheel] = entry.wheel.open("rb")
        stream.seek(source.header_offset)
        local = stream.read(30)
        if local[:4] != b"PK\x03\x04":
            raise ArchiveError(f"{entry.wheel.name}: {source.filename} has no local header")
        name_length = int.from_bytes(local[26:28], "little")
        extra_length = int.from_bytes(local[28:30], "little")
        stream.seek(name_length + extra_length, os.SEEK_CUR)
        remaining = source.compress_size
        while remaining:
            block = stream.read(min(remaining, _COPY_CHUNK))
            if not block:
                raise ArchiveError(f"{entry.wheel.name}: {source.filename} is truncated")
            fp.write(block)
            remaining -= len(block)
        self.target.filelist.append(info)
        self.target.NameToInfo[info.filename] = info
        self.target.start_dir = fp.tell()
        self.target._didModify = True  # type: ignore[attr-defined]

    def close(self) -> None:
        for stream in self._sources.values():
            stream.close()


def _add_file(
    copier: _RawCopier,
    arcname: str,
    path: Path,
    date_time: tuple[int, int, int, int, int, int],
    known: WheelEntry | None,
) -> int:
    zf = copier.target
    st = path.lstat()
    if stat.S_ISLNK(st.st_mode):
        raise ArchiveError(
            f"{arcname} is a symbolic link; Lambda zips must hold regular files only"
        )
    info = zipfile.ZipInfo(arcname, date_time)
    info.create_system = 3  # Unix, so the permission bits below are honoured
    info.compress_type = zipfile.ZIP_DEFLATED
    set_zip_info_mode(info, normalize_file_permissions(st.st_mode))
    reusable = known is not None and known.info.file_size == st.st_size
    if known is not None and reusable and known.info.compress_type in _REUSABLE:
        copier.copy(known, info)
    else:
        info.file_size = st.st_size
        with path.open("rb") as src, zf.open(info, "w") as dst:
            shutil.copyfileobj(src, dst, _COPY_CHUNK)
    return st.st_size


def _add_copied(
    copier: _RawCopier,
    arcname: str,
    entry: WheelEntry,
    date_time: tuple[int, int, int, int, int, int],
) -> int:
    info = zipfile.ZipInfo(arcname, date_time)
    info.create_system = 3
    info.external_attr = entry.info.external_attr
    copier.copy(entry, info)
    return entry.info.file_size


def write_zip(
    root: Path,
    destination: Path,
    *,
    from_wheels: Mapping[str, WheelEntry] | None = None,
    extra: Mapping[str, WheelEntry] | None = None,
) -> ArchiveInfo:
    """Zip every file under *root* into *destination*, replacing it only once complete.

    Entries are sorted, dated SOURCE_DATE_EPOCH (or hatchling's fixed default) and carry
    normalised permissions, so equal trees give equal bytes. A file listed in *from_wheels* (by
    its path in the archive) whose size is unchanged is copied compressed from its wheel; the
    rest is deflated at zlib's default level. *extra* adds entries that are not under *root*,
    copied as they are (bytes, permissions) from another zip: an earlier build's dependencies.
    """
    date_time = _date_time()
    reuse = from_wheels or {}
    added = extra or {}
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.")
    os.close(fd)
    tmp = Path(tmp_name)
    files = unzipped = 0
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            copier = _RawCopier(zf)
            try:
                on_disk = dict(_entries(root))
                for arcname in sorted({*on_disk, *added}):
                    if arcname in on_disk:
                        unzipped += _add_file(
                            copier, arcname, on_disk[arcname], date_time, reuse.get(arcname)
                        )
                    else:
                        unzipped += _add_copied(copier, arcname, added[arcname], date_time)
                    files += 1
            finally:
                copier.close()
        digest = hashlib.sha256()
        with tmp.open("rb") as f:
            for block in iter(lambda: f.read(_COPY_CHUNK), b""):
                digest.update(block)
        tmp.chmod(0o644)
        tmp.replace(destination)
    except OSError as exc:
        raise ArchiveError(f"cannot write {destination}: {exc}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return ArchiveInfo(destination, destination.stat().st_size, digest.hexdigest(), files, unzipped)
