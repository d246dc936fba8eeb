"""Finds interpreters of a given version and the arm64 root for running bundles under qemu."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

STRICT = os.environ.get("HATCH_LAMBDA_TESTS_STRICT") == "1"
ARM64_ROOT = Path(
    os.environ.get("HATCH_LAMBDA_ARM64_ROOT", "/var/cache/hatch-lambda-tests/arm64-root")
)


def missing(reason: str) -> None:
    """Skip, or fail where CI promised the prerequisite (HATCH_LAMBDA_TESTS_STRICT=1)."""
    if STRICT:
        pytest.fail(f"prerequisite missing in strict mode: {reason}")
    pytest.skip(reason)


def find_python(version: str) -> str | None:
    found = shutil.which(f"python{version}")
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    for candidate in sorted(
        pyenv_root.glob(f"versions/{version}.*/bin/python{version}"), reverse=True
    ):
        return str(candidate)
    if found and ".pyenv/shims" not in found:
        return found
    return None


_RUNNER = """
import json, sys
sys.path.insert(0, sys.argv[1])
module, _, func = sys.argv[2].rpartition(".")
handler = getattr(__import__(module, fromlist=[func]), func)
print(json.dumps(handler(json.loads(sys.argv[3]), None)))
"""


def call_handler(argv_prefix: list[str], bundle: str, handler: str, event: Any) -> Any:
    """Import *handler* from *bundle* alone (-I -S: no site-packages, no cwd) and call it."""
    proc = subprocess.run(
        [*argv_prefix, "-I", "-S", "-c", _RUNNER, bundle, handler, json.dumps(event)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def qemu_python() -> list[str] | None:
    """argv that runs the arm64 root's Python 3.11 under qemu user emulation, or None."""
    qemu = shutil.which("qemu-aarch64-static") or shutil.which("qemu-aarch64")
    python = ARM64_ROOT / "usr/bin/python3.11"
    if qemu is None or not python.exists():
        return None
    return [qemu, "-L", str(ARM64_ROOT), str(python)]
