"""Resolves with ``uv pip compile`` into a PEP 751 lock for the target."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from packaging.pylock import Pylock

from .._report import Reporter, counted
from .._subprocess import run
from ..errors import ResolutionError, ToolError
from ..requirements._pylock import load_pylock
from ..target import Target, manylinux_glibc, resolve_target
from ._indexes import Indexes

# The manylinux levels uv can be told about (`uv pip compile --help`, --python-platform).
_UV_MANYLINUX_MINORS = (17, 28, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40)


def find_uv() -> str | None:
    try:
        from uv import find_uv_bin
    except ImportError:
        return shutil.which("uv")
    try:
        return str(find_uv_bin())
    except FileNotFoundError:
        return shutil.which("uv")


def uv_python_platform(target: Target) -> str:
    """The highest ``--python-platform`` uv knows that does not exceed the target's glibc.

    uv cannot name every glibc (nothing between 2.17 and 2.28), so for Amazon Linux 2 this is
    manylinux_2_17; the selection stage then checks every chosen wheel against the exact tag list.
    """
    ceilings = [g for p in target.platforms if (parsed := manylinux_glibc(p)) for g in [parsed[0]]]
    if not ceilings:
        raise ResolutionError(
            f"the uv resolver needs at least one manylinux platform tag, and platform-tags "
            f'{list(target.platforms)!r} has none; set resolver = "pip"'
        )
    major, minor = max(ceilings)
    usable = [m for m in _UV_MANYLINUX_MINORS if major == 2 and m <= minor]
    if not usable:
        raise ResolutionError(
            f"uv cannot resolve for glibc {major}.{minor} (its oldest level is manylinux_2_17); "
            f'set resolver = "pip"'
        )
    return f"{target.machine}-manylinux_2_{usable[-1]}"


def reachable_target(target: Target) -> Target | None:
    """The target as uv sees it when told ``uv_python_platform``: its manylinux platforms down
    from uv's level only; None when uv's level is the target's own ceiling."""
    level = manylinux_glibc(f"{uv_python_platform(target).split('-', 1)[1]}_{target.machine}")
    ceiling = max((g for p in target.platforms if (g := manylinux_glibc(p))), default=None)
    if level is None or ceiling is None or level[0] == ceiling[0]:
        return None
    platforms = [
        p for p in target.platforms if (g := manylinux_glibc(p)) is None or g[0] <= level[0]
    ]
    return resolve_target(target.runtime.name, target.architecture, platforms)[0]


def resolve(
    requirements: list[str],
    target: Target,
    indexes: Indexes,
    *,
    sdists: frozenset[str],
    workdir: Path,
    reporter: Reporter,
    refresh: bool = False,
    constraints: Sequence[str] = (),
) -> Pylock:
    uv = find_uv()
    if uv is None:
        raise ToolError(
            "uv is not installed in the build environment; install it (pip install uv) "
            'or set resolver = "pip"'
        )
    workdir.mkdir(parents=True, exist_ok=True)
    source = workdir / "requirements.in"
    source.write_text("".join(f"{line}\n" for line in requirements), encoding="utf-8")
    out = workdir / "pylock.toml"
    argv = [
        uv,
        "pip",
        "compile",
        str(source),
        "--format",
        "pylock.toml",
        "--output-file",
        str(out),
        "--python",
        sys.executable,
        "--python-version",
        target.python_version,
        "--python-platform",
        uv_python_platform(target),
        "--no-header",
        "--quiet",
        "--no-progress",
    ]
    argv += ["--only-binary", ":all:"]
    if constraints:
        constraint_file = workdir / "constraints.txt"
        constraint_file.write_text("".join(f"{c}\n" for c in constraints), encoding="utf-8")
        argv += ["--constraint", str(constraint_file)]
    if refresh:  # uv's own cache would serve what the index served before
        argv.append("--refresh")
    for name in sorted(sdists):
        argv += ["--no-binary", name]
    run(
        argv,
        what=f"resolving {counted(len(requirements), 'requirement')} with uv for {target.label}",
        reporter=reporter,
        env={**indexes.uv_env(), "UV_PYTHON_DOWNLOADS": "never"},
        cwd=workdir,
    )
    return load_pylock(
        out, fix="uv wrote a lock that hatch-lambda cannot read; report it, with uv's version"
    )
