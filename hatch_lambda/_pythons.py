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


def find_python(version: str) -> str | None:
    """An interpreter that reports exactly *version* (``3.12``), or None."""
    for python in candidates(version):
        if _version_of(python) == version:
            return python
    return None
