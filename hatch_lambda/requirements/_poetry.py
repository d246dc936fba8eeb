"""Reads ``poetry.lock`` directly (lock format 2.1, written by Poetry 2, records groups and markers)."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

from packaging.markers import Environment, InvalidMarker, Marker
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..errors import RequirementsError
from . import LocalSource, LockedFile, LockedSet, Pin
from ._local import from_path
from ._markers import applies
from ._poetry_hash import check_content_hash
from ._shape import Shape, load_toml

_FIX = (
    "poetry.lock is damaged or was edited by hand: run `poetry lock` to write it again, "
    "or restore it from version control"
)


def read_poetry_lock(
    path: Path,
    *,
    environment: Environment,
    extras: Collection[str],
    groups: Collection[str],
    include_hashes: bool,
    without_urls: bool,
) -> LockedSet:
    shape = Shape(path.name, _FIX)
    data = load_toml(path, shape)
    lock_version = str(shape.get(data, "metadata", dict, "", {}).get("lock-version", "1.0"))
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
        for extra, members in shape.get(data, "extras", dict, "", {}).items()
        if canonicalize_name(extra) in wanted_extras
        for member in shape.each(
            shape.check(members, list, f"extras.{extra}"), str, f"extras.{extra}"
        )
    }
    index_urls: list[str] = []
    pins = []
    local: list[LocalSource] = []
    for i, raw in enumerate(shape.get(data, "package", list, "", [])):
        here = f"package[{i}]"
        where = f"{path.name} {here}"
        package: dict[str, Any] = shape.check(raw, dict, here)
        name = canonicalize_name(shape.need(package, "name", str, here))
        version = shape.need(package, "version", str, here)
        package_groups = set(
            shape.each(shape.get(package, "groups", list, here, ["main"]), str, f"{here}.groups")
        )
        chosen = package_groups & wanted_groups
        if not chosen:
            continue
        markers = _markers(shape, package, here)
        if not any(
            applies(_marker(markers, g, where), environment, wanted_extras, where=where)
            for g in chosen
        ):
            continue
        if (
            shape.get(package, "optional", bool, here, False)
            and name not in extra_members
            and not (isinstance(markers, str) and "extra" in markers)
        ):
            continue
        source = shape.get(package, "source", dict, here, {})
        kind = shape.get(source, "type", str, f"{here}.source", "")
        url = shape.get(source, "url", str, f"{here}.source", "")
        if kind in ("directory", "file", "git"):
            local.append(_local(shape, package, source, here, where=where, base=path.parent))
            continue
        if kind == "url":
            raise RequirementsError(
                f"{name} ({where}) comes from a {kind} source ({url}); hatch-lambda bundles "
                "wheels and sdists from an index. Publish it, or depend on a release."
            )
        index = None if without_urls else url or None
        if index and index not in index_urls:
            index_urls.append(index)
        files = _files(shape, package, here, include_hashes)
        sha256 = frozenset(f.hashes["sha256"] for f in files if "sha256" in f.hashes)
        pins.append(Pin(name, version, where, files=files, sha256=sha256, index=index))
    check_content_hash(path, shape.get(data, "metadata", dict, "", {}).get("content-hash"))
    return LockedSet(
        source=path.name,
        pins=tuple(pins),
        index_url=index_urls[0] if index_urls else None,
        extra_index_urls=tuple(index_urls[1:]),
        local=tuple(local),
    )


def _local(
    shape: Shape, package: dict[str, Any], source: dict[str, Any], here: str, *, where: str,
    base: Path,
) -> LocalSource:  # fmt: skip
    """A path dependency (``develop = true`` too: a bundle holds the code, never a link to it),
    or a git dependency at the commit the lock resolved."""
    name = canonicalize_name(shape.need(package, "name", str, here))
    url = shape.get(source, "url", str, f"{here}.source", "")
    if shape.get(source, "type", str, f"{here}.source", "") != "git":
        editable = shape.get(package, "develop", bool, here, False)
        return from_path(url, where, base=base, name=name, editable=editable)
    commit = shape.get(source, "resolved_reference", str, f"{here}.source", "")
    commit = commit or shape.get(source, "reference", str, f"{here}.source", "")
    location = f"git+{url}" + (f"@{commit}" if commit else "")
    sub = shape.get(source, "subdirectory", str, f"{here}.source", "")
    return LocalSource(location + (f"#subdirectory={sub}" if sub else ""), where, name)


def _files(
    shape: Shape, package: dict[str, Any], here: str, include_hashes: bool
) -> tuple[LockedFile, ...]:
    files = []
    for j, raw in enumerate(shape.get(package, "files", list, here, [])):
        at = f"{here}.files[{j}]"
        entry: dict[str, Any] = shape.check(raw, dict, at)
        filename = shape.need(entry, "file", str, at)
        algorithm, _, digest = shape.need(entry, "hash", str, at).partition(":")
        if not digest:
            raise shape.fail(f"{shape.file} {at}.hash must be ALGORITHM:DIGEST (sha256:...)")
        files.append(LockedFile(filename, None, {algorithm: digest} if include_hashes else {}))
    return tuple(files)


def _markers(shape: Shape, package: dict[str, Any], here: str) -> str | dict[str, str] | None:
    """A package's markers: one string, or one per group (``{ main = "..." }``)."""
    markers = package.get("markers")
    if markers is None or isinstance(markers, str):
        return markers
    by_group: dict[str, Any] = shape.check(markers, dict, f"{here}.markers")
    return {g: shape.check(m, str, f"{here}.markers.{g}") for g, m in by_group.items()}


def _marker(markers: str | dict[str, str] | None, group: str, where: str) -> Marker | None:
    text = markers.get(group) if isinstance(markers, dict) else markers
    if not text:
        return None
    try:
        return Marker(text)
    except InvalidMarker as exc:
        raise RequirementsError(f"{where}.markers is not a valid marker: {exc}") from exc
