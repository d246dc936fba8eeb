"""What to publish: the project and its output folder, found as the build finds them, and the
artifacts of its current version that the manifests there describe, each checked against its zip."""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from .._report import counted
from .._suggest import closest
from ..errors import ConfigError, HatchLambdaError, ManifestError
from ._options import PROJECT_KEY, PublishOptions

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

RECORD_NAME = "deployment.json"
DIRECT_UPLOAD_LIMIT = 52_428_800
"""Lambda's largest zip for a direct upload (50 MB); larger ones go through S3."""


@dataclass(frozen=True)
class Project:
    root: Path
    name: str
    version: str
    pyproject: Mapping[str, Any]


@dataclass(frozen=True)
class Artifact:
    """One zip and what its manifest says of it."""

    name: str | None
    """The artifact's name in the build table; None for the single artifact of a project."""
    kind: str
    zip: Path
    manifest: Path
    sha256: str
    code_sha256: str
    size: int
    runtimes: tuple[str, ...]
    architecture: str
    handler: str | None
    layers: tuple[str, ...]

    @property
    def label(self) -> str:
        return self.name or self.kind


@dataclass(frozen=True)
class LayerStep:
    artifact: Artifact
    layer: str
    """The layer's name or ARN without a version."""


@dataclass(frozen=True)
class FunctionStep:
    artifact: Artifact
    function: str
    """The function's name or ARN."""
    layers: tuple[str, ...]
    """The layer artifacts it is deployed with, by name, from its manifest."""


@dataclass(frozen=True)
class Plan:
    project: Project
    folder: Path
    layers: tuple[LayerStep, ...]
    functions: tuple[FunctionStep, ...]
    notes: tuple[str, ...] = ()


def find_project(start: Path) -> Project:
    """The project whose ``pyproject.toml`` is in *start* or the nearest folder above it."""
    start = start.resolve()
    root = next((d for d in (start, *start.parents) if (d / "pyproject.toml").is_file()), None)
    if root is None:
        raise HatchLambdaError(
            f"no pyproject.toml in {start} or above it: run from the project's folder"
        )
    try:
        data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise HatchLambdaError(f"cannot read {root / 'pyproject.toml'}: {exc}") from exc
    from hatchling.metadata.core import ProjectMetadata
    from hatchling.plugin.manager import PluginManager

    try:
        # Through hatchling, so that a dynamic version is read as the build reads it.
        metadata = ProjectMetadata(str(root), PluginManager())
        name, version = metadata.core.name, str(Version(metadata.version))
    except (ValueError, TypeError, LookupError, OSError, InvalidVersion) as exc:
        raise HatchLambdaError(
            f"cannot read the name and version of the project in {root}: {exc}"
        ) from exc
    return Project(root, name, version, data)


def _table(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def publish_table(project: Project) -> Mapping[str, Any]:
    tool = _table(_table(project.pyproject.get("tool")).get("hatch"))
    return _table(_table(tool.get("publish")).get("lambda"))


def output_folder(project: Project) -> Path:
    """The folder the build writes to: the hook table's ``directory``, else the ``lambda``
    builder's, else ``dist-lambda``, relative to the project's folder."""
    from .._tables import PLUGIN_NAME, hook_table

    build = _table(_table(_table(project.pyproject.get("tool")).get("hatch")).get("build"))
    hook = hook_table(build)
    builder = _table(_table(build.get("targets")).get(PLUGIN_NAME))
    directory = (hook[0] if hook else {}).get("directory") or builder.get("directory")
    return (project.root / str(directory or "dist-lambda")).resolve()


def _escape(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name)


def _strings(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key)
    if isinstance(value, str):
        return (value,)
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _read(manifest: Path, problems: list[str]) -> Artifact | None:
    from ..cache import sha256_file
    from ..inspect import read_manifest

    try:
        data = read_manifest(manifest)
    except ManifestError as exc:
        problems.append(f"{exc}; rebuild the artifacts")
        return None
    if data is None:
        problems.append(f"{manifest} does not exist; build the artifacts first (hatch build)")
        return None
    archive = _table(data.get("archive"))
    file, sha256, code = archive.get("file"), archive.get("sha256"), archive.get("code-sha256")
    kind = data.get("kind")
    runtimes = _strings(data, "runtimes") or _strings(data, "runtime")
    architecture = data.get("architecture")
    if kind == "wheelhouse":
        return None
    if not (isinstance(file, str) and isinstance(sha256, str) and isinstance(code, str)
            and kind in ("function", "layer") and runtimes and isinstance(architecture, str)):  # fmt: skip
        problems.append(
            f"{manifest} is not a manifest of a hatch-lambda zip (it lacks kind, runtimes, "
            "architecture or archive); rebuild the artifacts"
        )
        return None
    zip_path = manifest.parent / Path(file).name
    if not zip_path.is_file():
        problems.append(f"{zip_path.name}, which {manifest.name} describes, is missing from "
                        f"{manifest.parent}; rebuild the artifacts")  # fmt: skip
        return None
    actual = sha256_file(zip_path)
    if actual != sha256:
        problems.append(
            f"{zip_path} does not match its manifest {manifest.name}: the manifest records "
            f"sha256 {sha256} and the zip has {actual}, so the zip was changed or replaced after "
            "it was built. Rebuild it (hatch build) and publish again"
        )
        return None
    name, handler = data.get("name"), data.get("handler")
    return Artifact(
        name if isinstance(name, str) else None, str(kind), zip_path, manifest, sha256, code,
        zip_path.stat().st_size, runtimes, architecture,
        handler if isinstance(handler, str) else None, _strings(data, "layers"),
    )  # fmt: skip


def _manifests(project: Project, folder: Path, notes: list[str]) -> list[Path]:
    """The manifests of the project's current version in *folder*."""
    if not folder.is_dir():
        raise HatchLambdaError(
            f"{folder} does not exist: build the Lambda artifacts of {project.name} first "
            "(hatch build, or python -m build)"
        )
    stem = _escape(canonicalize_name(project.name))
    current = re.compile(rf"^{re.escape(stem)}-{re.escape(project.version)}-.*\.json$", re.I)
    ours = re.compile(rf"^{re.escape(stem)}-[^-]+-.*\.json$", re.I)
    found = sorted(p for p in folder.glob("*.json") if current.match(p.name))
    others = [p for p in folder.glob("*.json") if ours.match(p.name) and not current.match(p.name)]
    if others:
        notes.append(f"left alone: {counted(len(others), 'manifest')} of other versions than "
                     f"{project.version} in {folder}")  # fmt: skip
    if not found:
        raise HatchLambdaError(
            f"{folder} holds no manifest of {project.name} {project.version}: build the Lambda "
            "artifacts of this version first (hatch build)"
        )
    return found


def _given(paths: Sequence[Path]) -> tuple[Path | None, list[Path]]:
    """Artifacts named on the command line: one folder, or zips and manifests."""
    folders = [p for p in paths if p.is_dir()]
    if folders and len(paths) > 1:
        raise HatchLambdaError("give one output folder, or zips and manifests, not both")
    if folders:
        return folders[0].resolve(), []
    manifests = []
    for path in paths:
        manifest = path.with_suffix(".json") if path.suffix == ".zip" else path
        if manifest.suffix != ".json" or not path.exists():
            raise HatchLambdaError(
                f"{path} is not a Lambda zip or manifest (or does not exist): give the output "
                "folder, or zips built by hatch-lambda with their manifests beside them"
            )
        manifests.append(manifest.resolve())
    return None, list(dict.fromkeys(manifests))


def _closest(name: str, names: Sequence[str]) -> str:
    close = closest(name, names)
    return f"; did you mean {close!r}?" if close else ""


def route(artifact: Artifact, bucket: str | None, where: str) -> str:
    """How the zip reaches Lambda: ``"s3"`` with a bucket, ``"direct"`` without one; refused
    above Lambda's direct-upload limit without a bucket."""
    if bucket:
        return "s3"
    if artifact.size > DIRECT_UPLOAD_LIMIT:
        raise HatchLambdaError(
            f"{artifact.zip.name} is {artifact.size:,} bytes, over Lambda's "
            f"{DIRECT_UPLOAD_LIMIT:,}-byte (50 MB) limit for a direct upload: set s3-bucket "
            f"({where}) to a bucket in the function's region, and it goes through S3"
        )
    return "direct"


def make_plan(project: Project, options: PublishOptions, given: Sequence[Path] = ()) -> Plan:
    notes: list[str] = []
    folder, manifests = _given(given) if given else (None, [])
    if not manifests:
        folder = folder or output_folder(project)
        manifests = _manifests(project, folder, notes)
    else:
        folder = manifests[0].parent
    problems: list[str] = []
    artifacts = [a for a in (_read(m, problems) for m in manifests) if a is not None]
    if problems:
        raise HatchLambdaError(
            "\n".join(["nothing was published:", *(f"  - {p}" for p in problems)])
        )
    seen: dict[str | None, Artifact] = {}
    for artifact in artifacts:
        if artifact.name in seen:
            raise HatchLambdaError(
                f"{seen[artifact.name].manifest.name} and {artifact.manifest.name} both describe "
                f"the artifact {artifact.label!r} of {project.name} {project.version}: delete "
                "the stale one, or rebuild with hatch build --clean"
            )
        seen[artifact.name] = artifact
    layer_artifacts = [a for a in artifacts if a.kind == "layer"]
    function_artifacts = [a for a in artifacts if a.kind == "function"]
    bad: list[str] = []
    layer_names = [a.name or "" for a in layer_artifacts]
    for kind, wanted, built in (("layer", options.layers, layer_artifacts),
                                ("function", options.functions, function_artifacts)):  # fmt: skip
        names = [a.name or "" for a in built]
        for name in wanted:
            if name not in names:
                bad.append(f"{options.where(kind + 's')}.{name}: no {kind} artifact {name!r} among "
                           f"the manifests in {folder} ({kind}s: {', '.join(names) or 'none'})"
                           f"{_closest(name, names)}")  # fmt: skip
    if options.function_name and len(function_artifacts) != 1:
        bad.append(f"{options.where('function-name')} is for a project with one function "
                   f"artifact, and {folder} holds {len(function_artifacts)}: set functions, a "
                   "table of artifact name = function name, instead")  # fmt: skip
    layers = tuple(
        LayerStep(a, options.layers.get(a.name or "")
                  or _escape(canonicalize_name(project.name)).replace("_", "-")
                  + (f"-{a.name}" if a.name else ""))
        for a in layer_artifacts
    )  # fmt: skip
    functions = []
    for a in function_artifacts:
        function = options.function_name or options.functions.get(a.name or "")
        if function is None:
            key = f"functions.{a.name}" if a.name else "function-name"
            bad.append(
                f'no function to publish {a.zip.name} to: set {key} = "FUNCTION-NAME-OR-ARN" in '
                f"[{PROJECT_KEY}] (or -o {key}=...); functions are created by the infrastructure "
                "code (SAM, CDK, Terraform, CloudFormation), and publishing updates them"
            )
            continue
        missing = [n for n in a.layers if n not in layer_names]
        if missing:
            bad.append(f"{a.zip.name} is deployed with the layer {missing[0]!r}, whose manifest is "
                       f"not in {folder}: build it too (hatch build)")  # fmt: skip
            continue
        functions.append(FunctionStep(a, function, a.layers))
    if bad:
        raise ConfigError(bad)
    for artifact in [*(s.artifact for s in layers), *(s.artifact for s in functions)]:
        route(artifact, options.s3_bucket, options.where("s3-bucket"))
    return Plan(project, folder, layers, tuple(functions), tuple(notes))
