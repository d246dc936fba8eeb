"""The Hatch shells over the pipeline: a wheel build hook and a ``lambda`` builder target.

Hatch imports this module for every build of every project that lists the plugin, and once more
in the process that asks hooks for their build dependencies: it imports only what registering
needs. The configuration and the pipeline are imported when a build runs.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Generator, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from hatchling.builders.config import BuilderConfig
from hatchling.builders.hooks.plugin.interface import BuildHookInterface
from hatchling.builders.plugin.interface import BuilderInterface

from ._report import AppReporter, counted
from .errors import HatchLambdaError, redact

if TYPE_CHECKING:
    from .config import FindInterpreter, LambdaConfig
    from .outputs import OutputFolder
    from .pipeline import BuildResult
    from .subset import Request

PLUGIN_NAME = "lambda"

# Set while the builder makes its own wheel, so a wheel hook configured too does not run nested.
_builder_depth = [0]
# `-t wheel -t lambda` runs both in one process: the warning about two tables is said once.
_warned_twice = [False]


def _warn_if_configured_twice(app: Any, build: Mapping[str, Any], *, builder: bool) -> None:
    from ._tables import configured_twice

    warning = configured_twice(build, builder=builder)
    if warning and not _warned_twice[0]:
        _warned_twice[0] = True
        AppReporter(app).warning(warning)


@contextlib.contextmanager
def _inside_builder() -> Iterator[None]:
    _builder_depth[0] += 1
    try:
        yield
    finally:
        _builder_depth[0] -= 1


def _abort(app: Any, exc: HatchLambdaError) -> NoReturn:
    # Again: credentials learned after the error was made are masked too.
    app.abort(redact(f"hatch-lambda: {exc}"))
    raise SystemExit(1)  # app.abort exits; this line is for type checkers and stub apps


def _announce(app: Any, results: list[BuildResult]) -> None:
    for result in results:
        if result.unzipped_size is None:  # a wheelhouse: a folder
            what = f"{counted(result.files, 'file')}, {result.size:,} bytes"
        else:
            what = (f"{result.size:,} bytes zipped, {result.unzipped_size:,} unzipped in "
                    f"{counted(result.files, 'file')}")  # fmt: skip
        digest = f", CodeSha256 {result.code_sha256}" if result.code_sha256 else ""
        app.display_success(f"Lambda {result.label}: {result.path} ({what}{digest})")
        app.display_info(f"Manifest: {result.manifest}")


class LambdaBuildHook(BuildHookInterface[BuilderConfig]):
    """Writes the Lambda artifact after a standard wheel build."""

    PLUGIN_NAME = PLUGIN_NAME

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._config: LambdaConfig | None = None
        self._output: OutputFolder | None = None
        self._note: str | None = None

    def _key_path(self) -> str:
        hooks = self.build_config.target_config.get("hooks", {})
        if isinstance(hooks, Mapping) and PLUGIN_NAME in hooks:
            return f"tool.hatch.build.targets.{self.target_name}.hooks.{PLUGIN_NAME}"
        return f"tool.hatch.build.hooks.{PLUGIN_NAME}"

    def _skip_reason(self, version: str) -> str | None:
        if _builder_depth[0]:
            return "the lambda builder is building this wheel itself"
        if self.target_name != "wheel":
            return f"it acts on wheel builds, not {self.target_name!r}"
        if version == "editable":
            return "editable installs never build a Lambda artifact"
        return None

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        reason = self._skip_reason(version)
        if reason:
            self.app.display_debug(f"hatch-lambda: skipped: {reason}")
            return
        from ._pythons import find_python
        from .config import load_and_validate_config
        from .outputs import output_folder
        from .subset import choose, from_environment

        _warn_if_configured_twice(self.app, self.build_config.build_config, builder=False)
        try:
            # Validated before the wheel is written, so a bad table leaves dist/ untouched.
            config = load_and_validate_config(
                self.config, key_path=self._key_path(),
                find_interpreter=functools.partial(find_python, download=AppReporter(self.app)),
            )  # fmt: skip
            subset = choose(config, from_environment(), key_path=self._key_path())
            self._config, self._note = subset.config, subset.note
            self._output = output_folder(
                config.directory, project_root=Path(self.root),
                wheel_directory=Path(self.directory), project_name=self.metadata.core.name,
                key=self._key_path(),
            )  # fmt: skip
        except HatchLambdaError as exc:
            _abort(self.app, exc)

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        if self._config is None or self._output is None:
            return
        from .pipeline import build_artifacts

        for note in (self._output.note, self._note):
            if note:
                self.app.display_info(f"hatch-lambda: {note}")
        try:
            results = build_artifacts(
                self._config,
                project_wheel=Path(artifact_path),
                project_root=Path(self.root),
                output_dir=self._output.path,
                reporter=AppReporter(self.app),
            )
        except HatchLambdaError as exc:
            _abort(self.app, exc)
        _announce(self.app, results)

    def clean(self, versions: list[str]) -> None:
        """`hatch build --clean` and `hatch clean`: this project's Lambda artifacts, nothing else."""
        from .config import load_and_validate_config
        from .outputs import output_directory, remove_artifacts, remove_debris
        from .subset import choose, from_environment

        try:
            config = load_and_validate_config(self.config, key_path=self._key_path())
        except HatchLambdaError:
            return  # the build itself will report the problem
        try:
            # Artifacts left out of this build keep their files, --clean or not.
            names = choose(config, from_environment(), key_path=self._key_path()).names
        except HatchLambdaError as exc:
            _abort(self.app, exc)
        root = Path(self.root)
        directory = output_directory(config, root, Path(self.directory))
        removed = remove_artifacts(directory, self.metadata.core.name, names)
        for path in [*removed, *remove_debris(directory)]:
            self.app.display_debug(f"hatch-lambda: removed {path}")


class LambdaBuilderConfig(BuilderConfig):
    @property
    def directory(self) -> str:
        # Never dist/ by default: `twine upload dist/*` refuses zips and JSON files.
        if "directory" in self.target_config or "directory" in self.build_config:
            return str(super().directory)
        return self.normalize_build_directory(
            _lambda_table(self)[0].get("directory", "dist-lambda")
        )


def _lambda_table(config: BuilderConfig) -> tuple[Mapping[str, Any], str, frozenset[str]]:
    """The options for `hatch build -t lambda`: its own target table if it sets any hatch-lambda
    option, else the wheel hook's table, so one table serves both ways of building."""
    from ._tables import BUILDER_KEY, builder_has_own, hook_table
    from .config import HATCHLING_HOOK_KEYS, HATCHLING_TARGET_KEYS

    own = config.target_config
    hook = None if builder_has_own(own) else hook_table(config.build_config)
    if hook is not None:
        return hook[0], hook[1], HATCHLING_HOOK_KEYS
    return own, BUILDER_KEY, HATCHLING_TARGET_KEYS


def _wheel_directory(config: BuilderConfig, root: Path) -> Path:
    build = config.build_config
    wheel = build.get("targets", {}).get("wheel", {})
    directory = wheel.get("directory") or build.get("directory") or "dist"
    return (root / str(directory)).resolve()


class LambdaBuilder(BuilderInterface[LambdaBuilderConfig, Any]):
    """`hatch build -t lambda`: the Lambda artifact alone (its wheel is built in a temp folder)."""

    PLUGIN_NAME = PLUGIN_NAME

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._versions: list[str] = []

    @classmethod
    def get_config_class(cls) -> type[LambdaBuilderConfig]:
        return LambdaBuilderConfig

    def build(
        self,
        *,
        directory: str | None = None,
        versions: list[str] | None = None,
        hooks_only: bool | None = None,
        clean: bool | None = None,
        clean_hooks_after: bool | None = None,
        clean_only: bool | None = False,
    ) -> Generator[str, None, None]:
        """A target's versions are its variants; this one's are the artifacts to build
        (`-t lambda:api,deps`), all of them built at once: hatchling builds one version per call."""
        from .subset import ALL

        self._versions = list(versions or [])
        yield from super().build(
            directory=directory, versions=[ALL], hooks_only=hooks_only, clean=clean,
            clean_hooks_after=clean_hooks_after, clean_only=clean_only,
        )  # fmt: skip

    def _request(self) -> Request | None:
        from .subset import for_builder

        try:
            return for_builder(self._versions, self.config.target_config)
        except HatchLambdaError as exc:
            _abort(self.app, exc)

    def _chosen(
        self, *, find_interpreter: FindInterpreter | None = None
    ) -> tuple[LambdaConfig, str | None, frozenset[str] | None]:
        """The configuration of the artifacts to build, what to say of them and their names
        (None and None when they are all of them). *find_interpreter* checks, for a build, that
        compile-bytecode has the target's interpreter."""
        from .config import load_and_validate_config
        from .subset import choose

        table, key_path, foreign = _lambda_table(self.config)
        try:
            config = load_and_validate_config(
                table, key_path=key_path, allowed_foreign_keys=foreign,
                find_interpreter=find_interpreter,
            )  # fmt: skip
            subset = choose(config, self._request(), key_path=key_path)
        except HatchLambdaError as exc:
            _abort(self.app, exc)
        return subset.config, subset.note, subset.names

    def get_version_api(self) -> dict[str, Callable[..., str]]:
        return {"standard": self.build_standard}

    def get_default_build_data(self) -> dict[str, Any]:
        return {}

    def clean(self, directory: str, versions: list[str]) -> None:
        from .outputs import remove_artifacts, remove_debris

        # Artifacts left out of this build keep their files, --clean or not.
        names = self._chosen()[2] if self._request() is not None else None
        for path in [*remove_artifacts(Path(directory), self.metadata.core.name, names),
                     *remove_debris(Path(directory))]:  # fmt: skip
            self.app.display_debug(f"hatch-lambda: removed {path}")

    def build_standard(self, directory: str, **build_data: Any) -> str:
        from hatchling.builders.wheel import WheelBuilder

        from ._pythons import find_python
        from ._scratch import system_folder
        from .pipeline import build_artifacts

        _warn_if_configured_twice(self.app, self.config.build_config, builder=True)
        config, note, _ = self._chosen(
            find_interpreter=functools.partial(find_python, download=AppReporter(self.app))
        )
        from .outputs import output_folder

        try:
            # The same rule as the hook's: never the wheel's own output folder.
            output_folder(
                directory, project_root=Path(self.root),
                wheel_directory=_wheel_directory(self.config, Path(self.root)),
                project_name=self.metadata.core.name, key=f"tool.hatch.build.targets.{PLUGIN_NAME}",
            )  # fmt: skip
        except HatchLambdaError as exc:
            _abort(self.app, exc)
        with system_folder("wheel-") as tmp, _inside_builder():
            wheel_builder = WheelBuilder(
                self.root, plugin_manager=self.plugin_manager, metadata=self.metadata, app=self.app
            )
            wheel = Path(next(iter(wheel_builder.build(directory=str(tmp), versions=["standard"]))))
            if note:
                self.app.display_info(f"hatch-lambda: {note}")
            try:
                results = build_artifacts(
                    config,
                    project_wheel=wheel,
                    project_root=Path(self.root),
                    output_dir=Path(directory),
                    reporter=AppReporter(self.app),
                )
            except HatchLambdaError as exc:
                _abort(self.app, exc)
        _announce(self.app, results)
        return str(results[-1].path)
