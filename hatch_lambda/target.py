"""The build target: a Lambda runtime and architecture, with its wheel tags and marker environment."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from packaging import tags as _tags
from packaging.markers import Environment
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from ._provided import PROVIDED, Provided
from .errors import TargetError


@dataclass(frozen=True)
class Runtime:
    name: str
    python: tuple[int, int]
    os: str
    glibc: tuple[int, int]
    deprecated: bool = False

    @property
    def version(self) -> str:
        return f"{self.python[0]}.{self.python[1]}"

    @property
    def cpython_tag(self) -> str:
        return f"cp{self.python[0]}{self.python[1]}"

    def admits(self, requires_python: SpecifierSet) -> bool:
        """Whether a distribution's ``Requires-Python`` lets it run on this runtime.

        Which patch release of X.Y Lambda runs is AWS's choice and changes over time, so the
        specifier is tried at the first patch (X.Y.0, what pip and uv assume for
        ``--python-version X.Y``) and at any later one (X.Y.99): only a specifier that rejects
        both, one that leaves out the whole X.Y line (``<3.7``, ``>=3.6, <3.11``), is certain to
        be wrong for the runtime. A bound inside the line (``>=3.9.2``) cannot be judged from the
        runtime's name, and is not held against it.
        """
        major, minor = self.python
        return any(
            requires_python.contains(Version(f"{major}.{minor}.{patch}"), prereleases=True)
            for patch in (0, 99)
        )


# Amazon Linux 2 ships glibc 2.26, Amazon Linux 2023 ships 2.34 (see the README's runtime table).
RUNTIMES: dict[str, Runtime] = {
    r.name: r
    for r in (
        Runtime("python3.9", (3, 9), "Amazon Linux 2", (2, 26), deprecated=True),
        Runtime("python3.10", (3, 10), "Amazon Linux 2", (2, 26)),
        Runtime("python3.11", (3, 11), "Amazon Linux 2", (2, 26)),
        Runtime("python3.12", (3, 12), "Amazon Linux 2023", (2, 34)),
        Runtime("python3.13", (3, 13), "Amazon Linux 2023", (2, 34)),
        Runtime("python3.14", (3, 14), "Amazon Linux 2023", (2, 34)),
    )
}
DEFAULT_RUNTIME = "python3.14"

# The AWS SDK every Lambda Python runtime ships (at a version AWS chooses), by distribution name,
# which is also its import name: what `exclude-runtime-provided` leaves out.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "jmespath"})

# Lambda's architecture name -> (uname machine, container platform, lowest manylinux glibc minor).
# aarch64 wheels start at manylinux2014 (glibc 2.17); x86_64 goes back to manylinux1 (2.5).
ARCHITECTURES: dict[str, tuple[str, str, int]] = {
    "x86_64": ("x86_64", "linux/amd64", 5),
    "arm64": ("aarch64", "linux/arm64", 17),
}
DEFAULT_ARCHITECTURE = "x86_64"

# Other names of Lambda's architectures (Docker's, uname's, Windows'), which spelling similarity
# alone would get wrong: "amd64" is closer to "arm64" than to "x86_64".
_ARCHITECTURE_NAMES = {
    "x86_64": "x86_64", "x86-64": "x86_64", "amd64": "x86_64", "x64": "x86_64",
    "arm64": "arm64", "aarch64": "arm64", "arm": "arm64", "armv8": "arm64", "arm64v8": "arm64",
}  # fmt: skip
_RUNTIME_SPELLING = re.compile(r"(?:python|py|cp)?[\s-]?3\.?(\d{1,2})", re.IGNORECASE)


def runtime_meant(value: object) -> str | None:
    """The runtime a near miss stands for: ``"3.12"``, ``"py312"``, ``"Python3.12"`` and the
    number ``3.12`` all mean python3.12; None when *value* is no such spelling."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    match = _RUNTIME_SPELLING.fullmatch(str(value).strip())
    if match is None:
        return None
    minor = match.group(1)
    if isinstance(value, float) and f"python3.{minor}" not in RUNTIMES:
        minor += "0"  # TOML reads `runtime = 3.10` as the number 3.1
    name = f"python3.{int(minor)}"
    return name if name in RUNTIMES else None


def architecture_meant(value: object) -> str | None:
    """The architecture another name stands for (``amd64``, ``ARM64``, ``linux/arm64``), or None."""
    if not isinstance(value, str):
        return None
    name = value.strip().lower()
    return _ARCHITECTURE_NAMES.get(name[len("linux/") :] if name.startswith("linux/") else name)


_LEGACY_MANYLINUX = {"manylinux2014": (2, 17), "manylinux2010": (2, 12), "manylinux1": (2, 5)}
_MANYLINUX = re.compile(r"^manylinux_(\d+)_(\d+)_(\w+)$")
_LEGACY = re.compile(r"^(manylinux2014|manylinux2010|manylinux1)_(\w+)$")


def manylinux_glibc(platform: str) -> tuple[tuple[int, int], str] | None:
    """``((major, minor), machine)`` for a manylinux platform tag (legacy aliases too), else None."""
    if m := _MANYLINUX.match(platform):
        return (int(m.group(1)), int(m.group(2))), m.group(3)
    if m := _LEGACY.match(platform):
        return _LEGACY_MANYLINUX[m.group(1)], m.group(2)
    return None


def manylinux_platforms(glibc: tuple[int, int], machine: str, lowest_minor: int) -> list[str]:
    """Every manylinux platform tag that a glibc of *glibc* on *machine* loads, best first.

    packaging only computes this list for the running host, so it is computed here for a foreign one,
    in the same order: each ``manylinux_2_N`` followed by its legacy alias, if it has one.
    """
    major, ceiling = glibc
    aliases = {v: k for k, v in _LEGACY_MANYLINUX.items()}
    platforms: list[str] = []
    for minor in range(ceiling, lowest_minor - 1, -1):
        platforms.append(f"manylinux_{major}_{minor}_{machine}")
        alias = aliases.get((major, minor))
        if alias and (machine == "x86_64" or alias == "manylinux2014"):
            platforms.append(f"{alias}_{machine}")
    return platforms


@dataclass(frozen=True)
class Target:
    runtime: Runtime
    architecture: str
    platforms: tuple[str, ...]
    tags: tuple[_tags.Tag, ...] = field(repr=False)

    @property
    def machine(self) -> str:
        return ARCHITECTURES[self.architecture][0]

    @property
    def container_platform(self) -> str:
        return ARCHITECTURES[self.architecture][1]

    @property
    def python_version(self) -> str:
        return self.runtime.version

    @property
    def label(self) -> str:
        return f"{self.runtime.name} {self.architecture}"

    @property
    def provided(self) -> Provided | None:
        """What the runtime ships of the AWS SDK, at least (hatch_lambda/_provided.py)."""
        return PROVIDED.get((self.runtime.name, self.architecture))

    @property
    def sam_image(self) -> str:
        return f"public.ecr.aws/sam/build-{self.runtime.name}:latest-{self.architecture}"

    def marker_environment(self) -> Environment:
        """PEP 508 marker values of the Lambda runtime, never of the machine that builds."""
        version = self.runtime.version
        return {
            "implementation_name": "cpython",
            "implementation_version": f"{version}.0",
            "os_name": "posix",
            "platform_machine": self.machine,
            "platform_python_implementation": "CPython",
            "platform_release": "",
            "platform_system": "Linux",
            "platform_version": "",
            "python_full_version": f"{version}.0",
            "python_version": version,
            "sys_platform": "linux",
        }

    def tag_rank(self) -> dict[_tags.Tag, int]:
        ranks: dict[_tags.Tag, int] = {}
        for rank, tag in enumerate(self.tags):
            ranks.setdefault(tag, rank)
        return ranks

    def accepts(self, wheel_tags: Iterable[_tags.Tag]) -> bool:
        """Whether any tag of a (possibly compressed) tag set is loadable on the target."""
        ranks = self.tag_rank()
        return any(t in ranks for t in wheel_tags)

    def describe_tags(self, limit: int = 6) -> str:
        """A short human summary of the tags looked for, best first."""
        shown = [str(t) for t in self.tags[:limit]]
        more = len(self.tags) - limit
        return ", ".join(shown) + (f" and {more} more down to py3-none-any" if more > 0 else "")


def unloadable_platform_reason(platform: str, runtime: Runtime, machine: str) -> str | None:
    """Why Lambda cannot load wheels of *platform*, or None when it can."""
    parsed = manylinux_glibc(platform)
    if parsed is not None:
        glibc, tag_machine = parsed
        if tag_machine != machine:
            return f"it is for {tag_machine}, not {machine}"
        if glibc > runtime.glibc:
            have = ".".join(map(str, runtime.glibc))
            need = ".".join(map(str, glibc))
            return f"it needs glibc {need} and {runtime.name} ({runtime.os}) has {have}"
        return None
    if platform.startswith("musllinux_"):
        return "Lambda runs glibc, not musl"
    if platform == "any":
        return None
    return "Lambda loads only manylinux wheels"


def resolve_target(
    runtime: str,
    architecture: str,
    platform_tags: Sequence[str] | None = None,
    *,
    built_in_image: bool = False,
) -> tuple[Target, list[str]]:
    """Build the target; returns it with warnings about user-given platform tags.

    *built_in_image*: wheels compiled inside the runtime's build image are tagged
    ``linux_<machine>``; they fit (last in order), and the ELF audit checks what they need.
    """
    try:
        rt = RUNTIMES[runtime]
    except KeyError:
        raise TargetError(
            f"unknown runtime {runtime!r}; choose one of {', '.join(RUNTIMES)}"
        ) from None
    try:
        machine, _, lowest = ARCHITECTURES[architecture]
    except KeyError:
        raise TargetError(
            f"unknown architecture {architecture!r}; choose one of {', '.join(ARCHITECTURES)}"
        ) from None

    warnings: list[str] = []
    if platform_tags:
        platforms = list(platform_tags)
        for platform in platforms:
            reason = unloadable_platform_reason(platform, rt, machine)
            if reason:
                warnings.append(
                    f"platform tag {platform!r} was asked for, but Lambda {rt.name} {architecture} "
                    f"cannot load such wheels: {reason}"
                )
    else:
        platforms = manylinux_platforms(rt.glibc, machine, lowest)

    if built_in_image:
        platforms.append(f"linux_{machine}")
    abi = rt.cpython_tag
    tags = [
        *_tags.cpython_tags(rt.python, abis=[abi], platforms=platforms),
        *_tags.compatible_tags(rt.python, interpreter=abi, platforms=platforms),
    ]
    return Target(rt, architecture, tuple(platforms), tuple(tags)), warnings
