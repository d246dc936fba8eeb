"""Running a build as an ordinary user from a root test run: the same hatch-lambda and hatchling,
copied where that user can read them, under the system's Python (the test interpreter may live in
root's home, which no other user can enter)."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import hatch_lambda
from support.pythons import missing

UID = GID = 4321


def _closure(name: str) -> list[importlib.metadata.Distribution]:
    found: dict[str, importlib.metadata.Distribution] = {}
    todo = [name]
    while todo:
        key = canonicalize_name(todo.pop())
        if key in found:
            continue
        found[key] = dist = importlib.metadata.distribution(key)
        for line in dist.requires or []:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return list(found.values())


def user_site(destination: Path) -> Path:
    """hatch-lambda and everything it runs with, as one folder to put on PYTHONPATH."""
    for dist in _closure("hatch-lambda"):
        base = Path(str(dist.locate_file("")))
        for rel in dist.files or []:
            if rel.parts[0] == ".." or rel.suffix == ".pth" or rel.name.startswith("__editable"):
                continue  # scripts, and an editable install's path hook
            (destination / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(base / rel, destination / rel)
    # An editable install lists no package files: copy the package itself.
    package = Path(hatch_lambda.__file__).parent
    shutil.copytree(package, destination / "hatch_lambda", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    return destination


def as_user(argv: list[str], *, cwd: Path, env: dict[str, str], groups: list[int]) -> list[str]:
    """*argv* (starting with "python") run as UID:GID in *groups*, with the system's Python."""
    if os.getuid() != 0 or shutil.which("setpriv") is None:
        missing("running a build as another user needs root and setpriv (util-linux)")
    python = shutil.which("python3", path="/usr/bin:/bin")
    if python is None:
        missing("no system python3 under /usr/bin for the unprivileged build")
    subprocess.run(["chown", "-R", f"{UID}:{GID}", str(cwd)], check=True)
    extra = ",".join(str(g) for g in groups) if groups else ""
    return ["setpriv", f"--reuid={UID}", f"--regid={GID}",
            f"--groups={extra}" if extra else "--clear-groups", python, *argv[1:]]  # fmt: skip
