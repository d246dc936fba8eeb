"""Rule ``wheel-tags``: every installed distribution's WHEEL tags fit the target."""

from __future__ import annotations

from email.parser import HeaderParser
from pathlib import Path

from packaging.tags import parse_tag

from ..target import Target
from . import Finding


def check_wheel_tags(root: Path, target: Target) -> list[Finding]:
    findings = []
    for wheel_file in sorted(root.glob("*.dist-info/WHEEL")):
        rel = wheel_file.relative_to(root).as_posix()
        message = HeaderParser().parsestr(wheel_file.read_text(encoding="utf-8"))
        declared = message.get_all("Tag") or []
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
