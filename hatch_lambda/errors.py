"""The one family of errors hatch-lambda raises, and credential redaction for their text."""

from __future__ import annotations

import re
from collections.abc import Iterable

# `scheme://user:secret@host` and `scheme://token@host`: keep the scheme and host, drop the rest.
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/@\s'\"]+)@")


def redact(text: str) -> str:
    """Replace the user-info part of every URL in *text* with ``***``."""
    return _USERINFO.sub(r"\g<scheme>***@", text)


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
