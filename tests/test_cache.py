"""The cache: identical rebuilds, code-only changes, what misses, concurrency and no network."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from support.index import serve
from support.project import Project, clean_env

BASE = {"runtime": "python3.12", "architecture": "x86_64", "handler": "fx_app.handler.handler"}
REUSED_WHEELS = "Reusing the "
NOTHING_CHANGED = "Nothing changed since"


def test_a_rebuild_where_nothing_changed_reuses_the_archive(app: Project) -> None:
    app.configure(BASE)
    first = app.build_wheel()
    assert "Resolving" in first.stderr and NOTHING_CHANGED not in first.stderr
    assert "Reusing what was learned before" not in first.stderr  # nothing was, from nothing
    before = app.only_zip().read_bytes()
    manifest = app.manifest()
    app.only_zip().unlink()
    second = app.build_wheel()
    assert NOTHING_CHANGED in second.stderr and "Resolving" not in second.stderr
    assert app.only_zip().read_bytes() == before
    assert app.manifest() == manifest
    # An output of the right size but other bytes is replaced; an identical one is left alone.
    altered = bytearray(before)
    altered[len(altered) // 2] ^= 0xFF
    app.only_zip().write_bytes(altered)
    app.build_wheel()
    assert app.only_zip().read_bytes() == before
    stamp = app.only_zip().stat().st_mtime_ns
    app.build_wheel()
    assert app.only_zip().stat().st_mtime_ns == stamp


def test_an_output_changed_in_place_is_put_right(app: Project) -> None:
    """The cache keeps a built zip as a second name for the output where it can (a hard link):
    a tool that then writes into the output in place changes the entry too. The entry fails its
    digest, and the zip is built again, as it was."""
    app.configure(BASE)
    app.build_wheel()
    before = app.only_zip().read_bytes()
    with app.only_zip().open("r+b") as f:
        f.seek(len(before) // 2)
        f.write(bytes([before[len(before) // 2] ^ 0xFF]))
    proc = app.build_wheel()
    assert "was changed after it was built: building it again" in proc.stderr
    assert "warning" not in proc.stderr
    assert app.only_zip().read_bytes() == before
    assert NOTHING_CHANGED in app.build_wheel().stderr


def test_each_output_keeps_its_last_three_builds(app: Project) -> None:
    """A day of code changes keeps three zips per output, not one per change; going back to
    one of the last three states reuses its zip, going further back builds again."""
    app.configure(BASE)
    handler = app.path / "src" / "fx_app" / "handler.py"
    original = handler.read_text()
    states = [original + f"\nSTATE = {i}\n" for i in range(5)]
    for state in states:
        handler.write_text(state)
        assert NOTHING_CHANGED not in app.build_wheel().stderr
    kept = list(Path(app.env["HATCH_LAMBDA_CACHE_DIR"]).glob("artifact/*/*/archive.zip"))
    assert len(kept) == 3
    handler.write_text(states[2])
    assert NOTHING_CHANGED in app.build_wheel().stderr
    handler.write_text(states[1])
    assert NOTHING_CHANGED not in app.build_wheel().stderr
    # Reusing counts as use: states[2] is still kept after another build.
    handler.write_text(states[2])
    assert NOTHING_CHANGED in app.build_wheel().stderr


def test_a_code_change_reuses_the_dependencies(app: Project, tmp_path: Path) -> None:
    app.configure(BASE)
    app.build_wheel()
    with zipfile.ZipFile(app.only_zip()) as zf:
        before = {i.filename: i.CRC for i in zf.infolist()}
    handler = app.path / "src" / "fx_app" / "handler.py"
    handler.write_text(handler.read_text() + "\n# changed\n")
    proc = app.build_wheel()
    assert REUSED_WHEELS in proc.stderr and "Resolving" not in proc.stderr
    assert "Reusing what was learned before of its 6 dependencies" in proc.stderr
    assert NOTHING_CHANGED not in proc.stderr
    with zipfile.ZipFile(app.only_zip()) as zf:
        after = {i.filename: i.CRC for i in zf.infolist()}
    changed = {name for name in after if before.get(name) != after[name]}
    assert changed == {
        "fx_app/handler.py", "fx_app/__pycache__/handler.cpython-312.pyc",
        "fx_app-1.2.3.dist-info/RECORD",
    }  # fmt: skip
    # The shortcut gives exactly what a build from nothing gives.
    reused = app.only_zip().read_bytes()
    app.build_wheel(HATCH_LAMBDA_CACHE_DIR=str(tmp_path / "empty-cache"))
    assert app.only_zip().read_bytes() == reused


def test_what_misses_the_cache(app: Project, tmp_path: Path, index_root: Path) -> None:
    app.configure(BASE)
    app.build_wheel()
    for change in ({"runtime": "python3.13"}, {"architecture": "arm64"}):
        app.configure({**BASE, **change})
        proc = app.build_wheel()
        assert "Resolving" in proc.stderr and REUSED_WHEELS not in proc.stderr, change
    # Another index (the same files, served elsewhere) is another resolution.
    with serve(index_root) as (other, _):
        app.index_url = other
        app.configure(BASE)
        proc = app.build_wheel()
    assert "Resolving" in proc.stderr and REUSED_WHEELS not in proc.stderr


def test_refresh_resolves_again(app: Project) -> None:
    app.configure(BASE)
    app.build_wheel()
    proc = app.build_wheel(HATCH_LAMBDA_REFRESH="1")
    assert "Resolving" in proc.stderr
    app.configure({**BASE, "refresh": True})
    assert "Resolving" in app.build_wheel().stderr


def test_a_lock_rebuilds_without_the_network(
    tmp_path: Path, index_root: Path, build_cache: Path
) -> None:
    env = clean_env(build_cache, HATCH_LAMBDA_CACHE_DIR=str(tmp_path / "cache"))
    app = Project.copy(tmp_path / "app", env)
    (app.path / "requirements.txt").write_text(
        "fx-pure==1.0\nfx-markers==1.0\nfx-x86only==1.0\nfx-native==2.0\nfx-cpython==1.0\n"
        "fx-under-score==1.0\n"
    )
    with serve(index_root) as (url, _):
        app.index_url = url
        app.configure({**BASE, "requirements": "requirements.txt"})
        app.build_wheel()
    first = app.only_zip().read_bytes()
    # The index is gone now: an unchanged lock needs nothing from it, code change or not.
    assert app.build_wheel().returncode == 0
    assert app.only_zip().read_bytes() == first
    handler = app.path / "src" / "fx_app" / "handler.py"
    handler.write_text(handler.read_text() + "\n# changed\n")
    proc = app.build_wheel()
    assert "Reusing the 6 wheels resolved before for this lock" in proc.stderr


def test_two_builds_at_once_share_the_cache(
    tmp_path: Path, build_cache: Path, index_url: str
) -> None:
    env = clean_env(build_cache, HATCH_LAMBDA_CACHE_DIR=str(tmp_path / "shared-cache"))
    projects = [Project.copy(tmp_path / f"p{i}", env, index_url) for i in range(2)]
    procs = []
    for project in projects:
        project.configure(BASE)
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "hatchling", "build", "-t", "wheel"], cwd=project.path,
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        ))  # fmt: skip
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
    a, b = (p.only_zip().read_bytes() for p in projects)
    assert a == b
    assert projects[0].manifest() == projects[1].manifest()


def test_a_damaged_cache_entry_is_rebuilt(app: Project) -> None:
    app.configure(BASE)
    app.build_wheel()
    before = app.only_zip().read_bytes()
    cache = Path(app.env["HATCH_LAMBDA_CACHE_DIR"])
    for data in cache.glob("*/*/*/data.json"):
        data.write_text("{not json")
    proc = app.build_wheel()
    assert "Resolving" in proc.stderr
    assert "does not match its digest; removed it" in proc.stderr
    assert app.only_zip().read_bytes() == before
    head, _, body = next(cache.glob("artifact/*/*/data.json")).read_text().partition("\n")
    assert head.startswith("sha256=") and json.loads(body)["size"] == len(before)


def test_a_code_change_with_bytecode_recompiles_only_the_project(
    app: Project, tmp_path: Path
) -> None:
    from support.pythons import find_python, missing

    if find_python("3.12") is None:
        missing("no Python 3.12 to compile with")
    app.configure(BASE)  # bytecode by default
    app.build_wheel()
    handler = app.path / "src" / "fx_app" / "handler.py"
    handler.write_text(handler.read_text() + "\nCHANGED = True\n")
    proc = app.build_wheel(HATCH_VERBOSE="2")
    assert "Reusing what was learned before" in proc.stderr
    # Only the project's own modules are compiled again; the dependencies' come from the cache.
    compiled = [line.strip() for line in proc.stderr.splitlines() if "compiled " in line]
    assert compiled == ['compiled "fx_app-1.2.3.dist-info/RECORD"'], proc.stderr
    reused = app.only_zip().read_bytes()
    app.build_wheel(HATCH_LAMBDA_CACHE_DIR=str(tmp_path / "empty-cache"))
    assert app.only_zip().read_bytes() == reused
    names = zipfile.ZipFile(app.only_zip()).namelist()
    assert "fx_app/__pycache__/handler.cpython-312.pyc" in names
    assert "fx_pure/__pycache__/__init__.cpython-312.pyc" in names


def test_after_bundling_commands_run_on_every_build(app: Project, tmp_path: Path) -> None:
    """What a command writes can depend on anything (here a file outside the project): an
    artifact with after-bundling commands is never taken from the cache."""
    asset = tmp_path / "asset.txt"
    asset.write_text("one")
    app.configure({**BASE, "after-bundling": [f'cp {asset} "$HATCH_LAMBDA_BUNDLE/asset.txt"']})
    app.build_wheel()
    asset.write_text("two")
    proc = app.build_wheel()
    assert NOTHING_CHANGED not in proc.stderr
    with zipfile.ZipFile(app.only_zip()) as zf:
        assert zf.read("asset.txt") == b"two"
