"""What the benchmark builds: targets, dependency sets, the generated projects and tool commands.

Used by ``run.py``; not meant to be run on its own.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

HANDLER = "bench_app.app.handler"
# The cold-import measurement: this target's and this set's hatch-lambda zip, unpacked.
IMPORT_STATEMENT = "import pandas, pydantic, requests"
IMPORT_TARGET = "python3.11-x86_64"
IMPORT_SET = "default"

DEFAULT_DEPENDENCIES = ("requests", "pydantic", "numpy", "pandas", "orjson", "cryptography")
DEPENDENCY_SETS: dict[str, tuple[str, ...]] = {
    # One pure-Python distribution (and its four dependencies): the tools' fixed costs.
    "small": ("requests",),
    # A realistic function: about 125 MB unzipped.
    "default": DEFAULT_DEPENDENCIES,
    # Near Lambda's 250 MB unzipped limit (262,144,000 bytes) without crossing it: scipy adds
    # about 120 MB. hatch-lambda's zips, December 2026: 245,032,479 bytes unzipped for
    # python3.12 arm64, 247,503,975 for python3.11 x86_64 (pyarrow or polars instead of scipy,
    # about 140 to 180 MB each, would cross the limit).
    "large": (*DEFAULT_DEPENDENCIES, "scipy"),
}
LAMBDA_UNZIPPED_LIMIT = 262_144_000  # bytes: Lambda's 250 MB limit for a function and its layers


@dataclass(frozen=True)
class Target:
    runtime: str  # "python3.12"
    architecture: str  # "arm64" or "x86_64"
    glibc: str  # the runtime's glibc: 2.34 (Amazon Linux 2023) or 2.26 (Amazon Linux 2)
    uv_glibc: str  # the newest glibc that uv's --python-platform can name, not above ``glibc``

    @property
    def key(self) -> str:
        return f"{self.runtime}-{self.architecture}"

    @property
    def version(self) -> str:
        return self.runtime.removeprefix("python")

    @property
    def abi(self) -> str:
        return "cp" + self.version.replace(".", "")

    @property
    def machine(self) -> str:
        return "aarch64" if self.architecture == "arm64" else "x86_64"

    @property
    def uv_platform(self) -> str:
        """``aarch64-manylinux_2_34``: uv has no ``manylinux_2_26``, so 2.26 becomes ``_2_17``."""
        return f"{self.machine}-manylinux_{self.uv_glibc.replace('.', '_')}"


TARGETS = {
    t.key: t
    for t in (
        Target("python3.12", "arm64", glibc="2.34", uv_glibc="2.34"),
        Target("python3.11", "x86_64", glibc="2.26", uv_glibc="2.17"),
    )
}


def fresh_dir(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


# --------------------------------------------------------------------------------------------
# The generated projects
# --------------------------------------------------------------------------------------------

NO_OP_HOOK = '''\
"""A custom build hook that does nothing: the baseline for hatch-lambda's hook."""

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class NoOpBuildHook(BuildHookInterface):
    def initialize(self, version, build_data):
        pass

    def finalize(self, version, build_data, artifact_path):
        pass
'''


def write_project(
    root: Path,
    target: Target,
    dependencies: tuple[str, ...],
    *,
    hook: str = "lambda",
    compile_bytecode: str = "auto",
) -> Path:
    """A tiny project with *dependencies* and, for *hook*, one of two build hooks.

    ``hook="lambda"``: hatch-lambda's hook for *target*, with *compile_bytecode* (``"auto"``, the
    default, is not written); ``hook="custom"``: a ``hatch_build.py`` hook that does nothing (the
    same project otherwise).
    """
    fresh_dir(root)
    deps = "".join(f'  "{d}",\n' for d in dependencies)
    if hook == "lambda":
        requires = '"hatchling", "hatch-lambda"'
        extra = "" if compile_bytecode == "auto" else f"compile-bytecode = {compile_bytecode}\n"
        hook_table = (
            f"[tool.hatch.build.targets.wheel.hooks.lambda]\n"
            f'runtime = "{target.runtime}"\n'
            f'architecture = "{target.architecture}"\n'
            f'handler = "{HANDLER}"\n{extra}'
        )
    elif hook == "custom":
        requires = '"hatchling"'
        hook_table = "[tool.hatch.build.targets.wheel.hooks.custom]\n"
        (root / "hatch_build.py").write_text(NO_OP_HOOK, encoding="utf-8")
    else:
        raise ValueError(f"unknown hook {hook!r}")
    (root / "pyproject.toml").write_text(
        f"""[build-system]
requires = [{requires}]
build-backend = "hatchling.build"

[project]
name = "bench-app"
version = "0.1.0"
dependencies = [
{deps}]

[tool.hatch.build.targets.wheel]
packages = ["src/bench_app"]

{hook_table}""",
        encoding="utf-8",
    )
    package = root / "src" / "bench_app"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "app.py").write_text(
        "def handler(event, context):\n    return 1\n", encoding="utf-8"
    )
    return root


def write_requirements(folder: Path, dependencies: tuple[str, ...]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "requirements.txt"
    path.write_text("".join(f"{d}\n" for d in dependencies), encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------
# The alternatives' commands
# --------------------------------------------------------------------------------------------


def pip_install_argv(target: Target, folder: Path, requirements: Path) -> list[str]:
    """The AWS CDK's flags (aws-cdk pull request for Python bundling without Docker)."""
    platforms = [f"manylinux2014_{target.machine}"]
    if target.version == "3.12":
        platforms.insert(0, f"manylinux_2_28_{target.machine}")
    argv = [sys.executable, "-m", "pip", "install", "--target", str(folder)]
    for tag in platforms:
        argv += ["--platform", tag]
    argv += ["--python-version", target.version, "--implementation", "cp", "--abi", target.abi]
    return [*argv, "--only-binary=:all:", "-r", str(requirements)]


def uv_install_argv(
    target: Target, folder: Path, requirements: Path, uv: str, *, python: str | None = None
) -> list[str]:
    """uv for the runtime's glibc (as far as uv can name it), wheels only; with *python* (an
    interpreter of the runtime's version) it compiles bytecode with it, else none."""
    bytecode = ["--python", python, "--compile-bytecode"] if python else ["--no-compile-bytecode"]
    return [
        uv, "pip", "install", "--target", str(folder),
        "--python-platform", target.uv_platform,
        "--python-version", target.version,
        "--only-binary", ":all:",
        *bytecode, "--no-installer-metadata",
        "-r", str(requirements),
    ]  # fmt: skip


SAM_DRIVER = '''\
"""Builds with aws-lambda-builders' python_pip workflow, as `sam build` does."""
import logging
import sys
import traceback

from aws_lambda_builders.builder import LambdaBuilder

logging.basicConfig(level=logging.WARNING)
source, artifacts, scratch, manifest, runtime, architecture, search_path = sys.argv[1:8]
try:
    LambdaBuilder(language="python", dependency_manager="pip", application_framework=None).build(
        source, artifacts, scratch, manifest, runtime=runtime, architecture=architecture,
        executable_search_paths=[search_path],
    )
except Exception as exc:
    traceback.print_exc()
    first = (str(exc).strip().splitlines() or [""])[0]
    print(f"ERROR: {type(exc).__name__}: {first}", file=sys.stderr)
    sys.exit(1)
'''


def sam_steps(
    target: Target, out: Path, source: Path, requirements: Path, python: str
) -> list[tuple[list[str], Path]]:
    driver = out.parent / "sam_build.py"
    driver.write_text(SAM_DRIVER, encoding="utf-8")
    artifacts, scratch = fresh_dir(out / "artifacts"), fresh_dir(out / "scratch")
    argv = [
        python, str(driver), str(source), str(artifacts), str(scratch), str(requirements),
        target.runtime, target.architecture, str(Path(python).parent),
    ]  # fmt: skip
    return [(argv, out)]
