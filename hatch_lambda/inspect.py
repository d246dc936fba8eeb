"""What an artifact holds: size by distribution, unzipped and zipped, largest first."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path

from packaging.tags import parse_tag
from packaging.utils import canonicalize_name

from .audit._artifact import open_artifact
from .audit._owners import owners


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

    @property
    def unzipped(self) -> int:
        return sum(r.unzipped for r in self.rows)

    @property
    def zipped(self) -> int | None:
        sizes = [r.zipped for r in self.rows]
        return None if any(s is None for s in sizes) else sum(s or 0 for s in sizes)


def _guess_target(sites: list[Path]) -> tuple[str | None, str | None]:
    """Runtime and architecture from the wheel tags, for artifacts without a manifest."""
    pythons: set[str] = set()
    machines: set[str] = set()
    for site in sites:
        for wheel in site.glob("*.dist-info/WHEEL"):
            for text in (
                HeaderParser().parsestr(wheel.read_text(errors="replace")).get_all("Tag") or []
            ):
                for tag in parse_tag(text):
                    if m := re.fullmatch(r"cp3(\d+)", tag.abi):
                        pythons.add(f"python3.{m.group(1)}")
                    if m := re.search(r"(x86_64|aarch64)$", tag.platform):
                        machines.add("arm64" if m.group(1) == "aarch64" else "x86_64")
    runtime = pythons.pop() if len(pythons) == 1 else None
    architecture = machines.pop() if len(machines) == 1 else None
    return runtime, architecture


def inspect_artifact(path: Path) -> Inspection:
    manifest = path.with_suffix(".json") if path.suffix == ".zip" else None
    meta = json.loads(manifest.read_text()) if manifest and manifest.is_file() else {}
    code_sha256 = None
    if path.is_file():
        digest = hashlib.sha256(path.read_bytes()).digest()
        code_sha256 = base64.b64encode(digest).decode("ascii")
    with open_artifact(path) as opened:
        runtime = meta.get("runtime")
        sites = (
            [p for p in opened.root.glob("python/lib/python3.*/site-packages")]
            + [opened.root / "python"]
            if opened.layer
            else [opened.root]
        )
        guessed = _guess_target([s for s in sites if s.is_dir()])
        unzipped: dict[str, int] = {}
        zipped: dict[str, int] = {}
        files: dict[str, int] = {}
        for site in sites:
            if not site.is_dir():
                continue
            by_path = owners(site)
            prefix = site.relative_to(opened.root).as_posix()
            for file in site.rglob("*"):
                if not file.is_file():
                    continue
                rel = file.relative_to(site).as_posix()
                if opened.layer and site.name == "python" and rel.startswith("lib/python3"):
                    continue  # counted with its own site folder
                owner = by_path.get(rel)
                label = f"{canonicalize_name(owner[0])} {owner[1]}" if owner else "(other files)"
                unzipped[label] = unzipped.get(label, 0) + file.stat().st_size
                files[label] = files.get(label, 0) + 1
                entry = rel if prefix == "." else f"{prefix}/{rel}"
                if entry in opened.zipped_sizes:
                    zipped[label] = zipped.get(label, 0) + opened.zipped_sizes[entry]
        rows = sorted(
            (
                Row(d, unzipped[d], zipped.get(d) if opened.zipped_sizes else None, files[d])
                for d in unzipped
            ),
            key=lambda r: (-r.unzipped, r.distribution),
        )
        kind = meta.get("kind") or ("layer" if opened.layer else "function")
    return Inspection(
        str(path),
        kind,
        runtime or guessed[0],
        meta.get("architecture") or guessed[1],
        code_sha256,
        rows,
    )
