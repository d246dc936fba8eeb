"""compile-bytecode = "auto", the default: where an interpreter is looked for (fake interpreters
and a fake uv on PATH), what a build does with one and without one, and bytecode left out to stay
within max-unzipped-size."""

from __future__ import annotations

import csv
import io
import shutil
import stat
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from hatch_lambda import _pythons
from support.project import Project
from support.pythons import call_handler, find_python, missing
from support.report import Recorder

HANDLER = "fx_app.handler.handler"
WARNING = "warning: no CPython 3.13 to compile bytecode for python3.13"


def _script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def _python(path: Path, says: str = "cpython 3.14") -> Path:
    """A fake interpreter: it answers the probe hatch-lambda runs with *says*."""
    return _script(path, f'echo "{says}"\n')


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A machine with nothing but a fake uv on PATH, which logs its arguments to uv.log and
    installs a fake CPython 3.14 when asked (or fails to, with UV_FAKE_FAIL set)."""
    bin_dir = tmp_path / "bin"
    managed = tmp_path / "uv-python" / "cpython-3.14.0" / "bin" / "python3.14"
    _script(
        bin_dir / "uv",
        f"""echo "$@" >> {tmp_path / "uv.log"}
case "$1 $2" in
  "python find")
    if [ -x {managed} ]; then echo {managed}; exit 0; fi
    echo "error: No interpreter found for Python 3.14" >&2; exit 2 ;;
  "python install")
    if [ -n "$UV_FAKE_FAIL" ]; then echo "error: dns error" >&2; exit 1; fi
    mkdir -p {managed.parent}
    printf '#!/bin/sh\\necho "cpython 3.14"\\n' > {managed}; chmod +x {managed}
    echo "Installed Python 3.14.0" >&2 ;;
esac
""",
    )
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    monkeypatch.setenv("HATCH_LAMBDA_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("HATCH_LAMBDA_PYTHON_314", "UV_PYTHON_DOWNLOADS", "UV_OFFLINE",
                 "HATCH_LAMBDA_REFRESH"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("hatch_lambda.wheelhouse._uv.find_uv", lambda: shutil.which("uv"))
    new_build(monkeypatch)
    yield tmp_path


def new_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """What one build learned of interpreters is forgotten by the next (another process)."""
    monkeypatch.setattr(_pythons, "_found", {})
    monkeypatch.setattr(_pythons, "_not_downloaded", {})


def uv_calls(root: Path) -> list[str]:
    log = root / "uv.log"
    return log.read_text().splitlines() if log.exists() else []


def test_looks_at_the_variable_then_path_then_pyenv_then_uv(
    fake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    variable = _python(fake / "mine" / "python")
    on_path = _python(fake / "bin" / "python3.14")
    older = _python(fake / "pyenv" / "versions" / "3.14.0" / "bin" / "python3.14")
    newer = _python(fake / "pyenv" / "versions" / "3.14.2" / "bin" / "python3.14")
    _python(fake / "uv-python" / "cpython-3.14.0" / "bin" / "python3.14")
    monkeypatch.setenv("HATCH_LAMBDA_PYTHON_314", str(variable))
    assert _pythons.find_python("3.14") == str(variable)
    # A variable that names another version, or another implementation, is passed over.
    _python(variable, "cpython 3.13")
    new_build(monkeypatch)
    assert _pythons.find_python("3.14") == str(on_path)
    on_path.unlink()
    new_build(monkeypatch)
    assert _pythons.find_python("3.14") == str(newer)
    _python(newer, "pypy 3.14")
    new_build(monkeypatch)
    assert _pythons.find_python("3.14") == str(older)
    assert uv_calls(fake) == []  # uv is asked only when nothing else has one
    shutil.rmtree(fake / "pyenv")
    new_build(monkeypatch)
    managed = fake / "uv-python" / "cpython-3.14.0" / "bin" / "python3.14"
    assert _pythons.find_python("3.14") == str(managed)
    assert uv_calls(fake) == ["python find --managed-python --no-project cpython-3.14"]


def test_a_pyenv_shim_on_path_is_passed_over_for_pyenvs_own_versions(
    fake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pyenv's shim for a version its selection lacks fails after a slow search, and a failure
    is not kept: each build would run it. pyenv's versions are looked at directly instead."""
    log = fake / "shim.log"
    shims = fake / "pyenv" / "shims"
    _script(
        shims / "python3.14",
        f'echo run >> {log}\necho "pyenv: python3.14: command not found" >&2\nexit 127\n',
    )
    installed = _python(fake / "pyenv" / "versions" / "3.14.1" / "bin" / "python3.14")
    monkeypatch.setenv("PATH", f"{shims}:{fake / 'bin'}:/usr/bin:/bin")
    assert _pythons.find_python("3.14") == str(installed)
    assert not log.exists()


def test_uv_installs_one_when_none_is_found_and_the_build_says_so(fake: Path) -> None:
    reporter = Recorder()
    assert _pythons.find_python("3.14") is None  # looking alone never downloads
    assert "install" not in " ".join(uv_calls(fake))
    found = _pythons.find_python("3.14", download=reporter)
    assert found == str(fake / "uv-python" / "cpython-3.14.0" / "bin" / "python3.14")
    assert uv_calls(fake)[-2:] == [
        "python install --no-bin --no-progress 3.14",
        "python find --managed-python --no-project cpython-3.14",
    ]
    assert reporter.of("waiting") == [
        "Downloading CPython 3.14 with uv to compile bytecode (uv python install 3.14)"
    ]


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("UV_PYTHON_DOWNLOADS", "never", "UV_PYTHON_DOWNLOADS=never"),
        ("UV_PYTHON_DOWNLOADS", "manual", "UV_PYTHON_DOWNLOADS=manual"),
        ("UV_OFFLINE", "1", "UV_OFFLINE is set"),
    ],
)
def test_no_download_when_uv_downloads_are_off(
    fake: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, said: str
) -> None:
    monkeypatch.setenv(variable, value)
    reporter = Recorder()
    assert _pythons.find_python("3.14", download=reporter) is None
    assert uv_calls(fake) == ["python find --managed-python --no-project cpython-3.14"]
    assert reporter.messages == []
    assert _pythons.where_looked("3.14") == (
        "looked at $HATCH_LAMBDA_PYTHON_314, python3.14 on PATH, pyenv and uv's Pythons; "
        f"uv's downloads are off ({said})"
    )


def test_a_failed_download_is_said_and_not_tried_again_for_a_day(
    fake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UV_FAKE_FAIL", "1")
    assert _pythons.find_python("3.14", download=Recorder()) is None
    assert "uv python install 3.14 failed: error: dns error" in _pythons.where_looked("3.14")
    new_build(monkeypatch)
    reporter = Recorder()
    assert _pythons.find_python("3.14", download=reporter) is None
    assert [c for c in uv_calls(fake) if "install" in c] == [
        "python install --no-bin --no-progress 3.14"
    ]
    assert reporter.messages == []
    assert "hours ago; tried again a day later, or with HATCH_LAMBDA_REFRESH=1" in (
        _pythons.where_looked("3.14")
    )
    monkeypatch.setenv("HATCH_LAMBDA_REFRESH", "1")
    monkeypatch.delenv("UV_FAKE_FAIL")
    new_build(monkeypatch)
    assert _pythons.find_python("3.14", download=Recorder()) is not None


def test_what_an_interpreter_is_is_learned_once(
    fake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = fake / "runs"
    python = _script(fake / "bin" / "python3.14", f'echo run >> {counter}\necho "cpython 3.14"\n')
    assert _pythons.find_python("3.14") == str(python)
    new_build(monkeypatch)
    assert _pythons.find_python("3.14") == str(python)
    assert counter.read_text().splitlines() == ["run"]  # the second build asked the cache
    _script(python, f'echo run >> {counter}\necho "cpython 3.13"\n')  # replaced: asked again
    new_build(monkeypatch)
    assert _pythons.find_python("3.14") is None


# --- builds -----------------------------------------------------------------------------------


def _pycs(archive: Path) -> list[str]:
    with zipfile.ZipFile(archive) as zf:
        return [n for n in zf.namelist() if n.endswith(".pyc")]


def _no_313(tmp_path: Path) -> dict[str, str]:
    """A machine without CPython 3.13: nothing on PATH but the system's, no pyenv."""
    return {"PATH": "/usr/bin:/bin", "PYENV_ROOT": str(tmp_path / "no-pyenv")}


def test_the_default_compiles_where_an_interpreter_is_found(app: Project, tmp_path: Path) -> None:
    python = find_python("3.12")
    if python is None:
        missing("no Python 3.12 to compile with")
    app.configure({"runtime": "python3.12", "handler": HANDLER})
    proc = app.build_wheel()
    pycs = _pycs(app.only_zip())
    assert "fx_app/__pycache__/handler.cpython-312.pyc" in pycs
    assert all(".cpython-312.pyc" in n for n in pycs)
    assert "warning" not in proc.stderr
    with zipfile.ZipFile(app.only_zip()) as zf:
        zf.extractall(tmp_path / "bundle")
    assert call_handler([python], str(tmp_path / "bundle"), HANDLER, {})["python"] == "3.12"
    app.configure({"runtime": "python3.12", "handler": HANDLER, "compile-bytecode": False})
    proc = app.build_wheel()
    assert _pycs(app.only_zip()) == [] and "bytecode" not in proc.stderr


def test_without_an_interpreter_the_default_ships_sources_and_says_so_once(
    app: Project, tmp_path: Path
) -> None:
    if find_python("3.13") is None:
        missing("no Python 3.13 for the second half")
    app.configure({
        "runtime": "python3.13",
        "artifacts": {"deps": {"kind": "layer", "contents": "dependencies"},
                      "api": {"handler": HANDLER, "contents": "project", "layers": ["deps"]}},
    })  # fmt: skip
    proc = app.build_wheel(**_no_313(tmp_path))
    assert proc.stderr.count(WARNING) == 1, proc.stderr
    line = next(x for x in proc.stderr.splitlines() if x.startswith(WARNING))
    assert "looked at $HATCH_LAMBDA_PYTHON_313, python3.13 on PATH, pyenv and uv's Pythons" in line
    assert "uv's downloads are off (UV_PYTHON_DOWNLOADS=never)" in line
    assert "To get one, run `uv python install 3.13`, or set HATCH_LAMBDA_PYTHON_313" in line
    assert "Traceback" not in proc.stderr
    zips = app.artifacts()
    assert len(zips) == 2 and all(_pycs(z) == [] for z in zips)
    # Unchanged and still no interpreter: reused, and said again (once).
    proc = app.build_wheel(**_no_313(tmp_path))
    assert proc.stderr.count(WARNING) == 1 and proc.stderr.count("reusing it") == 2
    # An interpreter appeared: the zips are built again, with bytecode.
    proc = app.build_wheel()
    assert WARNING not in proc.stderr and "reusing it" not in proc.stderr
    assert all(_pycs(z) for z in app.artifacts())
    layer = next(z for z in app.artifacts() if "-deps-" in z.name)
    assert all(n.startswith("python/") for n in _pycs(layer))


def _distributions(archive: Path) -> dict[str, tuple[int, bool]]:
    """By canonical name, from each RECORD: unzipped bytes, and whether it lists bytecode."""
    found: dict[str, tuple[int, bool]] = {}
    with zipfile.ZipFile(archive) as zf:
        for record in [n for n in zf.namelist() if n.endswith(".dist-info/RECORD")]:
            name = canonicalize_name(record.split("/")[0].split("-")[0])
            rows = list(csv.reader(io.StringIO(zf.read(record).decode())))
            size = sum(int(r[2]) for r in rows if len(r) == 3 and r[2])
            found[name] = (size + zf.getinfo(record).file_size,
                           any(r[0].endswith(".pyc") for r in rows))  # fmt: skip
    return found


def _unzipped(archive: Path) -> int:
    with zipfile.ZipFile(archive) as zf:
        return sum(i.file_size for i in zf.infolist())


def test_bytecode_that_would_go_over_the_size_limit_is_left_out_largest_first(
    app: Project, tmp_path: Path
) -> None:
    python = find_python("3.12")
    if python is None:
        missing("no Python 3.12 to compile with")
    table = {"runtime": "python3.12", "handler": HANDLER, "extras": ["aws"]}
    app.configure(table)
    app.build_wheel()
    with_pyc, compiled = _unzipped(app.only_zip()), _distributions(app.only_zip())
    app.configure({**table, "compile-bytecode": False})
    app.build_wheel()
    sources = _unzipped(app.only_zip())
    assert sources < with_pyc
    limit = sources + (with_pyc - sources) // 2
    app.configure({**table, "max-unzipped-size": limit})
    proc = app.build_wheel()
    [line] = [x for x in proc.stderr.splitlines() if "left out the bytecode of" in x]
    assert line.startswith("warning: ") and f"max-unzipped-size ({limit:,} bytes" in line
    named = line.split("left out the bytecode of ")[1].split(" (")[0].split(", ")
    left_out = [canonicalize_name(d.split()[0]) for d in named]
    assert left_out == sorted(left_out, key=lambda d: -compiled[d][0])  # largest first
    now = _distributions(app.only_zip())
    assert {d for d, (_, pyc) in now.items() if not pyc and compiled[d][1]} == set(left_out)
    kept = [d for d, (_, pyc) in now.items() if pyc]
    assert kept and left_out, line  # the smaller distributions keep theirs
    assert all(compiled[k][0] <= compiled[d][0] for k in kept for d in left_out)
    assert _unzipped(app.only_zip()) <= limit
    with zipfile.ZipFile(app.only_zip()) as zf:
        zf.extractall(tmp_path / "bundle")
    assert call_handler([python], str(tmp_path / "bundle"), HANDLER, {})["python"] == "3.12"
    # Said again when the zip is reused, as every warning about an artifact is.
    proc = app.build_wheel()
    assert "reusing it" in proc.stderr and "left out the bytecode of" in proc.stderr


def test_a_shim_runs_once_and_the_interpreter_behind_it_compiles(
    app: Project, tmp_path: Path
) -> None:
    """A shim in front of the interpreter (pyenv's and asdf's are shell scripts) runs once, to
    learn what it is and which interpreter it starts; that interpreter compiles, directly. An
    unchanged build reuses the zip without looking; a code-only change compiles the project's
    modules without running the shim again."""
    python = find_python("3.12")
    if python is None:
        missing("no Python 3.12 to compile with")
    real = subprocess.run(
        [python, "-c", "import sys; print(sys.executable)"], capture_output=True, text=True,
        check=True,
    ).stdout.strip()  # fmt: skip
    log = tmp_path / "runs"
    shim = _script(tmp_path / "py" / "python3.12", f'echo run >> {log}\nexec {python} "$@"\n')
    env = {"HATCH_LAMBDA_PYTHON_312": str(shim)}
    app.configure({"runtime": "python3.12", "handler": HANDLER})
    proc = app.build_wheel(**env)
    assert log.read_text().splitlines() == ["run"]  # what it is; compiling went around it
    assert f"Compiling bytecode for python3.12 with {real}" in proc.stderr
    log.unlink()
    proc = app.build_wheel(**env)
    assert "reusing it" in proc.stderr and not log.exists()
    handler = app.path / "src" / "fx_app" / "handler.py"
    handler.write_text(handler.read_text() + "\nCHANGED = 1\n")
    proc = app.build_wheel(**env)
    assert not log.exists()
    assert f"Compiling bytecode for python3.12 with {real}" in proc.stderr
    with zipfile.ZipFile(app.only_zip()) as zf:
        pyc = zf.read("fx_app/__pycache__/handler.cpython-312.pyc")
    assert b"CHANGED" in pyc
