"""Rule ``wheel-tags``: every distribution's WHEEL tags fit the target."""

from __future__ import annotations

from email.parser import HeaderParser

from packaging.tags import parse_tag

from ..bundle import Reader
from ..target import Target
from ._finding import Finding, Site


def dist_info_files(site: Site, name: str) -> list[str]:
    """The paths of ``*.dist-info/NAME`` at the top of *site*, sorted."""
    return sorted(p for p in site.entries if p.count("/") == 1 and p.endswith(f".dist-info/{name}"))


def check_wheel_tags(site: Site, target: Target, reader: Reader) -> list[Finding]:
    findings = []
    for rel in dist_info_files(site, "WHEEL"):
        text = reader.read(site.entries[rel]).decode("utf-8", errors="replace")
        declared = HeaderParser().parsestr(text).get_all("Tag") or []
        tags = {t for text in declared for t in parse_tag(text)}
        if not tags or not target.accepts(tags):
            findings.append(
                Finding(
                    "wheel-tags",
                    rel,
                    f"tagged {', '.join(declared) or '(no tags)'}, which {target.label} cannot load",
                )
            )
    return findings
