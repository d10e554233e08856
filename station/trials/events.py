"""What the hold engine tells the live view and the store: states, events, trial outcome."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from station.wire import json_safe

FAILURE_REASONS = (
    "touch_down_floor",
    "touch_down_board",
    "step_off",
    "cop_left_foot_area",
    "no_hop",
    "rim_contact",  # wobble board: the deck's rim touched the platform
)

EVENT_KINDS = (
    "state_changed",  # {from, to}
    "body_weight_measured",  # {body_weight_n, std_n}
    "countdown_tick",  # {remaining_s}
    "countdown_cancelled",  # {why}
    "touch_down",  # {surface: floor|board, onset_t_s[, bess_errors]}
    "step_off",  # {onset_t_s[, bess_errors]}
    "cop_left_foot_area",  # {onset_t_s, dx_mm, dy_mm}
    "excursion",  # BESS: {onset_t_s, distance_mm, bess_errors}
    "target",  # drill: {x_mm, y_mm, radius_mm}
    "target_entered",  # drill: {distance_mm}
    "target_left",  # drill: {distance_mm}
    "flight",  # hop: {}
    "landing",  # hop: {flight_s}
    "perturbation",  # push: {displacement_mm}
    "rim_contact",  # wobble: {onset_t_s, side, direction_deg, beyond_mm[, bess_errors, counted]}
    "game_cue",  # limits of stability: {direction, index} (lean towards it now)
    "target_reached",  # maze: {index, time_s}
    "tap",  # toe taps: {taps, onset_t_s, interval_s}
    "lost_control",  # toe taps: {why: foot_down|cop_excursion, onset_t_s, lost_control}
    "signal_gap",  # {gap_s}
    "trial_complete",  # {duration_s[, bess_errors][, drill_time_in_target_pct]}
    "trial_failed",  # {reason, time_to_failure_s}
    "trial_aborted",  # {}
)


class State(enum.Enum):
    """States of one trial; the value is what the live view receives."""

    EMPTY = "empty"
    ON_BOARD = "on_board"
    READY = "ready"
    COUNTDOWN = "countdown"
    HOLDING = "holding"
    COMPLETE = "complete"
    FAILED = "failed"
    ABORTED = "aborted"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATES


# The states a trial ends in: the one set the engine, the runner and the autopilot test
# against (a tuple: membership of an enum is fastest by identity, and update() asks per frame).
TERMINAL_STATES = (State.COMPLETE, State.FAILED, State.ABORTED)


class Event(NamedTuple):
    """Something the engine noticed at sample time t_s; `detail` holds JSON-ready values."""

    t_s: float
    kind: str
    detail: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """A JSON-serializable dict for the live view (SSE) and the store."""
        return {"t_s": json_safe(self.t_s, 4), "kind": self.kind,
                "detail": {k: json_safe(v, 4) for k, v in self.detail.items()}}


@dataclass
class TrialOutcome:
    """The engine's verdict on one trial (metrics are computed elsewhere from the data).

    time_to_failure_s is from hold start to the onset of the failure (the first
    frame of the force drop, the COP jump or the exit), not to its detection.
    For hop trials hold_start_t is the landing time; landing_t_s repeats it.
    """

    trial_id: str
    state: State
    completed: bool
    failure_reason: str | None = None
    time_to_failure_s: float | None = None
    body_weight_n: float | None = None
    hold_start_t: float | None = None
    hold_end_t: float | None = None
    bess_errors: int | None = None
    drill_time_in_target_pct: float | None = None
    landing_t_s: float | None = None
    perturbation_onsets_s: list[float] = field(default_factory=list)
    invalid_frames: int = 0
    events: list[Event] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "trial_id": self.trial_id,
            "state": self.state.value,
            "completed": self.completed,
            "failure_reason": self.failure_reason,
            "time_to_failure_s": json_safe(self.time_to_failure_s, 4),
            "body_weight_n": json_safe(self.body_weight_n, 4),
            "hold_start_t": json_safe(self.hold_start_t, 4),
            "hold_end_t": json_safe(self.hold_end_t, 4),
            "bess_errors": self.bess_errors,
            "drill_time_in_target_pct": json_safe(self.drill_time_in_target_pct, 4),
            "landing_t_s": json_safe(self.landing_t_s, 4),
            "perturbation_onsets_s": [json_safe(v, 4) for v in self.perturbation_onsets_s],
            "invalid_frames": self.invalid_frames,
            "events": [e.to_json() for e in self.events],
        }


