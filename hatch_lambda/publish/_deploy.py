"""The order of a publish: layers first, then each function's code, its configuration, a version
and an alias. Nothing is uploaded or published that Lambda already has."""

from __future__ import annotations

from typing import Any

from .._report import Reporter
from ._aws import Aws, PublishError
from ._options import PublishOptions
from ._plan import Artifact, FunctionStep, LayerStep, Plan, route
from ._record import Deployment, FunctionResult, LayerResult


def _layer_base(arn: str) -> str:
    """A layer version's ARN without its version: the layer's ARN."""
    return arn.rsplit(":", 1)[0]


class _Deployer:
    def __init__(self, plan: Plan, options: PublishOptions, aws: Aws, reporter: Reporter) -> None:
        self.plan = plan
        self.options = options
        self.aws = aws
        self.reporter = reporter
        self.dry = options.dry_run
        self.layer_arns: dict[str, str | None] = {}
        """Layer artifact name -> the ARN of the version its functions get (None: to be made)."""

    def _description(self, artifact: Artifact) -> str:
        project = self.plan.project
        return f"{project.name} {project.version}: {artifact.zip.name}"

    def _content(self, artifact: Artifact, subject: str) -> tuple[dict[str, Any], str]:
        """What to pass as the code, uploading to S3 first when a bucket is set."""
        how = route(artifact, self.options.s3_bucket, self.options.where("s3-bucket"))
        if how == "direct":
            return {"ZipFile": artifact.zip.read_bytes()}, "direct upload"
        bucket = str(self.options.s3_bucket)
        prefix = self.options.s3_prefix
        key = f"{prefix}/{artifact.sha256}.zip" if prefix else f"{artifact.sha256}.zip"
        if self.aws.upload(bucket, key, artifact.zip, subject):
            self.reporter.debug(f"uploaded {artifact.zip.name} to s3://{bucket}/{key}")
        return {"S3Bucket": bucket, "S3Key": key}, f"s3://{bucket}/{key}"

    def layer(self, step: LayerStep) -> LayerResult:
        a = step.artifact
        result = LayerResult(a.name, step.layer, a.zip.name, a.code_sha256, "unchanged")
        newest = self.aws.newest_layer_version(step.layer)
        same = (
            newest is not None
            and newest.get("Content", {}).get("CodeSha256") == a.code_sha256
            and set(newest.get("CompatibleRuntimes") or a.runtimes) == set(a.runtimes)
            and list(newest.get("CompatibleArchitectures") or [a.architecture]) == [a.architecture]
        )
        if newest is not None and same:
            result.arn, result.version = newest["LayerVersionArn"], int(newest["Version"])
        elif self.dry:
            result.action = "would publish"
            result.upload = "direct upload" if not self.options.s3_bucket else "s3"
        else:
            self.reporter.waiting(f"Publishing layer {step.layer} from {a.zip.name}")
            content, result.upload = self._content(a, f"layer {step.layer!r}")
            published = self.aws.publish_layer(
                step.layer, content, a.runtimes, a.architecture, self._description(a)
            )
            result.action = "published"
            result.arn, result.version = published["LayerVersionArn"], int(published["Version"])
            got = published.get("Content", {}).get("CodeSha256")
            if got and got != a.code_sha256:
                raise PublishError(
                    f"Lambda reports CodeSha256 {got} for the new version {result.version} of "
                    f"layer {step.layer!r}, and {a.manifest.name} records {a.code_sha256}: the "
                    "zip was altered on the way. Nothing else was changed; publish again"
                )
        self.layer_arns[a.name or ""] = result.arn
        return result

    def _layers_wanted(self, step: FunctionStep, current: list[str]) -> tuple[list[str], bool]:
        """The function's layer ARNs with the versions of its layers just published in place of
        older versions of the same layers, other layers kept; and whether that is a change."""
        wanted = list(current)
        changed = False
        for name in step.layers:
            arn = self.layer_arns.get(name)
            if arn is None:  # a dry run that would publish a new version
                changed = True
                continue
            olds = [i for i, have in enumerate(wanted) if _layer_base(have) == _layer_base(arn)]
            if olds:
                if wanted[olds[0]] != arn:
                    wanted[olds[0]] = arn
                    changed = True
                for i in reversed(olds[1:]):
                    del wanted[i]
                    changed = True
            else:
                wanted.append(arn)
                changed = True
        return wanted, changed

    def function(self, step: FunctionStep) -> FunctionResult:
        a = step.artifact
        name = step.function
        config = self.aws.wait_updated(name)
        if config.get("PackageType", "Zip") != "Zip":
            raise PublishError(
                f"function {name!r} is deployed from a container image, and takes no zip: "
                f"publish {a.zip.name} to a function whose package type is Zip"
            )
        result = FunctionResult(a.name, name, a.zip.name, a.code_sha256,
                                str(config.get("FunctionArn", name)), "unchanged")  # fmt: skip
        architectures = config.get("Architectures") or ["x86_64"]
        if config.get("CodeSha256") != a.code_sha256 or architectures != [a.architecture]:
            if self.dry:
                result.code = "would update"
                result.upload = "direct upload" if not self.options.s3_bucket else "s3"
            else:
                self.reporter.waiting(f"Updating the code of function {name} from {a.zip.name}")
                content, result.upload = self._content(a, f"function {name!r}")
                self.aws.update_code(name, content, a.architecture)
                config = self.aws.wait_updated(name)
                if config.get("CodeSha256") != a.code_sha256:
                    raise PublishError(
                        f"after updating function {name!r}, Lambda reports CodeSha256 "
                        f"{config.get('CodeSha256')}, and {a.manifest.name} records "
                        f"{a.code_sha256}: the function does not run the zip that was built. "
                        "Another deployment may have raced this one; publish again, and check "
                        "who else deploys this function"
                    )
                result.code = "updated"
        changes: dict[str, Any] = {}
        runtime = a.runtimes[0]
        if config.get("Runtime") != runtime:
            changes["Runtime"] = runtime
            result.configuration.append(f"runtime {config.get('Runtime')} -> {runtime}")
        if a.handler and config.get("Handler") != a.handler:
            changes["Handler"] = a.handler
            result.configuration.append(f"handler {a.handler}")
        current = [str(layer.get("Arn")) for layer in config.get("Layers") or []]
        layers, layers_changed = self._layers_wanted(step, current)
        result.layers = layers
        if layers_changed:
            changes["Layers"] = layers
            named = [
                f"{n} version {arn.rsplit(':', 1)[1]}" if (arn := self.layer_arns.get(n)) else n
                for n in step.layers
            ]
            result.configuration.append(f"layers: {', '.join(named)}")
        if changes and not self.dry:
            self.reporter.waiting(f"Updating the configuration of function {name}")
            self.aws.update_configuration(name, changes)
            config = self.aws.wait_updated(name)
        if self.options.publish_version:
            self._version(step, result, config, changed=bool(changes) or result.code != "unchanged")
        return result

    def _version(
        self, step: FunctionStep, result: FunctionResult, config: dict[str, Any], *, changed: bool
    ) -> None:
        name = step.function
        a = step.artifact
        newest = None if changed else self.aws.newest_version(name)
        keys = ("CodeSha256", "Runtime", "Handler")
        if (
            newest is not None
            and all(newest.get(k) == config.get(k) for k in keys)
            and (
                [x.get("Arn") for x in newest.get("Layers") or []]
                == [x.get("Arn") for x in config.get("Layers") or []]
            )
        ):
            result.version, result.version_action = str(newest["Version"]), "unchanged"
        elif self.dry:
            result.version_action = "would be published"
        else:
            published = self.aws.publish_version(name, a.code_sha256, self._description(a))
            result.version, result.version_action = str(published["Version"]), "published"
        alias = self.options.alias
        if alias is None:
            return
        if self.dry:
            version = result.version or "(new)"
            result.alias = {"name": alias, "version": version, "action": "would be set"}
            return
        assert result.version is not None
        found, action = self.aws.point_alias(name, alias, result.version)
        result.alias = {"name": alias, "version": result.version, "action": action,
                        "arn": str(found.get("AliasArn", ""))}  # fmt: skip


def deploy(plan: Plan, options: PublishOptions, aws: Aws, reporter: Reporter) -> Deployment:
    """Publish *plan*: layers first, so functions can name their new versions."""
    deployer = _Deployer(plan, options, aws, reporter)
    deployment = Deployment(plan.project.name, plan.project.version, aws.region,
                            options.endpoint_url, options.dry_run)  # fmt: skip
    for layer in plan.layers:
        deployment.layers.append(deployer.layer(layer))
    for function in plan.functions:
        deployment.functions.append(deployer.function(function))
    return deployment
