"""The audit stage: rules every artifact must pass before it is written."""

from __future__ import annotations

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
from ._handler import check_handler  # noqa: E402
from ._tags import check_wheel_tags  # noqa: E402


def audit_tree(root: Path, target: Target, *, handler: str | None) -> list[Finding]:
    """Every finding for the install tree at *root*; an empty list means it passes."""
    findings = [*check_wheel_tags(root, target), *check_bytecode(root, target)]
    if handler:
        findings.extend(check_handler(root, handler))
    return findings


__all__ = ["Finding", "audit_tree", "check_handler"]
