"""The command line shell."""

from __future__ import annotations

import json
import subprocess
import sys


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hatch_lambda", *args], capture_output=True, text=True, check=False
    )


def test_target_json() -> None:
    proc = run("target", "--runtime", "python3.11", "--architecture", "arm64", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["glibc"] == "2.26"
    assert data["tags"][0] == "cp311-cp311-manylinux_2_26_aarch64"
    assert data["markers"]["platform_machine"] == "aarch64"


def test_target_text_and_override_warning() -> None:
    proc = run("target", "--runtime", "python3.12", "--platform-tag", "musllinux_1_2_x86_64")
    assert proc.returncode == 0
    assert "python3.12 x86_64: CPython 3.12 on Amazon Linux 2023, glibc 2.34" in proc.stdout
    assert "cp312-cp312-musllinux_1_2_x86_64" in proc.stdout
    assert "Lambda runs glibc, not musl" in proc.stderr


def test_bad_runtime_is_a_usage_error() -> None:
    proc = run("target", "--runtime", "python2.7")
    assert proc.returncode == 2
    assert "invalid choice: 'python2.7'" in proc.stderr


def test_other_spellings_get_a_did_you_mean() -> None:
    proc = run("target", "--runtime", "3.12")
    assert proc.returncode == 2
    assert "invalid choice: '3.12'" in proc.stderr
    assert "did you mean 'python3.12'?" in proc.stderr
    proc = run("check", "x.zip", "--runtime", "python3.12", "--architecture", "ARM64")
    assert proc.returncode == 2
    assert "did you mean 'arm64'?" in proc.stderr
