"""Real hatchling builds of the fixture project for each runtime, architecture and resolver."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest

from hatch_lambda.bundle import source_of
from support.project import Project, clean_env, unpack
from support.pythons import call_handler, find_python, missing, qemu_python

HANDLER = "fx_app.handler.handler"
RUNTIMES = ["python3.9", "python3.11", "python3.12", "python3.13"]
ARCHITECTURES = ["x86_64", "arm64"]
RESOLVERS = ["uv", "pip"]
MACHINE = {"x86_64": "x86_64", "arm64": "aarch64"}


def expected_modules(runtime: str, architecture: str) -> dict[str, str]:
    """The WHEEL_TAG each fixture module must carry in a correct bundle."""
    m = MACHINE[architecture]
    minor = int(runtime.removeprefix("python3."))
    al2 = minor <= 11
    modules = {
        "fx_pure": "py3-none-any",
        "fx_markers": "py3-none-any",
        "fx_under_score": "py3-none-any",
        "fx_cpython": f"cp3{minor}-cp3{minor}-manylinux_2_17_{m}.manylinux2014_{m}",
    }
    if al2:
        modules["fx_native"] = f"cp39-abi3-manylinux_2_17_{m}.manylinux2014_{m}"
    elif m == "x86_64":
        modules["fx_native"] = "cp39-abi3-manylinux_2_27_x86_64.manylinux_2_28_x86_64"
    else:
        modules["fx_native"] = "cp39-abi3-manylinux_2_28_aarch64"
    if minor < 11:
        modules["fx_backport"] = "py3-none-any"
    modules["fx_armonly" if m == "aarch64" else "fx_x86only"] = "py3-none-any"
    return modules


_built: dict[tuple[str, str, str], tuple[Path, dict[str, Any]]] = {}


@pytest.fixture
def build(tmp_path_factory: pytest.TempPathFactory, build_cache: Path, index_url: str):  # type: ignore[no-untyped-def]
    def _build(runtime: str, architecture: str, resolver: str) -> tuple[Path, dict[str, Any]]:
        key = (runtime, architecture, resolver)
        if key not in _built:
            where = tmp_path_factory.mktemp(f"{runtime}-{architecture}-{resolver}")
            project = Project.copy(where / "app", clean_env(build_cache), index_url)
            project.configure(
                {
                    "runtime": runtime,
                    "architecture": architecture,
                    "handler": HANDLER,
                    "resolver": resolver,
                }
            )
            project.build_wheel()
            _built[key] = (project.only_zip(), project.manifest())
        return _built[key]

    return _build


def bundled_tags(zip_path: Path) -> dict[str, str]:
    tags = {}
    with zipfile.ZipFile(zip_path) as zf:
        for name in zf.namelist():
            if name.startswith("fx_") and name.endswith("/__init__.py") and name.count("/") == 1:
                if name.startswith("fx_app/"):
                    continue  # the project itself
                namespace: dict[str, Any] = {}
                exec(zf.read(name).decode(), namespace)
                tags[name.split("/")[0]] = namespace["WHEEL_TAG"]
    return tags


@pytest.mark.parametrize("resolver", RESOLVERS)
@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_bundle_holds_exactly_the_target_wheels(build, runtime, architecture, resolver):  # type: ignore[no-untyped-def]
    zip_path, manifest = build(runtime, architecture, resolver)

    assert zip_path.name == f"fx_app-1.2.3-{runtime}-{architecture}.zip"
    assert bundled_tags(zip_path) == expected_modules(runtime, architecture)
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
        assert zf.testzip() is None
    assert "fx_app/handler.py" in names
    # Bytecode (on by default) only where an interpreter of the version compiles it, beside its
    # source and for that version alone.
    version = runtime.removeprefix("python")
    pycs = [n for n in names if "__pycache__" in n]
    tag = f".cpython-{version.replace('.', '')}.pyc"
    assert all(n.endswith(tag) and source_of(n) in names for n in pycs), pycs
    assert bool(pycs) == (find_python(version) is not None)
    assert "fx_app/__pycache__/handler" + tag in names or not pycs
    assert not [n for n in names if n.startswith(("/", "..")) or "\\" in n]
    assert names == sorted(names)

    assert manifest["runtime"] == runtime
    assert manifest["architecture"] == architecture
    assert manifest["resolver"] == resolver
    assert manifest["handler"] == HANDLER
    packages = {p["name"]: p for p in manifest["packages"]}
    assert packages["fx-app"]["origin"] == "project"
    assert "fx-windows" not in packages
    assert manifest["archive"]["sha256"] and manifest["archive"]["file"] == zip_path.name


@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_resolvers_agree(build, runtime, architecture):  # type: ignore[no-untyped-def]
    uv_zip, _ = build(runtime, architecture, "uv")
    pip_zip, _ = build(runtime, architecture, "pip")
    assert uv_zip.read_bytes() == pip_zip.read_bytes()


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_x86_64_bundle_runs_on_its_python(build, runtime, tmp_path):  # type: ignore[no-untyped-def]
    version = runtime.removeprefix("python")
    python = find_python(version)
    if python is None:
        missing(f"no Python {version} on this machine to import the {runtime} bundle with")
    zip_path, _ = build(runtime, "x86_64", "uv")
    bundle = unpack(zip_path, tmp_path / "bundle")
    result = call_handler([python], str(bundle), HANDLER, {"ping": 1})
    assert result["python"] == version
    assert result["machine"] == "x86_64"
    assert result["modules"] == expected_modules(runtime, "x86_64")
    assert result["echo"] == {"ping": 1}


@pytest.mark.qemu
def test_arm64_bundle_runs_under_qemu(build, tmp_path):  # type: ignore[no-untyped-def]
    argv = qemu_python()
    if argv is None:
        missing("no qemu-aarch64 and arm64 root with Python 3.11 (run .ci/arm64-root.sh)")
    zip_path, _ = build("python3.11", "arm64", "uv")
    bundle = unpack(zip_path, tmp_path / "bundle")
    result = call_handler(argv, str(bundle), HANDLER, {"arch": "arm64"})
    assert result["python"] == "3.11"
    assert result["machine"] == "aarch64"
    assert result["modules"] == expected_modules("python3.11", "arm64")
