"""One zip member read as a stream from its raw bytes, as Lambda's unzip would read it: stored or
deflate only, never more bytes than it declares, its CRC-32 checked once it is read to the end.

zipfile would do most of this, but it reads other methods Lambda does not unpack (bzip2, lzma), and
it cuts a member that inflates past its declared size short without saying so.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Collection
from typing import TYPE_CHECKING, BinaryIO

from ..errors import UnreadableError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

_CHUNK = 1 << 16
_ENCRYPTED = 0x1  # general purpose flag bit 0
_AES = 99  # WinZip's AES: the method number of an encrypted member
# The methods of the zip specification (APPNOTE 4.4.5) by name, to say which one a member uses.
_METHODS = {
    1: "shrink", 2: "reduce", 3: "reduce", 4: "reduce", 5: "reduce", 6: "implode",
    9: "deflate64", 10: "PKWARE implode", 12: "bzip2", 14: "lzma", 16: "IBM z/OS CMPSC",
    18: "IBM TERSE", 19: "IBM LZ77", 93: "zstandard", 94: "MP3", 95: "xz", 96: "JPEG",
    97: "WavPack", 98: "PPMd",
}  # fmt: skip
# Deflate cannot do better than about 1032:1, and real files stay far below that; a member that
# claims more is not inflated. Small members are let through: a few KB of spaces is no threat.
MAX_RATIO = 1000
RATIO_FLOOR = 4 << 20


def member_problem(
    info: zipfile.ZipInfo, max_size: int | None = None, *, extra_methods: Collection[int] = ()
) -> str | None:
    """Why the member of *info* is not inflated at all, judged from the zip's directory alone.

    *max_size*: for artifacts from elsewhere, the most a member may declare; with it, a member
    that compresses better than real files do is refused too. *extra_methods*: methods accepted
    besides stored and deflate, the two Lambda unpacks.
    """
    if info.flag_bits & _ENCRYPTED or info.compress_type == _AES:
        return (
            "is encrypted, and Lambda unpacks no encrypted member; zip the files again without a "
            "password"
        )
    method = info.compress_type
    if method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, *extra_methods):
        name = _METHODS.get(method, "an unknown method")
        return (
            f"is compressed with {name} (method {method}), and Lambda unpacks only stored and "
            "deflate members; zip it again with deflate (zip's default, zipfile.ZIP_DEFLATED)"
        )
    if method == zipfile.ZIP_STORED and info.compress_size != info.file_size:
        return (
            f"is stored uncompressed in {info.compress_size:,} bytes but declares "
            f"{info.file_size:,}: the zip is damaged; rebuild it"
        )
    if max_size is None:
        return None
    if info.file_size > max_size:
        return (
            f"declares {info.file_size:,} bytes unzipped, more than the {max_size:,}-byte "
            "unzipped limit on its own, so it was not inflated: a zip bomb or a damaged zip; "
            "rebuild the artifact without it"
        )
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > RATIO_FLOOR and ratio > MAX_RATIO:
        return (
            f"declares {info.file_size:,} bytes unzipped from {info.compress_size:,} zipped "
            f"({ratio:,.0f}:1), more than real files compress, so it was not inflated: a zip bomb "
            "or a damaged zip; rebuild the artifact without it"
        )
    return None


class MemberStream(io.RawIOBase):
    """The bytes of one member, inflated as they are read.

    *file* is the zip, shared with the other members read from it: each read seeks first, so
    streams of one zip can be open together (in one thread).
    """

    def __init__(self, file: BinaryIO, info: zipfile.ZipInfo, archive: str) -> None:
        super().__init__()
        self._file = file
        self._info = info
        self._archive = archive
        file.seek(info.header_offset)
        local = file.read(30)
        if len(local) < 30 or local[:4] != b"PK\x03\x04":
            raise self._error("has no local header where the zip's directory puts it")
        skip = int.from_bytes(local[26:28], "little") + int.from_bytes(local[28:30], "little")
        self._position = info.header_offset + 30 + skip
        self._raw_left = info.compress_size
        self._left = info.file_size
        self._crc = 0
        self._finished = False
        self._inflater = zlib.decompressobj(-15) if info.compress_type else None
        self._pending = b""  # raw bytes read but not yet taken by the inflater

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        with memoryview(buffer) as view, view.cast("B") as out:
            if not len(out):
                return 0
            if self._left == 0:
                self._finish()
                return 0
            data = self._next(min(len(out), self._left))
            out[: len(data)] = data
        self._crc = zlib.crc32(data, self._crc)
        self._left -= len(data)
        if self._left == 0:
            self._finish()
        return len(data)

    def _error(self, reason: str) -> UnreadableError:
        return UnreadableError(self._archive, self._info.filename, reason)

    def _raw(self, n: int) -> bytes:
        n = min(n, self._raw_left)
        if n <= 0:
            return b""
        self._file.seek(self._position)
        data = self._file.read(n)
        if len(data) < n:
            raise self._error("is cut short: the zip ends inside its data; rebuild the zip")
        self._position += n
        self._raw_left -= n
        return data

    def _inflate(self, n: int) -> bytes:
        """Up to *n* more bytes; empty once the deflate data ends (or runs out)."""
        assert self._inflater is not None
        while not self._inflater.eof:
            if not self._pending:
                self._pending = self._raw(_CHUNK)
            try:
                data = self._inflater.decompress(self._pending, n)
            except zlib.error as exc:
                raise self._error(
                    f"cannot be inflated: its deflate data is damaged ({exc}); rebuild the zip"
                ) from exc
            self._pending = self._inflater.unconsumed_tail
            if data:
                return data
            if not self._pending and not self._raw_left:
                break
        return b""

    def _next(self, n: int) -> bytes:
        data = self._raw(n) if self._inflater is None else self._inflate(n)
        if not data:
            done = self._info.file_size - self._left
            raise self._error(
                f"ends after {done:,} of the {self._info.file_size:,} bytes it declares: the "
                "zip is damaged; rebuild it"
            )
        return data

    def _finish(self) -> None:
        """At the declared size: the data must end here, and match the CRC-32."""
        if self._finished:
            return
        self._finished = True
        if self._inflater is not None and self._inflate(1):
            raise self._error(
                f"inflates to more than the {self._info.file_size:,} bytes it declares: the zip "
                "is damaged or made to mislead; rebuild it"
            )
        if self._crc != self._info.CRC:
            raise self._error(
                f"does not match its CRC-32 (the zip says {self._info.CRC:08x}, the data gives "
                f"{self._crc:08x}): the zip is damaged; rebuild it"
            )
