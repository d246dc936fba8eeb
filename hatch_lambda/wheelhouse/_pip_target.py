"""Runs pip as if it were on the Lambda target (a script, started as its own process).

pip's ``--python-version`` and ``--platform`` change which files it accepts but not how it
evaluates environment markers (pip issue #11664), so a dependency marked
``python_version < "3.11"`` would be judged by the host. This script replaces the marker
environment of pip's vendored ``packaging`` with the target's before pip starts. With
``allow_sdists`` it also lifts pip's rule that platform options need ``--only-binary=:all:``:
a dry run only reads sdist metadata, and the sdist stage checks what they build.
"""

import json
import os
import runpy
import sys


def main() -> None:
    spec = json.loads(os.environ.pop("HATCH_LAMBDA_PIP_TARGET"))
    environment = dict(spec["environment"])

    from pip._vendor.packaging import markers

    markers.default_environment = lambda: dict(environment)  # type: ignore[assignment,return-value]

    if spec.get("allow_sdists"):
        from pip._internal.cli import cmdoptions

        cmdoptions.check_dist_restriction = lambda options, check_target=False: None

    sys.argv = ["pip", *sys.argv[1:]]
    runpy.run_module("pip", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
