"""Lockfile readers on hand-written inputs: the edge cases and their errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from hatch_lambda.errors import RequirementsError
from hatch_lambda.requirements import LockedSet, RequirementSet
from hatch_lambda.requirements._pipfile import read_pipfile_lock
from hatch_lambda.requirements._poetry import read_poetry_lock
from hatch_lambda.requirements._requirements_txt import read_requirements_txt
from hatch_lambda.target import resolve_target

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ENV39 = resolve_target("python3.9", "arm64")[0].marker_environment()
ENV312 = resolve_target("python3.12", "x86_64")[0].marker_environment()


def test_requirements_txt_pins_hashes_options_and_includes(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TOKEN", "abc")
    (tmp_path / "base.txt").write_text("six==1.16.0 --hash=sha256:" + "a" * 64 + "\n")
    (tmp_path / "requirements.txt").write_text(
        "# comment\n"
        "--index-url https://u:${TOKEN}@private.example/simple\n"
        "--extra-index-url https://extra.example/simple\n"
        "-r base.txt\n"
        "-c constraints.txt\n"
        "-e .\n"
        "Foo_Bar==2.0 ; python_version < '3.11' \\\n"
        "    --hash=sha256:" + "b" * 64 + " \\\n"
        "    --hash=sha256:" + "c" * 64 + "\n"
        "x86-only==1.0 ; platform_machine == 'x86_64'\n"
        "my-app==1.0  # the project itself\n"
    )
    reqs = read_requirements_txt(tmp_path / "requirements.txt", environment=ENV39, project="my-app")
    assert isinstance(reqs, LockedSet)
    assert reqs.index_url == "https://u:abc@private.example/simple"
    assert reqs.extra_index_urls == ("https://extra.example/simple",)
    pins = {p.name: p for p in reqs.pins}
    assert sorted(pins) == ["foo-bar", "six"]
    assert pins["foo-bar"].version == "2.0"
    assert pins["foo-bar"].sha256 == {"b" * 64, "c" * 64}
    assert pins["foo-bar"].where == "requirements.txt:7"
    assert pins["six"].where == "base.txt:1"

    later = read_requirements_txt(
        tmp_path / "requirements.txt", environment=ENV312, project="my-app"
    )
    assert {p.name for p in later.pins} == {"six", "x86-only"}  # type: ignore[union-attr]


def test_unpinned_requirements_are_resolved(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("requests>=2\nsix==1.16.0\n")
    reqs = read_requirements_txt(tmp_path / "requirements.txt", environment=ENV312, project="x")
    assert isinstance(reqs, RequirementSet)
    assert reqs.lines() == ["requests>=2", "six==1.16.0"]
    assert "not fully pinned" in reqs.source


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("-e ../other", "the local source ../other is not there"),
        ("--unknown-flag x", "unsupported option '--unknown-flag'"),
        ("foo (bar", "invalid requirement"),
    ],
)
def test_requirements_txt_errors_name_the_line(tmp_path: Path, line: str, message: str) -> None:
    (tmp_path / "requirements.txt").write_text(f"six==1.0\n{line}\n")
    with pytest.raises(RequirementsError, match=message) as info:
        read_requirements_txt(tmp_path / "requirements.txt", environment=ENV312, project="x")
    assert "requirements.txt:2" in str(info.value)


def pipfile(tmp_path: Path, default: dict[str, object], **more: object) -> Path:
    data = {
        "_meta": {"sources": [{"name": "pypi", "url": "https://${HOST}/simple"}]},
        "default": default,
        "develop": {},
        **more,
    }
    path = tmp_path / "Pipfile.lock"
    path.write_text(json.dumps(data))
    return path


def test_pipfile_lock_sources_markers_and_groups(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HOST", "pypi.example")
    path = pipfile(
        tmp_path,
        {"six": {"version": "==1.16.0", "hashes": ["sha256:" + "a" * 64], "index": "pypi"},
         "old": {"version": "==1.0", "markers": "python_version < '3.10'"}},
        develop={"pytest": {"version": "==8.0"}},
    )  # fmt: skip
    locked = read_pipfile_lock(path, environment=ENV312, groups=[], project="x")
    assert [p.name for p in locked.pins] == ["six"]
    assert locked.index_url == "https://pypi.example/simple"
    assert locked.pins[0].index == "https://pypi.example/simple"
    dev = read_pipfile_lock(path, environment=ENV39, groups=["dev"], project="x")
    assert sorted(p.name for p in dev.pins) == ["old", "pytest", "six"]
    with pytest.raises(RequirementsError, match=r"has no \['docs'\] category"):
        read_pipfile_lock(path, environment=ENV39, groups=["docs"], project="x")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"hg": "https://hg.example/y", "ref": "abc"}, "is a VCS checkout"),
        ({"path": "../lib", "editable": True}, "the local source ../lib is not there"),
        ({"version": "*", "markers": "python_version < '3.11'"}, "has no locked version"),
    ],
)
def test_pipfile_lock_entries_that_cannot_be_bundled(
    tmp_path: Path, entry: dict[str, object], message: str
) -> None:
    path = pipfile(tmp_path, {"dep": entry})
    with pytest.raises(RequirementsError, match=message):
        read_pipfile_lock(path, environment=ENV39, groups=[], project="x")


def test_a_poetry1_lock_without_its_pyproject_is_refused_with_a_remedy(tmp_path: Path) -> None:
    # A lock-version 2.0 lock is read from the pyproject.toml beside it; there is none here.
    (tmp_path / "poetry.lock").write_text(
        '[[package]]\nname = "six"\nversion = "1.0"\n\n[metadata]\nlock-version = "2.0"\n'
    )
    with pytest.raises(
        RequirementsError,
        match=r"lock-version 2\.0, written by Poetry 1\.3 to 1\.8.*run `poetry lock` with Poetry 2",
    ):
        read_poetry_lock(tmp_path / "poetry.lock", environment=ENV312, extras=[], groups=[],
                         include_hashes=True, without_urls=False)  # fmt: skip


def test_pipfile_lock_git_and_path_entries_are_local_sources(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "svc").mkdir()
    path = pipfile(tmp_path / "svc", {
        "dep": {"git": "https://github.com/x/y.git", "ref": "abc"},
        "lib": {"path": "../lib", "editable": True},
    })  # fmt: skip
    locked = read_pipfile_lock(path, environment=ENV39, groups=[], project="x")
    by_name = {s.name: s for s in locked.local}
    assert not locked.pins
    assert by_name["dep"].location == "git+https://github.com/x/y.git@abc"
    assert by_name["lib"].location == str(tmp_path / "lib") and by_name["lib"].editable


def test_poetry_lock_git_source_is_a_local_source_and_url_a_clear_error(tmp_path: Path) -> None:
    lock = tmp_path / "poetry.lock"
    lock.write_text(
        '[[package]]\nname = "lib"\nversion = "1.0"\ngroups = ["main"]\nfiles = []\n\n'
        '[package.source]\ntype = "git"\nurl = "https://github.com/x/lib.git"\n'
        'resolved_reference = "0123abc"\n\n[metadata]\nlock-version = "2.1"\n'
    )
    locked = read_poetry_lock(lock, environment=ENV312, extras=[], groups=[],
                              include_hashes=True, without_urls=False)  # fmt: skip
    assert [s.location for s in locked.local] == ["git+https://github.com/x/lib.git@0123abc"]
    lock.write_text(lock.read_text().replace('type = "git"', 'type = "url"'))
    with pytest.raises(RequirementsError, match="comes from a url source"):
        read_poetry_lock(lock, environment=ENV312, extras=[], groups=[],
                         include_hashes=True, without_urls=False)  # fmt: skip


def test_poetry_options_drop_hashes_and_urls(tmp_path: Path) -> None:
    (tmp_path / "poetry.lock").write_text(
        '[[package]]\nname = "six"\nversion = "1.0"\ngroups = ["main"]\n'
        'files = [{file = "six-1.0-py3-none-any.whl", hash = "sha256:' + "a" * 64 + '"}]\n\n'
        '[package.source]\ntype = "legacy"\nurl = "https://private.example/simple"\nreference = "p"\n\n'
        '[metadata]\nlock-version = "2.1"\n'
    )
    kept = read_poetry_lock(tmp_path / "poetry.lock", environment=ENV312, extras=[], groups=[],
                            include_hashes=True, without_urls=False)  # fmt: skip
    assert kept.pins[0].sha256 == {"a" * 64} and kept.index_url == "https://private.example/simple"
    dropped = read_poetry_lock(tmp_path / "poetry.lock", environment=ENV312, extras=[], groups=[],
                               include_hashes=False, without_urls=True)  # fmt: skip
    assert dropped.pins[0].sha256 == frozenset() and dropped.index_url is None


PINNED = "six==1.16.0\r\nfoo-bar==2.0 ; python_version >= '3.9'\r\n"


@pytest.mark.parametrize(
    ("bom", "encoding"),
    [
        (b"\xef\xbb\xbf", "utf-8"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
        (b"\xff\xfe\x00\x00", "utf-32-le"),
        (b"\x00\x00\xfe\xff", "utf-32-be"),
    ],
)
def test_requirements_txt_with_a_byte_order_mark_is_read_as_pip_reads_it(
    tmp_path: Path, bom: bytes, encoding: str
) -> None:
    (tmp_path / "base.txt").write_bytes(bom + "idna==3.7\r\n".encode(encoding))
    (tmp_path / "requirements.txt").write_bytes(bom + ("-r base.txt\r\n" + PINNED).encode(encoding))
    reqs = read_requirements_txt(tmp_path / "requirements.txt", environment=ENV312, project="x")
    assert isinstance(reqs, LockedSet)
    assert {(p.name, p.version, p.where) for p in reqs.pins} == {
        ("idna", "3.7", "base.txt:1"),
        ("six", "1.16.0", "requirements.txt:2"),
        ("foo-bar", "2.0", "requirements.txt:3"),
    }


def test_requirements_txt_with_a_coding_line_or_in_the_locale_encoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "requirements.txt"
    path.write_bytes("# -*- coding: latin-1 -*-\n# café\nsix==1.16.0\n".encode("latin-1"))
    reqs = read_requirements_txt(path, environment=ENV312, project="x")
    assert [p.name for p in reqs.pins] == ["six"]  # type: ignore[union-attr]
    path.write_bytes("# café\nsix==1.16.0\n".encode("cp1252"))
    monkeypatch.setattr("locale.getpreferredencoding", lambda do_setlocale=True: "cp1252")
    reqs = read_requirements_txt(path, environment=ENV312, project="x")
    assert [p.name for p in reqs.pins] == ["six"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"six==1.16.0\n\n# caf\xe9\n", "requirements.txt:3 is not valid UTF-8 (bytes e9)"),
        (
            b"\xff\xfe" + "six==1.16.0\n".encode("utf-16-le") + b"x",
            "requirements.txt:2 is not valid UTF-16-LE",
        ),
        (b"# coding: no-such-codec\nsix==1.16.0\n", "declares the encoding 'no-such-codec'"),
    ],
)
def test_requirements_txt_that_cannot_be_decoded_names_the_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: bytes, message: str
) -> None:
    monkeypatch.setattr("locale.getpreferredencoding", lambda do_setlocale=True: "UTF-8")
    (tmp_path / "requirements.txt").write_bytes(data)
    with pytest.raises(RequirementsError) as info:
        read_requirements_txt(tmp_path / "requirements.txt", environment=ENV312, project="x")
    assert message in str(info.value)


PYPROJECTS = {
    "project table": '[project]\nname = "x"\nversion = "1"\nrequires-python = ">=3.9"\n'
    'dependencies = ["a>=1", "b; python_version < \'3.10\'"]\n'
    '[project.optional-dependencies]\nfast = ["c"]\n'
    '[[tool.poetry.source]]\nname = "s"\nurl = "https://example.com/simple"\n',
    "tool.poetry alone": '[tool.poetry]\nname = "x"\nversion = "1"\n'
    '[tool.poetry.dependencies]\npython = "^3.9"\nrequests = "^2"\n'
    '[tool.poetry.group.dev.dependencies]\npytest = "*"\n',
    "dependency groups": '[project]\nname = "x"\nversion = "1"\ndependencies = ["naïve"]\n'
    '[dependency-groups]\ndev = ["pytest"]\n',
    "groups alone": '[dependency-groups]\ndev = ["pytest"]\n[tool.poetry]\nname = "x"\n',
}


@pytest.mark.parametrize("with_groups", [True, False])
@pytest.mark.parametrize("name", sorted(PYPROJECTS))
def test_poetry_content_hash_is_poetrys_own(name: str, with_groups: bool) -> None:
    from hatch_lambda.requirements._poetry_hash import content_hash

    locker = pytest.importorskip("poetry.packages.locker")
    data = tomllib.loads(PYPROJECTS[name])
    theirs = locker.Locker(Path("poetry.lock"), data)._get_content_hash(
        with_dependency_groups=with_groups
    )
    assert content_hash(data, with_groups=with_groups) == theirs


def _poetry_lock(folder: Path, pyproject: str, locked: str, writer: str = "2.1.3") -> Path:
    from hatch_lambda.requirements._poetry_hash import content_hash

    (folder / "pyproject.toml").write_text(pyproject)
    digest = content_hash(tomllib.loads(locked), with_groups=writer >= "2.3")
    lock = folder / "poetry.lock"
    lock.write_text(
        f"# This file is automatically @generated by Poetry {writer} and should not be changed by "
        f'hand.\n\n[metadata]\nlock-version = "2.1"\ncontent-hash = "{digest}"\n'
    )
    return lock


def test_a_poetry_lock_is_judged_by_the_hash_its_poetry_wrote(tmp_path: Path) -> None:
    from hatch_lambda.requirements._poetry_hash import check_content_hash

    def read(lock: Path) -> LockedSet:
        return read_poetry_lock(lock, environment=ENV312, extras=[], groups=[],
                                include_hashes=True, without_urls=False)  # fmt: skip

    grouped = PYPROJECTS["dependency groups"]
    read(_poetry_lock(tmp_path, grouped, grouped, writer="2.3.0"))
    # Poetry before 2.3 left [dependency-groups] out of the hash: adding one does not count.
    read(_poetry_lock(tmp_path, grouped, grouped.split("[dependency-groups]")[0], writer="2.2.1"))
    with pytest.raises(RequirementsError, match=r"poetry\.lock is out of date.*run `poetry lock`"):
        read(_poetry_lock(tmp_path, grouped, grouped.replace("naïve", "other"), writer="2.2.1"))
    # A Poetry of another major version may hash differently: not judged.
    read(_poetry_lock(tmp_path, grouped, "[project]\n", writer="3.0.0"))
    # No pyproject.toml beside the lock: nothing to compare with.
    check_content_hash(tmp_path / "elsewhere" / "poetry.lock", "0" * 64)


def test_options_after_a_requirement_are_split_as_pip_splits_them(tmp_path: Path) -> None:
    from support.report import Recorder

    digest = "a" * 64
    (tmp_path / "requirements.txt").write_text(
        "--no-binary :all:\n"
        f"six==1.16.0 ; python_version >= '3.8' --no-binary=:six: --hash=sha256:{digest} "
        "--global-option=--quiet --config-settings key=value\n"
        "--pre --extra-index-url https://extra.example/simple\n"
    )
    reporter = Recorder()
    reqs = read_requirements_txt(
        tmp_path / "requirements.txt", environment=ENV312, project="x", reporter=reporter
    )
    assert isinstance(reqs, LockedSet)
    [pin] = reqs.pins
    assert (pin.name, pin.version, pin.sha256) == ("six", "1.16.0", {digest})
    assert reqs.hand_pinned is not None and reqs.hand_pinned.hash_checking
    assert reqs.extra_index_urls == ("https://extra.example/simple",)
    assert reporter.of("info") == [
        "requirements.txt:2: --global-option=--quiet on 'six==1.16.0' is ignored: hatch-lambda "
        "passes no build options to a build from source",
        "requirements.txt:2: --config-settings=key=value on 'six==1.16.0' is ignored: "
        "hatch-lambda passes no build options to a build from source",
    ]
    warnings = reporter.of("warning")
    assert [w.split(" is ignored")[0] for w in warnings] == [
        "requirements.txt:1: --no-binary :all:",
        "requirements.txt:2: --no-binary :six:",
        "requirements.txt:3: --pre",
    ]


def test_requirements_mode_lock_refuses_every_unpinned_line(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("six==1.16.0\nrequests>=2\nidna\n")
    with pytest.raises(RequirementsError) as info:
        read_requirements_txt(
            tmp_path / "requirements.txt", environment=ENV312, project="x", strict=True
        )
    message = str(info.value)
    assert "requirements.txt:2 requests>=2; requirements.txt:3 idna" in message
    assert "uv pip compile requirements.in" in message
