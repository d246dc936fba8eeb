"""Benchmark: hatch-lambda's container mode next to its local mode, on the same dependencies.

Builds one small function for python3.11 x86_64 with ``python -m hatchling build -t wheel``,
cold (empty caches), warm (nothing changed) and after a code-only change, in local mode and in
container mode, and prints one table of median wall-clock seconds. It needs network access to
PyPI, hatch-lambda and hatchling in the Python running it, and a running container engine with
an image of Python 3.11 for x86_64 (by default the AWS SAM build image):

    python benchmarks/container.py                                  # Docker, the SAM image
    python benchmarks/container.py --engine podman --runs 5
    python benchmarks/container.py --image local/py311 --network host \\
        --volume /etc/hosts:/etc/hosts:ro \\
        --volume /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro

``--network`` and ``--volume`` go to hatch-lambda's ``network`` and ``volumes`` options, for
engines whose containers reach the index only through the host's network. The table is written to
``benchmarks/results/container.md`` as well.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from _projects import TARGETS, write_project

# Wheels for manylinux2014 on cp311, so any image with Python 3.11 picks what Lambda loads.
DEPENDENCIES = ("requests", "pydantic", "orjson", "pyyaml")
TARGET = TARGETS["python3.11-x86_64"]
RESULTS = Path(__file__).resolve().parent / "results"


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "HATCH_"))}
    env["PIP_CONFIG_FILE"] = os.devnull
    env.update(extra)
    return env


def configure(project: Path, args: argparse.Namespace, container: bool) -> None:
    lines = []
    if container:
        lines.append(f'container = "{args.engine}"')
        if args.image:
            lines.append(f"image = {json.dumps(args.image)}")
        if args.network:
            lines.append(f"network = {json.dumps(args.network)}")
        if args.volume:
            lines.append(f"volumes = {json.dumps(args.volume)}")
    with (project / "pyproject.toml").open("a", encoding="utf-8") as f:
        f.write("".join(f"{line}\n" for line in lines))


def build(project: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel"],
        cwd=project, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-15:])
        raise SystemExit(f"the build in {project} failed:\n{tail}")
    return seconds


def one_run(work: Path, args: argparse.Namespace, container: bool) -> dict[str, float]:
    """Cold, warm and code-change seconds of one mode, from empty caches."""
    project = write_project(work / "project", TARGET, DEPENDENCIES)
    configure(project, args, container)
    env = clean_env(HATCH_LAMBDA_CACHE_DIR=str(work / "cache"), UV_CACHE_DIR=str(work / "uv"),
                    PIP_CACHE_DIR=str(work / "pip"))  # fmt: skip
    times = {"cold": build(project, env), "warm": build(project, env)}
    app = project / "src" / "bench_app" / "app.py"
    app.write_text(app.read_text() + "\nCHANGED = 1\n", encoding="utf-8")
    times["code change"] = build(project, env)
    times["zip bytes"] = float(next((project / "dist-lambda").glob("*.zip")).stat().st_size)
    shutil.rmtree(work)
    return times


def table(results: dict[str, list[dict[str, float]]], args: argparse.Namespace) -> str:
    columns = ("cold", "warm", "code change")
    med = {
        mode: {c: statistics.median(r[c] for r in runs) for c in (*columns, "zip bytes")}
        for mode, runs in results.items()
    }
    lines = [
        f"python3.11 x86_64, dependencies {', '.join(DEPENDENCIES)}; median of {args.runs} runs, "
        f"wall-clock seconds of `python -m hatchling build -t wheel`",
        "",
        "| mode | cold s | warm s | code change s | zip bytes |",
        "|---|---|---|---|---|",
    ]
    for mode, m in med.items():
        lines.append(f"| {mode} | {m['cold']:.2f} | {m['warm']:.2f} | {m['code change']:.2f} | "
                     f"{int(m['zip bytes']):,} |")  # fmt: skip
    local, inside = med["local"], med["container"]
    ratios = ", ".join(f"{c} {inside[c] / local[c]:.2f}x" for c in columns)
    lines += ["", f"container / local: {ratios}"]
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", default="docker", choices=("docker", "podman", "finch"))
    parser.add_argument("--image", help="default: the SAM build image for python3.11 x86_64")
    parser.add_argument("--network", help="the container's network, such as host")
    parser.add_argument("--volume", action="append", default=[], help="HOST:CONTAINER[:ro]")
    parser.add_argument("--runs", type=int, default=3)
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    results: dict[str, list[dict[str, float]]] = {"local": [], "container": []}
    for run in range(args.runs):
        for mode, runs in results.items():  # alternated: network drift hits both alike
            with tempfile.TemporaryDirectory(prefix="hatch-lambda-bench-") as tmp:
                runs.append(one_run(Path(tmp) / "w", args, mode == "container"))
            print(f"run {run + 1}/{args.runs} {mode}: {runs[-1]}", file=sys.stderr)
    text = table(results, args)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "container.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
