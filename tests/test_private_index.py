"""A package index that requires basic authentication: the credential reaches the index and
nothing else (no output line, manifest, archive or cache entry)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.index import serve
from support.project import Project, clean_env

TOKEN = "s3cret-t0ken-4242"
# A password with the characters that end a URL's user-info and host part. pip and uv split at
# the last '@' before the first '/', so '@' may stay as it is and '/' must be written %2F.
ODD = "pa/ss@w0rd-4242"
ODD_IN_URL = "pa%2Fss@w0rd-4242"
# Every spelling, and the pieces a wrong split would show.
ODD_PIECES = (ODD, ODD_IN_URL, "pa%2Fss%40w0rd", "pa/ss", "w0rd-4242")


@pytest.fixture(scope="module")
def private_index(index_root: Path) -> Iterator[tuple[str, list[str]]]:
    with serve(index_root, credentials=f"alice:{TOKEN}") as (url, seen):
        yield url.replace("http://", f"http://alice:{TOKEN}@"), seen


@pytest.fixture(scope="module")
def odd_index(index_root: Path) -> Iterator[tuple[str, list[str]]]:
    """The index behind a password holding '/' and '@'; yields its URL without credentials."""
    with serve(index_root, credentials=f"alice:{ODD}") as served:
        yield served


def leaks(
    project: Project, cache: Path, output: str, secrets: tuple[str, ...] = (TOKEN,)
) -> list[str]:
    places = []
    for secret in secrets:
        if secret.lower() in output.lower():
            places.append(f"build output ({secret})")
        for path in [*project.lambda_dir.rglob("*"), *cache.rglob("*")]:
            if secret in str(path):
                places.append(f"path {path}")
            elif path.is_file() and secret.encode() in path.read_bytes():
                places.append(f"content of {path} ({secret})")
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


@pytest.mark.parametrize("resolver", ["uv", "pip"])
def test_a_password_holding_a_slash_and_an_at(
    tmp_path: Path, odd_index: tuple[str, list[str]], resolver: str
) -> None:
    url, seen = odd_index
    cache = tmp_path / "cache"
    app = Project.copy(
        tmp_path / "app", clean_env(cache), url.replace("http://", f"http://alice:{ODD_IN_URL}@")
    )
    app.configure(
        {"runtime": "python3.12", "resolver": resolver, "handler": "fx_app.handler.handler"}
    )
    before = len(seen)
    proc = app.build_wheel(HATCH_VERBOSE="3")
    assert len(seen) > before
    assert app.only_zip().exists()
    assert leaks(app, cache, proc.stdout + proc.stderr, ODD_PIECES) == []
    assert "http://***@127.0.0.1" in proc.stderr


@pytest.mark.parametrize("where", ["index-url", "PIP_INDEX_URL", "requirements.txt"])
def test_an_unencoded_slash_in_a_password_is_refused_before_any_tool_runs(
    tmp_path: Path, odd_index: tuple[str, list[str]], where: str
) -> None:
    # uv rejects such a URL printing it whole, and pip takes 'pa' for a port and shows it.
    url, seen = odd_index
    bad = url.replace("http://", f"http://alice:{ODD}@")
    cache = tmp_path / "cache"
    env = {"PIP_INDEX_URL": bad} if where == "PIP_INDEX_URL" else {}
    app = Project.copy(
        tmp_path / "app", clean_env(cache, **env), bad if where == "index-url" else None
    )
    table = {"runtime": "python3.12", "handler": "fx_app.handler.handler"}
    if where == "requirements.txt":
        (app.path / "requirements.txt").write_text(f"--index-url {bad}\nfx-pure==1.0\n")
        table["requirements"] = "requirements.txt"
    app.configure(table)
    before = len(seen)
    proc = app.hatchling("-t", "wheel", HATCH_VERBOSE="3")
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "Traceback" not in output
    assert "has an '@' after its host part" in output and "%2F" in output
    expected = {
        "index-url": "hooks.lambda.index-url",
        "PIP_INDEX_URL": "environment variable PIP_INDEX_URL",
        "requirements.txt": "an index URL in requirements.txt",
    }
    assert expected[where] in output
    assert len(seen) == before
    assert leaks(app, cache, output, ODD_PIECES) == []
