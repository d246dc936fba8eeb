"""Rule ``imports``: what the handler's code imports is there when Lambda imports it.

The handler's module, its packages' ``__init__`` modules and the project modules they import
(transitively, within the project's own top-level packages and modules in the function's root)
are parsed, never imported. Each absolute import must be met by a top-level module or package of
the artifact or of the layers it is deployed with, by the standard library of the target's exact
Python, or by what the runtime ships. Dependencies are not followed: the closure rule judges them.

Imports in a function's body count, as the first call runs them. Imports the code cannot reach
on the target (``if TYPE_CHECKING:``, a ``sys.version_info`` branch for another Python) and
imports guarded by ``try``/``except ImportError`` do not. Imports made by name at run time
(``importlib.import_module``, ``__import__``) cannot be read, and are not checked.
"""

from __future__ import annotations

import ast
import sys
from collections import deque
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from .._stdlib import VERSIONS, stdlib_modules
from ..bundle import Entry, Reader
from ..errors import UnreadableError
from ..target import RUNTIME_PROVIDED, Target
from ._finding import Finding
from ._handler import HANDLER_PATTERN, SOURCE_LIMIT, handler_candidates
from ._modules import ModuleTree, top_level_names
from ._statements import Statement, import_statements

# Lambda's Python runtimes put the AWS SDK on sys.path after the function and its layers
# (/var/runtime), so importing it never fails at a cold start, bundled or not; which version
# comes is AWS's choice, which is what exclude-runtime-provided and the closure rule are about.
_RUNTIME_SDK = RUNTIME_PROVIDED
# What that SDK imports itself is in /var/runtime too, but AWS does not promise it: it counts
# only when exclude-runtime-provided is on, since the build then leaves it out on purpose.
_SDK_DEPENDENCIES = frozenset({"dateutil", "urllib3", "six"})
_MAX_MODULES = 5000
"""Project modules followed at most: bounds the work whatever the artifact holds."""


@dataclass(frozen=True)
class Importable:
    """What a function imports from besides its own files."""

    layers: frozenset[str] = frozenset()
    """Top-level names the layers it is deployed with hold, for its runtime."""
    runtime_provided: bool = False
    """exclude-runtime-provided is on: the SDK's own dependencies come from the runtime too."""
    complete: bool = True
    """False when what it is deployed with is not known (a named layer that was not found, or
    dependencies deployed some other way): a top-level name not found is then not reported."""


@dataclass(frozen=True)
class _Visit:
    path: str
    parts: list[str]
    guarded: bool
    deferred: bool


@dataclass(frozen=True)
class _At:
    """Where an import statement is, and how it runs."""

    visit: _Visit
    line: int
    guarded: bool
    deferred: bool


class _Imports:
    def __init__(
        self, tree: ModuleTree, project: set[str], available: Collection[str], target: Target, *,
        importable: Importable, reader: Reader,
    ) -> None:  # fmt: skip
        self.tree = tree
        self.project = project
        self.available = available
        self.target = target
        self.importable = importable
        self.reader = reader
        self.findings: list[Finding] = []
        self.queue: deque[_Visit] = deque()
        self.seen: dict[str, set[tuple[bool, bool]]] = {}
        self.parsed: dict[str, ast.Module | SyntaxError | ValueError | None] = {}
        self.reported: set[str] = set()

    def follow(self, parts: list[str], guarded: bool, deferred: bool) -> None:
        path = self.tree.source(parts)
        if path is None:
            return
        states = self.seen.setdefault(path, set())
        # A module seen without a guard (or at import time) needs no second look with one.
        if any(g <= guarded and d <= deferred for g, d in states):
            return
        states.add((guarded, deferred))
        self.queue.append(_Visit(path, parts, guarded, deferred))

    def run(self, handler_path: str) -> list[Finding]:
        done = 0
        while self.queue and done < _MAX_MODULES:
            visit = self.queue.popleft()
            done += 1
            tree = self._parse(visit, report=visit.path != handler_path)
            if tree is None:
                continue
            python = self.target.runtime.python
            for statement in import_statements(tree, python):
                self._statement(visit, statement)
        return self.findings

    def _parse(self, visit: _Visit, *, report: bool) -> ast.Module | None:
        if visit.path not in self.parsed:
            self.parsed[visit.path] = self._read(visit.path)
        tree = self.parsed[visit.path]
        if isinstance(tree, (SyntaxError, ValueError)):
            # The handler's own module is the handler rule's to report.
            if report and not visit.guarded and visit.path not in self.reported:
                self.reported.add(visit.path)
                self._syntax_error(visit, tree)
            return None
        return tree

    def _read(self, path: str) -> ast.Module | SyntaxError | ValueError | None:
        entry = self.tree.entries[path]
        if entry.size > SOURCE_LIMIT:  # not read, as for the handler rule
            return None
        try:
            return ast.parse(self.reader.read(entry, SOURCE_LIMIT), filename=path)
        except UnreadableError:
            return None  # the archive-entry rule reports it
        except (RecursionError, MemoryError):
            return None
        except (SyntaxError, ValueError) as exc:
            return exc

    def _syntax_error(self, visit: _Visit, exc: SyntaxError | ValueError) -> None:
        line = getattr(exc, "lineno", None)
        where = f" (line {line})" if line else ""
        here = sys.version_info[:2]
        # An older Python than the target's may not know its syntax: then it cannot be judged.
        older = here < self.target.runtime.python
        if older:
            then = (
                f"Python {here[0]}.{here[1]}, which runs hatch-lambda, may not know syntax "
                f"{self.target.runtime.name} accepts, so its imports are not checked"
            )
        else:
            then = "importing it fails, and with it the handler"
        message = f"cannot be parsed{where}: {getattr(exc, 'msg', exc)}; {then}"
        owner = self.tree.entries[visit.path].owner
        self.findings.append(Finding("imports", visit.path, message, owner, warning=older))

    def _statement(self, visit: _Visit, statement: Statement) -> None:
        node = statement.node
        guarded = visit.guarded or statement.guarded
        deferred = visit.deferred or statement.deferred
        at = _At(visit, node.lineno, guarded, deferred)
        if isinstance(node, ast.Import):
            for alias in node.names:
                self._absolute(at, alias.name.split("."), [])
            return
        names = [a.name for a in node.names if a.name != "*"]
        if not node.level:
            self._absolute(at, (node.module or "").split("."), names)
            return
        package = visit.parts if visit.path.endswith("/__init__.py") else visit.parts[:-1]
        up = node.level - 1
        if up >= len(package):
            shown = "." * node.level + (node.module or "")
            module = ".".join(visit.parts)
            where = f"above the top-level package of {module}" if package else (
                f"and {module} is in no package")  # fmt: skip
            self._report(at, f"imports from {shown}, {where}", "Python refuses it (ImportError)",
                         "Import it by its absolute name")  # fmt: skip
            return
        base = package[: len(package) - up]
        self._within(at, [*base, *(node.module.split(".") if node.module else [])], len(base),
                     names)  # fmt: skip

    def _absolute(self, at: _At, parts: list[str], names: list[str]) -> None:
        top = parts[0]
        if top in self.project and self.tree.has([top]):
            if self.tree.regular_package(top):
                self._within(at, parts, 0, names)
            else:  # a module, or a namespace package that may span other folders
                for depth in range(1, len(parts) + 1):
                    self.follow(parts[:depth], at.guarded, at.deferred)
                for name in names:
                    self.follow([*parts, name], at.guarded, at.deferred)
            return
        if not self._importable(top):
            self._report(at, *self._missing(top, ".".join(parts)))

    def _within(self, at: _At, parts: list[str], known: int, names: list[str]) -> None:
        """A module of a regular package of the project: each part past the first *known* must
        be in the artifact, since Python looks for it nowhere else."""
        for depth in range(known + 1, len(parts) + 1):
            if not self.tree.has(parts[:depth]):
                self._report(at, f"imports {'.'.join(parts[:depth])}, and the artifact has no "
                             f"{'/'.join(parts[:depth])}", "Lambda fails with ModuleNotFoundError",
                             "Check the name, and that the module is part of the project's "
                             "wheel")  # fmt: skip
                return
            self.follow(parts[:depth], at.guarded, at.deferred)
        for name in names:  # `from package import module` imports the module
            self.follow([*parts, name], at.guarded, at.deferred)

    def _importable(self, top: str) -> bool:
        return (
            top in self.available
            or top in self.importable.layers
            or top in stdlib_modules(self.target.python_version)
            or top in _RUNTIME_SDK
            or top == "__main__"  # the runtime's own bootstrap
            or (self.importable.runtime_provided and top in _SDK_DEPENDENCIES)
            or not self.importable.complete
        )

    def _missing(self, top: str, shown: str) -> tuple[str, str, str]:
        runtime = self.target.runtime
        has = [v for v in VERSIONS if top in stdlib_modules(v)]
        error = "Lambda fails with ModuleNotFoundError"
        guard = "or guard the import with try/except ImportError"
        if has and int(has[-1].split(".")[1]) < runtime.python[1]:
            gone = VERSIONS[VERSIONS.index(has[-1]) + 1]
            return (
                f"imports {shown}, which the standard library no longer has on {runtime.name} "
                f"(it was removed in Python {gone})", error,
                f"Use what replaces it, add a distribution that provides {top!r} to the "
                f"project's dependencies, {guard}",
            )  # fmt: skip
        if has:
            return (
                f"imports {shown}, which is in the standard library from Python {has[0]} on, "
                f"not on {runtime.name}", error,
                f"Use a newer runtime, add a backport to the project's dependencies, {guard}",
            )  # fmt: skip
        sdk = (
            f" ({top} comes with the runtime's boto3, which AWS does not promise; only "
            "exclude-runtime-provided = true counts on it)"
            if top in _SDK_DEPENDENCIES
            else ""
        )
        return (
            f"imports {shown}, which is not in the artifact or its layers, nor in "
            f"{runtime.name}'s standard library{sdk}", error,
            f"Add the distribution that provides {top!r} to the project's dependencies, {guard}",
        )  # fmt: skip

    def _report(self, at: _At, what: str, error: str, advice: str) -> None:
        if at.guarded:
            return
        when = (
            "on the first call that reaches it"
            if at.deferred
            else "when the handler's module is imported, at every cold start"
        )
        owner = self.tree.entries[at.visit.path].owner
        message = f"line {at.line} {what}: {error} {when}. {advice}"
        self.findings.append(Finding("imports", at.visit.path, message, owner))


def _project(tree: ModuleTree, handler_path: str) -> set[str]:
    """The project's own top-level names: the handler's, those of files its distribution
    installed, and those of files no distribution installed (code zipped by hand)."""
    owner = tree.entries[handler_path].owner
    return {handler_path.split("/", 1)[0].removesuffix(".py")} | top_level_names(
        p for p, e in tree.entries.items() if e.owner is None or e.owner == owner
    )


def check_imports(
    entries: Mapping[str, Entry],
    handler: str,
    reader: Reader,
    *,
    target: Target,
    available: Collection[str],
    importable: Importable | None = None,
) -> list[Finding]:
    """*entries*: the function's files by path from its root; *available*: the top-level names
    of every folder the runtime imports the function's files from."""
    if not HANDLER_PATTERN.fullmatch(handler):
        return []  # the handler rule says why
    module = handler.rpartition(".")[0].replace("/", ".").split(".")
    tree = ModuleTree(entries)
    handler_path = next((c for c in handler_candidates(module) if c in entries), None)
    if handler_path is None:
        return []  # the handler rule reports it
    walk = _Imports(tree, _project(tree, handler_path), available, target,
                   importable=importable or Importable(), reader=reader)  # fmt: skip
    # Importing a.b.handler runs a/__init__.py and a/b/__init__.py first.
    for depth in range(1, len(module) + 1):
        walk.follow(module[:depth], guarded=False, deferred=False)
    return walk.run(handler_path)
