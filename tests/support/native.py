"""Calling the C extension of the fixture package fx-cext from a bundle built in a container,
with a CPython 3.11 of the bundle's architecture (arm64 under qemu)."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

from support.project import unpack
from support.pythons import find_python, missing, qemu_python

_CALL = "import sys; sys.path.insert(0, sys.argv[1]); import fx_cext; print(fx_cext.answer())"
_MACHINE = {"x86_64": "x86_64", "arm64": "aarch64"}


def native_answer(bundle_zip: Path, scratch: Path, architecture: str = "x86_64") -> str:
    """What fx_cext.answer() returns when imported from *bundle_zip* (42), or the error."""
    names = zipfile.ZipFile(bundle_zip).namelist()
    assert f"fx_cext/native.cpython-311-{_MACHINE[architecture]}-linux-gnu.so" in names, names
    if architecture == "arm64":
        argv = qemu_python()
        if argv is None:
            missing("no qemu-aarch64 and arm64 root with Python 3.11 (run .ci/arm64-root.sh)")
    else:
        python = find_python("3.11")
        if python is None:
            missing("no Python 3.11 to import the bundle with")
        argv = [python]
    bundle = unpack(bundle_zip, scratch / "bundle")
    out = subprocess.run([*argv, "-I", "-S", "-c", _CALL, str(bundle)],
                         capture_output=True, text=True, check=False)  # fmt: skip
    return out.stdout.strip() or out.stderr
