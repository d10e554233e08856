"""An athlete's own limits of stability (their envelope), from their latest LOS trial.

The limits-of-stability task stores, with each trial's metrics, the farthest lean in each of
the 8 directions (metrics["limits_of_stability"]["envelope_mm"], station.analysis.metrics.
stability_limits). The games place their targets inside it and the drill scales its circle
by it, so any code that starts a game asks here: `latest_envelope(store, athlete_uid)`.
Only a whole test gives an envelope (every direction leaned in); a trial the athlete did not
finish, or one whose analysis failed, is skipped for the one before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from station.protocols.games import DIRECTIONS, check_envelope

if TYPE_CHECKING:
    from station.analysis.history.store_reads import HistoryStore

LOS_TASK = "limits_of_stability"
MAX_TRIALS_READ = 10  # look this many LOS trials back for one with an envelope


@dataclass(frozen=True)
class Envelope:
    """The athlete's reach (mm) per direction (station.protocols.games.DIRECTIONS order)."""

    envelope_mm: tuple[float, ...]
    trial_uid: str
    measured_at: datetime | None

    def by_direction(self) -> dict[str, float]:
        return dict(zip(DIRECTIONS, self.envelope_mm, strict=True))

    def to_json(self) -> dict[str, Any]:
        return {"envelope_mm": list(self.envelope_mm), "directions": list(DIRECTIONS),
                "trial_uid": self.trial_uid,
                "measured_at": self.measured_at.isoformat() if self.measured_at else None}


def envelope_of(metrics: dict[str, Any] | None) -> tuple[float, ...] | None:
    """The envelope in one trial's metrics, or None when it has none (or a bad one)."""
    section = (metrics or {}).get(LOS_TASK)
    if not isinstance(section, dict):
        return None
    try:
        return check_envelope(section.get("envelope_mm"))
    except (TypeError, ValueError):
        return None


def latest_envelope(store: HistoryStore, athlete_uid: str) -> Envelope | None:
    """The envelope of the athlete's latest limits-of-stability trial that has one, or None."""
    rows = [r for r in store.athlete_history(athlete_uid)
            if r.get("task") == LOS_TASK and not r.get("invalid")]
    for row in reversed(rows[-MAX_TRIALS_READ:]):
        trial = store.load_trial(row["uid"], with_raw=False)
        envelope = envelope_of(trial.metrics)
        if envelope is not None:
            return Envelope(envelope, row["uid"], row.get("started_at"))
    return None
