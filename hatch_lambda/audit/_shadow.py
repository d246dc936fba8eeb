"""Rule ``stdlib-shadow``: nothing in an artifact hides a module of the runtime's standard library.

Lambda puts the function's folder and the layers' folders on ``sys.path`` before the standard
library, so a top-level ``typing.py`` or ``json/`` in a bundle is what ``import typing`` or
``import json`` finds, for the handler and for the runtime's own code alike. ``typing`` 3.10.0.0
on python3.12 breaks at the first import (``'Callable' has no attribute '_abc_registry'``).

A backport whose every top-level module the target's standard library already has (``typing``,
``dataclasses``, ``enum34``) is left out by the selection stage before this rule runs; what this
rule finds is anything else of that kind: a distribution that ships a standard library name
beside its own modules, or one a lock or layer brought in some other way.
"""

from __future__ import annotations

from .._stdlib import stdlib_modules
from .._toplevel import imported_paths, top_level_names
from ..target import Target
from ._finding import Finding, Site


def check_stdlib_shadow(site: Site, target: Target) -> list[Finding]:
    stdlib = stdlib_modules(target.python_version)
    first: dict[str, str] = {}
    for path in sorted(imported_paths(site.entries)):
        for name in top_level_names([path]) & stdlib:
            first.setdefault(name, path)
    findings = []
    for name, path in sorted(first.items()):
        owner = site.entries[path].owner
        fix = (
            f"Use another release of {owner.split(' ', 1)[0]} or another package"
            if owner
            else "Rename the module"
        )
        findings.append(Finding(
            "stdlib-shadow", path,
            f"{owner or 'the artifact'} puts a top-level module {name!r} where it hides the "
            f"standard library's {name} on {target.runtime.name}: `import {name}` would load it, "
            f"for the handler and the runtime alike. {fix}, or leave it out with `exclude` "
            '(or audit-warn = ["stdlib-shadow"])',
        ))  # fmt: skip
    return findings
