"""The prune stage: removes from the install tree what must never reach Lambda."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import pathspec

# Bytecode is never shipped unless compiled for the target on purpose: a wheel's own .pyc files
# were made by some other interpreter.
DEFAULT_EXCLUDES = ("__pycache__/", "*.pyc", "*.pyo")


def prune(root: Path, patterns: Sequence[str] = DEFAULT_EXCLUDES) -> list[str]:
    """Delete paths under *root* matching gitignore-style *patterns*; returns what was removed."""
    spec = pathspec.GitIgnoreSpec.from_lines(patterns)
    removed: list[str] = []
    for path in sorted(root.rglob("*")):
        if not path.exists() and not path.is_symlink():
            continue  # already gone with a removed folder
        rel = path.relative_to(root).as_posix()
        if path.is_dir() and not path.is_symlink():
            if spec.match_file(rel + "/"):
                shutil.rmtree(path)
                removed.append(rel + "/")
        elif spec.match_file(rel):
            path.unlink()
            removed.append(rel)
    return removed
