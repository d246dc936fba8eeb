"""Sdist-only packages: an optional C extension is left out (with a warning) rather than refused,
a required one fails clearly, and legacy archive formats are handled."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from email.parser import HeaderParser
from pathlib import Path

import pytest
from test_failures import BASE, failing_build

from support.index import make_wheel
from support.project import Project, unpack
from support.pythons import call_handler, find_python, missing


@pytest.mark.parametrize("resolver", ["uv", "pip"])
def test_optional_c_speedups_fall_back_to_the_pure_python_wheel(
    app: Project, resolver: str, tmp_path: Path
) -> None:
    app.configure({**BASE, "extras": ["speedups"], "resolver": resolver})
    proc = app.build_wheel()
    out = proc.stdout + proc.stderr
    assert "Traceback" not in out
    assert "fx-speedups 1.0" in out and "its optional C speedups are off" in out
    assert "Container mode (container = true) builds them" in out
    with zipfile.ZipFile(app.only_zip()) as zf:
        names = zf.namelist()
        assert b"WHEEL_TAG = 'py3-none-any'" in zf.read("fx_speedups/__init__.py")
    assert not [n for n in names if n.endswith(".so")], names
    packages = {p["name"]: p for p in app.manifest()["packages"]}
    assert packages["fx-speedups"]["origin"] == "sdist"
    assert packages["fx-speedups"]["tags"] == ["py3-none-any"]
    python = find_python("3.12")
    if python is None:
        missing("no python3.12 to build and import with")
        return
    # Built with the target's CPython, whichever runs the build.
    assert "built fx_speedups-1.0-cp312-cp312-linux_x86_64.whl" in out
    bundle = unpack(app.only_zip(), tmp_path / "bundle")
    result = call_handler([python], str(bundle), "fx_app.handler.handler", {})
    assert result["python"] == "3.12"
    assert result["modules"]["fx_speedups"] == "py3-none-any"


@pytest.mark.parametrize("resolver", ["uv", "pip"])
def test_a_required_c_extension_still_fails_with_the_clear_message(
    app: Project, resolver: str
) -> None:
    out = failing_build(app, {**BASE, "extras": ["cext"], "resolver": resolver})
    assert "fx-cext 1.0 has no wheel for python3.12 x86_64; only the sdist" in out
    assert "contains compiled code" in out and "does not build without a C compiler" in out
    assert "container mode: container = true" in out
    assert "speedups are off" not in out


@pytest.mark.parametrize("resolver", ["uv", "pip"])
def test_a_legacy_tar_bz2_sdist_is_refused_saying_so_and_what_to_do(
    app: Project, resolver: str
) -> None:
    out = failing_build(app, {**BASE, "extras": ["bz2"], "resolver": resolver})
    assert (
        "fx-legacy-bz2: 1.0 offers fx_legacy_bz2-1.0.tar.bz2: legacy .tar.bz2 sdists are not "
        in out
    )
    assert "supported (uv refuses them, and a PEP 751 lock cannot record them)" in out
    assert "pin a release with a wheel or a .tar.gz sdist, or build its wheel once" in out
    assert "is not usable" not in out and "command:" not in out


def test_a_wheel_without_compiled_files_is_retagged_pure(tmp_path: Path) -> None:
    from hatch_lambda.wheelhouse._retag import retag_pure

    built = make_wheel(tmp_path, "fx-fallback", "1.0", "cp312-cp312-linux_x86_64")
    _end_wheel_file_with_a_blank_line(built)
    pure = retag_pure(built, tmp_path / "out")
    assert pure is not None and pure.name == "fx_fallback-1.0-py3-none-any.whl"
    with zipfile.ZipFile(pure) as zf:
        wheel = zf.read("fx_fallback-1.0.dist-info/WHEEL").decode()
        record = zf.read("fx_fallback-1.0.dist-info/RECORD").decode()
    headers = HeaderParser().parsestr(wheel)
    assert headers.get_all("Tag") == ["py3-none-any"] and headers["Root-Is-Purelib"] == "true"
    assert "linux_x86_64" not in wheel
    digest = base64.urlsafe_b64encode(hashlib.sha256(wheel.encode()).digest()).rstrip(b"=")
    assert f"fx_fallback-1.0.dist-info/WHEEL,sha256={digest.decode()}," in record


def test_a_wheel_with_a_shared_library_is_not_retagged(tmp_path: Path) -> None:
    from hatch_lambda.wheelhouse._retag import retag_pure

    built = make_wheel(
        tmp_path, "fx-fallback", "1.0", "cp312-cp312-linux_x86_64",
        extra_files={"fx_fallback/_speedups.cpython-312-x86_64-linux-gnu.so": b"\x7fELF"},
    )  # fmt: skip
    assert retag_pure(built, tmp_path / "out") is None


def _end_wheel_file_with_a_blank_line(wheel: Path) -> None:
    """As bdist_wheel writes it."""
    with zipfile.ZipFile(wheel) as zf:
        members = [(info, zf.read(info)) for info in zf.infolist()]
    with zipfile.ZipFile(wheel, "w") as zf:
        for info, data in members:
            zf.writestr(info, data + b"\n" if info.filename.endswith("/WHEEL") else data)
