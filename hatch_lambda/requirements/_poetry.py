"""Reads ``poetry.lock`` directly (lock format 2.1, written by Poetry 2, records groups and markers)."""

from __future__ import annotations

import sys
from collections.abc import Collection
from pathlib import Path
from typing import Any

from packaging.markers import Environment, InvalidMarker, Marker
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..errors import RequirementsError
from . import LockedFile, LockedSet, Pin
from ._markers import applies

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def read_poetry_lock(
    path: Path,
    *,
    environment: Environment,
    extras: Collection[str],
    groups: Collection[str],
    include_hashes: bool,
    without_urls: bool,
) -> LockedSet:
    try:
        with path.open("rb") as f:
            data: dict[str, Any] = tomllib.load(f)
    except OSError as exc:
        raise RequirementsError(f"cannot read {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RequirementsError(f"{path} is not valid TOML: {exc}") from exc

    lock_version = str(data.get("metadata", {}).get("lock-version", "1.0"))
    try:
        too_old = Version(lock_version) < Version("2.1")
    except InvalidVersion:
        too_old = True
    if too_old:
        raise RequirementsError(
            f"{path.name} has lock-version {lock_version}, which does not record groups and "
            "markers; run `poetry lock` with Poetry 2 (lock-version 2.1), or export it with "
            '`poetry export -o requirements.txt` and set requirements = "requirements.txt"'
        )

    wanted_groups = {"main", *groups}
    wanted_extras = [canonicalize_name(e) for e in extras]
    extra_members = {
        canonicalize_name(member)
        for extra, members in data.get("extras", {}).items()
        if canonicalize_name(extra) in wanted_extras
        for member in members
    }
    index_urls: list[str] = []
    pins = []
    for i, package in enumerate(data.get("package", [])):
        where = f"{path.name} package[{i}]"
        name = canonicalize_name(package["name"])
        package_groups = set(package.get("groups", ["main"]))
        chosen = package_groups & wanted_groups
        if not chosen:
            continue
        markers = package.get("markers")
        if not any(applies(_marker(markers, g, where), environment, wanted_extras) for g in chosen):
            continue
        if (
            package.get("optional")
            and name not in extra_members
            and not (isinstance(markers, str) and "extra" in markers)
        ):
            continue
        source = package.get("source", {})
        if source.get("type") in ("git", "directory", "file", "url"):
            raise RequirementsError(
                f"{package['name']} ({where}) comes from a {source['type']} source "
                f"({source.get('url', '')}); hatch-lambda bundles wheels and sdists from an "
                "index. Publish it, or depend on a release."
            )
        index = None if without_urls else source.get("url")
        if index and index not in index_urls:
            index_urls.append(index)
        files = tuple(
            LockedFile(f["file"], None, dict([f["hash"].split(":", 1)]) if include_hashes else {})
            for f in package.get("files", [])
            if ":" in f.get("hash", "")
        )
        sha256 = frozenset(f.hashes["sha256"] for f in files if "sha256" in f.hashes)
        pins.append(
            Pin(name, str(package["version"]), where, files=files, sha256=sha256, index=index)
        )
    return LockedSet(
        source=path.name,
        pins=tuple(pins),
        index_url=index_urls[0] if index_urls else None,
        extra_index_urls=tuple(index_urls[1:]),
    )


def _marker(markers: Any, group: str, where: str) -> Marker | None:
    text = markers.get(group) if isinstance(markers, dict) else markers
    if not text:
        return None
    try:
        return Marker(text)
    except InvalidMarker as exc:
        raise RequirementsError(f"{where}.markers is not a valid marker: {exc}") from exc
