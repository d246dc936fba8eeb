"""The artifact cache: an artifact whose inputs are all unchanged is copied, not built again."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import NormalizedName, canonicalize_name

from .cache import code_sha256 as code_sha256_of
from .cache import load_json, store_file, store_json, stored_file


@dataclass(frozen=True)
class Remembered:
    """What a build wrote and what later builds need to know of it without opening it."""

    size: int
    code_sha256: str | None
    dists: Mapping[str, Mapping[NormalizedName, str]]
    sizes: Mapping[str, int]


def reuse(key: str, zip_path: Path, manifest_path: Path) -> Remembered | None:
    """Copy the artifact and manifest kept under *key* into place; None if there are none."""
    data = load_json("artifact", key)
    archive = stored_file("artifact", key, "archive.zip")
    manifest = stored_file("artifact", key, "manifest.json")
    if not isinstance(data, dict) or archive is None or manifest is None:
        return None
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    for source, destination in ((archive, zip_path), (manifest, manifest_path)):
        if _same_file(source, destination, data.get("code_sha256")):
            continue  # the last build left exactly these bytes there: nothing to write
        tmp = destination.with_name(f".{destination.name}.reuse")
        shutil.copyfile(source, tmp)
        tmp.chmod(0o644)
        tmp.replace(destination)
    dists = {rt: {canonicalize_name(k): v for k, v in d.items()} for rt, d in data["dists"].items()}
    return Remembered(data["size"], data["code_sha256"], dists, data["sizes"])


def remember(key: str, zip_path: Path, manifest_path: Path, what: Remembered) -> None:
    store_file("artifact", key, "archive.zip", zip_path)
    store_file("artifact", key, "manifest.json", manifest_path)
    data: dict[str, Any] = {
        "size": what.size, "code_sha256": what.code_sha256, "sizes": dict(what.sizes),
        "dists": {rt: dict(d) for rt, d in what.dists.items()},
    }  # fmt: skip
    store_json("artifact", key, data)


def _same_file(source: Path, destination: Path, code_sha256: object) -> bool:
    """Whether *destination* already holds the bytes of *source*: reading it to compare costs
    less than writing it again. A zip is compared with its recorded digest, so the cached copy
    is not read at all."""
    try:
        if destination.stat().st_size != source.stat().st_size:
            return False
        if destination.suffix == ".zip" and isinstance(code_sha256, str):
            return code_sha256_of(destination) == code_sha256
        return destination.read_bytes() == source.read_bytes()
    except OSError:
        return False
