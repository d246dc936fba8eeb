"""Where artifacts go and what they are called; the wheelhouse kind, which is a folder."""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name, parse_wheel_filename

from ._scratch import beside, folder_beside, remove_quietly, sweep, sweep_system
from .cache import cache_root, copy_hashed
from .config import ArtifactConfig, LambdaConfig
from .errors import ConfigError
from .wheelhouse import Wheel

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def _escape(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name)


def artifact_stem(project_wheel: Path, artifact: ArtifactConfig) -> str:
    name, version, _, _ = parse_wheel_filename(project_wheel.name)
    named = f"-{artifact.name}" if artifact.name else ""
    runtimes = "+".join(artifact.all_runtimes)
    return f"{_escape(name)}-{version}{named}-{runtimes}-{artifact.architecture}"


_ARTIFACT_FILE = (
    r"-[^-]+(-[a-z0-9][a-z0-9_-]*)?-python3\.\d+(\+python3\.\d+)*-(x86_64|arm64)"
    r"(\.zip|\.json|-wheelhouse)$"
)


def remove_artifacts(
    directory: Path, project_name: str, names: Collection[str] | None = None
) -> list[Path]:
    """Delete this project's Lambda artifacts (zips, manifests, wheelhouses) in *directory*;
    with *names*, only those of the artifacts so named."""
    pattern = re.compile(rf"^{re.escape(_escape(project_name))}{_ARTIFACT_FILE}", re.IGNORECASE)
    removed = []
    if directory.is_dir():
        for path in sorted(directory.iterdir()):
            found = pattern.match(path.name)
            if not found or (names is not None and (found[1] or "-")[1:] not in names):
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
    return removed


@dataclass(frozen=True)
class OutputFolder:
    path: Path
    note: str | None = None
    """Said in the output: the folder is outside the project."""


def _names_project(folder: Path, project_name: str) -> bool:
    try:
        data = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))
        name = data["project"]["name"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return isinstance(name, str) and canonicalize_name(name) == canonicalize_name(project_name)


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def output_folder(
    directory: str, *, project_root: Path, wheel_directory: Path, project_name: str, key: str
) -> OutputFolder:
    """Where the artifacts go: ``directory``, relative to the project's folder, as for any Hatch
    setting. Never into the wheel's own output folder, where ``twine upload dist/*`` would refuse
    them.

    ``python -m build`` builds the wheel from an unpacked copy of the sdist in a temporary folder.
    The project's folder is then the one that holds its ``pyproject.toml`` among the wheel's output
    folder (``--outdir .``), the folder above it (the default ``dist/``) and the folder the build
    was started from; if none does, a relative ``directory`` has no safe meaning, and the build
    stops rather than write outside the project.
    """
    root = project_root.resolve()
    wheels = wheel_directory.resolve()
    if (project_root / "PKG-INFO").is_file() and not Path(directory).is_absolute():
        started = os.environ.get("PWD")
        candidates = [wheels, wheels.parent, *([Path(started).resolve()] if started else [])]
        found = next((c for c in candidates if _names_project(c, project_name)), None)
        if found is None:
            raise ConfigError([
                f"{key}.directory = {directory!r} is relative to the project's folder, which "
                f"this build cannot see: it runs from an unpacked sdist, and {wheels} (the "
                "wheel's output folder) is not in the project. Build from the project's folder, "
                "or set directory to an absolute path"
            ])  # fmt: skip
        root = found
    path = (root / directory).resolve()
    if path == wheels or (wheels != root and _is_within(path, wheels)):
        raise ConfigError([
            f"{key}.directory = {directory!r} puts the Lambda artifacts into {wheels}, the wheel's "
            "own output folder: `twine upload` of that folder would refuse the zips and manifests. "
            "Use a folder of their own, such as the default 'dist-lambda'"
        ])  # fmt: skip
    note = None
    if not _is_within(path, root):
        note = f"Lambda artifacts go to {path}, outside the project ({root}), as configured"
    return OutputFolder(path, note)


def output_directory(config: LambdaConfig, project_root: Path, wheel_directory: Path) -> Path:
    """The output folder, for cleaning: where a build would write, or the best guess of it."""
    try:
        return output_folder(
            config.directory, project_root=project_root, wheel_directory=wheel_directory,
            project_name="", key="directory",
        ).path  # fmt: skip
    except ConfigError:
        return (project_root / config.directory).resolve()


class ArtifactPair:
    """An artifact and its manifest, written under temporary names and put in place as a pair.

    The old manifest goes first and the new one comes last, so a manifest never describes bytes
    that are not beside it: a build stopped in between leaves an artifact without a manifest,
    which the next build puts right (it rewrites the manifest, or both).
    """

    def __init__(self, artifact: Path, manifest: Path) -> None:
        self.artifact = artifact
        self.manifest = manifest
        self.artifact_tmp = beside(artifact)
        self.manifest_tmp = beside(manifest)

    def commit(self, *, artifact: bool = True) -> None:
        """Put the new manifest in place, and the new artifact with it unless *artifact* is
        false (the one already there holds the same bytes)."""
        if artifact:
            remove_quietly(self.manifest)
            self.artifact_tmp.chmod(0o644)
            self.artifact_tmp.replace(self.artifact)
        self.manifest_tmp.chmod(0o644)
        self.manifest_tmp.replace(self.manifest)

    def __enter__(self) -> ArtifactPair:
        return self

    def __exit__(self, *exc: object) -> None:
        remove_quietly(self.artifact_tmp)
        remove_quietly(self.manifest_tmp)


def remove_debris(directory: Path) -> list[Path]:
    """What interrupted builds left behind: temporary files and folders in the output folder
    *directory*, in the cache and in the system's temporary folder."""
    return [*sweep(directory, "."), *sweep(cache_root() / "tmp"), *sweep_system()]


def write_wheelhouse(
    selected: Mapping[str, Sequence[Wheel]],
    project: Wheel | None,
    destination: Path,
) -> tuple[Path, dict[str, object]]:
    """The wheels of each runtime in a new folder beside *destination*, with a hash-pinned
    ``requirements.txt``; returns it and what the manifest says of it."""
    staging = folder_beside(destination, destination.name)
    files: dict[str, tuple[str, str, Path, list[str]]] = {}
    for rt, wheels in selected.items():
        for w in [*wheels, *([project] if project else [])]:
            files.setdefault(w.path.name, (w.name, w.version, w.path, []))[3].append(rt)
    by_pin: dict[tuple[str, str], list[tuple[Path, list[str]]]] = {}
    for name, version, path, rts in files.values():
        by_pin.setdefault((canonicalize_name(name), version), []).append((path, rts))
    lines = []
    for (name, version), entries in sorted(by_pin.items()):
        rts = sorted({rt for _, r in entries for rt in r})
        marker = ""
        if len(rts) < len(selected):
            # Several runtimes may need different releases: each pin says which it is for.
            marker = " ; " + " or ".join(f"python_version == '{rt[6:]}'" for rt in rts)
        hashes = []
        for path, _ in sorted(entries):
            # Hashed as copied: the pins vouch for the bytes in the folder, wherever they came from.
            hashes.append(f"--hash=sha256:{copy_hashed(path, staging / path.name)}")
        lines.append(f"{name}=={version}{marker} {' '.join(hashes)}\n")
    (staging / "requirements.txt").write_text("".join(lines), encoding="utf-8")
    size = sum(p.stat().st_size for p in staging.iterdir())
    folder = destination.name
    return staging, {
        "folder": folder,
        "files": len(files) + 1,
        "size": size,
        "install": f"pip install --no-index --find-links {folder} -r {folder}/requirements.txt",
    }


def place_wheelhouse(staging: Path, destination: Path, pair: ArtifactPair) -> None:
    """Put the folder *staging* at *destination* and the pair's manifest beside it: the old
    manifest goes first, the new one comes last, as for a zip."""
    remove_quietly(pair.manifest)
    old = folder_beside(destination, f"{destination.name}.old")
    try:
        if destination.exists():
            old.rmdir()
            destination.rename(old)
        staging.rename(destination)
    finally:
        shutil.rmtree(old, ignore_errors=True)
    pair.commit(artifact=False)
