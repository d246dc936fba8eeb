"""Which packages of a Poetry 1 lock (lock-version 1.x and 2.0) the target needs.

Those locks record every package any platform needs, but neither the groups a package belongs to
nor the markers under which it is needed: Poetry 1 works that out again at install time, walking
the dependency graph from pyproject.toml. So does this module, for the target rather than the
host: from ``[tool.poetry.dependencies]`` (and ``[project]`` dependencies, read by Poetry 2), the
extras and groups asked for, through each locked package's ``[package.dependencies]``, keeping an
edge when its markers, ``python`` and ``platform`` constraints hold on the target and, for an
optional dependency, when an extra that names it was asked for.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from dependency_groups import resolve as resolve_groups
from packaging.markers import Environment, InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from .._markers import applies
from ..errors import RequirementsError
from ._poetry_constraint import Constraint, ConstraintError, parse_constraint
from ._shape import Shape

_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_ANY = parse_constraint("*")


@dataclass(frozen=True)
class Edge:
    """One dependency: of the project (a root) or of a locked package."""

    name: NormalizedName
    file: str
    where: str
    """Where in *file* it is written, for messages: ``[tool.poetry.dependencies].six``."""
    version: Constraint | None = None
    """A Poetry constraint; ``None`` when the requirement came as PEP 508 (``specifier``)."""
    specifier: str = ""
    extras: frozenset[NormalizedName] = frozenset()
    marker: Marker | None = None
    python: Constraint = _ANY
    platform: str = ""
    optional: bool = False

    def holds(self, environment: Environment, extras: Collection[str]) -> bool:
        """Whether the edge is taken on the target, with its parent's *extras* active."""
        if not self.python.allows_python(environment):  # type: ignore[arg-type]
            return False
        if self.platform and environment["sys_platform"] not in _platforms(self.platform):
            return False
        return applies(self.marker, environment, extras, where=self.at)

    @property
    def at(self) -> str:
        return f"{self.file} {self.where}"

    def allows(self, version: Version) -> bool:
        if self.version is not None:
            return self.version.allows(version)
        return Requirement(f"x{self.specifier}").specifier.contains(version, prereleases=True)

    @property
    def wanted(self) -> str:
        return f"{self.name} {self.version or self.specifier or '*'}"


@dataclass
class Locked:
    index: int
    table: dict[str, Any]
    name: NormalizedName
    version: Version
    edges: list[Edge]
    extras: dict[NormalizedName, frozenset[NormalizedName]] = field(default_factory=dict)
    """For each extra of the package, the names of the optional dependencies it turns on."""


def _platforms(text: str) -> set[str]:
    return {p.strip() for p in re.split(r"\|\|?|,", text) if p.strip()}


class Reader:
    """Reads dependency specifications out of one file (pyproject.toml or the lock)."""

    def __init__(self, shape: Shape) -> None:
        self.shape = shape

    def fail(self, where: str, problem: str) -> RequirementsError:
        return self.shape.fail(f"{self.shape.file} {where} {problem}")

    def constraint(self, text: str, where: str) -> Constraint:
        try:
            return parse_constraint(text)
        except ConstraintError as exc:
            raise self.fail(where, f"is not a Poetry version constraint: {exc}") from exc

    def marker(self, text: str, where: str) -> Marker:
        try:
            return Marker(text)
        except InvalidMarker as exc:
            raise self.fail(where, f"is not a valid marker: {exc}") from exc

    def table_edges(self, table: dict[str, Any], where: str) -> Iterator[Edge]:
        """The edges of a ``{name = spec}`` table, as ``[tool.poetry.dependencies]`` and
        ``[package.dependencies]`` hold them; ``python`` is the interpreter, not a package."""
        for raw_name, spec in table.items():
            if raw_name == "python":
                continue
            at = f"{where}.{raw_name}"
            specs = spec if isinstance(spec, list) else [spec]
            for i, one in enumerate(specs):
                yield self.edge(raw_name, one, at if len(specs) == 1 else f"{at}[{i}]")

    def edge(self, raw_name: str, spec: Any, where: str) -> Edge:
        name = canonicalize_name(raw_name)
        if isinstance(spec, str):
            return Edge(name, self.shape.file, where, version=self.constraint(spec, where))
        table: dict[str, Any] = self.shape.check(spec, dict, where)
        get = self.shape.get
        markers = get(table, "markers", str, where, "")
        python = get(table, "python", str, where, "")
        extras = self.shape.each(get(table, "extras", list, where, []), str, f"{where}.extras")
        return Edge(
            name,
            self.shape.file,
            where,
            version=self.constraint(get(table, "version", str, where, "*"), f"{where}.version"),
            extras=frozenset(canonicalize_name(e) for e in extras),
            marker=self.marker(markers, f"{where}.markers") if markers else None,
            python=self.constraint(python, f"{where}.python") if python else _ANY,
            platform=get(table, "platform", str, where, ""),
            optional=get(table, "optional", bool, where, False),
        )

    def pep508_edge(self, line: Any, where: str) -> Edge:
        text = self.shape.check(line, str, where)
        try:
            req = Requirement(text)
        except InvalidRequirement as exc:
            raise self.fail(where, f"is not a valid requirement: {exc}") from exc
        return Edge(
            canonicalize_name(req.name),
            self.shape.file,
            where,
            specifier=str(req.specifier),
            extras=frozenset(canonicalize_name(e) for e in req.extras),
            marker=req.marker,
        )


def locked_packages(lock: Shape, data: dict[str, Any]) -> dict[NormalizedName, list[Locked]]:
    """Every package of the lock, by name (a name may be locked at several versions, each for
    the Pythons or platforms its dependents' markers pick)."""
    reader = Reader(lock)
    found: dict[NormalizedName, list[Locked]] = {}
    for i, raw in enumerate(lock.get(data, "package", list, "", [])):
        here = f"package[{i}]"
        table: dict[str, Any] = lock.check(raw, dict, here)
        name = canonicalize_name(lock.need(table, "name", str, here))
        text = lock.need(table, "version", str, here)
        try:
            version = Version(text)
        except InvalidVersion as exc:
            raise reader.fail(f"{here}.version", f"is not a version ({text!r})") from exc
        deps = lock.get(table, "dependencies", dict, here, {})
        edges = list(reader.table_edges(deps, f"{here}.dependencies"))
        extras = {
            canonicalize_name(extra): frozenset(
                _requirement_name(reader, item, f"{here}.extras.{extra}[{j}]")
                for j, item in enumerate(lock.check(members, list, f"{here}.extras.{extra}"))
            )
            for extra, members in lock.get(table, "extras", dict, here, {}).items()
        }
        found.setdefault(name, []).append(Locked(i, table, name, version, edges, extras))
    return found


def _requirement_name(reader: Reader, item: Any, where: str) -> NormalizedName:
    """The name in ``"pysocks (>=1.5.6,!=1.5.7)"``, as ``[package.extras]`` lists them."""
    found = _NAME.match(reader.shape.check(item, str, where))
    if found is None:
        raise reader.fail(where, f"does not start with a package name ({item!r})")
    return canonicalize_name(found.group(1))


@dataclass(frozen=True)
class Roots:
    """What the project itself asks for, read from pyproject.toml."""

    edges: tuple[Edge, ...]
    name: NormalizedName | None


def project_roots(
    pyproject: Shape,
    data: dict[str, Any],
    lock_extras: Mapping[str, Any],
    *,
    extras: Collection[str],
    groups: Collection[str],
) -> Roots:
    reader = Reader(pyproject)
    check, get = pyproject.check, pyproject.get
    tool: dict[str, Any] = check(
        get(data, "tool", dict, "", {}).get("poetry", {}), dict, "tool.poetry"
    )
    project: dict[str, Any] = get(data, "project", dict, "", {})
    raw_name = project.get("name", tool.get("name"))
    name = canonicalize_name(raw_name) if isinstance(raw_name, str) else None

    edges = list(reader.table_edges(get(tool, "dependencies", dict, "tool.poetry", {}),
                                    "[tool.poetry.dependencies]"))  # fmt: skip
    edges += [
        reader.pep508_edge(line, f"[project] dependencies[{i}]")
        for i, line in enumerate(get(project, "dependencies", list, "project", []))
    ]

    # Extras: [tool.poetry.extras] names optional dependencies; [project.optional-dependencies]
    # lists requirements (one of which may name the project itself, with more extras).
    poetry_extras = get(tool, "extras", dict, "tool.poetry", {}) or dict(lock_extras)
    optional = get(project, "optional-dependencies", dict, "project", {})
    known = {canonicalize_name(e) for e in (*poetry_extras, *optional)}
    wanted = [canonicalize_name(e) for e in extras]
    unknown = sorted(set(wanted) - known)
    if unknown:
        raise RequirementsError(
            f"extras {unknown} are not in pyproject.toml ([tool.poetry.extras] or "
            f"[project.optional-dependencies]); it has {sorted(known) or 'none'}"
        )
    on: set[NormalizedName] = set()
    for extra, members in poetry_extras.items():
        if canonicalize_name(extra) in wanted:
            at = f"[tool.poetry.extras] {extra}"
            on |= {canonicalize_name(m) for m in pyproject.each(check(members, list, at), str, at)}
    edges = [e for e in edges if not e.optional or e.name in on]
    pending, seen = list(wanted), set(wanted)
    while pending:
        extra = pending.pop()
        for raw_extra, lines in optional.items():
            if canonicalize_name(raw_extra) != extra:
                continue
            at = f"[project.optional-dependencies] {raw_extra}"
            for i, line in enumerate(check(lines, list, at)):
                edge = reader.pep508_edge(line, f"{at}[{i}]")
                if edge.name != name:
                    edges.append(edge)
                    continue
                pending += [e for e in edge.extras if e not in seen]
                seen |= edge.extras

    edges += _group_edges(reader, data, tool, groups)
    return Roots(tuple(edges), name)


def _group_edges(
    reader: Reader, data: dict[str, Any], tool: dict[str, Any], groups: Collection[str]
) -> list[Edge]:
    """The dependencies of the groups asked for: ``[tool.poetry.group.<g>.dependencies]``, the
    ``dev`` group of Poetry before 1.2 (``[tool.poetry.dev-dependencies]``), and PEP 735
    ``[dependency-groups]``."""
    shape = reader.shape
    poetry_groups: dict[str, Any] = shape.get(tool, "group", dict, "tool.poetry", {})
    legacy_dev = shape.get(tool, "dev-dependencies", dict, "tool.poetry", {})
    pep735: dict[str, Any] = shape.get(data, "dependency-groups", dict, "", {})
    known = {*poetry_groups, *pep735, *(["dev"] if "dev-dependencies" in tool else [])}
    unknown = sorted(set(groups) - known)
    if unknown:
        raise RequirementsError(
            f"groups {unknown} are not in pyproject.toml ([tool.poetry.group.<name>], "
            f"[tool.poetry.dev-dependencies] or [dependency-groups]); it has {sorted(known) or 'none'}"
        )
    edges: list[Edge] = []
    for group in groups:
        if group in poetry_groups:
            at = f"tool.poetry.group.{group}"
            table: dict[str, Any] = shape.check(poetry_groups[group], dict, at)
            deps = shape.get(table, "dependencies", dict, at, {})
            edges += reader.table_edges(deps, f"[{at}.dependencies]")
        if group == "dev":
            edges += reader.table_edges(legacy_dev, "[tool.poetry.dev-dependencies]")
        if group in pep735:
            try:
                lines = resolve_groups(pep735, group)
            except (ValueError, TypeError, LookupError) as exc:
                raise RequirementsError(f"[dependency-groups] of pyproject.toml: {exc}") from exc
            where = f"[dependency-groups] {group}"
            edges += [reader.pep508_edge(line, f"{where}[{i}]") for i, line in enumerate(lines)]
    return edges


def walk(
    roots: Roots,
    packages: Mapping[NormalizedName, list[Locked]],
    environment: Environment,
    *,
    lock: str,
) -> list[Locked]:
    """The locked packages the target needs, in the lock's order."""
    chosen: dict[NormalizedName, Locked] = {}
    active: dict[NormalizedName, set[NormalizedName]] = {}
    pending: list[Edge] = [e for e in roots.edges if e.holds(environment, ())]
    while pending:
        edge = pending.pop(0)
        if edge.name == roots.name:
            continue  # the project itself comes from the wheel Hatch built
        package = chosen.get(edge.name) or _choose(edge, packages, environment, lock)
        if not edge.allows(package.version):
            raise RequirementsError(
                f"{edge.at} asks for {edge.wanted}, but {lock} package[{package.index}] "
                f"holds {package.name} {package.version} for the target; {lock} is inconsistent "
                "or out of date: run `poetry lock`"
            )
        extras = active.setdefault(edge.name, set())
        if edge.name in chosen and edge.extras <= extras:
            continue
        chosen[edge.name] = package
        extras |= edge.extras
        turned_on = {d for e in extras for d in package.extras.get(e, ())}
        pending += [
            dep
            for dep in package.edges
            if (not dep.optional or dep.name in turned_on) and dep.holds(environment, extras)
        ]
    return sorted(chosen.values(), key=lambda p: p.index)


def _choose(
    edge: Edge, packages: Mapping[NormalizedName, list[Locked]], environment: Environment, lock: str
) -> Locked:
    """The locked release of *edge*'s package for the target: the one its constraint allows; of
    several (numpy 1.24 for Python 3.8, 1.26 above), those whose ``python-versions`` hold, the
    newest first."""
    candidates = packages.get(edge.name, [])
    if not candidates:
        raise RequirementsError(
            f"{edge.at} asks for {edge.name}, which {lock} does not hold; it was written for "
            f"another pyproject.toml, or is out of date: run `poetry lock`"
        )
    allowed = [p for p in candidates if edge.allows(p.version)] or candidates
    if len(allowed) > 1:
        allowed = [p for p in allowed if _python_holds(p, environment, lock)] or allowed
    return max(allowed, key=lambda p: p.version)


def _python_holds(package: Locked, environment: Environment, lock: str) -> bool:
    text = package.table.get("python-versions", "*")
    if not isinstance(text, str):
        return True
    try:
        return parse_constraint(text).allows_python(environment)  # type: ignore[arg-type]
    except ConstraintError as exc:
        raise RequirementsError(
            f"{lock} package[{package.index}].python-versions is not a Poetry version "
            f"constraint: {exc}; run `poetry lock`"
        ) from exc
