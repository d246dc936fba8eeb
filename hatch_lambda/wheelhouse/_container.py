"""Builds the wheelhouse inside a container image (the SAM build image by default): pip resolves,
downloads and builds there, for the image's own Python, glibc and machine."""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name, parse_wheel_filename

from .._report import Reporter, counted, timed
from .._scratch import folder_beside
from ..cache import REFRESH_ENV, cache_key, copy_hashed
from ..commands import shell_chain, stage_project
from ..config import ArtifactConfig
from ..containers import (
    ENGINE_ENV,
    INPUT_DIR,
    OUTPUT_DIR,
    Engine,
    Mount,
    RunSpec,
    check_engine_running,
    default_image,
    ensure_image,
    find_engine,
    image_id,
    run_in_container,
)
from ..errors import ResolutionError, ToolError, WheelSelectionError
from ..requirements import Requirements, RequirementSet
from ..target import Target
from ._advice import mentioned, twin_advice
from ._indexes import Indexes, strip_credentials
from ._kept import keep_wheels, kept_wheels
from ._local import LocalFiles, local_files
from ._tree import copy_source
from ._wheel import Wheel

_REQUIREMENTS = ".hatch-lambda-requirements.txt"


def _requirement_lines(requirements: Requirements) -> tuple[list[str], bool]:
    """pip requirement lines, and whether they are exact pins (then no dependency is added)."""
    if isinstance(requirements, RequirementSet):
        return requirements.lines(), False
    lines = []
    for pin in requirements.pins:
        hashes = "".join(f" --hash=sha256:{h}" for h in sorted(pin.sha256))
        urls = [f.url for f in pin.files if f.url and not pin.version]
        lines.append(f"{pin.name} @ {urls[0]}" if urls else f"{pin.name}=={pin.version}{hashes}")
    # A requirements file may leave dependencies out: pip adds them unless told to be strict.
    hand = requirements.hand_pinned
    return lines, hand is None or hand.strict or hand.hash_checking


def _environment(artifact: ArtifactConfig, indexes: Indexes) -> dict[str, str]:
    env = {
        # A bare uid has no home: pip needs somewhere to write.
        "HOME": "/tmp",
        "PIP_CACHE_DIR": "/tmp/pip-cache",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_INPUT": "1",
        "PIP_ROOT_USER_ACTION": "ignore",
        "PIP_INDEX_URL": indexes.index_url,
    }
    if indexes.extra_index_urls:
        env["PIP_EXTRA_INDEX_URL"] = " ".join(indexes.extra_index_urls)
    links = [u for u in indexes.find_links if "://" in u]  # host folders do not exist in there
    if links:
        env["PIP_FIND_LINKS"] = " ".join(links)
    env.update(dict(artifact.environment))
    return env


@dataclass(frozen=True)
class BuildImage:
    """The image a container-mode build ran in, as the manifest records it."""

    engine: str
    reference: str
    digest: str | None
    """``sha256:...`` of the image in the engine's store; None when the engine did not say."""


# One build asks for the same engine and image when collecting, when keying bytecode and when
# compiling in the image: it is checked once per process.
_ready: dict[tuple[object, ...], tuple[Engine, str]] = {}


def _engine_and_image(
    target: Target, artifact: ArtifactConfig, project_root: Path, reporter: Reporter
) -> tuple[Engine, str]:
    """The engine (found and answering) and the image to run, built or pulled if need be."""
    key = (artifact.container, os.environ.get(ENGINE_ENV), artifact.image, target.runtime.name,
           target.container_platform, project_root, artifact.containerfile, artifact.build_args)  # fmt: skip
    if key not in _ready:
        _ready[key] = _prepare(target, artifact, project_root, reporter)
    return _ready[key]


def _prepare(
    target: Target, artifact: ArtifactConfig, project_root: Path, reporter: Reporter
) -> tuple[Engine, str]:
    engine = find_engine(artifact.container)
    check_engine_running(engine, reporter)
    image = ensure_image(
        engine,
        artifact.image or default_image(target.runtime.name, target.architecture),
        target.container_platform,
        reporter,
        containerfile=project_root / artifact.containerfile if artifact.containerfile else None,
        context=project_root,
        build_args=dict(artifact.build_args),
    )
    return engine, image


def image_for(
    target: Target, artifact: ArtifactConfig, project_root: Path, reporter: Reporter
) -> BuildImage:
    """The image *artifact* builds *target* in, made ready, with its digest."""
    engine, image = _engine_and_image(target, artifact, project_root, reporter)
    return BuildImage(engine.name, image, image_id(engine, image, reporter))


def container_staging(output_dir: Path) -> Path:
    """A folder for files a container sees, inside the project's output folder, never the
    system's temporary folder, which engines that run in a VM (Finch, Docker Desktop, Podman
    machine) do not share by default."""
    return folder_beside(output_dir / "stage", "hatch-lambda-stage")


def _cache_key(
    requirements: Requirements, target: Target, indexes: Indexes, artifact: ArtifactConfig,
    digest: str, *, local: Sequence[LocalFiles],
) -> str:  # fmt: skip
    """What the wheels built in the image depend on. The commands' text is part of it, not the
    files they read: those change the wheels only through what the commands write, which a
    refresh rebuilds."""
    lines, _ = _requirement_lines(requirements)
    # Values may be credentials: only their digests enter the key (which is itself a digest).
    environment = sorted(
        (name, hashlib.sha256(value.encode()).hexdigest()) for name, value in artifact.environment
    )
    return cache_key(
        "container-wheelhouse", lines, target.runtime.name, target.architecture,
        list(target.platforms), digest, [strip_credentials(u) for u in indexes.urls()],
        list(artifact.before_bundling), list(artifact.after_bundling), environment,
        list(artifact.volumes), list(artifact.volumes_from),
        [(f.source.name, sorted(f.source.extras), f.identity) for f in local],
    )  # fmt: skip


def container_wheelhouse(
    requirements: Requirements,
    target: Target,
    indexes: Indexes,
    artifact: ArtifactConfig,
    *,
    project_root: Path,
    output_dir: Path,
    work: Path,
    reporter: Reporter,
    refresh: bool,
) -> tuple[list[Wheel], BuildImage]:
    """One wheel per package, built by pip in the image; kept in the cache under the image's
    digest, so a rebuild with the same requirements and image starts no container.

    Local sources (workspace members, path and VCS dependencies) are copied in and built there
    first, each with its own backend, so a library with compiled code builds for the image too;
    their names are never looked up on an index. The key holds what identifies their files."""
    engine, image = _engine_and_image(target, artifact, project_root, reporter)
    digest = image_id(engine, image, reporter)
    used = BuildImage(engine.name, image, digest)
    local = [local_files(s, work / f"checkout{i}", reporter)
             for i, s in enumerate(requirements.local)]  # fmt: skip
    key = (
        _cache_key(requirements, target, indexes, artifact, digest, local=local) if digest else None
    )
    shown = f"{image} ({digest[:19]}...)" if digest else image
    if key is not None and not refresh:
        cached = kept_wheels("container-wheelhouse", key, reporter)
        if cached is not None:
            reporter.info(
                f"Reusing the {counted(len(cached), 'wheel')} built before in {shown} for these "
                f"requirements; no container started (set {REFRESH_ENV}=1 to build them again)"
            )
            return cached, used
    why = "asked to build again" if refresh else "nothing kept for this image and requirements"
    if key is None:
        why = f"{engine.name} did not give the image's digest, so nothing is kept"
    reporter.info(f"Building the wheels in {shown} with {engine.name} ({why})")
    staging = container_staging(output_dir)
    try:
        with timed(reporter, "container"):
            built = _build(
                requirements, target, indexes, artifact, engine=engine, image=image,
                project_root=project_root, staging=staging, reporter=reporter,
                local=local, work=work,
            )  # fmt: skip
        work.mkdir(parents=True, exist_ok=True)
        wheels = []
        for name, version, path, here, is_local in built:
            copy = work / path.name
            # Hashed as copied: the cache, the artifact key, the plan and the audit need it.
            wheels.append(Wheel(name, version, copy, here, copy_hashed(path, copy), local=is_local))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    bad = [w.path.name for w in wheels if not target.accepts(w.tags)]
    if bad:
        raise WheelSelectionError(
            f"the container built wheels {target.label} cannot load: {', '.join(bad)}; check "
            "that the image is for this runtime and architecture"
        )
    if key is None:
        return wheels, used
    return keep_wheels("container-wheelhouse", key, wheels, reporter), used


def _build(
    requirements: Requirements,
    target: Target,
    indexes: Indexes,
    artifact: ArtifactConfig,
    *,
    engine: Engine,
    image: str,
    project_root: Path,
    staging: Path,
    reporter: Reporter,
    local: Sequence[LocalFiles] = (),
    work: Path,
) -> list[tuple[str, str, Path, bool, bool]]:
    """``(name, version, wheel, built here, from a local source)`` for every package, built in
    the container."""
    inputs = stage_project(project_root, staging / "input")
    outputs = staging / "output"
    outputs.mkdir(parents=True)
    lines, pinned = _requirement_lines(requirements)
    (inputs / _REQUIREMENTS).write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    version_probe = (
        "python3 -c 'import sys; print(\"%d.%d\" % sys.version_info[:2])' "
        f"> {OUTPUT_DIR}/python-version"
    )
    steps = [*artifact.before_bundling, version_probe]
    requirements_file = f"{INPUT_DIR}/{_REQUIREMENTS}"
    if local:
        steps += _local_steps(local, inputs, pinned, work=work, reporter=reporter)
        requirements_file = f"{OUTPUT_DIR}/{_REQUIREMENTS}"
    pip = [
        "python3", "-m", "pip", "wheel", "--wheel-dir", f"{OUTPUT_DIR}/wheels",
        "-r", requirements_file, *(["--no-deps"] if pinned else []),
    ]  # fmt: skip
    if lines or (local and not pinned):
        steps.append(shlex.join(pip))
    steps += artifact.after_bundling
    spec = RunSpec(
        image=image,
        platform=target.container_platform,
        command=["/bin/sh", "-c", shell_chain(steps)],
        mounts=[Mount(inputs, INPUT_DIR), Mount(outputs, OUTPUT_DIR)],
        workdir=INPUT_DIR,
        environment=_environment(artifact, indexes),
        network=artifact.network,
        security_opt=artifact.security_opt,
        user=artifact.user,
        volumes=list(artifact.volumes),
        volumes_from=list(artifact.volumes_from),
    )
    try:
        run_in_container(
            engine, spec, what=f"building wheels for {target.label}", reporter=reporter,
            file_access=artifact.file_access, inputs=inputs, outputs=outputs,
        )  # fmt: skip
    except ToolError as exc:
        twins = twin_advice(mentioned(exc.message))
        if not twins:
            raise
        raise ToolError(f"{exc.message}\n {twins}") from exc
    probe = outputs / "python-version"
    version = probe.read_text().strip() if probe.is_file() else "?"
    if version != target.python_version:
        raise ResolutionError(
            f"the image {image} runs Python {version}, and the runtime is {target.runtime.name}; "
            f"use an image of Python {target.python_version} (image = ...), such as "
            f"{default_image(target.runtime.name, target.architecture)}"
        )
    built: dict[str, tuple[str, str, Path, bool, bool]] = {}
    made_locally = sorted(outputs.glob(f"{_LOCAL}/*/*.whl"))
    local_names = {canonicalize_name(parse_wheel_filename(w.name)[0]) for w in made_locally}
    for wheel in [*made_locally, *sorted(outputs.glob("wheels/*.whl"))]:
        name, ver, _, tags = parse_wheel_filename(wheel.name)
        here = any(t.platform.startswith("linux_") for t in tags)
        built.setdefault(wheel.name, (str(name), str(ver), wheel, here, name in local_names))
    return list(built.values())


_LOCAL = "hatch-lambda-local"


def _local_steps(
    local: Sequence[LocalFiles], inputs: Path, pinned: bool, *, work: Path, reporter: Reporter
) -> list[str]:
    """Commands that build each local source into a wheel of its own in the image (isolated,
    never editable) and, for ranges, add those wheels to the requirements, with the extras
    asked of them: pip then resolves what they require, and takes the names they provide from
    those files, never from an index. A lock holds their requirements already."""
    steps = [f"cp {INPUT_DIR}/{_REQUIREMENTS} {OUTPUT_DIR}/{_REQUIREMENTS}"]
    for i, files in enumerate(local):
        host = files.files(work / f"checkout{i}", reporter)
        folder = inputs / _LOCAL / str(i)
        if host.is_dir():
            copy_source(host, folder)
            inside = f"{INPUT_DIR}/{_LOCAL}/{i}"
        else:
            folder.mkdir(parents=True)
            shutil.copy2(host, folder / host.name)
            inside = f"{INPUT_DIR}/{_LOCAL}/{i}/{host.name}"
        wheels = f"{OUTPUT_DIR}/{_LOCAL}/{i}"
        steps.append(shlex.join(["python3", "-m", "pip", "wheel", "--no-deps", "--wheel-dir",
                                 wheels, inside]))  # fmt: skip
        if not pinned:
            extras = f"[{','.join(sorted(files.source.extras))}]" if files.source.extras else ""
            steps.append(
                f"for w in {wheels}/*.whl; do printf '%s\\n' \"$w{extras}\" "
                f">> {OUTPUT_DIR}/{_REQUIREMENTS}; done"
            )
    return steps


def compile_in_container(
    tree: Path, target: Target, artifact: ArtifactConfig, *, runtime_path: str, staging: Path,
    reporter: Reporter, project_root: Path,
) -> Path:  # fmt: skip
    """Compile *tree* with the image's interpreter; returns the folder holding the result."""
    engine, image = _engine_and_image(target, artifact, project_root, reporter)
    outputs = staging / "compiled"
    outputs.mkdir(parents=True)
    script = (
        f"cp -a {INPUT_DIR}/. {OUTPUT_DIR}/ && python3 -I -c "
        + shlex.quote(
            "import compileall, py_compile, sys; compileall.compile_dir(sys.argv[1], quiet=1, "
            "stripdir=sys.argv[1], prependdir=sys.argv[2], workers=0, "
            "invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)"
        )
        + f" {OUTPUT_DIR} {shlex.quote(runtime_path)}"
    )
    spec = RunSpec(
        image=image, platform=target.container_platform, command=["/bin/sh", "-c", script],
        mounts=[Mount(tree, INPUT_DIR, read_only=True), Mount(outputs, OUTPUT_DIR)],
        environment={"HOME": "/tmp"}, network=artifact.network, user=artifact.user,
    )  # fmt: skip
    run_in_container(
        engine, spec, what=f"compiling bytecode for {target.runtime.name}", reporter=reporter,
        file_access=artifact.file_access, inputs=tree, outputs=outputs,
    )  # fmt: skip
    return outputs
