"""The archive stage: a deterministic zip of a bundle, written atomically in one pass.

Members of wheels are copied compressed, as they are; only the few files hatch-lambda makes or
that exist on disk (RECORD, compiled bytecode, what a command hook wrote) are deflated. The zip is
written front to back and hashed as it is written, so nothing is read back.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import queue
import stat
import struct
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from hatchling.builders.utils import set_zip_info_mode

from ._scratch import replacing
from ._timestamp import zip_date_time
from .bundle import Bundle, Entry, Reader, ZipMember
from .errors import ArchiveError, os_problem

_CHUNK = 1 << 20
_RAW = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_SPOOL = 16 << 20  # a larger file is compressed through a temporary file, not memory
_QUEUED = 8


@dataclass(frozen=True)
class ArchiveInfo:
    path: Path
    size: int
    sha256: str
    files: int
    unzipped_size: int

    @property
    def code_sha256(self) -> str:
        """What Lambda reports as CodeSha256: the base64 form of the zip's SHA-256."""
        return base64.b64encode(bytes.fromhex(self.sha256)).decode("ascii")


class _Sink:
    """A thread that hands each block it is given to *take*, in order, after the caller has
    moved on. At most ``_QUEUED`` blocks wait, so memory stays bounded."""

    def __init__(self, take: Callable[[bytes | bytearray], object], name: str) -> None:
        self._take = take
        self._queue: queue.Queue[bytes | bytearray | None] = queue.Queue(_QUEUED)
        self.failed: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, name=name)
        self._thread.start()

    def _drain(self) -> None:
        while (block := self._queue.get()) is not None:
            if self.failed is not None:
                continue  # keep taking blocks, so the caller never waits on a full queue
            try:
                self._take(block)
            except BaseException as exc:  # raised again in the building thread
                self.failed = exc

    def put(self, block: bytes | bytearray) -> None:
        self._queue.put(block)

    def stop(self) -> None:
        """Wait for every block given so far (none is given after)."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()


class _HashingWriter:
    """The output file, hashed as it is written; it cannot seek, so zipfile writes front to back.

    zipfile writes a member in several small pieces. They are gathered into 1 MiB blocks, which
    one thread writes and another hashes while the next block is gathered: write() and sha256
    let other threads run, so on a machine with two cores they add little to the build (the
    hash of a 50 MB zip alone takes about 35 ms, and writing it 15 ms).
    """

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._digest = hashlib.sha256()
        self.position = 0
        self._block = bytearray()
        self._sinks = (
            _Sink(stream.write, "hatch-lambda-archive-write"),
            _Sink(self._digest.update, "hatch-lambda-archive-hash"),
        )

    def _failure(self) -> BaseException | None:
        return next((sink.failed for sink in self._sinks if sink.failed is not None), None)

    def _put(self, block: bytes | bytearray) -> None:
        """Hand on a block; a sink's failure surfaces here, at most a few blocks later."""
        failed = self._failure()
        if failed is not None:
            raise failed
        for sink in self._sinks:
            sink.put(block)

    def write(self, data: bytes | memoryview) -> int:
        # Called several times for each member: kept to the least work, and to one copy of the
        # bytes (a full block is handed on as it is, and a new one started).
        size = len(data)
        self.position += size
        if size >= _CHUNK and not self._block:
            self._put(bytes(data))  # a large member's block
            return size
        self._block += data
        if len(self._block) >= _CHUNK:
            self._put(self._block)
            self._block = bytearray()
        return size

    def tell(self) -> int:
        return self.position

    def seek(self, *args: object) -> int:
        raise OSError("not seekable")

    def flush(self) -> None:
        """Nothing: ``close`` writes what is left; zipfile calls this between members."""

    def close(self) -> str:
        """Write what is left, wait for it, and return the sha256 of everything written."""
        if self._block:
            self._put(self._block)
            self._block = bytearray()
        for sink in self._sinks:
            sink.stop()
        failed = self._failure()
        if failed is not None:
            raise failed
        self._stream.flush()
        return self._digest.hexdigest()

    def abandon(self) -> None:
        """Stop the threads after a failure elsewhere (or after ``close``: then nothing)."""
        self._block.clear()
        for sink in self._sinks:
            sink.failed = sink.failed or OSError("the archive was abandoned")
            sink.stop()


@dataclass(frozen=True)
class _Compressed:
    """An entry's bytes, deflated here: the stream holds them, ready to copy."""

    stream: BinaryIO
    crc: int
    size: int
    compress_size: int


def _deflate(source: BinaryIO) -> _Compressed:
    # Closed by the caller, once copied into the zip.
    out: BinaryIO = tempfile.SpooledTemporaryFile(_SPOOL)  # type: ignore[assignment]  # noqa: SIM115
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    crc = size = 0
    for block in iter(lambda: source.read(_CHUNK), b""):
        crc = zlib.crc32(block, crc)
        size += len(block)
        out.write(compressor.compress(block))
    out.write(compressor.flush())
    compress_size = out.tell()
    out.seek(0)
    return _Compressed(out, crc, size, compress_size)


def _copy_exact(src: BinaryIO, dst: _HashingWriter, length: int, what: str) -> None:
    remaining = length
    while remaining:
        block = src.read(min(remaining, _CHUNK))
        if not block:
            raise ArchiveError(f"{what} is truncated")
        dst.write(block)
        remaining -= len(block)


# zipfile's own layout of a local file header: signature, version needed, reserved, flags, method,
# time, date, CRC-32, sizes, and the lengths of the name and of the extra field.
_LOCAL = struct.Struct("<4s2B4HL2L2H")
_UTF8 = 0x800  # general purpose flag bit 11: the name is UTF-8
_ZIP64_LIMIT = (1 << 31) - 1  # zipfile's threshold: a member this large needs its ZIP64 header
_SLACK = 64  # extra-field bytes read with a member's local header and data, in the same read


class _Writer:
    """Appends entries to a ZipFile through its own file object.

    zipfile has no public call to add an already-compressed entry: it would inflate and deflate
    again, which costs more than everything else for a large bundle. The writer's
    ``filelist``/``NameToInfo``/``start_dir`` are what ``ZipFile.write`` itself uses, unchanged
    since Python 3.6, and zipfile still writes the central directory (and ZIP64 records). The
    local header is packed here as ``ZipInfo.FileHeader()`` packs it (a test holds them equal):
    at several thousand members that method's generality is a third of the archive's time.
    """

    def __init__(
        self, zf: zipfile.ZipFile, out: _HashingWriter, date_time: tuple[int, ...]
    ) -> None:
        self.zf = zf
        self.out = out
        self._wheels: dict[Path, BinaryIO] = {}
        year, month, day, hour, minute, second = date_time
        self._dos = ((hour << 11) | (minute << 5) | (second // 2),
                     ((year - 1980) << 9) | (month << 5) | day)  # fmt: skip

    def add(self, info: zipfile.ZipInfo, entry: Entry, reader: Reader) -> None:
        source = entry.source
        if isinstance(source, ZipMember) and source.compress_type in _RAW:
            info.compress_type = source.compress_type
            header = self._header(info, source.crc, source.file_size, source.compress_size)
            self._copy_member(source, header)
        else:
            with reader.open(entry) as raw:
                done = _deflate(raw)
            with done.stream:
                info.compress_type = zipfile.ZIP_DEFLATED
                self.out.write(self._header(info, done.crc, done.size, done.compress_size))
                _copy_exact(done.stream, self.out, done.compress_size, entry.path)
        self.zf.filelist.append(info)
        self.zf.NameToInfo[info.filename] = info
        self.zf.start_dir = self.out.tell()

    def _copy_member(self, source: ZipMember, header: bytes) -> None:
        """Write *header*, then the member's compressed bytes as its zip holds them."""
        stream = self._wheel(source.archive)
        stream.seek(source.header_offset)
        what = f"{source.archive.name}: {source.name}"
        small = source.compress_size <= _CHUNK
        # Most members: the local header and the data in one read; the name and extra field
        # lengths are only known once the header is read.
        want = 30 + len(source.name.encode()) + _SLACK + source.compress_size if small else 30
        buf = stream.read(want)
        if buf[:4] != b"PK\x03\x04":
            raise ArchiveError(f"{what} has no local header")
        start = 30 + int.from_bytes(buf[26:28], "little") + int.from_bytes(buf[28:30], "little")
        end = start + source.compress_size
        self.out.write(header)
        if small and end <= len(buf):
            with memoryview(buf) as view:
                self.out.write(view[start:end])
            return
        stream.seek(source.header_offset + start)
        _copy_exact(stream, self.out, source.compress_size, what)

    def _header(self, info: zipfile.ZipInfo, crc: int, size: int, compress_size: int) -> bytes:
        """The local header of *info*, which the caller writes next."""
        info.CRC = crc
        info.file_size = size
        info.compress_size = compress_size
        info.header_offset = self.out.tell()
        if size > _ZIP64_LIMIT or compress_size > _ZIP64_LIMIT:
            return info.FileHeader()
        try:
            name, flags = info.filename.encode("ascii"), info.flag_bits
        except UnicodeEncodeError:
            name, flags = info.filename.encode("utf-8"), info.flag_bits | _UTF8
        dostime, dosdate = self._dos
        return _LOCAL.pack(b"PK\x03\x04", 20, 0, flags, info.compress_type, dostime,
                           dosdate, crc, compress_size, size, len(name), 0) + name  # fmt: skip

    def _wheel(self, path: Path) -> BinaryIO:
        stream = self._wheels.get(path)
        if stream is None:
            stream = self._wheels[path] = path.open("rb")
        return stream

    def close(self) -> None:
        for stream in self._wheels.values():
            stream.close()


def write_zip(bundle: Bundle, destination: Path, *, into: Path | None = None) -> ArchiveInfo:
    """Zip every entry of *bundle* into *destination*, replacing it only once complete; or, with
    *into*, into that file, which the caller puts at *destination* (with its manifest).

    Entries are sorted, dated SOURCE_DATE_EPOCH (or hatchling's fixed default) and carry
    normalised permissions (0644, or 0755 for executables), so equal bundles give equal bytes.
    """
    date_time = zip_date_time()[0]
    try:
        with replacing(destination) if into is None else contextlib.nullcontext(into) as tmp:
            with tmp.open("wb") as raw, Reader() as reader:
                out = _HashingWriter(raw)
                try:
                    with zipfile.ZipFile(out, "w") as zf:  # type: ignore[call-overload]
                        writer = _Writer(zf, out, date_time)
                        try:
                            for path, entry in sorted(bundle.entries.items()):
                                info = zipfile.ZipInfo(path, date_time)
                                info.create_system = 3  # Unix, so permission bits are honoured
                                mode = 0o755 if entry.executable else 0o644
                                set_zip_info_mode(info, stat.S_IFREG | mode)
                                writer.add(info, entry, reader)
                        finally:
                            writer.close()
                    sha256 = out.close()
                finally:
                    out.abandon()
            tmp.chmod(0o644)
            if into is None:
                tmp.replace(destination)
    except OSError as exc:
        raise ArchiveError(os_problem(exc, f"write {destination.name} as")) from exc
    return ArchiveInfo(destination, out.position, sha256, len(bundle.entries), bundle.size)
