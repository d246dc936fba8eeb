"""Which packages a failed wheels-only resolution lets fall back to their sdist."""

from __future__ import annotations

from hatch_lambda.errors import ToolError
from hatch_lambda.wheelhouse._retry import packages_needing_sdists

UV_SDIST_ONLY = """error: No solution found when resolving dependencies
  cause: Because fx-sdist-pure==1.0 has no usable wheels and only fx-sdist-pure==1.0 is available,
hint: Wheels are required for `fx-sdist-pure` because building from source is disabled"""
UV_WRONG_PLATFORM = (
    "  cause: Because fx-hostonly==1.0 has no wheels with a matching platform tag "
    "(e.g., `manylinux_2_34_x86_64`)\n"
    "hint: Wheels are available for `fx-hostonly` (v1.0) on the following platform: "
    "`macosx_11_0_arm64`"
)
PIP = (
    "ERROR: Could not find a version that satisfies the requirement Fx_Sdist.Pure "
    "(from versions: none)\nERROR: No matching distribution found for Fx_Sdist.Pure"
)


def test_uv_sdist_only_package_is_named() -> None:
    assert packages_needing_sdists(ToolError(UV_SDIST_ONLY)) == {"fx-sdist-pure"}


def test_uv_wrong_platform_is_not_retried_from_source() -> None:
    assert packages_needing_sdists(ToolError(UV_WRONG_PLATFORM)) == set()


def test_pip_names_are_normalized() -> None:
    assert packages_needing_sdists(ToolError(PIP)) == {"fx-sdist-pure"}
