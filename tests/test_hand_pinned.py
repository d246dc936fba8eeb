"""A requirements.txt of exact pins that leaves dependencies out is resolved with its pins held,
as pip, SAM and CDK install it; a closed one stays a lock; hash-checking mode and
``requirements-mode = "lock"`` refuse the open one, naming every package left out."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

from support.project import Project
from support.pythons import call_handler, find_python, missing
from support.zips import versions

HAND = "fx-hand-pinned==1.0\nfx-pure==1.0\n"
HANDLER = "from fx_hand_pinned import DEP\n\n\ndef handler(event, context):\n    return DEP\n"


def build(app: Project, text: str, **table: object) -> str:
    # The project needs what the file gives, so the audit judges the file alone.
    start = app.template.index("dependencies = [")
    end = app.template.index("]", start)
    app.template = app.template[:start] + 'dependencies = ["fx-hand-pinned"' + app.template[end:]
    (app.path / "requirements.txt").write_text(text)
    (app.path / "src" / "fx_app" / "hand.py").write_text(HANDLER)
    app.configure({
        "runtime": "python3.12", "architecture": "x86_64", "handler": "fx_app.hand.handler",
        "requirements": "requirements.txt", **table,
    })  # fmt: skip
    proc = app.hatchling("-t", "wheel")
    return f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"


def test_a_hand_pinned_file_gets_what_it_leaves_out_with_its_pins_held(
    app: Project, tmp_path: Path
) -> None:
    out = build(app, HAND)
    assert out.startswith("exit 0"), out
    assert (
        "requirements.txt pins 2 of 4 packages; resolved the rest for python3.12 x86_64: "
        "fx-hand-dep 1.0, fx-hand-leaf 1.0"
    ) in out
    got = versions(app.only_zip())
    assert got["fx_pure"] == "1.0"  # held, though the index has 2.0
    assert {"fx_hand_pinned", "fx_hand_dep", "fx_hand_leaf"} <= set(got)
    python = find_python("3.12")
    if python is None:
        missing("python3.12 is needed to import the bundle")
        return
    bundle = tmp_path / "bundle"
    with zipfile.ZipFile(app.only_zip()) as zf:
        zf.extractall(bundle)
    assert call_handler([python], str(bundle), "fx_app.hand.handler", {}) == "1.0"


def test_a_closed_pinned_file_is_used_as_a_lock_without_resolving(app: Project) -> None:
    out = build(app, "fx-hand-pinned==1.0\nfx-hand-dep==1.0\nfx-hand-leaf==1.0\n")
    assert out.startswith("exit 0"), out
    assert "Using the 3 packages locked in requirements.txt" in out
    assert "Resolving" not in out
    assert "resolved the rest" not in out


def test_hash_checking_mode_refuses_a_file_that_leaves_packages_out(
    app: Project, index_root: Path
) -> None:
    wheel = index_root / "files" / "fx_hand_pinned-1.0-py3-none-any.whl"
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    out = build(app, f"fx-hand-pinned==1.0 --hash=sha256:{digest}\n")
    assert out.startswith("exit 1"), out
    assert "requirements.txt is not a complete lock for python3.12 x86_64" in out
    assert "fx-hand-dep (required by fx-hand-pinned 1.0), fx-hand-leaf;" in out
    assert "hash-checking mode" in out
    assert "--generate-hashes" in out
    assert "Traceback" not in out


def test_requirements_mode_lock_names_every_package_left_out_and_the_command(
    app: Project,
) -> None:
    out = build(app, HAND, **{"requirements-mode": "lock"})
    assert out.startswith("exit 1"), out
    assert "fx-hand-dep (required by fx-hand-pinned 1.0), fx-hand-leaf;" in out
    assert (
        "uv pip compile requirements.in -o requirements.txt --python-platform "
        "x86_64-manylinux_2_28 --python-version 3.12"
    ) in out or "uv pip compile requirements.in -o requirements.txt --python-platform" in out
    assert "Traceback" not in out


def test_requirements_mode_lock_refuses_a_line_that_is_not_pinned(app: Project) -> None:
    out = build(app, "fx-hand-pinned==1.0\nfx-pure>=1\n", **{"requirements-mode": "lock"})
    assert out.startswith("exit 1"), out
    assert "requirements.txt:2 fx-pure>=1" in out
    assert "not pinned with ==" in out


def test_options_after_a_requirement_and_file_options_are_said_to_be_ignored(
    app: Project,
) -> None:
    out = build(
        app,
        "--prefer-binary\n"
        "fx-hand-pinned==1.0 ; python_version >= '3.8' --no-binary=:none: "
        "--config-settings=key=value\n"
        "fx-hand-dep==1.0\nfx-hand-leaf==1.0\n",
    )
    assert out.startswith("exit 0"), out
    assert "requirements.txt:1: --prefer-binary is ignored" in out
    assert "requirements.txt:2: --no-binary :none: is ignored" in out
    assert (
        "requirements.txt:2: --config-settings=key=value on 'fx-hand-pinned==1.0' is ignored" in out
    )
