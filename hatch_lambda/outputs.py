"""Where artifacts go and what they are called; the wheelhouse kind, which is a folder."""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from packaging.utils import canonicalize_name, parse_wheel_filename

from .cache import sha256_file
from .config import ArtifactConfig, LambdaConfig
from .wheelhouse import Wheel


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


def remove_artifacts(directory: Path, project_name: str) -> list[Path]:
    """Delete this project's Lambda artifacts (zips, manifests, wheelhouses) in *directory*."""
    pattern = re.compile(rf"^{re.escape(_escape(project_name))}{_ARTIFACT_FILE}", re.IGNORECASE)
    removed = []
    if directory.is_dir():
        for path in sorted(directory.iterdir()):
            if not pattern.match(path.name):
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
    return removed


def output_directory(config: LambdaConfig, project_root: Path, wheel_directory: Path) -> Path:
    """Where a relative ``directory`` points: the project root, as for any Hatch setting.

    The exception is a build from an unpacked sdist (``python -m build`` does that in a temporary
    folder that is deleted afterwards): there the artifact goes beside the wheel's output folder,
    which is the project's ``dist/``.
    """
    in_sdist = (project_root / "PKG-INFO").is_file()
    base = wheel_directory.resolve().parent if in_sdist else project_root
    return (base / config.directory).resolve()


def write_wheelhouse(
    selected: Mapping[str, Sequence[Wheel]],
    project: Wheel | None,
    staging: Path,
    destination: Path,
) -> dict[str, object]:
    """The wheels of each runtime in one folder with a hash-pinned ``requirements.txt``, put at
    *destination* once whole; returns what the manifest says of it."""
    staging.mkdir(parents=True)
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
        hashes = " ".join(f"--hash=sha256:{sha256_file(p)}" for p, _ in sorted(entries))
        lines.append(f"{name}=={version}{marker} {hashes}\n")
        for path, _ in entries:
            shutil.copy2(path, staging / path.name)
    (staging / "requirements.txt").write_text("".join(lines), encoding="utf-8")
    _replace_folder(staging, destination)
    size = sum(p.stat().st_size for p in destination.iterdir())
    folder = destination.name
    return {
        "folder": folder,
        "files": len(files) + 1,
        "size": size,
        "install": f"pip install --no-index --find-links {folder} -r {folder}/requirements.txt",
    }


def _replace_folder(staging: Path, destination: Path) -> None:
    """Put *staging* at *destination*, replacing an earlier folder only once the new one is whole."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    old = destination.with_name(f".{destination.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if destination.exists():
        destination.rename(old)
    shutil.move(str(staging), destination)
    shutil.rmtree(old, ignore_errors=True)
