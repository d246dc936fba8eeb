"""Several artifacts per project: layers, wheelhouses, functions deployed with a layer; excludes,
slimming, runtime-provided packages, bytecode and size limits."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from hatch_lambda._provided import PROVIDED
from hatch_lambda.bundle import source_of
from support.index import make_wheel
from support.project import Project, unpack
from support.pythons import call_handler, find_python, missing

HANDLER = "fx_app.handler.handler"
KEY = "tool.hatch.build.targets.wheel.hooks.lambda"


def names(zip_path: Path) -> list[str]:
    with zipfile.ZipFile(zip_path) as zf:
        return zf.namelist()


def manifest(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.with_suffix(".json").read_text())
    return data


def tops(entries: list[str], prefix: str = "") -> set[str]:
    return {e[len(prefix) :].split("/", 1)[0] for e in entries if e.startswith(prefix)}


@pytest.fixture
def split(app: Project) -> Project:
    """Two functions and a layer for two runtimes: the common deployment split."""
    app.configure({
        "runtime": "python3.12",
        "artifacts": {
            "deps": {"kind": "layer", "runtimes": ["python3.11", "python3.12"],
                     "contents": "dependencies"},
            "api": {"handler": HANDLER, "layers": ["deps"]},
            "worker": {"handler": HANDLER, "contents": "project"},
        },
    })  # fmt: skip
    app.build_wheel()
    return app


def test_layer_function_and_code_only_function(split: Project) -> None:
    out = split.lambda_dir
    layer = out / "fx_app-1.2.3-deps-python3.11+python3.12-x86_64.zip"
    api = out / "fx_app-1.2.3-api-python3.12-x86_64.zip"
    worker = out / "fx_app-1.2.3-worker-python3.12-x86_64.zip"
    assert sorted(p.name for p in split.artifacts()) == sorted(p.name for p in (layer, api, worker))

    entries = names(layer)
    assert all(e.startswith("python/") for e in entries)
    # What is the same for both runtimes is shared; compiled wheels that differ are per version.
    assert {"fx_pure", "fx_markers", "fx_under_score", "fx_x86only"} <= tops(entries, "python/")
    for minor in ("11", "12"):
        site = f"python/lib/python3.{minor}/site-packages/"
        assert tops(entries, site) >= {"fx_cpython", "fx_native"}
    assert not [e for e in entries if e.startswith("python/fx_app")]  # dependencies only
    data = manifest(layer)
    assert data["kind"] == "layer" and data["runtimes"] == ["python3.11", "python3.12"]
    native = [p for p in data["packages"] if p["name"] == "fx-native"]
    assert {(p["version"], tuple(p["runtimes"])) for p in native} == {
        ("1.0", ("python3.11",)),
        ("2.0", ("python3.12",)),
    }

    # The api function leaves out everything the layer holds, at the same version.
    assert tops(names(api)) == {"fx_app", "fx_app-1.2.3.dist-info"}
    left_out = manifest(api)["left-out"]
    assert "fx-pure 2.0 (in layer deps)" in left_out and len(left_out) == 6
    assert tops(names(worker)) == {"fx_app", "fx_app-1.2.3.dist-info"}


def test_function_runs_with_its_layer(split: Project, tmp_path: Path) -> None:
    python = find_python("3.12")
    if python is None:
        missing("no Python 3.12 to run the function with its layer")
    out = split.lambda_dir
    function = unpack(out / "fx_app-1.2.3-api-python3.12-x86_64.zip", tmp_path / "task")
    layer = unpack(out / "fx_app-1.2.3-deps-python3.11+python3.12-x86_64.zip", tmp_path / "opt")
    # Lambda's order: /var/task, then the layer's version folder, then /opt/python.
    runner = (
        "import json, sys; sys.path[:0] = sys.argv[1:4]; "
        "from fx_app.handler import handler; print(json.dumps(handler({}, None)))"
    )
    proc = subprocess.run(
        [python, "-I", "-S", "-c", runner, str(function),
         str(layer / "python/lib/python3.12/site-packages"), str(layer / "python")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    modules = json.loads(proc.stdout)["modules"]
    assert modules["fx_native"].startswith("cp39-abi3-manylinux_2_27_x86_64")
    assert modules["fx_cpython"].startswith("cp312-cp312-")
    assert modules["fx_pure"] == "py3-none-any"


def test_layer_and_function_must_match(app: Project) -> None:
    app.configure({
        "artifacts": {
            "deps": {"kind": "layer", "runtime": "python3.11", "architecture": "arm64"},
            "api": {"runtime": "python3.12", "layers": ["deps", "missing"], "handler": HANDLER},
        },
    })  # fmt: skip
    proc = app.hatchling("-t", "wheel")
    assert proc.returncode != 0
    assert f"{KEY}.artifacts.api.layers[0]: layer 'deps' is built for arm64" in proc.stderr
    assert "layer 'deps' serves python3.11, not python3.12" in proc.stderr
    assert (
        f"{KEY}.artifacts.api.layers[1] names 'missing', which is not a layer artifact"
        in proc.stderr
    )


def test_wheelhouse_installs_offline(app: Project, tmp_path: Path) -> None:
    app.configure({"artifacts": {"wheels": {"kind": "wheelhouse", "runtime": "python3.11"}}})
    built = app.build_wheel()
    folder = app.lambda_dir / "fx_app-1.2.3-wheels-python3.11-x86_64-wheelhouse"
    assert (folder / "requirements.txt").is_file()
    files = sorted(folder.iterdir())
    size = sum(p.stat().st_size for p in files)
    assert f"{folder} ({len(files)} files, {size:,} bytes)\n" in built.stderr
    requirements = (folder / "requirements.txt").read_text()
    assert "fx-app==1.2.3 --hash=sha256:" in requirements
    assert "fx-native==1.0 --hash=sha256:" in requirements
    data = json.loads((app.lambda_dir / f"{folder.name[: -len('-wheelhouse')]}.json").read_text())
    assert (
        data["kind"] == "wheelhouse" and "pip install --no-index" in data["wheelhouse"]["install"]
    )
    target = tmp_path / "fresh"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-index", "--find-links", str(folder),
         "-r", str(folder / "requirements.txt"), "--target", str(target), "--no-compile"],
        capture_output=True, text=True, check=False, env={**app.env},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (target / "fx_app" / "handler.py").is_file()
    assert (target / "fx_native" / "__init__.py").is_file()


def test_wheelhouse_for_two_runtimes_marks_what_differs(app: Project) -> None:
    app.configure({"kind": "wheelhouse", "runtimes": ["python3.11", "python3.12"]})
    app.build_wheel()
    [folder] = [p for p in app.lambda_dir.iterdir() if p.is_dir()]
    text = (folder / "requirements.txt").read_text()
    assert "fx-native==1.0 ; python_version == '3.11' --hash" in text
    assert "fx-native==2.0 ; python_version == '3.12' --hash" in text
    assert "fx-pure==2.0 --hash" in text


def test_default_and_configured_excludes(app: Project) -> None:
    tests = app.path / "src" / "fx_app" / "tests"
    tests.mkdir()
    (tests / "test_handler.py").write_text("def test(): pass\n")
    (app.path / "src" / "fx_app" / "conftest.py").write_text("")
    (app.path / "src" / "fx_app" / "notes.txt").write_text("internal")
    app.configure({"runtime": "python3.12", "exclude": ["*.txt", "fx_markers/"]})
    app.build_wheel()
    entries = names(app.only_zip())
    assert "fx_app/handler.py" in entries
    assert not [e for e in entries if e.startswith("fx_app/tests/") or e.endswith("conftest.py")]
    assert "fx_app/notes.txt" not in entries
    assert not [e for e in entries if e.startswith("fx_markers/")]
    assert "fx_markers-1.0.dist-info/METADATA" in entries  # metadata is never excluded


def test_slim_removes_exactly_what_the_readme_lists(app: Project) -> None:
    # Bytecode is beside the point: the list is of what the wheel installs.
    app.configure(
        {"runtime": "python3.12", "extras": ["slim"], "slim": True, "compile-bytecode": False}
    )
    app.build_wheel()
    kept = {e for e in names(app.only_zip()) if e.startswith("fx_slim")}
    assert kept == {
        "fx_slim/__init__.py", "fx_slim/testing.py", "fx_slim/py.typed",
        "fx_slim/data/schema.json", "fx_slim-1.0.dist-info/INSTALLER",
        "fx_slim-1.0.dist-info/METADATA", "fx_slim-1.0.dist-info/RECORD",
        "fx_slim-1.0.dist-info/WHEEL",
    }  # fmt: skip
    app.configure({"runtime": "python3.12", "extras": ["slim"]})
    app.build_wheel()
    assert "fx_slim/_speedups.c" in names(app.only_zip())


def test_exclude_runtime_provided_drops_boto3_and_what_only_it_needs(app: Project) -> None:
    app.configure({"runtime": "python3.12", "extras": ["aws"], "exclude-runtime-provided": True})
    proc = app.build_wheel()
    present = {e.split("-")[0] for e in names(app.only_zip()) if e.endswith(".dist-info/METADATA")}
    assert {"boto3", "botocore", "s3transfer", "jmespath", "python_dateutil", "urllib3"}.isdisjoint(
        present
    )
    assert "six" in present  # fx-needs-six needs it too
    floor = PROVIDED[("python3.12", "x86_64")].distributions["boto3"]
    assert f"left out boto3 1.40.0 (provided by the runtime, which has {floor} or later)" in (
        proc.stderr
    )
    assert "left out python-dateutil 2.9.0 (provided by the runtime)" in proc.stderr
    assert app.manifest()["kept"] == []
    app.configure({"runtime": "python3.12", "extras": ["aws"]})
    app.build_wheel()
    present = {e.split("-")[0] for e in names(app.only_zip()) if e.endswith(".dist-info/METADATA")}
    assert {"boto3", "botocore", "python_dateutil"} <= present


def test_compile_bytecode_for_the_target_version(app: Project, tmp_path: Path) -> None:
    python = find_python("3.12")
    if python is None:
        missing("no Python 3.12 to compile with")
    app.configure({"runtime": "python3.12", "handler": HANDLER, "compile-bytecode": True})
    app.build_wheel()
    first = app.only_zip().read_bytes()
    with zipfile.ZipFile(app.only_zip()) as zf:
        pycs = [n for n in zf.namelist() if n.endswith(".pyc")]
        header = zf.read("fx_app/__pycache__/handler.cpython-312.pyc")[:16]
    assert pycs and all(".cpython-312.pyc" in n for n in pycs)
    assert int.from_bytes(header[4:8], "little") == 0b01  # hash-based, not checked at import
    app.build_wheel()
    assert app.only_zip().read_bytes() == first  # deterministic
    bundle = unpack(app.only_zip(), tmp_path / "b")
    proc = subprocess.run(
        [python, "-I", "-S", "-c",
         "import sys; sys.path.insert(0, sys.argv[1]); import fx_app.handler as h; print(h.__cached__)",
         str(bundle)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert call_handler([python], str(bundle), HANDLER, {})["python"] == "3.12"


@pytest.mark.parametrize("variable", [None, "/nonexistent/python3.14"])
def test_compile_bytecode_without_an_interpreter_fails_before_resolving(
    app: Project, variable: str | None
) -> None:
    app.configure({"runtime": "python3.14", "compile-bytecode": True})
    for folder in (app.path / "dist", app.lambda_dir):
        folder.mkdir()
        (folder / "keep.txt").write_text("not hatch-lambda's")
    env = {"HATCH_LAMBDA_PYTHON_314": variable} if variable else {}
    proc = app.hatchling("-t", "wheel", PATH="/usr/bin:/bin", PYENV_ROOT="/nonexistent", **env)
    assert proc.returncode != 0
    key = "tool.hatch.build.targets.wheel.hooks.lambda.compile-bytecode"
    assert f"{key} = true needs a CPython 3.14 interpreter to compile for python3.14" in proc.stderr
    if variable:
        assert f"HATCH_LAMBDA_PYTHON_314={variable} is not one" in proc.stderr
    else:
        assert (
            "looked at $HATCH_LAMBDA_PYTHON_314, python3.14 on PATH, pyenv and uv's" in proc.stderr
        )
    assert "uv's downloads are off (UV_PYTHON_DOWNLOADS=never)" in proc.stderr
    assert "To get one, run `uv python install 3.14`, or set HATCH_LAMBDA_PYTHON_314" in proc.stderr
    assert 'or set compile-bytecode = "auto" (the default)' in proc.stderr
    assert "Resolving" not in proc.stderr and "Traceback" not in proc.stderr
    for folder in (app.path / "dist", app.lambda_dir):
        assert [p.name for p in folder.iterdir()] == ["keep.txt"]


def test_size_limit_fails_with_the_largest_distributions(app: Project) -> None:
    app.configure({"runtime": "python3.12", "max-unzipped-size": 5000, "warn-zipped-size": 100})
    proc = app.hatchling("-t", "wheel")
    assert proc.returncode != 0
    assert "over your max-unzipped-size of 5,000. Largest distributions:" in proc.stderr
    assert "Lambda's" not in proc.stderr  # the limit is the user's, and the zip is far below his
    assert "Largest distributions:" in proc.stderr
    assert re.search(r"\d+\.\d MB  fx-[a-z-]+ \d", proc.stderr)
    assert app.artifacts() == []


def test_zipped_size_warning_names_the_users_threshold(app: Project) -> None:
    app.configure({"runtime": "python3.12", "warn-zipped-size": 100})
    proc = app.build_wheel()
    assert re.search(r"^warning: fx_app-1\.2\.3-python3\.12-x86_64\.zip is [\d,]+ bytes zipped, "
                     r"over your warn-zipped-size of 100$", proc.stderr, re.M), proc.stderr  # fmt: skip
    assert "Lambda refuses" not in proc.stderr
    # A warning, so `hatch -q` shows it, also when the artifact is reused; information is not.
    quiet = app.build_wheel(HATCH_QUIET="1")
    assert "warning: fx_app-1.2.3-python3.12-x86_64.zip is " in quiet.stderr
    assert "over your warn-zipped-size of 100" in quiet.stderr
    assert "Nothing changed" not in quiet.stderr and "Lambda function zip for" not in quiet.stderr


def test_default_250_mb_limit_counts_function_and_layers(app: Project, tmp_path: Path) -> None:
    links = tmp_path / "links"
    links.mkdir()
    # Zeros compress to almost nothing, so the wheel is small and its contents are not.
    make_wheel(links, "fx-huge", "1.0", "py3-none-any",
               extra_files={"fx_huge/blob.bin": bytes(140_000_000)})  # fmt: skip
    make_wheel(links, "fx-huge-too", "1.0", "py3-none-any",
               extra_files={"fx_huge_too/blob.bin": bytes(130_000_000)})  # fmt: skip
    (app.path / "layer.txt").write_text("fx-huge==1.0\n")
    (app.path / "requirements.txt").write_text(
        "fx-huge-too==1.0\nfx-pure==2.0\nfx-markers==1.0\nfx-x86only==1.0\n"
        "fx-native==2.0\nfx-cpython==1.0\nfx-under-score==1.0\n"
    )
    app.configure({
        "runtime": "python3.12", "find-links": [str(links)],
        "artifacts": {
            "big": {"kind": "layer", "requirements": "layer.txt", "contents": "dependencies"},
            "fn": {"layers": ["big"], "requirements": "requirements.txt"},
        },
    })  # fmt: skip
    proc = app.hatchling("-t", "wheel")
    assert proc.returncode != 0
    # Each part is under 250 MB; together they are not.
    assert "function 130,0" in proc.stderr and "layer big 140,0" in proc.stderr
    assert "over Lambda's limit of 262,144,000 for a function and all its layers" in proc.stderr
    assert "fx-huge 1.0  (layer big)" in proc.stderr
    assert "fx-huge-too 1.0  (function)" in proc.stderr
    assert not list(app.lambda_dir.glob("*-fn-*"))


def test_clean_removes_exactly_the_lambda_artifacts(split: Project) -> None:
    (split.lambda_dir / "notes.txt").write_text("mine")
    proc = split.hatchling("-t", "wheel", "--clean-only")
    assert proc.returncode == 0, proc.stderr
    assert [p.name for p in split.lambda_dir.iterdir()] == ["notes.txt"]


def test_a_wheel_holding_pycache_builds_without_warnings_on_stderr(
    app: Project, tmp_path: Path
) -> None:
    (app.path / "requirements.txt").write_text(
        "fx-pycache==1.0\nfx-pure==1.0\nfx-markers==1.0\nfx-x86only==1.0\nfx-native==1.0\n"
        "fx-cpython==1.0\nfx-under-score==1.0\n"
    )
    app.configure({"runtime": "python3.11", "handler": HANDLER, "requirements": "requirements.txt"})
    output = "\n".join(app.build_wheel().stderr.splitlines())
    assert "RuntimeWarning" not in output and "warnings.warn" not in output
    assert "__pycache__" not in output
    entries = names(app.only_zip())
    assert "fx_pycache/core/__init__.py" in entries
    # The wheel's own stale bytecode is not shipped; what is there was compiled from its sources.
    assert "fx_pycache/core/__pycache__/x.cpython-311.pyc" not in entries
    pycs = [e for e in entries if e.startswith("fx_pycache/") and "__pycache__" in e]
    assert all(source_of(e) in entries for e in pycs), pycs
    # At -vv, installer's reason is shown as one plain line per skipped file.
    fresh = str(tmp_path / "fresh-cache")
    verbose = app.build_wheel(HATCH_VERBOSE="2", HATCH_LAMBDA_CACHE_DIR=fresh).stderr
    assert "Skip installing fx_pycache/core/__pycache__/x.cpython-311.pyc" in verbose
    assert "RuntimeWarning" not in verbose and "warnings.warn" not in verbose
