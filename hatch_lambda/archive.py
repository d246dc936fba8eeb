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
from dataclasses import dataclass
from pathlib import Path

from hatchling.builders.utils import (
    get_reproducible_timestamp,
    normalize_file_permissions,
    set_zip_info_mode,
)

from .errors import ArchiveError

_COPY_CHUNK = 1 << 20
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


def write_zip(root: Path, destination: Path) -> ArchiveInfo:
    """Zip every file under *root* into *destination*, replacing it only once complete.

    Entries are sorted, dated SOURCE_DATE_EPOCH (or hatchling's fixed default) and carry
    normalised permissions, so equal trees give equal bytes. Deflate runs at zlib's default level.
    """
    date_time = _date_time()
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.")
    os.close(fd)
    tmp = Path(tmp_name)
    files = unzipped = 0
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for arcname, path in _entries(root):
                st = path.lstat()
                if stat.S_ISLNK(st.st_mode):
                    raise ArchiveError(
                        f"{arcname} is a symbolic link; Lambda zips must hold regular files only"
                    )
                info = zipfile.ZipInfo(arcname, date_time)
                info.create_system = 3  # Unix, so the permission bits below are honoured
                info.compress_type = zipfile.ZIP_DEFLATED
                set_zip_info_mode(info, normalize_file_permissions(st.st_mode))
                info.file_size = st.st_size
                with path.open("rb") as src, zf.open(info, "w") as dst:
                    shutil.copyfileobj(src, dst, _COPY_CHUNK)
                files += 1
                unzipped += st.st_size
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
