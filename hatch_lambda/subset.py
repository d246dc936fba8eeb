"""Building some of a project's artifacts: ``HATCH_LAMBDA_ARTIFACTS=api,deps`` for any build,
``hatch build -t lambda:api,deps`` (the target's versions) for the builder.

The layers a chosen function is deployed with are built too, since the function is built against
what they hold. The artifacts left out are not touched: their files stay as they are.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ._report import counted
from ._suggest import closest
from .config import LambdaConfig
from .errors import HatchLambdaError

ARTIFACTS_ENV = "HATCH_LAMBDA_ARTIFACTS"
ALL = "standard"
"""The builder's one version of its own: every artifact."""


@dataclass(frozen=True)
class Request:
    names: tuple[str, ...]
    origin: str
    """Where the names were given, as the user wrote it, for the messages."""


def _names(items: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n.strip() for n in items if n.strip()))


def from_environment(environ: Mapping[str, str] = os.environ) -> Request | None:
    value = environ.get(ARTIFACTS_ENV, "")
    names = _names(value.split(","))
    return Request(names, f"{ARTIFACTS_ENV}={value}") if names else None


def from_versions(versions: Sequence[str], origin: str) -> Request | None:
    """The builder's versions: artifact names, or ``standard`` for all of them."""
    names = _names(versions)
    if not names or ALL in names:
        return None
    return Request(names, origin)


def for_builder(versions: Sequence[str], target: Mapping[str, Any]) -> Request | None:
    """What `hatch build -t lambda` is asked for: `-t lambda:NAMES`, else $HATCH_LAMBDA_ARTIFACTS,
    else the `versions` of its target table."""
    if versions:
        return from_versions(versions, f"-t lambda:{','.join(versions)}")
    asked = from_environment()
    if asked is not None:
        return asked
    configured = target.get("versions", [])
    key = "tool.hatch.build.targets.lambda.versions"
    if not isinstance(configured, list) or not all(isinstance(v, str) for v in configured):
        raise HatchLambdaError(f"{key} must be an array of artifact names, not {configured!r}")
    return from_versions(configured, f"{key} = {configured!r}")


@dataclass(frozen=True)
class Subset:
    config: LambdaConfig
    note: str | None = None
    """What the build says it builds, when it is not everything."""
    names: frozenset[str] | None = None
    """The artifacts chosen, or None for all of them."""


def choose(config: LambdaConfig, request: Request | None, *, key_path: str) -> Subset:
    """The artifacts of *config* that *request* names, with the layers they are deployed with;
    every artifact when nothing is asked for. An unknown name is an error listing the known."""
    if request is None:
        return Subset(config)
    known = [a.name for a in config.artifacts if a.name]
    if not known:
        raise HatchLambdaError(
            f"{request.origin} names artifacts, but {key_path} has no artifacts table: it "
            f"describes one artifact, which has no name. Unset {ARTIFACTS_ENV}, or name "
            f"artifacts in [{key_path}.artifacts.NAME] tables"
        )
    unknown = [name for name in request.names if name not in known]
    if unknown:
        problems = []
        for name in unknown:
            close = closest(name, known)
            problems.append(f"{name!r}" + (f" (did you mean {close!r}?)" if close else ""))
        raise HatchLambdaError(
            f"{request.origin}: {', '.join(problems)} "
            f"{'is not an artifact' if len(unknown) == 1 else 'are not artifacts'} of this "
            f"project; its artifacts are {', '.join(known)}"
        )
    asked = set(request.names)
    layers = {
        layer: artifact.name
        for artifact in config.artifacts
        if artifact.name in asked
        for layer in artifact.layers
        if layer not in asked
    }
    chosen = [a for a in config.artifacts if a.name in asked or a.name in layers]
    shown = [f"{a.name} (a layer {layers[a.name]} names)" if a.name in layers else str(a.name)
             for a in chosen]  # fmt: skip
    left = [name for name in known if name not in asked and name not in layers]
    note = (
        f"Building {len(chosen)} of {counted(len(known), 'artifact')}, as {request.origin} asks: "
        + ", ".join(shown)
        + (f"; {', '.join(left)} {_left(len(left))}" if left else "")
    )
    names = frozenset(str(a.name) for a in chosen)
    return Subset(replace(config, artifacts=tuple(chosen)), note, names)


def _left(count: int) -> str:
    return "is left as it is" if count == 1 else "are left as they are"
