"""Opens any Lambda artifact (function zip, layer zip, or folder) for the audit, with the rules
that belong to the archive itself: no absolute or escaping paths, no symlinks leaving it."""

from __future__ import annotations

import contextlib
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..errors import AuditError
from . import Finding


@dataclass
class OpenedArtifact:
    root: Path
    """The artifact's top folder, on disk."""
    layer: bool
    """Laid out as a layer (everything under ``python/``)."""
    findings: list[Finding] = field(default_factory=list)
    zipped_sizes: dict[str, int] = field(default_factory=dict)
    """Compressed bytes by entry, for zips."""

    def site_roots(self, python_version: str) -> list[Path]:
        """The folders Lambda puts on ``sys.path`` for this artifact, in its order."""
        if not self.layer:
            return [self.root]
        own = self.root / "python" / "lib" / f"python{python_version}" / "site-packages"
        return [p for p in (own, self.root / "python") if p.is_dir()]


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


@contextlib.contextmanager
def open_artifact(path: Path) -> Iterator[OpenedArtifact]:
    """Yield the artifact unpacked (a zip) or as it is (a folder)."""
    if path.is_dir():
        opened = OpenedArtifact(path, layer=_is_layer([p.name for p in path.iterdir()]))
        for link in sorted(p for p in path.rglob("*") if p.is_symlink()):
            rel = link.relative_to(path).as_posix()
            points_to = link.readlink()
            if not (link.parent / points_to).resolve().is_relative_to(path.resolve()):
                opened.findings.append(
                    Finding("archive-symlink", rel, f"points to {points_to}, outside the artifact")
                )
        yield opened
        return
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise AuditError(str(path), [f"cannot be opened as a zip: {exc}"]) from exc
    with archive, tempfile.TemporaryDirectory(prefix="hatch-lambda-check-") as tmp:
        root = Path(tmp)
        infos = archive.infolist()
        opened = OpenedArtifact(root, layer=_is_layer([i.filename.split("/", 1)[0] for i in infos]))
        for info in infos:
            problem = _zip_entry_problem(info)
            if problem:
                opened.findings.append(Finding(problem[0], info.filename, problem[1]))
                continue
            opened.zipped_sizes[info.filename] = info.compress_size
            if not info.is_dir():
                archive.extract(info, root)
        yield opened


def _is_layer(top_names: list[str]) -> bool:
    tops = {n for n in top_names if n}
    return tops == {"python"}
