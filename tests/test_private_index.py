"""A package index that requires basic authentication: the credential reaches the index and
nothing else (no output line, manifest, archive or cache entry)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.index import serve
from support.project import Project, clean_env

TOKEN = "s3cret-t0ken-4242"


@pytest.fixture(scope="module")
def private_index(index_root: Path) -> Iterator[tuple[str, list[str]]]:
    with serve(index_root, credentials=f"alice:{TOKEN}") as (url, seen):
        yield url.replace("http://", f"http://alice:{TOKEN}@"), seen


def leaks(project: Project, cache: Path, output: str) -> list[str]:
    places = []
    if TOKEN in output:
        places.append("build output")
    for path in [*project.lambda_dir.rglob("*"), *cache.rglob("*")]:
        if TOKEN in str(path):
            places.append(f"path {path}")
        elif path.is_file() and TOKEN.encode() in path.read_bytes():
            places.append(f"content of {path}")
    return places


@pytest.mark.parametrize("resolver", ["uv", "pip"])
def test_resolving_against_an_authenticated_index(
    tmp_path: Path, private_index: tuple[str, list[str]], resolver: str
) -> None:
    url, seen = private_index
    cache = tmp_path / "cache"
    app = Project.copy(tmp_path / "app", clean_env(cache), url)
    app.configure(
        {"runtime": "python3.12", "resolver": resolver, "handler": "fx_app.handler.handler"}
    )
    before = len(seen)
    proc = app.build_wheel(HATCH_VERBOSE="3")
    assert len(seen) > before  # the authenticated server was used
    assert app.only_zip().exists()
    assert leaks(app, cache, proc.stdout + proc.stderr) == []
    assert "http://***@127.0.0.1" in proc.stderr  # the index is named, redacted


def test_credentials_from_the_environment_and_a_lock(
    tmp_path: Path, private_index: tuple[str, list[str]], index_url: str
) -> None:
    url, _ = private_index
    cache = tmp_path / "cache"
    app = Project.copy(tmp_path / "app", clean_env(cache, PIP_INDEX_URL=url))
    # A pinned requirements file that names the index through a variable, as pip allows.
    (app.path / "requirements.txt").write_text(
        "--index-url ${PRIVATE_INDEX}\nfx-pure==1.0\nfx-markers==1.0\nfx-x86only==1.0\n"
        "fx-native==2.0\nfx-cpython==1.0\nfx-under-score==1.0\n"
    )
    app.configure({"runtime": "python3.12", "requirements": "requirements.txt"})
    proc = app.build_wheel(HATCH_VERBOSE="3", PRIVATE_INDEX=url)
    assert "Requirements: requirements.txt" in proc.stderr
    assert leaks(app, cache, proc.stdout + proc.stderr) == []


def test_a_failure_names_the_index_without_the_credential(
    tmp_path: Path, private_index: tuple[str, list[str]]
) -> None:
    url, _ = private_index
    cache = tmp_path / "cache"
    app = Project.copy(tmp_path / "app", clean_env(cache), url)
    (app.path / "requirements.txt").write_text("fx-pure==9.9\n")
    app.configure({"runtime": "python3.12", "requirements": "requirements.txt"})
    proc = app.hatchling("-t", "wheel", HATCH_VERBOSE="3")
    assert proc.returncode != 0
    assert "fx-pure 9.9 (requirements.txt:1) is not on http://127.0.0.1:" in proc.stderr
    assert TOKEN not in proc.stdout + proc.stderr


def test_wrong_credentials_fail_clearly(
    tmp_path: Path, private_index: tuple[str, list[str]]
) -> None:
    url, _ = private_index
    app = Project.copy(tmp_path / "app", clean_env(tmp_path / "cache"), url.replace(TOKEN, "wrong"))
    (app.path / "requirements.txt").write_text("fx-pure==1.0\n")
    app.configure({"runtime": "python3.12", "requirements": "requirements.txt"})
    proc = app.hatchling("-t", "wheel")
    assert proc.returncode != 0
    assert "HTTP 401" in proc.stderr and "wrong" not in proc.stderr
