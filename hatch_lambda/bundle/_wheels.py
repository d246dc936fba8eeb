"""The plan of one wheel: which of its files reach the folder Python imports from, by path.

installer decides where each file of a wheel goes (root scheme, ``.data/`` folders, the
``__pycache__`` rule), as it would for a real install; the destination below only records the
decisions. Files are never read here: each entry points at its member in the wheel, to be copied
compressed into the archive, and carries the hash the wheel's RECORD gives it.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import stat
import warnings
import zipfile
import zlib
from base64 import urlsafe_b64encode
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

from installer import install
from installer.destinations import WheelDestination
from installer.exceptions import InstallerError
from installer.records import RecordEntry, parse_record_file
from installer.sources import WheelContentElement, WheelFile

from .._report import Reporter
from ..errors import InstallError
from ._entries import Distribution, Entry, Generated, ZipMember

INSTALLER_NAME = b"hatch-lambda\n"
# What Lambda imports; scripts, headers and data files of a wheel never reach a bundle.
_IMPORTED_SCHEMES = ("purelib", "platlib")


class _Member:
    """Stands in for a member's stream: installer hands it to the destination unread."""

    def __init__(self, member: ZipMember, record_hash: str) -> None:
        self.member = member
        self.record_hash = record_hash


class _MemberSource(WheelFile):
    """installer's wheel source, yielding members instead of opened streams."""

    def __init__(self, f: zipfile.ZipFile, path: Path, label: str) -> None:
        super().__init__(f)
        self._zip = f
        self._path = path
        self._label = label

    def get_contents(self) -> Iterator[WheelContentElement]:
        rows = parse_record_file(self.read_dist_info("RECORD").splitlines())
        records = {row[0]: row for row in rows}
        for info in self._zip.infolist():
            if info.filename.endswith("/"):
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                # Copied as it is, the member would ship as a file holding the link's target path.
                raise InstallError(
                    f"{self._label}: {self._path.name} holds {info.filename!r} as a symbolic "
                    "link, and a Lambda zip holds regular files only. Use another release, or "
                    "rebuild the wheel with the file itself in place of the link"
                )
            if info.flag_bits & 0x1:  # encrypted: the bytes are not the file
                raise InstallError(
                    f"{self._label}: {self._path.name} holds {info.filename!r} encrypted, and "
                    "no installer can read it. Use another release, or rebuild the wheel "
                    "without a password"
                )
            row = records.get(info.filename, (info.filename, "", ""))
            member = _Member(ZipMember.from_info(self._path, info), row[1])
            executable = bool(info.external_attr >> 16 & 0o111)
            yield row, cast("BinaryIO", member), executable


class _Recorder(WheelDestination):
    """A destination that writes nothing: it keeps, for each path, where its bytes are."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.entries: dict[str, Entry] = {}

    def write_script(self, name: str, module: str, attr: str, section: str) -> RecordEntry:
        return RecordEntry(name, None, None)

    def write_file(
        self, scheme: Any, path: str | os.PathLike[str], stream: BinaryIO, is_executable: bool
    ) -> RecordEntry:
        path = os.fspath(path)
        if scheme not in _IMPORTED_SCHEMES:
            return RecordEntry(path, None, None)
        normal = posixpath.normpath(path)
        if normal.startswith(("/", "../")) or normal == ".." or "\\" in path:
            raise InstallError(f"{self.label} holds {path!r}, a path outside the install folder")
        if isinstance(stream, _Member):
            member = stream.member
            entry = Entry(normal, member, is_executable, stream.record_hash, self.label)
        else:  # metadata installer adds (INSTALLER): a few bytes
            data = stream.read()
            entry = Entry(normal, Generated(data), is_executable, record_hash(data), self.label)
        self.entries[normal] = entry
        return RecordEntry(normal, None, entry.size)

    def finalize_installation(self, scheme: Any, record_file_path: str, records: Any) -> None:
        """RECORD is written for the bundle once its files are final."""


def record_hash(data: bytes) -> str:
    digest = urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
    return f"sha256={digest}"


def plan_wheel(
    wheel: Path, name: str, version: str, *, sha256: str | None, reporter: Reporter
) -> Distribution:
    """The files *wheel* puts where Python imports from, with INSTALLER added, RECORD left out."""
    label = f"{name} {version}"
    recorder = _Recorder(label)
    try:
        with zipfile.ZipFile(wheel) as zf, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            source = _MemberSource(zf, wheel, label)
            source.validate_record(validate_contents=False)
            install(source, recorder, {"INSTALLER": INSTALLER_NAME})
            dist_info = source.dist_info_dir
    except (InstallerError, ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error, KeyError,
            RuntimeError, NotImplementedError) as exc:  # fmt: skip
        raise InstallError(f"cannot install {label} from {wheel.name}: {exc}") from exc
    for warning in caught:  # installer skips files in __pycache__/, which wheels should not hold
        reporter.debug(f"  {wheel.name}: {warning.message}", level=2)
    record = f"{dist_info}/RECORD"
    entries = {
        path: Entry(e.path, e.source, e.executable, e.hash, e.owner, record)
        for path, e in recorder.entries.items()
    }
    return Distribution(name, version, wheel, sha256, dist_info, entries)


__all__ = ["INSTALLER_NAME", "plan_from_json", "plan_to_json", "plan_wheel", "record_hash"]


def plan_to_json(dist: Distribution) -> dict[str, object]:
    """A plan as plain data, to keep by the wheel's digest: a wheel's plan never changes."""
    rows = []
    for path, e in dist.entries.items():
        source = e.source
        if isinstance(source, ZipMember):
            member = [source.name, source.compress_type, source.crc, source.compress_size,
                      source.file_size, source.header_offset]  # fmt: skip
            rows.append([path, e.executable, e.hash, *member])
        else:
            assert isinstance(source, Generated)
            rows.append([path, e.executable, e.hash, source.data.decode("latin-1")])
    return {"dist-info": dist.dist_info, "entries": rows}


def plan_from_json(
    data: object, wheel: Path, name: str, version: str, sha256: str
) -> Distribution | None:
    """The plan kept by :func:`plan_to_json`, for *wheel*; None if *data* is not one."""
    try:
        assert isinstance(data, dict)
        dist_info = data["dist-info"]
        label, record = f"{name} {version}", f"{dist_info}/RECORD"
        entries = {}
        for row in data["entries"]:
            path, executable, hash_ = row[:3]
            source = (
                ZipMember(wheel, *row[3:]) if len(row) == 9 else Generated(row[3].encode("latin-1"))
            )
            entries[path] = Entry(path, source, executable, hash_, label, record)
    except (AssertionError, KeyError, TypeError, ValueError, AttributeError):
        return None
    return Distribution(name, version, wheel, sha256, dist_info, entries)
