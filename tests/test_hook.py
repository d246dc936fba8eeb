"""How the hook and the builder behave inside Hatch's and PEP 517's ways of building."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from support.project import Project

BASE = {"runtime": "python3.12", "architecture": "x86_64", "handler": "fx_app.handler.handler"}


def tree_digest(directory: Path) -> dict[str, str]:
    if not directory.exists():
        return {}
    return {
        p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def test_config_problems_are_reported_together_and_nothing_is_written(app: Project) -> None:
    app.configure(BASE)
    app.build_wheel()
    before = {"dist": tree_digest(app.path / "dist"), "lambda": tree_digest(app.lambda_dir)}
    assert before["dist"] and before["lambda"]

    app.configure(
        {
            "runtime": "python3.8",
            "architekture": "arm64",
            "extras": ["extra", 3],
            "resolver": "conda",
            "enable-by-default": True,
        }
    )
    proc = app.hatchling("-t", "wheel")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    key = "tool.hatch.build.targets.wheel.hooks.lambda"
    assert f"{key}.runtime must be one of" in out and "'python3.8'" in out
    assert f"{key}.architekture is not a hatch-lambda option; did you mean 'architecture'?" in out
    assert f"{key}.extras[1] must be a non-empty string, not 3" in out
    assert f"{key}.resolver must be one of 'auto', 'uv', 'pip', not 'conda'" in out
    assert "4 problems" in out
    assert "enable-by-default" not in out  # hatchling's own key is allowed
    assert "Traceback" not in out
    after = {"dist": tree_digest(app.path / "dist"), "lambda": tree_digest(app.lambda_dir)}
    assert after == before


def test_global_hook_builds_the_zip_for_the_wheel_only(app: Project) -> None:
    app.configure(BASE, at="hooks.lambda")
    proc = app.hatchling()  # sdist and wheel
    assert proc.returncode == 0, proc.stderr
    dist = sorted(p.name for p in (app.path / "dist").iterdir())
    assert dist == ["fx_app-1.2.3-py3-none-any.whl", "fx_app-1.2.3.tar.gz"]
    assert [p.name for p in app.artifacts()] == ["fx_app-1.2.3-python3.12-x86_64.zip"]
    assert len(re.findall(r"^Lambda function zip for", proc.stderr, re.M)) == 1


def test_global_hook_errors_name_the_global_key(app: Project) -> None:
    app.configure({"runtime": "python2.7"}, at="hooks.lambda")
    proc = app.hatchling("-t", "wheel")
    assert proc.returncode != 0
    assert "tool.hatch.build.hooks.lambda.runtime must be one of" in proc.stderr


def test_editable_install_never_builds_a_zip(app: Project) -> None:
    app.configure(BASE)
    proc = app.hatchling("-t", "wheel:editable")
    assert proc.returncode == 0, proc.stderr
    assert list((app.path / "dist").glob("*.whl"))
    assert not app.lambda_dir.exists()


def test_python_m_build_from_sdist_puts_the_zip_beside_dist_and_twine_accepts_dist(
    app: Project,
) -> None:
    app.configure(BASE)
    proc = app.run([sys.executable, "-m", "build", "--no-isolation", "."])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [p.name for p in app.artifacts()] == ["fx_app-1.2.3-python3.12-x86_64.zip"]
    assert [p.name for p in app.artifacts(".json")] == ["fx_app-1.2.3-python3.12-x86_64.json"]
    dist = app.path / "dist"

    def twine_check() -> subprocess.CompletedProcess[str]:  # `twine check dist/*`
        return app.run([sys.executable, "-m", "twine", "check", *map(str, sorted(dist.iterdir()))])

    twine = twine_check()
    assert twine.returncode == 0, twine.stdout + twine.stderr
    # The reason for dist-lambda/: the same check fails once a Lambda zip sits in dist/.
    shutil.copy(app.only_zip(), dist)
    assert twine_check().returncode != 0


def test_builder_target_writes_only_the_lambda_artifact(app: Project) -> None:
    app.configure(BASE)
    proc = app.hatchling("-t", "lambda")
    assert proc.returncode == 0, proc.stderr
    assert [p.name for p in app.artifacts()] == ["fx_app-1.2.3-python3.12-x86_64.zip"]
    assert not (app.path / "dist").exists()
    assert (
        len(re.findall(r"^Lambda function zip for", proc.stderr, re.M)) == 1
    )  # the wheel hook did not run nested


def test_builder_target_reads_its_own_table_and_cleans_only_its_artifacts(app: Project) -> None:
    app.configure({**BASE, "architecture": "arm64"}, at="targets.lambda")
    app.lambda_dir.mkdir()
    (app.lambda_dir / "notes.txt").write_text("keep me")
    stale = app.lambda_dir / "fx_app-0.9-python3.11-x86_64.zip"
    stale.write_text("old")
    proc = app.hatchling("-t", "lambda", "--clean")
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in app.lambda_dir.iterdir())
    assert names == [
        "fx_app-1.2.3-python3.12-arm64.json",
        "fx_app-1.2.3-python3.12-arm64.zip",
        "notes.txt",
    ]


def test_builder_target_key_paths(app: Project) -> None:
    app.configure({"runtime": "python3.12", "handlr": "x.y"}, at="targets.lambda")
    proc = app.hatchling("-t", "lambda")
    assert proc.returncode != 0
    assert (
        "tool.hatch.build.targets.lambda.handlr is not a hatch-lambda option; did you mean 'handler'?"
        in proc.stderr
    )


def test_two_checkouts_give_the_same_bytes(app: Project, tmp_path: Path) -> None:
    other = Project.copy(tmp_path / "elsewhere" / "checkout", app.env, app.index_url)
    for project in (app, other):
        project.configure(BASE)
        project.build_wheel()
    assert app.only_zip().read_bytes() == other.only_zip().read_bytes()
    assert app.manifest() == other.manifest()


def test_source_date_epoch_sets_entry_times(app: Project) -> None:
    app.configure(BASE)
    app.build_wheel(SOURCE_DATE_EPOCH="1700000000")
    with zipfile.ZipFile(app.only_zip()) as zf:
        stamps = {i.date_time for i in zf.infolist()}
        modes = {(i.external_attr >> 16) & 0o777 for i in zf.infolist()}
    assert stamps == {(2023, 11, 14, 22, 13, 20)}
    assert modes <= {0o644, 0o755}


@pytest.mark.parametrize(
    ("env", "present", "absent"),
    [
        ({}, ["Resolving", "Lambda function zip for"], ["running:"]),
        ({"HATCH_QUIET": "1"}, [], ["Resolving", "Lambda function zip for"]),
        ({"HATCH_VERBOSE": "2"}, ["Resolving", "running:", "Lambda function zip for"], []),
    ],
)
def test_output_follows_hatch_verbosity(app: Project, env, present, absent) -> None:  # type: ignore[no-untyped-def]
    app.configure(BASE)
    proc = app.build_wheel(**env)
    for text in present:
        assert text in proc.stderr
    for text in absent:
        assert text not in proc.stderr


def test_manifest_records_the_archive_digest(app: Project) -> None:
    import base64

    app.configure(BASE)
    app.build_wheel()
    data = app.only_zip().read_bytes()
    digest = hashlib.sha256(data).digest()
    archive = app.manifest()["archive"]
    assert archive["sha256"] == digest.hex()
    assert archive["code-sha256"] == base64.b64encode(digest).decode()
    assert archive["size"] == len(data)


def test_no_half_written_file_is_left_when_the_build_fails(app: Project) -> None:
    app.configure({**BASE, "handler": "fx_app.handler.missing"})
    proc = app.hatchling("-t", "wheel")
    assert proc.returncode != 0
    assert not app.lambda_dir.exists() or not list(app.lambda_dir.iterdir())


def test_pip_install_builds_the_zip_in_the_project_by_default(app: Project, tmp_path: Path) -> None:
    app.configure(BASE)
    target = tmp_path / "site"
    proc = app.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-build-isolation",
            "--no-deps",
            "--target",
            str(target),
            ".",
        ]
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [p.name for p in app.artifacts()] == ["fx_app-1.2.3-python3.12-x86_64.zip"]


def test_enable_by_default_false_keeps_pip_install_from_building_the_zip(
    app: Project, tmp_path: Path
) -> None:
    app.configure({**BASE, "enable-by-default": False})
    proc = app.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-build-isolation",
            "--no-deps",
            "--target",
            str(tmp_path / "site"),
            ".",
        ]
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert app.artifacts() == []
    app.build_wheel(HATCH_BUILD_HOOK_ENABLE_LAMBDA="true")
    assert [p.name for p in app.artifacts()] == ["fx_app-1.2.3-python3.12-x86_64.zip"]


def _both_tables(app: Project, hook: dict[str, object], builder: dict[str, object]) -> None:
    from support.project import toml_tables

    index = {"index-url": app.index_url}
    (app.path / "pyproject.toml").write_text(
        app.template
        + toml_tables("tool.hatch.build.targets.wheel.hooks.lambda", {**hook, **index})
        + toml_tables("tool.hatch.build.targets.lambda", {**builder, **(index if builder else {})})
    )


TWICE = "warning: hatch-lambda is configured twice: "


def test_a_hook_and_a_builder_table_warn_and_say_which_wins(app: Project) -> None:
    _both_tables(app, BASE, {**BASE, "architecture": "arm64"})
    wheel = app.build_wheel()
    assert (
        f"{TWICE}this wheel build uses [tool.hatch.build.targets.wheel.hooks.lambda], as all "
        "wheel builds (`hatch build`, `python -m build`, pip) do, and "
        "[tool.hatch.build.targets.lambda] is read by `hatch build -t lambda` alone; "
        "`hatch build -t wheel -t lambda` writes the artifacts of both."
    ) in wheel.stderr
    assert [p.name for p in app.artifacts()] == ["fx_app-1.2.3-python3.12-x86_64.zip"]
    builder = app.hatchling("-t", "lambda")
    assert builder.returncode == 0, builder.stderr
    assert (
        f"{TWICE}`hatch build -t lambda` uses [tool.hatch.build.targets.lambda], and wheel builds "
        "(`hatch build`, `python -m build`, pip) use [tool.hatch.build.targets.wheel.hooks.lambda]"
    ) in builder.stderr
    assert "fx_app-1.2.3-python3.12-arm64.zip" in {p.name for p in app.artifacts()}
    # Both targets in one run: both artifacts, and the warning once.
    both = app.hatchling("-t", "wheel", "-t", "lambda")
    assert both.returncode == 0, both.stderr
    assert both.stderr.count(TWICE) == 1
    assert sorted(p.name for p in app.artifacts()) == [
        "fx_app-1.2.3-python3.12-arm64.zip", "fx_app-1.2.3-python3.12-x86_64.zip",
    ]  # fmt: skip


def test_one_table_for_both_ways_of_building_says_nothing(app: Project) -> None:
    app.configure(BASE)
    assert "configured twice" not in app.build_wheel().stderr
    builder = app.hatchling("-t", "lambda")
    assert builder.returncode == 0 and "configured twice" not in builder.stderr
    # A builder table holding only hatchling's own keys does not count.
    _both_tables(app, BASE, {})
    (app.path / "pyproject.toml").write_text(
        (app.path / "pyproject.toml").read_text() + "reproducible = true\n"
    )
    assert "configured twice" not in app.build_wheel().stderr
