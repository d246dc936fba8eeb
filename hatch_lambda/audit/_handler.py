"""Rule ``handler``: the configured handler's module is bundled and defines the function.

The module is parsed, never imported: the user's code does not run at build time.
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Mapping

from ..bundle import Entry, Reader
from ..errors import UnreadableError
from ._finding import Finding
from ._members import entry_finding

# Lambda splits the handler at its last "." and imports the rest, with "/" read as "." (so
# `src/app.handler` names src.app): every part must be a Python name.
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
HANDLER_PATTERN = re.compile(rf"{_NAME}([./]{_NAME})*\.{_NAME}")
SOURCE_LIMIT = 4 << 20
"""The largest handler module parsed: its syntax tree takes tens of times the memory."""


def _top_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.If, ast.Try)):
            # Conditional definitions (`try: from x import handler`) count too.
            names.update(_top_level_names(ast.Module(body=node.body, type_ignores=[])))
            for handler in getattr(node, "handlers", []):
                names.update(_top_level_names(ast.Module(body=handler.body, type_ignores=[])))
            names.update(_top_level_names(ast.Module(body=node.orelse, type_ignores=[])))
    return names


def handler_candidates(parts: list[str]) -> list[str]:
    """The files Python may import module *parts* from, in its order."""
    return ["/".join(parts) + ".py", "/".join([*parts, "__init__.py"])]


def check_handler(entries: Mapping[str, Entry], handler: str, reader: Reader) -> list[Finding]:
    """*entries*: the function's files by path from the archive root (Lambda's /var/task).

    Only *entries* are looked in: whatever *handler* says, no file outside them is read.
    """
    if not HANDLER_PATTERN.fullmatch(handler):
        return [
            Finding(
                "handler",
                handler,
                f"handler {handler!r} is not MODULE.FUNCTION: Lambda imports the part before the "
                "last '.' as a module of the artifact and calls the function after it. Give one "
                "like app.main.handler",
            )
        ]
    module, _, function = handler.rpartition(".")
    parts = module.replace("/", ".").split(".")
    candidates = handler_candidates(parts)
    rel = next((c for c in candidates if c in entries), None)
    if rel is None:
        folder = posixpath.dirname(candidates[0])
        compiled = [
            p for p in entries
            if posixpath.dirname(p) == folder and posixpath.basename(p).startswith(f"{parts[-1]}.")
            and p.endswith(".so")
        ]  # fmt: skip
        if compiled:
            return []  # an extension module: its functions cannot be read without loading it
        tried = " or ".join(candidates)
        return [
            Finding(
                "handler",
                candidates[0],
                f"handler {handler!r} names module {module!r}, but the bundle has no {tried}. "
                "Check the handler setting and that the module is part of the project's wheel.",
            )
        ]
    entry = entries[rel]
    if entry.size > SOURCE_LIMIT:
        return [
            Finding(
                "handler",
                rel,
                f"is {entry.size:,} bytes, more than the {SOURCE_LIMIT:,} hatch-lambda parses, so "
                f"whether it defines {function!r} is not checked; keep the handler's module small "
                "and import the rest",
            )
        ]
    try:
        tree = ast.parse(reader.read(entry, SOURCE_LIMIT), filename=rel)
    except UnreadableError as exc:
        return [entry_finding(rel, exc.reason)]
    except (RecursionError, MemoryError):
        return [Finding("handler", rel, "cannot be parsed: it nests too deeply")]
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        return [
            Finding("handler", rel, f"cannot be parsed (line {line}): {getattr(exc, 'msg', exc)}")
        ]
    names = _top_level_names(tree)
    if function in names:
        return []
    functions = sorted(
        n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
    )
    return [
        Finding(
            "handler",
            rel,
            f"handler {handler!r}: {rel} defines no {function!r} at module level"
            + (f" (its functions: {', '.join(functions)})" if functions else ""),
        )
    ]
