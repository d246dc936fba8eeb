"""Rule ``size``: a function and its layers fit Lambda's 250 MB unzipped limit."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path

from packaging.utils import canonicalize_name

from . import Finding

_TABLE_ROWS = 10


def distribution_sizes(site_root: Path) -> dict[str, int]:
    """Unzipped bytes by distribution (``name version``) of the files still under *site_root*;
    what no RECORD lists (bytecode compiled here, for one) is counted as ``(other files)``."""
    sizes: dict[str, int] = {}
    counted: set[Path] = set()
    for record in sorted(site_root.glob("*.dist-info/RECORD")):
        name, _, version = record.parent.name[: -len(".dist-info")].partition("-")
        label = f"{canonicalize_name(name)} {version}"
        with record.open(newline="", encoding="utf-8") as f:
            for row in csv.reader(f):
                if not row:
                    continue
                path = (site_root / row[0]).resolve()
                if path in counted or not path.is_file():
                    continue
                counted.add(path)
                sizes[label] = sizes.get(label, 0) + path.stat().st_size
    other = sum(
        p.stat().st_size for p in site_root.rglob("*") if p.is_file() and p.resolve() not in counted
    )
    if other:
        sizes["(other files)"] = other
    return sizes


def check_size(
    artifact: str,
    sizes: Mapping[str, Mapping[str, int]],
    *,
    limit: int,
) -> list[Finding]:
    """*sizes*: for the artifact and each layer it names, bytes by distribution."""
    total = sum(sum(s.values()) for s in sizes.values())
    if total <= limit:
        return []
    rows = sorted(
        ((size, dist, where) for where, by_dist in sizes.items() for dist, size in by_dist.items()),
        reverse=True,
    )[:_TABLE_ROWS]
    rows = [r for r in rows if r[0] >= 50_000] or rows[:1]  # what is worth cutting
    table = "\n".join(
        f"      {size / 1e6:9.1f} MB  {dist}  ({where})" for size, dist, where in rows
    )
    parts = " + ".join(f"{where} {sum(s.values()):,}" for where, s in sizes.items())
    return [
        Finding(
            "size",
            artifact,
            f"unzipped, {parts} = {total:,} bytes, over the limit of {limit:,} "
            "(Lambda's 250 MB for a function and all its layers). Largest distributions:\n"
            f"{table}\n    Cut with exclude, slim = true, exclude-runtime-provided = true, or by "
            "moving dependencies into a layer; max-unzipped-size changes the limit.",
        )
    ]
