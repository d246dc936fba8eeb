"""Reads ``poetry.lock`` directly.

Poetry 2 (lock-version 2.1) records each package's groups and markers, which are evaluated for
the target. Poetry 1 (lock-version 1.0, 1.1 and 2.0) records neither: the packages the target
needs are found by walking the lock's dependency graph from pyproject.toml (``_poetry_graph``).
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

from packaging.markers import Environment, InvalidMarker, Marker
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from .._markers import applies
from ..errors import RequirementsError
from . import LocalSource, LockedFile, LockedSet, Pin
from ._local import from_path
from ._poetry_graph import locked_packages, project_roots, walk
from ._poetry_hash import check_content_hash, poetry_writer
from ._shape import Shape, load_toml

_FIX = (
    "poetry.lock is damaged or was edited by hand: run `poetry lock` to write it again, "
    "or restore it from version control"
)
_FIX_PYPROJECT = "Poetry would not read it either: fix pyproject.toml, then run `poetry lock`"
# Locks from this format on record groups and markers; older ones are read by walking the graph.
_GROUPS_RECORDED = Version("2.1")
_NEWEST_READ = Version("2.1")
_WRITERS = (
    (Version("1.0"), "Poetry 1.0 or older"),
    (Version("1.1"), "Poetry 1.1 or 1.2"),
    (Version("2.0"), "Poetry 1.3 to 1.8"),
    (Version("2.1"), "Poetry 2"),
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
    metadata = shape.get(data, "metadata", dict, "", {})
    lock_version = _lock_version(path, shape, metadata)
    legacy = lock_version < _GROUPS_RECORDED
    if legacy:
        hashes = _legacy_hashes(shape, metadata, include_hashes)
        try:
            chosen = _walked(
                path, shape, data, lock_version,
                environment=environment, extras=extras, groups=groups,
            )  # fmt: skip
        except RequirementsError:
            check_content_hash(path, metadata.get("content-hash"), legacy=True)
            raise
    else:
        chosen = _by_groups(
            path, shape, data, environment=environment, extras=extras, groups=groups
        )
        hashes = {}
    index_urls: list[str] = []
    pins = []
    local: list[LocalSource] = []
    for i, package in chosen:
        here = f"package[{i}]"
        where = f"{path.name} {here}"
        name = canonicalize_name(shape.need(package, "name", str, here))
        version = shape.need(package, "version", str, here)
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
        if "files" in package or not legacy:
            files = _files(shape, package, here, include_hashes)
        else:
            files = _of_version(hashes.get(name, ()), name, version)
        sha256 = frozenset(f.hashes["sha256"] for f in files if "sha256" in f.hashes)
        if legacy and not files and name in hashes:
            sha256 = frozenset(d for f in hashes[name] for d in f.hashes.values())
        pins.append(Pin(name, version, where, files=files, sha256=sha256, index=index))
    check_content_hash(path, metadata.get("content-hash"), legacy=legacy)
    return LockedSet(
        source=path.name,
        pins=tuple(pins),
        index_url=index_urls[0] if index_urls else None,
        extra_index_urls=tuple(index_urls[1:]),
        local=tuple(local),
    )


def _lock_version(path: Path, shape: Shape, metadata: dict[str, Any]) -> Version:
    """The lock's format; Poetry itself takes a lock without one for 1.0."""
    text = shape.get(metadata, "lock-version", str, "metadata", "1.0")
    try:
        version = Version(text)
    except InvalidVersion as exc:
        raise shape.fail(f"{path.name} metadata.lock-version is not a version ({text!r})") from exc
    if version.major > _NEWEST_READ.major:
        raise RequirementsError(
            f"{path.name} has lock-version {text}, written by {written_by(path, version)}: a "
            f"format newer than this hatch-lambda reads (up to {_NEWEST_READ}). Upgrade "
            "hatch-lambda, or export the lock with `poetry export -o requirements.txt` (the "
            'poetry-plugin-export plugin) and set requirements = "requirements.txt"'
        )
    return version


def written_by(path: Path, lock_version: Version) -> str:
    """Which Poetry wrote the lock: its header says so from Poetry 1.3 on; before, the format
    tells (lock-version 1.1 was written by Poetry 1.1 and 1.2, 2.0 by 1.3 to 1.8)."""
    writer = poetry_writer(path)
    if writer is not None:
        return f"Poetry {writer}"
    for upto, who in _WRITERS:
        if lock_version <= upto:
            return who
    return "a Poetry newer than 2"


def _walked(
    path: Path,
    shape: Shape,
    data: dict[str, Any],
    lock_version: Version,
    *,
    environment: Environment,
    extras: Collection[str],
    groups: Collection[str],
) -> list[tuple[int, dict[str, Any]]]:
    """The packages a lock without groups and markers holds for the target, found by walking
    its dependency graph from the pyproject.toml it was made from."""
    pyproject_path = path.parent / "pyproject.toml"
    if not pyproject_path.is_file():
        raise RequirementsError(
            f"{path.name} has lock-version {lock_version}, written by "
            f"{written_by(path, lock_version)}, which records neither groups nor markers: "
            f"hatch-lambda finds what the target needs from the pyproject.toml beside the lock, "
            f"and there is none in {path.parent}. Keep {path.name} beside its pyproject.toml, "
            "or run `poetry lock` with Poetry 2 or later (lock-version 2.1)"
        )
    pyproject_shape = Shape(pyproject_path.name, _FIX_PYPROJECT)
    pyproject = load_toml(pyproject_path, pyproject_shape)
    roots = project_roots(
        pyproject_shape, pyproject, shape.get(data, "extras", dict, "", {}),
        extras=extras, groups=groups,
    )  # fmt: skip
    packages = locked_packages(shape, data)
    return [(p.index, p.table) for p in walk(roots, packages, environment, lock=path.name)]


def _by_groups(
    path: Path,
    shape: Shape,
    data: dict[str, Any],
    *,
    environment: Environment,
    extras: Collection[str],
    groups: Collection[str],
) -> list[tuple[int, dict[str, Any]]]:
    """The packages of a Poetry 2 lock (lock-version 2.1) for the target, by the groups and
    markers it records for each."""
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
    chosen = []
    for i, raw in enumerate(shape.get(data, "package", list, "", [])):
        here = f"package[{i}]"
        where = f"{path.name} {here}"
        package: dict[str, Any] = shape.check(raw, dict, here)
        name = canonicalize_name(shape.need(package, "name", str, here))
        shape.need(package, "version", str, here)
        package_groups = set(
            shape.each(shape.get(package, "groups", list, here, ["main"]), str, f"{here}.groups")
        )
        in_groups = package_groups & wanted_groups
        if not in_groups:
            continue
        markers = _markers(shape, package, here)
        if not any(
            applies(_marker(markers, g, where), environment, wanted_extras, where=where)
            for g in in_groups
        ):
            continue
        if (
            shape.get(package, "optional", bool, here, False)
            and name not in extra_members
            and not (isinstance(markers, str) and "extra" in markers)
        ):
            continue
        chosen.append((i, package))
    return chosen


def _legacy_hashes(
    shape: Shape, metadata: dict[str, Any], include_hashes: bool
) -> dict[NormalizedName, tuple[LockedFile, ...]]:
    """The files and hashes of a lock-version 1.x lock, kept apart from its packages:
    ``[metadata.files]`` (``name = [{file, hash}]``), or ``[metadata.hashes]`` (``name =
    [digest]``, Poetry before 1.0) with digests only."""
    found: dict[NormalizedName, tuple[LockedFile, ...]] = {}
    for name, entries in shape.get(metadata, "files", dict, "metadata", {}).items():
        at = f"metadata.files.{name}"
        table = {"files": shape.check(entries, list, at)}
        found[canonicalize_name(name)] = _files(shape, table, at, include_hashes, key="")
    for name, digests in shape.get(metadata, "hashes", dict, "metadata", {}).items():
        at = f"metadata.hashes.{name}"
        listed = shape.each(shape.check(digests, list, at), str, at)
        found.setdefault(
            canonicalize_name(name),
            tuple(LockedFile("", None, {"sha256": d} if include_hashes else {}) for d in listed),
        )
    return found


def _of_version(
    files: tuple[LockedFile, ...], name: NormalizedName, version: str
) -> tuple[LockedFile, ...]:
    """The files of one locked version: ``[metadata.files]`` lists those of every version of a
    name together. A file whose name does not parse is kept (the index lookup decides)."""
    if any(not f.filename for f in files):
        return ()  # digests without file names: the pin carries them as sha256 alone
    try:
        wanted = Version(version)
    except InvalidVersion:
        return files
    return tuple(f for f in files if _file_version(f.filename) in (wanted, None))


def _file_version(filename: str) -> Version | None:
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[1]
        return parse_sdist_filename(filename)[1]
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None


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
    shape: Shape, package: dict[str, Any], here: str, include_hashes: bool, key: str = ".files"
) -> tuple[LockedFile, ...]:
    files = []
    for j, raw in enumerate(shape.get(package, "files", list, here, [])):
        at = f"{here}{key}[{j}]"
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
