"""The one place that joins the stages: config -> target -> requirements -> wheelhouse ->
install -> prune -> audit -> archive (+ manifest), for every artifact of the project."""

from __future__ import annotations

import csv
import dataclasses
import posixpath
import re
import shutil
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hatchling.builders.utils import get_reproducible_timestamp
from packaging.utils import NormalizedName, canonicalize_name, parse_wheel_filename

from . import requirements as _requirements
from ._report import Reporter
from .archive import ArchiveInfo, WheelEntry, write_zip
from .audit import audit_tree, check_size, distribution_sizes
from .bytecode import compile_tree
from .cache import (
    cache_key,
    load_json,
    refresh_requested,
    sha256_file,
    store_file,
    store_json,
    stored_file,
)
from .commands import run_commands, stage_project
from .config import ArtifactConfig, LambdaConfig
from .errors import AuditError, HatchLambdaError, WheelSelectionError
from .install import InstallTree, install_wheels
from .manifest import PackageEntry, manifest_data, write_manifest
from .prune import (
    DEFAULT_EXCLUDES,
    RUNTIME_PROVIDED,
    SLIM_EXCLUDES,
    project_test_excludes,
    prune,
    unneeded_distributions,
)
from .requirements._project import read_wheel_metadata
from .target import Target, resolve_target
from .wheelhouse import Indexes, Wheel, build_wheelhouse, choose_resolver
from .wheelhouse._container import build_in_container, compile_in_container


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


@dataclass(frozen=True)
class _Collected:
    target: Target
    source: str
    resolver: str | None
    wheels: list[Wheel]


@dataclass
class _Project:
    wheel: Path
    root: Path
    name: str
    version: str
    tags: tuple[str, ...]
    top_levels: list[str]


def prepare_target(runtime: str, artifact: ArtifactConfig, reporter: Reporter) -> Target:
    """The target of *artifact* on *runtime*; warns about platform tags Lambda cannot load."""
    target, warnings = resolve_target(
        runtime, artifact.architecture, artifact.platform_tags,
        built_in_image=bool(artifact.container),
    )  # fmt: skip
    for warning in warnings:
        reporter.warning(warning)
    return target


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


class _Builder:
    def __init__(self, project: _Project, work: Path, output_dir: Path, reporter: Reporter) -> None:
        self.project = project
        self.work = work
        self.output_dir = output_dir
        self.reporter = reporter
        self.layers: dict[str, BuildResult] = {}
        self._collected: dict[tuple[object, ...], _Collected] = {}

    # requirements + wheelhouse, shared by artifacts that ask for the same thing
    def collect(self, artifact: ArtifactConfig, runtime: str) -> _Collected:
        key = (
            runtime, artifact.architecture, artifact.platform_tags, artifact.requirements,
            artifact.extras, artifact.groups, artifact.resolver, artifact.index_url,
            artifact.extra_index_urls, artifact.find_links, artifact.poetry_include_hashes,
            artifact.poetry_without_urls, artifact.container, artifact.image,
            artifact.containerfile, artifact.before_bundling,
        )  # fmt: skip
        if key in self._collected:
            return self._collected[key]
        target = prepare_target(runtime, artifact, self.reporter)
        reqs = _requirements.load_requirements(
            artifact.requirements,
            project_root=self._stage(artifact) or self.project.root,
            project_wheel=self.project.wheel,
            environment=target.marker_environment(),
            extras=artifact.extras,
            groups=artifact.groups,
            poetry_include_hashes=artifact.poetry_include_hashes,
            poetry_without_urls=artifact.poetry_without_urls,
            reporter=self.reporter,
        )
        self.reporter.info(f"Requirements: {reqs.source}")
        indexes = Indexes.from_options(
            artifact.index_url or reqs.index_url,
            (*artifact.extra_index_urls, *reqs.extra_index_urls),
            (*artifact.find_links, *reqs.find_links),
        )
        self.reporter.debug("indexes: " + ", ".join(indexes.urls()) + " (credentials shown as ***)")
        custom = artifact.platform_tags is not None
        resolving = isinstance(reqs, _requirements.RequirementSet) and bool(reqs.requirements)
        resolver = (
            choose_resolver(artifact.resolver, custom_platforms=custom) if resolving else None
        )
        if artifact.container:
            return self._collect_in_container(key, artifact, target, reqs, indexes)
        wheels = build_wheelhouse(
            reqs, target, indexes, resolver=artifact.resolver, custom_platforms=custom,
            workdir=self.work / f"collect{len(self._collected)}", reporter=self.reporter,
            refresh=artifact.refresh or refresh_requested(),
        )  # fmt: skip
        collected = _Collected(target, reqs.source, resolver, wheels)
        self._collected[key] = collected
        return collected

    def _stage(self, artifact: ArtifactConfig) -> Path | None:
        """Local mode with command hooks: the staged copy of the project they run in (made and
        its before-bundling commands run once per artifact); lockfiles are read from it."""
        if artifact.container or not (artifact.before_bundling or artifact.after_bundling):
            return None
        stage = self.work / f"stage-{artifact.name or 'default'}"
        if not stage.exists():
            stage_project(self.project.root, stage)
            run_commands(artifact.before_bundling, stage="before-bundling", cwd=stage,
                         env={"HATCH_LAMBDA_STAGE": str(stage)}, reporter=self.reporter)  # fmt: skip
        return stage

    def _collect_in_container(
        self, key: tuple[object, ...], artifact: ArtifactConfig, target: Target,
        reqs: _requirements.Requirements, indexes: Indexes,
    ) -> _Collected:  # fmt: skip
        staging = _staging(self.output_dir)
        try:
            built = build_in_container(
                reqs, target, indexes, artifact, project_root=self.project.root,
                staging=staging, reporter=self.reporter,
            )  # fmt: skip
            keep = self.work / f"container{len(self._collected)}"
            keep.mkdir()
            wheels = []
            for name, version, path, here in built:
                wheels.append(
                    Wheel(name, version, Path(shutil.copy2(path, keep / path.name)), here)
                )
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        _check_container_tags(wheels, target)
        collected = _Collected(target, f"{reqs.source} (in a container)", "pip (container)", wheels)
        self._collected[key] = collected
        return collected

    def select(
        self, artifact: ArtifactConfig, runtime: str, collected: _Collected
    ) -> tuple[list[Wheel], list[str]]:
        """The dependency wheels this artifact holds on *runtime*, and what was left out, why."""
        if artifact.contents == "project":
            return [], []
        wheels = list(collected.wheels)
        removed: list[str] = []
        env = collected.target.marker_environment()
        if artifact.exclude_runtime_provided:
            requires = {canonicalize_name(w.name): read_wheel_metadata(w.path)[1] for w in wheels}
            direct = _requirements.from_project_wheel(
                self.project.wheel, extras=artifact.extras, environment=env
            )
            dropped = unneeded_distributions(
                requires, [r.name for r in direct.requirements], env, drop=RUNTIME_PROVIDED
            )
            removed += [
                f"{w.name} {w.version} (provided by the runtime)"
                for w in wheels
                if canonicalize_name(w.name) in dropped
            ]
            wheels = [w for w in wheels if canonicalize_name(w.name) not in dropped]
        for layer_name in artifact.layers:
            held = self.layers[layer_name].dists.get(runtime, {})
            kept = []
            for w in wheels:
                if held.get(canonicalize_name(w.name)) == w.version:
                    removed.append(f"{w.name} {w.version} (in layer {layer_name})")
                else:
                    kept.append(w)
            wheels = kept
        return wheels, removed

    def build(self, artifact: ArtifactConfig) -> BuildResult:
        what = f"{artifact.kind} {artifact.name}" if artifact.name else artifact.kind
        what += "" if artifact.kind == "wheelhouse" else " zip"
        runtimes = artifact.all_runtimes
        plan = _Plan(
            artifact=artifact,
            stem=artifact_stem(self.project.wheel, artifact),
            label=f"{what} for {'/'.join(runtimes)} {artifact.architecture}",
            collected={rt: self.collect(artifact, rt) for rt in runtimes},
        )
        self.reporter.info(f"Building Lambda {plan.label}")
        for rt in runtimes:
            plan.selected[rt], why = self.select(artifact, rt, plan.collected[rt])
            plan.removed += [r for r in why if r not in plan.removed]
        for line in plan.removed:
            self.reporter.info(f"  left out {line}")
        if artifact.kind == "wheelhouse":
            return self._wheelhouse(plan)
        key = self._artifact_key(plan)
        reused = self._reuse(plan, key)
        if reused is not None:
            return reused
        deps_key = self._deps_key(plan)
        deps = _Deps.load(deps_key) if deps_key else None
        if deps is not None:
            self.reporter.info("Only the project changed: reusing the dependencies as built before")
        layout = self._install(plan, project_only=deps is not None)
        self._prune_and_compile(plan, layout)
        sizes = self._audit(plan, layout, deps)
        result = self._write(plan, layout, sizes, deps)
        self._remember(key, result)
        if deps_key and deps is None:
            _Deps.store(deps_key, result, self._project_entries(layout))
        return result

    def _deps_key(self, plan: _Plan) -> str | None:
        """The artifact's key without the project's code: equal keys, equal dependency part.

        None when the dependency part cannot be told apart from the rest: a hook may have changed
        any file, and a dependencies-only artifact is all dependency part anyway.
        """
        artifact = plan.artifact
        if artifact.after_bundling or artifact.contents != "all":
            return None
        requires = read_wheel_metadata(self.project.wheel)[1]
        return cache_key(
            "dependencies", plan.stem, dataclasses.asdict(artifact), sorted(requires),
            self.project.top_levels,
            {rt: [(w.name, w.version, w.path.name, w.built_from_sdist) for w in ws]
             for rt, ws in plan.selected.items()},
            [w.sha256 for ws in plan.selected.values() for w in ws],
            {n: self.layers[n].dists for n in artifact.layers},
            get_reproducible_timestamp(), plan.removed,
        )  # fmt: skip

    def _project_entries(self, layout: _Layout) -> set[str]:
        """The archive paths the project's wheel installed, with their bytecode."""
        name = _escape(self.project.name)
        prefix = _relative(layout.shared, layout.root)
        owned = set()
        for record in layout.shared.glob(f"{name}-*.dist-info/RECORD"):
            for row in csv.reader(record.read_text(encoding="utf-8").splitlines()):
                if row:
                    owned.add(posixpath.normpath(f"{prefix}/{row[0]}" if prefix else row[0]))
        compiled = set()
        for path in layout.root.rglob("__pycache__/*.pyc"):
            rel = path.relative_to(layout.root).as_posix()
            source = posixpath.join(
                posixpath.dirname(posixpath.dirname(rel)), path.name.split(".")[0] + ".py"
            )
            if source in owned:
                compiled.add(rel)
        return owned | compiled

    def _artifact_key(self, plan: _Plan) -> str:
        """Everything the bytes of an artifact depend on: a rebuild with an equal key can only
        produce the same archive."""
        artifact = plan.artifact
        return cache_key(
            "artifact", plan.stem, dataclasses.asdict(artifact),
            {rt: [(w.name, w.version, w.path.name, w.built_from_sdist) for w in ws]
             for rt, ws in plan.selected.items()},
            [w.sha256 for ws in plan.selected.values() for w in ws],
            sha256_file(self.project.wheel),
            {n: self.layers[n].dists for n in artifact.layers},
            get_reproducible_timestamp(), plan.removed,
        )  # fmt: skip

    def _reuse(self, plan: _Plan, key: str) -> BuildResult | None:
        data = load_json("artifact", key)
        archive = stored_file("artifact", key, "archive.zip")
        manifest = stored_file("artifact", key, "manifest.json")
        if not isinstance(data, dict) or archive is None or manifest is None:
            return None
        self.reporter.info(f"Nothing changed since {plan.stem}.zip was last built: reusing it")
        zip_path = self.output_dir / f"{plan.stem}.zip"
        manifest_path = self.output_dir / f"{plan.stem}.json"
        self.output_dir.mkdir(parents=True, exist_ok=True)
        for source, destination in ((archive, zip_path), (manifest, manifest_path)):
            tmp = destination.with_name(f".{destination.name}.reuse")
            shutil.copyfile(source, tmp)
            tmp.chmod(0o644)
            tmp.replace(destination)
        dists = {
            rt: {canonicalize_name(k): v for k, v in d.items()} for rt, d in data["dists"].items()
        }
        return BuildResult(plan.artifact, zip_path, manifest_path, plan.label, data["size"],
                           data["code_sha256"], dists, data["sizes"])  # fmt: skip

    def _remember(self, key: str, result: BuildResult) -> None:
        store_file("artifact", key, "archive.zip", result.path)
        store_file("artifact", key, "manifest.json", result.manifest)
        store_json("artifact", key, {
            "size": result.size, "code_sha256": result.code_sha256, "sizes": dict(result.sizes),
            "dists": {rt: dict(d) for rt, d in result.dists.items()},
        })  # fmt: skip

    def _project_pairs(self, artifact: ArtifactConfig) -> list[tuple[str, str, Path]]:
        p = self.project
        return [] if artifact.contents == "dependencies" else [(p.name, p.version, p.wheel)]

    def _wheelhouse(self, plan: _Plan) -> BuildResult:
        staging = self.work / f"{plan.stem}-wheelhouse"
        staging.mkdir(parents=True)
        files: dict[str, tuple[str, str, Path, list[str]]] = {}
        for rt, wheels in plan.selected.items():
            pairs = [(w.name, w.version, w.path) for w in wheels]
            for name, version, path in [*pairs, *self._project_pairs(plan.artifact)]:
                files.setdefault(path.name, (name, version, path, []))[3].append(rt)
        by_pin: dict[tuple[str, str], list[tuple[Path, list[str]]]] = {}
        for name, version, path, rts in files.values():
            by_pin.setdefault((canonicalize_name(name), version), []).append((path, rts))
        lines = []
        for (name, version), entries in sorted(by_pin.items()):
            rts = sorted({rt for _, r in entries for rt in r})
            marker = ""
            if len(rts) < len(plan.selected):
                # Several runtimes may need different releases: each pin says which it is for.
                marker = " ; " + " or ".join(f"python_version == '{rt[6:]}'" for rt in rts)
            hashes = " ".join(f"--hash=sha256:{sha256_file(p)}" for p, _ in sorted(entries))
            lines.append(f"{name}=={version}{marker} {hashes}\n")
            for path, _ in entries:
                shutil.copy2(path, staging / path.name)
        (staging / "requirements.txt").write_text("".join(lines), encoding="utf-8")
        destination = self.output_dir / staging.name
        _replace_folder(staging, destination)
        size = sum(p.stat().st_size for p in destination.iterdir())
        folder = destination.name
        install = f"pip install --no-index --find-links {folder} -r {folder}/requirements.txt"
        manifest = self._manifest(plan, {}, None, wheelhouse={
            "folder": destination.name, "files": len(files) + 1, "size": size, "install": install,
        })  # fmt: skip
        return BuildResult(plan.artifact, destination, manifest, plan.label, size, None)

    def _install(self, plan: _Plan, *, project_only: bool = False) -> _Layout:
        """Install into the archive tree: at its root for a function, under ``python/`` for a
        layer; a layer for several runtimes shares what is the same for all of them."""
        artifact, runtimes = plan.artifact, plan.artifact.all_runtimes
        base = self.work / plan.stem
        root = base / "tree"
        shared = root / "python" if artifact.kind == "layer" else root
        several = len(runtimes) > 1
        layout = _Layout(
            root,
            shared,
            {rt: shared / "lib" / rt / "site-packages" if several else shared for rt in runtimes},
        )
        common = set.intersection(*({w.path.name for w in plan.selected[rt]} for rt in runtimes))
        done: set[str] = set()
        for rt in [] if project_only else runtimes:
            target = plan.collected[rt].target
            for folder, wheels in (
                (shared, [w for w in plan.selected[rt] if w.path.name in common and w.path.name not in done]),
                (layout.site[rt], [w for w in plan.selected[rt] if w.path.name not in common]),
            ):  # fmt: skip
                for w in wheels:
                    layout.locations[(w.path.name, rt)] = _relative(folder, root)
                    done.add(w.path.name)
                if wheels:
                    pairs = [(f"{w.name} {w.version}", w.path) for w in wheels]
                    layout.reuse(folder, install_wheels(
                        pairs, InstallTree(folder, base / "unbundled"), target, self.reporter
                    ))  # fmt: skip
        for name, version, wheel in self._project_pairs(artifact):
            layout.locations[(wheel.name, "")] = _relative(shared, root)
            layout.reuse(shared, install_wheels(
                [(f"{name} {version} (this project)", wheel)],
                InstallTree(shared, base / "unbundled"),
                plan.collected[runtimes[0]].target, self.reporter,
            ))  # fmt: skip
        root.mkdir(parents=True, exist_ok=True)
        return layout

    def _prune_and_compile(self, plan: _Plan, layout: _Layout) -> None:
        artifact = plan.artifact
        patterns = [*DEFAULT_EXCLUDES, *project_test_excludes(self.project.top_levels)]
        patterns += [*(SLIM_EXCLUDES if artifact.slim else ()), *artifact.exclude]
        pruned = [path for folder in layout.folders() for path in prune(folder, patterns)]
        if pruned:
            self.reporter.debug(f"pruned {len(pruned)} paths: {', '.join(pruned[:20])}")
        stage = self._stage(artifact)
        if stage is not None and artifact.after_bundling:
            run_commands(artifact.after_bundling, stage="after-bundling", cwd=stage,
                         env={"HATCH_LAMBDA_STAGE": str(stage), "HATCH_LAMBDA_BUNDLE": str(layout.root)},
                         reporter=self.reporter)  # fmt: skip
            layout.reused.clear()  # the commands may have changed any file: compress afresh
        if artifact.compile_bytecode and artifact.container:
            where = "/opt" if artifact.kind == "layer" else "/var/task"
            target = plan.collected[artifact.runtime].target
            staging = _staging(self.output_dir)
            try:
                compiled = compile_in_container(
                    layout.root, target, artifact, runtime_path=where, staging=staging,
                    reporter=self.reporter, project_root=self.project.root,
                )  # fmt: skip
                shutil.rmtree(layout.root)
                shutil.move(str(compiled), layout.root)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        elif artifact.compile_bytecode:
            where = "/opt" if artifact.kind == "layer" else "/var/task"
            for rt in artifact.all_runtimes:
                for folder in dict.fromkeys((layout.shared, layout.site[rt])):
                    if folder.exists():
                        path = f"{where}/{_relative(folder, layout.root)}".rstrip("/")
                        compile_tree(folder, plan.collected[rt].target.runtime,
                                     runtime_path=path, reporter=self.reporter)  # fmt: skip

    def _audit(self, plan: _Plan, layout: _Layout, deps: _Deps | None = None) -> dict[str, int]:
        """Every rule for every runtime; returns unzipped sizes by distribution. With *deps*, the
        dependency part passed them when it was built: the project is checked against it."""
        artifact = plan.artifact
        provided: dict[str, str | None] = {}
        if deps is not None:
            provided.update(deps.dists.get(artifact.runtime, {}))
        if artifact.exclude_runtime_provided:
            provided.update(dict.fromkeys(RUNTIME_PROVIDED))
        for name in artifact.layers:
            held = self.layers[name].dists.get(artifact.runtime, {})
            provided.update({str(k): v for k, v in held.items()})
        findings = []
        for rt in artifact.all_runtimes:
            findings += audit_tree(
                list(dict.fromkeys((layout.shared, layout.site[rt]))), plan.collected[rt].target,
                archive_root=layout.root,
                handler=artifact.handler if artifact.kind == "function" else None,
                roots=[(self.project.name, artifact.extras)], provided=provided,
                bytecode_versions=[r.removeprefix("python") for r in artifact.all_runtimes],
                # Code alone, with no layer named: its dependencies are deployed elsewhere.
                closure=artifact.contents != "project" or bool(artifact.layers),
            )  # fmt: skip
        sizes: dict[str, int] = dict(deps.sizes) if deps is not None else {}
        for folder in layout.folders():
            for dist, size in distribution_sizes(folder).items():
                sizes[dist] = sizes.get(dist, 0) + size
        if artifact.kind == "function":
            parts = {
                "function": sizes,
                **{f"layer {n}": self.layers[n].sizes for n in artifact.layers},
            }
            findings += check_size(f"{plan.stem}.zip", parts, limit=artifact.max_unzipped_size)
        for finding in (f for f in findings if f.rule in artifact.audit_warn):
            self.reporter.warning(f"{plan.stem}.zip: {finding}")
        errors = [f for f in findings if f.rule not in artifact.audit_warn]
        if errors:
            raise AuditError(f"{plan.stem}.zip", list(dict.fromkeys(str(f) for f in errors)))
        return sizes

    def _write(
        self, plan: _Plan, layout: _Layout, sizes: dict[str, int], deps: _Deps | None = None
    ) -> BuildResult:
        artifact = plan.artifact
        self.reporter.waiting(f"Writing {plan.stem}.zip")
        archive = write_zip(
            layout.root, self.output_dir / f"{plan.stem}.zip", from_wheels=layout.reused,
            extra=deps.entries() if deps is not None else None,
        )  # fmt: skip
        if archive.size > artifact.warn_zipped_size:
            self.reporter.warning(
                f"{archive.path.name} is {archive.size:,} bytes zipped, over "
                f"{artifact.warn_zipped_size:,}: Lambda refuses a direct upload this large; "
                "deploy it through S3"
            )
        manifest = self._manifest(plan, layout.locations, archive)
        project = {canonicalize_name(n): v for n, v, _ in self._project_pairs(artifact)}
        dists = {
            rt: {**{canonicalize_name(w.name): w.version for w in plan.selected[rt]}, **project}
            for rt in artifact.all_runtimes
        }
        return BuildResult(artifact, archive.path, manifest, plan.label, archive.size,
                           archive.code_sha256, dists, sizes)  # fmt: skip

    def _manifest(
        self,
        plan: _Plan,
        locations: Mapping[tuple[str, str], str],
        archive: ArchiveInfo | None,
        wheelhouse: dict[str, object] | None = None,
    ) -> Path:
        artifact = plan.artifact
        first = plan.collected[artifact.all_runtimes[0]]
        path = self.output_dir / f"{plan.stem}.json"
        write_manifest(path, manifest_data(
            name=artifact.name, kind=artifact.kind, runtimes=artifact.all_runtimes,
            architecture=artifact.architecture, platforms=first.target.platforms,
            handler=artifact.handler, layers=artifact.layers, contents=artifact.contents,
            requirements_source=first.source, resolver=first.resolver,
            packages=self._packages(plan, locations), removed=plan.removed, archive=archive,
            wheelhouse=wheelhouse,
        ))  # fmt: skip
        return path

    def _packages(
        self, plan: _Plan, locations: Mapping[tuple[str, str], str]
    ) -> list[PackageEntry]:
        entries: dict[str, PackageEntry] = {}
        for rt, wheels in plan.selected.items():
            for w in wheels:
                old = entries.get(w.path.name)
                entries[w.path.name] = PackageEntry(
                    w.name, w.version, w.path.name, tuple(sorted(str(t) for t in w.tags)),
                    "sdist" if w.built_from_sdist else "index",
                    (*old.runtimes, rt) if old else (rt,),
                    locations.get((w.path.name, rt), ""),
                )  # fmt: skip
        ordered = sorted(entries.values(), key=lambda p: (canonicalize_name(p.name), p.wheel))
        for name, version, wheel in self._project_pairs(plan.artifact):
            where = locations.get((wheel.name, ""), "")
            ordered.append(
                PackageEntry(name, version, wheel.name, self.project.tags, "project",
                             tuple(plan.selected), where)
            )  # fmt: skip
        return ordered


@dataclass
class _Plan:
    artifact: ArtifactConfig
    stem: str
    label: str
    collected: Mapping[str, _Collected]
    selected: dict[str, list[Wheel]] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)


@dataclass
class _Layout:
    root: Path
    """The archive's root."""
    shared: Path
    """Where what every runtime shares goes: the root for a function, ``python/`` for a layer."""
    site: dict[str, Path]
    """Per runtime, the folder its own wheels go into (``shared`` unless a layer serves several)."""
    locations: dict[tuple[str, str], str] = field(default_factory=dict)
    reused: dict[str, WheelEntry] = field(default_factory=dict)
    """Archive path -> the wheel entry it was installed from unchanged."""

    def reuse(self, folder: Path, entries: Mapping[str, WheelEntry]) -> None:
        prefix = _relative(folder, self.root)
        for path, entry in entries.items():
            self.reused[f"{prefix}/{path}" if prefix else path] = entry

    def folders(self) -> list[Path]:
        return [f for f in dict.fromkeys((self.shared, *self.site.values())) if f.exists()]


@dataclass
class _Deps:
    """The dependency part of an earlier build of an artifact: its archive (whose dependency
    entries are copied as they are), which entries those are, and what the audit needs."""

    archive: Path
    names: list[str]
    dists: dict[str, dict[str, str | None]]
    sizes: dict[str, int]

    @classmethod
    def load(cls, key: str) -> _Deps | None:
        data = load_json("dependencies", key)
        archive = stored_file("dependencies", key, "archive.zip")
        if not isinstance(data, dict) or archive is None:
            return None
        return cls(archive, data["names"], data["dists"], data["sizes"])

    @classmethod
    def store(cls, key: str, result: BuildResult, project_entries: set[str]) -> None:
        with zipfile.ZipFile(result.path) as zf:
            names = [n for n in zf.namelist() if n not in project_entries]
        project = {canonicalize_name(n) for d in result.dists.values() for n in d} - {
            canonicalize_name(n.split("/", 1)[0].split("-")[0]) for n in names if ".dist-info/" in n
        }
        store_file("dependencies", key, "archive.zip", result.path)
        dists = {
            rt: {k: v for k, v in d.items() if k not in project} for rt, d in result.dists.items()
        }
        sizes = {
            k: v
            for k, v in result.sizes.items()
            if canonicalize_name(k.split(" ")[0]) not in project
        }
        store_json("dependencies", key, {"names": names, "dists": dists, "sizes": sizes})

    def entries(self) -> dict[str, WheelEntry]:
        with zipfile.ZipFile(self.archive) as zf:
            infos = {i.filename: i for i in zf.infolist()}
        return {name: WheelEntry(self.archive, infos[name]) for name in self.names}


def _staging(output_dir: Path) -> Path:
    """A folder for files a container sees, inside the project's output folder, never the
    system's temporary folder, which engines that run in a VM (Finch, Docker Desktop, Podman
    machine) do not share by default."""
    output_dir.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=".hatch-lambda-stage-", dir=output_dir))


def _check_container_tags(wheels: list[Wheel], target: Target) -> None:
    bad = [f"{w.path.name}" for w in wheels if not target.accepts(w.tags)]
    if bad:
        raise WheelSelectionError(
            f"the container built wheels {target.label} cannot load: {', '.join(bad)}; check that "
            "the image is for this runtime and architecture"
        )


def _replace_folder(staging: Path, destination: Path) -> None:
    """Put *staging* at *destination*, replacing an earlier folder only once the new one is whole."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    old = destination.with_name(f".{destination.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if destination.exists():
        destination.rename(old)
    shutil.move(str(staging), destination)
    shutil.rmtree(old, ignore_errors=True)


def _relative(folder: Path, root: Path) -> str:
    rel = folder.relative_to(root).as_posix()
    return "" if rel == "." else rel


def _top_levels(wheel: Path) -> list[str]:
    import zipfile

    with zipfile.ZipFile(wheel) as zf:
        return sorted(
            {
                n.split("/", 1)[0]
                for n in zf.namelist()
                if "/" in n and not n.split("/", 1)[0].endswith((".dist-info", ".data"))
            }
        )


def build_artifacts(
    config: LambdaConfig,
    *,
    project_wheel: Path,
    project_root: Path,
    output_dir: Path,
    reporter: Reporter,
) -> list[BuildResult]:
    """Build every artifact of *config* (layers first) for the project of *project_wheel*."""
    name, version, _, tags = parse_wheel_filename(project_wheel.name)
    project = _Project(
        project_wheel, project_root, str(name), str(version),
        tuple(sorted(str(t) for t in tags)), _top_levels(project_wheel),
    )  # fmt: skip
    ordered = sorted(config.artifacts, key=lambda a: a.kind != "layer")
    results: list[BuildResult] = []
    with tempfile.TemporaryDirectory(prefix="hatch-lambda-") as tmp:
        builder = _Builder(project, Path(tmp), output_dir, reporter)
        for artifact in ordered:
            result = builder.build(artifact)
            if artifact.kind == "layer" and artifact.name:
                builder.layers[artifact.name] = result
            results.append(result)
    return results


__all__ = [
    "BuildResult",
    "HatchLambdaError",
    "build_artifacts",
    "output_directory",
    "remove_artifacts",
]
