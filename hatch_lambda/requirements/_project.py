"""Reads a project's runtime requirements from the wheel Hatch has just built."""

from __future__ import annotations

import zipfile
from collections.abc import Collection
from email.parser import HeaderParser
from pathlib import Path

from packaging.markers import Environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from .._markers import evaluate
from ..errors import RequirementsError
from . import RequirementSet


def read_wheel_metadata(wheel: Path) -> tuple[str, list[str], list[str]]:
    """``(Name, Requires-Dist lines, Provides-Extra)`` of a wheel file."""
    try:
        with zipfile.ZipFile(wheel) as zf:
            name = next(
                n for n in zf.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
            )
            text = zf.read(name).decode("utf-8")
    except (OSError, zipfile.BadZipFile, StopIteration) as exc:
        raise RequirementsError(f"cannot read the metadata of {wheel}: {exc}") from exc
    msg = HeaderParser().parsestr(text)
    return msg["Name"], msg.get_all("Requires-Dist") or [], msg.get_all("Provides-Extra") or []


def project_name(wheel: Path) -> str:
    return read_wheel_metadata(wheel)[0]


def from_project_wheel(
    wheel: Path, *, extras: Collection[str], environment: Environment
) -> RequirementSet:
    """The wheel's ``Requires-Dist``, with *extras*, filtered by markers for *environment*."""
    name, requires, provided = read_wheel_metadata(wheel)
    project = canonicalize_name(name)
    known = {canonicalize_name(e) for e in provided}
    wanted = [canonicalize_name(e) for e in extras]
    unknown = [e for e in extras if canonicalize_name(e) not in known]
    if unknown:
        raise RequirementsError(
            f"extras {unknown!r} are not defined by {name}; it defines "
            f"{sorted(known) or 'none'} (see [project.optional-dependencies])"
        )

    parsed: list[Requirement] = []
    for line in requires:
        try:
            parsed.append(Requirement(line))
        except InvalidRequirement as exc:
            raise RequirementsError(
                f"{name} declares an invalid requirement {line!r}: {exc}"
            ) from exc

    chosen: dict[str, Requirement] = {}
    seen_extras: set[str] = set()
    pending = ["", *wanted]
    while pending:
        extra = pending.pop(0)
        if extra in seen_extras:
            continue
        seen_extras.add(extra)
        env = {**environment, "extra": extra}
        for req in parsed:
            where = f"{name}'s requirement {str(req)!r}"
            if req.marker is not None and not evaluate(req.marker, env, where=where):
                continue
            if canonicalize_name(req.name) == project:
                # `proj[other]` inside proj's own metadata: fold in that extra.
                pending.extend(canonicalize_name(e) for e in req.extras)
                continue
            clean = Requirement(str(req))
            clean.marker = None
            chosen.setdefault(str(clean), clean)
    return RequirementSet(
        source="project metadata" + (f" with extras {', '.join(wanted)}" if wanted else ""),
        requirements=tuple(chosen[k] for k in sorted(chosen)),
    )
