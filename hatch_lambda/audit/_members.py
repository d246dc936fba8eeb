"""Rule ``archive-entry``: every member of a zip can be read as Lambda's unzip reads it, and the
rules read members within bounds, whatever a member holds."""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from typing import BinaryIO

from ..bundle import Entry, Reader, ZipMember
from ..errors import UnreadableError
from ._finding import Finding

_CHUNK = 1 << 20
HEADERS_LIMIT = 1 << 20
"""What is read of a WHEEL or METADATA file: its headers come first, and only they are used."""
_LINE_LIMIT = 1 << 16  # a RECORD line longer than this is cut into pieces, which match nothing


def entry_finding(path: str, reason: str) -> Finding:
    return Finding("archive-entry", path, reason)


def read_headers(reader: Reader, entry: Entry) -> str:
    """The start of a WHEEL or METADATA file, as text."""
    return reader.read(entry, HEADERS_LIMIT).decode("utf-8", errors="replace")


def read_lines(stream: BinaryIO) -> Iterator[str]:
    """The lines of *stream*, read a line at a time (RECORD files can be as large as their zip)."""
    text = io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="")
    while line := text.readline(_LINE_LIMIT):
        yield line


def check_members(entries: Mapping[str, Entry], reader: Reader) -> list[Finding]:
    """Inflate every zip member once, keeping no byte: a member that is encrypted, compressed in a
    way Lambda cannot unpack, damaged, or not what it declares is a finding, as Lambda's unzip
    would fail on it."""
    findings = []
    for path, entry in sorted(entries.items()):
        if not isinstance(entry.source, ZipMember):
            continue
        try:
            with reader.open(entry) as stream:
                while stream.read(_CHUNK):
                    pass
        except UnreadableError as exc:
            findings.append(entry_finding(path, exc.reason))
    return findings
