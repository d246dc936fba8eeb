"""Rule ``handler``: the configured handler's module is bundled and defines the function.

The module is parsed, never imported: the user's code does not run at build time.
"""

from __future__ import annotations

import ast
from pathlib import Path

from . import Finding


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


def check_handler(root: Path, handler: str) -> list[Finding]:
    module, _, function = handler.rpartition(".")
    parts = module.split(".")
    candidates = [Path(*parts).with_suffix(".py"), Path(*parts, "__init__.py")]
    source_path = next((root / c for c in candidates if (root / c).is_file()), None)
    if source_path is None:
        compiled = list(root.joinpath(*parts[:-1]).glob(f"{parts[-1]}.*.so"))
        if compiled:
            return []  # an extension module: its functions cannot be read without loading it
        tried = " or ".join(c.as_posix() for c in candidates)
        return [
            Finding(
                "handler",
                candidates[0].as_posix(),
                f"handler {handler!r} names module {module!r}, but the bundle has no {tried}. "
                "Check the handler setting and that the module is part of the project's wheel.",
            )
        ]
    rel = source_path.relative_to(root).as_posix()
    try:
        tree = ast.parse(source_path.read_bytes(), filename=rel)
    except SyntaxError as exc:
        return [Finding("handler", rel, f"cannot be parsed (line {exc.lineno}): {exc.msg}")]
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
