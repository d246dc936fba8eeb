"""Runs an external tool or a user's command, shows its output as it comes at the level asked,
and turns failure into a ToolError that ends with the last lines it printed."""

from __future__ import annotations

import collections
import os
import subprocess
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ._report import Reporter
from .errors import ToolError, redact

_TAIL_LINES = 25
_SHOWN_COMMAND = 400  # characters of a failed command shown in the error; -vv logs it whole


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str
    stderr: str
    tail: tuple[str, ...]
    """The last lines of both streams, in the order they arrived."""


def output_tail(lines: Sequence[str]) -> str:
    """The part of a failure message that shows what the process printed last."""
    if not lines:
        return "  it printed nothing"
    return "  last lines of its output:\n" + "\n".join(f"    {line}" for line in lines)


class _Pump:
    """Reads the pipes of a process line by line as they fill (a process that fills one pipe
    while nobody reads it would block), keeping the text and the last lines of all of them."""

    def __init__(self, reporter: Reporter, tail_lines: int, prefix: str) -> None:
        self.reporter = reporter
        self.prefix = prefix
        self.tail: collections.deque[str] = collections.deque(maxlen=tail_lines)
        self._lock = threading.Lock()

    def read(self, pipe: IO[str], into: list[str], level: int | None) -> None:
        for line in pipe:
            into.append(line)
            text = line.rstrip()
            with self._lock:
                self.tail.append(text)
                if level is not None:
                    self.reporter.debug(self.prefix + text, level=level)

    def lines(self) -> tuple[str, ...]:
        lines = list(self.tail)
        while lines and not lines[-1]:
            lines.pop()
        while lines and not lines[0]:
            lines.pop(0)
        return tuple(lines)


def stream(
    args: Sequence[str] | str,
    *,
    reporter: Reporter,
    env: Mapping[str, str],
    cwd: Path | None = None,
    shell: bool = False,
    stdout_level: int | None = None,
    stderr_level: int | None = 3,
    merge: bool = False,
    tail_lines: int = _TAIL_LINES,
    prefix: str = "",
) -> Finished:
    """Run *args* to the end. Each line of standard output (or error) is shown at debug level
    *stdout_level* (*stderr_level*) as it arrives, or not at all for None; *merge* sends both
    into one pipe, so that they keep the order the process printed them in. Shown lines start
    with *prefix*."""
    proc = subprocess.Popen(
        args if shell else list(args), shell=shell, cwd=cwd, env=dict(env),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT if merge else subprocess.PIPE,
        text=True, encoding="utf-8", errors="replace",
    )  # fmt: skip
    pump = _Pump(reporter, tail_lines, prefix)
    out: list[str] = []
    err: list[str] = []
    readers = [threading.Thread(target=pump.read, args=(proc.stdout, out, stdout_level))]
    if not merge:
        readers.append(threading.Thread(target=pump.read, args=(proc.stderr, err, stderr_level)))
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    returncode = proc.wait()
    return Finished(returncode, "".join(out), "".join(err), pump.lines())


def run(
    argv: Sequence[str],
    *,
    what: str,
    reporter: Reporter,
    env: Mapping[str, str | None] | None = None,
    cwd: Path | None = None,
    advice: str = "",
    show_output: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run *argv*; on a non-zero exit raise ``ToolError`` naming *what* with the output's tail.
    Its standard error is shown at ``-vvv``; all its output at *show_output*, if given."""
    shown = " ".join(argv)
    reporter.debug(f"running: {shown}", level=2)
    full_env = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            full_env.pop(key, None)
        else:
            full_env[key] = value
    try:
        done = stream(
            argv, reporter=reporter, env=full_env, cwd=cwd, stdout_level=show_output,
            stderr_level=show_output or 3, prefix="    " if show_output else "",
        )  # fmt: skip
    except FileNotFoundError as exc:
        raise ToolError(
            f"{what}: cannot run {argv[0]!r}: {exc.strerror}. {advice}".strip()
        ) from exc
    if done.returncode != 0:
        command = shown if len(shown) <= _SHOWN_COMMAND else shown[:_SHOWN_COMMAND] + " ..."
        raise ToolError(
            f"{what} failed (exit status {done.returncode}).\n  command: {redact(command)}\n"
            f"{output_tail(done.tail)}" + (f"\n  {advice}" if advice else "")
        )
    return subprocess.CompletedProcess(list(argv), done.returncode, done.stdout, done.stderr)
