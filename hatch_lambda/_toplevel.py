"""Which top-level names ``import`` finds among files, and which of them the target's standard
library already has: read by the selection stage (a backport the runtime does not need is left
out) and by the audit (``imports``, ``stdlib-shadow``). Only file names are looked at."""

from __future__ import annotations

import zipfile
from collections.abc import Collection, Iterable
from pathlib import Path

from ._stdlib import stdlib_modules
from .cache import cache_key, load_json, store_json


def top_level_names(paths: Iterable[str]) -> set[str]:
    """The names ``import`` finds in a folder holding *paths* (relative to it): packages (and
    namespace packages), modules, sourceless ``.pyc`` and extension modules."""
    names = set()
    for path in paths:
        head, sep, _ = path.partition("/")
        if sep:
            name = head
        elif head.endswith((".py", ".pyc")):
            name = head.rsplit(".", 1)[0]
        elif head.endswith(".so"):
            name = head.split(".", 1)[0]
        else:
            continue
        if name.isidentifier():
            names.add(name)
    return names


def imported_paths(paths: Iterable[str]) -> list[str]:
    """*paths* without a wheel's ``.dist-info`` and ``.data`` folders."""
    return [p for p in paths if not p.split("/", 1)[0].endswith((".dist-info", ".data"))]


def stdlib_backport(paths: Iterable[str], versions: Collection[str]) -> frozenset[str]:
    """The modules a distribution of *paths* consists of when every one of them is in the
    standard library of each Python in *versions* (``3.12``): a backport those Pythons do not
    need, and which would hide their own module. Empty for anything else."""
    return _backport(top_level_names(imported_paths(paths)), versions)


def _backport(names: Collection[str], versions: Collection[str]) -> frozenset[str]:
    if not names or not versions:
        return frozenset()
    if all(set(names) <= stdlib_modules(v) for v in versions):
        return frozenset(names)
    return frozenset()


def wheel_stdlib_backport(
    wheel: Path, versions: Collection[str], *, sha256: str | None = None
) -> frozenset[str]:
    """``stdlib_backport`` of a wheel's members; empty when the wheel cannot be read (the
    stages that read it next say why). With the wheel's *sha256*, its top-level names are kept
    by it: every build selects, and a warm one reads no wheel otherwise."""
    key = cache_key("top-level", sha256) if sha256 else None
    names = load_json("top-level", key) if key else None
    if not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        try:
            with zipfile.ZipFile(wheel) as zf:
                names = sorted(top_level_names(imported_paths(zf.namelist())))
        except (OSError, zipfile.BadZipFile):
            return frozenset()
        if key:
            store_json("top-level", key, names)
    return _backport(names, versions)


_BACKPORT_REASON = " (the standard library of "


def backport_left_out(name: str, version: str, runtime: str, modules: Iterable[str]) -> str:
    """The selection stage's ``left out`` line for a backport (kept in the manifest)."""
    return (
        f"{name} {version}{_BACKPORT_REASON}{runtime} provides {', '.join(sorted(modules))}; "
        "bundled, it would hide that module)"
    )


def backports_left_out(lines: Iterable[str]) -> dict[str, str | None]:
    """The distributions that ``left out`` lines say the standard library stands in for, each
    as counting for any version (a requirement on it is met on the target)."""
    return {line.split(" ", 1)[0]: None for line in lines if _BACKPORT_REASON in line}
