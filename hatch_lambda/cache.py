"""The on-disk cache: where it lives, files kept by content hash, and results kept by key.

Nothing read back from it is trusted: a file is checked against the digest it is kept under, and
every other entry carries the digest of its own bytes. An entry that fails its check is removed
and made again, and the build says so. Every entry is written under a temporary name and renamed
into place, so a build killed half-way leaves nothing a later build could mistake for a result;
the temporary names say which build made them, so a later build removes the debris of dead ones.

Storing is never worth failing a build for: a failure to write the cache is a warning.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import platformdirs

from . import __version__
from ._report import Reporter
from ._scratch import replacing
from .errors import HatchLambdaError, redact

CACHE_ENV = "HATCH_LAMBDA_CACHE_DIR"
_FORMAT = 2  # of the entries: keys change with it, so entries of another format are never read
REFRESH_ENV = "HATCH_LAMBDA_REFRESH"
_CHUNK = 1 << 20


def cache_root() -> Path:
    """``$HATCH_LAMBDA_CACHE_DIR``, else the platform's user cache folder for hatch-lambda."""
    override = os.environ.get(CACHE_ENV)
    return Path(override) if override else Path(platformdirs.user_cache_dir("hatch-lambda"))


def prepare_cache() -> None:
    """Make sure the cache folder can be used, before any work is done."""
    root = cache_root()
    where = f"{CACHE_ENV}={root}" if os.environ.get(CACHE_ENV) else f"the cache folder {root}"
    try:
        (root / "tmp").mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=root / "tmp"):
            pass
    except OSError as exc:
        reason = "it is a file" if root.is_file() else (exc.strerror or str(exc))
        raise HatchLambdaError(
            f"cannot use {where}: {reason}. Point {CACHE_ENV} at a folder hatch-lambda may "
            "write to, or unset it to use the default"
        ) from exc


def refresh_requested() -> bool:
    return os.environ.get(REFRESH_ENV, "").lower() in ("1", "true", "yes")


def sha256_file(path: Path) -> str:
    """The hex SHA-256 of a file, read in blocks (archives can be hundreds of megabytes)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def code_sha256(path: Path) -> str:
    """What Lambda reports as CodeSha256 for a zip: the base64 form of its SHA-256."""
    return base64.b64encode(bytes.fromhex(sha256_file(path))).decode("ascii")


def copy_hashed(source: Path, destination: Path) -> str:
    """Copy *source* to *destination*, returning the hex SHA-256 of what was copied: verifying a
    cached file while copying it costs no second read."""
    digest = hashlib.sha256()
    with source.open("rb") as src, destination.open("wb") as dst:
        for block in iter(lambda: src.read(_CHUNK), b""):
            digest.update(block)
            dst.write(block)
    return digest.hexdigest()


def cache_key(*parts: Any) -> str:
    """A digest of *parts* (JSON-able) and hatch-lambda's version; credentials never enter it."""
    text = redact(json.dumps([__version__, _FORMAT, *parts], sort_keys=True, default=str))
    return hashlib.sha256(text.encode()).hexdigest()


def _an(kind: str) -> str:
    return f"an {kind}" if kind[:1] in "aeiou" else f"a {kind}"


def _damaged(reporter: Reporter | None, what: str, why: str, then: str) -> None:
    if reporter is not None:
        reporter.warning(f"hatch-lambda's cache: {what} {why}; removed it, {then}")


def _store_failed(reporter: Reporter | None, what: str, exc: OSError) -> None:
    if reporter is not None:
        reporter.warning(
            f"could not keep {what} in hatch-lambda's cache ({exc.strerror or exc}); the next "
            f"build does this work again. Check that {cache_root()} has space and is writable"
        )


@contextlib.contextmanager
def temporary(name: str) -> Iterator[Path]:
    """A new empty file in the cache's own temporary folder, removed unless renamed away. It is
    on the cache's file system, so renaming it into a slot is atomic."""
    with replacing(cache_root() / "tmp" / name) as tmp:
        yield tmp


def _place(tmp: Path, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp.replace(path)


# Files kept by content: distribution files and wheels built here.


def file_slot(sha256: str, filename: str) -> Path:
    """Where a distribution file with this digest is kept."""
    return cache_root() / "files" / "sha256" / sha256[:2] / sha256 / filename


def verified_file(sha256: str, filename: str, reporter: Reporter | None) -> Path | None:
    """The kept file with this digest, if it is there and its bytes still have that digest. One
    that does not is removed, so that it is fetched or built again."""
    path = file_slot(sha256, filename)
    try:
        actual = sha256_file(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        actual = f"unreadable ({exc.strerror or exc})"
    if actual == sha256:
        return path
    with contextlib.suppress(OSError):
        path.unlink()
    _damaged(reporter, filename, f"no longer has sha256 {sha256} (it has {actual})",
             "it is fetched or built again")  # fmt: skip
    return None


def keep_file(source: Path, sha256: str, reporter: Reporter | None) -> Path | None:
    """Keep a copy of *source*, whose digest the caller computed, under that digest."""
    slot = file_slot(sha256, source.name)
    if slot.is_file():
        return slot
    try:
        with temporary(source.name) as tmp:
            if copy_hashed(source, tmp) != sha256:
                return None  # changed while it was copied: not worth keeping
            _place(tmp, slot)
    except OSError as exc:
        _store_failed(reporter, source.name, exc)
        return None
    return slot


# Results kept by key: each holds its own digest.


def _slot(kind: str, key: str) -> Path:
    return cache_root() / kind / key[:2] / key


def evict(kind: str, key: str) -> None:
    shutil.rmtree(_slot(kind, key), ignore_errors=True)


def _sealed(data: bytes) -> bytes:
    return f"sha256={hashlib.sha256(data).hexdigest()}\n".encode() + data


def _unsealed(raw: bytes) -> bytes | None:
    head, sep, data = raw.partition(b"\n")
    if not sep or head != f"sha256={hashlib.sha256(data).hexdigest()}".encode():
        return None
    return data


def load_json(kind: str, key: str, reporter: Reporter | None = None) -> Any:
    """The JSON value kept under *key*, or None: missing, or damaged (then removed)."""
    path = _slot(kind, key) / "data.json"
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raw = f"{exc}".encode()  # unreadable: treated as damaged below
    data = _unsealed(raw)
    try:
        if data is not None:
            return json.loads(data.decode("utf-8"))
    except ValueError:
        pass
    evict(kind, key)
    _damaged(reporter, f"{_an(kind)} entry", "does not match its digest", "working it out again")
    return None


def store_json(kind: str, key: str, data: Any, reporter: Reporter | None = None) -> None:
    text = json.dumps(data, indent=1, sort_keys=True).encode()
    try:
        with temporary(f"{kind}.json") as tmp:
            tmp.write_bytes(_sealed(text))
            _place(tmp, _slot(kind, key) / "data.json")
    except OSError as exc:
        _store_failed(reporter, f"{_an(kind)} entry", exc)


def stored_digest(kind: str, key: str, name: str) -> str | None:
    """The sha256 a file kept under *key* must have, as recorded when it was stored."""
    path = _slot(kind, key) / f"{name}.sha256"
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text if len(text) == 64 else None


def stored_file(kind: str, key: str, name: str, reporter: Reporter | None = None) -> Path | None:
    """A file kept under *key*, verified against the digest recorded for it."""
    path = _slot(kind, key) / name
    expected = stored_digest(kind, key, name)
    if not path.exists():
        if expected is not None:
            evict(kind, key)  # a build stopped between writing the digest and the file
        return None
    try:
        if expected is not None and sha256_file(path) == expected:
            return path
    except OSError:
        pass
    evict(kind, key)
    _damaged(
        reporter, f"{_an(kind)} entry ({name})", "does not match its digest", "making it again"
    )
    return None


def holds_same_file(kind: str, key: str, name: str, other: Path) -> bool:
    """Whether the file kept under *key* is *other* under a second name (``store_file``)."""
    try:
        return (_slot(kind, key) / name).samefile(other)
    except OSError:
        return False


def _link_or_copy(source: Path, tmp: Path) -> None:
    """A hard link costs nothing however large the file (a 50 MB zip takes 20 ms to copy). Both
    names are only ever replaced, never written in place, by hatch-lambda; and an entry changed
    through its other name by someone else fails its digest on use, and is made again."""
    try:
        tmp.unlink()
        os.link(source, tmp)
    except OSError:  # another file system, or one without links
        shutil.copyfile(source, tmp)


def copy_stored(
    kind: str, key: str, name: str, destination: Path, reporter: Reporter | None = None
) -> bool:
    """Copy a file kept under *key* to *destination*, verifying it as it is copied: whether it
    was there and whole. One that is not is removed with its entry."""
    path = _slot(kind, key) / name
    expected = stored_digest(kind, key, name)
    try:
        if expected is not None and copy_hashed(path, destination) == expected:
            return True
    except FileNotFoundError:
        if not path.exists():
            evict(kind, key)
            return False
        raise  # the destination's folder is gone: not the cache's fault
    evict(kind, key)
    _damaged(
        reporter, f"{_an(kind)} entry ({name})", "does not match its digest", "making it again"
    )
    return False


def store_file(
    kind: str, key: str, name: str, source: Path, reporter: Reporter | None = None,
    *, sha256: str | None = None,
) -> None:  # fmt: skip
    """Keep a copy of *source* under *key*, with its digest beside it. A caller that hashed
    *source* as it wrote it passes *sha256*, and the entry is a second name for the file where
    the file system allows it (a copy where not)."""
    slot = _slot(kind, key)
    try:
        with temporary(name) as tmp, temporary(f"{name}.sha256") as sidecar:
            if sha256 is None:
                sha256 = copy_hashed(source, tmp)
            else:
                _link_or_copy(source, tmp)
            sidecar.write_text(sha256, encoding="ascii")
            # The digest first: a file is never there without the digest that vouches for it.
            _place(sidecar, slot / f"{name}.sha256")
            _place(tmp, slot / name)
    except OSError as exc:
        _store_failed(reporter, f"{_an(kind)} entry ({name})", exc)
