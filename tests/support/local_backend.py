"""A tiny in-tree PEP 517 backend for the local-source test projects: no build requirements, so
their isolated builds need no index. It packs the project's ``src/`` folder into a wheel whose
METADATA lists ``[project] dependencies``. Copied into each project as ``_local_backend.py``."""

import base64
import hashlib
import os
import zipfile

try:
    import tomllib
except ImportError:  # pragma: no cover
    import tomli as tomllib

HERE = os.getcwd()


def _project():
    with open(os.path.join(HERE, "pyproject.toml"), "rb") as f:
        return tomllib.load(f)["project"]


def _hash(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def _files():
    src = os.path.join(HERE, "src")
    for folder, dirs, names in os.walk(src):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(names):
            if name.endswith(".pyc"):
                continue
            path = os.path.join(folder, name)
            yield os.path.relpath(path, src).replace(os.sep, "/"), path


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    project = _project()
    name, version = project["name"], project["version"]
    stem = f"{name.replace('-', '_')}-{version}"
    dist_info = f"{stem}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
        f"Requires-Dist: {r}\n" for r in project.get("dependencies", [])
    )
    members = {rel: open(path, "rb").read() for rel, path in _files()}
    members[f"{dist_info}/METADATA"] = metadata.encode()
    members[f"{dist_info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: local-backend\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    record = "".join(f"{p},{_hash(d)},{len(d)}\n" for p, d in members.items())
    record += f"{dist_info}/RECORD,,\n"
    filename = f"{stem}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as zf:
        for p, d in [*members.items(), (f"{dist_info}/RECORD", record.encode())]:
            zf.writestr(zipfile.ZipInfo(p, (2020, 1, 1, 0, 0, 0)), d)
    return filename


def build_sdist(sdist_directory, config_settings=None):
    import io
    import tarfile

    project = _project()
    stem = f"{project['name'].replace('-', '_')}-{project['version']}"
    members = {
        "pyproject.toml": open(os.path.join(HERE, "pyproject.toml"), "rb").read(),
        "_local_backend.py": open(os.path.join(HERE, "_local_backend.py"), "rb").read(),
        "PKG-INFO": f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: "
        f"{project['version']}\n".encode(),
    }
    members.update({f"src/{rel}": open(path, "rb").read() for rel, path in _files()})
    filename = f"{stem}.tar.gz"
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz") as tar:
        for member, data in sorted(members.items()):
            info = tarfile.TarInfo(f"{stem}/{member}")
            info.size = len(data)
            info.mtime = 1577836800
            tar.addfile(info, io.BytesIO(data))
    return filename
