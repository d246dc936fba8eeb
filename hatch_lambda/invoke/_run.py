"""Runs the bootstrap in a fresh interpreter and waits for its answer, or for the timeout."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import HatchLambdaError
from ._interpreter import Interpreter

BOOTSTRAP = Path(__file__).with_name("_bootstrap.py")

# Lambda gives a function's initialization (importing the handler's module) 10 seconds of its
# own; under emulation Python starts and imports several times slower, so it gets more.
INIT_LIMIT = 10.0
EMULATED_INIT_LIMIT = 60.0


@dataclass(frozen=True)
class Answer:
    response: str
    failed: bool
    duration_ms: float
    init_ms: float
    timed_out: bool = False


def run_bootstrap(
    interpreter: Interpreter, config: dict[str, Any], config_path: Path, *, cwd: Path,
    environment: Mapping[str, str], timeout: float, request_id: str,
) -> Answer:  # fmt: skip
    """Start the bootstrap with *config* (written to *config_path*), its output on our stderr,
    and wait: for the module's import (INIT_LIMIT), then for the handler (*timeout*)."""
    read_end, write_end = os.pipe()
    config = {**config, "channel": write_end}
    config_path.write_text(json.dumps(config), encoding="utf-8")
    argv = [*interpreter.argv, "-I", "-S", "-B", "-u", str(BOOTSTRAP), str(config_path)]
    sys.stdout.flush()
    sys.stderr.flush()
    began = time.monotonic()
    try:
        child = subprocess.Popen(
            argv, cwd=cwd, env=dict(environment), stdin=subprocess.DEVNULL,
            stdout=sys.stderr.fileno(), stderr=sys.stderr.fileno(), pass_fds=(write_end,),
            start_new_session=True,
        )  # fmt: skip
    except OSError as exc:
        os.close(read_end)
        raise HatchLambdaError(f"cannot start {argv[0]}: {exc.strerror or exc}") from exc
    finally:
        os.close(write_end)
    init_limit = EMULATED_INIT_LIMIT if interpreter.emulated else INIT_LIMIT
    answer: Answer | None = None
    try:
        answer = _wait(child, read_end, began=began, init_limit=init_limit, timeout=timeout,
                       request_id=request_id)  # fmt: skip
        return answer
    finally:
        os.close(read_end)
        _stop(child, patient=answer is not None and not answer.timed_out)


def _wait(
    child: subprocess.Popen[bytes], channel: int, *, began: float, init_limit: float,
    timeout: float, request_id: str,
) -> Answer:  # fmt: skip
    deadline = began + init_limit
    started: float | None = None
    buffer = b""
    with selectors.DefaultSelector() as selector:
        selector.register(channel, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return _timed_out(request_id, started, timeout, init_limit, began)
            if not selector.select(left):
                continue
            chunk = os.read(channel, 1 << 20)
            if not chunk:  # the child closed it: it exited without answering
                return _exited(child, request_id, started, began)
            buffer += chunk
            while b"\n" in buffer:
                line, _, buffer = buffer.partition(b"\n")
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(message, dict):
                    continue
                if message.get("started"):
                    started = time.monotonic()
                    deadline = started + timeout
                elif "response" in message:
                    init = ((started or time.monotonic()) - began) * 1000
                    return Answer(str(message["response"]), bool(message["failed"]),
                                  float(message["duration"]), init)  # fmt: skip


def _shape(request_id: str, kind: str, message: str) -> str:
    return json.dumps({"errorMessage": f"RequestId: {request_id} Error: {message}",
                       "errorType": kind})  # fmt: skip


def _timed_out(
    request_id: str, started: float | None, timeout: float, init_limit: float, began: float
) -> Answer:
    if started is None:
        message = f"Init timed out after {init_limit:.2f} seconds (importing the handler's module)"
        return Answer(_shape(request_id, "Sandbox.Timedout", message), True, 0.0,
                      init_limit * 1000, timed_out=True)  # fmt: skip
    message = f"Task timed out after {timeout:.2f} seconds"
    print(f"{_stamp()} {request_id} {message}", file=sys.stderr)
    return Answer(_shape(request_id, "Sandbox.Timedout", message), True, timeout * 1000,
                  (started - began) * 1000, timed_out=True)  # fmt: skip


def _exited(
    child: subprocess.Popen[bytes], request_id: str, started: float | None, began: float
) -> Answer:
    try:
        code = child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        code = None
    if code is not None and code < 0:
        try:
            why = f"signal: {signal.Signals(-code).name}"
        except ValueError:
            why = f"signal: {-code}"
    else:
        why = f"exit status {code}"
    message = (f"Runtime exited with error: {why}" if code != 0
               else "Runtime exited without providing a reason")  # fmt: skip
    now = time.monotonic()
    return Answer(
        _shape(request_id, "Runtime.ExitError", message), True,
        (now - started) * 1000 if started else 0.0, ((started or now) - began) * 1000,
    )  # fmt: skip


def _stop(child: subprocess.Popen[bytes], *, patient: bool) -> None:
    """Once it has answered, the child has a moment to end by itself; after that, or at once
    when it timed out, it is ended with whatever it started (Lambda freezes them)."""
    if patient:
        try:
            child.wait(timeout=2)
            return
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        child.kill()
    child.wait()


def _stamp() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"
