"""Writes hatch_lambda/_provided.py: the AWS SDK each Lambda Python runtime ships (boto3, botocore,
s3transfer, jmespath) and the runtime's full Python version, which `exclude-runtime-provided`
compares with what the project needs.

    python3 .ci/runtime_provided.py --images            # every runtime, both architectures
    python3 .ci/runtime_provided.py --images python3.13 # some runtimes
    python3 .ci/runtime_provided.py --set python3.12 x86_64 3.12.11 boto3=1.40.4 \\
        botocore=1.40.4 s3transfer=0.13.1 jmespath=1.0.1 --source "a python3.12 function, eu-west-1"

AWS's developer guide no longer lists the SDK version of each runtime: it says the version
depends on the runtime and the Region, and to print ``boto3.__version__`` from a function. So:

- ``--images`` runs the runtime's public base image (``public.ecr.aws/lambda/python:3.X-ARCH``,
  the same files as the managed runtime) with docker or podman and reads the versions there with
  ``importlib.metadata``; the image's digest becomes the source.
- ``--set`` records figures read elsewhere (a function that prints them, a release note), with
  the source given.

Runtimes not named keep their figures and dates. Every version is a floor: AWS updates the SDK
in place, never backwards.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import json
import shutil
import subprocess
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "hatch_lambda" / "_provided.py"
SDK = ("boto3", "botocore", "s3transfer", "jmespath")
ARCHITECTURES = {"x86_64": "linux/amd64", "arm64": "linux/arm64"}
PROBE = (
    "import json, platform; from importlib import metadata as m; "
    f"print(json.dumps([platform.python_version(), {{n: m.version(n) for n in {SDK!r}}}]))"
)
# The module's own text up to its table is kept as it is: its docstring and types live there only.
TABLE_START = "PROVIDED: dict[tuple[str, str], Provided] = {\n"

Entry = tuple[object, dict[str, str], str, str]


def current() -> dict[tuple[str, str], Entry]:
    """The figures the module holds now, read without importing it."""
    tree = ast.parse(OUT.read_text())
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "PROVIDED":
            assert isinstance(node.value, ast.Dict)
            table = {}
            for key, value in zip(node.value.keys, node.value.values):
                assert key is not None and isinstance(value, ast.Call)
                runtime, arch = ast.literal_eval(key)
                python, dists, day, source = (ast.literal_eval(a) for a in value.args)
                table[(runtime, arch)] = (python, dists, day, source)
            return table
    sys.exit(f"no PROVIDED table in {OUT}")


def engine() -> str:
    for name in ("docker", "podman"):
        found = shutil.which(name)
        if (
            found
            and subprocess.run([found, "info"], capture_output=True, check=False).returncode == 0
        ):
            return found
    sys.exit("--images needs docker or podman, running")


def from_image(tool: str, runtime: str, arch: str) -> Entry:
    image = f"public.ecr.aws/lambda/python:{runtime.removeprefix('python')}-{arch}"
    subprocess.run([tool, "pull", "--platform", ARCHITECTURES[arch], image], check=True)
    out = subprocess.run(
        [tool, "run", "--rm", "--platform", ARCHITECTURES[arch], "--entrypoint", "python3",
         image, "-c", PROBE],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    python, dists = json.loads(out.strip().splitlines()[-1])
    digest = subprocess.run(
        [tool, "image", "inspect", "--format", "{{index .RepoDigests 0}}", image],
        capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    return python, dists, str(datetime.date.today()), f"{digest or image} (its files, read)"


def write(table: dict[tuple[str, str], Entry]) -> None:
    order = sorted(table, key=lambda k: (int(k[0].split(".")[1]), k[1] != "x86_64"))
    text = OUT.read_text()
    lines = [text[: text.index(TABLE_START) + len(TABLE_START)].rstrip("\n")]
    for runtime, arch in order:
        python, dists, day, source = table[(runtime, arch)]
        lines += [
            f"    ({json.dumps(runtime)}, {json.dumps(arch)}): Provided(",
            f"        {json.dumps(python) if python else None},",
            f"        {json.dumps(dists)},",
            f"        {json.dumps(day)},",
            f"        {json.dumps(source)},",
            "    ),",
        ]
    lines.append("}")
    OUT.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", nargs="*", metavar="RUNTIME")
    parser.add_argument("--set", nargs="+", metavar="VALUE",
                        help="RUNTIME ARCH PYTHON (- if unknown) NAME=VERSION...")  # fmt: skip
    parser.add_argument("--source", default="")
    args = parser.parse_args()
    table = current()
    if args.images is not None:
        tool = engine()
        runtimes = args.images or sorted({r for r, _ in table})
        for runtime in runtimes:
            for arch in ARCHITECTURES:
                table[(runtime, arch)] = from_image(tool, runtime, arch)
    if args.set:
        if not args.source:
            sys.exit("--set needs --source: where the figures were read")
        runtime, arch, python, *pairs = args.set
        dists = dict(p.split("=", 1) for p in pairs)
        if set(dists) != set(SDK):
            sys.exit(f"--set needs a version for each of {', '.join(SDK)}")
        known = None if python == "-" else python
        table[(runtime, arch)] = (known, dists, str(datetime.date.today()), args.source)
    write(table)


if __name__ == "__main__":
    main()
