"""Writes hatch_lambda/_stdlib.py: the standard library's top-level module names of each
CPython a Lambda runtime runs, for the `imports` and `stdlib-shadow` audit rules and the
selection stage (backports the standard library already provides).

    python3 .ci/stdlib_names.py        # with CPython 3.9 to 3.13 in pyenv (~/.pyenv/versions)

3.10 and later report ``sys.stdlib_module_names``. 3.9 has no such list: its names are 3.10's,
less what 3.10 added and plus what it removed, both found by listing what each interpreter can
import from its own library folders (the listing also holds test modules, which the official list
leaves out, so only the difference is taken from it). No 3.14 interpreter was at hand: its names
are 3.13's with the changes What's New in Python 3.14 lists (annotationlib, compression, and the
private modules behind them; _compression moved into compression).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PYENV = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
OUT = Path(__file__).resolve().parent.parent / "hatch_lambda" / "_stdlib.py"
ADDED_IN_314 = {
    "_apple_support", "_ast_unparse", "_hmac", "_py_warnings", "_remote_debugging", "_types",
    "_zstd", "annotationlib", "compression",
}  # fmt: skip
REMOVED_IN_314 = {"_compression"}

OFFICIAL = "import json, sys; print(json.dumps(sorted(sys.stdlib_module_names)))"
LISTED = (
    "import json, os, pkgutil, sys, sysconfig; p = sysconfig.get_paths(); "
    "where = [p['stdlib'], p['platstdlib'], os.path.join(p['platstdlib'], 'lib-dynload')]; "
    "print(json.dumps(sorted({*sys.builtin_module_names, "
    "*(m.name for m in pkgutil.iter_modules(where))})))"
)


def interpreter(minor: int) -> str:
    found = sorted(PYENV.glob(f"3.{minor}.*/bin/python3.{minor}"))
    if not found:
        sys.exit(f"no CPython 3.{minor} under {PYENV}")
    return str(found[-1])


def names(minor: int, program: str) -> set[str]:
    out = subprocess.run([interpreter(minor), "-I", "-c", program], capture_output=True,
                         text=True, check=True).stdout  # fmt: skip
    return set(json.loads(out))


def main() -> None:
    table = {f"3.{m}": names(m, OFFICIAL) for m in range(10, 14)}
    listed_39, listed_310 = names(9, LISTED), names(10, LISTED)
    table["3.9"] = (table["3.10"] - (listed_310 - listed_39)) | (listed_39 - listed_310)
    table["3.14"] = (table["3.13"] - REMOVED_IN_314) | ADDED_IN_314
    common = set.intersection(*table.values())
    lines = [
        '"""The standard library\'s top-level module names of each CPython a Lambda runtime runs.',
        "",
        "Written by .ci/stdlib_names.py, which says how each version's names were found; do not edit.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "import functools",
        "",
        '_COMMON = """',
        *_wrapped(sorted(common)),
        '"""',
        "_ONLY = {",
    ]
    for version in sorted(table, key=lambda v: int(v.split(".")[1])):
        lines += [f'    "{version}": """', *_wrapped(sorted(table[version] - common), 4), '""",']
    lines += [
        "}",
        "VERSIONS = tuple(_ONLY)",
        "",
        "",
        "@functools.cache",
        "def stdlib_modules(version: str) -> frozenset[str]:",
        '    """The top-level names ``import`` finds in the standard library of Python *version*',
        '    (``3.12``); empty for a version not in the table."""',
        "    if version not in _ONLY:",
        "        return frozenset()",
        "    return frozenset(_COMMON.split()) | frozenset(_ONLY[version].split())",
        "",
    ]
    OUT.write_text("\n".join(lines), encoding="utf-8")


def _wrapped(words: list[str], indent: int = 0) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in words:
        if line and len(line) + len(word) + 1 > 96 - indent:
            lines.append(" " * indent + line)
            line = word
        else:
            line = f"{line} {word}".strip()
    if line:
        lines.append(" " * indent + line)
    return lines


if __name__ == "__main__":
    main()
