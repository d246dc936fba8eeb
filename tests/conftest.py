from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.index import build_index, serve
from support.project import Project, clean_env


@pytest.fixture(scope="session", autouse=True)
def no_python_downloads(tmp_path_factory: pytest.TempPathFactory) -> None:
    """compile-bytecode = "auto" may have uv download a Python: never in the tests, which run
    offline (the network test that does turns this off), and with no uv-managed Python of this
    machine's, so what is found is the same everywhere."""
    os.environ["UV_PYTHON_DOWNLOADS"] = "never"
    os.environ["UV_PYTHON_INSTALL_DIR"] = str(tmp_path_factory.mktemp("uv-pythons"))


@pytest.fixture(scope="session")
def index_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_index(tmp_path_factory.mktemp("index"))


@pytest.fixture(scope="session")
def index(index_root: Path) -> Iterator[tuple[str, list[str]]]:
    with serve(index_root) as served:
        yield served


@pytest.fixture(scope="session")
def index_url(index: tuple[str, list[str]]) -> str:
    return index[0]


@pytest.fixture(scope="session")
def build_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def app(tmp_path: Path, build_cache: Path, index_url: str) -> Project:
    """The fixture project `fx-app`, with the local index as its only package source."""
    # Its own hatch-lambda cache, so one test's results never satisfy another's build.
    env = clean_env(build_cache, HATCH_LAMBDA_CACHE_DIR=str(tmp_path / "hatch-lambda-cache"))
    return Project.copy(tmp_path / "app", env, index_url)
