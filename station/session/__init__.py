"""Trial sessions: the real-time hold engine and its events, thresholds, BESS and drill logic."""

from __future__ import annotations

from station.session.bess import BESS_ERROR_KINDS, BessCounter, bess_total
from station.session.config import HoldConfig, HoldConfigError
from station.session.drill import TargetTracker
from station.session.events import EVENT_KINDS, FAILURE_REASONS, Event, State, TrialOutcome
from station.session.hold import HoldEngine, engine_for

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
