"""`hatch publish -p lambda`: the Hatch shell over :func:`hatch_lambda.publish.publish`.

Imported only by the hook that registers it, which Hatch calls; hatchling alone (a build
environment) never imports this module, and Hatch is not installed there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatch.publish.plugin.interface import PublisherInterface

from .._report import AppReporter
from .._secrets import redact
from ..errors import HatchLambdaError
from . import GLOBAL_KEY, Source, command_line, publish


class LambdaPublisher(PublisherInterface):
    """Publishes the project's Lambda zips (from the manifests of its output folder) to AWS."""

    PLUGIN_NAME = "lambda"

    def publish(self, artifacts: list[str], options: dict[str, Any]) -> None:
        # `hatch publish` names dist/ when given nothing; the Lambda zips live elsewhere, so only
        # artifacts named on the command line are taken.
        given = [Path(a) for a in artifacts]
        try:
            published = publish(
                Path(self.root), AppReporter(self.app),
                before=[Source(self.plugin_config, GLOBAL_KEY)], after=[command_line(options)],
                project_table=self.project_config, given=given,
            )  # fmt: skip
        except HatchLambdaError as exc:
            self.app.abort(redact(f"hatch-lambda: {exc}"))
            raise SystemExit(1) from None  # app.abort exits; this is for type checkers
        for line in published.lines:
            self.app.display_success(line)
        if published.record is not None:
            self.app.display_info(f"Deployment record: {published.record}")
