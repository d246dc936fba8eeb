"""Builds local sources (workspace members, path dependencies, VCS checkouts) into wheels with
their own build backend, in isolation, never editable: the bundle holds their code and their
``.dist-info``, as it does for any other distribution.

Each wheel is kept in the cache under the digest of the files it could hold (``_tree``), so a
build where the library did not change reuses it, and an edit to the library builds it again.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from packaging.utils import canonicalize_name, parse_wheel_filename

from .._report import Reporter, timed
from .._subprocess import run
from ..cache import cache_key, sha256_file
from ..errors import SdistBuildError, ToolError
from ..requirements import LocalSource
from ..target import Target
from ._indexes import Indexes
from ._kept import keep_wheels, kept_wheels
from ._tree import source_digest
from ._uv import find_uv
from ._wheel import Wheel

_SDIST_SUFFIXES = (".tar.gz", ".zip")


def build_local(
    sources: Sequence[LocalSource],
    target: Target,
    indexes: Indexes,
    *,
    use_uv: bool,
    workdir: Path,
    reporter: Reporter,
    refresh: bool = False,
) -> list[Wheel]:
    """One wheel per local source, built here (or kept from an earlier build of the same files);
    two sources of one name are an error."""
    wheels: dict[str, tuple[Wheel, LocalSource]] = {}
    for i, source in enumerate(sources):
        if source.editable:
            reporter.info(
                f"{source.label} is named as editable; it is built as a regular install: a "
                "Lambda bundle holds the code itself, never a link to it"
            )
        with timed(reporter, "local build"):
            wheel = _wheel(source, target, indexes, use_uv=use_uv, workdir=workdir / f"local{i}",
                           reporter=reporter, refresh=refresh)  # fmt: skip
        name = canonicalize_name(wheel.name)
        if name in wheels and wheels[name][0].path.name != wheel.path.name:
            other = wheels[name][1]
            raise SdistBuildError(
                f"{name} comes from two local sources: {other.label} and {source.label}; "
                "name it once"
            )
        wheels.setdefault(name, (wheel, source))
    return [w for w, _ in wheels.values()]


def _wheel(
    source: LocalSource, target: Target, indexes: Indexes, *, use_uv: bool, workdir: Path,
    reporter: Reporter, refresh: bool,
) -> Wheel:  # fmt: skip
    location = _checkout(source, workdir, reporter) if source.is_vcs else Path(source.location)
    if location.is_file() and location.name.endswith(".whl"):
        name, version, _, _ = parse_wheel_filename(location.name)
        wheel = Wheel(str(name), str(version), location, local=True)
        return _checked(wheel, source, target)
    if location.is_file() and not location.name.endswith(_SDIST_SUFFIXES):
        raise SdistBuildError(
            f"{source.label}: {location} is neither a folder, a wheel nor an sdist; "
            "name the folder of the project"
        )
    if location.is_dir() and not any(
        (location / f).is_file() for f in ("pyproject.toml", "setup.py", "setup.cfg")
    ):
        raise SdistBuildError(
            f"{source.label}: {location} has no pyproject.toml (nor setup.py), so it cannot be "
            "built; name the folder of the project"
        )
    frontend = "uv" if use_uv and find_uv() else "pip"
    digest = source_digest(location) if location.is_dir() else sha256_file(location)
    key = cache_key("local-wheel", digest, frontend, target.runtime.name)
    kept = None if refresh else kept_wheels("local-wheel", key, reporter)
    if kept:
        reporter.debug(f"{source.label}: nothing in {location} changed; reusing its wheel")
        return _checked(dataclasses.replace(kept[0], local=True), source, target)
    wheel = _build(source, location, frontend, indexes, workdir=workdir, reporter=reporter,
                   refresh=refresh)  # fmt: skip
    _checked(wheel, source, target)
    return dataclasses.replace(keep_wheels("local-wheel", key, [wheel], reporter)[0], local=True)


def _build(
    source: LocalSource, location: Path, frontend: str, indexes: Indexes, *, workdir: Path,
    reporter: Reporter, refresh: bool,
) -> Wheel:  # fmt: skip
    out = workdir / "wheel"
    out.mkdir(parents=True, exist_ok=True)
    reporter.waiting(f"Building {source.name or location.name} from {location} (a local source)")
    uv = find_uv() if frontend == "uv" else None
    if uv:
        # An isolated PEP 517 build, as `uv build` always makes; never editable.
        argv = [uv, "build", "--wheel", "--out-dir", str(out), "--python", sys.executable,
                "--no-progress", str(location)]  # fmt: skip
        argv += ["--refresh"] if refresh else []
        env = {**indexes.uv_env(), "UV_PYTHON_DOWNLOADS": "never"}
    else:
        argv = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(out),
                str(location)]  # fmt: skip
        argv += ["--no-cache-dir"] if refresh else []
        env = dict(indexes.pip_env())
    try:
        run(argv, what=f"building {location}", reporter=reporter, env=env, cwd=workdir)
    except ToolError as exc:
        raise SdistBuildError(
            f"building {source.label} from {location} with its build backend failed.\n"
            f"{exc.message}\n  What to do: make `{frontend} build` of that folder work (its "
            "[build-system] requirements must be on the index hatch-lambda uses), or depend on "
            "a released version instead"
        ) from exc
    built = sorted(out.glob("*.whl"))
    if len(built) != 1:
        raise SdistBuildError(
            f"building {source.label} from {location} produced {len(built)} wheels, not one"
        )
    name, version, _, _ = parse_wheel_filename(built[0].name)
    return Wheel(str(name), str(version), built[0], local=True)


def _checked(wheel: Wheel, source: LocalSource, target: Target) -> Wheel:
    """The wheel, if it is of the name the source gave and Lambda can load it."""
    if source.name and canonicalize_name(wheel.name) != source.name:
        raise SdistBuildError(
            f"{source.label} names {source.name}, and {source.location} builds "
            f"{wheel.name} {wheel.version}; fix the name or the path"
        )
    tags = wheel.tags
    if all(t.platform == "any" for t in tags) and target.accepts(tags):
        return wheel
    tag_text = ", ".join(sorted(str(t) for t in tags))
    raise SdistBuildError(
        f"{wheel.name} {wheel.version} ({source.label}) built as {wheel.path.name}, tagged "
        f"{tag_text}, which {target.label} cannot load: a local source with compiled code builds "
        "for this machine. What to do: build it into a manylinux wheel (cibuildwheel, or the "
        "SAM build image) and depend on that wheel"
    )


def _checkout(source: LocalSource, workdir: Path, reporter: Reporter) -> Path:
    """A clone of a ``git+URL[@REV][#subdirectory=PATH]`` source at that revision."""
    git = shutil.which("git")
    if git is None:
        raise ToolError(
            f"{source.label} is a git checkout, and git is not installed here; install git"
        )
    url, _, fragment = source.location[len("git+") :].partition("#")
    parts = urlsplit(url)
    path, at, rev = parts.path.rpartition("@")
    repository = urlunsplit(parts._replace(path=path)) if at else url
    rev = rev if at else ""
    subdirectory = next(
        (p.split("=", 1)[1] for p in fragment.split("&") if p.startswith("subdirectory=")), ""
    )
    into = workdir / "checkout"
    into.parent.mkdir(parents=True, exist_ok=True)
    env = {"GIT_TERMINAL_PROMPT": "0"}
    reporter.waiting(f"Cloning {repository}" + (f" at {rev}" if rev else ""))
    try:
        run([git, "clone", "--quiet", repository, str(into)], what=f"cloning {repository}",
            reporter=reporter, env=env, cwd=workdir)  # fmt: skip
        if rev:
            run([git, "-c", "advice.detachedHead=false", "checkout", "--quiet", rev],
                what=f"checking out {rev} of {repository}", reporter=reporter, env=env,
                cwd=into)  # fmt: skip
    except ToolError as exc:
        raise SdistBuildError(
            f"cannot check out {source.label}.\n{exc.message}\n  What to do: check the URL and "
            "the revision, and that this machine can reach the repository"
        ) from exc
    folder = into / subdirectory if subdirectory else into
    if not folder.is_dir():
        raise SdistBuildError(f"{source.label}: the checkout has no folder {subdirectory}")
    return folder
