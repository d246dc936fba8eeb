"""What to do when resolving, choosing a file or building an sdist fails: the advice that ends
the message, after the tool's own output."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from concurrent.futures import ThreadPoolExecutor

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from ..errors import FetchError, ToolError
from ._indexes import Indexes, strip_credentials
from ._simple import find_links_files, project_files

# Well-known projects that publish only an sdist for Linux, whose authors publish the same code
# with wheels under another name; what to depend on instead.
BINARY_TWINS: dict[str, str] = {
    "psycopg2": "depend on psycopg2-binary, the same code published with manylinux wheels",
    "psycopg-c": (
        "depend on psycopg[binary] instead of psycopg[c]: psycopg-binary is the same code "
        "published with manylinux wheels"
    ),
    "pysqlite3": "depend on pysqlite3-binary, the same code published with manylinux wheels",
}

# How uv and pip say a project is not on the index at all. pip says the same of a project that
# is there with no file for the target, so its names are looked up before anything is said.
_UV_ABSENT = re.compile(
    r"\b([A-Za-z0-9][A-Za-z0-9._-]*) was not found in the (?:package registry|provided package "
    r"locations)"
)
_PIP_NONE = re.compile(
    r"Could not find a version that satisfies the requirement ([A-Za-z0-9][A-Za-z0-9._-]*)"
    r"[^\n]*\(from versions: none\)"
)
_WORKERS = 8


def resolution_advice(target_label: str, tags: str, output: str = "") -> str:
    return (
        f"What to do: every package named above needs a release with a wheel for {target_label} "
        f"({tags}, ...) or a pure-Python sdist; pin such a release, or change the runtime or "
        "architecture." + twin_advice(mentioned(output))
    )


def twin_advice(names: Iterable[str]) -> str:
    """A sentence for each of *names* that has a binary twin, or an empty string."""
    hints = [f" For {n}: {BINARY_TWINS[n]}." for n in sorted({canonicalize_name(n) for n in names})
             if n in BINARY_TWINS]  # fmt: skip
    return "".join(hints)


def mentioned(text: str) -> list[str]:
    """The projects with a binary twin that *text* names (``psycopg2``, not ``psycopg2-binary``)."""
    return [
        name
        for name in BINARY_TWINS
        if re.search(rf"(?<![\w.-]){name.replace('-', '[-_.]')}(?![\w-]|\.\w)", text, re.I)
    ]


def not_on_index(error: ToolError, indexes: Indexes) -> list[NormalizedName]:
    """The projects a failed resolution could not find on any index or find-links location."""
    said = {canonicalize_name(n) for n in _UV_ABSENT.findall(error.message)}
    unsure = {canonicalize_name(n) for n in _PIP_NONE.findall(error.message)} - said
    if unsure:
        with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
            found = dict(zip(unsure, pool.map(lambda n: _listed(n, indexes), unsure)))
        said |= {name for name, listed in found.items() if listed is False}
    return sorted(said)


def _listed(name: NormalizedName, indexes: Indexes) -> bool | None:
    """Whether an index or find-links location offers any file of *name*; None when one could
    not be read, since then nothing can be said."""
    try:
        if any(
            project_files(url, name, indexes)
            for url in (indexes.index_url, *indexes.extra_index_urls)
        ):
            return True
        links = [f.filename for loc in indexes.find_links for f in find_links_files(loc, indexes)]
    except FetchError:
        return None
    return any(_project_of(filename) == name for filename in links)


def _project_of(filename: str) -> NormalizedName | None:
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[0]
        return parse_sdist_filename(filename)[0]
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None


def not_on_index_advice(names: Collection[str], indexes: Indexes) -> str:
    where = ", ".join(strip_credentials(u) for u in (indexes.index_url, *indexes.extra_index_urls))
    where += " or in find-links" if indexes.find_links else ""
    them = ", ".join(names)
    return (
        f"What to do: {them} {'is' if len(names) == 1 else 'are'} not on {where}: check the name "
        "(a typo, or a project published under another name) and the index (index-url, "
        "extra-index-urls, find-links; a private package needs the index that has it)."
    )
