"""Builds against the real package index with a realistic data stack (marked `network`)."""

from __future__ import annotations

import json
import os
import posixpath
import shutil
import subprocess
import sys
import zipfile
from email.parser import HeaderParser
from pathlib import Path
from typing import Any

import pytest
from packaging.tags import parse_tag
from packaging.version import Version

from hatch_lambda.target import manylinux_glibc
from support.project import Project, clean_env, unpack
from support.pythons import call_handler, find_python, missing, qemu_python

pytestmark = pytest.mark.network

STACK = ["requests", "pydantic", "numpy", "pandas", "orjson", "cryptography"]
REPO = Path(__file__).resolve().parents[1]

HANDLER_SOURCE = """
import json
import cryptography.hazmat.primitives.hashes as h
import numpy, orjson, pandas, pydantic, requests


class Item(pydantic.BaseModel):
    n: int


def handler(event, context):
    digest = h.Hash(h.SHA256()); digest.update(b"x")
    frame = pandas.DataFrame({"a": numpy.arange(4)})
    return {
        "numpy": numpy.__version__,
        "sum": int(frame["a"].sum()),
        "item": Item(n=3).n,
        "orjson": orjson.dumps({"a": 1}).decode(),
        "sha": digest.finalize().hex()[:8],
        "requests": requests.__version__,
    }
"""


def stack_project(tmp_path: Path, cache: Path) -> Project:
    root = tmp_path / "stack"
    (root / "src" / "stack").mkdir(parents=True)
    (root / "src" / "stack" / "__init__.py").write_text("")
    (root / "src" / "stack" / "app.py").write_text(HANDLER_SOURCE)
    deps = ", ".join(f'"{d}"' for d in STACK)
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling", "hatch-lambda"]\nbuild-backend = "hatchling.build"\n\n'
        f'[project]\nname = "stack"\nversion = "1.0"\ndependencies = [{deps}]\n\n'
        '[tool.hatch.build.targets.wheel]\npackages = ["src/stack"]\n'
    )
    return Project(root, clean_env(cache))


def wheel_tags(zip_path: Path) -> dict[str, list[str]]:
    found = {}
    with zipfile.ZipFile(zip_path) as zf:
        for name in zf.namelist():
            if name.endswith(".dist-info/WHEEL") and name.count("/") == 1:
                meta = HeaderParser().parsestr(zf.read(name).decode())
                found[name.split("-")[0]] = meta.get_all("Tag") or []
    return found


def versions(manifest: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["version"] for p in manifest["packages"]}


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("net-cache")


def build_stack(
    tmp_path: Path, cache: Path, runtime: str, architecture: str, resolver: str
) -> Project:
    project = stack_project(tmp_path / resolver, cache)
    project.configure(
        {
            "runtime": runtime,
            "architecture": architecture,
            "handler": "stack.app.handler",
            "resolver": resolver,
        }
    )
    project.build_wheel()
    return project


def assert_loadable(zip_path: Path, machine: str, ceiling: tuple[int, int]) -> None:
    for dist, tags in wheel_tags(zip_path).items():
        parsed = {t for text in tags for t in parse_tag(text)}
        platforms = {t.platform for t in parsed}
        if platforms == {"any"}:
            continue
        glibcs = [manylinux_glibc(p) for p in platforms]
        best = [g for g in glibcs if g is not None and g[1] == machine and g[0] <= ceiling]
        assert best, f"{dist}: {tags} has no platform {machine} with glibc <= {ceiling}"


@pytest.mark.parametrize("resolver", ["uv", "pip"])
def test_python311_x86_64_gets_numpy_below_2_3_and_runs(
    tmp_path: Path, cache: Path, resolver: str
) -> None:
    project = build_stack(tmp_path, cache, "python3.11", "x86_64", resolver)
    zip_path = project.only_zip()
    got = versions(project.manifest())
    assert set(STACK) <= set(got)
    assert Version(got["numpy"]) < Version("2.3"), "numpy 2.3+ needs glibc 2.27+"
    assert_loadable(zip_path, "x86_64", (2, 26))
    python = find_python("3.11")
    with zipfile.ZipFile(zip_path) as zf:
        names = set(zf.namelist())
    # compile-bytecode = "auto": bytecode of 3.11 beside each source where that Python is here.
    pycs = [n for n in names if n.endswith(".pyc")]
    assert bool(pycs) == (python is not None)
    for pyc in pycs:
        cache, file = posixpath.split(pyc)
        folder, cache_name = posixpath.split(cache)
        source = posixpath.join(folder, file.split(".", 1)[0] + ".py")
        assert cache_name == "__pycache__" and file.endswith(".cpython-311.pyc"), pyc
        assert source in names, pyc
    if python is None:
        missing("no Python 3.11 to import the bundle with")
    result = call_handler([python], str(unpack(zip_path, tmp_path / "b")), "stack.app.handler", {})
    assert result["numpy"] == got["numpy"] and result["sum"] == 6 and result["item"] == 3


def test_resolvers_pick_the_same_versions(tmp_path: Path, cache: Path) -> None:
    uv = build_stack(tmp_path, cache, "python3.12", "arm64", "uv")
    pip = build_stack(tmp_path, cache, "python3.12", "arm64", "pip")
    # Both resolve the newest compatible releases at the same moment of the index.
    assert versions(uv.manifest()) == versions(pip.manifest())
    assert_loadable(uv.only_zip(), "aarch64", (2, 34))
    with zipfile.ZipFile(uv.only_zip()) as zf:
        sos = [n for n in zf.namelist() if ".so" in n]
    assert sos and not [n for n in sos if "x86_64" in n or "x86-64" in n]


def test_python311_arm64_stack_runs_under_qemu(tmp_path: Path, cache: Path) -> None:
    argv = qemu_python()
    if argv is None:
        missing("no qemu-aarch64 and arm64 root with Python 3.11 (run .ci/arm64-root.sh)")
    project = build_stack(tmp_path, cache, "python3.11", "arm64", "uv")
    assert_loadable(project.only_zip(), "aarch64", (2, 26))
    bundle = unpack(project.only_zip(), tmp_path / "bundle")
    result = call_handler(argv, str(bundle), "stack.app.handler", {})
    assert result["sum"] == 6 and result["orjson"] == '{"a":1}'


def test_readme_first_command_builds_the_example(tmp_path: Path) -> None:
    """The README's first command, run as written in a copy of the repository."""
    readme = (REPO / "README.md").read_text()
    command = next(
        line.strip()
        for line in readme.splitlines()
        if "python -m build" in line and "examples/hello" in line
    )
    checkout = tmp_path / "checkout"
    subprocess.run(
        ["git", "clone", "-q", str(REPO), str(checkout)], check=True, capture_output=True
    )
    # The working tree, not only what is committed, so the test checks the change under test.
    for rel in subprocess.run(
        ["git", "ls-files", "-m", "-o", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split():
        src = REPO / rel
        if src.is_file():
            (checkout / rel).parent.mkdir(parents=True, exist_ok=True)
            (checkout / rel).write_bytes(src.read_bytes())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_FIND", "VIRTUAL_ENV"))}
    proc = subprocess.run(
        command, shell=True, cwd=checkout, env=env, capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    [zip_path] = (checkout / "examples" / "hello" / "dist-lambda").glob("*.zip")
    assert zip_path.name == "hello-0.1.0-python3.12-x86_64.zip"
    python = find_python("3.12")
    if python is None:
        missing("no Python 3.12 to run the example with")
    result = call_handler(
        [python], str(unpack(zip_path, tmp_path / "b")), "hello.app.handler", {"name": "ci"}
    )
    assert result["greeting"] == "hello, ci" and result["python"] == "3.12"


def test_hatch_build_with_an_isolated_build_environment(tmp_path: Path, cache: Path) -> None:
    """`hatch build` installs hatch-lambda into its own build environment, from a local wheel."""
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(wheels),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    hatch = Path(sys.executable).parent / "hatch"
    if not hatch.exists():
        missing("hatch is not installed in the test environment")
    project = Project.copy(tmp_path / "hello", clean_env(cache), name="../../examples/hello")
    env = {
        "PIP_FIND_LINKS": str(wheels),
        "UV_FIND_LINKS": str(wheels),
        "HATCH_DATA_DIR": str(tmp_path / "hd"),
    }
    proc = project.run([str(hatch), "build"], **env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert [p.name for p in project.artifacts()] == ["hello-0.1.0-python3.12-x86_64.zip"]
    assert "Lambda function zip for python3.12 x86_64" in proc.stdout + proc.stderr
    # The README's way for `python -m build` too: its isolated environment finds the same wheel.
    shutil.rmtree(project.lambda_dir)
    proc = project.run([sys.executable, "-m", "build"], **env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert [p.name for p in project.artifacts()] == ["hello-0.1.0-python3.12-x86_64.zip"]


def test_pinned_requirements_are_found_through_pypis_json_api(tmp_path: Path, cache: Path) -> None:
    project = stack_project(tmp_path, cache)
    pyproject = project.path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(
        ", ".join(f'"{d}"' for d in STACK), '"requests", "numpy<2.3"'
    ))  # fmt: skip
    project.template = pyproject.read_text()
    (project.path / "src" / "stack" / "app.py").write_text("def handler(e, c):\n    return 1\n")
    uv = Path(sys.executable).parent / "uv"
    proc = subprocess.run(
        [str(uv), "pip", "compile", "--universal", "--python-version", "3.9", "--generate-hashes",
         "pyproject.toml", "-o", "requirements.txt"],
        cwd=project.path, env=project.env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    project.configure(
        {"runtime": "python3.11", "architecture": "arm64", "handler": "stack.app.handler"}
    )
    build = project.build_wheel()
    assert "Requirements: requirements.txt" in build.stderr
    assert "Looking up" in build.stderr  # located on the index, not resolved
    got = versions(project.manifest())
    assert Version(got["numpy"]) < Version("2.3")
    assert_loadable(project.only_zip(), "aarch64", (2, 26))


LAYER_HANDLER = """
import sys
import numpy, requests


def handler(event, context):
    return {"python": "%d.%d" % sys.version_info[:2], "numpy": numpy.__version__,
            "requests": requests.__version__, "sum": int(numpy.arange(4).sum())}
"""

_LAYERED_RUNNER = """
import json, sys
function, opt, version = sys.argv[1], sys.argv[2], sys.argv[3]
# Lambda's order: the function, then the layer's per-version folder, then its python/.
sys.path[:0] = [function, f"{opt}/python/lib/python{version}/site-packages", f"{opt}/python"]
from app import handler
print(json.dumps(handler({}, None)))
"""


def test_a_layer_for_two_runtimes_with_compiled_wheels_and_scripts(
    tmp_path: Path, cache: Path
) -> None:
    """requests (charset-normalizer: a compiled wheel with a console script) and numpy in one
    layer for python3.11 and python3.12, and a function deployed with it, called on both."""
    root = tmp_path / "layered"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text(LAYER_HANDLER)
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling", "hatch-lambda"]\nbuild-backend = "hatchling.build"\n\n'
        '[project]\nname = "layered"\nversion = "1.0"\ndependencies = ["requests", "numpy"]\n\n'
        '[tool.hatch.build.targets.wheel]\npackages = ["src/app.py"]\n'
        '[tool.hatch.build.targets.wheel.force-include]\n"src/app.py" = "app.py"\n'
    )
    project = Project(root, clean_env(cache))
    project.configure({
        "runtime": "python3.12",
        "artifacts": {
            "deps": {"kind": "layer", "runtimes": ["python3.11", "python3.12"],
                     "contents": "dependencies"},
            "api": {"handler": "app.handler", "layers": ["deps"], "contents": "project"},
        },
    })  # fmt: skip
    proc = project.hatchling("-t", "wheel")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    layer = root / "dist-lambda" / "layered-1.0-deps-python3.11+python3.12-x86_64.zip"
    function = root / "dist-lambda" / "layered-1.0-api-python3.12-x86_64.zip"
    opt = unpack(layer, tmp_path / "opt")
    task = unpack(function, tmp_path / "task")
    with zipfile.ZipFile(layer) as zf:
        names = zf.namelist()
    assert not [n for n in names if "/bin/" in n], "console scripts do not belong in a layer"
    for version in ("3.11", "3.12"):
        python = find_python(version)
        if python is None:
            missing(f"no Python {version} to import the layer with")
        proc = subprocess.run(
            [python, "-I", "-S", "-c", _LAYERED_RUNNER, str(task), str(opt), version],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        assert result["python"] == version and result["sum"] == 6
        assert result["numpy"] and result["requests"]


SPEEDUPS_HANDLER = """
import importlib


def handler(event, context):
    module = importlib.import_module(event["module"])
    return {"version": module.__version__, "file": module.__file__}
"""


@pytest.mark.parametrize(
    ("requirement", "module", "resolver"),
    [
        ("markupsafe==1.1.0", "markupsafe", "uv"),
        ("markupsafe==1.1.0", "markupsafe", "pip"),
        # These tag their fallback wheel for the building machine: it is re-tagged pure.
        ("wrapt==1.14.1", "wrapt", "uv"),
        # Builds and ships; its own code uses collections.MutableMapping, gone since 3.10.
        ("sqlalchemy==1.1.18", None, "uv"),
    ],
)
def test_sdists_with_optional_c_speedups_ship_without_them(
    tmp_path: Path, cache: Path, requirement: str, module: str | None, resolver: str
) -> None:
    root = tmp_path / "speedups"
    (root / "src" / "speedups").mkdir(parents=True)
    (root / "src" / "speedups" / "__init__.py").write_text("")
    (root / "src" / "speedups" / "app.py").write_text(SPEEDUPS_HANDLER)
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling", "hatch-lambda"]\nbuild-backend = "hatchling.build"\n\n'
        f'[project]\nname = "speedups"\nversion = "1.0"\ndependencies = ["{requirement}"]\n\n'
        '[tool.hatch.build.targets.wheel]\npackages = ["src/speedups"]\n'
    )
    project = Project(root, clean_env(cache))
    project.configure({"runtime": "python3.12", "architecture": "x86_64",
                       "handler": "speedups.app.handler", "resolver": resolver})  # fmt: skip
    proc = project.build_wheel()
    name, version = requirement.split("==")
    assert f"{name} {version}: its sdist" in proc.stderr + proc.stdout
    assert "its optional C speedups are off" in proc.stderr + proc.stdout
    assert wheel_tags(project.only_zip())[name] == ["py3-none-any"]
    with zipfile.ZipFile(project.only_zip()) as zf:
        assert not [n for n in zf.namelist() if n.endswith(".so")]
    python = find_python("3.12")
    if python is None:
        missing("no Python 3.12 to import the bundle with")
    if module is None:
        return
    bundle = str(unpack(project.only_zip(), tmp_path / "b"))
    result = call_handler([python], bundle, "speedups.app.handler", {"module": module})
    assert result["version"] == version and result["file"].startswith(bundle)


FLASK_HANDLER = """\
import flask


def handler(event, context):
    app = flask.Flask("probe")
    with app.test_request_context("/?q=1"):
        return {"flask": flask.__version__ if hasattr(flask, "__version__") else "?",
                "q": flask.request.args["q"]}
"""


@pytest.mark.parametrize("resolver", ["uv", "pip"])
def test_a_hand_pinned_flask_gets_its_dependencies_as_pip_and_sam_do(
    tmp_path: Path, cache: Path, resolver: str
) -> None:
    # serverless-python-requirements' case: pinned lines that are not a closed lock. Werkzeug is
    # pinned too: flask 2.0.3 allows any later Werkzeug, and Werkzeug 3 removed what it imports.
    root = tmp_path / "svc"
    (root / "src" / "svc").mkdir(parents=True)
    (root / "src" / "svc" / "__init__.py").write_text("")
    (root / "src" / "svc" / "app.py").write_text(FLASK_HANDLER)
    (root / "requirements.txt").write_text("flask==2.0.3\nwerkzeug==2.0.3\n")
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling", "hatch-lambda"]\nbuild-backend = "hatchling.build"\n\n'
        '[project]\nname = "svc"\nversion = "1.0"\n\n'
        '[tool.hatch.build.targets.wheel]\npackages = ["src/svc"]\n'
    )
    # A cache of its own: the other resolver's wheels for this file would otherwise be reused.
    project = Project(root, clean_env(cache, HATCH_LAMBDA_CACHE_DIR=str(tmp_path / "own-cache")))
    project.configure({"runtime": "python3.12", "handler": "svc.app.handler",
                       "requirements": "requirements.txt", "resolver": resolver})  # fmt: skip
    proc = project.build_wheel()
    assert "requirements.txt pins 2 of 6 packages" in proc.stderr, proc.stderr
    got = versions(project.manifest())
    assert got["flask"] == "2.0.3"
    assert {"click", "werkzeug", "jinja2", "itsdangerous", "markupsafe"} <= set(got)
    python = find_python("3.12")
    if python is None:
        missing("no Python 3.12 to import the bundle with")
    bundle = str(unpack(project.only_zip(), tmp_path / "b"))
    assert call_handler([python], bundle, "svc.app.handler", {})["q"] == "1"
