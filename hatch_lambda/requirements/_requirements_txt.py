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

from ..errors import RequirementsError
from . import LocalSource, LockedFile, LockedSet, Pin, RequirementSet
from ._local import from_path, from_requirement, from_url, is_vcs_url, looks_like_path
from ._markers import applies
from ._text import decode

_ENV_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")
_TAKES_A_VALUE = {
    "-r", "--requirement", "-c", "--constraint", "-i", "--index-url", "--extra-index-url",
    "-f", "--find-links", "-e", "--editable",
}  # fmt: skip
_IGNORED_OPTIONS = {
    "--pre", "--prefer-binary", "--no-binary", "--only-binary", "--trusted-host",
    "--use-feature", "--no-index", "--config-settings",
}  # fmt: skip


@dataclass
class _Parsed:
    requirements: list[tuple[Requirement, list[str], str]] = field(default_factory=list)
    index_urls: list[str] = field(default_factory=list)
    extra_index_urls: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)
    local: list[LocalSource] = field(default_factory=list)
    local_references: list[tuple[Requirement, LocalSource]] = field(default_factory=list)
    """``name @ file://...`` and ``name @ git+...``: local once their marker holds."""

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
        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise RequirementsError(
                f"{where}: cannot split {line!r}: {exc}; close the quote, or escape it with '\\'"
            ) from exc
        if not words:
            continue
        option, _, value = words[0].partition("=")
        if option.startswith("-"):
            if not value and len(words) > 1:
                value = words[1]
            if not value and option in _TAKES_A_VALUE:
                raise RequirementsError(f"{where}: {option} needs a value, as in {option} VALUE")
            if option in ("-r", "--requirement"):
                _parse(path.parent / value, project, parsed, seen, where)
            elif option in ("-c", "--constraint"):
                continue
            elif option in ("-i", "--index-url"):
                parsed.index_urls.append(value)
            elif option == "--extra-index-url":
                parsed.extra_index_urls.append(value)
            elif option in ("-f", "--find-links"):
                parsed.find_links.append(value)
            elif option in ("-e", "--editable"):
                if value in (".", "./") or canonicalize_name(value.rsplit("=", 1)[-1]) == project:
                    continue  # the project itself: its wheel is the one Hatch just built
                _local(value, path, where, project, parsed, editable=True)
            elif option in _IGNORED_OPTIONS:
                continue
            else:
                raise RequirementsError(
                    f"{where}: unsupported option {option!r} in {line!r}; remove it (hatch-lambda "
                    "reads -r, -c, -i, --extra-index-url, -f, -e . and --hash, and ignores "
                    "pip's install preferences)"
                )
            continue
        if is_vcs_url(words[0]) or looks_like_path(words[0]):
            _local(words[0], path, where, project, parsed)
            continue
        hashes = [w.split("=", 1)[1] for w in words[1:] if w.startswith("--hash=")]
        hashes += [words[i + 1] for i, w in enumerate(words[:-1]) if w == "--hash"]
        spec = line.split(" --hash")[0].strip()
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


def _local(
    value: str, path: Path, where: str, project: str, parsed: _Parsed, *, editable: bool = False
) -> None:
    """A path or VCS line (``-e`` or not): a local source, unless it is the project itself."""
    url, _, marker = value.partition(";")
    url = url.strip()
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
    path: Path, *, environment: Environment, project: str
) -> LockedSet | RequirementSet:
    """A ``LockedSet`` when every requirement that applies is pinned with ``==`` (or is a URL)."""
    parsed = _Parsed()
    _parse(path, canonicalize_name(project), parsed, set())
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
    # Local sources alone are resolved: their dependencies are listed nowhere else.
    if (wanted or not local) and all(_pinned_version(r) or r.url for r, _, _ in wanted):
        pins = []
        for req, hashes, where in wanted:
            sha256 = frozenset(h.split(":", 1)[1] for h in hashes if h.startswith("sha256:"))
            if req.url:
                filename = req.url.split("#")[0].rsplit("/", 1)[-1]
                files: tuple[LockedFile, ...] = (LockedFile(filename, req.url),)
                version = ""
            else:
                files, version = (), _pinned_version(req) or ""
            pins.append(
                Pin(canonicalize_name(req.name), version, where, files=files, sha256=sha256)
            )
        return LockedSet(
            source=path.name, pins=tuple(pins), index_url=index, extra_index_urls=extra,
            find_links=tuple(parsed.find_links), local=tuple(local),
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
