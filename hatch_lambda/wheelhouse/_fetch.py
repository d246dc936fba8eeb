"""Downloads the chosen files concurrently, checking each against its recorded hash."""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import unquote, urlsplit

from filelock import FileLock

from .._report import Reporter, counted, timed
from ..cache import copy_hashed, file_slot, sha256_file, temporary, verified_file
from ..errors import FetchError
from ._indexes import Indexes, strip_credentials
from ._select import Chosen

_WORKERS = 8
_CHUNK = 1 << 20


def _local_path(url: str) -> Path | None:
    parts = urlsplit(url)
    if parts.scheme == "file":
        return Path(unquote(parts.path))
    if parts.scheme == "" or (len(parts.scheme) == 1 and os.name == "nt"):
        return Path(url)
    return None


def _download(url: str, dest: Path, indexes: Indexes) -> str:
    """Download *url* to *dest*; returns the hex SHA-256 of what was written."""
    request = urllib.request.Request(strip_credentials(url))
    auth = indexes.authorization_for(url)
    if auth:
        request.add_header("Authorization", auth)
    digest = hashlib.sha256()
    with urllib.request.urlopen(request, timeout=120) as response, dest.open("wb") as out:
        for block in iter(lambda: response.read(_CHUNK), b""):
            digest.update(block)
            out.write(block)
    return digest.hexdigest()


def _check_locked(item: Chosen, path: Path, digest: str | None) -> Path:
    """The lock's own digests are the last word: a file they do not list fails the build."""
    if item.allowed_sha256:
        actual = digest or sha256_file(path)
        if actual not in item.allowed_sha256:
            allowed = ", ".join(sorted(item.allowed_sha256))
            raise FetchError(
                f"{item.filename} ({item.label}) failed its hash check: the lock allows sha256 "
                f"{allowed}, and the file has {actual}. Either the lock was tampered with or "
                "the index serves a different file; relock, or check the index."
            )
    return path


# Where a file came from, for the line `hatch -v` shows after fetching.
_DOWNLOADED, _CACHED, _LOCAL = "downloaded", "reused from the cache", "from local folders"


def _fetch_one(
    item: Chosen, workdir: Path, indexes: Indexes, reporter: Reporter
) -> tuple[Path, str]:
    expected = item.hashes.get("sha256")
    local = _local_path(item.url)
    origin = _DOWNLOADED if local is None else _LOCAL
    if local is not None and expected is None:
        return _check_locked(item, local, None), origin
    if expected is None:
        slot = workdir / item.filename
    else:
        kept = verified_file(expected, item.filename, reporter)
        if kept is not None:
            return _check_locked(item, kept, expected), _CACHED
        slot = file_slot(expected, item.filename)
    slot.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(slot) + ".lock"):
        if expected is not None and slot.exists():
            # Fetched by another build meanwhile.
            return _check_locked(item, slot, expected), _CACHED
        try:
            with temporary(item.filename) as tmp:
                # Hashed as written: no second read of a file just written.
                actual = (
                    copy_hashed(local, tmp) if local is not None
                    else _download(item.url, tmp, indexes)
                )  # fmt: skip
                if expected is not None and actual != expected:
                    raise FetchError(
                        f"{item.filename} ({item.label}) failed its hash check: expected "
                        f"sha256 {expected}, got {actual}. The file at "
                        f"{strip_credentials(item.url)} is not the one that was resolved or "
                        "locked; check the index, then rebuild."
                    )
                tmp.replace(slot)
        except (OSError, urllib.error.URLError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise FetchError(
                f"cannot download {item.filename} ({item.label}) from "
                f"{strip_credentials(item.url)}: {reason}"
            ) from exc
    return _check_locked(item, slot, expected), origin


def fetch(
    items: Sequence[Chosen], workdir: Path, indexes: Indexes, reporter: Reporter
) -> list[Path]:
    """Local paths of *items*, in order; cached files are reused by digest once verified (a
    file kept by its digest cannot go stale, so a refresh needs nothing here)."""
    workdir.mkdir(parents=True, exist_ok=True)
    reporter.waiting(f"Fetching {counted(len(items), 'distribution file')}")
    with timed(reporter, "fetch") as stage, ThreadPoolExecutor(max_workers=_WORKERS) as pool:
        got = list(pool.map(lambda item: _fetch_one(item, workdir, indexes, reporter), items))
        stage.note = _origins(got)
    for item, (path, origin) in zip(items, got):
        reporter.debug(f"  {item.filename} -> {path} ({origin})", level=2)
    return [path for path, _ in got]


def _origins(got: Sequence[tuple[Path, str]]) -> str:
    """``; 2 files downloaded (48,210 bytes), 4 files reused from the cache (1,234 bytes)``"""
    parts = []
    for origin in (_DOWNLOADED, _CACHED, _LOCAL):
        sizes = [path.stat().st_size for path, how in got if how == origin]
        if sizes:
            parts.append(f"{counted(len(sizes), 'file')} {origin} ({sum(sizes):,} bytes)")
    return "; " + ", ".join(parts) if parts else ""
