"""Chooses, for every pinned package, the one file the target loads best."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from ..errors import WheelSelectionError
from ..requirements import LockedFile, Pin
from ..target import Target
from ._advice import twin_advice

_SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tgz")


@dataclass(frozen=True)
class Chosen:
    name: str
    version: str
    filename: str
    url: str
    hashes: Mapping[str, str]
    allowed_sha256: frozenset[str] = frozenset()
    """Digests the lock allows for this package (any of its files); empty when unchecked."""

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}".strip()


def _tags(file: LockedFile) -> frozenset[Tag]:
    try:
        return parse_wheel_filename(file.filename)[3]
    except InvalidWheelFilename:
        return frozenset()


def _best(pin: Pin, target: Target) -> LockedFile | str:
    ranks = target.tag_rank()
    wheels = [(f, _tags(f)) for f in pin.files if f.filename.endswith(".whl")]
    scored = [
        (min(ranks[t] for t in tags if t in ranks), f.filename, f)
        for f, tags in wheels
        if any(t in ranks for t in tags)
    ]
    if scored:
        return min(scored, key=lambda s: (s[0], s[1]))[2]
    sdists = [f for f in pin.files if f.filename.endswith(_SDIST_SUFFIXES)]
    if sdists:
        return sdists[0]
    offered = sorted({str(t) for _, tags in wheels for t in tags})
    shown = ", ".join(offered[:8]) + (" ..." if len(offered) > 8 else "")
    return (
        f"{pin.label} ({pin.where}) has no wheel for {target.label} and no sdist. "
        + (f"Its wheels are tagged {shown}; " if offered else "It offers no wheels; ")
        + f"looked for {target.describe_tags()}. Pin a version of {pin.name} that publishes "
        "a wheel for this target, or change the runtime or architecture." + twin_advice([pin.name])
    )


def choose(pins: Sequence[Pin], target: Target) -> list[Chosen]:
    """One file per pin, best first by the target's tag order; every problem reported at once."""
    chosen: list[Chosen] = []
    problems: list[str] = []
    for pin in pins:
        best = _best(pin, target)
        if isinstance(best, str):
            problems.append(best)
            continue
        assert best.url is not None  # located before choosing
        chosen.append(
            Chosen(pin.name, pin.version, best.filename, best.url, dict(best.hashes), pin.sha256)
        )
    if problems:
        raise WheelSelectionError("\n".join(problems))
    return sorted(chosen, key=lambda c: c.name)
