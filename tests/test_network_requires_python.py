"""Requires-Python upper bounds, backports and manylinux levels uv cannot be told, against the
real package index (marked `network`): dataclasses for python3.9, typing for python3.12,
greenlet for python3.11 arm64."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest
from packaging.version import Version

from support.project import Project, clean_env, unpack
from support.pythons import find_python, missing

pytestmark = pytest.mark.network

HANDLER = "app.handler"


def _project(tmp_path: Path, deps: list[str], table: dict[str, str]) -> Project:
    root = tmp_path / "proj"
    (root / "src" / "app").mkdir(parents=True)
    (root / "src" / "app" / "__init__.py").write_text(
        "def handler(event, context):\n    return 1\n"
    )
    listed = ", ".join(f'"{d}"' for d in deps)
    settings = "".join(f'{k} = "{v}"\n' for k, v in table.items())
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling", "hatch-lambda"]\nbuild-backend = "hatchling.build"\n\n'
        f'[project]\nname = "app"\nversion = "1.0"\ndependencies = [{listed}]\n\n'
        '[tool.hatch.build.targets.wheel]\npackages = ["src/app"]\n\n'
        f'[tool.hatch.build.targets.wheel.hooks.lambda]\nhandler = "{HANDLER}"\n{settings}'
    )
    return Project(root, clean_env(tmp_path / "cache"))


def _names(zip_path: Path) -> list[str]:
    with zipfile.ZipFile(zip_path) as zf:
        return zf.namelist()


def _run(version: str, bundle: Path, code: str) -> str:
    python = find_python(version)
    if python is None:
        missing(f"no Python {version} on this machine to import the bundle with")
        raise AssertionError
    proc = subprocess.run([python, "-I", "-c", f"import sys; sys.path.insert(0, {str(bundle)!r}); "
                           + code], capture_output=True, text=True, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_dataclasses_for_python39_is_not_0_8(tmp_path: Path) -> None:
    project = _project(tmp_path, ["dataclasses"], {"runtime": "python3.9"})
    proc = project.build_wheel()
    assert "skipped dataclasses 0.8: it requires Python >=3.6, <3.7" in proc.stderr
    assert "the standard library of python3.9 provides dataclasses" in proc.stderr
    assert not [n for n in _names(project.only_zip()) if n.startswith("dataclasses")]
    bundle = unpack(project.only_zip(), tmp_path / "bundle")
    out = _run("3.9", bundle, "import dataclasses, app; print(dataclasses.__file__)")
    assert str(bundle) not in out


def test_typing_for_python312_is_left_out(tmp_path: Path) -> None:
    project = _project(tmp_path, ["typing"], {"runtime": "python3.12"})
    proc = project.build_wheel()
    assert "the standard library of python3.12 provides typing" in proc.stderr
    assert "typing.py" not in _names(project.only_zip())
    bundle = unpack(project.only_zip(), tmp_path / "bundle")
    assert _run("3.12", bundle, "import typing; print(typing.Callable)") == "typing.Callable"


def test_greenlet_for_python311_arm64_is_the_newest_with_a_fitting_wheel(tmp_path: Path) -> None:
    uv_project = _project(tmp_path / "uv", ["greenlet"], {"runtime": "python3.11",
                                                          "architecture": "arm64"})  # fmt: skip
    uv_project.build_wheel()
    pip_project = _project(tmp_path / "pip", ["greenlet"], {"runtime": "python3.11",
                           "architecture": "arm64", "resolver": "pip"})  # fmt: skip
    pip_project.build_wheel()

    def version(project: Project) -> Version:
        info = next(n for n in _names(project.only_zip()) if n.startswith("greenlet-"))
        return Version(info.split("/")[0].removesuffix(".dist-info").split("-")[1])

    assert version(uv_project) == version(pip_project)
    assert version(uv_project) > Version("3.2.5")
