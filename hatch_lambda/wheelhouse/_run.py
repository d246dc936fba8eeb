"""What every step of one wheelhouse shares, and the step they all end with: one wheel per pin,
chosen by the target's tags, fetched, and built when it is an sdist."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import parse_sdist_filename, parse_wheel_filename

from .._report import Reporter, timed
from ..errors import WheelSelectionError
from ..requirements import Pin
from ..target import Target
from ._fetch import fetch
from ._indexes import Indexes
from ._sdist import build_wheel
from ._select import choose
from ._wheel import Wheel


@dataclass(frozen=True)
class Run:
    """What every step of one wheelhouse shares: the target, where packages come from, how
    they are resolved, where the work goes."""

    target: Target
    indexes: Indexes
    resolver: str
    custom_platforms: bool
    workdir: Path
    reporter: Reporter
    refresh: bool
    skip: frozenset[str]
    """The names local sources provide: never taken from an index."""

    def within(self, folder: str) -> Run:
        return dataclasses.replace(self, workdir=self.workdir / folder)


def gather(pins: list[Pin], run: Run) -> list[Wheel]:
    """One wheel per pin: the best file chosen, fetched, and built when it is an sdist."""
    if not pins:
        return []
    target = run.target
    chosen = choose(pins, target)
    paths = fetch(chosen, run.workdir / "downloads", run.indexes, run.reporter)

    wheels: list[Wheel] = []
    for item, path in zip(chosen, paths):
        version = item.version or _version_from_filename(item.filename)
        if item.is_wheel:
            # A file with a digest to go by was verified against it when fetched.
            wheels.append(Wheel(item.name, version, path, known_sha256=item.hashes.get("sha256")))
        else:
            with timed(run.reporter, "sdist build"):
                built = build_wheel(
                    item, path, target, run.indexes, use_uv=run.resolver != "pip",
                    workdir=run.workdir / "sdists", reporter=run.reporter, refresh=run.refresh,
                )  # fmt: skip
            wheels.append(Wheel(item.name, version, built, built_from_sdist=True))
    _check_tags(wheels, target)
    return wheels


def _version_from_filename(filename: str) -> str:
    if filename.endswith(".whl"):
        return str(parse_wheel_filename(filename)[1])
    return str(parse_sdist_filename(filename)[1])


def _check_tags(wheels: list[Wheel], target: Target) -> None:
    # Whatever a backend believed about the platform, only the target's own tag list decides.
    bad = [
        f"{w.name} {w.version}: {w.path.name} is not loadable on {target.label} "
        f"(looked for {target.describe_tags(3)})"
        for w in wheels
        if not target.accepts(w.tags)
    ]
    if bad:
        raise WheelSelectionError("\n".join(bad))
