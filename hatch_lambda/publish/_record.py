"""What a publish did: one line per artifact, and the deployment record written beside the
manifests for later steps of a pipeline."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from .._scratch import replacing
from .._secrets import redact
from ..errors import HatchLambdaError, os_problem


@dataclass
class LayerResult:
    artifact: str | None
    layer: str
    file: str
    code_sha256: str
    action: str
    """``published``, ``unchanged``, or in a dry run ``would publish``."""
    arn: str | None = None
    """The layer version's ARN; None when a dry run would publish a new one."""
    version: int | None = None
    upload: str | None = None


@dataclass
class FunctionResult:
    artifact: str | None
    function: str
    file: str
    code_sha256: str
    arn: str
    code: str
    """``updated``, ``unchanged``, or in a dry run ``would update``."""
    configuration: list[str] = field(default_factory=list)
    """What of the configuration changed (or would): ``runtime``, ``handler``, ``layers``."""
    layers: list[str] = field(default_factory=list)
    version: str | None = None
    version_action: str | None = None
    alias: dict[str, str] | None = None
    upload: str | None = None


@dataclass
class Deployment:
    project: str
    version: str
    region: str | None
    endpoint_url: str | None
    dry_run: bool
    layers: list[LayerResult] = field(default_factory=list)
    functions: list[FunctionResult] = field(default_factory=list)


def _name(artifact: str | None, kind: str) -> str:
    return f"{kind} {artifact}" if artifact else kind


def lines(deployment: Deployment) -> list[str]:
    """One line per artifact: what happened, with ARNs and versions."""
    out = []
    for layer in deployment.layers:
        what = f"{layer.action} {layer.layer}"
        if layer.version is not None:
            what += f" version {layer.version}"
        via = f" via {layer.upload}" if layer.upload and layer.action != "unchanged" else ""
        arn = f": {layer.arn}" if layer.arn else ""
        out.append(f"{_name(layer.artifact, 'layer')}: {what}{via}{arn}")
    for fn in deployment.functions:
        parts = [f"code {fn.code}"]
        if fn.code != "unchanged" and fn.upload:
            parts[0] += f" via {fn.upload}"
        if fn.configuration:
            verb = "would update" if deployment.dry_run else "updated"
            parts.append(f"configuration {verb} ({', '.join(fn.configuration)})")
        if fn.version_action:
            parts.append(f"version {fn.version or '(new)'} {fn.version_action}")
        if fn.alias:
            parts.append(f"alias {fn.alias['name']} -> {fn.alias['version']} {fn.alias['action']}")
        if (
            fn.code == "unchanged"
            and not fn.configuration
            and fn.version_action in (None, "unchanged")
            and (fn.alias is None or fn.alias["action"] == "unchanged")
        ):
            parts = ["unchanged"]
            if fn.version:
                parts.append(f"version {fn.version}")
            if fn.alias:
                parts.append(f"alias {fn.alias['name']} -> {fn.alias['version']}")
        out.append(f"{_name(fn.artifact, 'function')}: {fn.function} {'; '.join(parts)}: {fn.arn}")
    return [redact(line) for line in out]


def record_data(deployment: Deployment) -> dict[str, Any]:
    return {
        "hatch-lambda": __version__,
        "project": deployment.project,
        "version": deployment.version,
        "region": deployment.region,
        "endpoint-url": redact(deployment.endpoint_url) if deployment.endpoint_url else None,
        "layers": [
            {"artifact": r.artifact, "layer": r.layer, "file": r.file, "code-sha256": r.code_sha256,
             "action": r.action, "layer-version-arn": r.arn, "version": r.version,
             "upload": r.upload}
            for r in deployment.layers
        ],
        "functions": [
            {"artifact": r.artifact, "function": r.function, "function-arn": r.arn,
             "file": r.file, "code-sha256": r.code_sha256, "code": r.code,
             "configuration": r.configuration, "layers": r.layers, "version": r.version,
             "version-action": r.version_action, "alias": r.alias, "upload": r.upload}
            for r in deployment.functions
        ],
    }  # fmt: skip


def write_record(path: Path, deployment: Deployment) -> None:
    """*path* replaced as a whole: a reader never sees half a record."""
    try:
        with replacing(path) as tmp:
            with tmp.open("w", encoding="utf-8", newline="\n") as f:
                f.write(json.dumps(record_data(deployment), indent=2) + "\n")
                f.flush()
                os.fsync(f.fileno())
            tmp.chmod(0o644)
            tmp.replace(path)
    except OSError as exc:
        raise HatchLambdaError(os_problem(exc, "write the deployment record")) from exc
