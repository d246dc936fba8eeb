"""Requires-Python upper bounds and the target's standard library: a release meant for older
Pythons is never resolved nor shipped, a backport the runtime's standard library provides is left
out, and anything else that would hide a standard library module fails the build."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from hatch_lambda.target import RUNTIMES
from support.project import Project, unpack
from support.pythons import find_python, missing

HANDLER = "fx_app.handler.handler"


def _version_in(zip_path: Path, module: str) -> str:
    with zipfile.ZipFile(zip_path) as zf:
        text = zf.read(f"{module}/__init__.py").decode()
    return text.split("VERSION = ")[1].strip().strip("'")


def _imports_on(version: str, bundle: Path, code: str) -> str:
    python = find_python(version)
    if python is None:
        missing(f"no Python {version} on this machine to import the bundle with")
        raise AssertionError  # not reached
    proc = subprocess.run([python, "-I", "-c", f"import sys; sys.path.insert(0, {str(bundle)!r}); "
                           + code], capture_output=True, text=True, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.mark.parametrize(
    ("specifier", "runtime", "admitted"),
    [
        (">=3.6, <3.7", "python3.9", False),
        (">=3.6, <3.11", "python3.11", False),
        (">=3.6, <3.11", "python3.10", True),
        (">=3.9.2", "python3.9", True),  # a bound inside the line: AWS's patch release decides
        ("<3.11.4", "python3.11", True),
        ("==3.12.*", "python3.12", True),
        ("!=3.13.*", "python3.13", False),
        (">=3.10", "python3.9", False),
    ],
)
def test_a_runtime_admits_what_some_patch_release_of_its_python_meets(
    specifier: str, runtime: str, admitted: bool
) -> None:
    assert RUNTIMES[runtime].admits(SpecifierSet(specifier)) is admitted


@pytest.mark.parametrize("resolver", ["uv", "pip"])
def test_a_release_whose_requires_python_excludes_the_runtime_is_skipped(
    app: Project, resolver: str, tmp_path: Path
) -> None:
    app.configure({"runtime": "python3.12", "handler": HANDLER, "extras": ["pyupper"],
                   "resolver": resolver})  # fmt: skip
    proc = app.build_wheel()
    assert _version_in(app.only_zip(), "fx_pyupper") == "1.0"
    if resolver == "uv":
        assert (
            "skipped fx-pyupper 2.0: it requires Python >=3.6, <3.11, and python3.12 runs 3.12"
        ) in proc.stderr
    bundle = unpack(app.only_zip(), tmp_path / "bundle")
    assert _imports_on("3.12", bundle, "import fx_pyupper; print(fx_pyupper.VERSION)") == "1.0"


def test_a_runtime_the_newest_release_serves_gets_it(app: Project) -> None:
    app.configure({"runtime": "python3.10", "handler": HANDLER, "extras": ["pyupper"]})
    proc = app.build_wheel()
    assert _version_in(app.only_zip(), "fx_pyupper") == "2.0"
    assert "skipped fx-pyupper" not in proc.stderr


def test_a_backport_the_standard_library_provides_is_left_out(app: Project, tmp_path: Path) -> None:
    app.configure({"runtime": "python3.12", "handler": HANDLER, "extras": ["backport"]})
    proc = app.build_wheel()
    assert (
        "left out typing 3.10.0.0 (the standard library of python3.12 provides typing; bundled, "
        "it would hide that module)"
    ) in proc.stderr
    with zipfile.ZipFile(app.only_zip()) as zf:
        names = zf.namelist()
    assert "typing.py" not in names
    assert not [n for n in names if n.startswith("typing-")]
    assert any("typing 3.10.0.0 (the standard library" in line
               for line in app.manifest()["left-out"])  # fmt: skip
    bundle = unpack(app.only_zip(), tmp_path / "bundle")
    assert (
        _imports_on("3.12", bundle, "import typing; print(typing.__file__)").find(str(bundle)) == -1
    )
    # A rebuild takes the wheel's top-level names from the cache, by its digest: same verdict.
    handler = app.path / "src" / "fx_app" / "handler.py"
    handler.write_text(handler.read_text() + "\n# changed\n")
    again = app.build_wheel()
    assert "Nothing changed" not in again.stderr
    assert "left out typing 3.10.0.0 (the standard library of python3.12" in again.stderr
    assert "typing.py" not in zipfile.ZipFile(app.only_zip()).namelist()
    assert list(Path(app.env["HATCH_LAMBDA_CACHE_DIR"]).glob("top-level/*/*"))


def test_a_distribution_that_hides_a_standard_library_module_fails_the_audit(
    app: Project,
) -> None:
    app.configure({"runtime": "python3.12", "handler": HANDLER, "extras": ["shadow"]})
    proc = app.hatchling("-t", "wheel")
    assert proc.returncode != 0
    assert (
        "[stdlib-shadow] json/__init__.py [fx-shadow 1.0]" in proc.stderr
        or "[stdlib-shadow] json/__init__.py: fx-shadow 1.0 puts a top-level module 'json'"
        in proc.stderr
    ), proc.stderr
    assert "Traceback" not in proc.stderr
    assert not app.artifacts()


def test_stdlib_shadow_can_be_a_warning(app: Project) -> None:
    app.configure({"runtime": "python3.12", "handler": HANDLER, "extras": ["shadow"],
                   "audit-warn": ["stdlib-shadow"]})  # fmt: skip
    proc = app.build_wheel()
    assert "[stdlib-shadow] json/__init__.py" in proc.stderr
    assert app.only_zip().exists()


@pytest.mark.parametrize("resolver", ["uv", "pip"])
def test_a_wheel_at_a_level_uv_cannot_name_is_used_on_amazon_linux_2(
    app: Project, resolver: str, tmp_path: Path
) -> None:
    app.configure({"runtime": "python3.11", "handler": HANDLER, "extras": ["glibc224"],
                   "resolver": resolver})  # fmt: skip
    proc = app.build_wheel()
    with zipfile.ZipFile(app.only_zip()) as zf:
        text = zf.read("fx_glibc224/__init__.py").decode()
    assert "manylinux_2_24_x86_64" in text
    if resolver == "uv":
        assert "resolving with pip, which takes the exact tags" in proc.stderr
    bundle = unpack(app.only_zip(), tmp_path / "bundle")
    assert _imports_on("3.11", bundle, "import fx_glibc224; print(fx_glibc224.VERSION)") == "1.0"
