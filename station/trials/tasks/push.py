"""The push task: someone pushes the athlete; the board marks each perturbation's onset.

A perturbation is the COP more than push_onset_mm from its mean over the last
push_baseline_s, at most once per push_refractory_s; its onset is dated back to the
last frame still near that mean. The board sees the athlete's postural response, not
the hand. Otherwise the trial is a hold: stepping fails it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from station.trials.events import Event
from station.trials.tasks.base import Failure, HoldClock, cop_scale
from station.trials.tasks.hold import HoldDetector

if TYPE_CHECKING:
    from station.protocols.model import TrialSpec
    from station.trials.thresholds import HoldConfig
    from station.trials.window import RunningWindow


class PushDetector(HoldDetector):
    """A hold that also reports perturbations (`perturbation` events and their onsets)."""

    def __init__(self, spec: TrialSpec, config: HoldConfig) -> None:
        super().__init__(spec, config)
        self._push_mm = config.push_onset_mm * cop_scale(config, spec.surface)
        self._baseline: RunningWindow | None = None
        self._last_push = -math.inf
        self._onsets: list[float] = []

    def begin(self, clock: HoldClock, body_weight_n: float, window: RunningWindow,
              out: list[Event]) -> None:
        super().begin(clock, body_weight_n, window, out)
        # the baseline continues from the countdown's samples (no warm-up gap)
        self._baseline = window.resized(self.config.push_baseline_s)

    def outcome(self) -> dict[str, Any]:
        return {"perturbation_onsets_s": list(self._onsets)}

    def _cop(self, t: float, f: float, x: float, y: float, out: list[Event]) -> Failure | None:
        self._push(t, f, x, y, out)
        if not self._single:
            return None  # two-footed: only stepping fails it (skip the call)
        return HoldDetector._cop(self, t, f, x, y, out)  # per frame: no super() object

    def _push(self, t: float, f: float, x: float, y: float, out: list[Event]) -> None:
        cfg = self.config
        win = self._baseline
        win.add(t, f, x, y)
        if t - self._last_push < cfg.push_refractory_s or not win.full:
            return
        mx, my = win.mean_cop()
        dx = x - mx
        dy = y - my
        r = self._push_mm
        if dx * dx + dy * dy > r * r:
            # Onset: back from the detection to the last frame still near the baseline
            # (rare, so an O(window) scan is fine here).
            near = cfg.push_onset_back_frac * r
            near2 = near * near
            onset = t
            for ti, _, xi, yi, has in reversed(win.q):
                if has and (xi - mx) ** 2 + (yi - my) ** 2 <= near2:
                    break
                onset = ti
            self._last_push = t
            self._onsets.append(onset)
            out.append(Event(t, "perturbation", {"onset_t_s": onset,
                                                 "displacement_mm": math.hypot(dx, dy)}))
