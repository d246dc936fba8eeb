"""The manifest written beside each artifact: what it holds, for which target, and its digests."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__
from .archive import ArchiveInfo
from .target import Target


@dataclass(frozen=True)
class PackageEntry:
    name: str
    version: str
    wheel: str
    tags: tuple[str, ...]
    origin: str  # "project", "index" or "sdist"


def manifest_data(
    *,
    kind: str,
    target: Target,
    handler: str | None,
    requirements_source: str,
    resolver: str | None,
    packages: Sequence[PackageEntry],
    archive: ArchiveInfo,
) -> dict[str, Any]:
    # No URLs and no timestamps: the manifest must be reproducible and free of credentials.
    return {
        "hatch-lambda": __version__,
        "kind": kind,
        "runtime": target.runtime.name,
        "architecture": target.architecture,
        "handler": handler,
        "requirements": requirements_source,
        "resolver": resolver,
        "platforms": list(target.platforms),
        "packages": [
            {
                "name": p.name,
                "version": p.version,
                "wheel": p.wheel,
                "tags": list(p.tags),
                "origin": p.origin,
            }
            for p in packages
        ],
        "archive": {
            "file": archive.path.name,
            "size": archive.size,
            "sha256": archive.sha256,
            "code-sha256": archive.code_sha256,
            "files": archive.files,
            "unzipped-size": archive.unzipped_size,
        },
    }


def write_manifest(path: Path, data: dict[str, Any]) -> None:
    text = json.dumps(data, indent=2, sort_keys=False) + "\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        Path(tmp).chmod(0o644)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
