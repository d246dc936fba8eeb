"""Marker evaluation for the target, with the extras and groups that were asked for."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from packaging.markers import (
    Environment,
    Marker,
    UndefinedComparison,
    UndefinedEnvironmentName,
)

from ..errors import RequirementsError


def evaluate(marker: Marker, environment: Mapping[str, object], *, where: str, **kw: str) -> bool:
    """``marker.evaluate``, with the markers that parse but cannot be evaluated (``extras`` outside
    a lock, ``python_version ~= "abc"``) reported at *where*."""
    try:
        return marker.evaluate(dict(environment), **kw)  # type: ignore[arg-type]
    except (UndefinedComparison, UndefinedEnvironmentName) as exc:
        raise RequirementsError(
            f"{where}: the marker '{marker}' cannot be evaluated for the target ({exc}); "
            "fix or remove it"
        ) from exc


def applies(
    marker: Marker | None, environment: Environment, extras: Collection[str] = (), *, where: str
) -> bool:
    """Whether *marker* holds on the target for no extra or for any of *extras*."""
    if marker is None:
        return True
    return any(
        evaluate(marker, {**environment, "extra": extra}, where=where) for extra in ("", *extras)
    )
