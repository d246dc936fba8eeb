"""After a failed resolution: which requested packages have no file at all the target can use.

A resolver stops at the first package it cannot place. Each requested package's index page is
read instead, so that one message names every one whose releases (within its requirement) offer
neither a wheel the target loads nor an sdist.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from packaging.requirements import InvalidRequirement, Requirement
from packaging.tags import Tag
from packaging.utils import (
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.version import Version

from .._markers import evaluate
from ..errors import FetchError, RequirementsError
from ..target import Target
from ._indexes import Indexes
from ._simple import IndexFile, find_links_files, project_files

_SDISTS = (".tar.gz", ".zip")
# Archive formats of old sdists that uv refuses and a PEP 751 lock cannot record.
LEGACY_SDISTS = (".tar.bz2", ".tgz", ".tar.xz", ".tar", ".tbz")
_SHOWN_TAGS = 6
_WORKERS = 8


def without_usable_files(
    requirements: Sequence[str], target: Target, indexes: Indexes
) -> list[str]:
    """One line for each requested package none of whose files fits the target, sorted by name.

    A package whose page cannot be read, or that no index has, is left to the resolver's message.
    """
    wanted = {canonicalize_name(r.name): r for r in _requested(requirements, target)}
    with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
        lines = list(pool.map(lambda r: _unusable(r, target, indexes), wanted.values()))
    return sorted(line for line in lines if line)


def _requested(lines: Sequence[str], target: Target) -> list[Requirement]:
    environment = {**target.marker_environment(), "extra": ""}
    found = []
    for line in lines:
        try:
            req = Requirement(line)
            if req.url is None and (
                req.marker is None or evaluate(req.marker, environment, where=line)
            ):
                found.append(req)
        except (InvalidRequirement, RequirementsError):
            continue  # the resolver has said what is wrong with it
    return found


def _files(name: str, indexes: Indexes) -> list[IndexFile]:
    files = [
        f for url in (indexes.index_url, *indexes.extra_index_urls)
        for f in project_files(url, name, indexes)
    ]  # fmt: skip
    files += [f for loc in indexes.find_links for f in find_links_files(loc, indexes)]
    return files


def _unusable(req: Requirement, target: Target, indexes: Indexes) -> str | None:
    name = canonicalize_name(req.name)
    try:
        files = _files(name, indexes)
    except FetchError:
        return None
    releases: dict[Version, list[str]] = {}
    for file in files:
        found = _name_version(file)
        wanted = found and found[0] == name and not file.yanked
        if found and wanted and req.specifier.contains(found[1], prereleases=True):
            releases.setdefault(found[1], []).append(file.filename)
    filenames = [f for names in releases.values() for f in names]
    if not filenames or any(_usable(f, target) for f in filenames):
        return None
    newest = max(releases)
    legacy = [f for f in releases[newest] if f.endswith(LEGACY_SDISTS)]
    if legacy:
        return f"{req.name}{req.specifier}: {newest} offers {', '.join(legacy)}: " + legacy_note(
            legacy[0]
        )
    tags = sorted({str(t) for f in releases[newest] for t in _tags(f)})
    shown = ", ".join(tags[:_SHOWN_TAGS]) + (" ..." if len(tags) > _SHOWN_TAGS else "")
    what = f"wheels tagged {shown}" if tags else "no wheel"
    count = f"{len(releases)} releases" if len(releases) > 1 else "1 release"
    return f"{req.name}{req.specifier}: {count}, none with a usable file; {newest} offers {what}"


def _name_version(file: IndexFile) -> tuple[NormalizedName, Version] | None:
    """The project and version of a file's name, legacy sdists' names too."""
    suffix = next((s for s in LEGACY_SDISTS if file.filename.endswith(s)), None)
    if suffix is None:
        return file.name_version
    modern = dataclasses.replace(file, filename=file.filename[: -len(suffix)] + ".tar.gz")
    return modern.name_version


def legacy_note(filename: str) -> str:
    suffix = next((s for s in LEGACY_SDISTS if filename.endswith(s)), filename)
    return (
        f"legacy {suffix} sdists are not supported (uv refuses them, and a PEP 751 lock cannot "
        "record them)"
    )


LEGACY_ADVICE = (
    "For a legacy sdist: pin a release with a wheel or a .tar.gz sdist, or build its wheel once "
    "(pip wheel --no-deps NAME==VERSION -w wheels) and add that folder to find-links."
)


def _tags(filename: str) -> frozenset[Tag]:
    if not filename.endswith(".whl"):
        return frozenset()
    try:
        return frozenset(parse_wheel_filename(filename)[3])
    except InvalidWheelFilename:
        return frozenset()


def _usable(filename: str, target: Target) -> bool:
    if filename.endswith(_SDISTS):
        return True
    tags = _tags(filename)
    return bool(tags) and target.accepts(tags)
