"""The `hatch-lambda` command line: a thin shell over the pipeline's stages."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import __version__
from ._report import counted
from ._suggest import closest
from .audit import RULES
from .check import Checked, Options, artifact_paths, check_one, check_paths
from .errors import HatchLambdaError
from .inspect import inspect_artifact
from .target import (
    ARCHITECTURES,
    DEFAULT_ARCHITECTURE,
    DEFAULT_RUNTIME,
    RUNTIMES,
    architecture_meant,
    resolve_target,
    runtime_meant,
)


def _choice(allowed: Sequence[str], meant: Callable[[object], str | None]) -> Callable[[str], str]:
    """An argparse type that refuses what *allowed* lacks as argparse does, with a did-you-mean."""

    def parse(value: str) -> str:
        if value in allowed:
            return value
        guess = closest(value, allowed, meant)
        hint = f"; did you mean {guess!r}?" if guess else ""
        raise argparse.ArgumentTypeError(
            f"invalid choice: {value!r} (choose from {', '.join(allowed)}){hint}"
        )

    return parse


_RUNTIME = _choice(tuple(RUNTIMES), runtime_meant)
_ARCHITECTURE = _choice(tuple(ARCHITECTURES), architecture_meant)


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


def _artifact_path(args: argparse.Namespace) -> Path:
    path = Path(args.artifact)
    if not path.exists():
        raise HatchLambdaError(f"{path} does not exist")
    if not (path.is_file() or path.is_dir()):  # a FIFO or a device would block or never end
        raise HatchLambdaError(f"{path} is neither a file nor a folder; give a zip or a folder")
    return path


def _checked_json(checked: Checked) -> dict[str, object]:
    return {
        "artifact": str(checked.artifact), "kind": checked.kind,
        "runtime": checked.runtimes[0], "runtimes": list(checked.runtimes),
        "architecture": checked.architecture, "passed": checked.passed,
        "findings": [
            {"severity": severity, "rule": f.rule, "path": f.path,
             "distribution": f.distribution, "message": f.message}
            for severity, group in (("error", checked.errors), ("warning", checked.warnings))
            for f in group
        ],
    }  # fmt: skip


def _print_checked(checked: Checked) -> None:
    name = checked.artifact.name
    print(f"{name}: {checked.kind}, {checked.label}")
    for severity, group in (("error", checked.errors), ("warning", checked.warnings)):
        for f in group:
            dist = f"  [{f.distribution}]" if f.distribution else ""
            print(f"  {severity:7}  {f.rule:15}  {f.path}{dist}")
            for line in f.message.splitlines():
                print(f"           {line}")
    verdict = "passes" if checked.passed else f"fails ({counted(len(checked.errors), 'error')})"
    warned = f", {counted(len(checked.warnings), 'warning')}" if checked.warnings else ""
    print(f"{name} {verdict}{warned}")


def _check_command(args: argparse.Namespace) -> int:
    bad = sorted(set(args.warn) - set(RULES))
    if bad:
        raise HatchLambdaError(f"--warn {bad!r}: unknown rules; the rules are {', '.join(RULES)}")
    options = Options(args.runtime, args.architecture, args.handler, tuple(args.warn),
                      tuple(Path(p) for p in args.layer))  # fmt: skip
    paths = artifact_paths(args.artifact)
    results = (
        list(check_paths(paths, options)) if len(paths) > 1 else [check_one(paths[0], options)]
    )
    for result in results:
        for note in result.notes if isinstance(result, Checked) else [f"{result}"]:
            print(f"{'warning: ' if isinstance(result, Checked) else 'hatch-lambda: '}{note}",
                  file=sys.stderr)  # fmt: skip
    passed = all(isinstance(r, Checked) and r.passed for r in results)
    if args.json:
        shown = [
            _checked_json(r) if isinstance(r, Checked)
            else {"artifact": str(p), "passed": False, "error": str(r)}
            for p, r in zip(paths, results)
        ]  # fmt: skip
        print(json.dumps(shown[0] if len(shown) == 1 else {"passed": passed, "artifacts": shown},
                         indent=2))  # fmt: skip
        return 0 if passed else 1
    for result in results:
        if isinstance(result, Checked):
            _print_checked(result)
    if len(results) > 1:
        failed = sum(not (isinstance(r, Checked) and r.passed) for r in results)
        print(f"{len(results)} artifacts: {len(results) - failed} pass, {failed} fail")
    return 0 if passed else 1


def _inspect_command(args: argparse.Namespace) -> int:
    path = _artifact_path(args)
    found = inspect_artifact(path)
    for warning in found.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps({
            "artifact": found.artifact, "kind": found.kind, "runtime": found.runtime,
            "architecture": found.architecture, "code-sha256": found.code_sha256,
            "unzipped": found.unzipped, "zipped": found.zipped,
            "distributions": [
                {"distribution": r.distribution, "unzipped": r.unzipped, "zipped": r.zipped,
                 "files": r.files}
                for r in found.rows
            ],
            "warnings": found.warnings,
        }, indent=2))  # fmt: skip
        return 0
    print(f"{path.name}: {found.kind} for {found.runtime or '(runtime unknown)'} "
          f"{found.architecture or '(architecture unknown)'}")  # fmt: skip
    if found.code_sha256:
        print(f"CodeSha256: {found.code_sha256}")
    print(f"{'unzipped':>12}  {'zipped':>12}  {'files':>6}  distribution")
    for r in found.rows:
        zipped = f"{r.zipped:,}" if r.zipped is not None else "-"
        print(f"{r.unzipped:>12,}  {zipped:>12}  {r.files:>6}  {r.distribution}")
    total_zipped = f"{found.zipped:,}" if found.zipped is not None else "-"
    print(
        f"{found.unzipped:>12,}  {total_zipped:>12}  {sum(r.files for r in found.rows):>6}  total"
    )
    return 0


def _add_invoke(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`hatch-lambda invoke`: the handler of a function zip called once, as Lambda would."""
    from . import invoke

    def environment(value: str) -> tuple[str, str]:
        key, equals, val = value.partition("=")
        if not (equals and key):
            raise argparse.ArgumentTypeError(f"{value!r} is not KEY=VALUE")
        return key, val

    def run(args: argparse.Namespace) -> int:
        request = invoke.Request(
            Path(args.artifact), invoke.read_event(args.event, sys.stdin.buffer),
            tuple(Path(p) for p in args.layer), args.handler, args.runtime, args.architecture,
            args.timeout, args.memory, args.function_name, args.region, dict(args.env),
        )  # fmt: skip
        outcome = invoke.invoke(request)
        print(f"REPORT RequestId: {outcome.request_id}\tDuration: {outcome.duration_ms:.2f} ms"
              f"\tMemory Size: {args.memory} MB\tInit Duration: {outcome.init_ms:.2f} ms"
              f"\t({outcome.interpreter})", file=sys.stderr)  # fmt: skip
        print(outcome.response)
        return 1 if outcome.failed else 0

    parser = commands.add_parser(
        "invoke", help="call a function zip's handler on this machine as Lambda would, without "
        "Docker: a CPython of the runtime's version, Lambda's paths, environment and context",
    )  # fmt: skip
    parser.add_argument("artifact", help="a function zip (its manifest beside it, if hatch-lambda "
                        "built it, gives the runtime, architecture, handler and layers)")  # fmt: skip
    parser.add_argument("--event", metavar="FILE", help="the event: a JSON file, or - for "
                        "standard input (default: {})")  # fmt: skip
    parser.add_argument(
        "--layer", action="append", default=[], metavar="ZIP",
        help="a layer to deploy with it (repeatable; layers its manifest names are found beside it)",
    )  # fmt: skip
    parser.add_argument("--handler", help="module.function to call (default: the manifest's)")
    parser.add_argument("--runtime", type=_RUNTIME, choices=list(RUNTIMES))
    parser.add_argument("--architecture", type=_ARCHITECTURE, choices=list(ARCHITECTURES))
    parser.add_argument("--timeout", type=int, default=invoke.DEFAULT_TIMEOUT, metavar="SECONDS",
                        help=f"as Lambda's (default: {invoke.DEFAULT_TIMEOUT})")  # fmt: skip
    parser.add_argument("--memory", type=int, default=invoke.DEFAULT_MEMORY, metavar="MB",
                        help=f"the memory size the function is told (default: "
                        f"{invoke.DEFAULT_MEMORY}; not enforced)")  # fmt: skip
    parser.add_argument("--function-name", help="(default: the artifact's name)")
    parser.add_argument("--region", help="AWS_REGION (default: yours, else us-east-1)")
    parser.add_argument("--env", type=environment, action="append", default=[],
                        metavar="KEY=VALUE", help="a variable of the function's (repeatable)")  # fmt: skip
    parser.set_defaults(func=run)


def _add_publish(commands: Any) -> None:
    """`hatch-lambda publish`: what `hatch publish -p lambda` does, for projects built otherwise."""

    def run(args: argparse.Namespace) -> int:
        from ._report import StreamReporter
        from .publish import command_line, publish

        options = [*args.option, *(["dry-run=true"] if args.dry_run else [])]
        published = publish(
            Path(args.project), StreamReporter(args.verbose - args.quiet),
            after=[command_line(options)], given=[Path(a) for a in args.artifact],
        )  # fmt: skip
        for line in published.lines:
            print(line)
        if published.record is not None:
            print(f"deployment record: {published.record}", file=sys.stderr)
        return 0

    publish = commands.add_parser(
        "publish",
        help="publish the project's Lambda zips (layers, then functions) to AWS Lambda",
        description="Publish the artifacts of the project's current version that the manifests "
        "in its output folder describe: layers first, then each function's code and "
        "configuration. Options come from [tool.hatch.publish.lambda] and -o KEY=VALUE.",
    )
    publish.add_argument(
        "artifact", nargs="*",
        help="the output folder, or zips and manifests (default: the project's output folder)",
    )  # fmt: skip
    publish.add_argument("--project", default=".", help="the project's folder (default: here)")
    publish.add_argument(
        "-o", "--option", action="append", default=[], metavar="KEY=VALUE",
        help="a publish option, over [tool.hatch.publish.lambda] (repeatable; "
        "functions.ARTIFACT=NAME sets one function)",
    )  # fmt: skip
    publish.add_argument("--dry-run", action="store_true", help="say what would happen only")
    publish.add_argument("-v", "--verbose", action="count", default=0)
    publish.add_argument("-q", "--quiet", action="count", default=0)
    publish.set_defaults(func=run)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hatch-lambda", description="Build and check AWS Lambda artifacts for Python."
    )
    parser.add_argument("--version", action="version", version=f"hatch-lambda {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    target = commands.add_parser(
        "target", help="show the wheel tags and marker environment of a runtime and architecture"
    )
    target.add_argument("--runtime", type=_RUNTIME, choices=list(RUNTIMES), default=DEFAULT_RUNTIME)
    target.add_argument(
        "--architecture", type=_ARCHITECTURE, choices=list(ARCHITECTURES),
        default=DEFAULT_ARCHITECTURE,
    )  # fmt: skip
    target.add_argument(
        "--platform-tag", action="append", help="override the platform list (repeat, best first)"
    )
    target.add_argument("--json", action="store_true", help="print JSON")
    target.set_defaults(func=_target_command)

    check = commands.add_parser(
        "check",
        help="audit Lambda zips or folders (made by any tool) for a runtime and architecture",
    )
    check.add_argument(
        "artifact", nargs="+",
        help="function zips, layer zips, wheelhouse folders or folders (each with the manifest "
        "beside it, if hatch-lambda built it)",
    )  # fmt: skip
    check.add_argument("--runtime", type=_RUNTIME, choices=list(RUNTIMES))
    check.add_argument("--architecture", type=_ARCHITECTURE, choices=list(ARCHITECTURES))
    check.add_argument("--handler", help="module.function Lambda will call")
    check.add_argument(
        "--layer", action="append", default=[], metavar="ZIP",
        help="a layer the function is deployed with (repeatable); layers its manifest names are "
        "found beside it",
    )  # fmt: skip
    check.add_argument(
        "--warn", action="append", default=[], metavar="RULE",
        help=f"report RULE as a warning, not a failure (repeatable; rules: {', '.join(RULES)})",
    )  # fmt: skip
    check.add_argument("--json", action="store_true", help="print JSON")
    check.set_defaults(func=_check_command)

    inspect = commands.add_parser(
        "inspect", help="size by distribution, unzipped and zipped, largest first"
    )
    inspect.add_argument("artifact", help="a function zip, a layer zip, or a folder")
    inspect.add_argument("--json", action="store_true", help="print JSON")
    inspect.set_defaults(func=_inspect_command)
    _add_invoke(commands)
    _add_publish(commands)
    return parser


# What a shell reports for a command a closed pipe stopped (128 + SIGPIPE), so that
# `set -o pipefail` scripts see `hatch-lambda ... | head -1` like `yes | head -1`.
BROKEN_PIPE = 141


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
        sys.stdout.flush()  # a reader that went away shows here, not at interpreter exit
    except BrokenPipeError:
        # Python flushes stdout again on exit: point it at devnull so that flush cannot fail.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return BROKEN_PIPE
    except HatchLambdaError as exc:
        print(f"hatch-lambda: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # the artifact or a file in it: unreadable, vanished, not a file
        where = exc.filename or getattr(args, "artifact", None)
        print(f"hatch-lambda: cannot read {where}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return code
