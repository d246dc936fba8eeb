"""The `hatch-lambda` command line: a thin shell over the pipeline's stages."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from . import __version__
from .errors import HatchLambdaError
from .target import ARCHITECTURES, DEFAULT_ARCHITECTURE, DEFAULT_RUNTIME, RUNTIMES, resolve_target


def _target_command(args: argparse.Namespace) -> int:
    target, warnings = resolve_target(args.runtime, args.architecture, args.platform_tag or None)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.json:
        data = {
            "runtime": target.runtime.name,
            "architecture": target.architecture,
            "glibc": ".".join(map(str, target.runtime.glibc)),
            "platforms": list(target.platforms),
            "tags": [str(t) for t in target.tags],
            "markers": target.marker_environment(),
        }
        print(json.dumps(data, indent=2))
        return 0
    rt = target.runtime
    print(f"{target.label}: CPython {rt.version} on {rt.os}, glibc {'.'.join(map(str, rt.glibc))}")
    print("marker environment:")
    for key, value in sorted(target.marker_environment().items()):
        print(f"  {key} = {value!r}")
    print(f"wheel tags, best first ({len(target.tags)}):")
    for tag in target.tags:
        print(f"  {tag}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hatch-lambda", description="Build and check AWS Lambda artifacts for Python."
    )
    parser.add_argument("--version", action="version", version=f"hatch-lambda {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    target = commands.add_parser(
        "target", help="show the wheel tags and marker environment of a runtime and architecture"
    )
    target.add_argument("--runtime", choices=list(RUNTIMES), default=DEFAULT_RUNTIME)
    target.add_argument("--architecture", choices=list(ARCHITECTURES), default=DEFAULT_ARCHITECTURE)
    target.add_argument(
        "--platform-tag", action="append", help="override the platform list (repeat, best first)"
    )
    target.add_argument("--json", action="store_true", help="print JSON")
    target.set_defaults(func=_target_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except HatchLambdaError as exc:
        print(f"hatch-lambda: {exc}", file=sys.stderr)
        return 1
    return code
