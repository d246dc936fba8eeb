"""Tells a local source (a folder, a file, a VCS checkout) from a requirement on an index, in every
form the readers meet: ``name @ file:///...``, ``name @ git+https://...``, a path line, ``-e``."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
from collections.abc import Collection, Iterator
from contextvars import ContextVar
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from ..errors import RequirementsError
from . import LocalSource

VCS_SCHEMES = ("git+", "hg+", "svn+", "bzr+")
_EGG = re.compile(r"[#&]egg=([A-Za-z0-9._-]+)")


def is_vcs_url(text: str) -> bool:
    return text.lower().startswith(VCS_SCHEMES) and "://" in text


def looks_like_path(text: str) -> bool:
    """A requirements-file word that pip reads as a path: ``.``, ``./x``, ``../x``, ``/x``,
    ``~/x``, or anything with a path separator and no ``@`` (``packages/lib``)."""
    if text.startswith((".", "/", "~")) or (os.sep != "/" and os.sep in text):
        return True
    return "/" in text and "@" not in text and "://" not in text and ";" not in text


def file_url_path(url: str, where: str) -> Path:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise RequirementsError(
            f"{where}: {url} names a file on another host ({parts.netloc}); use a path on this "
            "machine (file:///path), or publish the distribution to an index"
        )
    return Path(url2pathname(unquote(parts.path)))


def from_url(
    url: str, where: str, *, name: str | None = None, editable: bool = False, base: Path,
    archives: bool = True,
) -> LocalSource | None:  # fmt: skip
    """The local source a direct reference names, or None for a remote archive (``https://``),
    which is fetched like any other file, and, unless *archives*, for a local wheel or sdist
    file (a lock pins those as files, with their hashes)."""
    normalized = canonicalize_name(name) if name else None
    if is_vcs_url(url):
        if not url.lower().startswith("git+"):
            raise RequirementsError(
                f"{where}: {url.split('+', 1)[0]} checkouts are not supported, only git; "
                "depend on a release, or on a git repository"
            )
        if normalized is None:
            egg = _EGG.search(url)
            normalized = canonicalize_name(egg.group(1)) if egg else None
        return LocalSource(url, where, normalized, editable)
    if url.lower().startswith("file:"):
        if not archives and not file_url_path(url, where).is_dir():
            return None
        return from_path(str(file_url_path(url, where)), where, base=base, name=name,
                         editable=editable)  # fmt: skip
    return None


_STAGED: ContextVar[tuple[Path, Path] | None] = ContextVar("staged", default=None)


@contextlib.contextmanager
def staged_copy(stage: Path, origin: Path) -> Iterator[None]:
    """Requirements read from *stage*, a copy of the project at *origin* that before-bundling
    commands worked in: a path that leads out of the project leads where the project is."""
    token = _STAGED.set((Path(os.path.normpath(stage.resolve())),
                         Path(os.path.normpath(origin.resolve()))))  # fmt: skip
    try:
        yield
    finally:
        _STAGED.reset(token)


def at_origin(base: Path, text: str) -> Path:
    """*text* (a path) relative to *base*, normalised: inside a staged copy (``staged_copy``),
    a path within the project stays in the copy, and one that leaves it (``../lib``) is taken
    from beside the project itself, which the copy is not."""
    relative = Path(text).expanduser()
    path = Path(os.path.normpath(base / relative))
    staged = _STAGED.get()
    if staged is None or relative.is_absolute():
        return path
    stage, origin = staged
    try:
        inside = Path(os.path.normpath(base.resolve())).relative_to(stage)
    except ValueError:  # a file outside the copy named it
        return path
    real = Path(os.path.normpath(origin / inside / relative))
    try:
        return stage / real.relative_to(origin)
    except ValueError:
        return real


def from_path(
    text: str, where: str, *, base: Path, name: str | None = None, editable: bool = False
) -> LocalSource:
    """A folder, wheel or sdist named by a path, relative to *base* when it is not absolute."""
    path = at_origin(base, text)
    if not path.exists():
        raise RequirementsError(
            f"{where}: the local source {text} is not there ({path} does not exist); fix the "
            "path (relative paths are relative to the file that names them)"
        )
    return LocalSource(str(path), where, canonicalize_name(name) if name else None, editable)


def from_requirement(
    req: Requirement, where: str, *, base: Path, archives: bool = True
) -> LocalSource | None:
    """The local source of ``name @ URL``, or None when *req* is resolved on an index (or is a
    remote archive)."""
    if not req.url:
        return None
    source = from_url(req.url, where, name=req.name, base=base, archives=archives)
    return with_extras(source, req.extras) if source is not None else None


def with_extras(source: LocalSource, extras: Collection[str]) -> LocalSource:
    return dataclasses.replace(
        source, extras=source.extras | {canonicalize_name(e) for e in extras}
    )


_PATH_EXTRAS = re.compile(r"^(?P<path>.+?)\[(?P<extras>[A-Za-z0-9._,\s-]*)\]$")


def split_extras(text: str) -> tuple[str, frozenset[str]]:
    """``../lib[aws, s3]`` -> (``../lib``, {aws, s3}), as pip reads a path line with extras."""
    found = _PATH_EXTRAS.match(text.strip())
    if found is None:
        return text, frozenset()
    extras = {canonicalize_name(e.strip()) for e in found["extras"].split(",") if e.strip()}
    return found["path"], frozenset(extras)
