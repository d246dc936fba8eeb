"""What an artifact holds: size by distribution, unzipped and zipped, largest first.

Like ``check``, it never extracts the artifact; it reads nothing but the metadata files (WHEEL,
RECORD), a bounded part of each, and only members ``check`` would inflate too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.parser import HeaderParser
from pathlib import Path
from typing import Any

from .audit import OTHER_FILES, entry_finding, open_artifact, read_headers, wheel_tags
from .bundle import Entry, Reader
from .cache import code_sha256 as code_sha256_of
from .config import MAX_UNZIPPED_SIZE
from .errors import ManifestError, UnreadableError

_MANIFEST_LIMIT = 16 << 20  # hatch-lambda writes a few KB; anything this large is no manifest
_JSON_KINDS = {list: "an array", str: "a string", int: "a number", float: "a number",
               bool: "true or false", type(None): "null"}  # fmt: skip


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest at *path*, None if there is no file; ManifestError if it is not a manifest."""
    if not path.is_file():
        return None
    if path.stat().st_size > _MANIFEST_LIMIT:
        raise ManifestError(f"{path} is {path.stat().st_size:,} bytes, too large to be a manifest")
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ManifestError(f"{path} is not UTF-8 text (byte {exc.start}: {exc.reason})") from exc
    except json.JSONDecodeError as exc:
        raise ManifestError(
            f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from exc
    if not isinstance(data, dict):
        kind = _JSON_KINDS.get(type(data), type(data).__name__)
        raise ManifestError(f"{path} holds {kind}, not the JSON object hatch-lambda writes")
    for key in ("runtime", "architecture", "kind"):
        if key in data and not isinstance(data[key], str):
            raise ManifestError(f"{path} gives {key} {data[key]!r}, which is not a name")
    return data


@dataclass(frozen=True)
class Row:
    distribution: str
    unzipped: int
    zipped: int | None
    files: int


@dataclass(frozen=True)
class Inspection:
    artifact: str
    kind: str
    runtime: str | None
    architecture: str | None
    code_sha256: str | None
    rows: list[Row]
    warnings: list[str] = field(default_factory=list)
    """What could not be read (a manifest, a member), and why."""

    @property
    def unzipped(self) -> int:
        return sum(r.unzipped for r in self.rows)

    @property
    def zipped(self) -> int | None:
        sizes = [r.zipped for r in self.rows]
        return None if any(s is None for s in sizes) else sum(s or 0 for s in sizes)


def _guess_target(
    entries: Mapping[str, Entry], reader: Reader, warnings: list[str]
) -> tuple[str | None, str | None]:
    """Runtime and architecture from the wheel tags, for artifacts without a manifest."""
    pythons: set[str] = set()
    machines: set[str] = set()
    for path, entry in entries.items():
        if not path.endswith(".dist-info/WHEEL"):
            continue
        try:
            text = read_headers(reader, entry)
        except UnreadableError as exc:
            warnings.append(str(entry_finding(path, exc.reason)))
            continue
        for tag in wheel_tags(HeaderParser().parsestr(text).get_all("Tag") or []):
            if m := re.fullmatch(r"cp3(\d+)", tag.abi):
                pythons.add(f"python3.{m.group(1)}")
            if m := re.search(r"(x86_64|aarch64)$", tag.platform):
                machines.add("arm64" if m.group(1) == "aarch64" else "x86_64")
    runtime = pythons.pop() if len(pythons) == 1 else None
    architecture = machines.pop() if len(machines) == 1 else None
    return runtime, architecture


def inspect_artifact(path: Path) -> Inspection:
    """Sizes from the zip's directory, owners from its RECORD files. A damaged or hostile zip is
    inspected all the same: what cannot be read is left out and said in ``warnings``."""
    warnings: list[str] = []
    try:
        meta = (read_manifest(path.with_suffix(".json")) if path.suffix == ".zip" else None) or {}
    except ManifestError as exc:
        warnings.append(f"{exc}: ignored; delete it or rebuild the artifact")
        meta = {}
    code_sha256 = code_sha256_of(path) if path.is_file() else None
    with Reader(max_size=MAX_UNZIPPED_SIZE) as reader:
        opened = open_artifact(path, reader)
        entries = opened.bundle.entries
        warnings += [str(f) for f in opened.findings]
        guessed = _guess_target(entries, reader, warnings)
    unzipped: dict[str, int] = {}
    zipped: dict[str, int] = {}
    files: dict[str, int] = {}
    for name, entry in entries.items():
        label = entry.owner or OTHER_FILES
        unzipped[label] = unzipped.get(label, 0) + entry.size
        files[label] = files.get(label, 0) + 1
        if name in opened.zipped_sizes:
            zipped[label] = zipped.get(label, 0) + opened.zipped_sizes[name]
    rows = sorted(
        (Row(d, unzipped[d], zipped.get(d) if opened.zipped_sizes else None, files[d])
         for d in unzipped),
        key=lambda r: (-r.unzipped, r.distribution),
    )  # fmt: skip
    kind = meta.get("kind") or ("layer" if opened.layer else "function")
    return Inspection(
        str(path),
        kind,
        meta.get("runtime") or guessed[0],
        meta.get("architecture") or guessed[1],
        code_sha256,
        rows,
        list(dict.fromkeys(warnings)),
    )
