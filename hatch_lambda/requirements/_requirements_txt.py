"""Reads pip requirements files: fully pinned ones are locks, anything else is resolved.

pip has no public parser for this format and the libraries that copy pip's private one lag
behind it; hatch-lambda needs only the subset below, so it parses that subset itself:
requirements, `--hash`, `-r`/`--requirement`, `-c` (ignored: constraints do not add packages),
`-i`/`--index-url`, `--extra-index-url`, `-f`/`--find-links`, `${VAR}` expansion, line
continuations and comments. Editable and path requirements of the project itself are skipped;
other path, ``-e`` and VCS lines (and ``name @ file://`` or ``git+`` references) are local
sources, built here (``-e`` as a regular install), never looked up on an index.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from packaging.markers import Environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from .._markers import applies
from .._report import Reporter, counted
from ..errors import RequirementsError
from . import HandPinned, LocalSource, LockedFile, LockedSet, Pin, RequirementSet
from ._local import (
    from_path,
    from_requirement,
    from_url,
    is_vcs_url,
    looks_like_path,
    split_extras,
    with_extras,
)
from ._text import decode

PIN_COMMAND = (
    "list the packages you want in requirements.in and run `uv pip compile requirements.in "
    "-o requirements.txt` or `pip-compile requirements.in`"
)
_ENV_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")
_TAKES_A_VALUE = {
    "-r", "--requirement", "-c", "--constraint", "-i", "--index-url", "--extra-index-url",
    "-f", "--find-links", "-e", "--editable",
}  # fmt: skip
_INDEX_OPTIONS = {"-i", "--index-url", "--extra-index-url", "-f", "--find-links"}
# pip's options for one requirement: --hash is kept; the others configure a build from source.
_PER_REQUIREMENT = {"--hash", "--global-option", "--config-settings", "--install-option"}
_BUILD_OPTION = "hatch-lambda passes no build options to a build from source"
_ANY_WHEEL = "hatch-lambda takes a wheel that fits the target, and an sdist only where none does"
# pip's install preferences, which hatch-lambda does not follow: option -> (takes a value, why).
_IGNORED_OPTIONS: dict[str, tuple[bool, str]] = {
    "--pre": (False, "a pre-release is taken only where a requirement names one"),
    "--prefer-binary": (False, _ANY_WHEEL),
    "--no-binary": (True, _ANY_WHEEL),
    "--only-binary": (True, _ANY_WHEEL),
    "--trusted-host": (True, "index hosts are checked as for any other build"),
    "--use-feature": (True, "pip's feature flags do not apply to hatch-lambda"),
    "--no-index": (False, "the indexes of this file and the configuration are still used"),
    "--config-settings": (True, _BUILD_OPTION),
    "--global-option": (True, _BUILD_OPTION),
    "--install-option": (True, _BUILD_OPTION),
}


_KNOWN = _TAKES_A_VALUE | _PER_REQUIREMENT | set(_IGNORED_OPTIONS)


def _takes_a_value(option: str) -> bool:
    return (
        option in _TAKES_A_VALUE
        or option in _PER_REQUIREMENT
        or (option in _IGNORED_OPTIONS and _IGNORED_OPTIONS[option][0])
    )


def _split_options(words: list[str], where: str) -> list[tuple[str, str]]:
    """``--opt=value``, ``--opt value`` and flags, as ``(option, value)``; every word an option."""
    found: list[tuple[str, str]] = []
    rest = list(words)
    while rest:
        word = rest.pop(0)
        if not word.startswith("-"):
            raise RequirementsError(
                f"{where}: {word!r} follows the options; put each requirement on a line of its "
                "own, before any option"
            )
        option, equals, value = word.partition("=")
        if option not in _KNOWN:  # the caller says it is not supported; its value is unknown
            found.append((option, value))
            break
        if _takes_a_value(option) and not equals:
            if not rest or rest[0].startswith("-"):
                raise RequirementsError(f"{where}: {option} needs a value, as in {option} VALUE")
            value = rest.pop(0)
        found.append((option, value))
    return found


def _split_requirement(line: str) -> tuple[str, str]:
    """pip's split of a requirement line: the words up to the first one that starts with ``-``
    are the requirement, the rest its options."""
    words = line.split(" ")
    for i, word in enumerate(words):
        if word.startswith("-"):
            return " ".join(words[:i]).strip(), " ".join(words[i:])
    return line, ""


@dataclass
class _Parsed:
    requirements: list[tuple[Requirement, list[str], str]] = field(default_factory=list)
    index_urls: list[str] = field(default_factory=list)
    extra_index_urls: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)
    local: list[LocalSource] = field(default_factory=list)
    local_references: list[tuple[Requirement, LocalSource]] = field(default_factory=list)
    """``name @ file://...`` and ``name @ git+...``: local once their marker holds."""
    notes: list[tuple[bool, str]] = field(default_factory=list)
    """What was ignored, to be said: ``(is a warning, text)``."""
    hashed: bool = False
    """Some line has a ``--hash``: pip's hash-checking mode."""

    def add(self, req: Requirement, hashes: list[str], where: str, base: Path) -> None:
        local = from_requirement(req, where, base=base, archives=False)
        if local is not None:
            self.local_references.append((req, local))
        else:
            self.requirements.append((req, hashes, where))


def _logical_lines(text: str) -> list[tuple[int, str]]:
    lines: list[tuple[int, str]] = []
    buffer, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if not buffer:
            start = number
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        buffer += line
        if buffer.strip():
            lines.append((start, buffer.strip()))
        buffer = ""
    if buffer.strip():
        lines.append((start, buffer.strip()))
    return lines


def _read(path: Path, included_at: str | None) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        message = f"cannot read {path}: {exc.strerror}"
        if included_at:
            message = f"{included_at}: {message}; fix the path after -r (relative to that file)"
        raise RequirementsError(message) from exc
    return decode(data, path)


def _parse(
    path: Path, project: str, parsed: _Parsed, seen: set[Path], included_at: str | None = None
) -> None:
    path = path.resolve()
    if path in seen:
        return
    seen.add(path)
    text = _ENV_VAR.sub(lambda m: os.environ.get(m.group(1), m.group(0)), _read(path, included_at))
    for number, line in _logical_lines(text):
        where = f"{path.name}:{number}"
        if line.startswith("-"):
            words = _words(line, where)
            for option, value in _split_options(words, where):
                _file_option(
                    option, value, path=path, where=where, project=project, parsed=parsed, seen=seen
                )
            continue
        _words(line, where)  # an unclosed quote is said as such, not as a bad requirement
        spec, options = _split_requirement(line)
        hashes: list[str] = []
        for option, value in _split_options(_words(options, where), where):
            if option == "--hash":
                hashes.append(value)
            elif option in _PER_REQUIREMENT:
                shown = f"{option}={value}" if value else option
                parsed.notes.append(
                    (False, f"{where}: {shown} on {spec.split(';')[0].strip()!r} is ignored: "
                            f"{_BUILD_OPTION}")
                )  # fmt: skip
            elif option in _INDEX_OPTIONS or option in _IGNORED_OPTIONS:
                _file_option(
                    option, value, path=path, where=where, project=project, parsed=parsed, seen=seen
                )
            else:
                raise RequirementsError(
                    f"{where}: {option} after a requirement is not one of pip's options for a "
                    f"requirement (--hash, --config-settings, --global-option); put it on a "
                    "line of its own, or remove it"
                )
        parsed.hashed = parsed.hashed or bool(hashes)
        first = spec.split()[0] if spec.split() else spec
        if is_vcs_url(first) or looks_like_path(first):
            _local(first, path, where, project, parsed)
            continue
        try:
            req = Requirement(spec)
        except InvalidRequirement as exc:
            raise RequirementsError(
                f"{where}: invalid requirement {spec!r}: {exc}\n  Write it as PEP 508 says: "
                "NAME==VERSION, NAME[EXTRA]>=VERSION ; MARKER, or NAME @ URL"
            ) from exc
        if canonicalize_name(req.name) == project:
            continue
        parsed.add(req, hashes, where, path.parent)


def _words(text: str, where: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise RequirementsError(
            f"{where}: cannot split {text!r}: {exc}; close the quote, or escape it with '\\'"
        ) from exc


def _file_option(
    option: str, value: str, *, path: Path, where: str, project: str, parsed: _Parsed,
    seen: set[Path],
) -> None:  # fmt: skip
    """One option of the file (on a line of its own, or after a requirement, as pip allows)."""
    if option in ("-r", "--requirement"):
        _parse(path.parent / value, project, parsed, seen, where)
    elif option in ("-c", "--constraint"):
        return
    elif option in ("-i", "--index-url"):
        parsed.index_urls.append(value)
    elif option == "--extra-index-url":
        parsed.extra_index_urls.append(value)
    elif option in ("-f", "--find-links"):
        parsed.find_links.append(value)
    elif option in ("-e", "--editable"):
        if value in (".", "./") or canonicalize_name(value.rsplit("=", 1)[-1]) == project:
            return  # the project itself: its wheel is the one Hatch just built
        _local(value, path, where, project, parsed, editable=True)
    elif option in _IGNORED_OPTIONS:
        shown = f"{option} {value}" if value else option
        parsed.notes.append(
            (True, f"{where}: {shown} is ignored: {_IGNORED_OPTIONS[option][1]}; remove it to "
                   "silence this warning")
        )  # fmt: skip
    else:
        raise RequirementsError(
            f"{where}: unsupported option {option!r}; remove it (hatch-lambda reads -r, -c, "
            "-i, --extra-index-url, -f, -e . and --hash, and ignores pip's install preferences)"
        )


def _local(
    value: str, path: Path, where: str, project: str, parsed: _Parsed, *, editable: bool = False
) -> None:
    """A path or VCS line (``-e`` or not): a local source, unless it is the project itself."""
    url, _, marker = value.partition(";")
    url, extras = split_extras(url.strip()) if not is_vcs_url(url.strip()) else (url.strip(), ())
    if url in (".", "./"):
        return  # the project itself: its wheel is the one Hatch just built
    if is_vcs_url(url):
        source = from_url(url, where, editable=editable, base=path.parent)
    elif looks_like_path(url) or url.lower().startswith("file:"):
        source = (
            from_url(url, where, editable=editable, base=path.parent)
            if url.lower().startswith("file:")
            else from_path(url, where, base=path.parent, editable=editable)
        )
    else:
        raise RequirementsError(
            f"{where}: -e {value!r} names neither a folder nor a VCS URL; write -e ./path or "
            "-e git+https://host/repo@REV#egg=NAME, or drop the -e for a release"
        )
    if source is None:
        return
    source = with_extras(source, extras)
    if source.name == project or (not source.is_vcs and Path(source.location) == path.parent):
        return  # the project itself: its wheel is the one Hatch just built
    if marker.strip():
        raise RequirementsError(
            f"{where}: a marker on a path or VCS line ({value!r}) is not supported; "
            "remove the marker"
        )
    parsed.local.append(source)


def _pinned_version(req: Requirement) -> str | None:
    specs = list(req.specifier)
    if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
        return specs[0].version
    return None


def read_requirements_txt(
    path: Path,
    *,
    environment: Environment,
    project: str,
    strict: bool = False,
    reporter: Reporter | None = None,
) -> LockedSet | RequirementSet:
    """A ``LockedSet`` when every requirement that applies is pinned with ``==`` (or is a URL);
    whether those pins are closed is for the wheels to say (``HandPinned``). *strict*
    (``requirements-mode = "lock"``): a requirement that is not pinned is an error."""
    parsed = _Parsed()
    _parse(path, canonicalize_name(project), parsed, set())
    for warning, note in parsed.notes:
        if reporter is not None:
            (reporter.warning if warning else reporter.info)(note)
    wanted = [
        (req, hashes, where)
        for req, hashes, where in parsed.requirements
        if applies(req.marker, environment, req.extras, where=where)
    ]
    local = [
        *parsed.local,
        *(s for r, s in parsed.local_references if applies(r.marker, environment, r.extras,
                                                             where=s.where)),
    ]  # fmt: skip
    index = parsed.index_urls[-1] if parsed.index_urls else None
    extra = tuple(parsed.extra_index_urls)
    unpinned = [
        f"{where} {req}" for req, _, where in wanted if not (_pinned_version(req) or req.url)
    ]
    if strict and unpinned:
        raise RequirementsError(
            f'{path.name} is read as a lock (requirements-mode = "lock"), and '
            f"{counted(len(unpinned), 'requirement')} in it "
            f"{'is' if len(unpinned) == 1 else 'are'} not pinned with ==: {'; '.join(unpinned)}."
            f"\n  What to do: pin every package the target needs ({PIN_COMMAND}), or set "
            'requirements-mode = "resolve"'
        )
    # Local sources alone are resolved: their dependencies are listed nowhere else.
    if (wanted or not local) and not unpinned:
        pins = []
        extras: dict[str, frozenset[str]] = {}
        for req, hashes, where in wanted:
            sha256 = frozenset(h.split(":", 1)[1] for h in hashes if h.startswith("sha256:"))
            if req.url:
                filename = req.url.split("#")[0].rsplit("/", 1)[-1]
                files: tuple[LockedFile, ...] = (LockedFile(filename, req.url),)
                version = ""
            else:
                files, version = (), _pinned_version(req) or ""
            name = canonicalize_name(req.name)
            pins.append(Pin(name, version, where, files=files, sha256=sha256))
            extras[name] = extras.get(name, frozenset()) | {
                canonicalize_name(e) for e in req.extras
            }
        return LockedSet(
            source=path.name, pins=tuple(pins), index_url=index, extra_index_urls=extra,
            find_links=tuple(parsed.find_links), local=tuple(local),
            hand_pinned=HandPinned(strict=strict, hash_checking=parsed.hashed, extras=extras),
        )  # fmt: skip
    stripped = []
    for req, _, _ in wanted:
        clean = Requirement(str(req))
        clean.marker = None
        stripped.append(clean)
    return RequirementSet(
        source=f"{path.name} (not fully pinned, so resolved)"
        if wanted
        else f"{path.name} (local sources, their dependencies resolved)",
        requirements=tuple(stripped),
        index_url=index,
        extra_index_urls=extra,
        find_links=tuple(parsed.find_links),
        local=tuple(local),
    )
