"""Weeks of double-leg quiet stance (Romberg, 30 s) for the norms browser test: one adult
with a birth year and sex, so the station has norms to show (a made-up history: the
numbers are made here, not measured, as in history_seed.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from station import access
from station.analysis.scoring import score_trial
from station.store import open_store
from station.store.records import Athlete, SessionRecord, TrialRecord

NAME = "Nora Lind"
WEEKS = 6


def seed_norms(data_dir: Path, admin: tuple[str, str], now: datetime | None = None) -> None:
    rng = np.random.default_rng(7)
    now = now or datetime.now(UTC)
    start = (now - timedelta(weeks=WEEKS)).replace(hour=9, minute=0, second=0, microsecond=0)
    store = open_store(data_dir)
    try:
        access.create_user(store, admin[0], "admin", admin[1])
        athlete = store.add_athlete(Athlete(name=NAME, team="Masters", dominant_leg="right",
                                            birth_year=now.year - 41, sex="F",
                                            height_cm=168.0, body_mass_kg=61.0,
                                            sport="orienteering", level="club"))
        for week in range(WEEKS):
            when = start + timedelta(weeks=week)
            session = store.create_session(SessionRecord(athlete_uid=athlete, started_at=when,
                                                         protocol="romberg"))
            for seq, eyes in enumerate(("open", "closed"), start=1):
                velocity = (11.5 - 0.35 * week) * (1.15 if eyes == "closed" else 1.0) \
                    + rng.normal(0, 0.4)
                metrics = {"duration_s": 29.9875, "filter": "butter10",
                           "mean_velocity_mm_s": {"total": round(velocity, 2)},
                           "ellipse95_area_mm2": round(velocity * 22 + rng.normal(0, 15), 1)}
                cond = {"stance": "double", "eyes": eyes, "surface": "firm"}
                store.save_trial(TrialRecord(
                    session_uid=session, seq=seq, stance="double", eyes=eyes, surface="firm",
                    planned_duration_s=30.0, outcome="complete", duration_s=30.0,
                    started_at=when + timedelta(minutes=seq), protocol="romberg",
                    metrics=metrics, score=score_trial(metrics, cond, True, None, 30.0).total,
                    board_id="sim", rate_hz=80.0, analysis_version="browser-seed"))
    finally:
        store.close()
