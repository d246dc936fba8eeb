"""Turns a source distribution into a wheel on the host, accepting only pure-Python results."""

from __future__ import annotations

import sys
from pathlib import Path

from packaging.utils import parse_wheel_filename

from .._report import Reporter
from .._subprocess import run
from ..errors import SdistBuildError, ToolError
from ..target import Target
from ._advice import twin_advice
from ._indexes import Indexes
from ._select import Chosen
from ._uv import find_uv


def build_wheel(
    item: Chosen,
    sdist: Path,
    target: Target,
    indexes: Indexes,
    *,
    use_uv: bool,
    workdir: Path,
    reporter: Reporter,
    refresh: bool = False,
) -> Path:
    out = workdir / f"built-{item.name}"
    out.mkdir(parents=True, exist_ok=True)
    reporter.waiting(f"Building {item.label} from its source distribution (no wheel fits)")
    uv = find_uv() if use_uv else None
    if uv:
        argv = [
            uv,
            "build",
            "--wheel",
            "--out-dir",
            str(out),
            "--python",
            sys.executable,
            str(sdist),
        ]
        argv += ["--refresh"] if refresh else []
        env = {**indexes.uv_env(), "UV_PYTHON_DOWNLOADS": "never"}
    else:
        argv = [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--wheel-dir",
            str(out),
            str(sdist),
        ]
        argv += ["--no-cache-dir"] if refresh else []
        env = dict(indexes.pip_env())
    try:
        run(argv, what=f"building {item.filename}", reporter=reporter, env=env, cwd=workdir)
    except ToolError as exc:
        raise SdistBuildError(
            f"{item.label} has no wheel for {target.label}, and building its sdist "
            f"{item.filename} failed.\n{exc.message}\n  What to do: pin a version of {item.name} "
            "that publishes a wheel for this target, or build inside the SAM build image "
            f"(container mode: container = true).{twin_advice([item.name])}"
        ) from exc
    wheels = sorted(out.glob("*.whl"))
    if len(wheels) != 1:
        raise SdistBuildError(f"building {item.filename} produced {len(wheels)} wheels, not one")
    wheel = wheels[0]
    tags = parse_wheel_filename(wheel.name)[3]
    if not all(t.platform == "any" for t in tags) or not target.accepts(tags):
        tag_text = ", ".join(sorted(str(t) for t in tags))
        raise SdistBuildError(
            f"{item.label} has no wheel for {target.label}; only the sdist {item.filename}, which "
            f"contains compiled code (on this machine it built {wheel.name}, tagged {tag_text}, "
            "which Lambda cannot load). What to do: pin a version of "
            f"{item.name} that publishes manylinux wheels for {target.runtime.cpython_tag} "
            f"{target.machine}, or build inside the SAM build image (container mode: container = true)."
            + twin_advice([item.name])
        )
    return wheel
