"""Which packages a failed wheels-only resolution lets fall back to their sdist."""

from __future__ import annotations

from pathlib import Path

import pytest

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


UV_ABSENT = (
    "  cause: Because fx-pur was not found in the package registry and you require fx-pur, we "
    "can conclude that your requirements are unsatisfiable."
)


def test_a_name_uv_did_not_find_is_said_to_be_absent_without_asking_the_index() -> None:
    from hatch_lambda.wheelhouse import Indexes
    from hatch_lambda.wheelhouse._advice import not_on_index

    # An index that cannot be reached: uv's own word is enough.
    assert not_on_index(ToolError(UV_ABSENT), Indexes("http://127.0.0.1:9/simple")) == ["fx-pur"]
    assert not_on_index(ToolError(UV_WRONG_PLATFORM), Indexes("http://127.0.0.1:9/simple")) == []


def test_pip_none_found_is_looked_up_on_the_index(index_url: str) -> None:
    from hatch_lambda.wheelhouse import Indexes
    from hatch_lambda.wheelhouse._advice import not_on_index

    said = (
        PIP.replace("Fx_Sdist.Pure", "fx-hostonly") + "\n" + PIP.replace("Fx_Sdist.Pure", "fx-pur")
    )
    assert not_on_index(ToolError(said), Indexes(index_url)) == ["fx-pur"]
    # An index that cannot be read says nothing either way.
    assert not_on_index(ToolError(said), Indexes("http://127.0.0.1:9/simple")) == []


def test_binary_twins_are_named_for_the_project_not_for_the_twin() -> None:
    from hatch_lambda.wheelhouse._advice import mentioned, twin_advice

    assert mentioned("Building psycopg2==2.9.10 failed; psycopg2-binary is fine") == ["psycopg2"]
    assert mentioned("psycopg2-binary 2.9.10 and pysqlite3_binary") == []
    assert mentioned("Because Psycopg_C has no usable wheels") == ["psycopg-c"]
    assert twin_advice(["Psycopg2", "requests"]) == (
        " For psycopg2: depend on psycopg2-binary, the same code published with manylinux wheels."
    )


def test_uv_refusing_a_legacy_sdist_is_said_plainly() -> None:
    from hatch_lambda.wheelhouse._retry import legacy_sdists

    said = (
        "  cause: Because fx-old==0.9 has a non-PEP 625-compliant source distribution filename "
        "and only fx-old==0.9 is available, we can conclude that all versions of fx-old cannot "
        "be used."
    )
    text = legacy_sdists(ToolError(said))
    assert text.startswith("legacy sdists are not supported: fx-old 0.9 offers only an sdist")
    assert "add that folder to find-links" in text
    assert legacy_sdists(ToolError(UV_WRONG_PLATFORM)) == ""


def test_pip_report_with_a_legacy_sdist_is_refused_plainly(tmp_path: Path) -> None:
    from hatch_lambda.errors import ResolutionError
    from hatch_lambda.wheelhouse._pip import report_to_pylock

    report = {"install": [{
        "metadata": {"name": "fx-old", "version": "0.9"},
        "download_info": {"url": "http://127.0.0.1:9/files/fx_old-0.9.tar.bz2",
                          "archive_info": {"hashes": {"sha256": "00"}}},
    }]}  # fmt: skip
    with pytest.raises(ResolutionError, match=r"legacy \.tar\.bz2 sdists are not supported"):
        report_to_pylock(report, tmp_path / "report.json")
