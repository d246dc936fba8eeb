"""Benchmark: hatch-lambda against pip, uv and AWS SAM's builder for building a Lambda function zip.

Run it with a Python that has hatch-lambda and hatchling installed (the project's development
virtualenv, for example); it needs network access to PyPI:

    python benchmarks/run.py                        # 3 runs of everything, both targets
    python benchmarks/run.py --runs 1               # a quick check
    python benchmarks/run.py --targets python3.11-x86_64 --tools hatch-lambda,hook,uv
    python benchmarks/run.py --sets small,default,large   # the scale table

For each dependency set (``--sets``; by default the six of ``default``: requests, pydantic, numpy,
pandas, orjson, cryptography) and each target (python3.12 arm64, python3.11 x86_64) it builds the
same function with:

* hatch-lambda: a generated project built with ``python -m hatchling build -t wheel``, cold
  (fresh caches), warm (same caches, nothing changed) and after a code-only change; also the plain
  wheel build with hooks off, whose time is subtracted to give the "lambda step";
* hook: the same project and command with a do-nothing custom build hook (``hatch_build.py``)
  instead of hatch-lambda's, cold, warm and after a code change: the baseline of hatch-lambda's
  warm and code-change targets;
* pip: ``pip install --target`` with the AWS CDK's platform flags, then ``zip -r``; cold and warm;
* uv: ``uv pip install --target --python-platform <the runtime's manylinux> --only-binary :all:``,
  then ``zip -r``; cold and warm;
* sam: ``aws-lambda-builders`` (AWS SAM's builder library) from a separate virtualenv of the
  runtime's Python version, then ``zip -r``; cold and warm.

Every measured command runs in a fresh wrapper process (this script, ``_measure``) that times it
and reports the peak RSS of its process tree. Every tool sees PyPI only: ``PIP_CONFIG_FILE`` is
``/dev/null`` and the environment's ``PIP_*``, ``UV_*`` and ``HATCH_*`` variables are removed.

The table is printed and written, with the raw measurements, to ``benchmarks/results/latest.md``
and ``latest.json``. The script exits non-zero only if hatch-lambda failed; any other tool's
failure is shown in the table with its error. What is built is in ``_projects.py``, how the table
is made in ``_report.py``.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from _projects import (
    DEPENDENCY_SETS,
    HANDLER,
    IMPORT_SET,
    IMPORT_STATEMENT,
    IMPORT_TARGET,
    TARGETS,
    Target,
    fresh_dir,
    pip_install_argv,
    sam_steps,
    uv_install_argv,
    write_project,
    write_requirements,
)
from _report import ArchiveStats, Measurement, RunRecord, render_markdown, summarize

TOOLS = ("hatch-lambda", "hook", "pip", "uv", "uv-pyc", "sam")
# The builds measured with ``python -m hatchling build -t wheel``, and the hook each project has.
HATCH_HOOKS = {"hatch-lambda": "lambda", "hook": "custom"}
HERE = Path(__file__).resolve().parent


@dataclass
class Context:
    """What every measurement needs: the work folder and the tools found."""

    workdir: Path
    uv: str | None
    zip_command: str | None
    sam_pythons: dict[str, str | None] = field(default_factory=dict)  # version -> venv python
    sam_errors: dict[str, str] = field(default_factory=dict)
    timeout: float | None = None
    """Seconds a measured command may run before it is stopped and reported as timed out."""
    bytecode: str = "auto"
    """hatch-lambda's compile-bytecode in the measured builds: auto (the default), true, false."""


# --------------------------------------------------------------------------------------------
# The measuring wrapper (runs in its own process: ``run.py _measure SPEC RESULT``)
# --------------------------------------------------------------------------------------------


TIMED_OUT = 124  # the exit status `timeout(1)` uses


def measure_main(spec_path: str, result_path: str) -> int:
    """Run the steps of *spec_path* in order, stop at the first failure, write times and RSS."""
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    steps: list[dict[str, Any]] = []
    start = time.perf_counter()
    with Path(spec["log"]).open("wb") as log:
        for step in spec["steps"]:
            step_start = time.perf_counter()
            try:
                code = subprocess.run(
                    step["argv"],
                    cwd=step["cwd"],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    check=False,
                    timeout=spec.get("timeout"),
                ).returncode
            except subprocess.TimeoutExpired:
                log.write(f"\nTIMEOUT: stopped after {spec['timeout']:.0f} s\n".encode())
                code = TIMED_OUT
            except OSError as exc:
                log.write(f"ERROR: cannot run {step['argv'][0]}: {exc}\n".encode())
                code = 127
            steps.append(
                {
                    "argv": step["argv"],
                    "seconds": time.perf_counter() - step_start,
                    "returncode": code,
                }
            )
            if code != 0:
                break
    total = time.perf_counter() - start
    max_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    result = {"seconds": total, "max_rss_kib": max_rss, "steps": steps}
    Path(result_path).write_text(json.dumps(result), encoding="utf-8")
    return 0


def zip_main(folder: str, archive: str) -> int:
    """``zip -r -6`` in Python, for machines without the zip command."""
    root = Path(folder)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(root).as_posix())
    return 0


# --------------------------------------------------------------------------------------------
# Running things
# --------------------------------------------------------------------------------------------


def clean_env(**extra: str) -> dict[str, str]:
    """The environment every tool runs in: PyPI only, no pip/uv/hatch settings from this machine."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIP_", "UV_", "HATCH_BUILD", "HATCH_LAMBDA"))
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    env.update(extra)
    return env


def first_error_line(lines: Sequence[str]) -> str:
    """The line that best says what went wrong."""
    for line in lines:
        if line.startswith(("ERROR:", "hatch-lambda:")):
            return line.strip()
    if any(line.startswith("Traceback (most recent call last)") for line in lines):
        for line in lines:
            if re.match(r"^[\w.]*(Error|Exception)\b.*", line):
                return line.strip()
    for line in lines:
        if re.search(r"\berror\b", line, re.IGNORECASE):
            return line.strip()
    stripped = [line.strip() for line in lines if line.strip()]
    return stripped[-1] if stripped else "failed with no output"


def failure_message(step: dict[str, Any], lines: Sequence[str]) -> str:
    """Which command failed, how, and the first error line of its output (plus the last one)."""
    name, code = Path(step["argv"][0]).name, step["returncode"]
    if code == TIMED_OUT:
        before = [line for line in lines if line.strip() and not line.startswith("TIMEOUT")]
        return f"{name} timed out (--timeout); last output: {first_error_line(before[-1:])}"
    if code < 0:
        try:
            how = f"killed by {signal.Signals(-code).name} (not by this script)"
        except ValueError:
            how = f"killed by signal {-code}"
        return f"{name} {how}; last output: {first_error_line(lines[-1:])}"
    first = first_error_line(lines)
    errors = [line.strip() for line in lines if re.search(r"\berror\b", line, re.IGNORECASE)]
    last = f" ... {errors[-1]}" if errors and errors[-1] not in first else ""
    return f"{name} exit {code}: {first}{last}"


def measure(
    name: str, steps: list[tuple[list[str], Path]], env: dict[str, str], ctx: Context
) -> Measurement:
    """Run *steps* under the wrapper, in a fresh process, and read back what it measured."""
    folder = ctx.workdir / "measurements"
    folder.mkdir(parents=True, exist_ok=True)
    spec, result, log = (folder / f"{name}.{ext}" for ext in ("spec.json", "result.json", "log"))
    spec.write_text(
        json.dumps(
            {
                "log": str(log),
                "timeout": ctx.timeout,
                "steps": [{"argv": a, "cwd": str(c)} for a, c in steps],
            }
        ),
        encoding="utf-8",
    )
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "_measure", str(spec), str(result)],
        env=env,
        check=False,
    )
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines() if log.exists() else []
    if proc.returncode != 0 or not result.exists():
        return Measurement(False, 0.0, 0, f"measuring wrapper failed (exit {proc.returncode})")
    data = json.loads(result.read_text(encoding="utf-8"))
    failed = [s for s in data["steps"] if s["returncode"] != 0]
    error = None
    if failed:
        error = failure_message(failed[0], lines)
    return Measurement(
        ok=not failed,
        seconds=data["seconds"],
        max_rss_kib=data["max_rss_kib"],
        error=error,
        steps=data["steps"],
        log_tail=lines[-40:] if failed else [],
    )


def archive_stats(archive: Path, target: Target) -> ArchiveStats:
    with zipfile.ZipFile(archive) as zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
    dists = sorted(
        {i.filename.split("/")[0].removesuffix(".dist-info") for i in infos
         if i.filename.split("/")[0].endswith(".dist-info")}
    )  # fmt: skip
    return ArchiveStats(
        zip_bytes=archive.stat().st_size,
        unzipped_bytes=sum(i.file_size for i in infos),
        files=len(infos),
        pyc_files=sum(1 for i in infos if i.filename.endswith(".pyc")),
        distributions=dists,
        **check_archive(archive, target),
    )


def check_archive(archive: Path, target: Target) -> dict[str, Any]:
    """``hatch-lambda check`` on any tool's zip: ELF machine and glibc, tags, bytecode, closure."""
    argv = [
        sys.executable, "-m", "hatch_lambda", "check", str(archive), "--json",
        "--runtime", target.runtime, "--architecture", target.architecture, "--handler", HANDLER,
    ]  # fmt: skip
    # Not from the current folder: ``-m`` would import a hatch_lambda/ there (a checkout's).
    proc = subprocess.run(
        argv, cwd=archive.parent, capture_output=True, text=True, env=clean_env(), check=False
    )
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        lines = (proc.stderr + proc.stdout).splitlines()
        return {"check": f"could not check: {first_error_line(lines)}", "check_errors": []}
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    rules = Counter(f["rule"] for f in errors)
    verdict = (
        "pass"
        if report["passed"]
        else "fail: " + ", ".join(f"{rule} ({n})" for rule, n in rules.most_common())
    )
    shown = [f"[{f['rule']}] {f['path']}: {f['message'].splitlines()[0]}" for f in errors[:10]]
    return {"check": verdict, "check_errors": shown}


def zip_step(folder: Path, archive: Path, ctx: Context) -> tuple[list[str], Path]:
    if ctx.zip_command:
        return [ctx.zip_command, "-r", "-q", "-6", str(archive), "."], folder
    return [
        sys.executable,
        str(Path(__file__).resolve()),
        "_zip",
        str(folder),
        str(archive),
    ], folder


def find_python(version: str) -> str | None:
    """A CPython of exactly *version*: pyenv's newest patch release, else ``python3.X`` on PATH."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))

    def patch(p: Path) -> int:
        tail = p.parts[-3].split(".")[-1]
        return int(tail) if tail.isdigit() else -1

    found = sorted(root.glob(f"versions/{version}.*/bin/python{version}"), key=patch, reverse=True)
    candidates = [str(p) for p in found] + [shutil.which(f"python{version}") or ""]
    for python in filter(None, candidates):
        out = subprocess.run(
            [python, "-I", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if out.returncode == 0 and out.stdout.strip() == version:
            return python
    return None


def find_uv() -> str | None:
    beside = shutil.which("uv", path=str(Path(sys.executable).parent))
    if beside:
        return beside
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


def caches(folder: Path) -> dict[str, str]:
    """Fresh, empty cache folders for every tool, as environment variables."""
    fresh_dir(folder)
    names = {"HATCH_LAMBDA_CACHE_DIR": "hatch-lambda", "UV_CACHE_DIR": "uv", "PIP_CACHE_DIR": "pip"}
    return {var: str(fresh_dir(folder / name)) for var, name in names.items()}


# --------------------------------------------------------------------------------------------
# The tools
# --------------------------------------------------------------------------------------------


def hatch_build(project: Path, env: dict[str, str], name: str, ctx: Context) -> Measurement:
    argv = [sys.executable, "-m", "hatchling", "build", "-t", "wheel"]
    return measure(name, [(argv, project)], env, ctx)


def lambda_zip(project: Path) -> Path | None:
    zips = sorted((project / "dist-lambda").glob("*.zip"), key=lambda p: p.stat().st_mtime)
    return zips[-1] if zips else None


def run_hatch(tool: str, dep_set: str, target: Target, run: int, ctx: Context) -> list[RunRecord]:
    """Cold, warm and code-change builds of one project with the same caches.

    For hatch-lambda, first its plain wheel (hooks off), and each build's zip is read; for the
    do-nothing hook there is no zip.
    """
    base = ctx.workdir / f"run{run}" / dep_set / target.key / tool
    deps = DEPENDENCY_SETS[dep_set]
    project = write_project(
        base / "project", target, deps, hook=HATCH_HOOKS[tool], compile_bytecode=ctx.bytecode
    )
    env = clean_env(**caches(base / "cache"))
    prefix = f"run{run}-{dep_set}-{target.key}-{tool}"
    records = []
    if tool == "hatch-lambda":
        no_hooks = {**env, "HATCH_BUILD_NO_HOOKS": "true"}
        plain = hatch_build(project, no_hooks, f"{prefix}-wheel", ctx)
        mode = "wheel only (hooks off)"
        records.append(RunRecord(tool, dep_set, target.key, mode, run, plain))
    for mode in ("cold", "warm", "code change"):
        if mode == "code change":
            with (project / "src" / "bench_app" / "app.py").open("a", encoding="utf-8") as f:
                f.write(f"# change {run}\n")
        m = hatch_build(project, env, f"{prefix}-{mode.replace(' ', '-')}", ctx)
        stats = None
        if tool == "hatch-lambda":
            archive = lambda_zip(project)
            if m.ok and archive is None:
                m.ok, m.error = False, "the build succeeded but wrote no zip in dist-lambda/"
            if m.ok and archive:
                stats = archive_stats(archive, target)
                keep = fresh_dir(ctx.workdir / "archives" / dep_set / target.key) / archive.name
                shutil.copy2(archive, keep)
        records.append(RunRecord(tool, dep_set, target.key, mode, run, m, stats))
    shutil.rmtree(base / "cache", ignore_errors=True)
    return records


def run_alternative(
    tool: str, dep_set: str, target: Target, run: int, ctx: Context
) -> list[RunRecord]:
    """pip, uv or sam: a cold build with fresh caches, then a warm one with the same caches."""
    base = fresh_dir(ctx.workdir / f"run{run}" / dep_set / target.key / tool)
    deps = DEPENDENCY_SETS[dep_set]
    source = write_project(base / "project", target, deps) / "src"
    requirements = write_requirements(base / "requirements", deps)
    env = clean_env(**caches(base / "cache"))
    records = []
    for mode in ("cold", "warm"):
        out = fresh_dir(base / mode)
        archive = out / "function.zip"
        setup_error = tool_unavailable(tool, target, ctx)
        if setup_error:
            m = Measurement(False, 0.0, 0, setup_error)
            records.append(RunRecord(tool, dep_set, target.key, mode, run, m))
            continue
        if tool == "sam":
            python = ctx.sam_pythons[target.version]
            assert python is not None
            steps = sam_steps(target, out, source, requirements, python)
            folder = out / "artifacts"
        else:
            folder = fresh_dir(out / "site")
            if tool == "pip":
                install = pip_install_argv(target, folder, requirements)
            else:
                assert ctx.uv is not None
                python = find_python(target.version) if tool == "uv-pyc" else None
                install = uv_install_argv(target, folder, requirements, ctx.uv, python=python)
            copy_code = ["cp", "-r", str(source / "bench_app"), str(folder)]
            steps = [(install, out), (copy_code, out)]
        steps.append(zip_step(folder, archive, ctx))
        m = measure(f"run{run}-{dep_set}-{target.key}-{tool}-{mode}", steps, env, ctx)
        stats = archive_stats(archive, target) if m.ok else None
        records.append(RunRecord(tool, dep_set, target.key, mode, run, m, stats))
    shutil.rmtree(base, ignore_errors=True)
    return records


def tool_unavailable(tool: str, target: Target, ctx: Context) -> str | None:
    if tool in ("uv", "uv-pyc") and ctx.uv is None:
        return "uv not found (neither beside this Python nor on PATH)"
    if tool == "uv-pyc" and find_python(target.version) is None:
        return f"no CPython {target.version} on this machine to compile bytecode with"
    if tool == "sam" and ctx.sam_pythons.get(target.version) is None:
        return ctx.sam_errors.get(target.version, "aws-lambda-builders is not set up")
    return None


def setup_sam(version: str, ctx: Context) -> None:
    """A virtualenv of Python *version* with aws-lambda-builders (and a current pip)."""
    host = find_python(version)
    if host is None:
        ctx.sam_pythons[version] = None
        ctx.sam_errors[version] = f"no CPython {version} on this machine (pyenv or PATH) for SAM"
        return
    venv = ctx.workdir / f"sam-venv-{version}"
    env = clean_env(PIP_CACHE_DIR=str(ctx.workdir / "sam-setup-cache"))
    commands = [
        [host, "-m", "venv", str(venv)],
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-U", "pip",
         "aws-lambda-builders"],
    ]  # fmt: skip
    for argv in commands:
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            ctx.sam_pythons[version] = None
            lines = (proc.stderr + proc.stdout).splitlines()
            ctx.sam_errors[version] = f"setting up aws-lambda-builders: {first_error_line(lines)}"
            return
    ctx.sam_pythons[version] = str(venv / "bin" / "python")


# --------------------------------------------------------------------------------------------
# Cold import of the built archive
# --------------------------------------------------------------------------------------------


def time_imports(python: str, folder: Path | None, runs: int) -> dict[str, Any]:
    """Median wall time of a fresh ``python -I -S -B`` importing the heavy modules from *folder*.

    ``-B`` keeps Python from writing ``__pycache__`` into the folder, which would make every run
    after the first a warm one (Lambda's /var/task is read-only).
    """
    code = (
        f"import sys; sys.path.insert(0, {str(folder)!r}); {IMPORT_STATEMENT}" if folder else "pass"
    )
    times, error = [], None
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(
            [python, "-I", "-S", "-B", "-c", code], capture_output=True, text=True, check=False
        )
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            error = first_error_line(proc.stderr.splitlines())
            break
        times.append(elapsed)
    return {
        "ok": error is None,
        "error": error,
        "seconds": times,
        "median": statistics.median(times) if times and error is None else None,
    }


def unpack(archive: Path, folder: Path) -> tuple[Path, int]:
    fresh_dir(folder)
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(folder)
        pyc = sum(1 for n in zf.namelist() if n.endswith(".pyc"))
    return folder, pyc


def run_import_benchmark(ctx: Context, runs: int) -> dict[str, Any]:
    """Cold imports from hatch-lambda zips built with the default (``compile-bytecode = "auto"``,
    which compiles with the target's interpreter found here) and with ``compile-bytecode = false``.

    Both are of the default dependency set (``IMPORT_SET``) for ``IMPORT_TARGET``; the zip of
    the measured builds is used for the setting they were made with.
    """
    target = TARGETS[IMPORT_TARGET]
    python = find_python(target.version)
    if python is None:
        return {"error": f"no CPython {target.version} on this machine"}
    result: dict[str, Any] = {
        "python": python, "set": IMPORT_SET, "statement": IMPORT_STATEMENT, "variants": {}
    }  # fmt: skip
    result["baseline (empty interpreter)"] = time_imports(python, None, runs)
    archives = sorted((ctx.workdir / "archives" / IMPORT_SET / target.key).glob("*.zip"))
    variants = result["variants"]
    for setting, name in (("auto", "default (auto)"), ("false", "compile-bytecode = false")):
        if setting != ctx.bytecode:
            variants[name] = built_variant(target, python, ctx, runs, setting)
        elif archives:
            folder, pyc = unpack(archives[-1], ctx.workdir / "import" / setting)
            variants[name] = {"pyc_files": pyc, **time_imports(python, folder, runs)}
        else:
            variants[name] = {"ok": False, "error": "no hatch-lambda archive was built"}
    return result


def built_variant(
    target: Target, python: str, ctx: Context, runs: int, setting: str
) -> dict[str, Any]:
    base = ctx.workdir / f"bytecode-{setting}"
    deps = DEPENDENCY_SETS[IMPORT_SET]
    project = write_project(base / "project", target, deps, compile_bytecode=setting)
    env = clean_env(**caches(base / "cache"))
    m = hatch_build(project, env, f"compiled-{target.key}", ctx)
    build = asdict(m)
    archive = lambda_zip(project)
    if not m.ok or archive is None:
        log = "\n".join(m.log_tail)
        unsupported = "compile-bytecode" in log and re.search(
            r"unknown|not a valid|did you mean", log
        )
        status = "n/a (compile-bytecode is not supported)" if unsupported else "failed"
        return {"ok": False, "status": status, "error": m.error, "build": build}
    folder, pyc = unpack(archive, ctx.workdir / "import" / setting)
    return {
        "pyc_files": pyc,
        "build": build,
        "archive": asdict(archive_stats(archive, target)),
        **time_imports(python, folder, runs),
    }


# --------------------------------------------------------------------------------------------
# Versions and output
# --------------------------------------------------------------------------------------------


def tool_versions(ctx: Context) -> dict[str, str | None]:
    def output(argv: list[str]) -> str | None:
        try:
            proc = subprocess.run(
                argv, capture_output=True, text=True, env=clean_env(), check=False
            )
        except OSError:
            return None
        return proc.stdout.strip() if proc.returncode == 0 else None

    versions: dict[str, str | None] = {
        "python (hatch-lambda, pip)": platform.python_version(),
        "hatch-lambda": importlib.metadata.version("hatch-lambda") + source_state(),
        "hatchling": importlib.metadata.version("hatchling"),
        "pip": importlib.metadata.version("pip"),
        "uv": output([ctx.uv, "--version"]) if ctx.uv else None,
        "zip": zip_version(ctx.zip_command, output),
    }
    query = (
        "import importlib.metadata as m, platform; "
        "print(m.version('aws-lambda-builders'), m.version('pip'), platform.python_version())"
    )
    for version, python in sorted(ctx.sam_pythons.items()):
        found = output([python, "-c", query]) if python else None
        if found:
            alb, pip, py = found.split()
            versions[f"aws-lambda-builders (python {py})"] = f"{alb} (its pip {pip})"
        else:
            versions[f"aws-lambda-builders (python {version})"] = None
    return versions


def source_state() -> str:
    """For hatch-lambda installed from a git checkout (editable): its commit and whether it is dirty."""
    import hatch_lambda

    package = Path(hatch_lambda.__file__).resolve().parent
    git = ["git", "-C", str(package)]
    head = subprocess.run(
        [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    if head.returncode != 0:
        return ""
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "--", "."], capture_output=True, text=True, check=False
    )
    changes = " + uncommitted changes" if dirty.stdout.strip() else ""
    return f" (source at commit {head.stdout.strip()}{changes})"


def zip_version(command: str | None, output: Any) -> str:
    """The zip command's banner ("Zip 3.0 (July 5th 2008)"), or the Python fallback."""
    if not command:
        return "python zipfile (deflate, level 6)"
    banner = re.search(r"This is (Zip [^,]*)", output([command, "-v"]) or "")
    return banner.group(1) if banner else command


def machine_info() -> dict[str, Any]:
    return {"cpu_count": os.cpu_count(), "platform": platform.platform()}


def write_results(report: dict[str, Any], markdown: str, output: Path, stem: str) -> None:
    output.mkdir(parents=True, exist_ok=True)
    (output / f"{stem}.md").write_text(markdown, encoding="utf-8")
    (output / f"{stem}.json").write_text(json.dumps(report, indent=2, default=str) + "\n", "utf-8")


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def parse_list(
    values: Iterable[str] | None,
    allowed: Sequence[str],
    what: str,
    default: Sequence[str] | None = None,
) -> list[str]:
    """The comma-separated choices of a repeatable option (by default *default*, or all)."""
    given = values or default or allowed
    chosen = [v.strip() for value in given for v in value.split(",") if v.strip()]
    unknown = [v for v in chosen if v not in allowed]
    if unknown:
        raise SystemExit(f"unknown {what}: {', '.join(unknown)} (choose from {', '.join(allowed)})")
    return list(dict.fromkeys(chosen))


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (default 3)")
    parser.add_argument(
        "--targets",
        action="append",
        help=f"comma-separated, from {', '.join(TARGETS)} (default all)",
    )
    parser.add_argument(
        "--tools", action="append", help=f"comma-separated, from {', '.join(TOOLS)} (default all)"
    )
    parser.add_argument(
        "--sets",
        action="append",
        help=f"dependency sets, comma-separated, from {', '.join(DEPENDENCY_SETS)} "
        f"(default: default); each is a row group of the table",
    )
    parser.add_argument(
        "--import-runs", type=int, default=7, help="fresh processes per cold-import timing"
    )
    parser.add_argument(
        "--compile-bytecode",
        choices=("auto", "true", "false"),
        default="auto",
        help="hatch-lambda's compile-bytecode in the measured builds (default: auto, the default)",
    )
    parser.add_argument("--output-dir", type=Path, default=HERE / "results")
    parser.add_argument("--keep-workdir", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--timeout",
        type=float,
        default=900,
        help="seconds a measured command may take before it is stopped (default 900)",
    )
    args = parser.parse_args(argv)
    args.targets = parse_list(args.targets, list(TARGETS), "target")
    args.tools = parse_list(args.tools, TOOLS, "tool")
    args.sets = parse_list(args.sets, list(DEPENDENCY_SETS), "set", default=["default"])
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def check_host() -> None:
    try:
        import hatchling  # noqa: F401

        import hatch_lambda  # noqa: F401
    except ImportError as exc:
        raise SystemExit(
            f"run this script with a Python that has hatch-lambda and hatchling installed "
            f"({sys.executable} cannot: {exc}); for example: /path/to/venv/bin/python "
            f"benchmarks/run.py"
        ) from exc


def run_benchmark(
    args: argparse.Namespace, ctx: Context, records: list[RunRecord]
) -> dict[str, Any]:
    """Every measurement; *records* fills as they finish, so an interruption keeps them."""
    targets = [TARGETS[k] for k in args.targets]
    if "sam" in args.tools:
        for version in sorted({t.version for t in targets}):
            print(f"setting up aws-lambda-builders for Python {version} ...", file=sys.stderr)
            setup_sam(version, ctx)
    for run in range(1, args.runs + 1):
        for dep_set in args.sets:
            for target in targets:
                for tool in args.tools:
                    what = f"{tool} {dep_set} {target.key}"
                    print(f"run {run}/{args.runs}: {what} ...", file=sys.stderr)
                    if tool in HATCH_HOOKS:
                        new = run_hatch(tool, dep_set, target, run, ctx)
                    else:
                        new = run_alternative(tool, dep_set, target, run, ctx)
                    for r in new:
                        state = "ok" if r.measurement.ok else f"FAILED: {r.measurement.error}"
                        seconds = r.measurement.seconds
                        print(f"    {r.mode}: {seconds:.2f} s {state}", file=sys.stderr)
                    records += new
    if "hatch-lambda" not in args.tools or IMPORT_TARGET not in args.targets:
        return {}
    if IMPORT_SET not in args.sets:
        return {"error": f"measured with the {IMPORT_SET} set only, which --sets leaves out"}
    print("cold imports ...", file=sys.stderr)
    return run_import_benchmark(ctx, args.import_runs)


class Interrupted(Exception):
    """SIGTERM (or Ctrl-C): stop, and report what was measured so far."""


def raise_interrupted(signum: int, frame: Any) -> None:
    raise Interrupted(signal.Signals(signum).name)


def build_report(
    args: argparse.Namespace,
    ctx: Context,
    records: list[RunRecord],
    imports: dict[str, Any],
    *,
    elapsed: float,
    interrupted: str | None,
) -> dict[str, Any]:
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "versions": tool_versions(ctx),
        "config": {"runs": args.runs, "sets": args.sets, "targets": args.targets,
                   "tools": args.tools,
                   "dependencies": {name: list(DEPENDENCY_SETS[name]) for name in args.sets},
                   "import_runs": args.import_runs, "timeout": args.timeout,
                   "compile_bytecode": args.compile_bytecode},
        "interrupted": interrupted,
        "elapsed_s": elapsed,
        "rows": summarize(records),
        "imports": imports,
        "runs": [asdict(r) for r in records],
    }  # fmt: skip


def hatch_lambda_failed(records: list[RunRecord], imports: dict[str, Any]) -> bool:
    if any(r.tool == "hatch-lambda" and not r.measurement.ok for r in records):
        return True
    built = imports.get("variants", {}).values()
    return any(v.get("status") == "failed" for v in built)


def main(argv: Sequence[str]) -> int:
    if argv[:1] == ["_measure"]:
        return measure_main(*argv[1:3])
    if argv[:1] == ["_zip"]:
        return zip_main(*argv[1:3])
    args = parse_args(argv)
    check_host()
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="hatch-lambda-bench-"))
    ctx = Context(
        workdir=workdir, uv=find_uv(), zip_command=shutil.which("zip"), timeout=args.timeout,
        bytecode=args.compile_bytecode,
    )  # fmt: skip
    signal.signal(signal.SIGTERM, raise_interrupted)
    records: list[RunRecord] = []
    imports: dict[str, Any] = {}
    interrupted = None
    try:
        try:
            imports = run_benchmark(args, ctx, records)
        except (Interrupted, KeyboardInterrupt) as exc:
            interrupted = str(exc) or "SIGINT"
            print(f"interrupted by {interrupted}; reporting what was measured", file=sys.stderr)
        elapsed = time.perf_counter() - started
        report = build_report(args, ctx, records, imports, elapsed=elapsed, interrupted=interrupted)
    finally:
        if args.keep_workdir:
            print(f"work folder kept: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    markdown = render_markdown(report)
    print(markdown)
    # An interrupted run leaves the last complete one in latest.*.
    stem = "interrupted" if interrupted else "latest"
    write_results(report, markdown, args.output_dir, stem)
    print(f"written: {args.output_dir / stem}.md and .json", file=sys.stderr)
    if interrupted:
        return 128 + signal.Signals[interrupted].value
    if hatch_lambda_failed(records, imports):
        print("hatch-lambda failed; see the table above", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
