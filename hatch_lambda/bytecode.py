"""The bytecode step: ``.pyc`` for the target's exact Python, hash-validated, with the paths Lambda
sees in tracebacks.

Lambda cannot write ``__pycache__`` in ``/var/task`` or ``/opt``, so every cold start compiles
what it imports unless the bundle carries bytecode of that exact version. Timestamp-validated
bytecode would go stale once the archive normalises timestamps, so it is compiled with
``unchecked-hash`` invalidation.

Each distribution's bytecode is kept in the cache as a zip, under a digest of the interpreter, the
folder it is placed in and every source file's path and RECORD hash: a rebuild compiles only
what changed (the project's own modules), and the zip's members are copied compressed.
"""

from __future__ import annotations

import dataclasses
import json
import posixpath
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ._report import Reporter, counted
from ._subprocess import run
from .audit import OTHER_FILES, distribution_sizes
from .bundle import Bundle, Entry, Reader, ZipMember, source_of
from .cache import cache_key, store_file, stored_digest, stored_file
from .target import Runtime


@dataclass(frozen=True)
class Compiler:
    """What compiles a tree of sources for one runtime: a local interpreter of its version, or
    the build image's in container mode."""

    identity: str
    """Enters the cache key with the runtime's version: the interpreter's name, or the image."""
    compile: Callable[[Path, str], None]
    """Compile every module under a folder as if it lived at a path of the runtime."""


def local_compiler(python: str, runtime: Runtime, reporter: Reporter) -> Compiler:
    return Compiler(
        Path(python).name,
        lambda root, runtime_path: _compile(python, root, runtime_path, runtime, reporter),
    )


def _compile(
    python: str, root: Path, runtime_path: str, runtime: Runtime, reporter: Reporter
) -> None:
    reporter.waiting(f"Compiling bytecode for {runtime.name} with {python}")
    proc = run(
        # -S: compileall needs only the standard library, and site costs a third of the run.
        [python, "-I", "-S", "-c", _COMPILE, str(root), runtime_path],
        what=f"compiling bytecode for {runtime.name}",
        reporter=reporter,
    )
    # A module that does not compile on this version (code kept for another one) is left as
    # source, as pip does; Python only reaches it if something imports it.
    for line in proc.stdout.splitlines():
        if line.startswith("***"):
            reporter.warning(f"bytecode: {line.lstrip('* ')}")


def compile_tree(
    root: Path, runtime: Runtime, python: str, *, runtime_path: str, reporter: Reporter
) -> None:
    """Compile every module under *root* with *python* as if it lived at *runtime_path*
    (``/var/task``)."""
    _compile(python, root, runtime_path, runtime, reporter)


def _pyc_path(source: str, version: str) -> str:
    folder, name = posixpath.split(source)
    tag = f"cpython-{version.replace('.', '')}"
    return posixpath.join(folder, "__pycache__", f"{name[:-3]}.{tag}.pyc")


def _groups(bundle: Bundle, sites: Sequence[str]) -> dict[str, list[Entry]]:
    """The modules of each distribution placed in one of *sites*, by its RECORD's path."""
    groups: dict[str, list[Entry]] = {}
    for entry in bundle.entries.values():
        if not entry.path.endswith(".py") or entry.record is None:
            continue
        site = posixpath.dirname(posixpath.dirname(entry.record))
        if (f"{site}/" if site else "") in sites:
            groups.setdefault(entry.record, []).append(entry)
    return groups


def compile_bundle(
    bundle: Bundle,
    runtimes: Mapping[str, Runtime],
    *,
    runtime_root: str,
    work: Path,
    reporter: Reporter,
    compilers: Mapping[str, Callable[[], Compiler]],
) -> Bundle:
    """*bundle* with bytecode for each runtime's sites; *runtime_root* is where Lambda unpacks it
    (``/var/task`` or ``/opt``). Only distributions whose bytecode is not cached are compiled,
    by the compiler *compilers* makes for their runtime."""
    added: dict[str, Entry] = {}
    for rt, runtime in runtimes.items():
        added.update(
            _bytecode_of(
                _groups(bundle, bundle.sites[rt]), compilers[rt](), runtime,
                runtime_root=runtime_root, root=work / f"bytecode-{rt}", reporter=reporter,
            )
        )  # fmt: skip
    return dataclasses.replace(bundle, entries={**bundle.entries, **added})


def _bytecode_of(
    groups: Mapping[str, list[Entry]], compiler: Compiler, runtime: Runtime, *,
    runtime_root: str, root: Path, reporter: Reporter,
) -> dict[str, Entry]:  # fmt: skip
    """The bytecode entries of *groups* (modules by RECORD) for *runtime*: kept, or compiled."""
    keys = {
        record: _key(compiler.identity, runtime, runtime_root, members)
        for record, members in groups.items()
    }

    def compile_now(records: Sequence[str]) -> None:
        _compile_missing(
            {r: groups[r] for r in records}, {r: keys[r] for r in records}, compiler=compiler,
            runtime=runtime, runtime_root=runtime_root, root=root, reporter=reporter,
        )  # fmt: skip

    def entries_of(records: Sequence[str], archives: Mapping[str, Path | None]) -> None:
        for record in records:
            archive = archives.get(record) or _stored_or_built(keys[record], root)
            if archive is None:
                continue
            owner = groups[record][0].owner
            with zipfile.ZipFile(archive) as zf:
                for info in zf.infolist():
                    added[info.filename] = Entry(
                        info.filename, ZipMember.from_info(archive, info), False, "", owner, record
                    )

    # What was never kept (the project's changed modules) compiles in another process while what
    # was kept is verified against its digest and read: neither waits for the other.
    added: dict[str, Entry] = {}
    unkept = [record for record, key in keys.items() if not _kept(key)]
    with ThreadPoolExecutor(1) as pool:
        compiling = pool.submit(compile_now, unkept) if unkept else None
        archives = {record: stored_file("bytecode", key, "bytecode.zip", reporter)
                    for record, key in keys.items() if record not in unkept}  # fmt: skip
        entries_of([r for r, archive in archives.items() if archive is not None], archives)
        if compiling is not None:
            compiling.result()
    damaged = [record for record, archive in archives.items() if archive is None]
    if damaged:  # removed from the cache by stored_file: compiled again
        compile_now(damaged)
    if not unkept and not damaged:
        reporter.debug(
            f"bytecode for {runtime.name}: all {counted(len(groups), 'distribution')} cached"
        )
    entries_of([*unkept, *damaged], {})
    return added


def within_room(bundle: Bundle, room: int) -> tuple[Bundle, list[str]]:
    """*bundle* without the bytecode of its largest distributions, as few of them as bring it
    within *room* unzipped bytes, and the ``name version`` of each whose bytecode was left out.
    Only ``.pyc`` beside their source go: a distribution that ships bytecode alone keeps it."""
    total = bundle.size
    if total <= room:
        return bundle, []
    removable: dict[str, list[str]] = {}
    for path, entry in bundle.entries.items():
        source = source_of(path)
        if source is not None and source in bundle.entries:
            removable.setdefault(entry.owner or OTHER_FILES, []).append(path)
    sizes = distribution_sizes(bundle.entries.values())
    entries = dict(bundle.entries)
    left_out: list[str] = []
    for owner in sorted(removable, key=lambda o: (-sizes[o], o)):
        if total <= room:
            break
        total -= sum(entries.pop(path).size for path in removable[owner])
        left_out.append(owner)
    return dataclasses.replace(bundle, entries=entries), left_out


def _key(identity: str, runtime: Runtime, runtime_root: str, members: list[Entry]) -> str:
    sources = sorted((e.path, e.hash or repr(e.source)) for e in members)
    return cache_key("bytecode", runtime.version, identity, runtime_root, sources)


def _kept(key: str) -> bool:
    """Whether the cache says it holds the bytecode of *key* (verified when it is used)."""
    return stored_digest("bytecode", key, "bytecode.zip") is not None


def _stored_or_built(key: str, root: Path) -> Path | None:
    """A group's archive just compiled: kept in the cache, or left in *root* where the cache
    could not take it."""
    path = root / "bytecode-archives" / f"{key}.zip"
    return path if path.is_file() else None


def _compile_missing(
    groups: Mapping[str, list[Entry]], keys: Mapping[str, str], *, compiler: Compiler,
    runtime: Runtime, runtime_root: str, root: Path, reporter: Reporter,
) -> None:  # fmt: skip
    """Write the sources of *groups* out, compile them in one run, and keep each group's .pyc."""
    root.mkdir(parents=True, exist_ok=True)
    with Reader() as reader:
        for members in groups.values():
            for entry in members:
                target = root / entry.path
                target.parent.mkdir(parents=True, exist_ok=True)
                with reader.open(entry) as src, target.open("wb") as dst:
                    shutil.copyfileobj(src, dst)
    compiler.compile(root, runtime_root)
    for record, members in groups.items():
        with tempfile.TemporaryDirectory(dir=root) as tmp:
            built = Path(tmp) / "bytecode.zip"
            with zipfile.ZipFile(built, "w", zipfile.ZIP_DEFLATED) as zf:
                for entry in sorted(members, key=lambda e: e.path):
                    pyc = _pyc_path(entry.path, runtime.version)
                    if (root / pyc).is_file():
                        zf.write(root / pyc, pyc)
            kept = root / "bytecode-archives" / f"{keys[record]}.zip"
            kept.parent.mkdir(exist_ok=True)
            built.replace(kept)
            store_file("bytecode", keys[record], "bytecode.zip", kept, reporter)
        reporter.debug(f"  compiled {json.dumps(record)}", level=2)


# A pool of processes (workers=0: one per CPU) pays for itself only with many modules; a
# code-only rebuild compiles a handful.
_COMPILE = """
import compileall, os, py_compile, sys
root, prefix = sys.argv[1], sys.argv[2]
many = sum(len(files) for _, _, files in os.walk(root)) > 200
compileall.compile_dir(
    root, quiet=1, stripdir=root, prependdir=prefix, workers=0 if many else 1,
    invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
)
"""
