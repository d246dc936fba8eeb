"""Finds the addresses of locked files that the lock names only by version, filename or hash."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from packaging.utils import (
    canonicalize_name,
)
from packaging.version import Version

from .._report import Reporter, counted, timed
from ..errors import WheelSelectionError
from ..requirements import LockedFile, Pin
from ._indexes import Indexes, strip_credentials
from ._simple import IndexFile, find_links_files, project_files

_WORKERS = 8


def _matches(pin: Pin, file: IndexFile) -> bool:
    parsed = file.name_version
    if parsed is None or parsed[0] != canonicalize_name(pin.name):
        return False
    if pin.version and parsed[1] != Version(pin.version):
        return False
    # Digests are not compared here: a file the lock does not allow fails its hash check after
    # download, with both digests in the message, rather than looking absent from the index.
    return not pin.files or file.filename in {f.filename for f in pin.files}


def needs_lookup(pin: Pin) -> bool:
    return not pin.files or any(f.url is None for f in pin.files)


def locate(pins: Sequence[Pin], indexes: Indexes, reporter: Reporter) -> list[Pin]:
    """The pins with URLs for every file; a pin's own index, if it names one, is the only one asked."""
    todo = [p for p in pins if needs_lookup(p)]
    if not todo:
        return list(pins)
    reporter.waiting(f"Looking up {counted(len(todo), 'locked distribution')} on the index")
    links: list[IndexFile] = [
        f for loc in indexes.find_links for f in find_links_files(loc, indexes)
    ]

    def lookup(pin: Pin) -> Pin | str:
        sources = [pin.index] if pin.index else [indexes.index_url, *indexes.extra_index_urls]
        for source in sources:
            found = [f for f in project_files(source, pin.name, indexes) if _matches(pin, f)]
            if found:
                break
        else:
            found = [f for f in links if _matches(pin, f)]
        if not found:
            where = ", ".join(strip_credentials(s) for s in sources)
            return (
                f"{pin.label} ({pin.where}) is not on {where}"
                + (" or in find-links" if indexes.find_links else "")
                + (f" as {', '.join(f.filename for f in pin.files)}" if pin.files else "")
            )
        expected = {f.filename: f.hashes for f in pin.files}
        files = tuple(
            LockedFile(f.filename, f.url, {**f.hashes, **expected.get(f.filename, {})})
            for f in found
            if not f.yanked or pin.version
        )
        return Pin(pin.name, pin.version, pin.where, files, pin.sha256, pin.index)

    with timed(reporter, "look-up"), ThreadPoolExecutor(max_workers=_WORKERS) as pool:
        results = list(pool.map(lookup, todo))
    problems = [r for r in results if isinstance(r, str)]
    if problems:
        raise WheelSelectionError(
            "\n".join(problems)
            + "\nCheck the index the lock was made against (index-url, extra-index-urls, find-links)."
        )
    located = {id(p): r for p, r in zip(todo, results) if isinstance(r, Pin)}
    return [located.get(id(p), p) for p in pins]
