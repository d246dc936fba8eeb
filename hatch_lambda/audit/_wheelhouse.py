"""A wheelhouse folder, which pip installs rather than Lambda unpacks: rule ``wheelhouse`` (every
wheel is pinned by the hash ``requirements.txt`` gives it, and every wheel the manifest lists is
there) and rule ``wheel-tags`` on each wheel's file name, for each runtime it serves."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from pathlib import Path

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from ..cache import sha256_file
from ..target import Target
from ._finding import Finding
from ._tags import plain_linux

_HASH = re.compile(r"--hash=sha256:([0-9a-fA-F]{64})")
_REQUIREMENTS_LIMIT = 16 << 20  # hatch-lambda writes a line per wheel


def _pinned(folder: Path) -> set[str] | None:
    requirements = folder / "requirements.txt"
    if not requirements.is_file():
        return None
    with requirements.open("rb") as f:
        text = f.read(_REQUIREMENTS_LIMIT).decode("utf-8", errors="replace")
    return {h.lower() for h in _HASH.findall(text)}


def check_wheelhouse(
    folder: Path,
    targets: Mapping[str, Target],
    *,
    serves: Mapping[str, Collection[str]] | None = None,
    built_in_image: Collection[str] = (),
) -> list[Finding]:
    """*serves*: the runtimes each wheel file is for, as the manifest lists them (every wheel
    is for every runtime without one); *built_in_image*: distributions built in the runtime's
    build image, whose plain linux tag fits."""
    findings: list[Finding] = []
    wheels = sorted(p for p in folder.iterdir() if p.name.endswith(".whl") and p.is_file())
    pinned = _pinned(folder)
    if pinned is None:
        findings.append(
            Finding("wheelhouse", "requirements.txt", "is missing: pip cannot install the "
                    "wheelhouse with the hashes that pin its wheels. Rebuild the wheelhouse")
        )  # fmt: skip
    for wheel in wheels:
        if pinned is not None and sha256_file(wheel) not in pinned:
            findings.append(
                Finding("wheelhouse", wheel.name, "is not a wheel requirements.txt pins: its "
                        "sha256 is none of the hashes there, so pip refuses it. The folder was "
                        "changed after it was built: rebuild the wheelhouse")
            )  # fmt: skip
        findings += _tags(wheel.name, targets, (serves or {}).get(wheel.name), built_in_image)
    present = {w.name for w in wheels}
    for name in sorted(set(serves or {}) - present):
        findings.append(
            Finding("wheelhouse", name, "is listed in the manifest and is not in the folder; "
                    "rebuild the wheelhouse")
        )  # fmt: skip
    return findings


def _tags(
    name: str,
    targets: Mapping[str, Target],
    runtimes: Collection[str] | None,
    built_in_image: Collection[str],
) -> list[Finding]:
    try:
        dist, _, _, tags = parse_wheel_filename(name)
    except InvalidWheelFilename as exc:
        return [Finding("wheel-tags", name, f"is not a wheel's file name: {exc}")]
    findings = []
    for runtime, target in targets.items():
        if (runtimes is not None and runtime not in runtimes) or target.accepts(tags):
            continue
        if plain_linux(tags, target):
            if canonicalize_name(dist) not in built_in_image:
                findings.append(
                    Finding("wheel-tags", name, f"has a plain linux tag, which fits "
                            f"{target.label} only if it was built for it; the manifest does not "
                            "say it was built in the runtime's image", warning=True)
                )  # fmt: skip
            continue
        findings.append(Finding("wheel-tags", name, f"is not for {target.label}"))
    return findings
