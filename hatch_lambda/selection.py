"""The selection stage: which of the collected wheels an artifact holds for a runtime, and which
it leaves out: distributions the runtime provides (when it has a version the project accepts),
backports of what the runtime's standard library has (``typing``, ``dataclasses``: every module
of the distribution is a standard library module of the runtime's Python), and those a layer
the function names holds."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import Environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import Specifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from . import requirements as _requirements
from ._markers import holds
from ._toplevel import backport_left_out, wheel_stdlib_backport
from .requirements._project import read_wheel_metadata
from .target import RUNTIME_PROVIDED, Target
from .wheelhouse import Wheel

__all__ = ["RUNTIME_PROVIDED", "Selection", "select", "unneeded_distributions"]

# boto3, botocore and s3transfer each pin the next one to a narrow range: the runtime's copies are
# used together or not at all, never one of them beside another release of the others.
SDK_GROUPS: tuple[tuple[NormalizedName, ...], ...] = (
    tuple(canonicalize_name(n) for n in ("boto3", "botocore", "s3transfer")),
    (canonicalize_name("jmespath"),),
)


@dataclass(frozen=True)
class Selection:
    wheels: tuple[Wheel, ...]
    left_out: tuple[str, ...]
    """Each as ``name version (why)``."""
    kept: tuple[str, ...] = ()
    """What the runtime provides but the bundle keeps, as ``name version (why)``."""


def select(
    wheels: Sequence[Wheel],
    *,
    target: Target,
    project_wheel: Path,
    extras: Collection[str],
    exclude_runtime_provided: bool,
    layers: Mapping[str, Mapping[NormalizedName, str]],
    locked: bool = False,
) -> Selection:
    """*layers*: for each layer the function is deployed with, what it holds for this runtime;
    *locked*: the wheels' versions are a lock's, which the runtime's must reach."""
    environment = target.marker_environment()
    kept = list(wheels)
    removed: list[str] = []
    keeping: list[str] = []
    if exclude_runtime_provided:
        requires = {canonicalize_name(w.name): read_wheel_metadata(w.path)[1] for w in kept}
        direct = _requirements.from_project_wheel(
            project_wheel, extras=extras, environment=environment
        )
        reasons = runtime_shortfalls(kept, requires, direct.requirements, target, locked=locked)
        keeping = [f"{w.name} {w.version} ({reasons[canonicalize_name(w.name)]})"
                   for w in kept if canonicalize_name(w.name) in reasons]  # fmt: skip
        dropped = unneeded_distributions(
            requires, [r.name for r in direct.requirements], environment,
            drop=RUNTIME_PROVIDED - set(reasons),
        )  # fmt: skip
        have = target.provided.distributions if target.provided else {}
        removed += [
            f"{w.name} {w.version} (provided by the runtime"
            + (f", which has {have[name]} or later)" if name in have else ")")
            for w in kept
            if (name := canonicalize_name(w.name)) in dropped
        ]
        kept = [w for w in kept if canonicalize_name(w.name) not in dropped]
    still = []
    for w in kept:
        backport = wheel_stdlib_backport(w.path, [target.python_version], sha256=w.known_sha256)
        if backport:
            removed.append(backport_left_out(w.name, w.version, target.runtime.name, backport))
        else:
            still.append(w)
    kept = still
    for layer_name, held in layers.items():
        still = []
        for w in kept:
            if held.get(canonicalize_name(w.name)) == w.version:
                removed.append(f"{w.name} {w.version} (in layer {layer_name})")
            else:
                still.append(w)
        kept = still
    return Selection(tuple(kept), tuple(removed), tuple(keeping))


def runtime_shortfalls(
    wheels: Sequence[Wheel],
    requires: Mapping[NormalizedName, Sequence[str]],
    direct: Sequence[Requirement],
    target: Target,
    *,
    locked: bool,
) -> dict[NormalizedName, str]:
    """Why the bundle keeps each distribution of the runtime's SDK that it holds, by name; those
    not named are left to the runtime.

    The runtime's version (a floor: AWS only moves it forward) must meet every requirement on the
    distribution, the project's and those of the distributions that stay, and reach the locked
    version. A requirement that caps the version is never taken as met, since the runtime's copy
    may move past the cap any day."""
    versions = {canonicalize_name(w.name): w.version for w in wheels}
    needs: dict[NormalizedName, list[tuple[str, SpecifierSet]]] = {}
    for req in direct:
        needs.setdefault(canonicalize_name(req.name), []).append(("the project", req.specifier))
    sdk_needs: dict[NormalizedName, list[tuple[NormalizedName, str, SpecifierSet]]] = {}
    environment = target.marker_environment()
    for name, lines in requires.items():
        for line in lines:
            try:
                dep = Requirement(line)
            except InvalidRequirement:
                continue
            extras = {""} | set(str(dep.marker or "").split('"')[1::2])
            if holds(dep.marker, environment, extras) is False:
                continue
            who, on = f"{name} {versions.get(name, '')}".rstrip(), canonicalize_name(dep.name)
            if name in RUNTIME_PROVIDED:  # counts only if the bundle keeps it
                sdk_needs.setdefault(on, []).append((name, who, dep.specifier))
            else:
                needs.setdefault(on, []).append((who, dep.specifier))
    reasons: dict[NormalizedName, str] = {}
    for group in SDK_GROUPS:
        held = [n for n in group if n in versions]
        for name in held:
            also = [(who, spec) for by, who, spec in sdk_needs.get(name, []) if by in reasons]
            why = _shortfall(name, versions[name], [*needs.get(name, []), *also], target,
                             locked=locked)  # fmt: skip
            if why:
                reasons[name] = why
        first = next((n for n in held if n in reasons), None)
        for name in held:
            if first is not None and name not in reasons:
                reasons[name] = f"kept with {first}: the runtime's {', '.join(group)} go together"
    return reasons


def _shortfall(
    name: NormalizedName,
    version: str,
    needs: Sequence[tuple[str, SpecifierSet]],
    target: Target,
    *,
    locked: bool,
) -> str | None:
    """Why the runtime's *name* will not do for the bundle, or None when it will."""
    runtime = target.runtime.name
    have = target.provided.distributions.get(name) if target.provided else None
    if have is None:
        return f"hatch-lambda has no record of the {name} {runtime} provides"
    offer = f"{runtime} provides {have}"
    for who, spec in needs:
        if _met_from(spec, Version(have)):
            continue
        if spec.contains(Version(have), prereleases=True):
            return (f"{who} needs {name}{spec}, which caps a version AWS updates in place; "
                    f"{offer} or later")  # fmt: skip
        return f"{who} needs {name}{spec}, and {offer}"
    if locked and _version(version) > Version(have):
        return f"the lock pins {name} {version}, and {offer}"
    return None


def _version(text: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion:
        return Version("0")


def _met_from(spec: SpecifierSet, floor: Version) -> bool:
    """Whether *floor* and every later version meet *spec*."""
    return all(_clause_met_from(clause, floor) for clause in spec)


def _clause_met_from(clause: Specifier, floor: Version) -> bool:
    if clause.operator in (">=", ">"):
        return clause.contains(floor, prereleases=True)
    if clause.operator == "!=":
        excluded = _version(clause.version.removesuffix(".*"))
        return clause.contains(floor, prereleases=True) and excluded < floor
    return False  # ==, ===, ~=, <, <=: a cap the runtime may pass


def unneeded_distributions(
    requires: Mapping[NormalizedName, Sequence[str]],
    roots: Collection[str],
    environment: Environment,
    *,
    drop: Collection[str],
) -> set[NormalizedName]:
    """*drop*, and every distribution that only dropped ones require.

    *requires* maps each candidate distribution to its ``Requires-Dist``; *roots* are the names
    the project requires directly, which stay unless dropped themselves. A requirement counts if
    its marker holds on the target for any extra, so in doubt a distribution stays.
    """
    required_by: dict[NormalizedName, set[NormalizedName]] = {name: set() for name in requires}
    for name, lines in requires.items():
        for line in lines:
            try:
                dep = Requirement(line)
            except InvalidRequirement:
                continue  # names nothing that could be kept for it
            target = canonicalize_name(dep.name)
            if target not in required_by:
                continue
            extras = {""} | {m for m in str(dep.marker or "").split('"')[1::2]}
            # A marker that cannot be evaluated counts as holding: in doubt, the dependency stays.
            if holds(dep.marker, environment, extras) is not False:
                required_by[target].add(name)
    keep = {canonicalize_name(r) for r in roots}
    dropped = {canonicalize_name(d) for d in drop} & set(requires)
    changed = True
    while changed:
        changed = False
        for name, users in required_by.items():
            if name in dropped or name in keep or not users:
                continue
            if users <= dropped:
                dropped.add(name)
                changed = True
    return dropped
