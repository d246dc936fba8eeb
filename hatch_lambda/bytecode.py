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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ._report import Reporter, counted
from ._subprocess import run
from .audit import OTHER_FILES, distribution_sizes
from .bundle import Bundle, Entry, Reader, ZipMember, source_of, with_records
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


class Bytecode:
    """The bytecode of one bundle for each of its runtimes, made while the bundle is assembled.

    ``begin`` takes the part of the bundle known first (the project's own distribution, the one
    a code-only change has never compiled) and compiles what of it is not kept, in another
    process, while the dependencies are planned; ``add_to`` adds the bytecode of the whole
    bundle, kept or compiled. Used as a context manager: leaving it waits for the compiling.
    *runtime_root* is where Lambda unpacks the bundle (``/var/task`` or ``/opt``); *compilers*
    makes the compiler of each runtime, once, when it is first needed.
    """

    def __init__(
        self, runtimes: Mapping[str, Runtime], compilers: Mapping[str, Callable[[], Compiler]],
        *, runtime_root: str, work: Path, reporter: Reporter,
    ) -> None:  # fmt: skip
        self.runtimes = runtimes
        self.runtime_root = runtime_root
        self.work = work
        self.reporter = reporter
        self._make = compilers
        self._compilers: dict[str, Compiler] = {}
        # One worker: compiles run one after another, so they never share their folder.
        self._pool = ThreadPoolExecutor(1)
        self._started: dict[str, tuple[dict[str, str], Future[None]]] = {}
        """Per runtime, the keys of the groups ``begin`` compiles (by RECORD), and its run."""

    def __enter__(self) -> Bytecode:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True)

    def begin(self, part: Bundle) -> None:
        """Start compiling what of *part* is not kept."""
        for rt in self.runtimes:
            groups = _groups(part, part.sites[rt])
            keys = self._keys(rt, groups)
            unkept = {r: k for r, k in keys.items() if not _kept(k)}
            if unkept:
                self._started[rt] = (unkept, self._pool.submit(self._compile, rt, groups, unkept))

    def add_to(self, bundle: Bundle) -> Bundle:
        """*bundle* with the bytecode of every distribution in each runtime's sites."""
        added: dict[str, Entry] = {}
        for rt in self.runtimes:
            added.update(self._runtime(rt, _groups(bundle, bundle.sites[rt])))
        return dataclasses.replace(bundle, entries={**bundle.entries, **added})

    def _compiler(self, rt: str) -> Compiler:
        if rt not in self._compilers:
            self._compilers[rt] = self._make[rt]()
        return self._compilers[rt]

    def _keys(self, rt: str, groups: Mapping[str, list[Entry]]) -> dict[str, str]:
        identity, runtime = self._compiler(rt).identity, self.runtimes[rt]
        return {
            record: _key(identity, runtime, self.runtime_root, members)
            for record, members in groups.items()
        }

    def _root(self, rt: str) -> Path:
        return self.work / f"bytecode-{rt}"

    def _compile(self, rt: str, groups: Mapping[str, list[Entry]], keys: Mapping[str, str]) -> None:
        _compile_missing(
            {r: groups[r] for r in keys}, keys, compiler=self._compiler(rt),
            runtime=self.runtimes[rt], runtime_root=self.runtime_root, root=self._root(rt),
            reporter=self.reporter,
        )  # fmt: skip

    def _runtime(self, rt: str, groups: Mapping[str, list[Entry]]) -> dict[str, Entry]:
        """The bytecode entries of *groups* (modules by RECORD) for runtime *rt*."""
        keys = self._keys(rt, groups)
        started, running = self._started.pop(rt, ({}, None))
        started = {r: k for r, k in started.items() if keys.get(r) == k}
        unkept = {r: k for r, k in keys.items() if r not in started and not _kept(k)}
        # What is compiled (in another process) is not waited for while what was kept is
        # verified against its digest and read.
        compiling = self._pool.submit(self._compile, rt, groups, unkept) if unkept else None
        added: dict[str, Entry] = {}
        kept = [r for r in keys if r not in started and r not in unkept]
        # Hashing lets other threads run: each archive is read while the next is verified.
        with ThreadPoolExecutor(1) as verifying:
            found = verifying.map(
                lambda r: stored_file("bytecode", keys[r], "bytecode.zip", self.reporter), kept
            )
            archives: dict[str, Path | None] = {}
            for record, archive in zip(kept, found):  # in order, as each is verified
                archives[record] = archive
                if archive is not None:
                    added.update(_entries(archive, groups[record], record))
        for job in (running, compiling):
            if job is not None:
                job.result()
        damaged = {r: keys[r] for r, archive in archives.items() if archive is None}
        if damaged:  # removed from the cache by stored_file: compiled again
            self._compile(rt, groups, damaged)
        made = {**started, **unkept, **damaged}
        if not made:
            self.reporter.debug(
                f"bytecode for {self.runtimes[rt].name}: all "
                f"{counted(len(groups), 'distribution')} cached"
            )
        for record, key in made.items():
            archive = _stored_or_built(key, self._root(rt))
            if archive is not None:
                added.update(_entries(archive, groups[record], record))
        return added


def _entries(archive: Path, members: Sequence[Entry], record: str) -> dict[str, Entry]:
    """The bytecode in *archive* as entries of the distribution of *members*."""
    owner = members[0].owner
    with zipfile.ZipFile(archive) as zf:
        return {
            info.filename: Entry(
                info.filename, ZipMember.from_info(archive, info), False, "", owner, record
            )
            for info in zf.infolist()
        }


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
    return with_records(dataclasses.replace(bundle, entries=entries)), left_out


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
