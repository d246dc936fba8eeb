"""Which distribution installed a file: the RECORD files of an install tree, read once."""

from __future__ import annotations

import csv
import posixpath
from pathlib import Path


def owners(root: Path) -> dict[str, tuple[str, str]]:
    """Install-tree path -> (name, version) of the distribution whose RECORD lists it."""
    found: dict[str, tuple[str, str]] = {}
    for record in sorted(root.glob("*.dist-info/RECORD")):
        # `numpy-2.2.6.dist-info`: the name runs to the first "-", the version from there.
        name, _, version = record.parent.name[: -len(".dist-info")].partition("-")
        with record.open(encoding="utf-8", errors="replace", newline="") as stream:
            for row in csv.reader(stream):
                if row and row[0]:
                    found.setdefault(posixpath.normpath(row[0]), (name, version))
    return found
