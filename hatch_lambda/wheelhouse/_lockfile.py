"""Loads a PEP 751 ``pylock.toml`` into packaging's ``Pylock``, with the failing key in errors."""

from __future__ import annotations

import sys
from pathlib import Path

from packaging.pylock import Pylock, PylockValidationError

from ..errors import ResolutionError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def load_pylock(path: Path) -> Pylock:
    try:
        with path.open("rb") as f:
            return Pylock.from_dict(tomllib.load(f))
    except (OSError, tomllib.TOMLDecodeError, PylockValidationError) as exc:
        raise ResolutionError(f"cannot read the lock {path}: {exc}") from exc
