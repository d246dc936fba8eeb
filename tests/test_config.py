"""The one validator: every problem at once, each with its full key path."""

from __future__ import annotations

import pytest

from hatch_lambda.config import KNOWN_KEYS, LambdaConfig, load_and_validate_config
from hatch_lambda.errors import ConfigError

KEY = "tool.hatch.build.targets.wheel.hooks.lambda"


def problems(table: dict[str, object]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_and_validate_config(table, key_path=KEY)
    assert isinstance(info.value, ValueError)
    return info.value.problems


def test_defaults() -> None:
    config = load_and_validate_config({}, key_path=KEY)
    assert config == LambdaConfig()
    [artifact] = config.artifacts
    assert (artifact.runtime, artifact.architecture, artifact.resolver) == (
        "python3.14",
        "x86_64",
        "auto",
    )
    assert config.directory == "dist-lambda"


def test_every_problem_is_reported_with_its_key() -> None:
    found = problems(
        {
            "runtime": "python3.15",
            "architecture": "amd64",
            "handler": "app",
            "extras": ["ok", "", "bad extra"],
            "platform-tags": ["manylinux_2_17_x86_64", "Not A Tag"],
            "resolver": 3,
            "directory": "",
            "handlr": "a.b",
        }
    )
    assert found == [
        f"{KEY}.architecture must be one of 'x86_64', 'arm64', not 'amd64' (did you mean 'x86_64'?)",
        f"{KEY}.directory must be a non-empty string, not ''",
        f"{KEY}.extras[1] must be a non-empty string, not ''",
        f"{KEY}.handler must be the name of a module and a function, like 'my_pkg.app.handler', not 'app'",
        f"{KEY}.handlr is not a hatch-lambda option; did you mean 'handler'? (known options: "
        f"{', '.join(KNOWN_KEYS)})",
        f"{KEY}.platform-tags[1] must be a platform tag such as 'manylinux_2_17_x86_64', not 'Not A Tag'",
        f"{KEY}.resolver must be one of 'auto', 'uv', 'pip', not 3",
        f"{KEY}.runtime must be one of 'python3.9', 'python3.10', 'python3.11', 'python3.12', "
        "'python3.13', 'python3.14', not 'python3.15' (did you mean 'python3.14'?)",
    ]


@pytest.mark.parametrize(
    ("key", "value", "meant"),
    [
        ("runtime", "3.12", "python3.12"),
        ("runtime", "py312", "python3.12"),
        ("runtime", "python312", "python3.12"),
        ("runtime", "Python3.9", "python3.9"),
        ("runtime", 3.12, "python3.12"),  # `runtime = 3.12`: a TOML number
        ("runtime", 3.1, "python3.10"),  # `runtime = 3.10` reads as 3.1
        ("architecture", "ARM64", "arm64"),
        ("architecture", "arm", "arm64"),
        ("architecture", "aarch64", "arm64"),
        ("architecture", "amd64", "x86_64"),
        ("architecture", "x64", "x86_64"),
        ("architecture", "X86_64", "x86_64"),
        ("architecture", "linux/arm64", "arm64"),
    ],
)
def test_other_spellings_of_runtimes_and_architectures_get_a_did_you_mean(
    key: str, value: object, meant: str
) -> None:
    [problem] = problems({key: value})
    assert problem.startswith(f"{KEY}.{key} must be one of ")
    assert problem.endswith(f", not {value!r} (did you mean {meant!r}?)")


def test_runtimes_entries_get_a_did_you_mean_too() -> None:
    found = problems({"kind": "layer", "runtimes": ["python3.11", "3.12", "nope"]})
    assert len(found) == 2
    assert found[0].startswith(f"{KEY}.runtimes[1] must be one of 'python3.9'")
    assert found[0].endswith("not '3.12' (did you mean 'python3.12'?)")
    assert found[1].endswith("not 'nope'")


def test_invalid_extra_name_is_reported_at_its_index() -> None:
    assert problems({"extras": ["ok", "bad extra"]}) == [
        f"{KEY}.extras[1] is not a valid extra name: 'bad extra'"
    ]


@pytest.mark.parametrize(
    "key",
    [
        "dependencies",
        "enable-by-default",
        "require-runtime-dependencies",
        "require-runtime-features",
    ],
)
def test_hatchlings_own_hook_keys_are_allowed(key: str) -> None:
    load_and_validate_config({key: True}, key_path=KEY)


def test_credentials_in_bad_values_are_redacted() -> None:
    found = problems({"index-url": 5, "extra-index-urls": "https://user:s3cret@example.com/simple"})
    assert all("s3cret" not in p for p in found)
    assert (
        found[0]
        == f"{KEY}.extra-index-urls must be an array of strings, not 'https://***@example.com/simple'"
    )


def test_values_are_kept() -> None:
    config = load_and_validate_config(
        {
            "runtime": "python3.9",
            "architecture": "arm64",
            "handler": "a.b.c",
            "extras": ["x"],
            "platform-tags": ["manylinux2014_aarch64"],
            "resolver": "pip",
        },
        key_path=KEY,
    )
    [artifact] = config.artifacts
    assert artifact.platform_tags == ("manylinux2014_aarch64",)
    assert artifact.extras == ("x",)
    assert artifact.handler == "a.b.c"


def test_artifacts_inherit_the_project_defaults() -> None:
    config = load_and_validate_config(
        {
            "runtime": "python3.11",
            "architecture": "arm64",
            "exclude": ["*.md"],
            "artifacts": {
                "deps": {"kind": "layer", "runtimes": ["python3.11", "python3.12"]},
                "api": {"handler": "app.main.handler", "layers": ["deps"]},
                "new": {"runtime": "python3.12", "architecture": "x86_64"},
            },
        },
        key_path=KEY,
    )
    deps, api, new = (config.artifact(n) for n in ("deps", "api", "new"))
    assert deps is not None and api is not None and new is not None
    assert deps.all_runtimes == ("python3.11", "python3.12") and deps.architecture == "arm64"
    assert api.runtime == "python3.11" and api.exclude == ("*.md",) and api.layers == ("deps",)
    assert new.all_runtimes == ("python3.12",) and new.architecture == "x86_64"


def test_artifact_problems_carry_their_nested_key() -> None:
    found = problems(
        {
            "artifacts": {
                "api": {
                    "kind": "function",
                    "runtimes": ["python3.11", "python3.12"],
                    "slim": "yes",
                },
                "Bad Name": {"kind": "layer", "handler": "a.b"},
                "wh": {"kind": "wheelhouse", "compile-bytecode": True, "directory": "x"},
            }
        }
    )
    assert f"{KEY}.artifacts.api.slim must be true or false, not 'yes'" in found
    assert f"{KEY}.artifacts.api.runtimes lists 2 runtimes; a function runs on one" in found
    assert f"{KEY}.artifacts.Bad Name: artifact names use a-z, 0-9, '-' and '_'" in found
    assert (
        f"{KEY}.artifacts.Bad Name.handler only applies to functions, and this is a layer" in found
    )
    assert any(
        p.startswith(f"{KEY}.artifacts.wh.directory is not an artifact option") for p in found
    )
    assert (
        f"{KEY}.artifacts.wh.compile-bytecode does not apply to a wheelhouse, which holds wheels"
        in found
    )


def test_compile_bytecode_needs_the_interpreter_of_each_runtime_it_compiles_for() -> None:
    table = {
        "compile-bytecode": True,
        "artifacts": {
            "deps": {"kind": "layer", "runtimes": ["python3.12", "python3.13"]},
            "api": {"runtime": "python3.13"},
            "boxed": {"runtime": "python3.14", "container": True},  # the image's own Python
            "own": {"runtime": "python3.11", "compile-bytecode": True},
            "wheels": {"kind": "wheelhouse", "compile-bytecode": False},
        },
    }
    asked: list[str] = []

    def only_312(version: str) -> str | None:
        asked.append(version)
        return "/usr/bin/python3.12" if version == "3.12" else None

    with pytest.raises(ConfigError) as info:
        load_and_validate_config(table, key_path=KEY, find_interpreter=only_312)
    assert sorted(set(asked)) == ["3.11", "3.12", "3.13"]
    found = info.value.problems
    assert [p.split(" needs ")[0] for p in found] == [
        f"{KEY}.compile-bytecode = true",  # python3.13, for the layer and api alike: said once
        f"{KEY}.artifacts.own.compile-bytecode = true",
    ]
    assert "a CPython 3.13 interpreter to compile for python3.13, and none was found" in found[0]
    assert found[1].endswith(
        "To get one, run `uv python install 3.11`, or set HATCH_LAMBDA_PYTHON_311 to a CPython "
        '3.11; or set compile-bytecode = "auto" (the default), which ships sources where there '
        "is none"
    )
    load_and_validate_config(table, key_path=KEY)  # without a finder: the table alone


def test_compile_bytecode_is_auto_by_default_and_auto_asks_for_no_interpreter() -> None:
    table = {
        "artifacts": {
            "api": {"runtime": "python3.13"},
            "pinned": {"runtime": "python3.12", "compile-bytecode": "auto"},
            "plain": {"compile-bytecode": False},
            "wheels": {"kind": "wheelhouse"},  # "auto" means nothing to a wheelhouse
        },
    }
    asked: list[str] = []

    def nothing(version: str) -> str | None:
        asked.append(version)
        return None

    config = load_and_validate_config(table, key_path=KEY, find_interpreter=nothing)
    assert asked == []  # "auto" decides when an artifact is built, never fails validation
    assert [a.compile_bytecode for a in config.artifacts] == ["auto", "auto", False, "auto"]
    with pytest.raises(ConfigError) as info:
        load_and_validate_config({"compile-bytecode": "yes"}, key_path=KEY)
    assert info.value.problems == [
        f"{KEY}.compile-bytecode must be true, false or \"auto\", not 'yes'"
    ]


def test_requirements_mode_is_resolve_or_lock() -> None:
    [artifact] = load_and_validate_config({"requirements-mode": "lock"}, key_path=KEY).artifacts
    assert artifact.requirements_mode == "lock"
    assert LambdaConfig().artifacts[0].requirements_mode == "resolve"
    assert problems({"requirements-mode": "strict"}) == [
        f"{KEY}.requirements-mode must be one of 'resolve', 'lock', not 'strict'"
    ]
