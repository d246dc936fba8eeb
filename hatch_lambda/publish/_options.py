"""The publisher's options: merged from Hatch's config file, ``[tool.hatch.publish.lambda]`` and
``-o key=value``, each later source winning, and validated all at once, each problem with its key."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._secrets import AMBIGUOUS, ambiguous_userinfo
from .._suggest import closest
from ..errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PROJECT_KEY = "tool.hatch.publish.lambda"
GLOBAL_KEY = "publish.lambda"
"""The table in Hatch's own config file (`hatch config find`)."""

KEYS = (
    "region",
    "profile",
    "endpoint-url",
    "s3-bucket",
    "s3-prefix",
    "functions",
    "layers",
    "function-name",
    "publish-version",
    "alias",
    "dry-run",
)
# Hatch's own keys: `disable` in the tables, and what `hatch publish` passes every publisher.
FOREIGN_KEYS = frozenset({"disable", "no_prompt", "initialize_auth"})

_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")
_FUNCTION = re.compile(
    r"^(?:(?:arn:aws[a-z-]*:lambda:[a-z0-9-]+:)?\d{12}:function:)?[A-Za-z0-9_-]{1,64}$"
)
_LAYER = re.compile(r"^(?:arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:)?[A-Za-z0-9_-]{1,140}$")
_ALIAS = re.compile(r"^(?!\d+$)[A-Za-z0-9_-]{1,128}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d+$")
_ARTIFACT = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True)
class PublishOptions:
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    s3_bucket: str | None = None
    s3_prefix: str = ""
    functions: Mapping[str, str] = field(default_factory=dict)
    """Artifact name -> function name or ARN."""
    layers: Mapping[str, str] = field(default_factory=dict)
    """Artifact name -> layer name or ARN."""
    function_name: str | None = None
    publish_version: bool = False
    alias: str | None = None
    dry_run: bool = False
    origin: Mapping[str, str] = field(default_factory=dict)
    """Key -> where it was set (``tool.hatch.publish.lambda.functions``, ``-o functions``)."""

    def where(self, key: str) -> str:
        return self.origin.get(key, f"{PROJECT_KEY}.{key}")


@dataclass(frozen=True)
class Source:
    """One place options come from: a table, or the ``-o`` options (strings to be parsed)."""

    values: Mapping[str, Any]
    prefix: str
    """``tool.hatch.publish.lambda`` for a table, ``-o`` for the command line."""
    strings: bool = False

    def key(self, key: str) -> str:
        return f"{self.prefix} {key}" if self.strings else f"{self.prefix}.{key}"


def command_line(options: Sequence[str] | Mapping[str, Any]) -> Source:
    """``-o key=value`` options, as `hatch-lambda publish` gets them (a list) or `hatch publish`
    passes them (a dict). ``functions.api=my-fn`` sets one entry of a table."""
    pairs = list(options.items()) if isinstance(options, Mapping) else []
    problems = []
    for option in options if not isinstance(options, Mapping) else ():
        key, sep, value = option.partition("=")
        if not sep:
            problems.append(f"-o {option!r} must be KEY=VALUE, such as -o dry-run=true")
        pairs.append((key.strip(), value))
    if problems:
        raise ConfigError(problems)
    values: dict[str, Any] = {}
    for key, value in pairs:
        table, dot, entry = key.partition(".")
        if dot and table in ("functions", "layers"):
            previous = values.get(table)
            values[table] = {**(previous if isinstance(previous, dict) else {}), entry: value}
        else:
            values[key] = value
    return Source(values, "-o", strings=True)


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, message: str) -> None:
        if message not in self.items:
            self.items.append(message)


def _as_bool(p: _Problems, where: str, value: Any, strings: bool) -> bool | None:
    if isinstance(value, bool):
        return value
    if strings and isinstance(value, str) and value.strip().lower() in (*_TRUE, *_FALSE):
        return value.strip().lower() in _TRUE
    accepted = f"one of {', '.join(_TRUE + _FALSE)}" if strings else "true or false"
    p.add(f"{where} must be {accepted}, not {value!r}")
    return None


def _as_table(p: _Problems, where: str, value: Any, strings: bool) -> dict[str, Any] | None:
    if isinstance(value, Mapping):
        return dict(value)
    if strings and isinstance(value, str):
        text = value.strip()
        try:
            if text.startswith("{"):
                parsed: dict[str, Any] = tomllib.loads(f"v = {text}")["v"]
                return parsed
            pairs = [item.partition("=") for item in text.split(",") if item.strip()]
            if pairs and all(sep and k.strip() and v.strip() for k, sep, v in pairs):
                return {k.strip(): v.strip() for k, _, v in pairs}
        except tomllib.TOMLDecodeError:
            pass
        p.add(
            f"{where} must be ARTIFACT=NAME[,ARTIFACT=NAME...], a TOML inline table such as "
            f'{{api = "my-function"}}, or set one entry with {where}.ARTIFACT=NAME; not {value!r}'
        )
        return None
    p.add(f"{where} must be a table of artifact name = name, such as {{api = \"my-function\"}}, "
          f"not {value!r}")  # fmt: skip
    return None


def _as_text(
    p: _Problems, where: str, value: Any, pattern: re.Pattern[str] | None, expected: str
) -> str | None:
    if isinstance(value, str) and value.strip() and (pattern is None or pattern.match(value)):
        return value.strip()
    p.add(f"{where} must be {expected}, not {value!r}")
    return None


def _names(
    p: _Problems, where: str, value: Any, strings: bool, *, pattern: re.Pattern[str], expected: str
) -> dict[str, str] | None:
    table = _as_table(p, where, value, strings)
    if table is None:
        return None
    good: dict[str, str] = {}
    for artifact, name in table.items():
        if not _ARTIFACT.match(artifact):
            p.add(f"{where}.{artifact}: artifact names use a-z, 0-9, '-' and '_'")
        elif (checked := _as_text(p, f"{where}.{artifact}", name, pattern, expected)) is not None:
            good[artifact] = checked
    return good if len(good) == len(table) else None


_FUNCTION_EXPECTED = (
    "a function name or an unqualified function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)"
)
_LAYER_EXPECTED = "a layer name (A-Z, a-z, 0-9, '-', '_') or a layer ARN without a version"

Check = Callable[[_Problems, str, Any, bool], Any]

_CHECKS: dict[str, Check] = {
    "region": lambda p, w, v, s: _as_text(p, w, v, _REGION, "a region such as 'eu-west-1'"),
    "profile": lambda p, w, v, s: _as_text(p, w, v, None, "the name of an AWS profile"),
    "endpoint-url": lambda p, w, v, s: _endpoint(p, w, v),
    "s3-bucket": lambda p, w, v, s: _as_text(
        p, w, v, _BUCKET, "an S3 bucket name (a-z, 0-9, '.', '-'; 3 to 63 characters)"
    ),
    "s3-prefix": lambda p, w, v, s: _prefix(p, w, v),
    "functions": lambda p, w, v, s: _names(
        p, w, v, s, pattern=_FUNCTION, expected=_FUNCTION_EXPECTED
    ),
    "layers": lambda p, w, v, s: _names(p, w, v, s, pattern=_LAYER, expected=_LAYER_EXPECTED),
    "function-name": lambda p, w, v, s: _as_text(p, w, v, _FUNCTION, _FUNCTION_EXPECTED),
    "publish-version": _as_bool,
    "alias": lambda p, w, v, s: _as_text(
        p, w, v, _ALIAS, "an alias name (A-Z, a-z, 0-9, '-', '_'; not only digits)"
    ),
    "dry-run": _as_bool,
}


def _endpoint(p: _Problems, where: str, value: Any) -> str | None:
    if not (isinstance(value, str) and re.match(r"^https?://[^\s/]+", value)):
        shown = value if not isinstance(value, str) else "a value that is not one"
        p.add(f"{where} must be an http:// or https:// URL, not {shown}")
        return None
    if ambiguous_userinfo(value):
        p.add(f"{where} {AMBIGUOUS}")
        return None
    return value.strip()


def _prefix(p: _Problems, where: str, value: Any) -> str | None:
    if isinstance(value, str) and " " not in value and ".." not in value.split("/"):
        return value.strip("/")
    p.add(f"{where} must be a key prefix such as 'lambda/my-app', not {value!r}")
    return None


def validate_options(sources: Sequence[Source]) -> PublishOptions:
    """The options of all *sources* merged (later ones win), or ``ConfigError`` with every problem."""
    p = _Problems()
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for source in sources:
        for key in source.values:
            if key in FOREIGN_KEYS:
                continue
            if key not in KEYS:
                close = closest(key, KEYS)
                hint = f"; did you mean {close!r}?" if close else ""
                p.add(f"{source.key(key)} is not a publish option{hint} (known options: "
                      f"{', '.join(KEYS)})")  # fmt: skip
                continue
            where = source.key(key)
            checked = _CHECKS[key](p, where, source.values[key], source.strings)
            if checked is None:
                continue
            if key in ("functions", "layers") and key in values and source.strings:
                checked = {**values[key], **checked}  # -o functions.api=... adds to the table
            values[key] = checked
            origin[key] = where
    if values.get("alias") and values.get("publish-version") is False:
        p.add(f"{origin['alias']} points an alias at a new version, and "
              f"{origin['publish-version']} = false publishes none: drop one of them")  # fmt: skip
    if values.get("function-name") and values.get("functions"):
        p.add(f"{origin['function-name']} and {origin['functions']} are both set: function-name "
              "is for a project with one function; use functions for several")  # fmt: skip
    if values.get("s3-prefix") and not values.get("s3-bucket"):
        p.add(f"{origin['s3-prefix']} is set without s3-bucket; set s3-bucket too")
    if p.items:
        raise ConfigError(p.items)
    return PublishOptions(
        region=values.get("region"),
        profile=values.get("profile"),
        endpoint_url=values.get("endpoint-url"),
        s3_bucket=values.get("s3-bucket"),
        s3_prefix=values.get("s3-prefix", ""),
        functions=values.get("functions", {}),
        layers=values.get("layers", {}),
        function_name=values.get("function-name"),
        # An alias names a version, so asking for one publishes one.
        publish_version=bool(values.get("publish-version") or values.get("alias")),
        alias=values.get("alias"),
        dry_run=bool(values.get("dry-run", False)),
        origin=origin,
    )
