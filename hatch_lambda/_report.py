"""Progress output: a small protocol the pipeline writes to, backed by Hatch's app or stderr."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
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
        # hatchling's display shows a warning as plain text, like information: the word says it.
        self._app.display_warning(redact(f"warning: {message}"))

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


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``1 wheel``, ``2 wheels``, ``1,024 files``: every count the output shows goes through here."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"


class Stage:
    """What a timed stage adds to its line at ``-v`` after its time, such as download sizes."""

    def __init__(self) -> None:
        self.note = ""


@contextlib.contextmanager
def timed(reporter: Reporter, stage: str) -> Iterator[Stage]:
    """At ``-v``, a line with the time *stage* took once it is done (``  resolve: 0.42 s``);
    a stage that fails says nothing, as its error says the rest."""
    start = time.perf_counter()
    done = Stage()
    yield done
    reporter.debug(f"  {stage}: {time.perf_counter() - start:.2f} s{done.note}")
