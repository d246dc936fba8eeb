"""Rule ``requires-python``: no bundled distribution declares that it does not run on the
runtime's Python.

``uv`` ignores upper bounds of ``Requires-Python`` by design, and a lock made elsewhere may hold
a release meant for older Pythons only (``dataclasses`` 0.8 is ``>=3.6, <3.7``): such a release
installs, and then fails or misbehaves at import. How a specifier is judged against a runtime
whose patch release AWS chooses is ``Runtime.admits``.
"""

from __future__ import annotations

from email.parser import HeaderParser

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from ..bundle import Reader
from ..target import Target
from ._finding import Finding, Site
from ._members import read_headers
from ._tags import dist_info_files


def check_requires_python(site: Site, target: Target, reader: Reader) -> list[Finding]:
    findings = []
    runtime = target.runtime
    for meta in dist_info_files(site, "METADATA"):
        msg = HeaderParser().parsestr(read_headers(reader, site.entries[meta]))
        text = (msg["Requires-Python"] or "").strip()
        if not text:
            continue
        try:
            specifier = SpecifierSet(text)
        except InvalidSpecifier:
            continue  # what cannot be read cannot be held against the release; pip skips it too
        if runtime.admits(specifier):
            continue
        name = msg["Name"] or meta.split("-", 1)[0]
        version = msg["Version"] or ""
        findings.append(Finding(
            "requires-python", meta,
            f"{name} {version} requires Python {text}, and {runtime.name} runs Python "
            f"{runtime.version}: it is not meant to run there. Resolve again (hatch-lambda skips "
            f"such releases), or pin a release of {name} that supports Python {runtime.version}",
        ))  # fmt: skip
    return findings
