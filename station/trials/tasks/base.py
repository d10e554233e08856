"""What a task detector is: the rules of one task, run by the hold engine while HOLDING.

The engine core (states, weighing, readiness, countdown, the hold clock) is the same for
every task. What a task adds (what counts as a failure or an error, which events it
reports, what it adds to the live status and to the outcome) is a detector: one module
per task in station/trials/tasks/, chosen by task name from the table in
station/trials/tasks/__init__.py. A detector sees every frame of the hold, so it keeps
to plain floats and short deques, like the core.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

if TYPE_CHECKING:
    from station.protocols.model import TrialSpec
    from station.trials.events import Event
    from station.trials.thresholds import HoldConfig
    from station.trials.window import RunningWindow


class HoldClock:
    """When the hold started and how long it runs; shared by the engine and its detector.

    The engine completes the trial on the first frame with t - start >= duration_s. A
    detector may re-time the hold: the hop task times it from the landing, and keeps
    duration_s infinite until the landing has settled.
    """

    __slots__ = ("duration_s", "start")

    def __init__(self, start: float, duration_s: float) -> None:
        self.start = start
        self.duration_s = duration_s


class Failure(NamedTuple):
    """A detector's verdict that the trial failed: why, and the onset of the failure."""

    reason: str
    onset_t_s: float


class TaskDetector(Protocol):
    """The interface between the engine core and one task's rules.

    Built as `Detector(spec, config)` when the engine is made (so `status` works before
    the hold); `begin` is called once, on the first frame of the hold.
    """

    def begin(self, clock: HoldClock, body_weight_n: float, window: RunningWindow,
              out: list[Event]) -> None:
        """The hold starts: the body weight, and the window of the last steady second."""

    def sample(self, t: float, f: float, x: float, y: float, out: list[Event]) -> Failure | None:
        """One valid frame of the hold (force in N, COP in mm, NaN without a COP).

        Appends this frame's events to `out`; returns a Failure when the trial ends here.
        """

    def status(self, snapshot: dict[str, object]) -> None:
        """Add the task's live values to the engine's status snapshot."""

    def complete(self, t: float, detail: dict[str, object]) -> None:
        """The hold ran its duration: add the task's figures to the trial_complete detail."""

    def outcome(self) -> dict[str, Any]:
        """The task's fields of the TrialOutcome (by field name); {} when it has none."""


class DetectorFactory(Protocol):
    """A row of the task table: a detector class, or anything made the same way."""

    def __call__(self, spec: TrialSpec, config: HoldConfig) -> TaskDetector: ...


def cop_scale(config: HoldConfig, surface: str) -> float:
    """The factor on COP distance thresholds for a surface.

    Soft or rocking surfaces move the COP further with the same control (HoldConfig
    foam_scale / wobble_scale); force thresholds are not scaled.
    """
    return {"foam": config.foam_scale, "wobble": config.wobble_scale}.get(surface, 1.0)
