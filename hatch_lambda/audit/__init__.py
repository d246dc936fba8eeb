"""The audit stage: rules every artifact must pass before it is written."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from packaging.utils import canonicalize_name

from ..target import Target

RULES = (
    "archive-paths", "archive-symlink", "bytecode", "closure", "elf-glibc", "elf-invalid",
    "elf-machine", "elf-musl", "elf-needs", "handler", "size", "wheel-tags",
)  # fmt: skip


@dataclass(frozen=True)
class Finding:
    rule: str
    path: str
    message: str
    distribution: str | None = None
    """``name version`` of the distribution the file came from, where its RECORD says so."""

    def __str__(self) -> str:
        origin = (
            f" [{self.distribution}]"
            if self.distribution and self.distribution not in self.message
            else ""
        )
        return f"[{self.rule}] {self.path}{origin}: {self.message}"


from ._bytecode import check_bytecode  # noqa: E402
from ._closure import check_closure  # noqa: E402
from ._elf import check_elf  # noqa: E402
from ._handler import check_handler  # noqa: E402
from ._owners import owners  # noqa: E402
from ._size import check_size, distribution_sizes  # noqa: E402
from ._tags import check_wheel_tags  # noqa: E402


def _pyc_source(path: str) -> str:
    """`pkg/__pycache__/mod.cpython-311.pyc` -> `pkg/mod.py`: bytecode is owned with its source."""
    parts = path.split("/")
    if len(parts) >= 2 and parts[-2] == "__pycache__":
        return "/".join([*parts[:-2], parts[-1].split(".", 1)[0] + ".py"])
    return path


def audit_tree(
    site_roots: Sequence[Path],
    target: Target,
    *,
    archive_root: Path,
    handler: str | None = None,
    roots: Collection[tuple[str, Collection[str]]] = (),
    provided: Mapping[str, str | None] | None = None,
    bytecode_versions: Collection[str] = (),
    closure: bool = True,
) -> list[Finding]:
    """Every finding for one target over the folders Python imports from; empty means it passes.

    *site_roots* are those folders (the archive root for a function; ``python/`` and
    ``python/lib/python3.X/site-packages/`` for a layer). Paths in findings are relative to
    *archive_root*. *roots* names the distributions whose extras were asked for; *provided* the
    distributions a layer or the runtime supplies (a version, or None for any).
    """
    findings: list[Finding] = []
    for site in site_roots:
        prefix = site.relative_to(archive_root).as_posix()
        prefix = "" if prefix == "." else prefix + "/"
        by_path = owners(site)
        local = [
            *check_wheel_tags(site, target),
            *check_elf(site, target),
            *check_bytecode(site, target, allowed=bytecode_versions or (target.python_version,)),
        ]
        for f in local:
            owner = by_path.get(f.path) or by_path.get(_pyc_source(f.path))
            dist = f"{canonicalize_name(owner[0])} {owner[1]}" if owner else None
            findings.append(replace(f, path=prefix + f.path, distribution=dist))
    if closure:
        findings += check_closure(site_roots, target, roots=roots, provided=provided or {})
    if handler:
        findings += check_handler(archive_root, handler)
    return findings


__all__ = ["Finding", "audit_tree", "check_handler", "check_size", "distribution_sizes"]


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
    folder. Rules named in *warn* are reported as warnings."""
    from ._artifact import open_artifact

    with open_artifact(path) as opened:
        sites = opened.site_roots(target.python_version)
        findings = list(opened.findings)
        findings += audit_tree(sites, target, archive_root=opened.root, handler=handler)
        sizes: dict[str, int] = {}
        for site in sites:
            for dist, size in distribution_sizes(site).items():
                sizes[dist] = sizes.get(dist, 0) + size
        findings += check_size(path.name, {"artifact": sizes}, limit=max_unzipped_size)
    unique = list(dict.fromkeys(findings))
    return Report(
        str(path),
        target,
        [f for f in unique if f.rule not in warn],
        [f for f in unique if f.rule in warn],
    )
