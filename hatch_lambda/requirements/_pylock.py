"""Reads PEP 751 locks (``pylock.toml``, and ``uv.lock`` through ``uv export``) into pins."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from pathlib import Path

from packaging.markers import Environment
from packaging.pylock import Package, Pylock, PylockValidationError
from packaging.utils import canonicalize_name
from packaging.version import Version

from .._markers import evaluate
from ..errors import RequirementsError
from . import LocalSource, LockedFile, LockedSet, Pin
from ._local import from_path
from ._shape import Shape, load_toml

_FIX = (
    "Write it again with the tool that made it (`uv export --format pylock.toml`, `pip lock`, "
    "`pdm export --format pylock`), or restore it from version control"
)


def load_pylock(path: Path, fix: str = _FIX) -> Pylock:
    shape = Shape(path.name, fix)
    data = load_toml(path, shape)
    try:
        return Pylock.from_dict(data)
    except PylockValidationError as exc:
        raise shape.fail(f"{path.name} is not a valid PEP 751 lock: {exc}") from exc


def _files(package: Package) -> tuple[LockedFile, ...]:
    files = [
        LockedFile(w.filename, w.url or w.path, dict(w.hashes)) for w in (package.wheels or ())
    ]
    if package.sdist is not None:
        sdist = package.sdist
        files.append(LockedFile(sdist.filename, sdist.url or sdist.path, dict(sdist.hashes)))
    return tuple(files)


def pins_from_pylock(
    lock: Pylock,
    *,
    where: str,
    environment: Environment,
    extras: Collection[str] = (),
    groups: Collection[str] | None = None,
    skip: Iterable[str] = (),
    local: list[LocalSource] | None = None,
    base: Path | None = None,
) -> list[Pin]:
    """The packages of *lock* that the target needs, each with every file the lock offers.

    Marker, extras and groups follow PEP 751's selection rules; the file itself is chosen later
    against the target's tags, for all packages at once, so every problem is reported together.
    Directory, VCS and local archive entries go to *local* (relative paths from *base*, the
    lock's folder); without *local* they are refused.
    """
    python = Version(environment["python_full_version"])
    if lock.requires_python and python not in lock.requires_python:
        raise RequirementsError(
            f"{where} requires Python {lock.requires_python}, and the target runs "
            f"{environment['python_version']}; lock for a range that includes it"
        )
    env = {
        **environment,
        "extras": frozenset(canonicalize_name(e) for e in extras),
        "dependency_groups": frozenset(lock.default_groups or () if groups is None else groups),
    }
    skipped = {canonicalize_name(s) for s in skip}
    pins = []
    for i, package in enumerate(lock.packages):
        here = f"{where} packages[{i}]"
        if package.marker and not evaluate(package.marker, env, where=here, context="lock_file"):
            continue
        if package.name in skipped:
            continue
        if package.requires_python and python not in package.requires_python:
            raise RequirementsError(
                f"{package.name} ({here}) requires Python {package.requires_python}, and the "
                f"target runs {environment['python_version']}"
            )
        source = _local_source(package, here, base) if local is not None and base else None
        if source is not None and local is not None:
            local.append(source)
            continue
        if package.vcs or package.directory or package.archive:
            kind = (
                "a VCS checkout"
                if package.vcs
                else "a local path"
                if package.directory
                else "an archive"
            )
            raise RequirementsError(
                f"{package.name} ({here}) is locked to {kind}; hatch-lambda bundles wheels and "
                "sdists from an index or a file URL. Publish it to an index, or depend on a release."
            )
        version = str(package.version) if package.version is not None else ""
        pins.append(
            Pin(
                name=package.name,
                version=version,
                where=here,
                files=_files(package),
                sha256=frozenset(
                    f.hashes["sha256"] for f in _files(package) if "sha256" in f.hashes
                ),
                index=package.index,
            )
        )
    return pins


def _local_source(package: Package, where: str, base: Path) -> LocalSource | None:
    if package.directory is not None:
        directory = package.directory
        path = str(directory.path)
        if directory.subdirectory:
            path = str(Path(path) / directory.subdirectory)
        return from_path(path, where, base=base, name=package.name,
                         editable=bool(directory.editable))  # fmt: skip
    if package.vcs is not None:
        vcs = package.vcs
        if vcs.type != "git":
            raise RequirementsError(
                f"{package.name} ({where}) is locked to a {vcs.type} checkout; only git "
                "checkouts are built. Depend on a release, or on a git repository"
            )
        url = vcs.url or (Path(base, vcs.path).resolve().as_uri() if vcs.path else "")
        location = f"git+{url}@{vcs.commit_id}"
        if vcs.subdirectory:
            location += f"#subdirectory={vcs.subdirectory}"
        return LocalSource(location, where, package.name)
    if package.archive is not None and package.archive.path and not package.archive.url:
        return from_path(str(package.archive.path), where, base=base, name=package.name)
    return None


def read_pylock(
    path: Path,
    *,
    environment: Environment,
    extras: Collection[str],
    groups: Collection[str] | None,
    project: str,
    source: str | None = None,
    base: Path | None = None,
) -> LockedSet:
    name = source or path.name
    lock = load_pylock(path)
    local: list[LocalSource] = []
    pins = pins_from_pylock(
        lock, where=name, environment=environment, extras=extras, groups=groups,
        skip=[project], local=local, base=base or path.parent,
    )  # fmt: skip
    return LockedSet(source=name, pins=tuple(pins), local=tuple(local))
