"""Wheelhouses kept in the cache: the list of wheels a collection produced, sealed with its digest,
and each wheel in the file store under its own digest."""

from __future__ import annotations

import dataclasses

from .._report import Reporter
from ..cache import file_slot, keep_file, load_json, store_json
from ._wheel import Wheel


def kept_wheels(kind: str, key: str, reporter: Reporter) -> list[Wheel] | None:
    """The wheels of an earlier collection, if they are all still there. Their bytes are checked
    against their digests when needed (``verify_kept``); a file that was removed sends the build
    back to collecting."""
    data = load_json(kind, key, reporter)
    if not isinstance(data, list):
        return None
    try:
        items = [(str(i["name"]), str(i["version"]), str(i["filename"]), str(i["sha256"]),
                  bool(i["sdist"]), i.get("local") is True) for i in data]  # fmt: skip
    except (TypeError, KeyError, AttributeError):
        return None
    paths = [file_slot(digest, filename) for _, _, filename, digest, _, _ in items]
    if not all(p.is_file() for p in paths):
        return None
    return [
        Wheel(name, version, path, sdist, digest, kept=True, local=local)
        for (name, version, _, digest, sdist, local), path in zip(items, paths)
    ]


def keep_wheels(kind: str, key: str, wheels: list[Wheel], reporter: Reporter) -> list[Wheel]:
    """Keep the wheels and their list; returns the wheels with their digests known."""
    data = []
    known = []
    for wheel in wheels:
        digest = wheel.sha256
        keep_file(wheel.path, digest, reporter)  # a wheel built from an sdist is kept too
        data.append({"name": wheel.name, "version": wheel.version, "filename": wheel.path.name,
                     "sha256": digest, "sdist": wheel.built_from_sdist,
                     **({"local": True} if wheel.local else {})})  # fmt: skip
        known.append(dataclasses.replace(wheel, known_sha256=digest))
    store_json(kind, key, data, reporter)
    return known
