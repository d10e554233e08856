"""Weeks of history for the results browser tests: a small team with a baseline-battery
session (a failed hold repeated at once in it, its wobble holds with the deck's tilt
measures), weekly single-leg holds, hops and a push, scored by the station's own scoring
(station.analysis.scoring), and an admin account.

The numbers are made here, not measured (no raw frames): what the pages must show about them
(per-day trends, baselines and their rule, MDC-neutral changes, hop and push measures, one
condition on the team cards) does not depend on where they came from.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from scipy.ndimage import uniform_filter1d
from scipy.signal import lfilter

from station import access
from station.analysis.metrics.wobble import wobble_measures
from station.analysis.scoring import score_trial
from station.protocols import get_protocol
from station.store import open_store
from station.store.records import Athlete, SessionRecord, Target, TrialRecord
from station.wire import json_safe
from station.wobble import DEFAULT_BOARD, preset

WEEKS = 6
RATE_HZ = 80.0
TEAM = (
    # name, dominant leg, velocity left/right at baseline (mm/s), weekly change (mm/s)
    ("Mia Jensen", "right", 34.0, 33.0, -1.6),
    ("Leo Brandt", "left", 30.0, 38.0, -0.4),
    ("Sara Okafor", "right", 28.0, 29.0, 0.0),
)


def _score(metrics: dict[str, Any], stance: str, eyes: str, surface: str, task: str,
           outcome: str, held_s: float | None, planned: float) -> float:
    return score_trial(metrics, {"stance": stance, "eyes": eyes, "surface": surface},
                       outcome == "complete", held_s, planned, task=task).total


def _wobble_measures(rng: np.random.Generator, velocity: float, planned: float
                     ) -> dict[str, Any]:
    """A wobble trial's measures (station.analysis.metrics.wobble) of a tilt that wanders as
    much as the athlete sways: a random walk pulled back to level and smoothed over half a
    second, ~4-6 degrees RMS at ~8 degrees/s."""
    n = int(planned * RATE_HZ)
    steps = rng.normal(0, 0.55 * velocity / 34.0, (n, 2))
    walk = lfilter([1.0], [1.0, -0.99], steps, axis=0)  # x[i] = 0.99 x[i-1] + step
    tilt = uniform_filter1d(walk, size=int(RATE_HZ / 2), axis=0)
    board = preset(DEFAULT_BOARD)
    measures = wobble_measures(tilt[:, 0], tilt[:, 1], RATE_HZ, board.max_tilt_deg)
    measures["board"] = board.to_json()
    return json_safe(measures)


def _trial(session: str, seq: int, when: datetime, *, protocol: str, stance: str,
           eyes: str = "open", surface: str = "firm", task: str = "hold",
           velocity: float, rng: np.random.Generator, outcome: str = "complete",
           held_s: float | None = None, planned: float = 20.0) -> TrialRecord:
    metrics: dict[str, Any] = {"mean_velocity_mm_s": {"total": round(velocity, 2)},
                               "ellipse95_area_mm2": round(velocity * 24 + rng.normal(0, 30), 1)}
    if task == "hop":
        metrics["landing"] = {"tts_cop_s": round(velocity / 18 + rng.normal(0, 0.1), 2),
                              "tts_vertical_s": round(0.55 + rng.normal(0, 0.05), 2),
                              "peak_force_bw": round(2.7 + rng.normal(0, 0.15), 2)}
    if task == "push":
        metrics["perturbation"] = {"peak_excursion_mm": round(44 + rng.normal(0, 3), 1),
                                   "recovery_time_s": round(3.5 + rng.normal(0, 0.4), 2)}
    if surface == "wobble":  # the deck's tilt, measured as the station measures it
        metrics["wobble"] = _wobble_measures(rng, velocity, planned)
    return TrialRecord(
        session_uid=session, seq=seq, stance=stance, eyes=eyes, surface=surface, task=task,
        planned_duration_s=planned, outcome=outcome, duration_s=held_s or planned,
        started_at=when, protocol=protocol, metrics=metrics,
        time_to_failure_s=held_s if outcome == "failed" else None,
        failure_reason="touch_down_floor" if outcome == "failed" else None,
        score=_score(metrics, stance, eyes, surface, task, outcome, held_s, planned),
        board_id="sim", rate_hz=RATE_HZ, analysis_version="browser-seed",
    )


class _Day:
    """One session's trials, numbered in order."""

    def __init__(self, store: Any, session: str, when: datetime,
                 rng: np.random.Generator) -> None:
        self.store, self.session, self.when, self.rng, self.seq = store, session, when, rng, 0

    def add(self, minutes: float, **fields: Any) -> None:
        self.seq += 1
        self.store.save_trial(_trial(self.session, self.seq,
                                     self.when + timedelta(minutes=minutes), rng=self.rng,
                                     **fields))


def seed_team(data_dir: Path, admin: tuple[str, str], now: datetime | None = None) -> None:
    """The team's history in a new store at `data_dir`, and the admin account."""
    rng = np.random.default_rng(12)
    now = now or datetime.now(UTC)
    start = (now - timedelta(weeks=WEEKS)).replace(hour=9, minute=0, second=0, microsecond=0)
    store = open_store(data_dir)
    try:
        access.create_user(store, admin[0], "admin", admin[1])
        battery = get_protocol("baseline")
        for a, (name, leg, v_left, v_right, weekly) in enumerate(TEAM):
            athlete = store.add_athlete(Athlete(name=name, team="U18 girls" if a != 1 else
                                                "U18 boys", dominant_leg=leg, birth_year=2008))
            for week in range(WEEKS):
                when = start + timedelta(weeks=week, hours=a)
                session = store.create_session(SessionRecord(
                    athlete_uid=athlete, started_at=when, protocol="baseline" if week == 0
                    else "single-leg-left", stiffness=int(rng.integers(1, 5)),
                    soreness=int(rng.integers(0, 4)), sleep_hours=7.5))
                drift = weekly * week
                day = _Day(store, session, when, rng)
                if week == 0:  # the baseline battery, a slip on the first hold repeated at once
                    if a == 0:
                        day.add(0, protocol="baseline", stance="single-left", velocity=60.0,
                                outcome="failed", held_s=1.8)
                    for i, spec in enumerate(battery.trials):
                        base = v_left if spec.stance == "single-left" else v_right
                        day.add(1 + i, protocol="baseline", stance=spec.stance, eyes=spec.eyes,
                                surface=spec.surface, task=spec.task,
                                velocity=base * (1.5 if spec.eyes == "closed" else 1.0)
                                * (1.3 if spec.surface == "foam" else 1.0)
                                * (0.5 if spec.stance == "double" else 1.0))
                    continue
                for rep in range(2):  # two holds a leg, the same day
                    for stance, v in (("single-left", v_left), ("single-right", v_right)):
                        day.add(rep * 2 + (stance == "single-right"),
                                protocol=stance.replace("single", "single-leg"), stance=stance,
                                velocity=v + drift + rng.normal(0, 1.5), planned=30.0)
                if week % 2 == 0:
                    for i, stance in enumerate(("single-left", "single-right")):
                        day.add(10 + i, protocol="baseline", stance=stance, task="hop",
                                velocity=(v_left if i == 0 else v_right) + drift)
            store.add_target(Target(athlete_uid=athlete, measure="mean_velocity_mm_s.total",
                                    value=round(v_left - 6), condition="single-left · eyes "
                                    "open · firm", due_date=(now + timedelta(weeks=2)).date(),
                                    created_at=start, notes="before the season"))
    finally:
        store.close()
