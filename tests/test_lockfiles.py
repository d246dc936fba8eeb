"""Builds from every lockfile format, each made by its real tool against the fixture index."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from support.project import Project, clean_env
from support.zips import versions

TOOLS = Path(sys.executable).parent
FORMATS = ["uv.lock", "pylock.toml", "poetry.lock", "requirements.txt", "Pipfile.lock"]
LOCKED_PURE = "1.0"  # the index also has fx-pure 2.0, which a fresh resolution would pick


def tool(name: str) -> str:
    path = shutil.which(name, path=str(TOOLS))
    if path is None:
        pytest.fail(f"{name} is not installed in the test environment (pip install -e '.[test]')")
    return path


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> None:
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{argv}: {proc.stdout}\n{proc.stderr}"


@pytest.fixture(scope="session")
def locked_template(
    tmp_path_factory: pytest.TempPathFactory, index_url: str, build_cache: Path
) -> Path:
    """The `fx-locked` project with a lock of each format, all made while fx-pure was pinned to
    1.0; the pyproject is then relaxed to `fx-pure>=1` so only the locks hold the pin, and uv.lock
    and poetry.lock are locked again to match it (both keep the versions they hold)."""
    root = tmp_path_factory.mktemp("locked") / "locked"
    shutil.copytree(Path(__file__).parents[1] / "fixtures" / "projects" / "locked", root)
    pyproject = root / "pyproject.toml"
    relaxed = pyproject.read_text()
    pinned = relaxed.replace('"fx-pure>=1"', f'"fx-pure=={LOCKED_PURE}"')
    env = clean_env(build_cache, UV_DEFAULT_INDEX=index_url, POETRY_CACHE_DIR=str(build_cache / "poetry"),
                    PIPENV_YES="1", PIPENV_NOSPIN="1", PIPENV_VENV_IN_PROJECT="1",
                    PIPENV_IGNORE_VIRTUALENVS="1", PIP_INDEX_URL=index_url)  # fmt: skip

    pyproject.write_text(pinned)
    uv = tool("uv")
    run([uv, "lock"], root, env)
    run([uv, "export", "--frozen", "--format", "pylock.toml", "--no-emit-project",
         "--no-default-groups", "-o", "pylock.toml"], root, env)  # fmt: skip
    # --python-version: without it uv locks for this interpreter's version and up, and drops
    # what only older Pythons need (the audit's closure rule catches such a lock).
    run([uv, "pip", "compile", "--universal", "--python-version", "3.9", "--generate-hashes",
         "--emit-index-url", "pyproject.toml", "-o", "requirements.txt"], root, env)  # fmt: skip
    source = (
        f'\n[[tool.poetry.source]]\nname = "fixtures"\nurl = "{index_url}"\npriority = "primary"\n'
    )
    pyproject.write_text(pinned + source)
    run([tool("poetry"), "lock"], root, env)
    (root / "Pipfile").write_text(
        f'[[source]]\nurl = "{index_url}"\nverify_ssl = false\nname = "fixtures"\n\n'
        f'[packages]\nfx-pure = "=={LOCKED_PURE}"\nfx-markers = "*"\nfx-cpython = "*"\n\n'
        '[dev-packages]\nfx-windows = "*"\n'
    )
    run([tool("pipenv"), "lock", "--python", sys.executable], root, env)
    shutil.rmtree(root / ".venv", ignore_errors=True)
    pyproject.write_text(relaxed + source)
    run([uv, "lock"], root, env)
    run([tool("poetry"), "lock"], root, env)
    return root


@pytest.fixture
def locked(locked_template: Path, tmp_path: Path, build_cache: Path) -> Project:
    root = tmp_path / "locked"
    shutil.copytree(locked_template, root)
    return Project(root, clean_env(build_cache))


def build(project: Project, **table: Any) -> subprocess.CompletedProcess[str]:
    project.configure({"handler": "fx_locked.app.handler", **table})
    return project.hatchling("-t", "wheel")


UNIVERSAL = ["uv.lock", "pylock.toml", "poetry.lock", "requirements.txt"]


@pytest.mark.parametrize("architecture", ["x86_64", "arm64"])
@pytest.mark.parametrize("runtime", ["python3.9", "python3.12"])
@pytest.mark.parametrize("lockfile", UNIVERSAL)
def test_universal_locks_give_exactly_the_locked_versions(
    locked: Project, lockfile: str, runtime: str, architecture: str
) -> None:
    proc = build(locked, requirements=lockfile, runtime=runtime, architecture=architecture)
    assert proc.returncode == 0, proc.stderr
    assert f"Requirements: {lockfile}" in proc.stderr
    got = versions(locked.only_zip())
    expected = {
        "fx_pure": LOCKED_PURE,
        "fx_markers": "1.0",
        "fx_cpython": "1.0",
        "fx_locked": "0.5.0",
    }
    expected["fx_armonly" if architecture == "arm64" else "fx_x86only"] = "1.0"
    if runtime == "python3.9":
        expected["fx_backport"] = "1.0"  # a marker-only dependency of fx-markers
    assert got == expected
    minor = runtime.removeprefix("python3.")
    with zipfile.ZipFile(locked.only_zip()) as zf:
        wheel = zf.read("fx_cpython-1.0.dist-info/WHEEL").decode()
    machine = "aarch64" if architecture == "arm64" else "x86_64"
    assert f"Tag: cp3{minor}-cp3{minor}-manylinux_2_17_{machine}" in wheel
    manifest = locked.manifest()
    assert manifest["requirements"] == lockfile
    assert manifest["resolver"] is None  # nothing was resolved


def test_auto_picks_the_first_lockfile_in_the_documented_order(locked: Project) -> None:
    proc = build(locked, runtime="python3.12")
    assert proc.returncode == 0, proc.stderr
    assert "Requirements: pylock.toml" in proc.stderr
    (locked.path / "pylock.toml").unlink()
    (locked.path / "uv.lock").unlink()
    proc = build(locked, runtime="python3.12")
    assert "Requirements: poetry.lock" in proc.stderr


def test_pipfile_lock_holds_what_pipenv_resolved_on_this_machine(locked: Project) -> None:
    proc = build(locked, requirements="Pipfile.lock", runtime="python3.12", architecture="x86_64")
    assert proc.returncode == 0, proc.stderr
    got = versions(locked.only_zip())
    assert got["fx_pure"] == LOCKED_PURE and "fx_windows" not in got


def test_pipfile_lock_made_on_x86_64_is_incomplete_for_arm64(locked: Project) -> None:
    proc = build(locked, requirements="Pipfile.lock", runtime="python3.12", architecture="arm64")
    assert proc.returncode != 0
    assert "fx-markers 1.0 requires fx-armonly" in proc.stderr
    assert "not in the bundle for python3.12 arm64" in proc.stderr
    assert locked.artifacts() == []


@pytest.mark.parametrize(("lockfile", "groups"), [("uv.lock", ["ops"]), ("poetry.lock", ["ops"])])
def test_groups_and_extras_from_locks(locked: Project, lockfile: str, groups: list[str]) -> None:
    proc = build(
        locked, requirements=lockfile, runtime="python3.12", groups=groups, extras=["extra"]
    )
    assert proc.returncode == 0, proc.stderr
    got = versions(locked.only_zip())
    assert got["fx_under_score"] == "1.0" and got["fx_extra_dep"] == "1.0"
    assert "fx_windows" not in got  # the dev group stays out unless asked for
    build(locked, requirements=lockfile, runtime="python3.12", groups=["dev"])
    assert "fx_windows" in versions(locked.only_zip())


def test_dependency_groups_of_the_project(locked: Project) -> None:
    proc = build(locked, requirements="project", runtime="python3.12", groups=["ops"],
                 **{"index-url": _index(locked)})  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    got = versions(locked.only_zip())
    assert got["fx_under_score"] == "1.0"
    assert got["fx_pure"] == "2.0"  # resolved afresh from the project's ranges


def _index(project: Project) -> str:
    text = (project.path / "requirements.txt").read_text()
    return re.search(r"--index-url (\S+)", text).group(1)  # type: ignore[union-attr]


@pytest.mark.parametrize("lockfile", ["requirements.txt", "poetry.lock", "uv.lock", "Pipfile.lock"])
def test_a_tampered_hash_fails_naming_file_and_digests(
    locked: Project, lockfile: str, index_root: Path
) -> None:
    real = hashlib.sha256((index_root / "files" / "fx_pure-1.0-py3-none-any.whl").read_bytes())
    path = locked.path / lockfile
    text = path.read_text()
    assert real.hexdigest() in text
    path.write_text(text.replace(real.hexdigest(), "0" * 64))
    proc = build(locked, requirements=lockfile, runtime="python3.12")
    assert proc.returncode != 0
    assert "fx_pure-1.0-py3-none-any.whl (fx-pure 1.0) failed its hash check" in proc.stderr
    assert "0" * 64 in proc.stderr and real.hexdigest() in proc.stderr
    assert locked.artifacts() == []


def test_a_requirements_file_saved_by_powershell_builds(locked: Project) -> None:
    # `uv pip compile ... > requirements.txt` in Windows PowerShell 5 writes UTF-16 LE with a byte
    # order mark and CRLF line ends; pip reads such a file, and so does hatch-lambda.
    path = locked.path / "requirements.txt"
    text = path.read_text().replace("\n", "\r\n")
    path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    proc = build(locked, requirements="requirements.txt", runtime="python3.12")
    assert proc.returncode == 0, proc.stderr
    assert versions(locked.only_zip())["fx_pure"] == LOCKED_PURE


@pytest.mark.parametrize(("lockfile", "tool_name"), [("uv.lock", "uv"), ("poetry.lock", "poetry")])
def test_a_lock_older_than_pyproject_fails_before_anything_is_fetched(
    locked: Project, lockfile: str, tool_name: str
) -> None:
    locked.template = locked.template.replace('"fx-cpython",', '"fx-cpython",\n  "six",')
    proc = build(locked, requirements=lockfile, runtime="python3.12")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert f"{lockfile} is out of date: pyproject.toml changed since it was locked" in out
    assert f"What to do: run `{tool_name} lock` and commit the new {lockfile}." in out
    if tool_name == "uv":
        assert "pyproject.toml asks for six, which it does not hold" in out
    assert "Fetching" not in out and "[closure]" not in out and "Traceback" not in out
    assert locked.artifacts() == []


def test_a_lock_whose_check_cannot_run_is_read_as_it_is(locked: Project) -> None:
    # uv cannot check a lock with an interpreter outside requires-python; the build goes on.
    locked.template = locked.template.replace(">=3.9", ">=3.99")
    # The project then says it runs on no runtime: the requires-python rule would stop the build.
    locked.configure({"handler": "fx_locked.app.handler", "requirements": "uv.lock",
                      "audit-warn": ["requires-python"]})  # fmt: skip
    proc = locked.hatchling("-t", "wheel", HATCH_VERBOSE="1")
    assert proc.returncode == 0, proc.stderr
    assert "[requires-python] fx_locked-0.5.0.dist-info/METADATA" in proc.stderr
    assert "out of date" not in proc.stderr
    assert "could not tell whether uv.lock is up to date" in proc.stderr
