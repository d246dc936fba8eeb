"""One isolated PEP 517 build of a folder or an sdist into exactly one wheel, with `uv build` or
`pip wheel`, as the sdist and local-source steps both need."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from .._report import Reporter
from .._subprocess import run
from ..errors import SdistBuildError
from ._indexes import Indexes


def build_one_wheel(
    source: Path, out: Path, *, python: str, uv: str | None, indexes: Indexes, refresh: bool,
    env: Mapping[str, str], what: str, reporter: Reporter, cwd: Path,
) -> Path:  # fmt: skip
    """The wheel built from *source* into *out*, with uv when given, else pip run by *python*;
    *what* names the build in messages (``building NAME``). A failed build raises ToolError
    (the caller says what to do); a build that makes other than one wheel, SdistBuildError."""
    out.mkdir(parents=True, exist_ok=True)
    if uv:
        # Isolated, as `uv build` always is; never editable.
        argv = [uv, "build", "--wheel", "--out-dir", str(out), "--python", python, "--no-progress",
                str(source)]  # fmt: skip
        argv += ["--refresh"] if refresh else []
        full_env = {**indexes.uv_env(), "UV_PYTHON_DOWNLOADS": "never", **env}
    else:
        argv = [python, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check",
                "--wheel-dir", str(out), str(source)]  # fmt: skip
        argv += ["--no-cache-dir"] if refresh else []
        full_env = {**indexes.pip_env(), **env}
    run(argv, what=what, reporter=reporter, env=full_env, cwd=cwd)
    wheels = sorted(out.glob("*.whl"))
    if len(wheels) != 1:
        raise SdistBuildError(f"{what} produced {len(wheels)} wheels, not one")
    return wheels[0]
