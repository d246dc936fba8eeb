"""The import statements of a module that can run on the target, read from its syntax tree.

Code under ``if TYPE_CHECKING:`` never runs; a branch on ``sys.version_info``, ``sys.platform``
or ``os.name`` runs only if the target's Python (Linux, CPython 3.X) takes it; an import inside a
``try`` whose handlers catch ImportError is guarded: its failure is the module's plan, not a crash.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

# What a handler must name to catch the ModuleNotFoundError of a failed import.
_CATCHES_IMPORT_ERROR = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b, ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b,
}  # fmt: skip


@dataclass(frozen=True)
class Statement:
    node: ast.Import | ast.ImportFrom
    guarded: bool
    """Inside a ``try`` that catches ImportError."""
    deferred: bool
    """Inside a function: it runs when the function is called, not when the module is imported."""


def import_statements(tree: ast.Module, python: tuple[int, int]) -> Iterator[Statement]:
    """Every import statement of *tree* that Python *python* on Linux can run, in order."""
    yield from _walk(tree.body, python, guarded=False, deferred=False)


def _walk(
    body: list[ast.stmt], python: tuple[int, int], *, guarded: bool, deferred: bool
) -> Iterator[Statement]:
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield Statement(node, guarded, deferred)
        elif isinstance(node, ast.If):
            taken = False if _is_type_checking(node.test) else _static(node.test, python)
            if taken is not False:
                yield from _walk(node.body, python, guarded=guarded, deferred=deferred)
            if taken is not True:
                yield from _walk(node.orelse, python, guarded=guarded, deferred=deferred)
        elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            handlers: list[ast.ExceptHandler] = getattr(node, "handlers", [])
            # A handler that raises again only rewords the failure: it guards nothing.
            catches = any(
                _catches_import_error(h.type) and not any(isinstance(n, ast.Raise) for n in h.body)
                for h in handlers
            )
            yield from _walk(getattr(node, "body", []), python, guarded=guarded or catches,
                             deferred=deferred)  # fmt: skip
            # The handlers, else and finally run outside the protection of this try.
            for part in [*(h.body for h in handlers), getattr(node, "orelse", []),
                         getattr(node, "finalbody", [])]:  # fmt: skip
                yield from _walk(part, python, guarded=guarded, deferred=deferred)
        else:
            # Functions run when called: their imports count (a handler's first call runs them)
            # and say so. Classes, loops, with blocks and match cases run with the module.
            inner = deferred or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            suppressed = guarded or (
                isinstance(node, (ast.With, ast.AsyncWith))
                and any(_suppresses(i) for i in node.items)
            )
            for field in ("body", "orelse", "finalbody"):
                part = getattr(node, field, None)
                if isinstance(part, list):
                    yield from _walk(part, python, guarded=suppressed, deferred=inner)
            for case in getattr(node, "cases", []):
                yield from _walk(case.body, python, guarded=guarded, deferred=inner)


def _catches_import_error(kind: ast.expr | None) -> bool:
    if kind is None:  # a bare except
        return True
    if isinstance(kind, ast.Tuple):
        return any(_catches_import_error(k) for k in kind.elts)
    name = kind.id if isinstance(kind, ast.Name) else getattr(kind, "attr", None)
    return name in _CATCHES_IMPORT_ERROR


def _suppresses(item: ast.withitem) -> bool:
    """``with contextlib.suppress(ImportError):``"""
    call = item.context_expr
    return (
        isinstance(call, ast.Call)
        and (_dotted(call.func) or "").rpartition(".")[2] == "suppress"
        and any(_catches_import_error(arg) for arg in call.args)
    )


def _is_type_checking(test: ast.expr) -> bool:
    """``TYPE_CHECKING`` or ``typing.TYPE_CHECKING`` (any module's name before the dot)."""
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _static(test: ast.expr, python: tuple[int, int]) -> bool | None:
    """What *test* is on the target, where it can be told from the code alone; else None."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _static(test.operand, python)
        return None if inner is None else not inner
    if isinstance(test, ast.BoolOp):
        values = [_static(v, python) for v in test.values]
        if isinstance(test.op, ast.And):
            return False if False in values else (True if all(values) else None)
        return True if True in values else (False if all(v is False for v in values) else None)
    if isinstance(test, ast.Call) and isinstance(test.func, ast.Attribute):
        # sys.platform.startswith("linux"), the form the typing documentation recommends
        if (
            test.func.attr == "startswith"
            and _dotted(test.func.value) == "sys.platform"
            and len(test.args) == 1
            and isinstance(test.args[0], ast.Constant)
            and isinstance(test.args[0].value, str)
        ):
            return "linux".startswith(test.args[0].value)
        return None
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return None
    compare = _COMPARE.get(type(test.ops[0]))
    right = test.comparators[0]
    if compare is None:
        return None
    left = _dotted(test.left)
    if not isinstance(right, ast.Constant):
        return _version_compare(test.left, right, compare, python)
    if left in ("sys.platform", "os.name"):
        return bool(compare("linux" if left == "sys.platform" else "posix", right.value))
    if left == "__name__" and right.value == "__main__":
        # Lambda imports the handler's module by name: its __name__ is never "__main__".
        return bool(compare("", "__main__"))
    return None
    return _version_compare(test.left, right, compare, python)


def _version_compare(
    left: ast.expr, right: ast.expr, compare: Callable[[Any, Any], bool], python: tuple[int, int]
) -> bool | None:
    """``sys.version_info >= (3, 11)``, ``sys.version_info[:2] < (3, 10)`` and the like. The
    micro version of the runtime is not known: a comparison that turns on it is not decided."""
    width = None
    if isinstance(left, ast.Subscript) and isinstance(left.slice, ast.Slice):
        upper = left.slice.upper
        if left.slice.lower is not None or not isinstance(upper, ast.Constant):
            return None
        width, left = upper.value, left.value
    if _dotted(left) != "sys.version_info" or not isinstance(right, ast.Tuple):
        return None
    wanted = tuple(e.value for e in right.elts if isinstance(e, ast.Constant))
    if len(wanted) != len(right.elts) or not all(isinstance(v, int) for v in wanted):
        return None
    if isinstance(width, int):
        wanted = wanted[:width]
    if len(wanted) > 2 and wanted[:2] == python:
        return None
    return bool(compare(python[: len(wanted)] if len(wanted) <= 2 else python, wanted[:2]))
