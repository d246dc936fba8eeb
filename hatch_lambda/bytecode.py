"""The bytecode step of the install stage: ``.pyc`` for the target's exact Python, hash-validated.

Lambda cannot write ``__pycache__`` in ``/var/task`` or ``/opt``, so every cold start compiles
what it imports unless the bundle carries bytecode of that exact version. Timestamp-validated
bytecode would go stale once the archive normalises timestamps, so it is compiled with
``unchecked-hash`` invalidation, and with the path Lambda sees in tracebacks.
"""

from __future__ import annotations

from pathlib import Path

from ._pythons import PYTHON_ENV, find_python
from ._report import Reporter
from ._subprocess import run
from .errors import ToolError
from .target import Runtime


def compile_tree(root: Path, runtime: Runtime, *, runtime_path: str, reporter: Reporter) -> None:
    """Compile every module under *root* as if it lived at *runtime_path* (``/var/task``)."""
    python = find_python(runtime.version)
    if python is None:
        major, minor = runtime.python
        raise ToolError(
            f"compile-bytecode needs a CPython {runtime.version} interpreter to compile for "
            f"{runtime.name}, and none was found (looked for python{runtime.version} on PATH, "
            f"in pyenv, and in ${PYTHON_ENV.format(major=major, minor=minor)}). Install one, point "
            "that variable at it, or set compile-bytecode = false."
        )
    reporter.waiting(f"Compiling bytecode for {runtime.name} with {python}")
    proc = run(
        [python, "-I", "-c", _COMPILE, str(root), runtime_path],
        what=f"compiling bytecode for {runtime.name}",
        reporter=reporter,
    )
    # A module that does not compile on this version (code kept for another one) is left as
    # source, as pip does; Python only reaches it if something imports it.
    for line in proc.stdout.splitlines():
        if line.startswith("***"):
            reporter.warning(f"bytecode: {line.lstrip('* ')}")


_COMPILE = """
import compileall, py_compile, sys
root, prefix = sys.argv[1], sys.argv[2]
compileall.compile_dir(
    root, quiet=1, stripdir=root, prependdir=prefix, workers=0,
    invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
)
"""
