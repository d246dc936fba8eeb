"""Decoding a requirements file as pip does: a byte order mark, else a coding line, else UTF-8,
else the locale's encoding. PowerShell's `>` writes UTF-16 with a mark, for instance."""

from __future__ import annotations

import codecs
import contextlib
import locale
import re
from pathlib import Path

from ..errors import RequirementsError
from ._shape import undecodable

# pip's order: the UTF-32 marks begin with the UTF-16 ones, so they are tried first.
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")  # PEP 263


def _encoding(data: bytes) -> tuple[bytes, str, str | None]:
    """The bytes to decode (without their mark), the encoding, and the one to fall back to."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :], encoding, None
    for line in data.splitlines()[:2]:
        declared = _CODING.match(line)
        if declared:
            return data, declared.group(1).decode("ascii"), None
    return data, "utf-8", locale.getpreferredencoding(False)


def decode(data: bytes, path: Path) -> str:
    data, encoding, fallback = _encoding(data)
    try:
        return data.decode(encoding)
    except LookupError as exc:
        raise RequirementsError(
            f"{path.name} declares the encoding {encoding!r}, which Python does not know; "
            "fix its coding line, or remove it and save the file as UTF-8"
        ) from exc
    except UnicodeDecodeError as exc:
        if fallback and codecs.lookup(fallback).name != "utf-8":
            with contextlib.suppress(UnicodeDecodeError):
                return data.decode(fallback)
        raise RequirementsError(
            f"{undecodable(path, data, exc, encoding)}; save it as UTF-8 (pip also reads UTF-16 "
            "and UTF-32 files that start with a byte order mark)"
        ) from exc
