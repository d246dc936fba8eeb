"""Reads ``uv.lock`` by exporting it with uv itself to a PEP 751 lock (uv.lock has no spec)."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from packaging.markers import Environment

from .._report import Reporter
from .._scratch import system_folder
from .._subprocess import run
from ..errors import RequirementsError, ToolError
from . import LockedSet
from ._pylock import read_pylock


def read_uv_lock(
    path: Path,
    *,
    environment: Environment,
    extras: Collection[str],
    groups: Collection[str],
    project: str,
    reporter: Reporter,
) -> LockedSet:
    from ..wheelhouse._uv import find_uv

    uv = find_uv()
    if uv is None:
        raise RequirementsError(
            f"reading {path} needs uv; install it in the build environment (pip install uv)"
        )
    with system_folder("uvlock-") as tmp:
        out = tmp / "pylock.toml"
        argv = [
            uv, "export", "--frozen", "--format", "pylock.toml", "--output-file", str(out),
            "--no-emit-project", "--no-emit-workspace", "--no-editable", "--no-default-groups",
            "--no-header", "--quiet", "--no-progress",
        ]  # fmt: skip
        for extra in extras:
            argv += ["--extra", extra]
        for group in groups:
            argv += ["--group", group]
        try:
            run(
                argv, what=f"exporting {path.name} with uv", reporter=reporter, cwd=path.parent,
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
