"""Chooses where the requirements come from and reads them with the right reader."""

from __future__ import annotations

import contextlib
import dataclasses
import sys
from collections.abc import Collection
from pathlib import Path
from typing import Any

from dependency_groups import resolve as resolve_groups
from packaging.markers import Environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .._markers import applies
from .._report import Reporter
from ..errors import RequirementsError
from . import LocalSource, LockedSet, RequirementSet
from ._local import from_requirement, staged_copy, with_extras
from ._pipfile import read_pipfile_lock
from ._poetry import read_poetry_lock
from ._project import from_project_wheel, project_name
from ._pylock import read_pylock
from ._requirements_txt import read_requirements_txt
from ._uvlock import read_uv_lock
from ._workspace import Workspace, find_workspace, uv_sources

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# Looked for at the project root in this order when `requirements = "auto"`: the standard lock
# first, then the tools' own locks (most specific first), and a plain requirements file last,
# since it is often an export of one of the others.
LOCKFILES = ("pylock.toml", "uv.lock", "poetry.lock", "Pipfile.lock", "requirements.txt")


def _kind(path: Path) -> str:
    name = path.name
    if name == "pylock.toml" or (name.startswith("pylock.") and name.endswith(".toml")):
        return "pylock"
    if name == "uv.lock":
        return "uv"
    if name == "poetry.lock":
        return "poetry"
    if name == "Pipfile.lock":
        return "pipfile"
    return "requirements"


def _project_groups(
    project_root: Path, groups: Collection[str], environment: Environment
) -> list[Requirement]:
    if not groups:
        return []
    try:
        with (project_root / "pyproject.toml").open("rb") as f:
            table: dict[str, Any] = tomllib.load(f).get("dependency-groups", {})
    except OSError as exc:
        raise RequirementsError(f"cannot read pyproject.toml for dependency groups: {exc}") from exc
    unknown = [g for g in groups if g not in table]
    if unknown:
        raise RequirementsError(
            f"dependency groups {unknown!r} are not in [dependency-groups] of pyproject.toml; "
            f"it has {sorted(table) or 'none'}"
        )
    try:
        lines = resolve_groups(table, *groups)
    except (ValueError, TypeError, LookupError) as exc:
        raise RequirementsError(f"[dependency-groups] of pyproject.toml: {exc}") from exc
    where = "[dependency-groups] of pyproject.toml"
    return [r for r in map(Requirement, lines) if applies(r.marker, environment, where=where)]


def load_requirements(
    choice: str,
    *,
    project_root: Path,
    project_wheel: Path,
    environment: Environment,
    extras: Collection[str],
    groups: Collection[str],
    poetry_include_hashes: bool,
    poetry_without_urls: bool,
    reporter: Reporter,
    requirements_mode: str = "resolve",
    origin: Path | None = None,
) -> RequirementSet | LockedSet:
    """Read the requirements named by *choice* (``auto``, ``project``, a lockfile or a path).

    A member of a uv workspace has the workspace root's ``uv.lock`` where a project has its own
    (after ``pylock.toml``, before the others); read for this member alone. *origin*: the
    project's own folder, when *project_root* is a copy of it that before-bundling commands
    worked in; the workspace and the paths that lead out of the project are found from there.
    """
    member = origin or project_root
    with staged_copy(project_root, origin) if origin else contextlib.nullcontext():
        workspace = find_workspace(member)
        shared_lock = (
            workspace.lock
            if workspace and workspace.root != member.resolve() and workspace.lock.is_file()
            else None
        )
        if choice == "auto":
            found = next(
                (project_root / n for n in LOCKFILES if (project_root / n).is_file()), None
            )
            if shared_lock and (found is None or found.name != "pylock.toml"):
                found = shared_lock
            shared = found is not None and found == shared_lock
            choice = str(found) if shared else found.name if found else "project"
            reporter.debug(f'requirements = "auto": using {choice}')
        elif choice == "uv.lock" and shared_lock and not (project_root / choice).is_file():
            choice = str(shared_lock)
        if choice == "project":
            return _from_project(
                project_wheel, project_root=project_root, workspace=workspace, extras=extras,
                groups=groups, environment=environment,
            )  # fmt: skip

        path = Path(choice) if Path(choice).is_absolute() else project_root / choice
        if not path.is_file():
            raise RequirementsError(
                f"requirements = {choice!r}, but {path} does not exist; "
                f'use "project", "auto" or a path to one of {", ".join(LOCKFILES)}'
            )
        project = project_name(project_wheel)
        kind = _kind(path)
        if kind == "pylock":
            return read_pylock(
                path, environment=environment, extras=extras, groups=groups or None, project=project
            )
        if kind == "uv":
            in_workspace = member if shared_lock and path == shared_lock else None
            locked = read_uv_lock(
                path, environment=environment, extras=extras, groups=groups, project=project,
                reporter=reporter, member=in_workspace,
            )  # fmt: skip
            if in_workspace is not None and workspace is not None:
                return dataclasses.replace(
                    locked, source=f"uv.lock of the workspace at {workspace.root}"
                )
            return locked
        if kind == "poetry":
            return read_poetry_lock(
                path, environment=environment, extras=extras, groups=groups,
                include_hashes=poetry_include_hashes, without_urls=poetry_without_urls,
            )  # fmt: skip
        if kind == "pipfile":
            if extras:
                reporter.warning(f"{path.name} records no extras; {_ignored('extra', extras)}")
            return read_pipfile_lock(path, environment=environment, groups=groups, project=project)
        if groups:
            reporter.warning(f"{path.name} has no groups; {_ignored('group', groups)}")
        return read_requirements_txt(
            path, environment=environment, project=canonicalize_name(project),
            strict=requirements_mode == "lock", reporter=reporter,
        )  # fmt: skip


def _from_project(
    wheel: Path,
    *,
    project_root: Path,
    workspace: Workspace | None,
    extras: Collection[str],
    groups: Collection[str],
    environment: Environment,
) -> RequirementSet:
    """The wheel's requirements (and groups); those a direct reference to a folder, a file or a
    VCS URL names, or ``[tool.uv.sources]`` gives a workspace member, a path or a git source,
    are local sources: built here, never looked up on an index."""
    reqs = from_project_wheel(wheel, extras=extras, environment=environment)
    extra = _project_groups(project_root, groups, environment)
    for r in extra:
        r.marker = None
    merged = {str(r): r for r in (*reqs.requirements, *extra)}
    sources = uv_sources(project_root, workspace)
    kept: list[Requirement] = []
    local: dict[str, LocalSource] = {}
    for key in sorted(merged):
        req = merged[key]
        name = canonicalize_name(req.name)
        where = f"the requirement {key!r}"
        found = from_requirement(req, where, base=project_root) or sources.get(name)
        if found is not None:
            known = local.setdefault(name, found)
            local[name] = with_extras(known, req.extras)  # lib and lib[aws]: lib[aws]
        else:
            kept.append(req)
    source = reqs.source + (f" and groups {', '.join(groups)}" if extra else "")
    return RequirementSet(source=source, requirements=tuple(kept), local=tuple(local.values()))


def _ignored(what: str, names: Collection[str]) -> str:
    listed = ", ".join(repr(n) for n in names)
    return (
        f"the {what} {listed} is ignored"
        if len(names) == 1
        else f"the {what}s {listed} are ignored"
    )
