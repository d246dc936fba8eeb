"""The audit stage: rules every artifact must pass before it is written, read from its entries.

The same rules run on a bundle being built and, through ``check_artifact``, on any zip or folder
(`hatch-lambda check`), so the build and `check` judge alike.
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from ..bundle import Bundle, Reader
from ..target import Target
from ._finding import Finding, Site

RULES = (
    "archive-entry", "archive-paths", "archive-symlink", "bytecode", "closure", "elf-glibc",
    "elf-invalid", "elf-machine", "elf-musl", "elf-needs", "handler", "size", "wheel-tags",
)  # fmt: skip

from ._artifact import OpenedArtifact, open_artifact  # noqa: E402
from ._bytecode import check_bytecode  # noqa: E402
from ._closure import check_closure  # noqa: E402
from ._elf import check_elf  # noqa: E402
from ._facts import ElfFacts  # noqa: E402
from ._handler import check_handler  # noqa: E402
from ._members import check_members, entry_finding, read_headers  # noqa: E402
from ._size import OTHER_FILES, check_size, distribution_sizes  # noqa: E402
from ._tags import check_wheel_tags, wheel_tags  # noqa: E402


def audit_bundle(
    bundle: Bundle,
    targets: Mapping[str, Target],
    *,
    reader: Reader,
    facts: Mapping[str, ElfFacts] | None = None,
    handler: str | None = None,
    roots: Collection[tuple[str, Collection[str]]] = (),
    provided: Mapping[str, str | None] | None = None,
    bytecode_versions: Collection[str] = (),
    closure: bool = True,
) -> list[Finding]:
    """Every finding for each runtime's target over the sites it imports from; empty passes.

    *facts*: ELF facts by machine (kept per wheel digest); read on demand where not given.
    *roots* names the distributions whose extras were asked for; *provided* the distributions a
    layer or the runtime supplies (a version, or None for any).
    """
    findings: list[Finding] = []
    names = {posixpath.basename(p) for p in bundle.entries}
    for runtime, target in targets.items():
        known = (facts or {}).get(target.machine) or ElfFacts(reader, target.machine)
        sites = [Site(prefix, bundle.site_entries(prefix)) for prefix in bundle.sites[runtime]]
        for site in sites:
            local = [
                *check_wheel_tags(site, target, reader),
                *check_elf(site, names, target, known),
                *check_bytecode(
                    site, target, allowed=bytecode_versions or (target.python_version,)
                ),
            ]
            for f in local:
                owner = site.entries[f.path].owner if f.path in site.entries else None
                findings.append(replace(f, path=site.prefix + f.path, distribution=owner))
        if closure:
            findings += check_closure(sites, target, reader, roots=roots, provided=provided or {})
        if handler:
            findings += check_handler(bundle.site_entries(""), handler, reader)
    return list(dict.fromkeys(findings))


@dataclass(frozen=True)
class Report:
    artifact: str
    target: Target
    errors: list[Finding]
    warnings: list[Finding]

    @property
    def passed(self) -> bool:
        return not self.errors


def check_artifact(
    path: Path,
    target: Target,
    *,
    handler: str | None = None,
    warn: Collection[str] = (),
    max_unzipped_size: int = 262_144_000,
) -> Report:
    """Audit any Lambda artifact, made by hatch-lambda or not: a function zip, a layer zip or a
    folder. Rules named in *warn* are reported as warnings.

    Nothing is extracted, and no member declaring more than *max_unzipped_size* (or compressing
    better than real files do) is inflated: memory and disk stay bounded whatever the zip holds.
    """
    runtime = target.runtime.name
    with Reader(max_size=max_unzipped_size) as reader:
        opened = open_artifact(path, reader)
        sites = opened.sites(target.python_version)
        whole = replace(opened.bundle, sites={runtime: sites})
        unreadable = check_members(whole.entries, reader)
        findings = [*opened.findings, *unreadable]
        # The other rules go on without the members that cannot be read; their size still counts,
        # and the handler rule sees them, to say its module cannot be read rather than is missing.
        bad = {f.path for f in unreadable}
        bundle = replace(whole, entries={p: e for p, e in whole.entries.items() if p not in bad})
        findings += audit_bundle(bundle, {runtime: target}, reader=reader)
        if handler:
            findings += check_handler(whole.site_entries(""), handler, reader)
        in_sites = {p: e for s in sites for p, e in whole.site_entries(s).items()}
        sizes = distribution_sizes(in_sites.values())
        findings += check_size(path.name, {"artifact": sizes}, limit=max_unzipped_size)
    unique = list(dict.fromkeys(findings))
    return Report(
        str(path),
        target,
        [f for f in unique if f.rule not in warn],
        [f for f in unique if f.rule in warn],
    )


__all__ = [
    "OTHER_FILES",
    "RULES",
    "ElfFacts",
    "Finding",
    "OpenedArtifact",
    "Report",
    "audit_bundle",
    "check_artifact",
    "check_elf",
    "check_handler",
    "check_size",
    "distribution_sizes",
    "entry_finding",
    "open_artifact",
    "read_headers",
    "wheel_tags",
]
