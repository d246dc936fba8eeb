"""Rule ``wheel-tags``: every distribution's WHEEL tags fit the target."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from email.parser import HeaderParser

from packaging.tags import Tag, parse_tag
from packaging.utils import canonicalize_name

from ..bundle import Reader
from ..target import Target
from ._finding import Finding, Site
from ._members import read_headers


def wheel_tags(declared: Iterable[str]) -> set[Tag]:
    """The tags of WHEEL's ``Tag`` lines; a line that is no tag adds none."""
    tags: set[Tag] = set()
    for text in declared:
        try:
            tags.update(parse_tag(text))
        except ValueError:
            continue
    return tags


def dist_info_files(site: Site, name: str) -> list[str]:
    """The paths of ``*.dist-info/NAME`` at the top of *site*, sorted."""
    return sorted(p for p in site.entries if p.count("/") == 1 and p.endswith(f".dist-info/{name}"))


def plain_linux(tags: Iterable[Tag], target: Target) -> bool:
    """Whether a tag is ``linux_<machine>`` of the target, with an interpreter and ABI it runs:
    what a wheel built from source has, such as one pip built inside the runtime's build image."""
    plain = f"linux_{target.machine}"
    ranks = target.tag_rank()
    return any(
        t.platform == plain and Tag(t.interpreter, t.abi, target.platforms[0]) in ranks
        for t in tags
    )


def check_wheel_tags(
    site: Site, target: Target, reader: Reader, *, built_in_image: Collection[str] = ()
) -> list[Finding]:
    """*built_in_image*: distributions the manifest says were built in the runtime's build image
    (container mode), whose plain linux tag fits; their compiled files face the ELF rules."""
    findings = []
    for rel in dist_info_files(site, "WHEEL"):
        text = read_headers(reader, site.entries[rel])
        declared = HeaderParser().parsestr(text).get_all("Tag") or []
        tags = wheel_tags(declared)
        if tags and target.accepts(tags):
            continue
        shown = ", ".join(declared) or "(no tags)"
        if tags and plain_linux(tags, target):
            name = canonicalize_name(rel.split("/", 1)[0].split("-", 1)[0])
            if name in built_in_image:
                continue
            why = (
                f"tagged {shown}: a plain linux tag is what a wheel built from source has, which "
                f"fits {target.label} only if it was built for it. hatch-lambda's container mode "
                "builds such wheels in the runtime's image and says so in the manifest beside the "
                "artifact, which is missing or does not name it; the ELF rules checked its "
                "compiled files"
            )
            findings.append(Finding("wheel-tags", rel, why, warning=True))
            continue
        findings.append(
            Finding("wheel-tags", rel, f"tagged {shown}, which {target.label} cannot load")
        )
    return findings
