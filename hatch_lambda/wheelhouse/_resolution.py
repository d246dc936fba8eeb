"""Resolving ranges for a foreign target: with uv or pip, wheels first and sdists only for the
packages that need them, the pins then reviewed against the index (``_review``)."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

from packaging.pylock import Pylock
from packaging.utils import canonicalize_name

from .._report import Reporter, counted, timed
from ..errors import ResolutionError, ToolError
from ..requirements import Pin, RequirementSet
from ..requirements._pylock import pins_from_pylock
from ..target import Target
from . import _pip, _uv
from ._advice import not_on_index, not_on_index_advice, resolution_advice
from ._held_back import HeldBack
from ._indexes import Indexes
from ._retry import legacy_sdists, packages_needing_sdists, packages_without_matching_wheels
from ._review import review
from ._run import Run, gather
from ._unusable import LEGACY_ADVICE, without_usable_files
from ._wheel import Wheel


def choose_resolver(name: str, *, custom_platforms: bool = False) -> str:
    """``auto`` means uv, the fastest, unless it is missing or cannot express the platform tags.

    uv takes one named platform, not a list: a ``platform-tags`` override goes to pip, which takes
    the list as given.
    """
    if name == "auto":
        return "uv" if _uv.find_uv() and not custom_platforms else "pip"
    return name


def resolver_version(backend: str) -> str:
    if backend == "uv":
        uv = _uv.find_uv()
        if uv:
            out = subprocess.run([uv, "--version"], capture_output=True, text=True, check=False)
            return out.stdout.strip()
        return "uv (missing)"
    try:
        return f"pip {importlib.metadata.version('pip')}"
    except importlib.metadata.PackageNotFoundError:
        return "pip (missing)"


def from_ranges(requirements: RequirementSet, run: Run) -> list[Wheel]:
    """Resolve *requirements* for the target (reviewed against the index), then gather a wheel
    for each pin; which releases were held back is said while the wheels download."""
    target, indexes, reporter = run.target, run.indexes, run.reporter
    lines = requirements.lines()
    if not lines:
        return []
    backend = choose_resolver(run.resolver, custom_platforms=run.custom_platforms)
    reporter.waiting(
        f"Resolving {counted(len(lines), 'requirement')} from {requirements.source} for "
        f"{target.label} with {backend}"
    )
    with timed(reporter, "resolve"):
        pins = _resolve_reviewed(backend, requirements, run.within("resolve"))
    if not pins:
        return []
    # Looked up while the wheels download; a lock's versions are its author's choice.
    with HeldBack(pins, requirements.requirements, target, indexes, reporter) as held:
        wheels = gather(pins, run)
        for line in held.lines():
            reporter.info(line)
    return wheels


_MAX_REVIEW_ROUNDS = 4


def _resolve_reviewed(backend: str, requirements: RequirementSet, run: Run) -> list[Pin]:
    """Resolve, then for uv review the pins against the index (``_review``): releases whose
    Requires-Python excludes the runtime are constrained away, round after round, and a newer
    release with a wheel only the exact tag list accepts sends the resolution to pip."""
    target, indexes, reporter = run.target, run.indexes, run.reporter
    lines = requirements.lines()
    wanted = {canonicalize_name(r.name): r.specifier for r in requirements.requirements}
    constraints: list[str] = []
    for round_ in range(_MAX_REVIEW_ROUNDS):
        lock, backend = resolve(
            backend, requirements=lines, target=target, indexes=indexes,
            workdir=run.workdir / f"review{round_}", reporter=reporter, refresh=run.refresh,
            constraints=constraints,
        )  # fmt: skip
        # A released package that requires a name a local source provides gets the local build.
        pins = pins_from_pylock(
            lock, where=f"{backend}'s resolution", environment=target.marker_environment(),
            skip=run.skip,
        )  # fmt: skip
        if backend != "uv" or not pins:
            return pins
        found = review(pins, wanted, target, indexes, reporter,
                       reachable=_uv.reachable_target(target))  # fmt: skip
        for line in found.skipped:
            reporter.info(line)
        if found.newer_fits:
            have = ".".join(map(str, target.runtime.glibc))
            reporter.info(
                f"uv cannot be told glibc {have} ({target.runtime.name}), only manylinux_2_17: "
                f"{'; '.join(found.newer_fits)}. Resolving with pip, which takes the exact tags"
            )
            backend = "pip"
            continue
        new = [c for c in found.constraints if c not in constraints]
        if not new:
            return pins
        constraints += new
    raise ResolutionError(
        f"releases kept being ruled out by their Requires-Python after {_MAX_REVIEW_ROUNDS} "
        f"rounds ({', '.join(constraints)}); pin the packages named above to releases that "
        f'support Python {target.runtime.version}, or set resolver = "pip"'
    )


_MAX_SDIST_ROUNDS = 8


def resolve(
    resolver: str,
    *,
    requirements: list[str],
    target: Target,
    indexes: Indexes,
    workdir: Path,
    reporter: Reporter,
    refresh: bool,
    constraints: Sequence[str] = (),
) -> tuple[Pylock, str]:
    """Resolve wheels only, then allow sdists just for the packages the resolver says lack one;
    returns the lock and the resolver that made it.

    A resolver free to build sdists happily picks a release whose only file for the target is an
    sdist (numpy 2.3 on python3.11) over an older one with a wheel, and may compile it just to
    read its metadata; so sdists are allowed package by package, never wholesale. uv, told a
    lower manylinux level than the target's where it knows none in between (2_17 for glibc
    2.26), may find no wheel where the exact tag list has one: pip is asked before any sdist.
    """
    sdists: frozenset[str] = frozenset()
    checked = False
    for round_ in range(_MAX_SDIST_ROUNDS):
        backend = _uv.resolve if resolver == "uv" else _pip.resolve
        try:
            lock = backend(
                requirements, target, indexes, sdists=sdists,
                workdir=workdir / f"round{round_}", reporter=reporter, refresh=refresh,
                constraints=constraints,
            )  # fmt: skip
            return lock, resolver
        except ToolError as exc:
            message = _hide_command(exc.message, reporter)
            # A name that is on no index needs no wheel, nor a round with its sdist.
            absent = not_on_index(exc, indexes)
            if absent:
                raise ResolutionError(
                    f"{message}\n  {not_on_index_advice(absent, indexes)}"
                ) from exc
            if not checked:  # every requested package without a usable file, in one message
                checked = True
                _check_requested(requirements, target, indexes, exc)
            legacy = legacy_sdists(exc)
            if legacy:
                raise ResolutionError(f"{message}\n  {legacy}") from exc
            wanted = packages_needing_sdists(exc) - sdists
            unmatched = wanted | packages_without_matching_wheels(exc)
            if unmatched and resolver == "uv" and _uv.reachable_target(target) is not None:
                reporter.info(
                    f"No wheel of {', '.join(sorted(unmatched))} fits "
                    f"{_uv.uv_python_platform(target)}, the closest level uv can be told for "
                    f"{target.label} (glibc {'.'.join(map(str, target.runtime.glibc))}); "
                    "resolving with pip, which takes the exact tags"
                )
                resolver = "pip"
                continue
            if not wanted:
                advice = resolution_advice(target.label, target.describe_tags(2), exc.message)
                raise ToolError(f"{message}\n  {advice}") from exc
            its = "its source distribution" if len(wanted) == 1 else "their source distributions"
            reporter.info(
                f"No wheel of {', '.join(sorted(wanted))} fits {target.label}; trying {its}"
            )
            sdists |= wanted
    raise ResolutionError(f"more than {_MAX_SDIST_ROUNDS} rounds of sdist fallbacks; giving up")


_COMMAND_LINE = re.compile(r"^  command: (.*)\n", re.M)


def _hide_command(message: str, reporter: Reporter) -> str:
    """*message* without the resolver's command line (temporary paths and flags), which is
    shown at ``-v`` instead."""
    for command in _COMMAND_LINE.findall(message):
        reporter.debug(f"the resolver's command: {command}", level=1)
    return _COMMAND_LINE.sub("", message)


def _check_requested(
    requirements: list[str], target: Target, indexes: Indexes, exc: ToolError
) -> None:
    """Fail naming every requested package that has no file the target can use, if any."""
    lines = without_usable_files(requirements, target, indexes)
    if not lines:
        return
    advice = resolution_advice(target.label, target.describe_tags(2), "\n".join(lines))
    if any("legacy" in line for line in lines):
        advice += " " + LEGACY_ADVICE
    count = counted(len(lines), "requested package")
    raise ResolutionError(
        f"{count} {'has' if len(lines) == 1 else 'have'} no file {target.label} can use:\n"
        + "".join(f"  {line}\n" for line in lines)
        + f"  {advice}"
    ) from exc
