"""Re-tags a wheel that holds no compiled code as ``py3-none-any``.

A ``setup.py`` that falls back to pure Python after its extension failed to build (wrapt 1.14,
sqlalchemy 1.1) calls ``setup()`` a second time in the same process, and bdist_wheel still tags
the result for the building interpreter and platform (``cp312-cp312-linux_x86_64``), though it
holds nothing but Python files.
"""

from __future__ import annotations

import base64
import hashlib
import re
import zipfile
from pathlib import Path

from packaging.utils import parse_wheel_filename

# Files a loader maps into the process: one of these makes a wheel platform-specific.
_COMPILED = re.compile(r"\.(so|pyd|dylib|dll|a|o|exe)(\.[0-9.]+)?$", re.I)
_PURE_TAG = "py3-none-any"


def compiled_files(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        return [n for n in zf.namelist() if _COMPILED.search(n.rsplit("/", 1)[-1])]


def retag_pure(wheel: Path, out_dir: Path) -> Path | None:
    """A copy of *wheel* in *out_dir* tagged ``py3-none-any``, or None when it holds compiled
    files."""
    if compiled_files(wheel):
        return None
    _, version, build, _ = parse_wheel_filename(wheel.name)
    stem = wheel.name.split("-")[0]
    build_part = f"-{build[0]}{build[1]}" if build else ""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{stem}-{version}{build_part}-{_PURE_TAG}.whl"
    with zipfile.ZipFile(wheel) as source:
        dist_info = next(
            (n.split("/")[0] for n in source.namelist()
             if n.endswith(".dist-info/WHEEL") and n.count("/") == 1),
            None,
        )  # fmt: skip
        if dist_info is None:
            return None
        wheel_file = f"{dist_info}/WHEEL"
        text = source.read(wheel_file).decode("utf-8")
        # Headers only: a blank line (bdist_wheel ends the file with one) would end them.
        kept = [
            line for line in text.splitlines()
            if line.strip() and not line.startswith(("Tag:", "Root-Is-"))
        ]  # fmt: skip
        new_wheel = "\n".join([*kept, "Root-Is-Purelib: true", f"Tag: {_PURE_TAG}", ""]).encode()
        record_file = f"{dist_info}/RECORD"
        digest = base64.urlsafe_b64encode(hashlib.sha256(new_wheel).digest()).rstrip(b"=")
        record = [
            f"{wheel_file},sha256={digest.decode()},{len(new_wheel)}"
            if line.split(",", 1)[0] == wheel_file
            else line
            for line in source.read(record_file).decode("utf-8").splitlines()
        ]
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dest:
            for info in source.infolist():
                data = source.read(info)
                if info.filename == wheel_file:
                    data = new_wheel
                elif info.filename == record_file:
                    data = ("\n".join(record) + "\n").encode()
                dest.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return target
