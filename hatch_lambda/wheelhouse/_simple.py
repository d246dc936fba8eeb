"""A small client for the simple repository API (PEP 503 HTML, PEP 691 JSON) and find-links.

Locks that record versions and hashes but no URLs (poetry.lock, Pipfile.lock, pinned
requirements files) need each locked file's address; asking a resolver would resolve again, so
the project pages are read directly. uv and pip offer no public call for this.
"""

from __future__ import annotations

import gzip
import json
import os
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from ..errors import FetchError
from ._indexes import Indexes, strip_credentials

_ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1"


@dataclass(frozen=True)
class IndexFile:
    filename: str
    url: str
    hashes: dict[str, str]
    yanked: bool = False
    requires_python: str | None = None
    """The ``Requires-Python`` the index gives for the file (PEP 503 ``data-requires-python``)."""

    @property
    def name_version(self) -> tuple[NormalizedName, Version] | None:
        """The project and version its name gives, or None for a name that is neither a wheel's
        nor an sdist's (an index may list anything)."""
        try:
            if self.filename.endswith(".whl"):
                name, version, _, _ = parse_wheel_filename(self.filename)
            else:
                name, version = parse_sdist_filename(self.filename)
        except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
            return None
        return name, version


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.links.append(dict(attrs))


def _from_html(text: str, base: str) -> list[IndexFile]:
    parser = _Anchors()
    parser.feed(text)
    files = []
    for attrs in parser.links:
        href = attrs.get("href")
        if not href:
            continue
        url, fragment = urldefrag(urljoin(base, href))
        algo, _, digest = fragment.partition("=")
        filename = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
        files.append(
            IndexFile(
                filename,
                url,
                {algo: digest} if digest else {},
                "data-yanked" in attrs,
                attrs.get("data-requires-python") or None,
            )
        )
    return files


def _from_json(text: str, base: str) -> list[IndexFile]:
    data = json.loads(text)
    return [
        IndexFile(
            f["filename"],
            urljoin(base, f["url"]),
            dict(f.get("hashes", {})),
            bool(f.get("yanked")),
            f.get("requires-python") or None,
        )
        for f in data.get("files", [])
    ]


def _get(url: str, indexes: Indexes, timeout: float = 60) -> tuple[str, str, str] | None:
    """``(text, content type, final URL)`` of a page, or None when the index has no such page."""
    # Pages of projects with many releases run to megabytes; compressed, to a tenth of that.
    headers = {"Accept": _ACCEPT, "Accept-Encoding": "gzip"}
    request = urllib.request.Request(strip_credentials(url), headers=headers)
    auth = indexes.authorization_for(url)
    if auth:
        request.add_header("Authorization", auth)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            charset = response.headers.get_content_charset() or "utf-8"
            body = response.read()
            if response.headers.get("Content-Encoding", "").lower() == "gzip":
                body = gzip.decompress(body)
            return (
                body.decode(charset, "replace"),
                response.headers.get_content_type(),
                response.geturl(),
            )
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise FetchError(
            f"cannot read {strip_credentials(url)}: HTTP {exc.code} {exc.reason}"
        ) from exc
    except (urllib.error.URLError, OSError, EOFError, zlib.error) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchError(f"cannot read {strip_credentials(url)}: {reason}") from exc


def project_files(
    index_url: str, project: str, indexes: Indexes, *, timeout: float = 60
) -> list[IndexFile]:
    """Every file an index lists for *project*."""
    url = index_url.rstrip("/") + f"/{canonicalize_name(project)}/"
    page = _get(url, indexes, timeout)
    if page is None:
        return []
    text, content_type, final = page
    if content_type.endswith("json"):
        return _from_json(text, final)
    return _from_html(text, final)


def find_links_files(location: str, indexes: Indexes) -> list[IndexFile]:
    """Files offered by a find-links location: a local folder, or a page of links."""
    parts = urlsplit(location)
    if parts.scheme in ("", "file") or (len(parts.scheme) == 1 and os.name == "nt"):
        folder = Path(unquote(parts.path) if parts.scheme == "file" else location)
        if folder.is_dir():
            return [IndexFile(p.name, p.resolve().as_uri(), {}) for p in sorted(folder.iterdir())]
        return []
    page = _get(location, indexes)
    return _from_html(page[0], page[2]) if page else []
