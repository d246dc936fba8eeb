"""Container mode with a real engine (Podman here), and its errors."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from support.native import native_answer
from support.project import Project
from support.pythons import missing

IMAGE = "localhost/hatch-lambda-test:x86_64"
FIXTURES = Path(__file__).parents[1] / "fixtures"
CONF = Path(os.environ.get("CONTAINERS_CONF", "/etc/containers/hatch-lambda-tests.conf"))


@pytest.fixture
def podman(app: Project, tmp_path: Path) -> Project:
    """The `fx-locked` project set up to build in the test image with Podman (.ci/test-image.sh).

    The image is Debian's (glibc 2.36), not Amazon Linux, so pip in it would pick wheels above
    python3.11's glibc for fx-app's fx-native: this project has no such dependency.
    """
    if shutil.which("podman") is None:
        missing("podman is not installed (apt-get install podman runc)")
    env = {**app.env, "CONTAINERS_CONF": str(CONF)}
    probe = subprocess.run(["podman", "image", "exists", IMAGE], env=env, check=False)
    if probe.returncode != 0:
        missing(f"the test image {IMAGE} is missing (run .ci/test-image.sh)")
    return Project.copy(tmp_path / "locked", env, app.index_url, name="locked")


def container_table(**more: object) -> dict[str, object]:
    # The image has Debian's Python 3.11; host networking reaches the fixture index on 127.0.0.1.
    # Bytecode is off where it is beside the point: with the default, a machine without a local
    # CPython 3.11 would start the image once more to compile.
    return {"runtime": "python3.11", "container": "podman", "image": IMAGE, "network": "host",
            "extras": ["cext"], "requirements": "project", "handler": "fx_locked.app.handler",
            "compile-bytecode": False, **more}  # fmt: skip


def test_a_c_extension_without_wheels_fails_in_local_mode(app: Project) -> None:
    app.configure({"runtime": "python3.11", "extras": ["cext"]})
    proc = app.hatchling("-t", "wheel")
    assert proc.returncode != 0
    assert "fx-cext 1.0 has no wheel for python3.11 x86_64" in proc.stderr
    assert "container mode" in proc.stderr


@pytest.mark.parametrize("file_access", ["bind-mount", "volume-copy"])
def test_a_c_extension_builds_in_the_container(
    podman: Project, tmp_path: Path, file_access: str
) -> None:
    podman.configure(container_table(**{"file-access": file_access}))
    proc = podman.hatchling("-t", "wheel")
    assert proc.returncode == 0, proc.stderr
    names = zipfile.ZipFile(podman.only_zip()).namelist()
    native = [n for n in names if n.startswith("fx_cext/native.") and n.endswith(".so")]
    assert native == ["fx_cext/native.cpython-311-x86_64-linux-gnu.so"]
    packages = {p["name"]: p for p in podman.manifest()["packages"]}
    assert packages["fx-cext"]["tags"] == ["cp311-cp311-linux_x86_64"]
    assert packages["fx-cext"]["origin"] == "container"
    # check agrees with the build: the manifest vouches for the plain linux tag.
    check = podman.run([sys.executable, "-m", "hatch_lambda", "check", str(podman.only_zip())])
    assert check.returncode == 0 and "warning" not in check.stdout, check.stdout + check.stderr

    assert native_answer(podman.only_zip(), tmp_path) == "42"
    assert not [p for p in podman.lambda_dir.iterdir() if p.name.startswith(".hatch-lambda-stage")]


def test_a_local_library_with_compiled_code_builds_in_the_container(
    podman: Project, tmp_path: Path, index: tuple[str, list[str]]
) -> None:
    """A path dependency with a C extension, which local mode refuses (it would build for this
    machine), builds in the image with its own backend; its name is never looked up on the index
    (which holds an sdist of that name), and an edit to the library builds it again."""
    lib = tmp_path / "libs" / "cext"
    shutil.copytree(FIXTURES / "sdists" / "fx-cext", lib)
    shutil.copy(FIXTURES / "sdists" / "_backend.py", lib)
    podman.template = (
        podman.template.replace(
            'cext = ["fx-cext"]', 'cext = ["fx-cext @ {root:parent:uri}/libs/cext"]'
        )
        + "\n[tool.hatch.metadata]\nallow-direct-references = true\n"
    )
    podman.configure(container_table())
    before = sum("fx-cext" in p or "fx_cext" in p for p in index[1])
    proc = podman.hatchling("-t", "wheel")
    assert proc.returncode == 0, proc.stderr
    assert native_answer(podman.only_zip(), tmp_path / "first") == "42"
    packages = {p["name"]: p for p in podman.manifest()["packages"]}
    assert packages["fx-cext"]["origin"] == "local"
    assert packages["fx-cext"]["tags"] == ["cp311-cp311-linux_x86_64"]
    assert sum("fx-cext" in p or "fx_cext" in p for p in index[1]) == before
    check = podman.run([sys.executable, "-m", "hatch_lambda", "check", str(podman.only_zip())])
    assert check.returncode == 0 and "warning" not in check.stdout, check.stdout + check.stderr
    # Unchanged: no container. Edited: built again, in the image.
    app = podman.path / "src" / "fx_locked" / "app.py"
    app.write_text(app.read_text() + "\n# changed\n")
    proc = podman.hatchling("-t", "wheel")
    assert proc.returncode == 0 and "no container started" in proc.stderr, proc.stderr
    native = lib / "native.c"
    native.write_text(native.read_text().replace("PyLong_FromLong(42)", "PyLong_FromLong(43)"))
    proc = podman.hatchling("-t", "wheel")
    assert proc.returncode == 0 and "Building the wheels in" in proc.stderr, proc.stderr
    assert native_answer(podman.only_zip(), tmp_path / "second") == "43"


def test_command_hooks_run_in_order_in_the_container(podman: Project) -> None:
    podman.configure(container_table(**{
        "before-bundling": ["echo one > /asset-output/log"],
        "after-bundling": ["echo two >> /asset-output/log", 'test "$(cat /asset-output/log)" = "one\ntwo"'],
    }))  # fmt: skip
    proc = podman.hatchling("-t", "wheel")
    assert proc.returncode == 0, proc.stderr
    failing = "echo fetching assets; echo 'no network' >&2; exit 3"
    podman.configure(container_table(**{"before-bundling": [failing]}))
    proc = podman.hatchling("-t", "wheel", HATCH_VERBOSE="1")
    assert proc.returncode != 0 and "exit status 3" in proc.stderr
    # Shown as printed at -v, and again as the last lines of the failure. The engine passes the
    # command's stdout and stderr through two pipes, so the two lines may come in either order.
    assert proc.stderr.count("    fetching assets\n") == 2, proc.stderr
    assert proc.stderr.count("    no network\n") == 2, proc.stderr
    tail = proc.stderr.split("  last lines of its output:\n", 1)[1]
    assert set(tail.splitlines()[:2]) == {"    fetching assets", "    no network"}, proc.stderr


def test_index_credentials_reach_the_container_unseen(podman: Project) -> None:
    url = str(podman.index_url).replace("http://", "http://alice:t0ken-in-container@")
    podman.index_url = url
    podman.configure(container_table(extras=[]))
    proc = podman.hatchling("-t", "wheel", HATCH_VERBOSE="3")
    assert proc.returncode == 0, proc.stderr
    assert "t0ken-in-container" not in proc.stdout + proc.stderr


@pytest.mark.parametrize("setting", [True, "auto"])
def test_bytecode_compiled_by_the_images_interpreter_and_kept(
    podman: Project, tmp_path: Path, setting: bool | str
) -> None:
    # No CPython 3.11 on this PATH, in pyenv or among uv's Pythons (the tests give uv an empty
    # folder): the image's interpreter compiles, and with "auto" too nothing is downloaded.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "podman").symlink_to(shutil.which("podman") or "podman")
    hidden = {"PATH": str(bin_dir), "PYENV_ROOT": str(tmp_path / "no-pyenv"), "HATCH_VERBOSE": "2"}
    podman.configure(container_table(extras=[], **{"compile-bytecode": setting}))
    proc = podman.hatchling("-t", "wheel", **hidden)
    assert proc.returncode == 0, proc.stderr
    pycs = [n for n in zipfile.ZipFile(podman.only_zip()).namelist() if n.endswith(".pyc")]
    assert pycs and all(".cpython-311.pyc" in n for n in pycs)
    assert "pip wheel" in proc.stderr and "compileall" in proc.stderr  # both in the image
    assert "Downloading CPython" not in proc.stderr and "no CPython" not in proc.stderr

    # A code-only change: the dependencies' bytecode is kept, only the project's is compiled.
    app_py = podman.path / "src" / "fx_locked" / "app.py"
    app_py.write_text(app_py.read_text() + "\nCHANGED = True\n")
    proc = podman.hatchling("-t", "wheel", **hidden)
    assert proc.returncode == 0, proc.stderr
    compiled = [line for line in proc.stderr.splitlines() if line.strip().startswith("compiled ")]
    assert len(compiled) == 1 and "fx_locked-0.5.0.dist-info" in compiled[0], compiled
    assert "pip wheel" not in proc.stderr  # the wheels were kept


def test_local_command_hooks_run_in_a_staged_copy(app: Project) -> None:
    app.configure({
        "runtime": "python3.12",
        "before-bundling": ['echo first >> "$HATCH_LAMBDA_STAGE/order.txt"'],
        "after-bundling": ['echo second >> "$HATCH_LAMBDA_STAGE/order.txt"',
                           'cp "$HATCH_LAMBDA_STAGE/order.txt" "$HATCH_LAMBDA_BUNDLE/order.txt"'],
    })  # fmt: skip
    proc = app.hatchling("-t", "wheel")
    assert proc.returncode == 0, proc.stderr
    assert zipfile.ZipFile(app.only_zip()).read("order.txt") == b"first\nsecond\n"
    assert not (app.path / "order.txt").exists()


def test_missing_and_stopped_engines(app: Project) -> None:
    app.configure({"runtime": "python3.12", "container": "finch"})
    proc = app.hatchling("-t", "wheel", PATH="/usr/bin:/bin")
    assert proc.returncode != 0 and "finch" in proc.stderr and "install" in proc.stderr.lower()
    if shutil.which("docker"):  # here, the Docker client is installed and no engine runs
        app.configure({"runtime": "python3.12", "container": "docker"})
        proc = app.hatchling("-t", "wheel")
        assert proc.returncode != 0 and "not running" in proc.stderr


@pytest.mark.qemu
def test_an_arm64_build_under_emulation(podman: Project, tmp_path: Path) -> None:
    arm_image = IMAGE.replace("x86_64", "arm64")
    if subprocess.run(
        ["podman", "image", "exists", arm_image], env=podman.env, check=False
    ).returncode:
        missing(f"the arm64 test image {arm_image} is missing (run .ci/test-image.sh arm64)")
    podman.configure(container_table(image=arm_image, architecture="arm64"))
    proc = podman.hatchling("-t", "wheel")
    assert proc.returncode == 0, proc.stderr
    assert native_answer(podman.only_zip(), tmp_path, "arm64") == "42"
