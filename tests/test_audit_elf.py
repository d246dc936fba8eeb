"""The ELF audit rules, on shared objects built here with gcc."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection

from hatch_lambda.audit import Finding
from hatch_lambda.audit._elf import RUNTIME_LIBRARIES
from hatch_lambda.target import Target, resolve_target
from support.audit import check_elf

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")

STRLEN = "#include <string.h>\nsize_t len(const char *s) { return strlen(s); }\n"
# pthread_create moved into libc in glibc 2.34 and got the version GLIBC_2.34 there.
PTHREAD = (
    "#include <pthread.h>\n"
    "static void *run(void *arg) { return arg; }\n"
    "int start(void) { pthread_t t; return pthread_create(&t, 0, run, 0); }\n"
)
ARC4RANDOM = "#include <stdlib.h>\nunsigned int pick(void) { return arc4random(); }\n"
CALLS_FOO = "int foo(void);\nint bar(void) { return foo() + 1; }\n"
FOO = "int foo(void) { return 41; }\n"


def target(runtime: str = "python3.11", architecture: str = "x86_64") -> Target:
    return resolve_target(runtime, architecture)[0]


def gcc(build: Path, output: str, source: str, *flags: str, shared: bool = True) -> Path:
    """Compile *source* in *build* into the shared object (or program) *output*."""
    build.mkdir(parents=True, exist_ok=True)
    c_file = build / f"{output}.c"
    c_file.write_text(source)
    kind = ["-shared", "-fPIC"] if shared else []
    subprocess.run(
        ["gcc", *kind, "-o", output, c_file.name, *flags],
        cwd=build,
        check=True,
        capture_output=True,
    )
    return build / output


def place(root: Path, rel: str, built: Path) -> Path:
    dest = root / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(built, dest)
    return dest


def glibc_versions(path: Path) -> set[str]:
    """The GLIBC_* versions *path* asks for, read here without the module under test."""
    with path.open("rb") as stream:
        return {
            aux.name
            for section in ELFFile(stream).iter_sections()
            if isinstance(section, GNUVerNeedSection)
            for _, entries in section.iter_versions()
            for aux in entries
        }


def set_machine(path: Path, machine: int) -> None:
    """Overwrite e_machine: two little-endian bytes at offset 18 of the ELF header."""
    data = bytearray(path.read_bytes())
    data[18:20] = machine.to_bytes(2, "little")
    path.write_bytes(data)


def rules(findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.rule, f.path) for f in findings]


def test_old_glibc_symbols_pass(tmp_path: Path) -> None:
    lib = place(tmp_path / "root", "pkg/_len.so", gcc(tmp_path / "build", "len.so", STRLEN))
    assert "GLIBC_2.2.5" in glibc_versions(lib)
    assert check_elf(tmp_path / "root", target("python3.11")) == []
    assert check_elf(tmp_path / "root", target("python3.13")) == []


def test_glibc_2_34_fails_on_amazon_linux_2_and_passes_on_2023(tmp_path: Path) -> None:
    root = tmp_path / "root"
    lib = place(root, "pkg/_threads.so", gcc(tmp_path / "build", "p.so", PTHREAD))
    if "GLIBC_2.34" not in glibc_versions(lib):
        pytest.skip(f"this gcc/glibc gave pthread_create {sorted(glibc_versions(lib))}")

    [finding] = check_elf(root, target("python3.11"))
    assert (finding.rule, finding.path) == ("elf-glibc", "pkg/_threads.so")
    assert finding.message.startswith(
        "needs GLIBC_2.34, and python3.11 (Amazon Linux 2) has glibc 2.26; "
    )
    assert "manylinux_2_26 or older" in finding.message
    assert "pin an older release" in finding.message
    assert "choose a runtime on Amazon Linux 2023 (python3.12 or later)" in finding.message

    assert check_elf(root, target("python3.12")) == []


def test_glibc_newer_than_every_runtime(tmp_path: Path) -> None:
    root = tmp_path / "root"
    try:
        built = gcc(tmp_path / "build", "a.so", ARC4RANDOM)
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"this glibc has no arc4random (added in 2.36): {exc.stderr!r}")
    lib = place(root, "pkg/_random.so", built)
    assert "GLIBC_2.36" in glibc_versions(lib)
    for runtime, has in (("python3.11", "Amazon Linux 2) has glibc 2.26"),
                         ("python3.12", "Amazon Linux 2023) has glibc 2.34")):  # fmt: skip
        [finding] = check_elf(root, target(runtime))
        assert finding.rule == "elf-glibc"
        assert f"needs GLIBC_2.36, and {runtime} ({has}" in finding.message
        # No runtime has 2.36, so moving to a newer one is not offered.
        assert "choose a runtime" not in finding.message
        assert "no Lambda runtime has glibc 2.36" in finding.message


def test_packed_relative_relocations_need_glibc_2_36(tmp_path: Path) -> None:
    root = tmp_path / "root"
    build = tmp_path / "build"
    try:
        built = gcc(build, "r.so", "static const char *n[] = {\"a\"};\n" + STRLEN
                    + "const char **names(void) { return n; }\n",
                    "-Wl,-z,pack-relative-relocs")  # fmt: skip
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"this linker has no -z pack-relative-relocs: {exc.stderr!r}")
    lib = place(root, "pkg/_relr.so", built)
    if "GLIBC_ABI_DT_RELR" not in glibc_versions(lib):
        pytest.skip("the linker did not ask for GLIBC_ABI_DT_RELR")
    [finding] = check_elf(root, target("python3.13"))
    assert finding.rule == "elf-glibc"
    assert finding.message.startswith("needs GLIBC_ABI_DT_RELR (glibc 2.36), and python3.13")


def test_aarch64_file_in_an_x86_64_bundle(tmp_path: Path) -> None:
    root = tmp_path / "root"
    lib = place(root, "pkg/_len.so", gcc(tmp_path / "build", "len.so", STRLEN))
    set_machine(lib, 183)  # EM_AARCH64
    [finding] = check_elf(root, target("python3.11", "x86_64"))
    assert finding == Finding(
        "elf-machine", "pkg/_len.so", "built for aarch64, but python3.11 x86_64 runs x86_64"
    )
    # The same file is what an arm64 target wants.
    assert check_elf(root, target("python3.11", "arm64")) == []


def test_x86_64_file_in_an_arm64_bundle(tmp_path: Path) -> None:
    root = tmp_path / "root"
    place(root, "pkg/_len.so", gcc(tmp_path / "build", "len.so", STRLEN))
    [finding] = check_elf(root, target("python3.12", "arm64"))
    assert finding == Finding(
        "elf-machine", "pkg/_len.so", "built for x86_64, but python3.12 arm64 runs aarch64"
    )


def test_32_bit_file(tmp_path: Path) -> None:
    build = tmp_path / "build"
    build.mkdir()
    (build / "t.c").write_text(FOO)
    # Compiled and linked apart, as a 32-bit libgcc and libc are seldom installed.
    try:
        subprocess.run(["gcc", "-m32", "-fPIC", "-c", "-o", "t.o", "t.c"], cwd=build, check=True)
        subprocess.run(
            ["ld", "-m", "elf_i386", "-shared", "-o", "t.so", "t.o"], cwd=build, check=True
        )
    except (subprocess.CalledProcessError, FileNotFoundError) as exc:
        pytest.skip(f"cannot build a 32-bit object here: {exc}")
    root = tmp_path / "root"
    place(root, "pkg/_t.so", build / "t.so")
    [finding] = check_elf(root, target())
    assert finding == Finding(
        "elf-machine", "pkg/_t.so", "built for 32-bit i386, but python3.11 x86_64 runs x86_64"
    )


def test_needed_library_missing_then_shipped(tmp_path: Path) -> None:
    build = tmp_path / "build"
    libfoo = gcc(build, "libfoo.so", FOO)
    bar = gcc(build, "libbar.so", CALLS_FOO, "-L.", "-lfoo")
    root = tmp_path / "root"
    place(root, "pkg/_bar.so", bar)

    [finding] = check_elf(root, target())
    assert finding == Finding(
        "elf-needs",
        "pkg/_bar.so",
        "needs libfoo.so, which is neither in the bundle nor provided by the Lambda runtime",
    )

    # auditwheel's layout: the library sits in `<dist>.libs/`, reached through an $ORIGIN rpath.
    place(root, "pkg.libs/libfoo.so", libfoo)
    assert check_elf(root, target()) == []


def test_needed_library_found_through_rpath(tmp_path: Path) -> None:
    build = tmp_path / "build"
    libfoo = gcc(build, "libfoo.so", FOO)
    bar = gcc(build, "libbar.so", CALLS_FOO, "-L.", "-lfoo", "-Wl,-rpath,$ORIGIN/../pkg.libs")
    root = tmp_path / "root"
    place(root, "pkg/_bar.so", bar)
    place(root, "pkg.libs/libfoo.so", libfoo)
    assert check_elf(root, target()) == []


def test_libm_is_provided(tmp_path: Path) -> None:
    source = "#include <math.h>\ndouble f(double x) { return cbrt(x) + sin(x); }\n"
    root = tmp_path / "root"
    place(root, "pkg/_m.so", gcc(tmp_path / "build", "m.so", source, "-Wl,--no-as-needed", "-lm"))
    assert "libm.so.6" in RUNTIME_LIBRARIES
    assert check_elf(root, target()) == []


def test_zlib_is_provided(tmp_path: Path) -> None:
    source = "#include <zlib.h>\nconst char *v(void) { return zlibVersion(); }\n"
    try:
        built = gcc(tmp_path / "build", "z.so", source, "-lz")
    except subprocess.CalledProcessError as exc:
        print(f"skipped: zlib development files are missing: {exc.stderr.decode()}")
        pytest.skip("zlib development files (zlib.h, libz.so) are not installed")
    root = tmp_path / "root"
    place(root, "pkg/_z.so", built)
    assert check_elf(root, target()) == []


def test_libpython_of_the_target_is_provided(tmp_path: Path) -> None:
    build = tmp_path / "build"
    gcc(build, "libpython3.11.so.1.0", FOO, "-Wl,-soname,libpython3.11.so.1.0")
    ext = gcc(build, "ext.so", CALLS_FOO, "-Wl,--no-as-needed", "-L.", "-l:libpython3.11.so.1.0")
    root = tmp_path / "root"
    place(root, "pkg/_ext.so", ext)
    assert check_elf(root, target("python3.11")) == []
    [finding] = check_elf(root, target("python3.12"))
    assert finding.rule == "elf-needs"
    assert finding.message.startswith("needs libpython3.11.so.1.0, which is neither")


def test_desktop_libraries_are_not_taken_as_provided() -> None:
    # manylinux allows these, but Lambda images lack them (opencv-python fails on libGL.so.1).
    assert {"libGL.so.1", "libX11.so.6", "libglib-2.0.so.0"}.isdisjoint(RUNTIME_LIBRARIES)
    assert {"libc.so.6", "libstdc++.so.6", "libgcc_s.so.1", "libz.so.1"} <= RUNTIME_LIBRARIES


def test_linked_against_musl(tmp_path: Path) -> None:
    build = tmp_path / "build"
    musl = "libc.musl-x86_64.so.1"
    gcc(build, musl, FOO, f"-Wl,-soname,{musl}")
    ext = gcc(build, "ext.so", CALLS_FOO, "-Wl,--no-as-needed", "-L.", f"-l:{musl}")
    root = tmp_path / "root"
    place(root, "pkg/_ext.so", ext)
    [finding] = check_elf(root, target())
    # The musl libc itself is not reported again as a missing library.
    assert finding == Finding(
        "elf-musl", "pkg/_ext.so", "linked against musl libc; Lambda runs glibc"
    )


def test_program_with_the_musl_loader(tmp_path: Path) -> None:
    main = "int main(void) { return 0; }\n"
    loader = "-Wl,--dynamic-linker=/lib/ld-musl-x86_64.so.1"
    prog = gcc(tmp_path / "build", "tool", main, loader, shared=False)
    root = tmp_path / "root"
    place(root, "pkg/bin/tool", prog)  # no .so suffix: found by its magic number
    # python3.13: this host's glibc stamps programs with GLIBC_2.34, which 2.34 runtimes have.
    [finding] = check_elf(root, target("python3.13"))
    assert (finding.rule, finding.path) == ("elf-musl", "pkg/bin/tool")


def test_non_elf_files_are_ignored(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "x.so").write_bytes(b"not an ELF file at all")
    (root / "pkg" / "empty.so").write_bytes(b"")
    (root / "pkg" / "short").write_bytes(b"\x7fEL")
    assert check_elf(root, target()) == []


def test_truncated_elf_file_is_reported(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "broken.so").write_bytes(b"\x7fELF\x02\x01\x01" + b"\0" * 9)
    [finding] = check_elf(root, target())
    assert (finding.rule, finding.path) == ("elf-invalid", "pkg/broken.so")


def test_object_files_are_not_loaded_so_not_checked(tmp_path: Path) -> None:
    build = tmp_path / "build"
    build.mkdir()
    (build / "x.c").write_text(ARC4RANDOM)
    subprocess.run(["gcc", "-c", "-fPIC", "-o", "x.o", "x.c"], cwd=build, check=True)
    root = tmp_path / "root"
    obj = place(root, "pkg/x.o", build / "x.o")
    set_machine(obj, 183)
    assert check_elf(root, target()) == []


def test_findings_name_the_distribution_and_are_all_collected(tmp_path: Path) -> None:
    build = tmp_path / "build"
    root = tmp_path / "root"
    gcc(build, "libfoo.so", FOO)  # built only to link against; never shipped
    place(root, "numpy/_core/_new.so", gcc(build, "p.so", PTHREAD))
    place(root, "numpy/_core/_bar.so", gcc(build, "libbar.so", CALLS_FOO, "-L.", "-lfoo"))
    arm = place(root, "numpy.libs/libarm.so", gcc(build, "len.so", STRLEN))
    set_machine(arm, 183)
    place(root, "other/_other.so", gcc(build, "libbar.so", CALLS_FOO, "-L.", "-lfoo"))
    dist_info = root / "numpy-2.2.6.dist-info"
    dist_info.mkdir()
    (dist_info / "RECORD").write_text(
        "numpy/__init__.py,sha256=abc,10\n"
        "numpy/_core/_new.so,sha256=abc,10\n"
        "numpy/_core/_bar.so,sha256=abc,10\n"
        "numpy.libs/libarm.so,sha256=abc,10\n"
        "numpy-2.2.6.dist-info/RECORD,,\n"
    )

    findings = check_elf(root, target("python3.11"))
    # Sorted by path ("." sorts before "/").
    assert rules(findings) == [
        ("elf-machine", "numpy.libs/libarm.so"),
        ("elf-needs", "numpy/_core/_bar.so"),
        ("elf-glibc", "numpy/_core/_new.so"),
        ("elf-needs", "other/_other.so"),
    ]
    arm_finding, bar, new, other = findings
    assert bar.message.endswith("provided by the Lambda runtime (from numpy 2.2.6)")
    assert "has glibc 2.26 (from numpy 2.2.6); " in new.message
    assert "pin an older release of numpy" in new.message
    assert arm_finding.message.endswith("runs x86_64 (from numpy 2.2.6)")
    assert "(from" not in other.message  # no RECORD lists it


def test_a_wheel_member_larger_than_lambda_allows_is_refused_unread(tmp_path: Path) -> None:
    """A zip bomb in a dependency: refused from its declared size, never inflated."""
    from hatch_lambda.audit._facts import _read_wheel
    from hatch_lambda.errors import InstallError

    wheel = tmp_path / "bomb-1.0-py3-none-any.whl"
    block = bytes(1 << 20)
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("bomb/x.bin", "w") as f:
        for _ in range(251):
            f.write(block)
    assert wheel.stat().st_size < 1 << 20
    with pytest.raises(InstallError, match=r"bomb/x\.bin declares 263,192,576 bytes unzipped"):
        _read_wheel(wheel, "x86_64")
