"""Finds a CPython interpreter of an exact version on this machine, or has uv install one.

Looked for in this order: ``$HATCH_LAMBDA_PYTHON_3X``, ``python3.X`` on PATH, pyenv's versions,
then uv's managed Pythons (``uv python find``) and, when asked and uv's downloads are not turned
off, ``uv python install``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ._report import Reporter
from ._subprocess import run
from .cache import cache_key, evict, load_json, refresh_requested, store_json
from .errors import ToolError
from .target import RUNTIMES

if TYPE_CHECKING:
    from .config import ArtifactConfig

PYTHON_ENV = (
    "HATCH_LAMBDA_PYTHON_{major}{minor}"  # e.g. HATCH_LAMBDA_PYTHON_312=/usr/bin/python3.12
)
# The second line is the interpreter itself: a pyenv or asdf shim in front of it is a shell
# script that takes about 50 ms to start, more than compiling a project's modules.
_PROBE = (
    "import sys; print(sys.implementation.name, '%d.%d' % sys.version_info[:2]); "
    "print(sys.executable)"
)
_TRUE = ("1", "true", "yes", "on")
_RETRY_DOWNLOAD = 24 * 3600  # seconds after a failed download before uv is asked again


def _variable(version: str) -> str:
    major, minor = version.split(".")
    return PYTHON_ENV.format(major=major, minor=minor)


def _probe(python: str) -> dict[str, str] | None:
    """What *python* is, and the interpreter it runs (itself, unless it is a shim)."""
    try:
        out = subprocess.run(
            [python, "-I", "-c", _PROBE], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    lines = out.stdout.strip().splitlines() or [""]
    executable = lines[1].strip() if len(lines) > 1 else ""
    # An interpreter that gives no usable sys.executable (embedded, or a wrapper that must run
    # first) is run by the path it was found at.
    if not executable or not Path(executable).is_file():
        executable = python
    return {"is": lines[0].strip(), "executable": executable}


def _cpython(python: str, version: str) -> str | None:
    """The interpreter to run for *python* if it runs as CPython *version*, or None. What a file
    (by its path, size and mtime) was found to be is kept in the cache: a warm build runs no
    interpreter to learn it again."""
    try:
        stat = Path(python).resolve().stat()
    except OSError:
        return None
    key = cache_key("python", str(Path(python).resolve()), stat.st_size, stat.st_mtime_ns)
    known = load_json("python", key)
    if not (
        isinstance(known, dict)
        and isinstance(known.get("is"), str)
        and isinstance(known.get("executable"), str)
        and Path(known["executable"]).is_file()  # a shim's version may have been uninstalled
    ):
        known = _probe(python)
        if known is None:
            return None
        store_json("python", key, known)
    return str(known["executable"]) if known["is"] == f"cpython {version}" else None


def candidates(version: str) -> list[str]:
    major, minor = version.split(".")
    found: list[str] = []
    override = os.environ.get(_variable(version))
    if override:
        found.append(override)
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    on_path = shutil.which(f"python{version}")
    # pyenv's shim starts one of the versions listed next, when pyenv's selection has it, and
    # fails after a slow search when not: each build would run it, as a failure is not kept.
    if on_path and Path(on_path).parent != pyenv_root / "shims":
        found.append(on_path)
    found += [
        str(p)
        for p in sorted(pyenv_root.glob(f"versions/{version}.*/bin/python{version}"), reverse=True)
    ]
    if os.name == "nt":  # the py launcher's installs
        found += [
            str(p)
            for p in Path(os.environ.get("LOCALAPPDATA", "")).glob(
                f"Programs/Python/Python{major}{minor}/python.exe"
            )
        ]
    return found


def _uv() -> str | None:
    from .wheelhouse._uv import find_uv

    return find_uv()


def _uv_find(uv: str, version: str) -> str | None:
    """uv's own CPython of *version* (one it installed, or the active virtual environment's)."""
    try:
        out = subprocess.run(
            [uv, "python", "find", "--managed-python", "--no-project", f"cpython-{version}"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    found = out.stdout.strip().splitlines()
    if out.returncode != 0 or not found:
        return None
    return _cpython(found[-1], version)


def downloads_off() -> str | None:
    """Why uv may not download a Python here (``UV_PYTHON_DOWNLOADS=never``), or None."""
    downloads = os.environ.get("UV_PYTHON_DOWNLOADS", "").strip().lower()
    if downloads in ("never", "manual"):
        return f"UV_PYTHON_DOWNLOADS={downloads}"
    if os.environ.get("UV_OFFLINE", "").strip().lower() in _TRUE:
        return "UV_OFFLINE is set"
    return None


# Each lookup runs once per build and version: a build asks when validating and when compiling.
_found: dict[tuple[str, ...], str | None] = {}
_not_downloaded: dict[str, str] = {}
"""Why no Python of a version was downloaded, said when none was found."""


def find_python(version: str, *, download: Reporter | None = None) -> str | None:
    """An interpreter that reports exactly CPython *version* (``3.12``), or None. With
    *download*, the reporter to say it on, uv installs one when none is found and its downloads
    are not turned off."""
    looked_at = (version, *candidates(version))
    if looked_at in _found and (_found[looked_at] or not download):
        return _found[looked_at]
    python = next(filter(None, (_cpython(p, version) for p in looked_at[1:])), None)
    uv = _uv() if python is None else None
    if uv is not None:
        python = _uv_find(uv, version)
        if python is None and download is not None:
            python = _uv_install(uv, version, download)
    elif python is None:
        _not_downloaded[version] = "uv is not installed"
    _found[looked_at] = python
    return python


def _uv_install(uv: str, version: str, reporter: Reporter) -> str | None:
    off = downloads_off()
    if off:
        _not_downloaded[version] = f"uv's downloads are off ({off})"
        return None
    if version in _not_downloaded:  # tried in this build already
        return None
    # A download that failed (no network, no access to GitHub) is not tried again for a day:
    # each build would wait for it, and say the same.
    failed = cache_key("python-download", version)
    known = load_json("python-download", failed)
    if isinstance(known, dict) and not refresh_requested():
        since = time.time() - float(known.get("at", 0))
        if 0 <= since < _RETRY_DOWNLOAD:
            _not_downloaded[version] = (
                f"{known.get('reason')}, {since / 3600:.1f} hours ago; tried again a day later, "
                "or with HATCH_LAMBDA_REFRESH=1"
            )
            return None
    reporter.waiting(
        f"Downloading CPython {version} with uv to compile bytecode (uv python install {version})"
    )
    try:
        run([uv, "python", "install", "--no-bin", "--no-progress", version],
            what=f"installing CPython {version} with uv", reporter=reporter)  # fmt: skip
    except ToolError as exc:
        reason = f"uv python install {version} failed: {str(exc).strip().splitlines()[-1].strip()}"
        _not_downloaded[version] = reason
        store_json("python-download", failed, {"at": time.time(), "reason": reason})
        return None
    evict("python-download", failed)
    python = _uv_find(uv, version)
    if python is None:
        _not_downloaded[version] = f"uv python install {version} left no CPython {version}"
    return python


def where_looked(version: str) -> str:
    """Where a Python of *version* was looked for, for a message that none was found."""
    variable = _variable(version)
    override = os.environ.get(variable)
    places = f"python{version} on PATH, pyenv and uv's Pythons"
    looked = (
        f"{variable}={override} is not one, and there is no {places}"
        if override
        else f"looked at ${variable}, {places}"
    )
    reason = _not_downloaded.get(version)
    return f"{looked}; {reason}" if reason else looked


def getting_one(version: str) -> str:
    """The commands that get an interpreter of *version*."""
    return f"run `uv python install {version}`, or set {_variable(version)} to a CPython {version}"


def not_found(subject: str, version: str, runtime: str) -> str:
    """Why *subject* cannot be done without an interpreter of *version*, where one was looked
    for, and what to do."""
    return (
        f"{subject} needs a CPython {version} interpreter to compile for {runtime}, and none was "
        f"found ({where_looked(version)}). To get one, {getting_one(version)}; or set "
        'compile-bytecode = "auto" (the default), which ships sources where there is none'
    )


def choose_interpreters(
    config: ArtifactConfig, reporter: Reporter, *, said: set[str]
) -> dict[str, str | None]:
    """The runtimes of *config* to compile for, each with the local interpreter that compiles
    (None: the build image's, in container mode). With ``compile-bytecode = "auto"``, a runtime
    without one is left out, and said so once per build and version (*said*)."""
    if config.compile_bytecode is False or config.kind == "wheelhouse":
        return {}
    chosen: dict[str, str | None] = {}
    for name in config.all_runtimes:
        version = RUNTIMES[name].version
        # In container mode the image has one: nothing is downloaded for it.
        python = find_python(version, download=None if config.container else reporter)
        if python is not None or config.container:
            chosen[name] = python
        elif config.compile_bytecode is True:  # checked with the configuration already
            raise ToolError(not_found("compile-bytecode = true", version, name))
        elif version not in said:
            said.add(version)
            reporter.warning(
                f"no CPython {version} to compile bytecode for {name} ({where_looked(version)}): "
                f"shipping sources, which every cold start compiles. To get one, "
                f"{getting_one(version)}; or set compile-bytecode = false"
            )
    return chosen
