"""How a function is deployed, as the manifest beside it says: the layers it names (found
beside it, or given by hand), what the runtime provides, and which wheels were built in the
runtime's image; and how to read a manifest's fields without trusting their types."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from ._toplevel import backports_left_out
from .audit import Deployment, Finding, read_layer
from .bundle import Reader
from .cache import sha256_file
from .config import MAX_UNZIPPED_SIZE
from .errors import ManifestError
from .inspect import read_manifest
from .target import Target

WHEELHOUSE = "-wheelhouse"


def manifest_path(artifact: Path) -> Path:
    """Where the build puts an artifact's manifest: ``X.json`` beside ``X.zip`` or beside the
    wheelhouse folder ``X-wheelhouse``."""
    if artifact.name.endswith(WHEELHOUSE) and len(artifact.name) > len(WHEELHOUSE):
        return artifact.with_name(artifact.name[: -len(WHEELHOUSE)] + ".json")
    if artifact.suffix == ".zip":
        return artifact.with_suffix(".json")
    return artifact.with_name(artifact.name + ".json")


def not_described(path: Path, manifest: dict[str, Any]) -> str | None:
    """Why *manifest* does not describe the zip at *path*, or None when its sha256 matches (or it
    records none): a manifest that describes other bytes says nothing to trust."""
    archive = manifest.get("archive")
    recorded = archive.get("sha256") if isinstance(archive, dict) else None
    if not (path.is_file() and isinstance(recorded, str)):
        return None
    actual = sha256_file(path)
    if actual == recorded:
        return None
    return (
        f"{manifest_path(path)} does not describe {path.name}: it records sha256 {recorded}, and "
        f"the zip has {actual}, so the zip was changed or replaced after it was built"
    )


def strings(data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key)
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def packages(data: dict[str, Any]) -> list[dict[str, Any]]:
    listed = data.get("packages")
    return [p for p in listed if isinstance(p, dict)] if isinstance(listed, list) else []


def built_in_image(manifest: dict[str, Any]) -> frozenset[str]:
    """The distributions the manifest says were built in the runtime's build image: of origin
    ``container``, and in container mode (``container-images``) the local sources, built there
    too. Manifests written before ``origin: container`` said ``sdist`` for them, with the
    resolver ``pip (container)``."""
    old = text(manifest, "resolver") == "pip (container)"
    in_image = {"container", *(("local",) if manifest.get("container-images") else ())}
    return frozenset(
        canonicalize_name(p["name"])
        for p in packages(manifest)
        if isinstance(p.get("name"), str)
        and (p.get("origin") in in_image or (old and p.get("origin") == "sdist"))
    )


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
    name = text(data, "name") if text(data, "kind") == "layer" else None
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
    for line in strings(manifest, "left-out"):
        if line.endswith(suffix):
            dist, _, version = line[: -len(suffix)].partition(" ")
            held[dist] = version or None
    return held


def find_deployment(
    path: Path, manifest: dict[str, Any], target: Target, *, given: Sequence[Path]
) -> Deployment:
    where = manifest_path(path).name
    findings: list[Finding] = []
    provided: dict[str, str | None] = {}
    layers = [_layer_at(p) for p in given]
    named = strings(manifest, "layers") if text(manifest, "kind") == "function" else []
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
    runtime_provided = _runtime_provided(manifest)
    # A backport left out for the standard library's own module meets what requires it.
    provided.update(backports_left_out(strings(manifest, "left-out")))
    project = [p["name"] for p in packages(manifest)
               if p.get("origin") == "project" and isinstance(p.get("name"), str)]  # fmt: skip
    # Code alone, with no layer: its dependencies are deployed some other way (as in the build).
    alone = text(manifest, "contents") == "project" and not (named or given)
    return Deployment(
        layers=contents, provided=provided,
        roots=[(name, strings(manifest, "extras")) for name in project],
        closure=not alone, runtime_provided=runtime_provided, complete=complete and not alone,
        built_in_image=built_in_image(manifest), findings=findings,
    )  # fmt: skip


def _runtime_provided(manifest: dict[str, Any]) -> bool:
    """exclude-runtime-provided was on; manifests written before it was recorded say so by what
    they left out."""
    if "exclude-runtime-provided" in manifest:
        return manifest["exclude-runtime-provided"] is True
    return any("(provided by the runtime" in s for s in strings(manifest, "left-out"))


def _fits(layer: _Layer, label: str, runtime: str, architecture: str) -> list[Finding]:
    """A layer whose manifest says it is for another architecture or runtime does not fit."""
    data = layer.manifest
    problems = []
    built = text(data, "architecture")
    if built and built != architecture:
        problems.append(f"is built for {built}, not {architecture}")
    served = strings(data, "runtimes")
    if served and runtime not in served:
        problems.append(f"serves {', '.join(served)}, not {runtime}")
    return [
        Finding("layers", layer.path.name, f"{label} {problem}, so the function cannot use it")
        for problem in problems
    ]


@dataclass(frozen=True)
class DeployedLayers:
    """The layer zips a function is deployed with, in the order Lambda stacks them; why each
    layer its manifest names was not found; and why a layer found does not fit."""

    paths: list[Path]
    missing: list[str]
    misfits: list[str]


def deployed_layers(
    path: Path, manifest: dict[str, Any], given: Sequence[Path], runtime: str, architecture: str
) -> DeployedLayers:
    """The layers the manifest of the function at *path* names (found as ``check`` finds them:
    among *given*, else beside it), then the *given* ones no name stands for. A layer given
    without a manifest cannot be matched to a name: the layers given are then the whole set."""
    layers = [_layer_at(p) for p in given]
    named = strings(manifest, "layers") if text(manifest, "kind") == "function" else []
    if any(layer.name is None for layer in layers):
        named = []
    chosen: list[_Layer] = []
    missing: list[str] = []
    for name in named:
        found = [layer for layer in layers if layer.name == name] or _beside(path, manifest, name)
        if len(found) == 1:
            chosen += found
        elif found:
            shown = ", ".join(layer.path.name for layer in found)
            missing.append(f"{manifest_path(path).name} names layer {name!r}, and several layer "
                           f"artifacts of that name are beside it ({shown}); pass the one it is "
                           "deployed with as --layer")  # fmt: skip
        else:
            missing.append(f"{manifest_path(path).name} names layer {name!r}, and no layer "
                           "artifact of that name is beside it; pass the layer's zip as "
                           "--layer")  # fmt: skip
    chosen += [layer for layer in layers if layer not in chosen]
    misfits = [
        f.message
        for layer in chosen
        for f in _fits(layer, f"layer {layer.name or layer.path.name}", runtime, architecture)
    ]
    return DeployedLayers([layer.path for layer in chosen], missing, misfits)
