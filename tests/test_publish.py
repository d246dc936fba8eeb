"""Publishing to Lambda, `hatch-lambda publish` and `hatch publish -p lambda`, against a moto
server the tests start on 127.0.0.1: layers, functions, S3, versions, aliases, and failures."""

from __future__ import annotations

import io
import itertools
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hatch_lambda.check import artifact_paths
from hatch_lambda.errors import ConfigError, HatchLambdaError
from hatch_lambda.publish._options import Source, command_line, validate_options
from hatch_lambda.publish._plan import DIRECT_UPLOAD_LIMIT, Artifact, route
from support.project import Project, toml_tables

boto3 = pytest.importorskip("boto3")

HANDLER = "fx_app.handler.handler"
REGION = "us-east-1"
SECRET = "hlTestSecret-7f3a9cQ2-must-never-show"
KEY_ID = "AKIAHATCHLAMBDATEST1"
_names = itertools.count()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto server on a free loopback port, for the whole session."""
    server = Path(sys.executable).parent / "moto_server"
    port = _free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("w")
    proc = subprocess.Popen(
        [str(server), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


AWS_ENV = {
    "AWS_ACCESS_KEY_ID": KEY_ID,
    "AWS_SECRET_ACCESS_KEY": SECRET,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


@pytest.fixture(scope="session")
def aws(endpoint: str) -> dict[str, Any]:
    """boto3 clients of the moto server, and an IAM role for functions."""
    session = boto3.Session(
        aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, region_name=REGION
    )
    clients = {n: session.client(n, endpoint_url=endpoint) for n in ("lambda", "s3", "iam")}
    role = clients["iam"].create_role(RoleName="publish-tests", AssumeRolePolicyDocument="{}")
    return {**clients, "role": role["Role"]["Arn"]}


def _zip(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("placeholder.py", text)
    return buffer.getvalue()


def make_function(aws: dict[str, Any], **extra: Any) -> str:
    """A function as infrastructure code would create it: placeholder code, older runtime."""
    name = f"fn-{next(_names)}-{os.getpid()}"
    aws["lambda"].create_function(
        FunctionName=name, Runtime="python3.11", Role=aws["role"], Handler="placeholder.handler",
        Code={"ZipFile": _zip(name)}, Architectures=["x86_64"], **extra,
    )  # fmt: skip
    return name


def configure(app: Project, publish: dict[str, Any], *, layer: bool = True) -> None:
    """The split build (a layer of dependencies, a function of the project's code) and the
    publish table."""
    artifacts: dict[str, Any] = {"api": {"handler": HANDLER, "contents": "project"}}
    if layer:
        artifacts["deps"] = {"kind": "layer", "contents": "dependencies"}
        artifacts["api"]["layers"] = ["deps"]
    app.configure({"runtime": "python3.12", "artifacts": artifacts})
    text = (app.path / "pyproject.toml").read_text()
    (app.path / "pyproject.toml").write_text(
        text + toml_tables("tool.hatch.publish.lambda", publish)
    )


def publish(app: Project, *args: str) -> subprocess.CompletedProcess[str]:
    proc = app.run([sys.executable, "-m", "hatch_lambda", "publish", *args], **AWS_ENV)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert SECRET not in proc.stdout + proc.stderr
    return proc


def manifest(app: Project, name: str) -> dict[str, Any]:
    [path] = app.lambda_dir.glob(f"*-{name}-*.json")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_layer_and_function_published_then_nothing_changes(
    app: Project, aws: dict[str, Any], endpoint: str
) -> None:
    lam = aws["lambda"]
    other = lam.publish_layer_version(LayerName="kept-other", Content={"ZipFile": _zip("o")})
    function = make_function(aws, Layers=[other["LayerVersionArn"]])
    layer = f"deps-{function}"
    configure(app, {
        "region": REGION, "endpoint-url": endpoint, "functions": {"api": function},
        "layers": {"deps": layer}, "alias": "live",
    })  # fmt: skip
    app.build_wheel()
    api, deps = manifest(app, "api"), manifest(app, "deps")

    first = publish(app)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert len(lines) == 2, first.stdout
    assert lines[0].startswith(f"layer deps: published {layer} version 1 via direct upload: arn:")
    assert lines[1].startswith(f"function api: {function} code updated via direct upload;")
    assert "configuration updated (runtime python3.11 -> python3.12, handler" in lines[1]
    assert "version 1 published; alias live -> 1 created" in lines[1]

    config = lam.get_function_configuration(FunctionName=function)
    assert config["CodeSha256"] == api["archive"]["code-sha256"]
    assert (config["Runtime"], config["Handler"]) == ("python3.12", HANDLER)
    [version] = lam.list_layer_versions(LayerName=layer)["LayerVersions"]
    assert version["CompatibleRuntimes"] == ["python3.12"]
    assert version["CompatibleArchitectures"] == ["x86_64"]
    got = lam.get_layer_version(LayerName=layer, VersionNumber=1)
    assert got["Content"]["CodeSha256"] == deps["archive"]["code-sha256"]
    # The other layer is kept, and the new layer version added.
    arns = [x["Arn"] for x in config["Layers"]]
    assert arns == [other["LayerVersionArn"], version["LayerVersionArn"]]
    assert lam.get_alias(FunctionName=function, Name="live")["FunctionVersion"] == "1"

    record = json.loads((app.lambda_dir / "deployment.json").read_text())
    # `hatch-lambda check dist-lambda/*` passes over it.
    everything = [str(p) for p in app.lambda_dir.iterdir()]
    assert len(artifact_paths(everything)) == 2 == len(everything) - 3
    assert record["project"] == "fx-app" and record["version"] == "1.2.3"
    assert record["layers"][0]["layer-version-arn"] == version["LayerVersionArn"]
    assert record["functions"][0]["function-arn"] == config["FunctionArn"]
    assert record["functions"][0]["version"] == "1"
    assert record["functions"][0]["alias"]["name"] == "live"

    second = publish(app)
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines() == [
        f"layer deps: unchanged {layer} version 1: {version['LayerVersionArn']}",
        f"function api: {function} unchanged; version 1; alias live -> 1: {config['FunctionArn']}",
    ]
    assert len(lam.list_layer_versions(LayerName=layer)["LayerVersions"]) == 1
    versions = lam.list_versions_by_function(FunctionName=function)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1"]

    # A newer layer version: the function's older version of it is replaced, the other kept.
    (app.lambda_dir / "deployment.json").unlink()
    (app.path / "src" / "fx_app" / "extra_module.py").write_text("X = 1\n")
    app.build_wheel()
    third = publish(app)
    assert third.returncode == 0, third.stderr
    assert "function api:" in third.stdout and "code updated" in third.stdout
    assert "version 2 published; alias live -> 2 updated" in third.stdout
    config = lam.get_function_configuration(FunctionName=function)
    assert [x["Arn"] for x in config["Layers"]] == arns
    assert (app.lambda_dir / "deployment.json").is_file()


def test_dry_run_says_what_would_happen_and_changes_nothing(
    app: Project, aws: dict[str, Any], endpoint: str
) -> None:
    function = make_function(aws)
    configure(app, {"region": REGION, "endpoint-url": endpoint, "function-name": function,
                    "layers": {"deps": f"deps-{function}"}})  # fmt: skip
    app.build_wheel()
    before = aws["lambda"].get_function_configuration(FunctionName=function)
    proc = publish(app, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "Dry run: nothing is uploaded, published or changed" in proc.stderr
    assert f"layer deps: would publish deps-{function}" in proc.stdout
    assert f"function api: {function} code would update" in proc.stdout
    assert "configuration would update (runtime python3.11 -> python3.12" in proc.stdout
    after = aws["lambda"].get_function_configuration(FunctionName=function)
    assert after["CodeSha256"] == before["CodeSha256"] and after["Runtime"] == "python3.11"
    assert aws["lambda"].list_layer_versions(LayerName=f"deps-{function}")["LayerVersions"] == []
    assert not (app.lambda_dir / "deployment.json").exists()


def test_through_s3_under_a_content_addressed_key(
    app: Project, aws: dict[str, Any], endpoint: str
) -> None:
    function = make_function(aws)
    bucket = f"artifacts-{function}"
    aws["s3"].create_bucket(Bucket=bucket)
    configure(app, {"region": REGION, "endpoint-url": endpoint, "s3-bucket": bucket,
                    "s3-prefix": "lambda/fx-app"}, layer=False)  # fmt: skip
    app.build_wheel()
    api = manifest(app, "api")
    proc = publish(app, "-o", f"functions.api={function}")
    assert proc.returncode == 0, proc.stderr
    key = f"lambda/fx-app/{api['archive']['sha256']}.zip"
    assert f"code updated via s3://{bucket}/{key}" in proc.stdout
    stored = aws["s3"].get_object(Bucket=bucket, Key=key)["Body"].read()
    assert stored == (app.lambda_dir / api["archive"]["file"]).read_bytes()
    config = aws["lambda"].get_function_configuration(FunctionName=function)
    assert config["CodeSha256"] == api["archive"]["code-sha256"]


def _artifact(tmp_path: Path, size: int) -> Artifact:
    return Artifact("api", "function", tmp_path / "big.zip", tmp_path / "big.json", "0" * 64,
                    "x", size, ("python3.12",), "x86_64", HANDLER, ())  # fmt: skip


def test_over_the_direct_upload_limit_needs_a_bucket(tmp_path: Path) -> None:
    assert route(_artifact(tmp_path, DIRECT_UPLOAD_LIMIT), None, "s3-bucket") == "direct"
    assert route(_artifact(tmp_path, DIRECT_UPLOAD_LIMIT + 1), "bkt", "s3-bucket") == "s3"
    with pytest.raises(HatchLambdaError) as raised:
        route(_artifact(tmp_path, DIRECT_UPLOAD_LIMIT + 1), None, "tool.x.s3-bucket")
    assert str(raised.value) == (
        "big.zip is 52,428,801 bytes, over Lambda's 52,428,800-byte (50 MB) limit for a direct "
        "upload: set s3-bucket (tool.x.s3-bucket) to a bucket in the function's region, and it "
        "goes through S3"
    )


def test_a_zip_that_does_not_match_its_manifest_is_refused(
    app: Project, aws: dict[str, Any], endpoint: str
) -> None:
    function = make_function(aws)
    configure(app, {"region": REGION, "endpoint-url": endpoint, "functions": {"api": function},
                    "layers": {"deps": f"deps-{function}"}})  # fmt: skip
    app.build_wheel()
    [layer_zip] = app.lambda_dir.glob("*-deps-*.zip")
    with layer_zip.open("ab") as f:
        f.write(b"changed")
    proc = publish(app)
    assert proc.returncode == 1
    assert f"{layer_zip} does not match its manifest {layer_zip.with_suffix('.json').name}" in (
        proc.stderr
    )
    assert "Rebuild it (hatch build) and publish again" in proc.stderr
    assert aws["lambda"].list_layer_versions(LayerName=f"deps-{function}")["LayerVersions"] == []


def test_a_missing_function_is_named_with_what_to_do(
    app: Project, aws: dict[str, Any], endpoint: str
) -> None:
    configure(app, {"region": REGION, "endpoint-url": endpoint}, layer=False)
    app.build_wheel()
    proc = publish(app, "-o", "function-name=no-such-function")
    assert proc.returncode == 1
    assert proc.stderr.startswith(
        "hatch-lambda: cannot find function 'no-such-function': ResourceNotFoundException:"
    ), proc.stderr
    assert "hatch-lambda updates functions and does not create them" in proc.stderr
    assert "infrastructure code" in proc.stderr
    assert not (app.lambda_dir / "deployment.json").exists()


def test_an_unmapped_function_and_bad_options_all_at_once(app: Project) -> None:
    configure(app, {"region": "Europe", "functoins": {"api": "x"}, "dry-run": "maybe"})
    app.build_wheel()
    proc = publish(app, "-o", "publish-version=perhaps", "-o", "layers=deps")
    assert proc.returncode == 1
    assert "hatch-lambda configuration has 5 problems" in proc.stderr, proc.stderr
    for said in (
        "tool.hatch.publish.lambda.functoins is not a publish option; did you mean 'functions'?",
        "tool.hatch.publish.lambda.region must be a region such as 'eu-west-1', not 'Europe'",
        "tool.hatch.publish.lambda.dry-run must be true or false, not 'maybe'",
        "-o publish-version must be one of true, yes, on, 1, false, no, off, 0, not 'perhaps'",
        "-o layers must be ARTIFACT=NAME[,ARTIFACT=NAME...]",
    ):
        assert said in proc.stderr


def test_layers_and_functions_that_name_no_artifact_are_both_said(app: Project) -> None:
    configure(app, {"region": REGION, "layers": {"dep": "shared"}, "functions": {"apii": "fn"}})
    app.build_wheel()
    proc = publish(app)
    assert proc.returncode == 1
    for kind, name, have, closest in (("layers", "dep", "deps", "deps"),
                                      ("functions", "apii", "api", "api")):  # fmt: skip
        said = (f"tool.hatch.publish.lambda.{kind}.{name}: no {kind[:-1]} artifact {name!r} "
                f"among the manifests in {app.lambda_dir} ({kind}: {have})")  # fmt: skip
        assert said in proc.stderr, proc.stderr
        assert f"did you mean {closest!r}?" in proc.stderr


def test_options_from_the_command_line() -> None:
    options = validate_options([
        Source({"functions": {"api": "a"}, "dry-run": True, "disable": False}, "tool.x"),
        command_line(["functions.worker=arn:aws:lambda:eu-west-1:123456789012:function:w",
                      "dry-run=no", "layers={deps = \"shared-deps\"}", "alias=live"]),
    ])  # fmt: skip
    assert dict(options.functions) == {
        "api": "a",
        "worker": "arn:aws:lambda:eu-west-1:123456789012:function:w",
    }
    assert dict(options.layers) == {"deps": "shared-deps"}
    assert options.dry_run is False
    assert options.publish_version is True  # an alias needs a version
    assert options.where("alias") == "-o alias"
    hatch_style = validate_options([command_line({"no_prompt": False, "functions": "a=b,c=d"})])
    assert dict(hatch_style.functions) == {"a": "b", "c": "d"}
    with pytest.raises(ConfigError) as raised:
        validate_options([command_line(["alias=live", "publish-version=false", "s3-prefix=p"])])
    assert len(raised.value.problems) == 2


def test_nothing_built(app: Project) -> None:
    configure(app, {"region": REGION, "function-name": "f"}, layer=False)
    proc = publish(app)
    assert proc.returncode == 1
    assert "dist-lambda does not exist: build the Lambda artifacts of fx-app first" in proc.stderr


def test_without_boto3_the_message_says_what_to_install(app: Project, endpoint: str) -> None:
    configure(app, {"region": REGION, "endpoint-url": endpoint, "function-name": "f"}, layer=False)
    app.build_wheel()
    code = (
        "import sys; sys.modules['boto3'] = None; from hatch_lambda.cli import main; "
        "sys.exit(main(['publish']))"
    )
    proc = app.run([sys.executable, "-c", code], **AWS_ENV)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        "hatch-lambda: publishing to AWS Lambda needs boto3, which is not installed: "
        "pip install 'hatch-lambda[publish]'"
    )


def test_registering_the_plugin_imports_neither_hatch_nor_boto3() -> None:
    code = (
        "import sys, hatch_lambda.hooks; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('hatch', 'boto3', 'botocore') "
        "or m.startswith(('hatch_lambda.publish', 'hatch_lambda.pipeline'))))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


def test_hatch_publish_p_lambda(app: Project, aws: dict[str, Any], endpoint: str) -> None:
    function = make_function(aws)
    configure(app, {"layers": {"deps": f"deps-{function}"}})
    app.build_wheel()
    home = app.path.parent / "hatch-home"
    home.mkdir()
    # Hatch's own config file: its [publish.lambda] table comes first, the project's after it.
    (home / "config.toml").write_text(f'[publish.lambda]\nregion = "{REGION}"\n')
    hatch = Path(sys.executable).parent / "hatch"
    proc = app.run(
        [str(hatch), "publish", "-p", "lambda", "-o", f"endpoint-url={endpoint}",
         "-o", f"functions.api={function}", "-o", "publish-version=true"],
        **AWS_ENV, HATCH_CONFIG=str(home / "config.toml"), HATCH_DATA_DIR=str(home / "data"),
        HATCH_CACHE_DIR=str(home / "cache"),
    )  # fmt: skip
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "Traceback" not in output and SECRET not in output
    assert f"layer deps: published deps-{function} version 1" in output
    assert f"function api: {function} code updated via direct upload;" in output
    assert "version 1 published" in output
    assert "Deployment record:" in output
    config = aws["lambda"].get_function_configuration(FunctionName=function)
    assert config["CodeSha256"] == manifest(app, "api")["archive"]["code-sha256"]

    # A failure through Hatch: its message, no traceback.
    failed = app.run(
        [str(hatch), "publish", "-p", "lambda", "-o", f"endpoint-url={endpoint}",
         "-o", "functions.api=missing-fn"],
        **AWS_ENV, HATCH_CONFIG=str(home / "config.toml"), HATCH_DATA_DIR=str(home / "data"),
        HATCH_CACHE_DIR=str(home / "cache"),
    )  # fmt: skip
    assert failed.returncode == 1
    assert "hatch-lambda: cannot find function 'missing-fn'" in failed.stdout + failed.stderr
    assert "Traceback" not in failed.stdout + failed.stderr


@pytest.fixture
def clients(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> Any:
    from hatch_lambda.publish._aws import Aws

    for key, value in AWS_ENV.items():
        monkeypatch.setenv(key, value)
    userinfo = endpoint.replace("http://", "http://deployer:pw-in-url-9q8w@")
    return Aws(validate_options([Source({"region": REGION, "endpoint-url": userinfo}, "t")]))


def test_access_denied_names_the_permission_and_throttling_says_wait(clients: Any) -> None:
    from botocore.exceptions import ClientError, EndpointConnectionError

    from hatch_lambda.publish._aws import PublishError

    def failing(code: str, operation: str, action: str, subject: str) -> str:
        with pytest.raises(PublishError) as raised, clients.calling(action, subject):
            raise ClientError({"Error": {"Code": code, "Message": "no"}}, operation)
        return str(raised.value)

    denied = failing("AccessDeniedException", "UpdateFunctionCode", "update the code of",
                     "function 'api'")  # fmt: skip
    assert denied.startswith("cannot update the code of function 'api': AccessDeniedException: no.")
    assert "lack the permission lambda:UpdateFunctionCode" in denied
    assert "lack the permission s3:GetObject" in failing("AccessDenied", "HeadObject", "check", "x")
    throttled = failing("TooManyRequestsException", "PublishLayerVersion", "publish", "layer 'd'")
    assert "kept throttling the requests after 8 attempts with backoff; wait a minute" in throttled
    # The user-info of the endpoint URL is not shown.
    with pytest.raises(PublishError) as raised, clients.calling("find", "function 'api'"):
        raise EndpointConnectionError(endpoint_url=clients.endpoint)
    assert "pw-in-url-9q8w" not in str(raised.value) and "deployer" not in str(raised.value)
    assert "http://***@127.0.0.1:" in str(raised.value)
