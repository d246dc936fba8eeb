"""The on-disk cache: where it lives and how files are stored in it by content hash."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

CACHE_ENV = "HATCH_LAMBDA_CACHE_DIR"


def cache_root() -> Path:
    """``$HATCH_LAMBDA_CACHE_DIR``, else the platform's user cache folder for hatch-lambda."""
    override = os.environ.get(CACHE_ENV)
    return Path(override) if override else Path(platformdirs.user_cache_dir("hatch-lambda"))


def file_slot(sha256: str, filename: str) -> Path:
    """Where a distribution file with this digest is kept."""
    return cache_root() / "files" / "sha256" / sha256[:2] / sha256 / filename
