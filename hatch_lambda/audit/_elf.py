"""Rules ``elf-*``: every ELF file in the bundle can be loaded by the target's Lambda runtime."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol

from ..bundle import Entry
from ..errors import UnreadableError
from ..target import RUNTIMES, Target
from ._finding import Finding, Site
from ._members import entry_finding


class FactSource(Protocol):
    """Where the rules get what they need to know of a file (``_facts.py`` keeps it per wheel):
    its facts, the reason it cannot be read, or None for a file that is not ELF."""

    def of(self, entry: Entry) -> ElfInfo | str | None: ...


ELF_MAGIC = b"\x7fELF"

# e_machine names as pyelftools gives them -> the names people know (uname -m).
_MACHINES = {
    "EM_X86_64": "x86_64",
    "EM_AARCH64": "aarch64",
    "EM_386": "i386",
    "EM_ARM": "arm",
    "EM_PPC64": "ppc64",
    "EM_S390": "s390x",
    "EM_RISCV": "riscv",
}

# Libraries a bundled ELF file may need without shipping them: every Lambda Python runtime
# (Amazon Linux 2 and 2023, x86_64 and arm64) has them.
# Sources: the manylinux policy of PEP 600 as auditwheel lists it (src/auditwheel/policy/
# manylinux-policy.json, "lib_whitelist"), kept only where the AWS Lambda base images for Python
# (public.ecr.aws/lambda/python, built from aws/aws-lambda-base-images) are known to carry the
# library too. This is a conservative list: a library missing here is reported, so a library goes in
# only when every image is known to have it. Left out on purpose, though manylinux allows them:
# libX11.so.6, libXext.so.6, libXrender.so.1, libICE.so.6, libSM.so.6, libGL.so.1 and the
# glib-2.0/gobject/gthread libraries (Lambda images carry no desktop libraries: opencv-python fails
# there on libGL.so.1); libexpat.so.1 (no expat package in the python3.12 image); libcrypt.so.1
# (Amazon Linux 2023 has libxcrypt's libcrypt.so.2), libnsl.so.1 and libatomic.so.1 (separate
# packages, not known to be in every image).
RUNTIME_LIBRARIES = frozenset(
    {
        # glibc, including the dynamic loaders; its version is checked by rule elf-glibc.
        "libc.so.6",
        "libm.so.6",
        "libmvec.so.1",
        "libdl.so.2",
        "librt.so.1",
        "libpthread.so.0",
        "libresolv.so.2",
        "libutil.so.1",
        "libanl.so.1",
        "ld-linux-x86-64.so.2",
        "ld-linux-aarch64.so.1",
        # The GCC runtime.
        "libgcc_s.so.1",
        "libstdc++.so.6",
        # zlib: in the manylinux policy, and every image has /lib64/libz.so.1.
        "libz.so.1",
    }
)

# GLIBC_2.28 and GLIBC_2.2.5 name the glibc release that introduced a symbol version.
_GLIBC_VERSION = re.compile(r"^GLIBC_(\d+)\.(\d+)(?:\.\d+)?$")
# Version names that are no release number but still need a glibc at least this new:
# GLIBC_ABI_DT_RELR marks packed relative relocations (ld -z pack-relative-relocs).
_GLIBC_MARKERS = {"GLIBC_ABI_DT_RELR": (2, 36)}

_MUSL_LIBC = re.compile(r"^libc\.musl-[^/]+\.so\.1$")
_MUSL_LOADER = re.compile(r"^ld-musl-[^/]+\.so\.1$")


@dataclass
class ElfInfo:
    """What the rules need to know of one ELF file."""

    machine: str
    bits: int
    loadable: bool
    needed: list[str] = field(default_factory=list)
    interpreter: str | None = None
    glibc: tuple[int, int] | None = None
    glibc_name: str = ""


def check_elf(
    site: Site, names: Collection[str], target: Target, facts: FactSource
) -> list[Finding]:
    """Every ELF file of *site* against *target*; *names*: every file name the bundle holds."""
    findings: list[Finding] = []
    for rel, entry in sorted(site.entries.items()):
        try:
            found = facts.of(entry)
        except UnreadableError as exc:
            findings.append(entry_finding(rel, exc.reason))
            continue
        if found is None:
            continue
        owner = entry.owner
        if isinstance(found, str):
            findings.append(
                Finding(
                    "elf-invalid",
                    rel,
                    f"starts like an ELF file but cannot be read ({found}){_origin(owner)}; "
                    "the loader will reject it too",
                )
            )
            continue
        findings.extend(_check_one(found, rel, owner, names, target))
    return sorted(findings, key=lambda f: (f.path, f.rule, f.message))


def _check_one(
    elf: ElfInfo, rel: str, owner: str | None, names: Collection[str], target: Target
) -> list[Finding]:
    """*owner*: the distribution that installed the file, if a RECORD says; *names*: the bundle's."""
    origin = _origin(owner)
    # Relocatable objects (.o) and core dumps are never loaded, so nothing about them matters.
    if not elf.loadable:
        return []
    if elf.machine != target.machine or elf.bits != 64:
        built = elf.machine if elf.bits == 64 else f"32-bit {elf.machine}"
        # The one finding for a foreign file: it cannot be loaded at all.
        return [
            Finding(
                "elf-machine",
                rel,
                f"built for {built}, but {target.label} runs {target.machine}{origin}",
            )
        ]
    findings = []
    runtime = target.runtime
    if elf.glibc is not None and elf.glibc > runtime.glibc:
        advice = _glibc_advice(elf.glibc, owner.split(" ")[0] if owner else None, target)
        findings.append(
            Finding(
                "elf-glibc",
                rel,
                f"needs {elf.glibc_name}, and {runtime.name} ({runtime.os}) has glibc "
                f"{_dotted(runtime.glibc)}{origin}; {advice}",
            )
        )
    musl = {n for n in map(posixpath.basename, elf.needed) if _MUSL_LIBC.match(n)}
    if musl or (elf.interpreter and _MUSL_LOADER.match(posixpath.basename(elf.interpreter))):
        findings.append(
            Finding("elf-musl", rel, f"linked against musl libc; Lambda runs glibc{origin}")
        )
    # Lambda's Python is built shared, so /var/lang/lib has the target's libpython.
    libpython = f"libpython{runtime.version}.so.1.0"
    for needed in elf.needed:
        name = posixpath.basename(needed)
        if name in musl or name in names or name in RUNTIME_LIBRARIES or name == libpython:
            continue
        findings.append(
            Finding(
                "elf-needs",
                rel,
                f"needs {name}, which is neither in the bundle nor provided by the Lambda "
                f"runtime{origin}",
            )
        )
    return findings


def _glibc_advice(need: tuple[int, int], dist: str | None, target: Target) -> str:
    have = target.runtime.glibc
    steps = [
        f"use a wheel built for an older manylinux (manylinux_{have[0]}_{have[1]} or older)",
        f"pin an older release of {dist}" if dist else "pin an older release",
    ]
    # RUNTIMES runs from old to new, and glibc only grows with them.
    newer = next((r for r in RUNTIMES.values() if r.glibc >= need), None)
    if newer is not None:
        steps.append(f"choose a runtime on {newer.os} ({newer.name} or later)")
    else:
        steps.append(
            f"build it against an older glibc: no Lambda runtime has glibc {_dotted(need)}"
        )
    return f"{', '.join(steps[:-1])} or {steps[-1]}"


def _dotted(version: tuple[int, int]) -> str:
    return ".".join(map(str, version))


def _origin(owner: str | None) -> str:
    return f" (from {owner})" if owner else ""


def read_elf(stream: BinaryIO, machine: str) -> ElfInfo:
    """Parse the parts of the ELF file in *stream* (seekable) the rules use.

    Past the header, only a loadable 64-bit file for *machine* is read: nothing else about another
    file matters, and its tables may not even parse.
    """
    # Imported here: a build whose shared objects are all known by their wheel's digest parses
    # none, and pyelftools is the slowest import of the audit.
    from elftools.elf.dynamic import DynamicSegment
    from elftools.elf.elffile import ELFFile
    from elftools.elf.gnuversions import GNUVerNeedSection
    from elftools.elf.segments import InterpSegment

    elf = ELFFile(stream)
    em = str(elf["e_machine"])
    info = ElfInfo(
        machine=_MACHINES.get(em, em.removeprefix("EM_").lower()),
        bits=int(elf.elfclass),
        loadable=str(elf["e_type"]) in ("ET_DYN", "ET_EXEC"),
    )
    if not info.loadable or info.bits != 64 or info.machine != machine:
        return info
    # Segments, not sections: the loader reads only these, and they survive stripping.
    for segment in elf.iter_segments():
        if isinstance(segment, InterpSegment):
            info.interpreter = str(segment.get_interp_name())
        elif isinstance(segment, DynamicSegment):
            # pyelftools sets `needed` on DT_NEEDED tags at run time, out of its type hints.
            tags = segment.iter_tags("DT_NEEDED")
            info.needed.extend(str(getattr(tag, "needed", "")) for tag in tags)
    for section in elf.iter_sections():
        if isinstance(section, GNUVerNeedSection):
            for _library, aux_entries in section.iter_versions():
                for aux in aux_entries:
                    _note_glibc(info, str(aux.name))
    return info


def _note_glibc(info: ElfInfo, name: str) -> None:
    """Keep the newest glibc version *name* asks for; GLIBC_PRIVATE and other names do not count."""
    match = _GLIBC_VERSION.match(name)
    version = (int(match.group(1)), int(match.group(2))) if match else _GLIBC_MARKERS.get(name)
    if version is not None and (info.glibc is None or version > info.glibc):
        info.glibc = version
        info.glibc_name = name if match else f"{name} (glibc {_dotted(version)})"
