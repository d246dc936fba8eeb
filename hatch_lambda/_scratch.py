"""Temporary files and folders named after the build that made them.

A build killed half-way (SIGKILL, a closed laptop, a CI timeout) cannot clean up after itself. Its
temporary names carry this machine and the process id, so a later build can tell the debris of a
dead build from the work of one still running and remove only the former.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

# The host is hashed: a name must stay short and portable, whatever the host is called.
_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:6]
TAG = f"hl-{_HOST}-{os.getpid()}-"
_OWNER = re.compile(r"hl-(?P<host>[0-9a-f]{6})-(?P<pid>\d+)-")
# Debris of another machine sharing the folder (a network drive, a cache volume mounted in several
# containers) is only removed once it is this old: its process cannot be asked whether it runs.
_FOREIGN_AGE = 24 * 3600

SYSTEM_PREFIX = "hatch-lambda-"
"""What hatch-lambda's folders in the system's temporary folder are called."""


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process, or a platform without signals: assume it runs
        return True
    return True


def is_debris(path: Path) -> bool:
    """Whether *path* was made by a build that no longer runs."""
    match = _OWNER.search(path.name)
    if match is None:
        return False
    if match["host"] == _HOST:
        return not _alive(int(match["pid"]))
    try:
        return time.time() - path.lstat().st_mtime > _FOREIGN_AGE
    except OSError:
        return False


def sweep(folder: Path, prefix: str = "") -> list[Path]:
    """Remove the debris of dead builds among the entries of *folder* whose names start with
    *prefix*; returns what was removed. Nothing here is worth failing a build for."""
    removed = []
    try:
        paths = [p for p in folder.iterdir() if p.name.startswith(prefix) and "hl-" in p.name]
    except OSError:
        return []
    for path in paths:
        if not is_debris(path):
            continue
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError:
            continue
        removed.append(path)
    return removed


def beside(path: Path) -> Path:
    """A new empty file next to *path*, hidden, for content that replaces *path* once whole."""
    with _naming_the_folder(path.parent):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{TAG}")
    os.close(fd)
    return Path(name)


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A new empty file next to *path* (``beside``), removed unless renamed away: the one way to
    write a file that must never be seen half-written."""
    tmp = beside(path)
    try:
        yield tmp
    finally:
        remove_quietly(tmp)


def folder_beside(path: Path, what: str) -> Path:
    """A new hidden folder next to *path*."""
    with _naming_the_folder(path.parent):
        path.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{what}.{TAG}"))


@contextlib.contextmanager
def _naming_the_folder(folder: Path) -> Iterator[None]:
    """An error making a temporary name names the folder: the user knows that one."""
    try:
        yield
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(folder)) from exc


@contextlib.contextmanager
def system_folder(what: str = "") -> Iterator[Path]:
    """A folder in the system's temporary folder, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=f"{SYSTEM_PREFIX}{what}{TAG}") as tmp:
        yield Path(tmp)


def sweep_system() -> list[Path]:
    return sweep(Path(tempfile.gettempdir()), SYSTEM_PREFIX)


def remove_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
