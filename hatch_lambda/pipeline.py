"""The one place that joins the stages, for every artifact of the project:

collect (requirements -> wheelhouse) -> select -> reuse, or assemble (plan -> exclude -> place ->
audit -> archive, in ``_assemble``) -> manifest.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from hatchling.builders.utils import get_reproducible_timestamp
from packaging.utils import NormalizedName, canonicalize_name, parse_wheel_filename

from ._pythons import choose_interpreters
from ._report import Reporter, counted, timed
from ._scratch import system_folder
from ._timestamp import zip_date_time
from .cache import cache_key, prepare_cache, sha256_file
from .collect import Collected, Collector
from .commands import Stages
from .config import WARN_ZIPPED_SIZE, ArtifactConfig, LambdaConfig
from .errors import HatchLambdaError, os_problem
from .manifest import judged_options, manifest_data, package_entries, write_manifest
from .outputs import (
    ArtifactPair,
    artifact_stem,
    output_directory,
    place_wheelhouse,
    remove_artifacts,
    remove_debris,
    write_wheelhouse,
)
from .reuse import Remembered, output_name, remember, reuse
from .selection import Selection, select
from .wheelhouse import DamagedWheels, Wheel, verify_kept

if TYPE_CHECKING:
    from ._assemble import Assembler


@dataclass(frozen=True)
class BuildResult:
    artifact: ArtifactConfig
    path: Path
    """The zip, or the wheelhouse folder."""
    manifest: Path
    label: str
    size: int
    code_sha256: str | None
    dists: Mapping[str, Mapping[NormalizedName, str]] = field(default_factory=dict)
    """Per runtime, the distributions the artifact holds (for functions deployed with a layer)."""
    sizes: Mapping[str, int] = field(default_factory=dict)
    """Unzipped bytes by distribution."""
    files: int = 0
    """Files in the zip, or in the wheelhouse folder."""
    unzipped_size: int | None = None
    """Bytes of all the zip's files unzipped (None for a wheelhouse)."""
    warnings: tuple[str, ...] = ()
    """What was said of the artifact itself (its size, rules reported as warnings): said again
    whenever the artifact is reused."""


@dataclass(frozen=True)
class _Artifact:
    """One artifact on its way: what was collected and selected for each of its runtimes."""

    config: ArtifactConfig
    stem: str
    label: str
    collected: Mapping[str, Collected]
    selected: Mapping[str, tuple[Wheel, ...]]
    left_out: tuple[str, ...]
    kept: tuple[str, ...] = ()
    """What the runtime provides, kept in the bundle, with the reason."""


class _Builder:
    def __init__(self, project: Wheel, root: Path, work: Path, output_dir: Path,
                 reporter: Reporter) -> None:  # fmt: skip
        self.project = project
        self.project_tags = tuple(sorted(str(t) for t in project.tags))
        self.root = root
        self.work = work
        self.output_dir = output_dir
        self.reporter = reporter
        self.stages = Stages(root, work, reporter)
        self.collector = Collector(
            project.path,
            root,
            work=work,
            output_dir=output_dir,
            stages=self.stages,
            reporter=reporter,
        )
        self.layers: dict[str, BuildResult] = {}
        self._no_python: set[str] = set()
        """Versions said to have no interpreter to compile with: said once per build."""
        self._assembler: Assembler | None = None

    def build(self, config: ArtifactConfig) -> BuildResult:
        with timed(self.reporter, "total"):
            try:
                return self._build(config)
            except DamagedWheels:
                # They were removed from the cache: collecting again fetches or builds them anew.
                self.reporter.info("Collecting the requirements again for the wheels removed")
                self.collector.forget()
                return self._build(config)

    def _build(self, config: ArtifactConfig) -> BuildResult:
        what = f"{config.kind} {config.name}" if config.name else config.kind
        what += "" if config.kind == "wheelhouse" else " zip"
        runtimes = config.all_runtimes
        collected = {rt: self.collector.collect(config, rt) for rt in runtimes}
        label = f"{what} for {'/'.join(runtimes)} {config.architecture}"
        self.reporter.info(f"Building Lambda {label}")
        selections = {rt: self._select(config, collected[rt]) for rt in runtimes}
        left_out = tuple(dict.fromkeys(r for s in selections.values() for r in s.left_out))
        keeping = tuple(dict.fromkeys(r for s in selections.values() for r in s.kept))
        for line in left_out:
            self.reporter.info(f"  left out {line}")
        for line in keeping:
            name_version, _, why = line.partition(" (")
            self.reporter.info(f"  keeping {name_version}: {why[:-1]}")
        artifact = _Artifact(
            config, artifact_stem(self.project.path, config), label, collected,
            {rt: s.wheels for rt, s in selections.items()}, left_out, keeping,
        )  # fmt: skip
        if config.kind == "wheelhouse":
            return self._wheelhouse(artifact)
        # Reused as built with bytecode if it was: only a zip to build needs an interpreter.
        wanted = () if config.compile_bytecode is False else config.all_runtimes
        key = self._key(artifact, wanted)
        zip_path = self.output_dir / f"{artifact.stem}.zip"
        output = output_name(self.output_dir, self.project.name, config.name,
                             "+".join(config.all_runtimes), config.architecture)  # fmt: skip
        # What after-bundling commands write depends on more than any key can see (the files
        # they read, the network): such an artifact is built every time.
        reusable = not config.after_bundling
        if not reusable:
            self.reporter.debug("after-bundling commands run on every build: not reusing the zip")
        with ArtifactPair(zip_path, zip_path.with_suffix(".json")) as pair:
            kept = reuse(key, pair, self.reporter, output=output) if reusable else None
            compilers: dict[str, str | None] = {}
            if kept is None:
                compilers = choose_interpreters(config, self.reporter, said=self._no_python)
                if tuple(compilers) != wanted:
                    key = self._key(artifact, tuple(compilers))
                    kept = reuse(key, pair, self.reporter, output=output) if reusable else None
            if kept is not None:
                self.reporter.info(
                    f"Nothing changed since {zip_path.name} was last built: reusing it"
                )
                for warning in kept.warnings:
                    self.reporter.warning(warning)
                return BuildResult(
                    config, pair.artifact, pair.manifest, label, kept.size, kept.code_sha256,
                    kept.dists, kept.sizes, files=kept.files, unzipped_size=kept.unzipped_size,
                    warnings=kept.warnings,
                )  # fmt: skip
            verify_kept([w for ws in artifact.selected.values() for w in ws], self.reporter)
            result, sha256 = self._zip(artifact, pair, compilers)
            pair.commit()
        remembered = Remembered(
            result.size, result.code_sha256, sha256, result.dists, result.sizes, result.files,
            result.unzipped_size or 0, result.warnings,
        )  # fmt: skip
        if reusable:
            remember(pair, key, remembered, self.reporter, output=output)
        return result

    def _select(self, config: ArtifactConfig, collected: Collected) -> Selection:
        if config.contents == "project":
            return Selection((), ())
        runtime = collected.target.runtime.name
        return select(
            collected.wheels,
            target=collected.target,
            project_wheel=self.project.path,
            extras=config.extras,
            exclude_runtime_provided=config.exclude_runtime_provided,
            layers={n: self.layers[n].dists.get(runtime, {}) for n in config.layers},
            locked=collected.locked,
        )

    def _key(self, artifact: _Artifact, compiled: tuple[str, ...]) -> str:
        """Everything the bytes of an artifact depend on: a rebuild with an equal key can only
        produce the same archive. *compiled*: the runtimes it has bytecode for."""
        config = artifact.config
        return cache_key(
            "artifact", artifact.stem, dataclasses.asdict(config), compiled,
            {rt: [(w.name, w.version, w.path.name, w.built_from_sdist, w.sha256) for w in ws]
             for rt, ws in artifact.selected.items()},
            self.project.sha256,
            {n: self.layers[n].dists for n in config.layers},
            get_reproducible_timestamp(), artifact.left_out, artifact.kept,
        )  # fmt: skip

    def _zip(
        self, artifact: _Artifact, pair: ArtifactPair, compilers: Mapping[str, str | None]
    ) -> tuple[BuildResult, str]:
        """The zip and its manifest, written to the pair's temporary names; *compilers*: the
        runtimes to compile for, and the interpreter of each (None: the build image's)."""
        from ._assemble import Assembler, Layer, ZipJob  # only when a zip is built: see there

        config = artifact.config
        if self._assembler is None:
            self._assembler = Assembler(self.project, self.root, self.work, self.stages,
                                        self.reporter)  # fmt: skip
        job = ZipJob(
            config, artifact.stem, {rt: c.target for rt, c in artifact.collected.items()},
            artifact.selected,
            {n: Layer(self.layers[n].dists, self.layers[n].sizes, self.layers[n].path)
             for n in config.layers},
            compilers, artifact.left_out,
        )  # fmt: skip
        done = self._assembler.assemble(job, pair.artifact, into=pair.artifact_tmp)
        archive = done.archive
        warnings = list(done.warnings)
        warning = zipped_size_warning(archive.path.name, archive.size, config.warn_zipped_size)
        if warning:
            self.reporter.warning(warning)
            warnings.append(warning)
        self._manifest(artifact, pair.manifest_tmp, done.locations, archive=archive)
        project = self._project(config)
        dists = {
            rt: {canonicalize_name(w.name): w.version for w in [*ws, *project]}
            for rt, ws in artifact.selected.items()
        }
        result = BuildResult(
            config, archive.path, pair.manifest, artifact.label, archive.size,
            archive.code_sha256, dists, done.sizes, files=archive.files,
            unzipped_size=archive.unzipped_size, warnings=tuple(warnings),
        )  # fmt: skip
        return result, archive.sha256

    def _project(self, config: ArtifactConfig) -> list[Wheel]:
        return [] if config.contents == "dependencies" else [self.project]

    def _manifest(
        self, artifact: _Artifact, path: Path, locations: Mapping[tuple[str, str], str],
        **extra: object,
    ) -> None:  # fmt: skip
        config = artifact.config
        first = artifact.collected[config.all_runtimes[0]]
        project = self._project(config)
        packages = package_entries(artifact.selected, locations, project[0] if project else None,
                                   self.project_tags, container=bool(config.container))  # fmt: skip
        write_manifest(path, manifest_data(
            name=config.name, kind=config.kind, runtimes=config.all_runtimes,
            architecture=config.architecture, platforms=first.target.platforms,
            handler=config.handler, layers=config.layers, contents=config.contents,
            requirements_source=first.source, resolver=first.resolver, packages=packages,
            removed=artifact.left_out, kept=artifact.kept, judged=judged_options(
                config, {n: self.layers[n].path.name for n in config.layers}),
            images={rt: c.image for rt, c in artifact.collected.items() if c.image},
            **extra,  # type: ignore[arg-type]
        ))  # fmt: skip

    def _wheelhouse(self, artifact: _Artifact) -> BuildResult:
        project = self._project(artifact.config)
        destination = self.output_dir / f"{artifact.stem}-wheelhouse"
        verify_kept([w for ws in artifact.selected.values() for w in ws], self.reporter)
        with ArtifactPair(destination, self.output_dir / f"{artifact.stem}.json") as pair:
            staging, described = write_wheelhouse(
                artifact.selected, project[0] if project else None, destination
            )
            try:
                self._manifest(artifact, pair.manifest_tmp, {}, archive=None,
                               wheelhouse=described)  # fmt: skip
                place_wheelhouse(staging, destination, pair)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        size, files = described["size"], described["files"]
        assert isinstance(size, int) and isinstance(files, int)
        return BuildResult(artifact.config, destination, pair.manifest, artifact.label, size, None,
                           files=files)  # fmt: skip


def zipped_size_warning(name: str, size: int, threshold: int) -> str | None:
    """Lambda's own figure only where the threshold is Lambda's: a user's lower one is theirs."""
    if size <= threshold:
        return None
    refused = (f"Lambda refuses a direct upload over {WARN_ZIPPED_SIZE:,} bytes; "
               "deploy it through S3")  # fmt: skip
    if threshold == WARN_ZIPPED_SIZE:
        return f"{name} is {size:,} bytes zipped: {refused}"
    message = f"{name} is {size:,} bytes zipped, over your warn-zipped-size of {threshold:,}"
    return message + (f"; {refused}" if size > WARN_ZIPPED_SIZE else "")


def build_artifacts(
    config: LambdaConfig,
    *,
    project_wheel: Path,
    project_root: Path,
    output_dir: Path,
    reporter: Reporter,
) -> list[BuildResult]:
    """Build every artifact of *config* (layers first) for the project of *project_wheel*."""
    name, version, _, _ = parse_wheel_filename(project_wheel.name)
    # Hashed once: every artifact's key needs it.
    project = Wheel(str(name), str(version), project_wheel, known_sha256=sha256_file(project_wheel))
    ordered: Sequence[ArtifactConfig] = sorted(config.artifacts, key=lambda a: a.kind != "layer")
    results: list[BuildResult] = []
    warning = zip_date_time()[1]
    if warning and any(a.kind != "wheelhouse" for a in ordered):
        reporter.warning(warning)
    try:
        prepare_cache()
        debris = remove_debris(output_dir)
        if debris:
            reporter.info(
                f"Removed {counted(len(debris), 'temporary file')} left by interrupted builds"
            )
            for path in debris:
                reporter.debug(f"  removed {path}")
        with system_folder() as tmp:
            builder = _Builder(project, project_root, tmp, output_dir, reporter)
            for artifact in ordered:
                result = builder.build(artifact)
                if artifact.kind == "layer" and artifact.name:
                    builder.layers[artifact.name] = result
                results.append(result)
    except OSError as exc:
        # What no stage turned into a message of its own: still never a traceback.
        raise HatchLambdaError(os_problem(exc, "use")) from exc
    return results


__all__ = [
    "BuildResult",
    "HatchLambdaError",
    "build_artifacts",
    "output_directory",
    "remove_artifacts",
]
