"""Nothing unverified is shipped: damaged cache entries are replaced, a zip and its manifest are
replaced as a pair, the debris of interrupted builds is removed, OS errors are messages, and the
output folder never lands where a wheel upload would pick it up."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from hatch_lambda._scratch import TAG
from support.project import Project
from support.pythons import missing

BASE = {"runtime": "python3.12", "architecture": "x86_64", "handler": "fx_app.handler.handler"}
DAMAGED = "hatch-lambda's cache:"


def _cache(app: Project) -> Path:
    return Path(app.env["HATCH_LAMBDA_CACHE_DIR"])


def _assert_pair(app: Project) -> None:
    """The zip is whole and its manifest describes exactly its bytes."""
    zip_path = app.only_zip()
    data = zip_path.read_bytes()
    with zipfile.ZipFile(zip_path) as zf:
        assert zf.testzip() is None
    archive = app.manifest()["archive"]
    assert archive["sha256"] == hashlib.sha256(data).hexdigest()
    assert archive["code-sha256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()


def _kept_wheel(app: Project, name: str) -> Path:
    found = sorted(_cache(app).glob(f"files/sha256/*/*/{name}-*.whl"))
    assert len(found) == 1, found
    return found[0]


def _rewrite_member(wheel: Path, member: str, data: bytes) -> None:
    """The wheel with *member* replaced and its RECORD left as it was: tampering."""
    with zipfile.ZipFile(wheel) as zf:
        items = [(i, zf.read(i)) for i in zf.infolist()]
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, content in items:
            zf.writestr(info, data if info.filename == member else content)


def test_flipped_bytes_in_a_cached_artifact_are_found_and_it_is_built_again(app: Project) -> None:
    app.configure(BASE)
    app.build_wheel()
    good = app.only_zip().read_bytes()
    app.only_zip().unlink()
    archive = next(_cache(app).glob("artifact/*/*/archive.zip"))
    damaged = bytearray(archive.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    archive.write_bytes(damaged)
    proc = app.build_wheel()
    assert DAMAGED in proc.stderr and "Nothing changed" not in proc.stderr
    assert app.only_zip().read_bytes() == good
    _assert_pair(app)


def test_damaged_bytecode_in_the_cache_is_compiled_again(app: Project) -> None:
    """Kept bytecode is verified while the project's changed modules compile beside it; a
    damaged entry is removed and compiled again, and the zip is what a build from nothing
    makes."""
    app.configure(BASE)
    app.build_wheel()
    good = app.only_zip().read_bytes()
    if b".cpython-312.pyc" not in good:
        missing("no CPython 3.12 to compile bytecode with")
    kept = sorted(_cache(app).glob("bytecode/*/*/bytecode.zip"))
    assert len(kept) > 1  # one per distribution
    for archive in kept:
        damaged = bytearray(archive.read_bytes())
        damaged[len(damaged) // 2] ^= 0xFF
        archive.write_bytes(damaged)
    app.only_zip().unlink()
    shutil.rmtree(_cache(app) / "artifact")
    proc = app.build_wheel()
    assert proc.stderr.count(f"{DAMAGED} a bytecode entry (bytecode.zip) does not match") == len(
        kept
    )
    assert app.only_zip().read_bytes() == good
    assert "does not match" not in app.build_wheel().stderr


@pytest.mark.parametrize("damage", ["injected", "truncated"])
def test_a_damaged_cached_wheel_is_fetched_again(app: Project, damage: str) -> None:
    app.configure(BASE)
    app.build_wheel()
    good = app.only_zip().read_bytes()
    wheel = _kept_wheel(app, "fx_pure")
    if damage == "injected":
        _rewrite_member(wheel, "fx_pure/__init__.py", b"import os; os.system('echo owned')\n")
    else:
        wheel.write_bytes(wheel.read_bytes()[: wheel.stat().st_size // 2])
    # A code change, so the build needs the dependencies' bytes again.
    handler = app.path / "src" / "fx_app" / "handler.py"
    handler.write_text(handler.read_text() + "\nCHANGED = 1\n")
    proc = app.build_wheel()
    out = proc.stdout + proc.stderr
    assert DAMAGED in out and wheel.name in out and "fetched or built again" in out
    with zipfile.ZipFile(app.only_zip()) as zf, zipfile.ZipFile(wheel) as refetched:
        assert b"owned" not in zf.read("fx_pure/__init__.py")
        assert zf.read("fx_pure/__init__.py") == refetched.read("fx_pure/__init__.py")
    assert len(app.only_zip().read_bytes()) > len(good) // 2
    _assert_pair(app)


def test_a_wheel_whose_files_do_not_match_its_record_is_refused(
    app: Project, index_root: Path
) -> None:
    """Altered before hatch-lambda ever saw it: RECORD is the wheel's own word on its files."""
    app.configure({**BASE, "refresh": True})
    app.build_wheel()
    wheel = _kept_wheel(app, "fx_pure")
    _rewrite_member(wheel, "fx_pure/__init__.py", b"tampered = True\n")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    moved = wheel.parents[2] / digest[:2] / digest / wheel.name
    moved.parent.mkdir(parents=True, exist_ok=True)
    wheel.replace(moved)
    lock = app.path / "pylock.toml"
    lock.write_text(
        'lock-version = "1.0"\ncreated-by = "test"\n[[packages]]\nname = "fx-pure"\n'
        'version = "2.0"\n[[packages.wheels]]\n'
        f'name = "{wheel.name}"\nurl = "{moved.as_uri()}"\nhashes = {{sha256 = "{digest}"}}\n'
    )
    app.configure({**BASE, "requirements": "pylock.toml", "contents": "dependencies"})
    for path in app.lambda_dir.iterdir():
        path.unlink()
    proc = app.hatchling("-t", "wheel")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Traceback" not in out
    assert f"{wheel.name} is damaged or was altered" in out and "fx_pure/__init__.py" in out
    assert app.artifacts() == []


def test_a_damaged_plan_or_facts_entry_is_worked_out_again(app: Project) -> None:
    app.configure(BASE)
    app.build_wheel()
    good = app.only_zip().read_bytes()
    for kind in ("plan", "facts"):
        for data in _cache(app).glob(f"{kind}/*/*/data.json"):
            data.write_text(data.read_text() + " ")  # still JSON, no longer what was kept
    app.only_zip().unlink()
    handler = app.path / "src" / "fx_app" / "handler.py"
    handler.write_text(handler.read_text() + "\nCHANGED = 1\n")
    proc = app.build_wheel()
    assert "a plan entry does not match its digest" in proc.stderr
    assert "a facts entry does not match its digest" in proc.stderr
    assert app.only_zip().read_bytes() != good
    _assert_pair(app)


def test_a_crash_between_zip_and_manifest_is_repaired(app: Project) -> None:
    app.configure(BASE)
    app.build_wheel()
    good = app.only_zip().read_bytes()
    manifest = app.manifest()
    # What a build killed right after putting the zip in place leaves: the zip, no manifest.
    app.only_zip().with_suffix(".json").unlink()
    stamp = app.only_zip().stat().st_mtime_ns
    app.build_wheel()
    assert app.manifest() == manifest
    assert app.only_zip().read_bytes() == good
    assert app.only_zip().stat().st_mtime_ns == stamp  # the zip was right: left alone


def test_the_manifest_goes_first_and_comes_last(tmp_path: Path) -> None:
    from hatch_lambda.outputs import ArtifactPair

    zip_path, manifest = tmp_path / "a.zip", tmp_path / "a.json"
    zip_path.write_bytes(b"old zip")
    manifest.write_text("old manifest")
    seen: list[tuple[bool, bool]] = []
    real_replace = Path.replace

    def spy(self: Path, target: Path) -> Path:
        seen.append((zip_path.read_bytes() == b"new zip", manifest.exists()))
        return real_replace(self, target)

    with ArtifactPair(zip_path, manifest) as pair:
        pair.artifact_tmp.write_bytes(b"new zip")
        pair.manifest_tmp.write_text("new manifest")
        Path.replace = spy  # type: ignore[method-assign]
        try:
            pair.commit()
        finally:
            Path.replace = real_replace  # type: ignore[method-assign]
    # Before the zip moves, the old manifest is gone; the new one comes after the new zip.
    assert seen == [(False, False), (True, False)]
    assert manifest.read_text() == "new manifest"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "a.zip"]


def _debris(folder: Path, name: str, pid: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    host = TAG.split("-")[1]
    path = folder / name.format(tag=f"hl-{host}-{pid}-")
    path.write_text("left by a killed build")
    return path


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.mark.parametrize("how", ["build", "clean"])
def test_debris_of_dead_builds_is_removed(app: Project, how: str) -> None:
    app.configure(BASE)
    dead, alive = _dead_pid(), os.getpid()
    system = Path(tempfile.gettempdir())
    stale = [
        _debris(_cache(app) / "tmp", "{tag}fx_pure-2.0.whl.x1", dead),
        _debris(app.lambda_dir, ".fx_app-1.2.3.zip.{tag}x2", dead),
        _debris(system, "hatch-lambda-{tag}x3", dead),
    ]
    running = [
        _debris(_cache(app) / "tmp", "{tag}fx_pure-2.0.whl.y1", alive),
        _debris(app.lambda_dir, ".fx_app-1.2.3.zip.{tag}y2", alive),
        _debris(system, "hatch-lambda-{tag}y3", alive),
    ]
    try:
        proc = app.hatchling("-t", "wheel", "--clean") if how == "clean" else app.build_wheel()
        assert proc.returncode == 0, proc.stderr
        assert [p for p in stale if p.exists()] == []
        assert [p for p in running if not p.exists()] == []
    finally:
        for path in stale + running:
            path.unlink(missing_ok=True)


@contextlib.contextmanager
def _tmpfs(path: Path, size: str, *options: str) -> Iterator[Path]:
    path.mkdir(parents=True)
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", ",".join([f"size={size}", *options]), "tmpfs", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if mount.returncode != 0:
        missing(f"cannot mount a small tmpfs to fill: {mount.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _failing(app: Project, *args: str, **env: str) -> str:
    proc = app.hatchling("-t", "wheel", *args, **env)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "Traceback" not in out, out
    return out


def test_a_full_disk_is_a_message_and_leaves_no_partial_file(app: Project, tmp_path: Path) -> None:
    with _tmpfs(tmp_path / "full", "4k") as full:
        app.configure({**BASE, "directory": str(full / "out")})
        out = _failing(app)
        assert "No space left on device" in out and "free some space" in out
        assert str(full / "out") in out
        assert list((full / "out").iterdir()) == []
        # Reusing the cached zip fills the disk as well: still no partial file.
        app.configure({**BASE, "directory": "dist-lambda"})
        app.build_wheel()
        app.configure({**BASE, "directory": str(full / "out")})
        out = _failing(app)
        assert "No space left on device" in out
        assert list((full / "out").iterdir()) == []


def test_a_read_only_output_folder_is_a_message(app: Project, tmp_path: Path) -> None:
    with _tmpfs(tmp_path / "ro", "1m", "ro") as readonly:
        app.configure({**BASE, "directory": str(readonly)})
        out = _failing(app)
        assert "Read-only file system" in out and str(readonly) in out


def test_a_cache_folder_that_is_a_file_is_a_message(app: Project, tmp_path: Path) -> None:
    app.configure(BASE)
    not_a_folder = tmp_path / "cache-file"
    not_a_folder.write_text("")
    out = _failing(app, HATCH_LAMBDA_CACHE_DIR=str(not_a_folder))
    assert f"HATCH_LAMBDA_CACHE_DIR={not_a_folder}" in out and "it is a file" in out
    assert app.artifacts() == []


def test_a_cache_that_cannot_be_written_is_a_warning(app: Project) -> None:
    app.configure(BASE)
    cache = _cache(app)
    for kind in ("artifact", "plan", "facts"):
        cache.mkdir(parents=True, exist_ok=True)
        (cache / kind).write_text("in the way")
    proc = app.build_wheel()
    assert "could not keep an artifact entry" in proc.stderr or "could not keep a" in proc.stderr
    _assert_pair(app)


def test_an_output_folder_outside_the_project_is_said(app: Project, tmp_path: Path) -> None:
    app.configure({**BASE, "directory": str(tmp_path / "elsewhere")})
    proc = app.build_wheel()
    assert f"Lambda artifacts go to {tmp_path / 'elsewhere'}, outside the project" in proc.stderr
    assert len(list((tmp_path / "elsewhere").glob("*.zip"))) == 1


@pytest.mark.parametrize("directory", ["dist", "dist/lambda"])
def test_the_wheels_own_output_folder_is_refused(app: Project, directory: str) -> None:
    app.configure({**BASE, "directory": directory})
    out = _failing(app)
    assert f"directory = {directory!r}" in out and "twine upload" in out
    assert not (app.path / "dist").exists() or list((app.path / "dist").iterdir()) == []


def _python_build(app: Project, outdir: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(outdir), str(app.path)],
        cwd=cwd, env={**app.env, "PWD": str(cwd)}, capture_output=True, text=True, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("outdir", ["dist", ".", "elsewhere"])
def test_python_m_build_never_writes_outside_the_project_or_into_outdir(
    app: Project, tmp_path: Path, outdir: str
) -> None:
    """`python -m build` builds from a copy of the sdist; the artifact still lands in the
    project's dist-lambda/, never in --outdir (twine check would fail) or beside it."""
    app.configure(BASE)
    target = tmp_path / "elsewhere" if outdir == "elsewhere" else (app.path / outdir).resolve()
    proc = _python_build(app, target, cwd=app.path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(app.artifacts()) == 1
    assert not (target.parent / "dist-lambda").exists() or target.parent == app.path
    wheels = sorted(str(p) for p in target.glob("*.whl")) + sorted(
        str(p) for p in target.glob("*.tar.gz")
    )
    check = subprocess.run(
        [sys.executable, "-m", "twine", "check", *wheels], capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    if outdir != ".":
        assert sorted(p.suffix for p in target.iterdir()) == [".gz", ".whl"]


def test_python_m_build_from_outside_the_project_into_a_foreign_folder_is_refused(
    app: Project, tmp_path: Path
) -> None:
    app.configure(BASE)
    elsewhere = tmp_path / "out"
    proc = _python_build(app, elsewhere, cwd=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Traceback" not in out
    assert "directory = 'dist-lambda' is relative to the project's folder" in out
    assert not (tmp_path / "dist-lambda").exists()


@pytest.mark.parametrize(("epoch", "year"), [("4500000000", 2107), ("100", 1980)])
def test_source_date_epoch_outside_a_zips_range_is_clamped_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, epoch: str, year: int
) -> None:
    """hatchling's own wheel builder cannot get past 2107 yet; the zip's dates must not depend
    on that."""
    from hatch_lambda._timestamp import zip_date_time

    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    date_time, warning = zip_date_time()
    assert date_time[0] == year
    assert warning is not None and f"SOURCE_DATE_EPOCH={epoch} is" in warning
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert zip_date_time()[1] is None


def test_a_clamped_source_date_epoch_is_said_in_the_build(app: Project) -> None:
    app.configure(BASE)
    proc = app.build_wheel(SOURCE_DATE_EPOCH="100")
    assert "SOURCE_DATE_EPOCH=100 is before 1980" in proc.stderr
    with zipfile.ZipFile(app.only_zip()) as zf:
        assert {i.date_time[0] for i in zf.infolist()} == {1980}


def test_refresh_reaches_uvs_own_cache(app: Project) -> None:
    app.configure({**BASE, "refresh": True})
    proc = app.build_wheel(HATCH_VERBOSE="2")
    commands = [line for line in proc.stderr.splitlines() if "pip compile" in line]
    assert commands and all("--refresh" in line for line in commands), proc.stderr
    manifest = json.loads(app.only_zip().with_suffix(".json").read_text())
    assert manifest["resolver"] == "uv"


def test_the_lambda_builder_refuses_the_wheels_own_output_folder(app: Project) -> None:
    app.configure({**BASE, "directory": "dist"}, at="targets.lambda")
    proc = app.hatchling("-t", "lambda")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Traceback" not in out
    assert "tool.hatch.build.targets.lambda.directory" in out and "twine upload" in out
    assert not list(app.path.glob("dist/*.zip"))
