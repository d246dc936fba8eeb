"""Local sources: a uv workspace with two services and a shared library, and every other form a
path or VCS dependency takes, built into wheels with their own backend and bundled as code.

The fixture index holds a stranger's `fx-shared` 9.0: a build that looked the shared library's
name up there would ship it (dependency confusion), and the tests check it never does.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from hatch_lambda.audit import check_artifact
from hatch_lambda.target import resolve_target
from support.project import Project, clean_env
from support.pythons import call_handler, find_python, missing
from support.zips import make_zip

TOOLS = Path(sys.executable).parent
BACKEND = Path(__file__).parents[1] / "fixtures" / "local" / "_local_backend.py"
GREETING = "hello from the shared library"


def uv() -> str:
    path = shutil.which("uv", path=str(TOOLS))
    assert path, "uv is not installed in the test environment (pip install -e '.[test]')"
    return path


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{argv}: {proc.stdout}\n{proc.stderr}"
    return proc


def write_library(
    folder: Path, greeting: str = GREETING, *, name: str = "fx-shared",
    dependencies: tuple[str, ...] = ("fx-pure==1.0",), extras: str = "",
) -> Path:  # fmt: skip
    """fx-shared 0.1.0, built by an in-tree backend (no build requirements: offline); *extras*:
    its ``[project.optional-dependencies]`` table, as TOML lines."""
    (folder / "src" / "fx_shared").mkdir(parents=True)
    shutil.copy(BACKEND, folder / "_local_backend.py")
    optional = f"\n[project.optional-dependencies]\n{extras}" if extras else ""
    (folder / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "_local_backend"\nbackend-path = ["."]\n\n'
        f'[project]\nname = "{name}"\nversion = "0.1.0"\n'
        f"dependencies = {json.dumps(list(dependencies))}\n{optional}"
    )
    (folder / "src" / "fx_shared" / "__init__.py").write_text(
        f"def greet(who):\n    return {greeting!r} + ' to ' + who\n"
    )
    (folder / ".gitignore").write_text("scratch/\n")
    return folder


def write_service(
    folder: Path, name: str, dependencies: list[str], hook: dict[str, str], extra: str = ""
) -> Path:
    module = name.replace("-", "_")
    (folder / "src" / module).mkdir(parents=True)
    (folder / "src" / module / "__init__.py").write_text("")
    (folder / "src" / module / "handler.py").write_text(
        "import fx_shared\n\n\ndef handler(event, context):\n"
        f"    return {{'greeting': fx_shared.greet({name!r})}}\n"
    )
    table = "".join(f"{k} = {json.dumps(v)}\n" for k, v in hook.items())
    (folder / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling", "hatch-lambda"]\n'
        'build-backend = "hatchling.build"\n\n'
        f'[project]\nname = "{name}"\nversion = "1.0"\nrequires-python = ">=3.9"\n'
        f"dependencies = {json.dumps(dependencies)}\n\n"
        "[tool.hatch.metadata]\nallow-direct-references = true\n\n"
        f'[tool.hatch.build.targets.wheel]\npackages = ["src/{module}"]\n\n'
        f"[tool.hatch.build.targets.wheel.hooks.lambda]\n{table}{extra}"
    )
    return folder


def hook(index_url: str, module: str, **more: str) -> dict[str, str]:
    return {"runtime": "python3.12", "handler": f"{module}.handler.handler",
            "index-url": index_url, **more}  # fmt: skip


def build(folder: Path, env: dict[str, str]) -> tuple[Path, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel"], cwd=folder, env=env,
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    zips = sorted((folder / "dist-lambda").glob("*.zip"))
    assert len(zips) == 1, zips
    return zips[0], proc.stdout + proc.stderr


def members(zip_path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(zip_path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def assert_shared_bundled(zip_path: Path, greeting: str = GREETING) -> None:
    files = members(zip_path)
    assert greeting.encode() in files["fx_shared/__init__.py"]
    assert "fx_shared-0.1.0.dist-info/METADATA" in files
    assert "fx_pure/__init__.py" in files  # what the library requires
    assert not [n for n in files if n.endswith((".pth", ".egg-link"))]


def shared_lookups(index: tuple[str, list[str]]) -> int:
    return sum("fx-shared" in p or "fx_shared" in p for p in index[1])


@pytest.fixture
def env(tmp_path: Path, build_cache: Path) -> dict[str, str]:
    return clean_env(build_cache, HATCH_LAMBDA_CACHE_DIR=str(tmp_path / "hatch-lambda-cache"))


@pytest.fixture
def workspace(tmp_path: Path, env: dict[str, str], index_url: str) -> Path:
    """One uv workspace: packages/shared, services/api and services/jobs, locked by uv."""
    root = tmp_path / "repo"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[tool.uv.workspace]\nmembers = ["packages/*", "services/*"]\n'
    )
    write_library(root / "packages" / "shared")
    sources = "\n[tool.uv.sources]\nfx-shared = { workspace = true }\n"
    for name in ("api", "jobs"):
        deps = ["fx-shared", "fx-markers"] if name == "api" else ["fx-shared", "six"]
        folder = write_service(root / "services" / name, name, deps, hook(index_url, name))
        folder.joinpath("pyproject.toml").write_text(
            folder.joinpath("pyproject.toml").read_text() + sources
        )
    run([uv(), "lock"], root, {**env, "UV_DEFAULT_INDEX": index_url})
    return root


def test_workspace_service_bundles_the_shared_library_and_runs(
    workspace: Path, env: dict[str, str], index: tuple[str, list[str]], tmp_path: Path
) -> None:
    before = shared_lookups(index)
    zip_path, output = build(workspace / "services" / "api", env)
    assert f"Requirements: uv.lock of the workspace at {workspace}" in output
    assert_shared_bundled(zip_path)
    files = members(zip_path)
    assert "fx_markers/__init__.py" in files and "six/__init__.py" not in files  # api's alone
    assert not [n for n in files if n.startswith("jobs/")]
    manifest = json.loads(zip_path.with_suffix(".json").read_text())
    origins = {p["name"]: p["origin"] for p in manifest["packages"]}
    assert origins["fx-shared"] == "local" and origins["fx-pure"] == "index"
    assert shared_lookups(index) == before  # never asked the index for fx-shared

    python = find_python("3.12")
    if python is None:
        missing("no CPython 3.12 to import the bundle with")
        return
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(unpacked)
    result = call_handler([python], str(unpacked), "api.handler.handler", {})
    assert result == {"greeting": f"{GREETING} to api"}


def test_workspace_rebuild_reuses_and_an_edit_rebuilds(
    workspace: Path, env: dict[str, str]
) -> None:
    service = workspace / "services" / "jobs"
    first, _ = build(service, env)
    before = first.read_bytes()
    # What no wheel holds does not count: an ignored folder, bytecode.
    scratch = workspace / "packages" / "shared" / "scratch"
    scratch.mkdir()
    (scratch / "notes.txt").write_text("x")
    again, output = build(service, env)
    assert "Nothing changed since" in output and again.read_bytes() == before
    module = workspace / "packages" / "shared" / "src" / "fx_shared" / "__init__.py"
    module.write_text(module.read_text().replace(GREETING, "edited"))
    edited, output = build(service, env)
    assert "Nothing changed since" not in output
    assert edited.read_bytes() != before
    assert b"edited" in members(edited)["fx_shared/__init__.py"]


STAGED = 'before-bundling = ["echo staged > staged.txt"]\n'


@pytest.mark.parametrize("form", ["workspace", "requirements-path"])
def test_before_bundling_commands_keep_the_workspace_and_the_paths(
    form: str, workspace: Path, env: dict[str, str]
) -> None:
    """before-bundling commands work in a copy of the project; the requirements are read there,
    and the workspace and the paths that lead out of the project are still found from the
    project itself."""
    service = workspace / "services" / "api"
    table = "[tool.hatch.build.targets.wheel.hooks.lambda]\n"
    pyproject = service / "pyproject.toml"
    more = STAGED
    if form == "requirements-path":
        (service / "requirements.txt").write_text("../../packages/shared\nfx-markers\n")
        more += 'requirements = "requirements.txt"\n'
    pyproject.write_text(pyproject.read_text().replace(table, table + more))
    zip_path, output = build(service, env)
    if form == "workspace":
        assert f"Requirements: uv.lock of the workspace at {workspace}" in output
    else:
        assert "Requirements: requirements.txt" in output
    assert_shared_bundled(zip_path)
    assert not (service / "staged.txt").exists()  # the commands ran in the copy


def _lock_files(index_root: Path) -> tuple[str, str]:
    wheel = index_root / "files" / "fx_pure-1.0-py3-none-any.whl"
    return wheel.as_uri(), hashlib.sha256(wheel.read_bytes()).hexdigest()


FORMS = [
    "hatch-direct-reference", "uv-path-source", "uv-source-project", "requirements-path",
    "requirements-editable", "poetry-path-develop", "pipfile-path", "pylock-directory",
]  # fmt: skip


@pytest.mark.parametrize("form", FORMS)
def test_path_dependency_forms(
    form: str, tmp_path: Path, env: dict[str, str], index_url: str, index_root: Path,
    *, index: tuple[str, list[str]],
) -> None:  # fmt: skip
    write_library(tmp_path / "shared")
    service = tmp_path / "svc"
    url, sha256 = _lock_files(index_root)
    deps = ["fx-shared"]
    options: dict[str, str] = {}
    extra = ""
    if form == "hatch-direct-reference":
        deps = ["fx-shared @ {root:parent:uri}/shared"]
        options["requirements"] = "project"
    elif form in ("uv-path-source", "uv-source-project"):
        extra = '\n[tool.uv.sources]\nfx-shared = { path = "../shared", editable = true }\n'
        if form == "uv-source-project":  # no lock: the metadata's fx-shared is the path source
            options["requirements"] = "project"
    write_service(service, "svc", deps, hook(index_url, "svc", **options), extra)
    if form == "uv-path-source":
        run([uv(), "lock"], service, {**env, "UV_DEFAULT_INDEX": index_url})
    elif form == "requirements-path":
        (service / "requirements.txt").write_text("../shared\n")
    elif form == "requirements-editable":
        (service / "requirements.txt").write_text("-e ../shared\nfx-pure==1.0\n")
    elif form == "poetry-path-develop":
        (service / "poetry.lock").write_text(
            '[[package]]\nname = "fx-shared"\nversion = "0.1.0"\noptional = false\n'
            'groups = ["main"]\nfiles = []\ndevelop = true\n\n'
            '[package.source]\ntype = "directory"\nurl = "../shared"\n\n'
            '[[package]]\nname = "fx-pure"\nversion = "1.0"\noptional = false\n'
            f'groups = ["main"]\nfiles = [{{file = "fx_pure-1.0-py3-none-any.whl", '
            f'hash = "sha256:{sha256}"}}]\n\n'
            '[metadata]\nlock-version = "2.1"\npython-versions = ">=3.9"\n'
        )
    elif form == "pipfile-path":
        (service / "Pipfile.lock").write_text(json.dumps({
            "_meta": {"sources": [{"name": "fixtures", "url": index_url, "verify_ssl": False}]},
            "default": {
                "fx-shared": {"editable": True, "path": "../shared"},
                "fx-pure": {"version": "==1.0", "hashes": [f"sha256:{sha256}"]},
            },
            "develop": {},
        }))  # fmt: skip
    elif form == "pylock-directory":
        (service / "pylock.toml").write_text(
            'lock-version = "1.0"\ncreated-by = "hand"\n\n'
            '[[packages]]\nname = "fx-shared"\ndirectory = { path = "../shared", editable = true }\n\n'
            '[[packages]]\nname = "fx-pure"\nversion = "1.0"\n'
            f'wheels = [{{ url = "{url}", hashes = {{ sha256 = "{sha256}" }} }}]\n'
        )
    before = shared_lookups(index)
    zip_path, output = build(service, env)
    assert_shared_bundled(zip_path)
    assert shared_lookups(index) == before
    if form in ("requirements-editable", "poetry-path-develop", "pipfile-path"):
        assert "built as a regular install" in output


EXTRA_FORMS = ["hatch-direct-reference", "uv-source-project", "requirements-reference",
               "requirements-path", "through-another-library"]  # fmt: skip


@pytest.mark.parametrize("form", EXTRA_FORMS)
def test_the_extras_asked_of_a_local_source_are_resolved(
    form: str, tmp_path: Path, env: dict[str, str], index_url: str
) -> None:
    """``fx-shared[aws]`` from a path brings what its ``aws`` extra requires, in every form a
    build from ranges meets; a lock holds the extra's packages already."""
    write_library(tmp_path / "shared", extras='aws = ["fx-extra-dep"]\n')
    service = tmp_path / "svc"
    deps, options, extra = ["fx-shared[aws]"], {}, ""
    if form == "hatch-direct-reference":
        deps = ["fx-shared[aws] @ {root:parent:uri}/shared"]
        options["requirements"] = "project"
    elif form == "uv-source-project":
        extra = '\n[tool.uv.sources]\nfx-shared = { path = "../shared" }\n'
        options["requirements"] = "project"
    elif form == "through-another-library":  # the service names fx-glue, which asks fx-shared[aws]
        glue = tmp_path / "glue"
        write_library(glue, name="fx-glue", dependencies=("fx-shared[aws]",))
        shutil.rmtree(glue / "src" / "fx_shared")
        (glue / "src" / "fx_glue").mkdir()
        (glue / "src" / "fx_glue" / "__init__.py").write_text("")
        deps = ["fx-glue @ {root:parent:uri}/glue", "fx-shared @ {root:parent:uri}/shared"]
        options["requirements"] = "project"
    write_service(service, "svc", deps, hook(index_url, "svc", **options), extra)
    if form == "requirements-reference":
        (service / "requirements.txt").write_text(
            f"fx-shared[aws] @ {(tmp_path / 'shared').as_uri()}\n"
        )
    elif form == "requirements-path":
        (service / "requirements.txt").write_text("../shared[aws]\n")
    zip_path, _ = build(service, env)
    files = members(zip_path)
    assert_shared_bundled(zip_path)
    assert [n for n in files if n.startswith("fx_extra_dep-1.0.dist-info/")]
    if form == "requirements-path":  # and without the extra, not
        (service / "requirements.txt").write_text("../shared\n")
        pyproject = service / "pyproject.toml"
        pyproject.write_text(pyproject.read_text().replace('"fx-shared[aws]"', '"fx-shared"'))
        zip_path, _ = build(service, env)
        assert not [n for n in members(zip_path) if n.startswith("fx_extra_dep")]


def git_repository(folder: Path) -> str:
    """A git repository holding the shared library, with one commit; returns the commit."""
    write_library(folder)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    run([*git, "init", "--quiet"], folder, {"PATH": "/usr/bin:/bin"})
    run([*git, "add", "."], folder, {"PATH": "/usr/bin:/bin"})
    run([*git, "commit", "--quiet", "-m", "library"], folder, {"PATH": "/usr/bin:/bin"})
    return run(["git", "rev-parse", "HEAD"], folder, {"PATH": "/usr/bin:/bin"}).stdout.strip()


@pytest.mark.parametrize("form", ["reference", "editable", "project"])
def test_vcs_requirement_over_git_file(
    form: str, tmp_path: Path, env: dict[str, str], index_url: str, index: tuple[str, list[str]]
) -> None:
    if shutil.which("git") is None:
        missing("git is not installed")
    commit = git_repository(tmp_path / "repo")
    url = f"git+{(tmp_path / 'repo').as_uri()}"
    service = tmp_path / "svc"
    if form == "project":
        write_service(service, "svc", [f"fx-shared @ {url}@{commit}"],
                      hook(index_url, "svc", requirements="project"))  # fmt: skip
    else:
        write_service(service, "svc", ["fx-shared"], hook(index_url, "svc"))
        line = f"fx-shared @ {url}@{commit}" if form == "reference" else f"-e {url}#egg=fx-shared"
        (service / "requirements.txt").write_text(f"{line}\nfx-pure==1.0\n")
    before = shared_lookups(index)
    zip_path, output = build(service, env)
    assert "Cloning" in output
    assert_shared_bundled(zip_path)
    assert shared_lookups(index) == before
    assert not [n for n in members(zip_path) if n.startswith(".git")]
    # The commit's wheel is kept: a rebuild after a code change clones nothing.
    handler = service / "src" / "svc" / "handler.py"
    handler.write_text(handler.read_text() + "\n# changed\n")
    zip_path, output = build(service, env)
    assert "Cloning" not in output
    assert_shared_bundled(zip_path)


def test_a_vcs_branch_is_built_again_once_it_moves(
    tmp_path: Path, env: dict[str, str], index_url: str
) -> None:
    """A branch names a new commit after a push: the build asks the repository which commit it
    names (without cloning), and builds the new one."""
    if shutil.which("git") is None:
        missing("git is not installed")
    repo = tmp_path / "repo"
    git_repository(repo)
    branch = run(["git", "symbolic-ref", "--short", "HEAD"], repo, {"PATH": "/usr/bin:/bin"})
    service = tmp_path / "svc"
    write_service(service, "svc", ["fx-shared"], hook(index_url, "svc"))
    url = f"git+{repo.as_uri()}@{branch.stdout.strip()}"
    (service / "requirements.txt").write_text(f"fx-shared @ {url}\nfx-pure==1.0\n")
    zip_path, _ = build(service, env)
    assert_shared_bundled(zip_path)
    _, output = build(service, env)
    assert "Cloning" not in output
    moved = "hello from the next commit"
    (repo / "src" / "fx_shared" / "__init__.py").write_text(
        f"def greet(who):\n    return {moved!r} + ' to ' + who\n"
    )
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    run([*git, "commit", "--quiet", "-am", "next"], repo, {"PATH": "/usr/bin:/bin"})
    zip_path, output = build(service, env)
    assert "Cloning" in output
    assert_shared_bundled(zip_path, moved)


def test_install_links_rule_fails_pth_and_egg_link(tmp_path: Path) -> None:
    target = resolve_target("python3.12", "x86_64")[0]
    path = make_zip(tmp_path / "f.zip", [
        ("app.py", b"def handler(e, c):\n    return 1\n"),
        ("__editable__.fx_shared-0.1.0.pth", b"/home/me/repo/packages/shared/src\n"),
        ("fx_other.egg-link", b"/home/me/other\n."),
    ])  # fmt: skip
    report = check_artifact(path, target)
    found = {(f.rule, f.path) for f in report.errors}
    assert ("install-links", "__editable__.fx_shared-0.1.0.pth") in found
    assert ("install-links", "fx_other.egg-link") in found
    assert not report.passed
    warned = check_artifact(path, target, warn=["install-links"])
    assert warned.passed and len(warned.warnings) == 2


def test_a_wheels_pth_file_is_left_out_and_the_build_passes(app: Project) -> None:
    # Lambda never reads a .pth file from its folders: the wheel's own is inert there.
    (app.path / "requirements.txt").write_text("fx-with-pth==1.0\n")
    app.configure({"runtime": "python3.12", "requirements": "requirements.txt",
                   "contents": "dependencies"})  # fmt: skip
    proc = app.hatchling("-t", "wheel")
    assert proc.returncode == 0, proc.stderr
    names = members(app.only_zip())
    assert "fx_with_pth/__init__.py" in names
    assert not [n for n in names if n.endswith(".pth")], names
    record = zipfile.ZipFile(app.only_zip()).read("fx_with_pth-1.0.dist-info/RECORD").decode()
    assert ".pth" not in record
