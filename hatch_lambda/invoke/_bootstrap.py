"""Calls one Lambda handler as Lambda's Python runtime does, in an interpreter of its own.

`hatch-lambda invoke` starts it as ``python -I -S -B -u _bootstrap.py CONFIG``: nothing of
hatch-lambda (nor of any site-packages) is importable here, so it uses the standard library
alone and runs on every Python a runtime has (3.9 on). CONFIG is a JSON file with the paths, the
handler, the event's file and the request's facts; what the parent needs back goes, one JSON
object a line, to the file descriptor CONFIG names:

- ``{"started": true}`` once the handler's module is imported and the handler is about to be
  called (the timeout counts from here, as on Lambda);
- ``{"response": TEXT, "failed": BOOL, "duration": MS}`` with what Lambda would answer.

The handler's own output (stdout and stderr) goes to the parent's stderr.
"""

from __future__ import annotations

import decimal
import importlib
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import IO, Any, Callable

# What Lambda answers a synchronous call with at most, in bytes.
MAX_RESPONSE = 6291556


class LambdaContext:
    """The attributes and methods of the context object Lambda's Python runtime passes."""

    def __init__(self, facts: dict[str, Any], deadline_ms: int) -> None:
        self.function_name: str = facts["function_name"]
        self.function_version: str = facts["function_version"]
        self.invoked_function_arn: str = facts["invoked_function_arn"]
        # Lambda passes the memory size as the environment gives it: a string.
        self.memory_limit_in_mb: str = str(facts["memory_limit_in_mb"])
        self.aws_request_id: str = facts["aws_request_id"]
        self.log_group_name: str = facts["log_group_name"]
        self.log_stream_name: str = facts["log_stream_name"]
        self.identity: object = None
        self.client_context: object = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def log(self, message: str) -> None:
        sys.stderr.write(message)
        sys.stderr.flush()

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"function_name={self.function_name},function_version={self.function_version},"
            f"memory_limit_in_mb={self.memory_limit_in_mb}])"
        )


class Fault(Exception):
    """A failure of the runtime's own, reported with one of Lambda's ``Runtime.*`` types."""

    def __init__(self, kind: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.trace = trace or []


def _stack(tb: Any) -> list[str]:
    """The frames of *tb* outside this file, formatted as Lambda lists them."""
    here = Path(__file__).resolve()
    frames = [f for f in traceback.extract_tb(tb) if Path(f.filename).resolve() != here]
    return traceback.format_list(frames)


def load_handler(handler: str) -> Callable[..., Any]:
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as exc:
        raise Fault("Runtime.MalformedHandlerName", f"Bad handler '{handler}': {exc}") from None
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise Fault(
            "Runtime.BuiltInModuleConflict",
            f"Cannot use built-in module {module_name} as a handler module",
        )
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise Fault(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        ) from None
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {(exc.text or "").strip()}\n']
        raise Fault(
            "Runtime.UserCodeSyntaxError",
            f"Syntax error in module '{module_name}': {exc}",
            trace,
        ) from None
    try:
        found: Callable[..., Any] = getattr(module, function_name)
    except AttributeError:
        raise Fault(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        ) from None
    return found


class _Encoder(json.JSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, decimal.Decimal):  # Lambda writes a Decimal as a number
            return float(o)
        return super().default(o)


def marshal(value: Any, ascii_only: bool) -> str:
    try:
        return json.dumps(value, cls=_Encoder, ensure_ascii=ascii_only, allow_nan=True)
    except (TypeError, ValueError, OverflowError, RecursionError) as exc:
        raise Fault("Runtime.MarshalError", f"Unable to marshal response: {exc}") from None


def error_shape(exc: BaseException, request_id: str, renames: list[list[str]]) -> str:
    """The error as Lambda answers it, the local folders in its trace shown as the paths Lambda
    has (/var/task, /opt); logged on stderr as Lambda logs it."""
    if isinstance(exc, Fault):
        kind, message, trace = exc.kind, exc.message, exc.trace
    else:
        kind, message = type(exc).__name__, str(exc)
        trace = _stack(exc.__traceback__)
    for local, shown in renames:
        trace = [line.replace(local, shown) for line in trace]
    shown = "".join(["Traceback (most recent call last):\n", *trace]) if trace else ""
    sys.stderr.write(f"[ERROR] {kind}: {message}\n{shown}")
    shape = {"errorMessage": message, "errorType": kind, "requestId": request_id,
             "stackTrace": trace}  # fmt: skip
    return json.dumps(shape)


def main() -> int:
    with Path(sys.argv[1]).open(encoding="utf-8") as f:
        config: dict[str, Any] = json.load(f)
    channel: IO[str] = os.fdopen(int(config["channel"]), "w", encoding="utf-8")

    def send(message: dict[str, Any]) -> None:
        channel.write(json.dumps(message) + "\n")
        channel.flush()

    del sys.argv[1:]
    sys.path[:0] = config["path"]
    facts: dict[str, Any] = config["context"]
    request_id: str = facts["aws_request_id"]
    renames: list[list[str]] = config["renames"]
    with Path(config["event"]).open(encoding="utf-8") as f:
        event = json.load(f)
    try:
        handler = load_handler(config["handler"])
    except Exception as exc:  # what Lambda reports as the init error
        send({"response": error_shape(exc, request_id, renames), "failed": True, "duration": 0})
        return 0
    deadline_ms = int(time.time() * 1000) + int(config["timeout_ms"])
    context = LambdaContext(facts, deadline_ms)
    sys.stderr.write(f"START RequestId: {request_id} Version: {facts['function_version']}\n")
    send({"started": True})
    began = time.perf_counter()
    failed = False
    try:
        response = marshal(handler(event, context), config["ascii_only"])
        if len(response.encode("utf-8")) > MAX_RESPONSE:
            raise Fault(
                "Function.ResponseSizeTooLarge",
                f"Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE} "
                "bytes).",
            )
    except Exception as exc:
        failed = True
        response = error_shape(exc, request_id, renames)
    duration = (time.perf_counter() - began) * 1000
    sys.stdout.flush()
    sys.stderr.write(f"END RequestId: {request_id}\n")
    sys.stderr.flush()
    send({"response": response, "failed": failed, "duration": duration})
    return 0


if __name__ == "__main__":
    sys.exit(main())
