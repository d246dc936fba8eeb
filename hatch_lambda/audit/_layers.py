"""What a layer zip gives a function deployed with it, for one runtime: its distributions (met
requirements for the closure rule), its top-level modules (met imports) and its unzipped sizes
(counted with the function's for the size rule)."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name

from ..bundle import LAYER_SITE, Reader
from ..errors import AuditError
from ._artifact import open_artifact
from ._finding import Finding
from ._modules import top_level_names
from ._size import distribution_sizes


@dataclass(frozen=True)
class LayerContents:
    label: str
    """How the size rule names it: ``layer NAME``."""
    dists: Mapping[str, str] = field(default_factory=dict)
    """Distribution (normalized name) -> version, in the folders the runtime imports from."""
    modules: frozenset[str] = frozenset()
    sizes: Mapping[str, int] = field(default_factory=dict)
    """Unzipped bytes by distribution, the whole layer: Lambda unpacks all of it."""


def _site_paths(names: Iterable[str], python_version: str) -> list[list[str]]:
    """The paths under each folder a runtime imports a layer from, relative to it, in order."""
    own = f"python/lib/python{python_version}/site-packages/"
    names = list(names)
    return [
        [n[len(own) :] for n in names if n.startswith(own)],
        [n[len("python/") :] for n in names if n.startswith("python/") and not LAYER_SITE.match(n)],
    ]


def layer_modules(archive: Path, python_version: str) -> frozenset[str]:
    """The top-level modules a layer zip gives Python *python_version*, from its directory."""
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
    return frozenset(
        n for site in _site_paths(names, python_version) for n in top_level_names(site)
    )


def read_layer(
    path: Path, python_version: str, reader: Reader, label: str
) -> tuple[LayerContents, list[Finding]]:
    """The layer zip at *path* for Python *python_version*; findings say why it is not usable
    (then it gives nothing). Its members are the business of a check of the layer itself."""
    try:
        opened = open_artifact(path, reader)
    except AuditError as exc:
        return LayerContents(label), [Finding("layers", str(path), f"{label}: {exc}")]
    if not opened.layer:
        return LayerContents(label), [
            Finding(
                "layers",
                str(path),
                f"{label}: {path.name} is not a layer: its files are not all under python/, "
                "where Lambda puts a layer's modules on sys.path",
            )
        ]
    sites = _site_paths(opened.bundle.entries, python_version)
    dists: dict[str, str] = {}
    for site in reversed(sites):  # the first folder on sys.path wins
        for rel in site:
            folder, _, rest = rel.partition("/")
            if rest == "METADATA" and folder.endswith(".dist-info"):
                name, _, version = folder[: -len(".dist-info")].partition("-")
                dists[canonicalize_name(name)] = version
    modules = frozenset(n for site in sites for n in top_level_names(site))
    sizes = distribution_sizes(opened.bundle.entries.values())
    return LayerContents(label, dists, modules, sizes), []
