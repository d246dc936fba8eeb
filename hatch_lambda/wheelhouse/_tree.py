"""The digest of a source folder: the files its wheel could hold, so that editing the library
changes it and a build, a cache or a checkout of version control does not."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pathspec

from ..cache import sha256_file

# Folders no build backend puts into a wheel: version control, build output, caches, virtual
# environments. `build/` and `*.egg-info` are written by setuptools into the source folder itself.
_SKIPPED = frozenset({
    ".git", ".hg", ".svn", ".bzr", "__pycache__", "build", "dist", "dist-lambda", ".venv",
    "venv", ".tox", ".nox", ".eggs", ".mypy_cache", ".pytest_cache", ".ruff_cache",
    "node_modules",
})  # fmt: skip


def _ignored_here(folder: Path) -> pathspec.GitIgnoreSpec | None:
    try:
        lines = (folder / ".gitignore").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return pathspec.GitIgnoreSpec.from_lines(lines)


def source_files(root: Path) -> Iterator[tuple[str, Path]]:
    """Every file below *root* a wheel could hold, by its path relative to *root*, in a stable
    order: the folders above and what the ``.gitignore`` files of *root* and its subfolders
    ignore are left out."""
    specs: list[tuple[str, pathspec.GitIgnoreSpec]] = []

    def ignored(rel: str, is_dir: bool) -> bool:
        for base, spec in specs:
            if base and not rel.startswith(base + "/"):
                continue
            inner = rel[len(base) + 1 :] if base else rel
            if spec.match_file(inner + ("/" if is_dir else "")):
                return True
        return False

    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        rel_here = here.relative_to(root).as_posix()
        rel_here = "" if rel_here == "." else rel_here
        spec = _ignored_here(here)
        if spec is not None:
            specs.append((rel_here, spec))

        def rel(name: str, base: str = rel_here) -> str:
            return f"{base}/{name}" if base else name

        dirs[:] = sorted(
            d for d in dirs
            if d not in _SKIPPED and not d.endswith(".egg-info") and not ignored(rel(d), True)
        )  # fmt: skip
        for name in sorted(files):
            if not name.endswith((".pyc", ".pyo")) and not ignored(rel(name), False):
                yield rel(name), here / name


def source_digest(root: Path) -> str:
    """sha256 over the path, content and executable bit of every file of ``source_files``."""
    digest = hashlib.sha256()
    for rel, path in source_files(root):
        if path.is_symlink() and not path.exists():
            kind, content = "link", str(path.readlink())
        else:
            kind = "x" if os.access(path, os.X_OK) else "f"
            content = sha256_file(path)
        digest.update(f"{rel}\0{kind}\0{content}\n".encode())
    return digest.hexdigest()


def copy_source(root: Path, destination: Path) -> Path:
    """The files of ``source_files`` copied below *destination*, for a build elsewhere (in a
    container) that must see what the digest saw, and no more."""
    for rel, path in source_files(root):
        target = destination / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink() and not path.exists():
            continue  # a dangling link: nothing a build could read
        shutil.copy2(path, target)
    destination.mkdir(parents=True, exist_ok=True)
    return destination
