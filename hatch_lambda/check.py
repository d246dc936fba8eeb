"""`hatch-lambda check`: each artifact judged as the build judged it.

The manifest beside an artifact says what the build knew beyond its files: the runtimes and
architecture, the handler, the layers it is deployed with, whether the runtime's boto3 stands in
for the bundle's, which wheels were built in the runtime's image, and the options its audit took.
Without a manifest (an artifact made by another tool), the command line says what it can.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from .audit import (
    RULES,
    Deployment,
    Finding,
    LayerContents,
    check_artifact,
    check_wheelhouse,
    read_layer,
)
from .bundle import Reader
from .cache import sha256_file
from .config import MAX_UNZIPPED_SIZE
from .errors import HatchLambdaError, ManifestError
from .inspect import read_manifest
from .target import ARCHITECTURES, RUNTIME_PROVIDED, RUNTIMES, Target, resolve_target

_WHEELHOUSE = "-wheelhouse"


@dataclass(frozen=True)
class Options:
    """What the command line says; it wins over the manifest."""

    runtime: str | None = None
    architecture: str | None = None
    handler: str | None = None
    warn: Sequence[str] = ()
    layers: Sequence[Path] = ()


@dataclass(frozen=True)
class Checked:
    artifact: Path
    kind: str
    runtimes: tuple[str, ...]
    architecture: str
    errors: list[Finding]
    warnings: list[Finding]
    notes: list[str] = field(default_factory=list)
    """Said on stderr: a damaged manifest that was ignored."""

    @property
    def passed(self) -> bool:
        return not self.errors

    @property
    def label(self) -> str:
        return f"{'+'.join(self.runtimes)} {self.architecture}"


def manifest_path(artifact: Path) -> Path:
    """Where the build puts an artifact's manifest: ``X.json`` beside ``X.zip`` or beside the
    wheelhouse folder ``X-wheelhouse``."""
    if artifact.name.endswith(_WHEELHOUSE) and len(artifact.name) > len(_WHEELHOUSE):
        return artifact.with_name(artifact.name[: -len(_WHEELHOUSE)] + ".json")
    if artifact.suffix == ".zip":
        return artifact.with_suffix(".json")
    return artifact.with_name(artifact.name + ".json")


def artifact_paths(given: Iterable[str]) -> list[Path]:
    """The artifacts named, once each, in order; a manifest given (``dist-lambda/*``) stands for
    the artifact beside it."""
    paths: list[Path] = []
    for text in given:
        path = Path(text)
        if path.suffix == ".json":
            beside = [path.with_suffix(".zip"), path.with_name(path.stem + _WHEELHOUSE)]
            path = next((p for p in beside if p.exists()), path)
        if path not in paths:
            paths.append(path)
    return paths


def _strings(data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key)
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _packages(data: dict[str, Any]) -> list[dict[str, Any]]:
    packages = data.get("packages")
    return [p for p in packages if isinstance(p, dict)] if isinstance(packages, list) else []


def _read_manifest(path: Path, options: Options) -> tuple[dict[str, Any], list[str]]:
    where = manifest_path(path)
    try:
        return read_manifest(where) or {}, []
    except ManifestError as exc:
        if options.runtime and options.architecture:
            return {}, [f"{exc}: ignored, as --runtime and --architecture are given"]
        raise HatchLambdaError(
            f"{exc}; pass --runtime and --architecture, or delete the manifest or rebuild the "
            "artifact"
        ) from exc


def _verify(path: Path, manifest: dict[str, Any]) -> None:
    """The manifest describes this very zip, or nothing it says can be trusted."""
    archive = manifest.get("archive")
    recorded = archive.get("sha256") if isinstance(archive, dict) else None
    if not (path.is_file() and isinstance(recorded, str)):
        return
    actual = sha256_file(path)
    if actual != recorded:
        raise HatchLambdaError(
            f"{manifest_path(path)} does not describe {path.name}: it records sha256 {recorded}, "
            f"and the zip has {actual}, so the zip was changed or replaced after it was built. "
            "Rebuild it, or delete the manifest and pass --runtime and --architecture"
        )


def _target(path: Path, manifest: dict[str, Any], options: Options) -> tuple[list[str], str]:
    runtimes = [options.runtime] if options.runtime else _strings(manifest, "runtimes")
    runtimes = runtimes or _strings(manifest, "runtime")
    architecture = options.architecture or _text(manifest, "architecture")
    if not runtimes or architecture is None:
        raise HatchLambdaError(
            f"say which runtime and architecture {path} is for: --runtime python3.X "
            "--architecture x86_64|arm64 (hatch-lambda's own zips carry them in a manifest)"
        )
    for runtime in runtimes:
        if runtime not in RUNTIMES:
            raise HatchLambdaError(
                f"{manifest_path(path)} names runtime {runtime!r}, which this hatch-lambda does "
                f"not know ({', '.join(RUNTIMES)}); pass --runtime"
            )
    if architecture not in ARCHITECTURES:
        raise HatchLambdaError(
            f"{manifest_path(path)} names architecture {architecture!r}; pass --architecture"
        )
    return runtimes, architecture


def built_in_image(manifest: dict[str, Any]) -> frozenset[str]:
    """The distributions the manifest says were built in the runtime's build image. Manifests
    written before ``origin: container`` said ``sdist`` for them, with the resolver
    ``pip (container)``."""
    old = _text(manifest, "resolver") == "pip (container)"
    return frozenset(
        canonicalize_name(p["name"])
        for p in _packages(manifest)
        if isinstance(p.get("name"), str)
        and (p.get("origin") == "container" or (old and p.get("origin") == "sdist"))
    )


def check_paths(paths: Sequence[Path], options: Options) -> Iterable[Checked | HatchLambdaError]:
    """Each artifact checked in turn; one that cannot be checked at all is its error."""
    for path in paths:
        try:
            yield check_one(path, options)
        except HatchLambdaError as exc:
            yield exc
        except OSError as exc:
            where = exc.filename or path
            yield HatchLambdaError(f"cannot read {where}: {exc.strerror or exc}")


def check_one(path: Path, options: Options) -> Checked:
    if not path.exists():
        raise HatchLambdaError(f"{path} does not exist")
    if not (path.is_file() or path.is_dir()):  # a FIFO or a device would block or never end
        raise HatchLambdaError(f"{path} is neither a file nor a folder; give a zip or a folder")
    manifest, notes = _read_manifest(path, options)
    _verify(path, manifest)
    runtimes, architecture = _target(path, manifest, options)
    kind = _text(manifest, "kind") or ""
    if path.is_dir() and (kind == "wheelhouse" or path.name.endswith(_WHEELHOUSE)):
        return _wheelhouse(path, manifest, runtimes, architecture, options=options, notes=notes)
    handler = options.handler or (_text(manifest, "handler") if kind == "function" else None)
    warn = {*options.warn, *(r for r in _strings(manifest, "audit-warn") if r in RULES)}
    limit = manifest.get("max-unzipped-size")
    errors: dict[Finding, None] = {}
    warnings: dict[Finding, None] = {}
    layer = False
    for runtime in runtimes:
        target = resolve_target(runtime, architecture)[0]
        deployment = _deployment(path, manifest, target, given=options.layers)
        report = check_artifact(
            path, target, handler=handler, warn=warn, deployment=deployment,
            size_limit=limit if isinstance(limit, int) and limit > 0 else MAX_UNZIPPED_SIZE,
        )  # fmt: skip
        errors.update(dict.fromkeys(report.errors))
        warnings.update(dict.fromkeys(report.warnings))
        layer = report.layer
    kind = kind or ("layer" if layer else "function")
    return Checked(path, kind, tuple(runtimes), architecture, list(errors),
                   [w for w in warnings if w not in errors], notes)  # fmt: skip


def _wheelhouse(
    path: Path, manifest: dict[str, Any], runtimes: list[str], architecture: str, *,
    options: Options, notes: list[str],
) -> Checked:  # fmt: skip
    targets = {rt: resolve_target(rt, architecture)[0] for rt in runtimes}
    serves = {
        p["wheel"]: _strings(p, "runtimes") or runtimes
        for p in _packages(manifest)
        if isinstance(p.get("wheel"), str)
    }
    findings = check_wheelhouse(path, targets, serves=serves or None,
                                built_in_image=built_in_image(manifest))  # fmt: skip
    warn = {*options.warn, *_strings(manifest, "audit-warn")}
    errors = [f for f in findings if f.rule not in warn and not f.warning]
    warnings = [f for f in findings if f not in errors]
    return Checked(path, "wheelhouse", tuple(runtimes), architecture, errors, warnings, notes)


@dataclass(frozen=True)
class _Layer:
    name: str | None
    path: Path
    manifest: dict[str, Any]


def _layer_at(path: Path) -> _Layer:
    try:
        data = read_manifest(manifest_path(path)) or {}
    except ManifestError:
        data = {}  # a layer given by hand is read from its files alone
    name = _text(data, "name") if _text(data, "kind") == "layer" else None
    return _Layer(name, path, data)


def _beside(artifact: Path, manifest: dict[str, Any], name: str) -> list[_Layer]:
    """The layer artifacts named *name* in the artifact's folder: the file the manifest records,
    else every layer manifest of that name there."""
    recorded = manifest.get("layer-files")
    if isinstance(recorded, dict) and isinstance(recorded.get(name), str):
        candidate = artifact.parent / Path(recorded[name]).name
        if candidate.is_file():
            return [_layer_at(candidate)]
    found = []
    for json_path in sorted(artifact.parent.glob("*.json")):
        zip_path = json_path.with_suffix(".zip")
        if zip_path == artifact or not zip_path.is_file():
            continue
        layer = _layer_at(zip_path)
        if layer.name == name:
            found.append(layer)
    return found


def _left_out_of(manifest: dict[str, Any], name: str) -> dict[str, str | None]:
    """What the manifest says the build left out because layer *name* holds it."""
    suffix = f" (in layer {name})"
    held: dict[str, str | None] = {}
    for line in _strings(manifest, "left-out"):
        if line.endswith(suffix):
            dist, _, version = line[: -len(suffix)].partition(" ")
            held[dist] = version or None
    return held


def _deployment(
    path: Path, manifest: dict[str, Any], target: Target, *, given: Sequence[Path]
) -> Deployment:
    where = manifest_path(path).name
    findings: list[Finding] = []
    provided: dict[str, str | None] = {}
    layers = [_layer_at(p) for p in given]
    named = _strings(manifest, "layers") if _text(manifest, "kind") == "function" else []
    complete = True
    # A layer given without a manifest cannot be matched to a name: the layers given are then
    # taken to be the ones the function is deployed with.
    unnamed = any(layer.name is None for layer in layers)
    for name in named:
        if unnamed or any(layer.name == name for layer in layers):
            continue
        found = _beside(path, manifest, name)
        if len(found) == 1:
            layers += found
            continue
        complete = False
        provided.update(_left_out_of(manifest, name))
        if found:
            shown = ", ".join(layer.path.name for layer in found)
            why = (f"names layer {name!r}, and several layer artifacts of that name are beside "
                   f"it ({shown}); pass the one it is deployed with as --layer")  # fmt: skip
        else:
            why = (f"names layer {name!r}, and no layer artifact of that name is beside it; "
                   "pass the layer's zip as --layer. Until then, what the build left out for the "
                   "layer counts as present, and the layer's modules and size are not "
                   "counted")  # fmt: skip
        findings.append(Finding("layers", where, why))
    contents = []
    with Reader(max_size=MAX_UNZIPPED_SIZE) as reader:
        for layer in layers:
            label = f"layer {layer.name or layer.path.name}"
            findings += _fits(layer, label, target.runtime.name, target.architecture)
            read, problems = read_layer(layer.path, target.python_version, reader, label)
            contents.append(read)
            findings += problems
    if manifest.get("exclude-runtime-provided") is True or (
        "exclude-runtime-provided" not in manifest
        and any(s.endswith("(provided by the runtime)") for s in _strings(manifest, "left-out"))
    ):
        provided.update(dict.fromkeys(RUNTIME_PROVIDED))
        runtime_provided = True
    else:
        runtime_provided = False
    project = [p["name"] for p in _packages(manifest)
               if p.get("origin") == "project" and isinstance(p.get("name"), str)]  # fmt: skip
    # Code alone, with no layer: its dependencies are deployed some other way (as in the build).
    alone = _text(manifest, "contents") == "project" and not (named or given)
    return Deployment(
        layers=contents, provided=provided,
        roots=[(name, _strings(manifest, "extras")) for name in project],
        closure=not alone, runtime_provided=runtime_provided, complete=complete and not alone,
        built_in_image=built_in_image(manifest), findings=findings,
    )  # fmt: skip


def _fits(layer: _Layer, label: str, runtime: str, architecture: str) -> list[Finding]:
    """A layer whose manifest says it is for another architecture or runtime does not fit."""
    data = layer.manifest
    problems = []
    built = _text(data, "architecture")
    if built and built != architecture:
        problems.append(f"is built for {built}, not {architecture}")
    served = _strings(data, "runtimes")
    if served and runtime not in served:
        problems.append(f"serves {', '.join(served)}, not {runtime}")
    return [
        Finding("layers", layer.path.name, f"{label} {problem}, so the function cannot use it")
        for problem in problems
    ]


__all__ = [
    "Checked",
    "LayerContents",
    "Options",
    "artifact_paths",
    "check_one",
    "check_paths",
    "manifest_path",
]
