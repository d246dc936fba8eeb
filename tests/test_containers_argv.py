"""Container mode's engine layer: finding an engine and the exact command lines it is given."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hatch_lambda import containers
from hatch_lambda.containers import (
    ENGINE_ENV,
    Engine,
    Mount,
    RunSpec,
    build_argv,
    build_env,
    check_engine_running,
    default_image,
    ensure_image,
    find_engine,
    image_exists_argv,
    pull_argv,
    run_argv,
    run_env,
    run_in_container,
    volume_copy_plan,
)
from hatch_lambda.errors import ToolError
from support.report import Recorder

IMAGE = "public.ecr.aws/sam/build-python3.12:latest-arm64"
ARM = "linux/arm64"
DOCKER = Engine("docker", "/usr/bin/docker")
PODMAN = Engine("podman", "/usr/bin/podman")
FINCH = Engine("finch", "/usr/local/bin/finch")
SECRET_URL = "https://u:tok@host/simple"
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="uid:gid exists on POSIX only")


def on_path(*names: str) -> Callable[[str], str | None]:
    return lambda name: f"/bin/{name}" if name in names else None


@dataclass
class Call:
    argv: list[str]
    what: str
    env: Mapping[str, str | None] | None


@dataclass
class FakeRun:
    """Stands in for _subprocess.run: records calls; *outcome* gives (exit status, output)."""

    outcome: Callable[[list[str]], tuple[int, str]] = lambda argv: (0, "")
    calls: list[Call] = field(default_factory=list)

    def __call__(
        self,
        argv: Sequence[str],
        *,
        what: str,
        reporter: object,
        env: Mapping[str, str | None] | None = None,
        cwd: Path | None = None,
        advice: str = "",
        show_output: int | None = None,
    ) -> subprocess.CompletedProcess[str]:
        self.calls.append(Call(list(argv), what, env))
        status, output = self.outcome(list(argv))
        if status:
            # The same shape as _subprocess.run's message.
            raise ToolError(
                f"{what} failed (exit status {status}).\n  command: {' '.join(argv)}\n"
                f"  last lines of its output:\n    {output}" + (f"\n  {advice}" if advice else "")
            )
        return subprocess.CompletedProcess(list(argv), 0, output, "")

    @property
    def argvs(self) -> list[list[str]]:
        return [call.argv for call in self.calls]


@pytest.fixture
def fake_run(monkeypatch: pytest.MonkeyPatch) -> FakeRun:
    fake = FakeRun()
    monkeypatch.setattr(containers, "run", fake)
    return fake


# find_engine


@pytest.mark.parametrize(
    ("present", "expected"),
    [
        (("docker", "podman", "finch"), DOCKER.name),
        (("podman", "finch"), "podman"),
        (("finch",), "finch"),
        (("finch", "docker"), "docker"),
    ],
)
@pytest.mark.parametrize("choice", [True, "auto"])
def test_auto_takes_the_first_engine_in_order(
    present: tuple[str, ...], expected: str, choice: str | bool
) -> None:
    engine = find_engine(choice, environ={}, which=on_path(*present))
    assert engine == Engine(expected, f"/bin/{expected}")


def test_a_named_engine_is_used_even_when_an_earlier_one_exists() -> None:
    which = on_path("docker", "podman", "finch")
    assert find_engine("podman", environ={}, which=which) == Engine("podman", "/bin/podman")


@pytest.mark.parametrize("choice", [True, "docker"])
def test_the_environment_variable_overrides_the_choice(choice: str | bool) -> None:
    which = on_path("docker", "podman", "finch")
    environ = {ENGINE_ENV: "Finch"}
    assert find_engine(choice, environ=environ, which=which) == Engine("finch", "/bin/finch")


def test_the_environment_variable_may_ask_for_auto() -> None:
    engine = find_engine("finch", environ={ENGINE_ENV: "auto"}, which=on_path("podman", "finch"))
    assert engine == Engine("podman", "/bin/podman")


def test_a_named_engine_that_is_missing_names_it_and_the_ones_found() -> None:
    with pytest.raises(ToolError) as caught:
        find_engine("finch", environ={}, which=on_path("docker", "podman"))
    message = str(caught.value)
    assert message.startswith(
        "container engine 'finch' (container = \"finch\") was not found on PATH."
    )
    assert "Found on PATH instead: docker, podman." in message


def test_an_engine_missing_from_the_environment_variable_names_the_variable() -> None:
    with pytest.raises(ToolError) as caught:
        find_engine(True, environ={ENGINE_ENV: "podman"}, which=on_path())
    message = str(caught.value)
    assert f"'podman' ({ENGINE_ENV}=podman) was not found on PATH" in message
    assert "No other container engine was found either" in message
    assert "apt-get install podman" in message


def test_no_engine_at_all_names_every_engine_and_how_to_install_one() -> None:
    with pytest.raises(ToolError) as caught:
        find_engine(True, environ={}, which=on_path())
    message = str(caught.value)
    assert "none of docker, podman, finch was found on PATH" in message
    for hint in (
        "Docker Desktop",
        "Docker Engine",
        "apt-get install podman",
        "brew install --cask finch",
    ):
        assert hint in message


def test_an_unknown_environment_value_lists_the_allowed_names() -> None:
    with pytest.raises(ToolError) as caught:
        find_engine(True, environ={ENGINE_ENV: "nerdctl"}, which=on_path("docker"))
    message = str(caught.value)
    assert f"{ENGINE_ENV}='nerdctl' does not name a container engine" in message
    assert "docker, podman, finch or auto" in message


def test_an_unknown_choice_is_refused() -> None:
    with pytest.raises(ToolError, match=r"container = 'lxc' does not name a container engine"):
        find_engine("lxc", environ={}, which=on_path("docker"))


# check_engine_running


@pytest.mark.parametrize(
    ("engine", "hint"),
    [
        (DOCKER, "`sudo systemctl start docker`"),
        (PODMAN, "`podman machine start`"),
        (FINCH, "`finch vm start`"),
    ],
)
def test_an_engine_that_does_not_answer_says_how_to_start_it(
    engine: Engine, hint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeRun(lambda argv: (1, "Cannot connect to the engine"))
    monkeypatch.setattr(containers, "run", fake)
    with pytest.raises(ToolError) as caught:
        check_engine_running(engine, Recorder())
    assert fake.argvs == [[engine.path, "info"]]
    message = str(caught.value)
    assert f"checking that {engine.name} is running" in message
    assert "is installed but" in message
    assert hint in message
    assert "Cannot connect to the engine" in message


def test_a_running_engine_passes(fake_run: FakeRun) -> None:
    check_engine_running(DOCKER, Recorder())
    assert fake_run.argvs == [["/usr/bin/docker", "info"]]


def test_the_check_goes_through_the_real_runner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `python info` fails as a stopped daemon would: the real runner's error keeps the advice.
    engine = Engine("docker", sys.executable)
    monkeypatch.chdir(tmp_path)  # no file called "info" here
    with pytest.raises(ToolError) as caught:
        check_engine_running(engine, Recorder())
    message = str(caught.value)
    assert f"command: {sys.executable} info" in message
    assert "start Docker Desktop" in message


# run_argv and run_env


def full_spec(**changes: object) -> RunSpec:
    values: dict[str, object] = {
        "image": IMAGE,
        "platform": ARM,
        "command": ["bash", "-c", "pip install -r /asset-input/r.txt -t /asset-output"],
        "mounts": [
            Mount(Path("/work/in"), "/asset-input", read_only=True),
            Mount(Path("/work/out"), "/asset-output"),
        ],
        "workdir": "/asset-input",
        "environment": {"PIP_NO_CACHE_DIR": "1", "HOME": "/tmp", "PIP_INDEX_URL": SECRET_URL},
        "network": "host",
        "security_opt": "label=disable",
        "user": "1000:1000",
        "volumes": ["/cache:/root/.cache", "/certs:/certs:ro"],
        "volumes_from": ["data-a", "data-b"],
    }
    values.update(changes)
    return RunSpec(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("engine", [DOCKER, PODMAN, FINCH], ids=lambda e: e.name)
def test_run_argv_with_every_option(engine: Engine) -> None:
    assert run_argv(engine, full_spec()) == [
        engine.path,
        "run",
        "--rm",
        "--platform",
        ARM,
        "--network",
        "host",
        "--security-opt",
        "label=disable",
        "--user",
        "1000:1000",
        "-w",
        "/asset-input",
        "-v",
        f"{Path('/work/in')}:/asset-input:ro",
        "-v",
        f"{Path('/work/out')}:/asset-output",
        "-v",
        "/cache:/root/.cache",
        "-v",
        "/certs:/certs:ro",
        "--volumes-from",
        "data-a",
        "--volumes-from",
        "data-b",
        "-e",
        "HOME",
        "-e",
        "PIP_INDEX_URL",
        "-e",
        "PIP_NO_CACHE_DIR",
        IMAGE,
        "bash",
        "-c",
        "pip install -r /asset-input/r.txt -t /asset-output",
    ]


@posix_only
@pytest.mark.parametrize("engine", [DOCKER, FINCH], ids=lambda e: e.name)
def test_run_argv_defaults_run_as_the_invoking_user(engine: Engine) -> None:
    spec = RunSpec(image=IMAGE, platform="linux/amd64", command=["python3", "-V"])
    assert run_argv(engine, spec) == [
        engine.path,
        "run",
        "--rm",
        "--platform",
        "linux/amd64",
        "--user",
        f"{os.getuid()}:{os.getgid()}",
        IMAGE,
        "python3",
        "-V",
    ]


def test_podman_defaults_to_the_container_root_which_rootless_podman_maps_to_the_user() -> None:
    spec = RunSpec(image=IMAGE, platform="linux/amd64", command=["python3", "-V"])
    assert run_argv(PODMAN, spec) == [
        PODMAN.path,
        "run",
        "--rm",
        "--platform",
        "linux/amd64",
        IMAGE,
        "python3",
        "-V",
    ]


def test_an_empty_user_passes_no_user() -> None:
    spec = RunSpec(image=IMAGE, platform=ARM, command=["true"], user="")
    assert run_argv(DOCKER, spec) == [DOCKER.path, "run", "--rm", "--platform", ARM, IMAGE, "true"]


def test_a_secret_value_stays_off_the_command_line_and_reaches_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HL_TEST_OUTER", "kept")
    spec = RunSpec(
        image=IMAGE,
        platform=ARM,
        command=["pip", "download", "x"],
        environment={"PIP_INDEX_URL": SECRET_URL},
    )
    argv = run_argv(DOCKER, spec)
    assert not [arg for arg in argv if "tok" in arg]
    at = argv.index("-e")
    assert argv[at : at + 2] == ["-e", "PIP_INDEX_URL"]
    env = run_env(spec)
    assert env["PIP_INDEX_URL"] == SECRET_URL
    assert env["HL_TEST_OUTER"] == "kept"


def test_an_environment_name_with_a_value_in_it_is_refused() -> None:
    spec = RunSpec(image=IMAGE, platform=ARM, command=["true"], environment={"A=tok": "x"})
    with pytest.raises(ToolError, match="environment variable name 'A=tok' cannot be passed"):
        run_argv(DOCKER, spec)


@posix_only
def test_a_host_path_with_a_colon_cannot_be_bind_mounted() -> None:
    spec = RunSpec(image=IMAGE, platform=ARM, command=["true"], mounts=[Mount(Path("/a:b"), "/x")])
    with pytest.raises(ToolError, match=r"cannot bind-mount /a:b into the container"):
        run_argv(DOCKER, spec)


# pull, build, image inspect


def test_pull_and_image_inspect_argv() -> None:
    assert pull_argv(PODMAN, IMAGE, ARM) == [PODMAN.path, "pull", "--platform", ARM, IMAGE]
    assert image_exists_argv(FINCH, IMAGE) == [FINCH.path, "image", "inspect", IMAGE]


def test_build_argv_names_build_args_without_their_values() -> None:
    args = {"TOKEN": "s3cret-value", "BASE": "python3.12"}
    argv = build_argv(
        DOCKER, Path("/ctx/Containerfile"), Path("/ctx"), "hatch-lambda-build:0123", ARM, args
    )
    assert argv == [
        DOCKER.path,
        "build",
        "--platform",
        ARM,
        "-f",
        str(Path("/ctx/Containerfile")),
        "-t",
        "hatch-lambda-build:0123",
        "--build-arg",
        "BASE",
        "--build-arg",
        "TOKEN",
        str(Path("/ctx")),
    ]
    assert not [arg for arg in argv if "s3cret" in arg]
    assert build_env(args)["TOKEN"] == "s3cret-value"


def build_with(
    tmp_path: Path, content: str, build_args: dict[str, str], platform: str = ARM
) -> tuple[str, FakeRun]:
    containerfile = tmp_path / "Containerfile"
    containerfile.write_text(content)
    fake = FakeRun()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(containers, "run", fake)
        tag = ensure_image(
            DOCKER, IMAGE, platform, Recorder(), containerfile=containerfile, build_args=build_args
        )
    return tag, fake


def test_a_containerfile_is_built_and_its_tag_returned(tmp_path: Path) -> None:
    tag, fake = build_with(tmp_path, "FROM x\n", {"INDEX": SECRET_URL})
    assert tag.startswith("hatch-lambda-build:")
    assert len(tag) == len("hatch-lambda-build:") + 16
    (call,) = fake.calls
    assert call.argv == build_argv(
        DOCKER, tmp_path / "Containerfile", tmp_path, tag, ARM, {"INDEX": SECRET_URL}
    )
    assert call.env is not None
    assert call.env["INDEX"] == SECRET_URL
    assert not [arg for arg in call.argv if "tok" in arg]


def test_the_build_tag_changes_with_what_goes_into_the_image(tmp_path: Path) -> None:
    base, _ = build_with(tmp_path, "FROM x\n", {"A": "1"})
    assert build_with(tmp_path, "FROM x\n", {"A": "1"})[0] == base
    assert build_with(tmp_path, "FROM x\n", {"A": "2"})[0] != base
    assert build_with(tmp_path, "FROM x\n", {"B": "1"})[0] != base
    assert build_with(tmp_path, "FROM x\nRUN true\n", {"A": "1"})[0] != base
    assert build_with(tmp_path, "FROM x\n", {"A": "1"}, platform="linux/amd64")[0] != base


def test_finch_on_macos_refuses_build_args_it_could_only_put_on_a_command_line(
    tmp_path: Path, fake_run: FakeRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    containerfile = tmp_path / "Containerfile"
    containerfile.write_text("FROM x\n")
    monkeypatch.setattr(sys, "platform", "darwin")
    with pytest.raises(ToolError, match=r"cannot build .* with Finch"):
        ensure_image(
            FINCH, IMAGE, ARM, Recorder(), containerfile=containerfile, build_args={"T": "v"}
        )
    assert fake_run.calls == []


# volume copy


def volume_spec(inputs: Path, outputs: Path, user: str | None = None) -> RunSpec:
    return RunSpec(
        image=IMAGE,
        platform=ARM,
        command=["bash", "-c", "pip install -t /asset-output -r /asset-input/r.txt"],
        mounts=[Mount(inputs, "/asset-input", read_only=True), Mount(outputs, "/asset-output")],
        workdir="/asset-input",
        environment={"PIP_INDEX_URL": SECRET_URL},
        user=user,
    )


def expected_plan(inputs: Path, outputs: Path, volume: str) -> list[list[str]]:
    d = DOCKER.path
    return [
        [d, "volume", "create", f"{volume}-input"],
        [d, "volume", "create", f"{volume}-output"],
        [
            d,
            "run",
            "-d",
            "--name",
            f"{volume}-helper",
            "--platform",
            ARM,
            "-v",
            f"{volume}-input:/asset-input",
            "-v",
            f"{volume}-output:/asset-output",
            IMAGE,
            "sleep",
            "86400",
        ],
        [d, "cp", f"{inputs}{os.sep}.", f"{volume}-helper:/asset-input"],
        [
            d,
            "run",
            "--rm",
            "--platform",
            ARM,
            "-w",
            "/asset-input",
            "-v",
            f"{volume}-input:/asset-input:ro",
            "-v",
            f"{volume}-output:/asset-output",
            "-e",
            "PIP_INDEX_URL",
            IMAGE,
            "bash",
            "-c",
            "pip install -t /asset-output -r /asset-input/r.txt",
        ],
        [d, "cp", f"{volume}-helper:/asset-output/.", str(outputs)],
        [d, "rm", "-f", f"{volume}-helper"],
        [d, "volume", "rm", f"{volume}-input", f"{volume}-output"],
    ]


def test_volume_copy_plan_for_docker(tmp_path: Path) -> None:
    inputs, outputs = tmp_path / "in", tmp_path / "out"
    plan = volume_copy_plan(
        DOCKER,
        volume_spec(inputs, outputs),
        inputs=inputs,
        outputs=outputs,
        volume="hl-1",
        helper_image=IMAGE,
    )
    assert plan == expected_plan(inputs, outputs, "hl-1")
    run_step = plan[4]
    assert not [arg for arg in run_step if str(inputs) in arg or str(outputs) in arg]
    assert not [arg for step in plan for arg in step if "tok" in arg]


def test_volume_copy_with_a_user_hands_the_output_volume_to_that_user(tmp_path: Path) -> None:
    inputs, outputs = tmp_path / "in", tmp_path / "out"
    spec = volume_spec(inputs, outputs, user="1000:1000")
    plan = volume_copy_plan(
        DOCKER, spec, inputs=inputs, outputs=outputs, volume="hl-2", helper_image="helper:1"
    )
    assert plan[2] == [
        DOCKER.path,
        "run",
        "-d",
        "--name",
        "hl-2-helper",
        "--platform",
        ARM,
        "--user",
        "0",
        "-v",
        "hl-2-input:/asset-input",
        "-v",
        "hl-2-output:/asset-output",
        "helper:1",
        "sh",
        "-c",
        "chown 1000:1000 /asset-output && exec sleep 86400",
    ]
    assert plan[4][5:7] == ["--user", "1000:1000"]


def test_volume_copy_needs_exactly_the_input_and_output_mounts(tmp_path: Path) -> None:
    inputs, outputs = tmp_path / "in", tmp_path / "out"
    spec = RunSpec(
        image=IMAGE, platform=ARM, command=["true"], mounts=[Mount(inputs, "/asset-input")]
    )
    with pytest.raises(ToolError, match="needs exactly two mounts"):
        volume_copy_plan(
            DOCKER, spec, inputs=inputs, outputs=outputs, volume="v", helper_image=IMAGE
        )


def test_volume_copy_cleans_up_when_the_run_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs, outputs = tmp_path / "in", tmp_path / "out"
    monkeypatch.setattr(containers, "_new_volume_name", lambda: "hl-t")
    plan = expected_plan(inputs, outputs, "hl-t")
    fake = FakeRun(
        lambda argv: (1, "ERROR: No matching distribution") if argv == plan[4] else (0, "")
    )
    monkeypatch.setattr(containers, "run", fake)
    reporter = Recorder()
    with pytest.raises(ToolError) as caught:
        run_in_container(
            DOCKER,
            volume_spec(inputs, outputs),
            what="pip install",
            reporter=reporter,
            file_access="volume-copy",
        )
    assert fake.argvs == [*plan[:5], *plan[6:]]
    message = str(caught.value)
    assert message.startswith("pip install failed (exit status 1).")
    assert "ERROR: No matching distribution" in message
    assert f"docker run --rm -it --platform {ARM} {IMAGE} bash" in message
    assert "tok" not in message
    # Only the real command gets the environment with the secret.
    envs = [call.env for call in fake.calls]
    assert envs[4] is not None
    assert envs[4]["PIP_INDEX_URL"] == SECRET_URL
    assert [env for i, env in enumerate(envs) if i != 4] == [None] * 6
    assert reporter.of("waiting") == [f"Running pip install in {IMAGE} with docker"]


def test_volume_copy_cleans_up_after_an_early_failure_and_keeps_the_first_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs, outputs = tmp_path / "in", tmp_path / "out"
    monkeypatch.setattr(containers, "_new_volume_name", lambda: "hl-t")
    plan = expected_plan(inputs, outputs, "hl-t")
    failing = {0: "volume plugin unavailable", 6: "no such container", 7: "no such volume"}
    fake = FakeRun(
        lambda argv: (1, failing[plan.index(argv)]) if plan.index(argv) in failing else (0, "")
    )
    monkeypatch.setattr(containers, "run", fake)
    reporter = Recorder()
    with pytest.raises(ToolError, match="volume plugin unavailable") as caught:
        run_in_container(
            DOCKER,
            volume_spec(inputs, outputs),
            what="pip install",
            reporter=reporter,
            file_access="volume-copy",
        )
    assert "no such" not in str(caught.value)
    assert fake.argvs == [plan[0], plan[6], plan[7]]
    assert reporter.of("warning") == []


def test_volume_copy_success_runs_every_step_and_warns_about_leftovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs, outputs = tmp_path / "in", tmp_path / "out"
    monkeypatch.setattr(containers, "_new_volume_name", lambda: "hl-t")
    plan = expected_plan(inputs, outputs, "hl-t")
    fake = FakeRun(lambda argv: (1, "volume is in use") if argv == plan[7] else (0, ""))
    monkeypatch.setattr(containers, "run", fake)
    reporter = Recorder()
    run_in_container(
        DOCKER,
        volume_spec(inputs, outputs),
        what="pip install",
        reporter=reporter,
        file_access="volume-copy",
    )
    assert fake.argvs == plan
    (warning,) = reporter.of("warning")
    assert "volume is in use" in warning
    assert warning.endswith(f"Remove it by hand: {' '.join(plan[7])}")


def test_bind_mount_runs_one_command_with_the_environment(fake_run: FakeRun) -> None:
    spec = full_spec()
    reporter = Recorder()
    run_in_container(DOCKER, spec, what="pip install", reporter=reporter)
    (call,) = fake_run.calls
    assert call.argv == run_argv(DOCKER, spec)
    assert call.env == run_env(spec)
    assert reporter.of("waiting") == [f"Running pip install in {IMAGE} with docker"]


def test_an_unknown_file_access_is_refused(fake_run: FakeRun) -> None:
    with pytest.raises(ToolError, match="unknown container file access 'copy'"):
        run_in_container(DOCKER, full_spec(), what="x", reporter=Recorder(), file_access="copy")
    assert fake_run.calls == []


def test_a_foreign_binary_in_the_run_asks_for_emulation(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeRun(lambda argv: (1, "exec /bin/bash: exec format error"))
    monkeypatch.setattr(containers, "run", fake)
    with pytest.raises(ToolError) as caught:
        run_in_container(PODMAN, full_spec(), what="pip install", reporter=Recorder())
    message = str(caught.value)
    assert "platform emulation for arm64 is missing" in message
    assert "qemu-user-static binfmt-support" in message


# ensure_image


def test_an_image_present_locally_is_not_pulled(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeRun(lambda argv: (0, '[{"Os": "linux", "Architecture": "arm64"}]'))
    monkeypatch.setattr(containers, "run", fake)
    reporter = Recorder()
    assert ensure_image(DOCKER, IMAGE, ARM, reporter) == IMAGE
    assert fake.argvs == [image_exists_argv(DOCKER, IMAGE)]
    assert reporter.of("waiting") == []


def test_an_image_present_for_another_platform_is_pulled(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeRun(lambda argv: (0, '[{"Os": "linux", "Architecture": "amd64"}]'))
    monkeypatch.setattr(containers, "run", fake)
    assert ensure_image(DOCKER, "python:3.12", ARM, Recorder()) == "python:3.12"
    assert fake.argvs == [
        image_exists_argv(DOCKER, "python:3.12"),
        pull_argv(DOCKER, "python:3.12", ARM),
    ]


def test_an_absent_image_is_pulled(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeRun(lambda argv: (1, "Error: No such image") if "inspect" in argv else (0, ""))
    monkeypatch.setattr(containers, "run", fake)
    reporter = Recorder()
    assert ensure_image(FINCH, IMAGE, ARM, reporter) == IMAGE
    assert fake.argvs == [
        [FINCH.path, "image", "inspect", IMAGE],
        [FINCH.path, "pull", "--platform", ARM, IMAGE],
    ]
    assert reporter.of("waiting") == [f"Pulling {IMAGE}"]


def test_a_refused_pull_names_the_image_and_the_image_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeRun(lambda argv: (1, "denied: requested access to the resource is denied"))
    monkeypatch.setattr(containers, "run", fake)
    with pytest.raises(ToolError) as caught:
        ensure_image(DOCKER, IMAGE, ARM, Recorder())
    message = str(caught.value)
    assert message.startswith(f"pulling the container image {IMAGE} for {ARM} with docker failed")
    assert "denied: requested access to the resource is denied" in message
    assert 'set image = "..."' in message
    assert "docker login" in message


def test_exec_format_error_from_a_pull_asks_for_emulation(monkeypatch: pytest.MonkeyPatch) -> None:
    def outcome(argv: list[str]) -> tuple[int, str]:
        if "inspect" in argv:
            return 1, "Error: No such image"
        return 1, "failed to extract layer: exec format error"

    monkeypatch.setattr(containers, "run", FakeRun(outcome))
    with pytest.raises(ToolError) as caught:
        ensure_image(DOCKER, IMAGE, ARM, Recorder())
    message = str(caught.value)
    assert "docker run --privileged --rm tonistiigi/binfmt --install arm64" in message
    assert "qemu-user-static binfmt-support" in message
    assert "image =" not in message


# default_image


def test_default_image_for_python312_arm64() -> None:
    assert (
        default_image("python3.12", "arm64") == "public.ecr.aws/sam/build-python3.12:latest-arm64"
    )
