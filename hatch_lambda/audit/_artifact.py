"""Opens any Lambda artifact (function zip, layer zip, or folder) as a bundle, never extracting
it, with the rules that belong to the archive itself: no absolute or escaping paths, no symlinks
leaving it, no name twice, no name both a file and a folder, no member Lambda cannot unpack.
Which distribution owns each file comes from the RECORD files inside."""

from __future__ import annotations

import csv
import dataclasses
import os
import posixpath
import stat
import zipfile
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from packaging.utils import canonicalize_name

from ..bundle import LAYER_SITE, Bundle, Entry, OnDisk, Reader, ZipMember, member_problem
from ..errors import AuditError, UnreadableError
from ._finding import Finding
from ._members import entry_finding, read_lines


@dataclass
class OpenedArtifact:
    bundle: Bundle
    layer: bool
    """Laid out as a layer (everything under ``python/``)."""
    findings: list[Finding] = field(default_factory=list)
    zipped_sizes: dict[str, int] = field(default_factory=dict)
    """Compressed bytes by entry, for zips."""

    def sites(self, python_version: str) -> tuple[str, ...]:
        """The folders Lambda puts on ``sys.path`` for this artifact, in its order."""
        if not self.layer:
            return ("",)
        own = f"python/lib/python{python_version}/site-packages/"
        has_own = any(p.startswith(own) for p in self.bundle.entries)
        return (own, "python/") if has_own else ("python/",)


def _zip_entry_problem(info: zipfile.ZipInfo) -> tuple[str, str] | None:
    name = info.filename
    if "\\" in name:
        return "archive-paths", "uses '\\' in its path; Lambda unpacks with '/' separators"
    path = PurePosixPath(name)
    if path.is_absolute() or (len(name) > 1 and name[1] == ":"):
        return "archive-paths", "is an absolute path"
    if ".." in path.parts:
        return "archive-paths", "climbs out of the archive with '..'"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "archive-symlink", "is a symbolic link; Lambda zips should hold regular files"
    return None


def _file_and_folder(names: list[str], files: Collection[str]) -> list[Finding]:
    """Files that are also the folder of another name: unzip cannot make both."""
    inside: dict[str, str] = {}
    for name in names:
        # A folder entry `a/b/` splits into a, b and "": a/b is a folder, as for a file `a/b/c`.
        parts = name.split("/")
        for i in range(1, len(parts)):
            inside.setdefault("/".join(parts[:i]), name)
    return [
        Finding(
            "archive-paths",
            name,
            f"is a file, and {inside[name]} needs a folder of the same name; unzip cannot make "
            "both, so one of them is lost. Rename one of them",
        )
        for name in sorted(files)
        if name in inside
    ]


def _from_zip(path: Path, max_size: int | None) -> OpenedArtifact:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        raise AuditError(str(path), [f"cannot be opened as a zip: {exc}"]) from exc
    findings: list[Finding] = []
    entries: dict[str, Entry] = {}
    zipped: dict[str, int] = {}
    for info in infos:
        problem = _zip_entry_problem(info)
        if problem:
            findings.append(Finding(problem[0], info.filename, problem[1]))
            continue
        if info.is_dir():
            continue
        if info.filename in entries:
            findings.append(
                Finding(
                    "archive-paths",
                    info.filename,
                    "appears twice in the zip; which copy Lambda unpacks last is not defined",
                )
            )
            continue
        # Kept in the bundle, so that its size counts; the Reader refuses to inflate it.
        refused = member_problem(info, max_size)
        if refused:
            findings.append(entry_finding(info.filename, refused))
        executable = bool(info.external_attr >> 16 & 0o111)
        entries[info.filename] = Entry(info.filename, ZipMember.from_info(path, info), executable)
        zipped[info.filename] = info.compress_size
    findings += _file_and_folder([i.filename for i in infos], entries)
    layer = {n.split("/", 1)[0] for n in entries} == {"python"}
    return OpenedArtifact(Bundle(entries), layer, findings, zipped)


def _from_folder(root: Path) -> OpenedArtifact:
    findings: list[Finding] = []
    entries: dict[str, Entry] = {}
    resolved = root.resolve()
    # os.walk does not follow symlinked folders, so a link loop cannot hang the audit.
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in [*files, *(d for d in dirs if Path(folder, d).is_symlink())]:
            path = Path(folder, name)
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                points_to = path.readlink()
                try:
                    inside = (path.parent / points_to).resolve().is_relative_to(resolved)
                except (RuntimeError, OSError):  # a loop: RuntimeError before Python 3.13
                    findings.append(Finding("archive-symlink", rel, f"points to {points_to}, "
                                            "a chain of links that never ends"))  # fmt: skip
                    continue
                if not inside:
                    findings.append(
                        Finding(
                            "archive-symlink", rel, f"points to {points_to}, outside the artifact"
                        )
                    )
                    continue
            if path.is_file():
                executable = bool(path.stat().st_mode & 0o100)
                entries[rel] = Entry(rel, OnDisk(path, path.stat().st_size), executable)
    layer = {n.split("/", 1)[0] for n in entries} == {"python"}
    return OpenedArtifact(Bundle(entries), layer, findings)


def _with_owners(opened: OpenedArtifact, reader: Reader) -> OpenedArtifact:
    """Each file's distribution, as the RECORD files at the top of each site folder say."""
    entries = dict(opened.bundle.entries)
    records = sorted(
        p for p in entries
        if p.endswith(".dist-info/RECORD") and _is_site(posixpath.dirname(posixpath.dirname(p)))
    )  # fmt: skip
    for record in records:
        site = posixpath.dirname(posixpath.dirname(record))
        prefix = f"{site}/" if site else ""
        # `numpy-2.2.6.dist-info`: the name runs to the first "-", the version from there.
        folder = posixpath.basename(posixpath.dirname(record))[: -len(".dist-info")]
        name, _, version = folder.partition("-")
        owner = f"{canonicalize_name(name)} {version}"
        try:
            with reader.open(entries[record]) as stream:
                for row in csv.reader(read_lines(stream)):
                    if not row or not row[0]:
                        continue
                    path = posixpath.normpath(prefix + row[0])
                    entry = entries.get(path)
                    if entry is not None and entry.owner is None:
                        entries[path] = dataclasses.replace(entry, owner=owner, record=record)
        except UnreadableError as exc:
            opened.findings.append(entry_finding(record, exc.reason))
        except csv.Error:
            pass  # a quoted field that never ends: the rows before it are owned all the same
    opened.bundle = dataclasses.replace(opened.bundle, entries=entries)
    return opened


def _is_site(folder: str) -> bool:
    return folder in ("", "python") or bool(LAYER_SITE.fullmatch(folder + "/"))


def open_artifact(path: Path, reader: Reader) -> OpenedArtifact:
    """The artifact at *path* (a zip or a folder) as a bundle."""
    opened = _from_folder(path) if path.is_dir() else _from_zip(path, reader.max_size)
    return _with_owners(opened, reader)
