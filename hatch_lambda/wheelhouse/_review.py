"""Reviews a uv resolution against the index, for what uv cannot be told about the target.

- uv ignores upper bounds of ``Requires-Python`` by design, so it may pick a release meant for
  older Pythons only (``dataclasses`` 0.8 for python3.9). Every release of such a package whose
  ``Requires-Python`` (the index's ``data-requires-python``) excludes the runtime becomes a
  constraint (``name!=version``) for the next round.
- uv knows no manylinux level between 2_17 and 2_28, so for Amazon Linux 2 (glibc 2.26) it is
  told 2_17, and never sees a wheel tagged 2_18 to 2_26. When a newer release than the chosen one
  has a wheel the target's exact tag list accepts and uv's level does not, the resolution is
  redone with pip, which takes the exact list.

One index page per resolved package, fetched side by side.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from .._report import Reporter
from ..requirements import Pin
from ..target import Target, manylinux_glibc
from ._indexes import Indexes
from ._simple import IndexFile, project_files

_WORKERS = 8


@dataclass(frozen=True)
class Review:
    constraints: tuple[str, ...] = ()
    """``name!=version,...`` for every package whose pinned release the runtime's Python is
    excluded from, naming each of its releases that excludes it."""
    skipped: tuple[str, ...] = ()
    """What to say of each release skipped, and why."""
    newer_fits: tuple[str, ...] = ()
    """Packages with a newer release whose wheel only the exact tag list accepts, and why."""


def _excludes(text: str | None, target: Target) -> bool:
    if not text:
        return False
    try:
        return not target.runtime.admits(SpecifierSet(text))
    except InvalidSpecifier:
        return False  # unreadable: pip ignores it too


def _releases(files: Sequence[IndexFile]) -> dict[Version, list[IndexFile]]:
    releases: dict[Version, list[IndexFile]] = {}
    for f in files:
        nv = f.name_version
        if nv is not None and not f.yanked:
            releases.setdefault(nv[1], []).append(f)
    return releases


def _excluded(files: Sequence[IndexFile], target: Target) -> str | None:
    """The Requires-Python that rules a release out for the target, when all its files say so."""
    if files and all(_excludes(f.requires_python, target) for f in files):
        return files[0].requires_python
    return None


def _fits(files: Sequence[IndexFile], target: Target) -> bool:
    for f in files:
        if f.filename.endswith(".whl"):
            try:
                tags = parse_wheel_filename(f.filename)[3]
            except ValueError:
                continue
            if target.accepts(tags):
                return True
    return False


def review(
    pins: Sequence[Pin],
    wanted: Mapping[NormalizedName, SpecifierSet],
    target: Target,
    indexes: Indexes,
    reporter: Reporter,
    *,
    reachable: Target | None,
) -> Review:
    """*wanted*: the project's own specifiers by name; *reachable*: the target as uv was told it
    (the platforms uv can name), or None when uv was told the target exactly."""
    urls = (indexes.index_url, *indexes.extra_index_urls)

    def pages(name: str) -> list[IndexFile] | None:
        try:
            return [f for url in urls for f in project_files(url, name, indexes, timeout=30)]
        except Exception as exc:  # the audit still judges what ships; this only improves it
            reporter.debug(f"cannot review {name} against the index: {exc}")
            return None

    with ThreadPoolExecutor(_WORKERS) as pool:
        found = list(pool.map(pages, [p.name for p in pins]))
    constraints: list[str] = []
    skipped: list[str] = []
    newer: list[str] = []
    for pin, files in zip(pins, found):
        if not files:
            continue
        releases = _releases(files)
        try:
            chosen = Version(pin.version)
        except InvalidVersion:
            continue
        bound = _excluded(releases.get(chosen, []), target)
        if bound is not None:
            out = sorted(v for v, fs in releases.items() if _excluded(fs, target) is not None)
            constraints.append(f"{pin.name}" + ",".join(f"!={v}" for v in out))
            skipped.append(
                f"skipped {pin.name} {pin.version}: it requires Python {bound}, and "
                f"{target.runtime.name} runs {target.runtime.version}"
                + (f" (nor do {len(out) - 1} other releases)" if len(out) > 1 else "")
            )
            continue
        if reachable is None:
            continue
        spec = wanted.get(canonicalize_name(pin.name))
        for version in sorted(releases, reverse=True):
            if version <= chosen:
                break
            fs = releases[version]
            if (version.is_prerelease and not chosen.is_prerelease) or (
                spec is not None and not spec.contains(version, prereleases=True)
            ):
                continue
            if _excluded(fs, target) is None and _fits(fs, target) and not _fits(fs, reachable):
                newer.append(_newer_line(pin, version, fs, target))
                break
    return Review(tuple(constraints), tuple(skipped), tuple(newer))


def _newer_line(pin: Pin, version: Version, files: Sequence[IndexFile], target: Target) -> str:
    levels = sorted(
        {
            g
            for f in files
            if f.filename.endswith(".whl")
            for t in parse_wheel_filename(f.filename)[3]
            if target.accepts([t]) and (g := manylinux_glibc(t.platform))
        }
    )
    tag = f"manylinux_{levels[-1][0][0]}_{levels[-1][0][1]}" if levels else "a level uv lacks"
    return f"{pin.name} {version} has a {tag} wheel for {target.label}, newer than {pin.version}"
