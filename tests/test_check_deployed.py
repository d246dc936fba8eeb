"""`hatch-lambda check` judges an artifact as the build did, from the manifest beside it: the
layers a function is deployed with, the runtime's boto3, wheels built in the runtime's image, the
handler, and the options the build's audit took; several artifacts at once, for CI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from hatch_lambda.check import artifact_paths, manifest_path
from support.project import Project
from support.zips import make_zip

HANDLER = "fx_app.handler.handler"
TARGET = ["--runtime", "python3.11", "--architecture", "x86_64"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hatch_lambda", *args], capture_output=True, text=True, check=False
    )


def check_json(*args: str) -> tuple[int, dict[str, Any]]:
    proc = cli("check", "--json", *args)
    return proc.returncode, json.loads(proc.stdout)


def findings(report: dict[str, Any], severity: str = "error") -> dict[tuple[str, str], str]:
    return {
        (f["rule"], f["path"]): f["message"]
        for f in report["findings"]
        if f["severity"] == severity
    }


def edit_manifest(path: Path, **changes: Any) -> None:
    where = manifest_path(path)
    data = json.loads(where.read_text())
    data.update(changes)
    for key in [k for k, v in changes.items() if v is None]:
        del data[key]
    where.write_text(json.dumps(data))


@pytest.fixture
def deployed(app: Project) -> Project:
    """A layer for two runtimes, a function deployed with it, code alone, a function that counts
    on the runtime's boto3, and a wheelhouse: what a build writes, each with its manifest."""
    app.configure({
        "runtime": "python3.12",
        "artifacts": {
            "deps": {"kind": "layer", "runtimes": ["python3.11", "python3.12"],
                     "contents": "dependencies"},
            "api": {"handler": HANDLER, "layers": ["deps"]},
            "worker": {"handler": HANDLER, "contents": "project"},
            "lean": {"handler": HANDLER, "extras": ["aws"], "exclude-runtime-provided": True},
            "wheels": {"kind": "wheelhouse"},
        },
    })  # fmt: skip
    app.build_wheel()
    return app


def out(project: Project, name: str) -> Path:
    return project.lambda_dir / name


API = "fx_app-1.2.3-api-python3.12-x86_64.zip"
LAYER = "fx_app-1.2.3-deps-python3.11+python3.12-x86_64.zip"
LEAN = "fx_app-1.2.3-lean-python3.12-x86_64.zip"
WHEELS = "fx_app-1.2.3-wheels-python3.12-x86_64-wheelhouse"


def test_every_artifact_a_build_wrote_passes(deployed: Project) -> None:
    everything = sorted(str(p) for p in deployed.lambda_dir.iterdir())  # dist-lambda/*
    proc = cli("check", *everything)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "5 artifacts: 5 pass, 0 fail" in proc.stdout
    code, report = check_json(*everything)
    assert code == 0 and report["passed"] is True
    shown = {Path(a["artifact"]).name: a for a in report["artifacts"]}
    assert set(shown) == {API, LAYER, LEAN, WHEELS, "fx_app-1.2.3-worker-python3.12-x86_64.zip"}
    assert all(a["findings"] == [] for a in shown.values()), shown
    assert shown[LAYER]["runtimes"] == ["python3.11", "python3.12"]
    assert (shown[LAYER]["kind"], shown[WHEELS]["kind"]) == ("layer", "wheelhouse")
    manifest = json.loads(manifest_path(out(deployed, LEAN)).read_text())
    assert manifest["exclude-runtime-provided"] is True and manifest["extras"] == ["aws"]
    assert json.loads(manifest_path(out(deployed, API)).read_text())["layer-files"] == {
        "deps": LAYER
    }


def test_without_what_the_manifest_says_the_same_zips_fail(deployed: Project) -> None:
    """What check used to say of them: the layer's and the runtime's distributions missing."""
    api, lean = out(deployed, API), out(deployed, LEAN)
    manifest_path(api).unlink()
    code, report = check_json(str(api), "--runtime", "python3.12", "--architecture", "x86_64")
    assert code == 1 and {rule for rule, _ in findings(report)} == {"closure"}
    edit_manifest(lean, **{"exclude-runtime-provided": False})
    code, report = check_json(str(lean))
    messages = findings(report).values()
    assert code == 1 and any("requires boto3" in m and "not in the bundle" in m for m in messages)


def test_a_layer_found_beside_or_given_with_layer(deployed: Project, tmp_path: Path) -> None:
    api = out(deployed, API)
    moved = tmp_path / "elsewhere.zip"
    shutil.move(out(deployed, LAYER), moved)
    shutil.move(manifest_path(out(deployed, LAYER)), manifest_path(moved))
    code, report = check_json(str(api))
    assert code == 1
    [(rule, where)] = list(findings(report))
    assert (rule, where) == ("layers", "fx_app-1.2.3-api-python3.12-x86_64.json")
    assert (
        "names layer 'deps', and no layer artifact of that name is beside it"
        in (findings(report)[(rule, where)])
    )
    # What the build left out for the layer counts as present meanwhile: no closure findings.
    assert cli("check", str(api), "--warn", "layers").returncode == 0
    code, report = check_json(str(api), "--layer", str(moved))
    assert code == 0, report
    # A layer given by hand without its manifest counts all the same.
    manifest_path(moved).unlink()
    assert cli("check", str(api), "--layer", str(moved)).returncode == 0


def test_a_layer_for_another_architecture_does_not_fit(deployed: Project, tmp_path: Path) -> None:
    layer = out(deployed, LAYER)
    edit_manifest(layer, architecture="arm64")
    code, report = check_json(str(out(deployed, API)))
    assert code == 1
    assert findings(report) == {
        (
            "layers",
            LAYER,
        ): "layer deps is built for arm64, not x86_64, so the function cannot use it"
    }


def test_the_size_rule_counts_the_layers_within_the_builds_limit(deployed: Project) -> None:
    api = out(deployed, API)
    with zipfile.ZipFile(api) as zf:
        own = sum(i.file_size for i in zf.infolist())
    edit_manifest(api, **{"max-unzipped-size": own + 1})
    code, report = check_json(str(api))
    assert code == 1
    [message] = [m for (rule, _), m in findings(report).items() if rule == "size"]
    assert f"over your max-unzipped-size of {own + 1:,}" in message and "layer deps" in message


def test_the_handler_comes_from_the_manifest(deployed: Project) -> None:
    api = out(deployed, API)
    edit_manifest(api, handler="fx_app.handler.nowhere")
    code, report = check_json(str(api))
    assert code == 1 and list(findings(report)) == [("handler", "fx_app/handler.py")]
    # --handler wins.
    assert cli("check", str(api), "--handler", HANDLER).returncode == 0


def test_audit_warn_of_the_build_is_kept(deployed: Project) -> None:
    api = out(deployed, API)
    edit_manifest(api, handler="fx_app.handler.nowhere", **{"audit-warn": ["handler"]})
    code, report = check_json(str(api))
    assert code == 0 and list(findings(report, "warning")) == [("handler", "fx_app/handler.py")]


def test_runtime_provided_from_an_older_manifest(deployed: Project) -> None:
    """Manifests written before the option was recorded say so in left-out."""
    lean = out(deployed, LEAN)
    edit_manifest(lean, **{"exclude-runtime-provided": None, "extras": None})
    assert cli("check", str(lean)).returncode == 0


def test_a_zip_changed_after_the_build_is_refused(deployed: Project, tmp_path: Path) -> None:
    api, lean = out(deployed, API), out(deployed, LEAN)
    with zipfile.ZipFile(api, "a") as zf:
        zf.writestr("added.txt", "later")
    proc = cli("check", str(api), str(lean))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"{manifest_path(api)} does not describe {API}: it records sha256" in proc.stderr
    assert "Rebuild it, or delete the manifest" in proc.stderr
    assert f"{LEAN} passes" in proc.stdout  # the others are still checked
    assert "2 artifacts: 1 pass, 1 fail" in proc.stdout
    code, report = check_json(str(api), str(lean))
    errors = [a for a in report["artifacts"] if "error" in a]
    assert code == 1 and len(errors) == 1 and "does not describe" in errors[0]["error"]


def test_a_wheelhouse_is_checked_against_its_hashes(deployed: Project) -> None:
    folder = out(deployed, WHEELS)
    assert (
        manifest_path(folder) == deployed.lambda_dir / "fx_app-1.2.3-wheels-python3.12-x86_64.json"
    )
    wheel = next(folder.glob("fx_pure-*.whl"))
    with zipfile.ZipFile(wheel, "a") as zf:
        zf.writestr("fx_pure/extra.py", "")
    code, report = check_json(str(folder))
    assert code == 1 and list(findings(report)) == [("wheelhouse", wheel.name)]
    assert "none of the hashes there" in findings(report)[("wheelhouse", wheel.name)]


def test_manifests_given_stand_for_their_artifacts(tmp_path: Path) -> None:
    (tmp_path / "a.zip").write_bytes(b"")
    (tmp_path / "w-wheelhouse").mkdir()
    given = [str(tmp_path / n) for n in ("a.json", "a.zip", "w.json", "other.json")]
    assert artifact_paths(given) == [tmp_path / "a.zip", tmp_path / "w-wheelhouse",
                                     tmp_path / "other.json"]  # fmt: skip


# Wheels built from an sdist in the runtime's build image carry a plain linux tag.

NATIVE_WHEEL = "Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp311-cp311-linux_x86_64\n"


def native_zip(tmp_path: Path, tag: str = "cp311-cp311-linux_x86_64") -> Path:
    info = "fx_cext-1.0.dist-info"
    return make_zip(tmp_path / "app.zip", [
        ("app.py", b"def handler(event, context):\n    return 1\n"),
        ("fx_cext/__init__.py", b""),
        (f"{info}/METADATA", b"Metadata-Version: 2.1\nName: fx-cext\nVersion: 1.0\n"),
        (f"{info}/WHEEL", NATIVE_WHEEL.replace("cp311-cp311-linux_x86_64", tag).encode()),
        (f"{info}/RECORD", f"fx_cext/__init__.py,,\n{info}/METADATA,,\n{info}/WHEEL,,\n".encode()),
    ])  # fmt: skip


def container_manifest(path: Path, origin: str = "container", **more: Any) -> None:
    manifest_path(path).write_text(json.dumps({
        "kind": "function", "runtime": "python3.11", "runtimes": ["python3.11"],
        "architecture": "x86_64", "handler": "app.handler",
        "packages": [{"name": "fx-cext", "version": "1.0", "origin": origin,
                      "wheel": "fx_cext-1.0-cp311-cp311-linux_x86_64.whl",
                      "tags": ["cp311-cp311-linux_x86_64"], "runtimes": ["python3.11"]}],
        **more,
    }))  # fmt: skip


def test_a_wheel_built_in_the_image_passes_with_the_manifest(tmp_path: Path) -> None:
    path = native_zip(tmp_path)
    container_manifest(path)
    code, report = check_json(str(path))
    assert code == 0 and report["findings"] == []
    # A manifest written before origin "container": sdist, from pip in the container.
    container_manifest(path, "sdist", resolver="pip (container)")
    assert check_json(str(path)) == (0, report)


def test_a_plain_linux_tag_without_the_manifest_is_a_warning_saying_why(tmp_path: Path) -> None:
    path = native_zip(tmp_path)
    code, report = check_json(str(path), *TARGET)
    assert code == 0
    [message] = findings(report, "warning").values()
    assert "a plain linux tag is what a wheel built from source has" in message
    assert "hatch-lambda's container mode builds such wheels in the runtime's image" in message
    container_manifest(path, "index")  # the manifest does not say it was built in the image
    code, report = check_json(str(path))
    assert code == 0 and list(findings(report, "warning")) == [
        ("wheel-tags", "fx_cext-1.0.dist-info/WHEEL")
    ]


def test_a_plain_linux_tag_for_another_machine_or_python_fails(tmp_path: Path) -> None:
    for tag in ("cp311-cp311-linux_aarch64", "cp312-cp312-linux_x86_64"):
        path = native_zip(tmp_path, tag)
        container_manifest(path)
        code, report = check_json(str(path))
        assert code == 1 and list(findings(report)) == [
            ("wheel-tags", "fx_cext-1.0.dist-info/WHEEL")
        ]
