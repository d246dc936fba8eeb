"""Reads, from a failed wheels-only resolution, which packages may come from an sdist."""

from __future__ import annotations

import re

from packaging.utils import NormalizedName, canonicalize_name

from ..errors import ToolError
from ._unusable import LEGACY_ADVICE

# What uv and pip print when a package has no usable wheel but wheels were required. A package
# whose wheels simply do not match the target ("no wheels with a matching platform tag") is not
# listed: allowing its sdist would only build the same incompatible code on the host.
_NEEDS_SDIST = (
    re.compile(r"Wheels are required for `([^`]+)` because building from source is disabled"),
    re.compile(r"\b([A-Za-z0-9][A-Za-z0-9._-]*)(?:==\S+)? has no usable wheels"),
    re.compile(r"No matching distribution found for ([A-Za-z0-9][A-Za-z0-9._-]*)"),
)


def packages_needing_sdists(error: ToolError) -> set[NormalizedName]:
    return {canonicalize_name(m) for p in _NEEDS_SDIST for m in p.findall(error.message)}


_NO_MATCHING_WHEEL = re.compile(
    r"\b([A-Za-z0-9][A-Za-z0-9._-]*)(?:==\S+)? has no wheels with a matching platform tag"
)


def packages_without_matching_wheels(error: ToolError) -> set[NormalizedName]:
    """Packages uv found wheels of, none for the platform it was told."""
    return {canonicalize_name(m) for m in _NO_MATCHING_WHEEL.findall(error.message)}


# uv's word for an sdist in an archive format it refuses (.tar.bz2, .tgz, ...).
_UV_LEGACY = re.compile(
    r"\b([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+) has a non-PEP 625-compliant source distribution"
)


def legacy_sdists(error: ToolError) -> str:
    """What to say of the packages uv refused for their legacy sdist, or an empty string."""
    found = sorted(set(_UV_LEGACY.findall(error.message)))
    if not found:
        return ""
    names = ", ".join(f"{name} {version}" for name, version in found)
    return (
        f"legacy sdists are not supported: {names} "
        f"{'offers' if len(found) == 1 else 'offer'} only an sdist in an old archive format "
        f"(.tar.bz2, .tgz, ...), which uv refuses and a PEP 751 lock cannot record. "
        + LEGACY_ADVICE
    )
