"""The one validator: turns a pyproject table into a ``LambdaConfig`` or reports every problem."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError
from .target import ARCHITECTURES, DEFAULT_ARCHITECTURE, DEFAULT_RUNTIME, RUNTIMES

RESOLVERS = ("auto", "uv", "pip")
REQUIREMENT_SOURCES = (
    "auto",
    "project",
    "pylock.toml",
    "uv.lock",
    "poetry.lock",
    "Pipfile.lock",
    "requirements.txt",
)
DEFAULT_DIRECTORY = "dist-lambda"

# Keys hatchling itself reads from every build-hook table.
HATCHLING_HOOK_KEYS = frozenset(
    {
        "dependencies",
        "enable-by-default",
        "require-runtime-dependencies",
        "require-runtime-features",
    }
)
# Keys hatchling reads from every build-target table (for the `lambda` builder).
HATCHLING_TARGET_KEYS = frozenset(
    {
        "dependencies",
        "require-runtime-dependencies",
        "require-runtime-features",
        "hooks",
        "versions",
        "include",
        "exclude",
        "only-include",
        "sources",
        "packages",
        "force-include",
        "artifacts",
        "ignore-vcs",
        "skip-excluded-dirs",
        "reproducible",
        "dev-mode-dirs",
        "dev-mode-exact",
        "only-packages",
    }
)

_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]*"
_HANDLER = re.compile(rf"^{_IDENTIFIER}(\.{_IDENTIFIER})+$")
_EXTRA = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
_PLATFORM_TAG = re.compile(r"^[a-z0-9_]+$")


@dataclass(frozen=True)
class LambdaConfig:
    runtime: str = DEFAULT_RUNTIME
    architecture: str = DEFAULT_ARCHITECTURE
    handler: str | None = None
    extras: tuple[str, ...] = ()
    resolver: str = "auto"
    platform_tags: tuple[str, ...] | None = None
    directory: str = DEFAULT_DIRECTORY
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    requirements: str = "auto"
    groups: tuple[str, ...] = ()
    poetry_include_hashes: bool = True
    poetry_without_urls: bool = False


# key -> (attribute, kind); kind drives the checks below.
_FIELDS: dict[str, tuple[str, str]] = {
    "runtime": ("runtime", "runtime"),
    "architecture": ("architecture", "architecture"),
    "handler": ("handler", "handler"),
    "extras": ("extras", "extras"),
    "resolver": ("resolver", "resolver"),
    "platform-tags": ("platform_tags", "platform-tags"),
    "directory": ("directory", "path"),
    "index-url": ("index_url", "url"),
    "extra-index-urls": ("extra_index_urls", "urls"),
    "find-links": ("find_links", "urls"),
    "requirements": ("requirements", "requirements"),
    "groups": ("groups", "groups"),
    "poetry-include-hashes": ("poetry_include_hashes", "bool"),
    "poetry-without-urls": ("poetry_without_urls", "bool"),
}
KNOWN_KEYS = tuple(_FIELDS)


class _Collector:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.problems: list[str] = []

    def key(self, *parts: str | int) -> str:
        path = self.prefix
        for part in parts:
            path += f"[{part}]" if isinstance(part, int) else f".{part}"
        return path

    def add(self, message: str) -> None:
        self.problems.append(message)


# Other names for Lambda's architectures, which spelling similarity alone would get wrong.
_ALIASES = {
    "amd64": "x86_64",
    "x64": "x86_64",
    "x86-64": "x86_64",
    "aarch64": "arm64",
    "armv8": "arm64",
}


def _one_of(c: _Collector, key: str, value: Any, allowed: Sequence[str]) -> str | None:
    if isinstance(value, str) and value in allowed:
        return value
    hint = ""
    if isinstance(value, str):
        alias = _ALIASES.get(value.lower())
        close = [alias] if alias in allowed else difflib.get_close_matches(value, allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
    c.add(f"{c.key(key)} must be one of {', '.join(map(repr, allowed))}, not {value!r}{hint}")
    return None


def _string_list(c: _Collector, key: str, value: Any) -> list[str] | None:
    if not isinstance(value, list):
        c.add(f"{c.key(key)} must be an array of strings, not {value!r}")
        return None
    good: list[str] = []
    for i, item in enumerate(value):
        if isinstance(item, str) and item:
            good.append(item)
        else:
            c.add(f"{c.key(key, i)} must be a non-empty string, not {item!r}")
    return good if len(good) == len(value) else None


def load_and_validate_config(
    table: Mapping[str, Any],
    *,
    key_path: str,
    allowed_foreign_keys: frozenset[str] = HATCHLING_HOOK_KEYS,
) -> LambdaConfig:
    """Validate a hatch-lambda table found at *key_path*; raise ``ConfigError`` with every problem."""
    c = _Collector(key_path)
    values: dict[str, Any] = {}

    for key in sorted(table):
        if key in allowed_foreign_keys:
            continue
        if key not in _FIELDS:
            close = difflib.get_close_matches(key, KNOWN_KEYS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            c.add(
                f"{c.key(key)} is not a hatch-lambda option{hint} "
                f"(known options: {', '.join(KNOWN_KEYS)})"
            )
            continue
        attribute, kind = _FIELDS[key]
        checked = _check(c, key, kind, table[key])
        if checked is not None:
            values[attribute] = checked

    if c.problems:
        raise ConfigError(c.problems)
    return LambdaConfig(**values)


def _check(c: _Collector, key: str, kind: str, value: Any) -> Any:
    if kind == "runtime":
        return _one_of(c, key, value, tuple(RUNTIMES))
    if kind == "architecture":
        return _one_of(c, key, value, tuple(ARCHITECTURES))
    if kind == "resolver":
        return _one_of(c, key, value, RESOLVERS)
    if kind == "handler":
        if isinstance(value, str) and _HANDLER.match(value):
            return value
        c.add(
            f"{c.key(key)} must name a module and a function, like 'my_pkg.app.handler', "
            f"not {value!r}"
        )
        return None
    if kind == "bool":
        if isinstance(value, bool):
            return value
        c.add(f"{c.key(key)} must be true or false, not {value!r}")
        return None
    if kind == "requirements":
        if isinstance(value, str) and value.strip():
            return value  # a lockfile name or a path; whether it exists is checked when building
        c.add(
            f"{c.key(key)} must be one of {', '.join(map(repr, REQUIREMENT_SOURCES))} "
            f"or a path to a lockfile, not {value!r}"
        )
        return None
    if kind == "path":
        if isinstance(value, str) and value.strip():
            return value
        c.add(f"{c.key(key)} must be a non-empty string, not {value!r}")
        return None
    if kind == "url":
        if isinstance(value, str) and value.strip():
            return value
        c.add(f"{c.key(key)} must be a URL string, not {value!r}")
        return None
    items = _string_list(c, key, value)
    if items is None:
        return None
    if kind == "extras":
        bad = [(i, e) for i, e in enumerate(items) if not _EXTRA.match(e)]
        for i, extra in bad:
            c.add(f"{c.key(key, i)} is not a valid extra name: {extra!r}")
        return None if bad else tuple(items)
    if kind == "groups":
        bad = [(i, g) for i, g in enumerate(items) if not _EXTRA.match(g)]
        for i, group in bad:
            c.add(f"{c.key(key, i)} is not a valid group name: {group!r}")
        return None if bad else tuple(items)
    if kind == "platform-tags":
        if not items:
            c.add(f"{c.key(key)} must list at least one platform tag, or be left out")
            return None
        bad = [(i, t) for i, t in enumerate(items) if not _PLATFORM_TAG.match(t)]
        for i, tag in bad:
            c.add(
                f"{c.key(key, i)} must be a platform tag such as 'manylinux_2_17_x86_64', "
                f"not {tag!r}"
            )
        return None if bad else tuple(items)
    return tuple(items)  # urls
