"""The folders Lambda runs a function in, made locally: the function's zip unpacked where
/var/task would be, its layers in turn where /opt would be, and the paths its runtime puts on
``sys.path`` and in the environment."""

from __future__ import annotations

import posixpath
import shutil
import stat
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..config import MAX_UNZIPPED_SIZE
from ..errors import HatchLambdaError


@dataclass(frozen=True)
class Layout:
    """Local folders standing for Lambda's: ``task`` for /var/task, ``opt`` for /opt and
    ``runtime`` for /var/runtime."""

    root: Path

    @property
    def task(self) -> Path:
        return self.root / "var" / "task"

    @property
    def opt(self) -> Path:
        return self.root / "opt"

    @property
    def runtime(self) -> Path:
        return self.root / "var" / "runtime"

    def sys_path(self, python: str) -> list[str]:
        """What Lambda's Python runtime puts before the standard library, in its order; *python*
        is ``3.X``. (The runtime's own site-packages, with boto3, follows on Lambda: locally
        there is none.)"""
        return [
            str(self.task),
            str(self.opt / "python" / "lib" / f"python{python}" / "site-packages"),
            str(self.opt / "python"),
        ]

    def renames(self) -> list[tuple[str, str]]:
        """The local folders and the paths Lambda shows for them, most specific first."""
        return [(str(self.task), "/var/task"), (str(self.runtime), "/var/runtime"),
                (str(self.opt), "/opt")]  # fmt: skip


def make_layout(root: Path, function: Path, layers: Sequence[Path]) -> Layout:
    """Unpack *function* into the task folder and each of *layers* in turn into the opt folder
    (a later layer's file replaces an earlier one's, as on Lambda)."""
    layout = Layout(root)
    for folder in (layout.task, layout.opt, layout.runtime):
        folder.mkdir(parents=True)
    budget = MAX_UNZIPPED_SIZE
    budget -= _unpack(function, layout.task, budget)
    for layer in layers:
        budget -= _unpack(layer, layout.opt, budget)
    return layout


def _members(path: Path, zf: zipfile.ZipFile, budget: int) -> tuple[list[zipfile.ZipInfo], int]:
    members = zf.infolist()
    size = sum(m.file_size for m in members)
    if size > budget:
        raise HatchLambdaError(
            f"{path} unzips to {size:,} bytes, and a function with its layers may unzip to "
            f"{MAX_UNZIPPED_SIZE:,} at most, so Lambda would refuse it; `hatch-lambda check` "
            "lists what takes the room"
        )
    for m in members:
        name = m.filename
        parts = name.split("/")
        if name.startswith("/") or "\\" in name or ".." in parts or ":" in parts[0]:
            raise HatchLambdaError(
                f"{path} holds {name!r}, a path outside the folder it unpacks into; Lambda "
                "would refuse the zip. Rebuild it without that member"
            )
    return members, size


def _unpack(path: Path, into: Path, budget: int) -> int:
    """Unpack the zip at *path* into *into*, keeping the modes the zip records; its unzipped size."""
    try:
        with zipfile.ZipFile(path) as zf:
            members, size = _members(path, zf, budget)
            for m in members:
                _extract(zf, m, into)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise HatchLambdaError(
            f"{path} is not a zip Lambda can unpack ({exc}); build it again, or give the "
            "function's zip"
        ) from exc
    except NotImplementedError as exc:  # a compression method or an encryption zipfile lacks
        raise HatchLambdaError(
            f"{path} cannot be unpacked: {exc}; zip it again with deflate and no password"
        ) from exc
    except RuntimeError as exc:  # an encrypted member
        raise HatchLambdaError(
            f"{path} cannot be unpacked: {exc}; Lambda cannot unpack encrypted members either, "
            "zip it again without a password"
        ) from exc
    return size


def _extract(zf: zipfile.ZipFile, member: zipfile.ZipInfo, into: Path) -> None:
    target = into.joinpath(*[p for p in member.filename.split("/") if p])
    mode = member.external_attr >> 16
    if member.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.is_file():
        target.unlink()  # a later layer's file replaces an earlier one's
    if stat.S_ISLNK(mode):
        link = zf.read(member).decode("utf-8", "replace")
        inside = posixpath.normpath(posixpath.join(posixpath.dirname(member.filename), link))
        if link.startswith("/") or inside.startswith(".."):
            raise HatchLambdaError(
                f"{member.filename} is a symbolic link to {link}, outside the folder it "
                "unpacks into; rebuild the zip without it"
            )
        target.symlink_to(link)
        return
    with zf.open(member) as source, target.open("wb") as sink:
        shutil.copyfileobj(source, sink)
    permissions = stat.S_IMODE(mode)
    if permissions:
        target.chmod(permissions | stat.S_IRUSR)
