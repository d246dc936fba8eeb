"""A bundle written out as real files, for the steps that need them (bytecode compilation,
command hooks), and read back: unchanged files keep their wheel member, so they are still copied
compressed; changed and new files are taken from disk."""

from __future__ import annotations

import dataclasses
import os
import shutil
import stat
import zlib
from pathlib import Path

from ..errors import ArchiveError
from ._entries import Bundle, Entry, OnDisk, ZipMember
from ._read import Reader

_CHUNK = 1 << 20


def materialize(bundle: Bundle, root: Path) -> Path:
    """Write every entry of *bundle* under *root*."""
    with Reader() as reader:
        for path, entry in sorted(bundle.entries.items()):
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            with reader.open(entry) as src, target.open("wb") as dst:
                shutil.copyfileobj(src, dst, _CHUNK)
            if entry.executable:
                target.chmod(0o755)
    return root


def _crc32(path: Path) -> int:
    crc = 0
    with path.open("rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            crc = zlib.crc32(block, crc)
    return crc


def source_of(pyc: str) -> str | None:
    """``pkg/__pycache__/mod.cpython-312.pyc`` -> ``pkg/mod.py``: bytecode belongs with its source."""
    parts = pyc.split("/")
    if len(parts) >= 2 and parts[-2] == "__pycache__" and parts[-1].endswith(".pyc"):
        return "/".join([*parts[:-2], parts[-1].split(".", 1)[0] + ".py"])
    return None


def read_back(root: Path, before: Bundle) -> Bundle:
    """The bundle as the files under *root* now are."""
    entries: dict[str, Entry] = {}
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in files:
            path = Path(folder, name)
            rel = path.relative_to(root).as_posix()
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                raise ArchiveError(
                    f"{rel} is a symbolic link; Lambda zips must hold regular files only"
                )
            executable = bool(st.st_mode & 0o100)
            old = before.entries.get(rel)
            if old is not None:
                source = old.source
                same = (
                    isinstance(source, ZipMember)
                    and source.file_size == st.st_size
                    and source.crc == _crc32(path)
                )
                entries[rel] = (
                    dataclasses.replace(old, executable=executable)
                    if same
                    else dataclasses.replace(old, source=OnDisk(path, st.st_size), hash="",
                                             executable=executable)
                )  # fmt: skip
                continue
            origin = before.entries.get(source_of(rel) or "")
            entries[rel] = Entry(
                rel, OnDisk(path, st.st_size), executable, "",
                origin.owner if origin else None, origin.record if origin else None,
            )  # fmt: skip
    return dataclasses.replace(before, entries=entries)
