"""The on-disk cache: where it lives, files kept by content hash, and results kept by key.

Every entry is written to a temporary name and renamed into place, so a build killed half-way
leaves nothing a later build could mistake for a result, and two builds at once at worst both
compute the same entry.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import platformdirs

from . import __version__
from .errors import redact

CACHE_ENV = "HATCH_LAMBDA_CACHE_DIR"
REFRESH_ENV = "HATCH_LAMBDA_REFRESH"


def cache_root() -> Path:
    """``$HATCH_LAMBDA_CACHE_DIR``, else the platform's user cache folder for hatch-lambda."""
    override = os.environ.get(CACHE_ENV)
    return Path(override) if override else Path(platformdirs.user_cache_dir("hatch-lambda"))


def refresh_requested() -> bool:
    return os.environ.get(REFRESH_ENV, "").lower() in ("1", "true", "yes")


def file_slot(sha256: str, filename: str) -> Path:
    """Where a distribution file with this digest is kept."""
    return cache_root() / "files" / "sha256" / sha256[:2] / sha256 / filename


def sha256_file(path: Path) -> str:
    """The hex SHA-256 of a file, read in blocks (archives can be hundreds of megabytes)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def code_sha256(path: Path) -> str:
    """What Lambda reports as CodeSha256 for a zip: the base64 form of its SHA-256."""
    return base64.b64encode(bytes.fromhex(sha256_file(path))).decode("ascii")


def cache_key(*parts: Any) -> str:
    """A digest of *parts* (JSON-able) and hatch-lambda's version; credentials never enter it."""
    text = redact(json.dumps([__version__, *parts], sort_keys=True, default=str))
    return hashlib.sha256(text.encode()).hexdigest()


def _slot(kind: str, key: str) -> Path:
    return cache_root() / kind / key[:2] / key


def load_json(kind: str, key: str) -> Any:
    path = _slot(kind, key) / "data.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def store_json(kind: str, key: str, data: Any) -> None:
    slot = _slot(kind, key)
    slot.mkdir(parents=True, exist_ok=True)
    _atomic_write(slot / "data.json", json.dumps(data, indent=1, sort_keys=True).encode())


def stored_file(kind: str, key: str, name: str) -> Path | None:
    path = _slot(kind, key) / name
    return path if path.is_file() else None


def store_file(kind: str, key: str, name: str, source: Path) -> None:
    slot = _slot(kind, key)
    slot.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=slot, prefix=f".{name}.")
    os.close(fd)
    try:
        shutil.copyfile(source, tmp)
        Path(tmp).replace(slot / name)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        Path(tmp).replace(path)
    finally:
        Path(tmp).unlink(missing_ok=True)
