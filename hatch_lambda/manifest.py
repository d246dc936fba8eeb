"""The manifest written beside each artifact: what it holds, for which target, and its digests."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name

from . import __version__
from .wheelhouse import Wheel

if TYPE_CHECKING:
    from .archive import ArchiveInfo
    from .config import ArtifactConfig
    from .wheelhouse._container import BuildImage


@dataclass(frozen=True)
class PackageEntry:
    name: str
    version: str
    wheel: str
    tags: tuple[str, ...]
    origin: str
    """"project", "index", "sdist", "local" (built from a local source: a workspace member, a
    path or VCS dependency), or "container": built in the runtime's image."""
    runtimes: tuple[str, ...]
    location: str = ""
    """Where in the archive it went: "" (the root), "python" or "python/lib/python3.X/site-packages"."""


def package_entries(
    selected: Mapping[str, Sequence[Wheel]],
    locations: Mapping[tuple[str, str], str],
    project: Wheel | None,
    project_tags: tuple[str, ...],
    *,
    container: bool = False,
) -> list[PackageEntry]:
    """One entry per wheel file, with every runtime it serves; the project's own wheel last.

    *container*: the wheels were collected in the build image, where those built from an sdist
    carry a plain ``linux_*`` tag that `check` accepts only from such an entry."""
    built = "container" if container else "sdist"
    entries: dict[str, PackageEntry] = {}
    for rt, wheels in selected.items():
        for w in wheels:
            old = entries.get(w.path.name)
            entries[w.path.name] = PackageEntry(
                w.name, w.version, w.path.name, tuple(sorted(str(t) for t in w.tags)),
                "local" if w.local else built if w.built_from_sdist else "index",
                (*old.runtimes, rt) if old else (rt,),
                locations.get((w.path.name, rt), ""),
            )  # fmt: skip
    ordered = sorted(entries.values(), key=lambda p: (canonicalize_name(p.name), p.wheel))
    if project is not None:
        where = locations.get((project.path.name, ""), "")
        ordered.append(
            PackageEntry(project.name, project.version, project.path.name, project_tags,
                         "project", tuple(selected), where)
        )  # fmt: skip
    return ordered


def judged_options(config: ArtifactConfig, layer_files: Mapping[str, str]) -> dict[str, Any]:
    """What the audit of *config*'s artifact took into account beyond its files; *layer_files*:
    the file of each layer it is deployed with, by name."""
    return {
        "extras": list(config.extras),
        "exclude-runtime-provided": config.exclude_runtime_provided,
        "layer-files": dict(layer_files),
        "max-unzipped-size": config.max_unzipped_size,
        "audit-warn": list(config.audit_warn),
    }


def manifest_data(
    *,
    name: str | None,
    kind: str,
    runtimes: Sequence[str],
    architecture: str,
    platforms: Sequence[str],
    handler: str | None,
    layers: Sequence[str],
    contents: str,
    requirements_source: str,
    resolver: str | None,
    packages: Sequence[PackageEntry],
    removed: Sequence[str],
    archive: ArchiveInfo | None,
    kept: Sequence[str] = (),
    wheelhouse: dict[str, Any] | None = None,
    judged: Mapping[str, Any] | None = None,
    images: Mapping[str, BuildImage] | None = None,
) -> dict[str, Any]:
    """*removed*: what the runtime or a layer provides instead, *kept*: what the runtime provides
    but the bundle keeps, each as ``name version (why)``. *judged*: the options the build's audit
    took into account (``extras``, ``exclude-runtime-provided``, ``layer-files``,
    ``max-unzipped-size``, ``audit-warn``), so that `hatch-lambda check` judges the artifact as
    the build did. *images*: in container mode, the image each runtime's wheels were built in (the
    packages of origin ``container``)."""
    # No URLs and no timestamps: the manifest must be reproducible and free of credentials.
    data: dict[str, Any] = {
        "hatch-lambda": __version__,
        "name": name,
        "kind": kind,
        "runtime": runtimes[0],
        "runtimes": list(runtimes),
        "architecture": architecture,
        "handler": handler,
        "layers": list(layers),
        "contents": contents,
        "requirements": requirements_source,
        "resolver": resolver,
        "platforms": list(platforms),
        "packages": [
            {
                "name": p.name,
                "version": p.version,
                "wheel": p.wheel,
                "tags": list(p.tags),
                "origin": p.origin,
                "runtimes": list(p.runtimes),
                "location": p.location,
            }
            for p in packages
        ],
        "left-out": list(removed),
        "kept": list(kept),
        **(judged or {}),
    }
    if images:
        data["container-images"] = {
            rt: {"engine": i.engine, "image": i.reference, "image-id": i.digest}
            for rt, i in images.items()
        }
    if archive is not None:
        data["archive"] = {
            "file": archive.path.name,
            "size": archive.size,
            "sha256": archive.sha256,
            "code-sha256": archive.code_sha256,
            "files": archive.files,
            "unzipped-size": archive.unzipped_size,
        }
    if wheelhouse is not None:
        data["wheelhouse"] = wheelhouse
    return data


def write_manifest(path: Path, data: dict[str, Any]) -> None:
    """Write the manifest to *path*: a temporary name the caller puts in place with its artifact."""
    with path.open("w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(data, indent=2) + "\n")
