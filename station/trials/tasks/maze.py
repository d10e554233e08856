"""The maze task (target tracking): steer the COP into each target in turn.

The targets are station.protocols.games.maze_targets_mm (inside the athlete's envelope, the
trial spec's game). A target is collected when the COP has stayed inside it for dwell_s
(`target_reached` event); then the next one shows. Time without a COP or with the weight off
the board restarts the dwell. The analysis (station.analysis.metrics.maze) applies the same
rule to the stored frames. Two-footed: only a step-off fails it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from station.protocols.games import GameSpec, maze_targets_mm
from station.trials.events import Event
from station.trials.tasks.base import Failure, HoldClock
from station.trials.tasks.hold import HoldDetector
from station.wire import json_safe

if TYPE_CHECKING:
    from station.protocols.model import TrialSpec
    from station.trials.thresholds import HoldConfig
    from station.trials.window import RunningWindow


class MazeDetector(HoldDetector):
    """The current target, the dwell in it, and the targets collected (`target_reached`)."""

    def __init__(self, spec: TrialSpec, config: HoldConfig) -> None:
        super().__init__(spec, config)
        self.game = game = spec.game if spec.game is not None else GameSpec()
        self._targets = [(float(x), float(y)) for x, y in maze_targets_mm(game)]
        self._r2 = game.target_radius_mm ** 2
        self._index = 0
        self._inside_since: float | None = None
        self._last_t = 0.0
        self._dwell = 0.0
        self.times_s: list[float] = []

    def begin(self, clock: HoldClock, body_weight_n: float, window: RunningWindow,
              out: list[Event]) -> None:
        super().begin(clock, body_weight_n, window, out)
        self._last_t = clock.start

    def status(self, snapshot: dict[str, object]) -> None:
        game = self.game
        snapshot["game"] = json_safe({
            "task": "maze", "targets_mm": [list(p) for p in self._targets],
            "index": self._index, "reached": len(self.times_s),
            "radius_mm": game.target_radius_mm,
            "inside": self._inside_since is not None,
            "dwell_frac": min(self._dwell / game.dwell_s, 1.0) if game.dwell_s > 0 else 1.0,
            "done": self._index >= len(self._targets),
        }, 3)  # JSON-ready: NaN (no stance reference yet) is null

    def complete(self, t: float, detail: dict[str, object]) -> None:
        detail["targets_reached"] = len(self.times_s)

    def outcome(self) -> dict[str, Any]:
        return {}

    def _cop(self, t: float, f: float, x: float, y: float, out: list[Event]) -> Failure | None:
        if self._index >= len(self._targets):
            return None
        tx, ty = self._targets[self._index]
        dx = x - tx
        dy = y - ty
        if dx * dx + dy * dy > self._r2:
            self._inside_since = None
            self._dwell = 0.0
            return None
        if self._inside_since is None:
            self._inside_since = t
        self._dwell = t - self._inside_since
        if self._dwell >= self.game.dwell_s:
            self.times_s.append(t - self._last_t)
            out.append(Event(t, "target_reached", {"index": self._index,
                                                   "time_s": t - self._last_t}))
            self._index += 1
            self._last_t = t
            self._inside_since = None
            self._dwell = 0.0
        return None

    def _while_down(self, t: float) -> None:
        self._inside_since = None
        self._dwell = 0.0

    def _no_cop(self, t: float) -> None:
        self._inside_since = None
        self._dwell = 0.0
