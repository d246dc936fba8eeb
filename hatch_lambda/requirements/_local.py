"""Tells a local source (a folder, a file, a VCS checkout) from a requirement on an index, in every
form the readers meet: ``name @ file:///...``, ``name @ git+https://...``, a path line, ``-e``."""

from __future__ import annotations

import os
import re
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


def from_path(
    text: str, where: str, *, base: Path, name: str | None = None, editable: bool = False
) -> LocalSource:
    """A folder, wheel or sdist named by a path, relative to *base* when it is not absolute."""
    path = Path(text).expanduser()
    path = path if path.is_absolute() else base / path
    path = Path(os.path.normpath(path))
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
    return from_url(req.url, where, name=req.name, base=base, archives=archives)
