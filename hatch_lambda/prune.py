"""The prune stage: leaves out what must not, or need not, reach Lambda: whole distributions
before install (provided by the runtime, already in a layer), and files after it."""

from __future__ import annotations

import shutil
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path

import pathspec
from packaging.markers import Environment
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

# Bytecode is never shipped unless compiled for the target on purpose: a wheel's own .pyc files
# were made by some other interpreter. The rest are folders no bundle should carry.
DEFAULT_EXCLUDES = ("__pycache__/", "*.pyc", "*.pyo", ".venv/", ".git/")

# `slim = true`: what does not run. Folders named tests/test inside a package (never at the top,
# where such a name would be a package of its own), type stubs, and C/Cython sources that some
# wheels carry. `*.dist-info/` is never touched, so importlib.metadata keeps working.
SLIM_EXCLUDES = ("/*/**/tests/", "/*/**/test/", "*.pyi", "*.c", "*.h", "*.pyx", "*.pxd")

# What the Lambda Python runtimes ship (at a version AWS chooses): `exclude-runtime-provided`.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "jmespath"})


def project_test_excludes(top_levels: Iterable[str]) -> list[str]:
    """The project's own tests, which only its developers run."""
    patterns = []
    for top in sorted(top_levels):
        patterns += [f"/{top}/**/tests/", f"/{top}/**/test/", f"/{top}/**/test_*.py",
                     f"/{top}/**/*_test.py", f"/{top}/**/conftest.py"]  # fmt: skip
    return patterns


def prune(root: Path, patterns: Sequence[str] = DEFAULT_EXCLUDES) -> list[str]:
    """Delete paths under *root* matching gitignore-style *patterns*; returns what was removed."""
    spec = pathspec.GitIgnoreSpec.from_lines(patterns)
    removed: list[str] = []
    for path in sorted(root.rglob("*")):
        if not path.exists() and not path.is_symlink():
            continue  # already gone with a removed folder
        rel = path.relative_to(root).as_posix()
        if rel.split("/", 1)[0].endswith(".dist-info"):
            continue  # metadata stays whole, whatever the patterns say
        if path.is_dir() and not path.is_symlink():
            if spec.match_file(rel + "/"):
                shutil.rmtree(path)
                removed.append(rel + "/")
        elif spec.match_file(rel):
            path.unlink()
            removed.append(rel)
    return removed


def unneeded_distributions(
    requires: Mapping[NormalizedName, Sequence[str]],
    roots: Collection[str],
    environment: Environment,
    *,
    drop: Collection[str],
) -> set[NormalizedName]:
    """*drop*, and every distribution that only dropped ones require.

    *requires* maps each candidate distribution to its ``Requires-Dist``; *roots* are the names
    the project requires directly, which stay unless dropped themselves. A requirement counts if
    its marker holds on the target for any extra, so in doubt a distribution stays.
    """
    required_by: dict[NormalizedName, set[NormalizedName]] = {name: set() for name in requires}
    for name, lines in requires.items():
        for line in lines:
            dep = Requirement(line)
            target = canonicalize_name(dep.name)
            if target not in required_by:
                continue
            extras = {""} | {m for m in str(dep.marker or "").split('"')[1::2]}
            if dep.marker is None or any(
                dep.marker.evaluate({**environment, "extra": e})  # type: ignore[dict-item]
                for e in extras
            ):
                required_by[target].add(name)
    keep = {canonicalize_name(r) for r in roots}
    dropped = {canonicalize_name(d) for d in drop} & set(requires)
    changed = True
    while changed:
        changed = False
        for name, users in required_by.items():
            if name in dropped or name in keep or not users:
                continue
            if users <= dropped:
                dropped.add(name)
                changed = True
    return dropped
