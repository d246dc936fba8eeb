"""Reads ``uv.lock`` by exporting it with uv itself to a PEP 751 lock (uv.lock has no spec)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Collection
from pathlib import Path

from packaging.markers import Environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .._report import Reporter
from .._scratch import system_folder
from .._subprocess import run
from ..errors import RequirementsError, ToolError
from . import LockedSet
from ._pylock import read_pylock

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# How `uv lock --check --offline` says a lock no longer satisfies pyproject.toml: outright when
# its cache lets it lock again, and otherwise by failing to resolve the project's requirements,
# which it only tries once the lock has fallen short. A project whose metadata must be built
# (dynamic dependencies) fails offline on its build requirements instead: that says nothing.
_STALE = ("needs to be updated", "your project depends on")
_UNDECIDED = ("build-system", "Failed to build")
# uv's own index settings from the environment: a lock made against one index and checked
# against another counts as stale to uv, which is not what this check is for.
_INDEX_VARIABLES = (
    "UV_INDEX", "UV_DEFAULT_INDEX", "UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_FIND_LINKS",
)  # fmt: skip


def check_up_to_date(path: Path, uv: str, reporter: Reporter) -> None:
    """Raise ``RequirementsError`` when uv says *path* no longer matches pyproject.toml.

    ``uv export --frozen`` exports whatever the lock holds, so a dependency added to
    pyproject.toml and never locked would otherwise surface only as a closure finding after
    everything was downloaded. uv validates a lock that is up to date without the network;
    ``--offline`` keeps it from resolving again when it is not, and ``--python`` spares it the
    search for an interpreter. When uv cannot tell (an interpreter outside requires-python, a
    project whose metadata must be built), the lock is read as it is, as before.
    """
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    for name in _INDEX_VARIABLES:
        env.pop(name, None)
    argv = [uv, "lock", "--check", "--offline", "--python", sys.executable, "--no-progress"]
    reporter.debug(f"running: {' '.join(argv)}", level=2)
    try:
        proc = subprocess.run(
            argv, cwd=path.parent, env=env, capture_output=True, text=True, encoding="utf-8",
            errors="replace", timeout=120, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        reporter.debug(f"cannot check whether {path.name} is up to date: {exc}")
        return
    if proc.returncode == 0:
        return
    output = proc.stderr + proc.stdout
    if any(s in output for s in _STALE) and not any(s in output for s in _UNDECIDED):
        missing = _unlocked(path)
        raise RequirementsError(
            f"{path.name} is out of date: pyproject.toml changed since it was locked "
            "(`uv lock --check` finds that the lock no longer satisfies it)"
            + (f"; pyproject.toml asks for {', '.join(missing)}, which it does not hold" if missing
               else "")
            + f". What to do: run `uv lock` and commit the new {path.name}."
        )  # fmt: skip
    said = next((line.strip() for line in output.splitlines() if line.strip()), "")
    reporter.debug(
        f"could not tell whether {path.name} is up to date ({said}); reading it as it is"
    )


def _unlocked(path: Path) -> list[str]:
    """Names pyproject.toml requires (dependencies, extras, groups) that *path* holds no
    package of: what a message can name when the lock is out of date."""
    try:
        lock = tomllib.loads(path.read_text(encoding="utf-8"))
        pyproject = tomllib.loads((path.parent / "pyproject.toml").read_text(encoding="utf-8"))
        locked = {canonicalize_name(p["name"]) for p in lock.get("package", [])}
        project = pyproject.get("project", {})
        lines = [
            *project.get("dependencies", []),
            *(r for rs in project.get("optional-dependencies", {}).values() for r in rs),
            *(r for rs in pyproject.get("dependency-groups", {}).values() for r in rs),
        ]
        names = {canonicalize_name(Requirement(r).name) for r in lines if isinstance(r, str)}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return []  # only for the message: the lock is out of date either way
    return sorted(names - locked)


def read_uv_lock(
    path: Path,
    *,
    environment: Environment,
    extras: Collection[str],
    groups: Collection[str],
    project: str,
    reporter: Reporter,
    member: Path | None = None,
) -> LockedSet:
    """The pins of *path* for *project*; with *member* (the project's folder in the workspace
    *path* locks), only what that member needs: its dependencies, extras and groups, with the
    other members it uses as local sources."""
    from ..wheelhouse._uv import find_uv

    uv = find_uv()
    if uv is None:
        raise RequirementsError(
            f"reading {path} needs uv; install it in the build environment (pip install uv)"
        )
    check_up_to_date(path, uv, reporter)
    with system_folder("uvlock-") as tmp:
        out = tmp / "pylock.toml"
        argv = [
            uv, "export", "--frozen", "--format", "pylock.toml", "--output-file", str(out),
            "--no-emit-project", "--no-editable", "--no-default-groups",
            "--no-header", "--quiet", "--no-progress",
        ]  # fmt: skip
        if member is not None:
            argv += ["--package", project]
        for extra in extras:
            argv += ["--extra", extra]
        for group in groups:
            argv += ["--group", group]
        try:
            run(
                argv, what=f"exporting {path.name} with uv", reporter=reporter,
                cwd=member or path.parent,
                env={"UV_PYTHON_DOWNLOADS": "never"},
            )  # fmt: skip
        except ToolError as exc:
            raise RequirementsError(
                f"{exc.message}\n  What to do: run `uv lock` so that {path} matches pyproject.toml "
                "(or restore it from version control if uv cannot parse it), and check the extras "
                "and groups asked for."
            ) from exc
        return read_pylock(
            out, environment=environment, extras=extras, groups=groups, project=project,
            source=path.name,
        )  # fmt: skip
