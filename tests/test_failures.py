"""Builds that must fail, and how: each error names the package or key and says what to do."""

from __future__ import annotations

import re
import zipfile

import pytest

from support.project import Project

BASE = {"runtime": "python3.12", "architecture": "x86_64", "handler": "fx_app.handler.handler"}
SET_REPR = re.compile(r"\{'[^}]*'\}|\{[a-z-]+==")


def failing_build(app: Project, table: dict[str, object]) -> str:
    app.configure(table)
    proc = app.hatchling("-t", "wheel")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "Traceback" not in out
    assert not SET_REPR.search(out), out
    assert app.artifacts() == [] and app.artifacts(".json") == []
    return out


@pytest.mark.parametrize("resolver", ["uv", "pip"])
def test_pure_python_sdist_is_built_into_a_wheel(app: Project, resolver: str) -> None:
    app.configure({**BASE, "extras": ["sdist"], "resolver": resolver})
    app.build_wheel()
    with zipfile.ZipFile(app.only_zip()) as zf:
        assert zf.read("fx_sdist_pure/__init__.py").startswith(b"WHEEL_TAG = 'py3-none-any'")
    packages = {p["name"]: p for p in app.manifest()["packages"]}
    assert packages["fx-sdist-pure"]["origin"] == "sdist"
    assert packages["fx-sdist-pure"]["tags"] == ["py3-none-any"]


@pytest.mark.parametrize("resolver", ["uv", "pip"])
def test_compiled_sdist_fails_naming_package_version_and_remedy(
    app: Project, resolver: str
) -> None:
    out = failing_build(app, {**BASE, "extras": ["compiled"], "resolver": resolver})
    assert "fx-sdist-compiled 1.0 has no wheel for python3.12 x86_64" in out
    assert "compiled code" in out
    assert "container mode" in out and "pin a version of fx-sdist-compiled" in out


@pytest.mark.parametrize("resolver", ["uv", "pip"])
def test_a_package_the_index_lacks_is_named_with_check_the_name_and_the_index(
    app: Project, resolver: str
) -> None:
    out = failing_build(app, {**BASE, "extras": ["typo"], "resolver": resolver})
    assert f"What to do: fx-pur is not on {app.index_url}: check the name" in out
    assert "and the index (index-url, extra-index-urls, find-links" in out
    assert "needs a release with a wheel" not in out
    assert "trying its source distribution" not in out  # no round with its sdist


@pytest.mark.parametrize("resolver", ["uv", "pip"])
def test_an_sdist_only_package_with_a_binary_twin_names_the_twin(
    app: Project, resolver: str
) -> None:
    out = failing_build(app, {**BASE, "extras": ["pg"], "resolver": resolver})
    assert "psycopg2 2.9.10 has no wheel for python3.12 x86_64" in out
    assert "For psycopg2: depend on psycopg2-binary, the same code published with manylinux" in out


@pytest.mark.parametrize("resolver", ["uv", "pip"])
def test_package_without_any_loadable_file_fails_naming_it(app: Project, resolver: str) -> None:
    out = failing_build(app, {**BASE, "extras": ["hostonly"], "resolver": resolver})
    assert "fx-hostonly" in out
    assert "python3.12 x86_64" in out
    assert "What to do: every package named above needs a release with a wheel" in out


def test_unknown_extra_names_the_defined_ones(app: Project) -> None:
    out = failing_build(app, {**BASE, "extras": ["nope"]})
    assert "extras ['nope'] are not defined by fx-app" in out
    assert "'compiled'" in out and "'extra'" in out


def test_extras_are_bundled_including_self_references(app: Project) -> None:
    app.configure({**BASE, "extras": ["again"]})
    app.build_wheel()
    with zipfile.ZipFile(app.only_zip()) as zf:
        assert "fx_extra_dep/__init__.py" in zf.namelist()


def test_missing_handler_function_fails_before_the_zip_is_written(app: Project) -> None:
    out = failing_build(app, {**BASE, "handler": "fx_app.handler.handle"})
    assert "handler 'fx_app.handler.handle': fx_app/handler.py defines no 'handle'" in out
    assert "handler, not_a_handler_module_level_value" in out


def test_missing_handler_module_fails(app: Project) -> None:
    out = failing_build(app, {**BASE, "handler": "fx_app.api.handler"})
    assert "no fx_app/api.py or fx_app/api/__init__.py" in out


def test_platform_tags_override_warns_about_tags_lambda_cannot_load(app: Project) -> None:
    app.configure({**BASE, "platform-tags": ["musllinux_1_2_x86_64", "manylinux_2_17_x86_64"]})
    proc = app.build_wheel()
    assert (
        "platform tag 'musllinux_1_2_x86_64' was asked for, but Lambda python3.12 x86_64 cannot "
        "load such wheels: Lambda runs glibc, not musl" in proc.stderr
    )
    with zipfile.ZipFile(app.only_zip()) as zf:
        # The override is obeyed, in its order: fx-native 2.0's musllinux wheel comes first.
        assert b"musllinux_1_2_x86_64" in zf.read("fx_native/__init__.py")
    assert app.manifest()["resolver"] == "pip"


def test_platform_tags_override_restricts_the_choice(app: Project) -> None:
    app.configure({**BASE, "platform-tags": ["manylinux2014_x86_64"]})
    app.build_wheel()
    with zipfile.ZipFile(app.only_zip()) as zf:
        assert b"'cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64'" in zf.read(
            "fx_native/__init__.py"
        )


def test_uv_refuses_platform_tags_it_cannot_express(app: Project) -> None:
    out = failing_build(app, {**BASE, "resolver": "uv", "platform-tags": ["musllinux_1_2_x86_64"]})
    assert 'set resolver = "pip"' in out


@pytest.mark.parametrize("resolver", ["uv", "pip"])
def test_every_requested_package_without_a_usable_file_is_named_at_once(
    app: Project, resolver: str
) -> None:
    out = failing_build(app, {**BASE, "extras": ["nofiles"], "resolver": resolver})
    assert "2 requested packages have no file python3.12 x86_64 can use:" in out
    assert "  fx-hostonly: 1 release, none with a usable file; 1.0 offers wheels tagged " in out
    assert "  fx-winonly: 1 release, none with a usable file; 1.0 offers wheels tagged " in out
    assert "cp312-cp312-win_amd64" in out
    assert "fx-pure" not in out.split("can use:")[1]  # it has a wheel
    assert "What to do: every package named above needs a release with a wheel" in out
    assert "command:" not in out and "resolver's command" not in out
    assert "pip compile" not in out and "_pip_target.py" not in out


def test_the_resolvers_command_is_shown_at_v(app: Project) -> None:
    app.configure({**BASE, "extras": ["nofiles"], "resolver": "uv"})
    proc = app.hatchling("-t", "wheel", HATCH_VERBOSE="1")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Traceback" not in out
    assert "the resolver's command: " in out and "pip compile" in out
    assert "2 requested packages have no file python3.12 x86_64 can use:" in out
