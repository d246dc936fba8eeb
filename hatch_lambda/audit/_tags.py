"""Rule ``wheel-tags``: every distribution's WHEEL tags fit the target."""

from __future__ import annotations

from collections.abc import Iterable
from email.parser import HeaderParser

from packaging.tags import Tag, parse_tag

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


def check_wheel_tags(site: Site, target: Target, reader: Reader) -> list[Finding]:
    findings = []
    for rel in dist_info_files(site, "WHEEL"):
        text = read_headers(reader, site.entries[rel])
        declared = HeaderParser().parsestr(text).get_all("Tag") or []
        tags = wheel_tags(declared)
        if not tags or not target.accepts(tags):
            findings.append(
                Finding(
                    "wheel-tags",
                    rel,
                    f"tagged {', '.join(declared) or '(no tags)'}, which {target.label} cannot load",
                )
            )
    return findings
