"""The AWS calls, through boto3, and what their failures mean: each error names the function or
layer, the action, and what to do. boto3 has no type information: ``Any`` at this boundary."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .._secrets import redact
from ..errors import HatchLambdaError
from ._options import PublishOptions

INSTALL = "pip install 'hatch-lambda[publish]'"
MAX_ATTEMPTS = 8
"""Per call, with botocore's standard retry mode: exponential backoff with jitter."""
UPDATE_TIMEOUT = 600.0
"""Seconds to wait for an update of a function to finish."""

_DENIED = frozenset({
    "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnrecognizedClientException",
    "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException", "InvalidSignatureException",
    "SignatureDoesNotMatch",
})  # fmt: skip
_S3_OPERATIONS = frozenset({"PutObject", "HeadObject", "CreateMultipartUpload", "UploadPart",
                            "CompleteMultipartUpload"})  # fmt: skip
_THROTTLED = frozenset({"ThrottlingException", "TooManyRequestsException", "Throttling",
                        "RequestLimitExceeded", "SlowDown"})  # fmt: skip
# What IAM calls an operation, where it differs from its API name.
_PERMISSION = {"HeadObject": "s3:GetObject", "CreateMultipartUpload": "s3:PutObject",
               "UploadPart": "s3:PutObject", "CompleteMultipartUpload": "s3:PutObject"}  # fmt: skip


class PublishError(HatchLambdaError):
    """Publishing stopped: what failed, on which function or layer, and what to do."""


def _boto3() -> Any:
    try:
        import boto3
    except ImportError as exc:
        raise PublishError(
            f"publishing to AWS Lambda needs boto3, which is not installed: {INSTALL}"
        ) from exc
    return boto3


def _why(exc: Exception) -> tuple[str, str, str]:
    """The error code, message and operation of a botocore ClientError (or an S3 upload's)."""
    response = getattr(exc, "response", None) or {}
    error = response.get("Error", {}) if isinstance(response, dict) else {}
    code = str(error.get("Code", "")) or type(exc).__name__
    message = str(error.get("Message", "")) or str(exc)
    operation = str(getattr(exc, "operation_name", "") or "")
    return code, message, operation


class Aws:
    """Lambda and S3 clients of one session, with errors turned into ``PublishError``."""

    def __init__(self, options: PublishOptions, *, sleep: Callable[[float], None] = time.sleep):
        boto3 = _boto3()
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound

        self._client_error = ClientError
        self._core_error = BotoCoreError
        self._sleep = sleep
        self.endpoint = options.endpoint_url
        try:
            session = boto3.Session(profile_name=options.profile, region_name=options.region)
        except ProfileNotFound as exc:
            raise PublishError(
                f"the AWS profile {options.profile!r} ({options.where('profile')}) is not in your "
                "AWS config files; name one that is (aws configure list-profiles), or leave "
                "profile out to use the standard credential chain"
            ) from exc
        self.region = session.region_name
        if not self.region:
            raise PublishError(
                "no AWS region: set region in [tool.hatch.publish.lambda] (or -o region=...), "
                "AWS_REGION, or a region in your AWS profile"
            )
        try:
            credentials = session.get_credentials()
        except BotoCoreError as exc:  # a profile that names an SSO session or a process that fails
            raise PublishError(
                f"cannot load AWS credentials: {exc}; fix the profile, or log in again "
                "(aws sso login)"
            ) from exc
        if credentials is None:
            raise PublishError(
                "no AWS credentials found in the standard chain (environment variables, "
                "profile, SSO, instance or container role): configure credentials, or set "
                "profile to a profile that has them"
            )
        config = Config(retries={"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"},
                        user_agent_extra="hatch-lambda")  # fmt: skip
        kwargs = {"endpoint_url": options.endpoint_url, "config": config}
        self.lambda_ = session.client("lambda", **kwargs)
        self.s3 = session.client("s3", **kwargs)

    @contextlib.contextmanager
    def calling(
        self, action: str, subject: str, advice: Callable[[str, str], str | None] | None = None
    ) -> Iterator[None]:
        """Failures of the calls made inside, as a ``PublishError`` that says *action* (``update
        the code of``) on *subject* (``function 'api'``) failed; *advice* may add what to do for
        an error code and message."""
        from boto3.exceptions import S3UploadFailedError

        try:
            yield
        except (self._client_error, S3UploadFailedError) as exc:
            raise PublishError(self._explain(action, subject, _why(exc), advice)) from exc
        except self._core_error as exc:
            endpoint = f" ({redact(self.endpoint)})" if self.endpoint else ""
            raise PublishError(
                f"cannot {action} {subject}: {exc}{endpoint}; check the network, the region and "
                "endpoint-url, and publish again"
            ) from exc

    def _explain(
        self, action: str, subject: str, why: tuple[str, str, str],
        advice: Callable[[str, str], str | None] | None,
    ) -> str:  # fmt: skip
        code, message, operation = why
        head = f"cannot {action} {subject}: {code}: {message}"
        said = advice(code, message) if advice else None
        if said:
            return f"{head}. {said}"
        if code in _DENIED or "AccessDenied" in message:
            service = "s3" if operation in _S3_OPERATIONS else "lambda"
            permission = _PERMISSION.get(operation, f"{service}:{operation}" if operation else "")
            needed = f"the permission {permission}" if permission else "the permission for it"
            return (f"{head}. The credentials in use lack {needed} on that resource; grant it "
                    "to the role or user that publishes (see the README's IAM permissions)")  # fmt: skip
        if code in _THROTTLED:
            return (f"{head}. AWS kept throttling the requests after {MAX_ATTEMPTS} attempts with "
                    "backoff; wait a minute and publish again (what is already published is "
                    "found unchanged and kept)")  # fmt: skip
        if code == "ResourceConflictException":
            return (f"{head}. Another update of it is under way (another pipeline or a console "
                    "change): wait for it to finish and publish again")  # fmt: skip
        return head

    # Layers

    def newest_layer_version(self, layer: str) -> dict[str, Any] | None:
        """The newest version of *layer* with its ``Content`` (its CodeSha256), or None."""
        with self.calling("list the versions of", f"layer {layer!r}"):
            listed = self.lambda_.list_layer_versions(LayerName=layer, MaxItems=50)
            versions = listed.get("LayerVersions", [])
            if not versions:
                return None
            newest = max(versions, key=lambda v: int(v["Version"]))
            found: dict[str, Any] = self.lambda_.get_layer_version(
                LayerName=layer, VersionNumber=newest["Version"]
            )
            return found

    def publish_layer(
        self, layer: str, content: dict[str, Any], runtimes: tuple[str, ...], architecture: str,
        description: str,
    ) -> dict[str, Any]:  # fmt: skip
        with self.calling("publish a version of", f"layer {layer!r}"):
            published: dict[str, Any] = self.lambda_.publish_layer_version(
                LayerName=layer, Description=description[:256], Content=content,
                CompatibleRuntimes=list(runtimes), CompatibleArchitectures=[architecture],
            )  # fmt: skip
            return published

    # Functions

    def function(self, function: str) -> dict[str, Any]:
        def missing(code: str, message: str) -> str | None:
            if code != "ResourceNotFoundException":
                return None
            return (f"Check the name and the region ({self.region}). hatch-lambda updates "
                    "functions and does not create them: create the function with the "
                    "infrastructure code (SAM, CDK, Terraform, CloudFormation) first")  # fmt: skip

        with self.calling("find", f"function {function!r}", missing):
            found: dict[str, Any] = self.lambda_.get_function_configuration(FunctionName=function)
            return found

    def update_code(
        self, function: str, content: dict[str, Any], architecture: str
    ) -> dict[str, Any]:
        def cannot_take(code: str, message: str) -> str | None:
            if code == "InvalidParameterValueException" and "rchitecture" in message:
                return (f"The function cannot take an {architecture} zip: build the artifact "
                        "for the function's architecture, or change the function's")  # fmt: skip
            return None

        with self.calling("update the code of", f"function {function!r}", cannot_take):
            updated: dict[str, Any] = self.lambda_.update_function_code(
                FunctionName=function, Architectures=[architecture], **content
            )
            return updated

    def wait_updated(self, function: str) -> dict[str, Any]:
        """The function's configuration once its last update has finished; an update that
        failed is an error."""
        deadline = time.monotonic() + UPDATE_TIMEOUT
        delay = 0.5
        while True:
            config = self.function(function)
            status = config.get("LastUpdateStatus")
            if config.get("State") != "Pending" and status != "InProgress":
                if status == "Failed":
                    reason = config.get("LastUpdateStatusReason") or "no reason given"
                    raise PublishError(
                        f"the update of function {function!r} failed in Lambda: {reason}"
                    )
                return config
            if time.monotonic() > deadline:
                raise PublishError(
                    f"function {function!r} was still updating after {UPDATE_TIMEOUT:.0f} s; "
                    "look at it in the Lambda console, and publish again when it is done"
                )
            self._sleep(delay)
            delay = min(delay * 2, 5.0)

    def update_configuration(self, function: str, changes: dict[str, Any]) -> dict[str, Any]:
        def cannot_take(code: str, message: str) -> str | None:
            if code == "InvalidParameterValueException":
                return ("Lambda refused the runtime, handler or layers the manifest asks for: "
                        "check that the layers are built for the function's architecture and "
                        "runtime, and that the function takes at most 5 layers")  # fmt: skip
            return None

        with self.calling("update the configuration of", f"function {function!r}", cannot_take):
            updated: dict[str, Any] = self.lambda_.update_function_configuration(
                FunctionName=function, **changes
            )
            return updated

    def newest_version(self, function: str) -> dict[str, Any] | None:
        with self.calling("list the versions of", f"function {function!r}"):
            paginator = self.lambda_.get_paginator("list_versions_by_function")
            numbered = [
                v
                for page in paginator.paginate(FunctionName=function)
                for v in page.get("Versions", [])
                if str(v.get("Version", "")).isdigit()
            ]
        return max(numbered, key=lambda v: int(v["Version"])) if numbered else None

    def publish_version(self, function: str, code_sha256: str, description: str) -> dict[str, Any]:
        with self.calling("publish a version of", f"function {function!r}"):
            published: dict[str, Any] = self.lambda_.publish_version(
                FunctionName=function, CodeSha256=code_sha256, Description=description[:256]
            )
            return published

    def point_alias(self, function: str, alias: str, version: str) -> tuple[dict[str, Any], str]:
        """The alias *alias* of *function* pointing at *version*: created, updated or unchanged."""
        subject = f"alias {alias!r} of function {function!r}"
        with self.calling("read", subject, lambda code, _: None):
            try:
                current = self.lambda_.get_alias(FunctionName=function, Name=alias)
            except self._client_error as exc:
                if _why(exc)[0] != "ResourceNotFoundException":
                    raise
                current = None
        if current is None:
            with self.calling("create", subject):
                created = self.lambda_.create_alias(
                    FunctionName=function, Name=alias, FunctionVersion=version
                )
                return created, "created"
        if current.get("FunctionVersion") == version and not current.get("RoutingConfig"):
            return current, "unchanged"
        with self.calling("update", subject):
            updated = self.lambda_.update_alias(
                FunctionName=function, Name=alias, FunctionVersion=version,
                RoutingConfig={"AdditionalVersionWeights": {}},
            )  # fmt: skip
            return updated, "updated"

    # S3

    def upload(self, bucket: str, key: str, path: Path, subject: str) -> bool:
        """Put *path* at ``s3://bucket/key`` unless an object of its size is there (the key is
        its digest); True if it was uploaded."""
        with self.calling("check the upload of", f"{subject} to s3://{bucket}/{key}"):
            try:
                head = self.s3.head_object(Bucket=bucket, Key=key)
            except self._client_error as exc:
                # Without s3:ListBucket, S3 answers 403 for a key that is not there.
                if _why(exc)[0] not in ("404", "NoSuchKey", "NotFound", "403", "Forbidden"):
                    raise
                head = None
        if head is not None and head.get("ContentLength") == path.stat().st_size:
            return False
        with self.calling("upload", f"{subject} to s3://{bucket}/{key}"):
            self.s3.upload_file(str(path), bucket, key)
        return True
