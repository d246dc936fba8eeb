"""Rule ``closure``: every requirement of every bundled distribution, as the target evaluates it,
is met by a distribution in the bundle.

This catches locks made on another platform (pipenv locks for the machine that runs it) and
resolvers that judged markers by the host.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from email.parser import HeaderParser

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from .._markers import holds
from ..bundle import Reader
from ..target import RUNTIME_PROVIDED, Target
from ._finding import Finding, Site
from ._members import read_headers
from ._tags import dist_info_files


def _installed(
    sites: Sequence[Site], reader: Reader
) -> dict[NormalizedName, tuple[str, list[str], str]]:
    dists = {}
    for site in reversed(sites):  # the first site on sys.path wins
        for meta in dist_info_files(site, "METADATA"):
            text = read_headers(reader, site.entries[meta])
            msg = HeaderParser().parsestr(text)
            folder = site.prefix + meta.split("/", 1)[0]
            name = canonicalize_name(msg["Name"] or folder.rsplit("/", 1)[-1].split("-")[0])
            dists[name] = (msg["Version"] or "", msg.get_all("Requires-Dist") or [], folder)
    return dists


def check_closure(
    sites: Sequence[Site],
    target: Target,
    reader: Reader,
    *,
    roots: Collection[tuple[str, Collection[str]]] = (),
    provided: Mapping[str, str | None] | None = None,
    runtime_provided: bool = False,
) -> list[Finding]:
    """*roots*: distributions whose extras were asked for, as ``(name, extras)``; *provided*:
    distributions a layer supplies, with a version or None; *runtime_provided*: the runtime's
    SDK counts too, at the version hatch-lambda knows the runtime has at least."""
    dists = _installed(sites, reader)
    supplied = {canonicalize_name(k): v for k, v in (provided or {}).items()}
    from_runtime: dict[NormalizedName, str | None] = {}
    if runtime_provided:
        known = target.provided.distributions if target.provided else {}
        from_runtime = {n: known.get(n) for n in map(canonicalize_name, RUNTIME_PROVIDED)}
    env = target.marker_environment()
    active: dict[NormalizedName, set[str]] = {name: {""} for name in dists}
    for name, extras in roots:
        active.setdefault(canonicalize_name(name), {""}).update(
            canonicalize_name(e) for e in extras
        )
    findings: dict[tuple[str, str], Finding] = {}
    queue = list(dists)
    while queue:
        name = queue.pop()
        version, requires, folder = dists[name]
        for line in requires:
            try:
                req = Requirement(line)
            except InvalidRequirement:
                continue
            # A marker that cannot be evaluated cannot be judged: no finding rests on it.
            if not holds(req.marker, env, active[name]):
                continue
            dep = canonicalize_name(req.name)
            where = f"{folder}/METADATA"
            shown = f"{req.name}{req.specifier}" + (f" ; {req.marker}" if req.marker else "")
            if dep not in dists and dep in supplied:
                have = supplied[dep]
                if have is not None and not req.specifier.contains(Version(have), prereleases=True):
                    findings[(where, dep)] = Finding(
                        "closure", where,
                        f"{name} {version} requires {shown}, and the layer it is deployed with "
                        f"has {dep} {have}",
                    )  # fmt: skip
                continue
            if dep not in dists and dep in from_runtime:
                floor = from_runtime[dep]
                if floor is not None and not req.specifier.contains(
                    Version(floor), prereleases=True
                ):
                    findings[(where, dep)] = Finding(
                        "closure", where,
                        f"{name} {version} requires {shown}, and {target.runtime.name} provides "
                        f"{dep} {floor} (at least, as recorded; keep it in the bundle with "
                        "exclude-runtime-provided = false)",
                    )  # fmt: skip
                continue
            if dep not in dists:
                findings[(where, dep)] = Finding(
                    "closure", where,
                    f"{name} {version} requires {shown}, which is not in the bundle for "
                    f"{target.label}; the lock or resolution left it out",
                )  # fmt: skip
                continue
            try:
                ok = req.specifier.contains(Version(dists[dep][0]), prereleases=True)
            except InvalidVersion:
                ok = True
            if not ok:
                findings[(where, dep)] = Finding(
                    "closure", where,
                    f"{name} {version} requires {shown}, and the bundle has {dep} {dists[dep][0]}",
                )  # fmt: skip
            new = {canonicalize_name(e) for e in req.extras} - active[dep]
            if new:
                active[dep] |= new
                queue.append(dep)
    return [findings[k] for k in sorted(findings)]
