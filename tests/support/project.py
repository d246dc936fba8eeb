"""A fixture project copied into a temporary folder, configured and built with the real hatchling."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

from .index import FIXTURES

# Variables of the machine running the tests that would leak into builds (this machine's pip
# settings point at local wheel folders, for instance): builds get a clean slate.
_LEAKY_PREFIXES = ("PIP_", "UV_", "HATCH_", "SOURCE_DATE_EPOCH", "VIRTUAL_ENV")


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(value)


def clean_env(cache: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_LEAKY_PREFIXES)}
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        UV_CACHE_DIR=str(cache / "uv"),
        UV_NO_CONFIG="1",
        # Builds never download a Python for compile-bytecode = "auto" (see conftest.py).
        UV_PYTHON_DOWNLOADS=os.environ.get("UV_PYTHON_DOWNLOADS", "never"),
        UV_PYTHON_INSTALL_DIR=os.environ.get("UV_PYTHON_INSTALL_DIR", str(cache / "uv-python")),
        HATCH_LAMBDA_CACHE_DIR=str(cache / "hatch-lambda"),
    )
    env.update(extra)
    return env


def toml_tables(name: str, table: dict[str, Any]) -> str:
    """`[name]` with the plain keys of *table*, then each nested table as `[name.key]`."""
    body = "".join(f"{k} = {toml_value(v)}\n" for k, v in table.items() if not isinstance(v, dict))
    text = f"\n[{name}]\n{body}"
    for key, value in table.items():
        if isinstance(value, dict):
            text += toml_tables(f"{name}.{key}", value)
    return text


class Project:
    def __init__(self, path: Path, env: dict[str, str], index_url: str | None = None) -> None:
        self.path = path
        self.env = env
        self.index_url = index_url
        self.template = (path / "pyproject.toml").read_text()

    @classmethod
    def copy(
        cls, destination: Path, env: dict[str, str], index_url: str | None = None, name: str = "app"
    ) -> Project:
        shutil.copytree(
            FIXTURES / "projects" / name,
            destination,
            ignore=shutil.ignore_patterns("dist", "dist-lambda", "__pycache__"),
        )
        return cls(destination, env, index_url)

    def configure(
        self, table: dict[str, Any] | None, *, at: str = "targets.wheel.hooks.lambda"
    ) -> None:
        text = self.template
        if table is not None:
            if self.index_url and "index-url" not in table:
                table = {**table, "index-url": self.index_url}
            text += toml_tables(f"tool.hatch.build.{at}", table)
        (self.path / "pyproject.toml").write_text(text)

    def run(self, argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv,
            cwd=self.path,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    def hatchling(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """`hatchling build ARGS`: the command `hatch build` runs inside its build environment."""
        return self.run([sys.executable, "-m", "hatchling", "build", *args], **env)

    def build_wheel(self, **env: str) -> subprocess.CompletedProcess[str]:
        proc = self.hatchling("-t", "wheel", **env)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc

    @property
    def lambda_dir(self) -> Path:
        return self.path / "dist-lambda"

    def artifacts(self, suffix: str = ".zip") -> list[Path]:
        return sorted(self.lambda_dir.glob(f"*{suffix}")) if self.lambda_dir.exists() else []

    def only_zip(self) -> Path:
        zips = self.artifacts()
        assert len(zips) == 1, zips
        return zips[0]

    def manifest(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.only_zip().with_suffix(".json").read_text())
        return data


def unpack(zip_path: Path, destination: Path) -> Path:
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(destination)
    return destination
