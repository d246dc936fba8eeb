"""The archive stage: deterministic, atomic, regular files only."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from hatch_lambda.archive import write_zip
from hatch_lambda.errors import ArchiveError


def make_tree(root: Path, order: list[str]) -> Path:
    for name in order:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"content of {name}\n")
    (root / "pkg" / "run.sh").chmod(0o775)
    (root / "pkg" / "mod.py").chmod(0o600)
    return root


FILES = ["pkg/mod.py", "pkg/run.sh", "a.py", "pkg/sub/__init__.py", "z/data.txt"]


def test_same_tree_same_bytes_whatever_the_order_or_mtime(tmp_path: Path) -> None:
    one = make_tree(tmp_path / "one", FILES)
    two = make_tree(tmp_path / "two", list(reversed(FILES)))
    os.utime(two / "a.py", (1_000_000_000, 1_000_000_000))
    a = write_zip(one, tmp_path / "out" / "a.zip")
    b = write_zip(two, tmp_path / "out" / "b.zip")
    assert a.path.read_bytes() == b.path.read_bytes()
    assert a.sha256 == b.sha256 and a.files == 5
    with zipfile.ZipFile(a.path) as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == sorted(FILES)
    modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in infos}
    assert modes["pkg/run.sh"] == 0o755 and modes["pkg/mod.py"] == 0o644
    assert {i.date_time for i in infos} == {(2020, 2, 2, 0, 0, 0)}
    assert {i.create_system for i in infos} == {3}


def test_symlinks_are_refused_and_the_old_archive_is_kept(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "tree", FILES)
    dest = tmp_path / "out" / "f.zip"
    write_zip(tree, dest)
    before = dest.read_bytes()
    (tree / "link").symlink_to("/etc/passwd")
    with pytest.raises(ArchiveError, match="link is a symbolic link"):
        write_zip(tree, dest)
    assert dest.read_bytes() == before
    assert sorted(p.name for p in dest.parent.iterdir()) == ["f.zip"]


def test_code_sha256_is_base64_of_the_digest(tmp_path: Path) -> None:
    import base64
    import hashlib

    info = write_zip(make_tree(tmp_path / "t", FILES), tmp_path / "x.zip")
    digest = hashlib.sha256(info.path.read_bytes()).digest()
    assert info.code_sha256 == base64.b64encode(digest).decode()
