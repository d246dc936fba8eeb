"""The date every zip entry carries: SOURCE_DATE_EPOCH (or hatchling's fixed default), within
what a zip can record. Kept apart from the archive stage so that a build which only reuses its
zip need not load it."""

from __future__ import annotations

import time

from hatchling.builders.utils import get_reproducible_timestamp

_ZIP_EPOCH = 315532800  # 1980-01-01, the earliest time a zip entry can hold
_ZIP_END = 4354819198  # 2107-12-31 23:59:58, the latest (two-second steps)


def zip_date_time() -> tuple[tuple[int, int, int, int, int, int], str | None]:
    """The date of every entry, and a warning when SOURCE_DATE_EPOCH is outside what a zip can
    hold (1980 to 2107) and was clamped."""
    stamp = get_reproducible_timestamp()
    clamped = min(max(stamp, _ZIP_EPOCH), _ZIP_END)
    warning = None
    if clamped != stamp:
        when = "before 1980" if stamp < _ZIP_EPOCH else "after 2107"
        warning = (
            f"SOURCE_DATE_EPOCH={stamp} is {when}, which a zip cannot record: the entries are "
            f"dated {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(clamped))} UTC instead"
        )
    return time.gmtime(clamped)[:6], warning
