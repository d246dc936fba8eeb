"""A lock's pins, gathered as they are; a hand-pinned requirements file that leaves packages
out is resolved around its pins, or refused (``requirements-mode``)."""

from __future__ import annotations

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .._report import counted
from ..errors import HatchLambdaError, RequirementsError
from ..requirements import LockedSet, RequirementSet
from ..requirements._pylock import pins_from_pylock
from ._hand_pinned import held_lines, missing_dependencies, refusal
from ._locate import locate
from ._resolution import choose_resolver, from_ranges, resolve
from ._run import Run, gather
from ._wheel import Wheel


def from_lock(requirements: LockedSet, run: Run) -> list[Wheel]:
    """A wheel for each of the lock's pins (located on the indexes where the lock gives no URL)."""
    target, indexes, reporter = run.target, run.indexes, run.reporter
    reporter.info(
        f"Using the {counted(len(requirements.pins), 'package')} locked in {requirements.source}"
    )
    pins = locate(requirements.pins, indexes, reporter)
    wheels = gather(pins, run)
    hand = requirements.hand_pinned
    if hand is None:
        return wheels
    missing = missing_dependencies(wheels, hand.extras, target, present=run.skip)
    if not missing:
        return wheels
    with_pins_held = RequirementSet(
        source=f"{requirements.source} with its pins held",
        requirements=tuple(Requirement(line) for line in held_lines(requirements.pins, hand.extras)),
        index_url=requirements.index_url, extra_index_urls=requirements.extra_index_urls,
        find_links=requirements.find_links,
    )  # fmt: skip
    if hand.strict or hand.hash_checking:
        backend = choose_resolver(run.resolver, custom_platforms=run.custom_platforms)
        try:  # every package left out, not only those the pinned wheels name
            lock, backend = resolve(
                backend, requirements=with_pins_held.lines(), target=target, indexes=indexes,
                workdir=run.workdir / "held", reporter=reporter, refresh=run.refresh,
            )  # fmt: skip
            for pin in pins_from_pylock(lock, where=f"{backend}'s resolution",
                                        environment=target.marker_environment(), skip=run.skip):  # fmt: skip
                if pin.name not in missing and pin.name not in {p.name for p in pins}:
                    missing[pin.name] = []
        except HatchLambdaError as exc:  # the dependencies the pinned wheels name still show
            reporter.debug(f"resolving with the pins held, to name every package left out: {exc}")
        raise RequirementsError(refusal(requirements, hand, dict(sorted(missing.items())), target))
    resolved = from_ranges(with_pins_held, run.within("held"))
    pinned = {p.name for p in requirements.pins}
    added = [f"{w.name} {w.version}" for w in resolved if canonicalize_name(w.name) not in pinned]
    reporter.info(
        f"{requirements.source} pins {len(requirements.pins)} of "
        f"{counted(len(resolved), 'package')}; resolved the rest for {target.label}: "
        f'{", ".join(added)} (requirements-mode = "lock" refuses such a file instead)'
    )
    return resolved
