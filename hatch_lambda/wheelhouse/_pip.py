"""Resolves with pip's dry-run install report, run for the target's markers and tags."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from packaging.pylock import Pylock, PylockValidationError
from packaging.utils import canonicalize_name

from .._report import Reporter, counted
from .._subprocess import run
from ..errors import ResolutionError
from ..target import Target
from ._indexes import Indexes
from ._unusable import LEGACY_ADVICE, LEGACY_SDISTS, legacy_note

_BOOTSTRAP = Path(__file__).with_name("_pip_target.py")


def resolve(
    requirements: list[str],
    target: Target,
    indexes: Indexes,
    *,
    sdists: frozenset[str],
    workdir: Path,
    reporter: Reporter,
    refresh: bool = False,
    constraints: Sequence[str] = (),
) -> Pylock:
    workdir.mkdir(parents=True, exist_ok=True)
    source = workdir / "requirements.txt"
    source.write_text("".join(f"{line}\n" for line in requirements), encoding="utf-8")
    report = workdir / "pip-report.json"
    argv = [
        sys.executable,
        str(_BOOTSTRAP),
        "install",
        "--dry-run",
        "--ignore-installed",
        "--quiet",
        "--no-input",
        "--disable-pip-version-check",
        "--report",
        str(report),
        "--target",
        str(workdir / "unused-target"),
        "--python-version",
        target.python_version,
        "--implementation",
        "cp",
        "--abi",
        target.runtime.cpython_tag,
        "-r",
        str(source),
    ]
    if constraints:
        constraint_file = workdir / "constraints.txt"
        constraint_file.write_text("".join(f"{c}\n" for c in constraints), encoding="utf-8")
        argv += ["-c", str(constraint_file)]
    for platform in target.platforms:
        argv += ["--platform", platform]
    argv.append("--only-binary=:all:")
    if refresh:  # pip's HTTP cache would serve what the index served before
        argv.append("--no-cache-dir")
    if sdists:
        argv.append(f"--no-binary={','.join(sorted(sdists))}")
    spec = {"environment": target.marker_environment(), "allow_sdists": bool(sdists)}
    run(
        argv,
        what=f"resolving {counted(len(requirements), 'requirement')} with pip for {target.label}",
        reporter=reporter,
        env={**indexes.pip_env(), "HATCH_LAMBDA_PIP_TARGET": json.dumps(spec)},
        cwd=workdir,
    )
    return report_to_pylock(json.loads(report.read_text(encoding="utf-8")), report)


def report_to_pylock(report: dict[str, Any], origin: Path) -> Pylock:
    """Express pip's installation report (one chosen file a package) as a PEP 751 lock."""
    packages: list[dict[str, Any]] = []
    for item in report.get("install", []):
        meta = item["metadata"]
        info = item["download_info"]
        url: str = info["url"]
        entry: dict[str, Any] = {
            "url": url,
            "hashes": info.get("archive_info", {}).get("hashes", {}),
        }
        package: dict[str, Any] = {
            "name": canonicalize_name(meta["name"]),
            "version": meta["version"],
        }
        if "dir_info" in info or "vcs_info" in info:
            raise ResolutionError(
                f"{meta['name']} comes from {url}, a directory or VCS checkout, which "
                "hatch-lambda does not bundle yet; publish it as a wheel or depend on a release"
            )
        filename = url.split("?", maxsplit=1)[0].split("#", maxsplit=1)[0].rsplit("/", 1)[-1]
        if filename.endswith(".whl"):
            package["wheels"] = [entry]
        elif filename.endswith(LEGACY_SDISTS):
            raise ResolutionError(
                f"{meta['name']} {meta['version']} offers only {filename}: "
                f"{legacy_note(filename)}. {LEGACY_ADVICE}"
            )
        else:
            package["sdist"] = entry
        packages.append(package)
    try:
        return Pylock.from_dict(
            {"lock-version": "1.0", "created-by": "hatch-lambda (pip report)", "packages": packages}
        )
    except PylockValidationError as exc:
        raise ResolutionError(f"pip's report {origin} is not usable: {exc}") from exc
