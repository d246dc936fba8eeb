"""The one place that joins the stages: config -> target -> requirements -> wheelhouse ->
install -> prune -> audit -> archive (+ manifest)."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import parse_wheel_filename

from . import requirements as _requirements
from ._report import Reporter
from .archive import ArchiveInfo, write_zip
from .audit import audit_tree
from .config import LambdaConfig
from .errors import AuditError
from .install import InstallTree, install_wheels
from .manifest import PackageEntry, manifest_data, write_manifest
from .prune import prune
from .target import Target, resolve_target
from .wheelhouse import Indexes, build_wheelhouse, choose_resolver


@dataclass(frozen=True)
class BuildResult:
    archive: ArchiveInfo
    manifest: Path
    target: Target


def prepare_target(config: LambdaConfig, reporter: Reporter) -> Target:
    """The target for *config*; warns about platform tags Lambda cannot load."""
    target, warnings = resolve_target(config.runtime, config.architecture, config.platform_tags)
    for warning in warnings:
        reporter.warning(warning)
    return target


def artifact_stem(project_wheel: Path, target: Target) -> str:
    name, version, _, _ = parse_wheel_filename(project_wheel.name)
    escaped = re.sub(r"[-_.]+", "_", name)
    return f"{escaped}-{version}-{target.runtime.name}-{target.architecture}"


def remove_artifacts(directory: Path, project_name: str) -> list[Path]:
    """Delete this project's Lambda artifacts (zips and manifests) in *directory*, nothing else."""
    escaped = re.sub(r"[-_.]+", "_", project_name)
    pattern = re.compile(
        rf"^{re.escape(escaped)}-[^-]+-python3\.\d+-(x86_64|arm64)\.(zip|json)$", re.IGNORECASE
    )
    removed = []
    if directory.is_dir():
        for path in sorted(directory.iterdir()):
            if path.is_file() and pattern.match(path.name):
                path.unlink()
                removed.append(path)
    return removed


def output_directory(config: LambdaConfig, project_root: Path, wheel_directory: Path) -> Path:
    """Where a relative ``directory`` points: the project root, as for any Hatch setting.

    The exception is a build from an unpacked sdist (``python -m build`` does that in a temporary
    folder that is deleted afterwards): there the artifact goes beside the wheel's output folder,
    which is the project's ``dist/``.
    """
    base = (
        wheel_directory.resolve().parent if (project_root / "PKG-INFO").is_file() else project_root
    )
    return (base / config.directory).resolve()


def build_function(
    config: LambdaConfig,
    *,
    project_wheel: Path,
    project_root: Path,
    output_dir: Path,
    reporter: Reporter,
) -> BuildResult:
    """Build the function zip and its manifest for the project whose wheel is *project_wheel*."""
    target = prepare_target(config, reporter)
    reporter.info(f"Building a Lambda function zip for {target.label}")
    reqs = _requirements.load_requirements(
        config.requirements,
        project_root=project_root,
        project_wheel=project_wheel,
        environment=target.marker_environment(),
        extras=config.extras,
        groups=config.groups,
        poetry_include_hashes=config.poetry_include_hashes,
        poetry_without_urls=config.poetry_without_urls,
        reporter=reporter,
    )
    reporter.info(f"Requirements: {reqs.source}")
    indexes = Indexes.from_options(
        config.index_url or reqs.index_url,
        (*config.extra_index_urls, *reqs.extra_index_urls),
        (*config.find_links, *reqs.find_links),
    )
    reporter.debug(
        "indexes: " + ", ".join(indexes.urls()) + " (credentials are shown as ***)", level=1
    )
    custom = config.platform_tags is not None
    resolving = isinstance(reqs, _requirements.RequirementSet) and bool(reqs.requirements)
    resolver = choose_resolver(config.resolver, custom_platforms=custom) if resolving else None

    with tempfile.TemporaryDirectory(prefix="hatch-lambda-") as tmp:
        work = Path(tmp)
        wheels = build_wheelhouse(
            reqs,
            target,
            indexes,
            resolver=config.resolver,
            custom_platforms=custom,
            workdir=work,
            reporter=reporter,
        )
        tree = InstallTree(root=work / "tree", unbundled=work / "unbundled")
        project_name, project_version, _, project_tags = parse_wheel_filename(project_wheel.name)
        project_label = f"{project_name} {project_version} (this project)"
        install_wheels(
            [*((f"{w.name} {w.version}", w.path) for w in wheels), (project_label, project_wheel)],
            tree,
            target,
            reporter,
        )
        removed = prune(tree.root)
        if removed:
            reporter.debug(f"pruned {len(removed)} paths: {', '.join(removed[:10])}")

        findings = audit_tree(
            tree.root, target, handler=config.handler,
            roots=[(str(project_name), config.extras)],
        )  # fmt: skip
        stem = artifact_stem(project_wheel, target)
        if findings:
            raise AuditError(f"{stem}.zip", [str(f) for f in findings])

        reporter.waiting(f"Writing {stem}.zip")
        archive = write_zip(tree.root, output_dir / f"{stem}.zip")

    packages = [
        PackageEntry(
            w.name,
            w.version,
            w.path.name,
            tuple(sorted(str(t) for t in w.tags)),
            "sdist" if w.built_from_sdist else "index",
        )
        for w in wheels
    ]
    packages.append(
        PackageEntry(
            str(project_name),
            str(project_version),
            project_wheel.name,
            tuple(sorted(str(t) for t in project_tags)),
            "project",
        )
    )
    manifest = output_dir / f"{stem}.json"
    write_manifest(
        manifest,
        manifest_data(
            kind="function",
            target=target,
            handler=config.handler,
            requirements_source=reqs.source,
            resolver=resolver,
            packages=packages,
            archive=archive,
        ),
    )
    return BuildResult(archive=archive, manifest=manifest, target=target)
