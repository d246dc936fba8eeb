"""The collect stage: the requirements of an artifact (a lockfile or the project's metadata),
resolved and fetched into one wheel per package for a runtime, locally or inside a container."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from . import requirements as _requirements
from ._report import Reporter, timed
from ._secrets import AMBIGUOUS, ambiguous_userinfo, remember_secrets
from .cache import refresh_requested
from .commands import Stages
from .config import ArtifactConfig
from .errors import ConfigError, RequirementsError
from .target import Target, resolve_target
from .wheelhouse import Indexes, Wheel, build_wheelhouse, choose_resolver
from .wheelhouse._container import BuildImage, container_wheelhouse


@dataclass(frozen=True)
class Collected:
    target: Target
    source: str
    """Where the requirements came from, for the output and the manifest."""
    resolver: str | None
    wheels: tuple[Wheel, ...]
    image: BuildImage | None = None
    """The image the wheels were built in, in container mode."""
    locked: bool = False
    """The requirements came from a lock: the wheels' versions are the locked ones."""


def prepare_target(runtime: str, artifact: ArtifactConfig, reporter: Reporter) -> Target:
    """The target of *artifact* on *runtime*; warns about platform tags Lambda cannot load."""
    target, warnings = resolve_target(
        runtime, artifact.architecture, artifact.platform_tags,
        built_in_image=bool(artifact.container),
    )  # fmt: skip
    for warning in warnings:
        reporter.warning(warning)
    return target


def _request(artifact: ArtifactConfig, runtime: str) -> tuple[object, ...]:
    """What the collected wheels depend on: artifacts that ask alike share one collection."""
    return (
        runtime, artifact.architecture, artifact.platform_tags, artifact.requirements,
        artifact.requirements_mode,
        artifact.extras, artifact.groups, artifact.resolver, artifact.index_url,
        artifact.extra_index_urls, artifact.find_links, artifact.poetry_include_hashes,
        artifact.poetry_without_urls, artifact.container, artifact.image,
        artifact.containerfile, artifact.before_bundling,
    )  # fmt: skip


class Collector:
    def __init__(
        self, project_wheel: Path, project_root: Path, *, work: Path, output_dir: Path,
        stages: Stages, reporter: Reporter,
    ) -> None:  # fmt: skip
        self.project_wheel = project_wheel
        self.project_root = project_root
        self.work = work
        self.output_dir = output_dir
        self.stages = stages
        self.reporter = reporter
        self._done: dict[tuple[object, ...], Collected] = {}
        self._runs = itertools.count()  # each collection its own work folder

    def forget(self) -> None:
        """Collect afresh from now on (after kept wheels were found damaged and removed)."""
        self._done.clear()

    def collect(self, artifact: ArtifactConfig, runtime: str) -> Collected:
        key = _request(artifact, runtime)
        if key not in self._done:
            self._done[key] = self._collect(artifact, runtime)
        return self._done[key]

    def _collect(self, artifact: ArtifactConfig, runtime: str) -> Collected:
        reporter = self.reporter
        target = prepare_target(runtime, artifact, reporter)
        # Masked before any command or lock reader runs and its output is shown.
        remember_configured(artifact)
        stage = self.stages.stage(artifact)
        with timed(reporter, "requirements"):
            reqs = _requirements.load_requirements(
                artifact.requirements,
                project_root=stage or self.project_root,
                project_wheel=self.project_wheel,
                environment=target.marker_environment(),
                extras=artifact.extras,
                groups=artifact.groups,
                poetry_include_hashes=artifact.poetry_include_hashes,
                poetry_without_urls=artifact.poetry_without_urls,
                reporter=reporter,
                requirements_mode=artifact.requirements_mode,
                origin=self.project_root if stage else None,
            )
            reporter.info(f"Requirements: {reqs.source}")
        indexes = Indexes.from_options(
            artifact.index_url or reqs.index_url,
            (*artifact.extra_index_urls, *reqs.extra_index_urls),
            (*artifact.find_links, *reqs.find_links),
        )
        guard_credentials(artifact, reqs, indexes)
        reporter.debug("indexes: " + ", ".join(indexes.urls()) + " (credentials shown as ***)")
        if artifact.container:
            return self._in_container(artifact, target, reqs, indexes)
        custom = artifact.platform_tags is not None
        resolving = isinstance(reqs, _requirements.RequirementSet) and bool(reqs.requirements)
        resolver = (
            choose_resolver(artifact.resolver, custom_platforms=custom) if resolving else None
        )
        wheels = build_wheelhouse(
            reqs, target, indexes, resolver=artifact.resolver, custom_platforms=custom,
            workdir=self.work / f"collect{next(self._runs)}", reporter=reporter,
            refresh=artifact.refresh or refresh_requested(),
        )  # fmt: skip
        locked = isinstance(reqs, _requirements.LockedSet)
        return Collected(target, reqs.source, resolver, tuple(wheels), locked=locked)

    def _in_container(
        self, artifact: ArtifactConfig, target: Target, reqs: _requirements.Requirements,
        indexes: Indexes,
    ) -> Collected:  # fmt: skip
        wheels, image = container_wheelhouse(
            reqs, target, indexes, artifact, project_root=self.project_root,
            output_dir=self.output_dir, work=self.work / f"container{next(self._runs)}",
            reporter=self.reporter, refresh=artifact.refresh or refresh_requested(),
        )  # fmt: skip
        return Collected(
            target, f"{reqs.source} (in a container)", "pip (container)", tuple(wheels), image,
            locked=isinstance(reqs, _requirements.LockedSet),
        )  # fmt: skip


def remember_configured(artifact: ArtifactConfig) -> None:
    """Mask the credentials the configuration and the environment give, from now on."""
    configured = Indexes.from_options(
        artifact.index_url, artifact.extra_index_urls, artifact.find_links
    )
    remember_secrets([
        *configured.urls(), *(value for _, value in configured.environment),
        *(value for _, value in (*artifact.environment, *artifact.build_args)),
    ])  # fmt: skip


def guard_credentials(
    artifact: ArtifactConfig, reqs: _requirements.Requirements, indexes: Indexes
) -> None:
    """Refuse index URLs whose credentials cannot be told from their host, before any tool sees
    them (the configuration's own are refused with the rest of it), and mask every credential
    hatch-lambda was given from now on, wherever it appears."""
    pins = reqs.pins if isinstance(reqs, _requirements.LockedSet) else ()
    pinned = [p.index for p in pins if p.index]
    for url in (*indexes.urls(), *pinned):
        if ambiguous_userinfo(url):
            names = [name for name, value in indexes.environment if url in value]
            if names:
                raise ConfigError([f"environment variable {names[0]} {AMBIGUOUS}"])
            raise RequirementsError(f"an index URL in {reqs.source} {AMBIGUOUS}")
    remember_secrets([
        *indexes.urls(), *pinned, *(value for _, value in indexes.environment),
        reqs.index_url or "", *reqs.extra_index_urls, *reqs.find_links,
        *(value for _, value in (*artifact.environment, *artifact.build_args)),
    ])  # fmt: skip
