"""Builds local sources (workspace members, path dependencies, VCS checkouts) into wheels with
their own build backend, in isolation, never editable: the bundle holds their code and their
``.dist-info``, as it does for any other distribution.

Each wheel is kept in the cache under the digest of the files it could hold (``_tree``), so a
build where the library did not change reuses it, and an edit to the library builds it again.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from packaging.utils import canonicalize_name, parse_wheel_filename

from .._report import Reporter, timed
from .._subprocess import run
from ..cache import cache_key, sha256_file
from ..errors import SdistBuildError, ToolError
from ..requirements import LocalSource
from ..target import Target
from ._frontend import build_one_wheel
from ._indexes import Indexes, strip_credentials
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
) -> list[tuple[Wheel, frozenset[str]]]:
    """One wheel per local source, built here (or kept from an earlier build of the same files),
    with the extras asked of it; two sources of one name are an error."""
    wheels: dict[str, tuple[Wheel, LocalSource]] = {}
    extras: dict[str, frozenset[str]] = {}
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
        extras[name] = extras.get(name, frozenset()) | source.extras
    return [(w, extras[name]) for name, (w, _) in wheels.items()]


def _wheel(
    source: LocalSource, target: Target, indexes: Indexes, *, use_uv: bool, workdir: Path,
    reporter: Reporter, refresh: bool,
) -> Wheel:  # fmt: skip
    frontend = "uv" if use_uv and find_uv() else "pip"
    if not source.is_vcs:
        return _from_location(Path(source.location), source, target, indexes, frontend=frontend,
                              workdir=workdir, reporter=reporter, refresh=refresh)  # fmt: skip
    # A commit's files never change: its wheel is kept by the commit, and a build that finds
    # it asks the repository only which commit a branch or tag names, without cloning it.
    checkout = _Checkout.parse(source)
    commit = checkout.commit(reporter)
    key = None
    if commit:
        key = cache_key("vcs-wheel", strip_credentials(checkout.repository), commit,
                        checkout.subdirectory, frontend, target.runtime.name)  # fmt: skip
    kept = None if refresh or key is None else kept_wheels("local-wheel", key, reporter)
    if kept:
        reporter.debug(f"{source.label}: commit {commit} was built before; reusing its wheel")
        return _checked(dataclasses.replace(kept[0], local=True), source, target)
    location = checkout.clone(workdir, reporter)
    wheel = _from_location(location, source, target, indexes, frontend=frontend,
                           workdir=workdir, reporter=reporter, refresh=refresh)  # fmt: skip
    if key is None:
        return wheel
    return dataclasses.replace(keep_wheels("local-wheel", key, [wheel], reporter)[0], local=True)


def _from_location(
    location: Path, source: LocalSource, target: Target, indexes: Indexes, *, frontend: str,
    workdir: Path, reporter: Reporter, refresh: bool,
) -> Wheel:  # fmt: skip
    """The wheel of a folder, wheel or sdist, kept by the digest of the files it could hold."""
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
    reporter.waiting(f"Building {source.name or location.name} from {location} (a local source)")
    try:
        built = build_one_wheel(
            location, workdir / "wheel", python=sys.executable,
            uv=find_uv() if frontend == "uv" else None, indexes=indexes, refresh=refresh, env={},
            what=f"building {source.label} from {location}", reporter=reporter, cwd=workdir,
        )  # fmt: skip
    except ToolError as exc:
        raise SdistBuildError(
            f"building {source.label} from {location} with its build backend failed.\n"
            f"{exc.message}\n  What to do: make `{frontend} build` of that folder work (its "
            "[build-system] requirements must be on the index hatch-lambda uses), or depend on "
            "a released version instead"
        ) from exc
    name, version, _, _ = parse_wheel_filename(built.name)
    return Wheel(str(name), str(version), built, local=True)


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
        "for this machine. What to do: build in container mode (container = true), which "
        "builds it in the SAM build image, or depend on a manylinux wheel of it"
    )


@dataclass(frozen=True)
class LocalFiles:
    """A local source as a build elsewhere (in a container) sees it: what identifies its files,
    and where they are on this machine; a checkout whose commit is known is cloned only when its
    files are needed."""

    source: LocalSource
    identity: str
    path: Path | None
    checkout: _Checkout | None = None

    def files(self, workdir: Path, reporter: Reporter) -> Path:
        if self.path is not None:
            return self.path
        assert self.checkout is not None
        return self.checkout.clone(workdir, reporter)


def local_files(source: LocalSource, workdir: Path, reporter: Reporter) -> LocalFiles:
    """*source*'s files, identified as the local builds key them: a folder by the digest of the
    files its wheel could hold, a file by its sha256, a checkout by its commit."""
    if source.is_vcs:
        checkout = _Checkout.parse(source)
        commit = checkout.commit(reporter)
        if commit:
            where = f"{strip_credentials(checkout.repository)}@{commit}#{checkout.subdirectory}"
            return LocalFiles(source, f"git {where}", None, checkout)
        folder = checkout.clone(workdir, reporter)
        return LocalFiles(source, source_digest(folder), folder)
    path = Path(source.location)
    return LocalFiles(source, source_digest(path) if path.is_dir() else sha256_file(path), path)


_COMMIT = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True)
class _Checkout:
    """A ``git+URL[@REV][#subdirectory=PATH]`` source."""

    source: LocalSource
    repository: str
    rev: str
    subdirectory: str

    @classmethod
    def parse(cls, source: LocalSource) -> _Checkout:
        url, _, fragment = source.location[len("git+") :].partition("#")
        parts = urlsplit(url)
        path, at, rev = parts.path.rpartition("@")
        repository = urlunsplit(parts._replace(path=path)) if at else url
        subdirectory = next(
            (p.split("=", 1)[1] for p in fragment.split("&") if p.startswith("subdirectory=")),
            "",
        )
        return cls(source, repository, rev if at else "", subdirectory)

    def commit(self, reporter: Reporter) -> str | None:
        """The commit the revision names: itself when it is one, else what the repository
        says (``git ls-remote``); None when that cannot be learned without a clone (an
        abbreviated commit, a repository that cannot be reached: the clone then says why)."""
        if _COMMIT.fullmatch(self.rev):
            return self.rev
        git = shutil.which("git")
        if git is None:
            return None
        wanted = self.rev or "HEAD"
        try:
            proc = run([git, "ls-remote", self.repository, wanted],
                       what=f"asking {self.repository} for {wanted}", reporter=reporter,
                       env={"GIT_TERMINAL_PROMPT": "0"})  # fmt: skip
        except ToolError:
            return None
        refs: dict[str, str] = {}
        for line in proc.stdout.splitlines():
            commit, _, ref = line.partition("\t")
            refs[ref.strip()] = commit.strip()
        # An annotated tag's own line names the tag object; the peeled line, its commit.
        for ref in (f"refs/tags/{wanted}^{{}}", wanted, f"refs/heads/{wanted}",
                    f"refs/tags/{wanted}"):  # fmt: skip
            if _COMMIT.fullmatch(refs.get(ref, "")):
                return refs[ref]
        return None

    def clone(self, workdir: Path, reporter: Reporter) -> Path:
        """A clone at the revision; the folder of the project in it."""
        git = shutil.which("git")
        label, repository, rev = self.source.label, self.repository, self.rev
        if git is None:
            raise ToolError(
                f"{label} is a git checkout, and git is not installed here; install git"
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
                f"cannot check out {label}.\n{exc.message}\n  What to do: check the URL and the "
                "revision, and that this machine can reach the repository"
            ) from exc
        folder = into / self.subdirectory if self.subdirectory else into
        if not folder.is_dir():
            raise SdistBuildError(f"{label}: the checkout has no folder {self.subdirectory}")
        return folder
