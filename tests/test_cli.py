"""The command line shell."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from hatch_lambda import cli
from hatch_lambda.cli import BROKEN_PIPE


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


@pytest.mark.parametrize("command", ["target", "target --json", "inspect {zip}"])
def test_a_reader_that_stops_early_gets_no_traceback(tmp_path: Path, command: str) -> None:
    path = tmp_path / "app.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("app.py", "def handler(e, c): pass\n")
    line = f"{shlex.quote(sys.executable)} -m hatch_lambda {command.format(zip=path)}"

    def piped(reader: str) -> subprocess.CompletedProcess[str]:
        script = f'{line} | {reader}; exit "${{PIPESTATUS[0]}}"'
        return subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=False)

    head = piped("head -1")
    assert "Traceback" not in head.stderr and "Broken pipe" not in head.stderr, head.stderr
    assert len(head.stdout.splitlines()) == 1
    assert head.returncode in (0, BROKEN_PIPE)  # 0: all of it was written before head left
    # `true` is gone before Python has started: the first write meets a closed pipe.
    closed = piped("true")
    assert (closed.returncode, closed.stderr) == (BROKEN_PIPE, "")


def test_an_artifact_that_cannot_be_read_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "app.zip"
    path.write_bytes(b"")

    def denied(_: Path) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(cli, "inspect_artifact", denied)
    assert cli.main(["inspect", str(path)]) == 1
    assert capsys.readouterr().err == f"hatch-lambda: cannot read {path}: Permission denied\n"


@pytest.mark.parametrize("command", ["inspect", "check"])
def test_a_fifo_is_refused_not_read(tmp_path: Path, command: str) -> None:
    fifo = tmp_path / "app.zip"
    os.mkfifo(fifo)
    proc = run(command, str(fifo), *(["--runtime", "python3.12"] if command == "check" else []))
    assert proc.returncode == 1
    assert f"{fifo} is neither a file nor a folder" in proc.stderr


def test_other_spellings_get_a_did_you_mean() -> None:
    proc = run("target", "--runtime", "3.12")
    assert proc.returncode == 2
    assert "invalid choice: '3.12'" in proc.stderr
    assert "did you mean 'python3.12'?" in proc.stderr
    proc = run("check", "x.zip", "--runtime", "python3.12", "--architecture", "ARM64")
    assert proc.returncode == 2
    assert "did you mean 'arm64'?" in proc.stderr
