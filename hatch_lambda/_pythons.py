"""Finds a CPython interpreter of an exact version on this machine."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

PYTHON_ENV = (
    "HATCH_LAMBDA_PYTHON_{major}{minor}"  # e.g. HATCH_LAMBDA_PYTHON_312=/usr/bin/python3.12
)


def _version_of(python: str) -> str | None:
    try:
        out = subprocess.run(
            [python, "-I", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
    except OSError:
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def candidates(version: str) -> list[str]:
    major, minor = version.split(".")
    found: list[str] = []
    override = os.environ.get(PYTHON_ENV.format(major=major, minor=minor))
    if override:
        found.append(override)
    on_path = shutil.which(f"python{version}")
    if on_path:
        found.append(on_path)
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    found += [
        str(p)
        for p in sorted(pyenv_root.glob(f"versions/{version}.*/bin/python{version}"), reverse=True)
    ]
    if os.name == "nt":  # the py launcher's installs
        found += [
            str(p)
            for p in Path(os.environ.get("LOCALAPPDATA", "")).glob(
                f"Programs/Python/Python{major}{minor}/python.exe"
            )
        ]
    return found


# Each lookup runs every candidate: a build asks once when validating and again when compiling.
_found: dict[tuple[str, ...], str | None] = {}


def find_python(version: str) -> str | None:
    """An interpreter that reports exactly *version* (``3.12``), or None."""
    looked_at = (version, *candidates(version))
    if looked_at not in _found:
        _found[looked_at] = next((p for p in looked_at[1:] if _version_of(p) == version), None)
    return _found[looked_at]


def not_found(subject: str, version: str, runtime: str) -> str:
    """Why *subject* cannot be done without an interpreter of *version*, where one was looked
    for, and what to do."""
    major, minor = version.split(".")
    variable = PYTHON_ENV.format(major=major, minor=minor)
    override = os.environ.get(variable)
    looked = (
        f"{variable}={override} is not one, and there is no python{version} on PATH or in pyenv"
        if override
        else f"looked for python{version} on PATH, in pyenv, and in ${variable}"
    )
    return (
        f"{subject} needs a CPython {version} interpreter to compile for {runtime}, and none was "
        f"found ({looked}). Install CPython {version}, set {variable} to its path, or set "
        "compile-bytecode = false"
    )
