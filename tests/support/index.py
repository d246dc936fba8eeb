"""Builds the local package index from fixtures/ and serves it on 127.0.0.1."""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import io
import json
import shutil
import sys
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def _record_hash(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def make_wheel(
    directory: Path,
    name: str,
    version: str,
    tag: str,
    *,
    requires: list[str] | tuple[str, ...] = (),
    provides_extra: list[str] | tuple[str, ...] = (),
    extra_files: dict[str, bytes] | None = None,
    requires_python: str | None = None,
    own_module: bool = True,
) -> Path:
    """Write a real wheel whose module ``<name>`` records *tag* as ``WHEEL_TAG`` (unless
    *own_module* is false: then it holds *extra_files* alone)."""
    module = name.replace("-", "_")
    dist_info = f"{module}-{version}.dist-info"
    pure = tag.endswith("-none-any")
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    if requires_python:
        metadata += f"Requires-Python: {requires_python}\n"
    metadata += "".join(f"Provides-Extra: {e}\n" for e in provides_extra)
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requires)
    wheel_meta = "Wheel-Version: 1.0\nGenerator: hatch-lambda-tests\n"
    wheel_meta += f"Root-Is-Purelib: {'true' if pure else 'false'}\n"
    interpreters, abis, platforms = tag.split("-")
    for i in interpreters.split("."):
        for a in abis.split("."):
            for p in platforms.split("."):
                wheel_meta += f"Tag: {i}-{a}-{p}\n"
    own = {f"{module}/__init__.py": f"WHEEL_TAG = {tag!r}\nVERSION = {version!r}\n".encode()}
    files: dict[str, bytes] = {
        **(own if own_module else {}),
        **(extra_files or {}),
        f"{dist_info}/METADATA": metadata.encode(),
        f"{dist_info}/WHEEL": wheel_meta.encode(),
    }
    path = directory / f"{module}-{version}-{tag}.whl"
    record = [f"{p},sha256={_record_hash(d)},{len(d)}" for p, d in files.items()]
    record.append(f"{dist_info}/RECORD,,")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for p, d in files.items():
            zf.writestr(zipfile.ZipInfo(p, (2020, 1, 1, 0, 0, 0)), d)
        zf.writestr(
            zipfile.ZipInfo(f"{dist_info}/RECORD", (2020, 1, 1, 0, 0, 0)), "\n".join(record) + "\n"
        )
    return path


def make_sdist(directory: Path, source: Path) -> Path:
    """Pack a fixtures/sdists/ folder (with the shared in-tree backend) into an sdist."""
    pyproject = tomllib.loads((source / "pyproject.toml").read_text())
    name, version = pyproject["project"]["name"], pyproject["project"]["version"]
    stem = f"{name.replace('-', '_')}-{version}"
    members = {
        "pyproject.toml": (source / "pyproject.toml").read_bytes(),
        "fx.json": (source / "fx.json").read_bytes(),
        "_backend.py": (source.parent / "_backend.py").read_bytes(),
        "PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        **{c.name: c.read_bytes() for c in sorted(source.glob("*.c"))},
    }
    # A legacy archive format, as some old releases were published ("archive": "tar.bz2").
    archive = json.loads(members["fx.json"]).get("archive", "tar.gz")
    path = directory / f"{stem}.{archive}"
    with tarfile.open(path, f"w:{archive.rpartition('.')[2]}") as tar:
        for member, data in sorted(members.items()):
            info = tarfile.TarInfo(f"{stem}/{member}")
            info.size = len(data)
            info.mtime = 1577836800
            tar.addfile(info, io.BytesIO(data))
    return path


def build_index(root: Path) -> Path:
    """Write every fixture distribution under root/files and PEP 503 pages under root/simple."""
    files = root / "files"
    files.mkdir(parents=True, exist_ok=True)
    spec: dict[str, Any] = tomllib.loads((FIXTURES / "index.toml").read_text())
    for entry in spec["wheel"]:
        for tag in entry["tags"]:
            extra = {k: v.encode() for k, v in entry.get("files", {}).items()}
            make_wheel(
                files, entry["name"], entry["version"], tag,
                requires=entry.get("requires", []), extra_files=extra,
                provides_extra=entry.get("provides-extra", []),
                requires_python=entry.get("requires-python"),
                own_module=entry.get("own-module", True),
            )  # fmt: skip
    for source in sorted((FIXTURES / "sdists").iterdir()):
        if source.is_dir():
            make_sdist(files, source)
    write_simple_pages(root)
    return root


def write_simple_pages(root: Path) -> None:
    files = root / "files"
    simple = root / "simple"
    if simple.exists():
        shutil.rmtree(simple)
    by_project: dict[str, list[Path]] = {}
    for path in sorted(files.iterdir()):
        stem = path.name.split("-")[0]
        by_project.setdefault(canonicalize_name(stem), []).append(path)
    for project, paths in by_project.items():
        page = simple / project / "index.html"
        page.parent.mkdir(parents=True)
        links = "".join(
            f'<a href="../../files/{html.escape(p.name)}#sha256='
            f'{hashlib.sha256(p.read_bytes()).hexdigest()}"{_requires_python_attribute(p)}>'
            f"{html.escape(p.name)}</a>\n"
            for p in paths
        )
        page.write_text(f"<!DOCTYPE html><html><body>\n{links}</body></html>\n")
    index = "".join(f'<a href="{p}/">{p}</a>\n' for p in sorted(by_project))
    (simple / "index.html").write_text(f"<!DOCTYPE html><html><body>\n{index}</body></html>\n")


def _requires_python_attribute(path: Path) -> str:
    """``data-requires-python`` for a wheel whose METADATA has Requires-Python, as PyPI serves."""
    if path.suffix != ".whl":
        return ""
    with zipfile.ZipFile(path) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        for line in zf.read(meta).decode().splitlines():
            if line.startswith("Requires-Python: "):
                value = line.split(": ", 1)[1]
                return f' data-requires-python="{html.escape(value)}"'
    return ""


class _QuietHandler(SimpleHTTPRequestHandler):
    credentials: str | None = None
    requests_seen: list[str]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.requests_seen.append(self.path)
        if self.credentials is not None:
            expected = "Basic " + base64.b64encode(self.credentials.encode()).decode()
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="fixtures"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        super().do_GET()


@contextmanager
def serve(root: Path, credentials: str | None = None) -> Iterator[tuple[str, list[str]]]:
    """Serve *root* on 127.0.0.1; yields the simple index URL and the list of requested paths."""
    seen: list[str] = []
    handler = type("Handler", (_QuietHandler,), {"credentials": credentials, "requests_seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple", seen
    finally:
        server.shutdown()
        server.server_close()
