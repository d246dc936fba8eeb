"""Container mode on a real Docker engine that the tests start and stop themselves
(support/docker.py): the C extension built in the image, the wheelhouse kept under the image's
digest, both file-access modes, arm64 under emulation, command hooks, failures and credentials."""

from __future__ import annotations

import grp
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.docker import Daemon, docker_daemon
from support.index import serve
from support.native import native_answer
from support.project import Project
from support.pythons import missing
from support.unprivileged import GID, UID, as_user, user_site

IMAGE = "localhost/hatch-lambda-test:x86_64"


@pytest.fixture(scope="module")
def daemon() -> Iterator[Daemon]:
    with docker_daemon() as running:
        yield running


@pytest.fixture
def project(app: Project, tmp_path: Path, daemon: Daemon) -> Project:
    """`fx-locked`, built in the test image (Debian's Python 3.11 and gcc) with this engine."""
    return Project.copy(tmp_path / "locked", {**app.env, **daemon.env}, app.index_url, "locked")


def docker_table(**more: object) -> dict[str, object]:
    # Host networking reaches the fixture index on 127.0.0.1: the engine has no bridge here.
    # Bytecode is off, as it is beside the point: with the default, a machine without a local
    # CPython 3.11 would start the image to compile, and "no container is created" would fail.
    return {"runtime": "python3.11", "container": "docker", "image": IMAGE, "network": "host",
            "extras": ["cext"], "requirements": "project", "handler": "fx_locked.app.handler",
            "compile-bytecode": False, **more}  # fmt: skip


def output(proc: subprocess.CompletedProcess[str]) -> str:
    return proc.stdout + proc.stderr


def no_leftovers(project: Project, daemon: Daemon) -> None:
    left = [p.name for p in project.lambda_dir.iterdir() if p.name.startswith((".", "hl-"))]
    assert not left, left
    assert not daemon.docker("ps", "-aq").stdout.split()  # no helper or build container
    assert "hatch-lambda-" not in daemon.docker("volume", "ls", "-q").stdout


@pytest.mark.parametrize("file_access", ["bind-mount", "volume-copy"])
def test_a_c_extension_built_in_docker_is_kept_under_the_images_digest(
    project: Project, daemon: Daemon, tmp_path: Path, file_access: str
) -> None:
    project.configure(docker_table(**{"file-access": file_access}))
    proc = project.hatchling("-t", "wheel")
    assert proc.returncode == 0, output(proc)
    assert "Building the wheels in" in output(proc)
    names = zipfile.ZipFile(project.only_zip()).namelist()
    assert "fx_cext/native.cpython-311-x86_64-linux-gnu.so" in names
    manifest = project.manifest()
    packages = {p["name"]: p for p in manifest["packages"]}
    assert packages["fx-cext"]["origin"] == "container"
    digest = daemon.docker("image", "inspect", "--format", "{{.Id}}", IMAGE).stdout.strip()
    assert manifest["container-images"] == {
        "python3.11": {"engine": "docker", "image": IMAGE, "image-id": digest}
    }
    check = project.run([sys.executable, "-m", "hatch_lambda", "check", str(project.only_zip())])
    assert check.returncode == 0 and "warning" not in check.stdout, output(check)
    assert native_answer(project.only_zip(), tmp_path) == "42"
    no_leftovers(project, daemon)

    # A code-only change: the wheels come from the cache and no container is created.
    app_py = project.path / "src" / "fx_locked" / "app.py"
    app_py.write_text(app_py.read_text() + "\nCHANGED = True\n")
    since = time.time()
    proc = project.hatchling("-t", "wheel")
    assert proc.returncode == 0, output(proc)
    assert daemon.created_since(since) == 0
    assert "no container started" in output(proc)
    with zipfile.ZipFile(project.only_zip()) as zf:
        assert b"CHANGED = True" in zf.read("fx_locked/app.py")
        assert "fx_cext/native.cpython-311-x86_64-linux-gnu.so" in zf.namelist()


def test_a_rebuilt_image_under_the_same_name_builds_again(project: Project, daemon: Daemon) -> None:
    tag = "localhost/hatch-lambda-docker-test:rebuilt"
    daemon.docker("tag", IMAGE, tag)
    try:
        project.configure(docker_table(image=tag))
        assert project.hatchling("-t", "wheel").returncode == 0
        rebuilt = subprocess.run(
            ["docker", "build", "-t", tag, "-"], input=f"FROM {IMAGE}\nLABEL rebuilt=yes\n",
            env={**project.env}, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert rebuilt.returncode == 0, rebuilt.stderr
        since = time.time()
        proc = project.hatchling("-t", "wheel", HATCH_LAMBDA_REFRESH="")
        assert proc.returncode == 0, output(proc)
        assert daemon.created_since(since) == 1, output(proc)
        assert "nothing kept for this image and requirements" in output(proc)
        new = daemon.docker("image", "inspect", "--format", "{{.Id}}", tag).stdout.strip()
        assert project.manifest()["container-images"]["python3.11"]["image-id"] == new
    finally:
        daemon.docker("rmi", "-f", tag, check=False)


def test_command_hooks_and_a_failing_build_in_docker(project: Project, daemon: Daemon) -> None:
    project.configure(docker_table(**{
        "before-bundling": ["echo one > /asset-output/log"],
        "after-bundling": ["echo two >> /asset-output/log",
                           'test "$(cat /asset-output/log)" = "one\ntwo"'],
    }))  # fmt: skip
    proc = project.hatchling("-t", "wheel")
    assert proc.returncode == 0, output(proc)
    failing = "echo compiling; echo 'gcc: fatal error' >&2; exit 3"
    project.configure(docker_table(**{"before-bundling": [failing]}))
    proc = project.hatchling("-t", "wheel")
    assert proc.returncode != 0
    assert "exit status 3" in proc.stderr and "gcc: fatal error" in proc.stderr
    assert f"docker run --rm -it --platform linux/amd64 {IMAGE} bash" in proc.stderr
    assert "Traceback" not in proc.stderr
    no_leftovers(project, daemon)


def test_index_credentials_reach_the_container_by_name_only(
    project: Project, daemon: Daemon, index_root: Path
) -> None:
    with serve(index_root, credentials="alice:t0ken-for-docker") as (url, seen):
        project.index_url = url.replace("http://", "http://alice:t0ken-for-docker@")
        project.configure(docker_table())
        proc = project.hatchling("-t", "wheel", HATCH_VERBOSE="3")
    # The index refuses requests without the credentials: pip in the container had them.
    assert proc.returncode == 0, output(proc)
    assert any(path.startswith("/simple/fx-cext") for path in seen)
    run_line = next(line for line in output(proc).splitlines() if " run --rm " in line)
    assert " -e PIP_INDEX_URL " in run_line and "PIP_INDEX_URL=" not in run_line
    assert "t0ken-for-docker" not in output(proc)


@pytest.mark.qemu
def test_an_arm64_build_under_emulation_in_docker(
    project: Project, daemon: Daemon, tmp_path: Path
) -> None:
    project.configure(docker_table(image=IMAGE.replace("x86_64", "arm64"), architecture="arm64"))
    proc = project.hatchling("-t", "wheel")
    assert proc.returncode == 0, output(proc)
    assert native_answer(project.only_zip(), tmp_path, "arm64") == "42"


def test_files_written_through_bind_mounts_belong_to_the_invoking_user(
    app: Project, daemon: Daemon
) -> None:
    # An ordinary user in the docker group: the engine runs the build as that user's uid:gid,
    # so nothing it writes into the project's output folder belongs to root.
    root = Path(tempfile.mkdtemp(prefix="hatch-lambda-user-", dir="/tmp"))
    try:
        root.chmod(0o755)
        site = user_site(root / "site")
        project = Project.copy(root / "locked", {}, app.index_url, "locked")
        project.configure(docker_table())
        env = {"PATH": "/usr/bin:/bin", "HOME": str(root / "home"), "PYTHONPATH": str(site),
               "HATCH_LAMBDA_CACHE_DIR": str(root / "cache"), "HATCH_VERBOSE": "2", **daemon.env}  # fmt: skip
        (root / "home").mkdir()
        try:
            docker_group = grp.getgrnam("docker").gr_gid
        except KeyError:
            missing("no docker group (the docker.io package creates it)")
        argv = as_user([sys.executable, "-m", "hatchling", "build", "-t", "wheel"],
                       cwd=root, env=env, groups=[docker_group])  # fmt: skip
        proc = subprocess.run(argv, cwd=project.path, env=env, capture_output=True, text=True,
                              check=False, timeout=600)  # fmt: skip
        assert proc.returncode == 0, output(proc)
        run_line = next(line for line in output(proc).splitlines() if " run --rm " in line)
        assert f" --user {UID}:{GID} " in run_line
        names = zipfile.ZipFile(project.only_zip()).namelist()
        assert "fx_cext/native.cpython-311-x86_64-linux-gnu.so" in names
        owners = {(p.stat().st_uid, p.stat().st_gid) for p in root.rglob("*")}
        assert owners == {(UID, GID)}, owners
        no_leftovers(project, daemon)
    finally:
        shutil.rmtree(root, ignore_errors=True)
