"""Whether a requirements file of exact pins is a lock: the pinned wheels' own metadata says.

A file compiled by a resolver pins every package the target needs; one written by hand often pins
only what the author imports. pip, SAM and CDK install what such a file leaves out; so does
hatch-lambda, unless asked to be strict or the file is in pip's hash-checking mode.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

from .._markers import holds
from .._report import counted
from ..errors import ResolutionError
from ..requirements import HandPinned, LockedSet, Pin
from ..requirements._project import read_wheel_metadata
from ..target import Target
from ._uv import uv_python_platform
from ._wheel import Wheel


def missing_dependencies(
    wheels: Sequence[Wheel], extras: Mapping[str, frozenset[str]], target: Target,
    *, present: Collection[str] = (),
) -> dict[NormalizedName, list[str]]:  # fmt: skip
    """What the *wheels* require on *target* (with the *extras* asked for, and those their own
    requirements ask for) that none of them, nor *present*, provides: name -> who requires it."""
    env = target.marker_environment()
    by_name = {canonicalize_name(w.name): w for w in wheels}
    have = set(by_name) | {canonicalize_name(n) for n in present}
    active: dict[NormalizedName, set[str]] = {n: {"", *extras.get(n, ())} for n in by_name}
    requires: dict[NormalizedName, list[Requirement]] = {}
    missing: dict[NormalizedName, list[str]] = {}
    queue = list(by_name)
    while queue:
        name = queue.pop()
        wheel = by_name[name]
        if name not in requires:
            requires[name] = _requirements(wheel)
        for req in requires[name]:
            if not holds(req.marker, env, active[name]):
                continue  # a marker that cannot be evaluated adds nothing, as in the audit
            dep = canonicalize_name(req.name)
            if dep not in have:
                by = f"{wheel.name} {wheel.version}"
                if by not in missing.setdefault(dep, []):
                    missing[dep].append(by)
                continue
            new = {canonicalize_name(e) for e in req.extras} - active.get(dep, set())
            if new and dep in by_name:
                active[dep] |= new
                queue.append(dep)
    return {name: missing[name] for name in sorted(missing)}


def _requirements(wheel: Wheel) -> list[Requirement]:
    _, lines, _ = read_wheel_metadata(wheel.path)
    found = []
    for line in lines:
        try:
            found.append(Requirement(line))
        except InvalidRequirement:
            continue  # the audit's closure rule judges what cannot be read
    return found


def held_lines(pins: Sequence[Pin], extras: Mapping[str, frozenset[str]]) -> list[str]:
    """The pins as requirement lines a resolver keeps as they are."""
    lines = []
    for pin in pins:
        asked = sorted(extras.get(pin.name, ()))
        name = pin.name + (f"[{','.join(asked)}]" if asked else "")
        urls = [f.url for f in pin.files if f.url and not pin.version]
        lines.append(f"{name} @ {urls[0]}" if urls else f"{name}=={pin.version}")
    return sorted(lines)


def pin_command(target: Target, *, hashes: bool) -> str:
    """The command that writes a complete lock of requirements.in for *target*."""
    try:
        platform = f" --python-platform {uv_python_platform(target)}"
    except ResolutionError:  # platform-tags uv cannot express: pin in the target's image
        platform = ""
    generate = " --generate-hashes" if hashes else ""
    return (
        f"uv pip compile requirements.in -o requirements.txt{platform} "
        f"--python-version {target.python_version}{generate}"
    )


def refusal(
    requirements: LockedSet, hand: HandPinned, missing: Mapping[NormalizedName, list[str]],
    target: Target,
) -> str:  # fmt: skip
    """Why a file that leaves dependencies out is refused, naming every one, and what to do."""
    named = ", ".join(
        f"{name} (required by {', '.join(by)})" if by else name for name, by in missing.items()
    )
    leaves = counted(len(missing), "package")
    if hand.hash_checking:
        why = (
            "its --hash options put pip in hash-checking mode, which installs nothing that is "
            "not pinned with a hash, so hatch-lambda adds nothing either"
        )
        instead = "or add each of them with its version and --hash"
    else:
        why = 'requirements-mode = "lock" asks for a file that pins every package'
        instead = 'or set requirements-mode = "resolve" to have them resolved with the pins held'
        instead = f"{instead} (as pip does)"
    return (
        f"{requirements.source} is not a complete lock for {target.label}: it pins "
        f"{counted(len(requirements.pins), 'package')} and leaves out {leaves} they need: "
        f"{named}; {why}.\n  What to do: list the packages you want in requirements.in and pin "
        f"them all with `{pin_command(target, hashes=hand.hash_checking)}` (or pip-compile in "
        f"the target's build image); {instead}"
    )
