"""Evaluating the markers of ``Requires-Dist`` lines from other people's wheels, which may be
malformed in ways ``packaging`` only finds when it evaluates them."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName


def holds(
    marker: Marker | None, environment: Mapping[str, object], extras: Collection[str]
) -> bool | None:
    """Whether *marker* holds on *environment* for any of *extras* ("" for none); None when it
    cannot be evaluated (a comparison or a name that packaging does not define), so the caller
    decides what doubt means for it."""
    if marker is None:
        return True
    try:
        return any(
            marker.evaluate({**environment, "extra": e})  # type: ignore[dict-item]
            for e in extras
        )
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName, TypeError, ValueError):
        return None
