"""Finds the uv workspace a project belongs to, as uv does, and the local sources uv would use.

uv's rule: the workspace root is the project's own folder when its pyproject.toml has a
``[tool.uv.workspace]`` table, else the nearest folder above with one, provided the project is
one of its ``members`` globs and none of its ``exclude`` globs. Its ``uv.lock`` is the lock of
every member.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import NormalizedName, canonicalize_name

from ..errors import RequirementsError
from . import LocalSource
from ._local import at_origin

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def _pyproject(folder: Path) -> dict[str, Any] | None:
    path = folder / "pyproject.toml"
    try:
        with path.open("rb") as f:
            table: dict[str, Any] = tomllib.load(f)
            return table
    except FileNotFoundError:
        return None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RequirementsError(
            f"cannot read {path} while looking for the uv workspace: {exc}; fix that file"
        ) from exc


def _uv(table: Mapping[str, Any]) -> dict[str, Any]:
    tool = table.get("tool")
    uv = tool.get("uv") if isinstance(tool, dict) else None
    return uv if isinstance(uv, dict) else {}


def _globs(root: Path, patterns: object, where: str) -> set[Path]:
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise RequirementsError(
            f'{where} must be an array of glob strings (like ["packages/*"]); fix '
            f"{root / 'pyproject.toml'}"
        )
    found: set[Path] = set()
    for pattern in patterns:
        found.update(Path(os.path.normpath(m)) for m in root.glob(pattern) if m.is_dir())
    return found


@dataclass(frozen=True)
class Workspace:
    root: Path
    members: Mapping[NormalizedName, Path]
    """Each member's folder, by its ``[project] name``."""
    sources: Mapping[str, Any]
    """The root's ``[tool.uv.sources]``: every member inherits them."""

    @property
    def lock(self) -> Path:
        return self.root / "uv.lock"


def _workspace_at(root: Path, table: dict[str, Any], project_root: Path) -> Workspace | None:
    spec = _uv(table).get("workspace")
    if not isinstance(spec, dict):
        return None
    where = "[tool.uv.workspace]"
    folders = _globs(root, spec.get("members", []), f"{where} members")
    folders -= _globs(root, spec.get("exclude", []), f"{where} exclude")
    folders.add(root)
    if project_root not in folders:
        return None
    members: dict[NormalizedName, Path] = {}
    for folder in sorted(folders):
        data = _pyproject(folder)
        project = data.get("project") if data else None
        name = project.get("name") if isinstance(project, dict) else None
        if isinstance(name, str):
            members[canonicalize_name(name)] = folder
    sources = _uv(table).get("sources")
    return Workspace(root, members, sources if isinstance(sources, dict) else {})


def find_workspace(project_root: Path) -> Workspace | None:
    """The uv workspace *project_root* is a member of (or the root of), if any."""
    project_root = Path(os.path.normpath(project_root.resolve()))
    for folder in (project_root, *project_root.parents):
        table = _pyproject(folder)
        if table is None or not isinstance(_uv(table).get("workspace"), dict):
            continue
        # The nearest workspace decides, as for uv: a project it does not include is on its own.
        return _workspace_at(folder, table, project_root)
    return None


def uv_sources(
    project_root: Path, workspace: Workspace | None
) -> dict[NormalizedName, LocalSource]:
    """The local sources ``[tool.uv.sources]`` gives the project (its own table over the
    workspace root's): workspace members, ``path`` and ``git`` sources."""
    table = _pyproject(project_root) or {}
    own = _uv(table).get("sources")
    declared: list[tuple[str, Any, Path]] = []
    if workspace is not None:
        declared += [(n, v, workspace.root) for n, v in workspace.sources.items()]
    if isinstance(own, dict):
        declared += [(n, v, project_root) for n, v in own.items()]
    found: dict[NormalizedName, LocalSource] = {}
    for raw_name, value, base in declared:
        name = canonicalize_name(raw_name)
        where = f"[tool.uv.sources] {raw_name} of {base / 'pyproject.toml'}"
        entries = value if isinstance(value, list) else [value]
        for entry in entries:
            source = (
                _source(name, entry, base, workspace, where) if isinstance(entry, dict) else None
            )
            if source is not None:
                found[name] = source
                break
        else:
            found.pop(name, None)  # the project's own table overrides the root's
    return found


def _source(
    name: NormalizedName, entry: dict[str, Any], base: Path, workspace: Workspace | None,
    where: str,
) -> LocalSource | None:  # fmt: skip
    editable = entry.get("editable") is True
    if entry.get("workspace") is True:
        folder = workspace.members.get(name) if workspace else None
        if folder is None:
            raise RequirementsError(
                f"{where} says it is a workspace member, and no member of "
                f"{'the workspace at ' + str(workspace.root) if workspace else 'a workspace'} is "
                f"named {name}; add its folder to [tool.uv.workspace] members"
            )
        return LocalSource(str(folder), f"uv workspace member {folder.name}", name, editable)
    if isinstance(entry.get("path"), str):
        path = at_origin(base, entry["path"])
        if not path.exists():
            raise RequirementsError(f"{where}: the path {entry['path']} is not there ({path})")
        return LocalSource(str(path), where, name, editable)
    if isinstance(entry.get("git"), str):
        rev = next(
            (entry[k] for k in ("rev", "tag", "branch") if isinstance(entry.get(k), str)), ""
        )
        url = f"git+{entry['git']}" + (f"@{rev}" if rev else "")
        if isinstance(entry.get("subdirectory"), str):
            url += f"#subdirectory={entry['subdirectory']}"
        return LocalSource(url, where, name)
    return None
