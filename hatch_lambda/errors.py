"""The one family of errors hatch-lambda raises; their text is redacted when they are made."""

from __future__ import annotations

import errno
from collections.abc import Iterable

from ._secrets import redact

__all__ = [
    "ArchiveError", "AuditError", "ConfigError", "FetchError", "HatchLambdaError", "InstallError",
    "RequirementsError", "ResolutionError", "SdistBuildError", "TargetError", "ToolError",
    "WheelSelectionError", "os_problem", "redact",
]  # fmt: skip


_OS_ADVICE = {
    errno.ENOSPC: "free some space on that disk, or point the output or cache folder elsewhere",
    errno.EDQUOT: "free some space within your quota, or point the output or cache folder elsewhere",
    errno.EACCES: "check who owns it and its permissions",
    errno.EPERM: "check who owns it and its permissions",
    errno.EROFS: "it is on a read-only file system: point the output or cache folder elsewhere",
    errno.ENOTDIR: "a file stands where a folder is needed: move it away",
    errno.EEXIST: "something is in the way there: move it away",
    errno.EISDIR: "a folder stands where a file is needed: move it away",
}


def os_problem(exc: OSError, doing: str) -> str:
    """An OS error as a sentence: what was being done, to which path, why, and what to do."""
    where = f" {exc.filename}" if exc.filename else ""
    why = exc.strerror or str(exc)
    advice = _OS_ADVICE.get(exc.errno or 0, "check the path and try again")
    return f"cannot {doing}{where}: {why}; {advice}"


class HatchLambdaError(Exception):
    """Base class: a failure the user can act on. ``str()`` is the full, redacted message."""

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))

    @property
    def message(self) -> str:
        return str(self.args[0])


class ConfigError(HatchLambdaError, ValueError):
    """The configuration is invalid; ``problems`` holds every problem found, each with its key."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = [redact(p) for p in problems]
        lines = "\n".join(f"  - {p}" for p in self.problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"hatch-lambda configuration has {count} {noun}:\n{lines}")


class TargetError(HatchLambdaError, ValueError):
    """A runtime, architecture or tag that hatch-lambda cannot build for."""


class RequirementsError(HatchLambdaError):
    """The project's requirements cannot be read or evaluated for the target."""


class ResolutionError(HatchLambdaError):
    """The resolver could not produce a dependency set for the target."""


class WheelSelectionError(HatchLambdaError):
    """A resolved package has no file that the target can load."""


class FetchError(HatchLambdaError):
    """A distribution file could not be downloaded or failed its hash check."""


class SdistBuildError(HatchLambdaError):
    """A source distribution could not be turned into a wheel for the target."""


class InstallError(HatchLambdaError):
    """A wheel could not be installed into the bundle tree."""


class AuditError(HatchLambdaError):
    """The artifact breaks one or more rules; ``findings`` lists each one."""

    def __init__(self, artifact: str, findings: Iterable[str]) -> None:
        self.findings = [redact(f) for f in findings]
        lines = "\n".join(f"  - {f}" for f in self.findings)
        super().__init__(f"{artifact} is not Lambda-ready:\n{lines}")


class UnreadableError(HatchLambdaError):
    """A member of a zip cannot be read as Lambda would unpack it: encrypted, compressed with a
    method Lambda does not unpack, damaged, or declaring a size that cannot be real."""

    def __init__(self, archive: str, member: str, reason: str) -> None:
        self.archive = archive
        self.member = member
        self.reason = reason
        super().__init__(f"{archive}: {member} {reason}")


class ManifestError(HatchLambdaError):
    """The manifest beside an artifact is not one hatch-lambda wrote: not JSON, not an object."""


class ArchiveError(HatchLambdaError):
    """The archive could not be written."""


class ToolError(HatchLambdaError):
    """An external tool (uv, pip, a build backend) failed or is missing."""
