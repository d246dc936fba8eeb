"""Progress output: a small protocol the pipeline writes to, backed by Hatch's app or stderr."""

from __future__ import annotations

import sys
from typing import Any, Protocol

from .errors import redact


class Reporter(Protocol):
    def info(self, message: str) -> None: ...
    def waiting(self, message: str) -> None: ...
    def success(self, message: str) -> None: ...
    def warning(self, message: str) -> None: ...
    def debug(self, message: str, level: int = 1) -> None: ...


class AppReporter:
    """Writes through hatchling's ``Application`` so ``hatch -v`` and ``-q`` apply."""

    def __init__(self, app: Any) -> None:
        self._app = app

    def info(self, message: str) -> None:
        self._app.display_info(redact(message))

    def waiting(self, message: str) -> None:
        self._app.display_waiting(redact(message))

    def success(self, message: str) -> None:
        self._app.display_success(redact(message))

    def warning(self, message: str) -> None:
        self._app.display_warning(redact(message))

    def debug(self, message: str, level: int = 1) -> None:
        self._app.display_debug(redact(message), level=level)


class StreamReporter:
    """Plain stderr output for the command line; ``verbosity`` follows ``-q``/``-v`` counts."""

    def __init__(self, verbosity: int = 0) -> None:
        self.verbosity = verbosity

    def _emit(self, message: str, minimum: int) -> None:
        if self.verbosity >= minimum:
            print(redact(message), file=sys.stderr, flush=True)

    def info(self, message: str) -> None:
        self._emit(message, 0)

    def waiting(self, message: str) -> None:
        self._emit(message, 0)

    def success(self, message: str) -> None:
        self._emit(message, 0)

    def warning(self, message: str) -> None:
        self._emit(f"warning: {message}", -1)

    def debug(self, message: str, level: int = 1) -> None:
        self._emit(message, level)
