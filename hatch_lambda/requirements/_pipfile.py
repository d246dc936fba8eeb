"""Reads ``Pipfile.lock`` (JSON, written by pipenv) directly: it records versions and hashes."""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path
from typing import Any

from packaging.markers import Environment, InvalidMarker, Marker
from packaging.utils import canonicalize_name

from .._markers import applies
from ..errors import RequirementsError
from . import LocalSource, LockedFile, LockedSet, Pin
from ._local import file_url_path, from_path
from ._shape import Shape, load_json

# pipenv's names for its two standard categories; any other category is named as it is.
_GROUP_ALIASES = {
    "dev": "develop",
    "main": "default",
    "packages": "default",
    "dev-packages": "develop",
}


_FIX = "Run `pipenv lock` to write it again, or restore it from version control"


def read_pipfile_lock(
    path: Path, *, environment: Environment, groups: Collection[str], project: str
) -> LockedSet:
    shape = Shape(path.name, _FIX, json=True)
    data: dict[str, Any] = shape.check(load_json(path, shape), dict, "")
    sources = _sources(shape, data)
    urls = list(sources.values())
    sections = ["default", *(_GROUP_ALIASES.get(g, g) for g in groups)]
    missing = [s for s in sections if s not in data]
    if missing:
        known = sorted(k for k in data if not k.startswith("_"))
        raise RequirementsError(f"{path.name} has no {missing!r} category; it has {known}")

    pins: dict[str, Pin] = {}
    local: dict[str, LocalSource] = {}
    for section in sections:
        for raw_name, raw in sorted(shape.check(data[section], dict, section).items()):
            here = f"{section}.{raw_name}"
            where = f"{path.name} {here}"
            entry: dict[str, Any] = shape.check(raw, dict, here)
            name = canonicalize_name(raw_name)
            if name == canonicalize_name(project) or name in pins or name in local:
                continue
            markers = shape.get(entry, "markers", str, here, "")
            try:
                marker = Marker(markers) if markers else None
            except InvalidMarker as exc:
                raise RequirementsError(f"{where}.markers is not a valid marker: {exc}") from exc
            if not applies(marker, environment, where=where):
                continue
            sha256 = _sha256(shape, entry, here)
            found = _local(shape, entry, here, where=where, name=name, base=path.parent)
            if found is not None:
                local[name] = found
                continue
            if "version" not in entry:
                url = shape.get(entry, "file", str, here, "")
                if url:
                    files = (LockedFile(url.split("#")[0].rsplit("/", 1)[-1], url),)
                    pins[name] = Pin(name, "", where, files=files, sha256=sha256)
                    continue
                kind = (
                    "a VCS checkout"
                    if any(k in entry for k in ("hg", "svn", "bzr"))
                    else "an entry without a version, path or file"
                )
                raise RequirementsError(
                    f"{where} is {kind}; hatch-lambda bundles released wheels and sdists, "
                    "folders and git checkouts. Depend on a release instead."
                )
            version = shape.need(entry, "version", str, here)
            if not version.startswith("=="):
                raise RequirementsError(
                    f"{where} has no locked version ({version!r}): pipenv resolves for "
                    "the machine that runs `pipenv lock` and leaves a package unpinned when its "
                    f"marker ({markers or None}) does not hold there, but it holds on "
                    f"{environment['python_version']} {environment['platform_machine']}. Lock where "
                    "the marker holds, or use a lock that covers every platform (uv.lock, "
                    "poetry.lock, pylock.toml)."
                )
            index = sources.get(shape.get(entry, "index", str, here, ""))
            pins[name] = Pin(name, version[2:], where, sha256=sha256, index=index)
    return LockedSet(
        source=path.name,
        pins=tuple(pins.values()),
        index_url=urls[0] if urls else None,
        extra_index_urls=tuple(urls[1:]),
        local=tuple(local.values()),
    )


def _local(
    shape: Shape, entry: dict[str, Any], here: str, *, where: str, name: str, base: Path
) -> LocalSource | None:
    """A ``path`` entry (``editable`` too), a ``file`` naming a local file, or a ``git`` entry."""
    editable = shape.get(entry, "editable", bool, here, False)
    folder = shape.get(entry, "path", str, here, "")
    if folder:
        return from_path(folder, where, base=base, name=name, editable=editable)
    file = shape.get(entry, "file", str, here, "")
    if file.lower().startswith("file:") and file_url_path(file, where).is_dir():
        return from_path(str(file_url_path(file, where)), where, base=base, name=name)
    git = shape.get(entry, "git", str, here, "")
    if git:
        ref = shape.get(entry, "ref", str, here, "")
        url = git if git.startswith("git+") else f"git+{git}"
        sub = shape.get(entry, "subdirectory", str, here, "")
        location = url + (f"@{ref}" if ref else "") + (f"#subdirectory={sub}" if sub else "")
        return LocalSource(location, where, canonicalize_name(name), editable)
    return None


def _sources(shape: Shape, data: dict[str, Any]) -> dict[str, str]:
    """The lock's indexes by name, ``${VAR}`` expanded as pipenv does."""
    meta = shape.get(data, "_meta", dict, "", {})
    sources = {}
    for i, raw in enumerate(shape.get(meta, "sources", list, "_meta", [])):
        here = f"_meta.sources[{i}]"
        source: dict[str, Any] = shape.check(raw, dict, here)
        url = os.path.expandvars(shape.need(source, "url", str, here))
        sources[shape.get(source, "name", str, here, url)] = url
    return sources


def _sha256(shape: Shape, entry: dict[str, Any], here: str) -> frozenset[str]:
    hashes = shape.each(shape.get(entry, "hashes", list, here, []), str, f"{here}.hashes")
    return frozenset(h.split(":", 1)[1] for h in hashes if h.startswith("sha256:"))
