"""Where each distribution goes in the archive, and the RECORD files of what ships.

A function imports from the archive's root; a layer from ``python/``, and a layer for several
runtimes also from ``python/lib/python3.X/site-packages/``, where the wheels that differ between
its runtimes go (the wheels all of them share go to ``python/`` once).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..errors import InstallError
from ._entries import Bundle, Distribution, Entry, Generated, OnDisk, ZipMember
from ._wheels import record_hash


@dataclass(frozen=True)
class Placed:
    bundle: Bundle
    locations: Mapping[tuple[str, str], str]
    """(wheel file name, runtime or "" for the project) -> the folder it went to ("" the root)."""


def place(
    kind: str,
    selected: Mapping[str, Sequence[Distribution]],
    project: Distribution | None = None,
) -> Placed:
    """Lay out the distributions chosen for each runtime (in the order of *selected*). The
    bundle has no RECORD files yet: ``with_records`` writes them once it is final."""
    runtimes = list(selected)
    shared = "python/" if kind == "layer" else ""
    several = len(runtimes) > 1
    own = {rt: f"{shared}lib/{rt}/site-packages/" if several else shared for rt in runtimes}
    common = set.intersection(*({d.wheel.name for d in selected[rt]} for rt in runtimes))
    entries: dict[str, Entry] = {}
    locations: dict[tuple[str, str], str] = {}
    placed: set[tuple[str, str]] = set()
    for rt in runtimes:
        for dist in selected[rt]:
            prefix = shared if dist.wheel.name in common else own[rt]
            locations[(dist.wheel.name, rt)] = prefix.rstrip("/")
            if (dist.wheel.name, prefix) not in placed:
                placed.add((dist.wheel.name, prefix))
                _add(entries, dist, prefix)
    if project is not None:
        locations[(project.wheel.name, "")] = shared.rstrip("/")
        _add(entries, project, shared)
    sites = {rt: (own[rt], shared) if several else (shared,) for rt in runtimes}
    return Placed(Bundle(entries, sites), locations)


def _add(entries: dict[str, Entry], dist: Distribution, prefix: str) -> None:
    for path, entry in dist.entries.items():
        where = prefix + path
        other = entries.get(where)
        if other is not None:
            raise InstallError(
                f"{dist.label} ({dist.wheel.name}) and {other.owner} both ship {where}; two "
                "distributions of the bundle cannot hold the same file: leave one of them out "
                "(exclude) or pin releases that do not overlap"
            )
        record = prefix + entry.record if entry.record else None
        entries[where] = dataclasses.replace(entry, path=where, record=record)


def with_records(bundle: Bundle) -> Bundle:
    """*bundle* with each RECORD listing exactly the files of its distribution that ship."""
    listed: dict[str, list[Entry]] = {}
    for entry in bundle.entries.values():
        if entry.record and entry.path != entry.record:
            listed.setdefault(entry.record, []).append(entry)
    entries = {
        p: e for p, e in bundle.entries.items() if not p.endswith("/RECORD") or p not in listed
    }
    for record, members in listed.items():
        site = posixpath.dirname(posixpath.dirname(record))
        start = len(site) + 1 if site else 0
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        for entry in sorted(members, key=lambda e: e.path):
            writer.writerow((entry.path[start:], entry.hash or _hash(entry), entry.size))
        writer.writerow((record[start:], "", ""))
        owner = members[0].owner
        entries[record] = Entry(
            record, Generated(text.getvalue().encode()), False, "", owner, record
        )
    return dataclasses.replace(bundle, entries=entries)


def _hash(entry: Entry) -> str:
    source = entry.source
    if isinstance(source, Generated):
        return record_hash(source.data)
    if isinstance(source, OnDisk):
        return record_hash(source.path.read_bytes())
    assert isinstance(source, ZipMember)
    return ""  # a member always comes with its wheel's RECORD hash
