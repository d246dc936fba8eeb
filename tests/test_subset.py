"""Building some of a project's artifacts: HATCH_LAMBDA_ARTIFACTS and `-t lambda:NAMES`."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from hatch_lambda.config import load_and_validate_config
from hatch_lambda.errors import HatchLambdaError
from hatch_lambda.subset import Request, choose, for_builder, from_environment, from_versions
from support.project import Project

HANDLER = "fx_app.handler.handler"
KEY = "tool.hatch.build.targets.wheel.hooks.lambda"
SPLIT = {
    "runtime": "python3.12",
    "artifacts": {
        "deps": {"kind": "layer", "contents": "dependencies"},
        "api": {"handler": HANDLER, "layers": ["deps"]},
        "worker": {"handler": HANDLER, "contents": "project"},
    },
}
ZIPS = {
    "deps": "fx_app-1.2.3-deps-python3.12-x86_64",
    "api": "fx_app-1.2.3-api-python3.12-x86_64",
    "worker": "fx_app-1.2.3-worker-python3.12-x86_64",
}


def _names(request: Request | None) -> list[str]:
    config = load_and_validate_config(SPLIT, key_path=KEY)
    return [str(a.name) for a in choose(config, request, key_path=KEY).config.artifacts]


def test_the_environment_names_artifacts_and_their_layers_come_along() -> None:
    assert from_environment({}) is None
    assert from_environment({"HATCH_LAMBDA_ARTIFACTS": " , "}) is None
    request = from_environment({"HATCH_LAMBDA_ARTIFACTS": " api, api ,"})
    assert request == Request(("api",), "HATCH_LAMBDA_ARTIFACTS= api, api ,")
    assert _names(request) == ["deps", "api"]
    assert _names(Request(("worker",), "x")) == ["worker"]
    assert _names(None) == ["deps", "api", "worker"]
    config = load_and_validate_config(SPLIT, key_path=KEY)
    subset = choose(config, Request(("api",), "HATCH_LAMBDA_ARTIFACTS=api"), key_path=KEY)
    assert subset.names == {"api", "deps"}
    assert subset.note == (
        "Building 2 of 3 artifacts, as HATCH_LAMBDA_ARTIFACTS=api asks: deps (a layer api "
        "names), api; worker is left as it is"
    )


def test_the_builders_versions_are_artifact_names() -> None:
    assert from_versions(["standard"], "-t lambda:standard") is None
    assert from_versions(["api", "standard"], "x") is None  # standard is every artifact
    assert for_builder(["api"], {"versions": ["worker"]}) == Request(("api",), "-t lambda:api")
    assert for_builder([], {"versions": ["worker"]}) == Request(
        ("worker",), "tool.hatch.build.targets.lambda.versions = ['worker']"
    )
    assert for_builder([], {}) is None
    with pytest.raises(HatchLambdaError, match="must be an array of artifact names"):
        for_builder([], {"versions": "worker"})


def test_an_unknown_name_lists_the_known_ones() -> None:
    config = load_and_validate_config(SPLIT, key_path=KEY)
    with pytest.raises(HatchLambdaError) as caught:
        choose(config, Request(("apj", "nope"), "HATCH_LAMBDA_ARTIFACTS=apj,nope"), key_path=KEY)
    assert caught.value.message == (
        "HATCH_LAMBDA_ARTIFACTS=apj,nope: 'apj' (did you mean 'api'?), 'nope' are not artifacts "
        "of this project; its artifacts are deps, api, worker"
    )
    single = load_and_validate_config({"runtime": "python3.12"}, key_path=KEY)
    with pytest.raises(HatchLambdaError, match=f"{KEY} has no artifacts table"):
        choose(single, Request(("api",), "HATCH_LAMBDA_ARTIFACTS=api"), key_path=KEY)


def _digests(app: Project) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(app.lambda_dir.iterdir())
        if p.is_file()
    }


def _change_code(app: Project) -> None:
    handler = app.path / "src" / "fx_app" / "handler.py"
    handler.write_text(handler.read_text() + "\n# changed\n")


def test_the_hook_builds_only_what_is_asked_and_leaves_the_rest(app: Project) -> None:
    app.configure(SPLIT)
    app.build_wheel()
    before = _digests(app)
    assert len(before) == 6
    _change_code(app)
    proc = app.build_wheel(HATCH_LAMBDA_ARTIFACTS="worker")
    assert (
        "hatch-lambda: Building 1 of 3 artifacts, as HATCH_LAMBDA_ARTIFACTS=worker asks: "
        "worker; deps, api are left as they are"
    ) in proc.stderr
    after = _digests(app)
    changed = {name for name in after if after[name] != before[name]}
    assert changed == {f"{ZIPS['worker']}.zip", f"{ZIPS['worker']}.json"}
    assert "Building Lambda layer deps" not in proc.stderr
    # A function brings the layer it is deployed with.
    proc = app.build_wheel(HATCH_LAMBDA_ARTIFACTS="api")
    assert "as HATCH_LAMBDA_ARTIFACTS=api asks: deps (a layer api names), api;" in proc.stderr
    assert f"{ZIPS['api']}.zip (" in proc.stderr and f"{ZIPS['deps']}.zip (" in proc.stderr


def test_an_unknown_artifact_stops_the_build_before_the_wheel(app: Project) -> None:
    app.configure(SPLIT)
    proc = app.hatchling("-t", "wheel", HATCH_LAMBDA_ARTIFACTS="apj")
    assert proc.returncode != 0
    assert (
        "hatch-lambda: HATCH_LAMBDA_ARTIFACTS=apj: 'apj' (did you mean 'api'?) is not an "
        "artifact of this project; its artifacts are deps, api, worker"
    ) in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not list((app.path / "dist").glob("*.whl")) and not app.lambda_dir.exists()


def test_clean_removes_only_the_artifacts_asked_for(app: Project) -> None:
    app.configure(SPLIT)
    app.build_wheel()
    proc = app.hatchling("-t", "wheel", "--clean-only", HATCH_LAMBDA_ARTIFACTS="api")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.stem for p in app.lambda_dir.iterdir()) == [ZIPS["worker"]] * 2


def test_the_builder_takes_artifact_names_as_versions(app: Project, tmp_path: Path) -> None:
    app.configure(SPLIT)
    proc = app.hatchling("-t", "lambda:worker")
    assert proc.returncode == 0, proc.stderr
    assert "as -t lambda:worker asks: worker;" in proc.stderr
    assert [p.stem for p in app.artifacts()] == [ZIPS["worker"]]
    # The command line wins over the environment.
    proc = app.hatchling("-t", "lambda:api", HATCH_LAMBDA_ARTIFACTS="worker")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.stem for p in app.artifacts()) == sorted(ZIPS.values())
    proc = app.hatchling("-t", "lambda:wrker")
    assert proc.returncode != 0
    assert "-t lambda:wrker: 'wrker' (did you mean 'worker'?) is not an artifact" in proc.stderr
    assert "Traceback" not in proc.stderr
    # `-t lambda` alone, or `-t lambda:standard`, builds them all.
    _change_code(app)
    proc = app.hatchling("-t", "lambda:standard", "--clean")
    assert proc.returncode == 0, proc.stderr
    assert "Building 1 of" not in proc.stderr
    assert sorted(p.stem for p in app.artifacts()) == sorted(ZIPS.values())
