"""Poetry 1 locks: lock-version 2.0 (Poetry 1.3 to 1.8) and 1.1 (Poetry 1.1 and 1.2), which record
neither groups nor markers per package, read by walking their dependency graph.

The build tests use locks written by Poetry 1.8.5 and 1.1.15 (fixtures/poetry1-locks/) for the
Hatch project fixtures/projects/poetry1; they bundle for a target, open the zip and import the
handler with a CPython of the target's version. The reader tests use hand-written locks for what
the fixture project does not show (several versions of one name, ``platform``, old formats).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import sys
import zipfile
from pathlib import Path

import pytest

from hatch_lambda.errors import RequirementsError
from hatch_lambda.requirements import LockedSet
from hatch_lambda.requirements._poetry import read_poetry_lock
from hatch_lambda.requirements._poetry_hash import check_content_hash, content_hash
from hatch_lambda.target import resolve_target
from support.index import FIXTURES
from support.project import Project, clean_env, unpack
from support.pythons import call_handler, find_python, missing
from support.zips import versions

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

LOCKS = FIXTURES / "poetry1-locks"
RECORDED_URL = "http://127.0.0.1:36209/simple"  # where the fixture index was when they were made
WRITERS = ["1.8.5", "1.1.15"]
HANDLER = "fx_poetry1.app.handler"


def poetry1_pyproject(url: str, writer: str) -> str:
    """fixtures/projects/poetry1/pyproject.toml as it was locked by Poetry *writer*: with the
    fixture index as its source, and for Poetry 1.1 its dev group as dev-dependencies."""
    text = (FIXTURES / "projects" / "poetry1" / "pyproject.toml").read_text()
    if writer.startswith("1.1."):
        text = text.replace(
            "[tool.poetry.group.dev.dependencies]", "[tool.poetry.dev-dependencies]"
        )
        source = f'\n[[tool.poetry.source]]\nname = "fixtures"\nurl = "{url}"\ndefault = true\n'
    else:
        source = (
            f'\n[[tool.poetry.source]]\nname = "fixtures"\nurl = "{url}"\npriority = "primary"\n'
        )
    return text.replace("\n[tool.hatch.build", source + "\n[tool.hatch.build")


def _legacy_hash(pyproject: str) -> str:
    return content_hash({"tool": {"poetry": tomllib.loads(pyproject)["tool"]["poetry"]}})


def _relocated(lock: str, url: str, index_root: Path, pyproject: str) -> str:
    """*lock* against the index at *url*: its source URL, the digests of the index's own files
    (the same bytes, unless another zlib compresses them otherwise) and the content hash of the
    pyproject.toml that names that URL."""
    files = index_root / "files"

    def digest(found: re.Match[str]) -> str:
        return f'{found.group(1)}sha256:{hashlib.sha256((files / found.group(2)).read_bytes()).hexdigest()}"'

    lock = lock.replace(RECORDED_URL, url)
    lock = re.sub(r'(\{file = "([^"]+)", hash = ")sha256:[0-9a-f]{64}"', digest, lock)
    return re.sub(
        r'content-hash = "[0-9a-f]+"', f'content-hash = "{_legacy_hash(pyproject)}"', lock
    )


@pytest.fixture(params=WRITERS)
def poetry1(
    request, tmp_path: Path, build_cache: Path, index_url: str, index_root: Path
) -> Project:  # type: ignore[no-untyped-def]
    writer: str = request.param
    root = tmp_path / "poetry1"
    shutil.copytree(FIXTURES / "projects" / "poetry1", root)
    pyproject = poetry1_pyproject(index_url, writer)
    (root / "pyproject.toml").write_text(pyproject)
    lock = (LOCKS / f"poetry-{writer}.lock").read_text()
    (root / "poetry.lock").write_text(_relocated(lock, index_url, index_root, pyproject))
    env = clean_env(build_cache, HATCH_LAMBDA_CACHE_DIR=str(tmp_path / "hatch-lambda-cache"))
    return Project(root, env, index_url)


def build(project: Project, **table: object):  # type: ignore[no-untyped-def]
    project.configure({"handler": HANDLER, "requirements": "poetry.lock", **table})
    return project.hatchling("-t", "wheel")


def expected(
    runtime: str, architecture: str, *, dev: bool = False, extra: bool = False
) -> set[str]:
    names = {"fx_pure", "fx_markers", "fx_cpython", "fx_with_extras", "fx_more"}
    names.add("fx_armonly" if architecture == "arm64" else "fx_x86only")
    minor = int(runtime.removeprefix("python3."))
    if minor < 11:
        names.add("fx_backport")  # an edge of fx-markers: python_version < "3.11"
    if minor < 10:
        names.add("fx_py39only")  # an edge of the project: python = "<3.10"
    if dev:
        names.add("fx_under_score")
    if extra:
        names.add("fx_extra_dep")
    return names  # never fx_windows: sys_platform == "win32" on two edges


@pytest.mark.parametrize("runtime", ["python3.9", "python3.12"])
def test_a_poetry1_lock_bundles_what_the_target_needs_and_the_handler_imports(
    poetry1: Project, runtime: str, tmp_path: Path
) -> None:
    proc = build(poetry1, runtime=runtime, architecture="x86_64")
    assert proc.returncode == 0, proc.stderr
    assert "Requirements: poetry.lock" in proc.stderr
    got = versions(poetry1.only_zip())
    assert got.pop("fx_poetry1") == "0.3.0"
    assert set(got) == expected(runtime, "x86_64")
    assert got["fx_pure"] == "1.0"  # the lock's version; the index also has 2.0
    manifest = poetry1.manifest()
    assert manifest["requirements"] == "poetry.lock" and manifest["resolver"] is None

    version = runtime.removeprefix("python")
    python = find_python(version)
    if python is None:
        missing(f"no Python {version} on this machine to import the {runtime} bundle with")
    bundle = unpack(poetry1.only_zip(), tmp_path / "bundle")
    result = call_handler([python], str(bundle), HANDLER, {})
    assert result["python"] == version
    assert set(result["modules"]) == expected(runtime, "x86_64")


def test_a_poetry1_lock_for_arm64(poetry1: Project) -> None:
    proc = build(poetry1, runtime="python3.12", architecture="arm64")
    assert proc.returncode == 0, proc.stderr
    got = versions(poetry1.only_zip())
    del got["fx_poetry1"]
    assert set(got) == expected("python3.12", "arm64")
    with zipfile.ZipFile(poetry1.only_zip()) as zf:
        wheel = zf.read("fx_cpython-1.0.dist-info/WHEEL").decode()
    assert "Tag: cp312-cp312-manylinux_2_17_aarch64" in wheel


def test_groups_and_extras_of_a_poetry1_lock(poetry1: Project, tmp_path: Path) -> None:
    proc = build(poetry1, runtime="python3.12", groups=["dev"], extras=["extra"])
    assert proc.returncode == 0, proc.stderr
    got = versions(poetry1.only_zip())
    del got["fx_poetry1"]
    assert set(got) == expected("python3.12", "x86_64", dev=True, extra=True)
    python = find_python("3.12")
    if python is None:
        missing("no Python 3.12 on this machine to import the python3.12 bundle with")
    bundle = unpack(poetry1.only_zip(), tmp_path / "bundle")
    modules = call_handler([python], str(bundle), HANDLER, {})["modules"]
    assert modules["fx_under_score"] == "1.0" and modules["fx_extra_dep"] == "1.0"

    proc = build(poetry1, runtime="python3.12", groups=["ops"])
    assert proc.returncode != 0
    assert "groups ['ops'] are not in pyproject.toml" in proc.stderr
    assert "it has ['dev']" in proc.stderr and "Traceback" not in proc.stderr


def test_a_tampered_hash_in_a_poetry1_lock_fails(poetry1: Project, index_root: Path) -> None:
    real = hashlib.sha256((index_root / "files" / "fx_pure-1.0-py3-none-any.whl").read_bytes())
    lock = poetry1.path / "poetry.lock"
    text = lock.read_text()
    assert real.hexdigest() in text
    lock.write_text(text.replace(real.hexdigest(), "0" * 64))
    proc = build(poetry1, runtime="python3.12")
    assert proc.returncode != 0
    assert "fx_pure-1.0-py3-none-any.whl (fx-pure 1.0) failed its hash check" in proc.stderr
    assert poetry1.artifacts() == []


def test_a_poetry1_lock_older_than_pyproject_fails_before_anything_is_fetched(
    poetry1: Project,
) -> None:
    poetry1.template = poetry1.template.replace(
        'fx-cpython = "*"\n', 'fx-cpython = "*"\nsix = "*"\n'
    )
    proc = build(poetry1, runtime="python3.12")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "poetry.lock is out of date: pyproject.toml changed since it was locked" in out
    assert "Fetching" not in out and "Traceback" not in out
    assert poetry1.artifacts() == []


# The reader, on the recorded locks and on hand-written ones.

ENV39 = resolve_target("python3.9", "x86_64")[0].marker_environment()
ENV312 = resolve_target("python3.12", "x86_64")[0].marker_environment()
ENV312_ARM = resolve_target("python3.12", "arm64")[0].marker_environment()


def read(lock: Path, env=ENV312, *, extras=(), groups=(), hashes=True) -> LockedSet:  # type: ignore[no-untyped-def]
    return read_poetry_lock(lock, environment=env, extras=extras, groups=groups,
                            include_hashes=hashes, without_urls=False)  # fmt: skip


@pytest.mark.parametrize("writer", WRITERS)
def test_the_recorded_locks_as_poetry_wrote_them(tmp_path: Path, writer: str) -> None:
    pyproject = poetry1_pyproject(RECORDED_URL, writer)
    (tmp_path / "pyproject.toml").write_text(pyproject)
    lock = tmp_path / "poetry.lock"
    shutil.copyfile(LOCKS / f"poetry-{writer}.lock", lock)
    # The content hash Poetry 1 wrote is the one computed here for Poetry 1 locks.
    recorded = re.search(r'content-hash = "([0-9a-f]+)"', lock.read_text()).group(1)  # type: ignore[union-attr]
    assert recorded == _legacy_hash(pyproject)
    check_content_hash(lock, recorded, legacy=True)

    names = {p.name: p for p in read(lock, ENV39).pins}
    assert set(names) == {n.replace("_", "-") for n in expected("python3.9", "x86_64")}
    pure = names["fx-pure"]
    assert pure.version == "1.0" and len(pure.sha256) == 1
    assert [f.filename for f in pure.files] == ["fx_pure-1.0-py3-none-any.whl"]
    assert pure.index == RECORDED_URL
    assert len(names["fx-cpython"].files) == 13
    both = read(lock, ENV312_ARM, extras=["extra"], groups=["dev"])
    assert {p.name for p in both.pins} == {
        n.replace("_", "-") for n in expected("python3.12", "arm64", dev=True, extra=True)
    }
    unhashed = read(lock, hashes=False)
    assert all(not p.sha256 for p in unhashed.pins)


def _lock(folder: Path, body: str, *, lock_version: str = "2.0", header: str = "1.8.5") -> Path:
    lock = folder / "poetry.lock"
    lock.write_text(
        f"# This file is automatically @generated by Poetry {header} and should not be changed "
        f'by hand.\n\n{body}\n[metadata]\nlock-version = "{lock_version}"\n'
        'python-versions = "^3.9"\n'
    )
    return lock


def _pyproject(folder: Path, dependencies: str, more: str = "") -> None:
    (folder / "pyproject.toml").write_text(
        '[tool.poetry]\nname = "svc"\nversion = "1.0"\n\n'
        f'[tool.poetry.dependencies]\npython = "^3.9"\n{dependencies}\n{more}'
    )


def _package(name: str, version: str, extra: str = "") -> str:
    return (
        f'[[package]]\nname = "{name}"\nversion = "{version}"\ndescription = ""\noptional = false\n'
        f'python-versions = "*"\nfiles = []\n{extra}\n'
    )


def test_several_locked_versions_of_one_name_are_told_apart_by_the_edges(tmp_path: Path) -> None:
    # As numpy is locked for pandas: one release for older Pythons, another for newer ones.
    _pyproject(tmp_path, 'frame = "^2"\nwin-only = {version = "*", platform = "win32"}\n'
               'linux-only = {version = "*", platform = "linux || darwin"}')  # fmt: skip
    lock = _lock(tmp_path, "".join([
        _package("frame", "2.1", '\n[package.dependencies]\nnum = [\n'
                 '    {version = ">=1.22,<1.25", python = "<3.11"},\n'
                 '    {version = ">=1.26", markers = "python_version >= \\"3.11\\""},\n]\n'),
        _package("num", "1.24.4").replace('python-versions = "*"', 'python-versions = ">=3.8"'),
        _package("num", "1.26.4").replace('python-versions = "*"', 'python-versions = ">=3.9"'),
        _package("win-only", "1.0"),
        _package("linux-only", "1.0"),
    ]))  # fmt: skip
    versions = {p.name: p.version for p in read(lock, ENV39).pins}
    assert versions == {"frame": "2.1", "num": "1.24.4", "linux-only": "1.0"}
    assert {p.name: p.version for p in read(lock, ENV312).pins}["num"] == "1.26.4"
    assert read(lock, ENV312).pins[1].where == "poetry.lock package[2]"


def test_extras_of_dependencies_are_followed_transitively(tmp_path: Path) -> None:
    _pyproject(tmp_path, 'web = {version = "^1", extras = ["socks"]}')
    lock = _lock(tmp_path, "".join([
        _package("web", "1.5", '\n[package.dependencies]\nproxy = {version = ">=1", optional = true, '
                 'extras = ["fast"]}\nplain = ">=1"\n\n[package.extras]\nsocks = ["proxy (>=1)"]\n'),
        _package("proxy", "1.2", '\n[package.dependencies]\nspeedup = {version = "*", optional = true}'
                 '\n\n[package.extras]\nfast = ["speedup"]\n'),
        _package("speedup", "3.0"),
        _package("plain", "1.0"),
    ]))  # fmt: skip
    assert {p.name for p in read(lock).pins} == {"web", "proxy", "speedup", "plain"}
    _pyproject(tmp_path, 'web = "^1"')
    assert {p.name for p in read(lock).pins} == {"web", "plain"}


def test_a_lock_version_1_0_lock_with_digests_only(tmp_path: Path) -> None:
    _pyproject(tmp_path, 'six = "*"')
    lock = tmp_path / "poetry.lock"
    lock.write_text(
        '[[package]]\ncategory = "main"\ndescription = ""\nname = "six"\noptional = false\n'
        'python-versions = "*"\nversion = "1.16.0"\n\n'
        '[metadata]\ncontent-hash = "' + "0" * 64 + '"\npython-versions = "*"\n\n'
        '[metadata.hashes]\nsix = ["' + "a" * 64 + '", "' + "b" * 64 + '"]\n'
    )
    with pytest.raises(RequirementsError, match="out of date"):
        read(lock)  # the content hash is checked, with Poetry 1's recipe
    (tmp_path / "poetry.lock").write_text(
        lock.read_text().replace("0" * 64, _legacy_hash((tmp_path / "pyproject.toml").read_text()))
    )
    (pin,) = read(lock).pins
    assert pin.version == "1.16.0" and pin.files == () and pin.sha256 == {"a" * 64, "b" * 64}


def test_metadata_files_of_several_versions_go_to_their_own_pin(tmp_path: Path) -> None:
    _pyproject(tmp_path, 'num = [{version = "1.24", python = "<3.10"}, '
               '{version = "1.26", python = ">=3.10"}]')  # fmt: skip
    packages = (_package("num", "1.24") + _package("num", "1.26")).replace(
        "files = []\n", 'category = "main"\n'
    )
    lock = _lock(tmp_path, packages, lock_version="1.1")
    lock.write_text(
        lock.read_text() + "\n[metadata.files]\nnum = [\n"
        '    {file = "num-1.24-py3-none-any.whl", hash = "sha256:' + "1" * 64 + '"},\n'
        '    {file = "num-1.26.tar.gz", hash = "sha256:' + "2" * 64 + '"},\n]\n'
    )
    (pin,) = read(lock, ENV39).pins
    assert pin.version == "1.24" and pin.sha256 == {"1" * 64}
    (pin,) = read(lock, ENV312).pins
    assert pin.version == "1.26" and [f.filename for f in pin.files] == ["num-1.26.tar.gz"]


def test_a_path_dependency_is_a_local_source_never_a_pin(tmp_path: Path) -> None:
    # A Poetry 1 path dependency is walked like any other, and built here from its folder.
    (tmp_path / "lib").mkdir()
    project = tmp_path / "svc"
    project.mkdir()
    _pyproject(project, 'lib = {path = "../lib", develop = true}')
    lock = _lock(
        project,
        _package(
            "lib", "0.1", 'develop = true\n\n[package.source]\ntype = "directory"\nurl = "../lib"\n'
        ),
    )
    locked = read(lock)
    assert [p.name for p in locked.pins] == []
    assert [(s.name, s.location, s.editable) for s in locked.local] == [
        ("lib", str(tmp_path / "lib"), True)
    ]


@pytest.mark.parametrize(
    ("lock_version", "header", "message"),
    [
        ("3.0", "3.0.1", r"lock-version 3\.0, written by Poetry 3\.0\.1: a format newer than this "
                         r"hatch-lambda reads \(up to 2\.1\)\. Upgrade hatch-lambda, or export"),
        ("2.0", "1.8.5", r"lock-version 2\.0, written by Poetry 1\.8\.5, which records neither "
                         r"groups nor markers.*there is none in .*run `poetry lock` with Poetry 2"),
        ("1.1", "", r"lock-version 1\.1, written by Poetry 1\.1 or 1\.2, which records"),
    ],
)  # fmt: skip
def test_a_lock_that_cannot_be_read_says_which_poetry_wrote_it(
    tmp_path: Path, lock_version: str, header: str, message: str
) -> None:
    lock = _lock(tmp_path, _package("six", "1.0"), lock_version=lock_version, header=header)
    if not header:
        lock.write_text(lock.read_text().split("\n", 2)[2])
    with pytest.raises(RequirementsError, match=message):
        read(lock)


@pytest.mark.parametrize(
    ("dependencies", "message"),
    [
        ('six = "^x"', r"\[tool\.poetry\.dependencies\]\.six is not a Poetry version constraint"),
        ('six = {version = "*", markers = "python_version <<< \'3\'"}',
         r"\[tool\.poetry\.dependencies\]\.six\.markers is not a valid marker"),
        ('six = 3', r"\[tool\.poetry\.dependencies\]\.six must be a table, not an integer"),
        ('gone = "*"', r"\[tool\.poetry\.dependencies\]\.gone asks for gone, which poetry\.lock "
                       r"does not hold.*run `poetry lock`"),
        ('six = ">=2"', r"asks for six >=2, but poetry\.lock package\[0\] holds six 1\.0"),
    ],
)  # fmt: skip
def test_pyproject_edges_that_cannot_be_followed(
    tmp_path: Path, dependencies: str, message: str
) -> None:
    _pyproject(tmp_path, dependencies)
    lock = _lock(tmp_path, _package("six", "1.0"))
    with pytest.raises(RequirementsError, match=message):
        read(lock)


def test_unknown_extras_are_named_with_those_there_are(tmp_path: Path) -> None:
    _pyproject(
        tmp_path, 'six = {version = "*", optional = true}', '[tool.poetry.extras]\nsix = ["six"]\n'
    )
    lock = _lock(tmp_path, _package("six", "1.0"))
    assert read(lock).pins == ()
    assert [p.name for p in read(lock, extras=["six"]).pins] == ["six"]
    with pytest.raises(
        RequirementsError, match=r"extras \['sicks'\] are not in pyproject\.toml.*it has \['six'\]"
    ):
        read(lock, extras=["sicks"])


@pytest.mark.parametrize(
    ("constraint", "version", "allowed"),
    [
        ("^2.26", "2.32.3", True),
        ("^2.26", "3.0", False),
        ("^0.2.3", "0.2.9", True),
        ("^0.2.3", "0.3.0", False),
        ("~1.2", "1.2.9", True),
        ("~1.2", "1.3", False),
        ("~=1.2", "1.9", True),
        (">=1.5.6,<1.5.7 || >1.5.7", "1.5.7", False),
        (">=1.5.6,<1.5.7 || >1.5.7", "1.6", True),
        (">= 1.0 < 2.0", "1.5", True),
        (">=2.7, !=3.0.*, !=3.1.*", "3.1.4", False),
        ("1.2.*", "1.2.7", True),
        ("1.2", "1.2.0", True),
        ("*", "0.0.1", True),
        ("", "5", True),
    ],
)
def test_poetry_version_constraints(constraint: str, version: str, allowed: bool) -> None:
    from packaging.version import Version

    from hatch_lambda.requirements._poetry_constraint import parse_constraint

    assert parse_constraint(constraint).allows(Version(version)) is allowed


@pytest.mark.parametrize(
    ("constraint", "on_39", "on_312"),
    [("<3.10", True, False), ("<=3.9", True, False), (">3.9", False, True), ("^3.9", True, True),
     ("~3.9", True, False), ("~3.9.1", False, False), (">=3.9.20", False, True), ("3.9", True, False)],
)  # fmt: skip
def test_python_constraints_compare_as_poetry_markers_do(
    constraint: str, on_39: bool, on_312: bool
) -> None:
    from hatch_lambda.requirements._poetry_constraint import parse_constraint

    # ENV39 is CPython 3.9.0 on the target: "<=3.9" holds (python_version), ">=3.9.20" does not.
    assert parse_constraint(constraint).allows_python(ENV39) is on_39  # type: ignore[arg-type]
    assert parse_constraint(constraint).allows_python(ENV312) is on_312  # type: ignore[arg-type]


def test_an_empty_dev_group_can_be_asked_for(tmp_path: Path) -> None:
    _pyproject(tmp_path, 'six = "*"', "[tool.poetry.dev-dependencies]\n")
    lock = _lock(tmp_path, _package("six", "1.0"))
    assert [p.name for p in read(lock, groups=["dev"]).pins] == ["six"]
