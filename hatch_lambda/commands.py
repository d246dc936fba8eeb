"""Command hooks (`before-bundling`, `after-bundling`): the user's commands, chained like `&&`."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from ._report import Reporter, timed
from ._subprocess import output_tail, stream
from .config import ArtifactConfig
from .errors import ToolError, redact

_TAIL_LINES = 20  # of a failed command's output, in its error

# Left out of the staged copy of the project: build output and tool caches.
STAGE_IGNORE = (
    "dist",
    "dist-lambda",
    "build",
    ".git",
    ".venv",
    "__pycache__",
    ".tox",
    ".hatch-lambda",
)


def stage_project(project_root: Path, destination: Path) -> Path:
    """A copy of the project for the hooks to work in: they never touch the source tree."""
    shutil.copytree(project_root, destination, ignore=shutil.ignore_patterns(*STAGE_IGNORE))
    return destination


def run_commands(
    commands: Sequence[str], *, stage: str, cwd: Path, env: Mapping[str, str], reporter: Reporter
) -> None:
    """Run *commands* in order in the host's shell; the first that fails stops the build. What
    they print is shown as it comes at ``-v``, and its last lines when one fails."""
    for command in commands:
        reporter.waiting(f"{stage}: {command}")
        with timed(reporter, stage):
            done = stream(
                command, shell=True, cwd=cwd, env={**os.environ, **env}, reporter=reporter,
                stdout_level=1, merge=True, tail_lines=_TAIL_LINES, prefix="    ",
            )  # fmt: skip
            if done.returncode != 0:
                raise ToolError(
                    f"the {stage} command {redact(command)!r} failed (exit status "
                    f"{done.returncode}) in the staged copy of the project.\n"
                    f"{output_tail(done.tail)}\n  Fix the command in {stage}."
                )


def shell_chain(commands: Sequence[str]) -> str:
    """The commands as one POSIX shell line, chained with `&&` (for the container)."""
    return " && ".join(f"( {c} )" for c in commands)


class Stages:
    """Local mode with command hooks: the staged copy of the project each artifact's commands run
    in, made and its before-bundling commands run once per artifact. Lockfiles are read from it."""

    def __init__(self, project_root: Path, work: Path, reporter: Reporter) -> None:
        self.project_root = project_root
        self.work = work
        self.reporter = reporter

    def stage(self, artifact: ArtifactConfig) -> Path | None:
        if artifact.container or not (artifact.before_bundling or artifact.after_bundling):
            return None
        stage = self.work / f"stage-{artifact.name or 'default'}"
        if not stage.exists():
            stage_project(self.project_root, stage)
            run_commands(artifact.before_bundling, stage="before-bundling", cwd=stage,
                         env={"HATCH_LAMBDA_STAGE": str(stage)}, reporter=self.reporter)  # fmt: skip
        return stage

    def after_bundling(self, artifact: ArtifactConfig, bundle_root: Path) -> None:
        stage = self.stage(artifact)
        if stage is None or not artifact.after_bundling:
            return
        env = {"HATCH_LAMBDA_STAGE": str(stage), "HATCH_LAMBDA_BUNDLE": str(bundle_root)}
        run_commands(
            artifact.after_bundling, stage="after-bundling", cwd=stage, env=env,
            reporter=self.reporter,
        )  # fmt: skip
