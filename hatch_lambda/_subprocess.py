"""Runs an external tool, shows its command at debug level, and turns failure into a ToolError."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from ._report import Reporter
from .errors import ToolError, redact

_TAIL_LINES = 25
_SHOWN_COMMAND = 400  # characters of a failed command shown in the error; -vv logs it whole


def run(
    argv: Sequence[str],
    *,
    what: str,
    reporter: Reporter,
    env: Mapping[str, str | None] | None = None,
    cwd: Path | None = None,
    advice: str = "",
) -> subprocess.CompletedProcess[str]:
    """Run *argv*; on a non-zero exit raise ``ToolError`` naming *what* with the output's tail."""
    shown = " ".join(argv)
    reporter.debug(f"running: {shown}", level=2)
    full_env = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            full_env.pop(key, None)
        else:
            full_env[key] = value
    try:
        proc = subprocess.run(
            list(argv),
            env=full_env,
            cwd=cwd,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            check=False,
        )
    except FileNotFoundError as exc:
        raise ToolError(
            f"{what}: cannot run {argv[0]!r}: {exc.strerror}. {advice}".strip()
        ) from exc
    for line in proc.stderr.splitlines():
        reporter.debug(line, level=3)
    if proc.returncode != 0:
        output = (proc.stderr + proc.stdout).strip().splitlines()[-_TAIL_LINES:]
        tail = "\n".join(f"    {line}" for line in output)
        command = shown if len(shown) <= _SHOWN_COMMAND else shown[:_SHOWN_COMMAND] + " ..."
        raise ToolError(
            f"{what} failed (exit status {proc.returncode}).\n  command: {redact(command)}\n"
            f"  last lines of its output:\n{tail}" + (f"\n  {advice}" if advice else "")
        )
    return proc
