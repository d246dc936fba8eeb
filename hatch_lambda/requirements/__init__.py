"""The requirements stage: what the bundle must contain, evaluated for the target."""

from __future__ import annotations

from dataclasses import dataclass

from packaging.requirements import Requirement


@dataclass(frozen=True)
class RequirementSet:
    """Requirements with their markers already evaluated for the target (markers removed)."""

    source: str
    requirements: tuple[Requirement, ...]

    def lines(self) -> list[str]:
        return [str(r) for r in self.requirements]


from ._project import from_project_wheel  # noqa: E402

__all__ = ["RequirementSet", "from_project_wheel"]
