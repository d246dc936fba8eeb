"""Assembles one zip artifact from the selected wheels, joining the bundle stages:

plan (each wheel's entries) -> exclude -> place -> bytecode (kept, or compiled; with
after-bundling commands, a tree of real files they change, then compiled) -> RECORD files ->
within the size limit -> audit -> archive.

The pipeline imports this module only when a zip is actually built, so a build that reuses its
artifact never loads installer, pyelftools or pathspec.
"""

from __future__ import annotations

import contextlib
import functools
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import NormalizedName

from ._report import Reporter, counted, timed
from ._toplevel import backports_left_out
from .archive import ArchiveInfo, write_zip
from .audit import (
    ElfFacts,
    Importable,
    audit_bundle,
    check_size,
    distribution_sizes,
    layer_modules,
)
from .bundle import (
    DEFAULT_EXCLUDES,
    SLIM_EXCLUDES,
    Bundle,
    Distribution,
    Excludes,
    Reader,
    materialize,
    place,
    plan_from_json,
    plan_to_json,
    plan_wheel,
    project_test_excludes,
    read_back,
    with_records,
)
from .bytecode import Bytecode, Compiler, compile_tree, local_compiler, within_room
from .cache import cache_key, load_json, store_json
from .commands import Stages
from .config import ArtifactConfig
from .errors import AuditError
from .target import Target
from .wheelhouse import Wheel
from .wheelhouse._container import compile_in_container, container_staging, image_for


def _runtime_root(config: ArtifactConfig) -> str:
    """Where Lambda unpacks the artifact."""
    return "/opt" if config.kind == "layer" else "/var/task"


@dataclass(frozen=True)
class Layer:
    """What a function needs to know of a layer it is deployed with."""

    dists: Mapping[str, Mapping[NormalizedName, str]]
    sizes: Mapping[str, int]
    path: Path | None = None
    """The layer's zip, read for the modules the function's imports may find in it."""


@dataclass(frozen=True)
class ZipJob:
    config: ArtifactConfig
    stem: str
    targets: Mapping[str, Target]
    selected: Mapping[str, Sequence[Wheel]]
    layers: Mapping[str, Layer]
    compilers: Mapping[str, str | None] = field(default_factory=dict)
    """The runtimes to compile bytecode for, each with its local interpreter (None: the build
    image's)."""
    left_out: Sequence[str] = ()
    """What the selection stage left out, as it said it (backports count as provided)."""


@dataclass(frozen=True)
class Assembled:
    archive: ArchiveInfo
    sizes: dict[str, int]
    """Unzipped bytes by distribution."""
    locations: Mapping[tuple[str, str], str]
    """(wheel file name, runtime or "" for the project) -> the archive folder it went to."""
    warnings: tuple[str, ...]
    """The findings of rules in ``audit-warn``, as they were said."""


class Assembler:
    """Builds zips for one project; plans are shared between its artifacts and runtimes."""

    def __init__(
        self, project: Wheel, root: Path, work: Path, stages: Stages, reporter: Reporter
    ) -> None:
        self.project = project
        self.root = root
        self.work = work
        self.stages = stages
        self.reporter = reporter
        self._plans: dict[Path, Distribution] = {}
        self._planned_here = 0
        """Plans made in this build rather than taken from the cache."""

    def assemble(self, job: ZipJob, destination: Path, *, into: Path) -> Assembled:
        """The zip for *destination*, written *into* a file the caller puts there."""
        config = job.config
        excludes = [*DEFAULT_EXCLUDES, *(SLIM_EXCLUDES if config.slim else ()), *config.exclude]
        project = None
        with self._bytecode(job, destination.parent) as bytecode:
            with timed(self.reporter, "plan"):
                if config.contents != "dependencies":
                    own = self._plan(self.project)
                    tops = {p.split("/", 1)[0] for p in own.entries if "/" in p}
                    tests = project_test_excludes(t for t in tops if not t.endswith(".dist-info"))
                    project = Excludes([*excludes, *tests]).apply(own)[0]
                    if bytecode is not None:  # compiled while the dependencies are planned
                        bytecode.begin(place(config.kind, dict.fromkeys(job.selected, ()),
                                             project).bundle)  # fmt: skip
                placed = place(config.kind, self._exclude(job, Excludes(excludes)), project)
            if bytecode is not None:
                with timed(self.reporter, "bytecode"):
                    built = bytecode.add_to(placed.bundle)
            else:
                built = self._after_bundling(job, placed.bundle)
        # Now that nothing more is added, RECORD lists exactly what ships (and is written again
        # only if bytecode has to be left out).
        bundle, left_out = self._within_limit(job, with_records(built))
        if left_out:
            self.reporter.warning(left_out)
        with Reader() as reader, timed(self.reporter, "audit"):
            sizes, warnings = self._audit(job, bundle, reader)
        warnings = (left_out, *warnings) if left_out else warnings
        self.reporter.waiting(f"Writing {destination.name}")
        with timed(self.reporter, "archive"):
            archive = write_zip(bundle, destination, into=into)
        return Assembled(archive, sizes, placed.locations, warnings)

    def _plan(self, wheel: Wheel) -> Distribution:
        """The plan of *wheel*; a dependency's is kept by the wheel's digest, as it never changes."""
        plan = self._plans.get(wheel.path)
        if plan is not None:
            return plan
        digest = None if wheel is self.project else wheel.sha256
        key = cache_key("plan", digest) if digest else None
        if key:
            plan = plan_from_json(
                load_json("plan", key, self.reporter),
                wheel.path,
                wheel.name,
                wheel.version,
                digest or "",
            )
        if plan is None:
            plan = plan_wheel(
                wheel.path, wheel.name, wheel.version, sha256=digest, reporter=self.reporter
            )
            if key:
                self._planned_here += 1
                store_json("plan", key, plan_to_json(plan), self.reporter)
        self._plans[wheel.path] = plan
        return plan

    def _exclude(self, job: ZipJob, excludes: Excludes) -> dict[str, list[Distribution]]:
        """Every selected wheel's plan, without what never ships."""
        count = sum(len(ws) for ws in job.selected.values())
        self.reporter.waiting(f"Planning {counted(count, 'wheel')}")
        pruned: list[str] = []
        selected: dict[str, list[Distribution]] = {}
        for rt, wheels in job.selected.items():
            selected[rt] = []
            for wheel in wheels:
                dist, removed = excludes.apply(self._plan(wheel))
                selected[rt].append(dist)
                pruned += removed
        if pruned:
            self.reporter.debug(
                f"left out {counted(len(pruned), 'file')}: {', '.join(pruned[:20])}"
            )
        if count and not self._planned_here:
            self.reporter.info(
                f"Reusing what was learned before of its {counted(count, 'dependency', 'dependencies')}"
                " (plans, audit facts)"
            )
        return selected

    def _bytecode(
        self, job: ZipJob, output_dir: Path
    ) -> contextlib.AbstractContextManager[Bytecode | None]:
        """The bytecode of the bundle, from the cache or from the sources of the distributions
        that changed, compiled by a local interpreter of the runtime's version or, in container
        mode where there is none, by the image's; None where there is none to make, or where
        after-bundling commands run (they need the whole bundle as real files first)."""
        config = job.config
        if not job.compilers or (config.after_bundling and not config.container):
            return contextlib.nullcontext()
        runtimes = {rt: job.targets[rt].runtime for rt in job.compilers}
        compilers = {
            rt: functools.partial(local_compiler, python, runtimes[rt], self.reporter)
            if python is not None
            else functools.partial(self._image_compiler, job, rt, output_dir)
            for rt, python in job.compilers.items()
        }
        return Bytecode(runtimes, compilers, runtime_root=_runtime_root(config),
                        work=self.work / job.stem, reporter=self.reporter)  # fmt: skip

    def _after_bundling(self, job: ZipJob, bundle: Bundle) -> Bundle:
        """The bundle as after-bundling commands leave it, then compiled as a whole (local mode;
        in container mode they run in the image, with the wheels)."""
        config = job.config
        if not config.after_bundling or config.container:
            return bundle
        where = _runtime_root(config)
        root = self.work / job.stem
        self.reporter.debug(f"writing the bundle to {root} for after-bundling commands")
        with timed(self.reporter, "tree written"):
            materialize(with_records(bundle), root)
        self.stages.after_bundling(config, root)
        with timed(self.reporter, "bytecode"):
            for rt, python in job.compilers.items():
                assert python is not None  # local hooks: local mode, where nothing is in an image
                for prefix in bundle.sites[rt]:
                    folder = root / prefix
                    if folder.is_dir():
                        runtime_path = f"{where}/{prefix}".rstrip("/")
                        compile_tree(folder, job.targets[rt].runtime, python,
                                     runtime_path=runtime_path, reporter=self.reporter)  # fmt: skip
        with timed(self.reporter, "tree read back"):
            return read_back(root, bundle)

    def _within_limit(self, job: ZipJob, bundle: Bundle) -> tuple[Bundle, str | None]:
        """A function without the bytecode that would take it and its layers over
        max-unzipped-size, largest distributions first, and what to say of it."""
        if job.config.kind != "function" or not job.compilers:
            return bundle, None
        limit = job.config.max_unzipped_size
        room = limit - sum(sum(layer.sizes.values()) for layer in job.layers.values())
        trimmed, left_out = within_room(bundle, room)
        if not left_out:
            return bundle, None
        saved = bundle.size - trimmed.size
        return trimmed, (
            f"{job.stem}.zip: left out the bytecode of {', '.join(left_out)} ({saved:,} bytes) "
            f"to stay within max-unzipped-size ({limit:,} bytes for the function and its "
            "layers); those modules are compiled at each cold start"
        )

    def _image_compiler(self, job: ZipJob, rt: str, output_dir: Path) -> Compiler:
        """The build image's interpreter, for a runtime this machine has no interpreter of."""
        config, target = job.config, job.targets[rt]
        image = image_for(target, config, self.root, self.reporter)

        def compile_in_image(root: Path, runtime_path: str) -> None:
            staging = container_staging(output_dir)
            try:
                compiled = compile_in_container(
                    root, target, config, runtime_path=runtime_path, staging=staging,
                    reporter=self.reporter, project_root=self.root,
                )  # fmt: skip
                shutil.copytree(compiled, root, dirs_exist_ok=True)
            finally:
                shutil.rmtree(staging, ignore_errors=True)

        return Compiler(f"image {image.digest or image.reference}", compile_in_image)

    def _audit(
        self, job: ZipJob, bundle: Bundle, reader: Reader
    ) -> tuple[dict[str, int], tuple[str, ...]]:
        """Every rule for every runtime; returns unzipped sizes by distribution, and the
        warnings said."""
        config = job.config
        provided: dict[str, str | None] = backports_left_out(job.left_out)
        for layer in job.layers.values():
            provided.update({str(k): v for k, v in layer.dists.get(config.runtime, {}).items()})
        digests = {w.path: w.sha256 for ws in job.selected.values() for w in ws}
        self.reporter.waiting(f"Auditing {counted(len(bundle.entries), 'file')}")
        facts = {}
        for machine in {t.machine for t in job.targets.values()}:
            facts[machine] = ElfFacts(reader, machine, digests, self.reporter)
            facts[machine].prepare(digests)
        # Code alone, with no layer named: its dependencies are deployed elsewhere.
        deployed_here = config.contents != "project" or bool(config.layers)
        python = job.targets[config.runtime].python_version
        importable = Importable(
            frozenset().union(*(layer_modules(lay.path, python) for lay in job.layers.values()
                                if lay.path is not None)),
            runtime_provided=config.exclude_runtime_provided, complete=deployed_here,
        )  # fmt: skip
        findings = audit_bundle(
            bundle, job.targets, reader=reader, facts=facts,
            handler=config.handler if config.kind == "function" else None,
            roots=[(self.project.name, config.extras)], provided=provided,
            bytecode_versions=[r.removeprefix("python") for r in config.all_runtimes],
            closure=deployed_here, importable=importable,
            runtime_provided=config.exclude_runtime_provided,
        )  # fmt: skip
        sizes = distribution_sizes(bundle.entries.values())
        if config.kind == "function":
            parts = {
                "function": sizes,
                **{f"layer {n}": lay.sizes for n, lay in job.layers.items()},
            }
            findings += check_size(f"{job.stem}.zip", parts, limit=config.max_unzipped_size)
        errors = [f for f in findings if f.rule not in config.audit_warn and not f.warning]
        warnings = [f"{job.stem}.zip: {f}" for f in findings if f not in errors]
        for warning in warnings:
            self.reporter.warning(warning)
        if errors:
            raise AuditError(f"{job.stem}.zip", list(dict.fromkeys(str(f) for f in errors)))
        return sizes, tuple(warnings)
