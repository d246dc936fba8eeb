"""The near miss a mistyped name most likely meant, for did-you-mean hints in every message that
refuses a name (options, rules, runtimes, engines, artifacts)."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from typing import Any, Optional

Meant = Callable[[object], Optional[str]]
"""What a near miss stands for (``runtime_meant``), beyond what spelling similarity finds."""


def closest(value: Any, allowed: Sequence[str], meant: Meant | None = None) -> str | None:
    """The one of *allowed* that *value* most likely meant, or None when nothing is close."""
    guess = meant(value) if meant else None
    if guess is None and isinstance(value, str):
        guess = next(iter(difflib.get_close_matches(value, allowed, n=1)), None)
    return guess if guess in allowed else None
