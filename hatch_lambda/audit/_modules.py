"""Which names Python can import from a folder of an artifact, read from its file names."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping

from .._toplevel import top_level_names
from ..bundle import Entry

__all__ = ["ModuleTree", "top_level_names"]


class ModuleTree:
    """The function's root (Lambda's /var/task): which module paths resolve to which files."""

    def __init__(self, entries: Mapping[str, Entry]) -> None:
        self.entries = entries
        self.modules: set[str] = set()
        self.folders: set[str] = set()
        for path in entries:
            if "__pycache__/" in path:  # bytecode beside its source: no module of its own
                continue
            folder, name = posixpath.split(path)
            while folder and folder not in self.folders:
                self.folders.add(folder)
                folder = posixpath.dirname(folder)
            folder = posixpath.dirname(path)
            if name.endswith((".py", ".pyc")):
                self.modules.add(posixpath.join(folder, name.rsplit(".", 1)[0]))
            elif name.endswith(".so"):
                self.modules.add(posixpath.join(folder, name.split(".", 1)[0]))

    def source(self, parts: list[str]) -> str | None:
        """The file Python runs for module *parts*, if it is Python source."""
        stem = "/".join(parts)
        return next((c for c in (f"{stem}.py", f"{stem}/__init__.py") if c in self.entries), None)

    def has(self, parts: list[str]) -> bool:
        stem = "/".join(parts)
        return stem in self.modules or stem in self.folders

    def regular_package(self, name: str) -> bool:
        return f"{name}/__init__.py" in self.entries
