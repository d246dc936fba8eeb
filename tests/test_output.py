"""What the build says: counts, warnings against whose limit, the output of command hooks,
timings at -v and the final summary."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from hatch_lambda._report import counted
from hatch_lambda._subprocess import run
from hatch_lambda.audit._size import check_size
from hatch_lambda.commands import run_commands
from hatch_lambda.errors import ToolError
from hatch_lambda.pipeline import zipped_size_warning
from support.project import Project
from support.report import Recorder

BASE = {"runtime": "python3.12", "architecture": "x86_64", "handler": "fx_app.handler.handler"}

LAMBDA_ZIPPED = 52_428_800
LAMBDA_UNZIPPED = 262_144_000


@pytest.mark.parametrize(
    ("count", "noun", "plural", "expected"),
    [
        (0, "wheel", None, "0 wheels"),
        (1, "wheel", None, "1 wheel"),
        (2, "wheel", None, "2 wheels"),
        (1, "dependency", "dependencies", "1 dependency"),
        (1234, "dependency", "dependencies", "1,234 dependencies"),
    ],
)
def test_counted(count: int, noun: str, plural: str | None, expected: str) -> None:
    assert counted(count, noun, plural) == expected


def test_zipped_size_warning_says_lambdas_figure_only_for_lambdas_threshold() -> None:
    assert zipped_size_warning("a.zip", LAMBDA_ZIPPED, LAMBDA_ZIPPED) is None
    assert zipped_size_warning("a.zip", LAMBDA_ZIPPED + 1, LAMBDA_ZIPPED) == (
        "a.zip is 52,428,801 bytes zipped: Lambda refuses a direct upload over 52,428,800 bytes; "
        "deploy it through S3"
    )
    assert zipped_size_warning("a.zip", 2_000, 1_000) == (
        "a.zip is 2,000 bytes zipped, over your warn-zipped-size of 1,000"
    )
    # A threshold above Lambda's: over both, both are said; between them, nothing.
    assert zipped_size_warning("a.zip", 70_000_000, 60_000_000) == (
        "a.zip is 70,000,000 bytes zipped, over your warn-zipped-size of 60,000,000; Lambda "
        "refuses a direct upload over 52,428,800 bytes; deploy it through S3"
    )
    assert zipped_size_warning("a.zip", 55_000_000, 60_000_000) is None


def _size_message(total: int, limit: int) -> str:
    findings = check_size("a.zip", {"function": {"fx-big 1.0": total}}, limit=limit)
    assert len(findings) == 1
    return findings[0].message


def test_unzipped_size_finding_names_whose_limit() -> None:
    assert check_size("a.zip", {"function": {"x 1": 10}}, limit=10) == []
    lambdas = _size_message(LAMBDA_UNZIPPED + 1, LAMBDA_UNZIPPED)
    assert "over Lambda's limit of 262,144,000 for a function and all its layers." in lambdas
    assert "max-unzipped-size" not in lambdas  # raising it would not make Lambda take the zip
    mine = _size_message(6_000, 5_000)
    assert "over your max-unzipped-size of 5,000. Largest" in mine
    assert "Lambda" not in mine and "or raise max-unzipped-size" in mine
    both = _size_message(400_000_000, 300_000_000)
    assert "over your max-unzipped-size of 300,000,000, and over Lambda's limit" in both
    assert "raise" not in both


def test_a_failed_command_shows_its_last_20_lines_in_the_order_printed(tmp_path: Path) -> None:
    reporter = Recorder()
    script = "for i in $(seq 1 30); do echo out $i; echo err $i >&2; done; exit 4"
    with pytest.raises(ToolError) as caught:
        run_commands([script], stage="after-bundling", cwd=tmp_path, env={}, reporter=reporter)
    message = caught.value.message
    assert "the after-bundling command" in message and "(exit status 4)" in message
    shown = [line.strip() for line in message.splitlines() if line.startswith("    ")]
    assert shown == [f"{s} {i}" for i in range(21, 31) for s in ("out", "err")]
    assert message.endswith("Fix the command in after-bundling.")
    # At -v every line was shown as it came, indented under the command's own line.
    assert reporter.of("waiting") == [f"after-bundling: {script}"]
    assert reporter.of("debug1")[:2] == ["    out 1", "    err 1"]


def test_a_failed_command_that_printed_nothing_says_so(tmp_path: Path) -> None:
    with pytest.raises(ToolError) as caught:
        run_commands(["exit 1"], stage="before-bundling", cwd=tmp_path, env={}, reporter=Recorder())
    assert "\n  it printed nothing\n" in caught.value.message


def test_a_tool_keeps_its_output_apart_and_shows_it_only_where_asked(tmp_path: Path) -> None:
    reporter = Recorder()
    argv = [sys.executable, "-c", "import sys; print('data'); print('note', file=sys.stderr)"]
    done = run(argv, what="a tool", reporter=reporter)
    assert (done.stdout, done.stderr) == ("data\n", "note\n")
    assert reporter.of("debug3") == ["note"] and reporter.of("debug1") == []
    reporter = Recorder()
    run(argv, what="a tool", reporter=reporter, show_output=1)
    assert sorted(reporter.of("debug1")) == ["    data", "    note"]
    failing = [sys.executable, "-c", "print('why'); raise SystemExit(3)"]
    with pytest.raises(ToolError) as caught:
        run(failing, what="a tool", reporter=Recorder())
    assert "a tool failed (exit status 3)" in caught.value.message
    assert caught.value.message.endswith("  last lines of its output:\n    why")


def test_command_hooks_output_at_default_and_at_v(app: Project, tmp_path: Path) -> None:
    app.configure({
        **BASE, "after-bundling": ["echo compressing assets; echo 'assets: 3 files' >&2"],
    })  # fmt: skip
    quiet = app.build_wheel()
    assert "after-bundling: echo compressing assets" in quiet.stderr
    assert "compressing assets\n" not in quiet.stderr
    # From an empty cache: an unchanged artifact is reused without running its commands.
    verbose = app.build_wheel(HATCH_VERBOSE="1", HATCH_LAMBDA_CACHE_DIR=str(tmp_path / "c"))
    assert "\n    compressing assets\n    assets: 3 files\n" in verbose.stderr, verbose.stderr
    assert re.search(r"^  after-bundling: \d+\.\d\d s$", verbose.stderr, re.M)


def test_a_failing_command_hook_shows_what_it_printed(app: Project) -> None:
    app.configure({
        **BASE, "before-bundling": ["echo npm run build; echo 'error: no such script' >&2; exit 1"],
    })  # fmt: skip
    proc = app.hatchling("-t", "wheel")
    assert proc.returncode != 0
    assert (
        "failed (exit status 1) in the staged copy of the project.\n"
        "  last lines of its output:\n    npm run build\n    error: no such script\n"
        "  Fix the command in before-bundling."
    ) in proc.stderr
    assert "Traceback" not in proc.stderr


STAGE = r"^  {}: \d+\.\d\d s"


def test_v_shows_the_time_of_each_stage_and_what_was_downloaded(app: Project) -> None:
    app.configure(BASE)
    plain = app.build_wheel()
    assert not re.search(STAGE.format(r"\w+"), plain.stderr, re.M)
    handler = app.path / "src" / "fx_app" / "handler.py"
    handler.write_text(handler.read_text() + "\n# changed\n")
    # Resolved again, and every file is in hatch-lambda's cache by its digest already.
    again = app.build_wheel(HATCH_VERBOSE="1", HATCH_LAMBDA_REFRESH="1")
    for stage in ("requirements", "resolve", "plan", "audit", "archive", "total"):
        assert re.search(STAGE.format(stage) + "$", again.stderr, re.M), (stage, again.stderr)
    fetched = re.search(STAGE.format("fetch") + "; (.*)$", again.stderr, re.M)
    assert fetched, again.stderr
    assert re.fullmatch(r"6 files reused from the cache \([\d,]+ bytes\)", fetched[1]), fetched[1]


def test_v_counts_bytes_downloaded_apart_from_those_reused(app: Project, tmp_path: Path) -> None:
    app.configure(BASE)
    proc = app.build_wheel(HATCH_VERBOSE="1", HATCH_LAMBDA_CACHE_DIR=str(tmp_path / "empty"))
    fetched = re.search(STAGE.format("fetch") + "; (.*)$", proc.stderr, re.M)
    assert fetched, proc.stderr
    downloads = sorted((tmp_path / "empty").rglob("*.whl"))
    size = sum(p.stat().st_size for p in downloads)
    assert fetched[1] == f"{len(downloads)} files downloaded ({size:,} bytes)"


SUMMARY = re.compile(
    r"^Lambda function zip for python3\.12 x86_64: (.+\.zip) \(([\d,]+) bytes zipped, ([\d,]+) "
    r"unzipped in ([\d,]+) files, CodeSha256 (\S+)\)$",
    re.M,
)


def test_the_summary_gives_sizes_and_files_also_for_a_reused_zip(app: Project) -> None:
    app.configure(BASE)
    first = app.build_wheel()
    archive = app.manifest()["archive"]
    expected = (
        str(app.only_zip()), f"{archive['size']:,}", f"{archive['unzipped-size']:,}",
        f"{archive['files']:,}", archive["code-sha256"],
    )  # fmt: skip
    found = SUMMARY.search(first.stderr)
    assert found and found.groups() == expected, first.stderr
    again = app.build_wheel()
    assert "Nothing changed since" in again.stderr
    found = SUMMARY.search(again.stderr)
    assert found and found.groups() == expected, again.stderr


def test_an_audit_warning_is_said_again_when_the_zip_is_reused(app: Project) -> None:
    app.configure({**BASE, "handler": "fx_app.handler.missing", "audit-warn": ["handler"]})
    first = app.build_wheel()
    said = [line for line in first.stderr.splitlines() if line.startswith("warning: ")]
    assert len(said) == 1 and "[handler]" in said[0], first.stderr
    again = app.build_wheel()
    assert "Nothing changed since" in again.stderr
    assert [line for line in again.stderr.splitlines() if line.startswith("warning: ")] == said


def test_ignored_extras_and_groups_are_counted() -> None:
    from hatch_lambda.requirements._load import _ignored

    assert _ignored("extra", ["aws"]) == "the extra 'aws' is ignored"
    assert _ignored("group", ["a", "b"]) == "the groups 'a', 'b' are ignored"
