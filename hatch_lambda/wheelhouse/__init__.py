"""The wheelhouse stage: resolve requirements for the target and gather one wheel per package."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import re
import subprocess
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from packaging.pylock import Pylock
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename

from .._markers import evaluate
from .._report import Reporter, counted, timed
from ..cache import REFRESH_ENV, cache_key, verified_file
from ..errors import (
    HatchLambdaError,
    RequirementsError,
    ResolutionError,
    ToolError,
    WheelSelectionError,
)
from ..requirements import LocalSource, LockedSet, Pin, Requirements, RequirementSet
from ..requirements._local import from_requirement
from ..requirements._project import read_wheel_metadata
from ..requirements._pylock import pins_from_pylock
from ..target import Target
from . import _pip, _uv
from ._advice import not_on_index, not_on_index_advice, resolution_advice
from ._fetch import fetch
from ._hand_pinned import held_lines, missing_dependencies, refusal
from ._held_back import HeldBack
from ._indexes import Indexes, strip_credentials
from ._kept import keep_wheels, kept_wheels
from ._local import build_local
from ._locate import locate
from ._retry import legacy_sdists, packages_needing_sdists, packages_without_matching_wheels
from ._review import review
from ._sdist import build_wheel
from ._select import choose
from ._unusable import LEGACY_ADVICE, without_usable_files
from ._wheel import Wheel

__all__ = [
    "DamagedWheels",
    "Indexes",
    "Wheel",
    "build_wheelhouse",
    "choose_resolver",
    "verify_kept",
]


def choose_resolver(name: str, *, custom_platforms: bool = False) -> str:
    """``auto`` means uv, the fastest, unless it is missing or cannot express the platform tags.

    uv takes one named platform, not a list: a ``platform-tags`` override goes to pip, which takes
    the list as given.
    """
    if name == "auto":
        return "uv" if _uv.find_uv() and not custom_platforms else "pip"
    return name


_MAX_SDIST_ROUNDS = 8


def _resolve(
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


def build_wheelhouse(
    requirements: Requirements,
    target: Target,
    indexes: Indexes,
    *,
    resolver: str,
    custom_platforms: bool,
    workdir: Path,
    reporter: Reporter,
    refresh: bool = False,
) -> list[Wheel]:
    """One target-loadable wheel for every package the requirements need, sorted by name.

    The result is cached under a key of the requirements (or the lock's pins), the target, the
    resolver and its version and the indexes (without credentials). Locked requirements reuse it
    whenever the lock is unchanged; ranges reuse the last resolution until they change, or until
    a refresh is asked for (``refresh = true``, ``HATCH_LAMBDA_REFRESH=1``).

    Local sources are built first (``_local``, kept by the digest of their files); their names
    are never resolved nor fetched from an index, and what they require is resolved with the
    rest when the requirements are ranges (a lock already holds it).
    """
    local: list[Wheel] = []
    extras: dict[str, frozenset[str]] = {}
    sources = list(requirements.local)
    while sources:  # a local source may name another by a direct reference in its metadata
        for wheel, asked in build_local(
            sources, target, indexes, use_uv=resolver != "pip",
            workdir=workdir / f"local{len(local)}", reporter=reporter, refresh=refresh,
        ):  # fmt: skip
            local.append(wheel)
            name = canonicalize_name(wheel.name)
            extras[name] = extras.get(name, frozenset()) | asked
        sources = _referenced(local, target)
    skip = local_names(local)
    if local:
        requirements = _without_local(requirements, local, extras, target)
    run = _Run(target, indexes, resolver, custom_platforms, workdir, reporter, refresh, skip)
    index_wheels = _index_wheels(requirements, run)
    return sorted([*local, *index_wheels], key=lambda w: canonicalize_name(w.name))


def _requires(wheel: Wheel, target: Target, extras: Collection[str] = ()) -> list[Requirement]:
    """What a local wheel requires on the target with *extras*, markers removed."""
    _, lines, _ = read_wheel_metadata(wheel.path)
    environments = [{**target.marker_environment(), "extra": e} for e in ("", *sorted(extras))]
    wanted = []
    for line in lines:
        where = f"{wheel.name} {wheel.version}'s requirement {line!r}"
        try:
            req = Requirement(line)
        except InvalidRequirement as exc:
            raise ResolutionError(f"{where} is not valid: {exc}") from exc
        marker = req.marker
        if marker is None or any(evaluate(marker, env, where=where) for env in environments):
            req.marker = None
            wanted.append(req)
    return wanted


def _referenced(local: list[Wheel], target: Target) -> list[LocalSource]:
    """Local sources the built wheels name by a direct reference, not built yet."""
    names = local_names(local)
    found: dict[str, LocalSource] = {}
    for wheel in local:
        for req in _requires(wheel, target):
            name = canonicalize_name(req.name)
            if name in names or name in found:
                continue
            source = from_requirement(req, f"{wheel.name} {wheel.version}'s requirements",
                                      base=wheel.path.parent)  # fmt: skip
            if source is not None:
                found[name] = source
    return list(found.values())


def local_names(wheels: Collection[Wheel]) -> frozenset[str]:
    return frozenset(canonicalize_name(w.name) for w in wheels)


def _without_local(
    requirements: Requirements, local: list[Wheel], extras: Mapping[str, frozenset[str]],
    target: Target,
) -> Requirements:  # fmt: skip
    """*requirements* with nothing of the local sources' names left for an index, and, for
    ranges, with what the local sources require with the extras asked of them (*extras*, and
    what the requirements and the local sources ask of each other); a lock holds that already."""
    names = local_names(local)
    if isinstance(requirements, LockedSet):
        pins = tuple(p for p in requirements.pins if p.name not in names)
        return dataclasses.replace(requirements, pins=pins, local=())
    asked = {name: set(extras.get(name, ())) for name in names}
    for req in requirements.requirements:
        if canonicalize_name(req.name) in names:
            asked[canonicalize_name(req.name)] |= {canonicalize_name(e) for e in req.extras}
    wanted = {
        str(r): r for r in requirements.requirements if canonicalize_name(r.name) not in names
    }
    done: dict[str, frozenset[str]] = {}
    while any(done.get(n) != frozenset(e) for n, e in asked.items()):  # lib-a needs lib-b[x]
        for wheel in local:
            name = canonicalize_name(wheel.name)
            done[name] = frozenset(asked[name])
            for req in _requires(wheel, target, done[name]):
                other = canonicalize_name(req.name)
                if other in names:
                    asked[other] |= {canonicalize_name(e) for e in req.extras}
                else:
                    wanted.setdefault(str(req), req)
    return dataclasses.replace(
        requirements, requirements=tuple(wanted[k] for k in sorted(wanted)), local=()
    )


@dataclass(frozen=True)
class _Run:
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

    def within(self, folder: str) -> _Run:
        return dataclasses.replace(self, workdir=self.workdir / folder)


def _index_wheels(requirements: Requirements, run: _Run) -> list[Wheel]:
    """The wheels from the index (or the kept ones)."""
    target, indexes, reporter = run.target, run.indexes, run.reporter
    key = _cache_key(requirements, target, indexes, run.resolver, run.custom_platforms,
                     skip=run.skip)  # fmt: skip
    cached = None if run.refresh else kept_wheels("wheelhouse", key, reporter)
    if cached is not None:
        what = "this lock" if isinstance(requirements, LockedSet) else "these requirements"
        reporter.info(
            f"Reusing the {counted(len(cached), 'wheel')} resolved before for {what} "
            f"(set {REFRESH_ENV}=1 to resolve again)"
        )
        return cached
    return keep_wheels("wheelhouse", key, _build_wheelhouse(requirements, run), reporter)


def _cache_key(
    requirements: Requirements, target: Target, indexes: Indexes, resolver: str, custom: bool,
    *, skip: frozenset[str],
) -> str:  # fmt: skip
    if isinstance(requirements, RequirementSet):
        backend = choose_resolver(resolver, custom_platforms=custom)
        what: object = {"resolve": requirements.lines(), "resolver": _resolver_version(backend)}
    else:
        what = {"lock": [(p.name, p.version, sorted(p.sha256), [f.filename for f in p.files])
                         for p in requirements.pins]}  # fmt: skip
        hand = requirements.hand_pinned
        if hand is not None and (hand.strict or hand.extras):  # other keys stay as they were
            what = {**what, "strict": hand.strict, "extras": sorted(
                (n, sorted(e)) for n, e in hand.extras.items() if e
            )}  # fmt: skip
    urls = [strip_credentials(u) for u in indexes.urls()]
    parts: list[object] = [what, target.runtime.name, target.architecture, list(target.platforms),
                           urls]  # fmt: skip
    if skip:  # only then: keys of builds without local sources stay as they were
        parts.append(sorted(skip))
    return cache_key("wheelhouse", *parts)


def _resolver_version(backend: str) -> str:
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


_WORKERS = 2  # hashlib releases the GIL: files are verified side by side


class DamagedWheels(Exception):
    """Kept wheels that no longer match their digests; they were removed from the cache."""


def verify_kept(wheels: Sequence[Wheel], reporter: Reporter) -> None:
    """Check every kept wheel of *wheels* against its digest, two at a time; raise
    ``DamagedWheels`` (after removing them) if any fails, so the caller collects again."""
    todo = list({w.path: w for w in wheels if w.kept and w.known_sha256}.values())
    with ThreadPoolExecutor(_WORKERS) as pool:
        found = list(pool.map(
            lambda w: verified_file(w.known_sha256 or "", w.path.name, reporter), todo
        ))  # fmt: skip
    bad = [w.path.name for w, path in zip(todo, found) if path is None]
    if bad:
        raise DamagedWheels(", ".join(bad))


def _build_wheelhouse(requirements: Requirements, run: _Run) -> list[Wheel]:
    target, indexes, reporter = run.target, run.indexes, run.reporter
    if isinstance(requirements, RequirementSet):
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
            wheels = _gather(pins, run)
            for line in held.lines():
                reporter.info(line)
        return wheels
    reporter.info(
        f"Using the {counted(len(requirements.pins), 'package')} locked in {requirements.source}"
    )
    pins = locate(requirements.pins, indexes, reporter)
    wheels = _gather(pins, run)
    hand = requirements.hand_pinned
    if hand is None:
        return wheels
    missing = missing_dependencies(wheels, hand.extras, target, present=run.skip)
    if not missing:
        return wheels
    with_pins_held = RequirementSet(
        source=f"{requirements.source} with its pins held",
        requirements=tuple(Requirement(line) for line in held_lines(requirements.pins, hand.extras)),
        index_url=requirements.index_url, extra_index_urls=requirements.extra_index_urls,
        find_links=requirements.find_links,
    )  # fmt: skip
    if hand.strict or hand.hash_checking:
        backend = choose_resolver(run.resolver, custom_platforms=run.custom_platforms)
        try:  # every package left out, not only those the pinned wheels name
            lock, backend = _resolve(
                backend, requirements=with_pins_held.lines(), target=target, indexes=indexes,
                workdir=run.workdir / "held", reporter=reporter, refresh=run.refresh,
            )  # fmt: skip
            for pin in pins_from_pylock(lock, where=f"{backend}'s resolution",
                                        environment=target.marker_environment(), skip=run.skip):  # fmt: skip
                if pin.name not in missing and pin.name not in {p.name for p in pins}:
                    missing[pin.name] = []
        except HatchLambdaError as exc:  # the dependencies the pinned wheels name still show
            reporter.debug(f"resolving with the pins held, to name every package left out: {exc}")
        raise RequirementsError(refusal(requirements, hand, dict(sorted(missing.items())), target))
    resolved = _build_wheelhouse(with_pins_held, run.within("held"))
    pinned = {p.name for p in requirements.pins}
    added = [f"{w.name} {w.version}" for w in resolved if canonicalize_name(w.name) not in pinned]
    reporter.info(
        f"{requirements.source} pins {len(requirements.pins)} of "
        f"{counted(len(resolved), 'package')}; resolved the rest for {target.label}: "
        f'{", ".join(added)} (requirements-mode = "lock" refuses such a file instead)'
    )
    return resolved


_MAX_REVIEW_ROUNDS = 4


def _resolve_reviewed(backend: str, requirements: RequirementSet, run: _Run) -> list[Pin]:
    """Resolve, then for uv review the pins against the index (``_review``): releases whose
    Requires-Python excludes the runtime are constrained away, round after round, and a newer
    release with a wheel only the exact tag list accepts sends the resolution to pip."""
    target, indexes, reporter = run.target, run.indexes, run.reporter
    lines = requirements.lines()
    wanted = {canonicalize_name(r.name): r.specifier for r in requirements.requirements}
    constraints: list[str] = []
    for round_ in range(_MAX_REVIEW_ROUNDS):
        lock, backend = _resolve(
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


def _gather(pins: list[Pin], run: _Run) -> list[Wheel]:
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
