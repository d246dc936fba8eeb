"""Which table configures which way of building: the wheel hook's, read by every wheel build, and
the `lambda` builder's, read by `hatch build -t lambda` alone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PLUGIN_NAME = "lambda"
BUILDER_KEY = f"tool.hatch.build.targets.{PLUGIN_NAME}"
WHEEL_HOOK_KEY = f"tool.hatch.build.targets.wheel.hooks.{PLUGIN_NAME}"
GLOBAL_HOOK_KEY = f"tool.hatch.build.hooks.{PLUGIN_NAME}"


def _table(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def hook_table(build: Mapping[str, Any]) -> tuple[Mapping[str, Any], str] | None:
    """The wheel hook's table in ``[tool.hatch.build]`` *build*, and its key, if there is one."""
    wheel_hooks = _table(_table(_table(build.get("targets")).get("wheel")).get("hooks"))
    if PLUGIN_NAME in wheel_hooks:
        return _table(wheel_hooks[PLUGIN_NAME]), WHEEL_HOOK_KEY
    global_hooks = _table(build.get("hooks"))
    if PLUGIN_NAME in global_hooks:
        return _table(global_hooks[PLUGIN_NAME]), GLOBAL_HOOK_KEY
    return None


def builder_has_own(target: Mapping[str, Any]) -> bool:
    """Whether the builder's table sets a hatch-lambda option, and so is the one it reads."""
    from .config import KNOWN_KEYS

    return any(key in target for key in KNOWN_KEYS)


def configured_twice(build: Mapping[str, Any], *, builder: bool) -> str | None:
    """A warning when both tables configure hatch-lambda, saying which one the running command
    (the builder, or a wheel build) uses; None when one table serves both."""
    hook = hook_table(build)
    target = _table(_table(build.get("targets")).get(PLUGIN_NAME))
    if hook is None or not builder_has_own(target):
        return None
    wheel_builds = "wheel builds (`hatch build`, `python -m build`, pip)"
    if builder:
        said = f"`hatch build -t lambda` uses [{BUILDER_KEY}], and {wheel_builds} use [{hook[1]}]"
    else:
        said = (f"this wheel build uses [{hook[1]}], as all {wheel_builds} do, and [{BUILDER_KEY}] "
                "is read by `hatch build -t lambda` alone")  # fmt: skip
    return (
        f"hatch-lambda is configured twice: {said}; `hatch build -t wheel -t lambda` writes the "
        f"artifacts of both. Keep one table ([{BUILDER_KEY}] reads the hook's when it sets no "
        "hatch-lambda option of its own)"
    )
