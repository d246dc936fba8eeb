"""Rule ``size``: a function and its layers fit Lambda's 250 MB unzipped limit, or the user's own."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..bundle import Entry
from ..config import MAX_UNZIPPED_SIZE
from ._finding import Finding

_TABLE_ROWS = 10
OTHER_FILES = "(other files)"


def distribution_sizes(entries: Iterable[Entry]) -> dict[str, int]:
    """Unzipped bytes by distribution (``name version``); what no distribution owns (bytecode
    a hook wrote, for one) is counted as ``(other files)``."""
    sizes: dict[str, int] = {}
    for entry in entries:
        label = entry.owner or OTHER_FILES
        sizes[label] = sizes.get(label, 0) + entry.size
    return sizes


def check_size(
    artifact: str,
    sizes: Mapping[str, Mapping[str, int]],
    *,
    limit: int,
) -> list[Finding]:
    """*sizes*: for the artifact and each layer it names, bytes by distribution."""
    total = sum(sum(s.values()) for s in sizes.values())
    if total <= limit:
        return []
    rows = sorted(
        ((size, dist, where) for where, by_dist in sizes.items() for dist, size in by_dist.items()),
        reverse=True,
    )[:_TABLE_ROWS]
    rows = [r for r in rows if r[0] >= 50_000] or rows[:1]  # what is worth cutting
    table = "\n".join(
        f"      {size / 1e6:9.1f} MB  {dist}  ({where})" for size, dist, where in rows
    )
    parts = " + ".join(f"{where} {sum(s.values()):,}" for where, s in sizes.items())
    over_lambda = f"Lambda's limit of {MAX_UNZIPPED_SIZE:,} for a function and all its layers"
    over, advice = over_lambda, ""
    if limit != MAX_UNZIPPED_SIZE:
        # The user's own threshold: Lambda only refuses what is over its own.
        over = f"your max-unzipped-size of {limit:,}"
        if total > MAX_UNZIPPED_SIZE:
            over += f", and over {over_lambda}"
        else:
            advice = ", or raise max-unzipped-size"
    return [
        Finding(
            "size",
            artifact,
            f"unzipped, {parts} = {total:,} bytes, over {over}. Largest distributions:\n"
            f"{table}\n    Cut with exclude, slim = true or exclude-runtime-provided = true"
            f"{advice}; what a function's layers hold counts toward the same limit.",
        )
    ]
