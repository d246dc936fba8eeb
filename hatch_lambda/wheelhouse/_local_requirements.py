"""What the local sources require: resolved with the rest when the requirements are ranges,
with the extras asked of them; their own names never reach an index."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from .._markers import evaluate
from ..errors import ResolutionError
from ..requirements import LocalSource, LockedSet, Requirements
from ..requirements._local import from_requirement
from ..requirements._project import read_wheel_metadata
from ..target import Target
from ._wheel import Wheel


def requires(wheel: Wheel, target: Target, extras: Collection[str] = ()) -> list[Requirement]:
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


def referenced(local: list[Wheel], target: Target) -> list[LocalSource]:
    """Local sources the built wheels name by a direct reference, not built yet."""
    names = local_names(local)
    found: dict[str, LocalSource] = {}
    for wheel in local:
        for req in requires(wheel, target):
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


def without_local(
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
            for req in requires(wheel, target, done[name]):
                other = canonicalize_name(req.name)
                if other in names:
                    asked[other] |= {canonicalize_name(e) for e in req.extras}
                else:
                    wanted.setdefault(str(req), req)
    return dataclasses.replace(
        requirements, requirements=tuple(wanted[k] for k in sorted(wanted)), local=()
    )
