"""The wheelhouse stage: resolve requirements for the target and gather one wheel per package.

Local sources are built first (``_local``, ``_local_requirements``); then ranges are resolved
(``_resolution``) or a lock's pins taken (``_locked``), and each pin gathered (``_run``). The result
is kept in the cache."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from packaging.utils import canonicalize_name

from .._report import Reporter, counted
from ..cache import REFRESH_ENV, cache_key, verified_file
from ..requirements import LockedSet, Requirements, RequirementSet
from ..target import Target
from ._indexes import Indexes, strip_credentials
from ._kept import keep_wheels, kept_wheels
from ._local import build_local
from ._local_requirements import local_names, referenced, without_local
from ._locked import from_lock
from ._resolution import choose_resolver, from_ranges, resolver_version
from ._run import Run
from ._wheel import Wheel

__all__ = [
    "DamagedWheels",
    "Indexes",
    "Wheel",
    "build_wheelhouse",
    "choose_resolver",
    "verify_kept",
]


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
        sources = referenced(local, target)
    skip = local_names(local)
    if local:
        requirements = without_local(requirements, local, extras, target)
    run = Run(target, indexes, resolver, custom_platforms, workdir, reporter, refresh, skip)
    index_wheels = _index_wheels(requirements, run)
    return sorted([*local, *index_wheels], key=lambda w: canonicalize_name(w.name))


def _index_wheels(requirements: Requirements, run: Run) -> list[Wheel]:
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


def _build_wheelhouse(requirements: Requirements, run: Run) -> list[Wheel]:
    if isinstance(requirements, RequirementSet):
        return from_ranges(requirements, run)
    return from_lock(requirements, run)


def _cache_key(
    requirements: Requirements, target: Target, indexes: Indexes, resolver: str, custom: bool,
    *, skip: frozenset[str],
) -> str:  # fmt: skip
    if isinstance(requirements, RequirementSet):
        backend = choose_resolver(resolver, custom_platforms=custom)
        what: object = {"resolve": requirements.lines(), "resolver": resolver_version(backend)}
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
