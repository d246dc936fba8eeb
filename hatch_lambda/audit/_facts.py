"""What the ELF rules need to know of each file, read from the entries themselves, and kept per
wheel by the wheel's digest so that a rebuild reads only what changed (the project's own files).

Reading a wheel for its facts is also when it is verified: every member is inflated once and
hashed against the wheel's RECORD, so a raw copy of a member later ships bytes that were checked.
"""

from __future__ import annotations

import hashlib
import tempfile
import zipfile
import zlib
from base64 import urlsafe_b64encode
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any, BinaryIO, Union

from installer.records import parse_record_file

from .._report import Reporter
from ..bundle import Entry, Reader, ZipMember
from ..cache import cache_key, load_json, store_json
from ..config import MAX_UNZIPPED_SIZE
from ..errors import InstallError
from ._elf import ELF_MAGIC, ElfInfo, read_elf

Fact = Union[ElfInfo, str, None]
"""An ELF file's facts, the reason it cannot be read, or None: no ELF file."""

_CHUNK = 1 << 20
_SPOOL = 32 << 20  # a larger shared object is parsed from a temporary file, not memory
_WORKERS = 2  # zlib and hashlib release the GIL: wheels are read side by side


def _parse(stream: BinaryIO, machine: str) -> Fact:
    try:
        return read_elf(stream, machine)
    except Exception as exc:  # a corrupt or truncated file must not stop the audit of the rest
        return str(exc) or type(exc).__name__


def _encode(fact: Fact) -> Any:
    return fact if fact is None or isinstance(fact, str) else asdict(fact)


def _decode(data: Any) -> Fact:
    if data is None or isinstance(data, str):
        return data
    glibc = data.get("glibc")
    return ElfInfo(**{**data, "glibc": tuple(glibc) if glibc else None})


def _digest(data: bytes) -> str:
    return urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _read_wheel(wheel: Path, machine: str) -> dict[str, Fact]:
    """Inflate every member once: hash it against RECORD, and parse it if it is an ELF file."""
    try:
        return _read_members(wheel, machine)
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error, ValueError, RuntimeError,
            NotImplementedError) as exc:  # fmt: skip
        raise InstallError(
            f"cannot read {wheel.name}: {exc}. The file is damaged: delete it from the cache "
            "(hatch-lambda fetches it again) or rebuild the wheel"
        ) from exc


def _read_members(wheel: Path, machine: str) -> dict[str, Fact]:
    facts: dict[str, Fact] = {}
    with zipfile.ZipFile(wheel) as zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        # Nothing larger can ship, and inflating it first would cost what a zip bomb asks for.
        too_large = next((i for i in infos if i.file_size > MAX_UNZIPPED_SIZE), None)
        if too_large is not None:
            raise InstallError(
                f"{wheel.name}: {too_large.filename} declares {too_large.file_size:,} bytes "
                f"unzipped, more than Lambda's {MAX_UNZIPPED_SIZE:,}-byte limit for a whole "
                "function: a damaged or malicious wheel, or one Lambda cannot take; use another "
                "release"
            )
        record = next((i for i in infos if i.filename.count("/") == 1
                       and i.filename.endswith(".dist-info/RECORD")), None)  # fmt: skip
        rows = parse_record_file(zf.read(record).decode().splitlines()) if record else []
        hashes = {row[0]: row[1] for row in rows}
        for info in infos:
            expected = hashes.get(info.filename, "")
            algorithm, _, value = expected.partition("=")
            digest = (
                hashlib.new(algorithm)
                if value and algorithm in hashlib.algorithms_guaranteed
                else None
            )
            with zf.open(info) as member, tempfile.SpooledTemporaryFile(_SPOOL) as spool:
                block = member.read(_CHUNK)
                elf = block[:4] == ELF_MAGIC
                while block:
                    if digest is not None:
                        digest.update(block)
                    if elf:
                        spool.write(block)
                    block = member.read(_CHUNK)
                if elf:
                    spool.seek(0)
                    facts[info.filename] = _parse(spool, machine)  # type: ignore[arg-type]
            if digest is not None and _digest(digest.digest()) != value:
                raise InstallError(
                    f"{wheel.name} is damaged or was altered: {info.filename} does not match the "
                    f"{algorithm} hash its RECORD gives. Delete the file (hatch-lambda fetches it "
                    "again) or rebuild the wheel"
                )
    return facts


class ElfFacts:
    """The ELF facts of entries. Members of the wheels in *digests* (path -> sha256) are read a
    wheel at a time and kept in the cache under that digest; anything else is read on demand."""

    def __init__(
        self, reader: Reader, machine: str, digests: Mapping[Path, str] = {},
        reporter: Reporter | None = None,
    ) -> None:  # fmt: skip
        self.reader = reader
        self.reporter = reporter
        self.machine = machine
        self.digests = dict(digests)
        self._wheels: dict[Path, dict[str, Fact]] = {}

    def prepare(self, wheels: Iterable[Path]) -> None:
        """Read the given wheels' facts, several at once, where the cache does not have them."""
        todo = [w for w in dict.fromkeys(wheels) if w in self.digests and w not in self._wheels]
        missing = [w for w in todo if not self._load(w)]
        with ThreadPoolExecutor(_WORKERS) as pool:
            for wheel, facts in zip(
                missing, pool.map(lambda w: _read_wheel(w, self.machine), missing)
            ):
                self._wheels[wheel] = facts
                store_json("facts", self._key(wheel), {m: _encode(f) for m, f in facts.items()},
                           self.reporter)  # fmt: skip

    def _key(self, wheel: Path) -> str:
        return cache_key("facts", self.digests[wheel], self.machine)

    def _load(self, wheel: Path) -> bool:
        data = load_json("facts", self._key(wheel), self.reporter)
        if not isinstance(data, dict):
            return False
        try:
            self._wheels[wheel] = {m: _decode(f) for m, f in data.items()}
        except (TypeError, ValueError, AttributeError):
            return False
        return True

    def of(self, entry: Entry) -> Fact:
        source = entry.source
        if isinstance(source, ZipMember) and source.archive in self.digests:
            if source.archive not in self._wheels:
                self.prepare([source.archive])
            return self._wheels[source.archive].get(source.name)
        if entry.path.endswith(".pyc"):
            return None  # bytecode compiled for the bundle: never loaded as a shared object
        with self.reader.open(entry) as stream:
            head = stream.read(4)
            if head != ELF_MAGIC:
                return None
            with tempfile.SpooledTemporaryFile(_SPOOL) as spool:
                spool.write(head)
                for block in iter(lambda: stream.read(_CHUNK), b""):
                    spool.write(block)
                spool.seek(0)
                return _parse(spool, self.machine)  # type: ignore[arg-type]


__all__ = ["ElfFacts", "Fact"]
