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

from ._deployment import (
    WHEELHOUSE,
    built_in_image,
    find_deployment,
    manifest_path,
    not_described,
    packages,
    strings,
    text,
)
from .audit import RULES, Finding, check_artifact, check_wheelhouse
from .config import MAX_UNZIPPED_SIZE
from .errors import HatchLambdaError, ManifestError
from .inspect import read_manifest
from .publish._plan import RECORD_NAME as DEPLOYMENT_RECORD
from .target import ARCHITECTURES, RUNTIMES, resolve_target


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


def artifact_paths(given: Iterable[str]) -> list[Path]:
    """The artifacts named, once each, in order; a manifest given (``dist-lambda/*``) stands for
    the artifact beside it, and the deployment record `publish` writes there is passed over."""
    paths: list[Path] = []
    for given_path in given:
        path = Path(given_path)
        if path.name == DEPLOYMENT_RECORD:  # what `publish` wrote beside the manifests
            continue
        if path.suffix == ".json":
            beside = [path.with_suffix(".zip"), path.with_name(path.stem + WHEELHOUSE)]
            path = next((p for p in beside if p.exists()), path)
        if path not in paths:
            paths.append(path)
    return paths


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
    problem = not_described(path, manifest)
    if problem:
        raise HatchLambdaError(
            f"{problem}. Rebuild it, or delete the manifest and pass --runtime and --architecture"
        )


def _target(path: Path, manifest: dict[str, Any], options: Options) -> tuple[list[str], str]:
    runtimes = [options.runtime] if options.runtime else strings(manifest, "runtimes")
    runtimes = runtimes or strings(manifest, "runtime")
    architecture = options.architecture or text(manifest, "architecture")
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
    kind = text(manifest, "kind") or ""
    if path.is_dir() and (kind == "wheelhouse" or path.name.endswith(WHEELHOUSE)):
        return _wheelhouse(path, manifest, runtimes, architecture, options=options, notes=notes)
    handler = options.handler or (text(manifest, "handler") if kind == "function" else None)
    warn = {*options.warn, *(r for r in strings(manifest, "audit-warn") if r in RULES)}
    limit = manifest.get("max-unzipped-size")
    errors: dict[Finding, None] = {}
    warnings: dict[Finding, None] = {}
    layer = False
    for runtime in runtimes:
        target = resolve_target(runtime, architecture)[0]
        deployment = find_deployment(path, manifest, target, given=options.layers)
        report = check_artifact(
            path, target, handler=handler, warn=warn, deployment=deployment,
            size_limit=limit if isinstance(limit, int) and limit > 0 else MAX_UNZIPPED_SIZE,
            bytecode_versions=[RUNTIMES[rt].version for rt in runtimes],
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
        p["wheel"]: strings(p, "runtimes") or runtimes
        for p in packages(manifest)
        if isinstance(p.get("wheel"), str)
    }
    findings = check_wheelhouse(path, targets, serves=serves or None,
                                built_in_image=built_in_image(manifest))  # fmt: skip
    warn = {*options.warn, *strings(manifest, "audit-warn")}
    errors = [f for f in findings if f.rule not in warn and not f.warning]
    warnings = [f for f in findings if f not in errors]
    return Checked(path, "wheelhouse", tuple(runtimes), architecture, errors, warnings, notes)


__all__ = [
    "Checked",
    "Options",
    "artifact_paths",
    "check_one",
    "check_paths",
    "manifest_path",
]
