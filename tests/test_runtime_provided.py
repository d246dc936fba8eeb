"""exclude-runtime-provided against the table of what each runtime ships: the SDK is left out
only when the runtime's version meets the project's requirements and lock, and kept with the
reason otherwise; the closure rule judges by the runtime's versions."""

from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from hatch_lambda._provided import PROVIDED
from hatch_lambda.selection import _met_from
from hatch_lambda.target import RUNTIME_PROVIDED, RUNTIMES, resolve_target
from support.audit import audit_folder
from support.index import make_wheel
from support.project import Project, unpack
from support.pythons import find_python, missing

HANDLER = "fx_app.handler.handler"
TABLE = PROVIDED[("python3.12", "x86_64")]
FLOOR = TABLE.distributions["botocore"]
FLOOR3 = TABLE.distributions["boto3"]


def next_minor(version: str) -> str:
    major, minor = Version(version).release[:2]
    return f"{major}.{minor + 1}.0"


# Above the runtime's and the stand-ins of fixtures/index.toml (1.40.0), so the resolver takes it.
ABOVE = next_minor(max(FLOOR, FLOOR3, "1.40.0", key=Version))
S3T = TABLE.distributions["s3transfer"]


def test_every_runtime_and_architecture_has_dated_sdk_figures() -> None:
    for runtime in RUNTIMES:
        for arch in ("x86_64", "arm64"):
            entry = PROVIDED[(runtime, arch)]
            assert set(entry.distributions) == RUNTIME_PROVIDED
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", entry.recorded) and entry.source
            assert all(Version(v) for v in entry.distributions.values())
            assert entry.python is None or entry.python.startswith(RUNTIMES[runtime].version)
    target, _ = resolve_target("python3.13", "arm64")
    assert target.provided == PROVIDED[("python3.13", "arm64")]


@pytest.mark.parametrize(
    ("spec", "met"),
    [
        ("", True),
        (f">={FLOOR}", True),
        (f">{FLOOR}", False),
        (f">={ABOVE}", False),
        (f"<{ABOVE}", False),  # a cap: the runtime's copy may pass it any day
        (f"=={FLOOR}", False),
        (f"~={FLOOR}", False),
        ("!=1.0.0", True),
        (f"!={ABOVE}", False),
    ],
)
def test_a_requirement_is_met_by_every_version_from_the_floor_up(spec: str, met: bool) -> None:
    assert _met_from(SpecifierSet(spec), Version(FLOOR)) is met


@pytest.fixture
def sdk(tmp_path: Path) -> Path:
    """The SDK at the runtime's version and at the next minor release, with the dependency shape
    of the real one, and a library that needs the newer botocore."""
    links = tmp_path / "links"
    links.mkdir()
    for version in {FLOOR3, ABOVE}:
        make_wheel(
            links,
            "boto3",
            version,
            "py3-none-any",
            requires=[f"botocore>={version}", "jmespath>=0.7.1", f"s3transfer>={S3T}"],
        )
    for version in {FLOOR, ABOVE}:
        make_wheel(
            links,
            "botocore",
            version,
            "py3-none-any",
            requires=["jmespath>=0.7.1", "python-dateutil>=2.1", "urllib3>=1.25.4"],
        )
    make_wheel(links, "s3transfer", S3T, "py3-none-any", requires=[f"botocore>={FLOOR}"])
    make_wheel(links, "fx-new-botocore", "1.0", "py3-none-any", requires=[f"botocore>={ABOVE}"])
    return links  # fmt: skip


def project(app: Project, links: Path, *requires: str, lock: str | None = None) -> None:
    deps = ", ".join(f'"{r}"' for r in requires)
    app.template = re.sub(r"(?s)dependencies = \[.*?\]\n", f"dependencies = [{deps}]\n",
                          app.template, count=1)  # fmt: skip
    table = {"runtime": "python3.12", "handler": HANDLER, "exclude-runtime-provided": True,
             "find-links": [str(links)]}  # fmt: skip
    if lock is not None:
        (app.path / "requirements.txt").write_text(lock)
        table["requirements"] = "requirements.txt"
    app.configure(table)


def dists(zip_path: Path) -> dict[str, str]:
    with zipfile.ZipFile(zip_path) as zf:
        found = (n.split("/")[0] for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        return dict(f[: -len(".dist-info")].rsplit("-", 1) for f in found)  # type: ignore[misc]


def test_a_requirement_the_runtime_meets_leaves_the_sdk_out(app: Project, sdk: Path) -> None:
    project(app, sdk, f"boto3>={FLOOR3}")
    proc = app.build_wheel()
    inside = dists(app.only_zip())
    assert {"boto3", "botocore", "s3transfer", "jmespath", "urllib3"}.isdisjoint(inside)
    assert re.search(r"left out boto3 \S+ \(provided by the runtime, which has "
                     rf"{re.escape(FLOOR3)} or later\)", proc.stderr)  # fmt: skip
    assert "keeping" not in proc.stderr
    data = app.manifest()
    assert data["kept"] == []
    assert any(s.startswith("boto3 ") and f"which has {FLOOR3} or later" in s
               for s in data["left-out"])  # fmt: skip
    assert app.hatchling("-t", "wheel").returncode == 0  # a rebuild reuses it


def test_a_requirement_above_the_runtime_keeps_the_sdk_and_says_why(
    app: Project, sdk: Path
) -> None:
    project(app, sdk, f"boto3>={ABOVE}")
    proc = app.build_wheel()
    inside = dists(app.only_zip())
    assert inside["boto3"] == ABOVE and inside["botocore"] == ABOVE and "s3transfer" in inside
    why = f"the project needs boto3>={ABOVE}, and python3.12 provides {FLOOR3}"
    assert f"keeping boto3 {ABOVE}: {why}" in proc.stderr
    assert (f"keeping botocore {ABOVE}: boto3 {ABOVE} needs botocore>={ABOVE}, and python3.12 "
            f"provides {FLOOR}") in proc.stderr  # the bundle's boto3 needs it  # fmt: skip
    together = "kept with boto3: the runtime's boto3, botocore, s3transfer go together"
    assert f"keeping s3transfer {inside['s3transfer']}: {together}" in proc.stderr
    kept = app.manifest()["kept"]
    assert f"boto3 {ABOVE} ({why})" in kept and len(kept) == 3
    # The function imports the bundle's SDK, ahead of the runtime's on sys.path.
    python = find_python("3.12")
    if python is None:
        missing("no Python 3.12 to import the bundle with")
    root = unpack(app.only_zip(), app.path / "unpacked")
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import boto3, botocore, fx_app.handler; "
            "print(boto3.VERSION, botocore.VERSION)")  # fmt: skip
    proc = subprocess.run([str(python), "-I", "-S", "-c", code, str(root)],
                          capture_output=True, text=True, check=True)  # fmt: skip
    assert proc.stdout.split() == [ABOVE, ABOVE]
    # jmespath stands alone: the bundled botocore accepts any later one, so the runtime's does.
    assert "jmespath" not in inside
    assert any(s.startswith("jmespath ") for s in app.manifest()["left-out"])


def test_a_dependency_that_needs_a_newer_botocore_keeps_the_sdk(app: Project, sdk: Path) -> None:
    project(app, sdk, "boto3", "fx-new-botocore")
    proc = app.build_wheel()
    inside = dists(app.only_zip())
    assert inside["botocore"] == ABOVE and "boto3" in inside
    assert (f"keeping botocore {ABOVE}: fx-new-botocore 1.0 needs botocore>={ABOVE}, and "
            f"python3.12 provides {FLOOR}") in proc.stderr  # fmt: skip


def lock(boto3: str, botocore: str) -> str:
    return "".join(f"{line}\n" for line in (
        f"boto3=={boto3}", f"botocore=={botocore}", f"s3transfer=={S3T}", "jmespath==1.0.1",
        "python-dateutil==2.9.0", "six==1.17.0", "urllib3==2.5.0",
    ))  # fmt: skip


def test_a_lock_pinning_a_newer_release_keeps_it(app: Project, sdk: Path) -> None:
    project(app, sdk, "boto3", lock=lock(ABOVE, ABOVE))
    proc = app.build_wheel()
    assert "Requirements: requirements.txt" in proc.stderr
    inside = dists(app.only_zip())
    assert inside["boto3"] == ABOVE and inside["botocore"] == ABOVE
    why = f"the lock pins boto3 {ABOVE}, and python3.12 provides {FLOOR3}"
    assert f"keeping boto3 {ABOVE}: {why}" in proc.stderr
    assert f"boto3 {ABOVE} ({why})" in app.manifest()["kept"]


def test_a_lock_pinning_the_runtimes_release_leaves_it_out(app: Project, sdk: Path) -> None:
    project(app, sdk, "boto3", lock=lock(FLOOR3, FLOOR))
    proc = app.build_wheel()
    inside = dists(app.only_zip())
    assert {"boto3", "botocore", "s3transfer", "jmespath"}.isdisjoint(inside)
    assert f"left out boto3 {FLOOR3} (provided by the runtime" in proc.stderr


def dist(root: Path, name: str, version: str, *requires: str) -> None:
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    meta += "".join(f"Requires-Dist: {r}\n" for r in requires)
    folder = root / f"{name.replace('-', '_')}-{version}.dist-info"
    folder.mkdir(parents=True)
    (folder / "METADATA").write_text(meta)


def test_the_closure_rule_judges_by_the_runtimes_versions(tmp_path: Path) -> None:
    target, _ = resolve_target("python3.12", "x86_64")
    dist(tmp_path, "fx-lib", "1.0", "boto3", f"botocore>={FLOOR}", f"s3transfer>={ABOVE}")
    assert [f.message for f in audit_folder(tmp_path, target, runtime_provided=True)] == [
        f"fx-lib 1.0 requires s3transfer>={ABOVE}, and python3.12 provides s3transfer {S3T} (at "
        "least, as recorded; keep it in the bundle with exclude-runtime-provided = false)"
    ]
    # Without the runtime's SDK, all three are missing from the bundle.
    assert len(audit_folder(tmp_path, target)) == 3
