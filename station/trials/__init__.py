"""Trials: the real-time hold engine, its events and thresholds, BESS, drill, the runner."""

from __future__ import annotations

from station.trials.bess import BESS_ERROR_KINDS, BessCounter, bess_total
from station.trials.drill import TargetTracker
from station.trials.events import EVENT_KINDS, FAILURE_REASONS, Event, State, TrialOutcome
from station.trials.hold import HoldEngine, engine_for
from station.trials.thresholds import HoldConfig, HoldConfigError

__all__ = [
    "BESS_ERROR_KINDS",
    "EVENT_KINDS",
    "FAILURE_REASONS",
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
