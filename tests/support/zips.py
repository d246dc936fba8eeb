"""Small hostile zips for the tests: members with a header field overwritten after writing."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

DATE = (2024, 1, 1, 0, 0, 0)
# Where each field sits in a local header and in a central directory header, and its width.
_FIELDS = {"flags": (6, 8, 2), "method": (8, 10, 2), "crc": (14, 16, 4), "size": (22, 24, 4)}


def member(name: str, method: int = zipfile.ZIP_DEFLATED, mode: int = 0o100644) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, DATE)
    info.compress_type = method
    info.create_system = 3
    info.external_attr = mode << 16
    return info


def make_zip(path: Path, members: Iterable[tuple[str | zipfile.ZipInfo, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members:
            zf.writestr(member(name) if isinstance(name, str) else name, data)
    return path


def patch_header(path: Path, name: str, field: str, value: int) -> None:
    """Overwrite *field* of member *name* in both its local and its central directory header."""
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        local = zf.getinfo(name).header_offset
    encoded = name.encode()
    central = raw.find(b"PK\x01\x02")
    while raw[central + 46 : central + 46 + len(encoded)] != encoded:
        central = raw.find(b"PK\x01\x02", central + 1)
    at_local, at_central, width = _FIELDS[field]
    data = value.to_bytes(width, "little")
    raw[local + at_local : local + at_local + width] = data
    raw[central + at_central : central + at_central + width] = data
    path.write_bytes(bytes(raw))


def data_span(path: Path, name: str) -> tuple[int, int]:
    """Where the compressed bytes of *name* start and end in the file."""
    raw = path.read_bytes()
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(name)
    at = info.header_offset
    start = at + 30 + int.from_bytes(raw[at + 26 : at + 28], "little")
    start += int.from_bytes(raw[at + 28 : at + 30], "little")
    return start, start + info.compress_size


def zeros_zip(path: Path, name: str, size: int, head: bytes = b"") -> Path:
    """A zip whose member *name* is *head* and then zeros up to *size* bytes: a bomb, if large."""
    with zipfile.ZipFile(path, "w", compresslevel=9) as zf, zf.open(member(name), "w") as out:
        out.write(head)
        left = size - len(head)
        block = bytes(1 << 20)
        while left > 0:
            out.write(block[: min(left, len(block))])
            left -= len(block)
    return path


def versions(zip_path: Path) -> dict[str, str]:
    """Each bundled distribution's version, by its .dist-info folder's name."""
    found = {}
    with zipfile.ZipFile(zip_path) as zf:
        for name in zf.namelist():
            if m := re.fullmatch(r"([^/]+)-([^-/]+)\.dist-info/METADATA", name):
                found[m.group(1)] = m.group(2)
    return found
