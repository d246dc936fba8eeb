"""`hatch-lambda check` and `inspect` on deliberately broken artifacts, on good ones, and on zips
made by other tools."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest

from hatch_lambda.audit import Report, check_artifact
from hatch_lambda.bundle._member import MemberStream
from hatch_lambda.target import resolve_target
from support.project import Project
from support.zips import data_span, make_zip, member, patch_header, zeros_zip

HANDLER = "fx_app.handler.handler"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hatch_lambda", *args], capture_output=True, text=True, check=False
    )


def check_json(path: Path, *args: str) -> tuple[int, dict[str, Any]]:
    proc = cli("check", str(path), "--json", *args)
    return proc.returncode, json.loads(proc.stdout)


def rules(report: dict[str, Any], severity: str = "error") -> set[tuple[str, str]]:
    return {(f["rule"], f["path"]) for f in report["findings"] if f["severity"] == severity}


def dist(
    root: Path, name: str, version: str, *requires: str, files: dict[str, bytes] | None = None
) -> None:
    """A minimal installed distribution: its files, METADATA and a RECORD that lists them."""
    info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    (info / "METADATA").write_text(meta + "".join(f"Requires-Dist: {r}\n" for r in requires))
    (info / "WHEEL").write_text("Wheel-Version: 1.0\nTag: py3-none-any\n")
    record = [f"{info.name}/METADATA,,", f"{info.name}/WHEEL,,", f"{info.name}/RECORD,,"]
    for rel, data in (files or {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
        record.append(f"{rel},,")
    (info / "RECORD").write_text("\n".join(record) + "\n")


def gcc_so(tmp_path: Path, source: str, name: str = "mod.so") -> bytes:
    if shutil.which("gcc") is None:
        pytest.fail("gcc is needed to build the test's shared objects")
    (tmp_path / "x.c").write_text(source)
    out = tmp_path / name
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(out), str(tmp_path / "x.c")], check=True)
    return out.read_bytes()


@pytest.fixture
def good(app: Project) -> Path:
    app.configure({"runtime": "python3.12", "handler": HANDLER})
    app.build_wheel()
    return app.only_zip()


def test_a_correct_artifact_passes_clean(good: Path) -> None:
    code, report = check_json(good, "--handler", HANDLER)
    assert code == 0 and report["passed"] is True and report["findings"] == []
    assert (report["runtime"], report["architecture"]) == (
        "python3.12",
        "x86_64",
    )  # from the manifest
    text = cli("check", str(good))
    assert text.returncode == 0 and "passes" in text.stdout


def test_the_same_zip_for_the_wrong_target_fails(good: Path) -> None:
    code, report = check_json(good, "--runtime", "python3.11", "--architecture", "arm64")
    assert code == 1
    found = rules(report)
    assert ("wheel-tags", "fx_native-2.0.dist-info/WHEEL") in found
    assert ("wheel-tags", "fx_cpython-1.0.dist-info/WHEEL") in found
    native = next(f for f in report["findings"] if f["path"] == "fx_native-2.0.dist-info/WHEEL")
    assert native["distribution"] == "fx-native 2.0"


def test_foreign_machine_and_too_new_glibc(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    old = gcc_so(tmp_path, "#include <string.h>\nint f(const char *s) { return strlen(s); }\n")
    new = gcc_so(tmp_path, "#include <pthread.h>\nvoid *g(void *a) { return a; }\n"
                 "int f(void) { pthread_t t; return pthread_create(&t, 0, g, 0); }\n", "new.so")  # fmt: skip
    arm = bytearray(old)
    arm[18:20] = (183).to_bytes(2, "little")  # e_machine = EM_AARCH64
    dist(tree, "native-pkg", "1.0", files={"native_pkg/ok.so": old, "native_pkg/arm.so": bytes(arm),
                                           "native_pkg/new.so": new})  # fmt: skip
    code, report = check_json(tree, "--runtime", "python3.11", "--architecture", "x86_64")
    assert code == 1
    assert rules(report) == {
        ("elf-machine", "native_pkg/arm.so"),
        ("elf-glibc", "native_pkg/new.so"),
    }
    glibc = next(f for f in report["findings"] if f["rule"] == "elf-glibc")
    assert "GLIBC_2.34" in glibc["message"] and glibc["distribution"] == "native-pkg 1.0"
    code, report = check_json(tree, "--runtime", "python3.12", "--architecture", "x86_64")
    assert rules(report) == {("elf-machine", "native_pkg/arm.so")}
    text = cli("check", str(tree), "--runtime", "python3.12", "--architecture", "x86_64")
    assert text.stdout.rstrip().endswith("tree fails (1 error)"), text.stdout
    text = cli("check", str(tree), "--runtime", "python3.11", "--architecture", "x86_64",
               "--warn", "elf-glibc")  # fmt: skip
    assert text.stdout.rstrip().endswith("tree fails (1 error), 1 warning"), text.stdout


def test_marker_dependency_missing_for_python39(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    dist(tree, "lib", "1.0", "backport; python_version < '3.11'", files={"lib/__init__.py": b""})
    code, report = check_json(tree, "--runtime", "python3.9", "--architecture", "x86_64")
    assert code == 1 and rules(report) == {("closure", "lib-1.0.dist-info/METADATA")}
    assert "requires backport" in report["findings"][0]["message"]
    code, _ = check_json(tree, "--runtime", "python3.12", "--architecture", "x86_64")
    assert code == 0


def test_missing_handler_and_wrong_bytecode(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    dist(tree, "app", "1.0", files={"app/main.py": b"def run(e, c): pass\n",
                                     "app/__pycache__/main.cpython-311.pyc": b"\0" * 16})  # fmt: skip
    code, report = check_json(tree, "--runtime", "python3.12", "--architecture", "arm64",
                              "--handler", "app.main.handler")  # fmt: skip
    assert code == 1
    assert rules(report) == {("handler", "app/main.py"),
                             ("bytecode", "app/__pycache__/main.cpython-311.pyc")}  # fmt: skip
    pyc = next(f for f in report["findings"] if f["rule"] == "bytecode")
    assert pyc["distribution"] == "app 1.0"  # owned with its source


def test_escaping_symlink_and_absolute_paths_in_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "bad.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("ok.py", "x = 1\n")
        link = zipfile.ZipInfo("link")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
        zf.writestr("/abs.py", "")
        zf.writestr("../up.py", "")
    code, report = check_json(path, "--runtime", "python3.12", "--architecture", "x86_64")
    assert code == 1
    assert rules(report) == {("archive-symlink", "link"), ("archive-paths", "/abs.py"),
                             ("archive-paths", "../up.py")}  # fmt: skip
    assert not (tmp_path / "up.py").exists()


def test_escaping_symlink_in_a_folder(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "inside.py").write_text("")
    (tree / "ok").symlink_to("inside.py")
    (tree / "out").symlink_to("/etc")
    code, report = check_json(tree, "--runtime", "python3.12", "--architecture", "x86_64")
    assert code == 1 and rules(report) == {("archive-symlink", "out")}


def test_warn_turns_a_rule_into_a_warning(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    dist(tree, "lib", "1.0", "missing-dep")
    code, report = check_json(tree, "--runtime", "python3.12", "--architecture", "x86_64",
                              "--warn", "closure")  # fmt: skip
    assert code == 0 and rules(report, "warning") == {("closure", "lib-1.0.dist-info/METADATA")}
    proc = cli(
        "check",
        str(tree),
        "--runtime",
        "python3.12",
        "--architecture",
        "x86_64",
        "--warn",
        "closur",
    )
    assert proc.returncode == 1 and "unknown rules" in proc.stderr


def test_a_pip_target_tree_zipped_by_hand(app: Project, tmp_path: Path) -> None:
    """What the seed's pip flags leave behind: host bytecode, and markers judged by the host."""
    target = tmp_path / "pip-target"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--target", str(target), "--index-url",
         str(app.index_url), "fx-markers", "fx-pure"],
        capture_output=True, text=True, check=False, env=app.env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    zipped = tmp_path / "by-hand.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        for path in sorted(target.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(target).as_posix())
    host = f"cpython-{sys.version_info[0]}{sys.version_info[1]}"
    code, report = check_json(zipped, "--runtime", "python3.9", "--architecture", "arm64")
    assert code == 1
    found = {rule for rule, _ in rules(report)}
    assert found == {"bytecode", "closure"}
    closure = {f["message"].split(",")[0] for f in report["findings"] if f["rule"] == "closure"}
    assert closure == {
        'fx-markers 1.0 requires fx-backport ; python_version < "3.11"',
        'fx-markers 1.0 requires fx-armonly ; platform_machine == "aarch64"',
    }
    assert all(host in f["path"] for f in report["findings"] if f["rule"] == "bytecode")


def test_inspect_reports_sizes_and_code_sha256(good: Path) -> None:
    proc = cli("inspect", str(good), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    manifest = json.loads(good.with_suffix(".json").read_text())
    assert data["code-sha256"] == manifest["archive"]["code-sha256"]
    assert (data["runtime"], data["architecture"], data["kind"]) == (
        "python3.12",
        "x86_64",
        "function",
    )
    sizes = [d["unzipped"] for d in data["distributions"]]
    assert sizes == sorted(sizes, reverse=True)
    assert data["unzipped"] == manifest["archive"]["unzipped-size"]
    names = {d["distribution"] for d in data["distributions"]}
    assert {"fx-app 1.2.3", "fx-native 2.0", "fx-pure 2.0"} <= names
    text = cli("inspect", str(good))
    assert "CodeSha256: " + manifest["archive"]["code-sha256"] in text.stdout
    assert text.stdout.strip().endswith("total")


def test_inspect_guesses_the_target_without_a_manifest(good: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.zip"
    shutil.copy(good, copy)
    data = json.loads(cli("inspect", str(copy), "--json").stdout)
    assert (data["runtime"], data["architecture"]) == ("python3.12", "x86_64")


def test_build_option_audit_warn(app: Project) -> None:
    app.configure({"runtime": "python3.12", "handler": "fx_app.handler.missing",
                   "audit-warn": ["handler"]})  # fmt: skip
    proc = app.build_wheel()
    assert "[handler] fx_app/handler.py" in proc.stderr
    app.configure({"runtime": "python3.12", "audit-warn": ["handlr"]})
    proc = app.hatchling("-t", "wheel")
    assert "audit-warn[0] is not an audit rule: 'handlr' (did you mean 'handler'?)" in proc.stderr


def test_check_needs_a_target_without_a_manifest(tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    proc = cli("check", str(tmp_path / "t"))
    assert proc.returncode == 1 and "--runtime python3.X --architecture" in proc.stderr


# Hostile zips: members Lambda cannot unpack, bombs, names that collide, handlers that point out.

TARGET = resolve_target("python3.12", "x86_64")[0]
TEXT = b"".join(b"line %d of a module that compresses like code\n" % i for i in range(300))
APP = b"def handler(event, context):\n    return 1\n"


def found(report: Report) -> dict[tuple[str, str], str]:
    return {(f.rule, f.path): f.message for f in report.errors}


def test_members_lambda_cannot_unpack_are_findings_and_the_other_rules_go_on(
    tmp_path: Path,
) -> None:
    path = make_zip(tmp_path / "app.zip", [
        ("app.py", APP), ("enc.py", TEXT), ("d64.py", TEXT), (member("bz.py", zipfile.ZIP_BZIP2), TEXT),
        ("crc.py", TEXT), ("deflate.py", TEXT), ("past.py", TEXT),
        ("pkg/__pycache__/m.cpython-311.pyc", b"\0" * 16),
    ])  # fmt: skip
    patch_header(path, "enc.py", "flags", 0x1)
    patch_header(path, "d64.py", "method", 9)
    patch_header(path, "crc.py", "crc", 0)
    patch_header(path, "past.py", "size", 100)
    patch_header(path, "past.py", "crc", zlib.crc32(TEXT[:100]))
    start, end = data_span(path, "deflate.py")
    raw = bytearray(path.read_bytes())
    raw[start:end] = b"\xff" * (end - start)
    path.write_bytes(bytes(raw))

    report = check_artifact(path, TARGET, handler="app.handler")
    messages = found(report)
    assert set(messages) == {
        ("archive-entry", "enc.py"), ("archive-entry", "d64.py"), ("archive-entry", "bz.py"),
        ("archive-entry", "crc.py"), ("archive-entry", "deflate.py"), ("archive-entry", "past.py"),
        ("bytecode", "pkg/__pycache__/m.cpython-311.pyc"),
    }  # fmt: skip
    assert "is encrypted" in messages[("archive-entry", "enc.py")]
    assert "deflate64 (method 9)" in messages[("archive-entry", "d64.py")]
    assert "bzip2 (method 12)" in messages[("archive-entry", "bz.py")]
    assert "does not match its CRC-32" in messages[("archive-entry", "crc.py")]
    assert "deflate data is damaged" in messages[("archive-entry", "deflate.py")]
    assert "inflates to more than the 100 bytes" in messages[("archive-entry", "past.py")]


def test_an_unreadable_handler_module_is_said_to_be_unreadable_not_missing(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "app.zip", [("app.py", APP)])
    patch_header(path, "app.py", "flags", 0x1)
    report = check_artifact(path, TARGET, handler="app.handler")
    assert list(found(report)) == [("archive-entry", "app.py")]


def test_a_zip_bomb_is_a_finding_and_never_inflated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bomb = zeros_zip(tmp_path / "bomb.zip", "pkg/core.so", 24 << 20, b"\x7fELF")
    inflated: list[str] = []
    original = MemberStream.__init__

    def spy(self: MemberStream, file: Any, info: zipfile.ZipInfo, archive: str) -> None:
        inflated.append(info.filename)
        original(self, file, info, archive)

    monkeypatch.setattr(MemberStream, "__init__", spy)
    over = check_artifact(bomb, TARGET, max_unzipped_size=16 << 20)
    assert set(found(over)) == {("archive-entry", "pkg/core.so"), ("size", "bomb.zip")}
    assert (
        "declares 25,165,824 bytes unzipped, more than the 16,777,216-byte unzipped limit"
        in (found(over)[("archive-entry", "pkg/core.so")])
    )
    # Under the limit, but compressed better than real files are.
    ratio = check_artifact(bomb, TARGET, max_unzipped_size=64 << 20)
    message = found(ratio)[("archive-entry", "pkg/core.so")]
    assert "more than real files compress, so it was not inflated" in message
    assert inflated == []


def test_inspect_of_a_zip_bomb_reports_sizes_and_warns(tmp_path: Path) -> None:
    bomb = zeros_zip(tmp_path / "bomb.zip", "big.bin", 300 << 20)
    proc = cli("inspect", str(bomb), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["unzipped"] == 300 << 20
    [warning] = data["warnings"]
    assert warning.startswith("[archive-entry] big.bin: declares 314,572,800 bytes unzipped")
    assert f"warning: {warning}" in proc.stderr


def test_two_different_app_py_fail_check(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="Duplicate name"):
        path = make_zip(tmp_path / "dup.zip", [("app.py", APP), ("app.py", b"handler = None\n")])
    code, report = check_json(path, "--runtime", "python3.12", "--architecture", "x86_64")
    assert code == 1 and rules(report) == {("archive-paths", "app.py")}
    assert "appears twice in the zip" in report["findings"][0]["message"]


def test_a_name_that_is_both_a_file_and_a_folder(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "app.zip", [
        ("app.py", APP), ("a/b", b"file"), ("a/b/c.py", b""), ("x/", b""), ("x/y", b""),
    ])  # fmt: skip
    messages = found(check_artifact(path, TARGET))
    assert list(messages) == [("archive-paths", "a/b")]
    assert (
        "is a file, and a/b/c.py needs a folder of the same name"
        in messages[("archive-paths", "a/b")]
    )
    folder_entry = make_zip(tmp_path / "dir.zip", [("app.py", APP), ("a/b", b""), ("a/b/", b"")])
    assert list(found(check_artifact(folder_entry, TARGET))) == [("archive-paths", "a/b")]


@pytest.mark.parametrize("handler", ["x", "/etc/passwd.fn", "../outside.handler", "app.", ".app.x"])
def test_a_handler_that_is_not_module_function_reads_nothing(tmp_path: Path, handler: str) -> None:
    (tmp_path / "outside.py").write_text("def handler(e, c): pass\n")
    tree = tmp_path / "tree"
    dist(tree, "app", "1.0", files={"app.py": APP, "__init__.py": b"def x(e, c): pass\n"})
    messages = found(check_artifact(tree, TARGET, handler=handler))
    assert list(messages) == [("handler", handler)]
    assert f"handler {handler!r} is not MODULE.FUNCTION" in messages[("handler", handler)]


def test_a_handler_in_a_folder_is_named_with_a_slash_as_lambda_allows(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    dist(tree, "app", "1.0", files={"src/app.py": APP})
    assert check_artifact(tree, TARGET, handler="src/app.handler").errors == []


def test_a_large_record_is_read_a_line_at_a_time(tmp_path: Path) -> None:
    """inspect and check once held a RECORD whole, several times over: hundreds of MB for one."""
    path = tmp_path / "app.zip"
    lines = (f"pkg/m{i}.py,sha256={i * 7919:064x},{i}\n" for i in range(400_000))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("app.py", APP)
        own = "app.py,,\npkg-1.0.dist-info/RECORD,,\n"
        zf.writestr("pkg-1.0.dist-info/RECORD", "".join(lines) + own)
    small = make_zip(tmp_path / "small.zip", [("app.py", APP)])
    measure = (
        "import resource, sys; from hatch_lambda.cli import main; code = main(sys.argv[1:]); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)"
    )

    def peak_kb(*args: str) -> int:
        proc = subprocess.run([sys.executable, "-c", measure, *args], capture_output=True,
                              text=True, check=False)  # fmt: skip
        return int(proc.stderr.strip().splitlines()[-1])

    with zipfile.ZipFile(path) as zf:
        assert zf.getinfo("pkg-1.0.dist-info/RECORD").file_size > 32 << 20
    for command in (["inspect"], ["check", "--runtime", "python3.12", "--architecture", "x86_64"]):
        grown = peak_kb(command[0], str(path), *command[1:]) - peak_kb(
            command[0], str(small), *command[1:]
        )
        assert grown < 16 << 10, f"{command[0]} grew by {grown} KB"
    data = json.loads(cli("inspect", str(path), "--json").stdout)
    assert [d["distribution"] for d in data["distributions"]] == ["pkg 1.0"]


@pytest.mark.parametrize(
    ("manifest", "says"),
    [
        (b'{"runtime": "python3.12", "architecture": }', "is not valid JSON (Expecting value at "),
        (b'["python3.12", "x86_64"]', "holds an array, not the JSON object hatch-lambda writes"),
        (b'{"runtime": "caf\xe9"}', "is not UTF-8 text (byte 16: invalid continuation byte)"),
        (b'{"runtime": 3.12, "architecture": "x86_64"}', "gives runtime 3.12, which is not a name"),
    ],
)
def test_a_broken_manifest_is_named_with_what_to_do(
    tmp_path: Path, manifest: bytes, says: str
) -> None:
    path = make_zip(tmp_path / "app.zip", [("app.py", APP)])
    (tmp_path / "app.json").write_bytes(manifest)
    proc = cli("check", str(path))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"{tmp_path / 'app.json'} {says}" in proc.stderr
    assert "pass --runtime and --architecture, or delete the manifest" in proc.stderr
    given = cli("check", str(path), "--runtime", "python3.12", "--architecture", "x86_64")
    assert given.returncode == 0, given.stderr  # the manifest is not read at all
    inspected = cli("inspect", str(path))
    assert inspected.returncode == 0 and "Traceback" not in inspected.stderr
    assert f"warning: {tmp_path / 'app.json'} {says}" in inspected.stderr
    assert "ignored; delete it or rebuild the artifact" in inspected.stderr


def test_a_symlink_loop_in_a_folder_is_a_finding(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "inside.py").write_text("")
    (tree / "a").symlink_to("b")
    (tree / "b").symlink_to("a")
    code, report = check_json(tree, "--runtime", "python3.12", "--architecture", "x86_64")
    assert code == 1 and rules(report) == {("archive-symlink", "a"), ("archive-symlink", "b")}
    assert "never ends" in report["findings"][0]["message"]


@pytest.mark.parametrize("marker", ['python_version ~= "abc"', 'platform_release ~= "x.y"'])
def test_a_marker_packaging_cannot_evaluate_is_no_traceback(tmp_path: Path, marker: str) -> None:
    tree = tmp_path / "tree"
    dist(tree, "lib", "1.0", f"absent; {marker}", files={"lib/__init__.py": b""})
    code, report = check_json(tree, "--runtime", "python3.12", "--architecture", "x86_64")
    # It cannot be judged, so nothing is claimed about it.
    assert code == 0 and not report["findings"], report
