"""What never reaches Lambda, by gitignore-style patterns over a distribution's planned paths."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

import pathspec

from ._entries import Distribution

# Bytecode is never shipped unless compiled for the target on purpose: a wheel's own .pyc files
# were made by some other interpreter. Lambda's folders are on sys.path through PYTHONPATH, never
# as site directories, so a wheel's top-level .pth (setuptools' distutils-precedence.pth, a
# namespace package's -nspkg.pth) is never read there: it is left out, and the install-links
# rule guards what else would bring one. The rest are folders no bundle should carry.
DEFAULT_EXCLUDES = ("__pycache__/", "*.pyc", "*.pyo", "/*.pth", "/*.egg-link", ".venv/", ".git/")

# `slim = true`: what does not run. Folders named tests/test inside a package (never at the top,
# where such a name would be a package of its own), type stubs, and C/Cython sources that some
# wheels carry. `*.dist-info/` is never touched, so importlib.metadata keeps working.
SLIM_EXCLUDES = ("/*/**/tests/", "/*/**/test/", "*.pyi", "*.c", "*.h", "*.pyx", "*.pxd")


def project_test_excludes(top_levels: Iterable[str]) -> list[str]:
    """The project's own tests, which only its developers run."""
    patterns = []
    for top in sorted(top_levels):
        patterns += [f"/{top}/**/tests/", f"/{top}/**/test/", f"/{top}/**/test_*.py",
                     f"/{top}/**/*_test.py", f"/{top}/**/conftest.py"]  # fmt: skip
    return patterns


class Excludes:
    """Patterns matched against paths relative to the folder Python imports from."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = tuple(patterns)
        self._spec = pathspec.GitIgnoreSpec.from_lines(self.patterns)

    def excluded(self, path: str) -> bool:
        if path.split("/", 1)[0].endswith(".dist-info"):
            return False  # metadata stays whole, whatever the patterns say
        return self._spec.match_file(path)

    def apply(self, dist: Distribution) -> tuple[Distribution, list[str]]:
        """*dist* without the excluded paths, and those paths."""
        removed = [path for path in dist.entries if self.excluded(path)]
        if not removed:
            return dist, []
        gone = set(removed)
        kept = {p: e for p, e in dist.entries.items() if p not in gone}
        return dataclasses.replace(dist, entries=kept), sorted(removed)
