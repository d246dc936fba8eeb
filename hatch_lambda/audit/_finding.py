"""What the rules look at (a site: the files of one folder Python imports from) and report."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..bundle import Entry


@dataclass(frozen=True)
class Finding:
    rule: str
    path: str
    message: str
    distribution: str | None = None
    """``name version`` of the distribution the file came from, where its RECORD says so."""
    warning: bool = False
    """Reported, never failing: what the rule cannot judge, with the reason in the message."""

    def __str__(self) -> str:
        origin = (
            f" [{self.distribution}]"
            if self.distribution and self.distribution not in self.message
            else ""
        )
        return f"[{self.rule}] {self.path}{origin}: {self.message}"


@dataclass(frozen=True)
class Site:
    """One folder Python imports from: its archive path prefix and its files, by relative path."""

    prefix: str
    entries: Mapping[str, Entry]
