"""Which interpreter runs the handler: a CPython of the runtime's exact version, for the
function's architecture, natively or under qemu user emulation.

For the host's own architecture it is the interpreter ``compile-bytecode`` uses
(``HATCH_LAMBDA_PYTHON_3X``, ``python3.X`` on PATH, pyenv). For the other one it is a CPython of
that architecture inside a root folder of that architecture's system (a Debian made by
debootstrap, for instance), run by ``qemu-aarch64`` (``qemu-x86_64``) with ``-L ROOT``, or
directly where binfmt_misc hands such programs to qemu:

- ``HATCH_LAMBDA_ARM64_ROOT`` (``HATCH_LAMBDA_X86_64_ROOT``): the root; its ``usr/bin/python3.X``,
  ``usr/local/bin/python3.X`` or ``bin/python3.X`` is used;
- ``HATCH_LAMBDA_PYTHON_3X_ARM64`` (``..._X86_64``): the interpreter itself, when it is somewhere
  else; its root is the variable above or, without it, the nearest folder above it that holds
  the architecture's dynamic loader.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .._pythons import PYTHON_ENV, find_python
from ..errors import HatchLambdaError
from ..target import Runtime, architecture_meant


@dataclass(frozen=True)
class _Emulation:
    qemu: str
    """The name of the qemu user binary, without ``-static``."""
    machine: str
    loader: str
    """The dynamic loader, relative to a root of that architecture."""


_EMULATION = {
    "arm64": _Emulation("qemu-aarch64", "aarch64", "lib/ld-linux-aarch64.so.1"),
    "x86_64": _Emulation("qemu-x86_64", "x86_64", "lib64/ld-linux-x86-64.so.2"),
}
_PROBE = "import sys, platform; print('%d.%d' % sys.version_info[:2], platform.machine())"


@dataclass(frozen=True)
class Interpreter:
    """How to start the handler's interpreter: *argv* before its own arguments, with
    *environment* added to the function's."""

    argv: tuple[str, ...]
    version: str
    machine: str
    emulated: bool = False
    environment: Mapping[str, str] = field(default_factory=dict)
    library: str | None = None
    """The interpreter's own library folder, first on LD_LIBRARY_PATH as /var/lang/lib is."""

    @property
    def label(self) -> str:
        runner = Path(self.argv[0]).name if len(self.argv) > 1 else "qemu through binfmt_misc"
        how = f" under {runner}" if self.emulated else ""
        return f"CPython {self.version} {self.machine}{how} ({self.argv[-1]})"


def host_architecture() -> str | None:
    return architecture_meant(platform.machine())


def root_variable(architecture: str) -> str:
    return f"HATCH_LAMBDA_{architecture.upper()}_ROOT"


def python_variable(version: str, architecture: str) -> str:
    major, minor = version.split(".")
    return f"HATCH_LAMBDA_PYTHON_{major}{minor}_{architecture.upper()}"


def choose_interpreter(runtime: Runtime, architecture: str) -> Interpreter:
    """An interpreter of *runtime*'s version for *architecture*, checked by running it."""
    version = runtime.version
    if host_architecture() == architecture:
        python = find_python(version)
        if python is None:
            major, minor = version.split(".")
            variable = PYTHON_ENV.format(major=major, minor=minor)
            raise HatchLambdaError(
                f"invoking a {runtime.name} function needs a CPython {version} interpreter, and "
                f"none was found (looked in ${variable}, for python{version} on PATH, in "
                f"pyenv and uv's Pythons). Install CPython {version} (`uv python install "
                f"{version}`, `pyenv install {version}`, or your system's python{version}) or "
                f"set {variable} to its path"
            )
        return _checked((python,), version, architecture, emulated=False, environment={})
    return _emulated(runtime, architecture)


def _binfmt_registered(emulation: _Emulation) -> bool:
    entry = Path("/proc/sys/fs/binfmt_misc") / emulation.qemu
    try:
        return entry.read_text(encoding="utf-8", errors="replace").startswith("enabled")
    except OSError:
        return False


def _root_above(python: Path, emulation: _Emulation) -> Path | None:
    for folder in python.parents:
        if (folder / emulation.loader).exists():
            return folder
    return None


def _emulated(runtime: Runtime, architecture: str) -> Interpreter:
    version = runtime.version
    emulation = _EMULATION[architecture]
    root_var, python_var = root_variable(architecture), python_variable(version, architecture)
    setup = (
        f"set {root_var} to a root folder of an {architecture} Linux system with CPython "
        f"{version} in it (for instance `debootstrap --arch={architecture} --variant=minbase "
        f"--include=python3 DIST ROOT` with a Debian DIST whose python3 is {version}), or set "
        f"{python_var} to such an interpreter; and install qemu user emulation "
        f"({emulation.qemu} or {emulation.qemu}-static on PATH, e.g. the qemu-user-static "
        "package). See the README's Invoking locally"
    )
    what = f"invoking a {runtime.name} {architecture} function on this {platform.machine()} host"
    given_root = os.environ.get(root_var)
    given_python = os.environ.get(python_var)
    root = Path(given_root) if given_root else None
    if given_python:
        python = Path(given_python)
        if not python.is_file():
            raise HatchLambdaError(f"{what}: {python_var}={given_python} is not a file; {setup}")
    elif root is not None:
        names = [f"usr/bin/python{version}", f"usr/local/bin/python{version}",
                 f"bin/python{version}"]  # fmt: skip
        found = next((root / n for n in names if (root / n).is_file()), None)
        if found is None:
            raise HatchLambdaError(
                f"{what}: {root_var}={given_root} has no python{version} in usr/bin, "
                f"usr/local/bin or bin; {setup}"
            )
        python = found
    else:
        raise HatchLambdaError(f"{what} needs an {architecture} CPython {version}: {setup}")
    if root is None:
        root = _root_above(python, emulation)
        if root is None:
            raise HatchLambdaError(
                f"{what}: no folder above {python} holds {emulation.loader}, so its root is not "
                f"known; set {root_var} to the root folder it belongs to"
            )
    qemu = shutil.which(f"{emulation.qemu}-static") or shutil.which(emulation.qemu)
    if qemu is not None:
        return _checked((qemu, "-L", str(root), str(python)), version, architecture,
                        emulated=True, environment={})  # fmt: skip
    if _binfmt_registered(emulation):
        return _checked((str(python),), version, architecture, emulated=True,
                        environment={"QEMU_LD_PREFIX": str(root)})  # fmt: skip
    raise HatchLambdaError(
        f"{what}: there is an {architecture} CPython at {python}, and no way to run it: "
        f"neither {emulation.qemu} nor {emulation.qemu}-static is on PATH, and binfmt_misc has "
        f"no {emulation.qemu} entry. Install qemu user emulation (the qemu-user-static package, "
        "or qemu-user with binfmt-support)"
    )


def _checked(
    argv: tuple[str, ...], version: str, architecture: str, *, emulated: bool,
    environment: Mapping[str, str],
) -> Interpreter:  # fmt: skip
    """The interpreter, once it has said it is *version* on *architecture*'s machine."""
    machine = _EMULATION[architecture].machine
    env = {"PATH": os.environ.get("PATH", os.defpath), **environment}
    try:
        out = subprocess.run(
            [*argv, "-I", "-S", "-c", _PROBE + "; print(sys.base_prefix); print(sys.executable)"],
            capture_output=True, text=True, timeout=120, check=False, env=env,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise HatchLambdaError(f"cannot run {' '.join(argv)}: {exc}") from exc
    lines = out.stdout.split("\n")
    said = lines[0].split() if out.returncode == 0 and lines else []
    if len(said) != 2:
        last = (out.stderr.strip().splitlines() or ["(nothing said)"])[-1]
        raise HatchLambdaError(
            f"{' '.join(argv)} does not run as a CPython (exit status {out.returncode}: {last}); "
            "point the variable that names it at a working interpreter"
        )
    if said != [version, machine]:
        raise HatchLambdaError(
            f"{' '.join(argv)} is CPython {said[0]} on {said[1]}, and the function needs "
            f"CPython {version} on {machine}; point the variable that names it at one"
        )
    prefix = lines[1].strip() if len(lines) > 1 else ""
    executable = lines[2].strip() if len(lines) > 2 else ""
    if not emulated and executable:
        argv = (executable,)  # the interpreter itself, not a launcher such as pyenv's shim
    return Interpreter(argv, version, machine, emulated, dict(environment),
                       str(Path(prefix) / "lib") if prefix else None)  # fmt: skip
