"""Trials: the real-time hold engine, its events and thresholds, the task detectors, the runner."""

from __future__ import annotations

from station.trials.events import (
    EVENT_KINDS,
    FAILURE_REASONS,
    TERMINAL_STATES,
    Event,
    State,
    TrialOutcome,
)
from station.trials.hold import HoldEngine, engine_for
from station.trials.tasks import BESS_ERROR_KINDS, DETECTORS, BessCounter, TargetTracker, bess_total
from station.trials.thresholds import HoldConfig, HoldConfigError

__all__ = [
    "BESS_ERROR_KINDS",
    "DETECTORS",
    "EVENT_KINDS",
    "FAILURE_REASONS",
    "TERMINAL_STATES",
    "BessCounter",
    "Event",
    "HoldConfig",
    "HoldConfigError",
    "HoldEngine",
    "State",
    "TargetTracker",
    "TrialOutcome",
    "bess_total",
    "engine_for",
]
