"""Says which resolved packages are older than the newest release on the index because that
release has no wheel the target loads (numpy 2.3 and later need glibc 2.28 on arm64, and Amazon
Linux 2 has 2.26), with the reason read from that release's wheel tags.

Asked only after a fresh resolution, one index page per package, fetched while the wheels
download: a resolver says what it chose, never what it passed over and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import (
    NormalizedName,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from .._report import Reporter
from ..requirements import Pin
from ..target import Target, manylinux_glibc
from ._indexes import Indexes
from ._simple import IndexFile, find_links_files, project_files

_WORKERS = 8
_TIMEOUT = 15  # seconds a page may take: this says something, it decides nothing
_SHOWN = 4

Release = tuple[Version, list[tuple[str, frozenset[Tag]]], bool]
"""A version, its wheels (filename, tags), and whether it has an sdist."""


class HeldBack:
    """Looks up every resolved package's index page in the background from the moment it is
    made; ``lines()`` then says which are held back, and why."""

    def __init__(
        self, pins: Sequence[Pin], requirements: Sequence[Requirement], target: Target,
        indexes: Indexes, reporter: Reporter,
    ) -> None:  # fmt: skip
        self._pins = pins
        self._wanted = {canonicalize_name(r.name): r.specifier for r in requirements}
        self._target = target
        self._reporter = reporter
        self._pool = ThreadPoolExecutor(max_workers=_WORKERS)
        urls = (indexes.index_url, *indexes.extra_index_urls)
        self._pages = {
            p.name: self._pool.submit(_pages, p.name, urls, indexes) for p in pins
        }  # fmt: skip
        self._links = self._pool.submit(_links, indexes)

    def __enter__(self) -> HeldBack:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # A build that failed does not wait for lookups that no longer matter.
        self._pool.shutdown(wait=kind is None, cancel_futures=True)

    def lines(self) -> list[str]:
        links = _result(self._links, self._reporter) or []
        found = []
        for pin in self._pins:
            files = _result(self._pages[pin.name], self._reporter)
            if files is None:
                continue
            files += [f for f in links if (f.name_version or (None,))[0] == pin.name]
            line = _held_back(pin, files, self._wanted.get(pin.name), self._target)
            if line:
                found.append(line)
        return found


def _pages(name: NormalizedName, urls: Sequence[str], indexes: Indexes) -> list[IndexFile]:
    return [f for url in urls for f in project_files(url, name, indexes, timeout=_TIMEOUT)]


def _links(indexes: Indexes) -> list[IndexFile]:
    return [f for loc in indexes.find_links for f in find_links_files(loc, indexes)]


def _result(future: Future[list[IndexFile]], reporter: Reporter) -> list[IndexFile] | None:
    try:
        return future.result()
    # Whatever went wrong with a page (a dropped connection, a page that is not what it should
    # be), these lines only inform: they never fail a build that has its wheels.
    except Exception as exc:
        reporter.debug(f"cannot tell which packages are held back: {exc}")
        return None


def _newest(files: Sequence[IndexFile], chosen: Version) -> Release | None:
    """The newest release above *chosen*: final releases only, unless *chosen* is not one."""
    releases: dict[Version, Release] = {}
    for f in files:
        version = f.name_version[1] if f.name_version else None
        if version is None or f.yanked or version <= chosen:
            continue
        if version.is_prerelease and not chosen.is_prerelease:
            continue
        _, wheels, sdist = releases.setdefault(version, (version, [], False))
        if f.filename.endswith(".whl"):
            wheels.append((f.filename, parse_wheel_filename(f.filename)[3]))
        elif not sdist:
            releases[version] = (version, wheels, True)
    return releases[max(releases)] if releases else None


def _held_back(
    pin: Pin, files: Sequence[IndexFile], wanted: SpecifierSet | None, target: Target
) -> str | None:
    try:
        chosen = Version(pin.version)
    except InvalidVersion:
        return None
    newest = _newest(files, chosen)
    if newest is None:
        return None
    version, wheels, _ = newest
    if wanted is not None and not wanted.contains(version, prereleases=True):
        return None  # the project itself asks for an older one
    if any(target.accepts(tags) for _, tags in wheels):
        return None  # held back for another reason than its wheels: not this module's to say
    return (
        f"{pin.name} held back to {pin.version}: {version} has no wheel for {target.label} "
        f"({why(newest, target)})"
    )


def why(release: Release, target: Target) -> str:
    """Why none of a release's wheels fits *target*, from their tags."""
    _, wheels, sdist = release
    if not wheels:
        return "it publishes only an sdist" if sdist else "it publishes no files"
    tags = [t for _, ts in wheels for t in ts]
    platforms = set(target.platforms) | {"any"}
    fitting = [t for t in tags if t.platform in platforms]
    if fitting:
        shown = sorted({f"{t.interpreter}-{t.abi}" for t in fitting})
        return (
            f"its wheels for {target.machine} are for {_few(shown)}, and {target.runtime.name} "
            f"is {target.runtime.cpython_tag}"
        )
    glibc = [g for t in tags if (g := manylinux_glibc(t.platform)) and g[1] == target.machine]
    if glibc:
        need = ".".join(map(str, min(g for g, _ in glibc)))
        have = ".".join(map(str, target.runtime.glibc))
        return f"its wheels need glibc {need} or newer, and {target.runtime.name} has {have}"
    if any(
        t.platform.startswith("musllinux_") and t.platform.endswith(target.machine) for t in tags
    ):
        return f"its Linux wheels for {target.machine} are musllinux, and Lambda runs glibc"
    return f"its wheels are for {_few(sorted({t.platform for t in tags}))}"


def _few(items: Sequence[str]) -> str:
    more = len(items) - _SHOWN
    return ", ".join(items[:_SHOWN]) + (f" and {more} more" if more > 0 else "")


__all__ = ["HeldBack", "why"]
