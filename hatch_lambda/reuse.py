"""The artifact cache: an artifact whose inputs are all unchanged is copied, not built again.

Each output (a project's artifact in one folder, whatever its version) keeps its last few
builds: enough to go back and forth between two branches, while a day of code changes does not
fill the disk with zips nobody will ask for again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import NormalizedName, canonicalize_name

from ._report import Reporter
from .cache import (
    cache_key,
    copy_stored,
    evict,
    holds_same_file,
    load_json,
    sha256_file,
    store_file,
    store_json,
)
from .outputs import ArtifactPair


@dataclass(frozen=True)
class Remembered:
    """What a build wrote and what later builds need to know of it without opening it."""

    size: int
    code_sha256: str | None
    sha256: str
    dists: Mapping[str, Mapping[NormalizedName, str]]
    sizes: Mapping[str, int]
    files: int
    unzipped_size: int
    warnings: tuple[str, ...]
    """Said again when the artifact is reused: it is as large, and breaks the same rules."""


def _remembered(data: Any) -> Remembered | None:
    """None for an entry without every field, such as one an earlier hatch-lambda wrote."""
    try:
        dists = {
            rt: {canonicalize_name(k): str(v) for k, v in d.items()}
            for rt, d in data["dists"].items()
        }
        return Remembered(
            int(data["size"]), data["code_sha256"], str(data["sha256"]), dists,
            {str(k): int(v) for k, v in data["sizes"].items()}, int(data["files"]),
            int(data["unzipped_size"]), tuple(str(w) for w in data["warnings"]),
        )  # fmt: skip
    except (TypeError, KeyError, ValueError, AttributeError):
        return None


KEPT_PER_OUTPUT = 3


def reuse(key: str, pair: ArtifactPair, reporter: Reporter, *, output: str) -> Remembered | None:
    """Put the artifact and manifest kept under *key* in place, each verified as it is copied;
    None if there are none or they are damaged (then removed, and built again). *output* names
    the output it is kept for (``output_name``)."""
    what = _remembered(load_json("artifact", key, reporter))
    if what is None:
        evict("artifact", key)
        return None
    # A zip already there with exactly these bytes is left alone: no write, no new mtime.
    zip_there = _holds(pair.artifact, what)
    if not zip_there and holds_same_file("artifact", key, "archive.zip", pair.artifact):
        # Written into in place since this build wrote it, and the kept copy with it.
        evict("artifact", key)
        reporter.info(f"{pair.artifact.name} was changed after it was built: building it again")
        return None
    if not zip_there and not copy_stored("artifact", key, "archive.zip", pair.artifact_tmp,
                                         reporter):  # fmt: skip
        return None
    if not copy_stored("artifact", key, "manifest.json", pair.manifest_tmp, reporter):
        return None
    if not (zip_there and _same_bytes(pair.manifest_tmp, pair.manifest)):
        pair.commit(artifact=not zip_there)
    _used(output, key, reporter)
    return what


def remember(
    pair: ArtifactPair, key: str, what: Remembered, reporter: Reporter, *, output: str
) -> None:
    """Keep the artifact just put in place, as the newest of *output*'s, and forget the oldest
    beyond ``KEPT_PER_OUTPUT``. A failure to is a warning, never a failed build."""
    store_file("artifact", key, "archive.zip", pair.artifact, reporter, sha256=what.sha256)
    store_file("artifact", key, "manifest.json", pair.manifest, reporter)
    data: dict[str, Any] = {
        "size": what.size, "code_sha256": what.code_sha256, "sha256": what.sha256,
        "sizes": dict(what.sizes), "dists": {rt: dict(d) for rt, d in what.dists.items()},
        "files": what.files, "unzipped_size": what.unzipped_size, "warnings": list(what.warnings),
    }  # fmt: skip
    store_json("artifact", key, data, reporter)
    _used(output, key, reporter)


def output_name(folder: Path, project: str, artifact: str | None, runtimes: str, arch: str) -> str:
    """What the builds kept for one output share: its folder and name, without the version."""
    return json.dumps([str(folder.resolve()), project, artifact, runtimes, arch])


def _used(output: str, key: str, reporter: Reporter) -> None:
    """*key* is now *output*'s newest entry; the entries after the first few are removed."""
    recent_key = cache_key("artifact-recent", output)
    known = load_json("artifact-recent", recent_key, reporter)
    recent = [k for k in known if isinstance(k, str)] if isinstance(known, list) else []
    if recent[:1] == [key]:
        return  # the usual warm build: nothing to write
    recent = [key, *(k for k in recent if k != key)]
    for old in recent[KEPT_PER_OUTPUT:]:
        evict("artifact", old)
    store_json("artifact-recent", recent_key, recent[:KEPT_PER_OUTPUT], reporter)


def _holds(path: Path, what: Remembered) -> bool:
    try:
        return path.stat().st_size == what.size and sha256_file(path) == what.sha256
    except OSError:
        return False


def _same_bytes(a: Path, b: Path) -> bool:
    try:
        return a.read_bytes() == b.read_bytes()
    except OSError:
        return False
