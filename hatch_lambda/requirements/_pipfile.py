"""Reads ``Pipfile.lock`` (JSON, written by pipenv) directly: it records versions and hashes."""

from __future__ import annotations

import json
import os
from collections.abc import Collection
from pathlib import Path
from typing import Any

from packaging.markers import Environment, InvalidMarker, Marker
from packaging.utils import canonicalize_name

from ..errors import RequirementsError
from . import LockedFile, LockedSet, Pin
from ._markers import applies

# pipenv's names for its two standard categories; any other category is named as it is.
_GROUP_ALIASES = {
    "dev": "develop",
    "main": "default",
    "packages": "default",
    "dev-packages": "develop",
}


def read_pipfile_lock(
    path: Path, *, environment: Environment, groups: Collection[str], project: str
) -> LockedSet:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RequirementsError(f"cannot read {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise RequirementsError(f"{path} is not valid JSON: {exc}") from exc

    sources = {
        s.get("name"): os.path.expandvars(s["url"])
        for s in data.get("_meta", {}).get("sources", [])
        if isinstance(s, dict) and "url" in s
    }
    urls = list(sources.values())
    sections = ["default", *(_GROUP_ALIASES.get(g, g) for g in groups)]
    missing = [s for s in sections if s not in data]
    if missing:
        known = sorted(k for k in data if not k.startswith("_"))
        raise RequirementsError(f"{path.name} has no {missing!r} category; it has {known}")

    pins: dict[str, Pin] = {}
    for section in sections:
        for raw_name, entry in sorted(data[section].items()):
            where = f"{path.name} {section}.{raw_name}"
            name = canonicalize_name(raw_name)
            if name == canonicalize_name(project) or name in pins:
                continue
            try:
                marker = Marker(entry["markers"]) if entry.get("markers") else None
            except InvalidMarker as exc:
                raise RequirementsError(f"{where}.markers is not a valid marker: {exc}") from exc
            if not applies(marker, environment):
                continue
            if "version" not in entry:
                if entry.get("file"):
                    url = entry["file"]
                    files = (LockedFile(url.split("#")[0].rsplit("/", 1)[-1], url),)
                    pins[name] = Pin(name, "", where, files=files, sha256=_sha256(entry))
                    continue
                kind = (
                    "a VCS checkout"
                    if any(k in entry for k in ("git", "hg", "svn", "bzr"))
                    else "a local path"
                )
                raise RequirementsError(
                    f"{where} is {kind}; hatch-lambda bundles released wheels and sdists. "
                    "Depend on a release instead."
                )
            if not str(entry["version"]).startswith("=="):
                raise RequirementsError(
                    f"{where} has no locked version ({entry['version']!r}): pipenv resolves for "
                    "the machine that runs `pipenv lock` and leaves a package unpinned when its "
                    f"marker ({entry.get('markers')}) does not hold there, but it holds on "
                    f"{environment['python_version']} {environment['platform_machine']}. Lock where "
                    "the marker holds, or use a lock that covers every platform (uv.lock, "
                    "poetry.lock, pylock.toml)."
                )
            version = str(entry["version"])[2:]
            pins[name] = Pin(
                name, version, where, sha256=_sha256(entry), index=sources.get(entry.get("index"))
            )
    return LockedSet(
        source=path.name,
        pins=tuple(pins.values()),
        index_url=urls[0] if urls else None,
        extra_index_urls=tuple(urls[1:]),
    )


def _sha256(entry: dict[str, Any]) -> frozenset[str]:
    return frozenset(h.split(":", 1)[1] for h in entry.get("hashes", []) if h.startswith("sha256:"))
