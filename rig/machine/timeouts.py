"""The stages of a boot and the time each may take: what a run needs before QEMU starts
(``--timeout`` is checked, the limits are set). The console that watches for the stages
(rig.machine.console, with the parsers' messages for each) is imported once QEMU runs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from rig.errors import UsageError


class Stage(Enum):
    """Boot stages in order; each is reached when its line appears."""

    FIRMWARE = "firmware"  #: QEMU started, nothing seen yet
    XEN = "xen"  #: Xen's banner
    DOM0_BUILD = "dom0-build"  #: Xen builds dom0
    LINUX = "linux"  #: dom0's kernel prints its version
    SETUP = "setup"  #: its memory setup is over ("Memory: ...K/...K available")
    INIT = "init"  #: rig's /init runs
    DONE = "done"  #: /init printed everything
    XEN_QUERY = "xen-query"  #: Xen dumped its own view of dom0 (debug key 'q')
    EXIT = "exit"  #: QEMU exited after the guest powered off


#: seconds allowed to reach each stage from the previous one with KVM; under TCG they are
#: multiplied by ``TCG_SLOWDOWN`` (syzkaller's rule: scale, but cap the factor).
#: docs/boot-recipe.md: a whole TCG boot takes 7–17 s; a 1 TiB layout spends ~50 s in Xen
#: before dom0 is built.
BASE_TIMEOUTS: dict[Stage, float] = {
    Stage.XEN: 20,
    Stage.DOM0_BUILD: 80,
    Stage.LINUX: 20,
    Stage.SETUP: 40,
    Stage.INIT: 80,
    Stage.DONE: 20,
    Stage.XEN_QUERY: 3,
    Stage.EXIT: 10,
}
TCG_SLOWDOWN = 3.0
#: no console output for this long (scaled likewise) is a hang of its own kind
BASE_SILENCE_S = 20.0
#: the stages a run waits for, whose time limit ``--timeout STAGE=SECONDS`` may change
WAITED_FOR = (Stage.XEN, Stage.DOM0_BUILD, Stage.LINUX, Stage.SETUP, Stage.INIT, Stage.DONE,
              Stage.XEN_QUERY)


@dataclass(frozen=True)
class Limits:
    """How long the console waits: for each stage, from the one before (``timeouts_for``), and
    for any output at all, whatever the stage (``silence_for``): a hang of its own kind."""

    stages: Mapping[Stage, float]
    silence: float


def parse_timeouts(pairs: list[str]) -> dict[Stage, float]:
    """``--timeout STAGE=SECONDS`` values; a stage rig does not wait for, or a time that is
    not a positive number of seconds, is a usage error naming it."""
    names = {s.value: s for s in WAITED_FOR}
    out: dict[Stage, float] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(f"--timeout {pair!r}: expected STAGE=SECONDS, e.g. init=600")
        if key not in names:
            raise UsageError(f"--timeout {pair!r}: {key!r} is not a stage rig waits for "
                             f"(stages: {', '.join(names)})")
        try:
            seconds = float(value)
        except ValueError:
            raise UsageError(f"--timeout {pair!r}: {value!r} is not a number of seconds") \
                from None
        if not 0 < seconds <= 86400 or seconds != seconds:
            raise UsageError(f"--timeout {pair!r}: {value!r} must be more than 0 and at most "
                             "86400 seconds")
        out[names[key]] = seconds
    return out


def timeouts_for(accel: str, overrides: dict[Stage, float] | None = None,
                 machine: float = 1.0) -> dict[Stage, float]:
    """The stage limits: the base ones scaled for the accelerator and for the machine
    (``machine``: how much longer than the reference machine its boot is expected to take,
    rig.model.cost.limit_scale, 1 to 6), then ``--timeout``'s, which are taken as given."""
    scale = _factor(accel, machine)
    return {**{k: v * scale for k, v in BASE_TIMEOUTS.items()}, **(overrides or {})}


def silence_for(accel: str, machine: float = 1.0) -> float:
    """The silence limit, scaled as the stages are: a big dom0's console starts late (its
    memory setup runs before the console is up), so its first line may follow a long quiet."""
    return BASE_SILENCE_S * _factor(accel, machine)


def _factor(accel: str, machine: float) -> float:
    return (TCG_SLOWDOWN if accel == "tcg" else 1.0) * machine
