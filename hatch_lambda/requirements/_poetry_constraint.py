"""Poetry's version constraints (``^1.2``, ``~3.9``, ``>=1,<2 || >=3``, ``1.2.*``), as Poetry 1 locks
and ``[tool.poetry.dependencies]`` write them, checked against a locked version or the target's
Python.

A constraint is a disjunction (``||``) of conjunctions (``,`` or spaces) of atoms. Each atom
becomes one or two PEP 440 specifiers: ``^1.2.3`` is ``>=1.2.3,<2.0.0``, ``~1.2`` is
``>=1.2,<1.3``, a bare version is ``==`` it.

A constraint on the Python version (``python = "<3.10"`` on a dependency) is compared the way
Poetry turns it into a marker: with ``python_version`` (``3.12``) when the atom's version has two
parts or fewer, else with ``python_full_version`` (``3.12.4``); so ``<=3.9`` holds on 3.9.18.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, Specifier
from packaging.version import InvalidVersion, Version

_ATOM = re.compile(r"\s*(\^|~=|~|===|==|!=|<=|>=|<|>|=)?\s*([0-9A-Za-z][0-9A-Za-z.*+!_-]*|\*)\s*")
_OR = re.compile(r"\s*\|\|?\s*")


class ConstraintError(ValueError):
    """The text is not a Poetry version constraint."""


@dataclass(frozen=True)
class Constraint:
    text: str
    alternatives: tuple[tuple[Specifier, ...], ...]
    """Any alternative holds when all of its specifiers do; no alternative at all is ``*``."""

    def allows(self, version: Version) -> bool:
        return not self.alternatives or any(
            all(s.contains(version, prereleases=True) for s in specs) for specs in self.alternatives
        )

    def allows_python(self, environment: Mapping[str, str]) -> bool:
        short = Version(environment["python_version"])
        full = Version(environment["python_full_version"])
        return not self.alternatives or any(
            all(s.contains(short if _short(s) else full, prereleases=True) for s in specs)
            for specs in self.alternatives
        )

    def __str__(self) -> str:
        return self.text


def _short(spec: Specifier) -> bool:
    return len(spec.version.rstrip(".*").split(".")) <= 2


def parse_constraint(text: str) -> Constraint:
    """Raise ``ConstraintError`` for text Poetry would not take as a constraint either."""
    alternatives = []
    for part in _OR.split(text.strip()):
        if part.strip() in ("", "*"):
            return Constraint(text, ())
        alternatives.append(tuple(_conjunction(part, text)))
    return Constraint(text, tuple(alternatives))


def _conjunction(part: str, text: str) -> list[Specifier]:
    specs: list[Specifier] = []
    for atom in part.split(","):
        position = 0
        while position < len(atom):
            found = _ATOM.match(atom, position)
            if found is None or found.end() == position:
                raise ConstraintError(f"{text!r} is not a version constraint")
            position = found.end()
            specs += _specifiers(found.group(1) or "", found.group(2), text)
        if not atom.strip():
            raise ConstraintError(f"{text!r} is not a version constraint")
    return specs


def _specifiers(operator: str, version: str, text: str) -> list[Specifier]:
    try:
        if version == "*":
            return []
        if operator in ("^", "~"):
            release = Version(version).release
            upper = _caret(release) if operator == "^" else _tilde(release)
            return [Specifier(f">={version}"), Specifier(f"<{upper}")]
        if operator in ("", "="):
            operator = "=="
        return [Specifier(f"{operator}{version}")]
    except (InvalidVersion, InvalidSpecifier) as exc:
        raise ConstraintError(f"{text!r} is not a version constraint ({exc})") from exc


def _caret(release: tuple[int, ...]) -> str:
    """The bound ``^`` puts above *release*: the next change of its first non-zero part."""
    for i, part in enumerate(release):
        if part or i == len(release) - 1:
            return ".".join(map(str, (*release[:i], part + 1, *([0] * (len(release) - i - 1)))))
    raise AssertionError("a version has a release")  # pragma: no cover


def _tilde(release: tuple[int, ...]) -> str:
    """The bound ``~`` puts above *release*: the next minor, or the next major for ``~1``."""
    if len(release) == 1:
        return f"{release[0] + 1}"
    return f"{release[0]}.{release[1] + 1}"
