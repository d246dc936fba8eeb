"""The audit stage: rules every artifact must pass before it is written."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ..target import Target


@dataclass(frozen=True)
class Finding:
    rule: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.path}: {self.message}"


from ._bytecode import check_bytecode  # noqa: E402
from ._closure import check_closure  # noqa: E402
from ._elf import check_elf  # noqa: E402
from ._handler import check_handler  # noqa: E402
from ._size import check_size, distribution_sizes  # noqa: E402
from ._tags import check_wheel_tags  # noqa: E402


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
        local = [
            *check_wheel_tags(site, target),
            *check_elf(site, target),
            *check_bytecode(site, target, allowed=bytecode_versions or (target.python_version,)),
        ]
        findings += [replace(f, path=prefix + f.path) for f in local]
    if closure:
        findings += check_closure(site_roots, target, roots=roots, provided=provided or {})
    if handler:
        findings += check_handler(archive_root, handler)
    return findings


__all__ = ["Finding", "audit_tree", "check_handler", "check_size", "distribution_sizes"]
