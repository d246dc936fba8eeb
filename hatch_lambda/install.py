"""The install stage: unpacks wheels into the bundle tree with ``installer``, never byte-compiling."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.exceptions import InstallerError
from installer.sources import WheelFile

from ._report import Reporter
from .archive import WheelEntry
from .errors import InstallError
from .target import Target

INSTALLER_NAME = b"hatch-lambda\n"


@dataclass(frozen=True)
class InstallTree:
    root: Path
    """What goes into the archive: purelib and platlib, side by side as Lambda imports them."""
    unbundled: Path
    """Scripts, headers and data files of the wheels, which Lambda never runs or reads."""


def install_wheels(
    wheels: Sequence[tuple[str, Path]], tree: InstallTree, target: Target, reporter: Reporter
) -> dict[str, WheelEntry]:
    """Install each ``(label, wheel path)`` in order; a file two wheels share is an error.

    Returns, by path under ``tree.root``, the wheel entries that were written unchanged, so the
    archive can reuse their compressed bytes.
    """
    unchanged: dict[str, WheelEntry] = {}
    tree.root.mkdir(parents=True, exist_ok=True)
    schemes = {
        "purelib": str(tree.root),
        "platlib": str(tree.root),
        "scripts": str(tree.unbundled / "scripts"),
        "headers": str(tree.unbundled / "headers"),
        "data": str(tree.unbundled / "data"),
    }
    destination = SchemeDictionaryDestination(
        schemes,
        interpreter=f"/var/lang/bin/python{target.python_version}",
        script_kind="posix",
        bytecode_optimization_levels=(),  # host bytecode would be dead weight on the target
    )
    reporter.waiting(f"Installing {len(wheels)} wheels")
    for label, path in wheels:
        reporter.debug(f"  installing {path.name}", level=2)
        try:
            with WheelFile.open(path) as source:
                source.validate_record(validate_contents=False)
                install(source, destination, {"INSTALLER": INSTALLER_NAME})
                unchanged.update(_unchanged_entries(path, source.dist_info_dir))
        except FileExistsError as exc:
            raise InstallError(
                f"{label} ({path.name}) writes {exc.filename}, which another distribution already "
                "installed; two of the bundle's distributions ship the same file"
            ) from exc
        except (InstallerError, ValueError, OSError) as exc:
            raise InstallError(f"cannot install {label} from {path.name}: {exc}") from exc
    return unchanged


def _unchanged_entries(wheel: Path, dist_info: str) -> dict[str, WheelEntry]:
    """Entries installer copies byte for byte to the root: all but ``.data/`` (scripts, headers
    and data go elsewhere) and the RECORD, which installer rewrites."""
    with zipfile.ZipFile(wheel) as zf:
        return {
            info.filename: WheelEntry(wheel, info)
            for info in zf.infolist()
            if not info.is_dir()
            and info.filename != f"{dist_info}/RECORD"
            and not info.filename.split("/", 1)[0].endswith(".data")
        }
