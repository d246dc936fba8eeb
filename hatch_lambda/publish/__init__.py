"""Publishing built artifacts to AWS Lambda: `hatch publish -p lambda` and `hatch-lambda publish`.

Both shells call :func:`publish`. Nothing here imports boto3 or Hatch until a publish runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .._report import Reporter
from ..errors import HatchLambdaError, os_problem
from ._options import GLOBAL_KEY, PROJECT_KEY, Source, command_line, validate_options
from ._plan import RECORD_NAME, find_project, publish_table

__all__ = ["GLOBAL_KEY", "PROJECT_KEY", "Published", "Source", "command_line", "publish"]


@dataclass(frozen=True)
class Published:
    lines: list[str]
    """One per artifact: what happened, with ARNs and versions."""
    record: Path | None
    """The deployment record; None in a dry run, which writes nothing."""


def publish(
    start: Path,
    reporter: Reporter,
    *,
    before: Sequence[Source] = (),
    after: Sequence[Source] = (),
    project_table: object = None,
    given: Sequence[Path] = (),
) -> Published:
    """Publish the artifacts of the project in *start* (or above it).

    The options: *before* (Hatch's config file), the project's ``[tool.hatch.publish.lambda]``
    (*project_table* when the caller has read it), then *after* (``-o``), each winning over the
    one before. *given*: an output folder, or zips and manifests, instead of the project's."""

    try:
        return _publish(
            start, reporter, before=before, after=after, project_table=project_table, given=given
        )
    except OSError as exc:  # a zip or the output folder: unreadable, vanished
        raise HatchLambdaError(os_problem(exc, "read or write the artifacts")) from exc


def _publish(
    start: Path,
    reporter: Reporter,
    *,
    before: Sequence[Source],
    after: Sequence[Source],
    project_table: object,
    given: Sequence[Path],
) -> Published:
    from ._aws import Aws
    from ._deploy import deploy
    from ._plan import make_plan
    from ._record import lines, write_record

    project = find_project(start)
    table = project_table if isinstance(project_table, dict) else publish_table(project)
    options = validate_options([*before, Source(table, PROJECT_KEY), *after])
    plan = make_plan(project, options, given)
    for note in plan.notes:
        reporter.debug(note)
    aws = Aws(options)
    if options.dry_run:
        reporter.info("Dry run: nothing is uploaded, published or changed")
    deployment = deploy(plan, options, aws, reporter)
    record = None
    if not options.dry_run:
        record = plan.folder / RECORD_NAME
        write_record(record, deployment)
    return Published(lines(deployment), record)
