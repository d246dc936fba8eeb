"""Whether ``poetry.lock`` still matches ``pyproject.toml``, by the content hash Poetry records.

Poetry writes ``metadata.content-hash``, a sha256 over the tables of pyproject.toml that decide
what gets locked, and refuses to install from a lock whose hash no longer matches. The hash is
computed here, the way Poetry 2 computes it, rather than by running ``poetry check --lock``:
Poetry is seldom installed where a wheel is built (hatch and ``python -m build`` build in an
isolated environment), and computing it needs neither a subprocess nor the network.

What Poetry hashes, as ``json.dumps(..., sort_keys=True)`` of a table:

- ``project``: its ``requires-python``, ``dependencies`` and ``optional-dependencies`` that are set;
- ``dependency-groups``, when it is not empty (Poetry 2.3 and later);
- ``tool.poetry``: its ``dependencies``, ``source``, ``extras``, ``dev-dependencies`` and
  ``group`` that are set.

A project with neither ``project`` nor ``dependency-groups`` content hashes the ``tool.poetry``
part alone, at the top, with its first four keys present as null when they are unset. Poetry 1
(every lock-version before 2.1) reads neither table and always hashes that way.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from ..errors import RequirementsError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_PROJECT_KEYS = ("requires-python", "dependencies", "optional-dependencies")
_LEGACY_KEYS = ("dependencies", "source", "extras", "dev-dependencies")
_POETRY_KEYS = (*_LEGACY_KEYS, "group")
_WRITER = re.compile(r"Poetry ([^ ]+)")
# Poetry 2.3 added [dependency-groups] to the hash; a lock written before is compared without it.
_GROUPS_HASHED_FROM = Version("2.3")
# A Poetry of another major version may hash differently: its locks are not judged here.
_KNOWN_MAJORS = (1, 2)


def content_hash(pyproject: Mapping[str, Any], *, with_groups: bool = True) -> str:
    project_table = pyproject.get("project", {})
    project = {k: project_table[k] for k in _PROJECT_KEYS if project_table.get(k) is not None}
    groups = pyproject.get("dependency-groups", {}) if with_groups else {}
    poetry_table = pyproject.get("tool", {}).get("poetry", {})
    poetry_only = not project and not groups
    poetry = {
        k: poetry_table.get(k)
        for k in _POETRY_KEYS
        if poetry_table.get(k) is not None or (poetry_only and k in _LEGACY_KEYS)
    }
    content: dict[str, Any] = {}
    if project:
        content["project"] = project
    if groups:
        content["dependency-groups"] = groups
    if content:
        content["tool"] = {"poetry": poetry}
    else:
        content = poetry
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def poetry_writer(lock: Path) -> Version | None:
    """The Poetry version named in the lock's first line, if any."""
    with lock.open(encoding="utf-8", errors="replace") as f:
        found = _WRITER.search(f.readline())
    try:
        return Version(found.group(1)) if found else None
    except InvalidVersion:
        return None


def check_content_hash(lock: Path, recorded: object, *, legacy: bool = False) -> None:
    """Raise ``RequirementsError`` when *lock*'s recorded content hash does not match the
    pyproject.toml beside it; *legacy* for a lock in a format only Poetry 1 writes. Nothing is
    said when there is no pyproject.toml there, no hash, or the lock was written by a Poetry whose
    hashing is unknown here: the closure audit still catches a dependency the lock lacks."""
    pyproject = lock.parent / "pyproject.toml"
    if not isinstance(recorded, str) or not pyproject.is_file():
        return
    writer = poetry_writer(lock)
    if writer is not None and writer.major not in _KNOWN_MAJORS:
        return
    legacy = legacy or (writer is not None and writer.major == 1)
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        if legacy:
            data = {"tool": {"poetry": data.get("tool", {}).get("poetry", {})}}
        expected = content_hash(data, with_groups=writer is None or writer >= _GROUPS_HASHED_FROM)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, AttributeError, TypeError):
        return  # a pyproject.toml that cannot be read is hatchling's to report, not this check's
    if recorded != expected:
        raise RequirementsError(
            f"{lock.name} is out of date: {pyproject.name} changed since it was locked (the lock's "
            f"content-hash is {recorded[:12]}..., {pyproject.name} now hashes to {expected[:12]}...), "
            f"so it may lack a dependency or hold one no longer asked for. What to do: run "
            f"`poetry lock` and commit the new {lock.name}."
        )
