"""Chooses, for every locked package, the one file the target loads best."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from packaging.pylock import Package, PackageSdist, PackageWheel, Pylock, PylockSelectError
from packaging.utils import parse_wheel_filename

from ..errors import WheelSelectionError
from ..target import Target


@dataclass(frozen=True)
class Chosen:
    name: str
    version: str
    filename: str
    url: str
    hashes: Mapping[str, str]

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"


def _version(package: Package) -> str:
    return str(package.version) if package.version is not None else "(unversioned)"


def _no_file_problems(lock: Pylock, target: Target) -> list[str]:
    env = {**target.marker_environment(), "extras": frozenset(), "dependency_groups": frozenset()}
    problems = []
    for i, package in enumerate(lock.packages):
        if package.marker and not package.marker.evaluate(env, context="lock_file"):  # type: ignore[arg-type]
            continue
        if (
            not package.wheels
            or package.sdist
            or package.archive
            or package.vcs
            or package.directory
        ):
            continue
        if any(target.accepts(parse_wheel_filename(w.filename)[3]) for w in package.wheels):
            continue
        offered = sorted(
            {str(t) for w in package.wheels for t in parse_wheel_filename(w.filename)[3]}
        )
        problems.append(
            f"{package.name} {_version(package)} (packages[{i}]) has no wheel for {target.label} "
            f"and no sdist. Its wheels are tagged {', '.join(offered[:8])}"
            f"{' ...' if len(offered) > 8 else ''}; looked for {target.describe_tags()}. "
            f"Pin a version of {package.name} that publishes a wheel for this target, "
            f"or change the runtime or architecture."
        )
    return problems


def select(lock: Pylock, target: Target) -> list[Chosen]:
    problems = _no_file_problems(lock, target)
    if problems:
        raise WheelSelectionError("\n".join(problems))
    chosen: list[Chosen] = []
    try:
        for package, artifact in lock.select(
            environment=target.marker_environment(), tags=list(target.tags)
        ):
            if not isinstance(artifact, (PackageWheel, PackageSdist)) or not artifact.url:
                where = getattr(artifact, "path", None) or getattr(artifact, "url", None)
                raise WheelSelectionError(
                    f"{package.name} {_version(package)} is locked to {where!r}, a local path, "
                    "archive or VCS source; hatch-lambda bundles index wheels and sdists only"
                )
            chosen.append(
                Chosen(
                    name=str(package.name),
                    version=_version(package),
                    filename=artifact.filename,
                    url=artifact.url,
                    hashes=dict(artifact.hashes),
                )
            )
    except PylockSelectError as exc:
        raise WheelSelectionError(f"cannot select files for {target.label}: {exc}") from exc
    return sorted(chosen, key=lambda c: c.name)
