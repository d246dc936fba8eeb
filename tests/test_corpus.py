"""Bad inputs, kept as files under ``tests/corpus/``: each must fail (or be reported) with a
message that names the file and the key or line, never a traceback, and leave ``dist-lambda/``
untouched.

Each case is a folder with a ``case.toml``:

- ``command``: ``"build"`` builds the fixture project ``fx-app`` with the case's other files
  copied over its root and ``config`` added to its hook table; a list runs ``hatch-lambda`` with
  those arguments in a copy of the case folder.
- ``expect``: strings the output must contain (the file, the key or line, what to do).
- ``exit``: the exit status (default 1).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from support.project import Project

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CORPUS = Path(__file__).parent / "corpus"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "case.toml").is_file())
BASE = {"runtime": "python3.12", "architecture": "x86_64", "handler": "fx_app.handler.handler"}


def _case(name: str) -> dict[str, Any]:
    return tomllib.loads((CORPUS / name / "case.toml").read_text(encoding="utf-8"))


def _copy_files(case: Path, destination: Path) -> None:
    for path in case.iterdir():
        if path.name == "case.toml":
            continue
        target = destination / path.name
        if path.is_dir():
            shutil.copytree(path, target, dirs_exist_ok=True)
        else:
            shutil.copyfile(path, target)


@pytest.mark.parametrize("name", CASES)
def test_bad_input(name: str, app: Project, tmp_path: Path) -> None:
    case = _case(name)
    command = case["command"]
    if command == "build":
        _copy_files(CORPUS / name, app.path)
        app.configure({**BASE, **case.get("config", {})})
        app.lambda_dir.mkdir()
        (app.lambda_dir / "keep.txt").write_text("not hatch-lambda's")
        proc = app.hatchling("-t", "wheel")
        left = sorted(p.name for p in app.lambda_dir.iterdir())
        assert left == ["keep.txt"], left
    else:
        work = tmp_path / "work"
        work.mkdir()
        _copy_files(CORPUS / name, work)
        proc = subprocess.run(
            [sys.executable, "-m", "hatch_lambda", *command],
            cwd=work, env=app.env, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == case.get("exit", 1), out
    assert "Traceback" not in out, out
    for text in case["expect"]:
        assert text in out, f"{text!r} not in:\n{out}"
