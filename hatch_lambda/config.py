"""The one validator: turns a pyproject table into a ``LambdaConfig`` or reports every problem."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Optional, Union

import pathspec

from ._pythons import not_found
from ._secrets import AMBIGUOUS, ambiguous_userinfo
from ._suggest import Meant, closest
from .errors import ConfigError
from .target import (
    ARCHITECTURES,
    DEFAULT_ARCHITECTURE,
    DEFAULT_RUNTIME,
    RUNTIMES,
    architecture_meant,
    runtime_meant,
)

RESOLVERS = ("auto", "uv", "pip")
REQUIREMENTS_MODES = ("resolve", "lock")
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


KINDS = ("function", "layer", "wheelhouse")
CONTENTS = ("all", "dependencies", "project")
MAX_UNZIPPED_SIZE = 262_144_000  # Lambda: function and all its layers, unzipped
WARN_ZIPPED_SIZE = 52_428_800  # Lambda: largest zip accepted by a direct upload
_ARTIFACT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


CompileBytecode = Union[bool, Literal["auto"]]


@dataclass(frozen=True)
class ArtifactConfig:
    """One artifact to build; the project-wide keys are its defaults."""

    name: str | None = None
    """None for the single artifact of a table without ``artifacts``."""
    kind: str = "function"
    runtime: str = DEFAULT_RUNTIME
    runtimes: tuple[str, ...] = ()
    """Layers only: every runtime the layer serves (Lambda's compatible runtimes)."""
    architecture: str = DEFAULT_ARCHITECTURE
    handler: str | None = None
    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    requirements: str = "auto"
    requirements_mode: str = "resolve"
    """How a requirements.txt is read: "resolve" adds what its pins leave out (as pip does);
    "lock" fails unless it pins every package the target needs."""
    resolver: str = "auto"
    platform_tags: tuple[str, ...] | None = None
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    poetry_include_hashes: bool = True
    poetry_without_urls: bool = False
    contents: str = "all"
    layers: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    slim: bool = False
    exclude_runtime_provided: bool = False
    compile_bytecode: CompileBytecode = "auto"
    """True: compile, or fail without an interpreter; "auto": compile when one can be had."""
    max_unzipped_size: int = MAX_UNZIPPED_SIZE
    warn_zipped_size: int = WARN_ZIPPED_SIZE
    audit_warn: tuple[str, ...] = ()
    refresh: bool = False
    container: str | bool = False
    """False (local mode), True (the first engine found), or "docker" / "podman" / "finch"."""
    image: str | None = None
    containerfile: str | None = None
    build_args: tuple[tuple[str, str], ...] = ()
    environment: tuple[tuple[str, str], ...] = ()
    network: str | None = None
    security_opt: str | None = None
    user: str | None = None
    volumes: tuple[str, ...] = ()
    volumes_from: tuple[str, ...] = ()
    file_access: str = "bind-mount"
    before_bundling: tuple[str, ...] = ()
    after_bundling: tuple[str, ...] = ()

    @property
    def all_runtimes(self) -> tuple[str, ...]:
        return self.runtimes or (self.runtime,)


@dataclass(frozen=True)
class LambdaConfig:
    directory: str = DEFAULT_DIRECTORY
    artifacts: tuple[ArtifactConfig, ...] = (ArtifactConfig(),)

    def artifact(self, name: str) -> ArtifactConfig | None:
        return next((a for a in self.artifacts if a.name == name), None)


# key -> (attribute, kind); kind drives the checks below. Every key may be set project-wide
# (as the default of every artifact) or in one artifact's table, except those in _PROJECT_ONLY.
_FIELDS: dict[str, tuple[str, str]] = {
    "kind": ("kind", "kind"),
    "runtime": ("runtime", "runtime"),
    "runtimes": ("runtimes", "runtimes"),
    "architecture": ("architecture", "architecture"),
    "handler": ("handler", "handler"),
    "extras": ("extras", "extras"),
    "groups": ("groups", "groups"),
    "requirements": ("requirements", "requirements"),
    "requirements-mode": ("requirements_mode", "requirements-mode"),
    "resolver": ("resolver", "resolver"),
    "platform-tags": ("platform_tags", "platform-tags"),
    "index-url": ("index_url", "url"),
    "extra-index-urls": ("extra_index_urls", "urls"),
    "find-links": ("find_links", "urls"),
    "poetry-include-hashes": ("poetry_include_hashes", "bool"),
    "poetry-without-urls": ("poetry_without_urls", "bool"),
    "contents": ("contents", "contents"),
    "layers": ("layers", "names"),
    "exclude": ("exclude", "patterns"),
    "slim": ("slim", "bool"),
    "exclude-runtime-provided": ("exclude_runtime_provided", "bool"),
    "compile-bytecode": ("compile_bytecode", "bytecode"),
    "max-unzipped-size": ("max_unzipped_size", "size"),
    "warn-zipped-size": ("warn_zipped_size", "size"),
    "audit-warn": ("audit_warn", "rules"),
    "refresh": ("refresh", "bool"),
    "container": ("container", "container"),
    "image": ("image", "path"),
    "containerfile": ("containerfile", "path"),
    "build-args": ("build_args", "strings-table"),
    "environment": ("environment", "strings-table"),
    "network": ("network", "path"),
    "security-opt": ("security_opt", "path"),
    "user": ("user", "path"),
    "volumes": ("volumes", "volumes"),
    "volumes-from": ("volumes_from", "names"),
    "file-access": ("file_access", "file-access"),
    "before-bundling": ("before_bundling", "commands"),
    "after-bundling": ("after_bundling", "commands"),
    "directory": ("directory", "path"),
    "artifacts": ("artifacts", "artifacts"),
}
_PROJECT_ONLY = frozenset({"directory", "artifacts"})
KNOWN_KEYS = tuple(_FIELDS)
ARTIFACT_KEYS = tuple(k for k in _FIELDS if k not in _PROJECT_ONLY)


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
        if message not in self.problems:  # artifacts that inherit a key share its problems
            self.problems.append(message)


def _did_you_mean(value: Any, allowed: Sequence[str], meant: Meant | None) -> str:
    guess = closest(value, allowed, meant)
    return f" (did you mean {guess!r}?)" if guess else ""


def _one_of(
    c: _Collector, key: str, value: Any, allowed: Sequence[str], meant: Meant | None = None
) -> str | None:
    if isinstance(value, str) and value in allowed:
        return value
    hint = _did_you_mean(value, allowed, meant)
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


def _check_table(
    c: _Collector, table: Mapping[str, Any], allowed: Sequence[str], foreign: frozenset[str]
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key in sorted(table):
        if key in foreign:
            continue
        if key not in allowed:
            close = closest(key, allowed)
            hint = f"; did you mean {close!r}?" if close else ""
            what = "a hatch-lambda option" if "artifacts" in allowed else "an artifact option"
            c.add(f"{c.key(key)} is not {what}{hint} (known options: {', '.join(allowed)})")
            continue
        attribute, kind = _FIELDS[key]
        checked = _check(c, key, kind, table[key])
        if checked is not None:
            values[attribute] = checked
    if "runtime" in table and "runtimes" in table:
        c.add(f"{c.key('runtime')} and {c.key('runtimes')} are both set; set one")
    return values


def _runtimes(values: dict[str, Any], *, more_specific: Mapping[str, Any]) -> dict[str, Any]:
    """`runtime` set in the more specific table wins over inherited `runtimes`, and the other
    way round; a layer's `runtime` is the first of its `runtimes`."""
    if "runtime" in more_specific and "runtimes" not in more_specific:
        values.pop("runtimes", None)
    elif values.get("runtimes"):
        values["runtime"] = values["runtimes"][0]
    return values


FindInterpreter = Callable[[str], Optional[str]]
"""``_pythons.find_python``: the path of a CPython of a version (``"3.12"``), or None."""


def _check_artifact(
    c: _Collector,
    artifact: ArtifactConfig,
    origin: dict[str, str],
    find_interpreter: FindInterpreter | None = None,
) -> None:
    """Rules that involve several keys; *origin* maps an attribute to the key path that set it."""

    def where(attribute: str) -> str:
        return origin.get(attribute, c.key(attribute.replace("_", "-")))

    if artifact.kind == "function" and len(artifact.runtimes) > 1:
        c.add(
            f"{where('runtimes')} lists {len(artifact.runtimes)} runtimes; a function runs on one"
        )
    if artifact.kind != "function":
        for attribute in ("handler", "layers"):
            if getattr(artifact, attribute):
                c.add(
                    f"{where(attribute)} only applies to functions, and this is a {artifact.kind}"
                )
    if not artifact.container:
        for attribute in ("image", "containerfile", "build_args", "environment", "network",
                          "security_opt", "user", "volumes", "volumes_from"):  # fmt: skip
            if getattr(artifact, attribute):
                c.add(f"{where(attribute)} only applies in container mode; set container = true")
    if artifact.image and artifact.containerfile:
        c.add(f"{where('image')} and {where('containerfile')} are both set; set one")
    if artifact.kind == "wheelhouse" and artifact.compile_bytecode is True:
        c.add(f"{where('compile_bytecode')} does not apply to a wheelhouse, which holds wheels")
    elif artifact.compile_bytecode is True and not artifact.container and find_interpreter:
        # Here rather than after resolving, downloading and installing; a container compiles
        # with the image's own interpreter. "auto" decides when the artifact is built.
        for name in artifact.all_runtimes:
            version = RUNTIMES[name].version
            if find_interpreter(version) is None:
                c.add(not_found(f"{where('compile_bytecode')} = true", version, name))


def _check_layers(
    c: _Collector, config: LambdaConfig, origin: dict[str | None, dict[str, str]]
) -> None:
    for artifact in config.artifacts:
        for i, name in enumerate(artifact.layers):
            key = origin[artifact.name].get("layers", "layers") + f"[{i}]"
            layer = config.artifact(name)
            if layer is None or layer.kind != "layer":
                layers = ", ".join(str(a.name) for a in config.artifacts if a.kind == "layer")
                c.add(
                    f"{key} names {name!r}, which is not a layer artifact (layers: {layers or 'none'})"
                )
                continue
            if layer.architecture != artifact.architecture:
                c.add(
                    f"{key}: layer {name!r} is built for {layer.architecture}, and this function "
                    f"for {artifact.architecture}"
                )
            if artifact.runtime not in layer.all_runtimes:
                c.add(
                    f"{key}: layer {name!r} serves {', '.join(layer.all_runtimes)}, not "
                    f"{artifact.runtime}; add it to the layer's runtimes"
                )


def load_and_validate_config(
    table: Mapping[str, Any],
    *,
    key_path: str,
    allowed_foreign_keys: frozenset[str] = HATCHLING_HOOK_KEYS,
    find_interpreter: FindInterpreter | None = None,
) -> LambdaConfig:
    """Validate a hatch-lambda table found at *key_path*; raise ``ConfigError`` with every problem.

    Without an ``artifacts`` table the table describes one artifact. With one, each
    ``artifacts.NAME`` table is an artifact and the keys beside ``artifacts`` are their defaults.
    With *find_interpreter*, ``compile-bytecode = true`` also needs an interpreter of each
    runtime's version on this machine (a build passes it; ``clean`` and the tests of the table need not).
    """
    c = _Collector(key_path)
    defaults = _check_table(c, table, KNOWN_KEYS, allowed_foreign_keys)
    directory = defaults.pop("directory", DEFAULT_DIRECTORY)
    named: dict[str, Any] = defaults.pop("artifacts", {})
    top_origin = {attr: c.key(key) for key, (attr, _) in _FIELDS.items() if key in table}

    artifacts: list[ArtifactConfig] = []
    origin: dict[str | None, dict[str, str]] = {}
    if not named:
        artifact = ArtifactConfig(**_runtimes(defaults, more_specific=defaults))
        _check_artifact(c, artifact, top_origin, find_interpreter)
        artifacts.append(artifact)
        origin[None] = top_origin
    for name, own in named.items():
        sub = _Collector(c.key("artifacts", name))
        sub.problems = c.problems
        if not _ARTIFACT_NAME.match(name):
            c.add(f"{c.key('artifacts', name)}: artifact names use a-z, 0-9, '-' and '_'")
        values = _check_table(sub, own, ARTIFACT_KEYS, frozenset())
        merged = _runtimes({**defaults, **values}, more_specific=values)
        here = {**top_origin, **{attr: sub.key(k) for k, (attr, _) in _FIELDS.items() if k in own}}
        artifact = ArtifactConfig(name=name, **merged)
        _check_artifact(sub, artifact, here, find_interpreter)
        artifacts.append(artifact)
        origin[name] = here

    config = LambdaConfig(directory=directory, artifacts=tuple(artifacts))
    _check_layers(c, config, origin)
    if c.problems:
        raise ConfigError(c.problems)
    return config


Checker = Callable[[_Collector, str, Any], Any]


def _choice(allowed: Sequence[str], meant: Meant | None = None) -> Checker:
    return lambda c, key, value: _one_of(c, key, value, allowed, meant)


def _scalar(ok: Callable[[Any], bool], expected: str) -> Checker:
    def check(c: _Collector, key: str, value: Any) -> Any:
        if ok(value):
            return value
        c.add(f"{c.key(key)} must be {expected}, not {value!r}")
        return None

    return check


def _items(
    ok: Callable[[str], bool] | None = None,
    problem: Callable[[str], str] = lambda item: f"is not valid: {item!r}",
    *,
    empty: str | None = None,
) -> Checker:
    """An array of strings, each passing *ok*; *empty* is the problem with an empty array."""

    def check(c: _Collector, key: str, value: Any) -> Any:
        items = _string_list(c, key, value)
        if items is None:
            return None
        if empty and not items:
            c.add(f"{c.key(key)} {empty}")
            return None
        bad = [(i, item) for i, item in enumerate(items) if ok and not ok(item)]
        for i, item in bad:
            c.add(f"{c.key(key, i)} {problem(item)}")
        return None if bad else tuple(dict.fromkeys(items))

    return check


def _rule_problem(rule: str) -> str:
    from .audit import RULES

    close = closest(rule, RULES)
    hint = f" (did you mean {close!r}?)" if close else ""
    return f"is not an audit rule: {rule!r}{hint}; the rules are {', '.join(RULES)}"


def _is_rule(rule: str) -> bool:
    from .audit import RULES

    return rule in RULES


def _patterns(c: _Collector, key: str, value: Any) -> Any:
    items = _string_list(c, key, value)
    if items is None:
        return None
    try:
        pathspec.GitIgnoreSpec.from_lines(items)
    except (ValueError, TypeError) as exc:
        c.add(f"{c.key(key)} holds a pattern that is not gitignore syntax: {exc}")
        return None
    return tuple(items)


def _artifacts(c: _Collector, key: str, value: Any) -> Any:
    if isinstance(value, Mapping) and value and all(isinstance(v, Mapping) for v in value.values()):
        return dict(value)
    c.add(
        f"{c.key(key)} must be a table of artifact tables, such as [{c.key(key)}.api], not {value!r}"
    )
    return None


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


_ENGINE_NAMES = ("docker", "podman", "finch")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _container(c: _Collector, key: str, value: Any) -> Any:
    if isinstance(value, bool) or value in _ENGINE_NAMES:
        return value
    close = closest(str(value), _ENGINE_NAMES)
    hint = f" (did you mean {close!r}?)" if close else ""
    c.add(
        f"{c.key(key)} must be true, false or one of {', '.join(map(repr, _ENGINE_NAMES))}, "
        f"not {value!r}{hint}"
    )
    return None


def _strings_table(c: _Collector, key: str, value: Any) -> Any:
    if not isinstance(value, Mapping):
        example = '{ PIP_INDEX_URL = "..." }'
        c.add(f"{c.key(key)} must be a table of strings, such as {example}, not {value!r}")
        return None
    bad = [k for k, v in value.items() if not isinstance(v, str) or not _VARIABLE.fullmatch(k)]
    for name in bad:
        c.add(f"{c.key(key, name)} must be a string named like an environment variable")
    return None if bad else tuple(sorted(value.items()))


def _url(c: _Collector, key: str, value: Any) -> Any:
    if not _text(value):
        c.add(f"{c.key(key)} must be a URL string, not {value!r}")
        return None
    if ambiguous_userinfo(value):
        c.add(f"{c.key(key)} {AMBIGUOUS}")  # the value is not shown: it may not redact
        return None
    return value


_CHECKERS: dict[str, Checker] = {
    "container": _container,
    "strings-table": _strings_table,
    "file-access": _choice(("bind-mount", "volume-copy")),
    "commands": _items(),
    "volumes": _items(
        lambda v: ":" in v.strip(":"), lambda v: f"must be HOST:CONTAINER[:ro], not {v!r}"
    ),
    "runtime": _choice(tuple(RUNTIMES), runtime_meant),
    "architecture": _choice(tuple(ARCHITECTURES), architecture_meant),
    "resolver": _choice(RESOLVERS),
    "requirements-mode": _choice(REQUIREMENTS_MODES),
    "kind": _choice(KINDS),
    "contents": _choice(CONTENTS),
    "handler": _scalar(
        lambda v: isinstance(v, str) and bool(_HANDLER.match(v)),
        "the name of a module and a function, like 'my_pkg.app.handler'",
    ),
    "size": _scalar(
        lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0,
        "a positive number of bytes",
    ),
    "bool": _scalar(lambda v: isinstance(v, bool), "true or false"),
    "bytecode": _scalar(lambda v: isinstance(v, bool) or v == "auto", 'true, false or "auto"'),
    # A lockfile name or a path: whether it exists is checked when building.
    "requirements": _scalar(
        _text, f"one of {', '.join(map(repr, REQUIREMENT_SOURCES))} or a path to a lockfile"
    ),
    "path": _scalar(_text, "a non-empty string"),
    "url": _url,
    "urls": _items(lambda u: not ambiguous_userinfo(u), lambda _: AMBIGUOUS),
    "names": _items(),
    "patterns": _patterns,
    "artifacts": _artifacts,
    "extras": _items(
        lambda e: bool(_EXTRA.match(e)), lambda e: f"is not a valid extra name: {e!r}"
    ),
    "groups": _items(
        lambda g: bool(_EXTRA.match(g)), lambda g: f"is not a valid group name: {g!r}"
    ),
    "runtimes": _items(
        lambda r: r in RUNTIMES,
        lambda r: (
            f"must be one of {', '.join(map(repr, RUNTIMES))}, not {r!r}"
            + _did_you_mean(r, tuple(RUNTIMES), runtime_meant)
        ),
        empty="must list at least one runtime",
    ),
    "rules": _items(_is_rule, _rule_problem),
    "platform-tags": _items(
        lambda t: bool(_PLATFORM_TAG.match(t)),
        lambda t: f"must be a platform tag such as 'manylinux_2_17_x86_64', not {t!r}",
        empty="must list at least one platform tag, or be left out",
    ),
}


def _check(c: _Collector, key: str, kind: str, value: Any) -> Any:
    return _CHECKERS[kind](c, key, value)
