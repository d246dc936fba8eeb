"""Rule ``bytecode``: no ``.pyc`` compiled for a Python other than the target's."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Collection

from ..target import Target
from ._finding import Finding, Site

# `__pycache__/mod.cpython-311.pyc` (importlib's cache tag) names the interpreter that wrote it.
_CACHE_TAG = re.compile(r"\.(?P<tag>[a-z]+-\d+)(\.opt-\d)?\.pyc$")


def check_bytecode(site: Site, target: Target, *, allowed: Collection[str] = ()) -> list[Finding]:
    """*allowed*: Python versions whose bytecode may be here (``3.12``); the target's by default."""
    versions = allowed or (target.python_version,)
    wanted_tags = {f"cpython-{v.replace('.', '')}" for v in versions}
    wanted = " or ".join(sorted(wanted_tags))
    findings = []
    for rel in sorted(p for p in site.entries if p.endswith(".pyc")):
        match = _CACHE_TAG.search(posixpath.basename(rel))
        tag = match.group("tag") if match else None
        if tag in wanted_tags:
            continue
        findings.append(
            Finding(
                "bytecode",
                rel,
                f"bytecode for {tag or 'an unknown Python'}, not {wanted}: "
                f"{target.runtime.name} ignores it and it only adds size",
            )
        )
    return findings
