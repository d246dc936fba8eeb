"""The selection stage: which of the collected wheels an artifact holds for a runtime, and which
it leaves out: distributions the runtime provides, and those a layer the function names holds."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import Environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

from . import requirements as _requirements
from ._markers import holds
from .requirements._project import read_wheel_metadata
from .target import RUNTIME_PROVIDED
from .wheelhouse import Wheel

__all__ = ["RUNTIME_PROVIDED", "Selection", "select", "unneeded_distributions"]


@dataclass(frozen=True)
class Selection:
    wheels: tuple[Wheel, ...]
    left_out: tuple[str, ...]
    """Each as ``name version (why)``."""


def select(
    wheels: Sequence[Wheel],
    *,
    environment: Environment,
    project_wheel: Path,
    extras: Collection[str],
    exclude_runtime_provided: bool,
    layers: Mapping[str, Mapping[NormalizedName, str]],
) -> Selection:
    """*layers*: for each layer the function is deployed with, what it holds for this runtime."""
    kept = list(wheels)
    removed: list[str] = []
    if exclude_runtime_provided:
        requires = {canonicalize_name(w.name): read_wheel_metadata(w.path)[1] for w in kept}
        direct = _requirements.from_project_wheel(
            project_wheel, extras=extras, environment=environment
        )
        dropped = unneeded_distributions(
            requires, [r.name for r in direct.requirements], environment, drop=RUNTIME_PROVIDED
        )
        removed += [
            f"{w.name} {w.version} (provided by the runtime)"
            for w in kept
            if canonicalize_name(w.name) in dropped
        ]
        kept = [w for w in kept if canonicalize_name(w.name) not in dropped]
    for layer_name, held in layers.items():
        still = []
        for w in kept:
            if held.get(canonicalize_name(w.name)) == w.version:
                removed.append(f"{w.name} {w.version} (in layer {layer_name})")
            else:
                still.append(w)
        kept = still
    return Selection(tuple(kept), tuple(removed))


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
