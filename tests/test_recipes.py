"""The deployment recipes of docs/recipes/, run against examples/orders as the real build writes it.

CDK (`cdk synth`, no AWS account), Terraform (`terraform plan` with fake credentials, no API
call), SAM (`sam validate`, `sam build` with the makefile method, no Docker) and the GitHub
Actions workflow's build and check steps. The tools come from npm, PyPI and the Terraform
registry (or a local provider mirror), installed once into a cache folder: these tests are
marked `network`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

from support.project import clean_env
from support.pythons import missing

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "orders"
RECIPES = REPO / "docs" / "recipes"
SAM_VERSION = "1.170.0"
# Where the provider may already be, as a filesystem mirror (registry.terraform.io/hashicorp/aws/...).
TF_MIRROR = Path(os.environ.get("HATCH_LAMBDA_TF_MIRROR", "/opt/tf-plugins"))
# What the example's pyproject.toml says of each artifact.
FUNCTIONS = {"api": "orders.api.handler", "worker": "orders.worker.handler"}
LAYERS = {"deps"}
COPY_IGNORE = shutil.ignore_patterns(
    "dist", "dist-lambda", "node_modules", "cdk.out", ".terraform*", "*.tfstate*", ".aws-sam"
)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(
    argv: list[str], cwd: Path, env: dict[str, str], timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, f"{proc.args}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def no_aws(env: dict[str, str]) -> dict[str, str]:
    """*env* without any AWS credentials, profile or region of the machine running the tests."""
    kept = {k: v for k, v in env.items() if not k.startswith("AWS_") or k == "AWS_CA_BUNDLE"}
    kept.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    return kept


@pytest.fixture(scope="session")
def tools(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where npm packages, the SAM CLI and Terraform providers are kept between sessions."""
    preferred = Path(
        os.environ.get("HATCH_LAMBDA_RECIPES_CACHE", "/var/cache/hatch-lambda-tests/recipes")
    )
    try:
        preferred.mkdir(parents=True, exist_ok=True)
        probe = preferred / f".probe-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError:
        return tmp_path_factory.mktemp("recipe-tools")
    return preferred


class Built:
    """A copy of examples/orders after `hatch build -t lambda --clean`."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = env
        self.manifests: dict[str, dict[str, Any]] = {}
        for path in sorted((root / "dist-lambda").glob("*.json")):
            data = json.loads(path.read_text())
            self.manifests[data["name"]] = data

    def zip(self, name: str) -> Path:
        return self.root / "dist-lambda" / self.manifests[name]["archive"]["file"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("recipes") / "orders"
    shutil.copytree(EXAMPLE, root, ignore=COPY_IGNORE)
    env = clean_env(tmp_path_factory.mktemp("recipes-cache"))
    ok(run([sys.executable, "-m", "hatchling", "build", "-t", "lambda", "--clean"], root, env))
    project = Built(root, env)
    assert set(project.manifests) == set(FUNCTIONS) | LAYERS
    for name, handler in FUNCTIONS.items():
        assert project.manifests[name]["handler"] == handler
        assert project.manifests[name]["layers"] == ["deps"]
    return project


# --- CDK ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def node_modules(tools: Path) -> Path:
    """The CDK app's npm packages (package-lock.json), installed once per lock."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        missing("Node.js and npm are needed for the CDK recipe")
    assert npm is not None
    lock = EXAMPLE / "cdk" / "package-lock.json"
    folder = tools / f"cdk-{sha256(lock)[:16]}"
    with FileLock(str(folder) + ".lock"):
        done = folder / "installed"
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            shutil.copy2(EXAMPLE / "cdk" / "package.json", folder)
            shutil.copy2(lock, folder)
            env = {**os.environ, "npm_config_cache": str(tools / "npm-cache")}
            ok(run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], folder, env))
            done.write_text("")
    return folder / "node_modules"


@pytest.mark.network
def test_cdk_synth_uses_the_built_zips_as_they_are(built: Built, node_modules: Path) -> None:
    app = built.root / "cdk"
    (app / "node_modules").symlink_to(node_modules, target_is_directory=True)
    env = no_aws(
        {
            **os.environ,
            "CDK_DISABLE_VERSION_CHECK": "1",
            "CDK_DISABLE_CLI_TELEMETRY": "true",
            "CI": "true",
        }
    )
    ok(run([str(node_modules / ".bin" / "cdk"), "synth", "--no-notices", "-q"], app, env))
    out = app / "cdk.out"
    resources = json.loads((out / "Orders.template.json").read_text())["Resources"]

    def by_type(kind: str, key: str) -> dict[str, tuple[str, dict[str, Any]]]:
        return {
            r["Properties"][key]: (logical, r)
            for logical, r in resources.items()
            if r["Type"] == kind
        }

    layers = by_type("AWS::Lambda::LayerVersion", "LayerName")
    functions = by_type("AWS::Lambda::Function", "FunctionName")
    assert set(layers) == {f"orders-{n}" for n in LAYERS}
    assert set(functions) == {f"orders-{n}" for n in FUNCTIONS}

    for name in LAYERS:
        manifest = built.manifests[name]
        _, layer = layers[f"orders-{name}"]
        asset = out / layer["Metadata"]["aws:asset:path"]
        assert asset.is_file(), asset
        assert sha256(asset) == manifest["archive"]["sha256"]
        assert layer["Properties"]["CompatibleRuntimes"] == manifest["runtimes"]
        assert layer["Properties"]["CompatibleArchitectures"] == [manifest["architecture"]]

    for name in FUNCTIONS:
        manifest = built.manifests[name]
        _, function = functions[f"orders-{name}"]
        props = function["Properties"]
        asset = out / function["Metadata"]["aws:asset:path"]
        assert asset.is_file(), asset
        assert sha256(asset) == manifest["archive"]["sha256"]
        assert props["Runtime"] == manifest["runtime"]
        assert props["Architectures"] == [manifest["architecture"]]
        assert props["Handler"] == manifest["handler"]
        assert props["Layers"] == [{"Ref": layers[f"orders-{n}"][0]} for n in manifest["layers"]]


# --- Terraform ---------------------------------------------------------------------------------

OFFLINE_PROVIDER = """
provider "aws" {
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true
  endpoints {
    iam    = "http://127.0.0.1:9"
    lambda = "http://127.0.0.1:9"
    s3     = "http://127.0.0.1:9"
    sts    = "http://127.0.0.1:9"
  }
}
"""


@pytest.fixture(scope="module")
def terraform(tools: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The environment terraform runs in: the local provider mirror if there is one, else the
    registry with a plugin cache."""
    if shutil.which("terraform") is None:
        missing("terraform is needed for the Terraform recipe")
    config = tmp_path_factory.mktemp("terraform") / "terraformrc"
    if (TF_MIRROR / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
        config.write_text(
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path = "{TF_MIRROR}"\n'
            '    include = ["registry.terraform.io/hashicorp/*"]\n  }\n'
            '  direct {\n    exclude = ["registry.terraform.io/hashicorp/*"]\n  }\n}\n'
        )
    else:
        (tools / "terraform-plugins").mkdir(exist_ok=True)
        config.write_text(f'plugin_cache_dir = "{tools / "terraform-plugins"}"\n')
    yield no_aws(
        {
            **os.environ,
            "TF_CLI_CONFIG_FILE": str(config),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",
        }
    )


def terraform_plan(folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run(["terraform", "plan", "-refresh=false", "-no-color", "-out=plan.bin"], folder, env)


@pytest.mark.network
def test_terraform_plan_takes_the_manifests(built: Built, terraform: dict[str, str]) -> None:
    folder = built.root / "terraform"
    ok(run(["terraform", "fmt", "-check", "-recursive", "-no-color"], folder, terraform))
    (folder / "offline_override.tf").write_text(OFFLINE_PROVIDER)
    ok(run(["terraform", "init", "-no-color"], folder, terraform))
    ok(run(["terraform", "validate", "-no-color"], folder, terraform))
    ok(terraform_plan(folder, terraform))
    plan = json.loads(ok(run(["terraform", "show", "-json", "plan.bin"], folder, terraform)))
    changes = {c["address"]: c["change"] for c in plan["resource_changes"]}

    for name in LAYERS:
        manifest = built.manifests[name]
        after = changes[f'aws_lambda_layer_version.this["{name}"]']["after"]
        assert after["layer_name"] == f"orders-{name}"
        assert after["source_code_hash"] == manifest["archive"]["code-sha256"]
        assert sha256(folder / after["filename"]) == manifest["archive"]["sha256"]
        assert after["compatible_runtimes"] == manifest["runtimes"]
        assert after["compatible_architectures"] == [manifest["architecture"]]

    for name in FUNCTIONS:
        manifest = built.manifests[name]
        change = changes[f'aws_lambda_function.this["{name}"]']
        after = change["after"]
        assert after["function_name"] == f"orders-{name}"
        assert after["source_code_hash"] == manifest["archive"]["code-sha256"]
        assert sha256(folder / after["filename"]) == manifest["archive"]["sha256"]
        assert not Path(after["filename"]).is_absolute()
        assert after["runtime"] == manifest["runtime"]
        assert after["architectures"] == [manifest["architecture"]]
        assert after["handler"] == manifest["handler"]
        # Layer versions are known once the layers are published.
        assert change["after_unknown"]["layers"] in (True, [True] * len(manifest["layers"]))
    function = next(
        r
        for r in plan["configuration"]["root_module"]["resources"]
        if r["address"] == "aws_lambda_function.this"
    )
    assert "aws_lambda_layer_version.this" in function["expressions"]["layers"]["references"]
    outputs = plan["planned_values"]["outputs"]
    assert outputs["code_sha256"]["value"] == {
        n: built.manifests[n]["archive"]["code-sha256"] for n in FUNCTIONS
    }

    # An older build of an artifact left beside the current one: refused, saying what to do.
    dist = built.root / "dist-lambda"
    old = json.loads((dist / built.zip("api").with_suffix(".json").name).read_text())
    old["archive"]["file"] = "orders-0.0.9-api-python3.12-arm64.zip"
    try:
        (dist / "orders-0.0.9-api-python3.12-arm64.json").write_text(json.dumps(old))
        shutil.copy2(built.zip("api"), dist / old["archive"]["file"])
        proc = terraform_plan(folder, terraform)
        assert proc.returncode != 0
        assert "hatch build -t lambda --clean" in re.sub(r"\s+", " ", proc.stderr)
    finally:
        (dist / "orders-0.0.9-api-python3.12-arm64.json").unlink()
        (dist / old["archive"]["file"]).unlink()


# --- SAM ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sam(tools: Path) -> Path:
    """A virtual environment with the SAM CLI (and cfn-lint), made once per version."""
    folder = tools / f"sam-{SAM_VERSION}"
    with FileLock(str(folder) + ".lock"):
        done = folder / "installed"
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            ok(run([sys.executable, "-m", "venv", str(folder)], tools, dict(os.environ)))
            pip = [str(folder / "bin" / "python"), "-m", "pip", "install", "-q"]
            ok(run([*pip, f"aws-sam-cli=={SAM_VERSION}"], tools, dict(os.environ)))
            done.write_text("")
    return folder / "bin"


def sam_env(base: dict[str, str] | None = None, **extra: str) -> dict[str, str]:
    env = no_aws(dict(os.environ if base is None else base))
    env.update(SAM_CLI_TELEMETRY="0", SAM_CLI_DISABLE_VERSION_CHECK="1", **extra)
    return env


def read_yaml(sam: Path, path: Path) -> Any:
    """A CloudFormation or workflow YAML file as data (`!Ref` and the like included)."""
    code = (
        "import json, sys\nfrom samcli.yamlhelper import yaml_parse\n"
        "print(json.dumps(yaml_parse(open(sys.argv[1]).read())))"
    )
    return json.loads(ok(run([str(sam / "python"), "-c", code, str(path)], path.parent, sam_env())))


@pytest.fixture(scope="module")
def hatch_env(built: Built, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Where `hatch build` works as it will once hatch-lambda is on PyPI: its isolated build
    environment finds this checkout's wheel."""
    wheels = tmp_path_factory.mktemp("wheels")
    ok(
        run(
            [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(wheels)],
            REPO,
            dict(os.environ),
        )
    )
    data = tmp_path_factory.mktemp("hatch-data")
    return {
        **built.env,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PIP_FIND_LINKS": str(wheels),
        "UV_FIND_LINKS": str(wheels),
        "HATCH_DATA_DIR": str(data / "data"),
        "HATCH_CACHE_DIR": str(data / "cache"),
    }


@pytest.mark.network
def test_sam_templates_validate_offline(built: Built, sam: Path) -> None:
    for template in ("template.yaml", "template-makefile.yaml"):
        ok(run([str(sam / "sam"), "validate", "--lint", "-t", template], built.root, sam_env()))
        # The plain validation needs a region, and no credentials.
        region = sam_env(AWS_DEFAULT_REGION="eu-west-1")
        ok(run([str(sam / "sam"), "validate", "-t", template], built.root, region))


@pytest.mark.network
def test_sam_template_deploys_the_built_zips(built: Built, sam: Path) -> None:
    template = read_yaml(sam, built.root / "template.yaml")
    resources = template["Resources"]
    function_globals = template["Globals"]["Function"]
    layer = resources["DepsLayer"]["Properties"]
    deps = built.manifests["deps"]
    assert layer["ContentUri"] == f"dist-lambda/{deps['archive']['file']}"
    assert layer["CompatibleRuntimes"] == deps["runtimes"]
    assert layer["CompatibleArchitectures"] == [deps["architecture"]]
    for name, logical in (("api", "ApiFunction"), ("worker", "WorkerFunction")):
        manifest = built.manifests[name]
        props = {**function_globals, **resources[logical]["Properties"]}
        assert props["CodeUri"] == f"dist-lambda/{manifest['archive']['file']}"
        assert props["Runtime"] == manifest["runtime"]
        assert props["Architectures"] == [manifest["architecture"]]
        assert props["Handler"] == manifest["handler"]
        assert props["Layers"] == [{"Ref": "DepsLayer"}]

    # `sam build` leaves a zip alone: the built template points at the very bytes.
    ok(run([str(sam / "sam"), "build", "-t", "template.yaml"], built.root, sam_env()))
    out = built.root / ".aws-sam" / "build"
    after = read_yaml(sam, out / "template.yaml")["Resources"]
    for name, logical, key in (
        ("api", "ApiFunction", "CodeUri"),
        ("worker", "WorkerFunction", "CodeUri"),
        ("deps", "DepsLayer", "ContentUri"),
    ):
        path = (out / after[logical]["Properties"][key]).resolve()
        assert sha256(path) == built.manifests[name]["archive"]["sha256"]
    shutil.rmtree(built.root / ".aws-sam")


@pytest.mark.network
def test_sam_build_with_the_makefile_runs_hatch(
    built: Built, sam: Path, hatch_env: dict[str, str], tmp_path: Path
) -> None:
    project = tmp_path / "orders"
    shutil.copytree(EXAMPLE, project, ignore=COPY_IGNORE)
    shutil.rmtree(project / "cdk")
    shutil.rmtree(project / "terraform")
    env = sam_env(hatch_env)
    ok(run([str(sam / "sam"), "build", "-t", "template-makefile.yaml"], project, env))
    out = project / ".aws-sam" / "build"
    for name, logical in (
        ("api", "ApiFunction"),
        ("worker", "WorkerFunction"),
        ("deps", "DepsLayer"),
    ):
        folder = out / logical
        with zipfile.ZipFile(built.zip(name)) as zf:
            expected = {i.filename: zf.read(i) for i in zf.infolist() if not i.is_dir()}
        found = {
            p.relative_to(folder).as_posix(): p.read_bytes()
            for p in folder.rglob("*")
            if p.is_file()
        }
        assert found.keys() == expected.keys(), logical
        assert found == expected, logical


# --- GitHub Actions ----------------------------------------------------------------------------


@pytest.mark.network
def test_github_actions_workflow(
    built: Built, sam: Path, hatch_env: dict[str, str], tmp_path: Path
) -> None:
    workflow = read_yaml(sam, RECIPES / "github-actions.yml")
    jobs = workflow["jobs"]
    assert workflow["permissions"] == {"contents": "read"}
    assert "id-token" not in jobs["build"].get("permissions", {})
    publish = jobs["publish"]
    assert publish["permissions"]["id-token"] == "write"
    assert publish["needs"] == "build"
    steps = publish["steps"]
    uses = [s.get("uses", "") for s in steps]
    runs = [s.get("run", "") for s in steps]
    credentials = next(s for s in steps if s.get("uses", "").startswith("aws-actions/"))
    assert credentials["uses"].startswith("aws-actions/configure-aws-credentials@")
    assert "role-to-assume" in credentials["with"]
    assert not any(k in credentials["with"] for k in ("aws-access-key-id", "aws-secret-access-key"))
    publishing = runs.index("hatch publish -p lambda --no-prompt")
    assert uses.index(credentials["uses"]) < publishing
    assert runs.index("hatch-lambda check dist-lambda/*") < publishing

    # The build job's own commands, in a copy of the example standing for the repository root.
    project = tmp_path / "orders"
    shutil.copytree(EXAMPLE, project, ignore=COPY_IGNORE)
    commands = [
        s["run"] for s in jobs["build"]["steps"] if "run" in s and "pip install" not in s["run"]
    ]
    assert commands == ["hatch build -t lambda --clean", "hatch-lambda check dist-lambda/*"]
    for command in commands:
        ok(run(["bash", "-ec", command], project, hatch_env))
    made = {p.name: sha256(p) for p in (project / "dist-lambda").glob("*.zip")}
    assert made == {built.zip(n).name: sha256(built.zip(n)) for n in built.manifests}


# --- Links -------------------------------------------------------------------------------------


def test_recipe_links_name_files_that_exist() -> None:
    pages = [*sorted(RECIPES.glob("*.md")), REPO / "README.md"]
    assert len(pages) >= 5
    for page in pages:
        for target in re.findall(r"\]\(((?:\.\./|docs/|examples/)[^)#\s]+)", page.read_text()):
            assert (page.parent / target).exists(), f"{page.name}: {target}"
