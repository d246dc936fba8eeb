"""Evaluating environment markers for the target. Some markers parse and fail only when
evaluated (``python_version ~= "abc"``), so every evaluation is guarded here, with one of two
policies: a marker the user wrote (a lockfile, requirements.txt) is an error that names where it
is (``evaluate``, ``applies``); one in another project's wheel metadata is a doubt the caller
decides about (``holds``)."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from packaging.markers import (
    Environment,
    InvalidMarker,
    Marker,
    UndefinedComparison,
    UndefinedEnvironmentName,
)

from .errors import RequirementsError

_UNDEFINED = (UndefinedComparison, UndefinedEnvironmentName)


def evaluate(marker: Marker, environment: Mapping[str, object], *, where: str, **kw: str) -> bool:
    """``marker.evaluate``, with the markers that parse but cannot be evaluated (``extras`` outside
    a lock, ``python_version ~= "abc"``) reported at *where*."""
    try:
        return marker.evaluate(dict(environment), **kw)  # type: ignore[arg-type]
    except _UNDEFINED as exc:
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


def holds(
    marker: Marker | None, environment: Mapping[str, object], extras: Collection[str]
) -> bool | None:
    """Whether *marker* holds on *environment* for any of *extras* ("" for none); None when it
    cannot be evaluated, so the caller decides what doubt means for it."""
    if marker is None:
        return True
    try:
        return any(
            marker.evaluate({**environment, "extra": e})  # type: ignore[dict-item]
            for e in extras
        )
    except (*_UNDEFINED, InvalidMarker, TypeError, ValueError):
        return None
