"""A Reporter for unit tests: it keeps every message with its kind."""

from __future__ import annotations


class Recorder:
    """Keeps every message with its kind; debug messages as ``debug1``, ``debug2``... by level."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []

    def info(self, message: str) -> None:
        self.messages.append(("info", message))

    def waiting(self, message: str) -> None:
        self.messages.append(("waiting", message))

    def success(self, message: str) -> None:
        self.messages.append(("success", message))

    def warning(self, message: str) -> None:
        self.messages.append(("warning", message))

    def debug(self, message: str, level: int = 1) -> None:
        self.messages.append((f"debug{level}", message))

    def of(self, kind: str) -> list[str]:
        return [message for k, message in self.messages if k == kind]
