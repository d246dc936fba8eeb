"""`hatch-lambda invoke`: call a function zip's handler on this machine as Lambda would.

The zip and its layers are unpacked into local folders standing for /var/task and /opt
(`_layout`), a CPython of the runtime's exact version for the function's architecture is chosen,
under qemu user emulation for the other architecture (`_interpreter`), and `_bootstrap.py`
runs the handler in it, isolated from every site-packages, with Lambda's ``sys.path``,
environment and context object, while `_run` waits for its answer or the timeout.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .._deployment import deployed_layers, manifest_path, not_described, strings, text
from ..errors import HatchLambdaError, ManifestError
from ..inspect import read_manifest
from ..target import ARCHITECTURES, DEFAULT_ARCHITECTURE, RUNTIMES, Runtime
from ._interpreter import Interpreter, choose_interpreter
from ._layout import Layout, make_layout
from ._run import run_bootstrap

__all__ = ["RESERVED", "Outcome", "Plan", "Request", "invoke", "plan", "read_event"]

DEFAULT_TIMEOUT = 3  # seconds, as a new function has on Lambda
MAX_TIMEOUT = 900
DEFAULT_MEMORY = 128  # MB
MEMORY_RANGE = (128, 10240)
DEFAULT_REGION = "us-east-1"
ACCOUNT = "123456789012"  # the placeholder account of the function's ARN

# Environment variables Lambda sets itself and refuses in a function's configuration.
RESERVED = frozenset({
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
})  # fmt: skip
# The credentials of the machine running the invoke stand in for the function's role.
CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


@dataclass(frozen=True)
class Request:
    """What to invoke and how: the command line's options."""

    artifact: Path
    event: bytes = b"{}"
    layers: Sequence[Path] = ()
    handler: str | None = None
    runtime: str | None = None
    architecture: str | None = None
    timeout: int = DEFAULT_TIMEOUT
    memory: int = DEFAULT_MEMORY
    function_name: str | None = None
    region: str | None = None
    environment: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """What the manifest and the request decide: the function's target, handler and layers."""

    artifact: Path
    runtime: Runtime
    architecture: str
    handler: str
    layers: list[Path]
    function_name: str
    notes: list[str]


@dataclass(frozen=True)
class Outcome:
    response: str
    """The JSON text Lambda would answer: the handler's return value, or an error's shape."""
    failed: bool
    request_id: str
    duration_ms: float
    init_ms: float
    interpreter: str


def read_event(source: str | None, stdin: IO[bytes]) -> bytes:
    """The event's JSON text: from the file *source*, from *stdin* for ``-``, else ``{}``."""
    if source is None:
        return b"{}"
    where = "standard input" if source == "-" else source
    try:
        data = stdin.read() if source == "-" else Path(source).read_bytes()
    except OSError as exc:
        raise HatchLambdaError(
            f"cannot read the event from {where}: {exc.strerror or exc}; give a JSON file or - "
            "for standard input"
        ) from exc
    try:
        json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise HatchLambdaError(
            f"the event in {where} is not UTF-8 text (byte {exc.start}: {exc.reason}); save it "
            "as UTF-8"
        ) from exc
    except ValueError as exc:
        raise HatchLambdaError(
            f"the event in {where} is not JSON ({exc}); an event is a JSON value such as "
            '{"key": "value"}'
        ) from exc
    return data.decode("utf-8-sig").encode("utf-8")


def _manifest(path: Path, request: Request) -> dict[str, Any]:
    try:
        return read_manifest(manifest_path(path)) or {}
    except ManifestError as exc:
        raise HatchLambdaError(
            f"{exc}; rebuild the artifact, or delete the manifest and pass --runtime, "
            "--architecture and --handler"
        ) from exc


def _verify(path: Path, manifest: dict[str, Any]) -> None:
    problem = not_described(path, manifest)
    if problem:
        raise HatchLambdaError(
            f"{problem}, so its runtime, handler and layers are unknown. Rebuild it, or delete "
            "the manifest and pass --runtime, --architecture and --handler"
        )


def plan(request: Request) -> Plan:
    """The function's target, handler and layers, from the manifest beside it and *request*."""
    path = request.artifact
    if not path.exists():
        raise HatchLambdaError(f"{path} does not exist; give a function zip")
    if not path.is_file():
        raise HatchLambdaError(f"{path} is not a file; give a function zip")
    manifest = _manifest(path, request)
    _verify(path, manifest)
    kind = text(manifest, "kind")
    if kind is not None and kind != "function":
        raise HatchLambdaError(
            f"{path.name} is a {kind}, which Lambda does not invoke; invoke a function zip, and "
            f"give a layer with --layer"
        )
    runtime = request.runtime or next(
        iter(strings(manifest, "runtimes")), text(manifest, "runtime")
    )
    if runtime is None:
        raise HatchLambdaError(
            f"say which runtime runs {path}: --runtime python3.X (hatch-lambda's zips carry it "
            f"in the manifest beside them, {manifest_path(path).name}, which is not there)"
        )
    if runtime not in RUNTIMES:
        raise HatchLambdaError(
            f"{manifest_path(path)} names runtime {runtime!r}, which this hatch-lambda does not "
            f"know ({', '.join(RUNTIMES)}); pass --runtime"
        )
    architecture = request.architecture or text(manifest, "architecture") or DEFAULT_ARCHITECTURE
    if architecture not in ARCHITECTURES:
        raise HatchLambdaError(
            f"{manifest_path(path)} names architecture {architecture!r}; pass --architecture"
        )
    handler = request.handler or text(manifest, "handler")
    if not handler:
        where = (f"its manifest, {manifest_path(path).name}, names none" if manifest
                 else f"there is no manifest beside it ({manifest_path(path).name})")  # fmt: skip
        raise HatchLambdaError(
            f"say which handler to call in {path.name}: --handler module.function ({where})"
        )
    layers = deployed_layers(path, manifest, request.layers, runtime, architecture)
    if layers.missing:
        raise HatchLambdaError("; ".join(layers.missing))
    name = request.function_name or text(manifest, "name")
    name = name or re.sub(r"[^A-Za-z0-9_-]", "-", path.stem)[:64]
    return Plan(path, RUNTIMES[runtime], architecture, handler, layers.paths, name,
                layers.misfits)  # fmt: skip


def _environment(
    request: Request, plan: Plan, layout: Layout, interpreter: Interpreter, facts: dict[str, Any]
) -> dict[str, str]:
    region = (request.region or os.environ.get("AWS_REGION")
              or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION)  # fmt: skip
    libraries = [interpreter.library] if interpreter.library else []
    libraries += [str(layout.runtime), str(layout.runtime / "lib"), str(layout.task),
                  str(layout.task / "lib"), str(layout.opt / "lib")]  # fmt: skip
    python_bin = str(Path(interpreter.argv[-1]).parent)
    env = {
        **{k: v for k, v in os.environ.items() if k in CREDENTIALS},
        **request.environment,
        "AWS_LAMBDA_FUNCTION_NAME": plan.function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(request.memory),
        "AWS_LAMBDA_FUNCTION_VERSION": facts["function_version"],
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": facts["log_group_name"],
        "AWS_LAMBDA_LOG_STREAM_NAME": facts["log_stream_name"],
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{plan.runtime.name}",
        "_HANDLER": plan.handler,
        "LAMBDA_TASK_ROOT": str(layout.task),
        "LAMBDA_RUNTIME_DIR": str(layout.runtime),
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        "PATH": os.pathsep.join(
            [python_bin, "/usr/local/bin", "/usr/bin", "/bin", str(layout.opt / "bin")]
        ),
        "LD_LIBRARY_PATH": os.pathsep.join(libraries),
        **interpreter.environment,
    }
    return env


def invoke(request: Request, *, note: Callable[[str], None] | None = None) -> Outcome:
    """Call the handler of *request*'s function once, with its event; *note* hears what the
    caller should be told before the function runs (a layer that does not fit)."""
    if os.name == "nt":
        raise HatchLambdaError("hatch-lambda invoke runs on Linux and macOS; on Windows, use WSL")
    if not 1 <= request.timeout <= MAX_TIMEOUT:
        raise HatchLambdaError(
            f"--timeout {request.timeout}: Lambda's timeout is 1 to {MAX_TIMEOUT} seconds"
        )
    if not MEMORY_RANGE[0] <= request.memory <= MEMORY_RANGE[1]:
        raise HatchLambdaError(
            f"--memory {request.memory}: Lambda's memory size is {MEMORY_RANGE[0]} to "
            f"{MEMORY_RANGE[1]} MB"
        )
    reserved = sorted(set(request.environment) & RESERVED)
    if reserved:
        raise HatchLambdaError(
            f"--env {', '.join(reserved)}: Lambda sets {'these' if len(reserved) > 1 else 'this'}"
            " itself and refuses them in a function's configuration (--region, --memory and "
            "--function-name set what they can)"
        )
    chosen = plan(request)
    for line in chosen.notes:
        (note or _stderr)(f"warning: {line}")
    interpreter = choose_interpreter(chosen.runtime, chosen.architecture)
    request_id = str(uuid.uuid4())
    facts = {
        "function_name": chosen.function_name,
        "function_version": "$LATEST",
        "invoked_function_arn": "",
        "memory_limit_in_mb": str(request.memory),
        "aws_request_id": request_id,
        "log_group_name": f"/aws/lambda/{chosen.function_name}",
        "log_stream_name": time.strftime("%Y/%m/%d/", time.gmtime())
        + f"[$LATEST]{uuid.uuid4().hex}",
    }
    with tempfile.TemporaryDirectory(prefix="hatch-lambda-invoke-") as scratch:
        root = Path(scratch)
        layout = make_layout(root / "root", chosen.artifact, chosen.layers)
        env = _environment(request, chosen, layout, interpreter, facts)
        facts["invoked_function_arn"] = (
            f"arn:aws:lambda:{env['AWS_REGION']}:{ACCOUNT}:function:{chosen.function_name}"
        )
        (root / "event.json").write_bytes(request.event)
        config = {
            "path": layout.sys_path(chosen.runtime.version),
            "handler": chosen.handler,
            "event": str(root / "event.json"),
            "timeout_ms": request.timeout * 1000,
            "context": facts,
            "renames": layout.renames(),
            # Lambda's runtimes from python3.12 on write non-ASCII characters as they are.
            "ascii_only": chosen.runtime.python < (3, 12),
        }
        answer = run_bootstrap(
            interpreter, config, root / "config.json", cwd=layout.task, environment=env,
            timeout=request.timeout, request_id=request_id,
        )  # fmt: skip
    return Outcome(answer.response, answer.failed, request_id, answer.duration_ms,
                   answer.init_ms, interpreter.label)  # fmt: skip


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)
