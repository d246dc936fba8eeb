"""The audit stage: rules every artifact must pass before it is written, read from its entries.

The same rules run on a bundle being built and, through ``check_artifact``, on any zip or folder
(`hatch-lambda check`), so the build and `check` judge alike.
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..bundle import Bundle, Reader
from ..target import Target
from ._finding import Finding, Site

RULES = (
    "archive-entry", "archive-paths", "archive-symlink", "bytecode", "closure", "elf-glibc",
    "elf-invalid", "elf-machine", "elf-musl", "elf-needs", "handler", "imports", "install-links",
    "layers", "requires-python", "size", "stdlib-shadow", "wheel-tags", "wheelhouse",
)  # fmt: skip

from ._artifact import OpenedArtifact, open_artifact  # noqa: E402
from ._bytecode import check_bytecode  # noqa: E402
from ._closure import check_closure  # noqa: E402
from ._elf import check_elf  # noqa: E402
from ._facts import ElfFacts  # noqa: E402
from ._handler import check_handler  # noqa: E402
from ._imports import Importable, check_imports  # noqa: E402
from ._layers import LayerContents, layer_modules, read_layer  # noqa: E402
from ._links import check_install_links  # noqa: E402
from ._members import check_members, entry_finding, read_headers  # noqa: E402
from ._modules import top_level_names  # noqa: E402
from ._requires_python import check_requires_python  # noqa: E402
from ._shadow import check_stdlib_shadow  # noqa: E402
from ._size import OTHER_FILES, check_size, distribution_sizes  # noqa: E402
from ._tags import check_wheel_tags, wheel_tags  # noqa: E402
from ._wheelhouse import check_wheelhouse  # noqa: E402


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
    importable: Importable | None = None,
    built_in_image: Collection[str] = (),
    runtime_provided: bool = False,
) -> list[Finding]:
    """Every finding for each runtime's target over the sites it imports from; empty passes.

    *facts*: ELF facts by machine (kept per wheel digest); read on demand where not given.
    *roots* names the distributions whose extras were asked for; *provided* the distributions a
    layer supplies (a version, or None for any); *runtime_provided*: the runtime's SDK counts, at
    the version the runtime has; *importable* what the handler's
    code may import besides the bundle; *built_in_image* the distributions built in the
    runtime's build image, whose plain linux tag fits.
    """
    findings: list[Finding] = []
    names = {posixpath.basename(p) for p in bundle.entries}
    for runtime, target in targets.items():
        known = (facts or {}).get(target.machine) or ElfFacts(reader, target.machine)
        sites = [Site(prefix, bundle.site_entries(prefix)) for prefix in bundle.sites[runtime]]
        for site in sites:
            local = [
                *check_wheel_tags(site, target, reader, built_in_image=built_in_image),
                *check_elf(site, names, target, known),
                *check_bytecode(
                    site, target, allowed=bytecode_versions or (target.python_version,)
                ),
                *check_install_links(site),
                *check_requires_python(site, target, reader),
                *check_stdlib_shadow(site, target),
            ]
            for f in local:
                owner = site.entries[f.path].owner if f.path in site.entries else None
                findings.append(replace(f, path=site.prefix + f.path, distribution=owner))
        if closure:
            findings += check_closure(sites, target, reader, roots=roots, provided=provided or {},
                                      runtime_provided=runtime_provided)  # fmt: skip
        if handler:
            findings += check_handler(bundle.site_entries(""), handler, reader)
            findings += check_imports(
                bundle.site_entries(""), handler, reader, target=target,
                available=top_level_names(p for s in sites for p in s.entries),
                importable=importable or Importable(),
            )  # fmt: skip
    return list(dict.fromkeys(findings))


@dataclass(frozen=True)
class Report:
    artifact: str
    target: Target
    errors: list[Finding]
    warnings: list[Finding]
    layer: bool = False
    """Laid out as a layer (everything under ``python/``)."""

    @property
    def passed(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class Deployment:
    """How an artifact is deployed, as the manifest beside it (or the command line) says: what
    the build knew, so that check judges as the build did."""

    layers: Sequence[LayerContents] = ()
    provided: Mapping[str, str | None] = field(default_factory=dict)
    """Distributions supplied besides the layers: by a named layer that was not found (at the
    version the manifest says it left out)."""
    roots: Collection[tuple[str, Collection[str]]] = ()
    closure: bool = True
    runtime_provided: bool = False
    complete: bool = True
    """False when what a named layer holds is not known."""
    built_in_image: Collection[str] = ()
    findings: Sequence[Finding] = ()
    """Found while reading the manifest and the layers."""


def check_artifact(
    path: Path,
    target: Target,
    *,
    handler: str | None = None,
    warn: Collection[str] = (),
    max_unzipped_size: int = 262_144_000,
    deployment: Deployment | None = None,
    size_limit: int | None = None,
    bytecode_versions: Collection[str] = (),
) -> Report:
    """Audit any Lambda artifact, made by hatch-lambda or not: a function zip, a layer zip or a
    folder. Rules named in *warn* are reported as warnings. *size_limit*: the unzipped bytes the
    artifact and its layers may hold (the build's ``max-unzipped-size``); *max_unzipped_size* by
    default. *bytecode_versions*: the Python versions whose bytecode may be there, those of every
    runtime a layer serves (as the build allows); the target's by default.

    Nothing is extracted, and no member declaring more than *max_unzipped_size* (or compressing
    better than real files do) is inflated: memory and disk stay bounded whatever the zip holds.
    """
    runtime = target.runtime.name
    deployment = deployment or Deployment()
    layers = deployment.layers
    provided = dict(deployment.provided)
    for layer in layers:
        provided.update(layer.dists)
    importable = Importable(
        frozenset().union(*(layer.modules for layer in layers)),
        deployment.runtime_provided,
        deployment.complete,
    )
    with Reader(max_size=max_unzipped_size) as reader:
        opened = open_artifact(path, reader)
        sites = opened.sites(target.python_version)
        whole = replace(opened.bundle, sites={runtime: sites})
        unreadable = check_members(whole.entries, reader)
        findings = [*deployment.findings, *opened.findings, *unreadable]
        # The other rules go on without the members that cannot be read; their size still counts,
        # and the handler rule sees them, to say its module cannot be read rather than is missing.
        bad = {f.path for f in unreadable}
        bundle = replace(whole, entries={p: e for p, e in whole.entries.items() if p not in bad})
        findings += audit_bundle(
            bundle, {runtime: target}, reader=reader, roots=deployment.roots, provided=provided,
            closure=deployment.closure, built_in_image=deployment.built_in_image,
            runtime_provided=deployment.runtime_provided,
            bytecode_versions=bytecode_versions,
        )  # fmt: skip
        if handler:
            findings += check_handler(whole.site_entries(""), handler, reader)
            findings += check_imports(
                bundle.site_entries(""), handler, reader, target=target,
                available=top_level_names(p for s in sites for p in bundle.site_entries(s)),
                importable=importable,
            )  # fmt: skip
        in_sites = {p: e for s in sites for p, e in whole.site_entries(s).items()}
        sizes: dict[str, Mapping[str, int]] = {"artifact": distribution_sizes(in_sites.values())}
        sizes.update({layer.label: layer.sizes for layer in layers})
        findings += check_size(path.name, sizes, limit=size_limit or max_unzipped_size)
    unique = list(dict.fromkeys(findings))
    failing = [f for f in unique if f.rule not in warn and not f.warning]
    return Report(str(path), target, failing, [f for f in unique if f not in failing], opened.layer)


__all__ = [
    "OTHER_FILES",
    "RULES",
    "Deployment",
    "ElfFacts",
    "Finding",
    "Importable",
    "LayerContents",
    "OpenedArtifact",
    "Report",
    "audit_bundle",
    "check_artifact",
    "check_elf",
    "check_handler",
    "check_size",
    "check_wheelhouse",
    "distribution_sizes",
    "entry_finding",
    "layer_modules",
    "open_artifact",
    "read_headers",
    "read_layer",
    "wheel_tags",
]
