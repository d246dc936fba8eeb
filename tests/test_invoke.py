"""`hatch-lambda invoke`: a built function zip, with its layer, called as Lambda would call it, in a
CPython of the runtime's version (arm64 under qemu), isolated from the host's site-packages."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from support.project import Project, clean_env
from support.pythons import ARM64_ROOT, find_python, missing, qemu_python

RUNTIMES = ["python3.9", "python3.10", "python3.11", "python3.12", "python3.13"]
HANDLERS = "fx_invoked.handlers"
# Variables of this machine that must not reach the function, nor choose its interpreter here.
_HOST_ONLY = ("HATCH_LAMBDA_ARM64_ROOT", "HATCH_LAMBDA_PYTHON_311_ARM64", "AWS_REGION",
              "AWS_DEFAULT_REGION")  # fmt: skip


def short(runtime: str) -> str:
    return "fn" + runtime.removeprefix("python3.")


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory, build_cache: Path, index_url: str) -> Path:
    """A layer holding the dependencies for every runtime, a function of code alone deployed
    with it for each runtime, and an arm64 function holding everything; built once."""
    root = tmp_path_factory.mktemp("invoked")
    project = Project.copy(root / "project", clean_env(build_cache), index_url, name="invoked")
    artifacts: dict[str, Any] = {
        "deps": {"kind": "layer", "runtimes": RUNTIMES, "contents": "dependencies"},
        "arm": {"runtime": "python3.11", "architecture": "arm64", "handler": f"{HANDLERS}.echo"},
    }
    for runtime in RUNTIMES:
        artifacts[short(runtime)] = {"runtime": runtime, "handler": f"{HANDLERS}.echo",
                                     "layers": ["deps"], "contents": "project"}  # fmt: skip
    project.configure({"runtime": "python3.12", "artifacts": artifacts})
    project.build_wheel()
    return project.lambda_dir


def function(dist: Path, name: str = "fn12") -> Path:
    [found] = dist.glob(f"fx_invoked-0.1.0-{name}-*.zip")
    return found


def invoke(*args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in _HOST_ONLY}
    return subprocess.run(
        [sys.executable, "-m", "hatch_lambda", "invoke", *args], input=stdin,
        capture_output=True, text=True, timeout=120, check=False, env={**base, **env},
    )  # fmt: skip


def answered(proc: subprocess.CompletedProcess[str], code: int = 0) -> Any:
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr or code, proc.stderr
    return json.loads(proc.stdout)


def refused(proc: subprocess.CompletedProcess[str], *words: str) -> str:
    """hatch-lambda's own error: exit 1, one message, no traceback, nothing on stdout."""
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.startswith("hatch-lambda: ") and "Traceback" not in proc.stderr
    for word in words:
        assert word in proc.stderr
    return proc.stderr


def test_the_return_value_is_printed_as_json(dist: Path, tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text('{"ping": [1, "two"]}')
    proc = invoke(str(function(dist)), "--event", str(event))
    result = answered(proc)
    assert result["event"] == {"ping": [1, "two"]}
    assert result["python"] == "3.12"
    # What the handler prints goes to stderr, with Lambda's START, END and REPORT lines.
    assert "hello from the handler" in proc.stderr and "hello" not in proc.stdout
    for line in ("START RequestId:", "END RequestId:", "REPORT RequestId:"):
        assert line in proc.stderr


def test_the_event_from_stdin_or_none(dist: Path) -> None:
    result = answered(invoke(str(function(dist)), "--event", "-", stdin='"just a string"'))
    assert result["event"] == "just a string"
    assert answered(invoke(str(function(dist))))["event"] == {}


def test_lambdas_paths_environment_and_context(dist: Path) -> None:
    proc = invoke(
        str(function(dist)), "--timeout", "7", "--memory", "512", "--function-name", "api",
        "--region", "eu-west-1", "--env", "GREETING=hi",
        PYTHONPATH="/somewhere/else", AWS_REGION="ap-south-1",
    )  # fmt: skip
    result = answered(proc)
    env, context, path = result["environment"], result["context"], result["path"]
    task = env["LAMBDA_TASK_ROOT"]
    opt = str(Path(task).parents[1] / "opt")
    assert path[:3] == [task, f"{opt}/python/lib/python3.12/site-packages", f"{opt}/python"]
    assert not any("site-packages" in p for p in path[3:]), path
    assert result["cwd"] == task
    assert {k: v for k, v in env.items() if k not in ("LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
                                                     "PATH", "LD_LIBRARY_PATH")} == {
        "AWS_LAMBDA_FUNCTION_NAME": "api", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1", "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "_HANDLER": f"{HANDLERS}.echo", "TZ": ":UTC", "LANG": "en_US.UTF-8",
        "PYTHONPATH": None, "GREETING": "hi",
    }  # fmt: skip
    libraries = env["LD_LIBRARY_PATH"].split(":")
    assert libraries.index(f"{task}/lib") < libraries.index(f"{opt}/lib")
    assert env["PATH"].endswith(f":{opt}/bin")
    assert context["function_name"] == "api" and context["memory_limit_in_mb"] == "512"
    assert context["invoked_function_arn"] == "arn:aws:lambda:eu-west-1:123456789012:function:api"
    assert context["aws_request_id"] in proc.stderr
    assert context["log_group_name"] == "/aws/lambda/api"
    assert 6000 < context["remaining"] <= 7000


def test_the_remaining_time_counts_down_from_the_timeout(dist: Path) -> None:
    before, after = answered(invoke(
        str(function(dist)), "--handler", f"{HANDLERS}.remaining_after", "--event", "-",
        stdin='{"seconds": 0.3}',
    ))  # fmt: skip
    assert 2500 < before <= 3000
    assert 250 <= before - after < 1500


def test_the_hosts_site_packages_are_not_visible(dist: Path) -> None:
    importable = answered(invoke(str(function(dist))))["importable"]
    # pytest and hatch-lambda are installed where the tests run; fx_pure comes from the layer.
    assert importable == {"fx_pure": True, "pytest": False, "hatch_lambda": False}


def test_the_layers_module_comes_from_opt(dist: Path, tmp_path: Path) -> None:
    zip_path = function(dist)
    with zipfile.ZipFile(zip_path) as zf:
        assert not any(n.startswith("fx_pure") for n in zf.namelist())
    argv = [str(zip_path), "--handler", f"{HANDLERS}.fx_pure_tag"]
    found = answered(invoke(*argv))
    assert found["tag"] == "py3-none-any"
    assert found["file"].endswith("/opt/python/fx_pure/__init__.py")  # the local /opt
    # Moved away from its layer, the function says where to find it, and takes it as --layer.
    alone = tmp_path / zip_path.name
    shutil.copy(zip_path, alone)
    shutil.copy(zip_path.with_suffix(".json"), alone.with_suffix(".json"))
    refused(invoke(str(alone)), "names layer 'deps'", "--layer")
    [layer] = dist.glob("fx_invoked-0.1.0-deps-*.zip")
    found = answered(invoke(str(alone), "--layer", str(layer), "--handler", argv[-1]))
    assert found["file"].endswith("/opt/python/fx_pure/__init__.py")


def test_an_exception_has_lambdas_error_shape(dist: Path) -> None:
    proc = invoke(str(function(dist)), "--handler", f"{HANDLERS}.boom", "--event", "-",
                  stdin='{"why": "testing"}')  # fmt: skip
    error = answered(proc, 1)
    assert set(error) == {"errorMessage", "errorType", "requestId", "stackTrace"}
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "boom: testing")
    assert error["requestId"] in proc.stderr
    [frame] = error["stackTrace"]
    assert frame.startswith('  File "/var/task/fx_invoked/handlers.py", line ')
    assert "in boom" in frame
    assert "[ERROR] ValueError: boom: testing" in proc.stderr


@pytest.mark.parametrize(
    ("handler", "kind", "message"),
    [
        (f"{HANDLERS}.nope", "Runtime.HandlerNotFound",
         f"Handler 'nope' missing on module '{HANDLERS}'"),
        ("fx_invoked.absent.handler", "Runtime.ImportModuleError",
         "Unable to import module 'fx_invoked.absent': No module named 'fx_invoked.absent'"),
        ("handler", "Runtime.MalformedHandlerName", "Bad handler 'handler': "),
        (f"{HANDLERS}.unserializable", "Runtime.MarshalError",
         "Unable to marshal response: Object of type set is not JSON serializable"),
    ],
)  # fmt: skip
def test_the_runtimes_own_errors(dist: Path, handler: str, kind: str, message: str) -> None:
    error = answered(invoke(str(function(dist)), "--handler", handler), 1)
    assert error["errorType"] == kind
    assert error["errorMessage"].startswith(message)
    assert error["stackTrace"] == []


def test_a_handler_running_past_the_timeout_is_stopped(dist: Path) -> None:
    began = time.monotonic()
    proc = invoke(str(function(dist)), "--handler", f"{HANDLERS}.slow", "--timeout", "1")
    assert time.monotonic() - began < 10
    error = answered(proc, 1)
    assert error["errorType"] == "Sandbox.Timedout"
    assert error["errorMessage"].endswith("Task timed out after 1.00 seconds")
    assert "going to sleep" in proc.stderr


def test_a_zip_made_by_hand_and_code_that_ends_the_process(tmp_path: Path) -> None:
    if find_python("3.12") is None:
        missing("no CPython 3.12 on this machine to invoke a python3.12 function with")
    zip_path = tmp_path / "hand.zip"
    with zipfile.ZipFile(zip_path, "w") as zf:
        zf.writestr("app.py", "import sys\ndef leave(e, c):\n    sys.exit(3)\n")
        zf.writestr("loud.py", "raise RuntimeError('at import')\n")
        zf.writestr("broken.py", "def f(:\n")
    argv = [str(zip_path), "--runtime", "python3.12", "--handler"]
    error = answered(invoke(*argv, "app.leave"), 1)
    assert error["errorType"] == "Runtime.ExitError"
    assert error["errorMessage"].endswith("Runtime exited with error: exit status 3")
    error = answered(invoke(*argv, "loud.f"), 1)
    assert (error["errorType"], error["errorMessage"]) == ("RuntimeError", "at import")
    assert error["stackTrace"][-1].startswith('  File "/var/task/loud.py", line 1, in <module>')
    error = answered(invoke(*argv, "broken.f"), 1)
    assert error["errorType"] == "Runtime.UserCodeSyntaxError"
    assert error["stackTrace"] == ['  File "/var/task/broken.py" Line 1\n    def f(:\n']


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_each_runtime_runs_its_own_python(dist: Path, runtime: str) -> None:
    version = runtime.removeprefix("python")
    if find_python(version) is None:
        missing(f"no CPython {version} on this machine to invoke a {runtime} function with")
    result = answered(invoke(str(function(dist, short(runtime)))))
    assert result["python"] == version
    assert result["environment"]["AWS_EXECUTION_ENV"] == f"AWS_Lambda_{runtime}"
    assert result["path"][1].endswith(f"/opt/python/lib/{runtime}/site-packages")
    assert result["importable"] == {"fx_pure": True, "pytest": False, "hatch_lambda": False}


@pytest.mark.qemu
def test_arm64_runs_under_qemu(dist: Path) -> None:
    if qemu_python() is None:
        missing("no qemu-aarch64 and arm64 root with Python 3.11 (run .ci/arm64-root.sh)")
    proc = invoke(str(function(dist, "arm")), HATCH_LAMBDA_ARM64_ROOT=str(ARM64_ROOT))
    result = answered(proc)
    assert (result["python"], result["machine"]) == ("3.11", "aarch64")
    assert result["importable"] == {"fx_pure": True, "pytest": False, "hatch_lambda": False}
    assert "under qemu-aarch64" in proc.stderr


def test_arm64_without_an_arm64_python_says_what_is_needed(dist: Path) -> None:
    refused(invoke(str(function(dist, "arm"))), "HATCH_LAMBDA_ARM64_ROOT",
            "HATCH_LAMBDA_PYTHON_311_ARM64", "qemu-aarch64", "debootstrap")  # fmt: skip
    refused(invoke(str(function(dist, "arm")), HATCH_LAMBDA_ARM64_ROOT="/nonexistent"),
            "HATCH_LAMBDA_ARM64_ROOT=/nonexistent has no python3.11")  # fmt: skip


def test_bad_input_is_a_message_not_a_traceback(dist: Path, tmp_path: Path) -> None:
    zip_path = function(dist)
    bad_event = tmp_path / "bad.json"
    bad_event.write_text("{not json")
    refused(invoke(str(zip_path), "--event", str(bad_event)), "is not JSON")
    refused(invoke(str(zip_path), "--event", str(tmp_path / "absent.json")),
            "cannot read the event")  # fmt: skip
    refused(invoke(str(tmp_path / "absent.zip")), "does not exist")
    not_a_zip = tmp_path / "junk.zip"
    not_a_zip.write_bytes(b"PK\x03\x04 this is not a zip")
    refused(invoke(str(not_a_zip), "--runtime", "python3.12", "--handler", "a.b"),
            "is not a zip Lambda can unpack")  # fmt: skip
    # A zip without its manifest: the command line must say what the manifest would have.
    alone = tmp_path / "alone.zip"
    shutil.copy(zip_path, alone)
    refused(invoke(str(alone)), "--runtime python3.X")
    refused(invoke(str(alone), "--runtime", "python3.12"), "--handler module.function")
    [layer] = dist.glob("fx_invoked-0.1.0-deps-*.zip")
    refused(invoke(str(layer)), "is a layer")
    damaged = tmp_path / zip_path.name
    shutil.copy(zip_path, damaged)
    damaged.with_suffix(".json").write_text("[1]")
    refused(invoke(str(damaged)), "not the JSON object")
    refused(invoke(str(zip_path), "--env", "AWS_REGION=x"), "AWS_REGION")
    no_python = {"HATCH_LAMBDA_PYTHON_312": "/nonexistent/python3.12", "PYENV_ROOT": "/nonexistent",
                 "PATH": str(tmp_path)}  # fmt: skip
    refused(invoke(str(zip_path), **no_python), "needs a CPython 3.12 interpreter",
            "HATCH_LAMBDA_PYTHON_312")  # fmt: skip
