"""Turns a source distribution into a wheel on the host, accepting only pure-Python results.

An sdist whose C extension is optional (markupsafe 1.1, sqlalchemy 1.1, wrapt 1.14) builds a
platform wheel on the host that Lambda cannot load; built again with every compiler made to fail,
it builds its pure-Python wheel, which is shipped with a warning. Sdists are built with a CPython
of the target's version where one is found, so a ``setup.py`` that branches on it sees the right
one.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import parse_wheel_filename

from .._pythons import find_python
from .._report import Reporter
from ..errors import SdistBuildError, ToolError
from ..target import Target
from ._advice import twin_advice
from ._frontend import build_one_wheel
from ._indexes import Indexes
from ._retag import retag_pure
from ._select import Chosen
from ._uv import find_uv

# What distutils and setuptools call to compile and link; each is pointed at a command that fails.
_COMPILER_VARIABLES = ("CC", "CXX", "LDSHARED", "LDCXXSHARED")


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
    reporter.waiting(f"Building {item.label} from its source distribution (no wheel fits)")
    python = _python(target, use_uv=use_uv)
    build = _Builder(item, sdist, target, indexes, python, find_uv() if use_uv else None,
                     workdir, reporter, refresh)  # fmt: skip
    wheel = build.run("", {})
    if _loadable(wheel, target):
        return wheel
    # Once more with compiling made to fail: an optional extension is left out.
    failing = _failing_compiler(workdir)
    try:
        pure = build.run("-pure", dict.fromkeys(_COMPILER_VARIABLES, str(failing)), fresh=True)
    except SdistBuildError:
        pure = None
    if pure is not None and not _loadable(pure, target):
        # Built without its extension, yet tagged for this machine (wrapt 1.14, sqlalchemy 1.1).
        pure = retag_pure(pure, pure.parent.with_name(pure.parent.name + "-retagged"))
    if pure is None or not _loadable(pure, target):
        raise SdistBuildError(_compiled_message(item, target, wheel))
    reporter.warning(
        f"{item.label}: its sdist {item.filename} built {wheel.name}, which Lambda cannot load; "
        f"built again without a C compiler it made {pure.name}, which is shipped: its optional C "
        "speedups are off. Container mode (container = true) builds them in the SAM build image"
    )
    return pure


def _python(target: Target, *, use_uv: bool) -> str:
    """A CPython of the target's version to build with (pip's builds need pip in it), or the
    interpreter running the build when there is none."""
    python = find_python(target.python_version)
    if python is None or use_uv:
        return python or sys.executable
    has_pip = subprocess.run(
        [python, "-I", "-c", "import pip"], capture_output=True, timeout=60, check=False
    )
    return python if has_pip.returncode == 0 else sys.executable


def _failing_compiler(workdir: Path) -> Path:
    path = workdir / "no-compiler"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\necho 'compiling is turned off for this build' >&2\nexit 1\n")
    path.chmod(0o755)
    return path


def _loadable(wheel: Path, target: Target) -> bool:
    tags = parse_wheel_filename(wheel.name)[3]
    return all(t.platform == "any" for t in tags) and target.accepts(tags)


@dataclass(frozen=True)
class _Builder:
    item: Chosen
    sdist: Path
    target: Target
    indexes: Indexes
    python: str
    uv: str | None
    workdir: Path
    reporter: Reporter
    refresh: bool

    def run(self, suffix: str, env: Mapping[str, str], *, fresh: bool = False) -> Path:
        """Build the sdist into workdir/built-NAME*suffix*; *fresh*: no wheel a cache kept."""
        try:
            return build_one_wheel(
                self.sdist, self.workdir / f"built-{self.item.name}{suffix}", python=self.python,
                uv=self.uv, indexes=self.indexes, refresh=self.refresh or fresh, env=env,
                what=f"building {self.item.filename}", reporter=self.reporter, cwd=self.workdir,
            )  # fmt: skip
        except ToolError as exc:
            raise SdistBuildError(
                f"{self.item.label} has no wheel for {self.target.label}, and building its sdist "
                f"{self.item.filename} failed.\n{exc.message}\n  What to do: pin a version of "
                f"{self.item.name} that publishes a wheel for this target, or build inside the SAM "
                f"build image (container mode: container = true).{twin_advice([self.item.name])}"
            ) from exc


def _compiled_message(item: Chosen, target: Target, wheel: Path) -> str:
    tags = parse_wheel_filename(wheel.name)[3]
    tag_text = ", ".join(sorted(str(t) for t in tags))
    return (
        f"{item.label} has no wheel for {target.label}; only the sdist {item.filename}, which "
        f"contains compiled code (on this machine it built {wheel.name}, tagged {tag_text}, "
        "which Lambda cannot load, and it does not build without a C compiler). What to do: pin a "
        f"version of {item.name} that publishes manylinux wheels for "
        f"{target.runtime.cpython_tag} {target.machine}, or build inside the SAM build image "
        "(container mode: container = true)." + twin_advice([item.name])
    )
