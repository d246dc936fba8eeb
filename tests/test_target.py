"""Wheel tags and marker environments computed for each Lambda runtime and architecture."""

from __future__ import annotations

import pytest
from packaging.tags import Tag, parse_tag
from packaging.utils import parse_wheel_filename

from hatch_lambda.errors import TargetError
from hatch_lambda.target import RUNTIMES, manylinux_glibc, manylinux_platforms, resolve_target

CEILING = {
    "python3.9": 26,
    "python3.10": 26,
    "python3.11": 26,
    "python3.12": 34,
    "python3.13": 34,
    "python3.14": 34,
}
MACHINE = {"x86_64": "x86_64", "arm64": "aarch64"}
ALL = [(r, a) for r in RUNTIMES for a in MACHINE]


def test_runtime_table_matches_lambda() -> None:
    assert list(RUNTIMES) == [f"python3.{m}" for m in range(9, 15)]
    assert {n: r.glibc for n, r in RUNTIMES.items()} == {n: (2, c) for n, c in CEILING.items()}
    assert RUNTIMES["python3.9"].deprecated


@pytest.mark.parametrize(("runtime", "architecture"), ALL)
def test_tags_for_every_runtime_and_architecture(runtime: str, architecture: str) -> None:
    target, warnings = resolve_target(runtime, architecture)
    assert warnings == []
    machine = MACHINE[architecture]
    minor = runtime.removeprefix("python3.")
    cp = f"cp3{minor}"
    ceiling = CEILING[runtime]

    assert target.tags[0] == Tag(cp, cp, f"manylinux_2_{ceiling}_{machine}")
    assert target.tags[-1] == Tag("py30", "none", "any")
    assert Tag("py3", "none", "any") in target.tags
    assert Tag("cp39", "abi3", f"manylinux2014_{machine}") in target.tags
    assert Tag(cp, "none", f"manylinux_2_17_{machine}") in target.tags
    # Never anything Lambda cannot load.
    platforms = {t.platform for t in target.tags}
    assert platforms == {*target.platforms, "any"}
    assert not [p for p in platforms if p.startswith(("musllinux", "linux_", "macosx", "win"))]
    assert not [
        t
        for t in target.tags
        if t.interpreter.startswith("cp") and t.interpreter > cp and len(t.interpreter) == len(cp)
    ]
    glibcs = [manylinux_glibc(p) for p in target.platforms]
    assert all(g is not None and g[0] <= (2, ceiling) and g[1] == machine for g in glibcs)
    lowest = 5 if machine == "x86_64" else 17
    assert target.platforms[-1] == (
        "manylinux1_x86_64" if lowest == 5 else f"manylinux2014_{machine}"
    )
    assert f"manylinux_2_{lowest}_{machine}" in target.platforms


@pytest.mark.parametrize(("runtime", "architecture"), ALL)
def test_marker_environment_is_the_targets(runtime: str, architecture: str) -> None:
    target, _ = resolve_target(runtime, architecture)
    env = target.marker_environment()
    version = runtime.removeprefix("python")
    assert env["python_version"] == version
    assert env["python_full_version"].startswith(version + ".")
    assert env["platform_machine"] == MACHINE[architecture]
    assert (env["sys_platform"], env["platform_system"], env["os_name"]) == (
        "linux",
        "Linux",
        "posix",
    )
    assert env["implementation_name"] == "cpython"


def test_legacy_aliases_follow_their_glibc() -> None:
    platforms = manylinux_platforms((2, 26), "x86_64", 5)
    assert platforms.index("manylinux2014_x86_64") == platforms.index("manylinux_2_17_x86_64") + 1
    assert platforms.index("manylinux2010_x86_64") == platforms.index("manylinux_2_12_x86_64") + 1
    assert platforms[-2:] == ["manylinux_2_5_x86_64", "manylinux1_x86_64"]
    assert "manylinux2010_aarch64" not in manylinux_platforms((2, 34), "aarch64", 17)


@pytest.mark.parametrize(
    ("runtime", "accepted"),
    [("python3.11", False), ("python3.12", True), ("python3.13", True)],
)
def test_compressed_tag_sets_are_parsed_part_by_part(runtime: str, accepted: bool) -> None:
    """numpy 2.3's only cp311 x86_64 wheels: manylinux_2_27 and _2_28 in one compressed set."""
    filename = "numpy-2.3.0-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl"
    target, _ = resolve_target(runtime, "x86_64")
    tags = parse_wheel_filename(filename)[3]
    assert len(tags) == 2
    # cp311 wheels never fit 3.12+ (ABI) and never fit 3.11 (glibc 2.26 < 2.27).
    assert target.accepts(tags) is False
    abi3 = parse_tag("cp39-abi3-manylinux_2_27_x86_64.manylinux_2_28_x86_64")
    assert target.accepts(abi3) is accepted
    mixed = parse_tag("cp39-abi3-manylinux1_x86_64.manylinux_2_28_x86_64")
    assert target.accepts(mixed)


def test_platform_tags_override_keeps_order_and_warns() -> None:
    target, warnings = resolve_target(
        "python3.11",
        "arm64",
        [
            "musllinux_1_2_aarch64",
            "manylinux_2_28_aarch64",
            "manylinux_2_17_x86_64",
            "manylinux2014_aarch64",
            "macosx_11_0_arm64",
        ],
    )
    assert target.platforms[:2] == ("musllinux_1_2_aarch64", "manylinux_2_28_aarch64")
    assert target.tags[0] == Tag("cp311", "cp311", "musllinux_1_2_aarch64")
    assert len(warnings) == 4
    assert "Lambda runs glibc, not musl" in warnings[0]
    assert "needs glibc 2.28 and python3.11 (Amazon Linux 2) has 2.26" in warnings[1]
    assert "it is for x86_64, not aarch64" in warnings[2]
    assert "Lambda loads only manylinux wheels" in warnings[3]


def test_unknown_runtime_and_architecture() -> None:
    with pytest.raises(TargetError, match=r"unknown runtime 'python3\.8'"):
        resolve_target("python3.8", "x86_64")
    with pytest.raises(TargetError, match=r"unknown architecture 'aarch64'"):
        resolve_target("python3.12", "aarch64")
