"""The bundle stages one by one: plan a wheel, exclude, place, RECORD, tree, archive."""

from __future__ import annotations

import base64
import csv
import errno
import hashlib
import io
import os
import stat
import threading
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

import pytest

from hatch_lambda import archive
from hatch_lambda.archive import write_zip
from hatch_lambda.audit import ElfFacts
from hatch_lambda.bundle import (
    DEFAULT_EXCLUDES,
    SLIM_EXCLUDES,
    Bundle,
    Entry,
    Excludes,
    Generated,
    OnDisk,
    Reader,
    ZipMember,
    materialize,
    place,
    plan_from_json,
    plan_to_json,
    plan_wheel,
    read_back,
    with_records,
)
from hatch_lambda.errors import ArchiveError, InstallError, UnreadableError
from support.index import make_wheel
from support.zips import data_span, make_zip, member, patch_header, zeros_zip


class Quiet:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, message: str) -> None:
        self.lines.append(message)

    waiting = success = warning = info

    def debug(self, message: str, level: int = 1) -> None:
        self.lines.append(message)


def record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def raw_wheel(directory: Path, name: str, files: dict[str, bytes], *, executable: set[str] = frozenset(),  # type: ignore[assignment]
              purelib: bool = True, links: set[str] = frozenset()) -> Path:  # type: ignore[assignment]  # fmt: skip
    """A wheel with exactly *files* (plus metadata), some of them executable, some symlinks."""
    dist_info = f"{name}-1.0.dist-info"
    files = {
        **files,
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n".encode(),
        f"{dist_info}/WHEEL": (
            f"Wheel-Version: 1.0\nRoot-Is-Purelib: {'true' if purelib else 'false'}\n"
            "Tag: py3-none-any\n"
        ).encode(),
    }
    if "console" in name:
        files[f"{dist_info}/entry_points.txt"] = b"[console_scripts]\ntool = pkg:main\n"
    record = "".join(f"{p},{record_hash(d)},{len(d)}\n" for p, d in files.items())
    path = directory / f"{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for p, d in {
            **files,
            f"{dist_info}/RECORD": (record + f"{dist_info}/RECORD,,\n").encode(),
        }.items():
            info = zipfile.ZipInfo(p, (2021, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o755 if p in executable else 0o644) << 16
            if p in links:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, d)
    return path


def test_a_wheel_plan_is_what_installer_puts_where_python_imports(tmp_path: Path) -> None:
    wheel = raw_wheel(tmp_path, "console_pkg", {
        "pkg/__init__.py": b"def main(): pass\n",
        "pkg/run.sh": b"#!/bin/sh\n",
        "pkg/__pycache__/stale.cpython-311.pyc": b"junk",
        "console_pkg-1.0.data/purelib/extra.py": b"EXTRA = 1\n",
        "console_pkg-1.0.data/scripts/tool": b"#!python\n",
        "console_pkg-1.0.data/data/share/doc.txt": b"doc",
        "console_pkg-1.0.data/headers/h.h": b"",
    }, executable={"pkg/run.sh"})  # fmt: skip
    reporter = Quiet()
    plan = plan_wheel(wheel, "console-pkg", "1.0", sha256=None, reporter=reporter)
    stale = "pkg/__pycache__/stale.cpython-311.pyc"
    # installer 0.7.1 and later skip __pycache__/ (with a warning, kept quiet); older ones install
    # it, and the default excludes drop it. Either way it never ships.
    if stale in plan.entries:
        assert stale not in Excludes(DEFAULT_EXCLUDES).apply(plan)[0].entries
    else:
        assert any("__pycache__" in line for line in reporter.lines)
    assert sorted(set(plan.entries) - {stale}) == [
        "console_pkg-1.0.dist-info/INSTALLER",
        "console_pkg-1.0.dist-info/METADATA",
        "console_pkg-1.0.dist-info/WHEEL",
        "console_pkg-1.0.dist-info/entry_points.txt",
        "extra.py",
        "pkg/__init__.py",
        "pkg/run.sh",
    ]
    # Nothing was read: members point into the wheel, with RECORD's hash; INSTALLER is made here.
    init = plan.entries["pkg/__init__.py"]
    assert isinstance(init.source, ZipMember) and init.source.archive == wheel
    assert init.hash == record_hash(b"def main(): pass\n") and init.owner == "console-pkg 1.0"
    assert plan.entries["extra.py"].source.name == "console_pkg-1.0.data/purelib/extra.py"  # type: ignore[union-attr]
    assert plan.entries["pkg/run.sh"].executable and not init.executable
    assert plan.entries["console_pkg-1.0.dist-info/INSTALLER"].source == Generated(
        b"hatch-lambda\n"
    )


def test_a_plan_round_trips_through_its_cached_form(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "fx-one", "1.0", "py3-none-any")
    plan = plan_wheel(wheel, "fx-one", "1.0", sha256="ab", reporter=Quiet())
    again = plan_from_json(plan_to_json(plan), wheel, "fx-one", "1.0", "ab")
    assert again == plan
    assert plan_from_json({"entries": "nonsense"}, wheel, "fx-one", "1.0", "ab") is None


def test_a_path_outside_the_install_folder_is_refused(tmp_path: Path) -> None:
    wheel = raw_wheel(tmp_path, "evil", {"../escape.py": b"x = 1\n"})
    with pytest.raises(InstallError, match=r"evil 1.0 holds '../escape.py'"):
        plan_wheel(wheel, "evil", "1.0", sha256=None, reporter=Quiet())


def test_a_symbolic_link_in_a_wheel_is_refused_naming_the_wheel_and_member(
    tmp_path: Path,
) -> None:
    wheel = raw_wheel(tmp_path, "linked", {"linked/__init__.py": b"", "linked/conf": b"/etc/passwd"},
                      links={"linked/conf"})  # fmt: skip
    with pytest.raises(InstallError) as raised:
        plan_wheel(wheel, "linked", "1.0", sha256=None, reporter=Quiet())
    assert str(raised.value).startswith(
        "linked 1.0: linked-1.0-py3-none-any.whl holds 'linked/conf' as a symbolic link"
    )
    assert "rebuild the wheel" in str(raised.value)


def test_an_encrypted_member_in_a_wheel_is_refused_when_it_is_planned(tmp_path: Path) -> None:
    """Members are read later by their plan alone, so an encrypted one is stopped here."""
    wheel = raw_wheel(tmp_path, "locked", {"locked/__init__.py": b"x = 1\n"})
    patch_header(wheel, "locked/__init__.py", "flags", 0x1)
    with pytest.raises(InstallError) as raised:
        plan_wheel(wheel, "locked", "1.0", sha256=None, reporter=Quiet())
    assert str(raised.value).startswith(
        "locked 1.0: locked-1.0-py3-none-any.whl holds 'locked/__init__.py' encrypted"
    )


def test_excludes_never_touch_metadata(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "fx-two", "1.0", "py3-none-any", extra_files={
        "fx_two/tests/test_x.py": b"", "fx_two/x.pyi": b"", "fx_two/__pycache__/a.pyc": b"",
        "fx_two-1.0.dist-info/licenses/x.pyi": b"",
    })  # fmt: skip
    plan = plan_wheel(wheel, "fx-two", "1.0", sha256=None, reporter=Quiet())
    kept, removed = Excludes([*DEFAULT_EXCLUDES, *SLIM_EXCLUDES]).apply(plan)
    assert [r for r in removed if "__pycache__" not in r] == [
        "fx_two/tests/test_x.py",
        "fx_two/x.pyi",
    ]
    assert "fx_two/__pycache__/a.pyc" not in kept.entries
    assert "fx_two-1.0.dist-info/licenses/x.pyi" in kept.entries


def plans(tmp_path: Path, *names: str) -> dict[str, object]:
    return {
        n: plan_wheel(make_wheel(tmp_path, n, "1.0", "py3-none-any"), n, "1.0", sha256=None,
                      reporter=Quiet())
        for n in names
    }  # fmt: skip


def test_place_a_function_a_layer_and_a_layer_for_two_runtimes(tmp_path: Path) -> None:
    p = plans(tmp_path, "fx-a", "fx-b", "fx-c")
    function = place("function", {"python3.12": [p["fx-a"]]}, p["fx-b"])  # type: ignore[list-item,arg-type]
    assert "fx_a/__init__.py" in function.bundle.entries
    assert function.bundle.sites == {"python3.12": ("",)}
    assert function.locations[("fx_b-1.0-py3-none-any.whl", "")] == ""

    layer = place("layer", {"python3.12": [p["fx-a"]]})  # type: ignore[list-item]
    assert {e.split("/", 1)[0] for e in layer.bundle.entries} == {"python"}

    # fx-a is the same file for both runtimes: once, in python/; fx-c only for 3.12: its own folder.
    two = place("layer", {"python3.11": [p["fx-a"]], "python3.12": [p["fx-a"], p["fx-c"]]})  # type: ignore[list-item]
    paths = set(two.bundle.entries)
    assert "python/fx_a/__init__.py" in paths
    assert "python/lib/python3.12/site-packages/fx_c/__init__.py" in paths
    assert two.bundle.sites["python3.11"] == ("python/lib/python3.11/site-packages/", "python/")
    site = two.bundle.site_entries("python/")
    assert "fx_a/__init__.py" in site and not any(p.startswith("lib/") for p in site)


def test_two_distributions_shipping_one_file_is_an_error_naming_both(tmp_path: Path) -> None:
    one = plan_wheel(make_wheel(tmp_path, "fx-x", "1.0", "py3-none-any",
                                extra_files={"shared.py": b"a"}), "fx-x", "1.0", sha256=None,
                     reporter=Quiet())  # fmt: skip
    two = plan_wheel(make_wheel(tmp_path, "fx-y", "1.0", "py3-none-any",
                                extra_files={"shared.py": b"b"}), "fx-y", "1.0", sha256=None,
                     reporter=Quiet())  # fmt: skip
    both = r"fx-y 1.0 \(fx_y-1.0-py3-none-any.whl\) and fx-x 1.0 both ship shared.py"
    with pytest.raises(InstallError, match=both):
        place("function", {"python3.12": [one, two]})


def zip_records(path: Path) -> dict[str, list[list[str]]]:
    with zipfile.ZipFile(path) as zf:
        return {
            n: list(csv.reader(io.StringIO(zf.read(n).decode())))
            for n in zf.namelist() if n.endswith("/RECORD")
        }  # fmt: skip


def test_the_archive_copies_members_compressed_and_records_what_ships(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "fx-z", "1.0", "py3-none-any", extra_files={
        "fx_z/big.txt": b"lambda " * 10_000, "fx_z/tests/t.py": b"",
    })  # fmt: skip
    plan = plan_wheel(wheel, "fx-z", "1.0", sha256=None, reporter=Quiet())
    plan, _ = Excludes(SLIM_EXCLUDES).apply(plan)
    bundle = place("function", {"python3.12": [plan]}).bundle
    # RECORD is written once the bundle is final, by with_records.
    assert "fx_z-1.0.dist-info/RECORD" not in bundle.entries
    info = write_zip(with_records(bundle), tmp_path / "out" / "f.zip")
    with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(info.path) as written:
        assert written.testzip() is None
        original, copied = source.getinfo("fx_z/big.txt"), written.getinfo("fx_z/big.txt")
        assert (copied.CRC, copied.compress_size) == (original.CRC, original.compress_size)
        names = written.namelist()
        contents = {n: written.read(n) for n in names}
    assert names == sorted(names) and "fx_z/tests/t.py" not in names
    [(record, rows)] = zip_records(info.path).items()
    assert record == "fx_z-1.0.dist-info/RECORD"
    listed = {row[0]: row for row in rows}
    assert set(listed) == set(names)  # exactly what ships, the excluded test included nowhere
    for name, data in contents.items():
        if name != record:
            assert listed[name][1:] == [record_hash(data), str(len(data))], name
    assert info.sha256 == hashlib.sha256(info.path.read_bytes()).hexdigest()
    assert (
        info.code_sha256
        == base64.b64encode(hashlib.sha256(info.path.read_bytes()).digest()).decode()
    )


def generated(files: dict[str, bytes], executable: set[str] = frozenset()) -> Bundle:  # type: ignore[assignment]
    return Bundle({p: Entry(p, Generated(d), p in executable) for p, d in files.items()})


FILES = {"pkg/mod.py": b"x = 1\n", "pkg/run.sh": b"#!/bin/sh\n", "a.py": b"", "z/data.txt": b"d"}


def test_same_entries_same_bytes_whatever_their_order(tmp_path: Path) -> None:
    one = write_zip(generated(FILES, {"pkg/run.sh"}), tmp_path / "a.zip")
    two = write_zip(generated(dict(reversed(FILES.items())), {"pkg/run.sh"}), tmp_path / "b.zip")
    assert one.path.read_bytes() == two.path.read_bytes() and one.files == 4
    with zipfile.ZipFile(one.path) as zf:
        infos = zf.infolist()
    modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in infos}
    assert modes["pkg/run.sh"] == 0o755 and modes["pkg/mod.py"] == 0o644
    assert {i.date_time for i in infos} == {(2020, 2, 2, 0, 0, 0)}
    assert {i.create_system for i in infos} == {3}


def test_a_failed_write_keeps_the_old_archive_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    dest = tmp_path / "out" / "f.zip"
    write_zip(generated(FILES), dest)
    before = dest.read_bytes()
    gone = Bundle({"x.py": Entry("x.py", OnDisk(tmp_path / "missing.py", 3))})
    with pytest.raises(ArchiveError, match="cannot write"):
        write_zip(gone, dest)
    assert dest.read_bytes() == before
    assert sorted(p.name for p in dest.parent.iterdir()) == ["f.zip"]


class _FillsUp:
    """A file on a disk that fills up after *room* bytes."""

    def __init__(self, stream: BinaryIO, room: int) -> None:
        self.stream, self.room = stream, room

    def write(self, data: bytes) -> int:
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(data)
        return self.stream.write(data)

    def flush(self) -> None:
        self.stream.flush()


@pytest.mark.parametrize("room", [0, 3 << 20])
def test_a_disk_that_fills_up_while_the_archive_is_written_fails_the_build_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, room: int
) -> None:
    """The archive is hashed and written by a thread of its own: its failure is the build's,
    whether it comes with the first block or after several, and the thread does not outlive it."""
    dest = tmp_path / "out" / "f.zip"
    write_zip(generated(FILES), dest)
    before = dest.read_bytes()
    # Random bytes do not compress: eight blocks of the writer, more than it lets wait.
    big = generated({**FILES, **{f"pkg/blob{i}.bin": os.urandom(1 << 20) for i in range(8)}})
    writer = archive._HashingWriter
    monkeypatch.setattr(archive, "_HashingWriter", lambda raw: writer(_FillsUp(raw, room)))
    threads = threading.active_count()
    with pytest.raises(ArchiveError, match="No space left on device"):
        write_zip(big, dest)
    assert dest.read_bytes() == before
    assert sorted(p.name for p in dest.parent.iterdir()) == ["f.zip"]
    assert threading.active_count() == threads


@pytest.mark.parametrize("name", ["pkg/mod.py", "pkg/donn\u00e9es.py", "\u6570\u636e/x.txt"])
@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_the_local_header_is_packed_as_zipfile_packs_it(name: str, method: int) -> None:
    """The archive packs local headers itself, for speed; zipfile's are the reference."""
    date_time = (2020, 2, 2, 13, 59, 58)
    info = zipfile.ZipInfo(name, date_time)
    info.create_system = 3
    info.compress_type = method
    out = io.BytesIO()
    out.write(b"x" * 17)
    writer = archive._Writer(zipfile.ZipFile(io.BytesIO(), "w"), out, date_time)  # type: ignore[arg-type]
    ours = writer._header(info, 0x12345678, 1000, 400 if method else 1000)
    assert ours == info.FileHeader()
    assert info.header_offset == 17 and info.flag_bits == 0  # the name's flag is not kept


def test_the_hash_is_of_every_byte_written_in_order(tmp_path: Path) -> None:
    files = {**FILES, "big.bin": os.urandom(3 << 20), "small.txt": b"s" * 100}
    info = write_zip(generated(files), tmp_path / "f.zip")
    assert info.sha256 == hashlib.sha256(info.path.read_bytes()).hexdigest()
    assert info.size == info.path.stat().st_size
    with zipfile.ZipFile(info.path) as zf:
        assert zf.testzip() is None and zf.read("big.bin") == files["big.bin"]


def test_a_tree_read_back_keeps_unchanged_members_and_gives_bytecode_an_owner(
    tmp_path: Path,
) -> None:
    wheel = make_wheel(
        tmp_path, "fx-t", "1.0", "py3-none-any", extra_files={"fx_t/keep.py": b"k\n"}
    )
    bundle = place("function", {"python3.12": [
        plan_wheel(wheel, "fx-t", "1.0", sha256=None, reporter=Quiet())]}).bundle  # fmt: skip
    root = materialize(bundle, tmp_path / "tree")
    (root / "fx_t" / "__init__.py").write_text("CHANGED = True\n")
    (root / "fx_t" / "__pycache__").mkdir()
    (root / "fx_t" / "__pycache__" / "keep.cpython-312.pyc").write_bytes(b"pyc")
    (root / "stray.txt").write_text("s")
    back = read_back(root, bundle)
    assert isinstance(back.entries["fx_t/keep.py"].source, ZipMember)
    assert isinstance(back.entries["fx_t/__init__.py"].source, OnDisk)
    pyc = back.entries["fx_t/__pycache__/keep.cpython-312.pyc"]
    assert pyc.owner == "fx-t 1.0" and back.entries["stray.txt"].owner is None
    info = write_zip(with_records(back), tmp_path / "t.zip")
    rows = {r[0] for r in zip_records(info.path)["fx_t-1.0.dist-info/RECORD"]}
    assert "fx_t/__pycache__/keep.cpython-312.pyc" in rows and "stray.txt" not in rows
    (root / "link").symlink_to("/etc/passwd")
    with pytest.raises(ArchiveError, match="link is a symbolic link"):
        read_back(root, bundle)


def test_a_member_that_does_not_match_its_record_is_an_error(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "fx-bad", "1.0", "py3-none-any")
    with zipfile.ZipFile(wheel) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    members["fx_bad/__init__.py"] = members["fx_bad/__init__.py"].replace(
        b"WHEEL_TAG", b"WHEEL_TAX"
    )
    wheel.unlink()
    with zipfile.ZipFile(wheel, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    with Reader() as reader:
        facts = ElfFacts(reader, "x86_64", {wheel: "0" * 64})
        damaged = r"fx_bad-1.0-py3-none-any.whl is damaged or was altered: fx_bad/__init__.py"
        with pytest.raises(InstallError, match=damaged):
            facts.prepare([wheel])


def test_a_truncated_wheel_is_an_error_naming_it_not_a_traceback(tmp_path: Path) -> None:
    wheel = make_wheel(
        tmp_path, "fx-cut", "1.0", "py3-none-any", extra_files={"fx_cut/x": b"x" * 5000}
    )
    wheel.write_bytes(wheel.read_bytes()[:-200])
    with pytest.raises(
        InstallError, match=r"cannot install fx-cut 1.0 from fx_cut-1.0-py3-none-any.whl"
    ):
        plan_wheel(wheel, "fx-cut", "1.0", sha256=None, reporter=Quiet())
    with (
        Reader() as reader,
        pytest.raises(InstallError, match=r"cannot read fx_cut-1.0-py3-none-any.whl"),
    ):
        ElfFacts(reader, "x86_64", {wheel: "0" * 64}).prepare([wheel])


TEXT = b"".join(b"line %d of a module that compresses like code\n" % i for i in range(300))


def zip_entry(path: Path, name: str) -> Entry:
    with zipfile.ZipFile(path) as zf:
        return Entry(name, ZipMember.from_info(path, zf.getinfo(name)))


def read_all(path: Path, name: str, *, piece: int = 7, max_size: int | None = None) -> bytes:
    with Reader(max_size) as reader, reader.open(zip_entry(path, name)) as stream:
        return b"".join(iter(lambda: stream.read(piece), b""))


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_the_reader_gives_what_zipfile_gives_in_any_pieces(tmp_path: Path, method: int) -> None:
    path = make_zip(tmp_path / "a.zip", [(member("t.txt", method), TEXT),
                                              (member("empty", method), b"")])  # fmt: skip
    for piece in (1, 7, 4096, 1 << 20):
        assert read_all(path, "t.txt", piece=piece) == TEXT
    assert read_all(path, "empty") == b""
    with Reader() as reader:
        assert reader.read(zip_entry(path, "t.txt"), 10) == TEXT[:10]


def damaged(tmp_path: Path, field: str, value: int) -> Path:
    path = make_zip(tmp_path / f"{field}.zip", [("t.txt", TEXT)])
    patch_header(path, "t.txt", field, value)
    return path


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("flags", 0x1, "is encrypted, and Lambda unpacks no encrypted member"),
        ("method", 9, "is compressed with deflate64 (method 9), and Lambda unpacks only stored"),
        ("method", 12, "is compressed with bzip2 (method 12)"),
        ("method", 77, "is compressed with an unknown method (method 77)"),
        ("crc", zlib.crc32(TEXT) ^ 1, "does not match its CRC-32"),
        ("size", len(TEXT) + 5, f"ends after {len(TEXT):,} of the {len(TEXT) + 5:,} bytes"),
        ("size", 100, "inflates to more than the 100 bytes it declares"),
    ],
)
def test_a_member_lambda_cannot_unpack_is_an_unreadable_error(
    tmp_path: Path, field: str, value: int, says: str
) -> None:
    path = damaged(tmp_path, field, value)
    with pytest.raises(UnreadableError) as raised:
        read_all(path, "t.txt", max_size=1 << 30)
    assert raised.value.member == "t.txt" and says in raised.value.reason
    assert str(raised.value).startswith(f"{field}.zip: t.txt ")


def test_damaged_deflate_data_is_an_unreadable_error(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "a.zip", [("t.txt", TEXT)])
    start, end = data_span(path, "t.txt")
    raw = bytearray(path.read_bytes())
    raw[start:end] = b"\xff" * (end - start)
    path.write_bytes(bytes(raw))
    with pytest.raises(UnreadableError, match="deflate data is damaged"):
        read_all(path, "t.txt")


def test_reading_stops_at_the_declared_size_even_when_the_crc_matches(tmp_path: Path) -> None:
    """zipfile cuts such a member short without a word; the reader says it does not fit."""
    path = damaged(tmp_path, "size", 100)
    patch_header(path, "t.txt", "crc", zlib.crc32(TEXT[:100]))
    with zipfile.ZipFile(path) as zf:
        assert zf.read("t.txt") == TEXT[:100]
    with pytest.raises(UnreadableError, match="inflates to more than the 100 bytes"):
        read_all(path, "t.txt", piece=1 << 20)


def test_with_a_limit_the_reader_refuses_a_bomb_unread(tmp_path: Path) -> None:
    bomb = zeros_zip(tmp_path / "bomb.zip", "b.so", 8 << 20, b"\x7fELF")
    assert read_all(bomb, "b.so", piece=1 << 20)[:4] == b"\x7fELF"  # no limit: it is zeros
    with pytest.raises(UnreadableError, match=r"declares 8,388,608 bytes unzipped, more than"):
        read_all(bomb, "b.so", max_size=1 << 20)
    with pytest.raises(UnreadableError, match=r"\(1,0\d\d:1\), more than real files compress"):
        read_all(bomb, "b.so", max_size=64 << 20)


def test_a_wheel_member_in_bzip2_is_deflated_again_but_refused_in_an_artifact(
    tmp_path: Path,
) -> None:
    path = make_zip(tmp_path / "w.zip", [(member("t.txt", zipfile.ZIP_BZIP2), TEXT)])
    assert read_all(path, "t.txt") == TEXT
    written = write_zip(Bundle({"t.txt": zip_entry(path, "t.txt")}), tmp_path / "out.zip")
    with zipfile.ZipFile(written.path) as zf:
        assert zf.getinfo("t.txt").compress_type == zipfile.ZIP_DEFLATED
        assert zf.read("t.txt") == TEXT
    with pytest.raises(UnreadableError, match=r"bzip2 \(method 12\)"):
        read_all(path, "t.txt", max_size=1 << 30)
