"""Audit rules run on the install tree before anything is archived."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from hatch_lambda.selection import unneeded_distributions
from hatch_lambda.target import resolve_target
from support.audit import audit_folder, check_handler


def write(root: Path, name: str, text: str = "") -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.mark.parametrize(
    "source",
    [
        "def handler(event, context):\n    return 1\n",
        "async def handler(event, context):\n    return 1\n",
        "from .impl import handler\n",
        "import json as handler\n",
        "handler = make_handler()\n",
        "handler: object = object()\n",
        "try:\n    from fast import handler\nexcept ImportError:\n    def handler(e, c): pass\n",
        "class handler:\n    pass\n",
    ],
)
def test_handler_definitions_that_count(tmp_path: Path, source: str) -> None:
    write(tmp_path, "pkg/app.py", source)
    assert check_handler(tmp_path, "pkg.app.handler") == []


def test_handler_in_a_package_module(tmp_path: Path) -> None:
    write(tmp_path, "pkg/app/__init__.py", "def handler(e, c):\n    pass\n")
    assert check_handler(tmp_path, "pkg.app.handler") == []


def test_handler_not_defined_only_inside_a_function(tmp_path: Path) -> None:
    write(tmp_path, "pkg/app.py", "def main():\n    def handler(e, c):\n        pass\n")
    [finding] = check_handler(tmp_path, "pkg.app.handler")
    assert finding.rule == "handler" and finding.path == "pkg/app.py"
    assert "defines no 'handler' at module level (its functions: main)" in finding.message


def test_handler_module_with_a_syntax_error(tmp_path: Path) -> None:
    write(tmp_path, "pkg/app.py", "def handler(:\n")
    [finding] = check_handler(tmp_path, "pkg.app.handler")
    assert "cannot be parsed (line 1)" in finding.message


def test_foreign_bytecode_and_foreign_wheel_tags_are_found(tmp_path: Path) -> None:
    target, _ = resolve_target("python3.12", "arm64")
    write(tmp_path, "pkg/__pycache__/mod.cpython-311.pyc")
    write(tmp_path, "pkg/__pycache__/ok.cpython-312.pyc")
    write(
        tmp_path,
        "good-1.0.dist-info/WHEEL",
        "Wheel-Version: 1.0\nTag: cp312-cp312-manylinux_2_17_aarch64\n",
    )
    write(
        tmp_path,
        "bad-1.0.dist-info/WHEEL",
        "Wheel-Version: 1.0\nTag: cp312-cp312-manylinux_2_17_x86_64\n",
    )
    findings = audit_folder(tmp_path, target)
    assert [(f.rule, f.path) for f in findings] == [
        ("wheel-tags", "bad-1.0.dist-info/WHEEL"),
        ("bytecode", "pkg/__pycache__/mod.cpython-311.pyc"),
    ]
    assert "bytecode for cpython-311, not cpython-312" in findings[1].message


def dist(root: Path, name: str, version: str, *requires: str) -> None:
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    meta += "".join(f"Requires-Dist: {r}\n" for r in requires)
    write(root, f"{name.replace('-', '_')}-{version}.dist-info/METADATA", meta)


def test_closure_follows_markers_extras_and_versions(tmp_path: Path) -> None:
    target, _ = resolve_target("python3.9", "arm64")
    dist(tmp_path, "app", "1.0", "lib[speed]>=2", "old; python_version < '3.10'",
         "win; sys_platform == 'win32'", "opt; extra == 'extra'")  # fmt: skip
    dist(tmp_path, "lib", "1.5", "fast; extra == 'speed'", "arm; platform_machine == 'aarch64'")
    dist(tmp_path, "arm", "1.0")
    findings = audit_folder(tmp_path, target, roots=[("app", ["extra"])])
    messages = sorted(f.message for f in findings)
    assert [f.rule for f in findings] == ["closure"] * 4
    assert messages == [
        "app 1.0 requires lib>=2, and the bundle has lib 1.5",
        'app 1.0 requires old ; python_version < "3.10", which is not in the bundle for '
        "python3.9 arm64; the lock or resolution left it out",
        'app 1.0 requires opt ; extra == "extra", which is not in the bundle for python3.9 arm64; '
        "the lock or resolution left it out",
        'lib 1.5 requires fast ; extra == "speed", which is not in the bundle for python3.9 arm64; '
        "the lock or resolution left it out",
    ]
    other, _ = resolve_target("python3.12", "x86_64")
    later = audit_folder(tmp_path, other)
    assert [f.message.split(",")[0] for f in later] == [
        "app 1.0 requires lib>=2",
        'lib 1.5 requires fast ; extra == "speed"',
    ]


def test_runtime_provided_pruning_keeps_a_dependency_whose_marker_cannot_be_evaluated() -> None:
    env = resolve_target("python3.12", "x86_64")[0].marker_environment()
    requires = {
        canonicalize_name("boto3"): ["botocore", "jmespath"],
        canonicalize_name("app-lib"): ['jmespath; platform_release ~= "x.y"', "not a requirement!"],
        canonicalize_name("botocore"): [],
        canonicalize_name("jmespath"): [],
    }
    dropped = unneeded_distributions(requires, ["boto3", "app-lib"], env, drop=["boto3"])
    # In doubt jmespath is still needed by app-lib; the unparsable line names nothing.
    assert dropped == {"boto3", "botocore"}
