"""A package resolved to an older release because the newest has no wheel for the target: the
build says which, and why, read from the newest release's wheel tags."""

from __future__ import annotations

import zipfile

import pytest
from packaging.tags import parse_tag
from packaging.version import Version

from hatch_lambda.target import resolve_target
from hatch_lambda.wheelhouse._held_back import why
from support.project import Project

HANDLER = "fx_app.handler.handler"


def _version_in(zip_path: object, module: str) -> str:
    with zipfile.ZipFile(str(zip_path)) as zf:
        text = zf.read(f"{module}/__init__.py").decode()
    return text.split("VERSION = ")[1].strip().strip("'")


@pytest.mark.parametrize("resolver", ["uv", "pip"])
def test_the_output_says_what_was_held_back_and_why(
    app: Project, resolver: str, index: tuple[str, list[str]]
) -> None:
    app.configure({"runtime": "python3.12", "handler": HANDLER, "extras": ["heldback"],
                   "resolver": resolver})  # fmt: skip
    proc = app.build_wheel()
    assert (
        "fx-heldback held back to 1.0: 2.0 has no wheel for python3.12 x86_64 (its wheels for "
        "x86_64 are for cp313-cp313, and python3.12 is cp312)"
    ) in proc.stderr
    assert _version_in(app.only_zip(), "fx_heldback") == "1.0"
    assert "fx-pure held back" not in proc.stderr  # the newest, 2.0, was taken
    # A rebuild reuses the resolution, and asks the index nothing.
    _, seen = index
    before = len(seen)
    proc = app.build_wheel()
    assert "held back" not in proc.stderr
    assert not [p for p in seen[before:] if "fx-heldback" in p]


def test_a_runtime_the_newest_release_serves_gets_it_without_a_word(app: Project) -> None:
    app.configure({"runtime": "python3.13", "handler": HANDLER, "extras": ["heldback"]})
    proc = app.build_wheel()
    assert "fx-heldback held back" not in proc.stderr
    assert _version_in(app.only_zip(), "fx_heldback") == "2.0"


def test_amazon_linux_2s_glibc_holds_back_a_package_built_for_a_newer_one(app: Project) -> None:
    app.configure({"runtime": "python3.11", "architecture": "arm64", "handler": HANDLER})
    proc = app.build_wheel()
    assert (
        "fx-native held back to 1.0: 2.0 has no wheel for python3.11 arm64 (its wheels need "
        "glibc 2.28 or newer, and python3.11 has 2.26)"
    ) in proc.stderr


def _release(*tags: str, sdist: bool = False) -> tuple[Version, list[tuple[str, frozenset]], bool]:  # type: ignore[type-arg]
    return Version("2.0"), [(f"x-2.0-{t}.whl", parse_tag(t)) for t in tags], sdist


@pytest.mark.parametrize(
    ("tags", "reason"),
    [
        ((), "it publishes only an sdist"),
        (("cp39-abi3-musllinux_1_2_x86_64",), "its Linux wheels for x86_64 are musllinux"),
        (("cp312-cp312-macosx_11_0_arm64", "cp312-cp312-win_amd64"),
         "its wheels are for macosx_11_0_arm64, win_amd64"),
        (("cp312-cp312-manylinux_2_17_aarch64",), "its wheels are for manylinux_2_17_aarch64"),
        (("cp311-cp311-manylinux_2_28_x86_64",), "its wheels need glibc 2.28 or newer, and "
         "python3.11 has 2.26"),
        (("py2-none-any",), "its wheels for x86_64 are for py2-none, and python3.11 is cp311"),
    ],
)  # fmt: skip
def test_why_a_release_has_no_wheel_for_the_target(tags: tuple[str, ...], reason: str) -> None:
    target, _ = resolve_target("python3.11", "x86_64")
    assert why(_release(*tags, sdist=not tags), target).startswith(reason)
