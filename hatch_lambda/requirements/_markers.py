"""Marker evaluation for the target, with the extras and groups that were asked for."""

from __future__ import annotations

from collections.abc import Collection

from packaging.markers import Environment, Marker


def applies(marker: Marker | None, environment: Environment, extras: Collection[str] = ()) -> bool:
    """Whether *marker* holds on the target for no extra or for any of *extras*."""
    if marker is None:
        return True
    return any(
        marker.evaluate({**environment, "extra": extra})  # type: ignore[dict-item]
        for extra in ("", *extras)
    )
