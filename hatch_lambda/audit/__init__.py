"""The audit stage: rules every artifact must pass before it is written."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
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
from ._handler import check_handler  # noqa: E402
from ._tags import check_wheel_tags  # noqa: E402


def audit_tree(
    root: Path,
    target: Target,
    *,
    handler: str | None,
    roots: Collection[tuple[str, Collection[str]]] = (),
) -> list[Finding]:
    """Every finding for the install tree at *root*; an empty list means it passes.

    *roots* names the distributions whose extras were asked for (the project and its extras).
    """
    findings = [
        *check_wheel_tags(root, target),
        *check_bytecode(root, target),
        *check_closure(root, target, roots=roots),
    ]
    if handler:
        findings.extend(check_handler(root, handler))
    return findings


__all__ = ["Finding", "audit_tree", "check_handler"]
