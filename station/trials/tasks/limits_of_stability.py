"""The limits-of-stability task: lean towards 8 targets in turn and come back.

The cue schedule is station.protocols.games.los_phase_at (1 s of quiet stance, then per
direction a lean time and a return time). Each new direction is a `game_cue` event (the
screens show the target and may beep); the live status carries the phase, the direction,
the targets and the farthest lean reached so far in each direction, from the stance
reference (the mean COP of the steady second before the hold). The measures (reaction time,
velocity, excursions, directional control, the envelope) come from the analysis of the
frames (station.analysis.metrics.stability_limits). Two-footed: only a step-off fails it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from station.protocols.games import (
    DIRECTIONS,
    GameSpec,
    los_phase_at,
    los_targets_mm,
    unit_vector,
)
from station.trials.events import Event
from station.trials.tasks.base import Failure, HoldClock
from station.trials.tasks.hold import HoldDetector
from station.wire import json_safe

if TYPE_CHECKING:
    from station.protocols.model import TrialSpec
    from station.trials.thresholds import HoldConfig
    from station.trials.window import RunningWindow


class StabilityLimitsDetector(HoldDetector):
    """The cue schedule (`game_cue` events) and the farthest lean per direction."""

    def __init__(self, spec: TrialSpec, config: HoldConfig) -> None:
        super().__init__(spec, config)
        self.game = spec.game if spec.game is not None else GameSpec()
        self._targets = [list(map(float, p)) for p in los_targets_mm(self.game)]
        self._reach = [0.0] * len(DIRECTIONS)
        self._phase: tuple[int | None, str] = (None, "wait")

    def begin(self, clock: HoldClock, body_weight_n: float, window: RunningWindow,
              out: list[Event]) -> None:
        super().begin(clock, body_weight_n, window, out)
        if self._ref_x != self._ref_x:
            self._ref_x = self._ref_y = 0.0

    def status(self, snapshot: dict[str, object]) -> None:
        k, phase = self._phase
        snapshot["game"] = json_safe({
            "task": "limits_of_stability", "phase": phase, "index": k,
            "direction": DIRECTIONS[k] if k is not None else None,
            "targets_mm": self._targets, "centre_mm": [self._ref_x, self._ref_y],
            "reach_mm": list(self._reach), "directions": list(DIRECTIONS),
        }, 3)  # JSON-ready: NaN (no stance reference yet) is null

    def complete(self, t: float, detail: dict[str, object]) -> None:
        detail["reach_mm"] = list(self._reach)

    def outcome(self) -> dict[str, Any]:
        return {}

    def _cop(self, t: float, f: float, x: float, y: float, out: list[Event]) -> Failure | None:
        phase = los_phase_at(t - self._clock.start, self.game)
        if phase != self._phase:
            self._phase = phase
            k, name = phase
            if name == "lean":
                out.append(Event(t, "game_cue", {"direction": DIRECTIONS[k], "index": k}))
        k, name = phase
        if name == "lean":
            ux, uy = unit_vector(k)
            along = (x - self._ref_x) * ux + (y - self._ref_y) * uy
            if along > self._reach[k]:
                self._reach[k] = along
        return None
