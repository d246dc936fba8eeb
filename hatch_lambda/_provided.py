"""What each Lambda Python runtime ships besides the standard library: the AWS SDK's
distributions and their versions, and the runtime's full Python version.

Written by .ci/runtime_provided.py, which says where each figure comes from; do not edit.

AWS updates the SDK inside a runtime whenever it chooses (and not in every Region on the same
day), so each version here is a floor: the runtime had it when the figure was recorded, and has
it or a later one since. ``python`` is None where the patch version was not recorded.
"""

from __future__ import annotations

from typing import NamedTuple


class Provided(NamedTuple):
    python: str | None
    distributions: dict[str, str]
    """Distribution name -> the version the runtime has, at least."""
    recorded: str
    """The day the figures were written down (ISO 8601)."""
    source: str


REFRESH = "python3 .ci/runtime_provided.py"
SDK_DOCS = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-python.html#python-sdk-included"

PROVIDED: dict[tuple[str, str], Provided] = {
    ("python3.9", "x86_64"): Provided(
        None,
        {"boto3": "1.34.145", "botocore": "1.34.145", "s3transfer": "0.10.0", "jmespath": "1.0.1"},
        "2026-12-01",
        "SDK versions the AWS Lambda Developer Guide listed for it; not re-read (no network)",
    ),
    ("python3.9", "arm64"): Provided(
        None,
        {"boto3": "1.34.145", "botocore": "1.34.145", "s3transfer": "0.10.0", "jmespath": "1.0.1"},
        "2026-12-01",
        "SDK versions the AWS Lambda Developer Guide listed for it; not re-read (no network)",
    ),
    ("python3.10", "x86_64"): Provided(
        None,
        {"boto3": "1.34.145", "botocore": "1.34.145", "s3transfer": "0.10.0", "jmespath": "1.0.1"},
        "2026-12-01",
        "SDK versions the AWS Lambda Developer Guide listed for it; not re-read (no network)",
    ),
    ("python3.10", "arm64"): Provided(
        None,
        {"boto3": "1.34.145", "botocore": "1.34.145", "s3transfer": "0.10.0", "jmespath": "1.0.1"},
        "2026-12-01",
        "SDK versions the AWS Lambda Developer Guide listed for it; not re-read (no network)",
    ),
    ("python3.11", "x86_64"): Provided(
        None,
        {"boto3": "1.34.145", "botocore": "1.34.145", "s3transfer": "0.10.0", "jmespath": "1.0.1"},
        "2026-12-01",
        "SDK versions the AWS Lambda Developer Guide listed for it; not re-read (no network)",
    ),
    ("python3.11", "arm64"): Provided(
        None,
        {"boto3": "1.34.145", "botocore": "1.34.145", "s3transfer": "0.10.0", "jmespath": "1.0.1"},
        "2026-12-01",
        "SDK versions the AWS Lambda Developer Guide listed for it; not re-read (no network)",
    ),
    ("python3.12", "x86_64"): Provided(
        None,
        {"boto3": "1.34.145", "botocore": "1.34.145", "s3transfer": "0.10.0", "jmespath": "1.0.1"},
        "2026-12-01",
        "SDK versions the AWS Lambda Developer Guide listed for it; not re-read (no network)",
    ),
    ("python3.12", "arm64"): Provided(
        None,
        {"boto3": "1.34.145", "botocore": "1.34.145", "s3transfer": "0.10.0", "jmespath": "1.0.1"},
        "2026-12-01",
        "SDK versions the AWS Lambda Developer Guide listed for it; not re-read (no network)",
    ),
    ("python3.13", "x86_64"): Provided(
        None,
        {"boto3": "1.34.145", "botocore": "1.34.145", "s3transfer": "0.10.0", "jmespath": "1.0.1"},
        "2026-12-01",
        "SDK versions the AWS Lambda Developer Guide listed for it; not re-read (no network)",
    ),
    ("python3.13", "arm64"): Provided(
        None,
        {"boto3": "1.34.145", "botocore": "1.34.145", "s3transfer": "0.10.0", "jmespath": "1.0.1"},
        "2026-12-01",
        "SDK versions the AWS Lambda Developer Guide listed for it; not re-read (no network)",
    ),
    ("python3.14", "x86_64"): Provided(
        None,
        {"boto3": "1.34.145", "botocore": "1.34.145", "s3transfer": "0.10.0", "jmespath": "1.0.1"},
        "2026-12-01",
        "none of its own: python3.14 is newer than the guide's figures, taken as its floor",
    ),
    ("python3.14", "arm64"): Provided(
        None,
        {"boto3": "1.34.145", "botocore": "1.34.145", "s3transfer": "0.10.0", "jmespath": "1.0.1"},
        "2026-12-01",
        "none of its own: python3.14 is newer than the guide's figures, taken as its floor",
    ),
}
