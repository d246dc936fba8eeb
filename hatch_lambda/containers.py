"""Container engines for container mode: find Docker, Podman or Finch and run commands in an image."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shlex
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from ._report import Reporter
from ._subprocess import run
from .errors import ToolError

ENGINES = ("docker", "podman", "finch")  # the order `container = true` tries them
ENGINE_ENV = "HATCH_LAMBDA_CONTAINER_ENGINE"  # overrides the choice for one build
FILE_ACCESS = ("bind-mount", "volume-copy")
BUILD_TAG_PREFIX = "hatch-lambda-build:"
INPUT_DIR = "/asset-input"
OUTPUT_DIR = "/asset-output"

# The volume-copy helper only has to outlive one build; `rm -f` ends it sooner.
_HELPER_SLEEP = "86400"

_INSTALL = {
    "docker": "Docker: Docker Desktop on macOS and Windows, Docker Engine on Linux "
    "(https://docs.docker.com/engine/install/)",
    "podman": "Podman: `apt-get install podman` or `dnf install podman` on Linux; "
    "`brew install podman`, then `podman machine init` and `podman machine start`, on macOS",
    "finch": "Finch, on macOS: `brew install --cask finch`, then `finch vm init`",
}

_NOT_RUNNING = {
    "docker": "Docker is installed but its daemon is not running or cannot be reached: start Docker "
    "Desktop, or on Linux run `sudo systemctl start docker` (if the output says permission denied, "
    "add yourself to the `docker` group). If DOCKER_HOST or a Docker context points at another "
    "machine, check that it is up.",
    "podman": "Podman is installed but cannot reach its service: on macOS and Windows run "
    "`podman machine start` (`podman machine init` first, the first time); on Linux, "
    "`podman info` must work for your user.",
    "finch": "Finch is installed but its virtual machine is not running: run `finch vm start` "
    "(`finch vm init` first, the first time).",
}


@dataclass(frozen=True)
class Engine:
    name: str  # "docker" | "podman" | "finch"
    path: str  # the executable


@dataclass(frozen=True)
class Mount:
    host: Path
    container: str
    read_only: bool = False


@dataclass(frozen=True)
class RunSpec:
    image: str
    platform: str  # "linux/amd64" | "linux/arm64"
    command: list[str]  # argv inside the container
    mounts: list[Mount] = field(default_factory=list)
    workdir: str | None = None
    environment: dict[str, str] = field(default_factory=dict)  # values are secret: names on argv
    network: str | None = None
    security_opt: str | None = None
    # None: the invoking user's uid:gid on POSIX hosts, so bind-mounted files belong to them
    # (not for Podman, see _effective_user); "" passes no --user at all.
    user: str | None = None
    volumes: list[str] = field(default_factory=list)  # extra "host:container[:ro]" from the user
    volumes_from: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Step:
    what: str
    argv: list[str]
    main: bool = False  # the real command: it alone gets spec.environment


def find_engine(
    choice: str | bool,
    *,
    environ: Mapping[str, str] | None = None,
    which: Callable[[str], str | None] = shutil.which,
) -> Engine:
    """The engine to use: ``True``/``"auto"`` takes the first of ENGINES on PATH, a name that one.

    ``$HATCH_LAMBDA_CONTAINER_ENGINE``, when set, overrides *choice* for this build.
    """
    env = os.environ if environ is None else environ
    raw_override = env.get(ENGINE_ENV, "").strip()
    override = raw_override.lower()
    if override and override != "auto" and override not in ENGINES:
        raise ToolError(
            f"{ENGINE_ENV}={raw_override!r} does not name a container engine: set it to one of "
            f"{', '.join(ENGINES)} or auto, or unset it."
        )
    if override:
        wanted, source = override, f"{ENGINE_ENV}={raw_override}"
    elif choice is True or (isinstance(choice, str) and choice.strip().lower() == "auto"):
        wanted, source = "auto", "container = true"
    elif isinstance(choice, str) and choice.strip().lower() in ENGINES:
        wanted, source = choice.strip().lower(), f'container = "{choice}"'
    else:
        raise ToolError(
            f"container = {choice!r} does not name a container engine: use true (the first of "
            f"{', '.join(ENGINES)} found on PATH) or one of {', '.join(ENGINES)}."
        )

    found = {name: path for name in ENGINES if (path := which(name))}
    if wanted == "auto":
        for name in ENGINES:
            if name in found:
                return Engine(name, found[name])
        hints = "\n".join(f"  - {_INSTALL[name]}" for name in ENGINES)
        raise ToolError(
            f"container mode needs a container engine, but none of {', '.join(ENGINES)} was "
            f"found on PATH ({source}). Install one of them:\n{hints}\n"
            "then build again, or turn container mode off to build on this machine."
        )
    if wanted in found:
        return Engine(wanted, found[wanted])
    others = [name for name in ENGINES if name in found]
    if others:
        instead = (
            f"Found on PATH instead: {', '.join(others)}. Install {wanted}, or choose "
            f"{' or '.join(others)} with {ENGINE_ENV} or the `container` setting."
        )
    else:
        instead = f"No other container engine was found either. Install it: {_INSTALL[wanted]}."
    raise ToolError(f"container engine {wanted!r} ({source}) was not found on PATH. {instead}")


def check_engine_running(engine: Engine, reporter: Reporter) -> None:
    """Run ``ENGINE info``; raise ``ToolError`` saying how to start the engine when it fails."""
    advice = f"{_NOT_RUNNING[engine.name]} Or choose another engine with {ENGINE_ENV}."
    run(
        [engine.path, "info"],
        what=f"checking that {engine.name} is running (`{engine.name} info`)",
        reporter=reporter,
        advice=advice,
    )


def run_argv(engine: Engine, spec: RunSpec) -> list[str]:
    """``ENGINE run`` for *spec*: environment names only, values come from :func:`run_env`."""
    argv = [engine.path, "run", "--rm", "--platform", spec.platform]
    if spec.network:
        argv += ["--network", spec.network]
    if spec.security_opt:
        argv += ["--security-opt", spec.security_opt]
    user = _effective_user(engine, spec.user)
    if user:
        argv += ["--user", user]
    if spec.workdir:
        argv += ["-w", spec.workdir]
    # No SELinux relabel suffixes (:z/:Z): they fail on hosts without SELinux.
    for mount in spec.mounts:
        argv += ["-v", _bind(mount)]
    for volume in spec.volumes:
        argv += ["-v", volume]
    for container in spec.volumes_from:
        argv += ["--volumes-from", container]
    for name in sorted(spec.environment):
        argv += ["-e", _variable_name(name, "environment variable")]
    return [*argv, spec.image, *spec.command]


def run_env(spec: RunSpec) -> dict[str, str]:
    """The engine's environment: ours plus spec.environment, which `-e NAME` reads from."""
    return {**os.environ, **spec.environment}


def pull_argv(engine: Engine, image: str, platform: str) -> list[str]:
    return [engine.path, "pull", "--platform", platform, image]


def build_argv(  # noqa: PLR0917 - the agreed interface takes these positionally
    engine: Engine,
    containerfile: Path,
    context: Path,
    tag: str,
    platform: str,
    build_args: Mapping[str, str],
) -> list[str]:
    """``ENGINE build`` with build-arg names only; values come from :func:`build_env`."""
    argv = [engine.path, "build", "--platform", platform, "-f", str(containerfile), "-t", tag]
    for name in sorted(build_args):
        argv += ["--build-arg", _variable_name(name, "build argument")]
    return [*argv, str(context)]


def build_env(build_args: Mapping[str, str]) -> dict[str, str]:
    """The engine's environment for a build: `--build-arg NAME` reads its value from here."""
    return {**os.environ, **build_args}


def image_exists_argv(engine: Engine, image: str) -> list[str]:
    """Exit status 0 when *image* is in the engine's local store."""
    return [engine.path, "image", "inspect", image]


def volume_copy_plan(
    engine: Engine,
    spec: RunSpec,
    *,
    inputs: Path,
    outputs: Path,
    volume: str,
    helper_image: str,
) -> list[list[str]]:
    """The commands that replace bind mounts with named volumes and ``ENGINE cp``, in order.

    For engines that cannot see this machine's files (Docker-in-Docker, a remote DOCKER_HOST).
    *volume* names the build's resources: volumes ``VOLUME-input`` and ``VOLUME-output`` and the
    helper container ``VOLUME-helper``; use a name unique to the build. The last two commands
    remove the helper and the volumes.
    """
    work, cleanup = _volume_copy_steps(
        engine, spec, inputs=inputs, outputs=outputs, volume=volume, helper_image=helper_image
    )
    return [step.argv for step in (*work, *cleanup)]


def run_in_container(
    engine: Engine,
    spec: RunSpec,
    *,
    what: str,
    reporter: Reporter,
    file_access: str = "bind-mount",
    inputs: Path | None = None,
    outputs: Path | None = None,
) -> None:
    """Run *spec* with bind mounts, or through named volumes (``file_access="volume-copy"``).

    *what* is a short noun phrase ("pip install") used in progress and error messages. For
    volume-copy, *inputs* and *outputs* default to the hosts of the /asset-input and
    /asset-output mounts, and the helper container and volumes are removed even after a failure.
    """
    if file_access not in FILE_ACCESS:
        raise ToolError(
            f"unknown container file access {file_access!r}: use "
            f"{' or '.join(repr(f) for f in FILE_ACCESS)}."
        )
    reporter.waiting(f"Running {what} in {spec.image} with {engine.name}")
    if file_access == "bind-mount":
        _run_main(engine, spec, run_argv(engine, spec), what=what, reporter=reporter)
        return

    hosts = {mount.container: mount.host for mount in spec.mounts}
    inputs = inputs if inputs is not None else hosts.get(INPUT_DIR)
    outputs = outputs if outputs is not None else hosts.get(OUTPUT_DIR)
    if inputs is None or outputs is None:
        raise ToolError(
            f"{what}: volume-copy file access needs the host folders mounted at {INPUT_DIR} "
            f"and {OUTPUT_DIR}; pass inputs= and outputs= or mount both."
        )
    work, cleanup = _volume_copy_steps(
        engine,
        spec,
        inputs=inputs,
        outputs=outputs,
        volume=_new_volume_name(),
        helper_image=spec.image,
    )
    succeeded = False
    try:
        for step in work:
            if step.main:
                _run_main(engine, spec, step.argv, what=what, reporter=reporter)
            else:
                run(step.argv, what=f"{what}: {step.what}", reporter=reporter)
        succeeded = True
    finally:
        for step in cleanup:
            try:
                run(step.argv, what=step.what, reporter=reporter)
            except ToolError as err:
                # After a failure the resource may never have been created: then this is noise.
                if succeeded:
                    reporter.warning(f"{err.message}\n  Remove it by hand: {' '.join(step.argv)}")
                else:
                    reporter.debug(f"cleanup after the failure: {err.message}")


def ensure_image(
    engine: Engine,
    image: str,
    platform: str,
    reporter: Reporter,
    *,
    containerfile: Path | None = None,
    context: Path | None = None,
    build_args: Mapping[str, str] | None = None,
) -> str:
    """The image to run: built from *containerfile* (returns its tag), else *image*, pulled if absent."""
    if containerfile is not None:
        return _build_image(
            engine,
            containerfile,
            context=context if context is not None else containerfile.parent,
            platform=platform,
            build_args=dict(build_args or {}),
            reporter=reporter,
        )
    try:
        found = run(
            image_exists_argv(engine, image), what=f"looking for {image} locally", reporter=reporter
        )
    except ToolError:
        found = None
    if found is not None:
        local = _inspected_platform(found.stdout)
        if local is None or local == platform:
            reporter.debug(f"using {image} from {engine.name}'s local images")
            return image
        # A multi-platform tag pulled for another architecture earlier: fetch the right one.
        reporter.debug(f"{image} is here for {local}, not {platform}: pulling it")
    reporter.waiting(f"Pulling {image}")
    try:
        run(
            pull_argv(engine, image, platform),
            what=f"pulling the container image {image} for {platform} with {engine.name}",
            reporter=reporter,
        )
    except ToolError as err:
        if _is_exec_format_error(err):
            raise _with_advice(err, _emulation_advice(engine, platform)) from err
        raise _with_advice(
            err,
            f"Check the image name and this machine's network access to its registry. If the "
            f'registry cannot be reached from here, set image = "..." in the hatch-lambda '
            f"configuration to a mirror or a copy in your own registry; if it needs credentials, "
            f"log in first with `{engine.name} login REGISTRY`.",
        ) from err
    return image


def image_id(engine: Engine, image: str, reporter: Reporter) -> str | None:
    """The content digest of *image* in the engine's local store (``sha256:...``), or None when
    the engine does not say: what a wheelhouse built in it is kept under, so a rebuilt or
    re-pulled image is never taken for the old one."""
    try:
        done = run(
            [engine.path, "image", "inspect", "--format", "{{.Id}}", image],
            what=f"reading the digest of {image}", reporter=reporter,
        )  # fmt: skip
    except ToolError as err:
        reporter.debug(f"no digest for {image}: {err.message}")
        return None
    digest = done.stdout.strip().splitlines()[0] if done.stdout.strip() else ""
    if not digest or any(c.isspace() for c in digest):
        return None
    # Podman prints the bare hex digest, Docker and Finch prefix it with its algorithm.
    return digest if ":" in digest else f"sha256:{digest}"


def default_image(runtime_name: str, architecture: str) -> str:
    """The AWS SAM build image for a Lambda runtime ("python3.12") and architecture ("arm64")."""
    return f"public.ecr.aws/sam/build-{runtime_name}:latest-{architecture}"


def _effective_user(engine: Engine, user: str | None) -> str:
    if user is not None:
        return user
    # Rootless Podman maps the container's root to the invoking user, so root already writes
    # files that belong to them; a host uid would map to a subordinate id instead, which
    # could not write into the bind-mounted output folder.
    if engine.name == "podman" or sys.platform == "win32":
        return ""
    return f"{os.getuid()}:{os.getgid()}"


def _bind(mount: Mount) -> str:
    host = str(mount.host)
    if ":" in host[len(mount.host.drive) :]:
        raise ToolError(
            f"cannot bind-mount {host} into the container: `-v` cannot express a path that "
            "contains ':'. Move the project to a folder whose path has no ':'."
        )
    return f"{host}:{mount.container}" + (":ro" if mount.read_only else "")


def _variable_name(name: str, kind: str) -> str:
    # A name with '=' would put a value on the command line, where any process listing shows it.
    if not name or "=" in name or any(c.isspace() for c in name):
        raise ToolError(
            f"{kind} name {name!r} cannot be passed to the container: a name must not be empty "
            "or contain '=' or spaces. Fix the name in the hatch-lambda configuration."
        )
    return name


def _new_volume_name() -> str:
    return f"hatch-lambda-{secrets.token_hex(6)}"


def _volume_copy_steps(
    engine: Engine,
    spec: RunSpec,
    *,
    inputs: Path,
    outputs: Path,
    volume: str,
    helper_image: str,
) -> tuple[list[_Step], list[_Step]]:
    """(work, cleanup) for volume-copy file access; cleanup must run even when work fails."""
    by_path = {mount.container: mount for mount in spec.mounts}
    if (
        len(spec.mounts) != 2
        or set(by_path) != {INPUT_DIR, OUTPUT_DIR}
        or by_path[INPUT_DIR].host != inputs
        or by_path[OUTPUT_DIR].host != outputs
    ):
        mounts = ", ".join(f"{m.host} -> {m.container}" for m in spec.mounts) or "none"
        raise ToolError(
            f"volume-copy file access needs exactly two mounts, {inputs} -> {INPUT_DIR} and "
            f"{outputs} -> {OUTPUT_DIR}; got {mounts}. Put any other folder in `volumes`."
        )
    path = engine.path
    input_volume, output_volume, helper = f"{volume}-input", f"{volume}-output", f"{volume}-helper"
    # In the volumes nothing is bind-mounted, and `cp` makes the copied-out files the invoking
    # user's, so the command runs as the image's user unless one was asked for.
    user = spec.user if spec.user is not None else ""
    helper_options = ["--user", "0"] if user else []
    helper_command = (
        ["sh", "-c", f"chown {shlex.quote(user)} {OUTPUT_DIR} && exec sleep {_HELPER_SLEEP}"]
        if user
        else ["sleep", _HELPER_SLEEP]
    )
    input_mount = f"{input_volume}:{INPUT_DIR}" + (":ro" if by_path[INPUT_DIR].read_only else "")
    in_volumes = replace(
        spec,
        mounts=[],
        volumes=[input_mount, f"{output_volume}:{OUTPUT_DIR}", *spec.volumes],
        user=user,
    )
    work = [
        _Step(f"creating the volume {input_volume}", [path, "volume", "create", input_volume]),
        _Step(f"creating the volume {output_volume}", [path, "volume", "create", output_volume]),
        # `cp` goes through a running container: Finch's nerdctl cannot copy into a stopped one.
        _Step(
            f"starting the helper container {helper}",
            [
                path,
                "run",
                "-d",
                "--name",
                helper,
                "--platform",
                spec.platform,
                *helper_options,
                "-v",
                f"{input_volume}:{INPUT_DIR}",
                "-v",
                f"{output_volume}:{OUTPUT_DIR}",
                helper_image,
                *helper_command,
            ],
        ),
        _Step(
            f"copying {inputs} into the volume {input_volume}",
            [path, "cp", f"{inputs}{os.sep}.", f"{helper}:{INPUT_DIR}"],
        ),
        _Step("the command", run_argv(engine, in_volumes), main=True),
        _Step(
            f"copying the output volume {output_volume} to {outputs}",
            [path, "cp", f"{helper}:{OUTPUT_DIR}/.", str(outputs)],
        ),
    ]
    cleanup = [
        _Step(f"removing the helper container {helper}", [path, "rm", "-f", helper]),
        _Step(
            f"removing the volumes {input_volume} and {output_volume}",
            [path, "volume", "rm", input_volume, output_volume],
        ),
    ]
    return work, cleanup


def _run_main(
    engine: Engine, spec: RunSpec, argv: list[str], *, what: str, reporter: Reporter
) -> None:
    try:
        # Shown as it comes at -v: the user's command hooks run in here, with pip.
        run(argv, what=what, reporter=reporter, env=run_env(spec), show_output=1)
    except ToolError as err:
        if _is_exec_format_error(err):
            raise _with_advice(err, _emulation_advice(engine, spec.platform)) from err
        raise _with_advice(
            err,
            f"It ran in {spec.image} ({spec.platform}) with {engine.name}. To look around in that "
            f"image, run `{engine.name} run --rm -it --platform {spec.platform} {spec.image} bash`.",
        ) from err


def _build_image(
    engine: Engine,
    containerfile: Path,
    *,
    context: Path,
    platform: str,
    build_args: dict[str, str],
    reporter: Reporter,
) -> str:
    # Finch runs its builder in a VM that does not see our environment, so `--build-arg NAME`
    # would arrive empty, and values never go on a command line.
    if engine.name == "finch" and build_args and sys.platform in ("darwin", "win32"):
        raise ToolError(
            f"cannot build {containerfile} with Finch: its virtual machine does not receive the "
            f"values of build arguments ({', '.join(sorted(build_args))}) from this process, and "
            f"hatch-lambda does not put them on a command line. Build with Docker or Podman "
            f"({ENGINE_ENV}=docker or podman), or give non-secret arguments a default in the "
            "Containerfile (`ARG NAME=value`)."
        )
    try:
        content = containerfile.read_bytes()
    except OSError as exc:
        raise ToolError(
            f"cannot read the Containerfile {containerfile}: {exc.strerror}. Check the path "
            "in the hatch-lambda configuration."
        ) from exc
    tag = _build_tag(content, platform, build_args)
    reporter.waiting(f"Building {tag} from {containerfile} with {engine.name}")
    try:
        run(
            build_argv(engine, containerfile, context, tag, platform, build_args),
            what=f"building the container image {containerfile} for {platform}",
            reporter=reporter,
            env=build_env(build_args),
        )
    except ToolError as err:
        if _is_exec_format_error(err):
            raise _with_advice(err, _emulation_advice(engine, platform)) from err
        raise _with_advice(
            err, f"The output above names the step of {containerfile} that failed; fix it."
        ) from err
    return tag


def _build_tag(content: bytes, platform: str, build_args: Mapping[str, str]) -> str:
    """Changes with the Containerfile, the platform and every build argument's name and value."""
    digest = hashlib.sha256(content)
    digest.update(json.dumps([platform, sorted(build_args.items())]).encode())
    return BUILD_TAG_PREFIX + digest.hexdigest()[:16]


def _inspected_platform(stdout: str) -> str | None:
    """``os/architecture`` from ``image inspect`` output, or None if it cannot be read."""
    try:
        info = json.loads(stdout)
        first = info[0] if isinstance(info, list) else info
        os_name, architecture = first["Os"], first["Architecture"]
    except (ValueError, LookupError, TypeError):
        return None
    if not (isinstance(os_name, str) and isinstance(architecture, str)):
        return None
    return f"{os_name}/{architecture}"


def _is_exec_format_error(err: ToolError) -> bool:
    return "exec format error" in err.message.lower()


def _emulation_advice(engine: Engine, platform: str) -> str:
    arch = platform.rpartition("/")[2]
    own = {
        "docker": f"Docker: `docker run --privileged --rm tonistiigi/binfmt --install {arch}` "
        "(Docker Desktop has it built in).",
        "podman": "Podman on Linux: `sudo apt-get install qemu-user-static binfmt-support` (or your "
        "distribution's qemu-user-static package); podman machine has it built into its VM.",
        "finch": "Finch has it built into its VM: restart the VM with `finch vm stop` and "
        "`finch vm start`.",
    }
    lines = [
        f"This machine cannot run {platform} programs (exec format error): platform emulation "
        f"for {arch} is missing.",
        own[engine.name],
    ]
    if engine.name != "podman":
        lines.append(
            "On a Linux host, `sudo apt-get install qemu-user-static binfmt-support` enables it "
            "for every engine."
        )
    lines.append(f"Or build on an {arch} machine.")
    return "\n  ".join(lines)


def _with_advice(err: ToolError, advice: str) -> ToolError:
    return ToolError(f"{err.message}\n  {advice}")
